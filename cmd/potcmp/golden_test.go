package main

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/pot-audit/pot/internal/streamtest"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestGolden")

// goldenStreams writes the fixed streams of TestGolden into the current
// folder: a reference, its copy, another model, and the shapes that give
// every exit status and note.
func goldenStreams(t *testing.T) {
	t.Helper()
	spec := func(edit func(*streamtest.Spec)) []byte {
		sp := streamtest.DefaultSpec()
		sp.Records = 300
		edit(&sp)
		return streamtest.Make(sp)
	}
	for name, data := range map[string][]byte{
		"ref.pot":     spec(func(*streamtest.Spec) {}),
		"same.pot":    spec(func(*streamtest.Spec) {}),
		"other.pot":   spec(func(sp *streamtest.Spec) { sp.Seed = 2 }),
		"short.pot":   spec(func(sp *streamtest.Spec) { sp.Records = 40 }),
		"foreign.pot": spec(func(sp *streamtest.Spec) { sp.Set = "beef" }),
		"errs.pot":    spec(func(sp *streamtest.Spec) { sp.ErrEvery = 7; sp.Skip = 5 }),
		"cut.pot":     spec(func(sp *streamtest.Spec) { sp.Records, sp.Frame, sp.Truncate = 60, 8, 30 }),
		"chal.pot":    spec(func(sp *streamtest.Spec) { sp.Kind = "challenges" }),
		"k4.pot":      spec(func(sp *streamtest.Spec) { sp.Records, sp.Samples = 400, 4 }),
		"k4-other.pot": spec(func(sp *streamtest.Spec) {
			sp.Records, sp.Samples, sp.Seed = 400, 4, 3
		}),
	} {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGolden pins potcmp's verdict lines, JSON, notes and exit statuses on
// fixed streams, so that a change of behaviour shows in the diff of
// testdata/golden. Run with -update to rewrite the files.
func TestGolden(t *testing.T) {
	golden := streamtest.GoldenDir(t)
	goldenStreams(t)
	sameData, err := os.ReadFile("same.pot")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		args  string
		stdin []byte
	}{
		{"same", "ref.pot same.pot", nil},
		{"different", "ref.pot other.pot", nil},
		{"undecided", "ref.pot short.pot", nil},
		{"json", "--json ref.pot same.pot", nil},
		{"stdin", "--json ref.pot -", sameData},
		{"eb", "--test eb ref.pot same.pot", nil},
		{"text", "--score text --max-n 50 ref.pot other.pot", nil},
		{"foreign", "ref.pot foreign.pot", nil},
		{"challenges", "ref.pot chal.pot", nil},
		{"several", "ref.pot same.pot other.pot short.pot", nil},
		{"several-json", "--json ref.pot same.pot foreign.pot", nil},
		{"refs", "--refs other.pot ref.pot same.pot", nil},
		{"refs-json", "--refs --json other.pot ref.pot short.pot", nil},
		{"calibrate", "--calibrate ref.pot same.pot", nil},
		{"calibrate-json", "--calibrate --json ref.pot errs.pot", nil},
		{"notes", "--json ref.pot errs.pot", nil},
		{"truncated", "--json ref.pot cut.pot", nil},
		{"mmd", "--score mmd k4.pot k4-other.pot", nil},
		{"usage", "--alpha 2 ref.pot same.pot", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := strings.Fields(c.args)
			code, stdout, stderr := potcmp(t, bytes.NewReader(c.stdin), args...)
			streamtest.Golden(t, golden, c.name, streamtest.Run{Args: args, Code: code, Stdout: stdout, Stderr: stderr}, *update)
		})
	}
}
