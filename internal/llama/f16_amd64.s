#include "textflag.h"

// The F16 and BF16 whole-matrix kernels. out[r] = dotF16 (dotBF16) of row r:
// four float32 lanes per row, lane k taking column i with i%4 == k in
// order, the last n%4 columns into lane 0 in order, then (s0+s1)+(s2+s3).
// For F16 the activations are already rounded to binary16, so every
// product is exact in float32 and a fused multiply-add rounds only the sum,
// as the portable multiply-then-add does; BF16 multiplies, then adds.
// Rows go four at a time, for four independent chains of additions, then
// one at a time. Nothing is read past a row's n values or x's n.

// CVT4F16 converts the 4 binary16 at (p) to float32 exactly.
#define CVT4F16(p, x) VCVTPH2PS (p), x

// CVT4BF16 widens the 4 bfloat16 at (p) to float32: each is a float32's
// top 16 bits.
#define CVT4BF16(p, x) VPMOVZXWD (p), x; VPSLLD $16, x, x

// CVT1F16 and CVT1BF16 convert the one value at (p) into x's lane 0; tmp
// is a scratch register.
#define CVT1F16(p, x, tmp) MOVWLZX (p), tmp; VMOVD tmp, x; VCVTPH2PS x, x
#define CVT1BF16(p, x, tmp) MOVWLZX (p), tmp; SHLL $16, tmp; VMOVD tmp, x

// FMA4 and FMA1 add the products of X8 and w into acc's four lanes (lane
// 0): right for F16, whose products are exact in float32 and never
// overflow or underflow. MULADD4 and MULADD1 round the products first, as
// BF16 needs: its products can overflow to infinity or fall to a
// subnormal, where a fused multiply-add would give other bits.
#define FMA4(w, acc) VFMADD231PS X8, w, acc
#define FMA1(w, acc) VFMADD231SS X8, w, acc
#define MULADD4(w, acc) VMULPS X8, w, w; VADDPS w, acc, acc
#define MULADD1(w, acc) VMULSS X8, w, w; VADDSS w, acc, acc

// RED4 sets lane 0 of a to (a0+a1)+(a2+a3); t is scratch.
#define RED4(a, t) \
	VMOVSHDUP a, t; \
	VADDPS t, a, a; \
	VMOVHLPS a, a, t; \
	VADDSS t, a, a

// MAT16 is the body of a kernel whose conversions are cvt4 and cvt1 and
// whose accumulations are madd4 and madd1.
#define MAT16(cvt4, cvt1, madd4, madd1) \
	MOVQ w+0(FP), SI; \
	MOVQ stride+8(FP), R12; \
	MOVQ x+16(FP), R9; \
	MOVQ n+24(FP), R10; \
	MOVQ out+32(FP), DX; \
	MOVQ rows+40(FP), R11; \
	MOVQ R10, R13; \
	ANDQ $3, R13; \
	MOVQ R10, R14; \
	SHRQ $2, R14; \
quad: \
	CMPQ R11, $4; \
	JLT single; \
	MOVQ SI, DI; \
	LEAQ (SI)(R12*1), R8; \
	LEAQ (SI)(R12*2), AX; \
	LEAQ (R8)(R12*2), BX; \
	MOVQ R9, R15; \
	VXORPS X0, X0, X0; \
	VXORPS X1, X1, X1; \
	VXORPS X2, X2, X2; \
	VXORPS X3, X3, X3; \
	MOVQ R14, CX; \
q4: \
	TESTQ CX, CX; \
	JEQ qtail; \
	VMOVUPS (R15), X8; \
	cvt4(DI, X4); \
	cvt4(R8, X5); \
	cvt4(AX, X6); \
	cvt4(BX, X7); \
	madd4(X4, X0); \
	madd4(X5, X1); \
	madd4(X6, X2); \
	madd4(X7, X3); \
	ADDQ $8, DI; \
	ADDQ $8, R8; \
	ADDQ $8, AX; \
	ADDQ $8, BX; \
	ADDQ $16, R15; \
	DECQ CX; \
	JMP q4; \
qtail: \
	MOVQ R13, CX; \
q1: \
	TESTQ CX, CX; \
	JEQ qred; \
	VMOVSS (R15), X8; \
	cvt1(DI, X4, R10); \
	cvt1(R8, X5, R10); \
	cvt1(AX, X6, R10); \
	cvt1(BX, X7, R10); \
	madd1(X4, X0); \
	madd1(X5, X1); \
	madd1(X6, X2); \
	madd1(X7, X3); \
	ADDQ $2, DI; \
	ADDQ $2, R8; \
	ADDQ $2, AX; \
	ADDQ $2, BX; \
	ADDQ $4, R15; \
	DECQ CX; \
	JMP q1; \
qred: \
	RED4(X0, X4); \
	RED4(X1, X5); \
	RED4(X2, X6); \
	RED4(X3, X7); \
	VMOVSS X0, (DX); \
	VMOVSS X1, 4(DX); \
	VMOVSS X2, 8(DX); \
	VMOVSS X3, 12(DX); \
	ADDQ $16, DX; \
	LEAQ (SI)(R12*4), SI; \
	SUBQ $4, R11; \
	JMP quad; \
single: \
	TESTQ R11, R11; \
	JEQ done; \
	MOVQ SI, DI; \
	MOVQ R9, R15; \
	VXORPS X0, X0, X0; \
	MOVQ R14, CX; \
s4: \
	TESTQ CX, CX; \
	JEQ stail; \
	VMOVUPS (R15), X8; \
	cvt4(DI, X4); \
	madd4(X4, X0); \
	ADDQ $8, DI; \
	ADDQ $16, R15; \
	DECQ CX; \
	JMP s4; \
stail: \
	MOVQ R13, CX; \
s1: \
	TESTQ CX, CX; \
	JEQ sred; \
	VMOVSS (R15), X8; \
	cvt1(DI, X4, R10); \
	madd1(X4, X0); \
	ADDQ $2, DI; \
	ADDQ $4, R15; \
	DECQ CX; \
	JMP s1; \
sred: \
	RED4(X0, X4); \
	VMOVSS X0, (DX); \
	ADDQ $4, DX; \
	ADDQ R12, SI; \
	DECQ R11; \
	JMP single; \
done: \
	RET

// func matF16AVX2(w *byte, stride int, x *float32, n int, out *float32, rows int)
TEXT ·matF16AVX2(SB), NOSPLIT, $0-48
	MAT16(CVT4F16, CVT1F16, FMA4, FMA1)

// func matBF16AVX2(w *byte, stride int, x *float32, n int, out *float32, rows int)
TEXT ·matBF16AVX2(SB), NOSPLIT, $0-48
	MAT16(CVT4BF16, CVT1BF16, MULADD4, MULADD1)
