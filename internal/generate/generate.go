// Package generate asks a model for the outputs of a challenge set and
// writes them as a stream, in challenge order, whatever order the
// concurrent queries finish in. It is potgen's engine; potgen keeps the
// flags, the model's opening and the output file.
package generate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/challenge"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/model"
)

// FlushEvery bounds how long a written record may wait in an open frame:
// a reader downstream (potcmp) sees records this promptly, and so stops
// potgen within a few queries of its decision.
const FlushEvery = 20 * time.Millisecond

// Source hands out challenges one at a time: Next returns io.EOF after the
// last one.
type Source interface {
	Next() (format.Record, error)
}

// Output is where the stream goes: written through a format.Writer, and
// flushed so that a reader downstream sees each frame promptly.
type Output interface {
	io.Writer
	Flush() error
}

// Config is one run.
type Config struct {
	Model    model.Model
	Sampling format.Sampling
	Jobs     int // queries in flight
	Total    int // challenges expected, for the progress bar; 0 when unknown
	// Done holds the (challenge, sample) pairs the output has already,
	// from an earlier run: they are not asked again.
	Done map[compare.Key]bool
	// Earlier is the first header of the run resumed, if any: the new
	// segment must be compatible with it. Partial names the file that
	// holds its records, for the message when it is not.
	Earlier *format.Header
	Partial string
	// Resumed says the output already holds records, so that a run with
	// nothing to ask need not write an empty segment to be a stream.
	Resumed  bool
	Progress io.Writer // where the progress bar goes (stderr)
	// Pipe is the file the output ends in, when it may be a pipe (potgen's
	// standard output). The run then starts no query while Lead(Jobs) of
	// its records wait unread, so that a reader that stops (potcmp has
	// decided) leaves that many queries made in vain at most.
	Pipe *os.File
	// WriterOptions go to the run's format.NewWriter: format.SignWith
	// signs the segment.
	WriterOptions []format.WriterOption
}

// Stats sums a run up.
type Stats struct {
	Written, Failed, Retries int
	LastErr                  string
	Start                    time.Time
	// BrokenPipe says the reader of the output went away: a normal end
	// for a pipeline. Interrupted says ctx was cancelled.
	BrokenPipe, Interrupted bool
}

// job is a query to make: the challenge fields of its record filled in.
type job struct {
	seq int
	rec format.Record
}

// Run asks the model for every sample of every challenge of src not in
// cfg.Done and writes the records to out under h, in order. A query that
// fails after the backend's retries is written as a record carrying its
// error. The segment starts with the first record, not before: a server
// says who it is (its system_fingerprint) only in its answers, and the
// header should carry that. On an interruption or a failure, the segment
// is closed when it can be, so that what was written is a valid stream
// that a resumed run continues.
func Run(ctx context.Context, cfg Config, src Source, out Output, h format.Header) (Stats, error) {
	r := &run{cfg: cfg, out: out, h: h, st: Stats{Start: time.Now()}, dispatched: make(chan struct{})}
	if r.pace = newPacer(cfg.Pipe, cfg.Jobs); r.pace != nil {
		r.out = paced{Output: out, p: r.pace}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.cancel = cancel
	// The window bounds how far dispatch runs ahead of the oldest record
	// not yet written, so reordering needs bounded memory.
	window := make(chan struct{}, 4*cfg.Jobs+8)
	jobs := make(chan job)
	results := make(chan job, cfg.Jobs)
	go r.dispatch(ctx, src, window, jobs)
	var wg sync.WaitGroup
	for range cfg.Jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx, jobs, results)
		}()
	}
	go func() { wg.Wait(); close(results) }()
	r.collect(results, window)
	return r.end(ctx)
}

// run is the state of one Run that its goroutines share: srcErr is
// written by dispatch before it closes jobs, the rest by the collector.
type run struct {
	cfg    Config
	out    Output
	h      format.Header
	w      *format.Writer // the segment, once started
	st     Stats
	cancel context.CancelFunc
	pace   *pacer // nil unless the output is a pipe

	// Set by dispatch before it closes dispatched: why it stopped early.
	srcErr     error
	gone       bool // the pipe's reader went away
	dispatched chan struct{}
	writeErr   error
	dirty      bool // written since the last flush
}

// dispatch hands out the queries, at most the window ahead of the oldest
// record not yet written.
func (r *run) dispatch(ctx context.Context, src Source, window chan<- struct{}, jobs chan<- job) {
	defer close(jobs)
	defer close(r.dispatched)
	seq := 0
	for {
		ch, err := src.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			r.srcErr = err
			return
		}
		for s := range r.cfg.Sampling.Samples {
			rec := format.Record{Index: ch.Index, ID: ch.ID, Sample: uint32(s), Seed: challenge.SampleSeed(ch.Seed, s, r.cfg.Sampling.Seed), Prompt: ch.Prompt}
			if r.cfg.Done[compare.KeyOf(&rec)] {
				continue
			}
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			if err := r.pace.admit(ctx); err != nil {
				r.gone = errors.Is(err, errReaderGone)
				return
			}
			select {
			case jobs <- job{seq: seq, rec: rec}:
				seq++
			case <-ctx.Done():
				return
			}
		}
	}
}

