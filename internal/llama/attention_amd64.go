package llama

// scoresAVX2 is scores' loop for t < n, n a multiple of 8: eight
// positions per vector, the sum over i in order in each lane. mx is the
// largest score, of either sign if it is zero, or NaN if any score is.
//
//go:noescape
func scoresAVX2(q, k *float32, stride, hs, n int, scale float32, att *float32) (mx float32)

// valuesAVX2 is values for n >= 1 positions and hs outputs, lanes (span
// per output, 16 or 64) zero on entry: the fma32 chains, lane t%span, then
// with span 16 each output's reduce16 into out (with span 64 out is not
// read or written).
//
//go:noescape
func valuesAVX2(v *float32, stride int, att *float32, n, hs, span int, lanes, out *float32)

// expSumAVX2 is softmaxGGML's exponentials over nb (at least one) blocks
// of 16: x[i] = simdExpf(x[i]-mx) for an mx that is finite and no less
// than any x[i], and the float64 sum of the blocks' reduce16, in order.
//
//go:noescape
func expSumAVX2(x *float32, nb int, mx float32) (sum float64)

// expSumAVX512 is expSumAVX2 in eight-lane float64 registers.
//
//go:noescape
func expSumAVX512(x *float32, nb int, mx float32) (sum float64)

// hasAVX512 reports whether the processor and the OS support AVX-512F
// (with its opmask and upper-register state), for expSumAVX512.
func hasAVX512() bool {
	if !hasSIMD() {
		return false
	}
	_, b, _, _ := cpuid(7, 0)
	return b&(1<<16) != 0 && xgetbv0()&0xe6 == 0xe6
}

// swigluAVX2 sets gate[i] = silu(gate[i]) * up[i] eight at a time while
// eight remain and their gates are in [-80, 700], and returns how many it
// set.
//
//go:noescape
func swigluAVX2(gate, up *float32, n int) (done int)

// scaleAVX2 multiplies x[i] by s for i < n, a multiple of 8.
//
//go:noescape
func scaleAVX2(x *float32, n int, s float32)
