package score

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/stats"
)

// Kernel is a similarity between two outputs that UnbiasedMMD compares
// sample sets with. Both kernels are positive definite, lie in [0, 1] and
// give 1 for an output against itself, which is what the range of the
// statistic (stats.UnbiasedMMDRange) relies on; that is why Kernel is a
// closed set of values and not an interface. The zero Kernel is invalid.
type Kernel struct {
	name   string
	length int
}

// TokenKernel is the Hamming kernel on token ids of Model Equality
// Testing: each output is its first length token ids, padded with -1 when
// shorter, and two outputs are as similar as the fraction of the length
// positions where they hold the same id. Then half the squared MMD is
//
//	(1/length) sum_l (1/2) sum_t (p_l(t) - q_l(t))^2,
//
// with p_l and q_l the two models' distributions of the token at position l
// (the padding -1 standing for "ended"): a mean over positions of half the
// squared Euclidean distance between the marginals, at most their total
// variation. For two deterministic models it is the fraction of positions
// where their outputs differ. length must be positive and must not depend on
// the samples (pass the streams' MaxTokens): a length taken from the longest
// sample would rescale each challenge's statistic by a random factor and
// lose its mean of 0.
func TokenKernel(length int) (Kernel, error) {
	if length <= 0 {
		return Kernel{}, fmt.Errorf("%w: the token kernel needs a fixed positive length (the streams' max tokens), not %d", ErrMissing, length)
	}
	return Kernel{name: "tokens", length: length}, nil
}

// TextKernel is the cosine similarity of the counts of character trigrams
// (runes, the text framed by two start and two end marks, so that an empty
// or one-rune text has trigrams too, and MaxTextRunes at most): the
// spectrum kernel, normalised. It needs only the text, so it compares
// backends of any vocabularies and those that report no token ids. Half
// the squared MMD is half the squared distance between the two models'
// mean normalised trigram profiles.
func TextKernel() Kernel { return Kernel{name: "text"} }

// KernelByName is TokenKernel(length) for "tokens" and TextKernel for
// "text", for command lines.
func KernelByName(name string, length int) (Kernel, error) {
	switch name {
	case "tokens":
		return TokenKernel(length)
	case "text":
		return TextKernel(), nil
	}
	return Kernel{}, fmt.Errorf("%w %q for a kernel (want tokens or text)", ErrName, name)
}

// String is the kernel's name: tokens or text.
func (k Kernel) String() string { return k.name }

// MMDGram returns the kernel matrix of one challenge's samples, ref's
// first, for stats.UnbiasedMMD and stats.MMDPermutationTest. Both sides'
// samples are put in sample-index order; the problem is Paired when they
// hold the same sample indices (pot's streams: equal indices, equal seeds
// when both sides were drawn with the same key and --seed), so that pairs
// of one index, which may be dependent, stay out of the statistic's cross
// term. A failed sample is an error wrapping ErrFailed; the token kernel
// needs token ids on every sample (ErrMissing).
func MMDGram(ref, cand []format.Record, k Kernel) (stats.Gram, error) {
	if k.name == "" {
		return stats.Gram{}, fmt.Errorf("%w: the zero Kernel", ErrName)
	}
	rs, cs := bySample(ref), bySample(cand)
	all := append(rs, cs...)
	for i, r := range all {
		side := "reference"
		if i >= len(rs) {
			side = "candidate"
		}
		if r.Err != "" {
			return stats.Gram{}, fmt.Errorf("%w: %s sample %d: %s", ErrFailed, side, r.Sample, r.Err)
		}
		if k.name == "tokens" && !idsOK(r) {
			return stats.Gram{}, fmt.Errorf("%w: the token kernel needs token ids (%s sample %d); use the text kernel", ErrMissing, side, r.Sample)
		}
	}
	g := stats.Gram{M: len(rs), N: len(cs), K: make([]float64, len(all)*len(all))}
	g.Paired = len(rs) == len(cs)
	for i := range rs {
		g.Paired = g.Paired && rs[i].Sample == cs[i].Sample
	}
	w := len(all)
	switch k.name {
	case "tokens":
		for i := range w {
			g.K[i*w+i] = 1
			for j := range i {
				v := float64(hamming(all[i].Tokens, all[j].Tokens, k.length)) / float64(k.length)
				g.K[i*w+j], g.K[j*w+i] = v, v
			}
		}
	case "text":
		fs := make([][]trigram, w)
		for i, r := range all {
			fs[i] = trigrams(r.Text)
		}
		for i := range w {
			g.K[i*w+i] = 1
			for j := range i {
				v := cosine(fs[i], fs[j])
				g.K[i*w+j], g.K[j*w+i] = v, v
			}
		}
	}
	return g, nil
}

