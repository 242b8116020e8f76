package llama

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors from loaders wrap one of them inside a *FormatError
// that says where in which file the problem is.
var (
	// ErrFormat means a model or tokenizer file is malformed.
	ErrFormat = errors.New("llama: malformed file")
	// ErrTruncated means a file ends before the data its header announces.
	ErrTruncated = errors.New("llama: truncated file")
	// ErrUnsupported means a well-formed file uses a feature the engine lacks
	// (a quantized tensor type, another architecture, a newer export format).
	ErrUnsupported = errors.New("llama: unsupported model")
	// ErrVocabMismatch means a tokenizer does not fit the model it is loaded with.
	ErrVocabMismatch = errors.New("llama: tokenizer does not match model")
	// ErrPerturb means a perturbation spec cannot be parsed.
	ErrPerturb = errors.New("llama: bad perturbation")
	// ErrPromptTooLong means the prompt leaves no room in the context to generate.
	ErrPromptTooLong = errors.New("llama: prompt does not fit the context")
)

// FormatError reports a bad file together with the byte offset of the
// problem, so that a user can look at the bytes themselves.
type FormatError struct {
	Path   string // the file, empty when decoding from memory
	Offset int64  // byte offset of the problem, -1 when it has none
	What   string // the part of the file being decoded, e.g. "tensor output.weight"
	Err    error  // wraps one of the package's sentinel errors
}

func (e *FormatError) Error() string {
	s := ""
	if e.Path != "" {
		s = e.Path + ": "
	}
	if e.Offset >= 0 {
		s += fmt.Sprintf("offset %d: ", e.Offset)
	}
	if e.What != "" {
		s += e.What + ": "
	}
	return s + e.Err.Error()
}

func (e *FormatError) Unwrap() error { return e.Err }

// withPath sets the file name of a *FormatError produced while decoding from
// memory; other errors pass through.
func withPath(err error, path string) error {
	var fe *FormatError
	if errors.As(err, &fe) && fe.Path == "" {
		fe.Path = path
	}
	return err
}
