package local

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/challenge"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/score"
	"github.com/pot-audit/pot/internal/seqtest"
	"github.com/pot-audit/pot/internal/stats"
	"github.com/pot-audit/pot/internal/testmodels"
)

// TestEvalSampled measures, on the real models, the statistics of sampled
// outputs that issue 15 asks for: the unbiased MMD and the rank test
// against stories260K sampled at temperature 1 (16 tokens), with queries to
// a decision, next to the fixed-n baselines (MET's MMD permutation test,
// RUT's Cramér-von Mises test) on the same samples. It takes minutes, so it
// runs only with POT_EVAL=1 (POT_EVAL_N challenges, 300 by default;
// POT_EVAL_RANK=1 draws one candidate sample a challenge and runs the rank
// tests only; POT_EVAL_ONLY=a,b keeps the candidates whose names contain
// one of the words):
//
//	POT_EVAL=1 go test -run TestEvalSampled -v -timeout 1h ./internal/model/local
func TestEvalSampled(t *testing.T) {
	if os.Getenv("POT_EVAL") != "1" {
		t.Skip("an evaluation of minutes: set POT_EVAL=1 to run it")
	}
	dir := testmodels.Dir(t)
	n := 300
	if s := os.Getenv("POT_EVAL_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	const (
		k      = 10 // samples a side for mmd; reference samples for the rank test
		tokens = 16
		alpha  = 0.01
	)
	stories := "llama2c:" + filepath.Join(dir, "stories260K.bin") + ",tokenizer=" + filepath.Join(dir, "tok512.bin")
	trusted := open(t, stories)
	key, err := challenge.ParseKey([]byte("5a1d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100aa\n"))
	if err != nil {
		t.Fatal(err)
	}
	family, _ := challenge.Templates("templates")
	set, err := challenge.NewSet(key, "", family, n)
	if err != nil {
		t.Fatal(err)
	}
	samp := format.Sampling{Temperature: 1, MaxTokens: tokens}
	start := time.Now()
	// sample draws k samples of every challenge from m with base seed base.
	rankOnly := os.Getenv("POT_EVAL_RANK") == "1"
	sample := func(m model.Model, base uint64, k int) [][]format.Record {
		out := make([][]format.Record, n)
		var wg sync.WaitGroup
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 2 {
					c := set.Challenge(i)
					for j := range k {
						rec := format.Record{Index: uint64(i), ID: c.ID, Sample: uint32(j), Seed: c.SampleSeed(j, base)}
						if err := m.Generate(context.Background(), model.Query{Prompt: c.Prompt, Seed: rec.Seed, Sampling: samp}, &rec); err != nil {
							t.Error(err)
						}
						out[i] = append(out[i], rec)
					}
				}
			}()
		}
		wg.Wait()
		return out
	}
	// loglik is the trusted model's log-likelihood of rec, by its tokens
	// when the vocabulary is the trusted one's, else by its text.
	sc := trusted.(model.Scorer)
	loglik := func(prompt string, rec *format.Record, byText bool) float64 {
		q := model.ScoreQuery{Prompt: prompt, Tokens: rec.Tokens, Stop: rec.Finish == "stop"}
		if byText {
			q = model.ScoreQuery{Prompt: prompt, Text: rec.Text, Stop: rec.Finish == "stop"}
		}
		s, err := sc.Score(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		return s.Sum
	}
	ref := sample(trusted, 1, k)
	t.Logf("reference: %d challenges x %d samples in %v", n, k, time.Since(start).Round(time.Second))

	tokK, _ := score.TokenKernel(tokens)
	refLL := map[bool][][]float64{} // the reference samples' log-likelihoods, by tokens or by text
	for _, c := range []struct{ name, spec string }{
		{"itself, other seeds", stories},
		{"stories260K.gguf (other loader)", "gguf:" + filepath.Join(dir, "stories260K.gguf")},
		{"perturb=int8", stories + ",perturb=int8"},
		{"perturb=noise:0.01", stories + ",perturb=noise:0.01"},
		{"stories260K-tampered.bin", "llama2c:" + filepath.Join(dir, "stories260K-tampered.bin") + ",tokenizer=" + filepath.Join(dir, "tok512.bin")},
		{"aidreams260K (other vocabulary)", "llama2c:" + filepath.Join(dir, "aidreams260K.bin") + ",tokenizer=" + filepath.Join(dir, "aidreams-tok512.bin")},
	} {
		if only := os.Getenv("POT_EVAL_ONLY"); only != "" && !slices.ContainsFunc(strings.Split(only, ","), func(w string) bool { return strings.Contains(c.name, w) }) {
			continue
		}
		t0 := time.Now()
		m := open(t, c.spec)
		byText := m.Info().Vocab != trusted.Info().Vocab
		kc := k
		if rankOnly {
			kc = 1
		}
		cand := sample(m, 2, kc)
		kern := tokK
		if byText {
			kern = score.TextKernel()
		}
		mmd := "- | - | - | - | -"
		if !rankOnly {
			mmd = mmdEval(t, ref, cand, kern, tokens, byText)
		}
		// The rank test, one candidate query a challenge (its sample 0),
		// against the k reference samples.
		rng := rand.New(rand.NewPCG(7, 7))
		rt, _ := seqtest.NewRank(alpha, 0.1)
		var us []float64
		rankAt := 0
		if refLL[byText] == nil {
			refLL[byText] = make([][]float64, n)
			for i := range n {
				prompt := set.Challenge(i).Prompt
				for j := range ref[i] {
					refLL[byText][i] = append(refLL[byText][i], loglik(prompt, &ref[i][j], byText))
				}
			}
		}
		for i := range n {
			prompt := set.Challenge(i).Prompt
			lls := refLL[byText][i]
			u, err := stats.RandomRank(loglik(prompt, &cand[i][0], byText), lls, rng.Float64())
			if err != nil {
				t.Fatal(err)
			}
			us = append(us, u)
			if rt.Decision() == seqtest.Undecided {
				rt.Add(u)
				rankAt = rt.N()
			}
		}
		_, cvmP := stats.CvMTest(us, 999, 1)
		_, cvm100 := stats.CvMTest(us[:min(100, n)], 999, 1)
		_, dUp := rt.Bounds()
		t.Logf("| %s | %s | %s | %v at %d, d<=%.3f | p=%.3f (n=100), %.3f (n=%d) | %v |",
			c.name, kern, mmd, rt.Decision(), rankAt, dUp, cvm100, cvmP, n, time.Since(t0).Round(time.Second))
	}
	t.Log("| candidate | kernel | unbiased mmd mean | biased mmd mean | mmd betting, tol 0.05 | mmd betting, tol 0.01 | MET permutation | rank test, tol 0.1 | RUT CvM | time |")
	t.Logf("alpha %v, %d challenges, %d samples a side, %d tokens, temperature 1; machine shared (2 cores, about six agents)", alpha, n, k, tokens)
}

