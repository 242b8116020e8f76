package llama

import (
	"math"
	"sync"
)

// State is one sequence's working memory: activations and the KV cache. It
// belongs to one goroutine; the Model it reads is shared.
type State struct {
	m       *Model
	threads int
	cap     int // positions the KV cache holds

	x, xb, xb2, q []float32 // Dim
	k, v          []float32 // KVDim: the position's key and value
	hb, hb2       []float32 // HiddenDim
	att           []float32 // cap
	logits        []float32 // VocabSize
	// The KV cache, Layers x KVDim x cap: value i of a layer's key (or
	// value) vectors is one run over positions (see attention.go).
	kc, vc   []float32
	in       act       // the input of the current matrix product, converted
	cos, sin []float32 // HeadSize/2: the rotary embedding of the position
	lanes    []float32 // 64 x HeadSize: attention's partial sums
	// batch says that the token being run belongs to a prompt of two or
	// more, which llama.cpp evaluates as one batch, and whose attention
	// therefore sums values in another order than a token run alone.
	batch bool
}

// kvPad is the granularity of the cache cells llama.cpp attends over
// without flash attention.
const kvPad = 32

// parallelMin is the smallest matrix (rows times columns) whose product is
// split over goroutines: below it, starting goroutines costs more than the
// arithmetic they would share.
const parallelMin = 1 << 16

// NewState returns a state for sequences of up to positions tokens (at most
// the model's context length) computing with up to threads goroutines.
func (m *Model) NewState(positions, threads int) *State {
	c := m.cfg
	positions = min(max(positions, 1), c.SeqLen)
	kv := c.KVDim()
	return &State{
		m: m, threads: max(threads, 1), cap: positions,
		x: make([]float32, c.Dim), xb: make([]float32, c.Dim), xb2: make([]float32, c.Dim), q: make([]float32, c.Dim),
		k: make([]float32, kv), v: make([]float32, kv),
		hb: make([]float32, c.HiddenDim), hb2: make([]float32, c.HiddenDim),
		att: make([]float32, positions),
		cos: make([]float32, c.HeadSize()/2), sin: make([]float32, c.HeadSize()/2),
		lanes:  make([]float32, 64*c.HeadSize()),
		logits: make([]float32, c.VocabSize),
		kc:     make([]float32, c.Layers*positions*kv),
		vc:     make([]float32, c.Layers*positions*kv),
		in:     act{simd: m.simd, vnni: m.vnni, probed: true},
	}
}

// SetBatch says whether the tokens the next Forward calls run belong to
// one prompt of two or more, which llama.cpp evaluates as a single batch,
// through other kernels than a token run alone (tinyBLAS takes batches
// only). On, the state computes as llama.cpp does for such a prompt; off,
// the default, as for a generated token.
func (s *State) SetBatch(on bool) { s.batch = on }

// Positions is the number of positions the state can hold.
func (s *State) Positions() int { return s.cap }

// Forward runs token at position pos (0 <= pos < Positions()) through the
// model, after positions 0..pos-1 have been run, and returns the logits of
// the next token. The slice is the state's and is overwritten by the next
// call.
func (s *State) Forward(token int32, pos int) []float32 {
	m, c := s.m, s.m.cfg
	kvDim, hs := c.KVDim(), c.HeadSize()
	group := c.Heads / c.KVHeads
	m.w.embed.row(int(token), s.x)
	s.in.batch = s.batch
	scale := float32(1 / math.Sqrt(float64(hs)))
	ropeTable(s.cos, s.sin, pos, hs, c.RopeTheta)

	for li := range m.w.layers {
		l := &m.w.layers[li]
		rmsnorm(s.xb, s.x, l.attnNorm, c.NormEps)

		s.matmul(s.q, s.xb, &l.wq)
		s.matmulAgain(s.k, s.xb, &l.wk)
		s.matmulAgain(s.v, s.xb, &l.wv)
		rope(s.q, s.k, s.cos, s.sin, hs)
		// The new key and value become column pos of the layer's cache.
		base := li * kvDim * s.cap
		for j := range kvDim {
			s.kc[base+j*s.cap+pos] = s.k[j]
			s.vc[base+j*s.cap+pos] = s.v[j]
		}

		// llama.cpp scores a padded run of cache cells (a multiple of
		// kvPad, the ones past pos masked), which decides how its softmax
		// groups the exponentials.
		pad := min(s.cap, (pos+kvPad)/kvPad*kvPad)
		att := s.att[:pos+1]
		for h := range c.Heads {
			off := base + (h/group)*hs*s.cap
			mx := scores(att, s.q[h*hs:(h+1)*hs], s.kc[off:], s.cap, scale, s.in.simd)
			softmaxGGML(att, mx, pad, s.in.simd, s.in.simd && m.wide)
			if s.batch {
				values(s.xb[h*hs:(h+1)*hs], s.vc[off:], s.cap, att, s.lanes, s.in.simd)
			} else {
				valuesVec(s.xb[h*hs:(h+1)*hs], s.vc[off:], s.cap, att, pad, s.lanes, s.in.simd)
			}
		}
		s.matmul(s.xb2, s.xb, &l.wo)
		for i := range s.x {
			s.x[i] += s.xb2[i]
		}

		rmsnorm(s.xb, s.x, l.ffnNorm, c.NormEps)
		s.matmul(s.hb, s.xb, &l.w1)
		s.matmulAgain(s.hb2, s.xb, &l.w3)
		swiglu(s.hb, s.hb2, s.in.simd)
		s.matmul(s.xb, s.hb, &l.w2)
		for i := range s.x {
			s.x[i] += s.xb[i]
		}
	}
	rmsnorm(s.x, s.x, m.w.finalNorm, c.NormEps)
	s.matmul(s.logits, s.x, m.w.cls)
	return s.logits
}

