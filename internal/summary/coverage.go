package summary

import (
	"cmp"
	"math/bits"
	"slices"
)

// coverage records which (challenge, sample) pairs a stream holds, in
// memory and time that follow the records read, never the indices they
// name: a valid stream whose one record is challenge 2^31 costs what one
// record costs. The pairs of the challenges 0..n-1 are bits, one a pair,
// which a complete set of 10 million one-sample challenges packs in 1.25
// MB; n grows while the bits stay within a few per record read. Every
// other record, beyond the bits, of a sample beyond the header's count,
// or repeating a pair, is kept as its pair (16 bytes) and sorted in at
// the end. A well-formed stream has none.
type coverage struct {
	samples uint64   // samples per challenge, from the header
	bits    []uint64 // bit i*samples+s: sample s of challenge i seen, i < n
	n       uint64   // challenges the bits cover
	records uint64
	others  []pair
}

// pair is one record's (challenge, sample).
type pair struct {
	index  uint64
	sample uint32
}

// Bounds of the bits: they may cover bitsPerRecord bits for every record
// read, and minBits whatever the stream, so that a sparse stream costs at
// most a byte a record in bits and a dense one grows them without copying
// often.
const (
	bitsPerRecord = 8
	minBits       = 1 << 16
)

func newCoverage(samples int64) *coverage {
	return &coverage{samples: uint64(max(samples, 1))}
}

// add notes sample s of challenge i. Repeats are counted at the end (see
// walk), when every pair is known.
func (c *coverage) add(i uint64, s uint32) {
	c.records++
	if uint64(s) < c.samples && (i < c.n || c.grow(i)) {
		bit := i*c.samples + uint64(s)
		w, m := bit/64, uint64(1)<<(bit%64)
		if c.bits[w]&m == 0 {
			c.bits[w] |= m
			return
		}
	}
	c.others = append(c.others, pair{i, s})
}

// grow extends the bits to challenge i if they stay within their budget,
// and reports whether they did.
func (c *coverage) grow(i uint64) bool {
	budget := max(bitsPerRecord*c.records, minBits) / c.samples // challenges
	if i >= budget {
		return false
	}
	n := min(max(i+1, 2*c.n), budget)
	words := int((n*c.samples + 63) / 64)
	if words > len(c.bits) {
		c.bits = append(c.bits, make([]uint64, words-len(c.bits))...)
	}
	c.n = n
	return true
}

// walk calls f for every challenge with records, in index order, with its
// count of records and whether samples 0..samples-1 are all among them,
// and returns how many records repeat a pair. It may be called once.
func (c *coverage) walk(f func(i uint64, records int64, full bool)) (dups int64) {
	o := c.others
	slices.SortFunc(o, func(a, b pair) int {
		return cmp.Or(cmp.Compare(a.index, b.index), cmp.Compare(a.sample, b.sample))
	})
	k := 0 // o[k:] not walked yet
	// The challenges of the bits. The others that name one are first
	// sights that came before the bits grew to it, which the bits take,
	// repeats, and samples beyond the header's count.
	for i := range c.n {
		seen := c.count(i*c.samples, c.samples)
		extra := int64(0)
		for ; k < len(o) && o[k].index == i; k++ {
			p := o[k]
			if uint64(p.sample) < c.samples {
				bit := i*c.samples + uint64(p.sample)
				if w, m := bit/64, uint64(1)<<(bit%64); c.bits[w]&m == 0 {
					c.bits[w] |= m
					seen++
					continue
				}
				dups++
			} else if k > 0 && o[k-1] == p {
				dups++
			}
			extra++
		}
		if seen > 0 || extra > 0 {
			f(i, int64(seen)+extra, seen == c.samples)
		}
	}
	// The challenges beyond the bits: sorted, their repeats are adjacent.
	for k < len(o) {
		i := o[k].index
		records, distinct := int64(0), uint64(0)
		for ; k < len(o) && o[k].index == i; k++ {
			switch {
			case k > 0 && o[k-1] == o[k]:
				dups++
			case uint64(o[k].sample) < c.samples:
				distinct++
			}
			records++
		}
		f(i, records, distinct == c.samples)
	}
	return dups
}

// count returns how many of the n bits from bit start are set.
func (c *coverage) count(start, n uint64) uint64 {
	total := uint64(0)
	for n > 0 {
		w, off := start/64, start%64
		k := min(64-off, n)
		word := c.bits[w] >> off
		if k < 64 {
			word &= 1<<k - 1
		}
		total += uint64(bits.OnesCount64(word))
		start, n = start+k, n-k
	}
	return total
}
