package format

import (
	"fmt"
	"math"
	"time"
)

// Name is the format name written at the start of every segment.
const Name = "pot"

// Version is the format version this package writes. Readers accept every
// version from 1 to Version; see FORMAT.md for how versions evolve.
const Version = 3

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
	Kind       Kind              `msgpack:"kind,omitempty" json:"kind,omitempty"`
	Challenges ChallengeSet      `msgpack:"challenges,omitempty" json:"challenges,omitempty"`
	Model      Model             `msgpack:"model,omitempty" json:"model,omitempty"`       // zero for a challenge stream
	Sampling   Sampling          `msgpack:"sampling,omitempty" json:"sampling,omitempty"` // zero for a challenge stream
	Shard      Shard             `msgpack:"shard,omitempty" json:"shard,omitempty"`
	Created    time.Time         `msgpack:"created,omitempty" json:"created,omitempty"` // set by the caller; the format never reads the clock
	Tool       string            `msgpack:"tool,omitempty" json:"tool,omitempty"`       // name and version of the tool that wrote the segment
	Labels     map[string]string `msgpack:"labels,omitempty" json:"labels,omitempty"`
}

// ChallengeSet identifies the challenge set a stream was made from.
type ChallengeSet struct {
	ID            string `msgpack:"id,omitempty" json:"id,omitempty"`                         // short id of (commitment, run id, family, prompts digest)
	Commitment    string `msgpack:"commitment,omitempty" json:"commitment,omitempty"`         // hex hash of the key under a fixed label; published before an audit
	RunID         string `msgpack:"run_id,omitempty" json:"run_id,omitempty"`                 // draws distinct sets from one key
	Family        string `msgpack:"family,omitempty" json:"family,omitempty"`                 // prompt source: a template family name, or "prompts"
	PromptsDigest string `msgpack:"prompts_digest,omitempty" json:"prompts_digest,omitempty"` // sha256 of a user's prompt file, when Family is "prompts"
	Count         int    `msgpack:"count,omitempty" json:"count,omitempty"`                   // number of challenges in the set
}

// Model identifies the model that produced an outputs stream.
type Model struct {
	Backend     string            `msgpack:"backend,omitempty" json:"backend,omitempty"`         // synth, llama2c, gguf, openai, exec
	Name        string            `msgpack:"name,omitempty" json:"name,omitempty"`               // the model's name as given by the user or the server
	Digest      string            `msgpack:"digest,omitempty" json:"digest,omitempty"`           // sha256 of the weights file, when known
	Vocab       string            `msgpack:"vocab,omitempty" json:"vocab,omitempty"`             // digest of the vocabulary: token ids compare only under equal Vocab
	Fingerprint string            `msgpack:"fingerprint,omitempty" json:"fingerprint,omitempty"` // what a server says of itself (system_fingerprint)
	Build       string            `msgpack:"build,omitempty" json:"build,omitempty"`             // server build information
	Perturb     string            `msgpack:"perturb,omitempty" json:"perturb,omitempty"`         // a perturbation applied to local weights, if any
	Meta        map[string]string `msgpack:"meta,omitempty" json:"meta,omitempty"`
}

// Sampling holds the generation parameters of an outputs stream.
type Sampling struct {
	Temperature float64 `msgpack:"temperature,omitempty" json:"temperature,omitempty"` // 0 is greedy
	TopP        float64 `msgpack:"top_p,omitempty" json:"top_p,omitempty"`             // 0 or 1 is off
	TopK        int     `msgpack:"top_k,omitempty" json:"top_k,omitempty"`             // 0 is off
	MaxTokens   int     `msgpack:"max_tokens,omitempty" json:"max_tokens,omitempty"`
	Logprobs    int     `msgpack:"logprobs,omitempty" json:"logprobs,omitempty"` // alternatives recorded per position (top-k), 0 for none
	Samples     int     `msgpack:"samples,omitempty" json:"samples,omitempty"`   // samples per challenge
	Seed        uint64  `msgpack:"seed,omitempty" json:"seed,omitempty"`         // base seed mixed into every sample's seed
	// LogprobsOf says which distribution log-probabilities are taken from:
	// "raw" is the model's softmax before temperature and truncation.
	LogprobsOf string `msgpack:"logprobs_of,omitempty" json:"logprobs_of,omitempty"`
	Endpoint   string `msgpack:"endpoint,omitempty" json:"endpoint,omitempty"` // for servers: which API was used (completions, chat, native)
}

