package compare

import (
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"os"
	"sync"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/score"
)

// Reference is a reference stream held in memory: reference sets are
// small next to the candidates compared with them, and a candidate may come
// in any order.
//
// It is read on a goroutine of its own, so that decoding it overlaps with
// decoding the candidate, and the candidate's records are joined as soon
// as their reference records are in (see view and joiner). The
// records are stored without a pointer, in large blocks, so that a
// reference of millions of records costs the garbage collector nothing
// and memory little more than its arrays. A reference that a single
// comparison reads from a regular file is streamed instead (see
// LoadStreamed).
type Reference struct {
	name   string
	header format.Header

	mu   sync.Mutex
	cond sync.Cond // signalled when pub grows or the load ends
	pub  view      // the records loaded so far
	done bool      // the load has ended, with err or at the end of the stream
	err  error

	// Set by the loader before done, read only after it.
	n      int                        // records kept
	index  refIndex                   // (id, sample) to record
	byID   map[string][]format.Record // each challenge's samples, for mmd only
	ranked map[string][]rankRef       // each challenge's samples, for rank only
	failed int                        // records carrying Err
	dups   int                        // records whose (challenge, sample) came before; the first is kept

	// A streamed reference (see LoadStreamed) hands its records over
	// on recs, in order, instead of keeping them: its view holds their
	// keys alone, to number them and find its repeats. Once quit is
	// closed, the loader reads on to the end without handing anything
	// over. reopen loads the reference whole, for a candidate that turns
	// out of order.
	recs   chan []refItem
	quit   chan struct{}
	detach sync.Once
	reopen func() (*Reference, error)
}

// refItem is record i of a streamed reference.
type refItem struct {
	i   int
	rec format.Record
}

// Batching of a streamed reference: records go over streamBatch at a
// time, and at most streamBatches batches wait, so the records held
// between the loader and the join stay a few thousand whatever the
// reference's length.
const (
	streamBatch   = 256
	streamBatches = 4
)

// Load opens name, checks its header and starts reading its records on a
// goroutine of its own; Wait returns when they are all in. A
// reference that cannot be read to its end is trouble: a verdict against
// part of a reference would look like one against all of it.
//
// scoreName is the score to be used, or "auto": a score named lets the
// reference drop what it does not read (the text, or the top-k
// alternatives).
//
// opts go to the stream's reader (RequireSigned).
func Load(env *cli.Env, name, scoreName string, opts ...format.ReaderOption) (*Reference, error) {
	return openReference(env, name, scoreName, false, opts)
}

// LoadStreamed is Load for a reference that one comparison alone reads: a
// regular file streams (see openReference). Its view
// holds keys only, so it must not be handed to more than one comparison.
func LoadStreamed(env *cli.Env, name, scoreName string, opts ...format.ReaderOption) (*Reference, error) {
	return openReference(env, name, scoreName, true, opts)
}

// openReference is Load, with streamed for a reference that a
// single comparison reads.
//
// With streamed, for a reference read by a single comparison, a regular
// file is not held: its records stream to the comparison, which joins a
// candidate in the reference's order as they pass and reopens the file
// to load it whole only if the candidate leaves that order. A reference
// of a million records then costs its keys, some hundred megabytes,
// instead of gigabytes of arrays, and none of the page faults of filling
// them. Standard input, or a pipe, cannot be read twice and is held.
func openReference(env *cli.Env, name, scoreName string, streamed bool, opts []format.ReaderOption) (*Reference, error) {
	in, err := env.Open(name)
	if err != nil {
		return nil, err
	}
	rd, err := format.NewReader(in, opts...)
	if err != nil {
		in.Close()
		return nil, fmt.Errorf("%s: %w", in.Name, err)
	}
	ref := &Reference{name: in.Name, header: rd.First()}
	if err := WantOutputs(in.Name, &ref.header); err != nil {
		rd.Close()
		in.Close()
		return nil, err
	}
	ref.cond.L = &ref.mu
	l := &loader{ref: ref}
	if sp, ok := score.Lookup(scoreName); ok {
		// Under auto the score is not known yet: everything is kept.
		l.groups = sp.Sets
		l.ranks = sp.Ranks || sp.Ratios // lr needs the challenges only: the rank's keep is small
		l.drop.text, l.drop.top = !sp.Text, !sp.Top
	}
	ref.index.seed = maphash.MakeSeed()
	if streamed && !l.groups && !l.ranks && regular(in) {
		ref.recs = make(chan []refItem, streamBatches)
		ref.quit = make(chan struct{})
		ref.reopen = func() (*Reference, error) { return Load(env, name, scoreName, opts...) }
		l.stream = true
	}
	go func() {
		defer in.Close()
		defer rd.Close()
		err := l.run(rd)
		ref.mu.Lock()
		ref.pub, ref.done, ref.err = l.v, true, err
		ref.mu.Unlock()
		ref.cond.Broadcast()
		if ref.recs != nil {
			close(ref.recs)
		}
	}()
	return ref, nil
}

