package compare

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/stats"
)

// Seeds is --between's inference across seeds, for two sampled streams of
// several samples a challenge (see stats.Between): per challenge, the
// first-token distributions of the two sides' samples compared by total
// variation, Jensen-Shannon and KL both ways, and the rate of identical
// outputs; each the mean over challenges with a bootstrap interval, and
// beside it what relabelling the two sides gives (the noise floor of these
// plug-in statistics) with a permutation p-value. A small p says the
// distance is not noise.
type Seeds struct {
	Challenges int     `json:"challenges"`
	Skipped    int     `json:"skipped"`
	Level      float64 `json:"level"`
	Resamples  int     `json:"resamples"`
	Smoothing  float64 `json:"kl_smoothing"`
	// FirstToken says what a first token is: "id" under one vocabulary,
	// else "word", the text up to its first space.
	FirstToken string         `json:"first_token"`
	TV         SeedsStat      `json:"tv"`
	JS         SeedsStat      `json:"js_bits"`
	KLAB       SeedsStat      `json:"kl_ref_cand_bits"`
	KLBA       SeedsStat      `json:"kl_cand_ref_bits"`
	Match      SeedsStat      `json:"match"`
	PerID      []SeedsOneInID `json:"per_challenge"`
}

// SeedsStat is one statistic over all challenges: its estimate, interval,
// and (but for Match) its mean under relabelling and permutation p-value.
type SeedsStat struct {
	Est  float64  `json:"est"`
	Lo   float64  `json:"lo"`
	Hi   float64  `json:"hi"`
	Null *float64 `json:"null,omitempty"`
	P    *float64 `json:"p,omitempty"`
}

// SeedsOneInID is one challenge's statistics with intervals over its
// samples (Clopper-Pearson for Match).
type SeedsOneInID struct {
	ID    string   `json:"id"`
	TV    Interval `json:"tv"`
	JS    Interval `json:"js_bits"`
	KLAB  Interval `json:"kl_ref_cand_bits"`
	KLBA  Interval `json:"kl_cand_ref_bits"`
	Match Interval `json:"match"`
}

// Interval is an estimate and its interval, in JSON as [est, lo, hi] with
// null for NaN (a statistic a challenge does not define).
type Interval stats.Interval

// MarshalJSON writes the interval as [est, lo, hi].
func (iv Interval) MarshalJSON() ([]byte, error) {
	b := []byte{'['}
	for i, v := range [3]float64{iv.Est, iv.Lo, iv.Hi} {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b = append(b, "null"...)
			continue
		}
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return append(b, ']'), nil
}

// seedGroups collects the compared pairs of each challenge for Seeds.
type seedGroups struct {
	byID    map[string]int
	ids     []string
	groups  []stats.Group[string]
	byToken bool
}

// sampled reports whether both streams hold several samples a challenge,
// which is what a distribution across seeds needs.
func sampled(a, b *format.Header) bool { return a.Sampling.Samples > 1 && b.Sampling.Samples > 1 }

func newSeedGroups(byToken bool) *seedGroups {
	return &seedGroups{byID: map[string]int{}, byToken: byToken}
}

// add puts one compared pair (a reference and a candidate sample of one
// index) in its challenge's group.
func (g *seedGroups) add(a, b *format.Record) {
	id := joinID(a)
	i, ok := g.byID[id]
	if !ok {
		i = len(g.groups)
		g.byID[id] = i
		g.ids = append(g.ids, id)
		g.groups = append(g.groups, stats.Group[string]{Paired: true})
	}
	gr := &g.groups[i]
	gr.A = append(gr.A, g.first(a))
	gr.B = append(gr.B, g.first(b))
	same := a.Text == b.Text
	if g.byToken {
		same = slicesEqual(a.Tokens, b.Tokens)
	}
	gr.Match = append(gr.Match, same)
}

// first is an output's first token as a key: its id under one vocabulary,
// else its first word; "" for an output that ended at once.
func (g *seedGroups) first(r *format.Record) string {
	if g.byToken {
		if len(r.Tokens) == 0 {
			return ""
		}
		return strconv.Itoa(int(r.Tokens[0]))
	}
	t := strings.TrimLeftFunc(r.Text, unicode.IsSpace)
	if i := strings.IndexFunc(t, unicode.IsSpace); i >= 0 {
		t = t[:i]
	}
	return t
}

func slicesEqual(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// result computes Seeds from the groups, with the default options of
// stats.Between and a fixed seed, so that equal streams give equal output.
func (g *seedGroups) result() (*Seeds, error) {
	o := stats.BetweenOptions{PerChallenge: true, Seed: 1}
	res, err := stats.Between(g.groups, o)
	if err != nil {
		return nil, err
	}
	s := &Seeds{Challenges: res.Challenges, Skipped: res.Skipped, Level: 0.95, Resamples: 1000, Smoothing: 0.5, FirstToken: "word"}
	if g.byToken {
		s.FirstToken = "id"
	}
	stat := func(iv stats.Interval, null, p float64) SeedsStat {
		return SeedsStat{Est: iv.Est, Lo: iv.Lo, Hi: iv.Hi, Null: finite(null), P: finite(p)}
	}
	ov, nu := res.Overall, res.Null
	s.TV, s.JS = stat(ov.TV, nu.TV, nu.PTV), stat(ov.JS, nu.JS, nu.PJS)
	s.KLAB, s.KLBA = stat(ov.KLAB, nu.KLAB, nu.PKLAB), stat(ov.KLBA, nu.KLBA, nu.PKLBA)
	s.Match = SeedsStat{Est: ov.Match.Est, Lo: ov.Match.Lo, Hi: ov.Match.Hi}
	if math.IsNaN(s.Match.Est) {
		s.Match = SeedsStat{} // no challenge had a pair: read Challenges
	}
	for i, d := range res.PerChallenge {
		if len(g.groups[i].A) == 0 {
			continue
		}
		s.PerID = append(s.PerID, SeedsOneInID{ID: g.ids[i], TV: Interval(d.TV), JS: Interval(d.JS),
			KLAB: Interval(d.KLAB), KLBA: Interval(d.KLBA), Match: Interval(d.Match)})
	}
	return s, nil
}

// finite is &v, or nil for NaN, which JSON cannot hold.
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// writeText prints the overall statistics, a line each.
func (s *Seeds) writeText(w io.Writer) {
	fmt.Fprintf(w, "  across seeds\t%d challenges, first token by %s, %.0f%% bootstrap intervals over challenges; null: the same under relabelling\n",
		s.Challenges, s.FirstToken, 100*s.Level)
	for _, l := range []struct {
		name string
		st   SeedsStat
	}{{"first-token tv", s.TV}, {"first-token js", s.JS}, {"kl ref||cand", s.KLAB}, {"kl cand||ref", s.KLBA}} {
		null, p := "-", "-"
		if l.st.Null != nil {
			null = fmt.Sprintf("%.4f", *l.st.Null)
		}
		if l.st.P != nil {
			p = fmt.Sprintf("%.3f", *l.st.P)
		}
		fmt.Fprintf(w, "  %s\t%.4f [%.4f, %.4f]  null %s  p %s\n", l.name, l.st.Est, l.st.Lo, l.st.Hi, null, p)
	}
	fmt.Fprintf(w, "  exact match\t%.4f [%.4f, %.4f]\n", s.Match.Est, s.Match.Lo, s.Match.Hi)
}
