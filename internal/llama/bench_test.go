package llama

import (
	"context"
	"fmt"
	"testing"

	"github.com/pot-audit/pot/internal/testmodels"
)

// BenchmarkGenerate reports generated tokens per second (prompt processing
// included) for the real models and the synthetic one, greedy and with
// temperature 1 and top-p 0.9, recording 5 alternatives per position.
func BenchmarkGenerate(b *testing.B) {
	for _, tc := range []struct {
		name   string
		load   func() *Model
		tokens int
	}{
		{"stories260K", func() *Model { return mustLlama2c(b, "stories260K.bin", "tok512.bin") }, 256},
		{"tiny-random-32k", func() *Model { return mustGGUF(b, "llama-2-tiny-random.gguf") }, 256},
		{"synth", func() *Model { return Synth(1) }, 256},
	} {
		m := tc.load()
		prompt := m.Vocab().Encode(storiesPrompt, true)
		for _, mode := range []string{"greedy", "top-p"} {
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/%s/threads=%d", tc.name, mode, threads), func(b *testing.B) {
					p := Params{MaxTokens: tc.tokens, Logprobs: 5, Seed: 1}
					if mode == "top-p" {
						p.Temperature, p.TopP = 1, 0.9
					}
					n := 0
					for b.Loop() {
						p.Seed++
						out, err := m.Generate(context.Background(), prompt, p, Options{Threads: threads})
						if err != nil {
							b.Fatal(err)
						}
						n += len(out.Tokens)
					}
					b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tokens/s")
				})
			}
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	path := testmodels.Path(b, "stories260K.gguf")
	for b.Loop() {
		if _, err := LoadGGUF(path); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatmul(b *testing.B) {
	for _, shape := range [][2]int{{64, 64}, {172, 64}, {32000, 8}} {
		rows, cols := shape[0], shape[1]
		w := make([]float32, rows*cols)
		x := make([]float32, cols)
		out := make([]float32, rows)
		r := NewRand(1)
		for i := range w {
			w[i] = float32(r.Norm())
		}
		b.Run(fmt.Sprintf("%dx%d", rows, cols), func(b *testing.B) {
			for b.Loop() {
				matmulRows(out, x, w, 0, rows)
			}
			b.ReportMetric(float64(rows*cols)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}

// BenchmarkForwardFromBOS is the Go side of scripts/cbaseline: 256 greedy
// forward steps of stories260K from BOS, one thread, nothing else (no
// softmax over the vocabulary, no log-probabilities), so that the two
// engines do the same arithmetic.
func BenchmarkForwardFromBOS(b *testing.B) {
	m := mustLlama2c(b, "stories260K.bin", "tok512.bin")
	const steps = 256
	var first []int32
	for b.Loop() {
		st := m.NewState(steps, 1)
		tok := int32(1)
		first = first[:0]
		for pos := range steps {
			logits := st.Forward(tok, pos)
			best := 0
			for i, v := range logits {
				if v > logits[best] {
					best = i
				}
			}
			tok = int32(best)
			if pos < 8 {
				first = append(first, tok)
			}
		}
	}
	if fmt.Sprint(first) != "[403 407 261 378 432 383 286 261]" {
		b.Fatalf("first ids %v", first)
	}
	b.ReportMetric(float64(steps*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkQuant reports generated tokens per second (greedy, prompt
// included, 5 alternatives) on the shared stories260K-ffn256 files, F32 and
// each quantized one, with one and two threads.
func BenchmarkQuant(b *testing.B) {
	for _, f := range quantFiles {
		m, err := LoadGGUF(quantPath(b, f.name))
		if err != nil {
			b.Fatal(err)
		}
		prompt := m.Vocab().Encode(storiesPrompt, true)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", f.name, threads), func(b *testing.B) {
				n := 0
				for b.Loop() {
					out, err := m.Generate(context.Background(), prompt, Params{MaxTokens: 120, Logprobs: 5}, Options{Threads: threads})
					if err != nil {
						b.Fatal(err)
					}
					n += len(out.Tokens)
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tokens/s")
			})
		}
	}
}
