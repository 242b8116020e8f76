package compare

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/streamtest"
)

func reader(t *testing.T, data []byte) *format.Reader {
	t.Helper()
	r, err := format.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// A stream is at distance 0 from itself on every score and every
// distance; another model is not, and the join counts what did not meet.
func TestBetween(t *testing.T) {
	sp := streamtest.DefaultSpec()
	sp.Records = 50
	a := streamtest.Make(sp)
	d, err := Between(context.Background(), "a", "a again", reader(t, a), reader(t, a))
	if err != nil {
		t.Fatal(err)
	}
	if d.Pairs != 50 || d.Compared != 50 || d.Unmatched != 0 || d.RefUnmatched != 0 || len(d.Scores) != 4 {
		t.Fatalf("%+v", d)
	}
	for _, s := range d.Scores {
		if s.Mean != 0 || s.Zero != 1 {
			t.Errorf("%s: mean %v, zero %v on identical streams", s.Name, s.Mean, s.Zero)
		}
	}
	if *d.TokenTV != 0 || *d.CharTV != 0 || *d.LengthKS != 0 || *d.LogprobKS != 0 {
		t.Errorf("distances of identical streams: %v %v %v %v", *d.TokenTV, *d.CharTV, *d.LengthKS, *d.LogprobKS)
	}
	sp.Seed, sp.Skip = 2, 3
	b := streamtest.Make(sp)
	d, err = Between(context.Background(), "a", "b", reader(t, a), reader(t, b))
	if err != nil {
		t.Fatal(err)
	}
	if d.Pairs != 49 || d.Unmatched != 1 || d.RefUnmatched != 1 || d.Scores[0].Mean == 0 {
		t.Errorf("%+v", d)
	}
	if name, values := d.Strongest(); name != "tv" || len(values) != 49 {
		t.Errorf("strongest %s with %d values", name, len(values))
	}
	sp.Set = "other"
	if _, err := Between(context.Background(), "a", "c", reader(t, a), reader(t, streamtest.Make(sp))); err == nil {
		t.Error("streams of two challenge sets compared")
	}
}

// A signal stops --between while it reads: a cancelled context ends the
// join with ErrInterrupted naming the stream, and no distances.
func TestBetweenInterrupted(t *testing.T) {
	sp := streamtest.DefaultSpec()
	sp.Records = 600
	a := streamtest.Make(sp)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := Between(ctx, "a.pot", "b.pot", reader(t, a), reader(t, a))
	if !errors.Is(err, cli.ErrInterrupted) || d != nil || cli.Status(err) != cli.ExitFailure {
		t.Fatalf("cancelled: %v, %v (status %d)", d, err, cli.Status(err))
	}
}
