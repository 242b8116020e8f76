package main

import (
	"math"
	"math/rand/v2"

	"github.com/pot-audit/pot/internal/llama"
)

// walk is one sampled output of a model a, with what a second model b (the
// other side of the pair, or nil) says of it, position by position. A
// position is one choice of a's sampler: a token, or end-of-sequence, which
// ends the output and is the last position.
type walk struct {
	tokens  []int32
	stopped bool      // a chose end-of-sequence (the last position)
	kl      []float64 // sum over the vocabulary of a_T log(a_T / b_T) at each position
	ratio   []float64 // log a_T(x) - log b_T(x) of the choice x at each position
	ownT    []float64 // log a_T(x) of the choice x at each position
	rawA    []float64 // log a(x) at temperature 1 (the raw softmax), as potgen score reads it
	rawB    []float64 // log b(x) at temperature 1
	pit     []float64 // randomised probability integral transform of x under b_T (see below)
}

// upTo sums the first min(L, positions) entries of v: the value for the
// output cut at L tokens, which is what sampling with max-tokens L gives
// (a stop at one of the first L positions belongs to it, a later one not).
func upTo(v []float64, L int) float64 {
	var s float64
	for _, x := range v[:min(L, len(v))] {
		s += x
	}
	return s
}

// engine holds one worker's scratch for walks of a over b.
type engine struct {
	a, b       *llama.Model
	temp       float64
	la, lb     []float64 // tempered log-probabilities
	ra, rb     []float64 // raw log-probabilities
	sa, sb     *llama.State
	maxPos     int
	eosA, eosB int32
}

// newEngine makes the scratch for walks of at most maxPos positions, fewer
// when a's or b's context is shorter.
func newEngine(a, b *llama.Model, temp float64, maxPos int) *engine {
	v := a.Config().VocabSize
	maxPos = min(maxPos, a.Config().SeqLen)
	if b != nil {
		maxPos = min(maxPos, b.Config().SeqLen)
	}
	e := &engine{a: a, b: b, temp: temp, maxPos: maxPos, eosA: a.Vocab().EOS(),
		la: make([]float64, v), lb: make([]float64, v), ra: make([]float64, v), rb: make([]float64, v)}
	e.sa = a.NewState(maxPos, 1)
	if b != nil {
		e.sb = b.NewState(maxPos, 1)
		e.eosB = b.Vocab().EOS()
	}
	return e
}

// logSoftmax writes the log-softmax of logits/t into dst, in float64.
func logSoftmax(dst []float64, logits []float32, t float64) {
	mx := math.Inf(-1)
	for _, x := range logits {
		mx = max(mx, float64(x)/t)
	}
	var sum float64
	for _, x := range logits {
		sum += math.Exp(float64(x)/t - mx)
	}
	lse := mx + math.Log(sum)
	for i, x := range logits {
		dst[i] = float64(x)/t - lse
	}
}

// run samples one output of at most n tokens from a at the engine's
// temperature after prompt (BOS included), with b (when set, of a's
// vocabulary) teacher-forced along it. rng draws the tokens and the PIT's
// randomisation.
func (e *engine) run(prompt []int32, n int, rng *rand.Rand) walk {
	var w walk
	for pos, t := range prompt[:len(prompt)-1] {
		e.sa.Forward(t, pos)
		if e.b != nil {
			e.sb.Forward(t, pos)
		}
	}
	tok, pos := prompt[len(prompt)-1], len(prompt)-1
	for range n {
		if pos >= e.maxPos {
			break
		}
		logits := e.sa.Forward(tok, pos)
		logSoftmax(e.la, logits, e.temp)
		logSoftmax(e.ra, logits, 1)
		var next int32
		u := rng.Float64()
		var c float64
		next = int32(len(e.la) - 1)
		for i, l := range e.la {
			c += math.Exp(l)
			if u < c {
				next = int32(i)
				break
			}
		}
		w.rawA = append(w.rawA, e.ra[next])
		w.ownT = append(w.ownT, e.la[next])
		if e.b != nil {
			logits := e.sb.Forward(tok, pos)
			logSoftmax(e.lb, logits, e.temp)
			logSoftmax(e.rb, logits, 1)
			var kl float64
			for i, l := range e.la {
				if !math.IsInf(l, -1) {
					kl += math.Exp(l) * (l - e.lb[i])
				}
			}
			w.kl = append(w.kl, kl)
			w.ratio = append(w.ratio, e.la[next]-e.lb[next])
			w.rawB = append(w.rawB, e.rb[next])
			w.pit = append(w.pit, pit(e.lb, next, rng.Float64()))
		}
		if next == e.eosA {
			w.stopped = true
			break
		}
		w.tokens = append(w.tokens, next)
		tok = next
		pos++
	}
	return w
}

// pit is the randomised probability integral transform of the choice x
// under the distribution with log-probabilities lp, the tokens ordered most
// likely first (lower id first among equals): the mass of the tokens before
// x plus v times x's own. For x drawn from lp and v uniform, it is exactly
// uniform on [0, 1], and given everything before it, so a model's outputs
// give one independent uniform per position under "same model".
func pit(lp []float64, x int32, v float64) float64 {
	px := lp[x]
	var before float64
	for i, l := range lp {
		if l > px || (l == px && int32(i) < x) {
			before += math.Exp(l)
		}
	}
	return min(before+v*math.Exp(px), 1)
}

// textLogLik is the log-likelihood at temperature t under m of text after
// prompt, re-tokenised as potgen score --by text does (prompt and text
// encoded as one string, the continuation being what follows their common
// prefix with the prompt's own encoding), with end-of-sequence after it when
// stop is set. It is for a pair of two vocabularies, where a token-level
// divergence has no meaning: the Monte Carlo estimate it gives is of the
// divergence between the distributions of texts only to the extent that
// each text has one likely tokenisation.
func textLogLik(m *llama.Model, s *llama.State, prompt, text string, stop bool, t float64) float64 {
	v := m.Vocab()
	enc := v.Encode(prompt, true)
	seq := v.Encode(prompt+text, true)
	start := 0
	for start < min(len(seq), len(enc)) && seq[start] == enc[start] {
		start++
	}
	start = max(start, 1)
	steps := len(seq) - 1
	if stop {
		steps++
	}
	lp := make([]float64, m.Config().VocabSize)
	var sum float64
	for pos := range min(steps, s.Positions()) {
		logits := s.Forward(seq[pos], pos)
		if pos+1 < start {
			continue
		}
		next := v.EOS()
		if pos+1 < len(seq) {
			next = seq[pos+1]
		}
		logSoftmax(lp, logits, t)
		sum += lp[next]
	}
	return sum
}

// forced is m's tempered log-probability, by teacher forcing, of each
// position of the output tokens after prompt (BOS included), with
// end-of-sequence as the last position when stop is set: the per-position
// terms of the output's log-likelihood at temperature t. s and lp are
// scratch of m's context and vocabulary sizes.
func forced(m *llama.Model, s *llama.State, lp []float64, prompt, tokens []int32, stop bool, t float64) []float64 {
	seq := append(append(make([]int32, 0, len(prompt)+len(tokens)), prompt...), tokens...)
	steps := len(seq) - 1
	if stop {
		steps++
	}
	var out []float64
	for pos := range min(steps, s.Positions()) {
		logits := s.Forward(seq[pos], pos)
		if pos+1 < len(prompt) {
			continue
		}
		next := m.Vocab().EOS()
		if pos+1 < len(seq) {
			next = seq[pos+1]
		}
		logSoftmax(lp, logits, t)
		out = append(out, lp[next])
	}
	return out
}
