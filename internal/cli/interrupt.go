package cli

import (
	"context"
	"errors"
)

// ErrInterrupted is why a tool stopped on SIGINT or SIGTERM, or because
// its caller cancelled Env.Ctx.
var ErrInterrupted = errors.New("interrupted")

// CheckEvery is how many records a loop handles between two looks at its
// context: often enough to stop within a fraction of a second, rarely
// enough to cost nothing.
const CheckEvery = 256

// Interrupted returns ErrInterrupted, as a runtime failure (exit status
// 1), once ctx is done, and nil before. Every loop over records asks it:
// a signal caught and not looked at would let a tool run on to its end.
func Interrupted(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return Runtime(ErrInterrupted)
}
