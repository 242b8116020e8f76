package format

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"flag"
	"io"
	"testing"
)

// signRecords is the size of the long stream of BenchmarkSignature.
var signRecords = flag.Int("format.signrecords", 1_000_000, "records of the long stream of BenchmarkSignature")

// BenchmarkSignature measures what signatures cost: per segment (making a
// signature, which the Writer also checks; checking one; and opening and
// draining a one-record stream, unsigned or signed under RequireSigners),
// and on one long stream of records of 64 tokens without top-k (writing it
// unsigned and signed, and reading it to its end unsigned and signed under
// Verify, the way potstat --verify would).
//
//	go test -run '^$' -bench Signature -benchtime 1x ./format
func BenchmarkSignature(b *testing.B) {
	key := testKey("bench")
	pub := pubOf(key)
	digest := sha256.Sum256([]byte("a segment"))
	signer := &Writer{}
	SignWith(key)(signer)
	b.Run("segment/sign", func(b *testing.B) {
		for b.Loop() {
			if _, err := signer.sign(1000, digest[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("segment/verify", func(b *testing.B) {
		msg := signedMessage(1000, digest[:])
		sig := ed25519.Sign(key, msg)
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("does not verify")
			}
		}
	})
	one := benchRecords(1, 0)
	for _, signed := range []bool{false, true} {
		name, wopts, ropts := "unsigned", []WriterOption(nil), []ReaderOption{ReuseRecords()}
		if signed {
			name, wopts, ropts = "signed", []WriterOption{SignWith(key)}, []ReaderOption{ReuseRecords(), RequireSigners(pub)}
		}
		data := writeStream(b, testHeader(), one, wopts...).Bytes()
		b.Run("segment/open-1-record-"+name, func(b *testing.B) {
			for b.Loop() {
				if n := drain(b, data, ropts...); n != 1 {
					b.Fatalf("%d records", n)
				}
			}
		})
	}

	n := *signRecords
	recs := benchRecords(1024, 0)
	// write writes the long stream, n records cycling through recs.
	write := func(b *testing.B, opts ...WriterOption) []byte {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, testHeader(), opts...)
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			r := &recs[i%len(recs)]
			r.Index = uint64(i)
			if err := w.Write(r); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		return buf.Bytes()
	}
	// long holds the streams written, so that the reading benchmarks can
	// run alone (-bench Signature/stream/read) and need not write twice.
	long := map[bool][]byte{}
	stream := func(b *testing.B, signed bool) []byte {
		if long[signed] == nil {
			if signed {
				long[signed] = write(b, SignWith(key))
			} else {
				long[signed] = write(b)
			}
		}
		return long[signed]
	}
	for _, signed := range []bool{false, true} {
		name, opts := "unsigned", []WriterOption(nil)
		if signed {
			name, opts = "signed", []WriterOption{SignWith(key)}
		}
		b.Run("stream/write-"+name, func(b *testing.B) {
			for b.Loop() {
				long[signed] = write(b, opts...)
			}
			report(b, n, len(long[signed]))
		})
	}
	b.Run("stream/read-unsigned", func(b *testing.B) {
		data := stream(b, false)
		for b.Loop() {
			if got := drain(b, data, ReuseRecords()); got != n {
				b.Fatalf("%d records, want %d", got, n)
			}
		}
		report(b, n, len(data))
	})
	b.Run("stream/verify-signed", func(b *testing.B) {
		data := stream(b, true)
		for b.Loop() {
			st, err := Verify(bytes.NewReader(data), []ed25519.PublicKey{pub})
			if err != nil || st.Records != int64(n) {
				b.Fatalf("%v, %d records", err, st.Records)
			}
		}
		report(b, n, len(data))
	})
}

// drain reads a stream to its end and returns its record count.
func drain(tb testing.TB, data []byte, opts ...ReaderOption) int {
	r, err := NewReader(bytes.NewReader(data), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		_, err := r.Read()
		if err == io.EOF {
			return n
		}
		if err != nil {
			tb.Fatal(err)
		}
		n++
	}
}
