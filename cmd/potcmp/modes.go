package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/seqtest"
)

// compareAll compares each candidate with the reference in turn, a line
// each; the exit status is the worst (see worse).
func compareAll(ctx context.Context, env *cli.Env, o *options, refName string, cands []string) (int, error) {
	load := loadReference
	if len(cands) == 1 {
		load = streamReference
	}
	ref, err := load(env, refName, o.score)
	if err != nil {
		return exitTrouble, err
	}
	tr, err := newTranscript(env, o.transcript, append([]string{refName}, cands...), len(cands) > 1)
	if err != nil {
		if rerr := ref.wait(); rerr != nil {
			return exitTrouble, rerr
		}
		return exitTrouble, err
	}
	code := exitSame
	for _, name := range cands {
		c, err := compareOne(ctx, env, o, ref, name, tr)
		if err == nil {
			err = report(env, o, c, tr)
		}
		if err != nil {
			if len(cands) == 1 || ctx.Err() != nil || ref.wait() != nil {
				tr.abort()
				return exitTrouble, err
			}
			fmt.Fprintln(env.Stderr, cli.Message("potcmp", err))
			code = worse(code, exitTrouble)
			continue
		}
		code = worse(code, exitFor(c.verdict()))
	}
	if err := tr.commit(); err != nil {
		return exitTrouble, err
	}
	return code, nil
}

// compareOne streams one candidate against ref, which goes on loading
// while the candidate is read. Whatever happens to the candidate, it waits
// for the whole reference: a verdict needs all of it, and its failure
// says more than the candidate's.
func compareOne(ctx context.Context, env *cli.Env, o *options, ref *reference, name string, tr *transcript) (*comparison, error) {
	c, err := streamOne(ctx, env, o, ref, name, tr)
	if rerr := ref.wait(); rerr != nil {
		return nil, rerr
	}
	return c, err
}

func streamOne(ctx context.Context, env *cli.Env, o *options, ref *reference, name string, tr *transcript) (*comparison, error) {
	in, rd, err := openCandidate(env, name)
	if err != nil {
		return nil, err
	}
	c, err := newComparison(o, ref, in.Name, rd.First(), tr)
	if err != nil {
		rd.Close()
		in.Close()
		return nil, err
	}
	if err := stream(ctx, env, in, rd, []*comparison{c}); err != nil {
		return nil, err
	}
	if c.err != nil {
		return nil, c.err
	}
	if err := c.noCommon(); err != nil {
		return nil, err
	}
	return c, nil
}

// report prints a comparison's verdict, its notes, and its transcript line.
func report(env *cli.Env, o *options, c *comparison, tr *transcript) error {
	r := c.result()
	c.notes(env.Stderr)
	if tr != nil {
		if err := tr.write(r); err != nil {
			return err
		}
	}
	if o.json {
		return newJSON(env.Stdout).Encode(r)
	}
	_, err := fmt.Fprintln(env.Stdout, r.line())
	return err
}

// openCandidate opens a candidate and reads its header. A candidate
// without even a header gives nothing to decide on: trouble.
func openCandidate(env *cli.Env, name string) (*cli.Input, *format.Reader, error) {
	in, err := env.Open(name)
	if err != nil {
		return nil, nil, err
	}
	rd, err := format.NewReader(in)
	if err != nil {
		in.Close()
		return nil, nil, fmt.Errorf("%s: %w", in.Name, err)
	}
	return in, rd, nil
}

// stream feeds the candidate to every comparison until all are done or
// the candidate ends. Once all are done it returns at once: the input is
// closed if it is a file, and standard input is left unread, so that a
// producer upstream gets EPIPE when the process ends.
func stream(ctx context.Context, env *cli.Env, in *cli.Input, rd *format.Reader, cs []*comparison) error {
	f := startFeed(rd)
	defer in.Close()
	defer f.stop()
	total := int64(0)
	for _, c := range cs {
		total = max(total, c.ref.total())
	}
	prog := cli.NewProgress(env.Stderr, "potcmp "+in.Name, total)
	defer prog.Done()
	for {
		var batch []format.Record
		var ok bool
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted after %d records of %s", cs[0].read, in.Name)
		case batch, ok = <-f.batches:
		}
		if !ok {
			for _, c := range cs {
				c.finish(f.err)
			}
			return nil
		}
		for i := range batch {
			all := true
			for _, c := range cs {
				c.add(&batch[i])
				all = all && c.done
			}
			if all {
				for _, c := range cs {
					c.finish(nil)
				}
				return nil
			}
		}
		prog.Add(int64(len(batch)))
		f.recycle(batch)
	}
}

