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

// checkEvery is how many records VerifyStream checks between two calls
// of its stop function.
const checkEvery = 256
