package compare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/score"
	"github.com/pot-audit/pot/internal/seqtest"
	"github.com/pot-audit/pot/internal/streamtest"
)

// named gives recs one table naming every id, id i as name(i).
func named(recs []format.Record, name func(int32) string) []format.Record {
	p := format.NewPieces()
	for i := range recs {
		for _, ids := range [][]int32{recs[i].Tokens, recs[i].TopTokens} {
			for _, id := range ids {
				p.Add(id, name(id))
			}
		}
		recs[i].Pieces = p
	}
	return recs
}

// Streams without a vocabulary digest (servers): the ids compare when the
// bytes agree, checked on the first pairs and again on all pairs read, and
// an id whose bytes differ on a pair read later is trouble, naming it, not
// a verdict resting on ids that mean other tokens. --tokens-by ids takes
// the user's word instead.
func TestIDsCheckedToTheEnd(t *testing.T) {
	dir := t.TempDir()
	env := &cli.Env{Stdout: io.Discard, Stderr: io.Discard}
	first := func(i int) int32 {
		if i == 60 {
			return 500 // only this record uses ids 500 and up
		}
		return 10
	}
	mk := func(name string, other bool) string {
		return streamtest.Write(t, dir, name, streamtest.Header("s", name, ""), named(streamtest.Records(300, first), func(id int32) string {
			if other && id == 503 {
				return "zz"
			}
			return fmt.Sprintf("t%d", id)
		}))
	}
	ref, same, other := mk("ref.pot", false), mk("same.pot", false), mk("other.pot", true)
	run := func(cand string, cfg Config) (*Comparison, error) {
		r, err := LoadStreamed(env, ref, cfg.Score)
		if err != nil {
			t.Fatal(err)
		}
		return One(context.Background(), env, cfg, r, cand)
	}
	cfg := Config{Alpha: 0.01, Score: "auto", Test: "betting"}
	c, err := run(same, cfg)
	if err != nil || c.Verdict() != seqtest.Same {
		t.Fatalf("same bytes: %v %v", c, err)
	}
	if r := c.Result(); r.Score != "tv" || !strings.HasPrefix(r.Basis, "ids checked on ") || r.Tolerance != score.TolTV {
		t.Errorf("same bytes: %+v", r)
	}
	_, err = run(other, cfg)
	if !errors.Is(err, score.ErrVocab) || !strings.Contains(err.Error(), `token 503 is "t503" in the reference, "zz" in the candidate`) {
		t.Fatalf("an id that differs on a later pair: %v", err)
	}
	cfg.Tokens = "ids"
	c, err = run(other, cfg)
	if err != nil || c.Verdict() != seqtest.Same || c.Result().Basis != string(asserted) {
		t.Fatalf("--tokens-by ids: %v %v", c, err)
	}
	cfg.Tokens = "bytes"
	c, err = run(other, cfg)
	if err != nil || c.Verdict() != seqtest.Same || !strings.HasPrefix(c.Result().Basis, "bytes") {
		t.Fatalf("--tokens-by bytes: %v %v", c, err)
	}
}
