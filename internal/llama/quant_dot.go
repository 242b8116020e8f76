package llama

import "encoding/binary"

// Block dot products and dequantizers, one pair per tensor type. A dot
// product sums integer products exactly within a block and then adds the
// block's scaled sum to one float32 total, block after block, as llama.cpp's
// reference kernels do; the order is fixed, so a result never depends on the
// machine or the number of threads. Explicit float32 conversions keep the
// compiler from fusing a multiply and an add. With AVX2, dotRows takes
// whole matrices of most types through the kernels of quant_amd64.s and
// f16_amd64.s instead (quant_mat.go), which give these functions' bits.
//
// Layouts (little-endian, binary16 scales written "half"):
//
//	Q4_0   half d, 16 bytes: value j = low nibble of byte j - 8, value j+16 = high nibble - 8
//	Q4_1   half d, half m, 16 bytes of nibbles as Q4_0 without the offset; w = d*q + m
//	Q5_0   half d, uint32 of fifth bits (bit j for value j), 16 bytes of nibbles; q - 16
//	Q5_1   half d, half m, fifth bits, nibbles; w = d*q + m
//	Q8_0   half d, 32 int8
//	IQ4_NL half d, 16 bytes of nibbles indexing the non-linear table kvaluesIQ4NL
//	Q2_K   16 bytes of (4-bit scale, 4-bit min), 64 bytes of 2-bit values, half d, half dmin
//	Q3_K   32 bytes of high bits, 64 bytes of 2-bit values, 12 bytes of 6-bit scales, half d
//	Q4_K   half d, half dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles
//	Q5_K   as Q4_K with 32 bytes of fifth bits before the nibbles
//	Q6_K   128 bytes of low nibbles, 64 bytes of high 2 bits, 16 int8 scales, half d
//	IQ4_XS half d, uint16 of scale high bits, 4 bytes of scale low nibbles, 128 bytes of nibbles

// kvaluesIQ4NL returns IQ4_NL's and IQ4_XS's table of 16 values.
func kvaluesIQ4NL() [16]int8 {
	return [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}
}

