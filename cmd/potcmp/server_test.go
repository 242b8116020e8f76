package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/generate"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/local"
	"github.com/pot-audit/pot/internal/model/openai"
	"github.com/pot-audit/pot/internal/model/openai/openaitest"
)

// The prompts of the recorded llama-server answers (../shared/fixtures/
// llama-server-quant), in the order of their names p0 .. p3.
var recordedPrompts = []string{"Once upon a time", "The little dog", "Lily and Ben went to the park. They", "One day, a big bird"}

// serverSampling is what the answers were recorded with: greedy, 24
// tokens, top-5.
func serverSampling() format.Sampling { return format.Sampling{MaxTokens: 24, Logprobs: 5, Samples: 1} }

// prompts returns n prompts for a local model, the recorded ones with a
// number after each.
func prompts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s %d", recordedPrompts[i%len(recordedPrompts)], i)
	}
	return out
}

// promptSource hands potgen's engine one challenge per prompt.
type promptSource struct {
	prompts []string
	i       int
}

func (s *promptSource) Next() (format.Record, error) {
	if s.i >= len(s.prompts) {
		return format.Record{}, io.EOF
	}
	s.i++
	return format.Record{Index: uint64(s.i - 1), ID: fmt.Sprintf("p%d", s.i-1), Prompt: s.prompts[s.i-1]}, nil
}

// flushBuffer is a generate.Output in memory.
type flushBuffer struct{ bytes.Buffer }

func (*flushBuffer) Flush() error { return nil }

// potgenRun is what potgen writes for m on the prompts: the real engine
// of potgen (internal/generate) over the real backend.
func potgenRun(t testing.TB, m model.Model, ps []string, out generate.Output) error {
	t.Helper()
	h := format.Header{Kind: format.KindOutputs, Model: m.Info(), Sampling: serverSampling(), Tool: "potgen (test)"}
	_, err := generate.Run(context.Background(), generate.Config{Model: m, Sampling: serverSampling(), Jobs: 1}, &promptSource{prompts: ps}, out, h)
	return err
}