// rmsnorm sets out = w * x / sqrt(mean(x^2) + eps); out may be x. The
// squares are summed in float64 and the rest rounded as GGML's rms_norm
// rounds it, so that activations match llama.cpp's to the last bit more
// often: a quantized model's activations are rounded to 8 bits next, and a
// last-bit difference can move one across a rounding boundary.
func rmsnorm(out, x, w []float32, eps float32) {
	var sum float64
	for _, v := range x {
		sum += float64(float32(v * v))
	}
	ss := float32(sum/float64(len(x))) + eps
	inv := 1 / float32(math.Sqrt(float64(ss)))
	for i, v := range x {
		out[i] = w[i] * float32(inv*v)
	}
}

// rope rotates each adjacent pair (2i, 2i+1) of every head of q and k by
// the angle whose cosine and sine are cos[i] and sin[i], llama2.c's (and
// GGML's "normal") layout. GGML writes x0*cos - x1*sin and x0*sin + x1*cos
// in scalar C, which the compiler contracts: the first product of each is
// fused with the rounded second.
func rope(q, k, cos, sin []float32, hs int) {
	for i := 0; i < hs; i += 2 {
		c, s := cos[i/2], sin[i/2]
		for _, v := range [2][]float32{q, k} {
			for h := i; h < len(v); h += hs {
				x0, x1 := v[h], v[h+1]
				v[h] = fma32(x0, c, -float32(x1*s))
				v[h+1] = fma32(x0, s, float32(x1*c))
			}
		}
	}
}

// softmax replaces x by its softmax.
func softmax(x []float32) {
	mx := x[0]
	for _, v := range x[1:] {
		mx = max(mx, v)
	}
	var sum float32
	for i, v := range x {
		e := expf(v - mx)
		x[i] = e
		sum += e
	}
	inv := 1 / sum
	for i := range x {
		x[i] *= inv
	}
}

// dot is the inner product of two equal-length vectors. The four partial
// sums are fixed, so the result does not depend on threads or machine; the
// conversions stop the compiler from fusing multiply and add, which some
// processors would round differently.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	for len(a) >= 4 && len(b) >= 4 {
		s0 += float32(a[0] * b[0])
		s1 += float32(a[1] * b[1])
		s2 += float32(a[2] * b[2])
		s3 += float32(a[3] * b[3])
		a, b = a[4:], b[4:]
	}
	for i, v := range a {
		s0 += float32(v * b[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// matmulRows sets out[r] = w[r] . x for rows r in [lo, hi) of the row-major
// float32 matrix w with len(x) columns.
func matmulRows(out, x, w []float32, lo, hi int) {
	n := len(x)
	for r := lo; r < hi; r++ {
		out[r] = dot(w[r*n:(r+1)*n], x)
	}
}

// matmul sets out = w x. x is first converted to the activation format of
// w's type, as llama.cpp does, and the rows are split over the state's
// goroutines when the matrix is large enough. Each row is summed the same
// way whatever the split, so threads never change results.
func (s *State) matmul(out, x []float32, w *matrix) {
	s.in.prepare(w.actFormat(), x)
	s.product(out, w)
}

// matmulAgain is matmul for the x of the state's last product, unchanged
// since: x is converted again only when w's type takes another format.
// Q8_0 and Q8_1 activations are the same values (prepare fills the sums
// for both), so the attention's and the feed-forward's inputs are
// quantized once for all their matrices.
func (s *State) matmulAgain(out, x []float32, w *matrix) {
	f := w.actFormat()
	if f != s.in.format && !(isQ8(f) && isQ8(s.in.format)) {
		s.in.prepare(f, x)
	}
	s.product(out, w)
}

func isQ8(format int) bool { return format == actQ8_0 || format == actQ8_1 }

// product sets out = w times the prepared input.
func (s *State) product(out []float32, w *matrix) {
	rows := len(out)
	if s.threads <= 1 || rows*w.cols < parallelMin || rows < 2*s.threads {
		w.dotRows(out, &s.in, 0, rows)
		return
	}
	t := s.threads
	var wg sync.WaitGroup
	for i := 1; i < t; i++ {
		lo, hi := rows*i/t, rows*(i+1)/t
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.dotRows(out, &s.in, lo, hi)
		}()
	}
	w.dotRows(out, &s.in, 0, rows/t)
	wg.Wait()
}