// matchRefs streams the candidate once against every reference and says
// which one it matches.
func matchRefs(ctx context.Context, env *cli.Env, o *options, refNames []string, candName string) (int, error) {
	// The references load in parallel with each other and with the
	// candidate; every path out waits for them all (see compareOne).
	refs := make([]*reference, 0, len(refNames))
	// refErr waits for the references and puts the failure of one
	// before err, as loading them first would have.
	refErr := func(err error) error {
		for _, ref := range refs {
			if rerr := ref.wait(); rerr != nil {
				return rerr
			}
		}
		return err
	}
	for _, name := range refNames {
		ref, err := loadReference(env, name, o.score)
		if err != nil {
			return exitTrouble, refErr(err)
		}
		refs = append(refs, ref)
	}
	tr, err := newTranscript(env, o.transcript, append(refNames[:len(refNames):len(refNames)], candName), true)
	if err != nil {
		return exitTrouble, refErr(err)
	}
	in, rd, err := openCandidate(env, candName)
	if err != nil {
		tr.abort()
		return exitTrouble, refErr(err)
	}
	cs := make([]*comparison, len(refs))
	for i, ref := range refs {
		if cs[i], err = newComparison(o, ref, in.Name, rd.First(), tr); err != nil {
			rd.Close()
			in.Close()
			tr.abort()
			return exitTrouble, refErr(err)
		}
	}
	if err := refErr(stream(ctx, env, in, rd, cs)); err != nil {
		tr.abort()
		return exitTrouble, err
	}
	var (
		matches, trouble []string
		results          []result
		undecided        bool
	)
	for _, c := range cs {
		err := c.err
		if err == nil {
			err = c.noCommon()
		}
		if err != nil {
			fmt.Fprintln(env.Stderr, cli.Message("potcmp", err))
			trouble = append(trouble, c.ref.name)
			continue
		}
		r := c.result()
		c.notes(env.Stderr)
		results = append(results, r)
		if tr != nil {
			if err := tr.write(r); err != nil {
				tr.abort()
				return exitTrouble, err
			}
		}
		if !o.json {
			fmt.Fprintln(env.Stdout, r.line())
		}
		switch c.verdict() {
		case seqtest.Same:
			matches = append(matches, c.ref.name)
		case seqtest.Undecided:
			undecided = true
		}
	}
	code := exitDifferent
	switch {
	case len(trouble) > 0:
		code = exitTrouble
	case len(matches) == 1:
		code = exitSame
	case len(matches) == 0 && undecided:
		code = exitUndecided
	}
	if o.json {
		if matches == nil {
			matches = []string{}
		}
		err = newJSON(env.Stdout).Encode(struct {
			Cand    string   `json:"cand"`
			Matches []string `json:"matches"`
			Trouble []string `json:"trouble,omitempty"`
			Results []result `json:"results"`
		}{in.Name, matches, trouble, results})
	} else {
		err = printMatch(env.Stdout, matches)
	}
	if err != nil {
		tr.abort()
		return exitTrouble, err
	}
	if err := tr.commit(); err != nil {
		return exitTrouble, err
	}
	return code, nil
}

func printMatch(w io.Writer, matches []string) error {
	if len(matches) == 0 {
		_, err := fmt.Fprintln(w, "no match")
		return err
	}
	q := make([]string, len(matches))
	for i, m := range matches {
		q[i] = quoteName(m)
	}
	_, err := fmt.Fprintln(w, "match: "+strings.Join(q, " "))
	return err
}

// calibration is what --calibrate prints.
type calibration struct {
	N         int     `json:"n"`
	Mean      float64 `json:"mean"`
	Quantile  float64 `json:"q95"`
	Upper     float64 `json:"upper"`
	Tolerance float64 `json:"tolerance"`
	Score     string  `json:"score"`
	Alpha     float64 `json:"alpha"`
	A         string  `json:"a"`
	B         string  `json:"b"`
	Errors    int64   `json:"errors"`
	Unmatched int64   `json:"unmatched"`
	Truncated bool    `json:"truncated"`
}

// calibrate scores every pair of two runs of one model: the noise floor
// a tolerance must clear.
func calibrate(ctx context.Context, env *cli.Env, o *options, a, b string) (int, error) {
	if o.transcript != "" {
		return exitTrouble, cli.Usagef("--transcript records a comparison, not a calibration")
	}
	ref, err := streamReference(env, a, o.score)
	if err != nil {
		return exitTrouble, err
	}
	// refErr waits for the reference and puts its failure before err, as
	// loading it first would have.
	refErr := func(err error) error {
		if rerr := ref.wait(); rerr != nil {
			return rerr
		}
		return err
	}
	in, rd, err := openCandidate(env, b)
	if err != nil {
		return exitTrouble, refErr(err)
	}
	c, err := newComparison(o, ref, in.Name, rd.First(), nil)
	if err != nil {
		rd.Close()
		in.Close()
		return exitTrouble, refErr(err)
	}
	c.calib = true
	if ra, rb := modelName(&ref.header), modelName(&c.candH); ra != rb || ref.header.Model.Digest != c.candH.Model.Digest {
		fmt.Fprintf(env.Stderr, "potcmp: note: calibrating across two models (%s vs %s): the floor is that of their difference\n", ra, rb)
	}
	err = stream(ctx, env, in, rd, []*comparison{c})
	if err == nil {
		err = c.err
	}
	if err := refErr(err); err != nil {
		return exitTrouble, err
	}
	if err := c.noCommon(); err != nil {
		return exitTrouble, err
	}
	c.notes(env.Stderr)
	if len(c.scores) == 0 {
		return exitTrouble, fmt.Errorf("%s vs %s: no pair could be scored", ref.name, in.Name)
	}
	cal, err := seqtest.Calibrate(c.scores, o.alpha)
	if err != nil {
		return exitTrouble, err
	}
	out := calibration{N: cal.N, Mean: cal.Mean, Quantile: cal.Quantile, Upper: cal.Upper, Tolerance: cal.Tolerance,
		Score: c.scoreName, Alpha: o.alpha, A: ref.name, B: in.Name,
		Errors: c.refFailed + c.candFailed, Unmatched: c.unmatched, Truncated: c.candErr != nil}
	if o.json {
		err = newJSON(env.Stdout).Encode(out)
	} else {
		_, err = fmt.Fprintf(env.Stdout, "calibration n=%d mean=%.4f q95=%.4f upper=%.4f tolerance=%.4f score=%s alpha=%g a=%s b=%s\n",
			out.N, out.Mean, out.Quantile, out.Upper, out.Tolerance, out.Score, out.Alpha, quoteName(out.A), quoteName(out.B))
	}
	if err != nil {
		return exitTrouble, err
	}
	return exitSame, nil
}
