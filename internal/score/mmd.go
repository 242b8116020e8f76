package score

import (
	"fmt"

	"github.com/pot-audit/pot/format"
)

// MMD is a kernel two-sample statistic between the reference's and the
// candidate's samples of one challenge (several unseeded samples per side),
// after Gao et al. (2024), "Model Equality Testing". Each sample is its
// token sequence padded with -1 or truncated to length L (the longest
// sample's length when length <= 0), and two sequences are compared with
// the Hamming kernel
//
//	k(x, y) = (1/L) * #{l < L : x_l == y_l},
//
// the fraction of positions where they agree. The score is half the biased
// (V-statistic) squared MMD,
//
//	MMD = (mean_{i,j} k(X_i, X_j) + mean_{i,j} k(Y_i, Y_j) - 2 mean_{i,j} k(X_i, Y_j)) / 2,
//
// means over all pairs including i = j. It is the squared distance between
// the mean feature vectors of the two sets, whose features (one indicator
// per position and token, scaled by 1/sqrt(L)) are nonnegative and of norm
// 1, so it lies in [0, 1]: 0 for identical sets, 1 for two sets each made
// of one sequence repeated that disagree at every position. Being biased,
// it is positive in expectation even for samples of one model, by about
// (1 - mean k(X,X'))/2m + (1 - mean k(Y,Y'))/2n for m and n samples; the
// noise floor (see seqtest.Calibrate) absorbs that.
//
// MMD needs token ids on every sample and at least one sample per side; a
// failed sample is an error wrapping ErrFailed.
//
// Deprecated: its mean for two runs of one model is its bias, not 0, so a
// tolerance on it means nothing definite; use UnbiasedMMD. It stays until
// potcmp --score mmd is moved over.
func MMD(ref, cand []format.Record, length int) (float64, error) {
	if len(ref) == 0 || len(cand) == 0 {
		return 0, fmt.Errorf("%w: mmd needs samples on both sides (%d and %d)", ErrMissing, len(ref), len(cand))
	}
	x := make([][]int32, len(ref))
	y := make([][]int32, len(cand))
	for _, side := range []struct {
		name string
		recs []format.Record
		seqs [][]int32
	}{{"reference", ref, x}, {"candidate", cand, y}} {
		for i := range side.recs {
			r := &side.recs[i]
			if r.Err != "" {
				return 0, fmt.Errorf("%w: %s sample %d: %s", ErrFailed, side.name, r.Sample, r.Err)
			}
			if !idsOK(r) {
				return 0, fmt.Errorf("%w: mmd needs token ids (%s sample %d)", ErrMissing, side.name, r.Sample)
			}
			side.seqs[i] = r.Tokens
		}
	}
	return MMDTokens(x, y, length), nil
}

// MMDTokens is MMD on token sequences; both sets must be non-empty.
//
// Deprecated: biased, like MMD; use UnbiasedMMD.
func MMDTokens(x, y [][]int32, length int) float64 {
	if length <= 0 {
		for _, s := range x {
			length = max(length, len(s))
		}
		for _, s := range y {
			length = max(length, len(s))
		}
	}
	if length == 0 || len(x) == 0 || len(y) == 0 {
		return 0 // all sequences empty: identical
	}
	mxx := meanKernel(x, x, length)
	myy := meanKernel(y, y, length)
	mxy := meanKernel(x, y, length)
	return min(max((mxx+myy-2*mxy)/2, 0), 1)
}

// meanKernel is the mean Hamming kernel over all pairs of x and y.
func meanKernel(x, y [][]int32, length int) float64 {
	var agree int
	for _, a := range x {
		for _, b := range y {
			agree += hamming(a, b, length)
		}
	}
	return float64(agree) / (float64(length) * float64(len(x)) * float64(len(y)))
}

// hamming counts the positions l < length where a and b, padded with -1,
// agree.
func hamming(a, b []int32, length int) int {
	la, lb := min(len(a), length), min(len(b), length)
	n := 0
	for l := range min(la, lb) {
		if a[l] == b[l] {
			n++
		}
	}
	// Past the shorter sequence, both are padding where both have ended.
	n += length - max(la, lb)
	// A real token equal to the padding value -1 would also agree there.
	for l := min(la, lb); l < max(la, lb); l++ {
		if (l < la && a[l] == -1) || (l < lb && b[l] == -1) {
			n++
		}
	}
	return n
}
