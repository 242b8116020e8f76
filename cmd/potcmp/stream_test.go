package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
)

// A streamed reference gives the comparison what a held one gives: the
// same result and notes, repeats and failures of the reference counted
// alike, whether the candidate keeps the reference's order (and the
// reference is never held) or leaves it (and the reference is loaded whole
// from the file).
func TestStreamedReference(t *testing.T) {
	const n = 2*streamBatch*streamBatches + 102 // more than the loader may queue; n/2 keeps its top-k
	recs := varied(n)
	withDups := slices.Clone(recs)
	for _, i := range []int{3, n / 2, n - 1} {
		d := recs[i]
		d.Text = "a repeat, dropped"
		withDups = append(withDups, d)
	}
	dir := t.TempDir()
	refPath := writeStream(t, dir, "ref.pot", header("s", "a", "v"), withDups)
	late := slices.Clone(recs)
	late = append(late[:n/2:n/2], append([]format.Record{recs[n-1]}, recs[n/2:n-1]...)...)
	for _, c := range []struct {
		name  string
		recs  []format.Record
		holds bool // the join must fall back on the whole reference
	}{
		{"in order", recs, false},
		{"every other", everyOther(recs), false},
		{"short", recs[:50], false},
		{"one record late", late, true},
		{"reversed", reversed(recs), true},
		{"past the end", append(slices.Clone(recs), recs[0]), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			candPath := writeStream(t, dir, strings.ReplaceAll(c.name, " ", "-")+".pot", header("s", "b", "v"), c.recs)
			held, heldNotes, _ := compareWith(t, loadReference, refPath, candPath)
			got, notes, fellBack := compareWith(t, streamReference, refPath, candPath)
			if got.Read != int64(len(c.recs)) || got.N == 0 {
				t.Errorf("read %d records, scored %d, want %d read", got.Read, got.N, len(c.recs))
			}
			if got != held || notes != heldNotes {
				t.Errorf("streamed:\n%+v\n%s\nheld:\n%+v\n%s", got, notes, held, heldNotes)
			}
			if !strings.Contains(notes, "reference repeats 3 records") {
				t.Errorf("notes do not count the reference's repeats: %q", notes)
			}
			if fellBack != c.holds {
				t.Errorf("fell back on the whole reference: %v, want %v", fellBack, c.holds)
			}
		})
	}
	t.Run("stdin", func(t *testing.T) {
		data, err := os.ReadFile(refPath)
		if err != nil {
			t.Fatal(err)
		}
		env := &cli.Env{Stdin: bytes.NewReader(data), Stdout: io.Discard, Stderr: io.Discard}
		ref, err := streamReference(env, "-", "auto")
		if err != nil {
			t.Fatal(err)
		}
		if err := ref.wait(); err != nil {
			t.Fatal(err)
		}
		if ref.recs != nil || ref.n != n {
			t.Errorf("a reference on standard input: streamed %v, %d records", ref.recs != nil, ref.n)
		}
	})
}

func everyOther(recs []format.Record) []format.Record {
	var out []format.Record
	for i := 0; i < len(recs); i += 2 {
		out = append(out, recs[i])
	}
	return out
}

// compareWith compares the two files with the reference loaded by load,
// as compareOne does, and says whether the join fell back on a reference
// other than the one it was given.
func compareWith(t *testing.T, load func(*cli.Env, string, string) (*reference, error), refPath, candPath string) (result, string, bool) {
	t.Helper()
	env := &cli.Env{Stdout: io.Discard, Stderr: io.Discard}
	// A tolerance this small keeps identical outputs undecided: the whole
	// candidate is read.
	o := &options{alpha: 0.01, tolerance: 1e-6, score: "text", test: "betting"}
	ref, err := load(env, refPath, o.score)
	if err != nil {
		t.Fatal(err)
	}
	c, err := compareOne(context.Background(), env, o, ref, candPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	var notes strings.Builder
	c.notes(&notes)
	return c.result(), notes.String(), c.ref != ref
}
