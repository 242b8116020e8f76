package llama

import (
	"context"
	"fmt"
	"math"
)

// Params are the sampling parameters of one generation.
type Params struct {
	Temperature float64 // 0 is greedy
	TopP        float64 // nucleus mass kept; 0 or >= 1 is off
	TopK        int     // candidates kept; 0 is off
	MaxTokens   int     // tokens to generate; 0 or less: until EOS or the context is full
	Logprobs    int     // alternatives recorded per position
	Seed        uint64  // seeds the Rand that draws the tokens
}

// Options tune how a generation computes, never what it computes.
type Options struct {
	Threads int // goroutines per matrix product; 0 or 1 for none
}

// Finish reasons.
const (
	FinishStop   = "stop"   // the model chose EOS
	FinishLength = "length" // MaxTokens reached, or the context is full
)

// Output is a generation's result. Position i's alternatives are
// TopTokens[i*K:(i+1)*K] and TopLogprobs[i*K:(i+1)*K] with K = Params.Logprobs,
// most likely first (ties by lower id), padded with token -1 and -Inf when
// the vocabulary is smaller than K. EOS, when chosen, ends the generation
// and is not part of Tokens, as OpenAI-style servers report it.
type Output struct {
	Tokens      []int32
	Logprobs    []float32
	TopTokens   []int32
	TopLogprobs []float32
	Finish      string
}

// Generate continues the prompt (token ids, BOS included if wanted) and
// records, for every generated position, the chosen token's log-probability
// and the top alternatives, all under the model's raw distribution (the
// softmax of the logits, before temperature, top-k and top-p), as vLLM
// reports them.
//
// Choosing a token: with temperature 0, the most likely token (lowest id on
// a tie). Otherwise the logits are divided by the temperature and turned
// into probabilities; top-k keeps the k most likely tokens, and top-p then
// keeps the shortest most-likely-first run whose mass reaches p of what is
// left (ties in probability ordered by lower id). One Float64 u from the
// Rand seeded with Params.Seed picks, walking the kept tokens in id order,
// the first whose cumulative probability exceeds u times their total mass.
// One value is drawn per sampled token, and all arithmetic is the engine's
// own (see Rand, detExp), so equal inputs give equal tokens on every
// machine.
//
// Generate checks ctx between tokens and returns its error, with the tokens
// so far, when it is done.
func (m *Model) Generate(ctx context.Context, prompt []int32, p Params, o Options) (Output, error) {
	c := m.cfg
	if len(prompt) == 0 {
		return Output{}, fmt.Errorf("%w: empty prompt (not even BOS)", ErrPromptTooLong)
	}
	if len(prompt) >= c.SeqLen {
		return Output{}, fmt.Errorf("%w: %d tokens, the context holds %d and one must be left to generate", ErrPromptTooLong, len(prompt), c.SeqLen)
	}
	for _, t := range prompt {
		if t < 0 || int(t) >= c.VocabSize {
			return Output{}, fmt.Errorf("llama: prompt token %d outside the vocabulary of %d", t, c.VocabSize)
		}
	}
	if p.Temperature < 0 || math.IsNaN(p.Temperature) || p.TopK < 0 || p.Logprobs < 0 || math.IsNaN(p.TopP) {
		return Output{}, fmt.Errorf("llama: bad sampling parameters %+v", p)
	}
	// The last position that can be computed is SeqLen-1; the token chosen
	// there is the last one.
	steps := c.SeqLen - len(prompt)
	if p.MaxTokens > 0 {
		steps = min(steps, p.MaxTokens)
	}
	s := m.NewState(len(prompt)+steps-1, o.Threads)
	smp := newSampler(c.VocabSize, p, m.simd)
	out := Output{Finish: FinishLength}
	// The prompt, its last token included, is one batch to llama.cpp.
	s.SetBatch(len(prompt) > 1)
	for pos, t := range prompt[:len(prompt)-1] {
		if pos%64 == 63 {
			if err := ctx.Err(); err != nil {
				return out, err
			}
		}
		s.Forward(t, pos)
	}
	tok, pos := prompt[len(prompt)-1], len(prompt)-1
	for range steps {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		logits := s.Forward(tok, pos)
		s.SetBatch(false)
		next, lp := smp.next(logits, &out)
		if next == m.vocab.eos {
			out.Finish = FinishStop
			// EOS is dropped from the positions: remove its alternatives.
			k := p.Logprobs
			out.TopTokens = out.TopTokens[:len(out.TopTokens)-k]
			out.TopLogprobs = out.TopLogprobs[:len(out.TopLogprobs)-k]
			break
		}
		out.Tokens = append(out.Tokens, next)
		out.Logprobs = append(out.Logprobs, lp)
		tok = next
		pos++
	}
	return out, nil
}

