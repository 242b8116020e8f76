package backends

import (
	"fmt"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/model"
)

// Flags are the command-line options of opening a model that a tool
// querying models takes: how servers and commands are asked (timeout,
// retries, rate, API key) and how local models compute (threads). A new
// one each time, since a flag holds its parsed value.
func Flags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.DurationFlag{Name: "timeout", Value: 60 * time.Second, Usage: "per-request timeout `DURATION` for servers and commands (30s, 2m)"},
		&ucli.IntFlag{Name: "retries", Value: 5, Usage: "`N` retries of a failed request (servers and commands)"},
		&ucli.Float64Flag{Name: "rate", Usage: "at most `R` requests per second (0: no limit)"},
		&ucli.StringFlag{Name: "api-key-env", Usage: "environment variable `NAME` holding the server's API key (default OPENAI_API_KEY, used when set)"},
		&ucli.StringFlag{Name: "api-key-file", Usage: "`FILE` holding the server's API key (mode 0600: readable by its owner only)"},
		&ucli.IntFlag{Name: "threads", Usage: "`N` compute threads per query for local models (0: cores / jobs)"},
	}
}

// OptionsOf reads Flags back as the options of Open, for jobs queries in
// flight; the backends' warnings go to env's stderr under tool's name.
func OptionsOf(c *ucli.Context, env *cli.Env, tool string, jobs int) model.Options {
	retries := c.Int("retries")
	if retries == 0 {
		retries = -1 // --retries 0 means none; the backends read 0 as their default
	}
	return model.Options{
		Threads:    c.Int("threads"),
		Jobs:       jobs,
		Timeout:    c.Duration("timeout"),
		Retries:    retries,
		RateLimit:  c.Float64("rate"),
		APIKeyEnv:  c.String("api-key-env"),
		APIKeyFile: c.String("api-key-file"),
		Getenv:     env.Getenv,
		Logf: func(f string, args ...any) {
			fmt.Fprintln(env.Stderr, cli.Message(tool, fmt.Errorf(f, args...)))
		},
	}
}
