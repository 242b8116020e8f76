package streamtest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/signkey"
)

// SignKey makes a signing key pair in dir, as `potgen signkey -o NAME`
// does, and returns the private key file's path; the public key is in
// signkey.PublicFile of it.
func SignKey(t testing.TB, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if _, err := signkey.Generate(path, nil); err != nil {
		t.Fatal(err)
	}
	return path
}

// PublicKey is the public key of the private key file path.
func PublicKey(t testing.TB, path string) ed25519.PublicKey {
	t.Helper()
	k, err := signkey.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey()
}

// Sign rewrites every segment of the stream data, header and records as
// they are, signed with the private key in the file keyPath.
func Sign(t testing.TB, data []byte, keyPath string) []byte {
	t.Helper()
	k, err := signkey.Load(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	r, err := format.NewReader(bytes.NewReader(data), format.AllowMixed())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out bytes.Buffer
	var w *format.Writer
	seg := -1
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Segment() != seg {
			if w != nil {
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if w, err = format.NewWriter(&out, r.Header(), format.SignWith(k)); err != nil {
				t.Fatal(err)
			}
			seg = r.Segment()
		}
		if err := w.Write(&rec); err != nil {
			t.Fatal(err)
		}
	}
	if w == nil {
		t.Fatal("streamtest.Sign: a stream without records")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// NoPrivateKey fails t when data, called what in the message, holds any
// piece of the private key in the file keyPath: its seed in hex (either
// case), or any 8 bytes in a row of the seed or of the secret that
// Ed25519 derives from it. The key's public half may appear anywhere.
func NoPrivateKey(t testing.TB, keyPath, what string, data []byte) {
	t.Helper()
	line, err := readKeyLine(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(line)
	if len(fields) != 3 {
		t.Fatalf("%s: not a private key file", keyPath)
	}
	seed, err := hex.DecodeString(fields[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{strings.ToLower(fields[1]), strings.ToUpper(fields[1]), fields[1][:16]} {
		if bytes.Contains(bytes.ToLower(data), []byte(strings.ToLower(s))) {
			t.Errorf("%s holds the private key's seed in hex", what)
			return
		}
	}
	h := sha512.Sum512(seed)
	// Bytes 0 and 31 of the scalar are clamped; the rest are as derived.
	for _, secret := range [][]byte{seed, h[1:31], h[32:]} {
		for i := 0; i+8 <= len(secret); i++ {
			if bytes.Contains(data, secret[i:i+8]) {
				t.Errorf("%s holds 8 bytes of the private key at offset %d of a secret", what, i)
				return
			}
		}
	}
}

func readKeyLine(path string) (string, error) {
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}

// Outcome is what a tool run in a signing test must give: its exit
// status, a regexp its stdout must match, and a regexp its stderr must
// match ("" for no stderr at all: one failure, one line, and nothing on
// success), on exactly Lines lines, one unless said.
type Outcome struct {
	Code           int
	Stdout, Stderr string
	Lines          int // lines of stderr when Stderr is set; 0 is one
}

// stderrLines is how many lines stderr must have when Stderr is set.
func (o Outcome) stderrLines() int { return max(o.Lines, 1) }

// Check fails t where the run (code, stdout, stderr) is not o, and where
// its output holds a piece of one of the private keys in the files keys.
func (o Outcome) Check(t testing.TB, code int, stdout, stderr string, keys ...string) {
	t.Helper()
	if code != o.Code {
		t.Errorf("exit %d, want %d\nstdout %q\nstderr %q", code, o.Code, stdout, stderr)
	}
	if !regexp.MustCompile(o.Stdout).MatchString(stdout) {
		t.Errorf("stdout %q, want it to match %s", stdout, o.Stdout)
	}
	switch {
	case o.Stderr == "" && stderr != "":
		t.Errorf("stderr %q, want none", stderr)
	case o.Stderr != "" && (!regexp.MustCompile(o.Stderr).MatchString(stderr) || strings.Count(stderr, "\n") != o.stderrLines()):
		t.Errorf("stderr %q, want %d line(s) matching %s", stderr, o.stderrLines(), o.Stderr)
	}
	for _, k := range keys {
		NoPrivateKey(t, k, "stdout", []byte(stdout))
		NoPrivateKey(t, k, "stderr", []byte(stderr))
	}
}
