#include "textflag.h"
#include "group_amd64.h"

// The VNNI kernels: quant_amd64.s's lane, Q4_0 and Q6_K kernels with each
// block's integer sums taken by VPDPBUSD, which multiplies unsigned bytes
// by signed bytes, adds each 4 products and the accumulator's int32 lane,
// and never saturates. The integer sums are exact either way, and the
// float steps, their order and the 8-row groups are those of the AVX2
// kernels, so every kernel gives its portable kernel's bits.
//
// VPDPBUSD is encoded by hand: Go's assembler knows only its EVEX form.
// DPV is the VEX form (AVX-VNNI), DPE the EVEX form (AVX512-VNNI with
// AVX512VL), both on ymm registers 0 to 15, given as numbers: Y(d) +=
// the 4-byte dot products of the unsigned bytes of Y(u) and the signed
// bytes of Y(s).
//
//	VEX:  C4, [~R 1 ~B 00010], [0 ~vvvv 1 01], 50, ModRM
//	EVEX: 62, [~R 1 ~B 1 0010], [0 ~vvvv 1 01], [0 01 0 1 000], 50, ModRM
//
// R and B are bit 3 of d and of s, vvvv is u, ModRM is 11 d s (mod 8).
// The DPVM and DPEM forms take the signed bytes from off(DI) instead,
// ModRM 10 d 111 and a 32-bit displacement (EVEX scales only 8-bit ones).
#define DPV(s, u, d) \
	BYTE $0xC4; \
	BYTE $(0xE2 ^ ((d>>3)<<7) ^ ((s>>3)<<5)); \
	BYTE $(0x05 | ((15-u)<<3)); \
	BYTE $0x50; \
	BYTE $(0xC0 | ((d&7)<<3) | (s&7))

#define DPE(s, u, d) \
	BYTE $0x62; \
	BYTE $(0xF2 ^ ((d>>3)<<7) ^ ((s>>3)<<5)); \
	BYTE $(0x05 | ((15-u)<<3)); \
	BYTE $0x28; \
	BYTE $0x50; \
	BYTE $(0xC0 | ((d&7)<<3) | (s&7))

#define DPVM(off, u, d) \
	BYTE $0xC4; \
	BYTE $(0xE2 ^ ((d>>3)<<7)); \
	BYTE $(0x05 | ((15-u)<<3)); \
	BYTE $0x50; \
	BYTE $(0x87 | ((d&7)<<3)); \
	LONG $(off)

#define DPEM(off, u, d) \
	BYTE $0x62; \
	BYTE $(0xF2 ^ ((d>>3)<<7)); \
	BYTE $(0x05 | ((15-u)<<3)); \
	BYTE $0x28; \
	BYTE $0x50; \
	BYTE $(0x87 | ((d&7)<<3)); \
	LONG $(off)

// Byte constants 0x0f, 0x10, bit i%8 of byte i, the byte of a 32-bit word
// that holds bit i, 0x80, 0x08, 0x30; then Q6_K's dword order and the
// dword shifts 0 (low lane) and 4 (high lane).
DATA qkv<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA qkv<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA qkv<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA qkv<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA qkv<>+32(SB)/8, $0x1010101010101010
DATA qkv<>+40(SB)/8, $0x1010101010101010
DATA qkv<>+48(SB)/8, $0x1010101010101010
DATA qkv<>+56(SB)/8, $0x1010101010101010
DATA qkv<>+64(SB)/8, $0x8040201008040201
DATA qkv<>+72(SB)/8, $0x8040201008040201
DATA qkv<>+80(SB)/8, $0x8040201008040201
DATA qkv<>+88(SB)/8, $0x8040201008040201
DATA qkv<>+96(SB)/8, $0x0000000000000000
DATA qkv<>+104(SB)/8, $0x0101010101010101
DATA qkv<>+112(SB)/8, $0x0202020202020202
DATA qkv<>+120(SB)/8, $0x0303030303030303
DATA qkv<>+128(SB)/8, $0x8080808080808080
DATA qkv<>+136(SB)/8, $0x8080808080808080
DATA qkv<>+144(SB)/8, $0x8080808080808080
DATA qkv<>+152(SB)/8, $0x8080808080808080
DATA qkv<>+160(SB)/8, $0x0808080808080808
DATA qkv<>+168(SB)/8, $0x0808080808080808
DATA qkv<>+176(SB)/8, $0x0808080808080808
DATA qkv<>+184(SB)/8, $0x0808080808080808
DATA qkv<>+192(SB)/8, $0x3030303030303030
DATA qkv<>+200(SB)/8, $0x3030303030303030
DATA qkv<>+208(SB)/8, $0x3030303030303030
DATA qkv<>+216(SB)/8, $0x3030303030303030
DATA qkv<>+224(SB)/8, $0x0000000200000000
DATA qkv<>+232(SB)/8, $0x0000000600000004
DATA qkv<>+240(SB)/8, $0x0000000300000001
DATA qkv<>+248(SB)/8, $0x0000000700000005
DATA qkv<>+256(SB)/8, $0x0000000000000000
DATA qkv<>+264(SB)/8, $0x0000000000000000
DATA qkv<>+272(SB)/8, $0x0000000400000004
DATA qkv<>+280(SB)/8, $0x0000000400000004
GLOBL qkv<>(SB), RODATA|NOPTR, $288

