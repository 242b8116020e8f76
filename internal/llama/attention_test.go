package llama

import (
	"fmt"
	"math"
	"testing"
)

// oldAttention is one head's attention as the engine computed it over a
// cache laid out by position (key t at k[t*stride:]): each score a dot
// product in index order, a softmax, and the values summed per output in
// 16 lanes of fma32, lane t%16. The transposed cache must give its bits.
func oldAttention(q, k, v []float32, stride, n, pad int, scale float32, out []float32) {
	hs := len(q)
	att := make([]float32, n)
	for t := range att {
		var s float32
		for i, x := range q {
			s += x * k[t*stride+i]
		}
		att[t] = s * scale
	}
	mx := float32(math.Inf(-1))
	for _, x := range att {
		mx = max(mx, x)
	}
	softmaxGGML(att, mx, pad, false, false)
	lanes := make([]float32, 16*hs)
	for t, a := range att {
		for i := range hs {
			l := &lanes[(t%16)*hs+i]
			*l = fma32(v[t*stride+i], a, *l)
		}
	}
	for i := range out {
		var lane [16]float32
		for j := range lane {
			lane[j] = lanes[j*hs+i]
		}
		out[i] = reduce16(&lane)
	}
}

// transpose lays a by-position cache (n positions, hs values stride apart)
// out as the engine's: value i of every position in one run of cap.
func transpose(c []float32, stride, hs, n, cap int) []float32 {
	out := make([]float32, hs*cap)
	for t := range n {
		for i := range hs {
			out[i*cap+t] = c[t*stride+i]
		}
	}
	return out
}

// TestAttentionMatchesPerPosition checks that attention over the
// transposed cache, with the AVX2 kernels and without, gives the bits of
// the per-position loops, on lengths around the kernels' steps and on
// awkward values: zeros of both signs as the largest score, NaN, Inf, and
// scores so far apart that exponentials underflow. A NaN may come out as
// another NaN.
func TestAttentionMatchesPerPosition(t *testing.T) {
	r := NewRand(5)
	kinds := []string{"normal", "peaked", "zeros", "nan", "inf"}
	for _, hs := range []int{2, 8, 10} {
		for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 64, 100, 257} {
			for _, kind := range kinds {
				stride, cap := hs+3, n+5
				q := make([]float32, hs)
				k, v := make([]float32, n*stride), make([]float32, n*stride)
				for i := range q {
					q[i] = float32(r.Norm())
				}
				for i := range k {
					k[i], v[i] = float32(r.Norm()), float32(r.Norm())
				}
				scale := float32(0.35)
				switch kind {
				case "peaked":
					scale = 400
				case "zeros":
					// Every score a zero, some negative.
					for i := range q {
						q[i] = 0
					}
					q[0] = float32(math.Copysign(0, -1))
				case "nan":
					k[(n/2)*stride] = float32(math.NaN())
				case "inf":
					k[(n/3)*stride+1] = float32(math.Inf(1))
				}
				kt, vt := transpose(k, stride, hs, n, cap), transpose(v, stride, hs, n, cap)
				for _, pad := range []int{n, (n + 31) / 32 * 32, n / 16 * 16} {
					want := make([]float32, hs)
					oldAttention(q, k, v, stride, n, pad, scale, want)
					for _, mode := range []struct{ simd, wide bool }{{false, false}, {true, false}, {true, true}} {
						simd := mode.simd
						if simd && !hasSIMD() || mode.wide && !hasAVX512() {
							continue
						}
						att, got := make([]float32, n), make([]float32, hs)
						mx := scores(att, q, kt, cap, scale, simd)
						softmaxGGML(att, mx, pad, simd, mode.wide)
						values(got, vt, cap, att, make([]float32, 16*hs), simd)
						for i := range got {
							// Which NaN comes out where two meet is
							// the compiler's operand order, not ours.
							nan := got[i] != got[i] && want[i] != want[i]
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !nan {
								t.Errorf("hs %d, %d positions, %s, pad %d, %+v: output %d = %v (%#x), per position %v (%#x)",
									hs, n, kind, pad, mode, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
							}
						}
					}
				}
			}
		}
	}
}

