package seqtest

import (
	"errors"
	"math"
	"testing"
)

func TestCalibrateRefuses(t *testing.T) {
	for _, c := range []struct {
		name   string
		scores []float64
		alpha  float64
		want   error
	}{
		{"empty", nil, 0.01, ErrParam},
		{"alpha 0", []float64{0}, 0, ErrParam},
		{"alpha 1", []float64{0}, 1, ErrParam},
		{"NaN score", []float64{0, math.NaN()}, 0.01, ErrValue},
		{"negative score", []float64{-1}, 0.01, ErrValue},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Calibrate(c.scores, c.alpha); !errors.Is(err, c.want) {
				t.Errorf("Calibrate = %v, want %v", err, c.want)
			}
		})
	}
}

func TestCalibrate(t *testing.T) {
	zeros := make([]float64, 200)
	c, err := Calibrate(zeros, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	// 200 zeros cannot put the bound below 1 - 0.01^(1/200) = 0.0228.
	if c.Mean != 0 || c.Quantile != 0 || c.Upper < 0.0228 || c.Upper > 0.03 || c.Tolerance < c.Upper {
		t.Errorf("200 zeros: %+v, want mean 0, upper in [0.0228, 0.03], tolerance >= upper", c)
	}
	r := &rng{s: 9}
	d := betaMean(0.02, 20)
	xs := make([]float64, 1000)
	for i := range xs {
		xs[i] = d.draw(r)
	}
	c, err = Calibrate(xs, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	if c.N != 1000 || c.Upper < c.Mean || c.Upper > 0.03 || c.Quantile < c.Mean || c.Tolerance < c.Upper || c.Tolerance > 0.08 {
		t.Errorf("1000 Beta scores of mean 0.02: %+v", c)
	}
	// At the suggested tolerance a model with this noise is Same within
	// about CalibrationTarget scores.
	if got := medianN(func() sequential { b, _ := NewBetting(0.01, c.Tolerance); return b }, d, 101, 100000); got > 2*CalibrationTarget {
		t.Errorf("median %d scores to Same at the suggested tolerance %v, want about %d", got, c.Tolerance, CalibrationTarget)
	}
}

// TestCalibrateCovers checks that Upper is a valid upper bound: over many
// noise samples it falls below the true mean at most alpha of the time.
func TestCalibrateCovers(t *testing.T) {
	const alpha, runs = 0.1, 2000
	for _, d := range []dist{betaMean(0.02, 10), bernoulli(0.05), atomMix(0.7, 1, 9)} {
		miss := 0
		xs := make([]float64, 100)
		for s := range runs {
			r := &rng{s: (&rng{s: uint64(s)}).next()}
			for i := range xs {
				xs[i] = d.draw(r)
			}
			c, err := Calibrate(xs, alpha)
			if err != nil {
				t.Fatal(err)
			}
			if c.Upper < d.mean {
				miss++
			}
		}
		t.Logf("%s mean %v: upper bound below the mean in %d of %d samples", d.name, d.mean, miss, runs)
		if float64(miss) > errorLimit(alpha, runs) {
			t.Errorf("%s mean %v: upper bound below the mean in %d of %d samples, limit %.1f", d.name, d.mean, miss, runs, errorLimit(alpha, runs))
		}
	}
}