// potgenFile writes potgenRun's stream to dir/name.
func potgenFile(t testing.TB, dir, name string, m model.Model, ps []string) string {
	t.Helper()
	var b flushBuffer
	if err := potgenRun(t, m, ps, &b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func openLocal(t testing.TB, spec string) model.Model {
	t.Helper()
	sp, err := model.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := local.Open(sp, model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// openServer opens the openai backend on url (a test server's), without
// retries and without an API key from the environment.
func openServer(t testing.TB, url string) model.Model {
	t.Helper()
	return openServerRetries(t, url, 0)
}

// openServerRetries is openServer with retries as model.Options has them
// (negative: none).
func openServerRetries(t testing.TB, url string, retries int) model.Model {
	t.Helper()
	sp, err := model.ParseSpec("openai:" + url + "/v1")
	if err != nil {
		t.Fatal(err)
	}
	m, err := openai.Open(sp, model.Options{Retries: retries, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// replay serves the recorded answers of llama-server on the file of
// stories260K-ffn256 quantized as quant.
func replay(t testing.TB, quant string) string {
	t.Helper()
	rp, err := openaitest.Replay(filepath.Join(modelsDir(t), "..", "fixtures", "llama-server-quant"), "stories260K-ffn256-"+quant)
	if err != nil {
		t.Skipf("recorded answers: %v", err)
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL
}

// potgen over openai: against potgen on the local file picks tv under
// auto, its ids checked by their bytes, and tv tells the F32 file served
// (mean 0 to 1e-5) from its Q4_0 (above 0.05); two servers of one model
// compare by tv too.
func TestRecordedServers(t *testing.T) {
	dir := t.TempDir()
	file := openLocal(t, "gguf:"+filepath.Join(modelsDir(t), "quant", "stories260K-ffn256.gguf"))
	ref := potgenFile(t, dir, "local.pot", file, recordedPrompts)
	f32 := potgenFile(t, dir, "f32.pot", openServer(t, replay(t, "F32")), recordedPrompts)
	f32again := potgenFile(t, dir, "f32-again.pot", openServer(t, replay(t, "F32")), recordedPrompts)
	q4 := potgenFile(t, dir, "q4.pot", openServer(t, replay(t, "Q4_0")), recordedPrompts)
	for _, tc := range []struct {
		name, ref, cand string
		min, max        float64
	}{
		{"F32 served", ref, f32, 0, 1e-5},
		{"Q4_0 served", ref, q4, 0.05, 1},
		{"two servers", f32, f32again, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cand, err := os.ReadFile(tc.cand)
			if err != nil {
				t.Fatal(err)
			}
			// The candidate comes down a pipe, as from potgen.
			_, out, errs := potcmp(t, bytes.NewReader(cand), "--json", tc.ref, "-")
			r := decodeJSON(t, out)
			if r.Score != "tv" || !strings.HasPrefix(r.Basis, "ids checked on ") || r.N != len(recordedPrompts) {
				t.Fatalf("%s: %s", out, errs)
			}
			if r.Mean < tc.min || r.Mean > tc.max {
				t.Errorf("mean tv %.6f, want in [%g, %g]", r.Mean, tc.min, tc.max)
			}
			t.Logf("%s: score %s by %s, mean %.6f over %d prompts", tc.name, r.Score, r.Basis, r.Mean, r.N)
		})
	}
	// The same answers in the legacy completions shape (token strings, no
	// ids: a server that re-serves the recorded one so): tv by bytes gives
	// the same means, and tells F32 from Q4_0.
	for _, tc := range []struct {
		quant    string
		min, max float64
	}{{"F32", 0, 1e-5}, {"Q4_0", 0.05, 1}} {
		t.Run("legacy "+tc.quant, func(t *testing.T) {
			legacy := openaitest.NewServer(openServer(t, replay(t, tc.quant)), openaitest.Config{Legacy: true})
			defer legacy.Close()
			var cand flushBuffer
			if err := potgenRun(t, openServer(t, legacy.URL), recordedPrompts, &cand); err != nil {
				t.Fatal(err)
			}
			_, out, errs := potcmp(t, bytes.NewReader(cand.Bytes()), "--json", ref, "-")
			r := decodeJSON(t, out)
			if r.Score != "tv" || !strings.HasPrefix(r.Basis, "bytes") || r.N != len(recordedPrompts) || r.Mean < tc.min || r.Mean > tc.max {
				t.Fatalf("want tv by bytes, mean in [%g, %g]: %s %s", tc.min, tc.max, out, errs)
			}
			t.Logf("%s served in the legacy shape: score %s by %s, mean %.6f", tc.quant, r.Score, r.Basis, r.Mean)
		})
	}
	// Every score on the same pairs, for the README's table of tolerances.
	for _, s := range []string{"prob", "tokens", "text"} {
		for _, c := range [][2]string{{"F32", f32}, {"Q4_0", q4}} {
			_, out, errs := potcmp(t, nil, "--json", "--score", s, ref, c[1])
			r := decodeJSON(t, out)
			if r.Score != s {
				t.Fatalf("%s: %s %s", s, out, errs)
			}
			t.Logf("%s served: %s mean %.4f", c[0], s, r.Mean)
		}
	}
}

// The engine served as potserve serves it for make eval (content[] with
// ids and bytes) is compared by tv on ids checked by their bytes; served in
// the legacy completions shape (token strings, no ids), by tv keyed by
// bytes. Either way it is SAME as the engine (at a tolerance that needs few
// prompts).
func TestServedEngine(t *testing.T) {
	dir := t.TempDir()
	models := modelsDir(t)
	spec := "llama2c:" + filepath.Join(models, "stories260K.bin") + ",tokenizer=" + filepath.Join(models, "tok512.bin")
	ps := prompts(40)
	ref := potgenFile(t, dir, "local.pot", openLocal(t, spec), ps)
	for _, tc := range []struct {
		legacy   bool
		by, note string
	}{
		{false, "by=ids:", ""},
		{true, "by=bytes", "token ids not compared (a side gives no token ids): score tv by bytes"},
	} {
		t.Run(fmt.Sprintf("legacy=%v", tc.legacy), func(t *testing.T) {
			srv := openaitest.NewServer(openLocal(t, spec), openaitest.Config{Legacy: tc.legacy})
			defer srv.Close()
			var cand flushBuffer
			if err := potgenRun(t, openServer(t, srv.URL), ps, &cand); err != nil {
				t.Fatal(err)
			}
			code, out, errs := potcmp(t, bytes.NewReader(cand.Bytes()), "--tolerance", "0.15", ref, "-")
			if code != 0 || !strings.HasPrefix(out, "SAME ") || !strings.Contains(out, " score=tv "+tc.by) || !strings.Contains(errs, tc.note) {
				t.Fatalf("exit %d: %s %s", code, out, errs)
			}
			t.Log(strings.TrimSpace(out))
			if !tc.legacy {
				return
			}
			// There are no ids to compare: an id score is refused.
			code, _, errs = potcmp(t, bytes.NewReader(cand.Bytes()), "--score", "tokens", ref, "-")
			if code != 2 || !strings.Contains(errs, "do not compare here") {
				t.Errorf("--score tokens: exit %d: %s", code, errs)
			}
		})
	}
}

// A dead endpoint at the head of the pipe: potgen writes failed records
// and gives up; potcmp at its end says so in one line, and it is trouble.
func TestDeadEndpoint(t *testing.T) {
	dir := t.TempDir()
	ps := prompts(20)
	ref := potgenFile(t, dir, "ref.pot", openLocal(t, "synth:1"), ps)
	srv := httptest.NewServer(nil)
	url := srv.URL
	srv.Close()                        // nothing listens there any more
	m := openServerRetries(t, url, -1) // potgen's retries only make the test slow
	pr, pw := io.Pipe()
	go func() {
		potgenRun(t, m, ps, &pipeOut{pw}) // fails: the first queries all failed
		pw.Close()                        // as potgen's end of the pipe when it exits
	}()
	code, out, errs := potcmp(t, pr, ref, "-")
	pr.Close()
	if code != 2 || out != "" {
		t.Fatalf("exit %d stdout %q stderr %q, want 2 and nothing", code, out, errs)
	}
	// potgen's engine gives up without flushing the failed records it
	// holds (internal/generate), so the line may only say that none came;
	// TestAllFailed has the records that do.
	if strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "no record to compare") && !strings.Contains(errs, "no successful record") {
		t.Errorf("stderr %q: want one line saying why", errs)
	}
	t.Log(strings.TrimSpace(errs))
}

// pipeOut is a generate.Output writing into a pipe.
type pipeOut struct{ io.Writer }

func (pipeOut) Flush() error { return nil }
