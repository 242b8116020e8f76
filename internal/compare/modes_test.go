package compare

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/seqtest"
	"github.com/pot-audit/pot/internal/streamtest"
)

// The modes as a library: one candidate against one reference, every
// score seen by Observe in order; and one candidate against several
// references, matched to the one it is.
func TestModes(t *testing.T) {
	dir := t.TempDir()
	env := &cli.Env{Stdout: io.Discard, Stderr: io.Discard}
	var refs []string
	for k := range 3 {
		first := func(int) int32 { return int32(10 + 20*k) }
		refs = append(refs, streamtest.Write(t, dir, fmt.Sprintf("ref%d.pot", k), streamtest.Header("s", fmt.Sprint(k), "v"), streamtest.Records(300, first)))
	}
	cand := streamtest.Write(t, dir, "cand.pot", streamtest.Header("s", "x", "v"), streamtest.Records(300, func(int) int32 { return 30 }))

	var seen []Observation
	cfg := Config{Alpha: 0.01, Tolerance: 0.05, Score: "auto", Test: "betting",
		Observe: func(o Observation) error { seen = append(seen, o); return nil }}
	ref, err := LoadStreamed(env, refs[1], cfg.Score)
	if err != nil {
		t.Fatal(err)
	}
	c, err := One(context.Background(), env, cfg, ref, cand)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Result()
	if c.Verdict() != seqtest.Same || r.Score != "tv" || len(seen) != r.N || seen[len(seen)-1].N != r.N || seen[0].ID != "ch00000" {
		t.Fatalf("%+v after %d observations", r, len(seen))
	}

	cfg.Observe = nil
	name, cs, err := Match(context.Background(), env, cfg, refs, cand)
	if err != nil {
		t.Fatal(err)
	}
	if name != cand || len(cs) != 3 {
		t.Fatalf("%s: %d comparisons", name, len(cs))
	}
	for i, want := range []seqtest.Verdict{seqtest.Different, seqtest.Same, seqtest.Different} {
		if err := cs[i].Err(); err != nil || cs[i].Verdict() != want {
			t.Errorf("reference %d: %v, %v; want %v", i, cs[i].Verdict(), err, want)
		}
	}
}
