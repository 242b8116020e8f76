package format

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// refIDs is the definition of packed token ids, written for clarity: each
// id is the unsigned varint of id+1, in its shortest form, at most 5 bytes,
// and at most MaxInt32+1.
func refIDs(p []byte) ([]int32, bool) {
	var out []int32
	for len(p) > 0 {
		v, n := binary.Uvarint(p)
		if n <= 0 || n > 5 || v > math.MaxInt32+1 {
			return nil, false
		}
		if n > 1 && p[n-1] == 0 {
			return nil, false // not the shortest form
		}
		out = append(out, int32(int64(v)-1))
		p = p[n:]
	}
	return out, true
}

// TestIDsAgainstDefinition holds the fast id decoder to the definition on
// valid packings of every length class and on random bytes, which are mostly
// invalid: the same ids, or an error, at every length of input.
func TestIDsAgainstDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	check := func(p []byte) {
		t.Helper()
		want, ok := refIDs(p)
		d := dec{b: appendBinHeader(nil, len(p)+1)}
		d.b = append(append(d.b, packVarint), p...)
		var a arena
		got := d.ids(&a)
		if ok != (d.err == "") {
			t.Fatalf("% x: definition ok=%v, decoder error %q", p, ok, d.err)
		}
		if ok && !slices.Equal(got, want) {
			t.Fatalf("% x: decoded %v, want %v", p, got, want)
		}
	}
	bounds := []int32{-1, 0, 1, 125, 126, 127, 128, 16382, 16383, 16384, 1<<21 - 2, 1<<21 - 1, 1 << 21, 1<<28 - 2, 1<<28 - 1, math.MaxInt32}
	for range 2000 {
		ids := make([]int32, rng.IntN(12))
		for i := range ids {
			switch rng.IntN(3) {
			case 0:
				ids[i] = bounds[rng.IntN(len(bounds))]
			case 1:
				ids[i] = rng.Int32N(32000)
			default:
				ids[i] = rng.Int32N(1 << (1 + rng.IntN(30)))
			}
		}
		d := dec{b: appendIDs(nil, ids)}
		p := d.bin()[1:]
		if got, ok := refIDs(p); !ok || !slices.Equal(got, ids) {
			t.Fatalf("the definition does not read the encoder's packing of %v", ids)
		}
		check(p)
		for cut := range len(p) {
			check(p[:cut])
		}
	}
	for range 20000 {
		p := make([]byte, rng.IntN(16))
		for i := range p {
			// Bytes near the edges: zero, continuation, 0x80, 0xff.
			p[i] = []byte{0, 1, 0x7f, 0x80, 0x81, 0xff, byte(rng.Uint32())}[rng.IntN(7)]
		}
		check(p)
	}
}
