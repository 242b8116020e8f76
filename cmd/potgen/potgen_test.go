package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/llama"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/local"
	"github.com/pot-audit/pot/internal/model/openai/openaitest"
	"github.com/pot-audit/pot/internal/testmodels"
)

// TestMain lets the test binary stand in for potgen, so tests can run it as
// a real process (to kill it, or to close its stdout).
func TestMain(m *testing.M) {
	if os.Getenv("POTGEN_AS_MAIN") == "1" {
		os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

type runResult struct {
	code           int
	stdout, stderr string
}

func potgen(t *testing.T, args ...string) runResult {
	t.Helper()
	return potgenEnv(t, cli.Env{}, args...)
}

func potgenEnv(t *testing.T, env cli.Env, args ...string) runResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env.Stdout, env.Stderr = &stdout, &stderr
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	if env.Ctx == nil {
		env.Ctx = context.Background()
	}
	code := runEnv(append([]string{"potgen"}, args...), env)
	return runResult{code, stdout.String(), stderr.String()}
}

func writeKey(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "audit.key")
	if r := potgen(t, "keygen", "-o", path); r.code != 0 {
		t.Fatalf("keygen: %+v", r)
	}
	return path
}

func readStream(t *testing.T, data []byte) ([]format.Header, []format.Record) {
	t.Helper()
	r, err := format.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var hs []format.Header
	var recs []format.Record
	seg := -1
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return hs, recs
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Segment() != seg {
			seg = r.Segment()
			hs = append(hs, r.Header())
		}
		recs = append(recs, rec)
	}
}

func readFile(t *testing.T, path string) ([]format.Header, []format.Record) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readStream(t, data)
}

// sameOutputs compares records but for timings.
func sameOutputs(t *testing.T, a, b []format.Record) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d records vs %d", len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		x.Latency, y.Latency = 0, 0
		if fmt.Sprintf("%+v", x) != fmt.Sprintf("%+v", y) {
			t.Fatalf("record %d differs:\n%+v\n%+v", i, x, y)
		}
	}
}

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	path := writeKey(t, dir)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if len(data) != 65 {
		t.Errorf("key file of %d bytes, want 64 hex and a newline", len(data))
	}
	if r := potgen(t, "keygen", "-o", path); r.code != 2 || !strings.Contains(r.stderr, "refusing to overwrite") {
		t.Errorf("second keygen over the same file: %+v", r)
	}
}

func TestDeterministicAcrossJobs(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	var runs [][]format.Record
	for i, jobs := range []string{"1", "4", "1"} {
		out := filepath.Join(dir, fmt.Sprintf("out%d.pot", i))
		r := potgen(t, "--model", "synth:3", "--key", key, "-n", "12", "--samples", "2", "--temperature", "1", "--top-p", "0.9", "-j", jobs, "-o", out)
		if r.code != 0 {
			t.Fatalf("run %d: %+v", i, r)
		}
		_, recs := readFile(t, out)
		runs = append(runs, recs)
	}
	sameOutputs(t, runs[0], runs[1])
	sameOutputs(t, runs[0], runs[2])
	if len(runs[0]) != 24 {
		t.Fatalf("%d records, want 24", len(runs[0]))
	}
	for i, rec := range runs[0] {
		if rec.Index != uint64(i/2) || rec.Sample != uint32(i%2) {
			t.Fatalf("record %d is (%d, %d): not in (challenge, sample) order", i, rec.Index, rec.Sample)
		}
		if len(rec.Tokens) == 0 || len(rec.Logprobs) != len(rec.Tokens) || rec.TopK != 5 || rec.Text == "" || rec.Prompt == "" {
			t.Fatalf("record %d incomplete: %+v", i, rec)
		}
	}
	if runs[0][0].Tokens[0] == runs[0][1].Tokens[0] && fmt.Sprint(runs[0][0].Tokens) == fmt.Sprint(runs[0][1].Tokens) {
		t.Errorf("two samples of one challenge at temperature 1 gave the same tokens")
	}
}

