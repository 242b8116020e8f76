package llama

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
)

// GGUF layout (versions 2 and 3, little-endian): magic "GGUF", uint32
// version, uint64 tensor count, uint64 metadata count, the metadata as
// (string key, uint32 type, value), the tensor infos as (string name, uint32
// dimension count, uint64 dimensions, uint32 type, uint64 offset), padding to
// general.alignment (32 by default), then the tensor data; tensor offsets are
// relative to the start of the data. Strings are a uint64 length and bytes.

// GGUF metadata value types.
const (
	ggufUint8   = 0
	ggufInt8    = 1
	ggufUint16  = 2
	ggufInt16   = 3
	ggufUint32  = 4
	ggufInt32   = 5
	ggufFloat32 = 6
	ggufBool    = 7
	ggufString  = 8
	ggufArray   = 9
	ggufUint64  = 10
	ggufInt64   = 11
	ggufFloat64 = 12
)

// ggmlTypeName names a GGML tensor type, for messages and headers.
func ggmlTypeName(t uint32) string {
	names := [...]string{0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0",
		9: "Q8_1", 10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS",
		17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS",
		24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16"}
	if int(t) < len(names) && names[t] != "" {
		return names[t]
	}
	return fmt.Sprintf("type %d", t)
}

// ggufMaxDepth bounds nested arrays, which llama models never use.
const ggufMaxDepth = 3

// ggufValue is one metadata value. Scalars are held as the widest Go type
// of their kind; arrays of strings and of numbers keep their elements.
type ggufValue struct {
	typ  uint32
	u    uint64 // unsigned integers and bools
	i    int64  // signed integers
	f    float64
	s    string
	strs []string
	nums []float64
	elem uint32 // element type of an array
}

type ggufTensor struct {
	name   string
	dims   []uint64
	typ    uint32
	offset uint64
	at     int64 // offset of the tensor info, for messages
}

type ggufFile struct {
	version uint32
	kv      map[string]ggufValue
	tensors map[string]ggufTensor
	data    int64 // start of the tensor data
	align   uint64
}

// ggufDecoder reads from memory, checking every length against what is
// left before it allocates.
type ggufDecoder struct {
	b   []byte
	off int64
	err error
}

func (d *ggufDecoder) fail(what string, err error) {
	if d.err == nil {
		d.err = &FormatError{Offset: d.off, What: what, Err: err}
	}
}

func (d *ggufDecoder) left() int64 { return int64(len(d.b)) - d.off }

func (d *ggufDecoder) take(n int64, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n > d.left() {
		d.fail(what, fmt.Errorf("%w: need %d bytes, %d left", ErrTruncated, n, d.left()))
		return nil
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s
}

func (d *ggufDecoder) u32(what string) uint32 {
	if b := d.take(4, what); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *ggufDecoder) u64(what string) uint64 {
	if b := d.take(8, what); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (d *ggufDecoder) str(what string) string {
	n := d.u64(what)
	if d.err != nil {
		return ""
	}
	if n > uint64(d.left()) {
		d.fail(what, fmt.Errorf("%w: string of %d bytes, %d left", ErrTruncated, n, d.left()))
		return ""
	}
	return string(d.take(int64(n), what))
}

// scalarSize is the encoded size of a fixed-size value type, 0 for strings
// and arrays, -1 for an invalid type.
func scalarSize(t uint32) int64 {
	switch t {
	case ggufUint8, ggufInt8, ggufBool:
		return 1
	case ggufUint16, ggufInt16:
		return 2
	case ggufUint32, ggufInt32, ggufFloat32:
		return 4
	case ggufUint64, ggufInt64, ggufFloat64:
		return 8
	case ggufString, ggufArray:
		return 0
	}
	return -1
}

// value reads one metadata value of type t; what names it in errors, and
// depth bounds the nesting of arrays.
func (d *ggufDecoder) value(t uint32, what string, depth int) ggufValue {
	v := ggufValue{typ: t}
	switch t {
	case ggufUint8:
		if b := d.take(1, what); b != nil {
			v.u = uint64(b[0])
		}
	case ggufBool:
		if b := d.take(1, what); b != nil {
			if b[0] > 1 {
				d.fail(what, fmt.Errorf("%w: bool value %d", ErrFormat, b[0]))
			}
			v.u = uint64(b[0])
		}
	case ggufInt8:
		if b := d.take(1, what); b != nil {
			v.i = int64(int8(b[0]))
		}
	case ggufUint16:
		if b := d.take(2, what); b != nil {
			v.u = uint64(binary.LittleEndian.Uint16(b))
		}
	case ggufInt16:
		if b := d.take(2, what); b != nil {
			v.i = int64(int16(binary.LittleEndian.Uint16(b)))
		}
	case ggufUint32:
		v.u = uint64(d.u32(what))
	case ggufInt32:
		v.i = int64(int32(d.u32(what)))
	case ggufFloat32:
		v.f = float64(math.Float32frombits(d.u32(what)))
	case ggufUint64:
		v.u = d.u64(what)
	case ggufInt64:
		v.i = int64(d.u64(what))
	case ggufFloat64:
		v.f = math.Float64frombits(d.u64(what))
	case ggufString:
		v.s = d.str(what)
	case ggufArray:
		d.array(&v, what, depth)
	default:
		d.fail(what, fmt.Errorf("%w: invalid value type %d", ErrFormat, t))
	}
	return v
}

// array reads an array value's element type, count and elements into v,
// bounding the count by the bytes left before it allocates.
func (d *ggufDecoder) array(v *ggufValue, what string, depth int) {
	v.elem = d.u32(what)
	n := d.u64(what)
	if d.err != nil {
		return
	}
	size := scalarSize(v.elem)
	switch {
	case size < 0:
		d.fail(what, fmt.Errorf("%w: array of invalid type %d", ErrFormat, v.elem))
		return
	case v.elem == ggufArray && depth >= ggufMaxDepth:
		d.fail(what, fmt.Errorf("%w: arrays nested more than %d deep", ErrFormat, ggufMaxDepth))
		return
	case size == 0:
		size = 8 // a string or an array takes at least its 8-byte length
	}
	if n > uint64(d.left()/size) {
		d.fail(what, fmt.Errorf("%w: array of %d elements, %d bytes left", ErrTruncated, n, d.left()))
		return
	}
	switch v.elem {
	case ggufString:
		v.strs = make([]string, n)
		for i := range v.strs {
			v.strs[i] = d.str(what)
		}
	case ggufArray:
		for range n {
			d.value(ggufArray, what, depth+1)
		}
	default:
		v.nums = make([]float64, n)
		for i := range v.nums {
			e := d.value(v.elem, what, depth+1)
			v.nums[i] = e.num()
		}
	}
}

// num is a numeric scalar as float64 (exact for 32-bit integers and floats).
func (v ggufValue) num() float64 {
	switch v.typ {
	case ggufUint8, ggufUint16, ggufUint32, ggufUint64, ggufBool:
		return float64(v.u)
	case ggufInt8, ggufInt16, ggufInt32, ggufInt64:
		return float64(v.i)
	}
	return v.f
}

// integer returns an integer scalar, and false for any other value.
func (v ggufValue) integer() (int64, bool) {
	switch v.typ {
	case ggufUint8, ggufUint16, ggufUint32, ggufUint64:
		if v.u > math.MaxInt64 {
			return 0, false
		}
		return int64(v.u), true
	case ggufInt8, ggufInt16, ggufInt32, ggufInt64:
		return v.i, true
	}
	return 0, false
}

// decodeGGUF parses the header, metadata and tensor infos, and checks that
// every tensor lies inside the file.
func decodeGGUF(b []byte) (*ggufFile, error) {
	d := &ggufDecoder{b: b}
	f := &ggufFile{kv: map[string]ggufValue{}, tensors: map[string]ggufTensor{}, align: 32}
	nt, nkv, err := d.header(f)
	if err != nil {
		return nil, err
	}
	if err := d.metadata(f, nkv); err != nil {
		return nil, err
	}
	infos, err := d.tensorInfos(f, nt)
	if err != nil {
		return nil, err
	}
	f.data = int64((uint64(d.off) + f.align - 1) / f.align * f.align)
	if err := f.checkData(infos, int64(len(b))); err != nil {
		return nil, err
	}
	return f, nil
}

// header reads the magic, the version and the two counts, and bounds the
// counts by what the rest of the file can hold.
func (d *ggufDecoder) header(f *ggufFile) (nt, nkv uint64, err error) {
	magic := d.take(4, "magic")
	if d.err != nil {
		return 0, 0, d.err
	}
	if string(magic) != "GGUF" {
		d.off = 0
		d.fail("magic", fmt.Errorf("%w: not a GGUF file (magic %q)", ErrFormat, magic))
		return 0, 0, d.err
	}
	f.version = d.u32("version")
	if d.err == nil && f.version != 2 && f.version != 3 {
		d.off -= 4
		d.fail("version", fmt.Errorf("%w: GGUF version %d, want 2 or 3", ErrUnsupported, f.version))
	}
	nt = d.u64("tensor count")
	nkv = d.u64("metadata count")
	if d.err != nil {
		return 0, 0, d.err
	}
	// A metadata entry takes at least 13 bytes and a tensor info 24.
	if nkv > uint64(d.left()/13) || nt > uint64(d.left()/24) {
		d.fail("header", fmt.Errorf("%w: %d metadata entries and %d tensors cannot fit in %d bytes", ErrTruncated, nkv, nt, d.left()))
		return 0, 0, d.err
	}
	return nt, nkv, nil
}

// metadata reads nkv key-value pairs into f.kv, and the alignment they set.
func (d *ggufDecoder) metadata(f *ggufFile, nkv uint64) error {
	for range nkv {
		at := d.off
		key := d.str("metadata key")
		t := d.u32("metadata " + key)
		v := d.value(t, "metadata "+key, 0)
		if d.err != nil {
			return d.err
		}
		if _, dup := f.kv[key]; dup {
			d.off = at
			d.fail("metadata "+key, fmt.Errorf("%w: key given twice", ErrFormat))
			return d.err
		}
		f.kv[key] = v
	}
	if a, ok := f.kv["general.alignment"]; ok {
		n, isInt := a.integer()
		if !isInt || n <= 0 || n > 1<<20 || n&(n-1) != 0 {
			return &FormatError{Offset: -1, What: "metadata general.alignment",
				Err: fmt.Errorf("%w: alignment %v is not a power of two", ErrFormat, a.num())}
		}
		f.align = uint64(n)
	}
	return nil
}

// tensorInfos reads nt tensor infos into f.tensors, in file order.
func (d *ggufDecoder) tensorInfos(f *ggufFile, nt uint64) ([]ggufTensor, error) {
	infos := make([]ggufTensor, 0, nt)
	for range nt {
		at := d.off
		t := ggufTensor{at: at, name: d.str("tensor name")}
		what := "tensor " + t.name
		nd := d.u32(what)
		if d.err == nil && (nd == 0 || nd > 4) {
			d.fail(what, fmt.Errorf("%w: %d dimensions", ErrFormat, nd))
		}
		if d.err != nil {
			return nil, d.err
		}
		t.dims = make([]uint64, nd)
		for i := range t.dims {
			t.dims[i] = d.u64(what)
		}
		t.typ = d.u32(what)
		t.offset = d.u64(what)
		if d.err != nil {
			return nil, d.err
		}
		if _, dup := f.tensors[t.name]; dup {
			d.off = at
			d.fail(what, fmt.Errorf("%w: tensor given twice", ErrFormat))
			return nil, d.err
		}
		f.tensors[t.name] = t
		infos = append(infos, t)
	}
	return infos, nil
}

// checkData checks that every tensor whose size is known lies, aligned,
// inside a file of size bytes.
func (f *ggufFile) checkData(infos []ggufTensor, size int64) error {
	for _, t := range infos {
		what := "tensor " + t.name
		if t.offset%f.align != 0 {
			return &FormatError{Offset: t.at, What: what,
				Err: fmt.Errorf("%w: data offset %d is not a multiple of the alignment %d", ErrFormat, t.offset, f.align)}
		}
		n, known := t.size()
		if !known {
			continue // checked when, and if, the tensor is read
		}
		if n < 0 || t.offset > uint64(size) || uint64(f.data)+t.offset+uint64(n) > uint64(size) {
			return &FormatError{Offset: size, What: what,
				Err: fmt.Errorf("%w: data of %d bytes at %d, file has %d bytes", ErrTruncated, n, f.data+int64(t.offset), size)}
		}
	}
	return nil
}

// elements is the tensor's element count, or -1 when it overflows.
func (t ggufTensor) elements() int64 {
	n := int64(1)
	for _, x := range t.dims {
		if x > 1<<40 || n > (1<<62)/int64(max(x, 1)) {
			return -1
		}
		n *= int64(x)
	}
	return n
}

// size is the byte size of a tensor of a supported type (-1 on overflow);
// known is false for other types and for rows that its blocks do not
// divide, which the tensor's reader reports.
func (t ggufTensor) size() (n int64, known bool) {
	e := t.elements()
	if e < 0 || e > 1<<58 {
		return -1, true
	}
	q, ok := qtypeOf(t.typ)
	if !ok || t.dims[0]%uint64(q.block) != 0 {
		return 0, false
	}
	return e / int64(q.block) * int64(q.bytes), true
}

// LoadGGUF reads a GGUF file of the llama architecture and a SentencePiece
// ("llama") vocabulary. Its weight matrices may be F32, F16, BF16, Q4_0,
// Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL or IQ4_XS;
// quantized ones stay in their blocks and are computed as llama.cpp's CPU
// backend computes them (see matmul).
func LoadGGUF(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	m, err := DecodeGGUF(b)
	return m, withPath(err, path)
}

// DecodeGGUF decodes a GGUF file held in memory; see LoadGGUF.
func DecodeGGUF(b []byte) (*Model, error) {
	f, err := decodeGGUF(b)
	if err != nil {
		return nil, err
	}
	cfg, err := f.config()
	if err != nil {
		return nil, err
	}
	v, err := f.vocab(cfg.VocabSize)
	if err != nil {
		return nil, err
	}
	w, shared, err := f.weights(b, cfg)
	if err != nil {
		return nil, err
	}
	cfg.SharedClassifier = shared
	return &Model{cfg: cfg, vocab: v, w: w, digest: fileDigest(b), simd: hasSIMD(), wide: hasAVX512(), vnni: vnniLevel()}, nil
}

func metaErr(key string, err error) error {
	return &FormatError{Offset: -1, What: "metadata " + key, Err: err}
}

func (f *ggufFile) str(key string) (string, bool) {
	v, ok := f.kv[key]
	if !ok || v.typ != ggufString {
		return "", false
	}
	return v.s, true
}

// intKey reads an integer metadata value; def is used when it is absent
// (def < 0 makes it required).
func (f *ggufFile) intKey(key string, def int) (int, error) {
	v, ok := f.kv[key]
	if !ok {
		if def < 0 {
			return 0, metaErr(key, fmt.Errorf("%w: required key missing", ErrFormat))
		}
		return def, nil
	}
	n, isInt := v.integer()
	if !isInt || n < 0 || n > maxDim*64 {
		return 0, metaErr(key, fmt.Errorf("%w: want an integer in [0, %d], have %v", ErrFormat, maxDim*64, v.num()))
	}
	return int(n), nil
}

func (f *ggufFile) floatKey(key string, def float64) (float64, error) {
	v, ok := f.kv[key]
	if !ok {
		return def, nil
	}
	if v.typ == ggufString || v.typ == ggufArray {
		return 0, metaErr(key, fmt.Errorf("%w: want a number", ErrFormat))
	}
	return v.num(), nil
}

func (f *ggufFile) config() (Config, error) {
	arch, _ := f.str("general.architecture")
	if arch != "llama" {
		return Config{}, metaErr("general.architecture", fmt.Errorf("%w: architecture %q, only llama is supported", ErrUnsupported, arch))
	}
	var c Config
	var err error
	for _, k := range []struct {
		key string
		dst *int
		def int
	}{
		{"llama.embedding_length", &c.Dim, -1},
		{"llama.feed_forward_length", &c.HiddenDim, -1},
		{"llama.block_count", &c.Layers, -1},
		{"llama.attention.head_count", &c.Heads, -1},
		{"llama.context_length", &c.SeqLen, -1},
	} {
		if *k.dst, err = f.intKey(k.key, k.def); err != nil {
			return Config{}, err
		}
	}
	if c.KVHeads, err = f.intKey("llama.attention.head_count_kv", c.Heads); err != nil {
		return Config{}, err
	}
	if c.RopeTheta, err = f.floatKey("llama.rope.freq_base", DefaultRopeTheta); err != nil {
		return Config{}, err
	}
	eps, err := f.floatKey("llama.attention.layer_norm_rms_epsilon", float64(DefaultNormEps))
	if err != nil {
		return Config{}, err
	}
	c.NormEps = float32(eps)
	tokens := f.kv["tokenizer.ggml.tokens"]
	if tokens.typ != ggufArray || tokens.elem != ggufString {
		return Config{}, metaErr("tokenizer.ggml.tokens", fmt.Errorf("%w: missing or not an array of strings", ErrFormat))
	}
	c.VocabSize = len(tokens.strs)
	if n, err := f.intKey("llama.vocab_size", c.VocabSize); err != nil {
		return Config{}, err
	} else if n != c.VocabSize {
		return Config{}, metaErr("llama.vocab_size", fmt.Errorf("%w: %d, but tokenizer.ggml.tokens has %d", ErrFormat, n, c.VocabSize))
	}
	if err := c.Validate(); err != nil {
		return Config{}, &FormatError{Offset: -1, What: "metadata", Err: err}
	}
	if rd, err := f.intKey("llama.rope.dimension_count", c.HeadSize()); err != nil {
		return Config{}, err
	} else if rd != c.HeadSize() {
		return Config{}, metaErr("llama.rope.dimension_count", fmt.Errorf("%w: rotary embeddings over %d of %d dimensions per head", ErrUnsupported, rd, c.HeadSize()))
	}
	for _, k := range []string{"llama.rope.scaling.type", "llama.expert_count"} {
		if v, ok := f.kv[k]; ok && !(v.typ == ggufString && (v.s == "none" || v.s == "")) && !(v.typ != ggufString && v.num() == 0) {
			return Config{}, metaErr(k, fmt.Errorf("%w: %s is not implemented", ErrUnsupported, k))
		}
	}
	return c, nil
}

func (f *ggufFile) vocab(n int) (*Vocab, error) {
	if m, _ := f.str("tokenizer.ggml.model"); m != "llama" {
		return nil, metaErr("tokenizer.ggml.model", fmt.Errorf("%w: tokenizer %q, only the SentencePiece \"llama\" tokenizer is supported", ErrUnsupported, m))
	}
	pieces := make([]string, n)
	for i, p := range f.kv["tokenizer.ggml.tokens"].strs {
		pieces[i] = strings.ReplaceAll(p, "\u2581", " ")
	}
	scores := make([]float32, n)
	if s, ok := f.kv["tokenizer.ggml.scores"]; ok {
		if s.typ != ggufArray || len(s.nums) != n {
			return nil, metaErr("tokenizer.ggml.scores", fmt.Errorf("%w: want %d numbers", ErrFormat, n))
		}
		for i, x := range s.nums {
			scores[i] = float32(x)
		}
	}
	types := make([]TokenType, n)
	for i := range types {
		types[i] = TokenNormal
	}
	if s, ok := f.kv["tokenizer.ggml.token_type"]; ok {
		if s.typ != ggufArray || len(s.nums) != n {
			return nil, metaErr("tokenizer.ggml.token_type", fmt.Errorf("%w: want %d numbers", ErrFormat, n))
		}
		for i, x := range s.nums {
			if x < 1 || x > 6 {
				return nil, metaErr("tokenizer.ggml.token_type", fmt.Errorf("%w: token %d has type %v", ErrFormat, i, x))
			}
			types[i] = TokenType(x)
		}
	}
	bos, err := f.intKey("tokenizer.ggml.bos_token_id", 1)
	if err != nil {
		return nil, err
	}
	eos, err := f.intKey("tokenizer.ggml.eos_token_id", 2)
	if err != nil {
		return nil, err
	}
	unk := -1
	if v, ok := f.kv["tokenizer.ggml.unknown_token_id"]; ok {
		if u, isInt := v.integer(); isInt && u >= 0 && u < int64(n) {
			unk = int(u)
		}
	}
	v, err := NewVocab(pieces, scores, types, bos, eos, unk)
	if err != nil {
		return nil, &FormatError{Offset: -1, What: "vocabulary", Err: err}
	}
	return v, nil
}

// matrix reads the tensor name of shape (cols, rows), GGUF's order with the
// row length first, keeping its type.
func (f *ggufFile) matrix(b []byte, name string, cols, rows uint64) (matrix, error) {
	t, ok := f.tensors[name]
	what := "tensor " + name
	if !ok {
		return matrix{}, &FormatError{Offset: -1, What: what, Err: fmt.Errorf("%w: missing", ErrFormat)}
	}
	shape := []uint64{cols, rows}
	if rows == 1 {
		shape = shape[:1]
	}
	if !slices.Equal(t.dims, shape) {
		return matrix{}, &FormatError{Offset: t.at, What: what, Err: fmt.Errorf("%w: shape %v, want %v", ErrFormat, t.dims, shape)}
	}
	q, ok := qtypeOf(t.typ)
	if !ok {
		return matrix{}, &FormatError{Offset: t.at, What: what,
			Err: fmt.Errorf("%w: tensor type %s is not supported (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K, IQ4_NL, IQ4_XS are)", ErrUnsupported, ggmlTypeName(t.typ))}
	}
	if cols%uint64(q.block) != 0 {
		return matrix{}, &FormatError{Offset: t.at, What: what,
			Err: fmt.Errorf("%w: rows of %d weights are not a whole number of %s blocks of %d", ErrFormat, cols, ggmlTypeName(t.typ), q.block)}
	}
	// The size was checked against the file in decodeGGUF.
	size, _ := t.size()
	at := f.data + int64(t.offset)
	data := b[at : at+size]
	if t.typ == ggmlF32 {
		out := make([]float32, cols*rows)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		return f32Matrix(int(rows), int(cols), out), nil
	}
	// A copy, so that the file's bytes can be freed once it is loaded.
	return quantMatrix(t.typ, int(rows), int(cols), bytes.Clone(data)), nil
}

// vector reads a one-dimensional tensor of n values as float32.
func (f *ggufFile) vector(b []byte, name string, n uint64) ([]float32, error) {
	m, err := f.matrix(b, name, n, 1)
	if err != nil {
		return nil, err
	}
	return m.toF32().f, nil
}

// weights reads every tensor. GGUF's llama tensors use the same row-major
// layout and the same interleaved rotary pairs as llama2.c, so they are used
// as stored: llama.cpp's converters permute Hugging Face's q and k rows into
// this layout, and its llama2.c converter copies them unchanged.
func (f *ggufFile) weights(b []byte, c Config) (w weights, shared bool, err error) {
	d, h, kv, v := uint64(c.Dim), uint64(c.HiddenDim), uint64(c.KVDim()), uint64(c.VocabSize)
	embed, err := f.matrix(b, "token_embd.weight", d, v)
	if err != nil {
		return
	}
	w.embed = &embed
	w.layers = make([]layer, c.Layers)
	for i := range w.layers {
		l := &w.layers[i]
		p := fmt.Sprintf("blk.%d.", i)
		for _, t := range []struct {
			name string
			dst  *[]float32
		}{{"attn_norm.weight", &l.attnNorm}, {"ffn_norm.weight", &l.ffnNorm}} {
			if *t.dst, err = f.vector(b, p+t.name, d); err != nil {
				return
			}
		}
		for _, t := range []struct {
			name       string
			dst        *matrix
			cols, rows uint64
		}{
			{"attn_q.weight", &l.wq, d, d},
			{"attn_k.weight", &l.wk, d, kv},
			{"attn_v.weight", &l.wv, d, kv},
			{"attn_output.weight", &l.wo, d, d},
			{"ffn_gate.weight", &l.w1, d, h},
			{"ffn_down.weight", &l.w2, h, d},
			{"ffn_up.weight", &l.w3, d, h},
		} {
			if *t.dst, err = f.matrix(b, p+t.name, t.cols, t.rows); err != nil {
				return
			}
		}
	}
	if w.finalNorm, err = f.vector(b, "output_norm.weight", d); err != nil {
		return
	}
	if _, ok := f.tensors["output.weight"]; !ok {
		w.cls = w.embed
		return w, true, nil
	}
	cls, err := f.matrix(b, "output.weight", d, v)
	w.cls = &cls
	return w, false, err
}
