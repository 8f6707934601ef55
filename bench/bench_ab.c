/* bench/bench_ab.c - quant's GEMM of two versions in one program, paired:
 * "base" (a commit's quant_kernels.h) and "tree" (the working tree's), each
 * built from bench/bench_ab_side.c with the same flags (`make bench-ab`).
 * Every round times each shape with both versions back to back (the order
 * alternating by round) and the vpmaddubsw -> vpmaddwd -> vpaddd chain bound
 * of bench_compare; the table gives medians, the median and p25 - p75 of the
 * per-round ratio tree / base, and each side's best round (the least
 * disturbed, on a shared machine). Before timing, both versions' outputs
 * must be equal at every shape.
 *
 * Usage: bench_ab [rounds] [i8: 0 int32 out, 1 int8 out] [MxNxK,MxNxK,...] [7bit]
 * A uint8 random full range (zero point 128), or 0..127 with 7bit (the
 * kernels for activations <= 127), W int8 random -127..127. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain_bound.h"

void *base_pack(const int8_t *W, size_t K, size_t N);
void *tree_pack(const int8_t *W, size_t K, size_t N);
void base_run(size_t M, const uint8_t *A, size_t K, size_t N, const void *packed, void *C, int i8, float scale);
void tree_run(size_t M, const uint8_t *A, size_t K, size_t N, const void *packed, void *C, int i8, float scale);

#define AB_MAXR 1000
#define AB_MAXS 16

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
static int cmp_d(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
/* the q-quantile (0 .. 1) of n values */
static double quantile(const double *v, int n, double q) {
    static double t[AB_MAXR];
    int i = (int)(q * (n - 1) + 0.5);
    memcpy(t, v, (size_t)n * sizeof *v);
    qsort(t, (size_t)n, sizeof *t, cmp_d);
    return t[i];
}

typedef struct {
    size_t M, N, K;
    uint8_t *A;
    int8_t *W;
    void *pb, *pt, *Cb, *Ct;
    float scale;
} ab_shape;

int main(int argc, char **argv) {
    const int rounds = argc > 1 ? atoi(argv[1]) : 41, i8 = argc > 2 ? atoi(argv[2]) : 0;
    const char *list = argc > 3 ? argv[3] : "1x1024x1024,1x4096x4096,16x1024x1024,64x1024x1024,256x256x256,1024x1024x1024,2048x2048x2048";
    const int act7 = argc > 4 && strcmp(argv[4], "7bit") == 0;
    static ab_shape s[AB_MAXS];
    static double gb[AB_MAXS][AB_MAXR], gt[AB_MAXS][AB_MAXR], ch[AB_MAXR];
    char buf[512], *tok;
    int ns = 0, r, i;
    unsigned seed = 1;
    if (rounds < 1 || rounds > AB_MAXR || strlen(list) >= sizeof buf || argc > 5 || (argc > 4 && !act7)) {
        fprintf(stderr, "usage: %s [rounds 1..%d] [i8 0|1] [MxNxK,...] [7bit]\n", argv[0], AB_MAXR);
        return 2;
    }
    strcpy(buf, list);
    for (tok = strtok(buf, ","); tok && ns < AB_MAXS; tok = strtok(NULL, ",")) {
        ab_shape *x = &s[ns++];
        size_t j;
        if (sscanf(tok, "%zux%zux%zu", &x->M, &x->N, &x->K) != 3 || !x->M || !x->N || !x->K) {
            fprintf(stderr, "bad shape %s\n", tok);
            return 2;
        }
        x->A = (uint8_t *)malloc(x->M * x->K);
        x->W = (int8_t *)malloc(x->N * x->K);
        x->Cb = calloc(x->M * x->N, 4);
        x->Ct = calloc(x->M * x->N, 4);
        if (!x->A || !x->W || !x->Cb || !x->Ct) return 1;
        for (j = 0; j < x->M * x->K; j++) x->A[j] = (uint8_t)(((seed = seed * 1103515245u + 12345u) >> 16) & (act7 ? 127u : 255u));
        for (j = 0; j < x->N * x->K; j++) x->W[j] = (int8_t)((int)((seed = seed * 1103515245u + 12345u) >> 16) % 255 - 127);
        x->pb = base_pack(x->W, x->K, x->N);
        x->pt = tree_pack(x->W, x->K, x->N);
        /* an output scale that spreads int8 outputs over about 40 steps */
        x->scale = (float)(40.0 / (73.9 * 73.9 * sqrt((double)x->K)));
        base_run(x->M, x->A, x->K, x->N, x->pb, x->Cb, i8, x->scale);
        tree_run(x->M, x->A, x->K, x->N, x->pt, x->Ct, i8, x->scale);
        if (memcmp(x->Cb, x->Ct, x->M * x->N * (i8 ? 1 : 4)) != 0) {
            fprintf(stderr, "%s: base and tree outputs differ\n", tok);
            return 1;
        }
    }
    for (r = 0; r < rounds; r++) {
        ch[r] = chain_gops();
        for (i = 0; i < ns; i++) {
            ab_shape *x = &s[i];
            const double ops = 2.0 * (double)x->M * (double)x->N * (double)x->K;
            const int reps = (int)(1e8 / ops) + 1;
            int side, k;
            for (side = 0; side < 2; side++) {
                const int tree = (side + r) & 1;
                const double t0 = now_s();
                for (k = 0; k < reps; k++) {
                    if (tree) tree_run(x->M, x->A, x->K, x->N, x->pt, x->Ct, i8, x->scale);
                    else base_run(x->M, x->A, x->K, x->N, x->pb, x->Cb, i8, x->scale);
                }
                (tree ? gt : gb)[i][r] = ops * reps / (now_s() - t0) * 1e-9;
            }
        }
    }
    printf("bench_ab: %d rounds, %s out; chain bound %.1f GOPS (median)\n\n", rounds, i8 ? "int8" : "int32",
           quantile(ch, rounds, 0.5));
    printf("| shape | base | tree | tree/base (p25 - p75) | tree %% of chain | base best | tree best |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|\n");
    for (i = 0; i < ns; i++) {
        double q[AB_MAXR];
        for (r = 0; r < rounds; r++) q[r] = gt[i][r] / gb[i][r];
        printf("| %zux%zux%zu | %.1f | %.1f | %.3f (%.3f - %.3f) | %.0f%% | %.1f | %.1f |\n", s[i].M, s[i].N, s[i].K,
               quantile(gb[i], rounds, 0.5), quantile(gt[i], rounds, 0.5), quantile(q, rounds, 0.5),
               quantile(q, rounds, 0.25), quantile(q, rounds, 0.75),
               100.0 * quantile(gt[i], rounds, 0.5) / quantile(ch, rounds, 0.5), quantile(gb[i], rounds, 1.0),
               quantile(gt[i], rounds, 1.0));
    }
    return 0;
}
