// Package fanout_test runs the fan-out scripts of this folder for real:
// GNU parallel with local jobs and over ssh to an sshd on 127.0.0.1, and a
// Slurm job array on a one-node cluster the script starts. Each must give,
// once its outputs are joined with cat, exactly the records of the
// single-process run, even when one task was killed mid-run and run again.
package fanout_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pot-audit/pot/format"
)

const (
	challenges = 120
	shards     = 4
	killed     = 2 // the shard whose task is killed and rerun
)

func TestFanout(t *testing.T) {
	if testing.Short() {
		t.Skip("starts GNU parallel, sshd and Slurm; builds the tools")
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(os.PathSeparator),
		"github.com/pot-audit/pot/cmd/potgen", "github.com/pot-audit/pot/cmd/potsplit",
		"github.com/pot-audit/pot/cmd/potstat", "github.com/pot-audit/pot/cmd/potcmp")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, c := range []struct {
		script string
		root   bool     // needs root: it starts daemons
		needs  []string // commands it runs
		kill   bool     // kills a task and reruns it
	}{
		{"parallel.sh", false, []string{"parallel"}, true},
		{"parallel-ssh.sh", true, []string{"parallel", "ssh", "ssh-keygen", "rsync", "/usr/sbin/sshd"}, false},
		{"slurm.sh", true, []string{"munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scancel"}, true},
	} {
		t.Run(strings.TrimSuffix(c.script, ".sh"), func(t *testing.T) {
			if c.root && os.Geteuid() != 0 {
				t.Skipf("%s starts daemons as root; run the tests as root (.ci/run does)", c.script)
			}
			var missing []string
			for _, cmd := range c.needs {
				if _, err := exec.LookPath(cmd); err != nil {
					missing = append(missing, cmd)
				}
			}
			if len(missing) > 0 {
				t.Skipf("%s needs %s, not installed (.ci/run installs parallel, openssh-server, rsync, slurm-wlm and munge)", c.script, strings.Join(missing, ", "))
			}
			dir := t.TempDir()
			out := runScript(t, c.script, dir, bin, c.kill)
			if c.kill {
				for _, want := range []string{fmt.Sprintf("killed shard %d with", killed), fmt.Sprintf("reran shard %d", killed)} {
					if !strings.Contains(out, want) {
						t.Errorf("the script's output does not say %q:\n%s", want, out)
					}
				}
			}
			sameRecords(t, filepath.Join(dir, "seq.pot"), filepath.Join(dir, "out.pot"))
		})
	}
}

// runScript runs a script of this folder in dir with the tools in bin on
// its PATH, and returns what it printed.
func runScript(t *testing.T, script, dir, bin string, kill bool) string {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	abs, err := filepath.Abs(script)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, abs, dir)
	cmd.Dir = dir
	k, spec := "", "synth:1"
	if kill {
		k = fmt.Sprint(killed)
		// The task to kill must still be running when the kill lands:
		// synth:1 can finish a shard in the moment scancel takes to reach
		// it. This command answers after 50 ms, so every shard runs for
		// over a second whatever the machine's speed, with about a
		// kilobyte of text a record (hashes of the prompt, the same on
		// every run), so that the partial file the kill waits for grows
		// record by record.
		slow := filepath.Join(bin, "slowmodel")
		script := "#!/bin/sh\np=$(cat)\nprintf '%s\\n' \"$p\"\ni=0\nwhile [ $i -lt 24 ]; do printf '%s %d' \"$p\" $i | sha256sum | cut -c1-64; i=$((i + 1)); done\nsleep 0.05\n"
		if err := os.WriteFile(slow, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		spec = "exec:slowmodel"
	}
	cmd.Env = append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"MODEL="+spec, fmt.Sprintf("N=%d", challenges), fmt.Sprintf("SHARDS=%d", shards), "KILL="+k)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s%s", script, err, out, logs(dir))
	}
	return string(out)
}

