package retry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReporter(t *testing.T) {
	var lines []string
	r := NewReporter(func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }, 10*time.Second)
	clock := time.Unix(0, 0)
	r.now = func() time.Time { return clock }
	refused, busy := errors.New("connection refused"), errors.New("503 Service Unavailable")
	steps := []struct {
		after time.Duration
		op    string
		err   error
		want  []string // lines this retry prints
	}{
		{0, "POST u", refused, []string{"POST u: connection refused; retry 1 of 5 in 1s"}},
		{time.Second, "POST u", refused, nil},
		{time.Second, "POST u", refused, nil},
		{time.Second, "POST u", busy, []string{"POST u: connection refused; 2 more retries", "POST u: 503 Service Unavailable; retry 1 of 5 in 1s"}},
		{time.Second, "POST u", busy, nil},
		{10 * time.Second, "POST u", busy, []string{"POST u: 503 Service Unavailable; 2 more retries"}}, // the period passed
		{time.Second, "POST u", busy, nil},
		{time.Second, "POST v", busy, []string{"POST u: 503 Service Unavailable; 1 more retry", "POST v: 503 Service Unavailable; retry 1 of 5 in 1s"}},
	}
	for i, st := range steps {
		clock = clock.Add(st.after)
		lines = nil
		r.Retry(st.op, st.err, 1, 5, time.Second)
		if strings.Join(lines, "\n") != strings.Join(st.want, "\n") {
			t.Errorf("step %d: lines %q, want %q", i, lines, st.want)
		}
	}
	lines = nil
	r.Flush()
	r.Flush()
	if len(lines) != 0 {
		t.Errorf("flush with nothing held printed %q", lines)
	}
	var nilReporter *Reporter
	nilReporter.Retry("op", refused, 1, 1, 0)
	nilReporter.Flush()
	if NewReporter(nil, 0) != nil {
		t.Error("a reporter without logf")
	}
}

// Eight goroutines retrying against a dead endpoint: the retries are all
// counted, on two lines instead of forty.
func TestReporterDeadEndpoint(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	p := Policy{Retries: 5, Base: time.Microsecond, Report: NewReporter(func(f string, a ...any) {
		mu.Lock()
		lines = append(lines, fmt.Sprintf(f, a...))
		mu.Unlock()
	}, time.Hour)}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			p.Do(context.Background(), "POST u", func(context.Context) error { return Temporary(errors.New("connection refused"), 0) })
		})
	}
	wg.Wait()
	p.Report.Flush()
	if len(lines) != 2 || lines[1] != "POST u: connection refused; 39 more retries" {
		t.Fatalf("lines %q", lines)
	}
}
