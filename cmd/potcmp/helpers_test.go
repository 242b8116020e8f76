package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/streamtest"
	"github.com/pot-audit/pot/internal/testmodels"
)

// potcmp runs the tool in process and returns its exit status and output.
func potcmp(t testing.TB, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errb bytes.Buffer
	code = run(append([]string{"potcmp"}, args...), stdin, &out, &errb)
	return code, out.String(), errb.String()
}

// encode writes a stream.
func encode(t testing.TB, h format.Header, recs []format.Record) []byte {
	return streamtest.Encode(t, h, recs)
}

// modelStream writes the outputs of a local model run, as potgen makes
// them, to dir/name.
func modelStream(t testing.TB, dir, name string, mr streamtest.ModelRun) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, mr.Stream(t), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// greedy is the sampling of the model tests: small and deterministic.
func greedy() format.Sampling { return format.Sampling{MaxTokens: 32, Logprobs: 5} }

// modelsDir finds the shared test models, or skips.
func modelsDir(t testing.TB) string { return testmodels.Dir(t) }
