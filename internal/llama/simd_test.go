package llama

import (
	"encoding/binary"
	"math"
	"testing"
)

// TestSIMDMatchesPortable checks that the vectorised kernels give the
// portable ones' bits, on random rows of awkward lengths.
func TestSIMDMatchesPortable(t *testing.T) {
	if !hasSIMD() {
		t.Skip("no AVX2 here: only the portable kernels run")
	}
	r := NewRand(11)
	// Every float32 in [-80, 80] that a run of 2^20 random ones hits, and
	// the ends, through the AVX2 exp and the portable one.
	xs := []float32{-80, 80, 0, -0, 1e-30, -1e-30}
	for range 1 << 20 {
		xs = append(xs, float32(160*r.Float64()-80))
	}
	for len(xs)%4 != 0 {
		xs = append(xs, 0)
	}
	got := append([]float32(nil), xs...)
	expAVX2(&got[0], len(got))
	for i, x := range xs {
		if want := simdExpf(x); math.Float32bits(got[i]) != math.Float32bits(want) {
			t.Fatalf("exp(%g): AVX2 %g, portable %g", x, got[i], want)
		}
	}
	for _, n := range []int{16, 32, 64, 100, 256, 4096 + 32} {
		w, x := make([]float32, n), make([]float32, n)
		for i := range w {
			w[i], x[i] = float32(r.Norm()), float32(r.Norm()*1e3)
		}
		if a, b := dotF32(w, x, true), dotF32(w, x, false); math.Float32bits(a) != math.Float32bits(b) {
			t.Errorf("F32 dot of %d: AVX2 %v, portable %v", n, a, b)
		}
		if n%32 != 0 {
			continue
		}
		q := quantize(ggmlQ8_0, &matrix{typ: ggmlF32, rows: 1, cols: n, f: w})
		var a act
		a.prepare(actQ8_0, x)
		a.simd = true
		v := lanesQ8_0(q.q, &a)
		a.simd = false
		if p := lanesQ8_0(q.q, &a); math.Float32bits(v) != math.Float32bits(p) {
			t.Errorf("Q8_0 dot of %d: AVX2 %v, portable %v", n, v, p)
		}
		// Whole matrices: three rows, each kernel against its rows'
		// portable dot products.
		w3 := append(append(append([]float32(nil), w...), x...), w...)
		for _, typ := range []uint32{ggmlF32, ggmlQ8_0, ggmlQ4_0, ggmlQ4_1, ggmlQ5_0, ggmlQ5_1, ggmlIQ4NL, ggmlQ6_K, ggmlQ4_K} {
			if n%256 != 0 && (typ == ggmlQ6_K || typ == ggmlQ4_K) {
				continue
			}
			m := f32Matrix(3, n, w3)
			switch typ {
			case ggmlIQ4NL: // no quantizer: Q4_0's nibbles read through the table
				q := quantize(ggmlQ4_0, &m)
				m = quantMatrix(ggmlIQ4NL, 3, n, q.q)
			case ggmlQ4_K: // no quantizer: random blocks with sane scales
				q := make([]byte, 3*n/256*144)
				for i := range q {
					q[i] = byte(r.Uint64())
				}
				for b := 0; b < len(q); b += 144 {
					binary.LittleEndian.PutUint16(q[b:], floatToHalf(0.01))
					binary.LittleEndian.PutUint16(q[b+2:], floatToHalf(0.002))
				}
				m = quantMatrix(ggmlQ4_K, 3, n, q)
			case ggmlF32:
			default:
				m = quantize(typ, &m)
			}
			var in act
			in.prepare(m.actFormat(), x)
			fast, slow := make([]float32, 3), make([]float32, 3)
			in.simd = true
			m.dotRows(fast, &in, 0, 3)
			in.simd = false
			m.dotRows(slow, &in, 0, 3)
			for r := range 3 {
				if math.Float32bits(fast[r]) != math.Float32bits(slow[r]) {
					t.Errorf("%s matrix of %d columns, row %d: AVX2 %v, portable %v", ggmlTypeName(typ), n, r, fast[r], slow[r])
				}
			}
		}
	}
}
