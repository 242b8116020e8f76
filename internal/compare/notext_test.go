package compare

import (
	"context"
	"io"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/seqtest"
	"github.com/pot-audit/pot/internal/streamtest"
)

// TestReferenceWithoutStrings compares streams whose records carry no
// text and no id (they join on the index): a valid reference that once
// made the join index past the end of its string store.
func TestReferenceWithoutStrings(t *testing.T) {
	dir := t.TempDir()
	env := &cli.Env{Stdout: io.Discard, Stderr: io.Discard}
	recs := streamtest.Records(200, streamtest.Same)
	for i := range recs {
		recs[i].ID, recs[i].Text = "", ""
	}
	ref := streamtest.Write(t, dir, "ref.pot", streamtest.Header("s", "m", "v"), recs)
	cand := streamtest.Write(t, dir, "cand.pot", streamtest.Header("s", "m", "v"), recs)
	for _, score := range []string{"auto", "tokens", "text"} {
		cfg := Config{Alpha: 0.01, Tolerance: 0.05, Score: score, Test: "betting"}
		for _, load := range []func(*cli.Env, string, string, ...format.ReaderOption) (*Reference, error){Load, LoadStreamed} {
			r, err := load(env, ref, score)
			if err != nil {
				t.Fatal(err)
			}
			c, err := One(context.Background(), env, cfg, r, cand)
			if err != nil {
				t.Fatalf("%s: %v", score, err)
			}
			if err := c.Err(); err != nil {
				t.Fatalf("%s: %v", score, err)
			}
			if v := c.Verdict(); v == seqtest.Different {
				t.Errorf("%s: the same records are %v: %+v", score, v, c.Result())
			}
		}
	}
}
