/* bench/ab_ew.c - paired A/B of two quant_kernels.h versions (base_, tree_:
 * bench/ab_ew_side.c compiled twice): section 8's elementwise ops and
 * section 7's int4 GEMM, each case timed base, tree, tree, base, ... for
 * ROUNDS pairs; medians of ns and of the per-pair ratio tree / base.
 * Outputs are compared (a mismatch stops it); the int4 GEMMs of both run on
 * one packed buffer (the packings compared first: the format is shared).
 *
 *   git show BASE:quant.h > b/quant.h; git show BASE:quant_kernels.h > b/quant_kernels.h
 *   cc -std=gnu11 -O2 FLAGS -Ib -DPFX=base_ -c bench/ab_ew_side.c -o base.o
 *   cc -std=gnu11 -O2 FLAGS -I. -DPFX=tree_ -c bench/ab_ew_side.c -o tree.o
 *   cc -O2 bench/ab_ew.c base.o tree.o -o ab_ew -lm && taskset -c 0 ./ab_ew [ew|q4|all]
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef ROUNDS
#define ROUNDS 21
#endif

void base_ew(int kind, int i8, const uint8_t *a, const uint8_t *b, size_t n, uint8_t *out);
void tree_ew(int kind, int i8, const uint8_t *a, const uint8_t *b, size_t n, uint8_t *out);
void *base_q4pack(const int8_t *W, const float *sc, size_t K, size_t N);
void *tree_q4pack(const int8_t *W, const float *sc, size_t K, size_t N);
void base_q4(size_t M, const uint8_t *A, size_t K, const void *packed, size_t N, int out, void *C);
void tree_q4(size_t M, const uint8_t *A, size_t K, const void *packed, size_t N, int out, void *C);

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

static void report(const char *name, double *tb, double *tt) {
    double r[ROUNDS];
    int i;
    for (i = 0; i < ROUNDS; i++) r[i] = tt[i] / tb[i];
    qsort(tb, ROUNDS, sizeof(double), cmpd); qsort(tt, ROUNDS, sizeof(double), cmpd); qsort(r, ROUNDS, sizeof(double), cmpd);
    printf("| %-34s | %10.3f | %10.3f | %6.3f |\n", name, tb[ROUNDS / 2], tt[ROUNDS / 2], r[ROUNDS / 2]);
    fflush(stdout);
}

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "all";
    size_t i;
    int r;
    printf("| %-34s | %10s | %10s | %6s |\n", "case", "base", "tree", "t/b");
    printf("|------------------------------------|------------|------------|--------|\n");
    if (strcmp(what, "q4")) { /* elementwise: ns per element */
        const size_t N = 64 * 1024;
        uint8_t *a = malloc(N), *b = malloc(N), *o1 = malloc(N), *o2 = malloc(N);
        static const char *names[4] = { "add", "mul", "mul [64] bcast", "requantize" };
        int kind, i8, s;
        for (i = 0; i < N; i++) { a[i] = (uint8_t)(rand() >> 7); b[i] = (uint8_t)(rand() >> 9); }
        for (kind = 0; kind < 4; kind++)
            for (i8 = 0; i8 < 2; i8++)
                for (s = 0; s < 2; s++) {
                    const size_t n = s ? 3136 : N, reps = (size_t)(2e6 / (double)n) + 1;
                    double tb[ROUNDS], tt[ROUNDS];
                    char name[64];
                    size_t k;
                    base_ew(kind, i8, a, b, n, o1); tree_ew(kind, i8, a, b, n, o2);
                    if (memcmp(o1, o2, n)) { printf("%s: outputs differ\n", names[kind]); return 1; }
                    for (r = 0; r < 2 * ROUNDS; r++) { /* base, tree; tree, base; ... */
                        const int tree = (r ^ (r >> 1)) & 1;
                        const double t0 = now();
                        for (k = 0; k < reps; k++)
                            (tree ? tree_ew : base_ew)(kind, i8, a + k * 3137 % (N - n + 1), b, n, tree ? o2 : o1);
                        (tree ? tt : tb)[r / 2] = (now() - t0) / (double)(reps * n) * 1e9;
                    }
                    snprintf(name, sizeof name, "ew %s %s n=%zu (ns/elem)", names[kind], i8 ? "i8" : "u8", n);
                    report(name, tb, tt);
                }
        free(a); free(b); free(o1); free(o2);
    }
    if (strcmp(what, "ew")) { /* int4 GEMM: us per call */
        static const size_t shapes[][3] = { { 1, 4096, 4096 }, { 8, 1024, 1024 }, { 64, 512, 512 }, { 37, 200, 333 } };
        size_t si;
        for (si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
            const size_t M = shapes[si][0], K = shapes[si][1], N = shapes[si][2], nb = (K + 31) / 32;
            uint8_t *A = malloc(M * K);
            int8_t *W = malloc(N * K);
            float *sc = malloc(sizeof(float) * N * nb);
            float *c1 = malloc(4 * M * N), *c2 = malloc(4 * M * N);
            void *pb, *pt;
            int out;
            for (i = 0; i < M * K; i++) A[i] = (uint8_t)rand();
            for (i = 0; i < N * K; i++) W[i] = (int8_t)(rand() % 16 - 8);
            for (i = 0; i < N * nb; i++) sc[i] = 0.001f + (float)(rand() % 1000) * 1e-5f;
            pb = base_q4pack(W, sc, K, N); pt = tree_q4pack(W, sc, K, N);
            if (memcmp(pb, pt, 64 + (N + 15) / 16 * nb * 384)) { printf("q4: packings differ\n"); return 1; }
            for (out = 0; out < 2; out++) {
                const double work = (double)M * K * N;
                const size_t reps = (size_t)(2e8 / work) + 1;
                double tb[ROUNDS], tt[ROUNDS];
                char name[64];
                size_t k;
                base_q4(M, A, K, pb, N, out, c1); tree_q4(M, A, K, pb, N, out, c2);
                if (memcmp(c1, c2, (out ? 1 : 4) * M * N)) { printf("q4: outputs differ\n"); return 1; }
                for (r = 0; r < 2 * ROUNDS; r++) {
                    const int tree = (r ^ (r >> 1)) & 1;
                    const double t0 = now();
                    for (k = 0; k < reps; k++) (tree ? tree_q4 : base_q4)(M, A, K, pb, N, out, tree ? c2 : c1);
                    (tree ? tt : tb)[r / 2] = (now() - t0) / (double)reps * 1e6;
                }
                snprintf(name, sizeof name, "q4 %zux%zux%zu %s (us)", M, K, N, out ? "u8" : "f32");
                report(name, tb, tt);
            }
            free(A); free(W); free(sc); free(c1); free(c2); free(pb); free(pt);
        }
    }
    return 0;
}
