package compare

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/score"
	"github.com/pot-audit/pot/internal/stats"
)

// Distances is how far two outputs streams of one challenge set are apart,
// taken as distributions: the per-pair scores over the pairs that meet,
// and distances between their outputs as wholes. The JSON names are part
// of potstat --between's interface (see its help text); add fields, never
// rename them.
type Distances struct {
	Ref          string            `json:"ref"`
	Cand         string            `json:"cand"`
	Pairs        int64             `json:"pairs"`
	RefUnmatched int64             `json:"ref_unmatched"`
	Unmatched    int64             `json:"unmatched"`
	Failed       int64             `json:"failed"`
	Compared     int64             `json:"compared"`
	Duplicates   int64             `json:"duplicates"`
	Scores       []scoreSummary    `json:"scores"`
	Skipped      map[string]string `json:"skipped_scores,omitempty"`
	SameVocab    bool              `json:"same_vocab"`
	TokenTV      *float64          `json:"token_tv,omitempty"`
	CharTV       *float64          `json:"char_tv,omitempty"`
	LogprobKS    *float64          `json:"logprob_ks,omitempty"`
	LengthKS     *float64          `json:"length_ks,omitempty"`
	LengthUnit   string            `json:"length_unit"`
	TokensRef    int64             `json:"tokens_ref"`
	TokensCand   int64             `json:"tokens_cand"`
	CharsRef     int64             `json:"chars_ref"`
	CharsCand    int64             `json:"chars_cand"`
	LogprobsRef  int               `json:"logprobs_ref"`
	LogprobsCand int               `json:"logprobs_cand"`
	// Seeds is the inference across seeds, for streams of several samples
	// a challenge; absent otherwise.
	Seeds *Seeds `json:"across_seeds,omitempty"`

	strongest *pairScore // the strongest score kept, nil when none is
	ref, cand *sideStats
	seeds     *seedGroups // nil unless both streams are sampled
}

// scoreSummary is the distribution of one per-pair score.
type scoreSummary struct {
	Name string  `json:"name"`
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
	Q50  float64 `json:"q50"`
	Q90  float64 `json:"q90"`
	Q99  float64 `json:"q99"`
	Max  float64 `json:"max"`
	Zero float64 `json:"zero"`
}

// sideStats gathers one stream's generated positions over the compared
// pairs.
type sideStats struct {
	tokens   map[int32]int64
	chars    map[rune]int64
	ntokens  int64
	nchars   int64
	logprobs []float64
	lengths  []float64
}

func newSideStats() *sideStats {
	return &sideStats{tokens: map[int32]int64{}, chars: map[rune]int64{}}
}

// add counts r's output; lengths are in positions when inTokens, else in
// characters.
func (s *sideStats) add(r *format.Record, inTokens bool) {
	for _, tok := range r.Tokens {
		s.tokens[tok]++
	}
	s.ntokens += int64(len(r.Tokens))
	n := 0
	for _, c := range r.Text {
		s.chars[c]++
		n++
	}
	s.nchars += int64(n)
	for _, lp := range r.Logprobs {
		if !math.IsNaN(float64(lp)) {
			s.logprobs = append(s.logprobs, float64(lp))
		}
	}
	if inTokens {
		s.lengths = append(s.lengths, float64(r.Positions()))
	} else {
		s.lengths = append(s.lengths, float64(utf8.RuneCountInString(r.Text)))
	}
}

// pairScore is a per-pair score being collected; err says why it was
// given up.
type pairScore struct {
	name   string
	fn     score.Func
	values []float64
	err    error
}

