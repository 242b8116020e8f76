package seqtest

import (
	"math"
	"testing"
)

// rankAfter is a rank test at alpha 0.01 and tolerance 0.1 after the ranks
// us, a missing one (AddWorst) where us holds -1.
func rankAfter(t *testing.T, us []float64) *Rank {
	t.Helper()
	rt, err := NewRank(0.01, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u < 0 {
			_, err = rt.AddWorst()
		} else {
			err = rt.Add(u)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return rt
}

// A missing rank raises the evidence at least as much as any rank could
// have, whatever the ranks before it: in each of many states, against a
// fine grid of ranks.
func TestRankWorstEvidence(t *testing.T) {
	r := &rng{s: 17}
	for trial := range 24 {
		var us []float64
		for range trial % 20 {
			switch u := r.float(); {
			case trial%3 == 0:
				us = append(us, u*u) // a skewed past, so the bets lean
			case trial%3 == 1 && u < 0.2:
				us = append(us, -1)
			default:
				us = append(us, u)
			}
		}
		worst := rankAfter(t, us)
		u, err := worst.AddWorst()
		if err != nil || u < 0 || u > 1 {
			t.Fatalf("AddWorst: %v, %v", u, err)
		}
		for g := 0; g <= 64; g++ {
			alt := rankAfter(t, append(us[:len(us):len(us)], float64(g)/64))
			if alt.Evidence() > worst.Evidence()*(1+1e-12) {
				t.Fatalf("trial %d: rank %v gives evidence %v, more than the missing rank's %v (at %v)",
					trial, float64(g)/64, alt.Evidence(), worst.Evidence(), u)
			}
		}
	}
}

// A missing rank counts against uniformity on both sides of every
// threshold: in the plug-in distance, and in the bounds that decide SAME,
// so that a share of missing ranks above the tolerance never lets SAME
// come, however uniform the ranks that are there.
func TestRankWorstSame(t *testing.T) {
	// Flat ranks: each block of 100 holds one rank in each hundredth, in
	// a random order.
	r := &rng{s: 5}
	var flat []float64
	for range 20 {
		block := make([]float64, 100)
		for i := range block {
			block[i] = (float64(i) + 0.5) / 100
		}
		for i := len(block) - 1; i > 0; i-- {
			j := int(r.float() * float64(i+1))
			block[i], block[j] = block[j], block[i]
		}
		flat = append(flat, block...)
	}
	var us []float64
	for i, u := range flat {
		us = append(us, u)
		if i%8 == 0 {
			us = append(us, -1) // 1 in 9 missing: 11%, over the 0.1 tolerance
		}
	}
	rt := rankAfter(t, us)
	if rt.Decision() == Same {
		t.Errorf("SAME with %d of %d ranks missing", rt.worst, rt.N())
	}
	w := float64(rt.worst) / float64(rt.N())
	if d := rt.Mean(); math.Abs(d-w*0.9) > 0.01 {
		t.Errorf("plug-in distance %v with a share %v missing, want about %v", d, w, 0.9*w)
	}
	if _, upper := rt.Bounds(); upper < 0.1 {
		t.Errorf("upper bound %v under the tolerance", upper)
	}
	// Each sequence behind SAME took 1 for every missing rank, on both
	// sides of every threshold: no single rank could have done that.
	missing := rankAfter(t, []float64{-1, -1, -1})
	for j := range missing.cdf {
		for side, bt := range missing.cdf[j] {
			if bt != nil && bt.Mean() != 1 {
				t.Errorf("threshold %d side %d: mean %v after 3 missing ranks, want 1", j, side, bt.Mean())
			}
		}
	}
	if all := rankAfter(t, flat); all.Decision() != Same {
		t.Errorf("the same ranks with none missing: %v after %d, want SAME", all.Decision(), all.N())
	}
}

// The price of counting failures against the candidate: the trusted model
// itself, failing at random, no longer gives uniform ranks, and the test
// martingale, which tests exact uniformity, finds that in time. At a small
// failure rate SAME still comes first (20 of 20 runs at 2%); at 5% the
// verdicts are logged (SAME 15, DIFFERENT 5 of 20).
func TestRankWorstHonest(t *testing.T) {
	for _, f := range []float64{0.02, 0.05} {
		r := &rng{s: 9}
		same, diff := 0, 0
		const runs = 20
		for range runs {
			rt, err := NewRank(0.01, 0.1)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 2000 && rt.Decision() == Undecided; i++ {
				if r.float() < f {
					_, err = rt.AddWorst()
				} else {
					err = rt.Add(r.float())
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			switch rt.Decision() {
			case Same:
				same++
			case Different:
				diff++
			}
		}
		t.Logf("the trusted model failing %g of its queries at random: SAME %d, DIFFERENT %d of %d runs within 2000 (alpha 0.01, tolerance 0.1)", f, same, diff, runs)
		if f == 0.02 && same < runs*3/4 {
			t.Errorf("failing 2%% of its queries, the trusted model is SAME in only %d of %d runs", same, runs)
		}
	}
}
