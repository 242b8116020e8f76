#include "textflag.h"
#include "reduce_amd64.h"

// Whole-matrix AVX2 kernels for the 32-weight block types and the Q8_0 and
// Q8_1 activation quantizer. Each gives, bit for bit, what the portable Go
// kernel of its type gives (see quant_dot.go and ggmlmath.go): integer
// block sums are exact whatever the order, and every float step is the
// portable one's, in the same order. A whole matrix per call, so that a
// row of two blocks (a dim-64 model) does not pay a call per row.

// Byte constants: 0x0f, 0x10, bit i%8 of byte i, the byte of a 32-bit
// word that holds bit i (0 or 1 in the low lane, 2 or 3 in the high).
DATA qkc<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA qkc<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA qkc<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA qkc<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA qkc<>+32(SB)/8, $0x1010101010101010
DATA qkc<>+40(SB)/8, $0x1010101010101010
DATA qkc<>+48(SB)/8, $0x1010101010101010
DATA qkc<>+56(SB)/8, $0x1010101010101010
DATA qkc<>+64(SB)/8, $0x8040201008040201
DATA qkc<>+72(SB)/8, $0x8040201008040201
DATA qkc<>+80(SB)/8, $0x8040201008040201
DATA qkc<>+88(SB)/8, $0x8040201008040201
DATA qkc<>+96(SB)/8, $0x0000000000000000
DATA qkc<>+104(SB)/8, $0x0101010101010101
DATA qkc<>+112(SB)/8, $0x0202020202020202
DATA qkc<>+120(SB)/8, $0x0303030303030303
// int16 ones, for pmaddwd
DATA qkc<>+128(SB)/8, $0x0001000100010001
DATA qkc<>+136(SB)/8, $0x0001000100010001
DATA qkc<>+144(SB)/8, $0x0001000100010001
DATA qkc<>+152(SB)/8, $0x0001000100010001
// dword order that undoes packssdw/packsswb's lane interleave
DATA qkc<>+160(SB)/8, $0x0000000400000000
DATA qkc<>+168(SB)/8, $0x0000000500000001
DATA qkc<>+176(SB)/8, $0x0000000600000002
DATA qkc<>+184(SB)/8, $0x0000000700000003
// float32 abs mask, 127
DATA qkc<>+192(SB)/4, $0x7fffffff
DATA qkc<>+196(SB)/4, $0x42fe0000
GLOBL qkc<>(SB), RODATA|NOPTR, $200

#define CONSTS \
	VMOVDQU qkc<>+0(SB), Y14; \
	VMOVDQU qkc<>+32(SB), Y11; \
	VMOVDQU qkc<>+64(SB), Y12; \
	VMOVDQU qkc<>+96(SB), Y13; \
	VMOVDQU qkc<>+128(SB), Y15

// NIBBLES puts the 32 nibbles of the 16 bytes at off(SI) in Y2, value j
// the low nibble of byte j and value j+16 its high nibble.
#define NIBBLES(off) \
	VMOVDQU off(SI), X2; \
	VPSRLW $4, X2, X3; \
	VINSERTI128 $1, X3, Y2, Y2; \
	VPAND Y14, Y2, Y2

// FIFTH ors 0x10 into byte i of Y2 when bit i of the word at off(SI) is set.
#define FIFTH(off) \
	VPBROADCASTD off(SI), Y3; \
	VPSHUFB Y13, Y3, Y3; \
	VPAND Y12, Y3, Y3; \
	VPCMPEQB Y12, Y3, Y3; \
	VPAND Y11, Y3, Y3; \
	VPOR Y3, Y2, Y2

// SDOT leaves in Y2 the 8 lane sums (products 4k..4k+3) of the signed
// weights in Y2 and the activations in Y5; UDOT the same for unsigned
// weights below 32. No int16 step saturates: |w| <= 128, |y| <= 127.
#define SDOT \
	VPABSB Y2, Y3; \
	VPSIGNB Y2, Y5, Y4; \
	VPMADDUBSW Y4, Y3, Y2; \
	VPMADDWD Y15, Y2, Y2

#define UDOT \
	VPMADDUBSW Y5, Y2, Y2; \
	VPMADDWD Y15, Y2, Y2

// DD puts in X6 the float32 product of the binary16 at (SI) and the
// activation scale of block CX.
#define DD \
	MOVWLZX (SI), AX; \
	VMOVD AX, X6; \
	VCVTPH2PS X6, X6; \
	VMULSS (R14)(CX*4), X6, X6

