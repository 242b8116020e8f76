package llama

// Whole-matrix kernels of kquant_amd64.s for the K-quants that
// quant_amd64.s does not cover, and IQ4_XS; each gives its portable
// kernel's bits (dotQ2_K, dotQ3_K, dotQ5_K, dotIQ4XS). w points at the
// first row's first block, rows lie stride bytes apart, each of nb blocks;
// y, yd and bsums are the Q8_K activations, their blocks' scales and their
// sums of 16.

//go:noescape
func matQ2_KAVX2(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int)

//go:noescape
func matQ3_KAVX2(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int)

//go:noescape
func matQ5_KAVX2(w *byte, stride int, y *int8, yd *float32, bsums *int32, nb int, out *float32, rows int)

//go:noescape
func matIQ4XSAVX2(w *byte, stride int, table *[16]int8, y *int8, yd *float32, nb int, out *float32, rows int)

// quantQ8KAVX2 is quantizeQ8K for nb blocks of 256 finite values. It
// returns false, having stopped, at a block with a NaN or an infinity or
// one whose values are all below 127/MaxFloat32 in magnitude (iscale
// infinite), which the portable quantizer then handles.
//
//go:noescape
func quantQ8KAVX2(x *float32, nb int, qs *int8, d *float32, bsums *int32) bool
