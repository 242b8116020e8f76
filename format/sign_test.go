package format

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// testKey is a signing key made from a name, so tests and frozen streams
// are reproducible (Ed25519 signatures are deterministic).
func testKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("pot test signing key " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func pubOf(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

// signedSegments writes one segment per key (nil: unsigned) of n records
// each, and returns the stream and where each frame ended.
func signedSegments(t testing.TB, n int, keys ...ed25519.PrivateKey) *frameLog {
	t.Helper()
	var out frameLog
	recs := makeRecords(n*len(keys), 4, 2, 10)
	for i, k := range keys {
		h := testHeader()
		h.Shard.Index = i
		opts := []WriterOption{WithFrameSize(4, 1<<20)}
		if k != nil {
			opts = append(opts, SignWith(k))
		}
		w, err := NewWriter(&out, h, opts...)
		if err != nil {
			t.Fatal(err)
		}
		for j := range n {
			if err := w.Write(&recs[i*n+j]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return &out
}

func TestSignedRoundTrip(t *testing.T) {
	a, b := testKey("a"), testKey("b")
	data := signedSegments(t, 6, a, b, nil).Bytes()
	var trailers []Trailer
	got, r, err := readAll(data, OnTrailer(func(tr Trailer) error { trailers = append(trailers, tr); return nil }))
	if err != nil {
		t.Fatal(err)
	}
	if want := makeRecords(18, 4, 2, 10); len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	} else {
		for i := range got {
			if !recordsEqual(got[i], want[i]) {
				t.Fatalf("record %d differs", i)
			}
		}
	}
	if st := r.Stats(); st.Segments != 3 || st.Trailers != 3 || st.Signed != 2 {
		t.Errorf("stats %+v, want 3 segments, 3 trailers, 2 signed", st)
	}
	wantSigners := []ed25519.PublicKey{pubOf(a), pubOf(b), nil}
	if len(trailers) != 3 {
		t.Fatalf("%d trailers reported, want 3", len(trailers))
	}
	for i, tr := range trailers {
		if tr.Segment != i || tr.Count != 6 || tr.Header.Shard.Index != i || !bytes.Equal(tr.Signer, wantSigners[i]) {
			t.Errorf("trailer %d: segment %d, count %d, shard %d, signer %x; want signer %x", i, tr.Segment, tr.Count, tr.Header.Shard.Index, tr.Signer, wantSigners[i])
		}
	}
}

func TestVerify(t *testing.T) {
	a, b := testKey("a"), testKey("b")
	pa, pb := pubOf(a), pubOf(b)
	for _, c := range []struct {
		name    string
		keys    []ed25519.PrivateKey // one segment each
		trusted []ed25519.PublicKey
		err     error // nil: verifies
		segment int
		detail  string
	}{
		{"signed", []ed25519.PrivateKey{a}, []ed25519.PublicKey{pa}, nil, 0, ""},
		{"two signers, both trusted", []ed25519.PrivateKey{a, b}, []ed25519.PublicKey{pb, pa}, nil, 0, ""},
		{"another key", []ed25519.PrivateKey{a}, []ed25519.PublicKey{pb}, ErrUntrusted, 0, "signed by " + KeyID(pa)},
		{"nothing trusted", []ed25519.PrivateKey{a}, nil, ErrUntrusted, 0, "signed by " + KeyID(pa)},
		{"unsigned", []ed25519.PrivateKey{nil}, []ed25519.PublicKey{pa}, ErrUntrusted, 0, "unsigned"},
		{"second unsigned", []ed25519.PrivateKey{a, nil}, []ed25519.PublicKey{pa}, ErrUntrusted, 1, "unsigned"},
		{"second by another key", []ed25519.PrivateKey{a, b, a}, []ed25519.PublicKey{pa}, ErrUntrusted, 1, "signed by " + KeyID(pb)},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := signedSegments(t, 5, c.keys...).Bytes()
			st, err := Verify(bytes.NewReader(data), c.trusted)
			if c.err == nil {
				if err != nil || st.Signed != len(c.keys) || st.Records != int64(5*len(c.keys)) {
					t.Fatalf("got %v, %+v; want %d signed segments", err, st, len(c.keys))
				}
				return
			}
			var pe *Error
			if !errors.Is(err, c.err) || !errors.As(err, &pe) || pe.Segment != c.segment || !strings.Contains(err.Error(), c.detail) {
				t.Fatalf("got %v, want %v in segment %d saying %q", err, c.err, c.segment, c.detail)
			}
			// Nothing readable is lost: the records before the refused
			// trailer were read.
			if st.Records != int64(5*(c.segment+1)) {
				t.Errorf("%d records read before the error, want %d", st.Records, 5*(c.segment+1))
			}
		})
	}
}

// TestSignatureSurvivesOnlyTheTruth rewrites a signed stream the way a
// forger would: one bit of a header's or a records frame's content changed,
// the frame compressed again with a valid checksum, the segment digest and
// the trailer recomputed, the signature kept. Every such stream must fail
// verification, naming the forged segment.
func TestSignatureSurvivesOnlyTheTruth(t *testing.T) {
	a := testKey("a")
	out := signedSegments(t, 4, a, a)
	frames := splitAt(out.Bytes(), out.ends)
	// Two segments of a header, a records frame and a trailer.
	if len(frames) != 2*perSegment {
		t.Fatalf("%d frames, want %d", len(frames), 2*perSegment)
	}
	dec := newTestDecoder(t)
	checked, bySignature := 0, 0
	for seg := range 2 {
		first := seg * perSegment
		for f := first; f < first+perSegment-1; f++ {
			content, err := dec.DecodeAll(frames[f], nil)
			if err != nil {
				t.Fatal(err)
			}
			for bit := range 8 * len(content) {
				forged := append([]byte(nil), content...)
				forged[bit/8] ^= 1 << (bit % 8)
				stream := forge(t, dec, frames, seg, f, forged)
				_, err := Verify(bytes.NewReader(stream), []ed25519.PublicKey{pubOf(a)}, AllowMixed())
				var pe *Error
				if err == nil || !errors.As(err, &pe) || pe.Segment != seg {
					t.Fatalf("segment %d frame %d content bit %d changed: got %v, want an error in segment %d", seg, f, bit, err, seg)
				}
				checked++
				if errors.Is(err, ErrSignature) {
					bySignature++
				}
			}
		}
	}
	// Most flips leave valid msgpack (a changed value, not a broken
	// structure): those are what only the signature can catch.
	if bySignature < checked/2 {
		t.Errorf("%d of %d forgeries caught by the signature, want most", bySignature, checked)
	}
	t.Logf("%d forgeries, %d caught by the signature, the rest as invalid content", checked, bySignature)
}

// perSegment is the number of frames of each segment of the forged stream.
const perSegment = 3

// forge returns the frames with frame f of segment seg replaced by content,
// compressed again, and that segment's trailer given the matching digest
// and the old signature.
func forge(t *testing.T, zd *zstd.Decoder, frames [][]byte, seg, f int, content []byte) []byte {
	frames = append([][]byte(nil), frames...)
	frames[f] = compressFrame(t, content)
	d := sha256.New()
	last := seg*perSegment + perSegment - 1
	for _, fr := range frames[seg*perSegment : last] {
		d.Write(fr)
	}
	frames[last] = compressFrame(t, resealed(t, zd, frames[last], d.Sum(nil)))
	return bytes.Join(frames, nil)
}

// resealed returns the content of a signed trailer frame with another
// digest, keeping its count, key and signature.
func resealed(t *testing.T, zd *zstd.Decoder, frame, digest []byte) []byte {
	c, err := zd.DecodeAll(frame, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := dec{b: c, off: 5}
	count := d.uint()
	d.bin()
	pub, sig := trailerSigner(&d)
	if d.err != "" {
		t.Fatal(d.err)
	}
	b := []byte{0x96, 0xa3, 'e', 'n', 'd'}
	b = appendUint(b, count)
	b = appendBinHeader(b, len(digest))
	b = append(b, digest...)
	b = appendStr(b, signatureAlg)
	b = appendBinHeader(b, len(pub))
	b = append(b, pub...)
	b = appendBinHeader(b, len(sig))
	return append(b, sig...)
}

func splitAt(data []byte, ends []int) [][]byte {
	var frames [][]byte
	start := 0
	for _, e := range ends {
		frames = append(frames, data[start:e])
		start = e
	}
	return frames
}

// TestResignedByAnotherKey is a forger who changes a record and signs the
// segment again, correctly, with a key of their own.
func TestResignedByAnotherKey(t *testing.T) {
	a, b := testKey("a"), testKey("b")
	honest := signedSegments(t, 6, a).Bytes()
	recs, _, err := readAll(honest)
	if err != nil {
		t.Fatal(err)
	}
	recs[3].Text = "forged"
	h := testHeader()
	h.Shard.Index = 0
	forged := writeStream(t, h, recs, WithFrameSize(4, 1<<20), SignWith(b)).Bytes()
	if _, err := Verify(bytes.NewReader(forged), []ed25519.PublicKey{pubOf(b)}); err != nil {
		t.Fatalf("the forger's own key: %v", err)
	}
	_, err = Verify(bytes.NewReader(forged), []ed25519.PublicKey{pubOf(a)})
	var pe *Error
	if !errors.Is(err, ErrUntrusted) || !errors.As(err, &pe) || pe.Segment != 0 || !strings.Contains(err.Error(), KeyID(pubOf(b))) {
		t.Fatalf("got %v, want ErrUntrusted naming %s in segment 0", err, KeyID(pubOf(b)))
	}
}

// TestSignedBitFlips flips every bit of a signed stream of two segments:
// each flip fails verification and names the segment the bit is in.
func TestSignedBitFlips(t *testing.T) {
	a := testKey("a")
	out := signedSegments(t, 3, a, a)
	data := out.Bytes()
	segmentEnd := out.ends[len(out.ends)/2-1] // each segment: header, one records frame, trailer
	trusted := []ed25519.PublicKey{pubOf(a)}
	if _, err := Verify(bytes.NewReader(data), trusted); err != nil {
		t.Fatal(err)
	}
	for bit := range 8 * len(data) {
		bad := append([]byte(nil), data...)
		bad[bit/8] ^= 1 << (bit % 8)
		want := 0
		if bit/8 >= segmentEnd {
			want = 1
		}
		_, err := Verify(bytes.NewReader(bad), trusted)
		var pe *Error
		if err == nil || !errors.As(err, &pe) || pe.Segment != want {
			t.Fatalf("bit %d (byte %d) flipped: got %v, want an error in segment %d", bit, bit/8, err, want)
		}
	}
}

func TestSignedTrailerNeedsVersion3(t *testing.T) {
	h := testHeader()
	hc, err := encodeHeader(&h)
	if err != nil {
		t.Fatal(err)
	}
	if hc[5] != Version {
		t.Fatalf("version byte 0x%02x", hc[5])
	}
	hc[5] = 2
	head := compressFrame(t, hc)
	d := sha256.Sum256(head)
	w := &Writer{}
	SignWith(testKey("a"))(w)
	trailer, err := w.sign(0, d[:])
	if err != nil {
		t.Fatal(err)
	}
	stream := append(head, compressFrame(t, trailer)...)
	_, _, err = readAll(stream)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("got %v, want ErrCorrupt for a signed trailer in a version 2 segment", err)
	}
	// The same segment under a version 3 header reads.
	hc[5] = 3
	head = compressFrame(t, hc)
	d = sha256.Sum256(head)
	if trailer, err = w.sign(0, d[:]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readAll(append(head, compressFrame(t, trailer)...)); err != nil {
		t.Fatal(err)
	}
}

// TestMalformedSignedTrailers: every part of a signed trailer is checked
// for its type and size before the signature is.
func TestMalformedSignedTrailers(t *testing.T) {
	head := headerFrame(t)
	d := sha256.Sum256(head)
	digest := d[:]
	pub := pubOf(testKey("a"))
	sig := bytes.Repeat([]byte{7}, ed25519.SignatureSize)
	build := func(alg string, pub, sig []byte) []byte {
		b := []byte{0x96, 0xa3, 'e', 'n', 'd', 0, 0xc4, 32}
		b = append(b, digest...)
		b = appendStr(b, alg)
		b = append(appendBinHeader(b, len(pub)), pub...)
		return append(appendBinHeader(b, len(sig)), sig...)
	}
	for _, c := range []struct {
		name    string
		trailer []byte
		err     error
		detail  string
	}{
		{"other algorithm", build("ed448", pub, sig), ErrCorrupt, `signature algorithm "ed448"`},
		{"short key", build(signatureAlg, pub[:31], sig), ErrCorrupt, "public key of 31 bytes"},
		{"long signature", build(signatureAlg, pub, append(sig, 0)), ErrCorrupt, "signature of 65 bytes"},
		{"no signature", build(signatureAlg, pub, sig)[:len(build(signatureAlg, pub, sig))-66], ErrCorrupt, "unexpected end"},
		{"bytes after", append(build(signatureAlg, pub, sig), 0), ErrCorrupt, "1 bytes after the trailer"},
		{"wrong signature", build(signatureAlg, pub, sig), ErrSignature, "the signature by " + KeyID(pub) + " fails"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := readAll(append(append([]byte(nil), head...), compressFrame(t, c.trailer)...))
			if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.detail) {
				t.Fatalf("got %v, want %v saying %q", err, c.err, c.detail)
			}
		})
	}
}

// failingSigner holds a real key but returns a signature that does not
// verify, as a broken token might.
type failingSigner struct{ ed25519.PrivateKey }

func (s failingSigner) Sign(_ io.Reader, msg []byte, _ crypto.SignerOpts) ([]byte, error) {
	return make([]byte, ed25519.SignatureSize), nil
}

// TestPrivateKeyNeverWritten looks for the private key, in every form a
// careless program might print it, in a signed stream and in every error
// the signing and verifying paths return.
func TestPrivateKeyNeverWritten(t *testing.T) {
	k := testKey("secret")
	seed := k.Seed()
	forms := [][]byte{seed, k, []byte(hex.EncodeToString(seed)), []byte(hex.EncodeToString(k)),
		[]byte(base64.StdEncoding.EncodeToString(seed)), []byte(base64.StdEncoding.EncodeToString(k))}
	leaks := func(what string, b []byte) {
		t.Helper()
		lower := bytes.ToLower(b)
		for _, f := range forms {
			if bytes.Contains(b, f) || bytes.Contains(lower, bytes.ToLower(f)) {
				t.Errorf("%s holds the private key", what)
			}
		}
	}
	data := signedSegments(t, 4, k).Bytes()
	leaks("the stream", data)
	// Decompressed too: the stream is compressed, a key inside would not
	// show as its bytes.
	var content []byte
	dec := newTestDecoder(t)
	for _, f := range splitFrames(t, data) {
		c, err := dec.DecodeAll(f, nil)
		if err != nil {
			t.Fatal(err)
		}
		content = append(content, c...)
	}
	leaks("the stream's content", content)
	_, err := Verify(bytes.NewReader(data), []ed25519.PublicKey{pubOf(testKey("other"))})
	if err == nil {
		t.Fatal("verified against another key")
	}
	leaks("the untrusted error", []byte(err.Error()))
	w, err := NewWriter(io.Discard, testHeader(), SignWith(failingSigner{k}))
	if err != nil {
		t.Fatal(err)
	}
	err = w.Close()
	if err == nil {
		t.Fatal("a signature that does not verify was written")
	}
	leaks("the signing error", []byte(err.Error()))
	ec, err := ecdsa.GenerateKey(elliptic.P256(), bytes.NewReader(bytes.Repeat([]byte{1}, 256)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewWriter(io.Discard, testHeader(), SignWith(ec)); err == nil || !strings.Contains(err.Error(), "not an Ed25519 key") {
		t.Fatalf("an ECDSA key: got %v, want a refusal", err)
	}
	if _, err := NewWriter(io.Discard, testHeader(), SignWith(nil)); err == nil {
		t.Fatal("no key: no refusal")
	}
}

// TestOnTrailerRefusal: a caller's refusal stops the reader at the trailer,
// sticky and positioned like any other failure.
func TestOnTrailerRefusal(t *testing.T) {
	data := signedSegments(t, 3, testKey("a"), nil).Bytes()
	refuse := errors.New("refused")
	r, err := NewReader(bytes.NewReader(data), OnTrailer(func(tr Trailer) error {
		if tr.Signer == nil {
			return refuse
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		_, err = r.Read()
		if err != nil {
			break
		}
		n++
	}
	var pe *Error
	if !errors.Is(err, refuse) || !errors.As(err, &pe) || pe.Segment != 1 || n != 6 {
		t.Fatalf("got %v after %d records, want the refusal in segment 1 after 6", err, n)
	}
	if _, again := r.Read(); again != err {
		t.Fatalf("error not sticky: %v", again)
	}
}

// newTestDecoder is a zstd decoder for looking inside frames; it is closed
// when the test ends.
func newTestDecoder(t testing.TB) *zstd.Decoder {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}
