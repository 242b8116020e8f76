package generate

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/pot-audit/pot/internal/cli"
)

// Slack is how many records beyond its -j queries in flight a run may
// have made that the reader of its pipe has not yet taken: the constant of
// the early-stop bound (see Lead). It lets a fast model keep working while
// its last answers travel down the pipe.
const Slack = 2

// Lead is the most queries a run writing into a pipe makes beyond the
// records its reader has read from the pipe, with jobs queries in flight.
// When the reader stops (potcmp has decided), that many queries at most
// were made that it never took, whatever the model's speed and the
// machine's load: the run starts no query while Lead(jobs) of the records
// it made are unread, in the pipe or still in the run.
func Lead(jobs int) int { return jobs + Slack }

// errReaderGone ends dispatch when the pipe's reader has closed it while
// the run waited for it to read: nothing more will be wanted.
var errReaderGone = errors.New("generate: the reader of the pipe went away")

// Pacing of a run that waits for its reader: the pipe is asked how much
// it holds unread, first soon and then less often, since the kernel tells
// a writer nothing when its reader reads.
const (
	pollFirst = 50 * time.Microsecond
	pollMost  = 5 * time.Millisecond
)

// pacer keeps a run at most its lead ahead of the reader of the pipe it
// writes into. It counts the bytes handed to the output and, at every
// flush, notes how many records those bytes hold; the pipe says how many
// bytes wait unread, so the records whose bytes are all gone from it are
// known read. A nil pacer (the output is not a pipe) lets everything
// through.
type pacer struct {
	pipe  *os.File
	limit int

	mu       sync.Mutex
	started  int    // queries admitted
	written  int    // records handed to the stream
	bytes    int64  // bytes handed to the output
	flushed  int64  // bytes at the last flush: all in the pipe by then
	marks    []mark // flushes not yet known read, oldest first
	consumed int    // records known read by the reader
}

// mark is a flush: the records written by then end at byte end.
type mark struct {
	end     int64
	records int
}

// newPacer paces a run writing into f, when f is a pipe whose unread
// bytes the system reports; it returns nil otherwise.
func newPacer(f *os.File, jobs int) *pacer {
	if f == nil {
		return nil
	}
	if _, ok := cli.Unread(f); !ok {
		return nil
	}
	return &pacer{pipe: f, limit: Lead(jobs)}
}

// admit waits until one more query may start, and counts it. It fails
// when ctx is done or the reader has gone.
func (p *pacer) admit(ctx context.Context) error {
	if p == nil {
		return nil
	}
	wait := pollFirst
	var timer *time.Timer
	for {
		if p.tryAdmit() {
			return nil
		}
		if cli.ReaderGone(p.pipe) {
			return errReaderGone
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-timer.C:
		}
		wait = min(2*wait, pollMost)
	}
}

func (p *pacer) tryAdmit() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started-p.consumed >= p.limit {
		p.update()
	}
	if p.started-p.consumed >= p.limit {
		return false
	}
	p.started++
	return true
}

// update learns from the pipe which flushed records have been read. Bytes
// written after the last flush may be in the pipe too, so counting from
// the last flush can only take fewer records for read than were.
func (p *pacer) update() {
	unread, ok := cli.Unread(p.pipe)
	if !ok {
		return
	}
	read := p.flushed - int64(unread)
	k := 0
	for k < len(p.marks) && p.marks[k].end <= read {
		p.consumed = p.marks[k].records
		k++
	}
	p.marks = append(p.marks[:0], p.marks[k:]...)
}

// full reports whether dispatch is waiting for the reader, so that what
// was written should go down the pipe now rather than at the next tick.
func (p *pacer) full() bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.started-p.consumed >= p.limit
}

// wrote counts a record handed to the stream.
func (p *pacer) wrote() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.written++
	p.mu.Unlock()
}

// sent counts bytes handed to the output.
func (p *pacer) sent(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.bytes += int64(n)
	p.mu.Unlock()
}

// didFlush notes that everything handed to the output is in the pipe.
func (p *pacer) didFlush() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bytes == p.flushed {
		return
	}
	p.flushed = p.bytes
	p.marks = append(p.marks, mark{end: p.bytes, records: p.written})
}

// paced is the run's output as the pacer counts it.
type paced struct {
	Output
	p *pacer
}

func (o paced) Write(b []byte) (int, error) {
	n, err := o.Output.Write(b)
	o.p.sent(n)
	return n, err
}

func (o paced) Flush() error {
	if err := o.Output.Flush(); err != nil {
		return err
	}
	o.p.didFlush()
	return nil
}

// Waste bounds the queries a run with jobs queries in flight makes that a
// reader of its pipe never uses, when the reader holds at most readAhead
// records it has decoded and not used (compare.ReadAhead for potcmp): the
// run's lead, plus what the reader holds undecoded, which came from the
// pipe and so is at most one more lead (a read takes what the pipe holds,
// and the pipe holds at most a lead of records), plus readAhead.
func Waste(jobs, readAhead int) int { return 2*Lead(jobs) + readAhead }
