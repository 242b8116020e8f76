package llama

import (
	"fmt"
	"math/bits"
	"strconv"
)

// Config is the shape of a Llama-family model.
type Config struct {
	Dim       int // width of the residual stream
	HiddenDim int // width of the SwiGLU feed-forward layer
	Layers    int
	Heads     int // query heads
	KVHeads   int // key/value heads; Heads is a multiple of it (grouped-query attention)
	VocabSize int
	SeqLen    int     // context length: positions the model may attend over
	RopeTheta float64 // rotary embedding base, 10000 unless the file says otherwise
	NormEps   float32 // RMSNorm epsilon, 1e-5 unless the file says otherwise
	// SharedClassifier is true when the output projection is the token
	// embedding table itself.
	SharedClassifier bool
}

// Default values for what llama2.c checkpoints do not record.
const (
	DefaultRopeTheta = 10000.0
	DefaultNormEps   = float32(1e-5)
)

// maxDim bounds every dimension read from a file, so that sizes computed
// from a header cannot overflow before they are compared with the file.
const maxDim = 1 << 24

// HeadSize is the width of one attention head.
func (c Config) HeadSize() int { return c.Dim / c.Heads }

// KVDim is the width of the keys (and values) of one position.
func (c Config) KVDim() int { return c.KVHeads * c.HeadSize() }

// Validate checks that the dimensions are positive, consistent and small
// enough for their products to be computed safely.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"dim", c.Dim}, {"hidden dim", c.HiddenDim}, {"layers", c.Layers}, {"heads", c.Heads},
		{"kv heads", c.KVHeads}, {"vocab size", c.VocabSize}, {"seq len", c.SeqLen}} {
		if f.v <= 0 || f.v > maxDim {
			return fmt.Errorf("%w: %s %d out of range [1, %d]", ErrFormat, f.name, f.v, maxDim)
		}
	}
	switch {
	case c.Dim%c.Heads != 0:
		return fmt.Errorf("%w: dim %d is not a multiple of heads %d", ErrFormat, c.Dim, c.Heads)
	case c.Heads%c.KVHeads != 0:
		return fmt.Errorf("%w: heads %d is not a multiple of kv heads %d", ErrFormat, c.Heads, c.KVHeads)
	case c.HeadSize()%2 != 0:
		return fmt.Errorf("%w: head size %d is odd, rotary embeddings need pairs", ErrFormat, c.HeadSize())
	case !(c.RopeTheta > 0):
		return fmt.Errorf("%w: rope theta %v is not positive", ErrFormat, c.RopeTheta)
	case !(c.NormEps >= 0):
		return fmt.Errorf("%w: norm epsilon %v is negative", ErrFormat, c.NormEps)
	}
	if _, ok := c.paramCount(); !ok {
		return fmt.Errorf("%w: model too large", ErrFormat)
	}
	return nil
}

// paramCount is the number of weights; ok is false when it would pass
// 2^62. Every dimension is at most maxDim (2^24), so only the product with
// the layer count can overflow, and that one is checked.
func (c Config) paramCount() (n int64, ok bool) {
	d, h, kv, v := int64(c.Dim), int64(c.HiddenDim), int64(c.KVDim()), int64(c.VocabSize)
	perLayer := 2*d*d + 2*d*kv + 3*d*h + 2*d
	hi, lo := bits.Mul64(uint64(perLayer), uint64(c.Layers))
	if hi != 0 || lo > 1<<62 {
		return 0, false
	}
	n = int64(lo) + v*d + d
	if !c.SharedClassifier {
		n += v * d
	}
	return n, n <= 1<<62
}

// Meta describes the configuration as strings, for a stream header.
func (c Config) Meta() map[string]string {
	return map[string]string{
		"dim":        strconv.Itoa(c.Dim),
		"hidden_dim": strconv.Itoa(c.HiddenDim),
		"layers":     strconv.Itoa(c.Layers),
		"heads":      strconv.Itoa(c.Heads),
		"kv_heads":   strconv.Itoa(c.KVHeads),
		"vocab_size": strconv.Itoa(c.VocabSize),
		"seq_len":    strconv.Itoa(c.SeqLen),
		"rope_theta": strconv.FormatFloat(c.RopeTheta, 'g', -1, 64),
		"norm_eps":   strconv.FormatFloat(float64(c.NormEps), 'g', -1, 32),
		"shared_cls": strconv.FormatBool(c.SharedClassifier),
	}
}

