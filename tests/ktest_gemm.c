/* tests/ktest_gemm.c - the packed GEMM of quant_kernels.h, for the ISA this
 * file is compiled for, against quant_ref_gemm() of quant.h, bit for bit:
 * every M, N, K in 1..40, large and odd shapes, adversarial data, every
 * epilogue, tiles, misaligned buffers, bad input. Weights with and without
 * a -128 byte, activations with and without a byte above 127: on SSE4.1,
 * AVX2 and AVX-512 (without VNNI) these choose different kernels and
 * packings (test_packings checks that each is chosen). The Makefile builds it once
 * per ISA (QT_EXPECT_ISA names the ISA the flags should select).
 *
 * QT_EMULATED=1 (tests/run.sh sets it for the builds it runs under qemu,
 * where this takes ~10x longer): of the 1..40 cube, every (N, K) with four
 * M, one in each residue mod 4 (the row tile of the Arm and scalar builds),
 * so that every M still meets every N and every K; the rest is as native. */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include "harness.h"
#include <stdint.h>


typedef struct {
    quant_epilogue ep;
    quant_requant rq[600];
    int32_t bias[600];
    float ws[600], as[600], bf[600];
} qt_epi;

/* an epilogue of kind 0..6 for N columns, M rows */
static void make_epi(qt_epi *e, int kind, size_t M, size_t N) {
    size_t i;
    memset(&e->ep, 0, sizeof e->ep);
    for (i = 0; i < N && i < 600; i++) {
        /* every fifth column's scale above 1 (1 .. e^8): a left shift that
         * saturates on large accumulators */
        quant_requant_from_scale(i % 5 == 3 ? exp(8.0 * qt_uniform()) : exp(-4.0 - 8.0 * qt_uniform()), &e->rq[i]);
        e->bias[i] = (int32_t)(qt_rand32() % 200001) - 100000;
        e->ws[i] = (float)(0.001 + 0.01 * qt_uniform());
        e->bf[i] = (float)qt_normal();
    }
    for (i = 0; i < M && i < 600; i++) e->as[i] = (float)(0.01 + 0.1 * qt_uniform());
    switch (kind) {
    case 0: e->ep.out = QUANT_OUT_I32; break;
    case 1: e->ep.out = QUANT_OUT_I32; e->ep.bias_i32 = e->bias; break;
    case 2: case 3: case 4: { /* each requantization mode with a random output type, zero point and clamp */
        const int u8 = (int)(qt_rand32() % 2), tmin = u8 ? 0 : -128, tmax = u8 ? 255 : 127, c = (int)(qt_rand32() % 4);
        e->ep.out = u8 ? QUANT_OUT_U8 : QUANT_OUT_I8;
        e->ep.mode = (quant_requant_mode)(kind - 2);
        e->ep.rq = e->rq; e->ep.per_channel = qt_rand32() % 3 != 0; e->ep.bias_i32 = e->bias;
        e->ep.out_zp = tmin + (int32_t)(qt_rand32() % 256);
        e->ep.out_min = tmin; e->ep.out_max = tmax;
        if (c == 1) e->ep.out_min = e->ep.out_zp; /* fused ReLU */
        if (c == 2) { /* a clamp inside the type's range */
            e->ep.out_min = e->ep.out_zp - (int32_t)(qt_rand32() % 100); e->ep.out_max = e->ep.out_zp + (int32_t)(qt_rand32() % 100);
            if (e->ep.out_min < tmin) e->ep.out_min = tmin;
            if (e->ep.out_max > tmax) e->ep.out_max = tmax;
        }
    } break;
    case 5: e->ep.out = QUANT_OUT_F32; e->ep.a_scale = e->as; e->ep.w_scale = e->ws; e->ep.bias_f32 = e->bf; break;
    default: e->ep.out = QUANT_OUT_F32; e->ep.w_scale = e->ws; break;
    }
}

static size_t out_size(quant_out_type t) { return t == QUANT_OUT_I8 || t == QUANT_OUT_U8 ? 1 : 4; }

/* The kernel on pb (B packed, its values Bkn: K x N) against the reference
 * on Bkn; returns 1 if they agree bit for bit. */
static int run_packed(size_t M, size_t N, size_t K, const uint8_t *A, int a_signed, size_t lda, int32_t a_zp,
                      const int8_t *Bkn, int32_t b_zp, const unsigned char *pb, const quant_epilogue *ep, int misalign) {
    size_t osz = out_size(ep->out);
    unsigned char *c1 = (unsigned char *)malloc(M * N * osz + 8), *c2 = (unsigned char *)malloc(M * N * osz + 8);
    int ok = 1;
    memset(c1, 0xA5, M * N * osz + 8);
    memset(c2, 0x5A, M * N * osz + 8);
    if (quant_gemm(M, A, a_signed, lda, a_zp, pb, ep, c1 + (misalign ? 1 : 0), N) != QUANT_OK) ok = 0;
    if (ok && quant_ref_gemm(M, N, K, A, a_signed, lda, a_zp, Bkn, N, b_zp, ep, c2, N) != QUANT_OK) ok = 0;
    if (ok && memcmp(c1 + (misalign ? 1 : 0), c2, M * N * osz) != 0) ok = 0;
    free(c1); free(c2);
    return ok;
}

/* B (K x N or N x K by layout) into Bkn (K x N) and packed into pb */
static int pack_b(size_t N, size_t K, const int8_t *B, int32_t b_zp, quant_layout layout, int8_t *Bkn,
                  unsigned char *pb) {
    size_t k, n;
    if (layout == QUANT_LAYOUT_NK) { for (k = 0; k < K; k++) for (n = 0; n < N; n++) Bkn[k * N + n] = B[n * K + k]; }
    else memcpy(Bkn, B, K * N);
    return quant_gemm_pack(B, layout, K, N, b_zp, pb, quant_gemm_pack_size(K, N)) == QUANT_OK;
}

/* Runs one case through the packed kernel and the reference; returns 1 if
 * they agree bit for bit. */
