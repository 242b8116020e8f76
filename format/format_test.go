package format

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// testRNG is a small deterministic generator so test data never depends on
// math/rand's version.
type testRNG uint64

func (r *testRNG) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (r *testRNG) intn(n int) int { return int(r.next() % uint64(n)) }

func (r *testRNG) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// outputRecord makes a realistic output record: tokens tokens of a 32k
// vocabulary, their log-probabilities, topk alternatives and about textLen
// bytes of text.
func outputRecord(rng *testRNG, i uint64, tokens, topk, textLen int) Record {
	r := Record{
		Index:    i,
		ID:       fmt.Sprintf("%016x", rng.next()),
		Sample:   uint32(rng.intn(3)),
		Seed:     rng.next(),
		Prompt:   "Once upon a time",
		Finish:   "length",
		Latency:  time.Duration(rng.intn(1e9)),
		Attempts: 1,
		TopK:     topk,
	}
	words := []string{"the", "little", "girl", "named", "Lily", "loved", "to", "play", "outside", "park", "ball", "red", "big", "dog"}
	var sb strings.Builder
	for sb.Len() < textLen {
		sb.WriteString(words[rng.intn(len(words))])
		sb.WriteByte(' ')
	}
	r.Text = sb.String()
	for p := 0; p < tokens; p++ {
		r.Tokens = append(r.Tokens, int32(rng.intn(32000)))
		lp := float32(math.Log(rng.float()*0.999 + 0.001))
		r.Logprobs = append(r.Logprobs, lp)
		for k := 0; k < topk; k++ {
			r.TopTokens = append(r.TopTokens, int32(rng.intn(32000)))
			r.TopLogprobs = append(r.TopLogprobs, lp-float32(k)*float32(rng.float()))
		}
	}
	return r
}

func testHeader() Header {
	return Header{
		Kind:       KindOutputs,
		Challenges: ChallengeSet{ID: "c0ffee", Commitment: strings.Repeat("ab", 32), RunID: "default", Family: "templates/v1", Count: 10},
		Model:      Model{Backend: "synth", Name: "synth:1", Digest: "sha256:00", Vocab: "sha256:11", Meta: map[string]string{"dim": "64"}},
		Sampling:   Sampling{Temperature: 1, TopP: 0.9, TopK: 40, MaxTokens: 64, Logprobs: 5, Samples: 1, Seed: 7, LogprobsOf: "raw"},
		Shard:      Shard{Index: 1, Count: 4, By: "challenge"},
		Created:    time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
		Tool:       "potgen test",
		Labels:     map[string]string{"audit": "q4"},
	}
}

// frameLog records where each Write to it ended, which for a Writer is where
// each frame ended.
type frameLog struct {
	bytes.Buffer
	ends []int
}

func (f *frameLog) Write(p []byte) (int, error) {
	n, err := f.Buffer.Write(p)
	f.ends = append(f.ends, f.Len())
	return n, err
}

func writeStream(t testing.TB, h Header, recs []Record, opts ...WriterOption) *frameLog {
	t.Helper()
	var out frameLog
	w, err := NewWriter(&out, h, opts...)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &out
}

// readAll returns every record a reader hands out and the error that ended it.
func readAll(data []byte, opts ...ReaderOption) ([]Record, *Reader, error) {
	r, err := NewReader(bytes.NewReader(data), opts...)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var recs []Record
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return recs, r, nil
		}
		if err != nil {
			return recs, r, err
		}
		recs = append(recs, rec)
	}
}

func makeRecords(n, tokens, topk, textLen int) []Record {
	rng := testRNG(42)
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = outputRecord(&rng, uint64(i), tokens, topk, textLen)
	}
	return recs
}