// ACCUM: acc[k] = fma32(dd, lane k, acc[k]) for the lanes in Y2, the
// accumulators kept as float64 (always float32 values) in Y0 (lanes 0-3)
// and Y1 (4-7). The product is exact in float64, as fma32's is.
#define ACCUM \
	ACCUML; \
	VCVTPS2PD X0, Y0; \
	VCVTPS2PD X1, Y1

// ACCUM0 is ACCUM for the first block, the accumulators zero: the exact
// product plus +0, rounded once to float32, is fma32's (a product of two
// binary16 and an int32 lane is exact and never underflows, and adding +0
// turns a -0 into the +0 that fma32 gives).
#define ACCUM0 \
	VCVTDQ2PS Y2, Y2; \
	VBROADCASTSS X6, Y6; \
	VXORPS Y3, Y3, Y3; \
	VFMADD213PS Y3, Y6, Y2; \
	VCVTPS2PD X2, Y0; \
	VEXTRACTF128 $1, Y2, X2; \
	VCVTPS2PD X2, Y1

// ACCUML is ACCUM for the last block: it leaves the accumulators rounded
// to float32 in X0 (lanes 0-3) and X1 (4-7), for HSUM8F, not widened again.
#define ACCUML \
	VCVTSS2SD X6, X6, X6; \
	VBROADCASTSD X6, Y6; \
	VCVTDQ2PD X2, Y3; \
	VEXTRACTI128 $1, Y2, X4; \
	VCVTDQ2PD X4, Y4; \
	VMULPD Y6, Y3, Y3; \
	VMULPD Y6, Y4, Y4; \
	VADDPD Y3, Y0, Y0; \
	VADDPD Y4, Y1, Y1; \
	VCVTPD2PSY Y0, X0; \
	VCVTPD2PSY Y1, X1

// TOF rounds the float64 accumulators to float32 for HSUM8F, which leaves
// hsum8 of them in X0.
#define TOF \
	VCVTPD2PSY Y0, X0; \
	VCVTPD2PSY Y1, X1

#define HSUM8F \
	VADDPS X1, X0, X0; \
	HSUM4

// ACCUMW, ACCUM0W, ACCUMLW, TOFW and HSUM8FW are the same with AVX-512F:
// the 8 accumulators in one register of float64, Z0, the same steps.
#define ACCUMW \
	ACCUMLW; \
	VCVTPS2PD Y0, Z0

#define ACCUMLW \
	VCVTSS2SD X6, X6, X6; \
	VBROADCASTSD X6, Z6; \
	VCVTDQ2PD Y2, Z3; \
	VMULPD Z6, Z3, Z3; \
	VADDPD Z3, Z0, Z0; \
	VCVTPD2PS Z0, Y0

#define ACCUM0W \
	VCVTDQ2PS Y2, Y2; \
	VBROADCASTSS X6, Y6; \
	VXORPS Y3, Y3, Y3; \
	VFMADD213PS Y3, Y6, Y2; \
	VCVTPS2PD Y2, Z0

#define TOFW VCVTPD2PS Z0, Y0

#define HSUM8FW \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS X1, X0, X0; \
	HSUM4

// MINTERM: X7 += m * s[CX] (float32, each rounded) when the binary16 m at
// 2(SI) is not zero, as dotLanes skips a zero minimum.
#define MINTERM(skip) \
	MOVWLZX 2(SI), AX; \
	TESTL $0x7fff, AX; \
	JEQ skip; \
	VMOVD AX, X8; \
	VCVTPH2PS X8, X8; \
	VMULSS (R8)(CX*4), X8, X8; \
	VADDSS X8, X7, X7; \
skip:

#define LANEARGS \
	MOVQ w+0(FP), R12; \
	MOVQ stride+8(FP), R13; \
	MOVQ y+16(FP), R9; \
	MOVQ yd+24(FP), R14; \
	MOVQ ys+32(FP), R8; \
	MOVQ nb+40(FP), R10; \
	MOVQ out+48(FP), DX; \
	MOVQ rows+56(FP), R11; \
	CONSTS

#define ROWSTART \
	VXORPD Y0, Y0, Y0; \
	VXORPD Y1, Y1, Y1; \
	VXORPS X7, X7, X7; \
	MOVQ R12, SI; \
	MOVQ R9, DI; \
	XORQ CX, CX

#define ROWNEXT \
	VMOVSS X0, (DX); \
	ADDQ $4, DX; \
	ADDQ R13, R12; \
	DECQ R11

