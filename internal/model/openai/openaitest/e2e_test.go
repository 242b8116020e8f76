package openaitest_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/local"
	"github.com/pot-audit/pot/internal/model/openai"
	"github.com/pot-audit/pot/internal/model/openai/openaitest"
)

// TestLocalBehindServer is potgen's remote path end to end: the project's
// own engine behind a real HTTP server in llama-server's shapes, read back
// by the openai backend, must give exactly what the engine gives directly.
func TestLocalBehindServer(t *testing.T) {
	m, err := local.Open(model.Spec{Backend: "synth", Arg: "1", Params: map[string]string{}}, model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	srv := openaitest.NewServer(m, openaitest.Config{Build: "e2e"})
	defer srv.Close()

	queries := []model.Query{
		{Prompt: "Once upon a time", Seed: 42, Sampling: format.Sampling{MaxTokens: 24, Logprobs: 3}},
		{Prompt: "The cat sat", Seed: 7, Sampling: format.Sampling{MaxTokens: 16, Logprobs: 0}},
		{Prompt: "", Seed: 1, Sampling: format.Sampling{MaxTokens: 8, Logprobs: 5}},
		// Seeded sampling agrees too, for seeds the backend sends whole.
		{Prompt: "Once upon a time", Seed: 12345, Sampling: format.Sampling{Temperature: 0.9, TopP: 0.95, MaxTokens: 20, Logprobs: 2}},
		{Prompt: "A dog", Seed: 1<<31 - 2, Sampling: format.Sampling{Temperature: 1.2, TopK: 20, MaxTokens: 20, Logprobs: 1}},
		// No truncation: the server's defaults (top-k 40, top-p 0.95) are
		// turned off by the request, as the sampled tests need.
		{Prompt: "Once upon a time", Seed: 99, Sampling: format.Sampling{Temperature: 1, MaxTokens: 48, Logprobs: 1}},
	}
	for _, api := range []string{openai.APICompletions, openai.APIChat, openai.APINative} {
		t.Run(api, func(t *testing.T) {
			sp, err := model.ParseSpec("openai:" + srv.URL + "/v1,api=" + api)
			if err != nil {
				t.Fatal(err)
			}
			c, err := openai.Open(sp, model.Options{Jobs: 2, Timeout: 30 * time.Second, Getenv: func(string) string { return "" }})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if info := c.Info(); info.Name != m.Info().Name || info.Build != "e2e" {
				t.Errorf("Info %+v, engine %+v", info, m.Info())
			}
			for _, q := range queries {
				var remote, direct format.Record
				if err := c.Generate(context.Background(), q, &remote); err != nil {
					t.Fatal(err)
				}
				if err := m.Generate(context.Background(), q, &direct); err != nil {
					t.Fatal(err)
				}
				if len(direct.Tokens) == 0 {
					t.Fatalf("%q: the engine generated nothing", q.Prompt)
				}
				if q.Sampling.Logprobs == 0 {
					// Not asked for: neither path records alternatives.
					direct.TopK, direct.TopTokens, direct.TopLogprobs = 0, nil, nil
				}
				bits := func(a, b []float32) bool {
					return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
				}
				if !slices.Equal(remote.Tokens, direct.Tokens) || !bits(remote.Logprobs, direct.Logprobs) ||
					remote.TopK != direct.TopK || !slices.Equal(remote.TopTokens, direct.TopTokens) ||
					!bits(remote.TopLogprobs, direct.TopLogprobs) || remote.Text != direct.Text ||
					remote.Finish != direct.Finish || remote.Attempts != 1 {
					t.Errorf("%q seed %d:\nremote %+v\ndirect %+v", q.Prompt, q.Seed, remote, direct)
				}
			}
		})
	}
}

// modelsDir finds the shared test models: $POT_MODELS, or shared/models
// next to the checkout.
func modelsDir(t *testing.T) string {
	if d := os.Getenv("POT_MODELS"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "models")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// TestStoriesLikeLlamaServer serves the real stories260K through openaitest
// and checks the openai backend reads back what llama.cpp's llama-server
// answered for the same request (recorded in testdata).
func TestStoriesLikeLlamaServer(t *testing.T) {
	path := filepath.Join(modelsDir(t), "stories260K.gguf")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("stories260K.gguf not found (set POT_MODELS to the shared models folder): %v", err)
	}
	m, err := local.Open(model.Spec{Backend: "gguf", Arg: path, Params: map[string]string{}}, model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	srv := openaitest.NewServer(m, openaitest.Config{Name: "stories260K"})
	defer srv.Close()
	sp, _ := model.ParseSpec("openai:" + srv.URL + "/v1")
	c, err := openai.Open(sp, model.Options{Timeout: 30 * time.Second, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var rec format.Record
	q := model.Query{Prompt: "Once upon a time", Seed: 42, Sampling: format.Sampling{MaxTokens: 16, Logprobs: 3}}
	if err := c.Generate(context.Background(), q, &rec); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../testdata/llama-server/v1-completions-greedy.response.json")
	if err != nil {
		t.Fatal(err)
	}
	var want recordedCompletion
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	items := want.Choices[0].Logprobs.Content
	if len(rec.Tokens) != len(items) || rec.Text != want.Choices[0].Text {
		t.Fatalf("%d tokens %q, llama-server %d %q", len(rec.Tokens), rec.Text, len(items), want.Choices[0].Text)
	}
	for i, it := range items {
		if rec.Tokens[i] != it.ID || math.Abs(float64(rec.Logprobs[i])-it.Logprob) > 1e-4 {
			t.Errorf("position %d: token %d logprob %v, llama-server %d %v", i, rec.Tokens[i], rec.Logprobs[i], it.ID, it.Logprob)
		}
	}
}

// recordedCompletion is the part of a recorded /v1/completions answer the
// tests compare with.
type recordedCompletion struct {
	Choices []struct {
		Text     string
		Logprobs struct {
			Content []struct {
				ID      int32
				Logprob float64
			}
		}
	}
}
