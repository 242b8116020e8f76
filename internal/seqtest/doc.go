// Package seqtest decides, from a stream of numbers in [0, 1], whether
// their mean is below or above a tolerance, reading as few as it can: it
// holds time-uniform confidence sequences on the mean and the stopping rule
// of potcmp. It knows nothing of records or models; the numbers are
// whatever scores the caller computes.
//
// The observations x_1, x_2, ... are assumed to share a conditional mean:
// E[x_t | x_1 .. x_{t-1}] = mu. With tolerance eps and error level alpha,
// the verdict is Same when the upper confidence bound is at most eps,
// Different when the lower bound exceeds eps, and otherwise undecided; the
// caller stops at a verdict or when its budget runs out. The bounds hold at
// every n at once, so the verdict stays valid however the caller decides
// when to stop reading.
//
// Each side needs only a one-sided guarantee at level alpha, not a
// two-sided one at alpha/2. If mu <= eps, the only possible wrong verdict
// is Different, which needs the lower sequence to miss mu (it would have to
// rise above mu to exceed eps); if mu > eps, the only wrong verdict is
// Same, which needs the upper sequence to miss. A one-sided upper sequence
// at level alpha and a one-sided lower sequence at level alpha therefore
// give P(wrong verdict) <= alpha whatever mu is. (At mu = eps exactly both
// verdicts count as wrong and each has probability at most alpha.) The
// decision itself is a test at m = eps, for Same of the composite
// hypothesis mu >= eps, which one nonnegative supermartingale covers for
// every mu >= eps at once; the reported bounds invert the same construction
// over m, so the numbers shown agree with the verdict.
//
// Two tests are provided: Betting (the default), the betting confidence
// sequence of Waudby-Smith and Ramdas (2024), and EB, the
// empirical-Bernstein sequence kept as the baseline. Calibrate turns scores
// between two runs of the same model into a suggested tolerance. Ranged
// runs either on scores in another known interval, such as the unbiased
// MMD, which is 0 in mean for one model and so takes negative values.
//
// Rank is a test of another kind, for one candidate query per challenge:
// its observations are randomised ranks, uniform when the candidate is the
// trusted model; it says Different when a test martingale for that
// uniformity reaches 1/alpha, and Same when confidence sequences put the
// ranks' distribution within the tolerance of uniform.
package seqtest
