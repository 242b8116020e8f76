package challenge

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/pot-audit/pot/format"
)

// ErrMismatch is wrapped by every error that finds a header or record that
// the revealed key does not derive.
var ErrMismatch = errors.New("challenge: does not match the key")

// MismatchError reports the first record that the key does not derive.
type MismatchError struct {
	N      int    // the record's position among those checked, from 0
	Index  uint64 // the record's challenge index
	Sample uint32
	Field  string // "index", "id", "seed", "sample" or "prompt"
	Got    string
	Want   string // empty when there is no right value (an index out of range)
}

func (e *MismatchError) Error() string {
	msg := fmt.Sprintf("challenge: record %d (challenge %d, sample %d): %s %s", e.N, e.Index, e.Sample, e.Field, e.Got)
	if e.Want != "" {
		msg += ", want " + e.Want
	}
	return msg
}

// Unwrap returns ErrMismatch.
func (e *MismatchError) Unwrap() error { return ErrMismatch }

// VerifyOption changes what a Verifier expects of records.
type VerifyOption func(*Verifier)

// WithSampleBase makes the Verifier check an outputs stream, whose records
// carry sample seeds: record r's Seed must be SampleSeed(challenge seed,
// r.Sample, base), base being the stream's Sampling.Seed. Without it the
// records are a challenge stream's, whose Seed is the challenge's own and
// whose Sample is 0.
func WithSampleBase(base uint64) VerifyOption {
	return func(v *Verifier) { v.outputs, v.base = true, base }
}

// Verifier checks, once an audit's key is revealed, that a stream's records
// are the challenges the key derives. Records are checked one at a time, so
// a stream of any length can be verified as it is read. A Verifier is not
// safe for concurrent use.
type Verifier struct {
	set     *Set
	outputs bool
	base    uint64
	n       int
	last    struct {
		index uint64
		c     Challenge
		ok    bool
	}
}

// NewVerifier checks the header hdr against key and src, the revealed key
// and the prompt source the set was drawn from (Templates(hdr.Family) or
// the prompt file whose digest the header gives), and returns a Verifier
// for the stream's records.
func NewVerifier(key Key, hdr format.ChallengeSet, src Source, opts ...VerifyOption) (*Verifier, error) {
	if key.isZero() {
		return nil, ErrZeroKey
	}
	if c := Commitment(key); c != hdr.Commitment {
		return nil, fmt.Errorf("%w: commitment %q, the key's is %s", ErrMismatch, hdr.Commitment, c)
	}
	if src == nil {
		return nil, errors.New("challenge: no prompt source")
	}
	if src.Family() != hdr.Family {
		return nil, fmt.Errorf("%w: header family %q, the prompt source is %q", ErrMismatch, hdr.Family, src.Family())
	}
	if src.Digest() != hdr.PromptsDigest {
		return nil, fmt.Errorf("%w: header prompts digest %q, the prompt file's is %q", ErrMismatch, hdr.PromptsDigest, src.Digest())
	}
	set, err := NewSet(key, hdr.RunID, src, hdr.Count)
	if err != nil {
		return nil, err
	}
	// An empty run id would be read as the default; a header must say it.
	if hdr.RunID != set.RunID() {
		return nil, fmt.Errorf("%w: header run id %q", ErrMismatch, hdr.RunID)
	}
	if set.ID() != hdr.ID {
		return nil, fmt.Errorf("%w: set id %q, the key derives %s", ErrMismatch, hdr.ID, set.ID())
	}
	v := &Verifier{set: set}
	for _, o := range opts {
		o(v)
	}
	return v, nil
}

// Set returns the set the Verifier checks against.
func (v *Verifier) Set() *Set { return v.set }

// Checked returns the number of records checked so far.
func (v *Verifier) Checked() int { return v.n }

// Check checks one record: its index is in the set, and its ID, Seed and,
// when present, Prompt are the ones the key derives. The first mismatch is
// returned as a *MismatchError.
func (v *Verifier) Check(rec *format.Record) error {
	n := v.n
	v.n++
	bad := func(field, got, want string) error {
		return &MismatchError{N: n, Index: rec.Index, Sample: rec.Sample, Field: field, Got: got, Want: want}
	}
	if rec.Index >= uint64(v.set.Len()) {
		return bad("index", fmt.Sprintf("%d", rec.Index), fmt.Sprintf("below %d", v.set.Len()))
	}
	// Output streams hold several samples of a challenge in a row; derive
	// each challenge once.
	if !v.last.ok || v.last.index != rec.Index {
		v.last.index, v.last.c, v.last.ok = rec.Index, v.set.Challenge(int(rec.Index)), true
	}
	c := v.last.c
	if rec.ID != c.ID {
		return bad("id", fmt.Sprintf("%q", rec.ID), fmt.Sprintf("%q", c.ID))
	}
	want := c.Seed
	if v.outputs {
		want = SampleSeed(c.Seed, int(rec.Sample), v.base)
	} else if rec.Sample != 0 {
		return bad("sample", fmt.Sprintf("%d", rec.Sample), "0 in a challenge stream")
	}
	if rec.Seed != want {
		return bad("seed", fmt.Sprintf("%d", rec.Seed), fmt.Sprintf("%d", want))
	}
	if rec.Prompt != "" && rec.Prompt != c.Prompt {
		return bad("prompt", quoteShort(rec.Prompt), quoteShort(c.Prompt))
	}
	return nil
}

// quoteShort quotes s for a message, cut after 80 characters so that a
// long prompt does not flood the line.
func quoteShort(s string) string {
	const max = 80
	if utf8.RuneCountInString(s) <= max {
		return strconv.Quote(s)
	}
	r := []rune(s)
	return strconv.Quote(string(r[:max])) + "..."
}

// Verify checks a header and its records against the revealed key; see
// NewVerifier and Verifier.Check. It returns the first mismatch.
func Verify(key Key, hdr format.ChallengeSet, src Source, recs []format.Record, opts ...VerifyOption) error {
	v, err := NewVerifier(key, hdr, src, opts...)
	if err != nil {
		return err
	}
	for i := range recs {
		if err := v.Check(&recs[i]); err != nil {
			return err
		}
	}
	return nil
}
