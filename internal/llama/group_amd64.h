// Shared by quant_amd64.s and vnni_amd64.s: the 8-row group machinery
// of the lane and table kernels (offsets, scales, accumulators, the
// transposed sums and the stores) and the argument loads.

// The group lane kernels: the lane kernels' arithmetic, 8 rows at a time,
// block after block across the 8 rows. Each block's 8 scales (and Q4_1's
// and Q5_1's minimums) are loaded together, converted once and read
// back broadcast from the frame; the 8 rows' lane accumulators live in
// the frame as float32, each step one FMA (fmaf's rounding); the 8
// rows' hsum8 are one transposed tree. The frame holds:
//
//	0   the 8 rows' byte offsets from the group's first row (rows past
//	    the end of a short last group repeat the first row)
//	96  the block's dd of each row, float32
//	128 unused
//	192 the 8 rows' 8 accumulators, float32
//	448 the 8 results of a short last group

// 0x0000ffff, 0x00007fff dwords, then the dword order that undoes the
// transposed sum's interleave.
DATA qkg<>+0(SB)/8, $0x0000ffff0000ffff
DATA qkg<>+8(SB)/8, $0x0000ffff0000ffff
DATA qkg<>+16(SB)/8, $0x0000ffff0000ffff
DATA qkg<>+24(SB)/8, $0x0000ffff0000ffff
DATA qkg<>+32(SB)/8, $0x00007fff00007fff
DATA qkg<>+40(SB)/8, $0x00007fff00007fff
DATA qkg<>+48(SB)/8, $0x00007fff00007fff
DATA qkg<>+56(SB)/8, $0x00007fff00007fff
DATA qkg<>+64(SB)/8, $0x0000000400000000
DATA qkg<>+72(SB)/8, $0x0000000500000001
DATA qkg<>+80(SB)/8, $0x0000000600000002
DATA qkg<>+88(SB)/8, $0x0000000700000003
GLOBL qkg<>(SB), RODATA|NOPTR, $96

// GWORD puts in element i of X the dword at off in row r's block (BX is
// the first row's).
#define GWORD(off, r, i, X) \
	MOVQ (8*r)(SP), SI; \
	VPINSRD $i, off(BX)(SI*1), X, X

// GWORDS loads the dword at off in block CX of the 8 rows into Y8
// (inserts, as a gather is slower on processors that microcode it).
#define GWORDS(off) \
	MOVQ 0(SP), SI; \
	VMOVD off(BX)(SI*1), X8; \
	GWORD(off, 1, 1, X8); \
	GWORD(off, 2, 2, X8); \
	GWORD(off, 3, 3, X8); \
	MOVQ 32(SP), SI; \
	VMOVD off(BX)(SI*1), X9; \
	GWORD(off, 5, 1, X9); \
	GWORD(off, 6, 2, X9); \
	GWORD(off, 7, 3, X9); \
	VINSERTI128 $1, X9, Y8, Y8

// GSCALES leaves in Y6 the 8 float32 dd: the binary16 in the low words
// of Y8 (LOWORDS) or in the high ones (HIWORDS) times the activation
// scale of block CX. GDD takes them from the start of the blocks.
#define GSCALES(WORDS) \
	WORDS; \
	VPACKUSDW Y6, Y6, Y6; \
	VPERMQ $0x08, Y6, Y6; \
	VCVTPH2PS X6, Y6; \
	VBROADCASTSS (R14)(CX*4), Y3; \
	VMULPS Y3, Y6, Y6

#define LOWORDS VPAND qkg<>+0(SB), Y8, Y6
#define HIWORDS VPSRLD $16, Y8, Y6

#define GDD \
	GWORDS(0); \
	GSCALES(LOWORDS)

// GMIN adds to Y7 the 8 rows' minimum terms m*s[CX], the binary16 m the
// high words of Y8, a zero m (of either sign) adding +0 as dotLanes adds
// nothing (its sum is never -0, so +0 leaves it as it is).
#define GMIN \
	VPSRLD $16, Y8, Y3; \
	VPAND qkg<>+32(SB), Y3, Y4; \
	VPXOR Y5, Y5, Y5; \
	VPCMPEQD Y5, Y4, Y4; \
	VPACKUSDW Y3, Y3, Y3; \
	VPERMQ $0x08, Y3, Y3; \
	VCVTPH2PS X3, Y3; \
	VBROADCASTSS (R8)(CX*4), Y5; \
	VMULPS Y5, Y3, Y3; \
	VANDNPS Y3, Y4, Y3; \
	VADDPS Y3, Y7, Y7

// GROWPTR points SI at row r's block.
#define GROWPTR(r) \
	MOVQ (8*r)(SP), SI; \
	ADDQ BX, SI

// GFIRST takes row r's first block: acc[k] = fmaf(dd, lane k, +0), the 8
// accumulators float32 in the frame, a -0 product made the +0 that fmaf
// gives.
#define GFIRST(INT, r) \
	GROWPTR(r); \
	INT; \
	VCVTDQ2PS Y2, Y2; \
	VBROADCASTSS (96+4*r)(SP), Y6; \
	VXORPS Y3, Y3, Y3; \
	VFMADD213PS Y3, Y6, Y2; \
	VMOVUPS Y2, (192+32*r)(SP)

