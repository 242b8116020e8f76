#include "textflag.h"

// detExp's constants, four float64 each, then two int32 bounds four times.
#define D4(o, v) DATA detc<>+(o)(SB)/8, v; DATA detc<>+(o+8)(SB)/8, v; DATA detc<>+(o+16)(SB)/8, v; DATA detc<>+(o+24)(SB)/8, v
D4(0, $0x3ff71547652b82fe)   // log2e
D4(32, $0x3fe0000000000000)  // 0.5
D4(64, $0xbfe0000000000000)  // -0.5
D4(96, $0x3fe62e42fee00000)  // ln2Hi
D4(128, $0x3dea39ef35793c76) // ln2Lo
D4(160, $0x3e66376972bea4d0) // expP5
D4(192, $0xbebbbd41c5d26bf1) // expP4
D4(224, $0x3f11566aaf25de2c) // expP3
D4(256, $0xbf66c16c16bebd93) // expP2
D4(288, $0x3fc555555555553e) // expP1
D4(320, $0x3ff0000000000000) // 1
D4(352, $0x4000000000000000) // 2
D4(384, $1023)               // the exponent bias, int64
DATA detc<>+416(SB)/8, $0x000003ff000003ff // 1023, int32
DATA detc<>+424(SB)/8, $0x000003ff000003ff
DATA detc<>+432(SB)/8, $0xfffffc02fffffc02 // -1022, int32
DATA detc<>+440(SB)/8, $0xfffffc02fffffc02
GLOBL detc<>(SB), RODATA|NOPTR, $448

// func detExpAVX2(dst *float64, x *float32, n int, mx float64) (done int)
// dst[i] = detExp(float64(x[i]) - mx), four at a time, each float64 step
// of detExp in its order (no fusing), while four remain and all four have
// k in [-1021, 1023], where detExp needs neither its special cases nor
// Ldexp (NaN and the ends give a k outside). done is how many it set, a
// multiple of four.
TEXT ·detExpAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSD mx+24(FP), Y15
	VXORPD Y14, Y14, Y14
	VMOVUPD detc<>+32(SB), Y13 // 0.5
	XORQ AX, AX
dloop:
	CMPQ CX, $4
	JLT ddone
	VCVTPS2PD (SI), Y0
	VSUBPD Y15, Y0, Y0             // x
	VMULPD detc<>+0(SB), Y0, Y1    // log2e*x
	VCMPPD $1, Y14, Y0, Y2         // x < 0
	VBLENDVPD Y2, detc<>+64(SB), Y13, Y3
	VADDPD Y3, Y1, Y1              // log2e*x - 0.5 or + 0.5
	VCVTTPD2DQY Y1, X4             // k
	VPCMPGTD detc<>+416(SB), X4, X5 // k > 1023
	VMOVDQU detc<>+432(SB), X6
	VPCMPGTD X4, X6, X6            // -1022 > k
	VPOR X5, X6, X5
	VPTEST X5, X5
	JNZ ddone
	VPMOVSXDQ X4, Y12              // k, int64
	VCVTDQ2PD X4, Y4               // float64(k)
	VMULPD detc<>+96(SB), Y4, Y5
	VSUBPD Y5, Y0, Y5              // hi = x - k*ln2Hi
	VMULPD detc<>+128(SB), Y4, Y6  // lo = k*ln2Lo
	VSUBPD Y6, Y5, Y7              // r = hi - lo
	VMULPD Y7, Y7, Y8              // t = r*r
	VMULPD detc<>+160(SB), Y8, Y9
	VADDPD detc<>+192(SB), Y9, Y9  // p = P4 + t*P5
	VMULPD Y8, Y9, Y9
	VADDPD detc<>+224(SB), Y9, Y9  // p = P3 + t*p
	VMULPD Y8, Y9, Y9
	VADDPD detc<>+256(SB), Y9, Y9  // p = P2 + t*p
	VMULPD Y8, Y9, Y9
	VADDPD detc<>+288(SB), Y9, Y9  // p = P1 + t*p
	VMULPD Y8, Y9, Y9
	VSUBPD Y9, Y7, Y9              // c = r - t*p
	VMULPD Y9, Y7, Y10             // r*c
	VMOVUPD detc<>+352(SB), Y11
	VSUBPD Y9, Y11, Y11            // 2 - c
	VDIVPD Y11, Y10, Y10           // r*c / (2-c)
	VSUBPD Y10, Y6, Y10            // lo - that
	VSUBPD Y5, Y10, Y10            // ... - hi
	VMOVUPD detc<>+320(SB), Y11
	VSUBPD Y10, Y11, Y10           // y = 1 - (...)
	VPADDQ detc<>+384(SB), Y12, Y12
	VPSLLQ $52, Y12, Y12           // 2^k
	VMULPD Y12, Y10, Y10
	VMOVUPD Y10, (DI)
	ADDQ $32, DI
	ADDQ $16, SI
	ADDQ $4, AX
	SUBQ $4, CX
	JMP dloop
ddone:
	MOVQ AX, done+32(FP)
	VZEROUPPER
	RET
