package generate

import (
	"fmt"
	"io"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/challenge"
	"github.com/pot-audit/pot/internal/cli"
)

// Challenges is a Source that says what it hands out: a set derived from
// a key, or a challenge stream (a shard, perhaps).
type Challenges struct {
	Set   format.ChallengeSet
	Shard format.Shard
	Total int // challenges expected, 0 when unknown
	next  func() (format.Record, error)
	close func()
}

// Next returns the next challenge, io.EOF after the last.
func (c *Challenges) Next() (format.Record, error) { return c.next() }

// Close releases the stream read, if any.
func (c *Challenges) Close() { c.close() }

// FromSet hands out the challenges of set in order.
func FromSet(set *challenge.Set) *Challenges {
	i := 0
	return &Challenges{
		Set:   set.Header(),
		Total: set.Len(),
		next: func() (format.Record, error) {
			if i >= set.Len() {
				return format.Record{}, io.EOF
			}
			i++
			return set.Record(i - 1), nil
		},
		close: func() {},
	}
}

// FromStream hands out the challenges of the challenge stream called name
// (- is standard input), which must be one.
func FromStream(env *cli.Env, name string) (*Challenges, error) {
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
	return &Challenges{
		Set:   h.Challenges,
		Shard: h.Shard,
		next: func() (format.Record, error) {
			rec, err := r.Read()
			if err != nil && err != io.EOF {
				err = fmt.Errorf("%s: %w", in.Name, err)
			}
			return rec, err
		},
		close: func() { r.Close(); in.Close() },
	}, nil
}