func TestRoundTrip(t *testing.T) {
	full := makeRecords(1, 8, 3, 40)[0]
	full.Err = "backend: 503 after 6 attempts"
	full.Latency = -0 // zero is omitted on the wire and must still read back as zero
	tests := []struct {
		name string
		rec  Record
	}{
		{"empty", Record{}},
		{"challenge", Record{Index: 3, ID: "abc", Seed: math.MaxUint64, Prompt: "Tell me a story"}},
		{"full", full},
		{"no ids", Record{Logprobs: []float32{-1, -2}, TopK: 2, TopLogprobs: []float32{-1, -3, -2, float32(math.Inf(-1))}, Text: "ab"}},
		{"padding", Record{Tokens: []int32{5}, Logprobs: []float32{-0.5}, TopK: 3, TopTokens: []int32{5, 7, -1}, TopLogprobs: []float32{-0.5, -1, float32(math.Inf(-1))}}},
		{"large ids", Record{Tokens: []int32{math.MaxInt32, 0, 127, 128, 16383, 16384}}},
		{"long strings", Record{Text: strings.Repeat("é", 70000), ID: strings.Repeat("x", 300)}},
		{"unicode", Record{Text: "日本語のテキスト 🙂", Finish: "stop"}},
		{"negative zero and nan", Record{Logprobs: []float32{float32(math.Copysign(0, -1)), float32(math.NaN())}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := writeStream(t, testHeader(), []Record{tt.rec, tt.rec})
			recs, r, err := readAll(out.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 2 {
				t.Fatalf("got %d records, want 2", len(recs))
			}
			for _, got := range recs {
				if !recordsEqual(got, tt.rec) {
					t.Errorf("got  %+v\nwant %+v", got, tt.rec)
				}
			}
			h := r.Header()
			if want := testHeader(); !reflect.DeepEqual(h, want) {
				t.Errorf("header:\ngot  %+v\nwant %+v", h, want)
			}
		})
	}
}

// recordsEqual compares records treating nil and empty slices alike and NaN
// bit patterns as values.
func recordsEqual(a, b Record) bool {
	fa := func(x, y []float32) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				return false
			}
		}
		return true
	}
	ia := func(x, y []int32) bool { return len(x) == len(y) && (len(x) == 0 || reflect.DeepEqual(x, y)) }
	return a.Index == b.Index && a.ID == b.ID && a.Sample == b.Sample && a.Seed == b.Seed &&
		a.Prompt == b.Prompt && ia(a.Tokens, b.Tokens) && fa(a.Logprobs, b.Logprobs) && a.TopK == b.TopK &&
		ia(a.TopTokens, b.TopTokens) && fa(a.TopLogprobs, b.TopLogprobs) && a.Text == b.Text &&
		a.Finish == b.Finish && a.Latency == b.Latency && a.Attempts == b.Attempts && a.Err == b.Err &&
		slices.Equal(a.TokenBytes, b.TokenBytes) && slices.Equal(a.TopBytes, b.TopBytes) &&
		a.Scored == b.Scored && math.Float64bits(a.Loglik) == math.Float64bits(b.Loglik) &&
		slices.EqualFunc(a.AltLogliks, b.AltLogliks, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

func TestWriterRefusesInvalid(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
	}{
		{"token/logprob lengths", Record{Tokens: []int32{1, 2}, Logprobs: []float32{-1}}},
		{"top without k", Record{Tokens: []int32{1}, TopTokens: []int32{1}}},
		{"top length", Record{Tokens: []int32{1}, TopK: 2, TopLogprobs: []float32{-1}}},
		{"top-k range", Record{TopK: MaxTopK + 1}},
		{"negative latency", Record{Latency: -1}},
		{"token id below -1", Record{Tokens: []int32{3, -2}}},
		{"top token id below -1", Record{Tokens: []int32{3}, TopK: 1, TopTokens: []int32{-7}, TopLogprobs: []float32{-1}}},
		{"text cut inside a character", Record{Text: "caf\xc3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, testHeader())
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(&tt.rec); !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
			// The writer stays usable and the stream valid.
			ok := Record{ID: "x"}
			if err := w.Write(&ok); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			recs, _, err := readAll(buf.Bytes())
			if err != nil || len(recs) != 1 {
				t.Fatalf("got %d records, %v", len(recs), err)
			}
		})
	}
}

