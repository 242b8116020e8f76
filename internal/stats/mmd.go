package stats

import (
	"math"
	"math/rand/v2"
)

// Gram is the kernel matrix of one two-sample problem: the samples of side
// P (the first M) and of side Q (the next N), K[i*(M+N)+j] = k(s_i, s_j).
// The kernel must be positive definite with values in [0, 1] and k(s, s) =
// 1, like the Hamming kernel on token positions or a cosine of counts.
//
// Paired says that M == N and that P's sample i and Q's sample i may be
// dependent (pot's samples of one index share their seed on both sides,
// so the same model gives them equal), while samples of different indices
// are independent: the statistic then leaves those pairs out of its cross
// term, and the permutation test only swaps within them.
type Gram struct {
	K      []float64
	M, N   int
	Paired bool
}

// UnbiasedMMD is half the unbiased estimate of the squared maximum mean
// discrepancy between the distributions of P and Q (Gretton et al., 2012):
//
//	U = ( mean_{i!=j} k(X_i, X_j) + mean_{i!=j} k(Y_i, Y_j) - 2 mean k(X_i, Y_j) ) / 2
//
// with the cross mean over all M*N pairs, or, when paired, over the pairs
// i != j only. Its expectation is exactly MMD^2(P, Q) / 2 whenever the
// samples within each side are independent and the cross pairs it uses
// are too, so it is 0 in expectation when P = Q (the biased V-statistic is
// not: its mean is its bias). It can be negative. UnbiasedMMDRange gives
// its bounds. It needs M, N >= 2 and returns 0 otherwise.
func UnbiasedMMD(g Gram) float64 {
	m, n := g.M, g.N
	if m < 2 || n < 2 || len(g.K) != (m+n)*(m+n) {
		return 0
	}
	w := m + n
	var xx, yy, xy float64
	for i := range m {
		row := g.K[i*w : (i+1)*w]
		for j := range m {
			if j != i {
				xx += row[j]
			}
		}
		for j := range n {
			if !g.Paired || j != i {
				xy += row[m+j]
			}
		}
	}
	for i := range n {
		row := g.K[(m+i)*w : (m+i+1)*w]
		for j := range n {
			if j != i {
				yy += row[m+j]
			}
		}
	}
	cross := float64(m) * float64(n)
	if g.Paired {
		cross -= float64(m)
	}
	u := xx/float64(m*(m-1)) + yy/float64(n*(n-1)) - 2*xy/cross
	return u / 2
}

// BiasedMMD is half the biased (V-statistic) squared MMD of g: the means
// over all pairs, i = j included, and pairing ignored,
//
//	V = ( mean_{i,j} k(X_i, X_j) + mean_{i,j} k(Y_i, Y_j) - 2 mean_{i,j} k(X_i, Y_j) ) / 2.
//
// It is in [0, 1], and its mean for two samples of one model is its bias,
// about (1 - mean k(X,X'))/2M + (1 - mean k(Y,Y'))/2N, not 0: no tolerance
// on it means anything definite. It is here only so that evaluations can
// show that bias beside UnbiasedMMD; no verdict is made from it.
func BiasedMMD(g Gram) float64 {
	m, n := g.M, g.N
	w := m + n
	if m == 0 || n == 0 || len(g.K) != w*w {
		return 0
	}
	// block sums the kernel over rows [r0, r1) and columns [c0, c1).
	block := func(r0, r1, c0, c1 int) (s float64) {
		for i := r0; i < r1; i++ {
			for _, v := range g.K[i*w+c0 : i*w+c1] {
				s += v
			}
		}
		return s
	}
	xx, yy, xy := block(0, m, 0, m), block(m, w, m, w), block(0, m, m, w)
	fm, fn := float64(m), float64(n)
	return min(max((xx/(fm*fm)+yy/(fn*fn)-2*xy/(fm*fn))/2, 0), 1)
}

// UnbiasedMMDRange is the interval UnbiasedMMD lies in for any samples and
// any kernel as Gram describes, with m and n samples (paired or not): hi =
// 1, and lo = -1/(n-1) when paired, -(1/m + 1/n)/2 otherwise. The lower
// ends follow from writing the statistic with the kernel's feature map: in
// the paired form it is sum_{i!=j} <d_i, d_j> / (2n(n-1)) with d_i =
// phi(X_i) - phi(Y_i), at least -sum ||d_i||^2 / (2n(n-1)) and ||d_i||^2 <=
// 2; in the other, it is ||a - b||^2/2 + (||a||^2 - 1)/(2(m-1)) +
// (||b||^2 - 1)/(2(n-1)) with a and b the mean features, and ||a||^2 >=
// 1/m for a kernel that is never negative. A sequential test of the mean
// score handles the statistic once mapped from this interval onto [0, 1].
func UnbiasedMMDRange(m, n int, paired bool) (lo, hi float64) {
	if m < 2 || n < 2 {
		return 0, 1
	}
	if paired && m == n {
		return -1 / float64(n-1), 1
	}
	return -(1/float64(m) + 1/float64(n)) / 2, 1
}

