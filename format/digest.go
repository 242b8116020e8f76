package format

import (
	"crypto/sha256"
	"hash"
	"runtime"
	"sync"
)

// digester computes a segment's digest, the SHA-256 of its raw frames, as a
// Reader reads them. Hashing is a fifth of the work of reading a stream, and
// no later step needs its result before the trailer, so with more than one
// CPU and a long enough stream it runs on a goroutine of its own while the
// reader decompresses and decodes the next frames. Frames are handed over
// whole: the reader reads each frame into a buffer it takes back from the
// hasher once hashed.
type digester struct {
	h hash.Hash // hashes in the caller's goroutine until the hasher starts

	bg     *hasher // the hasher, once started
	want   bool    // start the hasher once after bytes are hashed
	after  int64
	hashed int64
}

// hasher is the goroutine's side. It holds nothing of the Reader, so that a
// Reader dropped without Close is collected and its hasher told to stop.
type hasher struct {
	ops  chan digestOp
	free chan []byte // hashed buffers, back to the reader
	stop sync.Once
}

type digestOp struct {
	data  []byte      // a frame to hash, then give back
	reset bool        // start a new segment
	sum   chan []byte // where to send the digest so far
}

// hasherBuffers is how many frame buffers circulate: one being read, the
// others queued for hashing.
const hasherBuffers = 3

// hasherAfter is how much a Reader hashes itself before it starts a hasher.
// Starting one costs about 9 µs: half the cost of opening a one-record
// stream, which tools and tests do thousands of times, but 1% of reading
// 256 KiB. Tests lower it per Reader (digester.after), never for all.
const hasherAfter = 256 << 10

func newDigester() digester {
	return digester{h: sha256.New(), want: runtime.GOMAXPROCS(0) > 1, after: hasherAfter}
}

// start begins hashing in the background, with spare buffers for frames;
// owner is the Reader, whose collection stops the hasher if it was never
// closed.
func (d *digester) start(owner *Reader, spare [][]byte) {
	hs := &hasher{ops: make(chan digestOp, hasherBuffers), free: make(chan []byte, hasherBuffers)}
	for i := range hasherBuffers - 1 {
		var b []byte
		if i < len(spare) {
			b = spare[i][:0]
		}
		hs.free <- b
	}
	go hs.run(d.h)
	runtime.AddCleanup(owner, func(hs *hasher) { hs.close() }, hs)
	d.bg, d.h = hs, nil
}

func (hs *hasher) run(h hash.Hash) {
	for op := range hs.ops {
		switch {
		case op.reset:
			h.Reset()
		case op.sum != nil:
			op.sum <- h.Sum(nil)
		default:
			h.Write(op.data)
			hs.free <- op.data[:0]
		}
	}
}

func (hs *hasher) close() { hs.stop.Do(func() { close(hs.ops) }) }

// reset starts the digest of a new segment.
func (d *digester) reset() {
	if d.bg != nil {
		d.bg.ops <- digestOp{reset: true}
		return
	}
	d.h.Reset()
}

// write adds a frame read into buf, and returns the buffer to read the next
// frame into: buf itself when hashing here, another one when the hasher
// took buf. spare are buffers the hasher may use.
func (d *digester) write(buf []byte, owner *Reader, spare [][]byte) []byte {
	if d.bg == nil && d.want && d.hashed >= d.after {
		d.start(owner, spare)
	}
	if d.bg == nil {
		d.h.Write(buf)
		d.hashed += int64(len(buf))
		return buf
	}
	d.bg.ops <- digestOp{data: buf}
	return <-d.bg.free
}

// sum returns the digest of the segment so far.
func (d *digester) sum() []byte {
	if d.bg != nil {
		c := make(chan []byte, 1)
		d.bg.ops <- digestOp{sum: c}
		return <-c
	}
	return d.h.Sum(nil)
}

// close stops the hasher, and returns the buffers it is done with; frames
// still queued are hashed and their buffers dropped.
func (d *digester) close() (done [][]byte) {
	if d.bg == nil {
		return nil
	}
	d.bg.close()
	for {
		select {
		case b := <-d.bg.free:
			if b != nil {
				done = append(done, b)
			}
		default:
			return done
		}
	}
}
