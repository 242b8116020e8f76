package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sampleRun is a small run: a same pair, a different pair and their
// wrong-verdict counts, as results() would have measured them.
func sampleRun() *runFile {
	return &runFile{
		Format: resultsFormat, Version: 1, Date: "2026-12-01T23:00:00Z",
		Pairs: []pairFile{
			{Ref: "stories", Cand: "stories-gguf", Label: "stories vs gguf", Truth: "same",
				Cells: []cellFile{
					{Tolerance: 0.05, Test: "betting", Verdicts: map[string]int{"SAME": 3}, N: []int{98, 98, 98}},
					{Tolerance: 0.05, Test: "eb", Verdicts: map[string]int{"SAME": 3}, N: []int{882, 882, 882}},
				},
				HTTP: &httpFile{Verdict: "SAME", N: 98}},
			{Ref: "stories", Cand: "int8", Label: "stories vs int8",
				Cells: []cellFile{{Tolerance: 0.01, Test: "betting", Verdicts: map[string]int{"UNDECIDED": 2, "DIFFERENT": 1}, N: []int{1000, 1000, 40}}}},
			{Ref: "stories", Cand: "q-q4_0", Label: "stories vs Q4_0", Unreadable: "tensor type Q4_0 unsupported"},
		},
		Errors: []errFile{
			{Ref: "stories", Cand: "stories-gguf", Label: "stories vs gguf", Truth: "same", Test: "betting", Runs: 100, Wrong: 0},
			{Ref: "stories", Cand: "tampered", Label: "stories vs tampered", Truth: "different", Test: "eb", Runs: 100, Wrong: 1},
		},
		Scenarios: []scenFile{{Ref: "stories", Cand: "tampered", FixedVerdict: "DIFFERENT", PotVerdict: "DIFFERENT"}},
	}
}

func TestCompareRuns(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(b *runFile)
		ok     bool
		want   string // in the output: the line that says why
	}{
		{"identical", func(*runFile) {}, true, "agree: stories vs int8, 0.01 betting: UNDECIDED 2, DIFFERENT 1 / UNDECIDED 2, DIFFERENT 1"},
		{"counts move, verdicts stay", func(b *runFile) {
			b.Pairs[1].Cells[0].Verdicts = map[string]int{"UNDECIDED": 3}
			b.Errors[1].Wrong = 3 // 0.03 in [0.0003, 0.054], 0.01 in [0.006, 0.085]
		}, true, "wrong verdicts, stories vs tampered, eb: 1/100"},
		{"a verdict flips", func(b *runFile) {
			b.Pairs[0].Cells[1].Verdicts = map[string]int{"UNDECIDED": 2, "SAME": 1}
		}, false, "DISAGREE: stories vs gguf, 0.05 eb: SAME 3 / UNDECIDED 2, SAME 1"},
		{"HTTP flips", func(b *runFile) { b.Pairs[0].HTTP.Verdict = "DIFFERENT" }, false, "DISAGREE: stories vs gguf, HTTP"},
		{"a rate outside the other's interval", func(b *runFile) { b.Errors[0].Wrong = 10 }, false,
			"DISAGREE: wrong verdicts, stories vs gguf, betting: 0/100 = 0.000 [0.000, 0.036] / 10/100 = 0.100 [0.049, 0.176]; first in second's interval no, second in first's no"},
		// 1/100 lies in 0/10's [0, 0.31], but 0/10 = 0 lies outside 1/100's
		// [0.0003, 0.054]: one direction is enough to disagree.
		{"one way only", func(b *runFile) { b.Errors[1].Wrong, b.Errors[1].Runs = 0, 10 }, false,
			"first in second's interval yes, second in first's no"},
		{"a pair missing", func(b *runFile) { b.Pairs = b.Pairs[:1] }, false, "DISAGREE: stories vs int8: only in the first run"},
		{"a cell missing", func(b *runFile) { b.Pairs[0].Cells = b.Pairs[0].Cells[:1] }, false, "DISAGREE: stories vs gguf, 0.05 eb: only in the first run"},
		{"readable in one run only", func(b *runFile) { b.Pairs[2].Unreadable = "" }, false, "DISAGREE: stories vs Q4_0: cannot run"},
		{"scenario flips", func(b *runFile) { b.Scenarios[0].PotVerdict = "SAME" }, false, "DISAGREE: scenario stories/tampered"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := sampleRun(), sampleRun()
			c.change(b)
			var out bytes.Buffer
			ok := compareRuns(a, b, &out)
			if ok != c.ok {
				t.Errorf("ok = %v, want %v:\n%s", ok, c.ok, out.String())
			}
			if !strings.Contains(out.String(), c.want) {
				t.Errorf("output lacks %q:\n%s", c.want, out.String())
			}
		})
	}
}

