package openai

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/model"
)

// response covers /v1/completions and /v1/chat/completions as llama-server,
// vLLM and OpenAI answer them.
type response struct {
	Choices []struct {
		Text    *string `json:"text"`
		Message *struct {
			Content *string `json:"content"`
		} `json:"message"`
		FinishReason *string   `json:"finish_reason"`
		Logprobs     *logprobs `json:"logprobs"`
	} `json:"choices"`
	SystemFingerprint string          `json:"system_fingerprint"`
	Error             json.RawMessage `json:"error"`
}

// logprobs holds both shapes: content[] (llama-server, OpenAI chat) and
// OpenAI's legacy completions arrays (tokens, token_logprobs, top_logprobs
// as {token: logprob} maps), which vLLM also uses.
type logprobs struct {
	Content       []tokenProb          `json:"content"`
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []*float64           `json:"token_logprobs"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
}

// tokenProb is one position of the content[] shape, and one alternative in
// its top_logprobs. OpenAI's chat gives no id; llama-server and OpenAI give
// the token's bytes, which the token string may not render faithfully (a
// token holding part of a UTF-8 character).
type tokenProb struct {
	ID          *int64      `json:"id"`
	Token       string      `json:"token"`
	Bytes       []byte      `json:"bytes"` // a JSON array of numbers
	Logprob     *float64    `json:"logprob"`
	TopLogprobs []tokenProb `json:"top_logprobs"`
}

// bytesOf is the token's bytes: its bytes field, or else its string.
func (t *tokenProb) bytesOf() string {
	if t.Bytes != nil {
		return string(t.Bytes)
	}
	return model.TokenString(t.Token)
}

// nativeResponse is llama-server's POST /completion answer.
type nativeResponse struct {
	Content       *string         `json:"content"`
	Tokens        []int64         `json:"tokens"`
	StopType      string          `json:"stop_type"`
	Probabilities []tokenProb     `json:"completion_probabilities"`
	Error         json.RawMessage `json:"error"`
}

// parse reads a 2xx body of the given api into rec's output fields, keeping
// k alternatives per position, and returns the response's
// system_fingerprint. The bytes of the tokens go to a table of this answer
// alone (rec.Pieces) when they have ids, to TokenBytes and TopBytes when
// they have none.
func parse(api string, data []byte, k int, rec *format.Record) (string, error) {
	k = max(k, 0)
	if api == APINative {
		var r nativeResponse
		if err := json.Unmarshal(data, &r); err != nil {
			return "", err
		}
		if len(r.Error) > 0 && string(r.Error) != "null" {
			return "", fmt.Errorf("server error: %s", serverMessage(data))
		}
		if r.Content == nil {
			return "", errors.New("no content")
		}
		rec.Text = *r.Content
		rec.Finish = nativeFinish(r.StopType)
		if len(r.Probabilities) > 0 {
			if len(r.Tokens) > 0 && len(r.Tokens) != len(r.Probabilities) {
				return "", fmt.Errorf("%d tokens but %d completion_probabilities", len(r.Tokens), len(r.Probabilities))
			}
			return "", fillContent(r.Probabilities, k, rec)
		}
		ids, err := int32s(r.Tokens)
		rec.Tokens = ids
		return "", err
	}
	var r response
	if err := json.Unmarshal(data, &r); err != nil {
		return "", err
	}
	if len(r.Choices) == 0 {
		if len(r.Error) > 0 && string(r.Error) != "null" {
			return "", fmt.Errorf("server error: %s", serverMessage(data))
		}
		return "", errors.New("no choices")
	}
	ch := r.Choices[0]
	switch {
	case ch.Text != nil:
		rec.Text = *ch.Text
	case ch.Message != nil && ch.Message.Content != nil:
		rec.Text = *ch.Message.Content
	case ch.Message != nil:
		// A chat answer with content null: nothing generated.
	default:
		return "", errors.New("choice has neither text nor message")
	}
	if ch.FinishReason != nil {
		rec.Finish = *ch.FinishReason
	}
	lp := ch.Logprobs
	switch {
	case lp == nil:
		return r.SystemFingerprint, nil
	case lp.Content != nil:
		return r.SystemFingerprint, fillContent(lp.Content, k, rec)
	default:
		return r.SystemFingerprint, fillLegacy(lp, k, rec)
	}
}

// nativeFinish maps llama-server's stop_type to finish_reason's words.
func nativeFinish(s string) string {
	switch s {
	case "limit":
		return "length"
	case "eos", "word":
		return "stop"
	case "none":
		return ""
	}
	return s
}

// fillContent reads the content[] shape. Token ids are kept only when every
// position has one (and every alternative, for TopTokens): records carry
// ids for all positions or for none.
func fillContent(items []tokenProb, k int, rec *format.Record) error {
	n := len(items)
	if n == 0 {
		return nil
	}
	ids := true
	for _, it := range items {
		ids = ids && it.ID != nil
	}
	rec.Logprobs = make([]float32, n)
	if ids {
		rec.Tokens = make([]int32, n)
		rec.Pieces = format.NewPieces()
	} else {
		rec.TokenBytes = make([]string, n)
	}
	anyTop, topIDs := false, true
	for i, it := range items {
		rec.Logprobs[i] = logprob(it.Logprob)
		if ids {
			id, err := int32Of(*it.ID)
			if err != nil {
				return fmt.Errorf("position %d: %w", i, err)
			}
			rec.Tokens[i] = id
			if err := model.AddPiece(rec.Pieces, id, it.bytesOf()); err != nil {
				return fmt.Errorf("position %d: %w", i, err)
			}
		} else {
			rec.TokenBytes[i] = it.bytesOf()
		}
		for _, t := range it.TopLogprobs {
			anyTop = true
			topIDs = topIDs && t.ID != nil
		}
	}
	if k == 0 || !anyTop {
		return nil
	}
	rec.TopK = k
	rec.TopLogprobs = make([]float32, n*k)
	if topIDs {
		rec.TopTokens = make([]int32, n*k)
		if rec.Pieces == nil {
			rec.Pieces = format.NewPieces()
		}
	} else {
		rec.TopBytes = make([]string, n*k)
	}
	for i, it := range items {
		alts := it.TopLogprobs
		// Servers list alternatives most likely first; sorting makes that
		// a guarantee rather than an assumption.
		sort.SliceStable(alts, func(a, b int) bool { return logprob(alts[a].Logprob) > logprob(alts[b].Logprob) })
		for j := range k {
			lp, id := float32(math.Inf(-1)), int32(-1)
			if j < len(alts) {
				lp = logprob(alts[j].Logprob)
				if topIDs {
					var err error
					if id, err = int32Of(*alts[j].ID); err == nil {
						err = model.AddPiece(rec.Pieces, id, alts[j].bytesOf())
					}
					if err != nil {
						return fmt.Errorf("position %d alternative %d: %w", i, j, err)
					}
				} else {
					rec.TopBytes[i*k+j] = alts[j].bytesOf()
				}
			}
			rec.TopLogprobs[i*k+j] = lp
			if topIDs {
				rec.TopTokens[i*k+j] = id
			}
		}
	}
	return nil
}

// fillLegacy reads OpenAI's legacy completions shape, which has token
// strings but no ids: the strings are the tokens' bytes.
func fillLegacy(lp *logprobs, k int, rec *format.Record) error {
	n := len(lp.TokenLogprobs)
	if len(lp.Tokens) != n {
		return fmt.Errorf("%d tokens but %d token_logprobs", len(lp.Tokens), n)
	}
	if len(lp.TopLogprobs) != 0 && len(lp.TopLogprobs) != n {
		return fmt.Errorf("%d tokens but %d top_logprobs", n, len(lp.TopLogprobs))
	}
	rec.Logprobs = make([]float32, n)
	if n > 0 {
		rec.TokenBytes = make([]string, n)
	}
	for i, p := range lp.TokenLogprobs {
		rec.Logprobs[i] = logprob(p)
		rec.TokenBytes[i] = model.TokenString(lp.Tokens[i])
	}
	if k == 0 || len(lp.TopLogprobs) == 0 {
		return nil
	}
	rec.TopK = k
	rec.TopLogprobs = make([]float32, n*k)
	rec.TopBytes = make([]string, n*k)
	type alt struct {
		tok string
		lp  float64
	}
	var alts []alt
	for i, m := range lp.TopLogprobs {
		alts = alts[:0]
		for t, p := range m {
			alts = append(alts, alt{t, p})
		}
		// A map has no order: most likely first, ties by token so that the
		// same answer always flattens the same way.
		sort.Slice(alts, func(a, b int) bool {
			if alts[a].lp != alts[b].lp {
				return alts[a].lp > alts[b].lp
			}
			return alts[a].tok < alts[b].tok
		})
		for j := range k {
			v := float32(math.Inf(-1))
			if j < len(alts) {
				v = float32(alts[j].lp)
				rec.TopBytes[i*k+j] = model.TokenString(alts[j].tok)
			}
			rec.TopLogprobs[i*k+j] = v
		}
	}
	return nil
}

// logprob converts a reported log-probability; a null one (OpenAI gives
// null for an echoed first token) is NaN, unknown rather than impossible.
func logprob(p *float64) float32 {
	if p == nil {
		return float32(math.NaN())
	}
	return float32(*p)
}

func int32Of(v int64) (int32, error) {
	if v < 0 || v > math.MaxInt32 {
		return 0, fmt.Errorf("token id %d out of range", v)
	}
	return int32(v), nil
}

func int32s(vs []int64) ([]int32, error) {
	if len(vs) == 0 {
		return nil, nil
	}
	out := make([]int32, len(vs))
	for i, v := range vs {
		id, err := int32Of(v)
		if err != nil {
			return nil, fmt.Errorf("position %d: %w", i, err)
		}
		out[i] = id
	}
	return out, nil
}
