package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/openai/openaitest"
)

// options returns test options that read no real environment.
func options() model.Options {
	return model.Options{Jobs: 4, Timeout: 5 * time.Second, Getenv: func(string) string { return "" }}
}

func openSpec(t testing.TB, spec string, o model.Options) *client {
	t.Helper()
	sp, err := model.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	c, err := open(sp, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestBaseURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://127.0.0.1:8080/v1", "http://127.0.0.1:8080"},
		{"http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
		{"https://api.example.com/openai/v1", "https://api.example.com/openai"},
		{"https://h/proxy/", "https://h/proxy"},
	}
	for _, tt := range tests {
		u, err := baseURL(tt.in)
		if err != nil || u.String() != tt.want {
			t.Errorf("baseURL(%q) = %v, %v; want %q", tt.in, u, err, tt.want)
		}
	}
	for _, bad := range []string{"127.0.0.1:8080", "ftp://h/v1", "http://", "http://h/v1?x=1", "http://h:port/"} {
		if _, err := baseURL(bad); !errors.Is(err, ErrSpec) {
			t.Errorf("baseURL(%q): err %v, want ErrSpec", bad, err)
		}
	}
}

func TestOpenRefuses(t *testing.T) {
	srv := openaitest.NewServer(fakeModel{}, openaitest.Config{})
	defer srv.Close()
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte("  \n"), 0o600)
	openFile := filepath.Join(t.TempDir(), "open-key")
	os.WriteFile(openFile, []byte("sk-test\n"), 0o644)
	tests := []struct {
		name, spec string
		o          func(*model.Options)
		want       string
	}{
		{"unknown option", "openai:" + srv.URL + ",temperature=1", nil, `unknown option "temperature"`},
		{"bad api", "openai:" + srv.URL + ",api=stream", nil, `api="stream"`},
		{"bad compat", "openai:" + srv.URL + ",compat=vllm", nil, `compat="vllm"`},
		{"two key sources", "openai:" + srv.URL, func(o *model.Options) { o.APIKeyEnv, o.APIKeyFile = "K", keyFile }, "not both"},
		{"empty key file", "openai:" + srv.URL, func(o *model.Options) { o.APIKeyFile = keyFile }, "is empty"},
		{"key file others may read", "openai:" + srv.URL, func(o *model.Options) { o.APIKeyFile = openFile }, "permissions 0644 are too open"},
		{"missing key file", "openai:" + srv.URL, func(o *model.Options) { o.APIKeyFile = keyFile + "x" }, "no such file"},
		{"named env unset", "openai:" + srv.URL, func(o *model.Options) { o.APIKeyEnv = "POT_KEY" }, "POT_KEY is empty or unset"},
		{"control characters", "openai:" + srv.URL, func(o *model.Options) { o.Getenv = func(string) string { return "a\x00b" } }, "control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := options()
			if tt.o != nil {
				tt.o(&o)
			}
			sp, err := model.ParseSpec(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Open(sp, o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v, %v; want error with %q", m, err, tt.want)
			}
		})
	}
}

// recordedServer answers exactly the recorded requests with the recorded
// responses, and GET /props with the recorded properties; it has no
// /v1/models, as some servers have not. A request matching no recording is
// refused with 400, which fails the test.
func recordedServer(t *testing.T) *httptest.Server {
	paths := map[string]string{APICompletions: "/v1/completions", APIChat: "/v1/chat/completions", APINative: "/completion"}
	type exchange struct {
		path string
		req  map[string]any
		resp []byte
	}
	var ex []exchange
	for _, r := range recorded {
		var req map[string]any
		if err := json.Unmarshal(fixture(t, r.name+".request.json"), &req); err != nil {
			t.Fatal(err)
		}
		ex = append(ex, exchange{paths[r.api], req, fixture(t, r.name+".response.json")})
	}
	props := fixture(t, "props.response.json")
	badJSON := fixture(t, "error-bad-json.response.json")
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodGet {
			if r.URL.Path != "/props" {
				http.NotFound(w, r)
				return
			}
			w.Write(props)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var sent map[string]any
		if err := json.Unmarshal(body, &sent); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			w.Write(badJSON)
			return
		}
		var misses []string
		for _, e := range ex {
			if e.path != r.URL.Path {
				continue
			}
			if err := sameRequest(e.req, sent); err != nil {
				misses = append(misses, err.Error())
				continue
			}
			w.Write(e.resp)
			return
		}
		if misses == nil {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":{"message":%q}}`, strings.Join(misses, "; "))
	}))
}

