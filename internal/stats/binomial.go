package stats

import "math"

// ClopperPearson is the exact two-sided confidence interval at level for
// a binomial proportion, k successes in n trials: lo is the p at which
// P(X >= k) = (1-level)/2 (0 when k = 0) and hi the p at which P(X <= k) =
// (1-level)/2 (1 when k = n). It covers the true proportion with
// probability at least level for every p and n, being built from the
// binomial distribution itself rather than an approximation. n = 0 gives
// [0, 1].
func ClopperPearson(k, n int, level float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	k = min(max(k, 0), n)
	a := (1 - level) / 2
	lo, hi = 0, 1
	if k > 0 {
		// P(X >= k; p) increases with p: find where it reaches a.
		lo = bisect(func(p float64) bool { return 1-binomCDF(k-1, n, p) >= a })
	}
	if k < n {
		// P(X <= k; p) decreases with p: find where it falls to a.
		hi = bisect(func(p float64) bool { return binomCDF(k, n, p) <= a })
	}
	return lo, hi
}

// bisect returns the smallest p in [0, 1] (to 1e-12) at which the
// monotone condition above holds.
func bisect(above func(p float64) bool) float64 {
	l, h := 0.0, 1.0
	for h-l > 1e-12 {
		m := (l + h) / 2
		if above(m) {
			h = m
		} else {
			l = m
		}
	}
	return (l + h) / 2
}

// binomCDF is P(X <= k) for X binomial(n, p), summed in log space.
func binomCDF(k, n int, p float64) float64 {
	switch {
	case k < 0:
		return 0
	case k >= n:
		return 1
	case p <= 0:
		return 1
	case p >= 1:
		return 0
	}
	lp, lq := math.Log(p), math.Log1p(-p)
	ln, _ := math.Lgamma(float64(n + 1))
	var s float64
	for i := 0; i <= k; i++ {
		li, _ := math.Lgamma(float64(i + 1))
		lr, _ := math.Lgamma(float64(n - i + 1))
		s += math.Exp(ln - li - lr + float64(i)*lp + float64(n-i)*lq)
	}
	return min(s, 1)
}
