package challenge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testKeyHex is the key 00 01 .. 1f, used by the known-answer tests.
const testKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func testKey(t testing.TB) Key {
	t.Helper()
	k, err := ParseKey([]byte(testKeyHex))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// otherKey returns a key that differs from testKey in its last byte.
func otherKey(t testing.TB) Key {
	t.Helper()
	k, err := ParseKey([]byte(testKeyHex[:62] + "ff"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// hasHexRun reports whether s holds n or more hex digits in a row: a key
// leaking into a message would.
func hasHexRun(s string, n int) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if isHex(s[i]) {
			run++
			if run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

func TestGenerateKey(t *testing.T) {
	src := bytes.Repeat([]byte{7}, KeySize)
	k, err := GenerateKey(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(k.KeyFile()), strings.Repeat("07", KeySize)+"\n"; got != want {
		t.Errorf("KeyFile() = %q, want %q", got, want)
	}
	k1, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if k1 == k2 {
		t.Error("two keys from crypto/rand are equal")
	}
	if _, err := GenerateKey(bytes.NewReader(src[:10])); err == nil {
		t.Error("GenerateKey accepted a 10-byte source")
	}
	if _, err := GenerateKey(bytes.NewReader(make([]byte, KeySize))); !errors.Is(err, ErrBadKey) {
		t.Errorf("GenerateKey from zeros: %v, want ErrBadKey", err)
	}
}

func TestParseKey(t *testing.T) {
	good := []struct {
		name string
		data string
	}{
		{"bare", testKeyHex},
		{"newline", testKeyHex + "\n"},
		{"crlf", testKeyHex + "\r\n"},
		{"upper", strings.ToUpper(testKeyHex)},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseKey([]byte(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if k != testKey(t) {
				t.Error("parsed another key")
			}
			if got := string(k.KeyFile()); got != testKeyHex+"\n" {
				t.Errorf("KeyFile() = %q", got)
			}
		})
	}
	bad := []struct {
		name string
		data string
		msg  string
	}{
		{"empty", "", "challenge: key: want 64 hex characters, got 0"},
		{"short", testKeyHex[:63], "challenge: key: want 64 hex characters, got 63"},
		{"long", testKeyHex + "0", "challenge: key: want 64 hex characters, got 65"},
		{"two newlines", testKeyHex + "\n\n", "challenge: key: want 64 hex characters, got 65"},
		{"space", " " + testKeyHex[1:], "challenge: key: character 1 is not a hex digit"},
		{"letter", testKeyHex[:16] + "g" + testKeyHex[17:], "challenge: key: character 17 is not a hex digit"},
		{"zero", strings.Repeat("0", 64), "challenge: key: key is all zeros"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseKey([]byte(tc.data))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrBadKey) {
				t.Errorf("%v does not wrap ErrBadKey", err)
			}
			if err.Error() != tc.msg {
				t.Errorf("error %q, want %q", err, tc.msg)
			}
		})
	}
}

func TestReadKeyFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	k, err := ReadKeyFile(write("good.key", testKeyHex+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if k != testKey(t) {
		t.Error("read another key")
	}

	// Malformed files made from a real key: no message may show it.
	tests := []struct {
		name, data, reason string
	}{
		{"short.key", testKeyHex[:63] + "\n", "want 64 hex characters, got 63"},
		{"long.key", testKeyHex + testKeyHex, "want 64 hex characters, got 128"},
		{"bad.key", testKeyHex[:40] + "z" + testKeyHex[41:], "character 41 is not a hex digit"},
		{"huge.key", strings.Repeat(testKeyHex, 100), "want 64 hex characters, got more than 1024 bytes"},
		{"pem.key", "-----BEGIN KEY-----\n" + testKeyHex + "\n", "want 64 hex characters, got 84"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := write(tc.name, tc.data)
			_, err := ReadKeyFile(p)
			if err == nil {
				t.Fatal("no error")
			}
			want := "challenge: key file " + p + ": " + tc.reason
			if err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			if !errors.Is(err, ErrBadKey) {
				t.Errorf("%v does not wrap ErrBadKey", err)
			}
			var ke *KeyError
			if !errors.As(err, &ke) || ke.File != p {
				t.Errorf("error %v is not a *KeyError naming %s", err, p)
			}
			if hasHexRun(strings.ReplaceAll(err.Error(), p, ""), 8) {
				t.Errorf("error %q shows hex content", err)
			}
		})
	}
	_, err = ReadKeyFile(filepath.Join(dir, "missing.key"))
	if err == nil || !strings.Contains(err.Error(), "missing.key") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestKeyRedacted(t *testing.T) {
	k := testKey(t)
	type holder struct {
		Name string
		K    Key
		P    *Key
	}
	h := holder{"x", k, &k}
	for _, verb := range []string{"%v", "%s", "%+v", "%#v", "%x", "%X", "%d", "%q", "%T %v", "%10.3v"} {
		for _, arg := range []any{k, &k, h, &h, []Key{k}, map[string]Key{"k": k}} {
			out := fmt.Sprintf(verb, arg)
			if hasHexRun(out, 8) || strings.Contains(out, "[0 1 2 3") {
				t.Errorf("Sprintf(%q, %T) = %q shows the key", verb, arg, out)
			}
			if !strings.Contains(out, "challenge.Key(redacted)") && verb != "%T %v" {
				t.Errorf("Sprintf(%q, %T) = %q, want the redaction", verb, arg, out)
			}
		}
	}
	if got := fmt.Sprint(k); got != "challenge.Key(redacted)" {
		t.Errorf("Sprint = %q", got)
	}
	if got := fmt.Sprintf("%#v", k); got != "challenge.Key(redacted)" {
		t.Errorf("%%#v = %q", got)
	}
	if b, err := k.MarshalText(); err == nil || b != nil || !errors.Is(err, ErrKeyMarshal) {
		t.Errorf("MarshalText = %q, %v", b, err)
	}
	if b, err := json.Marshal(h); err == nil {
		t.Errorf("json.Marshal of a Key succeeded: %s", b)
	}
}

func TestCommitmentKnownAnswer(t *testing.T) {
	// Frozen: computed once from the documented layout (and checked with an
	// independent implementation); it must never change.
	const want = "822992e889ae22de49cc5279619bc27ac025d361afb93d1922f3b1d852bc7153"
	if got := Commitment(testKey(t)); got != want {
		t.Errorf("Commitment = %s, want %s", got, want)
	}
	if Commitment(otherKey(t)) == want {
		t.Error("another key has the same commitment")
	}
}

func FuzzParseKey(f *testing.F) {
	f.Add([]byte(testKeyHex))
	f.Add([]byte(testKeyHex + "\n"))
	f.Add([]byte(testKeyHex[:63]))
	f.Add([]byte(testKeyHex[:20] + "x" + testKeyHex[21:]))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseKey(data)
		if err != nil {
			if hasHexRun(err.Error(), 8) {
				t.Fatalf("error %q shows hex content", err)
			}
			if !errors.Is(err, ErrBadKey) {
				t.Fatalf("error %v does not wrap ErrBadKey", err)
			}
			return
		}
		again, err := ParseKey(k.KeyFile())
		if err != nil || again != k {
			t.Fatalf("KeyFile does not round-trip: %v", err)
		}
	})
}
