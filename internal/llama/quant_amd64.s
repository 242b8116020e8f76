#include "textflag.h"
#include "group_amd64.h"
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

// LANEARGS loads the arguments of a lane kernel and the constants.
#define LANEARGS \
	LANEPTRS; \
	CONSTS

// TABLEW puts in Y2 the 32 weights, as int8, of the block at SI (a
// binary16 scale, 16 bytes of nibbles mapped through the table in Y10);
// TABLEDOT leaves in Y2 their 8 lane sums with the activations at DI.
#define TABLEW \
	NIBBLES(2); \
	VPSHUFB Y2, Y10, Y2

#define TABLEDOT \
	TABLEW; \
	VMOVDQU (DI), Y5; \
	SDOT

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

// KARGS is KQARGS (reduce_amd64.h) and the constants of the K-quant
// kernels here.
#define KARGS \
	KQARGS; \
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
// times the activation group sums at bs, which give the offset of 32.
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
	Q6SCALE(sc, bs)

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


// The integer part of a block of each lane type: the 8 lane sums in Y2 of
// the block at SI and the activations at DI.
#define INTQ8_0 \
	VMOVDQU 2(SI), Y2; \
	VMOVDQU (DI), Y5; \
	SDOT

#define INTQ4_1 \
	NIBBLES(4); \
	VMOVDQU (DI), Y5; \
	UDOT

#define INTQ5_0 \
	NIBBLES(6); \
	FIFTH(2); \
	VMOVDQU (DI), Y5; \
	UDOT; \
	VPSUBD Y7, Y2, Y2

// Q5OFF puts in Y7, once per block for the group's 8 rows, 16 times the
// lane sums of the block's activations: INTQ5_0 takes the lanes of the
// unsigned values (0 to 31) and subtracts it, which gives the lanes of
// the values minus 16 exactly, in two fewer steps per row than SDOT.
#define Q5OFF \
	VMOVDQU (DI), Y5; \
	VPMADDUBSW Y5, Y11, Y7; \
	VPMADDWD Y15, Y7, Y7

#define INTQ5_1 \
	NIBBLES(8); \
	FIFTH(4); \
	VMOVDQU (DI), Y5; \
	UDOT

// The table kernels (Q4_0's, and IQ4_NL's unpaired last block) take 8
// rows at a time too: the 8 rows' exact block sums reduced together by a
// tree of VPHADDD into one vector, row r in element r, and the float steps
// of the 8 rows done in the 8 lanes, block after block, which is each
// row's own order. The frame holds the offsets at 0 and a short last
// group's results at 448.

// SROW leaves in Y2 the 8 lane sums of row r's block.
#define SROW(r) \
	GROWPTR(r); \
	TABLEDOT

// SSUMS leaves in Y0 the 8 rows' exact sums of block CX.
#define SSUMS \
	SROW(0); \
	VMOVDQA Y2, Y6; \
	SROW(1); \
	VPHADDD Y2, Y6, Y0; \
	SROW(2); \
	VMOVDQA Y2, Y6; \
	SROW(3); \
	VPHADDD Y2, Y6, Y1; \
	VPHADDD Y1, Y0, Y0; \
	SROW(4); \
	VMOVDQA Y2, Y6; \
	SROW(5); \
	VPHADDD Y2, Y6, Y1; \
	SROW(6); \
	VMOVDQA Y2, Y6; \
	SROW(7); \
	VPHADDD Y2, Y6, Y7; \
	VPHADDD Y7, Y1, Y1; \
	VPERM2I128 $0x20, Y1, Y0, Y6; \
	VPERM2I128 $0x31, Y1, Y0, Y7; \
	VPADDD Y7, Y6, Y0

