package llama

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
)

// SynthConfig returns the shape of the synthetic models made by Synth: small
// enough to generate thousands of tokens a second, and Llama-shaped down to
// grouped-query attention and an unshared classifier.
func SynthConfig() Config {
	return Config{Dim: 64, HiddenDim: 176, Layers: 4, Heads: 4, KVHeads: 2, VocabSize: 512, SeqLen: 512,
		RopeTheta: DefaultRopeTheta, NormEps: DefaultNormEps}
}

// synthLogitScale is the standard deviation of the synthetic model's logits
// over text pieces. Random weights with unit-scale logits give nearly flat
// next-token distributions, unlike a trained model's; at this scale the most
// likely token usually has well over half the probability.
const synthLogitScale = 6.0

// synthVocab builds the synthetic vocabulary: <unk>, BOS and EOS, the 256
// byte tokens, single characters, then every prefix of synthWords until the
// vocabulary is full. Each piece is a known piece plus one character, so
// every piece can be reached by Encode's pair merges; earlier pieces score
// higher.
func synthVocab(n int) *Vocab {
	// Prefixes of these words fill the vocabulary after the single
	// characters, so that generated text reads as words.
	synthWords := []string{" the", " a", " and", " to", " was", " she", " he", " it", " of", " in",
		" day", " big", " little", " girl", " boy", " dog", " cat", " play", " happy", " saw", " said",
		" time", " once", " upon", " there", " one", " with", " her", " his", " they", " friend", " tree",
		" park", " ball", " sun", " red", " blue", " very", " went", " had", " not", " lily", " tom",
		" mom", " home", " fun", " wanted", " looked", " found", " bird", " sky", " water", " then",
		"ed", "ing", "ly", "s"}
	pieces := []string{"<unk>", "<s>", "</s>"}
	types := []TokenType{TokenUnknown, TokenControl, TokenControl}
	for b := range 256 {
		if n < 3+256+73 {
			break // a tiny test vocabulary: no byte fallback
		}
		pieces = append(pieces, fmt.Sprintf("<0x%02X>", b))
		types = append(types, TokenByte)
	}
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] && len(pieces) < n {
			seen[p] = true
			pieces = append(pieces, p)
			types = append(types, TokenNormal)
		}
	}
	for _, c := range " abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\"-:;\n" {
		add(string(c))
	}
	for len(pieces) < n {
		before := len(pieces)
		for _, w := range synthWords {
			for i := 2; i <= len(w); i++ {
				add(w[:i])
			}
		}
		for _, w := range synthWords {
			add(w + " ")
		}
		if len(pieces) == before {
			// Out of words: pad with numbered pieces, each still a known
			// piece plus one character.
			add(fmt.Sprintf("%d", len(pieces)))
		}
	}
	scores := make([]float32, n)
	for i := range scores {
		if types[i] == TokenNormal {
			scores[i] = -float32(i)
		}
	}
	v, err := NewVocab(pieces, scores, types, 1, 2, 0)
	if err != nil {
		panic("llama: synthetic vocabulary: " + err.Error()) // a bug in this file, not bad input
	}
	return v
}

// Synth returns the synthetic model of the given seed, shaped as
// SynthConfig(). Its weights are standard normal values from Rand (one stream
// per tensor, seeded with mix(seed, tensor index)) scaled by 1/sqrt(fan-in),
// with unit RMSNorm gains; the classifier is scaled so that logits have
// standard deviation synthLogitScale, except for the unknown, BOS and byte
// tokens whose rows are zero so that generated text stays printable. Its
// digest is the SHA-256 of its llama2.c encoding (WriteLlama2c), so the same
// seed gives the same digest on every machine.
func Synth(seed uint64) *Model { return synth(seed, SynthConfig()) }

// synth makes a synthetic model of any shape with at least 4 tokens; below
// 332 tokens the vocabulary has no byte tokens (tests use such tiny shapes).
func synth(seed uint64, c Config) *Model {
	v := synthVocab(c.VocabSize)
	d, h, kv := c.Dim, c.HiddenDim, c.KVDim()
	idx := uint64(0)
	gen := func(n int, std float64) []float32 {
		r := NewRand(mix(seed, idx))
		idx++
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(r.Norm() * std)
		}
		return out
	}
	ones := func(n int) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = 1
		}
		return out
	}
	in := 1 / math.Sqrt(float64(d))
	var w weights
	mat := func(rows, cols int, std float64) matrix { return f32Matrix(rows, cols, gen(rows*cols, std)) }
	embed := mat(c.VocabSize, d, 1)
	w.embed = &embed
	w.layers = make([]layer, c.Layers)
	for i := range w.layers {
		w.layers[i] = layer{
			attnNorm: ones(d), ffnNorm: ones(d),
			wq: mat(d, d, in), wk: mat(kv, d, in), wv: mat(kv, d, in), wo: mat(d, d, in),
			w1: mat(h, d, in), w2: mat(d, h, 1/math.Sqrt(float64(h))), w3: mat(h, d, in),
		}
	}
	w.finalNorm = ones(d)
	cls := mat(c.VocabSize, d, synthLogitScale*in)
	w.cls = &cls
	for id := range c.VocabSize {
		if _, t := v.Piece(int32(id)); t == TokenUnknown || t == TokenByte || int32(id) == v.BOS() {
			clear(w.cls.f[id*d : (id+1)*d])
		}
	}
	m := &Model{cfg: c, vocab: v, w: w, simd: hasSIMD(), wide: hasAVX512(), vnni: vnniLevel()}
	hs := sha256.New()
	if err := m.WriteLlama2c(hs); err != nil {
		panic("llama: hashing never fails: " + err.Error())
	}
	m.digest = "sha256:" + hex.EncodeToString(hs.Sum(nil))
	return m
}
