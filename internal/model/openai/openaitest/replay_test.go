package openaitest_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/openai"
	"github.com/pot-audit/pot/internal/model/openai/openaitest"
	"github.com/pot-audit/pot/internal/testmodels"
)

// The openai backend in front of the recorded answers of llama-server on a
// quantized file reads exactly what llama-server said.
func TestReplay(t *testing.T) {
	dir := filepath.Join(testmodels.Dir(t), "..", "fixtures", "llama-server-quant")
	const name = "stories260K-ffn256-Q4_0"
	rp, err := openaitest.Replay(dir, name)
	if err != nil {
		t.Skipf("recorded answers: %v", err)
	}
	if rp.Len() != 8 { // 4 prompts, greedy and seed 7
		t.Errorf("%d answers for %s, want 8", rp.Len(), name)
	}
	srv := httptest.NewServer(rp)
	defer srv.Close()
	sp, _ := model.ParseSpec("openai:" + srv.URL + "/v1")
	m, err := openai.Open(sp, model.Options{Getenv: func(string) string { return "" }, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if info := m.Info(); info.Name != name {
		t.Errorf("model %q", info.Name)
	}
	var recorded recordedCompletion
	raw, _ := os.ReadFile(filepath.Join(dir, name+".p1.greedy.response.json"))
	json.Unmarshal(raw, &recorded)

	var rec format.Record
	// The seed of a greedy request does not matter: potgen's is the
	// challenge's, not the recording's.
	q := model.Query{Prompt: "The little dog", Seed: 12345, Sampling: format.Sampling{MaxTokens: 24, Logprobs: 5}}
	if err := m.Generate(context.Background(), q, &rec); err != nil {
		t.Fatal(err)
	}
	want := recorded.Choices[0]
	if rec.Text != want.Text || len(rec.Tokens) != len(want.Logprobs.Content) || rec.Pieces == nil {
		t.Fatalf("record %q %v, recorded %q", rec.Text, rec.Tokens, want.Text)
	}
	for i, c := range want.Logprobs.Content {
		if rec.Tokens[i] != c.ID || math.Abs(float64(rec.Logprobs[i])-c.Logprob) > 1e-6 {
			t.Errorf("position %d: %d %v, recorded %d %v", i, rec.Tokens[i], rec.Logprobs[i], c.ID, c.Logprob)
		}
	}
	// A sampled request with another seed was never recorded.
	q.Sampling.Temperature = 1
	q.Seed = 7
	if err := m.Generate(context.Background(), q, &rec); err != nil {
		t.Errorf("seed 7 was recorded: %v", err)
	}
	q.Seed = 8
	if err := m.Generate(context.Background(), q, &rec); err == nil || !strings.Contains(err.Error(), "no recorded answer") || rp.Misses() != 1 {
		t.Errorf("seed 8: %v, %d misses", err, rp.Misses())
	}
}
