package format

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

// A record's JSON shows the bytes of its tokens, from its table or its own
// token strings, and reads back to the same tokens: invalid UTF-8 (a piece
// of a character) as an array of byte values, an unknown token as null.
func TestJSONTokenBytes(t *testing.T) {
	inf := float32(math.Inf(-1))
	p := NewPieces()
	p.Add(5, " the")
	p.Add(7, "\xe2\x96")
	p.Add(9, "\"q\"")
	ids := Record{ID: "a", Tokens: []int32{5, 7, 3}, Logprobs: []float32{-1, -2, -3}, TopK: 2,
		TopTokens: []int32{5, 9, 7, -1, 3, 5}, TopLogprobs: []float32{-1, -2, -2, inf, -3, -4}, Pieces: p}
	strs := Record{ID: "b", Logprobs: []float32{-1, -2}, TokenBytes: []string{" the", "\xe2\x96"}, TopK: 2,
		TopBytes: []string{" the", "x", "\xe2\x96", ""}, TopLogprobs: []float32{-1, -2, -2, inf}}
	for _, tc := range []struct {
		rec  Record
		want []string
	}{
		{ids, []string{`"token_bytes":[" the",[226,150],null]`, `"top_bytes":[[" the","\"q\""],[[226,150],null],[null," the"]]`}},
		{strs, []string{`"token_bytes":[" the",[226,150]]`, `"top_bytes":[[" the","x"],[[226,150],null]]`}},
	} {
		line := string(tc.rec.AppendJSON(nil))
		for _, w := range tc.want {
			if !strings.Contains(line, w) {
				t.Errorf("%s lacks %s", line, w)
			}
		}
		var back Record
		if err := json.Unmarshal([]byte(line), &back); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		for i := range tc.rec.Positions() {
			a, okA := tc.rec.Bytes(i)
			b, okB := back.Bytes(i)
			if a != b || okA != okB {
				t.Errorf("%s position %d: %q %v, want %q %v", tc.rec.ID, i, b, okB, a, okA)
			}
			for j := range tc.rec.TopK {
				a, okA := tc.rec.TopBytesAt(i, j)
				b, okB := back.TopBytesAt(i, j)
				if a != b || okA != okB {
					t.Errorf("%s position %d alternative %d: %q %v, want %q %v", tc.rec.ID, i, j, b, okB, a, okA)
				}
			}
		}
		back.Pieces, tc.rec.Pieces = nil, nil
		if !reflect.DeepEqual(back.Tokens, tc.rec.Tokens) || !reflect.DeepEqual(back.TokenBytes, tc.rec.TokenBytes) {
			t.Errorf("read back %+v", back)
		}
	}
	// A record without bytes shows none.
	if line := string((&Record{Tokens: []int32{1}}).AppendJSON(nil)); strings.Contains(line, "bytes") {
		t.Errorf("%s", line)
	}
	var bad Record
	if err := json.Unmarshal([]byte(`{"token_bytes":[{"x":1}]}`), &bad); err == nil {
		t.Error("an object as token bytes: no error")
	}
}
