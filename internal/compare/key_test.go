package compare

import (
	"context"
	"io"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/streamtest"
)

// One key rule: records without an id join on their challenge index, and
// never meet a record whose id happens to read like one.
func TestKeyOf(t *testing.T) {
	for _, c := range []struct {
		a, b format.Record
		same bool
	}{
		{format.Record{ID: "ab", Index: 1}, format.Record{ID: "ab", Index: 2}, true},
		{format.Record{ID: "ab", Sample: 1}, format.Record{ID: "ab"}, false},
		{format.Record{Index: 3}, format.Record{Index: 3}, true},
		{format.Record{Index: 3}, format.Record{Index: 4}, false},
		{format.Record{Index: 3}, format.Record{ID: "3", Index: 3}, false},
	} {
		if got := KeyOf(&c.a) == KeyOf(&c.b); got != c.same {
			t.Errorf("KeyOf(%+v) == KeyOf(%+v): %v, want %v", c.a, c.b, got, c.same)
		}
	}
}

// Streams without challenge ids are joined by index, challenge by
// challenge, as potstat --between joins them: not collapsed into one
// repeated record.
func TestJoinWithoutIDs(t *testing.T) {
	dir := t.TempDir()
	noIDs := func(recs []format.Record) []format.Record {
		for i := range recs {
			recs[i].ID = ""
		}
		return recs
	}
	ref := streamtest.Write(t, dir, "ref.pot", streamtest.Header("s", "a", "v"), noIDs(streamtest.Records(200, streamtest.Same)))
	cand := streamtest.Write(t, dir, "cand.pot", streamtest.Header("s", "b", "v"), noIDs(streamtest.Records(200, streamtest.Same)))
	env := &cli.Env{Stdout: io.Discard, Stderr: io.Discard}
	cfg := Config{Alpha: 0.01, Tolerance: 0.05, Score: "auto", Test: "betting"}
	r, err := LoadStreamed(env, ref, cfg.Score)
	if err != nil {
		t.Fatal(err)
	}
	c, err := One(context.Background(), env, cfg, r, cand)
	if err != nil {
		t.Fatal(err)
	}
	if res := c.Result(); res.Verdict != "SAME" || res.Duplicate != 0 || res.Unmatched != 0 {
		t.Errorf("%+v", res)
	}
}
