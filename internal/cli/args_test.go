package cli

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	ucli "github.com/urfave/cli/v2"
)

// testApp is a tool with options of every kind and a subcommand, whose
// actions report what they were given.
func testApp() *ucli.App {
	report := func(c *ucli.Context) error {
		fmt.Fprintf(c.App.Writer, "%s json=%v o=%q n=%d args=%q\n", c.Command.Name, c.Bool("json"), c.String("o"), c.Int("n"), Args(c))
		return nil
	}
	return &ucli.App{
		Name:      "potx",
		Usage:     "a tool for the tests",
		UsageText: "potx [options] FILE...",
		Version:   "9.9",
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "json", Usage: "print JSON"},
			&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "-", Usage: "output `FILE`"},
			&ucli.IntFlag{Name: "n", Usage: "how many"},
			&ucli.IntFlag{Name: "samples", Value: 1, Usage: "samples per challenge"},
			&ucli.StringSliceFlag{Name: "label", Usage: "a `KEY=VALUE` label"},
			&ucli.StringFlag{Name: "secret", Usage: "never shown", Hidden: true},
			&ucli.StringFlag{Name: "must", Usage: "a flag that must be given", Required: true},
		},
		Action: report,
		Commands: []*ucli.Command{{
			Name:        "sub",
			Usage:       "a subcommand",
			ArgsUsage:   "STREAM...",
			Description: "does less.\n\nExamples:\n  potx sub -n 3 a.pot",
			Flags: []ucli.Flag{
				&ucli.BoolFlag{Name: "json"},
				&ucli.IntFlag{Name: "n", Usage: "how many"},
				&ucli.StringFlag{Name: "o"},
			},
			Action: report,
		}},
	}
}

func TestPermute(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
		help bool
	}{
		{"options first", []string{"--json", "a", "b"}, []string{"--json", "--", "a", "b"}, false},
		{"options last", []string{"a", "b", "--json", "-n", "3"}, []string{"--json", "-n", "3", "--", "a", "b"}, false},
		{"between", []string{"a", "-o", "out", "b"}, []string{"-o", "out", "--", "a", "b"}, false},
		{"value that looks like an option", []string{"a", "-o", "-", "-n", "-3"}, []string{"-o", "-", "-n", "-3", "--", "a"}, false},
		{"value with =", []string{"a", "--output=x", "b"}, []string{"--output=x", "--", "a", "b"}, false},
		{"stdin is an operand", []string{"-", "--json"}, []string{"--json", "--", "-"}, false},
		{"double dash ends the options", []string{"a", "--", "--json", "-n"}, []string{"--", "a", "--json", "-n"}, false},
		{"no operands", []string{"--json"}, []string{"--json"}, false},
		{"unknown option takes no value", []string{"--bogus", "a"}, []string{"--bogus", "--", "a"}, false},
		{"bool takes no value", []string{"--json", "a"}, []string{"--json", "--", "a"}, false},
		{"subcommand", []string{"sub", "a", "-n", "2"}, []string{"sub", "-n", "2", "--", "a"}, false},
		{"tool options before the subcommand", []string{"--json", "sub", "a", "--json"}, []string{"--json", "sub", "--json", "--", "a"}, false},
		{"subcommand name as a value", []string{"-o", "sub", "a"}, []string{"-o", "sub", "--", "a"}, false},
		{"subcommand name after an operand", []string{"a", "sub"}, []string{"--", "a", "sub"}, false},
		{"help anywhere", []string{"a", "--help"}, []string{"--", "a"}, true},
		{"help of a subcommand", []string{"sub", "-h"}, []string{"sub"}, true},
		{"help as a value", []string{"-o", "--help"}, []string{"-o", "--help"}, false},
		{"help after double dash", []string{"--", "--help"}, []string{"--", "--help"}, false},
		{"help command", []string{"help", "sub"}, []string{"sub"}, true},
		{"help as an operand", []string{"a", "help"}, []string{"--", "a", "help"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := permute(testApp(), append([]string{"potx"}, tt.args...))
			if want := append([]string{"potx"}, tt.want...); !slices.Equal(p.args, want) || p.help != tt.help {
				t.Fatalf("permute(%q) = %q help=%v, want %q help=%v", tt.args, p.args, p.help, want, tt.help)
			}
		})
	}
}

