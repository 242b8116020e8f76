// Package signkey keeps the Ed25519 keys that sign pot streams in files:
// `potgen signkey -o NAME` makes NAME, the private key (mode 0600), and
// NAME.pub, the public key to publish; `--sign NAME` loads the first and
// `--pubkey FILE` the second. A private key never prints, and is refused
// when others could read its file, as ssh refuses.
package signkey

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pot-audit/pot/format"
)

// The first word of each kind of key file's line. A file says what it
// holds, so that a private key given where a public one is expected (or
// the other way round) is named for what it is.
const (
	privateTag = "pot-ed25519-private"
	publicTag  = "pot-ed25519"
)

// maxFile bounds how much of a key file is read: a private key file is one
// line of 150 bytes; a file of public keys a line per trusted key.
const maxFile = 1 << 20

// ErrBadKey is what an error about a malformed or unusable key file wraps.
var ErrBadKey = errors.New("signkey: bad key file")

// Error reports a key file that cannot be used. It names the file and the
// place, never what the file holds.
type Error struct {
	File   string
	Line   int // 0 when the fault is not on one line
	Reason string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: line %d: %s", e.File, e.Line, e.Reason)
	}
	return e.File + ": " + e.Reason
}

// Unwrap returns ErrBadKey.
func (e *Error) Unwrap() error { return ErrBadKey }

// Key is a private signing key. It is a crypto.Signer, which is all that
// format.SignWith needs, and it prints as "signkey.Key(ed25519:...)" with
// its public key's id under every fmt verb and refuses text encodings, so
// that the private half cannot reach a log or a stream by accident.
type Key struct {
	priv ed25519.PrivateKey
}

// Public returns the key's public half, an ed25519.PublicKey.
func (k Key) Public() crypto.PublicKey { return k.PublicKey() }

// PublicKey returns the key's public half, nil for the zero Key.
func (k Key) PublicKey() ed25519.PublicKey {
	if len(k.priv) != ed25519.PrivateKeySize {
		return nil
	}
	return k.priv.Public().(ed25519.PublicKey)
}

// Sign signs msg with Ed25519, as ed25519.PrivateKey.Sign does.
func (k Key) Sign(random io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if len(k.priv) != ed25519.PrivateKeySize {
		return nil, errors.New("signkey: signing with a key that was never loaded")
	}
	return k.priv.Sign(random, msg, opts)
}

// String names the key by its public half only.
func (k Key) String() string {
	if len(k.priv) != ed25519.PrivateKeySize {
		return "signkey.Key(none)"
	}
	return "signkey.Key(" + format.KeyID(k.PublicKey()) + ")"
}

// GoString is String, so %#v hides the private key too.
func (k Key) GoString() string { return k.String() }

// Format prints String for every verb, %x included, which fmt would
// otherwise apply to the key's bytes.
func (k Key) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// MarshalText refuses: a private key is written only by Generate.
func (k Key) MarshalText() ([]byte, error) {
	return nil, errors.New("signkey: refusing to marshal a private key")
}

// PublicFile is the name of the public key file that goes with the private
// key file name.
func PublicFile(name string) string { return name + ".pub" }

// Generate makes a new key pair from random (crypto/rand when nil) and
// writes name, the private key, mode 0600, and name.pub, the public key,
// mode 0644, each whole or not at all. It refuses to replace either file:
// a signing key that is overwritten is lost, and with it every signature
// it made can no longer be tied to a published key. It returns the public
// key, and never the private one.
func Generate(name string, random io.Reader) (ed25519.PublicKey, error) {
	if random == nil {
		random = rand.Reader
	}
	pubName := PublicFile(name)
	for _, n := range []string{name, pubName} {
		if _, err := os.Lstat(n); err == nil {
			return nil, &Error{File: n, Reason: "exists; remove it first or choose another name"}
		}
	}
	pub, priv, err := ed25519.GenerateKey(random)
	if err != nil {
		return nil, fmt.Errorf("signkey: generating a key: %w", err)
	}
	line := make([]byte, 0, 160)
	line = append(line, privateTag...)
	line = append(line, ' ')
	line = hex.AppendEncode(line, priv.Seed())
	line = append(line, ' ')
	line = hex.AppendEncode(line, pub)
	line = append(line, '\n')
	defer clear(line)
	defer clear(priv)
	if err := writeNew(name, line, 0o600); err != nil {
		return nil, err
	}
	if err := writeNew(pubName, []byte(PublicLine(pub)), 0o644); err != nil {
		os.Remove(name) // half a pair is no use: the public key is what others trust
		return nil, err
	}
	return pub, nil
}

// PublicLine is a public key file's line for pub, newline included.
func PublicLine(pub ed25519.PublicKey) string {
	return publicTag + " " + hex.EncodeToString(pub) + "\n"
}

