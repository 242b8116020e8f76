#include "textflag.h"
#include "reduce_amd64.h"

// func scoresAVX2(q, k *float32, stride, hs, n int, scale float32, att *float32) (mx float32)
// att[t] = (sum over i < hs, in order, of q[i]*k[i*stride+t]) * scale for
// t < n (a multiple of 8); every product and sum rounded to float32.
// Thirty-two positions per pass while they last, then eight. mx is the
// largest att[t] (of either sign when it is zero), or NaN if any is NaN.
TEXT ·scoresAVX2(SB), NOSPLIT, $0-60
	MOVQ q+0(FP), SI
	MOVQ k+8(FP), DI
	MOVQ stride+16(FP), R8
	SHLQ $2, R8
	MOVQ hs+24(FP), R9
	MOVQ n+32(FP), R10
	VBROADCASTSS scale+40(FP), Y15
	MOVQ att+48(FP), DX
	VMOVUPS smexp<>+384(SB), Y14 // the running maximum, from -Inf
	VXORPS Y13, Y13, Y13         // lanes that have seen a NaN
s32:
	CMPQ R10, $32
	JLT s8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ SI, BX
	MOVQ DI, R11
	MOVQ R9, CX
s32i:
	VBROADCASTSS (BX), Y4
	VMULPS (R11), Y4, Y5
	VMULPS 32(R11), Y4, Y6
	VMULPS 64(R11), Y4, Y7
	VMULPS 96(R11), Y4, Y8
	VADDPS Y5, Y0, Y0
	VADDPS Y6, Y1, Y1
	VADDPS Y7, Y2, Y2
	VADDPS Y8, Y3, Y3
	ADDQ $4, BX
	ADDQ R8, R11
	DECQ CX
	JNZ s32i
	VMULPS Y15, Y0, Y0
	VMULPS Y15, Y1, Y1
	VMULPS Y15, Y2, Y2
	VMULPS Y15, Y3, Y3
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	VMAXPS Y0, Y14, Y14
	VMAXPS Y1, Y14, Y14
	VMAXPS Y2, Y14, Y14
	VMAXPS Y3, Y14, Y14
	VCMPPS $3, Y0, Y0, Y5
	VCMPPS $3, Y1, Y1, Y6
	VCMPPS $3, Y2, Y2, Y7
	VCMPPS $3, Y3, Y3, Y8
	VORPS Y5, Y13, Y13
	VORPS Y6, Y13, Y13
	VORPS Y7, Y13, Y13
	VORPS Y8, Y13, Y13
	ADDQ $128, DI
	ADDQ $128, DX
	SUBQ $32, R10
	JMP s32
s8:
	CMPQ R10, $0
	JEQ sdone
	VXORPS Y0, Y0, Y0
	MOVQ SI, BX
	MOVQ DI, R11
	MOVQ R9, CX
s8i:
	VBROADCASTSS (BX), Y4
	VMULPS (R11), Y4, Y5
	VADDPS Y5, Y0, Y0
	ADDQ $4, BX
	ADDQ R8, R11
	DECQ CX
	JNZ s8i
	VMULPS Y15, Y0, Y0
	VMOVUPS Y0, (DX)
	VMAXPS Y0, Y14, Y14
	VCMPPS $3, Y0, Y0, Y5
	VORPS Y5, Y13, Y13
	ADDQ $32, DI
	ADDQ $32, DX
	SUBQ $8, R10
	JMP s8
sdone:
	VEXTRACTF128 $1, Y14, X0
	VMAXPS X0, X14, X0
	VMOVHLPS X0, X0, X1
	VMAXPS X1, X0, X0
	VMOVSHDUP X0, X1
	VMAXSS X1, X0, X0
	VMOVMSKPS Y13, AX
	TESTQ AX, AX
	JZ sret
	VMOVSS smexp<>+416(SB), X0
sret:
	VMOVSS X0, mx+56(FP)
	VZEROUPPER
	RET

// RND rounds four float64 lanes to float32 and back, as fma32 rounds.
#define RND(Y, X) VCVTPD2PSY Y, X; VCVTPS2PD X, Y

