package main

import (
	"fmt"
	"io"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/summary"
)

// summary prints the summary of one file.
func (t *tool) summary(name string, asJSON bool) error {
	in, err := t.env.Open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	c := summary.New(in.Name)
	var signers cli.Signers
	r, err := format.NewReader(in, append(t.once[:len(t.once):len(t.once)], signers.Option())...)
	var readErr error
	if err != nil {
		readErr = err
	} else {
		defer r.Close()
		c.Start(r.First())
		for n := int64(0); ; n++ {
			if n%cli.CheckEvery == 0 {
				if err := cli.Interrupted(t.ctx); err != nil {
					return streamError(in, fmt.Errorf("%w after %d records", err, n))
				}
			}
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				readErr = err
				break
			}
			h := r.Header()
			c.Add(n, &rec, r.Segment(), &h)
		}
	}
	var st format.Stats
	if r != nil {
		st = r.Stats()
	}
	s := c.Finish(st, readErr)
	s.Signers = signers.IDs
	if asJSON {
		if err := cli.NewJSON(t.out).Encode(s); err != nil {
			return writeFailed(err)
		}
	} else {
		if t.printed > 0 {
			t.out.WriteByte('\n')
		}
		if err := s.WriteText(t.out); err != nil {
			return writeFailed(err)
		}
	}
	t.printed++
	if err := t.out.Flush(); err != nil {
		return writeFailed(err)
	}
	if readErr != nil {
		return streamError(in, readErr)
	}
	return nil
}
