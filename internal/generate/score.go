package generate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"sync"
	"time"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/model"
)

// Ways of scoring an output (potgen score --by): by its own token ids, or
// by its text re-tokenised by the trusted model.
const (
	ByTokens = "tokens"
	ByText   = "text"
)

// ScoreBy resolves the way asked for (ByTokens, ByText or "auto") against
// the stream named name, of header h, and the trusted model info: auto
// takes tokens when the vocabularies are one, else text; tokens on another
// vocabulary is a usage error, since the ids would mean other pieces. A
// stream that names no vocabulary (a server's) may be scored by tokens
// when asked: checked reports that every record's ids must then be checked
// against the model's pieces (ScoreConfig.Check).
func ScoreBy(by, name string, h *format.Header, info format.Model) (way string, checked bool, err error) {
	same := h.Model.Vocab != "" && h.Model.Vocab == info.Vocab
	switch {
	case by == "auto" && same:
		return ByTokens, false, nil
	case by == "auto":
		return ByText, false, nil
	case by == ByTokens && h.Model.Vocab == "" && info.Vocab != "":
		return ByTokens, true, nil
	case by == ByTokens && !same:
		return "", false, cli.Usagef("--by tokens: %s has another vocabulary than %s (vocab %q vs %q); use --by text", name, info.Name, h.Model.Vocab, info.Vocab)
	case by == ByTokens || by == ByText:
		return by, false, nil
	}
	return "", false, cli.Usagef("--by %q: want tokens, text or auto", by)
}

// checkPieces reports the first token of rec whose bytes, as the stream
// gives them, are not those the model's vocabulary gives its id, or that
// the stream gives no bytes for: then the ids are not known to be the
// model's, and scoring them would score other text. An id the model gives
// no bytes (a control token such as BOS: servers show those differently)
// is no evidence either way; the scorer still refuses an id outside the
// vocabulary.
func checkPieces(rec *format.Record, vocab *format.Pieces) error {
	for i, id := range rec.Tokens {
		want, mine := vocab.Get(id)
		if !mine {
			continue
		}
		got, ok := rec.Pieces.Get(id)
		if !ok {
			return fmt.Errorf("position %d: token %d has no bytes in the stream, so it cannot be checked against the model's vocabulary", i, id)
		}
		if want != got {
			return fmt.Errorf("position %d: token %d is %q in the stream and %q in the model's vocabulary", i, id, got, want)
		}
	}
	return nil
}

// ScoreConfig is one scoring run (potgen score).
type ScoreConfig struct {
	Scorer model.Scorer
	Model  format.Model // the trusted model, as its Info says, for the labels
	By     string       // ByTokens or ByText (see ScoreBy)
	// Check, when set, is the trusted model's vocabulary: scoring by
	// tokens a stream that names none, every record's ids must have
	// there the bytes the stream gives them, or the run stops with a
	// bad-input error naming the record.
	Check *format.Pieces
	Jobs  int // outputs scored at once; the output keeps the input's order
	// Pipe is the file the output ends in when it may be a pipe: as in
	// Run, no output is started while Lead(Jobs) of the records scored
	// wait unread, so that a reader that stops (potcmp has decided) leaves
	// at most that many scored in vain, and the stream upstream stops
	// with it.
	Pipe *os.File
	// WriterOptions go to every segment's format.NewWriter: format.SignWith
	// signs each.
	WriterOptions []format.WriterOption
	// Alts are the alternative models (potgen score --alt), each scoring
	// every output on the tokens the trusted model scored: the record's
	// AltLogliks, in this order, and the header's labels loglik.alt.N.
	// They share the trusted model's vocabulary (see CheckAlt).
	Alts []Alt
}

// Alt is one alternative model of a scoring run.
type Alt struct {
	Scorer model.Scorer
	Model  format.Model // as its Info says, for the label
}

