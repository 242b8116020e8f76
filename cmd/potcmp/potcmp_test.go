package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/seqtest"
	"github.com/pot-audit/pot/internal/streamtest"
)

func decodeJSON(t *testing.T, s string) compare.Result {
	t.Helper()
	var r compare.Result
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, s)
	}
	return r
}

func TestVerdicts(t *testing.T) {
	dir := t.TempDir()
	h := streamtest.Header("set1", "a", "v1")
	ref := streamtest.Write(t, dir, "ref.pot", h, streamtest.Records(1200, streamtest.Same))
	hb := streamtest.Header("set1", "b", "v1")
	tests := []struct {
		name     string
		cand     []format.Record
		args     []string
		code     int
		verdict  string
		maxN     int // n must be at most this
		minN     int
		wantLine []string
	}{
		{name: "identical", cand: streamtest.Records(400, streamtest.Same), code: 0, verdict: "SAME", minN: 90, maxN: 110,
			wantLine: []string{"score=tv", "alpha=0.01", "tolerance=0.05", "test=betting", "mean=0.0000"}},
		{name: "different", cand: streamtest.Records(400, func(int) int32 { return 20 }), code: 1, verdict: "DIFFERENT", minN: 1, maxN: 10},
		{name: "one in ten differs", cand: streamtest.Records(400, func(i int) int32 {
			if i%10 == 3 {
				return 20
			}
			return 10
		}), code: 1, verdict: "DIFFERENT", minN: 100, maxN: 600},
		{name: "budget", cand: streamtest.Records(400, streamtest.Same), args: []string{"--max-n", "50"}, code: 3, verdict: "UNDECIDED", minN: 50, maxN: 50},
		{name: "eb", cand: streamtest.Records(1200, streamtest.Same), args: []string{"--test", "eb"}, code: 0, verdict: "SAME", minN: 100, maxN: 1200,
			wantLine: []string{"test=eb"}},
		{name: "text", cand: streamtest.Records(400, streamtest.Same), args: []string{"--score", "text"}, code: 0, verdict: "SAME", minN: 28, maxN: 36,
			wantLine: []string{"score=text", "tolerance=0.15"}},
		{name: "ran out", cand: streamtest.Records(60, streamtest.Same), code: 3, verdict: "UNDECIDED", minN: 60, maxN: 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cand := streamtest.Write(t, t.TempDir(), "cand.pot", hb, tt.cand)
			code, out, errs := potcmp(t, nil, append(tt.args, ref, cand)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errs)
			}
			if !strings.HasPrefix(out, tt.verdict+" ") || strings.Count(out, "\n") != 1 {
				t.Fatalf("stdout %q: want one %s line", out, tt.verdict)
			}
			for _, w := range append(tt.wantLine, "ref="+ref, "cand="+cand) {
				if !strings.Contains(out, w) {
					t.Errorf("stdout %q lacks %q", out, w)
				}
			}
			var n int
			if _, err := fmt.Sscanf(strings.Fields(out)[1], "n=%d", &n); err != nil {
				t.Fatal(err)
			}
			if n < tt.minN || n > tt.maxN {
				t.Errorf("n=%d, want %d..%d", n, tt.minN, tt.maxN)
			}
			t.Logf("%s", strings.TrimSpace(out))
		})
	}
}

// Identical outputs reach SAME near the information limit, the fewest
// observations any valid test needs.
func TestIdenticalNearInformationLimit(t *testing.T) {
	dir := t.TempDir()
	h := streamtest.Header("set1", "a", "v1")
	ref := streamtest.Write(t, dir, "ref.pot", h, streamtest.Records(300, streamtest.Same))
	code, out, _ := potcmp(t, nil, "--json", ref, ref)
	r := decodeJSON(t, out)
	limit := seqtest.InformationLimit(0.01, 0.05)
	if code != 0 || r.Verdict != "SAME" || float64(r.N) < limit || float64(r.N) > 1.15*limit {
		t.Fatalf("exit %d, %s after %d, want SAME within 15%% above n*=%.1f", code, r.Verdict, r.N, limit)
	}
	t.Logf("identical streams: SAME after %d scores; n* = %.1f", r.N, limit)
}

