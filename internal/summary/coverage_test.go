package summary

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

func TestChallengeMark(t *testing.T) {
	var c chal
	for _, s := range []uint32{0, 1, 2, 63, 64, 100, 4095, 4096, 1 << 31} {
		if c.mark(s) {
			t.Errorf("sample %d: duplicate on first sight", s)
		}
		c.records++
	}
	for _, s := range []uint32{0, 63, 64, 100, 4095} {
		if !c.mark(s) {
			t.Errorf("sample %d: not a duplicate the second time", s)
		}
	}
	var full chal
	for s := range uint32(200) {
		full.mark(s)
		full.records++
	}
	for _, tt := range []struct {
		n    int64
		want bool
	}{{1, true}, {64, true}, {65, true}, {128, true}, {200, true}, {201, false}, {5000, false}} {
		if got := full.has(tt.n); got != tt.want {
			t.Errorf("has(%d) = %v", tt.n, got)
		}
	}
	if c.has(4) {
		t.Errorf("has(4) with samples 0, 1, 2 only")
	}
}
