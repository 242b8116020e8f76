package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/model"
)

// flushEvery bounds how long a written record may wait in an open frame:
// a reader downstream (potcmp) sees records this promptly, and so stops
// potgen within a few queries of its decision.
const flushEvery = 20 * time.Millisecond

type sampleKey struct {
	id     string
	sample uint32
}

type job struct {
	seq int
	rec format.Record // challenge fields filled in
}

type result struct {
	seq int
	rec format.Record
}

func generateAction(c *ucli.Context) error {
	env := cli.EnvOf(c)
	if c.NArg() > 0 {
		return cli.Usagef("unexpected argument %q (options go before arguments)", c.Args().First())
	}
	if c.String("model") == "" {
		return cli.Usagef("--model SPEC is required (try --model synth:1); see potgen --help")
	}
	samples, jobs := c.Int("samples"), c.Int("jobs")
	switch {
	case samples < 1:
		return cli.Usagef("--samples %d: want at least 1", samples)
	case jobs < 1:
		return cli.Usagef("-j %d: want at least 1", jobs)
	case c.Float64("temperature") < 0:
		return cli.Usagef("--temperature must not be negative")
	case c.Float64("top-p") < 0 || c.Float64("top-p") > 1:
		return cli.Usagef("--top-p must be in [0, 1]")
	case c.Int("top-k") < 0 || c.Int("max-tokens") < 0:
		return cli.Usagef("--top-k and --max-tokens must not be negative")
	case c.Int("logprobs") < 0 || c.Int("logprobs") > format.MaxTopK:
		return cli.Usagef("--logprobs must be in 0..%d", format.MaxTopK)
	}
	lbls, err := labels(c)
	if err != nil {
		return err
	}
	resume, outName := c.Bool("resume"), c.String("output")
	if resume && (outName == "-" || outName == "") {
		return cli.Usagef("--resume needs -o FILE: there is nothing to resume on stdout")
	}
	src, err := openSource(c, env)
	if err != nil {
		return err
	}
	defer src.close()

	retries := c.Int("retries")
	if retries == 0 {
		retries = -1 // the backends read 0 as their default
	}
	m, err := openModel(c.String("model"), model.Options{
		Threads:    c.Int("threads"),
		Jobs:       jobs,
		Timeout:    c.Duration("timeout"),
		Retries:    retries,
		RateLimit:  c.Float64("rate"),
		APIKeyEnv:  c.String("api-key-env"),
		APIKeyFile: c.String("api-key-file"),
		Getenv:     env.Getenv,
		Logf: func(f string, args ...any) {
			fmt.Fprintln(env.Stderr, cli.Message("potgen", fmt.Errorf(f, args...)))
		},
	})
	if err != nil {
		return err
	}
	defer m.Close()

	info := m.Info()
	sampling := format.Sampling{
		Temperature: c.Float64("temperature"),
		TopP:        c.Float64("top-p"),
		TopK:        c.Int("top-k"),
		MaxTokens:   c.Int("max-tokens"),
		Logprobs:    c.Int("logprobs"),
		Samples:     samples,
		Seed:        c.Uint64("seed"),
		LogprobsOf:  logprobsOf(info.Backend),
		Endpoint:    info.Meta["api"],
	}
	h := format.Header{
		Kind:       format.KindOutputs,
		Challenges: src.set,
		Model:      info,
		Sampling:   sampling,
		Shard:      src.shard,
		Created:    now(),
		Tool:       toolName(),
		Labels:     lbls,
	}

	out, err := createOutput(env, outName, c.String("challenges"), resume)
	if err != nil {
		return err
	}
	defer out.abort()
	done := map[sampleKey]bool{}
	if resume {
		kept, err := out.resume(env, h, done)
		if err != nil {
			return err
		}
		if kept > 0 {
			fmt.Fprintf(env.Stderr, "potgen: resuming %s: %d records kept\n", outName, kept)
		}
	}

	g := &generator{env: env, model: m, sampling: sampling, jobs: jobs, done: done}
	stats, genErr := g.run(c.Context, src, out, h)
	return finish(env, out, stats, genErr)
}

// generator runs the queries and writes their records in order.
type generator struct {
	env      *cli.Env
	model    model.Model
	sampling format.Sampling
	jobs     int
	done     map[sampleKey]bool
}

type genStats struct {
	written, failed, retries int
	lastErr                  string
	start                    time.Time
	brokenPipe, interrupted  bool
}

