/* bench/bench_binary.c - binary and ternary kernels against this machine's
 * own ceilings, measured in the same run: an in-register XOR + popcount +
 * add loop (the binary MAC peak the kernels could reach) and a streaming
 * read (GEMV is bandwidth-bound). Medians of repeated runs, one thread. */
#define _POSIX_C_SOURCE 199309L
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
#define MEDIAN(reps, expr) do { double ts_[64]; int r_; for (r_ = 0; r_ < (reps); r_++) { double t0_ = now(); expr; ts_[r_] = now() - t0_; } \
    qsort(ts_, (size_t)(reps), sizeof(double), cmpd); med = ts_[(reps) / 2]; } while (0)

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

/* the kernels' own vector ops, in registers: 8 independent chains */
static double popcnt_peak(void) {
    quant__bv acc[8], a = quant__bv_set1(rnd()), b = quant__bv_set1(rnd());
    double med;
    long i, n = 20000000;
    int k;
    uint64_t out[QUANT__BW];
    for (k = 0; k < 8; k++) acc[k] = quant__bv_zero();
    MEDIAN(5, {
        for (i = 0; i < n; i++) {
            for (k = 0; k < 8; k++) acc[k] = quant__bv_pcadd(acc[k], quant__bv_xor(a, b));
            a = quant__bv_xor(a, b); /* keep the inputs live */
        }
    });
    for (k = 1; k < 8; k++) acc[0] = quant__bv_xor(acc[0], acc[k]);
    quant__bv_store(out, acc[0]);
    if (out[0] == 12345) printf(" ");
    return 8.0 * n * 64 * QUANT__BW / med / 1e9;
}

static double bgemm_rate(size_t M, size_t N, size_t K, int ta, int tw, int reps) {
    size_t wk = quant_bits_words(K), i, bytes = quant_bgemm_pack_size(K, N, tw);
    uint64_t *as = (uint64_t *)malloc(8 * M * wk), *az = (uint64_t *)malloc(8 * M * wk);
    uint64_t *ws = (uint64_t *)malloc(8 * N * wk), *wz = (uint64_t *)malloc(8 * N * wk);
    int32_t *C = (int32_t *)malloc(4 * M * N);
    void *pk = malloc(bytes);
    quant_bepilogue ep;
    double med;
    memset(&ep, 0, sizeof ep);
    for (i = 0; i < M * wk; i++) { as[i] = rnd(); az[i] = rnd(); }
    for (i = 0; i < N * wk; i++) { ws[i] = rnd(); wz[i] = rnd(); }
    quant_bgemm_pack(ws, tw ? wz : NULL, N, K, pk, bytes);
    MEDIAN(reps, quant_bgemm(M, as, ta ? az : NULL, wk, pk, &ep, C, N));
    free(as); free(az); free(ws); free(wz); free(C); free(pk);
    return (double)M * N * K / med / 1e9;
}

int main(void) {
    double peak, med;
    printf("binary / ternary kernels, %s build, popcount: %s, one thread, medians\n\n", quant_isa_name(), QUANT__POPCNT_NAME);
    peak = popcnt_peak();
    printf("  %-52s %9.0f G binary MAC/s\n", "in-register XOR + popcount + add loop (ceiling)", peak);
    {
        double r = bgemm_rate(1024, 1024, 4096, 0, 0, 9);
        printf("  %-52s %9.0f G binary MAC/s  (%.0f%% of the loop)\n", "binary x binary GEMM M=N=1024, K=4096 bits", r, 100 * r / peak);
        double t = bgemm_rate(1024, 1024, 4096, 1, 1, 9);
        printf("  %-52s %9.0f G MAC/s  (%.2fx binary)\n", "ternary x ternary GEMM, same shape", t, t / r);
        double tb = bgemm_rate(1024, 1024, 4096, 1, 0, 9);
        printf("  %-52s %9.0f G MAC/s  (%.2fx binary)\n", "ternary x binary GEMM, same shape", tb, tb / r);
        double g = bgemm_rate(1, 4096, 4096, 0, 0, 31);
        printf("  %-52s %9.0f G binary MAC/s = %.1f GB/s of packed weights\n", "binary GEMV M=1, N=4096, K=4096 bits (2 MiB)", g, g / 8);
        {   /* streaming read of 2 MiB, for the GEMV's bound */
            size_t n = (2u << 20) / 8, i;
            uint64_t *b = (uint64_t *)malloc(n * 8), s = 0;
            for (i = 0; i < n; i++) b[i] = rnd();
            MEDIAN(31, { for (i = 0; i < n; i++) s += b[i]; __asm__ volatile("" : "+r"(s)); });
            printf("  %-52s %9.1f GB/s  (GEMV at %.0f%% of it)\n", "  streaming read of 2 MiB (the same run)", (double)n * 8 / med / 1e9,
                   100 * (g / 8) / ((double)n * 8 / med / 1e9));
            free(b);
        }
        {   /* binary conv2d 3x3, 56x56x256 -> 256 */
            quant_conv_shape s;
            size_t oh, ow, wc, taps, bytes, wsb, i;
            uint64_t *in, *w;
            int32_t *out;
            void *pk, *ws;
            quant_bepilogue ep;
            memset(&s, 0, sizeof s); memset(&ep, 0, sizeof ep);
            s.batch = 1; s.in_h = s.in_w = 56; s.in_c = 256; s.out_c = 256; s.k_h = s.k_w = 3;
            s.stride_h = s.stride_w = s.dil_h = s.dil_w = 1; s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = 1;
            quant_conv_out_size(&s, &oh, &ow);
            wc = quant_bits_words(256); taps = 9;
            in = (uint64_t *)malloc(8 * 56 * 56 * wc); w = (uint64_t *)malloc(8 * 256 * taps * wc);
            out = (int32_t *)malloc(4 * oh * ow * 256);
            for (i = 0; i < 56 * 56 * wc; i++) in[i] = rnd();
            for (i = 0; i < 256 * taps * wc; i++) w[i] = rnd();
            bytes = quant_bconv2d_pack_size(&s); wsb = quant_bconv2d_workspace_size(&s);
            pk = malloc(bytes); ws = malloc(wsb);
            quant_bconv2d_pack(w, &s, pk, bytes);
            MEDIAN(7, quant_bconv2d(&s, in, QUANT_PAD_ZERO, pk, &ep, out, ws, wsb));
            {
                double c = (double)oh * ow * 256 * 9 * 256 / med / 1e9;
                printf("  %-52s %9.0f G binary MAC/s  (%.0f%% of the GEMM rate)\n", "binary conv2d 3x3 56x56x256 -> 256, zero padding", c, 100 * c / r);
            }
            free(in); free(w); free(out); free(pk); free(ws);
        }
    }
    return 0;
}
