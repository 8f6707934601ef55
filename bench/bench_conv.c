/* bench/bench_conv.c - quant_conv2d on the demo model's two convolutions
 * (and a few other small-K first layers), uint8 in, uint8 out through the
 * runner's epilogue (per-channel float requantization, ReLU as the clamp),
 * random data: median microseconds per image over rounds.
 *
 *   cc -std=c99 -O3 -march=native -I. bench/bench_conv.c -o build/bench_conv -lm
 *   build/bench_conv [batch 64] [rounds 31] [shape index: only that one]
 *
 * Built with -DQUANT_NO_DCONV it times the im2col + GEMM path that the
 * direct small-K convolution (section 4) replaced: run both, alternated. */
#define _POSIX_C_SOURCE 199309L
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"
#include <stdio.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
static uint32_t rng = 12345u;
static uint32_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }

int main(int argc, char **argv) {
    static const size_t sh[][8] = { /* h, w, c, out_c, k, stride, pad, a_max */
        { 28, 28, 1, 32, 3, 1, 1, 255 }, { 14, 14, 32, 64, 3, 1, 1, 255 }, { 14, 14, 32, 64, 3, 1, 1, 127 }, { 14, 14, 32, 64, 3, 1, 1, 20 },
        { 28, 28, 1, 16, 5, 1, 2, 255 }, { 32, 32, 3, 32, 3, 1, 1, 255 }, { 32, 32, 3, 16, 3, 2, 1, 255 } };
    const size_t batch = argc > 1 ? (size_t)atoi(argv[1]) : 64;
    const int rounds = argc > 2 ? atoi(argv[2]) : 31, only = argc > 3 ? atoi(argv[3]) : -1;
    size_t i, j;
    printf("quant_conv2d, %s%s, batch %zu, median us per image over %d rounds\n", quant_isa_name(),
#if defined(QUANT_NO_DCONV)
           " (QUANT_NO_DCONV: im2col + GEMM)",
#else
           "",
#endif
           batch, rounds);
    for (i = 0; i < sizeof sh / sizeof *sh; i++) {
        quant_conv_shape s;
        quant_epilogue ep;
        quant_requant rq[256];
        int32_t bias[256];
        size_t oh, ow, nin, nw, P, wsb;
        uint8_t *in, *out, *ws;
        int8_t *w;
        void *pk;
        double *t = (double *)malloc(sizeof(double) * (size_t)rounds);
        int r;
        if (only >= 0 && (size_t)only != i) continue;
        memset(&s, 0, sizeof s);
        s.batch = batch; s.in_h = sh[i][0]; s.in_w = sh[i][1]; s.in_c = sh[i][2]; s.out_c = sh[i][3];
        s.k_h = s.k_w = sh[i][4]; s.stride_h = s.stride_w = sh[i][5]; s.dil_h = s.dil_w = 1;
        s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = sh[i][6];
        if (quant_conv_out_size(&s, &oh, &ow) != QUANT_OK) return 1;
        P = batch * oh * ow; nin = batch * s.in_h * s.in_w * s.in_c; nw = s.out_c * s.k_h * s.k_w * s.in_c;
        in = (uint8_t *)malloc(nin); w = (int8_t *)malloc(nw); out = (uint8_t *)malloc(P * s.out_c);
        for (j = 0; j < nin; j++) /* a_max 20: 2% of the bytes 128..255, the rest 0..127 (the demo's conv2 input) */
            in[j] = sh[i][7] == 20 ? (uint8_t)(rnd() % 50 ? rnd() % 128 : 128 + rnd() % 128) : (uint8_t)(rnd() % (sh[i][7] + 1));
        for (j = 0; j < nw; j++) w[j] = (int8_t)((int)(rnd() % 255) - 127);
        for (j = 0; j < s.out_c; j++) {
            quant_requant_from_scale(0.0005 + 0.001 * (rnd() % 100) / 100.0, &rq[j]);
            bias[j] = (int32_t)(rnd() % 2001) - 1000;
        }
        memset(&ep, 0, sizeof ep);
        ep.out = QUANT_OUT_U8; ep.mode = QUANT_RQ_FP32; ep.rq = rq; ep.per_channel = 1; ep.bias_i32 = bias;
        ep.out_zp = 0; ep.out_min = 0; ep.out_max = 255;
        pk = malloc(quant_conv2d_pack_size(&s));
        wsb = quant_conv2d_workspace_size(&s);
        ws = (uint8_t *)malloc(wsb + 1);
        if (quant_conv2d_pack(w, &s, 0, pk, quant_conv2d_pack_size(&s)) != QUANT_OK) return 1;
        for (r = -2; r < rounds; r++) {
            double t0 = now();
            if (quant_conv2d(&s, in, 0, 3, pk, &ep, out, ws, wsb) != QUANT_OK) return 1;
            if (r >= 0) t[r] = now() - t0;
        }
        qsort(t, (size_t)rounds, sizeof(double), cmpd);
        printf("  %2zux%2zux%2zu -> %3zu, k %zu, stride %zu, K %3zu, activations %s: %8.2f us  (%.1f GOPS)\n",
               s.in_h, s.in_w, s.in_c, s.out_c, s.k_h, s.stride_h, s.k_h * s.k_w * s.in_c,
               sh[i][7] == 255 ? "0..255   " : sh[i][7] == 127 ? "0..127   " : "2% > 127",
               t[rounds / 2] / (double)batch * 1e6, 2.0 * (double)P * (double)s.out_c * (double)(s.k_h * s.k_w * s.in_c) / t[rounds / 2] * 1e-9);
        free(in); free(w); free(out); free(ws); free(pk); free(t);
    }
    return 0;
}
