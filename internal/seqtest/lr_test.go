package seqtest

import (
	"errors"
	"math"
	"testing"
)

// catModel is a categorical law over a few outputs, by log-probability:
// the likelihood-ratio test sees a model only through these.
type catModel []float64

// newCat is softmax(base + sigma*noise) with noise from seed: a
// perturbation of the model base, as weight noise perturbs a network.
func newCat(base []float64, sigma float64, seed uint64) catModel {
	r := &rng{s: seed}
	m := make(catModel, len(base))
	lse := math.Inf(-1)
	for i, b := range base {
		m[i] = b + sigma*r.normal()
		lse = logAddExp(lse, m[i])
	}
	for i := range m {
		m[i] -= lse
	}
	return m
}

func (m catModel) draw(r *rng) int {
	u := r.float()
	for i, lp := range m {
		if u -= math.Exp(lp); u < 0 {
			return i
		}
	}
	return len(m) - 1
}

func (m catModel) kl(q catModel) float64 {
	var s float64
	for i, lp := range m {
		s += math.Exp(lp) * (lp - q[i])
	}
	return s
}

// lrWorld is a trusted model and two named substitutes.
type lrWorld struct{ p, q1, q2 catModel }

func newLRWorld() lrWorld {
	base := newCat(make([]float64, 64), 2, 1)
	return lrWorld{p: base, q1: newCat(base, 0.3, 2), q2: newCat(base, 0.5, 3)}
}

// lrRun draws from cand until a verdict or maxN outputs; fails says, for
// an output y, whether the candidate fails instead of answering.
func (w lrWorld) lrRun(t *testing.T, cand catModel, seed uint64, maxN int, fails func(y int, r *rng) bool) (Verdict, int) {
	lr, err := NewLR(0.05, 2)
	if err != nil {
		t.Fatal(err)
	}
	r := &rng{s: (&rng{s: seed}).next()}
	for n := 0; n < maxN && lr.Decision() == Undecided; n++ {
		y := cand.draw(r)
		if fails != nil && fails(y, r) {
			lr.AddFailure()
			continue
		}
		if err := lr.Add(w.p[y], []float64{w.q1[y], w.q2[y]}); err != nil {
			t.Fatal(err)
		}
	}
	return lr.Decision(), lr.N()
}

// lrTally runs runs seeded runs and counts the verdicts.
func (w lrWorld) lrTally(t *testing.T, cand catModel, runs, maxN int, fails func(int, *rng) bool) (tl tally, meanN float64) {
	for s := range runs {
		v, n := w.lrRun(t, cand, uint64(s), maxN, fails)
		meanN += float64(n) / float64(runs)
		switch v {
		case Same:
			tl.same++
		case Different:
			tl.different++
		default:
			tl.undecided++
		}
	}
	return tl, meanN
}

// The errors, by simulation: DIFFERENT for the trusted model and SAME for
// a named substitute each at most alpha of the time (up to binomial
// noise), and the power to tell them apart.
func TestLRValidity(t *testing.T) {
	w := newLRWorld()
	t.Logf("KL(p||q1) %.4f KL(q1||p) %.4f KL(p||q2) %.4f", w.p.kl(w.q1), w.q1.kl(w.p), w.p.kl(w.q2))
	const runs, maxN = 1000, 1000
	limit := errorLimit(0.05, runs)
	trusted, n := w.lrTally(t, w.p, runs, maxN, nil)
	t.Logf("trusted: %+v, mean n %.1f", trusted, n)
	if float64(trusted.different) > limit {
		t.Errorf("trusted model: DIFFERENT in %d of %d runs, over the limit %.1f", trusted.different, runs, limit)
	}
	if trusted.same < runs*95/100 {
		t.Errorf("trusted model: SAME in only %d of %d runs", trusted.same, runs)
	}
	for _, c := range []struct {
		name string
		q    catModel
	}{{"q1", w.q1}, {"q2", w.q2}} {
		sub, n := w.lrTally(t, c.q, runs, maxN, nil)
		t.Logf("%s: %+v, mean n %.1f", c.name, sub, n)
		if float64(sub.same) > limit {
			t.Errorf("substitute %s: SAME in %d of %d runs, over the limit %.1f", c.name, sub.same, runs, limit)
		}
		if sub.different < runs*95/100 {
			t.Errorf("substitute %s: DIFFERENT in only %d of %d runs", c.name, sub.different, runs)
		}
	}
}