// SSEQ: sum += float32(float32(half(d)*yd) * float32(s)) in each lane,
// the sums s in Y0, the dd in Y6 and the 8 rows' sums in Y11; SQ4_0: sum
// = fma32(float32(s), dd, sum), the sums float64 (rows 0-3 in Y11, 4-7 in
// Y12) rounded to float32 at each step. The table kernels leave Y11-Y13
// free of constants.
#define SSEQ \
	VCVTDQ2PS Y0, Y0; \
	VMULPS Y0, Y6, Y0; \
	VADDPS Y0, Y11, Y11

// SFINSEQ and SFINQ4_0 leave the 8 rows' results in Y0.
#define SFINSEQ VMOVAPS Y11, Y0

// SKERNEL is the body of a table kernel whose float step is STEP and end
// FIN. The labels are the kernel's own.
#define SKERNEL(STEP, FIN, grp, offs, blk, tail, tcopy, tloop, next, done) \
	NIBARGS; \
	GBEGIN(grp, offs, done, blk, tail); \
	SSUMS; \
	GDD; \
	STEP; \
	ADDQ $18, BX; \
	ADDQ $32, DI; \
	INCQ CX; \
	JMP blk; \
tail: \
	FIN; \
	GSTORE(grp, tcopy, tloop, next, done)

// Q6_K takes 8 rows at a time as the table kernels do: each row's lane
// sums of block CX (bsums at AX) stored in the frame at 192, reduced
// together by Q6TREE, the 8 scales (the binary16 at 208, the high word of
// the dword at 206) loaded together, the float steps in the 8 lanes of
// Y11.
#define Q6ROW(r) \
	GROWPTR(r); \
	VPXOR Y8, Y8, Y8; \
	VPXOR Y9, Y9, Y9; \
	Q6HALF(0, 128, 192, 0, 0(AX)); \
	Q6HALF(64, 160, 200, 128, 32(AX)); \
	VPSLLD $5, Y9, Y9; \
	VPSUBD Y9, Y8, Y8; \
	VMOVDQU Y8, (192+32*r)(SP)

// func matQ4_0AVX2(w *byte, stride int, table *[16]int8, y *int8, yd *float32, nb int, out *float32, rows int)
// out[r] = seqQ4_0(row r): sum = fma32(float32(s), half(d)*yd, sum) block
// after block.
TEXT ·matQ4_0AVX2(SB), NOSPLIT, $480-64
	SKERNEL(SQ4_0, SFINQ4_0, s40grp, s40offs, s40blk, s40tail, s40tcopy, s40tloop, s40next, s40done)

// IQ4_NL takes 8 rows at a time as the lane kernels do, with the fused
// step of lanesIQ4NL: GFMA fuses row r's 8 lane sums of block CX, the
// activations already in Y5, into its 8 float32 accumulators at base+32r
// in the frame by its dd at 96+4r, rounded once, as VFMADD231PS and fmaf
// do. INTIQ4NL is TABLEDOT without its load of the activations, which the
// 8 rows share.
#define INTIQ4NL \
	TABLEW; \
	SDOT

#define GFMAODD(INT, r) GFMAAT(INT, r, 480)

// GSTART is GFMA for a set's first block, onto the +0 of Y7 rather than
// loaded accumulators: the same rounding of the product, and a -0 product
// made +0 as the sum with a cleared accumulator makes it.
#define GSTARTAT(INT, r, base) \
	GLANESF(INT, r); \
	VFMADD213PS Y7, Y6, Y2; \
	VMOVUPS Y2, (base+32*r)(SP)

#define GSTART(INT, r) GSTARTAT(INT, r, 192)
#define GSTARTODD(INT, r) GSTARTAT(INT, r, 480)

// GFMABLK takes block CX of the 8 rows into the accumulators STEP names
// and steps to the next block.
#define GFMABLK(STEP) \
	GDD; \
	VMOVUPS Y6, 96(SP); \
	VMOVDQU (DI), Y5; \
	GROWS(STEP, INTIQ4NL); \
	ADDQ $18, BX; \
	ADDQ $32, DI; \
	INCQ CX

