package stats

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestBetweenByHand(t *testing.T) {
	g := []Group[int32]{{
		A:     []int32{1, 1, 2, 2},
		B:     []int32{1, 2, 2, 2},
		Match: []bool{true, false, true, true},
	}}
	res, err := Between(g, BetweenOptions{Resamples: 50, PerChallenge: true})
	if err != nil {
		t.Fatal(err)
	}
	// p = (1/2, 1/2), q = (1/4, 3/4): TV 1/4; JS with m = (3/8, 5/8).
	js := (0.5*math.Log2(0.5/0.375) + 0.5*math.Log2(0.5/0.625) + 0.25*math.Log2(0.25/0.375) + 0.75*math.Log2(0.75/0.625)) / 2
	// Smoothed by 1/2 over the two tokens: (2.5, 2.5)/5 and (1.5, 3.5)/5.
	kab := 0.5*math.Log2(0.5/0.3) + 0.5*math.Log2(0.5/0.7)
	kba := 0.3*math.Log2(0.3/0.5) + 0.7*math.Log2(0.7/0.5)
	pc := res.PerChallenge[0]
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"tv", pc.TV.Est, 0.25}, {"js", pc.JS.Est, js}, {"kl(a||b)", pc.KLAB.Est, kab}, {"kl(b||a)", pc.KLBA.Est, kba},
		{"match", pc.Match.Est, 0.75}, {"overall tv", res.Overall.TV.Est, 0.25}, {"overall match", res.Overall.Match.Est, 0.75},
	} {
		if math.Abs(c.got-c.want) > 1e-12 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if lo, hi := ClopperPearson(3, 4, 0.95); pc.Match.Lo != lo || pc.Match.Hi != hi {
		t.Errorf("match interval [%v, %v], want Clopper-Pearson [%v, %v]", pc.Match.Lo, pc.Match.Hi, lo, hi)
	}
	for _, iv := range []Interval{pc.TV, pc.JS, pc.KLAB, pc.KLBA} {
		if !(iv.Lo <= iv.Hi) || iv.Lo < 0 {
			t.Errorf("interval %+v", iv)
		}
	}
	if res.Challenges != 1 || res.Skipped != 0 {
		t.Errorf("challenges %d skipped %d", res.Challenges, res.Skipped)
	}
}

// source draws challenges whose first-token distributions are random (a
// flat Dirichlet over v tokens); shift moves mass from token 0 to token 1
// on B's side.
func draws(r *rand.Rand, groups, k, v int, shift float64, coupled bool) []Group[int] {
	gs := make([]Group[int], groups)
	for gi := range gs {
		p := make([]float64, v)
		var s float64
		for i := range p {
			p[i] = -math.Log(1 - r.Float64())
			s += p[i]
		}
		for i := range p {
			p[i] /= s
		}
		q := append([]float64(nil), p...)
		d := min(shift, q[0])
		q[0] -= d
		q[1] += d
		pick := func(pm []float64, u float64) int {
			c := 0.0
			for i, x := range pm {
				c += x
				if u < c {
					return i
				}
			}
			return len(pm) - 1
		}
		g := Group[int]{Paired: true}
		for range k {
			u := r.Float64()
			a := pick(p, u)
			if !coupled {
				u = r.Float64()
			}
			b := pick(q, u)
			g.A, g.B, g.Match = append(g.A, a), append(g.B, b), append(g.Match, a == b)
		}
		gs[gi] = g
	}
	return gs
}

