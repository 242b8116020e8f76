// REDUCE16 sets X0's low lane to reduce16 of the 16 float32 in lo (0-7)
// and hi (8-15): halves, then quarters, then eighths, then the last pair,
// as _mm512_reduce_add_ps adds them. X1 is scratch.
#define REDUCE16(hi, lo) \
	VADDPS hi, lo, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS X1, X0, X0; \
	VMOVHLPS X0, X0, X1; \
	VADDPS X1, X0, X0; \
	VMOVSHDUP X0, X1; \
	VADDSS X1, X0, X0
