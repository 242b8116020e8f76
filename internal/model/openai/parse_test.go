package openai

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
)

const fixtures = "testdata/llama-server"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// greedy is what stories260K continues "Once upon a time" with, as
// llama-server recorded it.
var greedy = []int32{432, 383, 286, 261, 376, 298, 315, 421}

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		file, api   string
		k           int
		n           int
		firstTokens []int32
		firstLP     float64
		top0        []int32 // alternatives at position 0
		text        string
		finish      string
		fingerprint string
	}{
		{"v1-completions-greedy", APICompletions, 3, 16, greedy, -0.031702492386102676, []int32{432, 383, 322}, ", there was a little girl named Lily. She loved to play", "length", "b0-unknown"},
		{"v1-completions-seed42", APICompletions, 1, 24, greedy, -0.031702492386102676, []int32{432}, ", there was a little girl named Lily. She loved to play outside in the p", "length", "b0-unknown"},
		{"v1-completions-seed43", APICompletions, 1, 24, greedy, -0.031702492386102676, []int32{432}, ", there was a little girl named Lily. She loved to play with her toys and dre", "length", "b0-unknown"},
		{"v1-completions-token-prompt", APICompletions, 2, 8, greedy, -0.031702492386102676, []int32{432, 383}, ", there was a little girl", "length", "b0-unknown"},
		{"v1-chat-completions", APIChat, 2, 8, []int32{436, 440, 411, 276}, -1.0647093057632446, []int32{436, 440}, "\"Here?\" A", "length", "b0-unknown"},
		{"native-completion", APINative, 2, 8, greedy, -0.031702492386102676, []int32{432, 383}, ", there was a little girl", "length", ""},
		// Fewer alternatives kept than the server sent, and none.
		{"v1-completions-greedy", APICompletions, 2, 16, greedy, -0.031702492386102676, []int32{432, 383}, ", there was a little girl named Lily. She loved to play", "length", "b0-unknown"},
		{"v1-completions-greedy", APICompletions, 0, 16, greedy, -0.031702492386102676, nil, ", there was a little girl named Lily. She loved to play", "length", "b0-unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+string(rune('0'+tt.k)), func(t *testing.T) {
			var rec format.Record
			fp, err := parse(tt.api, fixture(t, tt.file+".response.json"), tt.k, &rec)
			if err != nil {
				t.Fatal(err)
			}
			if fp != tt.fingerprint || rec.Text != tt.text || rec.Finish != tt.finish {
				t.Errorf("fingerprint %q text %q finish %q", fp, rec.Text, rec.Finish)
			}
			if len(rec.Tokens) != tt.n || len(rec.Logprobs) != tt.n || !slices.Equal(rec.Tokens[:len(tt.firstTokens)], tt.firstTokens) {
				t.Fatalf("tokens %v (%d logprobs)", rec.Tokens, len(rec.Logprobs))
			}
			if rec.Logprobs[0] != float32(tt.firstLP) {
				t.Errorf("logprob[0] %v, want %v", rec.Logprobs[0], float32(tt.firstLP))
			}
			if rec.TopK != tt.k || len(rec.TopTokens) != tt.n*tt.k || len(rec.TopLogprobs) != tt.n*tt.k {
				t.Fatalf("TopK %d, %d top tokens, %d top logprobs", rec.TopK, len(rec.TopTokens), len(rec.TopLogprobs))
			}
			if tt.k > 0 {
				if !slices.Equal(rec.TopTokens[:tt.k], tt.top0) {
					t.Errorf("top tokens at 0: %v, want %v", rec.TopTokens[:tt.k], tt.top0)
				}
				if rec.TopLogprobs[0] != rec.Logprobs[0] {
					t.Errorf("greedy: best alternative %v is not the chosen %v", rec.TopLogprobs[0], rec.Logprobs[0])
				}
				for i := range tt.n {
					row := rec.TopLogprobs[i*tt.k : (i+1)*tt.k]
					if !slices.IsSortedFunc(row, func(a, b float32) int { return -cmpf(a, b) }) {
						t.Errorf("position %d: alternatives not most likely first: %v", i, row)
					}
				}
			}
		})
	}
}

