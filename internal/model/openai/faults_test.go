package openai

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/openai/openaitest"
)

// faulty wraps a server and fails about a fifth of generation requests in
// one of five ways, at most three times in a row for a prompt so that five
// retries always suffice. It counts what it did per prompt.
type faulty struct {
	next  http.Handler
	slow  time.Duration
	mu    sync.Mutex
	rng   *rand.Rand
	run   map[string]int // consecutive faults per prompt
	ok    map[string]int // good answers per prompt
	seen  int            // generation requests
	kinds map[string]int // faults by kind
}

var faultKinds = []string{"500", "429", "drop", "slow", "malformed"}

func newFaulty(next http.Handler, slow time.Duration) *faulty {
	return &faulty{next: next, slow: slow, rng: rand.New(rand.NewPCG(1, 2)),
		run: map[string]int{}, ok: map[string]int{}, kinds: map[string]int{}}
}

func (f *faulty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		f.next.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	prompt := string(body) // unique per query, which is all that matters
	f.mu.Lock()
	f.seen++
	kind := ""
	if f.run[prompt] < 3 && f.rng.Float64() < 0.2 {
		kind = faultKinds[f.rng.IntN(len(faultKinds))]
		f.run[prompt]++
		f.kinds[kind]++
	} else {
		f.run[prompt] = 0
	}
	f.mu.Unlock()
	switch kind {
	case "500":
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"error":{"code":500,"message":"injected"}}`)
	case "429":
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	case "drop":
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	case "slow":
		select {
		case <-r.Context().Done():
		case <-time.After(f.slow):
		}
	case "malformed":
		io.WriteString(w, `{"choices":[{"text":"cut sho`)
	default:
		rw := &statusWriter{ResponseWriter: w, code: 200}
		f.next.ServeHTTP(rw, r)
		if rw.code == 200 {
			f.mu.Lock()
			f.ok[prompt]++
			f.mu.Unlock()
		}
	}
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) { s.code = code; s.ResponseWriter.WriteHeader(code) }

func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds of injected faults")
	}
	f := newFaulty(openaitest.New(fakeModel{}, openaitest.Config{}), 10*time.Second)
	srv := httptest.NewServer(f)
	defer srv.Close()
	var mu sync.Mutex
	var logs []string
	o := options()
	o.Jobs = 4
	o.Timeout = 300 * time.Millisecond
	o.Logf = func(format string, a ...any) { mu.Lock(); logs = append(logs, fmt.Sprintf(format, a...)); mu.Unlock() }
	c := openSpec(t, "openai:"+srv.URL+"/v1", o)
	c.policy.Base = 20 * time.Millisecond

	const n = 100
	recs := make([]format.Record, n)
	errs := make([]error, n)
	qs := make(chan int)
	var wg sync.WaitGroup
	for range o.Jobs {
		wg.Go(func() {
			for i := range qs {
				q := model.Query{Prompt: fmt.Sprintf("prompt %d", i), Seed: uint64(i), Sampling: format.Sampling{Temperature: 1, MaxTokens: 8, Logprobs: 2}}
				errs[i] = c.Generate(context.Background(), q, &recs[i])
			}
		})
	}
	for i := range n {
		qs <- i
	}
	close(qs)
	wg.Wait()

	retried, attempts := 0, 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("query %d: %v", i, errs[i])
			continue
		}
		var want format.Record
		q := model.Query{Prompt: fmt.Sprintf("prompt %d", i), Seed: uint64(i), Sampling: format.Sampling{Temperature: 1, MaxTokens: 8, Logprobs: 2}}
		fakeModel{}.Generate(context.Background(), q, &want)
		want.Attempts = recs[i].Attempts
		if !sameRecord(&recs[i], &want) {
			t.Errorf("query %d: record is not its own answer", i)
		}
		attempts += recs[i].Attempts
		if recs[i].Attempts > 1 {
			retried++
		}
	}
	faults := 0
	for _, k := range faultKinds {
		faults += f.kinds[k]
		if f.kinds[k] == 0 {
			t.Errorf("no %s fault injected", k)
		}
	}
	for p, ok := range f.ok {
		if ok != 1 {
			t.Errorf("%.40s answered %d times", p, ok)
		}
	}
	if len(f.ok) != n || retried == 0 || attempts != f.seen || attempts != n+faults || len(logs) != faults {
		t.Errorf("%d prompts answered, %d retried, %d attempts, server saw %d requests, %d faults %v, %d log lines",
			len(f.ok), retried, attempts, f.seen, faults, f.kinds, len(logs))
	}
	t.Logf("faults %v; %d of %d queries retried", f.kinds, retried, n)
}

