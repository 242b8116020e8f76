package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/streamtest"
	"github.com/pot-audit/pot/internal/summary"
)

func TestMain(m *testing.M) {
	streamtest.Main(m, map[string]func() int{
		"potstat": func() int { return run(os.Args, os.Stdin, os.Stdout, os.Stderr) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}

func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sp := streamtest.DefaultSpec()
	sp.Records, sp.Samples, sp.ErrEvery = 60, 3, 7
	good := streamtest.Make(sp)
	goodFile := write("good.pot", good)
	sp2 := sp
	sp2.Start, sp2.Seed = 20, 2
	second := streamtest.Make(sp2)
	catFile := write("cat.pot", append(append([]byte{}, good...), second...))
	other := sp2
	other.Set = "other"
	mixedFile := write("mixed.pot", append(append([]byte{}, good...), streamtest.Make(other)...))
	long := streamtest.DefaultSpec()
	long.Records, long.Frame = 300, 16
	truncated := streamtest.Make(long)
	truncated = truncated[:len(truncated)-100]
	truncFile := write("trunc.pot", truncated)

	tests := []struct {
		name   string
		args   []string
		stdin  []byte
		code   int
		stdout []string // substrings of stdout, in order
		stderr string   // substring of stderr ("" means stderr must be empty)
		lines  int      // when > 0, stdout lines
	}{
		{name: "help", args: []string{"--help"}, stdout: []string{"potstat --records", "missing_first", "latency_mean_ms", "Examples:"}},
		{name: "summary", args: []string{goodFile}, stdout: []string{goodFile, "intact: 1 segment, 1 trailer verified", "outputs",
			"60 in 1 segment", "20, 3 samples each", "yes: challenges 0..19, 3 samples each", "errors", "8 (first: record 6 (challenge 2, sample 0): backend: 503",
			"synth synth:1", "c0ffee: family templates/v1, run default, 20 challenges", "samples 3, seed 7"}},
		{name: "stdin by default", stdin: good, stdout: []string{"<stdin>", "intact"}},
		{name: "stdin dash", args: []string{"-"}, stdin: good, stdout: []string{"<stdin>", "intact"}},
		{name: "concatenated", args: []string{catFile}, stdout: []string{"intact: 2 segments, 2 trailers verified", "120 in 2 segments", "40, 3 samples each", "yes: challenges 0..39, 3 samples each"}},
		{name: "truncated", args: []string{truncFile}, code: 2, stdout: []string{"DAMAGED: record 288 (byte", "format: truncated stream", "288 in 1 segment", "no: 12 of 300 challenges lack samples (288, 289"},
			stderr: "potstat: " + truncFile + ": record 288 (byte "},
		{name: "empty", stdin: []byte{}, code: 2, stdout: []string{"<stdin>", "DAMAGED: record 0 (byte 0, segment 0): format: empty stream"}, stderr: "potstat: <stdin>: record 0 (byte 0, segment 0): format: empty stream"},
		{name: "wrong magic", stdin: []byte("{\"not\": \"a stream\"}\n"), code: 2, stderr: "potstat: <stdin>: record 0 (byte 0, segment 0): format: not a pot stream"},
		{name: "missing file", args: []string{filepath.Join(dir, "nope.pot")}, code: 2, stderr: "nope.pot: no such file or directory"},
		{name: "directory", args: []string{dir}, code: 2, stderr: dir + ": is a directory"},
		{name: "bad among good", args: []string{goodFile, filepath.Join(dir, "nope.pot"), truncFile}, code: 2, stdout: []string{goodFile, "intact", truncFile, "DAMAGED"}, stderr: "truncated stream"},
		{name: "incompatible", args: []string{mixedFile}, code: 2, stdout: []string{"DAMAGED", "incompatible segments", "60 in 1 segment"}, stderr: "format: incompatible segments: segment 1 differs from segment 0 in challenge set c0ffee vs other"},
		{name: "mixed allowed", args: []string{"--mixed", mixedFile}, stdout: []string{"intact: 2 segments", "segment 1 differs from segment 0 in challenge set"}},
		{name: "json", args: []string{"--json", goodFile, catFile}, lines: 2, stdout: []string{`"file":"` + goodFile + `","intact":true`, `"records":60`, `"complete":true`, `"records":120`}},
		{name: "json damaged", args: []string{"--json", truncFile}, code: 2, lines: 1, stdout: []string{`"intact":false,"error":"record 288 (byte`, `"records":288`, `"missing":12,"missing_first":[288,289,290`}, stderr: "truncated"},
		{name: "records", args: []string{"--records", goodFile}, lines: 60, stdout: []string{`{"index":0,"id":"`, `"sample":1,`, `"top_k":3,"top_tokens":[[`, `,null]]`, `"error":"backend: 503 after 3 attempts (record 6)"`}},
		{name: "records of two files", args: []string{"--records", goodFile, "-"}, stdin: second, lines: 120},
		{name: "records damaged", args: []string{"--records", truncFile}, code: 2, lines: 288, stderr: "potstat: " + truncFile + ": record 288"},
		{name: "verify", args: []string{"--verify", goodFile, catFile, "-"}, stdin: second, lines: 3, stdout: []string{goodFile + ": ok (60 records, 1 segment)", catFile + ": ok (120 records, 2 segments)", "<stdin>: ok (60 records, 1 segment)"}},
		{name: "verify bad", args: []string{"--verify", truncFile, filepath.Join(dir, "nope.pot"), goodFile, mixedFile}, code: 2, lines: 4, stdout: []string{
			truncFile + ": DAMAGED: record 288 (byte ", "nope.pot: no such file or directory", goodFile + ": ok", mixedFile + ": DAMAGED: record 60 (byte"}},
		{name: "verify mixed allowed", args: []string{"--verify", "--mixed", mixedFile}, lines: 1, stdout: []string{": ok (120 records, 2 segments)"}},
		{name: "verify empty", args: []string{"--verify"}, stdin: []byte{}, code: 2, stdout: []string{"<stdin>: DAMAGED: record 0 (byte 0, segment 0): format: empty stream"}},
		{name: "two modes", args: []string{"--records", "--verify", goodFile}, code: 2, stderr: "separate modes"},
		{name: "json and verify", args: []string{"--json", "--verify", goodFile}, code: 2, stderr: "separate modes"},
		{name: "flag after file", args: []string{goodFile, "--json"}, lines: 1, stdout: []string{`{"file":"` + goodFile + `"`}},
		{name: "unknown flag", args: []string{"--betwixt", "a", "b"}, code: 2, stderr: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"potstat"}, tt.args...), bytes.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			out := stdout.String()
			for _, want := range tt.stdout {
				i := strings.Index(out, want)
				if i < 0 {
					t.Fatalf("stdout lacks %q (in order):\n%s", want, stdout.String())
				}
				out = out[i+len(want):]
			}
			if tt.stderr == "" && stderr.Len() > 0 {
				t.Errorf("stderr: %s", stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.stderr)
			}
			for _, l := range strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n") {
				if l != "" && !strings.HasPrefix(l, "potstat: ") {
					t.Errorf("stderr line without the tool's name: %q", l)
				}
			}
			if tt.lines > 0 {
				if n := strings.Count(stdout.String(), "\n"); n != tt.lines {
					t.Errorf("%d lines on stdout, want %d", n, tt.lines)
				}
			}
			if strings.HasPrefix(tt.name, "json") || strings.HasPrefix(tt.name, "records") {
				sc := bufio.NewScanner(&stdout)
				sc.Buffer(nil, 1<<20)
				for sc.Scan() {
					var v map[string]any
					if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
						t.Fatalf("not JSON: %v: %s", err, sc.Text())
					}
				}
			}
		})
	}
}

