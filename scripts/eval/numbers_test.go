package main

import (
	"math"
	"strings"
	"testing"

	"github.com/pot-audit/pot/internal/stats"
)

func TestClopperPearson(t *testing.T) {
	for _, c := range []struct {
		k, n   int
		lo, hi float64
	}{
		{0, 100, 0, 0.0362167}, // 1 - 0.025^(1/100)
		{0, 5, 0, 0.5218238},   // 1 - 0.025^(1/5)
		{5, 5, 0.4781762, 1},
		{1, 100, 0.000253, 0.054460},
		{50, 100, 0.398321, 0.601679},
	} {
		lo, hi := stats.ClopperPearson(c.k, c.n, 0.95)
		if math.Abs(lo-c.lo) > 1e-5 || math.Abs(hi-c.hi) > 1e-5 {
			t.Errorf("%d of %d: [%.6f, %.6f], want [%.6f, %.6f]", c.k, c.n, lo, hi, c.lo, c.hi)
		}
	}
}

func TestQuantile(t *testing.T) {
	xs := []int{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	if got := quantile(xs, 0.5); got != 5 {
		t.Errorf("median %d, want 5", got)
	}
	if got := quantile(xs, 0.9); got != 9 {
		t.Errorf("p90 %d, want 9", got)
	}
	if got := quantile(nil, 0.5); got != 0 {
		t.Errorf("empty: %d", got)
	}
}

func TestNstar(t *testing.T) {
	if got := nstar(0.01, 0.05); math.Abs(got-89.78) > 0.01 {
		t.Errorf("n* = %.3f, want 89.78", got)
	}
}

// The summary is a table whose rows all have the header's number of cells,
// and a run whose clear pairs get the wrong verdicts fails its check.
func TestSummaryAndCheck(t *testing.T) {
	c := config{alpha: 0.01, tolerances: []float64{0.05, 0.01}, tokens: 32, tableKeys: 2, tableN: 100, errKeys: 3}
	r := &results{alpha: 0.01}
	for _, p := range []pair{allPairs[0], allPairs[len(allPairs)-1]} {
		row := &row{pair: p, cells: map[cellKey]*cell{}}
		for _, tol := range c.tolerances {
			for _, test := range tests {
				row.cells[cellKey{tol, test}] = &cell{verdicts: map[string]int{"SAME": 2}, ns: []int{98, 99}, means: []float64{0, 0}, score: "tv"}
			}
		}
		r.rows = append(r.rows, row)
	}
	r.rows = append(r.rows, &row{pair: pair{ref: "stories", cand: "q-q4_0"}, unreadable: "tensor type Q4_0 unsupported"})
	r.errs = []*errRow{{pair: allPairs[0], test: "betting", runs: 3, ns: []int{98, 98, 98}, queries: []int{100, 100, 100}}}
	lines := strings.Split(strings.TrimSpace(r.summary(c)), "\n")
	var cells []int
	for _, l := range lines {
		if strings.HasPrefix(l, "|") {
			cells = append(cells, strings.Count(l, "|"))
		}
	}
	if len(cells) != 2+len(r.rows) {
		t.Fatalf("%d table lines for %d rows:\n%s", len(cells), len(r.rows), strings.Join(lines, "\n"))
	}
	for i, n := range cells {
		if n != cells[0] {
			t.Errorf("table line %d has %d cells, the header %d", i, n, cells[0])
		}
	}
	// synth1 vs synth2 (different models) told SAME: the check must say so.
	problems := r.check()
	if len(problems) != 4 || !strings.Contains(problems[0], "different models told SAME") {
		t.Errorf("check: %q", problems)
	}
	// A different pair whose candidate was generated in full: its pipe did
	// not stop potgen.
	r.tableN = 100
	r.rows[1].records = []int{5, 100}
	if problems := r.check(); len(problems) != 5 || !strings.Contains(strings.Join(problems, "\n"), "the pipe did not stop potgen") {
		t.Errorf("check: %q", problems)
	}
}
