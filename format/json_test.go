package format

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "new\nline\ttab\rcr", "\x00\x01\x1f\x7f", "日本語 🙂", "line\u2028sep\u2029", "<html>&amp;", "bad \xff utf8"} {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q: %v: %s", s, err, b)
		}
		want := string([]rune(s)) // each invalid byte becomes U+FFFD
		if got != want {
			t.Errorf("%q round-trips as %q", s, got)
		}
	}
}

// FuzzAppendJSONString: whatever the string, the output is JSON that decodes
// to it (invalid UTF-8 replaced).
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `"\`, "\n\t\r\x00\x7f", "日本語 🙂", "\u2028\u2029", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got string
		if err := json.Unmarshal(appendJSONString(nil, s), &got); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if want := string([]rune(s)); got != want { // each invalid byte becomes U+FFFD
			t.Fatalf("%q decodes as %q, want %q", s, got, want)
		}
	})
}

// A record goes through its JSON shape and back unchanged, -Inf padding
// and the top-k rows included, and encoding/json writes the same line.
func TestRecordJSONRoundTrip(t *testing.T) {
	recs := []Record{
		{},
		{Index: 7, ID: "00ff", Sample: 2, Seed: 1 << 63, Prompt: "p \"q\"", Tokens: []int32{1, 2}, Logprobs: []float32{-0.5, float32(math.Inf(-1))},
			TopK: 2, TopTokens: []int32{1, 3, 2, -1}, TopLogprobs: []float32{-0.5, -1, -0.25, float32(math.Inf(-1))},
			Text: "<b>&", Finish: "length", Latency: 1500 * time.Microsecond, Attempts: 2},
		{Index: 1, ID: "x", Err: "backend: 503", Finish: "error", Attempts: 3},
	}
	for _, r := range recs {
		line := r.AppendJSON(nil)
		var back Record
		if err := json.Unmarshal(line, &back); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Errorf("%s reads back as\n%+v, want\n%+v", line, back, r)
		}
		var m bytes.Buffer
		enc := json.NewEncoder(&m)
		enc.SetEscapeHTML(false) // as the tools write JSON: <stdin> as it is
		if err := enc.Encode(&r); err != nil || m.String() != string(line) {
			t.Errorf("encoding/json: %s, %v; AppendJSON: %s", m.Bytes(), err, line)
		}
	}
}
