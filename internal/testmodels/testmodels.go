// Package testmodels finds the real models that tests share: the folder
// named by $POT_MODELS, else shared/models next to the checkout. A test
// that needs them is skipped, with a message saying how to provide them,
// when they are absent, so that a bare checkout still passes its tests.
package testmodels

import (
	"os"
	"path/filepath"
	"testing"
)

// marker is the file whose presence shows the folder holds the models.
const marker = "stories260K.bin"

// Dir returns the absolute path of the shared test models folder:
// $POT_MODELS, or shared/models beside the folder holding go.mod (found by
// walking up from the working directory). It skips t when the folder does
// not hold stories260K.bin.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("POT_MODELS")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(d, "..", "shared", "models")
				break
			}
			if filepath.Dir(d) == d {
				t.Skip("no go.mod above the test directory, cannot find shared/models; set POT_MODELS")
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
		t.Skipf("test models not found in %s (set POT_MODELS to the folder holding %s): %v", dir, marker, err)
	}
	// Absolute, so that the path still holds in a test that changes
	// directory or hands it to a tool run elsewhere.
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// Path returns the path of the shared test model file name, skipping t as
// Dir does when the models are absent.
func Path(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(Dir(t), name)
}
