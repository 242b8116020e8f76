package llama

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// TokenType classifies a vocabulary entry; the values are GGUF's
// tokenizer.ggml.token_type values.
type TokenType uint8

// Token types. A Byte token stands for one raw byte and is written <0xXX>.
const (
	TokenNormal      TokenType = 1
	TokenUnknown     TokenType = 2
	TokenControl     TokenType = 3
	TokenUserDefined TokenType = 4
	TokenUnused      TokenType = 5
	TokenByte        TokenType = 6
)

// Vocab is a SentencePiece-style vocabulary: pieces with merge scores, as
// llama2.c's tokenizer.bin and GGUF's tokenizer.ggml.* keys hold them. Pieces
// are kept with plain spaces (GGUF's U+2581 is translated on load), so a
// llama2.c tokenizer and its GGUF conversion give equal vocabularies.
type Vocab struct {
	pieces   []string
	scores   []float32
	types    []TokenType
	bos, eos int32
	unk      int32 // -1 when there is none
	lookup   map[string]int32
	byteTok  [256]int32 // token of each raw byte, -1 when absent
	byteVal  []int16    // raw byte of each Byte token, -1 for the others
	digest   string
}

// NewVocab builds a vocabulary. The slices must have equal lengths; bos and
// eos must be token ids; unk may be -1.
func NewVocab(pieces []string, scores []float32, types []TokenType, bos, eos, unk int) (*Vocab, error) {
	n := len(pieces)
	if n == 0 || len(scores) != n || len(types) != n {
		return nil, fmt.Errorf("%w: vocabulary of %d pieces, %d scores, %d types", ErrFormat, n, len(scores), len(types))
	}
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("%w: vocabulary of %d pieces", ErrFormat, n)
	}
	for _, id := range []struct {
		name string
		v    int
	}{{"bos", bos}, {"eos", eos}} {
		if id.v < 0 || id.v >= n {
			return nil, fmt.Errorf("%w: %s token %d outside the vocabulary of %d", ErrFormat, id.name, id.v, n)
		}
	}
	if unk < -1 || unk >= n {
		return nil, fmt.Errorf("%w: unknown token %d outside the vocabulary of %d", ErrFormat, unk, n)
	}
	v := &Vocab{pieces: pieces, scores: scores, types: types, bos: int32(bos), eos: int32(eos), unk: int32(unk),
		lookup: make(map[string]int32, n), byteVal: make([]int16, n)}
	for i := range v.byteTok {
		v.byteTok[i] = -1
	}
	for i, p := range pieces {
		v.byteVal[i] = -1
		switch types[i] {
		case TokenByte:
			b, ok := parseByteToken(p)
			if !ok {
				return nil, fmt.Errorf("%w: byte token %d is %q, want <0xXX>", ErrFormat, i, p)
			}
			v.byteVal[i] = int16(b)
			if v.byteTok[b] < 0 {
				v.byteTok[b] = int32(i)
			}
		case TokenNormal, TokenUserDefined:
			// Only text pieces are matched against text: a prompt containing
			// "<s>" must not turn into the BOS token. The first of duplicate
			// pieces wins.
			if _, dup := v.lookup[p]; !dup {
				v.lookup[p] = int32(i)
			}
		}
	}
	v.digest = v.computeDigest()
	return v, nil
}

// parseByteToken reads a piece of the form <0xXX>.
func parseByteToken(p string) (byte, bool) {
	if len(p) != 6 || !strings.HasPrefix(p, "<0x") || p[5] != '>' {
		return 0, false
	}
	b, err := hex.DecodeString(p[3:5])
	if err != nil {
		return 0, false
	}
	return b[0], true
}

// Size is the number of tokens.
func (v *Vocab) Size() int { return len(v.pieces) }

// BOS is the beginning-of-sequence token.
func (v *Vocab) BOS() int32 { return v.bos }

// EOS is the end-of-sequence token; generation stops when it is chosen.
func (v *Vocab) EOS() int32 { return v.eos }

// Piece returns token id's piece (with plain spaces) and its type.
func (v *Vocab) Piece(id int32) (string, TokenType) {
	if id < 0 || int(id) >= len(v.pieces) {
		return "", 0
	}
	return v.pieces[id], v.types[id]
}

// Digest identifies the vocabulary: "sha256:" and the hex SHA-256 over every
// token's type, piece and score and the BOS and EOS ids. Two models share
// token ids exactly when their vocabulary digests are equal.
func (v *Vocab) Digest() string { return v.digest }

