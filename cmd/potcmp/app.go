package main

import (
	"crypto/ed25519"
	"io"
	"runtime/debug"
	"slices"

	ucli "github.com/urfave/cli/v2"

	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/score"
	"github.com/pot-audit/pot/internal/seqtest"
)

// Exit statuses of potcmp, as cmp(1) plus undecided.
const (
	exitSame      = 0
	exitDifferent = 1
	exitTrouble   = 2
	exitUndecided = 3
)

// defaultAlpha is --alpha's default, also shown by --help. --tolerance
// has none of its own: each score has its own (score.Spec.Tolerance).
const defaultAlpha = 0.01

// gcPercent is the garbage collector's GOGC while potcmp runs, unless the
// environment sets one. A reference is stored without pointers (see
// reference), so a collection costs little however large the reference
// is, and collecting at 25% growth instead of the default 100% keeps the
// candidate's decoded records, garbage as soon as they are scored, from
// nearly doubling the process's memory: 3.9 GB instead of 4.7 GB for a
// reference of a million records, and faster, since memory the collector
// hands back is not faulted in again.
const gcPercent = 25

// options are the flags every mode shares.
type options struct {
	alpha      float64
	tolerance  float64 // 0: the score's own
	tolSet     bool    // --tolerance was given
	score      string  // auto or one of score.Names()
	test       string
	maxN       int    // 0: until the candidate ends
	tokensBy   string // auto, ids or bytes
	skipFailed bool
	json       bool
	transcript string
	// The keys trusted to sign references and candidates (--ref-pubkey,
	// --cand-pubkey); none: signatures are checked where present only.
	refSigners, candSigners []ed25519.PublicKey
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := &ucli.App{
		Name:        "potcmp",
		Usage:       "is a candidate model the reference model? SAME / DIFFERENT with a stated error rate",
		UsageText:   usageText,
		Description: description,
		Version:     cli.Version,
		Flags: []ucli.Flag{
			&ucli.Float64Flag{Name: "alpha", Value: defaultAlpha, Usage: "error level: P(wrong verdict) <= `A` for each kind of error"},
			&ucli.Float64Flag{Name: "tolerance", Usage: "largest mean score `E` still called SAME (0: the score's own, listed above)"},
			&ucli.StringFlag{Name: "score", Value: "auto", Usage: "score `NAME`: auto, tv, prob, tokens, text, mmd, rank or lr"},
			&ucli.StringFlag{Name: "tokens-by", Value: "auto", Usage: "match the two sides' tokens by `HOW`: auto (from the streams' evidence), ids (trust the ids as one vocabulary's) or bytes"},
			&ucli.BoolFlag{Name: "skip-failures", Usage: "skip the candidate's failed records instead of scoring each 1 (the guarantee then assumes failures independent of the answers)"},
			&ucli.StringFlag{Name: "test", Value: "betting", Usage: "sequential test `NAME`: betting or eb"},
			&ucli.IntFlag{Name: "max-n", Usage: "stop UNDECIDED after `N` scores (0: until the candidate ends)"},
			&ucli.BoolFlag{Name: "json", Usage: "write each result as one JSON object"},
			&ucli.StringFlag{Name: "transcript", Usage: "write every score and the running bounds to `FILE` (JSON lines)"},
			&ucli.BoolFlag{Name: "refs", Usage: "the arguments are references and the last one the candidate: which reference does it match?"},
			&ucli.BoolFlag{Name: "calibrate", Usage: "the two arguments A B are runs of the same model: print their noise floor and a suggested tolerance"},
			&ucli.StringSliceFlag{Name: "ref-pubkey", Usage: "require every reference signed by a key in `FILE` (repeatable: any is trusted)"},
			&ucli.StringSliceFlag{Name: "cand-pubkey", Usage: "require every candidate signed by a key in `FILE` (repeatable); read to its end before the verdict"},
		},
		Action: func(c *ucli.Context) error {
			code, err := action(c)
			if err != nil {
				// Every failure is trouble (2): 1 means DIFFERENT.
				return cli.WithStatus(exitTrouble, err)
			}
			return quiet(code)
		},
	}
	return cli.Run(app, args, cli.Env{Stdin: stdin, Stdout: stdout, Stderr: stderr})
}