// LANEKERNEL is the body of a lane kernel: for each row, BLOCK leaves the
// lanes of block CX in Y2 and its dd in X6; the first block goes through
// ACC0, the middle ones ACC, the last ACCL, each then MINn (the minimum's
// term, or NOMIN) and SIZE bytes on; then HSUM and TAIL. With one block
// the float64 accumulators are first rounded by TOF. The labels are the
// kernel's own.
#define LANEKERNEL(BLOCK, SIZE, ACC0, ACC, ACCL, TOF_, HSUM, TAIL, MIN0, MIN1, MIN2, row, blk, last, end, endf, done) \
	LANEARGS; \
	LEAQ -1(R10), BX; \
row: \
	CMPQ R11, $0; \
	JEQ done; \
	ROWSTART; \
	CMPQ R10, $0; \
	JEQ end; \
	BLOCK; \
	ACC0; \
	MIN0; \
	ADDQ $SIZE, SI; \
	ADDQ $32, DI; \
	INCQ CX; \
blk: \
	CMPQ CX, R10; \
	JEQ end; \
	BLOCK; \
	CMPQ CX, BX; \
	JEQ last; \
	ACC; \
	MIN1; \
	ADDQ $SIZE, SI; \
	ADDQ $32, DI; \
	INCQ CX; \
	JMP blk; \
last: \
	ACCL; \
	MIN2; \
	JMP endf; \
end: \
	TOF_; \
endf: \
	HSUM; \
	TAIL; \
	ROWNEXT; \
	JMP row; \
done: \
	VZEROUPPER; \
	RET

#define NOMIN
#define ADDMIN VADDSS X7, X0, X0

// The blocks of the lane kernels' types: Q8_0, Q4_1, Q5_0 (values minus
// 16) and Q5_1.
#define BLKQ8_0 \
	VMOVDQU 2(SI), Y2; \
	VMOVDQU (DI), Y5; \
	SDOT; \
	DD

#define BLKQ4_1 \
	NIBBLES(4); \
	VMOVDQU (DI), Y5; \
	UDOT; \
	DD

#define BLKQ5_0 \
	NIBBLES(6); \
	FIFTH(2); \
	VPSUBB Y11, Y2, Y2; \
	VMOVDQU (DI), Y5; \
	SDOT; \
	DD

#define BLKQ5_1 \
	NIBBLES(8); \
	FIFTH(4); \
	VMOVDQU (DI), Y5; \
	UDOT; \
	DD

// HSUMD leaves in element 0 of X (Y's low half) the sum of its 8 int32 lanes, using T.
#define HSUMD(Y, X, T) \
	VEXTRACTI128 $1, Y, T; \
	VPADDD T, X, X; \
	VPSHUFD $0x4E, X, T; \
	VPADDD T, X, X; \
	VPSHUFD $0xB1, X, T; \
	VPADDD T, X, X

// TABLESUM leaves in X2 (element 0) the exact integer dot product of a
// block of 18 bytes at SI (binary16 scale, 16 bytes of nibbles mapped
// through the table in Y10) with the 32 activations at DI.
#define TABLESUM \
	TABLEDOT(2, 0); \
	HSUMD(Y2, X2, X3)

// TABLEDOT leaves in Y2 the 8 lane sums of the block at woff(SI) and the
// activations at yoff(DI); TABLESUM2 the exact integer sums of the block at
// SI and the next one in elements 0 and 1 of X2, one reduction for both.
#define TABLEDOT(woff, yoff) \
	NIBBLES(woff); \
	VPSHUFB Y2, Y10, Y2; \
	VMOVDQU yoff(DI), Y5; \
	SDOT

#define TABLESUM2 \
	TABLEDOT(2, 0); \
	VMOVDQA Y2, Y8; \
	TABLEDOT(20, 32); \
	VPHADDD Y2, Y8, Y2; \
	VEXTRACTI128 $1, Y2, X3; \
	VPADDD X3, X2, X2; \
	VPHADDD X2, X2, X2

// DDAT is DD for the block at woff(SI) and the activation scale yoff
// bytes past block CX's.
#define DDAT(woff, yoff) \
	MOVWLZX woff(SI), AX; \
	VMOVD AX, X6; \
	VCVTPH2PS X6, X6; \
	VMULSS yoff(R14)(CX*4), X6, X6

