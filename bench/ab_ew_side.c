/* bench/ab_ew_side.c - one side of bench/ab_ew.c: quant_kernels.h from the
 * include path, every definition static (QUANT_STATIC), wrappers prefixed
 * with PFX (base_ or tree_) so that two versions link into one program:
 * section 8's add / mul / broadcast mul / requantize and section 7's int4
 * GEMM. */
#define QUANT_STATIC
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"
#include <stdlib.h>

#define AB_CAT2(a, b) a##b
#define AB_CAT(a, b) AB_CAT2(a, b)

/* kind 0 add, 1 mul, 2 mul with a [64] operand, 3 requantize */
void AB_CAT(PFX, ew)(int kind, int i8, const uint8_t *a, const uint8_t *b, size_t n, uint8_t *out) {
    const quant_dtype dt = i8 ? QUANT_I8 : QUANT_U8;
    const int32_t lo = i8 ? -128 : 0, hi = i8 ? 127 : 255;
    quant_params pa, pb, po;
    quant_add_params ap;
    quant_mul_params mp;
    pa.qmin = pb.qmin = po.qmin = lo; pa.qmax = pb.qmax = po.qmax = hi;
    pa.scale = 0.0421f; pa.zero_point = lo + 131; /* bench_elementwise's operands */
    pb.scale = 0.0173f; pb.zero_point = lo + 97;
    po.scale = 0.0502f; po.zero_point = lo + 120;
    if (quant_add_prepare(&pa, &pb, &po, QUANT_ACT_RELU, &ap) != QUANT_OK) abort();
    pb.scale = 1.0f / 256; pb.zero_point = lo;
    if (quant_mul_prepare(&pa, &pb, &po, QUANT_ACT_NONE, &mp) != QUANT_OK) abort();
    switch (kind) {
    case 0: if (quant_add_k(a, b, n, dt, &ap, out) != QUANT_OK) abort(); break;
    case 1: if (quant_mul_k(a, b, n, dt, &mp, out) != QUANT_OK) abort(); break;
    case 2: if (quant_mul_bc_k(a, b, n, 64, dt, &mp, out) != QUANT_OK) abort(); break;
    default: if (quant_requantize_params_k(a, dt, &pa, n, &po, dt, out) != QUANT_OK) abort();
    }
}

/* W (N x K, -8..7) and its scales packed into a new buffer */
void *AB_CAT(PFX, q4pack)(const int8_t *W, const float *sc, size_t K, size_t N) {
    const size_t bytes = quant_gemm_q4_pack_size(K, N);
    void *p = malloc(bytes);
    if (!p || quant_gemm_q4_pack(W, sc, K, N, p, bytes) != QUANT_OK) abort();
    return p;
}

/* C = the int4 GEMM of M rows (uint8, zero point 128), out 0 f32, 1 u8 */
void AB_CAT(PFX, q4)(size_t M, const uint8_t *A, size_t K, const void *packed, size_t N, int out, void *C) {
    quant_q4_epilogue ep;
    float as = 0.01f;
    memset(&ep, 0, sizeof ep);
    ep.out = out ? QUANT_OUT_U8 : QUANT_OUT_F32; ep.a_scale = &as;
    ep.out_inv = 7.0f; ep.out_zp = 3; ep.out_min = 0; ep.out_max = 255;
    if (quant_gemm_q4(M, A, 0, K, 128, packed, &ep, C, N) != QUANT_OK) abort();
}
