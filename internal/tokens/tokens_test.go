package tokens

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/local"
	"github.com/pot-audit/pot/internal/model/openai"
	"github.com/pot-audit/pot/internal/model/openai/openaitest"
	"github.com/pot-audit/pot/internal/score"
	"github.com/pot-audit/pot/internal/streamtest"
	"github.com/pot-audit/pot/internal/testmodels"
)

// side is one side's header and records, as a stream would give them.
type side struct {
	h    format.Header
	recs []format.Record
}

func (s side) evidence() *Evidence {
	e := NewEvidence(&s.h)
	for i := range s.recs {
		e.Add(&s.recs[i])
	}
	return e
}

var prompts = []string{"Once upon a time", "The little dog", "Lily and Ben went to the park. They", "One day, a big bird"}

// generate asks m for greedy top-5 answers to the prompts.
func generate(t *testing.T, m model.Model) side {
	t.Helper()
	s := side{h: format.Header{Kind: format.KindOutputs, Model: m.Info()}}
	for _, p := range prompts {
		var rec format.Record
		if err := m.Generate(context.Background(), model.Query{Prompt: p, Sampling: format.Sampling{MaxTokens: 24, Logprobs: 5}}, &rec); err != nil {
			t.Fatal(err)
		}
		s.recs = append(s.recs, rec)
	}
	s.h.Model = m.Info() // a server's fingerprint comes with its answers
	return s
}

func openModel(t *testing.T, spec string, o model.Options) model.Model {
	t.Helper()
	sp, err := model.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	var m model.Model
	if sp.Backend == "openai" {
		m, err = openai.Open(sp, o)
	} else {
		m, err = local.Open(sp, o)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func stories(t *testing.T) model.Model {
	dir := testmodels.Dir(t)
	return openModel(t, "llama2c:"+filepath.Join(dir, "stories260K.bin")+",tokenizer="+filepath.Join(dir, "tok512.bin"), model.Options{Threads: 1})
}

func aidreams(t *testing.T) model.Model {
	dir := testmodels.Dir(t)
	return openModel(t, "llama2c:"+filepath.Join(dir, "aidreams260K.bin")+",tokenizer="+filepath.Join(dir, "aidreams-tok512.bin"), model.Options{Threads: 1})
}

// recorded replays the answers llama-server gave (../shared/fixtures) through
// the openai backend, one answer per query, as a server would give them.
func recorded(t *testing.T) side {
	t.Helper()
	fix := filepath.Join(testmodels.Dir(t), "..", "fixtures")
	var answers [][]byte
	for _, pattern := range []string{"llama-server/v1-completions-*.response.json", "llama-server-quant/stories260K-ffn256-F32.*.response.json"} {
		names, _ := filepath.Glob(filepath.Join(fix, pattern))
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			answers = append(answers, b)
		}
	}
	if len(answers) < 8 {
		t.Skipf("recorded llama-server answers not found in %s", fix)
	}
	props, _ := os.ReadFile(filepath.Join(fix, "llama-server", "props.response.json"))
	var mu sync.Mutex
	next := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/props":
			w.Write(props)
		case r.Method == http.MethodPost:
			mu.Lock()
			a := answers[next%len(answers)]
			next++
			mu.Unlock()
			w.Write(a)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	m := openModel(t, "openai:"+srv.URL+"/v1", model.Options{Getenv: func(string) string { return "" }})
	s := side{h: format.Header{Kind: format.KindOutputs}}
	for range answers {
		var rec format.Record
		if err := m.Generate(context.Background(), model.Query{Prompt: "p", Sampling: format.Sampling{Logprobs: 5}}, &rec); err != nil {
			t.Fatal(err)
		}
		s.recs = append(s.recs, rec)
	}
	s.h.Model = m.Info()
	return s
}

// roundTrip writes a side as a stream and reads it back, so that the
// evidence is what a stream keeps, not what a backend held in memory.
func roundTrip(t *testing.T, s side) side {
	t.Helper()
	recs, hdrs, err := streamtest.Read(streamtest.Encode(t, s.h, s.recs))
	if err != nil || len(recs) != len(s.recs) {
		t.Fatalf("read %d records of %d: %v", len(recs), len(s.recs), err)
	}
	return side{h: hdrs[0], recs: recs}
}

// llama-server's answers and the local stories260K file number their tokens
// alike: every id seen on both sides has the same bytes.
func TestServerAgreesWithFile(t *testing.T) {
	srv, file := roundTrip(t, recorded(t)), roundTrip(t, generate(t, stories(t)))
	if srv.h.Model.Vocab != "" || file.h.Model.Vocab == "" {
		t.Fatalf("vocab digests %q and %q: want none for the server", srv.h.Model.Vocab, file.h.Model.Vocab)
	}
	for _, pair := range [][2]side{{file, srv}, {srv, file}} {
		d := Decide(pair[0].evidence(), pair[1].evidence())
		if !d.IDs || d.Basis != CheckedIDs || d.Differ != nil {
			t.Fatalf("decision %+v: want ids checked", d)
		}
		// Greedy answers to four prompts with top-5 share well over a
		// hundred ids with the server's 13 answers.
		if d.Checked < 100 {
			t.Errorf("only %d ids checked", d.Checked)
		}
		t.Logf("%s (%d without bytes on a side)", d, d.Unchecked)
	}
}

// aidreams has its own 512-token vocabulary: its ids mean other bytes than
// the server's, and the decision names one that differs.
func TestAidreamsDiffers(t *testing.T) {
	srv, dreams, st := recorded(t), roundTrip(t, generate(t, aidreams(t))), generate(t, stories(t))
	for _, tc := range []struct {
		name      string
		ref, cand side
	}{{"server", srv, dreams}, {"file", st, dreams}} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.ref.evidence(), tc.cand.evidence())
			if d.IDs || d.Differ == nil || d.Basis != ByBytes {
				t.Fatalf("decision %+v: want ids refused, naming an id, tokens by bytes", d)
			}
			id := d.Differ.ID
			ref, dr := tokenBytes(t, stories(t), id), tokenBytes(t, aidreams(t), id)
			if ref == dr || d.Differ.A != ref || d.Differ.B != dr {
				t.Errorf("named token %d as %q vs %q; the vocabularies have %q and %q", id, d.Differ.A, d.Differ.B, ref, dr)
			}
			if !strings.Contains(d.Why, "token ") || !strings.Contains(d.String(), "bytes") {
				t.Errorf("message %q", d)
			}
			t.Log(d)
		})
	}
}

