package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/generate"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/backends"
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
unscored and is counted. In a pipe it writes as it reads, and stops when
its reader does, so that potcmp's early stop reaches the queries upstream.

Examples:
   potgen --model llama2c:stories260K.bin,tokenizer=tok512.bin --key audit.key -n 30 --temperature 1 --samples 4 --seed 1 -o raw.pot
   potgen score --model llama2c:stories260K.bin,tokenizer=tok512.bin -o ref.pot raw.pot
   potgen --model llama2c:stories260K-tampered.bin,tokenizer=tok512.bin --key audit.key -n 30 --temperature 1 --seed 2 | potgen score --model llama2c:stories260K.bin,tokenizer=tok512.bin - | potcmp --score rank ref.pot -  # exit 1: DIFFERENT
   potgen score --by text --model llama2c:stories260K.bin,tokenizer=tok512.bin raw.pot | potstat -`

// scoreCommand is potgen score.
func scoreCommand() *ucli.Command {
	return &ucli.Command{
		Name:        "score",
		Usage:       "add a trusted model's log-likelihood of every output to a stream",
		UsageText:   "potgen score --model SPEC [--by WAY] [-o FILE] STREAM|-",
		ArgsUsage:   "STREAM|-",
		Description: scoreUsage,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "the trusted model `SPEC` (a local model)"},
			&ucli.StringFlag{Name: "by", Value: "auto", Usage: "score by `WAY`: tokens (the outputs' own ids), text (re-tokenised) or auto"},
			&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "-", Usage: "output `FILE` (- is stdout)"},
			&ucli.IntFlag{Name: "threads", Usage: "compute `N` threads (0: all cores)"},
		},
		Action: scoreAction,
	}
}

func scoreAction(c *ucli.Context) error {
	env := cli.EnvOf(c)
	if c.NArg() != 1 {
		return cli.Usagef("score takes one stream (- for standard input), got %d arguments", c.NArg())
	}
	if c.String("model") == "" {
		return cli.Usagef("score: --model SPEC is required: the trusted model that scores the outputs")
	}
	by := c.String("by")
	if by != "auto" && by != "tokens" && by != "text" {
		return cli.Usagef("--by %q: want tokens, text or auto", by)
	}
	in, err := env.Open(c.Args().First())
	if err != nil {
		return err
	}
	defer in.Close()
	rd, err := format.NewReader(in)
	if err != nil {
		return fmt.Errorf("%s: %w", in.Name, err)
	}
	defer rd.Close()
	h := rd.First()
	if err := compare.WantOutputs(in.Name, &h); err != nil {
		return err
	}
	m, err := backends.Open(c.String("model"), model.Options{Threads: c.Int("threads"), Jobs: 1, Getenv: env.Getenv})
	if err != nil {
		return err
	}
	defer m.Close()
	sc, ok := m.(model.Scorer)
	if !ok {
		return cli.Usagef("--model %s cannot score outputs (teacher forcing needs a local model: llama2c, gguf or synth)", model.Redact(c.String("model")))
	}
	info := m.Info()
	sameVocab := h.Model.Vocab != "" && h.Model.Vocab == info.Vocab
	switch {
	case by == "auto" && sameVocab:
		by = "tokens"
	case by == "auto":
		by = "text"
	case by == "tokens" && !sameVocab:
		return cli.Usagef("--by tokens: %s has another vocabulary than %s (vocab %q vs %q); use --by text", in.Name, info.Name, h.Model.Vocab, info.Vocab)
	}
	scorer := compare.ModelName(&format.Header{Model: info}) + "@" + info.Digest
	label := func(h format.Header) format.Header {
		h.Labels = maps.Clone(h.Labels)
		if h.Labels == nil {
			h.Labels = map[string]string{}
		}
		h.Labels[compare.LabelLoglikModel], h.Labels[compare.LabelLoglikBy] = scorer, by
		return h
	}
	out, err := env.Create(c.String("output"), cli.OutputOptions{Binary: true, Inputs: []string{c.Args().First()}})
	if err != nil {
		return err
	}
	defer out.Abort()
	st, err := scoreStream(c, rd, in.Name, out, label, sc, by == "text")
	if cli.IsBrokenPipe(err) {
		return nil // the reader has what it needed
	}
	if err != nil {
		return err
	}
	if err := out.Commit(); err != nil {
		return err
	}
	if st.unscorable > 0 {
		fmt.Fprintf(env.Stderr, "potgen: score: %d of %d outputs could not be scored (passed through unscored); first: %v\n", st.unscorable, st.read, st.first)
	}
	return nil
}

// scoreStats counts what scoreStream could not score.
type scoreStats struct {
	read, unscorable int
	first            error
}

// scoreStream copies rd to out, segment by segment under the headers
// label makes of the input's (a concatenation of shards stays one), each
// successful output with its log-likelihood under sc, flushing at most
// generate.FlushEvery after a record so that a reader downstream sees it
// promptly.
func scoreStream(c *ucli.Context, rd *format.Reader, name string, out generate.Output, label func(format.Header) format.Header, sc model.Scorer, byText bool) (scoreStats, error) {
	var st scoreStats
	var w *format.Writer
	seg := -1
	last := time.Now()
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, fmt.Errorf("%s: %w", name, err)
		}
		if rd.Segment() != seg {
			if w != nil {
				if err := w.Close(); err != nil {
					return st, err
				}
			}
			if w, err = format.NewWriter(out, label(rd.Header())); err != nil {
				return st, err
			}
			seg = rd.Segment()
		}
		st.read++
		rec.Scored, rec.Loglik = false, 0
		if rec.Err == "" {
			if rec.Prompt == "" {
				return st, cli.BadInputf("%s: record %d (challenge %s sample %d) has no prompt: potgen score needs the prompts potgen writes", name, st.read-1, rec.ID, rec.Sample)
			}
			q := model.ScoreQuery{Prompt: rec.Prompt, Tokens: rec.Tokens, Stop: rec.Finish == "stop"}
			if byText {
				q = model.ScoreQuery{Prompt: rec.Prompt, Text: rec.Text, Stop: rec.Finish == "stop"}
			}
			switch s, err := sc.Score(c.Context, q); {
			case errors.Is(err, model.ErrNotScorable):
				st.unscorable++
				if st.first == nil {
					st.first = fmt.Errorf("challenge %s sample %d: %w", rec.ID, rec.Sample, err)
				}
			case err != nil:
				return st, err
			default:
				rec.Loglik, rec.Scored = s.Sum, true
			}
		}
		if err := w.Write(&rec); err != nil {
			return st, err
		}
		if time.Since(last) >= generate.FlushEvery {
			if err := w.Flush(); err != nil {
				return st, err
			}
			if err := out.Flush(); err != nil {
				return st, err
			}
			last = time.Now()
		}
	}
	if w == nil {
		// No record: the stream is the first header alone.
		var err error
		if w, err = format.NewWriter(out, label(rd.First())); err != nil {
			return st, err
		}
	}
	if err := w.Close(); err != nil {
		return st, err
	}
	return st, out.Flush()
}
