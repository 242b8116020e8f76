package model

import (
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
)

func TestTokenString(t *testing.T) {
	for in, want := range map[string]string{
		`bytes:\xe2\x80`: "\xe2\x80", "bytes:": "bytes:", `bytes:\xzz`: `bytes:\xzz`, "plain": "plain", `bytes:\xe2x`: `bytes:\xe2x`, "": "",
	} {
		if got := TokenString(in); got != want {
			t.Errorf("TokenString(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMergePieces(t *testing.T) {
	dst, a, b := format.NewPieces(), format.NewPieces(), format.NewPieces()
	for _, p := range []struct {
		t  *format.Pieces
		id int32
		s  string
	}{{a, 1, "x"}, {a, 2, "SECRET-y"}, {b, 1, "x"}, {b, 3, "z"}, {b, 2, "w"}} {
		if err := AddPiece(p.t, p.id, p.s); err != nil {
			t.Fatal(err)
		}
	}
	if err := AddPiece(a, 1, "other"); err == nil {
		t.Error("one answer gave id 1 two byte strings")
	}
	if err := AddPiece(a, 4, strings.Repeat("x", format.MaxPiece+1)); err == nil {
		t.Error("a token over MaxPiece accepted")
	}
	hide := func(s string) bool { return strings.Contains(s, "SECRET") }
	if err := MergePieces(dst, a, hide, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := dst.Get(2); ok {
		t.Error("a hidden piece was kept")
	}
	// b agrees on 1, and 2 was never kept, so only a change would fail it.
	if err := MergePieces(dst, b, hide, nil); err != nil {
		t.Fatal(err)
	}
	c := format.NewPieces()
	c.Add(3, "changed")
	c.Add(5, "new")
	err := MergePieces(dst, c, hide, func(s string) string { return "<" + s + ">" })
	if err == nil || !strings.Contains(err.Error(), "token 3") || !strings.Contains(err.Error(), "<changed>") {
		t.Fatalf("id 3 changed: %v", err)
	}
	if _, ok := dst.Get(5); ok {
		t.Error("a failed merge added an entry")
	}
}