#define NIBARGS \
	MOVQ w+0(FP), R12; \
	MOVQ stride+8(FP), R13; \
	MOVQ table+16(FP), AX; \
	MOVQ y+24(FP), R9; \
	MOVQ yd+32(FP), R14; \
	MOVQ nb+40(FP), R10; \
	MOVQ out+48(FP), DX; \
	MOVQ rows+56(FP), R11; \
	CONSTS; \
	VBROADCASTI128 (AX), Y10

// K-quant constants: 0x30 bytes, the dword orders [0,2,4,6,1,3,5,7] and
// [0,1,4,5,2,3,6,7], 0x3f and 0x03 bytes, the shift pair [0,4], the word
// index pair [0,1] and byte twos.
DATA qkk<>+0(SB)/8, $0x3030303030303030
DATA qkk<>+8(SB)/8, $0x3030303030303030
DATA qkk<>+16(SB)/8, $0x3030303030303030
DATA qkk<>+24(SB)/8, $0x3030303030303030
DATA qkk<>+32(SB)/8, $0x0000000200000000
DATA qkk<>+40(SB)/8, $0x0000000600000004
DATA qkk<>+48(SB)/8, $0x0000000300000001
DATA qkk<>+56(SB)/8, $0x0000000700000005
DATA qkk<>+64(SB)/8, $0x0000000100000000
DATA qkk<>+72(SB)/8, $0x0000000500000004
DATA qkk<>+80(SB)/8, $0x0000000300000002
DATA qkk<>+88(SB)/8, $0x0000000700000006
DATA qkk<>+96(SB)/8, $0x3f3f3f3f3f3f3f3f
DATA qkk<>+104(SB)/8, $0x3f3f3f3f3f3f3f3f
DATA qkk<>+112(SB)/8, $0x0303030303030303
DATA qkk<>+120(SB)/8, $0x0303030303030303
DATA qkk<>+128(SB)/8, $0x0000000400000000
DATA qkk<>+136(SB)/8, $0x0000000000000000
DATA qkk<>+144(SB)/8, $0x0100010001000100
DATA qkk<>+152(SB)/8, $0x0100010001000100
DATA qkk<>+160(SB)/8, $0x0100010001000100
DATA qkk<>+168(SB)/8, $0x0100010001000100
DATA qkk<>+176(SB)/8, $0x0202020202020202
DATA qkk<>+184(SB)/8, $0x0202020202020202
DATA qkk<>+192(SB)/8, $0x0202020202020202
DATA qkk<>+200(SB)/8, $0x0202020202020202
GLOBL qkk<>(SB), RODATA|NOPTR, $208

#define KARGS \
	MOVQ w+0(FP), R12; \
	MOVQ stride+8(FP), R13; \
	MOVQ y+16(FP), R9; \
	MOVQ yd+24(FP), R14; \
	MOVQ bsums+32(FP), R8; \
	MOVQ nb+40(FP), R10; \
	MOVQ out+48(FP), DX; \
	MOVQ rows+56(FP), R11; \
	VMOVDQU qkc<>+0(SB), Y14; \
	VMOVDQU qkc<>+128(SB), Y15; \
	VMOVDQU qkk<>+0(SB), Y13

// KROWSTART and KROWNEXT: the row's float32 sum is in X, which the
// K-quant kernels keep clear of their temporaries.
#define KROWSTART(X) \
	VXORPS X, X, X; \
	MOVQ R12, SI; \
	MOVQ R9, DI; \
	MOVQ R8, BX; \
	XORQ CX, CX

#define KROWNEXT(X) \
	VMOVSS X, (DX); \
	ADDQ $4, DX; \
	ADDQ R13, R12; \
	DECQ R11

