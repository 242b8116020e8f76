#include "textflag.h"
#include "reduce_amd64.h"

// Whole-matrix AVX2 kernels for Q2_K, Q3_K, Q5_K and IQ4_XS, and the Q8_K
// activation quantizer. As in quant_amd64.s, each gives its portable Go
// function's bits: a block's integer sums are exact in any order (no int16
// step saturates, as the bounds beside each macro show), and the float
// steps of a block are the portable ones, in the same order, block after
// block.

// Byte constants: 0x03, 0x0f, 0x04 and 0x10.
DATA kqb3<>+0(SB)/8, $0x0303030303030303
DATA kqb3<>+8(SB)/8, $0x0303030303030303
DATA kqb3<>+16(SB)/8, $0x0303030303030303
DATA kqb3<>+24(SB)/8, $0x0303030303030303
GLOBL kqb3<>(SB), RODATA|NOPTR, $32

DATA kqb15<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA kqb15<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA kqb15<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA kqb15<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL kqb15<>(SB), RODATA|NOPTR, $32

DATA kqb4<>+0(SB)/8, $0x0404040404040404
DATA kqb4<>+8(SB)/8, $0x0404040404040404
DATA kqb4<>+16(SB)/8, $0x0404040404040404
DATA kqb4<>+24(SB)/8, $0x0404040404040404
GLOBL kqb4<>(SB), RODATA|NOPTR, $32

DATA kqb16<>+0(SB)/8, $0x1010101010101010
DATA kqb16<>+8(SB)/8, $0x1010101010101010
DATA kqb16<>+16(SB)/8, $0x1010101010101010
DATA kqb16<>+24(SB)/8, $0x1010101010101010
GLOBL kqb16<>(SB), RODATA|NOPTR, $32

// 0x3f and 0x20 bytes (16 each).
DATA kqb63<>+0(SB)/8, $0x3f3f3f3f3f3f3f3f
DATA kqb63<>+8(SB)/8, $0x3f3f3f3f3f3f3f3f
GLOBL kqb63<>(SB), RODATA|NOPTR, $16

DATA kqb32<>+0(SB)/8, $0x2020202020202020
DATA kqb32<>+8(SB)/8, $0x2020202020202020
GLOBL kqb32<>(SB), RODATA|NOPTR, $16

