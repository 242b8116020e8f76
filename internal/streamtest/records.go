package streamtest

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
)

// Header is an outputs header of the challenge set setID, under a model
// called modelName of vocabulary vocab: greedy, 8 tokens, top-3.
func Header(setID, modelName, vocab string) format.Header {
	return format.Header{
		Kind:       format.KindOutputs,
		Challenges: format.ChallengeSet{ID: setID, Commitment: "c0ffee" + setID, RunID: "default", Family: "templates/v1"},
		Model:      format.Model{Backend: "synth", Name: modelName, Vocab: vocab},
		Sampling:   format.Sampling{MaxTokens: 8, Logprobs: 3, Samples: 1},
		Tool:       "potcmp-test",
	}
}

// Record is challenge i's output, with id fmt.Sprintf("ch%05d", i): n
// tokens from first on, the chosen token of probability 0.6 at every
// position and two alternatives sharing the rest, so that two records
// differ in tv exactly where their tokens differ.
func Record(i int, sample uint32, first int32, n int) format.Record {
	r := format.Record{Index: uint64(i), ID: fmt.Sprintf("ch%05d", i), Sample: sample, TopK: 3, Finish: "length"}
	var text strings.Builder
	for p := range n {
		tok := first + int32(p)
		r.Tokens = append(r.Tokens, tok)
		r.Logprobs = append(r.Logprobs, float32(math.Log(0.6)))
		r.TopTokens = append(r.TopTokens, tok, tok+100, tok+200)
		r.TopLogprobs = append(r.TopLogprobs, float32(math.Log(0.6)), float32(math.Log(0.3)), float32(math.Log(0.1)))
		fmt.Fprintf(&text, "w%d ", tok)
	}
	r.Text = text.String()
	return r
}

// Records makes n records of 8 tokens; first(i) chooses challenge i's
// first token.
func Records(n int, first func(i int) int32) []format.Record {
	recs := make([]format.Record, n)
	for i := range recs {
		recs[i] = Record(i, 0, first(i), 8)
	}
	return recs
}

// Same is the first token of the reference model of Records.
func Same(int) int32 { return 10 }

// Write writes recs under h as a stream to dir/name and returns its path.
func Write(t testing.TB, dir, name string, h format.Header, recs []format.Record) string {
	t.Helper()
	return File(t, dir, name, Encode(t, h, recs))
}

// File writes data to dir/name and returns its path.
func File(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
