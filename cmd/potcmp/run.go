package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/seqtest"
)

// compareAll compares each candidate with the reference in turn, a line
// each; the exit status is the worst (see worse).
func compareAll(ctx context.Context, env *cli.Env, o *options, refName string, cands []string) (int, error) {
	load := compare.Load
	if len(cands) == 1 {
		load = compare.LoadStreamed
	}
	opts, err := compare.RequireSigned(env, refName, o.refSigners, cands...)
	if err != nil {
		return exitTrouble, err
	}
	ref, err := load(env, refName, o.score, opts...)
	if err != nil {
		return exitTrouble, err
	}
	tr, err := newTranscript(env, o.transcript, append([]string{refName}, cands...), len(cands) > 1)
	if err != nil {
		if rerr := ref.Wait(); rerr != nil {
			return exitTrouble, rerr
		}
		return exitTrouble, err
	}
	cfg := o.config(tr)
	code := exitSame
	for _, name := range cands {
		c, err := compare.One(ctx, env, cfg, ref, name)
		if err == nil {
			err = report(env, o, c, tr)
		}
		if err != nil {
			if len(cands) == 1 || ctx.Err() != nil || ref.Wait() != nil {
				tr.abort()
				return exitTrouble, err
			}
			fmt.Fprintln(env.Stderr, cli.Message("potcmp", err))
			code = worse(code, exitTrouble)
			continue
		}
		code = worse(code, exitFor(c.Verdict()))
	}
	if err := tr.commit(); err != nil {
		return exitTrouble, err
	}
	return code, nil
}

// report prints a comparison's verdict, its notes, and its transcript line.
func report(env *cli.Env, o *options, c *compare.Comparison, tr *transcript) error {
	r := c.Result()
	c.Notes(env.Stderr, "potcmp")
	if tr != nil {
		if err := tr.write(r); err != nil {
			return err
		}
	}
	if o.json {
		return cli.NewJSON(env.Stdout).Encode(r)
	}
	_, err := fmt.Fprintln(env.Stdout, r.Line())
	return err
}

// matchRefs streams the candidate once against every reference and says
// which one it matches.
func matchRefs(ctx context.Context, env *cli.Env, o *options, refNames []string, candName string) (int, error) {
	tr, err := newTranscript(env, o.transcript, append(refNames[:len(refNames):len(refNames)], candName), true)
	if err != nil {
		return exitTrouble, err
	}
	defer tr.abort()
	cand, cs, err := compare.Match(ctx, env, o.config(tr), refNames, candName)
	if err != nil {
		return exitTrouble, err
	}
	var (
		matches, trouble []string
		results          []compare.Result
		undecided        bool
	)
	for _, c := range cs {
		r := c.Result()
		if err := c.Err(); err != nil {
			fmt.Fprintln(env.Stderr, cli.Message("potcmp", err))
			trouble = append(trouble, r.Ref)
			continue
		}
		c.Notes(env.Stderr, "potcmp")
		results = append(results, r)
		if tr != nil {
			if err := tr.write(r); err != nil {
				return exitTrouble, err
			}
		}
		if !o.json {
			fmt.Fprintln(env.Stdout, r.Line())
		}
		switch c.Verdict() {
		case seqtest.Same:
			matches = append(matches, r.Ref)
		case seqtest.Undecided:
			undecided = true
		}
	}
	if err := printMatch(env.Stdout, o.json, cand, matches, trouble, results); err != nil {
		return exitTrouble, err
	}
	if err := tr.commit(); err != nil {
		return exitTrouble, err
	}
	switch {
	case len(trouble) > 0:
		return exitTrouble, nil
	case len(matches) == 1:
		return exitSame, nil
	case len(matches) == 0 && undecided:
		return exitUndecided, nil
	}
	return exitDifferent, nil
}

// printMatch says which references the candidate matches: a line, or with
// asJSON one object holding every result.
func printMatch(w io.Writer, asJSON bool, cand string, matches, trouble []string, results []compare.Result) error {
	if asJSON {
		if matches == nil {
			matches = []string{}
		}
		return cli.NewJSON(w).Encode(struct {
			Cand    string           `json:"cand"`
			Matches []string         `json:"matches"`
			Trouble []string         `json:"trouble,omitempty"`
			Results []compare.Result `json:"results"`
		}{cand, matches, trouble, results})
	}
	if len(matches) == 0 {
		_, err := fmt.Fprintln(w, "no match")
		return err
	}
	q := make([]string, len(matches))
	for i, m := range matches {
		q[i] = compare.QuoteName(m)
	}
	_, err := fmt.Fprintln(w, "match: "+strings.Join(q, " "))
	return err
}

// calibrate scores every pair of two runs of one model and prints the
// noise floor a tolerance must clear.
func calibrate(ctx context.Context, env *cli.Env, o *options, a, b string) (int, error) {
	if o.transcript != "" {
		return exitTrouble, cli.Usagef("--transcript records a comparison, not a calibration")
	}
	cal, err := compare.Calibrate(ctx, env, o.config(nil), a, b)
	if cal != nil && cal.Models != "" {
		fmt.Fprintf(env.Stderr, "potcmp: note: calibrating across two models (%s): the floor is that of their difference\n", cal.Models)
	}
	if cal != nil && cal.Comparison != nil {
		cal.Comparison.Notes(env.Stderr, "potcmp")
	}
	if err != nil {
		return exitTrouble, err
	}
	if o.json {
		err = cli.NewJSON(env.Stdout).Encode(cal)
	} else {
		_, err = fmt.Fprintf(env.Stdout, "calibration n=%d mean=%.4f q95=%.4f upper=%.4f tolerance=%.4f score=%s alpha=%g ref=%s cand=%s\n",
			cal.N, cal.Mean, cal.Quantile, cal.Upper, cal.Tolerance, cal.Score, cal.Alpha, compare.QuoteName(cal.Ref), compare.QuoteName(cal.Cand))
	}
	if err == nil {
		// A tolerance means something only for its score: say which.
		fmt.Fprintf(env.Stderr, "potcmp: the suggested tolerance is for score %s (its default: %g): potcmp --score %s --tolerance %.4f\n",
			cal.Score, cal.DefaultTolerance, cal.Score, cal.Tolerance)
	}
	if err != nil {
		return exitTrouble, err
	}
	return exitSame, nil
}

// transcript writes one JSON line per scored observation and the verdict
// last, so that the audit can be re-run from the scores alone.
type transcript struct {
	out   *cli.Output
	enc   *json.Encoder
	names bool // several comparisons share the file: say which
}

func newTranscript(env *cli.Env, name string, inputs []string, several bool) (*transcript, error) {
	if name == "" {
		return nil, nil
	}
	out, err := env.Create(name, cli.OutputOptions{Inputs: inputs})
	if err != nil {
		return nil, err
	}
	return &transcript{out: out, enc: cli.NewJSON(out), names: several}, nil
}

// observe is the comparisons' Observe: a line per score.
func (t *transcript) observe(o compare.Observation) error {
	if !t.names {
		o.Ref, o.Cand = "", ""
	}
	return t.write(o)
}

func (t *transcript) write(v any) error {
	if err := t.enc.Encode(v); err != nil {
		return fmt.Errorf("transcript %s: %w", t.out.Name, err)
	}
	return nil
}

// commit writes the file whole; abort drops it. Both accept a nil
// transcript, and abort does nothing after commit.
func (t *transcript) commit() error {
	if t == nil {
		return nil
	}
	return t.out.Commit()
}

func (t *transcript) abort() {
	if t != nil {
		t.out.Abort()
	}
}