// LANE4 is one step of four lanes kept as float32 at lane: lane =
// fma32(v, a, lane) for the four float32 v at mem and the four float64 a
// in A, one float64 FMA (the product of two float32 is exact) whose
// rounding to float32 is the store. Masked, mem and lane's float32 are
// read through M (zeros where it is clear: a zero product leaves a lane
// as it was, since a lane is never -0).
#define LANE4(mem, lane, A, T, XT, U, XU) \
	VCVTPS2PD lane, T; VCVTPS2PD mem, U; VFMADD231PD A, U, T; VCVTPD2PSY T, XT; VMOVUPS XT, lane
#define LANE4M(mem, lane, A, M, T, XT, U, XU) \
	VCVTPS2PD lane, T; VMASKMOVPS mem, M, XU; VCVTPS2PD XU, U; VFMADD231PD A, U, T; VCVTPD2PSY T, XT; VMOVUPS XT, lane

// func valuesAVX2(v *float32, stride int, att *float32, n, hs, span int, lanes, out *float32)
// For i < hs: lanes[span*i+t%span] = fma32 chain over t < n of
// v[i*stride+t]*att[t], from the zeros lanes holds; then, when span is 16,
// out[i] = reduce16(lanes[16*i:]) (span 64 leaves the lanes to the
// caller). Sixteen positions at a time over every output, the lanes in
// memory, so that all span*hs chains advance together; the last n%16
// positions through masked loads.
TEXT ·valuesAVX2(SB), NOSPLIT, $0-64
	MOVQ v+0(FP), SI
	MOVQ stride+8(FP), R8
	SHLQ $2, R8
	MOVQ att+16(FP), R9
	MOVQ n+24(FP), R10
	MOVQ hs+32(FP), R11
	MOVQ span+40(FP), R14
	SHLQ $2, R14               // an output's lanes, in bytes
	LEAQ -1(R14), R15          // a run's lanes are at its offset modulo that
	MOVQ lanes+48(FP), DX
	MOVQ out+56(FP), R13
	MOVQ R10, AX
	ANDQ $15, AX               // the tail's length
	LEAQ ·tailmask(SB), BX
	MOVQ $16, CX
	SUBQ AX, CX
	VMOVDQU (BX)(CX*4), X12    // masks of positions 0-3 of the tail
	VMOVDQU 16(BX)(CX*4), X13  // 4-7
	VMOVDQU 32(BX)(CX*4), X14  // 8-11
	VMOVDQU 48(BX)(CX*4), X15  // 12-15
	SHRQ $4, R10               // full runs of 16
	XORQ R12, R12              // byte offset of the run
vrun:
	CMPQ R10, $0
	JEQ vtail
	VCVTPS2PD (R9)(R12*1), Y8
	VCVTPS2PD 16(R9)(R12*1), Y9
	VCVTPS2PD 32(R9)(R12*1), Y10
	VCVTPS2PD 48(R9)(R12*1), Y11
	LEAQ (SI)(R12*1), DI       // v[0*stride + t]
	MOVQ R12, BX
	ANDQ R15, BX
	ADDQ DX, BX                // output 0's lanes of this run
	MOVQ R11, CX
vrow:
	LANE4((DI), (BX), Y8, Y0, X0, Y1, X1)
	LANE4(16(DI), 16(BX), Y9, Y2, X2, Y3, X3)
	LANE4(32(DI), 32(BX), Y10, Y4, X4, Y5, X5)
	LANE4(48(DI), 48(BX), Y11, Y6, X6, Y7, X7)
	ADDQ R8, DI
	ADDQ R14, BX
	DECQ CX
	JNZ vrow
	ADDQ $64, R12
	DECQ R10
	JMP vrun
vtail:
	TESTQ AX, AX
	JEQ vred
	VMASKMOVPS (R9)(R12*1), X12, X8
	VMASKMOVPS 16(R9)(R12*1), X13, X9
	VMASKMOVPS 32(R9)(R12*1), X14, X10
	VMASKMOVPS 48(R9)(R12*1), X15, X11
	VCVTPS2PD X8, Y8
	VCVTPS2PD X9, Y9
	VCVTPS2PD X10, Y10
	VCVTPS2PD X11, Y11
	LEAQ (SI)(R12*1), DI
	MOVQ R12, BX
	ANDQ R15, BX
	ADDQ DX, BX
	MOVQ R11, CX
