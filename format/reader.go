package format

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/vmihailenco/msgpack/v5"
)

// Reader reads the records of a stream, segment after segment. Errors are
// sticky: after the first, every Read returns it again. Every valid record
// before a failure is returned first, so nothing readable is lost; no
// record of a frame that fails its checksum or size checks is ever
// returned, and no invalid record.
type Reader struct {
	fr frameReader
	st *readState // borrowed until Close

	first   Header  // the first segment's header
	header  Header  // the current segment's header
	segment int     // index of the current segment
	version uint64  // format version of the current segment
	inSeg   bool    // between a header and its trailer
	pieces  *Pieces // the current segment's token bytes, shared by its records

	// The records frame being read: its content has passed its checksum,
	// and records are decoded from it one at a time as Read asks, so a
	// frame of many tiny records costs no more memory than its content.
	recs     dec
	arena    arena
	frameOff int64 // where the records frame starts in the input
	frameRec int   // records of the frame decoded so far

	returned int64 // records handed to the caller
	segCount uint64
	digest   digester
	stats    Stats
	mixed    bool
	reuse    bool
	err      error

	// Signatures (sign.go): the keys a segment must be signed by when
	// requireSigned, and what to tell of each checked trailer.
	trusted       []ed25519.PublicKey
	requireSigned bool
	onTrailer     func(Trailer) error
}

// errReaderClosed is what Read returns after Close.
var errReaderClosed = errors.New("format: reader closed")

// Stats counts what a Reader has seen.
type Stats struct {
	Segments       int   // segments started
	Trailers       int   // segments closed by a trailer whose count and digest matched
	Signed         int   // of those, segments whose trailer carries a signature that verifies
	Frames         int   // zstd frames read, skippable ones included
	Records        int64 // records returned
	CompressedSize int64 // bytes of input consumed
	ContentSize    int64 // bytes of decompressed content
}

// ReaderOption configures a Reader.
type ReaderOption func(*Reader)

// AllowMixed lets a stream hold segments with incompatible headers (another
// challenge set, model or sampling). Without it such a segment is an
// ErrIncompatible error.
func AllowMixed() ReaderOption { return func(r *Reader) { r.mixed = true } }

// ReuseRecords lets Read give every record the storage of the one before
// for its token ids and log-probabilities: they stay valid only until the
// next Read. Strings stay valid for good. A caller that looks at each record
// once (counting, printing, re-writing) reads about 10% faster, without an
// allocation for those arrays.
func ReuseRecords() ReaderOption { return func(r *Reader) { r.reuse = true } }

// NewReader reads and checks the first header of the stream in r.
func NewReader(r io.Reader, opts ...ReaderOption) (*Reader, error) {
	st, err := getReadState()
	if err != nil {
		return nil, err
	}
	st.br.Reset(r)
	rd := &Reader{
		fr:     frameReader{r: st.br, buf: st.raw[:0]},
		st:     st,
		digest: newDigester(),
	}
	for _, o := range opts {
		o(rd)
	}
	// Only up to the first header: a reader at the end of a pipe learns
	// what the stream is before the writer has produced any record.
	for rd.stats.Segments == 0 {
		if err := rd.frame(); err != nil {
			rd.Close()
			return nil, err
		}
	}
	return rd, nil
}

// Header returns the header of the segment of the record last returned (or,
// before the first Read, of the first segment).
func (r *Reader) Header() Header { return r.header }

// First returns the header of the first segment.
func (r *Reader) First() Header { return r.first }

// Segment is the 0-based index of the current segment.
func (r *Reader) Segment() int { return r.segment }

// Stats reports what has been read so far.
func (r *Reader) Stats() Stats {
	s := r.stats
	s.Records = r.returned
	s.CompressedSize = r.fr.off
	return s
}

// Read returns the next record, or io.EOF after the last one of a complete
// stream. The slices of the record are its own: they stay valid after later
// calls, unless the Reader was made with ReuseRecords.
func (r *Reader) Read() (Record, error) {
	for r.err == nil {
		if r.recs.off < len(r.recs.b) {
			if r.reuse {
				r.arena.ints, r.arena.floats = r.arena.ints[:0], r.arena.floats[:0]
			}
			var rec Record
			r.recs.record(&rec, &r.arena)
			if r.recs.err != "" {
				r.err = r.fail(r.frameOff, ErrCorrupt, "record %d of the frame: %s", r.frameRec, r.recs.err)
				break
			}
			r.frameRec++
			r.segCount++
			r.returned++
			return rec, nil
		}
		r.err = r.frame()
	}
	return Record{}, r.err
}

