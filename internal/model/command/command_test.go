package command

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pot-audit/pot/format"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/retry"
)

func open(t *testing.T, command string, o model.Options) *runner {
	t.Helper()
	sp, err := model.ParseSpec("exec:" + command)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Open(sp, o)
	if err != nil {
		t.Fatal(err)
	}
	r := m.(*runner)
	r.policy.Base = time.Millisecond
	return r
}

var query = model.Query{Prompt: "Once upon a time", Seed: 1<<63 + 5, Sampling: format.Sampling{Temperature: 0.7, TopP: 0.9, TopK: 40, MaxTokens: 16, Logprobs: 2}}

func TestPlainText(t *testing.T) {
	// The prompt arrives on stdin, the parameters in the environment.
	r := open(t, `printf '%s|' "$(cat)" "$POT_SEED" "$POT_TEMPERATURE" "$POT_TOP_P" "$POT_TOP_K" "$POT_MAX_TOKENS" "$POT_LOGPROBS"`, model.Options{})
	if info := r.Info(); info.Backend != "exec" || !strings.HasPrefix(info.Name, "printf") {
		t.Errorf("Info %+v", info)
	}
	var rec format.Record
	if err := r.Generate(context.Background(), query, &rec); err != nil {
		t.Fatal(err)
	}
	want := "Once upon a time|" + strconv.FormatUint(1<<63+5, 10) + "|0.7|0.9|40|16|2|"
	if rec.Text != want || rec.Attempts != 1 || rec.Tokens != nil || rec.Logprobs != nil || rec.TopK != 0 || rec.Finish != "" {
		t.Fatalf("%+v\nwant text %q", rec, want)
	}
}

func TestJSON(t *testing.T) {
	out := `  {"text": " there was", "tokens": [432, 383], "logprobs": [-0.0317, -0.0684],
	 "top_tokens": [[432, 383, 322], [383]], "top_logprobs": [[-0.0317, -3.5, -8.1], [-0.0684]], "finish": "length", "usage": {}}` + "\n"
	file := filepath.Join(t.TempDir(), "out.json")
	os.WriteFile(file, []byte(out), 0o644)
	r := open(t, "cat >/dev/null; cat "+file, model.Options{})
	var rec format.Record
	if err := r.Generate(context.Background(), query, &rec); err != nil {
		t.Fatal(err)
	}
	inf := float32(math.Inf(-1))
	if rec.Text != " there was" || rec.Finish != "length" || !slices.Equal(rec.Tokens, []int32{432, 383}) ||
		!slices.Equal(rec.Logprobs, []float32{-0.0317, -0.0684}) || rec.TopK != 2 ||
		!slices.Equal(rec.TopTokens, []int32{432, 383, 383, -1}) || !slices.Equal(rec.TopLogprobs, []float32{-0.0317, -3.5, -0.0684, inf}) {
		t.Fatalf("%+v", rec)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, out string
		k         int
		want      format.Record
		err       string
	}{
		{"text with newline", "hello\n", 2, format.Record{Text: "hello\n"}, ""},
		{"empty", "", 2, format.Record{}, ""},
		{"brace later is text", "a {b}", 0, format.Record{Text: "a {b}"}, ""},
		{"logprobs without ids", `{"text":"x","logprobs":[-1,-2],"top_logprobs":[[-1],[-2,-3]]}`, 2,
			format.Record{Text: "x", Logprobs: []float32{-1, -2}, TopK: 2, TopLogprobs: []float32{-1, float32(math.Inf(-1)), -2, -3}}, ""},
		{"alternatives not asked for", `{"text":"x","tokens":[1],"logprobs":[-1],"top_tokens":[[1]],"top_logprobs":[[-1]]}`, 0,
			format.Record{Text: "x", Tokens: []int32{1}, Logprobs: []float32{-1}}, ""},
		{"more alternatives than asked", `{"tokens":[1],"logprobs":[-1],"top_tokens":[[1,2,3]],"top_logprobs":[[-1,-2,-3]]}`, 1,
			format.Record{Tokens: []int32{1}, Logprobs: []float32{-1}, TopK: 1, TopTokens: []int32{1}, TopLogprobs: []float32{-1}}, ""},
		{"broken JSON", `{"text":`, 0, format.Record{}, "unexpected EOF"},
		{"trailing data", `{"text":"a"} {"text":"b"}`, 0, format.Record{}, "data after the JSON object"},
		{"lengths", `{"tokens":[1,2],"logprobs":[-1]}`, 0, format.Record{}, "2 tokens but 1 logprobs"},
		{"top rows", `{"tokens":[1],"top_tokens":[[1],[2]],"top_logprobs":[[-1],[-2]]}`, 1, format.Record{}, "top alternatives for 2 positions, 1 generated"},
		{"top shapes", `{"tokens":[1],"top_tokens":[[1,2]],"top_logprobs":[[-1]]}`, 1, format.Record{}, "position 0: top_tokens and top_logprobs differ"},
		{"bad id", `{"tokens":[-1]}`, 0, format.Record{}, "token id -1 out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec format.Record
			err := parse([]byte(tt.out), tt.k, &rec)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrOutput) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec.Text != tt.want.Text || !slices.Equal(rec.Tokens, tt.want.Tokens) || !slices.Equal(rec.Logprobs, tt.want.Logprobs) ||
				rec.TopK != tt.want.TopK || !slices.Equal(rec.TopTokens, tt.want.TopTokens) || !slices.Equal(rec.TopLogprobs, tt.want.TopLogprobs) {
				t.Fatalf("got %+v\nwant %+v", rec, tt.want)
			}
		})
	}
}

