package challenge

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// ErrUnknownFamily is returned for a template family name that is not built in.
var ErrUnknownFamily = errors.New("challenge: unknown template family")

// TemplateFamily is a built-in family of prompt templates: short English
// story openings and instructions with slots filled from word lists. A
// family's content is frozen under its name: editing a template or a word
// changes every set drawn from it, so changes go into a new version.
//
// Challenge i's prompt is drawn from its draw stream (see the package
// documentation): first a template, uniformly, then each of the template's
// slot variables in order of first appearance, uniformly from its word list;
// variables sharing a word list ({name} and {name2}) draw without
// replacement, so a story never has two characters of the same name.
type TemplateFamily struct {
	name      string
	templates []*template
}

// Templates returns the built-in template family called name.
// "templates" names the newest version, "templates/v1".
func Templates(name string) (*TemplateFamily, error) {
	switch name {
	case "templates", "templates/v1":
		return buildFamily("templates/v1", vocabsV1(), templatesV1())
	}
	return nil, fmt.Errorf("%w %q (known: templates, templates/v1)", ErrUnknownFamily, name)
}

// Family returns the family's versioned name, such as "templates/v1".
func (f *TemplateFamily) Family() string { return f.name }

// Digest returns "": a built-in family is named by its version, not a file.
func (f *TemplateFamily) Digest() string { return "" }

// Len returns the number of templates in the family.
func (f *TemplateFamily) Len() int { return len(f.templates) }

// PromptSpace returns the exact number of distinct prompts the family can
// make: the sum over templates of the product of their variables' choices.
// Distinct choices give distinct prompts, which the package tests prove
// for the built-in families: each variable's first appearance is rendered
// from a prefix-free list, and no two templates can render the same string.
func (f *TemplateFamily) PromptSpace() *big.Int {
	total := new(big.Int)
	for _, t := range f.templates {
		total.Add(total, t.space())
	}
	return total
}

func (f *TemplateFamily) prompter(_ int, _ func(int) seed) (func(int, *seed) string, error) {
	return func(_ int, s *seed) string { return f.prompt(s) }, nil
}

// prompt draws a template and its words from s's draw stream.
func (f *TemplateFamily) prompt(s *seed) string {
	d := newDrawer(s, labelTemplate)
	t := f.templates[d.intn(len(f.templates))]
	return t.render(d)
}

// vocab is a word list. Each entry is rendered in one of several forms
// (a noun bare or with its article, a verb in its tenses, a name or its
// pronouns): words[e][f] is entry e in form f.
type vocab struct {
	name  string
	forms []string // form names; forms[0] is "", the bare entry
	words [][]string
}

func (v *vocab) form(name string) int {
	return slices.Index(v.forms, name)
}

// template is a parsed template: literals between slots, each slot naming a
// variable and a form.
type template struct {
	text  string
	lits  []string // len(lits) == len(slots)+1
	slots []slot
	vars  []*vocab // the variables, in order of first appearance
}

type slot struct {
	v    int // index into vars
	form int // index into vars[v].forms
}

// parseTemplate parses text whose slots are {var} or {var.form}. A
// variable's word list is its name without trailing digits, so {name} and
// {name2} are two characters from the names list.
func parseTemplate(text string, vocabs map[string]*vocab) (*template, error) {
	t := &template{text: text}
	varIndex := map[string]int{}
	rest := text
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			if strings.IndexByte(rest, '}') >= 0 {
				return nil, fmt.Errorf("template %q: unmatched }", text)
			}
			t.lits = append(t.lits, rest)
			return t, nil
		}
		lit := rest[:open]
		if strings.IndexByte(lit, '}') >= 0 {
			return nil, fmt.Errorf("template %q: unmatched }", text)
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("template %q: unclosed {", text)
		}
		ref := rest[open+1 : open+end]
		rest = rest[open+end+1:]
		t.lits = append(t.lits, lit)

		varName, formName, _ := strings.Cut(ref, ".")
		list := strings.TrimRight(varName, "0123456789")
		v, ok := vocabs[list]
		if !ok {
			return nil, fmt.Errorf("template %q: no word list %q", text, list)
		}
		f := v.form(formName)
		if f < 0 {
			return nil, fmt.Errorf("template %q: word list %q has no form %q", text, list, formName)
		}
		vi, seen := varIndex[varName]
		if !seen {
			vi = len(t.vars)
			varIndex[varName] = vi
			t.vars = append(t.vars, v)
		}
		t.slots = append(t.slots, slot{v: vi, form: f})
	}
}