// UnbiasedMMD is the valid kernel two-sample score of one challenge: half
// the unbiased squared MMD between the reference's and the candidate's
// samples under kernel k (see stats.UnbiasedMMD and MMDGram). Its mean is
// exactly 0 when both sides sample the same model independently, and half
// the squared MMD of the two output distributions otherwise, so a
// tolerance eps on its mean over challenges says: DIFFERENT means that
// mean distance exceeds eps, SAME that it is at most eps (see TokenKernel
// and TextKernel for what the distance is). It lies in
// UnbiasedMMDRange(len(ref), len(cand)) and can be negative: test it with
// seqtest.NewRange over that range. Each side needs at least 2 samples.
func UnbiasedMMD(ref, cand []format.Record, k Kernel) (float64, error) {
	if len(ref) < 2 || len(cand) < 2 {
		return 0, fmt.Errorf("%w: the unbiased mmd needs at least 2 samples a side (%d and %d)", ErrMissing, len(ref), len(cand))
	}
	g, err := MMDGram(ref, cand, k)
	if err != nil {
		return 0, err
	}
	return stats.UnbiasedMMD(g), nil
}

// UnbiasedMMDRange is an interval holding UnbiasedMMD for any challenge
// with at least m reference and n candidate samples, paired or not: the
// range a sequential test of the scores must be told. A challenge with
// more samples has a narrower range, inside this one.
func UnbiasedMMDRange(m, n int) (lo, hi float64) {
	lp, hp := stats.UnbiasedMMDRange(m, n, true)
	lu, hu := stats.UnbiasedMMDRange(m, n, false)
	if m != n {
		return lu, hu
	}
	return min(lp, lu), max(hp, hu)
}

// bySample returns pointers to recs in increasing sample index.
func bySample(recs []format.Record) []*format.Record {
	out := make([]*format.Record, len(recs))
	for i := range recs {
		out[i] = &recs[i]
	}
	slices.SortStableFunc(out, func(a, b *format.Record) int { return cmp.Compare(a.Sample, b.Sample) })
	return out
}

// trigram is one rune trigram packed in 63 bits (21 per rune: every rune
// is below 0x110000) with its weight in the normalised profile.
type trigram struct {
	key uint64
	w   float64
}

// mark frames a text: a value no decoded rune takes.
const mark = 0x1fffff

// trigrams returns the normalised trigram profile of s, sorted by key.
func trigrams(s string) []trigram {
	rs := []rune{mark, mark}
	for len(s) > 0 && len(rs) < MaxTextRunes+2 {
		r, size := utf8.DecodeRuneInString(s)
		rs = append(rs, r)
		s = s[size:]
	}
	rs = append(rs, mark, mark)
	keys := make([]uint64, 0, len(rs)-2)
	for i := 2; i < len(rs); i++ {
		keys = append(keys, uint64(rs[i-2])<<42|uint64(rs[i-1])<<21|uint64(rs[i]))
	}
	slices.Sort(keys)
	var out []trigram
	var norm float64
	for i := 0; i < len(keys); {
		j := i
		for j < len(keys) && keys[j] == keys[i] {
			j++
		}
		c := float64(j - i)
		out = append(out, trigram{keys[i], c})
		norm += c * c
		i = j
	}
	norm = math.Sqrt(norm)
	for i := range out {
		out[i].w /= norm
	}
	return out
}

// cosine is the dot product of two normalised profiles, clamped to [0, 1]
// against rounding.
func cosine(a, b []trigram) float64 {
	var s float64
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i].key < b[j].key:
			i++
		case a[i].key > b[j].key:
			j++
		default:
			s += a[i].w * b[j].w
			i++
			j++
		}
	}
	return min(max(s, 0), 1)
}

// hamming counts the positions l < length where a and b, padded with -1,
// agree.
func hamming(a, b []int32, length int) int {
	la, lb := min(len(a), length), min(len(b), length)
	n := 0
	for l := range min(la, lb) {
		if a[l] == b[l] {
			n++
		}
	}
	// Past the shorter sequence, both are padding where both have ended.
	n += length - max(la, lb)
	// A real token equal to the padding value -1 would also agree there.
	for l := min(la, lb); l < max(la, lb); l++ {
		if (l < la && a[l] == -1) || (l < lb && b[l] == -1) {
			n++
		}
	}
	return n
}
