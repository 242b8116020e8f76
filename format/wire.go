package format

// This file is the hand-written msgpack codec of records. Records are the hot
// path (millions per stream), so they are encoded and decoded without
// reflection; headers and trailers, which are rare, go through the msgpack
// library. The bytes are plain msgpack either way: any msgpack tool reads them.

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Record field keys. FORMAT.md is the normative list; new fields take new keys.
const (
	keyIndex       = 0
	keyID          = 1
	keySample      = 2
	keySeed        = 3
	keyPrompt      = 4
	keyTokens      = 5
	keyLogprobs    = 6
	keyTopK        = 7
	keyTopTokens   = 8
	keyTopLogprobs = 9
	keyText        = 10
	keyFinish      = 11
	keyLatency     = 12
	keyAttempts    = 13
	keyErr         = 14
	keyPieces      = 15 // bytes of ids the segment has not given before
	keyTokenBytes  = 16
	keyTopBytes    = 17
	keyLoglik      = 18 // the trusted model's log-likelihood (potgen score)
	keyAltLogliks  = 19 // the alternatives' log-likelihoods (potgen score --alt)
)

// Packed array encodings: the first byte of a bin value holding an array.
const (
	packVarint   = 0 // token ids: unsigned varints of id+1, so -1 packs as 0
	packFloat32  = 1 // float32 little-endian, one after another
	packShuffled = 2 // float32 split into 4 byte planes (low bytes first), which zstd compresses better
	packPlanes2  = 3 // token ids, version 2: id+1 below 2^16 in 2 byte planes (low bytes first)
	packPlanes3  = 4 // token ids, version 2: id+1 below 2^24 in 3 byte planes (low bytes first)
)

// Limits on what a record may hold; FORMAT.md states them. They bound what a
// reader allocates for hostile input.
const (
	MaxTopK      = 256
	MaxPositions = 1 << 20
	MaxString    = 16 << 20
	MaxAlts      = 256 // alternative log-likelihoods in a record
)

func appendUint(b []byte, v uint64) []byte {
	switch {
	case v < 128:
		return append(b, byte(v))
	case v <= math.MaxUint8:
		return append(b, 0xcc, byte(v))
	case v <= math.MaxUint16:
		return append(b, 0xcd, byte(v>>8), byte(v))
	case v <= math.MaxUint32:
		return append(b, 0xce, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcf), v)
}