// Between measures the distances between two outputs streams of one
// challenge set, refName read by ref and candName by cand (as messages name
// them). Records are joined on their Key; a pair where either record
// failed is counted, not compared. The reference is held in memory, one
// record per key; the candidate is streamed.
func Between(ctx context.Context, refName, candName string, ref, cand *format.Reader) (*Distances, error) {
	hr, hc := ref.First(), cand.First()
	for _, s := range []struct {
		name string
		h    *format.Header
	}{{refName, &hr}, {candName, &hc}} {
		if err := WantOutputs(s.name, s.h); err != nil {
			return nil, err
		}
	}
	if err := SameSet(refName, candName, &hr, &hc); err != nil {
		return nil, err
	}
	rep := &Distances{Ref: refName, Cand: candName, SameVocab: score.SameVocab(&hr, &hc), ref: newSideStats(), cand: newSideStats()}
	scores := pairScores(&hr, &hc)
	if sampled(&hr, &hc) {
		rep.seeds = newSeedGroups(rep.SameVocab)
	}
	held, err := holdRef(ctx, ref, rep)
	if err != nil {
		return nil, err
	}
	if err := joinCand(ctx, cand, held, rep, scores); err != nil {
		return nil, err
	}
	rep.RefUnmatched = int64(len(held))
	rep.fill(scores)
	if rep.seeds != nil && rep.Compared > 0 {
		if rep.Seeds, err = rep.seeds.result(); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// Strongest returns the strongest per-pair score kept and its values, for
// a histogram; "" when no score was kept.
func (rep *Distances) Strongest() (name string, values []float64) {
	if rep.strongest == nil {
		return "", nil
	}
	return rep.strongest.name, rep.strongest.values
}

// Logprobs returns the chosen tokens' log-probabilities of the compared
// pairs, reference then candidate.
func (rep *Distances) Logprobs() (ref, cand []float64) { return rep.ref.logprobs, rep.cand.logprobs }

// pairScores are the per-pair scores --between reports, each given up at
// once when the streams cannot support it.
func pairScores(hA, hB *format.Header) []*pairScore {
	var scores []*pairScore
	for _, name := range score.Names() {
		fn, err := score.ByName(name)
		if err != nil {
			continue // not a per-pair score (mmd, rank)
		}
		scores = append(scores, &pairScore{name: name, fn: fn, err: score.Check(name, hA, hB)})
	}
	return scores
}

// holdRef reads the reference whole, one record per key, the first of
// each.
func holdRef(ctx context.Context, r *format.Reader, rep *Distances) (map[Key]*format.Record, error) {
	held := map[Key]*format.Record{}
	for n := 0; ; n++ {
		if n%cli.CheckEvery == 0 {
			if err := cli.Interrupted(ctx); err != nil {
				return nil, fmt.Errorf("%s: %w after %d records", rep.Ref, err, n)
			}
		}
		rec, err := r.Read()
		if err == io.EOF {
			return held, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rep.Ref, err)
		}
		k := KeyOf(&rec)
		if _, dup := held[k]; dup {
			rep.Duplicates++
			continue
		}
		rec.Prompt = "" // not compared: no need to hold it
		held[k] = &rec
	}
}

// joinCand streams the candidate against the reference records held,
// scoring every pair that meets; what is left in held at the end is only
// in the reference.
func joinCand(ctx context.Context, r *format.Reader, held map[Key]*format.Record, rep *Distances, scores []*pairScore) error {
	sa, sb := rep.ref, rep.cand
	seen := map[Key]bool{}
	for n := 0; ; n++ {
		if n%cli.CheckEvery == 0 {
			if err := cli.Interrupted(ctx); err != nil {
				return fmt.Errorf("%s: %w after %d records", rep.Cand, err, n)
			}
		}
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", rep.Cand, err)
		}
		k := KeyOf(&rec)
		if seen[k] {
			rep.Duplicates++
			continue
		}
		seen[k] = true
		a, ok := held[k]
		if !ok {
			rep.Unmatched++
			continue
		}
		delete(held, k)
		rep.Pairs++
		if a.Err != "" || rec.Err != "" {
			rep.Failed++
			continue
		}
		rep.Compared++
		for _, ps := range scores {
			ps.add(a, &rec)
		}
		sa.add(a, rep.SameVocab)
		sb.add(&rec, rep.SameVocab)
		if rep.seeds != nil {
			rep.seeds.add(a, &rec)
		}
	}
}

// add scores one pair. A pair that lacks what the score needs gives the
// score up, rather than report it on a biased subset.
func (ps *pairScore) add(a, b *format.Record) {
	if ps.err != nil {
		return
	}
	v, err := ps.fn(a, b)
	if err != nil {
		ps.err, ps.values = err, nil
		return
	}
	ps.values = append(ps.values, v)
}

