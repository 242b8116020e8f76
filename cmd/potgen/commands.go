package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	ucli "github.com/urfave/cli/v2"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/challenge"
	"github.com/pot-audit/pot/internal/cli"
)

func keygenAction(c *ucli.Context) error {
	env := cli.EnvOf(c)
	if c.NArg() > 0 {
		return cli.Usagef("keygen takes no arguments")
	}
	key, err := challenge.GenerateKey(nil)
	if err != nil {
		return err
	}
	name := c.String("output")
	if name != "-" {
		if _, err := os.Stat(name); err == nil {
			return cli.Usagef("%s: exists; refusing to overwrite a key", name)
		}
	}
	out, err := env.Create(name, cli.OutputOptions{Mode: 0o600})
	if err != nil {
		return err
	}
	defer out.Abort()
	if _, err := out.Write(key.KeyFile()); err != nil {
		return err
	}
	return out.Commit()
}

// openSet builds the challenge set named by --key, -n, --family or
// --prompts and --run-id.
func openSet(c *ucli.Context) (*challenge.Set, error) {
	if c.String("key") == "" || !c.IsSet("n") {
		return nil, cli.Usagef("a challenge set needs --key FILE and -n N (or --challenges FILE)")
	}
	f := challenge.SetFiles{Key: c.String("key"), N: c.Int("n"), Prompts: c.String("prompts"), RunID: c.String("run-id")}
	if c.IsSet("family") {
		f.Family = c.String("family")
	}
	set, err := challenge.OpenSet(f)
	if err != nil {
		return nil, cli.Usage(err)
	}
	return set, nil
}

func challengesAction(c *ucli.Context) error {
	env := cli.EnvOf(c)
	if c.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", c.Args().First())
	}
	set, err := openSet(c)
	if err != nil {
		return err
	}
	if err := cli.RefuseExisting(c.String("output"), c.Bool("force"), false); err != nil {
		return err
	}
	sign, err := cli.SignOptions(c.String("sign"))
	if err != nil {
		return err
	}
	out, err := env.Create(c.String("output"), cli.OutputOptions{Binary: true})
	if err != nil {
		return err
	}
	defer out.Abort()
	h := format.Header{Kind: format.KindChallenges, Challenges: set.Header(), Created: now(), Tool: toolName()}
	stop := func(i int) error {
		if err := cli.Interrupted(c.Context); err != nil {
			return fmt.Errorf("%w after %d of %d challenges; nothing written", err, i, set.Len())
		}
		return nil
	}
	if err := set.WriteStream(out, h, stop, sign...); err != nil {
		return err
	}
	return out.Commit()
}

func verifyAction(c *ucli.Context) error {
	env := cli.EnvOf(c)
	if !c.IsSet("key") {
		// Checked here, not by urfave/cli's Required, whose error has no
		// type to tell it from a runtime failure.
		return cli.Usagef("verify: --key FILE is required: the key revealed after the audit")
	}
	if c.NArg() == 0 {
		return cli.Usagef("verify: name the streams to check")
	}
	key, err := challenge.ReadKeyFile(c.String("key"))
	if err != nil {
		return cli.Usage(err)
	}
	var prompts *challenge.PromptFile
	if p := c.String("prompts"); p != "" {
		if prompts, err = challenge.ReadPromptFile(p); err != nil {
			return cli.Usage(err)
		}
	}
	status := cli.ExitOK
	for _, name := range c.Args().Slice() {
		n, err := verifyStream(c.Context, env, key, prompts, name)
		switch {
		case errors.Is(err, cli.ErrInterrupted):
			return err
		case err == nil:
			fmt.Fprintf(env.Stdout, "%s: ok: %d records match the key\n", name, n)
		case errors.Is(err, challenge.ErrMismatch):
			fmt.Fprintf(env.Stdout, "%s: MISMATCH: %v\n", name, err)
			status = max(status, cli.ExitFailure)
		default:
			fmt.Fprintln(env.Stderr, cli.Message("potgen", err))
			status = cli.ExitUsage
		}
	}
	if status != cli.ExitOK {
		return cli.Quiet(status)
	}
	return nil
}

func verifyStream(ctx context.Context, env *cli.Env, key challenge.Key, prompts *challenge.PromptFile, name string) (int, error) {
	in, err := env.Open(name)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	r, err := format.NewReader(in)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", in.Name, err)
	}
	defer r.Close()
	return challenge.VerifyStream(r, in.Name, key, prompts, func() error { return cli.Interrupted(ctx) })
}
