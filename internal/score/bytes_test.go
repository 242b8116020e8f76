package score

import (
	"fmt"
	"testing"

	"github.com/pot-audit/pot/format"
)

// named gives r a table naming id i "t<i>", or with legacy its tokens as
// strings without ids, as OpenAI's legacy completions give them.
func nameTokens(r *format.Record, legacy bool) *format.Record {
	out := *r
	p := format.NewPieces()
	for _, ids := range [][]int32{r.Tokens, r.TopTokens} {
		for _, id := range ids {
			p.Add(id, fmt.Sprintf("t%d", id))
		}
	}
	out.Pieces = p
	if !legacy {
		return &out
	}
	out.Pieces, out.Tokens, out.TopTokens = nil, nil, nil
	if out.Logprobs == nil && len(r.Tokens) > 0 {
		out.Logprobs = make([]float32, len(r.Tokens))
	}
	for _, id := range r.Tokens {
		out.TokenBytes = append(out.TokenBytes, fmt.Sprintf("t%d", id))
	}
	for _, id := range r.TopTokens {
		b := ""
		if id >= 0 {
			b = fmt.Sprintf("t%d", id)
		}
		out.TopBytes = append(out.TopBytes, b)
	}
	return &out
}

// On one vocabulary, tv and prob by bytes are tv and prob by ids, whether
// the bytes come from a table or from token strings.
func TestBytesAgreeWithIDs(t *testing.T) {
	same := []alt{{1, 0.6}, {2, 0.3}}
	pairs := [][2]*format.Record{
		{rec([]int32{1, 2}, []float64{.6, .3}, 2, [][]alt{same, same}), rec([]int32{1, 2}, []float64{.6, .3}, 2, [][]alt{same, same})},
		{rec([]int32{1}, []float64{.6}, 2, [][]alt{{{1, 0.6}, {2, 0.3}}}), rec([]int32{1}, []float64{.5}, 2, [][]alt{{{1, 0.5}, {3, 0.4}}})},
		{rec([]int32{1, 2, 5}, []float64{.6, .7, 1}, 2, [][]alt{same, {{2, 0.7}, {3, 0.2}}, {{5, 1}}}),
			rec([]int32{1, 3, 5}, []float64{.6, .6, 1}, 2, [][]alt{same, {{3, 0.6}, {2, 0.3}}, {{9, 1}}})},
		{rec([]int32{1, 2}, []float64{.6, .3}, 2, [][]alt{same, same}), rec([]int32{1, 2, 7}, []float64{.6, .3, .6}, 2, [][]alt{same, same, same})},
		{rec([]int32{1}, []float64{.9}, 3, [][]alt{{{1, 0.9}}}), rec([]int32{1}, []float64{.8}, 1, [][]alt{{{1, 0.8}}})},
		{rec(nil, nil, 0, nil), rec([]int32{1}, []float64{1}, 1, [][]alt{{{1, 1}}})},
	}
	for i, p := range pairs {
		wantTV, err1 := TV(p[0], p[1])
		wantProb, err2 := Prob(p[0], p[1])
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		for _, legacy := range [][2]bool{{false, false}, {true, true}, {false, true}, {true, false}} {
			a, b := nameTokens(p[0], legacy[0]), nameTokens(p[1], legacy[1])
			if Pick(ByBytes, a, b) != "tv" && (a.Positions() > 0 && b.Positions() > 0) {
				t.Errorf("pair %d %v: Pick = %s", i, legacy, Pick(ByBytes, a, b))
			}
			tv, err := TVBytes(a, b)
			if err != nil || !near(tv, wantTV) {
				t.Errorf("pair %d legacy %v: TVBytes = %v, %v, want %v", i, legacy, tv, err, wantTV)
			}
			pr, err := ProbBytes(a, b)
			if err != nil || !near(pr, wantProb) {
				t.Errorf("pair %d legacy %v: ProbBytes = %v, %v, want %v", i, legacy, pr, err, wantProb)
			}
		}
	}
}

// Two ids with the same bytes are one token by bytes: their probabilities
// add, so a vocabulary that splits a piece in two ids is not a difference.
func TestBytesMerge(t *testing.T) {
	p := format.NewPieces()
	p.Add(1, "a")
	p.Add(2, "a")
	p.Add(3, "b")
	a := &format.Record{Tokens: []int32{1}, Logprobs: []float32{lp(.5)}, TopK: 3, TopTokens: []int32{1, 2, 3},
		TopLogprobs: []float32{lp(.5), lp(.3), lp(.2)}, Pieces: p}
	b := &format.Record{TokenBytes: []string{"a"}, Logprobs: []float32{lp(.8)}, TopK: 2, TopBytes: []string{"a", "b"},
		TopLogprobs: []float32{lp(.8), lp(.2)}}
	if got, err := TVBytes(a, b); err != nil || got > 1e-6 {
		t.Errorf("TVBytes = %v, %v, want 0", got, err)
	}
	if got, _ := TV(a, a); got != 0 {
		t.Errorf("TV of a record with itself %v", got)
	}
	// A side without bytes for a token never agrees on it.
	c := *a
	c.Pieces = format.NewPieces()
	if got, err := TVBytes(a, &c); err != nil || !near(got, 1) {
		t.Errorf("TVBytes against unknown tokens = %v, %v, want 1", got, err)
	}
	// A record that names no bytes at all is refused.
	d := *a
	d.Pieces = nil
	if _, err := TVBytes(a, &d); err == nil {
		t.Error("TVBytes without bytes: no error")
	}
	if Pick(ByBytes, a, &d) != "text" || Pick(ByID, a, &d) != "tv" || Pick(ByText, a, a) != "text" {
		t.Errorf("Pick: %s %s", Pick(ByBytes, a, &d), Pick(ByID, a, &d))
	}
}
