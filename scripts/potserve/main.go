// Command potserve serves a local model over HTTP in llama-server's shapes, so
// that pot's pipeline through a server can be measured on the project's own
// engine (make eval) without a server from outside. It prints the base URL,
// ending in /v1, on stdout, and serves until its standard input closes or it
// is signalled; with -count FILE it then writes the number of generation
// requests it answered, so a caller can count the queries a pipeline made.
//
//	potserve [-addr 127.0.0.1:0] [-legacy] [-count FILE] SPEC
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/local"
	"github.com/pot-audit/pot/internal/model/openai/openaitest"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("potserve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen on `ADDR` (loopback only by default)")
	legacy := fs.Bool("legacy", false, "answer /v1/completions in OpenAI's legacy shape (token strings, no ids)")
	count := fs.String("count", "", "at exit, write the number of generation requests answered to `FILE`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: potserve [-addr ADDR] [-legacy] [-count FILE] SPEC   (SPEC: synth:SEED, llama2c:PATH, gguf:PATH)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	sp, err := model.ParseSpec(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "potserve:", err)
		return 2
	}
	m, err := local.Open(sp, model.Options{Threads: 1})
	if err != nil {
		fmt.Fprintln(stderr, "potserve:", err)
		return 2
	}
	defer m.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "potserve:", err)
		return 1
	}
	var answered atomic.Int64
	h := openaitest.New(m, openaitest.Config{Legacy: *legacy})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && (strings.HasSuffix(r.URL.Path, "completions") || r.URL.Path == "/completion") {
			answered.Add(1)
		}
		h.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	fmt.Fprintf(stdout, "http://%s/v1\n", ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { io.Copy(io.Discard, stdin); stop() }()
	<-ctx.Done()
	srv.Close()
	if *count != "" {
		if err := os.WriteFile(*count, []byte(fmt.Sprintf("%d\n", answered.Load())), 0o644); err != nil {
			fmt.Fprintln(stderr, "potserve:", err)
			return 1
		}
	}
	return 0
}
