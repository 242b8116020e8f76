package llama

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
)

// llama2.c's legacy checkpoint is a header of seven little-endian int32
// (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len) and
// then float32 tensors: token embedding, the attention RMSNorm gains of all
// layers, then wq, wk, wv and wo of all layers, the FFN gains, w1, w2 and
// w3 of all layers, the final gain, two unused RoPE tables of
// seq_len*head_size/2 floats each, and the classifier when vocab_size is
// negative (otherwise the embedding doubles as the classifier).
const llama2cHeaderSize = 7 * 4

// llama2cMagic starts llama2.c's later "version" exports, which this loader
// does not read.
const llama2cMagic = 0x616b3432

// LoadLlama2c reads a llama2.c checkpoint and its tokenizer.bin.
func LoadLlama2c(path, tokenizerPath string) (*Model, error) {
	ck, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("llama2.c checkpoint: %w", err)
	}
	tk, err := os.ReadFile(tokenizerPath)
	if err != nil {
		return nil, fmt.Errorf("llama2.c tokenizer: %w", err)
	}
	cfg, w, err := decodeLlama2cWeights(ck)
	if err != nil {
		return nil, withPath(err, path)
	}
	v, err := decodeLlama2cTokenizer(tk, cfg.VocabSize)
	if err != nil {
		return nil, withPath(err, tokenizerPath)
	}
	return &Model{cfg: cfg, vocab: v, w: w, digest: fileDigest(ck), simd: hasSIMD(), wide: hasAVX512(), vnni: vnniLevel()}, nil
}

// DecodeLlama2c decodes a llama2.c checkpoint and tokenizer held in memory.
func DecodeLlama2c(checkpoint, tokenizer []byte) (*Model, error) {
	cfg, w, err := decodeLlama2cWeights(checkpoint)
	if err != nil {
		return nil, err
	}
	v, err := decodeLlama2cTokenizer(tokenizer, cfg.VocabSize)
	if err != nil {
		return nil, err
	}
	return &Model{cfg: cfg, vocab: v, w: w, digest: fileDigest(checkpoint), simd: hasSIMD(), wide: hasAVX512(), vnni: vnniLevel()}, nil
}

func fileDigest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// decodeLlama2cHeader reads and checks the header and returns the
// configuration and the number of float32 values that must follow it.
func decodeLlama2cHeader(data []byte) (Config, int64, error) {
	if len(data) < llama2cHeaderSize {
		return Config{}, 0, &FormatError{Offset: int64(len(data)), What: "header",
			Err: fmt.Errorf("%w: %d bytes, the header needs %d", ErrTruncated, len(data), llama2cHeaderSize)}
	}
	var h [7]int32
	for i := range h {
		h[i] = int32(binary.LittleEndian.Uint32(data[4*i:]))
	}
	if uint32(h[0]) == llama2cMagic {
		return Config{}, 0, &FormatError{Offset: 0, What: "header",
			Err: fmt.Errorf("%w: llama2.c versioned export (magic ak42), only the legacy format is read", ErrUnsupported)}
	}
	vocab := int(h[5])
	cfg := Config{Dim: int(h[0]), HiddenDim: int(h[1]), Layers: int(h[2]), Heads: int(h[3]), KVHeads: int(h[4]),
		VocabSize: vocab, SeqLen: int(h[6]), RopeTheta: DefaultRopeTheta, NormEps: DefaultNormEps,
		SharedClassifier: vocab > 0}
	if vocab < 0 {
		cfg.VocabSize = -vocab
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, 0, &FormatError{Offset: 0, What: "header", Err: err}
	}
	n, _ := cfg.paramCount()
	n += int64(cfg.SeqLen) * int64(cfg.HeadSize()) // the two RoPE tables
	return cfg, n, nil
}

func decodeLlama2cWeights(data []byte) (Config, weights, error) {
	cfg, n, err := decodeLlama2cHeader(data)
	if err != nil {
		return Config{}, weights{}, err
	}
	have := int64(len(data) - llama2cHeaderSize)
	if have/4 < n {
		return Config{}, weights{}, &FormatError{Offset: int64(len(data)), What: "weights",
			Err: fmt.Errorf("%w: the header announces %d bytes of weights, the file has %d", ErrTruncated, 4*n, have)}
	}
	if have != 4*n {
		return Config{}, weights{}, &FormatError{Offset: llama2cHeaderSize + 4*n, What: "weights",
			Err: fmt.Errorf("%w: %d bytes after the %d bytes of weights the header announces", ErrFormat, have-4*n, 4*n)}
	}
	all := make([]float32, n)
	for i := range all {
		all[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[llama2cHeaderSize+4*i:]))
	}
	return cfg, splitLlama2c(cfg, all), nil
}

