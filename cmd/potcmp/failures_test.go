package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/streamtest"
)

// An evasive candidate fails (HTTP 400, say) on exactly the challenges
// where it would answer differently from the reference, on a fraction d of
// them: skipping its failures would let it choose which challenges count
// and pass as SAME. Scored as the largest distance, the failures give the
// test the mean it would have seen had the candidate answered (d, above the
// tolerance), and over many seeded runs SAME comes no more often than
// alpha. With --skip-failures the evasion works, which is what that
// option's verdict warns of.
func TestEvasiveCandidate(t *testing.T) {
	const (
		n     = 300
		runs  = 60
		alpha = 0.05
		tol   = 0.05
	)
	dir := t.TempDir()
	ref := streamtest.Write(t, dir, "ref.pot", streamtest.Header("s", "ref", "v"), streamtest.Records(n, streamtest.Same))
	// Binomial(runs, alpha) exceeds this with probability below 1e-3.
	bound := int(alpha*runs + 3.1*math.Sqrt(runs*alpha*(1-alpha)))
	for _, d := range []float64{0.06, 0.1, 0.25, 0.5} {
		t.Run(fmt.Sprintf("d=%g", d), func(t *testing.T) {
			same, skippedSame, sawLine := 0, 0, false
			for run := range runs {
				rng := rand.New(rand.NewPCG(uint64(run), uint64(d*1000)))
				recs := streamtest.Records(n, streamtest.Same)
				failed := 0
				for i := range recs {
					if rng.Float64() < d {
						recs[i] = format.Record{Index: recs[i].Index, ID: recs[i].ID, Finish: "error", Attempts: 6,
							Err: "openai: POST /v1/completions: 400 Bad Request"}
						failed++
					}
				}
				cand := streamtest.Write(t, dir, fmt.Sprintf("cand-%g-%d.pot", d, run), streamtest.Header("s", "evasive", "v"), recs)
				args := []string{"--alpha", fmt.Sprint(alpha), "--tolerance", fmt.Sprint(tol), ref, cand}
				code, out, errs := potcmp(t, nil, args...)
				if code == exitTrouble {
					t.Fatalf("exit %d: %s", code, errs)
				}
				if strings.HasPrefix(out, "SAME ") {
					same++
				}
				// The line says how many failed, counted as far as read.
				if strings.Contains(out, " failed=") && !strings.Contains(out, " failed=0 ") && failed > 0 {
					sawLine = true
				}
				code, out, _ = potcmp(t, nil, append([]string{"--skip-failures"}, args...)...)
				if strings.HasPrefix(out, "SAME ") {
					skippedSame++
					if !strings.Contains(out, "(skipped) ") {
						t.Fatalf("--skip-failures verdict does not say so: %s", out)
					}
				}
			}
			t.Logf("d=%g: SAME %d of %d runs with failures scored 1 (bound %d at alpha %g); %d of %d with them skipped",
				d, same, runs, bound, alpha, skippedSame, runs)
			if same > bound {
				t.Errorf("SAME %d times in %d runs, more than alpha allows (%d)", same, runs, bound)
			}
			if !sawLine {
				t.Error("no verdict line showed its failures")
			}
			// The evasion works when failures are skipped: the test above
			// could fail.
			if skippedSame < runs/2 {
				t.Errorf("with --skip-failures SAME only %d of %d times: the evasion is not what it says", skippedSame, runs)
			}
		})
	}
}

// A candidate whose every record failed (an endpoint that refuses every
// query) is trouble, in one line naming the first failure, whether its
// stream ended well or broke off.
func TestAllFailed(t *testing.T) {
	dir := t.TempDir()
	ref := streamtest.Write(t, dir, "ref.pot", streamtest.Header("s", "ref", "v"), streamtest.Records(20, streamtest.Same))
	recs := streamtest.Records(7, streamtest.Same)
	for i := range recs {
		recs[i] = format.Record{Index: recs[i].Index, ID: recs[i].ID, Finish: "error",
			Err: "openai: POST http://127.0.0.1:9/v1/completions: connection refused after 6 attempts"}
	}
	whole := streamtest.Encode(t, streamtest.Header("s", "dead", "v"), recs)
	for _, tc := range []struct {
		name string
		data []byte
		args []string
	}{
		{"whole", whole, nil},
		{"broken off", whole[:len(whole)-12], nil},
		{"skipped", whole, []string{"--skip-failures"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cand := streamtest.File(t, dir, strings.ReplaceAll(tc.name, " ", "-")+".pot", tc.data)
			code, out, errs := potcmp(t, nil, append(tc.args, ref, cand)...)
			if code != exitTrouble || out != "" || strings.Count(errs, "\n") != 1 ||
				!strings.Contains(errs, "no successful record") || !strings.Contains(errs, "connection refused") {
				t.Errorf("exit %d stdout %q stderr %q: want 2, one line naming the failure", code, out, errs)
			}
		})
	}
}
