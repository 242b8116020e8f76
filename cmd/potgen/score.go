package main

import (
	"fmt"
	"os"

	ucli "github.com/urfave/cli/v2"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/generate"
	"github.com/pot-audit/pot/internal/model"
)

const scoreUsage = `potgen score reads an outputs stream (a file, or - for standard input) and
writes it again with every output's log-likelihood under a trusted model, by
teacher forcing: the output is fed to the model after its prompt, token by
token, and the log-probabilities the model gives it are added (and that of
stopping, for an output that stopped). This is the statistic potcmp --score
rank ranks: score the trusted model's own samples and the candidate's
outputs with the same --model and --by.

--by tokens scores an output's own token ids, which needs the stream's
vocabulary to be the model's; --by text has the model re-tokenise the text,
for candidates of other vocabularies and backends that give no ids; auto
(the default) takes tokens when the vocabularies are equal, else text. The
reference and the candidate must be scored the same way: potcmp refuses
otherwise, so score a reference by text when a candidate needs it.

The header says what scored the stream (labels loglik.model and loglik.by).
Failed records pass through unscored; an output the model cannot score
(longer than its context, ids outside its vocabulary) passes through
unscored and is counted. -j N scores N outputs at once (the model's threads
shared among them), written in the input's order. --sign NAME signs every
segment written (FORMAT.md 5.1); a signed input rewritten without --sign
comes out unsigned, and potgen score says so.

In a pipe it writes as it reads, and stops when its reader does, so that
potcmp's early stop reaches the queries upstream: it starts scoring no
output while -j+2 of the outputs it scored wait unread. In
potgen -j J | potgen score -j K | potcmp, potgen makes at most
2(J+2)+1 + 2(K+2)+48 queries that potcmp never uses (61 with -j 1 on both),
48 being potcmp's read-ahead.

Examples:
   potgen --model llama2c:stories260K.bin,tokenizer=tok512.bin --key audit.key -n 30 --temperature 1 --samples 4 --seed 1 -o raw.pot
   potgen score --model llama2c:stories260K.bin,tokenizer=tok512.bin -o ref.pot raw.pot
   potgen --model llama2c:stories260K-tampered.bin,tokenizer=tok512.bin --key audit.key -n 30 --temperature 1 --seed 2 | potgen score --model llama2c:stories260K.bin,tokenizer=tok512.bin - | potcmp --score rank ref.pot -  # exit 1: DIFFERENT
   potgen signkey -o archive.sign
   potgen score -j 2 --sign archive.sign --model llama2c:stories260K.bin,tokenizer=tok512.bin -o ref-signed.pot raw.pot
   potgen score --by text --model llama2c:stories260K.bin,tokenizer=tok512.bin raw.pot | potstat -`

// scoreCommand is potgen score.
func scoreCommand() *ucli.Command {
	return &ucli.Command{
		Name:        "score",
		Usage:       "add a trusted model's log-likelihood of every output to a stream",
		UsageText:   "potgen score --model SPEC [--by WAY] [-j N] [--sign NAME] [-o FILE] STREAM|-",
		ArgsUsage:   "STREAM|-",
		Description: scoreUsage,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "the trusted model `SPEC` (a local model)"},
			&ucli.StringFlag{Name: "by", Value: "auto", Usage: "score by `WAY`: tokens (the outputs' own ids), text (re-tokenised) or auto"},
			&ucli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Value: 1, Usage: "`N` outputs scored at once (written in the input's order)"},
			&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "-", Usage: "output `FILE` (- is stdout)"},
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
	sign, err := signOptions(c)
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
	m, err := openModel(c.String("model"), model.Options{Threads: c.Int("threads"), Jobs: c.Int("jobs"), Getenv: env.Getenv})
	if err != nil {
		return err
	}
	defer m.Close()
	sc, ok := m.(model.Scorer)
	if !ok {
		return cli.Usagef("--model %s cannot score outputs (teacher forcing needs a local model: llama2c, gguf or synth)", model.Redact(c.String("model")))
	}
	cfg := generate.ScoreConfig{Scorer: sc, Model: m.Info(), Jobs: c.Int("jobs"), WriterOptions: sign}
	if cfg.By, err = generate.ScoreBy(by, in.Name, &h, cfg.Model); err != nil {
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
	if err := out.Commit(); err != nil {
		return err
	}
	if st.Unscorable > 0 {
		fmt.Fprintf(env.Stderr, "potgen: score: %d of %d outputs could not be scored (passed through unscored); first: %v\n", st.Unscorable, st.Read, st.First)
	}
	if len(signers.IDs) > 0 && len(sign) == 0 {
		fmt.Fprintln(env.Stderr, cli.Unsigned("potgen score", in.Name, out.Name, signers.IDs))
	}
	return nil
}
