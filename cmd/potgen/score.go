package main

import (
	_ "embed"
	"fmt"
	"os"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/generate"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/backends"
)

// scoreUsage is the help text in help/score.txt; %[1]d is generate.Slack,
// %[2]d compare.ReadAhead and %[3]d the bound they make with -j 1.
//
//go:embed help/score.txt
var scoreUsage string

// scoreCommand is potgen score.
func scoreCommand() *ucli.Command {
	return &ucli.Command{
		Name:        "score",
		Usage:       "add a trusted model's log-likelihood of every output to a stream",
		UsageText:   "potgen score --model SPEC [--alt SPEC]... [--by WAY] [-j N] [--sign NAME] [-o FILE] STREAM|-",
		ArgsUsage:   "STREAM|-",
		Description: fmt.Sprintf(scoreUsage, generate.Slack, compare.ReadAhead, generate.ScoreWaste(1, 1, compare.ReadAhead)),
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "the trusted model `SPEC` (a local model)"},
			&ucli.GenericFlag{Name: "alt", Value: &specList{}, Usage: "also score every output under the alternative model `SPEC` (repeatable; the trusted model's vocabulary)"},
			&ucli.StringFlag{Name: "by", Value: "auto", Usage: "score by `WAY`: tokens (the outputs' own ids), text (re-tokenised) or auto"},
			&ucli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Value: 1, Usage: "`N` outputs scored at once (written in the input's order)"},
			&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "-", Usage: "output `FILE` (- is stdout)"},
			&ucli.BoolFlag{Name: "force", Usage: "replace an existing -o FILE (without it, potgen refuses)"},
			&ucli.IntFlag{Name: "threads", Usage: "compute `N` threads per output (0: cores / jobs)"},
			signFlag(),
		},
		Action: scoreAction,
	}
}

func scoreAction(c *ucli.Context) error {
	env := cli.EnvOf(c)
	switch {
	case c.NArg() != 1:
		return cli.Usagef("score takes one stream (- for standard input), got %d arguments", c.NArg())
	case c.String("model") == "":
		return cli.Usagef("score: --model SPEC is required: the trusted model that scores the outputs")
	case c.Int("jobs") < 1:
		return cli.Usagef("-j %d: want at least 1", c.Int("jobs"))
	}
	by := c.String("by")
	if by != "auto" && by != generate.ByTokens && by != generate.ByText {
		return cli.Usagef("--by %q: want tokens, text or auto", by)
	}
	if err := cli.RefuseExisting(c.String("output"), c.Bool("force"), false); err != nil {
		return err
	}
	sign, err := cli.SignOptions(c.String("sign"))
	if err != nil {
		return err
	}
	in, err := env.Open(c.Args().First())
	if err != nil {
		return err
	}
	defer in.Close()
	var signers cli.Signers
	rd, err := format.NewReader(in, signers.Option())
	if err != nil {
		return fmt.Errorf("%s: %w", in.Name, err)
	}
	scoring := false // once Score has it, Score closes rd
	defer func() {
		if !scoring {
			rd.Close()
		}
	}()
	h := rd.First()
	if err := compare.WantOutputs(in.Name, &h); err != nil {
		return err
	}
	m, err := backends.Open(c.String("model"), model.Options{Threads: c.Int("threads"), Jobs: c.Int("jobs"), Getenv: env.Getenv})
	if err != nil {
		return err
	}
	defer m.Close()
	sc, err := scorerOf(m, "--model", c.String("model"))
	if err != nil {
		return err
	}
	cfg := generate.ScoreConfig{Scorer: sc, Model: m.Info(), Jobs: c.Int("jobs"), WriterOptions: sign}
	closeAlts, err := openAlts(c, env, &cfg)
	defer closeAlts()
	if err != nil {
		return err
	}
	if err := scoreWay(c.String("by"), in.Name, &h, m, &cfg); err != nil {
		return err
	}
	out, err := env.Create(c.String("output"), cli.OutputOptions{Binary: true, Inputs: []string{c.Args().First()}})
	if err != nil {
		return err
	}
	defer out.Abort()
	if f, ok := env.Stdout.(*os.File); ok && (c.String("output") == "-" || c.String("output") == "") {
		cfg.Pipe = f // a pipe paces the run (see generate.Lead)
	}
	scoring = true
	st, err := generate.Score(c.Context, cfg, rd, in.Name, out)
	switch {
	case err != nil:
		return err
	case st.BrokenPipe:
		return nil // the reader has what it needed
	}
	return scored(env, out, st, in.Name, signers.IDs, len(sign) > 0)
}

