package main

// Test streams: mkstream writes them for the scripts and makeStream for the
// Go tests; potdump prints a stream's records in a canonical order, so that
// a script can check that shards joined by cat hold exactly the input.

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pot-audit/pot/format"
)

// streamSpec describes a test stream.
type streamSpec struct {
	records  int    // records to write
	kind     string // "outputs" or "challenges"
	samples  int    // samples per challenge (outputs)
	start    int    // index of the first challenge
	set      string // challenge set id
	count    int    // header challenge count; 0 means start + records/samples
	seed     uint64 // varies the content
	tokens   int    // at most this many tokens a record
	errEvery int    // every errEvery-th record is a failure (0: none)
	skip     int    // leave out this challenge index (-1: none)
	truncate int    // drop this many bytes from the end
	frame    int    // records per frame (0: the default)
}

func defaultSpec() streamSpec {
	return streamSpec{records: 10, kind: "outputs", samples: 1, set: "c0ffee", seed: 1, tokens: 16, skip: -1}
}

// rng is splitmix64: deterministic whatever the Go version.
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// perChallenge is the number of records per challenge: a challenge stream
// has one.
func (sp streamSpec) perChallenge() int {
	if sp.kind == "challenges" {
		return 1
	}
	return max(sp.samples, 1)
}

func (sp streamSpec) header() format.Header {
	count := sp.count
	if count == 0 {
		count = sp.start + (sp.records+sp.perChallenge()-1)/sp.perChallenge()
		if sp.skip >= 0 {
			count++ // the skipped challenge still belongs to the set
		}
	}
	h := format.Header{
		Kind:       format.KindOutputs,
		Challenges: format.ChallengeSet{ID: sp.set, Commitment: strings.Repeat("5e", 32), RunID: "default", Family: "templates/v1", Count: count},
		Model:      format.Model{Backend: "synth", Name: "synth:1", Digest: "sha256:" + strings.Repeat("d1", 32), Vocab: "sha256:" + strings.Repeat("0b", 32)},
		Sampling:   format.Sampling{Temperature: 1, TopK: 40, MaxTokens: sp.tokens, Logprobs: 3, Samples: sp.samples, Seed: 7, LogprobsOf: "raw"},
		Created:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Tool:       "mkstream test",
		Labels:     map[string]string{"test": "yes"},
	}
	if sp.kind == "challenges" {
		h.Kind, h.Model, h.Sampling = format.KindChallenges, format.Model{}, format.Sampling{}
	}
	return h
}

// challengeID is what a real set's ids look like: 16 hex digits.
func challengeID(set string, i int) string {
	r := rng(uint64(i)*0x100000001b3 ^ uint64(len(set)))
	for _, c := range []byte(set) {
		r = rng(uint64(r)*31 + uint64(c))
	}
	return fmt.Sprintf("%016x", r.next())
}

var words = strings.Fields("once upon a time there was a little girl named Lily who loved to play in the park with her big red ball and her dog")

// record makes record number k of the stream.
func (sp streamSpec) record(k int, r *rng) format.Record {
	samples := sp.perChallenge()
	ci := sp.start + k/samples
	if sp.skip >= 0 && ci >= sp.skip {
		ci++
	}
	rec := format.Record{Index: uint64(ci), ID: challengeID(sp.set, ci), Seed: r.next(), Prompt: "Tell me a story about " + words[ci%len(words)]}
	if sp.kind == "challenges" {
		return rec
	}
	rec.Sample = uint32(k % samples)
	rec.Attempts = 1
	rec.Latency = time.Duration(1+r.intn(900)) * time.Millisecond
	if sp.errEvery > 0 && k%sp.errEvery == sp.errEvery-1 {
		rec.Err = fmt.Sprintf("backend: 503 after 3 attempts (record %d)", k)
		rec.Finish, rec.Attempts = "error", 3
		return rec
	}
	n := 1 + r.intn(max(sp.tokens, 1))
	rec.TopK = 3
	var text strings.Builder
	for p := range n {
		tok := int32(r.intn(512))
		lp := -float32(r.intn(4000)) / 1000
		rec.Tokens = append(rec.Tokens, tok)
		rec.Logprobs = append(rec.Logprobs, lp)
		for j := range 3 {
			if p == n-1 && j == 2 {
				// A position with fewer alternatives pads as backends do.
				rec.TopTokens = append(rec.TopTokens, -1)
				rec.TopLogprobs = append(rec.TopLogprobs, float32(math.Inf(-1)))
				continue
			}
			rec.TopTokens = append(rec.TopTokens, tok+int32(j))
			rec.TopLogprobs = append(rec.TopLogprobs, lp-float32(j))
		}
		text.WriteString(words[int(tok)%len(words)])
		text.WriteByte(' ')
	}
	rec.Text = text.String()
	rec.Finish = "length"
	if r.intn(4) == 0 {
		rec.Finish = "stop"
	}
	return rec
}

