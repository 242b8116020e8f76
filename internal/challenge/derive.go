package challenge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
)

// The labels that separate the uses of the key and of the seeds; see the
// package documentation for the byte layouts. Changing any of them changes
// every challenge set, so they are versioned, never edited.
const (
	labelCommitment = "pot/challenge/commitment/v1\x00"
	labelSeed       = "pot/challenge/seed/v1\x00"
	labelID         = "pot/challenge/id/v1\x00"
	labelSet        = "pot/challenge/set/v1\x00"
	labelTemplate   = "pot/challenge/template/v1\x00"
	labelPick       = "pot/challenge/pick/v1\x00"
)

// idHexLen is the length of challenge and set ids: 64 bits, so that a
// million challenges collide with probability below 1e-7.
const idHexLen = 16

// seed is a challenge's full 32-byte seed. Only its first 8 bytes leave the
// package (as Challenge.Seed); the prompt and id are drawn from all 32.
type seed [sha256.Size]byte

// appendLP appends s with its 4-byte big-endian length, so that
// concatenated fields cannot be re-split differently.
func appendLP(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// seeder derives challenge seeds for one key and run id. It keeps one HMAC
// and scratch buffer, so it is not safe for concurrent use.
type seeder struct {
	mac hash.Hash
	buf []byte // label || lp(runID), to which the index is appended
	n   int    // length of the fixed prefix in buf
}

func newSeeder(k Key, runID string) *seeder {
	buf := appendLP([]byte(labelSeed), runID)
	return &seeder{mac: hmac.New(sha256.New, k.b[:]), buf: buf, n: len(buf)}
}

func (s *seeder) seed(i uint64) seed {
	s.buf = binary.BigEndian.AppendUint64(s.buf[:s.n], i)
	s.mac.Reset()
	s.mac.Write(s.buf)
	var out seed
	s.mac.Sum(out[:0])
	return out
}

// seed64 is the challenge's public 64-bit seed.
func (s *seed) seed64() uint64 { return binary.BigEndian.Uint64(s[:8]) }

// challengeID derives a challenge's id one way from its seed, so that ids
// reveal nothing about other challenges; family and digest keep ids of sets
// with other prompts apart.
func challengeID(s *seed, family, digest string) string {
	b := make([]byte, 0, len(labelID)+len(s)+8+len(family)+len(digest))
	b = append(b, labelID...)
	b = append(b, s[:]...)
	b = appendLP(b, family)
	b = appendLP(b, digest)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:idHexLen/2])
}

// setID derives a set's id from its public description.
func setID(commitment, runID, family, digest string) string {
	b := []byte(labelSet)
	b = appendLP(b, commitment)
	b = appendLP(b, runID)
	b = appendLP(b, family)
	b = appendLP(b, digest)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:idHexLen/2])
}

// drawer is the deterministic draw stream of one challenge: HMAC-SHA256
// under the challenge seed in counter mode, read as big-endian uint64 words.
type drawer struct {
	mac   hash.Hash
	label string
	ctr   uint64
	block [sha256.Size]byte
	next  int // bytes of block already used
	buf   []byte
}

func newDrawer(s *seed, label string) *drawer {
	d := &drawer{mac: hmac.New(sha256.New, s[:]), label: label}
	d.next = len(d.block) // empty: the first draw computes block 0
	return d
}

func (d *drawer) uint64() uint64 {
	if d.next == len(d.block) {
		d.buf = binary.BigEndian.AppendUint64(append(d.buf[:0], d.label...), d.ctr)
		d.ctr++
		d.mac.Reset()
		d.mac.Write(d.buf)
		d.mac.Sum(d.block[:0])
		d.next = 0
	}
	v := binary.BigEndian.Uint64(d.block[d.next:])
	d.next += 8
	return v
}

// intn returns a uniform draw in [0, n) for n > 0, rejecting the top
// 2^64 mod n words so that no value is favoured.
func (d *drawer) intn(n int) int {
	un := uint64(n)
	// limit = 2^64 - (2^64 mod n); (MaxUint64 - n + 1) mod n == 2^64 mod n.
	rem := (math.MaxUint64 - un + 1) % un
	for {
		v := d.uint64()
		if rem == 0 || v < -rem {
			return int(v % un)
		}
	}
}

// SampleSeed returns the seed of one sample of a challenge, given the
// challenge's Seed, the sample index and the run's base seed (potgen
// --seed). It is
//
//	mix(mix(challengeSeed ^ mix(base)) + sample*0x9e3779b97f4a7c15)
//
// where mix is the splitmix64 finalizer, a bijection on uint64. For a fixed
// challenge and base, distinct samples (mod 2^64) therefore get distinct
// seeds; across challenges and bases the values are well mixed.
func SampleSeed(challengeSeed uint64, sample int, base uint64) uint64 {
	x := mix64(challengeSeed ^ mix64(base))
	return mix64(x + uint64(sample)*golden)
}

// golden is splitmix64's increment, 2^64 divided by the golden ratio; it is
// odd, so multiplying by it is a bijection.
const golden = 0x9e3779b97f4a7c15

// mix64 is splitmix64's output function (Steele, Lea and Flood 2014).
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
