//go:build !amd64

package llama

func matQ2_KAVX2(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ3_KAVX2(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ5_KAVX2(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matIQ4XSAVX2(w *byte, stride int, table *[16]int8, y *int8, yd *float32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func quantQ8KAVX2(x *float32, nb int, qs *int8, d *float32, bsums *int32) bool {
	panic("llama: no vectorised kernels on this architecture")
}