func TestRecordedServer(t *testing.T) {
	srv := recordedServer(t)
	defer srv.Close()
	for _, r := range recorded {
		t.Run(r.name, func(t *testing.T) {
			var logs []string
			o := options()
			o.Logf = func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }
			c := openSpec(t, "openai:"+srv.URL+"/v1/,model=stories260K,api="+r.api, o)
			info := c.Info()
			if info.Backend != "openai" || info.Name != "stories260K" || info.Build != "b0-unknown" || info.Fingerprint != "" ||
				info.Meta["model_path"] != "models/stories260K.gguf" || info.Meta["n_ctx"] != "256" || info.Meta["total_slots"] != "2" ||
				info.Meta["api"] != r.api || info.Meta["url"] != srv.URL {
				t.Errorf("Info before any query: %+v", info)
			}
			if len(logs) != 0 {
				t.Errorf("a 404 on /v1/models was logged: %q", logs)
			}
			var rec format.Record
			if err := c.Generate(context.Background(), r.q, &rec); err != nil {
				t.Fatal(err)
			}
			var want format.Record
			fp, _ := parse(r.api, fixture(t, r.name+".response.json"), r.q.Sampling.Logprobs, &want)
			want.Attempts = 1
			if !sameRecord(&rec, &want) {
				t.Errorf("got %+v\nwant %+v", rec, want)
			}
			if got := c.Info().Fingerprint; got != fp {
				t.Errorf("fingerprint %q, want %q", got, fp)
			}
		})
	}
	t.Run("server error body", func(t *testing.T) {
		o := options()
		o.Retries = 1
		c := openSpec(t, "openai:"+srv.URL+",model=stories260K", o)
		c.policy.Base = time.Millisecond
		// The recorded requests are the only ones the server knows; any
		// other is refused with 400 and not retried.
		var rec format.Record
		err := c.Generate(context.Background(), model.Query{Prompt: "other"}, &rec)
		if err == nil || rec.Attempts != 1 || !strings.Contains(err.Error(), "400 Bad Request: field") {
			t.Fatalf("attempts %d, err %v", rec.Attempts, err)
		}
	})
}

// sameRecord compares output fields bit for bit (NaN equal to NaN).
func sameRecord(a, b *format.Record) bool {
	bits := func(x, y []float32) bool {
		return slices.EqualFunc(x, y, func(p, q float32) bool { return math.Float32bits(p) == math.Float32bits(q) })
	}
	return slices.Equal(a.Tokens, b.Tokens) && bits(a.Logprobs, b.Logprobs) && a.TopK == b.TopK &&
		slices.Equal(a.TopTokens, b.TopTokens) && bits(a.TopLogprobs, b.TopLogprobs) &&
		a.Text == b.Text && a.Finish == b.Finish && a.Attempts == b.Attempts
}

