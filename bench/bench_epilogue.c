/* bench/bench_epilogue.c - what the fused int8 epilogue costs over int32
 * output, per requantization mode, for the GEMM shapes of bench_gemm.cc.
 * Every round times the int32 call and each int8 call back to back on the
 * same data, so the ratio is taken within a round (this host's speed drifts
 * by several percent between runs); the table gives the median of the
 * per-round ratios with their quartiles. One thread; pin it (taskset). */
#define _POSIX_C_SOURCE 199309L
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static void die(const char *what) { fprintf(stderr, "bench_epilogue: %s failed\n", what); exit(1); }

/* rounds of one shape; prints one table row */
static void shape(size_t M, size_t N, size_t K, int rounds) {
    uint8_t *A = (uint8_t *)malloc(M * K);
    int8_t *W = (int8_t *)malloc(N * K), *C8 = (int8_t *)malloc(M * N);
    int32_t *C32 = (int32_t *)malloc(M * N * 4), *bias = (int32_t *)malloc(N * 4);
    quant_requant *rq = (quant_requant *)malloc(N * sizeof *rq);
    size_t bytes = quant_gemm_pack_size(K, N), i;
    void *pk = malloc(bytes);
    double *t32 = (double *)malloc((size_t)rounds * sizeof(double)), *r[3];
    quant_epilogue e32, e8[3];
    int md, k;
    if (!A || !W || !C8 || !C32 || !bias || !rq || !pk || !t32) die("malloc");
    for (i = 0; i < M * K; i++) A[i] = (uint8_t)rnd();
    for (i = 0; i < N * K; i++) W[i] = (int8_t)rnd();
    if (quant_gemm_pack(W, QUANT_LAYOUT_NK, K, N, 0, pk, bytes) != QUANT_OK) die("quant_gemm_pack");
    /* per-channel scales putting the outputs around +-40 (|acc| ~ 74^2 sqrt(K)), as bench_gemm.cc */
    for (i = 0; i < N; i++) {
        if (quant_requant_from_scale(40.0 / (5476.0 * sqrt((double)K)) * (0.5 + (double)(rnd() % 1000) / 1000.0), &rq[i]) != QUANT_OK)
            die("quant_requant_from_scale");
        bias[i] = (int32_t)(rnd() % 20001) - 10000;
    }
    memset(&e32, 0, sizeof e32);
    e32.out = QUANT_OUT_I32;
    for (md = 0; md < 3; md++) {
        memset(&e8[md], 0, sizeof e8[md]);
        e8[md].out = QUANT_OUT_I8; e8[md].mode = (quant_requant_mode)md; e8[md].rq = rq; e8[md].per_channel = 1;
        e8[md].bias_i32 = bias; e8[md].out_zp = -5; e8[md].out_min = -128; e8[md].out_max = 127;
        if (!(r[md] = (double *)malloc((size_t)rounds * sizeof(double)))) die("malloc");
    }
    for (k = -2; k < rounds; k++) { /* two warm-up rounds */
        double t0 = now(), ti;
        if (quant_gemm(M, A, 0, K, 128, pk, &e32, C32, N) != QUANT_OK) die("quant_gemm");
        ti = now() - t0;
        if (k >= 0) t32[k] = ti;
        for (md = 0; md < 3; md++) {
            t0 = now();
            if (quant_gemm(M, A, 0, K, 128, pk, &e8[md], C8, N) != QUANT_OK) die("quant_gemm");
            if (k >= 0) r[md][k] = (now() - t0) / ti;
        }
    }
    qsort(t32, (size_t)rounds, sizeof(double), cmpd);
    printf("| %zux%zux%zu | %.1f |", M, N, K, t32[rounds / 2] * 1e6);
    for (md = 0; md < 3; md++) {
        qsort(r[md], (size_t)rounds, sizeof(double), cmpd);
        printf(" %+.1f%% (%+.1f .. %+.1f) |", 100 * (r[md][rounds / 2] - 1), 100 * (r[md][rounds / 4] - 1),
               100 * (r[md][3 * rounds / 4] - 1));
        free(r[md]);
    }
    printf("\n");
    fflush(stdout);
    free(A); free(W); free(C8); free(C32); free(bias); free(rq); free(pk); free(t32);
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 201, a;
    if (rounds < 4 || rounds > 100000) { fprintf(stderr, "usage: bench_epilogue [rounds 4..100000 [MxNxK ...]]\n"); return 2; }
    printf("int8 output over int32 output, %s build, %d rounds: median of the per-round time ratios (p25 .. p75)\n\n",
           quant_isa_name(), rounds);
    printf("| shape | int32 us | gemmlowp | single rounding | fp32 |\n|---|---:|---:|---:|---:|\n");
    if (argc > 2) { /* the shapes named */
        for (a = 2; a < argc; a++) {
            unsigned long m, n, k;
            char tail;
            if (sscanf(argv[a], "%lux%lux%lu%c", &m, &n, &k, &tail) != 3 || !m || !n || !k || m > 65536 || n > 65536 || k > 65536) {
                fprintf(stderr, "bench_epilogue: bad shape '%s' (MxNxK, each 1..65536)\n", argv[a]);
                return 2;
            }
            shape((size_t)m, (size_t)n, (size_t)k, rounds);
        }
        return 0;
    }
    shape(1024, 1024, 1024, rounds);
    shape(64, 1024, 1024, rounds);
    shape(256, 256, 256, rounds * 4);
    shape(2048, 2048, 2048, rounds / 4 > 3 ? rounds / 4 : 4);
    return 0;
}
