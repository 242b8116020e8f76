// Package model defines what potgen asks of a model: one seeded sample for a
// prompt, with its tokens and log-probabilities. Backends live in the
// packages below it (local, openai, command); this package holds only the
// interface, the query and the parsing of model specs.
package model

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pot-audit/pot/format"
)

// Model answers queries. Implementations are safe for concurrent use by
// several goroutines (potgen -j), sharing weights or connections.
type Model interface {
	// Info identifies the model for a stream header.
	Info() format.Model
	// Generate produces one sample for q and fills in rec's output fields:
	// Tokens, Logprobs, TopK, TopTokens, TopLogprobs, Text, Finish and
	// Attempts. It leaves the challenge fields (Index, ID, Sample, Seed,
	// Prompt) and Latency to the caller. An error means the query failed
	// after the backend's own retries.
	Generate(ctx context.Context, q Query, rec *format.Record) error
	// Close releases what the model holds.
	Close() error
}

// Query is one request for one sample.
type Query struct {
	Prompt   string
	Seed     uint64 // this sample's seed
	Sampling format.Sampling
}

// Options carry what a backend may need beyond its spec.
type Options struct {
	Threads    int           // compute threads for a local engine (0: all cores)
	Jobs       int           // queries potgen keeps in flight
	Timeout    time.Duration // per request, for remote backends
	Retries    int           // retries after a failed request
	RateLimit  float64       // requests per second, 0 for none
	APIKeyEnv  string        // environment variable holding an API key
	APIKeyFile string        // file holding an API key
	Getenv     func(string) string
	// Logf reports diagnostics (retries, server facts) to the user; it may be nil.
	Logf func(format string, args ...any)
}

// Spec is a parsed model spec: BACKEND:ARG[,key=value]...
type Spec struct {
	Backend string
	Arg     string            // path, URL, seed or command
	Params  map[string]string // the key=value options after the argument
	Raw     string
}

// ParseSpec splits a model spec. For exec: the whole rest is the command, so
// commands may contain commas; for the others, ",key=value" options follow
// the argument.
func ParseSpec(s string) (Spec, error) {
	backend, rest, ok := strings.Cut(s, ":")
	if !ok || backend == "" || rest == "" {
		return Spec{}, fmt.Errorf("model spec %q: want BACKEND:ARG (synth:SEED, llama2c:PATH, gguf:PATH, openai:URL, exec:COMMAND)", Redact(s))
	}
	sp := Spec{Backend: backend, Raw: s, Params: map[string]string{}}
	if backend == "exec" {
		sp.Arg = rest
		return sp, nil
	}
	parts := strings.Split(rest, ",")
	sp.Arg = parts[0]
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return Spec{}, fmt.Errorf("model spec %q: option %q is not key=value", Redact(s), Redact(p))
		}
		if _, dup := sp.Params[k]; dup {
			return Spec{}, fmt.Errorf("model spec %q: option %q given twice", Redact(s), k)
		}
		sp.Params[k] = v
	}
	if sp.Arg == "" {
		return Spec{}, fmt.Errorf("model spec %q: empty argument", Redact(s))
	}
	return sp, nil
}

// Check returns an error naming the first option in sp that is not in allowed.
func (sp Spec) Check(allowed ...string) error {
	for k := range sp.Params {
		found := false
		for _, a := range allowed {
			if k == a {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("model spec %q: unknown option %q for %s (allowed: %s)", Redact(sp.Raw), k, sp.Backend, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// Redact masks the password of any URL in s (scheme://user:password@host),
// so that a spec can be quoted in a message.
func Redact(s string) string {
	out := s
	for i := 0; ; {
		j := strings.Index(out[i:], "://")
		if j < 0 {
			return out
		}
		start := i + j + 3
		end := start
		for end < len(out) && !strings.ContainsRune("/?#,", rune(out[end])) {
			end++
		}
		auth := out[start:end]
		if at := strings.LastIndex(auth, "@"); at >= 0 {
			if colon := strings.Index(auth[:at], ":"); colon >= 0 {
				auth = auth[:colon] + ":xxxxx" + auth[at:]
				out = out[:start] + auth + out[end:]
				end = start + len(auth)
			}
		}
		i = end
	}
}
