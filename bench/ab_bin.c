/* bench/ab_bin.c - one side of the A/B benchmark of the binary / ternary
 * kernels of quant_kernels.h section 5 (bench/ab_bin.h, bench/ab_bin.sh):
 * GEMM of each operand kind (binary, ternary activations, ternary weights,
 * ternary x ternary), few rows (the word panels), GEMV, BWN and binary conv. */
#include "ab_bin.h"

static const size_t N = 1024, K = 4096 - 40;
static size_t wk;
static uint64_t *as, *az, *cin;
static int32_t *C, *cout;
static int8_t *A8;
static void *pkb, *pkt, *cpk, *cws;
static size_t cwsb;
static quant_bepilogue ep = { QUANT_BOUT_I32, NULL, NULL, NULL, NULL };
static quant_conv_shape cs = { 1, 28, 28, 256, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 };
static const char *const names[] = { "bgemm_bb_M256", "bgemm_tb_M256", "bgemm_bt_M256", "bgemm_tt_M256", "bgemm_bb_M3",
                                     "bgemm_tt_M3", "bgemv_bb_M1", "bgemm_i8_M16", "bconv_3x3_28x28x256" };

static uint64_t *bits(size_t n) { uint64_t *p = (uint64_t *)malloc(n * 8); size_t i; for (i = 0; i < n; i++) p[i] = rnd(); return p; }

void AB_FN(init)(void) {
    size_t pb = quant_bgemm_pack_size(K, N, 0), pt = quant_bgemm_pack_size(K, N, 1), i, cpb;
    uint64_t *ws, *wz, *cw;
    wk = quant_bits_words(K);
    ws = bits(N * wk); wz = bits(N * wk); as = bits(256 * wk); az = bits(256 * wk);
    C = (int32_t *)malloc(256 * N * 4);
    pkb = malloc(pb); pkt = malloc(pt);
    A8 = (int8_t *)malloc(64 * K);
    for (i = 0; i < 64 * K; i++) A8[i] = (int8_t)rnd();
    if (quant_bgemm_pack(ws, NULL, N, K, pkb, pb) || quant_bgemm_pack(ws, wz, N, K, pkt, pt)) abort();
    cpb = quant_bconv2d_pack_size(&cs); cwsb = quant_bconv2d_workspace_size(&cs);
    cpk = malloc(cpb); cws = malloc(cwsb);
    cw = bits(256 * 9 * 4); cin = bits(28 * 28 * 4);
    cout = (int32_t *)malloc(28 * 28 * 256 * 4);
    if (quant_bconv2d_pack(cw, &cs, cpk, cpb)) abort();
}
int AB_FN(ncases)(void) { return (int)(sizeof names / sizeof *names); }
const char *AB_FN(name)(int i) { return names[i]; }
void AB_FN(run)(int i) {
    quant_status st = QUANT_OK;
    switch (i) {
    case 0: st = quant_bgemm(256, as, NULL, wk, pkb, &ep, C, N); break;
    case 1: st = quant_bgemm(256, as, az, wk, pkb, &ep, C, N); break;
    case 2: st = quant_bgemm(256, as, NULL, wk, pkt, &ep, C, N); break;
    case 3: st = quant_bgemm(256, as, az, wk, pkt, &ep, C, N); break;
    case 4: st = quant_bgemm(3, as, NULL, wk, pkb, &ep, C, N); break;
    case 5: st = quant_bgemm(3, as, az, wk, pkt, &ep, C, N); break;
    case 6: st = quant_bgemm(1, as, NULL, wk, pkb, &ep, C, N); break;
    case 7: st = quant_bgemm_i8(16, A8, 1, K, 3, pkb, &ep, C, N); break;
    case 8: st = quant_bconv2d(&cs, cin, QUANT_PAD_ZERO, cpk, &ep, cout, cws, cwsb); break;
    }
    if (st != QUANT_OK) abort();
}
