//go:build unix

package llama

import (
	"fmt"
	"testing"
)

// BenchmarkVNNIMatmul times one matrix product of each type with VNNI
// kernels, with each kernel set this machine runs and without (set 0, the
// AVX2 kernels), at the shapes of the shared stories260K-ffn256 files: CPU
// nanoseconds per row, as BenchmarkQuantMatmul.
func BenchmarkVNNIMatmul(b *testing.B) {
	sets := append([]int8{vnniNone}, vnniSets(b)...)
	types := []uint32{ggmlQ8_0, ggmlQ4_0, ggmlQ4_1, ggmlQ5_0, ggmlQ5_1, ggmlQ6_K}
	for _, shape := range [][2]int{{512, 64}, {64, 256}} {
		rows, cols := shape[0], shape[1]
		for _, typ := range types {
			if q, _ := qtypeOf(typ); cols%q.block != 0 {
				continue
			}
			r := NewRand(3)
			m := randomBlocks(r, typ, rows, cols)
			x := randomInput(r, cols)
			out := make([]float32, rows)
			for _, set := range sets {
				in := act{simd: true, probed: true, vnni: set}
				b.Run(fmt.Sprintf("%dx%d/%s/set=%d", rows, cols, ggmlTypeName(typ), set), func(b *testing.B) {
					c0 := cpuTime(b)
					for b.Loop() {
						in.prepare(m.actFormat(), x)
						m.dotRows(out, &in, 0, rows)
					}
					b.ReportMetric(float64((cpuTime(b)-c0).Nanoseconds())/float64(b.N*rows), "cpu-ns/row")
				})
			}
		}
	}
}
