#include "textflag.h"

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv0() (eax uint32)
TEXT ·xgetbv0(SB), NOSPLIT, $0-4
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	RET

// func dot16AVX2(w, x *float32, n int, lanes *[16]float32)
// lanes[k] += w[i]*x[i] (product rounded, then sum rounded) for i%16 == k,
// i < n, n a multiple of 16: two 8-wide accumulators, lanes 0-7 and 8-15.
TEXT ·dot16AVX2(SB), NOSPLIT, $0-32
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ lanes+24(FP), DX
	VMOVUPS (DX), Y0
	VMOVUPS 32(DX), Y1
dotloop:
	CMPQ CX, $16
	JLT dotdone
	VMOVUPS (SI), Y2
	VMOVUPS 32(SI), Y3
	VMULPS (DI), Y2, Y2
	VMULPS 32(DI), Y3, Y3
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP dotloop
dotdone:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VZEROUPPER
	RET

// func lanesQ8AVX2(w *byte, stride int, y *int8, dd *float32, nb int, acc *[8]float32)
// For each of nb blocks (w: 32 int8 weights stride bytes apart after a
// 2-byte scale; y: 32 int8 activations; dd: the block's scale product):
// lane k's integer sum of products 4k..4k+3, converted to float32 (exact),
// then acc[k] = fmaf(dd, sum, acc[k]), rounded once.
TEXT ·lanesQ8AVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), SI
	MOVQ stride+8(FP), R8
	MOVQ y+16(FP), DI
	MOVQ dd+24(FP), BX
	MOVQ nb+32(FP), CX
	MOVQ acc+40(FP), DX
	VMOVUPS (DX), Y0
q8loop:
	CMPQ CX, $0
	JEQ q8done
	VPMOVSXBW 2(SI), Y2
	VPMOVSXBW 18(SI), Y3
	VPMOVSXBW (DI), Y4
	VPMOVSXBW 16(DI), Y5
	VPMADDWD Y4, Y2, Y2
	VPMADDWD Y5, Y3, Y3
	VPHADDD Y3, Y2, Y2
	VPERMQ $0xD8, Y2, Y2
	VCVTDQ2PS Y2, Y2
	VBROADCASTSS (BX), Y6
	VFMADD231PS Y6, Y2, Y0
	ADDQ R8, SI
	ADDQ $32, DI
	ADDQ $4, BX
	DECQ CX
	JMP q8loop
q8done:
	VMOVUPS Y0, (DX)
	VZEROUPPER
	RET