// TestExpSumMatchesPortable checks the AVX2 and AVX-512 softmax
// exponentials against simdExpf on arguments in [-750, 0], where the
// kernels run without special cases: random ones, the ends of the ranges
// where simdExpf changes method, and -Inf; and their block sums against
// reduce16's.
func TestExpSumMatchesPortable(t *testing.T) {
	if !hasSIMD() {
		t.Skip("no AVX2 here: only the portable kernels run")
	}
	r := NewRand(13)
	xs := []float32{0, float32(math.Copysign(0, -1)), -1e-30, -1e-45, -80, -87.3, -87.34, -88.7, -103.9, -104,
		-133, -133.1, -134, -699.99, -700, -700.01, -750, float32(math.Inf(-1))}
	for range 1 << 18 {
		xs = append(xs, float32(-750*r.Float64()), float32(-120*r.Float64()))
	}
	for len(xs)%16 != 0 {
		xs = append(xs, 0)
	}
	kernels := map[string]func(*float32, int, float32) float64{"AVX2": expSumAVX2}
	if hasAVX512() {
		kernels["AVX-512"] = expSumAVX512
	}
	for name, expSum := range kernels {
		for _, mx := range []float32{0, 3.5} {
			testExpSum(t, name, expSum, xs, mx)
		}
	}
}

// testExpSum runs one kernel on xs + mx and checks each exponential and
// the sum against the portable ones.
func testExpSum(t *testing.T, name string, expSum func(*float32, int, float32) float64, xs []float32, mx float32) {
	got := make([]float32, len(xs))
	for i, x := range xs {
		got[i] = x + mx
	}
	sum := expSum(&got[0], len(got)/16, mx)
	var want float64
	for b := 0; b < len(xs); b += 16 {
		var lane [16]float32
		for i := range lane {
			lane[i] = simdExpf(xs[b+i] + mx - mx)
			if g := got[b+i]; math.Float32bits(g) != math.Float32bits(lane[i]) {
				t.Fatalf("exp(%g - %g): %s %g, portable %g", xs[b+i]+mx, mx, name, g, lane[i])
			}
		}
		want += float64(reduce16(&lane))
	}
	if sum != want {
		t.Errorf("mx %g: %s sum %v, portable %v", mx, name, sum, want)
	}
}

// BenchmarkAttention times one head's attention over n cached positions.
func BenchmarkAttention(b *testing.B) {
	const hs = 8
	r := NewRand(1)
	simd, wide := hasSIMD(), hasAVX512() // once: cpuid traps to the hypervisor in a VM
	for _, n := range []int{64, 256, 512} {
		q, kt, vt := make([]float32, hs), make([]float32, hs*n), make([]float32, hs*n)
		for i := range q {
			q[i] = float32(r.Norm())
		}
		for i := range kt {
			kt[i], vt[i] = float32(r.Norm()), float32(r.Norm())
		}
		att, out, lanes := make([]float32, n), make([]float32, hs), make([]float32, 16*hs)
		b.Run(fmt.Sprintf("positions=%d", n), func(b *testing.B) {
			for b.Loop() {
				mx := scores(att, q, kt, n, 0.35, simd)
				softmaxGGML(att, mx, n, simd, simd && wide)
				values(out, vt, n, att, lanes, simd)
			}
		})
	}
}

