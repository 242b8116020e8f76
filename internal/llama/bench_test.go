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
