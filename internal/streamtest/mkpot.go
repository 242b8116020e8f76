package streamtest

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pot-audit/pot/format"
)

// Mkpot is a testscript command that writes an outputs stream of Records
// for the scripts, reading its arguments from os.Args and returning the
// exit code:
//
//	mkpot [-n N] [-first T] [-model M] [-set S] [-vocab V] [-delay D] [-limit L] FILE|-
//
// -first changes the model's behaviour (see Records). Writing to a pipe, it writes a frame per record every
// -delay, like potgen over a slow model, and stops quietly when the pipe's
// reader goes away, saying how many records it wrote; with -limit it fails
// if the reader let it write more than L.
func Mkpot() int {
	args := os.Args[1:]
	fs := flag.NewFlagSet("mkpot", flag.ContinueOnError)
	n := fs.Int("n", 300, "records")
	first := fs.Int("first", 10, "first token of every output")
	modelName := fs.String("model", "a", "model name")
	set := fs.String("set", "set1", "challenge set id")
	vocab := fs.String("vocab", "v1", "vocabulary digest")
	delay := fs.Duration("delay", 0, "pause before each record")
	limit := fs.Int("limit", 0, "fail if more records than this could be written")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mkpot [flags] FILE|-")
		return 2
	}
	signal.Ignore(syscall.SIGPIPE) // a closed pipe is an error to count, not death
	out := os.Stdout
	if name := fs.Arg(0); name != "-" {
		f, err := os.Create(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mkpot:", err)
			return 1
		}
		defer f.Close()
		out = f
	}
	bw := bufio.NewWriter(out)
	w, err := format.NewWriter(bw, Header(*set, *modelName, *vocab))
	if err == nil {
		err = bw.Flush()
	}
	written := 0
	for i := 0; i < *n && err == nil; i++ {
		time.Sleep(*delay)
		rec := Record(i, 0, int32(*first), 8)
		if err = w.Write(&rec); err == nil && *delay > 0 {
			if err = w.Flush(); err == nil {
				err = bw.Flush()
			}
		}
		if err == nil {
			written++
		}
	}
	if err == nil {
		if err = w.Close(); err == nil {
			err = bw.Flush()
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mkpot: stopped after %d records: %v\n", written, err)
	}
	if *limit > 0 && written > *limit {
		fmt.Fprintf(os.Stderr, "mkpot: wrote %d records, more than %d\n", written, *limit)
		return 1
	}
	return 0
}

// Main is the TestMain of the tools' tests: it runs m, or, when a script
// of testscript calls one of the commands, that command: the tools given
// (each returning its exit code) and the stream makers mkstream, mkpot and
// potdump.
func Main(m *testing.M, tools map[string]func() int) {
	cmds := map[string]func(){
		"mkstream": func() { os.Exit(Mkstream()) },
		"mkpot":    func() { os.Exit(Mkpot()) },
		"potdump":  func() { os.Exit(Potdump()) },
	}
	for name, tool := range tools {
		cmds[name] = func() { os.Exit(tool()) }
	}
	testscript.Main(m, cmds)
}
