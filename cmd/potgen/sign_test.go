package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/signkey"
	"github.com/pot-audit/pot/internal/streamtest"
)

func TestSignkey(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "archive.sign")
	r := potgen(t, "signkey", "-o", name)
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("signkey: %+v", r)
	}
	for file, mode := range map[string]os.FileMode{name: 0o600, name + ".pub": 0o644} {
		st, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", file, st.Mode().Perm(), mode)
		}
	}
	pubs, err := signkey.LoadPublic(name + ".pub")
	if err != nil || len(pubs) != 1 {
		t.Fatalf("the public key file: %v, %v", pubs, err)
	}
	if !streamtest.PublicKey(t, name).Equal(pubs[0]) {
		t.Fatal("the public key file does not hold the private key's public half")
	}
	want := "potgen: wrote " + name + " (private: keep it secret) and " + name + ".pub (public key " + format.KeyID(pubs[0]) + ": publish it)\n"
	if r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	streamtest.NoPrivateKey(t, name, "stderr", []byte(r.stderr))
	before, _ := os.ReadFile(name)

	other := filepath.Join(dir, "other.sign")
	os.WriteFile(other+".pub", []byte("x\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"exists", []string{"signkey", "-o", name}, "potgen: " + name + ": exists; remove it first or choose another name\n"},
		{"its public half exists", []string{"signkey", "-o", other}, "potgen: " + other + ".pub: exists; remove it first or choose another name\n"},
		{"no name", []string{"signkey"}, "potgen: signkey: -o NAME is required: the private key goes to NAME and the public key to NAME.pub\n"},
		{"standard output", []string{"signkey", "-o", "-"}, "potgen: signkey: -o -: a private signing key is never written to standard output; name a file\n"},
		{"an argument", []string{"signkey", "-o", filepath.Join(dir, "x"), "y"}, "potgen: signkey takes no arguments (the key file is -o NAME)\n"},
		{"missing folder", []string{"signkey", "-o", filepath.Join(dir, "no", "k")}, "no such file or directory\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := potgen(t, tc.args...)
			if r.code != 2 || r.stdout != "" || !strings.HasSuffix(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("%+v, want exit 2 and %q", r, tc.want)
			}
		})
	}
	if after, _ := os.ReadFile(name); !bytes.Equal(before, after) {
		t.Error("a refused signkey changed the existing key")
	}
	if _, err := os.Stat(other); err == nil {
		t.Error("a refused signkey left a private key without its public half")
	}
	if _, err := os.Stat("-"); err == nil {
		t.Error("signkey -o - wrote a file called -")
	}
}

// verifySigned checks that the stream in path verifies with every segment
// signed by pub, and that no piece of the private key is in it.
func verifySigned(t *testing.T, path, key string, pub ed25519.PublicKey) format.Stats {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := format.Verify(f, []ed25519.PublicKey{pub}, format.AllowMixed())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if st.Signed != st.Segments || st.Segments == 0 {
		t.Fatalf("%s: %d of %d segments signed", path, st.Signed, st.Segments)
	}
	data, _ := os.ReadFile(path)
	streamtest.NoPrivateKey(t, key, path, data)
	return st
}

func TestSignedOutputs(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	sign := streamtest.SignKey(t, dir, "a.sign")
	pub := streamtest.PublicKey(t, sign)
	gen := []string{"--model", "synth:1", "--key", key, "-n", "12", "--max-tokens", "6"}

	plain := filepath.Join(dir, "plain.pot")
	if r := potgen(t, append(gen, "-o", plain)...); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	out := filepath.Join(dir, "signed.pot")
	r := potgen(t, append(gen, "--sign", sign, "-o", out)...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("%+v", r)
	}
	verifySigned(t, out, sign, pub)
	_, want := readFile(t, plain)
	_, got := readFile(t, out)
	sameOutputs(t, want, got)

	// Standard output, and a challenge stream.
	r = potgen(t, append(gen, "--sign", sign)...)
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	verifySigned(t, streamtest.File(t, dir, "stdout.pot", []byte(r.stdout)), sign, pub)
	ch := filepath.Join(dir, "ch.pot")
	if r := potgen(t, "challenges", "--key", key, "-n", "12", "--sign", sign, "-o", ch); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	verifySigned(t, ch, sign, pub)
	// Its shards' answers are signed too.
	fromCh := filepath.Join(dir, "from-ch.pot")
	if r := potgen(t, "--model", "synth:1", "--challenges", ch, "--max-tokens", "6", "--sign", sign, "-o", fromCh); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	verifySigned(t, fromCh, sign, pub)
}