// CheckAlt refuses an alternative (given as spec, for the message) whose
// vocabulary is not the trusted model's: its log-likelihood of the same
// token ids would be of other pieces.
func CheckAlt(spec string, alt, trusted format.Model) error {
	if alt.Vocab == "" || alt.Vocab != trusted.Vocab {
		return cli.Usagef("--alt %s: its vocabulary is not the trusted model's (vocab %q vs %q): an alternative must score the same tokens", spec, alt.Vocab, trusted.Vocab)
	}
	return nil
}

// ScoreStats sums a scoring run up.
type ScoreStats struct {
	Read, Unscorable int
	First            error // the first output that could not be scored
	// BrokenPipe says the reader of the output went away: a normal end
	// for a pipeline.
	BrokenPipe bool
}

// scoreJob is one record on its way through the scorers: seq is its place
// in the input, seg its segment, h that segment's header when the record
// is the segment's first, err a failure to read or score it.
type scoreJob struct {
	seq, seg int
	h        *format.Header
	rec      format.Record
	err      error
}

// Score copies the stream rd (named name in messages) to out with every
// successful output's log-likelihood under cfg.Scorer, segment by segment
// under the input's headers labelled with the scorer (a concatenation of
// shards stays one stream, each part under its own header). Up to
// cfg.Jobs outputs are scored at once, and written in the input's order.
// Failed records pass through unscored; an output the model cannot score
// (model.ErrNotScorable) passes through unscored and is counted. Records
// are flushed at most FlushEvery after they are written, so that a reader
// downstream sees them promptly. On an error nothing is promised of out:
// the caller discards it. Score closes rd: a read blocked on a silent pipe
// may outlive the run that no longer needs it.
func Score(ctx context.Context, cfg ScoreConfig, rd *format.Reader, name string, out Output) (ScoreStats, error) {
	jobs := max(cfg.Jobs, 1)
	s := &scoring{cfg: cfg, name: name, out: out}
	if s.pace = newPacer(cfg.Pipe, jobs); s.pace != nil {
		s.out = paced{Output: out, p: s.pace}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The window bounds how far reading runs ahead of the oldest record
	// not yet written, so reordering needs bounded memory.
	window := make(chan struct{}, 4*jobs+8)
	in := make(chan scoreJob)
	results := make(chan scoreJob, jobs)
	first := rd.First()
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer rd.Close()
		s.read(ctx, rd, window, in)
	}()
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.work(ctx, in, results)
		}()
	}
	go func() { wg.Wait(); close(results) }()
	err := s.collect(results, window)
	if err == nil {
		// Every result is in: the reader has returned, unless the run was
		// cancelled while it waited on its input.
		select {
		case <-readDone:
			if s.gone {
				err = errReaderGone
			}
		case <-ctx.Done():
		}
	}
	switch {
	case errors.Is(err, errReaderGone) || cli.IsBrokenPipe(err):
		s.st.BrokenPipe = true
		return s.st, nil
	case err != nil:
		return s.st, err
	case ctx.Err() != nil:
		return s.st, context.Cause(ctx)
	}
	return s.st, s.end(&first)
}

// scoring is the state of one Score that its goroutines share: gone is
// written by read before it closes in, the rest by the collector.
type scoring struct {
	cfg  ScoreConfig
	name string
	out  Output
	pace *pacer
	w    *format.Writer // the segment being written
	seg  int
	st   ScoreStats
	gone bool // the pipe's reader went away
}

// read hands the records of rd to the scorers in order, each once the
// window and the pacer let it; a read error goes down in order, as the
// last job.
func (s *scoring) read(ctx context.Context, rd *format.Reader, window chan<- struct{}, in chan<- scoreJob) {
	defer close(in)
	seg := -1
	for seq := 0; ; seq++ {
		rec, err := rd.Read()
		if err == io.EOF {
			return
		}
		j := scoreJob{seq: seq, seg: rd.Segment(), rec: rec}
		if err != nil {
			j.err = fmt.Errorf("%s: %w", s.name, err)
		} else if j.seg != seg {
			h := rd.Header()
			j.h, seg = &h, j.seg
		}
		select {
		case window <- struct{}{}:
		case <-ctx.Done():
			return
		}
		if err := s.pace.admit(ctx); err != nil {
			s.gone = errors.Is(err, errReaderGone)
			return
		}
		select {
		case in <- j:
		case <-ctx.Done():
			return
		}
		if j.err != nil {
			return
		}
	}
}

