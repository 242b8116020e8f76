package score

import (
	"fmt"
	"math"

	"github.com/pot-audit/pot/format"
)

// Identity is how a comparison tells two sides' tokens apart: by their ids,
// which mean the same only under one vocabulary (see internal/tokens), by
// their bytes, which mean the same everywhere, or not at all, when only text
// is left to compare.
type Identity int

// The identities of Pick.
const (
	ByText  Identity = iota // tokens do not compare: text only
	ByID                    // token ids compare
	ByBytes                 // tokens compare by their bytes
)

// Pick returns the name of the strongest per-record score for a pair of
// successful, non-empty records whose tokens compare as by says: tv when
// both carry their tokens and top-k alternatives, else prob when both carry
// log-probabilities of their tokens, else tokens (by ids only), else text.
// Under ByBytes the tokens are the records' bytes, and a record that does
// not name its tokens' bytes falls to text.
func Pick(by Identity, ref, cand *format.Record) string {
	switch by {
	case ByID:
		if !hasIDs(ref) || !hasIDs(cand) {
			return "text"
		}
		switch {
		case hasTop(ref) && hasTop(cand):
			return "tv"
		case hasLogprobs(ref) && hasLogprobs(cand):
			return "prob"
		}
		return "tokens"
	case ByBytes:
		switch {
		case hasTopBytes(ref) && hasTopBytes(cand):
			return "tv"
		case hasNamedLogprobs(ref) && hasNamedLogprobs(cand):
			return "prob"
		}
	}
	return "text"
}

// ByNameAs is ByName for tokens that compare as by: tv and prob have forms
// keyed by bytes (TVBytes, ProbBytes); the other scores over tokens have
// none, and text needs no identity.
func ByNameAs(name string, by Identity) (Func, error) {
	if by != ByBytes {
		return ByName(name)
	}
	switch name {
	case "tv":
		return TVBytes, nil
	case "prob":
		return ProbBytes, nil
	case "text":
		return Text, nil
	}
	return nil, fmt.Errorf("%w: %s compares token ids and has no form by bytes (tv and prob do)", ErrVocab, name)
}

// named reports whether r names the bytes of every token it holds, by
// TokenBytes or by ids and a table; a position whose table lacks its id (a
// control token) still counts, as an unknown token.
func named(r *format.Record) bool {
	n := r.Positions()
	switch {
	case n == 0:
		return r.Text == ""
	case len(r.TokenBytes) == n:
		return true
	}
	return len(r.Tokens) == n && r.Pieces != nil
}

func hasNamedLogprobs(r *format.Record) bool {
	return r.Err == "" && r.Positions() > 0 && named(r) && len(r.Logprobs) == r.Positions()
}

func hasTopBytes(r *format.Record) bool {
	return hasNamedLogprobs(r) && r.TopK > 0 && topBytesOK(r)
}

// topBytesOK checks that every position has TopK alternatives with their
// log-probabilities, named by bytes or by ids and a table.
func topBytesOK(r *format.Record) bool {
	n, k := r.Positions(), r.TopK
	if k < 0 || len(r.TopLogprobs) != k*n {
		return false
	}
	if n == 0 {
		return true
	}
	return k > 0 && (len(r.TopBytes) == k*n || len(r.TopTokens) == k*n && r.Pieces != nil)
}

// sameBytes reports whether position i chose the same token on both
// sides, by bytes; a token whose bytes a side does not know is never the
// same as anything.
func sameBytes(a, b *format.Record, i int) bool {
	x, okA := a.Bytes(i)
	y, okB := b.Bytes(i)
	return okA && okB && x == y
}

// divergenceBytes is divergence with tokens compared by their bytes.
func divergenceBytes(a, b *format.Record, na, nb int) int {
	n := min(na, nb)
	for i := range n {
		if !sameBytes(a, b, i) {
			return i
		}
	}
	return n
}

