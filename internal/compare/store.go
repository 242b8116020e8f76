package compare

import (
	"errors"
	"unsafe"

	"github.com/pot-audit/pot/format"
)

// chunk is the number of records in a chunk of a reference.
const chunk = 4096

// Sizes of the blocks that hold the records' arrays: the first blocks are
// small for the short references of tests, later ones large enough that
// the unused end of a block is lost in the rounding.
const (
	firstBlock = 4 << 10
	lastBlock  = 1 << 20
)

// view is a reference's records as far as they are loaded. Blocks are
// allocated at their full length and the loader only ever writes past the
// records it has published and appends to the lists of blocks, so a copy
// of a view stays valid, and stays what it was, while loading goes on.
type view struct {
	n      int
	recs   [][]refRec // chunks of chunk records
	ints   [][]int32
	floats [][]float32
	strs   [][]byte
	// pieces are the id-to-bytes tables the records point at, one per
	// segment of the reference: a handful of pointers, whatever its length.
	pieces []*format.Pieces
}

// refRec is a reference record with its arrays and strings in the view's
// blocks: ints holds Tokens then TopTokens then the lengths of TokenBytes
// and TopBytes, floats Logprobs then TopLogprobs, strs ID then Text then
// Err then the bytes of TokenBytes and TopBytes. pieces is 1 + the index
// of its table in the view's pieces, 0 for none.
type refRec struct {
	pieces                 uint32
	tokenBytes, topBytes   uint32
	bytesLen               uint32
	topK                   int
	sample                 uint32
	intBlock, intOff       uint32
	floatBlock, floatOff   uint32
	strBlock, strOff       uint32
	tokens, topTokens      uint32
	logprobs, topLogprobs  uint32
	idLen, textLen, errLen uint32
}

// meta returns the stored form of record i.
func (v *view) meta(i int) *refRec { return &v.recs[i/chunk][i%chunk] }

// is reports whether record i is (id, sample).
func (v *view) is(i int, id string, sample uint32) bool {
	m := v.meta(i)
	if m.idLen == 0 {
		// No bytes stored: there may be no block to index (a stream
		// whose records carry no strings at all).
		return m.sample == sample && id == ""
	}
	return m.sample == sample && string(v.strs[m.strBlock][m.strOff:m.strOff+m.idLen]) == id
}

// record fills r with record i. Its slices are capped, so that appending
// to one could never write into its neighbour.
func (v *view) record(i int, r *format.Record) {
	m := v.meta(i)
	*r = format.Record{Sample: m.sample, TopK: m.topK}
	if m.pieces > 0 {
		r.Pieces = v.pieces[m.pieces-1]
	}
	named := m.tokenBytes + m.topBytes
	if n := m.tokens + m.topTokens; n > 0 {
		b := v.ints[m.intBlock][m.intOff : m.intOff+n : m.intOff+n]
		r.Tokens, r.TopTokens = nilIfEmpty(b[:m.tokens:m.tokens]), nilIfEmpty(b[m.tokens:])
	}
	if n := m.logprobs + m.topLogprobs; n > 0 {
		b := v.floats[m.floatBlock][m.floatOff : m.floatOff+n : m.floatOff+n]
		r.Logprobs, r.TopLogprobs = nilIfEmpty(b[:m.logprobs:m.logprobs]), nilIfEmpty(b[m.logprobs:])
	}
	if n := m.idLen + m.textLen + m.errLen; n > 0 {
		// The bytes are never written again once published, so the
		// strings can share them instead of copying each pair's text.
		s := unsafe.String(&v.strs[m.strBlock][m.strOff], n)
		r.ID, r.Text, r.Err = s[:m.idLen], s[m.idLen:m.idLen+m.textLen], s[m.idLen+m.textLen:]
	}
	if named > 0 {
		// Token strings (a backend without ids): their lengths follow the
		// ids, their bytes the other strings.
		off := m.intOff + m.tokens + m.topTokens
		lens := v.ints[m.intBlock][off : off+named]
		at := m.strOff + m.idLen + m.textLen + m.errLen
		all := make([]string, named)
		for k, n := range lens {
			if n > 0 {
				all[k] = unsafe.String(&v.strs[m.strBlock][at], int(n))
			}
			at += uint32(n)
		}
		r.TokenBytes, r.TopBytes = nilIfEmpty(all[:m.tokenBytes:m.tokenBytes]), nilIfEmpty(all[m.tokenBytes:])
	}
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// errTooLong is the error for a record array too long to store.
var errTooLong = errors.New("an array of more than 4G elements")

// room reserves n elements in the last of *blocks, or in a new block
// when they do not fit, and returns them and where they start. *used is
// how much of the last block is taken.
func room[T any](blocks *[][]T, used *int, n int) (dst []T, block, off uint32) {
	if n == 0 {
		return nil, 0, 0
	}
	bs := *blocks
	if len(bs) == 0 || len(bs[len(bs)-1])-*used < n {
		size := firstBlock
		if len(bs) > 0 {
			size = min(2*len(bs[len(bs)-1]), lastBlock)
		}
		bs = append(bs, make([]T, max(size, n)))
		*blocks, *used = bs, 0
	}
	off = uint32(*used)
	*used += n
	return bs[len(bs)-1][off:*used], uint32(len(bs) - 1), off
}
