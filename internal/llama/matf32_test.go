package llama

import (
	"fmt"
	"math"
	"testing"
)

// TestMatF32MatchesPortable checks the AVX2 F32 matrix kernel against the
// portable dotF32 row by row: odd and even row counts (the kernel takes
// rows in pairs), column counts with and without a tail of cols%16, and
// rows holding zeros of both signs, Inf and NaN.
func TestMatF32MatchesPortable(t *testing.T) {
	if !hasSIMD() {
		t.Skip("no AVX2 here: only the portable kernels run")
	}
	r := NewRand(17)
	for _, cols := range []int{16, 17, 31, 32, 64, 100, 172, 4096 + 7} {
		for _, rows := range []int{1, 2, 3, 4, 5} {
			for _, kind := range []string{"normal", "zeros", "special"} {
				w, x := make([]float32, rows*cols), make([]float32, cols)
				for i := range w {
					w[i] = float32(r.Norm())
				}
				for i := range x {
					x[i] = float32(r.Norm() * 1e3)
				}
				switch kind {
				case "zeros": // products of -0 only, in the tail too
					for i := range w[:cols] {
						w[i] = float32(math.Copysign(0, -1))
					}
				case "special":
					w[cols-1] = float32(math.Inf(1))
					if rows > 1 {
						w[2*cols-1] = float32(math.NaN())
					}
				}
				m := f32Matrix(rows, cols, w)
				var in act
				in.prepare(m.actFormat(), x)
				in.simd = true
				got := make([]float32, rows)
				m.dotRows(got, &in, 0, rows)
				for row := range rows {
					want := dotF32(w[row*cols:(row+1)*cols], x, false)
					if math.Float32bits(got[row]) != math.Float32bits(want) && !(got[row] != got[row] && want != want) {
						t.Errorf("%d x %d, %s: row %d: AVX2 %v (%#x), portable %v (%#x)", rows, cols, kind, row,
							got[row], math.Float32bits(got[row]), want, math.Float32bits(want))
					}
				}
			}
		}
	}
}

// BenchmarkMatF32 times the F32 products of stories260K's shapes.
func BenchmarkMatF32(b *testing.B) {
	r := NewRand(1)
	simd := hasSIMD()
	for _, shape := range [][2]int{{64, 64}, {172, 64}, {64, 172}, {512, 64}} {
		rows, cols := shape[0], shape[1]
		w, x := make([]float32, rows*cols), make([]float32, cols)
		for i := range w {
			w[i] = float32(r.Norm())
		}
		m := f32Matrix(rows, cols, w)
		var in act
		in.prepare(m.actFormat(), x)
		in.simd = simd
		out := make([]float32, rows)
		b.Run(fmt.Sprintf("%dx%d", rows, cols), func(b *testing.B) {
			for b.Loop() {
				m.dotRows(out, &in, 0, rows)
			}
		})
	}
}
