package llama

import (
	"math"
	"testing"
)

// TestDetExpMatchesPortable checks the AVX2 detExp against the portable
// one on random arguments and on those where detExp changes method (k at
// -1021 and 1023, the overflow and underflow ends, NaN, Inf), and that
// logSoftmax gives the same bits either way.
func TestDetExpMatchesPortable(t *testing.T) {
	if !hasSIMD() {
		t.Skip("no AVX2 here: only the portable kernels run")
	}
	r := NewRand(19)
	xs := []float32{0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 0.5, -0.5, 0.3465736, -0.3465736,
		-707.5, -708, -708.4, -708.5, -709, -744, -745.2, -800, 709, 709.7, 709.8, 710,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for range 1 << 16 {
		xs = append(xs, float32(r.Norm()*30), float32(-1500*r.Float64()+700))
	}
	for _, mx := range []float64{0, 12.5, -3} {
		got, done := make([]float64, len(xs)), 0
		for i := 0; i+4 <= len(xs); i += 4 {
			n := detExpAVX2(&got[i], &xs[i], 4, mx)
			for j := i; j < i+n; j++ {
				if want := detExp(float64(xs[j]) - mx); math.Float64bits(got[j]) != math.Float64bits(want) {
					t.Fatalf("detExp(%g - %g): AVX2 %v, portable %v", xs[j], mx, got[j], want)
				}
			}
			done += n
		}
		// Arguments below about -708 or above 709 are refused and
		// computed one at a time: a quarter of the random ones here.
		if done < len(xs)/2 {
			t.Errorf("mx %g: the kernel computed %d of %d", mx, done, len(xs))
		}
	}
	// A group with a NaN or an overflow is refused.
	for _, bad := range []float32{float32(math.NaN()), 710, -746, float32(math.Inf(-1))} {
		g := [4]float32{0, 1, bad, 2}
		var d [4]float64
		if n := detExpAVX2(&d[0], &g[0], 4, 0); n != 0 {
			t.Errorf("a group holding %v: the kernel set %d", bad, n)
		}
	}
	for _, n := range []int{1, 3, 4, 5, 512, 1001} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.Norm() * 8)
		}
		if n > 4 {
			x[n/2] = -2000 // one group that takes the scalar path
		}
		a, b := make([]float64, n), make([]float64, n)
		ea, eb := make([]float64, n), make([]float64, n)
		ia, ib := logSoftmax(a, x, ea, true), logSoftmax(b, x, eb, false)
		if ia != ib {
			t.Fatalf("%d logits: argmax %d with AVX2, %d without", n, ia, ib)
		}
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) || math.Float64bits(ea[i]) != math.Float64bits(eb[i]) {
				t.Fatalf("%d logits, %d: AVX2 %v %v, portable %v %v", n, i, a[i], ea[i], b[i], eb[i])
			}
		}
	}
}
