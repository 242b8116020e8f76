package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/challenge"
	"github.com/pot-audit/pot/internal/llama"
	"github.com/pot-audit/pot/internal/score"
	"github.com/pot-audit/pot/internal/seqtest"
	"github.com/pot-audit/pot/internal/stats"
)

// refOut and candOut are what the tests need of one sampled output: its
// tokens (for the mmd), and for the rank test the trusted model's raw
// log-likelihood of it cut at each length; for the candidate's first output
// also the per-position PITs under the trusted model.
type refOut struct {
	tokens []int32
	loglik []float64 // by length
}

type candOut struct {
	refOut
	pit []float64 // every position of the longest cut
	llr []float64 // log alt_T(x) - log trusted_T(x) by length: the SPRT's step
}

// cut is the record of an output cut at L tokens, for the mmd kernel.
func cut(tokens []int32, L, sample int) format.Record {
	return format.Record{Sample: uint32(sample), Tokens: tokens[:min(L, len(tokens))]}
}

// tally is one length's tests, fed challenge by challenge.
type tally struct {
	L       int
	rank    *seqtest.Rank
	rankAt  int
	ranks   []float64
	pitTest *seqtest.Rank // only its martingale is read: DIFFERENT when its evidence reaches 1/alpha
	pitAt   int           // the challenge (candidate query) at which it did
	mmd     [2]seqtest.Test
	mmdAt   [2]int
	llr     float64 // the SPRT's log-likelihood ratio, alternative over trusted
	sprt    string  // its decision, "" while undecided
	grams   []stats.Gram
	kern    score.Kernel
}

// mmdTolerances are the tolerances the mmd is run at, as in the README's
// table.
func mmdTolerances() [2]float64 { return [2]float64{0.05, 0.01} }

// runPower runs the rank test, the per-token PIT martingale and the mmd on
// each candidate of c.power at every length, to c.n challenges, and prints
// their decisions beside the fixed-n tests on the same outputs.
func runPower(c config, out io.Writer) error {
	stories, chs, err := setup(c)
	if err != nil {
		return err
	}
	// The trusted model is the first candidate's (stories260K, or the
	// ffn256 file for the quantizations); one run takes one.
	first, err := find(strings.Split(c.power[0], "@")[0])
	if err != nil {
		return err
	}
	trusted, err := trustedOf(c.models, first, stories)
	if err != nil {
		return err
	}
	L := c.lengths[len(c.lengths)-1]
	nref := max(c.m, c.k)
	t0 := time.Now()
	ref := sampleReference(c, trusted, chs, L, nref)
	fmt.Fprintf(out, "trusted %s, temperature %v, alpha %v, %d challenges; reference %d samples a challenge to %d tokens in %v (machine shared)\n",
		trustedName(first), c.temp, c.alpha, c.n, nref, L, time.Since(t0).Round(time.Second))
	fmt.Fprintln(out, "| candidate | tokens | rank test, tol 0.1 (1 query a challenge) | RUT CvM p at n = 100 / 300 / all | per-token PIT martingale | mmd tol 0.05 | mmd tol 0.01 | MET p at n = 100 / 300 / all | SPRT, trusted against a named alternative | time |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|---|")
	for _, entry := range c.power {
		t1 := time.Now()
		pc, err := loadPowerCandidate(c, entry, first, trusted)
		if err != nil {
			return err
		}
		co := sampleCandidate(c, pc, trusted, chs, L)
		for j, l := range c.lengths {
			t, err := tallyAll(c, j, l, ref, co)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "| %s | %d | %s | %s | %s |\n", pc.name, l, t.row(c), t.sprtCell(pc.altName), time.Since(t1).Round(time.Second))
		}
	}
	return nil
}

// sampleReference draws nref outputs a challenge of the trusted model to L
// tokens, shared by every candidate of the run (the rank test reads the
// first m, the mmd the first k), with the trusted model's raw
// log-likelihood of each at every length for the rank test.
func sampleReference(c config, trusted *llama.Model, chs []challenge.Challenge, L, nref int) [][]refOut {
	ref := make([][]refOut, c.n)
	engines := make([]*engine, c.jobs)
	for w := range engines {
		engines[w] = newEngine(trusted, nil, c.temp, trusted.Config().SeqLen)
	}
	parallel(c.jobs, c.n, func(w, i int) {
		prompt := trusted.Vocab().Encode(chs[i].Prompt, true)
		for s := range nref {
			rng := rand.New(rand.NewPCG(c.seed, uint64(i)<<20|uint64(s)<<1))
			wk := engines[w].run(prompt, L, rng)
			ref[i] = append(ref[i], refOut{wk.tokens, sums(wk.rawA, c.lengths)})
		}
	})
	return ref
}

// powerCandidate is one entry of -power, loaded: the candidate q and the
// SPRT's alternative (q itself unless the entry or -alt names another).
type powerCandidate struct {
	name, altName string
	q, alt        *llama.Model
}

