package stats

import (
	"cmp"
	"math"
	"slices"
)

// TV returns the total-variation distance between the distributions that
// two tables of counts describe: half the sum over all keys of the
// difference of the two relative frequencies, a number in [0, 1] that is 0
// for proportional tables and 1 for tables without a key in common.
// Non-positive counts are ignored. Two empty tables are at distance 0; an
// empty table and a non-empty one at distance 1.
func TV[K cmp.Ordered](a, b map[K]int64) float64 {
	na, nb := total(a), total(b)
	switch {
	case na == 0 && nb == 0:
		return 0
	case na == 0 || nb == 0:
		return 1
	}
	// Keys in order, so that the floating-point sum, and the digits
	// printed, do not depend on map iteration order.
	keys := make([]K, 0, len(a)+len(b))
	for k, c := range a {
		if c > 0 {
			keys = append(keys, k)
		}
	}
	for k, c := range b {
		if c > 0 && a[k] <= 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var d float64
	for _, k := range keys {
		d += math.Abs(float64(max(a[k], 0))/na - float64(max(b[k], 0))/nb)
	}
	return math.Min(d/2, 1)
}

func total[K comparable](m map[K]int64) float64 {
	var n float64
	for _, c := range m {
		if c > 0 {
			n += float64(c)
		}
	}
	return n
}

// KS returns the two-sample Kolmogorov-Smirnov statistic of a and b, the
// largest difference between their empirical distribution functions,
// computed exactly: both must be in increasing order as slices.Sort leaves
// them. Ties are handled by stepping over every value equal to the current
// one in both samples before comparing. NaNs, which slices.Sort puts
// first, are ignored. The result is in [0, 1]: 0 for samples with the same
// distribution function (identical samples, or one repeated k times), 1
// for samples whose ranges do not overlap. It is 0 when either sample is
// empty; callers that must tell the cases apart check the lengths.
func KS(a, b []float64) float64 {
	a, b = skipNaN(a), skipNaN(b)
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	na, nb := float64(len(a)), float64(len(b))
	var d float64
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		x := min(a[i], b[j])
		i0, j0 := i, j
		for i < len(a) && a[i] <= x {
			i++
		}
		for j < len(b) && b[j] <= x {
			j++
		}
		if i == i0 && j == j0 {
			break // a NaN in the middle: the input was not sorted
		}
		d = max(d, math.Abs(float64(i)/na-float64(j)/nb))
	}
	// Once one sample is used up its distribution function is 1 and the
	// other's only climbs towards it: the largest gap is already seen.
	return d
}

func skipNaN(s []float64) []float64 {
	for len(s) > 0 && math.IsNaN(s[0]) {
		s = s[1:]
	}
	return s
}
