package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/streamtest"
)

func TestMain(m *testing.M) {
	streamtest.Main(m, map[string]func() int{
		"potsplit": func() int { return run(os.Args, os.Stdin, os.Stdout, os.Stderr) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}

// listDir returns the names in dir, hidden ones included, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestCommandLine(t *testing.T) {
	good := streamtest.Make(streamtest.Spec{Records: 40, Kind: "outputs", Samples: 2, Set: "c0ffee", Seed: 3, Tokens: 8, Skip: -1})
	truncated := good[:len(good)/2]
	none := streamtest.Make(streamtest.Spec{Records: 0, Kind: "outputs", Samples: 1, Set: "c0ffee", Seed: 1, Skip: -1})
	tests := []struct {
		name    string
		args    []string // after "potsplit"; DIR in an argument is the test's folder
		stdin   []byte
		code    int
		stdout  string   // substring of stdout
		stderr  string   // substring of stderr
		files   []string // exactly the files the folder holds afterwards, in.pot aside
		records []int    // records per shard file, in shard order
	}{
		{name: "help", args: []string{"--help"}, stdout: "FNV-1a"},
		{name: "version", args: []string{"--version"}, stdout: cli.Version},
		{name: "no mode", args: []string{"-o", "DIR/s-{}.pot", "DIR/in.pot"}, code: 2, stderr: "potsplit: give exactly one of -n SHARDS"},
		{name: "two modes", args: []string{"-n", "2", "--records", "5", "-o", "DIR/s-{}.pot", "DIR/in.pot"}, code: 2, stderr: "exactly one of"},
		{name: "zero shards", args: []string{"-n", "0", "-o", "DIR/s-{}.pot", "DIR/in.pot"}, code: 2, stderr: "-n 0: want at least 1"},
		{name: "zero records", args: []string{"--records", "0", "-o", "DIR/s-{}.pot", "DIR/in.pot"}, code: 2, stderr: "--records 0"},
		{name: "bad size", args: []string{"--size", "12q", "-o", "DIR/s-{}.pot", "DIR/in.pot"}, code: 2, stderr: `--size: "12q" is not a positive size`},
		{name: "negative size", args: []string{"--size", "-1k", "-o", "DIR/s-{}.pot", "DIR/in.pot"}, code: 2, stderr: "not a positive size"},
		{name: "no output", args: []string{"-n", "2", "DIR/in.pot"}, code: 2, stderr: "-o PATTERN is required"},
		{name: "pattern without index", args: []string{"-n", "2", "-o", "DIR/s.pot", "DIR/in.pot"}, code: 2, stderr: "has no {}"},
		{name: "unknown flag", args: []string{"--shards", "2"}, code: 2, stderr: "flag provided but not defined"},
		{name: "two inputs", args: []string{"-n", "2", "-o", "DIR/s-{}.pot", "DIR/in.pot", "DIR/in.pot"}, code: 2, stderr: "one input at a time"},
		{name: "flag after file", args: []string{"-o", "DIR/s-{}.pot", "DIR/in.pot", "-n", "2"}, files: []string{"s-0.pot", "s-1.pot"}},
		{name: "file after --", args: []string{"-n", "2", "-o", "DIR/s-{}.pot", "--", "-x.pot"}, code: 2, stderr: "-x.pot: no such file"},
		{name: "missing file", args: []string{"-n", "2", "-o", "DIR/s-{}.pot", "DIR/nope.pot"}, code: 2, stderr: "nope.pot: no such file or directory"},
		{name: "directory", args: []string{"-n", "2", "-o", "DIR/s-{}.pot", "DIR"}, code: 2, stderr: "is a directory"},
		{name: "missing output folder", args: []string{"-n", "2", "-o", "DIR/no/s-{}.pot", "DIR/in.pot"}, code: 2, stderr: "no such file or directory"},
		{name: "output is input", args: []string{"--records", "100", "-o", "DIR/{}in.pot", "DIR/0in.pot"}, code: 2, stderr: "output is also an input", files: []string{"0in.pot"}},
		{name: "empty stdin", args: []string{"-n", "2", "-o", "DIR/s-{}.pot"}, stdin: []byte{}, code: 2, stderr: "potsplit: <stdin>: record 0 (byte 0, segment 0): format: empty stream"},
		{name: "not a stream", args: []string{"-n", "2", "-o", "DIR/s-{}.pot", "-"}, stdin: []byte("hello, world\n"), code: 2, stderr: "<stdin>: record 0 (byte 0, segment 0): format: not a pot stream"},
		{name: "truncated", args: []string{"-n", "2", "-o", "DIR/s-{}.pot"}, stdin: truncated, code: 2, stderr: "format: truncated stream"},
		{name: "by challenge", args: []string{"-n", "3", "-o", "DIR/s-{}.pot", "DIR/in.pot"}, files: []string{"s-0.pot", "s-1.pot", "s-2.pot"}},
		{name: "more shards than challenges", args: []string{"-n", "30", "-o", "DIR/s{}.pot", "DIR/in.pot"}, files: shardNames("s%d.pot", 30)},
		{name: "by records", args: []string{"--records", "15", "-o", "DIR/r-{}.pot", "DIR/in.pot"}, files: []string{"r-0.pot", "r-1.pot", "r-2.pot"}, records: []int{15, 15, 10}},
		{name: "by records exact", args: []string{"--records", "20", "-o", "DIR/r-{}.pot", "-"}, stdin: good, files: []string{"r-0.pot", "r-1.pot"}, records: []int{20, 20}},
		{name: "one record a shard", args: []string{"--size", "1", "-o", "DIR/z-{}.pot", "DIR/in.pot"}, files: shardNames("z-%d.pot", 40)},
		{name: "size", args: []string{"--size", "2k", "-o", "DIR/z-{}.pot", "DIR/in.pot"}},
		{name: "no records by challenge", args: []string{"-n", "2", "-o", "DIR/e-{}.pot"}, stdin: none, files: []string{"e-0.pot", "e-1.pot"}, records: []int{0, 0}},
		{name: "no records by records", args: []string{"--records", "7", "-o", "DIR/e-{}.pot"}, stdin: none, files: []string{"e-0.pot"}, records: []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "in.pot"), good, 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.name == "output is input" {
				os.Rename(filepath.Join(dir, "in.pot"), filepath.Join(dir, "0in.pot"))
			}
			args := []string{"potsplit"}
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "DIR", dir))
			}
			var stdout, stderr bytes.Buffer
			code := run(args, bytes.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout %q does not contain %q", stdout.String(), tt.stdout)
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.stderr)
			}
			if tt.code != 0 && strings.Count(stderr.String(), "\n") > 2 {
				t.Errorf("stderr has more than the error and a hint:\n%s", stderr.String())
			}
			if tt.code == 0 && tt.stdout == "" && stdout.Len() > 0 {
				t.Errorf("stdout is for data, got %q", stdout.String())
			}
			files := slices.DeleteFunc(listDir(t, dir), func(s string) bool { return s == "in.pot" })
			if tt.files != nil || tt.code != 0 {
				want := tt.files
				slices.Sort(want)
				if !slices.Equal(files, want) {
					t.Fatalf("folder holds %q, want %q", files, want)
				}
			}
			if tt.code != 0 || len(tt.args) == 1 {
				return
			}
			input := good
			if tt.stdin != nil {
				input = tt.stdin
			}
			checkShards(t, dir, files, input, tt.records)
		})
	}
}

