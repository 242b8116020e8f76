package llama

import (
	"errors"
	"slices"
	"testing"
)

func TestParsePerturbation(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Perturbation
		ok   bool
	}{
		{"f16", Perturbation{Kind: "f16"}, true},
		{"int8", Perturbation{Kind: "int8"}, true},
		{"noise:0.01", Perturbation{Kind: "noise", Amount: 0.01}, true},
		{"noise:0.5:7", Perturbation{Kind: "noise", Amount: 0.5, Seed: 7}, true},
		{"prune:0.1", Perturbation{Kind: "prune", Amount: 0.1}, true},
		{"prune:1", Perturbation{Kind: "prune", Amount: 1}, true},
		{"f16:1", Perturbation{}, false},
		{"noise", Perturbation{}, false},
		{"noise:", Perturbation{}, false},
		{"noise:-1", Perturbation{}, false},
		{"noise:NaN", Perturbation{}, false},
		{"noise:0.1:x", Perturbation{}, false},
		{"prune:1.5", Perturbation{}, false},
		{"prune:0.1:3", Perturbation{}, false},
		{"q4", Perturbation{}, false},
		{"", Perturbation{}, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePerturbation(tc.in)
			if tc.ok != (err == nil) || got != tc.want {
				t.Fatalf("ParsePerturbation(%q) = %+v, %v", tc.in, got, err)
			}
			if err != nil && !errors.Is(err, ErrPerturb) {
				t.Errorf("error %v is not ErrPerturb", err)
			}
			if tc.ok && got.String() != tc.in {
				t.Errorf("String() = %q, want %q", got.String(), tc.in)
			}
		})
	}
}

func TestPerturbations(t *testing.T) {
	m := mustLlama2c(t, "stories260K.bin", "tok512.bin")
	ref := greedy(t, m, storiesPrompt, 60, 0)
	refText := m.Vocab().Decode(378, ref.Tokens)
	before := slices.Clone(m.w.layers[0].wq.f)
	for _, tc := range []struct {
		spec       string
		maxLogDiff float64 // bound on log-probability changes while the texts agree
		sameText   bool
	}{
		{"f16", 5e-3, true},
		{"int8", 0.1, true},
		{"noise:0.001", 5e-2, true},
		{"noise:0.5", 0, false},
		{"prune:0.1", 1, false},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			p, err := ParsePerturbation(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			pm, err := m.Perturb(p)
			if err != nil {
				t.Fatal(err)
			}
			if pm.Perturbation() != tc.spec || pm.Digest() != m.Digest() {
				t.Errorf("perturbation %q digest %s", pm.Perturbation(), pm.Digest())
			}
			out := greedy(t, pm, storiesPrompt, 60, 0)
			text := m.Vocab().Decode(378, out.Tokens)
			if tc.sameText {
				if text != refText {
					t.Errorf("text changed:\n%q\n%q", text, refText)
				}
				d := maxAbsDiff(out.Logprobs, ref.Logprobs)
				if d == 0 || d > tc.maxLogDiff {
					t.Errorf("log-probabilities change by %g, want in (0, %g]", d, tc.maxLogDiff)
				}
				t.Logf("%s: largest log-probability change %.2g", tc.spec, d)
			} else if text == refText && slices.Equal(out.Logprobs, ref.Logprobs) {
				t.Errorf("%s changes nothing", tc.spec)
			} else {
				t.Logf("%s: %q", tc.spec, text)
			}
			if tc.spec == "noise:0.5" && text == refText {
				t.Errorf("noise:0.5 keeps the greedy text")
			}
		})
	}
	if !slices.Equal(before, m.w.layers[0].wq.f) {
		t.Error("Perturb changed the original model")
	}
	f16, _ := m.Perturb(Perturbation{Kind: "f16"})
	if _, err := f16.Perturb(Perturbation{Kind: "int8"}); !errors.Is(err, ErrPerturb) {
		t.Errorf("perturbing twice: %v", err)
	}
}

func TestPruneFraction(t *testing.T) {
	m := Synth(1)
	pm, err := m.Perturb(Perturbation{Kind: "prune", Amount: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range pm.w.tensors() {
		zeros := 0
		for _, v := range ts.data {
			if v == 0 {
				zeros++
			}
		}
		if ts.matrix && ts.name != "output.weight" && zeros != len(ts.data)/4 {
			t.Errorf("%s: %d of %d zero, want a quarter", ts.name, zeros, len(ts.data))
		}
		if !ts.matrix && zeros != 0 {
			t.Errorf("%s: norm gains pruned", ts.name)
		}
	}
	a, _ := m.Perturb(Perturbation{Kind: "noise", Amount: 0.1, Seed: 1})
	b, _ := m.Perturb(Perturbation{Kind: "noise", Amount: 0.1, Seed: 1})
	c, _ := m.Perturb(Perturbation{Kind: "noise", Amount: 0.1, Seed: 2})
	if !slices.Equal(a.w.embed.f, b.w.embed.f) || slices.Equal(a.w.embed.f, c.w.embed.f) {
		t.Error("noise is not a function of its seed")
	}
}

func TestInt8Group(t *testing.T) {
	w := make([]float32, 40)
	for i := range w {
		w[i] = float32(i) - 10
	}
	w[3] = 0.01
	q := slices.Clone(w)
	quantize8(q)
	d := roundHalf(21.0 / 127) // first group: max |w| is 21
	for i := range 32 {
		if diff := q[i] - w[i]; diff > d/2+1e-6 || diff < -d/2-1e-6 {
			t.Errorf("w[%d] = %v quantized to %v, step %v", i, w[i], q[i], d)
		}
	}
	if q[3] != 0 {
		t.Errorf("0.01 under a step of %v kept as %v", d, q[3])
	}
	d2 := roundHalf(29.0 / 127) // second group of 8: max |w| is 29
	for i := 32; i < 40; i++ {
		if diff := q[i] - w[i]; diff > d2/2+1e-6 || diff < -d2/2-1e-6 {
			t.Errorf("w[%d] = %v quantized to %v, step %v", i, w[i], q[i], d2)
		}
	}
}