// summarize runs potstat --json on data and decodes the summary.
func summarize(t *testing.T, data []byte, args ...string) (summary.Summary, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append(append([]string{"potstat", "--json"}, args...), "-"), bytes.NewReader(data), &stdout, &stderr)
	var s summary.Summary
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("%v: %q (stderr %s)", err, stdout.String(), stderr.String())
	}
	return s, code
}

func TestCompleteness(t *testing.T) {
	base := streamtest.DefaultSpec()
	base.Records, base.Samples = 30, 3
	concat := func(specs ...streamtest.Spec) []byte {
		var b []byte
		for _, sp := range specs {
			b = append(b, streamtest.Make(sp)...)
		}
		return b
	}
	with := func(f func(*streamtest.Spec)) streamtest.Spec {
		sp := base
		f(&sp)
		return sp
	}
	tests := []struct {
		name       string
		data       []byte
		complete   bool
		missing    int64
		first      []uint64
		dups, outs int64
		min, max   int64
	}{
		{name: "complete", data: streamtest.Make(base), complete: true, min: 3, max: 3},
		{name: "one challenge short of a sample", data: streamtest.Make(with(func(s *streamtest.Spec) { s.Records = 29 })), missing: 1, first: []uint64{9}, min: 2, max: 3},
		{name: "a challenge left out", data: streamtest.Make(with(func(s *streamtest.Spec) { s.Skip = 0 })), missing: 1, first: []uint64{0}, min: 3, max: 3},
		{name: "set larger than the stream", data: streamtest.Make(with(func(s *streamtest.Spec) { s.Count = 25 })), missing: 15, first: []uint64{10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, min: 3, max: 3},
		{name: "duplicated", data: concat(base, base), complete: true, dups: 30, min: 6, max: 6},
		{name: "outside the set", data: streamtest.Make(with(func(s *streamtest.Spec) { s.Count = 8 })), complete: true, outs: 6, min: 3, max: 3},
		{name: "two halves", data: concat(with(func(s *streamtest.Spec) { s.Records = 15; s.Count = 10 }), with(func(s *streamtest.Spec) { s.Records = 15; s.Start = 5; s.Count = 10 })), complete: true, min: 3, max: 3},
		{name: "challenges", data: streamtest.Make(with(func(s *streamtest.Spec) { s.Kind = "challenges" })), complete: true, min: 1, max: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, code := summarize(t, tt.data)
			if code != 0 || !s.Intact {
				t.Fatalf("exit %d, %+v", code, s)
			}
			if s.Complete == nil || *s.Complete != tt.complete || s.Missing != tt.missing || fmt.Sprint(s.MissingFirst) != fmt.Sprint(tt.first) {
				t.Errorf("complete %v, missing %d %v; want %v, %d %v", s.Complete != nil && *s.Complete, s.Missing, s.MissingFirst, tt.complete, tt.missing, tt.first)
			}
			if s.Duplicates != tt.dups || s.Outside != tt.outs || s.SamplesMin != tt.min || s.SamplesMax != tt.max {
				t.Errorf("duplicates %d, outside %d, samples %d..%d; want %d, %d, %d..%d", s.Duplicates, s.Outside, s.SamplesMin, s.SamplesMax, tt.dups, tt.outs, tt.min, tt.max)
			}
		})
	}
}

