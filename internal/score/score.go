// Package score measures how far a candidate model's output is from a
// reference output on the same challenge, as a number in [0, 1] where 0
// means identical. The scores feed the sequential test of potcmp; Choose
// picks the strongest score two streams support.
//
// Scores that compare token ids (tv, prob, tokens, mmd) are meaningful only
// between streams of the same vocabulary; Check and Choose enforce that
// from the headers, since the records alone cannot tell.
package score

import (
	"errors"
	"fmt"
	"math"

	"github.com/pot-audit/pot/format"
)

// Errors returned by the package.
var (
	ErrFailed  = errors.New("score: record is a failure")
	ErrMissing = errors.New("score: record lacks what the score needs")
	ErrVocab   = errors.New("score: token ids of different or unknown vocabularies")
	ErrName    = errors.New("score: unknown score")
)

// Func scores a candidate record against a reference record.
type Func func(ref, cand *format.Record) (float64, error)

// Spec declares what a score needs, so that the tools that load, check and
// trim streams for it ask the score instead of knowing it: a new score is
// a change of this package alone.
type Spec struct {
	Name string
	// Text and Top say whether the score reads a record's text and its
	// top-k alternatives; a reference held for the score drops the rest.
	Text, Top bool
	// IDs says that it compares token ids, which mean the same only under
	// one vocabulary (see Check).
	IDs bool
	// SeedSensitive says that it compares samples one by one, so that two
	// sampled runs of one model agree only when drawn with the same seeds.
	SeedSensitive bool
	// Sets says that it scores the K samples of a challenge together (see
	// UnbiasedMMD), not a pair of records.
	Sets bool
	// Ranks says that it is the rank test's: the candidate's trusted
	// log-likelihood ranked among the reference samples' (see
	// stats.RandomRank), its own test in place of the score's.
	Ranks bool
	// Ratios says that it is the likelihood-ratio test's: the candidate's
	// log-likelihoods under the trusted model and named substitutes
	// (potgen score --alt), its own test in place of the score's, with no
	// tolerance.
	Ratios bool
	// Bytes says that it has a form keyed by token bytes (TVBytes,
	// ProbBytes), for sides whose ids do not compare.
	Bytes bool
	// Tolerance is the default largest mean score still called SAME. The
	// scores measure differences on scales of their own, so each has its
	// own, chosen from measurements on real pairs (README, "Tolerances"):
	// each accepts what it can tell only slowly or not at all from the
	// model itself and rejects what it tells quickly.
	Tolerance float64
}

// Default tolerances, per score (see Spec.Tolerance), from the README's
// measurements (greedy, 24 tokens, top-5, stories260K and its perturbed
// and quantized files, 300 challenges; the quantized files through the
// recorded llama-server answers). Every default accepts the same model
// loaded otherwise (0), f16 and int8 weights, and rejects the 4-bit Q4_0
// file and other weights.
const (
	// TolTV also accepts Q8_0 (0.014), Q6_K (0.020) and Gaussian noise of
	// sigma 0.01 (0.024), f16 being 0.0004 and int8 0.010; it rejects
	// every 4-bit file (Q4_K_M 0.088, IQ4_NL 0.134, Q4_0 0.198).
	TolTV = 0.05
	// TolProb: f16 0.006, int8 0.058; noise 0.107 sits at it, Q4_0 0.21.
	TolProb = 0.1
	// TolTokens: f16 0.011, int8 0.153; noise 0.30, Q4_0 0.63.
	TolTokens = 0.25
	// TolText: f16 0.007, int8 0.098; noise 0.198, Q4_0 0.38, another
	// model (aidreams) 0.81.
	TolText = 0.15
	// TolMMD: the unbiased mmd's mean is exactly 0 for one model, so
	// the tolerance is a distance (see UnbiasedMMD). Measured on
	// stories260K sampled at temperature 1, 16 tokens, 10 samples a side:
	// itself -0.0006, int8 -0.0002, noise 0.01 -0.0008, the tampered
	// checkpoint 0.037, another model (aidreams) 0.067. At 0.05 the
	// tampered file was called SAME (after 349 challenges), so the default
	// is 0.01, which rejects it (DIFFERENT at 37 to 50) and still accepts
	// the others, at the price of some 470 challenges to say SAME.
	TolMMD = 0.01
	// TolRank is a distance of the ranks' distribution function from
	// uniform at the deciles (seqtest.Rank): at 0.05 SAME needs some 2,900
	// challenges, at 0.1 some 700.
	TolRank = 0.1
)

// specs are the scores, strongest first.
func specs() [7]Spec {
	return [...]Spec{
		{Name: "tv", Top: true, IDs: true, Bytes: true, Tolerance: TolTV},
		{Name: "prob", IDs: true, SeedSensitive: true, Bytes: true, Tolerance: TolProb},
		{Name: "tokens", IDs: true, SeedSensitive: true, Tolerance: TolTokens},
		{Name: "text", Text: true, SeedSensitive: true, Tolerance: TolText},
		// mmd compares token ids under one vocabulary and texts otherwise
		// (compare picks its kernel from the headers), so it keeps both.
		{Name: "mmd", Text: true, Sets: true, Tolerance: TolMMD},
		{Name: "rank", Ranks: true, Tolerance: TolRank},
		{Name: "lr", Ratios: true},
	}
}

