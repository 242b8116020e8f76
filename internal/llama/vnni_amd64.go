package llama

// The VNNI kernels of vnni_amd64.s: the AVX2 lane kernels (Q8_0, Q4_1,
// Q5_0, Q5_1), matQ4_0AVX2 and matQ6_KAVX2 with VPDPBUSD for the integer
// sums, each giving its portable kernel's bits. The VNNI ones need
// AVX-VNNI, the VNNI512 ones AVX512-VNNI, AVX512VL and AVX512BW (and
// AVX-512F). All but Q6_K's take the lane kernels' arguments and
// need nb >= 1; Q4_0's ignore ys.

//go:noescape
func matQ8_0VNNI(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)

//go:noescape
func matQ4_1VNNI(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)

//go:noescape
func matQ5_0VNNI(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)

//go:noescape
func matQ5_1VNNI(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)

//go:noescape
func matQ4_0VNNI(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)

//go:noescape
func matQ8_0VNNI512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)

//go:noescape
func matQ4_1VNNI512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)

//go:noescape
func matQ5_0VNNI512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)

//go:noescape
func matQ5_1VNNI512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)

//go:noescape
func matQ4_0VNNI512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)

//go:noescape
func matQ6_KVNNI(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int)

//go:noescape
func matQ6_KVNNI512(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int)

// vnniLevels reports which VNNI kernel sets the processor and the OS
// support, beyond hasSIMD's AVX2.
func vnniLevels() (avx, avx512 bool) {
	if !hasSIMD() {
		return false, false
	}
	max7, b, c, _ := cpuid(7, 0)
	if max7 >= 1 {
		a, _, _, _ := cpuid(7, 1)
		avx = a&(1<<4) != 0
	}
	const avx512f, avx512bw, avx512vl, avx512vnni = 1 << 16, 1 << 30, 1 << 31, 1 << 11
	const all = avx512f | avx512bw | avx512vl
	avx512 = b&all == all && c&avx512vnni != 0 && xgetbv0()&0xe6 == 0xe6
	return avx, avx512
}
