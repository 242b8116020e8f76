package llama

import (
	"encoding/binary"
	"fmt"
	"math"
)

// GGML tensor types the engine computes with. Their numbers are GGML's.
const (
	ggmlF32   = 0
	ggmlF16   = 1
	ggmlQ4_0  = 2
	ggmlQ4_1  = 3
	ggmlQ5_0  = 6
	ggmlQ5_1  = 7
	ggmlQ8_0  = 8
	ggmlQ2_K  = 10
	ggmlQ3_K  = 11
	ggmlQ4_K  = 12
	ggmlQ5_K  = 13
	ggmlQ6_K  = 14
	ggmlIQ4NL = 20
	ggmlIQ4XS = 23
	ggmlBF16  = 30
)

// Activation formats: what llama.cpp's CPU backend converts the input vector
// of a matrix product to before it takes dot products with the rows of a
// weight type (its "vec_dot_type"). The engine converts the same way, since
// that rounding moves log-probabilities by as much as the weights' own
// quantization does.
const (
	actF32  = iota
	actF16  // each value rounded to binary16
	actBF16 // each value rounded to bfloat16
	actQ8_0 // blocks of 32: int8 values and a binary16 scale
	actQ8_1 // Q8_0 plus the block's sum times its scale, in binary16
	actQ8_K // blocks of 256: int8 values, a float32 scale, sums of 16
)

// qtype describes how one tensor type stores a row.
type qtype struct {
	block int // weights per block
	bytes int // bytes per block
	act   int // activation format its dot products take
	dot   func(row []byte, a *act) float32
	deq   func(row []byte, out []float32)
}

// qtypeOf returns the layout of a supported type, and false for others.
// The table is built on each call (it is small) so that the package holds
// no mutable state.
func qtypeOf(t uint32) (qtype, bool) {
	switch t {
	case ggmlF32:
		return qtype{block: 1, bytes: 4, act: actF32}, true
	case ggmlF16:
		return qtype{1, 2, actF16, dotF16, deqF16}, true
	case ggmlBF16:
		return qtype{1, 2, actBF16, dotBF16, deqBF16}, true
	case ggmlQ4_0:
		return qtype{32, 18, actQ8_0, seqQ4_0, deqQ4_0}, true
	case ggmlQ4_1:
		return qtype{32, 20, actQ8_1, lanesQ4_1, deqQ4_1}, true
	case ggmlQ5_0:
		return qtype{32, 22, actQ8_0, lanesQ5_0, deqQ5_0}, true
	case ggmlQ5_1:
		return qtype{32, 24, actQ8_1, lanesQ5_1, deqQ5_1}, true
	case ggmlQ8_0:
		return qtype{32, 34, actQ8_0, lanesQ8_0, deqQ8_0}, true
	case ggmlIQ4NL:
		return qtype{32, 18, actQ8_0, lanesIQ4NL, deqIQ4NL}, true
	case ggmlQ2_K:
		return qtype{256, 84, actQ8_K, dotQ2_K, deqQ2_K}, true
	case ggmlQ3_K:
		return qtype{256, 110, actQ8_K, dotQ3_K, deqQ3_K}, true
	case ggmlQ4_K:
		return qtype{256, 144, actQ8_K, dotQ4_K, deqQ4_K}, true
	case ggmlQ5_K:
		return qtype{256, 176, actQ8_K, dotQ5_K, deqQ5_K}, true
	case ggmlQ6_K:
		return qtype{256, 210, actQ8_K, dotQ6_K, deqQ6_K}, true
	case ggmlIQ4XS:
		return qtype{256, 136, actQ8_K, dotIQ4XS, deqIQ4XS}, true
	}
	return qtype{}, false
}

// rowBytes is the size of a row of n weights of type t; ok is false when
// the type is unsupported or its block size does not divide n.
func rowBytes(t uint32, n int) (size int, ok bool) {
	q, known := qtypeOf(t)
	if !known || n%q.block != 0 {
		return 0, false
	}
	return n / q.block * q.bytes, true
}

