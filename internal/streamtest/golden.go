package streamtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Run is one run of a tool as a golden file records it: the arguments, the
// exit status and what it printed.
type Run struct {
	Args           []string
	Code           int
	Stdout, Stderr string
}

// String renders the run as the golden file holds it: plain text that a
// reviewer reads in a diff.
func (r Run) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "args: %s\nexit: %d\n-- stdout --\n%s-- stderr --\n%s", strings.Join(r.Args, " "), r.Code, r.Stdout, r.Stderr)
	return b.String()
}

// Golden compares got with the file dir/NAME.txt, or with update writes
// the file: the pinned behaviour of a tool, changed only on purpose and
// then visibly in the diff. dir is absolute, since a golden test may run
// in a folder of its own.
func Golden(t testing.TB, dir, name string, got Run, update bool) {
	t.Helper()
	path := filepath.Join(dir, name+".txt")
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	if g := got.String(); g != string(want) {
		t.Errorf("%s differs from the golden file (run with -update if the change is meant):\n--- got\n%s--- want\n%s", path, g, want)
	}
}

// GoldenDir returns the absolute path of the package's testdata/golden and
// moves the test into a folder of its own, where the streams it writes and
// the names the tools print are short and the same on every machine.
func GoldenDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	return dir
}
