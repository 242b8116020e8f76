package format

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"

	"github.com/vmihailenco/msgpack/v5"
)

// Default frame sizes. A frame closes after this many records or bytes of
// content, whichever comes first, or when the caller calls Flush. Small
// frames keep a reader downstream of a pipe close behind the writer and
// bound what a killed writer loses; larger ones compress better (256 records
// without top-k make files 6% smaller than 64 did). Records of 64 tokens with
// top-5 alternatives fill the 256 KiB of content at about 100 records.
const (
	DefaultFrameRecords = 256
	DefaultFrameBytes   = 256 << 10

	frameWindow = 256 << 10 // how far back the encoder looks for matches
)

// Writer writes one segment: a header, records, and a trailer on Close.
//
// A Writer holds only the content of its open frame. The zstd encoder, about
// 1 MiB of tables and history, is borrowed from a pool for the moment a
// frame is compressed: a program writing many streams at once (potsplit -n
// 64) needs an encoder per goroutine, not per stream.
type Writer struct {
	w       io.Writer
	content *[]byte // the records of the open frame, msgpack; pooled
	inFrame int
	count   uint64
	digest  hash.Hash
	err     error
	closed  bool

	frameRecords int
	frameBytes   int

	signer    crypto.Signer     // signs the trailer when set (SignWith)
	signerPub ed25519.PublicKey // its public half

	// The bytes of every id the segment has given, so that each is written
	// once, with the first record that uses it. src is the one table they
	// all came from until a record brings another (potsplit joining
	// segments); from then on mixed says to check every id against sent.
	sent  map[int32]string
	given []uint64 // bit i: id i is in sent, for ids below bitsetIDs
	src   *Pieces
	mixed bool
	fresh []piece
}

// bitsetIDs bounds the ids a Writer tracks in a bitset (256 KiB at most)
// rather than by map lookups alone: a record of 64 positions with top-5
// holds 384 ids, nearly all given already.
const bitsetIDs = 1 << 21

// WriterOption configures a Writer.
type WriterOption func(*Writer)

// WithFrameSize sets after how many records or content bytes a frame closes.
func WithFrameSize(records, bytes int) WriterOption {
	return func(w *Writer) {
		w.frameRecords = max(records, 1)
		w.frameBytes = max(bytes, 1)
	}
}

// NewWriter starts a segment on w and writes its header frame at once, so a
// reader on the other end of a pipe can check the header before any record
// exists.
func NewWriter(w io.Writer, h Header, opts ...WriterOption) (*Writer, error) {
	if h.Kind != KindChallenges && h.Kind != KindOutputs {
		return nil, fmt.Errorf("format: header kind %d is invalid", h.Kind)
	}
	fw := &Writer{
		w:            w,
		content:      getContent(),
		digest:       sha256.New(),
		frameRecords: DefaultFrameRecords,
		frameBytes:   DefaultFrameBytes,
	}
	for _, o := range opts {
		o(fw)
	}
	if fw.err != nil {
		putContent(fw.content)
		return nil, fw.err
	}
	hb, err := encodeHeader(&h)
	if err == nil {
		err = fw.emit(hb, true)
	}
	if err != nil {
		putContent(fw.content)
		return nil, err
	}
	return fw, nil
}

// encodeHeader encodes the header frame's content: ["pot", version, header].
func encodeHeader(h *Header) ([]byte, error) {
	var buf bytes.Buffer
	buf.Write([]byte{0x93, 0xa3, 'p', 'o', 't'})
	buf.Write(appendUint(nil, Version))
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	enc.SetOmitEmpty(true)
	if err := enc.Encode(h); err != nil {
		return nil, fmt.Errorf("format: encoding header: %w", err)
	}
	return buf.Bytes(), nil
}

// emit compresses content as one frame, adds it to the digest if asked, and
// writes it.
func (w *Writer) emit(content []byte, digest bool) error {
	st, err := getWriteState()
	if err != nil {
		w.err = err
		return err
	}
	defer putWriteState(st)
	st.out = st.enc.EncodeAll(content, st.out[:0])
	if digest {
		w.digest.Write(st.out)
	}
	if _, err := w.w.Write(st.out); err != nil {
		w.err = err
		return err
	}
	return nil
}

