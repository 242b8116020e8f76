package llama

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// kquantTypes are the types of kquant_amd64.s, with the offsets of their
// binary16 scales within a block.
var kquantTypes = []struct {
	typ    uint32
	halves []int
}{
	{ggmlQ2_K, []int{80, 82}},
	{ggmlQ3_K, []int{108}},
	{ggmlQ5_K, []int{0, 2}},
	{ggmlIQ4XS, []int{0}},
}

// randomKBlocks is randomBlocks with every binary16 scale of the type
// finite: zeros of both signs, subnormals, the largest binary16 and
// ordinary values, so that no product is a NaN.
func randomKBlocks(r *Rand, typ uint32, halves []int, rows, cols int) matrix {
	m := randomBlocks(r, typ, rows, cols)
	q, _ := qtypeOf(typ)
	extremes := []uint16{0x0000, 0x8000, 0x0001, 0x83ff, 0x7bff, 0xfbff, 0x3c00}
	for b := 0; b < len(m.q); b += q.bytes {
		for _, off := range halves {
			h := floatToHalf(float32(r.Norm() * 0.01))
			if r.Uint64()%4 == 0 {
				h = extremes[r.Uint64()%uint64(len(extremes))]
			}
			binary.LittleEndian.PutUint16(m.q[b+off:], h)
		}
	}
	return m
}

// TestKQuantKernelsMatchPortable checks the AVX2 kernels of Q2_K, Q3_K,
// Q5_K and IQ4_XS against the portable dot products, bit for bit, on
// random blocks, for every range of rows of a 9-row matrix.
func TestKQuantKernelsMatchPortable(t *testing.T) {
	if !hasSIMD() {
		t.Skip("no AVX2 here: only the portable kernels run")
	}
	r := NewRand(15)
	for _, n := range []int{256, 512, 1024} {
		x := randomInput(r, n)
		for _, kt := range kquantTypes {
			t.Run(fmt.Sprintf("%s/%d", ggmlTypeName(kt.typ), n), func(t *testing.T) {
				m := randomKBlocks(r, kt.typ, kt.halves, 9, n)
				in := act{simd: true, probed: true}
				in.prepare(m.actFormat(), x)
				if !m.dotRowsAVX2(make([]float32, m.rows), &in, 0, m.rows) {
					t.Fatal("dotRowsAVX2 has no kernel for the type")
				}
				checkMatKernel(t, m, x)
			})
		}
	}
}

// checkMatKernel compares dotRows with and without the AVX2 kernels for
// every range [lo, hi) of m's rows, and checks that no row outside the
// range is written.
func checkMatKernel(t *testing.T, m matrix, x []float32) {
	t.Helper()
	var in act
	in.prepare(m.actFormat(), x)
	want := make([]float32, m.rows)
	m.dotRows(want, &in, 0, m.rows)
	for i, w := range want {
		if math.IsNaN(float64(w)) {
			t.Fatalf("row %d: portable result is NaN: the test blocks are wrong", i)
		}
	}
	in.simd, in.probed = true, true
	for lo := range m.rows {
		for hi := lo + 1; hi <= m.rows; hi++ {
			got := slices.Repeat([]float32{-1}, m.rows)
			m.dotRows(got, &in, lo, hi)
			for i := range m.rows {
				switch {
				case i >= lo && i < hi && math.Float32bits(got[i]) != math.Float32bits(want[i]):
					t.Errorf("rows [%d, %d): row %d: vectorised %v, portable %v", lo, hi, i, got[i], want[i])
				case (i < lo || i >= hi) && got[i] != -1:
					t.Errorf("rows [%d, %d): row %d written", lo, hi, i)
				}
			}
		}
	}
}

// TestQ8KQuantizerMatchesPortable checks the AVX2 Q8_K quantizer against
// quantizeQ8K, bit for bit, on blocks that test each of its rules.
func TestQ8KQuantizerMatchesPortable(t *testing.T) {
	if !hasSIMD() {
		t.Skip("no AVX2 here: only the portable quantizer runs")
	}
	r := NewRand(16)
	block := func(f func(i int) float32) []float32 {
		x := make([]float32, 256)
		for i := range x {
			x[i] = f(i)
		}
		return x
	}
	cases := map[string][]float32{
		"random":     randomInput(r, 1024),
		"zeros":      make([]float32, 256),
		"minus zero": block(func(int) float32 { return float32(math.Copysign(0, -1)) }),
		// The largest magnitude twice, negative first and then positive
		// first: the first sets the sign of the scale.
		"tie, negative first": block(func(i int) float32 { return [...]float32{0.5, -3, 1, 3}[i%4] }),
		"tie, positive first": block(func(i int) float32 { return [...]float32{0.5, 3, 1, -3}[i%4] }),
		"tie late":            block(func(i int) float32 { return float32(i%7) * map[bool]float32{true: -1, false: 1}[i > 200] }),
		// Multiples of amax/254 land on rounding ties of iscale*x.
		"rounding ties": block(func(i int) float32 { return float32(i-128) * (127.0 / 254) }),
		"subnormals":    block(func(i int) float32 { return math.Float32frombits(uint32(i*7919) & 0x807fffff) }),
		"tiny":          block(func(i int) float32 { return float32(i-128) * 1e-39 }),
		"huge":          block(func(i int) float32 { return float32(i-100) * 1e36 }),
		"one value":     block(func(i int) float32 { return map[bool]float32{true: -2e-3}[i == 255] }),
	}
	mixed := slices.Concat(cases["random"][:256], cases["zeros"], cases["tie late"], cases["rounding ties"])
	cases["mixed blocks"] = mixed
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		x := slices.Clone(mixed)
		x[700] = bad
		cases[fmt.Sprintf("with %v", bad)] = x
	}
	for name, x := range cases {
		// The AVX2 path must do the work, not hand it on, unless a
		// block calls for the portable one.
		q, d, bs := make([]int8, len(x)), make([]float32, len(x)/256), make([]int32, len(x)/16)
		wantOK := !strings.HasPrefix(name, "with ") && name != "subnormals" && name != "tiny"
		if ok := quantQ8KAVX2(&x[0], len(x)/256, &q[0], &d[0], &bs[0]); ok != wantOK {
			t.Errorf("%s: AVX2 quantizer reports %v, want %v", name, ok, wantOK)
		}
		var fast, slow act
		fast.simd, fast.probed = true, true
		fast.prepare(actQ8_K, x)
		slow.prepare(actQ8_K, x)
		if !slices.Equal(fast.qs, slow.qs) || !sameBits(fast.d, slow.d) || !slices.Equal(fast.bsums, slow.bsums) {
			t.Errorf("%s: AVX2 and portable Q8_K differ", name)
		}
	}
}
