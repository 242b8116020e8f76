// Package stats holds the distributional statistics potstat and potcmp
// report: summaries of a sample, the total-variation distance between two
// count distributions, the two-sample Kolmogorov-Smirnov statistic, an SVG
// histogram writer; the divergences between two streams' samples with
// confidence intervals and a permutation null (Between); the unbiased MMD
// on a kernel matrix and the randomised rank, with the fixed-n tests they
// are compared with (the MMD permutation test, Cramér-von Mises). It knows
// nothing of streams or records, only numbers and counts, so that each
// statistic can be checked by hand.
package stats

import (
	"math"
)

// Summary describes a sample of numbers.
type Summary struct {
	N    int     // values in the sample
	Mean float64 // arithmetic mean
	SD   float64 // sample standard deviation (divisor N-1); 0 when N < 2
	Min  float64
	Max  float64
	Q50  float64 // median
	Q90  float64
	Q99  float64
	Zero float64 // fraction of the values that are exactly 0
}

// Summarize describes sorted, a sample in increasing order (as by
// slices.Sort) without NaN. An empty sample gives the zero Summary.
func Summarize(sorted []float64) Summary {
	n := len(sorted)
	if n == 0 {
		return Summary{}
	}
	s := Summary{N: n, Min: sorted[0], Max: sorted[n-1]}
	var sum float64
	zeros := 0
	for _, v := range sorted {
		sum += v
		if v == 0 {
			zeros++
		}
	}
	s.Mean = sum / float64(n)
	if n > 1 {
		// Two passes: the one-pass formula loses everything to
		// cancellation when the spread is small against the mean.
		var ss float64
		for _, v := range sorted {
			d := v - s.Mean
			ss += d * d
		}
		s.SD = math.Sqrt(ss / float64(n-1))
	}
	s.Zero = float64(zeros) / float64(n)
	s.Q50 = Quantile(sorted, 0.5)
	s.Q90 = Quantile(sorted, 0.9)
	s.Q99 = Quantile(sorted, 0.99)
	return s
}

// Quantile returns the q-quantile (0 <= q <= 1) of sorted, a sample in
// increasing order, interpolating linearly between the order statistics
// around position q*(n-1) (type 7 of Hyndman and Fan, the default of R and
// NumPy). It returns NaN for an empty sample; q outside [0, 1] is clamped.
func Quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	q = math.Min(math.Max(q, 0), 1)
	h := q * float64(n-1)
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	f := h - float64(lo)
	if f == 0 {
		return sorted[lo]
	}
	return sorted[lo] + f*(sorted[lo+1]-sorted[lo])
}
