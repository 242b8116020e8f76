package seqtest

import "math"

// rng is splitmix64: small, seedable and fixed, so that the simulations in
// these tests give the same numbers with every Go release.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float is uniform on [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// normal is a standard normal variate (Marsaglia's polar method).
func (r *rng) normal() float64 {
	for {
		u, v := 2*r.float()-1, 2*r.float()-1
		s := u*u + v*v
		if s > 0 && s < 1 {
			return u * math.Sqrt(-2*math.Log(s)/s)
		}
	}
}

// gamma is a Gamma(k, 1) variate (Marsaglia and Tsang; for k < 1 the
// usual boost Gamma(k) = Gamma(k+1) U^(1/k)).
func (r *rng) gamma(k float64) float64 {
	if k < 1 {
		u := r.float()
		for u == 0 {
			u = r.float()
		}
		return r.gamma(k+1) * math.Pow(u, 1/k)
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.normal()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.float()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// beta is a Beta(a, b) variate.
func (r *rng) beta(a, b float64) float64 {
	x := r.gamma(a)
	y := r.gamma(b)
	if x+y == 0 {
		return 0
	}
	return x / (x + y)
}

// dist is a distribution on [0, 1] with a known mean.
type dist struct {
	name string
	mean float64
	draw func(r *rng) float64
}

func constant(c float64) dist {
	return dist{name: "const", mean: c, draw: func(*rng) float64 { return c }}
}

// betaMean is Beta with the given mean and concentration a+b = k.
func betaMean(mean, k float64) dist {
	a, b := mean*k, (1-mean)*k
	return dist{name: "beta", mean: mean, draw: func(r *rng) float64 { return r.beta(a, b) }}
}

func bernoulli(p float64) dist {
	return dist{name: "bernoulli", mean: p, draw: func(r *rng) float64 {
		if r.float() < p {
			return 1
		}
		return 0
	}}
}

// twoPoint takes lo and hi with the probabilities that give mean.
func twoPoint(lo, hi, mean float64) dist {
	p := (mean - lo) / (hi - lo)
	return dist{name: "two-point", mean: mean, draw: func(r *rng) float64 {
		if r.float() < p {
			return hi
		}
		return lo
	}}
}

// atomMix is 0 with probability p0, else Beta(a, b): the shape of token
// scores from a nondeterministic server (mostly identical, sometimes not).
func atomMix(p0, a, b float64) dist {
	return dist{name: "atom+beta", mean: (1 - p0) * a / (a + b), draw: func(r *rng) float64 {
		if r.float() < p0 {
			return 0
		}
		return r.beta(a, b)
	}}
}

func uniform(lo, hi float64) dist {
	return dist{name: "uniform", mean: (lo + hi) / 2, draw: func(r *rng) float64 { return lo + (hi-lo)*r.float() }}
}