static int run_case(size_t M, size_t N, size_t K, const uint8_t *A, int a_signed, size_t lda, int32_t a_zp,
                    const int8_t *B, int32_t b_zp, quant_layout layout, const quant_epilogue *ep, int misalign) {
    size_t bytes = quant_gemm_pack_size(K, N);
    unsigned char *praw = (unsigned char *)malloc(bytes + 64 + 1), *pb = praw + (misalign ? 1 : 0);
    int8_t *Bkn = (int8_t *)malloc(K * N);
    int ok = pack_b(N, K, B, b_zp, layout, Bkn, pb) &&
             run_packed(M, N, K, A, a_signed, lda, a_zp, Bkn, b_zp, pb, ep, misalign);
    free(praw); free(Bkn);
    return ok;
}

/* activations: 0 random, 1 all 255, 2 255 / 0, 3 all 128, 4 random 0..127,
 * 5 all 127, 6 127 / 0 */
static void fill_a(uint8_t *A, size_t n, int mode) {
    size_t i;
    for (i = 0; i < n; i++)
        A[i] = mode == 0 ? (uint8_t)qt_rand32() : mode == 1 ? 255 : mode == 2 ? (uint8_t)((i & 1) ? 255 : 0)
             : mode == 3 ? 128 : mode == 4 ? (uint8_t)(qt_rand32() & 127) : mode == 5 ? 127 : (uint8_t)((i & 1) ? 127 : 0);
}
/* weights: 0 random, 1 all -128, 2 all 127, 3 127 / -128, 4 random -127..127
 * (symmetric), 5 all -127, 6 127 / -127 */
static void fill_b(int8_t *B, size_t n, int mode) {
    size_t i;
    for (i = 0; i < n; i++)
        B[i] = mode == 0 ? (int8_t)qt_rand32() : mode == 1 ? -128 : mode == 2 ? 127
             : mode == 3 ? (int8_t)((i & 1) ? 127 : -128) : mode == 4 ? (int8_t)((int)(qt_rand32() % 255) - 127)
             : mode == 5 ? -127 : (int8_t)((i & 1) ? 127 : -127);
}

static int qt_emulated(void) {
    const char *e = getenv("QT_EMULATED");
    return e && *e && strcmp(e, "0") != 0;
}

static void test_isa(void) {
    fprintf(stderr, "  isa: %s (tile_n %d)\n", quant_isa_name(), (int)quant_gemm_tile_n());
#ifdef QT_EXPECT_ISA
    CHECKF(strcmp(quant_isa_name(), QT_EXPECT_ISA) == 0, "built %s, expected %s", quant_isa_name(), QT_EXPECT_ISA);
#endif
}

/* every M, N, K from 1 to 40. Emulated, a tenth of them: for each (N, K),
 * M - 1 = 4 q + r for r = 0..3 with q = (K + N + 3 r) mod 10, i.e. every
 * (M mod 4, N, K) once, every (M, N) and (M, K) pair four times; both
 * activation types and the epilogue (a function of N and K) as natively.
 * The weights of each (N, K) are drawn and packed once (random and
 * symmetric, each with its zero point) and serve every M. */
static void test_all_small_shapes(void) {
    static uint8_t A[40 * 40];
    static int8_t B[2][40 * 40], Bkn[2][40 * 40];
    const int emulated = qt_emulated();
    size_t M, N, K, cases = 0;
    qt_epi e;
    for (N = 1; N <= 40; N++)
        for (K = 1; K <= 40; K++) {
            /* the weights of (N, K), packed once for all M: random (0) and
             * symmetric (1), each with its zero point */
            const size_t bytes = quant_gemm_pack_size(K, N);
            unsigned char *pb[2];
            int32_t b_zp[2];
            int w;
            pb[0] = (unsigned char *)malloc(bytes); pb[1] = (unsigned char *)malloc(bytes);
            for (w = 0; w < 2; w++) {
                b_zp[w] = (K % 3 == 0) ? (int32_t)(qt_rand32() % 256) - 128 : 0;
                fill_b(B[w], K * N, w ? 4 : 0);
                CHECK(pack_b(N, K, B[w], b_zp[w], (quant_layout)(N & 1), Bkn[w], pb[w]));
            }
            for (M = 1; M <= 40; M++) {
                int a_signed = (int)((M + N + K) & 1), kind = (int)((M * 7 + N * 3 + K) % 7);
                /* symmetric weights in two cases of three, 7-bit activations in one of four */
                const int ws = (M + N + 2 * K) % 3 != 0;
                int32_t a_zp;
                if (emulated && (M - 1) / 4 != (K + N + 3 * ((M - 1) % 4)) % 10) continue;
                cases++;
                a_zp = a_signed ? (int32_t)(qt_rand32() % 256) - 128 : (int32_t)(qt_rand32() % 256);
                fill_a(A, M * K, (M + 2 * N) % 4 == 1 ? 4 : 0);
                make_epi(&e, kind, M, N);
                CHECKF(run_packed(M, N, K, A, a_signed, K, a_zp, Bkn[ws], b_zp[ws], pb[ws], &e.ep, 0),
                       "M=%d N=%d K=%d signed=%d a_zp=%d b_zp=%d epilogue=%d", (int)M, (int)N, (int)K, a_signed,
                       (int)a_zp, (int)b_zp[ws], kind);
                if (QT_FAILS > 10) break;
            }
            free(pb[0]); free(pb[1]);
            if (QT_FAILS > 10) return;
        }
    CHECKF(cases == (emulated ? 6400u : 64000u), "%d cases", (int)cases);
    if (emulated) fprintf(stderr, "  QT_EMULATED: %d of the 64000 small shapes (each (M mod 4, N, K) once)\n", (int)cases);
}

/* the pmaddubsw packing (symmetric weights, K >= 64 on SSE4.1 / AVX2 /
 * AVX-512 without VNNI): K from 64 to 104 (every K mod 4 and mod 32 tail),
 * M 1..9, three N, both activation types, 7-bit and full-range uint8, with
 * and without a weight zero point */
static void test_c4_tails(void) {
    static uint8_t A[9 * 104];
    static int8_t B[104 * 37];
    static const size_t Ns[] = { 5, 16, 37 };
    size_t M, K, in;
    qt_epi e;
    for (K = 64; K <= 104; K++)
        for (M = 1; M <= 9; M++)
            for (in = 0; in < 3; in++) {
                const size_t N = Ns[in];
                const int a_signed = (int)((K + M) % 3 == 0), a7 = !a_signed && (K + in) % 2;
                const int32_t a_zp = a_signed ? (int32_t)(qt_rand32() % 256) - 128 : (int32_t)(qt_rand32() % 256);
                const int32_t b_zp = (K + M + in) % 4 == 0 ? (int32_t)(qt_rand32() % 255) - 127 : 0;
                fill_a(A, M * K, a7 ? 4 : 0);
                fill_b(B, K * N, 4);
                make_epi(&e, (int)((K + M + in) % 7), M, N);
                CHECKF(run_case(M, N, K, A, a_signed, K, a_zp, B, b_zp, (quant_layout)(M & 1), &e.ep, 0),
                       "M=%d N=%d K=%d signed=%d 7-bit=%d", (int)M, (int)N, (int)K, a_signed, a7);
                if (QT_FAILS > 10) return;
            }
}

