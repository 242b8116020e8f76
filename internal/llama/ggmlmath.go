package llama

import "math"

// The float arithmetic of llama.cpp's x86-64 CPU backend, written out.
//
// A quantized model rounds every matrix product's input to 8 bits, so an
// activation one float32 ulp away from llama.cpp's can land on the other
// side of a rounding boundary and move a log-probability by 1e-3 or more.
// The engine therefore does the float work in the order and with the fused
// multiply-adds llama.cpp's AVX-512 build uses, spelled with math.FMA, which
// Go defines exactly: the results are the same bits on every machine,
// vectorised or not.

// simdExpf is GGML's vectorised expf (ggml_v_expf, from Arm's optimized
// routines): a degree-5 polynomial on a range reduction by ln 2, accurate
// to about 1.5 ulp. llama.cpp uses it for SiLU and for softmax over runs of
// 16 values.
func simdExpf(x float32) float32 {
	const r = 0x1.8p23
	z := fma32(x, 0x1.715476p+0, r)
	n := z - r
	b := fma32(-n, 0x1.7f7d1cp-20, fma32(-n, 0x1.62e4p-1, x))
	if !(abs32(n) <= 192) {
		switch {
		case x != x:
			return x
		case n > 0:
			return float32(math.Inf(1))
		}
		return 0
	}
	u := b * b
	j := fma32(fma32(fma32(0x1.0e4020p-7, b, 0x1.573e2ep-5), u, fma32(0x1.555e66p-3, b, 0x1.fffdb6p-2)),
		u, fma32(0x1.ffffecp-1, b, 1))
	// scalef: j * 2^n, rounded once; a plain product when 2^n and the
	// result are normal floats.
	if k := int32(n); k >= -125 && k <= 126 {
		return j * math.Float32frombits(uint32(k+127)<<23)
	}
	return float32(math.Ldexp(float64(j), int(n)))
}

// silu is x / (1 + e^-x) with GGML's vectorised expf.
func silu(x float32) float32 { return x / (1 + simdExpf(-x)) }

// swiglu sets gate[i] = silu(gate[i]) * up[i], eight at a time in AVX2
// with simd (the same bits) where the gates allow.
func swiglu(gate, up []float32, simd bool) {
	up = up[:len(gate)]
	for i := 0; i < len(gate); {
		if simd && len(gate)-i >= 8 {
			i += swigluAVX2(&gate[i], &up[i], len(gate)-i)
		}
		// The eight the kernel stopped at, or the last few.
		for end := min(i+8, len(gate)); i < end; i++ {
			gate[i] = silu(gate[i]) * up[i]
		}
	}
}

// reduce16 adds 16 values as _mm512_reduce_add_ps does: halves, then
// quarters, then eighths, then the last pair.
func reduce16(v *[16]float32) float32 {
	var a [8]float32
	for i := range a {
		a[i] = v[i] + v[i+8]
	}
	var b [4]float32
	for i := range b {
		b[i] = a[i] + a[i+4]
	}
	return (b[0] + b[2]) + (b[1] + b[3])
}

// softmaxGGML replaces x by its softmax as ggml_soft_max does over a row
// padded to pad entries with -Inf (llama.cpp's masked KV cells): exps of
// runs of 16 with simdExpf summed lane-tree-wise into a float64, the rest
// with a correctly rounded expf, then a multiply by the float32 of the
// float64 reciprocal. mx is max(x) as Go's max finds it. simd runs the
// exponentials in AVX2, wide (with simd) in AVX-512: the same bits.
func softmaxGGML(x []float32, mx float32, pad int, simd, wide bool) {
	// The runs of 16 llama.cpp exponentiates with simdExpf.
	vec := min(len(x), pad/16*16)
	var sum float64
	if simd && vec > 0 && !math.IsInf(float64(mx), 0) && mx == mx {
		// x - mx is in [-Inf, 0]: the kernels' domain.
		expSum := expSumAVX2
		if wide {
			expSum = expSumAVX512
		}
		full := vec &^ 15
		if full > 0 {
			sum = expSum(&x[0], full/16, mx)
		}
		if full < vec {
			// The last short run, padded with -Inf, whose
			// exponentials are the +0 the lanes would hold.
			var lane [16]float32
			for i := range lane {
				lane[i] = float32(math.Inf(-1))
			}
			copy(lane[:], x[full:vec])
			sum += expSum(&lane[0], 1, mx)
			copy(x[full:vec], lane[:])
		}
	} else {
		var lane [16]float32
		for i := 0; i < vec; i += 16 {
			lane = [16]float32{}
			for j := i; j < min(i+16, vec); j++ {
				x[j] = simdExpf(x[j] - mx)
				lane[j-i] = x[j]
			}
			sum += float64(reduce16(&lane))
		}
	}
	for i := vec; i < len(x); i++ {
		x[i] = expf(x[i] - mx)
		sum += float64(x[i])
	}
	inv := float32(1 / sum)
	i := 0
	if simd && len(x) >= 8 {
		i = len(x) &^ 7
		scaleAVX2(&x[0], i, inv)
	}
	for ; i < len(x); i++ {
		x[i] *= inv
	}
}

// ropeTable sets cos and sin (len headSize/2) for position pos as GGML's
// rope cache does: the angle starts at pos and is multiplied by
// base^(-2/headSize), rounded to float32, once per pair.
func ropeTable(cos, sin []float32, pos, hs int, base float64) {
	scale := float32(math.Pow(base, float64(float32(-2)/float32(hs))))
	theta := float32(pos)
	for i := range cos {
		cos[i] = float32(math.Cos(float64(theta)))
		sin[i] = float32(math.Sin(float64(theta)))
		theta *= scale
	}
}

