package compare

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/streamtest"
)

// sampledStream writes n challenges of k samples, each sample's first
// token drawn from firsts by r, under vocabulary vocab.
func sampledStream(t *testing.T, dir, name, vocab string, n, k int, firsts []int32, r *rand.Rand) string {
	t.Helper()
	h := streamtest.Header("s", "a", vocab)
	h.Sampling.Temperature, h.Sampling.Samples = 1, k
	var recs []format.Record
	for i := range n {
		for s := range uint32(k) {
			recs = append(recs, streamtest.Record(i, s, firsts[r.IntN(len(firsts))], 3))
		}
	}
	return streamtest.Write(t, dir, name, h, recs)
}

func between(t *testing.T, a, b string) *Distances {
	t.Helper()
	fa, err := os.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	ra, err := format.NewReader(fa)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := format.NewReader(fb)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Between(context.Background(), a, b, ra, rb)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// Across seeds, one model's distance is noise (a large p), another's is
// not (the smallest p 1000 relabellings give); the intervals hold the
// estimates; the text and the JSON show them; one sample a challenge has
// no such inference.
func TestBetweenSeeds(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 3))
	model := []int32{10, 11, 12}
	a := sampledStream(t, dir, "a.pot", "v", 60, 6, model, r)
	same := sampledStream(t, dir, "same.pot", "v", 60, 6, model, r)
	other := sampledStream(t, dir, "other.pot", "v", 60, 6, []int32{10, 40, 41}, r)
	words := sampledStream(t, dir, "words.pot", "w", 60, 6, model, r)
	for _, tc := range []struct {
		name, b, first string
		noise          bool
	}{
		{"same model", same, "id", true},
		{"another model", other, "id", false},
		{"another vocabulary, same words", words, "word", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := between(t, a, tc.b).Seeds
			if s == nil {
				t.Fatal("no inference across seeds for sampled streams")
			}
			if s.Challenges != 60 || s.FirstToken != tc.first {
				t.Errorf("challenges %d, first token by %s", s.Challenges, s.FirstToken)
			}
			for _, st := range []SeedsStat{s.TV, s.JS, s.KLAB, s.KLBA, s.Match} {
				if !(st.Lo <= st.Est && st.Est <= st.Hi) {
					t.Errorf("estimate %v outside its interval [%v, %v]", st.Est, st.Lo, st.Hi)
				}
			}
			if noise := *s.TV.P > 0.05; noise != tc.noise {
				t.Errorf("tv %.4f, null %.4f, p %.4f: noise %v, want %v", s.TV.Est, *s.TV.Null, *s.TV.P, noise, tc.noise)
			}
			if len(s.PerID) != 60 {
				t.Errorf("%d challenges with statistics of their own, want 60", len(s.PerID))
			}
		})
	}
	rep := between(t, a, other)
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil || !strings.Contains(text.String(), "  first-token tv  ") || !strings.Contains(text.String(), "p 0.001") {
		t.Errorf("text: %v\n%s", err, text.String())
	}
	b, err := json.Marshal(rep)
	if err != nil || !strings.Contains(string(b), `"across_seeds":{"challenges":60`) {
		t.Errorf("JSON: %v %.300s", err, b)
	}
	one := streamtest.Write(t, dir, "one.pot", streamtest.Header("s", "a", "v"), streamtest.Records(60, streamtest.Same))
	if s := between(t, one, one).Seeds; s != nil {
		t.Errorf("one sample a challenge has inference across seeds: %+v", s)
	}
}