// openAlts opens every --alt model into cfg.Alts, each of the trusted
// model's vocabulary; the function returned closes those opened, also
// after an error.
func openAlts(c *ucli.Context, env *cli.Env, cfg *generate.ScoreConfig) (func(), error) {
	var opened []model.Model
	closeAll := func() {
		for _, a := range opened {
			a.Close()
		}
	}
	for _, spec := range c.Generic("alt").(*specList).specs {
		a, err := backends.Open(spec, model.Options{Threads: c.Int("threads"), Jobs: c.Int("jobs"), Getenv: env.Getenv})
		if err != nil {
			return closeAll, err
		}
		opened = append(opened, a)
		asc, err := scorerOf(a, "--alt", spec)
		if err != nil {
			return closeAll, err
		}
		if err := generate.CheckAlt(model.Redact(spec), a.Info(), cfg.Model); err != nil {
			return closeAll, err
		}
		cfg.Alts = append(cfg.Alts, generate.Alt{Scorer: asc, Model: a.Info()})
	}
	return closeAll, nil
}

// scoreWay sets cfg.By from --by and the stream's header h, and, scoring
// by tokens a stream that names no vocabulary, the trusted model m's
// pieces to check its ids against.
func scoreWay(by, name string, h *format.Header, m model.Model, cfg *generate.ScoreConfig) error {
	way, checked, err := generate.ScoreBy(by, name, h, cfg.Model)
	if err != nil {
		return err
	}
	cfg.By = way
	if checked {
		v, ok := m.(model.Vocabulary)
		if !ok {
			return cli.Usagef("--by tokens: %s names no vocabulary and %s cannot list its own to check the ids against; use --by text", name, cfg.Model.Name)
		}
		cfg.Check = v.Pieces()
	}
	return nil
}

// scorerOf is m as a Scorer, or a usage error naming the flag and spec.
func scorerOf(m model.Model, flag, spec string) (model.Scorer, error) {
	sc, ok := m.(model.Scorer)
	if !ok {
		return nil, cli.Usagef("%s %s cannot score outputs (teacher forcing needs a local model: llama2c, gguf or synth)", flag, model.Redact(spec))
	}
	return sc, nil
}

// specList is a repeatable flag of model specs, each taken whole: a spec's
// commas separate its parameters, not values.
type specList struct{ specs []string }

func (l *specList) Set(v string) error {
	l.specs = append(l.specs, v)
	return nil
}

func (l *specList) String() string { return strings.Join(l.specs, " ") }

// scored commits potgen score's output and says what the user should
// know of it: the outputs it could not score, and signatures it dropped.
func scored(env *cli.Env, out *cli.Output, st generate.ScoreStats, in string, signers []string, signed bool) error {
	if err := out.Commit(); err != nil {
		return err
	}
	if st.Unscorable > 0 {
		fmt.Fprintf(env.Stderr, "potgen: score: %d of %d outputs could not be scored (passed through unscored); first: %v\n", st.Unscorable, st.Read, st.First)
	}
	if len(signers) > 0 && !signed {
		fmt.Fprintln(env.Stderr, cli.Unsigned("potgen score", in, out.Name, signers))
	}
	return nil
}
