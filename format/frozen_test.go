package format

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Frozen streams: files written once by an earlier version of this package
// and never regenerated, so that a change which would make old files read
// differently fails here. See testdata/README.md.

// frozen lists the frozen streams and how they were made: segments of
// records written by a Writer, or a stream made by hand with what a
// Writer does not write but readers must accept.
var frozen = []struct {
	name string
	make func() []frozenSegment
	raw  func(testing.TB) []byte
}{
	{"v1-outputs", frozenOutputs, nil},
	{"v1-challenges", frozenChallenges, nil},
	{"v1-extensions", frozenExtensions, rawExtensions},
	{"v2-outputs", frozenOutputsV2, nil},
	{"v3-signed", frozenSigned, nil},
	{"v3-pieces", frozenPieces, nil},
}

// frozenSegment is one segment of a frozen stream.
type frozenSegment struct {
	Header  Header
	Records []Record
	Key     ed25519.PrivateKey // signs the segment when writing it; nil: unsigned
	Signer  ed25519.PublicKey  // who signed it, when reading it
}

func frozenOutputs() []frozenSegment {
	h := testHeader()
	h.Shard = Shard{Index: 0, Count: 2, By: "challenge"}
	inf := float32(math.Inf(-1))
	full := Record{
		Index: 7, ID: "9f86d081884c7d65", Sample: 1, Seed: 0xdeadbeefcafef00d,
		Prompt: "Once upon a time", Text: " there was a little robot who loved 日本語 🙂",
		Tokens: []int32{0, 127, 128, 16383, 16384, 31999}, Logprobs: []float32{-0.25, -1.5, -0.0001, -7.75, float32(math.Copysign(0, -1)), -3},
		TopK:      3,
		TopTokens: []int32{0, 5, 9, 127, 1, 2, 128, 129, -1, 16383, 3, 4, 16384, 77, 78, 31999, 1, -1},
		TopLogprobs: []float32{
			-0.25, -2, -3, -1.5, -1.75, -4, -0.0001, -9.5, inf, -7.75, -0.5, -1,
			float32(math.Copysign(0, -1)), -20, -21, -3, -3.5, inf,
		},
		Finish: "length", Latency: 1234567890 * time.Nanosecond, Attempts: 2,
	}
	failed := Record{Index: 8, ID: "2c26b46b68ffc68f", Seed: 1, Finish: "error", Latency: 30 * time.Second, Attempts: 6, Err: "openai: 503 Service Unavailable after 6 attempts"}
	noIDs := Record{Index: math.MaxUint64, ID: "fcde2b2edba56bf4", Sample: math.MaxUint32, Seed: math.MaxUint64,
		Text: "ab", Logprobs: []float32{-1, -2}, TopK: 2, TopLogprobs: []float32{-1, -3, -2, inf}, Finish: "stop", Attempts: 1}
	h2 := h
	h2.Shard.Index = 1
	h2.Labels = map[string]string{"audit": "q4", "host": "b"}
	second := full
	second.Index, second.ID, second.Sample = 9, "c3ab8ff13720e8ad", 0
	second.Tokens = []int32{math.MaxInt32, 2}
	second.Logprobs = []float32{-0.5, -math.MaxFloat32}
	second.TopK, second.TopTokens, second.TopLogprobs = 0, nil, nil
	return []frozenSegment{
		{Header: h, Records: []Record{full, failed, noIDs}},
		{Header: h2, Records: []Record{second, {}}},
	}
}

// frozenOutputsV2 is frozenOutputs written by version 2, which packs token
// ids in two byte planes (ids to 65534), three (to 2^24-2) or varints
// (beyond): a record of each.
func frozenOutputsV2() []frozenSegment {
	segs := frozenOutputs()
	wide := Record{Index: 10, ID: "18ac3e7343f01689", Seed: 2, Text: "wide",
		Tokens: []int32{65535, 1<<24 - 2, -1, 0}, Logprobs: []float32{-1, -2, -3, -4},
		TopK: 1, TopTokens: []int32{65534, 65535, 70000, 5}, TopLogprobs: []float32{-1, -2, -3, -4},
		Finish: "length", Attempts: 1}
	segs[1].Records = append(segs[1].Records, wide)
	return segs
}

