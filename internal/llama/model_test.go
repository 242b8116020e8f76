package llama

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pot-audit/pot/internal/testmodels"
)

const storiesPrompt = "Once upon a time"

func greedy(t testing.TB, m *Model, prompt string, n, k int) Output {
	t.Helper()
	out, err := m.Generate(context.Background(), m.Vocab().Encode(prompt, true), Params{MaxTokens: n, Logprobs: k}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// serverGreedy is the part of llama-server's /v1/completions response the
// tests compare with.
type serverGreedy struct {
	Choices []struct {
		Text     string
		Logprobs struct {
			Content []struct {
				ID          int32
				Logprob     float64
				TopLogprobs []struct {
					ID      int32
					Logprob float64
				} `json:"top_logprobs"`
			}
		}
	}
}

func TestStoriesMatchesLlamaServer(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testmodels.Dir(t), "..", "fixtures", "llama-server", "v1-completions-greedy.response.json"))
	if err != nil {
		t.Skipf("llama-server fixture absent: %v", err)
	}
	var ref serverGreedy
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	content := ref.Choices[0].Logprobs.Content
	if len(content) != 16 {
		t.Fatalf("fixture has %d positions, want 16", len(content))
	}
	for _, tc := range []struct {
		name string
		load func() *Model
	}{
		{"llama2c", func() *Model { return mustLlama2c(t, "stories260K.bin", "tok512.bin") }},
		{"gguf", func() *Model { return mustGGUF(t, "stories260K.gguf") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.load()
			if got, want := m.Vocab().Encode(storiesPrompt, true), []int32{1, 403, 407, 261, 378}; !slices.Equal(got, want) {
				t.Fatalf("Encode = %v, want %v", got, want)
			}
			out := greedy(t, m, storiesPrompt, 16, 3)
			if want := []int32{432, 383, 286, 261, 376, 298, 315, 421}; !slices.Equal(out.Tokens[:8], want) {
				t.Errorf("first tokens %v, want %v", out.Tokens[:8], want)
			}
			if out.Finish != FinishLength || len(out.Tokens) != 16 {
				t.Errorf("finish %q after %d tokens, want length after 16", out.Finish, len(out.Tokens))
			}
			if text := m.Vocab().Decode(378, out.Tokens); text != ref.Choices[0].Text {
				t.Errorf("text %q, llama-server %q", text, ref.Choices[0].Text)
			}
			worst := 0.0
			for i, c := range content {
				if out.Tokens[i] != c.ID {
					t.Fatalf("position %d: token %d, llama-server %d", i, out.Tokens[i], c.ID)
				}
				worst = max(worst, math.Abs(float64(out.Logprobs[i])-c.Logprob))
				for j, alt := range c.TopLogprobs {
					if got := out.TopTokens[3*i+j]; got != alt.ID {
						t.Errorf("position %d alternative %d: token %d, llama-server %d", i, j, got, alt.ID)
					}
					worst = max(worst, math.Abs(float64(out.TopLogprobs[3*i+j])-alt.Logprob))
				}
			}
			if worst > 1e-4 {
				t.Errorf("log-probabilities differ from llama-server's by up to %g, want <= 1e-4", worst)
			}
			t.Logf("largest log-probability difference from llama-server: %.2g", worst)

			long := m.Vocab().Decode(378, greedy(t, m, storiesPrompt, 40, 0).Tokens)
			if want := ", there was a little girl named Lily. She loved to play outside in the park"; !strings.HasPrefix(long, want) {
				t.Errorf("text %q, want it to start %q", long, want)
			}
		})
	}
}

func TestStoriesF16(t *testing.T) {
	ref := greedy(t, mustLlama2c(t, "stories260K.bin", "tok512.bin"), storiesPrompt, 100, 0)
	half := greedy(t, mustGGUF(t, "stories260K-f16.gguf"), storiesPrompt, 100, 0)
	if !slices.Equal(ref.Tokens, half.Tokens) || len(ref.Tokens) != 100 {
		t.Fatalf("F16 greedy tokens differ from F32:\n%v\n%v", half.Tokens, ref.Tokens)
	}
	d := maxAbsDiff(ref.Logprobs, half.Logprobs)
	if d > 5e-3 || d == 0 {
		t.Errorf("F16 log-probabilities differ from F32 by up to %g, want in (0, 5e-3]", d)
	}
	t.Logf("F16 vs F32: largest log-probability difference %.2g", d)
}

