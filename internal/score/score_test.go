package score

import (
	"errors"
	"math"
	"testing"

	"github.com/pot-audit/pot/format"
)

// alt is one top-k alternative: a token and its probability.
type alt struct {
	id int32
	p  float64
}

func lp(p float64) float32 { return float32(math.Log(p)) }

// rec builds a record with ids, the chosen tokens' probabilities (ps, may
// be nil) and, when top is not nil, top-k lists padded to k.
func rec(ids []int32, ps []float64, k int, top [][]alt) *format.Record {
	r := &format.Record{Tokens: ids}
	for _, p := range ps {
		r.Logprobs = append(r.Logprobs, lp(p))
	}
	if top != nil {
		r.TopK = k
		for _, pos := range top {
			for j := range k {
				if j < len(pos) {
					r.TopTokens = append(r.TopTokens, pos[j].id)
					r.TopLogprobs = append(r.TopLogprobs, lp(pos[j].p))
				} else {
					r.TopTokens = append(r.TopTokens, -1)
					r.TopLogprobs = append(r.TopLogprobs, float32(math.Inf(-1)))
				}
			}
		}
	}
	return r
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestTV(t *testing.T) {
	same := []alt{{1, 0.6}, {2, 0.3}}
	for _, c := range []struct {
		name      string
		ref, cand *format.Record
		want      float64
	}{
		{"identical", rec([]int32{1, 2}, nil, 2, [][]alt{same, same}), rec([]int32{1, 2}, nil, 2, [][]alt{same, same}), 0},
		{"one position",
			rec([]int32{1}, nil, 2, [][]alt{{{1, 0.6}, {2, 0.3}}}),
			rec([]int32{1}, nil, 2, [][]alt{{{1, 0.5}, {3, 0.4}}}),
			0.4}, // (|.6-.5| + .3 + .4 + |.1-.1|) / 2
		{"stops after first divergence",
			rec([]int32{1, 2, 5}, nil, 2, [][]alt{same, {{2, 0.7}, {3, 0.2}}, {{5, 1}}}),
			rec([]int32{1, 3, 5}, nil, 2, [][]alt{same, {{3, 0.6}, {2, 0.3}}, {{9, 1}}}),
			0.2}, // (0 + (.4 + .4 + 0)/2) / 2; position 2 not compared
		{"one output ends", rec([]int32{1, 2}, nil, 2, [][]alt{same, same}), rec([]int32{1, 2, 7}, nil, 2, [][]alt{same, same, same}), 1.0 / 3},
		{"disjoint", rec([]int32{1}, nil, 1, [][]alt{{{1, 1}}}), rec([]int32{2}, nil, 1, [][]alt{{{2, 1}}}), 1},
		{"padding and different k",
			rec([]int32{1}, nil, 3, [][]alt{{{1, 0.9}}}),
			rec([]int32{1}, nil, 1, [][]alt{{{1, 0.8}}}),
			0.1}, // (|.9-.8| + |.1-.2|) / 2
		{"both empty", rec(nil, nil, 0, nil), rec(nil, nil, 0, nil), 0},
		{"one empty", rec(nil, nil, 0, nil), rec([]int32{1}, nil, 1, [][]alt{{{1, 1}}}), 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, swap := range []bool{false, true} {
				a, b := c.ref, c.cand
				if swap {
					a, b = b, a
				}
				got, err := TV(a, b)
				if err != nil || !near(got, c.want) {
					t.Errorf("TV (swapped %v) = %v, %v, want %v", swap, got, err, c.want)
				}
			}
		})
	}
}

func TestProb(t *testing.T) {
	for _, c := range []struct {
		name      string
		ref, cand *format.Record
		want      float64
	}{
		{"identical", rec([]int32{1, 2}, []float64{0.5, 0.8}, 0, nil), rec([]int32{1, 2}, []float64{0.5, 0.8}, 0, nil), 0},
		{"divergence counts 1",
			rec([]int32{1, 2, 3, 4}, []float64{0.5, 0.8, 0.9, 0.9}, 0, nil),
			rec([]int32{1, 2, 5, 4}, []float64{0.4, 0.6, 0.9, 0.9}, 0, nil),
			(0.1 + 0.2 + 1) / 3},
		{"one output ends", rec([]int32{1}, []float64{0.5}, 0, nil), rec([]int32{1, 2}, []float64{0.5, 0.5}, 0, nil), 0.5},
		{"first token differs", rec([]int32{1, 2}, []float64{0.5, 0.8}, 0, nil), rec([]int32{2, 2}, []float64{0.5, 0.8}, 0, nil), 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, swap := range []bool{false, true} {
				a, b := c.ref, c.cand
				if swap {
					a, b = b, a
				}
				got, err := Prob(a, b)
				if err != nil || !near(got, c.want) {
					t.Errorf("Prob (swapped %v) = %v, %v, want %v", swap, got, err, c.want)
				}
			}
		})
	}
}

