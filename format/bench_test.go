package format

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// The benchmarks measure a realistic output record: 64 tokens of a 32k
// vocabulary with their log-probabilities, optionally the top-5
// alternatives of each position, and about 300 bytes of text. Each op
// writes or reads benchN records, and records/s, file bytes per record and
// MB/s of file are reported, next to JSON Lines + gzip on the same records.
//
//	go test -run XXX -bench . -benchtime 2s ./format

const benchN = 1024

var benchWords = strings.Fields(`the a little girl named Lily loved to play outside in park with her
	big red ball one day she saw dog that was very happy and they played together until sun went
	down mother called home for dinner said thank you friend tomorrow again tree bird sky flew
	high wanted climb but scared brave boy Tim helped share toys smiled laughed run jump`)

// benchRecords makes n output records whose statistics resemble a real
// model's: token ids follow a Zipf law over the vocabulary, the chosen token
// is usually the most likely alternative, and alternatives' log-probabilities
// fall off from the chosen one.
func benchRecords(n, topk int) []Record {
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 1, 31999)
	recs := make([]Record, n)
	for i := range recs {
		r := Record{
			Index:    uint64(i),
			ID:       randHex(rng),
			Seed:     rng.Uint64(),
			Finish:   "length",
			Latency:  time.Duration(rng.IntN(int(2 * time.Second))),
			Attempts: 1,
			TopK:     topk,
		}
		var sb strings.Builder
		for sb.Len() < 300 {
			sb.WriteString(benchWords[rng.IntN(len(benchWords))])
			sb.WriteByte(' ')
		}
		r.Text = sb.String()
		for range 64 {
			tok := int32(zipf.Uint64())
			lp := float32(math.Log(rng.Float64()*0.999 + 0.001))
			r.Tokens = append(r.Tokens, tok)
			r.Logprobs = append(r.Logprobs, lp)
			top := lp + float32(math.Log(rng.Float64()*0.5+0.5)) // most likely alternative
			for k := range topk {
				id := int32(zipf.Uint64())
				if k == 0 && rng.IntN(10) < 7 {
					id, top = tok, lp
				}
				r.TopTokens = append(r.TopTokens, id)
				r.TopLogprobs = append(r.TopLogprobs, top)
				top -= float32(rng.Float64() * 2)
			}
		}
		recs[i] = r
	}
	return recs
}

func randHex(rng *rand.Rand) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 16)
	for i := range b {
		b[i] = digits[rng.IntN(16)]
	}
	return string(b)
}

// benchCase is one kind of record the benchmarks run on.
type benchCase struct {
	name string
	recs []Record
}

func benchCases() []benchCase {
	return []benchCase{{"top5", benchRecords(benchN, 5)}, {"notop", benchRecords(benchN, 0)}, {"top5-bytes", withPieces(benchRecords(benchN, 5))}}
}

// withPieces points recs at a table of bytes for a 32,000-token vocabulary,
// as a local model's records are: what carrying token identity costs.
func withPieces(recs []Record) []Record {
	p := NewPieces()
	for id := range int32(32000) {
		p.Add(id, benchWords[id%int32(len(benchWords))]+strconv.Itoa(int(id)))
	}
	for i := range recs {
		recs[i].Pieces = p
	}
	return recs
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

func potFile(tb testing.TB, recs []Record) []byte {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testHeader())
	if err != nil {
		tb.Fatal(err)
	}
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func jsonlFile(tb testing.TB, recs []Record) []byte {
	var buf bytes.Buffer
	if err := writeJSONL(&buf, recs); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func writeJSONL(w io.Writer, recs []Record) error {
	zw := gzip.NewWriter(w)
	enc := json.NewEncoder(zw)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			return err
		}
	}
	return zw.Close()
}

// report sets the figures every benchmark here reports; records is the
// number of records one op handles and size the file bytes they take.
func report(b *testing.B, records, size int) {
	b.SetBytes(int64(size))
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(size)/float64(records), "B/record")
}

func BenchmarkWrite(b *testing.B) {
	for _, bc := range benchCases() {
		size := len(potFile(b, bc.recs))
		b.Run(bc.name+"/pot", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var cw countWriter
				w, err := NewWriter(&cw, testHeader())
				if err != nil {
					b.Fatal(err)
				}
				for i := range bc.recs {
					if err := w.Write(&bc.recs[i]); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			report(b, len(bc.recs), size)
		})
		jsize := len(jsonlFile(b, bc.recs))
		b.Run(bc.name+"/jsonl-gzip", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var cw countWriter
				if err := writeJSONL(&cw, bc.recs); err != nil {
					b.Fatal(err)
				}
			}
			report(b, len(bc.recs), jsize)
		})
	}
}

// BenchmarkRead reads the same records from pot and from JSON Lines + gzip,
// twice each: records that own their arrays (pot's Read, json into a new
// Record), and records that reuse the arrays of the one before (pot's
// ReuseRecords, json into the same Record), for callers that look at each
// record once.
func BenchmarkRead(b *testing.B) {
	for _, bc := range benchCases() {
		data := potFile(b, bc.recs)
		for _, reuse := range []bool{false, true} {
			b.Run(bc.name+"/pot"+reuseName(reuse), func(b *testing.B) {
				benchReadPot(b, data, len(bc.recs), reuse)
			})
		}
		// The ceiling: only zstd decompression of the same frames, no
		// parsing, checking or hashing.
		b.Run(bc.name+"/zstd-only", func(b *testing.B) {
			frames := splitFrames(b, data)
			dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
			if err != nil {
				b.Fatal(err)
			}
			defer dec.Close()
			var dst []byte
			b.ReportAllocs()
			for b.Loop() {
				for _, f := range frames {
					if dst, err = dec.DecodeAll(f, dst[:0]); err != nil {
						b.Fatal(err)
					}
				}
			}
			report(b, len(bc.recs), len(data))
		})
		jdata := jsonlFile(b, bc.recs)
		for _, reuse := range []bool{false, true} {
			b.Run(bc.name+"/jsonl-gzip"+reuseName(reuse), func(b *testing.B) {
				benchReadJSONL(b, jdata, len(bc.recs), reuse)
			})
		}
	}
}