// GFMA takes row r's next block: its 8 lane sums, exact in float32,
// fused into its accumulators at 192 in the frame by its dd at 96+4r,
// rounded once, as fmaf and VFMADD231PS do. GFMAAT does it for the
// accumulators at base.
#define GLANESF(INT, r) \
	GROWPTR(r); \
	INT; \
	VCVTDQ2PS Y2, Y2; \
	VBROADCASTSS (96+4*r)(SP), Y6

#define GFMAAT(INT, r, base) \
	GLANESF(INT, r); \
	VFMADD213PS (base+32*r)(SP), Y6, Y2; \
	VMOVUPS Y2, (base+32*r)(SP)

#define GFMA(INT, r) GFMAAT(INT, r, 192)

#define GROWS(M, INT) \
	M(INT, 0); M(INT, 1); M(INT, 2); M(INT, 3); \
	M(INT, 4); M(INT, 5); M(INT, 6); M(INT, 7)

// GPAIR leaves in D, for rows r and r+1, [v0+v4, v1+v5, v2+v6, v3+v7]
// of row r in its low half and of row r+1 in its high half; T is scratch.
#define GPAIR(r, D, XD, T, XT) \
	VMOVUPS (192+32*r)(SP), XD; \
	VINSERTF128 $1, (192+32*r+32)(SP), D, D; \
	VMOVUPS (192+32*r+16)(SP), XT; \
	VINSERTF128 $1, (192+32*r+48)(SP), T, T; \
	VADDPS T, D, D

// GHSUM leaves in Y0 hsum8 of each of the 8 rows' accumulators, row r in
// element r: the pairs as GPAIR, then (a0+a2) and (a1+a3), then their sum,
// the additions of hsum8 in its order.
#define GHSUM \
	GPAIR(0, Y0, X0, Y1, X1); \
	GPAIR(2, Y2, X2, Y3, X3); \
	GPAIR(4, Y4, X4, Y5, X5); \
	GPAIR(6, Y6, X6, Y1, X1); \
	VUNPCKLPD Y2, Y0, Y1; \
	VUNPCKHPD Y2, Y0, Y3; \
	VADDPS Y3, Y1, Y0; \
	VUNPCKLPD Y6, Y4, Y1; \
	VUNPCKHPD Y6, Y4, Y3; \
	VADDPS Y3, Y1, Y4; \
	VHADDPS Y4, Y0, Y0; \
	VMOVDQU qkg<>+64(SB), Y1; \
	VPERMPS Y0, Y1, Y0

// GOFFSETS starts a group of the 8 rows (or the rows left) at R12, R11
// rows left (none: to done): their byte offsets in the frame, at 0, rows
// past the last repeating the first.
#define GOFFSETS(offs, done) \
	CMPQ R11, $0; \
	JEQ done; \
	MOVQ $8, AX; \
	CMPQ R11, AX; \
	CMOVQLT R11, AX; \
	XORQ BX, BX; \
	XORQ CX, CX; \
offs: \
	XORQ SI, SI; \
	CMPQ BX, AX; \
	CMOVQLT CX, SI; \
	MOVQ SI, 0(SP)(BX*8); \
	ADDQ R13, CX; \
	INCQ BX; \
	CMPQ BX, $8; \
	JLT offs

// GSTORE stores the group's results, row r in element r of Y0 (through
// the frame at 448 for a short last group), steps to the next group and
// goes back to grp; done ends the kernel.
#define GSTORE(grp, tcopy, tloop, next, done) \
	MOVQ $8, AX; \
	CMPQ R11, AX; \
	CMOVQLT R11, AX; \
	CMPQ AX, $8; \
	JNE tcopy; \
	VMOVUPS Y0, (DX); \
	JMP next; \
tcopy: \
	VMOVUPS Y0, 448(SP); \
	XORQ BX, BX; \
tloop: \
	MOVL 448(SP)(BX*4), SI; \
	MOVL SI, (DX)(BX*4); \
	INCQ BX; \
	CMPQ BX, AX; \
	JLT tloop; \
next: \
	LEAQ (DX)(AX*4), DX; \
	SUBQ AX, R11; \
	IMULQ R13, AX; \
	ADDQ AX, R12; \
	JMP grp; \
done: \
	VZEROUPPER; \
	RET

