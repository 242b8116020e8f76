package generate

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/compare"
)

// File is potgen's -o FILE: a cli.Output built in FILE.partial, which
// holds every flushed frame even if the process is killed so that
// --resume can continue it, and renamed to FILE only when complete.
// Standard output is written directly.
type File struct {
	*cli.Output
	Name    string         // what the user named; "-" for standard output
	Resumed bool           // the output holds an earlier run's records
	Earlier *format.Header // the first header of the run resumed, if any
}

// CreateFile opens the output name for a run that reads its challenges
// from input, continuing an earlier run when resume is set.
func CreateFile(env *cli.Env, name, input string, resume bool) (*File, error) {
	out, err := env.Create(name, cli.OutputOptions{Binary: true, Inputs: []string{input}, Partial: true, Resume: resume})
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = "-"
	}
	return &File{Output: out, Name: name}, nil
}

// Resume copies the records of an earlier run (FILE.partial, or else
// FILE) into the output and marks what it kept in done (see Resume);
// from then on FILE.partial holds at least what the earlier run had.
// With sign the copied segments are signed again; without it, an earlier
// run's signatures are dropped, and stderr hears of it.
func (o *File) Resume(stderr io.Writer, h format.Header, done map[compare.Key]bool, sign []format.WriterOption) (int, error) {
	warn := func(err error) { fmt.Fprintln(stderr, cli.Message("potgen", err)) }
	e, err := Resume(o, cli.PartialName(o.Name), o.Name, h, done, warn, sign...)
	if err != nil {
		return 0, err
	}
	if len(e.Signers) > 0 && len(sign) == 0 {
		fmt.Fprintln(stderr, cli.Unsigned("potgen", e.From, o.Name, e.Signers))
	}
	// From here on the run grows in FILE.partial, even when there was
	// nothing to resume: a kill keeps its work for the next --resume.
	if err := o.Checkpoint(); err != nil {
		return 0, err
	}
	if e.Header == nil {
		return 0, nil // nothing to resume: a fresh run
	}
	o.Earlier = e.Header
	o.Resumed = e.Kept > 0
	return e.Kept, nil
}

// Finish commits or keeps the output after a run that ended with genErr,
// sums the run up on stderr when there is something to say (or stderr is
// a terminal), and returns the error the tool exits with: nil when the
// reader went away, having what it needed; status 1 when queries failed
// or the run was interrupted, with where its records were kept.
func (o *File) Finish(stderr io.Writer, st Stats, genErr error) error {
	elapsed := time.Since(st.Start).Round(time.Millisecond)
	if st.BrokenPipe {
		o.Abort()
		return nil
	}
	if genErr != nil {
		kept := o.Keep()
		where := ""
		if kept != "" {
			where = fmt.Sprintf("; %d records kept in %s: run again with --resume to continue", st.Written, kept)
		}
		if st.Interrupted {
			return cli.WithStatus(cli.ExitFailure, fmt.Errorf("interrupted after %d records%s", st.Written, where))
		}
		return fmt.Errorf("%w%s", genErr, where)
	}
	if err := o.Commit(); err != nil {
		return err
	}
	if st.Failed > 0 || st.Retries > 0 || cli.IsTerminal(stderr) {
		fmt.Fprintf(stderr, "potgen: %d records in %s, %d retries, %d failed\n", st.Written, elapsed, st.Retries, st.Failed)
	}
	if st.Failed > 0 {
		return cli.WithStatus(cli.ExitFailure, errors.New(failedMessage(st.Failed, o.Name)))
	}
	return nil
}

func failedMessage(n int, name string) string {
	if name == "-" {
		return fmt.Sprintf("%d queries failed after their retries (recorded with their errors)", n)
	}
	return fmt.Sprintf("%d queries failed after their retries (recorded with their errors); potgen --resume -o %s retries them", n, name)
}

// CheckOutput refuses, before any model is asked, an output that a run
// to name could not have: --resume on standard output, --resume with
// --force, or an existing file that neither says to replace.
func CheckOutput(name string, resume, force bool) error {
	switch {
	case resume && (name == "-" || name == ""):
		return cli.Usagef("--resume needs -o FILE: there is nothing to resume on stdout")
	case resume && force:
		return cli.Usagef("--resume and --force are exclusive: one keeps -o FILE's records, the other replaces them")
	case resume:
		return nil
	}
	return cli.RefuseExisting(name, force, true)
}
