// Package openai is potgen's backend for model servers that speak the
// OpenAI-compatible HTTP API: llama.cpp's llama-server, vLLM, Ollama, TGI and
// OpenAI itself. It sends seeded sampling requests to the completions, chat or
// llama-server's native endpoint and reads token ids and log-probabilities
// from every response shape those servers use.
package openai

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/retry"
)

// The APIs a model spec may choose with api=.
const (
	APICompletions = "completions" // POST /v1/completions (the default)
	APIChat        = "chat"        // POST /v1/chat/completions, the prompt as one user message
	APINative      = "native"      // POST /completion, llama-server's own endpoint
)

// Defaults for zero Options.
const (
	DefaultTimeout   = 60 * time.Second
	DefaultRetries   = 5
	DefaultAPIKeyEnv = "OPENAI_API_KEY"
)

// MaxResponse bounds the body read from a server; a completion with twenty
// alternatives per token stays far below it.
const MaxResponse = 64 << 20

// SeedBits is how many low bits of a query's seed are sent. llama-server
// reads seeds as 32-bit and takes 0xFFFFFFFF for "random"; other servers
// parse JSON numbers as int32, int64 or float64. 31 bits mean the same seed
// everywhere.
const SeedBits = 31

// ErrSpec is a model spec or option the backend cannot use.
var ErrSpec = errors.New("openai: bad model spec")

type client struct {
	endpoint string // URL of the generation endpoint
	shown    string // endpoint with any password removed, for messages
	base     string // scheme://host[/prefix] without /v1
	api      string
	model    string // name sent in requests; may be empty
	llama    bool   // send llama.cpp's extra fields (cache_prompt)
	key      string
	timeout  time.Duration
	policy   retry.Policy
	tr       *http.Transport
	http     *http.Client
	logf     func(format string, args ...any)
	info     format.Model // fixed at Open; Fingerprint is filled from responses

	mu          sync.Mutex
	fingerprint string

	// pieces holds the bytes of every token id the server's answers have
	// named, for all records: an id that changes its bytes from one answer
	// to the next fails the answer.
	pieces *format.Pieces
}

// Open connects to the server at spec.Arg, an API base such as
// http://127.0.0.1:8080/v1 (with or without /v1 and a trailing slash).
// Options in the spec: model=NAME (required when the server lists several
// models), api=completions|chat|native, compat=llama|openai (openai leaves out
// llama.cpp's cache_prompt, which OpenAI's API refuses).
//
// Open asks GET /v1/models and GET /props once for the server's description,
// tolerating servers that have neither, and never queries the model. A zero
// o.Timeout is DefaultTimeout, a zero o.Retries DefaultRetries and a negative
// one no retries. The API key comes from the file o.APIKeyFile or from the
// environment variable o.APIKeyEnv (DefaultAPIKeyEnv when empty, where it is
// optional), read through o.Getenv.
func Open(spec model.Spec, o model.Options) (model.Model, error) {
	c, err := open(spec, o)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func open(spec model.Spec, o model.Options) (*client, error) {
	if err := spec.Check("model", "api", "compat"); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSpec, err)
	}
	u, err := baseURL(spec.Arg)
	if err != nil {
		return nil, err
	}
	c := &client{
		base:    u.String(),
		api:     APICompletions,
		model:   spec.Params["model"],
		llama:   true,
		timeout: o.Timeout,
		pieces:  format.NewPieces(),
	}
	if a, ok := spec.Params["api"]; ok {
		switch a {
		case APICompletions, APIChat, APINative:
			c.api = a
		default:
			return nil, fmt.Errorf("%w: api=%q: want completions, chat or native", ErrSpec, a)
		}
	}
	switch spec.Params["compat"] {
	case "", "llama":
	case "openai":
		c.llama = false
	default:
		return nil, fmt.Errorf("%w: compat=%q: want llama or openai", ErrSpec, spec.Params["compat"])
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	retries := o.Retries
	if retries == 0 {
		retries = DefaultRetries
	} else if retries < 0 {
		retries = 0
	}
	if c.key, err = apiKey(o); err != nil {
		return nil, err
	}
	c.logf = func(f string, args ...any) {
		if o.Logf != nil {
			o.Logf("%s", c.redact(fmt.Sprintf(f, args...)))
		}
	}
	c.policy = retry.Policy{Retries: retries, Limit: retry.NewLimiter(o.RateLimit), Report: retry.NewReporter(c.logf, 0)}

	path := map[string]string{APICompletions: "/v1/completions", APIChat: "/v1/chat/completions", APINative: "/completion"}[c.api]
	ep := *u
	ep.Path += path
	c.endpoint = ep.String()
	c.shown = ep.Redacted()

	tr := http.DefaultTransport.(*http.Transport).Clone()
	// One idle connection per job in flight, so that -j N keeps N
	// connections alive instead of dialling anew for every query.
	jobs := max(o.Jobs, 1)
	tr.MaxIdleConnsPerHost = jobs + 1
	tr.MaxIdleConns = max(tr.MaxIdleConns, jobs+1)
	c.tr = tr
	c.http = &http.Client{Transport: tr}

	c.info = format.Model{Backend: "openai", Name: c.model, Meta: map[string]string{
		"api":       c.api,
		"url":       u.Redacted(),
		"seed_bits": fmt.Sprint(SeedBits),
	}}
	if err := c.describe(); err != nil {
		tr.CloseIdleConnections()
		return nil, err
	}
	c.redactInfo()
	return c, nil
}

