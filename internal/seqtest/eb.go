package seqtest

import "math"

// EB is the empirical-Bernstein confidence sequence: the Maurer-Pontil bound
// at every n, made time-uniform by a union bound over n. It is the baseline
// the published proof-of-training work used; Betting needs fewer
// observations.
//
// At n >= 2, with xbar the mean, V the sample variance (divisor n-1) and
// delta_n = alpha / (n(n+1)), which sums to alpha over n >= 1, each side is
//
//	xbar -/+ sqrt(2 V ln(2/delta_n) / n) + 7 ln(2/delta_n) / (3(n-1)).
//
// Maurer and Pontil (2009, theorem 4) state this one-sided bound with
// ln(2/delta), not ln(1/delta): its proof spends delta/2 on the mean and
// delta/2 on the sample variance, so the smaller constant would not be
// valid. The interval is the running intersection over n.
type EB struct {
	alpha, eps float64
	n          int
	mean, m2   float64 // Welford's running mean and sum of squared deviations
	lo, hi     float64
	verdict    Verdict
}

// NewEB returns an empirical-Bernstein test at error level alpha per side
// and tolerance eps, both in (0, 1).
func NewEB(alpha, eps float64) (*EB, error) {
	if err := checkParams(alpha, eps); err != nil {
		return nil, err
	}
	return &EB{alpha: alpha, eps: eps, hi: 1}, nil
}

// Add records x; see Test.
func (t *EB) Add(x float64) error {
	if err := checkValue(x); err != nil {
		return err
	}
	t.n++
	d := x - t.mean
	t.mean += d / float64(t.n)
	t.m2 += d * (x - t.mean)
	if t.n < 2 {
		return nil
	}
	n := float64(t.n)
	l := math.Log(2 * n * (n + 1) / t.alpha)
	v := math.Max(t.m2/(n-1), 0)
	w := math.Sqrt(2*v*l/n) + 7*l/(3*(n-1))
	t.hi = math.Min(t.hi, t.mean+w)
	t.lo = math.Max(t.lo, t.mean-w)
	if t.verdict == Undecided {
		switch {
		case t.hi <= t.eps:
			t.verdict = Same
		case t.lo > t.eps:
			t.verdict = Different
		}
	}
	return nil
}

// N is the number of observations.
func (t *EB) N() int { return t.n }

// Mean is the mean of the observations.
func (t *EB) Mean() float64 { return t.mean }

// Bounds is the running interval; see Test.
func (t *EB) Bounds() (lower, upper float64) { return t.lo, t.hi }

// Decision is the verdict so far; see Test.
func (t *EB) Decision() Verdict { return t.verdict }
