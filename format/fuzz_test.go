package format

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets. Run them with
//
//	go test -run XXX -fuzz FuzzReader -fuzztime 60s -fuzzminimizetime 5s ./format
//	go test -run XXX -fuzz FuzzRoundTrip -fuzztime 60s -fuzzminimizetime 5s ./format
//
// (Minimizing a new input runs the target thousands of times, and each run
// compresses frames: the default of 60 s a minimization stalls the run.)

// compressFrame compresses content, which is not empty, as one frame the
// way a Writer does, with a Writer's pooled encoder: building an encoder
// per call would make fuzzing crawl.
func compressFrame(tb testing.TB, content []byte) []byte {
	st, err := getWriteState()
	if err != nil {
		tb.Fatal(err)
	}
	defer putWriteState(st)
	return st.enc.EncodeAll(content, nil)
}

// segmentAround returns a segment whose only records frame holds content
// as it is, with a trailer whose digest matches and whose count is count.
// It lets tests and fuzzing reach the record decoder with any content,
// which a checksum would otherwise keep out.
func segmentAround(tb testing.TB, content []byte, count uint64) []byte {
	return wrapRecords(tb, headerFrame(tb), content, count)
}

// headerFrame is the compressed header frame of testHeader.
func headerFrame(tb testing.TB) []byte {
	h := testHeader()
	hc, err := encodeHeader(&h)
	if err != nil {
		tb.Fatal(err)
	}
	return compressFrame(tb, hc)
}

func wrapRecords(tb testing.TB, head, content []byte, count uint64) []byte {
	recs := compressFrame(tb, content)
	d := sha256.New()
	d.Write(head)
	d.Write(recs)
	out := append(append([]byte{}, head...), recs...)
	return append(out, compressFrame(tb, encodeTrailer(count, d.Sum(nil)))...)
}

// headerAround returns a stream whose header frame holds body after the
// ["pot", 1, ...] prefix.
func headerAround(tb testing.TB, body []byte) []byte {
	return compressFrame(tb, append([]byte{0x93, 0xa3, 'p', 'o', 't', 1}, body...))
}

// fuzzSeeds are valid, truncated and damaged streams from the test tables.
func fuzzSeeds(tb testing.TB) [][]byte {
	recs := makeRecords(3, 4, 2, 10)
	good := writeStream(tb, testHeader(), recs, WithFrameSize(2, 1<<20)).Bytes()
	flipped := append([]byte{}, good...)
	flipped[len(flipped)/2] ^= 0x10
	skip := []byte{0x5A, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 'a', 'b', 'c'}
	return [][]byte{
		good,
		good[:len(good)/2],
		good[:len(good)-1],
		flipped,
		append(append(append([]byte{}, good...), skip...), good...),
		writeStream(tb, testHeader(), []Record{{}, {Index: 3, ID: "abc", Seed: math.MaxUint64, Prompt: "Tell me a story"}}).Bytes(),
		writeStream(tb, testHeader(), []Record{pieceRecord(0, vocabTable(), 2, 3), pieceRecord(1, vocabTable(), 3, 4),
			{Logprobs: []float32{-1}, TokenBytes: []string{"\xe2"}, TopK: 1, TopLogprobs: []float32{-1}, TopBytes: []string{"\xe2"}}}).Bytes(),
		[]byte("hello, world\n"),
		writeStream(tb, testHeader(), recs, WithFrameSize(2, 1<<20), SignWith(testKey("fuzz"))).Bytes(),
	}
}

// checkStream reads data to its end and checks the promises a Reader
// makes whatever its input: no panic, only valid records, a positioned
// sticky error.
func checkStream(t *testing.T, data []byte) {
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		var pe *Error
		if !errors.As(err, &pe) {
			t.Fatalf("NewReader error %v is not an *Error", err)
		}
		return
	}
	defer r.Close()
	n := 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Record != int64(n) {
				t.Fatalf("error %v does not locate record %d", err, n)
			}
			if _, again := r.Read(); again != err {
				t.Fatalf("error not sticky: %v then %v", err, again)
			}
			break
		}
		if err := rec.validate(); err != nil {
			t.Fatalf("record %d returned although invalid: %v", n, err)
		}
		n++
	}
}

// FuzzReader feeds arbitrary bytes to a Reader three ways: as a stream, as
// the content of a records frame, and as the body of a header, since the
// frame checksums keep random bytes from reaching the decoders otherwise.
func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	var content []byte
	for _, rec := range makeRecords(2, 3, 2, 5) {
		content = appendRecord(content, &rec, nil)
	}
	f.Add(content)
	f.Add([]byte{0x81, keyTokens, 0xc4, 0x03, packVarint, 0x80, 0x01})
	f.Add([]byte{0x81, keyTokens, 0xc4, 0x04, packPlanes3, 0x01, 0x00, 0x02})
	f.Add([]byte{0x81, keyTopTokens, 0xc4, 0x05, packPlanes2, 0x00, 0x01, 0xff, 0x00})
	head := headerFrame(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStream(t, data)
		if len(data) > 0 {
			checkStream(t, wrapRecords(t, head, data, 1))
			checkStream(t, headerAround(t, data))
		}
	})
}

