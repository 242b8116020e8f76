package llama

// matF16AVX2 sets out[r] = dotF16 of row r for r < rows, with the same
// bits: w points at the first row's first weight, rows lie stride bytes
// apart, each of n binary16 weights, and x holds the n activations,
// already rounded to binary16. f16_amd64.s.
//
//go:noescape
func matF16AVX2(w *byte, stride int, x *float32, n int, out *float32, rows int)

// matBF16AVX2 is matF16AVX2 for bfloat16 weights and activations, giving
// dotBF16's bits.
//
//go:noescape
func matBF16AVX2(w *byte, stride int, x *float32, n int, out *float32, rows int)