// tokenBytes is the bytes a local model's vocabulary gives id.
func tokenBytes(t *testing.T, m model.Model, id int32) string {
	t.Helper()
	var rec format.Record
	m.Generate(context.Background(), model.Query{Prompt: "a", Sampling: format.Sampling{MaxTokens: 1}}, &rec)
	b, _ := rec.Pieces.Get(id)
	return b
}

func TestSameDigest(t *testing.T) {
	dir := testmodels.Dir(t)
	a := generate(t, stories(t))
	b := generate(t, openModel(t, "gguf:"+filepath.Join(dir, "stories260K.gguf"), model.Options{Threads: 1}))
	d := Decide(a.evidence(), b.evidence())
	if !d.IDs || d.Basis != SameDigest {
		t.Fatalf("llama2c and gguf of one model: %+v", d)
	}
	if d.String() != "same digest" {
		t.Errorf("String %q", d)
	}
}

// Two "servers" of one model, both without a digest, compare by ids.
func TestTwoServers(t *testing.T) {
	a, b := recorded(t), recorded(t)
	if d := Decide(a.evidence(), b.evidence()); !d.IDs || d.Basis != CheckedIDs {
		t.Fatalf("%+v", d)
	}
}

// The legacy completions shape gives token strings and no ids: ids do not
// compare, and the same model's tokens match by bytes position by position.
func TestLegacyByBytes(t *testing.T) {
	file := stories(t)
	srv := openaitest.NewServer(file, openaitest.Config{Legacy: true})
	defer srv.Close()
	legacy := roundTrip(t, generate(t, openModel(t, "openai:"+srv.URL+"/v1", model.Options{Getenv: func(string) string { return "" }})))
	ref := generate(t, file)
	d := Decide(ref.evidence(), legacy.evidence())
	if d.IDs || d.Basis != ByBytes {
		t.Fatalf("%+v: want tokens by bytes", d)
	}
	for r := range ref.recs {
		a, b := &ref.recs[r], &legacy.recs[r]
		if a.Positions() != b.Positions() || len(b.TokenBytes) == 0 {
			t.Fatalf("record %d: %d and %d positions", r, a.Positions(), b.Positions())
		}
		for i := range a.Positions() {
			ta, oka := d.Chosen(a, i)
			tb, okb := d.Chosen(b, i)
			if !oka || !okb || ta != tb || ta.ID != -1 {
				t.Fatalf("record %d position %d: %+v vs %+v", r, i, ta, tb)
			}
			// The alternatives match as a set: the legacy maps keep one of
			// two ids with the same bytes, and ties may come in either order.
			alts := map[Token]bool{}
			for j := range a.TopK {
				if tok, ok := d.Alt(a, i, j); ok {
					alts[tok] = true
				}
			}
			for j := range b.TopK {
				if tok, ok := d.Alt(b, i, j); ok && !alts[tok] {
					t.Errorf("record %d position %d: alternative %q not among the file's", r, i, tok.Bytes)
				}
			}
		}
	}
}

