package score

import (
	"fmt"
	"math"

	"github.com/pot-audit/pot/format"
)

// TV is the mean total-variation distance between the reference's and the
// candidate's next-token distributions over the positions where both were
// conditioned on the same prefix: position 0, and each following position
// while the chosen tokens so far agree, up to and including the first
// position where they differ. If the outputs agree until one of them ends,
// the position after its end counts as a full disagreement (1), since
// stopping where the other goes on is a difference of behaviour.
//
// At each position, each side's distribution is its top-k alternatives
// (padding with token -1 or log-probability -Inf skipped) plus one "other"
// bucket holding 1 minus their mass (a top-k list whose mass exceeds 1 by
// rounding is scaled to 1). A token in one side's top-k but not the other's
// counts as probability 0 on the other side, and the buckets are compared
// with each other as if they held the same tokens. Both choices bias the
// result against the true total variation: a token just outside one side's
// top-k (a near tie at the cut) adds up to its probability although the
// distributions may agree, and lumping the tails hides how they differ.
// With k of 5 or more the tails are small for the peaked distributions of
// language models, and identical records always score exactly 0.
//
// TV needs token ids and top-k alternatives on both sides (different k are
// fine) and returns an error wrapping ErrMissing otherwise.
func TV(ref, cand *format.Record) (float64, error) {
	if err := usable(ref, cand); err != nil {
		return 0, err
	}
	for _, r := range [2]*format.Record{ref, cand} {
		if !idsOK(r) || !topOK(r) {
			return 0, fmt.Errorf("%w: tv needs token ids and top-k alternatives (%d tokens, %d positions, top-%d with %d entries)",
				ErrMissing, len(r.Tokens), r.Positions(), r.TopK, len(r.TopTokens))
		}
	}
	return along(ref, cand, tvAt), nil
}

// Prob is TV reduced to the chosen tokens: over the same positions, it
// averages |p_ref - p_cand|, the difference between the probabilities the
// two models gave the token both chose, and counts 1 at the first position
// where the chosen tokens differ or one output has ended:
//
//	prob = (sum_{i<d} |p_ref,i - p_cand,i| + [d < max len]) / (d + [d < max len])
//
// with d the first divergence. Identical outputs with equal probabilities
// score 0; outputs differing from the first token score 1. Prob needs token
// ids and log-probabilities on both sides.
func Prob(ref, cand *format.Record) (float64, error) {
	if err := usable(ref, cand); err != nil {
		return 0, err
	}
	for _, r := range [2]*format.Record{ref, cand} {
		if !idsOK(r) || !logprobsOK(r) {
			return 0, fmt.Errorf("%w: prob needs token ids and log-probabilities (%d tokens, %d log-probabilities)",
				ErrMissing, len(r.Tokens), len(r.Logprobs))
		}
	}
	return along(ref, cand, func(a, b *format.Record, i int) float64 {
		if a.Tokens[i] != b.Tokens[i] {
			return 1
		}
		la, lb := a.Logprobs[i], b.Logprobs[i]
		if math.Float32bits(la) == math.Float32bits(lb) {
			return 0 // the common case of the same model: no exp
		}
		return math.Abs(prob(la) - prob(lb))
	}), nil
}

// along averages at(ref, cand, i) over the positions that share a prefix,
// as TV and Prob define them: 0 .. d-1 where the chosen tokens agree, then
// d itself if both outputs reach it (at is called there and sees different
// tokens), or 1 for d if only one output does.
func along(ref, cand *format.Record, at func(a, b *format.Record, i int) float64) float64 {
	na, nb := len(ref.Tokens), len(cand.Tokens)
	if na == 0 && nb == 0 {
		return 0
	}
	return average(at, ref, cand, divergence(ref.Tokens, cand.Tokens), na, nb)
}

