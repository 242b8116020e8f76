package compare

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pot-audit/pot/internal/score"
	"github.com/pot-audit/pot/internal/tokens"
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
	// Basis is what the score's matching of tokens rests on: "same
	// digest", "ids checked on N tokens", "asserted by --tokens-by ids",
	// "bytes (why the ids do not compare)", or for text "text".
	Basis     string `json:"basis"`
	Test      string `json:"test"`
	MaxN      int    `json:"max_n,omitempty"`
	Ref       string `json:"ref"`
	Cand      string `json:"cand"`
	RefModel  string `json:"ref_model"`
	CandModel string `json:"cand_model"`
	// Stopped says why reading stopped: "decided", "max-n", "end" of
	// the candidate, or "failing" (its first records all failed).
	Stopped string `json:"stopped"`
	Read    int64  `json:"read"` // candidate records read
	// Failed counts pairs skipped because a side is a failure, of which
	// RefFailed on the reference's side.
	Failed    int64 `json:"failed"`
	RefFailed int64 `json:"ref_failed"`
	// CandFailed counts the candidate's failed records (of pairs whose
	// reference record did not fail), and Failures what was done with
	// them: "scored 1" (each entered the test as the largest distance;
	// for mmd, its challenge did), "worst rank" (rank: each entered the
	// test as the worst case, see seqtest.Rank.AddWorst), or "skipped"
	// (--skip-failures: the guarantee then assumes that failures do not
	// depend on what the model would have answered).
	CandFailed int64  `json:"cand_failed"`
	Failures   string `json:"failures"`
	Unmatched  int64  `json:"unmatched"`  // candidate records with no reference record
	Duplicate  int64  `json:"duplicates"` // candidate records repeating a (challenge, sample)
	Truncated  bool   `json:"truncated"`  // the candidate ended in a damaged or unfinished stream
	// CandError is how the candidate stream failed, when Truncated.
	CandError string `json:"cand_error,omitempty"`
}

// Result sums the comparison up.
func (c *Comparison) Result() Result {
	ref := c.ref()
	r := Result{
		Verdict:    c.Verdict().String(),
		Alpha:      c.cfg.Alpha,
		Tolerance:  c.Tolerance(),
		Score:      c.scoreName,
		Basis:      c.Basis(),
		Test:       c.cfg.Test,
		MaxN:       c.cfg.MaxN,
		Ref:        ref.name,
		Cand:       c.cand,
		RefModel:   ModelName(&ref.header),
		CandModel:  ModelName(&c.candH),
		Stopped:    c.stop,
		Read:       c.read,
		Failed:     c.refFailed + c.candFailed,
		RefFailed:  c.refFailed,
		CandFailed: c.candFailed,
		Failures:   "scored 1",
		Unmatched:  c.unmatched,
		Duplicate:  c.dups,
	}
	if c.cfg.SkipFailures {
		r.Failures = "skipped"
	}
	if r.Score == "" {
		r.Score = "none" // auto never saw a pair to choose from
	}
	if c.rankSeen != nil {
		r.Test = "rank" // the rank score has a test of its own
	}
	if c.rankSeen != nil && !c.cfg.SkipFailures {
		r.Failures = "worst rank" // see seqtest.Rank.AddWorst
	}
	if c.lr != nil {
		r.Test = "lr" // the likelihood-ratio score has a test of its own
		if !c.cfg.SkipFailures {
			r.Failures = "held against SAME" // see seqtest.LR.AddFailure
		}
	}
	if t := c.progress(); t != nil && c.scoreName != "" {
		r.N, r.Mean = t.N(), t.Mean()
		r.Lower, r.Upper = t.Bounds()
	}
	if c.candErr != nil {
		r.Truncated, r.CandError = true, c.candErr.Error()
	}
	return r
}

