package seqtest

import "math"

// RankGrid is the number of equal cells the rank test's distance looks at:
// the distance from uniformity is measured at the thresholds b = j/RankGrid,
// j = 1 .. RankGrid-1 (the deciles).
const RankGrid = 10

// Rank is the sequential rank test of "the candidate is the trusted
// model", one candidate query per challenge (after Zhu et al.'s rank-based
// uniformity test, made anytime-valid). Per challenge, the caller computes
// the candidate output's randomised rank u in [0, 1] among the trusted
// model's own samples (stats.RandomRank, on log-likelihoods under the
// trusted model); when the candidate is the trusted model, sampled
// independently of those samples, u is exactly uniform on [0, 1] given
// everything before it.
//
// DIFFERENT is decided by a test martingale for that uniformity: the
// average, with fixed weights, of three products of predictable bets that
// each have conditional mean 1 under uniformity,
//
//   - a bet on the mean, prod (1 + l_i (2 u_i - 1)), with l_i in [-3/4, 3/4]
//     fitted to the ranks seen so far (a shift towards likely or unlikely
//     outputs: a colder or a hotter or another model),
//   - and two bets on the histogram of u over 4 and 16 equal cells, each
//     the Krichevsky-Trofimov estimate of the cell probabilities from the
//     ranks seen so far, divided by the uniform 1/cells (any other shape).
//
// Under uniformity the average is a nonnegative martingale starting at 1,
// so by Ville's inequality it ever reaches 1/alpha with probability at
// most alpha: P(DIFFERENT) <= alpha for the trusted model, however the
// caller decides when to stop.
//
// SAME is decided against a tolerance eps on the distance of the ranks'
// distribution function F from uniform at the grid thresholds,
//
//	d = max_j |F(b_j) - b_j|,  b_j = j / RankGrid,
//
// a bounded distance in [0, 1) (a Kolmogorov distance read at the
// deciles). For each threshold there are two one-sided betting confidence
// sequences (as in Betting, at level alpha each): one for the mean of
// 1[u <= b] at b + eps, one for the mean of 1[u > b] at 1 - b + eps.
// SAME is declared once every one of them has its upper bound at most its
// tolerance, that is once the confidence sequences put F(b) within eps of
// b at every threshold. If the candidate's F (given the past, at every
// challenge) is farther than eps from b at some threshold, on some side,
// SAME needs that one sequence to miss, which happens with probability at
// most alpha: P(SAME) <= alpha. No union bound is spent, since a wrong SAME
// needs only the one sequence at the violated threshold to fail.
//
// SAME is slow by nature: it has to show that the histogram of ranks is
// flat to within eps, and each middle threshold alone needs about
// ln(1/alpha) / KL(1/2 || 1/2 + eps) challenges (226 at eps 0.1, alpha
// 0.01). On uniform ranks at alpha 0.01, SAME came after 271, 698 and 2891
// challenges on average (20 runs each) at eps 0.15, 0.1 and 0.05. DIFFERENT
// against a real difference comes much sooner.
type Rank struct {
	alpha, eps float64
	logThr     float64
	n          int
	verdict    Verdict

	lin     linBet
	hist    [2]histBet
	weights [3]float64
	logE    float64 // log of the mixture, for Evidence

	cdf    [RankGrid - 1][2]*Betting // [j][0]: 1[u <= b_j]; [j][1]: 1[u > b_j]; nil where trivial
	count  [RankGrid]int             // ranks per grid cell, for Mean
	worst  int                       // missing ranks (AddWorst), for Mean
	noSame bool
}

// linBet is the bet on the mean of z = 2u - 1, which is 0 under
// uniformity; the fraction is the plug-in Kelly fraction sum z / sum z^2
// with a prior of rankPrior observations at the uniform second moment 1/3.
type linBet struct {
	logK, sz, sz2 float64
}

// rankLinCap bounds the mean bet: a rank at the far end then costs at most
// a factor 4 of that part of the capital.
const rankLinCap = 0.75

// rankPrior is the weight, in observations, of the prior in the fits: it
// keeps the first bets from staking much on one or two ranks.
const rankPrior = 4