func TestHeader(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	r := potgen(t, "--model", "synth:1,perturb=int8", "--key", key, "-n", "2", "--max-tokens", "4", "--label", "audit=q4", "--seed", "9")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	hs, recs := readStream(t, []byte(r.stdout))
	h := hs[0]
	if h.Kind != format.KindOutputs || h.Model.Backend != "synth" || h.Model.Perturb != "int8" || h.Sampling.MaxTokens != 4 ||
		h.Sampling.Seed != 9 || h.Sampling.LogprobsOf != "raw" || h.Labels["audit"] != "q4" || h.Challenges.Commitment == "" || h.Created.IsZero() {
		t.Fatalf("header: %+v", h)
	}
	keyHex, _ := os.ReadFile(key)
	if bytes.Contains([]byte(r.stdout), bytes.TrimSpace(keyHex)) || strings.Contains(fmt.Sprintf("%+v %+v", hs, recs), string(bytes.TrimSpace(keyHex))) {
		t.Fatal("the key appears in the stream")
	}
}

func TestChallengeStreamInput(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	ch := filepath.Join(dir, "ch.pot")
	if r := potgen(t, "challenges", "--key", key, "-n", "5", "-o", ch); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	direct := potgen(t, "--model", "synth:1", "--key", key, "-n", "5", "--max-tokens", "8")
	data, _ := os.ReadFile(ch)
	viaStream := potgenEnv(t, cli.Env{Stdin: bytes.NewReader(data)}, "--model", "synth:1", "--challenges", "-", "--max-tokens", "8")
	if direct.code != 0 || viaStream.code != 0 {
		t.Fatalf("%+v %+v", direct, viaStream)
	}
	_, a := readStream(t, []byte(direct.stdout))
	_, b := readStream(t, []byte(viaStream.stdout))
	sameOutputs(t, a, b)
	// verify once the key is revealed
	out := filepath.Join(dir, "out.pot")
	os.WriteFile(out, []byte(direct.stdout), 0o644)
	if r := potgen(t, "verify", "--key", key, ch, out); r.code != 0 || strings.Count(r.stdout, ": ok") != 2 {
		t.Fatalf("verify: %+v", r)
	}
	other := writeKey(t, t.TempDir())
	if r := potgen(t, "verify", "--key", other, out); r.code != 1 || !strings.Contains(r.stdout, "MISMATCH") {
		t.Fatalf("verify with another key: %+v", r)
	}
}

// TestStoriesGreedy runs potgen on the real stories260K checkpoint with the
// documented prompt, from a prompt file.
func TestStoriesGreedy(t *testing.T) {
	models := testmodels.Dir(t)
	dir := t.TempDir()
	key := writeKey(t, dir)
	prompts := filepath.Join(dir, "prompts.txt")
	os.WriteFile(prompts, []byte("Once upon a time\n"), 0o644)
	for _, spec := range []string{
		"llama2c:" + filepath.Join(models, "stories260K.bin") + ",tokenizer=" + filepath.Join(models, "tok512.bin"),
		"gguf:" + filepath.Join(models, "stories260K.gguf"),
	} {
		r := potgen(t, "--model", spec, "--key", key, "-n", "1", "--prompts", prompts, "--max-tokens", "8")
		if r.code != 0 {
			t.Fatalf("%s: %+v", spec, r)
		}
		_, recs := readStream(t, []byte(r.stdout))
		if got := fmt.Sprint(recs[0].Tokens); got != "[432 383 286 261 376 298 315 421]" {
			t.Errorf("%s: tokens %s", spec, got)
		}
		if !strings.HasPrefix(recs[0].Text, ", there was a little girl") {
			t.Errorf("%s: text %q", spec, recs[0].Text)
		}
		if math.Abs(float64(recs[0].Logprobs[0])-(-0.031702492386102676)) > 1e-4 {
			t.Errorf("%s: first logprob %v", spec, recs[0].Logprobs[0])
		}
	}
}

