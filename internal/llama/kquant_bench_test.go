//go:build unix

package llama

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"
)

// benchKTypes are the types of kquant_amd64.s, each with the binary16
// scale fields of its block and a value for them that keeps the weights
// within about 0.1, as trained weights are.
var benchKTypes = []struct {
	typ    uint32
	halves []int
	scale  float64
}{
	{ggmlQ2_K, []int{80, 82}, 2e-3},
	{ggmlQ3_K, []int{108}, 8e-4},
	{ggmlQ5_K, []int{0, 2}, 5e-5},
	{ggmlIQ4XS, []int{0}, 2.5e-5},
}

// benchKBlocks is a rows x cols matrix of random blocks of type typ whose
// scale fields are scale times a factor between 0.5 and 1.5.
func benchKBlocks(r *Rand, typ uint32, halves []int, scale float64, rows, cols int) matrix {
	m := randomBlocks(r, typ, rows, cols)
	q, _ := qtypeOf(typ)
	for b := 0; b < len(m.q); b += q.bytes {
		for _, off := range halves {
			binary.LittleEndian.PutUint16(m.q[b+off:], floatToHalf(float32(scale*(0.5+r.Float64()))))
		}
	}
	return m
}

// benchKConfig is a synthetic model whose every matrix is 256 or 768
// columns wide, so that each can hold blocks of 256.
func benchKConfig() Config {
	return Config{Dim: 256, HiddenDim: 768, Layers: 4, Heads: 4, KVHeads: 2, VocabSize: 512, SeqLen: 256,
		RopeTheta: DefaultRopeTheta, NormEps: DefaultNormEps}
}

// withRandomBlocks returns a copy of m with every matrix whose rows hold
// blocks of 256, the embedding and the classifier included, replaced by
// random blocks of type typ of the same shape: the work of a file of that
// type (llama-quantize too leaves the narrower matrices to another type;
// here they stay F32).
func withRandomBlocks(m *Model, typ uint32, halves []int, scale float64) *Model {
	r := NewRand(uint64(typ))
	conv := func(w *matrix) matrix {
		if w.cols%256 != 0 {
			return *w
		}
		return benchKBlocks(r, typ, halves, scale, w.rows, w.cols)
	}
	out := *m
	embed, cls := conv(m.w.embed), conv(m.w.cls)
	out.w.embed, out.w.cls = &embed, &cls
	out.w.layers = make([]layer, len(m.w.layers))
	for i, l := range m.w.layers {
		out.w.layers[i] = layer{attnNorm: l.attnNorm, ffnNorm: l.ffnNorm,
			wq: conv(&l.wq), wk: conv(&l.wk), wv: conv(&l.wv), wo: conv(&l.wo),
			w1: conv(&l.w1), w2: conv(&l.w2), w3: conv(&l.w3)}
	}
	return &out
}

// greedySteps runs steps greedy forward steps from BOS on one thread and
// fails on a non-finite logit (a NaN would also send the activations to
// the portable quantizer and measure the wrong code).
func greedySteps(b *testing.B, m *Model, steps int) {
	st := m.NewState(steps, 1)
	tok := int32(1)
	for pos := range steps {
		logits := st.Forward(tok, pos)
		best := 0
		for i, v := range logits {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				b.Fatalf("position %d: logit %d is %v", pos, i, v)
			}
			if v > logits[best] {
				best = i
			}
		}
		tok = int32(best)
	}
}

// BenchmarkKQuantCPU reports forward steps (tokens) per second of CPU
// time, one thread, for two models in F32 and with their matrices in each
// type of kquant_amd64.s (random blocks; see withRandomBlocks): a
// synthetic model of benchKConfig's shape, every matrix of which takes
// the type, and the shared stories260K-ffn256, only whose ffn_down does.
// Each figure is the best of the iterations, each iteration a round over
// all the models: interleaved rounds compare the types fairly on a loaded
// machine. Run it with -benchtime 10x for 10 rounds.
func BenchmarkKQuantCPU(b *testing.B) {
	const steps = 128
	type variant struct {
		name string
		m    *Model
		best float64
	}
	stories, err := LoadGGUF(quantPath(b, "F32"))
	if err != nil {
		b.Fatal(err)
	}
	var vs []*variant
	for _, base := range []struct {
		name string
		m    *Model
	}{{"synth256", synth(1, benchKConfig())}, {"stories260K-ffn256", stories}} {
		vs = append(vs, &variant{name: base.name + "/F32", m: base.m})
		for _, kt := range benchKTypes {
			vs = append(vs, &variant{name: base.name + "/" + ggmlTypeName(kt.typ), m: withRandomBlocks(base.m, kt.typ, kt.halves, kt.scale)})
		}
	}
	for b.Loop() {
		for _, v := range vs {
			c0 := cpuTime(b)
			greedySteps(b, v.m, steps)
			v.best = max(v.best, steps/(cpuTime(b)-c0).Seconds())
		}
	}
	for _, v := range vs {
		b.ReportMetric(v.best, v.name+"-tokens/cpu-s")
	}
}

// BenchmarkKQuantMatmul times one matrix-vector product (the activation
// conversion included) of each type of kquant_amd64.s, with the AVX2
// kernels and with the portable ones, beside F32's AVX2 kernel, at the
// feed-forward shapes of benchKConfig and at the shape of
// stories260K-ffn256's ffn_down, the one matrix of the shared model wide
// enough for blocks of 256.
func BenchmarkKQuantMatmul(b *testing.B) {
	r := NewRand(3)
	for _, shape := range [][2]int{{768, 256}, {256, 768}, {64, 256}} {
		rows, cols := shape[0], shape[1]
		x := randomInput(r, cols)
		out := make([]float32, rows)
		w := make([]float32, rows*cols)
		for i := range w {
			w[i] = float32(r.Norm())
		}
		run := func(name string, m matrix, simd bool) {
			b.Run(fmt.Sprintf("%dx%d/%s", rows, cols, name), func(b *testing.B) {
				in := act{simd: simd, probed: true}
				for b.Loop() {
					in.prepare(m.actFormat(), x)
					m.dotRows(out, &in, 0, rows)
				}
				b.ReportMetric(float64(rows*cols)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
		}
		run("F32", f32Matrix(rows, cols, w), hasSIMD())
		for _, kt := range benchKTypes {
			m := benchKBlocks(r, kt.typ, kt.halves, kt.scale, rows, cols)
			run(ggmlTypeName(kt.typ)+"/portable", m, false)
			if hasSIMD() {
				run(ggmlTypeName(kt.typ)+"/avx2", m, true)
			}
		}
	}
}

// BenchmarkQ8KQuantize times the conversion of 768 activations to Q8_K,
// portable and AVX2.
func BenchmarkQ8KQuantize(b *testing.B) {
	x := randomInput(NewRand(4), 768)
	for _, simd := range []bool{false, true} {
		if simd && !hasSIMD() {
			continue
		}
		b.Run(fmt.Sprintf("avx2=%v", simd), func(b *testing.B) {
			in := act{simd: simd, probed: true}
			for b.Loop() {
				in.prepare(actQ8_K, x)
			}
		})
	}
}