func TestGGUFAndLlama2cAgree(t *testing.T) {
	bin := mustLlama2c(t, "stories260K.bin", "tok512.bin")
	gg := mustGGUF(t, "stories260K.gguf")
	if bin.Vocab().Digest() != gg.Vocab().Digest() {
		t.Errorf("vocabulary digests differ: %s (tok512.bin) and %s (gguf)", bin.Vocab().Digest(), gg.Vocab().Digest())
	}
	if bin.Digest() == gg.Digest() {
		t.Errorf("two different files have the same weights digest %s", bin.Digest())
	}
	if c := gg.Config(); c.SeqLen != 128 || c.NormEps != float32(9.999999747378752e-06) || c.SharedClassifier {
		t.Errorf("gguf config %+v: want context 128 and epsilon from the metadata, separate output tensor", c)
	}
	a := greedy(t, bin, storiesPrompt, 100, 5)
	b := greedy(t, gg, storiesPrompt, 100, 5)
	if !slices.Equal(a.Tokens, b.Tokens) || !slices.Equal(a.TopTokens, b.TopTokens) {
		t.Fatalf("tokens differ:\n%v\n%v", a.Tokens, b.Tokens)
	}
	if d := maxAbsDiff(a.TopLogprobs, b.TopLogprobs); d > 1e-5 {
		t.Errorf("log-probabilities differ by %g", d)
	}
}

func TestAidreams(t *testing.T) {
	m := mustLlama2c(t, "aidreams260K.bin", "aidreams-tok512.bin")
	stories := mustLlama2c(t, "stories260K.bin", "tok512.bin")
	if m.Vocab().Digest() == stories.Vocab().Digest() {
		t.Error("aidreams and stories vocabularies have the same digest")
	}
	if c := m.Config(); c.Layers != 4 || c.Heads != 4 || c.SeqLen != 128 {
		t.Errorf("config %+v, want 4 layers, 4 heads, seq len 128", c)
	}
	gg := mustGGUF(t, "aidreams260K.gguf")
	a, b := greedy(t, m, storiesPrompt, 50, 0), greedy(t, gg, storiesPrompt, 50, 0)
	if !slices.Equal(a.Tokens, b.Tokens) {
		t.Errorf("aidreams .bin and .gguf disagree:\n%v\n%v", a.Tokens, b.Tokens)
	}
	t.Logf("aidreams: %q", m.Vocab().Decode(378, a.Tokens))
}

func TestTamperedDiffers(t *testing.T) {
	m := mustLlama2c(t, "stories260K.bin", "tok512.bin")
	bad := mustLlama2c(t, "stories260K-tampered.bin", "tok512.bin")
	if m.Digest() == bad.Digest() {
		t.Fatal("tampered checkpoint has the original's digest")
	}
	if m.Config() != bad.Config() {
		t.Fatalf("tampered config %+v, want the original's %+v", bad.Config(), m.Config())
	}
	a, b := greedy(t, m, storiesPrompt, 50, 0), greedy(t, bad, storiesPrompt, 50, 0)
	if slices.Equal(a.Logprobs, b.Logprobs) {
		t.Error("tampered weights give the same log-probabilities")
	}
}

func TestTinyRandomVocab(t *testing.T) {
	m := mustGGUF(t, "llama-2-tiny-random.gguf")
	// The real Llama 2 ids of " Once", " upon", " a", " time".
	if got, want := m.Vocab().Encode(storiesPrompt, true), []int32{1, 9038, 2501, 263, 931}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	if m.Config().VocabSize != 32000 {
		t.Errorf("vocab size %d", m.Config().VocabSize)
	}
}

func TestContextLimit(t *testing.T) {
	m := mustGGUF(t, "stories260K.gguf") // context 128
	prompt := m.Vocab().Encode(storiesPrompt, true)
	out, err := m.Generate(context.Background(), prompt, Params{MaxTokens: 1000}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Finish != FinishLength || len(prompt)+len(out.Tokens) != 128 {
		t.Errorf("finish %q with %d+%d tokens, want length at the context of 128", out.Finish, len(prompt), len(out.Tokens))
	}
	long := make([]int32, 128)
	if _, err := m.Generate(context.Background(), long, Params{MaxTokens: 1}, Options{}); err == nil {
		t.Error("a prompt filling the context was accepted")
	}
}
