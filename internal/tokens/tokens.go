// Package tokens decides, from what two sides' streams say of their tokens,
// whether their token ids name the same tokens, so that scores comparing ids
// may be used; and, where ids do not compare, identifies tokens by their
// bytes so that next-token distributions can still be compared. It knows
// records and headers, not scores: the scores ask it.
package tokens

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/pot-audit/pot/format"
)

// Evidence is what one side's records and headers say of its tokens: the
// vocabulary digest and size its headers state, and the bytes its records
// give each id. Add every record of the side; an Evidence is not safe for
// concurrent use.
type Evidence struct {
	Vocab string // vocabulary digest the headers state, "" when none does
	Size  int    // vocabulary size the headers state, 0 when none does

	bytes    map[int32]string   // ids with their bytes
	blind    map[int32]struct{} // ids seen without bytes, as far as known yet
	ids      bool               // some record numbers its tokens
	named    bool               // some record gives its tokens' bytes
	conflict *Mismatch          // an id seen with two byte strings
	mixed    bool               // the headers state different vocabularies
}

// Mismatch is a token id that stands for different bytes, on two sides or
// within one.
type Mismatch struct {
	ID   int32
	A, B string // the two byte strings
}

// NewEvidence starts the evidence of a side from its first header.
func NewEvidence(h *format.Header) *Evidence {
	e := &Evidence{bytes: map[int32]string{}, blind: map[int32]struct{}{}}
	e.Vocab, e.Size = h.Model.Vocab, size(&h.Model)
	return e
}

// size is the vocabulary size a header states: the local engine's
// vocab_size or llama-server's n_vocab (from /v1/models).
func size(m *format.Model) int {
	for _, k := range []string{"vocab_size", "n_vocab"} {
		if n, err := strconv.Atoi(m.Meta[k]); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// AddHeader notes another segment's header. A side whose segments state
// different vocabularies has no digest to go by.
func (e *Evidence) AddHeader(h *format.Header) {
	if h.Model.Vocab != e.Vocab {
		e.mixed = true
	}
	if n := size(&h.Model); n != e.Size {
		e.Size = 0 // states no one size
	}
}

// Add notes the tokens of rec: its ids and, where rec knows them, their
// bytes.
func (e *Evidence) Add(rec *format.Record) {
	if len(rec.TokenBytes) > 0 || len(rec.TopBytes) > 0 {
		e.named = true
	}
	for _, ids := range [2][]int32{rec.Tokens, rec.TopTokens} {
		for _, id := range ids {
			if id < 0 {
				continue
			}
			e.ids = true
			b, ok := rec.Pieces.Get(id)
			if !ok {
				if _, known := e.bytes[id]; !known {
					e.blind[id] = struct{}{}
				}
				continue
			}
			e.named = true
			old, known := e.bytes[id]
			switch {
			case !known:
				e.bytes[id] = b
				delete(e.blind, id)
			case old != b && (e.conflict == nil || id < e.conflict.ID):
				e.conflict = &Mismatch{ID: id, A: old, B: b}
			}
		}
	}
}

// digest is the vocabulary digest the side can be held to, "" for none.
func (e *Evidence) digest() string {
	if e.mixed {
		return ""
	}
	return e.Vocab
}

// Basis says what a decision rests on.
type Basis string

// The bases of a Decision.
const (
	// SameDigest: both sides state the same vocabulary digest.
	SameDigest Basis = "same digest"
	// CheckedIDs: every id seen on both sides with its bytes on both has
	// the same bytes, and the sizes agree where both state one.
	CheckedIDs Basis = "ids checked"
	// ByBytes: ids do not compare, but both sides give their tokens' bytes,
	// so tokens are compared by bytes.
	ByBytes Basis = "bytes"
	// Nothing: ids do not compare and a side gives no bytes; only text is
	// left to compare.
	Nothing Basis = "nothing"
)

// Decision is whether two sides' token ids compare, and what says so.
type Decision struct {
	IDs   bool  // token ids compare: scores over ids may be used
	Basis Basis // what the decision rests on
	// Checked is how many ids were seen on both sides with their bytes on
	// both and found equal; Unchecked how many seen on both lacked bytes on
	// a side (control tokens, say), evidence neither way.
	Checked, Unchecked int
	// Differ is an id that stands for other bytes on the two sides (A the
	// reference's, B the candidate's) or within one, when one was found.
	Differ *Mismatch
	// Why says, when IDs is false, why not, in a phrase for a message.
	Why string
}

// String reads like "ids checked on 143 tokens" or "bytes (token 261 is
// \" a\" vs \"ab\")", for a verdict line.
func (d Decision) String() string {
	s := string(d.Basis)
	if d.Basis == CheckedIDs {
		s = fmt.Sprintf("ids checked on %d tokens", d.Checked)
	}
	if !d.IDs && d.Why != "" {
		s += " (" + d.Why + ")"
	}
	return s
}

// Decide says whether the token ids of ref and cand compare. They do when
// both state the same vocabulary digest; or, when a side states none, when
// every id seen on both sides with its bytes has the same bytes on both (at
// least one such id), and the vocabulary sizes agree where both state one.
// An id that changes its bytes within a side, or that differs between sides
// even under one digest, means they do not: the decision names it.
func Decide(ref, cand *Evidence) Decision {
	d := Decision{Basis: Nothing}
	if ref.named && cand.named {
		d.Basis = ByBytes
	}
	for _, side := range []struct {
		name string
		e    *Evidence
	}{{"reference", ref}, {"candidate", cand}} {
		if c := side.e.conflict; c != nil {
			d.Differ = c
			d.Why = fmt.Sprintf("token %d is %q and %q within the %s", c.ID, c.A, c.B, side.name)
			return d
		}
	}
	if !ref.ids || !cand.ids {
		d.Why = "a side gives no token ids"
		if !ref.ids && !cand.ids {
			d.Why = "neither side gives token ids"
		}
		return d
	}
	// Ids seen on both sides, in order, so the id named is always the same.
	var shared []int32
	for id, a := range ref.bytes {
		if b, ok := cand.bytes[id]; ok {
			d.Checked++
			if a != b {
				shared = append(shared, id)
			}
		} else if _, ok := cand.blind[id]; ok {
			d.Unchecked++
		}
	}
	for id := range ref.blind {
		if _, ok := cand.bytes[id]; ok {
			d.Unchecked++
		} else if _, ok := cand.blind[id]; ok {
			d.Unchecked++
		}
	}
	if len(shared) > 0 {
		sort.Slice(shared, func(i, j int) bool { return shared[i] < shared[j] })
		id := shared[0]
		d.Differ = &Mismatch{ID: id, A: ref.bytes[id], B: cand.bytes[id]}
		d.Checked -= len(shared)
		d.Why = fmt.Sprintf("token %d is %q in the reference, %q in the candidate", id, d.Differ.A, d.Differ.B)
		return d
	}
	rv, cv := ref.digest(), cand.digest()
	switch {
	case rv != "" && rv == cv:
		d.IDs, d.Basis = true, SameDigest
		return d
	case rv != "" && cv != "":
		d.Why = fmt.Sprintf("vocabulary %s vs %s", short(rv), short(cv))
		return d
	case ref.Size > 0 && cand.Size > 0 && ref.Size != cand.Size:
		d.Why = fmt.Sprintf("vocabulary sizes %d vs %d", ref.Size, cand.Size)
		return d
	case d.Checked == 0:
		d.Why = "no token id seen on both sides with its bytes"
		return d
	}
	d.IDs, d.Basis = true, CheckedIDs
	return d
}

// short cuts a digest for a message.
func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19]
	}
	return digest
}

