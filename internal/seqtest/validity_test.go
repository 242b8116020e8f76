package seqtest

import (
	"fmt"
	"math"
	"testing"
)

// The simulations here prove the error guarantees: over thousands of
// seeded runs with a known mean, each kind of wrong verdict happens at most
// alpha of the time (up to binomial noise). Each run stops at a verdict or
// after validityMaxN scores.
const (
	validityRuns = 2000
	validityMaxN = 2000
)

// errorLimit is the largest count of wrong verdicts in runs that the check
// accepts at level alpha: the mean alpha*runs plus three binomial standard
// deviations (about 1 in 700 to fail by chance at the true rate alpha, and
// far less at the lower rates of valid tests).
func errorLimit(alpha float64, runs int) float64 {
	m := alpha * float64(runs)
	return m + 3*math.Sqrt(m)
}

// tally counts the verdicts of one test over runs.
type tally struct{ same, different, undecided int }

// simulate runs each test in mks on the same seeded draws of d and returns
// their tallies.
func simulate(d dist, runs, maxN int, mks ...func() sequential) []tally {
	out := make([]tally, len(mks))
	tests := make([]sequential, len(mks))
	for s := range runs {
		for i, mk := range mks {
			tests[i] = mk()
		}
		// A multiple of splitmix64's increment would make run s+1 run s
		// shifted by one draw; hashing the index keeps runs independent.
		r := &rng{s: (&rng{s: uint64(s)}).next()}
		open := len(tests)
		for n := 0; n < maxN && open > 0; n++ {
			x := d.draw(r)
			for _, t := range tests {
				if t.Decision() != Undecided {
					continue
				}
				if err := t.Add(x); err != nil {
					panic(err)
				}
				if t.Decision() != Undecided {
					open--
				}
			}
		}
		for i, t := range tests {
			switch t.Decision() {
			case Same:
				out[i].same++
			case Different:
				out[i].different++
			default:
				out[i].undecided++
			}
		}
	}
	return out
}

// wrong returns the counts of the two kinds of error of a tally for a
// distribution with mean mu: Same is wrong when mu >= eps, Different when
// mu <= eps, so at mu = eps both are (each bounded by alpha on its own).
func wrong(c tally, mu, eps float64) (same, different int) {
	if mu >= eps {
		same = c.same
	}
	if mu <= eps {
		different = c.different
	}
	return same, different
}

func validityCases(eps float64) []dist {
	return []dist{
		// On the boundary, where errors are likeliest.
		bernoulli(eps),
		betaMean(eps, 10),
		twoPoint(eps/5, 0.6, eps),
		atomMix(0.8, 20*eps, 4-20*eps), // mean 0.2 * 5 eps
		// Inside Same: only Different is an error.
		constant(0),
		betaMean(eps/2, 10),
		bernoulli(eps / 2),
		atomMix(0.9, 10*eps, 2-10*eps), // mean 0.1 * 5 eps
		// Inside Different: only Same is an error.
		betaMean(2*eps, 10),
		bernoulli(2 * eps),
		twoPoint(0, 3*eps, 2*eps),
	}
}

func TestErrorRates(t *testing.T) {
	for _, p := range []struct{ alpha, eps float64 }{{0.01, 0.05}, {0.05, 0.1}, {0.1, 0.02}} {
		for _, d := range validityCases(p.eps) {
			name := fmt.Sprintf("alpha=%v/eps=%v/%s/mean=%.4g", p.alpha, p.eps, d.name, d.mean)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				tallies := simulate(d, validityRuns, validityMaxN,
					func() sequential { b, _ := NewBetting(p.alpha, p.eps); return b },
					func() sequential { e, _ := NewEB(p.alpha, p.eps); return e })
				limit := errorLimit(p.alpha, validityRuns)
				for i, name := range []string{"betting", "eb"} {
					c := tallies[i]
					ws, wd := wrong(c, d.mean, p.eps)
					t.Logf("%-7s same %4d different %4d undecided %4d: wrong same %.4f, wrong different %.4f (limit %.0f)",
						name, c.same, c.different, c.undecided, float64(ws)/validityRuns, float64(wd)/validityRuns, limit)
					if float64(ws) > limit || float64(wd) > limit {
						t.Errorf("%s: %d wrong Same and %d wrong Different in %d runs, limit %.1f at alpha %v",
							name, ws, wd, validityRuns, limit, p.alpha)
					}
				}
			})
		}
	}
}

// clt is a deliberately invalid rule: the fixed-n normal interval
// xbar +/- z_(1-alpha) s / sqrt(n), looked at after every score. Optional
// stopping makes it cross far more often than alpha.
type clt struct {
	z, eps   float64
	n        int
	mean, m2 float64
	v        Verdict
}

func newCLT(alpha, eps float64) *clt {
	return &clt{z: math.Sqrt2 * math.Erfinv(1-2*alpha), eps: eps}
}

func (c *clt) Add(x float64) error {
	c.n++
	d := x - c.mean
	c.mean += d / float64(c.n)
	c.m2 += d * (x - c.mean)
	if c.n < 10 || c.v != Undecided {
		return nil
	}
	w := c.z * math.Sqrt(c.m2/float64(c.n-1)/float64(c.n))
	switch {
	case c.mean+w <= c.eps:
		c.v = Same
	case c.mean-w > c.eps:
		c.v = Different
	}
	return nil
}

func (c *clt) N() int            { return c.n }
func (c *clt) Decision() Verdict { return c.v }

// TestCheckHasPower shows that the check of TestErrorRates catches a rule
// that is not valid under optional stopping: if it did not, passing it
// would prove nothing.
func TestCheckHasPower(t *testing.T) {
	for _, p := range []struct{ alpha, eps float64 }{{0.01, 0.05}, {0.05, 0.1}, {0.1, 0.02}} {
		d := betaMean(p.eps, 10)
		c := simulate(d, validityRuns, validityMaxN, func() sequential { return newCLT(p.alpha, p.eps) })[0]
		ws, wd := wrong(c, d.mean, p.eps)
		limit := errorLimit(p.alpha, validityRuns)
		t.Logf("alpha %v eps %v: CLT rule wrong same %.3f, wrong different %.3f (limit %.0f of %d)",
			p.alpha, p.eps, float64(ws)/validityRuns, float64(wd)/validityRuns, limit, validityRuns)
		if float64(ws) <= limit && float64(wd) <= limit {
			t.Errorf("alpha %v: the invalid CLT rule passed the check (%d, %d wrong, limit %.1f)", p.alpha, ws, wd, limit)
		}
	}
}
