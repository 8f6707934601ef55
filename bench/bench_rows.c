/* bench/bench_rows.c - throughput of the rows kernels against the plain C
 * loops a user would write (and the quant.h reference), over 64 MiB of
 * fp32 input, one thread, medians of repeated runs in one process. */
#define _POSIX_C_SOURCE 199309L
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
#define REPS 15
#define MEDIAN(expr) do { double ts_[REPS]; int r_; for (r_ = 0; r_ < REPS; r_++) { double t0_ = now(); expr; ts_[r_] = now() - t0_; } \
    qsort(ts_, REPS, sizeof(double), cmpd); med = ts_[REPS / 2]; } while (0)

/* the best plain C a user writes: nearbyintf and a float clamp (vectorizes) */
static void plain_quantize(const float *x, size_t n, float inv, int32_t zp, int8_t *q) {
    size_t i;
    for (i = 0; i < n; i++) {
        float v = nearbyintf(x[i] * inv) + (float)zp;
        v = v < -128.0f ? -128.0f : v > 127.0f ? 127.0f : v;
        q[i] = (int8_t)v;
    }
}
static float plain_absmax(const float *x, size_t n) {
    float m = 0.0f; size_t i;
    for (i = 0; i < n; i++) { float a = fabsf(x[i]); if (a > m) m = a; }
    return m;
}
/* the read rate of the buffer: a sum of its 64-bit words, four chains */
static uint64_t read_sum(const float *x, size_t n) {
    const unsigned char *b = (const unsigned char *)x;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, w[4];
    size_t i, nb = n * sizeof(float);
    for (i = 0; i + 32 <= nb; i += 32) {
        memcpy(w, b + i, 32);
        s0 += w[0]; s1 += w[1]; s2 += w[2]; s3 += w[3];
    }
    return s0 + s1 + s2 + s3;
}
static volatile uint64_t sink;
static void plain_dequantize(const int8_t *q, size_t n, float s, int32_t zp, float *y) {
    size_t i;
    for (i = 0; i < n; i++) y[i] = (float)(q[i] - zp) * s;
}

static void run(size_t bytes, int reps_scale) {
    size_t n = bytes / sizeof(float), i;
    float *x = (float *)malloc(n * sizeof(float)), *y = (float *)malloc(n * sizeof(float)), sc = 0.05f, dsc;
    int8_t *q = (int8_t *)malloc(n);
    int32_t zp = 0, dzp;
    double med, gb = (double)n * sizeof(float) / 1e9, gq = (double)n / 1e9, base, rd;
    int k;
    (void)reps_scale;
    for (i = 0; i < n; i++) x[i] = (float)((double)(rand() % 20001) / 1000.0 - 10.0);
    printf("\n%zu KiB of fp32 input (%s):\n", bytes >> 10, bytes > (2u << 20) ? "DRAM-bound here" : "L2-resident");
    printf("  %-44s %9s %9s\n", "operation", "GB/s", "vs plain");
    MEDIAN(for (k = 0; k < reps_scale; k++) memcpy(y, x, n * sizeof(float)));
    printf("  %-44s %9.1f\n", "memcpy of the fp32 buffer (reference)", gb * reps_scale / med);
    MEDIAN(for (k = 0; k < reps_scale; k++) sink = read_sum(x, n));
    rd = gb * reps_scale / med;
    printf("  %-44s %9.1f\n", "read of the fp32 buffer (reference)", rd);
    MEDIAN(for (k = 0; k < reps_scale; k++) plain_quantize(x, n, 1.0f / sc, zp, q));
    base = gb * reps_scale / med;
    MEDIAN(for (k = 0; k < reps_scale; k++) quant_rows_quantize(x, 1, n, n, QUANT_PER_TENSOR, &sc, &zp, -128, 127, QUANT_I8, q, n));
    printf("  %-44s %9.1f %8.2fx  %3.0f%% of the read\n", "quant_rows_quantize (given scale)", gb * reps_scale / med,
           gb * reps_scale / med / base, 100.0 * gb * reps_scale / med / rd);
    printf("  %-44s %9.1f\n", "plain C loop (nearbyintf + float clamp)", base);
    MEDIAN(for (k = 0; k < reps_scale; k++) { float am = plain_absmax(x, n); plain_quantize(x, n, 127.0f / am, 0, q); });
    base = gb * reps_scale / med;
    MEDIAN(for (k = 0; k < reps_scale; k++) quant_rows_quantize_dynamic(x, 1, n, n, QUANT_SYMMETRIC, -127, 127, QUANT_I8, q, n, &dsc, &dzp));
    printf("  %-44s %9.1f %8.2fx\n", "quant_rows_quantize_dynamic (minmax + q)", gb * reps_scale / med, gb * reps_scale / med / base);
    printf("  %-44s %9.1f\n", "plain C absmax + quantize", base);
    MEDIAN(for (k = 0; k < reps_scale; k++) plain_dequantize(q, n, sc, zp, y));
    base = gq * reps_scale / med;
    MEDIAN(for (k = 0; k < reps_scale; k++) quant_rows_dequantize(q, QUANT_I8, 1, n, n, QUANT_PER_TENSOR, &sc, &zp, y, n));
    printf("  %-44s %9.1f %8.2fx  (GB/s of int8 input)\n", "quant_rows_dequantize", gq * reps_scale / med, gq * reps_scale / med / base);
    printf("  %-44s %9.1f\n", "plain C dequantize loop", base);
    free(x); free(y); free(q);
}

int main(void) {
    printf("rows kernels, %s build, one thread, medians of %d\n", quant_isa_name(), REPS);
    run(64u << 20, 1);
    run(256u << 10, 200);
    return 0;
}
