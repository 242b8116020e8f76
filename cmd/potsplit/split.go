package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strconv"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
)

// errInterrupted ends a split that was asked to stop (SIGINT, SIGTERM).
var errInterrupted = errors.New("interrupted")

// split copies the records of in into the shards p asks for.
func split(ctx context.Context, env *cli.Env, in *cli.Input, p plan) error {
	// Segments that no reader would mix (another set, model or sampling)
	// are damaged input, as potstat --verify says: no shard is written,
	// unless --mixed passes them on as they are.
	// Each record is written out at once, so the reader may reuse its arrays.
	var signers cli.Signers
	opts := []format.ReaderOption{format.ReuseRecords(), signers.Option()}
	if p.mixed {
		opts = append(opts, format.AllowMixed())
	}
	r, err := format.NewReader(in, opts...)
	if err != nil {
		return fmt.Errorf("%s: %w", in.Name, err)
	}
	defer r.Close()

	wopts, err := p.writerOptions()
	if err != nil {
		return err
	}
	set := newShardSet(env, p, in.Name, wopts...)
	defer set.abort()

	progress := cli.NewProgress(env.Stderr, "potsplit", 0)
	defer progress.Done()

	cur := 0 // the shard being filled, for --records and --size
	for n := 0; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return errInterrupted
		}
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", in.Name, err)
		}
		h := r.Header()
		i := cur
		if p.shards > 0 {
			i = shardOf(&rec, p.shards)
		}
		sh, err := set.write(i, &h, r.Segment(), &rec)
		if err != nil {
			return err
		}
		if (p.records > 0 && sh.records >= p.records) || (p.size > 0 && sh.cw.n >= p.size) {
			if err := set.finish(i, &h); err != nil {
				return err
			}
			cur++
		}
		progress.Add(1)
	}

	first := r.First()
	switch {
	case p.shards > 0:
		for i := range p.shards {
			if err := set.finish(i, &first); err != nil {
				return err
			}
		}
	case len(set.open) > 0 || cur == 0:
		// The last, partly filled shard; or shard 0 alone when the input
		// had no record, so that the output is a stream all the same.
		if err := set.finish(cur, &first); err != nil {
			return err
		}
	}
	if err := set.commit(); err != nil {
		return err
	}
	if len(signers.IDs) > 0 && p.sign == "" {
		fmt.Fprintln(env.Stderr, cli.Unsigned("potsplit", in.Name, "shards "+p.pattern, signers.IDs))
	}
	return nil
}

// writerOptions are the options of every shard's writer: the signing
// key --sign names, and frames small enough for --size.
func (p plan) writerOptions() ([]format.WriterOption, error) {
	wopts, err := cli.SignOptions(p.sign)
	if err != nil {
		return nil, err
	}
	if p.size > 0 {
		// Frames are the unit in which a shard grows; keep them well under
		// the target size so that shards come out close to it.
		wopts = append(wopts, format.WithFrameSize(format.DefaultFrameRecords, int(min(max(p.size/4, 4<<10), format.DefaultFrameBytes))))
	}
	return wopts, nil
}

// shardOf assigns a record to one of n shards by the FNV-1a 64 hash of its
// challenge id, or of its decimal challenge index when the id is empty. It
// depends on nothing but the record, so every sample of a challenge, in
// this stream or another made from the same set, goes to the same shard.
func shardOf(rec *format.Record, n int) int {
	h := fnv.New64a()
	if rec.ID != "" {
		h.Write([]byte(rec.ID))
	} else {
		h.Write(strconv.AppendUint(nil, rec.Index, 10))
	}
	return int(h.Sum64() % uint64(n))
}
