package format

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
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
		d := dec{b: appendIDVarints(nil, ids)}
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

// TestIDPackings round-trips token ids through the packing the writer picks
// for them: two byte planes up to id 65534, three up to 2^24-2, varints
// beyond, and checks that choice.
func TestIDPackings(t *testing.T) {
	for _, tt := range []struct {
		ids  []int32
		pack byte
	}{
		{nil, packPlanes2},
		{[]int32{-1, 0, 255, 65534}, packPlanes2},
		{[]int32{-1, 65535, 3}, packPlanes3},
		{[]int32{1<<24 - 2, 0}, packPlanes3},
		{[]int32{1<<24 - 1, -1}, packVarint},
		{[]int32{math.MaxInt32, 7}, packVarint},
	} {
		d := dec{b: appendIDs(nil, tt.ids), version: Version}
		if p := (&dec{b: d.b}).bin(); p[0] != tt.pack {
			t.Errorf("%v packed with %d, want %d", tt.ids, p[0], tt.pack)
		}
		var a arena
		if got := d.ids(&a); d.err != "" || !slices.Equal(got, tt.ids) && len(got)+len(tt.ids) > 0 {
			t.Errorf("%v read back as %v (%s)", tt.ids, got, d.err)
		}
	}
}

// TestIDPlanesInvalid checks what a reader refuses in planes: a length
// that is not a whole number of ids, and planes in a version 1 segment,
// whose writers never wrote them.
func TestIDPlanesInvalid(t *testing.T) {
	for _, tt := range []struct {
		name    string
		bin     []byte
		version uint64
		want    string
	}{
		{"ragged 2", []byte{packPlanes2, 1, 2, 3}, 2, "not a multiple of 2"},
		{"ragged 3", []byte{packPlanes3, 1, 2, 3, 4}, 2, "not a multiple of 3"},
		{"version 1", []byte{packPlanes2, 1, 0}, 1, "in a version 1 segment"},
		{"unknown", []byte{9, 1}, 2, "unknown token packing 9"},
	} {
		d := dec{b: append(appendBinHeader(nil, len(tt.bin)), tt.bin...), version: tt.version}
		var a arena
		d.ids(&a)
		if !strings.Contains(d.err, tt.want) {
			t.Errorf("%s: error %q, want it to say %q", tt.name, d.err, tt.want)
		}
	}
	// The same through a Reader: a version 1 header, then a record whose
	// ids are in planes.
	h := testHeader()
	hc, err := encodeHeader(&h)
	if err != nil {
		t.Fatal(err)
	}
	hc[5] = 1
	rec := []byte{0x81, keyTokens, 0xc4, 3, packPlanes2, 5, 0}
	_, _, err = readAll(wrapRecords(t, compressFrame(t, hc), rec, 1))
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "version 1 segment") {
		t.Fatalf("planes in a version 1 segment: got %v, want ErrCorrupt", err)
	}
	hc[5] = 2
	recs, _, err := readAll(wrapRecords(t, compressFrame(t, hc), rec, 1))
	if err != nil || len(recs) != 1 || !slices.Equal(recs[0].Tokens, []int32{4}) {
		t.Fatalf("planes in a version 2 segment: got %v, %v", recs, err)
	}
}
