package compare

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/score"
	"github.com/pot-audit/pot/internal/seqtest"
)

// Config is what a comparison is asked to do: the score, the test and its
// error level, the budget. It is a plain value, so that a comparison can
// be made and read without a command line.
type Config struct {
	Alpha     float64 // P(wrong verdict) <= Alpha for each kind of error
	Tolerance float64 // the largest mean score still called SAME
	Score     string  // "auto" or one of score.Names()
	Test      string  // a seqtest name: "betting" or "eb"
	MaxN      int     // stop UNDECIDED after this many scores; 0: until the candidate ends
	// Observe, when set, is called with every score fed to the test, in
	// order; an error it returns stops the comparison with that error.
	Observe func(Observation) error
	// RefSigners and CandSigners, when not empty, are the keys trusted to
	// sign the reference and the candidates: every segment must be signed
	// by one of them, or the comparison is trouble (see trust.go).
	RefSigners, CandSigners []ed25519.PublicKey
}

// Observation is one score fed to the test, with the bounds after it: a
// line of the transcript from which an audit is checked again.
type Observation struct {
	Ref    string  `json:"ref,omitempty"`
	Cand   string  `json:"cand,omitempty"`
	N      int     `json:"n"`
	ID     string  `json:"id"`
	Sample *int64  `json:"sample,omitempty"` // absent for mmd, which scores all samples of a challenge
	Score  float64 `json:"score"`
	Mean   float64 `json:"mean"`
	Lower  float64 `json:"lower"`
	Upper  float64 `json:"upper"`
}

// maxPending bounds the pairs held back while auto waits for a pair that
// shows what both streams carry (empty outputs do not). Past it the score
// is chosen from whatever pair comes.
const maxPending = 256

// Comparison is one reference against one candidate: the join, the score
// and the sequential test. Records come in through Add, one at a time, in
// the candidate's order.
type Comparison struct {
	cfg   Config
	join  joiner
	cand  string
	candH format.Header

	scoreName string // "" while auto has not chosen
	fn        score.Func
	test      seqtest.Test // a recorder when calibrating
	pending   []pending    // auto: pairs waiting for the choice of a score
	groups    *groups      // mmd

	read, unmatched, dups int64
	refFailed, candFailed int64
	err                   error  // trouble: no verdict
	done                  bool   // nothing more to read for this comparison
	stop                  string // why it stopped: decided, max-n, end
	candErr               error  // the candidate stream's own failure, if any
}

type pending struct {
	ref, cand format.Record
}

