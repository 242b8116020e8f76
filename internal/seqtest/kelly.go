package seqtest

// bins is the resolution of the histogram the bets are fitted to. The bet
// only has to be predictable to keep the test valid, so the histogram costs
// speed at worst, never validity; 64 bins of width 1/64 put the loss from
// binning far below the growth rates that matter.
const bins = 64

// betConfig holds the knobs of the bet choice. The defaults were chosen by
// the measurements in BenchmarkBetChoice (see the package tests).
type betConfig struct {
	capUp, capLo float64 // largest bet, as a fraction of the largest bet that keeps the capital positive
	first        float64 // bet before any observation, as a fraction of the cap
	prior        float64 // weight of a pseudo-observation at the worst value
	scale        float64 // fractional Kelly: 1 bets the fitted optimum
}

// defaultBets is what NewBetting uses. capUp 0.95 makes all-zero scores
// grow the upper capital at 95% of the largest possible rate (Same within
// about n*/0.95) while a single score of 1 costs at most a factor 20;
// capLo 0.5 loses at most half the lower capital to a 0 after a run of
// large scores, which measured faster on rare-disagreement streams than
// 0.8 and costs one observation at most on constant ones; a prior weight of
// 0.05 tempers the first fits without delaying the all-zero case by more
// than a few observations.
func defaultBets() betConfig {
	return betConfig{capUp: 0.95, capLo: 0.5, first: 1, prior: 0.05, scale: 1}
}

// kelly chooses each step's bets by maximising the growth of the capital at
// m = eps over the observations seen so far (the empirical Kelly bet), for
// each side separately. The fitted bet quickly becomes the largest allowed
// when every observation lies on one side of eps, which is what makes
// identical models Same near the information limit and different models
// Different in a handful of steps, and it backs off by itself when rare
// large values (for the upper side) or zeros (for the lower side) show up.
//
// A bet is a fraction f in [0, cap] of the largest bet: for the upper side
// the factor is 1 + f (m - x) / (1 - m) and for the lower side
// 1 + f (x - m) / m. In both, z = (m - x) / (1 - m) resp. (x - m) / m lies
// in [-1, inf), so the fit is the same problem: maximise
// sum_i ln(1 + f z_i).
type kelly struct {
	cfg  betConfig
	eps  float64
	n    int
	slot [bins]int8 // where bin b's entry is in the arrays below, -1 if none
	sum  [bins + 1]float64
	// The fit's inputs, one entry per non-empty bin (plus the prior), kept
	// up to date by observe so that bets only runs the fit: w counts, zu
	// and zl are z of the bin's mean for the upper and lower side.
	w, zu, zl [bins + 1]float64
	m         int     // entries in use
	up, lo    float64 // last fitted fractions, the warm start of the next fit
}

func newKelly(eps float64, cfg betConfig) kelly {
	k := kelly{cfg: cfg, eps: eps}
	for b := range k.slot {
		k.slot[b] = -1
	}
	if cfg.prior > 0 {
		// The worst value for either side (x = 1 above, x = 0 below) has
		// z = -1: it keeps the first fits from betting everything on a
		// short lucky run.
		k.w[0], k.zu[0], k.zl[0] = cfg.prior, -1, -1
		k.m = 1
	}
	return k
}

func (k *kelly) observe(x float64) {
	b := min(int(x*bins), bins-1)
	s := int(k.slot[b])
	if s < 0 {
		s = k.m
		k.slot[b] = int8(s)
		k.m++
	}
	k.w[s]++
	k.sum[s] += x
	xb := k.sum[s] / k.w[s]
	k.zu[s] = (k.eps - xb) / (1 - k.eps)
	k.zl[s] = (xb - k.eps) / k.eps
	k.n++
}

// retarget moves the point the upper bets are fitted for to m.
func (k *kelly) retarget(m float64) {
	if m == k.eps {
		return
	}
	k.eps = m
	for s := range k.m {
		if k.cfg.prior > 0 && s == 0 {
			continue
		}
		xb := k.sum[s] / k.w[s]
		k.zu[s] = (m - xb) / (1 - m)
		k.zl[s] = (xb - m) / m
	}
}

// bets returns the fractions for the next observation, upper side first.
func (k *kelly) bets() (up, lo float64) {
	c := &k.cfg
	if k.n == 0 {
		return c.first * c.capUp, c.first * c.capLo
	}
	k.up = fitKelly(k.zu[:k.m], k.w[:k.m], c.capUp, k.up)
	k.lo = fitKelly(k.zl[:k.m], k.w[:k.m], c.capLo, k.lo)
	return c.scale * k.up, c.scale * k.lo
}

// fitKelly maximises sum_i w_i ln(1 + f z_i) over f in [0, limit] with a
// safeguarded Newton iteration started at warm, the previous step's fit,
// which is usually one or two iterations from the new optimum. The
// objective is concave, so the sign of its derivative keeps a bracket
// around the maximum and says which end holds it when it is not inside.
func fitKelly(z, w []float64, limit, warm float64) float64 {
	lo, hi := 0.0, limit
	f := min(max(warm, lo), hi)
	for range 60 {
		var d1, d2 float64
		for i, zi := range z {
			q := zi / (1 + f*zi)
			d1 += w[i] * q
			d2 += w[i] * q * q
		}
		if d1 > 0 {
			if f == limit {
				return limit
			}
			lo = f
		} else {
			if f == 0 {
				return 0
			}
			hi = f
		}
		if d2 == 0 {
			return f
		}
		step := d1 / d2
		next := f + step
		if step < 1e-6 && step > -1e-6 {
			return min(max(next, lo), hi)
		}
		if !(next > lo && next < hi) {
			// Outside the bracket: try its end once (the optimum is often
			// at the cap), then bisect.
			switch {
			case next >= hi && hi == limit && f != limit:
				next = limit
			case next <= lo && lo == 0 && f != 0:
				next = 0
			default:
				next = (lo + hi) / 2
			}
		}
		f = next
	}
	return f
}
