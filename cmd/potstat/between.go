package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/score"
	"github.com/pot-audit/pot/internal/stats"
)

// betweenReport is what --between says of two streams. The JSON names are
// part of the interface (see the help text); add fields, never rename them.
type betweenReport struct {
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

// checkPlot refuses a plot file that is not SVG, before any input is read.
func checkPlot(name string) error {
	if !strings.EqualFold(filepath.Ext(name), ".svg") {
		return cli.Usagef("--plot %s: only .svg is supported", name)
	}
	return nil
}

// openOutputs opens name as an outputs stream and returns its reader.
func (t *tool) openOutputs(name string) (*cli.Input, *format.Reader, error) {
	in, err := t.env.Open(name)
	if err != nil {
		return nil, nil, err
	}
	r, err := format.NewReader(in, t.opts...)
	if err != nil {
		in.Close()
		return nil, nil, streamError(in, err)
	}
	h := r.First()
	if err := compare.WantOutputs(in.Name, &h); err != nil {
		r.Close()
		in.Close()
		return nil, nil, err
	}
	return in, r, nil
}

// between compares two outputs streams. A is held in memory (one record
// per challenge and sample); B is streamed and joined against it.
func (t *tool) between(nameA, nameB, plot string, asJSON bool) error {
	if (nameA == "-" || nameA == "") && (nameB == "-" || nameB == "") {
		return cli.Usagef("--between: only one of the two streams can be standard input")
	}
	inA, ra, err := t.openOutputs(nameA)
	if err != nil {
		return err
	}
	defer inA.Close()
	defer ra.Close()
	inB, rb, err := t.openOutputs(nameB)
	if err != nil {
		return err
	}
	defer inB.Close()
	defer rb.Close()
	hA, hB := ra.First(), rb.First()
	if err := compare.SameSet(inA.Name, inB.Name, &hA, &hB); err != nil {
		return err
	}

	rep := &betweenReport{Ref: inA.Name, Cand: inB.Name, SameVocab: score.SameVocab(&hA, &hB)}
	scores := pairScores(&hA, &hB)
	held, err := holdA(inA, ra, rep)
	if err != nil {
		return err
	}
	sa, sb := newSideStats(), newSideStats()
	if err := joinB(inB, rb, held, rep, scores, sa, sb); err != nil {
		return err
	}
	rep.RefUnmatched = int64(len(held))

	strongest := rep.fill(scores, sa, sb)
	if plot != "" {
		if err := t.writePlot(plot, rep, strongest, sa, sb); err != nil {
			return err
		}
	}
	if asJSON {
		if err := cli.NewJSON(t.out).Encode(rep); err != nil {
			return writeFailed(err)
		}
		return nil
	}
	if err := rep.writeText(t.out); err != nil {
		return writeFailed(err)
	}
	return nil
}

// pairScores are the per-pair scores --between reports, each given up at
// once when the streams cannot support it.
func pairScores(hA, hB *format.Header) []*pairScore {
	var scores []*pairScore
	for _, name := range score.Names() {
		fn, err := score.ByName(name)
		if err != nil {
			continue // not a per-pair score (mmd)
		}
		scores = append(scores, &pairScore{name: name, fn: fn, err: score.Check(name, hA, hB)})
	}
	return scores
}

// holdA reads stream A whole, one record per key, the first of each.
func holdA(in *cli.Input, r *format.Reader, rep *betweenReport) (map[compare.Key]*format.Record, error) {
	held := map[compare.Key]*format.Record{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return held, nil
		}
		if err != nil {
			return nil, streamError(in, err)
		}
		k := compare.KeyOf(&rec)
		if _, dup := held[k]; dup {
			rep.Duplicates++
			continue
		}
		rec.Prompt = "" // not compared: no need to hold it
		held[k] = &rec
	}
}

// joinB streams B against the records of A held, scoring every pair that
// meets; what is left in held at the end is only in A.
func joinB(in *cli.Input, r *format.Reader, held map[compare.Key]*format.Record, rep *betweenReport, scores []*pairScore, sa, sb *sideStats) error {
	seen := map[compare.Key]bool{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return streamError(in, err)
		}
		k := compare.KeyOf(&rec)
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

// fill computes the statistics of the report and returns the strongest
// score kept, nil when none is.
func (rep *betweenReport) fill(scores []*pairScore, sa, sb *sideStats) *pairScore {
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
	if rep.Compared == 0 {
		return strongest
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
	return strongest
}

// writePlot writes the SVG histograms: the strongest score's per-pair
// values, and the chosen-token log-probabilities of A and B. The file is
// written whole or not at all.
func (t *tool) writePlot(name string, rep *betweenReport, strongest *pairScore, sa, sb *sideStats) error {
	scoreHist := stats.Histogram{Title: "per-pair score: none compared", XLabel: "score (0: identical)", Min: 0, Max: 1}
	if strongest != nil {
		scoreHist.Title = fmt.Sprintf("per-pair score %s, %s vs %s", strongest.name, rep.Ref, rep.Cand)
		scoreHist.Series = []stats.Series{{Name: strongest.name, Values: strongest.values}}
	}
	lpHist := stats.Histogram{Title: "chosen-token log-probabilities", XLabel: "log-probability",
		Series: []stats.Series{{Name: rep.Ref, Values: sa.logprobs}, {Name: rep.Cand, Values: sb.logprobs}}}
	out, err := t.env.Create(name, cli.OutputOptions{Inputs: []string{rep.Ref, rep.Cand}})
	if err != nil {
		return err
	}
	if err := stats.WriteSVG(out, scoreHist, lpHist); err != nil {
		out.Abort()
		return cli.WithStatus(cli.ExitFailure, fmt.Errorf("%s: %w", name, err))
	}
	if err := out.Commit(); err != nil {
		return cli.WithStatus(cli.ExitFailure, err)
	}
	return nil
}

// writeText prints the report for a person, aligned.
func (rep *betweenReport) writeText(w io.Writer) error {
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
	return tw.Flush()
}
