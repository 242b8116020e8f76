package main

import (
	"github.com/pot-audit/pot/internal/cli"
	"github.com/pot-audit/pot/internal/model"
	"github.com/pot-audit/pot/internal/model/command"
	"github.com/pot-audit/pot/internal/model/local"
	"github.com/pot-audit/pot/internal/model/openai"
)

// openModel opens the backend a spec names. Errors in the spec or the
// model's files are the user's to fix: exit status 2.
func openModel(spec string, o model.Options) (model.Model, error) {
	sp, err := model.ParseSpec(spec)
	if err != nil {
		return nil, cli.Usage(err)
	}
	var m model.Model
	switch sp.Backend {
	case "synth", "llama2c", "gguf":
		m, err = local.Open(sp, o)
	case "openai":
		m, err = openai.Open(sp, o)
	case "exec":
		m, err = command.Open(sp, o)
	default:
		return nil, cli.Usagef("model spec %q: unknown backend %q (synth, llama2c, gguf, openai, exec)", model.Redact(spec), sp.Backend)
	}
	if err != nil {
		return nil, cli.Usage(err)
	}
	return m, nil
}

// logprobsOf says where a backend's log-probabilities come from.
func logprobsOf(backend string) string {
	switch backend {
	case "synth", "llama2c", "gguf":
		return "raw"
	}
	return "backend"
}
