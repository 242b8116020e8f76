package format

import (
	"bytes"
	"errors"
	"runtime"
	"testing"
	"time"
)

// TestDigestEitherWay checks segments' digests hashing in the reader's
// goroutine (one CPU) and on a hasher of its own (more): intact segments
// pass, and a segment missing a frame fails at its own trailer, after every
// record of the segments before it.
func TestDigestEitherWay(t *testing.T) {
	recs := makeRecords(40, 6, 2, 20)
	out := writeStream(t, testHeader(), recs, WithFrameSize(4, 1<<20))
	good, e := out.Bytes(), out.ends
	// frames: 0 header, 1 to 10 records, 11 trailer; drop frame 3.
	bad := append(append([]byte(nil), good[:e[2]]...), good[e[3]:]...)
	for _, procs := range []int{1, 2} {
		t.Run(map[int]string{1: "here", 2: "hasher"}[procs], func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			three := bytes.Repeat(good, 3)
			got, r, err := readAll(three, hashAtOnce())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3*len(recs) || r.Stats().Trailers != 3 {
				t.Fatalf("read %d records and %d trailers, want %d and 3", len(got), r.Stats().Trailers, 3*len(recs))
			}
			got, _, err = readAll(append(append([]byte(nil), good...), bad...), hashAtOnce())
			var pe *Error
			if !errors.Is(err, ErrTrailer) || !errors.As(err, &pe) || pe.Segment != 1 {
				t.Fatalf("got %v, want ErrTrailer in segment 1", err)
			}
			if len(got) != len(recs)+len(recs)-4 {
				t.Fatalf("read %d records before the error, want %d", len(got), 2*len(recs)-4)
			}
		})
	}
}

// hashAtOnce makes a Reader start its hasher at the first frame, where a
// short test stream would otherwise be hashed in the reader's goroutine.
func hashAtOnce() ReaderOption { return func(r *Reader) { r.digest.after = 0 } }

// hashers counts the goroutines running a hasher.
func hashers() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return bytes.Count(buf[:n], []byte("format.(*hasher).run"))
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestHasherStopsWithoutClose drops readers in the middle of a segment
// without closing them: their hashers must end once the readers are
// collected, not pile up.
func TestHasherStopsWithoutClose(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	data := writeStream(t, testHeader(), makeRecords(40, 6, 0, 20), WithFrameSize(4, 1<<20)).Bytes()
	base := hashers() // of readers of other tests, not yet collected
	open := make([]*Reader, 50)
	for i := range open {
		r, err := NewReader(bytes.NewReader(data), hashAtOnce())
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			if _, err := r.Read(); err != nil {
				t.Fatal(err)
			}
		}
		open[i] = r
	}
	if n := hashers(); n < 50 {
		t.Fatalf("%d hashers with 50 readers open: the readers do not hash in a goroutine of their own", n)
	}
	runtime.KeepAlive(open)
	deadline := time.Now().Add(5 * time.Second)
	for hashers() > 0 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := hashers(); n > 0 {
		t.Fatalf("%d hashers left after dropping 50 readers (%d of other tests before)", n, base)
	}
}