vtrow:
	LANE4M((DI), (BX), Y8, X12, Y0, X0, Y1, X1)
	LANE4M(16(DI), 16(BX), Y9, X13, Y2, X2, Y3, X3)
	LANE4M(32(DI), 32(BX), Y10, X14, Y4, X4, Y5, X5)
	LANE4M(48(DI), 48(BX), Y11, X15, Y6, X6, Y7, X7)
	ADDQ R8, DI
	ADDQ R14, BX
	DECQ CX
	JNZ vtrow
vred:
	CMPQ R14, $64
	JNE vdone                  // span 64: the caller folds the lanes
	MOVQ R11, CX
vrloop:
	VMOVUPS (DX), Y2
	VMOVUPS 32(DX), Y3
	REDUCE16(Y3, Y2)
	VMOVSS X0, (R13)
	ADDQ $64, DX
	ADDQ $4, R13
	DECQ CX
	JNZ vrloop
vdone:
	VZEROUPPER
	RET

// Constants of simdExpf as four float64 each; then, as eight float32 each,
// the floor of its argument in softmax (below -700 the result is +0, as it
// is at -700, and the power-of-two trick stays in range) and the start of
// a maximum; then a NaN; then the bounds of SwiGLU's gates, 1 and -0.
#define K4(o, v) DATA smexp<>+(o)(SB)/8, v; DATA smexp<>+(o+8)(SB)/8, v; DATA smexp<>+(o+16)(SB)/8, v; DATA smexp<>+(o+24)(SB)/8, v
K4(0, $0x3ff7154760000000)   // log2(e)
K4(32, $0x4168000000000000)  // 0x1.8p23, the rounding shift
K4(64, $0x3fe62e4000000000)  // ln 2, high part
K4(96, $0x3eb7f7d1c0000000)  // ln 2, low part
K4(128, $0x3f80e40200000000) // the polynomial, highest term first
K4(160, $0x3fa573e2e0000000)
K4(192, $0x3fc555e660000000)
K4(224, $0x3fdfffdb60000000)
K4(256, $0x3feffffec0000000)
K4(288, $0x3ff0000000000000)
K4(320, $1023)               // the float64 exponent bias
K4(352, $0xc42f0000c42f0000) // -700 as float32, eight times
K4(384, $0xff800000ff800000) // -Inf as float32, eight times
DATA smexp<>+416(SB)/4, $0x7fc00000 // a NaN
K4(448, $0xc2a00000c2a00000) // -80 as float32, eight times
K4(480, $0x442f0000442f0000) // 700
K4(512, $0x3f8000003f800000) // 1
K4(544, $0x8000000080000000) // -0
GLOBL smexp<>(SB), RODATA|NOPTR, $576

// EXP4 sets XC to simdExpf of the four float64 lanes of X (float32
// values), with A-E as scratch: the steps of expAVX2, each float32 step
// rounded (RND), in six registers so that two chains fit at once. Every
// fma32 is one float64 FMA: its product of two float32 is exact, so one
// rounding of product plus addend is the multiply-then-add's. n = z - r
// is exact in float32 and needs no rounding.
#define EXP4(X, A, B, C, D, E, XX, XA, XB, XC, XD, XE) \
	VMOVUPD smexp<>+32(SB), A; VFMADD231PD smexp<>+0(SB), X, A; RND(A, XA); \
	VSUBPD smexp<>+32(SB), A, A; \
	VMOVAPD X, B; VFNMADD231PD smexp<>+64(SB), A, B; RND(B, XB); \
	VFNMADD231PD smexp<>+96(SB), A, B; RND(B, XB); \
	VMULPD B, B, X; RND(X, XX); \
	VMOVUPD smexp<>+160(SB), C; VFMADD231PD smexp<>+128(SB), B, C; RND(C, XC); \
	VMOVUPD smexp<>+224(SB), D; VFMADD231PD smexp<>+192(SB), B, D; RND(D, XD); \
	VFMADD213PD D, X, C; RND(C, XC); \
	VMOVUPD smexp<>+288(SB), D; VFMADD231PD smexp<>+256(SB), B, D; RND(D, XD); \
	VFMADD213PD D, X, C; RND(C, XC); \
	VCVTTPD2DQY A, XE; VPMOVSXDQ XE, E; VPADDQ smexp<>+320(SB), E, E; VPSLLQ $52, E, E; \
	VMULPD E, C, C; VCVTPD2PSY C, XC

