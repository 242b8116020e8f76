package compare

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/seqtest"
	"github.com/pot-audit/pot/internal/streamtest"
)

// rankHeader is a scored stream's header: k samples a challenge at seed.
func rankHeader(k int, seed uint64) format.Header {
	h := streamtest.Header("s", "a", "v")
	h.Sampling.Temperature, h.Sampling.Samples, h.Sampling.Seed = 1, k, seed
	h.Labels = map[string]string{LabelLoglikModel: "synth:1@sha256:00", LabelLoglikBy: "tokens"}
	return h
}

// scored is challenge i's sample s with log-likelihood ll and a seed of
// its own (base, challenge, sample).
func scored(i int, s uint32, base uint64, ll float64) format.Record {
	return format.Record{Index: uint64(i), ID: fmt.Sprintf("ch%05d", i), Sample: s, Seed: base<<40 | uint64(i)<<8 | uint64(s),
		Tokens: []int32{10}, Text: "w10", Loglik: ll, Scored: true}
}

// loadAs loads the reference at path whole, for the score scoreName.
func loadAs(t *testing.T, path, scoreName string) *Reference {
	t.Helper()
	r, err := Load(&cli.Env{Stdout: io.Discard, Stderr: io.Discard}, path, scoreName)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Wait(); err != nil {
		t.Fatal(err)
	}
	return r
}

// rankRun compares a reference of n challenges x m samples with a candidate
// of one sample a challenge, log-likelihoods drawn by draw (ref) and cand,
// and returns the verdict and the comparison.
func rankRun(t *testing.T, dir string, n, m int, alpha, eps float64, ref, cand func() float64) (seqtest.Verdict, *Comparison) {
	t.Helper()
	var recs []format.Record
	for i := range n {
		for s := range uint32(m) {
			recs = append(recs, scored(i, s, 1, ref()))
		}
	}
	r := loadAs(t, streamtest.Write(t, dir, "ref.pot", rankHeader(m, 1), recs), "rank")
	c, err := New(Config{Alpha: alpha, Tolerance: eps, Score: "rank", Test: "betting"}, r, "cand", rankHeader(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		rec := scored(i, 0, 2, cand())
		if c.Add(&rec); c.Done() {
			break
		}
	}
	c.Finish(nil)
	if err := c.Err(); err != nil {
		t.Fatal(err)
	}
	return c.Verdict(), c
}

// The rank test through a comparison, where the truth is known: the same
// model (log-likelihoods from one law, continuous or with many ties) is
// DIFFERENT no more often than alpha allows, and another law is DIFFERENT.
func TestRankValidity(t *testing.T) {
	const runs, n, m, alpha = 150, 250, 4, 0.05
	limit := alpha*runs + 3*math.Sqrt(alpha*runs)
	for _, tc := range []struct {
		name string
		draw func(r *rand.Rand) float64
	}{
		{"continuous", func(r *rand.Rand) float64 { return -10 + r.NormFloat64() }},
		{"ties", func(r *rand.Rand) float64 { return -float64(r.IntN(3)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(len(tc.name))))
			wrong := 0
			dir := t.TempDir()
			for range runs {
				draw := func() float64 { return tc.draw(r) }
				if v, _ := rankRun(t, dir, n, m, alpha, 0.1, draw, draw); v == seqtest.Different {
					wrong++
				}
			}
			t.Logf("%d DIFFERENT of %d runs (limit %.1f)", wrong, runs, limit)
			if float64(wrong) > limit {
				t.Errorf("%d DIFFERENT of %d runs for one model, limit %.1f at alpha %v", wrong, runs, limit, alpha)
			}
		})
	}
	r := rand.New(rand.NewPCG(8, 8))
	v, c := rankRun(t, t.TempDir(), n, m, 0.01, 0.1,
		func() float64 { return -10 + r.NormFloat64() },
		func() float64 { return -9.5 + r.NormFloat64() }) // a likelier candidate: a colder model
	if v != seqtest.Different {
		t.Errorf("a shifted candidate: %v after %d", v, c.Result().N)
	}
	if res := c.Result(); res.Test != "rank" || res.Score != "rank" {
		t.Errorf("result names score %q test %q", res.Score, res.Test)
	}
}

// What the rank test cannot use is refused or counted, never ranked.
func TestRankRefuses(t *testing.T) {
	dir := t.TempDir()
	var recs []format.Record
	for i := range 20 {
		for s := range uint32(3) {
			recs = append(recs, scored(i, s, 1, -float64(s)))
		}
	}
	recs[4].Scored = false // challenge 1 has an unscored sample
	ref := loadAs(t, streamtest.Write(t, dir, "ref.pot", rankHeader(3, 1), recs), "rank")
	cfg := Config{Alpha: 0.01, Tolerance: 0.1, Score: "rank", Test: "betting"}
	unscored := rankHeader(1, 2)
	unscored.Labels = nil
	byText := rankHeader(1, 2)
	byText.Labels = map[string]string{LabelLoglikModel: "synth:1@sha256:00", LabelLoglikBy: "text"}
	for _, tc := range []struct {
		name string
		h    format.Header
		want string
	}{
		{"not scored", unscored, "not scored by a trusted model"},
		{"scored another way", byText, "scored differently"},
		{"same base seed", rankHeader(1, 1), "same base seed"},
		{"several samples", rankHeader(2, 2), "one candidate output a challenge"},
	} {
		_, err := New(cfg, ref, "cand", tc.h)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// A failed or unscored candidate output counts as the worst case, or
	// with SkipFailures is skipped; a reference's is skipped either way.
	for _, skip := range []bool{false, true} {
		cfg := cfg
		cfg.SkipFailures = skip
		c, err := New(cfg, ref, "cand", rankHeader(1, 2))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			rec := scored(i, 0, 2, -1)
			switch i {
			case 0:
				rec.Err = "timeout"
			case 2:
				rec.Scored = false
			}
			c.Add(&rec)
		}
		again := scored(3, 0, 2, -1)
		c.Add(&again)
		c.Finish(nil)
		n, how := 3, "worst rank"
		if skip {
			n, how = 1, "skipped"
		}
		if res := c.Result(); res.N != n || res.Failed != 3 || res.RefFailed != 1 || res.CandFailed != 2 || res.Duplicate != 1 || res.Failures != how {
			t.Errorf("skip %v: scored %d, failed %d (%d in the reference), duplicates %d, failures %q; want %d, 3 (1), 1, %q",
				skip, res.N, res.Failed, res.RefFailed, res.Duplicate, res.Failures, n, how)
		}
	}
	// A candidate sample that reuses a reference sample's seed ties with it.
	c, _ := New(cfg, ref, "cand", rankHeader(1, 2))
	rec := scored(5, 0, 2, -1)
	rec.Seed = recs[5*3+2].Seed
	c.Add(&rec)
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "seed") {
		t.Errorf("a reused seed: %v", err)
	}
}
