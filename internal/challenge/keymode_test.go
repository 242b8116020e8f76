package challenge

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestReadKeyFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix mode bits")
	}
	dir := t.TempDir()
	tests := []struct {
		mode os.FileMode
		ok   bool
	}{
		{0o600, true},
		{0o400, true},
		{0o700, true}, // the owner's own bits are the owner's business
		{0o640, false},
		{0o604, false},
		{0o644, false},
		{0o660, false}, // the group may swap the key for one it knows
		{0o602, false},
		{0o666, false},
	}
	for _, tc := range tests {
		t.Run(tc.mode.String(), func(t *testing.T) {
			p := filepath.Join(dir, tc.mode.String()+".key")
			if err := os.WriteFile(p, []byte(testKeyHex+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			// Chmod, since WriteFile's mode passes through the umask.
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			k, err := ReadKeyFile(p)
			if tc.ok {
				if err != nil || k != testKey(t) {
					t.Fatalf("mode %04o: %v", tc.mode, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("mode %04o accepted", tc.mode)
			}
			var ke *KeyError
			if !errors.As(err, &ke) || ke.File != p || !errors.Is(err, ErrBadKey) {
				t.Errorf("error %v is not a *KeyError naming %s", err, p)
			}
			msg := err.Error()
			for _, want := range []string{p, "too open", "chmod 600"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
			if strings.Contains(msg, testKeyHex[:16]) {
				t.Errorf("error %q shows the key", msg)
			}
		})
	}
}

// A key handed over through a pipe is read whatever the pipe's mode: it
// cannot be read again by anyone.
func TestReadKeyFilePipe(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no /dev/fd")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		w.WriteString(testKeyHex + "\n")
		w.Close()
	}()
	p := "/dev/fd/" + strconv.Itoa(int(r.Fd()))
	if _, err := os.Stat(p); err != nil {
		t.Skipf("no %s: %v", p, err)
	}
	k, err := ReadKeyFile(p)
	if err != nil || k != testKey(t) {
		t.Fatalf("key from a pipe: %v", err)
	}
}
