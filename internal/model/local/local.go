// Package local serves pot's model interface from the pure-Go engine in
// internal/llama: llama2.c checkpoints, GGUF files and seeded synthetic
// models, optionally with perturbed weights. Generation happens in process,
// so a sample is as reproducible as the seed that drives it.
package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/llama"
	"github.com/pot-audit/pot/internal/model"
)

// Model is a local engine model. It holds read-only weights and is safe for
// concurrent use: every Generate call has its own state.
type Model struct {
	m       *llama.Model
	info    format.Model
	threads int
	pieces  *format.Pieces // the bytes of every token: records point at it
}

// Pieces returns the bytes of every token of the model's vocabulary
// (model.Vocabulary).
func (l *Model) Pieces() *format.Pieces { return l.pieces }

// Open loads the model of spec:
//
//	synth:SEED                          the synthetic model of that seed
//	llama2c:PATH[,tokenizer=PATH]       a llama2.c checkpoint; the tokenizer
//	                                    defaults to tokenizer.bin next to it
//	gguf:PATH                           a GGUF file (F32, F16, BF16 or
//	                                    quantized tensors, computed as
//	                                    llama.cpp's CPU backend does)
//
// Each accepts ,perturb=f16|int8|q8_0|q4_0|q4_1|q5_0|q5_1|q6_k|iq4_nl|q4_k_m|noise:SIGMA|prune:FRACTION;
// the q kinds quantize the weights as llama-quantize would. o.Threads is
// the goroutines a generation may use for one matrix product; 0 shares the
// machine's cores among o.Jobs concurrent queries.
func Open(spec model.Spec, o model.Options) (model.Model, error) {
	var (
		m    *llama.Model
		name string
		err  error
	)
	switch spec.Backend {
	case "synth":
		if err := spec.Check("perturb"); err != nil {
			return nil, err
		}
		seed, perr := strconv.ParseUint(spec.Arg, 10, 64)
		if perr != nil {
			return nil, fmt.Errorf("model spec %q: synth seed %q is not an unsigned integer", spec.Raw, spec.Arg)
		}
		m, name = llama.Synth(seed), "synth:"+spec.Arg
	case "llama2c":
		if err := spec.Check("tokenizer", "perturb"); err != nil {
			return nil, err
		}
		tok, ok := spec.Params["tokenizer"]
		if !ok {
			tok = filepath.Join(filepath.Dir(spec.Arg), "tokenizer.bin")
			if _, serr := os.Stat(tok); errors.Is(serr, fs.ErrNotExist) {
				return nil, fmt.Errorf("model spec %q: no tokenizer.bin next to the checkpoint: pass tokenizer=PATH", spec.Raw)
			}
		}
		m, err = llama.LoadLlama2c(spec.Arg, tok)
		name = filepath.Base(spec.Arg)
	case "gguf":
		if err := spec.Check("perturb"); err != nil {
			return nil, err
		}
		m, err = llama.LoadGGUF(spec.Arg)
		name = filepath.Base(spec.Arg)
	default:
		return nil, fmt.Errorf("model spec %q: backend %q is not a local model (synth, llama2c, gguf)", spec.Raw, spec.Backend)
	}
	if err != nil {
		return nil, err
	}
	if ps, ok := spec.Params["perturb"]; ok {
		p, err := llama.ParsePerturbation(ps)
		if err != nil {
			return nil, fmt.Errorf("model spec %q: %w", spec.Raw, err)
		}
		if m, err = m.Perturb(p); err != nil {
			return nil, fmt.Errorf("model spec %q: %w", spec.Raw, err)
		}
	}
	threads := o.Threads
	if threads <= 0 {
		threads = max(1, runtime.NumCPU()/max(1, o.Jobs))
	}
	return &Model{m: m, threads: threads, pieces: vocabPieces(m.Vocab()), info: format.Model{
		Backend: spec.Backend,
		Name:    name,
		Digest:  m.Digest(),
		Vocab:   m.Vocab().Digest(),
		Perturb: m.Perturbation(),
		Meta:    m.Config().Meta(),
	}}, nil
}

// Info identifies the model for a stream header. Meta holds its dimensions.
func (l *Model) Info() format.Model {
	info := l.info
	info.Meta = make(map[string]string, len(l.info.Meta))
	for k, v := range l.info.Meta {
		info.Meta[k] = v
	}
	return info
}

// Generate samples a continuation of q.Prompt (BOS prepended) with q.Seed
// and q.Sampling; rec.Pieces is the vocabulary's bytes, shared by all
// records. Log-probabilities are those of the raw softmax, before
// temperature and truncation; TopK is q.Sampling.Logprobs. EOS ends the
// text with Finish "stop" and is not among the tokens; MaxTokens 0 means up
// to the context length.
func (l *Model) Generate(ctx context.Context, q model.Query, rec *format.Record) error {
	v := l.m.Vocab()
	prompt := v.Encode(q.Prompt, true)
	s := q.Sampling
	out, err := l.m.Generate(ctx, prompt, llama.Params{
		Temperature: s.Temperature,
		TopP:        s.TopP,
		TopK:        s.TopK,
		MaxTokens:   s.MaxTokens,
		Logprobs:    s.Logprobs,
		Seed:        q.Seed,
	}, llama.Options{Threads: l.threads})
	if err != nil {
		return fmt.Errorf("%s: %w", l.info.Name, err)
	}
	rec.Tokens = out.Tokens
	rec.Logprobs = out.Logprobs
	rec.TopK = s.Logprobs
	rec.TopTokens = out.TopTokens
	rec.TopLogprobs = out.TopLogprobs
	rec.Text = v.Decode(prompt[len(prompt)-1], out.Tokens)
	rec.Finish = out.Finish
	rec.Attempts = 1
	rec.Pieces = l.pieces
	return nil
}

// Close releases nothing: the weights are garbage collected with the Model.
func (l *Model) Close() error { return nil }
