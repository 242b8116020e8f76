package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/compare"
)

// output is potgen's -o FILE: a cli.Output built in FILE.partial, which
// holds every flushed frame even if the process is killed so that --resume
// can continue it, and renamed to FILE only when complete. Standard output
// is written directly.
type output struct {
	*cli.Output
	name    string         // what the user named
	resumed bool           // the output holds an earlier run's records
	earlier *format.Header // the first header of the run resumed, if any
}

func createOutput(env *cli.Env, name, input string, resume bool) (*output, error) {
	out, err := env.Create(name, cli.OutputOptions{Binary: true, Inputs: []string{input}, Partial: true, Resume: resume})
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = "-"
	}
	return &output{Output: out, name: name}, nil
}

// resume copies the records of an earlier run (FILE.partial, or else FILE)
// into the output, segment by segment with their own headers, leaving out
// records that carry an error so that they are asked again. It marks what
// it kept in done.
func (o *output) resume(env *cli.Env, h format.Header, done map[compare.Key]bool) (int, error) {
	from := cli.PartialName(o.name)
	if _, err := os.Stat(from); err != nil {
		from = o.name
		if _, err := os.Stat(from); err != nil {
			return 0, nil // nothing to resume: a fresh run
		}
	}
	f, err := os.Open(from)
	if err != nil {
		return 0, cli.Usagef("%s: %v", from, errors.Unwrap(err))
	}
	defer f.Close()
	r, err := format.NewReader(f)
	if errors.Is(err, format.ErrEmpty) {
		return 0, nil // interrupted before its first record
	}
	if err != nil {
		return 0, cli.Usage(fmt.Errorf("--resume: %s: %w", from, err))
	}
	defer r.Close()
	first := r.First()
	o.earlier = &first
	check := h
	if check.Model.Fingerprint == "" {
		// A server's fingerprint is known only from its first answer;
		// the segment's header is checked again then.
		check.Model.Fingerprint = first.Model.Fingerprint
	}
	if why := format.Compatible(&first, &check); why != "" {
		return 0, cli.Usagef("--resume: %s was made with another %s; use the same flags, or another -o", from, why)
	}
	kept, err := o.copyKept(env, r, from, done)
	if err != nil {
		return 0, err
	}
	// From here on FILE.partial holds at least what the earlier run had.
	if err := o.Checkpoint(); err != nil {
		return 0, err
	}
	o.resumed = kept > 0
	return kept, nil
}

// copyKept copies the earlier run's successful records, each segment
// under its own header, up to the end of what was written: a missing
// trailer or a cut frame is what an interrupted run leaves, and anything
// else is worth a word.
func (o *output) copyKept(env *cli.Env, r *format.Reader, from string, done map[compare.Key]bool) (int, error) {
	kept := 0
	var w *format.Writer
	seg := -1
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !errors.Is(err, format.ErrNoTrailer) && !errors.Is(err, format.ErrTruncated) {
				fmt.Fprintln(env.Stderr, cli.Message("potgen", fmt.Errorf("--resume: %s: %w; the records after it will be made again", from, err)))
			}
			break
		}
		if rec.Err != "" || done[compare.KeyOf(&rec)] {
			continue
		}
		if r.Segment() != seg {
			if w != nil {
				if err := w.Close(); err != nil {
					return 0, err
				}
			}
			if w, err = format.NewWriter(o, r.Header()); err != nil {
				return 0, err
			}
			seg = r.Segment()
		}
		if err := w.Write(&rec); err != nil {
			return 0, err
		}
		done[compare.KeyOf(&rec)] = true
		kept++
	}
	if w != nil {
		if err := w.Close(); err != nil {
			return 0, err
		}
	}
	return kept, nil
}