func TestWriterClosed(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, testHeader())
	w.Close()
	if err := w.Write(&Record{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

func TestBadHeaders(t *testing.T) {
	good := writeStream(t, testHeader(), makeRecords(3, 4, 0, 10)).Bytes()
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrEmpty},
		{"text", []byte("hello, world\n"), ErrBadMagic},
		{"gzip", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3}, ErrBadMagic},
		{"three bytes", good[:3], ErrTruncated},
		{"header cut", good[:10], ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tt.data))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestUnknownVersion(t *testing.T) {
	h := testHeader()
	content, err := encodeHeader(&h)
	if err != nil {
		t.Fatal(err)
	}
	content[5] = Version + 1
	_, err = NewReader(bytes.NewReader(compressFrame(t, content)))
	if !errors.Is(err, ErrVersion) {
		t.Fatalf("got %v, want ErrVersion", err)
	}
}

func TestConcatenation(t *testing.T) {
	recs := makeRecords(50, 8, 2, 30)
	a := writeStream(t, testHeader(), recs[:20]).Bytes()
	h := testHeader()
	h.Shard.Index = 2
	h.Labels = map[string]string{"other": "labels"}
	b := writeStream(t, h, recs[20:]).Bytes()
	got, r, err := readAll(append(append([]byte{}, a...), b...))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 50 || r.Stats().Segments != 2 || r.Stats().Trailers != 2 {
		t.Fatalf("got %d records, %+v", len(got), r.Stats())
	}
	for i := range got {
		if !recordsEqual(got[i], recs[i]) {
			t.Fatalf("record %d differs", i)
		}
	}
	if r.Header().Shard.Index != 2 || r.First().Shard.Index != 1 {
		t.Errorf("headers: current %+v first %+v", r.Header().Shard, r.First().Shard)
	}
}

func TestIncompatibleSegments(t *testing.T) {
	recs := makeRecords(4, 2, 0, 5)
	a := writeStream(t, testHeader(), recs).Bytes()
	changes := map[string]func(*Header){
		"kind":     func(h *Header) { h.Kind = KindChallenges },
		"set":      func(h *Header) { h.Challenges.ID = "other" },
		"model":    func(h *Header) { h.Model.Digest = "sha256:ff" },
		"perturb":  func(h *Header) { h.Model.Perturb = "int8" },
		"sampling": func(h *Header) { h.Sampling.Temperature = 0.5 },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			h := testHeader()
			change(&h)
			b := writeStream(t, h, recs).Bytes()
			both := append(append([]byte{}, a...), b...)
			got, _, err := readAll(both)
			if !errors.Is(err, ErrIncompatible) || len(got) != 4 {
				t.Fatalf("got %d records, %v; want 4 and ErrIncompatible", len(got), err)
			}
			got, _, err = readAll(both, AllowMixed())
			if err != nil || len(got) != 8 {
				t.Fatalf("AllowMixed: got %d records, %v", len(got), err)
			}
		})
	}
}

// TestTruncation cuts a stream at every byte offset: the reader never
// panics, says the stream is truncated or incomplete, and returns exactly
// the records of the frames that were complete before the cut.
func TestTruncation(t *testing.T) {
	recs := makeRecords(240, 4, 1, 8)
	out := writeStream(t, testHeader(), recs, WithFrameSize(16, 1<<20))
	data := out.Bytes()
	ends := out.ends // header frame, records frames, trailer frame
	if len(ends) < 10 {
		t.Fatalf("only %d frames", len(ends))
	}
	for cut := 0; cut < len(data); cut++ {
		complete := 0 // records frames entirely before the cut
		for _, e := range ends[1 : len(ends)-1] {
			if e <= cut {
				complete++
			}
		}
		want := min(complete*16, len(recs))
		got, _, err := readAll(data[:cut])
		switch {
		case cut == 0:
			if !errors.Is(err, ErrEmpty) {
				t.Fatalf("cut 0: %v", err)
			}
			continue
		case cut < ends[0]:
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("cut %d in the header: %v", cut, err)
			}
			continue
		}
		atBoundary := false
		for _, e := range ends {
			atBoundary = atBoundary || e == cut
		}
		wantErr := ErrTruncated
		if atBoundary {
			wantErr = ErrNoTrailer
		}
		if !errors.Is(err, wantErr) {
			t.Fatalf("cut %d: got %v, want %v", cut, err, wantErr)
		}
		if len(got) != want {
			t.Fatalf("cut %d: got %d records, want %d", cut, len(got), want)
		}
		for i := range got {
			if !recordsEqual(got[i], recs[i]) {
				t.Fatalf("cut %d: record %d differs", cut, i)
			}
		}
		var pe *Error
		if !errors.As(err, &pe) || pe.Record != int64(want) {
			t.Fatalf("cut %d: error %v does not locate record %d", cut, err, want)
		}
	}
}

