package seqtest

import (
	"fmt"
	"math"
)

// LRHedge is the fraction lambda of the SAME test's capital staked on each
// output (see LR). At 1/2 a failure halves the evidence against a
// substitute, and an answered output whose log-ratio d = log p/q is small
// gains about lambda*E[d] - lambda^2*E[d^2]/2, which for a small
// perturbation (E_p[d^2] about 2 KL) is 3/4 of the pure likelihood ratio's
// drift KL(p||q): a quarter of the speed bought for a bounded price per
// failure. A larger lambda would speed SAME for a candidate that never
// fails and make each failure cost more (-log(1-lambda) nats).
const LRHedge = 0.5

// LR is the sequential likelihood-ratio test of "the candidate samples the
// trusted model p" against J named substitutes q_1..q_J, from the
// log-likelihoods of each candidate output y under p and every q_j (potgen
// score --alt). The outputs must be draws from p itself when the candidate
// is the trusted model: temperature 1, no truncation (top-k, top-p), one
// way of tokenising, which the caller checks.
//
// DIFFERENT is decided by the mixture likelihood ratio
//
//	M_n = (1/J) sum_j prod_i q_j(y_i) / p(y_i),
//
// computed in log space. When y_i is drawn from p given the past,
// E[q_j(y_i)/p(y_i)] = q_j(support of p) <= 1, so M_n is a nonnegative
// supermartingale from 1 and by Ville's inequality it ever reaches 1/alpha
// with probability at most alpha: P(DIFFERENT) <= alpha for the trusted
// model, whenever the caller stops. An output p gives probability 0 is
// DIFFERENT at once (the trusted model could not have written it).
//
// SAME means "the trusted model rather than any named substitute": every
// substitute j has been rejected by its own test, the hedged ratio
//
//	H_n^j = prod_i ((1 - lambda) + lambda p(y_i)/q_j(y_i)),  lambda = LRHedge,
//
// having reached 1/alpha at some n (once rejected, always rejected). A
// failed output (AddFailure) multiplies every H^j by 1 - lambda. When the
// candidate is q_j, whatever set A of its outputs it chooses to answer
// (failing on the others, knowing y), E[factor] = (1 - lambda) +
// lambda p(A) <= 1, so H^j is a supermartingale and P(SAME) <= alpha: a
// substitute cannot reach SAME by failing where it would show. A candidate
// that is none of p, q_1..q_J has no guarantee from this test: SAME says
// only which of the named models it is nearer, and the rank test
// (NewRank) is the one to ask whether it is the trusted model at all.
// Failures do not move M_n: they are no sample of p, so they are evidence
// of nothing against the trusted model, and they are held against SAME.
type LR struct {
	logThr  float64
	diff    []float64 // sum_i log q_j(y_i)/p(y_i), per substitute
	same    []float64 // log H^j, per substitute
	reject  []bool    // substitute j rejected (H^j reached 1/alpha)
	n, fail int
	pInf    bool // an output of probability 0 under p
	verdict Verdict
}

// NewLR returns a likelihood-ratio test at error level alpha (each kind of
// error) against alts named substitutes.
func NewLR(alpha float64, alts int) (*LR, error) {
	switch {
	case !(alpha > 0 && alpha < 1):
		return nil, fmt.Errorf("%w: alpha %v not in (0, 1)", ErrParam, alpha)
	case alts < 1:
		return nil, fmt.Errorf("%w: %d alternatives: the likelihood-ratio test needs at least one", ErrParam, alts)
	}
	return &LR{logThr: math.Log(1 / alpha), diff: make([]float64, alts), same: make([]float64, alts), reject: make([]bool, alts)}, nil
}

// Alts is the number of substitutes.
func (t *LR) Alts() int { return len(t.diff) }

