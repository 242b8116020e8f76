//go:build !amd64

package llama

func matF16AVX2(w *byte, stride int, x *float32, n int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func matBF16AVX2(w *byte, stride int, x *float32, n int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}
