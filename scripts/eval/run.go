package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pot-audit/pot/format"
)

// verdict is what potcmp --json says of one comparison.
type verdict struct {
	Verdict string  `json:"verdict"`
	N       int     `json:"n"`
	Mean    float64 `json:"mean"`
	Lower   float64 `json:"lower"`
	Upper   float64 `json:"upper"`
	Score   string  `json:"score"`
}

// tools runs pot's binaries.
type tools struct {
	bin    string
	stderr io.Writer
	slots  *slots // pipelines or potgen processes at once

	mu  sync.Mutex
	cpu time.Duration // user and system time of the processes run so far
}

func (t *tools) path(name string) string { return filepath.Join(t.bin, name) }

// keygen writes a fresh key to path.
func (t *tools) keygen(ctx context.Context, path string) error {
	return t.quiet(ctx, exec.CommandContext(ctx, t.path("potgen"), "keygen", "-o", path))
}

// toolError is a tool's failure: what it said on stderr, and how it was run.
type toolError struct {
	args   []string
	err    error
	stderr string
}

func (e *toolError) Error() string {
	return fmt.Sprintf("%s: %v: %s", strings.Join(e.args, " "), e.err, e.stderr)
}

func (t *tools) quiet(ctx context.Context, cmd *exec.Cmd) error {
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		return &toolError{args: cmd.Args, err: err, stderr: firstLine(errb.String())}
	}
	return nil
}

// timing is one process's wall and CPU time.
type timing struct{ wall, cpu time.Duration }

// generate writes n outputs of spec under key to out and returns potgen's
// wall and CPU time. It holds one of the worker slots while it runs,
// taken at priority prio.
func (t *tools) generate(ctx context.Context, prio float64, spec, key string, n, tokens int, out string) (timing, error) {
	defer t.holdAt(func() float64 { return prio })()
	start := time.Now()
	cmd := exec.CommandContext(ctx, t.path("potgen"), genArgs(spec, key, n, tokens)...)
	cmd.Args = append(cmd.Args, "-o", out)
	err := t.quiet(ctx, cmd)
	tm := timing{wall: time.Since(start), cpu: cpuOf(cmd)}
	t.account(tm.cpu)
	return tm, err
}

// genArgs are potgen's arguments for n outputs of a local model: greedy,
// top-5 log-probabilities, one job and one thread, so that two processes
// share the two cores.
func genArgs(spec, key string, n, tokens int) []string {
	return []string{"--model", spec, "--key", key, "-n", strconv.Itoa(n),
		"--max-tokens", strconv.Itoa(tokens), "--logprobs", "5", "-j", "1", "--threads", "1"}
}

