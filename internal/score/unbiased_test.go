package score

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/seqtest"
	"github.com/pot-audit/pot/internal/stats"
)

// posModel is a synthetic model whose outputs have independent positions:
// position l holds token t with probability p[l][t]. Its MMD under the
// token kernel is known exactly: (1/L) sum_l (1/2) ||p_l - q_l||^2.
type posModel [][]float64

// draw samples an output from m with the uniforms u (one per position):
// shared uniforms couple two models' samples, as a shared seed does.
func (m posModel) draw(u []float64) []int32 {
	out := make([]int32, len(m))
	for l, p := range m {
		c := 0.0
		out[l] = int32(len(p) - 1)
		for t, pt := range p {
			c += pt
			if u[l] < c {
				out[l] = int32(t)
				break
			}
		}
	}
	return out
}

func halfMMD2(p, q posModel) float64 {
	var s float64
	for l := range p {
		for t := range p[l] {
			d := p[l][t] - q[l][t]
			s += d * d / 2
		}
	}
	return s / float64(len(p))
}

// randomModel has positions drawn from a flat Dirichlet over v tokens.
func randomModel(r *rand.Rand, length, v int) posModel {
	m := make(posModel, length)
	for l := range m {
		m[l] = make([]float64, v)
		var s float64
		for t := range m[l] {
			m[l][t] = -math.Log(1 - r.Float64())
			s += m[l][t]
		}
		for t := range m[l] {
			m[l][t] /= s
		}
	}
	return m
}

// mix is (1-w) p + w q.
func mix(p, q posModel, w float64) posModel {
	out := make(posModel, len(p))
	for l := range p {
		out[l] = make([]float64, len(p[l]))
		for t := range p[l] {
			out[l][t] = (1-w)*p[l][t] + w*q[l][t]
		}
	}
	return out
}

// samples draws k records from each of p and q, with sample indices 0..k-1;
// coupled shares the uniforms of index i between the two sides.
func samples(r *rand.Rand, p, q posModel, k int, coupled bool) (ref, cand []format.Record) {
	u := make([]float64, len(p))
	for i := range k {
		for l := range u {
			u[l] = r.Float64()
		}
		ref = append(ref, format.Record{Sample: uint32(i), Tokens: p.draw(u)})
		if !coupled {
			for l := range u {
				u[l] = r.Float64()
			}
		}
		cand = append(cand, format.Record{Sample: uint32(i), Tokens: q.draw(u)})
	}
	return ref, cand
}

// TestUnbiasedMMDMean checks, by Monte Carlo over many challenges, that the
// score's mean is 0 for one model on both sides and the exact half squared
// MMD for two models, independent or coupled by shared seeds, while the
// biased statistic the score replaces is off by its bias.
func TestUnbiasedMMDMean(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const length, v, k, runs = 6, 4, 5, 6000
	p, q := randomModel(r, length, v), randomModel(r, length, v)
	kern, err := TokenKernel(length)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		q       posModel
		coupled bool
	}{
		{"same model", p, false},
		{"same model, shared seeds", p, true},
		{"near model", mix(p, q, 0.3), false},
		{"near model, shared seeds", mix(p, q, 0.3), true},
		{"other model", q, false},
		{"other model, shared seeds", q, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := halfMMD2(p, tc.q)
			lo, hi := UnbiasedMMDRange(k, k)
			var sum, sq, biased float64
			for range runs {
				ref, cand := samples(r, p, tc.q, k, tc.coupled)
				x, err := UnbiasedMMD(ref, cand, kern)
				if err != nil {
					t.Fatal(err)
				}
				if x < lo || x > hi {
					t.Fatalf("score %v outside its range [%v, %v]", x, lo, hi)
				}
				sum += x
				sq += x * x
				b := biasedMMD(t, ref, cand, length)
				biased += b
			}
			mean := sum / runs
			se := math.Sqrt((sq/runs - mean*mean) / runs)
			if math.Abs(mean-want) > 4*se+1e-12 {
				t.Errorf("mean %.5f, want %.5f (se %.5f)", mean, want, se)
			}
			if !tc.coupled && math.Abs(biased/runs-want) < 10*se {
				t.Errorf("the biased statistic's mean %.5f is near %.5f: the check has no power", biased/runs, want)
			}
		})
	}
}