func TestNeverAnswers(t *testing.T) {
	// A listener that accepts connections and never says a word.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	url := "http://" + ln.Addr().String()
	o := options()
	o.Timeout = 150 * time.Millisecond
	o.Retries = 2
	c := openSpec(t, "openai:"+url+"/v1,model=m", o)
	start := time.Now()
	var rec format.Record
	err = c.Generate(context.Background(), model.Query{Prompt: "p", Sampling: format.Sampling{MaxTokens: 4}}, &rec)
	el := time.Since(start)
	// Three timeouts and two backoffs of at most 250ms and 500ms: at least
	// the timeouts, and not a hang. How much more than 1.2s it takes is the
	// scheduler's business on a loaded machine, so the upper bound is loose.
	if el < 3*o.Timeout || el > 10*time.Second {
		t.Errorf("gave up after %v, want at least %v and no hang", el, 3*o.Timeout)
	}
	want := "openai: POST " + url + "/v1/completions: timeout: no complete answer within 150ms after 3 attempts"
	if err == nil || err.Error() != want || !errors.Is(err, context.DeadlineExceeded) || rec.Attempts != 3 {
		t.Fatalf("attempts %d, err %v\nwant %s", rec.Attempts, err, want)
	}
}

// TestKeyNeverLeaks runs every kind of failure with a known key, on a server
// that echoes the key back in its errors, and looks for it in every error
// and log line.
func TestKeyNeverLeaks(t *testing.T) {
	const key = "sk-pot-test-0123456789abcdefSECRET"
	var mode string
	var mu sync.Mutex
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body: only then does the server notice a client that
		// hangs up, which the slow case waits for.
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		m := mode
		mu.Unlock()
		echo := `{"error":{"message":"Incorrect API key provided: ` + key + `. You can find your API key at https://example.com"}}`
		switch {
		case r.Method == http.MethodGet && m == "401":
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, echo)
		case r.Method == http.MethodGet:
			io.WriteString(w, `{"data":[{"id":"m"}]}`)
		case m == "500":
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, echo)
		case m == "400":
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, "invalid key "+key+"\nmore")
		case m == "html":
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, strings.Repeat("x", 190)+key) // the key across the 200-byte cut
		case m == "malformed":
			io.WriteString(w, `{"choices":[{"text":"`+key)
		case m == "drop":
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		case m == "slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
	}))
	defer srv.Close()
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out []string // every error and log line
	for _, source := range []string{"env", "file"} {
		for _, m := range []string{"500", "400", "html", "malformed", "drop", "slow", "401"} {
			mu.Lock()
			mode = m
			mu.Unlock()
			o := options()
			o.Retries = 1
			o.Timeout = 100 * time.Millisecond
			o.Logf = func(f string, a ...any) { mu.Lock(); out = append(out, fmt.Sprintf(f, a...)); mu.Unlock() }
			if source == "env" {
				o.APIKeyEnv = "POT_TEST_KEY"
				o.Getenv = func(name string) string {
					if name == "POT_TEST_KEY" {
						return key
					}
					return ""
				}
			} else {
				o.APIKeyFile = keyFile
			}
			sp, _ := model.ParseSpec("openai:http://user:hunter2@" + strings.TrimPrefix(srv.URL, "http://") + "/v1")
			mdl, err := Open(sp, o)
			if err != nil {
				out = append(out, err.Error())
				if m != "401" {
					t.Errorf("%s/%s: Open: %v", source, m, err)
				}
				continue
			}
			if m == "401" {
				t.Errorf("%s: Open accepted a 401", source)
			}
			c := mdl.(*client)
			c.policy.Base = time.Millisecond
			var rec format.Record
			err = mdl.Generate(context.Background(), model.Query{Prompt: "p"}, &rec)
			if err == nil {
				t.Errorf("%s/%s: no error", source, m)
				continue
			}
			out = append(out, err.Error(), fmt.Sprintf("%+v %#v", err, err), fmt.Sprintf("%+v", rec), fmt.Sprintf("%+v", mdl.Info()))
			mdl.Close()
		}
	}
	for _, s := range out {
		if strings.Contains(s, key) || strings.Contains(s, key[:12]) || strings.Contains(s, "hunter2") {
			t.Errorf("secret in output: %s", s)
		}
	}
	if !strings.Contains(strings.Join(out, "\n"), "[redacted]") {
		t.Error("no redaction seen: the server's echo did not reach the messages")
	}
	for _, a := range auth {
		if a != "Bearer "+key {
			t.Fatalf("Authorization header %q", a)
		}
	}
	t.Logf("%d messages checked, e.g. %q", len(out), out[0])
}
