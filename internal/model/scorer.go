package model

import (
	"context"
	"errors"

	"github.com/pot-audit/pot/format"
)

// Scorer is the optional interface of a model that can say how likely a
// given continuation of a prompt is, by teacher forcing: the continuation's
// tokens are fed to the model one by one and the log-probability the model
// gave each is read off, instead of being sampled. The rank test of potcmp
// needs it from the trusted model, which scores its own samples and the
// candidate's output the same way. Check for it with a type assertion:
//
//	if s, ok := m.(model.Scorer); ok { ... }
//
// Implementations are safe for concurrent use, like Model.
type Scorer interface {
	// Score returns the log-likelihood of q's continuation after q.Prompt.
	// It fails with an error wrapping ErrNotScorable when the continuation
	// cannot be put in the model's terms (ids outside its vocabulary, or
	// longer than its context).
	Score(ctx context.Context, q ScoreQuery) (Scored, error)
}

// ScoreQuery is one continuation to score.
type ScoreQuery struct {
	Prompt string
	// Tokens is the continuation as token ids of the model's own
	// vocabulary; when nil, Text is re-tokenised by the model (see the
	// implementation for how). Both sides of a comparison must be scored
	// the same way: a model's sampled token sequence is not always the one
	// its tokenizer would give for the same text, so the two statistics
	// are different functions of the output.
	Tokens []int32
	Text   string
	// Stop says the output ended because the model chose end-of-sequence;
	// the log-probability of that choice after the last token is then part
	// of the likelihood, so that stopping early and running on to the
	// length limit are told apart.
	Stop bool
}

// Scored is the teacher-forced log-likelihood of a continuation under the
// model's raw distribution (the softmax of its logits, before temperature
// or truncation), the same log-probabilities Generate reports.
type Scored struct {
	Tokens   []int32   // the tokens scored: ScoreQuery.Tokens, or Text re-tokenised
	Logprobs []float32 // the log-probability of each token given everything before it
	// StopLogprob is the log-probability of end-of-sequence after the last
	// token when ScoreQuery.Stop is set, 0 otherwise.
	StopLogprob float32
	// Sum is the log-likelihood of the whole continuation: the Logprobs and
	// StopLogprob added in float64.
	Sum float64
}

// Vocabulary is the optional interface of a model that can say the bytes
// of every token id of its vocabulary. potgen score uses it to check, token
// by token, that the ids of a stream whose vocabulary is not named (a
// server's) are the model's own before it scores them as such.
type Vocabulary interface {
	Pieces() *format.Pieces
}

// ErrNotScorable is wrapped by a Scorer's error for a continuation it
// cannot score.
var ErrNotScorable = errors.New("model: continuation cannot be scored")