// Close releases the decoder. It does not close the underlying reader.
// Read after Close fails.
func (r *Reader) Close() error {
	done := r.digest.close()
	if r.st != nil {
		r.st.spare = append(r.st.spare[:0], done...)
		r.st.raw = r.fr.buf
		putReadState(r.st)
		r.st, r.fr.r, r.fr.buf, r.recs = nil, nil, nil, dec{}
	}
	if r.err == nil {
		r.err = errReaderClosed
	}
	return nil
}

func (r *Reader) fail(off int64, sentinel error, detail string, args ...any) error {
	return &Error{Record: r.returned, Offset: off, Segment: r.at(), Detail: fmt.Sprintf(detail, args...), Err: sentinel}
}

// at is the segment the frame being read belongs to: the open segment, or
// after a trailer the one that frame begins, so that damage to a header is
// blamed on its own segment and not on the one before it.
func (r *Reader) at() int {
	if r.inSeg || r.stats.Segments == 0 {
		return r.segment
	}
	return r.stats.Segments
}

// wrap turns an error from the frame layer into a positioned one.
func (r *Reader) wrap(off int64, err error) error {
	var sentinel error
	for _, s := range []error{ErrTruncated, ErrBadMagic, ErrCorrupt, ErrTooLarge} {
		if errors.Is(err, s) {
			sentinel = s
		}
	}
	if sentinel == nil {
		// An I/O error of the underlying reader: say where, keep the cause.
		return &Error{Record: r.returned, Offset: off, Segment: r.at(), Err: err}
	}
	detail := ""
	if msg, ok := bytes.CutPrefix([]byte(err.Error()), []byte(sentinel.Error()+": ")); ok {
		detail = string(msg)
	}
	if sentinel == ErrBadMagic && off > 0 {
		sentinel = ErrCorrupt // garbage after valid data, not a foreign file
	}
	return &Error{Record: r.returned, Offset: off, Segment: r.at(), Detail: detail, Err: sentinel}
}

// frame reads and handles one frame.
func (r *Reader) frame() error {
	r.recs = dec{}
	raw, err := r.fr.next()
	if err == errCleanEOF {
		switch {
		case r.stats.Segments == 0:
			return &Error{Offset: raw.offset, Err: ErrEmpty}
		case r.inSeg:
			return r.fail(raw.offset, ErrNoTrailer, "the writer did not finish segment %d", r.segment)
		}
		return io.EOF
	}
	if err != nil {
		return r.wrap(raw.offset, err)
	}
	r.stats.Frames++
	if raw.skippable {
		return nil
	}
	r.st.content, err = r.st.dec.DecodeAll(raw.data, r.st.content[:0])
	if err != nil {
		if errors.Is(err, zstd.ErrCRCMismatch) {
			return r.fail(raw.offset, ErrChecksum, "frame content does not match its checksum")
		}
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
			return r.fail(raw.offset, ErrTooLarge, "%v", err)
		}
		return r.fail(raw.offset, ErrCorrupt, "zstd: %v", err)
	}
	c := r.st.content
	if raw.size >= 0 && raw.size != int64(len(c)) {
		// The decoder does not hold a frame to its declared size.
		return r.fail(raw.offset, ErrCorrupt, "frame declares %d bytes of content, holds %d", raw.size, len(c))
	}
	r.stats.ContentSize += int64(len(c))
	switch {
	case len(c) == 0:
		return r.fail(raw.offset, ErrCorrupt, "empty frame")
	case bytes.HasPrefix(c, []byte{0x93, 0xa3, 'p', 'o', 't'}):
		if err := r.headerFrame(raw.offset, c); err != nil {
			return err
		}
		r.fr.buf = r.digest.write(raw.data, r, r.st.spare)
		return nil
	case (c[0] == 0x93 || c[0] == 0x96) && bytes.HasPrefix(c[1:], []byte{0xa3, 'e', 'n', 'd'}):
		return r.trailerFrame(raw.offset, c)
	case c[0]&0xf0 == 0x80 || c[0] == 0xde || c[0] == 0xdf:
		if err := r.recordsFrame(raw.offset, c); err != nil {
			return err
		}
		r.fr.buf = r.digest.write(raw.data, r, r.st.spare)
		return nil
	}
	if r.stats.Segments == 0 {
		return &Error{Offset: raw.offset, Err: ErrBadMagic, Detail: "zstd data, but not a pot stream"}
	}
	return r.fail(raw.offset, ErrCorrupt, "frame of unknown kind (first byte 0x%02x)", c[0])
}