// frozenSigned is frozenOutputsV2 written by version 3, the first
// segment signed by one key and the second by another, then a third
// segment of one record, unsigned, as a resumed run given no key adds.
// The keys come from fixed seeds (testKey), and Ed25519 signatures are
// deterministic, so the stream is what TestWriteFrozen wrote.
func frozenSigned() []frozenSegment {
	segs := frozenOutputsV2()
	segs[0].Key = testKey("frozen a")
	segs[1].Key = testKey("frozen b")
	third := segs[1]
	third.Header.Shard.Index = 0
	third.Header.Labels = map[string]string{"resumed": "unsigned"}
	third.Records = []Record{{Index: 11, ID: "4e07408562bedb8b", Seed: 3, Text: "x", Tokens: []int32{1}, Logprobs: []float32{-1}, Finish: "stop", Attempts: 1}}
	third.Key = nil
	return append(segs, third)
}

// frozenPieces holds records with their tokens' bytes (FORMAT.md section
// 4.3): ids with a table that has a byte string that is not UTF-8, an
// empty one and an id it does not know, in two segments that each give the
// bytes of the ids they use; and a record without ids whose tokens are
// named by their bytes.
func frozenPieces() []frozenSegment {
	inf := float32(math.Inf(-1))
	p := NewPieces()
	for id, b := range map[int32]string{5: " the", 7: "", 300: "\xe2\x80", 31999: "日本"} {
		p.Add(id, b)
	}
	h := testHeader()
	h.Shard = Shard{Index: 0, Count: 2, By: "challenge"}
	a := Record{Index: 1, ID: "6b86b273ff34fce1", Seed: 1, Text: " the", Finish: "length", Attempts: 1,
		Tokens: []int32{5, 300, 2}, Logprobs: []float32{-0.25, -1, -3}, TopK: 2,
		TopTokens: []int32{5, 7, 300, -1, 2, 31999}, TopLogprobs: []float32{-0.25, -2, -1, inf, -3, -3.5}, Pieces: p}
	b := Record{Index: 2, ID: "d4735e3a265e16ee", Seed: 2, Text: " the", Finish: "stop", Attempts: 1,
		Tokens: []int32{7, 5}, Logprobs: []float32{-0.5, -0.75}, Pieces: p}
	named := Record{Index: 3, ID: "4e07408562bedb8b", Seed: 3, Text: " Hi", Finish: "length", Attempts: 1,
		Logprobs: []float32{-0.5, -1}, TokenBytes: []string{" Hi", "\xff"}, TopK: 2,
		TopLogprobs: []float32{-0.5, inf, -1, -2}, TopBytes: []string{" Hi", "", "\xff", "x"}}
	h2 := h
	h2.Shard.Index = 1
	d := Record{Index: 4, ID: "4b227777d4dd1fc6", Seed: 4, Text: " the", Finish: "length", Attempts: 1,
		Tokens: []int32{300, 5}, Logprobs: []float32{-1, -0.25}, Pieces: p}
	return []frozenSegment{
		{Header: h, Records: []Record{a, b, named}},
		{Header: h2, Records: []Record{d}},
	}
}

func frozenChallenges() []frozenSegment {
	h := Header{
		Kind:       KindChallenges,
		Challenges: ChallengeSet{ID: "c0ffee", Commitment: strings.Repeat("ab", 32), RunID: "default", Family: "templates/v1", Count: 4},
		Created:    time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
		Tool:       "potgen test",
	}
	var recs []Record
	for i, p := range []string{"Tell me a story about a cat.", "Écris un poème sur la mer.", "", "What is 2+2?"} {
		recs = append(recs, Record{Index: uint64(i), ID: strconv.FormatUint(uint64(0xa0+i), 16), Seed: uint64(i) * 0x9e3779b97f4a7c15, Prompt: p})
	}
	return []frozenSegment{{Header: h, Records: recs}}
}

