// Package command is potgen's exec: backend: it runs a shell command per
// query, with the prompt on standard input and the sampling parameters in
// the environment, and reads the completion from standard output as plain
// text or as one JSON object with tokens and log-probabilities. Any tool
// that can print a completion becomes a model to audit.
package command

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/retry"
)

// Defaults for zero Options.
const (
	DefaultTimeout = 60 * time.Second
	DefaultRetries = 5
)

// MaxOutput bounds what is read from a command's standard output.
const MaxOutput = 16 << 20

// ErrSpec is a model spec the backend cannot use.
var ErrSpec = errors.New("command: bad model spec")

// ErrOutput is standard output that is not a completion: too large, or
// JSON that does not hold together.
var ErrOutput = errors.New("command: bad output")

type runner struct {
	cmd     string
	timeout time.Duration
	policy  retry.Policy
	environ []string
	secrets []string       // credentials the children do not get, kept out of records too
	pieces  *format.Pieces // the bytes the command gave its token ids, for all records
}

// DefaultAPIKeyEnv is the variable a remote backend takes its API key from
// when it is not told another; the exec backend keeps it from its children.
const DefaultAPIKeyEnv = "OPENAI_API_KEY"

// Open returns a model that runs spec.Arg through /bin/sh -c for every
// query. The command reads the prompt on standard input and finds
// POT_SEED, POT_TEMPERATURE, POT_TOP_P, POT_TOP_K, POT_MAX_TOKENS and
// POT_LOGPROBS in its environment. A zero o.Timeout is DefaultTimeout, a zero
// o.Retries DefaultRetries and a negative one no retries; a command that
// exits non-zero or times out is retried, except for exit status 126 and
// 127 (the shell could not run it).
//
// The command gets potgen's environment without the credentials potgen
// knows of: OPENAI_API_KEY and the variable o.APIKeyEnv names. A model run
// for an audit has no business with the auditor's keys, and a command that
// printed its environment would write them into the stream. Their values,
// and the content of o.APIKeyFile, are also removed from everything the
// command hands back, should it find them elsewhere.
func Open(spec model.Spec, o model.Options) (model.Model, error) {
	if strings.TrimSpace(spec.Arg) == "" {
		return nil, fmt.Errorf("%w: empty command", ErrSpec)
	}
	if len(spec.Params) > 0 {
		return nil, fmt.Errorf("%w: exec takes no options", ErrSpec)
	}
	r := &runner{cmd: spec.Arg, timeout: o.Timeout, pieces: format.NewPieces()}
	r.environ, r.secrets = scrub(os.Environ(), o)
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	retries := o.Retries
	if retries == 0 {
		retries = DefaultRetries
	} else if retries < 0 {
		retries = 0
	}
	r.policy = retry.Policy{Retries: retries, Limit: retry.NewLimiter(o.RateLimit), Report: retry.NewReporter(o.Logf, 0)}
	return r, nil
}

// scrub returns environ without the credential variables of o, and the
// secrets to keep out of records: their values, and the key file's content.
func scrub(environ []string, o model.Options) (kept, secrets []string) {
	names := []string{DefaultAPIKeyEnv}
	if o.APIKeyEnv != "" {
		names = append(names, o.APIKeyEnv)
	}
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if slices.Contains(names, name) {
			if v := strings.TrimSpace(value); v != "" {
				secrets = append(secrets, v)
			}
			continue
		}
		kept = append(kept, kv)
	}
	if o.APIKeyFile != "" {
		if b, err := os.ReadFile(o.APIKeyFile); err == nil {
			if v := strings.TrimSpace(string(b)); v != "" {
				secrets = append(secrets, v)
			}
			clear(b)
		}
	}
	return kept, secrets
}

// redact removes the secrets from s.
func (r *runner) redact(s string) string {
	for _, k := range r.secrets {
		s = strings.ReplaceAll(s, k, "[redacted]")
	}
	return s
}

// Info names the backend and the command, without a credential typed into
// it.
func (r *runner) Info() format.Model {
	return format.Model{Backend: "exec", Name: r.redact(r.cmd)}
}

// Close reports the retries not reported yet; there is nothing to release,
// since each query's process ends with it.
func (r *runner) Close() error {
	r.policy.Report.Flush()
	return nil
}

// Generate runs the command (and its retries) for q and fills rec.
func (r *runner) Generate(ctx context.Context, q model.Query, rec *format.Record) error {
	var out format.Record
	n, err := r.policy.Do(ctx, "exec: "+r.cmd, func(ctx context.Context) error {
		stdout, err := r.run(ctx, q)
		if err != nil {
			return err
		}
		out = format.Record{}
		if err := parse(stdout, q.Sampling.Logprobs, &out); err != nil {
			return retry.Temporary(err, 0)
		}
		if err := model.MergePieces(r.pieces, out.Pieces, nil, r.redact); err != nil {
			return retry.Temporary(fmt.Errorf("%w: %w", ErrOutput, err), 0)
		}
		return nil
	})
	rec.Attempts = n
	if err != nil {
		if msg := err.Error(); r.redact(msg) != msg {
			return &redacted{msg: r.redact(msg), err: err}
		}
		return err
	}
	rec.Tokens, rec.Logprobs = out.Tokens, out.Logprobs
	rec.TopK, rec.TopTokens, rec.TopLogprobs = out.TopK, out.TopTokens, out.TopLogprobs
	rec.Text, rec.Finish = r.redact(out.Text), r.redact(out.Finish)
	rec.TokenBytes, rec.TopBytes = out.TokenBytes, out.TopBytes
	for _, bs := range [2][]string{rec.TokenBytes, rec.TopBytes} {
		for i, b := range bs {
			bs[i] = r.redact(b)
		}
	}
	if out.Pieces != nil {
		rec.Pieces = r.pieces
	}
	return nil
}

