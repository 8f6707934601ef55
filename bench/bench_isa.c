/* bench_isa.c - one fixed whole-process workload, built once per ISA by
 * `make bench-isa` and timed with hyperfine.
 *
 *   bench_isa            setup + workload (what hyperfine times)
 *   bench_isa setup      setup only: data generation and weight packing
 *   bench_isa info       prints the ISA and the workload's size
 *
 * Workload (single thread):
 *   - GEMM 256 x 1024 x 1024, u8 x s8, int32 out               x GEMM_I32
 *   - GEMM 256 x 1024 x 1024, int8 out, gemmlowp per-channel     x GEMM_I8
 *   - GEMV 1 x 1024 x 1024, int32 out                            x GEMV_1K
 *   - GEMV 4 x 1024 x 1024, int8 out, gemmlowp per-channel       x GEMV_4
 * It prints a checksum of every output: all ISAs must print the same one
 * (the kernels are bit-exact), which `make bench-isa` checks.
 */
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GM 256
#define GN 1024
#define GK 1024
#define GEMM_I32 8
#define GEMM_I8 8
#define GEMV_1K 1200
#define GEMV_4 300

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng_next(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static void fill_bytes(void *p, size_t n) {
    unsigned char *b = (unsigned char *)p;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) { uint64_t v = rng_next(); memcpy(b + i, &v, 8); }
    for (; i < n; i++) b[i] = (unsigned char)rng_next();
}
static void *xalloc(size_t n) {
    void *p = aligned_alloc(64, (n + 63) / 64 * 64);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(1); }
    return p;
}
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}
static void check(quant_status st, const char *what) {
    if (st != QUANT_OK) { fprintf(stderr, "%s failed: %d\n", what, (int)st); exit(1); }
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "run";
    size_t pb_bytes = quant_gemm_pack_size(GK, GN), i;
    uint8_t *A = (uint8_t *)xalloc((size_t)GM * GK);
    int8_t *W = (int8_t *)xalloc((size_t)GN * GK);
    void *pb = xalloc(pb_bytes);
    int32_t *C32 = (int32_t *)xalloc((size_t)GM * GN * 4);
    int8_t *C8 = (int8_t *)xalloc((size_t)GM * GN);
    quant_requant *rq = (quant_requant *)xalloc(GN * sizeof *rq);
    quant_epilogue e32, e8;
    uint64_t h = 14695981039346656037ull;
    double ops = 2.0 * GK * GN * ((double)GM * (GEMM_I32 + GEMM_I8) + GEMV_1K + 4.0 * GEMV_4);

    if (!strcmp(mode, "info")) {
        printf("isa %s: %d+%d GEMM %dx%dx%d, %d GEMV 1x%dx%d, %d GEMV 4x%dx%d: %.2f Gop\n",
               quant_isa_name(), GEMM_I32, GEMM_I8, GM, GN, GK, GEMV_1K, GN, GK, GEMV_4, GN, GK, ops * 1e-9);
        return 0;
    }
    fill_bytes(A, (size_t)GM * GK);
    fill_bytes(W, (size_t)GN * GK);
    for (i = 0; i < GN; i++) /* per-channel scales in [2^-12, 2^-10) */
        check(quant_requant_from_scale((1.0 + (double)(rng_next() % 1000) / 1000.0) / 4096.0, &rq[i]), "rq");
    check(quant_gemm_pack(W, QUANT_LAYOUT_NK, GK, GN, 0, pb, pb_bytes), "pack");
    memset(&e32, 0, sizeof e32);
    memset(&e8, 0, sizeof e8);
    e8.out = QUANT_OUT_I8; e8.mode = QUANT_RQ_GEMMLOWP; e8.rq = rq; e8.per_channel = 1;
    e8.out_zp = -3; e8.out_min = -128; e8.out_max = 127;
    if (!strcmp(mode, "setup")) { printf("setup %s\n", quant_isa_name()); return 0; }

    for (i = 0; i < GEMM_I32; i++) {
        check(quant_gemm(GM, A, 0, GK, 128, pb, &e32, C32, GN), "gemm i32");
        h = fnv(h, C32 + i * GN, GN * 4); /* one row per call, cheap */
        A[i] ^= 0x5a;                     /* the next call sees other data */
    }
    h = fnv(h, C32, (size_t)GM * GN * 4);
    for (i = 0; i < GEMM_I8; i++) {
        check(quant_gemm(GM, A, 0, GK, 7, pb, &e8, C8, GN), "gemm i8");
        A[GK + i] ^= 0x33;
    }
    h = fnv(h, C8, (size_t)GM * GN);
    for (i = 0; i < GEMV_1K; i++) {
        const uint8_t *x = A + (i % GM) * GK;
        check(quant_gemm(1, x, 0, GK, 128, pb, &e32, C32, GN), "gemv i32");
        h = fnv(h, C32 + (i % GN), 4);
    }
    for (i = 0; i < GEMV_4; i++) {
        const uint8_t *x = A + (i % (GM - 4)) * GK;
        check(quant_gemm(4, x, 0, GK, 5, pb, &e8, C8, GN), "gemv i8");
        h = fnv(h, C8 + (i % GN), 1);
    }
    h = fnv(h, C32, GN * 4);
    h = fnv(h, C8, 4 * GN);
    printf("%s checksum %016llx\n", quant_isa_name(), (unsigned long long)h);
    free(A); free(W); free(pb); free(C32); free(C8); free(rq);
    return 0;
}
