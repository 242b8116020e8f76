package retry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var errBoom = errors.New("boom")

func TestDo(t *testing.T) {
	tests := []struct {
		name     string
		retries  int
		fails    int   // failures before success
		fail     error // what a failure returns
		attempts int
		wantErr  string
	}{
		{"first try", 3, 0, Temporary(errBoom, 0), 1, ""},
		{"succeeds on last retry", 3, 3, Temporary(errBoom, 0), 4, ""},
		{"retries spent", 2, 10, Temporary(errBoom, 0), 3, "op: boom after 3 attempts"},
		{"permanent not retried", 5, 10, errBoom, 1, "op: boom after 1 attempt"},
		{"no retries", 0, 1, Temporary(errBoom, 0), 1, "op: boom after 1 attempt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Policy{Retries: tt.retries, Base: time.Millisecond, Max: 2 * time.Millisecond}
			calls := 0
			n, err := p.Do(context.Background(), "op", func(context.Context) error {
				calls++
				if calls <= tt.fails {
					return tt.fail
				}
				return nil
			})
			if n != tt.attempts || calls != tt.attempts {
				t.Errorf("attempts %d, calls %d, want %d", n, calls, tt.attempts)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, errBoom) {
				t.Errorf("err %#v is not an *Error wrapping errBoom", err)
			}
			if temp, _ := IsTemporary(err); temp {
				t.Errorf("final error still marked temporary")
			}
		})
	}
}

func TestDoLogs(t *testing.T) {
	var lines []string
	p := Policy{Retries: 2, Base: time.Millisecond, Logf: func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }}
	p.Do(context.Background(), "op", func(context.Context) error { return Temporary(errBoom, 0) })
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "op: boom; retry 1 of 2 in ") {
		t.Fatalf("log lines %q", lines)
	}
}

func TestWaitFullJitter(t *testing.T) {
	p := Policy{Base: 100 * time.Millisecond, Max: time.Second}
	for attempt, ceil := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second} {
		var hi time.Duration
		lo := ceil
		for range 2000 {
			d := p.wait(attempt, 0)
			if d < 0 || d > ceil {
				t.Fatalf("attempt %d: wait %v outside [0, %v]", attempt, d, ceil)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		// Full jitter spreads over the whole range, not around its top.
		if lo > ceil/10 || hi < ceil*9/10 {
			t.Errorf("attempt %d: waits in [%v, %v], want spread over [0, %v]", attempt, lo, hi, ceil)
		}
	}
	if d := p.wait(1, 300*time.Millisecond); d != 300*time.Millisecond {
		t.Errorf("Retry-After 300ms: wait %v", d)
	}
	if d := p.wait(1, time.Hour); d != time.Second {
		t.Errorf("Retry-After 1h: wait %v, want the 1s cap", d)
	}
}

func TestDoHonoursRetryAfter(t *testing.T) {
	p := Policy{Retries: 1, Base: time.Millisecond}
	start := time.Now()
	calls := 0
	p.Do(context.Background(), "op", func(context.Context) error {
		calls++
		if calls == 1 {
			return Temporary(errBoom, 150*time.Millisecond)
		}
		return nil
	})
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Fatalf("retried after %v, server asked for 150ms", el)
	}
}

func TestDoCancelDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	p := Policy{Retries: 3}
	start := time.Now()
	n, err := p.Do(ctx, "op", func(context.Context) error { return Temporary(errBoom, time.Hour) })
	// Far below the hour the server asked for: cancelled, not waited out.
	if el := time.Since(start); el > 10*time.Second {
		t.Fatalf("cancel took %v", el)
	}
	if n != 1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("n %d err %v", n, err)
	}
	if !strings.Contains(err.Error(), "last failure: boom") {
		t.Errorf("err %q does not name the last failure", err)
	}
}

func TestTimeoutError(t *testing.T) {
	err := error(&TimeoutError{After: 2 * time.Second})
	if !errors.Is(err, context.DeadlineExceeded) || err.Error() != "timeout: no complete answer within 2s" {
		t.Fatalf("%v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{"99999999999999999", 24 * time.Hour},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second},
		{now.Add(-7 * time.Second).Format(http.TimeFormat), 0},
		{now.Add(90 * time.Second).Format(time.RFC850), 90 * time.Second},
	}
	for _, tt := range tests {
		if got := ParseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestLimiter(t *testing.T) {
	if NewLimiter(0) != nil || NewLimiter(-1) != nil {
		t.Fatal("no rate should mean no limiter")
	}
	l := NewLimiter(50) // 20ms apart
	var wg sync.WaitGroup
	var count atomic.Int32
	start := time.Now()
	for range 4 {
		wg.Go(func() {
			for range 5 {
				if err := l.Wait(context.Background()); err != nil {
					t.Error(err)
				}
				count.Add(1)
			}
		})
	}
	wg.Wait()
	// 20 requests at 50/s: the first starts at once, the last 19*20ms later.
	if el := time.Since(start); el < 380*time.Millisecond {
		t.Fatalf("20 requests at 50/s took %v", el)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := NewLimiter(0.001).Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait on a cancelled context: %v", err)
	}
}