// fuzzRecord builds a valid record from fuzz inputs.
func fuzzRecord(index, seed uint64, sample uint32, id, text string, ids, lps []byte, topk uint8, latency int64, attempts uint16) Record {
	valid := func(s string) string {
		if !utf8.ValidString(s) {
			return strings.ToValidUTF8(s, "?")
		}
		return s
	}
	r := Record{
		Index: index, Seed: seed, Sample: sample,
		ID: valid(id), Prompt: valid(text + id), Text: valid(text), Finish: valid(id + "!"), Err: valid(text[:len(text)/2]),
		Latency: time.Duration(latency & math.MaxInt64), Attempts: int(attempts),
		TopK: int(topk % 4),
	}
	for i := 0; i+4 <= len(ids); i += 4 {
		v := int32(uint32(ids[i]) | uint32(ids[i+1])<<8 | uint32(ids[i+2])<<16 | uint32(ids[i+3])<<24)
		r.Tokens = append(r.Tokens, max(v, -1))
	}
	// Log-probabilities from any bit pattern, NaNs and infinities included.
	for i := range r.Tokens {
		var u uint32
		for k := range 4 {
			if j := 4*i + k; j < len(lps) {
				u |= uint32(lps[j]) << (8 * k)
			}
		}
		r.Logprobs = append(r.Logprobs, math.Float32frombits(u))
	}
	for i := range len(r.Tokens) * r.TopK {
		r.TopTokens = append(r.TopTokens, max(r.Tokens[i/r.TopK]^int32(i&1), -1))
		r.TopLogprobs = append(r.TopLogprobs, r.Logprobs[i/r.TopK]-float32(i%r.TopK))
	}
	if len(r.Tokens)%2 == 1 {
		r.TopTokens = nil // a backend without ids gives only log-probabilities
	}
	return r
}

// FuzzRoundTrip writes a record built from the fuzz inputs and reads it
// back unchanged.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint64(0), uint64(0), uint32(0), "", "", []byte{}, []byte{}, uint8(0), int64(0), uint16(0))
	f.Add(uint64(3), uint64(math.MaxUint64), uint32(2), "abc", "Tell me a story", []byte{1, 2, 3, 4, 255, 255, 255, 255}, []byte{0, 0, 0, 0x80, 0, 0, 0xc0, 0x7f}, uint8(3), int64(time.Second), uint16(6))
	f.Add(uint64(1), uint64(2), uint32(3), "日本語", "🙂 \xff", []byte{255, 255, 255, 127, 0, 0, 0, 0, 127, 0, 0, 0}, []byte{0, 0, 0x80, 0xff}, uint8(2), int64(-5), uint16(1))
	f.Fuzz(func(t *testing.T, index, seed uint64, sample uint32, id, text string, ids, lps []byte, topk uint8, latency int64, attempts uint16) {
		rec := fuzzRecord(index, seed, sample, id, text, ids, lps, topk, latency, attempts)
		if err := rec.validate(); err != nil {
			t.Fatalf("fuzzRecord built an invalid record: %v", err)
		}
		out := writeStream(t, testHeader(), []Record{rec, {}, rec}, WithFrameSize(2, 1<<20))
		got, _, err := readAll(out.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || !recordsEqual(got[0], rec) || !recordsEqual(got[1], Record{}) || !recordsEqual(got[2], rec) {
			t.Fatalf("round trip changed the records:\ngot  %+v\nwant %+v", got, rec)
		}
	})
}

// allocated returns how many bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileLengths gives the reader inputs that declare huge sizes: each
// is an error, found without allocating what was declared.
func TestHostileLengths(t *testing.T) {
	// A frame that declares 64 MiB of content (the limit) but holds one
	// tiny compressed block.
	bigFrame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xa4, 0, 0, 0, 4, 0x1d, 0, 0, 1, 2, 3, 0, 0, 0, 0}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"declared content", bigFrame, ErrCorrupt},
		{"declared content over the limit", []byte{0x28, 0xb5, 0x2f, 0xfd, 0xa4, 0, 0, 0, 0x40, 0x1d, 0, 0}, ErrTooLarge},
		{"skippable frame", []byte{0x50, 0x2a, 0x4d, 0x18, 0xff, 0xff, 0xff, 0xff}, ErrTooLarge},
		{"bin length", segmentAround(t, []byte{0x81, keyTokens, 0xc6, 0xff, 0xff, 0xff, 0xf0, packVarint}, 1), ErrCorrupt},
		{"string length", segmentAround(t, []byte{0x81, keyText, 0xdb, 0xff, 0xff, 0xff, 0xf0, 'a'}, 1), ErrCorrupt},
		{"map length", segmentAround(t, []byte{0xdf, 0xff, 0xff, 0xff, 0xf0, 0, 0}, 1), ErrCorrupt},
		{"unknown field array length", segmentAround(t, []byte{0x81, 30, 0xdd, 0xff, 0xff, 0xff, 0xf0, 0}, 1), ErrCorrupt},
		{"header map length", headerAround(t, []byte{0xdf, 0xff, 0xff, 0xff, 0xf0, 0xa1, 'k'}), ErrCorrupt},
		{"header string length", headerAround(t, []byte{0x81, 0xa4, 't', 'o', 'o', 'l', 0xdb, 0xff, 0xff, 0xff, 0xf0}), ErrCorrupt},
		{"header nesting", headerAround(t, bytes.Repeat([]byte{0x91}, 100)), ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, _, err = readAll(tt.data) })
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if n > 1<<20 {
				t.Fatalf("allocated %d bytes", n)
			}
		})
	}
}

// TestManyTinyRecords reads a frame of millions of empty records: records
// are decoded as they are read, so memory stays that of the frame.
func TestManyTinyRecords(t *testing.T) {
	const n = 4 << 20
	data := segmentAround(t, bytes.Repeat([]byte{0x80}, n), n)
	var got int
	var err error
	used := allocated(func() {
		var r *Reader
		if r, err = NewReader(bytes.NewReader(data)); err != nil {
			return
		}
		defer r.Close()
		for {
			if _, err = r.Read(); err != nil {
				break
			}
			got++
		}
	})
	if err != io.EOF || got != n {
		t.Fatalf("read %d records, %v", got, err)
	}
	if used > 4*n {
		t.Fatalf("reading %d bytes of records allocated %d bytes", n, used)
	}
}
