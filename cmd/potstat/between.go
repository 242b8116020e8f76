package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/stats"
)

// checkPlot refuses a plot file that is not SVG, before any input is read.
func checkPlot(name string) error {
	if !strings.EqualFold(filepath.Ext(name), ".svg") {
		return cli.Usagef("--plot %s: only .svg is supported", name)
	}
	return nil
}

// openOutputs opens name as an outputs stream and returns its reader.
func (t *tool) openOutputs(name string) (*cli.Input, *format.Reader, error) {
	in, err := t.env.Open(name)
	if err != nil {
		return nil, nil, err
	}
	r, err := format.NewReader(in, t.opts...)
	if err != nil {
		in.Close()
		return nil, nil, streamError(in, err)
	}
	h := r.First()
	if err := compare.WantOutputs(in.Name, &h); err != nil {
		r.Close()
		in.Close()
		return nil, nil, err
	}
	return in, r, nil
}

// between measures how far two outputs streams are apart (see
// compare.Between): A is held in memory, B streamed against it.
func (t *tool) between(nameA, nameB, plot string, asJSON bool) error {
	if (nameA == "-" || nameA == "") && (nameB == "-" || nameB == "") {
		return cli.Usagef("--between: only one of the two streams can be standard input")
	}
	inA, ra, err := t.openOutputs(nameA)
	if err != nil {
		return err
	}
	defer inA.Close()
	defer ra.Close()
	inB, rb, err := t.openOutputs(nameB)
	if err != nil {
		return err
	}
	defer inB.Close()
	defer rb.Close()
	rep, err := compare.Between(t.ctx, inA.Name, inB.Name, ra, rb)
	if err != nil {
		return err
	}
	if plot != "" {
		if err := t.writePlot(plot, rep); err != nil {
			return err
		}
	}
	if asJSON {
		err = cli.NewJSON(t.out).Encode(rep)
	} else {
		err = rep.WriteText(t.out)
	}
	if err != nil {
		return writeFailed(err)
	}
	return nil
}

// writePlot writes the SVG histograms: the strongest score's per-pair
// values, and the chosen-token log-probabilities of both streams. The file
// is written whole or not at all.
func (t *tool) writePlot(name string, rep *compare.Distances) error {
	scoreHist := stats.Histogram{Title: "per-pair score: none compared", XLabel: "score (0: identical)", Min: 0, Max: 1}
	if score, values := rep.Strongest(); score != "" {
		scoreHist.Title = fmt.Sprintf("per-pair score %s, %s vs %s", score, rep.Ref, rep.Cand)
		scoreHist.Series = []stats.Series{{Name: score, Values: values}}
	}
	lpRef, lpCand := rep.Logprobs()
	lpHist := stats.Histogram{Title: "chosen-token log-probabilities", XLabel: "log-probability",
		Series: []stats.Series{{Name: rep.Ref, Values: lpRef}, {Name: rep.Cand, Values: lpCand}}}
	out, err := t.env.Create(name, cli.OutputOptions{Inputs: []string{rep.Ref, rep.Cand}})
	if err != nil {
		return err
	}
	if err := stats.WriteSVG(out, scoreHist, lpHist); err != nil {
		out.Abort()
		return cli.Runtime(fmt.Errorf("%s: %w", name, err))
	}
	return out.Commit()
}
