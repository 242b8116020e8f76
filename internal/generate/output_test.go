package generate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pot-audit/pot/internal/cli"
)

// The output rules hold before any model is asked: an existing file is
// kept unless --force or --resume says otherwise, and --resume needs a
// file and excludes --force.
func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "ref.pot")
	if err := os.WriteFile(existing, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, "new.pot")
	for _, tt := range []struct {
		name          string
		resume, force bool
		want          string // "" for no error
	}{
		{"-", false, false, ""},
		{fresh, false, false, ""},
		{existing, false, true, ""},
		{existing, true, false, ""},
		{existing, false, false, "refusing to replace"},
		{"-", true, false, "--resume needs -o FILE"},
		{existing, true, true, "exclusive"},
	} {
		err := CheckOutput(tt.name, tt.resume, tt.force)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s resume=%v force=%v: %v", tt.name, tt.resume, tt.force, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || cli.Status(err) != cli.ExitUsage):
			t.Errorf("%s resume=%v force=%v: %v, want a usage error with %q", tt.name, tt.resume, tt.force, err, tt.want)
		}
	}
}
