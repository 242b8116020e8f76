package main

import (
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
)

// shardSet writes the shards of one split so that they appear together or
// not at all. A shard is a cli.Output like any output; a finished one is
// staged (written whole under its hidden name, its buffer and compressor
// let go), and the staged shards are published, renamed to their targets,
// only once the whole input has been read intact. Staging finished shards
// early keeps memory flat (a sequential split of a long stream has
// thousands of shards), and publishing them together keeps a half done
// split, even one killed outright, from looking like a complete set.
type shardSet struct {
	env     *cli.Env
	pattern string
	input   string // never to be overwritten by a shard
	by      string // Header.Shard.By
	count   int    // Header.Shard.Count: the number of shards, 0 when not known in advance
	opts    []format.WriterOption

	open   map[int]*shard
	staged []*shard // written whole under their hidden names, in the order they finished
	done   bool
}

// shard is one output stream.
type shard struct {
	index    int
	name     string // the file the shard ends up in
	out      *cli.Output
	cw       countingWriter
	w        *format.Writer // the segment being written, nil before the first record
	seg      int            // the input segment w copies
	records  int64
	segments int
}

// countingWriter counts the compressed bytes of a shard, for --size.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newShardSet(env *cli.Env, p plan, input string, opts ...format.WriterOption) *shardSet {
	return &shardSet{env: env, pattern: p.pattern, input: input, by: p.by, count: p.shards, opts: opts, open: map[int]*shard{}}
}

// get returns shard i, starting it if it is not open yet.
func (s *shardSet) get(i int) (*shard, error) {
	if sh, ok := s.open[i]; ok {
		return sh, nil
	}
	name, err := cli.ExpandPattern(s.pattern, i)
	if err != nil {
		return nil, err
	}
	out, err := s.env.Create(name, cli.OutputOptions{Binary: true, Inputs: []string{s.input}})
	if err != nil {
		return nil, err
	}
	sh := &shard{index: i, name: name, out: out}
	sh.cw.w = sh.out
	s.open[i] = sh
	return sh, nil
}

// write adds rec, of input segment seg under header h, to shard i.
func (s *shardSet) write(i int, h *format.Header, seg int, rec *format.Record) (*shard, error) {
	sh, err := s.get(i)
	if err != nil {
		return nil, err
	}
	if sh.w == nil || sh.seg != seg {
		if err := s.segment(sh, h, seg); err != nil {
			return nil, err
		}
	}
	if err := sh.w.Write(rec); err != nil {
		return nil, s.failed(sh, err)
	}
	sh.records++
	return sh, nil
}

// segment ends the shard's current segment, if any, and starts one that
// copies input segment seg.
func (s *shardSet) segment(sh *shard, h *format.Header, seg int) error {
	if sh.w != nil {
		if err := sh.w.Close(); err != nil {
			return s.failed(sh, err)
		}
	}
	hdr := *h
	hdr.Shard = format.Shard{Index: sh.index, Count: s.count, By: s.by}
	w, err := format.NewWriter(&sh.cw, hdr, s.opts...)
	if err != nil {
		return s.failed(sh, err)
	}
	sh.w, sh.seg = w, seg
	sh.segments++
	return nil
}

// finish completes shard i and commits it to its staging file. A shard
// that received no record gets an empty segment under h, so that it is a
// valid stream.
func (s *shardSet) finish(i int, h *format.Header) error {
	sh, err := s.get(i)
	if err != nil {
		return err
	}
	if sh.w == nil {
		if err := s.segment(sh, h, -1); err != nil {
			return err
		}
	}
	if err := sh.w.Close(); err != nil {
		return s.failed(sh, err)
	}
	delete(s.open, i)
	s.staged = append(s.staged, sh)
	sh.w, sh.cw.w = nil, nil // let the compressor go
	return sh.out.Stage()
}

// failed names the shard in a write error. Failing to write an output is a
// runtime failure, even when the error is an *fs.PathError.
func (s *shardSet) failed(sh *shard, err error) error {
	return cli.WithStatus(cli.ExitFailure, fmt.Errorf("%s: %w", sh.name, err))
}

// commit moves every finished shard into place. It is all or nothing as
// far as the file system allows: if a rename fails, the shards already
// renamed are removed again.
func (s *shardSet) commit() error {
	if len(s.open) > 0 {
		return fmt.Errorf("%d shards still open at commit", len(s.open))
	}
	slices.SortFunc(s.staged, func(a, b *shard) int { return a.index - b.index })
	for k, sh := range s.staged {
		if err := sh.out.Publish(); err != nil {
			for _, prev := range s.staged[:k] {
				os.Remove(prev.name)
			}
			s.abort()
			return err
		}
	}
	s.done = true
	return nil
}

// abort drops every shard, written or not. It does nothing after commit.
func (s *shardSet) abort() {
	if s.done {
		return
	}
	s.done = true
	for _, sh := range s.open {
		sh.out.Abort()
	}
	for _, sh := range s.staged {
		sh.out.Abort()
	}
}
