package llama

import (
	"math"
	"slices"
	"testing"
)

func TestSynthDeterministic(t *testing.T) {
	// Frozen digests: a seed must give the same weights on every machine.
	for seed, want := range map[uint64]string{
		1: "sha256:052ed2f6ed937775c1b4912818ba38b9436fb5beb112551c1e9276741491becf",
		2: "sha256:09b8b160edf23c995a2093bde73b6202ccda339e124922a52ffa1605e4e04bca",
	} {
		if got := Synth(seed).Digest(); got != want {
			t.Errorf("Synth(%d) digest %s, want %s", seed, got, want)
		}
	}
	a, b := Synth(9), Synth(9)
	if a.Digest() != b.Digest() || !slices.Equal(a.w.cls.f, b.w.cls.f) {
		t.Error("Synth(9) twice: different weights")
	}
	if Synth(10).Digest() == a.Digest() {
		t.Error("seeds 9 and 10 gave the same weights")
	}
	if a.Vocab().Digest() != Synth(10).Vocab().Digest() {
		t.Error("the synthetic vocabulary depends on the seed")
	}
}

func TestSynthPeaked(t *testing.T) {
	for seed := range uint64(5) {
		m := Synth(seed)
		out := gen(t, m, "Once upon a time there was", Params{Temperature: 1, MaxTokens: 100, Logprobs: 1, Seed: seed}, Options{})
		var mean float64
		for _, lp := range out.TopLogprobs {
			mean += math.Exp(float64(lp))
		}
		mean /= float64(len(out.TopLogprobs))
		if mean < 0.5 {
			t.Errorf("seed %d: mean top-1 probability %.3f, want above 0.5", seed, mean)
		}
		text := m.Vocab().Decode(out.Tokens[0], out.Tokens)
		for _, r := range text {
			if r == '\uFFFD' || r < ' ' && r != '\n' {
				t.Errorf("seed %d: unprintable text %q", seed, text)
				break
			}
		}
	}
	a := gen(t, Synth(1), "Hello", Params{MaxTokens: 30}, Options{})
	b := gen(t, Synth(2), "Hello", Params{MaxTokens: 30}, Options{})
	if slices.Equal(a.Tokens, b.Tokens) {
		t.Error("synth seeds 1 and 2 give the same greedy text")
	}
}
