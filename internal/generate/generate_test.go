package generate

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/challenge"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/streamtest"
)

// buffer is an Output in memory.
type buffer struct{ bytes.Buffer }

func (*buffer) Flush() error { return nil }

// generateSet runs the real synth model over n challenges and returns the
// records written.
func generateSet(t *testing.T, n, jobs int, done map[compare.Key]bool) []format.Record {
	t.Helper()
	key, err := challenge.ParseKey([]byte(strings.Repeat("42", 32)))
	if err != nil {
		t.Fatal(err)
	}
	fam, err := challenge.Templates("templates")
	if err != nil {
		t.Fatal(err)
	}
	set, err := challenge.NewSet(key, "", fam, n)
	if err != nil {
		t.Fatal(err)
	}
	m := openSynth(t, jobs)
	sampling := format.Sampling{MaxTokens: 8, Logprobs: 2, Samples: 2, Temperature: 1}
	h := format.Header{Kind: format.KindOutputs, Challenges: set.Header(), Sampling: sampling, Tool: "generate test"}
	var out buffer
	cfg := Config{Model: m, Sampling: sampling, Jobs: jobs, Total: n, Done: done, Progress: io.Discard}
	st, err := Run(context.Background(), cfg, FromSet(set), &out, h)
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := streamtest.Read(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if st.Written != len(recs) || st.Failed != 0 {
		t.Fatalf("stats %+v for %d records", st, len(recs))
	}
	return recs
}

// Records come out in (challenge, sample) order whatever order concurrent
// queries finish in, the same as one query at a time; what the output
// already holds is not asked again.
func TestOrderedDispatch(t *testing.T) {
	const n = 12
	one := generateSet(t, n, 1, nil)
	many := generateSet(t, n, 4, nil)
	strip := func(recs []format.Record) []format.Record {
		out := slices.Clone(recs)
		for i := range out {
			out[i].Latency = 0
		}
		return out
	}
	if len(one) != 2*n || !slices.EqualFunc(strip(one), strip(many), func(a, b format.Record) bool {
		return streamtest.Canonical([]format.Record{a})[0] == streamtest.Canonical([]format.Record{b})[0]
	}) {
		t.Fatalf("-j 4 wrote other records than -j 1 (%d and %d)", len(many), len(one))
	}
	for i := range many {
		if many[i].Index != uint64(i/2) || many[i].Sample != uint32(i%2) {
			t.Fatalf("record %d is challenge %d sample %d: out of order", i, many[i].Index, many[i].Sample)
		}
	}
	done := map[compare.Key]bool{}
	for _, r := range one[:10] {
		done[compare.KeyOf(&r)] = true
	}
	rest := generateSet(t, n, 3, done)
	if len(rest) != 2*n-10 || rest[0].Index != one[10].Index || rest[0].Sample != one[10].Sample {
		t.Errorf("with 10 done: %d records from challenge %d sample %d", len(rest), rest[0].Index, rest[0].Sample)
	}
}