// TestBitFlips flips every bit of a small stream in turn: each flip is
// reported, and no record of a damaged frame is returned.
func TestBitFlips(t *testing.T) {
	recs := makeRecords(40, 4, 2, 10)
	out := writeStream(t, testHeader(), recs, WithFrameSize(8, 1<<20))
	data := out.Bytes()
	ends := out.ends
	for bit := 0; bit < 8*len(data); bit++ {
		bad := append([]byte{}, data...)
		bad[bit/8] ^= 1 << (bit % 8)
		got, _, err := readAll(bad)
		if err == nil {
			t.Fatalf("bit %d (byte %d) flipped, no error", bit, bit/8)
		}
		// A flip that leaves a frame's content intact (in an unused part of
		// the compressed data) is caught by the trailer's digest; any other
		// is caught before the frame's records are returned. Either way no
		// returned record differs from what was written.
		_ = ends
		for i := range got {
			if !recordsEqual(got[i], recs[i]) {
				t.Fatalf("bit %d: record %d returned altered", bit, i)
			}
		}
	}
}

func TestDroppedAndSwappedFrames(t *testing.T) {
	recs := makeRecords(32, 4, 0, 10)
	out := writeStream(t, testHeader(), recs, WithFrameSize(8, 1<<20))
	data, e := out.Bytes(), out.ends
	frames := [][]byte{data[:e[0]]}
	for i := 1; i < len(e); i++ {
		frames = append(frames, data[e[i-1]:e[i]])
	}
	join := func(idx ...int) []byte {
		var b []byte
		for _, i := range idx {
			b = append(b, frames[i]...)
		}
		return b
	}
	// frames: 0 header, 1-4 records, 5 trailer
	for name, stream := range map[string][]byte{
		"dropped":    join(0, 1, 2, 4, 5),
		"swapped":    join(0, 2, 1, 3, 4, 5),
		"duplicated": join(0, 1, 1, 2, 3, 5),
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := readAll(stream)
			if !errors.Is(err, ErrTrailer) {
				t.Fatalf("got %v, want ErrTrailer", err)
			}
		})
	}
}

func TestSkippableFramesIgnored(t *testing.T) {
	recs := makeRecords(5, 4, 0, 10)
	data := writeStream(t, testHeader(), recs).Bytes()
	skip := []byte{0x5A, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 'a', 'b', 'c'}
	got, _, err := readAll(append(append(append([]byte{}, data...), skip...), data...))
	if err != nil || len(got) != 10 {
		t.Fatalf("got %d records, %v", len(got), err)
	}
}

func TestGarbageAfterStream(t *testing.T) {
	recs := makeRecords(5, 4, 0, 10)
	data := writeStream(t, testHeader(), recs).Bytes()
	got, _, err := readAll(append(append([]byte{}, data...), "garbage!"...))
	if !errors.Is(err, ErrCorrupt) || len(got) != 5 {
		t.Fatalf("got %d records, %v", len(got), err)
	}
	var pe *Error
	if !errors.As(err, &pe) || pe.Offset != int64(len(data)) {
		t.Fatalf("error %v does not point at byte %d", err, len(data))
	}
}