func TestUnknownCount(t *testing.T) {
	var buf bytes.Buffer
	h := streamtest.DefaultSpec().Header()
	h.Challenges.Count = 0
	w, _ := format.NewWriter(&buf, h)
	w.Write(&format.Record{Index: 3, ID: "x", Tokens: []int32{1}})
	w.Close()
	s, code := summarize(t, buf.Bytes())
	if code != 0 || s.Complete != nil || s.Challenges != 1 || s.Tokens != 1 {
		t.Fatalf("exit %d, %+v", code, s)
	}
	var stdout bytes.Buffer
	run([]string{"potstat", "-"}, bytes.NewReader(buf.Bytes()), &stdout, &bytes.Buffer{})
	if !strings.Contains(stdout.String(), "unknown: the header gives no challenge count") {
		t.Errorf("summary:\n%s", stdout.String())
	}
}

// TestRecordsJSON checks --records field by field against the records.
func TestRecordsJSON(t *testing.T) {
	sp := streamtest.DefaultSpec()
	sp.Records, sp.ErrEvery = 40, 9
	data := streamtest.Make(sp)
	want, _, err := streamtest.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"potstat", "--records"}, bytes.NewReader(data), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	dec := json.NewDecoder(&stdout)
	for i, w := range want {
		var got format.Record // in the one JSON shape of a record (format/json.go)
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if a, b := streamtest.Canonical([]format.Record{got}), streamtest.Canonical([]format.Record{w}); a[0] != b[0] {
			t.Fatalf("record %d:\ngot  %s\nwant %s", i, a[0], b[0])
		}
	}
	if dec.More() {
		t.Fatal("more lines than records")
	}
}

