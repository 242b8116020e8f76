package stats_test

import (
	"fmt"

	"github.com/pot-audit/pot/internal/stats"
)

// Two streams of one challenge set, three samples a challenge: the first
// token of each sample, and whether the joined outputs were identical. The
// first-token TV is below what relabelling the samples gives (the null
// mean): at three samples a side, it is noise.
func ExampleBetween() {
	groups := []stats.Group[int32]{
		{A: []int32{5, 5, 7}, B: []int32{5, 7, 7}, Match: []bool{true, false, true}, Paired: true},
		{A: []int32{2, 2, 2}, B: []int32{2, 2, 3}, Match: []bool{true, true, false}, Paired: true},
		{A: []int32{9, 4, 9}, B: []int32{9, 9, 4}, Match: []bool{true, false, false}, Paired: true},
	}
	res, err := stats.Between(groups, stats.BetweenOptions{Seed: 1})
	if err != nil {
		panic(err)
	}
	o := res.Overall
	fmt.Printf("first-token tv %.3f [%.3f, %.3f], null mean %.3f, p %.2f\n", o.TV.Est, o.TV.Lo, o.TV.Hi, res.Null.TV, res.Null.PTV)
	fmt.Printf("exact match %.3f [%.3f, %.3f]\n", o.Match.Est, o.Match.Lo, o.Match.Hi)
	// Output:
	// first-token tv 0.222 [0.000, 0.333], null mean 0.333, p 1.00
	// exact match 0.556 [0.333, 0.667]
}