func TestFailThenSucceed(t *testing.T) {
	counter := filepath.Join(t.TempDir(), "n")
	cmd := fmt.Sprintf(`n=$(cat %[1]s 2>/dev/null || echo 0); n=$((n+1)); echo $n > %[1]s
if [ $n -lt 3 ]; then echo "warming up" >&2; echo "attempt $n failed" >&2; exit 3; fi
echo "done after $n"`, counter)
	var logs []string
	r := open(t, cmd, model.Options{Logf: func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }})
	var rec format.Record
	if err := r.Generate(context.Background(), query, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Text != "done after 3\n" || rec.Attempts != 3 || len(logs) != 2 || !strings.Contains(logs[0], "exit status 3: attempt 1 failed; retry 1 of 5") {
		t.Fatalf("%+v logs %q", rec, logs)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name, cmd string
		retries   int
		attempts  int
		want      string
	}{
		{"exit status", `echo first >&2; echo "no model loaded" >&2; exit 1`, 2, 3, "exec: echo first >&2; echo \"no model loaded\" >&2; exit 1: exit status 1: no model loaded after 3 attempts"},
		{"not found is not retried", `no-such-command-pot`, 2, 1, "exit status 127: /bin/sh: 1: no-such-command-pot: not found after 1 attempt"},
		{"bad JSON retried", `echo '{"tokens": [1, 2], "logprobs": [1]}'`, 1, 2, "2 tokens but 1 logprobs after 2 attempts"},
		{"long stderr line", `printf '%0500d' 0 >&2; exit 1`, -1, 1, strings.Repeat("0", 200) + "... after 1 attempt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := open(t, tt.cmd, model.Options{Retries: tt.retries})
			var rec format.Record
			err := r.Generate(context.Background(), query, &rec)
			if err == nil || rec.Attempts != tt.attempts || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("attempts %d, err %v\nwant %q", rec.Attempts, err, tt.want)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	pids := filepath.Join(t.TempDir(), "pids")
	// The shell starts a child that would outlive it; the group kill must
	// take both.
	cmd := fmt.Sprintf(`sleep 30 & echo $! >> %s; wait`, pids)
	r := open(t, cmd, model.Options{Timeout: 200 * time.Millisecond, Retries: 1})
	start := time.Now()
	var rec format.Record
	err := r.Generate(context.Background(), query, &rec)
	el := time.Since(start)
	var te *retry.TimeoutError
	if !errors.As(err, &te) || rec.Attempts != 2 || !strings.Contains(err.Error(), "timeout: no complete answer within 200ms after 2 attempts") {
		t.Fatalf("attempts %d err %v", rec.Attempts, err)
	}
	// Far below the child's 30 s: killed, not waited for. (How far is the
	// scheduler's business on a loaded machine.)
	if el > 10*time.Second {
		t.Errorf("took %v", el)
	}
	// SIGKILL takes effect asynchronously: under load (the race detector)
	// a killed child can still be running for a moment after the kill.
	b, _ := os.ReadFile(pids)
	for _, f := range strings.Fields(string(b)) {
		var stat []byte
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			var err error
			stat, err = os.ReadFile("/proc/" + f + "/stat")
			if err != nil || strings.Contains(string(stat), ") Z ") || time.Now().After(deadline) {
				break
			}
		}
		if len(stat) > 0 && !strings.Contains(string(stat), ") Z ") {
			t.Errorf("child %s still running 2 s after the kill: %s", f, stat)
		}
	}
}

func TestCancel(t *testing.T) {
	r := open(t, "sleep 30", model.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	var rec format.Record
	err := r.Generate(ctx, query, &rec)
	// Far below the command's 30 s: the cancellation ended it.
	if el := time.Since(start); el > 10*time.Second || !errors.Is(err, context.DeadlineExceeded) || rec.Attempts != 1 {
		t.Fatalf("after %v: attempts %d err %v", el, rec.Attempts, err)
	}
}

func TestOutputBound(t *testing.T) {
	r := open(t, fmt.Sprintf("head -c %d /dev/zero", MaxOutput+10), model.Options{Retries: -1})
	var rec format.Record
	err := r.Generate(context.Background(), query, &rec)
	if !errors.Is(err, ErrOutput) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err %v", err)
	}
}

func TestOpenRefuses(t *testing.T) {
	for _, sp := range []model.Spec{{Backend: "exec", Arg: "  "}, {Backend: "exec", Arg: "x", Params: map[string]string{"a": "b"}}} {
		if _, err := Open(sp, model.Options{}); !errors.Is(err, ErrSpec) {
			t.Errorf("Open(%+v): %v", sp, err)
		}
	}
}