// Token identifies a token for comparing the two sides: by id when ids
// compare, else by bytes (ID -1). Two ids of one vocabulary with the same
// bytes (a byte token and a one-byte piece) are one Token by bytes, so a
// distribution keyed by Token adds their probabilities.
type Token struct {
	ID    int32
	Bytes string
}

// Chosen is the Token chosen at position i of rec, when it has one under d.
func (d Decision) Chosen(rec *format.Record, i int) (Token, bool) {
	if d.IDs {
		if i < 0 || i >= len(rec.Tokens) {
			return Token{}, false
		}
		return Token{ID: rec.Tokens[i]}, true
	}
	b, ok := rec.Bytes(i)
	return Token{ID: -1, Bytes: b}, ok
}

// Alt is alternative j of position i of rec, when it has one under d;
// padding has none.
func (d Decision) Alt(rec *format.Record, i, j int) (Token, bool) {
	if d.IDs {
		k := i*rec.TopK + j
		if i < 0 || j < 0 || j >= rec.TopK || k >= len(rec.TopTokens) || rec.TopTokens[k] < 0 {
			return Token{}, false
		}
		return Token{ID: rec.TopTokens[k]}, true
	}
	b, ok := rec.TopBytesAt(i, j)
	return Token{ID: -1, Bytes: b}, ok
}

// Weighted is one token of a next-token distribution and its
// log-probability.
type Weighted struct {
	Token   Token
	Logprob float64
}

// Alternatives is position i's next-token distribution in rec as its
// alternatives give it, keyed by Token under d, most likely first. Tokens
// that are one under d (two ids with the same bytes, when tokens compare by
// bytes) are merged, their probabilities added; padding and alternatives
// that have no Token under d are left out. Comparing two sides'
// distributions then needs no knowledge of either vocabulary.
func (d Decision) Alternatives(rec *format.Record, i int) []Weighted {
	var out []Weighted
	at := map[Token]int{}
	for j := range rec.TopK {
		tok, ok := d.Alt(rec, i, j)
		k := i*rec.TopK + j
		if !ok || k >= len(rec.TopLogprobs) || math.IsInf(float64(rec.TopLogprobs[k]), -1) {
			continue
		}
		lp := float64(rec.TopLogprobs[k])
		if n, seen := at[tok]; seen {
			out[n].Logprob = logAdd(out[n].Logprob, lp)
			continue
		}
		at[tok] = len(out)
		out = append(out, Weighted{tok, lp})
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Logprob > out[b].Logprob })
	return out
}

// logAdd is log(exp(a) + exp(b)) without overflow.
func logAdd(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	return a + math.Log1p(math.Exp(b-a))
}