func (g *generator) run(ctx context.Context, src *source, out *output, h format.Header) (genStats, error) {
	st := genStats{start: time.Now()}
	// The segment starts with the first record, not before: a server says
	// who it is (its system_fingerprint) only in its answers, and the
	// header should carry that.
	var w *format.Writer
	start := func() error {
		if w != nil {
			return nil
		}
		h.Model = g.model.Info()
		if out.earlier != nil {
			if why := format.Compatible(out.earlier, &h); why != "" {
				return cli.Usagef("--resume: the earlier run had another %s; its records are kept in %s", why, out.partial)
			}
		}
		var err error
		w, err = format.NewWriter(out, h)
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The window bounds how far dispatch runs ahead of the oldest record
	// not yet written, so reordering needs bounded memory.
	window := make(chan struct{}, 4*g.jobs+8)
	jobs := make(chan job)
	results := make(chan result, g.jobs)
	var srcErr error
	go func() {
		defer close(jobs)
		seq := 0
		for {
			ch, err := src.next()
			if err == io.EOF {
				return
			}
			if err != nil {
				srcErr = err
				return
			}
			for s := 0; s < g.sampling.Samples; s++ {
				if g.done[sampleKey{ch.ID, uint32(s)}] {
					continue
				}
				rec := format.Record{Index: ch.Index, ID: ch.ID, Sample: uint32(s), Seed: sampleSeed(&ch, s, g.sampling.Seed), Prompt: ch.Prompt}
				select {
				case window <- struct{}{}:
				case <-ctx.Done():
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
	}()
	var wg sync.WaitGroup
	for range g.jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.work(ctx, jobs, results)
		}()
	}
	go func() { wg.Wait(); close(results) }()

	progress := cli.NewProgress(g.env.Stderr, "potgen", int64(src.total*g.sampling.Samples-len(g.done)))
	defer progress.Done()
	pending := map[int]format.Record{}
	next := 0
	dirty := false
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	var writeErr error
	flush := func() {
		if !dirty || writeErr != nil {
			return
		}
		dirty = false
		if w == nil {
			return
		}
		if err := w.Flush(); err != nil {
			writeErr = err
		} else if err := out.Flush(); err != nil {
			writeErr = err
		}
	}
	// allFailed stops a run whose every first query fails (a wrong URL, a
	// refused key) instead of recording the same error a thousand times.
	allFailedAfter := max(8, 2*g.jobs)
loop:
	for {
		select {
		case r, ok := <-results:
			if !ok {
				break loop
			}
			pending[r.seq] = r.rec
			for {
				rec, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				next++
				<-window
				if writeErr == nil {
					writeErr = start()
				}
				if writeErr == nil {
					if err := w.Write(&rec); err != nil {
						writeErr = err
					}
				}
				dirty = true
				st.written++
				st.retries += max(rec.Attempts-1, 0)
				if rec.Err != "" {
					st.failed++
					st.lastErr = rec.Err
				}
				progress.Add(1)
			}
			if writeErr != nil {
				cancel()
				continue
			}
			if st.written >= allFailedAfter && st.failed == st.written {
				writeErr = fmt.Errorf("the first %d queries all failed; the last: %s", st.written, st.lastErr)
				cancel()
			}
		case <-tick.C:
			flush()
		}
	}
	flush()
	if writeErr == nil && ctx.Err() == nil && srcErr == nil {
		// Complete: the trailer closes the segment. A run with nothing to
		// ask still writes a (empty) segment unless an earlier run's
		// records already make the output a stream.
		if w == nil && !out.resumed {
			if err := start(); err != nil {
				return st, err
			}
		}
		if w == nil {
			return st, out.Flush()
		}
		if err := w.Close(); err != nil {
			return st, err
		}
		return st, out.Flush()
	}
	if cli.IsBrokenPipe(writeErr) {
		st.brokenPipe = true
		return st, nil
	}
	// Interrupted or failed: close the segment so what was written is a
	// valid stream that --resume can continue.
	if writeErr == nil && w != nil {
		if err := w.Close(); err == nil {
			out.Flush()
		}
	}
	switch {
	case writeErr != nil:
		return st, writeErr
	case srcErr != nil:
		return st, srcErr
	}
	st.interrupted = true
	return st, context.Cause(ctx)
}

// work answers jobs until there are none or ctx is cancelled. A query that
// fails after the backend's retries becomes a record carrying the error; a
// query cut short by cancellation is dropped, since it is not the model's
// answer.
func (g *generator) work(ctx context.Context, jobs <-chan job, results chan<- result) {
	for j := range jobs {
		if ctx.Err() != nil {
			return
		}
		rec := j.rec
		start := time.Now()
		err := g.model.Generate(ctx, model.Query{Prompt: rec.Prompt, Seed: rec.Seed, Sampling: g.sampling}, &rec)
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
		case results <- result{seq: j.seq, rec: rec}:
		case <-ctx.Done():
			return
		}
	}
}

// finish commits or keeps the output and sums the run up on stderr.
func finish(env *cli.Env, out *output, st genStats, genErr error) error {
	elapsed := time.Since(st.start).Round(time.Millisecond)
	if st.brokenPipe {
		out.abort()
		return nil // the reader has what it needed
	}
	if genErr != nil {
		kept := out.keep()
		where := ""
		if kept != "" {
			where = fmt.Sprintf("; %d records kept in %s: run again with --resume to continue", st.written, kept)
		}
		if st.interrupted {
			return cli.WithStatus(cli.ExitFailure, fmt.Errorf("interrupted after %d records%s", st.written, where))
		}
		return fmt.Errorf("%w%s", genErr, where)
	}
	if err := out.commit(); err != nil {
		return err
	}
	if st.failed > 0 || st.retries > 0 || cli.IsTerminal(env.Stderr) {
		fmt.Fprintf(env.Stderr, "potgen: %d records in %s, %d retries, %d failed\n", st.written, elapsed, st.retries, st.failed)
	}
	if st.failed > 0 {
		return cli.WithStatus(cli.ExitFailure, errors.New(failedMessage(st.failed, out.name)))
	}
	return nil
}

func failedMessage(n int, name string) string {
	if name == "" || name == "-" {
		return fmt.Sprintf("%d queries failed after their retries (recorded with their errors)", n)
	}
	return fmt.Sprintf("%d queries failed after their retries (recorded with their errors); potgen --resume -o %s retries them", n, name)
}
