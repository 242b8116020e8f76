package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/signkey"
	"github.com/pot-audit/pot/internal/streamtest"
)

func TestVerifySignatures(t *testing.T) {
	dir := t.TempDir()
	a := streamtest.SignKey(t, dir, "a.sign")
	b := streamtest.SignKey(t, dir, "b.sign")
	aPub, bPub := signkey.PublicFile(a), signkey.PublicFile(b)
	aID, bID := format.KeyID(streamtest.PublicKey(t, a)), format.KeyID(streamtest.PublicKey(t, b))
	team := filepath.Join(dir, "team.pub")
	teamData := append(mustRead(t, aPub), mustRead(t, bPub)...)
	if err := os.WriteFile(team, append([]byte("# the archive's signers\n"), teamData...), 0o644); err != nil {
		t.Fatal(err)
	}

	sp := streamtest.DefaultSpec()
	sp.Records = 30
	plain := streamtest.Make(sp)
	sp2 := sp
	sp2.Start, sp2.Seed = 30, 2
	second := streamtest.Make(sp2)
	signedA := streamtest.Sign(t, plain, a)
	signedB2 := streamtest.Sign(t, second, b)
	files := map[string][]byte{
		"plain.pot":   plain,
		"signed.pot":  signedA,
		"two.pot":     append(append([]byte{}, signedA...), signedB2...),
		"partly.pot":  append(append([]byte{}, signedA...), second...),
		"reverse.pot": append(append([]byte{}, second...), signedA...),
	}
	path := map[string]string{}
	for name, data := range files {
		path[name] = streamtest.File(t, dir, name, data)
	}

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // a regexp the whole stdout must match
		stderr string // a substring of stderr; "" means empty
	}{
		{"unsigned, no key", []string{"--verify", path["plain.pot"]}, 0,
			`^\S+plain.pot: ok \(30 records, 1 segment\)\n$`, ""},
		{"signed, no key: signatures checked and named", []string{"--verify", path["signed.pot"]}, 0,
			`^\S+signed.pot: ok \(30 records, 1 segment, signed by ` + aID + `\)\n$`, ""},
		{"signed, trusted", []string{"--verify", "--pubkey", aPub, path["signed.pot"]}, 0,
			`^\S+signed.pot: ok \(30 records, 1 segment, signed by ` + aID + `\)\n$`, ""},
		{"two signers, both trusted by repeated flags", []string{"--verify", "--pubkey", aPub, "--pubkey", bPub, path["two.pot"]}, 0,
			`^\S+two.pot: ok \(60 records, 2 segments, signed by ` + aID + `, ` + bID + `\)\n$`, ""},
		{"two signers, both in a trust file", []string{"--verify", "--pubkey", team, path["two.pot"]}, 0,
			`^\S+two.pot: ok \(60 records, 2 segments, signed by ` + aID + `, ` + bID + `\)\n$`, ""},
		{"another key", []string{"--verify", "--pubkey", bPub, path["signed.pot"]}, 2,
			`^\S+signed.pot: UNTRUSTED: record 30 \(byte \d+, segment 0\): format: segment not signed by a trusted key: it is signed by ` + aID + `\n$`, ""},
		{"second segment by another key", []string{"--verify", "--pubkey", aPub, path["two.pot"]}, 2,
			`^\S+two.pot: UNTRUSTED: record 60 \(byte \d+, segment 1\): .*it is signed by ` + bID + `\n$`, ""},
		{"unsigned where a signature is required", []string{"--verify", "--pubkey", aPub, path["plain.pot"]}, 2,
			`^\S+plain.pot: UNTRUSTED: record 30 \(byte \d+, segment 0\): format: segment not signed by a trusted key: the segment is unsigned\n$`, ""},
		{"an unsigned segment after a signed one", []string{"--verify", "--pubkey", aPub, path["partly.pot"]}, 2,
			`^\S+partly.pot: UNTRUSTED: record 60 \(byte \d+, segment 1\): .*the segment is unsigned\n$`, ""},
		{"an unsigned segment first", []string{"--verify", "--pubkey", aPub, path["reverse.pot"]}, 2,
			`^\S+reverse.pot: UNTRUSTED: record 30 \(byte \d+, segment 0\): .*the segment is unsigned\n$`, ""},
		{"partly signed, no key", []string{"--verify", path["partly.pot"]}, 0,
			`^\S+partly.pot: ok \(60 records, 2 segments, 1 signed by ` + aID + `\)\n$`, ""},
		{"every file judged", []string{"--verify", "--pubkey", aPub, path["plain.pot"], path["signed.pot"]}, 2,
			`^\S+plain.pot: UNTRUSTED: .*\n\S+signed.pot: ok .*\n$`, ""},
		{"private key given as a public one", []string{"--verify", "--pubkey", a, path["signed.pot"]}, 2,
			`^$`, "potstat: --pubkey " + a + ": line 1: a private signing key: give its .pub file"},
		{"missing key file", []string{"--verify", "--pubkey", filepath.Join(dir, "nope.pub"), path["signed.pot"]}, 2,
			`^$`, "potstat: --pubkey " + filepath.Join(dir, "nope.pub") + ": no such file or directory"},
		{"a stream given as a key file", []string{"--verify", "--pubkey", path["plain.pot"], path["signed.pot"]}, 2,
			`^$`, "not a pot public key"},
		{"--pubkey without --verify", []string{"--pubkey", aPub, path["signed.pot"]}, 2,
			`^$`, "potstat: --pubkey goes with --verify"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := potstat(t, nil, tc.args...)
			want := streamtest.Outcome{Code: tc.code, Stdout: tc.stdout}
			if tc.stderr != "" {
				want.Stderr = regexp.QuoteMeta(tc.stderr)
			}
			want.Check(t, code, stdout, stderr, a, b)
		})
	}
}

