package format

import (
	"bufio"
	"fmt"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Building a zstd decoder or encoder with its tables and buffers costs more
// than reading or writing a small stream, and tools and tests open
// thousands of streams. Closed Readers and Writers leave theirs in these
// pools, the package's only shared state: the codecs are used only through
// DecodeAll and EncodeAll, which start no goroutine and keep nothing from
// one call to the next, so what the pools hold is idle and unobservable.
var (
	readStates  sync.Pool // of *readState
	writeStates sync.Pool // of *writeState
	contents    sync.Pool // of *[]byte, the open frame of a Writer
)

// maxPooledBuffer is the largest buffer a pool keeps: a stream with huge
// frames should not leave its buffers to every later stream.
const maxPooledBuffer = 1 << 20

// readState is what a Reader borrows.
type readState struct {
	dec     *zstd.Decoder
	br      *bufio.Reader
	content []byte   // the decompressed content of the current frame
	raw     []byte   // the compressed frame being read
	spare   [][]byte // more frame buffers, for a Reader's hasher
}

func getReadState() (*readState, error) {
	if s, ok := readStates.Get().(*readState); ok {
		return s, nil
	}
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxMemory(MaxFrameContent),
		zstd.WithDecoderMaxWindow(MaxFrameContent))
	if err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	return &readState{dec: dec, br: bufio.NewReaderSize(nil, 64<<10)}, nil
}

func putReadState(s *readState) {
	s.br.Reset(nil) // drop the caller's reader
	if cap(s.content) > maxPooledBuffer {
		s.content = nil
	}
	if cap(s.raw) > maxPooledBuffer {
		s.raw = nil
	}
	s.content, s.raw = s.content[:0], s.raw[:0]
	s.spare = slices.DeleteFunc(s.spare, func(b []byte) bool { return cap(b) > maxPooledBuffer })
	readStates.Put(s)
}

// writeState is what a Writer borrows to compress a frame.
type writeState struct {
	enc *zstd.Encoder
	out []byte // the compressed frame
}

func getWriteState() (*writeState, error) {
	if s, ok := writeStates.Get().(*writeState); ok {
		return s, nil
	}
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(true),
		// The fastest level writes 1.6 to 1.8 times as fast as the default for a
		// file 3 to 9 % larger (bench_test.go), still smaller than gzipped
		// JSON; potsplit and potgen -j rewrite streams at this rate.
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithLowerEncoderMem(true),
		// Frames are compressed one by one and are small, so a window larger
		// than a frame would only cost memory: the default is 8 MiB.
		zstd.WithWindowSize(frameWindow),
		zstd.WithSingleSegment(true))
	if err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	return &writeState{enc: enc}, nil
}

func putWriteState(s *writeState) {
	if cap(s.out) > maxPooledBuffer {
		s.out = nil
	}
	s.out = s.out[:0]
	writeStates.Put(s)
}

func getContent() *[]byte {
	if c, ok := contents.Get().(*[]byte); ok {
		return c
	}
	return new([]byte)
}

func putContent(c *[]byte) {
	if cap(*c) > maxPooledBuffer {
		*c = nil
	}
	*c = (*c)[:0]
	contents.Put(c)
}