func TestDecideRules(t *testing.T) {
	table := func(kv ...any) *format.Pieces {
		p := format.NewPieces()
		for i := 0; i < len(kv); i += 2 {
			p.Add(int32(kv[i].(int)), kv[i+1].(string))
		}
		return p
	}
	rec := func(p *format.Pieces, ids ...int32) format.Record {
		return format.Record{Tokens: ids, Pieces: p}
	}
	hdr := func(vocab string, meta map[string]string) format.Header {
		return format.Header{Model: format.Model{Vocab: vocab, Meta: meta}}
	}
	ab := table(1, "a", 2, "b", 3, "c")
	tests := []struct {
		name      string
		ref, cand side
		ids       bool
		basis     Basis
		why       string
	}{
		{"checked", side{hdr("", nil), []format.Record{rec(ab, 1, 2)}}, side{hdr("", nil), []format.Record{rec(ab, 2, 3)}}, true, CheckedIDs, ""},
		{"differ", side{hdr("", nil), []format.Record{rec(ab, 1, 2)}}, side{hdr("", nil), []format.Record{rec(table(1, "a", 2, "x"), 1, 2)}}, false, ByBytes, `token 2 is "b" in the reference, "x" in the candidate`},
		{"differ under one digest", side{hdr("v", nil), []format.Record{rec(ab, 3)}}, side{hdr("v", nil), []format.Record{rec(table(3, "z"), 3)}}, false, ByBytes, "token 3"},
		{"sizes", side{hdr("", map[string]string{"vocab_size": "512"}), []format.Record{rec(ab, 1)}}, side{hdr("", map[string]string{"n_vocab": "32000"}), []format.Record{rec(ab, 1)}}, false, ByBytes, "vocabulary sizes 512 vs 32000"},
		{"no shared id", side{hdr("", nil), []format.Record{rec(ab, 1)}}, side{hdr("", nil), []format.Record{rec(ab, 2)}}, false, ByBytes, "no token id seen on both sides"},
		{"no bytes", side{hdr("", nil), []format.Record{rec(nil, 1)}}, side{hdr("", nil), []format.Record{rec(nil, 1)}}, false, Nothing, "no token id seen on both sides"},
		{"digests differ", side{hdr("sha256:aaaa", nil), []format.Record{rec(ab, 1)}}, side{hdr("sha256:bbbb", nil), []format.Record{rec(ab, 1)}}, false, ByBytes, "vocabulary sha256:aaaa vs sha256:bbbb"},
		{"same digest, no bytes", side{hdr("v", nil), []format.Record{rec(nil, 1)}}, side{hdr("v", nil), []format.Record{rec(nil, 9)}}, true, SameDigest, ""},
		{"one side without ids", side{hdr("", nil), []format.Record{rec(ab, 1)}}, side{hdr("", nil), []format.Record{{Logprobs: []float32{-1}, TokenBytes: []string{"a"}}}}, false, ByBytes, "a side gives no token ids"},
		{"text only", side{hdr("", nil), []format.Record{{Text: "a"}}}, side{hdr("", nil), []format.Record{{Text: "b"}}}, false, Nothing, "neither side gives token ids"},
		{"conflict within a side", side{hdr("", nil), []format.Record{rec(ab, 1), rec(table(1, "q"), 1)}}, side{hdr("", nil), []format.Record{rec(ab, 1)}}, false, ByBytes, `token 1 is "a" and "q" within the reference`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.ref.evidence(), tc.cand.evidence())
			if d.IDs != tc.ids || d.Basis != tc.basis || !strings.Contains(d.Why, tc.why) {
				t.Errorf("got %+v (%s), want ids %v basis %q why %q", d, d, tc.ids, tc.basis, tc.why)
			}
			if !tc.ids && tc.why == "" || tc.ids && d.Why != "" {
				t.Errorf("why %q", d.Why)
			}
		})
	}
}

