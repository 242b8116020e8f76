package main

import (
	"os"
	"path/filepath"
)

// A modelDef is one model of the evaluation, by a short name.
type modelDef struct {
	name string
	desc string // how the README names it
	spec func(models string) string
	real bool // needs the real models folder
}

// A pair is one row of the table: a candidate compared with a reference.
// truth is "same" or "different" where it is clear (same weights, or
// different models), and "" where it depends on the tolerance.
type pair struct {
	ref, cand string
	truth     string
	errors    bool // measured over the wrong-verdict keys
	picture   bool // its transcript is drawn (first key)
}

func llama2c(bin, tok string) func(string) string {
	return func(m string) string {
		return "llama2c:" + filepath.Join(m, bin) + ",tokenizer=" + filepath.Join(m, tok)
	}
}

func gguf(file string) func(string) string {
	return func(m string) string { return "gguf:" + filepath.Join(m, file) }
}

func withPerturb(f func(string) string, p string) func(string) string {
	return func(m string) string { return f(m) + ",perturb=" + p }
}

func fixed(s string) func(string) string { return func(string) string { return s } }

var stories = llama2c("stories260K.bin", "tok512.bin")

// catalog lists every model the evaluation may run, by name.
var catalog = []modelDef{
	{"stories", "stories260K.bin", stories, true},
	{"stories-again", "itself, run again", stories, true},
	{"stories-gguf", "stories260K.gguf (other loader)", gguf("stories260K.gguf"), true},
	{"stories-f16gguf", "stories260K-f16.gguf", gguf("stories260K-f16.gguf"), true},
	{"f16", "perturb=f16", withPerturb(stories, "f16"), true},
	{"int8", "perturb=int8", withPerturb(stories, "int8"), true},
	{"noise", "perturb=noise:0.01", withPerturb(stories, "noise:0.01"), true},
	{"prune", "perturb=prune:0.05", withPerturb(stories, "prune:0.05"), true},
	{"tampered", "stories260K-tampered.bin", llama2c("stories260K-tampered.bin", "tok512.bin"), true},
	{"aidreams", "aidreams260K (other vocabulary)", llama2c("aidreams260K.bin", "aidreams-tok512.bin"), true},
	{"q-f32", "quant/stories260K-ffn256.gguf (F32, padded)", gguf("quant/stories260K-ffn256.gguf"), true},
	{"q-q8_0", "quant/…-Q8_0.gguf", gguf("quant/stories260K-ffn256-Q8_0.gguf"), true},
	{"q-q6_k", "quant/…-Q6_K.gguf", gguf("quant/stories260K-ffn256-Q6_K.gguf"), true},
	{"q-q5_1", "quant/…-Q5_1.gguf", gguf("quant/stories260K-ffn256-Q5_1.gguf"), true},
	{"q-q4_k_m", "quant/…-Q4_K_M.gguf", gguf("quant/stories260K-ffn256-Q4_K_M.gguf"), true},
	{"q-iq4_nl", "quant/…-IQ4_NL.gguf", gguf("quant/stories260K-ffn256-IQ4_NL.gguf"), true},
	{"q-q4_0", "quant/…-Q4_0.gguf", gguf("quant/stories260K-ffn256-Q4_0.gguf"), true},
	{"synth1", "synth:1", fixed("synth:1"), false},
	{"synth1-again", "itself, run again", fixed("synth:1"), false},
	{"synth1-noise", "synth:1,perturb=noise:0.05", fixed("synth:1,perturb=noise:0.05"), false},
	{"synth2", "synth:2", fixed("synth:2"), false},
}

// allPairs is the table, in order.
var allPairs = []pair{
	{ref: "stories", cand: "stories-again", truth: "same", errors: true, picture: true},
	{ref: "synth1", cand: "synth1-again", truth: "same", errors: true},
	{ref: "stories", cand: "stories-gguf", truth: "same", errors: true},
	{ref: "stories", cand: "stories-f16gguf"},
	{ref: "stories", cand: "f16"},
	{ref: "stories", cand: "int8", picture: true},
	{ref: "stories", cand: "noise"},
	{ref: "stories", cand: "prune"},
	{ref: "stories", cand: "q-f32", truth: "same"},
	{ref: "stories", cand: "q-q8_0"},
	{ref: "stories", cand: "q-q6_k"},
	{ref: "stories", cand: "q-q5_1"},
	{ref: "stories", cand: "q-q4_k_m"},
	{ref: "stories", cand: "q-iq4_nl"},
	{ref: "stories", cand: "q-q4_0"},
	{ref: "stories", cand: "tampered", truth: "different", errors: true, picture: true},
	{ref: "stories", cand: "aidreams", truth: "different", errors: true},
	{ref: "synth1", cand: "synth1-noise", truth: "different", errors: true},
	{ref: "synth1", cand: "synth2", truth: "different", errors: true},
}

// quickPairs are the pairs of make eval-quick: one of each kind.
var quickPairs = map[string]bool{
	"stories/stories-gguf": true, "stories/tampered": true, "stories/aidreams": true,
	"synth1/synth1-again": true, "synth1/synth2": true,
}

func model(name string) modelDef {
	for _, m := range catalog {
		if m.name == name {
			return m
		}
	}
	panic("eval: no model " + name)
}

// selectPairs returns the pairs this run can make: the real models' only
// when their folder is there, and the quick subset when asked.
func selectPairs(c config) []pair {
	haveReal := c.models != ""
	if haveReal {
		if _, err := os.Stat(filepath.Join(c.models, "stories260K.bin")); err != nil {
			haveReal = false
		}
	}
	var ps []pair
	for _, p := range allPairs {
		if c.quick && !quickPairs[p.ref+"/"+p.cand] {
			continue
		}
		if !haveReal && (model(p.ref).real || model(p.cand).real) {
			continue
		}
		ps = append(ps, p)
	}
	return ps
}
