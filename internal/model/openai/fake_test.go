package openai

import (
	"context"
	"hash/fnv"
	"math"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/model"
)

// fakeModel is a deterministic model.Model for tests of the transport: its
// output is a function of the prompt, the seed (when sampling) and the
// sampling parameters, with log-probabilities that use all of a float32's
// bits and fewer alternatives than asked for beyond three, so that padding
// crosses the wire too.
type fakeModel struct{}

func (fakeModel) Info() format.Model {
	return format.Model{Backend: "fake", Name: "fake-1", Meta: map[string]string{"n_vocab": "500"}}
}

func (fakeModel) Close() error { return nil }

func (fakeModel) Generate(ctx context.Context, q model.Query, rec *format.Record) error {
	h := fnv.New64a()
	h.Write([]byte(q.Prompt))
	x := h.Sum64()
	if q.Sampling.Temperature > 0 {
		x ^= q.Seed * 0x9E3779B97F4A7C15
	}
	k := q.Sampling.Logprobs
	rec.Text = "echo:" + q.Prompt + ":"
	rec.TopK = k
	rec.Tokens, rec.Logprobs, rec.TopTokens, rec.TopLogprobs = nil, nil, nil, nil
	for i := range q.Sampling.MaxTokens {
		x = x*6364136223846793005 + 1442695040888963407
		tok := int32(x>>33) % 497
		lp := -float32(x>>40) / float32(1<<24) * 3.3
		rec.Tokens = append(rec.Tokens, tok)
		rec.Logprobs = append(rec.Logprobs, lp)
		for j := range k {
			if j < 3 {
				rec.TopTokens = append(rec.TopTokens, tok+int32(j))
				rec.TopLogprobs = append(rec.TopLogprobs, lp-float32(j)*0.7071)
			} else {
				rec.TopTokens = append(rec.TopTokens, -1)
				rec.TopLogprobs = append(rec.TopLogprobs, float32(math.Inf(-1)))
			}
		}
		rec.Text += string(rune('a' + i%26))
	}
	rec.Finish = "length"
	return ctx.Err()
}
