package challenge

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// PromptsFamily is the Family of a set drawn from a user's prompt file.
const PromptsFamily = "prompts"

// MaxPromptLine bounds a line of a prompt file, in bytes without its line
// ending; a JSON line's escapes count.
const MaxPromptLine = 64 << 10

// MaxPrompts bounds the number of prompts in a file.
const MaxPrompts = 1 << 24

// Errors a PromptFileError wraps.
var (
	ErrLineTooLong = errors.New("challenge: prompt line too long")
	ErrBadPrompt   = errors.New("challenge: bad prompt")
	ErrNoPrompts   = errors.New("challenge: no prompts")
	ErrTooMany     = errors.New("challenge: too many prompts")
)

// ErrNotEnoughPrompts is wrapped when a set asks for more challenges than
// its prompt file holds: prompts are picked without replacement.
var ErrNotEnoughPrompts = errors.New("challenge: not enough prompts")

// PromptFileError reports a problem in a prompt file, with its line when
// there is one.
type PromptFileError struct {
	File string
	Line int // 1-based; 0 when the problem is the whole file
	Err  error
}

func (e *PromptFileError) Error() string {
	// The wrapped sentinels carry the package prefix already; say it once.
	msg := strings.TrimPrefix(e.Err.Error(), "challenge: ")
	if e.Line == 0 {
		return fmt.Sprintf("challenge: %s: %s", e.File, msg)
	}
	return fmt.Sprintf("challenge: %s: line %d: %s", e.File, e.Line, msg)
}

func (e *PromptFileError) Unwrap() error { return e.Err }

// PromptFile is a user's list of prompts, a Source whose challenges pick
// prompts without replacement in an order only the key determines.
type PromptFile struct {
	name    string
	prompts []string
	digest  string
}

// ReadPromptFile reads the prompt file at path; see ParsePrompts.
func ReadPromptFile(path string) (*PromptFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("challenge: read prompts: %w", err)
	}
	defer f.Close()
	return ParsePrompts(path, f)
}

// ParsePrompts reads a prompt file from r; name is used in errors. The file
// is plain text, one prompt per line, or JSON Lines, one object per line
// with the prompt in its "prompt" string; it is JSON Lines when its first
// byte other than white space (and a UTF-8 byte order mark) is '{'. In both
// kinds, lines that are empty or only white space are skipped, and a line
// ends at "\n" or "\r\n". A plain prompt is the line exactly as written;
// prompts must be valid UTF-8. The digest is the SHA-256 of the bytes read.
func ParsePrompts(name string, r io.Reader) (*PromptFile, error) {
	h := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(r, h), 64<<10)
	pf := &PromptFile{name: name}
	fail := func(line int, err error) (*PromptFile, error) {
		return nil, &PromptFileError{File: name, Line: line, Err: err}
	}
	jsonl, decided := false, false
	var long []byte // a line longer than the reader's buffer, assembled
	for line := 1; ; line++ {
		data, err := readLine(br, &long)
		if err == errLineTooLong {
			return fail(line, fmt.Errorf("%w: longer than %d bytes", ErrLineTooLong, MaxPromptLine))
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("challenge: read prompts %s: %w", name, err)
		}
		if line == 1 {
			data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
		}
		if len(bytes.TrimSpace(data)) > 0 {
			if !decided {
				jsonl, decided = bytes.TrimSpace(data)[0] == '{', true
			}
			if len(pf.prompts) == MaxPrompts {
				return fail(line, fmt.Errorf("%w: more than %d", ErrTooMany, MaxPrompts))
			}
			p, perr := parsePromptLine(data, jsonl)
			if perr != nil {
				return fail(line, perr)
			}
			pf.prompts = append(pf.prompts, p)
		}
		if err == io.EOF {
			break
		}
	}
	if len(pf.prompts) == 0 {
		return fail(0, ErrNoPrompts)
	}
	pf.digest = hex.EncodeToString(h.Sum(nil))
	return pf, nil
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its ending, or io.EOF with the
// last unterminated line. It never holds more than MaxPromptLine+2 bytes
// of one line.
func readLine(br *bufio.Reader, long *[]byte) ([]byte, error) {
	data, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		*long = append((*long)[:0], data...)
		for err == bufio.ErrBufferFull {
			if len(*long) > MaxPromptLine+2 {
				return nil, errLineTooLong
			}
			data, err = br.ReadSlice('\n')
			*long = append(*long, data...)
		}
		data = *long
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	data = bytes.TrimSuffix(data, []byte("\n"))
	data = bytes.TrimSuffix(data, []byte("\r"))
	if len(data) > MaxPromptLine {
		return nil, errLineTooLong
	}
	return data, err
}

// parsePromptLine returns the prompt of one non-blank line.
func parsePromptLine(data []byte, jsonl bool) (string, error) {
	if !jsonl {
		if !utf8.Valid(data) {
			return "", fmt.Errorf("%w: not valid UTF-8", ErrBadPrompt)
		}
		return string(data), nil
	}
	data = bytes.TrimSpace(data)
	if data[0] != '{' {
		return "", fmt.Errorf("%w: want a JSON object, as on the file's first line", ErrBadPrompt)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadPrompt, err)
	}
	raw, ok := obj["prompt"]
	if !ok {
		return "", fmt.Errorf("%w: no \"prompt\" field", ErrBadPrompt)
	}
	var p string
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", fmt.Errorf("%w: \"prompt\" is not a string", ErrBadPrompt)
	}
	if p == "" {
		return "", fmt.Errorf("%w: empty \"prompt\"", ErrBadPrompt)
	}
	if !utf8.ValidString(p) {
		return "", fmt.Errorf("%w: not valid UTF-8", ErrBadPrompt)
	}
	return p, nil
}

// Family returns "prompts".
func (pf *PromptFile) Family() string { return PromptsFamily }

// Digest returns the hex SHA-256 of the file's bytes.
func (pf *PromptFile) Digest() string { return pf.digest }

// Name returns the file name the prompts were read from.
func (pf *PromptFile) Name() string { return pf.name }

// Len returns the number of prompts in the file.
func (pf *PromptFile) Len() int { return len(pf.prompts) }

// Prompt returns the file's i-th prompt, in file order.
func (pf *PromptFile) Prompt(i int) string { return pf.prompts[i] }

// prompter runs the shuffle described in the package documentation for
// the first n challenges and keeps only their picks.
func (pf *PromptFile) prompter(n int, seedOf func(int) seed) (func(int, *seed) string, error) {
	m := len(pf.prompts)
	if n > m {
		return nil, &PromptFileError{File: pf.name, Err: fmt.Errorf("%w: %d challenges asked for, the file has %d prompts", ErrNotEnoughPrompts, n, m)}
	}
	order := pickOrder(m, n, seedOf)
	return func(i int, _ *seed) string { return pf.prompts[order[i]] }, nil
}

// pickOrder returns the first n positions of the key-driven Fisher-Yates
// shuffle of m lines. The swaps are kept in a map, so the work and memory
// are O(n) however long the file.
func pickOrder(m, n int, seedOf func(int) seed) []int {
	swapped := map[int]int{}
	at := func(k int) int {
		if v, ok := swapped[k]; ok {
			return v
		}
		return k
	}
	order := make([]int, n)
	for i := range n {
		s := seedOf(i)
		j := i + newDrawer(&s, labelPick).intn(m-i)
		ai, aj := at(i), at(j)
		order[i] = aj
		swapped[j] = ai
		delete(swapped, i) // position i is never drawn again
	}
	return order
}
