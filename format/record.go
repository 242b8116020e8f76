package format

import (
	"math"
	"time"
)

// Record is one element of a stream. A challenge record fills Index, ID,
// Seed and Prompt; an output record fills what its backend could give.
//
// Per-position arrays are parallel: Tokens[i] was chosen with log-probability
// Logprobs[i]. Either may be empty when a backend does not report it (a
// server without token ids still gives Logprobs). The top alternatives are
// flattened: position i's TopK alternatives are TopTokens[i*TopK:(i+1)*TopK]
// and TopLogprobs[i*TopK:(i+1)*TopK], most likely first; a position with fewer
// alternatives pads with token -1 and log-probability -Inf. TopTokens is empty
// when the backend gives no ids.
//
// What a token is, across backends, is its bytes. Where the backend numbers
// tokens, Pieces maps the ids of Tokens and TopTokens to their bytes (as far
// as the backend said); where it names tokens by their bytes but gives no
// ids (OpenAI's legacy completions), TokenBytes and TopBytes hold the bytes
// of each position's chosen token and alternatives instead, parallel to
// Logprobs and TopLogprobs.
type Record struct {
	Index  uint64 // challenge index in the set
	ID     string // challenge id
	Sample uint32 // sample index within the challenge
	Seed   uint64 // sampling seed of this sample (challenge seed for a challenge record)
	Prompt string

	Tokens      []int32
	Logprobs    []float32
	TopK        int
	TopTokens   []int32
	TopLogprobs []float32

	// Pieces maps token ids to bytes; nil when nothing is known. It is
	// shared by many records (a Reader's segment, a backend's answers) and
	// only grows, so a record's view of its own ids never changes.
	Pieces *Pieces
	// TokenBytes and TopBytes name tokens by their bytes when the backend
	// gives no ids: then Tokens and TopTokens are empty, TokenBytes has one
	// entry per position and TopBytes one per alternative (empty for
	// padding). Both are empty when the record has ids.
	TokenBytes []string
	TopBytes   []string

	Text     string
	Finish   string        // stop, length, error, ...
	Latency  time.Duration // wall time of the query that produced the record
	Attempts int           // queries made for this record, retries included
	Err      string        // the backend's error after its retries; the record is then a failure

	// Loglik is the log-likelihood of the output under a trusted model, by
	// teacher forcing (potgen score), when Scored: the statistic that
	// potcmp --score rank ranks. Scored tells a likelihood of 0 (an output
	// of probability 1) from none; a failed or unscorable output has none.
	Loglik float64
	Scored bool
	// AltLogliks are the output's log-likelihoods under the alternative
	// models that potgen score --alt names, in the order of the header's
	// labels loglik.alt.1, loglik.alt.2, ... (teacher forcing on the same
	// tokens as Loglik): the factors of potcmp --score lr. Empty when the
	// stream names no alternative or the output is not Scored.
	AltLogliks []float64
}

// Bytes returns the bytes of the token chosen at position i, when the
// record knows them: from TokenBytes, or from Pieces for the id Tokens[i].
func (r *Record) Bytes(i int) (string, bool) {
	switch {
	case i < 0:
		return "", false
	case i < len(r.TokenBytes):
		return r.TokenBytes[i], true
	case i < len(r.Tokens):
		return r.Pieces.Get(r.Tokens[i])
	}
	return "", false
}

// TopBytesAt returns the bytes of position i's alternative j, when the
// record knows them; padding has none.
func (r *Record) TopBytesAt(i, j int) (string, bool) {
	if i < 0 || j < 0 || j >= r.TopK {
		return "", false
	}
	k := i*r.TopK + j
	switch {
	case k < len(r.TopBytes):
		if r.TopLogprobs != nil && k < len(r.TopLogprobs) && math.IsInf(float64(r.TopLogprobs[k]), -1) && r.TopBytes[k] == "" {
			return "", false
		}
		return r.TopBytes[k], true
	case k < len(r.TopTokens):
		return r.Pieces.Get(r.TopTokens[k])
	}
	return "", false
}

// Positions is the number of generated positions the record describes.
func (r *Record) Positions() int {
	return max(len(r.Tokens), len(r.Logprobs), len(r.TokenBytes))
}
