package local

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/testmodels"
)

func open(t *testing.T, spec string) model.Model {
	t.Helper()
	sp, err := model.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Open(sp, model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func generate(t *testing.T, m model.Model, prompt string, seed uint64, s format.Sampling) format.Record {
	t.Helper()
	var rec format.Record
	if err := m.Generate(context.Background(), model.Query{Prompt: prompt, Seed: seed, Sampling: s}, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestStoriesBackends(t *testing.T) {
	dir := testmodels.Dir(t)
	raw, err := os.ReadFile(filepath.Join(dir, "..", "fixtures", "llama-server", "v1-completions-greedy.response.json"))
	if err != nil {
		t.Skipf("llama-server fixture absent: %v", err)
	}
	var ref struct {
		Choices []struct {
			Logprobs struct {
				Content []struct {
					ID          int32
					Bytes       []byte
					Logprob     float64
					TopLogprobs []struct {
						ID      int32
						Bytes   []byte
						Logprob float64
					} `json:"top_logprobs"`
				}
			}
		}
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{
		"llama2c:" + filepath.Join(dir, "stories260K.bin") + ",tokenizer=" + filepath.Join(dir, "tok512.bin"),
		"gguf:" + filepath.Join(dir, "stories260K.gguf"),
	} {
		t.Run(strings.SplitN(spec, ":", 2)[0], func(t *testing.T) {
			m := open(t, spec)
			rec := generate(t, m, "Once upon a time", 42, format.Sampling{MaxTokens: 16, Logprobs: 3})
			if !strings.HasPrefix(rec.Text, ", there was a little girl named Lily. She loved to play") {
				t.Errorf("text %q", rec.Text)
			}
			if rec.Finish != "length" || rec.Attempts != 1 || rec.TopK != 3 || len(rec.TopTokens) != 48 || len(rec.TopLogprobs) != 48 {
				t.Errorf("finish %q attempts %d topk %d alternatives %d/%d", rec.Finish, rec.Attempts, rec.TopK, len(rec.TopTokens), len(rec.TopLogprobs))
			}
			for i, c := range ref.Choices[0].Logprobs.Content {
				if rec.Tokens[i] != c.ID || math.Abs(float64(rec.Logprobs[i])-c.Logprob) > 1e-4 {
					t.Fatalf("position %d: %d (%g), llama-server %d (%g)", i, rec.Tokens[i], rec.Logprobs[i], c.ID, c.Logprob)
				}
				for j, alt := range c.TopLogprobs {
					if rec.TopTokens[3*i+j] != alt.ID || math.Abs(float64(rec.TopLogprobs[3*i+j])-alt.Logprob) > 1e-4 {
						t.Errorf("position %d alternative %d differs from llama-server", i, j)
					}
					if b, _ := rec.TopBytesAt(i, j); b != string(alt.Bytes) {
						t.Errorf("position %d alternative %d: bytes %q, llama-server %q", i, j, b, alt.Bytes)
					}
				}
				// The vocabulary's bytes are what llama-server reports.
				if b, ok := rec.Bytes(i); !ok || b != string(c.Bytes) {
					t.Errorf("position %d: bytes %q, %v; llama-server %q", i, b, ok, c.Bytes)
				}
			}
			var text []byte
			for i := range rec.Tokens {
				b, _ := rec.Bytes(i)
				text = append(text, b...)
			}
			if string(text) != rec.Text {
				t.Errorf("the tokens' bytes spell %q, the text is %q", text, rec.Text)
			}
			info := m.Info()
			if !strings.HasPrefix(info.Digest, "sha256:") || !strings.HasPrefix(info.Vocab, "sha256:") || info.Meta["dim"] != "64" || info.Meta["layers"] != "5" {
				t.Errorf("info %+v", info)
			}
			if want := filepath.Base(strings.SplitN(strings.SplitN(spec, ":", 2)[1], ",", 2)[0]); info.Name != want {
				t.Errorf("name %q, want %q", info.Name, want)
			}
		})
	}
	a := open(t, "llama2c:"+filepath.Join(dir, "stories260K.bin")+",tokenizer="+filepath.Join(dir, "tok512.bin")).Info()
	b := open(t, "gguf:"+filepath.Join(dir, "stories260K.gguf")).Info()
	if a.Vocab != b.Vocab || a.Digest == b.Digest || a.Backend != "llama2c" || b.Backend != "gguf" {
		t.Errorf("infos %+v and %+v: want equal vocabularies, different digests", a, b)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := testmodels.Dir(t)
	lone := t.TempDir()
	ck, err := os.ReadFile(filepath.Join(dir, "stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lone, "model.bin"), ck, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		spec, want string
	}{
		{"llama2c:" + filepath.Join(lone, "model.bin"), "tokenizer="},
		{"synth:abc", "not an unsigned integer"},
		{"synth:1,tokenizer=x", "unknown option"},
		{"gguf:" + filepath.Join(dir, "stories260K.gguf") + ",bogus=1", "unknown option"},
		{"synth:1,perturb=q4", "perturbation"},
		{"gguf:" + filepath.Join(lone, "absent.gguf"), "no such file"},
		{"gguf:" + filepath.Join(lone, "model.bin"), "GGUF"},
		{"openai:http://x", "not a local model"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			sp, err := model.ParseSpec(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Open(sp, model.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open(%q) = %v, want an error containing %q", tc.spec, err, tc.want)
			}
		})
	}
	// With tokenizer.bin next to the checkpoint, no option is needed.
	tok, _ := os.ReadFile(filepath.Join(dir, "tok512.bin"))
	if err := os.WriteFile(filepath.Join(lone, "tokenizer.bin"), tok, 0o644); err != nil {
		t.Fatal(err)
	}
	open(t, "llama2c:"+filepath.Join(lone, "model.bin"))
}

func TestSynthAndPerturb(t *testing.T) {
	s := format.Sampling{Temperature: 1, TopP: 0.9, MaxTokens: 40, Logprobs: 2}
	m := open(t, "synth:7")
	info := m.Info()
	if info.Backend != "synth" || info.Name != "synth:7" || info.Perturb != "" || info.Meta["vocab_size"] != "512" {
		t.Errorf("info %+v", info)
	}
	a, b := generate(t, m, "Hello", 1, s), generate(t, m, "Hello", 1, s)
	if !slices.Equal(a.Tokens, b.Tokens) || a.Text != b.Text {
		t.Error("same seed, different samples")
	}
	if c := generate(t, m, "Hello", 2, s); slices.Equal(a.Tokens, c.Tokens) {
		t.Error("seeds 1 and 2 gave the same sample")
	}
	if o := generate(t, open(t, "synth:8"), "Hello", 1, s); slices.Equal(a.Tokens, o.Tokens) {
		t.Error("synth:7 and synth:8 gave the same sample")
	}
	p := open(t, "synth:7,perturb=noise:0.5")
	if pi := p.Info(); pi.Perturb != "noise:0.5" || pi.Digest != info.Digest {
		t.Errorf("perturbed info %+v", pi)
	}
	g, pg := generate(t, m, "Hello", 0, format.Sampling{MaxTokens: 30}), generate(t, p, "Hello", 0, format.Sampling{MaxTokens: 30})
	if g.Text == pg.Text {
		t.Error("noise:0.5 did not change the greedy text")
	}
	if len(g.TopTokens) != 0 || g.TopK != 0 {
		t.Errorf("alternatives recorded without Logprobs: %v", g.TopTokens)
	}
}

func TestConcurrent(t *testing.T) {
	m := open(t, "synth:3")
	s := format.Sampling{Temperature: 0.8, TopK: 40, MaxTokens: 30, Logprobs: 1}
	want := make([]format.Record, 8)
	for i := range want {
		want[i] = generate(t, m, "Once", uint64(i), s)
	}
	got := make([]format.Record, 8)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < 8; i += 4 {
				if err := m.Generate(context.Background(), model.Query{Prompt: "Once", Seed: uint64(i), Sampling: s}, &got[i]); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	for i := range want {
		if got[i].Text != want[i].Text || !slices.Equal(got[i].Logprobs, want[i].Logprobs) {
			t.Errorf("sample %d: concurrent %q, sequential %q", i, got[i].Text, want[i].Text)
		}
	}
}

func TestCancelled(t *testing.T) {
	m := open(t, "synth:1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var rec format.Record
	err := m.Generate(ctx, model.Query{Prompt: "x", Sampling: format.Sampling{MaxTokens: 5}}, &rec)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestPerturbQuantized checks that ,perturb=q4_0 on the shared F32 file is,
// record for record, the file llama-quantize made from it, while the header
// still names the F32 file's digest and the perturbation.
func TestPerturbQuantized(t *testing.T) {
	dir := filepath.Join(testmodels.Dir(t), "quant")
	f32 := filepath.Join(dir, "stories260K-ffn256.gguf")
	if _, err := os.Stat(f32); err != nil {
		t.Skipf("quantized models absent: %v", err)
	}
	p := open(t, "gguf:"+f32+",perturb=q4_0")
	q := open(t, "gguf:"+filepath.Join(dir, "stories260K-ffn256-Q4_0.gguf"))
	s := format.Sampling{Temperature: 1, MaxTokens: 24, Logprobs: 3}
	for seed := range uint64(3) {
		a, b := generate(t, p, "Once upon a time", seed, s), generate(t, q, "Once upon a time", seed, s)
		if !slices.Equal(a.Tokens, b.Tokens) || !slices.Equal(a.Logprobs, b.Logprobs) || !slices.Equal(a.TopLogprobs, b.TopLogprobs) {
			t.Errorf("seed %d: perturb=q4_0 %v %v, Q4_0 file %v %v", seed, a.Tokens, a.Logprobs, b.Tokens, b.Logprobs)
		}
	}
	if info := p.Info(); info.Perturb != "q4_0" || info.Digest == q.Info().Digest {
		t.Errorf("perturbed info %+v", info)
	}
}
