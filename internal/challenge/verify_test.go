package challenge

import (
	"errors"
	"strings"
	"testing"

	"github.com/pot-audit/pot/format"
)

func challengeRecords(s *Set) []format.Record {
	recs := make([]format.Record, s.Len())
	for i := range recs {
		recs[i] = s.Record(i)
	}
	return recs
}

func TestVerifyAccepts(t *testing.T) {
	pf := numbered(t, 50)
	for name, src := range map[string]Source{"templates": templatesV1Family(t), "prompts": pf} {
		t.Run(name, func(t *testing.T) {
			s := mustSet(t, testKey(t), "audit-7", src, 30)
			recs := challengeRecords(s)
			if err := Verify(testKey(t), s.Header(), src, recs); err != nil {
				t.Fatalf("challenge stream: %v", err)
			}
			// Prompts are optional in records; order does not matter.
			for i := range recs {
				recs[i].Prompt = ""
			}
			recs[0], recs[29] = recs[29], recs[0]
			if err := Verify(testKey(t), s.Header(), src, recs); err != nil {
				t.Fatalf("without prompts: %v", err)
			}
		})
	}
}

func TestVerifyOutputs(t *testing.T) {
	fam := templatesV1Family(t)
	s := mustSet(t, testKey(t), "", fam, 10)
	const base = 1234
	var recs []format.Record
	for i := range s.Len() {
		c := s.Challenge(i)
		for k := range 3 {
			recs = append(recs, format.Record{Index: uint64(i), ID: c.ID, Sample: uint32(k), Seed: c.SampleSeed(k, base), Prompt: c.Prompt, Text: "whatever"})
		}
	}
	if err := Verify(testKey(t), s.Header(), fam, recs, WithSampleBase(base)); err != nil {
		t.Fatal(err)
	}
	err := Verify(testKey(t), s.Header(), fam, recs, WithSampleBase(base+1))
	var me *MismatchError
	if !errors.As(err, &me) || me.Field != "seed" || me.N != 0 {
		t.Errorf("other base: %v, want a seed mismatch at record 0", err)
	}
	// Without the option the records are read as a challenge stream's.
	err = Verify(testKey(t), s.Header(), fam, recs)
	if !errors.As(err, &me) || me.Field != "seed" {
		t.Errorf("as a challenge stream: %v, want a seed mismatch", err)
	}
}

func TestVerifyRejectsRecords(t *testing.T) {
	fam := templatesV1Family(t)
	s := mustSet(t, testKey(t), "", fam, 20)
	tests := []struct {
		name   string
		tamper func(r []format.Record)
		n      int
		field  string
		msg    string
	}{
		{"prompt", func(r []format.Record) { r[7].Prompt = "Once upon a time, a cat" }, 7, "prompt", "challenge: record 7 (challenge 7, sample 0): prompt \"Once upon a time, a cat\", want "},
		{"seed", func(r []format.Record) { r[3].Seed++ }, 3, "seed", "challenge: record 3 (challenge 3, sample 0): seed "},
		{"id", func(r []format.Record) { r[12].ID = r[11].ID }, 12, "id", "challenge: record 12 (challenge 12, sample 0): id "},
		{"index", func(r []format.Record) { r[5].Index = 20 }, 5, "index", "challenge: record 5 (challenge 20, sample 0): index 20, want below 20"},
		{"moved", func(r []format.Record) { r[9].Index = 10 }, 9, "id", ""},
		{"sample", func(r []format.Record) { r[2].Sample = 1 }, 2, "sample", ""},
		{"first of two", func(r []format.Record) { r[4].Seed = 0; r[6].Prompt = "x" }, 4, "seed", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs := challengeRecords(s)
			tc.tamper(recs)
			err := Verify(testKey(t), s.Header(), fam, recs)
			var me *MismatchError
			if !errors.As(err, &me) {
				t.Fatalf("error %v, want a *MismatchError", err)
			}
			if !errors.Is(err, ErrMismatch) {
				t.Errorf("%v does not wrap ErrMismatch", err)
			}
			if me.N != tc.n || me.Field != tc.field {
				t.Errorf("mismatch at record %d in %s, want record %d in %s (%v)", me.N, me.Field, tc.n, tc.field, err)
			}
			if !strings.HasPrefix(err.Error(), tc.msg) {
				t.Errorf("error %q, want it to start %q", err, tc.msg)
			}
		})
	}
}

func TestVerifyRejectsHeader(t *testing.T) {
	fam := templatesV1Family(t)
	pf := numbered(t, 40)
	s := mustSet(t, testKey(t), "r", pf, 20)
	recs := challengeRecords(s)
	other := numbered(t, 41)
	tests := []struct {
		name   string
		key    Key
		src    Source
		tamper func(h *format.ChallengeSet)
		msg    string
	}{
		{"wrong key", otherKey(t), pf, nil, "challenge: does not match the key: commitment"},
		{"zero key", Key{}, pf, nil, "challenge: key is the zero value"},
		{"set id", testKey(t), pf, func(h *format.ChallengeSet) { h.ID = "0123456789abcdef" }, "challenge: does not match the key: set id \"0123456789abcdef\""},
		{"run id", testKey(t), pf, func(h *format.ChallengeSet) { h.RunID = "s" }, "challenge: does not match the key: set id"},
		{"empty run id", testKey(t), pf, func(h *format.ChallengeSet) { h.RunID = "" }, "challenge: does not match the key: header run id \"\""},
		{"family", testKey(t), fam, nil, "challenge: does not match the key: header family \"prompts\", the prompt source is \"templates/v1\""},
		{"other file", testKey(t), other, nil, "challenge: does not match the key: header prompts digest"},
		{"digest", testKey(t), pf, func(h *format.ChallengeSet) { h.PromptsDigest = "00" }, "challenge: does not match the key: header prompts digest \"00\""},
		{"count", testKey(t), pf, func(h *format.ChallengeSet) { h.Count = 41 }, "challenge: n.txt: not enough prompts"},
		{"no source", testKey(t), nil, nil, "challenge: no prompt source"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := s.Header()
			if tc.tamper != nil {
				tc.tamper(&h)
			}
			err := Verify(tc.key, h, tc.src, recs)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tc.msg) {
				t.Errorf("error %q, want it to start %q", err, tc.msg)
			}
		})
	}
}

func TestVerifierStreams(t *testing.T) {
	fam := templatesV1Family(t)
	s := mustSet(t, testKey(t), "", fam, 1000)
	v, err := NewVerifier(testKey(t), s.Header(), fam)
	if err != nil {
		t.Fatal(err)
	}
	for i := range s.Len() {
		rec := s.Record(i)
		if err := v.Check(&rec); err != nil {
			t.Fatal(err)
		}
	}
	if v.Checked() != 1000 || v.Set().ID() != s.ID() {
		t.Errorf("Checked %d, set %s", v.Checked(), v.Set().ID())
	}
	// A set of 1000 verifies records of its first 10 from a smaller run.
	small := mustSet(t, testKey(t), "", fam, 10)
	rec := small.Record(9)
	if err := v.Check(&rec); err != nil {
		t.Errorf("record of a smaller set: %v", err)
	}
}