// matrix is a weight matrix, row-major with one row per output, in the type
// its file stores it: F32 weights as float32, every other type as the
// file's own bytes, so that a quantized model takes about its file's size.
type matrix struct {
	typ        uint32
	rows, cols int
	f          []float32 // F32
	q          []byte    // other types: rows of blocks
	stride     int       // bytes per row of q
}

// f32Matrix wraps float32 weights.
func f32Matrix(rows, cols int, f []float32) matrix {
	return matrix{typ: ggmlF32, rows: rows, cols: cols, f: f}
}

// quantMatrix wraps rows of blocks of type t; the caller has checked that
// the type is supported, that its blocks divide cols and that q holds the
// rows.
func quantMatrix(t uint32, rows, cols int, q []byte) matrix {
	stride, _ := rowBytes(t, cols)
	return matrix{typ: t, rows: rows, cols: cols, q: q[: rows*stride : rows*stride], stride: stride}
}

// heldBytes is the memory the weights take.
func (m *matrix) heldBytes() int { return 4*len(m.f) + len(m.q) }

// row dequantizes row r into out (len cols) exactly as llama.cpp's
// dequantize_row does, which is what its get_rows (the token embedding)
// computes.
func (m *matrix) row(r int, out []float32) {
	if m.typ == ggmlF32 {
		copy(out, m.f[r*m.cols:(r+1)*m.cols])
		return
	}
	q, _ := qtypeOf(m.typ)
	q.deq(m.q[r*m.stride:(r+1)*m.stride], out[:m.cols])
}

// toF32 returns the matrix dequantized to float32 (m itself when it is F32).
func (m *matrix) toF32() matrix {
	if m.typ == ggmlF32 {
		return *m
	}
	f := make([]float32, m.rows*m.cols)
	for r := range m.rows {
		m.row(r, f[r*m.cols:(r+1)*m.cols])
	}
	return f32Matrix(m.rows, m.cols, f)
}

// typeName is the matrix's type as GGML names it.
func (m *matrix) typeName() string { return ggmlTypeName(m.typ) }

// act is an input vector converted to an activation format. Its buffers
// are reused from one product to the next.
type act struct {
	simd   bool // use the AVX2 kernels (same results, sooner)
	probed bool // vnni is known
	vnni   int8 // and the VNNI kernels of this set (vnniNone: none)
	batch  bool // the vector is a row of a prompt batch (see State.SetBatch)
	format int
	f      []float32 // F32, F16 and BF16: the (rounded) values
	qs     []int8    // Q8_*: the quantized values
	d      []float32 // Q8_*: each block's scale, as the dot products read it
	s      []float32 // Q8_1: each block's sum times its scale
	bsums  []int32   // Q8_K: sums of each run of 16 values
}

// grow returns s resliced to n, reallocated when it is too short.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// prepare converts x to format as llama.cpp's CPU backend does; x's length
// is a multiple of the format's block size (checked when the weights were
// loaded).
func (a *act) prepare(format int, x []float32) {
	if a.simd && !a.probed {
		// An act not made by NewState (which takes the model's
		// answer): once, as CPUID is slow, in a virtual machine slower.
		a.vnni, a.probed = vnniLevel(), true
	}
	a.format = format
	n := len(x)
	switch format {
	case actF32:
		a.f = x
	case actF16:
		a.f = grow(a.f, n)
		for i, v := range x {
			a.f[i] = roundHalf(v)
		}
	case actBF16:
		a.f = grow(a.f, n)
		for i, v := range x {
			a.f[i] = bf16ToFloat(floatToBF16(v))
		}
	case actQ8_0, actQ8_1:
		a.qs, a.d, a.s = grow(a.qs, n), grow(a.d, n/32), grow(a.s, n/32)
		if a.simd && n >= 32 && quantQ8AVX2(&x[0], n/32, &a.qs[0], &a.d[0], &a.s[0]) {
			return
		}
		for b := range n / 32 {
			a.d[b], a.s[b] = quantizeQ8Act(x[32*b:32*b+32], a.qs[32*b:32*b+32])
		}
	case actQ8_K:
		a.qs, a.d, a.bsums = grow(a.qs, n), grow(a.d, n/256), grow(a.bsums, n/16)
		if a.simd && n >= 256 && quantQ8KAVX2(&x[0], n/256, &a.qs[0], &a.d[0], &a.bsums[0]) {
			return
		}
		for b := range n / 256 {
			a.d[b] = quantizeQ8K(x[256*b:256*b+256], a.qs[256*b:256*b+256], a.bsums[16*b:16*b+16])
		}
	default:
		panic(fmt.Sprintf("llama: activation format %d", format))
	}
}

