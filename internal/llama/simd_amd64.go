package llama

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv0() (eax uint32)

//go:noescape
func dot16AVX2(w, x *float32, n int, lanes *[16]float32)

//go:noescape
func lanesQ8AVX2(w *byte, stride int, y *int8, dd *float32, nb int, acc *[8]float32)

//go:noescape
func matF32AVX2(w, x *float32, cols int, out *float32, rows int)

//go:noescape
func expAVX2(x *float32, n int)

// hasSIMD reports whether the processor and the OS support AVX2, FMA and
// F16C, which the vectorised kernels use. They give the same bits as the portable ones.
func hasSIMD() bool {
	max, _, _, _ := cpuid(0, 0)
	if max < 7 {
		return false
	}
	_, _, c, _ := cpuid(1, 0)
	const fma, osxsave, avx, f16c = 1 << 12, 1 << 27, 1 << 28, 1 << 29
	if c&fma == 0 || c&osxsave == 0 || c&avx == 0 || c&f16c == 0 || xgetbv0()&6 != 6 {
		return false
	}
	_, b, _, _ := cpuid(7, 0)
	return b&(1<<5) != 0
}
