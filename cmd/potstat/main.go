package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"os"

	ucli "github.com/urfave/cli/v2"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
)

func main() { os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr)) }

// run is the whole tool with its process injected, so tests run it
// in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := &ucli.App{
		Name:        "potstat",
		Usage:       "describe pot streams, check that they are intact, measure how far two are apart",
		UsageText:   usageText,
		Description: description,
		Version:     cli.Version,
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "json", Usage: "print each summary as one JSON object"},
			&ucli.BoolFlag{Name: "records", Usage: "print every record as one JSON object a line"},
			&ucli.BoolFlag{Name: "verify", Usage: "check checksums, trailers, digests and signatures; one line a file"},
			&ucli.StringSliceFlag{Name: "pubkey", Usage: "with --verify, require every segment signed by a key in `FILE` (repeatable: any is trusted)"},
			&ucli.BoolFlag{Name: "mixed", Usage: "accept segments with incompatible headers"},
			&ucli.BoolFlag{Name: "between", Usage: "distributional distance between two outputs streams A B"},
			&ucli.StringFlag{Name: "plot", Usage: "with --between, write histograms to `FILE.svg`"},
		},
		Action: action,
	}
	return cli.Run(app, args, cli.Env{Stdin: stdin, Stdout: stdout, Stderr: stderr})
}

func action(c *ucli.Context) error {
	files := cli.Args(c)
	if len(files) == 0 {
		files = []string{"-"}
	}
	modes := 0
	for _, f := range []string{"records", "verify", "between"} {
		if c.Bool(f) {
			modes++
		}
	}
	if modes > 1 || (modes == 1 && c.Bool("json") && !c.Bool("between")) {
		return cli.Usagef("--records, --verify and --between are separate modes: give at most one (--json goes with the summary or --between)")
	}
	plot := c.String("plot")
	if c.IsSet("plot") && !c.Bool("between") {
		return cli.Usagef("--plot goes with --between")
	}
	if c.Bool("between") {
		if len(c.Args().Slice()) != 2 {
			return cli.Usagef("--between compares two streams: give A and B")
		}
		if c.IsSet("plot") {
			if err := checkPlot(plot); err != nil {
				return err
			}
		}
	}
	trusted, err := trustedKeys(c)
	if err != nil {
		return err
	}
	var opts []format.ReaderOption
	if c.Bool("mixed") {
		opts = append(opts, format.AllowMixed())
	}
	// The modes that look at each record once let the reader reuse arrays.
	once := append(append([]format.ReaderOption(nil), opts...), format.ReuseRecords())
	t := &tool{ctx: c.Context, env: cli.EnvOf(c), opts: opts, once: once, trusted: trusted}
	out := bufio.NewWriterSize(t.env.Stdout, 64<<10)
	t.out = out
	switch {
	case c.Bool("records"):
		err = t.eachFile(files, t.records)
	case c.Bool("verify"):
		err = t.eachFile(files, t.verify)
	case c.Bool("between"):
		err = t.between(files[0], files[1], plot, c.Bool("json"))
	default:
		json := c.Bool("json")
		err = t.eachFile(files, func(name string) error { return t.summary(name, json) })
	}
	if ferr := out.Flush(); ferr != nil && err == nil {
		err = cli.WithStatus(cli.ExitFailure, ferr)
	}
	return err
}

// tool holds what the modes share.
type tool struct {
	ctx     context.Context // done on SIGINT or SIGTERM
	env     *cli.Env
	out     *bufio.Writer
	opts    []format.ReaderOption // for readers whose records are kept
	once    []format.ReaderOption // for readers whose records are looked at once
	printed int                   // summaries printed so far
	failed  int                   // the worst exit status of the files so far
	trusted []ed25519.PublicKey   // --pubkey: --verify requires these signers; nil: signatures are checked where present
}

// eachFile runs do on every file. A file that fails is reported and the
// next one handled, so one bad file hides nothing about the others; the
// exit status is the worst.
func (t *tool) eachFile(files []string, do func(name string) error) error {
	for _, name := range files {
		err := do(name)
		if err == nil {
			continue
		}
		if cli.IsBrokenPipe(err) || cli.Status(err) == cli.ExitFailure {
			// Our own output failed: nothing more can be said.
			return err
		}
		fmt.Fprintln(t.env.Stderr, cli.Message("potstat", err))
		t.fail(err)
	}
	if t.failed != 0 {
		return cli.Quiet(t.failed)
	}
	return nil
}

// fail notes that a file failed with err.
func (t *tool) fail(err error) { t.failed = max(t.failed, cli.Status(err)) }

// streamError names the input in a stream error.
func streamError(in *cli.Input, err error) error {
	return fmt.Errorf("%s: %w", in.Name, err)
}

// writeFailed marks an error of our own output: a runtime failure, even
// when it is an *fs.PathError.
func writeFailed(err error) error {
	return cli.WithStatus(cli.ExitFailure, fmt.Errorf("writing output: %w", err))
}
