package seqtest

import (
	"errors"
	"math"
	"testing"

	"github.com/pot-audit/pot/internal/stats"
)

// rankDraw draws a randomised rank the way the caller computes it: the
// candidate's value among m reference values, all from the discrete
// distribution of k equally likely values (so ties are common), the
// candidate's value from cand (nil: the same distribution) or, with
// shared set, equal to the first reference value (a shared seed).
func rankDraw(r *rng, m, k int, shared bool) float64 {
	x := int(r.float() * float64(k))
	less, ties := 0, 0
	for i := range m {
		v := int(r.float() * float64(k))
		if shared && i == 0 {
			v = x
		}
		switch {
		case v < x:
			less++
		case v == x:
			ties++
		}
	}
	return (float64(less) + r.float()*float64(ties+1)) / float64(m+1)
}

// TestRankMartingaleValidity checks the DIFFERENT side alone over long
// runs: for ranks of the trusted model against itself, the test martingale
// reaches 1/alpha in at most alpha of the runs. Ranks among few values
// with many ties, and continuous ones, are both exactly uniform. A
// candidate sharing a seed with one reference sample is caught, which
// shows that the check can fail (and why seeds must differ).
func TestRankMartingaleValidity(t *testing.T) {
	const runs, maxN = 1000, 1000
	for _, tc := range []struct {
		name    string
		alpha   float64
		m, k    int
		shared  bool
		invalid bool
	}{
		{"ties, alpha 0.05", 0.05, 4, 3, false, false},
		{"ties, alpha 0.1", 0.1, 9, 5, false, false},
		{"continuous, alpha 0.05", 0.05, 19, 1 << 30, false, false},
		{"shared seed", 0.05, 2, 1 << 30, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rejected := 0
			r := rng{s: uint64(tc.m*1000 + tc.k)}
			for range runs {
				test, err := newRank(tc.alpha, 0.1, false)
				if err != nil {
					t.Fatal(err)
				}
				for test.N() < maxN && test.Decision() == Undecided {
					if err := test.Add(rankDraw(&r, tc.m, tc.k, tc.shared)); err != nil {
						t.Fatal(err)
					}
				}
				if test.Decision() == Different {
					rejected++
				}
			}
			limit := errorLimit(tc.alpha, runs)
			t.Logf("DIFFERENT in %d of %d runs (limit %.0f)", rejected, runs, limit)
			if tc.invalid {
				if float64(rejected) < 3*limit {
					t.Errorf("shared seeds: DIFFERENT in only %d of %d runs", rejected, runs)
				}
			} else if float64(rejected) > limit {
				t.Errorf("DIFFERENT in %d of %d runs, limit %.0f at alpha %v", rejected, runs, limit, tc.alpha)
			}
		})
	}
}

// split draws from the distribution with mass p below 1/2, uniform within
// each half: F(1/2) = p, and |F(b) - b| is largest at 1/2.
func split(r *rng, p float64) float64 {
	if r.float() < p {
		return r.float() / 2
	}
	return 0.5 + r.float()/2
}

// TestRankSameValidity checks the SAME side: a candidate whose rank
// distribution is just farther than the tolerance from uniform is declared
// SAME in at most alpha of the runs, whether its ranks are drawn from one
// distribution or chosen by an adversary that watches the ranks so far
// and changes the shape of its distribution (keeping F(1/2) beyond the
// tolerance, which is all the guarantee assumes). The trusted model
// against itself reaches SAME.
func TestRankSameValidity(t *testing.T) {
	const alpha, eps, runs, maxN = 0.1, 0.1, 300, 3000
	beyond := 0.5 + eps + 0.01
	for _, tc := range []struct {
		name string
		draw func(r *rng, seen []float64) float64
	}{
		{"fixed", func(r *rng, _ []float64) float64 { return split(r, beyond) }},
		{"adaptive", func(r *rng, seen []float64) float64 {
			// Below the middle as often as needed; where the empirical
			// F(1/2) so far runs high, hide it by putting the low ranks
			// just under 1/2 and the high ones just over, else spread.
			below := 0
			for _, u := range seen {
				if u < 0.5 {
					below++
				}
			}
			if len(seen) > 0 && float64(below)/float64(len(seen)) > beyond {
				if r.float() < beyond {
					return 0.5 - 0.1*r.float()
				}
				return 0.5 + 0.1*r.float()
			}
			return split(r, beyond)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rng{s: 42}
			same, n := 0, 0
			for range runs {
				test, err := NewRank(alpha, eps)
				if err != nil {
					t.Fatal(err)
				}
				var seen []float64
				for test.N() < maxN && test.Decision() == Undecided {
					u := tc.draw(&r, seen)
					seen = append(seen, u)
					if err := test.Add(u); err != nil {
						t.Fatal(err)
					}
				}
				if test.Decision() == Same {
					same++
				}
				n += test.N()
			}
			limit := errorLimit(alpha, runs)
			t.Logf("SAME in %d of %d runs (limit %.0f), mean n %.0f", same, runs, limit, float64(n)/runs)
			if float64(same) > limit {
				t.Errorf("SAME in %d of %d runs at distance %.2f > tolerance %.2f, limit %.0f", same, runs, beyond-0.5, eps, limit)
			}
		})
	}
	// The trusted model against itself: SAME, and the bound agrees.
	r := rng{s: 7}
	test, _ := NewRank(0.01, eps)
	for test.N() < 5000 && test.Decision() == Undecided {
		test.Add(rankDraw(&r, 9, 1<<30, false))
	}
	lo, up := test.Bounds()
	if test.Decision() != Same || up > eps || lo != 0 || test.Mean() > up {
		t.Errorf("uniform ranks: %v at n=%d, mean %.3f, bounds [%v, %v]", test.Decision(), test.N(), test.Mean(), lo, up)
	}
	t.Logf("uniform ranks, alpha 0.01, tolerance %.2f: %v at n=%d", eps, test.Decision(), test.N())
}

