//go:build unix

package cli

import "syscall"

var errEPIPE error = syscall.EPIPE
