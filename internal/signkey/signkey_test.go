package signkey

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
)

// seeded is a reproducible source of key material.
func seeded(name string) io.Reader {
	s := sha256.Sum256([]byte(name))
	return bytes.NewReader(s[:])
}

func TestGenerateAndLoad(t *testing.T) {
	name := filepath.Join(t.TempDir(), "audit.sign")
	pub, err := Generate(name, seeded("a"))
	if err != nil {
		t.Fatal(err)
	}
	for file, mode := range map[string]os.FileMode{name: 0o600, PublicFile(name): 0o644} {
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %04o, want %04o", file, fi.Mode().Perm(), mode)
		}
	}
	k, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	if !k.PublicKey().Equal(pub) {
		t.Fatal("loaded key's public half differs from the one generated")
	}
	pubs, err := LoadPublic(PublicFile(name))
	if err != nil {
		t.Fatal(err)
	}
	if len(pubs) != 1 || !pubs[0].Equal(pub) {
		t.Fatalf("public file holds %x, want %x", pubs, pub)
	}
	// The pair signs a stream that verifies under the public file's key.
	var stream bytes.Buffer
	w, err := format.NewWriter(&stream, format.Header{Kind: format.KindChallenges}, format.SignWith(k))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&format.Record{ID: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := format.Verify(&stream, pubs); err != nil {
		t.Fatal(err)
	}
	// Nothing but the two files is left in the folder.
	ents, err := os.ReadDir(filepath.Dir(name))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 2 {
		t.Errorf("%d files in the folder, want 2", len(ents))
	}
}

func TestGenerateRefusesToReplace(t *testing.T) {
	for _, existing := range []string{"", ".pub"} {
		t.Run("existing"+existing, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), "k")
			if err := os.WriteFile(name+existing, []byte("keep me\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Generate(name, seeded("b"))
			if !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), "exists") {
				t.Fatalf("got %v, want a refusal", err)
			}
			if b, _ := os.ReadFile(name + existing); string(b) != "keep me\n" {
				t.Fatal("the existing file was changed")
			}
			ents, _ := os.ReadDir(filepath.Dir(name))
			if len(ents) != 1 {
				t.Errorf("%d files in the folder, want only the existing one", len(ents))
			}
		})
	}
}

func TestLoadRefusesOpenPermissions(t *testing.T) {
	name := filepath.Join(t.TempDir(), "k")
	if _, err := Generate(name, seeded("c")); err != nil {
		t.Fatal(err)
	}
	for _, perm := range []os.FileMode{0o640, 0o604, 0o644, 0o660, 0o700 | 0o007} {
		if err := os.Chmod(name, perm); err != nil {
			t.Fatal(err)
		}
		_, err := Load(name)
		if !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), fmt.Sprintf("permissions %04o are too open", perm)) || !strings.Contains(err.Error(), "chmod 600 "+name) {
			t.Errorf("mode %04o: got %v, want a refusal that says why and how to fix it", perm, err)
		}
	}
	for _, perm := range []os.FileMode{0o600, 0o400} {
		if err := os.Chmod(name, perm); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(name); err != nil {
			t.Errorf("mode %04o: %v", perm, err)
		}
	}
}

// secretForms are the ways a careless program might print key material.
func secretForms(seed []byte) []string {
	priv := ed25519.NewKeyFromSeed(seed)
	var out []string
	for _, b := range [][]byte{seed, priv} {
		out = append(out, string(b), hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
			base64.StdEncoding.EncodeToString(b), fmt.Sprint([]byte(b)))
	}
	return out
}