// TestOptionsAnywhere runs the reordered lines through urfave/cli: what
// the action sees is what the user meant.
func TestOptionsAnywhere(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"after the files", []string{"a.pot", "b.pot", "--json", "--must", "x", "-o", "out"}, `potx json=true o="out" n=0 args=["a.pot" "b.pot"]`},
		{"double dash", []string{"--must", "x", "--", "-a.pot", "--json"}, `potx json=false o="-" n=0 args=["-a.pot" "--json"]`},
		{"stdin", []string{"-", "--must=x", "-n", "4"}, `potx json=false o="-" n=4 args=["-"]`},
		{"subcommand", []string{"--must", "x", "sub", "s.pot", "-n", "5", "--json"}, `sub json=true o="" n=5 args=["s.pot"]`},
		{"subcommand, double dash", []string{"--must=x", "sub", "--", "-n"}, `sub json=false o="" n=0 args=["-n"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(testApp(), append([]string{"potx"}, tt.args...), Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Ctx: t.Context()})
			if code != ExitOK || strings.TrimSpace(out.String()) != tt.want {
				t.Fatalf("%q: status %d, stdout %q, stderr %q; want %q", tt.args, code, out.String(), errb.String(), tt.want)
			}
		})
	}
	for _, args := range [][]string{{"a.pot"}, {"sub", "--must", "x"}} {
		var out, errb bytes.Buffer
		code := Run(testApp(), append([]string{"potx"}, args...), Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Ctx: t.Context()})
		if code != ExitUsage || out.Len() != 0 || errb.String() != "potx: --must is required\n" {
			t.Fatalf("%q without a required flag: %d %q %q", args, code, out.String(), errb.String())
		}
	}
	var out, errb bytes.Buffer
	code := Run(testApp(), []string{"potx", "a.pot", "--bogus", "--must", "x"}, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Ctx: t.Context()})
	if code != ExitUsage || out.Len() != 0 || !strings.Contains(errb.String(), "bogus") {
		t.Fatalf("an unknown option after a file: %d %q %q", code, out.String(), errb.String())
	}
}

func TestHelp(t *testing.T) {
	help := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		code := Run(testApp(), append([]string{"potx"}, args...), Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Ctx: t.Context()})
		if code != ExitOK || errb.Len() != 0 {
			t.Fatalf("%q: status %d, stderr %q", args, code, errb.String())
		}
		return out.String()
	}
	top := help("--help")
	for _, want := range []string{
		"NAME:\n   potx - a tool for the tests\n",
		"USAGE:\n   potx [options] FILE...\n",
		"VERSION:\n   9.9\n",
		"COMMANDS:\n   sub  a subcommand\n",
		"\nOPTIONS:\n",
		"   --json ", "   -o, --output FILE ", "output FILE (default: \"-\")",
		"   -n N ", "how many\n", // no "(default: 0)" on a count that must be given
		"samples per challenge (default: 1)",
		"--label KEY=VALUE ", "a KEY=VALUE label (repeatable)",
		"a flag that must be given (required)",
		"   -h, --help ", "   -v, --version ",
	} {
		if !strings.Contains(top, want) {
			t.Errorf("--help lacks %q:\n%s", want, top)
		}
	}
	for _, bad := range []string{"GLOBAL", "value", "`", "default: false", "default: 0)", "secret"} {
		if strings.Contains(top, bad) {
			t.Errorf("--help holds %q:\n%s", bad, top)
		}
	}
	if got := help("a.pot", "-h"); got != top {
		t.Errorf("-h after a file is not --help:\n%s", got)
	}
	sub := help("sub", "--help")
	for _, want := range []string{"NAME:\n   potx sub - a subcommand\n", "USAGE:\n   potx sub [options] STREAM...\n",
		"DESCRIPTION:\n   does less.\n\n   Examples:\n     potx sub -n 3 a.pot\n", "   -o VALUE\n", "   -n N "} {
		if !strings.Contains(sub, want) {
			t.Errorf("sub --help lacks %q:\n%s", want, sub)
		}
	}
	if strings.Contains(sub, "VERSION") || strings.Contains(sub, "--version") {
		t.Errorf("sub --help shows the tool's version:\n%s", sub)
	}
	if got := help("help", "sub"); got != sub {
		t.Errorf("help sub is not sub --help:\n%s", got)
	}
	if got := help("--json", "sub", "x", "--help"); got != sub {
		t.Errorf("help after a subcommand's operand is not its help:\n%s", got)
	}
}

func TestHelpWraps(t *testing.T) {
	var b strings.Builder
	long := strings.Repeat("word ", 40)
	writeRows(&b, [][2]string{{"-a", long}, {"--a-very-long-option-name VALUE", "short"}})
	for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		if len(line) > helpWidth {
			t.Errorf("line of %d columns: %q", len(line), line)
		}
	}
	if !strings.Contains(b.String(), "--a-very-long-option-name VALUE\n") {
		t.Errorf("a long name keeps its description on its line:\n%s", b.String())
	}
}

func TestLabels(t *testing.T) {
	m, err := Labels("label", []string{"site=eu", "run=2", "empty="})
	if err != nil || len(m) != 3 || m["site"] != "eu" || m["run"] != "2" || m["empty"] != "" {
		t.Fatalf("%v, %v", m, err)
	}
	if m, err := Labels("label", nil); m != nil || err != nil {
		t.Fatalf("no labels: %v, %v", m, err)
	}
	for _, bad := range []string{"novalue", "=v"} {
		if _, err := Labels("label", []string{bad}); err == nil || Status(err) != ExitUsage {
			t.Errorf("%q: %v, want a usage error", bad, err)
		}
	}
}