// Segments of one side that state other vocabularies leave no digest to go
// by: ids are then checked by bytes.
func TestMixedHeaders(t *testing.T) {
	p := format.NewPieces()
	p.Add(1, "a")
	e := NewEvidence(&format.Header{Model: format.Model{Vocab: "v"}})
	h2 := format.Header{Model: format.Model{Vocab: "w"}}
	e.AddHeader(&h2)
	e.Add(&format.Record{Tokens: []int32{1}, Pieces: p})
	f := NewEvidence(&format.Header{Model: format.Model{Vocab: "v"}})
	f.Add(&format.Record{Tokens: []int32{1}, Pieces: p})
	if d := Decide(e, f); d.Basis != CheckedIDs || !d.IDs {
		t.Errorf("%+v", d)
	}
}

func TestAlternatives(t *testing.T) {
	inf := float32(math.Inf(-1))
	byBytes := Decision{Basis: ByBytes}
	rec := format.Record{Logprobs: []float32{-1}, TokenBytes: []string{"a"}, TopK: 4,
		TopLogprobs: []float32{-3, -1, -2, inf}, TopBytes: []string{"b", "a", "a", ""}}
	got := byBytes.Alternatives(&rec, 0)
	want := []Weighted{{Token{-1, "a"}, math.Log(math.Exp(-1) + math.Exp(-2))}, {Token{-1, "b"}, -3}}
	if len(got) != 2 || got[0].Token != want[0].Token || math.Abs(got[0].Logprob-want[0].Logprob) > 1e-12 || got[1] != want[1] {
		t.Fatalf("got %v, want %v", got, want)
	}
	// By ids, the same bytes under two ids stay two tokens.
	p := format.NewPieces()
	p.Add(7, "a")
	p.Add(9, "a")
	ids := format.Record{Tokens: []int32{7}, Logprobs: []float32{-1}, TopK: 3, TopTokens: []int32{7, 9, -1}, TopLogprobs: []float32{-1, -2, inf}, Pieces: p}
	if got := (Decision{IDs: true, Basis: SameDigest}).Alternatives(&ids, 0); len(got) != 2 || got[0].Token.ID != 7 || got[1].Token.ID != 9 {
		t.Errorf("by ids: %v", got)
	}
	if got := byBytes.Alternatives(&ids, 0); len(got) != 1 || got[0].Token.Bytes != "a" {
		t.Errorf("by bytes: %v", got)
	}
	if got := byBytes.Alternatives(&ids, 5); len(got) != 0 {
		t.Errorf("past the positions: %v", got)
	}
}

// The recorded answers of llama-server on stories260K-ffn256, as F32 and as
// Q4_0, against the engine on the F32 file: ids check out on both, so the
// id scores apply, and tv tells the quantized file from the same file.
func TestQuantizedServer(t *testing.T) {
	models := testmodels.Dir(t)
	fix := filepath.Join(models, "..", "fixtures", "llama-server-quant")
	file := openModel(t, "gguf:"+filepath.Join(models, "quant", "stories260K-ffn256.gguf"), model.Options{Threads: 1})
	ref := generate(t, file)
	for _, tc := range []struct {
		quant    string
		min, max float64
	}{{"F32", 0, 1e-5}, {"Q4_0", 0.05, 1}} {
		t.Run(tc.quant, func(t *testing.T) {
			name := "stories260K-ffn256-" + tc.quant
			rp, err := openaitest.Replay(fix, name)
			if err != nil {
				t.Skipf("recorded answers: %v", err)
			}
			srv := httptest.NewServer(rp)
			defer srv.Close()
			cand := roundTrip(t, generate(t, openModel(t, "openai:"+srv.URL+"/v1", model.Options{Getenv: func(string) string { return "" }})))
			d := Decide(ref.evidence(), cand.evidence())
			if !d.IDs || d.Basis != CheckedIDs {
				t.Fatalf("%s: %+v", name, d)
			}
			sum := 0.0
			for i := range ref.recs {
				tv, err := score.TV(&ref.recs[i], &cand.recs[i])
				if err != nil {
					t.Fatal(err)
				}
				sum += tv
			}
			mean := sum / float64(len(ref.recs))
			if mean < tc.min || mean > tc.max {
				t.Errorf("%s: mean tv %.6f, want in [%g, %g]", name, mean, tc.min, tc.max)
			}
			t.Logf("%s: %s, mean tv %.6f over %d prompts", name, d, mean, len(ref.recs))
		})
	}
}
