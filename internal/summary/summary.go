// Package summary describes one pot stream as it is read: its segments and
// integrity, which challenges and samples it holds and whether the set is
// complete, its failures, finish reasons and latency. It keeps a few words
// per challenge whatever the stream holds, so that a hostile stream cannot
// make it grow without bound. potstat prints what it finds.
package summary

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pot-audit/pot/format"
)

// Summary is what is known of one stream. The JSON names are part of
// the interface (see the help text); add fields, never rename them.
type Summary struct {
	File          string           `json:"file"`
	Intact        bool             `json:"intact"`
	Error         string           `json:"error,omitempty"`
	Kind          string           `json:"kind,omitempty"`
	Segments      int              `json:"segments"`
	Trailers      int              `json:"trailers"`
	Records       int64            `json:"records"`
	Bytes         int64            `json:"bytes"`
	Challenges    int              `json:"challenges"`
	SamplesMin    int64            `json:"samples_min"`
	SamplesMax    int64            `json:"samples_max"`
	Expected      int64            `json:"expected_challenges"`
	Samples       int64            `json:"expected_samples"`
	Complete      *bool            `json:"complete"`
	Missing       int64            `json:"missing"`
	MissingFirst  []uint64         `json:"missing_first,omitempty"`
	Outside       int64            `json:"outside"`
	Duplicates    int64            `json:"duplicates"`
	Tokens        int64            `json:"tokens"`
	TokensMean    float64          `json:"tokens_mean"`
	Errors        int64            `json:"errors"`
	FirstError    string           `json:"first_error,omitempty"`
	Finish        map[string]int64 `json:"finish,omitempty"`
	LatencyMeanMS float64          `json:"latency_mean_ms"`
	Mixed         string           `json:"mixed,omitempty"`
	Signed        int              `json:"signed"`            // segments whose signature verifies
	Signers       []string         `json:"signers,omitempty"` // their key ids (format.KeyID), in order of appearance
	Header        *format.Header   `json:"header,omitempty"`

	shardsDiffer bool // segments from several shards (a cat of shards)
	shard        bool // one shard alone: complete is said of its share
}

// Bounds on what a summary keeps, so that a hostile stream cannot make it
// grow beyond a few words per record.
const (
	maxMissingShown = 10
	maxFinishKinds  = 32 // distinct finish reasons counted by name; the rest are "other"
)

// Collector builds a summary while a stream is read: Start with its first
// header, Add every record, Finish at its end.
type Collector struct {
	s          Summary
	challenges *coverage // made at the first header
	first      format.Header
	seg        int
	latency    time.Duration
	latencyN   int64
}

// New starts the summary of the stream called file.
func New(file string) *Collector {
	return &Collector{s: Summary{File: file}, seg: -1}
}

// Start notes the first header.
func (c *Collector) Start(h format.Header) {
	c.first = h
	c.s.Header = &c.first
	c.s.Kind = h.Kind.String()
	c.s.Expected = int64(max(h.Challenges.Count, 0))
	c.challenges = newCoverage(int64(h.Sampling.Samples))
}

// Add counts rec, the n-th record, read in segment seg under header h.
func (c *Collector) Add(n int64, rec *format.Record, seg int, h *format.Header) {
	if seg != c.seg {
		c.seg = seg
		if why := format.Compatible(&c.first, h); why != "" && c.s.Mixed == "" {
			c.s.Mixed = fmt.Sprintf("segment %d differs from segment 0 in %s", seg, why)
		}
		if h.Shard != c.first.Shard {
			c.s.shardsDiffer = true
		}
		c.s.Expected = max(c.s.Expected, int64(h.Challenges.Count))
	}
	c.challenges.add(rec.Index, rec.Sample)
	c.s.Tokens += int64(rec.Positions())
	if rec.Err != "" {
		c.s.Errors++
		if c.s.FirstError == "" {
			c.s.FirstError = fmt.Sprintf("record %d (challenge %d, sample %d): %s", n, rec.Index, rec.Sample, rec.Err)
		}
	}
	if rec.Finish != "" {
		if c.s.Finish == nil {
			c.s.Finish = map[string]int64{}
		}
		f := rec.Finish
		if _, ok := c.s.Finish[f]; !ok && len(c.s.Finish) >= maxFinishKinds {
			f = "other"
		}
		c.s.Finish[f]++
	}
	if rec.Latency > 0 {
		c.latency += rec.Latency
		c.latencyN++
	}
}

