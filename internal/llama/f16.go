package llama

import "math"

// halfToFloat converts an IEEE 754 binary16 value to float32 exactly: the
// exponent and mantissa moved into float32's places and scaled by 2^112,
// which is exact for normal and subnormal values alike; infinities and
// NaNs keep an all-ones exponent.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	if h&0x7c00 == 0x7c00 {
		return math.Float32frombits(sign | 0x7f800000 | uint32(h&0x3ff)<<13)
	}
	f := math.Float32frombits(uint32(h&0x7fff)<<13) * 0x1p112
	return math.Float32frombits(math.Float32bits(f) | sign)
}

// floatToHalf rounds a float32 to the nearest binary16, ties to even, with
// overflow to infinity; it is what storing a weight as F16 does.
func floatToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff { // Inf or NaN
		if man != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign // too small even for a subnormal
		}
		// Subnormal half: shift the mantissa (with its implicit bit) into place.
		m := man | 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		rest := m & (1<<shift - 1)
		v := m >> shift
		if rest > half || (rest == half && v&1 == 1) {
			v++
		}
		return sign | uint16(v)
	}
	v := uint32(e)<<10 | man>>13
	rest := man & 0x1fff
	if rest > 0x1000 || (rest == 0x1000 && v&1 == 1) {
		v++ // may carry into the exponent, which is the right rounding
	}
	return sign | uint16(v)
}

// roundHalf returns f rounded through binary16.
func roundHalf(f float32) float32 { return halfToFloat(floatToHalf(f)) }