// frozenExtensions is what rawExtensions decodes to.
func frozenExtensions() []frozenSegment {
	h := testHeader()
	return []frozenSegment{{Header: h, Records: []Record{
		{Index: 1, ID: "plain", Tokens: []int32{5, -1}, Logprobs: []float32{-0.5, float32(math.Inf(-1))}, TopK: 1, TopLogprobs: []float32{-0.5, -1}},
		{Index: 2, ID: "wide", Sample: 3, Latency: -0, Attempts: 1},
	}}}
}

// rawExtensions is a segment written by hand with what FORMAT.md allows
// and the Writer does not produce: an unknown header key, unknown record
// keys holding nested values, fields out of key order, integers in wider
// encodings than needed, and float32s packed plainly rather than in byte
// planes.
func rawExtensions(tb testing.TB) []byte {
	h := frozenExtensions()[0].Header
	hc, err := encodeHeader(&h)
	if err != nil {
		tb.Fatal(err)
	}
	// hc is ["pot", 1, {...}] with a map of fewer than 16 keys; add one.
	if hc[6]&0xf0 != 0x80 || hc[6] == 0x8f {
		tb.Fatalf("header map type byte 0x%02x", hc[6])
	}
	hc[6]++
	hc = append(hc, 0xa6, 'f', 'u', 't', 'u', 'r', 'e', 0x92, 0x01, 0xa1, 'x')
	plain := func(fs ...float32) []byte {
		b := appendBinHeader(nil, 1+4*len(fs))
		b = append(b, packFloat32)
		for _, f := range fs {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
		}
		return b
	}
	var recs []byte
	recs = append(recs, 0x87, keyID, 0xa5, 'p', 'l', 'a', 'i', 'n', keyIndex, 0x01)
	recs = append(recs, keyTokens, 0xc4, 3, packVarint, 6, 0)
	recs = append(recs, keyLogprobs)
	recs = append(recs, plain(-0.5, float32(math.Inf(-1)))...)
	recs = append(recs, keyTopK, 0x01, keyTopLogprobs)
	recs = append(recs, plain(-0.5, -1)...)
	recs = append(recs, 40, 0x81, 0xa1, 'k', 0x93, 0xc0, 0xc3, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0) // unknown key 40
	second := []byte{0xde, 0, 6,
		keyIndex, 0xcf, 0, 0, 0, 0, 0, 0, 0, 2,
		keyID, 0xd9, 4, 'w', 'i', 'd', 'e',
		keySample, 0xce, 0, 0, 0, 3,
		keyLatency, 0xd3, 0, 0, 0, 0, 0, 0, 0, 0,
		keyAttempts, 0xcd, 0, 1,
		0xd0, 0xff, 0xc4, 2, 9, 9, // unknown key -1
	}
	head, body1, body2 := compressFrame(tb, hc), compressFrame(tb, recs), compressFrame(tb, second)
	d := sha256.New()
	for _, f := range [][]byte{head, body1, body2} {
		d.Write(f)
	}
	out := append(append(append([]byte{}, head...), body1...), body2...)
	return append(out, compressFrame(tb, encodeTrailer(2, d.Sum(nil)))...)
}

