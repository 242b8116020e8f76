package streamtest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/challenge"
)

// EndlessKey is the key of the challenge set Interrupt feeds, in the hex
// form of a key file, for a tool that checks the records against it.
var EndlessKey = bytes.Repeat([]byte("5a"), 32)

// Bounds of Interrupt, in records written into the pipe: the tool gets
// the signal once interruptAfter are written, and fails the test if it
// lets through stillReading more, where an honoured signal lets through
// what the pipe and one read buffer hold (a few thousand).
const (
	interruptAfter = 2000
	stillReading   = 200000
)

// Interrupt runs cmd, a tool as a process, on an endless challenge stream
// of EndlessKey's set fed to its standard input, and sends it sig once it
// is reading. The tool must then stop: the test fails if it goes on taking
// records from the pipe, by count, not by time, so that a loaded machine
// cannot fail it. It returns the tool's exit status and standard error.
func Interrupt(t testing.TB, cmd *exec.Cmd, sig os.Signal) (code int, stderr string) {
	t.Helper()
	key, err := challenge.ParseKey(EndlessKey)
	if err != nil {
		t.Fatal(err)
	}
	fam, err := challenge.Templates("templates")
	if err != nil {
		t.Fatal(err)
	}
	set, err := challenge.NewSet(key, "", fam, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	w, err := format.NewWriter(in, format.Header{Kind: format.KindChallenges, Challenges: set.Header(), Tool: "streamtest"}, format.WithFrameSize(64, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if i == interruptAfter {
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
		}
		rec := set.Record(i)
		if err := w.Write(&rec); err != nil {
			break // the tool has gone: the pipe is broken
		}
		if i == interruptAfter+stillReading {
			t.Fatalf("%s read %d records after %v and goes on", cmd.Path, stillReading, sig)
		}
	}
	in.Close()
	err = cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), errBuf.String()
}
