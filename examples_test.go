package pot_test

// The commands people copy: every line of the README's sh blocks and of the
// Examples of every tool's and subcommand's --help runs here, as written,
// in a folder of its own per text, after the examples before it in that
// text. Each must exit 0, or with the status its comment states ("# exit
// 1: ..."). What the test supplies, and nothing else: the tools built on
// PATH (the README's install step), the real model files by the names the
// examples use, audit.key made first when the examples do not make it,
// and a local server speaking the OpenAI API in place of
// http://127.0.0.1:8080, serving stories260K as llama-server would.

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/local"
	"github.com/pot-audit/pot/internal/model/openai/openaitest"
)

// notRun are the README's commands this test does not run, and why. An
// entry that no longer matches a command fails the test, so the list
// cannot outlive the README.
var notRun = map[string]string{
	"make":                       "the test builds the tools into a bin/ of its own and puts it first on PATH, as these two lines do",
	"export PATH=$PWD/bin:$PATH": "the test builds the tools into a bin/ of its own and puts it first on PATH, as these two lines do",
	"make test":                  "the suite this test belongs to",
	"make demo":                  "TestExamples/demo runs scripts/demo.sh, the whole of make demo but the build, and checks its output against the README's",
	"parallel -S 2/worker1,2/worker2 --workdir ... --transferfile 'ch-{}.pot' --return 'out-{}.pot' --cleanup potgen --model gguf:/models/model.gguf --challenges 'ch-{}.pot' -o 'out-{}.pot' ::: $(seq 0 7)": "needs ssh workers; scripts/fanout/parallel-ssh.sh runs it against an sshd on 127.0.0.1 (go test ./scripts/fanout)",
	"sbatch --array=0-7 potgen.sbatch":      "needs a Slurm cluster; scripts/fanout/slurm.sh runs it on a one-node cluster as root (go test ./scripts/fanout)",
	"sbatch --wait --array=3 potgen.sbatch": "needs a Slurm cluster; scripts/fanout/slurm.sh runs it on a one-node cluster as root (go test ./scripts/fanout)",
}

// serverAddr is the address the examples give for a local llama-server.
const serverAddr = "http://127.0.0.1:8080"

// example is one command line and the exit status it should end with.
type example struct {
	line   string
	status int
}

var exitComment = regexp.MustCompile(`#\s*exit (\d+)\b`)

func newExample(line string) example {
	e := example{line: line}
	if m := exitComment.FindStringSubmatch(line); m != nil {
		e.status, _ = strconv.Atoi(m[1])
	}
	return e
}

