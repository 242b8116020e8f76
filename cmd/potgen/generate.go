package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/generate"
	"github.com/pot-audit/pot/internal/model"
)

func generateAction(c *ucli.Context) error {
	env := cli.EnvOf(c)
	if err := checkGenerateFlags(c); err != nil {
		return err
	}
	lbls, err := labels(c)
	if err != nil {
		return err
	}
	resume, outName := c.Bool("resume"), c.String("output")
	if resume && (outName == "-" || outName == "") {
		return cli.Usagef("--resume needs -o FILE: there is nothing to resume on stdout")
	}
	if resume && c.Bool("force") {
		return cli.Usagef("--resume and --force are exclusive: one keeps -o FILE's records, the other replaces them")
	}
	if !resume {
		if err := refuseExisting(outName, c.Bool("force")); err != nil {
			return err
		}
	}
	sign, err := signOptions(c)
	if err != nil {
		return err
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
	sampling := format.Sampling{
		Temperature: c.Float64("temperature"),
		TopP:        c.Float64("top-p"),
		TopK:        c.Int("top-k"),
		MaxTokens:   c.Int("max-tokens"),
		Logprobs:    c.Int("logprobs"),
		Samples:     c.Int("samples"),
		Seed:        c.Uint64("seed"),
		LogprobsOf:  logprobsOf(info.Backend),
		Endpoint:    info.Meta["api"],
	}
	h := format.Header{Kind: format.KindOutputs, Challenges: src.Set, Model: info, Sampling: sampling,
		Shard: src.Shard, Created: now(), Tool: toolName(), Labels: lbls}

	out, err := createOutput(env, outName, c.String("challenges"), resume)
	if err != nil {
		return err
	}
	defer out.Abort()
	done := map[compare.Key]bool{}
	if resume {
		kept, err := out.resume(env, h, done, sign)
		if err != nil {
			return err
		}
		if kept > 0 {
			fmt.Fprintf(env.Stderr, "potgen: resuming %s: %d records kept\n", outName, kept)
		}
	}
	cfg := generate.Config{Model: m, Sampling: sampling, Jobs: c.Int("jobs"), Total: src.Total, Done: done,
		Earlier: out.earlier, Partial: cli.PartialName(outName), Resumed: out.resumed, Progress: env.Stderr, WriterOptions: sign}
	if f, ok := env.Stdout.(*os.File); ok && (outName == "-" || outName == "") {
		cfg.Pipe = f // a pipe paces the run (see generate.Lead)
	}
	stats, genErr := generate.Run(c.Context, cfg, src, out, h)
	return finish(env, out, stats, genErr)
}

// checkGenerateFlags refuses what no run can do, as usage errors.
func checkGenerateFlags(c *ucli.Context) error {
	if c.NArg() > 0 {
		return cli.Usagef("unexpected argument %q: the challenges come from --key FILE -n N or --challenges FILE", c.Args().First())
	}
	if c.String("model") == "" {
		return cli.Usagef("--model SPEC is required (try --model synth:1); see potgen --help")
	}
	samples, jobs := c.Int("samples"), c.Int("jobs")
	switch {
	case samples < 1:
		return cli.Usagef("--samples %d: want at least 1", samples)
	case jobs < 1:
		return cli.Usagef("-j %d: want at least 1", jobs)
	case c.Float64("temperature") < 0:
		return cli.Usagef("--temperature must not be negative")
	case c.Float64("top-p") < 0 || c.Float64("top-p") > 1:
		return cli.Usagef("--top-p must be in [0, 1]")
	case c.Int("top-k") < 0 || c.Int("max-tokens") < 0:
		return cli.Usagef("--top-k and --max-tokens must not be negative")
	case c.Int("logprobs") < 0 || c.Int("logprobs") > format.MaxTopK:
		return cli.Usagef("--logprobs must be in 0..%d", format.MaxTopK)
	}
	return nil
}

// openModelFlags opens the model that --model and its options name.
func openModelFlags(c *ucli.Context, env *cli.Env) (model.Model, error) {
	retries := c.Int("retries")
	if retries == 0 {
		retries = -1 // the backends read 0 as their default
	}
	return openModel(c.String("model"), model.Options{
		Threads:    c.Int("threads"),
		Jobs:       c.Int("jobs"),
		Timeout:    c.Duration("timeout"),
		Retries:    retries,
		RateLimit:  c.Float64("rate"),
		APIKeyEnv:  c.String("api-key-env"),
		APIKeyFile: c.String("api-key-file"),
		Getenv:     env.Getenv,
		Logf: func(f string, args ...any) {
			fmt.Fprintln(env.Stderr, cli.Message("potgen", fmt.Errorf(f, args...)))
		},
	})
}

// finish commits or keeps the output and sums the run up on stderr.
func finish(env *cli.Env, out *output, st generate.Stats, genErr error) error {
	elapsed := time.Since(st.Start).Round(time.Millisecond)
	if st.BrokenPipe {
		out.Abort()
		return nil // the reader has what it needed
	}
	if genErr != nil {
		kept := out.Keep()
		where := ""
		if kept != "" {
			where = fmt.Sprintf("; %d records kept in %s: run again with --resume to continue", st.Written, kept)
		}
		if st.Interrupted {
			return cli.WithStatus(cli.ExitFailure, fmt.Errorf("interrupted after %d records%s", st.Written, where))
		}
		return fmt.Errorf("%w%s", genErr, where)
	}
	if err := out.Commit(); err != nil {
		return err
	}
	if st.Failed > 0 || st.Retries > 0 || cli.IsTerminal(env.Stderr) {
		fmt.Fprintf(env.Stderr, "potgen: %d records in %s, %d retries, %d failed\n", st.Written, elapsed, st.Retries, st.Failed)
	}
	if st.Failed > 0 {
		return cli.WithStatus(cli.ExitFailure, errors.New(failedMessage(st.Failed, out.name)))
	}
	return nil
}

func failedMessage(n int, name string) string {
	if name == "" || name == "-" {
		return fmt.Sprintf("%d queries failed after their retries (recorded with their errors)", n)
	}
	return fmt.Sprintf("%d queries failed after their retries (recorded with their errors); potgen --resume -o %s retries them", n, name)
}
