package cli

import (
	"fmt"
	"io"
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// helpWidth is where the options' descriptions wrap, for an 80-column
// terminal.
const helpWidth = 80

// writeHelp writes the --help text of app, or of the innermost of the
// subcommands in path, on w. pot renders help itself rather than through
// urfave/cli's templates so that every tool and subcommand gets the same
// conventions, new flags included, without each flag asking for them: an
// option is shown with what it takes (`-n N`, never `-n value`), a default
// only when it says something (no "(default: 0)" on a flag that must be
// given, no "(default: false)"), and the heading is OPTIONS, since no
// option of a pot tool is global to its subcommands.
func writeHelp(w io.Writer, app *ucli.App, path []*ucli.Command) error {
	var b strings.Builder
	name, usage, usageText, desc := app.Name, app.Usage, app.UsageText, app.Description
	flags, cmds := app.VisibleFlags(), app.VisibleCommands()
	argsUsage := app.ArgsUsage
	for _, c := range path {
		name += " " + c.Name
		usage, usageText, desc, argsUsage = c.Usage, c.UsageText, c.Description, c.ArgsUsage
		flags, cmds = c.VisibleFlags(), c.VisibleCommands()
	}
	section := func(title string) { fmt.Fprintf(&b, "\n%s:\n", title) }

	b.WriteString("NAME:\n   " + name)
	if usage != "" {
		b.WriteString(" - " + usage)
	}
	b.WriteString("\n")
	section("USAGE")
	if usageText == "" {
		usageText = name + " [options]"
		if len(cmds) > 0 {
			usageText += " [command [options]]"
		}
		if argsUsage != "" {
			usageText += " " + argsUsage
		}
	}
	indent(&b, usageText)
	if len(path) == 0 && app.Version != "" && !app.HideVersion {
		section("VERSION")
		indent(&b, app.Version)
	}
	if desc != "" {
		section("DESCRIPTION")
		indent(&b, desc)
	}
	if len(cmds) > 0 {
		section("COMMANDS")
		width := 0
		for _, c := range cmds {
			width = max(width, len(c.Name))
		}
		for _, c := range cmds {
			fmt.Fprintf(&b, "   %-*s  %s\n", width, c.Name, c.Usage)
		}
	}
	section("OPTIONS")
	rows := make([][2]string, 0, len(flags)+2)
	for _, f := range flags {
		rows = append(rows, flagRow(f))
	}
	rows = append(rows, [2]string{"-h, --help", "show this help"})
	if len(path) == 0 && app.Version != "" && !app.HideVersion {
		rows = append(rows, [2]string{"-v, --version", "print the version"})
	}
	writeRows(&b, rows)
	_, err := io.WriteString(w, b.String())
	return err
}

// indent writes text with every line indented by three more spaces, as
// the sections of a help text are; the text's own indentation (tables,
// examples) is kept.
func indent(b *strings.Builder, text string) {
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString("   " + strings.TrimRight(line, " ") + "\n")
	}
}

// flagRow is the two columns of f's line in the help: its names with what
// it takes, and its description with its default, if it has one worth
// telling.
func flagRow(f ucli.Flag) [2]string {
	df, ok := f.(ucli.DocGenerationFlag)
	if !ok {
		return [2]string{strings.Join(f.Names(), ", "), ""}
	}
	placeholder, usage := placeholder(df)
	var short, long []string
	for _, n := range df.Names() {
		if len(n) == 1 {
			short = append(short, "-"+n)
		} else {
			long = append(long, "--"+n)
		}
	}
	names := strings.Join(append(short, long...), ", ")
	if placeholder != "" {
		names += " " + placeholder
	}
	if sf, ok := f.(ucli.DocGenerationSliceFlag); ok && sf.IsSliceFlag() {
		usage += " (repeatable)"
	}
	if rf, ok := f.(ucli.RequiredFlag); ok && rf.IsRequired() {
		usage += " (required)"
	} else if d := df.GetDefaultText(); df.TakesValue() && !zeroDefault(d) {
		usage += " (default: " + d + ")"
	}
	if env := df.GetEnvVars(); len(env) > 0 {
		usage += " [$" + strings.Join(env, ", $") + "]"
	}
	return [2]string{names, strings.TrimSpace(usage)}
}

// placeholder returns what flag f takes, as its help shows it, and its
// description with the backquotes around that word removed. The word is
// the one the description quotes in backquotes (urfave/cli's convention:
// "output `FILE`"); failing that, one named after the value's type (N for
// a count, X for a number, DURATION), and VALUE for a string, which the
// tests of the help refuse: a string flag must say what it takes. A flag
// that takes no value has none.
func placeholder(f ucli.DocGenerationFlag) (placeholder, usage string) {
	usage = f.GetUsage()
	if i := strings.IndexByte(usage, '`'); i >= 0 {
		if j := strings.IndexByte(usage[i+1:], '`'); j >= 0 {
			placeholder = usage[i+1 : i+1+j]
			usage = usage[:i] + placeholder + usage[i+1+j+1:]
		}
	}
	if !f.TakesValue() {
		return "", usage
	}
	if placeholder != "" {
		return placeholder, usage
	}
	switch f.(type) {
	case *ucli.IntFlag, *ucli.Int64Flag, *ucli.UintFlag, *ucli.Uint64Flag, *ucli.IntSliceFlag, *ucli.Int64SliceFlag:
		return "N", usage
	case *ucli.Float64Flag, *ucli.Float64SliceFlag:
		return "X", usage
	case *ucli.DurationFlag:
		return "DURATION", usage
	}
	return "VALUE", usage
}

// zeroDefault reports whether a default, as urfave/cli renders it, is the
// zero value: for a flag that must be given or that is off unless given,
// "(default: 0)" says nothing, and its description says what 0 means.
func zeroDefault(d string) bool {
	switch d {
	case "", "0", "0s", `""`, "false", "[]":
		return true
	}
	return false
}

// writeRows writes option rows in two columns, the descriptions wrapped
// at helpWidth under each other; names too long for the column put their
// description on the next line.
func writeRows(b *strings.Builder, rows [][2]string) {
	const maxNames = 26
	width := 0
	for _, r := range rows {
		if len(r[0]) <= maxNames {
			width = max(width, len(r[0]))
		}
	}
	pad := 3 + width + 2
	for _, r := range rows {
		b.WriteString("   " + r[0])
		col := 3 + len(r[0])
		if len(r[0]) > width {
			b.WriteString("\n")
			col = 0
		}
		for i, word := range strings.Fields(r[1]) {
			switch {
			case i > 0 && col+1+len(word) > helpWidth:
				b.WriteString("\n" + strings.Repeat(" ", pad))
				col = pad
			case i == 0:
				b.WriteString(strings.Repeat(" ", pad-col))
				col = pad
			default:
				b.WriteString(" ")
				col++
			}
			b.WriteString(word)
			col += len(word)
		}
		b.WriteString("\n")
	}
}
