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

// clopperPearson is the exact two-sided 1-conf interval for a binomial
// proportion after k successes in n trials.
func clopperPearson(k, n int, conf float64) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	a := (1 - conf) / 2
	if k > 0 { // P(X >= k; p) = a
		lo = bisect(func(p float64) bool { return 1-binomCDF(k-1, n, p) < a })
	}
	hi = 1
	if k < n { // P(X <= k; p) = a
		hi = bisect(func(p float64) bool { return binomCDF(k, n, p) > a })
	}
	return lo, hi
}

// bisect finds the p in [0, 1] where below turns from true to false.
func bisect(below func(p float64) bool) float64 {
	lo, hi := 0.0, 1.0
	for range 60 {
		mid := (lo + hi) / 2
		if below(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// binomCDF is P(X <= k) for X ~ Binomial(n, p).
func binomCDF(k, n int, p float64) float64 {
	if k < 0 {
		return 0
	}
	if k >= n {
		return 1
	}
	if p <= 0 {
		return 1
	}
	if p >= 1 {
		return 0
	}
	s := 0.0
	lp, lq := math.Log(p), math.Log1p(-p)
	for i := 0; i <= k; i++ {
		lg1, _ := math.Lgamma(float64(n + 1))
		lg2, _ := math.Lgamma(float64(i + 1))
		lg3, _ := math.Lgamma(float64(n - i + 1))
		s += math.Exp(lg1 - lg2 - lg3 + float64(i)*lp + float64(n-i)*lq)
	}
	return math.Min(s, 1)
}
