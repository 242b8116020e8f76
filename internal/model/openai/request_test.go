package openai

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/model"
)

// recorded maps each recorded generation request to the endpoint it was
// sent to and the query that should produce it.
var recorded = []struct {
	name, api string
	q         model.Query
}{
	{"v1-completions-greedy", APICompletions, model.Query{Prompt: "Once upon a time", Seed: 42, Sampling: format.Sampling{MaxTokens: 16, Logprobs: 3}}},
	{"v1-completions-seed42", APICompletions, model.Query{Prompt: "Once upon a time", Seed: 42, Sampling: format.Sampling{MaxTokens: 24, Temperature: 1, TopP: 0.9, Logprobs: 1}}},
	{"v1-completions-seed42-again", APICompletions, model.Query{Prompt: "Once upon a time", Seed: 42, Sampling: format.Sampling{MaxTokens: 24, Temperature: 1, TopP: 0.9, Logprobs: 1}}},
	{"v1-completions-seed43", APICompletions, model.Query{Prompt: "Once upon a time", Seed: 43, Sampling: format.Sampling{MaxTokens: 24, Temperature: 1, TopP: 0.9, Logprobs: 1}}},
	{"v1-chat-completions", APIChat, model.Query{Prompt: "Once upon a time", Seed: 42, Sampling: format.Sampling{MaxTokens: 8, Logprobs: 2}}},
	{"native-completion", APINative, model.Query{Prompt: "Once upon a time", Seed: 42, Sampling: format.Sampling{MaxTokens: 8, Logprobs: 2}}},
}

// sameRequest reports how sent differs from a recorded body: every recorded
// field must be sent with an equal value, and the only fields sent beyond
// them are cache_prompt false (the chat recording was made without it) and
// the truncations a sampled request now turns off (top_k 0, min_p 0, top_p
// 1): the sampled recordings left them to the server's defaults, so their
// answers were drawn with top-k 40 and min-p 0.05.
func sameRequest(recorded, sent map[string]any) error {
	for k, v := range recorded {
		if !reflect.DeepEqual(sent[k], v) {
			return fmt.Errorf("field %q: sent %v, recorded %v", k, sent[k], v)
		}
	}
	off := map[string]any{"cache_prompt": false, "top_k": 0.0, "min_p": 0.0, "top_p": 1.0}
	for k, v := range sent {
		if _, ok := recorded[k]; !ok && (!reflect.DeepEqual(off[k], v) || k != "cache_prompt" && sent["temperature"] == 0.0) {
			return fmt.Errorf("field %q=%v sent, not in the recording", k, v)
		}
	}
	return nil
}

func TestRequestMatchesRecorded(t *testing.T) {
	for _, r := range recorded {
		t.Run(r.name, func(t *testing.T) {
			c := &client{api: r.api, model: "stories260K", llama: true}
			body, err := json.Marshal(c.request(r.q))
			if err != nil {
				t.Fatal(err)
			}
			var want, got map[string]any
			if err := json.Unmarshal(fixture(t, r.name+".request.json"), &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if err := sameRequest(want, got); err != nil {
				t.Fatalf("%v\nsent %s", err, body)
			}
			if got["cache_prompt"] != false {
				t.Errorf("cache_prompt not false: %s", body)
			}
		})
	}
}

func TestRequestFields(t *testing.T) {
	q := model.Query{Prompt: "", Seed: 1<<40 | 1<<31 | 7, Sampling: format.Sampling{Temperature: 0.5, TopP: 1, TopK: 40, MaxTokens: 5}}
	tests := []struct {
		name  string
		c     *client
		q     model.Query
		check map[string]any // nil value: the field must be absent
	}{
		{"completions", &client{api: APICompletions, llama: true}, q, map[string]any{
			"prompt": "", "seed": 7.0, "top_p": 1.0, "top_k": 40.0, "min_p": 0.0, "logprobs": 1.0, "model": nil, "temperature": 0.5, "max_tokens": 5.0}},
		{"llama-server's truncations off", &client{api: APINative, llama: true}, model.Query{Sampling: format.Sampling{Temperature: 1}}, map[string]any{
			"top_p": 1.0, "top_k": 0.0, "min_p": 0.0}},
		{"greedy sends no truncation", &client{api: APICompletions, llama: true}, model.Query{}, map[string]any{
			"top_p": nil, "top_k": nil, "min_p": nil, "temperature": 0.0}},
		{"compat openai", &client{api: APICompletions, model: "gpt", llama: false}, q, map[string]any{
			"cache_prompt": nil, "model": "gpt", "min_p": nil, "top_p": nil}},
		{"chat without alternatives", &client{api: APIChat, llama: true}, q, map[string]any{
			"logprobs": true, "top_logprobs": nil, "prompt": nil, "messages": []any{map[string]any{"role": "user", "content": ""}}}},
		{"native", &client{api: APINative, llama: true}, q, map[string]any{
			"n_probs": 1.0, "n_predict": 5.0, "max_tokens": nil, "return_tokens": true, "model": nil}},
		{"seed below the mask", &client{api: APICompletions}, model.Query{Seed: 1<<31 - 1}, map[string]any{"seed": float64(1<<31 - 1), "max_tokens": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(tt.c.request(tt.q))
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			for k, want := range tt.check {
				v, ok := got[k]
				if want == nil && ok || want != nil && !reflect.DeepEqual(v, want) {
					t.Errorf("%s: %v (present %v), want %v\n%s", k, v, ok, want, body)
				}
			}
		})
	}
}
