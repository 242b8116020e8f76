//go:build !linux

package cli

import "os"

// Unread reports how many bytes wait unread in the pipe that f is an end of.
// It is relied on only where the writing end's answer is tested, on Linux;
// elsewhere ok is always false and a writer has no backlog to go by.
func Unread(f *os.File) (n int, ok bool) { return 0, false }

// ReaderGone reports whether f is the writing end of a pipe whose reader
// has closed it; elsewhere than on Linux it cannot tell and says no.
func ReaderGone(f *os.File) bool { return false }
