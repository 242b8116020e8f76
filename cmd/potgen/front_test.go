package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/compare"
	"github.com/pot-audit/pot/internal/generate"
	"github.com/pot-audit/pot/internal/streamtest"
)

// TestHelpStatesWasteBound checks that --help states the early-stop bound
// with the constants the code uses, so the two cannot drift apart.
func TestHelpStatesWasteBound(t *testing.T) {
	r := potgen(t, "--help")
	if r.code != 0 {
		t.Fatalf("--help: %+v", r)
	}
	help := strings.Join(strings.Fields(r.stdout), " ")
	for _, want := range []string{
		fmt.Sprintf("at most -j + %d queries beyond the records the reader took", generate.Slack),
		fmt.Sprintf("at most 2(J + %d) + %d queries that the verdict does not use", generate.Slack, compare.ReadAhead),
	} {
		if !strings.Contains(help, want) {
			t.Errorf("--help does not say %q", want)
		}
	}
	if got, want := generate.Waste(8, compare.ReadAhead), 2*(8+generate.Slack)+compare.ReadAhead; got != want {
		t.Errorf("Waste(8) = %d, the help says %d", got, want)
	}
}

// TestRefusesToReplace checks that -o over an existing file is refused
// unless --force says to replace it: a finished reference is not lost to a
// run that happens to name it.
func TestRefusesToReplace(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	out := filepath.Join(dir, "ref.pot")
	args := []string{"--model", "synth:1", "--key", key, "--max-tokens", "4"}
	if r := potgen(t, append(args, "-n", "6", "-o", out)...); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	before, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"generate", append(args, "-n", "2", "-o", out), "(--force replaces it, --resume continues it)"},
		{"challenges", []string{"challenges", "--key", key, "-n", "2", "-o", out}, "refusing to replace it (--force replaces it)\n"},
		{"resume and force", append(args, "-n", "6", "-o", out, "--resume", "--force"), "exclusive"},
	} {
		r := potgen(t, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s: %+v", tc.name, r)
		}
		if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
			t.Fatalf("%s: a refused run changed %s", tc.name, out)
		}
	}
	if r := potgen(t, append(args, "-n", "2", "-o", out, "--force")...); r.code != 0 {
		t.Fatalf("--force: %+v", r)
	}
	if _, recs := readFile(t, out); len(recs) != 2 {
		t.Fatalf("--force kept %d records, want the new run's 2", len(recs))
	}
	if r := potgen(t, "challenges", "--key", key, "-n", "3", "-o", out, "--force"); r.code != 0 {
		t.Fatalf("challenges --force: %+v", r)
	}
	leftovers(t, dir, "ref.pot", "audit.key")
}

// leftovers fails t if dir holds anything but want: no temporary or
// partial file may be left behind.
func leftovers(t *testing.T, dir string, want ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !slices.Contains(want, e.Name()) {
			t.Errorf("%s left in %s", e.Name(), dir)
		}
	}
}

// TestFreshResumeGrowsInPartial kills `potgen -o F --resume` that had
// nothing to resume: its work must be in F.partial, where the next
// --resume finds it, and not in a hidden temporary file the kill leaves.
func TestFreshResumeGrowsInPartial(t *testing.T) {
	exe, args, want := killSetup(t)
	work := t.TempDir()
	out := filepath.Join(work, "out.pot")
	cmd := exec.Command(exe, append(args, "-o", out, "--resume")...)
	cmd.Env = append(os.Environ(), "POTGEN_AS_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for a record or two, not for a time: the kill must find work.
	for {
		if data, err := os.ReadFile(out + ".partial"); err == nil {
			if recs, _, _ := streamtest.Read(data); len(recs) >= 2 {
				break
			}
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("the run finished and was never seen in %s.partial", out)
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	data, err := os.ReadFile(out + ".partial")
	if err != nil {
		t.Fatalf("after the kill: %v", err)
	}
	kept, _, _ := streamtest.Read(data)
	if len(kept) < 2 {
		t.Fatalf("%d records in %s.partial after the kill", len(kept), out)
	}
	leftovers(t, work, "out.pot.partial")
	if r := potgen(t, append(args, "-o", out, "--resume")...); r.code != 0 || !strings.Contains(r.stderr, "records kept") {
		t.Fatalf("resume: %+v", r)
	}
	_, got := readFile(t, out)
	sameOutputs(t, want, got)
	leftovers(t, work, "out.pot")
}

// TestInterruptReading sends SIGINT and SIGTERM to potgen verify checking
// an endless stream, where it used to read on: it stops and exits 1.
func TestInterruptReading(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(t.TempDir(), "endless.key")
	if err := os.WriteFile(key, append(streamtest.EndlessKey, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"verify", "--key", key, "-"}, "<stdin>: interrupted after"},
	} {
		for _, sig := range []os.Signal{syscall.SIGINT, syscall.SIGTERM} {
			t.Run(tc.args[0]+"/"+sig.String(), func(t *testing.T) {
				cmd := exec.Command(exe, tc.args...)
				cmd.Env = append(os.Environ(), "POTGEN_AS_MAIN=1")
				code, stderr := streamtest.Interrupt(t, cmd, sig)
				if code != 1 || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
					t.Fatalf("exit %d, stderr %q", code, stderr)
				}
			})
		}
	}
}

// TestInterruptChallenges sends SIGINT and SIGTERM to potgen challenges
// writing a set too large to finish (1.6 GB): it stops, exits 1 and
// leaves neither the output nor its temporary file.
func TestInterruptChallenges(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	key := writeKey(t, t.TempDir())
	for _, sig := range []os.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(exe, "challenges", "--key", key, "-n", "30000000", "-o", filepath.Join(dir, "ch.pot"))
			cmd.Env = append(os.Environ(), "POTGEN_AS_MAIN=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Signal it once it is writing: its temporary file has grown.
			for written := false; !written; {
				ents, _ := os.ReadDir(dir)
				for _, e := range ents {
					if info, err := e.Info(); err == nil && info.Size() > 0 {
						written = true
					}
				}
				time.Sleep(time.Millisecond)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(stderr.String(), "interrupted after") {
				t.Fatalf("exit %d, stderr %q", code, stderr.String())
			}
			leftovers(t, dir)
		})
	}
}

// killSetup is what the tests that kill potgen start from: the test binary
// as potgen, the arguments of a run and the records it makes uninterrupted.
func killSetup(t *testing.T) (exe string, args []string, want []format.Record) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	key := writeKey(t, dir)
	args = []string{"--model", "synth:4", "--key", key, "-n", "40", "--max-tokens", "24"}
	full := filepath.Join(dir, "full.pot")
	if r := potgen(t, append(args, "-o", full)...); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	_, want = readFile(t, full)
	return exe, args, want
}
