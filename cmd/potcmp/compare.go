package main

import (
	"errors"
	"fmt"
	"math"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/score"
	"github.com/pot-audit/pot/internal/seqtest"
)

// maxPending bounds the pairs held back while auto waits for a pair that
// shows what both streams carry (empty outputs do not). Past it the score
// is chosen from whatever pair comes.
const maxPending = 256

// comparison is one reference against one candidate: the join, the score
// and the sequential test. Records come in through add, one at a time, in
// the candidate's order.
type comparison struct {
	o     *options
	ref   *reference
	cand  string
	candH format.Header

	scoreName string // "" while auto has not chosen
	fn        score.Func
	test      seqtest.Test
	pending   []pending
	seen      []uint64 // bit i: reference record i was joined already

	// The join: v is the reference as far as this comparison has seen it
	// loaded (whole when vDone), next the position after the last join.
	v     view
	vDone bool
	next  int

	// The streamed join (reference.recs): win holds the records handed
	// over and not yet passed, win[0] being record next.
	win []refItem

	// mmd: candidate samples of a challenge wait until all K have come.
	samples int
	groups  map[string][]format.Record
	scored  map[string]bool

	calib  bool      // --calibrate: score everything, decide nothing
	scores []float64 // the scores, when calibrating

	tr *transcript

	read, unmatched, dups int64
	refFailed, candFailed int64
	err                   error  // trouble: no verdict
	done                  bool   // nothing more to read for this comparison
	stop                  string // why it stopped: decided, max-n
	candErr               error  // the candidate stream's own failure, if any
}

type pending struct {
	ref, cand format.Record
}

