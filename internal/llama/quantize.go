package llama

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Weight quantizers: llama.cpp's reference quantizers, the ones
// llama-quantize runs when it is given no importance matrix. Each writes
// one row of n weights (a multiple of the block size) into dst.

// quantizeRow quantizes x into dst as type t; t is one of quantizable().
func quantizeRow(t uint32, x []float32, dst []byte) {
	switch t {
	case ggmlQ8_0:
		quantizeQ8_0(x, dst)
	case ggmlQ4_0:
		quantizeQ4_0(x, dst)
	case ggmlQ4_1:
		quantizeQ4_1(x, dst)
	case ggmlQ5_0:
		quantizeQ5_0(x, dst)
	case ggmlQ5_1:
		quantizeQ5_1(x, dst)
	case ggmlQ6_K:
		quantizeQ6_K(x, dst)
	case ggmlQ4_K:
		quantizeQ4_K(x, dst)
	case ggmlIQ4NL:
		quantizeIQ4NL(x, dst)
	case ggmlF16:
		for i, v := range x {
			binary.LittleEndian.PutUint16(dst[2*i:], floatToHalf(v))
		}
	default:
		panic("llama: no quantizer for " + ggmlTypeName(t))
	}
}

// quantize returns w (float32) quantized to type t.
func quantize(t uint32, w *matrix) matrix {
	f := w.toF32()
	stride, _ := rowBytes(t, w.cols)
	q := make([]byte, w.rows*stride)
	for r := range w.rows {
		quantizeRow(t, f.f[r*w.cols:(r+1)*w.cols], q[r*stride:(r+1)*stride])
	}
	return quantMatrix(t, w.rows, w.cols, q)
}

func putHalf(b []byte, f float32) { binary.LittleEndian.PutUint16(b, floatToHalf(f)) }

// roundAway rounds half away from zero, as C's roundf.
func roundAway(f float32) float32 { return float32(math.Round(float64(f))) }

// quantizeQ8_0: scale amax/127, values round(x/scale), half away from zero.
func quantizeQ8_0(x []float32, dst []byte) {
	for b := range len(x) / 32 {
		v := x[32*b : 32*b+32]
		blk := dst[34*b : 34*b+34]
		var amax float32
		for _, e := range v {
			amax = max(amax, abs32(e))
		}
		d := amax / 127
		id := float32(0)
		if d != 0 {
			id = 1 / d
		}
		putHalf(blk, d)
		for j, e := range v {
			blk[2+j] = byte(int8(roundAway(e * id)))
		}
	}
}

// signedMax is the value of largest magnitude, the first among equals.
func signedMax(v []float32) float32 {
	var amax, mx float32
	for _, e := range v {
		if a := abs32(e); amax < a {
			amax, mx = a, e
		}
	}
	return mx
}

// quantizeQ4_0: the value of largest magnitude maps to -8.
func quantizeQ4_0(x []float32, dst []byte) {
	for b := range len(x) / 32 {
		v := x[32*b : 32*b+32]
		blk := dst[18*b : 18*b+18]
		d := signedMax(v) / -8
		id := float32(0)
		if d != 0 {
			id = 1 / d
		}
		putHalf(blk, d)
		for j := range 16 {
			lo := min(15, int8(float32(v[j]*id)+8.5))
			hi := min(15, int8(float32(v[j+16]*id)+8.5))
			blk[2+j] = byte(lo) | byte(hi)<<4
		}
	}
}

// minMax is the smallest and largest value.
func minMax(v []float32) (lo, hi float32) {
	lo, hi = math.MaxFloat32, -math.MaxFloat32
	for _, e := range v {
		lo, hi = min(lo, e), max(hi, e)
	}
	return lo, hi
}

