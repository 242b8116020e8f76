package retry

import (
	"fmt"
	"sync"
	"time"
)

// DefaultEvery is how often a Reporter repeats a failure that goes on.
const DefaultEvery = 10 * time.Second

// Reporter condenses the retry messages of many goroutines: against a
// dead or overloaded endpoint, -j 8 queries each retrying five times would
// otherwise print a line per retry, and the one fact that matters (it keeps
// failing, and why) would scroll away.
//
// The first retry of a cause is reported in full at once. Retries of the
// same operation with the same cause after it are counted and reported as
// one line ("OP: CAUSE; 37 more retries") when another cause comes, when
// the period has passed since the last line, and on Flush. A Reporter is
// safe for concurrent use; the nil *Reporter reports nothing.
type Reporter struct {
	logf  func(format string, args ...any)
	every time.Duration
	now   func() time.Time // the clock, replaced by tests

	mu      sync.Mutex
	current string    // "OP: CAUSE" of the last line
	printed time.Time // when it was printed
	held    int       // retries of current since, not yet reported
}

// NewReporter returns a Reporter that prints through logf and repeats a
// failure that goes on every period (DefaultEvery when 0). It returns nil,
// which reports nothing, when logf is nil.
func NewReporter(logf func(format string, args ...any), every time.Duration) *Reporter {
	if logf == nil {
		return nil
	}
	if every <= 0 {
		every = DefaultEvery
	}
	return &Reporter{logf: logf, every: every, now: time.Now}
}

// Retry reports that op failed with err at attempt (of 1+retries) and is
// tried again after wait.
func (r *Reporter) Retry(op string, err error, attempt, retries int, wait time.Duration) {
	if r == nil {
		return
	}
	key := fmt.Sprintf("%s: %v", op, err)
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if key == r.current {
		r.held++
		if now.Sub(r.printed) >= r.every {
			r.flush(now)
		}
		return
	}
	r.flush(now)
	r.current, r.printed = key, now
	r.logf("%s; retry %d of %d in %v", key, attempt, retries, wait.Round(time.Millisecond))
}

// Flush reports the retries counted and not yet reported.
func (r *Reporter) Flush() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flush(r.now())
}

func (r *Reporter) flush(now time.Time) {
	if r.held == 0 {
		return
	}
	s := "retries"
	if r.held == 1 {
		s = "retry"
	}
	r.logf("%s; %d more %s", r.current, r.held, s)
	r.held, r.printed = 0, now
}