func TestJSON(t *testing.T) {
	dir := t.TempDir()
	recs := streamtest.Records(200, streamtest.Same)
	refRecs := streamtest.Records(200, streamtest.Same)
	refRecs[0].Err = "timeout after 3 attempts"
	refRecs[0].Tokens, refRecs[0].Logprobs, refRecs[0].TopTokens, refRecs[0].TopLogprobs, refRecs[0].TopK, refRecs[0].Text = nil, nil, nil, nil, 0, ""
	recs[1].Err = "server said 500"
	recs[1].Tokens, recs[1].Logprobs, recs[1].TopTokens, recs[1].TopLogprobs, recs[1].TopK, recs[1].Text = nil, nil, nil, nil, 0, ""
	stranger := streamtest.Record(9999, 0, 10, 8)
	recs = append([]format.Record{stranger, recs[2]}, recs...) // a stranger and a repeat first
	ref := streamtest.Write(t, dir, "ref.pot", streamtest.Header("s", "a", "v"), refRecs)
	cand := streamtest.Write(t, dir, "cand.pot", streamtest.Header("s", "b", "v"), recs)
	code, out, errs := potcmp(t, nil, "--json", ref, cand)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"verdict", "n", "mean", "lower", "upper", "alpha", "tolerance", "score", "test",
		"ref", "cand", "failed", "unmatched", "truncated"} {
		if _, ok := m[f]; !ok {
			t.Errorf("JSON lacks %q: %s", f, out)
		}
	}
	r := decodeJSON(t, out)
	want := compare.Result{Verdict: "SAME", Alpha: 0.01, Tolerance: 0.05, Score: "tv", Basis: "same digest", Test: "betting", Ref: ref, Cand: cand,
		Failed: 2, RefFailed: 1, CandFailed: 1, Failures: "scored 1", Unmatched: 1, Duplicate: 1, Stopped: "decided"}
	got := r
	got.N, got.Mean, got.Lower, got.Upper, got.Read, got.RefModel, got.CandModel = 0, 0, 0, 0, 0, "", ""
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// The candidate's failure is scored 1; the reference's, a stranger and
	// a repeat are not scored.
	if r.Read != int64(r.N)+3 || r.Upper > 0.05 || r.Lower != 0 || r.RefModel != "synth:a" || r.CandModel != "synth:b" {
		t.Errorf("n %d read %d bounds [%v, %v] models %s %s", r.N, r.Read, r.Lower, r.Upper, r.RefModel, r.CandModel)
	}
	for _, w := range []string{"1 pair skipped, not scored: the reference record failed", "1 failed record scored 1, the largest distance",
		"1 record with no reference record", "1 record repeating", "reference holds 1 failed record"} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errs)
		}
	}
}

// Failures are never agreement: a candidate failing every query where it
// would differ is not scored SAME on its failures.
func TestFailuresNotAgreement(t *testing.T) {
	dir := t.TempDir()
	ref := streamtest.Write(t, dir, "ref.pot", streamtest.Header("s", "a", "v"), streamtest.Records(300, streamtest.Same))
	recs := streamtest.Records(300, func(int) int32 { return 20 })
	for i := range recs {
		if i%2 == 0 {
			recs[i] = format.Record{Index: recs[i].Index, ID: recs[i].ID, Err: "refused"}
		}
	}
	cand := streamtest.Write(t, dir, "cand.pot", streamtest.Header("s", "b", "v"), recs)
	code, out, errs := potcmp(t, nil, ref, cand)
	if code != 1 || !strings.HasPrefix(out, "DIFFERENT") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
}