// dotF16 is the dot product of a row of binary16 weights with activations
// already rounded to binary16: every product is exact in float32, and the
// sums are dot's. dotBF16 is the same for bfloat16.
func dotF16(row []byte, a *act) float32 {
	x := a.f
	row = row[:2*len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += halfToFloat(le16(row[2*i:])) * x[i]
		s1 += halfToFloat(le16(row[2*i+2:])) * x[i+1]
		s2 += halfToFloat(le16(row[2*i+4:])) * x[i+2]
		s3 += halfToFloat(le16(row[2*i+6:])) * x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += halfToFloat(le16(row[2*i:])) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dotBF16(row []byte, a *act) float32 {
	x := a.f
	row = row[:2*len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += bf16ToFloat(le16(row[2*i:])) * x[i]
		s1 += bf16ToFloat(le16(row[2*i+2:])) * x[i+1]
		s2 += bf16ToFloat(le16(row[2*i+4:])) * x[i+2]
		s3 += bf16ToFloat(le16(row[2*i+6:])) * x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += bf16ToFloat(le16(row[2*i:])) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func deq16(row []byte, out []float32, conv func(uint16) float32) {
	for i := range out {
		out[i] = conv(le16(row[2*i:]))
	}
}

func deqF16(row []byte, out []float32)  { deq16(row, out, halfToFloat) }
func deqBF16(row []byte, out []float32) { deq16(row, out, bf16ToFloat) }

func deqQ8_0(row []byte, out []float32) {
	for b := range len(out) / 32 {
		blk := row[34*b : 34*b+34]
		d := half(blk)
		for j := range 32 {
			out[32*b+j] = float32(int8(blk[2+j])) * d
		}
	}
}

func deqQ4_0(row []byte, out []float32) {
	for b := range len(out) / 32 {
		blk := row[18*b : 18*b+18]
		d := half(blk)
		for j := range 16 {
			out[32*b+j] = float32(int32(blk[2+j]&0xf)-8) * d
			out[32*b+j+16] = float32(int32(blk[2+j]>>4)-8) * d
		}
	}
}

func deqQ4_1(row []byte, out []float32) {
	for b := range len(out) / 32 {
		blk := row[20*b : 20*b+20]
		d, m := half(blk), half(blk[2:])
		for j := range 16 {
			out[32*b+j] = float32(float32(blk[4+j]&0xf)*d) + m
			out[32*b+j+16] = float32(float32(blk[4+j]>>4)*d) + m
		}
	}
}

// q5 returns the 5-bit values j and j+16 of a Q5 block from its nibbles
// and fifth bits.
func q5(qs byte, qh uint32, j int) (lo, hi int32) {
	lo = int32(qs&0xf) | int32((qh>>j)<<4&0x10)
	hi = int32(qs>>4) | int32((qh>>(j+12))&0x10)
	return lo, hi
}

func deqQ5_0(row []byte, out []float32) {
	for b := range len(out) / 32 {
		blk := row[22*b : 22*b+22]
		d := half(blk)
		qh := uint32(blk[2]) | uint32(blk[3])<<8 | uint32(blk[4])<<16 | uint32(blk[5])<<24
		for j := range 16 {
			lo, hi := q5(blk[6+j], qh, j)
			out[32*b+j] = float32(lo-16) * d
			out[32*b+j+16] = float32(hi-16) * d
		}
	}
}

func deqQ5_1(row []byte, out []float32) {
	for b := range len(out) / 32 {
		blk := row[24*b : 24*b+24]
		d, m := half(blk), half(blk[2:])
		qh := uint32(blk[4]) | uint32(blk[5])<<8 | uint32(blk[6])<<16 | uint32(blk[7])<<24
		for j := range 16 {
			lo, hi := q5(blk[8+j], qh, j)
			out[32*b+j] = float32(float32(lo)*d) + m
			out[32*b+j+16] = float32(float32(hi)*d) + m
		}
	}
}

// lanesIQ4NL is IQ4_NL's dot product in the order llama.cpp's x86 build
// takes for the row: per block, 8 lanes of integer sums (lanes32) fused,
// rounded once (fmaf), into 8 float32 accumulators by the product of the
// two scales, then hsum8. A prompt batch's row goes through tinyBLAS, one
// set of accumulators. A lone token's goes through ggml_vec_dot_iq4_nl_q8_0
// (tinyBLAS takes no single rows): the even and the odd blocks of each pair
// into two sets, added lane by lane before hsum8, and a last unpaired
// block's scaled integer sum fused into the total after, as the compiler
// contracts that kernel's scalar tail.
func lanesIQ4NL(row []byte, a *act) float32 {
	var accs [2][8]float32
	var w [32]byte
	nb := len(a.d)
	if !a.batch {
		nb &^= 1
	}
	for b := range nb {
		dd := decIQ4NL(row[18*b:18*b+18], &w) * a.d[b]
		l := lanes32(&w, a.qs[32*b:32*b+32])
		acc := &accs[0]
		if !a.batch {
			acc = &accs[b%2]
		}
		for k := range acc {
			acc[k] = fmaf(dd, float32(l[k]), acc[k])
		}
	}
	if a.batch {
		return hsum8(&accs[0])
	}
	for k := range accs[0] {
		accs[0][k] += accs[1][k]
	}
	sum := hsum8(&accs[0])
	if b := nb; b < len(a.d) {
		dd := decIQ4NL(row[18*b:18*b+18], &w) * a.d[b]
		l := lanes32(&w, a.qs[32*b:32*b+32])
		sum = fmaf(dd, float32(l[0]+l[1]+l[2]+l[3]+l[4]+l[5]+l[6]+l[7]), sum)
	}
	return sum
}

// decIQ4NL maps an IQ4_NL block's 32 nibbles through its table into w, as
// int8 bytes, and returns the block's scale.
func decIQ4NL(blk []byte, w *[32]byte) float32 {
	kv := kvaluesIQ4NL()
	for j := range 16 {
		w[j] = byte(kv[blk[2+j]&0xf])
		w[j+16] = byte(kv[blk[2+j]>>4])
	}
	return half(blk)
}

func deqIQ4NL(row []byte, out []float32) {
	kv := kvaluesIQ4NL()
	for b := range len(out) / 32 {
		blk := row[18*b : 18*b+18]
		d := half(blk)
		for j := range 16 {
			out[32*b+j] = d * float32(kv[blk[2+j]&0xf])
			out[32*b+j+16] = d * float32(kv[blk[2+j]>>4])
		}
	}
}

// K-quants: super-blocks of 256 paired with Q8_K activations.

// scaleMinK4 unpacks the j-th 6-bit scale and min of Q4_K and Q5_K.
func scaleMinK4(j int, q []byte) (d, m int32) {
	if j < 4 {
		return int32(q[j] & 63), int32(q[j+4] & 63)
	}
	return int32(q[j+4]&0xf | (q[j-4]>>6)<<4), int32(q[j+4]>>4 | (q[j]>>6)<<4)
}

// dotQ4_K is the Q4_K dot product in the order of llama.cpp's x86 AVX2
// kernel (ggml_vec_dot_q4_K_q8_K), which takes a batch's rows as a lone
// token's: per super-block, 8 lanes of integer sums (lane k takes values 4k
// to 4k+3 of every 32, times their scale) fused, rounded once (fmaf), into
// 8 float32 accumulators by y.d times d, and the minimums' products in 4
// lanes (pairs of sub-blocks) fused into 4 accumulators by -y.d times dmin;
// then hsum8 of the first plus the pairwise sum of the second.
func dotQ4_K(row []byte, a *act) float32 {
	var acc [8]float32
	var accm [4]float32
	for b, yd := range a.d {
		blk := row[144*b : 144*b+144]
		q8 := a.qs[256*b : 256*b+256]
		bs := a.bsums[16*b : 16*b+16]
		sc := blk[4:16]
		qs := blk[16:144]
		dmin := -yd * half(blk[2:])
		var lanes [8]int32
		for j := range 4 {
			d1, m1 := scaleMinK4(2*j, sc)
			d2, m2 := scaleMinK4(2*j+1, sc)
			q := qs[32*j : 32*j+32]
			y := q8[64*j : 64*j+64]
			for k := range lanes {
				var s1, s2 int32
				for l := 4 * k; l < 4*k+4; l++ {
					s1 += int32(q[l]&0xf) * int32(y[l])
					s2 += int32(q[l]>>4) * int32(y[l+32])
				}
				lanes[k] += d1*s1 + d2*s2
			}
			mins := m1*(bs[4*j]+bs[4*j+1]) + m2*(bs[4*j+2]+bs[4*j+3])
			accm[j] = fmaf(dmin, float32(mins), accm[j])
		}
		d := yd * half(blk)
		for k := range acc {
			acc[k] = fmaf(d, float32(lanes[k]), acc[k])
		}
	}
	return hsum8(&acc) + ((accm[0] + accm[2]) + (accm[1] + accm[3]))
}

func deqQ4_K(row []byte, out []float32) {
	for b := range len(out) / 256 {
		blk := row[144*b : 144*b+144]
		d, mn := half(blk), half(blk[2:])
		sc := blk[4:16]
		y := out[256*b : 256*b+256]
		for j := range 4 {
			s1, m1 := scaleMinK4(2*j, sc)
			s2, m2 := scaleMinK4(2*j+1, sc)
			d1, dm1 := d*float32(s1), mn*float32(m1)
			d2, dm2 := d*float32(s2), mn*float32(m2)
			q := blk[16+32*j : 16+32*j+32]
			for l := range 32 {
				y[64*j+l] = float32(d1*float32(q[l]&0xf)) - dm1
				y[64*j+32+l] = float32(d2*float32(q[l]>>4)) - dm2
			}
		}
	}
}

func dotQ5_K(row []byte, a *act) float32 {
	var sum float32
	for b, yd := range a.d {
		blk := row[176*b : 176*b+176]
		q8 := a.qs[256*b : 256*b+256]
		bs := a.bsums[16*b : 16*b+16]
		sc := blk[4:16]
		qh := blk[16:48]
		qs := blk[48:176]
		var isum, msum int32
		for j := range 4 {
			d1, m1 := scaleMinK4(2*j, sc)
			d2, m2 := scaleMinK4(2*j+1, sc)
			q := qs[32*j : 32*j+32]
			y := q8[64*j : 64*j+64]
			u1, u2 := byte(1)<<(2*j), byte(2)<<(2*j)
			var s1, s2 int32
			for l := range 32 {
				lo, hi := int32(q[l]&0xf), int32(q[l]>>4)
				if qh[l]&u1 != 0 {
					lo += 16
				}
				if qh[l]&u2 != 0 {
					hi += 16
				}
				s1 += lo * int32(y[l])
				s2 += hi * int32(y[l+32])
			}
			isum += d1*s1 + d2*s2
			msum += m1*(bs[4*j]+bs[4*j+1]) + m2*(bs[4*j+2]+bs[4*j+3])
		}
		sum += float32(float32(half(blk)*yd) * float32(isum))
		sum -= float32(float32(half(blk[2:])*yd) * float32(msum))
	}
	return sum
}

func deqQ5_K(row []byte, out []float32) {
	for b := range len(out) / 256 {
		blk := row[176*b : 176*b+176]
		d, mn := half(blk), half(blk[2:])
		sc, qh := blk[4:16], blk[16:48]
		y := out[256*b : 256*b+256]
		for j := range 4 {
			s1, m1 := scaleMinK4(2*j, sc)
			s2, m2 := scaleMinK4(2*j+1, sc)
			d1, dm1 := d*float32(s1), mn*float32(m1)
			d2, dm2 := d*float32(s2), mn*float32(m2)
			q := blk[48+32*j : 48+32*j+32]
			u1, u2 := byte(1)<<(2*j), byte(2)<<(2*j)
			for l := range 32 {
				lo, hi := int32(q[l]&0xf), int32(q[l]>>4)
				if qh[l]&u1 != 0 {
					lo += 16
				}
				if qh[l]&u2 != 0 {
					hi += 16
				}
				y[64*j+l] = float32(d1*float32(lo)) - dm1
				y[64*j+32+l] = float32(d2*float32(hi)) - dm2
			}
		}
	}
}

// q6 returns the four 6-bit values (minus 32) that Q6_K packs at l, l+32,
// l+64 and l+96 of a 128-value half.
func q6(ql []byte, qh byte, l int) (a, b, c, d int32) {
	a = int32(ql[l]&0xf|(qh&3)<<4) - 32
	b = int32(ql[l+32]&0xf|(qh>>2&3)<<4) - 32
	c = int32(ql[l]>>4|(qh>>4&3)<<4) - 32
	d = int32(ql[l+32]>>4|(qh>>6&3)<<4) - 32
	return
}

func dotQ6_K(row []byte, a *act) float32 {
	var sum float32
	for b, yd := range a.d {
		blk := row[210*b : 210*b+210]
		q8 := a.qs[256*b : 256*b+256]
		var isum int32
		for n := 0; n < 2; n++ {
			ql := blk[64*n : 64*n+64]
			qh := blk[128+32*n : 128+32*n+32]
			sc := blk[192+8*n : 192+8*n+8]
			y := q8[128*n : 128*n+128]
			for h := 0; h < 2; h++ {
				var s1, s2, s3, s4 int32
				for l := 16 * h; l < 16*h+16; l++ {
					v1, v2, v3, v4 := q6(ql, qh[l], l)
					s1 += v1 * int32(y[l])
					s2 += v2 * int32(y[l+32])
					s3 += v3 * int32(y[l+64])
					s4 += v4 * int32(y[l+96])
				}
				isum += int32(int8(sc[h]))*s1 + int32(int8(sc[h+2]))*s2 +
					int32(int8(sc[h+4]))*s3 + int32(int8(sc[h+6]))*s4
			}
		}
		sum += float32(float32(half(blk[208:])*yd) * float32(isum))
	}
	return sum
}

func deqQ6_K(row []byte, out []float32) {
	for b := range len(out) / 256 {
		blk := row[210*b : 210*b+210]
		d := half(blk[208:])
		for n := 0; n < 2; n++ {
			ql := blk[64*n : 64*n+64]
			qh := blk[128+32*n : 128+32*n+32]
			sc := blk[192+8*n : 192+8*n+8]
			y := out[256*b+128*n : 256*b+128*n+128]
			for l := range 32 {
				is := l / 16
				v1, v2, v3, v4 := q6(ql, qh[l], l)
				y[l] = float32(d*float32(int8(sc[is]))) * float32(v1)
				y[l+32] = float32(d*float32(int8(sc[is+2]))) * float32(v2)
				y[l+64] = float32(d*float32(int8(sc[is+4]))) * float32(v3)
				y[l+96] = float32(d*float32(int8(sc[is+6]))) * float32(v4)
			}
		}
	}
}

func dotQ2_K(row []byte, a *act) float32 {
	var sum float32
	for b, yd := range a.d {
		blk := row[84*b : 84*b+84]
		q8 := a.qs[256*b : 256*b+256]
		bs := a.bsums[16*b : 16*b+16]
		sc := blk[0:16]
		var isum, msum int32
		for k, s := range sc {
			msum += int32(s>>4) * bs[k]
		}
		for n := 0; n < 2; n++ {
			q := blk[16+32*n : 16+32*n+32]
			for j := range 4 {
				shift := 2 * j
				y := q8[128*n+32*j : 128*n+32*j+32]
				var s1, s2 int32
				for l := range 16 {
					s1 += int32(q[l]>>shift&3) * int32(y[l])
					s2 += int32(q[l+16]>>shift&3) * int32(y[l+16])
				}
				isum += int32(sc[8*n+2*j]&0xf)*s1 + int32(sc[8*n+2*j+1]&0xf)*s2
			}
		}
		dall, dmin := float32(half(blk[80:])*yd), float32(half(blk[82:])*yd)
		sum += float32(float32(dall*float32(isum)) - float32(dmin*float32(msum)))
	}
	return sum
}

func deqQ2_K(row []byte, out []float32) {
	for b := range len(out) / 256 {
		blk := row[84*b : 84*b+84]
		d, mn := half(blk[80:]), half(blk[82:])
		y := out[256*b : 256*b+256]
		is := 0
		for n := 0; n < 2; n++ {
			q := blk[16+32*n : 16+32*n+32]
			for j := range 4 {
				shift := 2 * j
				for h := 0; h < 2; h++ {
					sc := blk[is]
					is++
					dl, ml := d*float32(sc&0xf), mn*float32(sc>>4)
					for l := range 16 {
						y[128*n+32*j+16*h+l] = float32(dl*float32(q[16*h+l]>>shift&3)) - ml
					}
				}
			}
		}
	}
}

// scaleQ3K unpacks the j-th 6-bit scale of Q3_K, minus its offset of 32.
func scaleQ3K(sc []byte, j int) int32 {
	var lo byte
	if j < 8 {
		lo = sc[j] & 0xf
	} else {
		lo = sc[j-8] >> 4
	}
	return int32(lo|(sc[8+j%4]>>(2*(j/4))&3)<<4) - 32
}

// q3 is the Q3_K value at l of 2-bit byte q and high-bit byte hm for the
// shift and mask of its quarter.
func q3(q, hm byte, shift int, m byte) int32 {
	v := int32(q >> shift & 3)
	if hm&m == 0 {
		v -= 4
	}
	return v
}

func dotQ3_K(row []byte, a *act) float32 {
	var sum float32
	for b, yd := range a.d {
		blk := row[110*b : 110*b+110]
		q8 := a.qs[256*b : 256*b+256]
		hm := blk[0:32]
		sc := blk[96:108]
		var isum int32
		m := byte(1)
		is := 0
		for n := 0; n < 2; n++ {
			q := blk[32+32*n : 32+32*n+32]
			for j := range 4 {
				shift := 2 * j
				y := q8[128*n+32*j : 128*n+32*j+32]
				var s1, s2 int32
				for l := range 16 {
					s1 += q3(q[l], hm[l], shift, m) * int32(y[l])
					s2 += q3(q[l+16], hm[l+16], shift, m) * int32(y[l+16])
				}
				isum += scaleQ3K(sc, is)*s1 + scaleQ3K(sc, is+1)*s2
				is += 2
				m <<= 1
			}
		}
		sum += float32(float32(half(blk[108:])*yd) * float32(isum))
	}
	return sum
}

func deqQ3_K(row []byte, out []float32) {
	for b := range len(out) / 256 {
		blk := row[110*b : 110*b+110]
		d := half(blk[108:])
		hm, sc := blk[0:32], blk[96:108]
		y := out[256*b : 256*b+256]
		m := byte(1)
		is := 0
		for n := 0; n < 2; n++ {
			q := blk[32+32*n : 32+32*n+32]
			for j := range 4 {
				shift := 2 * j
				for h := 0; h < 2; h++ {
					dl := d * float32(scaleQ3K(sc, is))
					is++
					for l := range 16 {
						y[128*n+32*j+16*h+l] = dl * float32(q3(q[16*h+l], hm[16*h+l], shift, m))
					}
				}
				m <<= 1
			}
		}
	}
}

// scaleIQ4XS is the ib-th 6-bit scale of IQ4_XS, minus its offset of 32.
func scaleIQ4XS(blk []byte, ib int) int32 {
	h := le16(blk[2:])
	return int32((blk[4+ib/2]>>(4*(ib%2)))&0xf|byte(h>>(2*ib)&3)<<4) - 32
}

func dotIQ4XS(row []byte, a *act) float32 {
	kv := kvaluesIQ4NL()
	var sum float32
	for b, yd := range a.d {
		blk := row[136*b : 136*b+136]
		q8 := a.qs[256*b : 256*b+256]
		var isum int32
		for ib := range 8 {
			q := blk[8+16*ib : 8+16*ib+16]
			y := q8[32*ib : 32*ib+32]
			var s int32
			for j := range 16 {
				s += int32(kv[q[j]&0xf]) * int32(y[j])
				s += int32(kv[q[j]>>4]) * int32(y[j+16])
			}
			isum += scaleIQ4XS(blk, ib) * s
		}
		sum += float32(float32(half(blk)*yd) * float32(isum))
	}
	return sum
}

func deqIQ4XS(row []byte, out []float32) {
	kv := kvaluesIQ4NL()
	for b := range len(out) / 256 {
		blk := row[136*b : 136*b+136]
		d := half(blk)
		for ib := range 8 {
			dl := d * float32(scaleIQ4XS(blk, ib))
			q := blk[8+16*ib : 8+16*ib+16]
			y := out[256*b+32*ib : 256*b+32*ib+32]
			for j := range 16 {
				y[j] = dl * float32(kv[q[j]&0xf])
				y[j+16] = dl * float32(kv[q[j]>>4])
			}
		}
	}
}

// Block decoders for dotLanes.

func decQ4_1(blk []byte, w *[32]byte) (float32, float32) {
	for j := range 16 {
		w[j], w[j+16] = blk[4+j]&0xf, blk[4+j]>>4
	}
	return half(blk), half(blk[2:])
}

// unpackQ5 writes the 32 five-bit values of a Q5 block, minus off, from
// its 16 bytes of nibbles and its word of fifth bits (bit j for value j).
func unpackQ5(qs []byte, qh uint32, off byte, w *[32]byte) {
	qs = qs[:16]
	lo, hi := qh, qh>>16
	for j := range 16 {
		w[j] = (qs[j]&0xf | byte(lo&1)<<4) - off
		w[j+16] = (qs[j]>>4 | byte(hi&1)<<4) - off
		lo >>= 1
		hi >>= 1
	}
}

func decQ5_0(blk []byte, w *[32]byte) (float32, float32) {
	unpackQ5(blk[6:22], binary.LittleEndian.Uint32(blk[2:]), 16, w)
	return half(blk), 0
}

func decQ5_1(blk []byte, w *[32]byte) (float32, float32) {
	unpackQ5(blk[8:24], binary.LittleEndian.Uint32(blk[4:]), 0, w)
	return half(blk), half(blk[2:])
}

// lanesQ8_0 is dotLanes for Q8_0 written out, the commonest type: each
// lane's 4 products summed in int32, fused into its float32 accumulator.
// With AVX2 the lanes are computed 8 at a time, to the same bits.
func lanesQ8_0(row []byte, a *act) float32 {
	var acc [8]float32
	if a.simd {
		var dd [64]float32
		for b0 := 0; b0 < len(a.d); b0 += len(dd) {
			n := min(len(dd), len(a.d)-b0)
			for b := range n {
				dd[b] = half(row[34*(b0+b):]) * a.d[b0+b]
			}
			lanesQ8AVX2(&row[34*b0], 34, &a.qs[32*b0], &dd[0], n, &acc)
		}
		return hsum8(&acc)
	}
	for b, yd := range a.d {
		blk := row[34*b : 34*b+34]
		dd := half(blk) * yd
		w := blk[2:34]
		y := a.qs[32*b : 32*b+32]
		for k := range acc {
			w4, y4 := w[4*k:4*k+4], y[4*k:4*k+4]
			l := int32(int8(w4[0]))*int32(y4[0]) + int32(int8(w4[1]))*int32(y4[1]) +
				int32(int8(w4[2]))*int32(y4[2]) + int32(int8(w4[3]))*int32(y4[3])
			acc[k] = fmaf(dd, float32(l), acc[k])
		}
	}
	return hsum8(&acc)
}

func lanesQ4_1(row []byte, a *act) float32 { return dotLanes(row, a, 20, ggmlQ4_1) }
func lanesQ5_0(row []byte, a *act) float32 { return dotLanes(row, a, 22, ggmlQ5_0) }
func lanesQ5_1(row []byte, a *act) float32 { return dotLanes(row, a, 24, ggmlQ5_1) }

// seqQ4_0 fuses each block's integer sum into one float32 total, block after
// block, as llama.cpp's x86 kernel for repacked Q4_0 rows does.
func seqQ4_0(row []byte, a *act) float32 {
	var sum float32
	for b, yd := range a.d {
		blk := row[18*b : 18*b+18]
		q8 := a.qs[32*b : 32*b+32]
		qs := blk[2:18]
		var s int32
		for j := range 16 {
			s += (int32(qs[j]&0xf) - 8) * int32(q8[j])
			s += (int32(qs[j]>>4) - 8) * int32(q8[j+16])
		}
		sum = fma32(float32(s), half(blk)*yd, sum)
	}
	return sum
}
