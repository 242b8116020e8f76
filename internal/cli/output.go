package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Output is a file written whole or not at all, the one way every tool
// writes a file. Data goes to a hidden file in the target's folder, and
// Commit renames it into place once it is complete; Abort removes it.
// Standard output is written directly. Two more ways to finish serve
// the tools that need them:
//
//   - Stage finishes the file under its hidden name and Publish renames it
//     later, so that several outputs (potsplit's shards) appear together
//     or not at all.
//   - With OutputOptions.Partial the file is built in NAME.partial, which
//     holds every flushed frame even if the process is killed, so that a
//     later run can resume it; Keep leaves it there. With Resume as well,
//     the output starts as a hidden file that Checkpoint puts in place of
//     NAME.partial once it holds what an earlier run left there.
type Output struct {
	Name string
	*bufio.Writer
	file    *os.File
	path    string // where the data is now
	target  string
	partial string // NAME.partial, with OutputOptions.Partial
	fresh   bool   // this run made the file at path
	stdout  bool
	staged  bool
	done    bool
}

// OutputOptions say what an output may be.
type OutputOptions struct {
	Binary bool     // refuse to write to a terminal
	Inputs []string // names of the inputs, which the output must not be
	Mode   os.FileMode
	// Partial builds the file in PartialName(name), made exclusively: one
	// that exists is an interrupted run, to resume or remove.
	Partial bool
	// Resume, with Partial, starts in a hidden file instead, for the
	// records of the run resumed (see Checkpoint).
	Resume bool
}

// PartialName is where an output with OutputOptions.Partial is built.
func PartialName(name string) string { return name + ".partial" }

// Create starts an output; "-" or "" is standard output. It refuses a
// binary stream on a terminal and an output that is one of the inputs.
func (e *Env) Create(name string, o OutputOptions) (*Output, error) {
	if name == "-" || name == "" {
		if o.Binary && IsTerminal(e.Stdout) {
			return nil, Usagef("refusing to write a binary stream to a terminal (use -o FILE or a pipe)")
		}
		return &Output{Name: "<stdout>", Writer: bufio.NewWriterSize(e.Stdout, 64<<10), stdout: true}, nil
	}
	if err := checkTarget(name, o.Inputs); err != nil {
		return nil, err
	}
	out := &Output{Name: name, target: name, fresh: true}
	var f *os.File
	var err error
	if o.Partial {
		out.partial = PartialName(name)
	}
	if o.Partial && !o.Resume {
		f, err = os.OpenFile(out.partial, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			return nil, Usagef("%s exists: an interrupted run; continue it with --resume or remove it", out.partial)
		}
	} else {
		f, err = os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	}
	if err != nil {
		return nil, Usagef("%s: %v", name, unwrapPath(err))
	}
	mode := o.Mode
	if mode == 0 {
		mode = 0o644
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, Runtime(fmt.Errorf("%s: %w", name, err))
	}
	out.file, out.path, out.Writer = f, f.Name(), bufio.NewWriterSize(f, 64<<10)
	return out, nil
}

// checkTarget refuses a folder, and a file that is one of the inputs.
func checkTarget(name string, inputs []string) error {
	st, err := os.Stat(name)
	if err != nil {
		return nil // a new file
	}
	if st.IsDir() {
		return Usagef("%s: is a directory", name)
	}
	for _, in := range inputs {
		if in == "-" || in == "" {
			continue
		}
		if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) {
			return Usagef("%s: output is also an input", name)
		}
	}
	return nil
}

// Flush pushes buffered data on, to the file or the pipe.
func (o *Output) Flush() error {
	if err := o.Writer.Flush(); err != nil {
		return o.wrap(err)
	}
	return nil
}

// finish writes the data out for good and closes the file. The buffer is
// let go, since a staged output may wait long for its Publish.
func (o *Output) finish() error {
	err := o.Writer.Flush()
	if err == nil && !o.stdout {
		err = o.file.Sync()
	}
	if !o.stdout {
		if cerr := o.file.Close(); err == nil {
			err = cerr
		}
	}
	o.Writer = nil
	return err
}

// Commit finishes the output: flush, close and rename into place.
func (o *Output) Commit() error {
	if o.done {
		return nil
	}
	if err := o.Stage(); err != nil {
		return err
	}
	return o.Publish()
}

// Stage finishes the output under its hidden name, for Publish to put in
// place later; Abort still removes it.
func (o *Output) Stage() error {
	if o.done || o.staged {
		return nil
	}
	o.staged = true
	if err := o.finish(); err != nil {
		o.drop()
		return o.wrap(err)
	}
	return nil
}

// drop removes an output that failed to finish, except a partial file:
// its records are still worth resuming.
func (o *Output) drop() {
	o.done = true
	if o.partial == "" {
		o.remove()
	}
}

// Publish renames a staged output into place. An earlier run's partial
// file that this output has copied is removed: the complete file holds it.
func (o *Output) Publish() error {
	if o.done {
		return nil
	}
	o.done = true
	if o.stdout {
		return nil
	}
	if err := os.Rename(o.path, o.target); err != nil {
		o.drop()
		return o.wrap(err)
	}
	if o.partial != "" && o.path != o.partial {
		os.Remove(o.partial)
	}
	return nil
}

// Checkpoint puts what was written so far in place of the partial file,
// in one rename: from then on NAME.partial holds at least what the
// earlier run's did, and the output goes on growing there.
func (o *Output) Checkpoint() error {
	if o.partial == "" || o.path == o.partial {
		return nil
	}
	if err := o.Writer.Flush(); err != nil {
		return o.wrap(err)
	}
	if err := o.file.Sync(); err != nil {
		return o.wrap(err)
	}
	if err := os.Rename(o.path, o.partial); err != nil {
		return o.wrap(err)
	}
	o.path, o.fresh = o.partial, false
	return nil
}

// Keep closes an unfinished output as its partial file and returns that
// file's name, to be resumed; "" when there is none (standard output, an
// output without Partial, or one already finished).
func (o *Output) Keep() string {
	if o.stdout {
		o.Writer.Flush()
		return ""
	}
	if o.done || o.staged || o.partial == "" {
		return ""
	}
	o.done = true
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

// Abort drops the output: the file it was written in is removed and the
// target is left as it was, and so is a partial file that holds an
// earlier run's records. It is safe to call after Commit or Keep (it does
// nothing then).
func (o *Output) Abort() {
	if o.done {
		return
	}
	o.done = true
	if !o.stdout {
		o.remove()
	}
}

func (o *Output) remove() {
	if o.file == nil {
		return
	}
	o.file.Close()
	if o.fresh || o.path != o.partial {
		os.Remove(o.path)
	}
}

func (o *Output) wrap(err error) error {
	return Runtime(fmt.Errorf("%s: %w", o.Name, unwrapPath(err)))
}

// RefuseExisting refuses to replace an existing output file unless force
// says to: a finished reference set is worth more than the run that would
// overwrite it. Standard output is never refused. resumable says whether
// the command has --resume, so that the message names it only then.
func RefuseExisting(name string, force, resumable bool) error {
	if name == "-" || name == "" || force {
		return nil
	}
	st, err := os.Stat(name)
	if err != nil || !st.Mode().IsRegular() {
		return nil // a new file, or what Create refuses on its own
	}
	if resumable {
		return Usagef("%s exists: refusing to replace it (--force replaces it, --resume continues it)", name)
	}
	return Usagef("%s exists: refusing to replace it (--force replaces it)", name)
}
