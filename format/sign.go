package format

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// Signed segments (FORMAT.md section 5.1). A signing writer ends each
// segment with a trailer that also carries an Ed25519 public key and its
// signature over the record count and the segment digest. The digest is
// the SHA-256 of the segment's raw header and records frames, so the
// signature covers the header and every record; the trailer's own frame is
// not part of the digest, which is why the signature can sit in it.

// signatureLabel starts every signed message, so that a signature made for
// a pot segment means nothing to any other protocol that might trust the
// same key, and the other way round.
const signatureLabel = "pot segment signature\x00"

// signatureAlg names the only signature algorithm of version 3 in the
// trailer; another algorithm would take another name.
const signatureAlg = "ed25519"

// signedMessage is what a segment's signature signs: the label, the record
// count as 8 bytes big-endian, and the 32-byte digest.
func signedMessage(count uint64, digest []byte) []byte {
	m := make([]byte, 0, len(signatureLabel)+8+len(digest))
	m = append(m, signatureLabel...)
	m = binary.BigEndian.AppendUint64(m, count)
	return append(m, digest...)
}

// KeyID names a public key in messages and listings: "ed25519:" and the
// first 8 bytes of the key's SHA-256, in hex. It is short enough to read
// and compare by eye; the key files hold the whole key.
func KeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return signatureAlg + ":" + hex.EncodeToString(s[:8])
}

// Trailer is what a Reader learned from one segment's trailer, once the
// count, the digest and any signature were checked.
type Trailer struct {
	Segment int               // 0-based index of the segment in the stream
	Header  Header            // the segment's header
	Count   uint64            // records in the segment
	Signer  ed25519.PublicKey // the key whose signature verified; nil when the segment is unsigned
}

// SignWith makes a Writer sign its segment with key, whose public half must
// be an Ed25519 key (an ed25519.PrivateKey, or a signer that holds one
// elsewhere). The signature goes into the trailer; the key itself is never
// written, logged or put in an error, only its public half.
func SignWith(key crypto.Signer) WriterOption {
	return func(w *Writer) {
		if key == nil {
			w.err = errors.New("format: no signing key")
			return
		}
		pub, ok := key.Public().(ed25519.PublicKey)
		if !ok || len(pub) != ed25519.PublicKeySize {
			w.err = fmt.Errorf("format: signing key is not an Ed25519 key")
			return
		}
		w.signer, w.signerPub = key, pub
	}
}

// RequireSigners makes a Reader refuse, with ErrUntrusted, every segment
// that is not signed by one of keys: an unsigned segment, or one signed by
// any other key. With no keys nothing is trusted, so every segment fails;
// an empty trust set is a caller's mistake, never a way to switch the check
// off. A signature that does not verify fails with ErrSignature whether or
// not this option is given.
func RequireSigners(keys ...ed25519.PublicKey) ReaderOption {
	trusted := make([]ed25519.PublicKey, 0, len(keys))
	for _, k := range keys {
		trusted = append(trusted, bytes.Clone(k))
	}
	return func(r *Reader) { r.trusted, r.requireSigned = trusted, true }
}

// OnTrailer has a Reader call f with each segment's trailer once it is
// checked, before it reads on. An error from f stops the reader: it becomes
// the Reader's sticky error, positioned at the trailer, so a caller can
// refuse a segment for its header, count or signer and have the refusal
// name the segment like any other failure.
func OnTrailer(f func(Trailer) error) ReaderOption {
	return func(r *Reader) { r.onTrailer = f }
}

// Verify reads the stream in r to its end and checks every frame, every
// trailer and every signature, and that every segment is signed by one of
// trusted. It returns what it read and the first failure, an *Error that
// names the segment (ErrUntrusted for a segment that is unsigned or signed
// by another key, ErrSignature for a signature that does not verify). opts
// are passed to the Reader (AllowMixed, OnTrailer).
func Verify(r io.Reader, trusted []ed25519.PublicKey, opts ...ReaderOption) (Stats, error) {
	opts = append(append([]ReaderOption{ReuseRecords()}, opts...), RequireSigners(trusted...))
	rd, err := NewReader(r, opts...)
	if err != nil {
		return Stats{}, err
	}
	defer rd.Close()
	for {
		if _, err = rd.Read(); err != nil {
			break
		}
	}
	st := rd.Stats()
	if err != io.EOF {
		return st, err
	}
	if st.Signed != st.Segments {
		// The Reader cannot end cleanly otherwise; Verify does not take
		// that on trust.
		return st, &Error{Record: st.Records, Offset: st.CompressedSize, Segment: st.Segments - 1, Err: ErrUntrusted,
			Detail: fmt.Sprintf("%d of %d segments signed by a trusted key", st.Signed, st.Segments)}
	}
	return st, nil
}

// sign returns the trailer content of a signed segment:
// ["end", count, digest, "ed25519", public key, signature].
func (w *Writer) sign(count uint64, digest []byte) ([]byte, error) {
	msg := signedMessage(count, digest)
	// Ed25519 is deterministic and ignores the randomness; a signer kept
	// elsewhere (an agent, a token) may want it.
	sig, err := w.signer.Sign(rand.Reader, msg, crypto.Hash(0))
	if err != nil {
		return nil, fmt.Errorf("format: signing the segment: %w", err)
	}
	// A signature that does not verify would make the stream unreadable;
	// check it here rather than let a faulty signer damage an archive.
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(w.signerPub, msg, sig) {
		return nil, errors.New("format: the signing key made a signature that does not verify")
	}
	b := []byte{0x96, 0xa3, 'e', 'n', 'd'}
	b = appendUint(b, count)
	b = appendBinHeader(b, len(digest))
	b = append(b, digest...)
	b = appendStr(b, signatureAlg)
	b = appendBinHeader(b, len(w.signerPub))
	b = append(b, w.signerPub...)
	b = appendBinHeader(b, len(sig))
	return append(b, sig...), nil
}

// trailerSigner reads the signature part of a signed trailer from d: the
// algorithm, the public key and the signature. It checks their types and
// sizes, not the signature; a malformed part is left as d's error.
func trailerSigner(d *dec) (pub ed25519.PublicKey, sig []byte) {
	alg := d.strBytes()
	pub = d.bin()
	sig = d.bin()
	switch {
	case d.err != "":
	case string(alg) != signatureAlg:
		d.fail("signature algorithm %q", alg)
	case len(pub) != ed25519.PublicKeySize:
		d.fail("public key of %d bytes", len(pub))
	case len(sig) != ed25519.SignatureSize:
		d.fail("signature of %d bytes", len(sig))
	}
	return bytes.Clone(pub), sig // the frame's content is reused; pub outlives it
}

// trusts reports whether pub is one of the keys the Reader was given.
func (r *Reader) trusts(pub ed25519.PublicKey) bool {
	for _, k := range r.trusted {
		if k.Equal(pub) {
			return true
		}
	}
	return false
}
