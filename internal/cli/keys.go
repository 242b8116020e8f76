package cli

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/signkey"
)

// The signing flags name key files; whatever is wrong with one (missing,
// unreadable, too open, damaged, the wrong half of a pair) is the user's
// to fix, so every failure to load one is exit status 2, naming the file
// and never what it holds. signkey's errors already hold no key material.

// LoadSigner loads the private signing key that flag (--sign) names.
func LoadSigner(flag, name string) (signkey.Key, error) {
	k, err := signkey.Load(name)
	if err != nil {
		return signkey.Key{}, keyError(flag, name, err)
	}
	return k, nil
}

// SignOptions returns the writer options that sign with the private key
// --sign names, or none when name is empty: what every tool that writes
// a stream passes to its writers.
func SignOptions(name string) ([]format.WriterOption, error) {
	if name == "" {
		return nil, nil
	}
	k, err := LoadSigner("sign", name)
	if err != nil {
		return nil, err
	}
	return []format.WriterOption{format.SignWith(k)}, nil
}

// LoadTrusted loads the public keys of every file that flag (--pubkey,
// --ref-pubkey) names, repeated or not: a key of any of them is trusted.
// Naming no file is the caller's to check; a file without a key is an
// error (signkey.ParsePublic), since trusting nothing is never what the
// user meant.
func LoadTrusted(flag string, files []string) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	for _, name := range files {
		ks, err := signkey.LoadPublic(name)
		if err != nil {
			return nil, keyError(flag, name, err)
		}
		keys = append(keys, ks...)
	}
	return keys, nil
}

// keyError makes err one line that starts with the flag and names the
// file once.
func keyError(flag, name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		// "signkey: open NAME: no such file" says less than the flag.
		return Usagef("--%s %s: %v", flag, name, pe.Err)
	}
	msg := strings.TrimPrefix(err.Error(), "signkey: ")
	if !strings.HasPrefix(msg, name) {
		msg = name + ": " + msg
	}
	return Usage(fmt.Errorf("--%s %s", flag, msg))
}

// Unsigned is the note a tool prints when it rewrites a signed stream,
// input, into output without --sign; signers are the key ids of input's
// signed segments. The signatures cannot be carried over, since the
// segments are cut or changed, and the output should not pass for as
// trusted as its input.
func Unsigned(tool, input, output string, signers []string) string {
	return fmt.Sprintf("%s: note: %s is signed (by %s) but the output, %s, is unsigned: pass --sign KEY to sign it",
		tool, input, strings.Join(signers, ", "), output)
}

// Signers collects the distinct key ids of the signed segments a Reader
// meets, for Unsigned; use its Option as the Reader's OnTrailer.
type Signers struct {
	IDs []string
}

// Option is the ReaderOption that fills s.
func (s *Signers) Option() format.ReaderOption {
	return format.OnTrailer(func(t format.Trailer) error {
		if t.Signer == nil {
			return nil
		}
		id := format.KeyID(t.Signer)
		for _, have := range s.IDs {
			if have == id {
				return nil
			}
		}
		s.IDs = append(s.IDs, id)
		return nil
	})
}
