// Package openaitest serves any model.Model over HTTP in the shapes of
// llama.cpp's llama-server: /v1/completions, /v1/chat/completions, the native
// /completion, /props and /v1/models. Tests put the project's own engine
// behind a real HTTP server with it and check that the openai backend
// reports exactly what the engine computed.
package openaitest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/model"
)

// Config says what the server reports beyond what its model.Model does.
type Config struct {
	Name        string // model id in /v1/models and in answers; default: the model's Info().Name, else "model"
	Build       string // build_info in /props; default "openaitest"
	Fingerprint string // system_fingerprint in answers; default Build
	NCtx        int    // n_ctx in /props
	// Legacy makes /v1/completions answer in OpenAI's legacy logprobs shape
	// (token strings, token_logprobs, top_logprobs maps), which has no ids.
	Legacy bool
}

// Server answers HTTP requests from a model.Model.
type Server struct {
	m    model.Model
	cfg  Config
	info format.Model
	mux  *http.ServeMux
	seq  atomic.Int64 // response ids
}

// New returns a Server, an http.Handler, for m. Requests run m.Generate concurrently,
// as many as arrive.
func New(m model.Model, cfg Config) *Server {
	s := &Server{m: m, cfg: cfg, info: m.Info(), mux: http.NewServeMux()}
	if s.cfg.Name == "" {
		s.cfg.Name = s.info.Name
	}
	if s.cfg.Name == "" {
		s.cfg.Name = "model"
	}
	if s.cfg.Build == "" {
		s.cfg.Build = "openaitest"
	}
	if s.cfg.Fingerprint == "" {
		s.cfg.Fingerprint = s.cfg.Build
	}
	s.mux.HandleFunc("POST /v1/completions", s.completions)
	s.mux.HandleFunc("POST /v1/chat/completions", s.chat)
	s.mux.HandleFunc("POST /completion", s.native)
	s.mux.HandleFunc("GET /props", s.props)
	s.mux.HandleFunc("GET /v1/models", s.models)
	return s
}

