package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pot-audit/pot/internal/seqtest"
	"github.com/pot-audit/pot/internal/streamtest"
)

// Outputs of real local models, made as potgen makes them: two runs of one
// model are SAME, other models DIFFERENT.
func TestSynthModels(t *testing.T) {
	dir := t.TempDir()
	const n = 150
	ref := modelStream(t, dir, "synth1.pot", streamtest.ModelRun{Spec: "synth:1", N: n, Sampling: greedy()})
	again := modelStream(t, dir, "synth1-again.pot", streamtest.ModelRun{Spec: "synth:1", N: n, Sampling: greedy()})
	other := modelStream(t, dir, "synth2.pot", streamtest.ModelRun{Spec: "synth:2", N: n, Sampling: greedy()})
	noisy := modelStream(t, dir, "synth1-noise.pot", streamtest.ModelRun{Spec: "synth:1,perturb=noise:0.05", N: n, Sampling: greedy()})
	otherRun := modelStream(t, dir, "synth1-run2.pot", streamtest.ModelRun{Spec: "synth:1", N: n, Sampling: greedy(), RunID: "second"})
	for _, tt := range []struct {
		name    string
		cand    string
		code    int
		verdict string
	}{
		{"synth 1 vs itself", again, 0, "SAME"},
		{"synth 1 vs 2", other, 1, "DIFFERENT"},
		{"synth 1 vs noisy weights", noisy, 1, "DIFFERENT"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := potcmp(t, nil, "--json", ref, tt.cand)
			r := decodeJSON(t, out)
			if code != tt.code || r.Verdict != tt.verdict || r.Score != "tv" {
				t.Fatalf("exit %d: %s %s", code, out, errs)
			}
			t.Logf("%s: %s after %d queries (mean %.4f, bounds [%.4f, %.4f])", tt.name, r.Verdict, r.N, r.Mean, r.Lower, r.Upper)
		})
	}
	t.Run("other run id", func(t *testing.T) {
		code, _, errs := potcmp(t, nil, ref, otherRun)
		if code != 2 || !strings.Contains(errs, "run id") {
			t.Errorf("exit %d: %s", code, errs)
		}
	})
	t.Run("which reference", func(t *testing.T) {
		code, out, errs := potcmp(t, nil, "--refs", other, noisy, ref, again)
		if code != 0 || !strings.HasSuffix(out, "match: "+ref+"\n") {
			t.Errorf("exit %d: %s %s", code, out, errs)
		}
	})
	t.Run("calibrate", func(t *testing.T) {
		code, out, errs := potcmp(t, nil, "--calibrate", ref, again)
		if code != 0 || !strings.HasPrefix(out, fmt.Sprintf("calibration n=%d mean=0.0000 q95=0.0000", n)) {
			t.Errorf("exit %d: %s %s", code, out, errs)
		}
	})
}

// The real trained models of ../shared/models: one model in two file
// formats is SAME; tampered weights and another model are DIFFERENT, the
// latter by its text since its vocabulary is another.
func TestRealModels(t *testing.T) {
	models := modelsDir(t)
	dir := t.TempDir()
	tok := filepath.Join(models, "tok512.bin")
	const n = 120
	mk := func(name, spec string) string {
		return modelStream(t, dir, name, streamtest.ModelRun{Spec: spec, N: n, Sampling: greedy()})
	}
	ref := mk("stories-bin.pot", "llama2c:"+filepath.Join(models, "stories260K.bin")+",tokenizer="+tok)
	for _, tt := range []struct {
		name, spec, verdict, score string
	}{
		{"stories gguf", "gguf:" + filepath.Join(models, "stories260K.gguf"), "SAME", "tv"},
		{"stories tampered", "llama2c:" + filepath.Join(models, "stories260K-tampered.bin") + ",tokenizer=" + tok, "DIFFERENT", "tv"},
		{"aidreams", "llama2c:" + filepath.Join(models, "aidreams260K.bin") + ",tokenizer=" + filepath.Join(models, "aidreams-tok512.bin"), "DIFFERENT", "text"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cand := mk(strings.ReplaceAll(tt.name, " ", "-")+".pot", tt.spec)
			code, out, errs := potcmp(t, nil, "--json", ref, cand)
			r := decodeJSON(t, out)
			if r.Verdict != tt.verdict || r.Score != tt.score || code != exitFor(map[string]seqtest.Verdict{"SAME": seqtest.Same, "DIFFERENT": seqtest.Different}[tt.verdict]) {
				t.Fatalf("exit %d: %s %s", code, out, errs)
			}
			t.Logf("stories260K.bin vs %s: %s after %d queries (score %s, mean %.4f, bounds [%.4f, %.4f])", tt.name, r.Verdict, r.N, r.Score, r.Mean, r.Lower, r.Upper)
			if tt.score != "text" {
				return
			}
			// Another vocabulary: the scores over ids are refused, naming an
			// id whose bytes differ.
			for _, s := range []string{"tv", "prob", "tokens"} {
				code, out, errs := potcmp(t, nil, "--score", s, ref, cand)
				if code != 2 || out != "" || !strings.Contains(errs, "do not compare here (token ") || !strings.Contains(errs, "in the reference") {
					t.Errorf("--score %s: exit %d: %s %s", s, code, out, errs)
				}
			}
		})
	}
}
