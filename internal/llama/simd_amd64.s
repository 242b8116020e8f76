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
// lane k's integer sum of products 4k..4k+3, converted to float32, then
// acc[k] = float32(float64(dd)*float64(sum) + float64(acc[k])).
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
	VBROADCASTSS (BX), X6
	VCVTPS2PD X6, Y6
	VCVTPS2PD X2, Y7
	VEXTRACTF128 $1, Y2, X8
	VCVTPS2PD X8, Y8
	VCVTPS2PD X0, Y9
	VEXTRACTF128 $1, Y0, X10
	VCVTPS2PD X10, Y10
	VMULPD Y6, Y7, Y7
	VMULPD Y6, Y8, Y8
	VADDPD Y9, Y7, Y7
	VADDPD Y10, Y8, Y8
	VCVTPD2PSY Y7, X7
	VCVTPD2PSY Y8, X8
	VINSERTF128 $1, X8, Y7, Y0
	ADDQ R8, SI
	ADDQ $32, DI
	ADDQ $4, BX
	DECQ CX
	JMP q8loop
q8done:
	VMOVUPS Y0, (DX)
	VZEROUPPER
	RET

// func matF32AVX2(w, x *float32, cols int, out *float32, rows int)
// out[r] = dotF32(row r of w, x) for r < rows, cols a multiple of 16: the
// 16 lanes of dot16AVX2, then reduce16's tree.
TEXT ·matF32AVX2(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), R9
	MOVQ cols+16(FP), R10
	MOVQ out+24(FP), DX
	MOVQ rows+32(FP), R11
mrow:
	CMPQ R11, $0
	JEQ mdone
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ R9, DI
	MOVQ R10, CX
mloop:
	CMPQ CX, $0
	JEQ mred
	VMOVUPS (SI), Y2
	VMOVUPS 32(SI), Y3
	VMULPS (DI), Y2, Y2
	VMULPS 32(DI), Y3, Y3
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP mloop
mred:
	// a[i] = v[i] + v[i+8]; b[i] = a[i] + a[i+4]; (b0+b2) + (b1+b3)
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VMOVHLPS X0, X0, X1
	VADDPS X1, X0, X0
	VMOVSHDUP X0, X1
	VADDSS X1, X0, X0
	VMOVSS X0, (DX)
	ADDQ $4, DX
	DECQ R11
	JMP mrow
mdone:
	VZEROUPPER
	RET

// func matQ8AVX2(w *byte, stride int, y *int8, yd *float32, nb int, out *float32, rows int)
// out[r] = lanesQ8_0(row r, activations) for r < rows; rows are stride
// bytes apart, each nb blocks of 34 bytes (binary16 scale, 32 int8).
TEXT ·matQ8AVX2(SB), NOSPLIT, $0-56
	MOVQ w+0(FP), R12
	MOVQ stride+8(FP), R13
	MOVQ y+16(FP), R9
	MOVQ yd+24(FP), R14
	MOVQ nb+32(FP), R10
	MOVQ out+40(FP), DX
	MOVQ rows+48(FP), R11
qrow:
	CMPQ R11, $0
	JEQ qdone
	VXORPS Y0, Y0, Y0
	MOVQ R12, SI
	MOVQ R9, DI
	MOVQ R14, BX
	MOVQ R10, CX
qloop:
	CMPQ CX, $0
	JEQ qred
	VPMOVSXBW 2(SI), Y2
	VPMOVSXBW 18(SI), Y3
	VPMOVSXBW (DI), Y4
	VPMOVSXBW 16(DI), Y5
	VPMADDWD Y4, Y2, Y2
	VPMADDWD Y5, Y3, Y3
	VPHADDD Y3, Y2, Y2
	VPERMQ $0xD8, Y2, Y2
	VCVTDQ2PS Y2, Y2
	// dd = half(w.d) * y.d, rounded to float32, then widened.
	MOVWLZX (SI), AX
	VMOVD AX, X6
	VCVTPH2PS X6, X6
	VMULSS (BX), X6, X6
	VCVTSS2SD X6, X6, X6
	VBROADCASTSD X6, Y6
	VCVTPS2PD X2, Y7
	VEXTRACTF128 $1, Y2, X8
	VCVTPS2PD X8, Y8
	VCVTPS2PD X0, Y9
	VEXTRACTF128 $1, Y0, X10
	VCVTPS2PD X10, Y10
	VMULPD Y6, Y7, Y7
	VMULPD Y6, Y8, Y8
	VADDPD Y9, Y7, Y7
	VADDPD Y10, Y8, Y8
	VCVTPD2PSY Y7, X7
	VCVTPD2PSY Y8, X8
	VINSERTF128 $1, X8, Y7, Y0
	ADDQ $34, SI
	ADDQ $32, DI
	ADDQ $4, BX
	DECQ CX
	JMP qloop
qred:
	// hsum8: ((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7))
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VMOVHLPS X0, X0, X1
	VADDPS X1, X0, X0
	VMOVSHDUP X0, X1
	VADDSS X1, X0, X0
	VMOVSS X0, (DX)
	ADDQ $4, DX
	ADDQ R13, R12
	DECQ R11
	JMP qrow
qdone:
	VZEROUPPER
	RET
