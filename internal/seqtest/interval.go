package seqtest

import (
	"fmt"
	"math"
)

// Ranged is a Test of observations in an interval [lo, hi] other than
// [0, 1], such as the unbiased MMD, which is 0 in mean for two runs of one
// model and so must be allowed below 0. It maps each observation affinely
// onto [0, 1], x' = (x - lo) / (hi - lo), and the tolerance likewise, and
// runs the inner test there; Mean and Bounds are mapped back. An affine map
// preserves conditional means and the order of the mean against the
// tolerance, so the inner test's guarantee holds unchanged: P(wrong verdict)
// <= alpha for each kind of error, at every n at once. The price is width:
// the test sees the score's range, not its spread, so a wider [lo, hi]
// needs more observations.
type Ranged struct {
	inner  Test
	lo, hi float64
}

// NewRange returns the test called name (see New) at error level alpha for
// observations in [lo, hi] with tolerance eps, lo < eps < hi.
func NewRange(name string, alpha, eps, lo, hi float64) (*Ranged, error) {
	if !(lo < hi) || math.IsInf(hi-lo, 0) {
		return nil, fmt.Errorf("%w: range [%v, %v]", ErrParam, lo, hi)
	}
	if !(eps > lo && eps < hi) {
		return nil, fmt.Errorf("%w: tolerance %v not in (%v, %v)", ErrParam, eps, lo, hi)
	}
	inner, err := New(name, alpha, (eps-lo)/(hi-lo))
	if err != nil {
		return nil, err
	}
	return &Ranged{inner: inner, lo: lo, hi: hi}, nil
}

// Add records x, which must lie in [lo, hi]; see Test. A value outside by
// no more than rounding (1e-12 of the width) is clamped in.
func (t *Ranged) Add(x float64) error {
	w := t.hi - t.lo
	u := (x - t.lo) / w
	if u < 0 && u > -1e-12 {
		u = 0
	}
	if u > 1 && u < 1+1e-12 {
		u = 1
	}
	if !(u >= 0 && u <= 1) {
		return fmt.Errorf("%w: %v not in [%v, %v]", ErrValue, x, t.lo, t.hi)
	}
	return t.inner.Add(u)
}

// N is the number of observations.
func (t *Ranged) N() int { return t.inner.N() }

// Mean is the mean of the observations, in their own units; lo before the
// first (the inner test's 0).
func (t *Ranged) Mean() float64 { return t.back(t.inner.Mean()) }

// Bounds is the running interval on the mean in the observations' units;
// [lo, hi] before any observation.
func (t *Ranged) Bounds() (lower, upper float64) {
	l, u := t.inner.Bounds()
	return t.back(l), t.back(u)
}

// Decision is the inner test's verdict; see Test.
func (t *Ranged) Decision() Verdict { return t.inner.Decision() }

func (t *Ranged) back(u float64) float64 { return t.lo + u*(t.hi-t.lo) }

var _ Test = (*Ranged)(nil)
