package summary

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
)

// TestShardComplete: a shard holds a share of the set that only the key
// tells, so it is complete when intact with every challenge it holds
// whole; a cat of shards is held to the whole set, as any stream.
func TestShardComplete(t *testing.T) {
	header := func(index int) format.Header {
		return format.Header{Kind: format.KindOutputs, Challenges: format.ChallengeSet{Count: 100},
			Sampling: format.Sampling{Samples: 2}, Shard: format.Shard{Index: index, Count: 8, By: "challenge"}}
	}
	summarize := func(intact bool, segs ...[]format.Record) *Summary {
		c := New("s.pot")
		c.Start(header(0))
		n := int64(0)
		for seg, recs := range segs {
			h := header(seg)
			for i := range recs {
				c.Add(n, &recs[i], seg, &h)
				n++
			}
		}
		st := format.Stats{Segments: len(segs), Trailers: len(segs), Records: n}
		if !intact {
			st.Trailers--
		}
		return c.Finish(st, nil)
	}
	both := func(idx ...uint64) []format.Record {
		var recs []format.Record
		for _, i := range idx {
			recs = append(recs, format.Record{Index: i, Sample: 0}, format.Record{Index: i, Sample: 1})
		}
		return recs
	}
	tests := []struct {
		name     string
		s        *Summary
		complete bool
		missing  int64
		text     string
	}{
		{"whole share", summarize(true, both(3, 17, 42, 99)), true, 0, "yes: shard 0 of 8, all 2 samples of its 4 challenges"},
		{"a sample short", summarize(true, append(both(3, 42), format.Record{Index: 17})), false, 1, "no: shard 0 of 8, 1 of its 3 challenges lack samples (17)"},
		{"damaged", summarize(false, both(3, 17)), false, 0, "no: shard 0 of 8, damaged"},
		{"outside the set", summarize(true, both(3, 100)), false, 0, "records outside the set"},
		{"shards joined", summarize(true, both(3), both(17)), false, 98, "no: 98 of 100 challenges lack samples"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.s.Complete == nil || *tt.s.Complete != tt.complete || tt.s.Missing != tt.missing {
				t.Errorf("complete %v, missing %d; want %v, %d", tt.s.Complete, tt.s.Missing, tt.complete, tt.missing)
			}
			var b bytes.Buffer
			if err := tt.s.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), tt.text) {
				t.Errorf("text lacks %q:\n%s", tt.text, b.String())
			}
		})
	}
}