// Write adds a record to the segment. The record is checked against the
// rules of FORMAT.md; an invalid record is refused and the writer stays
// usable.
func (w *Writer) Write(r *Record) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if err := r.validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := w.newPieces(r); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	c := w.content
	start := len(*c)
	*c = appendRecord(*c, r, w.fresh)
	if size := len(*c) - start; size > MaxFrameContent-start {
		// The record does not fit in this frame: close the frame first, and
		// refuse a record too large for any frame.
		*c = (*c)[:start]
		if size > MaxFrameContent {
			w.unsend()
			return fmt.Errorf("%w: record of %d bytes", ErrTooLarge, size)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		*c = appendRecord(*c, r, w.fresh)
	}
	w.inFrame++
	w.count++
	if w.inFrame >= w.frameRecords || len(*c) >= w.frameBytes {
		return w.Flush()
	}
	return nil
}

// newPieces collects in w.fresh the ids of r whose bytes r.Pieces knows and
// the segment has not given yet. An id whose bytes differ from those the
// segment gave is refused: readers take an id to mean one token throughout
// a segment.
func (w *Writer) newPieces(r *Record) error {
	w.fresh = w.fresh[:0]
	p := r.Pieces
	if p == nil || len(r.Tokens) == 0 && len(r.TopTokens) == 0 {
		return nil
	}
	if w.src == nil {
		w.src = p
	} else if p != w.src {
		w.mixed = true
	}
	if w.sent == nil {
		w.sent = make(map[int32]string)
	}
	for _, ids := range [2][]int32{r.Tokens, r.TopTokens} {
		for _, id := range ids {
			if id < 0 {
				continue
			}
			if !w.mixed && id < bitsetIDs && int(id>>6) < len(w.given) && w.given[id>>6]&(1<<(id&63)) != 0 {
				continue // one table, which never changes an id's bytes
			}
			old, done := w.sent[id]
			if done && !w.mixed {
				continue
			}
			b, ok := p.Get(id)
			switch {
			case !ok:
			case done && b != old:
				w.unsend()
				return fmt.Errorf("token %d: bytes %q, but %q earlier in the segment", id, b, old)
			case !done:
				w.send(id, b) // and so given once, however often r uses it
				w.fresh = append(w.fresh, piece{id: id, bytes: b})
			}
		}
	}
	return nil
}

// send notes that the segment gives id's bytes.
func (w *Writer) send(id int32, b string) {
	w.sent[id] = b
	if id < bitsetIDs {
		for int(id>>6) >= len(w.given) {
			w.given = append(w.given, 0)
		}
		w.given[id>>6] |= 1 << (id & 63)
	}
}

// unsend forgets the ids of a record that is not written after all.
func (w *Writer) unsend() {
	for _, p := range w.fresh {
		delete(w.sent, p.id)
		if p.id < bitsetIDs {
			w.given[p.id>>6] &^= 1 << (p.id & 63)
		}
	}
	w.fresh = w.fresh[:0]
}

// Flush closes the current frame, so that everything written so far can be
// read downstream and survives if the process dies. It does not flush w.
func (w *Writer) Flush() error {
	if w.err != nil || w.closed {
		return w.err // Close flushed already
	}
	if w.inFrame == 0 {
		return nil
	}
	err := w.emit(*w.content, true)
	*w.content = (*w.content)[:0]
	w.inFrame = 0
	return err
}

// Count is the number of records written so far.
func (w *Writer) Count() uint64 { return w.count }

// Close flushes the last frame and writes the trailer. It does not close
// the underlying writer; later writes fail with ErrClosed.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	err := w.Flush()
	var trailer []byte
	if err == nil {
		trailer, err = w.trailer()
	}
	if err == nil {
		err = w.emit(trailer, false)
	}
	w.closed = true
	putContent(w.content)
	w.content = nil
	return err
}

// trailer returns the content of the segment's trailer, signed when the
// Writer has a signer.
func (w *Writer) trailer() ([]byte, error) {
	if w.signer == nil {
		return encodeTrailer(w.count, w.digest.Sum(nil)), nil
	}
	t, err := w.sign(w.count, w.digest.Sum(nil))
	if err != nil {
		w.err = err
	}
	return t, err
}

// encodeTrailer encodes the trailer frame's content: ["end", count, digest].
func encodeTrailer(count uint64, digest []byte) []byte {
	b := []byte{0x93, 0xa3, 'e', 'n', 'd'}
	b = appendUint(b, count)
	b = appendBinHeader(b, len(digest))
	return append(b, digest...)
}