/* int32 output of M x N x K (A and B as the reference reads them) against
 * quant_ref_gemm, then the same product in five tiles (rows [0, 4) and
 * [4, M), columns cut at s1 and s2) reassembled in `tiled` */
static void check_int32_tiles(size_t M, size_t N, size_t K, const uint8_t *A, int a_signed, int32_t a_zp,
                              const int8_t *B, int32_t b_zp, size_t s1, size_t s2, unsigned char *pb, size_t pbs,
                              int32_t *full, int32_t *ref, int32_t *tiled) {
    quant_epilogue ep;
    memset(&ep, 0, sizeof ep);
    CHECK(quant_gemm_pack_size(K, N) <= pbs);
    CHECK(quant_gemm_pack(B, QUANT_LAYOUT_KN, K, N, b_zp, pb, pbs) == QUANT_OK);
    CHECK(quant_gemm(M, A, a_signed, K, a_zp, pb, &ep, full, N) == QUANT_OK);
    CHECK(quant_ref_gemm(M, N, K, A, a_signed, K, a_zp, B, N, b_zp, &ep, ref, N) == QUANT_OK);
    CHECKF(memcmp(full, ref, M * N * 4) == 0, "int32 M=%d N=%d K=%d", (int)M, (int)N, (int)K);
    memset(tiled, 0, M * N * 4);
    CHECK(quant_gemm_tile(M, A, a_signed, K, a_zp, pb, &ep, tiled, N, 0, 4, 0, s1) == QUANT_OK);
    CHECK(quant_gemm_tile(M, A, a_signed, K, a_zp, pb, &ep, tiled, N, 0, 4, s1, s2) == QUANT_OK);
    CHECK(quant_gemm_tile(M, A, a_signed, K, a_zp, pb, &ep, tiled, N, 0, 4, s2, N) == QUANT_OK);
    CHECK(quant_gemm_tile(M, A, a_signed, K, a_zp, pb, &ep, tiled, N, 4, M, 0, s2) == QUANT_OK);
    CHECK(quant_gemm_tile(M, A, a_signed, K, a_zp, pb, &ep, tiled, N, 4, M, s2, N) == QUANT_OK);
    CHECKF(memcmp(full, tiled, M * N * 4) == 0, "tiles M=%d N=%d K=%d", (int)M, (int)N, (int)K);
}

/* The sign kernel (weights without -128, uint8 activations above 127 or
 * int8) past its chunk of K: every K mod 4 around multiples of 128, M 1..10
 * (AVX2 runs it 2 rows by three panels, the last two as a pair, and a row
 * left by four panels: a remainder of 1 row), N of whole panel pairs and of
 * a lone last panel; column ranges that start and end inside a panel
 * against the whole product. */
static void test_c4_chunks(void) {
    static const size_t Ks[] = { 124, 127, 128, 129, 131, 159, 160, 163, 255, 256, 258, 383, 385, 516 };
    static const size_t Ns[] = { 32, 33, 48, 70 };
    static uint8_t A[10 * 516];
    static int8_t B[516 * 70];
    static int32_t full[10 * 70], ref[10 * 70], tiled[10 * 70];
    static unsigned char pb[80000];
    size_t ik, M, in;
    qt_epi e;
    for (ik = 0; ik < sizeof Ks / sizeof *Ks; ik++)
        for (M = 1; M <= 10; M++)
            for (in = 0; in < sizeof Ns / sizeof *Ns; in++) {
                const size_t K = Ks[ik], N = Ns[in];
                const int a_signed = (int)((K + M + in) % 4 == 0);
                const int32_t a_zp = a_signed ? (int32_t)(qt_rand32() % 256) - 128 : (int32_t)(qt_rand32() % 256);
                const int32_t b_zp = (K + M) % 6 == 0 ? (int32_t)(qt_rand32() % 255) - 127 : 0;
                fill_a(A, M * K, (K + M) % 5 == 0 ? 1 + (int)(M % 3) : 0);
                fill_b(B, K * N, (M + in) % 3 == 0 ? 5 + (int)(K & 1) : 4);
                make_epi(&e, (int)((K + M + in) % 7), M, N);
                CHECKF(run_case(M, N, K, A, a_signed, K, a_zp, B, b_zp, (quant_layout)(M & 1), &e.ep, 0),
                       "M=%d N=%d K=%d signed=%d", (int)M, (int)N, (int)K, a_signed);
                if (M == 7) {
                    const size_t s1 = 1 + K % 13, s2 = s1 + quant_gemm_tile_n() + 3 < N ? s1 + quant_gemm_tile_n() + 3 : N;
                    check_int32_tiles(M, N, K, A, a_signed, a_zp, B, b_zp, s1, s2, pb, sizeof pb, full, ref, tiled);
                }
                if (QT_FAILS > 10) return;
            }
}

/* The sign kernel with rows prepared once for a group of panels (AVX2: K in
 * blocks of 1024, rows in twos, up to 5 panel triples a group, one or two
 * panels past it joining it, the last four as two pairs; the row left over
 * by panel quads, K in blocks of 4096): K around the block sizes and their
 * multiples (K mod 4 all four), M 1..10, N of one pair, of 10 panels (3, 3,
 * 2, 2), of 17 (a group of 5 triples and a pair), and of more than one
 * group (35: 15, 15, 3 + 2); extremes (255 / 0 activations, -127 / 127
 * weights) on some; column ranges that start and end inside a panel and
 * inside a group; rows past a row block (M = 200). The AVX2 build (native
 * or emulated) runs every case; the others, where this is one more GEMM
 * shape, a fifth of them (the kernel tests under qemu spent 5-8 s here). */