// compare runs potcmp --json on two files, with a transcript when tr is set.
func (t *tools) compare(ctx context.Context, ref, cand string, tol, alpha float64, test string, maxN int, tr string) (verdict, error) {
	args := t.cmpArgs(tol, alpha, test, maxN)
	if tr != "" {
		args = append(args, "--transcript", tr)
	}
	cmd := exec.CommandContext(ctx, t.path("potcmp"), append(args, ref, cand)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	t.account(cpuOf(cmd))
	return parseVerdict(cmd, out.Bytes(), errb.String(), err)
}

func (t *tools) cmpArgs(tol, alpha float64, test string, maxN int) []string {
	return []string{"--json", "--tolerance", fmtF(tol), "--alpha", fmtF(alpha), "--test", test, "--max-n", strconv.Itoa(maxN)}
}

// parseVerdict reads potcmp's JSON; exit statuses 0, 1 and 3 are verdicts,
// 2 is trouble.
func parseVerdict(cmd *exec.Cmd, out []byte, errs string, err error) (verdict, error) {
	var ee *exec.ExitError
	if err != nil && (!errors.As(err, &ee) || ee.ExitCode() == 2) {
		return verdict{}, fmt.Errorf("%s: %v: %s", strings.Join(cmd.Args, " "), err, firstLine(errs))
	}
	var v verdict
	if err := json.Unmarshal(bytes.TrimSpace(out), &v); err != nil {
		return verdict{}, fmt.Errorf("%s: reading its JSON: %v", strings.Join(cmd.Args, " "), err)
	}
	return v, nil
}

// piped is the result of one potgen | potcmp pipeline.
type piped struct {
	verdict
	queries int           // records potgen wrote before the pipe closed, or requests the server answered
	wall    time.Duration // of the whole pipeline
}

// A fanout is one candidate stream read by several potcmp processes at
// once, as "potgen ... | tee >(potcmp A) >(potcmp B) ..." would: the stream
// comes from potgen (gen, its arguments) or, when it is the same bytes as a
// stream already made (the same model, key and parameters), from that file.
// Each potcmp reads as far as its test needs; potgen stops when the last has
// decided, so no record is generated that no comparison reads.
type fanout struct {
	gen  []string   // potgen's arguments; nil when the stream is file
	file string     // a stream already made
	ref  string     // the reference every comparison reads
	cmps [][]string // potcmp's arguments for each comparison, before REF and "-"
	prio func() float64
}

// fanned is what a fanout measured.
type fanned struct {
	verdicts []verdict     // one per comparison, in order
	records  int           // complete records potgen wrote (0 for a file)
	genCPU   time.Duration // potgen's user and system time
	wall     time.Duration // of the whole pipeline, to the last verdict
}

// hold takes one of the worker slots and returns its release.
func (t *tools) hold() func() { return t.holdAt(nil) }

// holdAt takes a worker slot at a priority (nil for 0).
func (t *tools) holdAt(prio func() float64) func() {
	t.slots.acquire(prio)
	return t.slots.release
}

// fanOut runs f holding one worker slot, taken at f's priority.
func (t *tools) fanOut(ctx context.Context, f fanout) (fanned, error) {
	defer t.holdAt(f.prio)()
	return t.fanOutHeld(ctx, f)
}

// fanOutHeld runs f; the caller holds a worker slot. A potgen that fails
// (a model it cannot open) is a *toolError saying what potgen said.
func (t *tools) fanOutHeld(ctx context.Context, f fanout) (fanned, error) {
	start := time.Now()
	cs, err := t.startComparers(ctx, f)
	if err != nil {
		return fanned{}, err
	}
	cand, err := t.openCandidate(ctx, f)
	if err != nil {
		cs.abandon()
		return fanned{}, err
	}
	var seen *bytes.Buffer // potgen's stream as the potcmps read it, to count its records
	if cand.gen != nil {
		seen = &bytes.Buffer{}
	}
	tee(cand.src, cs.ins, seen)
	res, err := t.collect(cs, cand)
	if err != nil {
		return fanned{}, err
	}
	if seen != nil {
		res.records = countRecords(seen.Bytes())
	}
	res.wall = time.Since(start)
	return res, nil
}

// comparers are a fanout's potcmp processes, each reading the candidate on
// its stdin and writing its verdict to a buffer.
type comparers struct {
	cmds       []*exec.Cmd
	ins        []io.WriteCloser
	outs, errs []*bytes.Buffer
}

// startComparers starts one potcmp per comparison of f, all before the
// candidate's first byte, so that each reads the stream from its start. When
// one cannot start, those already started are stopped.
func (t *tools) startComparers(ctx context.Context, f fanout) (*comparers, error) {
	cs := &comparers{}
	for _, args := range f.cmps {
		cmd := exec.CommandContext(ctx, t.path("potcmp"), append(append([]string(nil), args...), f.ref, "-")...)
		out, errb := &bytes.Buffer{}, &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = out, errb
		in, err := cmd.StdinPipe()
		if err != nil {
			cs.abandon()
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			cs.abandon()
			return nil, err
		}
		cs.cmds, cs.ins = append(cs.cmds, cmd), append(cs.ins, in)
		cs.outs, cs.errs = append(cs.outs, out), append(cs.errs, errb)
	}
	return cs, nil
}

// abandon ends the potcmps started when the fanout cannot go on: a closed
// stdin is a cut stream, which each reports and exits on.
func (cs *comparers) abandon() {
	for i, cmd := range cs.cmds {
		cs.ins[i].Close()
		cmd.Wait()
	}
}

// candidate is where a fanout's stream comes from: potgen's stdout, or the
// file of a stream already made.
type candidate struct {
	src    io.ReadCloser
	gen    *exec.Cmd    // nil when src is a file
	genErr bytes.Buffer // what potgen said on stderr
}

// openCandidate starts potgen on f.gen, or opens f.file when f has no
// potgen to run.
func (t *tools) openCandidate(ctx context.Context, f fanout) (*candidate, error) {
	cand := &candidate{}
	if f.gen == nil {
		file, err := os.Open(f.file)
		if err != nil {
			return nil, err
		}
		cand.src = file
		return cand, nil
	}
	cand.gen = exec.CommandContext(ctx, t.path("potgen"), f.gen...)
	cand.gen.Stderr = &cand.genErr
	out, err := cand.gen.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cand.gen.Start(); err != nil {
		return nil, err
	}
	cand.src = out
	return cand, nil
}

// tee copies src to every potcmp still reading, and to seen when it is not
// nil, until src ends or every potcmp has gone: a write that fails is a
// potcmp that has decided and exited, so the stream need go no further than
// the slowest test reads.
func tee(src io.Reader, ins []io.WriteCloser, seen *bytes.Buffer) {
	live := make([]bool, len(ins))
	for i := range live {
		live[i] = true
	}
	nlive := len(ins)
	buf := make([]byte, 32<<10)
	for nlive > 0 {
		n, rerr := src.Read(buf)
		if n > 0 {
			if seen != nil {
				seen.Write(buf[:n])
			}
			for i, in := range ins {
				if live[i] {
					if _, werr := in.Write(buf[:n]); werr != nil {
						live[i] = false
						nlive--
					}
				}
			}
		}
		if rerr != nil {
			break
		}
	}
}

// collect closes the fanout's pipes and waits for its processes, accounting
// their CPU time, and reads each potcmp's verdict. potgen's failure is
// reported before any potcmp's, since a potcmp that read a stream potgen cut
// short fails because of it; a potcmp's failure carries potgen's first line.
func (t *tools) collect(cs *comparers, cand *candidate) (fanned, error) {
	cand.src.Close() // potgen's next write fails: it stops asking its model, as in a shell pipe
	for _, in := range cs.ins {
		in.Close()
	}
	res := fanned{}
	var genErr error
	if cand.gen != nil {
		// potgen exits 0 on a closed pipe; any other end is its failure.
		genErr = cand.gen.Wait()
		res.genCPU = cpuOf(cand.gen)
		t.account(res.genCPU)
	}
	var firstErr error
	for i, cmd := range cs.cmds {
		cerr := cmd.Wait()
		t.account(cpuOf(cmd))
		v, err := parseVerdict(cmd, cs.outs[i].Bytes(), cs.errs[i].String(), cerr)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%w (potgen: %s)", err, firstLine(cand.genErr.String()))
		}
		res.verdicts = append(res.verdicts, v)
	}
	if genErr != nil {
		return fanned{}, &toolError{args: cand.gen.Args, err: genErr, stderr: firstLine(cand.genErr.String())}
	}
	if firstErr != nil {
		return fanned{}, firstErr
	}
	return res, nil
}