// TestResumeAfterInterrupt stops potgen at several points and resumes: the
// final stream holds exactly the records of an uninterrupted run.
func TestResumeAfterInterrupt(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	args := []string{"--model", "synth:2", "--key", key, "-n", "30", "--max-tokens", "12", "-j", "2"}
	full := filepath.Join(dir, "full.pot")
	if r := potgen(t, append(args, "-o", full)...); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	_, want := readFile(t, full)
	for _, stopAfter := range []time.Duration{0, 30 * time.Millisecond, 150 * time.Millisecond} {
		t.Run(stopAfter.String(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.pot")
			ctx, cancel := context.WithTimeout(context.Background(), stopAfter)
			r := potgenEnv(t, cli.Env{Ctx: ctx}, append(args, "-o", out)...)
			cancel()
			if r.code == 0 {
				t.Skip("finished before the interruption")
			}
			if r.code != 1 || !strings.Contains(r.stderr, "--resume") {
				t.Fatalf("interrupted run: %+v", r)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatal("an interrupted run left a complete-looking output")
			}
			if r := potgen(t, append(args, "-o", out, "--resume")...); r.code != 0 {
				t.Fatalf("resume: %+v", r)
			}
			_, got := readFile(t, out)
			sameOutputs(t, want, got)
			if _, err := os.Stat(out + ".partial"); err == nil {
				t.Error("partial file left after a complete resume")
			}
		})
	}
}

// TestResumeAfterKill kills a real potgen process with SIGKILL at several
// points; --resume then completes the stream without duplicates.
func TestResumeAfterKill(t *testing.T) {
	exe, args, want := killSetup(t)
	for _, killAt := range []int64{1, 3000, 12000} {
		t.Run(fmt.Sprint(killAt), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.pot")
			cmd := exec.Command(exe, append(args, "-o", out)...)
			cmd.Env = append(os.Environ(), "POTGEN_AS_MAIN=1")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for time.Now().Before(deadline) {
				if st, err := os.Stat(out + ".partial"); err == nil && st.Size() >= killAt {
					break
				}
				time.Sleep(time.Millisecond)
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			if r := potgen(t, append(args, "-o", out, "--resume")...); r.code != 0 {
				t.Fatalf("resume: %+v", r)
			}
			_, got := readFile(t, out)
			sameOutputs(t, want, got)
		})
	}
}