// TestSwiGLUMatchesPortable checks the AVX2 SwiGLU against silu(g) * u on
// lengths around its step of eight and on gates at and past the ends of
// its range, zeros of both signs, Inf and NaN.
func TestSwiGLUMatchesPortable(t *testing.T) {
	if !hasSIMD() {
		t.Skip("no AVX2 here: only the portable kernels run")
	}
	r := NewRand(23)
	edges := []float32{0, float32(math.Copysign(0, -1)), -80, -80.01, 700, 700.1, 88, 89, -87, -104, 1e-30,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for _, n := range []int{1, 7, 8, 9, 16, 172, 256, 1000} {
		g, u := make([]float32, n), make([]float32, n)
		for i := range g {
			g[i], u[i] = float32(r.Norm()*20), float32(r.Norm())
		}
		if n > 100 {
			for i, e := range edges {
				g[i*7%n] = e
			}
		}
		want := make([]float32, n)
		for i := range want {
			want[i] = silu(g[i]) * u[i]
		}
		swiglu(g, u, true)
		for i := range g {
			if math.Float32bits(g[i]) != math.Float32bits(want[i]) && !(g[i] != g[i] && want[i] != want[i]) {
				t.Errorf("%d gates, %d: AVX2 %v, portable %v", n, i, g[i], want[i])
			}
		}
	}
}

// TestValuesVec checks the single-token order of the weighted sum of
// values: over fewer than 64 cells one fused chain in position order, over
// more the vector part first, and always close to the float64 sum.
func TestValuesVec(t *testing.T) {
	r := NewRand(29)
	const hs, cap = 3, 300
	v := make([]float32, hs*cap)
	for i := range v {
		v[i] = float32(r.Norm())
	}
	for _, n := range []int{1, 8, 31, 63, 64, 65, 100, 128, 200} {
		pad := (n + 31) / 32 * 32
		att := make([]float32, n)
		for i := range att {
			att[i] = float32(r.Float64())
		}
		out := make([]float32, hs)
		valuesVec(out, v, cap, att, pad, make([]float32, 64*hs), false)
		chained := false
		for i := range out {
			var chain float32
			var want, scale float64
			for p, a := range att {
				chain = fma32(v[i*cap+p], a, chain)
				want += float64(v[i*cap+p]) * float64(a)
				scale += math.Abs(float64(v[i*cap+p]) * float64(a))
			}
			if math.Abs(float64(out[i])-want) > 1e-6*scale {
				t.Errorf("%d positions, output %d: %v, float64 sum %v", n, i, out[i], want)
			}
			if pad < 64 && out[i] != chain {
				t.Errorf("%d positions, output %d: %v, the fused chain %v", n, i, out[i], chain)
			}
			chained = chained || out[i] != chain
		}
		if pad >= 128 && !chained {
			t.Errorf("%d positions: every output equals the fused chain; the vector part did not run", n)
		}
	}
}

// TestValuesVecAVX2 checks that valuesVec's lanes through valuesAVX2 (span
// 64) give the portable code's bits, for every length from 1 to 300 (full
// runs of 16, a masked tail, every run's place among the four vectors),
// pads of either kind, and values and weights of mixed magnitudes.
func TestValuesVecAVX2(t *testing.T) {
	if !hasSIMD() {
		t.Skip("no AVX2")
	}
	r := NewRand(37)
	const hs, cap = 8, 320
	v := make([]float32, hs*cap)
	for i := range v {
		v[i] = float32(r.Norm() * math.Exp(4*r.Norm()))
	}
	lanes := make([]float32, 64*hs)
	for n := 1; n <= 300; n++ {
		att := make([]float32, n)
		for i := range att {
			att[i] = float32(r.Float64() * math.Exp(3*r.Norm()))
		}
		for _, pad := range []int{(n + 31) / 32 * 32, (n + 255) / 256 * 256} {
			want, got := make([]float32, hs), make([]float32, hs)
			valuesVec(want, v, cap, att, pad, lanes, false)
			valuesVec(got, v, cap, att, pad, lanes, true)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%d positions, pad %d, output %d: AVX2 %v, portable %v", n, pad, i, got[i], want[i])
				}
			}
		}
	}
}