// average is along's mean once the divergence d of outputs of na and nb
// positions is known.
func average(at func(a, b *format.Record, i int) float64, ref, cand *format.Record, d, na, nb int) float64 {
	var sum float64
	for i := range d {
		sum += at(ref, cand, i)
	}
	n := d
	switch {
	case d < min(na, nb):
		sum += at(ref, cand, d)
		n++
	case na != nb:
		sum++
		n++
	}
	return min(max(sum/float64(n), 0), 1)
}

// tvAt is the total variation between the two top-k distributions at
// position i, with the remaining mass of each side in an "other" bucket.
func tvAt(a, b *format.Record, i int) float64 {
	ta, tb := a.TopTokens[i*a.TopK:(i+1)*a.TopK], b.TopTokens[i*b.TopK:(i+1)*b.TopK]
	la, lb := a.TopLogprobs[i*a.TopK:(i+1)*a.TopK], b.TopLogprobs[i*b.TopK:(i+1)*b.TopK]
	if sameTop(ta, tb, la, lb) {
		// Bit-identical lists (the same model on the same prefix) are at
		// distance exactly 0, which the sums below would also give, after
		// ten calls to exp.
		return 0
	}
	var bufA, bufB [16]float64 // k up to 16 without allocating
	pa := probs(bufA[:0], ta, la)
	pb := probs(bufB[:0], tb, lb)
	var sa, sb float64
	for _, p := range pa {
		sa += p
	}
	for _, p := range pb {
		sb += p
	}
	// Scale a list whose mass exceeds 1 back to 1; other is what is left.
	ka, kb := 1/max(sa, 1), 1/max(sb, 1)
	// Per distinct token (a well-formed list has no repeats, but a hostile
	// one may, and a record must still be at distance 0 from itself).
	var s float64
	for j, t := range ta {
		if t < 0 || contains(ta[:j], t) {
			continue
		}
		s += math.Abs(massOf(ta, pa, t)*ka - massOf(tb, pb, t)*kb)
	}
	for l, u := range tb {
		if u < 0 || contains(tb[:l], u) || contains(ta, u) {
			continue
		}
		s += massOf(tb, pb, u) * kb
	}
	s += math.Abs(max(1-sa*ka, 0) - max(1-sb*kb, 0))
	return min(s/2, 1)
}

// sameTop reports whether two top-k lists hold the same ids and the same
// log-probabilities bit for bit.
func sameTop(ta, tb []int32, la, lb []float32) bool {
	if len(ta) != len(tb) {
		return false
	}
	for j := range ta {
		if ta[j] != tb[j] || math.Float32bits(la[j]) != math.Float32bits(lb[j]) {
			return false
		}
	}
	return true
}

// probs appends to buf the probability of each top-k entry, 0 for padding.
func probs(buf []float64, ids []int32, lps []float32) []float64 {
	for j, t := range ids {
		p := 0.0
		if t >= 0 {
			p = prob(lps[j])
		}
		buf = append(buf, p)
	}
	return buf
}

func contains(ids []int32, t int32) bool {
	for _, u := range ids {
		if u == t {
			return true
		}
	}
	return false
}

// massOf is the probability a top-k list gives token t.
func massOf(ids []int32, ps []float64, t int32) float64 {
	var p float64
	for j, u := range ids {
		if u == t {
			p += ps[j]
		}
	}
	return p
}

// Tokens is the normalised first divergence of the token sequences:
// 1 - (length of the common prefix) / (length of the longer), 0 when both
// are empty. It needs token ids on both sides.
func Tokens(ref, cand *format.Record) (float64, error) {
	if err := usable(ref, cand); err != nil {
		return 0, err
	}
	for _, r := range [2]*format.Record{ref, cand} {
		if !idsOK(r) {
			return 0, fmt.Errorf("%w: tokens needs token ids (%d ids for %d positions)", ErrMissing, len(r.Tokens), r.Positions())
		}
	}
	n := max(len(ref.Tokens), len(cand.Tokens))
	if n == 0 {
		return 0, nil
	}
	return 1 - float64(divergence(ref.Tokens, cand.Tokens))/float64(n), nil
}
