// Command sampledkl measures what sampled outputs can tell apart (issue 15,
// §Power). With the trusted model p and a candidate q both local, it
// estimates the per-query Kullback-Leibler divergence between their output
// distributions, KL(q||p) = E_q[log q(x) - log p(x)] over whole outputs x
// (cut at max-tokens, stopping included), at the sampling temperature, with
// a 95% confidence interval over challenges; and KL(p||q) the same way with
// the roles swapped. Wald's bound on sequential tests then says that no test
// with error at most alpha decides DIFFERENT for q in fewer than about
// log(1/alpha)/KL(q||p) candidate queries in expectation, even one that
// knows p exactly; that is printed beside each estimate.
//
// The estimate is the sum over positions of the exact next-token KL under
// q's sampled prefix (the whole vocabulary is summed at every position),
// whose mean is the sequence KL by the chain rule and whose variance is far
// below the plain log-ratio's; the plain Monte Carlo mean is printed as a
// check. For a candidate of another vocabulary only the Monte Carlo
// estimate by text exists (see textLogLik).
//
// With -power it instead runs the tests of issue 15 on the given candidates
// in process, on the same outputs: pot's sequential rank test (one
// candidate query a challenge, M reference samples) and the unbiased mmd
// through the betting test (K samples a side), to their decisions, next to
// RUT's Cramér-von Mises test and MET's permutation test at fixed n; see
// power.go.
//
// The -power table also has a per-token PIT martingale (every token of the
// candidate's output through the trusted model's next-token distribution,
// exactly uniform under "same model") and Wald's SPRT of the trusted model
// against a named alternative (the candidate itself, or NAME@ALT).
//
//	go run ./scripts/sampledkl [-n 100] [-tokens 16,64,128] [-temperature 1] [-only int8,...]
//	go run ./scripts/sampledkl -power noise:0.01,int8 -n 300
//	go run ./scripts/sampledkl -power noise:0.03,itself@noise:0.03 -n 200 -tokens 16,64
//	go run ./scripts/sampledkl -power noise:0.03,noise:0.01 -k 0 -n 1000 -tokens 64,128
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pot-audit/pot/internal/challenge"
	"github.com/pot-audit/pot/internal/llama"
)

// candidate is one model compared with stories260K.
type candidate struct {
	name string
	file string // under the models folder: a llama2.c checkpoint with tokenizer tok, or a .gguf file
	tok  string
	pert string // a perturbation of the file's weights, or ""
	// base is the trusted model of the pair when it is not stories260K:
	// the quantizations need rows a whole number of blocks long, which
	// stories260K's hidden size of 172 is not, so they are made from the
	// F32 GGUF of the variant with 256 (whose context holds 128 positions).
	base string
}

// candidates are the pairs of issue 15, the trusted model against itself
// first (its divergence is exactly 0: a check of the arithmetic).
func candidates() []candidate {
	return []candidate{
		{"itself", "stories260K.bin", "tok512.bin", "", ""},
		{"f16", "stories260K.bin", "tok512.bin", "f16", ""},
		{"int8", "stories260K.bin", "tok512.bin", "int8", ""},
		{"q8_0", "quant/stories260K-ffn256.gguf", "", "q8_0", "quant/stories260K-ffn256.gguf"},
		{"noise:0.01", "stories260K.bin", "tok512.bin", "noise:0.01", ""},
		{"q4_0", "quant/stories260K-ffn256.gguf", "", "q4_0", "quant/stories260K-ffn256.gguf"},
		{"noise:0.03", "stories260K.bin", "tok512.bin", "noise:0.03", ""},
		{"tampered", "stories260K-tampered.bin", "tok512.bin", "", ""},
		{"aidreams", "aidreams260K.bin", "aidreams-tok512.bin", "", ""},
	}
}