// redacted is an error whose message held a secret.
type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// run executes the command once with the timeout and returns its standard
// output.
func (r *runner) run(ctx context.Context, q model.Query) ([]byte, error) {
	actx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	cmd := exec.CommandContext(actx, "/bin/sh", "-c", r.cmd)
	s := q.Sampling
	cmd.Env = append(r.environ[:len(r.environ):len(r.environ)],
		"POT_SEED="+strconv.FormatUint(q.Seed, 10),
		"POT_TEMPERATURE="+strconv.FormatFloat(s.Temperature, 'g', -1, 64),
		"POT_TOP_P="+strconv.FormatFloat(s.TopP, 'g', -1, 64),
		"POT_TOP_K="+strconv.Itoa(s.TopK),
		"POT_MAX_TOKENS="+strconv.Itoa(s.MaxTokens),
		"POT_LOGPROBS="+strconv.Itoa(s.Logprobs),
	)
	cmd.Stdin = strings.NewReader(q.Prompt)
	stdout := &capped{max: MaxOutput}
	stderr := &tail{max: 4096}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	killGroup(cmd)
	// A grandchild that keeps the pipes open must not hold Wait forever.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case actx.Err() != nil:
		return nil, retry.Temporary(&retry.TimeoutError{After: r.timeout}, 0)
	case err != nil:
		var ee *exec.ExitError
		msg := err.Error()
		if line := stderr.lastLine(); line != "" {
			msg += ": " + line
		}
		if errors.As(err, &ee) && (ee.ExitCode() == 126 || ee.ExitCode() == 127) {
			return nil, errors.New(msg)
		}
		return nil, retry.Temporary(errors.New(msg), 0)
	case stdout.over:
		return nil, fmt.Errorf("%w: standard output larger than %d bytes", ErrOutput, MaxOutput)
	}
	return stdout.buf, nil
}