// sampler holds the scratch space of token choice for one generation.
type sampler struct {
	p     Params
	rng   *Rand
	lp    []float64 // raw log-probabilities
	prob  []float64 // tempered probabilities
	cand  []int32   // candidate ids
	keep  []bool    // the kept candidates, by id; all false between draws
	topID []int32
	topLP []float64
	simd  bool // the AVX2 kernels may run
}

func newSampler(vocab int, p Params, simd bool) *sampler {
	s := &sampler{p: p, rng: NewRand(p.Seed), lp: make([]float64, vocab), simd: simd}
	if p.Temperature > 0 {
		s.prob = make([]float64, vocab)
		s.cand = make([]int32, 0, vocab)
		s.keep = make([]bool, vocab)
	}
	return s
}

// logSoftmax sets dst to the log-softmax of x (in float64) and returns the
// index of the largest value, lowest first on ties. When exps is not nil it
// receives exp(x[i] - max x), the unnormalized probabilities at temperature 1.
// simd lets the exponentials run four at a time in AVX2, to the same bits.
func logSoftmax(dst []float64, x []float32, exps []float64, simd bool) int32 {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	mx := float64(x[best])
	e := dst
	if exps != nil {
		e = exps
	}
	e = e[:len(x)]
	for i := 0; i < len(x); {
		if simd && len(x)-i >= 4 {
			i += detExpAVX2(&e[i], &x[i], len(x)-i, mx)
		}
		// The four the kernel stopped at, or the last few.
		for end := min(i+4, len(x)); i < end; i++ {
			e[i] = detExp(float64(x[i]) - mx)
		}
	}
	var sum float64
	for _, v := range e {
		sum += v
	}
	lse := mx + detLog(sum)
	for i, v := range x {
		dst[i] = float64(v) - lse
	}
	return int32(best)
}

// next chooses a token from the logits, appends the position's alternatives
// to out, and returns the token and its raw log-probability.
func (s *sampler) next(logits []float32, out *Output) (int32, float32) {
	var exps []float64
	if s.p.Temperature == 1 {
		exps = s.prob // draw reuses them rather than exponentiating again
	}
	argmax := logSoftmax(s.lp, logits, exps, s.simd)
	if k := s.p.Logprobs; k > 0 {
		s.topID, s.topLP = topK(s.lp, k, s.topID[:0], s.topLP[:0])
		for i := range k {
			if i < len(s.topID) {
				out.TopTokens = append(out.TopTokens, s.topID[i])
				out.TopLogprobs = append(out.TopLogprobs, float32(s.topLP[i]))
			} else {
				out.TopTokens = append(out.TopTokens, -1)
				out.TopLogprobs = append(out.TopLogprobs, float32(math.Inf(-1)))
			}
		}
	}
	tok := argmax
	if s.p.Temperature > 0 {
		tok = s.draw(logits)
	}
	return tok, float32(s.lp[tok])
}

// topK returns the k largest values of lp with their indices, largest first,
// lower index first on ties.
func topK(lp []float64, k int, ids []int32, vals []float64) ([]int32, []float64) {
	k = min(k, len(lp))
	for i, v := range lp {
		if len(ids) == k && v <= vals[k-1] {
			continue
		}
		if len(ids) < k {
			ids = append(ids, 0)
			vals = append(vals, 0)
		}
		j := len(ids) - 1
		for j > 0 && vals[j-1] < v {
			ids[j], vals[j] = ids[j-1], vals[j-1]
			j--
		}
		ids[j], vals[j] = int32(i), v
	}
	return ids, vals
}

