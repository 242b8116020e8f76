package llama

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"testing"
)

// randomBlocks returns rows of random blocks of type t whose binary16
// scales (and minimums) are finite, some zero, some negative: every weight
// byte pattern a file can hold, Q8_0's -128 included.
func randomBlocks(r *Rand, t uint32, rows, cols int) matrix {
	q, _ := qtypeOf(t)
	buf := make([]byte, rows*cols/q.block*q.bytes)
	for i := range buf {
		buf[i] = byte(r.Uint64())
	}
	halves := []float32{0, -0.0, 0.01, -0.02, 1e-4, 3.5, -7e-6}
	scales := map[uint32][]int{ggmlQ4_1: {0, 2}, ggmlQ5_1: {0, 2}, ggmlQ4_K: {0, 2}, ggmlQ6_K: {208}}[t]
	if scales == nil {
		scales = []int{0}
	}
	for b := 0; b < len(buf); b += q.bytes {
		for _, off := range scales {
			h := halves[r.Uint64()%uint64(len(halves))] * float32(1+r.Float64())
			binary.LittleEndian.PutUint16(buf[b+off:], floatToHalf(h))
		}
	}
	return quantMatrix(t, rows, cols, buf)
}

// randomInput is a vector of n activations at mixed scales, with a zero
// block, a block of one repeated magnitude of both signs, and values that
// land on rounding ties.
func randomInput(r *Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.Norm() * math.Pow(10, float64(int(r.Uint64()%7))-3))
	}
	if n >= 64 {
		clear(x[32:64])
	}
	if n >= 96 {
		for i := 64; i < 96; i++ {
			x[i] = float32(1 - 2*float64(i%2))
		}
	}
	if n >= 128 {
		for i := 96; i < 128; i++ {
			x[i] = float32(i-112) * 0.5 // 127/8 * k/2 hits .5 for some k
		}
		x[96] = 8
	}
	return x
}

// TestMatKernelsMatchPortable checks the whole-matrix AVX2 kernels and the
// AVX2 activation quantizer against the portable code, bit for bit, on random
// blocks and awkward inputs, for every row split.
func TestMatKernelsMatchPortable(t *testing.T) {
	if !hasSIMD() {
		t.Skip("no AVX2 here: only the portable kernels run")
	}
	r := NewRand(14)
	for _, n := range []int{32, 64, 96, 128, 256, 1024} {
		x := randomInput(r, n)
		for _, format := range []int{actQ8_0, actQ8_1} {
			checkQuantizer(t, format, x, fmt.Sprintf("%d activations", n))
		}
		for _, typ := range []uint32{ggmlQ8_0, ggmlQ4_1, ggmlQ5_0, ggmlQ5_1, ggmlQ4_0, ggmlIQ4NL, ggmlQ6_K, ggmlQ4_K} {
			if q, _ := qtypeOf(typ); n%q.block != 0 {
				continue
			}
			t.Run(fmt.Sprintf("%s/%d", ggmlTypeName(typ), n), func(t *testing.T) {
				const rows = 19 // two groups of 8 and a short one
				m := randomBlocks(r, typ, rows, n)
				for _, batch := range []bool{false, true} {
					checkMatSplits(t, m, x, batch)
				}
			})
		}
	}
	// A NaN or an infinity anywhere: the AVX2 quantizer hands the whole
	// vector to the portable one.
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		x := randomInput(r, 128)
		x[100] = bad
		checkQuantizer(t, actQ8_1, x, fmt.Sprintf("activations with %v", bad))
	}
}

// checkMatSplits compares m's vectorised product with x against the
// portable one, for the rows of a prompt batch or of a lone token, every
// row split.
func checkMatSplits(t *testing.T, m matrix, x []float32, batch bool) {
	t.Helper()
	rows := m.rows
	in := act{batch: batch}
	in.prepare(m.actFormat(), x)
	want := make([]float32, rows)
	m.dotRows(want, &in, 0, rows)
	in.simd, in.probed = true, true
	for _, split := range [][2]int{{0, rows}, {0, 4}, {4, 5}, {5, rows}} {
		got := slices.Repeat([]float32{-1}, rows)
		m.dotRows(got, &in, split[0], split[1])
		for i := split[0]; i < split[1]; i++ {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Errorf("batch %v: row %d of [%d, %d): vectorised %v, portable %v", batch, i, split[0], split[1], got[i], want[i])
			}
		}
		if split[1] < rows && got[split[1]] != -1 {
			t.Errorf("batch %v: rows [%d, %d): row %d written", batch, split[0], split[1], split[1])
		}
	}
}

// checkQuantizer compares the AVX2 and the portable conversion of x.
func checkQuantizer(t *testing.T, format int, x []float32, what string) {
	t.Helper()
	var fast, slow act
	fast.simd = true
	fast.prepare(format, x)
	slow.prepare(format, x)
	if !slices.Equal(fast.qs, slow.qs) || !sameBits(fast.d, slow.d) || !sameBits(fast.s, slow.s) {
		t.Errorf("quantizing %s: AVX2 and portable differ", what)
	}
}

func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}
