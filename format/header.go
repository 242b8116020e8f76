package format

import "time"

// Name is the format name written at the start of every segment.
const Name = "pot"

// Version is the format version this package writes. Readers accept every
// version from 1 to Version; see FORMAT.md for how versions evolve.
const Version = 1

// Kind says what a stream's records are.
type Kind uint8

// The stream kinds. All other values are invalid.
const (
	KindChallenges Kind = 1 // records carry prompts and seeds, no outputs
	KindOutputs    Kind = 2 // records carry a model's outputs
)

func (k Kind) String() string {
	switch k {
	case KindChallenges:
		return "challenges"
	case KindOutputs:
		return "outputs"
	}
	return "invalid"
}

// Header describes one segment of a stream. The secret key is never a
// field: only its commitment is.
type Header struct {
	Kind       Kind
	Challenges ChallengeSet
	Model      Model    // zero for a challenge stream
	Sampling   Sampling // zero for a challenge stream
	Shard      Shard
	Created    time.Time // set by the caller; the format never reads the clock
	Tool       string    // name and version of the tool that wrote the segment
	Labels     map[string]string
}

// ChallengeSet identifies the challenge set a stream was made from.
type ChallengeSet struct {
	ID            string // short id of (commitment, run id, family, prompts digest)
	Commitment    string // hex hash of the key under a fixed label; published before an audit
	RunID         string // draws distinct sets from one key
	Family        string // prompt source: a template family name, or "prompts"
	PromptsDigest string // sha256 of a user's prompt file, when Family is "prompts"
	Count         int    // number of challenges in the set
}

// Model identifies the model that produced an outputs stream.
type Model struct {
	Backend     string // synth, llama2c, gguf, openai, exec
	Name        string // the model's name as given by the user or the server
	Digest      string // sha256 of the weights file, when known
	Vocab       string // digest of the vocabulary: token ids compare only under equal Vocab
	Fingerprint string // what a server says of itself (system_fingerprint)
	Build       string // server build information
	Perturb     string // a perturbation applied to local weights, if any
	Meta        map[string]string
}

// Sampling holds the generation parameters of an outputs stream.
type Sampling struct {
	Temperature float64 // 0 is greedy
	TopP        float64 // 0 or 1 is off
	TopK        int     // 0 is off
	MaxTokens   int
	Logprobs    int    // alternatives recorded per position (top-k), 0 for none
	Samples     int    // samples per challenge
	Seed        uint64 // base seed mixed into every sample's seed
	// LogprobsOf says which distribution log-probabilities are taken from:
	// "raw" is the model's softmax before temperature and truncation.
	LogprobsOf string
	Endpoint   string // for servers: which API was used (completions, chat, native)
}

// Shard records which part of a larger stream a segment holds.
type Shard struct {
	Index int    // 0-based shard index
	Count int    // number of shards, 0 when the stream is not a shard
	By    string // "challenge" (hash of the challenge id), "records" or "size"
}