func TestTokens(t *testing.T) {
	for _, c := range []struct {
		a, b []int32
		want float64
	}{
		{[]int32{1, 2, 3, 4}, []int32{1, 2, 9}, 0.5},
		{[]int32{1, 2, 3}, []int32{1, 2, 3}, 0},
		{[]int32{1, 2, 3}, []int32{1, 2}, 1.0 / 3},
		{[]int32{5}, []int32{6, 7}, 1},
		{nil, nil, 0},
		{nil, []int32{1}, 1},
	} {
		for _, swap := range []bool{false, true} {
			a, b := c.a, c.b
			if swap {
				a, b = b, a
			}
			got, err := Tokens(rec(a, nil, 0, nil), rec(b, nil, 0, nil))
			if err != nil || !near(got, c.want) {
				t.Errorf("Tokens(%v, %v) = %v, %v, want %v", a, b, got, err, c.want)
			}
		}
	}
}

func TestText(t *testing.T) {
	long := make([]byte, 3*MaxTextRunes)
	for i := range long {
		long[i] = 'a'
	}
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"kitten", "sitting", 3.0 / 7},
		{"same", "same", 0},
		{"", "", 0},
		{"abc", "", 1},
		{"abc", "xyz", 1},
		{"héllo", "hello", 1.0 / 5}, // runes, not bytes
		{"flaw", "lawn", 2.0 / 4},
		{"\xff\xfe", "ab", 1},                          // one rune per bad byte
		{string(long), string(long[:MaxTextRunes]), 0}, // compared up to the cap
		{string(long[:MaxTextRunes]) + "x", string(long[:MaxTextRunes]), 0},
	} {
		for _, swap := range []bool{false, true} {
			a, b := c.a, c.b
			if swap {
				a, b = b, a
			}
			got, err := Text(&format.Record{Text: a}, &format.Record{Text: b})
			if err != nil || !near(got, c.want) {
				t.Errorf("Text(%.20q, %.20q) = %v, %v, want %v", a, b, got, err, c.want)
			}
		}
	}
}

func TestUnbiasedMMDRefuses(t *testing.T) {
	k, _ := TokenKernel(2)
	ref := []format.Record{{Tokens: []int32{1, 2}}, {Sample: 1, Tokens: []int32{1, 3}}}
	if _, err := UnbiasedMMD(ref, []format.Record{{Err: "timeout"}, {Sample: 1, Tokens: []int32{1}}}, k); !errors.Is(err, ErrFailed) {
		t.Errorf("with a failed sample = %v, want ErrFailed", err)
	}
	if _, err := UnbiasedMMD(ref, ref[:1], k); !errors.Is(err, ErrMissing) {
		t.Errorf("with one candidate sample = %v, want ErrMissing", err)
	}
	if _, err := UnbiasedMMD(ref, []format.Record{{Text: "a"}, {Sample: 1, Text: "b"}}, k); !errors.Is(err, ErrMissing) {
		t.Errorf("token kernel without ids = %v, want ErrMissing", err)
	}
	if got, err := UnbiasedMMD(ref, ref, k); err != nil || got != 0 {
		t.Errorf("a set against itself = %v, %v, want 0", got, err)
	}
}