// fma32 is a*b+c as a single-precision fused multiply-add computes it, to
// within a double rounding: the product is exact in float64 and the sum is
// rounded to float64 and then to float32, which differs from rounding once
// only when the float64 sum falls exactly halfway between two float32s
// (about once in 2^29). It is defined this way, rather than exactly, so that
// it stays three inlined instructions, and it gives the same bits on every
// machine whether or not the compiler fuses the float64 operations, since
// the product is exact.
func fma32(a, b, c float32) float32 { return float32(float64(a)*float64(b) + float64(c)) }

// fmaf is a*b+c rounded once to float32, exactly as a single-precision
// fused multiply-add (VFMADD231PS) computes it, so that kernels can take
// the instruction itself. The product is exact in float64; the float64 sum
// is made round-to-odd (its last bit set when the sum is inexact, one step
// toward the exact value from an even neighbour), and rounding that to
// float32's 24 bits then rounds the exact value once: 53 bits are more
// than 24 + 1.
func fmaf(a, b, c float32) float32 {
	p, z := float64(a)*float64(b), float64(c)
	s := p + z
	// The sum's rounding error, exactly (Knuth's two-sum); NaN when s
	// overflowed or an operand was not finite, where nothing is to mend.
	v := s - p
	e := (p - (s - v)) + (z - v)
	if bits := math.Float64bits(s); e != 0 && e == e && bits&1 == 0 {
		if (e > 0) == (s > 0) {
			bits++
		} else {
			bits--
		}
		s = math.Float64frombits(bits)
	}
	return float32(s)
}

// hsum8 adds 8 lanes as GGML's hsum_float_8 does.
func hsum8(v *[8]float32) float32 {
	return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]))
}

// lanes32 adds the products of one block of 32 weights and activations
// into 8 lanes of 4 consecutive products each, as the AVX2 kernels'
// dpbusd/maddubs steps leave them.
func lanes32(w *[32]byte, y []int8) (l [8]int32) {
	y = y[:32]
	for k := range l {
		l[k] = int32(int8(w[4*k]))*int32(y[4*k]) + int32(int8(w[4*k+1]))*int32(y[4*k+1]) +
			int32(int8(w[4*k+2]))*int32(y[4*k+2]) + int32(int8(w[4*k+3]))*int32(y[4*k+3])
	}
	return l
}

// decode unpacks one block of 32 weights of type typ (Q4_1, Q5_0 or Q5_1)
// into w, as int8 bytes, and returns its scale and, for the types with an offset, its minimum
// (else 0). A switch rather than a function value, so that w stays on the
// stack.
func decode(typ uint32, blk []byte, w *[32]byte) (d, m float32) {
	switch typ {
	case ggmlQ4_1:
		return decQ4_1(blk, w)
	case ggmlQ5_0:
		return decQ5_0(blk, w)
	}
	return decQ5_1(blk, w)
}

// dotLanes is the x86 AVX2 dot product of a row of 32-weight blocks with
// Q8_0 or Q8_1 activations: per block, 8 lanes of integer sums each fused
// into a float32 accumulator by the product of the two scales, rounded
// once (fmaf, as _mm256_fmadd_ps), lanes added at the end; for Q4_1 and Q5_1,
// min times the activation block's sum added separately.
func dotLanes(row []byte, a *act, size int, typ uint32) float32 {
	var acc [8]float32
	var summs float32
	var w [32]byte
	if a.simd {
		// Decode runs of blocks into Q8_0's layout (a 2-byte gap, 32
		// int8) and let the Q8_0 kernel take the lanes: the same steps.
		const run = 8
		var buf [34 * run]byte
		var dd [run]float32
		for b0 := 0; b0 < len(a.d); b0 += run {
			n := min(run, len(a.d)-b0)
			for b := range n {
				d, m := decode(typ, row[size*(b0+b):size*(b0+b+1)], (*[32]byte)(buf[34*b+2:34*b+34]))
				dd[b] = d * a.d[b0+b]
				if m != 0 {
					summs += m * a.s[b0+b]
				}
			}
			lanesQ8AVX2(&buf[0], 34, &a.qs[32*b0], &dd[0], n, &acc)
		}
		return hsum8(&acc) + summs
	}
	for b, yd := range a.d {
		d, m := decode(typ, row[size*b:size*b+size], &w)
		l := lanes32(&w, a.qs[32*b:32*b+32])
		dd := d * yd
		for k := range acc {
			acc[k] = fmaf(dd, float32(l[k]), acc[k])
		}
		if m != 0 {
			summs += m * a.s[b]
		}
	}
	return hsum8(&acc) + summs
}

// dotF32 is the inner product of an F32 weight row with its input, in 16
// lanes (lane i%16 adds the rounded product of element i, in order), the
// lanes then added as reduce16 does: llama.cpp's tinyBLAS order for F32
// weights, without its fusing, so that the AVX2 kernel and the portable
// loop give the same bits.
func dotF32(w, x []float32, simd bool) float32 {
	w = w[:len(x)]
	var lanes [16]float32
	i := 0
	if simd && len(x) >= 16 {
		i = len(x) &^ 15
		dot16AVX2(&w[0], &x[0], i, &lanes)
	}
	for ; i+16 <= len(x); i += 16 {
		for k := range lanes {
			lanes[k] += w[i+k] * x[i+k]
		}
	}
	for k := 0; i < len(x); i, k = i+1, k+1 {
		lanes[k] += w[i] * x[i]
	}
	return reduce16(&lanes)
}