func cmpf(a, b float32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestParseRepeatsIdentical(t *testing.T) {
	var a, b, c format.Record
	for _, x := range []struct {
		file string
		rec  *format.Record
	}{{"v1-completions-seed42", &a}, {"v1-completions-seed42-again", &b}, {"v1-completions-seed43", &c}} {
		if _, err := parse(APICompletions, fixture(t, x.file+".response.json"), 1, x.rec); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(a.Tokens, b.Tokens) || !slices.Equal(a.Logprobs, b.Logprobs) {
		t.Error("seed 42 twice: records differ")
	}
	if !slices.Equal(a.Tokens[:16], c.Tokens[:16]) || slices.Equal(a.Tokens, c.Tokens) {
		t.Error("seed 43 should share 16 tokens with seed 42 and then diverge")
	}
}

// legacyCompletion is OpenAI's documented legacy completions shape, as vLLM
// also answers: token strings, no ids, alternatives as maps.
const legacyCompletion = `{
  "id": "cmpl-7", "object": "text_completion", "created": 1700000000,
  "model": "gpt-3.5-turbo-instruct", "system_fingerprint": "fp_44709d6fcb",
  "choices": [{
    "text": ", there was", "index": 0, "finish_reason": "stop",
    "logprobs": {
      "tokens": [",", " there", " was"],
      "token_logprobs": [-0.0317, -0.0684, -0.0160],
      "top_logprobs": [{" and": -3.5, ",": -0.0317}, {" in": -2.9, " there": -0.0684, " a": -4.5}, {" was": -0.0160}],
      "text_offset": [16, 17, 23]
    }
  }],
  "usage": {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}
}`

func TestParseLegacy(t *testing.T) {
	var rec format.Record
	fp, err := parse(APICompletions, []byte(legacyCompletion), 2, &rec)
	if err != nil {
		t.Fatal(err)
	}
	inf := float32(math.Inf(-1))
	want := format.Record{
		Logprobs:    []float32{-0.0317, -0.0684, -0.0160},
		TopK:        2,
		TopLogprobs: []float32{-0.0317, -3.5, -0.0684, -2.9, -0.0160, inf},
		Text:        ", there was",
		Finish:      "stop",
	}
	if fp != "fp_44709d6fcb" || rec.Tokens != nil || rec.TopTokens != nil || !slices.Equal(rec.Logprobs, want.Logprobs) ||
		rec.TopK != 2 || !slices.Equal(rec.TopLogprobs, want.TopLogprobs) || rec.Text != want.Text || rec.Finish != want.Finish {
		t.Fatalf("got %+v (fingerprint %q), want %+v", rec, fp, want)
	}
}

// openAIChat is OpenAI's chat shape: content[] without ids.
const openAIChat = `{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","system_fingerprint":"fp_1",
 "choices":[{"index":0,"message":{"role":"assistant","content":"Hi there"},"finish_reason":"stop",
  "logprobs":{"content":[
   {"token":"Hi","bytes":[72,105],"logprob":-0.25,"top_logprobs":[{"token":"Hi","bytes":[72,105],"logprob":-0.25},{"token":"Hello","bytes":[72],"logprob":-1.5}]},
   {"token":" there","bytes":[32],"logprob":-2.0,"top_logprobs":[{"token":"!","bytes":[33],"logprob":-0.5},{"token":" there","bytes":[32],"logprob":-2.0}]}],
   "refusal":null}}]}`

func TestParseChatWithoutIDs(t *testing.T) {
	var rec format.Record
	if _, err := parse(APIChat, []byte(openAIChat), 3, &rec); err != nil {
		t.Fatal(err)
	}
	inf := float32(math.Inf(-1))
	if rec.Tokens != nil || rec.TopTokens != nil || !slices.Equal(rec.Logprobs, []float32{-0.25, -2}) || rec.TopK != 3 ||
		!slices.Equal(rec.TopLogprobs, []float32{-0.25, -1.5, inf, -0.5, -2, inf}) || rec.Text != "Hi there" || rec.Finish != "stop" {
		t.Fatalf("%+v", rec)
	}
}

// TestParseStream reads the recorded server-sent events chunk by chunk.
// The backend asks with stream false and never reads a stream; the chunks
// have the completions shape, and this keeps that fact checked.
func TestParseStream(t *testing.T) {
	sc := bufio.NewScanner(bytes.NewReader(fixture(t, "v1-completions-stream.sse")))
	sc.Buffer(nil, 1<<20)
	var all format.Record
	done := false
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			done = true
			break
		}
		var rec format.Record
		if _, err := parse(APICompletions, []byte(data), 1, &rec); err != nil {
			t.Fatal(err)
		}
		all.Tokens = append(all.Tokens, rec.Tokens...)
		all.Logprobs = append(all.Logprobs, rec.Logprobs...)
		all.Text += rec.Text
		if rec.Finish != "" {
			all.Finish = rec.Finish
		}
	}
	if !done || !slices.Equal(all.Tokens, greedy[:4]) || all.Text != ", there was a" || all.Finish != "length" || len(all.Logprobs) != 4 {
		t.Fatalf("stream gave %+v (done %v)", all, done)
	}
}

