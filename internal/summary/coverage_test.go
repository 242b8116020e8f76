package summary

import (
	"math/rand/v2"
	"testing"

	"github.com/pot-audit/pot/format"
)

// TestCoverageAgainstMap holds coverage to a plain map of (challenge,
// sample) pairs on random records: repeats, samples beyond the header's
// count, indices far beyond the bits, indices the bits grow to after the
// record came, and sample counts that cross words.
func TestCoverageAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, samples := range []uint64{1, 3, 64, 70} {
		for _, spread := range []int{200, 20000, 1 << 20} {
			c := newCoverage(int64(samples))
			seen := map[pair]int64{}
			records := map[uint64]int64{}
			wantDups := int64(0)
			for range 5000 {
				p := pair{uint64(rng.IntN(spread)), uint32(rng.IntN(int(samples) + 2))}
				if rng.IntN(50) == 0 {
					p.index = 1<<40 + uint64(rng.IntN(3))
				}
				if seen[p] > 0 {
					wantDups++
				}
				c.add(p.index, p.sample)
				seen[p]++
				records[p.index]++
			}
			got := map[uint64]int64{}
			last := int64(-1)
			dups := c.walk(func(i uint64, n int64, full bool) {
				if int64(i) <= last {
					t.Fatalf("walk out of order: %d after %d", i, last)
				}
				last = int64(i)
				got[i] = n
				wantFull := true
				for s := range samples {
					wantFull = wantFull && seen[pair{i, uint32(s)}] > 0
				}
				if n != records[i] || full != wantFull {
					t.Errorf("samples %d, spread %d, challenge %d: %d records, full %v; want %d, %v", samples, spread, i, n, full, records[i], wantFull)
				}
			})
			if len(got) != len(records) || dups != wantDups {
				t.Errorf("samples %d, spread %d: %d challenges, %d repeats; want %d, %d", samples, spread, len(got), dups, len(records), wantDups)
			}
		}
	}
}

// TestCoverageFollowsRecords checks that what coverage holds grows with
// the records added, not with the indices they name: one record at
// 2^31-1, and many distinct large indices, cost a few words a record.
func TestCoverageFollowsRecords(t *testing.T) {
	for _, tc := range []struct {
		name    string
		records int
		index   func(k int) uint64
	}{
		{"one at 2^31-1", 1, func(int) uint64 { return 1<<31 - 1 }},
		{"one at 2^64-1", 1, func(int) uint64 { return 1<<64 - 1 }},
		{"distinct large", 200000, func(k int) uint64 { return uint64(k)*1000003 + 1<<32 }},
		{"every 100th", 100000, func(k int) uint64 { return uint64(k) * 100 }},
		{"dense", 100000, func(k int) uint64 { return uint64(k) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCoverage(1)
			for k := range tc.records {
				c.add(tc.index(k), 0)
			}
			bitBytes, otherBytes := 8*cap(c.bits), 16*cap(c.others)
			limit := bitsPerRecord*tc.records/8 + minBits/8 + 2*16*tc.records
			if bitBytes+otherBytes > limit {
				t.Errorf("%d records hold %d bytes of bits and %d of others, more than %d", tc.records, bitBytes, otherBytes, limit)
			}
			walked := 0
			c.walk(func(uint64, int64, bool) { walked++ })
			if walked != tc.records {
				t.Errorf("walked %d challenges, want %d", walked, tc.records)
			}
		})
	}
}

// TestSummaryOfFarIndex is the summary of the stream that made potstat
// take 11 s and 263 MB: one valid record at index 2^31-1 of a set of 10.
func TestSummaryOfFarIndex(t *testing.T) {
	c := New("far.pot")
	h := format.Header{Kind: format.KindOutputs, Challenges: format.ChallengeSet{ID: "s", Count: 10}, Sampling: format.Sampling{Samples: 1}}
	c.Start(h)
	c.Add(0, &format.Record{Index: 1<<31 - 1, Finish: "length"}, 0, &h)
	c.Add(1, &format.Record{Index: 3, Finish: "length"}, 0, &h)
	c.Add(2, &format.Record{Index: 3, Finish: "length"}, 0, &h)
	s := c.Finish(format.Stats{Segments: 1, Trailers: 1, Records: 3}, nil)
	if len(c.challenges.bits)*64 > minBits {
		t.Errorf("%d words of bits for 3 records", len(c.challenges.bits))
	}
	if s.Challenges != 2 || s.Outside != 1 || s.Duplicates != 1 || s.Missing != 9 || *s.Complete ||
		len(s.MissingFirst) != 9 || s.MissingFirst[3] != 4 || s.SamplesMax != 2 {
		t.Errorf("%+v", s)
	}
}
