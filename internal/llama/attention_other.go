//go:build !amd64

package llama

func scoresAVX2(q, k *float32, stride, hs, n int, scale float32, att *float32) (mx float32) {
	panic("llama: no vectorised kernels on this architecture")
}

func valuesAVX2(v *float32, stride int, att *float32, n, hs, span int, lanes, out *float32) {
	panic("llama: no vectorised kernels on this architecture")
}

func expSumAVX2(x *float32, nb int, mx float32) (sum float64) {
	panic("llama: no vectorised kernels on this architecture")
}

func expSumAVX512(x *float32, nb int, mx float32) (sum float64) {
	panic("llama: no vectorised kernels on this architecture")
}

// hasAVX512 is false off amd64.
func hasAVX512() bool { return false }

func swigluAVX2(gate, up *float32, n int) (done int) {
	panic("llama: no vectorised kernels on this architecture")
}

func scaleAVX2(x *float32, n int, s float32) {
	panic("llama: no vectorised kernels on this architecture")
}
