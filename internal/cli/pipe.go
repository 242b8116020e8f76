package cli

import "os"

// isPipe reports whether f is a pipe or FIFO.
func isPipe(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeNamedPipe != 0
}