static void test_c4w_blocks(void) {
    static const size_t Ks[] = { 1020, 1023, 1024, 1025, 1030, 2047, 2048, 2049, 3074, 4095, 4096, 4097 };
    static const size_t Ns[] = { 32, 160, 272, 560 };
    static uint8_t A[200 * 4097];
    static int8_t B[4097 * 560];
    static int32_t full[10 * 560], ref[10 * 560], tiled[10 * 560];
    static unsigned char pb[4097 * 576 + 8192];
    const int own = !strcmp(quant_isa_name(), "avx2"); /* the build whose path this is */
    size_t ik, M, in;
    qt_epi e;
    for (ik = 0; ik < sizeof Ks / sizeof *Ks; ik++)
        for (M = 1; M <= 10; M++)
            for (in = 0; in < sizeof Ns / sizeof *Ns; in++) {
                const size_t K = Ks[ik], N = Ns[in];
                const int a_signed = (int)((K + M + in) % 4 == 0);
                const int32_t a_zp = a_signed ? (int32_t)(qt_rand32() % 256) - 128 : (int32_t)(qt_rand32() % 256);
                const int32_t b_zp = (K + M) % 6 == 0 ? (int32_t)(qt_rand32() % 255) - 127 : 0;
                if (N >= 560 && M % 3 != 1) continue; /* the large N: M 1, 4, 7, 10 */
                if (N == 160 && M % 3 != 2 && M != 7) continue; /* M 2, 5, 7, 8 */
                if (!own && (3 * ik + M + in) % 5) continue; /* other builds: a fifth, as plain GEMM shapes */
                fill_a(A, M * K, (K + M) % 5 == 0 ? 1 + (int)(M % 2) : 0);
                fill_b(B, K * N, (M + in) % 3 == 0 ? 5 + (int)(K & 1) : 4);
                make_epi(&e, (int)((K + M + in) % 7), M, N);
                CHECKF(run_case(M, N, K, A, a_signed, K, a_zp, B, b_zp, (quant_layout)(M & 1), &e.ep, 0),
                       "M=%d N=%d K=%d signed=%d", (int)M, (int)N, (int)K, a_signed);
                if (M == 7 && N > 32) {
                    const size_t s1 = 1 + K % 13, s2 = 16 * 17 + 5 < N ? 16 * 17 + 5 : N - 7;
                    check_int32_tiles(M, N, K, A, a_signed, a_zp, B, b_zp, s1, s2, pb, sizeof pb, full, ref, tiled);
                }
                if (QT_FAILS > 10) return;
            }
    { /* two row blocks */
        const size_t M = 200, N = 48, K = 1025;
        fill_a(A, M * K, 0);
        fill_b(B, K * N, 4);
        make_epi(&e, 3, M, N);
        CHECKF(run_case(M, N, K, A, 0, K, 128, B, 0, QUANT_LAYOUT_NK, &e.ep, 0), "M=%d N=%d K=%d", (int)M, (int)N, (int)K);
        make_epi(&e, 0, M, N);
        CHECKF(run_case(M, N, K, A, 0, K, 3, B, 0, QUANT_LAYOUT_KN, &e.ep, 0), "M=%d N=%d K=%d", (int)M, (int)N, (int)K);
    }
}

/* The per-call scan that picks the U7 step (every uint8 byte <= 127): rows
 * in 0..127 (extremes 127 and 0 on some), some with two bytes of 200..255
 * at their starts, their ends or inside, so that a byte the scan missed
 * would send the call through the U7 step (pair sums then saturate); pairs
 * of two such rows, of one and of none mix in one call; K across the K
 * blocks, N of one group and of two, weight zero points, every epilogue. */
static void test_u7_scan(void) {
    static const size_t Ks[] = { 64, 97, 288, 1030, 2049 };
    static const size_t Ns[] = { 32, 48, 64, 70, 288 };
    static uint8_t A[13 * 2049];
    static int8_t B[2049 * 288];
    /* the builds with the scan (the pmaddubsw packing) run every case, the
     * others a fifth, as plain GEMM shapes */
    const int own = !strcmp(quant_isa_name(), "sse41") || !strcmp(quant_isa_name(), "avx2") || !strcmp(quant_isa_name(), "avx512");
    size_t ik, in, M, r, k;
    qt_epi e;
    for (ik = 0; ik < sizeof Ks / sizeof *Ks; ik++)
        for (in = 0; in < sizeof Ns / sizeof *Ns; in++)
            for (M = 2; M <= 13; M += 1 + (ik + in) % 3) {
                const size_t K = Ks[ik], N = Ns[in];
                if (!own && (ik + in + M) % 5) continue;
                const unsigned pat = qt_rand32();
                const int32_t a_zp = (int32_t)(qt_rand32() % 256);
                const int32_t b_zp = (K + M + in) % 4 == 0 ? (int32_t)(qt_rand32() % 255) - 127 : 0;
                for (r = 0; r < M; r++) {
                    uint8_t *ar = A + r * K;
                    const int ext = (int)((pat >> 20) % 3);
                    for (k = 0; k < K; k++) ar[k] = ext == 1 ? (uint8_t)(k & 1 ? 127 : 0) : (uint8_t)(qt_rand32() & 127);
                    if ((pat >> (2 + r % 16)) & 1) {
                        /* bytes above 127, both of a pmaddubsw pair (its sum
                         * then saturates for most weight columns), all at
                         * the rows' starts, ends or anywhere by the case:
                         * the call must take the sign step */
                        const size_t at = (pat % 3 == 0 ? 0 : pat % 3 == 1 ? K - 1 : qt_rand32() % K) & ~(size_t)1;
                        ar[at] = (uint8_t)(200 + qt_rand32() % 56);
                        if (at + 1 < K) ar[at + 1] = (uint8_t)(200 + qt_rand32() % 56);
                    }
                }
                fill_b(B, K * N, (M + in) % 3 == 0 ? 5 + (int)(K & 1) : 4);
                make_epi(&e, (int)((K + M + in) % 7), M, N);
                CHECKF(run_case(M, N, K, A, 0, K, a_zp, B, b_zp, (quant_layout)(M & 1), &e.ep, 0),
                       "M=%d N=%d K=%d pattern=%x", (int)M, (int)N, (int)K, pat);
                if (QT_FAILS > 10) return;
            }
}