// TestPairedCrossTerm shows why pairs of one sample index stay out of the
// cross term: with shared seeds, the all-pairs statistic is biased down
// (it would let a different model pass as the same), the paired one is not.
func TestPairedCrossTerm(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const length, v, k, runs = 6, 4, 5, 20000
	p, q := randomModel(r, length, v), randomModel(r, length, v)
	kern, _ := TokenKernel(length)
	want := halfMMD2(p, q)
	var paired, all float64
	for range runs {
		ref, cand := samples(r, p, q, k, true)
		g, err := MMDGram(ref, cand, kern)
		if err != nil {
			t.Fatal(err)
		}
		if !g.Paired {
			t.Fatal("equal sample indices not seen as paired")
		}
		paired += stats.UnbiasedMMD(g)
		g.Paired = false
		all += stats.UnbiasedMMD(g)
	}
	paired, all = paired/runs, all/runs
	if math.Abs(paired-want) > 0.1*want || all > 0.8*want {
		t.Errorf("half MMD^2 %.4f: paired mean %.4f, all-pairs mean %.4f", want, paired, all)
	}
}

// TestUnbiasedMMDSequential runs the score through the sequential test, as
// potcmp will: one model on both sides is told DIFFERENT at most alpha of
// the time even at a tolerance close to 0, a model just beyond the
// tolerance is told SAME at most alpha of the time, and one well beyond it
// is told DIFFERENT.
func TestUnbiasedMMDSequential(t *testing.T) {
	const (
		length, v, k = 8, 3, 6
		alpha        = 0.1
		runs, maxN   = 200, 200
	)
	r := rand.New(rand.NewPCG(5, 6))
	p, q := randomModel(r, length, v), randomModel(r, length, v)
	kern, _ := TokenKernel(length)
	d := halfMMD2(p, q)
	lo, hi := UnbiasedMMDRange(k, k)
	limit := alpha*runs + 3*math.Sqrt(alpha*runs)
	for _, tc := range []struct {
		name    string
		q       posModel
		eps     float64
		wrong   seqtest.Verdict
		coupled bool
		biased  bool // also run the biased score, which must fail the check
	}{
		{"same model, tolerance near 0", p, 0.002, seqtest.Different, false, true},
		{"same model, shared seeds", p, 0.002, seqtest.Different, true, false},
		{"just beyond the tolerance", q, 0.9 * d, seqtest.Same, false, false},
		{"just beyond the tolerance, shared seeds", q, 0.9 * d, seqtest.Same, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(score func(ref, cand []format.Record) (float64, error)) int {
				wrong := 0
				for range runs {
					test, err := seqtest.NewRange("betting", alpha, tc.eps, lo, hi)
					if err != nil {
						t.Fatal(err)
					}
					for test.N() < maxN && test.Decision() == seqtest.Undecided {
						ref, cand := samples(r, p, tc.q, k, tc.coupled)
						x, err := score(ref, cand)
						if err != nil {
							t.Fatal(err)
						}
						if err := test.Add(x); err != nil {
							t.Fatal(err)
						}
					}
					if test.Decision() == tc.wrong {
						wrong++
					}
				}
				return wrong
			}
			wrong := run(func(ref, cand []format.Record) (float64, error) { return UnbiasedMMD(ref, cand, kern) })
			t.Logf("%d wrong verdicts (%v) in %d runs", wrong, tc.wrong, runs)
			if float64(wrong) > limit {
				t.Errorf("%d wrong verdicts (%v) in %d runs, limit %.1f at alpha %v", wrong, tc.wrong, runs, limit, alpha)
			}
			if tc.biased {
				b := run(func(ref, cand []format.Record) (float64, error) { return biasedMMD(t, ref, cand, length), nil })
				t.Logf("the biased score: %d wrong verdicts", b)
				if float64(b) <= limit {
					t.Errorf("the biased score passes the check (%d wrong): it cannot tell a valid score", b)
				}
			}
		})
	}
	// Power: a model at three times the tolerance is found DIFFERENT.
	test, _ := seqtest.NewRange("betting", 0.01, d/3, lo, hi)
	for test.N() < 2000 && test.Decision() == seqtest.Undecided {
		ref, cand := samples(r, p, q, k, false)
		x, _ := UnbiasedMMD(ref, cand, kern)
		test.Add(x)
	}
	if test.Decision() != seqtest.Different {
		t.Errorf("distance %.3f against tolerance %.3f: %v after %d challenges", d, d/3, test.Decision(), test.N())
	}
	t.Logf("half MMD^2 %.3f, tolerance %.3f: %v at n=%d", d, d/3, test.Decision(), test.N())
}

