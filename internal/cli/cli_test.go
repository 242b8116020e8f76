package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ucli "github.com/urfave/cli/v2"

	"github.com/pot-audit/pot/format"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"plain", errors.New("model failed"), ExitFailure},
		{"usage", Usagef("bad flag"), ExitUsage},
		{"bad input", BadInputf("x.pot: a challenges stream"), ExitUsage},
		{"damaged stream", fmt.Errorf("x.pot: %w", &format.Error{Err: format.ErrTruncated}), ExitUsage},
		{"wrapped sentinel", fmt.Errorf("x: %w", format.ErrChecksum), ExitUsage},
		{"explicit", WithStatus(3, errors.New("undecided")), 3},
		{"quiet", Quiet(1), 1},
		// By type, not by text: a failed write of our own output is a
		// runtime failure though it is an *fs.PathError, and a message
		// that reads like a format error is not one.
		{"write failed", fmt.Errorf("out.pot: %w", &os.PathError{Op: "write", Path: "out.pot", Err: errors.New("no space left on device")}), ExitFailure},
		{"message alone", errors.New("format: truncated stream"), ExitFailure},
		{"invalid record written", fmt.Errorf("%w: id too long", format.ErrInvalid), ExitFailure},
		{"invalid record read", &format.Error{Err: format.ErrInvalid}, ExitUsage},
		{"runtime over input", Runtime(fmt.Errorf("plot: %w", format.ErrCorrupt)), ExitFailure},
		{"outermost class", Usage(Runtime(errors.New("x"))), ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Status(tt.err); got != tt.want {
				t.Fatalf("Status = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestMessageIsOneLine(t *testing.T) {
	got := Message("potx", errors.New("first\nsecond  line\n"))
	if got != "potx: first second line" {
		t.Fatalf("got %q", got)
	}
}

func runApp(t *testing.T, action ucli.ActionFunc, args ...string) (int, string, string) {
	t.Helper()
	app := &ucli.App{Name: "potx", Flags: []ucli.Flag{&ucli.BoolFlag{Name: "json"}}, Action: action}
	var out, errb bytes.Buffer
	code := Run(app, append([]string{"potx"}, args...), Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Ctx: t.Context()})
	return code, out.String(), errb.String()
}

func TestRunStatusesAndMessages(t *testing.T) {
	code, out, errs := runApp(t, func(c *ucli.Context) error { return nil }, "--bogus")
	if code != ExitUsage || out != "" || !strings.HasPrefix(errs, "potx: ") {
		t.Fatalf("undefined flag: %d %q %q", code, out, errs)
	}
	code, _, errs = runApp(t, func(c *ucli.Context) error { return errors.New("boom") })
	if code != ExitFailure || errs != "potx: boom\n" {
		t.Fatalf("failure: %d %q", code, errs)
	}
	code, _, errs = runApp(t, func(c *ucli.Context) error { return fmt.Errorf("write: %w", errEPIPE) })
	if code != ExitOK || errs != "" {
		t.Fatalf("broken pipe: %d %q", code, errs)
	}
	code, _, errs = runApp(t, func(c *ucli.Context) error { return errors.New("write |1: broken pipe") })
	if code != ExitFailure {
		t.Fatalf("a message that reads like a broken pipe: %d %q", code, errs)
	}
	code, _, errs = runApp(t, func(c *ucli.Context) error { return nil }, "--json=maybe")
	if code != ExitUsage || !strings.Contains(errs, "run 'potx --help' for usage") {
		t.Fatalf("bad flag value: %d %q", code, errs)
	}
	code, _, errs = runApp(t, func(c *ucli.Context) error { return Usagef("invalid value in a file") })
	if code != ExitUsage || strings.Contains(errs, "--help") {
		t.Fatalf("a usage error that is no flag's: %d %q", code, errs)
	}
}

func TestOutputAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	env := &Env{Stdout: io.Discard}
	target := filepath.Join(dir, "out.pot")

	o, err := env.Create(target, OutputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o.WriteString("partial")
	o.Abort()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("abort left %v", entries)
	}

	o, err = env.Create(target, OutputOptions{Mode: 0o600})
	if err != nil {
		t.Fatal(err)
	}
	o.WriteString("whole")
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	o.Abort() // after Commit: nothing happens
	data, err := os.ReadFile(target)
	st, _ := os.Stat(target)
	if err != nil || string(data) != "whole" || st.Mode().Perm() != 0o600 {
		t.Fatalf("committed %q %v %v", data, err, st.Mode())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	if _, err := env.Create(target, OutputOptions{Inputs: []string{target}}); Status(err) != ExitUsage {
		t.Fatalf("output equal to an input: %v", err)
	}
	if _, err := env.Create(dir, OutputOptions{}); Status(err) != ExitUsage {
		t.Fatalf("output is a directory: %v", err)
	}
}

func TestOpen(t *testing.T) {
	env := &Env{Stdin: strings.NewReader("x")}
	in, err := env.Open("-")
	if err != nil || in.Name != StdinName {
		t.Fatalf("%v %+v", err, in)
	}
	dir := t.TempDir()
	if _, err := env.Open(dir); Status(err) != ExitUsage || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("directory: %v", err)
	}
	if _, err := env.Open(filepath.Join(dir, "none")); Status(err) != ExitUsage || !strings.Contains(err.Error(), "none") {
		t.Fatalf("missing: %v", err)
	}
}

func TestExpandPattern(t *testing.T) {
	if got, err := ExpandPattern("ch-{}.pot", 3); err != nil || got != "ch-3.pot" {
		t.Fatalf("%q %v", got, err)
	}
	if _, err := ExpandPattern("ch.pot", 3); Status(err) != ExitUsage {
		t.Fatalf("pattern without {}: %v", err)
	}
}