func TestErrorMessage(t *testing.T) {
	recs := makeRecords(20, 4, 0, 10)
	out := writeStream(t, testHeader(), recs, WithFrameSize(8, 1<<20))
	_, _, err := readAll(out.Bytes()[:out.ends[2]+5])
	want := fmt.Sprintf("record 16 (byte %d, segment 0): format: truncated stream", out.ends[2])
	if err == nil || err.Error() != want {
		t.Fatalf("got %q, want %q", err, want)
	}
}

func TestFlushMakesRecordsReadable(t *testing.T) {
	// A reader on a pipe sees a record as soon as the writer flushes, before
	// the frame is full and before Close.
	pr, pw := io.Pipe()
	done := make(chan Record)
	go func() {
		r, err := NewReader(pr)
		if err != nil {
			t.Error(err)
			close(done)
			return
		}
		rec, err := r.Read()
		if err != nil {
			t.Error(err)
		}
		done <- rec
	}()
	// NewWriter's header write blocks until the reader takes it, so the
	// reader goroutine is already running.
	w, err := NewWriter(pw, testHeader())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&Record{ID: "first"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	select {
	case rec := <-done:
		if rec.ID != "first" {
			t.Fatalf("got %+v", rec)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("record not readable after Flush")
	}
	pw.Close()
}

// TestReuseRecords reads streams of varied records, over many frames and
// two segments, with ReuseRecords: each record must equal the one written
// when it is returned, and the arrays must be reused rather than allocated
// anew, which is the option's point.
func TestReuseRecords(t *testing.T) {
	var recs []Record
	for _, shape := range [][3]int{{64, 5, 300}, {3, 0, 10}, {200, 2, 0}, {0, 0, 5}, {64, 0, 300}} {
		recs = append(recs, makeRecords(300, shape[0], shape[1], shape[2])...)
	}
	one := writeStream(t, testHeader(), recs, WithFrameSize(7, 1<<20)).Bytes()
	data := append(append([]byte(nil), one...), one...)
	r, err := NewReader(bytes.NewReader(data), ReuseRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for ; ; n++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := recs[n%len(recs)]; !recordsEqual(rec, want) {
			t.Fatalf("record %d:\ngot  %+v\nwant %+v", n, rec, want)
		}
	}
	if n != 2*len(recs) {
		t.Fatalf("read %d records, want %d", n, 2*len(recs))
	}
	// Arrays are most of what reading allocates: with ReuseRecords, only
	// strings and the reader's own state are left.
	alloc := func(opts ...ReaderOption) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r, err := NewReader(bytes.NewReader(data), opts...)
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := r.Read(); err != nil {
				break
			}
		}
		r.Close()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	owned, reused := alloc(), alloc(ReuseRecords())
	t.Logf("allocated %d bytes owning arrays, %d reusing them", owned, reused)
	if reused > owned/3 {
		t.Errorf("reusing arrays allocated %d bytes, owning them %d", reused, owned)
	}
}

// Sampling.Check refuses what no model can be asked, and only that.
func TestSamplingCheck(t *testing.T) {
	good := []Sampling{{}, {Temperature: 1, TopP: 0.9, TopK: 40, MaxTokens: 64, Logprobs: MaxTopK}, {TopP: 1}}
	for _, s := range good {
		if err := s.Check(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
	bad := map[string]Sampling{
		"temperature":   {Temperature: -0.5},
		"temperature ":  {Temperature: math.NaN()},
		"temperature  ": {Temperature: math.Inf(1)},
		"top-p":         {TopP: 1.5},
		"top-p ":        {TopP: math.NaN()},
		"top-k":         {TopK: -1},
		"max-tokens":    {MaxTokens: -2},
		"logprobs":      {Logprobs: MaxTopK + 1},
	}
	for want, s := range bad {
		err := s.Check()
		if err == nil || !strings.HasPrefix(err.Error(), strings.TrimSpace(want)+" ") {
			t.Errorf("%+v: %v, want an error naming %s", s, err, strings.TrimSpace(want))
		}
	}
}
