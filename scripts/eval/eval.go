package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	unreadable string // why a model of the pair could not be run, if so
	cells      map[cellKey]*cell
	cpuPerQ    []float64 // the candidate's potgen CPU time per query, per key
	records    []int     // records of the candidate generated (or read) per key
	http       *piped    // the same candidate behind potserve, at the first tolerance, betting
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

// phase is one phase's wall time and the CPU time of its processes.
type phase struct {
	name      string
	wall, cpu time.Duration
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
	phases    []phase
	Elapsed   time.Duration
	cpu       time.Duration // of every process the run waited for
	started   time.Time
	alpha     float64
	tableN    int       // challenges per table stream, for check
	load      [2]string // /proc/loadavg at the start and the end
	args      []string  // the command line's arguments, as given
}

// evaluation runs the phases.
type evaluation struct {
	c     config
	t     *tools
	pairs []pair
	log   io.Writer
	res   *results

	mu       sync.Mutex
	refTimes map[string]timing  // the table's first key: each reference's potgen time
	cost     map[string]float64 // the table's first key: each candidate's potgen CPU seconds
}

func newEvaluation(c config, stderr io.Writer) *evaluation {
	return &evaluation{
		c:     c,
		t:     &tools{bin: c.bin, stderr: stderr, slots: newSlots(c.workers)},
		pairs: selectPairs(c),
		log:   stderr,
		res:   &results{started: time.Now(), alpha: c.alpha, tableN: c.tableN},

		refTimes: map[string]timing{},
		cost:     map[string]float64{},
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
	e.res.load[0] = loadavg()
	for _, ph := range []struct {
		name string
		run  func(context.Context) error
	}{{"table", e.table}, {"HTTP", e.http}, {"wrong verdicts", e.errorRates}, {"fixed-size scenario", e.standard}} {
		start, cpu := time.Now(), e.t.cpuTotal()
		if err := ph.run(ctx); err != nil {
			return nil, err
		}
		p := phase{name: ph.name, wall: time.Since(start), cpu: e.t.cpuTotal() - cpu}
		e.res.phases = append(e.res.phases, p)
		e.logf("%s: %s (CPU %s)", p.name, p.wall.Round(time.Second), p.cpu.Round(time.Second))
	}
	e.res.load[1] = loadavg()
	e.res.cpu = e.t.cpuTotal()
	return e.res, nil
}

// loadavg is the system's load averages over 1, 5 and 15 minutes.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// streams generates every model named under one key to files, as many at
// once as there are worker slots. A model that cannot be run is reported,
// not a failure of the evaluation: the table then says why.
func (e *evaluation) streams(ctx context.Context, prio float64, dir, key string, names []string, n, tokens int) (map[string]timing, map[string]string) {
	var mu sync.Mutex
	times, failed := map[string]timing{}, map[string]string{}
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tm, err := e.t.generate(ctx, prio, model(name).spec(e.c.models), key, n, tokens, filepath.Join(dir, name+".pot"))
			mu.Lock()
			defer mu.Unlock()
			if why := whyFailed(err); why != "" {
				failed[name] = why
				return
			}
			times[name] = tm
		}()
	}
	wg.Wait()
	return times, failed
}

// whyFailed is what potgen said when it failed, for the table; "" for nil.
func whyFailed(err error) string {
	if te := (*toolError)(nil); errors.As(err, &te) && te.stderr != "" {
		return te.stderr
	} else if err != nil {
		return err.Error()
	}
	return ""
}

// sameStream says whether a candidate's stream is the same bytes as its
// reference's (the same model under the same key and parameters): it is
// then read from the reference's file, not generated a second time.
// "Itself, run again" is still generated afresh through HTTP, where a
// second process (potserve) computes it.
func (e *evaluation) sameStream(p pair) bool {
	return model(p.ref).spec(e.c.models) == model(p.cand).spec(e.c.models)
}

