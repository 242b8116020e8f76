package format

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// Every error the package exports says whose fault it is: a new sentinel
// made with errors.New would leave the tools without an exit status for
// it, so this test reads the declarations and refuses one.
func TestErrorsHaveAClass(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Err") {
					continue
				}
				n++
				call, ok := vs.Values[i].(*ast.CallExpr)
				fn, _ := call.Fun.(*ast.Ident)
				if !ok || fn == nil || (fn.Name != "inputError" && fn.Name != "callerError") {
					t.Errorf("%s is not made by inputError or callerError: a tool cannot tell its exit status", name.Name)
				}
			}
		}
	}
	if n < 12 {
		t.Fatalf("found %d errors in errors.go, want at least 12", n)
	}
	var bi interface{ BadInput() bool }
	for _, c := range []struct {
		err   error
		input bool
	}{
		{ErrTruncated, true},
		{&Error{Err: ErrInvalid}, true},
		{ErrInvalid, false},
		{ErrClosed, false},
	} {
		if !errors.As(c.err, &bi) || bi.BadInput() != c.input {
			t.Errorf("%v: BadInput %v, want %v", c.err, bi != nil && bi.BadInput(), c.input)
		}
	}
}