// splitLlama2c cuts the weights of a checkpoint, in file order, into tensors.
func splitLlama2c(cfg Config, all []float32) weights {
	take := func(n int) []float32 {
		s := all[:n:n]
		all = all[n:]
		return s
	}
	d, h, kv, L := cfg.Dim, cfg.HiddenDim, cfg.KVDim(), cfg.Layers
	var w weights
	w.layers = make([]layer, L)
	mat := func(rows, cols int) matrix { return f32Matrix(rows, cols, take(rows*cols)) }
	embed := mat(cfg.VocabSize, d)
	w.embed = &embed
	for i := range L {
		w.layers[i].attnNorm = take(d)
	}
	for i := range L {
		w.layers[i].wq = mat(d, d)
	}
	for i := range L {
		w.layers[i].wk = mat(kv, d)
	}
	for i := range L {
		w.layers[i].wv = mat(kv, d)
	}
	for i := range L {
		w.layers[i].wo = mat(d, d)
	}
	for i := range L {
		w.layers[i].ffnNorm = take(d)
	}
	for i := range L {
		w.layers[i].w1 = mat(h, d)
	}
	for i := range L {
		w.layers[i].w2 = mat(d, h)
	}
	for i := range L {
		w.layers[i].w3 = mat(h, d)
	}
	w.finalNorm = take(d)
	take(cfg.SeqLen * cfg.HeadSize()) // freq_cis_real and freq_cis_imag
	w.cls = w.embed
	if !cfg.SharedClassifier {
		cls := mat(cfg.VocabSize, d)
		w.cls = &cls
	}
	return w
}

// decodeLlama2cTokenizer reads llama2.c's tokenizer.bin: an int32 maximum
// piece length, then for every token a float32 score, an int32 length and
// the piece's bytes, up to the end of the file. Tokens 0, 1 and 2 are
// <unk>, BOS and EOS (llama2.c writes the latter two as "\n<s>\n" and
// "\n</s>\n"; their pieces are trimmed to match GGUF's).
func decodeLlama2cTokenizer(data []byte, vocabSize int) (*Vocab, error) {
	if len(data) < 4 {
		return nil, &FormatError{Offset: int64(len(data)), What: "tokenizer header",
			Err: fmt.Errorf("%w: %d bytes, want at least 4", ErrTruncated, len(data))}
	}
	maxLen := int32(binary.LittleEndian.Uint32(data))
	if maxLen <= 0 {
		return nil, &FormatError{Offset: 0, What: "tokenizer header",
			Err: fmt.Errorf("%w: maximum token length %d", ErrFormat, maxLen)}
	}
	var (
		pieces []string
		scores []float32
	)
	off := 4
	for off < len(data) {
		if len(pieces) >= vocabSize {
			return nil, &FormatError{Offset: int64(off), What: "tokenizer",
				Err: fmt.Errorf("%w: the tokenizer has more than %d tokens, the model's vocabulary size", ErrVocabMismatch, vocabSize)}
		}
		if len(data)-off < 8 {
			return nil, &FormatError{Offset: int64(len(data)), What: fmt.Sprintf("token %d", len(pieces)),
				Err: fmt.Errorf("%w: %d bytes left, a token needs at least 8", ErrTruncated, len(data)-off)}
		}
		score := math.Float32frombits(binary.LittleEndian.Uint32(data[off:]))
		n := int32(binary.LittleEndian.Uint32(data[off+4:]))
		if n < 0 || n > maxLen {
			return nil, &FormatError{Offset: int64(off + 4), What: fmt.Sprintf("token %d", len(pieces)),
				Err: fmt.Errorf("%w: piece length %d outside [0, %d]", ErrFormat, n, maxLen)}
		}
		off += 8
		if len(data)-off < int(n) {
			return nil, &FormatError{Offset: int64(len(data)), What: fmt.Sprintf("token %d", len(pieces)),
				Err: fmt.Errorf("%w: piece of %d bytes, %d left", ErrTruncated, n, len(data)-off)}
		}
		pieces = append(pieces, string(data[off:off+int(n)]))
		scores = append(scores, score)
		off += int(n)
	}
	if len(pieces) != vocabSize {
		return nil, &FormatError{Offset: int64(len(data)), What: "tokenizer",
			Err: fmt.Errorf("%w: the tokenizer has %d tokens, the model's vocabulary %d", ErrVocabMismatch, len(pieces), vocabSize)}
	}
	if vocabSize < 3 {
		return nil, &FormatError{Offset: -1, What: "tokenizer",
			Err: fmt.Errorf("%w: %d tokens, want <unk>, BOS and EOS at least", ErrFormat, vocabSize)}
	}
	types := make([]TokenType, vocabSize)
	for i, p := range pieces {
		switch {
		case i == 0:
			types[i] = TokenUnknown
		case i == 1 || i == 2:
			types[i] = TokenControl
			pieces[i] = string(bytes.TrimSpace([]byte(p)))
		default:
			types[i] = TokenNormal
			if _, ok := parseByteToken(p); ok {
				types[i] = TokenByte
			}
		}
	}
	v, err := NewVocab(pieces, scores, types, 1, 2, 0)
	if err != nil {
		return nil, &FormatError{Offset: -1, What: "tokenizer", Err: err}
	}
	return v, nil
}