// writeNew writes data to name with the given mode, through a temporary
// file in the same folder, so that name appears whole or not at all; it
// fails if name exists, without touching it.
func writeNew(name string, data []byte, mode fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return fmt.Errorf("signkey: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the link, only the temporary name goes
	// CreateTemp makes 0600 files; chmod says the mode meant, whatever the
	// umask, before a byte of the key is written.
	err = f.Chmod(mode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// A hard link, unlike a rename, fails when name exists.
		err = os.Link(tmp, name)
	}
	if err != nil {
		return fmt.Errorf("signkey: writing %s: %w", name, errors.Unwrap(err))
	}
	return nil
}

// Load reads the private key file name. It refuses a file that its group
// or others may read, as ssh does, since a signing key that others can
// copy signs for them too; and a public key file, naming it as one.
func Load(name string) (Key, error) {
	f, err := os.Open(name)
	if err != nil {
		return Key{}, fmt.Errorf("signkey: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Key{}, fmt.Errorf("signkey: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Key{}, &Error{File: name, Reason: "not a regular file"}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	defer clear(data)
	if err != nil {
		return Key{}, fmt.Errorf("signkey: %s: %w", name, err)
	}
	line, rest, _ := bytes.Cut(data, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if fields := bytes.Fields(line); len(fields) > 0 && string(fields[0]) == publicTag {
		// Said before the mode, which a public key file rightly has open.
		return Key{}, &Error{File: name, Line: 1, Reason: "a public key; signing needs the private key file it was made with"}
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return Key{}, &Error{File: name, Reason: fmt.Sprintf("permissions %04o are too open: a signing key must be readable by its owner only (chmod 600 %s)", perm, name)}
	}
	if len(data) > maxFile {
		return Key{}, &Error{File: name, Reason: "too large to be a key file"}
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return Key{}, &Error{File: name, Reason: "more than one line: a private key file holds one key"}
	}
	fields := bytes.Fields(line)
	switch {
	case len(fields) > 0 && string(fields[0]) == publicTag:
		return Key{}, &Error{File: name, Line: 1, Reason: "a public key; signing needs the private key file it was made with"}
	case len(fields) != 3 || string(fields[0]) != privateTag:
		return Key{}, &Error{File: name, Line: 1, Reason: "not a pot signing key (want " + privateTag + " SEED PUBLIC-KEY)"}
	}
	seed, ok := decodeHex(fields[1], ed25519.SeedSize)
	defer clear(seed)
	if !ok {
		return Key{}, &Error{File: name, Line: 1, Reason: fmt.Sprintf("the seed is not %d hex digits", 2*ed25519.SeedSize)}
	}
	pub, ok := decodeHex(fields[2], ed25519.PublicKeySize)
	if !ok {
		return Key{}, &Error{File: name, Line: 1, Reason: fmt.Sprintf("the public key is not %d hex digits", 2*ed25519.PublicKeySize)}
	}
	k := Key{priv: ed25519.NewKeyFromSeed(seed)}
	if !k.PublicKey().Equal(ed25519.PublicKey(pub)) {
		return Key{}, &Error{File: name, Line: 1, Reason: "the seed does not give the public key written beside it: the file is damaged"}
	}
	return k, nil
}

// decodeHex decodes hex digits of exactly n bytes. It does not use the
// hex package's errors, which quote the offending byte: from a private key
// file that is a piece of the key.
func decodeHex(s []byte, n int) ([]byte, bool) {
	if len(s) != 2*n {
		return nil, false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return nil, false
		}
	}
	b := make([]byte, n)
	if _, err := hex.Decode(b, s); err != nil {
		return nil, false
	}
	return b, true
}

// LoadPublic reads the public keys in the file name: a line per key,
// "pot-ed25519 HEX" with an optional comment after it; blank lines and
// lines starting with # are skipped. A file of several keys is a trust
// set (any of them is trusted), so NAME.pub files can be concatenated.
func LoadPublic(name string) ([]ed25519.PublicKey, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("signkey: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("signkey: %s: %w", name, err)
	}
	defer clear(data) // it could be a private key given by mistake
	if len(data) > maxFile {
		return nil, &Error{File: name, Reason: "too large to be a key file"}
	}
	return ParsePublic(name, data)
}

// ParsePublic parses public key lines as LoadPublic does; name is used in
// errors. A file with no key is an error: trusting nothing is never what a
// caller meant.
func ParsePublic(name string, data []byte) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxFile+1)
	for n := 1; sc.Scan(); n++ {
		fields := bytes.Fields(sc.Bytes())
		switch {
		case len(fields) == 0 || fields[0][0] == '#':
			continue
		case string(fields[0]) == privateTag:
			return nil, &Error{File: name, Line: n, Reason: "a private signing key: give its .pub file, and keep this one to yourself"}
		case string(fields[0]) != publicTag || len(fields) < 2:
			return nil, &Error{File: name, Line: n, Reason: "not a pot public key (want " + publicTag + " HEX)"}
		}
		pub, ok := decodeHex(fields[1], ed25519.PublicKeySize)
		if !ok {
			return nil, &Error{File: name, Line: n, Reason: fmt.Sprintf("the key is not %d hex digits", 2*ed25519.PublicKeySize)}
		}
		keys = append(keys, pub)
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{File: name, Reason: err.Error()}
	}
	if len(keys) == 0 {
		return nil, &Error{File: name, Reason: "no public key in the file"}
	}
	return keys, nil
}