/* every epilogue on a mid-size shape with random strides */
static void test_epilogues(void) {
    static uint8_t A[37 * 300];
    static int8_t B[300 * 200];
    int kind, s;
    qt_epi e;
    for (kind = 0; kind < 7; kind++)
        for (s = 0; s < 2; s++) {
            size_t M = 37, N = 133 + (size_t)kind, K = 259;
            fill_a(A, sizeof A, kind % 3 == 2 ? 4 : 0);
            fill_b(B, K * N, kind % 2 ? 4 : 0);
            make_epi(&e, kind, M, N);
            CHECKF(run_case(M, N, K, A, s, 300, s ? -3 : 77, B, s ? 0 : 5, QUANT_LAYOUT_KN, &e.ep, 0), "kind=%d s=%d", kind, s);
        }
}

/* an accumulator near a tie of the gemmlowp requantization (multiplier M,
 * right shift e): for M = 2^30, SRDHM(x) = floor((x + 1) / 2), so x = 2q or
 * 2q - 1 gives q = k 2^e + 2^(e-1), exactly half way; other M, a value near
 * output r, or an extreme */
static int32_t tie_acc(int32_t M, int e, int small) {
    const unsigned pick = qt_rand32() % 8;
    const int64_t k = (int64_t)(qt_rand32() % 281) - 140, kk = small ? k : (int64_t)(int32_t)qt_rand32() >> e;
    if (pick == 0) { static const int32_t ext[] = {INT32_MIN, INT32_MAX, 0, -1, 1, INT32_MIN + 1}; return ext[qt_rand32() % 6]; }
    if (M == (1 << 30) && pick < 6) {
        const int64_t q = kk * ((int64_t)1 << e) + ((int64_t)1 << (e - 1)), x = 2 * q - (int64_t)(qt_rand32() % 2);
        if (x >= INT32_MIN && x <= INT32_MAX) return (int32_t)x;
    }
    if (M > 0 && small) { /* about k at the output */
        const double x = (double)k * ldexp(1.0, 31 + e) / (double)M + (double)((int)(qt_rand32() % 9) - 4);
        if (x > INT32_MIN && x < INT32_MAX) return (int32_t)x;
    }
    return (int32_t)qt_rand32();
}

/* The gemmlowp mode's right-shift-only path (both roundings at once on
 * AVX-512 VNNI): per-channel multipliers and every right shift 1..31, with
 * even and odd columns differing, on accumulators at the ties, through
 * quant_gemm (the accumulator is the bias: A at its zero point) against the
 * reference, in both output types, with and without a fused ReLU. */
static void test_gemmlowp_rounding(void) {
    static const int32_t mults[] = {1 << 30, INT32_MAX, 1518500250, 0};
    static int8_t B[4 * 64];
    static uint8_t A[6 * 4];
    qt_epi e;
    int ei, mi, rows, rep;
    for (rep = 0; rep < 4 * 64; rep++) B[rep] = (int8_t)qt_rand32();
    for (ei = 1; ei <= 31; ei++)
        for (mi = 0; mi < 5; mi++)
            for (rows = 1; rows <= 6; rows += 5) {
                const size_t N = 64;
                size_t n;
                const int32_t a_zp = (int32_t)(qt_rand32() % 256);
                memset(A, (int)a_zp, sizeof A);
                memset(&e.ep, 0, sizeof e.ep);
                for (n = 0; n < N; n++) {
                    const int en = n % 2 ? ei : 1 + (int)(qt_rand32() % 31);
                    int32_t M = mi < 4 ? mults[mi] : (int32_t)((1u << 30) | (qt_rand32() >> 2));
                    if (mi == 3) M = n % 3 ? (1 << 30) : 0; /* a zero multiplier among them */
                    e.rq[n].multiplier = M; e.rq[n].shift = -en; e.rq[n].scale = 0;
                    e.bias[n] = tie_acc(M, en, qt_rand32() % 4 != 0);
                }
                e.ep.out = qt_rand32() % 2 ? QUANT_OUT_U8 : QUANT_OUT_I8;
                e.ep.mode = QUANT_RQ_GEMMLOWP; e.ep.rq = e.rq; e.ep.per_channel = 1; e.ep.bias_i32 = e.bias;
                e.ep.out_min = e.ep.out == QUANT_OUT_U8 ? 0 : -128; e.ep.out_max = e.ep.out_min + 255;
                e.ep.out_zp = e.ep.out_min + (int32_t)(qt_rand32() % 256);
                if (qt_rand32() % 3 == 0) e.ep.out_min = e.ep.out_zp;
                CHECKF(run_case((size_t)rows, N, 4, A, 0, 4, a_zp, B, 0, QUANT_LAYOUT_KN, &e.ep, 0),
                       "e=%d mult=%d rows=%d", ei, mi, rows);
            }
}

static void test_large_shapes(void) {
    static const size_t shapes[][3] = { {1, 4096, 4096}, {127, 255, 513}, {4, 1000, 1000}, {3, 67, 4099},
                                        {64, 512, 128}, {250, 70, 300}, {2, 3, 10000}, {513, 17, 33} };
    size_t i;
    qt_epi e;
    for (i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        size_t M = shapes[i][0], N = shapes[i][1], K = shapes[i][2];
        uint8_t *A = (uint8_t *)malloc(M * K);
        int8_t *B = (int8_t *)malloc(K * N);
        fill_a(A, M * K, i % 3 == 1 ? 4 : 0);
        fill_b(B, K * N, i % 4 < 2 ? 4 : 0);
        make_epi(&e, (int)(i % 7), M, N);
        if (N > 600) make_epi(&e, 0, M, N);
        CHECKF(run_case(M, N, K, A, (int)(i & 1), K, (int32_t)(i & 1 ? -7 : 131), B, i == 3 ? -9 : 0,
                        (quant_layout)(i & 1), &e.ep, 0), "M=%d N=%d K=%d", (int)M, (int)N, (int)K);
        free(A); free(B);
    }
}

/* saturation traps: every activation 255 with every weight -128 or 127,
 * alternating extremes, up to the largest K the documentation promises; the
 * same with weights in -127..127 and activations in 0..127 (the pmaddubsw
 * kernels' limits: pairs of 128 x 127 and 127 x 128) */
