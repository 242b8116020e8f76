package seqtest

import (
	"errors"
	"math"
	"testing"
)

func newTests(t *testing.T, alpha, eps float64) map[string]Test {
	t.Helper()
	out := map[string]Test{}
	for _, name := range Names() {
		tt, err := New(name, alpha, eps)
		if err != nil {
			t.Fatalf("New(%q, %v, %v): %v", name, alpha, eps, err)
		}
		out[name] = tt
	}
	return out
}

func TestParams(t *testing.T) {
	for _, c := range []struct {
		name       string
		alpha, eps float64
	}{
		{"alpha 0", 0, 0.05},
		{"alpha 1", 1, 0.05},
		{"alpha NaN", math.NaN(), 0.05},
		{"alpha negative", -0.1, 0.05},
		{"eps 0", 0.01, 0},
		{"eps 1", 0.01, 1},
		{"eps NaN", 0.01, math.NaN()},
		{"eps above 1", 0.01, 1.5},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, name := range Names() {
				if _, err := New(name, c.alpha, c.eps); !errors.Is(err, ErrParam) {
					t.Errorf("New(%q, %v, %v) = %v, want ErrParam", name, c.alpha, c.eps, err)
				}
			}
		})
	}
	if _, err := New("bayes", 0.01, 0.05); !errors.Is(err, ErrName) {
		t.Errorf("New(bayes) = %v, want ErrName", err)
	}
}

func TestAddRefuses(t *testing.T) {
	for name, tt := range newTests(t, 0.01, 0.05) {
		t.Run(name, func(t *testing.T) {
			for _, x := range []float64{math.NaN(), -0.001, 1.001, math.Inf(1), math.Inf(-1)} {
				if err := tt.Add(x); !errors.Is(err, ErrValue) {
					t.Errorf("Add(%v) = %v, want ErrValue", x, err)
				}
			}
			if tt.N() != 0 {
				t.Errorf("N after refused adds = %d, want 0", tt.N())
			}
			for _, x := range []float64{0, 1, 0.5} {
				if err := tt.Add(x); err != nil {
					t.Errorf("Add(%v) = %v", x, err)
				}
			}
			if tt.N() != 3 || tt.Mean() != 0.5 {
				t.Errorf("N, Mean = %d, %v, want 3, 0.5", tt.N(), tt.Mean())
			}
		})
	}
}

func TestVerdictString(t *testing.T) {
	for v, want := range map[Verdict]string{Undecided: "UNDECIDED", Same: "SAME", Different: "DIFFERENT", 7: "UNDECIDED"} {
		if got := v.String(); got != want {
			t.Errorf("Verdict(%d).String() = %q, want %q", v, got, want)
		}
	}
}

// TestBoundsAgreeWithDecision runs both tests on several streams and checks
// at every step that the interval only shrinks, that it starts at [0, 1],
// and that the verdict is exactly what the bounds say (the first crossing,
// kept).
func TestBoundsAgreeWithDecision(t *testing.T) {
	const eps = 0.05
	for _, d := range []dist{constant(0), betaMean(0.02, 50), betaMean(0.3, 5), bernoulli(0.05), uniform(0.3, 0.9)} {
		for name := range newTests(t, 0.01, eps) {
			t.Run(name+"/"+d.name, func(t *testing.T) {
				tt, _ := New(name, 0.01, eps)
				if lo, hi := tt.Bounds(); lo != 0 || hi != 1 {
					t.Fatalf("bounds before data = [%v, %v], want [0, 1]", lo, hi)
				}
				r := &rng{s: 5}
				prevLo, prevHi := 0.0, 1.0
				var first Verdict
				for i := 0; i < 600; i++ {
					if err := tt.Add(d.draw(r)); err != nil {
						t.Fatal(err)
					}
					lo, hi := tt.Bounds()
					if lo < prevLo || hi > prevHi || lo < 0 || hi > 1 {
						t.Fatalf("n=%d: bounds [%v, %v] after [%v, %v]", tt.N(), lo, hi, prevLo, prevHi)
					}
					prevLo, prevHi = lo, hi
					want := Undecided
					switch {
					case first != Undecided:
						want = first
					case hi <= eps:
						want = Same
					case name == "betting" && lo >= eps, name == "eb" && lo > eps:
						want = Different
					}
					if got := tt.Decision(); got != want {
						t.Fatalf("n=%d: decision %v with bounds [%v, %v], want %v", tt.N(), got, lo, hi, want)
					}
					first = want
				}
			})
		}
	}
}