// Names lists the scores, strongest first; "auto" is not one of them but a
// request for Choose.
func Names() []string {
	all := specs()
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.Name
	}
	return names
}

// Lookup returns the declaration of the score called name.
func Lookup(name string) (Spec, bool) {
	for _, s := range specs() {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
}

// ByName returns the per-record score called name. mmd compares sets of
// samples, not a pair of records: use UnbiasedMMD.
func ByName(name string) (Func, error) {
	switch name {
	case "tv":
		return TV, nil
	case "prob":
		return Prob, nil
	case "tokens":
		return Tokens, nil
	case "text":
		return Text, nil
	case "mmd":
		return nil, fmt.Errorf("%w %q for a pair of records: it scores sample sets (see UnbiasedMMD)", ErrName, name)
	case "rank":
		return nil, fmt.Errorf("%w %q for a pair of records: it ranks a log-likelihood among a challenge's samples (see stats.RandomRank)", ErrName, name)
	case "lr":
		return nil, fmt.Errorf("%w %q for a pair of records: it weighs log-likelihoods under named models (see seqtest.LR)", ErrName, name)
	}
	return nil, fmt.Errorf("%w %q", ErrName, name)
}

// SameVocab reports whether token ids of the two streams can be compared:
// both headers name a vocabulary digest and the digests are equal. An
// unknown vocabulary (a server that does not say) is never assumed equal.
func SameVocab(ref, cand *format.Header) bool {
	return ref.Model.Vocab != "" && ref.Model.Vocab == cand.Model.Vocab
}

// Check returns an error wrapping ErrVocab when the score called name
// compares token ids and the two streams' vocabularies are not the same,
// and ErrName for an unknown name.
func Check(name string, ref, cand *format.Header) error {
	s, ok := Lookup(name)
	if !ok {
		return fmt.Errorf("%w %q", ErrName, name)
	}
	if s.IDs && !SameVocab(ref, cand) {
		return fmt.Errorf("%w: %s compares token ids (vocab %q vs %q); use text", ErrVocab, name, ref.Model.Vocab, cand.Model.Vocab)
	}
	return nil
}

// Choose returns the name of the strongest per-record score that both
// streams support, judged from their headers and one pair of successful,
// non-empty records: tv when both carry token ids and top-k alternatives
// under the same vocabulary, else prob when both carry token ids and
// log-probabilities, else tokens when both carry token ids, else text.
func Choose(refH, candH *format.Header, ref, cand *format.Record) string {
	if !SameVocab(refH, candH) {
		return "text"
	}
	return Pick(ByID, ref, cand)
}

// hasIDs, hasLogprobs and hasTop say what a non-empty record carries,
// consistently with what the scores ask of it.
func hasIDs(r *format.Record) bool {
	return r.Err == "" && len(r.Tokens) > 0 && idsOK(r)
}

func hasLogprobs(r *format.Record) bool { return hasIDs(r) && logprobsOK(r) }

func hasTop(r *format.Record) bool { return hasIDs(r) && r.TopK > 0 && topOK(r) }

// idsOK, logprobsOK and topOK check the shape a score relies on; an empty
// record (nothing generated) passes them all. A record with text but no
// positions is not empty: its backend gave no tokens.
func idsOK(r *format.Record) bool {
	return len(r.Tokens) == r.Positions() && (len(r.Tokens) > 0 || r.Text == "")
}

func logprobsOK(r *format.Record) bool { return len(r.Logprobs) == len(r.Tokens) }

func topOK(r *format.Record) bool {
	n := len(r.Tokens)
	return r.TopK >= 0 && len(r.TopTokens) == len(r.TopLogprobs) &&
		(n == 0 || r.TopK > 0 && len(r.TopTokens) == r.TopK*n)
}

// usable returns ErrFailed for a failed record on either side: a failure
// has no output to score, and the caller must count it, not score it.
func usable(ref, cand *format.Record) error {
	if ref.Err != "" {
		return fmt.Errorf("%w: reference: %s", ErrFailed, ref.Err)
	}
	if cand.Err != "" {
		return fmt.Errorf("%w: candidate: %s", ErrFailed, cand.Err)
	}
	return nil
}

// prob turns a log-probability into a probability in [0, 1], reading NaN
// as 0 and positive values (rounding, or a hostile stream) as 1, so that no
// input can push a score out of [0, 1].
func prob(lp float32) float64 {
	if !(lp <= 0) {
		if lp > 0 {
			return 1
		}
		return 0
	}
	return math.Exp(float64(lp))
}

// divergence returns the first position where the chosen tokens differ, or
// where one output has ended and the other goes on; it returns
// min(len)=len(a) when the outputs are identical.
func divergence(a, b []int32) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