// readmeExamples returns the commands of the README's ```sh blocks, a
// line ending in a backslash joined to the next, and the README's lines
// of make demo's output (the ```text block of $ lines).
func readmeExamples(t *testing.T) (cmds []example, demo []string) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var block string // the info string of the fenced block we are in
	in := false
	cont := ""
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "```") {
			in, block = !in, strings.TrimPrefix(line, "```")
			continue
		}
		switch {
		case !in:
		case block == "sh":
			line = cont + strings.TrimSpace(line)
			cont = ""
			if strings.HasSuffix(line, `\`) {
				cont = strings.TrimSuffix(line, `\`)
				continue
			}
			if line != "" && !strings.HasPrefix(line, "#") {
				cmds = append(cmds, newExample(line))
			}
		case block == "text" && strings.HasPrefix(line, "$ potgen"):
			demo = append(demo, line)
		case block == "text" && len(demo) > 0 && verdictLine.MatchString(line):
			demo = append(demo, line)
		}
	}
	return cmds, demo
}

// unnamedValue is an option line of a help text whose value is not named.
var unnamedValue = regexp.MustCompile(`(?m)^ +-[-\w, ]* VALUE\b`)

var verdictLine = regexp.MustCompile(`^(SAME|DIFFERENT|UNDECIDED) n=`)

// withoutComment is a command line without its trailing comment.
func withoutComment(line string) string {
	if i := strings.Index(line, " #"); i >= 0 {
		line = line[:i]
	}
	return strings.TrimSpace(line)
}

// helpExamples returns the lines of the Examples section of a --help text.
func helpExamples(help string) []example {
	var out []example
	in := false
	for _, line := range strings.Split(help, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "Examples:":
			in = true
		case in && trimmed == "":
			in = false
		case in:
			out = append(out, newExample(trimmed))
		}
	}
	return out
}

// subcommands returns the names in the COMMANDS section of a --help text.
func subcommands(help string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(help, "\n") {
		switch {
		case line == "COMMANDS:":
			in = true
		case in && strings.HasPrefix(line, "   "):
			out = append(out, strings.Fields(line)[0])
		case in:
			in = false
		}
	}
	return out
}

func TestExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the tools and runs real models")
	}
	models := os.Getenv("POT_MODELS")
	if models == "" {
		models, _ = filepath.Abs("../shared/models")
	}
	if _, err := os.Stat(filepath.Join(models, "stories260K.bin")); err != nil {
		t.Skipf("the examples name the real models, and %s has none (set POT_MODELS)", models)
	}
	bin := t.TempDir()
	tools := []string{"potgen", "potcmp", "potstat", "potsplit"}
	build := exec.Command("go", "build", "-o", bin+string(os.PathSeparator), "./cmd/potgen", "./cmd/potcmp", "./cmd/potstat", "./cmd/potsplit")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// The server the examples reach at 127.0.0.1:8080: stories260K behind
	// the llama-server API, on a port of its own so that parallel runs and
	// a real server there do not collide.
	sp, err := model.ParseSpec("llama2c:" + filepath.Join(models, "stories260K.bin") + ",tokenizer=" + filepath.Join(models, "tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := local.Open(sp, model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	srv := openaitest.NewServer(m, openaitest.Config{Build: "examples"})
	t.Cleanup(srv.Close)

	texts := map[string][]example{}
	var order []string
	add := func(name string, ex []example) {
		if len(ex) == 0 {
			t.Errorf("%s has no examples", name)
		}
		texts[name] = ex
		order = append(order, name)
	}
	readme, demo := readmeExamples(t)
	var runnable []example
	matched := map[string]bool{}
	for _, e := range readme {
		if _, ok := notRun[withoutComment(e.line)]; ok {
			matched[withoutComment(e.line)] = true
			continue
		}
		runnable = append(runnable, e)
	}
	for line, why := range notRun {
		if !matched[line] {
			t.Errorf("notRun names %q (%s), which the README no longer holds", line, why)
		}
	}
	add("README", runnable)
	for _, tool := range tools {
		help := helpOf(t, bin, tool)
		add(tool, helpExamples(help))
		for _, sub := range subcommands(help) {
			add(tool+" "+sub, helpExamples(helpOf(t, bin, tool, sub)))
		}
	}
	for _, name := range order {
		args := strings.Fields(name)
		if name == "README" {
			continue
		}
		// What internal/cli's help cannot make right by itself: a string
		// flag must say what it takes, in backquotes in its usage.
		help := helpOf(t, bin, args...)
		if m := unnamedValue.FindString(help); m != "" {
			t.Errorf("%s --help: %q: say what the option takes (\"output `FILE`\" in its usage)", name, strings.TrimSpace(m))
		}
	}

	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "POT_MODELS="+models)
	for _, name := range order {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			linkModels(t, models, dir)
			ex := texts[name]
			if !slices.ContainsFunc(ex, func(e example) bool { return strings.HasPrefix(e.line, "potgen keygen -o audit.key") }) {
				runLine(t, dir, env, example{line: "potgen keygen -o audit.key"})
			}
			for _, e := range ex {
				e.line = strings.ReplaceAll(e.line, serverAddr, srv.URL)
				runLine(t, dir, env, e)
			}
		})
	}
	t.Run("demo", func(t *testing.T) {
		t.Parallel()
		checkDemo(t, bin, demo)
	})
}

// helpOf returns the --help text of a tool or subcommand.
func helpOf(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, args[0]), append(args[1:], "--help")...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s --help: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// linkModels puts the model files in dir under the names the examples
// use: their own, and model.gguf for "your GGUF file".
func linkModels(t *testing.T, models, dir string) {
	t.Helper()
	entries, err := os.ReadDir(models)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			if err := os.Symlink(filepath.Join(models, e.Name()), filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.Symlink(filepath.Join(models, "stories260K.gguf"), filepath.Join(dir, "model.gguf")); err != nil {
		t.Fatal(err)
	}
}

// runLine runs one example with sh in dir and checks its exit status.
func runLine(t *testing.T, dir string, env []string, e example) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", e.line)
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	status := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s: %v", e.line, err)
		}
		status = ee.ExitCode()
	}
	if status != e.status {
		t.Fatalf("%s\nexit status %d, want %d\nstdout:\n%s\nstderr:\n%s", e.line, status, e.status, tail(stdout.String()), tail(stderr.String()))
	}
	t.Logf("%s: exit %d", e.line, status)
}

// tail keeps the end of a long output for a failure message.
func tail(s string) string {
	const keep = 2000
	if len(s) > keep {
		return "..." + s[len(s)-keep:]
	}
	return s
}

// checkDemo runs make demo's script with the test's tools and checks that
// it prints the README's commands and verdicts, in order, in plain text:
// captured output carries no terminal escape codes.
func checkDemo(t *testing.T, bin string, readme []string) {
	if len(readme) == 0 {
		t.Fatal("the README shows no output of make demo")
	}
	cmd := exec.CommandContext(t.Context(), "bash", "scripts/demo.sh")
	cmd.Env = append(os.Environ(), "POT_BIN="+bin, "TERM=xterm")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/demo.sh: %v\n%s", err, stderr.String())
	}
	if i := bytes.IndexByte(out, 0x1b); i >= 0 {
		t.Errorf("make demo writes an escape code into captured output at byte %d: %q", i, out[max(0, i-20):min(len(out), i+20)])
	}
	var got []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "$ potgen --model") && strings.Contains(line, "potcmp") || verdictLine.MatchString(line) {
			got = append(got, line)
		}
	}
	// The commands must be the README's; of a verdict line, the verdict,
	// since the counts of the noisy copy vary with the key drawn.
	word := func(s string) string {
		if verdictLine.MatchString(s) {
			return strings.Fields(s)[0]
		}
		return s
	}
	if len(got) != len(readme) {
		t.Fatalf("make demo prints\n%s\nthe README shows\n%s", strings.Join(got, "\n"), strings.Join(readme, "\n"))
	}
	for i := range got {
		if word(got[i]) != word(readme[i]) {
			t.Errorf("make demo prints %q where the README shows %q", got[i], readme[i])
		}
	}
}
