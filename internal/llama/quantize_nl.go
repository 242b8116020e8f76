package llama

import "math"

// llama.cpp's IQ4_NL and Q4_K quantizers as llama-quantize runs them with
// no importance matrix (quantize_iq4_nl with 7 tries, quantize_row_q4_K_ref),
// step for step in float32 so that they write the same bytes.

// bestIndexIQ4 is the index of the table value nearest to x, the lower one
// of two at equal distance, found by bisection as GGML's best_index_int8.
func bestIndexIQ4(kv *[16]int8, x float32) int {
	if x <= float32(kv[0]) {
		return 0
	}
	if x >= float32(kv[15]) {
		return 15
	}
	lo, hi := 0, 15
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if x < float32(kv[mid]) {
			hi = mid
		} else {
			lo = mid
		}
	}
	if float32(x-float32(kv[hi-1])) < float32(float32(kv[hi])-x) {
		return hi - 1
	}
	return hi
}

// quantizeIQ4NL: per block of 32, the scale that best fits the table
// (weights x^2) among the first guess and 15 tried around it.
func quantizeIQ4NL(x []float32, dst []byte) {
	kv := kvaluesIQ4NL()
	var L [32]uint8
	for b := range len(x) / 32 {
		v := x[32*b : 32*b+32]
		blk := dst[18*b : 18*b+18]
		d := float32(0)
		if mx := signedMax(v); abs32(mx) >= groupMaxEps {
			d = iq4Scale(&kv, v, mx)
		}
		putHalf(blk, d)
		id := float32(0)
		if d != 0 {
			id = 1 / d
		}
		for j, e := range v {
			L[j] = uint8(bestIndexIQ4(&kv, float32(id*e)))
		}
		for j := range 16 {
			blk[2+j] = L[j] | L[j+16]<<4
		}
	}
}

// iq4Scale is the block scale quantize_row_iq4_nl_impl settles on for
// values v whose largest magnitude is mx.
func iq4Scale(kv *[16]int8, v []float32, mx float32) float32 {
	fit := func(id float32) (sumqx, sumq2 float32) {
		for _, e := range v {
			q := float32(kv[bestIndexIQ4(kv, float32(id*e))])
			w := float32(e * e)
			sumqx += float32(float32(w*q) * e)
			sumq2 += float32(float32(w*q) * q)
		}
		return sumqx, sumq2
	}
	d := -mx / float32(kv[0])
	sumqx, sumq2 := fit(1 / d)
	d = 0
	if sumq2 > 0 {
		d = sumqx / sumq2
	}
	best := float32(d * sumqx)
	for itry := -7; itry <= 7; itry++ {
		sumqx, sumq2 = fit(float32(itry+int(kv[0])) / mx)
		if sumq2 > 0 && float32(sumqx*sumqx) > float32(best*sumq2) {
			d = sumqx / sumq2
			best = float32(d * sumqx)
		}
	}
	return d
}

