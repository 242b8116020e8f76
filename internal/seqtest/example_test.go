package seqtest_test

import (
	"fmt"

	"github.com/pot-audit/pot/internal/seqtest"
)

// Identical outputs score 0; at alpha 0.01 and tolerance 0.05 no test can
// say Same before about 90 of them.
func ExampleNewBetting() {
	t, err := seqtest.NewBetting(0.01, 0.05)
	if err != nil {
		panic(err)
	}
	for t.Decision() == seqtest.Undecided {
		if err := t.Add(0); err != nil {
			panic(err)
		}
	}
	lo, hi := t.Bounds()
	fmt.Printf("%v after %d scores, mean in (%.3f, %.3f)\n", t.Decision(), t.N(), lo, hi)
	fmt.Printf("information limit %.1f\n", seqtest.InformationLimit(0.01, 0.05))
	// Output:
	// SAME after 98 scores, mean in (0.000, 0.050)
	// information limit 89.8
}

func ExampleCalibrate() {
	// Scores between two runs of one model on a nondeterministic server.
	noise := []float64{0, 0, 0.02, 0, 0.01, 0, 0, 0.03, 0, 0}
	for range 5 {
		noise = append(noise, noise...)
	}
	c, err := seqtest.Calibrate(noise, 0.01)
	if err != nil {
		panic(err)
	}
	fmt.Printf("n %d mean %.3f q95 %.3f upper %.3f tolerance %.3f\n", c.N, c.Mean, c.Quantile, c.Upper, c.Tolerance)
	// Output:
	// n 320 mean 0.006 q95 0.030 upper 0.022 tolerance 0.031
}