// quantizeQ4_1: 16 steps from the block's minimum to its maximum.
func quantizeQ4_1(x []float32, dst []byte) {
	for b := range len(x) / 32 {
		v := x[32*b : 32*b+32]
		blk := dst[20*b : 20*b+20]
		lo, hi := minMax(v)
		d := (hi - lo) / 15
		id := float32(0)
		if d != 0 {
			id = 1 / d
		}
		putHalf(blk, d)
		putHalf(blk[2:], lo)
		for j := range 16 {
			a := min(15, int8(float32(float32(v[j]-lo)*id)+0.5))
			c := min(15, int8(float32(float32(v[j+16]-lo)*id)+0.5))
			blk[4+j] = byte(a) | byte(c)<<4
		}
	}
}

// putQ5 packs 32 five-bit values into nibbles and a word of fifth bits.
func putQ5(qh, qs []byte, l []uint8) {
	var h uint32
	for j := range 16 {
		qs[j] = l[j]&0xf | (l[j+16]&0xf)<<4
		h |= uint32(l[j]>>4&1) << j
		h |= uint32(l[j+16]>>4&1) << (j + 16)
	}
	binary.LittleEndian.PutUint32(qh, h)
}

// quantizeQ5_0: the value of largest magnitude maps to -16.
func quantizeQ5_0(x []float32, dst []byte) {
	var l [32]uint8
	for b := range len(x) / 32 {
		v := x[32*b : 32*b+32]
		blk := dst[22*b : 22*b+22]
		d := signedMax(v) / -16
		id := float32(0)
		if d != 0 {
			id = 1 / d
		}
		putHalf(blk, d)
		for j, e := range v {
			l[j] = uint8(min(31, int8(float32(e*id)+16.5)))
		}
		putQ5(blk[2:6], blk[6:22], l[:])
	}
}

// quantizeQ5_1: 32 steps from the block's minimum to its maximum.
func quantizeQ5_1(x []float32, dst []byte) {
	var l [32]uint8
	for b := range len(x) / 32 {
		v := x[32*b : 32*b+32]
		blk := dst[24*b : 24*b+24]
		lo, hi := minMax(v)
		d := (hi - lo) / 31
		id := float32(0)
		if d != 0 {
			id = 1 / d
		}
		putHalf(blk, d)
		putHalf(blk[2:], lo)
		for j, e := range v {
			l[j] = uint8(float32(float32(e-lo)*id) + 0.5)
		}
		putQ5(blk[4:8], blk[8:24], l[:])
	}
}

// groupMaxEps is GGML's threshold below which a group counts as all zero.
const groupMaxEps = 1e-15

// makeQxQuants is GGML's make_qx_quants with rmse_type 1 and no importance
// weights (each weight counts as its square): it picks the scale of n
// signed levels in [-nmax, nmax) that minimises the weighted squared error
// among 19 candidates, and sets L to the levels plus nmax.
func makeQxQuants(nmax int, x []float32, L []int8) float32 {
	mx := signedMax(x)
	if abs32(mx) < groupMaxEps {
		clear(L)
		return 0
	}
	fn := float32(nmax)
	level := func(iscale, v float32) int32 {
		return max(-int32(nmax), min(int32(nmax)-1, nearestInt(iscale*v)))
	}
	iscale := -fn / mx
	var sumlx, suml2 float32
	for i, v := range x {
		l := level(iscale, v)
		L[i] = int8(l + int32(nmax))
		w := float32(v * v)
		sumlx += float32(float32(w*v) * float32(l))
		suml2 += float32(float32(w*float32(l)) * float32(l))
	}
	scale := float32(0)
	if suml2 != 0 {
		scale = sumlx / suml2
	}
	best := float32(scale * sumlx)
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(fn + float32(0.1*float32(is))) / mx
		sumlx, suml2 = 0, 0
		for _, v := range x {
			l := level(iscale, v)
			w := float32(v * v)
			sumlx += float32(float32(w*v) * float32(l))
			suml2 += float32(float32(w*float32(l)) * float32(l))
		}
		if suml2 > 0 && float32(sumlx*sumlx) > float32(best*suml2) {
			for i, v := range x {
				L[i] = int8(level(iscale, v) + int32(nmax))
			}
			scale = sumlx / suml2
			best = float32(scale * sumlx)
		}
	}
	return scale
}

