package model

import (
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in      string
		backend string
		arg     string
		params  map[string]string
		err     string
	}{
		{in: "synth:1", backend: "synth", arg: "1"},
		{in: "llama2c:a.bin,tokenizer=t.bin,perturb=noise:0.1", backend: "llama2c", arg: "a.bin", params: map[string]string{"tokenizer": "t.bin", "perturb": "noise:0.1"}},
		{in: "exec:python3 m.py --a,b", backend: "exec", arg: "python3 m.py --a,b"},
		{in: "openai:http://127.0.0.1:8080/v1,model=x", backend: "openai", arg: "http://127.0.0.1:8080/v1", params: map[string]string{"model": "x"}},
		{in: "nocolon", err: "want BACKEND:ARG"},
		{in: "synth:", err: "want BACKEND:ARG"},
		{in: "gguf:a,b", err: "not key=value"},
		{in: "gguf:a,b=1,b=2", err: "given twice"},
		{in: "gguf:,b=1", err: "empty argument"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sp, err := ParseSpec(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sp.Backend != tt.backend || sp.Arg != tt.arg || len(sp.Params) != len(tt.params) {
				t.Fatalf("got %+v", sp)
			}
			for k, v := range tt.params {
				if sp.Params[k] != v {
					t.Errorf("param %s = %q, want %q", k, sp.Params[k], v)
				}
			}
		})
	}
}

func TestRedactHidesURLPasswords(t *testing.T) {
	sp, err := ParseSpec("openai:https://u:s3cret@example.invalid/v1,bogus=1")
	if err != nil {
		t.Fatal(err)
	}
	err = sp.Check("model")
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "u:xxxxx@") {
		t.Fatalf("got %v", err)
	}
	if got := Redact("a http://x:y@h/p and https://h2/q"); got != "a http://x:xxxxx@h/p and https://h2/q" {
		t.Fatalf("got %q", got)
	}
}
