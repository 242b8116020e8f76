// Package backends opens the model a spec names, whatever its backend:
// the local engine (synth, llama2c, gguf), an OpenAI-compatible server
// or a command. It is the one place that knows every backend, so that a
// tool which queries models, and a new backend, are each one change.
package backends

import (
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/command"
	"github.com/pot-audit/pot/internal/model/local"
	"github.com/pot-audit/pot/internal/model/openai"
)

// Open opens the backend a spec names. Errors in the spec or in the
// model's files are the user's to fix, so they carry exit status 2.
func Open(spec string, o model.Options) (model.Model, error) {
	sp, err := model.ParseSpec(spec)
	if err != nil {
		return nil, cli.Usage(err)
	}
	var m model.Model
	switch {
	case Local(sp.Backend):
		m, err = local.Open(sp, o)
	case sp.Backend == "openai":
		m, err = openai.Open(sp, o)
	case sp.Backend == "exec":
		m, err = command.Open(sp, o)
	default:
		return nil, cli.Usagef("model spec %q: unknown backend %q (synth, llama2c, gguf, openai, exec)", model.Redact(spec), sp.Backend)
	}
	if err != nil {
		return nil, cli.Usage(err)
	}
	return m, nil
}

// Local says whether a backend runs in this process on pot's own engine.
func Local(backend string) bool {
	switch backend {
	case "synth", "llama2c", "gguf":
		return true
	}
	return false
}

// LogprobsOf says where a backend's log-probabilities come from, for the
// stream's header: "raw" from pot's engine, before any sampling
// transform; "backend" as the server or command reported them.
func LogprobsOf(backend string) string {
	if Local(backend) {
		return "raw"
	}
	return "backend"
}
