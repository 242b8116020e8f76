package main

import (
	"errors"
	"fmt"
	"io"

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
func (t *tool) check(name string) (string, error) {
	in, err := t.env.Open(name)
	if err != nil {
		// The message already names the file.
		return err.Error(), err
	}
	defer in.Close()
	r, err := format.NewReader(in, t.once...)
	if err != nil {
		return fmt.Sprintf("%s: DAMAGED: %v", in.Name, err), err
	}
	defer r.Close()
	for {
		_, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Sprintf("%s: DAMAGED: %v", in.Name, err), err
		}
	}
	st := r.Stats()
	if st.Trailers != st.Segments {
		return fmt.Sprintf("%s: DAMAGED: %v", in.Name, errUnfinished), cli.WithStatus(cli.ExitUsage, errUnfinished)
	}
	return fmt.Sprintf("%s: ok (%s, %s)", in.Name, plural(st.Records, "record"), plural(int64(st.Segments), "segment")), nil
}

// plural is "1 record" or "2 records".
func plural(n int64, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
