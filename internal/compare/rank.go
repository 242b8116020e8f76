package compare

import (
	"fmt"
	"hash/fnv"
	"math"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/seqtest"
	"github.com/pot-audit/pot/internal/stats"
)

// Header labels with which potgen score says how a stream's Loglik fields
// were computed: the scoring model (as ModelName names it, with its
// weights digest) and whether by the outputs' own tokens or by their text.
const (
	LabelLoglikModel = "loglik.model"
	LabelLoglikBy    = "loglik.by"
)

// rankRef is what the rank test keeps of one reference sample.
type rankRef struct {
	sample uint32
	seed   uint64
	loglik float64
	ok     bool // scored and not a failure
}

// addRank keeps rec for the rank test.
func (ref *Reference) addRank(rec *format.Record) {
	if ref.ranked == nil {
		ref.ranked = map[string][]rankRef{}
	}
	ref.ranked[rec.ID] = append(ref.ranked[rec.ID], rankRef{rec.Sample, rec.Seed, rec.Loglik, rec.Err == "" && rec.Scored})
}

// rankSetup checks that ref and cand can go through the rank test and
// returns it, at tolerance tol. Both must be scored by one trusted model in one way (see
// potgen score), the reference with its own samples and the candidate with
// one sample a challenge; the candidate's seeds must not be the
// reference's, or its output would tie with one of them for certain.
func rankSetup(cfg Config, tol float64, refName, candName string, ref, cand *format.Header) (seqtest.Test, error) {
	if err := wantScored("rank", refName, candName, ref, cand); err != nil {
		return nil, err
	}
	for _, l := range []string{LabelLoglikModel, LabelLoglikBy} {
		if a, b := ref.Labels[l], cand.Labels[l]; a != b {
			return nil, cli.BadInputf("%s and %s were scored differently (%s %q vs %q): score both with the same potgen score --model and --by: %w",
				refName, candName, l, a, b, ErrMismatch)
		}
	}
	if n := cand.Sampling.Samples; n > 1 {
		return nil, cli.BadInputf("%s: %d samples a challenge: the rank test takes one candidate output a challenge (potgen --samples 1)", candName, n)
	}
	if ref.Sampling.Seed == cand.Sampling.Seed {
		return nil, cli.BadInputf("%s and %s were sampled with the same base seed %d: the candidate would repeat a reference sample; draw it with another potgen --seed: %w",
			refName, candName, ref.Sampling.Seed, ErrMismatch)
	}
	t, err := seqtest.NewRank(cfg.Alpha, tol)
	if err != nil {
		return nil, cli.Usage(err)
	}
	return t, nil
}

// addRanked scores one candidate output by its randomised rank among the
// reference samples of its challenge.
func (c *Comparison) addRanked(rec *format.Record) {
	if err := c.join.whole(); err != nil {
		c.fail(err)
		return
	}
	id := joinID(rec)
	refs, ok := c.ref().ranked[id]
	switch {
	case !ok:
		c.unmatched++
		return
	case c.rankSeen[id]:
		c.dups++
		return
	}
	c.rankSeen[id] = true
	lls := make([]float64, 0, len(refs))
	for _, r := range refs {
		if !r.ok {
			c.refFailed++
			return
		}
		if r.seed == rec.Seed && rec.Seed != 0 {
			c.fail(cli.BadInputf("challenge %s: the candidate's sample seed %d is that of reference sample %d: its rank would not be uniform",
				rec.ID, rec.Seed, r.sample))
			return
		}
		lls = append(lls, r.loglik)
	}
	if rec.Err != "" || !rec.Scored || math.IsNaN(rec.Loglik) {
		c.rankFailed(rec)
		return
	}
	c.candOK++
	u, err := stats.RandomRank(rec.Loglik, lls, tieBreak(id, rec.Seed))
	if err != nil {
		c.fail(cli.BadInput(fmt.Errorf("challenge %s: %w", rec.ID, err)))
		return
	}
	c.observe(u, rec.ID, int64(rec.Sample))
}

// rankFailed counts a candidate output with no rank: a failure, or an
// output the trusted model could not score (it is the candidate's, and
// might be what it would rather not show). It counts as the worst case for
// the candidate (seqtest.Rank.AddWorst), so that failing where it would
// differ cannot make SAME likelier; with SkipFailures it is skipped.
func (c *Comparison) rankFailed(rec *format.Record) {
	if !c.unscored(rec) {
		return
	}
	rt, ok := c.test.(*seqtest.Rank)
	if !ok {
		c.fail(fmt.Errorf("challenge %s: the rank score's test is %T, not the rank test", rec.ID, c.test))
		return
	}
	u, err := rt.AddWorst()
	if err != nil {
		c.fail(fmt.Errorf("challenge %s: %w", rec.ID, err))
		return
	}
	c.decide(u, rec.ID, int64(rec.Sample), true)
}

// wantScored refuses streams that potgen score did not score, for the
// score called name, which needs their trusted log-likelihoods.
func wantScored(name, refName, candName string, ref, cand *format.Header) error {
	for _, s := range []struct {
		name string
		h    *format.Header
	}{{refName, ref}, {candName, cand}} {
		if s.h.Labels[LabelLoglikModel] == "" {
			return cli.BadInputf("%s: not scored by a trusted model: --score %s needs both streams through potgen score --model TRUSTED", s.name, name)
		}
	}
	return nil
}

// unscored counts a candidate output without a trusted log-likelihood (a
// failure, or an output the trusted model could not score) and reports
// whether the test should take it as a failure: not with SkipFailures, nor
// once a candidate that never answered is stopped.
func (c *Comparison) unscored(rec *format.Record) bool {
	c.candFailed++
	if c.firstFail == "" {
		c.firstFail = rec.Err
		if c.firstFail == "" {
			c.firstFail = fmt.Sprintf("challenge %s: output not scored by the trusted model", rec.ID)
		}
	}
	if c.candOK == 0 && c.candFailed >= maxPending {
		c.done, c.stop = true, "failing"
		return false
	}
	return !c.cfg.SkipFailures
}

// tieBreak is the uniform v of stats.RandomRank for one challenge: a hash
// of its id and the candidate's sample seed, which the model never sees,
// so that it is independent of the model's output and the verdict can be
// reproduced from the streams.
func tieBreak(id string, seed uint64) float64 {
	h := fnv.New64a()
	h.Write([]byte("pot rank tie-break\x00"))
	h.Write([]byte(id))
	var b [8]byte
	for i := range b {
		b[i] = byte(seed >> (8 * i))
	}
	h.Write(b[:])
	z := h.Sum64()
	// A splitmix64 finaliser spreads FNV's weak low bits.
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}
