package cli

import (
	"slices"
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// parsed is a command line as the user typed it, sorted GNU style: the
// options of each level (the tool, then the subcommand named) ahead of the
// operands, which urfave/cli needs since it stops at the first operand.
type parsed struct {
	args  []string        // the reordered command line, program name first
	path  []*ucli.Command // the subcommands named, outermost first
	help  bool            // -h or --help was given among the options
	given [][]string      // per level (the tool, then each of path): the option names given
}

// permute reorders args (args[0] is the program) so that options may be
// written anywhere, as GNU tools accept them: before, between or after the
// operands. "--" ends the options; what follows it is an operand even if it
// starts with "-", and "-" alone is an operand (standard input). An option
// that takes a value (a flag that is not a BoolFlag) takes the next argument
// unless written --name=value, so `-o -` and `--run-id verify` keep their
// values. The first operand that names a subcommand opens that
// subcommand's level: what follows it is the subcommand's. An unknown
// option is kept among the options for urfave/cli to refuse. The operands
// of the innermost level go after a "--" of our own, so an operand the user
// protected with "--" stays one. Help options, and a first operand "help"
// where there are subcommands, are taken out and reported: urfave/cli's
// own help is not used (see help.go).
func permute(app *ucli.App, args []string) parsed {
	if len(args) == 0 {
		args = []string{app.Name}
	}
	p := parsed{args: []string{args[0]}}
	flags, cmds := app.Flags, app.Commands
	rest := args[1:]
	for {
		var opts, operands, given []string
		var sub *ucli.Command
	scan:
		for i := 0; i < len(rest); i++ {
			a := rest[i]
			switch {
			case a == "--":
				operands = append(operands, rest[i+1:]...)
				break scan
			case len(a) > 1 && a[0] == '-':
				name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
				if name == "help" || name == "h" {
					p.help = true
					continue
				}
				opts = append(opts, a)
				given = append(given, name)
				if !hasValue && takesValue(flags, name) && i+1 < len(rest) {
					i++
					opts = append(opts, rest[i])
				}
			case len(operands) == 0 && len(cmds) > 0 && a == "help" && command(cmds, a) == nil:
				// `potgen help keygen`, as urfave/cli's hidden help
				// command answered it.
				p.help = true
			case len(operands) == 0 && command(cmds, a) != nil:
				sub = command(cmds, a)
				rest = rest[i+1:]
				break scan
			default:
				operands = append(operands, a)
			}
		}
		p.args = append(p.args, opts...)
		p.given = append(p.given, given)
		if sub == nil {
			if len(operands) > 0 {
				p.args = append(p.args, "--")
				p.args = append(p.args, operands...)
			}
			return p
		}
		p.args = append(p.args, sub.Name)
		p.path = append(p.path, sub)
		flags, cmds = sub.Flags, sub.Subcommands
	}
}

// missing returns the first flag marked Required that the command line
// does not give, at any level it names, nor the environment through the
// flag's variables: a usage error found before urfave/cli, whose own error
// for it has no type and comes with the help on stdout.
func (p parsed) missing(app *ucli.App, getenv func(string) string) error {
	flags := app.Flags
	for level, given := range p.given {
		if level > 0 {
			flags = p.path[level-1].Flags
		}
		for _, f := range flags {
			if rf, ok := f.(ucli.RequiredFlag); !ok || !rf.IsRequired() || set(f, given, getenv) {
				continue
			}
			name := f.Names()[0]
			if len(name) == 1 {
				return Usagef("-%s is required", name)
			}
			return Usagef("--%s is required", name)
		}
	}
	return nil
}

// set reports whether f is among the option names given or set through
// one of its environment variables.
func set(f ucli.Flag, given []string, getenv func(string) string) bool {
	for _, n := range f.Names() {
		if slices.Contains(given, n) {
			return true
		}
	}
	if df, ok := f.(ucli.DocGenerationFlag); ok {
		for _, v := range df.GetEnvVars() {
			if getenv(v) != "" {
				return true
			}
		}
	}
	return false
}

// takesValue reports whether the flag called name among flags takes a
// value. Unknown names take none: urfave/cli refuses them anyway.
func takesValue(flags []ucli.Flag, name string) bool {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				df, ok := f.(ucli.DocGenerationFlag)
				return ok && df.TakesValue()
			}
		}
	}
	return false
}

// command returns the visible or hidden subcommand called name, or nil.
func command(cmds []*ucli.Command, name string) *ucli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// Args returns the operands of c: every argument that is not an option.
// Run has put the options ahead of them, so an operand that looks like an
// option is one the user wrote after "--" (a file called -x).
func Args(c *ucli.Context) []string { return c.Args().Slice() }

// Labels parses the KEY=VALUE values of a repeatable flag (potgen
// --label) into a map; nil when there are none.
func Labels(flag string, vals []string) (map[string]string, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(vals))
	for _, v := range vals {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return nil, Usagef("--%s %q: want KEY=VALUE", flag, v)
		}
		m[k] = val
	}
	return m, nil
}
