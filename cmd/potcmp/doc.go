// Command potcmp tells whether a candidate model behaves like a reference
// model: it joins their output streams challenge by challenge, scores each
// pair in [0, 1] and runs an anytime-valid sequential test that stops at the
// first SAME or DIFFERENT it can state at the chosen error level. Its exit
// status follows cmp(1): 0 SAME, 1 DIFFERENT, 2 trouble, 3 UNDECIDED.
//
// Run potcmp --help for the usage text, which is the description below.
package main

import _ "embed"

// usageText is the help text in help/synopsis.txt.
//
//go:embed help/synopsis.txt
var usageText string

// description is the help text in help/potcmp.txt.
//
//go:embed help/potcmp.txt
var description string