// Q6HALF adds to Y8 the scaled 16-value group sums of the unsigned 6-bit
// values of half n of a Q6_K block (low nibbles at ql(SI), high bits at
// qh(SI), scales at sc(SI), activations at y(DI)) and to Y9 the scales
// times the activation group sums at bs(BX), which give the offset of 32.
#define Q6HALF(ql, qh, sc, y, bs) \
	VMOVDQU ql(SI), Y0; \
	VMOVDQU ql+32(SI), Y1; \
	VMOVDQU qh(SI), Y2; \
	VPAND Y14, Y0, Y3; \
	VPSLLW $4, Y2, Y4; \
	VPAND Y13, Y4, Y4; \
	VPOR Y4, Y3, Y3; \
	VPMADDUBSW y(DI), Y3, Y3; \
	VPMADDWD Y15, Y3, Y4; \
	VPAND Y14, Y1, Y3; \
	VPSLLW $2, Y2, Y5; \
	VPAND Y13, Y5, Y5; \
	VPOR Y5, Y3, Y3; \
	VPMADDUBSW y+32(DI), Y3, Y3; \
	VPMADDWD Y15, Y3, Y5; \
	VPSRLW $4, Y0, Y3; \
	VPAND Y14, Y3, Y3; \
	VPAND Y13, Y2, Y6; \
	VPOR Y6, Y3, Y3; \
	VPMADDUBSW y+64(DI), Y3, Y3; \
	VPMADDWD Y15, Y3, Y6; \
	VPSRLW $4, Y1, Y3; \
	VPAND Y14, Y3, Y3; \
	VPSRLW $2, Y2, Y7; \
	VPAND Y13, Y7, Y7; \
	VPOR Y7, Y3, Y3; \
	VPMADDUBSW y+96(DI), Y3, Y3; \
	VPMADDWD Y15, Y3, Y7; \
	VPHADDD Y5, Y4, Y4; \
	VPHADDD Y7, Y6, Y6; \
	VPHADDD Y6, Y4, Y4; \
	VPMOVSXBD sc(SI), Y3; \
	VPMULLD bs(BX), Y3, Y5; \
	VPADDD Y5, Y9, Y9; \
	VPERMD Y3, Y12, Y3; \
	VPMULLD Y3, Y4, Y4; \
	VPADDD Y4, Y8, Y8

// Q4CHUNK adds to Y8 the nibble sums of 64 values (the 32 bytes at q(SI),
// low nibbles then high ones, activations at y(DI)), each 32 times its
// scale: the word of Y10 that the byte pairs of Y11 pick, which then step
// to the next scale.
#define Q4CHUNK(q, y) \
	VMOVDQU q(SI), Y0; \
	VPAND Y14, Y0, Y1; \
	VPSRLW $4, Y0, Y2; \
	VPAND Y14, Y2, Y2; \
	VPMADDUBSW y(DI), Y1, Y1; \
	VPMADDUBSW y+32(DI), Y2, Y2; \
	VPSHUFB Y11, Y10, Y3; \
	VPADDB Y7, Y11, Y11; \
	VPMADDWD Y3, Y1, Y1; \
	VPADDD Y1, Y8, Y8; \
	VPSHUFB Y11, Y10, Y3; \
	VPADDB Y7, Y11, Y11; \
	VPMADDWD Y3, Y2, Y2; \
	VPADDD Y2, Y8, Y8

// func matQ8_0AVX2(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
// out[r] = lanesQ8_0(row r) for r < rows; rows stride bytes apart, nb
// blocks each. ys is unused (Q8_0 has no minimum).
TEXT ·matQ8_0AVX2(SB), NOSPLIT, $0-64
	LANEKERNEL(BLKQ8_0, 34, ACCUM0, ACCUM, ACCUML, TOF, HSUM8F, NOMIN, NOMIN, NOMIN, NOMIN, q80row, q80blk, q80last, q80end, q80endf, q80done)

// func matQ4_1AVX2(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
// out[r] = dotLanes(row r) for Q4_1 (blocks of 20 bytes).
TEXT ·matQ4_1AVX2(SB), NOSPLIT, $0-64
	LANEKERNEL(BLKQ4_1, 20, ACCUM0, ACCUM, ACCUML, TOF, HSUM8F, ADDMIN, MINTERM(q41m0), MINTERM(q41m1), MINTERM(q41m2), q41row, q41blk, q41last, q41end, q41endf, q41done)

// func matQ5_0AVX2(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
// out[r] = dotLanes(row r) for Q5_0 (blocks of 22 bytes, values minus 16).
TEXT ·matQ5_0AVX2(SB), NOSPLIT, $0-64
	LANEKERNEL(BLKQ5_0, 22, ACCUM0, ACCUM, ACCUML, TOF, HSUM8F, NOMIN, NOMIN, NOMIN, NOMIN, q50row, q50blk, q50last, q50end, q50endf, q50done)

// func matQ5_1AVX2(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
// out[r] = dotLanes(row r) for Q5_1 (blocks of 24 bytes).
TEXT ·matQ5_1AVX2(SB), NOSPLIT, $0-64
	LANEKERNEL(BLKQ5_1, 24, ACCUM0, ACCUM, ACCUML, TOF, HSUM8F, ADDMIN, MINTERM(q51m0), MINTERM(q51m1), MINTERM(q51m2), q51row, q51blk, q51last, q51end, q51endf, q51done)

