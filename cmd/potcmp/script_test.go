package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pot-audit/pot/internal/streamtest"
)

func TestMain(m *testing.M) {
	streamtest.Main(m, map[string]func() int{
		"potcmp": func() int { return run(os.Args, os.Stdin, os.Stdout, os.Stderr) },
	})
}

// TestScripts runs the pipelines in testdata/script over the real binary.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}
