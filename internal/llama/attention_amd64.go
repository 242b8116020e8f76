package llama

// scoresAVX2 is scores' loop for t < n, n a multiple of 8: eight
// positions per vector, the sum over i in order in each lane. mx is the
// largest score, of either sign if it is zero, or NaN if any score is.
//
//go:noescape
func scoresAVX2(q, k *float32, stride, hs, n int, scale float32, att *float32) (mx float32)

// valuesAVX2 is values for n >= 1 positions and hs outputs, lanes (16
// per output) zero on entry: the fma32 chains, then each output's
// reduce16.
//
//go:noescape
func valuesAVX2(v *float32, stride int, att *float32, n, hs int, lanes, out *float32)

// expSumAVX2 is softmaxGGML's exponentials over nb (at least one) blocks
// of 16: x[i] = simdExpf(x[i]-mx) for an mx that is finite and no less
// than any x[i], and the float64 sum of the blocks' reduce16, in order.
//
//go:noescape
func expSumAVX2(x *float32, nb int, mx float32) (sum float64)