static void test_adversarial(void) {
    size_t Ks[] = { 1, 2, 3, 4, 5, 63, 64, 65, 1000, 4096, QUANT_GEMM_MAX_K };
    size_t i;
    int am, bm, s;
    qt_epi e;
    for (i = 0; i < sizeof Ks / sizeof *Ks; i++)
        for (am = 1; am <= 6; am++)
            for (bm = 1; bm <= 6; bm++)
                if (am != 4 && bm != 4) /* (4: random) */
                for (s = 0; s < 2; s++) {
                    size_t K = Ks[i], M = 3, N = 19;
                    uint8_t *A = (uint8_t *)malloc(M * K);
                    int8_t *B = (int8_t *)malloc(K * N);
                    int32_t a_zp, b_zp;
                    fill_a(A, M * K, am);
                    fill_b(B, K * N, bm);
                    /* zero points that maximise |A - a_zp| * |B - b_zp| */
                    a_zp = s ? (am == 1 || am == 5 ? -128 : 127) : (am == 1 || am == 5 ? 0 : 255);
                    if (s) { size_t t; for (t = 0; t < M * K; t++) A[t] = am == 1 || am == 5 ? 127 : A[t] ? 0x80 : 127; }
                    b_zp = bm == 1 || bm == 5 ? 127 : bm == 2 ? -128 : 0;
                    make_epi(&e, 0, M, N);
                    CHECKF(run_case(M, N, K, A, s, K, a_zp, B, b_zp, QUANT_LAYOUT_KN, &e.ep, 0),
                           "K=%d am=%d bm=%d s=%d", (int)K, am, bm, s);
                    make_epi(&e, 2, M, N);
                    CHECKF(run_case(M, N, K, A, s, K, a_zp, B, b_zp, QUANT_LAYOUT_NK, &e.ep, 0),
                           "requant K=%d am=%d bm=%d s=%d", (int)K, am, bm, s);
                    free(A); free(B);
                }
}

/* The packing a build chooses: on SSE4.1, AVX2 and AVX-512 without VNNI
 * weights without a -128 byte (K >= 64) take the 4-byte-group packing of the
 * pmaddubsw kernels, others the 2-byte one of the widening kernel; other
 * builds have one packing. The header's k group is its sixth word. */
static void test_packings(void) {
    static int8_t B[64 * 40];
    const char *isa = quant_isa_name();
    const int two = !strcmp(isa, "sse41") || !strcmp(isa, "avx2") || !strcmp(isa, "avx512");
    unsigned char pb[8192];
    uint32_t kg_full = 0, kg_sym = 0;
    CHECK(quant_gemm_pack_size(64, 40) <= sizeof pb);
    fill_b(B, sizeof B, 4);
    B[sizeof B - 1] = -128;
    CHECK(quant_gemm_pack(B, QUANT_LAYOUT_KN, 64, 40, 0, pb, sizeof pb) == QUANT_OK);
    memcpy(&kg_full, pb + 20, 4);
    B[sizeof B - 1] = -127;
    CHECK(quant_gemm_pack(B, QUANT_LAYOUT_KN, 64, 40, 0, pb, sizeof pb) == QUANT_OK);
    memcpy(&kg_sym, pb + 20, 4);
    if (two) CHECKF(kg_full == 2 && kg_sym == 4, "%s: k groups %u and %u", isa, (unsigned)kg_full, (unsigned)kg_sym);
    else CHECKF(kg_full == kg_sym, "%s: k groups %u and %u", isa, (unsigned)kg_full, (unsigned)kg_sym);
}

/* tiles reassemble the whole product; misaligned buffers work */
static void test_tiles_and_alignment(void) {
    size_t M = 23, N = 150, K = 77, bytes = quant_gemm_pack_size(K, N);
    static uint8_t Abuf[23 * 77 + 1];
    static int8_t B[77 * 150];
    static int32_t full[23 * 150], tiled[23 * 150];
    unsigned char *pb = (unsigned char *)malloc(bytes + 3);
    uint8_t *A = Abuf + 1; /* misaligned activations */
    quant_epilogue ep;
    int t;
    memset(&ep, 0, sizeof ep);
    fill_a(A, M * K, 0);
    fill_b(B, K * N, 0);
    CHECK(quant_gemm_pack(B, QUANT_LAYOUT_KN, K, N, 3, pb + 3, bytes) == QUANT_OK); /* misaligned packing */
    CHECK(quant_gemm(M, A, 0, K, 9, pb + 3, &ep, full, N) == QUANT_OK);
    {
        qt_epi e; make_epi(&e, 0, M, N);
        CHECK(run_case(M, N, K, A, 0, K, 9, B, 3, QUANT_LAYOUT_KN, &e.ep, 1));
    }
    for (t = 0; t < 20; t++) {
        size_t ms[4], ns[4], i, j;
        memset(tiled, 0, sizeof tiled);
        ms[0] = 0; ms[3] = M; ms[1] = qt_rand32() % (M + 1); ms[2] = ms[1] + qt_rand32() % (M - ms[1] + 1);
        ns[0] = 0; ns[3] = N; ns[1] = qt_rand32() % (N + 1); ns[2] = ns[1] + qt_rand32() % (N - ns[1] + 1);
        if (t & 1) { ns[1] = quant_gemm_tile_n(); ns[2] = 2 * quant_gemm_tile_n() < N ? 2 * quant_gemm_tile_n() : N; }
        for (i = 0; i < 3; i++)
            for (j = 0; j < 3; j++)
                CHECK(quant_gemm_tile(M, A, 0, K, 9, pb + 3, &ep, tiled, N, ms[i], ms[i + 1], ns[j], ns[j + 1]) == QUANT_OK);
        CHECK(memcmp(full, tiled, sizeof full) == 0);
    }
    /* every epilogue through tiles whose columns start and end inside a
     * panel, at multiples of 8 (whole vectors of the narrower ISAs) and not */
    for (t = 0; t < 28; t++) {
        const int kind = t % 7;
        size_t ms[3], ns[4], i, j, osz;
        qt_epi e;
        make_epi(&e, kind, M, N);
        osz = e.ep.out == QUANT_OUT_I8 || e.ep.out == QUANT_OUT_U8 ? 1 : 4;
        memset(full, 0x11, sizeof full); memset(tiled, 0x22, sizeof tiled);
        CHECK(quant_gemm(M, A, 0, K, 9, pb + 3, &e.ep, full, N) == QUANT_OK);
        ms[0] = 0; ms[2] = M; ms[1] = 1 + qt_rand32() % (M - 1);
        ns[0] = 0; ns[3] = N;
        ns[1] = t < 14 ? 8 * (1 + qt_rand32() % 4) : 1 + qt_rand32() % 40;
        ns[2] = ns[1] + (t < 14 ? 8 * (1 + qt_rand32() % 6) : 1 + qt_rand32() % 50);
        for (i = 0; i < 2; i++)
            for (j = 0; j < 3; j++)
                CHECK(quant_gemm_tile(M, A, 0, K, 9, pb + 3, &e.ep, tiled, N, ms[i], ms[i + 1], ns[j], ns[j + 1]) == QUANT_OK);
        CHECKF(memcmp(full, tiled, M * N * osz) == 0, "kind %d columns %d %d", kind, (int)ns[1], (int)ns[2]);
    }
    free(pb);
}

