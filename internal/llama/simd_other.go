//go:build !amd64

package llama

// hasSIMD is false off amd64: the portable kernels run.
func hasSIMD() bool { return false }

func dot16AVX2(w, x *float32, n int, lanes *[16]float32) {
	panic("llama: no vectorised kernels on this architecture")
}

func lanesQ8AVX2(w *byte, stride int, y *int8, dd *float32, nb int, acc *[8]float32) {
	panic("llama: no vectorised kernels on this architecture")
}

func matF32AVX2(w, x *float32, cols int, out *float32, rows int) {
	panic("llama: no vectorised kernels on this architecture")
}

func expAVX2(x *float32, n int) {
	panic("llama: no vectorised kernels on this architecture")
}