// func matQ4_0AVX2(w *byte, stride int, table *[16]int8, y *int8, yd *float32, nb int, out *float32, rows int)
// out[r] = seqQ4_0(row r): sum = fma32(float32(s), half(d)*yd, sum) block
// after block, the sum kept as float64 rounded to float32 at each step.
TEXT ·matQ4_0AVX2(SB), NOSPLIT, $0-64
	NIBARGS
q40row:
	CMPQ R11, $0
	JEQ q40done
	VXORPD X0, X0, X0
	MOVQ R12, SI
	MOVQ R9, DI
	XORQ CX, CX
q40pair:
	LEAQ 2(CX), AX
	CMPQ AX, R10
	JGT q40blk
	TABLESUM2
	VCVTDQ2PD X2, X3
	DDAT(0, 0)
	VCVTSS2SD X6, X6, X6
	VMULSD X6, X3, X4
	VADDSD X4, X0, X0
	VCVTSD2SS X0, X0, X0
	VCVTSS2SD X0, X0, X0
	VUNPCKHPD X3, X3, X3
	DDAT(18, 4)
	VCVTSS2SD X6, X6, X6
	VMULSD X6, X3, X3
	VADDSD X3, X0, X0
	VCVTSD2SS X0, X0, X0
	VCVTSS2SD X0, X0, X0
	ADDQ $36, SI
	ADDQ $64, DI
	ADDQ $2, CX
	JMP q40pair
q40blk:
	CMPQ CX, R10
	JEQ q40end
	TABLESUM
	VCVTDQ2PD X2, X3
	DD
	VCVTSS2SD X6, X6, X6
	VMULSD X6, X3, X3
	VADDSD X3, X0, X0
	VCVTSD2SS X0, X0, X0
	VCVTSS2SD X0, X0, X0
	ADDQ $18, SI
	ADDQ $32, DI
	INCQ CX
	JMP q40blk
q40end:
	VCVTSD2SS X0, X0, X0
	ROWNEXT
	JMP q40row
q40done:
	VZEROUPPER
	RET

// func matIQ4NLAVX2(w *byte, stride int, table *[16]int8, y *int8, yd *float32, nb int, out *float32, rows int)
// out[r] = dotIQ4NL(row r): sum += float32(float32(half(d)*yd) * float32(s)).
TEXT ·matIQ4NLAVX2(SB), NOSPLIT, $0-64
	NIBARGS
iq4row:
	CMPQ R11, $0
	JEQ iq4done
	VXORPS X0, X0, X0
	MOVQ R12, SI
	MOVQ R9, DI
	XORQ CX, CX
iq4pair:
	LEAQ 2(CX), AX
	CMPQ AX, R10
	JGT iq4blk
	TABLESUM2
	VCVTDQ2PS X2, X3
	DDAT(0, 0)
	VMULSS X3, X6, X6
	VADDSS X6, X0, X0
	VMOVSHDUP X3, X3
	DDAT(18, 4)
	VMULSS X3, X6, X6
	VADDSS X6, X0, X0
	ADDQ $36, SI
	ADDQ $64, DI
	ADDQ $2, CX
	JMP iq4pair
iq4blk:
	CMPQ CX, R10
	JEQ iq4end
	TABLESUM
	VCVTDQ2PS X2, X3
	DD
	VMULSS X3, X6, X6
	VADDSS X6, X0, X0
	ADDQ $18, SI
	ADDQ $32, DI
	INCQ CX
	JMP iq4blk
iq4end:
	ROWNEXT
	JMP iq4row
iq4done:
	VZEROUPPER
	RET

// func quantQ8AVX2(x *float32, nb int, qs *int8, d, s *float32) bool
// For each of nb blocks of 32 finite values, quantizeQ8Act: qs =
// x*(127/amax) rounded to nearest even (0 when amax is 0), d = amax/127
// and s = d times the sum of qs, each then rounded to nearest even through
// binary16 (VCVTPS2PH with an immediate rounding, which MXCSR cannot
// change). It returns false, having stopped, at a block with a NaN or an
// infinity, which the portable quantizer then handles.
TEXT ·quantQ8AVX2(SB), NOSPLIT, $0-41
	MOVQ x+0(FP), SI
	MOVQ nb+8(FP), CX
	MOVQ qs+16(FP), DI
	MOVQ d+24(FP), BX
	MOVQ s+32(FP), DX
	VBROADCASTSS qkc<>+192(SB), Y15
	VMOVSS qkc<>+196(SB), X14
	VMOVDQU qkc<>+160(SB), Y13