func TestTranscript(t *testing.T) {
	dir := t.TempDir()
	ref := streamtest.Write(t, dir, "ref.pot", streamtest.Header("s", "a", "v"), streamtest.Records(300, streamtest.Same))
	recs := streamtest.Records(300, func(i int) int32 { return 10 + int32(i%2) })
	cand := streamtest.Write(t, dir, "cand.pot", streamtest.Header("s", "b", "v"), recs)
	tpath := filepath.Join(dir, "audit.jsonl")
	code, out, errs := potcmp(t, nil, "--transcript", tpath, "--json", ref, cand)
	if code != 1 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	res := decodeJSON(t, out)
	f, err := os.Open(tpath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != res.N+1 {
		t.Fatalf("%d transcript lines for n=%d", len(lines), res.N)
	}
	// Re-run the test from the transcript's scores: the audit re-checks.
	test, _ := seqtest.New("betting", 0.01, 0.05)
	sum := 0.0
	for i, l := range lines[:res.N] {
		var o struct {
			N                         int
			ID                        string
			Sample                    *int
			Score, Mean, Lower, Upper float64
		}
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatal(err)
		}
		sum += o.Score
		test.Add(o.Score)
		lo, hi := test.Bounds()
		if o.N != i+1 || o.ID != recs[i].ID || o.Sample == nil || *o.Sample != 0 ||
			math.Abs(o.Mean-sum/float64(i+1)) > 1e-12 || o.Lower != lo || o.Upper != hi {
			t.Fatalf("line %d: %s", i, l)
		}
	}
	if test.Decision() != seqtest.Different {
		t.Errorf("re-run gives %v", test.Decision())
	}
	last := decodeJSON(t, lines[res.N])
	if last != res {
		t.Errorf("last line %+v\nresult    %+v", last, res)
	}
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	h := streamtest.Header("set1", "a", "v1")
	ref := streamtest.Write(t, dir, "ref.pot", h, streamtest.Records(100, streamtest.Same))
	otherSet := streamtest.Header("set2", "a", "v1")
	hot := streamtest.Header("set1", "b", "v1")
	hot.Sampling.Temperature = 0.7
	long := streamtest.Header("set1", "b", "v1")
	long.Sampling.MaxTokens = 64
	otherVocab := streamtest.Header("set1", "b", "v2")
	chal := h
	chal.Kind = format.KindChallenges
	chal.Sampling, chal.Model = format.Sampling{}, format.Model{}
	tests := []struct {
		name string
		h    format.Header
		recs []format.Record
		args []string
		want []string
	}{
		{"challenge set", otherSet, streamtest.Records(100, streamtest.Same), nil, []string{"different challenge sets", `id "set1" vs "set2"`}},
		{"temperature", hot, streamtest.Records(100, streamtest.Same), nil, []string{"sampled differently", "temperature 0 vs 0.7"}},
		{"max tokens", long, streamtest.Records(100, streamtest.Same), nil, []string{"max-tokens 8 vs 64"}},
		{"token score across vocabularies", otherVocab, streamtest.Records(100, streamtest.Same), []string{"--score", "tv"}, []string{"vocabularies", "use --score text"}},
		{"challenges stream", chal, []format.Record{{ID: "x", Prompt: "p"}}, nil, []string{"a challenges stream"}},
		{"no common challenges", h, func() []format.Record {
			r := streamtest.Records(50, streamtest.Same)
			for i := range r {
				r[i].ID = "other" + r[i].ID
			}
			return r
		}(), nil, []string{"no (challenge, sample) in common", "50 candidate records"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cand := streamtest.Write(t, t.TempDir(), "cand.pot", tt.h, tt.recs)
			code, out, errs := potcmp(t, nil, append(tt.args, ref, cand)...)
			if code != 2 || out != "" {
				t.Fatalf("exit %d stdout %q, want 2 and nothing", code, out)
			}
			if strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "potcmp: ") {
				t.Errorf("stderr %q: want one potcmp: line", errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q lacks %q", errs, w)
				}
			}
		})
	}
}

