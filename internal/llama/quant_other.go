//go:build !amd64

package llama

func matQ4_0AVX2(w *byte, stride int, table *[16]int8, y *int8, yd *float32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matIQ4NLAVX2(w *byte, stride int, table *[16]int8, y *int8, yd *float32, nb int, out *float32, rows int, pairs bool) {
	panic("llama: no vectorised kernels on this architecture")
}

func quantQ8AVX2(x *float32, nb int, qs *int8, d, s *float32) bool {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ6_KAVX2(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ4_KAVX2(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ8_0AVX2(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ4_1AVX2(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ5_0AVX2(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ5_1AVX2(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}