func shardNames(format string, n int) []string {
	var s []string
	for i := range n {
		s = append(s, fmt.Sprintf(format, i))
	}
	return s
}

// checkShards checks that the shards hold exactly the records of input,
// with shard headers, and that -n keeps challenges together.
func checkShards(t *testing.T, dir string, files []string, input []byte, perShard []int) {
	t.Helper()
	want, inHdrs, err := streamtest.Read(input)
	if err != nil {
		t.Fatal(err)
	}
	var got []format.Record
	shardOfID := map[string]string{}
	var joined []byte
	for k, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		joined = append(joined, data...)
		recs, hdrs, err := streamtest.Read(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if perShard != nil && len(recs) != perShard[k] {
			t.Errorf("%s: %d records, want %d", f, len(recs), perShard[k])
		}
		for _, h := range hdrs {
			if h.Shard.By == "" || h.Shard.By == "challenge" && h.Shard.Count != len(files) {
				t.Errorf("%s: shard info %+v", f, h.Shard)
			}
			h.Shard = inHdrs[0].Shard
			if why := format.Compatible(&h, &inHdrs[0]); why != "" || h.Tool != inHdrs[0].Tool || h.Challenges.Count != inHdrs[0].Challenges.Count {
				t.Errorf("%s: header differs from the input's: %s", f, why)
			}
		}
		for _, r := range recs {
			if prev, ok := shardOfID[r.ID]; ok && prev != f && hdrs[0].Shard.By == "challenge" {
				t.Errorf("challenge %s is in %s and %s", r.ID, prev, f)
			}
			shardOfID[r.ID] = f
		}
		got = append(got, recs...)
	}
	if !slices.Equal(streamtest.Canonical(got), streamtest.Canonical(want)) {
		t.Fatalf("shards hold %d records, not the %d of the input", len(got), len(want))
	}
	// cat of the shards is one valid stream.
	catted, _, err := streamtest.Read(joined)
	if err != nil || len(catted) != len(want) {
		t.Fatalf("cat of the shards: %d records, %v", len(catted), err)
	}
}