func TestSignFlagErrors(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	good := streamtest.SignKey(t, dir, "good.sign")
	open := streamtest.SignKey(t, dir, "open.sign")
	if err := os.Chmod(open, 0o640); err != nil {
		t.Fatal(err)
	}
	damaged := filepath.Join(dir, "damaged.sign")
	data, _ := os.ReadFile(good)
	// Another seed beside the public key: the file no longer agrees
	// with itself. One hex digit of the seed changes, whatever it was.
	bad := append([]byte(nil), data...)
	if bad[20] == '0' {
		bad[20] = '1'
	} else {
		bad[20] = '0'
	}
	if err := os.WriteFile(damaged, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, want string
	}{
		{"missing", filepath.Join(dir, "nope.sign"), "--sign " + filepath.Join(dir, "nope.sign") + ": no such file or directory"},
		{"others may read it", open, "--sign " + open + ": permissions 0640 are too open: a signing key must be readable by its owner only (chmod 600 " + open + ")"},
		{"the public half", good + ".pub", "a public key; signing needs the private key file it was made with"},
		{"damaged", damaged, "--sign " + damaged + ": line 1: the seed does not give the public key written beside it: the file is damaged"},
		{"not a key", key, "not a pot signing key"},
	} {
		for _, cmd := range [][]string{
			{"--model", "synth:1", "--key", key, "-n", "3"},
			{"challenges", "--key", key, "-n", "3"},
		} {
			t.Run(tc.name+"/"+cmd[0], func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "out.pot")
				r := potgen(t, append(cmd, "--sign", tc.file, "-o", out)...)
				if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
					t.Errorf("%+v, want exit 2 and one line with %q", r, tc.want)
				}
				for _, f := range []string{out, out + ".partial"} {
					if _, err := os.Stat(f); err == nil {
						t.Errorf("%s made", f)
					}
				}
				for _, k := range []string{good, open} {
					streamtest.NoPrivateKey(t, k, "stderr", []byte(r.stderr))
				}
			})
		}
	}
}

func TestResumeSigned(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	a := streamtest.SignKey(t, dir, "a.sign")
	b := streamtest.SignKey(t, dir, "b.sign")
	aPub, bPub := streamtest.PublicKey(t, a), streamtest.PublicKey(t, b)
	gen := []string{"--model", "synth:3", "--key", key, "-n", "30", "--max-tokens", "12"}
	full := filepath.Join(dir, "full.pot")
	if r := potgen(t, append(gen, "--sign", a, "-o", full)...); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	_, want := readFile(t, full)

	t.Run("without --sign the signatures are dropped, and said so", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out.pot")
		copyFile(t, full, out)
		r := potgen(t, append(gen, "--resume", "-o", out)...)
		note := regexp.MustCompile(`^potgen: note: ` + regexp.QuoteMeta(out) + ` is signed \(by ` + format.KeyID(aPub) + `\) but the output, ` + regexp.QuoteMeta(out) + `, is unsigned: pass --sign KEY to sign it\npotgen: resuming .*: 30 records kept\n$`)
		if r.code != 0 || !note.MatchString(r.stderr) {
			t.Fatalf("%+v", r)
		}
		f, _ := os.Open(out)
		defer f.Close()
		if st, err := format.Verify(f, nil); err == nil || st.Signed != 0 {
			t.Errorf("the resumed output: %d segments signed, %v", st.Signed, err)
		}
		_, got := readFile(t, out)
		sameOutputs(t, want, got)
	})
	t.Run("with --sign the records kept are signed again", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out.pot")
		copyFile(t, full, out)
		r := potgen(t, append(gen, "--resume", "--sign", b, "-o", out)...)
		if r.code != 0 || strings.Contains(r.stderr, "note:") {
			t.Fatalf("%+v", r)
		}
		verifySigned(t, out, b, bPub)
		_, got := readFile(t, out)
		sameOutputs(t, want, got)
	})
	t.Run("interrupted and resumed, signed throughout", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out.pot")
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
		r := potgenEnv(t, cli.Env{Ctx: ctx}, append(gen, "--sign", a, "-o", out)...)
		cancel()
		if r.code == 0 {
			t.Skip("finished before the interruption")
		}
		r = potgen(t, append(gen, "--resume", "--sign", a, "-o", out)...)
		if r.code != 0 {
			t.Fatalf("resume: %+v", r)
		}
		verifySigned(t, out, a, aPub)
		_, got := readFile(t, out)
		sameOutputs(t, want, got)
	})
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