// work answers jobs until there are none or ctx is cancelled. A query that
// fails after the backend's retries becomes a record carrying the error; a
// query cut short by cancellation is dropped, since it is not the model's
// answer.
func (r *run) work(ctx context.Context, jobs <-chan job, results chan<- job) {
	for {
		var j job
		var ok bool
		select {
		case j, ok = <-jobs:
		case <-ctx.Done():
			// dispatch may be blocked reading its source (a pipe): the
			// run ends without it.
			return
		}
		if !ok || ctx.Err() != nil {
			return
		}
		rec := j.rec
		start := time.Now()
		err := r.cfg.Model.Generate(ctx, model.Query{Prompt: rec.Prompt, Seed: rec.Seed, Sampling: r.cfg.Sampling}, &rec)
		rec.Latency = time.Since(start)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			attempts := max(rec.Attempts, 1)
			rec = j.rec
			rec.Latency = time.Since(start)
			rec.Attempts = attempts
			rec.Finish = "error"
			rec.Err = err.Error()
		}
		// A model may stop inside a multi-byte character (a byte-fallback
		// token); streams hold valid UTF-8, the token ids hold the bytes.
		rec.Text = strings.ToValidUTF8(rec.Text, "\uFFFD")
		rec.Err = strings.ToValidUTF8(rec.Err, "\uFFFD")
		rec.Finish = strings.ToValidUTF8(rec.Finish, "\uFFFD")
		select {
		case results <- job{seq: j.seq, rec: rec}:
		case <-ctx.Done():
			return
		}
	}
}

// collect writes the results in order as they come, flushing every
// FlushEvery, until the workers are done.
func (r *run) collect(results <-chan job, window <-chan struct{}) {
	progress := cli.NewProgress(r.cfg.Progress, "potgen", int64(r.cfg.Total*r.cfg.Sampling.Samples-len(r.cfg.Done)))
	defer progress.Done()
	tick := time.NewTicker(FlushEvery)
	defer tick.Stop()
	pending := map[int]format.Record{}
	next := 0
	// A run whose every first query fails (a wrong URL, a refused key)
	// stops, instead of recording the same error a thousand times.
	allFailedAfter := max(8, 2*r.cfg.Jobs)
	for {
		select {
		case res, ok := <-results:
			if !ok {
				r.flush()
				return
			}
			pending[res.seq] = res.rec
			for rec, ok := pending[next]; ok; rec, ok = pending[next] {
				delete(pending, next)
				next++
				<-window
				r.write(&rec)
				progress.Add(1)
			}
			if r.pace.full() {
				r.flush() // dispatch waits for the reader to take these
			}
			if r.writeErr == nil && r.st.Written >= allFailedAfter && r.st.Failed == r.st.Written {
				r.writeErr = fmt.Errorf("the first %d queries all failed; the last: %s", r.st.Written, r.st.LastErr)
			}
			if r.writeErr != nil {
				r.cancel()
			}
		case <-tick.C:
			r.flush()
		}
	}
}

// write writes the next record in order, starting the segment if needed.
func (r *run) write(rec *format.Record) {
	if r.writeErr == nil {
		r.writeErr = r.start()
	}
	if r.writeErr == nil {
		r.writeErr = r.w.Write(rec)
	}
	r.dirty = true
	r.pace.wrote()
	r.st.Written++
	r.st.Retries += max(rec.Attempts-1, 0)
	if rec.Err != "" {
		r.st.Failed++
		r.st.LastErr = rec.Err
	}
}

// start starts the segment, once, under the model's header as the model
// knows it by now.
func (r *run) start() error {
	if r.w != nil {
		return nil
	}
	r.h.Model = r.cfg.Model.Info()
	if r.cfg.Earlier != nil {
		if why := Resumable(r.cfg.Earlier, &r.h); why != "" {
			return cli.Usagef("--resume: the earlier run had another %s; its records are kept in %s", why, r.cfg.Partial)
		}
	}
	w, err := format.NewWriter(r.out, r.h, r.cfg.WriterOptions...)
	if err != nil {
		return err
	}
	r.w = w
	return nil
}

// flush pushes what was written on to the reader.
func (r *run) flush() {
	if !r.dirty || r.writeErr != nil {
		return
	}
	r.dirty = false
	if r.w == nil {
		return
	}
	if err := r.w.Flush(); err != nil {
		r.writeErr = err
	} else if err := r.out.Flush(); err != nil {
		r.writeErr = err
	}
}

// end closes the segment as the way the run ended asks.
func (r *run) end(ctx context.Context) (Stats, error) {
	// dispatch may still be blocked reading its source when the run was
	// interrupted; otherwise the workers ended because it was done.
	var srcErr error
	gone := false
	select {
	case <-r.dispatched:
		srcErr, gone = r.srcErr, r.gone
	default:
	}
	if gone && (r.writeErr == nil || cli.IsBrokenPipe(r.writeErr)) {
		r.st.BrokenPipe = true
		return r.st, nil
	}
	if r.writeErr == nil && ctx.Err() == nil && srcErr == nil {
		// Complete: the trailer closes the segment. A run with nothing to
		// ask still writes an (empty) segment unless an earlier run's
		// records already make the output a stream.
		if r.w == nil && !r.cfg.Resumed {
			if err := r.start(); err != nil {
				return r.st, err
			}
		}
		if r.w != nil {
			if err := r.w.Close(); err != nil {
				return r.st, err
			}
		}
		return r.st, r.out.Flush()
	}
	if cli.IsBrokenPipe(r.writeErr) {
		r.st.BrokenPipe = true
		return r.st, nil
	}
	// Interrupted or failed: close the segment so what was written is a
	// valid stream that a resumed run can continue.
	if r.writeErr == nil && r.w != nil {
		if err := r.w.Close(); err == nil {
			r.out.Flush()
		}
	}
	switch {
	case r.writeErr != nil:
		return r.st, r.writeErr
	case srcErr != nil:
		return r.st, srcErr
	}
	r.st.Interrupted = true
	return r.st, context.Cause(ctx)
}
