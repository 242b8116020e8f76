package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestUnreadPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if runtime.GOOS != "linux" {
		if _, ok := Unread(w); ok {
			t.Fatal("Unread claims to know a pipe's backlog off Linux")
		}
		t.Skip("no backlog off Linux")
	}
	check := func(want int) {
		t.Helper()
		for _, end := range []*os.File{w, r} {
			n, ok := Unread(end)
			if !ok || n != want {
				t.Errorf("Unread(%s) = %d, %v; want %d, true", end.Name(), n, ok, want)
			}
		}
	}
	check(0)
	if _, err := w.Write(bytes.Repeat([]byte("x"), 1000)); err != nil {
		t.Fatal(err)
	}
	check(1000)
	if _, err := io.ReadFull(r, make([]byte, 300)); err != nil {
		t.Fatal(err)
	}
	check(700)
	if _, err := w.Write(make([]byte, 24)); err != nil {
		t.Fatal(err)
	}
	check(724)
	if _, err := io.ReadFull(r, make([]byte, 724)); err != nil {
		t.Fatal(err)
	}
	check(0)
}

// Only pipes have a backlog: a regular file also answers FIONREAD (bytes
// from the offset to its end), which is no reader's backlog.
func TestUnreadNotPipe(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("some bytes")
	f.Seek(0, io.SeekStart)
	if n, ok := Unread(f); ok {
		t.Errorf("Unread(regular file) = %d, true", n)
	}
	f.Close()
	if n, ok := Unread(f); ok {
		t.Errorf("Unread(closed file) = %d, true", n)
	}
}
