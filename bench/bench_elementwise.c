/* bench/bench_elementwise.c - the vectorized quantized add / mul /
 * requantize of quant_kernels.h section 8 against the scalar quant.h
 * functions: ns per element, medians over paired rounds (each round times
 * the scalar call and the kernel back to back, so drift hits both), for a
 * residual net's sizes: n = 64 Ki and n = 3136 (56 x 56), uint8 and int8.
 * The build's ISA is the one compiled for (quant_isa_name()).
 *
 *   gcc -std=c99 -O2 -march=native -I. bench/bench_elementwise.c -o bench_ew -lm
 */
#define _POSIX_C_SOURCE 199309L
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

#ifndef ROUNDS
#define ROUNDS 41
#endif

typedef struct op {
    const char *name;
    quant_dtype dt;
    quant_add_params ap;
    quant_mul_params mp;
    quant_params pi, po;
    int kind; /* 0 add, 1 mul, 2 mul broadcast [C = 64], 3 requantize */
} op;

static volatile unsigned g_sink;

static void call(const op *o, int fast, const uint8_t *a, const uint8_t *b, size_t n, uint8_t *out) {
    size_t r;
    switch (o->kind) {
    case 0: if (fast) quant_add_k(a, b, n, o->dt, &o->ap, out); else quant_add(a, b, n, o->dt, &o->ap, out); break;
    case 1: if (fast) quant_mul_k(a, b, n, o->dt, &o->mp, out); else quant_mul(a, b, n, o->dt, &o->mp, out); break;
    case 2: /* squeeze-excitation: the scalar way is a quant_mul per pixel */
        if (fast) quant_mul_bc_k(a, b, n, 64, o->dt, &o->mp, out);
        else for (r = 0; r < n / 64; r++) quant_mul(a + r * 64, b, 64, o->dt, &o->mp, out + r * 64);
        break;
    default:
        if (fast) quant_requantize_params_k(a, o->dt, &o->pi, n, &o->po, o->dt, out);
        else quant_requantize_params(a, o->dt, &o->pi, n, &o->po, o->dt, out);
    }
    g_sink += out[n / 2];
}

/* median ns / element of each, and the median of the per-round ratios */
static void measure(const op *o, size_t n, size_t span, const uint8_t *a, const uint8_t *b, uint8_t *out) {
    double ts[ROUNDS], tf[ROUNDS], rat[ROUNDS];
    size_t reps = (size_t)(4e6 / (double)n) + 1, k;
    int r;
    /* a small n runs over a different slice of the 64 Ki inputs each call:
     * the same 3136 values again and again let the branch predictor learn
     * the scalar code's branches (1.5-2x faster than on fresh data) */
#define SLICE(k) ((k) * 3137 % (span - n + 1))
    call(o, 0, a, b, n, out); call(o, 1, a, b, n, out);
    for (r = 0; r < ROUNDS; r++) {
        double t0 = now();
        for (k = 0; k < reps / 8 + 1; k++) call(o, 0, a + SLICE(k), b + SLICE(k), n, out);
        ts[r] = (now() - t0) / (double)((reps / 8 + 1) * n) * 1e9;
        t0 = now();
        for (k = 0; k < reps; k++) call(o, 1, a + SLICE(k), b + SLICE(k), n, out);
        tf[r] = (now() - t0) / (double)(reps * n) * 1e9;
        rat[r] = ts[r] / tf[r];
    }
    qsort(ts, ROUNDS, sizeof(double), cmpd); qsort(tf, ROUNDS, sizeof(double), cmpd); qsort(rat, ROUNDS, sizeof(double), cmpd);
    printf("| %-28s | %-4s | %6zu | %8.3f | %8.3f | %6.1fx |\n", o->name, o->dt == QUANT_I8 ? "i8" : "u8", n,
           ts[ROUNDS / 2], tf[ROUNDS / 2], rat[ROUNDS / 2]);
}

int main(void) {
    const size_t N = 64 * 1024;
    uint8_t *a = (uint8_t *)malloc(N), *b = (uint8_t *)malloc(N), *out = (uint8_t *)malloc(N);
    size_t i, s, d, j;
    for (i = 0; i < N; i++) { a[i] = (uint8_t)(rand() >> 7); b[i] = (uint8_t)(rand() >> 9); }
    printf("isa %s; ns per element, median of %d paired rounds\n\n", quant_isa_name(), ROUNDS);
    printf("| %-28s | %-4s | %6s | %8s | %8s | %7s |\n", "op", "dt", "n", "scalar", "kernel", "speedup");
    printf("|------------------------------|------|--------|----------|----------|---------|\n");
    for (j = 0; j < 4; j++)
        for (d = 0; d < 2; d++) {
            op o;
            quant_params pa, pb, po;
            const quant_dtype dt = d ? QUANT_I8 : QUANT_U8;
            const int32_t lo = d ? -128 : 0, hi = d ? 127 : 255;
            memset(&o, 0, sizeof o);
            o.dt = dt; o.kind = (int)j;
            pa.qmin = pb.qmin = po.qmin = lo; pa.qmax = pb.qmax = po.qmax = hi;
            pa.scale = 0.0421f; pa.zero_point = lo + 131;     /* a residual add's operands */
            pb.scale = 0.0173f; pb.zero_point = lo + 97;
            po.scale = 0.0502f; po.zero_point = lo + 120;
            if (quant_add_prepare(&pa, &pb, &po, QUANT_ACT_RELU, &o.ap) != QUANT_OK) return 1;
            pb.scale = 1.0f / 256; pb.zero_point = lo;           /* a sigmoid gate */
            if (quant_mul_prepare(&pa, &pb, &po, QUANT_ACT_NONE, &o.mp) != QUANT_OK) return 1;
            o.pi = pa; o.po = po;
            o.name = j == 0 ? "add (quant_add_k)" : j == 1 ? "mul (quant_mul_k)" : j == 2 ? "mul, [64] bcast (mul_bc_k)" : "requantize (..._params_k)";
            for (s = 0; s < 2; s++) measure(&o, s ? 3136 : N, N, a, b, out);
        }
    free(a); free(b); free(out);
    return 0;
}
