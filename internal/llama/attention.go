package llama

import "math"

// Attention over the KV cache, in llama.cpp's order.
//
// The cache keeps each head's keys and values transposed: for every value
// index i of a head, one run of positions. A score is still a dot product
// over i in order, and an output still sums over positions in 16 lanes, so
// the arithmetic is exactly the per-position loops'; the layout only lets
// the AVX2 kernels work on eight or sixteen positions at once with plain
// vertical instructions.

// scores sets att[t] = (q . key t) * scale for t < len(att), the dot
// product a float32 sum of rounded products in index order (GGML's
// ggml_vec_dot_f32 on fewer than 64 values), and returns the largest
// att[t] as Go's max finds it (NaN if any is NaN, +0 over -0). Key t's
// value i is k[i*stride+t].
func scores(att, q, k []float32, stride int, scale float32, simd bool) float32 {
	n := len(att)
	mx := float32(math.Inf(-1))
	if n == 0 {
		return mx
	}
	_ = k[(len(q)-1)*stride+n-1]
	t := 0
	if simd && n >= 8 {
		t = n &^ 7
		mx = scoresAVX2(&q[0], &k[0], stride, len(q), t, scale, &att[0])
	}
	for ; t < n; t++ {
		var s float32
		for i, v := range q {
			s += v * k[i*stride+t]
		}
		att[t] = s * scale
		mx = max(mx, att[t])
	}
	if mx == 0 || mx != mx {
		// The kernel's maximum may differ from Go's only here: in the
		// sign of a zero, or in which NaN.
		mx = float32(math.Inf(-1))
		for _, v := range att {
			mx = max(mx, v)
		}
	}
	return mx
}

// values sets out[i] to the sum over positions t < len(att) of att[t]
// times value i of position t (v[i*stride+t]) in llama.cpp's tinyBLAS
// order: 16 lanes of fused multiply-adds (fma32), lane t%16, added as
// reduce16 does. lanes (16 per output) is scratch. llama.cpp takes this
// order for a prompt's tokens, which it evaluates as one batch; tinyBLAS
// does not take single rows.
func values(out, v []float32, stride int, att, lanes []float32, simd bool) {
	hs, n := len(out), len(att)
	lanes = lanes[:16*hs]
	clear(lanes)
	if n > 0 {
		_ = v[(hs-1)*stride+n-1]
		if simd {
			valuesAVX2(&v[0], stride, &att[0], n, hs, 16, &lanes[0], &out[0])
			return
		}
	}
	for i := range out {
		l := (*[16]float32)(lanes[16*i : 16*i+16])
		row := v[i*stride : i*stride+n]
		for t, a := range att {
			l[t%16] = fma32(row[t], a, l[t%16])
		}
		out[i] = reduce16(l)
	}
}

// valuesVec is values for a token evaluated alone, in the order of GGML's
// ggml_vec_dot_f32 over the pad cells llama.cpp attends to (the ones past
// len(att) weigh zero and add nothing): the first pad&^63 positions in
// four vectors of 16 fused lanes, lane t%64, folded in pairs and added as
// reduce16 does; then the rest one by one, each fused into the running
// float32 sum, as the compiler contracts that scalar loop. lanes (64 per
// output) is scratch; simd takes the lanes' chains through valuesAVX2,
// to the same bits.
func valuesVec(out, v []float32, stride int, att []float32, pad int, lanes []float32, simd bool) {
	hs, n := len(out), len(att)
	wide := min(n, pad&^63)
	lanes = lanes[:64*hs]
	clear(lanes)
	if wide > 0 {
		_ = v[(hs-1)*stride+n-1]
		if simd {
			valuesAVX2(&v[0], stride, &att[0], wide, hs, 64, &lanes[0], nil)
		} else {
			for i := range out {
				row, l := v[i*stride:i*stride+wide], lanes[64*i:64*i+64]
				for t, a := range att[:wide] {
					l[t%64] = fma32(row[t], a, l[t%64])
				}
			}
		}
	}
	for i := range out {
		var s float32
		if wide > 0 {
			acc := (*[64]float32)(lanes[64*i : 64*i+64])
			var fold [16]float32
			for k := range 16 {
				fold[k] = (acc[k] + acc[32+k]) + (acc[16+k] + acc[48+k])
			}
			s = reduce16(&fold)
		}
		row := v[i*stride : i*stride+n]
		for t := wide; t < n; t++ {
			s = fma32(row[t], att[t], s)
		}
		out[i] = s
	}
}
