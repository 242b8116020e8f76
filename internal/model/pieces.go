package model

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pot-audit/pot/format"
)

// TokenString turns a token string as APIs give it into the token's bytes.
// OpenAI writes a token that is not valid UTF-8 on its own (part of a
// character) as "bytes:\xe2\x80"; any other string is its own bytes.
func TokenString(s string) string {
	rest, ok := strings.CutPrefix(s, "bytes:")
	if !ok || rest == "" {
		return s
	}
	var b []byte
	for rest != "" {
		if len(rest) < 4 || rest[0] != '\\' || rest[1] != 'x' {
			return s
		}
		v, err := strconv.ParseUint(rest[2:4], 16, 8)
		if err != nil {
			return s
		}
		b = append(b, byte(v))
		rest = rest[4:]
	}
	return string(b)
}

// AddPiece notes in the table of one answer that id stands for b. An
// answer that gives one id two byte strings, or a token longer than
// format.MaxPiece, does not hold together.
func AddPiece(t *format.Pieces, id int32, b string) error {
	if len(b) > format.MaxPiece {
		return fmt.Errorf("token %d of %d bytes", id, len(b))
	}
	if !t.Add(id, b) {
		old, _ := t.Get(id)
		return fmt.Errorf("token %d is %q and %q", id, old, b)
	}
	return nil
}

// MergePieces adds the token bytes of one answer to the table a backend
// keeps for all its records. It fails, adding nothing, when an id has other
// bytes in dst than in answer: the backend changed what an id means, and
// records before and after would not mean the same by it. Entries for which
// hide returns true are left out (their bytes stay unknown); hide may be
// nil. The message shows bytes through show, which may be nil.
func MergePieces(dst, answer *format.Pieces, hide func(string) bool, show func(string) string) error {
	if show == nil {
		show = func(s string) string { return s }
	}
	ids := answer.IDs()
	for _, id := range ids {
		b, _ := answer.Get(id)
		if old, ok := dst.Get(id); ok && old != b {
			return fmt.Errorf("token %d is %q here, %q in an earlier answer", id, show(b), show(old))
		}
	}
	for _, id := range ids {
		b, _ := answer.Get(id)
		if hide == nil || !hide(b) {
			dst.Add(id, b)
		}
	}
	return nil
}
