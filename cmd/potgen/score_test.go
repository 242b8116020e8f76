package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/streamtest"
)

// potgen score adds to each output the log-likelihood the model gave it
// while generating: teacher forcing on the model's own tokens gives back
// the log-probabilities it reported. By text, every output is scored too,
// and the header says how.
func TestScore(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	in := filepath.Join(dir, "in.pot")
	if r := potgen(t, "--model", "synth:1", "--key", key, "-n", "6", "--samples", "2", "--temperature", "1", "--max-tokens", "6", "-o", in); r.code != 0 {
		t.Fatalf("potgen: %+v", r)
	}
	_, raw := readFile(t, in)
	for _, by := range []string{"tokens", "text"} {
		out := filepath.Join(dir, by+".pot")
		if r := potgen(t, "score", "--model", "synth:1", "--by", by, "-o", out, in); r.code != 0 || r.stderr != "" {
			t.Fatalf("potgen score --by %s: %+v", by, r)
		}
		// A scored stream is not replaced unless --force says so.
		if r := potgen(t, "score", "--model", "synth:1", "--by", by, "-o", out, in); r.code != 2 || !strings.Contains(r.stderr, "refusing to replace it (--force replaces it)\n") {
			t.Fatalf("potgen score over %s: %+v", out, r)
		}
		if r := potgen(t, "score", "--model", "synth:1", "--by", by, "--force", "-o", out, in); r.code != 0 {
			t.Fatalf("potgen score --force: %+v", r)
		}
		hs, recs := readFile(t, out)
		if got := hs[0].Labels[compare.LabelLoglikBy]; got != by || hs[0].Labels[compare.LabelLoglikModel] == "" {
			t.Errorf("--by %s: labels %v", by, hs[0].Labels)
		}
		if len(recs) != len(raw) {
			t.Fatalf("--by %s: %d records, want %d", by, len(recs), len(raw))
		}
		for i, rec := range recs {
			if !rec.Scored || rec.Loglik > 0 || math.IsNaN(rec.Loglik) {
				t.Fatalf("--by %s: record %d: loglik %v scored %v", by, i, rec.Loglik, rec.Scored)
			}
			if by == "text" || rec.Finish == "stop" {
				continue
			}
			var sum float64
			for _, lp := range raw[i].Logprobs {
				sum += float64(lp)
			}
			if math.Abs(rec.Loglik-sum) > 1e-4 {
				t.Errorf("record %d: teacher-forced %v, generated with %v", i, rec.Loglik, sum)
			}
		}
	}
}

