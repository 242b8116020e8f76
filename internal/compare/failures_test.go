package compare

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/seqtest"
	"github.com/pot-audit/pot/internal/streamtest"
)

// The evasive candidates below are another model on a fraction d of the
// challenges and fail exactly there: what they answer is the trusted
// model's, so with their failures skipped they look like it, although the
// distance over everything they were asked is beyond the tolerance. The
// failures counted as the worst case, SAME must come no more often than
// alpha allows; skipped, it comes in most runs (so the first check could
// fail). As TestEvasiveCandidate does for the scores of one pair.
const (
	evasiveRuns  = 60
	evasiveAlpha = 0.05
)

// evasiveBound is what Binomial(evasiveRuns, evasiveAlpha) exceeds with
// probability below 1e-3.
func evasiveBound() int {
	return int(evasiveAlpha*evasiveRuns + 3.1*math.Sqrt(evasiveRuns*evasiveAlpha*(1-evasiveAlpha)))
}

// evasion runs the evasive candidate of run for each way of treating
// failures and counts the SAME verdicts: add feeds the comparison the
// candidate's records of challenge i, failing them when fail says so.
func evasion(t *testing.T, ref *Reference, cfg Config, h format.Header, n int, d float64,
	add func(c *Comparison, r *rand.Rand, i int, fail bool)) (same, skippedSame int) {
	t.Helper()
	for run := range evasiveRuns {
		for _, skip := range []bool{false, true} {
			r := rand.New(rand.NewPCG(uint64(run), uint64(d*1000)))
			cfg := cfg
			cfg.SkipFailures = skip
			c, err := New(cfg, ref, "cand", h)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < n && !c.Done(); i++ {
				add(c, r, i, r.Float64() < d)
			}
			c.Finish(nil)
			if err := c.Err(); err != nil {
				if strings.Contains(err.Error(), "no successful record") {
					continue // decided on failures alone: trouble, not SAME
				}
				t.Fatal(err)
			}
			res := c.Result()
			line := res.Line()
			if res.CandFailed > 0 && !strings.Contains(line, fmt.Sprintf(" failed=%d", res.CandFailed)) {
				t.Fatalf("the line does not count the failures: %s", line)
			}
			if c.Verdict() != seqtest.Same {
				continue
			}
			if skip {
				skippedSame++
				if !strings.Contains(line, "(skipped) ") || res.Failures != "skipped" {
					t.Fatalf("a verdict with failures skipped does not say so: %s", line)
				}
			} else {
				same++
			}
		}
	}
	return same, skippedSame
}

// checkEvasion checks the SAME counts of evasion: at most what alpha
// allows with the failures counted, most runs with them skipped.
func checkEvasion(t *testing.T, what string, same, skipped int) {
	t.Helper()
	t.Logf("%s: SAME %d of %d runs with failures counted against the candidate (bound %d); %d with them skipped",
		what, same, evasiveRuns, evasiveBound(), skipped)
	if same > evasiveBound() {
		t.Errorf("SAME %d times in %d runs, more than alpha allows (%d)", same, evasiveRuns, evasiveBound())
	}
	if skipped < evasiveRuns/2 {
		t.Errorf("with failures skipped SAME only %d of %d times: the evasion is not what it says", skipped, evasiveRuns)
	}
}

func TestEvasiveRank(t *testing.T) {
	const n, m, tol = 1500, 4, 0.15
	r := rand.New(rand.NewPCG(3, 3))
	var recs []format.Record
	for i := range n {
		for s := range uint32(m) {
			recs = append(recs, scored(i, s, 1, -10+r.NormFloat64()))
		}
	}
	ref := loadAs(t, streamtest.Write(t, t.TempDir(), "ref.pot", rankHeader(m, 1), recs), "rank")
	cfg := Config{Alpha: evasiveAlpha, Tolerance: tol, Score: "rank", Test: "betting"}
	// Where it would differ, its output would be far likelier than the
	// trusted model's own (rank 1, a colder model): F(0.9) = 0.9 (1 - d),
	// a distance of 0.9 d, beyond the tolerance for both d.
	for _, d := range []float64{0.2, 0.5} {
		t.Run(fmt.Sprintf("d=%g", d), func(t *testing.T) {
			same, skipped := evasion(t, ref, cfg, rankHeader(1, 2), n, d, func(c *Comparison, r *rand.Rand, i int, fail bool) {
				rec := scored(i, 0, 2, -10+r.NormFloat64())
				if fail {
					rec = format.Record{Index: rec.Index, ID: rec.ID, Seed: rec.Seed, Finish: "error", Err: "timeout"}
				}
				c.Add(&rec)
			})
			checkEvasion(t, "rank d="+fmt.Sprint(d), same, skipped)
		})
	}
}

func TestEvasiveMMD(t *testing.T) {
	const n, k, tol = 800, 4, 0.05
	h := streamtest.Header("s", "a", "v")
	h.Sampling.Temperature, h.Sampling.Samples, h.Sampling.MaxTokens = 1, k, 4
	// The trusted model draws each of 4 tokens as 1 with probability 1/2,
	// else 2 or 3; where the candidate would differ it says 1 always: an
	// mmd of (1/4 + 2/16) / 2 = 0.1875 there, 0.1875 d over all, beyond the
	// tolerance for both d.
	out := func(r *rand.Rand, i int, s uint32) format.Record {
		rec := format.Record{Index: uint64(i), ID: fmt.Sprintf("c%d", i), Sample: s}
		for range 4 {
			tok := int32(1)
			if r.Float64() >= 0.5 {
				tok = 2 + int32(r.IntN(2))
			}
			rec.Tokens = append(rec.Tokens, tok)
		}
		return rec
	}
	r := rand.New(rand.NewPCG(5, 5))
	var recs []format.Record
	for i := range n {
		for s := range uint32(k) {
			recs = append(recs, out(r, i, s))
		}
	}
	ref := loadAs(t, streamtest.Write(t, t.TempDir(), "ref.pot", h, recs), "mmd")
	cfg := Config{Alpha: evasiveAlpha, Tolerance: tol, Score: "mmd", Test: "betting"}
	for _, d := range []float64{0.3, 0.5} {
		t.Run(fmt.Sprintf("d=%g", d), func(t *testing.T) {
			same, skipped := evasion(t, ref, cfg, h, n, d, func(c *Comparison, r *rand.Rand, i int, fail bool) {
				for s := range uint32(k) {
					rec := out(r, i, s)
					if fail && s == k-1 {
						// One failed sample is enough to hide the challenge.
						rec = format.Record{Index: rec.Index, ID: rec.ID, Sample: s, Finish: "error", Err: "timeout"}
					}
					c.Add(&rec)
				}
			})
			checkEvasion(t, "mmd d="+fmt.Sprint(d), same, skipped)
		})
	}
}
