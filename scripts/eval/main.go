// Command eval regenerates pot's results table with pot's own tools: every
// model pair of the table, through the local engine and through HTTP (the
// project's engine behind potserve), at two tolerances, with the betting and
// the empirical-Bernstein tests; wrong-verdict rates over many fresh keys for
// the pairs whose truth is clear; and the "fixed 5,000 outputs" way against
// the early-stopping pipeline. It writes EVAL.md and its pictures, and the
// README's summary between the lines <!-- eval:begin --> and <!-- eval:end -->.
//
// make eval runs it in full; make eval-quick runs a small version in make test
// that checks the verdicts and the structure of the tables, not the timings.
// The run's numbers go to results.json beside EVAL.md, and
//
//	go run ./scripts/eval -check OLD.json NEW.json
//
// says pair by pair whether two runs agree: the same verdicts, and each
// wrong-verdict rate inside the other run's interval.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// config is one evaluation's size and places.
type config struct {
	bin, models, out string
	doc, readme      string // EVAL.md and README.md to write; "" writes none
	quick            bool

	tableKeys  int       // fresh keys for the main table
	tableN     int       // challenges per stream there
	tokens     int       // tokens per output in the main table
	tolerances []float64 // tolerances of the main table
	alpha      float64

	errKeys   int // fresh keys for the wrong-verdict rates
	errN      int // challenges per reference there
	errTokens int

	standardN int // outputs per model in the "standard" scenario; 0 skips it
	workers   int // potgen processes at once
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := config{alpha: 0.01, tolerances: []float64{0.05, 0.01}, tokens: 32, errTokens: 16, workers: max(1, runtime.NumCPU())}
	fs.StringVar(&c.bin, "bin", "bin", "folder holding potgen, potcmp, potstat and potserve")
	fs.StringVar(&c.models, "models", os.Getenv("POT_MODELS"), "folder of the real models (POT_MODELS); synthetic pairs only when empty")
	fs.StringVar(&c.out, "out", "eval/out", "working folder for keys and streams")
	fs.StringVar(&c.doc, "doc", "eval/EVAL.md", "EVAL.md to write (pictures go beside it); empty for none")
	fs.StringVar(&c.readme, "readme", "README.md", "README whose summary table to rewrite; empty for none")
	fs.BoolVar(&c.quick, "quick", false, "a small run that checks verdicts and tables, not timings (make eval-quick)")
	fs.IntVar(&c.tableKeys, "keys", 3, "fresh keys for the main table")
	fs.IntVar(&c.tableN, "n", 1000, "challenges per stream in the main table")
	fs.IntVar(&c.errKeys, "error-keys", 100, "fresh keys for the wrong-verdict rates")
	fs.IntVar(&c.errN, "error-n", 120, "challenges per reference for the wrong-verdict rates (betting says SAME on identical outputs at 98)")
	fs.IntVar(&c.standardN, "standard-n", 5000, "outputs per model in the fixed-size scenario (0 skips it)")
	check := fs.Bool("check", false, "compare two runs: eval -check OLD.json NEW.json; exit 1 when they disagree")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *check {
		return checkRuns(fs.Args(), stdout, stderr)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "eval: unexpected argument %q (only -check takes files)\n", fs.Arg(0))
		return 2
	}
	if c.quick {
		c.tableKeys, c.tableN, c.tokens, c.tolerances = 1, 120, 16, []float64{0.05}
		c.errKeys, c.errN, c.standardN = 4, 110, 0
	}
	for _, tool := range []string{"potgen", "potcmp", "potserve"} {
		if _, err := os.Stat(filepath.Join(c.bin, tool)); err != nil {
			fmt.Fprintf(stderr, "eval: %s: not built (make build, and go build -o bin/ ./scripts/potserve)\n", filepath.Join(c.bin, tool))
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	e := newEvaluation(c, stderr)
	start := time.Now()
	res, err := e.run(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "eval:", err)
		return 1
	}
	res.Elapsed = time.Since(start)
	res.args = args
	if err := res.write(c, stdout); err != nil {
		fmt.Fprintln(stderr, "eval:", err)
		return 1
	}
	if problems := res.check(); len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stderr, "eval:", p)
		}
		return 1
	}
	fmt.Fprintf(stderr, "eval: done in %s\n", res.Elapsed.Round(time.Second))
	return 0
}
