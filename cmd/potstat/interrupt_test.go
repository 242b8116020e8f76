package main

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/pot-audit/pot/internal/streamtest"
)

// TestInterrupt sends SIGINT and SIGTERM to potstat reading an endless
// stream, in the summary and with --records: it stops reading and exits 1
// saying so, where it used to catch the signal and read on.
func TestInterrupt(t *testing.T) {
	for _, mode := range [][]string{nil, {"--records"}, {"--verify"}} {
		for _, sig := range []os.Signal{syscall.SIGINT, syscall.SIGTERM} {
			t.Run(strings.Join(append(mode, sig.String()), " "), func(t *testing.T) {
				cmd := exec.Command("potstat", append(mode, "-")...)
				cmd.Stdout = nil // records go nowhere
				code, stderr := streamtest.Interrupt(t, cmd, sig)
				if code != 1 || !strings.Contains(stderr, "<stdin>: interrupted after") || strings.Count(stderr, "\n") != 1 {
					t.Fatalf("exit %d, stderr %q", code, stderr)
				}
			})
		}
	}
}