func TestModal(t *testing.T) {
	for _, c := range []struct {
		vs   map[string]int
		want string
	}{
		{map[string]int{"SAME": 3}, "SAME"},
		{map[string]int{"SAME": 2, "UNDECIDED": 1}, "SAME"},
		{map[string]int{"UNDECIDED": 1, "SAME": 1}, "SAME|UNDECIDED"},
		{map[string]int{}, ""},
	} {
		if got := modal(c.vs); got != c.want {
			t.Errorf("modal(%v) = %q, want %q", c.vs, got, c.want)
		}
	}
}

// A run's results written by the run and read back agree with themselves,
// and -check's exit status is 0, 1 or 2 as documented.
func TestCheckRuns(t *testing.T) {
	dir := t.TempDir()
	c := config{alpha: 0.01, tolerances: []float64{0.05, 0.01}, tokens: 32, tableKeys: 2, tableN: 100, errKeys: 3, errN: 120}
	r := &results{alpha: 0.01}
	rw := &row{pair: allPairs[0], cells: map[cellKey]*cell{}}
	for _, tol := range c.tolerances {
		for _, test := range tests {
			rw.cells[cellKey{tol, test}] = &cell{verdicts: map[string]int{"SAME": 2}, ns: []int{98, 98}, means: []float64{0, 0}, score: "tv"}
		}
	}
	r.rows = []*row{rw}
	r.errs = []*errRow{{pair: allPairs[0], test: "betting", runs: 3, ns: []int{98, 98, 98}, queries: []int{0, 0, 0}}}
	same := filepath.Join(dir, "a.json")
	if err := writeResults(same, r.file(c)); err != nil {
		t.Fatal(err)
	}
	r.errs[0].wrong = 3 // 3 of 3 wrong: outside [0, 0.71]
	other := filepath.Join(dir, "b.json")
	if err := writeResults(other, r.file(c)); err != nil {
		t.Fatal(err)
	}
	c.errKeys = 30
	smaller := filepath.Join(dir, "smaller.json")
	r.errs[0].wrong = 0
	if err := writeResults(smaller, r.file(c)); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{\n  \"format\": \"pot-eval-results\",\n  \"version\": 1,\n  \"pairs\": [1,\n"), 0o644)
	notOurs := filepath.Join(dir, "other.json")
	os.WriteFile(notOurs, []byte(`{"format": "something else", "version": 1}`), 0o644)
	impossible := filepath.Join(dir, "impossible.json")
	os.WriteFile(impossible, []byte(`{"format": "pot-eval-results", "version": 1, "errors": [{"label": "x", "test": "eb", "runs": 2, "wrong": 5}]}`), 0o644)

	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"agree", []string{same, same}, 0, ""},
		{"agree at another size", []string{same, smaller}, 0, ""},
		{"disagree", []string{same, other}, 1, ""},
		{"one file", []string{same}, 2, "usage"},
		{"missing file", []string{same, filepath.Join(dir, "nope.json")}, 2, "nope.json"},
		{"malformed", []string{same, bad}, 2, "bad.json: line 4:"},
		{"not a results file", []string{notOurs, same}, 2, `other.json: format "something else"`},
		{"more wrong than runs", []string{impossible, same}, 2, "impossible.json: errors[0] (x, eb): 5 wrong of 2 runs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"-check"}, tc.args...), &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stdout:\n%s\nstderr: %s", code, tc.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.err) || (tc.err != "" && strings.Count(strings.TrimSpace(stderr.String()), "\n") > 0) {
				t.Errorf("stderr %q, want one line with %q", stderr.String(), tc.err)
			}
		})
	}
}

// Runs of other sizes are compared all the same, with a note of the sizes.
func TestConfigDiff(t *testing.T) {
	a := runConfig{Keys: 3, N: 1000, ErrKeys: 100, Tolerances: []float64{0.05, 0.01}}
	b := a
	if d := configDiff(a, b); d != "" {
		t.Errorf("same sizes: %q", d)
	}
	b.Keys, b.ErrKeys = 1, 30
	if d, want := configDiff(a, b), "keys 3 / 1, wrong-verdict keys 100 / 30"; d != want {
		t.Errorf("configDiff = %q, want %q", d, want)
	}
}
