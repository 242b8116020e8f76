package compare

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Result is what a comparison says: the verdict line's fields and, in
// JSON, the whole of it. The JSON names are an interface scripts rely on:
// add fields, never rename them; they are those potstat --between uses for
// the same things (ref, cand, failed, unmatched).
type Result struct {
	Verdict   string  `json:"verdict"`
	N         int     `json:"n"`
	Mean      float64 `json:"mean"`
	Lower     float64 `json:"lower"`
	Upper     float64 `json:"upper"`
	Alpha     float64 `json:"alpha"`
	Tolerance float64 `json:"tolerance"`
	Score     string  `json:"score"`
	Test      string  `json:"test"`
	MaxN      int     `json:"max_n,omitempty"`
	Ref       string  `json:"ref"`
	Cand      string  `json:"cand"`
	RefModel  string  `json:"ref_model"`
	CandModel string  `json:"cand_model"`
	// Stopped says why reading stopped: "decided", "max-n", or "end" of
	// the candidate.
	Stopped string `json:"stopped"`
	Read    int64  `json:"read"` // candidate records read
	// Failed counts pairs skipped because a side is a failure, of which
	// RefFailed on the reference's side.
	Failed    int64 `json:"failed"`
	RefFailed int64 `json:"ref_failed"`
	Unmatched int64 `json:"unmatched"`  // candidate records with no reference record
	Duplicate int64 `json:"duplicates"` // candidate records repeating a (challenge, sample)
	Truncated bool  `json:"truncated"`  // the candidate ended in a damaged or unfinished stream
	// CandError is how the candidate stream failed, when Truncated.
	CandError string `json:"cand_error,omitempty"`
}

// Result sums the comparison up.
func (c *Comparison) Result() Result {
	ref := c.ref()
	r := Result{
		Verdict:   c.Verdict().String(),
		Alpha:     c.cfg.Alpha,
		Tolerance: c.cfg.Tolerance,
		Score:     c.scoreName,
		Test:      c.cfg.Test,
		MaxN:      c.cfg.MaxN,
		Ref:       ref.name,
		Cand:      c.cand,
		RefModel:  ModelName(&ref.header),
		CandModel: ModelName(&c.candH),
		Stopped:   c.stop,
		Read:      c.read,
		Failed:    c.refFailed + c.candFailed,
		RefFailed: c.refFailed,
		Unmatched: c.unmatched,
		Duplicate: c.dups,
	}
	if r.Score == "" {
		r.Score = "none" // auto never saw a pair to choose from
	}
	if c.rankSeen != nil {
		r.Test = "rank" // the rank score has a test of its own
	}
	if c.test != nil {
		r.N, r.Mean = c.test.N(), c.test.Mean()
		r.Lower, r.Upper = c.test.Bounds()
	}
	if c.candErr != nil {
		r.Truncated, r.CandError = true, c.candErr.Error()
	}
	return r
}

// Line is the one-line verdict.
func (r *Result) Line() string {
	return fmt.Sprintf("%s n=%d mean=%.4f bounds=[%.4f,%.4f] score=%s alpha=%g tolerance=%g test=%s ref=%s cand=%s",
		r.Verdict, r.N, r.Mean, r.Lower, r.Upper, r.Score, r.Alpha, r.Tolerance, r.Test, QuoteName(r.Ref), QuoteName(r.Cand))
}

// QuoteName quotes a file name that would not read as one word.
func QuoteName(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"'=") || !strconv.CanBackquote(s) {
		return strconv.Quote(s)
	}
	return s
}

// Notes writes what the verdict line leaves out, a line each prefixed
// with tool: skipped pairs, strangers, and a candidate that did not end
// well.
func (c *Comparison) Notes(w io.Writer, tool string) {
	ref := c.ref()
	pfx := tool + ": " + c.cand + ": "
	if ref.failed > 0 {
		fmt.Fprintf(w, "%s: %s: reference holds %s\n", tool, ref.name, plural(int64(ref.failed), "failed record", "failed records"))
	}
	if ref.dups > 0 {
		fmt.Fprintf(w, "%s: %s: reference repeats %s; the first of each is used\n", tool, ref.name, plural(int64(ref.dups), "record", "records"))
	}
	if e := c.refFailed + c.candFailed; e > 0 {
		fmt.Fprintf(w, "%s%s skipped, not scored (%d failed in the reference, %d in the candidate)\n",
			pfx, plural(e, "pair", "pairs"), c.refFailed, c.candFailed)
	}
	if c.unmatched > 0 {
		fmt.Fprintf(w, "%s%s with no reference record\n", pfx, plural(c.unmatched, "record", "records"))
	}
	if c.dups > 0 {
		fmt.Fprintf(w, "%s%s repeating an earlier (challenge, sample), not scored\n", pfx, plural(c.dups, "record", "records"))
	}
	if g := c.groups; g != nil && len(g.open) > 0 && c.stop == "end" {
		fmt.Fprintf(w, "%s%s without all %d samples, not scored\n", pfx, plural(int64(len(g.open)), "challenge", "challenges"), g.samples)
	}
	if c.groups != nil && c.kernel.String() == "text" {
		fmt.Fprintf(w, "%smmd compared texts (character trigrams): the vocabularies differ or are unknown\n", pfx)
	}
	if c.candErr != nil {
		fmt.Fprintf(w, "%struncated or damaged: %v; verdict from the %d records read before\n", pfx, c.candErr, c.read)
	}
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
