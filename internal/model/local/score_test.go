package local

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/testmodels"
)

func scoreOf(t *testing.T, m model.Model, q model.ScoreQuery) model.Scored {
	t.Helper()
	s, ok := m.(model.Scorer)
	if !ok {
		t.Fatal("the local model is not a model.Scorer")
	}
	out, err := s.Score(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestScoreAgreesWithGenerate checks teacher forcing against the
// log-probabilities the engine reported while sampling the same tokens, on
// the real stories260K in both file formats, and on the re-tokenised text.
func TestScoreAgreesWithGenerate(t *testing.T) {
	dir := testmodels.Dir(t)
	for _, spec := range []string{
		"llama2c:" + filepath.Join(dir, "stories260K.bin") + ",tokenizer=" + filepath.Join(dir, "tok512.bin"),
		"gguf:" + filepath.Join(dir, "stories260K.gguf"),
	} {
		m := open(t, spec)
		for _, tc := range []struct {
			name, prompt string
			s            format.Sampling
			seed         uint64
		}{
			{"greedy", "Once upon a time", format.Sampling{MaxTokens: 24}, 0},
			{"sampled", "Once upon a time", format.Sampling{Temperature: 1, MaxTokens: 40}, 7},
			{"top-p", "The cat", format.Sampling{Temperature: 0.8, TopP: 0.9, MaxTokens: 40}, 3},
			{"empty prompt", "", format.Sampling{Temperature: 1, MaxTokens: 20}, 11},
		} {
			t.Run(filepath.Ext(spec)+"/"+tc.name, func(t *testing.T) {
				rec := generate(t, m, tc.prompt, tc.seed, tc.s)
				got := scoreOf(t, m, model.ScoreQuery{Prompt: tc.prompt, Tokens: rec.Tokens})
				if !slices.Equal(got.Tokens, rec.Tokens) {
					t.Fatalf("scored tokens %v, generated %v", got.Tokens, rec.Tokens)
				}
				var sum float64
				for i, lp := range got.Logprobs {
					if lp != rec.Logprobs[i] {
						t.Errorf("position %d: teacher forced %g, generated %g", i, lp, rec.Logprobs[i])
					}
					sum += float64(rec.Logprobs[i])
				}
				if math.Abs(got.Sum-sum) > 1e-4 || got.StopLogprob != 0 {
					t.Errorf("sum %g, generated %g; stop %g", got.Sum, sum, got.StopLogprob)
				}
				// The text re-tokenised gives the same tokens here (the
				// engine's samples are canonical for these prompts), so the
				// same likelihood.
				txt := scoreOf(t, m, model.ScoreQuery{Prompt: tc.prompt, Text: rec.Text})
				if !slices.Equal(txt.Tokens, rec.Tokens) || math.Abs(txt.Sum-got.Sum) > 1e-9 {
					t.Errorf("text %q re-tokenised to %v (sum %g), generated %v (sum %g)", rec.Text, txt.Tokens, txt.Sum, rec.Tokens, got.Sum)
				}
			})
		}
	}
}

// TestScoreStop checks the end-of-sequence term: scoring the tokens with
// Stop gives, as StopLogprob, the log-probability that scoring the tokens
// followed by EOS gives its last position. (stories260K rarely stops within
// its context, so the sample here ran to its length limit; the term is the
// same computation either way.)
func TestScoreStop(t *testing.T) {
	dir := testmodels.Dir(t)
	m := open(t, "llama2c:"+filepath.Join(dir, "stories260K.bin")+",tokenizer="+filepath.Join(dir, "tok512.bin"))
	rec := generate(t, m, "Once upon a time", 5, format.Sampling{Temperature: 1, MaxTokens: 30})
	got := scoreOf(t, m, model.ScoreQuery{Prompt: "Once upon a time", Tokens: rec.Tokens, Stop: true})
	eos := m.(*Model).m.Vocab().EOS()
	with := scoreOf(t, m, model.ScoreQuery{Prompt: "Once upon a time", Tokens: append(slices.Clone(rec.Tokens), eos)})
	last := with.Logprobs[len(with.Logprobs)-1]
	if got.StopLogprob != last || !(last < 0) || math.Abs(got.Sum-with.Sum) > 1e-9 {
		t.Errorf("stop %g, EOS scored as a token %g; sums %g and %g", got.StopLogprob, last, got.Sum, with.Sum)
	}
}

func TestScoreBoundaryAndErrors(t *testing.T) {
	m := open(t, "synth:1")
	// A continuation that merges with the end of the prompt: what is
	// scored re-decodes to the part of the text after the common prefix.
	got := scoreOf(t, m, model.ScoreQuery{Prompt: "Once upon a ti", Text: "me there was"})
	if len(got.Tokens) == 0 || len(got.Logprobs) != len(got.Tokens) || !(got.Sum < 0) {
		t.Errorf("boundary: %+v", got)
	}
	if e := scoreOf(t, m, model.ScoreQuery{Prompt: "x"}); len(e.Tokens) != 0 || e.Sum != 0 {
		t.Errorf("empty continuation: %+v", e)
	}
	if e := scoreOf(t, m, model.ScoreQuery{Prompt: "x", Text: "", Stop: true}); !(e.StopLogprob < 0) || e.Sum != float64(e.StopLogprob) {
		t.Errorf("empty continuation with stop: %+v", e)
	}
	s := m.(model.Scorer)
	for _, tc := range []struct {
		name string
		q    model.ScoreQuery
	}{
		{"id out of range", model.ScoreQuery{Prompt: "x", Tokens: []int32{3, 512}}},
		{"negative id", model.ScoreQuery{Prompt: "x", Tokens: []int32{-1}}},
		{"longer than the context", model.ScoreQuery{Prompt: "x", Tokens: make([]int32, 2000)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Score(context.Background(), tc.q); !errors.Is(err, model.ErrNotScorable) {
				t.Errorf("err %v, want ErrNotScorable", err)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Score(ctx, model.ScoreQuery{Prompt: "x", Tokens: make([]int32, 100)}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
