package compare

import (
	"context"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/streamtest"
)

// varied returns n records of every shape a reference may hold: empty
// outputs, failures, no top-k, long outputs that need a block of their
// own, and enough of them to fill several chunks and blocks.
func varied(n int) []format.Record {
	recs := make([]format.Record, 0, n)
	pieces := format.NewPieces()
	for i := range n {
		r := streamtest.Record(i, uint32(i%3), int32(i%50), 1+i%11)
		r.Prompt = fmt.Sprintf("prompt %d", i)
		switch i % 7 {
		case 1:
			r.Tokens, r.Logprobs, r.TopTokens, r.TopLogprobs, r.Text = nil, nil, nil, nil, ""
		case 2:
			r.Err, r.Finish = "timeout", "error"
			r.Tokens, r.Logprobs, r.TopTokens, r.TopLogprobs, r.Text = nil, nil, nil, nil, ""
		case 3:
			r.TopK, r.TopTokens, r.TopLogprobs = 0, nil, nil
		case 4: // token strings without ids (OpenAI's legacy completions)
			for _, id := range r.Tokens {
				r.TokenBytes = append(r.TokenBytes, fmt.Sprintf("b%d", id))
			}
			for _, id := range r.TopTokens {
				r.TopBytes = append(r.TopBytes, fmt.Sprintf("b%d", id%3))
			}
			r.Tokens, r.TopTokens = nil, nil
		case 5: // ids with their bytes
			for _, ids := range [][]int32{r.Tokens, r.TopTokens} {
				for _, id := range ids {
					pieces.Add(id, fmt.Sprintf("p%d", id))
				}
			}
			r.Pieces = pieces
		}
		if i == n/2 {
			long := streamtest.Record(i, r.Sample, 7, firstBlock) // more than a first block
			r.Tokens, r.Logprobs, r.TopTokens, r.TopLogprobs, r.Text = long.Tokens, long.Logprobs, long.TopTokens, long.TopLogprobs, long.Text
			r.TokenBytes, r.TopBytes = nil, nil
		}
		recs = append(recs, r)
	}
	return recs
}

// stored is what a reference keeps of r under score scoreName.
func stored(r format.Record, scoreName string) format.Record {
	out := format.Record{ID: r.ID, Sample: r.Sample, Tokens: r.Tokens, Logprobs: r.Logprobs,
		TopK: r.TopK, TopTokens: r.TopTokens, TopLogprobs: r.TopLogprobs, Text: r.Text, Err: r.Err,
		TokenBytes: r.TokenBytes, TopBytes: r.TopBytes}
	switch scoreName {
	case "tv":
		out.Text = ""
	case "prob", "tokens":
		out.Text, out.TopK, out.TopTokens, out.TopLogprobs, out.TopBytes = "", 0, nil, nil, nil
	case "text", "mmd":
		out.TopK, out.TopTokens, out.TopLogprobs, out.TopBytes = 0, nil, nil, nil
	}
	return out
}

// The reference gives back every record as it was written, less what the
// score does not read, whatever its shape and wherever it was stored;
// repeated (challenge, sample) keep the first.
func TestReferenceStore(t *testing.T) {
	const n = 2*chunk + 100
	recs := varied(n)
	dupOf := []int{5, chunk + 1, n - 1}
	withDups := slices.Clone(recs)
	for _, i := range dupOf {
		d := recs[i]
		d.Text = "a repeat, dropped"
		withDups = append(withDups, d)
	}
	path := streamtest.Write(t, t.TempDir(), "ref.pot", streamtest.Header("s", "a", "v"), withDups)
	env := &cli.Env{Stdout: io.Discard, Stderr: io.Discard}
	for _, scoreName := range []string{"auto", "tv", "prob", "text", "mmd"} {
		t.Run(scoreName, func(t *testing.T) {
			ref, err := Load(env, path, scoreName)
			if err != nil {
				t.Fatal(err)
			}
			if err := ref.Wait(); err != nil {
				t.Fatal(err)
			}
			if ref.n != n || ref.dups != len(dupOf) || ref.failed != (n+4)/7 {
				t.Fatalf("n %d dups %d failed %d, want %d %d %d", ref.n, ref.dups, ref.failed, n, len(dupOf), (n+4)/7)
			}
			v, done := ref.await(n)
			if !done {
				t.Fatal("await: not done after wait")
			}
			for i := range n {
				var got format.Record
				v.record(i, &got)
				// The bytes of the ids are the segment's table's: the
				// table itself is another, the reader's.
				if p := recs[i].Pieces; p != nil {
					for _, id := range append(slices.Clone(got.Tokens), got.TopTokens...) {
						a, okA := p.Get(id)
						b, okB := got.Pieces.Get(id)
						if !okA || !okB || a != b {
							t.Fatalf("record %d: token %d is %q, %v, want %q", i, id, b, okB, a)
						}
					}
				}
				got.Pieces = nil
				if want := stored(recs[i], scoreName); !reflect.DeepEqual(got, want) {
					t.Fatalf("record %d:\n got %+v\nwant %+v", i, got, want)
				}
				j, ok := ref.index.find(&v, recs[i].ID, recs[i].Sample)
				if !ok || int(j) != i {
					t.Fatalf("index of record %d: %d, %v", i, j, ok)
				}
			}
			if _, ok := ref.index.find(&v, "nothing", 0); ok {
				t.Error("index finds a record that is not there")
			}
			if scoreName == "mmd" {
				if g := ref.byID[recs[4].ID]; len(g) != 1 || g[0].Sample != recs[4].Sample {
					t.Errorf("byID[%s] = %+v", recs[4].ID, g)
				}
			}
		})
	}
}