// TestWriteFrozen writes the frozen streams and their golden files when
// POT_WRITE_FROZEN=1. It never overwrites: a frozen file, once made, stays.
func TestWriteFrozen(t *testing.T) {
	if os.Getenv("POT_WRITE_FROZEN") != "1" {
		t.Skip("set POT_WRITE_FROZEN=1 to write missing frozen streams")
	}
	for _, fz := range frozen {
		segs := fz.make()
		var stream bytes.Buffer
		if fz.raw != nil {
			stream.Write(fz.raw(t))
			segs = nil
		}
		for i, seg := range segs {
			opts := []WriterOption{WithFrameSize(2, 1<<20)}
			if seg.Key != nil {
				opts = append(opts, SignWith(seg.Key))
			}
			w, err := NewWriter(&stream, seg.Header, opts...)
			if err != nil {
				t.Fatal(err)
			}
			for j := range seg.Records {
				if err := w.Write(&seg.Records[j]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if i == 0 && len(segs) > 1 {
				// A skippable frame between segments, which readers ignore.
				stream.Write([]byte{0x5A, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 'p', 'o', 't', '!'})
			}
		}
		golden, err := goldenJSON(fz.make())
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string][]byte{fz.name + ".pot": stream.Bytes(), fz.name + ".golden.json": golden} {
			path := filepath.Join("testdata", name)
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if errors.Is(err, fs.ErrExist) {
				t.Logf("%s exists, left as it is", path)
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(data); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", path)
		}
	}
}

// TestFrozen reads every frozen stream with this version of the package and
// compares the decoded headers and records with the golden files.
func TestFrozen(t *testing.T) {
	for _, fz := range frozen {
		t.Run(fz.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", fz.name+".pot"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", fz.name+".golden.json"))
			if err != nil {
				t.Fatal(err)
			}
			var signers []ed25519.PublicKey
			r, err := NewReader(bytes.NewReader(data), OnTrailer(func(tr Trailer) error {
				signers = append(signers, tr.Signer)
				return nil
			}))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var segs []frozenSegment
			for {
				rec, err := r.Read()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(segs) == 0 || r.Segment() != len(segs)-1 {
					segs = append(segs, frozenSegment{Header: r.Header()})
				}
				segs[len(segs)-1].Records = append(segs[len(segs)-1].Records, rec)
			}
			if st := r.Stats(); st.Trailers != st.Segments {
				t.Errorf("%d segments but %d checked trailers", st.Segments, st.Trailers)
			}
			if len(signers) != len(segs) {
				t.Fatalf("%d trailers reported for %d segments", len(signers), len(segs))
			}
			for i := range segs {
				segs[i].Signer = signers[i]
			}
			got, err := goldenJSON(segs)
			if err != nil {
				t.Fatal(err)
			}
			// Compare values, not text, so the golden file may be
			// reformatted; numbers stay exact as json.Number.
			var g, w any
			for _, x := range []struct {
				data []byte
				v    *any
			}{{got, &g}, {want, &w}} {
				dec := json.NewDecoder(bytes.NewReader(x.data))
				dec.UseNumber()
				if err := dec.Decode(x.v); err != nil {
					t.Fatal(err)
				}
			}
			gs, _ := json.MarshalIndent(g, "", " ")
			ws, _ := json.MarshalIndent(w, "", " ")
			if !bytes.Equal(gs, ws) {
				t.Errorf("decoded stream differs from %s.golden.json:\ngot\n%s\nwant\n%s", fz.name, gs, ws)
			}
		})
	}
}