func (v *Vocab) computeDigest() string {
	h := sha256.New()
	var b [12]byte
	h.Write([]byte("pot vocab v1\n"))
	binary.LittleEndian.PutUint32(b[0:], uint32(len(v.pieces)))
	binary.LittleEndian.PutUint32(b[4:], uint32(v.bos))
	binary.LittleEndian.PutUint32(b[8:], uint32(v.eos))
	h.Write(b[:12])
	for i, p := range v.pieces {
		s := v.scores[i]
		if s == 0 {
			s = 0 // -0 and +0 are the same score
		}
		b[0] = byte(v.types[i])
		binary.LittleEndian.PutUint32(b[1:], math.Float32bits(s))
		binary.LittleEndian.PutUint32(b[5:], uint32(len(p)))
		h.Write(b[:9])
		h.Write([]byte(p))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Encode tokenizes text the way llama2.c does: a space is put in front of
// non-empty text (SentencePiece's dummy prefix), each UTF-8 character becomes
// its piece or, when the vocabulary lacks it, its bytes' <0xXX> tokens, and
// then the adjacent pair whose concatenation is the highest-scoring piece is
// merged, repeatedly, until no pair merges (the leftmost pair wins a tie).
// With bos the BOS token comes first.
func (v *Vocab) Encode(text string, bos bool) []int32 {
	var ids []int32
	if bos {
		ids = append(ids, v.bos)
	}
	if text == "" {
		return ids
	}
	text = " " + text
	syms := make([]int32, 0, len(text))
	for i := 0; i < len(text); {
		_, w := utf8.DecodeRuneInString(text[i:])
		if id, ok := v.lookup[text[i:i+w]]; ok {
			syms = append(syms, id)
		} else {
			for _, c := range []byte(text[i : i+w]) {
				if t := v.byteTok[c]; t >= 0 {
					syms = append(syms, t)
				} else if v.unk >= 0 {
					syms = append(syms, v.unk)
				}
			}
		}
		i += w
	}
	// best[i] and merged[i] describe the pair (syms[i], syms[i+1]); only the
	// pairs next to a merge change, so each merge costs one scan for the max.
	if len(syms) > 1 {
		best := make([]float32, len(syms)-1)
		merged := make([]int32, len(syms)-1)
		for i := range best {
			merged[i], best[i] = v.pair(syms[i], syms[i+1])
		}
		for {
			bi := -1
			bs := float32(math.Inf(-1))
			for i, s := range best {
				if merged[i] >= 0 && (bi < 0 || s > bs) {
					bi, bs = i, s
				}
			}
			if bi < 0 {
				break
			}
			syms[bi] = merged[bi]
			syms = append(syms[:bi+1], syms[bi+2:]...)
			best = append(best[:bi], best[bi+1:]...)
			merged = append(merged[:bi], merged[bi+1:]...)
			if bi > 0 {
				merged[bi-1], best[bi-1] = v.pair(syms[bi-1], syms[bi])
			}
			if bi < len(best) {
				merged[bi], best[bi] = v.pair(syms[bi], syms[bi+1])
			}
		}
	}
	return append(ids, syms...)
}

// pair returns the token that merges a and b, and its score, or -1.
func (v *Vocab) pair(a, b int32) (int32, float32) {
	if id, ok := v.lookup[v.pieces[a]+v.pieces[b]]; ok {
		return id, v.scores[id]
	}
	return -1, 0
}

// AppendDecoded appends the bytes of token id, which follows token prev, to
// dst: a <0xXX> token gives its byte, control and unused tokens give nothing,
// and a piece's leading space is dropped right after BOS (it is the dummy
// prefix, not text).
func (v *Vocab) AppendDecoded(dst []byte, prev, id int32) []byte {
	if id < 0 || int(id) >= len(v.pieces) {
		return dst
	}
	switch v.types[id] {
	case TokenByte:
		return append(dst, byte(v.byteVal[id]))
	case TokenControl, TokenUnused:
		return dst
	}
	p := v.pieces[id]
	if prev == v.bos && strings.HasPrefix(p, " ") {
		p = p[1:]
	}
	return append(dst, p...)
}

// Decode returns the text of tokens generated after token prev. Byte tokens
// may split a UTF-8 character, so the text is assembled as bytes and may be
// invalid UTF-8 when generation stopped mid-character.
func (v *Vocab) Decode(prev int32, tokens []int32) string {
	var b []byte
	for _, t := range tokens {
		b = v.AppendDecoded(b, prev, t)
		prev = t
	}
	return string(b)
}