// makeQKX2Quants is GGML's make_qkx2_quants without the absolute-error
// option: levels 0..nmax for x with a scale and a minimum (returned as the
// amount subtracted, never negative), the weighted squared error minimised
// over the first guess and nstep+1 candidate scales.
func makeQKX2Quants(nmax int, x, weights []float32, L, aux []uint8, rmin, rdelta float32, nstep int) (scale, theMin float32) {
	lo, hi := x[0], x[0]
	sumW := weights[0]
	sumX := float32(sumW * x[0])
	for i := 1; i < len(x); i++ {
		lo, hi = min(lo, x[i]), max(hi, x[i])
		sumW += weights[i]
		sumX += float32(weights[i] * x[i])
	}
	lo = min(lo, 0)
	if hi == lo {
		clear(L)
		return 0, -lo
	}
	fn := float32(nmax)
	level := func(iscale, v, mn float32) uint8 {
		return uint8(max(0, min(int32(nmax), nearestInt(float32(iscale*float32(v-mn))))))
	}
	iscale := fn / (hi - lo)
	scale = 1 / iscale
	var bestErr float32
	for i, v := range x {
		L[i] = level(iscale, v, lo)
		diff := float32(float32(float32(scale*float32(L[i]))+lo) - v)
		bestErr += float32(weights[i] * float32(diff*diff))
	}
	for is := 0; is <= nstep; is++ {
		iscale = float32(float32(rmin+float32(rdelta*float32(is)))+fn) / (hi - lo)
		var sumL, sumL2, sumXL float32
		for i, v := range x {
			l := level(iscale, v, lo)
			aux[i] = l
			w, fl := weights[i], float32(l)
			sumL += float32(w * fl)
			sumL2 += float32(float32(w*fl) * fl)
			sumXL += float32(float32(w*fl) * v)
		}
		D := float32(float32(sumW*sumL2) - float32(sumL*sumL))
		if D <= 0 {
			continue
		}
		thisScale := float32(float32(sumW*sumXL)-float32(sumX*sumL)) / D
		thisMin := float32(float32(sumL2*sumX)-float32(sumL*sumXL)) / D
		if thisMin > 0 {
			thisMin = 0
			thisScale = sumXL / sumL2
		}
		var curErr float32
		for i, v := range x {
			diff := float32(float32(float32(thisScale*float32(aux[i]))+thisMin) - v)
			curErr += float32(weights[i] * float32(diff*diff))
		}
		if curErr < bestErr {
			copy(L, aux[:len(x)])
			bestErr, scale, lo = curErr, thisScale, thisMin
		}
	}
	return scale, -lo
}

// quantizeQ4_K: 8 groups of 32 with 4-bit levels above a minimum, each
// group's scale and minimum quantized to 6 bits against the super-block's
// binary16 ones.
func quantizeQ4_K(x []float32, dst []byte) {
	var L [256]uint8
	var aux [32]uint8
	var weights [32]float32
	var scales, mins [8]float32
	for b := range len(x) / 256 {
		v := x[256*b : 256*b+256]
		blk := dst[144*b : 144*b+144]
		var maxScale, maxMin float32
		for j := range 8 {
			g := v[32*j : 32*j+32]
			var sumX2 float32
			for _, e := range g {
				sumX2 += float32(e * e)
			}
			avX := float32(math.Sqrt(float64(sumX2 / 32)))
			for l, e := range g {
				weights[l] = avX + abs32(e)
			}
			scales[j], mins[j] = makeQKX2Quants(15, g, weights[:], L[32*j:32*j+32], aux[:], -1, 0.1, 20)
			if scales[j] > maxScale {
				maxScale = scales[j]
			}
			if mins[j] > maxMin {
				maxMin = mins[j]
			}
		}
		var invScale, invMin float32
		if maxScale > 0 {
			invScale = 63 / maxScale
		}
		if maxMin > 0 {
			invMin = 63 / maxMin
		}
		sc := blk[4:16]
		clear(sc)
		for j := range 8 {
			ls := min(63, uint8(nearestInt(float32(invScale*scales[j]))))
			lm := min(63, uint8(nearestInt(float32(invMin*mins[j]))))
			if j < 4 {
				sc[j], sc[j+4] = ls, lm
			} else {
				sc[j+4] = ls&0xf | (lm&0xf)<<4
				sc[j-4] |= (ls >> 4) << 6
				sc[j] |= (lm >> 4) << 6
			}
		}
		putHalf(blk, maxScale/63)
		putHalf(blk[2:], maxMin/63)
		d, dmin := half(blk), half(blk[2:])
		for j := range 8 {
			s, m := scaleMinK4(j, sc)
			dj := float32(d * float32(s))
			if dj == 0 {
				continue
			}
			dm := float32(dmin * float32(m))
			for i := range 32 {
				l := nearestInt(float32(v[32*j+i]+dm) / dj)
				L[32*j+i] = uint8(max(0, min(15, l)))
			}
		}
		q := blk[16:144]
		for j := range 4 {
			for l := range 32 {
				q[32*j+l] = L[64*j+l] | L[64*j+l+32]<<4
			}
		}
	}
}
