package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/model"
)

// BenchmarkClientWork is the backend's own work per query without the
// network: encoding the request and parsing llama-server's 16-token answer
// with three alternatives per position.
func BenchmarkClientWork(b *testing.B) {
	c := &client{api: APICompletions, model: "stories260K", llama: true}
	resp := fixture(b, "v1-completions-greedy.response.json")
	q := model.Query{Prompt: "Once upon a time", Seed: 42, Sampling: format.Sampling{MaxTokens: 16, Logprobs: 3}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(c.request(q)); err != nil {
			b.Fatal(err)
		}
		var rec format.Record
		if _, err := parse(APICompletions, resp, 3, &rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGenerate drives Generate from 1, 4 and 16 goroutines against a
// server on loopback that answers every request at once with a recorded
// body: what the HTTP round trip and the backend cost per query.
func BenchmarkGenerate(b *testing.B) {
	resp := fixture(b, "v1-completions-greedy.response.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(resp)
	}))
	defer srv.Close()
	for _, jobs := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("jobs=%d", jobs), func(b *testing.B) {
			o := options()
			o.Jobs = jobs
			c := openSpec(b, "openai:"+srv.URL+"/v1,model=stories260K", o)
			q := model.Query{Prompt: "Once upon a time", Seed: 42, Sampling: format.Sampling{MaxTokens: 16, Logprobs: 3}}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			var left atomic.Int64
			left.Store(int64(b.N))
			var wg sync.WaitGroup
			for range jobs {
				wg.Go(func() {
					for left.Add(-1) >= 0 {
						var rec format.Record
						if err := c.Generate(context.Background(), q, &rec); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}
