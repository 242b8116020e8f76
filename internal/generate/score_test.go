package generate

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/local"
	"github.com/pot-audit/pot/internal/signkey"
	"github.com/pot-audit/pot/internal/streamtest"
)

// openSynth opens the real synthetic model synth:1, which scores.
func openSynth(t *testing.T, jobs int) interface {
	model.Model
	model.Scorer
} {
	t.Helper()
	sp, err := model.ParseSpec("synth:1")
	if err != nil {
		t.Fatal(err)
	}
	m, err := local.Open(sp, model.Options{Threads: 1, Jobs: jobs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m.(interface {
		model.Model
		model.Scorer
	})
}

// jittery scores with the model after a pause that varies from output to
// output, so that concurrent scorers finish out of order.
type jittery struct {
	model.Scorer
	calls atomic.Int64
}

func (j *jittery) Score(ctx context.Context, q model.ScoreQuery) (model.Scored, error) {
	j.calls.Add(1)
	h := fnv.New32a()
	h.Write([]byte(q.Prompt + q.Text))
	time.Sleep(time.Duration(h.Sum32()%3000) * time.Microsecond)
	return j.Scorer.Score(ctx, q)
}

// scoreAll runs Score over data into memory and returns what it wrote.
func scoreAll(t *testing.T, cfg ScoreConfig, data []byte) ([]format.Record, []format.Header, ScoreStats, []byte) {
	t.Helper()
	rd, err := format.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out buffer
	st, err := Score(context.Background(), cfg, rd, "in.pot", &out)
	if err != nil {
		t.Fatalf("score: %v", err)
	}
	recs, hs, err := streamtest.Read(out.Bytes())
	if err != nil {
		t.Fatalf("reading the output: %v", err)
	}
	return recs, hs, st, out.Bytes()
}

// Several outputs scored at once come out in the input's order and equal
// to those scored one at a time; scored by their own tokens, a model's own
// outputs get back the log-probabilities it generated them with.
func TestScoreJobs(t *testing.T) {
	sampling := format.Sampling{MaxTokens: 6, Logprobs: 2, Samples: 2, Temperature: 1, Seed: 5}
	data := streamtest.Model(t, "synth:1", 15, sampling)
	in, _, err := streamtest.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	m := openSynth(t, 4)
	var first []format.Record
	for _, jobs := range []int{1, 4} {
		sc := &jittery{Scorer: m}
		cfg := ScoreConfig{Scorer: sc, Model: m.Info(), By: ByTokens, Jobs: jobs}
		recs, hs, st, _ := scoreAll(t, cfg, data)
		if len(recs) != len(in) || st.Read != len(in) || st.Unscorable != 0 || int(sc.calls.Load()) != len(in) {
			t.Fatalf("-j %d: %d records out of %d, stats %+v, %d scored", jobs, len(recs), len(in), st, sc.calls.Load())
		}
		if len(hs) != 1 || hs[0].Labels[compare.LabelLoglikBy] != ByTokens || !strings.HasPrefix(hs[0].Labels[compare.LabelLoglikModel], "synth:1@") {
			t.Fatalf("-j %d: headers %+v", jobs, hs)
		}
		for i, rec := range recs {
			if rec.Index != in[i].Index || rec.Sample != in[i].Sample {
				t.Fatalf("-j %d: record %d is challenge %d sample %d, the input's is %d/%d: out of order", jobs, i, rec.Index, rec.Sample, in[i].Index, in[i].Sample)
			}
			if !rec.Scored {
				t.Fatalf("-j %d: record %d unscored", jobs, i)
			}
			if rec.Finish != "stop" {
				var sum float64
				for _, lp := range in[i].Logprobs {
					sum += float64(lp)
				}
				if math.Abs(rec.Loglik-sum) > 1e-4 {
					t.Errorf("-j %d: record %d: teacher-forced %v, generated with %v", jobs, i, rec.Loglik, sum)
				}
			}
		}
		if first == nil {
			first = recs
			continue
		}
		a, b := streamtest.Canonical(first), streamtest.Canonical(recs)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("-j %d: record %d differs from -j 1's:\n%s\n%s", jobs, i, b[i], a[i])
			}
		}
	}
}