// redactInfo removes the API key from what the server said of itself, which
// goes into the stream header: a server that echoes the key in its model
// name or build must not get it written. The name sent in requests stays
// as the server gave it, or the server would not know it.
func (c *client) redactInfo() {
	c.info.Name = c.redact(c.info.Name)
	c.info.Build = c.redact(c.info.Build)
	meta := make(map[string]string, len(c.info.Meta))
	for k, v := range c.info.Meta {
		meta[c.redact(k)] = c.redact(v)
	}
	c.info.Meta = meta
}

// baseURL checks raw and returns it without a trailing slash or /v1.
func baseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL itself may hold a password
		}
		return nil, fmt.Errorf("%w: URL: %w", ErrSpec, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%w: URL %s: want http://HOST[:PORT][/v1] or https://...", ErrSpec, u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: URL %s: no query or fragment allowed", ErrSpec, u.Redacted())
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.Path = strings.TrimSuffix(u.Path, "/v1")
	u.RawPath = ""
	return u, nil
}

// readSecret reads a file that holds a credential, refusing one that its
// group or others may read, as ssh does a private key: a key left
// readable has to be taken as known to others, and the user would rather
// hear it before the first request than after.
func readSecret(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); fi.Mode().IsRegular() && perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("file %s: permissions %04o are too open: an API key file must be readable by its owner only (chmod 600 %s)", name, perm, name)
	}
	return io.ReadAll(f)
}

// apiKey reads the key from the file or environment variable o names.
func apiKey(o model.Options) (string, error) {
	var key string
	switch {
	case o.APIKeyFile != "" && o.APIKeyEnv != "":
		return "", fmt.Errorf("%w: give an API key file or an environment variable, not both", ErrSpec)
	case o.APIKeyFile != "":
		b, err := readSecret(o.APIKeyFile)
		if err != nil {
			return "", fmt.Errorf("openai: API key: %w", err)
		}
		key = strings.TrimSpace(string(b))
		if key == "" {
			return "", fmt.Errorf("openai: API key file %s is empty", o.APIKeyFile)
		}
	default:
		getenv := o.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		name := o.APIKeyEnv
		if name == "" {
			name = DefaultAPIKeyEnv
		}
		key = strings.TrimSpace(getenv(name))
		if key == "" && o.APIKeyEnv != "" {
			return "", fmt.Errorf("openai: API key: environment variable %s is empty or unset", name)
		}
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("openai: API key holds control characters")
		}
	}
	return key, nil
}

// redact removes the API key from s. Servers echo keys in error messages;
// whatever reaches an error or a log line passes through here.
func (c *client) redact(s string) string {
	if c.key == "" {
		return s
	}
	return strings.ReplaceAll(s, c.key, "[redacted]")
}

// Info returns the model's identity; the fingerprint is the first
// system_fingerprint a response carried, empty before any.
func (c *client) Info() format.Model {
	m := c.info
	m.Meta = make(map[string]string, len(c.info.Meta))
	for k, v := range c.info.Meta {
		m.Meta[k] = v
	}
	c.mu.Lock()
	m.Fingerprint = c.fingerprint
	c.mu.Unlock()
	return m
}

// Close reports the retries not reported yet and drops idle connections.
func (c *client) Close() error {
	c.policy.Report.Flush()
	c.tr.CloseIdleConnections()
	return nil
}

