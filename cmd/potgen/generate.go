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
	"github.com/pot-audit/pot/internal/model/backends"
)

func generateAction(c *ucli.Context) error {
	env := cli.EnvOf(c)
	if err := checkGenerateFlags(c); err != nil {
		return err
	}
	lbls, err := cli.Labels("label", c.StringSlice("label"))
	if err != nil {
		return err
	}
	resume, outName := c.Bool("resume"), c.String("output")
	if err := generate.CheckOutput(outName, resume, c.Bool("force")); err != nil {
		return err
	}
	sign, err := cli.SignOptions(c.String("sign"))
	if err != nil {
		return err
	}
	sampling := format.Sampling{
		Temperature: c.Float64("temperature"),
		TopP:        c.Float64("top-p"),
		TopK:        c.Int("top-k"),
		MaxTokens:   c.Int("max-tokens"),
		Logprobs:    c.Int("logprobs"),
		Samples:     c.Int("samples"),
		Seed:        c.Uint64("seed"),
	}
	if err := sampling.Check(); err != nil {
		return cli.Usagef("--%v", err)
	}
	src, err := openSource(c, env)
	if err != nil {
		return err
	}
	defer src.Close()
	m, err := openModelFlags(c, env)
	if err != nil {
		return err
	}
	defer m.Close()
	info := m.Info()
	sampling.LogprobsOf, sampling.Endpoint = backends.LogprobsOf(info.Backend), info.Meta["api"]
	h := format.Header{Kind: format.KindOutputs, Challenges: src.Set, Model: info, Sampling: sampling,
		Shard: src.Shard, Created: now(), Tool: toolName(), Labels: lbls}

	out, err := generate.CreateFile(env, outName, c.String("challenges"), resume)
	if err != nil {
		return err
	}
	defer out.Abort()
	done := map[compare.Key]bool{}
	if resume {
		kept, err := out.Resume(env.Stderr, h, done, sign)
		if err != nil {
			return err
		}
		if kept > 0 {
			fmt.Fprintf(env.Stderr, "potgen: resuming %s: %d records kept\n", outName, kept)
		}
	}
	cfg := generate.Config{Model: m, Sampling: sampling, Jobs: c.Int("jobs"), Total: src.Total, Done: done,
		Earlier: out.Earlier, Partial: cli.PartialName(outName), Resumed: out.Resumed, Progress: env.Stderr, WriterOptions: sign}
	if f, ok := env.Stdout.(*os.File); ok && (outName == "-" || outName == "") {
		cfg.Pipe = f // a pipe paces the run (see generate.Lead)
	}
	stats, genErr := generate.Run(c.Context, cfg, src, out, h)
	return out.Finish(env.Stderr, stats, genErr)
}

// checkGenerateFlags refuses what no run can do, as usage errors.
func checkGenerateFlags(c *ucli.Context) error {
	if c.NArg() > 0 {
		return cli.Usagef("unexpected argument %q: the challenges come from --key FILE -n N or --challenges FILE", c.Args().First())
	}
	if c.String("model") == "" {
		return cli.Usagef("--model SPEC is required (try --model synth:1); see potgen --help")
	}
	if samples, jobs := c.Int("samples"), c.Int("jobs"); samples < 1 || jobs < 1 {
		return cli.Usagef("--samples %d, -j %d: want at least 1 of each", samples, jobs)
	}
	return nil
}

// openModelFlags opens the model that --model and its options name.
func openModelFlags(c *ucli.Context, env *cli.Env) (model.Model, error) {
	return backends.Open(c.String("model"), backends.OptionsOf(c, env, "potgen", c.Int("jobs")))
}