// TestBetweenCoverage checks the overall intervals by simulation: over many
// sets of challenges, the 90% bootstrap interval of the mean TV holds the
// expected value (found by a long simulation) about 90% of the time.
func TestBetweenCoverage(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	const k, v, groups, runs = 8, 4, 60, 150
	var truth, truthMatch float64
	big := draws(r, 10000, k, v, 0.2, false)
	var sc scratch
	for i := range big {
		c := code(&big[i])
		truth += sc.divergences(c.a, c.b, c.k, 0.5)[0] / float64(len(big))
		truthMatch += float64(c.matches) / float64(c.pairs) / float64(len(big))
	}
	covered, coveredMatch := 0, 0
	for s := range runs {
		res, err := Between(draws(r, groups, k, v, 0.2, false), BetweenOptions{Level: 0.9, Resamples: 300, Seed: uint64(s)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Overall.TV.Lo <= truth && truth <= res.Overall.TV.Hi {
			covered++
		}
		if res.Overall.Match.Lo <= truthMatch && truthMatch <= res.Overall.Match.Hi {
			coveredMatch++
		}
	}
	t.Logf("90%% intervals: tv covers %d of %d, match %d of %d", covered, runs, coveredMatch, runs)
	if covered < runs*82/100 || coveredMatch < runs*82/100 {
		t.Errorf("90%% intervals cover the mean tv %.4f in %d of %d runs and the match rate %.4f in %d", truth, covered, runs, truthMatch, coveredMatch)
	}
}

// TestBetweenNull checks the permutation p-value: one model on both sides
// gives p <= 0.1 at most about 10% of the time (independent samples, and
// samples sharing seeds), and a shifted model gives small p; and the null
// mean of the plug-in TV is well above 0, the bias it corrects for.
func TestBetweenNull(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	const k, v, groups, runs = 6, 4, 30, 200
	for _, coupled := range []bool{false, true} {
		low := 0
		for s := range runs {
			res, err := Between(draws(r, groups, k, v, 0, coupled), BetweenOptions{Resamples: 99, Seed: uint64(s)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Null.PTV <= 0.1 {
				low++
			}
			if !coupled && s == 0 && !(res.Null.TV > 0.1) {
				t.Errorf("null mean tv %v: the plug-in's bias should show", res.Null.TV)
			}
		}
		t.Logf("same model (shared seeds %v): p <= 0.1 in %d of %d runs", coupled, low, runs)
		if lim := 0.1*runs + 3*math.Sqrt(0.1*runs); float64(low) > lim {
			t.Errorf("same model (shared seeds %v): p <= 0.1 in %d of %d runs, limit %.0f", coupled, low, runs, lim)
		}
	}
	res, _ := Between(draws(r, groups, k, v, 0.3, false), BetweenOptions{Resamples: 199, Seed: 1})
	if res.Null.PTV > 0.01 || res.Null.PJS > 0.01 || res.Null.PKLAB > 0.01 || res.Null.PKLBA > 0.01 {
		t.Errorf("shifted model: p-values %+v", res.Null)
	}
}

func TestBetweenDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	gs := draws(r, 20, 5, 3, 0.1, false)
	gs = append(gs, Group[int]{A: []int{1}}) // nothing on B's side: skipped
	o := BetweenOptions{Resamples: 100, Seed: 3, PerChallenge: true}
	a, _ := Between(gs, o)
	b, _ := Between(gs, o)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("equal inputs and seeds gave different results")
	}
	o.Seed = 4
	c, _ := Between(gs, o)
	if c.Overall.TV.Lo == a.Overall.TV.Lo && c.Overall.TV.Hi == a.Overall.TV.Hi {
		t.Error("another seed gave the same bootstrap interval")
	}
	if c.Overall.TV.Est != a.Overall.TV.Est || a.Skipped != 1 || a.Challenges != 20 {
		t.Errorf("estimate changed with the seed, or skipped %d", a.Skipped)
	}
	if _, err := Between(gs, BetweenOptions{Level: 1.5}); !errors.Is(err, ErrOption) {
		t.Errorf("level 1.5: %v", err)
	}
	if _, err := Between(gs, BetweenOptions{Smoothing: -1}); !errors.Is(err, ErrOption) {
		t.Errorf("negative smoothing: %v", err)
	}
	if res, err := Between[int](nil, BetweenOptions{}); err != nil || res.Challenges != 0 {
		t.Errorf("no groups: %+v, %v", res, err)
	}
}

func TestClopperPearson(t *testing.T) {
	for _, c := range []struct {
		k, n   int
		lo, hi float64
	}{
		{0, 10, 0, 1 - math.Pow(0.025, 0.1)},
		{10, 10, math.Pow(0.025, 0.1), 1},
		{5, 10, 0.187086, 0.812914},
	} {
		lo, hi := ClopperPearson(c.k, c.n, 0.95)
		if math.Abs(lo-c.lo) > 1e-6 || math.Abs(hi-c.hi) > 1e-6 {
			t.Errorf("ClopperPearson(%d, %d) = [%v, %v], want [%v, %v]", c.k, c.n, lo, hi, c.lo, c.hi)
		}
	}
	// Exact coverage: at least the level for every p, summed over outcomes.
	for _, n := range []int{1, 7, 30} {
		for _, p := range []float64{0.01, 0.2, 0.5, 0.77, 0.99} {
			var cover float64
			for k := 0; k <= n; k++ {
				lo, hi := ClopperPearson(k, n, 0.9)
				if lo <= p && p <= hi {
					cover += binomCDF(k, n, p) - binomCDF(k-1, n, p)
				}
			}
			if cover < 0.9-1e-9 {
				t.Errorf("n=%d p=%v: coverage %v", n, p, cover)
			}
		}
	}
	if lo, hi := ClopperPearson(0, 0, 0.95); lo != 0 || hi != 1 {
		t.Errorf("no trials: [%v, %v]", lo, hi)
	}
}