/* The float requantization to 8 bits applied inside the sign kernel (AVX2:
 * 3 rows by two whole panels, from its registers): symmetric weights, K past
 * the pmaddubsw threshold, full-range uint8 or int8 activations, both 8-bit
 * types, per channel and per tensor, random zero points and clamps, scales
 * that saturate; every row remainder, a lone last panel, a row stride wider
 * than N (its gap untouched), and tiles whose rows and columns start and end
 * inside a tile and a panel, against the reference. */
static void test_fused_fp32_rq(void) {
    static const size_t Ks[] = { 64, 97, 288 };
    static const size_t Ns[] = { 32, 64, 80, 37 };
    static uint8_t A[11 * 288];
    static int8_t B[288 * 80];
    static unsigned char pb[40000], ref[11 * 80], full[11 * 90], tiled[11 * 80];
    size_t ik, in, M;
    int t = 0;
    qt_epi e;
    for (ik = 0; ik < sizeof Ks / sizeof *Ks; ik++)
        for (in = 0; in < sizeof Ns / sizeof *Ns; in++)
            for (M = 1; M <= 11; M++, t++) {
                const size_t K = Ks[ik], N = Ns[in], ldc = N + 10;
                const int a_signed = t % 3 == 1;
                const int32_t a_zp = a_signed ? (int32_t)(qt_rand32() % 256) - 128 : (int32_t)(qt_rand32() % 256);
                const int32_t b_zp = t % 5 == 4 ? (int32_t)(qt_rand32() % 255) - 127 : 0;
                size_t i, j, r, ms[3], ns[4];
                fill_a(A, M * K, t % 7 == 3 ? 1 : t % 7 == 5 ? 2 : 0);
                fill_b(B, K * N, t % 4 == 2 ? 6 : 4);
                make_epi(&e, 4, M, N); /* QUANT_RQ_FP32, a random 8-bit type, zero point and clamp */
                e.ep.per_channel = t % 4 != 3;
                for (j = 0; j < N; j++) /* some scales large enough to clamp at both ends */
                    if ((j + (size_t)t) % 6 == 0) e.rq[j].scale = (float)(0.5 + qt_uniform());
                CHECK(quant_gemm_pack_size(K, N) <= sizeof pb);
                CHECK(quant_gemm_pack(B, QUANT_LAYOUT_KN, K, N, b_zp, pb, sizeof pb) == QUANT_OK);
                CHECK(quant_ref_gemm(M, N, K, A, a_signed, K, a_zp, B, N, b_zp, &e.ep, ref, N) == QUANT_OK);
                memset(full, 0x5A, sizeof full);
                CHECK(quant_gemm(M, A, a_signed, K, a_zp, pb, &e.ep, full, ldc) == QUANT_OK);
                for (r = 0; r < M; r++) {
                    CHECKF(memcmp(full + r * ldc, ref + r * N, N) == 0, "M=%d N=%d K=%d signed=%d out=%d row %d",
                           (int)M, (int)N, (int)K, a_signed, (int)e.ep.out, (int)r);
                    for (j = N; j < ldc && r + 1 < M; j++) CHECK(full[r * ldc + j] == 0x5A);
                }
                memset(tiled, 0x22, sizeof tiled);
                ms[0] = 0; ms[2] = M; ms[1] = qt_rand32() % (M + 1);
                ns[0] = 0; ns[3] = N; ns[1] = qt_rand32() % (N + 1); ns[2] = ns[1] + qt_rand32() % (N - ns[1] + 1);
                if (t & 1) { ns[1] = quant_gemm_tile_n() < N ? quant_gemm_tile_n() : N; ns[2] = ns[1] + (qt_rand32() % 2) * 2 * quant_gemm_tile_n(); }
                if (ns[2] > N) ns[2] = N;
                for (i = 0; i < 2; i++)
                    for (j = 0; j < 3; j++)
                        CHECK(quant_gemm_tile(M, A, a_signed, K, a_zp, pb, &e.ep, tiled, N, ms[i], ms[i + 1], ns[j], ns[j + 1]) == QUANT_OK);
                CHECKF(memcmp(tiled, ref, M * N) == 0, "tiles M=%d N=%d K=%d rows %d columns %d %d", (int)M, (int)N, (int)K,
                       (int)ms[1], (int)ns[1], (int)ns[2]);
                /* one tile alone writes its columns and nothing else */
                memset(tiled, 0x33, sizeof tiled);
                CHECK(quant_gemm_tile(M, A, a_signed, K, a_zp, pb, &e.ep, tiled, N, 0, M, ns[1], ns[2]) == QUANT_OK);
                for (r = 0; r < M; r++)
                    for (j = 0; j < N; j++)
                        CHECKF(tiled[r * N + j] == (j >= ns[1] && j < ns[2] ? ref[r * N + j] : 0x33),
                               "tile M=%d N=%d K=%d columns %d %d: (%d, %d)", (int)M, (int)N, (int)K, (int)ns[1], (int)ns[2],
                               (int)r, (int)j);
                if (QT_FAILS > 10) return;
            }
}

/* int32 output written by the micro-kernel itself (whole panels): a row
 * stride wider than N (the gap between rows stays untouched), every row
 * count of a tile, asymmetric weights (row sums), bias, both A types */