// Constants of simdExpf as float64, four of each.
DATA expc<>+0(SB)/8, $0x3ff7154760000000
DATA expc<>+8(SB)/8, $0x3ff7154760000000
DATA expc<>+16(SB)/8, $0x3ff7154760000000
DATA expc<>+24(SB)/8, $0x3ff7154760000000
DATA expc<>+32(SB)/8, $0x4168000000000000
DATA expc<>+40(SB)/8, $0x4168000000000000
DATA expc<>+48(SB)/8, $0x4168000000000000
DATA expc<>+56(SB)/8, $0x4168000000000000
DATA expc<>+64(SB)/8, $0x3fe62e4000000000
DATA expc<>+72(SB)/8, $0x3fe62e4000000000
DATA expc<>+80(SB)/8, $0x3fe62e4000000000
DATA expc<>+88(SB)/8, $0x3fe62e4000000000
DATA expc<>+96(SB)/8, $0x3eb7f7d1c0000000
DATA expc<>+104(SB)/8, $0x3eb7f7d1c0000000
DATA expc<>+112(SB)/8, $0x3eb7f7d1c0000000
DATA expc<>+120(SB)/8, $0x3eb7f7d1c0000000
DATA expc<>+128(SB)/8, $0x3f80e40200000000
DATA expc<>+136(SB)/8, $0x3f80e40200000000
DATA expc<>+144(SB)/8, $0x3f80e40200000000
DATA expc<>+152(SB)/8, $0x3f80e40200000000
DATA expc<>+160(SB)/8, $0x3fa573e2e0000000
DATA expc<>+168(SB)/8, $0x3fa573e2e0000000
DATA expc<>+176(SB)/8, $0x3fa573e2e0000000
DATA expc<>+184(SB)/8, $0x3fa573e2e0000000
DATA expc<>+192(SB)/8, $0x3fc555e660000000
DATA expc<>+200(SB)/8, $0x3fc555e660000000
DATA expc<>+208(SB)/8, $0x3fc555e660000000
DATA expc<>+216(SB)/8, $0x3fc555e660000000
DATA expc<>+224(SB)/8, $0x3fdfffdb60000000
DATA expc<>+232(SB)/8, $0x3fdfffdb60000000
DATA expc<>+240(SB)/8, $0x3fdfffdb60000000
DATA expc<>+248(SB)/8, $0x3fdfffdb60000000
DATA expc<>+256(SB)/8, $0x3feffffec0000000
DATA expc<>+264(SB)/8, $0x3feffffec0000000
DATA expc<>+272(SB)/8, $0x3feffffec0000000
DATA expc<>+280(SB)/8, $0x3feffffec0000000
DATA expc<>+288(SB)/8, $0x3ff0000000000000
DATA expc<>+296(SB)/8, $0x3ff0000000000000
DATA expc<>+304(SB)/8, $0x3ff0000000000000
DATA expc<>+312(SB)/8, $0x3ff0000000000000
DATA expc<>+320(SB)/8, $1023
DATA expc<>+328(SB)/8, $1023
DATA expc<>+336(SB)/8, $1023
DATA expc<>+344(SB)/8, $1023
GLOBL expc<>(SB), RODATA|NOPTR, $352

// ROUND rounds four float64 lanes to float32 and back: the rounding each
// float32 step of simdExpf makes.
#define ROUND(Y, X) VCVTPD2PSY Y, X; VCVTPS2PD X, Y

// func expAVX2(x *float32, n int)
// x[i] = simdExpf(x[i]) for i < n, n a multiple of 4, every x[i] in
// [-80, 80] (so that no lane needs simdExpf's special cases).
TEXT ·expAVX2(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
eloop:
	CMPQ CX, $0
	JEQ edone
	VCVTPS2PD (SI), Y0
	VMULPD expc<>+0(SB), Y0, Y1
	VADDPD expc<>+32(SB), Y1, Y1
	ROUND(Y1, X1)
	VSUBPD expc<>+32(SB), Y1, Y2
	ROUND(Y2, X2)
	VMULPD expc<>+64(SB), Y2, Y3
	VSUBPD Y3, Y0, Y3
	ROUND(Y3, X3)
	VMULPD expc<>+96(SB), Y2, Y4
	VSUBPD Y4, Y3, Y4
	ROUND(Y4, X4)
	VMULPD Y4, Y4, Y5
	ROUND(Y5, X5)
	VMULPD expc<>+128(SB), Y4, Y6
	VADDPD expc<>+160(SB), Y6, Y6
	ROUND(Y6, X6)
	VMULPD expc<>+192(SB), Y4, Y7
	VADDPD expc<>+224(SB), Y7, Y7
	ROUND(Y7, X7)
	VMULPD Y5, Y6, Y6
	VADDPD Y7, Y6, Y6
	ROUND(Y6, X6)
	VMULPD expc<>+256(SB), Y4, Y7
	VADDPD expc<>+288(SB), Y7, Y7
	ROUND(Y7, X7)
	VMULPD Y5, Y6, Y6
	VADDPD Y7, Y6, Y6
	ROUND(Y6, X6)
	VCVTTPD2DQY Y2, X9
	VPMOVSXDQ X9, Y9
	VPADDQ expc<>+320(SB), Y9, Y9
	VPSLLQ $52, Y9, Y9
	VMULPD Y9, Y6, Y6
	VCVTPD2PSY Y6, X6
	VMOVUPS X6, (SI)
	ADDQ $16, SI
	SUBQ $4, CX
	JMP eloop
edone:
	VZEROUPPER
	RET
