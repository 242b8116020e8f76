package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/pot-audit/pot/internal/stats"
)

// resultsFormat names the machine-readable results file, so that -check
// refuses any other JSON.
const resultsFormat = "pot-eval-results"

// runFile is eval/results.json: one run's numbers, for -check to compare
// with another run's.
type runFile struct {
	Format    string      `json:"format"`
	Version   int         `json:"version"`
	Command   string      `json:"command"`
	Date      string      `json:"date"`
	WallS     float64     `json:"wall_s"`
	CPUS      float64     `json:"cpu_s"`
	Load      [2]string   `json:"load"`
	Config    runConfig   `json:"config"`
	Phases    []phaseFile `json:"phases"`
	Pairs     []pairFile  `json:"pairs"`
	Errors    []errFile   `json:"errors"`
	Scenarios []scenFile  `json:"scenarios"`
}

type runConfig struct {
	Keys       int       `json:"keys"`
	N          int       `json:"n"`
	Tokens     int       `json:"tokens"`
	Tolerances []float64 `json:"tolerances"`
	Alpha      float64   `json:"alpha"`
	ErrKeys    int       `json:"error_keys"`
	ErrN       int       `json:"error_n"`
	ErrTokens  int       `json:"error_tokens"`
	StandardN  int       `json:"standard_n"`
	Workers    int       `json:"workers"`
}

type phaseFile struct {
	Name  string  `json:"name"`
	WallS float64 `json:"wall_s"`
	CPUS  float64 `json:"cpu_s"`
}

type pairFile struct {
	Ref        string     `json:"ref"`
	Cand       string     `json:"cand"`
	Label      string     `json:"label"`
	Truth      string     `json:"truth,omitempty"`
	Unreadable string     `json:"unreadable,omitempty"`
	Cells      []cellFile `json:"cells,omitempty"`
	HTTP       *httpFile  `json:"http,omitempty"`
	CPUPerQ    float64    `json:"cpu_s_per_query,omitempty"`
	Generated  []int      `json:"generated,omitempty"`
}

type cellFile struct {
	Tolerance float64        `json:"tolerance"`
	Test      string         `json:"test"`
	Verdicts  map[string]int `json:"verdicts"`
	N         []int          `json:"n"`
	Mean      float64        `json:"mean"`
	Score     string         `json:"score"`
}

type httpFile struct {
	Verdict  string  `json:"verdict"`
	N        int     `json:"n"`
	Score    string  `json:"score"`
	Requests int     `json:"requests"`
	WallS    float64 `json:"wall_s"`
}

type errFile struct {
	Ref       string  `json:"ref"`
	Cand      string  `json:"cand"`
	Label     string  `json:"label"`
	Truth     string  `json:"truth"`
	Test      string  `json:"test"`
	Runs      int     `json:"runs"`
	Wrong     int     `json:"wrong"`
	Undecided int     `json:"undecided"`
	Rate      float64 `json:"rate"`
	Lo        float64 `json:"lo95"`
	Hi        float64 `json:"hi95"`
}

type scenFile struct {
	Ref          string  `json:"ref"`
	Cand         string  `json:"cand"`
	FixedVerdict string  `json:"fixed_verdict"`
	FixedQueries int     `json:"fixed_queries"`
	FixedWallS   float64 `json:"fixed_wall_s"`
	PotVerdict   string  `json:"pot_verdict"`
	PotN         int     `json:"pot_n"`
	PotQueries   int     `json:"pot_queries"`
	RefWallS     float64 `json:"pot_ref_wall_s"`
	PotWallS     float64 `json:"pot_wall_s"`
}

