package local

import (
	"context"
	"fmt"
	"math"

	"github.com/pot-audit/pot/internal/model"
)

// Score computes the teacher-forced log-likelihood of q's continuation, as
// model.Scorer asks, with the engine's forward pass: the prompt (BOS
// prepended, tokenised as Generate does) and then the continuation are run
// position by position, and each continuation token's log-probability is
// read from the raw softmax of the logits before it. For tokens this model
// generated, these are the log-probabilities Generate reported: the
// softmax here uses the standard library's exp and log, not the engine's
// own (unexported), so they could differ in the last bit of a float32, but
// on stories260K all 1920 positions of 30 samples came out bit-equal, and
// the tests hold them to that.
//
// With q.Tokens nil, q.Text is re-tokenised canonically: prompt and text
// are encoded together, as one string, and the continuation is what
// follows the longest common prefix of that encoding and the prompt's own.
// Usually that prefix is the whole prompt; when the tokenizer merges across
// the boundary, the straddling token is scored as part of the
// continuation. It is a fixed function of (prompt, text), which is what a
// rank statistic needs; it is not the sum over every tokenisation of the
// text.
func (l *Model) Score(ctx context.Context, q model.ScoreQuery) (model.Scored, error) {
	v := l.m.Vocab()
	cfg := l.m.Config()
	prompt := v.Encode(q.Prompt, true)
	var seq []int32
	var start int // first scored position of seq
	if q.Tokens != nil {
		for i, t := range q.Tokens {
			if t < 0 || int(t) >= cfg.VocabSize {
				return model.Scored{}, fmt.Errorf("%s: %w: token %d (id %d) outside the vocabulary of %d", l.info.Name, model.ErrNotScorable, i, t, cfg.VocabSize)
			}
		}
		seq = append(prompt, q.Tokens...)
		start = len(prompt)
	} else {
		seq = v.Encode(q.Prompt+q.Text, true)
		if q.Text == "" {
			seq = prompt
		}
		for start < min(len(seq), len(prompt)) && seq[start] == prompt[start] {
			start++
		}
		start = max(start, 1) // BOS is never scored
	}
	// Forward runs at positions 0 .. len(seq)-2 give the logits of every
	// scored token; one more gives end-of-sequence after the last.
	steps := len(seq) - 1
	if q.Stop {
		steps++
	}
	if steps > cfg.SeqLen {
		return model.Scored{}, fmt.Errorf("%s: %w: %d positions, the context holds %d", l.info.Name, model.ErrNotScorable, steps, cfg.SeqLen)
	}
	out := model.Scored{Tokens: seq[start:], Logprobs: make([]float32, 0, len(seq)-start)}
	if steps <= 0 {
		return out, nil
	}
	s := l.m.NewState(steps, l.threads)
	// The prompt is one batch, as Generate and llama.cpp run it.
	s.SetBatch(start > 1)
	for pos := range steps {
		if pos%64 == 63 {
			if err := ctx.Err(); err != nil {
				return model.Scored{}, err
			}
		}
		logits := s.Forward(seq[pos], pos)
		if pos+1 == start {
			s.SetBatch(false)
		}
		if pos+1 < start {
			continue // a prompt token: only its keys and values are needed
		}
		next := v.EOS()
		if pos+1 < len(seq) {
			next = seq[pos+1]
		}
		lp := float32(logProb(logits, next))
		if pos+1 < len(seq) {
			out.Logprobs = append(out.Logprobs, lp)
		} else {
			out.StopLogprob = lp
		}
	}
	for _, lp := range out.Logprobs {
		out.Sum += float64(lp)
	}
	out.Sum += float64(out.StopLogprob)
	if err := ctx.Err(); err != nil {
		return model.Scored{}, err
	}
	return out, nil
}

// logProb is the log-softmax of logits at id, in float64 with the maximum
// subtracted first, as the engine's sampler computes it.
func logProb(logits []float32, id int32) float64 {
	mx := float64(logits[0])
	for _, x := range logits {
		mx = max(mx, float64(x))
	}
	var sum float64
	for _, x := range logits {
		sum += math.Exp(float64(x) - mx)
	}
	return float64(logits[id]) - (mx + math.Log(sum))
}

var _ model.Scorer = (*Model)(nil)
