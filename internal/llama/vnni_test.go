package llama

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"testing"
)

// vnniSets returns the VNNI kernel sets this machine runs, skipping the
// test when it runs none.
func vnniSets(t testing.TB) []int8 {
	avx, avx512 := vnniLevels()
	var sets []int8
	if avx {
		sets = append(sets, vnniAVX)
	}
	if avx512 {
		sets = append(sets, vnni512)
	}
	if len(sets) == 0 {
		t.Skip("no AVX-VNNI or AVX512-VNNI here: the AVX2 kernels run")
	}
	return sets
}

// extremeBlocks returns rows of blocks of type t whose every weight is
// the type's largest magnitude of one sign or the other and whose scales
// (and minimums) are binary16's largest or smallest, of either sign: the
// largest integer lanes, the largest and the subnormal products.
func extremeBlocks(r *Rand, t uint32, rows, cols int) matrix {
	q, _ := qtypeOf(t)
	buf := make([]byte, rows*cols/q.block*q.bytes)
	halves := []uint16{0x7bff, 0xfbff, 0x0001, 0x8001, 0x3c00}
	pats := []byte{0x00, 0xff, 0x80, 0x7f, 0x88, 0xf0}
	scales := map[uint32][]int{ggmlQ4_1: {0, 2}, ggmlQ5_1: {0, 2}, ggmlQ6_K: {208}}[t]
	if scales == nil {
		scales = []int{0}
	}
	for b := 0; b < len(buf); b += q.bytes {
		pat := pats[r.Uint64()%uint64(len(pats))]
		for i := b; i < b+q.bytes; i++ {
			buf[i] = pat
		}
		for _, off := range scales {
			binary.LittleEndian.PutUint16(buf[b+off:], halves[r.Uint64()%uint64(len(halves))])
		}
	}
	return quantMatrix(t, rows, cols, buf)
}

// extremeInput is n activations of magnitude 100 and random signs, which
// quantize to +-127 everywhere.
func extremeInput(r *Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = 100
		if r.Uint64()%2 == 0 {
			x[i] = -100
		}
	}
	return x
}

// TestVNNIKernelsMatchPortable checks every VNNI kernel this machine has
// against the portable code, bit for bit: random and extreme blocks and
// activations, every row count from 1 to 17 (each group of 8 whole or
// short) and row ranges that start inside a group.
func TestVNNIKernelsMatchPortable(t *testing.T) {
	sets := vnniSets(t)
	r := NewRand(15)
	types := []uint32{ggmlQ8_0, ggmlQ4_1, ggmlQ5_0, ggmlQ5_1, ggmlQ4_0, ggmlQ6_K}
	for _, n := range []int{32, 64, 96, 256, 512} {
		for _, extreme := range []bool{false, true} {
			x := randomInput(r, n)
			if extreme {
				x = extremeInput(r, n)
			}
			for _, typ := range types {
				if q, _ := qtypeOf(typ); n%q.block != 0 {
					continue
				}
				name := fmt.Sprintf("%s/%d/extreme=%v", ggmlTypeName(typ), n, extreme)
				t.Run(name, func(t *testing.T) {
					for rows := 1; rows <= 17; rows++ {
						m := randomBlocks(r, typ, rows, n)
						if extreme {
							m = extremeBlocks(r, typ, rows, n)
						}
						checkVNNI(t, &m, x, sets, [][2]int{{0, rows}, {rows / 3, rows}, {0, rows / 2}})
					}
				})
			}
		}
	}
}

// checkVNNI compares the rows of each split that each VNNI set gives with
// the portable code's, and checks that no row past the split is written.
func checkVNNI(t *testing.T, m *matrix, x []float32, sets []int8, splits [][2]int) {
	t.Helper()
	var in act
	in.prepare(m.actFormat(), x)
	want := make([]float32, m.rows)
	m.dotRows(want, &in, 0, m.rows)
	in.simd, in.probed = true, true
	for _, set := range sets {
		in.vnni = set
		for _, split := range splits {
			got := slices.Repeat([]float32{-1}, m.rows)
			m.dotRows(got, &in, split[0], split[1])
			for i := split[0]; i < split[1]; i++ {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("VNNI set %d, %d rows: row %d of [%d, %d): %v, portable %v", set, m.rows, i, split[0], split[1], got[i], want[i])
				}
			}
			if split[1] < m.rows && got[split[1]] != -1 {
				t.Fatalf("VNNI set %d: rows [%d, %d): row %d written", set, split[0], split[1], split[1])
			}
		}
	}
}
