package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/streamtest"
)

// potstat runs the tool in process.
func potstat(t *testing.T, stdin []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"potstat"}, args...), bytes.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// between runs --between --json on two files and decodes the report,
// failing unless the exit status is 0.
func between(t *testing.T, a, b string, more ...string) (compare.Distances, map[string]any) {
	t.Helper()
	code, stdout, stderr := potstat(t, nil, append(append([]string{"--between", "--json"}, more...), a, b)...)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Count(stdout, "\n") != 1 {
		t.Fatalf("not one line: %q", stdout)
	}
	var rep compare.Distances
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(stdout), &fields); err != nil {
		t.Fatal(err)
	}
	return rep, fields
}

func TestBetweenCommandLine(t *testing.T) {
	dir := t.TempDir()
	sp := streamtest.DefaultSpec()
	sp.Records, sp.ErrEvery = 40, 7
	a := streamtest.File(t, dir, "a.pot", streamtest.Make(sp))
	aData := streamtest.Make(sp)
	other := sp
	other.Seed = 2
	b := streamtest.File(t, dir, "b.pot", streamtest.Make(other))
	part := sp
	part.Records = 30
	partial := streamtest.File(t, dir, "part.pot", streamtest.Make(part))
	set := sp
	set.Set = "other"
	otherSet := streamtest.File(t, dir, "set.pot", streamtest.Make(set))
	long := sp
	long.Records, long.Frame, long.Truncate = 300, 16, 100
	trunc := streamtest.File(t, dir, "trunc.pot", streamtest.Make(long))
	ch := sp
	ch.Kind = "challenges"
	chal := streamtest.File(t, dir, "ch.pot", streamtest.Make(ch))

	tests := []struct {
		name   string
		args   []string
		stdin  []byte
		code   int
		stdout []string // substrings of stdout, in order
		stderr string   // substring of stderr ("" means stderr must be empty)
	}{
		{name: "help", args: []string{"--help"}, stdout: []string{"potstat --between", "--between compares", "ref_unmatched", "logprob_ks", "length_unit", "potstat --between ref.pot cand.pot --plot"}},
		{name: "same stream", args: []string{"--between", a, a}, stdout: []string{a + " vs " + a,
			"pairs", "40 joined on challenge id and sample, 35 compared",
			"unpaired", "0 only in " + a + ", 0 only in " + a,
			"skipped", "5 pairs with a failed record, 0 duplicate records",
			"scores", "name", "mean", "zero", "tv", "0.0000  0.0000  0.0000  0.0000  0.0000  0.0000  1.0000",
			"prob", "tokens", "text",
			"token tv", "0.0000 (unigrams of", "char tv", "0.0000", "logprob ks", "0.0000", "length ks", "0.0000 (output lengths in tokens)"}},
		{name: "stdin as B", args: []string{"--between", a, "-"}, stdin: aData, stdout: []string{a + " vs <stdin>", "35 compared"}},
		{name: "other content", args: []string{"--between", a, b}, stdout: []string{"35 compared", "tv", "1.0000"}},
		{name: "partial", args: []string{"--between", a, partial}, stdout: []string{"30 joined", "10 only in " + a + ", 0 only in " + partial}},
		{name: "partial reversed", args: []string{"--between", partial, a}, stdout: []string{"30 joined", "0 only in " + partial + ", 10 only in " + a}},
		{name: "other set", args: []string{"--between", a, otherSet}, code: 2,
			stderr: "potstat: " + a + " and " + otherSet + ` come from different challenge sets (id "c0ffee" vs "other"): cannot be compared`},
		{name: "damaged B", args: []string{"--between", a, trunc}, code: 2, stderr: "potstat: " + trunc + ": record 288 (byte"},
		{name: "damaged A", args: []string{"--between", trunc, a}, code: 2, stderr: "format: truncated stream"},
		{name: "challenges", args: []string{"--between", chal, a}, code: 2, stderr: ch.Kind + " stream, not an outputs stream"},
		{name: "missing", args: []string{"--between", a, filepath.Join(dir, "nope.pot")}, code: 2, stderr: "nope.pot: no such file or directory"},
		{name: "one file", args: []string{"--between", a}, code: 2, stderr: "--between compares two streams: give A and B"},
		{name: "three files", args: []string{"--between", a, a, a}, code: 2, stderr: "give A and B"},
		{name: "both stdin", args: []string{"--between", "-", "-"}, code: 2, stderr: "only one of the two streams can be standard input"},
		{name: "png", args: []string{"--between", "--plot", filepath.Join(dir, "p.png"), a, a}, code: 2, stderr: "p.png: only .svg is supported"},
		{name: "plot to stdout", args: []string{"--between", "--plot", "-", a, a}, code: 2, stderr: "--plot -: only .svg is supported"},
		{name: "plot without between", args: []string{"--plot", filepath.Join(dir, "p.svg"), a}, code: 2, stderr: "--plot goes with --between"},
		{name: "between and records", args: []string{"--between", "--records", a, a}, code: 2, stderr: "separate modes"},
		{name: "flag after files", args: []string{"--between", a, a, "--json"}, stdout: []string{`"pairs":`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := potstat(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			out := stdout
			for _, want := range tt.stdout {
				i := strings.Index(out, want)
				if i < 0 {
					t.Fatalf("stdout lacks %q (in order):\n%s", want, stdout)
				}
				out = out[i+len(want):]
			}
			if tt.stderr == "" && stderr != "" {
				t.Errorf("stderr: %s", stderr)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tt.stderr)
			}
			if tt.code != 0 {
				if n := strings.Count(stderr, "\n"); n != 1 && !strings.Contains(stderr, "--help") {
					t.Errorf("%d lines on stderr: %q", n, stderr)
				}
				if stdout != "" {
					t.Errorf("stdout on failure: %q", stdout)
				}
			}
		})
	}
}

