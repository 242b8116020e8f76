package main

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pot-audit/pot/internal/llama"
)

// TestPITUniform checks that the randomised PIT of a draw is uniform on a
// distribution with ties and a large atom, where the plain PIT (v = 1) is
// far from it: a chi-square over 20 cells of 40,000 draws, against a bound
// that uniform draws exceed with probability about 1e-6.
func TestPITUniform(t *testing.T) {
	probs := []float64{0.55, 0.15, 0.15, 0.1, 0.05} // tokens 1 and 2 tie
	lp := make([]float64, len(probs))
	for i, p := range probs {
		lp[i] = math.Log(p)
	}
	const n, cells = 40000, 20
	for _, tc := range []struct {
		name    string
		random  bool
		uniform bool
	}{{"randomised", true, true}, {"plain", false, false}} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			count := make([]float64, cells)
			for range n {
				u, c := rng.Float64(), 0.0
				x := int32(len(probs) - 1)
				for i, p := range probs {
					if c += p; u < c {
						x = int32(i)
						break
					}
				}
				v := 1.0
				if tc.random {
					v = rng.Float64()
				}
				count[min(int(pit(lp, x, v)*cells), cells-1)]++
			}
			var chi2 float64
			for _, k := range count {
				chi2 += (k - n/cells) * (k - n/cells) / (n / cells)
			}
			// chi-square with 19 degrees of freedom: P(> 60) is about 3e-6.
			if got := chi2 < 60; got != tc.uniform {
				t.Errorf("chi-square %.1f over %d cells: uniform %v, want %v", chi2, cells, got, tc.uniform)
			}
		})
	}
}

// TestKLEstimates checks the two estimates of the per-query KL on
// synthetic models: exactly 0 for a model against itself, and for a
// perturbed model the exact-sum estimate and the plain log-ratio agree
// within their intervals, the first with the narrower interval (the reason
// it is the one reported).
func TestKLEstimates(t *testing.T) {
	p := llama.Synth(1)
	noisy, err := llama.ParsePerturbation("noise:0.05")
	if err != nil {
		t.Fatal(err)
	}
	q, err := p.Perturb(noisy)
	if err != nil {
		t.Fatal(err)
	}
	const n, L = 300, 16
	for _, tc := range []struct {
		name string
		a    *llama.Model
	}{{"itself", llama.Synth(1)}, {"noise:0.05", q}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(tc.a, p, 1, 64)
			rb, mc := make([]float64, n), make([]float64, n)
			for i := range n {
				rng := rand.New(rand.NewPCG(9, uint64(i)))
				prompt := []int32{p.Vocab().BOS(), int32(3 + i%200), int32(3 + (i*7)%250)}
				w := e.run(prompt, L, rng)
				rb[i], mc[i] = upTo(w.kl, L), upTo(w.ratio, L)
				for j, l := range w.rawB {
					if d := l + w.ratio[j]; math.Abs(w.rawA[j]-d) > 1e-9 {
						t.Fatalf("challenge %d position %d: raw log a %v, log b + ratio %v (temperature 1)", i, j, w.rawA[j], d)
					}
				}
			}
			m, lo, hi := meanCI(rb)
			mm, mlo, mhi := meanCI(mc)
			if tc.name == "itself" {
				if m != 0 || mm != 0 {
					t.Fatalf("itself: KL %v, Monte Carlo %v, want 0 and 0", m, mm)
				}
				return
			}
			if !(m > 0) || hi < mlo || mhi < lo {
				t.Fatalf("KL %v [%v, %v] and Monte Carlo %v [%v, %v] do not agree", m, lo, hi, mm, mlo, mhi)
			}
			if hi-lo >= mhi-mlo {
				t.Errorf("the exact-sum interval [%v, %v] is not narrower than the Monte Carlo one [%v, %v]", lo, hi, mlo, mhi)
			}
			t.Logf("KL %.4f [%.4f, %.4f], Monte Carlo %.4f [%.4f, %.4f]", m, lo, hi, mm, mlo, mhi)
		})
	}
}

// TestWald checks the bound's arithmetic and its edge cases.
func TestWald(t *testing.T) {
	for _, tc := range []struct {
		alpha, kl float64
		want      string
	}{
		{0.01, math.Log(100) / 500, "500"},
		{0.01, math.Log(100) / 71.2, "71.2"},
		{0.01, 0, "inf"},
		{0.01, -0.001, "inf"},
		{0.01, 100, "<1"},
	} {
		if got := wald(tc.alpha, tc.kl); got != tc.want {
			t.Errorf("wald(%v, %v) = %s, want %s", tc.alpha, tc.kl, got, tc.want)
		}
	}
}