// WriteLlama2c writes m as a legacy llama2.c checkpoint (the RoPE tables are
// written as zeros: llama2.c and this engine compute them).
func (m *Model) WriteLlama2c(w io.Writer) error {
	c := m.cfg
	vocab := int32(c.VocabSize)
	if !c.SharedClassifier {
		vocab = -vocab
	}
	bw := &errWriter{w: w}
	for _, v := range []int32{int32(c.Dim), int32(c.HiddenDim), int32(c.Layers), int32(c.Heads), int32(c.KVHeads), vocab, int32(c.SeqLen)} {
		bw.u32(uint32(v))
	}
	L := m.w.layers
	f32 := func(w *matrix) []float32 { return w.toF32().f }
	bw.floats(f32(m.w.embed))
	for _, get := range []func(*layer) []float32{
		func(l *layer) []float32 { return l.attnNorm },
		func(l *layer) []float32 { return f32(&l.wq) },
		func(l *layer) []float32 { return f32(&l.wk) },
		func(l *layer) []float32 { return f32(&l.wv) },
		func(l *layer) []float32 { return f32(&l.wo) },
		func(l *layer) []float32 { return l.ffnNorm },
		func(l *layer) []float32 { return f32(&l.w1) },
		func(l *layer) []float32 { return f32(&l.w2) },
		func(l *layer) []float32 { return f32(&l.w3) },
	} {
		for i := range L {
			bw.floats(get(&L[i]))
		}
	}
	bw.floats(m.w.finalNorm)
	bw.floats(make([]float32, c.SeqLen*c.HeadSize()))
	if !c.SharedClassifier {
		bw.floats(f32(m.w.cls))
	}
	return bw.err
}

// WriteTokenizer writes m's vocabulary as a llama2.c tokenizer.bin.
func (m *Model) WriteTokenizer(w io.Writer) error {
	v := m.vocab
	maxLen := 1
	for _, p := range v.pieces {
		maxLen = max(maxLen, len(p))
	}
	bw := &errWriter{w: w}
	bw.u32(uint32(maxLen))
	for i, p := range v.pieces {
		bw.u32(math.Float32bits(v.scores[i]))
		bw.u32(uint32(len(p)))
		bw.write([]byte(p))
	}
	return bw.err
}

// errWriter keeps the first write error so that encoders can write freely
// and check once.
type errWriter struct {
	w   io.Writer
	err error
	buf [4096]byte
}

func (e *errWriter) write(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

func (e *errWriter) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:4], v)
	e.write(e.buf[:4])
}

func (e *errWriter) floats(fs []float32) {
	for len(fs) > 0 {
		n := min(len(fs), len(e.buf)/4)
		for i, f := range fs[:n] {
			binary.LittleEndian.PutUint32(e.buf[4*i:], math.Float32bits(f))
		}
		e.write(e.buf[:4*n])
		fs = fs[n:]
	}
}
