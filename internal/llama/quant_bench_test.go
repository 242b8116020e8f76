//go:build unix

package llama

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkQuantCPU reports, for the F32 and every quantized shared file,
// generated tokens per second of CPU time (the work of BenchmarkQuant, 3
// generations a sample), the best sample over the iterations, each
// iteration a round over every file and both thread counts: on a loaded
// machine the CPU time of interleaved rounds compares types more fairly
// than the wall clock. Run it with -benchtime 15x for 15 rounds.
func BenchmarkQuantCPU(b *testing.B) {
	type file struct {
		name   string
		m      *Model
		prompt []int32
		best   [2]float64
	}
	var files []*file
	for _, f := range quantFiles {
		m, err := LoadGGUF(quantPath(b, f.name))
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, &file{name: f.name, m: m, prompt: m.Vocab().Encode(storiesPrompt, true)})
	}
	for b.Loop() {
		for _, f := range files {
			for i, threads := range []int{1, 2} {
				c0, n := cpuTime(b), 0
				for range 3 {
					out, err := f.m.Generate(context.Background(), f.prompt, Params{MaxTokens: 120, Logprobs: 5}, Options{Threads: threads})
					if err != nil {
						b.Fatal(err)
					}
					n += len(out.Tokens)
				}
				f.best[i] = max(f.best[i], float64(n)/(cpuTime(b)-c0).Seconds())
			}
		}
	}
	for _, f := range files {
		b.ReportMetric(f.best[0], f.name+"-tokens/cpu-s")
		b.ReportMetric(f.best[1], f.name+"-threads=2-tokens/cpu-s")
	}
}

// BenchmarkQuantMatmul times one matrix product (the input's conversion
// included) of every type with a whole-matrix kernel, at the shapes of the
// shared stories260K-ffn256 files, F32 beside: nanoseconds of CPU time per
// row, which a loaded machine disturbs less than the wall clock.
func BenchmarkQuantMatmul(b *testing.B) {
	types := []uint32{ggmlF32, ggmlQ8_0, ggmlQ4_0, ggmlQ4_1, ggmlQ5_0, ggmlQ5_1, ggmlIQ4NL, ggmlQ4_K, ggmlQ6_K}
	for _, shape := range [][2]int{{64, 64}, {256, 64}, {512, 64}, {64, 256}} {
		rows, cols := shape[0], shape[1]
		for _, typ := range types {
			if q, _ := qtypeOf(typ); cols%q.block != 0 {
				continue
			}
			r := NewRand(3)
			var m matrix
			if typ == ggmlF32 {
				f := make([]float32, rows*cols)
				for i := range f {
					f[i] = float32(r.Norm())
				}
				m = f32Matrix(rows, cols, f)
			} else {
				m = randomBlocks(r, typ, rows, cols)
			}
			x := randomInput(r, cols)
			out := make([]float32, rows)
			in := act{simd: hasSIMD(), probed: true, vnni: vnniLevel()}
			b.Run(fmt.Sprintf("%dx%d/%s", rows, cols, ggmlTypeName(typ)), func(b *testing.B) {
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
