package compare

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/seqtest"
)

// labelAltPrefix starts the header labels with which potgen score --alt
// names the alternative models: loglik.alt.1, loglik.alt.2, ..., each in
// the form of LabelLoglikModel, in the order of the records' AltLogliks.
const labelAltPrefix = "loglik.alt."

// LabelLoglikAlt is the label naming alternative i, from 1.
func LabelLoglikAlt(i int) string { return labelAltPrefix + strconv.Itoa(i) }

// IsAltLabel reports whether a header label names an alternative.
func IsAltLabel(k string) bool { return strings.HasPrefix(k, labelAltPrefix) }

// AltNames are the alternatives a scored stream's header names, in order.
func AltNames(h *format.Header) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := h.Labels[LabelLoglikAlt(i)]
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

// lrSetup checks that cand can go through the likelihood-ratio test
// against the substitutes its header names, and returns the test. Its
// outputs must be scored by REF's trusted model, by their own tokens, and
// drawn from that model's raw distribution (temperature 1, neither top-k
// nor top-p): the test's guarantee rests on the trusted model's outputs
// being draws from the very law whose likelihood is computed.
func lrSetup(cfg Config, refName, candName string, ref, cand *format.Header) (*seqtest.LR, error) {
	if err := wantScored("lr", refName, candName, ref, cand); err != nil {
		return nil, err
	}
	alts := AltNames(cand)
	s := cand.Sampling
	switch a, b := ref.Labels[LabelLoglikModel], cand.Labels[LabelLoglikModel]; {
	case cfg.Tolerance > 0:
		return nil, cli.Usagef("--tolerance: --score lr has none (SAME means every named substitute rejected)")
	case a != b:
		return nil, cli.BadInputf("%s and %s were scored by different models (%s %q vs %q): score the candidate with the reference's potgen score --model: %w",
			refName, candName, LabelLoglikModel, a, b, ErrMismatch)
	case cand.Labels[LabelLoglikBy] != "tokens":
		return nil, cli.BadInputf("%s: scored by %s, not by its tokens: the likelihood ratio is valid only on the tokens the model drew (potgen score --by tokens)",
			candName, cand.Labels[LabelLoglikBy])
	case len(alts) == 0:
		return nil, cli.BadInputf("%s: names no alternative model: --score lr needs the candidate through potgen score --alt SPEC", candName)
	case s.Temperature != 1 || s.TopK != 0 || (s.TopP != 0 && s.TopP != 1):
		return nil, cli.BadInputf("%s: sampled at temperature %v, top-k %d, top-p %v: --score lr needs draws from the model itself (potgen --temperature 1, no --top-k or --top-p)",
			candName, s.Temperature, s.TopK, s.TopP)
	}
	t, err := seqtest.NewLR(cfg.Alpha, len(alts))
	if err != nil {
		return nil, cli.Usage(err)
	}
	return t, nil
}

// addLR feeds one candidate output to the likelihood-ratio test: its
// challenge must be in the reference, and each (challenge, sample) counts
// once.
func (c *Comparison) addLR(rec *format.Record) {
	if err := c.join.whole(); err != nil {
		c.fail(err)
		return
	}
	k := KeyOf(rec)
	if _, ok := c.ref().ranked[k.ID]; !ok {
		c.unmatched++
		return
	}
	if c.lrSeen[k] {
		c.dups++
		return
	}
	c.lrSeen[k] = true
	if rec.Err != "" || !rec.Scored || math.IsNaN(rec.Loglik) {
		c.lrFailed(rec)
		return
	}
	if len(rec.AltLogliks) != c.lr.Alts() {
		c.fail(cli.BadInputf("%s: challenge %s sample %d: %d alternative log-likelihoods, but the header names %d alternatives",
			c.cand, rec.ID, rec.Sample, len(rec.AltLogliks), c.lr.Alts()))
		return
	}
	if err := c.lr.Add(rec.Loglik, rec.AltLogliks); err != nil {
		c.fail(cli.BadInput(fmt.Errorf("%s: challenge %s sample %d: %w", c.cand, rec.ID, rec.Sample, err)))
		return
	}
	c.candOK++
	nearest := math.Inf(-1)
	for _, q := range rec.AltLogliks {
		nearest = max(nearest, q)
	}
	c.decide(rec.Loglik-nearest, rec.ID, int64(rec.Sample), false)
}

// lrFailed counts a candidate output with no likelihood: a failure, or an
// output the trusted model could not score. It is held against SAME (see
// seqtest.LR.AddFailure), so that a substitute cannot reach SAME by failing
// where its outputs would show it; with SkipFailures it is skipped.
func (c *Comparison) lrFailed(rec *format.Record) {
	if !c.unscored(rec) {
		return
	}
	c.lr.AddFailure()
	c.decide(0, rec.ID, int64(rec.Sample), true)
}

// lrNotes says what an lr verdict means and which substitutes were
// rejected.
func (c *Comparison) lrNotes(w io.Writer, pfx string) {
	alts := AltNames(&c.candH)
	var rejected, kept []string
	for j, a := range alts {
		if c.lr.Rejected(j) {
			rejected = append(rejected, a)
		} else {
			kept = append(kept, a)
		}
	}
	if len(rejected) > 0 {
		fmt.Fprintf(w, "%ssubstitutes rejected: %s\n", pfx, strings.Join(rejected, " "))
	}
	if len(kept) > 0 {
		fmt.Fprintf(w, "%ssubstitutes not rejected: %s\n", pfx, strings.Join(kept, " "))
	}
	if c.Verdict() == seqtest.Same {
		fmt.Fprintf(w, "%sSAME means the trusted model rather than any of the %d named substitutes; a candidate that is none of them has no guarantee (ask --score rank)\n", pfx, len(alts))
	}
}

// progress is what a comparison reads of its test: the likelihood-ratio
// test, which takes no scores in [0, 1], or the test of the scores.
func (c *Comparison) progress() interface {
	N() int
	Mean() float64
	Bounds() (float64, float64)
	Decision() seqtest.Verdict
} {
	if c.lr != nil {
		return c.lr
	}
	return c.test
}
