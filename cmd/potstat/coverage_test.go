package main

import (
	"math/rand/v2"
	"testing"
)

type pair struct {
	i uint64
	s uint32
}

// TestCoverageAgainstMap holds coverage to a plain map of (challenge,
// sample) pairs on random records: duplicates, samples beyond the header's
// count, indices beyond the bits, and sample counts that cross words.
func TestCoverageAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, samples := range []uint64{1, 3, 64, 70} {
		c := newCoverage(int64(samples))
		seen := map[pair]int64{}
		records := map[uint64]int64{}
		huge := maxCoverageBits / samples
		for range 5000 {
			p := pair{uint64(rng.IntN(200)), uint32(rng.IntN(int(samples) + 2))}
			if rng.IntN(50) == 0 {
				p.i = huge + uint64(rng.IntN(3))
			}
			if dup := c.add(p.i, p.s); dup != (seen[p] > 0) {
				t.Fatalf("samples %d: %v: duplicate %v, want %v", samples, p, dup, seen[p] > 0)
			}
			seen[p]++
			records[p.i]++
		}
		indices := []uint64{huge, huge + 1, huge + 2}
		for i := range c.n + 1 {
			indices = append(indices, i)
		}
		for _, i := range indices {
			got, full := c.challenge(i)
			wantFull := true
			for s := range samples {
				wantFull = wantFull && seen[pair{i, uint32(s)}] > 0
			}
			if got != records[i] || full != wantFull {
				t.Errorf("samples %d, challenge %d: %d records, full %v; want %d, %v", samples, i, got, full, records[i], wantFull)
			}
		}
	}
}
