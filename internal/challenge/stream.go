package challenge

import (
	"errors"
	"fmt"
	"io"

	"github.com/pot-audit/pot/format"
)

// VerifyStream checks every record of r, a stream named name, against
// key: the challenge set its header names must be the one key derives,
// and each record the challenge (and, in an outputs stream, the sample
// seed) the set holds at its index. prompts is the prompt file of a
// prompt-file set, nil otherwise. stop is asked every checkEvery records
// and ends the check with its error. It returns how many records were
// checked, and an error wrapping ErrMismatch at the first that is not.
func VerifyStream(r *format.Reader, name string, key Key, prompts *PromptFile, stop func() error) (int, error) {
	h := r.First()
	var src Source
	if h.Challenges.Family == PromptsFamily {
		if prompts == nil {
			return 0, fmt.Errorf("%s: %w", name, ErrNeedPromptFile)
		}
		src = prompts
	} else {
		tf, err := Templates(h.Challenges.Family)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		src = tf
	}
	var opts []VerifyOption
	if h.Kind == format.KindOutputs {
		opts = append(opts, WithSampleBase(h.Sampling.Seed))
	}
	v, err := NewVerifier(key, h.Challenges, src, opts...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	for n := 0; ; n++ {
		if n%checkEvery == 0 {
			if err := stop(); err != nil {
				return v.Checked(), fmt.Errorf("%s: %w after %d records", name, err, n)
			}
		}
		rec, err := r.Read()
		if err == io.EOF {
			return v.Checked(), nil
		}
		if err != nil {
			return v.Checked(), fmt.Errorf("%s: %w", name, err)
		}
		if err := v.Check(&rec); err != nil {
			return v.Checked(), err
		}
	}
}

// ErrNeedPromptFile is VerifyStream's error for a prompt-file set checked
// without its prompt file.
var ErrNeedPromptFile = errors.New("a prompt-file challenge set: pass its prompt file (--prompts FILE)")

// WriteStream writes the set as a challenge stream under h, whose kind
// and set it fills in: every challenge, in index order. stop is asked
// every checkEvery challenges with how many are written, and ends the
// stream unfinished with its error; opts go to the writer (format.SignWith
// signs it).
func (s *Set) WriteStream(w io.Writer, h format.Header, stop func(written int) error, opts ...format.WriterOption) error {
	h.Kind, h.Challenges = format.KindChallenges, s.Header()
	fw, err := format.NewWriter(w, h, opts...)
	if err != nil {
		return err
	}
	for i := 0; i < s.Len(); i++ {
		if i%checkEvery == 0 {
			if err := stop(i); err != nil {
				return err
			}
		}
		rec := s.Record(i)
		if err := fw.Write(&rec); err != nil {
			return err
		}
	}
	return fw.Close()
}

// checkEvery is how many records VerifyStream checks between two calls
// of its stop function.
const checkEvery = 256
