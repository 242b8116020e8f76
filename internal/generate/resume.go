package generate

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/compare"
)

// Earlier is what a resumed run takes over from the run it continues.
type Earlier struct {
	From   string         // the file the earlier records came from
	Header *format.Header // its first header, nil when there was nothing to resume
	Kept   int            // records copied
	// Signers are the key ids of the earlier run's signed segments: a
	// run that does not sign its output should say that it drops them.
	Signers []string
}

// Resume copies the records of an earlier run into w, segment by segment
// under their own headers, leaving out the records that carry an error so
// that they are asked again, and marks what it kept in done. The earlier
// run is read from partial, or else from name; neither existing is a
// fresh run. h is the new run's header, which the earlier one must match
// in everything but the server's fingerprint, known only from its first
// answer (the segment is checked again then, see Config.Earlier). warn
// hears of damage past which the records are made again. opts go to the
// writers of the copied segments (format.SignWith signs them: the copies
// leave out failed records, so an earlier signature cannot be kept).
func Resume(w io.Writer, partial, name string, h format.Header, done map[compare.Key]bool, warn func(error), opts ...format.WriterOption) (Earlier, error) {
	e := Earlier{From: partial}
	if _, err := os.Stat(e.From); err != nil {
		e.From = name
		if _, err := os.Stat(e.From); err != nil {
			return e, nil
		}
	}
	f, err := os.Open(e.From)
	if err != nil {
		return e, cli.Usagef("%s: %v", e.From, errors.Unwrap(err))
	}
	defer f.Close()
	var signers cli.Signers
	r, err := format.NewReader(f, signers.Option())
	if errors.Is(err, format.ErrEmpty) {
		return e, nil // interrupted before its first record
	}
	if err != nil {
		return e, cli.Usage(fmt.Errorf("--resume: %s: %w", e.From, err))
	}
	defer r.Close()
	first := r.First()
	e.Header = &first
	check := h
	if check.Model.Fingerprint == "" {
		check.Model.Fingerprint = first.Model.Fingerprint
	}
	if why := Resumable(&first, &check); why != "" {
		return e, cli.Usagef("--resume: %s was made with another %s; use the same flags, or another -o", e.From, why)
	}
	e.Kept, err = copyKept(w, r, done, func(err error) {
		warn(fmt.Errorf("--resume: %s: %w; the records after it will be made again", e.From, err))
	}, opts)
	e.Signers = signers.IDs
	return e, err
}

// copyKept copies the earlier run's successful records, each segment
// under its own header, up to the end of what was written: a missing
// trailer or a cut frame is what an interrupted run leaves, and anything
// else is worth a warning.
func copyKept(out io.Writer, r *format.Reader, done map[compare.Key]bool, warn func(error), opts []format.WriterOption) (int, error) {
	kept := 0
	var w *format.Writer
	seg := -1
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !errors.Is(err, format.ErrNoTrailer) && !errors.Is(err, format.ErrTruncated) {
				warn(err)
			}
			break
		}
		k := compare.KeyOf(&rec)
		if rec.Err != "" || done[k] {
			continue
		}
		if r.Segment() != seg {
			if w != nil {
				if err := w.Close(); err != nil {
					return 0, err
				}
			}
			if w, err = format.NewWriter(out, r.Header(), opts...); err != nil {
				return 0, err
			}
			seg = r.Segment()
		}
		if err := w.Write(&rec); err != nil {
			return 0, err
		}
		done[k] = true
		kept++
	}
	if w != nil {
		return kept, w.Close()
	}
	return kept, nil
}

// Resumable says how the header of a run to be resumed differs from the
// new run's, "" when it does not: the stream format's compatibility and
// every other parameter a run's flags set, the number of challenges, the
// shard and the labels, so that the finished stream is the one an
// uninterrupted run would have made and its header is true of it.
func Resumable(earlier, now *format.Header) string {
	if why := format.Compatible(earlier, now); why != "" {
		return why
	}
	switch {
	case earlier.Challenges.Count != now.Challenges.Count:
		return fmt.Sprintf("number of challenges (-n %d, not %d)", earlier.Challenges.Count, now.Challenges.Count)
	case earlier.Shard != now.Shard:
		return fmt.Sprintf("shard (%+v vs %+v)", earlier.Shard, now.Shard)
	case !maps.Equal(earlier.Labels, now.Labels):
		return fmt.Sprintf("set of labels (%v vs %v)", earlier.Labels, now.Labels)
	}
	return ""
}
