package score

import (
	"math"
	"testing"

	"github.com/pot-audit/pot/format"
)

// fuzzRecord builds a record from bytes: a small vocabulary so that tokens
// often match, and log-probabilities that include NaN, +Inf, -Inf and
// positive values, which a hostile stream could carry.
func fuzzRecord(data []byte, k int, text string) format.Record {
	r := format.Record{Text: text, TopK: k}
	if len(data) == 0 {
		return r
	}
	n := int(data[0]) % 12
	data = data[1:]
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	logp := func(b byte) float32 {
		switch b {
		case 255:
			return float32(math.NaN())
		case 254:
			return 1.5
		case 253:
			return float32(math.Inf(-1))
		case 252:
			return float32(math.Inf(1))
		}
		return -float32(b) / 40
	}
	for range n {
		r.Tokens = append(r.Tokens, int32(next()%6))
		r.Logprobs = append(r.Logprobs, logp(next()))
		for range k {
			r.TopTokens = append(r.TopTokens, int32(next()%7)-1)
			r.TopLogprobs = append(r.TopLogprobs, logp(next()))
		}
	}
	return r
}

func FuzzScores(f *testing.F) {
	f.Add([]byte{3, 1, 10, 1, 20, 2, 30}, []byte{3, 1, 10, 1, 20, 2, 30}, uint8(1), uint8(1), "kitten", "sitting")
	f.Add([]byte{5, 0, 0, 0, 0, 255, 254}, []byte{2, 1, 253, 2, 252}, uint8(3), uint8(2), "", "héllo")
	f.Add([]byte{}, []byte{4, 9, 9, 9, 9, 9}, uint8(0), uint8(5), "a", "")
	f.Fuzz(func(t *testing.T, da, db []byte, ka, kb uint8, ta, tb string) {
		a := fuzzRecord(da, int(ka%6), ta)
		b := fuzzRecord(db, int(kb%6), tb)
		for _, name := range []string{"tv", "prob", "tokens", "text"} {
			fn, _ := ByName(name)
			ab, errAB := fn(&a, &b)
			ba, errBA := fn(&b, &a)
			if (errAB == nil) != (errBA == nil) {
				t.Fatalf("%s: errors not symmetric: %v, %v", name, errAB, errBA)
			}
			if errAB != nil {
				continue
			}
			if !(ab >= 0 && ab <= 1) {
				t.Fatalf("%s = %v, outside [0, 1]", name, ab)
			}
			if math.Abs(ab-ba) > 1e-9 {
				t.Fatalf("%s not symmetric: %v and %v", name, ab, ba)
			}
			if aa, err := fn(&a, &a); err != nil || aa != 0 {
				t.Fatalf("%s of a record with itself = %v, %v, want 0", name, aa, err)
			}
		}
		b1 := b
		b1.Sample = a.Sample + 1
		for _, length := range []int{1, 3} {
			k, _ := TokenKernel(length)
			lo, hi := UnbiasedMMDRange(2, 2)
			m, err := UnbiasedMMD([]format.Record{a, b1}, []format.Record{b1, a}, k)
			if err != nil {
				continue
			}
			if !(m >= lo && m <= hi) {
				t.Fatalf("mmd = %v, outside [%v, %v]", m, lo, hi)
			}
		}
	})
}