// Finish completes the summary once the stream has ended, intact or not.
func (c *Collector) Finish(st format.Stats, err error) *Summary {
	s := &c.s
	s.Segments, s.Trailers, s.Records, s.Bytes = st.Segments, st.Trailers, st.Records, st.CompressedSize
	s.Signed = st.Signed
	s.Intact = err == nil && st.Segments > 0 && st.Trailers == st.Segments
	if err != nil {
		s.Error = err.Error()
	}
	if s.Records > 0 {
		s.TokensMean = float64(s.Tokens) / float64(s.Records)
	}
	if c.latencyN > 0 {
		s.LatencyMeanMS = float64(c.latency) / float64(c.latencyN) / float64(time.Millisecond)
	}
	s.Samples = max(int64(c.first.Sampling.Samples), 1)
	cov := c.challenges
	if cov == nil { // no header was read
		return s
	}
	expected := uint64(s.Expected)
	complete := int64(0) // challenges of the set with all their samples
	var partial []uint64 // challenges held without all their samples, the first few
	partials := int64(0)
	var missing []uint64 // challenges of the set without all their samples, the first few
	next := uint64(0)    // the first challenge the walk has not reached
	s.Duplicates = cov.walk(func(i uint64, records int64, full bool) {
		s.Challenges++
		if s.SamplesMin == 0 || records < s.SamplesMin {
			s.SamplesMin = records
		}
		s.SamplesMax = max(s.SamplesMax, records)
		if expected > 0 && i >= expected {
			s.Outside += records
			return
		}
		for ; next < i && len(missing) < maxMissingShown; next++ {
			missing = append(missing, next) // no records at all
		}
		next = i + 1
		if full {
			complete++
			return
		}
		partials++
		if len(partial) < maxMissingShown {
			partial = append(partial, i)
		}
		if len(missing) < maxMissingShown {
			missing = append(missing, i)
		}
	})
	if sh := c.first.Shard; sh.Count > 0 && !s.shardsDiffer {
		// One shard of a split set. Which challenges fall to it follows
		// from their ids, which only the key gives, so the ones it lacks
		// cannot be counted: its share is what its writer put in it, and
		// it is complete when it is intact to its trailers and every
		// challenge it holds has all its samples.
		s.shard = true
		s.Missing, s.MissingFirst = partials, partial
		ok := s.Intact && partials == 0 && s.Outside == 0
		s.Complete = &ok
		return s
	}
	if expected > 0 {
		for ; next < expected && len(missing) < maxMissingShown; next++ {
			missing = append(missing, next)
		}
		s.Missing = s.Expected - complete
		s.MissingFirst = missing
		ok := s.Missing == 0
		s.Complete = &ok
	}
	return s
}