// SQ4_0: sum = fma32(float32(s), dd, sum) in each lane, the sums s in Y0,
// the dd in Y6, the 8 rows' sums float64 (rows 0-3 in Y11, 4-7 in Y12)
// rounded to float32 at each step; SFINQ4_0 leaves the 8 results in Y0.
#define SQ4_0 \
	VCVTDQ2PD X0, Y1; \
	VEXTRACTI128 $1, Y0, X0; \
	VCVTDQ2PD X0, Y0; \
	VCVTPS2PD X6, Y2; \
	VEXTRACTF128 $1, Y6, X6; \
	VCVTPS2PD X6, Y6; \
	VMULPD Y2, Y1, Y1; \
	VMULPD Y6, Y0, Y0; \
	VADDPD Y1, Y11, Y11; \
	VADDPD Y0, Y12, Y12; \
	VCVTPD2PSY Y11, X11; \
	VCVTPD2PSY Y12, X12; \
	VCVTPS2PD X11, Y11; \
	VCVTPS2PD X12, Y12

#define SFINQ4_0 \
	VCVTPD2PSY Y11, X0; \
	VCVTPD2PSY Y12, X1; \
	VINSERTF128 $1, X1, Y0, Y0

// Q6TREE leaves in Y0 the 8 rows' sums of the lanes at 192 in the frame.
#define Q6TREE \
	VMOVDQU 192(SP), Y0; \
	VPHADDD 224(SP), Y0, Y0; \
	VMOVDQU 256(SP), Y1; \
	VPHADDD 288(SP), Y1, Y1; \
	VPHADDD Y1, Y0, Y0; \
	VMOVDQU 320(SP), Y1; \
	VPHADDD 352(SP), Y1, Y1; \
	VMOVDQU 384(SP), Y2; \
	VPHADDD 416(SP), Y2, Y2; \
	VPHADDD Y2, Y1, Y1; \
	VPERM2I128 $0x20, Y1, Y0, Y6; \
	VPERM2I128 $0x31, Y1, Y0, Y7; \
	VPADDD Y7, Y6, Y0

// LANEPTRS loads the arguments of a lane kernel.
#define LANEPTRS \
	MOVQ w+0(FP), R12; \
	MOVQ stride+8(FP), R13; \
	MOVQ y+16(FP), R9; \
	MOVQ yd+24(FP), R14; \
	MOVQ ys+32(FP), R8; \
	MOVQ nb+40(FP), R10; \
	MOVQ out+48(FP), DX; \
	MOVQ rows+56(FP), R11

// GKERNEL is the body of a group lane kernel for blocks of SIZE bytes whose
// integer part is INT; MIN, once per block, is GMIN for the types with a
// minimum, whose sums TAIL (ADDMINS) adds, Q5OFF for Q5_0, or NOMIN (the
// VNNI kernels add their own steps). LANEARGS, each file's own, loads the
// arguments and the constants. The labels are the kernel's own.
#define GKERNEL(INT, SIZE, MIN, TAIL, grp, offs, blk, tail, tcopy, tloop, next, done) \
	LANEARGS; \
grp: \
	GOFFSETS(offs, done); \
	VXORPS Y7, Y7, Y7; \
	MOVQ R12, BX; \
	MOVQ R9, DI; \
	XORQ CX, CX; \
	GDD; \
	VMOVUPS Y6, 96(SP); \
	MIN; \
	GROWS(GFIRST, INT); \
	ADDQ $SIZE, BX; \
	ADDQ $32, DI; \
	INCQ CX; \
blk: \
	CMPQ CX, R10; \
	JEQ tail; \
	GDD; \
	VMOVUPS Y6, 96(SP); \
	MIN; \
	GROWS(GFMA, INT); \
	ADDQ $SIZE, BX; \
	ADDQ $32, DI; \
	INCQ CX; \
	JMP blk; \
tail: \
	GHSUM; \
	TAIL; \
	GSTORE(grp, tcopy, tloop, next, done)

#define ADDMINS VADDPS Y7, Y0, Y0
#define NOMIN

// Q6SCALE ends a half of a Q6_K block (Q6HALF, VQ6HALF): the four
// quarters' 8 lane sums in Y4-Y7 added into 16-value group sums, times the
// scales at sc(SI) into Y8, and the scales times the activation group
// sums at bs into Y9 (Y12 holds the dword order, Y3 and Y5 are scratch).
#define Q6SCALE(sc, bs) \
	VPHADDD Y5, Y4, Y4; \
	VPHADDD Y7, Y6, Y6; \
	VPHADDD Y6, Y4, Y4; \
	VPMOVSXBD sc(SI), Y3; \
	VPMULLD bs, Y3, Y5; \
	VPADDD Y5, Y9, Y9; \
	VPERMD Y3, Y12, Y3; \
	VPMULLD Y3, Y4, Y4; \
	VPADDD Y4, Y8, Y8

// GBEGIN opens an 8-row group of the kernels that keep two float
// accumulators (Y11, Y12): the group's row offsets (GOFFSETS), the
// accumulators cleared, the block pointers at the first block, and the
// block loop's test, which goes to tail after the last block.
#define GBEGIN(grp, offs, done, blk, tail) \
grp: \
	GOFFSETS(offs, done); \
	VXORPS Y11, Y11, Y11; \
	VXORPS Y12, Y12, Y12; \
	MOVQ R12, BX; \
	MOVQ R9, DI; \
	XORQ CX, CX; \
blk: \
	CMPQ CX, R10; \
	JEQ tail
