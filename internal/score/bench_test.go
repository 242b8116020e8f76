package score

import (
	"math"
	"testing"

	"github.com/pot-audit/pot/format"
)

// benchRecord is a 64-token output with top-5 alternatives, the shape of
// potgen --max-tokens 64 --logprobs 5. Tokens from position diverge on are
// shifted, so that the pair shares a prefix of that length.
func benchRecord(diverge int) *format.Record {
	const n, k = 64, 5
	r := &format.Record{TopK: k}
	text := make([]rune, 0, 5*n)
	for i := range n {
		id := int32(100 + i)
		if i >= diverge {
			id += 1000
		}
		r.Tokens = append(r.Tokens, id)
		r.Logprobs = append(r.Logprobs, float32(math.Log(0.6)))
		for j := range k {
			r.TopTokens = append(r.TopTokens, id+int32(j))
			r.TopLogprobs = append(r.TopLogprobs, float32(math.Log(0.6/float64(j+1))/1.2))
		}
		text = append(text, ' ', rune('a'+id%26), rune('a'+id%7), 'é', rune('a'+id%5))
	}
	r.Text = string(text)
	return r
}

func BenchmarkScores(b *testing.B) {
	ref := benchRecord(64)
	for _, pair := range []struct {
		name string
		cand *format.Record
	}{{"identical", benchRecord(64)}, {"diverge32", benchRecord(32)}, {"perturbed", perturbed(benchRecord(64))}} {
		for _, name := range []string{"tv", "prob", "tokens", "text"} {
			fn, _ := ByName(name)
			b.Run(name+"/"+pair.name, func(b *testing.B) {
				b.ReportAllocs()
				for range b.N {
					if _, err := fn(ref, pair.cand); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
	b.Run("mmd/8x8", func(b *testing.B) {
		x := make([]format.Record, 8)
		y := make([]format.Record, 8)
		for i := range x {
			x[i] = *benchRecord(64 - i)
			y[i] = *benchRecord(60 - i)
		}
		k, _ := TokenKernel(64)
		b.ReportAllocs()
		for range b.N {
			if _, err := UnbiasedMMD(x, y, k); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// perturbed shifts every log-probability of r by a few ulps: the same
// tokens from another machine, where no position is bit-identical and the
// scores take their slow path everywhere.
func perturbed(r *format.Record) *format.Record {
	for i, lp := range r.Logprobs {
		r.Logprobs[i] = math.Nextafter32(lp, 0)
	}
	for i, lp := range r.TopLogprobs {
		r.TopLogprobs[i] = math.Nextafter32(math.Nextafter32(lp, 0), 0)
	}
	return r
}