// logs returns the ends of the daemons' logs in dir, to say why a script
// failed.
func logs(dir string) string {
	var b strings.Builder
	for _, pat := range []string{"sshd.log", "slurm/*.log", "slurm/*.err", "slurm-*.out"} {
		files, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, f := range files {
			data, _ := os.ReadFile(f)
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			fmt.Fprintf(&b, "--- %s\n%s\n", f, strings.Join(lines[max(0, len(lines)-10):], "\n"))
		}
	}
	return b.String()
}

type sampleKey struct {
	id     string
	sample uint32
}

// sameRecords checks that the fanned-out stream holds exactly the records
// of the single-process one, each once, under compatible headers. Records
// are compared whole but for their latency, which is the one field that
// depends on the machine's load; order is free, since shards go by a hash
// of the challenge id.
func sameRecords(t *testing.T, seqFile, outFile string) {
	seqHead, seq := readStream(t, seqFile)
	outHead, out := readStream(t, outFile)
	if why := format.Compatible(&seqHead[0], &outHead[0]); why != "" {
		t.Errorf("the joined stream differs from the single run in %s", why)
	}
	for i, h := range outHead {
		if h.Shard.Count != shards || h.Shard.By != "challenge" {
			t.Errorf("segment %d of the joined stream: shard %+v, want one of %d by challenge", i, h.Shard, shards)
		}
	}
	if len(seq) != challenges {
		t.Fatalf("the single run has %d records, want %d", len(seq), challenges)
	}
	want := map[sampleKey]format.Record{}
	for _, r := range seq {
		want[sampleKey{r.ID, r.Sample}] = r
	}
	seen := map[sampleKey]bool{}
	for _, r := range out {
		k := sampleKey{r.ID, r.Sample}
		if seen[k] {
			t.Errorf("challenge %s sample %d twice in the joined stream", r.ID, r.Sample)
			continue
		}
		seen[k] = true
		w, ok := want[k]
		if !ok {
			t.Errorf("challenge %s sample %d is not in the single run", r.ID, r.Sample)
			continue
		}
		if !sameTokenBytes(&r, &w) {
			t.Errorf("challenge %s sample %d: its tokens' bytes differ", r.ID, r.Sample)
		}
		// Each shard's segment has its own table of token bytes: the
		// records' own fields must be equal, not the tables they share.
		r.Pieces, w.Pieces = nil, nil
		if !reflect.DeepEqual(r, w) {
			t.Errorf("challenge %s sample %d differs:\n fan-out %+v\n single  %+v", r.ID, r.Sample, r, w)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("the joined stream has %d of the single run's %d records", len(seen), len(want))
	}
}

// sameTokenBytes reports whether two records know the same bytes for every
// token they hold.
func sameTokenBytes(a, b *format.Record) bool {
	if a.Positions() != b.Positions() || a.TopK != b.TopK {
		return false
	}
	for i := range a.Positions() {
		x, okx := a.Bytes(i)
		y, oky := b.Bytes(i)
		if x != y || okx != oky {
			return false
		}
		for j := range a.TopK {
			x, okx := a.TopBytesAt(i, j)
			y, oky := b.TopBytesAt(i, j)
			if x != y || okx != oky {
				return false
			}
		}
	}
	return true
}

// readStream reads a whole stream, checking every trailer, and returns its
// segments' headers and its records with their latency zeroed.
func readStream(t *testing.T, name string) ([]format.Header, []format.Record) {
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var heads []format.Header
	r, err := format.NewReader(bytes.NewReader(data), format.OnTrailer(func(tr format.Trailer) error {
		heads = append(heads, tr.Header)
		return nil
	}))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer r.Close()
	var recs []format.Record
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rec.Latency = 0
		recs = append(recs, rec)
	}
	if len(heads) == 0 {
		t.Fatalf("%s: no segment", name)
	}
	return heads, recs
}
