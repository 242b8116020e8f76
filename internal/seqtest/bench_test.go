package seqtest

import (
	"fmt"
	"math"
	"sort"
	"testing"
)

func benchAdd(b *testing.B, mk func() Test, d dist) {
	r := &rng{s: 1}
	xs := make([]float64, 4096)
	for i := range xs {
		xs[i] = d.draw(r)
	}
	t := mk()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%100000 == 0 && i > 0 {
			t = mk()
		}
		_ = t.Add(xs[i%len(xs)])
	}
}

// BenchmarkAdd measures the hot loop of potcmp. The boundary case (mean
// equal to the tolerance) keeps the widest active grid the longest.
func BenchmarkAdd(b *testing.B) {
	for _, c := range []struct {
		name string
		d    dist
	}{{"boundary", betaMean(0.05, 10)}, {"zeros", constant(0)}} {
		b.Run("betting/"+c.name, func(b *testing.B) {
			benchAdd(b, func() Test { t, _ := NewBetting(0.01, 0.05); return t }, c.d)
		})
		b.Run("eb/"+c.name, func(b *testing.B) {
			benchAdd(b, func() Test { t, _ := NewEB(0.01, 0.05); return t }, c.d)
		})
	}
}

// The rest of this file is the experiment behind defaultBets: other ways to
// choose the bets, run on the decision at eps only (which is all the
// decision needs), side by side with the empirical Kelly bets of Betting.
// go test ./internal/seqtest -run XXX -bench BetChoice -benchtime 1x -v

// bettor is a rule for the fractions of the largest bets.
type bettor interface {
	bets() (up, lo float64)
	observe(x float64)
}

// fixedBets always bets the same fractions.
type fixedBets struct{ up, lo float64 }

func (f *fixedBets) bets() (float64, float64) { return f.up, f.lo }
func (f *fixedBets) observe(float64)          {}

// agrapa is the plug-in bet of Waudby-Smith and Ramdas (their aGRAPA): the
// second-order approximation (mean - m) / (variance + (mean - m)^2) of the
// Kelly bet, with their prior of 1/2 and 1/4, truncated at the caps.
type agrapa struct {
	eps, capUp, capLo float64
	n, sum, ss        float64
}

func (g *agrapa) bets() (float64, float64) {
	mu := (0.5 + g.sum) / (g.n + 1)
	v := (0.25 + g.ss) / (g.n + 1)
	d := g.eps - mu
	l := d / (v + d*d)
	return min(max(l*(1-g.eps), 0), g.capUp), min(max(-l*g.eps, 0), g.capLo)
}

func (g *agrapa) observe(x float64) {
	g.n++
	g.sum += x
	mu := (0.5 + g.sum) / (g.n + 1)
	g.ss += (x - mu) * (x - mu)
}

// mixture is the capital at eps of a weighted average of bettors: an
// average of test supermartingales is one, so the mixture is valid and
// pays at most ln(1/weight) for following its best component.
type mixture struct {
	eps, logThr float64
	comps       []bettor
	weights     []float64
	lu, ll      []float64
	n           int
	v           Verdict
}

func newMixture(alpha, eps float64, comps []bettor, weights []float64) *mixture {
	return &mixture{eps: eps, logThr: math.Log(1 / alpha), comps: comps, weights: weights,
		lu: make([]float64, len(comps)), ll: make([]float64, len(comps))}
}

func (m *mixture) Add(x float64) error {
	var su, sl float64
	for j, c := range m.comps {
		a, b := c.bets()
		c.observe(x)
		m.lu[j] += math.Log1p(a * (m.eps - x) / (1 - m.eps))
		m.ll[j] += math.Log1p(b * (x - m.eps) / m.eps)
		su += m.weights[j] * math.Exp(m.lu[j])
		sl += m.weights[j] * math.Exp(m.ll[j])
	}
	m.n++
	if m.v == Undecided {
		switch {
		case math.Log(su) >= m.logThr:
			m.v = Same
		case math.Log(sl) >= m.logThr:
			m.v = Different
		}
	}
	return nil
}

func (m *mixture) N() int            { return m.n }
func (m *mixture) Decision() Verdict { return m.v }

// sequential is what the experiments need of a test.
type sequential interface {
	Add(x float64) error
	N() int
	Decision() Verdict
}

