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

/* the binary kernels' vector layer (quant_kernels.h section 1.1, static
 * inline): a vector of BW 64-bit lanes, and how its popcount is done */
#define BW ((int)(sizeof(quant__vi) / 8))
#if defined(QUANT_HAS_AVX512VPOPCNTDQ)
#  define POPCNT_NAME "vpopcntq"
#elif defined(QUANT_HAS_SSE41)
#  define POPCNT_NAME "nibble-lut"
#elif defined(QUANT_HAS_NEON)
#  define POPCNT_NAME "vcnt"
#else
#  define POPCNT_NAME "scalar"
#endif

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
#define MEDIAN(reps, ...) do { double ts_[128]; int r_; for (r_ = 0; r_ < (reps); r_++) { double t0_ = now(); __VA_ARGS__; ts_[r_] = now() - t0_; } \
    qsort(ts_, (size_t)(reps), sizeof(double), cmpd); med = ts_[(reps) / 2]; } while (0)

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

/* the kernels' own vector ops: 12 independent accumulators in registers,
 * each fed XOR(activation, weight) -> popcount -> add every iteration; the
 * 12 weight vectors are loaded from L1 (as the kernels do, and so that the
 * compiler cannot fold the uniform inputs), the activation changes every
 * iteration. On the VPOPCNTDQ build that is the in-register XOR +
 * VPOPCNTQ + VPADDQ loop. */
static double popcnt_peak(void) {
    static uint64_t wv[12 * BW], av[16 * BW];
    double med;
    long i, n = 4000000;
    uint64_t out[BW];
    int k;
    for (k = 0; k < 12 * BW; k++) wv[k] = rnd();
    for (k = 0; k < 16 * BW; k++) av[k] = rnd();
    {
#define R12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define DECL(k) quant__vi acc##k = quant__vi_zero();
#define STEP(k) acc##k = quant__vi_pcadd(acc##k, quant__vi_xor(a, quant__vi_load(wv + k * BW)));
#define RED(k) acc0 = quant__vi_xor(acc0, acc##k);
        R12(DECL)
        MEDIAN(7, {
            for (i = 0; i < n; i++) {
                const quant__vi a = quant__vi_load(av + (size_t)(i & 15) * BW);
                R12(STEP)
            }
        });
        R12(RED)
        quant__vi_store(out, acc0);
#undef R12
#undef DECL
#undef STEP
#undef RED
    }
    if (out[0] == 12345) printf(" ");
    return 12.0 * n * 64 * BW / med / 1e9;
}

/* BWN: int8 activations x binary weights, G MAC/s */
static double bwn_rate(size_t M, size_t N, size_t K, int reps) {
    size_t wk = quant_bits_words(K), i, bytes = quant_bgemm_pack_size(K, N, 0);
    uint8_t *A = (uint8_t *)malloc(M * K);
    uint64_t *ws = (uint64_t *)malloc(8 * N * wk);
    int32_t *C = (int32_t *)malloc(4 * M * N);
    void *pk = malloc(bytes);
    quant_bepilogue ep;
    double med;
    memset(&ep, 0, sizeof ep);
    for (i = 0; i < M * K; i++) A[i] = (uint8_t)rnd();
    for (i = 0; i < N * wk; i++) ws[i] = rnd();
    quant_bgemm_pack(ws, NULL, N, K, pk, bytes);
    MEDIAN(reps, quant_bgemm_i8(M, A, 1, K, 3, pk, &ep, C, N));
    free(A); free(ws); free(C); free(pk);
    return (double)M * N * K / med / 1e9;
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

/* GB/s of a streaming read of `bytes` (vector loads, 8 chains), warm */
static double read_gbs(size_t bytes, int reps) {
    size_t n = bytes / 8, i;
    uint64_t *b = (uint64_t *)malloc(n * 8), s = 0, o[BW];
    double med;
    for (i = 0; i < n; i++) b[i] = rnd();
    MEDIAN(reps, {
        quant__vi x0 = quant__vi_zero(), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0, x6 = x0, x7 = x0;
        for (i = 0; i < n; i += 8 * BW) {
            x0 = quant__vi_xor(x0, quant__vi_load(b + i));
            x1 = quant__vi_xor(x1, quant__vi_load(b + i + BW));
            x2 = quant__vi_xor(x2, quant__vi_load(b + i + 2 * BW));
            x3 = quant__vi_xor(x3, quant__vi_load(b + i + 3 * BW));
            x4 = quant__vi_xor(x4, quant__vi_load(b + i + 4 * BW));
            x5 = quant__vi_xor(x5, quant__vi_load(b + i + 5 * BW));
            x6 = quant__vi_xor(x6, quant__vi_load(b + i + 6 * BW));
            x7 = quant__vi_xor(x7, quant__vi_load(b + i + 7 * BW));
        }
        x0 = quant__vi_xor(quant__vi_xor(x0, x1), quant__vi_xor(x2, x3));
        x4 = quant__vi_xor(quant__vi_xor(x4, x5), quant__vi_xor(x6, x7));
        quant__vi_store(o, quant__vi_xor(x0, x4));
        s += o[0];
    });
    if (s == 12345) printf(" ");
    free(b);
    return (double)n * 8 / med / 1e9;
}

int main(void) {
    double peak, med;
    printf("binary / ternary kernels, %s build, popcount: %s, one thread, medians\n\n", quant_isa_name(), POPCNT_NAME);
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
        {   /* streaming reads: 2 MiB (the GEMV's weights; more than this
             * Zen 5's 1 MiB L2, so an L3 read) and 512 KiB (L2) */
            double l3 = read_gbs((size_t)2 << 20, 31), l2 = read_gbs((size_t)512 << 10, 101);
            double g2 = bgemm_rate(1, 1024, 4096, 0, 0, 101);
            printf("  %-52s %9.1f GB/s  (GEMV at %.0f%% of it)\n", "  streaming read of 2 MiB (the same run)", l3, 100 * (g / 8) / l3);
            printf("  %-52s %9.1f GB/s  (GEMV at %.0f%% of it)\n", "  streaming read of 512 KiB (L2, the same run)", l2, 100 * (g / 8) / l2);
            printf("  %-52s %9.0f G binary MAC/s = %.1f GB/s  (%.0f%% of the L2 read)\n", "binary GEMV M=1, N=1024, K=4096 bits (512 KiB, in L2)",
                   g2, g2 / 8, 100 * (g2 / 8) / l2);
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
    {
        double bw = bwn_rate(64, 1024, 4096, 5);
        printf("  %-52s %9.1f G MAC/s\n", "BWN int8 x binary M=64, N=1024, K=4096 (int8, zp 3)", bw);
    }
    return 0;
}