// MMDPermutationTest is the fixed-n kernel two-sample test of Model
// Equality Testing (Gao et al., 2024) over many prompts at once: the
// statistic is the sum over the groups (one per prompt) of UnbiasedMMD,
// and its p-value is that of a permutation test that reassigns the side
// labels within each group: all M+N samples of an unpaired group are
// shuffled, and a paired group has each pair swapped or not by a fair coin,
// which are the relabellings under which the samples are exchangeable when
// both sides sample the same model. With perms relabellings,
//
//	p = (1 + #{relabelled statistic >= observed}) / (1 + perms),
//
// valid at any fixed number of groups: P(p <= a) <= a under the null. It is
// deterministic given seed. It is not anytime-valid: looked at after every
// prompt, it would reject a true null far more often than a.
func MMDPermutationTest(groups []Gram, perms int, seed uint64) (stat, p float64) {
	rng := rand.New(rand.NewPCG(seed, 0x6d6d64))
	prep := make([]permGroup, len(groups))
	for i, g := range groups {
		prep[i] = newPermGroup(g)
		stat += prep[i].stat(nil)
	}
	if perms <= 0 {
		return stat, 1
	}
	ge := 0
	var buf []int
	for range perms {
		var s float64
		for i := range prep {
			buf = prep[i].relabel(rng, buf)
			s += prep[i].stat(buf)
		}
		// A relative slack, so that a relabelling that reproduces the
		// observed statistic but for rounding counts as reaching it.
		if s >= stat-1e-12*(1+math.Abs(stat)) {
			ge++
		}
	}
	return stat, float64(1+ge) / float64(1+perms)
}

// permGroup holds what a group's relabelled statistic needs. For a paired
// group of n pairs it is the n x n matrix
//
//	H_ij = k(X_i, X_j) + k(Y_i, Y_j) - k(X_i, Y_j) - k(Y_i, X_j),
//
// with which the statistic is sum_{i!=j} s_i s_j H_ij / (2n(n-1)) for the
// swap signs s; for an unpaired one, the Gram matrix itself.
type permGroup struct {
	g Gram
	h []float64
}

func newPermGroup(g Gram) permGroup {
	pg := permGroup{g: g}
	if g.Paired && g.M == g.N {
		n, w := g.N, 2*g.N
		pg.h = make([]float64, n*n)
		for i := range n {
			for j := range n {
				pg.h[i*n+j] = g.K[i*w+j] + g.K[(n+i)*w+n+j] - g.K[i*w+n+j] - g.K[(n+i)*w+j]
			}
		}
	}
	return pg
}

// relabel draws a relabelling into buf: swap signs (0 or 1) for a paired
// group, a permutation of the M+N samples otherwise.
func (pg *permGroup) relabel(rng *rand.Rand, buf []int) []int {
	if pg.h != nil {
		buf = buf[:0]
		for range pg.g.N {
			buf = append(buf, int(rng.Uint64()&1))
		}
		return buf
	}
	w := pg.g.M + pg.g.N
	buf = buf[:0]
	for i := range w {
		buf = append(buf, i)
	}
	rng.Shuffle(w, func(i, j int) { buf[i], buf[j] = buf[j], buf[i] })
	return buf
}

// stat is the group's statistic under relabelling lab (nil: as observed).
func (pg *permGroup) stat(lab []int) float64 {
	g := pg.g
	if g.M < 2 || g.N < 2 {
		return 0
	}
	if lab == nil {
		return UnbiasedMMD(g)
	}
	if pg.h != nil {
		n := g.N
		var s float64
		for i := range n {
			si := 1 - 2*lab[i]
			row := pg.h[i*n : (i+1)*n]
			var r float64
			for j := range n {
				if j != i {
					r += float64(1-2*lab[j]) * row[j]
				}
			}
			s += float64(si) * r
		}
		return s / (2 * float64(n*(n-1)))
	}
	m, n, w := g.M, g.N, g.M+g.N
	var xx, yy, xy float64
	for a := range w {
		ia := lab[a]
		for b := range w {
			if a == b {
				continue
			}
			v := g.K[ia*w+lab[b]]
			switch {
			case a < m && b < m:
				xx += v
			case a >= m && b >= m:
				yy += v
			case a < m:
				xy += v
			}
		}
	}
	return (xx/float64(m*(m-1)) + yy/float64(n*(n-1)) - 2*xy/(float64(m)*float64(n))) / 2
}
