package llama

// detExpAVX2 sets dst[i] = detExp(float64(x[i]) - mx) four at a time for
// as long as four remain and none of the four needs detExp's special
// cases, and returns how many it set.
//
//go:noescape
func detExpAVX2(dst *float64, x *float32, n int, mx float64) (done int)