// config is one run's parameters.
type config struct {
	models  string
	n       int
	lengths []int
	temp    float64
	alpha   float64
	seed    uint64
	jobs    int
	only    []string
	power   []string // candidates for the power runs; empty for the KL table
	m, k    int      // reference samples (rank test) and samples a side (mmd)
	alt     string   // the SPRT's alternative; "" for each candidate itself
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sampledkl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := config{}
	var lengths, only, power string
	def := os.Getenv("POT_MODELS")
	if def == "" {
		def = "../shared/models"
	}
	fs.StringVar(&c.models, "models", def, "folder of the real models (POT_MODELS)")
	fs.IntVar(&c.n, "n", 100, "challenges (one query each per direction; in -power, the most challenges)")
	fs.StringVar(&lengths, "tokens", "16,64,128", "output lengths (max-tokens), comma-separated; one sample to the longest gives all")
	fs.Float64Var(&c.temp, "temperature", 1, "sampling temperature (no top-k or top-p, as potgen's default)")
	fs.Float64Var(&c.alpha, "alpha", 0.01, "error level of the bound and the tests")
	fs.Uint64Var(&c.seed, "seed", 1, "seeds the challenge key and every draw")
	fs.IntVar(&c.jobs, "j", 2, "challenges computed at once")
	fs.StringVar(&only, "only", "", "comma-separated candidate names to keep (KL table)")
	fs.StringVar(&power, "power", "", "comma-separated candidates to run the tests on instead of the KL table; NAME@ALT sets the SPRT's alternative for one")
	fs.IntVar(&c.m, "m", 10, "reference samples a challenge for the rank test (-power)")
	fs.IntVar(&c.k, "k", 10, "samples a side for the mmd (-power); 0 skips the mmd")
	fs.StringVar(&c.alt, "alt", "", "the alternative of the SPRT (-power); each candidate itself when empty")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	for _, f := range strings.Split(lengths, ",") {
		L, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || L <= 0 {
			fmt.Fprintf(stderr, "sampledkl: -tokens: %q is not a positive length\n", f)
			return 2
		}
		c.lengths = append(c.lengths, L)
	}
	slices.Sort(c.lengths)
	if only != "" {
		c.only = strings.Split(only, ",")
	}
	if power != "" {
		c.power = strings.Split(power, ",")
	}
	if c.n <= 0 || c.jobs <= 0 || !(c.temp > 0) || !(c.alpha > 0 && c.alpha < 1) {
		fmt.Fprintln(stderr, "sampledkl: -n and -j must be positive, -temperature above 0, -alpha in (0, 1)")
		return 2
	}
	var err error
	if len(c.power) > 0 {
		err = runPower(c, stdout)
	} else {
		err = runKL(c, stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "sampledkl:", err)
		return 2
	}
	return 0
}

// load opens a candidate's model.
func load(dir string, c candidate) (*llama.Model, error) {
	var m *llama.Model
	var err error
	if strings.HasSuffix(c.file, ".gguf") {
		m, err = llama.LoadGGUF(filepath.Join(dir, c.file))
	} else {
		m, err = llama.LoadLlama2c(filepath.Join(dir, c.file), filepath.Join(dir, c.tok))
	}
	if err != nil || c.pert == "" {
		return m, err
	}
	p, err := llama.ParsePerturbation(c.pert)
	if err != nil {
		return nil, err
	}
	return m.Perturb(p)
}

// trustedOf loads the trusted model of cand's pair, which is stories260K
// (given) unless cand names another base.
func trustedOf(dir string, cand candidate, stories *llama.Model) (*llama.Model, error) {
	if cand.base == "" {
		return stories, nil
	}
	return load(dir, candidate{name: cand.base, file: cand.base})
}

func find(name string) (candidate, error) {
	for _, c := range candidates() {
		if c.name == name {
			return c, nil
		}
	}
	return candidate{}, fmt.Errorf("no candidate %q (have itself, f16, int8, q8_0, noise:0.01, q4_0, noise:0.03, tampered, aidreams)", name)
}

// prompts are the challenge prompts of a key derived from seed, as potgen
// makes them.
func prompts(seed uint64, n int) ([]challenge.Challenge, error) {
	h := sha256.Sum256([]byte("sampledkl key " + strconv.FormatUint(seed, 10)))
	key, err := challenge.ParseKey([]byte(hex.EncodeToString(h[:]) + "\n"))
	if err != nil {
		return nil, err
	}
	family, err := challenge.Templates("templates")
	if err != nil {
		return nil, err
	}
	set, err := challenge.NewSet(key, "", family, n)
	if err != nil {
		return nil, err
	}
	out := make([]challenge.Challenge, n)
	for i := range out {
		out[i] = set.Challenge(i)
	}
	return out, nil
}