func TestParseMalformed(t *testing.T) {
	tests := []struct{ name, api, body, want string }{
		{"empty", APICompletions, ``, "unexpected end of JSON input"},
		{"truncated", APICompletions, `{"choices":[{"text":"x`, "unexpected end"},
		{"no choices", APICompletions, `{"choices":[]}`, "no choices"},
		{"error object", APICompletions, string(fixture(t, "error-bad-json.response.json")), "server error: [json.exception.parse_error.101]"},
		{"empty choice", APICompletions, `{"choices":[{"index":0}]}`, "neither text nor message"},
		{"legacy lengths", APICompletions, `{"choices":[{"text":"","logprobs":{"tokens":["a","b"],"token_logprobs":[-1]}}]}`, "2 tokens but 1 token_logprobs"},
		{"legacy top lengths", APICompletions, `{"choices":[{"text":"","logprobs":{"tokens":["a"],"token_logprobs":[-1],"top_logprobs":[{},{}]}}]}`, "1 tokens but 2 top_logprobs"},
		{"negative id", APICompletions, `{"choices":[{"text":"","logprobs":{"content":[{"id":-3,"logprob":-1}]}}]}`, "token id -3 out of range"},
		{"huge id", APIChat, `{"choices":[{"message":{"content":""},"logprobs":{"content":[{"id":4294967296,"logprob":-1}]}}]}`, "out of range"},
		{"native no content", APINative, `{"tokens":[1]}`, "no content"},
		{"native lengths", APINative, `{"content":"","tokens":[1,2],"completion_probabilities":[{"id":1,"logprob":-1}]}`, "2 tokens but 1"},
		{"native error", APINative, `{"error":{"message":"slot unavailable"}}`, "server error: slot unavailable"},
		{"wrong type", APICompletions, `{"choices":"yes"}`, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec format.Record
			_, err := parse(tt.api, []byte(tt.body), 2, &rec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseNativeWithoutProbs(t *testing.T) {
	var rec format.Record
	if _, err := parse(APINative, []byte(`{"content":" hi","tokens":[5,6],"stop_type":"eos"}`), 2, &rec); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rec.Tokens, []int32{5, 6}) || rec.Logprobs != nil || rec.TopK != 0 || rec.Finish != "stop" || rec.Text != " hi" {
		t.Fatalf("%+v", rec)
	}
}

func TestServerMessage(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"error":{"code":500,"message":"boom","type":"server_error"}}`, "boom"},
		{`{"error":"model not found"}`, "model not found"},
		{`{"detail":"Not Found"}`, "Not Found"},
		{"<html>\n<h1>502 Bad Gateway</h1>", "<html>"},
		{strings.Repeat("x", 500), strings.Repeat("x", 200) + "..."},
		{"", ""},
	}
	for _, tt := range tests {
		if got := serverMessage([]byte(tt.body)); got != tt.want {
			t.Errorf("serverMessage(%.30q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}