// A concatenation of segments (shards joined with cat) stays one: each
// segment scored under its own header.
func TestScoreSegments(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	in := filepath.Join(dir, "in.pot")
	if r := potgen(t, "--model", "synth:1", "--key", key, "-n", "3", "--temperature", "1", "--max-tokens", "4", "-o", in); r.code != 0 {
		t.Fatalf("potgen: %+v", r)
	}
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	both := filepath.Join(dir, "both.pot")
	if err := os.WriteFile(both, append(append([]byte{}, data...), data...), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.pot")
	if r := potgen(t, "score", "--model", "synth:1", "-o", out, both); r.code != 0 {
		t.Fatalf("potgen score: %+v", r)
	}
	hs, recs := readFile(t, out)
	if len(hs) != 2 || len(recs) != 6 {
		t.Fatalf("%d segments and %d records, want 2 and 6", len(hs), len(recs))
	}
	for i, h := range hs {
		if h.Labels[compare.LabelLoglikBy] != "tokens" {
			t.Errorf("segment %d: labels %v", i, h.Labels)
		}
	}
}

// What potgen score cannot do is a one-line error that leaves nothing
// behind; failed records pass through unscored.
func TestScoreRefuses(t *testing.T) {
	dir := t.TempDir()
	outDir := t.TempDir()
	out := filepath.Join(outDir, "out.pot")
	h := streamtest.Header("s", "a", "v")
	noPrompt := streamtest.Write(t, dir, "noprompt.pot", h, streamtest.Records(3, streamtest.Same))
	failed := streamtest.Records(2, streamtest.Same)
	for i := range failed {
		failed[i] = format.Record{Index: failed[i].Index, ID: failed[i].ID, Err: "timeout", Finish: "error"}
	}
	failedPath := streamtest.Write(t, dir, "failed.pot", h, failed)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no model", []string{"score", "-o", out, noPrompt}, "--model SPEC is required"},
		{"two streams", []string{"score", "--model", "synth:1", noPrompt, noPrompt}, "one stream"},
		{"bad --by", []string{"score", "--model", "synth:1", "--by", "ids", "-o", out, noPrompt}, `--by "ids"`},
		{"other vocabulary by tokens", []string{"score", "--model", "synth:1", "--by", "tokens", "-o", out, noPrompt}, "another vocabulary"},
		{"no prompt", []string{"score", "--model", "synth:1", "--by", "text", "-o", out, noPrompt}, "has no prompt"},
		{"missing stream", []string{"score", "--model", "synth:1", "-o", out, filepath.Join(dir, "none.pot")}, "none.pot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkUsageFailure(t, potgen(t, c.args...), c.want, outDir)
		})
	}
	if r := potgen(t, "score", "--model", "synth:1", "-o", out, failedPath); r.code != 0 {
		t.Fatalf("failed records: %+v", r)
	}
	_, recs := readFile(t, out)
	for _, rec := range recs {
		if rec.Scored || rec.Err == "" {
			t.Errorf("a failed record came out scored %v, error %q", rec.Scored, rec.Err)
		}
	}
	os.Remove(out)
}

// potgen score --sign signs what it writes, with no trace of the private
// key; a signed input rewritten unsigned is said to be; -j N writes the
// same records as one at a time.
func TestScoreSignJobs(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	sign := streamtest.SignKey(t, dir, "a.sign")
	pub := streamtest.PublicKey(t, sign)
	in := filepath.Join(dir, "in.pot")
	if r := potgen(t, "--model", "synth:1", "--key", key, "-n", "8", "--samples", "2", "--temperature", "1", "--max-tokens", "6", "--sign", sign, "-o", in); r.code != 0 {
		t.Fatalf("potgen: %+v", r)
	}
	signed := filepath.Join(dir, "signed.pot")
	if r := potgen(t, "score", "--model", "synth:1", "-j", "3", "--sign", sign, "-o", signed, in); r.code != 0 || r.stderr != "" {
		t.Fatalf("score --sign: %+v", r)
	}
	verifySigned(t, signed, sign, pub)
	plain := filepath.Join(dir, "plain.pot")
	r := potgen(t, "score", "--model", "synth:1", "-o", plain, in)
	if r.code != 0 || !strings.Contains(r.stderr, "is signed") || !strings.Contains(r.stderr, "unsigned") {
		t.Fatalf("score of a signed stream without --sign: %+v", r)
	}
	_, a := readFile(t, signed)
	_, b := readFile(t, plain)
	sameOutputs(t, b, a)
	for i := range a {
		if a[i].Loglik != b[i].Loglik || a[i].Scored != b[i].Scored {
			t.Fatalf("record %d: -j 3 scored %v (%v), -j 1 %v (%v)", i, a[i].Loglik, a[i].Scored, b[i].Loglik, b[i].Scored)
		}
	}
	outDir := t.TempDir()
	checkUsageFailure(t, potgen(t, "score", "--model", "synth:1", "-j", "0", "-o", filepath.Join(outDir, "x.pot"), in), "-j 0", outDir)
	checkUsageFailure(t, potgen(t, "score", "--model", "synth:1", "--sign", filepath.Join(dir, "none.sign"), "-o", filepath.Join(outDir, "x.pot"), in), "none.sign", outDir)
}
