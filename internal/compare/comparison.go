package compare

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/score"
	"github.com/pot-audit/pot/internal/seqtest"
	"github.com/pot-audit/pot/internal/tokens"
)

// Config is what a comparison is asked to do: the score, the test and its
// error level, the budget. It is a plain value, so that a comparison can
// be made and read without a command line.
type Config struct {
	Alpha float64 // P(wrong verdict) <= Alpha for each kind of error
	// Tolerance is the largest mean score still called SAME; 0 takes the
	// chosen score's own (score.Spec.Tolerance).
	Tolerance float64
	Score     string // "auto" or one of score.Names()
	Test      string // a seqtest name: "betting" or "eb"
	MaxN      int    // stop UNDECIDED after this many scores; 0: until the candidate ends
	// Tokens is how the two sides' tokens are matched: "auto" (or "")
	// decides from the evidence the streams give (see internal/tokens),
	// "ids" takes the ids as one vocabulary's on the user's word, "bytes"
	// matches tokens by their bytes whatever the ids.
	Tokens string
	// SkipFailures skips the candidate's failed records instead of scoring
	// each as the largest distance, 1. The guarantee then holds only if
	// the failures do not depend on what the model would have answered.
	SkipFailures bool
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
	// Failed says the score stands for a failed candidate record: the
	// worst case for the candidate (1, or for rank the rank fed to the
	// test martingale; see seqtest.Rank.AddWorst).
	Failed bool    `json:"failed,omitempty"`
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
	by        score.Identity  // how tokens are matched, once the score is set
	decision  tokens.Decision // what the match rests on
	// refEv and candEv gather what the joined pairs say of their tokens
	// while the ids' comparability rests on them (not under one stated
	// digest, nor on the user's word); nil otherwise.
	refEv, candEv *tokens.Evidence
	// refIDs and candIDs say that a side's joined records gave token ids.
	refIDs, candIDs bool
	test            seqtest.Test    // a recorder when calibrating
	pending         []pending       // auto: pairs waiting for the choice of a score
	groups          *groups         // mmd
	kernel          score.Kernel    // mmd
	rankSeen        map[string]bool // rank: the challenges scored
	lr              *seqtest.LR     // lr: the likelihood-ratio test, in place of test
	lrSeen          map[Key]bool    // lr: the outputs taken

	read, unmatched, dups int64
	refFailed, candFailed int64
	candOK                int64  // successful candidate records joined
	firstFail             string // the first candidate failure, for a message
	err                   error  // trouble: no verdict
	done                  bool   // nothing more to read for this comparison
	stop                  string // why it stopped: decided, max-n, end
	candErr               error  // the candidate stream's own failure, if any
	calibrating           bool   // a calibration's: failures are skipped, not held against anyone
}