// quantizeQ8Act quantizes 32 activations as llama.cpp's x86 quantize_row_q8_0
// and q8_1 do: scale amax/127 stored as binary16, values x*(127/amax)
// rounded to nearest even. It returns the stored scale and, for Q8_1, the
// binary16 of the values' sum times the unrounded scale.
func quantizeQ8Act(x []float32, qs []int8) (d, s float32) {
	var amax float32
	for _, v := range x {
		amax = max(amax, abs32(v))
	}
	dd := amax / 127
	id := float32(0)
	if amax != 0 {
		id = 127 / amax
	}
	sum := int32(0)
	for j, v := range x {
		q := int8(math.RoundToEven(float64(v * id)))
		qs[j] = q
		sum += int32(q)
	}
	return roundHalf(dd), roundHalf(float32(sum) * dd)
}

// quantizeQ8K quantizes 256 activations as llama.cpp's quantize_row_q8_K:
// the value of largest magnitude maps to -127 (so the scale is negative
// when it is positive), values rounded to nearest even and capped at 127,
// the scale kept in float32; bsums gets the sums of each 16 values.
func quantizeQ8K(x []float32, qs []int8, bsums []int32) float32 {
	var amax, mx float32
	for _, v := range x {
		if a := abs32(v); a > amax {
			amax, mx = a, v
		}
	}
	if amax == 0 {
		clear(qs)
		clear(bsums)
		return 0
	}
	iscale := -127 / mx
	for j, v := range x {
		qs[j] = int8(min(127, nearestInt(iscale*v)))
	}
	for j := range bsums {
		s := int32(0)
		for _, q := range qs[16*j : 16*j+16] {
			s += int32(q)
		}
		bsums[j] = s
	}
	return 1 / iscale
}

// nearestInt rounds to the nearest integer, ties to even, as GGML's
// nearest_int does for the magnitudes quantizers feed it.
func nearestInt(f float32) int32 { return int32(math.RoundToEven(float64(f))) }

func abs32(f float32) float32 { return math.Float32frombits(math.Float32bits(f) &^ (1 << 31)) }

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }

// half reads a little-endian binary16 as float32.
func half(b []byte) float32 { return halfToFloat(le16(b)) }

// floatToBF16 rounds to bfloat16 as GGML does: to nearest even, NaN kept
// quiet.
func floatToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 64
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}

func bf16ToFloat(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// dotRows sets out[r] = w[r] . x for rows r in [lo, hi), x already
// converted to the format w's type takes.
func (m *matrix) dotRows(out []float32, a *act, lo, hi int) {
	if lo >= hi {
		return
	}
	switch {
	case a.simd && m.typ == ggmlF32 && m.cols >= 16:
		matF32AVX2(&m.f[lo*m.cols], &a.f[0], m.cols, &out[lo], hi-lo)
		return
	case a.simd && m.dotRowsAVX2(out, a, lo, hi):
		return
	case m.typ == ggmlF32:
		n := m.cols
		for r := lo; r < hi; r++ {
			out[r] = dotF32(m.f[r*n:(r+1)*n], a.f, a.simd)
		}
		return
	}
	q, _ := qtypeOf(m.typ)
	for r := lo; r < hi; r++ {
		out[r] = q.dot(m.q[r*m.stride:(r+1)*m.stride], a)
	}
}

// actFormat is the activation format of the matrix's type.
func (m *matrix) actFormat() int {
	q, _ := qtypeOf(m.typ)
	return q.act
}
