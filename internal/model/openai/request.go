package openai

import "github.com/pot-audit/pot/internal/model"

// request is the union of the three APIs' request bodies; each API fills
// its own fields and leaves the others out.
type request struct {
	Model        string        `json:"model,omitempty"`
	Prompt       *string       `json:"prompt,omitempty"`
	Messages     []chatMessage `json:"messages,omitempty"`
	MaxTokens    int           `json:"max_tokens,omitempty"`
	NPredict     int           `json:"n_predict,omitempty"`
	Temperature  float64       `json:"temperature"`
	TopP         float64       `json:"top_p,omitempty"`
	TopK         *int          `json:"top_k,omitempty"`
	MinP         *float64      `json:"min_p,omitempty"`
	Seed         uint64        `json:"seed"`
	Logprobs     any           `json:"logprobs,omitempty"` // a count for completions, true for chat
	TopLogprobs  int           `json:"top_logprobs,omitempty"`
	NProbs       int           `json:"n_probs,omitempty"`
	ReturnTokens bool          `json:"return_tokens,omitempty"`
	CachePrompt  *bool         `json:"cache_prompt,omitempty"`
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// request builds the body for q. Unset parameters (top-p 0 or 1, top-k 0,
// max tokens 0) are left out so the server's own default applies, except
// where the server is llama.cpp's and samples: its defaults truncate (top-k
// 40, top-p 0.95, min-p 0.05), so that a stream whose header says "no
// truncation" would hold draws from another distribution, and the sampled
// tests (rank, mmd, lr) would hold a genuine model against it. There every
// truncation is sent, off when the sampling says off.
func (c *client) request(q model.Query) request {
	s := q.Sampling
	r := request{
		Temperature: s.Temperature,
		Seed:        q.Seed & (1<<SeedBits - 1),
	}
	if s.TopP > 0 && s.TopP < 1 {
		r.TopP = s.TopP
	}
	if s.TopK > 0 {
		r.TopK = &s.TopK
	}
	if c.llama && s.Temperature > 0 {
		k, minP := max(s.TopK, 0), 0.0
		r.TopK, r.MinP = &k, &minP
		if r.TopP == 0 {
			r.TopP = 1
		}
	}
	if c.llama {
		// The prompt cache changes log-probabilities in their last digits;
		// repeats must be bit-identical.
		f := false
		r.CachePrompt = &f
	}
	// At least one alternative is asked for even when none is recorded:
	// servers return the chosen token's log-probability only with them.
	k := max(s.Logprobs, 1)
	prompt := q.Prompt
	switch c.api {
	case APIChat:
		r.Model = c.model
		r.Messages = []chatMessage{{Role: "user", Content: prompt}}
		r.MaxTokens = max(s.MaxTokens, 0)
		r.Logprobs = true
		r.TopLogprobs = max(s.Logprobs, 0)
	case APINative:
		r.Prompt = &prompt
		r.NPredict = max(s.MaxTokens, 0)
		r.NProbs = k
		r.ReturnTokens = true
	default:
		r.Model = c.model
		r.Prompt = &prompt
		r.MaxTokens = max(s.MaxTokens, 0)
		r.Logprobs = k
	}
	return r
}
