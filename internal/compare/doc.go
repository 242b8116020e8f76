// Package compare is the comparison core of pot: it joins a candidate
// stream with a reference stream on (challenge id, sample), scores each
// pair and runs the sequential test that decides SAME or DIFFERENT. It
// holds the reference store (Load, LoadStreamed), the candidate feed
// (Run), the header checks that tell whether two streams can be compared
// at all (Compatible, SameSet), and the modes the tools offer as plain
// functions: One reference and one candidate, a candidate against several
// references (Match), and the noise floor of two runs (Calibrate).
//
// Nothing here parses flags or prints verdicts; a Config says what to do
// and a Result what was found.
package compare