// New checks that the two streams can be compared and sets up the test; an
// explicit score is checked against the headers at once. cand names the
// candidate in messages and results.
func New(cfg Config, ref *Reference, cand string, candH format.Header) (*Comparison, error) {
	if err := WantOutputs(cand, &candH); err != nil {
		return nil, err
	}
	if err := Compatible(ref.name, cand, &ref.header, &candH); err != nil {
		return nil, err
	}
	c := &Comparison{cfg: cfg, join: joiner{ref: ref}, cand: cand, candH: candH}
	t, err := seqtest.New(cfg.Test, cfg.Alpha, cfg.Tolerance)
	if err != nil {
		return nil, cli.Usage(err)
	}
	c.test = t
	if cfg.Score != "auto" {
		if err := c.setScore(cfg.Score); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// ref is the reference as the join holds it now: the one given to New, or
// the same loaded whole when a streamed join gave up streaming.
func (c *Comparison) ref() *Reference { return c.join.ref }

// setScore fixes the score for the rest of the comparison.
func (c *Comparison) setScore(name string) error {
	ref := c.ref()
	if err := score.Check(name, &ref.header, &c.candH); err != nil {
		return cli.BadInput(fmt.Errorf("%s vs %s: %w", ref.name, c.cand, err))
	}
	if err := CheckSeeds(ref.name, c.cand, &ref.header, &c.candH, name); err != nil {
		return err
	}
	c.scoreName = name
	if sp, _ := score.Lookup(name); sp.Sets {
		// A score of sample sets (mmd) scores a challenge's K samples at once.
		c.groups = newGroups(max(c.candH.Sampling.Samples, 1))
		return nil
	}
	fn, err := score.ByName(name)
	if err != nil {
		return cli.Usage(err)
	}
	c.fn = fn
	return nil
}

// Done reports whether the comparison needs no more candidate records.
func (c *Comparison) Done() bool { return c.done }

// Add takes the next candidate record.
func (c *Comparison) Add(rec *format.Record) {
	if c.done {
		return
	}
	c.read++
	if c.groups != nil {
		c.addSample(rec)
		return
	}
	var ref format.Record
	ok, dup, err := c.join.find(rec, &ref)
	switch {
	case err != nil:
		c.fail(err)
		return
	case !ok:
		c.unmatched++
		return
	case dup:
		c.dups++
		return
	}
	if c.failed(&ref, rec) {
		return
	}
	if c.fn == nil {
		c.choose(&ref, rec)
		return
	}
	c.score(&ref, rec)
}

// choose is auto's choice of a score: from the first pair that shows what
// both streams carry, the pairs before it held back and then scored.
func (c *Comparison) choose(ref, cand *format.Record) {
	if (!shows(ref) || !shows(cand)) && len(c.pending) < maxPending {
		c.pending = append(c.pending, pending{*ref, *cand})
		return
	}
	r := c.ref()
	if err := c.setScore(score.Choose(&r.header, &c.candH, ref, cand)); err != nil {
		c.fail(err)
		return
	}
	for _, p := range c.pending {
		if c.score(&p.ref, &p.cand); c.done {
			return
		}
	}
	c.pending = nil
	c.score(ref, cand)
}

// fail stops the comparison with trouble: no verdict.
func (c *Comparison) fail(err error) { c.err, c.done = err, true }

// failed counts a pair where either side is a failure: it has no output,
// so it is skipped, never scored as agreement.
func (c *Comparison) failed(ref, cand *format.Record) bool {
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

func (c *Comparison) score(ref, cand *format.Record) {
	x, err := c.fn(ref, cand)
	if err != nil {
		c.fail(cli.BadInput(fmt.Errorf("challenge %s sample %d: %w (try a weaker --score, such as text)", cand.ID, cand.Sample, err)))
		return
	}
	c.observe(x, cand.ID, int64(cand.Sample))
}

// addSample collects an mmd group and scores it when the candidate's K
// samples of the challenge are all in.
func (c *Comparison) addSample(rec *format.Record) {
	if err := c.join.whole(); err != nil {
		c.fail(err)
		return
	}
	id := joinID(rec)
	refs, ok := c.ref().byID[id]
	if !ok {
		c.unmatched++
		return
	}
	g, dup := c.groups.add(id, rec)
	switch {
	case dup:
		c.dups++
		return
	case g == nil:
		return
	}
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
		c.fail(cli.BadInput(fmt.Errorf("challenge %s: %w", rec.ID, err)))
		return
	}
	c.observe(x, rec.ID, -1)
}

// observe feeds one score to the test and stops at a verdict or the budget.
func (c *Comparison) observe(x float64, id string, sample int64) {
	if err := c.test.Add(x); err != nil {
		c.fail(fmt.Errorf("challenge %s: %w", id, err))
		return
	}
	if c.cfg.Observe != nil {
		o := Observation{Ref: c.ref().name, Cand: c.cand, N: c.test.N(), ID: id, Score: x, Mean: c.test.Mean()}
		if sample >= 0 {
			o.Sample = &sample
		}
		o.Lower, o.Upper = c.test.Bounds()
		if err := c.cfg.Observe(o); err != nil {
			c.fail(err)
			return
		}
	}
	switch {
	case c.test.Decision() != seqtest.Undecided:
		c.done, c.stop = true, "decided"
	case c.cfg.MaxN > 0 && c.test.N() >= c.cfg.MaxN:
		c.done, c.stop = true, "max-n"
	}
}

// Finish is called when the candidate has ended, or failed with candErr:
// what could not be scored is left as it is.
func (c *Comparison) Finish(candErr error) {
	c.candErr = candErr
	if c.stop == "" {
		c.stop = "end"
	}
	if c.err == nil && c.fn == nil && len(c.pending) > 0 {
		// The candidate ended before a pair showed anything: every pair
		// was empty on one side, and the choice falls on what there is.
		p := c.pending[0]
		r := c.ref()
		if err := c.setScore(score.Choose(&r.header, &c.candH, &p.ref, &p.cand)); err != nil {
			c.err = err
		} else {
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

// Verdict is the test's verdict, Undecided on trouble.
func (c *Comparison) Verdict() seqtest.Verdict {
	if c.err != nil {
		return seqtest.Undecided
	}
	return c.test.Decision()
}

// Err is the trouble that leaves the comparison without a verdict, if any:
// streams that cannot be compared, a reference that failed to load, or a
// candidate with records of which none met a reference record (no
// challenge in common: trouble, not an undecided test).
func (c *Comparison) Err() error {
	if c.err != nil {
		return c.err
	}
	if c.read > 0 && c.joined() == 0 {
		r := c.ref()
		return cli.BadInputf("%s and %s have no (challenge, sample) in common: %d candidate records, none in the reference of %d",
			r.name, c.cand, c.read, r.n)
	}
	return nil
}

// joined is the number of pairs that met, scored or not.
func (c *Comparison) joined() int64 { return c.read - c.unmatched - c.dups }

// groups collects mmd's sample sets: a candidate challenge waits until
// all its K samples have come, and is scored once.
type groups struct {
	samples int
	open    map[string][]format.Record
	scored  map[string]bool
}

func newGroups(samples int) *groups {
	return &groups{samples: samples, open: map[string][]format.Record{}, scored: map[string]bool{}}
}

// add adds rec to the group of challenge id and returns the group once it
// is complete; dup reports a sample that came before.
func (g *groups) add(id string, rec *format.Record) (full []format.Record, dup bool) {
	set := g.open[id]
	if g.scored[id] || containsSample(set, rec.Sample) {
		return nil, true
	}
	set = append(set, *rec)
	if len(set) < g.samples {
		g.open[id] = set
		return nil, false
	}
	delete(g.open, id)
	g.scored[id] = true
	return set, false
}

func containsSample(g []format.Record, s uint32) bool {
	for i := range g {
		if g[i].Sample == s {
			return true
		}
	}
	return false
}

// recorder is the test of a calibration: it keeps every score and decides
// nothing, so that the comparison scores every pair up to the budget.
type recorder struct {
	scores []float64
	sum    float64
}

func (r *recorder) Add(x float64) error {
	if !(x >= 0 && x <= 1) {
		return fmt.Errorf("%w: %v", seqtest.ErrValue, x)
	}
	r.scores = append(r.scores, x)
	r.sum += x
	return nil
}

func (r *recorder) N() int { return len(r.scores) }

func (r *recorder) Mean() float64 {
	if len(r.scores) == 0 {
		return 0
	}
	return r.sum / float64(len(r.scores))
}

func (r *recorder) Bounds() (lower, upper float64) { return 0, 1 }

func (r *recorder) Decision() seqtest.Verdict { return seqtest.Undecided }
