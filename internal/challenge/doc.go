// Package challenge derives an audit's challenge set from a secret key: the
// prompts, the challenge ids and the sampling seeds. The key's commitment is
// published before an audit and the key revealed after it, so that anyone can
// re-derive every challenge and check a stream against it (Verifier).
//
// # Derivation
//
// Every hash input starts with a label, an ASCII string ending in a NUL
// byte; labels contain no other NUL, so inputs under different labels never
// collide. Variable-length strings are written as a 4-byte big-endian length
// followed by their bytes (written lp(s) below), integers as 8-byte
// big-endian words (u64(i)). With K the 32-byte key:
//
//	commitment   = hex(SHA-256("pot/challenge/commitment/v1\x00" || K))
//	seed_i       = HMAC-SHA256(K, "pot/challenge/seed/v1\x00" || lp(runID) || u64(i))
//	Seed_i       = first 8 bytes of seed_i, big-endian
//	id_i         = hex(SHA-256("pot/challenge/id/v1\x00" || seed_i || lp(family) || lp(digest)))[:16]
//	set id       = hex(SHA-256("pot/challenge/set/v1\x00" || lp(commitment) || lp(runID) || lp(family) || lp(digest)))[:16]
//
// family is the prompt source's name ("templates/v1" or "prompts") and digest
// the prompt file's hex SHA-256 ("" for a template family), so two sets drawn
// from one key with other prompts never share a challenge id.
//
// Random choices for challenge i (which template and words, which line of a
// prompt file) come from a draw stream keyed by seed_i: block k is
// HMAC-SHA256(seed_i, label || u64(k)), read as four big-endian uint64
// words; a draw below n takes words until one is below 2^64 - (2^64 mod n)
// and returns it mod n, so draws are exactly uniform. The label is
// "pot/challenge/template/v1\x00" for template prompts and
// "pot/challenge/pick/v1\x00" for prompt file picks.
//
// A prompt file's lines are picked without replacement by a Fisher-Yates
// shuffle run in challenge order: with M lines and positions 0..M-1
// holding lines 0..M-1, challenge i draws j = i + draw(M-i) from its own
// stream, swaps positions i and j, and takes the line now at position i.
// The first n challenges of a set are the same whatever its size.
//
// Sample seeds are mixed from the challenge's Seed with SampleSeed.
package challenge