// TestOpenaitestRoundTrip puts a model behind openaitest and checks that
// every API gives back exactly what the model computed.
func TestOpenaitestRoundTrip(t *testing.T) {
	qs := []model.Query{
		{Prompt: "Once upon a time", Seed: 12345, Sampling: format.Sampling{Temperature: 0.7, MaxTokens: 12, Logprobs: 3}},
		{Prompt: "greedy", Seed: 1, Sampling: format.Sampling{MaxTokens: 5, Logprobs: 5}}, // padded beyond 3
		{Prompt: "no alternatives", Seed: 99, Sampling: format.Sampling{Temperature: 1, TopK: 40, TopP: 0.9, MaxTokens: 7}},
		{Prompt: "", Seed: 3, Sampling: format.Sampling{MaxTokens: 1, Logprobs: 2}},
	}
	for _, tc := range []struct {
		name, api string
		legacy    bool
	}{{"completions", APICompletions, false}, {"chat", APIChat, false}, {"native", APINative, false}, {"legacy", APICompletions, true}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := openaitest.NewServer(fakeModel{}, openaitest.Config{Legacy: tc.legacy, Build: "b1", NCtx: 512})
			defer srv.Close()
			c := openSpec(t, "openai:"+srv.URL+"/v1,api="+tc.api, options())
			for _, q := range qs {
				var got, want format.Record
				if err := c.Generate(context.Background(), q, &got); err != nil {
					t.Fatal(err)
				}
				if err := (fakeModel{}).Generate(context.Background(), q, &want); err != nil {
					t.Fatal(err)
				}
				want.Attempts = 1
				if q.Sampling.Logprobs == 0 {
					want.TopK, want.TopTokens, want.TopLogprobs = 0, nil, nil
				}
				if tc.legacy {
					want.Tokens, want.TopTokens = nil, nil
				}
				if !sameRecord(&got, &want) {
					t.Errorf("%q:\ngot  %+v\nwant %+v", q.Prompt, got, want)
				}
			}
			info := c.Info()
			if info.Name != "fake-1" || info.Build != "b1" || info.Fingerprint != "b1" && tc.api != APINative ||
				info.Meta["n_vocab"] != "500" || info.Meta["n_ctx"] != "512" || info.Meta["owned_by"] != "openaitest:fake" {
				t.Errorf("Info %+v", info)
			}
		})
	}
}

