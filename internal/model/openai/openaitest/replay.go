package openaitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// Replayer answers /v1/completions with answers a real server gave, as
// recorded in request and response files (../shared/fixtures/llama-server-
// quant): a test can put potgen's openai backend in front of llama-server
// running a model the project's engine cannot, such as a quantized file.
type Replayer struct {
	answers map[replayKey][]byte
	props   []byte
	name    string
	mux     *http.ServeMux
	misses  atomic.Int64
}

// replayKey is what makes two requests ask for the same answer. The seed
// counts only when sampling: a greedy answer does not depend on it.
type replayKey struct {
	prompt      string
	maxTokens   int
	logprobs    int
	temperature float64
	seed        uint64
	topP        float64
	topK        int
}

// recordedRequest is a recorded /v1/completions request.
type recordedRequest struct {
	Model       string   `json:"model"`
	Prompt      *string  `json:"prompt"`
	MaxTokens   int      `json:"max_tokens"`
	Logprobs    int      `json:"logprobs"`
	Temperature *float64 `json:"temperature"`
	Seed        uint64   `json:"seed"`
	TopP        float64  `json:"top_p"`
	TopK        int      `json:"top_k"`
}

func (q *recordedRequest) key() replayKey {
	k := replayKey{maxTokens: q.MaxTokens, logprobs: q.Logprobs, temperature: 0.8, topP: q.TopP, topK: q.TopK}
	if q.Prompt != nil {
		k.prompt = *q.Prompt
	}
	if q.Temperature != nil {
		k.temperature = *q.Temperature
	}
	if k.topP == 0 {
		k.topP = 1 // off either way
	}
	if k.temperature != 0 {
		k.seed = q.Seed
	} else {
		k.topP, k.topK = 1, 0 // greedy: truncation changes nothing
	}
	return k
}

// Replay loads the pairs NAME.request.json and NAME.response.json in dir
// whose request asked for the model name (every pair when name is ""), and
// serves them: a POST /v1/completions is answered with the response
// recorded for the request that asked the same (prompt, max_tokens,
// logprobs, temperature, and when sampling seed, top_p and top_k), and with
// 404 when none did. GET /props gives dir's props.response.json, or a
// build_info of "replay"; GET /v1/models lists name.
func Replay(dir, name string) (*Replayer, error) {
	reqs, err := filepath.Glob(filepath.Join(dir, "*.request.json"))
	if err != nil {
		return nil, err
	}
	rp := &Replayer{answers: map[replayKey][]byte{}, name: name, mux: http.NewServeMux()}
	for _, path := range reqs {
		var q recordedRequest
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if json.Unmarshal(data, &q) != nil || q.Prompt == nil || name != "" && q.Model != name {
			continue // another endpoint's request (tokenize), or another model's
		}
		resp, err := os.ReadFile(strings.TrimSuffix(path, ".request.json") + ".response.json")
		if err != nil {
			return nil, err
		}
		rp.answers[q.key()] = resp
	}
	if len(rp.answers) == 0 {
		return nil, fmt.Errorf("openaitest: no recorded completions for model %q in %s", name, dir)
	}
	rp.props, _ = os.ReadFile(filepath.Join(dir, "props.response.json"))
	if rp.props == nil {
		rp.props, _ = json.Marshal(map[string]any{"build_info": "replay", "model_path": name})
	}
	rp.mux.HandleFunc("POST /v1/completions", rp.completions)
	rp.mux.HandleFunc("GET /props", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(rp.props)
	})
	rp.mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"object": "list", "data": []any{map[string]any{"id": rp.name, "object": "model"}}})
	})
	return rp, nil
}

// ServeHTTP routes a request.
func (rp *Replayer) ServeHTTP(w http.ResponseWriter, r *http.Request) { rp.mux.ServeHTTP(w, r) }

// Len is the number of recorded answers.
func (rp *Replayer) Len() int { return len(rp.answers) }

// Misses counts the requests that no recorded answer matched.
func (rp *Replayer) Misses() int64 { return rp.misses.Load() }

func (rp *Replayer) completions(w http.ResponseWriter, r *http.Request) {
	var q recordedRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&q); err != nil {
		errorJSON(w, http.StatusInternalServerError, "parse error: "+err.Error())
		return
	}
	resp, ok := rp.answers[q.key()]
	if !ok {
		rp.misses.Add(1)
		errorJSON(w, http.StatusNotFound, fmt.Sprintf("no recorded answer for this request (prompt %.40q)", q.key().prompt))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(resp)
}
