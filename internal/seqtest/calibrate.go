package seqtest

import (
	"fmt"
	"math"
	"slices"
)

// CalibrationTarget is the number of scores within which Calibrate's
// suggested tolerance lets a model with the measured noise be declared Same.
const CalibrationTarget = 200

// Calibration describes the noise floor: the scores between two runs of the
// same model, which are not all 0 when a server is nondeterministic
// (batching, nondeterministic kernels, unseeded sampling).
type Calibration struct {
	N        int     // number of scores
	Mean     float64 // their mean
	Quantile float64 // their 0.95 quantile (nearest rank)
	// Upper is an upper confidence bound on the mean noise at level alpha:
	// the betting upper sequence over the scores, with bets fitted at the
	// running bound.
	Upper float64
	// Tolerance is the suggested tolerance: the smallest candidate m at
	// least Upper at which the upper betting test, with its growth rate
	// measured on these scores, reaches 1/alpha within CalibrationTarget
	// scores, that is at which
	//
	//	max_f mean_i ln(1 + f (m - x_i) / (1 - m)) >= ln(1/alpha) / CalibrationTarget
	//
	// (f up to the test's cap). Below it, the same model would still be
	// declared Same eventually but slowly; any Different verdict at this
	// tolerance means a mean score above Upper, beyond the noise.
	Tolerance float64
}

// Calibrate summarises a noise-floor sample at error level alpha.
func Calibrate(scores []float64, alpha float64) (Calibration, error) {
	if !(alpha > 0 && alpha < 1) {
		return Calibration{}, fmt.Errorf("%w: alpha %v not in (0, 1)", ErrParam, alpha)
	}
	if len(scores) == 0 {
		return Calibration{}, fmt.Errorf("%w: no scores to calibrate from", ErrParam)
	}
	// The tolerance argument is a placeholder: with track set, the bets
	// follow the bound and the decision is not used.
	t, err := newBetting(alpha, 0.5, defaultBets())
	if err != nil {
		return Calibration{}, err
	}
	t.track = true
	for i, x := range scores {
		if err := t.Add(x); err != nil {
			return Calibration{}, fmt.Errorf("score %d: %w", i, err)
		}
	}
	_, upper := t.Bounds()
	sorted := slices.Clone(scores)
	slices.Sort(sorted)
	c := Calibration{
		N:         len(scores),
		Mean:      t.Mean(),
		Quantile:  sorted[int(math.Ceil(0.95*float64(len(sorted))))-1],
		Upper:     upper,
		Tolerance: 1,
	}
	need := math.Log(1/alpha) / CalibrationTarget
	w := make([]float64, len(sorted))
	for i := range w {
		w[i] = 1
	}
	z := make([]float64, len(sorted))
	for _, m := range t.grid {
		if m < upper || m > 0.99 {
			continue
		}
		for i, x := range sorted {
			z[i] = (m - x) / (1 - m)
		}
		f := fitKelly(z, w, t.bettor.cfg.capUp, 0)
		var g float64
		for _, zi := range z {
			g += math.Log1p(f * zi)
		}
		if g/float64(len(z)) >= need {
			c.Tolerance = m
			break
		}
	}
	return c, nil
}