// Check says what no model can be asked: a temperature that is negative
// or not a number, top-p outside [0, 1], a negative top-k or token count,
// or more alternatives per position than a record holds (MaxTopK).
func (s *Sampling) Check() error {
	switch {
	case !(s.Temperature >= 0) || math.IsInf(s.Temperature, 0):
		return fmt.Errorf("temperature %v: want a finite number >= 0 (0 is greedy)", s.Temperature)
	case !(s.TopP >= 0 && s.TopP <= 1):
		return fmt.Errorf("top-p %v: want a number in [0, 1] (0 or 1 is off)", s.TopP)
	case s.TopK < 0:
		return fmt.Errorf("top-k %d: want 0 (off) or more", s.TopK)
	case s.MaxTokens < 0:
		return fmt.Errorf("max-tokens %d: want 0 or more", s.MaxTokens)
	case s.Logprobs < 0 || s.Logprobs > MaxTopK:
		return fmt.Errorf("logprobs %d: want 0..%d alternatives per position", s.Logprobs, MaxTopK)
	}
	return nil
}

// Shard records which part of a larger stream a segment holds.
type Shard struct {
	Index int    `msgpack:"index,omitempty" json:"index,omitempty"` // 0-based shard index
	Count int    `msgpack:"count,omitempty" json:"count,omitempty"` // number of shards, 0 when the stream is not a shard
	By    string `msgpack:"by,omitempty" json:"by,omitempty"`       // "challenge" (hash of the challenge id), "records" or "size"
}

// MarshalJSON writes the kind by name, for the JSON views of potstat.
func (k Kind) MarshalJSON() ([]byte, error) { return []byte(`"` + k.String() + `"`), nil }

// UnmarshalJSON reads a kind by name.
func (k *Kind) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"challenges"`:
		*k = KindChallenges
	case `"outputs"`:
		*k = KindOutputs
	default:
		return fmt.Errorf("format: unknown stream kind %s", b)
	}
	return nil
}

// Compatible reports why records under headers a and b cannot be mixed in
// one stream, or "" when they can: same kind, same challenge set, same
// model and same sampling. Shard, creation time, tool and labels may differ,
// and so may the challenge count, since a set can be extended.
func Compatible(a, b *Header) string {
	switch {
	case a.Kind != b.Kind:
		return fmt.Sprintf("stream kind %s vs %s", a.Kind, b.Kind)
	case len(a.Challenges.Diff(b.Challenges)) > 0:
		return fmt.Sprintf("challenge set %s vs %s", a.Challenges.ID, b.Challenges.ID)
	}
	ma, mb := a.Model, b.Model
	if ma.Backend != mb.Backend || ma.Name != mb.Name || ma.Digest != mb.Digest || ma.Vocab != mb.Vocab ||
		ma.Fingerprint != mb.Fingerprint || ma.Build != mb.Build || ma.Perturb != mb.Perturb {
		return fmt.Sprintf("model %s vs %s", describeModel(&a.Model), describeModel(&b.Model))
	}
	if a.Sampling != b.Sampling {
		return fmt.Sprintf("sampling %+v vs %+v", a.Sampling, b.Sampling)
	}
	return ""
}

func describeModel(m *Model) string {
	s := m.Backend + ":" + m.Name
	if m.Digest != "" {
		s += " " + m.Digest
	}
	if m.Fingerprint != "" {
		s += " " + m.Fingerprint
	}
	if m.Perturb != "" {
		s += " perturb=" + m.Perturb
	}
	return s
}

// Diff lists the fields in which two challenge sets differ, each as
// `name "a" vs "b"`; it is empty when they are one set. Count is not
// compared, since a set can be extended.
func (c ChallengeSet) Diff(o ChallengeSet) []string {
	var diffs []string
	for _, f := range []struct{ name, a, b string }{
		{"id", c.ID, o.ID},
		{"commitment", c.Commitment, o.Commitment},
		{"run id", c.RunID, o.RunID},
		{"family", c.Family, o.Family},
		{"prompts digest", c.PromptsDigest, o.PromptsDigest},
	} {
		if f.a != f.b {
			diffs = append(diffs, fmt.Sprintf("%s %q vs %q", f.name, f.a, f.b))
		}
	}
	return diffs
}
