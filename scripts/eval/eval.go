package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// tests are the sequential tests the table compares.
var tests = []string{"betting", "eb"}

// cellKey names one column group: a tolerance and a test.
type cellKey struct {
	tol  float64
	test string
}

// cell is one pair under one tolerance and test, over the table's keys.
type cell struct {
	verdicts map[string]int
	ns       []int
	means    []float64
	score    string
}

// row is one pair of the table.
type row struct {
	pair
	unreadable  string // why a model of the pair could not be run, if so
	cells       map[cellKey]*cell
	secPerQuery float64 // the candidate's model time per query (potgen -j 1)
	http        *piped  // the same candidate behind potserve, at the first tolerance, betting
}

// errRow is one pair's wrong-verdict count over fresh keys, for one test.
type errRow struct {
	pair
	test                   string
	runs, wrong, undecided int
	ns, queries            []int
}

// scenario is the fixed-size way against the early-stopping pipeline.
type scenario struct {
	pair
	stdQueries int
	stdWall    time.Duration
	stdVerdict verdict
	refQueries int
	refWall    time.Duration
	pot        piped
}

// picture is one decision's transcript, drawn as an SVG.
type picture struct {
	pair
	tol        float64
	transcript string
	svg        string
}

// results is everything an evaluation measured.
type results struct {
	rows      []*row
	errs      []*errRow
	scenarios []*scenario
	pictures  []picture
	Elapsed   time.Duration
	started   time.Time
	alpha     float64
}

// evaluation runs the phases.
type evaluation struct {
	c     config
	t     *tools
	pairs []pair
	log   io.Writer
	res   *results
}

func newEvaluation(c config, stderr io.Writer) *evaluation {
	return &evaluation{
		c:     c,
		t:     &tools{bin: c.bin, stderr: stderr, slots: make(chan struct{}, c.workers)},
		pairs: selectPairs(c),
		log:   stderr,
		res:   &results{started: time.Now(), alpha: c.alpha},
	}
}

func (e *evaluation) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "eval: "+format+"\n", args...)
}

func (e *evaluation) run(ctx context.Context) (*results, error) {
	if err := os.RemoveAll(e.c.out); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(e.c.out, 0o755); err != nil {
		return nil, err
	}
	for _, p := range e.pairs {
		r := &row{pair: p, cells: map[cellKey]*cell{}}
		for _, tol := range e.c.tolerances {
			for _, test := range tests {
				r.cells[cellKey{tol, test}] = &cell{verdicts: map[string]int{}}
			}
		}
		e.res.rows = append(e.res.rows, r)
	}
	for _, phase := range []func(context.Context) error{e.table, e.http, e.errorRates, e.standard} {
		if err := phase(ctx); err != nil {
			return nil, err
		}
	}
	return e.res, nil
}

// streams generates every model the pairs need under one key, in parallel.
// A model that cannot be run is reported in its rows, not as a failure of
// the evaluation: the table then says why.
func (e *evaluation) streams(ctx context.Context, dir, key string, names []string, n, tokens int) (map[string]time.Duration, map[string]string) {
	var mu sync.Mutex
	walls, failed := map[string]time.Duration{}, map[string]string{}
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wall, err := e.t.generate(ctx, model(name).spec(e.c.models), key, n, tokens, filepath.Join(dir, name+".pot"))
			mu.Lock()
			defer mu.Unlock()
			if te := (*toolError)(nil); errors.As(err, &te) && te.stderr != "" {
				failed[name] = te.stderr // what potgen said, for the table
				return
			} else if err != nil {
				failed[name] = err.Error()
				return
			}
			walls[name] = wall
		}()
	}
	wg.Wait()
	return walls, failed
}