// Segments stay segments, each under its own header labelled; a signed
// output verifies under the key, every segment of it; failed records and
// outputs the model cannot score pass through unscored, the latter counted.
func TestScoreSegmentsSignedFailures(t *testing.T) {
	h := streamtest.Header("s", "other", "v")
	recs := streamtest.Records(6, streamtest.Same)
	for i := range recs {
		recs[i].Prompt = fmt.Sprintf("Once upon a time %d", i)
	}
	recs[1] = format.Record{Index: recs[1].Index, ID: recs[1].ID, Err: "timeout", Finish: "error"}
	recs[4].Tokens = slices.Clone(recs[4].Tokens)
	recs[4].Tokens[0] = 1 << 20 // outside the scorer's vocabulary
	data := append(streamtest.Encode(t, h, recs[:3]), streamtest.Encode(t, h, recs[3:])...)

	keyPath := streamtest.SignKey(t, t.TempDir(), "k.sign")
	k, err := signkey.Load(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	m := openSynth(t, 2)
	cfg := ScoreConfig{Scorer: m, Model: m.Info(), By: ByTokens, Jobs: 2, WriterOptions: []format.WriterOption{format.SignWith(k)}}
	got, hs, st, raw := scoreAll(t, cfg, data)
	if st.Read != 6 || st.Unscorable != 1 || st.First == nil || !strings.Contains(st.First.Error(), "challenge "+recs[4].ID) {
		t.Errorf("stats %+v", st)
	}
	vs, err := format.Verify(bytes.NewReader(raw), []ed25519.PublicKey{k.PublicKey()})
	if err != nil || vs.Segments != 2 || vs.Signed != 2 {
		t.Fatalf("verify: %+v, %v", vs, err)
	}
	if len(got) != 6 || len(hs) != 2 {
		t.Fatalf("%d records in %d segments", len(got), len(hs))
	}
	for i, g := range got {
		want := i != 1 && i != 4
		if g.Scored != want {
			t.Errorf("record %d scored %v, want %v (error %q)", i, g.Scored, want, g.Err)
		}
	}
	for i, h := range hs {
		if h.Labels[compare.LabelLoglikBy] != ByTokens {
			t.Errorf("segment %d: labels %v", i, h.Labels)
		}
	}
}

// Bad input is one error naming the stream and the place; what was
// written before it is the caller's to discard.
func TestScoreBadInput(t *testing.T) {
	h := streamtest.Header("s", "other", "v")
	recs := streamtest.Records(8, streamtest.Same)
	for i := range recs {
		if i != 5 {
			recs[i].Prompt = "Once"
		}
	}
	noPrompt := streamtest.Encode(t, h, recs)
	good := streamtest.Encode(t, h, recs[:4])
	m := openSynth(t, 3)
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"no prompt", noPrompt, "in.pot: record 5 (challenge " + recs[5].ID},
		{"truncated", good[:len(good)-9], "in.pot: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			rd, err := format.NewReader(bytes.NewReader(c.data))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Score(context.Background(), ScoreConfig{Scorer: m, Model: m.Info(), By: ByText, Jobs: 3}, rd, "in.pot", &buffer{})
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one line with %q", err, c.want)
			}
		})
	}
}

