package challenge

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/big"
	"regexp"
	"strings"
	"testing"
)

func TestTemplatesNames(t *testing.T) {
	a, err := Templates("templates")
	if err != nil {
		t.Fatal(err)
	}
	if a.Family() != "templates/v1" || a.Digest() != "" {
		t.Errorf("Templates(\"templates\") is %q %q", a.Family(), a.Digest())
	}
	_, err = Templates("templates/v9")
	if !errors.Is(err, ErrUnknownFamily) || !strings.Contains(err.Error(), `"templates/v9"`) {
		t.Errorf("unknown family: %v", err)
	}
}

func TestPromptSpace(t *testing.T) {
	fam := templatesV1Family(t)
	if fam.Len() < 40 {
		t.Errorf("%d templates, want at least 40", fam.Len())
	}
	space := fam.PromptSpace()
	t.Logf("templates/v1: %d templates, %s distinct prompts", fam.Len(), space)
	if space.Cmp(big.NewInt(1e9)) <= 0 {
		t.Errorf("prompt space %s, want above 1e9", space)
	}
	// A template with a small space would repeat its prompts in a large
	// set, and repeated prompts tell an audit less.
	for _, tm := range fam.templates {
		if tm.space().Cmp(big.NewInt(1e6)) < 0 {
			t.Errorf("template %q makes only %s prompts", tm.text, tm.space())
		}
	}
	// Frozen with the family.
	if got, want := space.String(), "3065495400"; got != want {
		t.Errorf("prompt space %s, want %s", got, want)
	}
}

