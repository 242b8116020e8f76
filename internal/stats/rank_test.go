package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestRandomRankExact computes the distribution of the randomised rank
// exactly, by enumerating every outcome of a small discrete model whose
// likelihoods tie (two outputs of equal probability), and finds it uniform
// to rounding: the guarantee the rank test rests on, with no sampling.
func TestRandomRankExact(t *testing.T) {
	p := []float64{0.5, 0.2, 0.2, 0.1} // outputs 1 and 2 tie in likelihood
	ll := make([]float64, len(p))
	for i := range p {
		ll[i] = math.Log(p[i])
	}
	for _, m := range []int{1, 3, 4} {
		for _, b := range []float64{0.05, 0.1, 0.25, 1.0 / 3, 0.5, 0.6, 0.77, 0.9, 0.99} {
			// P(u <= b) = sum over outcomes of P(outcome) * P(u <= b | outcome),
			// where u is uniform on [L, L+T+1) / (m+1) given the outcome.
			var prob float64
			idx := make([]int, m+1)
			ref := make([]float64, m)
			for {
				w := 1.0
				for _, o := range idx {
					w *= p[o]
				}
				for i := range m {
					ref[i] = ll[idx[i+1]]
				}
				lo, err := RandomRank(ll[idx[0]], ref, 0)
				if err != nil {
					t.Fatal(err)
				}
				hi, _ := RandomRank(ll[idx[0]], ref, 1)
				// hi is the cell's top, just below it (v < 1).
				prob += w * min(max((b-lo)/(hi-lo), 0), 1)
				k := 0
				for k <= m && idx[k] == len(p)-1 {
					idx[k] = 0
					k++
				}
				if k > m {
					break
				}
				idx[k]++
			}
			if math.Abs(prob-b) > 1e-9 {
				t.Errorf("m=%d: P(u <= %.3f) = %.12f", m, b, prob)
			}
		}
	}
}

// TestRandomRankSimulated draws outputs of a synthetic sequence model
// (independent positions, a few tokens each, so that whole outputs often
// tie) and checks the ranks' histogram against uniform; the same check
// on a colder candidate (lower temperature) fails, as it must.
func TestRandomRankSimulated(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	const length, v, m, n = 3, 3, 9, 20000
	model := make([][]float64, length)
	for l := range model {
		model[l] = []float64{0.6, 0.3, 0.1}
	}
	cold := make([][]float64, length)
	for l := range cold {
		cold[l] = []float64{0.8, 0.15, 0.05}
	}
	draw := func(pm [][]float64) float64 { // log-likelihood under model
		var s float64
		for l := range pm {
			u, c := r.Float64(), 0.0
			for tok := range v {
				c += pm[l][tok]
				if u < c || tok == v-1 {
					s += math.Log(model[l][tok])
					break
				}
			}
		}
		return s
	}
	for _, tc := range []struct {
		name    string
		cand    [][]float64
		uniform bool
	}{{"same model", model, true}, {"colder candidate", cold, false}} {
		t.Run(tc.name, func(t *testing.T) {
			var cells [10]float64
			ref := make([]float64, m)
			for range n {
				for i := range ref {
					ref[i] = draw(model)
				}
				u, err := RandomRank(draw(tc.cand), ref, r.Float64())
				if err != nil {
					t.Fatal(err)
				}
				cells[min(int(u*10), 9)]++
			}
			var chi2 float64
			for _, c := range cells {
				chi2 += (c - n/10) * (c - n/10) / (n / 10)
			}
			// 9 degrees of freedom: P(chi2 > 27.9) = 0.001.
			if tc.uniform && chi2 > 27.9 {
				t.Errorf("chi-square %.1f over 10 cells: not uniform (%v)", chi2, cells)
			}
			if !tc.uniform && chi2 < 100 {
				t.Errorf("chi-square %.1f: a colder candidate's ranks look uniform", chi2)
			}
		})
	}
}

func TestRandomRankErrors(t *testing.T) {
	if _, err := RandomRank(math.NaN(), []float64{1}, 0.5); !errors.Is(err, ErrNaN) {
		t.Errorf("NaN candidate: %v", err)
	}
	if _, err := RandomRank(1, []float64{0, math.NaN()}, 0.5); !errors.Is(err, ErrNaN) {
		t.Errorf("NaN reference: %v", err)
	}
	// -Inf is a value: below everything finite.
	if u, _ := RandomRank(math.Inf(-1), []float64{-3, -1}, 0.5); u != 0.5/3 {
		t.Errorf("-Inf candidate: %v", u)
	}
	if u, _ := RandomRank(0, nil, 0.25); u != 0.25 {
		t.Errorf("no reference: %v", u)
	}
	if u, _ := RandomRank(0, []float64{-3, -1}, 7); !(u <= 1 && u > 0.99) {
		t.Errorf("v beyond 1 not clamped: %v", u)
	}
}

func TestCvM(t *testing.T) {
	for _, tc := range []struct {
		u    []float64
		want float64
	}{
		{nil, 0},
		{[]float64{0.5}, 1.0 / 12},
		{[]float64{0.9, 0.1}, 1.0/24 + 0.0225 + 0.0225},
	} {
		if got := CvM(tc.u); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("CvM(%v) = %v, want %v", tc.u, got, tc.want)
		}
	}
	// Valid at a fixed n: uniform samples get p <= 0.1 at most 10% of the
	// time (plus noise); a tilted sample is rejected.
	r := rand.New(rand.NewPCG(2, 2))
	const runs, n = 400, 40
	rejected := 0
	u := make([]float64, n)
	for s := range runs {
		for i := range u {
			u[i] = r.Float64()
		}
		if _, p := CvMTest(u, 199, uint64(s)); p <= 0.1 {
			rejected++
		}
	}
	if lim := 0.1*runs + 3*math.Sqrt(0.1*runs); float64(rejected) > lim {
		t.Errorf("uniform: p <= 0.1 in %d of %d runs, limit %.0f", rejected, runs, lim)
	}
	for i := range u {
		u[i] = math.Sqrt(r.Float64()) // density 2u
	}
	if _, p := CvMTest(u, 199, 1); p > 0.01 {
		t.Errorf("density 2u, n=%d: p = %v", n, p)
	}
	if _, p := CvMTest(u, 0, 1); p != 1 {
		t.Errorf("no simulations: p = %v", p)
	}
}