// TVBytes is TV with tokens identified by their bytes instead of their ids,
// for two sides whose ids do not compare (another vocabulary, a server that
// gives none, OpenAI's legacy token strings): the positions that share a
// prefix are those where the chosen tokens' bytes agree, and at each the
// two top-k distributions are keyed by bytes, alternatives with the same
// bytes (a byte token and a one-byte piece) adding their probabilities. An
// alternative whose bytes a side does not know (a control token) goes to
// that side's "other" bucket. On the same vocabulary TVBytes equals TV up
// to such merges, and identical records score exactly 0.
func TVBytes(ref, cand *format.Record) (float64, error) {
	if err := usable(ref, cand); err != nil {
		return 0, err
	}
	for _, r := range [2]*format.Record{ref, cand} {
		if !named(r) || len(r.Logprobs) != r.Positions() || !topBytesOK(r) {
			return 0, fmt.Errorf("%w: tv by bytes needs each token's bytes and top-k alternatives (%d positions, %d token strings, top-%d with %d entries)",
				ErrMissing, r.Positions(), len(r.TokenBytes), r.TopK, len(r.TopLogprobs))
		}
	}
	return alongBytes(ref, cand, tvAtBytes), nil
}

// ProbBytes is Prob with the chosen tokens compared by their bytes.
func ProbBytes(ref, cand *format.Record) (float64, error) {
	if err := usable(ref, cand); err != nil {
		return 0, err
	}
	for _, r := range [2]*format.Record{ref, cand} {
		if !named(r) || len(r.Logprobs) != r.Positions() {
			return 0, fmt.Errorf("%w: prob by bytes needs each token's bytes and log-probability (%d positions, %d log-probabilities)",
				ErrMissing, r.Positions(), len(r.Logprobs))
		}
	}
	return alongBytes(ref, cand, func(a, b *format.Record, i int) float64 {
		if !sameBytes(a, b, i) {
			return 1
		}
		la, lb := a.Logprobs[i], b.Logprobs[i]
		if math.Float32bits(la) == math.Float32bits(lb) {
			return 0
		}
		return math.Abs(prob(la) - prob(lb))
	}), nil
}

// alongBytes is along with the prefix shared by bytes.
func alongBytes(ref, cand *format.Record, at func(a, b *format.Record, i int) float64) float64 {
	na, nb := ref.Positions(), cand.Positions()
	if na == 0 && nb == 0 {
		return 0
	}
	return average(at, ref, cand, divergenceBytes(ref, cand, na, nb), na, nb)
}

// weighted is a token named by its bytes and its probability.
type weighted struct {
	bytes string
	p     float64
}

// distBytes appends to buf position i's alternatives in r keyed by bytes,
// duplicates merged; padding and alternatives without bytes are left out,
// their mass left to the "other" bucket.
func distBytes(buf []weighted, r *format.Record, i int) []weighted {
	for j := range r.TopK {
		b, ok := r.TopBytesAt(i, j)
		lp := r.TopLogprobs[i*r.TopK+j]
		if !ok || math.IsInf(float64(lp), -1) {
			continue
		}
		p := prob(lp)
		merged := false
		for k := range buf {
			if buf[k].bytes == b {
				buf[k].p += p
				merged = true
				break
			}
		}
		if !merged {
			buf = append(buf, weighted{b, p})
		}
	}
	return buf
}

// tvAtBytes is tvAt with the distributions keyed by bytes.
func tvAtBytes(a, b *format.Record, i int) float64 {
	var bufA, bufB [16]weighted
	pa, pb := distBytes(bufA[:0], a, i), distBytes(bufB[:0], b, i)
	var sa, sb float64
	for _, w := range pa {
		sa += w.p
	}
	for _, w := range pb {
		sb += w.p
	}
	ka, kb := 1/max(sa, 1), 1/max(sb, 1)
	massIn := func(ws []weighted, s string) float64 {
		for _, w := range ws {
			if w.bytes == s {
				return w.p
			}
		}
		return 0
	}
	var s float64
	for _, w := range pa {
		s += math.Abs(w.p*ka - massIn(pb, w.bytes)*kb)
	}
	for _, w := range pb {
		if !hasBytes(pa, w.bytes) {
			s += w.p * kb
		}
	}
	s += math.Abs(max(1-sa*ka, 0) - max(1-sb*kb, 0))
	return min(s/2, 1)
}

func hasBytes(ws []weighted, s string) bool {
	for _, w := range ws {
		if w.bytes == s {
			return true
		}
	}
	return false
}