// pending is a pair held back until the score is chosen; failed marks a
// candidate failure, to be scored 1 then (ref and cand hold its key only).
type pending struct {
	ref, cand format.Record
	failed    bool
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
	if cfg.Tolerance > 0 {
		t, err := seqtest.New(cfg.Test, cfg.Alpha, cfg.Tolerance)
		if err != nil {
			return nil, cli.Usage(err)
		}
		c.test = t
	}
	rv := ref.header.Model.Vocab
	sp, _ := score.Lookup(cfg.Score)
	switch cfg.Tokens {
	case "ids":
		c.by, c.decision = score.ByID, tokens.Decision{IDs: true, Basis: asserted}
	case "bytes":
		c.by, c.decision = score.ByBytes, tokens.Decision{Basis: tokens.ByBytes, Why: "--tokens-by bytes"}
	case "", "auto":
		if rv != "" && rv == candH.Model.Vocab {
			// One stated vocabulary: its ids compare, nothing to gather.
			c.by, c.decision = score.ByID, tokens.Decision{IDs: true, Basis: tokens.SameDigest}
			break
		}
		c.refEv, c.candEv = tokens.NewEvidence(&ref.header), tokens.NewEvidence(&candH)
	default:
		return nil, cli.Usagef("--tokens-by %q: want auto, ids or bytes", cfg.Tokens)
	}
	if cfg.Score != "auto" && (c.candEv == nil || !sp.IDs) {
		// The score is known and needs no evidence: set it now, so that a
		// refusal comes before any record is read.
		if err := c.setScore(cfg.Score); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// asserted is the basis of ids taken as one vocabulary's on the user's
// word (--tokens-by ids).
const asserted tokens.Basis = "asserted by --tokens-by ids"

// ref is the reference as the join holds it now: the one given to New, or
// the same loaded whole when a streamed join gave up streaming.
func (c *Comparison) ref() *Reference { return c.join.ref }

// setScore fixes the score for the rest of the comparison, with the
// tokens matched as c.by says.
func (c *Comparison) setScore(name string) error {
	ref := c.ref()
	sp, ok := score.Lookup(name)
	if !ok {
		return cli.Usagef("unknown score %q", name)
	}
	if sp.IDs && c.by != score.ByID && (c.by == score.ByText || !sp.Bytes) {
		return cli.BadInput(fmt.Errorf("%s vs %s: --score %s compares token ids, which do not compare here (%s); use --score text, or --tokens-by ids if you know the vocabularies are one: %w",
			ref.name, c.cand, name, c.decision.Why, score.ErrVocab))
	}
	if err := CheckSeeds(ref.name, c.cand, &ref.header, &c.candH, name); err != nil {
		return err
	}
	if sp.Ratios {
		t, err := lrSetup(c.cfg, ref.name, c.cand, &ref.header, &c.candH)
		if err != nil {
			return err
		}
		c.scoreName, c.refEv, c.candEv = name, nil, nil
		c.lr, c.lrSeen = t, map[Key]bool{}
		return nil
	}
	if c.test == nil {
		t, err := seqtest.New(c.cfg.Test, c.cfg.Alpha, sp.Tolerance)
		if err != nil {
			return cli.Usage(err)
		}
		c.test = t
	}
	c.scoreName = name
	if !sp.IDs || c.by != score.ByID || c.decision.Basis != tokens.CheckedIDs {
		// Nothing rests on the ids' evidence any more.
		c.refEv, c.candEv = nil, nil
	}
	tol := c.cfg.Tolerance
	if tol <= 0 {
		tol = sp.Tolerance
	}
	if sp.Ranks {
		t, err := rankSetup(c.cfg, tol, ref.name, c.cand, &ref.header, &c.candH)
		if err != nil {
			return err
		}
		c.test, c.rankSeen = t, map[string]bool{}
		return nil
	}
	if sp.Sets {
		// A score of sample sets (mmd) scores a challenge's K samples at once.
		// Token ids under one vocabulary (a stated digest, or the user's
		// word), else texts.
		k, t, err := mmdSetup(c.cfg, tol, ref.name, c.cand, &ref.header, &c.candH, c.by == score.ByID)
		if err != nil {
			return err
		}
		c.kernel, c.test = k, t
		c.groups = newGroups(max(c.candH.Sampling.Samples, 1))
		return nil
	}
	fn, err := score.ByNameAs(name, c.by)
	if err != nil {
		return cli.Usage(err)
	}
	c.fn = fn
	return nil
}

// Tolerance is the tolerance the test decides with: the one asked for, or
// the chosen score's own; 0 while auto has not chosen.
func (c *Comparison) Tolerance() float64 {
	if c.cfg.Tolerance > 0 {
		return c.cfg.Tolerance
	}
	if sp, ok := score.Lookup(c.scoreName); ok {
		return sp.Tolerance
	}
	return 0
}

// Done reports whether the comparison needs no more candidate records.
func (c *Comparison) Done() bool { return c.done }

// Add takes the next candidate record.
func (c *Comparison) Add(rec *format.Record) {
	if c.done {
		return
	}
	c.read++
	if c.rankSeen != nil {
		c.addRanked(rec)
		return
	}
	if c.lr != nil {
		c.addLR(rec)
		return
	}
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
	if c.candEv != nil {
		c.refEv.Add(&ref)
		c.candEv.Add(rec)
		c.refIDs = c.refIDs || len(ref.Tokens) > 0 || len(ref.TopTokens) > 0
		c.candIDs = c.candIDs || len(rec.Tokens) > 0 || len(rec.TopTokens) > 0
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
		c.pending = append(c.pending, pending{ref: *ref, cand: *cand})
		return
	}
	if err := c.setScore(c.pick(ref, cand)); err != nil {
		c.fail(err)
		return
	}
	for i := range c.pending {
		if c.scorePending(&c.pending[i]); c.done {
			return
		}
	}
	c.pending = nil
	c.score(ref, cand)
}

// pick decides how tokens match from the evidence of the pairs so far, and
// returns the score asked for, or under auto the strongest the pair
// supports so matched. Ids compare as tokens.Decide says. Where they do
// not and a side gives no ids at all (OpenAI's legacy token strings, a
// chat endpoint), tokens are matched by bytes. Where both sides give ids
// that do not compare (other vocabularies, or a side that withholds the
// bytes of its ids), only text is left: two tokenizers of one text are not
// evidence of two models, and ids whose bytes a side will not say are
// not evidence of anything.
func (c *Comparison) pick(ref, cand *format.Record) string {
	if c.candEv != nil {
		c.decision = tokens.Decide(c.refEv, c.candEv)
		switch {
		case c.decision.IDs:
			c.by = score.ByID
		case c.decision.Basis == tokens.ByBytes && !(c.refIDs && c.candIDs):
			c.by = score.ByBytes
		default:
			c.by = score.ByText
		}
	}
	if c.cfg.Score != "auto" {
		return c.cfg.Score
	}
	return score.Pick(c.by, ref, cand)
}

// scorePending scores a pair held back for the choice of the score.
func (c *Comparison) scorePending(p *pending) {
	if p.failed {
		c.observeFailed(p.cand.ID, int64(p.cand.Sample))
		return
	}
	c.score(&p.ref, &p.cand)
}

// fail stops the comparison with trouble: no verdict.
func (c *Comparison) fail(err error) { c.err, c.done = err, true }

// failed handles a pair where either side is a failure, which has no
// output to score. A reference failure is not the candidate's doing: the
// pair is skipped. A candidate failure is scored as the largest distance,
// 1, so that no choice of where to fail makes SAME likelier (with
// SkipFailures it is skipped). Before the score is chosen it waits with
// the other pairs; a candidate that has failed maxPending times without
// one success is stopped (see Err).
func (c *Comparison) failed(ref, cand *format.Record) bool {
	switch {
	case ref.Err != "":
		c.refFailed++
		return true
	case cand.Err == "":
		c.candOK++
		return false
	}
	c.candFailed++
	if c.firstFail == "" {
		c.firstFail = cand.Err
	}
	switch {
	case c.cfg.SkipFailures:
	case c.fn != nil:
		c.observeFailed(cand.ID, int64(cand.Sample))
	default:
		c.pending = append(c.pending, pending{cand: format.Record{ID: cand.ID, Sample: cand.Sample}, failed: true})
	}
	if c.candOK == 0 && c.candFailed >= maxPending {
		c.done, c.stop = true, "failing"
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
	case len(refs) < c.ref().header.Sampling.Samples:
		// Fewer samples than the header says widen the statistic's range
		// past the one the test was given: not scored, counted.
		c.refFailed++
		return
	}
	x, err := mmdScore(refs, g, c.kernel)
	switch {
	case errors.Is(err, score.ErrFailed):
		for i := range refs {
			if refs[i].Err != "" {
				c.refFailed++
				return
			}
		}
		for i := range g {
			if g[i].Err != "" {
				c.candFailed++
				if c.firstFail == "" {
					c.firstFail = g[i].Err
				}
			}
		}
		if !c.cfg.SkipFailures {
			// 1 is the top of the statistic's range: whatever the failed
			// samples would have been, the challenge could score no more.
			c.observeFailed(rec.ID, -1)
		}
		return
	case err != nil:
		c.fail(cli.BadInput(fmt.Errorf("challenge %s: %w", rec.ID, err)))
		return
	}
	c.candOK++
	c.observe(x, rec.ID, -1)
}

// observe feeds one score to the test and stops at a verdict or the budget.
func (c *Comparison) observe(x float64, id string, sample int64) {
	if err := c.test.Add(x); err != nil {
		c.fail(fmt.Errorf("challenge %s: %w", id, err))
		return
	}
	c.decide(x, id, sample, false)
}

// observeFailed scores a failed candidate record (or, for mmd, a
// challenge with one) 1, the largest distance.
func (c *Comparison) observeFailed(id string, sample int64) {
	if err := c.test.Add(1); err != nil {
		c.fail(fmt.Errorf("challenge %s: %w", id, err))
		return
	}
	c.decide(1, id, sample, true)
}

// decide follows a score x just fed to the test (failed: in place of a
// failed record): the transcript, and the stop at a verdict or the budget.
func (c *Comparison) decide(x float64, id string, sample int64, failed bool) {
	t := c.progress()
	if c.cfg.Observe != nil {
		o := Observation{Ref: c.ref().name, Cand: c.cand, N: t.N(), ID: id, Score: x, Failed: failed, Mean: t.Mean()}
		if sample >= 0 {
			o.Sample = &sample
		}
		o.Lower, o.Upper = t.Bounds()
		if err := c.cfg.Observe(o); err != nil {
			c.fail(err)
			return
		}
	}
	switch {
	case t.Decision() != seqtest.Undecided:
		c.done, c.stop = true, "decided"
	case c.cfg.MaxN > 0 && t.N() >= c.cfg.MaxN:
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
	if c.err == nil && c.fn == nil && c.groups == nil && c.rankSeen == nil && c.lr == nil && c.candOK > 0 {
		// The candidate ended before a pair showed anything: every pair
		// was empty on one side, and the choice falls on what there is.
		var p *pending
		for i := range c.pending {
			if !c.pending[i].failed {
				p = &c.pending[i]
				break
			}
		}
		if err := c.setScore(c.pick(&p.ref, &p.cand)); err != nil {
			c.err = err
		} else {
			c.done = false
			for i := range c.pending {
				if c.scorePending(&c.pending[i]); c.done {
					break
				}
			}
		}
		c.pending = nil
	}
	if c.err == nil && c.candEv != nil && c.scoreName != "" {
		// The ids were taken to compare on the evidence of the first pairs:
		// all the pairs read must bear it out, or the scores over ids
		// meant nothing.
		d := tokens.Decide(c.refEv, c.candEv)
		if !d.IDs {
			r := c.ref()
			c.err = cli.BadInput(fmt.Errorf("%s vs %s: token ids stopped comparing after %d records (%s), and score %s compared them; use --score text or --tokens-by bytes: %w",
				r.name, c.cand, c.read, d, c.scoreName, score.ErrVocab))
			return
		}
		c.decision = d
	}
}

// Verdict is the test's verdict, Undecided on trouble.
func (c *Comparison) Verdict() seqtest.Verdict {
	t := c.progress()
	if c.err != nil || t == nil {
		return seqtest.Undecided
	}
	return t.Decision()
}

// Err is the trouble that leaves the comparison without a verdict, if any:
// streams that cannot be compared, a reference that failed to load, a
// candidate with records of which none met a reference record (no
// challenge in common: trouble, not an undecided test), or a candidate
// whose every record met failed or that broke off before its first (a dead
// endpoint says nothing of a model).
func (c *Comparison) Err() error {
	if c.err != nil {
		return c.err
	}
	if c.read == 0 && c.candErr != nil {
		return cli.BadInputf("%s: no record to compare: the stream broke off before its first: %v", c.cand, c.candErr)
	}
	if c.candOK == 0 && c.candFailed > 0 {
		how := fmt.Sprintf("all %d of its records failed", c.candFailed)
		if c.stop == "failing" {
			how = fmt.Sprintf("its first %d records all failed", c.candFailed)
		} else if c.candErr != nil {
			how += " before the stream broke off"
		}
		return cli.BadInputf("%s: no successful record to compare: %s; the first: %s", c.cand, how, c.firstFail)
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