func TestUsage(t *testing.T) {
	dir := t.TempDir()
	ref := streamtest.Write(t, dir, "ref.pot", streamtest.Header("s", "a", "v"), streamtest.Records(10, streamtest.Same))
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no args", nil, "no reference"},
		{"bad score", []string{"--score", "bleu", ref, ref}, "--score"},
		{"bad test", []string{"--test", "t", ref, ref}, "unknown test"},
		{"bad alpha", []string{"--alpha", "1.5", ref, ref}, "alpha"},
		{"zero tolerance", []string{"--tolerance", "0", ref, ref}, "tolerance"},
		{"negative max-n", []string{"--max-n", "-1", ref, ref}, "--max-n"},
		{"unknown flag", []string{"--fast", ref, ref}, "flag provided but not defined"},
		{"stdin twice", []string{"-", "-"}, "standard input"},
		{"calibrate arity", []string{"--calibrate", ref}, "two streams"},
		{"refs arity", []string{"--refs", ref}, "--refs takes"},
		{"missing file", []string{ref, filepath.Join(dir, "nope.pot")}, "nope.pot"},
		{"not a stream", []string{ref, filepath.Join(dir)}, "is a directory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := potcmp(t, nil, tt.args...)
			if code != 2 || out != "" || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d stdout %q stderr %q, want 2 and %q", code, out, errs, tt.want)
			}
		})
	}
	code, out, _ := potcmp(t, nil, "--help")
	for _, w := range []string{"P(wrong verdict) <= alpha for each kind of error, whatever the", "(default: 0.01)",
		"tokens-by", "skip-failures", `(default: "auto")`, `(default: "betting")`, "potcmp ref.pot -", "--refs", "--calibrate"} {
		if !strings.Contains(out, w) {
			t.Errorf("help lacks %q", w)
		}
	}
	if code != 0 {
		t.Errorf("--help exit %d", code)
	}
}

// A candidate cut short is decided on what was read, and says so.
func TestTruncated(t *testing.T) {
	dir := t.TempDir()
	ref := streamtest.Write(t, dir, "ref.pot", streamtest.Header("s", "a", "v"), streamtest.Records(300, streamtest.Same))
	for _, tt := range []struct {
		name    string
		first   func(int) int32
		code    int
		verdict string
		trunc   bool
	}{
		{"undecided", streamtest.Same, 3, "UNDECIDED", true},
		{"decided before the cut", func(int) int32 { return 20 }, 1, "DIFFERENT", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			w, err := format.NewWriter(&b, streamtest.Header("s", "b", "v"), format.WithFrameSize(10, 1<<20))
			if err != nil {
				t.Fatal(err)
			}
			recs := streamtest.Records(300, tt.first)
			for i := range 60 {
				if err := w.Write(&recs[i]); err != nil {
					t.Fatal(err)
				}
			}
			w.Flush()
			cut := b.Len()
			w.Write(&recs[60])
			w.Flush()
			data := b.Bytes()[:cut+10] // into the frame of record 60; no trailer
			code, out, errs := potcmp(t, bytes.NewReader(data), "--json", ref, "-")
			if code != tt.code {
				t.Fatalf("exit %d: %s %s", code, out, errs)
			}
			r := decodeJSON(t, out)
			if r.Verdict != tt.verdict || r.Truncated != tt.trunc || r.Cand != "<stdin>" {
				t.Errorf("%+v", r)
			}
			if tt.trunc {
				if r.N != 60 || !strings.Contains(r.CandError, "truncated") ||
					!strings.Contains(errs, "<stdin>: truncated or damaged") || !strings.Contains(errs, "verdict from the 60 records read") {
					t.Errorf("n %d cand_error %q stderr %q", r.N, r.CandError, errs)
				}
			}
		})
	}
}

