package main

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/streamtest"
)

// potsplit runs the tool in process on a file and returns its status
// and stderr.
func potsplit(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(append([]string{"potsplit"}, args...), bytes.NewReader(nil), &out, &errb)
	return code, out.String(), errb.String()
}

func TestSplitSigned(t *testing.T) {
	dir := t.TempDir()
	a := streamtest.SignKey(t, dir, "a.sign")
	b := streamtest.SignKey(t, dir, "b.sign")
	aPub, bPub := streamtest.PublicKey(t, a), streamtest.PublicKey(t, b)
	sp := streamtest.Spec{Records: 40, Kind: "outputs", Samples: 2, Set: "c0ffee", Seed: 3, Tokens: 8, Skip: -1}
	plainData := streamtest.Make(sp)
	plain := streamtest.File(t, dir, "plain.pot", plainData)
	signed := streamtest.File(t, dir, "signed.pot", streamtest.Sign(t, plainData, a))
	want, _, err := streamtest.Read(plainData)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, input, sign string
		pub               ed25519.PublicKey // the shards' signer; nil: unsigned
		note              bool              // the note that the shards are unsigned
	}{
		{"signed input, re-signed by another key", signed, b, bPub, false},
		{"signed input, signed again by its key", signed, a, aPub, false},
		{"unsigned input, signed", plain, a, aPub, false},
		{"signed input, unsigned shards", signed, "", nil, true},
		{"unsigned input, unsigned shards", plain, "", nil, false},
	} {
		for _, mode := range [][]string{{"-n", "3"}, {"--records", "15"}} {
			t.Run(tc.name+"/"+mode[0], func(t *testing.T) {
				out := t.TempDir()
				args := append(mode, "-o", filepath.Join(out, "s-{}.pot"))
				if tc.sign != "" {
					args = append(args, "--sign", tc.sign)
				}
				code, stdout, stderr := potsplit(append(args, tc.input)...)
				if code != 0 || stdout != "" {
					t.Fatalf("exit %d, %q, %q", code, stdout, stderr)
				}
				note := "potsplit: note: " + tc.input + " is signed (by " + format.KeyID(aPub) + ") but the output, shards " + filepath.Join(out, "s-{}.pot") + ", is unsigned: pass --sign KEY to sign it\n"
				if tc.note && stderr != note || !tc.note && stderr != "" {
					t.Errorf("stderr %q, want the note %v", stderr, tc.note)
				}
				shards, _ := filepath.Glob(filepath.Join(out, "s-*.pot"))
				if len(shards) != 3 {
					t.Fatalf("%d shards: %v", len(shards), shards)
				}
				var joined []byte
				for _, s := range shards {
					data, err := os.ReadFile(s)
					if err != nil {
						t.Fatal(err)
					}
					st, err := format.Verify(bytes.NewReader(data), []ed25519.PublicKey{tc.pub})
					switch {
					case tc.pub != nil && err != nil:
						t.Errorf("%s: %v", s, err)
					case tc.pub == nil && (err == nil || st.Signed != 0):
						t.Errorf("%s: %d signed segments (%v), want none", s, st.Signed, err)
					}
					for _, k := range []string{a, b} {
						streamtest.NoPrivateKey(t, k, s, data)
					}
					joined = append(joined, data...)
				}
				got, _, err := streamtest.Read(joined)
				if err != nil {
					t.Fatal(err)
				}
				if g, w := strings.Join(streamtest.Canonical(got), "\n"), strings.Join(streamtest.Canonical(want), "\n"); g != w {
					t.Error("the shards do not hold the input's records")
				}
			})
		}
	}
}

func TestSplitSignErrors(t *testing.T) {
	dir := t.TempDir()
	a := streamtest.SignKey(t, dir, "a.sign")
	if err := os.Chmod(a, 0o644); err != nil {
		t.Fatal(err)
	}
	in := streamtest.File(t, dir, "in.pot", streamtest.Make(streamtest.DefaultSpec()))
	for _, tc := range []struct{ name, key, want string }{
		{"too open", a, "potsplit: --sign " + a + ": permissions 0644 are too open"},
		{"public half", a + ".pub", "potsplit: --sign " + a + ".pub: line 1: a public key"},
		{"missing", filepath.Join(dir, "nope"), "potsplit: --sign " + filepath.Join(dir, "nope") + ": no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			code, stdout, stderr := potsplit("-n", "2", "--sign", tc.key, "-o", filepath.Join(out, "s-{}.pot"), in)
			if code != 2 || stdout != "" || !strings.HasPrefix(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, %q, %q; want exit 2 and %q", code, stdout, stderr, tc.want)
			}
			if names := listDir(t, out); len(names) != 0 {
				t.Errorf("left %v", names)
			}
			streamtest.NoPrivateKey(t, a, "stderr", []byte(stderr))
		})
	}
}
