package llama

import (
	"math"
	"math/big"
	"testing"
)

// TestFmafRoundsOnce checks fmaf against a*b+c computed exactly and
// rounded once to nearest even, on random operands at every scale (the
// addend often far below the product, where fma32's double rounding can
// go wrong), signed zeros and subnormal results, and on a sum one hair
// above a float32 tie, where fma32 and fmaf must differ.
func TestFmafRoundsOnce(t *testing.T) {
	exact := func(a, b, c float32) float32 {
		x := new(big.Float).SetPrec(600).SetFloat64(float64(a))
		x.Mul(x, new(big.Float).SetFloat64(float64(b)))
		x.Add(x, new(big.Float).SetFloat64(float64(c)))
		f, _ := x.Float32()
		if f == 0 {
			// big.Float has no signed zero sum: IEEE's exact zero sum is
			// +0 unless both terms are -0.
			f = float32(float64(a)*float64(b) + float64(c))
		}
		return f
	}
	check := func(a, b, c float32) {
		t.Helper()
		if got, want := fmaf(a, b, c), exact(a, b, c); math.Float32bits(got) != math.Float32bits(want) {
			t.Errorf("fmaf(%g, %g, %g) = %g, want %g", a, b, c, got, want)
		}
	}
	// (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 lies exactly between two float32s;
	// 2^-60 more rounds up, which a float64 sum loses.
	a, tiny := float32(1+0x1p-12), float32(0x1p-60)
	check(a, a, tiny)
	check(a, a, -tiny)
	check(-a, a, -tiny)
	if fma32(a, a, tiny) == fmaf(a, a, tiny) {
		t.Error("fma32 and fmaf agree on a sum just above a tie: the test cannot tell them apart")
	}
	check(0, -1, 0)
	check(float32(math.Copysign(0, -1)), 1, float32(math.Copysign(0, -1)))
	check(0x1p-100, 0x1p-49, 0x1p-149)
	check(3, 0x1p-149, -0x1p-148)
	r := NewRand(41)
	for range 200000 {
		scale := func() float32 { return float32(math.Ldexp(r.Norm(), int(r.Uint64()%80)-40)) }
		a, b, c := scale(), scale(), scale()
		if r.Uint64()%4 == 0 {
			// An addend below the product's last float32 bit.
			c = float32(float64(a) * float64(b) * 0x1p-30 * r.Norm())
		}
		check(a, b, c)
	}
}
