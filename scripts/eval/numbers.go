package main

import (
	"math"
	"sort"
)

// nstar is the information limit for SAME on identical outputs: the fewest
// scores of 0 after which any valid test at level alpha can say the mean is
// at most tol, ln(1/alpha) / -ln(1-tol).
func nstar(alpha, tol float64) float64 { return math.Log(1/alpha) / -math.Log1p(-tol) }

// quantile is the q-quantile of xs by the nearest-rank rule (q=0.5 is the
// lower median), so that it is always one of the values seen.
func quantile(xs []int, q float64) int {
	if len(xs) == 0 {
		return 0
	}
	s := append([]int(nil), xs...)
	sort.Ints(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func meanOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