// Shuffle controls that spread int16 scales over the lanes: kqp16+32g
// picks word 2g in the low lane and word 2g+1 in the high one (16-value
// groups, two scales a register), kqp32+32k word k in both (32-value
// groups).
DATA kqp16<>+0(SB)/8, $0x0100010001000100
DATA kqp16<>+8(SB)/8, $0x0100010001000100
DATA kqp16<>+16(SB)/8, $0x0302030203020302
DATA kqp16<>+24(SB)/8, $0x0302030203020302
DATA kqp16<>+32(SB)/8, $0x0504050405040504
DATA kqp16<>+40(SB)/8, $0x0504050405040504
DATA kqp16<>+48(SB)/8, $0x0706070607060706
DATA kqp16<>+56(SB)/8, $0x0706070607060706
DATA kqp16<>+64(SB)/8, $0x0908090809080908
DATA kqp16<>+72(SB)/8, $0x0908090809080908
DATA kqp16<>+80(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kqp16<>+88(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kqp16<>+96(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kqp16<>+104(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kqp16<>+112(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA kqp16<>+120(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL kqp16<>(SB), RODATA|NOPTR, $128

DATA kqp32<>+0(SB)/8, $0x0100010001000100
DATA kqp32<>+8(SB)/8, $0x0100010001000100
DATA kqp32<>+16(SB)/8, $0x0100010001000100
DATA kqp32<>+24(SB)/8, $0x0100010001000100
DATA kqp32<>+32(SB)/8, $0x0302030203020302
DATA kqp32<>+40(SB)/8, $0x0302030203020302
DATA kqp32<>+48(SB)/8, $0x0302030203020302
DATA kqp32<>+56(SB)/8, $0x0302030203020302
DATA kqp32<>+64(SB)/8, $0x0504050405040504
DATA kqp32<>+72(SB)/8, $0x0504050405040504
DATA kqp32<>+80(SB)/8, $0x0504050405040504
DATA kqp32<>+88(SB)/8, $0x0504050405040504
DATA kqp32<>+96(SB)/8, $0x0706070607060706
DATA kqp32<>+104(SB)/8, $0x0706070607060706
DATA kqp32<>+112(SB)/8, $0x0706070607060706
DATA kqp32<>+120(SB)/8, $0x0706070607060706
DATA kqp32<>+128(SB)/8, $0x0908090809080908
DATA kqp32<>+136(SB)/8, $0x0908090809080908
DATA kqp32<>+144(SB)/8, $0x0908090809080908
DATA kqp32<>+152(SB)/8, $0x0908090809080908
DATA kqp32<>+160(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kqp32<>+168(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kqp32<>+176(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kqp32<>+184(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kqp32<>+192(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kqp32<>+200(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kqp32<>+208(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kqp32<>+216(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kqp32<>+224(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA kqp32<>+232(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA kqp32<>+240(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA kqp32<>+248(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL kqp32<>(SB), RODATA|NOPTR, $256

// Dword shift counts: Q3_K's high scale bits [0, 2, 4, 6], IQ4_XS's low
// nibbles [0, 4, ..., 28] and high bit pairs [0, 2, ..., 14].
DATA kqsh3<>+0(SB)/8, $0x0000000200000000
DATA kqsh3<>+8(SB)/8, $0x0000000600000004
GLOBL kqsh3<>(SB), RODATA|NOPTR, $16

DATA kqshlo<>+0(SB)/8, $0x0000000400000000
DATA kqshlo<>+8(SB)/8, $0x0000000c00000008
DATA kqshlo<>+16(SB)/8, $0x0000001400000010
DATA kqshlo<>+24(SB)/8, $0x0000001c00000018
GLOBL kqshlo<>(SB), RODATA|NOPTR, $32

DATA kqshhi<>+0(SB)/8, $0x0000000200000000
DATA kqshhi<>+8(SB)/8, $0x0000000600000004
DATA kqshhi<>+16(SB)/8, $0x0000000a00000008
DATA kqshhi<>+24(SB)/8, $0x0000000e0000000c
GLOBL kqshhi<>(SB), RODATA|NOPTR, $32

// Dword constants: the order [0, 1, 4, 5, 2, 3, 6, 7] of VPHADDD's pair
// sums, the order [0, 4, 1, 5, 2, 6, 3, 7] that undoes the packs' lane
// split, then 15, 3, 32, 127, the magnitude mask, -127.0 and 1.0.
DATA kqd<>+0(SB)/8, $0x0000000100000000
DATA kqd<>+8(SB)/8, $0x0000000500000004
DATA kqd<>+16(SB)/8, $0x0000000300000002
DATA kqd<>+24(SB)/8, $0x0000000700000006
DATA kqd<>+32(SB)/8, $0x0000000400000000
DATA kqd<>+40(SB)/8, $0x0000000500000001
DATA kqd<>+48(SB)/8, $0x0000000600000002
DATA kqd<>+56(SB)/8, $0x0000000700000003
DATA kqd<>+64(SB)/4, $15
DATA kqd<>+68(SB)/4, $3
DATA kqd<>+72(SB)/4, $32
DATA kqd<>+76(SB)/4, $127
DATA kqd<>+80(SB)/4, $0x7fffffff
DATA kqd<>+84(SB)/4, $0xc2fe0000
DATA kqd<>+88(SB)/4, $0x3f800000
GLOBL kqd<>(SB), RODATA|NOPTR, $92

// KQROW and KQNEXT start and finish a row, its float32 sum in X2, which
// no macro below touches.
#define KQROW \
	VXORPS X2, X2, X2; \
	MOVQ R12, SI; \
	MOVQ R9, DI; \
	MOVQ R8, BX; \
	XORQ CX, CX

#define KQNEXT \
	VMOVSS X2, (DX); \
	ADDQ $4, DX; \
	ADDQ R13, R12; \
	DECQ R11

// HALFYD puts in X6 the float32 product of the binary16 at off(SI) and
// the activation scale of block CX.
#define HALFYD(off) \
	MOVWLZX off(SI), AX; \
	VMOVD AX, X6; \
	VCVTPH2PS X6, X6; \
	VMULSS (R14)(CX*4), X6, X6

// MADDS adds to Y8 the products of the unsigned values in Y0 and the
// activations at y(DI), each 16-value (or 32-value) group times the int16
// scale that the shuffle control ctrl picks from S. Y1 is scratch. A pair
// sum is at most 2*31*127 and a scale at most 63: exact in int32.
#define MADDS(y, S, ctrl) \
	VPMADDUBSW y(DI), Y0, Y0; \
	VPSHUFB ctrl, S, Y1; \
	VPMADDWD Y1, Y0, Y0; \
	VPADDD Y0, Y8, Y8

// SCALES16 spreads the 16 int8 scales of X0 as int16 over both lanes of
// Y10 (scales 0-7) and Y9 (8-15).
#define SCALES16 \
	VPMOVSXBW X0, X10; \
	VINSERTI128 $1, X10, Y10, Y10; \
	VPSRLDQ $8, X0, X0; \
	VPMOVSXBW X0, X9; \
	VINSERTI128 $1, X9, Y9, Y9

// SCALESUMS sets Y4 to the products of the 16 int8 scales of X0 (sign
// or zero extended by ext, VPMOVSXBD or VPMOVZXBD) and the 16 activation
// sums at (BX), two of them to a lane. Y3 is scratch.
#define SCALESUMS(ext) \
	ext X0, Y4; \
	VPMULLD (BX), Y4, Y4; \
	VPSRLDQ $8, X0, X3; \
	ext X3, Y3; \
	VPMULLD 32(BX), Y3, Y3; \
	VPADDD Y3, Y4, Y4

// HSUM2I reduces the lanes of Y8 (isum) and Y4 (msum) together and
// leaves them as float32 in X8 and X4.
#define HSUM2I \
	VPHADDD Y4, Y8, Y8; \
	VEXTRACTI128 $1, Y8, X3; \
	VPADDD X3, X8, X8; \
	VPHADDD X8, X8, X8; \
	VCVTDQ2PS X8, X8; \
	VMOVSHDUP X8, X4

// Q2BITS leaves in Y0 the 2-bit values at bit shift of the bytes of Y6
// (Y14 = 0x03 bytes).
#define Q2BITS(shift) \
	VPSRLW $shift, Y6, Y0; \
	VPAND Y14, Y0, Y0

// Q3BIT adds 4 to the values in Y0 whose high bit, bit 0 of Y5's bytes,
// is set, and moves Y5 on to the next bit (Y11 = 0x04 bytes).
#define Q3BIT \
	VPSLLW $2, Y5, Y1; \
	VPAND Y11, Y1, Y1; \
	VPOR Y1, Y0, Y0; \
	VPSRLW $1, Y5, Y5

// Q2HALF adds to Y8 the scaled sums of the 128 values of the 32 bytes at
// q(SI) (2-bit values at shifts 0, 2, 4, 6) against the activations at
// y(DI), the scales in S; with Q3BIT as hi, Q3_K's high bits too.
#define Q2HALF(q, y, S, hi) \
	VMOVDQU q(SI), Y6; \
	Q2BITS(0); \
	hi; \
	MADDS(y, S, kqp16<>+0(SB)); \
	Q2BITS(2); \
	hi; \
	MADDS(y+32, S, kqp16<>+32(SB)); \
	Q2BITS(4); \
	hi; \
	MADDS(y+64, S, kqp16<>+64(SB)); \
	Q2BITS(6); \
	hi; \
	MADDS(y+96, S, kqp16<>+96(SB))

#define NOBIT

// func matQ2_KAVX2(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int)
// out[r] = dotQ2_K(row r): per block the exact scaled and minimum sums,
// then sum += float32(float32(dall*isum) - float32(dmin*msum)).
TEXT ·matQ2_KAVX2(SB), NOSPLIT, $0-64
	KQARGS
	VMOVDQU kqb3<>(SB), Y14
	VMOVDQU kqb15<>(SB), Y13
q2row:
	CMPQ R11, $0
	JEQ q2done
	KQROW
q2blk:
	CMPQ CX, R10
	JEQ q2end
	// Low nibbles of the 16 scale bytes are the scales, high ones the
	// minimums, whose products with the activation sums make msum (Y4).
	VMOVDQU (SI), X3
	VPAND X13, X3, X5
	VPSRLW $4, X3, X0
	VPAND X13, X0, X0
	SCALESUMS(VPMOVZXBD)
	VMOVDQA X5, X0
	SCALES16
	VPXOR Y8, Y8, Y8
	Q2HALF(16, 0, Y10, NOBIT)
	Q2HALF(48, 128, Y9, NOBIT)
	HSUM2I
	HALFYD(80)
	VMULSS X6, X8, X8
	HALFYD(82)
	VMULSS X6, X4, X4
	VSUBSS X4, X8, X8
	VADDSS X8, X2, X2
	ADDQ $84, SI
	ADDQ $256, DI
	ADDQ $64, BX
	INCQ CX
	JMP q2blk
q2end:
	KQNEXT
	JMP q2row
q2done:
	VZEROUPPER
	RET

// func matQ3_KAVX2(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int)
// out[r] = dotQ3_K(row r): sum += float32(float32(half(d)*yd) * float32(isum)).
// A value is its two low bits plus 4 for a set high bit, less 4: the 4s
// come off at the end as 4 times the scales times the activation sums.
TEXT ·matQ3_KAVX2(SB), NOSPLIT, $0-64
	KQARGS
	VMOVDQU kqb3<>(SB), Y14
	VMOVDQU kqb15<>(SB), Y13
	VMOVDQU kqb4<>(SB), Y11
q3row:
	CMPQ R11, $0
	JEQ q3done
	KQROW
q3blk:
	CMPQ CX, R10
	JEQ q3end
	// The 6-bit scales less 32: low nibbles of bytes 0-7, then their
	// high nibbles, each with two bits of the word at 104 above.
	VMOVQ 96(SI), X0
	VPSRLW $4, X0, X1
	VPUNPCKLQDQ X1, X0, X0
	VPAND X13, X0, X0
	VPBROADCASTD 104(SI), X1
	VPSRLVD kqsh3<>(SB), X1, X1
	VPAND X14, X1, X1
	VPSLLW $4, X1, X1
	VPOR X1, X0, X0
	VPSUBB kqb32<>(SB), X0, X0
	SCALESUMS(VPMOVSXBD)
	SCALES16
	VMOVDQU (SI), Y5
	VPXOR Y8, Y8, Y8
	Q2HALF(32, 0, Y10, Q3BIT)
	Q2HALF(64, 128, Y9, Q3BIT)
	VPSLLD $2, Y4, Y4
	VPSUBD Y4, Y8, Y8
	HSUMI(Y8, X8, X3)
	VCVTDQ2PS X8, X8
	HALFYD(108)
	VMULSS X8, X6, X6
	VADDSS X6, X2, X2
	ADDQ $110, SI
	ADDQ $256, DI
	ADDQ $64, BX
	INCQ CX
	JMP q3blk
q3end:
	KQNEXT
	JMP q3row
q3done:
	VZEROUPPER
	RET

// Q5CHUNK adds to Y8 the scaled sums of 64 values: the low nibbles of the
// 32 bytes at q(SI) with bit 0 of Y5's bytes as their fifth bit, then the
// high nibbles with bit 1, against the activations at y(DI), scales k and
// k+1 of Y10; Y5 then moves on two bits (Y14 = 0x0f, Y13 = 0x10 bytes).
#define Q5CHUNK(q, y, k) \
	VMOVDQU q(SI), Y6; \
	VPAND Y14, Y6, Y0; \
	VPSLLW $4, Y5, Y3; \
	VPAND Y13, Y3, Y3; \
	VPOR Y3, Y0, Y0; \
	MADDS(y, Y10, kqp32<>+(32*k)(SB)); \
	VPSRLW $4, Y6, Y0; \
	VPAND Y14, Y0, Y0; \
	VPSLLW $3, Y5, Y3; \
	VPAND Y13, Y3, Y3; \
	VPOR Y3, Y0, Y0; \
	MADDS(y+32, Y10, kqp32<>+(32*k+32)(SB)); \
	VPSRLW $2, Y5, Y5

// func matQ5_KAVX2(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int)
// out[r] = dotQ5_K(row r): per block the exact scaled and minimum sums,
// then sum += float32(float32(half(d)*yd) * float32(isum)) and
// sum -= float32(float32(half(dmin)*yd) * float32(msum)).
TEXT ·matQ5_KAVX2(SB), NOSPLIT, $0-64
	KQARGS
	VMOVDQU kqb15<>(SB), Y14
	VMOVDQU kqb16<>(SB), Y13
	VMOVDQU kqd<>+0(SB), Y11
q5row:
	CMPQ R11, $0
	JEQ q5done
	KQROW
q5blk:
	CMPQ CX, R10
	JEQ q5end
	// The 6-bit scales and minimums of the 12 bytes at 4 (dwords D0, D1,
	// D2): X0 = [scales 0-3, scales 4-7, mins 0-3, mins 4-7] in bytes,
	// the first four of each D0 and D1 less their top bits, the last
	// four D2's nibbles under those top bits.
	VMOVQ 4(SI), X0
	VPAND kqb63<>(SB), X0, X1
	VPSRLW $6, X0, X0
	VPAND kqb3<>(SB), X0, X0
	VPSLLW $4, X0, X0
	VMOVD 12(SI), X3
	VPSRLW $4, X3, X6
	VPUNPCKLDQ X6, X3, X3
	VPAND X14, X3, X3
	VPOR X3, X0, X0
	VPUNPCKLDQ X0, X1, X0
	VPMOVZXBW X0, X10
	VINSERTI128 $1, X10, Y10, Y10
	// msum: minimum k times activation sums 2k and 2k+1, in the order
	// VPHADDD leaves the pair sums.
	VPSRLDQ $8, X0, X0
	VPMOVZXBD X0, Y4
	VPERMD Y4, Y11, Y4
	VMOVDQU (BX), Y3
	VPHADDD 32(BX), Y3, Y3
	VPMULLD Y3, Y4, Y4
	VMOVDQU 16(SI), Y5
	VPXOR Y8, Y8, Y8
	Q5CHUNK(48, 0, 0)
	Q5CHUNK(80, 64, 2)
	Q5CHUNK(112, 128, 4)
	Q5CHUNK(144, 192, 6)
	HSUM2I
	HALFYD(0)
	VMULSS X8, X6, X6
	VADDSS X6, X2, X2
	HALFYD(2)
	VMULSS X4, X6, X6
	VSUBSS X6, X2, X2
	ADDQ $176, SI
	ADDQ $256, DI
	ADDQ $64, BX
	INCQ CX
	JMP q5blk
q5end:
	KQNEXT
	JMP q5row
q5done:
	VZEROUPPER
	RET

// IQ4XS64 adds to Y8 the scaled sums of the 64 values of the 32 bytes at
// q(SI), sub-blocks k and k+1 (low nibbles, then high ones, of 16 bytes
// each, mapped through the table in Y11), times the activations at y(DI),
// signs moved onto the activations so that VPMADDUBSW multiplies: at most
// 2*127*127 a pair, and a scale at most 32 in magnitude.
#define IQ4XS64(q, y, k) \
	VMOVDQU q(SI), Y0; \
	VPSRLW $4, Y0, Y1; \
	VPAND Y14, Y0, Y0; \
	VPAND Y14, Y1, Y1; \
	VPERM2I128 $0x20, Y1, Y0, Y4; \
	VPERM2I128 $0x31, Y1, Y0, Y5; \
	IQ4XS32(Y4, y, k); \
	IQ4XS32(Y5, y+32, (k+1))

#define IQ4XS32(V, y, k) \
	VPSHUFB V, Y11, V; \
	VMOVDQU y(DI), Y3; \
	VPSIGNB V, Y3, Y3; \
	VPABSB V, Y0; \
	VPMADDUBSW Y3, Y0, Y0; \
	VPSHUFB kqp32<>+(32*k)(SB), Y10, Y1; \
	VPMADDWD Y1, Y0, Y0; \
	VPADDD Y0, Y8, Y8

// func matIQ4XSAVX2(w *byte, stride int, table *[16]int8, y *int8, yd *float32, nb int, out *float32, rows int)
// out[r] = dotIQ4XS(row r): sum += float32(float32(half(d)*yd) * float32(isum)).
TEXT ·matIQ4XSAVX2(SB), NOSPLIT, $0-64
	MOVQ w+0(FP), R12
	MOVQ stride+8(FP), R13
	MOVQ table+16(FP), AX
	MOVQ y+24(FP), R9
	MOVQ yd+32(FP), R14
	MOVQ nb+40(FP), R10
	MOVQ out+48(FP), DX
	MOVQ rows+56(FP), R11
	VBROADCASTI128 (AX), Y11
	VMOVDQU kqb15<>(SB), Y14
	VPBROADCASTD kqd<>+64(SB), Y13
	VPBROADCASTD kqd<>+68(SB), Y9
	VPBROADCASTD kqd<>+72(SB), Y12
iqrow:
	CMPQ R11, $0
	JEQ iqdone
	KQROW
iqblk:
	CMPQ CX, R10
	JEQ iqend
	// Scale ib less 32: nibble ib of the dword at 4, bits 2ib and 2ib+1
	// of the word at 2 above it; as int16 in both lanes of Y10.
	VPBROADCASTD 4(SI), Y0
	VPSRLVD kqshlo<>(SB), Y0, Y0
	VPAND Y13, Y0, Y0
	VPBROADCASTW 2(SI), Y1
	VPSRLVD kqshhi<>(SB), Y1, Y1
	VPAND Y9, Y1, Y1
	VPSLLD $4, Y1, Y1
	VPOR Y1, Y0, Y0
	VPSUBD Y12, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPACKSSDW X1, X0, X0
	VINSERTI128 $1, X0, Y0, Y10
	VPXOR Y8, Y8, Y8
	IQ4XS64(8, 0, 0)
	IQ4XS64(40, 64, 2)
	IQ4XS64(72, 128, 4)
	IQ4XS64(104, 192, 6)
	HSUMI(Y8, X8, X3)
	VCVTDQ2PS X8, X8
	HALFYD(0)
	VMULSS X8, X6, X6
	VADDSS X6, X2, X2
	ADDQ $136, SI
	ADDQ $256, DI
	INCQ CX
	JMP iqblk
iqend:
	KQNEXT
	JMP iqrow
iqdone:
	VZEROUPPER
	RET

// Q8KGROUP quantizes the 64 values at (SI) by the iscale in Y6, each
// rounded to nearest even and capped at 127 (Y12), stores them at (DI)
// and their four sums of 16 at (DX).
#define Q8KGROUP \
	VMULPS (SI), Y6, Y0; \
	VMULPS 32(SI), Y6, Y1; \
	VMULPS 64(SI), Y6, Y2; \
	VMULPS 96(SI), Y6, Y3; \
	VMULPS 128(SI), Y6, Y8; \
	VMULPS 160(SI), Y6, Y9; \
	VMULPS 192(SI), Y6, Y10; \
	VMULPS 224(SI), Y6, Y11; \
	VCVTPS2DQ Y0, Y0; \
	VCVTPS2DQ Y1, Y1; \
	VCVTPS2DQ Y2, Y2; \
	VCVTPS2DQ Y3, Y3; \
	VCVTPS2DQ Y8, Y8; \
	VCVTPS2DQ Y9, Y9; \
	VCVTPS2DQ Y10, Y10; \
	VCVTPS2DQ Y11, Y11; \
	VPMINSD Y12, Y0, Y0; \
	VPMINSD Y12, Y1, Y1; \
	VPMINSD Y12, Y2, Y2; \
	VPMINSD Y12, Y3, Y3; \
	VPMINSD Y12, Y8, Y8; \
	VPMINSD Y12, Y9, Y9; \
	VPMINSD Y12, Y10, Y10; \
	VPMINSD Y12, Y11, Y11; \
	VPADDD Y1, Y0, Y4; \
	VPADDD Y3, Y2, Y5; \
	VPHADDD Y5, Y4, Y4; \
	VPADDD Y9, Y8, Y5; \
	VPADDD Y11, Y10, Y7; \
	VPHADDD Y7, Y5, Y5; \
	VPHADDD Y5, Y4, Y4; \
	VEXTRACTI128 $1, Y4, X5; \
	VPADDD X5, X4, X4; \
	VMOVDQU X4, (DX); \
	VPACKSSDW Y1, Y0, Y0; \
	VPACKSSDW Y3, Y2, Y2; \
	VPACKSSWB Y2, Y0, Y0; \
	VPERMD Y0, Y13, Y0; \
	VMOVDQU Y0, (DI); \
	VPACKSSDW Y9, Y8, Y8; \
	VPACKSSDW Y11, Y10, Y10; \
	VPACKSSWB Y10, Y8, Y8; \
	VPERMD Y8, Y13, Y8; \
	VMOVDQU Y8, 32(DI)

// func quantQ8KAVX2(x *float32, nb int, qs *int8, d *float32, bsums *int32) bool
// For each of nb blocks of 256 finite values, quantizeQ8K: the first
// value of largest magnitude mx, iscale = -127/mx, qs = min(127,
// iscale*x rounded to nearest even), d = 1/iscale, bsums the sums of 16;
// all zero for a block of zeros. It returns false, having stopped, at a
// block with a NaN or an infinity, or one so small that iscale is
// infinite.
TEXT ·quantQ8KAVX2(SB), NOSPLIT, $0-41
	MOVQ x+0(FP), SI
	MOVQ nb+8(FP), CX
	MOVQ qs+16(FP), DI
	MOVQ d+24(FP), BX
	MOVQ bsums+32(FP), DX
	VBROADCASTSS kqd<>+80(SB), Y15
	VMOVDQU kqd<>+32(SB), Y13
	VPBROADCASTD kqd<>+76(SB), Y12
qkblk:
	CMPQ CX, $0
	JEQ qkok
	// amax as the largest bit pattern of the magnitudes: for values that
	// are not negative integer order is float order, and NaN and
	// infinity lie above every finite value.
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	XORQ AX, AX
qkmax:
	VANDPS (SI)(AX*4), Y15, Y0
	VANDPS 32(SI)(AX*4), Y15, Y1
	VPMAXSD Y0, Y4, Y4
	VPMAXSD Y1, Y5, Y5
	ADDQ $16, AX
	CMPQ AX, $256
	JLT qkmax
	VPMAXSD Y5, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPMAXSD X5, X4, X4
	VPSHUFD $0x4E, X4, X5
	VPMAXSD X5, X4, X4
	VPSHUFD $0xB1, X4, X5
	VPMAXSD X5, X4, X4
	VMOVD X4, R8
	CMPL R8, $0x7f800000
	JAE qkbad
	TESTL R8, R8
	JEQ qkzero
	// mx: the first value whose magnitude is amax.
	VPBROADCASTD X4, Y4
	XORQ AX, AX
qkfind:
	VANDPS (SI)(AX*4), Y15, Y0
	VPCMPEQD Y4, Y0, Y0
	VMOVMSKPS Y0, R8
	TESTL R8, R8
	JNE qkfound
	ADDQ $8, AX
	JMP qkfind
qkfound:
	BSFL R8, R8
	ADDQ R8, AX
	VMOVSS kqd<>+84(SB), X6
	VDIVSS (SI)(AX*4), X6, X6
	// A magnitude below 127/MaxFloat32 makes iscale infinite, and the
	// portable conversions of the infinite and NaN products are Go's.
	VMOVD X6, R8
	ANDL $0x7fffffff, R8
	CMPL R8, $0x7f800000
	JEQ qkbad
	VMOVSS kqd<>+88(SB), X7
	VDIVSS X6, X7, X7
	VMOVSS X7, (BX)
	VBROADCASTSS X6, Y6
	MOVQ $4, AX
qkgroup:
	Q8KGROUP
	ADDQ $256, SI
	ADDQ $64, DI
	ADDQ $16, DX
	DECQ AX
	JNE qkgroup
	JMP qknext
qkzero:
	VPXOR Y0, Y0, Y0
	VMOVDQU Y0, (DI)
	VMOVDQU Y0, 32(DI)
	VMOVDQU Y0, 64(DI)
	VMOVDQU Y0, 96(DI)
	VMOVDQU Y0, 128(DI)
	VMOVDQU Y0, 160(DI)
	VMOVDQU Y0, 192(DI)
	VMOVDQU Y0, 224(DI)
	VMOVDQU Y0, (DX)
	VMOVDQU Y0, 32(DX)
	MOVL $0, (BX)
	ADDQ $1024, SI
	ADDQ $256, DI
	ADDQ $64, DX
qknext:
	ADDQ $4, BX
	DECQ CX
	JMP qkblk
qkok:
	MOVB $1, ret+40(FP)
	VZEROUPPER
	RET
qkbad:
	MOVB $0, ret+40(FP)
	VZEROUPPER
	RET