func TestPrivateKeyNeverPrinted(t *testing.T) {
	name := filepath.Join(t.TempDir(), "k")
	seedSrc := sha256.Sum256([]byte("d"))
	if _, err := Generate(name, bytes.NewReader(seedSrc[:])); err != nil {
		t.Fatal(err)
	}
	k, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	forms := secretForms(seedSrc[:])
	check := func(what, s string) {
		t.Helper()
		for _, f := range forms {
			if strings.Contains(s, f) {
				t.Errorf("%s shows the private key: %q", what, s)
			}
		}
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		s := fmt.Sprintf(verb, k)
		check(verb, s)
		if !strings.Contains(s, format.KeyID(k.PublicKey())) {
			t.Errorf("%s gives %q, want the public key's id", verb, s)
		}
	}
	if b, err := json.Marshal(k); err == nil {
		t.Errorf("json encoded the key: %s", b)
	}
	pub, _ := os.ReadFile(PublicFile(name))
	check("the public file", string(pub))

	// Errors about a private file never quote it, whatever is wrong.
	data, _ := os.ReadFile(name)
	line := strings.TrimSuffix(string(data), "\n")
	fields := strings.Fields(line)
	for what, content := range map[string]string{
		"a bad digit":       fields[0] + " " + fields[1][:10] + "g" + fields[1][11:] + " " + fields[2] + "\n",
		"a short seed":      fields[0] + " " + fields[1][:62] + " " + fields[2] + "\n",
		"another public":    fields[0] + " " + fields[1] + " " + strings.Repeat("0", 64) + "\n",
		"no tag":            fields[1] + "\n",
		"two lines":         line + "\n" + line + "\n",
		"given as public":   line + "\n",
		"tag only, no seed": fields[0] + "\n",
	} {
		bad := filepath.Join(t.TempDir(), "bad")
		if err := os.WriteFile(bad, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		var err error
		if what == "given as public" {
			_, err = LoadPublic(bad)
		} else {
			_, err = Load(bad)
		}
		if !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s: got %v, want a bad key file error naming the file", what, err)
			continue
		}
		check(what, err.Error())
		for _, f := range fields[1:] {
			if len(f) > 8 && strings.Contains(err.Error(), f[:8]) {
				t.Errorf("%s: the error quotes the file: %v", what, err)
			}
		}
	}
}

func TestPublicFiles(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	var want []ed25519.PublicKey
	for _, n := range []string{"a", "b", "c"} {
		pub, err := Generate(filepath.Join(dir, n), seeded(n))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(PublicFile(filepath.Join(dir, n)))
		lines = append(lines, string(b))
		want = append(want, pub)
	}
	// Concatenated .pub files, comments and blank lines: a trust set.
	ring := "# trusted signers\n" + lines[0] + "\n" + strings.TrimSuffix(lines[1], "\n") + " build host b\r\n   \n" + lines[2]
	got, err := ParsePublic("ring", []byte(ring))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d keys, want 3", len(got))
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("key %d differs", i)
		}
	}
	for _, c := range []struct{ name, data, err string }{
		{"empty", "", "ring: no public key in the file"},
		{"comments only", "# nothing\n\n", "ring: no public key in the file"},
		{"other tag", "ssh-ed25519 AAAA\n", "ring: line 1: not a pot public key"},
		{"short", lines[0][:40] + "\n", "ring: line 1: the key is not 64 hex digits"},
		{"bad line later", lines[0] + "pot-ed25519 zz\n", "ring: line 2: the key is not 64 hex digits"},
		{"tag alone", "pot-ed25519\n", "ring: line 1: not a pot public key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePublic("ring", []byte(c.data))
			if !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("got %v, want %q", err, c.err)
			}
		})
	}
	// A .pub file is 0644, which Load refuses first; as 0600 it is named
	// for what it is.
	pubFile := PublicFile(filepath.Join(dir, "a"))
	if err := os.Chmod(pubFile, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(pubFile); !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), "a public key; signing needs the private key file") {
		t.Fatalf("a public key given to Load: got %v", err)
	}
}

func TestZeroKey(t *testing.T) {
	var k Key
	if _, err := k.Sign(nil, []byte("m"), nil); err == nil {
		t.Fatal("the zero Key signed")
	}
	if s := fmt.Sprint(k); s != "signkey.Key(none)" {
		t.Fatalf("zero key prints %q", s)
	}
}