// A damaged reference gives no verdict: exit 2.
func TestDamagedReference(t *testing.T) {
	dir := t.TempDir()
	data := encode(t, streamtest.Header("s", "a", "v"), streamtest.Records(300, streamtest.Same))
	ref := filepath.Join(dir, "ref.pot")
	if err := os.WriteFile(ref, data[:len(data)-20], 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := potcmp(t, bytes.NewReader(data), ref, "-")
	if code != 2 || out != "" || !strings.Contains(errs, "reference "+ref) {
		t.Errorf("exit %d stdout %q stderr %q", code, out, errs)
	}
}

func TestTextOnlyAndVocabularies(t *testing.T) {
	dir := t.TempDir()
	ref := streamtest.Write(t, dir, "ref.pot", streamtest.Header("s", "a", "v1"), streamtest.Records(300, streamtest.Same))
	textOnly := streamtest.Records(300, streamtest.Same)
	for i := range textOnly {
		r := &textOnly[i]
		r.Tokens, r.Logprobs, r.TopTokens, r.TopLogprobs, r.TopK = nil, nil, nil, nil, 0
	}
	noTop := streamtest.Records(300, streamtest.Same)
	for i := range noTop {
		noTop[i].TopTokens, noTop[i].TopLogprobs, noTop[i].TopK = nil, nil, 0
	}
	for _, tt := range []struct {
		name  string
		vocab string
		recs  []format.Record
		score string
	}{
		{"text only", "v1", textOnly, "text"},
		{"no top-k", "v1", noTop, "prob"},
		{"other vocabulary", "v2", streamtest.Records(300, streamtest.Same), "text"},
		{"unknown vocabulary", "", streamtest.Records(300, streamtest.Same), "text"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cand := streamtest.Write(t, t.TempDir(), "cand.pot", streamtest.Header("s", "b", tt.vocab), tt.recs)
			code, out, errs := potcmp(t, nil, "--json", ref, cand)
			r := decodeJSON(t, out)
			if code != 0 || r.Score != tt.score || r.Verdict != "SAME" {
				t.Errorf("exit %d score %s verdict %s, want 0 %s SAME; %s", code, r.Score, r.Verdict, tt.score, errs)
			}
		})
	}
	// Token ids of other vocabularies are never compared: the same ids
	// meaning other text differ by their text.
	otherText := streamtest.Records(300, streamtest.Same)
	for i := range otherText {
		otherText[i].Text = strings.ToUpper(otherText[i].Text) + " and more words"
	}
	cand := streamtest.Write(t, dir, "cand.pot", streamtest.Header("s", "b", "v2"), otherText)
	code, out, _ := potcmp(t, nil, ref, cand)
	if code != 1 || !strings.Contains(out, "score=text") {
		t.Errorf("same ids, other vocabulary and text: exit %d %s", code, out)
	}
}

func TestSeveralCandidates(t *testing.T) {
	dir := t.TempDir()
	ref := streamtest.Write(t, dir, "ref.pot", streamtest.Header("s", "a", "v"), streamtest.Records(300, streamtest.Same))
	good := streamtest.Write(t, dir, "good.pot", streamtest.Header("s", "b", "v"), streamtest.Records(300, streamtest.Same))
	bad := streamtest.Write(t, dir, "bad.pot", streamtest.Header("s", "b", "v"), streamtest.Records(300, func(int) int32 { return 20 }))
	short := streamtest.Write(t, dir, "short.pot", streamtest.Header("s", "b", "v"), streamtest.Records(20, streamtest.Same))
	foreign := streamtest.Write(t, dir, "foreign.pot", streamtest.Header("t", "b", "v"), streamtest.Records(20, streamtest.Same))
	for _, tt := range []struct {
		name  string
		cands []string
		code  int
		lines []string
	}{
		{"all same", []string{good, good}, 0, []string{"SAME", "SAME"}},
		{"one different", []string{good, bad, short}, 1, []string{"SAME", "DIFFERENT", "UNDECIDED"}},
		{"one undecided", []string{good, short}, 3, []string{"SAME", "UNDECIDED"}},
		{"one in trouble", []string{bad, foreign, good}, 2, []string{"DIFFERENT", "SAME"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := potcmp(t, nil, append([]string{ref}, tt.cands...)...)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if code != tt.code || len(lines) != len(tt.lines) {
				t.Fatalf("exit %d, want %d:\n%s%s", code, tt.code, out, errs)
			}
			for i, l := range lines {
				if !strings.HasPrefix(l, tt.lines[i]+" ") {
					t.Errorf("line %d %q, want %s", i, l, tt.lines[i])
				}
			}
		})
	}
}