func reuseName(reuse bool) string {
	if reuse {
		return "-reuse"
	}
	return ""
}

func benchReadPot(b *testing.B, data []byte, records int, reuse bool) {
	var opts []ReaderOption
	if reuse {
		opts = append(opts, ReuseRecords())
	}
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data), opts...)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		r.Close()
		if n != records {
			b.Fatalf("read %d records, want %d", n, records)
		}
	}
	report(b, records, len(data))
}

func benchReadJSONL(b *testing.B, data []byte, records int, reuse bool) {
	b.ReportAllocs()
	for b.Loop() {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		dec := json.NewDecoder(bufio.NewReader(zr))
		n := 0
		var rec Record
		for {
			if reuse {
				// Fields absent from a line must not keep the last
				// record's values; the arrays keep their storage.
				rec = Record{Tokens: rec.Tokens[:0], Logprobs: rec.Logprobs[:0], TopTokens: rec.TopTokens[:0], TopLogprobs: rec.TopLogprobs[:0]}
			} else {
				rec = Record{}
			}
			err := dec.Decode(&rec)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != records {
			b.Fatalf("read %d records, want %d", n, records)
		}
	}
	report(b, records, len(data))
}

// splitFrames cuts a stream into its zstd frames.
func splitFrames(tb testing.TB, data []byte) [][]byte {
	fr := frameReader{r: bufio.NewReader(bytes.NewReader(data))}
	var frames [][]byte
	for {
		f, err := fr.next()
		if err == errCleanEOF {
			return frames
		}
		if err != nil {
			tb.Fatal(err)
		}
		frames = append(frames, append([]byte(nil), f.data...))
	}
}

// BenchmarkNewReader measures opening and draining a one-record stream, what
// tests and tools that open many small streams pay per stream.
func BenchmarkNewReader(b *testing.B) {
	data := potFile(b, benchRecords(1, 5))
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Read(); err != nil {
			b.Fatal(err)
		}
		if _, err := r.Read(); err != io.EOF {
			b.Fatal(err)
		}
		r.Close()
	}
}

// BenchmarkNewWriter measures writing a one-record stream.
func BenchmarkNewWriter(b *testing.B) {
	recs := benchRecords(1, 5)
	b.ReportAllocs()
	for b.Loop() {
		var cw countWriter
		w, err := NewWriter(&cw, testHeader())
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Write(&recs[0]); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPacking compares array packings on the benchmark records: each
// op decompresses the records frames of benchN records and decodes their
// records, and B/record is the compressed size. It is how the packings of
// FORMAT.md were chosen: token ids as varints or in byte planes, floats in
// byte planes or plain. (Version 1 chose varints on decompression alone,
// where they are 3% smaller and as fast; decoding them costs more than
// the difference.)
func BenchmarkPacking(b *testing.B) {
	planes := func(p []byte, ids []int32) []byte { return appendIDPlanes(p, ids, slices.Max(ids)) }
	plain := func(p []byte, fs []float32) []byte {
		p = appendBinHeader(p, 1+4*len(fs))
		p = append(p, packFloat32)
		for _, f := range fs {
			p = binary.LittleEndian.AppendUint32(p, math.Float32bits(f))
		}
		return p
	}
	idPackings := []struct {
		name string
		pack func([]byte, []int32) []byte
	}{{"varint", appendIDVarints}, {"planes", planes}}
	floatPackings := []struct {
		name string
		pack func([]byte, []float32) []byte
	}{{"planes", appendFloats}, {"plain", plain}}
	for _, bc := range benchCases() {
		for _, ip := range idPackings {
			for _, fp := range floatPackings {
				var frames [][]byte
				size := 0
				for s := 0; s < len(bc.recs); s += DefaultFrameRecords {
					var c []byte
					for _, r := range bc.recs[s:min(s+DefaultFrameRecords, len(bc.recs))] {
						fields := byte(3)
						if r.TopK > 0 {
							fields = 6
						}
						c = append(c, 0x80|fields, keyTokens)
						c = ip.pack(c, r.Tokens)
						c = append(c, keyLogprobs)
						c = fp.pack(c, r.Logprobs)
						if r.TopK > 0 {
							c = append(c, keyTopK, byte(r.TopK), keyTopTokens)
							c = ip.pack(c, r.TopTokens)
							c = append(c, keyTopLogprobs)
							c = fp.pack(c, r.TopLogprobs)
						}
						c = append(c, keyText)
						c = appendStr(c, r.Text)
					}
					f := compressFrame(b, c)
					frames = append(frames, f)
					size += len(f)
				}
				b.Run(bc.name+"/"+ip.name+"-"+fp.name, func(b *testing.B) {
					st, err := getReadState()
					if err != nil {
						b.Fatal(err)
					}
					defer putReadState(st)
					var a arena
					for b.Loop() {
						for _, f := range frames {
							if st.content, err = st.dec.DecodeAll(f, st.content[:0]); err != nil {
								b.Fatal(err)
							}
							d := dec{b: st.content, version: Version}
							for d.off < len(d.b) {
								a.ints, a.floats = a.ints[:0], a.floats[:0]
								var r Record
								d.record(&r, &a)
								if d.err != "" {
									b.Fatal(d.err)
								}
							}
						}
					}
					report(b, len(bc.recs), size)
				})
			}
		}
	}
}