// LANEARGS loads GKERNEL's arguments and the lane kernels' constants: 0x10
// in Y11, the bits in Y12, the byte indices in Y13, 0x0f in Y14 and 0x80 in
// Y15.
#define LANEARGS \
	LANEPTRS; \
	VMOVDQU qkv<>+32(SB), Y11; \
	VMOVDQU qkv<>+64(SB), Y12; \
	VMOVDQU qkv<>+96(SB), Y13; \
	VMOVDQU qkv<>+0(SB), Y14; \
	VMOVDQU qkv<>+128(SB), Y15

// NIB3 puts the 32 nibbles of the 16 bytes at off(SI) in Y3 (value j the
// low nibble of byte j, value j+16 its high one): the bytes in both lanes,
// the high lane's dwords shifted right by 4, then masked. FIFTH3 ors 0x10
// into byte i of Y3 when bit i of the word at off(SI) is set, Y4 scratch;
// FIFTHK does it through an AVX512BW opmask.
#define NIB3(off) \
	VBROADCASTI128 off(SI), Y3; \
	VPSRLVD qkv<>+256(SB), Y3, Y3; \
	VPAND Y14, Y3, Y3

#define FIFTH3(off) \
	VPBROADCASTD off(SI), Y4; \
	VPSHUFB Y13, Y4, Y4; \
	VPAND Y12, Y4, Y4; \
	VPCMPEQB Y12, Y4, Y4; \
	VPAND Y11, Y4, Y4; \
	VPOR Y4, Y3, Y3

#define FIFTHK(off) \
	KMOVD off(SI), K1; \
	VPADDB Y11, Y3, K1, Y3

// OFFSET sets Y10, once per block for the group's 8 rows, to minus the
// lane sums of the block's activations (in Y5) times the byte in Y(k):
// the lanes of unsigned values v+k from a start of Y10 are the lanes of
// the signed values v.
#define OFFSET(DP, k) \
	VPXOR Y4, Y4, Y4; \
	DP(5, k, 4); \
	VPXOR Y10, Y10, Y10; \
	VPSUBD Y4, Y10, Y10

// GKERNEL's steps once per block (MIN): the activations in Y5, after the
// minimums of Q4_1 and Q5_1, and for the signed types the offset (Q8_0's
// weights are read plus 128, Q5_0's are stored plus 16).
#define PRE8_0(DP) \
	VMOVDQU (DI), Y5; \
	OFFSET(DP, 15)

#define PRE5_0(DP) \
	VMOVDQU (DI), Y5; \
	OFFSET(DP, 11)

#define GMINY \
	GMIN; \
	VMOVDQU (DI), Y5

// The integer part of a row's block (at SI), the 8 lane sums in Y2 as the
// AVX2 kernels' INTQ* leave them.
#define VQ8_0(DP) \
	VPXOR 2(SI), Y15, Y3; \
	VMOVDQA Y10, Y2; \
	DP(5, 3, 2)

#define VQ4_1(DP) \
	NIB3(4); \
	VPXOR Y2, Y2, Y2; \
	DP(5, 3, 2)

#define VQ5_0(DP, FIFTH) \
	NIB3(6); \
	FIFTH(2); \
	VMOVDQA Y10, Y2; \
	DP(5, 3, 2)

#define VQ5_1(DP, FIFTH) \
	NIB3(8); \
	FIFTH(4); \
	VPXOR Y2, Y2, Y2; \
	DP(5, 3, 2)

// Q4_0: a row's lane sums of the nibbles from a start of minus 8 times the
// activations' lane sums (Y10), stored in the frame at 192 for Q6TREE.
#define VQ4_0ROW(DP, r) \
	GROWPTR(r); \
	NIB3(2); \
	VMOVDQA Y10, Y2; \
	DP(5, 3, 2); \
	VMOVDQU Y2, (192+32*r)(SP)

