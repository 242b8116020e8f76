package challenge

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
)

// keyFile writes a fresh key to a 0600 file in a test folder.
func keyFile(t *testing.T) (Key, string) {
	t.Helper()
	k, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "audit.key")
	if err := os.WriteFile(name, k.KeyFile(), 0o600); err != nil {
		t.Fatal(err)
	}
	return k, name
}

func TestOpenSet(t *testing.T) {
	k, name := keyFile(t)
	set, err := OpenSet(SetFiles{Key: name, N: 7})
	if err != nil {
		t.Fatal(err)
	}
	want := mustSet(t, k, "default", templatesV1Family(t), 7)
	if set.Header() != want.Header() || set.Record(6).Prompt != want.Record(6).Prompt {
		t.Fatalf("OpenSet differs from NewSet on the default family and run")
	}
	other, err := OpenSet(SetFiles{Key: name, N: 7, RunID: "second"})
	if err != nil {
		t.Fatal(err)
	}
	if other.Header() == set.Header() {
		t.Fatal("another run id gave the same set")
	}
	for _, bad := range []SetFiles{
		{Key: name, N: 0},
		{Key: name, N: 3, Family: "templates", Prompts: "p.txt"},
		{Key: filepath.Join(t.TempDir(), "missing"), N: 3},
		{Key: name, N: 3, Family: "no-such-family"},
	} {
		if _, err := OpenSet(bad); err == nil {
			t.Errorf("OpenSet(%+v) succeeded", bad)
		}
	}
}

// challengeStream writes set as a challenge stream.
func challengeStream(t *testing.T, set *Set) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := set.WriteStream(&b, format.Header{Tool: "test"}, func(int) error { return nil }); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// WriteStream writes every challenge in order under the set's header, and
// stops where its stop function says.
func TestWriteStream(t *testing.T) {
	k, _ := keyFile(t)
	set := mustSet(t, k, "default", templatesV1Family(t), 300)
	r, err := format.NewReader(bytes.NewReader(challengeStream(t, set)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if h := r.First(); h.Kind != format.KindChallenges || h.Challenges != set.Header() || h.Tool != "test" {
		t.Fatalf("header %+v", h)
	}
	for i := 0; i < set.Len(); i++ {
		rec, err := r.Read()
		if err != nil || rec.Prompt != set.Record(i).Prompt || rec.Index != uint64(i) {
			t.Fatalf("record %d: %+v, %v", i, rec, err)
		}
	}
	halt := errors.New("halt")
	var b bytes.Buffer
	err = set.WriteStream(&b, format.Header{}, func(n int) error {
		if n >= 256 {
			return halt
		}
		return nil
	})
	if !errors.Is(err, halt) {
		t.Fatalf("stopped stream: %v", err)
	}
}

func verifyBytes(t *testing.T, data []byte, k Key, stop func() error) (int, error) {
	t.Helper()
	r, err := format.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return VerifyStream(r, "ch.pot", k, nil, stop)
}

func TestVerifyStream(t *testing.T) {
	k, _ := keyFile(t)
	set := mustSet(t, k, "default", templatesV1Family(t), 600)
	data := challengeStream(t, set)
	never := func() error { return nil }
	if n, err := verifyBytes(t, data, k, never); err != nil || n != 600 {
		t.Fatalf("the key's own stream: %d checked, %v", n, err)
	}
	other, _ := keyFile(t)
	if _, err := verifyBytes(t, data, other, never); !errors.Is(err, ErrMismatch) {
		t.Fatalf("another key: %v, want a mismatch", err)
	}
	// stop is asked as the check goes, and ends it with its error.
	calls := 0
	halt := errors.New("halt")
	stop := func() error {
		if calls++; calls == 2 {
			return halt
		}
		return nil
	}
	n, err := verifyBytes(t, data, k, stop)
	if !errors.Is(err, halt) || n == 600 || !strings.Contains(err.Error(), "ch.pot") {
		t.Fatalf("stopped check: %d checked, %v", n, err)
	}
}
