package llama

// Whole-matrix kernels of quant_amd64.s; each gives its portable kernel's
// bits. w points at the first row's first block, rows lie stride bytes
// apart, each of nb blocks; y, yd and ys are the activations, their
// blocks' scales and (Q8_1) their scaled sums.

//go:noescape
func matQ4_0AVX2(w *byte, stride int, table *[16]int8, y *int8, yd *float32, nb int, out *float32, rows int)

//go:noescape
func matIQ4NLAVX2(w *byte, stride int, table *[16]int8, y *int8, yd *float32, nb int, out *float32, rows int, pairs bool)

//go:noescape
func quantQ8AVX2(x *float32, nb int, qs *int8, d, s *float32) bool

//go:noescape
func matQ6_KAVX2(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int)

//go:noescape
func matQ4_KAVX2(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int)

// The lane kernels (Q8_0, Q4_1, Q5_0, Q5_1) take 8 rows at a time and
// need nb >= 1.

//go:noescape
func matQ8_0AVX2(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)

//go:noescape
func matQ4_1AVX2(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)

//go:noescape
func matQ5_0AVX2(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)

//go:noescape
func matQ5_1AVX2(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