// TestPromptSpaceExact counts the prompts of a small family by drawing
// until no new one appears, and compares with PromptSpace.
func TestPromptSpaceExact(t *testing.T) {
	vocabs := []*vocab{
		nameList("name", "Ann/she", "Bob/he", "Cy/he"),
		nounList("animal", "owl", "dog"),
	}
	fam, err := buildFamily("test", vocabs, []string{
		"{name} and {name2}.",      // 3*2 without replacement
		"{name} saw {animal.a}.",   // 3*2
		"{name.He} liked {name}.",  // pronoun repeats its name: 3
		"The {animal} and {name}.", // 2*3
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var s seed
	for i := range 5000 {
		s[0], s[1] = byte(i), byte(i>>8)
		p := fam.prompt(&s)
		if strings.Contains(p, "Ann and Ann") || strings.Contains(p, "Bob and Bob") || strings.Contains(p, "Cy and Cy") {
			t.Fatalf("%q repeats a name", p)
		}
		seen[p] = true
	}
	if got, want := int64(len(seen)), fam.PromptSpace().Int64(); got != want || want != 21 {
		t.Errorf("%d distinct prompts seen, PromptSpace %d, want 21", got, want)
	}
	for _, p := range []string{"Ann saw an owl.", "She liked Ann.", "He liked Cy."} {
		if !seen[p] {
			t.Errorf("never drew %q", p)
		}
	}
}

var (
	wrongArticle = regexp.MustCompile(`\b(a [aeio]|an [^aeiouh])`)
	doubleSpace  = regexp.MustCompile(`  |\s[,.!?]`)
)

func TestPromptsFilled(t *testing.T) {
	s := mustSet(t, testKey(t), "filled", templatesV1Family(t), 10_000)
	for i := range s.Len() {
		p := s.Challenge(i).Prompt
		switch {
		case strings.ContainsAny(p, "{}"):
			t.Fatalf("challenge %d: unfilled slot in %q", i, p)
		case p == "" || strings.TrimSpace(p) != p:
			t.Fatalf("challenge %d: prompt %q is blank or padded", i, p)
		case wrongArticle.MatchString(p):
			t.Fatalf("challenge %d: wrong article in %q", i, p)
		case doubleSpace.MatchString(p):
			t.Fatalf("challenge %d: bad spacing in %q", i, p)
		}
	}
}

func TestArticle(t *testing.T) {
	for w, want := range map[string]string{
		"ball": "a", "apple": "an", "old": "an", "unicorn": "a", "umbrella": "an",
		"honest": "an", "hat": "a", "egg": "an", "yo-yo": "a", "orange": "an",
	} {
		if got := article(w); got != want {
			t.Errorf("article(%q) = %q, want %q", w, got, want)
		}
	}
}

// TestTemplatesInjective proves that a template's distinct choices give
// distinct prompts: reading a prompt left to right, each variable first
// appears in a form whose list is prefix-free, so only one entry matches
// there, and every later slot and literal is then fixed.
func TestTemplatesInjective(t *testing.T) {
	for _, tmpl := range templatesV1Family(t).templates {
		firstForm := make([]int, len(tmpl.vars))
		for i := range firstForm {
			firstForm[i] = -1
		}
		for _, s := range tmpl.slots {
			if firstForm[s.v] < 0 {
				firstForm[s.v] = s.form
			}
		}
		for i, v := range tmpl.vars {
			words := make([]string, len(v.words))
			for e := range v.words {
				words[e] = v.words[e][firstForm[i]]
			}
			if a, b, ok := prefixPair(words); ok {
				t.Errorf("template %q: in list %s form %q, %q is a prefix of %q", tmpl.text, v.name, v.forms[firstForm[i]], a, b)
			}
		}
	}
}

// prefixPair returns two entries of words of which the first is a prefix
// of (or equal to) the second, if any.
func prefixPair(words []string) (string, string, bool) {
	for i, a := range words {
		for j, b := range words {
			if i != j && strings.HasPrefix(b, a) {
				return a, b, true
			}
		}
	}
	return "", "", false
}

// TestTemplatesDisjoint proves that no two templates can render the same
// prompt, so that PromptSpace may add their counts. Each template is read
// as a sequence of segments, each a set of strings (a literal, or every
// word a slot may hold); two templates share a prompt only if some
// choice of segments spells the same string in both, which a search over
// (segment in a, segment in b, unmatched overhang) decides.
func TestTemplatesDisjoint(t *testing.T) {
	tmpls := templatesV1Family(t).templates
	segs := make([][][]string, len(tmpls))
	for i, tm := range tmpls {
		segs[i] = segments(tm)
	}
	for i := range tmpls {
		for j := i + 1; j < len(tmpls); j++ {
			if w, ok := commonString(segs[i], segs[j]); ok {
				t.Errorf("templates %q and %q can both render %q", tmpls[i].text, tmpls[j].text, w)
			}
		}
	}
}

// TestCommonString checks the search on templates that do overlap.
func TestCommonString(t *testing.T) {
	a := [][]string{{"a "}, {"big", "big red"}, {" ball"}}
	b := [][]string{{"a big "}, {"red ball", "blue ball"}}
	if w, ok := commonString(a, b); !ok || w != "a big red ball" {
		t.Errorf("commonString = %q, %v", w, ok)
	}
	c := [][]string{{"a "}, {"big", "small"}, {" ball."}}
	if w, ok := commonString(a, c); ok {
		t.Errorf("commonString found %q in disjoint templates", w)
	}
}

func segments(t *template) [][]string {
	var out [][]string
	lit := func(s string) {
		if s != "" {
			out = append(out, []string{s})
		}
	}
	for i, s := range t.slots {
		lit(t.lits[i])
		v := t.vars[s.v]
		words := make([]string, len(v.words))
		for e := range v.words {
			words[e] = v.words[e][s.form]
		}
		out = append(out, words)
	}
	lit(t.lits[len(t.slots)])
	return out
}

// commonString returns a string both segment sequences can spell. Treating
// every slot as free over-approximates the templates (a repeated variable
// is really fixed), so "none" is a proof and "some" may be spurious.
func commonString(a, b [][]string) (string, bool) {
	type state struct {
		i, j  int
		over  string // spelled by the side ahead and not yet by the other
		aHead bool
	}
	type item struct {
		st     state
		prefix string // the common string so far, for the report
	}
	seen := map[state]bool{}
	stack := []item{{st: state{aHead: true}}}
	push := func(st state, prefix string) {
		if st.over == "" {
			st.aHead = true
		}
		if !seen[st] {
			seen[st] = true
			stack = append(stack, item{st, prefix})
		}
	}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		st := it.st
		if st.over == "" {
			if st.i == len(a) && st.j == len(b) {
				return it.prefix, true
			}
			if st.i < len(a) {
				for _, x := range a[st.i] {
					push(state{st.i + 1, st.j, x, true}, it.prefix)
				}
			} else {
				for _, y := range b[st.j] {
					push(state{st.i, st.j + 1, y, false}, it.prefix)
				}
			}
			continue
		}
		// The side behind spells its next segment against the overhang.
		behind, k := b, st.j
		if !st.aHead {
			behind, k = a, st.i
		}
		if k == len(behind) {
			continue
		}
		next := func(over string, aHead bool) state {
			if st.aHead {
				return state{st.i, st.j + 1, over, aHead}
			}
			return state{st.i + 1, st.j, over, aHead}
		}
		for _, y := range behind[k] {
			switch {
			case strings.HasPrefix(st.over, y):
				push(next(st.over[len(y):], st.aHead), it.prefix+y)
			case strings.HasPrefix(y, st.over):
				push(next(y[len(st.over):], !st.aHead), it.prefix+st.over)
			}
		}
	}
	return "", false
}

// TestTemplatesFrozen pins the prompts templates/v1 gives: a change to
// the family's words, templates or draw order fails here.
func TestTemplatesFrozen(t *testing.T) {
	s := mustSet(t, testKey(t), "", templatesV1Family(t), 1000)
	h := sha256.New()
	for i := range s.Len() {
		h.Write([]byte(s.Challenge(i).Prompt))
		h.Write([]byte{0})
	}
	if got, want := hex.EncodeToString(h.Sum(nil)), "3b53160c1f3178a9718fa83b11a8ebd871eec8f1654fbf9f3fe4f278999c3e89"; got != want {
		t.Errorf("digest of the first 1000 prompts %s, want %s", got, want)
	}
	if got, want := s.Challenge(0).Prompt, "Who ate the peach that Clara and Danny left in the pet shop?"; got != want {
		t.Errorf("prompt 0 %q, want %q", got, want)
	}
}