// capped keeps the first max bytes written and drops the rest, still
// accepting them so that the command is not blocked on a full pipe. (It
// has no ReadFrom, which would let io.Copy go around the bound.)
type capped struct {
	buf  []byte
	max  int
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	room := c.max - len(c.buf)
	if len(p) > room {
		c.over = true
		c.buf = append(c.buf, p[:max(room, 0)]...)
		return len(p), nil
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}

// tail keeps the last max bytes written.
type tail struct {
	buf []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

// lastLine is the last non-empty line, shortened for an error message.
func (t *tail) lastLine() string {
	lines := strings.Split(strings.TrimSpace(string(t.buf)), "\n")
	s := strings.TrimSpace(lines[len(lines)-1])
	if len(s) > 200 {
		n := 200
		for n > 0 && s[n]&0xC0 == 0x80 {
			n--
		}
		s = s[:n] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

// output is the JSON form of a command's answer.
type output struct {
	Text        string      `json:"text"`
	Tokens      []int64     `json:"tokens"`
	Logprobs    []float64   `json:"logprobs"`
	TopTokens   [][]int64   `json:"top_tokens"`
	TopLogprobs [][]float64 `json:"top_logprobs"`
	Finish      string      `json:"finish"`
	// Pieces and TopPieces are the tokens' bytes, parallel to tokens and
	// top_tokens, or alone for a command that names tokens without ids;
	// "bytes:\xe2\x80" stands for bytes that are not UTF-8 on their own.
	Pieces    []string   `json:"pieces"`
	TopPieces [][]string `json:"top_pieces"`
}

// parse reads stdout: one JSON object when its first non-space byte is '{',
// else the completion text verbatim. k alternatives per position are kept.
func parse(stdout []byte, k int, rec *format.Record) error {
	trimmed := bytes.TrimLeft(stdout, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		rec.Text = string(stdout)
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var o output
	if err := dec.Decode(&o); err != nil {
		return fmt.Errorf("%w: %w", ErrOutput, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the JSON object", ErrOutput)
	}
	n, err := o.positions()
	if err != nil {
		return err
	}
	if err := o.chosen(rec, n); err != nil {
		return err
	}
	return o.alternatives(rec, n, k)
}

// positions checks that the object's per-position arrays agree in length,
// and returns how many positions it gives.
func (o *output) positions() (int, error) {
	n := max(len(o.Tokens), len(o.Logprobs))
	if len(o.Tokens) > 0 && len(o.Logprobs) > 0 && len(o.Tokens) != len(o.Logprobs) {
		return 0, fmt.Errorf("%w: %d tokens but %d logprobs", ErrOutput, len(o.Tokens), len(o.Logprobs))
	}
	if n == 0 {
		n = len(o.Pieces) // a command may name its tokens by their bytes alone
	}
	if len(o.TopLogprobs) > n || len(o.TopTokens) > n {
		return 0, fmt.Errorf("%w: top alternatives for %d positions, %d generated", ErrOutput, max(len(o.TopLogprobs), len(o.TopTokens)), n)
	}
	if len(o.TopTokens) > 0 && len(o.TopTokens) != len(o.TopLogprobs) {
		return 0, fmt.Errorf("%w: top_tokens and top_logprobs differ in length", ErrOutput)
	}
	for i := range o.TopTokens {
		if len(o.TopTokens[i]) != len(o.TopLogprobs[i]) {
			return 0, fmt.Errorf("%w: position %d: top_tokens and top_logprobs differ in length", ErrOutput, i)
		}
	}
	if len(o.Pieces) > 0 && len(o.Pieces) != n {
		return 0, fmt.Errorf("%w: %d pieces for %d positions", ErrOutput, len(o.Pieces), n)
	}
	if len(o.TopPieces) > 0 && len(o.TopPieces) != len(o.TopLogprobs) {
		return 0, fmt.Errorf("%w: top_pieces and top_logprobs differ in length", ErrOutput)
	}
	for i := range o.TopPieces {
		if len(o.TopPieces[i]) != len(o.TopLogprobs[i]) {
			return 0, fmt.Errorf("%w: position %d: top_pieces and top_logprobs differ in length", ErrOutput, i)
		}
	}
	return n, nil
}

// chosen fills rec's text, chosen tokens, their bytes and log-probabilities.
func (o *output) chosen(rec *format.Record, n int) error {
	rec.Text, rec.Finish = o.Text, o.Finish
	var err error
	if rec.Tokens, err = ids(o.Tokens); err != nil {
		return err
	}
	switch {
	case len(o.Pieces) == 0:
	case rec.Tokens != nil:
		rec.Pieces = format.NewPieces()
		for i, p := range o.Pieces {
			if err := model.AddPiece(rec.Pieces, rec.Tokens[i], model.TokenString(p)); err != nil {
				return fmt.Errorf("%w: position %d: %w", ErrOutput, i, err)
			}
		}
	default:
		rec.TokenBytes = make([]string, n)
		for i, p := range o.Pieces {
			rec.TokenBytes[i] = model.TokenString(p)
		}
	}
	if len(o.Logprobs) > 0 {
		rec.Logprobs = make([]float32, len(o.Logprobs))
		for i, v := range o.Logprobs {
			rec.Logprobs[i] = float32(v)
		}
	}
	return nil
}

// alternatives fills rec's top-k alternatives, padding each position to k
// with -Inf and id -1 where the command gave fewer.
func (o *output) alternatives(rec *format.Record, n, k int) error {
	if k <= 0 || len(o.TopLogprobs) == 0 {
		return nil
	}
	rec.TopK = k
	rec.TopLogprobs = make([]float32, n*k)
	if len(o.TopTokens) > 0 {
		rec.TopTokens = make([]int32, n*k)
	}
	if len(o.TopPieces) > 0 {
		if rec.TopTokens != nil && rec.Pieces == nil {
			rec.Pieces = format.NewPieces()
		} else if rec.TopTokens == nil {
			rec.TopBytes = make([]string, n*k)
		}
	}
	for i := range n {
		for j := range k {
			lp, id := float32(math.Inf(-1)), int32(-1)
			if i < len(o.TopLogprobs) && j < len(o.TopLogprobs[i]) {
				lp = float32(o.TopLogprobs[i][j])
				if rec.TopTokens != nil {
					v := o.TopTokens[i][j]
					if v < 0 || v > math.MaxInt32 {
						return fmt.Errorf("%w: position %d: token id %d out of range", ErrOutput, i, v)
					}
					id = int32(v)
				}
				if i < len(o.TopPieces) {
					if rec.TopTokens != nil {
						if err := model.AddPiece(rec.Pieces, id, model.TokenString(o.TopPieces[i][j])); err != nil {
							return fmt.Errorf("%w: position %d alternative %d: %w", ErrOutput, i, j, err)
						}
					} else {
						rec.TopBytes[i*k+j] = model.TokenString(o.TopPieces[i][j])
					}
				}
			}
			rec.TopLogprobs[i*k+j] = lp
			if rec.TopTokens != nil {
				rec.TopTokens[i*k+j] = id
			}
		}
	}
	return nil
}

func ids(vs []int64) ([]int32, error) {
	if len(vs) == 0 {
		return nil, nil
	}
	out := make([]int32, len(vs))
	for i, v := range vs {
		if v < 0 || v > math.MaxInt32 {
			return nil, fmt.Errorf("%w: position %d: token id %d out of range", ErrOutput, i, v)
		}
		out[i] = int32(v)
	}
	return out, nil
}
