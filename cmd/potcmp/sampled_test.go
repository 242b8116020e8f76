package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/streamtest"
)

// sampledSets returns 200 challenges of k samples: each sample one of two
// outputs, drawn with first tokens base and base+1.
func sampledSets(k int, base int32, idless bool) []format.Record {
	var recs []format.Record
	for i := range 200 {
		for s := range uint32(k) {
			r := streamtest.Record(i, s, base+int32(s%2), 8)
			if idless {
				r.Tokens, r.Logprobs, r.TopK, r.TopTokens, r.TopLogprobs = nil, nil, 0, nil, nil
			}
			recs = append(recs, r)
		}
	}
	return recs
}

// mmd compares other vocabularies and id-less candidates by the text
// kernel, and refuses what it cannot score.
func TestMMDText(t *testing.T) {
	dir := t.TempDir()
	h := streamtest.Header("s", "a", "v")
	h.Sampling.Samples, h.Sampling.Temperature = 4, 1
	ref := streamtest.Write(t, dir, "ref.pot", h, sampledSets(4, 10, false))
	other := h
	other.Model.Vocab = "w"
	idless := h
	idless.Model.Vocab = ""
	for _, tt := range []struct {
		name string
		h    format.Header
		recs []format.Record
		code int
	}{
		{"other vocabulary, same texts", other, sampledSets(4, 10, false), 0},
		{"other vocabulary, other texts", other, sampledSets(4, 40, false), 1},
		{"id-less, same texts", idless, sampledSets(4, 10, true), 0},
		{"id-less, other texts", idless, sampledSets(4, 40, true), 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cand := streamtest.Write(t, t.TempDir(), "cand.pot", tt.h, tt.recs)
			// 0.05, not the default 0.01: SAME on 200 sets needs it.
			code, out, errs := potcmp(t, nil, "--score", "mmd", "--tolerance", "0.05", ref, cand)
			if code != tt.code || !strings.Contains(out, "score=mmd") || !strings.Contains(errs, "mmd compared texts") {
				t.Errorf("exit %d, want %d: %s %s", code, tt.code, out, errs)
			}
		})
	}
	// Tokens without text under the text kernel would all look alike.
	bare := sampledSets(4, 40, false)
	for i := range bare {
		bare[i].Text = ""
	}
	cand := streamtest.Write(t, dir, "bare.pot", other, bare)
	if code, _, errs := potcmp(t, nil, "--score", "mmd", ref, cand); code != 2 || !strings.Contains(errs, "needs the text") {
		t.Errorf("text-less outputs under the text kernel: exit %d: %s", code, errs)
	}
	// One sample a challenge has no within-side pairs.
	one := h
	one.Sampling.Samples = 1
	cand = streamtest.Write(t, dir, "one.pot", one, sampledSets(1, 10, false))
	if code, _, errs := potcmp(t, nil, "--score", "mmd", ref, cand); code != 2 || !strings.Contains(errs, "at least 2 samples") {
		t.Errorf("one sample: exit %d: %s", code, errs)
	}
	for _, name := range []string{"mmd", "rank"} {
		if code, _, errs := potcmp(t, nil, "--calibrate", "--score", name, ref, filepath.Join(dir, "ref.pot")); code != 2 || !strings.Contains(errs, "no noise floor") {
			t.Errorf("--calibrate --score %s: exit %d: %s", name, code, errs)
		}
	}
}

// A reference challenge with fewer samples than its header says is
// counted, not scored: its statistic could leave the test's range.
func TestMMDShortReference(t *testing.T) {
	dir := t.TempDir()
	h := streamtest.Header("s", "a", "v")
	h.Sampling.Samples, h.Sampling.Temperature = 4, 1
	recs := sampledSets(4, 10, false)
	ref := streamtest.Write(t, dir, "ref.pot", h, recs[1:]) // challenge 0 has 3 samples
	cand := streamtest.Write(t, dir, "cand.pot", h, sampledSets(4, 40, false))
	code, out, errs := potcmp(t, nil, "--score", "mmd", "--json", ref, cand)
	if code != 1 || !strings.Contains(out, `"ref_failed":1`) {
		t.Errorf("exit %d: %s %s", code, out, errs)
	}
}
