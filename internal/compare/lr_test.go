package compare

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/seqtest"
	"github.com/pot-audit/pot/internal/streamtest"
)

// lrHeader is a candidate's header scored with alts named alternatives.
func lrHeader(alts int) format.Header {
	h := rankHeader(1, 2)
	for i := range alts {
		h.Labels[LabelLoglikAlt(i+1)] = "synth:1,perturb=int8@sha256:00"
	}
	return h
}

// lrRef is a scored reference of n challenges, one sample each, sampled
// as s says (nil: at temperature 1).
func lrRef(t *testing.T, n int, s *format.Sampling) *Reference {
	t.Helper()
	var recs []format.Record
	for i := range n {
		recs = append(recs, scored(i, 0, 1, -1))
	}
	h := rankHeader(1, 1)
	if s != nil {
		h.Sampling = *s
	}
	return loadAs(t, streamtest.Write(t, t.TempDir(), "ref.pot", h, recs), "lr")
}

// twoPoint is a law on two outputs, by the log-probability of the first.
type twoPoint float64

func (m twoPoint) logp(y int) float64 {
	if y == 0 {
		return float64(m)
	}
	return math.Log1p(-math.Exp(float64(m)))
}

// lrCompare runs a comparison of n challenges against the trusted law p
// and one substitute q, the candidate drawing from cand; hide says, for
// an output, whether the candidate fails instead.
func lrCompare(t *testing.T, ref *Reference, n int, p, q, cand twoPoint, r *rand.Rand, hide func(y int) bool) *Comparison {
	t.Helper()
	c, err := New(Config{Alpha: 0.05, Score: "lr", Test: "betting"}, ref, "cand", lrHeader(1))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		y := 1
		if math.Log(r.Float64()) < float64(cand) {
			y = 0
		}
		rec := scored(i, 0, 2, p.logp(y))
		rec.AltLogliks = []float64{q.logp(y)}
		if hide != nil && hide(y) {
			rec.Err, rec.Scored, rec.AltLogliks = "timeout", false, nil
		}
		if c.Add(&rec); c.Done() {
			break
		}
	}
	c.Finish(nil)
	if err := c.Err(); err != nil {
		t.Fatal(err)
	}
	return c
}

// Through a comparison, where the truth is known: the trusted model is
// DIFFERENT and the substitute SAME no more often than alpha allows; a
// substitute failing on the outputs that would show it is never SAME;
// each is told apart.
func TestLRComparison(t *testing.T) {
	const runs, n, alpha = 150, 800, 0.05
	limit := alpha*runs + 3*math.Sqrt(alpha*runs)
	p, q := twoPoint(math.Log(0.5)), twoPoint(math.Log(0.65))
	ref := lrRef(t, n, nil)
	r := rand.New(rand.NewPCG(9, 9))
	var trusted, sub, hiding [3]int
	for range runs {
		trusted[lrCompare(t, ref, n, p, q, p, r, nil).Verdict()]++
		sub[lrCompare(t, ref, n, p, q, q, r, nil).Verdict()]++
		hiding[lrCompare(t, ref, n, p, q, q, r, func(y int) bool { return y == 1 }).Verdict()]++
	}
	t.Logf("trusted %v, substitute %v, hiding substitute %v (undecided, same, different)", trusted, sub, hiding)
	if float64(trusted[seqtest.Different]) > limit || trusted[seqtest.Same] < runs*9/10 {
		t.Errorf("trusted model: %d DIFFERENT (limit %.1f), %d SAME of %d", trusted[seqtest.Different], limit, trusted[seqtest.Same], runs)
	}
	if float64(sub[seqtest.Same]) > limit || sub[seqtest.Different] < runs*9/10 {
		t.Errorf("substitute: %d SAME (limit %.1f), %d DIFFERENT of %d", sub[seqtest.Same], limit, sub[seqtest.Different], runs)
	}
	if hiding[seqtest.Same] != 0 {
		t.Errorf("a substitute failing where it would show: SAME in %d of %d runs", hiding[seqtest.Same], runs)
	}
	c := lrCompare(t, ref, n, p, q, q, r, func(y int) bool { return y == 1 })
	if res := c.Result(); res.Score != "lr" || res.Test != "lr" || res.Failures != "held against SAME" || res.CandFailed == 0 || res.Basis != "loglik:tokens" {
		t.Errorf("result: %+v", res)
	}
}

// What the likelihood-ratio test cannot use is refused or counted.
func TestLRRefuses(t *testing.T) {
	ref := lrRef(t, 10, nil)
	cfg := Config{Alpha: 0.01, Score: "lr", Test: "betting"}
	mod := func(f func(h *format.Header)) format.Header {
		h := lrHeader(2)
		f(&h)
		return h
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		h    format.Header
		want string
	}{
		{"not scored", cfg, mod(func(h *format.Header) { h.Labels = nil }), "not scored by a trusted model"},
		{"no alternatives", cfg, lrHeader(0), "names no alternative model"},
		{"by text", cfg, mod(func(h *format.Header) { h.Labels[LabelLoglikBy] = "text" }), "scored by text, not by its tokens"},
		{"another scorer", cfg, mod(func(h *format.Header) { h.Labels[LabelLoglikModel] = "synth:2@sha256:01" }), "scored by different models"},
		{"cold", cfg, mod(func(h *format.Header) { h.Sampling.Temperature = 0.7 }), "sampled at temperature 0.7"},
		{"top-p", cfg, mod(func(h *format.Header) { h.Sampling.TopP = 0.9 }), "top-p 0.9"},
		{"tolerance", Config{Alpha: 0.01, Tolerance: 0.1, Score: "lr", Test: "betting"}, lrHeader(2), "--score lr has none"},
	} {
		ref := ref
		if tc.h.Sampling != lrHeader(2).Sampling {
			ref = lrRef(t, 10, &tc.h.Sampling) // sampled alike, or the streams would not compare at all
		}
		if _, err := New(tc.cfg, ref, "cand", tc.h); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	for _, skip := range []bool{false, true} {
		cfg := cfg
		cfg.SkipFailures = skip
		c, err := New(cfg, ref, "cand", lrHeader(2))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			rec := scored(i, 0, 2, -1)
			rec.AltLogliks = []float64{-1.5, -2}
			switch i {
			case 0:
				rec.Err, rec.Scored, rec.AltLogliks = "timeout", false, nil
			case 2:
				rec.Scored, rec.AltLogliks = false, nil
			}
			c.Add(&rec)
		}
		again, stranger := scored(3, 0, 2, -1), scored(99, 0, 2, -1)
		again.AltLogliks, stranger.AltLogliks = []float64{-1, -1}, []float64{-1, -1}
		c.Add(&again)
		c.Add(&stranger)
		c.Finish(nil)
		n, how := 4, "held against SAME"
		if skip {
			n, how = 2, "skipped"
		}
		if res := c.Result(); res.N != n || res.CandFailed != 2 || res.Duplicate != 1 || res.Unmatched != 1 || res.Failures != how || c.Err() != nil {
			t.Errorf("skip %v: %+v, %v; want n %d, 2 failed, 1 duplicate, 1 unmatched, failures %q", skip, res, c.Err(), n, how)
		}
	}
	c, _ := New(cfg, ref, "cand", lrHeader(2))
	rec := scored(1, 0, 2, -1)
	rec.AltLogliks = []float64{-1}
	c.Add(&rec)
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "1 alternative log-likelihoods, but the header names 2") {
		t.Errorf("a record short of alternatives: %v", err)
	}
}
