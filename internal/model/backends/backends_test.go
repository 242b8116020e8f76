package backends

import (
	"strings"
	"testing"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/model"
)

func TestOpen(t *testing.T) {
	m, err := Open("synth:1", model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if info := m.Info(); info.Backend != "synth" || LogprobsOf(info.Backend) != "raw" {
		t.Fatalf("synth:1 opened as %+v", info)
	}
	if LogprobsOf("openai") != "backend" || LogprobsOf("exec") != "backend" {
		t.Error("a server's or command's log-probabilities are taken as pot's own")
	}
	// Every mistake in a spec is the user's to fix: exit status 2, and the
	// spec's secrets redacted from the message.
	for spec, want := range map[string]string{
		"nosuch:x":                    `unknown backend "nosuch"`,
		"gguf:/no/such/file.gguf":     "no such file",
		"synth:1,perturb=sideways":    "perturb",
		"nosuch:https://u:pw@host/v1": `unknown backend "nosuch"`,
	} {
		_, err := Open(spec, model.Options{})
		if err == nil || cli.Status(err) != cli.ExitUsage || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q): %v (status %d), want a usage error with %q", spec, err, cli.Status(err), want)
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("Open(%q) printed the credentials: %v", spec, err)
		}
	}
}

// OptionsOf gives Open what Flags parsed: --retries 0 is no retries (the
// backends read 0 as their default), the rest as given.
func TestOptionsOf(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		retries int
	}{
		{[]string{"x"}, 5},
		{[]string{"x", "--retries", "0", "--timeout", "2s", "--rate", "3", "--threads", "2", "--api-key-env", "K"}, -1},
	} {
		var got model.Options
		app := &ucli.App{Flags: Flags(), Action: func(c *ucli.Context) error {
			got = OptionsOf(c, &cli.Env{Getenv: func(string) string { return "" }}, "test", 4)
			return nil
		}}
		if err := app.Run(tt.args); err != nil {
			t.Fatal(err)
		}
		if got.Retries != tt.retries || got.Jobs != 4 || got.Logf == nil || got.Getenv == nil {
			t.Errorf("%v: %+v", tt.args, got)
		}
		if len(tt.args) > 1 && (got.Timeout != 2*time.Second || got.RateLimit != 3 || got.Threads != 2 || got.APIKeyEnv != "K") {
			t.Errorf("%v: %+v", tt.args, got)
		}
	}
}
