package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/model"
)

// Every recorded llama-server answer gives each token's id and bytes; the
// record keeps the bytes of every id it holds.
func TestParseFixtureBytes(t *testing.T) {
	for _, name := range []string{"v1-completions-greedy", "v1-completions-seed42", "v1-chat-completions", "native-completion"} {
		t.Run(name, func(t *testing.T) {
			api := map[string]string{"v1-chat-completions": APIChat, "native-completion": APINative}[name]
			if api == "" {
				api = APICompletions
			}
			data := fixture(t, name+".response.json")
			var rec format.Record
			if _, err := parse(api, data, 2, &rec); err != nil {
				t.Fatal(err)
			}
			var raw struct {
				Choices []struct {
					Logprobs struct{ Content []tokenProb }
				}
				Probs []tokenProb `json:"completion_probabilities"`
			}
			json.Unmarshal(data, &raw)
			items := raw.Probs
			if len(raw.Choices) > 0 {
				items = raw.Choices[0].Logprobs.Content
			}
			if len(items) == 0 || len(rec.Tokens) != len(items) || rec.Pieces == nil || rec.TokenBytes != nil {
				t.Fatalf("%d items, record %+v", len(items), rec)
			}
			for i, it := range items {
				if b, ok := rec.Bytes(i); !ok || b != string(it.Bytes) {
					t.Errorf("position %d: %q, %v; want %q", i, b, ok, it.Bytes)
				}
				for j := range min(2, len(it.TopLogprobs)) {
					if b, ok := rec.TopBytesAt(i, j); !ok || b != string(it.TopLogprobs[j].Bytes) {
						t.Errorf("position %d alternative %d: %q, %v", i, j, b, ok)
					}
				}
			}
		})
	}
}

func TestParseLegacyBytes(t *testing.T) {
	var rec format.Record
	if _, err := parse(APICompletions, []byte(legacyCompletion), 2, &rec); err != nil {
		t.Fatal(err)
	}
	// Alternatives most likely first, as their log-probabilities are.
	if !slices.Equal(rec.TokenBytes, []string{",", " there", " was"}) ||
		!slices.Equal(rec.TopBytes, []string{",", " and", " there", " in", " was", ""}) || rec.Pieces != nil {
		t.Fatalf("token bytes %q, top %q", rec.TokenBytes, rec.TopBytes)
	}
	if _, ok := rec.TopBytesAt(2, 1); ok {
		t.Error("padding has bytes")
	}
	for in, want := range map[string]string{
		`bytes:\xe2\x80`: "\xe2\x80", "bytes:": "bytes:", `bytes:\xzz`: `bytes:\xzz`, "plain": "plain", `bytes:\xe2x`: `bytes:\xe2x`,
	} {
		if got := model.TokenString(in); got != want {
			t.Errorf("TokenString(%q) = %q, want %q", in, got, want)
		}
	}
}

// OpenAI's chat gives bytes but no ids: the bytes field, not the token
// string, is the token.
func TestParseChatBytes(t *testing.T) {
	var rec format.Record
	if _, err := parse(APIChat, []byte(openAIChat), 2, &rec); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rec.TokenBytes, []string{"Hi", " "}) || !slices.Equal(rec.TopBytes, []string{"Hi", "H", "!", " "}) {
		t.Fatalf("token bytes %q, top %q", rec.TokenBytes, rec.TopBytes)
	}
}