// loadPowerCandidate loads the entry NAME or NAME@ALT of -power, refusing
// a candidate whose trusted model is not the run's (the reference would not
// be its) or whose vocabulary differs (the tests compare token ids).
func loadPowerCandidate(c config, entry string, first candidate, trusted *llama.Model) (powerCandidate, error) {
	name, altSpec, _ := strings.Cut(entry, "@")
	if altSpec == "" {
		altSpec = c.alt
	}
	cand, err := find(name)
	if err != nil {
		return powerCandidate{}, err
	}
	if cand.base != first.base {
		return powerCandidate{}, fmt.Errorf("-power: %s and %s have different trusted models: run them apart", first.name, name)
	}
	q, err := load(c.models, cand)
	if err != nil {
		return powerCandidate{}, err
	}
	if q.Vocab().Digest() != trusted.Vocab().Digest() {
		return powerCandidate{}, fmt.Errorf("%s: -power takes candidates of the trusted model's vocabulary", name)
	}
	pc := powerCandidate{name: name, altName: name, q: q, alt: q}
	if altSpec != "" {
		ac, err := find(altSpec)
		if err != nil {
			return powerCandidate{}, err
		}
		if pc.alt, err = load(c.models, ac); err != nil {
			return powerCandidate{}, err
		}
		pc.altName = altSpec
	}
	return pc, nil
}

// sampleCandidate draws max(1, k) outputs a challenge of the candidate to L
// tokens, on seeds apart from the reference's. Only the first is scored:
// it is the rank test's, the PIT martingale's and the SPRT's one query, so
// it alone carries the trusted model's log-likelihood, its PITs and the
// log-ratio of the alternative over the trusted model by teacher forcing;
// the rest are the mmd's.
func sampleCandidate(c config, pc powerCandidate, trusted *llama.Model, chs []challenge.Challenge, L int) [][]candOut {
	q, alt := pc.q, pc.alt
	// forcer is a worker's teacher-forcing states (alternative, trusted)
	// and its buffer of log-probabilities.
	type forcer struct {
		s  [2]*llama.State
		lp []float64
	}
	forcers := make([]forcer, c.jobs)
	for w := range forcers {
		forcers[w] = forcer{[2]*llama.State{alt.NewState(alt.Config().SeqLen, 1), trusted.NewState(trusted.Config().SeqLen, 1)}, make([]float64, trusted.Config().VocabSize)}
	}
	co := make([][]candOut, c.n)
	scored := make([]*engine, c.jobs)
	plain := make([]*engine, c.jobs)
	for w := range scored {
		scored[w] = newEngine(q, trusted, c.temp, trusted.Config().SeqLen)
		plain[w] = newEngine(q, nil, c.temp, trusted.Config().SeqLen)
	}
	parallel(c.jobs, c.n, func(w, i int) {
		prompt := q.Vocab().Encode(chs[i].Prompt, true)
		for s := range max(1, c.k) {
			rng := rand.New(rand.NewPCG(c.seed^0x9e3779b97f4a7c15, uint64(i)<<20|uint64(s)<<1|1))
			e := plain[w]
			if s == 0 {
				e = scored[w]
			}
			wk := e.run(prompt, L, rng)
			o := candOut{refOut: refOut{tokens: wk.tokens}}
			if s == 0 {
				o.loglik, o.pit = sums(wk.rawB, c.lengths), wk.pit
				f := forcers[w]
				la := sums(forced(alt, f.s[0], f.lp, prompt, wk.tokens, wk.stopped, c.temp), c.lengths)
				lt := sums(forced(trusted, f.s[1], f.lp, prompt, wk.tokens, wk.stopped, c.temp), c.lengths)
				for j := range la {
					o.llr = append(o.llr, la[j]-lt[j])
				}
			}
			co[i] = append(co[i], o)
		}
	})
	return co
}

