package llama

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Perturbation is a change applied to a model's weight matrices (token
// embedding, attention, feed-forward and classifier; the RMSNorm gains are
// left alone, as llama.cpp's quantizers keep them in F32). It answers "which
// changes of the weights does a challenge set detect".
type Perturbation struct {
	// Kind is "f16" (round through binary16), "int8" (symmetric 8-bit per
	// group of 32 weights with a binary16 scale, as GGML's Q8_0), "noise"
	// (add Gaussian noise of standard deviation Amount times the tensor's
	// RMS), "prune" (zero the Amount fraction of smallest-magnitude weights
	// of each matrix), or one of "q8_0", "q4_0", "q4_1", "q5_0", "q5_1",
	// "q6_k", "iq4_nl", "q4_k_m": the model as llama-quantize makes that
	// file type (without an importance matrix; q4_k_m with its mix of
	// types per tensor), kept in its blocks and computed as llama.cpp
	// computes it.
	Kind   string
	Amount float64
	Seed   uint64 // noise only: seeds the noise, one Rand stream per tensor
}

// quantKind maps the quantizing perturbations to their GGML file types.
func quantKind(kind string) (uint32, bool) {
	switch kind {
	case "q8_0":
		return ggmlQ8_0, true
	case "q4_0":
		return ggmlQ4_0, true
	case "q4_1":
		return ggmlQ4_1, true
	case "q5_0":
		return ggmlQ5_0, true
	case "q5_1":
		return ggmlQ5_1, true
	case "q6_k":
		return ggmlQ6_K, true
	case "iq4_nl":
		return ggmlIQ4NL, true
	case "q4_k_m":
		return ftypeQ4_K_M, true
	}
	return 0, false
}

// ParsePerturbation parses "f16", "int8", "q8_0", "q4_0", "q4_1", "q5_0",
// "q5_1", "q6_k", "iq4_nl", "q4_k_m", "noise:SIGMA[:SEED]" or
// "prune:FRACTION".
func ParsePerturbation(s string) (Perturbation, error) {
	kind, rest, hasArg := strings.Cut(s, ":")
	if _, q := quantKind(kind); q || kind == "f16" || kind == "int8" {
		if hasArg {
			return Perturbation{}, fmt.Errorf("%w: %q takes no argument", ErrPerturb, s)
		}
		return Perturbation{Kind: kind}, nil
	}
	switch kind {
	case "noise", "prune":
		arg, seedStr, hasSeed := strings.Cut(rest, ":")
		if !hasArg || arg == "" {
			return Perturbation{}, fmt.Errorf("%w: %q needs an amount, as in %s:0.01", ErrPerturb, s, kind)
		}
		a, err := strconv.ParseFloat(arg, 64)
		if err != nil || math.IsNaN(a) || math.IsInf(a, 0) || a < 0 {
			return Perturbation{}, fmt.Errorf("%w: %q: amount %q is not a non-negative number", ErrPerturb, s, arg)
		}
		p := Perturbation{Kind: kind, Amount: a}
		if kind == "prune" {
			if a > 1 {
				return Perturbation{}, fmt.Errorf("%w: %q: the fraction pruned must be in [0, 1]", ErrPerturb, s)
			}
			if hasSeed {
				return Perturbation{}, fmt.Errorf("%w: %q: prune takes no seed", ErrPerturb, s)
			}
		}
		if hasSeed {
			if p.Seed, err = strconv.ParseUint(seedStr, 10, 64); err != nil {
				return Perturbation{}, fmt.Errorf("%w: %q: seed %q is not an unsigned integer", ErrPerturb, s, seedStr)
			}
		}
		return p, nil
	}
	return Perturbation{}, fmt.Errorf("%w: %q: want f16, int8, q8_0, q4_0, q4_1, q5_0, q5_1, q6_k, iq4_nl, q4_k_m, noise:SIGMA or prune:FRACTION", ErrPerturb, s)
}

