package llama

import (
	"slices"
	"strings"
	"testing"
)

func TestEncode(t *testing.T) {
	v := mustLlama2c(t, "stories260K.bin", "tok512.bin").Vocab()
	for _, tc := range []struct {
		name string
		text string
		bos  bool
		want []int32
	}{
		{"prompt", "Once upon a time", true, []int32{1, 403, 407, 261, 378}},
		{"no bos", "Once upon a time", false, []int32{403, 407, 261, 378}},
		{"empty", "", true, []int32{1}},
		{"empty no bos", "", false, nil},
		// é is a piece of tok512; 日 is not, so its three UTF-8 bytes fall
		// back to <0xE6> <0x97> <0xA5> (ids byte+3).
		{"piece", "é", false, []int32{410, 485}},
		{"byte fallback", "日", false, []int32{410, 0xe6 + 3, 0x97 + 3, 0xa5 + 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := v.Encode(tc.text, tc.bos); !slices.Equal(got, tc.want) {
				t.Errorf("Encode(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    *Vocab
	}{
		{"tok512", mustLlama2c(t, "stories260K.bin", "tok512.bin").Vocab()},
		{"llama2", mustGGUF(t, "llama-2-tiny-random.gguf").Vocab()},
		{"synth", Synth(1).Vocab()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range []string{"Once upon a time", "  two spaces", "tab\there\nnewline", "é ü 日本語 🙂", "<s> is text", "x"} {
				ids := tc.v.Encode(s, true)
				if got := tc.v.Decode(ids[0], ids[1:]); got != s {
					t.Errorf("Decode(Encode(%q)) = %q (ids %v)", s, got, ids)
				}
				if slices.Contains(ids[1:], tc.v.BOS()) {
					t.Errorf("text %q encodes to BOS", s)
				}
			}
		})
	}
}

func TestDecodePieces(t *testing.T) {
	v := mustLlama2c(t, "stories260K.bin", "tok512.bin").Vocab()
	once := int32(403) // " Once"
	if got := v.Decode(v.BOS(), []int32{once}); got != "Once" {
		t.Errorf("after BOS: %q, want the leading space dropped", got)
	}
	if got := v.Decode(261, []int32{once}); got != " Once" {
		t.Errorf("mid-text: %q, want the leading space kept", got)
	}
	if got := v.Decode(0, []int32{v.byteTok[0xe2], v.byteTok[0x9c], v.byteTok[0x93]}); got != "✓" {
		t.Errorf("byte tokens: %q", got)
	}
	if got := v.Decode(0, []int32{v.BOS(), v.EOS()}); got != "" {
		t.Errorf("control tokens decode to %q", got)
	}
	if p, typ := v.Piece(1); p != "<s>" || typ != TokenControl {
		t.Errorf("BOS piece %q type %d", p, typ)
	}
}

func TestLongPromptEncode(t *testing.T) {
	// The merge loop is quadratic only in its scan, not in rebuilding pairs:
	// a long prompt must stay fast and tokenize like its parts.
	v := mustLlama2c(t, "stories260K.bin", "tok512.bin").Vocab()
	s := strings.Repeat(" Once upon a time", 400)
	ids := v.Encode(s[1:], false)
	if len(ids) != 1600 || ids[0] != 403 || ids[1599] != 378 {
		t.Errorf("%d tokens, first %d last %d", len(ids), ids[0], ids[len(ids)-1])
	}
}