// VQ4_0 is matQ4_0AVX2's body (SKERNEL with SQ4_0) with VQ4_0ROW's sums.
#define VQ4_0(DP, grp, offs, blk, tail, tcopy, tloop, next, done) \
	LANEPTRS; \
	VMOVDQU qkv<>+0(SB), Y14; \
	VMOVDQU qkv<>+160(SB), Y15; \
	GBEGIN(grp, offs, done, blk, tail); \
	VMOVDQU (DI), Y5; \
	OFFSET(DP, 15); \
	VQ4_0ROW(DP, 0); VQ4_0ROW(DP, 1); VQ4_0ROW(DP, 2); VQ4_0ROW(DP, 3); \
	VQ4_0ROW(DP, 4); VQ4_0ROW(DP, 5); VQ4_0ROW(DP, 6); VQ4_0ROW(DP, 7); \
	Q6TREE; \
	GDD; \
	SQ4_0; \
	ADDQ $18, BX; \
	ADDQ $32, DI; \
	INCQ CX; \
	JMP blk; \
tail: \
	SFINQ4_0; \
	GSTORE(grp, tcopy, tloop, next, done)

// VQ6HALF is quant_amd64.s's Q6HALF, the 6-bit values' 8 lane sums of
// each quarter taken by DP from the activations at y(DI): adds to Y8 the
// scaled 16-value group sums of half n of a Q6_K block (low nibbles at
// ql(SI), high bits at qh(SI), scales at sc(SI)) and to Y9 the scales
// times the activation group sums at bs.
#define VQ6HALF(DP, ql, qh, sc, y, bs) \
	VMOVDQU ql(SI), Y0; \
	VMOVDQU ql+32(SI), Y1; \
	VMOVDQU qh(SI), Y2; \
	VPAND Y14, Y0, Y3; \
	VPSLLW $4, Y2, Y4; \
	VPAND Y13, Y4, Y4; \
	VPOR Y4, Y3, Y3; \
	VPXOR Y4, Y4, Y4; \
	DP(y, 3, 4); \
	VPAND Y14, Y1, Y3; \
	VPSLLW $2, Y2, Y5; \
	VPAND Y13, Y5, Y5; \
	VPOR Y5, Y3, Y3; \
	VPXOR Y5, Y5, Y5; \
	DP(y+32, 3, 5); \
	VPSRLW $4, Y0, Y3; \
	VPAND Y14, Y3, Y3; \
	VPAND Y13, Y2, Y6; \
	VPOR Y6, Y3, Y3; \
	VPXOR Y6, Y6, Y6; \
	DP(y+64, 3, 6); \
	VPSRLW $4, Y1, Y3; \
	VPAND Y14, Y3, Y3; \
	VPSRLW $2, Y2, Y7; \
	VPAND Y13, Y7, Y7; \
	VPOR Y7, Y3, Y3; \
	VPXOR Y7, Y7, Y7; \
	DP(y+96, 3, 7); \
	Q6SCALE(sc, bs)

// VQ6ROW stores in the frame at 192 the 8 lane sums of row r's block, the
// values minus 32 (bsums at AX).
#define VQ6ROW(DP, r) \
	GROWPTR(r); \
	VPXOR Y8, Y8, Y8; \
	VPXOR Y9, Y9, Y9; \
	VQ6HALF(DP, 0, 128, 192, 0, 0(AX)); \
	VQ6HALF(DP, 64, 160, 200, 128, 32(AX)); \
	VPSLLD $5, Y9, Y9; \
	VPSUBD Y9, Y8, Y8; \
	VMOVDQU Y8, (192+32*r)(SP)

// VQ6_K is matQ6_KAVX2's body with VQ6ROW: per block the 8 rows' exact
// sums, then sum += float32(float32(half(d)*yd) * float32(isum)) in the 8
// lanes of Y11.
#define VQ6_K(DP, grp, offs, blk, tail, tcopy, tloop, next, done) \
	MOVQ w+0(FP), R12; \
	MOVQ stride+8(FP), R13; \
	MOVQ y+16(FP), R9; \
	MOVQ yd+24(FP), R14; \
	MOVQ bsums+32(FP), R8; \
	MOVQ nb+40(FP), R10; \
	MOVQ out+48(FP), DX; \
	MOVQ rows+56(FP), R11; \
	VMOVDQU qkv<>+0(SB), Y14; \
	VMOVDQU qkv<>+192(SB), Y13; \
	VMOVDQU qkv<>+224(SB), Y12; \
grp: \
	GOFFSETS(offs, done); \
	VXORPS Y11, Y11, Y11; \
	MOVQ R12, BX; \
	MOVQ R9, DI; \
	MOVQ R8, AX; \
	XORQ CX, CX; \
blk: \
	CMPQ CX, R10; \
	JEQ tail; \
	VQ6ROW(DP, 0); VQ6ROW(DP, 1); VQ6ROW(DP, 2); VQ6ROW(DP, 3); \
	VQ6ROW(DP, 4); VQ6ROW(DP, 5); VQ6ROW(DP, 6); VQ6ROW(DP, 7); \
	Q6TREE; \
	GWORDS(206); \
	GSCALES(HIWORDS); \
	VCVTDQ2PS Y0, Y0; \
	VMULPS Y0, Y6, Y0; \
	VADDPS Y0, Y11, Y11; \
	ADDQ $210, BX; \
	ADDQ $256, DI; \
	ADDQ $64, AX; \
	INCQ CX; \
	JMP blk; \
