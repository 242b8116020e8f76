package score

import (
	"unicode/utf8"

	"github.com/pot-audit/pot/format"
)

// MaxTextRunes caps the text each side contributes to Text: only the first
// MaxTextRunes runes are compared, which bounds a pair's cost at about
// 16 million cell updates (some tens of milliseconds) whatever a stream
// holds. Outputs longer than that differ in their first 4096 runes anyway
// when the models do.
const MaxTextRunes = 4096

// Text is the Levenshtein distance between the two texts, counted in runes
// (insertions, deletions and substitutions of one rune each), divided by
// the rune length of the longer text; 0 when both are empty. Invalid UTF-8
// counts one rune per bad byte. It needs nothing but the text, so it
// compares any two backends, whatever their vocabularies.
func Text(ref, cand *format.Record) (float64, error) {
	if err := usable(ref, cand); err != nil {
		return 0, err
	}
	return TextDistance(ref.Text, cand.Text), nil
}

// TextDistance is Text on two strings.
func TextDistance(a, b string) float64 {
	ra, rb := runes(a), runes(b)
	n := max(len(ra), len(rb))
	if n == 0 {
		return 0
	}
	return float64(levenshtein(ra, rb)) / float64(n)
}

// runes decodes at most MaxTextRunes runes of s.
func runes(s string) []rune {
	out := make([]rune, 0, min(len(s), MaxTextRunes))
	for len(s) > 0 && len(out) < MaxTextRunes {
		r, size := utf8.DecodeRuneInString(s)
		out = append(out, r)
		s = s[size:]
	}
	return out
}

// levenshtein is the edit distance in O(len(a) len(b)) time and one row of
// O(min(len(a), len(b))) memory, after stripping the common prefix and
// suffix (which never change the distance and are most of a near match).
func levenshtein(a, b []rune) int {
	for len(a) > 0 && len(b) > 0 && a[0] == b[0] {
		a, b = a[1:], b[1:]
	}
	for len(a) > 0 && len(b) > 0 && a[len(a)-1] == b[len(b)-1] {
		a, b = a[:len(a)-1], b[:len(b)-1]
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(b) == 0 {
		return len(a)
	}
	// row[j] is the distance between the prefix of a read so far and b[:j].
	row := make([]int32, len(b)+1)
	for j := range row {
		row[j] = int32(j)
	}
	for i, ca := range a {
		diag := row[0] // distance of a[:i] and b[:0]
		row[0] = int32(i + 1)
		for j, cb := range b {
			cost := diag
			if ca != cb {
				cost++
			}
			diag = row[j+1]
			row[j+1] = min(cost, row[j]+1, diag+1)
		}
	}
	return int(row[len(b)])
}
