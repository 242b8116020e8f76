package challenge

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/pot-audit/pot/format"
)

func templatesV1Family(t testing.TB) *TemplateFamily {
	t.Helper()
	f, err := Templates("templates/v1")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func mustSet(t testing.TB, k Key, runID string, src Source, n int) *Set {
	t.Helper()
	s, err := NewSet(k, runID, src, n)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func challenges(s *Set) []Challenge {
	out := make([]Challenge, s.Len())
	for i := range out {
		out[i] = s.Challenge(i)
	}
	return out
}

func TestSetDeterministic(t *testing.T) {
	fam := templatesV1Family(t)
	a := challenges(mustSet(t, testKey(t), "", fam, 200))
	// A fresh family and a key parsed again: nothing is carried over.
	b := challenges(mustSet(t, testKey(t), DefaultRunID, templatesV1Family(t), 200))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same key, run id and n gave different sets")
	}
	// A larger set extends a smaller one.
	c := challenges(mustSet(t, testKey(t), "", fam, 50))
	if !reflect.DeepEqual(a[:50], c) {
		t.Error("the first 50 challenges depend on n")
	}
}

func TestSetVaries(t *testing.T) {
	fam := templatesV1Family(t)
	base := mustSet(t, testKey(t), "", fam, 100)
	tests := []struct {
		name string
		set  *Set
	}{
		{"run id", mustSet(t, testKey(t), "2025-06", fam, 100)},
		{"key", mustSet(t, otherKey(t), "", fam, 100)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.set.ID() == base.ID() {
				t.Error("same set id")
			}
			samePrompt, sameID := 0, 0
			ids := map[string]bool{}
			for i := range 100 {
				ids[base.Challenge(i).ID] = true
			}
			for i := range 100 {
				a, b := base.Challenge(i), tc.set.Challenge(i)
				if a.Prompt == b.Prompt {
					samePrompt++
				}
				if ids[b.ID] {
					sameID++
				}
				if a.Seed == b.Seed {
					t.Errorf("challenge %d: same seed", i)
				}
			}
			// 100 draws from a space of billions: an equal prompt at the
			// same index would be a coincidence, a handful a bug.
			if samePrompt > 2 {
				t.Errorf("%d of 100 prompts unchanged", samePrompt)
			}
			if sameID > 0 {
				t.Errorf("%d ids shared with the base set", sameID)
			}
		})
	}
}

func TestSeedsAndIDsDistinct(t *testing.T) {
	const n = 100_000
	s := mustSet(t, testKey(t), "", templatesV1Family(t), n)
	ids := make(map[string]int, n)
	seeds := make(map[uint64]int, n)
	prompts := make(map[string]bool, n)
	for i := range n {
		c := s.Challenge(i)
		if j, dup := ids[c.ID]; dup {
			t.Fatalf("challenges %d and %d share id %s", j, i, c.ID)
		}
		if j, dup := seeds[c.Seed]; dup {
			t.Fatalf("challenges %d and %d share seed %d", j, i, c.Seed)
		}
		if len(c.ID) != 16 || strings.Trim(c.ID, "0123456789abcdef") != "" {
			t.Fatalf("challenge %d: id %q is not 16 hex digits", i, c.ID)
		}
		ids[c.ID], seeds[c.Seed] = i, i
		prompts[c.Prompt] = true
	}
	t.Logf("%d distinct prompts in %d challenges", len(prompts), n)
	// Every template has over a million prompts, so a 100k set repeats a
	// prompt a few times at most; many repeats would mean a small template
	// or draws that are not spread out.
	if len(prompts) < n-100 {
		t.Errorf("only %d distinct prompts in %d challenges", len(prompts), n)
	}
}

