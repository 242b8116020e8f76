package llama

import (
	"math"
	"testing"
)

func TestRandGolden(t *testing.T) {
	// SplitMix64's published first outputs for seed 0.
	r := NewRand(0)
	for i, want := range []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f} {
		if got := r.Uint64(); got != want {
			t.Errorf("output %d: %#x, want %#x", i, got, want)
		}
	}
	r = NewRand(1)
	var sum, sq float64
	const n = 100000
	for range n {
		x := r.Norm()
		sum += x
		sq += x * x
	}
	if mean, v := sum/n, sq/n-(sum/n)*(sum/n); math.Abs(mean) > 0.02 || math.Abs(v-1) > 0.02 {
		t.Errorf("Norm: mean %g variance %g, want 0 and 1", mean, v)
	}
}

// TestDetMath checks the engine's exp and log against the math package:
// both are within an ulp of the truth, so within two of each other.
func TestDetMath(t *testing.T) {
	r := NewRand(3)
	ulps := func(a, b float64) float64 {
		return math.Abs(a-b) / math.Max(math.Abs(b)*0x1p-52, math.SmallestNonzeroFloat64)
	}
	for i := range 200000 {
		x := (r.Float64() - 0.5) * 1400
		if i%2 == 0 {
			x = (r.Float64() - 0.5) * 40
		}
		if u := ulps(detExp(x), math.Exp(x)); u > 2 {
			t.Fatalf("detExp(%v) = %v, math.Exp %v: %g ulps", x, detExp(x), math.Exp(x), u)
		}
		y := math.Exp(x / 3)
		if u := ulps(detLog(y), math.Log(y)); u > 2 && math.Abs(detLog(y)-math.Log(y)) > 1e-300 {
			t.Fatalf("detLog(%v) = %v, math.Log %v: %g ulps", y, detLog(y), math.Log(y), u)
		}
	}
	for _, c := range []struct{ x, want float64 }{{0, 1}, {1, math.E}, {-800, 0}, {800, math.Inf(1)}} {
		if got := detExp(c.x); got != c.want && math.Abs(got-c.want) > 1e-15 {
			t.Errorf("detExp(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if detLog(1) != 0 || !math.IsInf(detLog(0), -1) || !math.IsNaN(detLog(-1)) {
		t.Error("detLog special values")
	}
}

func TestHalf(t *testing.T) {
	for h := range 1 << 16 {
		f := halfToFloat(uint16(h))
		if f != f {
			continue
		}
		if back := floatToHalf(f); back != uint16(h) {
			t.Fatalf("half %#04x -> %v -> %#04x", h, f, back)
		}
	}
	for _, c := range []struct {
		f    float32
		want uint16
	}{{1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65520, 0x7c00}, {1e-8, 0}, {0x1p-24, 1}, {1 + 0x1p-11, 0x3c00}, {1 + 3*0x1p-11, 0x3c02}} {
		if got := floatToHalf(c.f); got != c.want {
			t.Errorf("floatToHalf(%v) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
}

func TestExpf(t *testing.T) {
	r := NewRand(4)
	for range 200000 {
		x := float32((r.Float64() - 0.5) * 200)
		got, want := float64(expf(x)), math.Exp(float64(x))
		if want > math.MaxFloat32 {
			if !math.IsInf(got, 1) {
				t.Fatalf("expf(%v) = %v, want +Inf", x, got)
			}
			continue
		}
		// Within one float32 rounding of the true value (subnormals aside).
		if d := math.Abs(got - want); d > want*0x1p-23 && d > 0x1p-149 {
			t.Fatalf("expf(%v) = %v, want %v", x, got, want)
		}
	}
}