// runOnce feeds draws of d to t until a decision or maxN observations.
func runOnce(t sequential, d dist, r *rng, maxN int) (int, Verdict) {
	for t.N() < maxN {
		if err := t.Add(d.draw(r)); err != nil {
			panic(err)
		}
		if v := t.Decision(); v != Undecided {
			return t.N(), v
		}
	}
	return t.N(), Undecided
}

// medianN is the median number of observations to a decision over runs
// seeded 0 .. runs-1 (maxN when undecided).
func medianN(mk func() sequential, d dist, runs, maxN int) int {
	ns := make([]int, runs)
	for s := range ns {
		ns[s], _ = runOnce(mk(), d, &rng{s: uint64(s)}, maxN)
	}
	sort.Ints(ns)
	return ns[runs/2]
}

// speedCases are the score distributions of the speed table.
func speedCases() []dist {
	return []dist{
		constant(0),
		betaMean(0.02, 50),
		atomMix(0.9, 2, 18), // mean 0.01: mostly identical, sometimes a little off
		bernoulli(0.02),     // mean 0.02: rare total disagreement
		bernoulli(0.1),      // mean 0.1: rare disagreement, different model
		betaMean(0.5, 20),
		uniform(0.3, 0.9),
		constant(1),
	}
}

func BenchmarkBetChoice(b *testing.B) {
	const alpha, runs, maxN = 0.01, 200, 5000
	type strategy struct {
		name string
		mk   func(eps float64) sequential
	}
	kellyCfg := func(cfg betConfig) func(float64) sequential {
		return func(eps float64) sequential { t, _ := newBetting(alpha, eps, cfg); return t }
	}
	strategies := []strategy{
		{"kelly (default)", kellyCfg(defaultBets())},
		{"kelly no prior, capLo .8", kellyCfg(betConfig{capUp: 0.95, capLo: 0.8, first: 1, scale: 1})},
		{"kelly prior .5", kellyCfg(betConfig{capUp: 0.95, capLo: 0.5, first: 1, prior: 0.5, scale: 1})},
		{"kelly cap .9", kellyCfg(betConfig{capUp: 0.9, capLo: 0.5, first: 1, prior: 0.05, scale: 1})},
		{"half kelly", kellyCfg(betConfig{capUp: 0.95, capLo: 0.5, first: 1, prior: 0.05, scale: 0.5})},
		{"agrapa", func(eps float64) sequential {
			return newMixture(alpha, eps, []bettor{&agrapa{eps: eps, capUp: 0.95, capLo: 0.5}}, []float64{1})
		}},
		{"fixed .95/.5", func(eps float64) sequential {
			return newMixture(alpha, eps, []bettor{&fixedBets{0.95, 0.5}}, []float64{1})
		}},
		{"mix 4 fixed", func(eps float64) sequential {
			return newMixture(alpha, eps, []bettor{&fixedBets{0.95, 0.5}, &fixedBets{0.6, 0.2}, &fixedBets{0.3, 0.05}, &fixedBets{0.1, 0.01}},
				[]float64{0.25, 0.25, 0.25, 0.25})
		}},
		{"mix .5 fixed+.5 agrapa", func(eps float64) sequential {
			return newMixture(alpha, eps, []bettor{&fixedBets{0.95, 0.5}, &agrapa{eps: eps, capUp: 0.95, capLo: 0.5}}, []float64{0.5, 0.5})
		}},
		{"eb", func(eps float64) sequential { t, _ := NewEB(alpha, eps); return t }},
	}
	for range b.N {
		for _, eps := range []float64{0.05, 0.1} {
			b.Logf("alpha %v eps %v: median n to decision over %d runs (max %d); n* = %.1f", alpha, eps, runs, maxN, InformationLimit(alpha, eps))
			head := fmt.Sprintf("%-26s", "")
			for _, d := range speedCases() {
				head += fmt.Sprintf(" %11s", fmt.Sprintf("%s%.2f", d.name[:min(len(d.name), 6)], d.mean))
			}
			b.Log(head)
			for _, s := range strategies {
				line := fmt.Sprintf("%-26s", s.name)
				for _, d := range speedCases() {
					line += fmt.Sprintf(" %11d", medianN(func() sequential { return s.mk(eps) }, d, runs, maxN))
				}
				b.Log(line)
			}
		}
	}
}
