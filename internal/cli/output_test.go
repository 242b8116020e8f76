package cli

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// names lists dir, hidden files included.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// A staged output is complete but not in place until Publish; Abort
// removes it, and one file carries it from Create to Publish.
func TestOutputStaged(t *testing.T) {
	dir := t.TempDir()
	env := &Env{Stdout: io.Discard}
	a, err := env.Create(filepath.Join(dir, "a.pot"), OutputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := env.Create(filepath.Join(dir, "b.pot"), OutputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.WriteString("shard a")
	b.WriteString("shard b")
	if err := a.Stage(); err != nil {
		t.Fatal(err)
	}
	if err := b.Stage(); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); len(got) != 2 || slices.Contains(got, "a.pot") || slices.Contains(got, "b.pot") {
		t.Fatalf("staged: %v, want two hidden files", got)
	}
	if err := a.Publish(); err != nil {
		t.Fatal(err)
	}
	b.Abort()
	if got := names(t, dir); !slices.Equal(got, []string{"a.pot"}) {
		t.Fatalf("after publishing a and dropping b: %v", got)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "a.pot")); string(data) != "shard a" {
		t.Fatalf("a.pot holds %q", data)
	}
}

// A partial output lives in NAME.partial: refused when one exists, kept by
// Keep, replaced by a resumed output at its Checkpoint, and removed when
// the complete file is committed.
func TestOutputPartial(t *testing.T) {
	dir := t.TempDir()
	env := &Env{Stdout: io.Discard}
	target := filepath.Join(dir, "ref.pot")
	o, err := env.Create(target, OutputOptions{Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	o.WriteString("first run")
	if kept := o.Keep(); kept != target+".partial" {
		t.Fatalf("Keep = %q", kept)
	}
	if _, err := env.Create(target, OutputOptions{Partial: true}); Status(err) != ExitUsage {
		t.Fatalf("a second run over a partial file: %v", err)
	}
	r, err := env.Create(target, OutputOptions{Partial: true, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	r.WriteString("first run, copied")
	if data, _ := os.ReadFile(target + ".partial"); string(data) != "first run" {
		t.Fatalf("before the checkpoint the partial file holds %q", data)
	}
	if err := r.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	r.WriteString(", then more")
	r.Abort() // an interrupted resume keeps what the partial file holds
	if data, _ := os.ReadFile(target + ".partial"); string(data) != "first run, copied" {
		t.Fatalf("after an aborted resume the partial file holds %q", data)
	}
	r, err = env.Create(target, OutputOptions{Partial: true, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	r.WriteString("complete")
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"ref.pot"}) {
		t.Fatalf("after commit: %v", got)
	}
}
