// Package retry runs the requests of potgen's remote backends (openai, exec)
// with bounded retries, exponential backoff with full jitter, waits a server
// asks for, and a request rate shared by all goroutines. The backends differ
// in how they reach a model, not in how they cope with one that fails.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults for a Policy's zero fields.
const (
	DefaultBase = 250 * time.Millisecond
	DefaultMax  = 30 * time.Second
)

// Policy says how often to try an operation and how long to wait in between.
// A Policy is a value: several goroutines may run Do on it at once, sharing
// its Limiter.
type Policy struct {
	Retries int           // retries after the first attempt; 0 for none
	Base    time.Duration // ceiling of the first backoff, doubled per retry (DefaultBase when 0)
	Max     time.Duration // cap on any one wait, backoff or server-requested (DefaultMax when 0)
	Limit   *Limiter      // shared request rate; nil for none
	// Report, when not nil, hears of the retries, condensed; it is shared
	// by every copy of the Policy.
	Report *Reporter
	// Logf, when not nil and Report is nil, hears of every retry.
	Logf func(format string, args ...any)
}

// Temporary marks err as worth another attempt. A positive after is the
// wait the server asked for (Retry-After); otherwise backoff decides.
func Temporary(err error, after time.Duration) error {
	return &temporary{err: err, after: after}
}

type temporary struct {
	err   error
	after time.Duration
}

func (t *temporary) Error() string { return t.err.Error() }
func (t *temporary) Unwrap() error { return t.err }

// IsTemporary reports whether err was marked by Temporary, and the wait the
// server asked for.
func IsTemporary(err error) (bool, time.Duration) {
	var t *temporary
	if errors.As(err, &t) {
		return true, t.after
	}
	return false, 0
}

// TimeoutError is an attempt that got no complete answer in time.
type TimeoutError struct {
	After time.Duration
}

// Error says how long the attempt waited.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("timeout: no complete answer within %v", e.After)
}

// Timeout reports true, as net.Error does for timeouts.
func (e *TimeoutError) Timeout() bool { return true }

// Unwrap lets errors.Is(err, context.DeadlineExceeded) see a timeout.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// Error is an operation that failed for good: a permanent failure, retries
// run out, or the caller's context ended.
type Error struct {
	Op       string // what was tried, e.g. "openai: POST http://host/v1/completions"
	Attempts int    // attempts made
	Err      error  // the last failure, or the context's error
	// Last is the failure before the context ended, when Err is the
	// context's error; nil otherwise.
	Last error
}

// Error reads "OP: CAUSE after N attempts", the form users see.
func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %v after %d attempt", e.Op, e.Err, e.Attempts)
	if e.Attempts != 1 {
		s += "s"
	}
	if e.Last != nil {
		s += fmt.Sprintf(" (last failure: %v)", e.Last)
	}
	return s
}

// Unwrap returns the cause, so errors.Is sees context.Canceled, a
// *TimeoutError or a backend's own error type.
func (e *Error) Unwrap() error { return e.Err }

// Do calls try until it succeeds, fails with an error not marked Temporary,
// the retries are spent or ctx ends, and returns the number of attempts made
// with nil or an *Error. Each attempt first waits for the rate limit; ctx
// ends waits and backoff sleeps at once.
func (p Policy) Do(ctx context.Context, op string, try func(ctx context.Context) error) (int, error) {
	var last error // the last failure not caused by ctx ending
	for attempt := 0; ; {
		if err := p.Limit.Wait(ctx); err != nil {
			return attempt, &Error{Op: op, Attempts: attempt, Err: err, Last: last}
		}
		attempt++
		err := try(ctx)
		if err == nil {
			return attempt, nil
		}
		if ctx.Err() != nil {
			return attempt, &Error{Op: op, Attempts: attempt, Err: ctx.Err(), Last: last}
		}
		last = err
		temp, after := IsTemporary(err)
		if !temp || attempt > p.Retries {
			return attempt, &Error{Op: op, Attempts: attempt, Err: unmark(err)}
		}
		d := p.wait(attempt, after)
		switch {
		case p.Report != nil:
			p.Report.Retry(op, err, attempt, p.Retries, d)
		case p.Logf != nil:
			p.Logf("%s: %v; retry %d of %d in %v", op, err, attempt, p.Retries, d.Round(time.Millisecond))
		}
		if err := sleep(ctx, d); err != nil {
			return attempt, &Error{Op: op, Attempts: attempt, Err: err, Last: last}
		}
	}
}

// unmark strips the Temporary mark so a final error reads as its cause.
func unmark(err error) error {
	if t, ok := err.(*temporary); ok {
		return t.err
	}
	return err
}

// wait is the pause before retry number attempt: what the server asked for,
// or else a uniform draw below the exponential ceiling (full jitter, so that
// goroutines failing together do not retry together), both capped.
func (p Policy) wait(attempt int, after time.Duration) time.Duration {
	base, limit := p.Base, p.Max
	if base <= 0 {
		base = DefaultBase
	}
	if limit <= 0 {
		limit = DefaultMax
	}
	if after > 0 {
		return min(after, limit)
	}
	ceil := base
	for i := 1; i < attempt && ceil < limit; i++ {
		ceil *= 2
	}
	ceil = min(ceil, limit)
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ParseRetryAfter reads an HTTP Retry-After value, delay seconds or an HTTP
// date, relative to now. It returns 0 when v is empty, malformed or past.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second) // far beyond any cap; avoids overflow
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Limiter spaces requests evenly at a given rate across all goroutines that
// share it. The nil *Limiter does not limit.
type Limiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time // earliest start of the next request
}

// NewLimiter returns a Limiter for perSecond requests a second, or nil (no
// limit) when perSecond is not positive.
func NewLimiter(perSecond float64) *Limiter {
	if !(perSecond > 0) {
		return nil
	}
	return &Limiter{interval: time.Duration(float64(time.Second) / perSecond)}
}

// Wait blocks until the caller may start a request, or ctx ends.
func (l *Limiter) Wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	l.mu.Lock()
	now := time.Now()
	start := l.next
	if start.Before(now) {
		start = now
	}
	l.next = start.Add(l.interval)
	l.mu.Unlock()
	return sleep(ctx, time.Until(start))
}
