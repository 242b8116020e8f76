package main

import (
	"bytes"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/signkey"
	"github.com/pot-audit/pot/internal/streamtest"
)

// readCounter counts the bytes read from it.
type readCounter struct {
	r io.Reader
	n int
}

func (c *readCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestSignedComparisons(t *testing.T) {
	dir := t.TempDir()
	refKey := streamtest.SignKey(t, dir, "archive.sign")
	candKey := streamtest.SignKey(t, dir, "worker.sign")
	otherKey := streamtest.SignKey(t, dir, "mallory.sign")
	refPub, candPub, otherPub := signkey.PublicFile(refKey), signkey.PublicFile(candKey), signkey.PublicFile(otherKey)
	otherID := format.KeyID(streamtest.PublicKey(t, otherKey))

	h := streamtest.Header("set1", "a", "v1")
	hb := streamtest.Header("set1", "b", "v1")
	refData := encode(t, h, streamtest.Records(300, streamtest.Same))
	ref := streamtest.File(t, dir, "ref.pot", streamtest.Sign(t, refData, refKey))
	unsignedRef := streamtest.File(t, dir, "unsigned-ref.pot", refData)
	forgedRef := streamtest.File(t, dir, "forged-ref.pot", streamtest.Sign(t, refData, otherKey))
	candData := encode(t, hb, streamtest.Records(300, streamtest.Same))
	candSigned := streamtest.Sign(t, candData, candKey)
	cand := streamtest.File(t, dir, "cand.pot", candSigned)
	unsignedCand := streamtest.File(t, dir, "unsigned-cand.pot", candData)
	// A candidate that is DIFFERENT within a few records, signed, and then
	// an unsigned segment the test never needs: required signatures are
	// still checked to the end.
	var tail []format.Record
	for i := 200; i < 300; i++ {
		tail = append(tail, streamtest.Record(i, 0, 20, 8))
	}
	diffHead := streamtest.Sign(t, encode(t, hb, streamtest.Records(200, func(int) int32 { return 20 })), candKey)
	diffTail := append(append([]byte{}, diffHead...), encode(t, hb, tail)...)
	diffTailFile := streamtest.File(t, dir, "diff-tail.pot", diffTail)
	same := `^SAME n=\d+ .*\n$`

	tests := []struct {
		name   string
		args   []string
		stdin  []byte
		code   int
		stdout string // a regexp stdout must match
		stderr string // a regexp stderr must match, one line; "" means none
	}{
		{"trusted reference", []string{"--ref-pubkey", refPub, ref, cand}, nil, 0, same, ""},
		{"any of the keys given", []string{"--ref-pubkey", otherPub, "--ref-pubkey", refPub, ref, cand}, nil, 0, same, ""},
		{"no key: signatures not required", []string{unsignedRef, unsignedCand}, nil, 0, same, ""},
		{"reference by another key", []string{"--ref-pubkey", refPub, forgedRef, cand}, nil, 2, `^$`,
			`^potcmp: reference ` + regexp.QuoteMeta(forgedRef) + `: record 300 \(byte \d+, segment 0\): format: segment not signed by a trusted key: it is signed by ` + otherID + `( \(a reference must be whole\))?\n$`},
		{"unsigned reference", []string{"--ref-pubkey", refPub, unsignedRef, cand}, nil, 2, `^$`,
			`^potcmp: reference ` + regexp.QuoteMeta(unsignedRef) + `: record 300 \(byte \d+, segment 0\): format: segment not signed by a trusted key: the segment is unsigned( \(a reference must be whole\))?\n$`},
		{"unsigned reference, candidate on stdin", []string{"--ref-pubkey", refPub, unsignedRef, "-"}, candData, 2, `^$`,
			`^potcmp: reference ` + regexp.QuoteMeta(unsignedRef) + `: record 300 \(byte \d+, segment 0\): format: segment not signed by a trusted key: the segment is unsigned\n$`},
		{"unsigned reference on stdin", []string{"--ref-pubkey", refPub, "-", cand}, refData, 2, `^$`,
			`^potcmp: reference <stdin>: .*segment 0\): format: segment not signed by a trusted key: the segment is unsigned.*\n$`},
		{"trusted reference on stdin", []string{"--ref-pubkey", refPub, "-", cand}, streamtest.Sign(t, refData, refKey), 0, same, ""},
		{"the reference key does not vouch for candidates", []string{"--ref-pubkey", refPub, "--cand-pubkey", refPub, ref, cand}, nil, 2, `^$`,
			`^potcmp: ` + regexp.QuoteMeta(cand) + `: record 300 \(byte \d+, segment 0\): .*it is signed by ed25519:`},
		{"trusted candidate", []string{"--ref-pubkey", refPub, "--cand-pubkey", candPub, ref, cand}, nil, 0, same, ""},
		{"trusted candidate on stdin", []string{"--cand-pubkey", candPub, ref, "-"}, candSigned, 0, same, ""},
		{"unsigned candidate", []string{"--cand-pubkey", candPub, ref, unsignedCand}, nil, 2, `^$`,
			`^potcmp: ` + regexp.QuoteMeta(unsignedCand) + `: record 300 \(byte \d+, segment 0\): .*the segment is unsigned\n$`},
		{"decided, then an unsigned segment", []string{"--cand-pubkey", candPub, ref, diffTailFile}, nil, 2, `^$`,
			`^potcmp: ` + regexp.QuoteMeta(diffTailFile) + `: record 300 \(byte \d+, segment 1\): .*the segment is unsigned\n$`},
		{"decided, then an unsigned segment, on stdin", []string{"--cand-pubkey", candPub, ref, "-"}, diffTail, 2, `^$`,
			`^potcmp: <stdin>: record 300 \(byte \d+, segment 1\): .*the segment is unsigned\n$`},
		{"decided, then an unsigned segment, not required", []string{ref, diffTailFile}, nil, 1, `^DIFFERENT n=\d+ `, ""},
		{"cut before the trailer", []string{"--cand-pubkey", candPub, ref, "-"}, candSigned[:len(candSigned)-40], 2, `^$`,
			`^potcmp: <stdin>: record \d+ \(byte \d+, segment 0\): format: `},
		{"one of several candidates unsigned", []string{"--cand-pubkey", candPub, ref, cand, unsignedCand}, nil, 2, same,
			`^potcmp: ` + regexp.QuoteMeta(unsignedCand) + `: .*the segment is unsigned\n$`},
		{"refs: one reference unsigned", []string{"--ref-pubkey", refPub, "--refs", ref, unsignedRef, cand}, nil, 2, `^$`,
			`^potcmp: reference ` + regexp.QuoteMeta(unsignedRef) + `: .*the segment is unsigned( \(a reference must be whole\))?\n$`},
		{"refs: trusted", []string{"--ref-pubkey", refPub, "--refs", ref, cand}, nil, 0, `^SAME .*\nmatch: `, ""},
		{"calibrate: trusted", []string{"--ref-pubkey", refPub, "--cand-pubkey", candPub, "--calibrate", ref, cand}, nil, 0, `^calibration n=300 `,
			`^potcmp: note: calibrating across two models[^\n]*\npotcmp: the suggested tolerance is for score tv `},
		{"calibrate: unsigned", []string{"--ref-pubkey", refPub, "--calibrate", unsignedRef, "-"}, candData, 2, `^$`, `^potcmp: reference .*the segment is unsigned\n$`},
		{"a private key as the trusted one", []string{"--ref-pubkey", refKey, ref, cand}, nil, 2, `^$`,
			`^potcmp: --ref-pubkey ` + regexp.QuoteMeta(refKey) + `: line 1: a private signing key: give its .pub file, and keep this one to yourself\n$`},
		{"missing key file", []string{"--cand-pubkey", filepath.Join(dir, "nope"), ref, cand}, nil, 2, `^$`,
			`^potcmp: --cand-pubkey \S+nope: no such file or directory\n$`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdin io.Reader
			if tc.stdin != nil {
				stdin = bytes.NewReader(tc.stdin)
			}
			code, stdout, stderr := potcmp(t, stdin, tc.args...)
			// A calibration says, on a line of its own, which score its
			// suggested tolerance is for.
			lines := 1
			if strings.HasPrefix(tc.name, "calibrate: trusted") {
				lines = 2
			}
			streamtest.Outcome{Code: tc.code, Stdout: tc.stdout, Stderr: tc.stderr, Lines: lines}.Check(t, code, stdout, stderr, refKey, candKey, otherKey)
		})
	}

	// A reference file that no trusted key signed is refused before a byte
	// of the candidate is read: no model is queried for it.
	for _, args := range [][]string{
		{"--ref-pubkey", refPub, unsignedRef, "-"},
		{"--ref-pubkey", refPub, "--refs", ref, forgedRef, "-"},
	} {
		in := &readCounter{r: bytes.NewReader(candData)}
		if code, _, _ := potcmp(t, in, args...); code != 2 || in.n != 0 {
			t.Errorf("%v: exit %d after reading %d bytes of the candidate", args, code, in.n)
		}
	}
}