// EXP8 sets Y to simdExpf(max(x - mx, -700)) of the eight float32 at mem,
// mx in every lane of Y15; Y0-Y11 are scratch.
#define EXP8(mem, Y) \
	VMOVUPS mem, Y1; VSUBPS Y15, Y1, Y1; VMAXPS smexp<>+352(SB), Y1, Y1; \
	VEXTRACTF128 $1, Y1, X7; VCVTPS2PD X1, Y0; VCVTPS2PD X7, Y6; \
	EXP4(Y0, Y1, Y2, Y3, Y4, Y5, X0, X1, X2, X3, X4, X5); \
	EXP4(Y6, Y7, Y8, Y9, Y10, Y11, X6, X7, X8, X9, X10, X11); \
	VINSERTF128 $1, X9, Y3, Y

// func expSumAVX2(x *float32, nb int, mx float32) (sum float64)
// For nb blocks of 16: x[i] = simdExpf(max(x[i]-mx, -700)), and sum the
// float64 sum, in block order, of each block's reduce16. mx is finite and
// no x[i] is greater, so every argument is in [-700, 0], where the kernel
// needs no special cases.
TEXT ·expSumAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ nb+8(FP), CX
	VBROADCASTSS mx+16(FP), Y15
	VXORPD X14, X14, X14
ebloop:
	EXP8((SI), Y12)
	EXP8(32(SI), Y13)
	VMOVUPS Y12, (SI)
	VMOVUPS Y13, 32(SI)
	REDUCE16(Y13, Y12)
	VCVTSS2SD X0, X0, X0
	VADDSD X0, X14, X14
	ADDQ $64, SI
	DECQ CX
	JNZ ebloop
	VMOVSD X14, sum+24(FP)
	VZEROUPPER
	RET

// RNDZ rounds eight float64 lanes to float32 and back.
#define RNDZ(Z, Y) VCVTPD2PS Z, Y; VCVTPS2PD Y, Z

// EXPZ is EXP4 on eight float64 lanes (AVX-512), the constants broadcast
// from the same table.
#define EXPZ(X, A, B, C, D, E, YX, YA, YB, YC, YD, YE) \
	VBROADCASTSD smexp<>+32(SB), A; VFMADD231PD.BCST smexp<>+0(SB), X, A; RNDZ(A, YA); \
	VSUBPD.BCST smexp<>+32(SB), A, A; \
	VMOVAPD X, B; VFNMADD231PD.BCST smexp<>+64(SB), A, B; RNDZ(B, YB); \
	VFNMADD231PD.BCST smexp<>+96(SB), A, B; RNDZ(B, YB); \
	VMULPD B, B, X; RNDZ(X, YX); \
	VBROADCASTSD smexp<>+160(SB), C; VFMADD231PD.BCST smexp<>+128(SB), B, C; RNDZ(C, YC); \
	VBROADCASTSD smexp<>+224(SB), D; VFMADD231PD.BCST smexp<>+192(SB), B, D; RNDZ(D, YD); \
	VFMADD213PD D, X, C; RNDZ(C, YC); \
	VBROADCASTSD smexp<>+288(SB), D; VFMADD231PD.BCST smexp<>+256(SB), B, D; RNDZ(D, YD); \
	VFMADD213PD D, X, C; RNDZ(C, YC); \
	VCVTTPD2DQ A, YE; VPMOVSXDQ YE, E; VPADDQ.BCST smexp<>+320(SB), E, E; VPSLLQ $52, E, E; \
	VMULPD E, C, C; VCVTPD2PS C, YC

