package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pot-audit/pot/format"
)

// StdinName is how standard input is named in messages.
const StdinName = "<stdin>"

// Input is an opened input and the name messages use for it.
type Input struct {
	Name string
	io.Reader
	close func() error
}

// Close closes the input unless it is standard input.
func (in *Input) Close() error {
	if in.close == nil {
		return nil
	}
	return in.close()
}

// Open opens name for reading; "-" and "" are standard input. A directory
// or a missing file is a usage error naming the file.
func (e *Env) Open(name string) (*Input, error) {
	if name == "-" || name == "" {
		return &Input{Name: StdinName, Reader: e.Stdin}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, Usagef("%s: %v", name, unwrapPath(err))
	}
	st, err := f.Stat()
	if err == nil && st.IsDir() {
		f.Close()
		return nil, Usagef("%s: is a directory", name)
	}
	return &Input{Name: name, Reader: f, close: f.Close}, nil
}

// Output is a file written whole or not at all: data goes to a temporary
// file in the target's folder, and Commit renames it into place. Standard
// output is written directly.
type Output struct {
	Name string
	*bufio.Writer
	file   *os.File
	target string
	stdout bool
	done   bool
}

// OutputOptions say what an output may be.
type OutputOptions struct {
	Binary bool     // refuse to write to a terminal
	Inputs []string // names of the inputs, which the output must not be
	Mode   os.FileMode
}

// Create starts an output; "-" or "" is standard output. It refuses a
// binary stream on a terminal and an output that is one of the inputs.
func (e *Env) Create(name string, o OutputOptions) (*Output, error) {
	if name == "-" || name == "" {
		if o.Binary && IsTerminal(e.Stdout) {
			return nil, Usagef("refusing to write a binary stream to a terminal (use -o FILE or a pipe)")
		}
		return &Output{Name: "<stdout>", Writer: bufio.NewWriterSize(e.Stdout, 64<<10), stdout: true}, nil
	}
	if st, err := os.Stat(name); err == nil {
		if st.IsDir() {
			return nil, Usagef("%s: is a directory", name)
		}
		for _, in := range o.Inputs {
			if in == "-" || in == "" {
				continue
			}
			if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) {
				return nil, Usagef("%s: output is also an input", name)
			}
		}
	}
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp*")
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
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Output{Name: name, Writer: bufio.NewWriterSize(f, 64<<10), file: f, target: name}, nil
}

// Flush pushes buffered data on, to the file or the pipe.
func (o *Output) Flush() error {
	if err := o.Writer.Flush(); err != nil {
		return o.wrap(err)
	}
	return nil
}

// Commit finishes the output: flush, close and rename into place.
func (o *Output) Commit() error {
	if o.done {
		return nil
	}
	o.done = true
	if err := o.Writer.Flush(); err != nil {
		o.remove()
		return o.wrap(err)
	}
	if o.stdout {
		return nil
	}
	if err := o.file.Sync(); err != nil {
		o.remove()
		return o.wrap(err)
	}
	if err := o.file.Close(); err != nil {
		os.Remove(o.file.Name())
		return o.wrap(err)
	}
	if err := os.Rename(o.file.Name(), o.target); err != nil {
		os.Remove(o.file.Name())
		return o.wrap(err)
	}
	return nil
}

// Abort drops the output: the temporary file is removed and the target is
// left as it was. It is safe to call after Commit (it does nothing then).
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
	if o.file != nil {
		o.file.Close()
		os.Remove(o.file.Name())
	}
}

func (o *Output) wrap(err error) error {
	return fmt.Errorf("%s: %w", o.Name, unwrapPath(err))
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ExpandPattern replaces {} in pattern with the shard index. A pattern
// without {} is a usage error, since every shard would overwrite the last.
func ExpandPattern(pattern string, i int) (string, error) {
	if !strings.Contains(pattern, "{}") {
		return "", Usagef("output pattern %q has no {} for the shard index", pattern)
	}
	return strings.ReplaceAll(pattern, "{}", fmt.Sprint(i)), nil
}

// IsBrokenPipe reports whether err means the reader of our output went
// away, which for a pipeline is a normal end.
func IsBrokenPipe(err error) bool { return errors.Is(err, errEPIPE) }

// WantKind refuses a stream of another kind than the tool reads, in the
// one wording all the tools use; name is the stream as messages name it.
func WantKind(name string, got, want format.Kind) error {
	if got == want {
		return nil
	}
	hint := ""
	if want == format.KindOutputs && got == format.KindChallenges {
		hint = " (potgen --challenges FILE answers them)"
	}
	return Usagef("%s: %s stream, not %s stream%s", name, kindNoun(got), kindNoun(want), hint)
}

// kindNoun is "a challenges" or "an outputs": the kind with its article.
func kindNoun(k format.Kind) string {
	if s := k.String(); strings.IndexByte("aeiou", s[0]) >= 0 {
		return "an " + s
	}
	return "a " + k.String()
}
