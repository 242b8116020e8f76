package summary

import "math/bits"

// coverage records which (challenge, sample) pairs a stream holds: one bit
// a pair, for every challenge index up to the largest seen. A stream of 10
// million one-sample challenges takes 1.25 MB, where a map of challenges took
// 130 bytes each (1.3 GB). Indices too large for the bits, and records that
// are not the first sight of a sample below the header's count (duplicates,
// samples beyond it), are kept per challenge in maps: a well-formed stream
// has none.
type coverage struct {
	samples uint64   // samples per challenge, from the header
	bits    []uint64 // bit i*samples+s: sample s of challenge i seen
	n       uint64   // challenges the bits cover: 1 + the largest index seen
	extra   map[uint64]*chal
	huge    map[uint64]*chal // challenges whose index is beyond the bits
}

// maxCoverageBits bounds the bits: 256 MiB, for a stream whose indices run
// to 2^31 / samples.
const maxCoverageBits = 1 << 31

func newCoverage(samples int64) *coverage {
	return &coverage{samples: uint64(max(samples, 1)), extra: map[uint64]*chal{}, huge: map[uint64]*chal{}}
}

// add notes sample s of challenge i and reports whether the pair was seen
// before.
func (c *coverage) add(i uint64, s uint32) (dup bool) {
	if i >= maxCoverageBits/c.samples {
		return markIn(c.huge, i, s)
	}
	if i >= c.n {
		c.n = i + 1
		if words := int((c.n*c.samples + 63) / 64); words > len(c.bits) {
			c.bits = append(c.bits, make([]uint64, max(words-len(c.bits), len(c.bits)))...)
		}
	}
	if uint64(s) >= c.samples {
		return markIn(c.extra, i, s)
	}
	bit := i*c.samples + uint64(s)
	w, m := bit/64, uint64(1)<<(bit%64)
	if c.bits[w]&m == 0 {
		c.bits[w] |= m
		return false
	}
	entry(c.extra, i).records++
	return true
}

// markIn counts a record of challenge i, sample s, in m, and reports
// whether the pair was seen before.
func markIn(m map[uint64]*chal, i uint64, s uint32) bool {
	ch := entry(m, i)
	ch.records++
	return ch.mark(s)
}

func entry(m map[uint64]*chal, i uint64) *chal {
	ch := m[i]
	if ch == nil {
		ch = &chal{index: i}
		m[i] = ch
	}
	return ch
}

// challenge reports how many records challenge i has, and whether samples
// 0..samples-1 are all among them.
func (c *coverage) challenge(i uint64) (records int64, full bool) {
	if ch := c.huge[i]; ch != nil {
		return ch.records, ch.has(int64(c.samples))
	}
	if i >= c.n {
		return 0, false
	}
	seen := c.count(i*c.samples, c.samples)
	records = int64(seen)
	if ch := c.extra[i]; ch != nil {
		records += ch.records
	}
	return records, seen == c.samples
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
