package format

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A stream is a sequence of zstd frames. The reader walks the frame and
// block headers itself, so that it knows where each frame ends and can
// decompress and check one whole frame before handing out any of its records:
// zstd verifies a frame's checksum only at its end.

const (
	zstdMagic      = 0xFD2FB528
	skippableMagic = 0x184D2A50 // low nibble free: 0x184D2A50..0x184D2A5F

	// MaxFrameContent bounds a frame's decompressed content, and so what one
	// frame can make a reader allocate.
	MaxFrameContent = 64 << 20
	maxBlock        = 128 << 10
	maxSkippable    = 1 << 20
	// maxFrameSlack bounds a frame's compressed size beyond its content:
	// zstd never needs more than 3 bytes a block, but empty blocks cost
	// input without content, and the reader holds a whole frame in memory.
	maxFrameSlack = 1 << 20
)

// frameReader splits its input into raw zstd frames.
type frameReader struct {
	r   *bufio.Reader
	off int64 // bytes consumed so far
	buf []byte
}

type rawFrame struct {
	data      []byte // the whole frame, magic to checksum
	offset    int64  // where it started in the input
	skippable bool
	size      int64 // declared content size
}

var errCleanEOF = errors.New("clean end of input")

// next returns the next frame. At the very end of input it returns
// errCleanEOF; input that ends inside a frame gives ErrTruncated.
func (f *frameReader) next() (rawFrame, error) {
	start := f.off
	f.buf = f.buf[:0]
	magic, err := f.read(4)
	if err != nil {
		if len(f.buf) == 0 && errors.Is(err, ErrTruncated) {
			return rawFrame{offset: start}, errCleanEOF
		}
		return rawFrame{offset: start}, err
	}
	m := binary.LittleEndian.Uint32(magic)
	if m&0xFFFFFFF0 == skippableMagic {
		if err := f.skippable(); err != nil {
			return rawFrame{offset: start}, err
		}
		return rawFrame{data: f.buf, offset: start, skippable: true}, nil
	}
	if m != zstdMagic {
		return rawFrame{offset: start}, fmt.Errorf("%w: no zstd frame at this offset (magic %08x)", ErrBadMagic, m)
	}
	declared, err := f.frameHeader()
	if err != nil {
		return rawFrame{offset: start}, err
	}
	if err := f.blocks(declared); err != nil {
		return rawFrame{offset: start}, err
	}
	if _, err := f.read(4); err != nil { // content checksum
		return rawFrame{offset: start}, err
	}
	return rawFrame{data: f.buf, offset: start, size: declared}, nil
}

// skippable reads the rest of a skippable frame, its magic read.
func (f *frameReader) skippable() error {
	sz, err := f.read(4)
	if err != nil {
		return err
	}
	n := binary.LittleEndian.Uint32(sz)
	if n > maxSkippable {
		return fmt.Errorf("%w: skippable frame of %d bytes", ErrTooLarge, n)
	}
	_, err = f.read(int(n))
	return err
}

// frameHeader reads a zstd frame header, its magic read, and returns the
// content size it declares.
func (f *frameReader) frameHeader() (int64, error) {
	desc, err := f.read(1)
	if err != nil {
		return 0, err
	}
	d := desc[0]
	// Reserved and unused bits are never set by a Writer; a set one is a
	// flipped bit the zstd decoder would not notice.
	if d&0x18 != 0 {
		return 0, fmt.Errorf("%w: reserved bit set in zstd frame header", ErrCorrupt)
	}
	if d&0x04 == 0 {
		return 0, fmt.Errorf("%w: zstd frame without a content checksum", ErrCorrupt)
	}
	single := d&0x20 != 0
	if !single {
		// A window descriptor is a limit, not content: a flipped bit in it
		// would go unnoticed, so frames must be single-segment.
		return 0, fmt.Errorf("%w: zstd frame is not single-segment", ErrCorrupt)
	}
	if d&0x03 != 0 {
		return 0, fmt.Errorf("%w: zstd frame needs a dictionary", ErrCorrupt)
	}
	// Single-segment: no window descriptor, and the content size is always
	// there, in 1, 2, 4 or 8 bytes.
	fcsSize := [4]int{1, 2, 4, 8}[d>>6]
	fcs, err := f.read(fcsSize)
	if err != nil {
		return 0, err
	}
	var size uint64
	for i := len(fcs) - 1; i >= 0; i-- {
		size = size<<8 | uint64(fcs[i])
	}
	if fcsSize == 2 {
		size += 256
	}
	if size > MaxFrameContent {
		return 0, fmt.Errorf("%w: frame declares %d bytes of content", ErrTooLarge, size)
	}
	return int64(size), nil
}

// blocks reads the blocks of a frame that declares declared bytes of
// content. bound is the most content the blocks read so far can
// decompress to: checking the declared size against it before
// decompressing keeps a few bytes of input from making the decoder
// allocate the declared size.
func (f *frameReader) blocks(declared int64) error {
	bound, compressed := int64(0), int64(0)
	for {
		bh, err := f.read(3)
		if err != nil {
			return err
		}
		v := uint32(bh[0]) | uint32(bh[1])<<8 | uint32(bh[2])<<16
		last := v&1 != 0
		typ := (v >> 1) & 3
		size := int(v >> 3)
		if size > maxBlock {
			return fmt.Errorf("%w: zstd block of %d bytes", ErrCorrupt, size)
		}
		switch typ {
		case 0: // raw
			bound += int64(size)
		case 1: // RLE: one byte on disk stands for size bytes
			bound += int64(size)
			size = 1
		case 2: // compressed: at most a full block
			bound += maxBlock
		case 3:
			return fmt.Errorf("%w: reserved zstd block type", ErrCorrupt)
		}
		compressed += 3 + int64(size)
		if compressed > declared+maxFrameSlack {
			return fmt.Errorf("%w: %d compressed bytes for %d bytes of content", ErrCorrupt, compressed, declared)
		}
		if _, err := f.read(size); err != nil {
			return err
		}
		if last {
			break
		}
	}
	if declared > bound {
		return fmt.Errorf("%w: frame declares %d bytes of content, its blocks hold at most %d", ErrCorrupt, declared, bound)
	}
	return nil
}

// read appends n bytes of input to f.buf and returns them. Short input is
// ErrTruncated; other read errors pass through.
func (f *frameReader) read(n int) ([]byte, error) {
	l := len(f.buf)
	if cap(f.buf)-l < n {
		nb := make([]byte, l, 2*cap(f.buf)+n)
		copy(nb, f.buf)
		f.buf = nb
	}
	f.buf = f.buf[:l+n]
	k, err := io.ReadFull(f.r, f.buf[l:])
	f.off += int64(k)
	if err != nil {
		f.buf = f.buf[:l+k]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, ErrTruncated
		}
		return nil, err
	}
	return f.buf[l:], nil
}