func TestRefs(t *testing.T) {
	dir := t.TempDir()
	var refs []string
	for k := range 3 {
		first := func(int) int32 { return int32(10 + 20*k) }
		refs = append(refs, streamtest.Write(t, dir, fmt.Sprintf("ref%d.pot", k), streamtest.Header("s", fmt.Sprint(k), "v"), streamtest.Records(300, first)))
	}
	cand := encode(t, streamtest.Header("s", "x", "v"), streamtest.Records(300, func(int) int32 { return 30 }))
	code, out, errs := potcmp(t, bytes.NewReader(cand), append(append([]string{"--refs"}, refs...), "-")...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 4 || lines[3] != "match: "+refs[1] {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
	for i, want := range []string{"DIFFERENT", "SAME", "DIFFERENT"} {
		if !strings.HasPrefix(lines[i], want+" ") || !strings.Contains(lines[i], "ref="+refs[i]) {
			t.Errorf("line %d: %s", i, lines[i])
		}
	}
	// JSON, and no match.
	cand = encode(t, streamtest.Header("s", "x", "v"), streamtest.Records(300, func(int) int32 { return 99 }))
	code, out, _ = potcmp(t, bytes.NewReader(cand), append(append([]string{"--refs", "--json"}, refs...), "-")...)
	var m struct {
		Matches []string
		Results []compare.Result
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	if code != 1 || len(m.Matches) != 0 || len(m.Results) != 3 {
		t.Errorf("exit %d: %s", code, out)
	}
	// Two identical references: not told apart.
	code, out, _ = potcmp(t, nil, "--refs", refs[0], refs[0], refs[0])
	if code != 1 || !strings.HasSuffix(out, "match: "+refs[0]+" "+refs[0]+"\n") {
		t.Errorf("exit %d: %s", code, out)
	}
}

func TestCalibrate(t *testing.T) {
	dir := t.TempDir()
	a := streamtest.Write(t, dir, "a.pot", streamtest.Header("s", "a", "v"), streamtest.Records(300, streamtest.Same))
	noisy := streamtest.Records(300, streamtest.Same)
	for i := range noisy {
		if i%10 == 0 {
			noisy[i].TopLogprobs[0] = float32(math.Log(0.55)) // a nondeterministic kernel's wobble
		}
	}
	b := streamtest.Write(t, dir, "b.pot", streamtest.Header("s", "a", "v"), noisy)
	code, out, errs := potcmp(t, nil, "--calibrate", "--json", a, b)
	var c compare.Calibration
	if err := json.Unmarshal([]byte(out), &c); err != nil || code != 0 {
		t.Fatalf("exit %d %v: %s %s", code, err, out, errs)
	}
	// One record in ten moves 0.05 of mass into the tail at one of its 8
	// positions: tv 0.05/8 there.
	want := 0.1 * 0.05 / 8
	if c.N != 300 || c.Score != "tv" || math.Abs(c.Mean-want) > 1e-6 || c.Upper < c.Mean || c.Tolerance < c.Upper || c.Tolerance > 0.1 {
		t.Errorf("%+v", c)
	}
	code, out, _ = potcmp(t, nil, "--calibrate", a, b)
	if code != 0 || !strings.HasPrefix(out, "calibration n=300 ") || !strings.Contains(out, "tolerance=") {
		t.Errorf("exit %d: %s", code, out)
	}
}

// Early stopping: when potcmp decides it stops reading at once, so the
// producer feeding the pipe is stopped within a few records of n.
func TestEarlyStop(t *testing.T) {
	dir := t.TempDir()
	ref := streamtest.Write(t, dir, "ref.pot", streamtest.Header("s", "a", "v"), streamtest.Records(2000, streamtest.Same))
	for _, tt := range []struct {
		name  string
		first func(int) int32
		code  int
	}{
		{"same", streamtest.Same, 0},
		{"different", func(int) int32 { return 20 }, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			recs := streamtest.Records(2000, tt.first)
			var written int
			var werr error
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				w, err := format.NewWriter(pw, streamtest.Header("s", "b", "v"))
				if err != nil {
					werr = err
					return
				}
				for i := range recs {
					if err := w.Write(&recs[i]); err != nil {
						werr = err
						return
					}
					if err := w.Flush(); err != nil { // a frame per record: a query per record
						werr = err
						return
					}
					written++
				}
				werr = w.Close()
				pw.Close()
			}()
			code, out, errs := potcmp(t, pr, "--json", ref, "-")
			pr.CloseWithError(errors.New("potcmp exited")) // what the end of the process does to the pipe
			wg.Wait()
			if code != tt.code {
				t.Fatalf("exit %d: %s %s", code, out, errs)
			}
			r := decodeJSON(t, out)
			if werr == nil || written-r.N > compare.ReadAhead+2 {
				t.Errorf("producer wrote %d records for n=%d (read-ahead bound %d), error %v", written, r.N, compare.ReadAhead, werr)
			}
			t.Logf("decided after %d scores; producer wrote %d records", r.N, written)
		})
	}
}

func TestMMD(t *testing.T) {
	dir := t.TempDir()
	h := streamtest.Header("s", "a", "v")
	h.Sampling.Samples, h.Sampling.Temperature = 4, 1
	var refRecs, sameRecs, diffRecs []format.Record
	for i := range 200 {
		for k := range uint32(4) {
			refRecs = append(refRecs, streamtest.Record(i, k, 10+int32(k%2), 8))
			sameRecs = append(sameRecs, streamtest.Record(i, 3-k, 10+int32((3-k)%2), 8)) // same set, other order
			diffRecs = append(diffRecs, streamtest.Record(i, k, 40+int32(k), 8))
		}
	}
	ref := streamtest.Write(t, dir, "ref.pot", h, refRecs)
	for _, tt := range []struct {
		name string
		recs []format.Record
		code int
	}{
		{"same sets", sameRecs, 0},
		{"different sets", diffRecs, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cand := streamtest.Write(t, t.TempDir(), "cand.pot", h, tt.recs)
			// At mmd's default tolerance (0.01) 200 identical sets are too
			// few to say SAME; the mechanics are the same at 0.05.
			code, out, errs := potcmp(t, nil, "--score", "mmd", "--tolerance", "0.05", "--transcript", filepath.Join(t.TempDir(), "t.jsonl"), ref, cand)
			if code != tt.code || !strings.Contains(out, "score=mmd") {
				t.Errorf("exit %d: %s %s", code, out, errs)
			}
		})
	}
	// Sample by sample, sampled outputs of other seeds are refused.
	hs := h
	hs.Sampling.Seed = 7
	cand := streamtest.Write(t, dir, "seeded.pot", hs, sameRecs)
	if code, _, errs := potcmp(t, nil, "--score", "tokens", ref, cand); code != 2 || !strings.Contains(errs, "different seeds") {
		t.Errorf("exit %d: %s", code, errs)
	}
}