func (r *Reader) headerFrame(off int64, c []byte) error {
	if r.inSeg {
		return r.fail(off, ErrNoTrailer, "segment %d ends without a trailer where segment %d begins", r.segment, r.segment+1)
	}
	d := dec{b: c, off: 5}
	v := d.uint()
	if d.err == "" && (v < 1 || v > Version) {
		if r.stats.Segments == 0 {
			return &Error{Offset: off, Err: ErrVersion, Detail: fmt.Sprintf("version %d, this reader knows 1 to %d", v, Version)}
		}
		return r.fail(off, ErrVersion, "version %d, this reader knows 1 to %d", v, Version)
	}
	body := d.off
	d.skip(0) // checks every declared length before the library allocates
	if d.err == "" && d.off != len(c) {
		d.fail("%d bytes after the header", len(c)-d.off)
	}
	if d.err != "" {
		return r.fail(off, ErrCorrupt, "header: %s", d.err)
	}
	var h Header
	if err := msgpack.Unmarshal(c[body:], &h); err != nil {
		return r.fail(off, ErrCorrupt, "header: %v", err)
	}
	if h.Kind != KindChallenges && h.Kind != KindOutputs {
		return r.fail(off, ErrCorrupt, "header: stream kind %d", h.Kind)
	}
	if !h.Created.IsZero() {
		h.Created = h.Created.UTC() // msgpack timestamps carry no zone
	}
	if r.stats.Segments == 0 {
		r.first = h
	} else if why := Compatible(&r.first, &h); why != "" && !r.mixed {
		return r.fail(off, ErrIncompatible, "segment %d differs from segment 0 in %s", r.stats.Segments, why)
	}
	r.segment = r.stats.Segments
	r.version = v
	r.stats.Segments++
	r.header = h
	r.inSeg = true
	r.segCount = 0
	r.pieces = NewPieces()
	r.digest.reset()
	return nil
}

func (r *Reader) trailerFrame(off int64, c []byte) error {
	if !r.inSeg {
		return r.fail(off, ErrCorrupt, "trailer without a segment")
	}
	signed := c[0] == 0x96
	if signed && r.version < 3 {
		return r.fail(off, ErrCorrupt, "trailer: signed trailer in a version %d segment", r.version)
	}
	d := dec{b: c, off: 5}
	count := d.uint()
	digest := d.bin()
	var pub ed25519.PublicKey
	var sig []byte
	if signed {
		pub, sig = trailerSigner(&d)
	}
	if d.err == "" && d.off != len(c) {
		d.fail("%d bytes after the trailer", len(c)-d.off)
	}
	if d.err != "" {
		return r.fail(off, ErrCorrupt, "trailer: %s", d.err)
	}
	if count != r.segCount {
		return r.fail(off, ErrTrailer, "segment %d has %d records, its trailer says %d", r.segment, r.segCount, count)
	}
	sum := r.digest.sum()
	if !bytes.Equal(digest, sum) {
		return r.fail(off, ErrTrailer, "segment %d digest differs from its trailer", r.segment)
	}
	// The digest matched, so the signature is checked against what was
	// read, not only against what the trailer claims.
	if signed && !ed25519.Verify(pub, signedMessage(count, sum), sig) {
		return r.fail(off, ErrSignature, "the signature by %s fails", KeyID(pub))
	}
	if r.requireSigned {
		switch {
		case !signed:
			return r.fail(off, ErrUntrusted, "the segment is unsigned")
		case !r.trusts(pub):
			return r.fail(off, ErrUntrusted, "it is signed by %s", KeyID(pub))
		}
	}
	r.inSeg = false
	r.stats.Trailers++
	if signed {
		r.stats.Signed++
	}
	if r.onTrailer != nil {
		if err := r.onTrailer(Trailer{Segment: r.segment, Header: r.header, Count: count, Signer: pub}); err != nil {
			return &Error{Record: r.returned, Offset: off, Segment: r.segment, Err: err}
		}
	}
	return nil
}

func (r *Reader) recordsFrame(off int64, c []byte) error {
	if !r.inSeg {
		return r.fail(off, ErrCorrupt, "records outside a segment")
	}
	r.recs = dec{b: c, version: r.version, pieces: r.pieces, fresh: r.recs.fresh}
	r.frameOff, r.frameRec = off, 0
	return nil
}