func TestHeader(t *testing.T) {
	pf := mustParse(t, "p.txt", "one\ntwo\nthree\n")
	s := mustSet(t, testKey(t), "r1", pf, 3)
	h := s.Header()
	v := reflect.ValueOf(h)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("Header().%s is zero", v.Type().Field(i).Name)
		}
	}
	want := format.ChallengeSet{
		ID:            s.ID(),
		Commitment:    Commitment(testKey(t)),
		RunID:         "r1",
		Family:        "prompts",
		PromptsDigest: pf.Digest(),
		Count:         3,
	}
	if h != want {
		t.Errorf("Header() = %+v, want %+v", h, want)
	}
	ht := mustSet(t, testKey(t), "", templatesV1Family(t), 5).Header()
	if ht.Family != "templates/v1" || ht.PromptsDigest != "" || ht.RunID != "default" || ht.Count != 5 {
		t.Errorf("template header %+v", ht)
	}
	// The set id names the set, not its size.
	if mustSet(t, testKey(t), "r1", pf, 1).ID() != s.ID() {
		t.Error("set id depends on n")
	}
	if mustSet(t, testKey(t), "", templatesV1Family(t), 1).ID() == s.ID() {
		t.Error("prompt file and template sets share an id")
	}
}

func TestRecord(t *testing.T) {
	s := mustSet(t, testKey(t), "", templatesV1Family(t), 5)
	c := s.Challenge(3)
	want := format.Record{Index: 3, ID: c.ID, Seed: c.Seed, Prompt: c.Prompt}
	if got := s.Record(3); !reflect.DeepEqual(got, want) {
		t.Errorf("Record(3) = %+v, want %+v", got, want)
	}
	if c.SampleSeed(2, 9) != SampleSeed(c.Seed, 2, 9) {
		t.Error("Challenge.SampleSeed differs from SampleSeed")
	}
}

func TestNewSetErrors(t *testing.T) {
	fam := templatesV1Family(t)
	tests := []struct {
		name  string
		key   Key
		runID string
		src   Source
		n     int
		want  error
		msg   string
	}{
		{"zero key", Key{}, "", fam, 1, ErrZeroKey, "challenge: key is the zero value"},
		{"control in run id", testKey(t), "a\nb", fam, 1, ErrRunID, "challenge: bad run id: unprintable character at byte 1"},
		{"long run id", testKey(t), strings.Repeat("r", MaxRunIDLen+1), fam, 1, ErrRunID, "challenge: bad run id: longer than 128 bytes"},
		{"bad utf-8 run id", testKey(t), "\xff", fam, 1, ErrRunID, "challenge: bad run id: not valid UTF-8"},
		{"no source", testKey(t), "", nil, 1, nil, "challenge: no prompt source"},
		{"zero n", testKey(t), "", fam, 0, nil, "challenge: want a positive number of challenges, got 0"},
		{"negative n", testKey(t), "", fam, -3, nil, "challenge: want a positive number of challenges, got -3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSet(tc.key, tc.runID, tc.src, tc.n)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("%v does not wrap %v", err, tc.want)
			}
			if err.Error() != tc.msg {
				t.Errorf("error %q, want %q", err, tc.msg)
			}
		})
	}
}

func TestChallengeOutOfRange(t *testing.T) {
	s := mustSet(t, testKey(t), "", templatesV1Family(t), 2)
	for _, i := range []int{-1, 2} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Challenge(%d) did not panic", i)
				}
			}()
			s.Challenge(i)
		}()
	}
}

func TestSetConcurrent(t *testing.T) {
	s := mustSet(t, testKey(t), "", templatesV1Family(t), 400)
	want := challenges(s)
	var wg sync.WaitGroup
	got := make([][]Challenge, 4)
	for g := range got {
		wg.Go(func() { got[g] = challenges(s) })
	}
	wg.Wait()
	for g := range got {
		if !reflect.DeepEqual(got[g], want) {
			t.Errorf("goroutine %d saw other challenges", g)
		}
	}
}

func BenchmarkChallenge(b *testing.B) {
	s := mustSet(b, testKey(b), "", templatesV1Family(b), 1<<30)
	for i := 0; b.Loop(); i++ {
		s.Challenge(i)
	}
}