// action runs the mode the flags ask for and returns the exit status.
func action(c *ucli.Context) (int, error) {
	o := &options{
		alpha:      c.Float64("alpha"),
		tolerance:  c.Float64("tolerance"),
		tolSet:     c.IsSet("tolerance"),
		score:      c.String("score"),
		test:       c.String("test"),
		maxN:       c.Int("max-n"),
		tokensBy:   c.String("tokens-by"),
		skipFailed: c.Bool("skip-failures"),
		json:       c.Bool("json"),
		transcript: c.String("transcript"),
	}
	if err := o.check(); err != nil {
		return exitTrouble, err
	}
	if err := o.loadSigners(c); err != nil {
		return exitTrouble, err
	}
	args := cli.Args(c)
	env := cli.EnvOf(c)
	if err := checkStdin(args); err != nil {
		return exitTrouble, err
	}
	if env.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(gcPercent))
	}
	switch {
	case c.Bool("refs") && c.Bool("calibrate"):
		return exitTrouble, cli.Usagef("--refs and --calibrate do not go together")
	case c.Bool("calibrate"):
		if len(args) != 2 {
			return exitTrouble, cli.Usagef("--calibrate takes two streams of the same model, got %d arguments", len(args))
		}
		return calibrate(c.Context, env, o, args[0], args[1])
	case c.Bool("refs"):
		if len(args) < 2 {
			return exitTrouble, cli.Usagef("--refs takes one or more references and then the candidate (- for standard input)")
		}
		return matchRefs(c.Context, env, o, args[:len(args)-1], args[len(args)-1])
	}
	switch len(args) {
	case 0:
		return exitTrouble, cli.Usagef("no reference: potcmp REF [CAND|-]... (see --help)")
	case 1:
		args = append(args, "-")
	}
	return compareAll(c.Context, env, o, args[0], args[1:])
}

// config is the comparison the flags ask for, its scores written to tr
// when there is a transcript.
func (o *options) config(tr *transcript) compare.Config {
	cfg := compare.Config{Alpha: o.alpha, Tolerance: o.tolerance, Score: o.score, Test: o.test, MaxN: o.maxN,
		RefSigners: o.refSigners, CandSigners: o.candSigners,
		Tokens: o.tokensBy, SkipFailures: o.skipFailed}
	if tr != nil {
		cfg.Observe = tr.observe
	}
	return cfg
}

// check refuses flag values no mode can use, as usage errors.
func (o *options) check() error {
	if o.score != "auto" && !slices.Contains(score.Names(), o.score) {
		return cli.Usagef("--score %q: want auto, tv, prob, tokens, text, mmd, rank or lr", o.score)
	}
	tol := o.tolerance
	if tol == 0 && !o.tolSet {
		tol = score.TolTV // any valid tolerance: the parameters are checked, not the score's
	}
	if _, err := seqtest.New(o.test, o.alpha, tol); err != nil {
		return cli.Usage(err)
	}
	if !slices.Contains([]string{"auto", "ids", "bytes"}, o.tokensBy) {
		return cli.Usagef("--tokens-by %q: want auto, ids or bytes", o.tokensBy)
	}
	if o.maxN < 0 {
		return cli.Usagef("--max-n %d: want 0 (no limit) or more", o.maxN)
	}
	return nil
}

// checkStdin refuses standard input named twice: only one stream can come
// from it.
func checkStdin(args []string) error {
	n := 0
	for _, a := range args {
		if a == "-" {
			n++
		}
	}
	if n > 1 {
		return cli.Usagef("standard input (-) named %d times", n)
	}
	return nil
}

// worse orders exit statuses for several comparisons: trouble, then
// DIFFERENT (some candidate is proven not to be the reference), then
// UNDECIDED, then SAME.
func worse(a, b int) int {
	rank := func(c int) int {
		switch c {
		case exitTrouble:
			return 3
		case exitDifferent:
			return 2
		case exitUndecided:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// exitFor turns a verdict into potcmp's exit status.
func exitFor(v seqtest.Verdict) int {
	switch v {
	case seqtest.Same:
		return exitSame
	case seqtest.Different:
		return exitDifferent
	}
	return exitUndecided
}

// quiet ends the action with code, the verdict having been printed.
func quiet(code int) error {
	if code == exitSame {
		return nil
	}
	return cli.Quiet(code)
}

// loadSigners loads the keys --ref-pubkey and --cand-pubkey name.
func (o *options) loadSigners(c *ucli.Context) (err error) {
	if f := c.StringSlice("ref-pubkey"); len(f) > 0 {
		if o.refSigners, err = cli.LoadTrusted("ref-pubkey", f); err != nil {
			return err
		}
	}
	if f := c.StringSlice("cand-pubkey"); len(f) > 0 {
		if o.candSigners, err = cli.LoadTrusted("cand-pubkey", f); err != nil {
			return err
		}
	}
	return nil
}