// file is the run's numbers as results.json holds them.
func (r *results) file(c config) runFile {
	f := runFile{
		Format: resultsFormat, Version: 1, Command: r.command(),
		Date: r.started.UTC().Format(time.RFC3339), WallS: r.Elapsed.Seconds(), CPUS: r.cpu.Seconds(), Load: r.load,
		Config: runConfig{Keys: c.tableKeys, N: c.tableN, Tokens: c.tokens, Tolerances: c.tolerances, Alpha: c.alpha,
			ErrKeys: c.errKeys, ErrN: c.errN, ErrTokens: c.errTokens, StandardN: c.standardN, Workers: c.workers},
		Pairs: []pairFile{}, Errors: []errFile{}, Scenarios: []scenFile{},
	}
	for _, p := range r.phases {
		f.Phases = append(f.Phases, phaseFile{Name: p.name, WallS: p.wall.Seconds(), CPUS: p.cpu.Seconds()})
	}
	for _, row := range r.rows {
		pf := pairFile{Ref: row.ref, Cand: row.cand, Label: model(row.ref).desc + " vs " + model(row.cand).desc,
			Truth: row.truth, Unreadable: firstLine(row.unreadable), CPUPerQ: meanOf(row.cpuPerQ), Generated: row.records}
		if row.unreadable == "" {
			for _, tol := range c.tolerances {
				for _, test := range tests {
					cl := row.cells[cellKey{tol, test}]
					pf.Cells = append(pf.Cells, cellFile{Tolerance: tol, Test: test, Verdicts: cl.verdicts, N: cl.ns, Mean: meanOf(cl.means), Score: cl.score})
				}
			}
		}
		if h := row.http; h != nil {
			pf.HTTP = &httpFile{Verdict: h.Verdict, N: h.N, Score: h.Score, Requests: h.queries, WallS: h.wall.Seconds()}
		}
		f.Pairs = append(f.Pairs, pf)
	}
	for _, e := range r.errs {
		lo, hi := stats.ClopperPearson(e.wrong, e.runs, 0.95)
		f.Errors = append(f.Errors, errFile{Ref: e.ref, Cand: e.cand, Label: model(e.ref).desc + " vs " + model(e.cand).desc,
			Truth: e.truth, Test: e.test, Runs: e.runs, Wrong: e.wrong, Undecided: e.undecided,
			Rate: float64(e.wrong) / float64(max(e.runs, 1)), Lo: lo, Hi: hi})
	}
	for _, s := range r.scenarios {
		f.Scenarios = append(f.Scenarios, scenFile{Ref: s.ref, Cand: s.cand,
			FixedVerdict: s.stdVerdict.Verdict, FixedQueries: s.stdQueries, FixedWallS: s.stdWall.Seconds(),
			PotVerdict: s.pot.Verdict, PotN: s.pot.N, PotQueries: s.refQueries + s.pot.queries, RefWallS: s.refWall.Seconds(), PotWallS: s.pot.wall.Seconds()})
	}
	return f
}

// writeResults writes results.json whole or not at all.
func writeResults(path string, f runFile) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(path, append(b, '\n'))
}

// readResults reads a results.json; its errors name the file and the line.
func readResults(path string) (*runFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f runFile
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("%s: line %d: %v", path, lineAt(b, se.Offset), err)
		case errors.As(err, &te):
			return nil, fmt.Errorf("%s: line %d: %s is %s, want %s", path, lineAt(b, te.Offset), te.Field, te.Value, te.Type)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, fmt.Errorf("%s: line %d: unexpected end of the file", path, lineAt(b, int64(len(bytes.TrimRight(b, " \t\r\n")))))
		case errors.Is(err, io.EOF):
			return nil, fmt.Errorf("%s: empty", path)
		}
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if f.Format != resultsFormat {
		return nil, fmt.Errorf("%s: format %q, want %q (not an eval results file)", path, f.Format, resultsFormat)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("%s: version %d, this eval reads 1", path, f.Version)
	}
	for i, e := range f.Errors {
		if e.Runs < 0 || e.Wrong < 0 || e.Wrong > e.Runs {
			return nil, fmt.Errorf("%s: errors[%d] (%s, %s): %d wrong of %d runs", path, i, e.Label, e.Test, e.Wrong, e.Runs)
		}
	}
	return &f, nil
}

func lineAt(b []byte, off int64) int {
	return 1 + bytes.Count(b[:min(max(off, 0), int64(len(b)))], []byte("\n"))
}

// modal is a cell's verdict over its keys: the most frequent one, or the
// tied ones joined by "|", so that two runs agree when their usual verdict
// is the same.
func modal(vs map[string]int) string {
	best := 0
	for _, n := range vs {
		best = max(best, n)
	}
	var top []string
	for v, n := range vs {
		if n == best && n > 0 {
			top = append(top, v)
		}
	}
	sort.Strings(top)
	return strings.Join(top, "|")
}

// countsText is a cell's verdicts with their counts, most frequent first.
func countsText(vs map[string]int) string {
	if len(vs) == 1 {
		for v, n := range vs {
			return fmt.Sprintf("%s %d", v, n)
		}
	}
	return (&cell{verdicts: vs}).verdictText()
}