// TestVerifySignedBitFlips flips bits of a signed stream of two segments,
// one at a time: each flip fails --verify --pubkey with exit status 2 and
// a line that names the segment the bit is in. Every bit of each
// segment's first and last bytes (the header frame's start, the signed
// trailer) is flipped, and one bit of every other byte, in turn; the
// format package's own test flips every bit through format.Verify.
func TestVerifySignedBitFlips(t *testing.T) {
	dir := t.TempDir()
	a := streamtest.SignKey(t, dir, "a.sign")
	pub := signkey.PublicFile(a)
	sp := streamtest.DefaultSpec()
	sp.Records, sp.Tokens = 2, 2
	first := streamtest.Sign(t, streamtest.Make(sp), a)
	sp.Start, sp.Seed = 2, 2
	second := streamtest.Sign(t, streamtest.Make(sp), a)
	data := append(append([]byte{}, first...), second...)
	if code, stdout, _ := potstat(t, data, "--verify", "--pubkey", pub, "-"); code != 0 {
		t.Fatalf("the intact stream: exit %d: %s", code, stdout)
	}
	segment := regexp.MustCompile(`segment (\d+)\)`)
	bad := make([]byte, len(data))
	edge := func(i int) bool {
		start, end := 0, len(first)
		if i >= len(first) {
			start, end = len(first), len(data)
		}
		return i-start < 64 || end-i <= 160
	}
	for bit := range 8 * len(data) {
		if !edge(bit/8) && bit%8 != (bit/8)%8 {
			continue
		}
		copy(bad, data)
		bad[bit/8] ^= 1 << (bit % 8)
		code, stdout, _ := potstat(t, bad, "--verify", "--pubkey", pub, "-")
		want := 0
		if bit/8 >= len(first) {
			want = 1
		}
		m := segment.FindStringSubmatch(stdout)
		if code != 2 || m == nil || m[1] != fmt.Sprint(want) || !regexp.MustCompile(`: (DAMAGED|UNTRUSTED): `).MatchString(stdout) {
			t.Fatalf("bit %d (byte %d of %d) flipped: exit %d, %q; want exit 2 naming segment %d", bit, bit/8, len(data), code, stdout, want)
		}
	}
}

// TestFrozenVerify: streams written before signing existed, and the frozen
// signed one, still verify without --pubkey; the signed one names its
// signers and its unsigned segment is counted.
func TestFrozenVerify(t *testing.T) {
	files, err := filepath.Glob("../../format/testdata/*.pot")
	if err != nil || len(files) < 6 {
		t.Fatalf("frozen streams: %v, %v", files, err)
	}
	for _, f := range files {
		code, stdout, stderr := potstat(t, nil, "--verify", f)
		if code != 0 || !strings.Contains(stdout, f+": ok (") || stderr != "" {
			t.Errorf("%s: exit %d, %q, %q", f, code, stdout, stderr)
		}
		signed := strings.Contains(stdout, "signed by")
		if want := strings.HasSuffix(f, "v3-signed.pot"); signed != want {
			t.Errorf("%s: %q: signed %v, want %v", f, stdout, signed, want)
		}
		if strings.HasSuffix(f, "v3-signed.pot") && !regexp.MustCompile(`3 segments, 2 signed by ed25519:[0-9a-f]{16}, ed25519:[0-9a-f]{16}\)`).MatchString(stdout) {
			t.Errorf("%s: %q", f, stdout)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
