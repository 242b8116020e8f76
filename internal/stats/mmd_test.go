package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// hammingGram builds the Gram matrix of token sequences under the Hamming
// kernel (all of one length), x's first.
func hammingGram(x, y [][]int, paired bool) Gram {
	all := append(append([][]int{}, x...), y...)
	w := len(all)
	g := Gram{K: make([]float64, w*w), M: len(x), N: len(y), Paired: paired}
	for i := range all {
		for j := range all {
			agree := 0
			for l := range all[i] {
				if all[i][l] == all[j][l] {
					agree++
				}
			}
			g.K[i*w+j] = float64(agree) / float64(len(all[i]))
		}
	}
	return g
}

func TestUnbiasedMMDByHand(t *testing.T) {
	// x = {00, 00}, y = {11, 11}: k within sides 1, across 0: U = (1 + 1 - 0)/2.
	g := hammingGram([][]int{{0, 0}, {0, 0}}, [][]int{{1, 1}, {1, 1}}, false)
	if u := UnbiasedMMD(g); math.Abs(u-1) > 1e-12 {
		t.Errorf("disjoint constant sets: %v, want 1", u)
	}
	// x = {00, 11}, y = {00, 11}, unpaired: within 0 (off-diagonal), across
	// mean 1/2: U = (0 + 0 - 1)/2, the lower end -(1/2+1/2)/2.
	g = hammingGram([][]int{{0, 0}, {1, 1}}, [][]int{{0, 0}, {1, 1}}, false)
	lo, _ := UnbiasedMMDRange(2, 2, false)
	if u := UnbiasedMMD(g); math.Abs(u-lo) > 1e-12 || lo != -0.5 {
		t.Errorf("spread sets: %v, range low %v, want -0.5", u, lo)
	}
	// Paired, y_i = x_i: the cross term leaves out the pairs of one index,
	// so the statistic is exactly 0 whatever x is.
	g = hammingGram([][]int{{0, 1}, {1, 1}, {0, 0}}, [][]int{{0, 1}, {1, 1}, {0, 0}}, true)
	if u := UnbiasedMMD(g); math.Abs(u) > 1e-12 {
		t.Errorf("paired identical samples: %v, want 0", u)
	}
	if u := UnbiasedMMD(Gram{M: 1, N: 3, K: make([]float64, 16)}); u != 0 {
		t.Errorf("one sample: %v", u)
	}
}

// TestMMDPermutationTest checks the fixed-n baseline: under the null its
// p-value is at most a with probability at most a (paired groups with
// shared seeds, and independent ones), and it rejects a different model.
func TestMMDPermutationTest(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	const length, k, groups, runs, perms = 4, 4, 20, 300, 99
	p := [3]float64{0.5, 0.3, 0.2}
	q := [3]float64{0.2, 0.3, 0.5}
	draw := func(pm [3]float64, u float64) int {
		switch {
		case u < pm[0]:
			return 0
		case u < pm[0]+pm[1]:
			return 1
		}
		return 2
	}
	run := func(cand [3]float64, coupled bool) (rejected int) {
		for s := range runs {
			gs := make([]Gram, groups)
			for gi := range gs {
				var x, y [][]int
				for range k {
					a, b := make([]int, length), make([]int, length)
					for l := range length {
						u := r.Float64()
						a[l] = draw(p, u)
						if !coupled {
							u = r.Float64()
						}
						b[l] = draw(cand, u)
					}
					x, y = append(x, a), append(y, b)
				}
				gs[gi] = hammingGram(x, y, true)
				if !coupled && gi%2 == 1 {
					gs[gi].Paired = false // both forms in one test
				}
			}
			if _, pv := MMDPermutationTest(gs, perms, uint64(s)); pv <= 0.1 {
				rejected++
			}
		}
		return rejected
	}
	limit := 0.1*runs + 3*math.Sqrt(0.1*runs)
	for _, coupled := range []bool{false, true} {
		got := run(p, coupled)
		t.Logf("null (coupled %v): p <= 0.1 in %d of %d runs", coupled, got, runs)
		if float64(got) > limit {
			t.Errorf("null (coupled %v): p <= 0.1 in %d of %d runs, limit %.0f", coupled, got, runs, limit)
		}
	}
	if got := run(q, false); got < runs*9/10 {
		t.Errorf("other model: rejected in %d of %d runs", got, runs)
	}
}

// The biased statistic by hand: {12, 13} against {12} under the Hamming
// kernel on two positions is (0.75 + 1 - 2*0.75) / 2.
func TestBiasedMMDByHand(t *testing.T) {
	g := Gram{M: 2, N: 1, K: []float64{
		1, 0.5, 1,
		0.5, 1, 0.5,
		1, 0.5, 1,
	}}
	if got := BiasedMMD(g); math.Abs(got-0.125) > 1e-12 {
		t.Errorf("BiasedMMD = %v, want 0.125", got)
	}
	if got := BiasedMMD(Gram{M: 1, N: 1, K: []float64{1, 1, 1, 1}}); got != 0 {
		t.Errorf("BiasedMMD of one output against itself = %v, want 0", got)
	}
}
