package format

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends r as one line of JSON, the one JSON shape of a record
// in every tool (potstat --records prints it): the fields by their
// lower-case names, empty ones left out, the top-k alternatives as one
// array per position, latency in milliseconds, the trusted log-likelihood
// as loglik when the record is scored and the alternatives' as loglik_alt
// (potgen score --alt), and -Inf (padding) and NaN as null,
// since JSON has neither. It is written by hand for speed.
//
// What identifies each token across backends, its bytes, is in
// token_bytes (one per position) and top_bytes (one row per position),
// whether the record holds them itself (a backend without ids) or names
// its ids in a table (Pieces): a token's bytes are a string when they are
// valid UTF-8, else an array of byte values (a piece of a character), and
// null when unknown (padding, or an id the table lacks).
func (r *Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"index":`...)
	b = strconv.AppendUint(b, r.Index, 10)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, r.ID)
	b = append(b, `,"sample":`...)
	b = strconv.AppendUint(b, uint64(r.Sample), 10)
	b = append(b, `,"seed":`...)
	b = strconv.AppendUint(b, r.Seed, 10)
	if r.Prompt != "" {
		b = appendJSONString(append(b, `,"prompt":`...), r.Prompt)
	}
	if len(r.Tokens) > 0 {
		b = appendJSONInts(append(b, `,"tokens":`...), r.Tokens)
	}
	if len(r.Logprobs) > 0 {
		b = appendJSONFloats(append(b, `,"logprobs":`...), r.Logprobs)
	}
	if n := max(len(r.TokenBytes), len(r.Tokens)); n > 0 && (len(r.TokenBytes) > 0 || r.Pieces.Len() > 0) {
		b = append(b, `,"token_bytes":[`...)
		for i := range n {
			if i > 0 {
				b = append(b, ',')
			}
			piece, ok := r.Bytes(i)
			b = appendJSONPiece(b, piece, ok)
		}
		b = append(b, ']')
	}
	if r.TopK > 0 {
		b = r.appendJSONTop(b)
	}
	if r.Text != "" {
		b = appendJSONString(append(b, `,"text":`...), r.Text)
	}
	if r.Finish != "" {
		b = appendJSONString(append(b, `,"finish":`...), r.Finish)
	}
	if r.Latency != 0 {
		b = strconv.AppendFloat(append(b, `,"latency_ms":`...), r.Latency.Seconds()*1000, 'f', -1, 64)
	}
	if r.Attempts != 0 {
		b = strconv.AppendInt(append(b, `,"attempts":`...), int64(r.Attempts), 10)
	}
	if r.Err != "" {
		b = appendJSONString(append(b, `,"error":`...), r.Err)
	}
	if r.Scored {
		b = append(b, `,"loglik":`...)
		if math.IsInf(r.Loglik, 0) || math.IsNaN(r.Loglik) {
			b = append(b, "null"...)
		} else {
			b = strconv.AppendFloat(b, r.Loglik, 'g', -1, 64)
		}
	}
	if len(r.AltLogliks) > 0 {
		b = append(b, `,"loglik_alt":[`...)
		for i, v := range r.AltLogliks {
			if i > 0 {
				b = append(b, ',')
			}
			if math.IsInf(v, 0) || math.IsNaN(v) {
				b = append(b, "null"...)
			} else {
				b = strconv.AppendFloat(b, v, 'g', -1, 64)
			}
		}
		b = append(b, ']')
	}
	return append(b, "}\n"...)
}

// appendJSONTop appends the top-k alternatives: their ids, log-probabilities
// and bytes, a row per position.
func (r *Record) appendJSONTop(b []byte) []byte {
	b = strconv.AppendInt(append(b, `,"top_k":`...), int64(r.TopK), 10)
	if len(r.TopTokens) > 0 {
		b = appendJSONRows(append(b, `,"top_tokens":`...), r.TopTokens, r.TopK, appendJSONInts)
	}
	if len(r.TopLogprobs) > 0 {
		b = appendJSONRows(append(b, `,"top_logprobs":`...), r.TopLogprobs, r.TopK, appendJSONFloats)
	}
	if n := max(len(r.TopBytes), len(r.TopTokens)) / r.TopK; n > 0 && (len(r.TopBytes) > 0 || r.Pieces.Len() > 0) {
		b = append(b, `,"top_bytes":[`...)
		for i := range n {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			for j := range r.TopK {
				if j > 0 {
					b = append(b, ',')
				}
				piece, ok := r.TopBytesAt(i, j)
				b = appendJSONPiece(b, piece, ok)
			}
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	return b
}

// appendJSONRows writes v as an array of rows of k, one per position.
func appendJSONRows[T any](b []byte, v []T, k int, row func([]byte, []T) []byte) []byte {
	b = append(b, '[')
	for i := 0; i+k <= len(v); i += k {
		if i > 0 {
			b = append(b, ',')
		}
		b = row(b, v[i:i+k])
	}
	return append(b, ']')
}

func appendJSONInts(b []byte, v []int32) []byte {
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return append(b, ']')
}

// appendJSONFloats writes float32 values in their shortest form; JSON has no
// infinities nor NaN, so those are null.
func appendJSONFloats(b []byte, v []float32) []byte {
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsInf(float64(x), 0) || math.IsNaN(float64(x)) {
			b = append(b, "null"...)
			continue
		}
		b = strconv.AppendFloat(b, float64(x), 'g', -1, 32)
	}
	return append(b, ']')
}

// appendJSONPiece writes a token's bytes: a string when they are valid
// UTF-8, else the array of their byte values, and null when not known.
func appendJSONPiece(b []byte, piece string, known bool) []byte {
	switch {
	case !known:
		return append(b, "null"...)
	case utf8.ValidString(piece):
		return appendJSONString(b, piece)
	}
	b = append(b, '[')
	for i := 0; i < len(piece); i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(piece[i]), 10)
	}
	return append(b, ']')
}

const jsonHex = "0123456789abcdef"

// appendJSONString writes s as a JSON string. Invalid UTF-8, which the format
// never hands out, would become U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', jsonHex[c>>4], jsonHex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but not valid JavaScript source: escape them as
			// encoding/json does.
			b = append(b, `\u202`...)
			b = append(b, jsonHex[r&0xf])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// MarshalJSON renders r as AppendJSON does, without the newline.
func (r *Record) MarshalJSON() ([]byte, error) {
	b := r.AppendJSON(nil)
	return b[:len(b)-1], nil
}

// jsonRecord is the JSON shape of a record as encoding/json reads it.
type jsonRecord struct {
	Index       uint64        `json:"index"`
	ID          string        `json:"id"`
	Sample      uint32        `json:"sample"`
	Seed        uint64        `json:"seed"`
	Prompt      string        `json:"prompt"`
	Tokens      []int32       `json:"tokens"`
	Logprobs    []*float32    `json:"logprobs"`
	TopK        int           `json:"top_k"`
	TopTokens   [][]int32     `json:"top_tokens"`
	TopLogprobs [][]*float32  `json:"top_logprobs"`
	TokenBytes  []jsonPiece   `json:"token_bytes"`
	TopBytes    [][]jsonPiece `json:"top_bytes"`
	Text        string        `json:"text"`
	Finish      string        `json:"finish"`
	LatencyMS   float64       `json:"latency_ms"`
	Attempts    int           `json:"attempts"`
	Error       string        `json:"error"`
	Loglik      *float64      `json:"loglik"`
	AltLogliks  []*float64    `json:"loglik_alt"`
}

// UnmarshalJSON reads a record in the shape AppendJSON writes; null
// log-probabilities and alternative log-likelihoods read as -Inf.
func (r *Record) UnmarshalJSON(data []byte) error {
	var j jsonRecord
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*r = Record{Index: j.Index, ID: j.ID, Sample: j.Sample, Seed: j.Seed, Prompt: j.Prompt, Tokens: j.Tokens,
		Logprobs: unnull(nil, j.Logprobs), TopK: j.TopK, Text: j.Text, Finish: j.Finish, Attempts: j.Attempts, Err: j.Error,
		Latency: time.Duration(math.Round(j.LatencyMS * float64(time.Millisecond)))}
	if j.Loglik != nil {
		r.Loglik, r.Scored = *j.Loglik, true
	}
	for _, v := range j.AltLogliks {
		if v == nil {
			r.AltLogliks = append(r.AltLogliks, math.Inf(-1))
			continue
		}
		r.AltLogliks = append(r.AltLogliks, *v)
	}
	for _, row := range j.TopTokens {
		r.TopTokens = append(r.TopTokens, row...)
	}
	for _, row := range j.TopLogprobs {
		r.TopLogprobs = unnull(r.TopLogprobs, row)
	}
	var top []jsonPiece
	for _, row := range j.TopBytes {
		top = append(top, row...)
	}
	if len(r.Tokens) == 0 && len(r.TopTokens) == 0 {
		// Tokens named by their bytes alone.
		for _, p := range j.TokenBytes {
			r.TokenBytes = append(r.TokenBytes, p.bytes)
		}
		for _, p := range top {
			r.TopBytes = append(r.TopBytes, p.bytes)
		}
		return nil
	}
	// Ids with their bytes: a table of the ids this record names.
	for _, side := range []struct {
		ids    []int32
		pieces []jsonPiece
	}{{r.Tokens, j.TokenBytes}, {r.TopTokens, top}} {
		for i, p := range side.pieces {
			if !p.known || i >= len(side.ids) {
				continue
			}
			if r.Pieces == nil {
				r.Pieces = NewPieces()
			}
			if !r.Pieces.Add(side.ids[i], p.bytes) {
				return fmt.Errorf("format: token %d stands for two byte strings in one record", side.ids[i])
			}
		}
	}
	return nil
}

// jsonPiece is a token's bytes as AppendJSON writes them: a string, an
// array of byte values, or null (not known).
type jsonPiece struct {
	bytes string
	known bool
}

func (p *jsonPiece) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*p = jsonPiece{}
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*p = jsonPiece{s, true}
		return nil
	}
	var vals []int
	if err := json.Unmarshal(data, &vals); err != nil {
		return fmt.Errorf("format: token bytes %s: want a string, an array of bytes or null", data)
	}
	raw := make([]byte, len(vals))
	for i, v := range vals {
		if v < 0 || v > 255 {
			return fmt.Errorf("format: token bytes %s: %d is not a byte", data, v)
		}
		raw[i] = byte(v)
	}
	*p = jsonPiece{string(raw), true}
	return nil
}

// unnull appends v to dst, null as -Inf.
func unnull(dst []float32, v []*float32) []float32 {
	for _, x := range v {
		if x == nil {
			dst = append(dst, float32(math.Inf(-1)))
			continue
		}
		dst = append(dst, *x)
	}
	return dst
}