// space is the number of ways to fill the template's variables.
func (t *template) space() *big.Int {
	p := big.NewInt(1)
	for i, v := range t.vars {
		p.Mul(p, big.NewInt(int64(len(v.words)-t.sameBefore(i))))
	}
	return p
}

// sameBefore counts the variables before i that share i's word list, whose
// entries i may not repeat.
func (t *template) sameBefore(i int) int {
	k := 0
	for _, v := range t.vars[:i] {
		if v == t.vars[i] {
			k++
		}
	}
	return k
}

// render draws the template's variables from d and fills the slots.
func (t *template) render(d *drawer) string {
	pick := make([]int, len(t.vars))
	for i, v := range t.vars {
		// Draw among the entries earlier variables of the same list left,
		// then step over those taken, in increasing order.
		var taken []int
		for j := range i {
			if t.vars[j] == v {
				taken = append(taken, pick[j])
			}
		}
		slices.Sort(taken)
		e := d.intn(len(v.words) - len(taken))
		for _, p := range taken {
			if e >= p {
				e++
			}
		}
		pick[i] = e
	}
	var b strings.Builder
	for i, s := range t.slots {
		b.WriteString(t.lits[i])
		b.WriteString(t.vars[s.v].words[pick[s.v]][s.form])
	}
	b.WriteString(t.lits[len(t.slots)])
	return b.String()
}

// buildFamily parses a family's templates against its word lists.
func buildFamily(name string, vocabs []*vocab, texts []string) (*TemplateFamily, error) {
	byName := map[string]*vocab{}
	for _, v := range vocabs {
		byName[v.name] = v
	}
	f := &TemplateFamily{name: name}
	for _, text := range texts {
		t, err := parseTemplate(text, byName)
		if err != nil {
			return nil, fmt.Errorf("challenge: family %s: %w", name, err)
		}
		f.templates = append(f.templates, t)
	}
	return f, nil
}

// Word list constructors. Each takes entries in a compact notation and
// expands their forms, so that the data files stay readable.

// nounList makes a list of nouns or adjectives with forms "" and "a" (with
// the indefinite article: "a ball", "an old").
func nounList(name string, entries ...string) *vocab {
	v := &vocab{name: name, forms: []string{"", "a"}}
	for _, e := range entries {
		v.words = append(v.words, []string{e, article(e) + " " + e})
	}
	return v
}

// plainList makes a list with only the bare form.
func plainList(name string, entries ...string) *vocab {
	v := &vocab{name: name, forms: []string{""}}
	for _, e := range entries {
		v.words = append(v.words, []string{e})
	}
	return v
}

// verbList makes a list of verb phrases written "base|past|ing", with
// forms "", "past" and "ing".
func verbList(name string, entries ...string) *vocab {
	v := &vocab{name: name, forms: []string{"", "past", "ing"}}
	for _, e := range entries {
		parts := strings.Split(e, "|")
		if len(parts) != 3 {
			panic(fmt.Sprintf("challenge: verb entry %q: want base|past|ing", e))
		}
		v.words = append(v.words, parts)
	}
	return v
}

// nameList makes a list of characters written "Name/she" or "Name/he",
// with forms "", "he", "him", "his", "He" and "His" for the pronouns.
func nameList(name string, entries ...string) *vocab {
	v := &vocab{name: name, forms: []string{"", "he", "him", "his", "He", "His"}}
	for _, e := range entries {
		n, p, _ := strings.Cut(e, "/")
		var w []string
		switch p {
		case "she":
			w = []string{n, "she", "her", "her", "She", "Her"}
		case "he":
			w = []string{n, "he", "him", "his", "He", "His"}
		default:
			panic(fmt.Sprintf("challenge: name entry %q: want Name/she or Name/he", e))
		}
		v.words = append(v.words, w)
	}
	return v
}

// article returns the indefinite article for a word by its sound, as far
// as the word lists need: "an" before a vowel except a "you" sound.
func article(w string) string {
	lw := strings.ToLower(w)
	for _, p := range []string{"uni", "use", "eu", "one", "ukulele"} {
		if strings.HasPrefix(lw, p) {
			return "a"
		}
	}
	for _, p := range []string{"hour", "honest", "honor"} {
		if strings.HasPrefix(lw, p) {
			return "an"
		}
	}
	if lw != "" && strings.ContainsRune("aeiou", rune(lw[0])) {
		return "an"
	}
	return "a"
}