// A substitute that fails exactly where its output would favour the
// trusted model never reaches SAME (every factor it lets through is at
// most 1), and one that fails at random reaches it no more than alpha of
// the time; the first is told DIFFERENT by what it does answer.
func TestLRFailingSubstitute(t *testing.T) {
	w := newLRWorld()
	const runs, maxN = 300, 1000
	hides := func(y int, _ *rng) bool { return w.p[y] > w.q1[y] }
	adv, _ := w.lrTally(t, w.q1, runs, maxN, hides)
	t.Logf("hiding substitute: %+v", adv)
	if adv.same != 0 {
		t.Errorf("a substitute failing where it would show: SAME in %d of %d runs", adv.same, runs)
	}
	if adv.different < runs*95/100 {
		t.Errorf("a substitute failing where it would show: DIFFERENT in only %d of %d runs", adv.different, runs)
	}
	random := func(_ int, r *rng) bool { return r.float() < 0.2 }
	rnd, _ := w.lrTally(t, w.q1, runs, maxN, random)
	if limit := errorLimit(0.05, runs); float64(rnd.same) > limit {
		t.Errorf("a substitute failing at random: SAME in %d of %d runs, over %.1f", rnd.same, runs, limit)
	}
	// The trusted model failing at random pays log 2 a failure, against
	// about 3/4 KL(p||q1) = 0.0085 an answer: at 0.5% of failures SAME
	// comes later, at 5% never (the drift is below 0).
	honest, n0 := w.lrTally(t, w.p, runs, 3000, nil)
	flaky, n1 := w.lrTally(t, w.p, runs, 3000, func(_ int, r *rng) bool { return r.float() < 0.005 })
	flakier, _ := w.lrTally(t, w.p, runs, 3000, func(_ int, r *rng) bool { return r.float() < 0.05 })
	t.Logf("trusted: SAME %d at mean n %.1f; failing 0.5%%: SAME %d at %.1f; failing 5%%: %+v", honest.same, n0, flaky.same, n1, flakier)
	if flaky.same < runs*9/10 || n1 <= n0 {
		t.Errorf("trusted model failing 0.5%% of the time: %+v at mean n %.1f (%.1f without failures)", flaky, n1, n0)
	}
	if flakier.same > runs/100 {
		t.Errorf("trusted model failing 5%% of the time: SAME in %d of %d runs: a failure should cost more", flakier.same, runs)
	}
}

// Probability 0 decides at once the way it must, and bad values are
// refused without changing the test.
func TestLREdges(t *testing.T) {
	inf := math.Inf(-1)
	for _, c := range []struct {
		name string
		logp float64
		logq []float64
		want Verdict
	}{
		{"impossible under p", inf, []float64{-3}, Different},
		{"impossible under both", inf, []float64{inf}, Different},
		{"impossible under q", -3, []float64{inf}, Same},
		{"one of two impossible", -3, []float64{inf, -3}, Undecided},
	} {
		lr, err := NewLR(0.01, len(c.logq))
		if err != nil {
			t.Fatal(err)
		}
		if err := lr.Add(c.logp, c.logq); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if lr.Decision() != c.want {
			t.Errorf("%s: %v, want %v", c.name, lr.Decision(), c.want)
		}
	}
	lr, _ := NewLR(0.01, 2)
	for _, bad := range [][]float64{{math.NaN(), -1, -1}, {-1, math.Inf(1), -1}, {-1, -1}, {-1, -1, -1, -1}} {
		if err := lr.Add(bad[0], bad[1:]); !errors.Is(err, ErrValue) {
			t.Errorf("Add(%v): %v, want ErrValue", bad, err)
		}
	}
	if lr.N() != 0 {
		t.Errorf("refused values were counted: n %d", lr.N())
	}
	for _, c := range []struct {
		alpha float64
		alts  int
	}{{0, 1}, {1, 1}, {0.01, 0}} {
		if _, err := NewLR(c.alpha, c.alts); !errors.Is(err, ErrParam) {
			t.Errorf("NewLR(%v, %d): %v, want ErrParam", c.alpha, c.alts, err)
		}
	}
}

// Ten failures against one substitute cost 10 log 2 of SAME's evidence and
// none of DIFFERENT's.
func TestLRFailureCost(t *testing.T) {
	lr, _ := NewLR(0.01, 1)
	for range 10 {
		lr.AddFailure()
	}
	if got, want := lr.same[0], 10*math.Log(0.5); math.Abs(got-want) > 1e-12 {
		t.Errorf("SAME evidence after 10 failures: %v, want %v", got, want)
	}
	if lr.Evidence() != 1 || lr.Decision() != Undecided || lr.Failures() != 10 {
		t.Errorf("after failures: evidence %v, %v, %d failures", lr.Evidence(), lr.Decision(), lr.Failures())
	}
}
