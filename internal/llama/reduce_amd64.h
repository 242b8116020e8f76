// HSUM4 sets X0's low lane to the sum of its four float32 lanes, upper
// pair onto lower, then the last two: the tail every reduction below
// shares. X1 is scratch.
#define HSUM4 \
	VMOVHLPS X0, X0, X1; \
	VADDPS X1, X0, X0; \
	VMOVSHDUP X0, X1; \
	VADDSS X1, X0, X0

// REDUCE16 sets X0's low lane to reduce16 of the 16 float32 in lo (0-7)
// and hi (8-15): halves, then quarters, then eighths, then the last pair,
// as _mm512_reduce_add_ps adds them. X1 is scratch.
#define REDUCE16(hi, lo) \
	VADDPS hi, lo, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS X1, X0, X0; \
	HSUM4

// HSUMI sets X's low lane (X is Y's low half) to the sum of Y's eight int32
// lanes; T is scratch. Integer sums are exact in any order.
#define HSUMI(Y, X, T) \
	VEXTRACTI128 $1, Y, T; \
	VPADDD T, X, X; \
	VPSHUFD $0x4E, X, T; \
	VPADDD T, X, X; \
	VPSHUFD $0xB1, X, T; \
	VPADDD T, X, X

// KQARGS loads the arguments of a K-quant whole-matrix kernel, func(w
// *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out
// *float32, rows int): rows from R12, R13 bytes apart, R10 blocks each;
// the activations at R9, their scales at R14 and sums at R8; results to
// DX, R11 rows.
#define KQARGS \
	MOVQ w+0(FP), R12; \
	MOVQ stride+8(FP), R13; \
	MOVQ y+16(FP), R9; \
	MOVQ yd+24(FP), R14; \
	MOVQ bsums+32(FP), R8; \
	MOVQ nb+40(FP), R10; \
	MOVQ out+48(FP), DX; \
	MOVQ rows+56(FP), R11
