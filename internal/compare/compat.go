package compare

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/score"
)

// WantOutputs refuses a stream that holds no outputs to compare.
func WantOutputs(name string, h *format.Header) error {
	return cli.WantKind(name, h.Kind, format.KindOutputs)
}

// ErrMismatch is the error, wrapped, for streams that cannot be compared.
var ErrMismatch = errors.New("cannot be compared")

// SameSet refuses streams of different challenge sets: their challenge ids
// would not meet, and a distance between them would describe the prompts,
// not the models.
func SameSet(refName, candName string, ref, cand *format.Header) error {
	if diffs := ref.Challenges.Diff(cand.Challenges); len(diffs) > 0 {
		return cli.BadInput(fmt.Errorf("%s and %s come from different challenge sets (%s): %w",
			refName, candName, strings.Join(diffs, ", "), ErrMismatch))
	}
	return nil
}

// Compatible explains why outputs under ref and cand cannot be compared:
// another challenge set (see SameSet), or sampling that makes a score
// meaningless. A different model is what a comparison is for, and a
// different vocabulary is the score's business (score.Check).
func Compatible(refName, candName string, ref, cand *format.Header) error {
	if err := SameSet(refName, candName, ref, cand); err != nil {
		return err
	}
	var diffs []string
	rs, cs := ref.Sampling, cand.Sampling
	topP := func(p float64) float64 { // 0 and 1 both mean off
		if p == 0 {
			return 1
		}
		return p
	}
	for _, f := range []struct {
		name string
		a, b float64
	}{
		{"temperature", rs.Temperature, cs.Temperature},
		{"top-p", topP(rs.TopP), topP(cs.TopP)},
		{"top-k", float64(rs.TopK), float64(cs.TopK)},
		{"max-tokens", float64(rs.MaxTokens), float64(cs.MaxTokens)},
	} {
		if f.a != f.b {
			diffs = append(diffs, fmt.Sprintf("%s %v vs %v", f.name, f.a, f.b))
		}
	}
	if len(diffs) > 0 {
		return cli.BadInput(fmt.Errorf("%s and %s were sampled differently (%s): their outputs %w",
			refName, candName, strings.Join(diffs, ", "), ErrMismatch))
	}
	return nil
}

// CheckSeeds refuses to compare sampled outputs drawn with different base
// seeds under a score that expects the same sample on both sides: the same
// model would look different.
func CheckSeeds(refName, candName string, ref, cand *format.Header, name string) error {
	sp, _ := score.Lookup(name)
	if ref.Sampling.Temperature > 0 && ref.Sampling.Seed != cand.Sampling.Seed && sp.SeedSensitive {
		return cli.BadInput(fmt.Errorf("%s and %s were sampled (temperature %v) with different seeds (%d vs %d): score %s compares samples one by one, use --score tv or mmd: %w",
			refName, candName, ref.Sampling.Temperature, ref.Sampling.Seed, cand.Sampling.Seed, name, ErrMismatch))
	}
	return nil
}

// ModelName names a stream's model in results.
func ModelName(h *format.Header) string {
	m := h.Model
	s := m.Name
	if !strings.HasPrefix(s, m.Backend+":") {
		// A name that already says its backend (synth:1) is not said twice.
		s = m.Backend + ":" + s
	}
	if m.Perturb != "" {
		s += ",perturb=" + m.Perturb
	}
	return s
}