// mmdEval runs the unbiased mmd through the betting test at tolerances
// 0.05 and 0.01 and MET's permutation test, and returns the table cells.
func mmdEval(t *testing.T, ref, cand [][]format.Record, kern score.Kernel, tokens int, byText bool) string {
	const alpha = 0.01
	n, k := len(ref), len(ref[0])
	lo, hi := score.UnbiasedMMDRange(k, k)
	var tests [2]seqtest.Test
	var at [2]int
	for j, eps := range []float64{0.05, 0.01} {
		tests[j], _ = seqtest.NewRange("betting", alpha, eps, lo, hi)
	}
	var umean, bmean float64
	var grams []stats.Gram
	for i := range n {
		x, err := score.UnbiasedMMD(ref[i], cand[i], kern)
		if err != nil {
			t.Fatal(err)
		}
		umean += x / float64(n)
		if !byText {
			g, _ := score.MMDGram(ref[i], cand[i], kern)
			bmean += stats.BiasedMMD(g) / float64(n)
		}
		for j, mt := range tests {
			if mt.Decision() == seqtest.Undecided {
				mt.Add(x)
				at[j] = mt.N()
			}
		}
		g, _ := score.MMDGram(ref[i], cand[i], kern)
		grams = append(grams, g)
	}
	_, metP := stats.MMDPermutationTest(grams, 999, 1)
	_, met100 := stats.MMDPermutationTest(grams[:min(100, n)], 999, 1)
	biased := "-"
	if !byText {
		biased = fmt.Sprintf("%.4f", bmean)
	}
	return fmt.Sprintf("%.4f | %s | %v at %d (x%d queries) | %v at %d | p=%.3f (n=100), %.3f (n=%d)",
		umean, biased, tests[0].Decision(), at[0], k, tests[1].Decision(), at[1], met100, metP, n)
}