// ScoreBy takes tokens only where the vocabularies are one, or, asked
// for, on a stream that names none, checked.
func TestScoreBy(t *testing.T) {
	mine := format.Model{Name: "synth:1", Vocab: "sha256:a"}
	same := format.Header{Model: format.Model{Vocab: "sha256:a"}}
	other := format.Header{Model: format.Model{Vocab: "sha256:b"}}
	for _, c := range []struct {
		by      string
		h       *format.Header
		want    string // "" for an error
		checked bool
	}{
		{"auto", &same, ByTokens, false}, {"auto", &other, ByText, false}, {"auto", &format.Header{}, ByText, false},
		{"tokens", &same, ByTokens, false}, {"tokens", &other, "", false}, {"tokens", &format.Header{}, ByTokens, true},
		{"text", &same, ByText, false}, {"ids", &same, "", false},
	} {
		got, checked, err := ScoreBy(c.by, "in.pot", c.h, mine)
		if got != c.want || checked != c.checked || (err == nil) != (c.want != "") {
			t.Errorf("ScoreBy(%q, vocab %q) = %q, %v, %v; want %q, %v", c.by, c.h.Model.Vocab, got, checked, err, c.want, c.checked)
		}
	}
}

// A stream that names no vocabulary, scored by tokens, has every id
// checked against the model's pieces: the model's own bytes pass, another
// byte string or none stops the run with a bad-input error naming the
// record.
func TestScoreChecksPieces(t *testing.T) {
	m := openSynth(t, 1)
	vocab := m.(model.Vocabulary).Pieces()
	ids := vocab.IDs()
	id := ids[len(ids)/2]
	own, _ := vocab.Get(id)
	for _, c := range []struct {
		name, bytes string
		known       bool
		want        string // "" for success
	}{
		{"the model's bytes", own, true, ""},
		{"other bytes", own + "x", true, "in the model's vocabulary"},
		{"no bytes", "", false, "has no bytes in the stream"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := format.NewPieces()
			if c.known {
				p.Add(id, c.bytes)
			}
			// Token 1 (BOS) has no bytes in the model: no evidence either way.
			rec := format.Record{ID: "c0", Prompt: "Once", Tokens: []int32{1, id}, Logprobs: []float32{-1, -1}, Pieces: p, Finish: "length"}
			data := streamtest.Encode(t, streamtest.Header("s", "server", ""), []format.Record{rec})
			rd, err := format.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Score(context.Background(), ScoreConfig{Scorer: m, Model: m.Info(), By: ByTokens, Check: vocab, Jobs: 1}, rd, "in.pot", &buffer{})
			var st *cli.StatusError
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("%v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "in.pot: record 0") || !strings.Contains(err.Error(), "position 1:") || !errors.As(err, &st) || st.Code != cli.ExitUsage):
				t.Fatalf("error %v, want exit 2 naming in.pot record 0 with %q", err, c.want)
			}
		})
	}
}

// counting scores instantly, or after a fixed pause, and counts.
type counting struct {
	delay time.Duration
	calls atomic.Int64
}

func (c *counting) Score(ctx context.Context, q model.ScoreQuery) (model.Scored, error) {
	c.calls.Add(1)
	time.Sleep(c.delay)
	return model.Scored{Sum: -1}, nil
}

// TestScoreLead checks potgen score's early-stop bound, as TestLead checks
// potgen's: scoring into a pipe, at most Lead(jobs) outputs are scored
// beyond the records the reader took from the pipe, however fast the
// scorer and however loaded the machine; and the run ends quietly when its
// reader goes. Nothing depends on timing: the bound holds at every
// scheduling.
func TestScoreLead(t *testing.T) {
	h := streamtest.Header("s", "other", "v")
	recs := streamtest.Records(3000, streamtest.Same)
	for i := range recs {
		recs[i].Prompt = "Once"
	}
	data := streamtest.Encode(t, h, recs)
	for _, tc := range []struct {
		name   string
		delay  time.Duration
		jobs   int
		n      int
		loaded bool
	}{
		{"instant/j1", 0, 1, 60, false},
		{"instant/j8", 0, 8, 60, false},
		{"fixed/j4", time.Millisecond, 4, 30, false},
		{"loaded/instant/j1", 0, 1, 60, true},
		{"loaded/instant/j8", 0, 8, 60, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.loaded {
				defer busy(t)()
			}
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pw.Close()
			taken := takeFrom(t, pr, tc.n, 0)
			sc := &counting{delay: tc.delay}
			rd, err := format.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			cfg := ScoreConfig{Scorer: sc, Model: format.Model{Name: "counting"}, By: ByText, Jobs: tc.jobs, Pipe: pw}
			st, err := Score(context.Background(), cfg, rd, "in.pot", flusher{bufio.NewWriterSize(pw, 64<<10)})
			if err != nil {
				t.Fatalf("score: %v", err)
			}
			if !st.BrokenPipe {
				t.Errorf("the run did not see its reader go: %+v", st)
			}
			got := taken()
			scored := int(sc.calls.Load())
			t.Logf("reader used %d, took %d; %d scored (lead %d)", tc.n, len(got), scored, Lead(tc.jobs))
			if scored > len(got)+Lead(tc.jobs) {
				t.Errorf("%d scored for %d records taken: more than the lead of %d", scored, len(got), Lead(tc.jobs))
			}
		})
	}
}

