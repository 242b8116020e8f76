package main

import (
	"fmt"
	"io"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/generate"
	"github.com/pot-audit/pot/internal/model/backends"
)

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runEnv(args, cli.Env{Stdin: stdin, Stdout: stdout, Stderr: stderr})
}

// runEnv is run with the whole environment given, so tests can interrupt it.
func runEnv(args []string, env cli.Env) int { return cli.Run(newApp(), args, env) }

func newApp() *ucli.App {
	return &ucli.App{
		Name:        "potgen",
		Usage:       "query a model on a secret challenge set and write a pot stream",
		UsageText:   "potgen --model SPEC (--key FILE -n N | --challenges FILE|-) [options]\npotgen keygen [-o FILE]\npotgen signkey -o NAME\npotgen challenges --key FILE -n N [options]\npotgen verify --key FILE [--prompts FILE] STREAM...\npotgen score --model SPEC [-o FILE] STREAM|-",
		Description: fmt.Sprintf(usage, generate.Slack, compare.ReadAhead),
		Version:     cli.Version,
		Flags:       generateFlags(),
		Action:      generateAction,
		Commands: []*ucli.Command{
			{
				Name:        "keygen",
				Usage:       "write a new secret key",
				UsageText:   "potgen keygen [-o FILE]",
				Description: keygenUsage,
				Flags:       []ucli.Flag{&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "-", Usage: "key `FILE` to create (mode 0600; - is stdout)"}},
				Action:      keygenAction,
			},
			signkeyCommand(),
			{
				Name:        "challenges",
				Usage:       "write a challenge stream",
				UsageText:   "potgen challenges --key FILE -n N [--family FAMILY | --prompts FILE] [--run-id ID] [-o FILE]",
				Description: challengesUsage,
				Flags: append(setFlags(),
					&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "-", Usage: "output `FILE` (- is stdout)"},
					&ucli.BoolFlag{Name: "force", Usage: "replace an existing -o FILE (without it, potgen refuses)"},
					signFlag()),
				Action: challengesAction,
			},
			{
				Name:        "verify",
				Usage:       "check streams against a revealed key",
				UsageText:   "potgen verify --key FILE [--prompts FILE] STREAM...",
				Description: verifyUsage,
				Flags: []ucli.Flag{
					&ucli.StringFlag{Name: "key", Usage: "revealed key `FILE` (required)"},
					&ucli.StringFlag{Name: "prompts", Usage: "the prompt `FILE` of a prompt-file set"},
				},
				Action: verifyAction,
			},
			scoreCommand(),
		},
	}
}

// setFlags name a challenge set derived from a key.
func setFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "key", Usage: "secret key `FILE` (from potgen keygen)"},
		&ucli.IntFlag{Name: "n", Usage: "number of challenges"},
		&ucli.StringFlag{Name: "family", Value: "templates", Usage: "built-in prompt `FAMILY` (templates = templates/v1)"},
		&ucli.StringFlag{Name: "prompts", Usage: "pick prompts from `FILE` (text lines or JSON Lines with a \"prompt\" field) instead of a family"},
		&ucli.StringFlag{Name: "run-id", Value: "default", Usage: "draw another challenge set from the same key, named `ID`"},
	}
}

func generateFlags() []ucli.Flag {
	flags := append(setFlags(),
		&ucli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "model `SPEC` (see above)"},
		&ucli.StringFlag{Name: "challenges", Usage: "read challenges from a challenge stream `FILE` (- is stdin) instead of --key/-n"},
		&ucli.IntFlag{Name: "samples", Value: 1, Usage: "`K` samples per challenge"},
		&ucli.Uint64Flag{Name: "seed", Usage: "base `SEED` mixed into every sample's seed"},
		&ucli.Float64Flag{Name: "temperature", Usage: "sampling temperature `T` (0 is greedy)"},
		&ucli.Float64Flag{Name: "top-p", Usage: "nucleus sampling threshold `P` (0 or 1 is off)"},
		&ucli.IntFlag{Name: "top-k", Usage: "sample from the `K` most likely tokens (0 is off)"},
		&ucli.IntFlag{Name: "max-tokens", Value: 32, Usage: "`N` tokens to generate per sample"},
		&ucli.IntFlag{Name: "logprobs", Value: 5, Usage: "top-`K` alternatives recorded per position (0: chosen tokens only)"},
		&ucli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Value: 1, Usage: "`N` queries in flight (workers share the model)"},
		&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "-", Usage: "output `FILE` (- is stdout)"},
		&ucli.BoolFlag{Name: "resume", Usage: "continue an interrupted -o FILE: keep its records, redo only missing and failed ones"},
		&ucli.BoolFlag{Name: "force", Usage: "replace an existing -o FILE (without it, potgen refuses)"},
		&ucli.StringSliceFlag{Name: "label", Usage: "free-form `KEY=VALUE` label for the header"},
	)
	flags = append(flags, backends.Flags()...)
	return append(flags, signFlag())
}

func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func toolName() string { return fmt.Sprintf("potgen %s", cli.Version) }
