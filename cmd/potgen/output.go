package main

import (
	"fmt"
	"os"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/generate"
)

// output is potgen's -o FILE: a cli.Output built in FILE.partial, which
// holds every flushed frame even if the process is killed so that --resume
// can continue it, and renamed to FILE only when complete. Standard output
// is written directly.
type output struct {
	*cli.Output
	name    string         // what the user named
	resumed bool           // the output holds an earlier run's records
	earlier *format.Header // the first header of the run resumed, if any
}

func createOutput(env *cli.Env, name, input string, resume bool) (*output, error) {
	out, err := env.Create(name, cli.OutputOptions{Binary: true, Inputs: []string{input}, Partial: true, Resume: resume})
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = "-"
	}
	return &output{Output: out, name: name}, nil
}

// resume copies the records of an earlier run (FILE.partial, or else FILE)
// into the output and marks what it kept in done (see generate.Resume);
// from then on FILE.partial holds at least what the earlier run had.
// With sign the copied segments are signed again; without it, an earlier
// run's signatures are dropped, and the user hears of it.
func (o *output) resume(env *cli.Env, h format.Header, done map[compare.Key]bool, sign []format.WriterOption) (int, error) {
	warn := func(err error) { fmt.Fprintln(env.Stderr, cli.Message("potgen", err)) }
	e, err := generate.Resume(o, cli.PartialName(o.name), o.name, h, done, warn, sign...)
	if err != nil {
		return 0, err
	}
	if len(e.Signers) > 0 && len(sign) == 0 {
		fmt.Fprintln(env.Stderr, cli.Unsigned("potgen", e.From, o.name, e.Signers))
	}
	// From here on the run grows in FILE.partial, even when there was
	// nothing to resume: a kill keeps its work for the next --resume.
	if err := o.Checkpoint(); err != nil {
		return 0, err
	}
	if e.Header == nil {
		return 0, nil // nothing to resume: a fresh run
	}
	o.earlier = e.Header
	o.resumed = e.Kept > 0
	return e.Kept, nil
}

// refuseExisting refuses to replace an existing output file unless force
// says to: a finished reference set is worth more than the run that would
// overwrite it. Standard output is never refused.
func refuseExisting(name string, force bool) error {
	if name == "-" || name == "" || force {
		return nil
	}
	st, err := os.Stat(name)
	if err != nil || !st.Mode().IsRegular() {
		return nil // a new file, or what Create refuses on its own
	}
	return cli.Usagef("%s exists: refusing to replace it (--force replaces it, --resume continues it)", name)
}
