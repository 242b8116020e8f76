package seqtest_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/pot-audit/pot/internal/seqtest"
	"github.com/pot-audit/pot/internal/stats"
)

// A candidate that always answers with one of the likeliest outputs:
// its log-likelihood under the trusted model tops the trusted model's own
// ten samples almost every time, and the rank test says DIFFERENT after a
// handful of challenges, one candidate query each.
func ExampleRank() {
	rng := rand.New(rand.NewPCG(1, 2))
	t, err := seqtest.NewRank(0.01, 0.1)
	if err != nil {
		panic(err)
	}
	for t.Decision() == seqtest.Undecided {
		ref := make([]float64, 10) // the trusted model's samples' log-likelihoods
		for i := range ref {
			ref[i] = -20 - 10*rng.Float64()
		}
		cand := -19.5 // the candidate's output, scored by the trusted model
		u, err := stats.RandomRank(cand, ref, rng.Float64())
		if err != nil {
			panic(err)
		}
		if err := t.Add(u); err != nil {
			panic(err)
		}
	}
	fmt.Printf("%v after %d challenges, evidence %.0f >= 1/alpha\n", t.Decision(), t.N(), t.Evidence())
	// Output:
	// DIFFERENT after 7 challenges, evidence 163 >= 1/alpha
}

// The unbiased MMD is 0 in mean for one model and can be negative: its
// scores are tested over their range, here the one of 10 samples a side.
func ExampleNewRange() {
	t, err := seqtest.NewRange("betting", 0.01, 0.05, -1.0/9, 1)
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for t.Decision() == seqtest.Undecided {
		t.Add(0.02 * (rng.Float64() - 0.5)) // noise around 0
	}
	lo, hi := t.Bounds()
	fmt.Printf("%v after %d challenges, mean in (%.3f, %.3f)\n", t.Decision(), t.N(), lo, hi)
	// Output:
	// SAME after 98 challenges, mean in (-0.111, 0.050)
}