// parallel runs f(worker, i) for i in [0, n) on jobs goroutines.
func parallel(jobs, n int, f func(w, i int)) {
	var wg sync.WaitGroup
	for w := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += jobs {
				f(w, i)
			}
		}()
	}
	wg.Wait()
}

// meanCI is the mean of xs with a 95% normal interval over them.
func meanCI(xs []float64) (mean, lo, hi float64) {
	n := float64(len(xs))
	for _, x := range xs {
		mean += x / n
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	half := 1.96 * math.Sqrt(ss/(n-1)/n)
	return mean, mean - half, mean + half
}

// wald is log(1/alpha)/kl, the least expected number of queries of a
// sequential test at error alpha against a divergence kl per query, as a
// string; "inf" for no divergence.
func wald(alpha, kl float64) string {
	if !(kl > 0) {
		return "inf"
	}
	q := math.Log(1/alpha) / kl
	switch {
	case q < 1:
		return "<1"

	case q >= 100:
		return fmt.Sprintf("%.0f", q)
	case q >= 10:
		return fmt.Sprintf("%.1f", q)
	}
	return fmt.Sprintf("%.2f", q)
}

// setup loads the trusted model and makes the challenges of a run.
func setup(c config) (*llama.Model, []challenge.Challenge, error) {
	trusted, err := load(c.models, candidates()[0])
	if err != nil {
		return nil, nil, err
	}
	chs, err := prompts(c.seed, c.n)
	return trusted, chs, err
}

// runKL prints the divergence table: one candidate at a time, both
// directions measured on the same challenges, one row a length.
func runKL(c config, out io.Writer) error {
	stories, chs, err := setup(c)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "trusted stories260K (the F32 ffn256 GGUF for q8_0 and q4_0), temperature %v, %d challenges (one output a direction each), alpha %v; the bound is log(1/alpha)/KL candidate queries\n\n", c.temp, c.n, c.alpha)
	fmt.Fprintln(out, "| candidate | tokens | KL(cand‖trusted) per query [95%] | (Monte Carlo) | Wald bound, queries | KL(trusted‖cand) [95%] | Wald bound | time |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|")
	for _, cand := range candidates() {
		if len(c.only) > 0 && !slices.Contains(c.only, cand.name) {
			continue
		}
		t0 := time.Now()
		q, err := load(c.models, cand)
		if err != nil {
			return err
		}
		trusted, err := trustedOf(c.models, cand, stories)
		if err != nil {
			return err
		}
		same := q.Vocab().Digest() == trusted.Vocab().Digest()
		dirs := measureKL(c, q, trusted, same, chs)
		for j, l := range c.lengths {
			fmt.Fprintf(out, "| %s | %d | %s | %s |\n", klName(c, cand.name, same, dirs, j), l, klCells(c, same, dirs, j), time.Since(t0).Round(time.Second))
		}
	}
	return nil
}

// klDirection is one direction's estimates, [length][challenge]: sampled
// from one model of the pair and scored by the other.
type klDirection struct {
	rb, mc [][]float64 // the exact-next-token (chain rule) and the plain Monte Carlo estimates
	short  [][]bool    // the output was cut by a context before the length
}

// newKLDirection allocates a direction's estimates for every length and
// challenge, so that the workers only fill their own cells.
func newKLDirection(lengths, n int) klDirection {
	d := klDirection{make([][]float64, lengths), make([][]float64, lengths), make([][]bool, lengths)}
	for j := range lengths {
		d.rb[j] = make([]float64, n)
		d.mc[j] = make([]float64, n)
		d.short[j] = make([]bool, n)
	}
	return d
}

