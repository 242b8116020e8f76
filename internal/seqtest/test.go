package seqtest

import (
	"errors"
	"fmt"
	"math"
)

// Verdict is the outcome of a sequential comparison.
type Verdict int8

// The verdicts. Undecided is both "keep reading" and the caller's final
// answer when its budget runs out; the tests never give up on their own.
const (
	Undecided Verdict = iota
	Same              // the mean is below the tolerance
	Different         // the mean is above the tolerance
)

// String is the verdict as potcmp prints it: SAME, DIFFERENT or UNDECIDED.
func (v Verdict) String() string {
	switch v {
	case Same:
		return "SAME"
	case Different:
		return "DIFFERENT"
	}
	return "UNDECIDED"
}

// Test is a sequential test of the mean of observations in [0, 1] against a
// tolerance, with a confidence sequence on that mean. Implementations are
// not safe for concurrent use.
type Test interface {
	// Add records the next observation. It refuses NaN and values outside
	// [0, 1] with an error wrapping ErrValue and leaves the test unchanged.
	Add(x float64) error
	// N is the number of observations added.
	N() int
	// Mean is the mean of the observations, 0 before the first.
	Mean() float64
	// Bounds is the running confidence interval on the mean: with
	// probability at least 1-alpha per side it contains the mean at every n
	// at once. Before any observation it is [0, 1].
	Bounds() (lower, upper float64)
	// Decision is the verdict so far: Same or Different once either bound
	// has crossed the tolerance (the first crossing is final), Undecided
	// before.
	Decision() Verdict
}

// Errors returned by the package.
var (
	ErrValue = errors.New("seqtest: observation outside [0, 1]")
	ErrParam = errors.New("seqtest: bad parameter")
	ErrName  = errors.New("seqtest: unknown test")
)

// Names lists the tests that New knows, the default first.
func Names() []string { return []string{"betting", "eb"} }

// New returns the test called name ("betting" or "eb") at error level alpha
// and tolerance eps.
func New(name string, alpha, eps float64) (Test, error) {
	switch name {
	case "betting":
		return NewBetting(alpha, eps)
	case "eb":
		return NewEB(alpha, eps)
	}
	return nil, fmt.Errorf("%w %q (want betting or eb)", ErrName, name)
}

// checkParams accepts 0 < alpha < 1 and 0 < eps < 1: a tolerance of 0 could
// never be met by a confidence bound, and 1 could never be exceeded.
func checkParams(alpha, eps float64) error {
	if !(alpha > 0 && alpha < 1) {
		return fmt.Errorf("%w: alpha %v not in (0, 1)", ErrParam, alpha)
	}
	if !(eps > 0 && eps < 1) {
		return fmt.Errorf("%w: tolerance %v not in (0, 1)", ErrParam, eps)
	}
	return nil
}

// checkValue is the one place where observations are vetted.
func checkValue(x float64) error {
	if x >= 0 && x <= 1 { // false for NaN
		return nil
	}
	return fmt.Errorf("%w: %v", ErrValue, x)
}

// InformationLimit is the fewest observations after which any valid test
// could declare Same when every observation is 0: a test supermartingale for
// "mean >= eps" grows by at most 1/(1-eps) per zero and must reach 1/alpha,
// so n* = ln(1/alpha) / -ln(1-eps).
func InformationLimit(alpha, eps float64) float64 {
	return math.Log(1/alpha) / -math.Log1p(-eps)
}
