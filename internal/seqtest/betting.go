package seqtest

import (
	"math"
	"sort"
)

// gridSize sets the resolution of the reported bounds: the candidate means
// are (i/gridSize)^2, i = 1 .. gridSize-1, plus eps itself. Squaring puts
// the points densest near 0, where tolerances live (spacing 0.0017 at 0.05,
// 0.0078 near 1).
const gridSize = 256

// trackMax caps the point the bets are fitted for when they track the
// upper bound: fitted at m near 1 every bet would look good.
const trackMax = 0.5

// Betting is the betting confidence sequence of Waudby-Smith and Ramdas
// (2024), one-sided on each side, with bets fitted for the decision at eps.
//
// For a candidate mean m, the upper capital is
//
//	K+_t(m) = prod_{i<=t} (1 + a_i (m - x_i) / (1 - m))
//
// and the lower capital
//
//	K-_t(m) = prod_{i<=t} (1 + b_i (x_i - m) / m),
//
// with fractions a_i, b_i in [0, 1) that depend only on x_1 .. x_{i-1}.
// When the mean is at least m, K+(m) is a nonnegative supermartingale
// (each factor has conditional mean 1 + a_i (m - mu)/(1 - m) <= 1 and is at
// least 1 - a_i > 0), so by Ville's inequality it ever reaches 1/alpha with
// probability at most alpha; K-(m) likewise when the mean is at most m.
//
// Because the fractions do not depend on m, every factor of K+ is
// nondecreasing in m (its derivative is a (1 - x)/(1 - m)^2) and every
// factor of K- nonincreasing, so the m rejected by each side form an
// interval reaching to 1 resp. 0. That makes the reported bounds exact up
// to the grid and consistent with the decision: eps is a grid point, Same
// is K+(eps) >= 1/alpha, which is upper <= eps, and Different is
// K-(eps) >= 1/alpha, which is lower >= eps. A rejected m stays rejected
// (the running intersection, free under Ville's inequality), so the bounds
// only tighten.
type Betting struct {
	alpha, eps float64
	logThr     float64 // ln(1/alpha)
	n          int
	sum        float64
	verdict    Verdict

	grid   []float64 // candidate means, ascending
	inv1m  []float64 // 1/(1-m)
	invm   []float64 // 1/m
	up, lo []capital
	ge     int // index of eps in grid
	gu, gl int // grid[gu:] rejected by the upper side, grid[:gl+1] by the lower
	bettor kelly
	// track fits the bets at the current upper bound instead of eps, for
	// Calibrate, where no tolerance is known yet. The bound is predictable,
	// so the capital stays a supermartingale.
	track bool
}

// capital is one log-capital kept as log + ln(p): the factors multiply into
// p, and only when p leaves [1e-100, 1e100] is it folded into log, so an
// Add costs a multiplication per grid point, not a logarithm. thr is
// exp(ln(1/alpha) - log), the value of p at which the capital crosses.
type capital struct {
	log, p, thr float64
}

// NewBetting returns a betting test at error level alpha per side and
// tolerance eps, both in (0, 1).
func NewBetting(alpha, eps float64) (*Betting, error) {
	return newBetting(alpha, eps, defaultBets())
}

func newBetting(alpha, eps float64, cfg betConfig) (*Betting, error) {
	if err := checkParams(alpha, eps); err != nil {
		return nil, err
	}
	grid := make([]float64, 0, gridSize)
	for i := 1; i < gridSize; i++ {
		m := float64(i) / gridSize
		m *= m
		if math.Abs(m-eps) > 1e-9 {
			grid = append(grid, m)
		}
	}
	grid = append(grid, eps)
	sort.Float64s(grid)
	t := &Betting{
		alpha:  alpha,
		eps:    eps,
		logThr: math.Log(1 / alpha),
		grid:   grid,
		inv1m:  make([]float64, len(grid)),
		invm:   make([]float64, len(grid)),
		up:     make([]capital, len(grid)),
		lo:     make([]capital, len(grid)),
		gu:     len(grid),
		gl:     -1,
		bettor: newKelly(eps, cfg),
	}
	for i, m := range grid {
		if m == eps {
			t.ge = i
		}
		t.inv1m[i] = 1 / (1 - m)
		t.invm[i] = 1 / m
		t.up[i] = capital{p: 1, thr: 1 / alpha}
		t.lo[i] = capital{p: 1, thr: 1 / alpha}
	}
	return t, nil
}

// Add records x; see Test. It allocates nothing.
func (t *Betting) Add(x float64) error {
	if err := checkValue(x); err != nil {
		return err
	}
	if t.track {
		_, u := t.Bounds()
		t.bettor.retarget(min(u, trackMax))
	}
	a, b := t.bettor.bets() // from x_1 .. x_{n}, before x is seen
	t.bettor.observe(x)
	t.n++
	t.sum += x

	// Upper factor (1 - a x - (1-a) m) / (1 - m); lower (1 - b) + b x / m.
	ua, ub := 1-a*x, 1-a
	la, lb := 1-b, b*x
	for i := t.gl + 1; i < t.gu; i++ {
		c := &t.up[i]
		c.p *= (ua - ub*t.grid[i]) * t.inv1m[i]
		if c.p > 1e100 || c.p < 1e-100 {
			c.fold(t.logThr)
		}
		c = &t.lo[i]
		c.p *= la + lb*t.invm[i]
		if c.p > 1e100 || c.p < 1e-100 {
			c.fold(t.logThr)
		}
	}
	// Capitals are monotone in m, so new rejections extend the rejected
	// ends: walk inwards while the next point has crossed.
	for t.gu-1 > t.gl && t.up[t.gu-1].p >= t.up[t.gu-1].thr {
		t.gu--
	}
	for t.gl+1 < t.gu && t.lo[t.gl+1].p >= t.lo[t.gl+1].thr {
		t.gl++
	}
	if t.verdict == Undecided {
		switch {
		case t.gu <= t.ge:
			t.verdict = Same
		case t.gl >= t.ge:
			t.verdict = Different
		}
	}
	return nil
}

func (c *capital) fold(logThr float64) {
	c.log += math.Log(c.p)
	c.p = 1
	c.thr = math.Exp(logThr - c.log)
}

// N is the number of observations.
func (t *Betting) N() int { return t.n }

// Mean is the mean of the observations.
func (t *Betting) Mean() float64 {
	if t.n == 0 {
		return 0
	}
	return t.sum / float64(t.n)
}

// Bounds is the running interval; see Test. The mean lies strictly inside:
// upper is the smallest candidate the upper side rejected (1 if none) and
// lower the largest the lower side rejected (0 if none), so a lower bound
// equal to eps already means the mean exceeds eps.
func (t *Betting) Bounds() (lower, upper float64) {
	lower, upper = 0, 1
	if t.gl >= 0 {
		lower = t.grid[t.gl]
	}
	if t.gu < len(t.grid) {
		upper = t.grid[t.gu]
	}
	return lower, upper
}

// Decision is the verdict so far; see Test.
func (t *Betting) Decision() Verdict { return t.verdict }
