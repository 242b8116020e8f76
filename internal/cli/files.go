package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
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
// or a missing file is bad input, named.
func (e *Env) Open(name string) (*Input, error) {
	if name == "-" || name == "" {
		return &Input{Name: StdinName, Reader: e.Stdin}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, BadInputf("%s: %v", name, unwrapPath(err))
	}
	st, err := f.Stat()
	if err == nil && st.IsDir() {
		f.Close()
		return nil, BadInputf("%s: is a directory", name)
	}
	return &Input{Name: name, Reader: f, close: f.Close}, nil
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
	return BadInputf("%s: %s stream, not %s stream%s", name, kindNoun(got), kindNoun(want), hint)
}

// kindNoun is "a challenges" or "an outputs": the kind with its article.
func kindNoun(k format.Kind) string {
	if s := k.String(); strings.IndexByte("aeiou", s[0]) >= 0 {
		return "an " + s
	}
	return "a " + k.String()
}

// NewJSON is the JSON encoder of every tool's output: one value a line,
// and file names such as <stdin> written as they are, not escaped for
// HTML.
func NewJSON(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}