// An answer or a server that gives one id two byte strings fails the query
// rather than writing records that mean two things by one id.
func TestInconsistentBytes(t *testing.T) {
	answer := func(piece string) string {
		return fmt.Sprintf(`{"choices":[{"text":%q,"logprobs":{"content":[{"id":7,"token":%q,"logprob":-1}]}}]}`, piece, piece)
	}
	var rec format.Record
	twice := `{"choices":[{"text":"ab","logprobs":{"content":[{"id":7,"token":"a","logprob":-1},{"id":7,"token":"b","logprob":-1}]}}]}`
	if _, err := parse(APICompletions, []byte(twice), 0, &rec); err == nil {
		t.Error("one answer giving id 7 two byte strings parsed")
	}
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			http.NotFound(w, r)
			return
		}
		io.Copy(io.Discard, r.Body)
		if n.Add(1) == 1 {
			io.WriteString(w, answer(" the"))
		} else {
			io.WriteString(w, answer(" dog"))
		}
	}))
	defer srv.Close()
	o := options()
	o.Retries = -1
	c := openSpec(t, "openai:"+srv.URL, o)
	var first, second format.Record
	if err := c.Generate(context.Background(), model.Query{Prompt: "p"}, &first); err != nil {
		t.Fatal(err)
	}
	err := c.Generate(context.Background(), model.Query{Prompt: "p"}, &second)
	if err == nil || !strings.Contains(err.Error(), "token 7") {
		t.Fatalf("second answer with other bytes for id 7: %v", err)
	}
	if b, _ := first.Bytes(0); b != " the" {
		t.Errorf("first record's token 7 reads %q", b)
	}
}

// A server that echoes the API key in everything it says, in a successful
// answer: nothing of it reaches a record, the header or the stream.
func TestKeyNotWritten(t *testing.T) {
	const key = "sk-pot-echo-0123456789abcdefSECRET"
	for _, api := range []string{APICompletions, APIChat, APINative} {
		t.Run(api, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				piece := func(id int, s string) string {
					ints := make([]int, len(s))
					for i := range len(s) {
						ints[i] = int(s[i])
					}
					b, _ := json.Marshal(ints)
					return fmt.Sprintf(`{"id":%d,"token":%q,"bytes":%s,"logprob":-0.5,"top_logprobs":[{"id":%d,"token":%q,"bytes":%s,"logprob":-0.5}]}`, id, s, b, id+100, key, b)
				}
				// The key in the text, spelt across two tokens, and whole in
				// an alternative's token string.
				content := "[" + piece(1, key[:10]) + "," + piece(2, key[10:]) + "]"
				switch {
				case r.URL.Path == "/props":
					io.WriteString(w, `{"build_info":"b1-`+key+`","model_path":"/m/`+key+`.gguf"}`)
				case r.URL.Path == "/v1/models":
					io.WriteString(w, `{"data":[{"id":"model-`+key+`","owned_by":"`+key+`","meta":{"n_vocab":512,"note":"`+key+`"}}]}`)
				case api == APINative:
					io.WriteString(w, `{"content":"`+key+`","stop_type":"`+key+`","completion_probabilities":`+content+`}`)
				case api == APIChat:
					io.WriteString(w, `{"system_fingerprint":"fp-`+key+`","choices":[{"finish_reason":"`+key+`","message":{"content":"said `+key+`"},"logprobs":{"content":`+content+`}}]}`)
				default:
					io.WriteString(w, `{"system_fingerprint":"fp-`+key+`","choices":[{"finish_reason":"`+key+`","text":"said `+key+`","logprobs":{"content":`+content+`}}]}`)
				}
			}))
			defer srv.Close()
			o := options()
			o.Getenv = func(name string) string {
				if name == DefaultAPIKeyEnv {
					return key
				}
				return ""
			}
			c := openSpec(t, "openai:"+srv.URL+",api="+api, o)
			var rec format.Record
			if err := c.Generate(context.Background(), model.Query{Prompt: "p", Sampling: format.Sampling{Logprobs: 1}}, &rec); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(rec.Text, "[redacted]") {
				t.Errorf("text %q: the echo did not reach the record", rec.Text)
			}
			var buf bytes.Buffer
			w, err := format.NewWriter(&buf, format.Header{Kind: format.KindOutputs, Model: c.Info()})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(&rec); err != nil {
				t.Fatal(err)
			}
			w.Close()
			r, err := format.NewReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Read()
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for i := range got.Positions() {
				b, _ := got.Bytes(i)
				all = append(all, b)
				for j := range got.TopK {
					b, _ := got.TopBytesAt(i, j)
					all = append(all, b)
				}
			}
			seen := fmt.Sprintf("%+v %+v %q", r.Header(), got, strings.Join(all, ""))
			for _, part := range []string{key, key[:12], key[10:]} {
				if strings.Contains(seen, part) {
					t.Errorf("%q written: %s", part, seen)
				}
			}
		})
	}
}