func TestTextKernel(t *testing.T) {
	k := TextKernel()
	recs := func(texts ...string) []format.Record {
		out := make([]format.Record, len(texts))
		for i, s := range texts {
			out[i] = format.Record{Sample: uint32(i), Text: s}
		}
		return out
	}
	// "ab" framed: ^^a ^ab ab$ b$$; "ac": ^^a ^ac ac$ c$$. One trigram of
	// four in common: cosine 1/4. "" has ^^$ and ^$$ only.
	g, err := MMDGram(recs("ab", ""), recs("ac", "ab"), k)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{
		1, 0, 0.25, 1,
		0, 1, 0, 0,
		0.25, 0, 1, 0.25,
		1, 0, 0.25, 1,
	}
	for i := range want {
		if math.Abs(g.K[i]-want[i]) > 1e-12 {
			t.Fatalf("gram %v, want %v", g.K, want)
		}
	}
	// Positive semi-definite on arbitrary texts: a Cholesky factorisation
	// of K + 1e-9 I exists.
	r := rand.New(rand.NewPCG(7, 8))
	var texts []string
	for range 12 {
		b := make([]rune, r.IntN(12))
		for i := range b {
			b[i] = rune("abc é"[r.IntN(5)])
		}
		texts = append(texts, string(b))
	}
	g, _ = MMDGram(recs(texts[:6]...), recs(texts[6:]...), k)
	if !cholesky(g.K, 12) {
		t.Error("text kernel matrix is not positive semi-definite")
	}
	// Other vocabularies and id-less backends: only the text is read.
	ref := recs("once upon a time", "there was a cat", "the dog ran")
	cand := recs("once upon a time", "a cat there was", "the dog ran")
	for i := range cand {
		cand[i].Tokens = []int32{1, 2, 3} // ids of another vocabulary, ignored
	}
	if _, err := UnbiasedMMD(ref, cand, k); err != nil {
		t.Errorf("text kernel: %v", err)
	}
}

func cholesky(a []float64, n int) bool {
	l := make([]float64, n*n)
	for i := range n {
		for j := 0; j <= i; j++ {
			s := a[i*n+j]
			if i == j {
				s += 1e-9
			}
			for k := range j {
				s -= l[i*n+k] * l[j*n+k]
			}
			if i == j {
				if s <= 0 {
					return false
				}
				l[i*n+i] = math.Sqrt(s)
			} else {
				l[i*n+j] = s / l[j*n+j]
			}
		}
	}
	return true
}

func TestUnbiasedMMDErrors(t *testing.T) {
	kern, _ := TokenKernel(4)
	two := []format.Record{{Sample: 0, Tokens: []int32{1}}, {Sample: 1, Tokens: []int32{2}}}
	for _, tc := range []struct {
		name      string
		ref, cand []format.Record
		k         Kernel
		want      error
	}{
		{"one sample", two[:1], two, kern, ErrMissing},
		{"failed", two, []format.Record{{Err: "timeout"}, {}}, kern, ErrFailed},
		{"no ids", two, []format.Record{{Text: "x"}, {Text: "y"}}, kern, ErrMissing},
		{"zero kernel", two, two, Kernel{}, ErrName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := UnbiasedMMD(tc.ref, tc.cand, tc.k); !errors.Is(err, tc.want) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := TokenKernel(0); err == nil {
		t.Error("a token kernel without a fixed length")
	}
	if _, err := KernelByName("hamming", 4); !errors.Is(err, ErrName) {
		t.Errorf("unknown kernel: %v", err)
	}
}

// biasedMMD is the old potcmp mmd, half the V-statistic squared MMD under
// the token kernel, kept to show that its mean is not 0 for one model.
func biasedMMD(t *testing.T, ref, cand []format.Record, length int) float64 {
	t.Helper()
	k, err := TokenKernel(length)
	if err != nil {
		t.Fatal(err)
	}
	g, err := MMDGram(ref, cand, k)
	if err != nil {
		t.Fatal(err)
	}
	return stats.BiasedMMD(g)
}
