#include "textflag.h"
#include "reduce_amd64.h"

// Lane masks for the last rem%16 of a row (or of attention's positions):
// sixteen -1s then sixteen 0s; the 16 int32 from offset 4*(16-rem) have
// their first rem set. attention_amd64.s reads it too.
#define M32(o, v) DATA ·tailmask+(o)(SB)/8, v; DATA ·tailmask+(o+8)(SB)/8, v; DATA ·tailmask+(o+16)(SB)/8, v; DATA ·tailmask+(o+24)(SB)/8, v
M32(0, $-1)
M32(32, $-1)
M32(64, $0)
M32(96, $0)
GLOBL ·tailmask(SB), RODATA|NOPTR, $128

// STEP16 adds the rounded products of 16 weights at (r) and the 16 inputs
// in X8 (0-7) and X9 (8-15) into the lanes lo (0-7) and hi (8-15).
#define STEP16(r, lo, hi) \
	VMULPS (r), Y8, Y10; \
	VMULPS 32(r), Y9, Y11; \
	VADDPS Y10, lo, lo; \
	VADDPS Y11, hi, hi

// func matF32AVX2(w, x *float32, cols int, out *float32, rows int)
// out[r] = dotF32(row r of w, x) for r < rows: 16 lanes, lane i%16 adding
// the rounded product of column i in order, then reduce16's tree. The
// last cols%16 columns go through masked loads, whose zero products leave
// a lane as it was (a lane is never -0: it starts at +0 and a sum is -0
// only when both terms are). Rows go two at a time, for two independent
// chains of additions; an odd last row is paired with itself.
TEXT ·matF32AVX2(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), R9
	MOVQ cols+16(FP), R10
	MOVQ out+24(FP), DX
	MOVQ rows+32(FP), R11
	MOVQ R10, R12
	SHLQ $2, R12              // bytes per row
	MOVQ R10, R13
	ANDQ $15, R13             // the tail's length
	MOVQ R10, R14
	SHRQ $4, R14              // full blocks of 16
	LEAQ ·tailmask(SB), AX
	MOVQ $16, BX
	SUBQ R13, BX
	VMOVDQU (AX)(BX*4), Y12   // mask, lanes 0-7
	VMOVDQU 32(AX)(BX*4), Y13 // mask, lanes 8-15
mpair:
	CMPQ R11, $0
	JEQ mdone
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ SI, DI               // row r
	LEAQ (SI)(R12*1), R8      // row r+1
	CMPQ R11, $1
	JNE pstart
	MOVQ SI, R8               // the last row, twice
pstart:
	MOVQ R9, BX               // x
	MOVQ R14, CX
pblk:
	CMPQ CX, $0
	JEQ ptail
	VMOVUPS (BX), Y8
	VMOVUPS 32(BX), Y9
	STEP16(DI, Y0, Y1)
	STEP16(R8, Y2, Y3)
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, BX
	DECQ CX
	JMP pblk
ptail:
	TESTQ R13, R13
	JEQ pred
	VMASKMOVPS (BX), Y12, Y8
	VMASKMOVPS 32(BX), Y13, Y9
	VMASKMOVPS (DI), Y12, Y4
	VMASKMOVPS 32(DI), Y13, Y5
	VMASKMOVPS (R8), Y12, Y6
	VMASKMOVPS 32(R8), Y13, Y7
	VMULPS Y4, Y8, Y4
	VMULPS Y5, Y9, Y5
	VMULPS Y6, Y8, Y6
	VMULPS Y7, Y9, Y7
	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
pred:
	REDUCE16(Y1, Y0)
	VMOVSS X0, (DX)
	CMPQ R11, $1
	JEQ mdone
	REDUCE16(Y3, Y2)
	VMOVSS X0, 4(DX)
	ADDQ $8, DX
	LEAQ (SI)(R12*2), SI
	SUBQ $2, R11
	JMP mpair
mdone:
	VZEROUPPER
	RET