func (b *linBet) next() float64 {
	l := b.sz / (b.sz2 + rankPrior/3.0)
	return min(max(l, -rankLinCap), rankLinCap)
}

func (b *linBet) add(u float64) {
	z := 2*u - 1
	b.logK += math.Log1p(b.next() * z)
	b.sz += z
	b.sz2 += z * z
}

// histBet bets on the cell of u among cells equal cells, with the
// Krichevsky-Trofimov probabilities (count + 1/2) / (n + cells/2).
type histBet struct {
	cells int
	count []float64
	n     float64
	logK  float64
}

func newHistBet(cells int) histBet { return histBet{cells: cells, count: make([]float64, cells)} }

func (b *histBet) add(u float64) {
	b.logK += b.logPay(u)
	b.count[b.cell(u)]++
	b.n++
}

// cell is the cell of u.
func (b *histBet) cell(u float64) int { return min(int(u*float64(b.cells)), b.cells-1) }

// logPay is the log of what the bet pays if the next rank is u.
func (b *histBet) logPay(u float64) float64 {
	q := (b.count[b.cell(u)] + 0.5) / (b.n + float64(b.cells)/2)
	return math.Log(q * float64(b.cells))
}

// NewRank returns a rank test at error level alpha (each kind of error) and
// tolerance eps on the distance d, both in (0, 1).
func NewRank(alpha, eps float64) (*Rank, error) { return newRank(alpha, eps, true) }

// newRank builds the test; without withSame it has only its test
// martingale and never says Same, which lets the tests check the
// martingale's error rate alone over long runs.
func newRank(alpha, eps float64, withSame bool) (*Rank, error) {
	if err := checkParams(alpha, eps); err != nil {
		return nil, err
	}
	t := &Rank{
		alpha: alpha, eps: eps, logThr: math.Log(1 / alpha),
		hist:    [2]histBet{newHistBet(4), newHistBet(16)},
		weights: [3]float64{0.5, 0.25, 0.25},
		noSame:  !withSame,
	}
	for j := range t.cdf {
		if !withSame {
			break
		}
		b := float64(j+1) / RankGrid
		for side, tol := range [2]float64{b + eps, 1 - b + eps} {
			if tol >= 1 {
				continue // F(b) - b <= 1 - b <= eps already
			}
			bt, err := NewBetting(alpha, tol)
			if err != nil {
				return nil, err
			}
			t.cdf[j][side] = bt
		}
	}
	return t, nil
}

// Add records the next randomised rank u in [0, 1]; it refuses NaN and
// values outside with an error wrapping ErrValue.
func (t *Rank) Add(u float64) error {
	if err := checkValue(u); err != nil {
		return err
	}
	return t.add(u, false)
}

// AddWorst records a challenge whose rank is missing (the candidate's
// output failed) as the worst case for the candidate, so that no choice
// of where to fail makes a wrong SAME likelier or DIFFERENT less likely
// than answering would:
//
//   - every confidence sequence behind SAME takes the value 1, the
//     largest its indicator 1[u <= b] or 1[u > b] could have had. If the
//     candidate's ranks, had it answered, are farther than eps from
//     uniform at some threshold, the values fed there are at least those
//     indicators whatever it chose to fail, so P(SAME) <= alpha still.
//   - the test martingale takes the rank that raises it most, given the
//     bets already placed (the bets are fixed before the rank, so this is
//     a choice among the values the rank could have had).
//
// It returns that rank. The plug-in distance Mean counts the missing rank
// against uniformity on both sides of every threshold too.
func (t *Rank) AddWorst() (float64, error) {
	u := t.worstRank()
	return u, t.add(u, true)
}