// TestSizeShards checks that --size shards come out near the size asked.
func TestSizeShards(t *testing.T) {
	sp := streamtest.DefaultSpec()
	sp.Records, sp.Tokens = 3000, 32
	input := streamtest.Make(sp)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pot")
	os.WriteFile(in, input, 0o644)
	const size = 16 << 10
	var stderr bytes.Buffer
	if code := run([]string{"potsplit", "--size", "16k", "-o", filepath.Join(dir, "s-{}.pot"), in}, nil, &bytes.Buffer{}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	files := slices.DeleteFunc(listDir(t, dir), func(s string) bool { return s == "in.pot" })
	if len(files) < len(input)/size/2 {
		t.Fatalf("%d shards for %d bytes in shards of %d", len(files), len(input), size)
	}
	for k, f := range files {
		st, _ := os.Stat(filepath.Join(dir, f))
		last := f == fmt.Sprintf("s-%d.pot", len(files)-1)
		if st.Size() > size*3/2 || (!last && st.Size() < size) {
			t.Errorf("shard %d (%s): %d bytes, want about %d", k, f, st.Size(), size)
		}
	}
	checkShards(t, dir, files, input, nil)
}

// TestSegments splits a stream of three segments with different headers:
// each record keeps its own segment's header.
func TestSegments(t *testing.T) {
	a, b, c := streamtest.DefaultSpec(), streamtest.DefaultSpec(), streamtest.DefaultSpec()
	a.Records, b.Records, c.Records = 30, 0, 25
	b.Start, c.Start = 30, 30
	c.Seed = 9
	var input []byte
	input = append(input, streamtest.Make(a)...)
	input = append(input, streamtest.Make(b)...)
	// The third segment comes from another tool, which labels its header.
	var buf bytes.Buffer
	h := c.Header()
	h.Tool = "other tool"
	w, _ := format.NewWriter(&buf, h)
	for rec := range c.All() {
		w.Write(&rec)
	}
	w.Close()
	input = append(input, buf.Bytes()...)

	for _, mode := range [][]string{{"-n", "4"}, {"--records", "20"}, {"--size", "1k"}} {
		t.Run(mode[0], func(t *testing.T) {
			dir := t.TempDir()
			args := append(append([]string{"potsplit"}, mode...), "-o", filepath.Join(dir, "s-{}.pot"), "-")
			var stderr bytes.Buffer
			if code := run(args, bytes.NewReader(input), &bytes.Buffer{}, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			var got []format.Record
			for _, f := range listDir(t, dir) {
				data, _ := os.ReadFile(filepath.Join(dir, f))
				recs, _, err := streamtest.Read(data)
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				// Records of the third segment must sit under the other
				// tool's header, the others under mkstream's.
				seg := segmentsOf(t, data)
				for i, s := range seg {
					wantTool := "mkstream test"
					if s.fromC {
						wantTool = "other tool"
					}
					if s.tool != wantTool {
						t.Errorf("%s segment %d: tool %q holds records of %q", f, i, s.tool, wantTool)
					}
				}
				got = append(got, recs...)
			}
			want, _, _ := streamtest.Read(input)
			if !slices.Equal(streamtest.Canonical(got), streamtest.Canonical(want)) {
				t.Fatalf("shards hold %d records, not the %d of the input", len(got), len(want))
			}
		})
	}
}

type segInfo struct {
	tool  string
	fromC bool // holds records with index >= 30 (the third segment's)
}

// segmentsOf describes each segment of data that holds records.
func segmentsOf(t *testing.T, data []byte) []segInfo {
	t.Helper()
	r, err := format.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var segs []segInfo
	seg := -1
	for {
		rec, err := r.Read()
		if err != nil {
			break
		}
		if r.Segment() != seg {
			seg = r.Segment()
			segs = append(segs, segInfo{tool: r.Header().Tool, fromC: rec.Index >= 30})
		} else if (rec.Index >= 30) != segs[len(segs)-1].fromC {
			t.Errorf("segment %d mixes records of two input segments", seg)
		}
	}
	return segs
}

// TestInterrupt cancels a split: nothing is left behind.
func TestInterrupt(t *testing.T) {
	sp := streamtest.DefaultSpec()
	sp.Records = 5000
	input := streamtest.Make(sp)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	env := &cli.Env{Stdin: bytes.NewReader(input), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
	in, _ := env.Open("-")
	err := split(ctx, env, in, plan{by: "records", records: 10, pattern: filepath.Join(dir, "s-{}.pot")})
	if err == nil || cli.Status(err) != cli.ExitFailure {
		t.Fatalf("got %v", err)
	}
	if files := listDir(t, dir); len(files) != 0 {
		t.Fatalf("left behind: %q", files)
	}
}

// TestRollback makes the final rename of one shard fail: the shards
// already in place are removed again and no staging file remains.
func TestRollback(t *testing.T) {
	dir := t.TempDir()
	env := &cli.Env{Stdin: nil, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
	set := newShardSet(env, plan{by: "challenge", shards: 3, pattern: filepath.Join(dir, "s-{}.pot")}, "-")
	defer set.abort()
	h := streamtest.DefaultSpec().Header()
	for i := range 3 {
		if err := set.finish(i, &h); err != nil {
			t.Fatal(err)
		}
	}
	// Someone makes a folder where shard 2 should go.
	if err := os.Mkdir(filepath.Join(dir, "s-2.pot"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := set.commit(); err == nil {
		t.Fatal("commit over a folder succeeded")
	}
	set.abort()
	if files := listDir(t, dir); !slices.Equal(files, []string{"s-2.pot"}) {
		t.Fatalf("left behind: %q", files)
	}
}

func TestShardOfIsStable(t *testing.T) {
	// Frozen: shard assignments are part of the interface, since workers
	// on other machines split the same set independently.
	tests := []struct {
		rec  format.Record
		n    int
		want int
	}{
		{format.Record{ID: "a"}, 1000, int(0xaf63dc4c8601ec8c % 1000)},
		{format.Record{ID: "foobar"}, 7, int(0x85944171f73967e8 % 7)},
		{format.Record{Index: 0}, 10, int(0xaf63ad4c86019caf % 10)}, // "0"
	}
	for _, tt := range tests {
		if got := shardOf(&tt.rec, tt.n); got != tt.want {
			t.Errorf("shardOf(%+v, %d) = %d, want %d", tt.rec, tt.n, got, tt.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1", 1, true}, {"512", 512, true}, {"4k", 4096, true}, {"4K", 4096, true},
		{"64M", 64 << 20, true}, {"2G", 2 << 30, true},
		{"", 0, false}, {"k", 0, false}, {"0", 0, false}, {"-5", 0, false}, {"1.5M", 0, false},
		{"1T", 0, false}, {"99999999999999G", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v", tt.in, got, err)
		}
	}
}