// epipeWriter fails like a pipe whose reader has gone, after n bytes.
type epipeWriter struct{ n int }

func (w *epipeWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, &os.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.EPIPE}
	}
	w.n -= len(p)
	return len(p), nil
}

// TestClosedPipe: `potstat --records big.pot | head` ends quietly.
func TestClosedPipe(t *testing.T) {
	sp := streamtest.DefaultSpec()
	sp.Records = 3000
	data := streamtest.Make(sp)
	var stderr bytes.Buffer
	if code := run([]string{"potstat", "--records"}, bytes.NewReader(data), &epipeWriter{n: 5000}, &stderr); code != 0 || stderr.Len() > 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

// slowReader hands out data in small pieces, and records how much of the
// output had been written each time it was asked for more.
type slowReader struct {
	data []byte
	out  *bytes.Buffer
	seen []int
}

func (r *slowReader) Read(p []byte) (int, error) {
	r.seen = append(r.seen, r.out.Len())
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 512)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestRecordsPrompt: --records passes each record on before it waits for
// more input, so a consumer behind a slow producer is never kept waiting.
func TestRecordsPrompt(t *testing.T) {
	sp := streamtest.DefaultSpec()
	sp.Records, sp.Frame = 64, 4
	data := streamtest.Make(sp)
	var stdout bytes.Buffer
	src := &slowReader{data: data, out: &stdout}
	run([]string{"potstat", "--records"}, src, &stdout, &bytes.Buffer{})
	// Before the last read (which found the end), every record was out.
	if n := len(src.seen); n < 4 || src.seen[n-1] != stdout.Len() || src.seen[n/2] == 0 {
		t.Fatalf("output seen at each read: %v (total %d)", src.seen, stdout.Len())
	}
}

// realStream asks the synthetic model for outputs on a small challenge set,
// as potgen would.
func realStream(t *testing.T, n, samples int) []byte {
	return streamtest.Model(t, "synth:1", n, format.Sampling{Temperature: 1, TopK: 40, MaxTokens: 12, Logprobs: 4, Samples: samples, Seed: 5, LogprobsOf: "raw"})
}

// TestRealModel summarizes a synthetic model's real outputs.
func TestRealModel(t *testing.T) {
	data := realStream(t, 6, 2)
	recs, _, err := streamtest.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	var tokens int64
	for _, r := range recs {
		tokens += int64(r.Positions())
	}
	s, code := summarize(t, data)
	if code != 0 || !s.Intact || s.Records != 12 || s.Challenges != 6 || s.Complete == nil || !*s.Complete || s.Tokens != tokens || s.Errors != 0 {
		t.Fatalf("exit %d: %+v", code, s)
	}
	if h := s.Header; h == nil || h.Model.Backend != "synth" || h.Model.Digest == "" || h.Challenges.Commitment == "" || h.Sampling.Samples != 2 {
		t.Fatalf("header %+v", s.Header)
	}
	var stdout bytes.Buffer
	if code := run([]string{"potstat", "--records", "-"}, bytes.NewReader(data), &stdout, &bytes.Buffer{}); code != 0 {
		t.Fatalf("--records exit %d", code)
	}
	for i, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var r struct {
			ID          string       `json:"id"`
			Tokens      []int32      `json:"tokens"`
			TopLogprobs [][]*float64 `json:"top_logprobs"`
			Text        string       `json:"text"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.ID != recs[i].ID || len(r.Tokens) != len(recs[i].Tokens) || len(r.TopLogprobs) != len(recs[i].Tokens) || r.Text != recs[i].Text {
			t.Fatalf("record %d: %s", i, line)
		}
	}
}