// worstRank is the rank in [0, 1] whose bet pays the most now. The mixture
// is linear in u within each cell of the finer histogram (the histogram
// bets are constant there, the mean bet linear), so its largest value is
// at a cell's end: the lower end when the mean bet is short (it pays for
// small ranks), the upper end otherwise.
func (t *Rank) worstRank() float64 {
	cells := t.hist[1].cells
	l := t.lin.next()
	best, bestU := math.Inf(-1), 0.0
	for k := range cells {
		u := float64(k) / float64(cells)
		if l > 0 {
			u = math.Nextafter(float64(k+1)/float64(cells), 0)
			if k == cells-1 {
				u = 1
			}
		}
		v := logSumExp3(
			math.Log(t.weights[0])+t.lin.logK+math.Log1p(l*(2*u-1)),
			math.Log(t.weights[1])+t.hist[0].logK+t.hist[0].logPay(u),
			math.Log(t.weights[2])+t.hist[1].logK+t.hist[1].logPay(u))
		if v > best {
			best, bestU = v, u
		}
	}
	return bestU
}

// add records rank u, or with worst a missing rank fed to the martingale
// as u (see AddWorst).
func (t *Rank) add(u float64, worst bool) error {
	t.n++
	t.lin.add(u)
	t.hist[0].add(u)
	t.hist[1].add(u)
	t.logE = logSumExp3(
		math.Log(t.weights[0])+t.lin.logK,
		math.Log(t.weights[1])+t.hist[0].logK,
		math.Log(t.weights[2])+t.hist[1].logK)
	if worst {
		t.worst++
	} else {
		t.count[min(int(u*RankGrid), RankGrid-1)]++
	}
	same := !t.noSame
	for j := range t.cdf {
		b := float64(j+1) / RankGrid
		for side, bt := range t.cdf[j] {
			if bt == nil {
				continue
			}
			x := 0.0
			if worst || (side == 0) == (u <= b) {
				x = 1
			}
			if err := bt.Add(x); err != nil {
				return err
			}
			same = same && bt.Decision() == Same
		}
	}
	if t.verdict == Undecided {
		switch {
		case t.logE >= t.logThr:
			t.verdict = Different
		case same:
			t.verdict = Same
		}
	}
	return nil
}

func logSumExp3(a, b, c float64) float64 {
	m := max(a, b, c)
	return m + math.Log(math.Exp(a-m)+math.Exp(b-m)+math.Exp(c-m))
}

// N is the number of ranks added.
func (t *Rank) N() int { return t.n }

// Mean is the plug-in estimate of the distance d: the largest gap between
// the empirical distribution function of the ranks and the uniform one at
// the grid thresholds, a missing rank (AddWorst) counted on the far side
// of each; 0 before the first rank.
func (t *Rank) Mean() float64 {
	if t.n == 0 {
		return 0
	}
	var d float64
	c := 0
	n, w := float64(t.n), float64(t.worst)
	for j := range RankGrid - 1 {
		c += t.count[j]
		b := float64(j+1) / RankGrid
		d = max(d, (float64(c)+w)/n-b, b-float64(c)/n)
	}
	return d
}

// Bounds is an interval on the distance d. The upper end is a one-sided
// confidence sequence at level alpha, from the same sequences that decide
// SAME (so SAME is exactly upper <= eps). The lower end is 0: DIFFERENT is
// decided by the test martingale (Evidence), which says the ranks are not
// uniform but not by how much; a lower bound at level alpha on a maximum
// over thresholds would need a union bound that the decision does not pay.
func (t *Rank) Bounds() (lower, upper float64) {
	for j := range t.cdf {
		b := float64(j+1) / RankGrid
		for side, bt := range t.cdf[j] {
			base := b // the upper bound on 1[u <= b] minus b bounds F(b) - b
			if side == 1 {
				base = 1 - b
			}
			if bt == nil {
				upper = max(upper, 1-base)
				continue
			}
			_, u := bt.Bounds()
			upper = max(upper, u-base)
		}
	}
	return 0, min(upper, 1)
}

// Decision is the verdict so far: Different once the evidence reaches
// 1/alpha, Same once the distance's upper bound is at most eps, whichever
// comes first (it is final).
func (t *Rank) Decision() Verdict { return t.verdict }

// Evidence is the test martingale's current value: the e-value against
// "the ranks are uniform". It reached 1/alpha when Different was decided.
func (t *Rank) Evidence() float64 { return math.Exp(t.logE) }

var _ Test = (*Rank)(nil)
