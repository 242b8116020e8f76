package cli

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Progress draws a one-line progress bar on stderr when stderr is a
// terminal; otherwise it draws nothing. It redraws at most ten times a
// second, so calling Add per record costs little.
type Progress struct {
	w     io.Writer
	label string
	total int64
	n     int64
	start time.Time
	last  time.Time
	on    bool
}

// NewProgress starts a progress bar for total units (0 if unknown) when w
// is a terminal.
func NewProgress(w io.Writer, label string, total int64) *Progress {
	now := time.Now()
	return &Progress{w: w, label: label, total: total, start: now, on: IsTerminal(w)}
}

// Add counts n more units done.
func (p *Progress) Add(n int64) {
	p.n += n
	if !p.on {
		return
	}
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.draw(now)
	}
}

func (p *Progress) draw(now time.Time) {
	rate := float64(p.n) / max(now.Sub(p.start).Seconds(), 1e-9)
	if p.total > 0 {
		const width = 30
		done := int(float64(width) * float64(p.n) / float64(p.total))
		done = min(max(done, 0), width)
		eta := ""
		if rate > 0 && p.n < p.total {
			eta = fmt.Sprintf(" eta %s", (time.Duration(float64(p.total-p.n)/rate) * time.Second).Round(time.Second))
		}
		fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d %.1f/s%s\x1b[K", p.label, strings.Repeat("=", done), strings.Repeat(" ", width-done), p.n, p.total, rate, eta)
		return
	}
	fmt.Fprintf(p.w, "\r%s %d %.1f/s\x1b[K", p.label, p.n, rate)
}

// Done clears the bar.
func (p *Progress) Done() {
	if p.on {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