// A key whose hash another key has taken goes to the overflow map and is
// still found, and the other key still finds its own record.
func TestReferenceIndexCollision(t *testing.T) {
	l := &loader{ref: &Reference{index: refIndex{seed: maphash.MakeSeed()}}}
	for i, id := range []string{"a", "b"} {
		r := format.Record{ID: id, Sample: 1}
		if err := l.add(&r); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			l.ref.index.add(&l.v, 0, "a", 1)
		}
	}
	x := &l.ref.index
	x.byHash[x.hash("b", 1)] = 0 // as if b's hash were a's
	x.add(&l.v, 1, "b", 1)
	for i, id := range []string{"a", "b"} {
		if j, ok := x.find(&l.v, id, 1); !ok || int(j) != i {
			t.Errorf("find(%s) = %d, %v, want %d", id, j, ok, i)
		}
	}
	if _, ok := x.find(&l.v, "b", 2); ok {
		t.Error("find(b, 2) found a record")
	}
}

// However the candidate is ordered, with records missing or foreign, the
// pairs that meet are the same and so are the scores: the walk along the
// reference and the index agree.
func TestJoinOrders(t *testing.T) {
	const n = 600
	dir := t.TempDir()
	ref := streamtest.Write(t, dir, "ref.pot", streamtest.Header("s", "a", "v"), streamtest.Records(n, streamtest.Same))
	env := &cli.Env{Stdout: io.Discard, Stderr: io.Discard}
	cand := streamtest.Records(n, func(i int) int32 { return 10 + int32(i%3) })
	rng := rand.New(rand.NewPCG(1, 2))
	var gaps []format.Record
	for i, r := range cand {
		if i%5 != 0 {
			gaps = append(gaps, r)
		}
		if i%97 == 0 {
			gaps = append(gaps, streamtest.Record(n+i, 0, 10, 8)) // no reference record
		}
	}
	var sparse []format.Record // every 40th: beyond the walk's look-ahead
	for i := 0; i < n; i += 40 {
		sparse = append(sparse, cand[i])
	}
	shuffled := slices.Clone(cand)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	repeated := append(slices.Clone(cand[:n/2]), cand[:10]...)
	mean := func(recs []format.Record) (float64, int) {
		sum, k := 0.0, 0
		for _, r := range recs {
			if r.Index < n {
				k++
				if r.Tokens[0] != 10 {
					sum++ // differs from the first token: tv 1
				}
			}
		}
		return sum / float64(k), k
	}
	for _, c := range []struct {
		name string
		recs []format.Record
		n    int
	}{
		{"in order", cand, n},
		{"reversed", reversed(cand), n},
		{"gaps and strangers", gaps, n - n/5},
		{"sparse", sparse, n / 40},
		{"shuffled", shuffled, n},
		{"repeats", repeated, n / 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := streamtest.Write(t, dir, strings.ReplaceAll(c.name, " ", "-")+".pot", streamtest.Header("s", "b", "v"), c.recs)
			// A calibration scores every pair and decides nothing.
			got, err := Calibrate(context.Background(), env, Config{Alpha: 0.01, Tolerance: 0.05, Score: "auto", Test: "betting"}, ref, path)
			if err != nil {
				t.Fatal(err)
			}
			m, _ := mean(c.recs)
			if c.name == "repeats" {
				m, _ = mean(c.recs[:n/2])
			}
			if got.N != c.n || math.Abs(got.Mean-m) > 1e-6 {
				t.Errorf("n %d mean %v, want %d %v", got.N, got.Mean, c.n, m)
			}
		})
	}
}

func reversed(recs []format.Record) []format.Record {
	out := slices.Clone(recs)
	slices.Reverse(out)
	return out
}