// regular reports whether in is a regular file, which can be opened again.
func regular(in *cli.Input) bool {
	f, ok := in.Reader.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode().IsRegular()
}

// stopStream tells a streamed reference's loader that its records are no
// longer wanted: it reads on to the end, for the counts and for a damage
// that would make any verdict against it void, but hands nothing over.
func (ref *Reference) stopStream() {
	if ref.quit != nil {
		ref.detach.Do(func() { close(ref.quit) })
	}
}

// Wait waits for the whole reference and returns why it could not be
// read, if it could not. A streamed reference's records are no longer
// handed over: its comparison is done with them.
func (ref *Reference) Wait() error {
	ref.stopStream()
	ref.mu.Lock()
	defer ref.mu.Unlock()
	for !ref.done {
		ref.cond.Wait()
	}
	return ref.err
}

// await waits until record i is loaded or the load has ended, and returns
// the records loaded by then and whether the load has ended.
func (ref *Reference) await(i int) (v view, done bool) {
	ref.mu.Lock()
	defer ref.mu.Unlock()
	for i >= ref.pub.n && !ref.done {
		ref.cond.Wait()
	}
	return ref.pub, ref.done
}

// total is the number of records for a progress bar, 0 while unknown.
func (ref *Reference) total() int64 {
	ref.mu.Lock()
	defer ref.mu.Unlock()
	if !ref.done {
		return 0
	}
	return int64(ref.n)
}

// loader reads a reference into its view. Only its goroutine touches it.
type loader struct {
	ref    *Reference
	groups bool
	ranks  bool // keep seeds and log-likelihoods for the rank test
	drop   struct{ text, top bool }
	stream bool      // hand the records over on ref.recs, keep their keys only
	batch  []refItem // the records not handed over yet
	v      view
	// How much of the last block of each kind is used.
	intsUsed, floatsUsed, strsUsed int
}

// publishEvery is how many records the loader adds between two
// publications: a waiting scorer wakes at most that many records late,
// and the lock is taken rarely.
const publishEvery = 256

func (l *loader) run(rd *format.Reader) error {
	ref := l.ref
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return cli.BadInput(fmt.Errorf("reference %s: %w (a reference must be whole)", ref.name, err))
		}
		rec.ID = joinID(&rec) // the join reads the key from the stored id
		i := l.v.n
		if _, dup := ref.index.find(&l.v, rec.ID, rec.Sample); dup {
			ref.dups++
			continue
		}
		if i >= math.MaxInt32 {
			return cli.BadInputf("reference %s: more than %d records", ref.name, math.MaxInt32)
		}
		if rec.Err != "" {
			ref.failed++
		}
		if l.ranks {
			ref.addRank(&rec)
		}
		if l.stream {
			l.trim(&rec)
			l.send(refItem{i, rec}, false)
			rec = format.Record{ID: rec.ID, Sample: rec.Sample}
		}
		if err := l.add(&rec); err != nil {
			return fmt.Errorf("reference %s: record %d: %w", ref.name, i, err)
		}
		ref.index.add(&l.v, int32(i), rec.ID, rec.Sample)
		if l.v.n%publishEvery == 0 {
			ref.mu.Lock()
			ref.pub = l.v
			ref.mu.Unlock()
			ref.cond.Broadcast()
		}
	}
	if l.stream {
		l.send(refItem{}, true)
	}
	ref.n = l.v.n
	if l.groups {
		ref.byID = map[string][]format.Record{}
		for i := range l.v.n {
			var r format.Record
			l.v.record(i, &r)
			ref.byID[r.ID] = append(ref.byID[r.ID], r)
		}
	}
	return nil
}

