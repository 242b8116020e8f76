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

// LANE4 is one step of four lanes: acc = fma32(v, a, acc), one float64
// FMA (the product of two float32 is exact) rounded to float32.
#define LANE4(mem, A, ACC, XACC, T) VCVTPS2PD mem, T; VFMADD231PD A, T, ACC; RND(ACC, XACC)

// func valuesAVX2(v *float32, stride int, att *float32, n, hs int, lanes *float32)
// lanes[16*i+k] = fma32 chain over t < n (a multiple of 16), t%16 == k,
// of v[i*stride+t]*att[t], from zero, for i < hs (even): two outputs per
// pass, their 32 lanes in eight float64 registers.
TEXT ·valuesAVX2(SB), NOSPLIT, $0-48
	MOVQ v+0(FP), SI
	MOVQ stride+8(FP), R8
	SHLQ $2, R8
	MOVQ att+16(FP), R9
	MOVQ n+24(FP), R10
	SHRQ $4, R10
	MOVQ hs+32(FP), CX
	SHRQ $1, CX
	MOVQ lanes+40(FP), DX
vrow:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	MOVQ SI, R11
	LEAQ (SI)(R8*1), R12
	MOVQ R9, BX
	MOVQ R10, AX
vloop:
	VCVTPS2PD (BX), Y8
	VCVTPS2PD 16(BX), Y9
	VCVTPS2PD 32(BX), Y10
	VCVTPS2PD 48(BX), Y11
	LANE4((R11), Y8, Y0, X0, Y12)
	LANE4(16(R11), Y9, Y1, X1, Y13)
	LANE4(32(R11), Y10, Y2, X2, Y14)
	LANE4(48(R11), Y11, Y3, X3, Y15)
	LANE4((R12), Y8, Y4, X4, Y12)
	LANE4(16(R12), Y9, Y5, X5, Y13)
	LANE4(32(R12), Y10, Y6, X6, Y14)
	LANE4(48(R12), Y11, Y7, X7, Y15)
	ADDQ $64, BX
	ADDQ $64, R11
	ADDQ $64, R12
	DECQ AX
	JNZ vloop
	VCVTPD2PSY Y0, X0
	VCVTPD2PSY Y1, X1
	VCVTPD2PSY Y2, X2
	VCVTPD2PSY Y3, X3
	VCVTPD2PSY Y4, X4
	VCVTPD2PSY Y5, X5
	VCVTPD2PSY Y6, X6
	VCVTPD2PSY Y7, X7
	VMOVUPS X0, (DX)
	VMOVUPS X1, 16(DX)
	VMOVUPS X2, 32(DX)
	VMOVUPS X3, 48(DX)
	VMOVUPS X4, 64(DX)
	VMOVUPS X5, 80(DX)
	VMOVUPS X6, 96(DX)
	VMOVUPS X7, 112(DX)
	ADDQ $128, DX
	LEAQ (SI)(R8*2), SI
	DECQ CX
	JNZ vrow
	VZEROUPPER
	RET

// Constants of simdExpf as four float64 each; then, as eight float32 each,
// the floor of its argument in softmax (below -700 the result is +0, as it
// is at -700, and the power-of-two trick stays in range) and the start of
// a maximum; then a NaN.
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
GLOBL smexp<>(SB), RODATA|NOPTR, $420

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
