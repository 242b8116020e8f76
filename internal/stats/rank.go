package stats

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// ErrNaN is returned for a NaN where a statistic needs a number.
var ErrNaN = errors.New("stats: NaN")

// RandomRank is the randomised rank, in [0, 1], of x among ref: with L the
// number of ref values below x and T the number equal to it,
//
//	u = (L + v (T + 1)) / (len(ref) + 1),
//
// for v uniform on [0, 1) and independent of everything else. If x and the
// ref values are exchangeable (x is one more independent draw from the
// distribution the ref values were drawn from), u is exactly uniform on
// [0, 1], ties or not: x's rank among the len(ref)+1 values, ties broken
// at random, is uniform on 0 .. len(ref), and v spreads each rank over a
// cell of width 1/(len(ref)+1). For the rank test, x is the log-likelihood
// of the candidate's output under the trusted model and ref those of the
// trusted model's own samples; x must not share a seed with any of them,
// or a tie that is certain would make the rank anything but uniform.
// -Inf (an output the trusted model gives probability 0) is a value like
// any other; NaN is refused with ErrNaN.
func RandomRank(x float64, ref []float64, v float64) (float64, error) {
	if math.IsNaN(x) {
		return 0, fmt.Errorf("%w: the candidate's value", ErrNaN)
	}
	var less, ties int
	for i, r := range ref {
		switch {
		case math.IsNaN(r):
			return 0, fmt.Errorf("%w: reference value %d", ErrNaN, i)
		case r < x:
			less++
		case r == x:
			ties++
		}
	}
	v = min(max(v, 0), math.Nextafter(1, 0))
	return (float64(less) + v*float64(ties+1)) / float64(len(ref)+1), nil
}

// CvM is the Cramér-von Mises statistic of a sample u against the uniform
// distribution on [0, 1],
//
//	W^2 = 1/(12 n) + sum_i (u_(i) - (2i - 1)/(2n))^2,
//
// u_(i) the order statistics: the statistic of the fixed-n rank-based
// uniformity test (Zhu et al.). It is 0 for an empty sample. u must hold
// no NaN (RandomRank never gives one).
func CvM(u []float64) float64 {
	n := len(u)
	if n == 0 {
		return 0
	}
	s := slices.Clone(u)
	slices.Sort(s)
	w := 1 / (12 * float64(n))
	for i, x := range s {
		d := x - (2*float64(i)+1)/(2*float64(n))
		w += d * d
	}
	return w
}

// CvMTest is the fixed-n Cramér-von Mises test of uniformity: the
// statistic of u and its Monte Carlo p-value over sims samples of len(u)
// uniform values,
//
//	p = (1 + #{simulated W^2 >= observed}) / (1 + sims),
//
// which is valid at the sample size given, P(p <= a) <= a for uniform u,
// exactly and not only asymptotically. It is deterministic given seed. Like
// every fixed-n test it is not anytime-valid: computed after every
// challenge and stopped at the first small p, it rejects a true null far
// more often than a.
func CvMTest(u []float64, sims int, seed uint64) (w2, p float64) {
	w2 = CvM(u)
	if sims <= 0 {
		return w2, 1
	}
	rng := rand.New(rand.NewPCG(seed, 0x63766d))
	buf := make([]float64, len(u))
	ge := 0
	for range sims {
		for i := range buf {
			buf[i] = rng.Float64()
		}
		if CvM(buf) >= w2-1e-12*w2 {
			ge++
		}
	}
	return w2, float64(1+ge) / float64(1+sims)
}
