package compare

import (
	"math"

	"github.com/pot-audit/pot/format"
)

// lookahead is how far past the last join the walk looks for the next one
// before it falls back on the index: a candidate in the reference's order
// with a few records missing (failed upstream, or a shard of every few
// records) still joins by walking.
const lookahead = 16

// joiner finds the reference record of each candidate record, once. A
// candidate in the reference's order, the usual case since potgen writes
// (challenge, sample) order, joins by walking along the reference while it
// loads; any other record waits for the whole reference and its index. On
// a streamed reference the walk takes the records as they are handed over,
// and the first record it does not find ahead loads the reference whole
// (see hold).
type joiner struct {
	ref *Reference

	// v is the reference as far as this join has seen it loaded (whole
	// when vDone), next the position after the last join.
	v     view
	vDone bool
	next  int

	// The streamed join (Reference.recs): win holds the records handed
	// over and not yet passed, win[0] being record next.
	win []refItem

	seen []uint64 // bit i: reference record i was joined already
}

// find returns the reference record of cand in ref. ok is false when the
// reference has none; dup is true when it was joined before, since a
// repeated record is not a new observation: scoring it again would let a
// candidate repeat its best answers. An error is the reference's failure
// to load, which stops the comparison.
func (j *joiner) find(cand *format.Record, ref *format.Record) (ok, dup bool, err error) {
	id := joinID(cand)
	i, ok, err := j.position(id, cand.Sample)
	if err != nil || !ok {
		return false, false, err
	}
	if i/64 >= len(j.seen) {
		j.seen = append(j.seen, make([]uint64, max(i/64+1-len(j.seen), len(j.seen)))...)
	}
	if j.seen[i/64]&(1<<(i%64)) != 0 {
		return true, true, nil
	}
	j.seen[i/64] |= 1 << (i % 64)
	if j.ref.recs != nil {
		*ref = j.win[0].rec
		j.win = j.win[1:]
	} else {
		j.v.record(i, ref)
	}
	return true, false, nil
}

// position returns the position of the reference record (id, sample).
func (j *joiner) position(id string, sample uint32) (int, bool, error) {
	if j.ref.recs != nil {
		if i, ok := j.walkStream(id, sample); ok {
			return i, true, nil
		}
		if err := j.hold(); err != nil {
			return 0, false, err
		}
	}
	for p := j.next; p < j.next+lookahead; p++ {
		if p >= j.v.n && !j.vDone {
			j.v, j.vDone = j.ref.await(p)
		}
		if p >= j.v.n {
			break
		}
		if j.v.is(p, id, sample) {
			j.next = p + 1
			return p, true, nil
		}
	}
	if err := j.whole(); err != nil {
		return 0, false, err
	}
	i, ok := j.ref.index.find(&j.v, id, sample)
	if ok {
		j.next = int(i) + 1
	}
	return int(i), ok, nil
}

// walkStream looks for (id, sample) among the next lookahead records a
// streamed reference hands over, and on success leaves it first in win,
// the records before it dropped for good.
func (j *joiner) walkStream(id string, sample uint32) (int, bool) {
	for k := 0; k < lookahead; k++ {
		if k == len(j.win) {
			batch, ok := <-j.ref.recs
			if !ok {
				return 0, false
			}
			if len(j.win) == 0 {
				j.win = batch
			} else {
				j.win = append(j.win, batch...)
			}
		}
		if it := &j.win[k]; it.rec.Sample == sample && it.rec.ID == id {
			j.win = j.win[k:]
			j.next = it.i + 1
			return it.i, true
		}
	}
	return 0, false
}

// hold gives up streaming the reference, when the candidate has left its
// order or ended it: the reference is loaded whole, from the start, and
// waited for, so that what the join reads of it afterwards is final. The
// records joined so far keep their positions, which the two loads number
// alike. The streamed load meets the same trouble as the whole one, and
// reports it first (see One).
func (j *joiner) hold() error {
	j.ref.stopStream()
	j.win = nil
	full, err := j.ref.reopen()
	if err == nil {
		err = full.Wait()
	}
	if err != nil {
		return err
	}
	j.ref = full
	j.v, j.vDone = full.await(math.MaxInt)
	return nil
}

// whole waits for the whole reference, for what needs all of it, and
// returns why it could not be loaded.
func (j *joiner) whole() error {
	if j.ref.recs != nil {
		if err := j.hold(); err != nil {
			return err
		}
	}
	if !j.vDone {
		j.v, j.vDone = j.ref.await(math.MaxInt)
	}
	return j.ref.err
}