// quantizeQ6_K: 16 groups of 16 with 6-bit levels, each group's scale
// quantized to int8 against the super-block's binary16 scale.
func quantizeQ6_K(x []float32, dst []byte) {
	var L [256]int8
	var scales [16]float32
	for b := range len(x) / 256 {
		v := x[256*b : 256*b+256]
		blk := dst[210*b : 210*b+210]
		var maxScale, maxAbs float32
		for ib := range 16 {
			s := makeQxQuants(32, v[16*ib:16*ib+16], L[16*ib:16*ib+16])
			scales[ib] = s
			if a := abs32(s); a > maxAbs {
				maxAbs, maxScale = a, s
			}
		}
		if maxAbs < groupMaxEps {
			clear(blk)
			continue
		}
		iscale := -128 / maxScale
		putHalf(blk[208:], 1/iscale)
		d := half(blk[208:])
		for ib := range 16 {
			blk[192+ib] = byte(int8(min(127, nearestInt(iscale*scales[ib]))))
		}
		for j := range 16 {
			dj := float32(d * float32(int8(blk[192+j])))
			if dj == 0 {
				continue
			}
			for i := range 16 {
				l := max(-32, min(31, nearestInt(v[16*j+i]/dj)))
				L[16*j+i] = int8(l + 32)
			}
		}
		ql, qh := blk[0:128], blk[128:192]
		for n := 0; n < 2; n++ {
			Ln := L[128*n : 128*n+128]
			for l := range 32 {
				q1, q2, q3, q4 := uint8(Ln[l]), uint8(Ln[l+32]), uint8(Ln[l+64]), uint8(Ln[l+96])
				ql[64*n+l] = q1&0xf | (q3&0xf)<<4
				ql[64*n+l+32] = q2&0xf | (q4&0xf)<<4
				qh[32*n+l] = q1>>4 | (q2>>4)<<2 | (q3>>4)<<4 | (q4>>4)<<6
			}
		}
	}
}

// ftypeQ4_K_M stands for llama-quantize's Q4_K_M file type, a mix of
// types rather than one; it is not a GGML tensor type.
const ftypeQ4_K_M = 1 << 16

// ftypeTensorType is the type llama-quantize gives the weight matrix name
// of cols columns, in a model of the given layers, when asked for ftype:
// the main type, except that the output projection (or a token embedding
// that doubles as it) gets Q6_K, and that Q4_K_M gives Q6_K to attn_v and
// ffn_down of the layers its use_more_bits picks (the first and last
// eighth, and every third between) and Q4_K to the rest. A K-quant whose
// 256-weight blocks do not divide the rows falls back as llama-quantize
// falls back: Q4_K to Q5_0, Q6_K to Q8_0.
func ftypeTensorType(ftype uint32, name string, output bool, cols, layers int) uint32 {
	t := ftype
	if ftype == ftypeQ4_K_M {
		t = ggmlQ4_K
		var layer int
		var role string
		if n, _ := fmt.Sscanf(name, "blk.%d.%s", &layer, &role); n == 2 && (role == "attn_v.weight" || role == "ffn_down.weight") {
			if layer < layers/8 || layer >= 7*layers/8 || (layer-layers/8)%3 == 2 {
				t = ggmlQ6_K
			}
		}
	}
	if output && ftype != ggmlQ8_0 {
		t = ggmlQ6_K
	}
	if cols%256 != 0 {
		switch t {
		case ggmlQ4_K:
			t = ggmlQ5_0
		case ggmlQ6_K:
			t = ggmlQ8_0
		}
	}
	return t
}
