package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/streamtest"
)

var (
	benchRecords = flag.Int("potcmp.records", 200_000, "records per stream in BenchmarkThroughput (the README's figure is for 1000000)")
	benchDir     = flag.String("potcmp.dir", "", "keep BenchmarkThroughput's streams in `DIR` and reuse them on later runs (they take a while to write)")
)

// benchStreams writes a reference and a candidate of n records of 64
// tokens with top-5 alternatives. Every other candidate record is
// identical to its reference (tv 0, all 64 positions compared) and the
// others differ from the first token with disjoint alternatives (tv 1),
// so the mean is exactly 0.5: at tolerance 0.5 the test never decides and
// potcmp reads both streams whole.
func benchStreams(b *testing.B, dir string, n int) (ref, cand string) {
	b.Helper()
	const positions, k = 64, 5
	lp := [k]float32{float32(math.Log(0.5)), float32(math.Log(0.2)), float32(math.Log(0.1)), float32(math.Log(0.1)), float32(math.Log(0.1))}
	mk := func(i int, first int32) format.Record {
		r := format.Record{Index: uint64(i), ID: fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15), Seed: uint64(i), TopK: k,
			Finish: "length", Latency: 7 * time.Second, Attempts: 1}
		var text strings.Builder
		for p := range positions {
			tok := first + int32((i+p)%200)
			r.Tokens = append(r.Tokens, tok)
			r.Logprobs = append(r.Logprobs, lp[0])
			for j := range k {
				r.TopTokens = append(r.TopTokens, tok+int32(j)*250)
				r.TopLogprobs = append(r.TopLogprobs, lp[j])
			}
			text.WriteString(" w")
			text.WriteString(strconv.Itoa(int(tok)))
		}
		r.Text = text.String()
		return r
	}
	write := func(name string, model string, first func(i int) int32) string {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err == nil && *benchDir != "" {
			return path
		}
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		bw := bufio.NewWriter(f)
		w, err := format.NewWriter(bw, streamtest.Header("bench", model, "v"))
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			r := mk(i, first(i))
			if err := w.Write(&r); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		return path
	}
	dir = filepath.Join(dir, strconv.Itoa(n))
	if err := os.MkdirAll(dir, 0o777); err != nil {
		b.Fatal(err)
	}
	ref = write("ref.pot", "a", func(int) int32 { return 3 })
	cand = write("cand.pot", "b", func(i int) int32 {
		if i%2 == 1 {
			return 3 + 1
		}
		return 3
	})
	return ref, cand
}

// BenchmarkThroughput measures record pairs a second with tv and the
// betting test. "whole" runs the tool in process on the two files, loading
// the reference included; "candidate" holds the reference loaded and
// measures the candidate's pipeline alone (decoding on one goroutine,
// joining and scoring on another); "load" only loads the reference, and
// "decode" only decodes the candidate, the floor of the candidate's
// pipeline. Run with
// -args -potcmp.records=1000000 for the README's figure (-potcmp.dir keeps
// the streams for the next run); peak-MB is the process's peak resident memory and
// cpu-us/pair the process's CPU time per pair.
func BenchmarkThroughput(b *testing.B) {
	n := *benchRecords
	dir := *benchDir
	if dir == "" {
		dir = b.TempDir()
	}
	ref, cand := benchStreams(b, dir, n)
	want := fmt.Sprintf("UNDECIDED n=%d mean=0.5000", n)
	b.Run("whole", func(b *testing.B) {
		start, cpu0 := time.Now(), cpuTime()
		for range b.N {
			code, out, errs := potcmp(b, nil, "--max-n", "0", "--tolerance", "0.5", ref, cand)
			if code != exitUndecided || !strings.HasPrefix(out, want) {
				b.Fatalf("exit %d: %s %s", code, out, errs)
			}
		}
		reportRate(b, n, start, cpu0)
	})
	b.Run("candidate", func(b *testing.B) {
		env := &cli.Env{Stdout: io.Discard, Stderr: io.Discard}
		cfg := compare.Config{Alpha: 0.01, Tolerance: 0.5, Score: "auto", Test: "betting"}
		r, err := compare.Load(env, ref, cfg.Score)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Wait(); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		start, cpu0 := time.Now(), cpuTime()
		for range b.N {
			in, rd, err := compare.OpenCandidate(env, cand)
			if err != nil {
				b.Fatal(err)
			}
			c, err := compare.New(cfg, r, cand, rd.First())
			if err != nil {
				b.Fatal(err)
			}
			if err := compare.Run(context.Background(), env, in, rd, []*compare.Comparison{c}); err != nil {
				b.Fatal(err)
			}
			if res := c.Result(); res.N != n {
				b.Fatalf("%+v", res)
			}
		}
		reportRate(b, n, start, cpu0)
	})
	b.Run("load", func(b *testing.B) {
		env := &cli.Env{Stdout: io.Discard, Stderr: io.Discard}
		start, cpu0 := time.Now(), cpuTime()
		for range b.N {
			r, err := compare.Load(env, ref, "auto")
			if err != nil {
				b.Fatal(err)
			}
			if err := r.Wait(); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, n, start, cpu0)
	})
	b.Run("decode", func(b *testing.B) {
		start, cpu0 := time.Now(), cpuTime()
		for range b.N {
			f, err := os.Open(cand)
			if err != nil {
				b.Fatal(err)
			}
			rd, err := format.NewReader(bufio.NewReader(f))
			if err != nil {
				b.Fatal(err)
			}
			got := 0
			for {
				_, err := rd.Read()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				got++
			}
			rd.Close()
			f.Close()
			if got != n {
				b.Fatalf("decoded %d records, want %d", got, n)
			}
		}
		reportRate(b, n, start, cpu0)
	})
}

func reportRate(b *testing.B, n int, start time.Time, cpu0 time.Duration) {
	b.StopTimer()
	pairs := float64(n * b.N)
	b.ReportMetric(pairs/time.Since(start).Seconds(), "pairs/s")
	if c := cpuTime(); c > 0 {
		b.ReportMetric(float64((c-cpu0).Microseconds())/pairs, "cpu-us/pair")
	}
	if hwm := peakRSS(); hwm > 0 {
		b.ReportMetric(float64(hwm)/(1<<20), "peak-MB")
	}
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS reads the process's peak resident set size on Linux, 0 elsewhere.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