static void test_int32_stride(void) {
    static const size_t Ms[] = { 1, 2, 5, 6, 7, 13, 40 }, Ks[] = { 3, 64, 300, 1030 };
    size_t N = 3 * quant_gemm_tile_n() + 5, ldc = N + 3, im, ik;
    int32_t bias[600];
    size_t i;
    for (i = 0; i < 600; i++) bias[i] = (int32_t)(qt_rand32() % 2001) - 1000;
    for (im = 0; im < sizeof Ms / sizeof *Ms; im++)
        for (ik = 0; ik < sizeof Ks / sizeof *Ks; ik++) {
            size_t M = Ms[im], K = Ks[ik], bytes = quant_gemm_pack_size(K, N);
            int s = (int)((im + ik) & 1);
            uint8_t *A = (uint8_t *)malloc(M * K);
            int8_t *B = (int8_t *)malloc(K * N);
            int32_t *c1 = (int32_t *)malloc(M * ldc * 4), *c2 = (int32_t *)malloc(M * ldc * 4);
            void *pb = malloc(bytes);
            quant_epilogue ep;
            memset(&ep, 0, sizeof ep);
            ep.out = QUANT_OUT_I32;
            if (ik & 1) ep.bias_i32 = bias;
            fill_a(A, M * K, 0);
            fill_b(B, K * N, 0);
            memset(c1, 0x5A, M * ldc * 4);
            memset(c2, 0x5A, M * ldc * 4);
            CHECK(quant_gemm_pack(B, QUANT_LAYOUT_KN, K, N, im & 1 ? 4 : 0, pb, bytes) == QUANT_OK);
            CHECK(quant_gemm(M, A, s, K, s ? 5 : 200, pb, &ep, c1, ldc) == QUANT_OK);
            CHECK(quant_ref_gemm(M, N, K, A, s, K, s ? 5 : 200, B, N, im & 1 ? 4 : 0, &ep, c2, ldc) == QUANT_OK);
            CHECKF(memcmp(c1, c2, M * ldc * 4) == 0, "M=%d K=%d", (int)M, (int)K);
            free(A); free(B); free(c1); free(c2); free(pb);
        }
}

static void test_bad_input(void) {
    size_t K = 10, N = 5, bytes = quant_gemm_pack_size(K, N), kk, nn;
    unsigned char *pb = (unsigned char *)malloc(bytes);
    int8_t B[50];
    uint8_t A[20];
    int32_t C[10], keep[10];
    quant_epilogue ep;
    memset(&ep, 0, sizeof ep);
    memset(B, 1, sizeof B); memset(A, 1, sizeof A);
    CHECK(quant_gemm_pack_size(0, 5) == 0 && quant_gemm_pack_size(5, 0) == 0);
    CHECK(quant_gemm_pack_size(QUANT_GEMM_MAX_K + 1, 5) == 0);
    CHECK(quant_gemm_pack(B, QUANT_LAYOUT_KN, K, N, 0, pb, bytes - 1) == QUANT_EINVAL);
    CHECK(quant_gemm_pack(NULL, QUANT_LAYOUT_KN, K, N, 0, pb, bytes) == QUANT_EINVAL);
    CHECK(quant_gemm_pack(B, (quant_layout)7, K, N, 0, pb, bytes) == QUANT_EINVAL);
    CHECK(quant_gemm_pack(B, QUANT_LAYOUT_KN, K, N, 200, pb, bytes) == QUANT_EINVAL);
    CHECK(quant_gemm_pack(B, QUANT_LAYOUT_KN, QUANT_GEMM_MAX_K + 1, N, 0, pb, bytes) == QUANT_ERANGE);
    CHECK(quant_gemm_pack(B, QUANT_LAYOUT_KN, K, N, 0, pb, bytes) == QUANT_OK);
    CHECK(quant_gemm_packed_dims(pb, &kk, &nn) == QUANT_OK && kk == K && nn == N);
    memset(C, 0x77, sizeof C); memcpy(keep, C, sizeof C);
    CHECK(quant_gemm(2, A, 0, K, 300, pb, &ep, C, N) == QUANT_EINVAL);    /* a_zp out of range */
    CHECK(quant_gemm(2, A, 1, K, 128, pb, &ep, C, N) == QUANT_EINVAL);
    CHECK(quant_gemm(2, NULL, 0, K, 0, pb, &ep, C, N) == QUANT_EINVAL);
    CHECK(quant_gemm(2, A, 0, K - 1, 0, pb, &ep, C, N) == QUANT_EINVAL);  /* lda < K */
    CHECK(quant_gemm(2, A, 0, K, 0, pb, NULL, C, N) == QUANT_EINVAL);
    CHECK(quant_gemm_tile(2, A, 0, K, 0, pb, &ep, C, N, 0, 3, 0, N) == QUANT_EINVAL);
    CHECK(quant_gemm(0, A, 0, K, 0, pb, &ep, C, N) == QUANT_OK);          /* M = 0 */
    {   /* a corrupted or foreign buffer is refused */
        unsigned char *bad = (unsigned char *)malloc(bytes);
        size_t off;
        for (off = 0; off < 64; off += 4) {
            memcpy(bad, pb, bytes);
            bad[off] ^= 0x40;
            if (off >= 52) continue; /* reserved words */
            CHECKF(quant_gemm(2, A, 0, K, 0, bad, &ep, C, N) == QUANT_EFORMAT, "header byte %d", (int)off);
        }
        free(bad);
    }
    {   /* a bad epilogue */
        quant_epilogue e2;
        memset(&e2, 0, sizeof e2);
        e2.out = QUANT_OUT_I8; /* no rq */
        CHECK(quant_gemm(2, A, 0, K, 0, pb, &e2, C, N) == QUANT_EINVAL);
        e2.out = QUANT_OUT_F32; /* no w_scale */
        CHECK(quant_gemm(2, A, 0, K, 0, pb, &e2, C, N) == QUANT_EINVAL);
    }
    CHECK(memcmp(C, keep, sizeof C) == 0);
    free(pb);
}

int main(void) {
    RUN(test_isa);
    RUN(test_all_small_shapes);
    RUN(test_c4_tails);
    RUN(test_c4_chunks);
    RUN(test_c4w_blocks);
    RUN(test_u7_scan);
    RUN(test_epilogues);
    RUN(test_gemmlowp_rounding);
    RUN(test_large_shapes);
    RUN(test_adversarial);
    RUN(test_packings);
    RUN(test_tiles_and_alignment);
    RUN(test_fused_fp32_rq);
    RUN(test_int32_stride);
    RUN(test_bad_input);
    return qt_summary();
}