// TestBettingMatchesDirect recomputes the capital at eps with plain
// logarithms, bets from a separate bettor, and checks the decision time of
// Betting (whose grid keeps the capital as partial products) against it;
// it also checks the claim the bounds rest on, that capitals are monotone
// in m at every step.
func TestBettingMatchesDirect(t *testing.T) {
	const alpha, eps = 0.01, 0.05
	for _, d := range []dist{constant(0), betaMean(0.02, 50), atomMix(0.8, 1, 1), betaMean(0.5, 4), bernoulli(0.3)} {
		t.Run(d.name, func(t *testing.T) {
			bt, _ := NewBetting(alpha, eps)
			k := newKelly(eps, defaultBets())
			var lu, ll float64
			thr := math.Log(1 / alpha)
			want := Undecided
			r := &rng{s: 11}
			for i := 0; i < 3000 && bt.Decision() == Undecided; i++ {
				x := d.draw(r)
				a, b := k.bets()
				k.observe(x)
				lu += math.Log1p(a * (eps - x) / (1 - eps))
				ll += math.Log1p(b * (x - eps) / eps)
				if want == Undecided && lu >= thr {
					want = Same
				}
				if want == Undecided && ll >= thr {
					want = Different
				}
				if err := bt.Add(x); err != nil {
					t.Fatal(err)
				}
				if got := bt.Decision(); got != want {
					t.Fatalf("n=%d: decision %v, direct computation says %v (log capitals %v, %v)", bt.N(), got, want, lu, ll)
				}
				if got := bt.up[bt.ge].log + math.Log(bt.up[bt.ge].p); want == Undecided && math.Abs(got-lu) > 1e-9*(1+math.Abs(lu)) {
					t.Fatalf("n=%d: upper log capital at eps %v, direct %v", bt.N(), got, lu)
				}
				for g := bt.gl + 2; g < bt.gu; g++ {
					cu0, cu1 := bt.up[g-1].log+math.Log(bt.up[g-1].p), bt.up[g].log+math.Log(bt.up[g].p)
					cl0, cl1 := bt.lo[g-1].log+math.Log(bt.lo[g-1].p), bt.lo[g].log+math.Log(bt.lo[g].p)
					if cu1 < cu0-1e-9 || cl1 > cl0+1e-9 {
						t.Fatalf("n=%d: capitals not monotone at m=%v: upper %v then %v, lower %v then %v", bt.N(), bt.grid[g], cu0, cu1, cl0, cl1)
					}
				}
			}
			if want == Undecided {
				t.Fatalf("no decision in 3000 observations of %s mean %v", d.name, d.mean)
			}
		})
	}
}

func TestDecisionSticks(t *testing.T) {
	for name, tt := range newTests(t, 0.05, 0.1) {
		for tt.Decision() == Undecided {
			_ = tt.Add(0)
		}
		for range 500 {
			_ = tt.Add(1)
		}
		if v := tt.Decision(); v != Same {
			t.Errorf("%s: decision after Same and 500 ones = %v, want Same", name, v)
		}
	}
}

func TestAddAllocatesNothing(t *testing.T) {
	r := &rng{s: 1}
	d := betaMean(0.05, 4)
	for name, tt := range newTests(t, 0.01, 0.05) {
		if a := testing.AllocsPerRun(5000, func() { _ = tt.Add(d.draw(r)) }); a != 0 {
			t.Errorf("%s: %v allocations per Add", name, a)
		}
	}
}

// TestSpeed holds the speeds the bets were chosen for: identical models
// Same within 1.25 times the information limit, different ones Different
// in under 10 scores, noisy same ones Same in a few hundred.
func TestSpeed(t *testing.T) {
	for _, alpha := range []float64{0.001, 0.01, 0.05, 0.1} {
		for _, eps := range []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5} {
			bt, _ := NewBetting(alpha, eps)
			n, v := runOnce(bt, constant(0), nil, 100000)
			limit := InformationLimit(alpha, eps)
			if v != Same || float64(n) > 1.25*limit {
				t.Errorf("alpha %v eps %v, all zeros: %v after %d, want Same within 1.25 n* = %.1f", alpha, eps, v, n, 1.25*limit)
			}
		}
	}
	for _, eps := range []float64{0.05, 0.1} {
		for _, d := range []dist{constant(1), betaMean(0.5, 20), uniform(0.3, 0.9)} {
			worst := 0
			for s := range 500 {
				bt, _ := NewBetting(0.01, eps)
				n, v := runOnce(bt, d, &rng{s: uint64(s)}, 1000)
				if v != Different {
					t.Fatalf("eps %v, %s mean %v, seed %d: %v after %d", eps, d.name, d.mean, s, v, n)
				}
				worst = max(worst, n)
			}
			if worst >= 10 {
				t.Errorf("eps %v, %s mean %v: Different after up to %d scores, want fewer than 10", eps, d.name, d.mean, worst)
			}
		}
	}
	for _, c := range []struct {
		d   dist
		eps float64
		med int // median n to Same
	}{
		{betaMean(0.02, 50), 0.05, 200},
		{betaMean(0.01, 10), 0.05, 150},
		{atomMix(0.9, 2, 18), 0.05, 150},
		{twoPoint(0.01, 0.03, 0.02), 0.05, 175},
		{bernoulli(0.02), 0.05, 600},
		{betaMean(0.02, 50), 0.1, 70},
	} {
		if got := medianN(func() sequential { t, _ := NewBetting(0.01, c.eps); return t }, c.d, 101, 100000); got > c.med {
			t.Errorf("eps %v, %s mean %v: median %d scores to Same, want at most %d", c.eps, c.d.name, c.d.mean, got, c.med)
		}
	}
}

func TestInformationLimit(t *testing.T) {
	if got := InformationLimit(0.01, 0.05); math.Abs(got-89.78) > 0.01 {
		t.Errorf("InformationLimit(0.01, 0.05) = %v, want 89.78", got)
	}
}
