package compare

import (
	"crypto/ed25519"
	"fmt"
	"os"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
)

// Signed streams. A comparison may require every segment of the reference
// (Config.RefSigners), or of the candidate (Config.CandSigners), to be
// signed by one of a set of trusted keys. The format's reader checks each
// segment's signature at its trailer, after its records have gone by, so
// a verdict is given only once every required signature has checked out:
// One and Match wait for the whole reference anyway, and Run reads a
// candidate that must be signed to its end even after the test has
// decided, which spends the early stop of a candidate piped from potgen.

// RequireSigned returns the reader options that require every segment of
// the reference called name to be signed by one of keys, none when keys is
// empty. The options check each segment as the reference loads, and no
// verdict is given before it has loaded whole. When a candidate is a pipe
// (standard input, where potgen may be querying a model for it) and the
// reference a regular file, the reference is first read through and
// checked as well, so that one nobody trusted is refused before the
// candidate is read and no model is queried in vain; candidates that are
// all files spare that second read.
func RequireSigned(env *cli.Env, name string, keys []ed25519.PublicKey, cands ...string) ([]format.ReaderOption, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	if live(cands) {
		if err := verifyFile(env, name, keys); err != nil {
			return nil, err
		}
	}
	return []format.ReaderOption{format.RequireSigners(keys...)}, nil
}

// live reports whether one of the candidates is not a regular file: a
// stream that may be made as it is read.
func live(cands []string) bool {
	for _, c := range cands {
		if c == "-" || c == "" {
			return true
		}
		if st, err := os.Stat(c); err == nil && !st.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// verifyFile checks every segment's signature of name, when it is a
// regular file; anything else is checked as it is read.
func verifyFile(env *cli.Env, name string, keys []ed25519.PublicKey) error {
	if name == "-" || name == "" {
		return nil
	}
	if st, err := os.Stat(name); err != nil || !st.Mode().IsRegular() {
		return nil // Open says what is wrong with it, or it is a pipe
	}
	in, err := env.Open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	if _, err := format.Verify(in, keys, format.AllowMixed()); err != nil {
		return fmt.Errorf("reference %s: %w", in.Name, err)
	}
	return nil
}

// candOptions are the reader options of a candidate under cfg.
func (cfg *Config) candOptions() []format.ReaderOption {
	if len(cfg.CandSigners) == 0 {
		return nil
	}
	return []format.ReaderOption{format.RequireSigners(cfg.CandSigners...)}
}

// drain reads the rest of a candidate that must be signed, once every
// comparison is done: the verdict waits for its last signature.
func drain(f *feed, stop <-chan struct{}, in *cli.Input, read int64) error {
	for {
		select {
		case <-stop:
			return fmt.Errorf("interrupted after %d records of %s", read, in.Name)
		case b, ok := <-f.batches:
			if !ok {
				return signedEnd(f, in)
			}
			f.recycle(b)
		}
	}
}

// signedEnd is the end of a candidate that must be signed: any failure of
// the stream is trouble, since a segment that did not end with its
// trailer was never shown to be signed.
func signedEnd(f *feed, in *cli.Input) error {
	if f.err != nil {
		return fmt.Errorf("%s: %w", in.Name, f.err)
	}
	return nil
}
