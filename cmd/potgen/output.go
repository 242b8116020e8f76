package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/compare"
)

// output is potgen's -o FILE: the stream is built in FILE.partial, which
// holds every flushed frame even if the process is killed, so --resume can
// continue it; it is renamed to FILE only when complete. Standard output is
// written directly.
type output struct {
	name    string // what the user named
	partial string // FILE.partial
	*bufio.Writer
	file    *os.File
	path    string // where file is now
	stdout  bool
	closed  bool
	fresh   bool           // the file was made by this run, so holds nothing older
	resumed bool           // the output holds an earlier run's records
	earlier *format.Header // the first header of the run resumed, if any
}

func createOutput(env *cli.Env, name, input string, resume bool) (*output, error) {
	if name == "-" || name == "" {
		if cli.IsTerminal(env.Stdout) {
			return nil, cli.Usagef("refusing to write a binary stream to a terminal (use -o FILE or a pipe)")
		}
		return &output{name: "-", Writer: bufio.NewWriterSize(env.Stdout, 64<<10), stdout: true}, nil
	}
	if st, err := os.Stat(name); err == nil {
		if st.IsDir() {
			return nil, cli.Usagef("%s: is a directory", name)
		}
		if ist, err := os.Stat(input); input != "" && input != "-" && err == nil && os.SameFile(st, ist) {
			return nil, cli.Usagef("%s: output is also an input", name)
		}
	}
	partial := name + ".partial"
	var f *os.File
	var err error
	if resume {
		// The earlier run's records are copied to a temporary file that
		// then replaces FILE.partial in one rename.
		f, err = os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	} else {
		f, err = os.OpenFile(partial, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			return nil, cli.Usagef("%s exists: an interrupted run; continue it with --resume or remove it", partial)
		}
	}
	if err != nil {
		return nil, cli.Usagef("%s: %v", name, errors.Unwrap(err))
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &output{name: name, partial: partial, Writer: bufio.NewWriterSize(f, 64<<10), file: f, path: f.Name(), fresh: !resume}, nil
}

// resume copies the records of an earlier run (FILE.partial, or else FILE)
// into the output, segment by segment with their own headers, leaving out
// records that carry an error so that they are asked again. It marks what
// it kept in done.
func (o *output) resume(env *cli.Env, h format.Header, done map[compare.Key]bool) (int, error) {
	from := o.partial
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
	kept := 0
	var w *format.Writer
	seg := -1
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// Keep everything before the end of what was written, and
			// redo the rest. A missing trailer or a cut frame is what an
			// interrupted run leaves; anything else is worth a word.
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
	// From here on FILE.partial holds at least what the earlier run had.
	if err := o.Flush(); err != nil {
		return 0, err
	}
	if err := o.file.Sync(); err != nil {
		return 0, err
	}
	if err := os.Rename(o.path, o.partial); err != nil {
		return 0, err
	}
	o.path = o.partial
	o.resumed = kept > 0
	return kept, nil
}

// keep closes an unfinished output as FILE.partial and returns its name,
// or "" for standard output.
func (o *output) keep() string {
	if o.stdout {
		o.Writer.Flush()
		return ""
	}
	if o.closed {
		return ""
	}
	o.closed = true
	o.Writer.Flush()
	o.file.Close()
	if o.path != o.partial {
		if err := os.Rename(o.path, o.partial); err != nil {
			os.Remove(o.path)
			return ""
		}
	}
	return o.partial
}

// commit puts a complete output in place.
func (o *output) commit() error {
	if o.stdout {
		return o.Writer.Flush()
	}
	o.closed = true
	fail := func(err error) error {
		o.file.Close()
		return fmt.Errorf("%s: %w", o.name, err)
	}
	if err := o.Writer.Flush(); err != nil {
		return fail(err)
	}
	if err := o.file.Sync(); err != nil {
		return fail(err)
	}
	if err := o.file.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(o.path, o.name); err != nil {
		return fail(err)
	}
	if o.path != o.partial {
		os.Remove(o.partial)
	}
	return nil
}

// abort drops an output that holds nothing of value, after a failure
// before any query: a file this run made is removed, but FILE.partial with
// an earlier run's records stays.
func (o *output) abort() {
	if o.stdout || o.closed {
		return
	}
	o.closed = true
	o.file.Close()
	if o.fresh || o.path != o.partial {
		os.Remove(o.path)
	}
}