// draw samples a token from the tempered, truncated distribution.
func (s *sampler) draw(logits []float32) int32 {
	t := s.p.Temperature
	mx := logits[0]
	for _, v := range logits {
		mx = max(mx, v)
	}
	var total float64
	if t == 1 {
		for _, e := range s.prob { // set by logSoftmax: the same values
			total += e
		}
	} else {
		for i, v := range logits {
			e := detExp((float64(v) - float64(mx)) / t)
			s.prob[i] = e
			total += e
		}
	}
	for i := range s.prob {
		s.prob[i] /= total
	}
	topP := s.p.TopP > 0 && s.p.TopP < 1
	if s.p.TopK == 0 && !topP {
		return pick(s.prob, nil, 1, s.rng.Float64())
	}
	cand := s.cand[:0]
	if topP && s.p.TopK == 0 {
		// Only the most likely token and those above (1-p)/(n-1) can be in
		// the nucleus: a later member j has cumulative mass below p before
		// it, so j and the at most n-1 tokens from j on hold more than 1-p,
		// each no more than prob[j]. Skipping the rest saves time.
		cut := (1 - s.p.TopP) / float64(len(s.prob)-1)
		best := 0
		for i, q := range s.prob {
			if q > s.prob[best] {
				best = i
			}
		}
		for i, q := range s.prob {
			if q > cut || i == best {
				cand = append(cand, int32(i))
			}
		}
	} else {
		for i := range s.prob {
			cand = append(cand, int32(i))
		}
	}
	s.cand = cand
	if s.p.TopK > 0 && len(cand) > s.p.TopK {
		cand = selectTop(s.prob, cand, func(n int, _ float64) bool { return n >= s.p.TopK })
	}
	mass := 0.0
	for _, c := range cand {
		mass += s.prob[c]
	}
	if topP {
		// Top-p applies to the distribution left by top-k, renormalized.
		need := s.p.TopP * mass
		cand = selectTop(s.prob, cand, func(_ int, m float64) bool { return m >= need })
		mass = 0
		for _, c := range cand {
			mass += s.prob[c]
		}
	}
	for _, c := range cand {
		s.keep[c] = true
	}
	tok := pick(s.prob, s.keep, mass, s.rng.Float64())
	for _, c := range cand {
		s.keep[c] = false
	}
	return tok
}

// before orders tokens most likely first, lower id first among equals.
func before(prob []float64, a, b int32) bool {
	return prob[a] > prob[b] || (prob[a] == prob[b] && a < b)
}

// selectTop reorders cand and returns its shortest most-likely-first prefix
// for which enough(count, mass) holds (all of cand when none does), in no
// particular order. It is quickselect with a middle pivot: linear time on
// average, where sorting 32,000 candidates per token would dominate the
// generation of a small model.
func selectTop(prob []float64, cand []int32, enough func(n int, mass float64) bool) []int32 {
	lo, hi := 0, len(cand)
	acc := 0.0 // mass of cand[:lo], all known to be in the prefix
	for lo < hi {
		mid := lo + (hi-lo)/2
		cand[mid], cand[hi-1] = cand[hi-1], cand[mid]
		pv := cand[hi-1]
		store := lo
		var m float64
		for i := lo; i < hi-1; i++ {
			if before(prob, cand[i], pv) {
				m += prob[cand[i]]
				cand[i], cand[store] = cand[store], cand[i]
				store++
			}
		}
		cand[store], cand[hi-1] = cand[hi-1], cand[store]
		if store > lo && enough(store, acc+m) {
			hi = store // the prefix ends before the pivot
			continue
		}
		acc += m + prob[pv]
		if enough(store+1, acc) {
			return cand[:store+1]
		}
		lo = store + 1
	}
	return cand[:lo]
}

// pick returns the first token whose cumulative probability exceeds u*mass,
// walking the ids in order and skipping those not kept (all are kept when
// keep is nil); rounding leftovers go to the last kept token.
func pick(prob []float64, keep []bool, mass, u float64) int32 {
	r := u * mass
	var cum float64
	last := int32(-1)
	for i, q := range prob {
		if keep != nil && !keep[i] {
			continue
		}
		cum += q
		last = int32(i)
		if r < cum {
			break
		}
	}
	return last
}