func TestErrors(t *testing.T) {
	full := rec([]int32{1}, []float64{0.5}, 1, [][]alt{{{1, 0.5}}})
	failed := &format.Record{Err: "backend: 503"}
	textOnly := &format.Record{Text: "hi"}
	lpsOnly := &format.Record{Logprobs: []float32{-1}, Text: "hi"}
	for _, name := range []string{"tv", "prob", "tokens", "text"} {
		f, err := ByName(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, pair := range [][2]*format.Record{{failed, full}, {full, failed}} {
			if _, err := f(pair[0], pair[1]); !errors.Is(err, ErrFailed) {
				t.Errorf("%s with a failed record = %v, want ErrFailed", name, err)
			}
		}
		if name == "text" {
			continue
		}
		for _, r := range []*format.Record{textOnly, lpsOnly} {
			if _, err := f(full, r); !errors.Is(err, ErrMissing) {
				t.Errorf("%s on %+v = %v, want ErrMissing", name, r, err)
			}
		}
	}
	noTop := rec([]int32{1}, []float64{0.5}, 0, nil)
	if _, err := TV(full, noTop); !errors.Is(err, ErrMissing) {
		t.Errorf("TV without top-k = %v, want ErrMissing", err)
	}
	if _, err := Prob(full, rec([]int32{1}, nil, 0, nil)); !errors.Is(err, ErrMissing) {
		t.Errorf("Prob without log-probabilities = %v, want ErrMissing", err)
	}
	for _, name := range []string{"mmd", "auto", "kl"} {
		if _, err := ByName(name); !errors.Is(err, ErrName) {
			t.Errorf("ByName(%q) = %v, want ErrName", name, err)
		}
	}
}

func TestChoose(t *testing.T) {
	hv := func(v string) *format.Header { return &format.Header{Model: format.Model{Vocab: v}} }
	full := rec([]int32{1}, []float64{0.5}, 1, [][]alt{{{1, 0.5}}})
	lps := rec([]int32{1}, []float64{0.5}, 0, nil)
	ids := rec([]int32{1}, nil, 0, nil)
	text := &format.Record{Text: "x", Logprobs: []float32{-1}}
	for _, c := range []struct {
		name       string
		refH, canH *format.Header
		ref, cand  *format.Record
		want       string
	}{
		{"top-k both", hv("v1"), hv("v1"), full, full, "tv"},
		{"top-k one side", hv("v1"), hv("v1"), full, lps, "prob"},
		{"ids only", hv("v1"), hv("v1"), lps, ids, "tokens"},
		{"no ids", hv("v1"), hv("v1"), full, text, "text"},
		{"other vocab", hv("v1"), hv("v2"), full, full, "text"},
		{"unknown vocab", hv(""), hv(""), full, full, "text"},
		{"failed record", hv("v1"), hv("v1"), full, &format.Record{Err: "x", Tokens: []int32{1}}, "text"},
		{"empty output", hv("v1"), hv("v1"), full, &format.Record{}, "text"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Choose(c.refH, c.canH, c.ref, c.cand); got != c.want {
				t.Errorf("Choose = %q, want %q", got, c.want)
			}
			// Whatever it chooses must then work on the pair.
			if c.ref.Err == "" && c.cand.Err == "" {
				f, _ := ByName(Choose(c.refH, c.canH, c.ref, c.cand))
				if _, err := f(c.ref, c.cand); err != nil {
					t.Errorf("chosen score fails: %v", err)
				}
			}
		})
	}
	for _, c := range []struct {
		name string
		a, b string
		ok   bool
	}{{"tv", "v", "v", true}, {"tokens", "v", "w", false}, {"mmd", "", "", true}, {"mmd", "v", "w", true}, {"text", "v", "w", true}} {
		err := Check(c.name, hv(c.a), hv(c.b))
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrVocab)) {
			t.Errorf("Check(%s, %q, %q) = %v", c.name, c.a, c.b, err)
		}
	}
	if err := Check("kl", hv("v"), hv("v")); !errors.Is(err, ErrName) {
		t.Errorf("Check(kl) = %v, want ErrName", err)
	}
}

// TV skips the arithmetic at bit-identical positions; a position that
// differs by one ulp must still be scored, and close to its true value.
func TestTVNearlyIdentical(t *testing.T) {
	pos := []alt{{1, 0.6}, {2, 0.3}}
	a := rec([]int32{1, 1}, nil, 2, [][]alt{pos, pos})
	b := rec([]int32{1, 1}, nil, 2, [][]alt{pos, {{1, 0.5}, {2, 0.3}}})
	got, err := TV(a, b)
	if want := 0.05; err != nil || !near(got, want) { // (0 + 0.1) / 2
		t.Fatalf("TV = %v, %v, want %v", got, err, want)
	}
	c := rec([]int32{1, 1}, nil, 2, [][]alt{pos, pos})
	c.TopLogprobs[2] = math.Nextafter32(c.TopLogprobs[2], 0)
	if got, err := TV(a, c); err != nil || got <= 0 || got > 1e-6 {
		t.Fatalf("TV one ulp apart = %v, %v, want a tiny positive distance", got, err)
	}
}

// Every score is declared, and what the declarations say agrees with the
// scores: a score that compares ids is refused across vocabularies, and
// only a set score, the rank score and the likelihood ratio lack a
// per-pair function.
func TestSpecs(t *testing.T) {
	a := format.Header{Model: format.Model{Vocab: "v1"}}
	b := format.Header{Model: format.Model{Vocab: "v2"}}
	for _, name := range Names() {
		sp, ok := Lookup(name)
		if !ok || sp.Name != name {
			t.Fatalf("Lookup(%q) = %+v, %v", name, sp, ok)
		}
		if err := Check(name, &a, &b); (err != nil) != sp.IDs {
			t.Errorf("%s: Check across vocabularies: %v, declared IDs %v", name, err, sp.IDs)
		}
		if _, err := ByName(name); (err != nil) != (sp.Sets || sp.Ranks || sp.Ratios) {
			t.Errorf("%s: ByName: %v, declared Sets %v Ranks %v Ratios %v", name, err, sp.Sets, sp.Ranks, sp.Ratios)
		}
	}
	if _, ok := Lookup("auto"); ok {
		t.Error("auto is declared as a score")
	}
}