// tallyAll feeds every challenge, in order, to a fresh tally of length l
// (index j), with the rank test's tie-breaking draws on a seed of their
// own, so that each length's row is one run of the sequential tests.
func tallyAll(c config, j, l int, ref [][]refOut, co [][]candOut) (*tally, error) {
	t, err := newTally(c, l)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(c.seed, 0x72616e6b))
	for i := range c.n {
		if err := t.add(c, j, ref[i], co[i], rng); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// sums is upTo(v, L) for every length.
func sums(v []float64, lengths []int) []float64 {
	out := make([]float64, len(lengths))
	for j, L := range lengths {
		out[j] = upTo(v, L)
	}
	return out
}

func newTally(c config, L int) (*tally, error) {
	t := &tally{L: L}
	var err error
	if t.rank, err = seqtest.NewRank(c.alpha, 0.1); err != nil {
		return nil, err
	}
	if t.pitTest, err = seqtest.NewRank(c.alpha, 0.1); err != nil {
		return nil, err
	}
	if c.k >= 2 {
		lo, hi := score.UnbiasedMMDRange(c.k, c.k)
		for i, eps := range mmdTolerances() {
			if t.mmd[i], err = seqtest.NewRange("betting", c.alpha, eps, lo, hi); err != nil {
				return nil, err
			}
		}
		if t.kern, err = score.TokenKernel(L); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// add feeds one challenge: length index j, its reference and candidate
// outputs.
func (t *tally) add(c config, j int, ref []refOut, cand []candOut, rng *rand.Rand) error {
	lls := make([]float64, c.m)
	for s := range c.m {
		lls[s] = ref[s].loglik[j]
	}
	u, err := stats.RandomRank(cand[0].loglik[j], lls, rng.Float64())
	if err != nil {
		return err
	}
	t.ranks = append(t.ranks, u)
	if t.rank.Decision() == seqtest.Undecided {
		if err := t.rank.Add(u); err != nil {
			return err
		}
		t.rankAt = t.rank.N()
	}
	if t.pitAt == 0 {
		// The PITs of the positions of this output cut at L: the positions
		// of the candidate's first output, at most L of them.
		for _, p := range cand[0].pit[:min(t.L, len(cand[0].pit))] {
			if err := t.pitTest.Add(p); err != nil {
				return err
			}
		}
		if t.pitTest.Evidence() >= 1/c.alpha {
			t.pitAt = len(t.ranks)
		}
	}
	if t.sprt == "" {
		t.llr += cand[0].llr[j]
		switch thr := math.Log(1 / c.alpha); {
		case t.llr >= thr:
			t.sprt = fmt.Sprintf("the alternative at %d", len(t.ranks))
		case t.llr <= -thr:
			t.sprt = fmt.Sprintf("trusted at %d", len(t.ranks))
		}
	}
	if c.k < 2 {
		return nil
	}
	var r, q []format.Record
	for s := range c.k {
		r = append(r, cut(ref[s].tokens, t.L, s))
		q = append(q, cut(cand[s].tokens, t.L, s))
	}
	x, err := score.UnbiasedMMD(r, q, t.kern)
	if err != nil {
		return err
	}
	for i, mt := range t.mmd {
		if mt.Decision() == seqtest.Undecided {
			if err := mt.Add(x); err != nil {
				return err
			}
			t.mmdAt[i] = mt.N()
		}
	}
	g, err := score.MMDGram(r, q, t.kern)
	if err != nil {
		return err
	}
	t.grams = append(t.grams, g)
	return nil
}

// row is the table cells of the tests after every challenge was fed.
func (t *tally) row(c config) string {
	n := len(t.ranks)
	_, dUp := t.rank.Bounds()
	rank := fmt.Sprintf("%v at %d (d<=%.3f)", t.rank.Decision(), t.rankAt, dUp)
	cvm := atSizes(n, func(m int) float64 { _, p := stats.CvMTest(t.ranks[:m], 999, 1); return p })
	pit := fmt.Sprintf("not DIFFERENT by %d (evidence %.3g)", n, t.pitTest.Evidence())
	if t.pitAt > 0 {
		pit = fmt.Sprintf("DIFFERENT at %d", t.pitAt)
	}
	mmd := "- | - | -"
	if c.k >= 2 {
		met := atSizes(n, func(m int) float64 { _, p := stats.MMDPermutationTest(t.grams[:m], 999, 1); return p })
		mmd = fmt.Sprintf("%v at %d (x%d queries) | %v at %d | %s",
			t.mmd[0].Decision(), t.mmdAt[0], c.k, t.mmd[1].Decision(), t.mmdAt[1], met)
	}
	return fmt.Sprintf("%s | %s | %s | %s", rank, cvm, pit, mmd)
}

// atSizes is p(m) for m = 100, 300 (those up to n) and n, as "p / p / p":
// a fixed-n test's p-values on the first m challenges of the same stream.
func atSizes(n int, p func(m int) float64) string {
	var cells []string
	for _, m := range []int{100, 300, n} {
		if m <= n {
			cells = append(cells, fmt.Sprintf("%.3f", p(m)))
		}
	}
	return strings.Join(cells, " / ")
}

// sprtCell says what Wald's sequential probability ratio test of the trusted
// model against the alternative alt (both local) decided: it stops when the
// log-likelihood ratio of the candidate's outputs leaves
// [-log(1/alpha), log(1/alpha)], and under either model the other verdict
// comes with probability at most alpha (Ville's inequality on the ratio,
// a martingale under the model in its denominator).
func (t *tally) sprtCell(alt string) string {
	if t.sprt == "" {
		return fmt.Sprintf("vs %s: undecided by %d (log ratio %.2f)", alt, len(t.ranks), t.llr)
	}
	return fmt.Sprintf("vs %s: %s", alt, t.sprt)
}

// trustedName names the trusted model of a candidate's pair.
func trustedName(c candidate) string {
	if c.base == "" {
		return "stories260K"
	}
	return c.base
}