// compareRuns says, pair by pair, whether two runs agree: the same usual
// verdict in every cell, through HTTP and in the scenario, and each wrong-
// verdict rate of one run inside the other's 95% interval, both ways. ok is
// false when anything disagrees or is in one run only.
func compareRuns(a, b *runFile, w io.Writer) (ok bool) {
	j := &judgement{w: w, ok: true}
	j.pairs(a.Pairs, b.Pairs)
	j.wrongVerdicts(a.Errors, b.Errors)
	j.scenarios(a.Scenarios, b.Scenarios)
	return j.ok
}

// judgement writes -check's findings, one line each, and remembers whether
// any was a disagreement.
type judgement struct {
	w  io.Writer
	ok bool
}

// say writes one finding: agree, or DISAGREE, which makes the whole check fail.
func (j *judgement) say(agree bool, format string, args ...any) {
	word := "agree"
	if !agree {
		word, j.ok = "DISAGREE", false
	}
	fmt.Fprintf(j.w, "%s: %s\n", word, fmt.Sprintf(format, args...))
}

// pairs matches the two runs' table rows by reference and candidate, in the
// first run's order; a row in one run only is a disagreement.
func (j *judgement) pairs(as, bs []pairFile) {
	bp := map[string]pairFile{}
	for _, p := range bs {
		bp[p.Ref+"/"+p.Cand] = p
	}
	seen := map[string]bool{}
	for _, pa := range as {
		id := pa.Ref + "/" + pa.Cand
		seen[id] = true
		pb, there := bp[id]
		if !there {
			j.say(false, "%s: only in the first run", pa.Label)
			continue
		}
		j.pair(pa, pb)
	}
	for _, pb := range bs {
		if !seen[pb.Ref+"/"+pb.Cand] {
			j.say(false, "%s: only in the second run", pb.Label)
		}
	}
}

// pair compares one row of both runs: a pair that could not run must fail in
// both; otherwise its cells and its HTTP verdict.
func (j *judgement) pair(pa, pb pairFile) {
	if pa.Unreadable != "" || pb.Unreadable != "" {
		j.say(pa.Unreadable != "" && pb.Unreadable != "", "%s: cannot run: %q / %q", pa.Label, pa.Unreadable, pb.Unreadable)
		return
	}
	j.cells(pa.Label, pa.Cells, pb.Cells)
	switch {
	case pa.HTTP != nil && pb.HTTP != nil:
		j.say(pa.HTTP.Verdict == pb.HTTP.Verdict, "%s, HTTP: %s %d / %s %d", pa.Label, pa.HTTP.Verdict, pa.HTTP.N, pb.HTTP.Verdict, pb.HTTP.N)
	case (pa.HTTP == nil) != (pb.HTTP == nil):
		j.say(false, "%s, HTTP: in one run only", pa.Label)
	}
}

// cells matches one row's cells by tolerance and test: they agree when their
// usual verdicts (modal) are the same, whatever the counts.
func (j *judgement) cells(label string, as, bs []cellFile) {
	cb := map[string]cellFile{}
	for _, c := range bs {
		cb[fmt.Sprintf("%g %s", c.Tolerance, c.Test)] = c
	}
	for _, ca := range as {
		k := fmt.Sprintf("%g %s", ca.Tolerance, ca.Test)
		cc, there := cb[k]
		if !there {
			j.say(false, "%s, %s: only in the first run", label, k)
			continue
		}
		delete(cb, k)
		j.say(modal(ca.Verdicts) == modal(cc.Verdicts), "%s, %s: %s / %s", label, k, countsText(ca.Verdicts), countsText(cc.Verdicts))
	}
	for k := range cb {
		j.say(false, "%s, %s: only in the second run", label, k)
	}
}

