//go:build !unix

package command

import "os/exec"

// killGroup leaves cancellation to os/exec, which kills the shell only:
// process groups are a Unix notion.
func killGroup(cmd *exec.Cmd) {}
