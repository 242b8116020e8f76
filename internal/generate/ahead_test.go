package generate

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/challenge"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/streamtest"
)

// timed is a model whose every query takes the same time (none at all
// for an instant model) and which counts the queries it was asked.
type timed struct {
	delay time.Duration
	asked atomic.Int64
}

func (m *timed) Info() format.Model {
	return format.Model{Backend: "test", Name: fmt.Sprintf("timed %v", m.delay)}
}
func (m *timed) Close() error { return nil }

func (m *timed) Generate(ctx context.Context, q model.Query, rec *format.Record) error {
	m.asked.Add(1)
	if m.delay > 0 {
		select {
		case <-time.After(m.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	rec.Tokens = []int32{1, 2, 3}
	rec.Logprobs = []float32{-0.5, -0.25, -1}
	rec.Text = q.Prompt[:min(len(q.Prompt), 12)]
	rec.Finish = "length"
	return nil
}

// busy keeps every core spinning until the returned stop is called, so
// that the property is tested on a loaded machine.
func busy(t *testing.T) (stop func()) {
	var quit atomic.Bool
	var wg sync.WaitGroup
	for range 2 * runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := uint64(1)
			for !quit.Load() {
				for range 1000 {
					x = x*6364136223846793005 + 1442695040888963407
				}
			}
			_ = x
		}()
	}
	return func() { quit.Store(true); wg.Wait() }
}

// TestLead checks the early-stop bound: a run writing into a pipe makes at
// most Lead(jobs) queries beyond the records its reader took from the
// pipe, however fast the model and the reader are and however loaded the
// machine. The reader takes n records, then closes the pipe as potcmp does
// when it has decided; everything it read is kept, so the records it took
// are counted exactly afterwards. Nothing here depends on timing: the
// bound holds at every scheduling.
func TestLead(t *testing.T) {
	key, err := challenge.ParseKey(bytes.Repeat([]byte("7"), 64))
	if err != nil {
		t.Fatal(err)
	}
	fam, err := challenge.Templates("templates")
	if err != nil {
		t.Fatal(err)
	}
	set, err := challenge.NewSet(key, "", fam, 2000)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		delay  time.Duration // per query
		pause  time.Duration // the reader's, per record
		jobs   int
		n      int // records the reader takes
		loaded bool
	}{
		{"instant/j1", 0, 0, 1, 60, false},
		{"instant/j8", 0, 0, 8, 60, false},
		{"instant/slow-reader/j4", 0, time.Millisecond, 4, 30, false},
		{"fixed/j1", 2 * time.Millisecond, 0, 1, 20, false},
		{"fixed/j8", 2 * time.Millisecond, 0, 8, 40, false},
		{"loaded/instant/j1", 0, 0, 1, 60, true},
		{"loaded/instant/j8", 0, 0, 8, 60, true},
		{"loaded/fixed/j8", time.Millisecond, 0, 8, 40, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.loaded {
				defer busy(t)()
			}
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pw.Close()
			m := &timed{delay: tc.delay}
			sampling := format.Sampling{MaxTokens: 3, Samples: 1}
			h := format.Header{Kind: format.KindOutputs, Challenges: set.Header(), Sampling: sampling, Tool: "lead test"}
			out := bufio.NewWriterSize(pw, 64<<10)
			cfg := Config{Model: m, Sampling: sampling, Jobs: tc.jobs, Progress: io.Discard, Pipe: pw}

			taken := takeFrom(t, pr, tc.n, tc.pause)
			st, err := Run(context.Background(), cfg, FromSet(set), flusher{out}, h)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if !st.BrokenPipe {
				t.Errorf("the run did not see its reader go: %+v", st)
			}
			recs := taken()
			asked := int(m.asked.Load())
			t.Logf("reader used %d, took %d from the pipe; %d queries (lead %d)", tc.n, len(recs), asked, Lead(tc.jobs))
			if asked > len(recs)+Lead(tc.jobs) {
				t.Errorf("%d queries for %d records taken: more than the lead of %d", asked, len(recs), Lead(tc.jobs))
			}
		})
	}
}

// takeFrom reads n records from the pipe pr, pausing after each, then
// closes it as potcmp does when it has decided. The function it returns
// waits for the reader and returns the records it took from the pipe:
// those it read and those it pulled in with them, since everything it
// read is kept.
func takeFrom(t *testing.T, pr *os.File, n int, pause time.Duration) (taken func() []format.Record) {
	var raw bytes.Buffer
	read := make(chan error, 1)
	go func() {
		defer pr.Close() // the verdict: the reader goes away
		rd, err := format.NewReader(io.TeeReader(pr, &raw))
		if err != nil {
			read <- err
			return
		}
		defer rd.Close()
		for range n {
			if _, err := rd.Read(); err != nil {
				read <- err
				return
			}
			time.Sleep(pause)
		}
		read <- nil
	}()
	return func() []format.Record {
		t.Helper()
		if err := <-read; err != nil {
			t.Fatalf("reader: %v", err)
		}
		recs, _, _ := streamtest.Read(raw.Bytes()) // cut where the reader stopped
		if len(recs) < n {
			t.Fatalf("the reader took %d records, fewer than the %d it read", len(recs), n)
		}
		return recs
	}
}

// flusher is a bufio.Writer as an Output.
type flusher struct{ *bufio.Writer }

// TestLeadNotAPipe checks that a run into a file or a buffer is not
// paced: there is no reader to wait for.
func TestLeadNotAPipe(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if p := newPacer(f, 4); p != nil {
		t.Fatalf("a regular file got a pacer")
	}
	if p := newPacer(nil, 4); p != nil {
		t.Fatalf("no file got a pacer")
	}
}
