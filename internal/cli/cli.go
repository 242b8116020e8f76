// Package cli is the process boundary the four pot tools share: how they
// parse flags, name their inputs, write outputs whole or not at all, report
// errors on one line and choose an exit status. The tools themselves stay
// thin wiring around it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	ucli "github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// Exit statuses shared by the tools. potcmp adds its own meanings (cmp(1)).
const (
	ExitOK      = 0
	ExitFailure = 1 // a runtime failure: a model that failed, a write that failed
	ExitUsage   = 2 // bad usage or bad input: the user must change something
)

// Version is the tool version written into stream headers.
const Version = "0.1.0"

// Env is what a tool sees of its process. Tests run tools in-process by
// filling it with buffers.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Ctx, when set, is cancelled by the caller to interrupt the tool; when
	// nil, Run cancels on SIGINT and SIGTERM.
	Ctx context.Context
}

// StatusError carries an exit status with an error: the class of the
// failure, given where the error is made.
type StatusError struct {
	Code int
	Err  error
}

// Error is the message of the error carried.
func (e *StatusError) Error() string { return e.Err.Error() }

// Unwrap returns the error carried.
func (e *StatusError) Unwrap() error { return e.Err }

// Usage marks err as a command line the user must change: exit status 2.
func Usage(err error) error { return &StatusError{Code: ExitUsage, Err: err} }

// Usagef is Usage(fmt.Errorf(...)).
func Usagef(format string, args ...any) error { return Usage(fmt.Errorf(format, args...)) }

// BadInput marks err as an input the tool cannot use (missing, of the
// wrong kind, damaged, not comparable with the other): exit status 2 as
// for usage, since the user must change something, though no flag is
// wrong.
func BadInput(err error) error { return &StatusError{Code: ExitUsage, Err: err} }

// BadInputf is BadInput(fmt.Errorf(...)).
func BadInputf(format string, args ...any) error { return BadInput(fmt.Errorf(format, args...)) }

// Runtime marks err as a failure while running (a model, a write): exit
// status 1, whatever err wraps.
func Runtime(err error) error { return WithStatus(ExitFailure, err) }

// WithStatus attaches an exit status to err.
func WithStatus(code int, err error) error {
	if err == nil {
		return nil
	}
	return &StatusError{Code: code, Err: err}
}

// badInput is what the stream format's errors say of themselves (see
// format.Error): whether they condemn the input read.
type badInput interface{ BadInput() bool }

// Status chooses the exit status for err by its type, never its text: its
// own when it carries one (the outermost), 2 for an input the stream
// format refuses, 1 for anything else.
func Status(err error) int {
	if err == nil {
		return ExitOK
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code
	}
	var bi badInput
	if errors.As(err, &bi) && bi.BadInput() {
		return ExitUsage
	}
	return ExitFailure
}

// Message renders err as one line for stderr, prefixed with the tool name.
func Message(tool string, err error) string {
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
	return tool + ": " + msg
}

// Run runs app with the process conventions of pot: options anywhere on
// the line, GNU style, with "--" ending them (see permute); urfave/cli
// never exits the process, usage errors go to stderr with status 2, help
// (see writeHelp) goes to stdout only when asked for, and every failure is
// one line on stderr. It returns the exit status.
func Run(app *ucli.App, args []string, env Env) int {
	ctx := env.Ctx
	if ctx == nil {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		// A reader that goes away (potcmp has decided, or head has enough)
		// must show up as EPIPE on write, not kill the process.
		signal.Ignore(syscall.SIGPIPE)
	}
	// Workers report retries while the main goroutine draws progress:
	// stderr takes one message at a time.
	env.Stderr = &lockedWriter{w: env.Stderr}
	app.Writer = env.Stdout
	app.ErrWriter = env.Stderr
	app.Reader = env.Stdin
	app.ExitErrHandler = func(*ucli.Context, error) {}
	app.OnUsageError = onUsageError
	app.HideHelp = true // writeHelp answers -h and --help
	app.Suggest = true
	prepareCommands(app.Commands)
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if app.Metadata == nil {
		app.Metadata = map[string]any{}
	}
	app.Metadata[envKey] = &env
	p := permute(app, args)
	if p.help {
		if err := writeHelp(env.Stdout, app, p.path); err != nil && !IsBrokenPipe(err) {
			fmt.Fprintln(env.Stderr, Message(app.Name, err))
			return ExitFailure
		}
		return ExitOK
	}
	err := p.missing(app, env.Getenv)
	if err == nil {
		err = app.RunContext(ctx, p.args)
	}
	if err == nil || IsBrokenPipe(err) {
		return ExitOK // a reader that went away is a normal end for a pipeline
	}
	code := Status(err)
	if !errors.Is(err, errQuiet) {
		fmt.Fprintln(env.Stderr, Message(app.Name, err))
		var fe *flagError
		if errors.As(err, &fe) {
			fmt.Fprintf(env.Stderr, "%s: run '%s --help' for usage\n", app.Name, app.Name)
		}
	}
	return code
}

// flagError is a flag urfave/cli could not parse: a usage error, and one
// that --help answers.
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

func onUsageError(_ *ucli.Context, err error, _ bool) error { return Usage(&flagError{err}) }

// prepareCommands gives every subcommand the conventions Run gives the
// tool: usage errors with status 2, and help from writeHelp.
func prepareCommands(cmds []*ucli.Command) {
	for _, c := range cmds {
		c.OnUsageError = onUsageError
		c.HideHelp = true
		prepareCommands(c.Subcommands)
	}
}

// errQuiet ends a run with a status and no message: the tool has already
// said what there was to say (potcmp's verdicts).
var errQuiet = errors.New("quiet")

// Quiet returns an error that makes Run exit with code and print nothing.
func Quiet(code int) error { return &StatusError{Code: code, Err: errQuiet} }

const envKey = "pot.env"

// EnvOf returns the Env a tool was run with.
func EnvOf(c *ucli.Context) *Env { return c.App.Metadata[envKey].(*Env) }

// IsTerminal reports whether w is a terminal.
func IsTerminal(w any) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// lockedWriter serialises writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Fd passes the file descriptor through, so terminal checks still work.
func (l *lockedWriter) Fd() uintptr {
	if f, ok := l.w.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}
