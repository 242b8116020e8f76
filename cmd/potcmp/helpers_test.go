package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/challenge"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/local"
	"github.com/pot-audit/pot/internal/streamtest"
	"github.com/pot-audit/pot/internal/testmodels"
)

// potcmp runs the tool in process and returns its exit status and output.
func potcmp(t testing.TB, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errb bytes.Buffer
	code = run(append([]string{"potcmp"}, args...), stdin, &out, &errb)
	return code, out.String(), errb.String()
}

// encode writes a stream.
func encode(t testing.TB, h format.Header, recs []format.Record) []byte {
	return streamtest.Encode(t, h, recs)
}

// modelRun is what a model stream is made with.
type modelRun struct {
	spec      string
	n         int // challenges
	sampling  format.Sampling
	runID     string
	firstSkip int // challenges to leave out at the start
}

// testKey is a fixed audit key: the tests need reproducible challenges,
// not secret ones.
func testKey(t testing.TB) challenge.Key {
	k, err := challenge.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{0x5a}, challenge.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// modelStream asks a local model for its outputs on a template challenge
// set, as potgen would, and writes them to dir/name.
func modelStream(t testing.TB, dir, name string, mr modelRun) string {
	t.Helper()
	set := challengeSet(t, mr)
	sp, err := model.ParseSpec(mr.spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := local.Open(sp, model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := mr.sampling
	s.Samples = max(s.Samples, 1)
	h := format.Header{Kind: format.KindOutputs, Challenges: set.Header(), Model: m.Info(), Sampling: s, Tool: "potcmp-test"}
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := format.NewWriter(f, h)
	if err != nil {
		t.Fatal(err)
	}
	for i := mr.firstSkip; i < mr.n; i++ {
		c := set.Challenge(i)
		for k := range s.Samples {
			rec := format.Record{Index: uint64(i), ID: c.ID, Sample: uint32(k), Seed: c.SampleSeed(k, s.Seed), Prompt: c.Prompt}
			q := model.Query{Prompt: c.Prompt, Seed: rec.Seed, Sampling: s}
			if err := m.Generate(context.Background(), q, &rec); err != nil {
				rec.Err = err.Error()
			}
			// A model may stop inside a multi-byte character, and a
			// reader refuses invalid UTF-8 that the writer lets through.
			rec.Text = strings.ToValidUTF8(rec.Text, "\uFFFD")
			if err := w.Write(&rec); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func challengeSet(t testing.TB, mr modelRun) *challenge.Set {
	t.Helper()
	fam, err := challenge.Templates("templates/v1")
	if err != nil {
		t.Fatal(err)
	}
	set, err := challenge.NewSet(testKey(t), mr.runID, fam, mr.n)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// greedy is the sampling of the model tests: small and deterministic.
func greedy() format.Sampling { return format.Sampling{MaxTokens: 32, Logprobs: 5} }

// modelsDir finds the shared test models, or skips.
func modelsDir(t testing.TB) string { return testmodels.Dir(t) }