qqblk:
	CMPQ CX, $0
	JEQ qqok
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	// amax as the largest bit pattern of the magnitudes: for values
	// that are not negative, integer order is float order, and NaN and
	// infinity lie above every finite value.
	VANDPS Y15, Y0, Y4
	VANDPS Y15, Y1, Y5
	VANDPS Y15, Y2, Y6
	VANDPS Y15, Y3, Y7
	VPMAXSD Y5, Y4, Y4
	VPMAXSD Y7, Y6, Y6
	VPMAXSD Y6, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPMAXSD X5, X4, X4
	VPSHUFD $0x4E, X4, X5
	VPMAXSD X5, X4, X4
	VPSHUFD $0xB1, X4, X5
	VPMAXSD X5, X4, X4
	VMOVD X4, AX
	CMPL AX, $0x7f800000
	JAE qqbad
	VDIVSS X14, X4, X8
	VCVTPS2PH $0, X8, X10
	VCVTPH2PS X10, X10
	VMOVSS X10, (BX)
	TESTL AX, AX
	JNE qqscale
	VPXOR Y0, Y0, Y0
	VMOVDQU Y0, (DI)
	MOVL $0, (DX)
	JMP qqnext
qqscale:
	VDIVSS X4, X14, X9
	VBROADCASTSS X9, Y9
	VMULPS Y9, Y0, Y0
	VMULPS Y9, Y1, Y1
	VMULPS Y9, Y2, Y2
	VMULPS Y9, Y3, Y3
	VCVTPS2DQ Y0, Y0
	VCVTPS2DQ Y1, Y1
	VCVTPS2DQ Y2, Y2
	VCVTPS2DQ Y3, Y3
	VPADDD Y1, Y0, Y4
	VPADDD Y3, Y2, Y5
	VPADDD Y5, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPADDD X5, X4, X4
	VPSHUFD $0x4E, X4, X5
	VPADDD X5, X4, X4
	VPSHUFD $0xB1, X4, X5
	VPADDD X5, X4, X4
	VCVTDQ2PS X4, X4
	VMULSS X8, X4, X4
	VCVTPS2PH $0, X4, X4
	VCVTPH2PS X4, X4
	VMOVSS X4, (DX)
	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD Y0, Y13, Y0
	VMOVDQU Y0, (DI)
qqnext:
	ADDQ $128, SI
	ADDQ $32, DI
	ADDQ $4, BX
	ADDQ $4, DX
	DECQ CX
	JMP qqblk
qqok:
	MOVB $1, ret+40(FP)
	VZEROUPPER
	RET
qqbad:
	MOVB $0, ret+40(FP)
	VZEROUPPER
	RET

// func matQ6_KAVX2(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int)
// out[r] = dotQ6_K(row r): per block the exact integer sum, then
// sum += float32(float32(half(d)*yd) * float32(isum)).
TEXT ·matQ6_KAVX2(SB), NOSPLIT, $0-64
	KARGS
	VMOVDQU qkk<>+32(SB), Y12
q6row:
	CMPQ R11, $0
	JEQ q6done
	KROWSTART(X10)
q6blk:
	CMPQ CX, R10
	JEQ q6end
	VPXOR Y8, Y8, Y8
	VPXOR Y9, Y9, Y9
	Q6HALF(0, 128, 192, 0, 0)
	Q6HALF(64, 160, 200, 128, 32)
	VPSLLD $5, Y9, Y9
	VPSUBD Y9, Y8, Y8
	HSUMD(Y8, X8, X3)
	VCVTDQ2PS X8, X8
	MOVWLZX 208(SI), AX
	VMOVD AX, X6
	VCVTPH2PS X6, X6
	VMULSS (R14)(CX*4), X6, X6
	VMULSS X8, X6, X6
	VADDSS X6, X10, X10
	ADDQ $210, SI
	ADDQ $256, DI
	ADDQ $64, BX
	INCQ CX
	JMP q6blk
q6end:
	KROWNEXT(X10)
	JMP q6row
q6done:
	VZEROUPPER
	RET

// func matQ4_KAVX2(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int)
// out[r] = dotQ4_K(row r): per block the exact scaled and minimum sums,
// then sum += float32(float32(half(d)*yd) * float32(isum)) and
// sum -= float32(float32(half(dmin)*yd) * float32(msum)).
TEXT ·matQ4_KAVX2(SB), NOSPLIT, $0-64
	KARGS
	VMOVDQU qkk<>+64(SB), Y12
	VMOVDQU qkk<>+176(SB), Y7
