package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
)

// key joins a candidate record with its reference record.
type key struct {
	id     string
	sample uint32
}

// reference is a reference stream held in memory: reference sets are
// small next to the candidates compared with them, and a candidate may come
// in any order.
type reference struct {
	name   string
	header format.Header
	// recs holds the records in chunks, so that a growing reference is
	// never copied: record i is recs[i/chunk][i%chunk].
	recs  [][]format.Record
	n     int
	index map[key]int32 // position in recs
	// byID lists each challenge's samples, for mmd only.
	byID   map[string][]format.Record
	failed int // records carrying Err
	dups   int // records whose (challenge, sample) came before; the first is kept
}

// loadReference reads name whole. A reference that cannot be read to its
// end is trouble: a verdict against part of a reference would look like
// one against all of it.
func loadReference(env *cli.Env, name string, groups bool) (*reference, error) {
	in, err := env.Open(name)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	rd, err := format.NewReader(in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.Name, err)
	}
	defer rd.Close()
	ref := &reference{name: in.Name, header: rd.First(), index: map[key]int32{}}
	if err := checkKind(in.Name, &ref.header); err != nil {
		return nil, err
	}
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, cli.Usage(fmt.Errorf("reference %s: %w (a reference must be whole)", in.Name, err))
		}
		k := key{rec.ID, rec.Sample}
		if _, dup := ref.index[k]; dup {
			ref.dups++
			continue
		}
		if ref.n >= 1<<31-1 {
			return nil, cli.Usagef("reference %s: more than %d records", in.Name, 1<<31-1)
		}
		// The prompt is not scored; dropping it keeps the reference small.
		rec.Prompt = ""
		if rec.Err != "" {
			ref.failed++
		}
		if ref.n%chunk == 0 {
			ref.recs = append(ref.recs, make([]format.Record, 0, chunk))
		}
		last := &ref.recs[len(ref.recs)-1]
		*last = append(*last, rec)
		ref.index[k] = int32(ref.n)
		ref.n++
	}
	if groups {
		ref.byID = map[string][]format.Record{}
		for i := range ref.n {
			r := ref.rec(int32(i))
			ref.byID[r.ID] = append(ref.byID[r.ID], *r)
		}
	}
	return ref, nil
}

// chunk is the number of records in a chunk of a reference.
const chunk = 4096

// rec returns record i.
func (ref *reference) rec(i int32) *format.Record { return &ref.recs[i/chunk][i%chunk] }

func checkKind(name string, h *format.Header) error {
	if h.Kind != format.KindOutputs {
		return cli.Usagef("%s: a %s stream: potcmp compares outputs streams (run potgen on it first)", name, h.Kind)
	}
	return nil
}

// errMismatch is the error for streams that cannot be compared.
var errMismatch = errors.New("cannot be compared")

// comparable explains why outputs under ref and cand cannot be compared:
// another challenge set (the challenge ids would not even meet), or
// sampling that makes a score meaningless. A different model is what
// potcmp is for, and a different vocabulary is the score's business.
func comparable(refName, candName string, ref, cand *format.Header) error {
	var diffs []string
	rc, cc := ref.Challenges, cand.Challenges
	for _, f := range []struct{ name, a, b string }{
		{"id", rc.ID, cc.ID},
		{"commitment", rc.Commitment, cc.Commitment},
		{"run id", rc.RunID, cc.RunID},
		{"family", rc.Family, cc.Family},
		{"prompts digest", rc.PromptsDigest, cc.PromptsDigest},
	} {
		if f.a != f.b {
			diffs = append(diffs, fmt.Sprintf("%s %q vs %q", f.name, f.a, f.b))
		}
	}
	if len(diffs) > 0 {
		return cli.Usage(fmt.Errorf("%s and %s come from different challenge sets (%s): %w",
			refName, candName, strings.Join(diffs, ", "), errMismatch))
	}
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
		return cli.Usage(fmt.Errorf("%s and %s were sampled differently (%s): their outputs %w",
			refName, candName, strings.Join(diffs, ", "), errMismatch))
	}
	return nil
}

// seedSensitive reports whether score name compares samples one by one in
// a way that two runs of one model pass only under the same seeds.
func seedSensitive(name string) bool {
	return name == "tokens" || name == "prob" || name == "text"
}

// checkSeeds refuses to compare sampled outputs drawn with different base
// seeds under a score that expects the same sample on both sides: the same
// model would look different.
func checkSeeds(refName, candName string, ref, cand *format.Header, name string) error {
	if ref.Sampling.Temperature > 0 && ref.Sampling.Seed != cand.Sampling.Seed && seedSensitive(name) {
		return cli.Usage(fmt.Errorf("%s and %s were sampled (temperature %v) with different seeds (%d vs %d): score %s compares samples one by one, use --score tv or mmd: %w",
			refName, candName, ref.Sampling.Temperature, ref.Sampling.Seed, cand.Sampling.Seed, name, errMismatch))
	}
	return nil
}

// modelName names a stream's model in outputs.
func modelName(h *format.Header) string {
	m := h.Model
	s := m.Backend + ":" + m.Name
	if m.Perturb != "" {
		s += ",perturb=" + m.Perturb
	}
	return s
}