tail: \
	VMOVAPS Y11, Y0; \
	GSTORE(grp, tcopy, tloop, next, done)

// func matQ8_0VNNI(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
// matQ8_0AVX2 with AVX-VNNI.
TEXT ·matQ8_0VNNI(SB), NOSPLIT, $480-64
	GKERNEL(VQ8_0(DPV), 34, PRE8_0(DPV), NOMIN, v80grp, v80offs, v80blk, v80tail, v80tcopy, v80tloop, v80next, v80done)

// func matQ4_1VNNI(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
// matQ4_1AVX2 with AVX-VNNI.
TEXT ·matQ4_1VNNI(SB), NOSPLIT, $480-64
	GKERNEL(VQ4_1(DPV), 20, GMINY, ADDMINS, v41grp, v41offs, v41blk, v41tail, v41tcopy, v41tloop, v41next, v41done)

// func matQ5_0VNNI(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
// matQ5_0AVX2 with AVX-VNNI.
TEXT ·matQ5_0VNNI(SB), NOSPLIT, $480-64
	GKERNEL(VQ5_0(DPV, FIFTH3), 22, PRE5_0(DPV), NOMIN, v50grp, v50offs, v50blk, v50tail, v50tcopy, v50tloop, v50next, v50done)

// func matQ5_1VNNI(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
// matQ5_1AVX2 with AVX-VNNI.
TEXT ·matQ5_1VNNI(SB), NOSPLIT, $480-64
	GKERNEL(VQ5_1(DPV, FIFTH3), 24, GMINY, ADDMINS, v51grp, v51offs, v51blk, v51tail, v51tcopy, v51tloop, v51next, v51done)

// func matQ4_0VNNI(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
// matQ4_0AVX2 with AVX-VNNI; ys is unused.
TEXT ·matQ4_0VNNI(SB), NOSPLIT, $480-64
	VQ4_0(DPV, v40grp, v40offs, v40blk, v40tail, v40tcopy, v40tloop, v40next, v40done)

// func matQ6_KVNNI(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int)
// matQ6_KAVX2 with AVX-VNNI.
TEXT ·matQ6_KVNNI(SB), NOSPLIT, $480-64
	VQ6_K(DPVM, v6grp, v6offs, v6blk, v6tail, v6tcopy, v6tloop, v6next, v6done)

// The same kernels with AVX512-VNNI (EVEX-encoded dot products), Q5_0's
// and Q5_1's fifth bits set through an AVX512BW opmask (FIFTHK).

// func matQ8_0VNNI512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
TEXT ·matQ8_0VNNI512(SB), NOSPLIT, $480-64
	GKERNEL(VQ8_0(DPE), 34, PRE8_0(DPE), NOMIN, w80grp, w80offs, w80blk, w80tail, w80tcopy, w80tloop, w80next, w80done)

// func matQ4_1VNNI512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
TEXT ·matQ4_1VNNI512(SB), NOSPLIT, $480-64
	GKERNEL(VQ4_1(DPE), 20, GMINY, ADDMINS, w41grp, w41offs, w41blk, w41tail, w41tcopy, w41tloop, w41next, w41done)

// func matQ5_0VNNI512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
TEXT ·matQ5_0VNNI512(SB), NOSPLIT, $480-64
	GKERNEL(VQ5_0(DPE, FIFTHK), 22, PRE5_0(DPE), NOMIN, w50grp, w50offs, w50blk, w50tail, w50tcopy, w50tloop, w50next, w50done)

// func matQ5_1VNNI512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
TEXT ·matQ5_1VNNI512(SB), NOSPLIT, $480-64
	GKERNEL(VQ5_1(DPE, FIFTHK), 24, GMINY, ADDMINS, w51grp, w51offs, w51blk, w51tail, w51tcopy, w51tloop, w51next, w51done)

// func matQ4_0VNNI512(w *byte, stride int, y *int8, yd, ys *float32, nb int, out *float32, rows int)
TEXT ·matQ4_0VNNI512(SB), NOSPLIT, $480-64
	VQ4_0(DPE, w40grp, w40offs, w40blk, w40tail, w40tcopy, w40tloop, w40next, w40done)

// func matQ6_KVNNI512(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int)
TEXT ·matQ6_KVNNI512(SB), NOSPLIT, $480-64
	VQ6_K(DPEM, w6grp, w6offs, w6blk, w6tail, w6tcopy, w6tloop, w6next, w6done)
