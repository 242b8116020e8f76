package challenge

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
)

// KeySize is the number of secret bytes in a key.
const KeySize = 32

// maxKeyFile bounds how much of a key file is read: a key file is 64 hex
// characters and a newline, so anything much longer is not one.
const maxKeyFile = 1024

// ErrBadKey is the error a malformed key or key file wraps.
var ErrBadKey = errors.New("challenge: bad key")

// ErrKeyMarshal is returned by Key.MarshalText: a key is never encoded by
// accident, only on purpose through Key.KeyFile.
var ErrKeyMarshal = errors.New("challenge: refusing to marshal a secret key")

// Key is the secret from which a challenge set is derived. It prints as
// "challenge.Key(redacted)" under every fmt verb and refuses text, JSON and
// similar encodings, so that a key cannot reach a log or a stream by accident.
type Key struct {
	b [KeySize]byte
}

const redacted = "challenge.Key(redacted)"

// GenerateKey reads a new key from r, or from crypto/rand when r is nil.
func GenerateKey(r io.Reader) (Key, error) {
	if r == nil {
		r = rand.Reader
	}
	var k Key
	if _, err := io.ReadFull(r, k.b[:]); err != nil {
		return Key{}, fmt.Errorf("challenge: generate key: %w", err)
	}
	if k.isZero() {
		return Key{}, &KeyError{Reason: "random source gave all zero bytes"}
	}
	return k, nil
}

// KeyError reports a malformed key. It never holds the key's bytes or the
// file's content, only their shape.
type KeyError struct {
	File   string // the key file, "" when the key was parsed from memory
	Reason string
}

func (e *KeyError) Error() string {
	if e.File == "" {
		return "challenge: key: " + e.Reason
	}
	return "challenge: key file " + e.File + ": " + e.Reason
}

// Unwrap returns ErrBadKey.
func (e *KeyError) Unwrap() error { return ErrBadKey }

// ParseKey parses the key file format: 64 hex characters, either case,
// optionally followed by "\n" or "\r\n". An all-zero key is refused: it is a
// placeholder, not a secret.
func ParseKey(data []byte) (Key, error) {
	k, reason := parseKey(data)
	if reason != "" {
		return Key{}, &KeyError{Reason: reason}
	}
	return k, nil
}

// parseKey returns a reason instead of an error so that ReadKeyFile can name
// the file. Reasons say where the data is wrong, never what it holds.
func parseKey(data []byte) (Key, string) {
	if len(data) > 0 && data[len(data)-1] == '\n' {
		data = data[:len(data)-1]
		if len(data) > 0 && data[len(data)-1] == '\r' {
			data = data[:len(data)-1]
		}
	}
	if len(data) != 2*KeySize {
		return Key{}, fmt.Sprintf("want %d hex characters, got %d", 2*KeySize, len(data))
	}
	for i, c := range data {
		if !isHex(c) {
			return Key{}, fmt.Sprintf("character %d is not a hex digit", i+1)
		}
	}
	var k Key
	if _, err := hex.Decode(k.b[:], data); err != nil {
		// Unreachable after the check above; hex's message would quote
		// the offending byte, so it is not passed on.
		return Key{}, "not hex"
	}
	if k.isZero() {
		return Key{}, "key is all zeros"
	}
	return k, ""
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// ReadKeyFile reads and parses the key file at path. Like ssh with its
// private keys, it refuses a regular file that its group or others may read
// or write (mode bits 077): such a key may have been read already, or be
// swapped for one that someone else knows, and the audit would rest on a
// secret that is not one. Pipes and devices (a key handed over as
// <(pass show audit) or /dev/stdin) are not checked: nobody can read them
// again later.
func ReadKeyFile(path string) (Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return Key{}, fmt.Errorf("challenge: read key: %w", err)
	}
	defer f.Close()
	// The mode of the file opened, not of the path, so that the file checked
	// is the file read.
	if fi, err := f.Stat(); err == nil {
		if reason := keyModeProblem(fi.Mode()); reason != "" {
			return Key{}, &KeyError{File: path, Reason: reason}
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	// Wipe the copy of the secret once it is parsed.
	defer func() { clear(data) }()
	if err != nil {
		return Key{}, fmt.Errorf("challenge: read key: %w", err)
	}
	if len(data) > maxKeyFile {
		return Key{}, &KeyError{File: path, Reason: fmt.Sprintf("want %d hex characters, got more than %d bytes", 2*KeySize, maxKeyFile)}
	}
	k, reason := parseKey(data)
	if reason != "" {
		return Key{}, &KeyError{File: path, Reason: reason}
	}
	return k, nil
}

// keyModeProblem says why a key file of mode m must not be used, or "".
// Windows has no such mode bits: Go reports every file there as 0666 or
// 0444, so the check would refuse every key.
func keyModeProblem(m fs.FileMode) string {
	if runtime.GOOS == "windows" || !m.IsRegular() || m.Perm()&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("permissions %04o are too open: others than its owner may read or change it (chmod 600 it)", m.Perm())
}

// KeyFile returns the key in the key file format, 64 lower-case hex
// characters and a newline. It is the one way to get a key's bytes out, for
// keygen and for revealing the key after an audit.
func (k Key) KeyFile() []byte {
	out := make([]byte, 2*KeySize+1)
	hex.Encode(out, k.b[:])
	out[2*KeySize] = '\n'
	return out
}

func (k Key) isZero() bool { return k == Key{} }

// String returns "challenge.Key(redacted)".
func (k Key) String() string { return redacted }

// GoString returns "challenge.Key(redacted)", so %#v hides the key too.
func (k Key) GoString() string { return redacted }

// Format prints "challenge.Key(redacted)" for every verb, %x and %d
// included, which fmt would otherwise apply to the key's bytes.
func (k Key) Format(f fmt.State, verb rune) { io.WriteString(f, redacted) }

// MarshalText refuses with ErrKeyMarshal, which also stops encoding/json and
// other encoders that look for encoding.TextMarshaler.
func (k Key) MarshalText() ([]byte, error) { return nil, ErrKeyMarshal }

// Commitment returns the key's commitment: the hex SHA-256 of a fixed label
// and the key. It is published before an audit; once the key is revealed,
// anyone can recompute it and check that the key is the one committed to.
func Commitment(k Key) string {
	h := sha256.New()
	h.Write([]byte(labelCommitment))
	h.Write(k.b[:])
	return hex.EncodeToString(h.Sum(nil))
}