q4krow:
	CMPQ R11, $0
	JEQ q4kdone
	KROWSTART(X9)
q4kblk:
	CMPQ CX, R10
	JEQ q4kend
	// The 6-bit scales and minimums, as llama.cpp's utmp steps unpack
	// them: X1 = [scales 0-3, scales 4-7, mins 0-3, mins 4-7] in bytes.
	VMOVQ 4(SI), X0
	VPINSRD $2, 12(SI), X0, X0
	VPAND qkk<>+96(SB), X0, X1
	VPSHUFD $0xAA, X0, X2
	VPSRLVD qkk<>+128(SB), X2, X2
	VPAND X14, X2, X2
	VPSRLD $6, X0, X3
	VPAND qkk<>+112(SB), X3, X3
	VPSLLD $4, X3, X3
	VPOR X3, X2, X2
	VPUNPCKLDQ X2, X1, X1
	VPMOVZXBW X1, X10
	VINSERTI128 $1, X10, Y10, Y10
	VPSRLDQ $8, X1, X1
	VPMOVZXBD X1, Y5
	VMOVDQU qkk<>+144(SB), Y11
	VPXOR Y8, Y8, Y8
	Q4CHUNK(16, 0)
	Q4CHUNK(48, 64)
	Q4CHUNK(80, 128)
	Q4CHUNK(112, 192)
	HSUMD(Y8, X8, X3)
	VPERMD Y5, Y12, Y5
	VMOVDQU (BX), Y4
	VPHADDD 32(BX), Y4, Y4
	VPMULLD Y4, Y5, Y5
	HSUMD(Y5, X5, X3)
	VCVTDQ2PS X8, X8
	VCVTDQ2PS X5, X5
	MOVWLZX (SI), AX
	VMOVD AX, X6
	VCVTPH2PS X6, X6
	VMULSS (R14)(CX*4), X6, X6
	VMULSS X8, X6, X6
	VADDSS X6, X9, X9
	MOVWLZX 2(SI), AX
	VMOVD AX, X6
	VCVTPH2PS X6, X6
	VMULSS (R14)(CX*4), X6, X6
	VMULSS X5, X6, X6
	VSUBSS X6, X9, X9
	ADDQ $144, SI
	ADDQ $256, DI
	ADDQ $64, BX
	INCQ CX
	JMP q4kblk
q4kend:
	KROWNEXT(X9)
	JMP q4krow
q4kdone:
	VZEROUPPER
	RET

// func matQ8_0AVX512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
// The same as matQ8_0AVX2, with AVX-512F for the float64 lanes.
TEXT ·matQ8_0AVX512(SB), NOSPLIT, $0-64
	LANEKERNEL(BLKQ8_0, 34, ACCUM0W, ACCUMW, ACCUMLW, TOFW, HSUM8FW, NOMIN, NOMIN, NOMIN, NOMIN, w80row, w80blk, w80last, w80end, w80endf, w80done)

// func matQ4_1AVX512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
// The same as matQ4_1AVX2, with AVX-512F for the float64 lanes.
TEXT ·matQ4_1AVX512(SB), NOSPLIT, $0-64
	LANEKERNEL(BLKQ4_1, 20, ACCUM0W, ACCUMW, ACCUMLW, TOFW, HSUM8FW, ADDMIN, MINTERM(w41m0), MINTERM(w41m1), MINTERM(w41m2), w41row, w41blk, w41last, w41end, w41endf, w41done)

// func matQ5_0AVX512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
// The same as matQ5_0AVX2, with AVX-512F for the float64 lanes.
TEXT ·matQ5_0AVX512(SB), NOSPLIT, $0-64
	LANEKERNEL(BLKQ5_0, 22, ACCUM0W, ACCUMW, ACCUMLW, TOFW, HSUM8FW, NOMIN, NOMIN, NOMIN, NOMIN, w50row, w50blk, w50last, w50end, w50endf, w50done)

// func matQ5_1AVX512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
// The same as matQ5_1AVX2, with AVX-512F for the float64 lanes.
TEXT ·matQ5_1AVX512(SB), NOSPLIT, $0-64
	LANEKERNEL(BLKQ5_1, 24, ACCUM0W, ACCUMW, ACCUMLW, TOFW, HSUM8FW, ADDMIN, MINTERM(w51m0), MINTERM(w51m1), MINTERM(w51m2), w51row, w51blk, w51last, w51end, w51endf, w51done)