// A cancelled run is an error, not a stream that looks complete.
func TestScoreCancelled(t *testing.T) {
	h := streamtest.Header("s", "other", "v")
	recs := streamtest.Records(200, streamtest.Same)
	for i := range recs {
		recs[i].Prompt = "Once"
	}
	rd, err := format.NewReader(bytes.NewReader(streamtest.Encode(t, h, recs)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sc := &cancelAfter{n: 20, cancel: cancel}
	_, err = Score(ctx, ScoreConfig{Scorer: sc, By: ByText, Jobs: 2}, rd, "in.pot", &buffer{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want the cancellation", err)
	}
}

// cancelAfter cancels its run at its n-th output.
type cancelAfter struct {
	n      int64
	calls  atomic.Int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Score(ctx context.Context, q model.ScoreQuery) (model.Scored, error) {
	if c.calls.Add(1) == c.n {
		c.cancel()
	}
	return model.Scored{Sum: -1}, ctx.Err()
}

// Alternatives score the tokens the trusted model scored, each output in
// the header's order of labels; a stream scored again names its own
// alternatives only; an alternative of another vocabulary is refused.
func TestScoreAlts(t *testing.T) {
	sampling := format.Sampling{MaxTokens: 6, Samples: 1, Temperature: 1, Seed: 5}
	data := streamtest.Model(t, "synth:1", 6, sampling)
	m := openSynth(t, 1)
	// The model itself as its own alternative: every ratio is exactly 1.
	cfg := ScoreConfig{Scorer: m, Model: m.Info(), By: ByText, Jobs: 2, Alts: []Alt{{m, m.Info()}, {m, m.Info()}}}
	recs, hs, _, out := scoreAll(t, cfg, data)
	for i, rec := range recs {
		if len(rec.AltLogliks) != 2 || rec.AltLogliks[0] != rec.Loglik || rec.AltLogliks[1] != rec.Loglik {
			t.Errorf("record %d: loglik %v, alternatives %v", i, rec.Loglik, rec.AltLogliks)
		}
	}
	if got := compare.AltNames(&hs[0]); len(got) != 2 || got[0] != hs[0].Labels[compare.LabelLoglikModel] {
		t.Errorf("alternatives named %q, trusted %q", got, hs[0].Labels[compare.LabelLoglikModel])
	}
	cfg.Alts = cfg.Alts[:1]
	_, hs, _, _ = scoreAll(t, cfg, out)
	if got := compare.AltNames(&hs[0]); len(got) != 1 {
		t.Errorf("scored again with one alternative: named %q", got)
	}
	for _, vocab := range []string{"", "sha256:other"} {
		if err := CheckAlt("x", format.Model{Vocab: vocab}, m.Info()); err == nil || !strings.Contains(err.Error(), "vocabulary is not the trusted model's") {
			t.Errorf("vocabulary %q: %v", vocab, err)
		}
	}
	if err := CheckAlt("synth:1", m.Info(), m.Info()); err != nil {
		t.Errorf("the same vocabulary: %v", err)
	}
}
