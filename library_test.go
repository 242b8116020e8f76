package pot_test

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/local"
	"github.com/pot-audit/pot/internal/model/openai/openaitest"
)

// serveCmd stands in for a deployment: `serve VAR SPEC` serves the local
// model SPEC over the OpenAI API (llama-server's shapes) on a port of its
// own until the script ends, and sets VAR to its URL with /v1, for
// `potgen --model openai:$VAR`.
func serveCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: serve VAR SPEC")
	}
	sp, err := model.ParseSpec(args[1])
	if err != nil {
		ts.Fatalf("serve: %v", err)
	}
	m, err := local.Open(sp, model.Options{})
	if err != nil {
		ts.Fatalf("serve: %v", err)
	}
	srv := openaitest.NewServer(m, openaitest.Config{})
	ts.Defer(func() {
		srv.Close()
		m.Close()
	})
	ts.Setenv(args[0], srv.URL+"/v1")
}

// TestReadmeLibrary keeps the README's section "A reference library" and
// testdata/script/library.txtar, which runs it, the same: every command
// line of the section's code blocks must be a line of the script. Blocks
// of output (their lines do not start with a tool's name or a shell
// word) are left out.
func TestReadmeLibrary(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("testdata/script/library.txtar")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(script), "\n") {
		lines[l] = true
	}
	section := false
	block := false
	commands := 0
	sc := bufio.NewScanner(strings.NewReader(string(readme)))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "## "):
			section = l == "## A reference library"
			continue
		case !section:
			continue
		case strings.HasPrefix(l, "```"):
			block = !block
			continue
		case !block || !isCommand(l):
			continue
		}
		commands++
		if !lines[l] {
			t.Errorf("README command not run by testdata/script/library.txtar:\n%s", l)
		}
	}
	if commands < 10 {
		t.Fatalf("found %d commands in the README's section \"A reference library\": is it still there?", commands)
	}
}

// isCommand reports whether a code line is a command, not output.
func isCommand(l string) bool {
	for _, w := range []string{"potgen ", "potcmp ", "potstat ", "potsplit ", "mkdir ", "for ", "cat "} {
		if strings.HasPrefix(l, w) {
			return true
		}
	}
	return false
}
