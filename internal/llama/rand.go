package llama

import "math"

// Rand is the engine's random generator: SplitMix64. Its whole state is one
// uint64 that starts at the seed; each call to Uint64 adds the golden-ratio
// increment 0x9e3779b97f4a7c15 (mod 2^64) and returns the state mixed as
//
//	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
//	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
//	z =  z ^ (z >> 31)
//
// Float64 takes the top 53 bits of Uint64 times 2^-53, a value in [0, 1).
// It is written out here, rather than taken from math/rand, so that a seed
// gives the same stream on every machine and every Go release.
type Rand struct {
	state uint64
}

// NewRand returns a generator seeded with seed.
func NewRand(seed uint64) *Rand { return &Rand{state: seed} }

// Uint64 returns the next 64 random bits.
func (r *Rand) Uint64() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Float64 returns a uniform value in [0, 1).
func (r *Rand) Float64() float64 {
	return float64(r.Uint64()>>11) * 0x1p-53
}

// Norm returns a standard normal value by the Box-Muller transform,
// sqrt(-2 ln u1) cos(2 pi u2) with u1 = 1 - Float64() and u2 = Float64(),
// using one value per call (the sine half is dropped to keep the stream
// stateless apart from the seed).
func (r *Rand) Norm() float64 {
	u1 := 1 - r.Float64() // in (0, 1], so the logarithm is finite
	u2 := r.Float64()
	return math.Sqrt(-2*detLog(u1)) * math.Cos(2*math.Pi*u2)
}

// mix derives an independent seed from a seed and a label, so that one user
// seed can drive several streams (one per tensor, say) without overlap.
func mix(seed, label uint64) uint64 {
	r := Rand{state: seed ^ (label * 0xd1b54a32d192ed03)}
	r.Uint64()
	return r.Uint64()
}

// The Go math package computes Exp and Log in assembly on some machines and in
// Go on others, and the results may differ in the last bit. Sampling and
// synthetic weights must not depend on the machine, so the engine uses its
// own versions below, written with explicit conversions wherever the compiler
// could otherwise fuse a multiply and an add.

// Polynomial coefficients of the classic fdlibm reduction for exp and log
// (minimax fits on the reduced ranges).
const (
	ln2Hi = 6.93147180369123816490e-01
	ln2Lo = 1.90821492927058770002e-10
	log2e = 1.44269504088896338700e+00

	expP1 = 1.66666666666666019037e-01
	expP2 = -2.77777777770155933842e-03
	expP3 = 6.61375632143793436117e-05
	expP4 = -1.65339022054652515390e-06
	expP5 = 4.13813679705723846039e-08

	logL1 = 6.666666666666735130e-01
	logL2 = 3.999999999940941908e-01
	logL3 = 2.857142874366239149e-01
	logL4 = 2.222219843214978396e-01
	logL5 = 1.818357216161805012e-01
	logL6 = 1.531383769920937332e-01
	logL7 = 1.479819860511658591e-01
)

// detExp is e^x, reproducible bit for bit on every machine.
func detExp(x float64) float64 {
	switch {
	case x != x:
		return x
	case x > 7.09782712893383973096e+02:
		return math.Inf(1)
	case x < -7.45133219101941108420e+02:
		return 0
	}
	// x = k ln2 + r with |r| <= ln2/2, then e^r by a rational approximation.
	var k int
	if x < 0 {
		k = int(float64(log2e*x) - 0.5)
	} else {
		k = int(float64(log2e*x) + 0.5)
	}
	hi := x - float64(float64(k)*ln2Hi)
	lo := float64(float64(k) * ln2Lo)
	r := hi - lo
	t := float64(r * r)
	p := expP4 + float64(t*expP5)
	p = expP3 + float64(t*p)
	p = expP2 + float64(t*p)
	p = expP1 + float64(t*p)
	c := r - float64(t*p)
	y := 1 - ((lo - float64(r*c)/(2-c)) - hi)
	if k >= -1021 && k <= 1023 {
		// Multiplying by an exact power of two is what Ldexp does for a
		// normal result, without its special-case checks.
		return y * math.Float64frombits(uint64(k+1023)<<52)
	}
	return math.Ldexp(y, k)
}

// detLog is the natural logarithm for x > 0, reproducible on every machine.
func detLog(x float64) float64 {
	switch {
	case x != x || x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	case math.IsInf(x, 1):
		return x
	}
	f1, ki := math.Frexp(x)
	if f1 < math.Sqrt2/2 {
		f1 *= 2
		ki--
	}
	f := f1 - 1
	k := float64(ki)
	s := f / (2 + f)
	s2 := float64(s * s)
	s4 := float64(s2 * s2)
	t1 := logL5 + float64(s4*logL7)
	t1 = logL3 + float64(s4*t1)
	t1 = logL1 + float64(s4*t1)
	t1 = float64(s2 * t1)
	t2 := logL4 + float64(s4*logL6)
	t2 = logL2 + float64(s4*t2)
	t2 = float64(s4 * t2)
	rr := t1 + t2
	hfsq := float64(0.5 * float64(f*f))
	return float64(k*ln2Hi) - ((hfsq - (float64(s*(hfsq+rr)) + float64(k*ln2Lo))) - f)
}

// expf is e^x to float32 precision, for the activations (attention softmax,
// SiLU), where detExp's float64 accuracy is wasted and its cost shows. The
// reduction is detExp's; e^r on |r| <= ln2/2 is its Taylor polynomial of
// degree 7 (relative error below 1e-8), evaluated in float64 without fused
// operations, so it is as reproducible as detExp.
func expf(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > 88.8:
		return float32(math.Inf(1))
	case x < -103.9:
		return 0
	}
	xd := float64(x)
	k := math.Round(float64(xd * log2e))
	r := xd - float64(k*ln2Hi) - float64(k*ln2Lo)
	p := 1.0/5040 + float64(r*(1.0/40320))
	p = 1.0/720 + float64(r*p)
	p = 1.0/120 + float64(r*p)
	p = 1.0/24 + float64(r*p)
	p = 1.0/6 + float64(r*p)
	p = 0.5 + float64(r*p)
	p = 1 + float64(r*p)
	p = 1 + float64(r*p)
	// k is in [-150, 129]: the scale is a normal float64 power of two.
	return float32(p * math.Float64frombits(uint64(int64(k)+1023)<<52))
}