// goldenJSON renders segments as JSON. Log-probabilities are strings in
// strconv's shortest float32 form, so -Inf padding and -0 are exact.
func goldenJSON(segs []frozenSegment) ([]byte, error) {
	type record struct {
		Index       uint64   `json:"index"`
		ID          string   `json:"id"`
		Sample      uint32   `json:"sample"`
		Seed        uint64   `json:"seed"`
		Prompt      string   `json:"prompt"`
		Tokens      []int32  `json:"tokens"`
		Logprobs    []string `json:"logprobs"`
		TopK        int      `json:"top_k"`
		TopTokens   []int32  `json:"top_tokens"`
		TopLogprobs []string `json:"top_logprobs"`
		Text        string   `json:"text"`
		Finish      string   `json:"finish"`
		LatencyNS   int64    `json:"latency_ns"`
		Attempts    int      `json:"attempts"`
		Err         string   `json:"err"`
		// The tokens' bytes in hex, null where unknown; absent for records
		// that know none (every record of versions 1 and 2).
		TokenBytes []*string `json:"token_bytes,omitempty"`
		TopBytes   []*string `json:"top_bytes,omitempty"`
	}
	type segment struct {
		Header  Header   `json:"header"`
		Signer  string   `json:"signer,omitempty"` // hex public key; absent when unsigned
		Records []record `json:"records"`
	}
	floats := func(fs []float32) []string {
		var out []string
		for _, f := range fs {
			out = append(out, strconv.FormatFloat(float64(f), 'g', -1, 32))
		}
		return out
	}
	var out []segment
	for _, s := range segs {
		seg := segment{Header: s.Header, Records: []record{}}
		switch {
		case s.Key != nil:
			seg.Signer = hex.EncodeToString(s.Key.Public().(ed25519.PublicKey))
		case s.Signer != nil:
			seg.Signer = hex.EncodeToString(s.Signer)
		}
		for _, r := range s.Records {
			rec := record{
				Index: r.Index, ID: r.ID, Sample: r.Sample, Seed: r.Seed, Prompt: r.Prompt,
				Tokens: r.Tokens, Logprobs: floats(r.Logprobs), TopK: r.TopK, TopTokens: r.TopTokens,
				TopLogprobs: floats(r.TopLogprobs), Text: r.Text, Finish: r.Finish,
				LatencyNS: int64(r.Latency), Attempts: r.Attempts, Err: r.Err,
			}
			known := false
			hexOf := func(b string, ok bool) *string {
				if !ok {
					return nil
				}
				known = true
				h := hex.EncodeToString([]byte(b))
				return &h
			}
			for i := range r.Positions() {
				rec.TokenBytes = append(rec.TokenBytes, hexOf(r.Bytes(i)))
				for j := range r.TopK {
					rec.TopBytes = append(rec.TopBytes, hexOf(r.TopBytesAt(i, j)))
				}
			}
			if !known {
				rec.TokenBytes, rec.TopBytes = nil, nil
			}
			seg.Records = append(seg.Records, rec)
		}
		out = append(out, seg)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	return append(b, '\n'), err
}

// TestFrozenVerify checks the signatures of the frozen streams against
// trust sets: the signed segments verify under their keys, an unsigned
// segment or one by a key not in the set is refused and named.
func TestFrozenVerify(t *testing.T) {
	a, b := pubOf(testKey("frozen a")), pubOf(testKey("frozen b"))
	for _, c := range []struct {
		file    string
		trusted []ed25519.PublicKey
		segment int // the first refused
		detail  string
	}{
		{"v3-signed", []ed25519.PublicKey{a, b}, 2, "unsigned"},
		{"v3-signed", []ed25519.PublicKey{a}, 1, "signed by " + KeyID(b)},
		{"v3-signed", []ed25519.PublicKey{b}, 0, "signed by " + KeyID(a)},
		{"v2-outputs", []ed25519.PublicKey{a}, 0, "unsigned"},
		{"v1-outputs", []ed25519.PublicKey{a}, 0, "unsigned"},
		{"v1-challenges", []ed25519.PublicKey{a}, 0, "unsigned"},
		{"v1-extensions", []ed25519.PublicKey{a}, 0, "unsigned"},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", c.file+".pot"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Verify(bytes.NewReader(data), c.trusted)
		var pe *Error
		if !errors.Is(err, ErrUntrusted) || !errors.As(err, &pe) || pe.Segment != c.segment || !strings.Contains(err.Error(), c.detail) {
			t.Errorf("%s trusting %d keys: got %v, want ErrUntrusted in segment %d saying %q", c.file, len(c.trusted), err, c.segment, c.detail)
		}
	}
}
