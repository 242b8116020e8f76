package main

import (
	"fmt"
	"io"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
)

// records prints every record of one file as a JSON object a line, as the
// records are read: memory stays flat whatever the stream's length.
func (t *tool) records(name string) error {
	in, err := t.env.Open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	// Flush what is printed before waiting for more input, so that a
	// consumer downstream of a slow producer sees records as they come,
	// while a fast input still gets large writes.
	src := &flushBeforeRead{r: in, w: t.out}
	r, err := format.NewReader(src, t.once...)
	if err != nil {
		if src.err != nil {
			return writeFailed(src.err)
		}
		return streamError(in, err)
	}
	defer r.Close()
	var b []byte
	for n := 0; ; n++ {
		if n%cli.CheckEvery == 0 {
			if err := cli.Interrupted(t.ctx); err != nil {
				t.out.Flush()
				return streamError(in, fmt.Errorf("%w after %d records", err, n))
			}
		}
		rec, err := r.Read()
		if src.err != nil {
			return writeFailed(src.err)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if ferr := t.out.Flush(); ferr != nil {
				return writeFailed(ferr)
			}
			return streamError(in, err)
		}
		b = rec.AppendJSON(b[:0])
		if _, err := t.out.Write(b); err != nil {
			return writeFailed(err)
		}
	}
	if err := t.out.Flush(); err != nil {
		return writeFailed(err)
	}
	return nil
}

// flushBeforeRead flushes w each time more input is read from r. The
// first write error is kept and reading stops.
type flushBeforeRead struct {
	r   io.Reader
	w   interface{ Flush() error }
	err error
}

func (f *flushBeforeRead) Read(p []byte) (int, error) {
	if f.err == nil {
		f.err = f.w.Flush()
	}
	if f.err != nil {
		return 0, f.err
	}
	return f.r.Read(p)
}
