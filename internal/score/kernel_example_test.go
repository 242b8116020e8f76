package score_test

import (
	"fmt"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/score"
)

// One challenge, three samples a side, compared by their text (so any two
// backends compare). The score can be negative; its mean over challenges
// is 0 when both sides sample one model.
func ExampleUnbiasedMMD() {
	recs := func(texts ...string) []format.Record {
		out := make([]format.Record, len(texts))
		for i, s := range texts {
			out[i] = format.Record{Sample: uint32(i), Text: s}
		}
		return out
	}
	ref := recs("the cat sat", "a dog ran", "the cat ran")
	same := recs("a dog sat", "the cat sat", "a cat ran")
	other := recs("vectors of precision", "dreams in floats", "precision dreams")
	lo, hi := score.UnbiasedMMDRange(3, 3)
	for _, cand := range [][]format.Record{same, other} {
		x, err := score.UnbiasedMMD(ref, cand, score.TextKernel())
		if err != nil {
			panic(err)
		}
		fmt.Printf("%.3f in [%.3f, %.0f]\n", x, lo, hi)
	}
	// Output:
	// -0.207 in [-0.500, 1]
	// 0.243 in [-0.500, 1]
}
