package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/pot-audit/pot/internal/streamtest"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestGolden")

// TestGolden pins potstat's text, JSON and exit statuses on fixed streams,
// so that a change of behaviour shows in the diff of testdata/golden. Run
// with -update to rewrite the files.
func TestGolden(t *testing.T) {
	golden := streamtest.GoldenDir(t)
	spec := func(edit func(*streamtest.Spec)) []byte {
		sp := streamtest.DefaultSpec()
		sp.Records = 60
		edit(&sp)
		return streamtest.Make(sp)
	}
	streams := map[string][]byte{
		"a.pot":    spec(func(*streamtest.Spec) {}),
		"b.pot":    spec(func(sp *streamtest.Spec) { sp.Seed, sp.ErrEvery, sp.Skip = 2, 9, 3 }),
		"k3.pot":   spec(func(sp *streamtest.Spec) { sp.Samples, sp.ErrEvery = 3, 20 }),
		"few.pot":  spec(func(sp *streamtest.Spec) { sp.Records, sp.Tokens = 3, 4 }),
		"cut.pot":  spec(func(sp *streamtest.Spec) { sp.Frame, sp.Truncate = 8, 30 }),
		"chal.pot": spec(func(sp *streamtest.Spec) { sp.Kind = "challenges" }),
		"set.pot":  spec(func(sp *streamtest.Spec) { sp.Set = "beef" }),
	}
	for name, data := range streams {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name, args string
		stdin      string // a stream to read from standard input
	}{
		{"summary", "a.pot k3.pot", ""},
		{"summary-json", "--json b.pot", ""},
		{"summary-stdin-json", "--json", "k3.pot"},
		{"summary-damaged", "a.pot cut.pot", ""},
		{"records", "--records few.pot", ""},
		{"verify", "--verify a.pot cut.pot chal.pot", ""},
		{"between", "--between a.pot b.pot", ""},
		{"between-json", "--between --json a.pot b.pot", ""},
		{"between-stdin-json", "--between --json a.pot -", "b.pot"},
		{"between-set", "--between a.pot set.pot", ""},
		{"between-kind", "--between a.pot chal.pot", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := strings.Fields(c.args)
			code, stdout, stderr := potstat(t, streams[c.stdin], args...)
			streamtest.Golden(t, golden, c.name, streamtest.Run{Args: args, Code: code, Stdout: stdout, Stderr: stderr}, *update)
		})
	}
}
