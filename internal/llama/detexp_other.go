//go:build !amd64

package llama

func detExpAVX2(dst *float64, x *float32, n int, mx float64) (done int) {
	panic("llama: no vectorised kernels on this architecture")
}