// GPAIRADD adds row r's odd accumulators into its even ones, lane by lane.
#define GPAIRADD(r) \
	VMOVUPS (192+32*r)(SP), Y0; \
	VADDPS (480+32*r)(SP), Y0, Y0; \
	VMOVUPS Y0, (192+32*r)(SP)

// func matIQ4NLAVX2(w *byte, stride int, table *[16]int8, y *int8, yd *float32, nb int, out *float32, rows int, pairs bool)
// out[r] = lanesIQ4NL(row r): without pairs (a prompt batch's row) every
// block fused into the accumulators at 192; with pairs (a lone token's)
// the odd block of each pair into those at 480, which are then added in,
// and after the 8 rows' hsum8 an unpaired last block's exact sums (SSUMS)
// fused into them. The frame is the lane kernels'
// and the odd accumulators.
TEXT ·matIQ4NLAVX2(SB), NOSPLIT, $736-65
	NIBARGS
n4grp:
	GOFFSETS(n4offs, n4done)
	VXORPS Y7, Y7, Y7
	MOVQ R12, BX
	MOVQ R9, DI
	XORQ CX, CX
	MOVQ R10, R8
	CMPB pairs+64(FP), $0
	JEQ n4first
	ANDQ $-2, R8
	JNE n4pair
	// A lone row of one block: its unpaired block onto totals of +0.
	VXORPS Y0, Y0, Y0
	JMP n4last
n4pair:
	GFMABLK(GSTART)
	GFMABLK(GSTARTODD)
	JMP n4blk
n4first:
	GFMABLK(GSTART)
n4blk:
	CMPQ CX, R8
	JEQ n4tail
	GFMABLK(GFMA)
	CMPB pairs+64(FP), $0
	JEQ n4blk
	GFMABLK(GFMAODD)
	JMP n4blk
n4tail:
	CMPB pairs+64(FP), $0
	JEQ n4sum
	GPAIRADD(0)
	GPAIRADD(1)
	GPAIRADD(2)
	GPAIRADD(3)
	GPAIRADD(4)
	GPAIRADD(5)
	GPAIRADD(6)
	GPAIRADD(7)
n4sum:
	GHSUM
	CMPQ CX, R10
	JEQ n4store
n4last:
	VMOVUPS Y0, 448(SP)
	GDD
	VMOVUPS Y6, 96(SP)
	SSUMS
	VCVTDQ2PS Y0, Y0
	VMOVUPS 96(SP), Y6
	VFMADD213PS 448(SP), Y6, Y0
n4store:
	GSTORE(n4grp, n4tcopy, n4tloop, n4next, n4done)

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
TEXT ·matQ6_KAVX2(SB), NOSPLIT, $480-64
	KARGS
	VMOVDQU qkk<>+32(SB), Y12
q6grp:
	GOFFSETS(q6offs, q6done)
	VXORPS Y11, Y11, Y11
	MOVQ R12, BX
	MOVQ R9, DI
	MOVQ R8, AX
	XORQ CX, CX
q6blk:
	CMPQ CX, R10
	JEQ q6tail
	Q6ROW(0)
	Q6ROW(1)
	Q6ROW(2)
	Q6ROW(3)
	Q6ROW(4)
	Q6ROW(5)
	Q6ROW(6)
	Q6ROW(7)
	Q6TREE
	GWORDS(206)
	GSCALES(HIWORDS)
	SSEQ
	ADDQ $210, BX
	ADDQ $256, DI
	ADDQ $64, AX
	INCQ CX
	JMP q6blk
q6tail:
	SFINSEQ
	GSTORE(q6grp, q6tcopy, q6tloop, q6next, q6done)

// func matQ4_KAVX2(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int)
// out[r] = dotQ4_K(row r): per block the 8 lanes of scaled sums (Y8)
// fused into Y9 by yd*half(d), and the 4 lanes of minimum sums, in the
// order 0, 2, 1, 3, fused into X15 by -yd*half(dmin), each rounded once;
// then hsum8 of the first plus the pairwise sum of the second.
TEXT ·matQ4_KAVX2(SB), NOSPLIT, $0-64
	KARGS
	VMOVDQU qkk<>+64(SB), Y12
	VMOVDQU qkk<>+176(SB), Y7
