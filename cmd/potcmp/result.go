package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pot-audit/pot/internal/cli"
)

// result is what potcmp says of one comparison: the verdict line's fields
// and, in JSON, the whole of it.
type result struct {
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
	// Errors counts pairs skipped because a side is a failure, of which
	// RefErrors on the reference's side.
	Errors    int64 `json:"errors"`
	RefErrors int64 `json:"ref_errors"`
	Unmatched int64 `json:"unmatched"`  // candidate records with no reference record
	Duplicate int64 `json:"duplicates"` // candidate records repeating a (challenge, sample)
	Truncated bool  `json:"truncated"`  // the candidate ended in a damaged or unfinished stream
	// CandError is how the candidate stream failed, when Truncated.
	CandError string `json:"cand_error,omitempty"`
}

func (c *comparison) result() result {
	r := result{
		Verdict:   c.verdict().String(),
		Alpha:     c.o.alpha,
		Tolerance: c.o.tolerance,
		Score:     c.scoreName,
		Test:      c.o.test,
		MaxN:      c.o.maxN,
		Ref:       c.ref.name,
		Cand:      c.cand,
		RefModel:  modelName(&c.ref.header),
		CandModel: modelName(&c.candH),
		Stopped:   c.stop,
		Read:      c.read,
		Errors:    c.refFailed + c.candFailed,
		RefErrors: c.refFailed,
		Unmatched: c.unmatched,
		Duplicate: c.dups,
	}
	if r.Score == "" {
		r.Score = "none" // auto never saw a pair to choose from
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

// line is the one-line verdict.
func (r *result) line() string {
	return fmt.Sprintf("%s n=%d mean=%.4f bounds=[%.4f,%.4f] score=%s alpha=%g tolerance=%g test=%s ref=%s cand=%s",
		r.Verdict, r.N, r.Mean, r.Lower, r.Upper, r.Score, r.Alpha, r.Tolerance, r.Test, quoteName(r.Ref), quoteName(r.Cand))
}

// quoteName quotes a file name that would not read as one word.
func quoteName(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"'=") || !strconv.CanBackquote(s) {
		return strconv.Quote(s)
	}
	return s
}

// notes tells stderr what the verdict line leaves out: skipped pairs,
// strangers, and a candidate that did not end well.
func (c *comparison) notes(w io.Writer) {
	pfx := "potcmp: " + c.cand + ": "
	if c.ref.failed > 0 {
		fmt.Fprintf(w, "potcmp: %s: reference holds %s\n", c.ref.name, plural(int64(c.ref.failed), "failed record", "failed records"))
	}
	if c.ref.dups > 0 {
		fmt.Fprintf(w, "potcmp: %s: reference repeats %s; the first of each is used\n", c.ref.name, plural(int64(c.ref.dups), "record", "records"))
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
	if n := len(c.groups); n > 0 && c.stop == "end" {
		fmt.Fprintf(w, "%s%s without all %d samples, not scored\n", pfx, plural(int64(n), "challenge", "challenges"), c.samples)
	}
	if c.candErr != nil {
		fmt.Fprintf(w, "%struncated or damaged: %v; verdict from the %d records read before\n", pfx, c.candErr, c.read)
	}
}

// transcript writes one JSON line per scored observation and the verdict
// last, so that the audit can be re-run from the scores alone.
type transcript struct {
	out   *cli.Output
	enc   *json.Encoder
	names bool // several comparisons share the file: say which
}

type observation struct {
	Ref    string  `json:"ref,omitempty"`
	Cand   string  `json:"cand,omitempty"`
	N      int     `json:"n"`
	ID     string  `json:"id"`
	Sample *int64  `json:"sample,omitempty"` // absent for mmd, which scores all samples of a challenge
	Score  float64 `json:"score"`
	Mean   float64 `json:"mean"`
	Lower  float64 `json:"lower"`
	Upper  float64 `json:"upper"`
}

func newTranscript(env *cli.Env, name string, inputs []string, several bool) (*transcript, error) {
	if name == "" {
		return nil, nil
	}
	out, err := env.Create(name, cli.OutputOptions{Inputs: inputs})
	if err != nil {
		return nil, err
	}
	return &transcript{out: out, enc: newJSON(out), names: several}, nil
}

func (t *transcript) observation(c *comparison, id string, sample int64, x float64) error {
	o := observation{N: c.test.N(), ID: id, Score: x, Mean: c.test.Mean()}
	if sample >= 0 {
		o.Sample = &sample
	}
	o.Lower, o.Upper = c.test.Bounds()
	if t.names {
		o.Ref, o.Cand = c.ref.name, c.cand
	}
	return t.write(o)
}

func (t *transcript) write(v any) error {
	if err := t.enc.Encode(v); err != nil {
		return fmt.Errorf("transcript %s: %w", t.out.Name, err)
	}
	return nil
}

// commit writes the file whole; abort drops it. Both accept a nil transcript.
func (t *transcript) commit() error {
	if t == nil {
		return nil
	}
	return t.out.Commit()
}

func (t *transcript) abort() {
	if t != nil {
		t.out.Abort()
	}
}

// newJSON is an encoder that writes file names such as <stdin> as they are.
func newJSON(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}