// NewServer starts an httptest.Server that serves m; the caller closes it.
// Its URL plus "/v1" is an openai model spec's argument.
func NewServer(m model.Model, cfg Config) *httptest.Server {
	return httptest.NewServer(New(m, cfg))
}

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// request is the union of the three APIs' request fields that matter here.
type request struct {
	Prompt   json.RawMessage `json:"prompt"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	MaxTokens   *int            `json:"max_tokens"`
	NPredict    *int            `json:"n_predict"`
	Temperature *float64        `json:"temperature"`
	TopP        *float64        `json:"top_p"`
	TopK        *int            `json:"top_k"`
	MinP        *float64        `json:"min_p"`
	Seed        *uint64         `json:"seed"`
	Logprobs    json.RawMessage `json:"logprobs"`
	TopLogprobs *int            `json:"top_logprobs"`
	NProbs      *int            `json:"n_probs"`
}

// errorJSON answers as llama-server does on failure.
func errorJSON(w http.ResponseWriter, code int, msg string) {
	typ := "server_error"
	if code < 500 {
		typ = "invalid_request_error"
	}
	body, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg, "type": typ}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(body)
}

func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		errorJSON(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// generate decodes r, runs the model and returns the record and the number
// of alternatives the client asked for. n is the count the API sends:
// completions' logprobs, chat's top_logprobs, native's n_probs.
func (s *Server) generate(w http.ResponseWriter, r *http.Request, api string) (*format.Record, int, bool) {
	var req request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20))
	if err := dec.Decode(&req); err != nil {
		// llama-server answers a malformed body with 500, as recorded.
		errorJSON(w, http.StatusInternalServerError, "parse error: "+err.Error())
		return nil, 0, false
	}
	var prompt string
	if api == "chat" {
		if len(req.Messages) == 0 {
			errorJSON(w, http.StatusBadRequest, "messages is required")
			return nil, 0, false
		}
		// A base model continues text: the last message is the prompt.
		prompt = req.Messages[len(req.Messages)-1].Content
	} else if err := json.Unmarshal(req.Prompt, &prompt); err != nil {
		errorJSON(w, http.StatusBadRequest, "prompt must be a string")
		return nil, 0, false
	}
	// Unset parameters keep llama-server's defaults where the model has
	// the same notion (temperature 0.8, top-k 40, top-p 0.95), and the
	// model's own otherwise: no max_tokens is MaxTokens 0, the model's
	// limit, like n_predict -1. Its min-p (default 0.05) the model cannot
	// apply, so a sampled request must turn it off.
	q := model.Query{Prompt: prompt, Sampling: format.Sampling{Temperature: 0.8, TopK: 40, TopP: 0.95}}
	if req.Temperature != nil {
		q.Sampling.Temperature = *req.Temperature
	}
	if req.TopP != nil {
		q.Sampling.TopP = *req.TopP
	}
	if req.TopK != nil {
		q.Sampling.TopK = *req.TopK
	}
	if q.Sampling.Temperature > 0 && (req.MinP == nil || *req.MinP != 0) {
		errorJSON(w, http.StatusBadRequest, "min_p: this server samples without it; send min_p 0 (llama-server's default is 0.05)")
		return nil, 0, false
	}
	if req.Seed != nil {
		q.Seed = *req.Seed
	}
	if api == "native" && req.NPredict != nil {
		q.Sampling.MaxTokens = *req.NPredict
	} else if req.MaxTokens != nil {
		q.Sampling.MaxTokens = *req.MaxTokens
	}
	n := 0
	switch api {
	case "chat":
		var on bool
		if len(req.Logprobs) > 0 && json.Unmarshal(req.Logprobs, &on) == nil && on {
			n = -1 // chosen log-probabilities without alternatives, unless top_logprobs
			if req.TopLogprobs != nil && *req.TopLogprobs > 0 {
				n = *req.TopLogprobs
			}
		}
	case "native":
		if req.NProbs != nil {
			n = *req.NProbs
		}
	default:
		if len(req.Logprobs) > 0 && json.Unmarshal(req.Logprobs, &n) != nil {
			errorJSON(w, http.StatusBadRequest, "logprobs must be an integer")
			return nil, 0, false
		}
	}
	q.Sampling.Logprobs = max(n, 0)
	rec := new(format.Record)
	if err := s.m.Generate(r.Context(), q, rec); err != nil {
		errorJSON(w, http.StatusInternalServerError, err.Error())
		return nil, 0, false
	}
	return rec, n, true
}

// contentItem is one position of llama-server's logprobs.content[]. Token
// and bytes are the token's bytes as the model's record knows them (empty
// when it does not), as llama-server gives them.
type contentItem struct {
	ID          int32         `json:"id"`
	Token       string        `json:"token"`
	Bytes       []int         `json:"bytes"`
	Logprob     float64       `json:"logprob"`
	TopLogprobs []contentItem `json:"top_logprobs,omitempty"`
}

// content renders rec in the content[] shape with up to n alternatives per
// position (none for n <= 0). Padding alternatives are left out, since
// -Inf has no JSON form.
func content(rec *format.Record, n int) ([]contentItem, error) {
	items := make([]contentItem, len(rec.Tokens))
	for i, t := range rec.Tokens {
		if i >= len(rec.Logprobs) {
			return nil, errors.New("openaitest: model gave no log-probabilities")
		}
		lp := float64(rec.Logprobs[i])
		if math.IsInf(lp, 0) || math.IsNaN(lp) {
			return nil, fmt.Errorf("openaitest: position %d: log-probability %v has no JSON form", i, lp)
		}
		items[i] = item(rec, t, lp)
		items[i].TopLogprobs = []contentItem{}
		for j := 0; j < min(n, rec.TopK); j++ {
			at := i*rec.TopK + j
			if at >= len(rec.TopTokens) || rec.TopTokens[at] < 0 || math.IsInf(float64(rec.TopLogprobs[at]), -1) {
				continue
			}
			items[i].TopLogprobs = append(items[i].TopLogprobs, item(rec, rec.TopTokens[at], float64(rec.TopLogprobs[at])))
		}
	}
	return items, nil
}

// item is token id of rec with its bytes, if rec knows them.
func item(rec *format.Record, id int32, lp float64) contentItem {
	b, _ := rec.Pieces.Get(id)
	it := contentItem{ID: id, Token: strings.ToValidUTF8(b, "\uFFFD"), Bytes: make([]int, len(b)), Logprob: lp}
	for i := range len(b) {
		it.Bytes[i] = int(b[i])
	}
	return it
}

// legacyToken is the token string the legacy shape gives for id: its bytes,
// written as OpenAI writes a token that is not UTF-8 on its own
// ("bytes:\xe2\x80"), or "<id>" when rec does not know them.
func legacyToken(rec *format.Record, id int32) string {
	b, ok := rec.Pieces.Get(id)
	switch {
	case !ok:
		return fmt.Sprintf("<%d>", id)
	case utf8.ValidString(b):
		return b
	}
	var sb strings.Builder
	sb.WriteString("bytes:")
	for i := range len(b) {
		fmt.Fprintf(&sb, "\\x%02x", b[i])
	}
	return sb.String()
}

func finishReason(rec *format.Record) string {
	if rec.Finish == "length" {
		return "length"
	}
	return "stop"
}

func (s *Server) envelope(object string, choice map[string]any, rec *format.Record) map[string]any {
	return map[string]any{
		"choices":            []any{choice},
		"created":            0,
		"model":              s.cfg.Name,
		"system_fingerprint": s.cfg.Fingerprint,
		"object":             object,
		"usage":              map[string]int{"completion_tokens": len(rec.Tokens)},
		"id":                 "cmpl-" + strconv.FormatInt(s.seq.Add(1), 10),
	}
}

func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	rec, n, ok := s.generate(w, r, "completions")
	if !ok {
		return
	}
	choice := map[string]any{"text": rec.Text, "index": 0, "finish_reason": finishReason(rec)}
	if n > 0 {
		if s.cfg.Legacy {
			choice["logprobs"] = legacy(rec, n)
		} else {
			items, err := content(rec, n)
			if err != nil {
				errorJSON(w, http.StatusInternalServerError, err.Error())
				return
			}
			choice["logprobs"] = map[string]any{"content": items}
		}
	}
	writeJSON(w, s.envelope("text_completion", choice, rec))
}

// legacy renders rec in OpenAI's legacy completions shape, token strings
// made from the tokens' bytes (legacyToken). Like a real server's, the
// {token: logprob} maps keep one of two alternatives with the same bytes.
func legacy(rec *format.Record, n int) map[string]any {
	tokens := make([]string, len(rec.Tokens))
	lps := make([]float64, len(rec.Tokens))
	tops := make([]map[string]float64, len(rec.Tokens))
	offsets := make([]int, len(rec.Tokens))
	for i, t := range rec.Tokens {
		tokens[i] = legacyToken(rec, t)
		lps[i] = float64(rec.Logprobs[i])
		tops[i] = map[string]float64{}
		for j := 0; j < min(n, rec.TopK); j++ {
			at := i*rec.TopK + j
			if rec.TopTokens[at] >= 0 && !math.IsInf(float64(rec.TopLogprobs[at]), -1) {
				tok := legacyToken(rec, rec.TopTokens[at])
				if _, dup := tops[i][tok]; !dup {
					tops[i][tok] = float64(rec.TopLogprobs[at])
				}
			}
		}
	}
	return map[string]any{"tokens": tokens, "token_logprobs": lps, "top_logprobs": tops, "text_offset": offsets}
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	rec, n, ok := s.generate(w, r, "chat")
	if !ok {
		return
	}
	choice := map[string]any{
		"index":         0,
		"message":       map[string]string{"role": "assistant", "content": rec.Text},
		"finish_reason": finishReason(rec),
	}
	if n != 0 {
		items, err := content(rec, n)
		if err != nil {
			errorJSON(w, http.StatusInternalServerError, err.Error())
			return
		}
		choice["logprobs"] = map[string]any{"content": items}
	}
	writeJSON(w, s.envelope("chat.completion", choice, rec))
}

func (s *Server) native(w http.ResponseWriter, r *http.Request) {
	rec, n, ok := s.generate(w, r, "native")
	if !ok {
		return
	}
	stop := "eos"
	if rec.Finish == "length" {
		stop = "limit"
	}
	resp := map[string]any{
		"index":            0,
		"content":          rec.Text,
		"tokens":           rec.Tokens,
		"id_slot":          0,
		"stop":             true,
		"model":            s.cfg.Name,
		"tokens_predicted": len(rec.Tokens),
		"stop_type":        stop,
	}
	if rec.Tokens == nil {
		resp["tokens"] = []int32{}
	}
	if n > 0 {
		items, err := content(rec, n)
		if err != nil {
			errorJSON(w, http.StatusInternalServerError, err.Error())
			return
		}
		resp["completion_probabilities"] = items
	}
	writeJSON(w, resp)
}

func (s *Server) props(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{
		"default_generation_settings": map[string]any{"n_ctx": s.cfg.NCtx},
		"total_slots":                 1,
		"model_path":                  s.cfg.Name,
		"build_info":                  s.cfg.Build,
	})
}

func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	meta := map[string]any{}
	for k, v := range s.info.Meta {
		meta[k] = v
	}
	if s.info.Digest != "" {
		meta["digest"] = s.info.Digest
	}
	writeJSON(w, map[string]any{
		"object": "list",
		"data": []any{map[string]any{
			"id": s.cfg.Name, "object": "model", "created": 0, "owned_by": "openaitest:" + s.info.Backend, "meta": meta,
		}},
	})
}