// WriteText prints the summary for a person, aligned.
func (s *Summary) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	line := func(key, format string, args ...any) {
		fmt.Fprintf(tw, "  %s\t%s\n", key, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(tw, "%s\n", s.File)
	switch {
	case s.Intact:
		line("status", "intact: %s, %s verified, %d bytes", plural(int64(s.Segments), "segment"), plural(int64(s.Trailers), "trailer"), s.Bytes)
	case s.Header == nil:
		line("status", "DAMAGED: %s", s.Error)
		return tw.Flush()
	default:
		line("status", "DAMAGED: %s", s.Error)
		line("", "(what follows was read before the damage)")
	}
	if s.Signed > 0 {
		// Said of a signature that verifies; whether its key is one to
		// trust is potstat --verify --pubkey's question.
		line("signed", "%d of %s, by %s", s.Signed, plural(int64(s.Segments), "segment"), strings.Join(s.Signers, ", "))
	}
	s.writeContents(line)
	if s.Header.Kind == format.KindOutputs {
		s.writeOutputs(line)
	}
	s.writeHeader(line)
	return tw.Flush()
}

// lineFunc writes one aligned line of the text summary.
type lineFunc func(key, format string, args ...any)

// writeContents says what the stream holds: records, challenges, and
// whether the set is complete.
func (s *Summary) writeContents(line lineFunc) {
	line("kind", "%s", s.Kind)
	line("records", "%d in %s", s.Records, plural(int64(s.Segments), "segment"))
	switch {
	case s.Challenges == 0:
		line("challenges", "0")
	case s.SamplesMin == s.SamplesMax:
		line("challenges", "%d, %s each", s.Challenges, plural(s.SamplesMin, "sample"))
	default:
		line("challenges", "%d, %d to %d samples each", s.Challenges, s.SamplesMin, s.SamplesMax)
	}
	switch {
	case s.Complete == nil:
		line("complete", "unknown: the header gives no challenge count")
	case s.shard:
		s.writeShardComplete(line)
	case *s.Complete:
		line("complete", "yes: challenges 0..%d, %s each", s.Expected-1, plural(s.Samples, "sample"))
	default:
		line("complete", "no: %d of %d challenges lack samples (%s)", s.Missing, s.Expected, s.missingList())
	}
	if s.Outside > 0 {
		line("outside", "%s for challenges past the set's %d", plural(s.Outside, "record"), s.Expected)
	}
	if s.Duplicates > 0 {
		line("duplicates", "%s repeat a challenge and sample", plural(s.Duplicates, "record"))
	}
}

// missingList names the first challenges that lack samples.
func (s *Summary) missingList() string {
	first := make([]string, len(s.MissingFirst))
	for i, m := range s.MissingFirst {
		first[i] = strconv.FormatUint(m, 10)
	}
	if s.Missing > int64(len(first)) {
		first = append(first, "...")
	}
	return strings.Join(first, ", ")
}

// writeShardComplete says whether one shard holds the whole of its share.
func (s *Summary) writeShardComplete(line lineFunc) {
	sh := s.Header.Shard
	of := fmt.Sprintf("shard %d of %d", sh.Index, sh.Count)
	switch {
	case *s.Complete:
		line("complete", "yes: %s, all %s of its %d challenges (cat the shards to check the whole set)", of, plural(s.Samples, "sample"), s.Challenges)
	case !s.Intact:
		line("complete", "no: %s, damaged", of)
	case s.Missing > 0:
		line("complete", "no: %s, %d of its %d challenges lack samples (%s)", of, s.Missing, s.Challenges, s.missingList())
	default:
		line("complete", "no: %s, records outside the set", of)
	}
}

// writeOutputs says what an outputs stream's records show of the model.
func (s *Summary) writeOutputs(line lineFunc) {
	h := s.Header
	line("tokens", "%d (%.1f per record)", s.Tokens, s.TokensMean)
	if s.Errors > 0 {
		line("errors", "%d (first: %s)", s.Errors, s.FirstError)
	} else {
		line("errors", "0")
	}
	if len(s.Finish) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(s.Finish)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, s.Finish[k]))
		}
		line("finish", "%s", strings.Join(parts, ", "))
	}
	if s.LatencyMeanMS > 0 {
		line("latency", "%.1f ms mean", s.LatencyMeanMS)
	}
	m := h.Model
	line("model", "%s %s", orDash(m.Backend), orDash(m.Name))
	for _, kv := range [][2]string{{"digest", m.Digest}, {"vocab", m.Vocab}, {"fingerprint", m.Fingerprint}, {"build", m.Build}, {"perturb", m.Perturb}} {
		if kv[1] != "" {
			line(kv[0], "%s", kv[1])
		}
	}
}

// writeHeader says what the header says: the set, the sampling, the shard
// and where the stream comes from.
func (s *Summary) writeHeader(line lineFunc) {
	h := s.Header
	cs := h.Challenges
	line("challenge set", "%s: family %s, run %s, %d challenges", orDash(cs.ID), orDash(cs.Family), orDash(cs.RunID), cs.Count)
	line("commitment", "%s", orDash(cs.Commitment))
	if cs.PromptsDigest != "" {
		line("prompts", "%s", cs.PromptsDigest)
	}
	if h.Kind == format.KindOutputs {
		sp := h.Sampling
		lp := fmt.Sprintf("logprobs %d", sp.Logprobs)
		if sp.LogprobsOf != "" {
			lp += " (" + sp.LogprobsOf + ")"
		}
		line("sampling", "temperature %g, top-p %g, top-k %d, max tokens %d, %s, samples %d, seed %d",
			sp.Temperature, sp.TopP, sp.TopK, sp.MaxTokens, lp, sp.Samples, sp.Seed)
		if sp.Endpoint != "" {
			line("endpoint", "%s", sp.Endpoint)
		}
	}
	switch {
	case s.shardsDiffer:
		line("shard", "several: segments from different shards")
	case h.Shard.By != "" || h.Shard.Count > 0:
		count := "?"
		if h.Shard.Count > 0 {
			count = strconv.Itoa(h.Shard.Count)
		}
		line("shard", "%d of %s (by %s)", h.Shard.Index, count, orDash(h.Shard.By))
	}
	if s.Mixed != "" {
		line("mixed", "%s", s.Mixed)
	}
	if !h.Created.IsZero() || h.Tool != "" {
		line("created", "%s by %s", h.Created.Format(time.RFC3339), orDash(h.Tool))
	}
	if len(h.Labels) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(h.Labels)) {
			parts = append(parts, k+"="+h.Labels[k])
		}
		line("labels", "%s", strings.Join(parts, " "))
	}
}

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