// func expSumAVX512(x *float32, nb int, mx float32) (sum float64)
// expSumAVX2 with eight float64 lanes per register: the same steps, so
// the same bits, in half the instructions.
TEXT ·expSumAVX512(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ nb+8(FP), CX
	VBROADCASTSS mx+16(FP), Y15
	VXORPD X14, X14, X14
zloop:
	VMOVUPS (SI), Y1
	VSUBPS Y15, Y1, Y1
	VMAXPS smexp<>+352(SB), Y1, Y1
	VCVTPS2PD Y1, Z0
	VMOVUPS 32(SI), Y7
	VSUBPS Y15, Y7, Y7
	VMAXPS smexp<>+352(SB), Y7, Y7
	VCVTPS2PD Y7, Z6
	EXPZ(Z0, Z1, Z2, Z3, Z4, Z5, Y0, Y1, Y2, Y3, Y4, Y5)
	EXPZ(Z6, Z7, Z8, Z9, Z10, Z11, Y6, Y7, Y8, Y9, Y10, Y11)
	VMOVUPS Y3, (SI)
	VMOVUPS Y9, 32(SI)
	REDUCE16(Y9, Y3)
	VCVTSS2SD X0, X0, X0
	VADDSD X0, X14, X14
	ADDQ $64, SI
	DECQ CX
	JNZ zloop
	VMOVSD X14, sum+24(FP)
	VZEROUPPER
	RET

// func swigluAVX2(gate, up *float32, n int) (done int)
// gate[i] = silu(gate[i]) * up[i] (silu(g) = g / (1 + simdExpf(-g)),
// every step rounded to float32), eight at a time while eight remain and
// all eight gates are in [-80, 700], where -g is in the exp kernel's
// domain. done is how many it set, a multiple of eight.
TEXT ·swigluAVX2(SB), NOSPLIT, $0-32
	MOVQ gate+0(FP), SI
	MOVQ up+8(FP), DI
	MOVQ n+16(FP), CX
	XORQ AX, AX
	VMOVUPS smexp<>+544(SB), Y15     // -0, so that -0 - g is -g for every g
gloop:
	CMPQ CX, $8
	JLT gdone
	VMOVUPS (SI), Y12                // g
	VCMPPS $29, smexp<>+448(SB), Y12, Y13 // g >= -80
	VCMPPS $18, smexp<>+480(SB), Y12, Y14 // g <= 700
	VANDPS Y14, Y13, Y13
	VMOVMSKPS Y13, BX
	CMPQ BX, $0xff
	JNE gdone
	VSUBPS Y12, Y15, Y1              // -g
	VEXTRACTF128 $1, Y1, X7
	VCVTPS2PD X1, Y0
	VCVTPS2PD X7, Y6
	EXP4(Y0, Y1, Y2, Y3, Y4, Y5, X0, X1, X2, X3, X4, X5)
	EXP4(Y6, Y7, Y8, Y9, Y10, Y11, X6, X7, X8, X9, X10, X11)
	VINSERTF128 $1, X9, Y3, Y3       // e^-g
	VADDPS smexp<>+512(SB), Y3, Y3   // 1 + e^-g
	VDIVPS Y3, Y12, Y3               // g / (1 + e^-g)
	VMULPS (DI), Y3, Y3              // times up
	VMOVUPS Y3, (SI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $8, AX
	SUBQ $8, CX
	JMP gloop
gdone:
	MOVQ AX, done+24(FP)
	VZEROUPPER
	RET

// func scaleAVX2(x *float32, n int, s float32)
// x[i] *= s for i < n, a multiple of 8.
TEXT ·scaleAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS s+16(FP), Y1
scloop:
	CMPQ CX, $0
	JEQ scdone
	VMULPS (SI), Y1, Y0
	VMOVUPS Y0, (SI)
	ADDQ $32, SI
	SUBQ $8, CX
	JMP scloop
scdone:
	VZEROUPPER
	RET
