package compare

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/seqtest"
	"github.com/pot-audit/pot/internal/streamtest"
)

// mmdRun compares n challenges of k samples a side, each output 4 tokens
// drawn position by position by ref and cand, through a comparison at
// tolerance eps, and returns the verdict.
func mmdRun(t *testing.T, dir string, n, k int, alpha, eps float64, ref, cand func() int32) seqtest.Verdict {
	t.Helper()
	h := streamtest.Header("s", "a", "v")
	h.Sampling.Temperature, h.Sampling.Samples, h.Sampling.MaxTokens = 1, k, 4
	out := func(i int, s uint32, draw func() int32) format.Record {
		r := format.Record{Index: uint64(i), ID: fmt.Sprintf("c%d", i), Sample: s}
		for range 4 {
			r.Tokens = append(r.Tokens, draw())
		}
		return r
	}
	var recs []format.Record
	for i := range n {
		for s := range uint32(k) {
			recs = append(recs, out(i, s, ref))
		}
	}
	r := loadAs(t, streamtest.Write(t, dir, "ref.pot", h, recs), "mmd")
	c, err := New(Config{Alpha: alpha, Tolerance: eps, Score: "mmd", Test: "betting"}, r, "cand", h)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		for s := range uint32(k) {
			rec := out(i, s, cand)
			c.Add(&rec)
		}
		if c.Done() {
			break
		}
	}
	c.Finish(nil)
	if err := c.Err(); err != nil {
		t.Fatal(err)
	}
	return c.Verdict()
}

// The unbiased mmd through potcmp's comparison: the same model sampled
// twice is DIFFERENT no more often than alpha allows at a tolerance just
// above 0 (its mean is exactly 0), and a model whose distance is three
// times the tolerance is DIFFERENT.
func TestMMDValidity(t *testing.T) {
	const runs, n, k, alpha, eps = 100, 150, 4, 0.05, 0.01
	limit := alpha*runs + 3*math.Sqrt(alpha*runs)
	r := rand.New(rand.NewPCG(11, 11))
	model := func(p float64) func() int32 {
		return func() int32 {
			if r.Float64() < p {
				return 1
			}
			return 2 + int32(r.IntN(2))
		}
	}
	wrong := 0
	dir := t.TempDir()
	for range runs {
		if mmdRun(t, dir, n, k, alpha, eps, model(0.5), model(0.5)) == seqtest.Different {
			wrong++
		}
	}
	t.Logf("%d DIFFERENT of %d runs for one model (limit %.1f)", wrong, runs, limit)
	if float64(wrong) > limit {
		t.Errorf("%d DIFFERENT of %d runs for one model, limit %.1f at alpha %v", wrong, runs, limit, alpha)
	}
	// p 0.5 against 0.75: per position (0.25^2 + 2 * 0.125^2) / 2 = 0.047.
	if v := mmdRun(t, dir, 400, k, 0.01, 0.015, model(0.5), model(0.75)); v != seqtest.Different {
		t.Errorf("a model at three times the tolerance: %v", v)
	}
}