// Add records an answered output by its log-likelihood logp under the
// trusted model and logq[j] under substitute j. -Inf is a valid
// log-likelihood; NaN, +Inf and a wrong count are refused with an error
// wrapping ErrValue, leaving the test unchanged.
func (t *LR) Add(logp float64, logq []float64) error {
	if len(logq) != len(t.diff) {
		return fmt.Errorf("%w: %d alternative log-likelihoods for %d alternatives", ErrValue, len(logq), len(t.diff))
	}
	for _, v := range append([]float64{logp}, logq...) {
		if math.IsNaN(v) || math.IsInf(v, 1) {
			return fmt.Errorf("%w: log-likelihood %v", ErrValue, v)
		}
	}
	t.n++
	if math.IsInf(logp, -1) {
		t.pInf = true
	}
	logHedge, logStake := math.Log1p(-LRHedge), math.Log(LRHedge)
	for j, q := range logq {
		if !t.pInf {
			t.diff[j] += q - logp // -Inf when q_j gives y probability 0
		}
		// log((1-lambda) + lambda exp(logp - q)); +Inf when q(y) = 0 < p(y),
		// and a failure's factor when neither model could give y.
		r := logp - q
		if math.IsNaN(r) {
			r = math.Inf(-1)
		}
		t.same[j] += logAddExp(logHedge, logStake+r)
	}
	t.update()
	return nil
}

// AddFailure records an output that failed or could not be scored: every
// substitute's SAME evidence is multiplied by 1 - LRHedge; DIFFERENT's is
// not moved.
func (t *LR) AddFailure() {
	t.n++
	t.fail++
	for j := range t.same {
		t.same[j] += math.Log1p(-LRHedge)
	}
	t.update()
}

func (t *LR) update() {
	all := true
	for j, h := range t.same {
		t.reject[j] = t.reject[j] || h >= t.logThr
		all = all && t.reject[j]
	}
	if t.verdict != Undecided {
		return
	}
	switch {
	case t.logM() >= t.logThr:
		t.verdict = Different
	case all:
		t.verdict = Same
	}
}

// logM is log M_n, +Inf after an output of probability 0 under p.
func (t *LR) logM() float64 {
	if t.pInf {
		return math.Inf(1)
	}
	m := math.Inf(-1)
	for _, d := range t.diff {
		m = logAddExp(m, d)
	}
	return m - math.Log(float64(len(t.diff)))
}

// logAddExp is log(exp(a) + exp(b)), exact at the infinities.
func logAddExp(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(a, 0) || math.IsInf(b, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// N is the number of outputs recorded, failures included.
func (t *LR) N() int { return t.n }

// Failures is the number of failures recorded.
func (t *LR) Failures() int { return t.fail }

// Mean is the mean log-likelihood ratio per answered output of the trusted
// model over its nearest substitute (the one with the largest product of
// ratios so far), in nats: positive when the outputs favour the trusted
// model. 0 before the first answer.
func (t *LR) Mean() float64 {
	answered := t.n - t.fail
	if answered == 0 {
		return 0
	}
	if t.pInf {
		return math.Inf(-1)
	}
	nearest := math.Inf(-1)
	for _, d := range t.diff {
		nearest = max(nearest, d)
	}
	return -nearest / float64(answered)
}

// Bounds says how far the evidence has come towards each verdict, as
// fractions of log(1/alpha) in [0, 1]: lower towards DIFFERENT (log M_n),
// upper towards SAME (the least of the substitutes' log H^j not yet
// rejected; 1 once all are). It is no confidence interval: the test has no
// mean to bound.
func (t *LR) Bounds() (different, same float64) {
	least := math.Inf(1)
	for j, h := range t.same {
		if !t.reject[j] {
			least = min(least, h)
		}
	}
	frac := func(x float64) float64 { return min(max(x/t.logThr, 0), 1) }
	return frac(t.logM()), frac(least)
}

// Rejected reports whether substitute j has been rejected: its own test
// says the candidate is not it.
func (t *LR) Rejected(j int) bool { return t.reject[j] }

// Evidence is M_n, the e-value against "the candidate is the trusted
// model".
func (t *LR) Evidence() float64 { return math.Exp(t.logM()) }

// Decision is the verdict so far: Different once M_n reaches 1/alpha, Same
// once every substitute is rejected, whichever comes first (it is final).
func (t *LR) Decision() Verdict { return t.verdict }
