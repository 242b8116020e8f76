package llama

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/pot-audit/pot/internal/testmodels"
)

func mustLlama2c(t testing.TB, ckpt, tok string) *Model {
	t.Helper()
	m, err := LoadLlama2c(testmodels.Path(t, ckpt), testmodels.Path(t, tok))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustGGUF(t testing.TB, name string) *Model {
	t.Helper()
	m, err := LoadGGUF(testmodels.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tinyConfig is a model shape small enough for fuzz seeds and truncation
// tables that cut at every offset.
func tinyConfig() Config {
	return Config{Dim: 8, HiddenDim: 12, Layers: 1, Heads: 2, KVHeads: 1, VocabSize: 8, SeqLen: 16,
		RopeTheta: DefaultRopeTheta, NormEps: DefaultNormEps}
}

func encodeLlama2c(t testing.TB, m *Model) (ckpt, tok []byte) {
	t.Helper()
	var a, b bytes.Buffer
	if err := m.WriteLlama2c(&a); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteTokenizer(&b); err != nil {
		t.Fatal(err)
	}
	return a.Bytes(), b.Bytes()
}

// encodeGGUF writes m as a version-3 GGUF file with the llama architecture
// keys llama.cpp writes, its tensors as F32 or, with f16, the matrices as
// F16. It is the test's independent encoder for the loader.
func encodeGGUF(m *Model, f16 bool, align int) []byte {
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	str := func(s string) { le(uint64(len(s))); b.WriteString(s) }
	c, v := m.cfg, m.vocab
	type kv struct {
		key string
		put func()
	}
	u32 := func(x int) func() { return func() { le(uint32(ggufUint32)); le(uint32(x)) } }
	kvs := []kv{
		{"general.architecture", func() { le(uint32(ggufString)); str("llama") }},
		{"llama.embedding_length", u32(c.Dim)},
		{"llama.feed_forward_length", u32(c.HiddenDim)},
		{"llama.block_count", u32(c.Layers)},
		{"llama.attention.head_count", u32(c.Heads)},
		{"llama.attention.head_count_kv", u32(c.KVHeads)},
		{"llama.context_length", u32(c.SeqLen)},
		{"llama.rope.dimension_count", u32(c.HeadSize())},
		{"llama.attention.layer_norm_rms_epsilon", func() { le(uint32(ggufFloat32)); le(c.NormEps) }},
		{"llama.rope.freq_base", func() { le(uint32(ggufFloat32)); le(float32(c.RopeTheta)) }},
		{"tokenizer.ggml.model", func() { le(uint32(ggufString)); str("llama") }},
		{"tokenizer.ggml.tokens", func() {
			le(uint32(ggufArray))
			le(uint32(ggufString))
			le(uint64(len(v.pieces)))
			for _, p := range v.pieces {
				str(strings.ReplaceAll(p, " ", "\u2581"))
			}
		}},
		{"tokenizer.ggml.scores", func() {
			le(uint32(ggufArray))
			le(uint32(ggufFloat32))
			le(uint64(len(v.scores)))
			le(v.scores)
		}},
		{"tokenizer.ggml.token_type", func() {
			le(uint32(ggufArray))
			le(uint32(ggufInt32))
			le(uint64(len(v.types)))
			for _, t := range v.types {
				le(int32(t))
			}
		}},
		{"tokenizer.ggml.bos_token_id", u32(int(v.bos))},
		{"tokenizer.ggml.eos_token_id", u32(int(v.eos))},
	}
	if align != 0 {
		kvs = append(kvs, kv{"general.alignment", u32(align)})
	} else {
		align = 32
	}
	ts := m.w.tensors()
	b.WriteString("GGUF")
	le(uint32(3))
	le(uint64(len(ts)))
	le(uint64(len(kvs)))
	for _, e := range kvs {
		str(e.key)
		e.put()
	}
	var data bytes.Buffer
	for _, t := range ts {
		str(t.name)
		rows := len(t.data) / c.Dim
		switch {
		case !t.matrix:
			le(uint32(1))
			le(uint64(len(t.data)))
		case strings.HasSuffix(t.name, "ffn_down.weight"):
			le(uint32(2))
			le(uint64(c.HiddenDim))
			le(uint64(c.Dim))
		default:
			le(uint32(2))
			le(uint64(c.Dim))
			le(uint64(rows))
		}
		for data.Len()%align != 0 {
			data.WriteByte(0)
		}
		off := data.Len()
		if f16 && t.matrix {
			le(uint32(ggmlF16))
			for _, x := range t.data {
				binary.Write(&data, binary.LittleEndian, floatToHalf(x))
			}
		} else {
			le(uint32(ggmlF32))
			binary.Write(&data, binary.LittleEndian, t.data)
		}
		le(uint64(off))
	}
	for b.Len()%align != 0 {
		b.WriteByte(0)
	}
	b.Write(data.Bytes())
	return b.Bytes()
}

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// withType returns a copy of m with every weight matrix quantized to type t
// by the engine's own quantizers, as a reference for loaded files.
func withType(m *Model, t uint32) *Model {
	out := *m
	out.w.layers = slices.Clone(m.w.layers)
	for _, ts := range out.w.tensors() {
		if !ts.matrix {
			continue
		}
		q := quantize(t, ts.m)
		switch ts.m {
		case m.w.embed:
			out.w.embed = &q
			if m.cfg.SharedClassifier {
				out.w.cls = &q
			}
		case m.w.cls:
			out.w.cls = &q
		default:
			*ts.m = q
		}
	}
	return &out
}
