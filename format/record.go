package format

import "time"

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

	Text     string
	Finish   string        // stop, length, error, ...
	Latency  time.Duration // wall time of the query that produced the record
	Attempts int           // queries made for this record, retries included
	Err      string        // the backend's error after its retries; the record is then a failure
}

// Positions is the number of generated positions the record describes.
func (r *Record) Positions() int {
	if len(r.Tokens) > len(r.Logprobs) {
		return len(r.Tokens)
	}
	return len(r.Logprobs)
}