// work scores jobs until there are none or ctx is cancelled.
func (s *scoring) work(ctx context.Context, in <-chan scoreJob, results chan<- scoreJob) {
	for {
		var j scoreJob
		var ok bool
		select {
		case j, ok = <-in:
		case <-ctx.Done():
			return
		}
		if !ok || ctx.Err() != nil {
			return
		}
		if j.err == nil {
			j.err = s.score(ctx, &j)
		}
		select {
		case results <- j:
		case <-ctx.Done():
			return
		}
	}
}

// errUnscorable marks a job whose output the model could not score: it is
// written unscored, and counted.
type errUnscorable struct{ err error }

func (e errUnscorable) Error() string { return e.err.Error() }

// score adds the log-likelihood to j's record, when it is a success.
func (s *scoring) score(ctx context.Context, j *scoreJob) error {
	rec := &j.rec
	rec.Scored, rec.Loglik, rec.AltLogliks = false, 0, nil
	if rec.Err != "" {
		return nil
	}
	if rec.Prompt == "" {
		return cli.BadInputf("%s: record %d (challenge %s sample %d) has no prompt: potgen score needs the prompts potgen writes", s.name, j.seq, rec.ID, rec.Sample)
	}
	if s.cfg.Check != nil && s.cfg.By == ByTokens {
		if err := checkPieces(rec, s.cfg.Check); err != nil {
			return cli.BadInputf("%s: record %d (challenge %s sample %d): %v: its vocabulary is not the model's; use --by text", s.name, j.seq, rec.ID, rec.Sample, err)
		}
	}
	q := model.ScoreQuery{Prompt: rec.Prompt, Tokens: rec.Tokens, Stop: rec.Finish == "stop"}
	if s.cfg.By == ByText {
		q = model.ScoreQuery{Prompt: rec.Prompt, Text: rec.Text, Stop: rec.Finish == "stop"}
	}
	sc, err := s.cfg.Scorer.Score(ctx, q)
	switch {
	case errors.Is(err, model.ErrNotScorable):
		return errUnscorable{fmt.Errorf("challenge %s sample %d: %w", rec.ID, rec.Sample, err)}
	case err != nil:
		return err
	}
	alts, err := s.scoreAlts(ctx, rec, sc.Tokens)
	if err != nil {
		return err
	}
	rec.Loglik, rec.Scored, rec.AltLogliks = sc.Sum, true, alts
	return nil
}

// scoreAlts scores the tokens the trusted model scored under every
// alternative; an output one of them cannot score is unscorable whole, so
// that a scored record always has every alternative.
func (s *scoring) scoreAlts(ctx context.Context, rec *format.Record, tokens []int32) ([]float64, error) {
	if len(s.cfg.Alts) == 0 {
		return nil, nil
	}
	out := make([]float64, len(s.cfg.Alts))
	for i, a := range s.cfg.Alts {
		sc, err := a.Scorer.Score(ctx, model.ScoreQuery{Prompt: rec.Prompt, Tokens: tokens, Text: rec.Text, Stop: rec.Finish == "stop"})
		switch {
		case errors.Is(err, model.ErrNotScorable):
			return nil, errUnscorable{fmt.Errorf("challenge %s sample %d: alternative %d: %w", rec.ID, rec.Sample, i+1, err)}
		case err != nil:
			return nil, err
		}
		out[i] = sc.Sum
	}
	return out, nil
}

