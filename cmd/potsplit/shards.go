package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
)

// shardSet writes the shards of one split so that they appear together or
// not at all. A shard is written through cli.Create like any output, but
// committed first to a hidden staging file next to its target; the staging
// files are renamed to their targets only once the whole input has been
// read intact. Committing finished shards early keeps memory flat (a
// sequential split of a long stream has thousands of shards, and an open
// output holds a buffer and a compressor), and staging them keeps a half
// done split, even one killed outright, from looking like a complete set.
type shardSet struct {
	env     *cli.Env
	pattern string
	input   string // never to be overwritten by a shard
	by      string // Header.Shard.By
	count   int    // Header.Shard.Count: the number of shards, 0 when not known in advance
	opts    []format.WriterOption

	open   map[int]*shard
	staged []*shard // written whole to their staging files, in the order they finished
	done   bool
}

// shard is one output stream.
type shard struct {
	index    int
	name     string // the file the shard ends up in
	stage    string // the hidden file it waits in until every shard is done
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
	// Check the target as any output is checked (not a folder, not the
	// input, a folder we may write in) before spending work on it.
	probe, err := s.env.Create(name, cli.OutputOptions{Binary: true, Inputs: []string{s.input}})
	if err != nil {
		return nil, err
	}
	probe.Abort()
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".part*")
	if err != nil {
		return nil, cli.WithStatus(cli.ExitFailure, fmt.Errorf("%s: %w", name, err))
	}
	f.Close()
	sh := &shard{index: i, name: name, stage: f.Name()}
	sh.out, err = s.env.Create(sh.stage, cli.OutputOptions{Binary: true})
	if err != nil {
		os.Remove(sh.stage)
		return nil, err
	}
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
	out := sh.out
	sh.out, sh.w, sh.cw.w = nil, nil, nil // let the buffer and the compressor go
	if err := out.Commit(); err != nil {
		return cli.WithStatus(cli.ExitFailure, err)
	}
	return nil
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
		if err := os.Rename(sh.stage, sh.name); err != nil {
			for _, prev := range s.staged[:k] {
				os.Remove(prev.name)
			}
			return cli.WithStatus(cli.ExitFailure, fmt.Errorf("%s: %w", sh.name, unwrapPath(err)))
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
		os.Remove(sh.stage)
	}
	for _, sh := range s.staged {
		os.Remove(sh.stage)
	}
}

func unwrapPath(err error) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
