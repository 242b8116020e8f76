//go:build linux

package cli

import (
	"os"

	"golang.org/x/sys/unix"
)

// Unread reports how many bytes wait unread in the pipe that f is an end of:
// what a writer has put in and its reader not yet taken out. It works on
// either end, since Linux answers FIONREAD for the pipe, not for the end.
// ok is false when f is not a pipe (a file, a terminal, a socket) or the
// system does not say; a writer then has no backlog to go by.
//
// potgen uses it to stop starting queries while finished output sits unread:
// what waits in the pipe is work its reader may never want.
func Unread(f *os.File) (n int, ok bool) {
	if !isPipe(f) {
		return 0, false
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, false
	}
	var ioErr error
	// Control, not Fd: Fd would put the descriptor back in blocking mode.
	if err := rc.Control(func(fd uintptr) {
		n, ioErr = unix.IoctlGetInt(int(fd), unix.TIOCINQ) // TIOCINQ is FIONREAD under its Linux name
	}); err != nil || ioErr != nil {
		return 0, false
	}
	return n, true
}

// ReaderGone reports whether f is the writing end of a pipe whose reader
// has closed it: the next write would fail with EPIPE. A writer waiting for
// its reader (see Unread) asks, since it has nothing to write that would
// tell it.
func ReaderGone(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		if n, err := unix.Poll(fds, 0); err == nil && n > 0 {
			gone = fds[0].Revents&unix.POLLERR != 0
		}
	})
	return gone
}