// Line is the one-line verdict. by= says in a word what the score's
// tokens rest on (digest, ids:N checked, asserted, bytes, text), failed=
// how many candidate records failed, "(skipped)" when they were not scored.
func (r *Result) Line() string {
	failed := strconv.FormatInt(r.CandFailed, 10)
	if r.Failures == "skipped" {
		failed += "(skipped)"
	}
	return fmt.Sprintf("%s n=%d mean=%.4f bounds=[%.4f,%.4f] score=%s by=%s failed=%s alpha=%g tolerance=%g test=%s ref=%s cand=%s",
		r.Verdict, r.N, r.Mean, r.Lower, r.Upper, r.Score, ShortBasis(r.Basis), failed, r.Alpha, r.Tolerance, r.Test, QuoteName(r.Ref), QuoteName(r.Cand))
}

// Basis says what the score's matching of tokens rests on, for Result.
func (c *Comparison) Basis() string {
	sp, ok := score.Lookup(c.scoreName)
	switch {
	case !ok:
		return "none"
	case sp.Ranks || sp.Ratios:
		// The trusted model's log-likelihoods, by the outputs' ids or text.
		return "loglik:" + c.ref().header.Labels[LabelLoglikBy]
	case sp.Sets && c.kernel.String() == "tokens":
		return c.decision.String()
	case !sp.IDs:
		return "text"
	}
	return c.decision.String()
}

// ShortBasis is Result.Basis in a word for the verdict line: digest,
// ids:N, asserted, bytes, text or none.
func ShortBasis(basis string) string {
	var n int
	switch {
	case basis == string(tokens.SameDigest):
		return "digest"
	case basis == string(asserted):
		return "asserted"
	case strings.HasPrefix(basis, string(tokens.ByBytes)):
		return "bytes"
	}
	if _, err := fmt.Sscanf(basis, "ids checked on %d tokens", &n); err == nil {
		return fmt.Sprintf("ids:%d", n)
	}
	return basis
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
	if c.refFailed > 0 {
		fmt.Fprintf(w, "%s%s skipped, not scored: the reference record failed\n", pfx, plural(c.refFailed, "pair", "pairs"))
	}
	switch {
	case c.candFailed == 0:
	case c.calibrating:
		fmt.Fprintf(w, "%s%s skipped: a calibration measures the answers\n", pfx, plural(c.candFailed, "failed record", "failed records"))
	case c.cfg.SkipFailures:
		fmt.Fprintf(w, "%s%s skipped, not scored (--skip-failures): the guarantee assumes that the failures do not depend on what the model would have answered\n",
			pfx, plural(c.candFailed, "failed record", "failed records"))
	case c.rankSeen != nil:
		fmt.Fprintf(w, "%s%s counted as the worst case: against every bound of SAME, and at the rank that raised the evidence most\n",
			pfx, plural(c.candFailed, "failed or unscored output", "failed or unscored outputs"))
	case c.lr != nil:
		fmt.Fprintf(w, "%s%s held against SAME: each halved the evidence against every substitute\n",
			pfx, plural(c.candFailed, "failed or unscored output", "failed or unscored outputs"))
	case c.groups != nil:
		fmt.Fprintf(w, "%s%s: the challenge of each scored 1, the largest distance\n", pfx, plural(c.candFailed, "failed record", "failed records"))
	default:
		fmt.Fprintf(w, "%s%s scored 1, the largest distance\n", pfx, plural(c.candFailed, "failed record", "failed records"))
	}
	// Ids given up on are worth a note; streams of text alone are not.
	if c.decision.Why != "" && c.scoreName != "" && (c.refIDs || c.candIDs || c.by == score.ByBytes) {
		how := ""
		if c.by == score.ByBytes {
			how = " by bytes"
		}
		fmt.Fprintf(w, "%stoken ids not compared (%s): score %s%s\n", pfx, c.decision.Why, c.scoreName, how)
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
	if c.lr != nil {
		c.lrNotes(w, pfx)
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
