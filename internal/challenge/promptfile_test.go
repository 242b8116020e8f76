package challenge

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func mustParse(t testing.TB, name, data string) *PromptFile {
	t.Helper()
	pf, err := ParsePrompts(name, strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return pf
}

func prompts(pf *PromptFile) []string {
	out := make([]string, pf.Len())
	for i := range out {
		out[i] = pf.Prompt(i)
	}
	return out
}

func TestParsePrompts(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []string
	}{
		{"plain", "Once upon a time\nThe cat sat\n", []string{"Once upon a time", "The cat sat"}},
		{"no final newline", "a\nb", []string{"a", "b"}},
		{"crlf", "a\r\nb\r\n", []string{"a", "b"}},
		{"blank lines", "\n  \na\n\t\n\nb\n\n", []string{"a", "b"}},
		{"kept as written", "  leading\ntrailing  \n", []string{"  leading", "trailing  "}},
		{"bom", "\xef\xbb\xbfa\nb\n", []string{"a", "b"}},
		{"plain with braces later", "a\n{\"prompt\": \"x\"}\n", []string{"a", `{"prompt": "x"}`}},
		{"jsonl", `{"prompt": "Once upon a time"}` + "\n" + `{"id": 7, "prompt": "Two\nlines \u00e9"}` + "\n",
			[]string{"Once upon a time", "Two\nlines é"}},
		{"jsonl after blank and space", "\n   {\"prompt\": \"a\"}\n\n{\"prompt\":\"b\"}", []string{"a", "b"}},
		{"jsonl bom crlf", "\xef\xbb\xbf{\"prompt\": \"a\"}\r\n{\"prompt\": \"b\"}\r\n", []string{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pf := mustParse(t, "p.txt", tc.data)
			if got := prompts(pf); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("prompts %q, want %q", got, tc.want)
			}
			sum := sha256.Sum256([]byte(tc.data))
			if pf.Digest() != hex.EncodeToString(sum[:]) {
				t.Errorf("digest %s is not the file's sha256", pf.Digest())
			}
			if pf.Family() != "prompts" || pf.Name() != "p.txt" {
				t.Errorf("Family %q Name %q", pf.Family(), pf.Name())
			}
		})
	}
}

func TestParsePromptsErrors(t *testing.T) {
	long := strings.Repeat("x", MaxPromptLine+1)
	tests := []struct {
		name string
		data string
		line int
		want error
		msg  string
	}{
		{"empty", "", 0, ErrNoPrompts, "challenge: f.txt: no prompts"},
		{"blank", "\n \r\n\t\n", 0, ErrNoPrompts, ""},
		{"long line", "a\n" + long + "\nb\n", 2, ErrLineTooLong, "challenge: f.txt: line 2: prompt line too long: longer than 65536 bytes"},
		{"long last line", "a\n" + long, 2, ErrLineTooLong, ""},
		{"very long line", strings.Repeat("y", 10*MaxPromptLine), 1, ErrLineTooLong, ""},
		{"bad utf-8", "a\nb\xff\n", 2, ErrBadPrompt, "challenge: f.txt: line 2: bad prompt: not valid UTF-8"},
		{"jsonl plain line", "{\"prompt\": \"a\"}\nhello\n", 2, ErrBadPrompt, "challenge: f.txt: line 2: bad prompt: want a JSON object, as on the file's first line"},
		{"jsonl no prompt", "{\"prompt\": \"a\"}\n\n{\"text\": \"b\"}\n", 3, ErrBadPrompt, "challenge: f.txt: line 3: bad prompt: no \"prompt\" field"},
		{"jsonl case", "{\"Prompt\": \"a\"}\n", 1, ErrBadPrompt, ""},
		{"jsonl number", "{\"prompt\": 5}\n", 1, ErrBadPrompt, "challenge: f.txt: line 1: bad prompt: \"prompt\" is not a string"},
		{"jsonl empty prompt", "{\"prompt\": \"\"}\n", 1, ErrBadPrompt, "challenge: f.txt: line 1: bad prompt: empty \"prompt\""},
		{"jsonl syntax", "{\"prompt\": \"a\"}\n{\"prompt\": \"b\"\n", 2, ErrBadPrompt, ""},
		{"jsonl trailing", "{\"prompt\": \"a\"} {}\n", 1, ErrBadPrompt, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePrompts("f.txt", strings.NewReader(tc.data))
			if err == nil {
				t.Fatal("no error")
			}
			var pe *PromptFileError
			if !errors.As(err, &pe) || pe.File != "f.txt" || pe.Line != tc.line {
				t.Fatalf("error %v: want a *PromptFileError for f.txt line %d", err, tc.line)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("%v does not wrap %v", err, tc.want)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Errorf("error %q, want %q", err, tc.msg)
			}
			if tc.line > 0 && !strings.Contains(err.Error(), fmt.Sprintf("f.txt: line %d: ", tc.line)) {
				t.Errorf("error %q does not name the file and line", err)
			}
		})
	}
}

func TestReadPromptFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "prompts.jsonl")
	if err := os.WriteFile(p, []byte("{\"prompt\": \"a\"}\n{\"prompt\": 1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadPromptFile(p)
	if err == nil || !strings.HasPrefix(err.Error(), "challenge: "+p+": line 2: ") {
		t.Errorf("error %v does not name %s line 2", err, p)
	}
	_, err = ReadPromptFile(filepath.Join(dir, "none.txt"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "none.txt") {
		t.Errorf("missing file: %v", err)
	}
}

// numbered returns a prompt file of m distinct prompts.
func numbered(t testing.TB, m int) *PromptFile {
	var b strings.Builder
	for i := range m {
		fmt.Fprintf(&b, "prompt %d\n", i)
	}
	return mustParse(t, "n.txt", b.String())
}

func picks(s *Set) []string {
	out := make([]string, s.Len())
	for i := range out {
		out[i] = s.Challenge(i).Prompt
	}
	return out
}

func TestPicksWithoutReplacement(t *testing.T) {
	const m = 500
	pf := numbered(t, m)
	all := picks(mustSet(t, testKey(t), "", pf, m))
	sorted := slices.Clone(all)
	slices.Sort(sorted)
	want := prompts(pf)
	slices.Sort(want)
	if !slices.Equal(sorted, want) {
		t.Fatal("a full set is not a permutation of the file")
	}
	if slices.Equal(all, prompts(pf)) {
		t.Error("a full set is in file order")
	}
	// Prefix stability: a smaller set is the start of a larger one.
	if got := picks(mustSet(t, testKey(t), "", pf, 20)); !slices.Equal(got, all[:20]) {
		t.Errorf("first 20 picks %q, want %q", got, all[:20])
	}
	// Other keys and run ids pick in other orders.
	for name, s := range map[string]*Set{
		"key":    mustSet(t, otherKey(t), "", pf, 20),
		"run id": mustSet(t, testKey(t), "b", pf, 20),
	} {
		if same := countSame(picks(s), all[:20]); same > 2 {
			t.Errorf("%s: %d of 20 picks unchanged", name, same)
		}
	}
}

func countSame(a, b []string) int {
	n := 0
	for i := range a {
		if a[i] == b[i] {
			n++
		}
	}
	return n
}

// TestPicksKeyOrder re-derives the picks from the documented shuffle, on a
// plain array, and compares.
func TestPicksKeyOrder(t *testing.T) {
	const m, n = 300, 120
	pf := numbered(t, m)
	got := picks(mustSet(t, testKey(t), "r", pf, n))

	sd := newSeeder(testKey(t), "r")
	pos := make([]int, m)
	for i := range pos {
		pos[i] = i
	}
	for i := range n {
		s := sd.seed(uint64(i))
		j := i + newDrawer(&s, labelPick).intn(m-i)
		pos[i], pos[j] = pos[j], pos[i]
		if want := pf.Prompt(pos[i]); got[i] != want {
			t.Fatalf("pick %d is %q, want %q", i, got[i], want)
		}
	}
}

func TestNotEnoughPrompts(t *testing.T) {
	pf := numbered(t, 7)
	_, err := NewSet(testKey(t), "", pf, 8)
	if !errors.Is(err, ErrNotEnoughPrompts) {
		t.Fatalf("error %v, want ErrNotEnoughPrompts", err)
	}
	want := "challenge: n.txt: not enough prompts: 8 challenges asked for, the file has 7 prompts"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if _, err := NewSet(testKey(t), "", pf, 7); err != nil {
		t.Errorf("7 of 7: %v", err)
	}
}

func FuzzParsePrompts(f *testing.F) {
	for _, s := range []string{"a\nb\n", "{\"prompt\": \"a\"}\n", "\xef\xbb\xbf\r\n", "{\"prompt\": 1}", "{", "\n\n{\"prompt\":\"\\u0000\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pf, err := ParsePrompts("fuzz", strings.NewReader(string(data)))
		if err != nil {
			var pe *PromptFileError
			if !errors.As(err, &pe) || pe.File != "fuzz" {
				t.Fatalf("error %v is not a *PromptFileError", err)
			}
			return
		}
		if pf.Len() == 0 {
			t.Fatal("no prompts and no error")
		}
		trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
		if trimmed[0] == '{' {
			return // JSON prompts may hold anything but ""
		}
		for i := range pf.Len() {
			if p := pf.Prompt(i); strings.TrimSpace(p) == "" || strings.Contains(p, "\n") {
				t.Fatalf("plain prompt %d is %q", i, p)
			}
		}
	})
}

func BenchmarkPickOrder(b *testing.B) {
	pf := numbered(b, 100_000)
	for b.Loop() {
		mustSet(b, testKey(b), "", pf, 10_000)
	}
}
