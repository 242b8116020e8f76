package seqtest

import (
	"errors"
	"math"
	"testing"
)

func TestRanged(t *testing.T) {
	// Observations in [-0.25, 1]: the same verdicts and, mapped back, the
	// same bounds as the plain test on (x + 0.25) / 1.25.
	r, err := NewRange("betting", 0.05, 0.1, -0.25, 1)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := NewBetting(0.05, (0.1+0.25)/1.25)
	g := rng{s: 9}
	for range 300 {
		x := -0.25 + 1.25*g.float()*0.3
		if err := r.Add(x); err != nil {
			t.Fatal(err)
		}
		p.Add((x + 0.25) / 1.25)
		lr, ur := r.Bounds()
		lp, up := p.Bounds()
		if r.Decision() != p.Decision() || math.Abs(lr-(-0.25+1.25*lp)) > 1e-12 || math.Abs(ur-(-0.25+1.25*up)) > 1e-12 {
			t.Fatalf("n=%d: ranged %v [%v, %v], plain %v [%v, %v]", r.N(), r.Decision(), lr, ur, p.Decision(), lp, up)
		}
	}
	if math.Abs(r.Mean()-(-0.25+1.25*p.Mean())) > 1e-12 || r.N() != 300 {
		t.Errorf("mean %v, n %d", r.Mean(), r.N())
	}
	if err := r.Add(-0.3); !errors.Is(err, ErrValue) {
		t.Errorf("below the range: %v", err)
	}
	if err := r.Add(-0.25 - 1e-15); err != nil {
		t.Errorf("rounding below the range: %v", err)
	}
	for _, c := range [][3]float64{{0.1, 1, 0}, {0.1, 0, 0}, {1, 0, 1}, {-1, -0.5, 1}, {0.1, math.NaN(), 1}, {0.1, math.Inf(-1), 1}} {
		if _, err := NewRange("betting", 0.05, c[0], c[1], c[2]); !errors.Is(err, ErrParam) {
			t.Errorf("NewRange(eps %v, [%v, %v]): %v", c[0], c[1], c[2], err)
		}
	}
	if _, err := NewRange("clt", 0.05, 0.1, 0, 1); !errors.Is(err, ErrName) {
		t.Errorf("unknown test: %v", err)
	}
}