// refsOf lists the references of ps, once each.
func refsOf(ps []pair) []string {
	seen := map[string]bool{}
	var names []string
	for _, p := range ps {
		if !seen[p.ref] {
			seen[p.ref] = true
			names = append(names, p.ref)
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

// group runs functions at once and returns the first error.
type group struct {
	wg    sync.WaitGroup
	mu    sync.Mutex
	first error
}

func (g *group) do(f func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := f(); err != nil {
			g.mu.Lock()
			if g.first == nil {
				g.first = err
			}
			g.mu.Unlock()
		}
	}()
}

func (g *group) wait() error {
	g.wg.Wait()
	return g.first
}

// table runs every pair under tableKeys fresh keys at every tolerance with
// both tests. Each key's references are files of tableN; each candidate is
// one potgen piped into the four potcmps of its row (two tolerances, two
// tests), which runs only until the slowest of them has decided.
func (e *evaluation) table(ctx context.Context) error {
	var g group
	for k := 1; k <= e.c.tableKeys; k++ {
		g.do(func() error { return e.tableKey(ctx, k) })
	}
	return g.wait()
}

func (e *evaluation) tableKey(ctx context.Context, k int) error {
	dir, key, err := e.keyDir("table", k)
	if err != nil {
		return err
	}
	e.logf("table: key %d of %d: %d pairs, %d challenges", k, e.c.tableKeys, len(e.pairs), e.c.tableN)
	times, failed := e.streams(ctx, refsFirst, dir, key, refsOf(e.pairs), e.c.tableN, e.c.tokens)
	if err := ctx.Err(); err != nil {
		return err
	}
	if k == 1 {
		e.mu.Lock()
		maps.Copy(e.refTimes, times)
		e.mu.Unlock()
	}
	var g group
	for i, r := range e.res.rows {
		if why := failed[r.ref]; why != "" {
			e.mu.Lock()
			r.unreadable = why
			e.mu.Unlock()
			continue
		}
		g.do(func() error {
			f := fanout{ref: filepath.Join(dir, r.ref+".pot")}
			var keys []cellKey
			tr := ""
			for _, tol := range e.c.tolerances {
				for _, test := range tests {
					args := e.t.cmpArgs(tol, e.c.alpha, test, e.c.tableN)
					if k == 1 && r.picture && tol == e.c.tolerances[0] && test == "betting" {
						tr = filepath.Join(e.c.out, r.ref+"-"+r.cand+".jsonl")
						args = append(args, "--transcript", tr)
					}
					f.cmps = append(f.cmps, args)
					keys = append(keys, cellKey{tol, test})
				}
			}
			reused := e.sameStream(r.pair)
			if reused {
				f.file = f.ref
			} else {
				f.gen = genArgs(model(r.cand).spec(e.c.models), key, e.c.tableN, e.c.tokens)
			}
			f.prio = e.tablePrio(k, i, r.cand)
			res, err := e.t.fanOut(ctx, f)
			e.mu.Lock()
			defer e.mu.Unlock()
			if k == 1 {
				e.cost[r.cand] = res.genCPU.Seconds()
			}
			if te := (*toolError)(nil); errors.As(err, &te) {
				r.unreadable = whyFailed(err)
				return nil
			} else if err != nil {
				return err
			}
			if tr != "" {
				e.res.pictures = append(e.res.pictures, picture{pair: r.pair, tol: e.c.tolerances[0], transcript: tr})
			}
			if reused {
				r.cpuPerQ = append(r.cpuPerQ, times[r.ref].cpu.Seconds()/float64(e.c.tableN))
				r.records = append(r.records, 0)
			} else {
				r.cpuPerQ = append(r.cpuPerQ, res.genCPU.Seconds()/float64(max(res.records, 1)))
				r.records = append(r.records, res.records)
			}
			for i, v := range res.verdicts {
				c := r.cells[keys[i]]
				c.verdicts[v.Verdict]++
				c.ns = append(c.ns, v.N)
				c.means = append(c.means, v.Mean)
				c.score = v.Score
			}
			return nil
		})
	}
	return g.wait()
}

// refsFirst is the priority of the table's references: every candidate
// waits for one.
const refsFirst = 2e9

// tablePrio orders the table's candidates: the first key's in the table's
// order, then the other keys' by what the same candidate cost under the
// first key, the dearest first; one whose first key is still running is
// likely dear and goes before those measured.
func (e *evaluation) tablePrio(k, i int, cand string) func() float64 {
	return func() float64 {
		if k == 1 {
			return 1e9 - float64(i)
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if c, ok := e.cost[cand]; ok {
			return c
		}
		return 1e8
	}
}

// http runs each candidate behind potserve into potcmp under the first
// table key, at the first tolerance with the betting test, as the README's
// pipeline does: potgen over openai: into potcmp through a pipe. Two run
// at once, each with its server.
func (e *evaluation) http(ctx context.Context) error {
	dir := filepath.Join(e.c.out, "table", "k1")
	key := filepath.Join(dir, "audit.key")
	tol := e.c.tolerances[0]
	var g group
	for _, r := range e.res.rows {
		if r.unreadable != "" {
			continue
		}
		g.do(func() error {
			defer e.t.holdAt(e.tablePrio(2, 0, r.cand))() // the dearest first
			srv, err := e.t.serve(ctx, model(r.cand).spec(e.c.models), filepath.Join(dir, r.cand+".served"))
			if err != nil {
				return err
			}
			gen := []string{"--model", "openai:" + srv.url, "--key", key, "-n", strconv.Itoa(e.c.tableN),
				"--max-tokens", strconv.Itoa(e.c.tokens), "--logprobs", "5", "-j", "1"}
			p, perr := e.t.pipeline(ctx, gen, e.t.cmpArgs(tol, e.c.alpha, "betting", e.c.tableN), filepath.Join(dir, r.ref+".pot"))
			asked, serr := e.t.stop(srv)
			if perr != nil {
				return perr
			}
			if serr != nil {
				return serr
			}
			p.queries = asked
			e.mu.Lock()
			r.http = &p
			e.mu.Unlock()
			e.logf("http: %s vs %s: %s n=%d score=%s, %d requests", r.ref, r.cand, p.Verdict, p.N, p.Score, asked)
			return nil
		})
	}
	return g.wait()
}

// ebDecides says whether the table's eb test decided p at the first
// tolerance within errN scores under every key: eb's wrong-verdict rate is
// measured only there, since elsewhere it would only say UNDECIDED (it needs
// about 9 n* scores to say SAME).
func (e *evaluation) ebDecides(p pair) bool {
	for _, r := range e.res.rows {
		if r.pair == p {
			c := r.cells[cellKey{e.c.tolerances[0], "eb"}]
			return len(c.ns) > 0 && c.verdicts["UNDECIDED"] == 0 && quantile(c.ns, 1) <= e.c.errN
		}
	}
	return false
}

// errorRates counts wrong verdicts over errKeys fresh keys for the pairs
// whose truth is clear: per key, a reference of errN, then the candidate
// piped into a potcmp per test, which stop it at their verdicts.
func (e *evaluation) errorRates(ctx context.Context) error {
	ps := e.clearPairs()
	if len(ps) == 0 || e.c.errKeys == 0 {
		return nil
	}
	byPair := e.newErrRows(ps)
	var g group
	keys := make(chan struct{}, e.c.workers+1) // keys in flight: enough to keep the slots busy
	for k := 1; k <= e.c.errKeys; k++ {
		if k%10 == 1 {
			e.logf("error rates: key %d of %d", k, e.c.errKeys)
		}
		keys <- struct{}{}
		if err := ctx.Err(); err != nil {
			break
		}
		g.do(func() error {
			defer func() { <-keys }()
			return e.errorKey(ctx, k, ps, byPair)
		})
	}
	if err := g.wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// clearPairs are the table's pairs measured over the wrong-verdict keys:
// those whose truth is clear, and that could be run.
func (e *evaluation) clearPairs() []pair {
	var ps []pair
	for _, r := range e.res.rows {
		if r.errors && r.unreadable == "" {
			ps = append(ps, r.pair)
		}
	}
	return ps
}

// newErrRows adds to the results one count per pair of ps and test, and
// returns them by pair in the tests' order; eb is counted only where the
// table shows it deciding (ebDecides).
func (e *evaluation) newErrRows(ps []pair) map[pair][]*errRow {
	byPair := map[pair][]*errRow{}
	for _, p := range ps {
		for _, test := range tests {
			if test == "eb" && !e.ebDecides(p) {
				continue
			}
			er := &errRow{pair: p, test: test}
			byPair[p] = append(byPair[p], er)
			e.res.errs = append(e.res.errs, er)
		}
	}
	return byPair
}

// errorKey runs every pair of ps under the k-th fresh key: the references
// first, then each candidate, and removes the key's files when done. A
// reference that cannot be generated fails the phase: these models ran in
// the table.
func (e *evaluation) errorKey(ctx context.Context, k int, ps []pair, byPair map[pair][]*errRow) error {
	dir, key, err := e.keyDir("errors", k)
	if err != nil {
		return err
	}
	// The keys in order, so that a key's files are soon removed.
	prio := -float64(k)
	if _, failed := e.streams(ctx, prio, dir, key, refsOf(ps), e.c.errN, e.c.errTokens); len(failed) > 0 {
		for _, why := range failed {
			return fmt.Errorf("error rates: %s", why)
		}
	}
	var kg group
	for _, p := range ps {
		kg.do(func() error { return e.errorPair(ctx, dir, key, prio, p, byPair[p]) })
	}
	if err := kg.wait(); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

// errorPair runs one pair's candidate under a key into a potcmp per count
// of ers (one stream for every test) and adds each verdict to its count.
func (e *evaluation) errorPair(ctx context.Context, dir, key string, prio float64, p pair, ers []*errRow) error {
	f := fanout{ref: filepath.Join(dir, p.ref+".pot"), prio: func() float64 { return prio }}
	for _, er := range ers {
		f.cmps = append(f.cmps, e.t.cmpArgs(e.c.tolerances[0], e.c.alpha, er.test, e.c.errN))
	}
	if e.sameStream(p) {
		f.file = f.ref
	} else {
		f.gen = genArgs(model(p.cand).spec(e.c.models), key, e.c.errN, e.c.errTokens)
	}
	res, err := e.t.fanOut(ctx, f)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, er := range ers {
		er.count(res.verdicts[i], res.records)
	}
	return nil
}

// count adds one key's verdict to er: UNDECIDED is counted apart, neither
// right nor wrong; records is what potgen wrote before the tests stopped it.
func (er *errRow) count(v verdict, records int) {
	er.runs++
	er.ns = append(er.ns, v.N)
	er.queries = append(er.queries, records)
	switch {
	case v.Verdict == "UNDECIDED":
		er.undecided++
	case (v.Verdict == "SAME") != (er.truth == "same"):
		er.wrong++
	}
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
	times, failed := e.streams(ctx, 0, dir, key, modelsOf(ps), e.c.standardN, e.c.tokens)
	for _, why := range failed {
		return fmt.Errorf("standard: %s", why)
	}
	refDir := filepath.Join(e.c.out, "table", "k1")
	refKey := filepath.Join(refDir, "audit.key")
	tol := e.c.tolerances[0]
	var g group
	for _, p := range ps {
		s := &scenario{pair: p, stdQueries: 2 * e.c.standardN, stdWall: times[p.ref].wall + times[p.cand].wall}
		e.res.scenarios = append(e.res.scenarios, s)
		g.do(func() error {
			var err error
			s.stdVerdict, err = e.t.compare(ctx, filepath.Join(dir, p.ref+".pot"), filepath.Join(dir, p.cand+".pot"), tol, e.c.alpha, "betting", 0, "")
			if err != nil {
				return err
			}
			// pot's way: the table's reference under its first key (tableN
			// outputs, made once and kept), with the time it took there; then
			// the candidate through a pipe until potcmp decides.
			s.refQueries, s.refWall = e.c.tableN, e.refTimes[p.ref].wall
			defer e.t.hold()()
			s.pot, err = e.t.pipeline(ctx, genArgs(model(p.cand).spec(e.c.models), refKey, e.c.tableN, e.c.tokens),
				e.t.cmpArgs(tol, e.c.alpha, "betting", e.c.tableN), filepath.Join(refDir, p.ref+".pot"))
			return err
		})
	}
	return g.wait()
}

// modelsOf lists the models of ps, once each.
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
