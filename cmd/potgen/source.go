package main

import (
	"fmt"
	"io"

	ucli "github.com/urfave/cli/v2"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
)

// source hands out challenges one at a time, from a set derived from a key
// or from a challenge stream.
type source struct {
	set   format.ChallengeSet
	shard format.Shard
	total int // challenges expected, 0 when unknown
	read  func() (format.Record, error)
	close func()
}

// Next returns the next challenge, io.EOF after the last.
func (s *source) Next() (format.Record, error) { return s.read() }

func openSource(c *ucli.Context, env *cli.Env) (*source, error) {
	if name := c.String("challenges"); name != "" {
		for _, f := range []string{"key", "n", "prompts", "run-id"} {
			if c.IsSet(f) {
				return nil, cli.Usagef("--challenges and --%s are exclusive: the stream already names its set", f)
			}
		}
		return streamSource(env, name)
	}
	set, err := openSet(c)
	if err != nil {
		return nil, err
	}
	i := 0
	return &source{
		set:   set.Header(),
		total: set.Len(),
		read: func() (format.Record, error) {
			if i >= set.Len() {
				return format.Record{}, io.EOF
			}
			i++
			return set.Record(i - 1), nil
		},
		close: func() {},
	}, nil
}

func streamSource(env *cli.Env, name string) (*source, error) {
	in, err := env.Open(name)
	if err != nil {
		return nil, err
	}
	r, err := format.NewReader(in)
	if err != nil {
		in.Close()
		return nil, fmt.Errorf("%s: %w", in.Name, err)
	}
	h := r.First()
	if err := cli.WantKind(in.Name, h.Kind, format.KindChallenges); err != nil {
		r.Close()
		in.Close()
		return nil, err
	}
	return &source{
		set:   h.Challenges,
		shard: h.Shard,
		total: 0,
		read: func() (format.Record, error) {
			rec, err := r.Read()
			if err != nil && err != io.EOF {
				err = fmt.Errorf("%s: %w", in.Name, err)
			}
			return rec, err
		},
		close: func() { r.Close(); in.Close() },
	}, nil
}
