package main

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"unsafe"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
)

// key joins a candidate record with its reference record.
type key struct {
	id     string
	sample uint32
}

// reference is a reference stream held in memory: reference sets are
// small next to the candidates compared with them, and a candidate may come
// in any order.
//
// It is read on a goroutine of its own, so that decoding it overlaps with
// decoding the candidate, and the candidate's records are joined as soon
// as their reference records are in (see view and comparison.join). The
// records are stored without a pointer, in large blocks, so that a
// reference of millions of records costs the garbage collector nothing
// and memory little more than its arrays. A reference that a single
// comparison reads from a regular file is streamed instead (see
// openReference).
type reference struct {
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
	failed int                        // records carrying Err
	dups   int                        // records whose (challenge, sample) came before; the first is kept

	// A streamed reference (see loadReference) hands its records over
	// on recs, in order, instead of keeping them: its view holds their
	// keys alone, to number them and find its repeats. Once quit is
	// closed, the loader reads on to the end without handing anything
	// over. reopen loads the reference whole, for a candidate that turns
	// out of order.
	recs   chan []refItem
	quit   chan struct{}
	detach sync.Once
	reopen func() (*reference, error)
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

// loadReference opens name, checks its header and starts reading its
// records on a goroutine of its own; wait returns when they are all in. A
// reference that cannot be read to its end is trouble: a verdict against
// part of a reference would look like one against all of it.
//
// scoreName is the --score flag: a score named there lets the reference
// drop what it does not read (the text, or the top-k alternatives).
func loadReference(env *cli.Env, name, scoreName string) (*reference, error) {
	return openReference(env, name, scoreName, false)
}

// streamReference is loadReference for a reference that one comparison
// alone reads: a regular file streams (see openReference). Its view
// holds keys only, so it must not be handed to more than one comparison.
func streamReference(env *cli.Env, name, scoreName string) (*reference, error) {
	return openReference(env, name, scoreName, true)
}

// openReference is loadReference, with streamed for a reference that a
// single comparison reads.
//
// With streamed, for a reference read by a single comparison, a regular
// file is not held: its records stream to the comparison, which joins a
// candidate in the reference's order as they pass and reopens the file
// to load it whole only if the candidate leaves that order. A reference
// of a million records then costs its keys, some hundred megabytes,
// instead of gigabytes of arrays, and none of the page faults of filling
// them. Standard input, or a pipe, cannot be read twice and is held.
func openReference(env *cli.Env, name, scoreName string, streamed bool) (*reference, error) {
	in, err := env.Open(name)
	if err != nil {
		return nil, err
	}
	rd, err := format.NewReader(in)
	if err != nil {
		in.Close()
		return nil, fmt.Errorf("%s: %w", in.Name, err)
	}
	ref := &reference{name: in.Name, header: rd.First()}
	if err := checkKind(in.Name, &ref.header); err != nil {
		rd.Close()
		in.Close()
		return nil, err
	}
	ref.cond.L = &ref.mu
	l := &loader{ref: ref, groups: scoreName == "mmd"}
	switch scoreName {
	case "tv":
		l.drop.text = true
	case "prob", "tokens", "mmd":
		l.drop.text, l.drop.top = true, true
	case "text":
		l.drop.top = true
	}
	ref.index.seed = maphash.MakeSeed()
	if streamed && scoreName != "mmd" && regular(in) {
		ref.recs = make(chan []refItem, streamBatches)
		ref.quit = make(chan struct{})
		ref.reopen = func() (*reference, error) { return loadReference(env, name, scoreName) }
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
func (ref *reference) stopStream() {
	if ref.quit != nil {
		ref.detach.Do(func() { close(ref.quit) })
	}
}

// wait waits for the whole reference and returns why it could not be
// read, if it could not. A streamed reference's records are no longer
// handed over: its comparison is done with them.
func (ref *reference) wait() error {
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
func (ref *reference) await(i int) (v view, done bool) {
	ref.mu.Lock()
	defer ref.mu.Unlock()
	for i >= ref.pub.n && !ref.done {
		ref.cond.Wait()
	}
	return ref.pub, ref.done
}

// total is the number of records for a progress bar, 0 while unknown.
func (ref *reference) total() int64 {
	ref.mu.Lock()
	defer ref.mu.Unlock()
	if !ref.done {
		return 0
	}
	return int64(ref.n)
}

// chunk is the number of records in a chunk of a reference.
const chunk = 4096

// Sizes of the blocks that hold the records' arrays: the first blocks are
// small for the short references of tests, later ones large enough that
// the unused end of a block is lost in the rounding.
const (
	firstBlock = 4 << 10
	lastBlock  = 1 << 20
)

// view is a reference's records as far as they are loaded. Blocks are
// allocated at their full length and the loader only ever writes past the
// records it has published and appends to the lists of blocks, so a copy
// of a view stays valid, and stays what it was, while loading goes on.
type view struct {
	n      int
	recs   [][]refRec // chunks of chunk records
	ints   [][]int32
	floats [][]float32
	strs   [][]byte
}

// refRec is a reference record with its arrays and strings in the view's
// blocks: ints holds Tokens then TopTokens, floats Logprobs then
// TopLogprobs, strs ID then Text then Err.
type refRec struct {
	topK                   int
	sample                 uint32
	intBlock, intOff       uint32
	floatBlock, floatOff   uint32
	strBlock, strOff       uint32
	tokens, topTokens      uint32
	logprobs, topLogprobs  uint32
	idLen, textLen, errLen uint32
}

// meta returns the stored form of record i.
func (v *view) meta(i int) *refRec { return &v.recs[i/chunk][i%chunk] }

// is reports whether record i is (id, sample).
func (v *view) is(i int, id string, sample uint32) bool {
	m := v.meta(i)
	return m.sample == sample && string(v.strs[m.strBlock][m.strOff:m.strOff+m.idLen]) == id
}

// record fills r with record i. Its slices are capped, so that appending
// to one could never write into its neighbour.
func (v *view) record(i int, r *format.Record) {
	m := v.meta(i)
	*r = format.Record{Sample: m.sample, TopK: m.topK}
	if n := m.tokens + m.topTokens; n > 0 {
		b := v.ints[m.intBlock][m.intOff : m.intOff+n : m.intOff+n]
		r.Tokens, r.TopTokens = nilIfEmpty(b[:m.tokens:m.tokens]), nilIfEmpty(b[m.tokens:])
	}
	if n := m.logprobs + m.topLogprobs; n > 0 {
		b := v.floats[m.floatBlock][m.floatOff : m.floatOff+n : m.floatOff+n]
		r.Logprobs, r.TopLogprobs = nilIfEmpty(b[:m.logprobs:m.logprobs]), nilIfEmpty(b[m.logprobs:])
	}
	if n := m.idLen + m.textLen + m.errLen; n > 0 {
		// The bytes are never written again once published, so the
		// strings can share them instead of copying each pair's text.
		s := unsafe.String(&v.strs[m.strBlock][m.strOff], n)
		r.ID, r.Text, r.Err = s[:m.idLen], s[m.idLen:m.idLen+m.textLen], s[m.idLen+m.textLen:]
	}
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// loader reads a reference into its view. Only its goroutine touches it.
type loader struct {
	ref    *reference
	groups bool
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
			return cli.Usage(fmt.Errorf("reference %s: %w (a reference must be whole)", ref.name, err))
		}
		i := l.v.n
		if _, dup := ref.index.find(&l.v, rec.ID, rec.Sample); dup {
			ref.dups++
			continue
		}
		if i >= math.MaxInt32 {
			return cli.Usagef("reference %s: more than %d records", ref.name, math.MaxInt32)
		}
		if rec.Err != "" {
			ref.failed++
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

// errTooLong is the error for a record array too long to store.
var errTooLong = errors.New("an array of more than 4G elements")

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

// trim drops what the score named by --score does not read.
func (l *loader) trim(rec *format.Record) {
	if l.drop.text {
		rec.Text = ""
	}
	if l.drop.top {
		rec.TopK, rec.TopTokens, rec.TopLogprobs = 0, nil, nil
	}
}

// add stores rec as the view's next record. The prompt is never scored,
// and what the score named by --score does not read is dropped.
func (l *loader) add(rec *format.Record) error {
	l.trim(rec)
	for _, n := range []int{len(rec.Tokens), len(rec.TopTokens), len(rec.Logprobs), len(rec.TopLogprobs),
		len(rec.ID) + len(rec.Text) + len(rec.Err)} {
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
		logprobs: uint32(len(rec.Logprobs)), topLogprobs: uint32(len(rec.TopLogprobs)),
		idLen: uint32(len(rec.ID)), textLen: uint32(len(rec.Text)), errLen: uint32(len(rec.Err))}
	var ints []int32
	ints, m.intBlock, m.intOff = room(&v.ints, &l.intsUsed, len(rec.Tokens)+len(rec.TopTokens))
	n := copy(ints, rec.Tokens)
	copy(ints[n:], rec.TopTokens)
	var floats []float32
	floats, m.floatBlock, m.floatOff = room(&v.floats, &l.floatsUsed, len(rec.Logprobs)+len(rec.TopLogprobs))
	n = copy(floats, rec.Logprobs)
	copy(floats[n:], rec.TopLogprobs)
	var strs []byte
	strs, m.strBlock, m.strOff = room(&v.strs, &l.strsUsed, len(rec.ID)+len(rec.Text)+len(rec.Err))
	n = copy(strs, rec.ID)
	n += copy(strs[n:], rec.Text)
	copy(strs[n:], rec.Err)
	v.recs[v.n/chunk][v.n%chunk] = m
	v.n++
	return nil
}

// room reserves n elements in the last of *blocks, or in a new block
// when they do not fit, and returns them and where they start. *used is
// how much of the last block is taken.
func room[T any](blocks *[][]T, used *int, n int) (dst []T, block, off uint32) {
	if n == 0 {
		return nil, 0, 0
	}
	bs := *blocks
	if len(bs) == 0 || len(bs[len(bs)-1])-*used < n {
		size := firstBlock
		if len(bs) > 0 {
			size = min(2*len(bs[len(bs)-1]), lastBlock)
		}
		bs = append(bs, make([]T, max(size, n)))
		*blocks, *used = bs, 0
	}
	off = uint32(*used)
	*used += n
	return bs[len(bs)-1][off:*used], uint32(len(bs) - 1), off
}

// refIndex maps (id, sample) to a record's position. It is keyed by a
// 64-bit hash, a map without pointers, which is smaller than one keyed by
// strings and which the garbage collector does not scan; the rare keys
// whose hash another key has already taken go to the overflow map.
type refIndex struct {
	seed     maphash.Seed
	byHash   map[uint64]int32
	overflow map[key]int32
}

func (x *refIndex) hash(id string, sample uint32) uint64 {
	// Distinct samples of one id never collide: the odd multiplier maps
	// every difference of two uint32 to a non-zero difference.
	return maphash.String(x.seed, id) + uint64(sample)*0x9e3779b97f4a7c15
}

// find returns the position of (id, sample) among v's records.
func (x *refIndex) find(v *view, id string, sample uint32) (int32, bool) {
	i, ok := x.byHash[x.hash(id, sample)]
	if !ok {
		return 0, false
	}
	if v.is(int(i), id, sample) {
		return i, true
	}
	i, ok = x.overflow[key{id, sample}]
	return i, ok
}

// add records that (id, sample), not in the index yet, is record i.
func (x *refIndex) add(v *view, i int32, id string, sample uint32) {
	if x.byHash == nil {
		x.byHash = map[uint64]int32{}
	}
	h := x.hash(id, sample)
	if _, taken := x.byHash[h]; !taken {
		x.byHash[h] = i
		return
	}
	if x.overflow == nil {
		x.overflow = map[key]int32{}
	}
	x.overflow[key{id, sample}] = i
}

func checkKind(name string, h *format.Header) error {
	if h.Kind != format.KindOutputs {
		return cli.Usagef("%s: a %s stream: potcmp compares outputs streams (run potgen on it first)", name, h.Kind)
	}
	return nil
}

// errMismatch is the error for streams that cannot be compared.
var errMismatch = errors.New("cannot be compared")

// comparable explains why outputs under ref and cand cannot be compared:
// another challenge set (the challenge ids would not even meet), or
// sampling that makes a score meaningless. A different model is what
// potcmp is for, and a different vocabulary is the score's business.
func comparable(refName, candName string, ref, cand *format.Header) error {
	if diffs := ref.Challenges.Diff(cand.Challenges); len(diffs) > 0 {
		return cli.Usage(fmt.Errorf("%s and %s come from different challenge sets (%s): %w",
			refName, candName, strings.Join(diffs, ", "), errMismatch))
	}
	var diffs []string
	rs, cs := ref.Sampling, cand.Sampling
	topP := func(p float64) float64 { // 0 and 1 both mean off
		if p == 0 {
			return 1
		}
		return p
	}
	for _, f := range []struct {
		name string
		a, b float64
	}{
		{"temperature", rs.Temperature, cs.Temperature},
		{"top-p", topP(rs.TopP), topP(cs.TopP)},
		{"top-k", float64(rs.TopK), float64(cs.TopK)},
		{"max-tokens", float64(rs.MaxTokens), float64(cs.MaxTokens)},
	} {
		if f.a != f.b {
			diffs = append(diffs, fmt.Sprintf("%s %v vs %v", f.name, f.a, f.b))
		}
	}
	if len(diffs) > 0 {
		return cli.Usage(fmt.Errorf("%s and %s were sampled differently (%s): their outputs %w",
			refName, candName, strings.Join(diffs, ", "), errMismatch))
	}
	return nil
}

// seedSensitive reports whether score name compares samples one by one in
// a way that two runs of one model pass only under the same seeds.
func seedSensitive(name string) bool {
	return name == "tokens" || name == "prob" || name == "text"
}

// checkSeeds refuses to compare sampled outputs drawn with different base
// seeds under a score that expects the same sample on both sides: the same
// model would look different.
func checkSeeds(refName, candName string, ref, cand *format.Header, name string) error {
	if ref.Sampling.Temperature > 0 && ref.Sampling.Seed != cand.Sampling.Seed && seedSensitive(name) {
		return cli.Usage(fmt.Errorf("%s and %s were sampled (temperature %v) with different seeds (%d vs %d): score %s compares samples one by one, use --score tv or mmd: %w",
			refName, candName, ref.Sampling.Temperature, ref.Sampling.Seed, cand.Sampling.Seed, name, errMismatch))
	}
	return nil
}

// modelName names a stream's model in outputs.
func modelName(h *format.Header) string {
	m := h.Model
	s := m.Backend + ":" + m.Name
	if m.Perturb != "" {
		s += ",perturb=" + m.Perturb
	}
	return s
}