// pipeline runs potgen (gen) into one potcmp (cmpArgs, with REF and "-");
// the caller holds a worker slot.
func (t *tools) pipeline(ctx context.Context, gen, cmpArgs []string, ref string) (piped, error) {
	f, err := t.fanOutHeld(ctx, fanout{gen: gen, ref: ref, cmps: [][]string{cmpArgs}})
	if err != nil {
		return piped{}, err
	}
	return piped{verdict: f.verdicts[0], queries: f.records, wall: f.wall}, nil
}

// cpuOf is the user and system time of a process that has ended.
func cpuOf(cmd *exec.Cmd) time.Duration {
	if cmd.ProcessState == nil {
		return 0
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// account adds a finished process's CPU time to the run's total.
func (t *tools) account(d time.Duration) {
	t.mu.Lock()
	t.cpu += d
	t.mu.Unlock()
}

// cpuTotal is the CPU time of every pot process the run has waited for.
func (t *tools) cpuTotal() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cpu
}

// countRecords counts the complete records in a stream that may be cut.
func countRecords(b []byte) int {
	r, err := format.NewReader(bytes.NewReader(b))
	if err != nil {
		return 0
	}
	defer r.Close()
	n := 0
	for {
		if _, err := r.Read(); err != nil {
			return n
		}
		n++
	}
}

// server is a potserve process serving one local model.
type server struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
	count string
}

func (t *tools) serve(ctx context.Context, spec, countFile string) (*server, error) {
	cmd := exec.CommandContext(ctx, t.path("potserve"), "-count", countFile, spec)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = t.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stdin.Close()
		cmd.Wait()
		return nil, fmt.Errorf("potserve %s: no address: %v", spec, err)
	}
	return &server{cmd: cmd, stdin: stdin, url: strings.TrimSpace(line), count: countFile}, nil
}

// stop ends the server and returns the generation requests it answered.
func (t *tools) stop(s *server) (int, error) {
	s.stdin.Close()
	err := s.cmd.Wait()
	t.account(cpuOf(s.cmd))
	if err != nil {
		return 0, fmt.Errorf("potserve: %v", err)
	}
	b, err := os.ReadFile(s.count)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func fmtF(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