// TestRankPower measures challenges to DIFFERENT on shifted and reshaped
// rank distributions and requires a decision on all but a few runs.
func TestRankPower(t *testing.T) {
	const alpha, runs, maxN = 0.01, 100, 2000
	for _, tc := range []struct {
		name string
		draw func(r *rng) float64
	}{
		// Density 1 + a (2u - 1): the candidate's outputs are more likely
		// under the trusted model than its own (a colder candidate).
		{"tilt 0.5", func(r *rng) float64 { return tilt(r, 0.5) }},
		{"tilt -0.3", func(r *rng) float64 { return tilt(r, -0.3) }},
		// Ranks squeezed towards the middle (a candidate that avoids both
		// likely and unlikely outputs) have mean 1/2: only the histogram
		// bets see them.
		{"middle", func(r *rng) float64 {
			if r.float() < 0.3 {
				return 0.25 + r.float()/2
			}
			return r.float()
		}},
		// Greedy decoding: the candidate always gives the likeliest output.
		{"mode", func(r *rng) float64 { return 0.9 + 0.1*r.float() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rng{s: 3}
			decided, n := 0, 0
			for range runs {
				test, _ := NewRank(alpha, 0.05)
				for test.N() < maxN && test.Decision() == Undecided {
					test.Add(tc.draw(&r))
				}
				if test.Decision() == Different {
					decided++
					n += test.N()
				}
			}
			t.Logf("DIFFERENT in %d of %d runs, mean n %.1f", decided, runs, float64(n)/float64(max(decided, 1)))
			if decided < runs*95/100 {
				t.Errorf("DIFFERENT in only %d of %d runs", decided, runs)
			}
		})
	}
}

// tilt draws from the density 1 + a (2u - 1) on [0, 1], |a| <= 1, by
// inverting its distribution function u + a (u^2 - u).
func tilt(r *rng, a float64) float64 {
	y := r.float()
	if a == 0 {
		return y
	}
	// a u^2 + (1 - a) u - y = 0
	return (-(1 - a) + math.Sqrt((1-a)*(1-a)+4*a*y)) / (2 * a)
}

func TestRankErrors(t *testing.T) {
	if _, err := NewRank(0, 0.1); !errors.Is(err, ErrParam) {
		t.Errorf("alpha 0: %v", err)
	}
	if _, err := NewRank(0.05, 1); !errors.Is(err, ErrParam) {
		t.Errorf("eps 1: %v", err)
	}
	test, _ := NewRank(0.05, 0.1)
	for _, u := range []float64{-0.1, 1.5, math.NaN()} {
		if err := test.Add(u); !errors.Is(err, ErrValue) || test.N() != 0 {
			t.Errorf("Add(%v): %v", u, err)
		}
	}
	if lo, up := test.Bounds(); lo != 0 || up != 1-0.1 && up != 1 {
		t.Errorf("bounds before any rank: [%v, %v]", lo, up)
	}
	if test.Evidence() != 1 || test.Mean() != 0 {
		t.Errorf("evidence %v mean %v before any rank", test.Evidence(), test.Mean())
	}
}

// cvmCrit are the asymptotic upper quantiles of the Cramér-von Mises
// statistic under uniformity (Anderson and Darling, 1952): P(W^2 > c) = a.
var cvmCrit = map[float64]float64{0.05: 0.461, 0.01: 0.743}

// TestRankAgainstCvM compares the sequential rank test with the fixed-n
// Cramér-von Mises test of the rank-based uniformity test on the same
// alternatives, and shows why the latter cannot be used sequentially: on
// uniform ranks, looking at it every 10 challenges up to 500 and stopping
// at the first rejection rejects far more often than its level.
func TestRankAgainstCvM(t *testing.T) {
	const runs = 100
	r := rng{s: 11}
	peekRejected := 0
	u := make([]float64, 0, 500)
	for range runs {
		u = u[:0]
		for len(u) < 500 {
			u = append(u, r.float())
			if len(u)%10 == 0 && stats.CvM(u) > cvmCrit[0.05] {
				peekRejected++
				break
			}
		}
	}
	t.Logf("CvM at 0.05 looked at every 10 ranks to 500: rejects uniform ranks in %d of %d runs", peekRejected, runs)
	if float64(peekRejected) < 2*0.05*runs {
		t.Errorf("peeking at the fixed-n test rejected in only %d of %d runs", peekRejected, runs)
	}
	for _, tc := range []struct {
		name string
		draw func(r *rng) float64
	}{
		{"tilt 0.5", func(r *rng) float64 { return tilt(r, 0.5) }},
		{"tilt -0.3", func(r *rng) float64 { return tilt(r, -0.3) }},
		{"mode", func(r *rng) float64 { return 0.9 + 0.1*r.float() }},
	} {
		n := 0
		for range runs / 2 {
			test, _ := NewRank(0.01, 0.05)
			for test.N() < 5000 && test.Decision() == Undecided {
				test.Add(tc.draw(&r))
			}
			n += test.N()
		}
		mean := n / (runs / 2)
		power := 0
		for range runs {
			u = u[:0]
			for range mean {
				u = append(u, tc.draw(&r))
			}
			if stats.CvM(u) > cvmCrit[0.01] {
				power++
			}
		}
		t.Logf("%s, alpha 0.01: sequential rank test decides at n=%d on average; CvM at that fixed n rejects in %d of %d runs", tc.name, mean, power, runs)
	}
}