// String is the canonical spec of p, which ParsePerturbation reads back.
func (p Perturbation) String() string {
	switch p.Kind {
	case "noise":
		s := "noise:" + strconv.FormatFloat(p.Amount, 'g', -1, 64)
		if p.Seed != 0 {
			s += ":" + strconv.FormatUint(p.Seed, 10)
		}
		return s
	case "prune":
		return "prune:" + strconv.FormatFloat(p.Amount, 'g', -1, 64)
	}
	return p.Kind
}

// Perturb returns a copy of m with p applied to its weight matrices; m is
// not changed. The result's Perturbation() says what was applied, and its
// Digest() stays that of the original file. Quantized matrices are
// dequantized first, so a perturbation applies to the weights the file
// stands for.
func (m *Model) Perturb(p Perturbation) (*Model, error) {
	if _, err := ParsePerturbation(p.String()); err != nil {
		return nil, err
	}
	if m.perturb != "" {
		return nil, fmt.Errorf("%w: the model already has perturbation %s", ErrPerturb, m.perturb)
	}
	out := *m
	out.perturb = p.String()
	out.w.layers = slices.Clone(m.w.layers)
	ftype, quant := quantKind(p.Kind)
	change := func(i int, name string, w *matrix, output bool) (*matrix, error) {
		if quant {
			t := ftypeTensorType(ftype, name, output, w.cols, len(m.w.layers))
			if _, ok := rowBytes(t, w.cols); !ok {
				return nil, fmt.Errorf("%w: %s: tensor %s has rows of %d weights, not a whole number of %s blocks", ErrPerturb, p.Kind, name, w.cols, ggmlTypeName(t))
			}
			q := quantize(t, w)
			return &q, nil
		}
		f := w.toF32()
		f.f = slices.Clone(f.f)
		switch p.Kind {
		case "f16":
			for j, v := range f.f {
				f.f[j] = roundHalf(v)
			}
		case "int8":
			quantize8(f.f)
		case "noise":
			addNoise(f.f, p.Amount, NewRand(mix(p.Seed, uint64(i))))
		case "prune":
			prune(f.f, p.Amount)
		}
		return &f, nil
	}
	// The layers are out's own copies, so their matrices are replaced in
	// place; the embedding and classifier are m's, so their pointers are.
	for i, t := range out.w.tensors() {
		if !t.matrix {
			continue
		}
		output := t.name == "output.weight" || (m.cfg.SharedClassifier && t.name == "token_embd.weight")
		w, err := change(i, t.name, t.m, output)
		if err != nil {
			return nil, err
		}
		switch t.m {
		case m.w.embed:
			out.w.embed = w
			if m.cfg.SharedClassifier {
				out.w.cls = w
			}
		case m.w.cls:
			out.w.cls = w
		default:
			*t.m = *w
		}
	}
	return &out, nil
}

// quantize8 rounds w through symmetric 8-bit quantization in groups of 32:
// scale d = max|w|/127 stored as binary16, weights round(w/d) in [-127, 127].
func quantize8(w []float32) {
	for len(w) > 0 {
		g := w[:min(32, len(w))]
		w = w[len(g):]
		var amax float32
		for _, v := range g {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		d := roundHalf(amax / 127)
		if d == 0 {
			clear(g)
			continue
		}
		for j, v := range g {
			q := math.Round(float64(v / d))
			g[j] = float32(max(-127, min(127, q))) * d
		}
	}
}

// addNoise adds sigma times w's RMS times standard normal values from r.
func addNoise(w []float32, sigma float64, r *Rand) {
	var ss float64
	for _, v := range w {
		ss += float64(v) * float64(v)
	}
	std := sigma * math.Sqrt(ss/float64(len(w)))
	for j := range w {
		w[j] += float32(std * r.Norm())
	}
}

// prune zeroes floor(fraction * len(w)) weights of smallest magnitude, the
// earlier ones first among equals.
func prune(w []float32, fraction float64) {
	k := int(math.Floor(fraction * float64(len(w))))
	if k <= 0 {
		return
	}
	idx := make([]int32, len(w))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := cmp.Compare(math.Abs(float64(w[a])), math.Abs(float64(w[b]))); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	for _, i := range idx[:k] {
		w[i] = 0
	}
}