func TestResumeRefusesOtherFlags(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	out := filepath.Join(dir, "out.pot")
	if r := potgen(t, "--model", "synth:1", "--key", key, "-n", "3", "--max-tokens", "4", "-o", out); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	r := potgen(t, "--model", "synth:1", "--key", key, "-n", "3", "--max-tokens", "5", "-o", out, "--resume")
	if r.code != 2 || !strings.Contains(r.stderr, "sampling") {
		t.Fatalf("%+v", r)
	}
	// Every parameter counts, the number of challenges and the labels as
	// well: the header must stay true of the finished stream.
	for _, other := range [][]string{{"-n", "5"}, {"-n", "2"}, {"-n", "3", "--label", "a=b"}} {
		args := append([]string{"--model", "synth:1", "--key", key, "--max-tokens", "4", "-o", out, "--resume"}, other...)
		r = potgen(t, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "another") {
			t.Errorf("%v: %+v", other, r)
		}
	}
	hs, recs := readFile(t, out)
	if len(recs) != 3 || len(hs) != 1 {
		t.Fatalf("the refused runs changed %s: %d records in %d segments", out, len(recs), len(hs))
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	// A real checkpoint written from the synthetic model, then damaged.
	m := llama.Synth(1)
	ckpt, tok := filepath.Join(dir, "m.bin"), filepath.Join(dir, "tok.bin")
	var cb, tb bytes.Buffer
	if err := m.WriteLlama2c(&cb); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteTokenizer(&tb); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(ckpt, cb.Bytes(), 0o644)
	os.WriteFile(tok, tb.Bytes(), 0o644)
	truncated := filepath.Join(dir, "trunc.bin")
	os.WriteFile(truncated, cb.Bytes()[:cb.Len()/2], 0o644)
	shortTok := filepath.Join(dir, "short-tok.bin")
	os.WriteFile(shortTok, shortTokenizer(t, tb.Bytes()), 0o644)
	badKey := filepath.Join(dir, "bad.key")
	os.WriteFile(badKey, []byte("abcd\n"), 0o600)

	if r := potgen(t, "--model", "llama2c:"+ckpt+",tokenizer="+tok, "--key", key, "-n", "1", "--max-tokens", "4"); r.code != 0 {
		t.Fatalf("the undamaged checkpoint fails: %+v", r)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing checkpoint", []string{"--model", "llama2c:" + filepath.Join(dir, "none.bin") + ",tokenizer=" + tok}, "none.bin"},
		{"truncated checkpoint", []string{"--model", "llama2c:" + truncated + ",tokenizer=" + tok}, "trunc.bin"},
		{"tokenizer size", []string{"--model", "llama2c:" + ckpt + ",tokenizer=" + shortTok}, "512"},
		{"unknown backend", []string{"--model", "tensorflow:x"}, "unknown backend"},
		{"unknown option", []string{"--model", "synth:1,colour=red"}, "colour"},
		{"bad perturbation", []string{"--model", "synth:1,perturb=zap"}, "zap"},
		{"missing gguf", []string{"--model", "gguf:" + filepath.Join(dir, "none.gguf")}, "none.gguf"},
		{"gguf of garbage", []string{"--model", "gguf:" + tok}, "tok.bin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.pot")
			r := potgen(t, append(tt.args, "--key", key, "-n", "2", "-o", out)...)
			checkUsageFailure(t, r, tt.want, filepath.Dir(out))
		})
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"key of the wrong size", []string{"--model", "synth:1", "--key", badKey, "-n", "1"}, "bad.key"},
		{"missing key", []string{"--model", "synth:1", "--key", filepath.Join(dir, "nokey"), "-n", "1"}, "nokey"},
		{"no model", []string{"--key", key, "-n", "1"}, "--model"},
		{"no challenges", []string{"--model", "synth:1"}, "--key"},
		{"undefined flag", []string{"--model", "synth:1", "--bogus"}, "bogus"},
		{"zero samples", []string{"--model", "synth:1", "--key", key, "-n", "1", "--samples", "0"}, "samples"},
		{"challenge stream that is not one", []string{"--model", "synth:1", "--challenges", ckpt}, "m.bin"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.pot")
			checkUsageFailure(t, potgen(t, append(tt.args, "-o", out)...), tt.want, filepath.Dir(out))
		})
	}
}

func TestResumeNeedsFile(t *testing.T) {
	key := writeKey(t, t.TempDir())
	r := potgen(t, "--model", "synth:1", "--key", key, "-n", "1", "--resume")
	if r.code != 2 || !strings.Contains(r.stderr, "--resume needs -o FILE") || r.stdout != "" {
		t.Fatalf("%+v", r)
	}
}

func shortTokenizer(t *testing.T, tok []byte) []byte {
	t.Helper()
	// Drop the last token: header int32, then (float32 score, int32 len, bytes) per token.
	off := 4
	var last int
	for off < len(tok) {
		last = off
		n := int(uint32(tok[off+4]) | uint32(tok[off+5])<<8 | uint32(tok[off+6])<<16 | uint32(tok[off+7])<<24)
		off += 8 + n
	}
	return tok[:last]
}