q4krow:
	CMPQ R11, $0
	JEQ q4kdone
	KROWSTART(X9)
	VXORPS Y9, Y9, Y9
	VXORPS X15, X15, X15
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
	// The minimums times the pair sums of bsums, in the order VPHADDD
	// leaves them, [0, 1, 4, 5 | 2, 3, 6, 7], added in pairs: X5 =
	// [sub-blocks 0+1, 4+5, 2+3, 6+7], llama.cpp's 4 lanes 0, 2, 1, 3.
	VPERMD Y5, Y12, Y5
	VMOVDQU (BX), Y4
	VPHADDD 32(BX), Y4, Y4
	VPMULLD Y4, Y5, Y5
	VEXTRACTI128 $1, Y5, X4
	VPHADDD X4, X5, X5
	VCVTDQ2PS X5, X5
	VMOVSS (R14)(CX*4), X3
	MOVWLZX 2(SI), AX
	VMOVD AX, X6
	VCVTPH2PS X6, X6
	VMULSS X3, X6, X6
	VPCMPEQD X4, X4, X4
	VPSLLD $31, X4, X4
	VXORPS X4, X6, X6
	VBROADCASTSS X6, X6
	VFMADD231PS X6, X5, X15
	VCVTDQ2PS Y8, Y8
	MOVWLZX (SI), AX
	VMOVD AX, X6
	VCVTPH2PS X6, X6
	VMULSS X3, X6, X6
	VBROADCASTSS X6, Y6
	VFMADD231PS Y6, Y8, Y9
	ADDQ $144, SI
	ADDQ $256, DI
	ADDQ $64, BX
	INCQ CX
	JMP q4kblk
q4kend:
	VEXTRACTF128 $1, Y9, X1
	VADDPS X1, X9, X0
	HSUM4
	VMOVSHDUP X15, X2
	VADDPS X2, X15, X2
	VMOVHLPS X2, X2, X3
	VADDSS X3, X2, X2
	VADDSS X2, X0, X0
	KROWNEXT(X0)
	JMP q4krow
q4kdone:
	VZEROUPPER
	RET

// func matQ8_0AVX2(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
// out[r] = lanesQ8_0(row r) for r < rows; rows stride bytes apart, nb >= 1
// blocks each. ys is unused (Q8_0 has no minimum).
TEXT ·matQ8_0AVX2(SB), NOSPLIT, $480-64
	GKERNEL(INTQ8_0, 34, NOMIN, NOMIN, g80grp, g80offs, g80blk, g80tail, g80tcopy, g80tloop, g80next, g80done)

// func matQ4_1AVX2(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
// out[r] = dotLanes(row r) for Q4_1 (blocks of 20 bytes).
TEXT ·matQ4_1AVX2(SB), NOSPLIT, $480-64
	GKERNEL(INTQ4_1, 20, GMIN, ADDMINS, g41grp, g41offs, g41blk, g41tail, g41tcopy, g41tloop, g41next, g41done)

// func matQ5_0AVX2(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
// out[r] = dotLanes(row r) for Q5_0 (blocks of 22 bytes, values minus 16).
TEXT ·matQ5_0AVX2(SB), NOSPLIT, $480-64
	GKERNEL(INTQ5_0, 22, Q5OFF, NOMIN, g50grp, g50offs, g50blk, g50tail, g50tcopy, g50tloop, g50next, g50done)

// func matQ5_1AVX2(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
// out[r] = dotLanes(row r) for Q5_1 (blocks of 24 bytes).
TEXT ·matQ5_1AVX2(SB), NOSPLIT, $480-64
	GKERNEL(INTQ5_1, 24, GMIN, ADDMINS, g51grp, g51offs, g51blk, g51tail, g51tcopy, g51tloop, g51next, g51done)