func TestOpenDescribe(t *testing.T) {
	t.Run("several models", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/models" {
				io.WriteString(w, `{"data":[{"id":"a","owned_by":"me"},{"id":"b"}]}`)
				return
			}
			http.NotFound(w, r)
		}))
		defer srv.Close()
		sp, _ := model.ParseSpec("openai:" + srv.URL)
		if _, err := Open(sp, options()); !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), "2 models (a, b)") {
			t.Fatalf("Open: %v", err)
		}
		c := openSpec(t, "openai:"+srv.URL+",model=a", options())
		if info := c.Info(); info.Name != "a" || info.Meta["owned_by"] != "me" || info.Build != "" {
			t.Fatalf("Info %+v", info)
		}
	})
	t.Run("unauthorized", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"message":"Incorrect API key provided"}}`)
		}))
		defer srv.Close()
		sp, _ := model.ParseSpec("openai:" + srv.URL)
		_, err := Open(sp, options())
		if err == nil || !strings.Contains(err.Error(), "401 Unauthorized: Incorrect API key provided") {
			t.Fatalf("Open: %v", err)
		}
	})
	t.Run("server down", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		var logs []string
		o := options()
		o.Logf = func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }
		// A server not up yet is the retries' business, not Open's.
		c := openSpec(t, "openai:"+url+",model=m", o)
		if c.Info().Name != "m" || len(logs) != 2 || !strings.Contains(logs[0]+logs[1], "connection refused") {
			t.Fatalf("Info %+v logs %q", c.Info(), logs)
		}
	})
}

func TestRetries(t *testing.T) {
	var calls atomic.Int32
	var mode atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			http.NotFound(w, r)
			return
		}
		n := calls.Add(1)
		switch mode.Load().(string) {
		case "503":
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":{"message":"Loading model"}}`)
		case "400":
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"message":"'top_k' is not supported"}}`)
		case "408 once":
			if n == 1 {
				w.WriteHeader(http.StatusRequestTimeout)
				return
			}
			io.WriteString(w, `{"choices":[{"text":"ok"}]}`)
		case "429 once":
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			io.WriteString(w, `{"choices":[{"text":"ok"}]}`)
		}
	}))
	defer srv.Close()
	var logs []string
	var mu sync.Mutex
	o := options()
	o.Logf = func(f string, a ...any) { mu.Lock(); logs = append(logs, fmt.Sprintf(f, a...)); mu.Unlock() }
	c := openSpec(t, "openai:"+srv.URL+"/v1", o)
	c.policy.Base = time.Millisecond
	ep := srv.URL + "/v1/completions"

	t.Run("503 until spent", func(t *testing.T) {
		mode.Store("503")
		calls.Store(0)
		logs = nil
		var rec format.Record
		err := c.Generate(context.Background(), model.Query{Prompt: "p"}, &rec)
		want := "openai: POST " + ep + ": 503 Service Unavailable: Loading model after 6 attempts"
		if err == nil || err.Error() != want {
			t.Fatalf("err %v\nwant %s", err, want)
		}
		var se *StatusError
		if rec.Attempts != 6 || calls.Load() != 6 || !errors.As(err, &se) || se.Code != 503 {
			t.Fatalf("attempts %d calls %d err %#v", rec.Attempts, calls.Load(), err)
		}
		// One line for the cause, the retries after it counted on one more.
		c.policy.Report.Flush()
		if len(logs) != 2 || !strings.HasPrefix(logs[0], "openai: POST "+ep+": 503 Service Unavailable: Loading model; retry 1 of 5 in ") ||
			logs[1] != "openai: POST "+ep+": 503 Service Unavailable: Loading model; 4 more retries" {
			t.Fatalf("logs %q", logs)
		}
	})
	t.Run("400 not retried", func(t *testing.T) {
		mode.Store("400")
		calls.Store(0)
		var rec format.Record
		err := c.Generate(context.Background(), model.Query{Prompt: "p"}, &rec)
		if err == nil || rec.Attempts != 1 || calls.Load() != 1 || !strings.Contains(err.Error(), "400 Bad Request: 'top_k' is not supported") {
			t.Fatalf("attempts %d err %v", rec.Attempts, err)
		}
	})
	t.Run("408 retried", func(t *testing.T) {
		mode.Store("408 once")
		calls.Store(0)
		var rec format.Record
		if err := c.Generate(context.Background(), model.Query{Prompt: "p"}, &rec); err != nil || rec.Attempts != 2 || rec.Text != "ok" {
			t.Fatalf("attempts %d err %v", rec.Attempts, err)
		}
	})
	t.Run("429 Retry-After honoured", func(t *testing.T) {
		mode.Store("429 once")
		calls.Store(0)
		var rec format.Record
		start := time.Now()
		if err := c.Generate(context.Background(), model.Query{Prompt: "p"}, &rec); err != nil || rec.Attempts != 2 {
			t.Fatalf("attempts %d err %v", rec.Attempts, err)
		}
		if el := time.Since(start); el < time.Second {
			t.Fatalf("retried after %v; Retry-After asked for 1s", el)
		}
	})
	t.Run("cancel during backoff", func(t *testing.T) {
		mode.Store("503")
		c.policy.Base = time.Hour
		defer func() { c.policy.Base = time.Millisecond }()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		var rec format.Record
		start := time.Now()
		err := c.Generate(ctx, model.Query{Prompt: "p"}, &rec)
		// Far below the hour of backoff: the cancellation ended the wait.
		if el := time.Since(start); el > 10*time.Second || !errors.Is(err, context.DeadlineExceeded) ||
			!strings.Contains(err.Error(), "(last failure: 503 Service Unavailable") {
			t.Fatalf("after %v: %v", el, err)
		}
	})
}

func TestRateLimit(t *testing.T) {
	srv := openaitest.NewServer(fakeModel{}, openaitest.Config{})
	defer srv.Close()
	o := options()
	o.RateLimit = 40 // 25ms apart
	c := openSpec(t, "openai:"+srv.URL, o)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 4 {
				var rec format.Record
				if err := c.Generate(context.Background(), model.Query{Prompt: fmt.Sprint(i, j), Sampling: format.Sampling{MaxTokens: 1}}, &rec); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if el := time.Since(start); el < 15*25*time.Millisecond {
		t.Fatalf("16 requests at 40/s over 4 goroutines took %v", el)
	}
}