func checkUsageFailure(t *testing.T, r runResult, want, dir string) {
	t.Helper()
	if r.code != 2 {
		t.Fatalf("exit %d, want 2: %+v", r.code, r)
	}
	if strings.Count(strings.TrimRight(r.stderr, "\n"), "\n") > 1 || !strings.HasPrefix(r.stderr, "potgen: ") || !strings.Contains(r.stderr, want) {
		t.Fatalf("stderr %q: want one line naming %q", r.stderr, want)
	}
	if r.stdout != "" {
		t.Fatalf("stdout %q", r.stdout)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}

// TestStopsWhenReaderGoesAway runs potgen as a process whose stdout is a
// pipe that the reader closes after three records: potgen stops asking the
// model and exits 0, quietly. It is paced by the pipe, so it is waiting for
// its reader, with nothing to write, when the reader goes: Wait returns
// only if potgen notices that too.
func TestStopsWhenReaderGoesAway(t *testing.T) {
	exe, _ := os.Executable()
	dir := t.TempDir()
	key := writeKey(t, dir)
	cmd := exec.Command(exe, "--model", "synth:1", "--key", key, "-n", "100000", "--max-tokens", "8")
	cmd.Env = append(os.Environ(), "POTGEN_AS_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r, err := format.NewReader(stdout)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := r.Read(); err != nil {
			t.Fatal(err)
		}
	}
	stdout.Close()
	err = cmd.Wait()
	if err != nil || stderr.Len() != 0 {
		t.Fatalf("potgen after its reader left: %v, stderr %q", err, stderr.String())
	}
}

