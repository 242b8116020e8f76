package compare

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
	"github.com/pot-audit/pot/internal/streamtest"
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
	refPath := streamtest.Write(t, dir, "ref.pot", streamtest.Header("s", "a", "v"), withDups)
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
			candPath := streamtest.Write(t, dir, strings.ReplaceAll(c.name, " ", "-")+".pot", streamtest.Header("s", "b", "v"), c.recs)
			held, heldNotes, _ := compareWith(t, Load, refPath, candPath)
			got, notes, fellBack := compareWith(t, LoadStreamed, refPath, candPath)
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
		ref, err := LoadStreamed(env, "-", "auto")
		if err != nil {
			t.Fatal(err)
		}
		if err := ref.Wait(); err != nil {
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
// as One does, and says whether the join fell back on a reference other
// than the one it was given.
func compareWith(t *testing.T, load func(*cli.Env, string, string, ...format.ReaderOption) (*Reference, error), refPath, candPath string) (Result, string, bool) {
	t.Helper()
	env := &cli.Env{Stdout: io.Discard, Stderr: io.Discard}
	// A tolerance this small keeps identical outputs undecided: the whole
	// candidate is read.
	cfg := Config{Alpha: 0.01, Tolerance: 1e-6, Score: "text", Test: "betting"}
	ref, err := load(env, refPath, cfg.Score)
	if err != nil {
		t.Fatal(err)
	}
	c, err := One(context.Background(), env, cfg, ref, candPath)
	if err != nil {
		t.Fatal(err)
	}
	var notes strings.Builder
	c.Notes(&notes, "potcmp")
	return c.Result(), notes.String(), c.ref() != ref
}