// fill computes the statistics of the report and keeps the strongest
// score.
func (rep *Distances) fill(scores []*pairScore) {
	sa, sb := rep.ref, rep.cand
	var strongest *pairScore
	for _, ps := range scores {
		if ps.err != nil {
			if rep.Skipped == nil {
				rep.Skipped = map[string]string{}
			}
			rep.Skipped[ps.name] = ps.err.Error()
			continue
		}
		if len(ps.values) == 0 {
			continue
		}
		slices.Sort(ps.values)
		s := stats.Summarize(ps.values)
		rep.Scores = append(rep.Scores, scoreSummary{Name: ps.name, N: s.N, Mean: s.Mean, SD: s.SD, Q50: s.Q50, Q90: s.Q90, Q99: s.Q99, Max: s.Max, Zero: s.Zero})
		if strongest == nil {
			strongest = ps
		}
	}
	if rep.Scores == nil {
		rep.Scores = []scoreSummary{} // [] rather than null for scripts
	}
	rep.TokensRef, rep.TokensCand = sa.ntokens, sb.ntokens
	rep.CharsRef, rep.CharsCand = sa.nchars, sb.nchars
	rep.LogprobsRef, rep.LogprobsCand = len(sa.logprobs), len(sb.logprobs)
	rep.LengthUnit = "chars"
	if rep.SameVocab {
		rep.LengthUnit = "tokens"
	}
	rep.strongest = strongest
	if rep.Compared == 0 {
		return
	}
	val := func(v float64) *float64 { return &v }
	if rep.SameVocab {
		rep.TokenTV = val(stats.TV(sa.tokens, sb.tokens))
	}
	rep.CharTV = val(stats.TV(sa.chars, sb.chars))
	slices.Sort(sa.lengths)
	slices.Sort(sb.lengths)
	rep.LengthKS = val(stats.KS(sa.lengths, sb.lengths))
	if len(sa.logprobs) > 0 && len(sb.logprobs) > 0 {
		slices.Sort(sa.logprobs)
		slices.Sort(sb.logprobs)
		rep.LogprobKS = val(stats.KS(sa.logprobs, sb.logprobs))
	}
}

// WriteText prints the distances for a person, aligned.
func (rep *Distances) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	line := func(key, format string, args ...any) {
		fmt.Fprintf(tw, "  %s\t%s\n", key, fmt.Sprintf(format, args...))
	}
	f := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprintf("%.4f", *v)
	}
	fmt.Fprintf(tw, "%s vs %s\n", rep.Ref, rep.Cand)
	line("pairs", "%d joined on challenge id and sample, %d compared", rep.Pairs, rep.Compared)
	line("unpaired", "%d only in %s, %d only in %s", rep.RefUnmatched, rep.Ref, rep.Unmatched, rep.Cand)
	line("skipped", "%d pairs with a failed record, %d duplicate records", rep.Failed, rep.Duplicates)
	if len(rep.Scores) > 0 {
		fmt.Fprintf(tw, "  scores\tname\tmean\tsd\tq50\tq90\tq99\tmax\tzero\n")
		for _, s := range rep.Scores {
			fmt.Fprintf(tw, "  \t%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\n", s.Name, s.Mean, s.SD, s.Q50, s.Q90, s.Q99, s.Max, s.Zero)
		}
	} else {
		line("scores", "none (no pair compared)")
	}
	for _, name := range slices.Sorted(maps.Keys(rep.Skipped)) {
		line("not scored", "%s: %s", name, rep.Skipped[name])
	}
	tokenTV := f(rep.TokenTV)
	if !rep.SameVocab {
		tokenTV = "- (vocabularies differ or are unknown)"
	} else if rep.TokenTV != nil {
		tokenTV += fmt.Sprintf(" (unigrams of %d and %d generated tokens)", rep.TokensRef, rep.TokensCand)
	}
	line("token tv", "%s", tokenTV)
	charTV := f(rep.CharTV)
	if rep.CharTV != nil {
		charTV += fmt.Sprintf(" (unigrams of %d and %d characters)", rep.CharsRef, rep.CharsCand)
	}
	line("char tv", "%s", charTV)
	lpKS := f(rep.LogprobKS)
	if rep.LogprobKS != nil {
		lpKS += fmt.Sprintf(" (%d and %d chosen-token log-probabilities)", rep.LogprobsRef, rep.LogprobsCand)
	}
	line("logprob ks", "%s", lpKS)
	lenKS := f(rep.LengthKS)
	if rep.LengthKS != nil {
		lenKS += fmt.Sprintf(" (output lengths in %s)", rep.LengthUnit)
	}
	line("length ks", "%s", lenKS)
	if rep.Seeds != nil {
		rep.Seeds.writeText(tw)
	}
	return tw.Flush()
}
