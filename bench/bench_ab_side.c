/* bench/bench_ab_side.c - one side of bench_ab: quant's GEMM compiled from the
 * quant_kernels.h on the include path, every definition static
 * (QUANT_STATIC), its entry points prefixed with PFX (base_ or tree_) so that
 * two versions link into one program. */
#define QUANT_STATIC
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"
#include <stdlib.h>

#define AB_CAT2(a, b) a##b
#define AB_CAT(a, b) AB_CAT2(a, b)

/* W (N x K, int8) packed into a new buffer */
void *AB_CAT(PFX, pack)(const int8_t *W, size_t K, size_t N) {
    size_t bytes = quant_gemm_pack_size(K, N);
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p || quant_gemm_pack(W, QUANT_LAYOUT_NK, K, N, 0, p, bytes) != QUANT_OK) abort();
    return p;
}

/* C = (A - 128) W^T: int32 out, or (i8) int8 out through the float
 * requantization with the given scale */
void AB_CAT(PFX, run)(size_t M, const uint8_t *A, size_t K, size_t N, const void *packed, void *C, int i8, float scale) {
    quant_epilogue ep;
    quant_requant rq;
    memset(&ep, 0, sizeof ep);
    ep.out = QUANT_OUT_I32;
    if (i8) {
        if (quant_requant_from_scale(scale, &rq) != QUANT_OK) abort();
        ep.out = QUANT_OUT_I8; ep.mode = QUANT_RQ_FP32; ep.rq = &rq;
        ep.out_zp = 0; ep.out_min = -128; ep.out_max = 127;
    }
    if (quant_gemm(M, A, 0, K, 128, packed, &ep, C, N) != QUANT_OK) abort();
}
