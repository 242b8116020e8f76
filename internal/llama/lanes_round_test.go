package llama

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"
)

// The lane types' weight ranges (Q5_0's signed values taken positive).
var laneMax = map[uint32]int{ggmlQ8_0: 127, ggmlQ4_1: 15, ggmlQ5_0: 15, ggmlQ5_1: 31}

// laneBlock encodes a block of typ with scale d, minimum 0 and weights v
// (each in [0, laneMax[typ]]).
func laneBlock(typ uint32, d float32, v *[32]int) []byte {
	q, _ := qtypeOf(typ)
	blk := make([]byte, q.bytes)
	binary.LittleEndian.PutUint16(blk, floatToHalf(d))
	if typ == ggmlQ8_0 {
		for j, x := range v {
			blk[2+j] = byte(int8(x))
		}
		return blk
	}
	var qh uint32
	nib := blk[q.bytes-16:]
	for j, x := range v {
		if typ == ggmlQ5_0 {
			x += 16
		}
		if x&16 != 0 {
			qh |= 1 << j
		}
		nib[j%16] |= byte(x&15) << (4 * (j / 16))
	}
	switch typ {
	case ggmlQ5_0:
		binary.LittleEndian.PutUint32(blk[2:], qh)
	case ggmlQ5_1:
		binary.LittleEndian.PutUint32(blk[4:], qh)
	}
	return blk
}

// splitLane sets 4 weights in [0, wmax] and activations in [0, 127] whose
// products sum to l.
func splitLane(l, wmax int, w *[32]int, y []int8) {
	for k := range 4 {
		wk := min(wmax, l)
		if wk == 0 {
			return
		}
		yk := min(127, l/wk)
		w[k], y[k] = wk, int8(yk)
		l -= wk * yk
	}
	if l != 0 {
		panic(fmt.Sprintf("lane sum %d left over", l))
	}
}

// doubleRoundRow is a row of two blocks of typ, with activations, whose
// lane 0 separates fmaf from fma32: the first block leaves 2^33 in it
// (scale 2^15 times 2^6, lane sum 2^12), the second fuses in
// (2^32+1)*2^-23 = 2^9+2^-23 (scale 1 times 6700417*2^-23, lane sum 641).
// Rounded once the sum is 2^33+2^10; through float64 it is 2^33+2^9, a
// tie, which float32 rounds to 2^33.
func doubleRoundRow(typ uint32) ([]byte, act) {
	a := act{format: actQ8_1, qs: make([]int8, 64), d: []float32{64, 6700417 * 0x1p-23}, s: make([]float32, 2)}
	if typ == ggmlQ8_0 || typ == ggmlQ5_0 {
		a.format = actQ8_0
	}
	var row []byte
	for b, blk := range []struct {
		d float32
		l int
	}{{0x1p15, 1 << 12}, {1, 641}} {
		var w [32]int
		splitLane(blk.l, laneMax[typ], &w, a.qs[32*b:])
		row = append(row, laneBlock(typ, blk.d, &w)...)
	}
	return row, a
}

// TestLanesRoundOnce checks, for each lane type, that the portable code
// fuses its lanes rounded once (fmaf, as llama.cpp's _mm256_fmadd_ps),
// not twice (fma32), and that every kernel this machine has, the
// whole-matrix ones (AVX2, each VNNI set) and the one-row lanes, does the
// same.
func TestLanesRoundOnce(t *testing.T) {
	for _, typ := range []uint32{ggmlQ8_0, ggmlQ4_1, ggmlQ5_0, ggmlQ5_1} {
		t.Run(ggmlTypeName(typ), func(t *testing.T) {
			const want = 0x1p33 + 0x1p10
			blk, a := doubleRoundRow(typ)
			const rows = 9
			var buf []byte
			for range rows {
				buf = append(buf, blk...)
			}
			m := quantMatrix(typ, rows, 64, buf)
			q, _ := qtypeOf(typ)
			if got := q.dot(blk, &a); math.Float32bits(got) != math.Float32bits(want) {
				t.Fatalf("portable: %v, want %v", got, want)
			}
			if !hasSIMD() {
				return
			}
			a.simd, a.probed = true, true
			if got := q.dot(blk, &a); math.Float32bits(got) != math.Float32bits(want) {
				t.Errorf("one-row lanes: %v, want %v", got, want)
			}
			avx, avx512 := vnniLevels()
			for _, k := range []struct {
				vnni int8
				ok   bool
			}{{vnniNone, true}, {vnniAVX, avx}, {vnni512, avx512}} {
				if !k.ok {
					continue
				}
				a.vnni = k.vnni
				out := make([]float32, rows)
				m.dotRows(out, &a, 0, rows)
				for r, got := range out {
					if math.Float32bits(got) != math.Float32bits(want) {
						t.Errorf("VNNI set %d: row %d: %v, want %v", k.vnni, r, got, want)
					}
				}
			}
		})
	}
}