// wrongVerdicts matches the wrong-verdict rates by pair and test: each run's
// rate must lie inside the other's 95% interval, recomputed from the counts
// rather than trusted from the file.
func (j *judgement) wrongVerdicts(as, bs []errFile) {
	be := map[string]errFile{}
	for _, e := range bs {
		be[e.Ref+"/"+e.Cand+"/"+e.Test] = e
	}
	for _, ea := range as {
		id := ea.Ref + "/" + ea.Cand + "/" + ea.Test
		eb, there := be[id]
		if !there {
			j.say(false, "wrong verdicts, %s, %s: only in the first run", ea.Label, ea.Test)
			continue
		}
		delete(be, id)
		ra, rb := rate(ea.Wrong, ea.Runs), rate(eb.Wrong, eb.Runs)
		loA, hiA := stats.ClopperPearson(ea.Wrong, ea.Runs, 0.95)
		loB, hiB := stats.ClopperPearson(eb.Wrong, eb.Runs, 0.95)
		inB, inA := loB <= ra && ra <= hiB, loA <= rb && rb <= hiA
		j.say(inA && inB, "wrong verdicts, %s, %s: %d/%d = %.3f [%.3f, %.3f] / %d/%d = %.3f [%.3f, %.3f]; first in second's interval %s, second in first's %s",
			ea.Label, ea.Test, ea.Wrong, ea.Runs, ra, loA, hiA, eb.Wrong, eb.Runs, rb, loB, hiB, yesNo(inB), yesNo(inA))
	}
	for _, eb := range bs {
		if _, left := be[eb.Ref+"/"+eb.Cand+"/"+eb.Test]; left {
			j.say(false, "wrong verdicts, %s, %s: only in the second run", eb.Label, eb.Test)
		}
	}
}

// scenarios compares the fixed-size scenario's two verdicts, the fixed way's
// and the pipeline's, pair by pair.
func (j *judgement) scenarios(as, bs []scenFile) {
	bm := map[string]scenFile{}
	for _, s := range bs {
		bm[s.Ref+"/"+s.Cand] = s
	}
	for _, sa := range as {
		sb, there := bm[sa.Ref+"/"+sa.Cand]
		if !there {
			j.say(false, "scenario %s/%s: only in the first run", sa.Ref, sa.Cand)
			continue
		}
		j.say(sa.FixedVerdict == sb.FixedVerdict && sa.PotVerdict == sb.PotVerdict, "scenario %s/%s: fixed %s, pipeline %s / fixed %s, pipeline %s",
			sa.Ref, sa.Cand, sa.FixedVerdict, sa.PotVerdict, sb.FixedVerdict, sb.PotVerdict)
	}
}

func rate(k, n int) float64 { return float64(k) / float64(max(n, 1)) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// checkRuns is eval -check OLD.json NEW.json: 0 when the runs agree, 1 when
// they do not, 2 when a file cannot be read.
func checkRuns(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(stderr, "usage: eval -check OLD.json NEW.json")
		return 2
	}
	var runs [2]*runFile
	for i, path := range args {
		f, err := readResults(path)
		if err != nil {
			fmt.Fprintln(stderr, "eval:", err)
			return 2
		}
		runs[i] = f
	}
	fmt.Fprintf(stdout, "first: %s (%s, %s)\nsecond: %s (%s, %s)\n", args[0], runs[0].Date, runs[0].Command, args[1], runs[1].Date, runs[1].Command)
	if d := configDiff(runs[0].Config, runs[1].Config); d != "" {
		// Not a disagreement: runs of other sizes still say the same things,
		// within wider intervals.
		fmt.Fprintf(stdout, "note: the runs differ in size: %s\n", d)
	}
	if !compareRuns(runs[0], runs[1], stdout) {
		fmt.Fprintln(stdout, "the runs disagree")
		return 1
	}
	fmt.Fprintln(stdout, "the runs agree")
	return 0
}

// configDiff lists the sizes in which two runs differ, "" when none.
func configDiff(a, b runConfig) string {
	var d []string
	add := func(name string, x, y any) {
		if fmt.Sprint(x) != fmt.Sprint(y) {
			d = append(d, fmt.Sprintf("%s %v / %v", name, x, y))
		}
	}
	add("keys", a.Keys, b.Keys)
	add("challenges", a.N, b.N)
	add("tokens", a.Tokens, b.Tokens)
	add("tolerances", a.Tolerances, b.Tolerances)
	add("alpha", a.Alpha, b.Alpha)
	add("wrong-verdict keys", a.ErrKeys, b.ErrKeys)
	add("their challenges", a.ErrN, b.ErrN)
	add("their tokens", a.ErrTokens, b.ErrTokens)
	add("fixed-size outputs", a.StandardN, b.StandardN)
	return strings.Join(d, ", ")
}
