package compare

import (
	"context"
	"fmt"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/score"
	"github.com/pot-audit/pot/internal/seqtest"
)

// One compares the candidate called name with ref. The reference goes on
// loading while the candidate is read; whatever happens to the candidate,
// One waits for the whole reference, since a verdict needs all of it and
// its failure says more than the candidate's. The error is trouble: no
// verdict.
func One(ctx context.Context, env *cli.Env, cfg Config, ref *Reference, name string) (*Comparison, error) {
	c, err := one(ctx, env, cfg, ref, name)
	if rerr := ref.Wait(); rerr != nil {
		return nil, rerr
	}
	return c, err
}

func one(ctx context.Context, env *cli.Env, cfg Config, ref *Reference, name string) (*Comparison, error) {
	in, rd, err := OpenCandidate(env, name, cfg.candOptions()...)
	if err != nil {
		return nil, err
	}
	c, err := New(cfg, ref, in.Name, rd.First())
	if err != nil {
		rd.Close()
		in.Close()
		return nil, err
	}
	if err := Run(ctx, env, in, rd, []*Comparison{c}); err != nil {
		return nil, err
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// OpenCandidate opens a candidate and reads its header. A candidate
// without even a header gives nothing to decide on: trouble. opts go to
// the stream's reader.
func OpenCandidate(env *cli.Env, name string, opts ...format.ReaderOption) (*cli.Input, *format.Reader, error) {
	in, err := env.Open(name)
	if err != nil {
		return nil, nil, err
	}
	rd, err := format.NewReader(in, opts...)
	if err != nil {
		in.Close()
		return nil, nil, fmt.Errorf("%s: %w", in.Name, err)
	}
	return in, rd, nil
}

// Run feeds the candidate read by rd to every comparison until all are
// done or the candidate ends, and then closes in and rd. Once all are done
// it returns at once: a file is closed, and standard input is left unread,
// so that a producer upstream gets EPIPE when the process ends.
func Run(ctx context.Context, env *cli.Env, in *cli.Input, rd *format.Reader, cs []*Comparison) error {
	f := startFeed(rd)
	defer in.Close()
	defer f.stop()
	total := int64(0)
	for _, c := range cs {
		total = max(total, c.ref().total())
	}
	prog := cli.NewProgress(env.Stderr, "potcmp "+in.Name, total)
	defer prog.Done()
	signed := len(cs[0].cfg.CandSigners) > 0
	for {
		var batch []format.Record
		var ok bool
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted after %d records of %s", cs[0].read, in.Name)
		case batch, ok = <-f.batches:
		}
		if !ok {
			if signed {
				if err := signedEnd(f, in); err != nil {
					return err
				}
			}
			for _, c := range cs {
				c.Finish(f.err)
			}
			return nil
		}
		if addAll(batch, cs) {
			if signed {
				return drain(f, ctx.Done(), in, cs[0].read)
			}
			return nil
		}
		prog.Add(int64(len(batch)))
		f.recycle(batch)
	}
}

// addAll gives every comparison the records of batch and reports whether
// all are done, which finishes them.
func addAll(batch []format.Record, cs []*Comparison) bool {
	for i := range batch {
		all := true
		for _, c := range cs {
			c.Add(&batch[i])
			all = all && c.done
		}
		if all {
			for _, c := range cs {
				c.Finish(nil)
			}
			return true
		}
	}
	return false
}

// Match streams the candidate called candName once against every
// reference, a comparison each in the order of refNames; the comparisons'
// own trouble is in their Err. The error is trouble for all of them: a
// reference or the candidate that could not be read.
func Match(ctx context.Context, env *cli.Env, cfg Config, refNames []string, candName string) (string, []*Comparison, error) {
	// The references load in parallel with each other and with the
	// candidate; every path out waits for them all (see One).
	refs := make([]*Reference, 0, len(refNames))
	// refErr waits for the references and puts the failure of one before
	// err, as loading them first would have.
	refErr := func(err error) error {
		for _, ref := range refs {
			if rerr := ref.Wait(); rerr != nil {
				return rerr
			}
		}
		return err
	}
	for _, name := range refNames {
		opts, err := RequireSigned(env, name, cfg.RefSigners, candName)
		if err != nil {
			return "", nil, refErr(err)
		}
		ref, err := Load(env, name, cfg.Score, opts...)
		if err != nil {
			return "", nil, refErr(err)
		}
		refs = append(refs, ref)
	}
	in, rd, err := OpenCandidate(env, candName, cfg.candOptions()...)
	if err != nil {
		return "", nil, refErr(err)
	}
	cs := make([]*Comparison, len(refs))
	for i, ref := range refs {
		if cs[i], err = New(cfg, ref, in.Name, rd.First()); err != nil {
			rd.Close()
			in.Close()
			return "", nil, refErr(err)
		}
	}
	if err := refErr(Run(ctx, env, in, rd, cs)); err != nil {
		return "", nil, err
	}
	return in.Name, cs, nil
}

// Calibration is what a calibration finds: the noise floor of two runs of
// one model, which a tolerance must clear.
type Calibration struct {
	N         int     `json:"n"`
	Mean      float64 `json:"mean"`
	Quantile  float64 `json:"q95"`
	Upper     float64 `json:"upper"`
	Tolerance float64 `json:"tolerance"`
	// Score is the score the suggested tolerance is for, and
	// DefaultTolerance that score's default, to compare it with.
	Score            string  `json:"score"`
	DefaultTolerance float64 `json:"default_tolerance"`
	Alpha            float64 `json:"alpha"`
	Ref              string  `json:"ref"`
	Cand             string  `json:"cand"`
	Failed           int64   `json:"failed"`
	Unmatched        int64   `json:"unmatched"`
	Truncated        bool    `json:"truncated"`

	// Models names the two models when they differ, "" when they are one:
	// the floor is then that of their difference.
	Models string `json:"-"`
	// Comparison is the comparison that scored the pairs, for its notes;
	// nil when it was stopped by trouble.
	Comparison *Comparison `json:"-"`
}

// Calibrate scores every pair of a and b, two runs of one model, and
// decides nothing: the noise floor a tolerance must clear. On trouble the
// calibration may still say which models it met (Models).
func Calibrate(ctx context.Context, env *cli.Env, cfg Config, a, b string) (*Calibration, error) {
	switch cfg.Score {
	case "mmd":
		return nil, cli.Usagef("--calibrate --score mmd: the unbiased mmd has mean exactly 0 for one model, so it has no noise floor to measure")
	case "rank":
		return nil, cli.Usagef("--calibrate --score rank: the ranks are exactly uniform for one model, so there is no noise floor to measure")
	case "lr":
		return nil, cli.Usagef("--calibrate --score lr: the likelihood-ratio test has no tolerance to calibrate")
	}
	// A failure is no measure of noise: the floor is that of the answers.
	cfg.SkipFailures = true
	opts, err := RequireSigned(env, a, cfg.RefSigners, b)
	if err != nil {
		return nil, err
	}
	ref, err := LoadStreamed(env, a, cfg.Score, opts...)
	if err != nil {
		return nil, err
	}
	// refErr waits for the reference and puts its failure before err, as
	// loading it first would have.
	refErr := func(err error) error {
		if rerr := ref.Wait(); rerr != nil {
			return rerr
		}
		return err
	}
	in, rd, err := OpenCandidate(env, b, cfg.candOptions()...)
	if err != nil {
		return nil, refErr(err)
	}
	c, err := New(cfg, ref, in.Name, rd.First())
	if err != nil {
		rd.Close()
		in.Close()
		return nil, refErr(err)
	}
	scores := &recorder{}
	c.test, c.calibrating = scores, true
	out := &Calibration{}
	if ra, rb := ModelName(&ref.header), ModelName(&c.candH); ra != rb || ref.header.Model.Digest != c.candH.Model.Digest {
		out.Models = ra + " vs " + rb
	}
	err = Run(ctx, env, in, rd, []*Comparison{c})
	if err == nil {
		err = c.Err()
	}
	if err := refErr(err); err != nil {
		return out, err
	}
	out.Score, out.Alpha, out.Ref, out.Cand = c.scoreName, cfg.Alpha, ref.name, in.Name
	if sp, ok := score.Lookup(c.scoreName); ok {
		out.DefaultTolerance = sp.Tolerance
	}
	out.Failed, out.Unmatched, out.Truncated, out.Comparison = c.refFailed+c.candFailed, c.unmatched, c.candErr != nil, c
	if scores.N() == 0 {
		return out, fmt.Errorf("%s vs %s: no pair could be scored", ref.name, in.Name)
	}
	cal, err := seqtest.Calibrate(scores.scores, cfg.Alpha)
	if err != nil {
		return out, err
	}
	out.N, out.Mean, out.Quantile, out.Upper, out.Tolerance = cal.N, cal.Mean, cal.Quantile, cal.Upper, cal.Tolerance
	return out, nil
}