// write writes the stream to w.
func (sp streamSpec) write(w io.Writer) error {
	var opts []format.WriterOption
	if sp.frame > 0 {
		opts = append(opts, format.WithFrameSize(sp.frame, format.DefaultFrameBytes))
	}
	var buf bytes.Buffer
	out := w
	if sp.truncate > 0 {
		out = &buf
	}
	fw, err := format.NewWriter(out, sp.header(), opts...)
	if err != nil {
		return err
	}
	r := rng(sp.seed)
	for k := range sp.records {
		rec := sp.record(k, &r)
		if err := fw.Write(&rec); err != nil {
			return err
		}
	}
	if err := fw.Close(); err != nil {
		return err
	}
	if sp.truncate > 0 {
		b := buf.Bytes()
		_, err := w.Write(b[:max(len(b)-sp.truncate, 0)])
		return err
	}
	return nil
}

// makeStream returns the bytes of a stream.
func makeStream(sp streamSpec) []byte {
	var buf bytes.Buffer
	if err := sp.write(&buf); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// mkstream is the scripts' stream maker:
//
//	mkstream [-n RECORDS] [-kind outputs|challenges] [-samples K] [-start I]
//	         [-set ID] [-count C] [-seed S] [-tokens T] [-errors EVERY]
//	         [-skip I] [-truncate BYTES] [-frame RECORDS] [-o FILE]
func mkstream() int {
	sp := defaultSpec()
	fs := flag.NewFlagSet("mkstream", flag.ContinueOnError)
	fs.IntVar(&sp.records, "n", sp.records, "records")
	fs.StringVar(&sp.kind, "kind", sp.kind, "outputs or challenges")
	fs.IntVar(&sp.samples, "samples", sp.samples, "samples per challenge")
	fs.IntVar(&sp.start, "start", sp.start, "first challenge index")
	fs.StringVar(&sp.set, "set", sp.set, "challenge set id")
	fs.IntVar(&sp.count, "count", sp.count, "challenge count in the header")
	fs.Uint64Var(&sp.seed, "seed", sp.seed, "content seed")
	fs.IntVar(&sp.tokens, "tokens", sp.tokens, "most tokens per record")
	fs.IntVar(&sp.errEvery, "errors", 0, "every N-th record is a failure")
	fs.IntVar(&sp.skip, "skip", sp.skip, "challenge index to leave out")
	fs.IntVar(&sp.truncate, "truncate", 0, "drop this many bytes from the end")
	fs.IntVar(&sp.frame, "frame", 0, "records per frame")
	out := fs.String("o", "-", "output file")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	w := io.Writer(os.Stdout)
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mkstream:", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	if err := sp.write(w); err != nil {
		fmt.Fprintln(os.Stderr, "mkstream:", err)
		return 1
	}
	return 0
}

// readStream returns every record of data and the headers of its segments,
// with the error that ended the reading (nil for an intact stream).
func readStream(data []byte) ([]format.Record, []format.Header, error) {
	r, err := format.NewReader(bytes.NewReader(data), format.AllowMixed())
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var recs []format.Record
	var hdrs []format.Header
	seg := -1
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			if len(hdrs) == 0 {
				hdrs = append(hdrs, r.First())
			}
			return recs, hdrs, nil
		}
		if err != nil {
			return recs, hdrs, err
		}
		if r.Segment() != seg {
			seg = r.Segment()
			hdrs = append(hdrs, r.Header())
		}
		recs = append(recs, rec)
	}
}

// canonical renders records one a line, sorted, so that two streams with
// the same records in any order render the same.
func canonical(recs []format.Record) []string {
	lines := make([]string, len(recs))
	for i, r := range recs {
		lines[i] = fmt.Sprintf("%d/%d %s seed=%d prompt=%q tokens=%v lp=%v k=%d top=%v toplp=%v text=%q finish=%s lat=%d att=%d err=%q",
			r.Index, r.Sample, r.ID, r.Seed, r.Prompt, r.Tokens, r.Logprobs, r.TopK, r.TopTokens, r.TopLogprobs, r.Text, r.Finish, r.Latency, r.Attempts, r.Err)
	}
	slices.Sort(lines)
	return lines
}

// potdump prints how many records the files named hold and a digest of
// their canonical rendering: equal lines mean the same records, in any
// order.
func potdump() int {
	var all []format.Record
	for _, name := range os.Args[1:] {
		data, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "potdump:", err)
			return 1
		}
		recs, _, err := readStream(data)
		if err != nil {
			fmt.Fprintf(os.Stderr, "potdump: %s: %v\n", name, err)
			return 1
		}
		all = append(all, recs...)
	}
	sum := sha256.New()
	for _, l := range canonical(all) {
		fmt.Fprintln(sum, l)
	}
	fmt.Printf("%d records\n%x\n", len(all), sum.Sum(nil))
	return 0
}
