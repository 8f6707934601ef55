/* bench/ab_bin.c - the binary / ternary kernels of quant_kernels.h section 5
 * timed per case (median of repeats, one line "case microseconds" each),
 * for A/B runs of two builds (bench/ab_bin.sh; bench/ab_bin.h). Shapes: GEMM (binary,
 * ternary activations, ternary weights, ternary x ternary), few rows (the
 * word panels), GEMV, BWN and binary conv. */
#include "ab_bin.h"

static uint64_t *bits(size_t n) { uint64_t *p = (uint64_t *)malloc(n * 8); size_t i; for (i = 0; i < n; i++) p[i] = rnd(); return p; }

int main(void) {
    const size_t N = 1024, K = 4096 - 40, wk = quant_bits_words(K);
    uint64_t *ws = bits(N * wk), *wz = bits(N * wk), *as = bits(256 * wk), *az = bits(256 * wk);
    int32_t *C = (int32_t *)malloc(256 * N * 4);
    quant_bepilogue ep = { QUANT_BOUT_I32, NULL, NULL, NULL, NULL };
    size_t pb = quant_bgemm_pack_size(K, N, 0), pt = quant_bgemm_pack_size(K, N, 1);
    void *pkb = malloc(pb), *pkt = malloc(pt);
    int8_t *A8 = (int8_t *)malloc(64 * K);
    size_t i;
    for (i = 0; i < 64 * K; i++) A8[i] = (int8_t)rnd();
    quant_bgemm_pack(ws, NULL, N, K, pkb, pb);
    quant_bgemm_pack(ws, wz, N, K, pkt, pt);
    printf("isa %s\n", quant_isa_name());
    TIME("bgemm_bb_M256", 7, quant_bgemm(256, as, NULL, wk, pkb, &ep, C, N));
    TIME("bgemm_tb_M256", 7, quant_bgemm(256, as, az, wk, pkb, &ep, C, N));
    TIME("bgemm_bt_M256", 7, quant_bgemm(256, as, NULL, wk, pkt, &ep, C, N));
    TIME("bgemm_tt_M256", 7, quant_bgemm(256, as, az, wk, pkt, &ep, C, N));
    TIME("bgemm_bb_M3", 15, quant_bgemm(3, as, NULL, wk, pkb, &ep, C, N));
    TIME("bgemm_tt_M3", 15, quant_bgemm(3, as, az, wk, pkt, &ep, C, N));
    TIME("bgemv_bb_M1", 31, quant_bgemm(1, as, NULL, wk, pkb, &ep, C, N));
    TIME("bgemm_i8_M16", 7, quant_bgemm_i8(16, A8, 1, K, 3, pkb, &ep, C, N));
    {
        quant_conv_shape s = { 1, 28, 28, 256, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 };
        size_t cpb = quant_bconv2d_pack_size(&s), cws = quant_bconv2d_workspace_size(&s);
        void *cpk = malloc(cpb), *cw = malloc(cws);
        uint64_t *w = bits(256 * 9 * 4), *in = bits(28 * 28 * 4);
        int32_t *out = (int32_t *)malloc(28 * 28 * 256 * 4);
        quant_bconv2d_pack(w, &s, cpk, cpb);
        TIME("bconv_3x3_28x28x256", 7, quant_bconv2d(&s, in, QUANT_PAD_ZERO, cpk, &ep, out, cw, cws));
    }
    return 0;
}
