package challenge

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/pot-audit/pot/format"
)

// DefaultRunID is the run id of a set when none is given. It is fixed, so
// that one key and n give the same challenges today and next month.
const DefaultRunID = "default"

// MaxRunIDLen bounds a run id, which is copied into every stream header.
const MaxRunIDLen = 128

// ErrRunID is the error a malformed run id wraps.
var ErrRunID = errors.New("challenge: bad run id")

// ErrZeroKey is returned for a Key that was never set: an all-zero key
// would give every user of an uninitialised variable the same set.
var ErrZeroKey = errors.New("challenge: key is the zero value")

// Source supplies the prompts of a set: a built-in template family
// (Templates) or a user's prompt file (ParsePrompts, ReadPromptFile). The
// rules by which a source turns seeds into prompts are part of what a
// verifier re-derives, so the package owns them and the interface is closed.
type Source interface {
	// Family names the source in headers: a template family such as
	// "templates/v1", or "prompts" for a prompt file.
	Family() string
	// Digest is the hex SHA-256 of a prompt file, "" for a template family.
	Digest() string

	// prompter prepares the prompts of challenges 0..n-1 whose seeds seedOf
	// gives, and returns the function that makes challenge i's prompt.
	prompter(n int, seedOf func(i int) seed) (func(i int, s *seed) string, error)
}

// Challenge is one challenge of a set.
type Challenge struct {
	Index  int
	ID     string // short hex id, derived one way from the challenge's secret seed
	Seed   uint64 // the challenge's 64-bit seed; samples mix it with SampleSeed
	Prompt string
}

// SampleSeed returns the seed of sample number sample under the base seed
// base; see the package function SampleSeed.
func (c Challenge) SampleSeed(sample int, base uint64) uint64 {
	return SampleSeed(c.Seed, sample, base)
}

// Set is a challenge set: n challenges derived from a key, a run id and a
// prompt source. Challenges are computed on demand, so a Set is small
// whatever n. A Set is safe for concurrent use.
type Set struct {
	key        Key
	runID      string
	src        Source
	n          int
	commitment string
	id         string
	prompt     func(i int, s *seed) string
}

// NewSet returns the set of n challenges that key draws from src under run
// id runID ("" means DefaultRunID). Challenge i does not depend on n: a
// larger set extends a smaller one.
func NewSet(key Key, runID string, src Source, n int) (*Set, error) {
	if key.isZero() {
		return nil, ErrZeroKey
	}
	if runID == "" {
		runID = DefaultRunID
	}
	if err := checkRunID(runID); err != nil {
		return nil, err
	}
	if src == nil {
		return nil, errors.New("challenge: no prompt source")
	}
	if n <= 0 {
		return nil, fmt.Errorf("challenge: want a positive number of challenges, got %d", n)
	}
	s := &Set{
		key:        key,
		runID:      runID,
		src:        src,
		n:          n,
		commitment: Commitment(key),
	}
	s.id = setID(s.commitment, runID, src.Family(), src.Digest())
	sd := newSeeder(key, runID)
	prompt, err := src.prompter(n, func(i int) seed { return sd.seed(uint64(i)) })
	if err != nil {
		return nil, err
	}
	s.prompt = prompt
	return s, nil
}

// checkRunID keeps run ids printable: they are written into headers and
// messages, and a control character there would be a trap.
func checkRunID(id string) error {
	if len(id) > MaxRunIDLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrRunID, MaxRunIDLen)
	}
	if !utf8.ValidString(id) {
		return fmt.Errorf("%w: not valid UTF-8", ErrRunID)
	}
	for i, r := range id {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%w: unprintable character at byte %d", ErrRunID, i)
		}
	}
	return nil
}

// Len returns the number of challenges in the set.
func (s *Set) Len() int { return s.n }

// RunID returns the set's run id.
func (s *Set) RunID() string { return s.runID }

// Commitment returns the commitment of the set's key.
func (s *Set) Commitment() string { return s.commitment }

// ID returns the set's short id, derived from the commitment, the run id,
// the source's family and its digest. It does not depend on the number of
// challenges, since a larger set extends a smaller one.
func (s *Set) ID() string { return s.id }

// Header returns the set's description for a stream header.
func (s *Set) Header() format.ChallengeSet {
	return format.ChallengeSet{
		ID:            s.id,
		Commitment:    s.commitment,
		RunID:         s.runID,
		Family:        s.src.Family(),
		PromptsDigest: s.src.Digest(),
		Count:         s.n,
	}
}

// Challenge returns challenge i. It panics if i is not in [0, Len()), like
// indexing a slice.
func (s *Set) Challenge(i int) Challenge {
	if i < 0 || i >= s.n {
		panic(fmt.Sprintf("challenge: index %d out of range [0, %d)", i, s.n))
	}
	// A seeder per call keeps the Set safe for concurrent use; its cost
	// is two hash blocks next to the several the prompt needs.
	sd := newSeeder(s.key, s.runID).seed(uint64(i))
	return Challenge{
		Index:  i,
		ID:     challengeID(&sd, s.src.Family(), s.src.Digest()),
		Seed:   sd.seed64(),
		Prompt: s.prompt(i, &sd),
	}
}

// Record returns challenge i as a record of a challenge stream.
func (s *Set) Record(i int) format.Record {
	c := s.Challenge(i)
	return format.Record{Index: uint64(i), ID: c.ID, Seed: c.Seed, Prompt: c.Prompt}
}

// SetFiles names a challenge set by the files it is derived from, as a
// tool's flags give them.
type SetFiles struct {
	Key     string // the secret key file
	N       int    // how many challenges
	Family  string // a built-in prompt family; "" is the default one
	Prompts string // a prompt file, instead of a family
	RunID   string // "" is the default run
}

// OpenSet reads the key file (and the prompt file, if one is named) and
// returns the challenge set they derive.
func OpenSet(f SetFiles) (*Set, error) {
	if f.N <= 0 {
		return nil, fmt.Errorf("-n %d: want a positive number of challenges", f.N)
	}
	if f.Prompts != "" && f.Family != "" {
		return nil, errors.New("--prompts and --family are exclusive")
	}
	key, err := ReadKeyFile(f.Key)
	if err != nil {
		return nil, err
	}
	var src Source
	if f.Prompts != "" {
		pf, err := ReadPromptFile(f.Prompts)
		if err != nil {
			return nil, err
		}
		src = pf
	} else {
		family := f.Family
		if family == "" {
			family = "templates"
		}
		tf, err := Templates(family)
		if err != nil {
			return nil, err
		}
		src = tf
	}
	runID := f.RunID
	if runID == "" {
		runID = "default"
	}
	return NewSet(key, runID, src, f.N)
}
