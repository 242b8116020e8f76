package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/generate"
)

// TestHelpStatesWasteBound checks that --help states the early-stop bound
// with the constants the code uses, so the two cannot drift apart.
func TestHelpStatesWasteBound(t *testing.T) {
	r := potgen(t, "--help")
	if r.code != 0 {
		t.Fatalf("--help: %+v", r)
	}
	help := strings.Join(strings.Fields(r.stdout), " ")
	for _, want := range []string{
		fmt.Sprintf("at most -j + %d queries beyond the records the reader took", generate.Slack),
		fmt.Sprintf("at most 2(J + %d) + %d queries that the verdict does not use", generate.Slack, compare.ReadAhead),
	} {
		if !strings.Contains(help, want) {
			t.Errorf("--help does not say %q", want)
		}
	}
	if got, want := generate.Waste(8, compare.ReadAhead), 2*(8+generate.Slack)+compare.ReadAhead; got != want {
		t.Errorf("Waste(8) = %d, the help says %d", got, want)
	}
}