func modelsOf(ps []pair) []string {
	seen := map[string]bool{}
	var names []string
	for _, p := range ps {
		for _, n := range []string{p.ref, p.cand} {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return names
}

func (e *evaluation) keyDir(phase string, k int) (dir, key string, err error) {
	dir = filepath.Join(e.c.out, phase, "k"+strconv.Itoa(k))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	key = filepath.Join(dir, "audit.key")
	return dir, key, e.t.keygen(context.Background(), key)
}

// table runs every pair under tableKeys fresh keys, on files, at every
// tolerance and with both tests.
func (e *evaluation) table(ctx context.Context) error {
	for k := 1; k <= e.c.tableKeys; k++ {
		dir, key, err := e.keyDir("table", k)
		if err != nil {
			return err
		}
		e.logf("table: key %d of %d: %d models, %d challenges", k, e.c.tableKeys, len(modelsOf(e.pairs)), e.c.tableN)
		walls, failed := e.streams(ctx, dir, key, modelsOf(e.pairs), e.c.tableN, e.c.tokens)
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, r := range e.res.rows {
			if why := failed[r.ref] + failed[r.cand]; why != "" {
				r.unreadable = why
				continue
			}
			r.secPerQuery += walls[r.cand].Seconds() / float64(e.c.tableN) / float64(e.c.tableKeys)
			for _, tol := range e.c.tolerances {
				for _, test := range tests {
					tr := ""
					if k == 1 && r.picture && tol == e.c.tolerances[0] && test == "betting" {
						tr = filepath.Join(e.c.out, r.ref+"-"+r.cand+".jsonl")
						e.res.pictures = append(e.res.pictures, picture{pair: r.pair, tol: tol, transcript: tr})
					}
					v, err := e.t.compare(ctx, filepath.Join(dir, r.ref+".pot"), filepath.Join(dir, r.cand+".pot"), tol, e.c.alpha, test, e.c.tableN, tr)
					if err != nil {
						return err
					}
					c := r.cells[cellKey{tol, test}]
					c.verdicts[v.Verdict]++
					c.ns = append(c.ns, v.N)
					c.means = append(c.means, v.Mean)
					c.score = v.Score
				}
			}
		}
	}
	return nil
}

// http runs each candidate behind potserve into potcmp under the first
// table key, at the first tolerance with the betting test, as the README's
// pipeline does: potgen over openai: into potcmp through a pipe.
func (e *evaluation) http(ctx context.Context) error {
	dir := filepath.Join(e.c.out, "table", "k1")
	key := filepath.Join(dir, "audit.key")
	tol := e.c.tolerances[0]
	for _, r := range e.res.rows {
		if r.unreadable != "" {
			continue
		}
		srv, err := e.t.serve(ctx, model(r.cand).spec(e.c.models), filepath.Join(dir, r.cand+".served"))
		if err != nil {
			return err
		}
		gen := []string{"--model", "openai:" + srv.url, "--key", key, "-n", strconv.Itoa(e.c.tableN),
			"--max-tokens", strconv.Itoa(e.c.tokens), "--logprobs", "5", "-j", "1"}
		p, perr := e.t.pipeline(ctx, gen, e.t.cmpArgs(tol, e.c.alpha, "betting", e.c.tableN), filepath.Join(dir, r.ref+".pot"))
		asked, serr := srv.stop()
		if perr != nil {
			return perr
		}
		if serr != nil {
			return serr
		}
		p.queries = asked
		r.http = &p
		e.logf("http: %s vs %s: %s n=%d score=%s, %d requests", r.ref, r.cand, p.Verdict, p.N, p.Score, asked)
	}
	return nil
}

// errorRates counts wrong verdicts over errKeys fresh keys for the pairs
// whose truth is clear, through the pipeline with early stopping.
func (e *evaluation) errorRates(ctx context.Context) error {
	var ps []pair
	for _, r := range e.res.rows {
		if r.errors && r.unreadable == "" {
			ps = append(ps, r.pair)
		}
	}
	if len(ps) == 0 || e.c.errKeys == 0 {
		return nil
	}
	tol := e.c.tolerances[0]
	rows := map[string]*errRow{}
	for _, p := range ps {
		for _, test := range tests {
			// eb needs about 9 n* scores to say SAME, past a reference of
			// errN; its wrong-verdict rate is measured where it can decide.
			if test == "eb" && p.truth == "same" {
				continue
			}
			er := &errRow{pair: p, test: test}
			rows[p.ref+"/"+p.cand+"/"+test] = er
			e.res.errs = append(e.res.errs, er)
		}
	}
	var refs []string
	for _, n := range modelsOf(ps) {
		for _, p := range ps {
			if p.ref == n {
				refs = append(refs, n)
				break
			}
		}
	}
	for k := 1; k <= e.c.errKeys; k++ {
		if k%10 == 1 {
			e.logf("error rates: key %d of %d", k, e.c.errKeys)
		}
		dir, key, err := e.keyDir("errors", k)
		if err != nil {
			return err
		}
		if _, failed := e.streams(ctx, dir, key, refs, e.c.errN, e.c.errTokens); len(failed) > 0 {
			for _, why := range failed {
				return fmt.Errorf("error rates: %s", why)
			}
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		for _, er := range e.res.errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				gen := []string{"--model", model(er.cand).spec(e.c.models), "--key", key, "-n", strconv.Itoa(e.c.errN),
					"--max-tokens", strconv.Itoa(e.c.errTokens), "--logprobs", "5", "-j", "1", "--threads", "1"}
				p, err := e.t.pipeline(ctx, gen, e.t.cmpArgs(tol, e.c.alpha, er.test, e.c.errN), filepath.Join(dir, er.ref+".pot"))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
					return
				}
				er.runs++
				er.ns = append(er.ns, p.N)
				er.queries = append(er.queries, p.queries)
				switch {
				case p.Verdict == "UNDECIDED":
					er.undecided++
				case (p.Verdict == "SAME") != (er.truth == "same"):
					er.wrong++
				}
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return firstErr
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	return nil
}

// standard measures the seed's "standard" way (a fixed standardN outputs
// from both models, then compare) against pot's pipeline (a reference of
// tableN made once, then the candidate until potcmp decides), on a SAME
// pair and a DIFFERENT pair.
func (e *evaluation) standard(ctx context.Context) error {
	if e.c.standardN == 0 {
		return nil
	}
	var ps []pair
	for _, r := range e.res.rows {
		if r.unreadable == "" && ((r.ref == "stories" && (r.cand == "stories-gguf" || r.cand == "tampered")) ||
			(e.c.models == "" && r.ref == "synth1" && (r.cand == "synth1-again" || r.cand == "synth2"))) {
			ps = append(ps, r.pair)
		}
	}
	if len(ps) == 0 {
		return nil
	}
	dir, key, err := e.keyDir("standard", 1)
	if err != nil {
		return err
	}
	e.logf("standard: %d outputs from %d models", e.c.standardN, len(modelsOf(ps)))
	walls, failed := e.streams(ctx, dir, key, modelsOf(ps), e.c.standardN, e.c.tokens)
	for _, why := range failed {
		return fmt.Errorf("standard: %s", why)
	}
	refDir := filepath.Join(e.c.out, "table", "k1")
	refKey := filepath.Join(refDir, "audit.key")
	tol := e.c.tolerances[0]
	refWalls := map[string]time.Duration{} // pot's reference, made once per model
	for _, p := range ps {
		s := &scenario{pair: p, stdQueries: 2 * e.c.standardN, stdWall: walls[p.ref] + walls[p.cand]}
		s.stdVerdict, err = e.t.compare(ctx, filepath.Join(dir, p.ref+".pot"), filepath.Join(dir, p.cand+".pot"), tol, e.c.alpha, "betting", 0, "")
		if err != nil {
			return err
		}
		// pot's way: the reference of the table (tableN outputs, made once and
		// kept), timed again here so both sides are measured alike.
		s.refQueries = e.c.tableN
		if _, made := refWalls[p.ref]; !made {
			refWalls[p.ref], err = e.t.generate(ctx, model(p.ref).spec(e.c.models), refKey, e.c.tableN, e.c.tokens, filepath.Join(dir, "pot-"+p.ref+".pot"))
			if err != nil {
				return err
			}
		}
		s.refWall = refWalls[p.ref]
		gen := []string{"--model", model(p.cand).spec(e.c.models), "--key", refKey, "-n", strconv.Itoa(e.c.tableN),
			"--max-tokens", strconv.Itoa(e.c.tokens), "--logprobs", "5", "-j", "1", "--threads", "1"}
		s.pot, err = e.t.pipeline(ctx, gen, e.t.cmpArgs(tol, e.c.alpha, "betting", e.c.tableN), filepath.Join(dir, "pot-"+p.ref+".pot"))
		if err != nil {
			return err
		}
		e.res.scenarios = append(e.res.scenarios, s)
	}
	return nil
}