// Generate sends one request (and its retries) and fills rec's outputs.
func (c *client) Generate(ctx context.Context, q model.Query, rec *format.Record) error {
	body, err := json.Marshal(c.request(q))
	if err != nil {
		return fmt.Errorf("openai: encode request: %w", err)
	}
	var out format.Record
	var fp string
	n, err := c.policy.Do(ctx, "openai: POST "+c.shown, func(ctx context.Context) error {
		data, err := c.do(ctx, http.MethodPost, c.endpoint, body)
		if err != nil {
			return err
		}
		out = format.Record{}
		if fp, err = parse(c.api, data, q.Sampling.Logprobs, &out); err != nil {
			return retry.Temporary(fmt.Errorf("malformed response: %w", err), 0)
		}
		hide := func(b string) bool { return c.key != "" && strings.Contains(b, c.key) }
		if err := model.MergePieces(c.pieces, out.Pieces, hide, c.redact); err != nil {
			return retry.Temporary(fmt.Errorf("inconsistent response: %w", err), 0)
		}
		return nil
	})
	rec.Attempts = n
	if err != nil {
		if msg := err.Error(); c.redact(msg) != msg {
			return &redacted{msg: c.redact(msg), err: err}
		}
		return err
	}
	c.noteFingerprint(c.redact(fp))
	rec.Tokens, rec.Logprobs = out.Tokens, out.Logprobs
	rec.TopK, rec.TopTokens, rec.TopLogprobs = out.TopK, out.TopTokens, out.TopLogprobs
	rec.Text, rec.Finish = c.redact(out.Text), c.redact(out.Finish)
	rec.TokenBytes, rec.TopBytes = out.TokenBytes, out.TopBytes
	if out.Pieces != nil {
		rec.Pieces = c.pieces
	}
	c.redactTokens(rec)
	return nil
}

// redactTokens removes the key from the tokens' bytes: from each one, and
// from all when the chosen tokens spell it between them (text redacted,
// tokens that would give it back). Ids whose bytes held the key were never
// kept (MergePieces).
func (c *client) redactTokens(rec *format.Record) {
	if c.key == "" {
		return
	}
	for _, bs := range [2][]string{rec.TokenBytes, rec.TopBytes} {
		for i, b := range bs {
			bs[i] = c.redact(b)
		}
	}
	var spelt strings.Builder
	for i := range rec.Positions() {
		b, _ := rec.Bytes(i)
		spelt.WriteString(b)
	}
	if strings.Contains(spelt.String(), c.key) {
		rec.Pieces, rec.TokenBytes, rec.TopBytes = nil, nil, nil
	}
}

func (c *client) noteFingerprint(fp string) {
	if fp == "" {
		return
	}
	c.mu.Lock()
	old := c.fingerprint
	if old == "" {
		c.fingerprint = fp
	}
	c.mu.Unlock()
	if old != "" && old != fp {
		// Same server, other build or configuration: worth the user's eye,
		// since records before and after may differ for that reason.
		c.logf("openai: %s: system_fingerprint changed from %q to %q", c.shown, old, fp)
	}
}

// redacted is an error whose message had the API key in it.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// StatusError is an HTTP answer other than 2xx.
type StatusError struct {
	Code    int
	Status  string // e.g. "503 Service Unavailable"
	Message string // what the server said, shortened, without the API key
}

// Error reads like "503 Service Unavailable: Loading model".
func (e *StatusError) Error() string {
	if e.Message == "" {
		return e.Status
	}
	return e.Status + ": " + e.Message
}

// do makes one HTTP request with the per-request timeout and returns the
// body of a 2xx answer. Failures worth retrying are marked retry.Temporary.
func (c *client) do(ctx context.Context, method, u string, body []byte) ([]byte, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, u, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "pot")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, actx, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return nil, c.transportError(ctx, actx, err)
	}
	if len(data) > MaxResponse {
		return nil, fmt.Errorf("response larger than %d bytes", MaxResponse)
	}
	if resp.StatusCode/100 != 2 {
		status := resp.Status
		if status == "" {
			status = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		}
		err := &StatusError{Code: resp.StatusCode, Status: status, Message: serverMessage([]byte(c.redact(string(data))))}
		switch {
		case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusRequestTimeout,
			resp.StatusCode >= 500:
			return nil, retry.Temporary(err, retry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()))
		}
		return nil, err
	}
	return data, nil
}

// transportError classifies a failure below HTTP: a timeout of this attempt,
// the caller's cancellation, a bad certificate (permanent) or a dropped or
// refused connection (temporary).
func (c *client) transportError(ctx, actx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if actx.Err() != nil {
		return retry.Temporary(&retry.TimeoutError{After: c.timeout}, 0)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is in the operation already
	}
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
	)
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) {
		return err
	}
	return retry.Temporary(err, 0)
}

// serverMessage extracts a short reason from an error body: OpenAI's and
// llama-server's {"error":{"message":...}}, {"error":"..."}, {"message":...},
// or the body's first line.
func serverMessage(data []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  string          `json:"detail"`
	}
	msg := ""
	if json.Unmarshal(data, &v) == nil {
		var obj struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(v.Error, &obj) == nil && obj.Message != "":
			msg = obj.Message
		case json.Unmarshal(v.Error, &s) == nil && s != "":
			msg = s
		case v.Message != "":
			msg = v.Message
		case v.Detail != "":
			msg = v.Detail
		}
	}
	if msg == "" {
		msg, _, _ = strings.Cut(strings.TrimSpace(string(data)), "\n")
	}
	return shorten(msg, 200)
}

// shorten cuts s to at most n bytes on a rune boundary and makes it one line.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}