// TestBetweenJSON checks the JSON report's fields against streams made so
// that every statistic can be worked out by hand.
func TestBetweenJSON(t *testing.T) {
	dir := t.TempDir()
	h := streamtest.DefaultSpec().Header()
	rec := func(i int, toks []int32, lp float64, text string) format.Record {
		r := format.Record{Index: uint64(i), ID: fmt.Sprintf("ch%d", i), Tokens: toks, Text: text, TopK: 1}
		for _, tok := range toks {
			r.Logprobs = append(r.Logprobs, float32(lp))
			r.TopTokens = append(r.TopTokens, tok)
			r.TopLogprobs = append(r.TopLogprobs, float32(lp))
		}
		return r
	}
	// A: three challenges of tokens 1, 2 and text "ab"; B: the first two
	// again, the third of tokens 3, 4 and text "cd", plus a challenge A
	// lacks. Logprobs: A all -0.1, B -0.1 but -2 on the changed record.
	ra := []format.Record{rec(0, []int32{1, 2}, -0.1, "ab"), rec(1, []int32{1, 2}, -0.1, "ab"), rec(2, []int32{1, 2}, -0.1, "ab")}
	rb := []format.Record{rec(0, []int32{1, 2}, -0.1, "ab"), rec(1, []int32{1, 2}, -0.1, "ab"), rec(2, []int32{3, 4, 5}, -2, "cde"), rec(3, []int32{9}, -1, "z")}
	failed := rec(1, nil, 0, "")
	failed.Err = "backend: timeout"
	a := streamtest.File(t, dir, "a.pot", streamtest.Encode(t, h, ra))
	b := streamtest.File(t, dir, "b.pot", streamtest.Encode(t, h, rb))
	bf := streamtest.File(t, dir, "bf.pot", streamtest.Encode(t, h, []format.Record{rb[0], failed, rb[2], rb[2]}))

	rep, fields := between(t, a, b)
	for _, name := range []string{"ref", "cand", "pairs", "ref_unmatched", "unmatched", "failed", "compared", "duplicates", "scores", "same_vocab",
		"token_tv", "char_tv", "logprob_ks", "length_ks", "length_unit", "tokens_ref", "tokens_cand", "chars_ref", "chars_cand", "logprobs_ref", "logprobs_cand"} {
		if _, ok := fields[name]; !ok {
			t.Errorf("no field %q", name)
		}
	}
	if rep.Ref != a || rep.Cand != b || rep.Pairs != 3 || rep.RefUnmatched != 0 || rep.Unmatched != 1 || rep.Compared != 3 || rep.Failed != 0 || !rep.SameVocab {
		t.Errorf("counts %+v", rep)
	}
	// Per-pair: two identical pairs (0) and one that differs from the
	// first token, which scores 1 under prob, tokens and text, and under
	// tv the distance at position 0 between {1: p, other: 1-p} and
	// {3: q, other: 1-q}: (p + q + |(1-p) - (1-q)|) / 2 = p for p > q.
	if len(rep.Scores) != 4 {
		t.Fatalf("scores %+v (skipped %v)", rep.Scores, rep.Skipped)
	}
	for i, name := range []string{"tv", "prob", "tokens", "text"} {
		s := rep.Scores[i]
		d := 1.0
		if name == "tv" {
			d = float64(float32(math.Exp(float64(float32(-0.1)))))
		}
		// Values {0, 0, d}: mean d/3, deviations -d/3, -d/3, 2d/3;
		// q90 at position 1.8 of 2: 0.8 d.
		if s.Name != name || s.N != 3 || !near(s.Mean, d/3) || !near(s.Zero, 2.0/3) || !near(s.Q50, 0) || !near(s.Q90, 0.8*d) || !near(s.Max, d) ||
			!near(s.SD, d*math.Sqrt((2.0/9+4.0/9)/2)) {
			t.Errorf("score %d: %+v", i, s)
		}
	}
	// Tokens A {1: 3, 2: 3}, B {1: 2, 2: 2, 3, 4, 5}: |1/2-2/7|*2 + 3/7 = 6/7, halved.
	// Chars A {a: 3, b: 3}, B {a: 2, b: 2, c, d, e}: the same.
	// Logprobs A six of -0.1, B four of -0.1 and three of -2: 3/7.
	// Lengths A {2, 2, 2}, B {2, 2, 3}: 1/3.
	if rep.TokenTV == nil || !near(*rep.TokenTV, 3.0/7) || rep.CharTV == nil || !near(*rep.CharTV, 3.0/7) ||
		rep.LogprobKS == nil || !near(*rep.LogprobKS, 3.0/7) || rep.LengthKS == nil || !near(*rep.LengthKS, 1.0/3) || rep.LengthUnit != "tokens" {
		t.Errorf("distances %v %v %v %v %s", deref(rep.TokenTV), deref(rep.CharTV), deref(rep.LogprobKS), deref(rep.LengthKS), rep.LengthUnit)
	}
	if rep.TokensRef != 6 || rep.TokensCand != 7 || rep.CharsRef != 6 || rep.CharsCand != 7 || rep.LogprobsRef != 6 || rep.LogprobsCand != 7 {
		t.Errorf("sizes %+v", rep)
	}

	// A failure and a duplicate on B's side.
	rep, _ = between(t, a, bf)
	if rep.Pairs != 3 || rep.Failed != 1 || rep.Compared != 2 || rep.Duplicates != 1 || rep.RefUnmatched != 0 || rep.Unmatched != 0 || rep.Scores[0].N != 2 {
		t.Errorf("with a failure: %+v", rep)
	}

	// Another vocabulary: no token scores, no token TV, lengths in characters.
	hv := h
	hv.Model.Vocab = "sha256:other"
	bv := streamtest.File(t, dir, "bv.pot", streamtest.Encode(t, hv, rb))
	rep, fields = between(t, a, bv)
	if rep.SameVocab || rep.TokenTV != nil || fields["token_tv"] != nil || rep.LengthUnit != "chars" || len(rep.Scores) != 1 || rep.Scores[0].Name != "text" ||
		len(rep.Skipped) != 3 || !strings.Contains(rep.Skipped["tv"], "score: token ids of different or unknown vocabularies") {
		t.Errorf("other vocab: %+v", rep)
	}
	// Lengths in characters: A {2, 2, 2}, B {2, 2, 3}.
	if rep.LengthKS == nil || !near(*rep.LengthKS, 1.0/3) || rep.CharTV == nil || !near(*rep.CharTV, 3.0/7) {
		t.Errorf("other vocab distances %v %v", deref(rep.LengthKS), deref(rep.CharTV))
	}

	// Records without top-k: tv is given up, prob kept.
	nt := func(rs []format.Record) []format.Record {
		out := make([]format.Record, len(rs))
		for i, r := range rs {
			r.TopK, r.TopTokens, r.TopLogprobs = 0, nil, nil
			out[i] = r
		}
		return out
	}
	an := streamtest.File(t, dir, "an.pot", streamtest.Encode(t, h, nt(ra)))
	bn := streamtest.File(t, dir, "bn.pot", streamtest.Encode(t, h, nt(rb)))
	rep, _ = between(t, an, bn)
	if len(rep.Scores) != 3 || rep.Scores[0].Name != "prob" || !strings.Contains(rep.Skipped["tv"], "tv needs token ids and top-k") {
		t.Errorf("without top-k: scores %+v, skipped %v", rep.Scores, rep.Skipped)
	}

	// Nothing in common: no distances, an empty score list.
	hs := h
	b2 := streamtest.File(t, dir, "b2.pot", streamtest.Encode(t, hs, []format.Record{rec(7, []int32{1}, -1, "x")}))
	rep, fields = between(t, a, b2)
	if rep.Pairs != 0 || rep.RefUnmatched != 3 || rep.Unmatched != 1 || rep.Scores == nil || len(rep.Scores) != 0 || rep.CharTV != nil || fields["char_tv"] != nil {
		t.Errorf("disjoint: %+v", rep)
	}
	code, stdout, _ := potstat(t, nil, "--between", a, b2)
	if code != 0 || !strings.Contains(stdout, "none (no pair compared)") || !strings.Contains(stdout, "char tv     -") {
		t.Errorf("disjoint text:\n%s", stdout)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// svgDoc is what the tests read of the plot.
type svgDoc struct {
	XMLName xml.Name   `xml:"svg"`
	Rects   []struct{} `xml:"rect"`
	Texts   []string   `xml:"text"`
}

func TestBetweenPlot(t *testing.T) {
	dir := t.TempDir()
	sp := streamtest.DefaultSpec()
	sp.Records = 50
	a := streamtest.File(t, dir, "a.pot", streamtest.Make(sp))
	sp.Seed = 3
	b := streamtest.File(t, dir, "b.pot", streamtest.Make(sp))
	plot := filepath.Join(dir, "dist.svg")
	code, stdout, stderr := potstat(t, nil, "--between", "--plot", plot, a, b)
	if code != 0 || stderr != "" || !strings.Contains(stdout, "50 compared") {
		t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
	}
	data, err := os.ReadFile(plot)
	if err != nil {
		t.Fatal(err)
	}
	var d svgDoc
	if err := xml.Unmarshal(data, &d); err != nil {
		t.Fatalf("not XML: %v", err)
	}
	texts := strings.Join(d.Texts, "\n")
	for _, want := range []string{"per-pair score tv, " + a + " vs " + b, "score (0: identical)", "chosen-token log-probabilities", "log-probability",
		"fraction of values", "tv (50 values)", a + " (", b + " ("} {
		if !strings.Contains(texts, want) {
			t.Errorf("plot lacks %q:\n%s", want, texts)
		}
	}
	if d.XMLName.Space != "http://www.w3.org/2000/svg" || len(d.Rects) < 5 {
		t.Errorf("root %v, %d rects", d.XMLName, len(d.Rects))
	}

	// A failure leaves the existing plot alone and no temporary file.
	long := streamtest.DefaultSpec()
	long.Records, long.Frame, long.Truncate = 300, 16, 100
	trunc := streamtest.File(t, dir, "trunc.pot", streamtest.Make(long))
	if code, _, _ := potstat(t, nil, "--between", "--plot", plot, a, trunc); code != 2 {
		t.Fatalf("damaged input: exit %d", code)
	}
	if again, _ := os.ReadFile(plot); !bytes.Equal(again, data) {
		t.Error("the plot changed on a failed run")
	}
	if code, _, stderr := potstat(t, nil, "--between", "--plot", filepath.Join(dir, "none", "p.svg"), a, b); code != 2 || !strings.Contains(stderr, "no such file or directory") {
		t.Errorf("plot into a missing folder: exit %d, %s", code, stderr)
	}
	if code, _, stderr := potstat(t, nil, "--between", "--plot", a+".svg", a, b); code != 0 || stderr != "" {
		t.Errorf("plot beside the inputs: exit %d, %s", code, stderr)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// modelOutputs asks the local model spec for greedy outputs on n
// challenges of a template set, as potgen would.
func modelOutputs(t *testing.T, spec string, n int) []byte {
	return streamtest.Model(t, spec, n, format.Sampling{MaxTokens: 24, Logprobs: 5, Samples: 1, LogprobsOf: "raw"})
}

// TestBetweenModels: a synthetic model against itself is at distance 0 by
// every measure; two synthetic models of other weights are far apart.
func TestBetweenModels(t *testing.T) {
	dir := t.TempDir()
	const n = 12
	one := streamtest.File(t, dir, "synth1.pot", modelOutputs(t, "synth:1", n))
	again := streamtest.File(t, dir, "synth1b.pot", modelOutputs(t, "synth:1", n))
	two := streamtest.File(t, dir, "synth2.pot", modelOutputs(t, "synth:2", n))

	rep, _ := between(t, one, again)
	if rep.Compared != n || len(rep.Scores) != 4 || rep.Scores[0].Name != "tv" {
		t.Fatalf("same model: %+v", rep)
	}
	for _, s := range rep.Scores {
		if s.Mean != 0 || s.Max != 0 || s.Zero != 1 {
			t.Errorf("same model, score %+v", s)
		}
	}
	for name, v := range map[string]*float64{"token_tv": rep.TokenTV, "char_tv": rep.CharTV, "logprob_ks": rep.LogprobKS, "length_ks": rep.LengthKS} {
		if v == nil || *v != 0 {
			t.Errorf("same model, %s %v", name, deref(v))
		}
	}

	rep, _ = between(t, one, two)
	t.Logf("synth:1 vs synth:2: scores %+v; token tv %.3f, char tv %.3f, logprob ks %.3f, length ks %.3f",
		rep.Scores, *rep.TokenTV, *rep.CharTV, *rep.LogprobKS, *rep.LengthKS)
	if rep.Compared != n || len(rep.Scores) != 4 {
		t.Fatalf("two models: %+v", rep)
	}
	for _, s := range rep.Scores {
		if s.Mean < 0.5 || s.Zero != 0 {
			t.Errorf("two models, score %+v", s)
		}
	}
	// Two random models are about as sure of their greedy choices, so the
	// log-probabilities' distributions differ little; what they choose
	// differs a lot.
	if *rep.TokenTV < 0.5 || *rep.CharTV < 0.1 || *rep.LogprobKS <= 0.05 {
		t.Errorf("two models: token tv %v, char tv %v, logprob ks %v", *rep.TokenTV, *rep.CharTV, *rep.LogprobKS)
	}
}