// send queues it for the join and hands the batch over when it is full,
// or with flush whatever there is; once the join has stopped wanting
// records it drops them.
func (l *loader) send(it refItem, flush bool) {
	quit := l.ref.quit
	select {
	case <-quit:
		l.batch = nil
		return
	default:
	}
	if !flush {
		if l.batch == nil {
			l.batch = make([]refItem, 0, streamBatch)
		}
		l.batch = append(l.batch, it)
		if len(l.batch) < streamBatch {
			return
		}
	}
	if len(l.batch) == 0 {
		return
	}
	select {
	case l.ref.recs <- l.batch:
	case <-quit:
	}
	l.batch = nil
}

// trim drops what the score named at Load does not read.
func (l *loader) trim(rec *format.Record) {
	if l.drop.text {
		rec.Text = ""
	}
	if l.drop.top {
		rec.TopK, rec.TopTokens, rec.TopLogprobs, rec.TopBytes = 0, nil, nil, nil
	}
}

// add stores rec as the view's next record. The prompt is never scored,
// and what the score named at Load does not read is dropped.
func (l *loader) add(rec *format.Record) error {
	l.trim(rec)
	named := 0
	for _, b := range rec.TokenBytes {
		named += len(b)
	}
	for _, b := range rec.TopBytes {
		named += len(b)
	}
	nInts := len(rec.Tokens) + len(rec.TopTokens) + len(rec.TokenBytes) + len(rec.TopBytes)
	for _, n := range []int{nInts, len(rec.Logprobs), len(rec.TopLogprobs),
		len(rec.ID) + len(rec.Text) + len(rec.Err) + named} {
		if n > math.MaxUint32 {
			return errTooLong
		}
	}
	v := &l.v
	if v.n%chunk == 0 {
		v.recs = append(v.recs, make([]refRec, chunk))
	}
	m := refRec{topK: rec.TopK, sample: rec.Sample,
		tokens: uint32(len(rec.Tokens)), topTokens: uint32(len(rec.TopTokens)),
		tokenBytes: uint32(len(rec.TokenBytes)), topBytes: uint32(len(rec.TopBytes)), bytesLen: uint32(named),
		logprobs: uint32(len(rec.Logprobs)), topLogprobs: uint32(len(rec.TopLogprobs)),
		idLen: uint32(len(rec.ID)), textLen: uint32(len(rec.Text)), errLen: uint32(len(rec.Err))}
	if p := rec.Pieces; p != nil {
		// A segment's records share its table: a new one is a new segment.
		if len(v.pieces) == 0 || v.pieces[len(v.pieces)-1] != p {
			v.pieces = append(v.pieces, p)
		}
		m.pieces = uint32(len(v.pieces))
	}
	var ints []int32
	ints, m.intBlock, m.intOff = room(&v.ints, &l.intsUsed, nInts)
	n := copy(ints, rec.Tokens)
	n += copy(ints[n:], rec.TopTokens)
	for _, list := range [2][]string{rec.TokenBytes, rec.TopBytes} {
		for _, b := range list {
			ints[n] = int32(len(b))
			n++
		}
	}
	var floats []float32
	floats, m.floatBlock, m.floatOff = room(&v.floats, &l.floatsUsed, len(rec.Logprobs)+len(rec.TopLogprobs))
	n = copy(floats, rec.Logprobs)
	copy(floats[n:], rec.TopLogprobs)
	var strs []byte
	strs, m.strBlock, m.strOff = room(&v.strs, &l.strsUsed, len(rec.ID)+len(rec.Text)+len(rec.Err)+named)
	n = copy(strs, rec.ID)
	n += copy(strs[n:], rec.Text)
	n += copy(strs[n:], rec.Err)
	for _, list := range [2][]string{rec.TokenBytes, rec.TopBytes} {
		for _, b := range list {
			n += copy(strs[n:], b)
		}
	}
	v.recs[v.n/chunk][v.n%chunk] = m
	v.n++
	return nil
}