// layer holds one transformer block's weights. Matrices have one row per
// output: wq is Dim x Dim, wk and wv KVDim x Dim, wo Dim x Dim, w1 and w3
// HiddenDim x Dim, w2 Dim x HiddenDim. The RMSNorm gains are float32.
type layer struct {
	attnNorm, ffnNorm []float32
	wq, wk, wv, wo    matrix
	w1, w2, w3        matrix
}

// weights holds a model's tensors. cls aliases embed when the classifier is
// shared.
type weights struct {
	embed     *matrix // VocabSize x Dim
	layers    []layer
	finalNorm []float32
	cls       *matrix // VocabSize x Dim
}

// Model is a loaded or generated model: configuration, vocabulary and
// weights. It is never modified after construction, so one Model may serve
// many goroutines at once.
type Model struct {
	cfg     Config
	vocab   *Vocab
	w       weights
	digest  string
	perturb string
	// simd is hasSIMD(), wide hasAVX512() and vnni vnniLevel(), asked
	// once per model: cpuid can trap to a hypervisor and take tens of
	// microseconds, too long to ask per sequence.
	simd, wide bool
	vnni       int8
}

// Config returns the model's shape.
func (m *Model) Config() Config { return m.cfg }

// Vocab returns the model's vocabulary.
func (m *Model) Vocab() *Vocab { return m.vocab }

// Digest identifies the weights: "sha256:" and the hex SHA-256 of the
// weights file (for a synthetic model, of its llama2.c encoding). A
// perturbation does not change it; see Perturbation.
func (m *Model) Digest() string { return m.digest }

// Perturbation returns the canonical spec of the perturbation applied to the
// weights, or "" for none.
func (m *Model) Perturbation() string { return m.perturb }

// WeightBytes is the memory the model's weights take: a quantized model
// keeps its file's blocks, so this is about the file's size.
func (m *Model) WeightBytes() int64 {
	n := int64(0)
	for _, t := range m.w.tensors() {
		if t.m != nil {
			n += int64(t.m.heldBytes())
		} else {
			n += 4 * int64(len(t.data))
		}
	}
	return n
}

// TensorTypes counts the model's matrices by GGML type name ("F32",
// "Q8_0", ...), for a stream header or a user who wants to know what a file
// holds.
func (m *Model) TensorTypes() map[string]int {
	out := map[string]int{}
	for _, t := range m.w.tensors() {
		if t.m != nil {
			out[t.m.typeName()]++
		}
	}
	return out
}

// tensor is a named view of one weight matrix (m) or vector (data); data
// also holds an F32 matrix's weights.
type tensor struct {
	name   string
	data   []float32
	matrix bool
	m      *matrix
}

// tensors lists the model's distinct tensors in llama2.c's order, with GGUF
// names; a shared classifier appears once, as the embedding.
func (w *weights) tensors() []tensor {
	mat := func(name string, m *matrix) tensor { return tensor{name, m.f, true, m} }
	vec := func(name string, v []float32) tensor { return tensor{name: name, data: v} }
	ts := []tensor{mat("token_embd.weight", w.embed)}
	for i := range w.layers {
		l := &w.layers[i]
		p := fmt.Sprintf("blk.%d.", i)
		ts = append(ts,
			vec(p+"attn_norm.weight", l.attnNorm),
			mat(p+"attn_q.weight", &l.wq),
			mat(p+"attn_k.weight", &l.wk),
			mat(p+"attn_v.weight", &l.wv),
			mat(p+"attn_output.weight", &l.wo),
			vec(p+"ffn_norm.weight", l.ffnNorm),
			mat(p+"ffn_gate.weight", &l.w1),
			mat(p+"ffn_down.weight", &l.w2),
			mat(p+"ffn_up.weight", &l.w3))
	}
	ts = append(ts, vec("output_norm.weight", w.finalNorm))
	if w.cls != w.embed {
		ts = append(ts, mat("output.weight", w.cls))
	}
	return ts
}
