package llama

// The VNNI kernel sets: none, VEX-encoded (AVX-VNNI) or EVEX-encoded
// (AVX512-VNNI with AVX512VL, and AVX512BW's opmasks).
const (
	vnniNone = iota
	vnniAVX
	vnni512
)

// vnniLevel is the VNNI kernel set to use on this machine: the AVX512-VNNI
// one where there is a choice, as its opmask for the fifth bits makes
// Q5_0 and Q5_1 faster (BenchmarkVNNIMatmul; the other types the same
// within the noise).
func vnniLevel() int8 {
	switch avx, avx512 := vnniLevels(); {
	case avx512:
		return vnni512
	case avx:
		return vnniAVX
	}
	return vnniNone
}

// vnniKernel is a VNNI kernel, with the lane kernels' arguments.
type vnniKernel func(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)

// vnniKernels returns typ's VNNI kernels of the two sets, nil for a type
// that has none.
func vnniKernels(typ uint32) (avx, avx512 vnniKernel) {
	switch typ {
	case ggmlQ8_0:
		return matQ8_0VNNI, matQ8_0VNNI512
	case ggmlQ4_1:
		return matQ4_1VNNI, matQ4_1VNNI512
	case ggmlQ5_0:
		return matQ5_0VNNI, matQ5_0VNNI512
	case ggmlQ5_1:
		return matQ5_1VNNI, matQ5_1VNNI512
	case ggmlQ4_0:
		return matQ4_0VNNI, matQ4_0VNNI512
	}
	return nil, nil
}

// dotRowsVNNI is dotRowsAVX2 through a.vnni's VNNI kernels, for the types
// that have one; it reports whether it did the work.
func (m *matrix) dotRowsVNNI(out []float32, a *act, lo, hi int) bool {
	if m.typ == ggmlQ6_K {
		k := matQ6_KVNNI
		if a.vnni == vnni512 {
			k = matQ6_KVNNI512
		}
		k(&m.q[lo*m.stride], m.stride, &a.qs[0], &a.d[0], &a.bsums[0], len(a.d), &out[lo], hi-lo)
		return true
	}
	k, k512 := vnniKernels(m.typ)
	if a.vnni == vnni512 {
		k = k512
	}
	if k == nil {
		return false
	}
	var ys *float32
	if len(a.s) > 0 {
		ys = &a.s[0]
	}
	k(&m.q[lo*m.stride], m.stride, &a.qs[0], &a.d[0], ys, len(a.d), &out[lo], hi-lo)
	return true
}
