package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
)

// errUnfinished is what --verify says of a stream whose reader stopped
// without error but not every segment had a verified trailer; the format's
// reader should never allow it, and verify does not take that on trust.
var errUnfinished = errors.New("not every segment has a verified trailer")

// verify reads one file to its end and prints one line: ok or DAMAGED. The
// verdict goes to stdout, as the data this mode produces; the exit status
// collects the failures.
func (t *tool) verify(name string) error {
	line, err := t.check(name)
	if errors.Is(err, cli.ErrInterrupted) {
		return err // no verdict on a stream not read to its end
	}
	if _, werr := fmt.Fprintln(t.out, line); werr != nil {
		return writeFailed(werr)
	}
	if err := t.out.Flush(); err != nil {
		return writeFailed(err)
	}
	if err != nil {
		t.fail(err)
	}
	return nil
}

// check returns the verdict on one file and the error behind a bad one.
// Every signature present is checked; with --pubkey every segment must
// carry one by a trusted key.
func (t *tool) check(name string) (string, error) {
	in, err := t.env.Open(name)
	if err != nil {
		// The message already names the file.
		return err.Error(), err
	}
	defer in.Close()
	var signers cli.Signers
	opts := append(t.once[:len(t.once):len(t.once)], signers.Option())
	if t.trusted != nil {
		opts = append(opts, format.RequireSigners(t.trusted...))
	}
	r, err := format.NewReader(in, opts...)
	if err != nil {
		return fmt.Sprintf("%s: DAMAGED: %v", in.Name, err), err
	}
	defer r.Close()
	for n := 0; ; n++ {
		if n%cli.CheckEvery == 0 {
			if err := cli.Interrupted(t.ctx); err != nil {
				return "", streamError(in, fmt.Errorf("%w after %d records", err, n))
			}
		}
		_, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Sprintf("%s: %s: %v", in.Name, verdictOf(err), err), err
		}
	}
	st := r.Stats()
	if st.Trailers != st.Segments {
		return fmt.Sprintf("%s: DAMAGED: %v", in.Name, errUnfinished), cli.WithStatus(cli.ExitUsage, errUnfinished)
	}
	if t.trusted != nil && st.Signed != st.Segments {
		// The reader cannot end cleanly otherwise; verify does not take
		// that on trust either.
		err := cli.BadInputf("%d of %d segments signed by a trusted key", st.Signed, st.Segments)
		return fmt.Sprintf("%s: UNTRUSTED: %v", in.Name, err), err
	}
	return fmt.Sprintf("%s: ok (%s, %s%s)", in.Name, plural(st.Records, "record"), plural(int64(st.Segments), "segment"), signedBy(st, signers.IDs)), nil
}

// verdictOf is the word for a stream that fails: UNTRUSTED when it is
// intact but not signed by a key given with --pubkey, DAMAGED otherwise
// (a signature that does not verify included: the segment is not what
// was signed).
func verdictOf(err error) string {
	if errors.Is(err, format.ErrUntrusted) {
		return "UNTRUSTED"
	}
	return "DAMAGED"
}

// signedBy says which keys signed the stream's segments, "" when none did.
func signedBy(st format.Stats, ids []string) string {
	switch {
	case st.Signed == 0:
		return ""
	case st.Signed == st.Segments:
		return ", signed by " + strings.Join(ids, ", ")
	}
	return fmt.Sprintf(", %d signed by %s", st.Signed, strings.Join(ids, ", "))
}

// plural is "1 record" or "2 records".
func plural(n int64, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// trustedKeys loads the keys --pubkey names, for --verify; nil when none
// is named.
func trustedKeys(c *ucli.Context) ([]ed25519.PublicKey, error) {
	files := c.StringSlice("pubkey")
	if len(files) == 0 {
		return nil, nil
	}
	if !c.Bool("verify") {
		return nil, cli.Usagef("--pubkey goes with --verify")
	}
	return cli.LoadTrusted("pubkey", files)
}
