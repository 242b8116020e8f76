package llama

import (
	"context"
	"encoding/binary"
	"math"
	"testing"
)

// randomHalfBits returns a 16-bit pattern for a weight or an activation:
// mostly ordinary values, often the special ones (zeros of both signs,
// subnormals, infinities, NaNs, the largest finite values).
func randomHalfBits(r *Rand, bf bool) uint16 {
	special := []uint16{0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x7c00, 0xfc00, 0x7e00, 0x7c01, 0xfe00, 0x7bff, 0xfbff, 0x0400}
	if bf {
		special = []uint16{0x0000, 0x8000, 0x0001, 0x8001, 0x007f, 0x7f80, 0xff80, 0x7fc0, 0x7f81, 0xffc0, 0x7f7f, 0xff7f, 0x0080}
	}
	if r.Uint64()%8 == 0 {
		return special[r.Uint64()%uint64(len(special))]
	}
	v := float32(r.Norm() * math.Pow(2, float64(int(r.Uint64()%20))-10))
	if bf {
		return floatToBF16(v)
	}
	return floatToHalf(v)
}

// sameFloat reports whether a and b are the same bits, or both NaN: a NaN's
// payload follows the order a processor's instruction takes its operands
// in, which Go's compiler is free to choose in dotF16.
func sameFloat(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

// TestMatF16AVX2 checks that the F16 and BF16 kernels give dotF16's and
// dotBF16's bits on every row, for every length from 1 to 70 and 256 and
// row counts that exercise both the four-row and the one-row loops. One
// input in four has only finite values, where exact bits are the only
// answer; the others mix in NaNs, infinities, subnormals and -0.
func TestMatF16AVX2(t *testing.T) {
	if !hasSIMD() {
		t.Skip("no AVX2, FMA and F16C here")
	}
	r := NewRand(16)
	ns := make([]int, 0, 71)
	for n := 1; n <= 70; n++ {
		ns = append(ns, n)
	}
	ns = append(ns, 256)
	for _, bf := range []bool{false, true} {
		name, kernel, dot, conv := "F16", matF16AVX2, dotF16, halfToFloat
		if bf {
			name, kernel, dot, conv = "BF16", matBF16AVX2, dotBF16, bf16ToFloat
		}
		for _, n := range ns {
			for _, rows := range []int{1, 3, 4, 5, 9} {
				for trial := range 4 {
					finite := trial == 0
					pick := func() uint16 {
						for {
							h := randomHalfBits(r, bf)
							if f := conv(h); !finite || !math.IsInf(float64(f), 0) && f == f {
								return h
							}
						}
					}
					stride := 2*n + 2*int(r.Uint64()%3) // rows need not be packed
					w := make([]byte, rows*stride)
					for i := range w {
						w[i] = byte(r.Uint64()) // the padding, garbage
					}
					for row := range rows {
						for i := range n {
							binary.LittleEndian.PutUint16(w[row*stride+2*i:], pick())
						}
					}
					a := &act{f: make([]float32, n)}
					for i := range a.f {
						a.f[i] = conv(pick())
					}
					out := make([]float32, rows+1)
					out[rows] = 42 // must be left alone
					kernel(&w[0], stride, &a.f[0], n, &out[0], rows)
					for row := range rows {
						want := dot(w[row*stride:row*stride+2*n], a)
						if !sameFloat(out[row], want) || finite && math.Float32bits(out[row]) != math.Float32bits(want) {
							t.Fatalf("%s n=%d rows=%d trial %d: row %d is %v (%#x), dot%s says %v (%#x)",
								name, n, rows, trial, row, out[row], math.Float32bits(out[row]), name, want, math.Float32bits(want))
						}
					}
					if out[rows] != 42 {
						t.Fatalf("%s n=%d rows=%d: wrote past the last row", name, n, rows)
					}
				}
			}
		}
	}
}

// BenchmarkGenerateF16 is BenchmarkGenerate's greedy case on
// stories260K-f16.gguf, whose matrices are all F16 but the embeddings.
func BenchmarkGenerateF16(b *testing.B) {
	m := mustGGUF(b, "stories260K-f16.gguf")
	prompt := m.Vocab().Encode(storiesPrompt, true)
	p := Params{MaxTokens: 256, Logprobs: 5, Seed: 1}
	n := 0
	for b.Loop() {
		out, err := m.Generate(context.Background(), prompt, p, Options{Threads: 1})
		if err != nil {
			b.Fatal(err)
		}
		n += len(out.Tokens)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tokens/s")
}

// TestDotRowsF16 checks the hook in dotRowsAVX2: F16 and BF16 matrices
// through dotRows, with activations prepared from float32 (some beyond
// binary16's range, which round to infinity), give the portable bits for
// every row split and write no row outside it.
func TestDotRowsF16(t *testing.T) {
	if !hasSIMD() {
		t.Skip("no AVX2, FMA and F16C here")
	}
	r := NewRand(61)
	for _, typ := range []uint32{ggmlF16, ggmlBF16} {
		for _, n := range []int{7, 64, 259} {
			const rows = 9
			w := make([]byte, rows*2*n)
			for i := 0; i < len(w); i += 2 {
				binary.LittleEndian.PutUint16(w[i:], randomHalfBits(r, typ == ggmlBF16))
			}
			m := quantMatrix(typ, rows, n, w)
			x := randomInput(r, n)
			x[n/2] = 1e6 // beyond binary16: infinity as F16, finite as BF16
			var in act
			in.prepare(m.actFormat(), x)
			want := make([]float32, rows)
			m.dotRows(want, &in, 0, rows)
			in.simd, in.probed = true, true
			for _, split := range [][2]int{{0, rows}, {0, 4}, {4, 5}, {5, rows}} {
				got := make([]float32, rows)
				for i := range got {
					got[i] = -1
				}
				m.dotRows(got, &in, split[0], split[1])
				for i := range rows {
					inside := i >= split[0] && i < split[1]
					if inside && !sameFloat(got[i], want[i]) || !inside && got[i] != -1 {
						t.Errorf("%s n=%d rows [%d, %d): row %d is %v, portable %v", ggmlTypeName(typ), n, split[0], split[1], i, got[i], want[i])
					}
				}
			}
		}
	}
}