// newComparison checks that the two streams can be compared and sets up
// the test; an explicit score is checked against the headers at once.
func newComparison(o *options, ref *reference, cand string, candH format.Header, tr *transcript) (*comparison, error) {
	if err := checkKind(cand, &candH); err != nil {
		return nil, err
	}
	if err := comparable(ref.name, cand, &ref.header, &candH); err != nil {
		return nil, err
	}
	c := &comparison{o: o, ref: ref, cand: cand, candH: candH, tr: tr}
	t, err := seqtest.New(o.test, o.alpha, o.tolerance)
	if err != nil {
		return nil, cli.Usage(err)
	}
	c.test = t
	if o.score != "auto" {
		if err := c.setScore(o.score); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// setScore fixes the score for the rest of the comparison.
func (c *comparison) setScore(name string) error {
	if err := score.Check(name, &c.ref.header, &c.candH); err != nil {
		return cli.Usage(fmt.Errorf("%s vs %s: %w", c.ref.name, c.cand, err))
	}
	if err := checkSeeds(c.ref.name, c.cand, &c.ref.header, &c.candH, name); err != nil {
		return err
	}
	c.scoreName = name
	if name == "mmd" {
		c.samples = max(c.candH.Sampling.Samples, 1)
		c.groups = map[string][]format.Record{}
		c.scored = map[string]bool{}
		return nil
	}
	fn, err := score.ByName(name)
	if err != nil {
		return cli.Usage(err)
	}
	c.fn = fn
	return nil
}

// add takes the next candidate record.
func (c *comparison) add(rec *format.Record) {
	if c.done {
		return
	}
	c.read++
	if c.scoreName == "mmd" {
		c.addSample(rec)
		return
	}
	i, ok := c.join(rec.ID, rec.Sample)
	if c.done {
		return
	}
	if !ok {
		c.unmatched++
		return
	}
	if i/64 >= len(c.seen) {
		c.seen = append(c.seen, make([]uint64, max(i/64+1-len(c.seen), len(c.seen)))...)
	}
	if c.seen[i/64]&(1<<(i%64)) != 0 {
		// A repeated record is not a new observation: scoring it again
		// would let a candidate repeat its best answers.
		c.dups++
		return
	}
	c.seen[i/64] |= 1 << (i % 64)
	var ref format.Record
	if c.ref.recs != nil {
		ref = c.win[0].rec
		c.win = c.win[1:]
	} else {
		c.v.record(i, &ref)
	}
	if c.failed(&ref, rec) {
		return
	}
	if c.fn == nil {
		if !shows(&ref) || !shows(rec) {
			if len(c.pending) < maxPending {
				c.pending = append(c.pending, pending{ref, *rec})
				return
			}
		}
		if c.err = c.setScore(score.Choose(&c.ref.header, &c.candH, &ref, rec)); c.err != nil {
			c.done = true
			return
		}
		for _, p := range c.pending {
			if c.score(&p.ref, &p.cand); c.done {
				return
			}
		}
		c.pending = nil
	}
	c.score(&ref, rec)
}

// lookahead is how far past the last join join looks for the next one
// before it falls back on the index: a candidate in the reference's order
// with a few records missing (failed upstream, or a shard of every few
// records) still joins by walking.
const lookahead = 16

// join returns the position of the reference record (id, sample). A
// candidate in the reference's order, the usual case since potgen writes
// (challenge, sample) order, joins by walking along the reference while it
// loads; any other record waits for the whole reference and its index.
// When the reference fails to load, join stops the comparison with its
// error. On a streamed reference the walk takes the records as they are
// handed over, and the first record it does not find ahead loads the
// reference whole (see hold).
func (c *comparison) join(id string, sample uint32) (int, bool) {
	if c.ref.recs != nil {
		if i, ok := c.joinStream(id, sample); ok {
			return i, true
		}
		if !c.hold() {
			return 0, false
		}
	}
	for p := c.next; p < c.next+lookahead; p++ {
		if p >= c.v.n && !c.vDone {
			c.v, c.vDone = c.ref.await(p)
		}
		if p >= c.v.n {
			break
		}
		if c.v.is(p, id, sample) {
			c.next = p + 1
			return p, true
		}
	}
	if !c.vDone {
		c.v, c.vDone = c.ref.await(math.MaxInt)
	}
	if c.ref.err != nil {
		c.err, c.done = c.ref.err, true
		return 0, false
	}
	i, ok := c.ref.index.find(&c.v, id, sample)
	if ok {
		c.next = int(i) + 1
	}
	return int(i), ok
}

// joinStream is join on a streamed reference: it looks for (id, sample)
// among the next lookahead records handed over, and on success leaves it
// first in win, the records before it dropped for good.
func (c *comparison) joinStream(id string, sample uint32) (int, bool) {
	for k := 0; k < lookahead; k++ {
		if k == len(c.win) {
			batch, ok := <-c.ref.recs
			if !ok {
				return 0, false
			}
			if len(c.win) == 0 {
				c.win = batch
			} else {
				c.win = append(c.win, batch...)
			}
		}
		if it := &c.win[k]; it.rec.Sample == sample && it.rec.ID == id {
			c.win = c.win[k:]
			c.next = it.i + 1
			return it.i, true
		}
	}
	return 0, false
}

// hold gives up streaming the reference, when the candidate has left its
// order or ended it: the reference is loaded whole, from the start, and
// waited for, so that what the comparison reads of it afterwards is
// final. The records joined so far keep their positions, which the two
// loads number alike. False when it could not be loaded, which stops the
// comparison.
func (c *comparison) hold() bool {
	c.ref.stopStream()
	c.win = nil
	full, err := c.ref.reopen()
	if err == nil {
		err = full.wait()
	}
	if err != nil {
		// The streamed load meets the same trouble, and reports it
		// first (see compareOne).
		c.err, c.done = err, true
		return false
	}
	c.ref = full
	c.v, c.vDone = full.await(math.MaxInt)
	return true
}

// whole waits for the whole reference, for what needs all of it; false
// when it failed to load, which stops the comparison.
func (c *comparison) whole() bool {
	if c.ref.recs != nil && !c.hold() {
		return false
	}
	if !c.vDone {
		c.v, c.vDone = c.ref.await(math.MaxInt)
	}
	if c.ref.err != nil {
		c.err, c.done = c.ref.err, true
		return false
	}
	return true
}

// failed counts a pair where either side is a failure: it has no output,
// so it is skipped, never scored as agreement.
func (c *comparison) failed(ref, cand *format.Record) bool {
	switch {
	case ref.Err != "":
		c.refFailed++
	case cand.Err != "":
		c.candFailed++
	default:
		return false
	}
	return true
}

// shows reports whether a record shows what its backend reports: a pair of
// them is what Choose needs.
func shows(r *format.Record) bool { return r.Positions() > 0 || r.Text != "" }

func (c *comparison) score(ref, cand *format.Record) {
	x, err := c.fn(ref, cand)
	if err != nil {
		c.err = cli.Usage(fmt.Errorf("challenge %s sample %d: %w (try a weaker --score, such as text)", cand.ID, cand.Sample, err))
		c.done = true
		return
	}
	c.observe(x, cand.ID, int64(cand.Sample))
}

// addSample collects an mmd group and scores it when the candidate's K
// samples of the challenge are all in.
func (c *comparison) addSample(rec *format.Record) {
	if !c.whole() {
		return
	}
	refs, ok := c.ref.byID[rec.ID]
	if !ok {
		c.unmatched++
		return
	}
	g := c.groups[rec.ID]
	if c.scored[rec.ID] || containsSample(g, rec.Sample) {
		c.dups++
		return
	}
	g = append(g, *rec)
	if len(g) < c.samples {
		c.groups[rec.ID] = g
		return
	}
	delete(c.groups, rec.ID)
	c.scored[rec.ID] = true
	x, err := score.MMD(refs, g, 0)
	switch {
	case errors.Is(err, score.ErrFailed):
		for i := range refs {
			if refs[i].Err != "" {
				c.refFailed++
				return
			}
		}
		c.candFailed++
		return
	case err != nil:
		c.err = cli.Usage(fmt.Errorf("challenge %s: %w", rec.ID, err))
		c.done = true
		return
	}
	c.observe(x, rec.ID, -1)
}

func containsSample(g []format.Record, s uint32) bool {
	for i := range g {
		if g[i].Sample == s {
			return true
		}
	}
	return false
}

// observe feeds one score to the test and stops at a verdict or the budget.
func (c *comparison) observe(x float64, id string, sample int64) {
	if c.calib {
		c.scores = append(c.scores, x)
		if c.o.maxN > 0 && len(c.scores) >= c.o.maxN {
			c.done, c.stop = true, "max-n"
		}
		return
	}
	if err := c.test.Add(x); err != nil {
		c.err = fmt.Errorf("challenge %s: %w", id, err)
		c.done = true
		return
	}
	if c.tr != nil {
		if err := c.tr.observation(c, id, sample, x); err != nil {
			c.err = err
			c.done = true
			return
		}
	}
	switch {
	case c.test.Decision() != seqtest.Undecided:
		c.done, c.stop = true, "decided"
	case c.o.maxN > 0 && c.test.N() >= c.o.maxN:
		c.done, c.stop = true, "max-n"
	}
}

// finish is called when the candidate has ended (or failed with candErr):
// what could not be scored is left as it is.
func (c *comparison) finish(candErr error) {
	c.candErr = candErr
	if c.stop == "" {
		c.stop = "end"
	}
	if c.err == nil && c.fn == nil && len(c.pending) > 0 {
		// The candidate ended before a pair showed anything: every pair
		// was empty on one side, and the choice falls on what there is.
		p := c.pending[0]
		if c.err = c.setScore(score.Choose(&c.ref.header, &c.candH, &p.ref, &p.cand)); c.err == nil {
			c.done = false
			for _, q := range c.pending {
				if c.score(&q.ref, &q.cand); c.done {
					break
				}
			}
		}
		c.pending = nil
	}
}

// verdict is the test's verdict, Undecided on trouble.
func (c *comparison) verdict() seqtest.Verdict {
	if c.err != nil || c.calib {
		return seqtest.Undecided
	}
	return c.test.Decision()
}

// joined is the number of pairs that met, scored or not.
func (c *comparison) joined() int64 { return c.read - c.unmatched - c.dups }

// noCommon says whether the candidate had records but none met a reference
// record: the streams have no challenge in common, which is trouble, not
// an undecided test.
func (c *comparison) noCommon() error {
	if c.err == nil && c.read > 0 && c.joined() == 0 {
		return cli.Usagef("%s and %s have no (challenge, sample) in common: %d candidate records, none in the reference of %d",
			c.ref.name, c.cand, c.read, c.ref.n)
	}
	return nil
}
