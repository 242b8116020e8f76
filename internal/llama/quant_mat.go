package llama

// dotRowsAVX2 is dotRows for rows [lo, hi) through a whole-matrix AVX2
// kernel, when the matrix's type has one; it reports whether it did the
// work. a.simd is set, so the kernels exist on this machine.
func (m *matrix) dotRowsAVX2(out []float32, a *act, lo, hi int) bool {
	if m.cols == 0 {
		return false
	}
	if a.vnni != vnniNone && m.dotRowsVNNI(out, a, lo, hi) {
		return true
	}
	var ys *float32
	if len(a.s) > 0 {
		ys = &a.s[0]
	}
	switch m.typ {
	case ggmlF16:
		matF16AVX2(&m.q[lo*m.stride], m.stride, &a.f[0], len(a.f), &out[lo], hi-lo)
	case ggmlBF16:
		matBF16AVX2(&m.q[lo*m.stride], m.stride, &a.f[0], len(a.f), &out[lo], hi-lo)
	case ggmlQ8_0:
		matQ8_0AVX2(&m.q[lo*m.stride], m.stride, &a.qs[0], &a.d[0], ys, len(a.d), &out[lo], hi-lo)
	case ggmlQ4_1:
		matQ4_1AVX2(&m.q[lo*m.stride], m.stride, &a.qs[0], &a.d[0], ys, len(a.d), &out[lo], hi-lo)
	case ggmlQ5_0:
		matQ5_0AVX2(&m.q[lo*m.stride], m.stride, &a.qs[0], &a.d[0], ys, len(a.d), &out[lo], hi-lo)
	case ggmlQ5_1:
		matQ5_1AVX2(&m.q[lo*m.stride], m.stride, &a.qs[0], &a.d[0], ys, len(a.d), &out[lo], hi-lo)
	case ggmlQ4_0:
		table := [16]int8{-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7}
		matQ4_0AVX2(&m.q[lo*m.stride], m.stride, &table, &a.qs[0], &a.d[0], len(a.d), &out[lo], hi-lo)
	case ggmlIQ4NL:
		table := kvaluesIQ4NL()
		matIQ4NLAVX2(&m.q[lo*m.stride], m.stride, &table, &a.qs[0], &a.d[0], len(a.d), &out[lo], hi-lo, !a.batch)
	case ggmlQ6_K:
		matQ6_KAVX2(&m.q[lo*m.stride], m.stride, &a.qs[0], &a.d[0], &a.bsums[0], len(a.d), &out[lo], hi-lo)
	case ggmlQ4_K:
		matQ4_KAVX2(&m.q[lo*m.stride], m.stride, &a.qs[0], &a.d[0], &a.bsums[0], len(a.d), &out[lo], hi-lo)
	case ggmlQ2_K:
		matQ2_KAVX2(&m.q[lo*m.stride], m.stride, &a.qs[0], &a.d[0], &a.bsums[0], len(a.d), &out[lo], hi-lo)
	case ggmlQ3_K:
		matQ3_KAVX2(&m.q[lo*m.stride], m.stride, &a.qs[0], &a.d[0], &a.bsums[0], len(a.d), &out[lo], hi-lo)
	case ggmlQ5_K:
		matQ5_KAVX2(&m.q[lo*m.stride], m.stride, &a.qs[0], &a.d[0], &a.bsums[0], len(a.d), &out[lo], hi-lo)
	case ggmlIQ4XS:
		table := kvaluesIQ4NL()
		matIQ4XSAVX2(&m.q[lo*m.stride], m.stride, &table, &a.qs[0], &a.d[0], len(a.d), &out[lo], hi-lo)
	default:
		return false
	}
	return true
}