// serveLocal puts a local model behind the OpenAI-compatible test server.
func serveLocal(t *testing.T, spec string, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	sp, err := model.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := local.Open(sp, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = openaitest.New(m, openaitest.Config{Build: "b1"})
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

// TestServerMatchesLocal: potgen over HTTP against the project's engine gives,
// under greedy decoding, the same tokens as potgen on the local model.
func TestServerMatchesLocal(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	url := serveLocal(t, "synth:5", nil)
	args := []string{"--key", key, "-n", "6", "--max-tokens", "16", "-j", "3"}
	loc := potgen(t, append([]string{"--model", "synth:5"}, args...)...)
	for _, api := range []string{"completions", "chat", "native"} {
		srv := potgen(t, append([]string{"--model", "openai:" + url + ",api=" + api}, args...)...)
		if loc.code != 0 || srv.code != 0 {
			t.Fatalf("%s: %+v %+v", api, loc, srv)
		}
		_, a := readStream(t, []byte(loc.stdout))
		hs, b := readStream(t, []byte(srv.stdout))
		for i := range a {
			if fmt.Sprint(a[i].Tokens) != fmt.Sprint(b[i].Tokens) || a[i].Text != b[i].Text {
				t.Fatalf("%s: record %d: %v %q vs %v %q", api, i, a[i].Tokens, a[i].Text, b[i].Tokens, b[i].Text)
			}
			for j := range a[i].Logprobs {
				if math.Abs(float64(a[i].Logprobs[j]-b[i].Logprobs[j])) > 1e-6 {
					t.Fatalf("%s: record %d position %d: logprob %v vs %v", api, i, j, a[i].Logprobs[j], b[i].Logprobs[j])
				}
			}
		}
		// llama-server's native endpoint sends no system_fingerprint.
		if hs[0].Model.Backend != "openai" || hs[0].Model.Build != "b1" || (api != "native" && hs[0].Model.Fingerprint != "b1") {
			t.Errorf("%s: header model %+v", api, hs[0].Model)
		}
	}
}

// faulty fails about a fifth of the requests to the model in turn with a
// 500, a 429 with Retry-After, a dropped connection, an answer slower than
// the client's timeout, and malformed JSON.
func faulty(h http.Handler, timeout time.Duration) (http.Handler, *atomic.Int64) {
	var n, faults atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			h.ServeHTTP(w, r)
			return
		}
		i := n.Add(1)
		if i%5 != 0 {
			h.ServeHTTP(w, r)
			return
		}
		faults.Add(1)
		switch (i / 5) % 5 {
		case 0:
			http.Error(w, `{"error":{"code":500,"message":"boom"}}`, 500)
		case 1:
			w.Header().Set("Retry-After", "0")
			http.Error(w, `{"error":{"code":429,"message":"slow down"}}`, 429)
		case 2:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		case 3:
			time.Sleep(timeout + 100*time.Millisecond)
			h.ServeHTTP(w, r)
		case 4:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"choices":[{"text":`)
		}
	}), &faults
}

func TestFaultInjection(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	var faults *atomic.Int64
	url := serveLocal(t, "synth:6", func(h http.Handler) http.Handler {
		var f http.Handler
		f, faults = faulty(h, time.Second)
		return f
	})
	out := filepath.Join(dir, "out.pot")
	r := potgen(t, "--model", "openai:"+url, "--key", key, "-n", "60", "--max-tokens", "8", "-j", "4", "--timeout", "1s", "--retries", "6", "-o", out)
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	_, recs := readFile(t, out)
	loc := potgen(t, "--model", "synth:6", "--key", key, "-n", "60", "--max-tokens", "8")
	_, want := readStream(t, []byte(loc.stdout))
	seen := map[string]bool{}
	retried := 0
	for i, rec := range recs {
		if seen[rec.ID] {
			t.Fatalf("challenge %s twice", rec.ID)
		}
		seen[rec.ID] = true
		if rec.Err != "" || fmt.Sprint(rec.Tokens) != fmt.Sprint(want[i].Tokens) || rec.Text != want[i].Text {
			t.Fatalf("record %d: %+v\nwant %+v", rec.Index, rec, want[i])
		}
		retried += rec.Attempts - 1
	}
	if len(seen) != 60 {
		t.Fatalf("%d challenges, want 60", len(seen))
	}
	if faults.Load() == 0 || retried == 0 || !strings.Contains(r.stderr, fmt.Sprintf("%d retries", retried)) {
		t.Fatalf("faults %d, retries %d, summary %q", faults.Load(), retried, r.stderr)
	}
}

func TestServerNeverAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // accept, then say nothing
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	dir := t.TempDir()
	key := writeKey(t, dir)
	url := "http://" + ln.Addr().String() + "/v1"
	start := time.Now()
	r := potgen(t, "--model", "openai:"+url, "--key", key, "-n", "2", "--timeout", "200ms", "--retries", "1", "-j", "2")
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Fatalf("took %v", elapsed)
	}
	if r.code != 1 || !strings.Contains(r.stderr, ln.Addr().String()) || !strings.Contains(r.stderr, "timeout") {
		t.Fatalf("%+v", r)
	}
	_, recs := readStream(t, []byte(r.stdout))
	if len(recs) != 2 || recs[0].Err == "" {
		t.Fatalf("failures not recorded: %+v", recs)
	}
}

func TestAPIKeyNeverShown(t *testing.T) {
	const secret = "sk-test-0123456789abcdef"
	var sawKey atomic.Bool
	url := serveLocal(t, "synth:1", func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") == "Bearer "+secret {
				sawKey.Store(true)
			}
			if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "chat") {
				// A server that echoes what it got, key included.
				http.Error(w, `{"error":{"message":"bad key `+r.Header.Get("Authorization")+`"}}`, 500)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	dir := t.TempDir()
	key := writeKey(t, dir)
	for _, api := range []string{"completions", "chat"} {
		r := potgenEnv(t, cli.Env{Getenv: func(k string) string {
			if k == "MY_KEY" {
				return secret
			}
			return ""
		}}, "--model", "openai:"+url+",api="+api, "--api-key-env", "MY_KEY", "--key", key, "-n", "2", "--retries", "1", "--max-tokens", "4")
		all := r.stdout + r.stderr
		_, recs := readStream(t, []byte(r.stdout))
		all += fmt.Sprintf("%+v", recs)
		if strings.Contains(all, secret) || strings.Contains(all, secret[8:]) {
			t.Fatalf("%s: the API key appears in the output: %q", api, r.stderr)
		}
	}
	if !sawKey.Load() {
		t.Fatal("the server never got the key")
	}
}

// TestExecModelInvalidUTF8: a model that stops inside a character still
// gives a readable stream.
func TestExecModelInvalidUTF8(t *testing.T) {
	key := writeKey(t, t.TempDir())
	r := potgen(t, "--model", `exec:printf 'caf\303'`, "--key", key, "-n", "2")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	_, recs := readStream(t, []byte(r.stdout))
	if len(recs) != 2 || recs[0].Text != "caf\uFFFD" {
		t.Fatalf("%+v", recs)
	}
}

// TestResumeRetriesFailures: queries that failed after their retries are
// recorded with their errors; --resume asks again for those alone.
func TestResumeRetriesFailures(t *testing.T) {
	var failing atomic.Bool
	var served atomic.Int64
	failing.Store(true)
	url := serveLocal(t, "synth:7", func(h http.Handler) http.Handler {
		var n atomic.Int64
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				// While failing, every third request fails; the retries of a
				// failed query land on failing slots too, so whole queries fail.
				if failing.Load() && n.Add(1)%3 == 0 {
					http.Error(w, `{"error":{"message":"overloaded"}}`, 503)
					return
				}
				served.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	})
	dir := t.TempDir()
	key := writeKey(t, dir)
	out := filepath.Join(dir, "out.pot")
	args := []string{"--model", "openai:" + url, "--key", key, "-n", "30", "--max-tokens", "8", "--retries", "-1", "-o", out}
	r := potgen(t, args...)
	if r.code != 1 || !strings.Contains(r.stderr, "failed") || !strings.Contains(r.stderr, "--resume") {
		t.Fatalf("first run: %+v", r)
	}
	_, first := readFile(t, out)
	failed := 0
	for _, rec := range first {
		if rec.Err != "" {
			failed++
		}
	}
	if failed == 0 || failed == len(first) {
		t.Fatalf("%d of %d failed", failed, len(first))
	}
	failing.Store(false)
	before := served.Load()
	if r := potgen(t, append(args, "--resume")...); r.code != 0 {
		t.Fatalf("resume: %+v", r)
	}
	if asked := served.Load() - before; asked != int64(failed) {
		t.Errorf("resume asked %d queries, want the %d that failed", asked, failed)
	}
	_, got := readFile(t, out)
	loc := potgen(t, "--model", "synth:7", "--key", key, "-n", "30", "--max-tokens", "8")
	_, want := readStream(t, []byte(loc.stdout))
	byID := map[string]format.Record{}
	for _, rec := range got {
		if _, dup := byID[rec.ID]; dup || rec.Err != "" {
			t.Fatalf("duplicate or failed record after resume: %+v", rec)
		}
		byID[rec.ID] = rec
	}
	for _, w := range want {
		if fmt.Sprint(byID[w.ID].Tokens) != fmt.Sprint(w.Tokens) {
			t.Fatalf("challenge %d: %v, want %v", w.Index, byID[w.ID].Tokens, w.Tokens)
		}
	}
}

// BenchmarkFixedLatency measures potgen's wall time against a server that
// answers every query after a fixed delay, with a recorded llama-server
// body and no work of its own; the ideal is challenges x latency / jobs.
func BenchmarkFixedLatency(b *testing.B) {
	const latency = 50 * time.Millisecond
	const n = 256
	body, err := os.ReadFile("../../internal/model/openai/testdata/llama-server/v1-completions-greedy.response.json")
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		io.Copy(io.Discard, r.Body)
		time.Sleep(latency)
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	b.Cleanup(srv.Close)
	t := &testing.T{}
	key := writeKey(t, b.TempDir())
	for _, jobs := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("j%d", jobs), func(b *testing.B) {
			ideal := time.Duration(n) * latency / time.Duration(jobs)
			for range b.N {
				start := time.Now()
				r := potgen(t, "--model", "openai:"+srv.URL+"/v1", "--key", key, "-n", fmt.Sprint(n), "-j", fmt.Sprint(jobs))
				if r.code != 0 {
					b.Fatalf("%+v", r)
				}
				b.ReportMetric(float64(time.Since(start))/float64(ideal), "x-ideal")
			}
		})
	}
}
