// Package streamtest writes and reads synthetic pot streams for the tools'
// tests and scripts. Make gives a Go test the bytes of a stream described
// by a Spec; Mkstream and Potdump are the same as testscript commands, so
// that a script can make streams and check that shards joined by cat hold
// exactly the input.
package streamtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"github.com/pot-audit/pot/internal/challenge"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/local"
	"io"
	"iter"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pot-audit/pot/format"
)

// Spec describes a test stream.
type Spec struct {
	Records  int    // records to write
	Kind     string // "outputs" or "challenges"
	Samples  int    // samples per challenge (outputs)
	Start    int    // index of the first challenge
	Set      string // challenge set id
	Count    int    // header challenge count; 0 means Start + Records/Samples
	Seed     uint64 // varies the content
	Tokens   int    // at most this many tokens a record
	ErrEvery int    // every ErrEvery-th record is a failure (0: none)
	Skip     int    // leave out this challenge index (-1: none)
	Truncate int    // drop this many bytes from the end
	Frame    int    // records per frame (0: the default)
}

// DefaultSpec returns a small intact outputs stream: ten records of one
// sample each.
func DefaultSpec() Spec {
	return Spec{Records: 10, Kind: "outputs", Samples: 1, Set: "c0ffee", Seed: 1, Tokens: 16, Skip: -1}
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
func (sp Spec) perChallenge() int {
	if sp.Kind == "challenges" {
		return 1
	}
	return max(sp.Samples, 1)
}

// Header returns the header the stream is written with.
func (sp Spec) Header() format.Header {
	count := sp.Count
	if count == 0 {
		count = sp.Start + (sp.Records+sp.perChallenge()-1)/sp.perChallenge()
		if sp.Skip >= 0 {
			count++ // the skipped challenge still belongs to the set
		}
	}
	h := format.Header{
		Kind:       format.KindOutputs,
		Challenges: format.ChallengeSet{ID: sp.Set, Commitment: strings.Repeat("5e", 32), RunID: "default", Family: "templates/v1", Count: count},
		Model:      format.Model{Backend: "synth", Name: "synth:1", Digest: "sha256:" + strings.Repeat("d1", 32), Vocab: "sha256:" + strings.Repeat("0b", 32)},
		Sampling:   format.Sampling{Temperature: 1, TopK: 40, MaxTokens: sp.Tokens, Logprobs: 3, Samples: sp.Samples, Seed: 7, LogprobsOf: "raw"},
		Created:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Tool:       "mkstream test",
		Labels:     map[string]string{"test": "yes"},
	}
	if sp.Kind == "challenges" {
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
func (sp Spec) record(k int, r *rng) format.Record {
	samples := sp.perChallenge()
	ci := sp.Start + k/samples
	if sp.Skip >= 0 && ci >= sp.Skip {
		ci++
	}
	rec := format.Record{Index: uint64(ci), ID: challengeID(sp.Set, ci), Seed: r.next(), Prompt: "Tell me a story about " + words[ci%len(words)]}
	if sp.Kind == "challenges" {
		return rec
	}
	rec.Sample = uint32(k % samples)
	rec.Attempts = 1
	rec.Latency = time.Duration(1+r.intn(900)) * time.Millisecond
	if sp.ErrEvery > 0 && k%sp.ErrEvery == sp.ErrEvery-1 {
		rec.Err = fmt.Sprintf("backend: 503 after 3 attempts (record %d)", k)
		rec.Finish, rec.Attempts = "error", 3
		return rec
	}
	n := 1 + r.intn(max(sp.Tokens, 1))
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

// All yields the stream's records in order, so that a test can write them
// under a header of its own.
func (sp Spec) All() iter.Seq[format.Record] {
	return func(yield func(format.Record) bool) {
		r := rng(sp.Seed)
		for k := range sp.Records {
			if !yield(sp.record(k, &r)) {
				return
			}
		}
	}
}

// write writes the stream to w.
func (sp Spec) write(w io.Writer) error {
	var opts []format.WriterOption
	if sp.Frame > 0 {
		opts = append(opts, format.WithFrameSize(sp.Frame, format.DefaultFrameBytes))
	}
	var buf bytes.Buffer
	out := w
	if sp.Truncate > 0 {
		out = &buf
	}
	fw, err := format.NewWriter(out, sp.Header(), opts...)
	if err != nil {
		return err
	}
	for rec := range sp.All() {
		if err := fw.Write(&rec); err != nil {
			return err
		}
	}
	if err := fw.Close(); err != nil {
		return err
	}
	if sp.Truncate > 0 {
		b := buf.Bytes()
		_, err := w.Write(b[:max(len(b)-sp.Truncate, 0)])
		return err
	}
	return nil
}

// Make returns the bytes of a stream. It panics if the format package
// refuses the spec, which is a mistake in the test.
func Make(sp Spec) []byte {
	var buf bytes.Buffer
	if err := sp.write(&buf); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Mkstream is the scripts' stream maker, a testscript command that reads
// its arguments from os.Args and returns the exit code:
//
//	mkstream [-n RECORDS] [-kind outputs|challenges] [-samples K] [-start I]
//	         [-set ID] [-count C] [-seed S] [-tokens T] [-errors EVERY]
//	         [-skip I] [-truncate BYTES] [-frame RECORDS] [-o FILE]
func Mkstream() int {
	sp := DefaultSpec()
	fs := flag.NewFlagSet("mkstream", flag.ContinueOnError)
	fs.IntVar(&sp.Records, "n", sp.Records, "records")
	fs.StringVar(&sp.Kind, "kind", sp.Kind, "outputs or challenges")
	fs.IntVar(&sp.Samples, "samples", sp.Samples, "samples per challenge")
	fs.IntVar(&sp.Start, "start", sp.Start, "first challenge index")
	fs.StringVar(&sp.Set, "set", sp.Set, "challenge set id")
	fs.IntVar(&sp.Count, "count", sp.Count, "challenge count in the header")
	fs.Uint64Var(&sp.Seed, "seed", sp.Seed, "content seed")
	fs.IntVar(&sp.Tokens, "tokens", sp.Tokens, "most tokens per record")
	fs.IntVar(&sp.ErrEvery, "errors", 0, "every N-th record is a failure")
	fs.IntVar(&sp.Skip, "skip", sp.Skip, "challenge index to leave out")
	fs.IntVar(&sp.Truncate, "truncate", 0, "drop this many bytes from the end")
	fs.IntVar(&sp.Frame, "frame", 0, "records per frame")
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

// Read returns every record of data and the headers of its segments,
// with the error that ended the reading (nil for an intact stream).
func Read(data []byte) ([]format.Record, []format.Header, error) {
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

// Canonical renders records one a line, sorted, so that two streams with
// the same records in any order render the same.
func Canonical(recs []format.Record) []string {
	lines := make([]string, len(recs))
	for i, r := range recs {
		lines[i] = fmt.Sprintf("%d/%d %s seed=%d prompt=%q tokens=%v lp=%v k=%d top=%v toplp=%v text=%q finish=%s lat=%d att=%d err=%q",
			r.Index, r.Sample, r.ID, r.Seed, r.Prompt, r.Tokens, r.Logprobs, r.TopK, r.TopTokens, r.TopLogprobs, r.Text, r.Finish, r.Latency, r.Attempts, r.Err)
	}
	slices.Sort(lines)
	return lines
}

// Potdump is a testscript command that prints how many records the files
// named in os.Args hold and a digest of their canonical rendering: equal
// lines mean the same records, in any order. It returns the exit code.
func Potdump() int {
	var all []format.Record
	for _, name := range os.Args[1:] {
		data, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "potdump:", err)
			return 1
		}
		recs, _, err := Read(data)
		if err != nil {
			fmt.Fprintf(os.Stderr, "potdump: %s: %v\n", name, err)
			return 1
		}
		all = append(all, recs...)
	}
	sum := sha256.New()
	for _, l := range Canonical(all) {
		fmt.Fprintln(sum, l)
	}
	fmt.Printf("%d records\n%x\n", len(all), sum.Sum(nil))
	return 0
}

// Encode writes recs under h as one segment, failing t on any error.
func Encode(t testing.TB, h format.Header, recs []format.Record) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := format.NewWriter(&b, h)
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
	return b.Bytes()
}

// ModelRun is a run of a local model (synth:SEED, llama2c:..., gguf:...)
// on the first N challenges of a template set under a fixed test key, as
// potgen makes it; RunID draws another set from the key.
type ModelRun struct {
	Spec     string
	N        int
	Sampling format.Sampling
	RunID    string
}

// Model is ModelRun{spec, n, sampling, ""}.Stream.
func Model(t testing.TB, spec string, n int, sampling format.Sampling) []byte {
	t.Helper()
	return ModelRun{Spec: spec, N: n, Sampling: sampling}.Stream(t)
}

// Stream asks the model for its outputs, as potgen would, and returns them
// as a stream. A query the model fails is recorded with its error.
func (mr ModelRun) Stream(t testing.TB) []byte {
	t.Helper()
	key, err := challenge.ParseKey([]byte(strings.Repeat("42", 32)))
	if err != nil {
		t.Fatal(err)
	}
	family, err := challenge.Templates("templates")
	if err != nil {
		t.Fatal(err)
	}
	set, err := challenge.NewSet(key, mr.RunID, family, mr.N)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := model.ParseSpec(mr.Spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := local.Open(sp, model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	sampling := mr.Sampling
	sampling.Samples = max(sampling.Samples, 1)
	var recs []format.Record
	for i := range mr.N {
		c := set.Challenge(i)
		for s := range sampling.Samples {
			rec := format.Record{Index: uint64(i), ID: c.ID, Sample: uint32(s), Seed: c.SampleSeed(s, sampling.Seed), Prompt: c.Prompt}
			if err := m.Generate(context.Background(), model.Query{Prompt: c.Prompt, Seed: rec.Seed, Sampling: sampling}, &rec); err != nil {
				rec.Err = err.Error()
			}
			// A model may stop inside a multi-byte character; streams
			// hold valid UTF-8 (potgen does the same).
			rec.Text = strings.ToValidUTF8(rec.Text, "\uFFFD")
			recs = append(recs, rec)
		}
	}
	h := format.Header{Kind: format.KindOutputs, Challenges: set.Header(), Model: m.Info(), Sampling: sampling, Tool: "streamtest"}
	return Encode(t, h, recs)
}
