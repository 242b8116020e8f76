package main

import (
	"fmt"
	"io"
	"os"
	"strconv"

	ucli "github.com/urfave/cli/v2"

	"github.com/pot-audit/pot/internal/cli"
)

func main() { os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr)) }

// run is the whole tool with its process injected, so tests run it
// in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := &ucli.App{
		Name:        "potsplit",
		Usage:       "cut a pot stream into shards that cat joins again",
		UsageText:   usageText,
		Description: description,
		Version:     cli.Version,
		Flags: []ucli.Flag{
			&ucli.IntFlag{Name: "n", Usage: "split into `SHARDS` shards by challenge id"},
			&ucli.Int64Flag{Name: "records", Usage: "consecutive shards of `N` records"},
			&ucli.StringFlag{Name: "size", Usage: "consecutive shards of about `BYTES` compressed bytes (k, M, G suffixes)"},
			&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "shard file `PATTERN`; {} is the shard index"},
			&ucli.BoolFlag{Name: "mixed", Usage: "accept segments with incompatible headers, and pass them on"},
			&ucli.StringFlag{Name: "sign", Usage: "sign every shard's segments with the private key `NAME` (from potgen signkey)"},
		},
		Action: action,
	}
	return cli.Run(app, args, cli.Env{Stdin: stdin, Stdout: stdout, Stderr: stderr})
}

func action(c *ucli.Context) error {
	p, err := parsePlan(c)
	if err != nil {
		return err
	}
	env := cli.EnvOf(c)
	in, err := env.Open(p.input)
	if err != nil {
		return err
	}
	defer in.Close()
	return split(c.Context, env, in, p)
}

// plan is what the command line asks for.
type plan struct {
	by      string // "challenge", "records" or "size": the Header.Shard.By value
	shards  int    // -n
	records int64  // --records
	size    int64  // --size
	pattern string
	input   string
	mixed   bool   // --mixed: segments with incompatible headers pass
	sign    string // --sign: the private key file, "" for unsigned shards
}

func parsePlan(c *ucli.Context) (plan, error) {
	var p plan
	args := cli.Args(c)
	modes := 0
	if c.IsSet("n") {
		modes++
		p.by, p.shards = "challenge", c.Int("n")
		if p.shards < 1 {
			return p, cli.Usagef("-n %d: want at least 1 shard", p.shards)
		}
	}
	if c.IsSet("records") {
		modes++
		p.by, p.records = "records", c.Int64("records")
		if p.records < 1 {
			return p, cli.Usagef("--records %d: want at least 1 record per shard", p.records)
		}
	}
	if c.IsSet("size") {
		modes++
		size, err := parseSize(c.String("size"))
		if err != nil {
			return p, cli.Usagef("--size: %v", err)
		}
		p.by, p.size = "size", size
	}
	if modes != 1 {
		return p, cli.Usagef("give exactly one of -n SHARDS, --records N or --size BYTES")
	}
	p.mixed = c.Bool("mixed")
	p.sign = c.String("sign")
	p.pattern = c.String("output")
	if p.pattern == "" {
		return p, cli.Usagef("-o PATTERN is required (for example -o 'shard-{}.pot')")
	}
	if _, err := cli.ExpandPattern(p.pattern, 0); err != nil {
		return p, err
	}
	switch len(args) {
	case 0:
		p.input = "-"
	case 1:
		p.input = args[0]
	default:
		return p, cli.Usagef("one input at a time (got %d); cat them into a pipe to split several", len(args))
	}
	return p, nil
}

// parseSize reads a byte count with an optional k, M or G suffix (powers
// of 1024, as split(1) reads them).
func parseSize(s string) (int64, error) {
	num, mult := s, int64(1)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			num, mult = s[:n-1], 1<<10
		case 'M':
			num, mult = s[:n-1], 1<<20
		case 'G':
			num, mult = s[:n-1], 1<<30
		}
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v < 1 {
		return 0, fmt.Errorf("%q is not a positive size (BYTES, or with a suffix: 512k, 64M, 2G)", s)
	}
	if v > (1<<62)/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return v * mult, nil
}
