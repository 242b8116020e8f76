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
	slots  chan struct{} // potgen processes at once
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

// generate writes n outputs of spec under key to out and returns potgen's
// wall time. It holds one of the worker slots while it runs.
func (t *tools) generate(ctx context.Context, spec, key string, n, tokens int, out string) (time.Duration, error) {
	t.slots <- struct{}{}
	defer func() { <-t.slots }()
	start := time.Now()
	cmd := exec.CommandContext(ctx, t.path("potgen"), "--model", spec, "--key", key, "-n", strconv.Itoa(n),
		"--max-tokens", strconv.Itoa(tokens), "--logprobs", "5", "-j", "1", "--threads", "1", "-o", out)
	err := t.quiet(ctx, cmd)
	return time.Since(start), err
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

// pipeline runs potgen (genArgs) into potcmp (cmpArgs, with REF and "-")
// the way a shell pipe does: when potcmp has decided and exits, potgen's
// next write fails and it stops asking its model. It counts the records
// potgen wrote by decoding a copy of the stream.
func (t *tools) pipeline(ctx context.Context, genArgs, cmpArgs []string, ref string) (piped, error) {
	t.slots <- struct{}{}
	defer func() { <-t.slots }()
	start := time.Now()
	gen := exec.CommandContext(ctx, t.path("potgen"), genArgs...)
	cmp := exec.CommandContext(ctx, t.path("potcmp"), append(cmpArgs, ref, "-")...)
	var genErr, cmpErr, cmpOut bytes.Buffer
	gen.Stderr, cmp.Stderr, cmp.Stdout = &genErr, &cmpErr, &cmpOut
	genOut, err := gen.StdoutPipe()
	if err != nil {
		return piped{}, err
	}
	cmpIn, err := cmp.StdinPipe()
	if err != nil {
		return piped{}, err
	}
	if err := cmp.Start(); err != nil {
		return piped{}, err
	}
	if err := gen.Start(); err != nil {
		cmpIn.Close()
		cmp.Wait()
		return piped{}, err
	}
	var copyBuf bytes.Buffer
	buf := make([]byte, 32<<10)
	for {
		n, rerr := genOut.Read(buf)
		if n > 0 {
			copyBuf.Write(buf[:n])
			if _, werr := cmpIn.Write(buf[:n]); werr != nil {
				break // potcmp has decided: close potgen's pipe as a shell would
			}
		}
		if rerr != nil {
			break
		}
	}
	genOut.Close()
	cmpIn.Close()
	gen.Wait() // potgen exits 0 on a closed pipe; its own failures show in potcmp's verdict
	cerr := cmp.Wait()
	v, err := parseVerdict(cmp, cmpOut.Bytes(), cmpErr.String(), cerr)
	if err != nil {
		return piped{}, fmt.Errorf("%w (potgen: %s)", err, firstLine(genErr.String()))
	}
	return piped{verdict: v, queries: countRecords(copyBuf.Bytes()), wall: time.Since(start)}, nil
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
func (s *server) stop() (int, error) {
	s.stdin.Close()
	if err := s.cmd.Wait(); err != nil {
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
