package main

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/generate"
)

// openSource opens the challenges the flags name: a challenge stream, or
// a set derived from a key.
func openSource(c *ucli.Context, env *cli.Env) (*generate.Challenges, error) {
	if name := c.String("challenges"); name != "" {
		for _, f := range []string{"key", "n", "prompts", "run-id"} {
			if c.IsSet(f) {
				return nil, cli.Usagef("--challenges and --%s are exclusive: the stream already names its set", f)
			}
		}
		return generate.FromStream(env, name)
	}
	set, err := openSet(c)
	if err != nil {
		return nil, err
	}
	return generate.FromSet(set), nil
}