func appendInt(b []byte, v int64) []byte {
	if v >= 0 {
		return appendUint(b, uint64(v))
	}
	switch {
	case v >= -32:
		return append(b, byte(v))
	case v >= math.MinInt8:
		return append(b, 0xd0, byte(v))
	case v >= math.MinInt16:
		return append(b, 0xd1, byte(v>>8), byte(v))
	case v >= math.MinInt32:
		return append(b, 0xd2, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(v))
}

func appendStr(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		b = append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		b = append(b, 0xda, byte(n>>8), byte(n))
	default:
		b = append(b, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, s...)
}

func appendBinHeader(b []byte, n int) []byte {
	switch {
	case n <= math.MaxUint8:
		return append(b, 0xc4, byte(n))
	case n <= math.MaxUint16:
		return append(b, 0xc5, byte(n>>8), byte(n))
	}
	return append(b, 0xc6, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func appendMapHeader(b []byte, n int) []byte {
	if n < 16 {
		return append(b, 0x80|byte(n))
	}
	return append(b, 0xde, byte(n>>8), byte(n))
}

// appendIDs packs token ids as varints of id+1 behind a bin header. The
// size is computed first so the header is written once.
func appendIDs(b []byte, ids []int32) []byte {
	top := int32(0)
	for _, id := range ids {
		top = max(top, id)
	}
	if top < 1<<24-1 {
		return appendIDPlanes(b, ids, top)
	}
	return appendIDVarints(b, ids)
}

// appendIDPlanes packs token ids whose id+1 fit in 3 bytes as byte planes of
// id+1, two planes when they fit in 2 bytes (vocabularies up to 65535
// tokens), like floats: reading them is a loop without branches, 8% faster
// on a whole stream than varints, for files 4% larger (BenchmarkRead).
func appendIDPlanes(b []byte, ids []int32, top int32) []byte {
	width, pack := 2, byte(packPlanes2)
	if top >= 1<<16-1 {
		width, pack = 3, packPlanes3
	}
	n := len(ids)
	b = appendBinHeader(b, 1+width*n)
	b = append(b, pack)
	start := len(b)
	b = append(b, make([]byte, width*n)...)
	p := b[start:]
	lo, mid := p[:n], p[n:2*n]
	for i, id := range ids {
		u := uint32(id + 1)
		lo[i], mid[i] = byte(u), byte(u>>8)
	}
	if width == 3 {
		hi := p[2*n:]
		for i, id := range ids {
			hi[i] = byte(uint32(id+1) >> 16)
		}
	}
	return b
}

// appendIDVarints packs token ids as varints of id+1, for ids too large for
// planes. The size is computed first so the header is written once.
func appendIDVarints(b []byte, ids []int32) []byte {
	n := 1
	for _, id := range ids {
		n += uvarintLen(uint64(int64(id) + 1))
	}
	b = appendBinHeader(b, n)
	b = append(b, packVarint)
	for _, id := range ids {
		b = binary.AppendUvarint(b, uint64(int64(id)+1))
	}
	return b
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// appendFloats packs float32s in byte planes: all low bytes, then the next,
// up to the bytes holding sign and exponent. Log-probabilities share their
// high bytes, which compress to almost nothing once grouped.
func appendFloats(b []byte, fs []float32) []byte {
	n := len(fs)
	b = appendBinHeader(b, 1+4*n)
	b = append(b, packShuffled)
	start := len(b)
	b = append(b, make([]byte, 4*n)...)
	p := b[start:]
	for i, f := range fs {
		u := math.Float32bits(f)
		p[i] = byte(u)
		p[n+i] = byte(u >> 8)
		p[2*n+i] = byte(u >> 16)
		p[3*n+i] = byte(u >> 24)
	}
	return b
}

// validate checks the invariants FORMAT.md states for a record.
func (r *Record) validate() error {
	for _, ids := range [2][]int32{r.Tokens, r.TopTokens} {
		for _, id := range ids {
			if id < -1 {
				return fmt.Errorf("token id %d, below -1", id)
			}
		}
	}
	for _, pieces := range [2][]string{r.TokenBytes, r.TopBytes} {
		for _, b := range pieces {
			if len(b) > MaxPiece {
				return fmt.Errorf("token of %d bytes, over the limit of %d", len(b), MaxPiece)
			}
		}
	}
	for _, s := range [...]string{r.ID, r.Prompt, r.Text, r.Finish, r.Err} {
		if !utf8.ValidString(s) {
			return fmt.Errorf("string %.40q is not valid UTF-8", s)
		}
	}
	return r.validateShape()
}

// validateShape checks what validate checks but the token ids and UTF-8,
// which the decoder checks as it reads them.
func (r *Record) validateShape() error {
	p := r.Positions()
	switch {
	case len(r.AltLogliks) > 0 && !r.Scored:
		return fmt.Errorf("alternative log-likelihoods without the trusted one")
	case len(r.AltLogliks) > MaxAlts:
		return fmt.Errorf("%d alternative log-likelihoods, over the limit of %d", len(r.AltLogliks), MaxAlts)
	case len(r.Tokens) > 0 && len(r.Logprobs) > 0 && len(r.Tokens) != len(r.Logprobs):
		return fmt.Errorf("%d tokens but %d log-probabilities", len(r.Tokens), len(r.Logprobs))
	case p > MaxPositions:
		return fmt.Errorf("%d positions, over the limit of %d", p, MaxPositions)
	case r.TopK < 0 || r.TopK > MaxTopK:
		return fmt.Errorf("top-k %d out of range 0..%d", r.TopK, MaxTopK)
	case r.TopK == 0 && (len(r.TopTokens) > 0 || len(r.TopLogprobs) > 0):
		return fmt.Errorf("top-k alternatives without top-k")
	case r.TopK > 0 && len(r.TopLogprobs) != p*r.TopK:
		return fmt.Errorf("%d top log-probabilities for %d positions of top-%d", len(r.TopLogprobs), p, r.TopK)
	case r.TopK > 0 && len(r.TopTokens) != 0 && len(r.TopTokens) != p*r.TopK:
		return fmt.Errorf("%d top tokens for %d positions of top-%d", len(r.TopTokens), p, r.TopK)
	case len(r.TokenBytes) > 0 && len(r.Tokens) > 0:
		return fmt.Errorf("token bytes beside token ids")
	case len(r.TokenBytes) > 0 && (len(r.TokenBytes) != p || len(r.Logprobs) > 0 && len(r.Logprobs) != p):
		return fmt.Errorf("%d token bytes for %d positions and %d log-probabilities", len(r.TokenBytes), p, len(r.Logprobs))
	case len(r.TopBytes) > 0 && len(r.TopTokens) > 0:
		return fmt.Errorf("top token bytes beside top token ids")
	case len(r.TopBytes) > 0 && len(r.TopBytes) != p*r.TopK:
		return fmt.Errorf("%d top token bytes for %d positions of top-%d", len(r.TopBytes), p, r.TopK)
	case r.Latency < 0:
		return fmt.Errorf("negative latency")
	case r.Attempts < 0:
		return fmt.Errorf("negative attempts")
	}
	for _, s := range [...]string{r.ID, r.Prompt, r.Text, r.Finish, r.Err} {
		if len(s) > MaxString {
			return fmt.Errorf("string of %d bytes, over the limit of %d", len(s), MaxString)
		}
	}
	return nil
}

// piece is one entry of a record's Pieces field.
type piece struct {
	id    int32
	bytes string
	added bool // by Pieces.addAll, to take it back
}

// appendCount writes the header of a map or array of n elements: fix is
// the fix form's type byte (0x80 maps, 0x90 arrays), b16 the 16-bit form's,
// and the 32-bit form's follows it.
func appendCount(b []byte, n int, fix, b16 byte) []byte {
	switch {
	case n < 16:
		return append(b, fix|byte(n))
	case n <= math.MaxUint16:
		return append(b, b16, byte(n>>8), byte(n))
	}
	return append(b, b16+1, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// appendPieces encodes the entries as a map from id to bin, in the order
// given.
func appendPieces(b []byte, ps []piece) []byte {
	b = appendCount(b, len(ps), 0x80, 0xde)
	for _, p := range ps {
		b = appendUint(b, uint64(p.id))
		b = appendBinHeader(b, len(p.bytes))
		b = append(b, p.bytes...)
	}
	return b
}

// appendBinArray encodes strings as an array of bin values: token bytes
// need not be UTF-8.
func appendBinArray(b []byte, ss []string) []byte {
	b = appendCount(b, len(ss), 0x90, 0xdc)
	for _, s := range ss {
		b = appendBinHeader(b, len(s))
		b = append(b, s...)
	}
	return b
}

// fieldCount is how many fields appendRecord writes for r: one for each
// that is not empty. It must name the same fields in the same way.
func fieldCount(r *Record, fresh []piece) int {
	n := 0
	count := func(ok bool) {
		if ok {
			n++
		}
	}
	count(r.Index != 0)
	count(r.ID != "")
	count(r.Sample != 0)
	count(r.Seed != 0)
	count(r.Prompt != "")
	count(len(r.Tokens) > 0)
	count(len(r.Logprobs) > 0)
	count(r.TopK != 0)
	count(len(r.TopTokens) > 0)
	count(len(r.TopLogprobs) > 0)
	count(r.Text != "")
	count(r.Finish != "")
	count(r.Latency != 0)
	count(r.Attempts != 0)
	count(r.Err != "")
	count(len(fresh) > 0)
	count(len(r.TokenBytes) > 0)
	count(len(r.TopBytes) > 0)
	count(r.Scored)
	count(len(r.AltLogliks) > 0)
	return n
}

// appendRecord encodes r as one msgpack map, omitting empty fields. fresh
// are the bytes of ids the segment gives for the first time.
func appendRecord(b []byte, r *Record, fresh []piece) []byte {
	b = appendMapHeader(b, fieldCount(r, fresh))
	if r.Index != 0 {
		b = appendUint(append(b, keyIndex), r.Index)
	}
	if r.ID != "" {
		b = appendStr(append(b, keyID), r.ID)
	}
	if r.Sample != 0 {
		b = appendUint(append(b, keySample), uint64(r.Sample))
	}
	if r.Seed != 0 {
		b = appendUint(append(b, keySeed), r.Seed)
	}
	if r.Prompt != "" {
		b = appendStr(append(b, keyPrompt), r.Prompt)
	}
	if len(r.Tokens) > 0 {
		b = appendIDs(append(b, keyTokens), r.Tokens)
	}
	if len(r.Logprobs) > 0 {
		b = appendFloats(append(b, keyLogprobs), r.Logprobs)
	}
	if r.TopK != 0 {
		b = appendUint(append(b, keyTopK), uint64(r.TopK))
	}
	if len(r.TopTokens) > 0 {
		b = appendIDs(append(b, keyTopTokens), r.TopTokens)
	}
	if len(r.TopLogprobs) > 0 {
		b = appendFloats(append(b, keyTopLogprobs), r.TopLogprobs)
	}
	if r.Text != "" {
		b = appendStr(append(b, keyText), r.Text)
	}
	if r.Finish != "" {
		b = appendStr(append(b, keyFinish), r.Finish)
	}
	if r.Latency != 0 {
		b = appendInt(append(b, keyLatency), int64(r.Latency))
	}
	if r.Attempts != 0 {
		b = appendUint(append(b, keyAttempts), uint64(r.Attempts))
	}
	if r.Err != "" {
		b = appendStr(append(b, keyErr), r.Err)
	}
	if len(fresh) > 0 {
		b = appendPieces(append(b, keyPieces), fresh)
	}
	if len(r.TokenBytes) > 0 {
		b = appendBinArray(append(b, keyTokenBytes), r.TokenBytes)
	}
	if len(r.TopBytes) > 0 {
		b = appendBinArray(append(b, keyTopBytes), r.TopBytes)
	}
	if r.Scored {
		b = binary.BigEndian.AppendUint64(append(b, keyLoglik, 0xcb), math.Float64bits(r.Loglik))
	}
	if len(r.AltLogliks) > 0 {
		b = appendCount(append(b, keyAltLogliks), len(r.AltLogliks), 0x90, 0xdc)
		for _, v := range r.AltLogliks {
			b = binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(v))
		}
	}
	return b
}

// dec reads msgpack values from a byte slice. Every read checks the bytes
// left, so hostile lengths fail instead of allocating.
type dec struct {
	b       []byte
	off     int
	err     string
	version uint64  // of the segment: what packings are valid
	pieces  *Pieces // of the segment: the ids it has given bytes for
	fresh   []piece // what the record being decoded adds to pieces
}

func (d *dec) fail(format string, args ...any) {
	if d.err == "" {
		d.err = fmt.Sprintf("at content byte %d: ", d.off) + fmt.Sprintf(format, args...)
	}
	d.off = len(d.b)
}

func (d *dec) byte() byte {
	if d.off >= len(d.b) {
		d.fail("unexpected end of frame")
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *dec) take(n uint64) []byte {
	if n > uint64(len(d.b)-d.off) {
		d.fail("length %d past the end of the frame", n)
		return nil
	}
	s := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

func (d *dec) be(n int) uint64 {
	s := d.take(uint64(n))
	var v uint64
	for _, c := range s {
		v = v<<8 | uint64(c)
	}
	return v
}

func (d *dec) uint() uint64 {
	c := d.byte()
	switch {
	case c < 0x80:
		return uint64(c)
	case c == 0xcc:
		return d.be(1)
	case c == 0xcd:
		return d.be(2)
	case c == 0xce:
		return d.be(4)
	case c == 0xcf:
		return d.be(8)
	}
	d.fail("want an unsigned integer, got type byte 0x%02x", c)
	return 0
}

// float64 reads a msgpack float 64 or float 32.
func (d *dec) float64() float64 {
	switch c := d.byte(); c {
	case 0xcb:
		return math.Float64frombits(d.be(8))
	case 0xca:
		return float64(math.Float32frombits(uint32(d.be(4))))
	default:
		d.fail("want a float, got type byte 0x%02x", c)
	}
	return 0
}

// float64s reads an array of floats (float 64 or float 32) of at most
// MaxAlts elements.
func (d *dec) float64s() []float64 {
	n := d.arrayLen()
	switch {
	case d.err != "":
		return nil
	case n > MaxAlts:
		d.fail("%d alternative log-likelihoods, over the limit of %d", n, MaxAlts)
		return nil
	case n > uint64(len(d.b)-d.off)/5:
		// Every float takes at least five bytes.
		d.fail("%d floats past the end of the frame", n)
		return nil
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = d.float64()
	}
	return out
}

func (d *dec) int() int64 {
	c := d.byte()
	switch {
	case c < 0x80:
		return int64(c)
	case c >= 0xe0:
		return int64(int8(c))
	case c == 0xcc:
		return int64(d.be(1))
	case c == 0xcd:
		return int64(d.be(2))
	case c == 0xce:
		return int64(d.be(4))
	case c == 0xcf:
		v := d.be(8)
		if v > math.MaxInt64 {
			d.fail("integer %d overflows int64", v)
		}
		return int64(v)
	case c == 0xd0:
		return int64(int8(d.be(1)))
	case c == 0xd1:
		return int64(int16(d.be(2)))
	case c == 0xd2:
		return int64(int32(d.be(4)))
	case c == 0xd3:
		return int64(d.be(8))
	}
	d.fail("want an integer, got type byte 0x%02x", c)
	return 0
}

func (d *dec) strBytes() []byte {
	c := d.byte()
	var n uint64
	switch {
	case c&0xe0 == 0xa0:
		n = uint64(c & 0x1f)
	case c == 0xd9:
		n = d.be(1)
	case c == 0xda:
		n = d.be(2)
	case c == 0xdb:
		n = d.be(4)
	default:
		d.fail("want a string, got type byte 0x%02x", c)
		return nil
	}
	return d.take(n)
}

// utf8 returns a string's bytes, which must be valid UTF-8.
func (d *dec) utf8() []byte {
	s := d.strBytes()
	if !utf8.Valid(s) {
		d.fail("string is not valid UTF-8")
		return nil
	}
	return s
}

func (d *dec) bin() []byte {
	c := d.byte()
	var n uint64
	switch c {
	case 0xc4:
		n = d.be(1)
	case 0xc5:
		n = d.be(2)
	case 0xc6:
		n = d.be(4)
	default:
		d.fail("want binary data, got type byte 0x%02x", c)
		return nil
	}
	return d.take(n)
}

func (d *dec) mapLen() int { return int(d.count("a map", 0x80, 0xde)) }

func (d *dec) arrayLen() uint64 { return d.count("an array", 0x90, 0xdc) }

// count reads the element count of a map or an array, whose fix form's
// type byte is fix and 16-bit form's b16 (the 32-bit form's follows it).
func (d *dec) count(what string, fix, b16 byte) uint64 {
	c := d.byte()
	switch {
	case c&0xf0 == fix:
		return uint64(c & 0x0f)
	case c == b16:
		return d.be(2)
	case c == b16+1:
		return d.be(4)
	}
	d.fail("want %s, got type byte 0x%02x", what, c)
	return 0
}

// piecesField reads a record's Pieces map into d.fresh; record adds them to
// the segment's table, checking them against it, once the whole record has
// proved valid.
func (d *dec) piecesField() {
	n := uint64(d.mapLen())
	// Every entry takes at least two bytes.
	if n > uint64(len(d.b)-d.off)/2 {
		d.fail("%d token pieces past the end of the frame", n)
		return
	}
	d.fresh = d.fresh[:0]
	for ; n > 0 && d.err == ""; n-- {
		id := d.uint()
		b := d.bin()
		switch {
		case d.err != "":
			return
		case id > math.MaxInt32:
			d.fail("token piece for id %d, out of range", id)
			return
		case len(b) > MaxPiece:
			d.fail("token %d of %d bytes, over the limit of %d", id, len(b), MaxPiece)
			return
		}
		d.fresh = append(d.fresh, piece{id: int32(id), bytes: string(b)})
	}
}

// binArray reads an array of bin values as strings sharing one allocation.
func (d *dec) binArray() []string {
	n := d.arrayLen()
	// Every element takes at least two bytes (a bin header of length 0).
	if n > uint64(len(d.b)-d.off)/2 {
		d.fail("%d token byte strings past the end of the frame", n)
		return nil
	}
	parts := make([][]byte, n)
	total := 0
	for i := range parts {
		parts[i] = d.bin()
		if d.err != "" {
			return nil
		}
		if len(parts[i]) > MaxPiece {
			d.fail("token of %d bytes, over the limit of %d", len(parts[i]), MaxPiece)
			return nil
		}
		total += len(parts[i])
	}
	var sb strings.Builder
	sb.Grow(total)
	for _, p := range parts {
		sb.Write(p)
	}
	all := sb.String()
	out := make([]string, n)
	for i, p := range parts {
		out[i], all = all[:len(p)], all[len(p):]
	}
	return out
}

// skip passes over one value of any type, to ignore fields a newer writer
// added. Depth is bounded so nesting cannot exhaust the stack.
func (d *dec) skip(depth int) {
	if depth > 32 {
		d.fail("values nested too deep")
		return
	}
	c := d.byte()
	var n uint64
	switch {
	case c < 0x80 || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		return
	case c&0xe0 == 0xa0:
		d.take(uint64(c & 0x1f))
		return
	case c&0xf0 == 0x90:
		n = uint64(c & 0x0f)
	case c&0xf0 == 0x80:
		n = 2 * uint64(c&0x0f)
	}
	switch c {
	case 0xcc, 0xd0:
		d.take(1)
	case 0xcd, 0xd1:
		d.take(2)
	case 0xce, 0xd2, 0xca:
		d.take(4)
	case 0xcf, 0xd3, 0xcb:
		d.take(8)
	case 0xd9, 0xc4:
		d.take(d.be(1))
	case 0xda, 0xc5:
		d.take(d.be(2))
	case 0xdb, 0xc6:
		d.take(d.be(4))
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		d.take(1 + 1<<(c-0xd4))
	case 0xc7:
		d.take(1 + d.be(1))
	case 0xc8:
		d.take(1 + d.be(2))
	case 0xc9:
		d.take(1 + d.be(4))
	case 0xdc:
		n = d.be(2)
	case 0xdd:
		n = d.be(4)
	case 0xde:
		n = 2 * d.be(2)
	case 0xdf:
		n = 2 * d.be(4)
	case 0xc1:
		d.fail("invalid type byte 0xc1")
	}
	// Every element takes at least one byte, so a count larger than what is
	// left is corrupt before any element is read.
	if n > uint64(len(d.b)-d.off) {
		d.fail("%d elements past the end of the frame", n)
		return
	}
	for ; n > 0 && d.err == ""; n-- {
		d.skip(depth + 1)
	}
}

// arenaChunk is how many elements an arena allocates at a time. Records
// from one chunk share its backing array, so it is small enough that a
// caller keeping a few records does not keep much else alive.
const arenaChunk = 4 << 10

// arena hands out slices of a few large backing arrays, so that decoding a
// record costs no allocation of its own for its arrays. Slices handed out
// are never written again: they belong to the records.
type arena struct {
	ints   []int32
	floats []float32
	strs   strings.Builder // only ever appended to, so strings cut from it stay as they were
	grown  int             // size of the last chunk: chunks start small for short streams
}

// chunk returns how many elements to allocate for a request of n.
func (a *arena) chunk(n int) int {
	a.grown = min(max(2*a.grown, 256), arenaChunk)
	return max(n, a.grown)
}

// strings returns parts as strings that share the arena's current chunk.
func (a *arena) strings(parts *[5][]byte) [5]string {
	total := 0
	for _, p := range parts {
		total += len(p)
	}
	var out [5]string
	if total == 0 {
		return out
	}
	if total > a.strs.Cap()-a.strs.Len() {
		a.strs = strings.Builder{}
		a.strs.Grow(4 * a.chunk((total+3)/4))
	}
	start := a.strs.Len()
	for _, p := range parts {
		a.strs.Write(p)
	}
	all := a.strs.String()[start:]
	for i, p := range parts {
		out[i], all = all[:len(p)], all[len(p):]
	}
	return out
}

// intRoom returns room for up to n ints; take commits what was used.
func (a *arena) intRoom(n int) []int32 {
	if n > cap(a.ints)-len(a.ints) {
		a.ints = make([]int32, 0, a.chunk(n))
	}
	return a.ints[len(a.ints) : len(a.ints)+n]
}

func (a *arena) takeInts(n int) []int32 {
	l := len(a.ints)
	a.ints = a.ints[:l+n]
	return a.ints[l : l+n : l+n]
}

func (a *arena) floatSlice(n int) []float32 {
	if n > cap(a.floats)-len(a.floats) {
		a.floats = make([]float32, 0, a.chunk(n))
	}
	l := len(a.floats)
	a.floats = a.floats[:l+n]
	return a.floats[l : l+n : l+n]
}

// ids decodes packed token ids. Every packing takes at least a byte an id,
// so the bytes given bound the count, and the arena room asked for is
// bounded by the frame's content.
func (d *dec) ids(a *arena) []int32 {
	p := d.bin()
	if d.err != "" {
		return nil
	}
	if len(p) == 0 {
		d.fail("token ids without a packing byte")
		return nil
	}
	switch p[0] {
	case packVarint:
		return d.idVarints(p[1:], a)
	case packPlanes2, packPlanes3:
		if d.version < 2 {
			d.fail("token id packing %d in a version %d segment", p[0], d.version)
			return nil
		}
		return d.idPlanes(p, a)
	}
	d.fail("unknown token packing %d", p[0])
	return nil
}

// idPlanes decodes token ids packed in 2 or 3 byte planes.
func (d *dec) idPlanes(p []byte, a *arena) []int32 {
	width := 2
	if p[0] == packPlanes3 {
		width = 3
	}
	if (len(p)-1)%width != 0 {
		d.fail("token id planes of %d bytes, not a multiple of %d", len(p)-1, width)
		return nil
	}
	n := (len(p) - 1) / width
	out := a.intRoom(n)[:n]
	lo, mid := p[1:1+n], p[1+n:1+2*n]
	lo, mid = lo[:len(out)], mid[:len(out)] // no bounds checks in the loops
	if width == 2 {
		for i := range out {
			out[i] = int32(uint32(lo[i])|uint32(mid[i])<<8) - 1
		}
	} else {
		hi := p[1+2*n:]
		hi = hi[:len(out)]
		for i := range out {
			out[i] = int32(uint32(lo[i])|uint32(mid[i])<<8|uint32(hi[i])<<16) - 1
		}
	}
	return a.takeInts(n)
}

// idVarints decodes token ids packed as varints: version 1 streams, and
// ids too large for planes. Version 2 writes planes for every vocabulary
// under 16M tokens, so this is not the hot path it was in version 1.
func (d *dec) idVarints(p []byte, a *arena) []int32 {
	out := a.intRoom(len(p))
	n := 0
	for i := 0; i < len(p); {
		var v uint64
		j := i
		for shift := 0; ; shift += 7 {
			if j == len(p) {
				d.fail("token ids end inside a varint")
				return nil
			}
			c := p[j]
			j++
			if shift == 35 {
				d.fail("token id varint longer than 5 bytes")
				return nil
			}
			v |= uint64(c&0x7f) << shift
			if c < 0x80 {
				if c == 0 && shift > 0 {
					d.fail("token id varint not in its shortest form")
					return nil
				}
				break
			}
		}
		if v > math.MaxInt32+1 {
			d.fail("token id %d out of range", int64(v)-1)
			return nil
		}
		out[n] = int32(int64(v) - 1)
		n++
		i = j
	}
	return a.takeInts(n)
}

func (d *dec) floats(a *arena) []float32 {
	p := d.bin()
	if d.err != "" {
		return nil
	}
	if len(p) == 0 || (len(p)-1)%4 != 0 {
		d.fail("float array of %d bytes", len(p))
		return nil
	}
	n := (len(p) - 1) / 4
	switch p[0] {
	case packShuffled:
		out := a.floatSlice(n)
		b0, b1, b2, b3 := p[1:1+n], p[1+n:1+2*n], p[1+2*n:1+3*n], p[1+3*n:1+4*n]
		b0, b1, b2, b3 = b0[:len(out)], b1[:len(out)], b2[:len(out)], b3[:len(out)] // no bounds checks in the loop
		for i := range out {
			out[i] = math.Float32frombits(uint32(b0[i]) | uint32(b1[i])<<8 | uint32(b2[i])<<16 | uint32(b3[i])<<24)
		}
		return out
	case packFloat32:
		out := a.floatSlice(n)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[1+4*i:]))
		}
		return out
	}
	d.fail("unknown float packing %d", p[0])
	return nil
}

// record decodes one record map into r. Its strings are copied out of the
// frame once the whole map has been read.
func (d *dec) record(r *Record, a *arena) {
	n := d.mapLen()
	if uint64(n) > uint64(len(d.b)-d.off) {
		d.fail("%d fields past the end of the frame", n)
		return
	}
	var strs [5][]byte // ID, Prompt, Text, Finish, Err as they are in the frame
	var seen uint32
	d.fresh = d.fresh[:0]
	for i := 0; i < n && d.err == ""; i++ {
		k := d.int()
		if k >= 0 && k < 32 {
			if seen&(1<<k) != 0 {
				d.fail("field %d given twice", k)
				return
			}
			seen |= 1 << k
		}
		d.field(k, r, a, &strs)
	}
	if d.err != "" {
		return
	}
	s := a.strings(&strs)
	r.ID, r.Prompt, r.Text, r.Finish, r.Err = s[0], s[1], s[2], s[3], s[4]
	if err := r.validateShape(); err != nil {
		d.fail("%v", err)
		return
	}
	if len(d.fresh) > 0 {
		if e, ok := d.pieces.addAll(d.fresh); !ok {
			d.fail("token %d given other bytes than before in the segment", e.id)
			return
		}
	}
	if len(r.Tokens) > 0 || len(r.TopTokens) > 0 {
		r.Pieces = d.pieces
	}
}

// field decodes the value of field k into r; the strings go to strs (ID,
// Prompt, Text, Finish, Err) to be interned once the record is whole.
func (d *dec) field(k int64, r *Record, a *arena, strs *[5][]byte) {
	switch k {
	case keyIndex:
		r.Index = d.uint()
	case keyID:
		strs[0] = d.utf8()
	case keySample:
		v := d.uint()
		if v > math.MaxUint32 {
			d.fail("sample index %d out of range", v)
		}
		r.Sample = uint32(v)
	case keySeed:
		r.Seed = d.uint()
	case keyPrompt:
		strs[1] = d.utf8()
	case keyTokens:
		r.Tokens = d.ids(a)
	case keyLogprobs:
		r.Logprobs = d.floats(a)
	case keyTopK:
		v := d.uint()
		if v > MaxTopK {
			d.fail("top-k %d over the limit of %d", v, MaxTopK)
		}
		r.TopK = int(v)
	case keyTopTokens:
		r.TopTokens = d.ids(a)
	case keyTopLogprobs:
		r.TopLogprobs = d.floats(a)
	case keyText:
		strs[2] = d.utf8()
	case keyFinish:
		strs[3] = d.utf8()
	case keyLatency:
		r.Latency = time.Duration(d.int())
	case keyAttempts:
		v := d.uint()
		if v > math.MaxInt32 {
			d.fail("attempts %d out of range", v)
		}
		r.Attempts = int(v)
	case keyErr:
		strs[4] = d.utf8()
	case keyPieces:
		d.piecesField()
	case keyTokenBytes:
		r.TokenBytes = d.binArray()
	case keyTopBytes:
		r.TopBytes = d.binArray()
	case keyLoglik:
		r.Loglik, r.Scored = d.float64(), true
	case keyAltLogliks:
		r.AltLogliks = d.float64s()
	default:
		d.skip(0)
	}
}