// collect writes the results in input order as they come, flushing every
// FlushEvery, until the scorers are done or a write or a job fails.
func (s *scoring) collect(results <-chan scoreJob, window <-chan struct{}) error {
	tick := time.NewTicker(FlushEvery)
	defer tick.Stop()
	pending := map[int]scoreJob{}
	next := 0
	dirty := false
	for {
		select {
		case res, ok := <-results:
			if !ok {
				return s.flush(dirty)
			}
			pending[res.seq] = res
			for j, ok := pending[next]; ok; j, ok = pending[next] {
				delete(pending, next)
				next++
				<-window
				if err := s.write(&j); err != nil {
					return err
				}
				dirty = true
			}
			if dirty && s.pace.full() {
				// The reader waits for the pipe's reader to take these.
				if err := s.flush(dirty); err != nil {
					return err
				}
				dirty = false
			}
		case <-tick.C:
			if err := s.flush(dirty); err != nil {
				return err
			}
			dirty = false
		}
	}
}

// write writes the next record in order, under a new segment when it
// starts one.
func (s *scoring) write(j *scoreJob) error {
	var un errUnscorable
	switch {
	case errors.As(j.err, &un):
		s.st.Unscorable++
		if s.st.First == nil {
			s.st.First = un.err
		}
	case j.err != nil:
		return j.err
	}
	if j.h != nil {
		if err := s.segment(j.h); err != nil {
			return err
		}
	}
	s.st.Read++
	s.pace.wrote()
	return s.w.Write(&j.rec)
}

// segment closes the segment being written, if any, and starts one under
// h labelled with the scorer.
func (s *scoring) segment(h *format.Header) error {
	if s.w != nil {
		if err := s.w.Close(); err != nil {
			return err
		}
	}
	w, err := format.NewWriter(s.out, s.label(*h), s.cfg.WriterOptions...)
	if err != nil {
		return err
	}
	s.w = w
	return nil
}

// label is h with the labels that say what scored the stream, and how.
func (s *scoring) label(h format.Header) format.Header {
	h.Labels = maps.Clone(h.Labels)
	if h.Labels == nil {
		h.Labels = map[string]string{}
	}
	h.Labels[compare.LabelLoglikModel] = compare.ModelName(&format.Header{Model: s.cfg.Model}) + "@" + s.cfg.Model.Digest
	h.Labels[compare.LabelLoglikBy] = s.cfg.By
	for k := range h.Labels {
		if compare.IsAltLabel(k) {
			delete(h.Labels, k) // a stream scored again names its own alternatives
		}
	}
	for i, a := range s.cfg.Alts {
		h.Labels[compare.LabelLoglikAlt(i+1)] = compare.ModelName(&format.Header{Model: a.Model}) + "@" + a.Model.Digest
	}
	return h
}

// flush pushes what was written on to the reader.
func (s *scoring) flush(dirty bool) error {
	if !dirty || s.w == nil {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		return err
	}
	return s.out.Flush()
}

// end closes the last segment; a stream with no record is written as its
// first header alone, so that the output is a stream all the same.
func (s *scoring) end(first *format.Header) error {
	if s.w == nil {
		if err := s.segment(first); err != nil {
			return err
		}
	}
	if err := s.w.Close(); err != nil {
		return err
	}
	return s.out.Flush()
}

// ScoreWaste bounds the queries that potgen -j genJobs makes and the
// reader at the end of `potgen | potgen score -j scoreJobs | READER` never
// uses, when the reader holds at most readAhead records it decoded and did
// not use (compare.ReadAhead for potcmp). Both writers are paced (see
// Lead): potgen score scores at most Waste(scoreJobs, readAhead) records
// its reader never uses, and potgen makes at most Waste(genJobs, 1) queries
// that potgen score never starts to score, the 1 being the record its
// reading holds while it waits to start it.
func ScoreWaste(genJobs, scoreJobs, readAhead int) int {
	return Waste(genJobs, 1) + Waste(scoreJobs, readAhead)
}