// measureKL samples one output a challenge in each direction, dirs[0] from
// q scored by trusted and dirs[1] the other way, to the longest length, and
// reads every shorter length off the same output. Under one vocabulary the
// engine scores each position against the other model as it samples;
// otherwise the output goes back through the other model by text.
func measureKL(c config, q, trusted *llama.Model, same bool, chs []challenge.Challenge) [2]klDirection {
	var dirs [2]klDirection
	for d := range dirs {
		dirs[d] = newKLDirection(len(c.lengths), c.n)
	}
	L := c.lengths[len(c.lengths)-1]
	pairs := [2][2]*llama.Model{{q, trusted}, {trusted, q}}
	// One engine a worker and direction: an engine's state is not shared.
	engines := make([][2]*engine, c.jobs)
	maxPos := trusted.Config().SeqLen
	for w := range engines {
		for d, ab := range pairs {
			b := ab[1]
			if !same {
				b = nil
			}
			engines[w][d] = newEngine(ab[0], b, c.temp, maxPos)
		}
	}
	parallel(c.jobs, c.n, func(w, i int) {
		for d, ab := range pairs {
			rng := rand.New(rand.NewPCG(c.seed, uint64(i)*4+uint64(d)))
			prompt := ab[0].Vocab().Encode(chs[i].Prompt, true)
			wk := engines[w][d].run(prompt, L, rng)
			for j, l := range c.lengths {
				dirs[d].short[j][i] = !wk.stopped && len(wk.ownT) < l
				if same {
					dirs[d].rb[j][i] = upTo(wk.kl, l)
					dirs[d].mc[j][i] = upTo(wk.ratio, l)
					continue
				}
				x := textKL(c, ab, chs[i].Prompt, prompt, wk, l)
				dirs[d].mc[j][i] = x
				dirs[d].rb[j][i] = x
			}
		}
	})
	return dirs
}

// textKL is the Monte Carlo estimate by text of one output cut at l tokens,
// for a pair of two vocabularies: its log-likelihood under the model ab[0]
// that sampled it less that under ab[1], which reads it as text after the
// same prompt.
func textKL(c config, ab [2]*llama.Model, promptText string, prompt []int32, wk walk, l int) float64 {
	cut := wk.tokens[:min(l, len(wk.tokens))]
	stop := wk.stopped && len(wk.tokens) < l
	text := ab[0].Vocab().Decode(prompt[len(prompt)-1], cut)
	la := upTo(wk.ownT, l)
	sb := ab[1].NewState(ab[1].Config().SeqLen, 1)
	lb := textLogLik(ab[1], sb, promptText, text, stop, c.temp)
	return la - lb
}

// klName is the candidate cell of length index j's row: the name, with how
// many outputs a context cut short and whether only the text estimate
// exists, so that a reader knows what the row's figures rest on.
func klName(c config, name string, same bool, dirs [2]klDirection, j int) string {
	short := 0
	for d := range dirs {
		for _, b := range dirs[d].short[j] {
			short += btoi(b)
		}
	}
	if short > 0 {
		name += fmt.Sprintf(" (%d of %d outputs cut short by a context)", short, 2*c.n)
	}
	if !same {
		name += " (by text, Monte Carlo only)"
	}
	return name
}

// klCells are the estimate cells of length index j's row: each direction's
// mean with its interval and the Wald bound at its mean and ends (the
// bound's interval is reversed: the upper divergence gives the fewer
// queries), and the Monte Carlo check beside the candidate's direction
// ("-" where it is the only estimate).
func klCells(c config, same bool, dirs [2]klDirection, j int) string {
	var cells [2]string
	var mcs [2]string
	for d := range dirs {
		m, lo, hi := meanCI(dirs[d].rb[j])
		mm, mlo, mhi := meanCI(dirs[d].mc[j])
		cells[d] = fmt.Sprintf("%.3g [%.3g, %.3g] | %s [%s, %s]", m, lo, hi, wald(c.alpha, m), wald(c.alpha, hi), wald(c.alpha, lo))
		mcs[d] = fmt.Sprintf("%.3g [%.3g, %.3g]", mm, mlo, mhi)
	}
	if !same {
		cells[0] = strings.Replace(cells[0], "|", "| - |", 1)
	} else {
		cells[0] = strings.Replace(cells[0], "|", "| "+mcs[0]+" |", 1)
	}
	return cells[0] + " | " + cells[1]
}

// btoi is 1 for true, 0 for false: a count of the true ones.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
