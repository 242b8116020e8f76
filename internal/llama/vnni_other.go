//go:build !amd64

package llama

// vnniLevels reports no VNNI off amd64.
func vnniLevels() (avx, avx512 bool) { return false, false }

func matQ8_0VNNI(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ4_1VNNI(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ5_0VNNI(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ5_1VNNI(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ4_0VNNI(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ8_0VNNI512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ4_1VNNI512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ5_0VNNI512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ5_1VNNI512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ4_0VNNI512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ6_KVNNI(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matQ6_KVNNI512(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}
