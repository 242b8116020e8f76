package llama

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pot-audit/pot/internal/testmodels"
)

// cuts are the offsets at which a real file is cut: inside the header,
// inside the vocabulary or metadata, at and around tensor boundaries, one
// byte short.
func cuts(n int) []int {
	return []int{0, 1, 3, 4, 8, 27, 28, 29, 100, 1000, 14000, 14176, 132385, n / 2, n - 257, n - 5, n - 1}
}

func TestLlama2cTruncated(t *testing.T) {
	ck, err := os.ReadFile(testmodels.Path(t, "stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tok := testmodels.Path(t, "tok512.bin")
	for _, n := range cuts(len(ck)) {
		p := filepath.Join(dir, "cut.bin")
		if err := os.WriteFile(p, ck[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadLlama2c(p, tok)
		var fe *FormatError
		if !errors.As(err, &fe) || !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrFormat) {
			t.Errorf("cut at %d: error %v, want a *FormatError wrapping ErrTruncated or ErrFormat", n, err)
			continue
		}
		if fe.Path != p || !strings.Contains(err.Error(), p) {
			t.Errorf("cut at %d: error %q does not name the file", n, err)
		}
	}
	// Every offset of a tiny checkpoint and tokenizer: errors, never panics.
	tc, tt := encodeLlama2c(t, synth(1, tinyConfig()))
	for n := range len(tc) {
		if _, err := DecodeLlama2c(tc[:n], tt); err == nil {
			t.Fatalf("checkpoint cut at %d of %d accepted", n, len(tc))
		}
	}
	for n := range len(tt) {
		if _, err := DecodeLlama2c(tc, tt[:n]); err == nil {
			t.Fatalf("tokenizer cut at %d of %d accepted", n, len(tt))
		}
	}
	if _, err := DecodeLlama2c(append(slices.Clip(tc), 0, 0, 0, 0), tt); !errors.Is(err, ErrFormat) {
		t.Errorf("checkpoint with 4 trailing bytes: %v, want ErrFormat", err)
	}
}

func TestGGUFTruncated(t *testing.T) {
	b, err := os.ReadFile(testmodels.Path(t, "stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, n := range cuts(len(b)) {
		p := filepath.Join(dir, "cut.gguf")
		if err := os.WriteFile(p, b[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadGGUF(p)
		var fe *FormatError
		if !errors.As(err, &fe) || !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrFormat) {
			t.Errorf("cut at %d: error %v, want a *FormatError wrapping ErrTruncated or ErrFormat", n, err)
		}
	}
	tiny := encodeGGUF(synth(1, tinyConfig()), false, 0)
	if _, err := DecodeGGUF(tiny); err != nil {
		t.Fatal(err)
	}
	for n := range len(tiny) {
		if _, err := DecodeGGUF(tiny[:n]); err == nil {
			t.Fatalf("GGUF cut at %d of %d accepted", n, len(tiny))
		}
	}
}

func TestMissingAndGarbage(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage")
	// 7 int32 of nonsense, then bytes: a header that cannot be a model.
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a model file "), 100), 0o644); err != nil {
		t.Fatal(err)
	}
	tok := testmodels.Path(t, "tok512.bin")
	if _, err := LoadLlama2c(filepath.Join(dir, "absent.bin"), tok); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing checkpoint: %v", err)
	}
	if _, err := LoadLlama2c(testmodels.Path(t, "stories260K.bin"), filepath.Join(dir, "absent")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing tokenizer: %v", err)
	}
	if _, err := LoadGGUF(filepath.Join(dir, "absent.gguf")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing gguf: %v", err)
	}
	if _, err := LoadLlama2c(garbage, tok); !errors.Is(err, ErrFormat) {
		t.Errorf("garbage checkpoint: %v, want ErrFormat", err)
	}
	if _, err := LoadGGUF(garbage); !errors.Is(err, ErrFormat) {
		t.Errorf("garbage gguf: %v, want ErrFormat", err)
	}
	if _, err := LoadGGUF(testmodels.Path(t, "stories260K.bin")); !errors.Is(err, ErrFormat) {
		t.Errorf("llama2.c file as gguf: %v, want ErrFormat", err)
	}
	if _, err := LoadLlama2c(testmodels.Path(t, "stories260K.bin"), garbage); err == nil {
		t.Error("garbage tokenizer accepted")
	}
}

func TestTokenizerSize(t *testing.T) {
	tok, err := os.ReadFile(testmodels.Path(t, "tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	// Cut after the last complete token short of the end: 511 tokens.
	off, n := 4, 0
	for n < 511 {
		off += 8 + int(binary.LittleEndian.Uint32(tok[off+4:]))
		n++
	}
	short := filepath.Join(t.TempDir(), "tok511.bin")
	if err := os.WriteFile(short, tok[:off], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadLlama2c(testmodels.Path(t, "stories260K.bin"), short)
	if !errors.Is(err, ErrVocabMismatch) || !strings.Contains(err.Error(), "511") || !strings.Contains(err.Error(), "512") {
		t.Errorf("511-token tokenizer: %v, want ErrVocabMismatch naming 511 and 512", err)
	}
	// The aidreams checkpoint with its own vocabulary works.
	mustLlama2c(t, "aidreams260K.bin", "aidreams-tok512.bin")
}

func TestGGUFUnsupported(t *testing.T) {
	b, err := os.ReadFile(testmodels.Path(t, "stories260K-f16.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	// Relabel output.weight as IQ2_XXS, a type the engine does not compute
	// with: the tensor info is the name, 1 uint32 dimension count, 2 uint64
	// dimensions, then the uint32 type.
	name := []byte("\x0d\x00\x00\x00\x00\x00\x00\x00output.weight")
	i := bytes.Index(b, name)
	if i < 0 {
		t.Fatal("output.weight not found")
	}
	typ := i + len(name) + 4 + 16
	q := slices.Clone(b)
	binary.LittleEndian.PutUint32(q[typ:], 16)
	_, err = DecodeGGUF(q)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "output.weight") || !strings.Contains(err.Error(), "IQ2_XXS") {
		t.Errorf("IQ2_XXS tensor: %v, want ErrUnsupported naming output.weight and IQ2_XXS", err)
	}
	v1 := slices.Clone(b)
	binary.LittleEndian.PutUint32(v1[4:], 1)
	if _, err := DecodeGGUF(v1); !errors.Is(err, ErrUnsupported) {
		t.Errorf("GGUF version 1: %v, want ErrUnsupported", err)
	}
	arch := bytes.Index(b, []byte("general.architecture"))
	other := slices.Clone(b)
	copy(other[arch+len("general.architecture")+4+8:], "gpt2_")
	if _, err := DecodeGGUF(other); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "architecture") {
		t.Errorf("other architecture: %v, want ErrUnsupported", err)
	}
}

func TestGGUFRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		f16   bool
		align int
	}{{"f32", false, 0}, {"f32-align64", false, 64}, {"f16", true, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			m := Synth(7)
			g, err := DecodeGGUF(encodeGGUF(m, tc.f16, tc.align))
			if err != nil {
				t.Fatal(err)
			}
			if g.Vocab().Digest() != m.Vocab().Digest() {
				t.Error("vocabulary changed in the GGUF round trip")
			}
			want := m
			if tc.f16 {
				want = withType(m, ggmlF16)
			}
			a, b := greedy(t, want, "The cat", 30, 2), greedy(t, g, "The cat", 30, 2)
			if !slices.Equal(a.Tokens, b.Tokens) || !slices.Equal(a.Logprobs, b.Logprobs) {
				t.Errorf("GGUF copy generates differently:\n%v %v\n%v %v", a.Tokens, a.Logprobs, b.Tokens, b.Logprobs)
			}
		})
	}
}

func TestLlama2cRoundTrip(t *testing.T) {
	m := Synth(3)
	ck, tok := encodeLlama2c(t, m)
	back, err := DecodeLlama2c(ck, tok)
	if err != nil {
		t.Fatal(err)
	}
	if back.Digest() != m.Digest() || back.Vocab().Digest() != m.Vocab().Digest() {
		t.Errorf("digests changed: %s %s, want %s %s", back.Digest(), back.Vocab().Digest(), m.Digest(), m.Vocab().Digest())
	}
	p := Params{Temperature: 0.8, TopP: 0.9, MaxTokens: 40, Seed: 11, Logprobs: 1}
	a, _ := m.Generate(context.Background(), m.Vocab().Encode("hi", true), p, Options{})
	b, _ := back.Generate(context.Background(), back.Vocab().Encode("hi", true), p, Options{})
	if !slices.Equal(a.Tokens, b.Tokens) || !slices.Equal(a.Logprobs, b.Logprobs) {
		t.Error("llama2.c copy generates differently")
	}
}

func FuzzLlama2c(f *testing.F) {
	ck, tok := encodeLlama2c(f, synth(1, tinyConfig()))
	f.Add(ck, tok)
	f.Add(ck[:40], tok[:10])
	f.Add([]byte{8, 0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0xf8, 0xff, 0xff, 0xff, 16, 0, 0, 0}, tok)
	f.Fuzz(func(t *testing.T, ck, tok []byte) {
		m, err := DecodeLlama2c(ck, tok)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			return
		}
		// A file that loads must run.
		if m.Config().SeqLen > 1 && m.Config().Dim <= 64 {
			m.Generate(context.Background(), []int32{0}, Params{MaxTokens: 2, Logprobs: 2}, Options{})
		}
	})
}

func FuzzGGUF(f *testing.F) {
	f.Add(encodeGGUF(synth(1, tinyConfig()), false, 0))
	f.Add(encodeGGUF(synth(2, tinyConfig()), true, 8))
	f.Add([]byte("GGUF\x03\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeGGUF(b)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			return
		}
		if m.Config().SeqLen > 1 && m.Config().Dim <= 64 {
			m.Generate(context.Background(), []int32{0}, Params{MaxTokens: 2, Logprobs: 2}, Options{})
		}
	})
}
