/* tests/ktest_q4.c - int4 block weights x int8 activations (quant_kernels.h
 * section 7) on the ISA this file is compiled for, against quant.h's
 * quant_ref_gemm_q4 (bit for bit) and against the exact
 * sum in double precision (tolerance): all K from 1 to 100 and odd larger
 * ones, tiles, both activation types and zero points, every output type,
 * adversarial extremes, the largest K, misaligned buffers, conv2d, bad input. */
#ifndef QT_SEPARATE_IMPL
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include "harness.h"

/* quant.h's reference (bit for bit), and the exact sum in double precision */
static void ref_q4(size_t M, size_t N, size_t K, const uint8_t *A, int a_signed, size_t lda, int32_t zp,
                   const int8_t *W, const float *sc, const quant_q4_epilogue *ep, void *C, size_t ldc, double *exact) {
    size_t nb = (K + 31) / 32, m, n, b, k;
    CHECK(quant_ref_gemm_q4(M, N, K, A, a_signed, lda, zp, W, sc, ep, C, ldc) == QUANT_OK);
    if (exact)
        for (m = 0; m < M; m++)
            for (n = 0; n < N; n++) {
                double ex = 0;
                for (b = 0; b < nb; b++) {
                    long long dot = 0;
                    for (k = b * 32; k < K && k < b * 32 + 32; k++)
                        dot += (long long)((a_signed ? (int)(int8_t)A[m * lda + k] : (int)A[m * lda + k]) - zp) * W[n * K + k];
                    ex += (double)dot * sc[n * nb + b];
                }
                exact[m * N + n] = ex * ep->a_scale[ep->a_scale_per_row ? m : 0] + (ep->bias ? ep->bias[n] : 0.0);
            }
}

typedef struct { size_t M, N, K; int a_signed, kind; int32_t zp; quant_out_type out; int per_row, bias; } q4case;

/* kind: 0 random, 1 A max / W -8, 2 A min / W 7, 3 alternating extremes */
static int run_case(const q4case *c, int tile) {
    const size_t M = c->M, N = c->N, K = c->K, nb = (K + 31) / 32, lda = K + (qt_rand32() % 3), ldc = N + (qt_rand32() % 3);
    const size_t es = c->out == QUANT_OUT_F32 ? 4 : 1;
    uint8_t *Abuf = (uint8_t *)malloc(M * lda + 1), *A = Abuf + 1; /* misaligned */
    int8_t *W = (int8_t *)malloc(N * K);
    float *sc = (float *)malloc(sizeof(float) * N * nb), *as = (float *)malloc(sizeof(float) * M), *bias = (float *)malloc(sizeof(float) * N);
    size_t pb = quant_gemm_q4_pack_size(K, N);
    uint8_t *pbuf = (uint8_t *)malloc(pb + 3), *packed = pbuf + 3;
    uint8_t *Cq = (uint8_t *)malloc(M * ldc * es), *Cr = (uint8_t *)malloc(M * ldc * es);
    double *ex = (double *)malloc(sizeof(double) * M * N);
    quant_q4_epilogue ep;
    size_t i, m0 = 0, m1 = M, n0 = 0, n1 = N, m, n;
    int fails = QT_FAILS;
    for (i = 0; i < M * lda; i++) {
        uint8_t v = (uint8_t)qt_rand32();
        if (c->kind == 1) v = c->a_signed ? 0x80 : 255;
        if (c->kind == 2) v = c->a_signed ? 0x7f : 0;
        if (c->kind == 3) v = (i & 1) ? (c->a_signed ? 0x80 : 255) : (c->a_signed ? 0x7f : 0);
        A[i] = v;
    }
    for (i = 0; i < N * K; i++) W[i] = (int8_t)(c->kind == 1 ? -8 : c->kind == 2 ? 7 : c->kind == 3 ? ((i & 1) ? -8 : 7) : (int)(qt_rand32() % 16) - 8);
    for (i = 0; i < N * nb; i++) sc[i] = (i % 17 == 5) ? 0.0f : (float)(qt_uniform() * 0.02 + 1e-4);
    for (i = 0; i < M; i++) as[i] = (float)(qt_uniform() * 0.05 + 1e-3);
    for (i = 0; i < N; i++) bias[i] = (float)(qt_normal() * 0.5);
    memset(&ep, 0, sizeof ep);
    ep.out = c->out; ep.a_scale = as; ep.a_scale_per_row = c->per_row; ep.bias = c->bias ? bias : NULL;
    ep.out_inv = (float)(1.0 / (0.02 + qt_uniform() * 0.1));
    if (c->out == QUANT_OUT_U8) { ep.out_zp = (int32_t)(qt_rand32() % 256); ep.out_min = qt_rand32() % 2 ? ep.out_zp : 0; ep.out_max = 255; }
    if (c->out == QUANT_OUT_I8) { ep.out_zp = (int32_t)(qt_rand32() % 256) - 128; ep.out_min = -128; ep.out_max = 127; }
    CHECK(pb > 0);
    CHECK(quant_gemm_q4_pack(W, sc, K, N, packed, pb) == QUANT_OK);
    ref_q4(M, N, K, A, c->a_signed, lda, c->zp, W, sc, &ep, Cr, ldc, ex);
    memset(Cq, 0xA5, M * ldc * es);
    if (tile) {
        m0 = qt_rand32() % M; m1 = m0 + 1 + qt_rand32() % (M - m0);
        n0 = qt_rand32() % N; n1 = n0 + 1 + qt_rand32() % (N - n0);
        if (qt_rand32() % 2) { n0 = n0 / 16 * 16; }
        CHECK(quant_gemm_q4_tile(M, A, c->a_signed, lda, c->zp, packed, &ep, Cq, ldc, m0, m1, n0, n1) == QUANT_OK);
    } else CHECK(quant_gemm_q4(M, A, c->a_signed, lda, c->zp, packed, &ep, Cq, ldc) == QUANT_OK);
    for (m = 0; m < M; m++)
        for (n = 0; n < ldc; n++) {
            const uint8_t *q = Cq + (m * ldc + n) * es, *r = Cr + (m * ldc + n) * es;
            if (m >= m0 && m < m1 && n >= n0 && n < n1) {
                CHECKF(memcmp(q, r, es) == 0, "M%zu N%zu K%zu signed %d zp %d kind %d out %d: [%zu][%zu] differs",
                       M, N, K, c->a_signed, c->zp, c->kind, (int)c->out, m, n);
                if (c->out == QUANT_OUT_F32) {
                    float y; double e = ex[m * N + n];
                    memcpy(&y, q, 4);
                    /* fmaf chain: each step rounds once; the bound is nb + 1 roundings of the running magnitude */
                    CHECKF(fabs(y - e) <= 1e-6 * (double)(nb + 2) * (fabs(e) + 1.0) * 4.0, "y %g exact %g", y, e);
                }
            } else {
                size_t j;
                for (j = 0; j < es; j++) CHECKF(q[j] == 0xA5, "written outside the tile at [%zu][%zu]", m, n);
            }
            if (QT_FAILS - fails > 4) goto done;
        }
done:
    free(Abuf); free(W); free(sc); free(as); free(bias); free(pbuf); free(Cq); free(Cr); free(ex);
    return QT_FAILS == fails;
}

static q4case rand_case(size_t M, size_t N, size_t K) {
    q4case c;
    memset(&c, 0, sizeof c);
    c.M = M; c.N = N; c.K = K;
    c.a_signed = (int)(qt_rand32() % 2);
    c.zp = qt_rand32() % 3 == 0 ? 0 : c.a_signed ? (int32_t)(qt_rand32() % 256) - 128 : (int32_t)(qt_rand32() % 256);
    c.out = (quant_out_type)(qt_rand32() % 3 == 0 ? QUANT_OUT_F32 : qt_rand32() % 2 ? QUANT_OUT_U8 : QUANT_OUT_I8);
    c.per_row = (int)(qt_rand32() % 2); c.bias = (int)(qt_rand32() % 3 != 0);
    return c;
}

static void test_all_k(void) {
    size_t K;
    for (K = 1; K <= 100; K++) {
        int t;
        for (t = 0; t < 3; t++) {
            q4case c = rand_case(1 + qt_rand32() % 9, 1 + qt_rand32() % 40, K);
            c.out = t == 0 ? QUANT_OUT_F32 : c.out;
            if (!run_case(&c, 0)) return;
        }
    }
}

static void test_all_mn(void) {
    size_t M, N;
    for (M = 1; M <= 13; M++)
        for (N = 1; N <= 40; N++) {
            q4case c = rand_case(M, N, 1 + qt_rand32() % 80);
            if (!run_case(&c, 0)) return;
        }
}

static void test_large_odd(void) {
    static const size_t Ks[] = { 127, 128, 129, 255, 256, 257, 300, 1000, 3136 };
    size_t i;
    for (i = 0; i < sizeof Ks / sizeof Ks[0]; i++) {
        q4case c = rand_case(1 + qt_rand32() % 20, 1 + qt_rand32() % 140, Ks[i]);
        if (!run_case(&c, 0)) return;
        c = rand_case(1, 128, Ks[i]);
        if (!run_case(&c, 0)) return;
    }
}

static void test_tiles(void) {
    int t;
    for (t = 0; t < 200; t++) {
        q4case c = rand_case(1 + qt_rand32() % 14, 1 + qt_rand32() % 70, 1 + qt_rand32() % 130);
        if (!run_case(&c, 1)) return;
    }
}

static void test_adversarial(void) {
    int kind, s, t;
    for (kind = 1; kind <= 3; kind++)
        for (s = 0; s < 2; s++)
            for (t = 0; t < 6; t++) {
                q4case c = rand_case(1 + t, 17 + t * 5, 31 + t * 37);
                c.kind = kind; c.a_signed = s;
                c.zp = t % 3 == 0 ? 0 : t % 3 == 1 ? (s ? -128 : 255) : (s ? 127 : 0);
                c.out = (quant_out_type)(t % 2 ? QUANT_OUT_F32 : QUANT_OUT_I8);
                if (!run_case(&c, 0)) return;
            }
}

static void test_largest_k(void) {
    q4case c = rand_case(2, 17, QUANT_GEMM_MAX_K);
    c.kind = 1; c.out = QUANT_OUT_F32; c.a_signed = 0; c.zp = 0;
    run_case(&c, 0);
    c.kind = 3; c.a_signed = 1; c.zp = 127;
    run_case(&c, 0);
}

static void test_conv(void) {
    int t;
    for (t = 0; t < 120; t++) {
        quant_conv_shape s;
        size_t oh, ow, K, P, i, p, ky, kx, ch, nb;
        uint8_t *in, *col, *pk, *ws, *o, *r;
        int8_t *W;
        float *sc, *as, *bias;
        quant_q4_epilogue ep;
        int a_signed = (int)(qt_rand32() % 2);
        int32_t zp = a_signed ? (int32_t)(qt_rand32() % 256) - 128 : (int32_t)(qt_rand32() % 256);
        size_t p0, p1, wsb;
        memset(&s, 0, sizeof s);
        s.batch = 1 + qt_rand32() % 2; s.in_h = 1 + qt_rand32() % 9; s.in_w = 1 + qt_rand32() % 9;
        s.in_c = 1 + qt_rand32() % (t % 4 == 0 ? 40 : 8); s.out_c = 1 + qt_rand32() % 40;
        s.k_h = 1 + qt_rand32() % 3; s.k_w = 1 + qt_rand32() % 3;
        s.stride_h = 1 + qt_rand32() % 2; s.stride_w = 1 + qt_rand32() % 2;
        s.dil_h = 1 + (t % 7 == 0); s.dil_w = 1 + (t % 5 == 0);
        s.pad_top = qt_rand32() % 2; s.pad_bottom = qt_rand32() % 2; s.pad_left = qt_rand32() % 2; s.pad_right = qt_rand32() % 2;
        if (t % 6 == 0) { s.k_h = s.k_w = 1; s.stride_h = s.stride_w = 1; s.pad_top = s.pad_bottom = s.pad_left = s.pad_right = 0; }
        if (quant_conv_out_size(&s, &oh, &ow) != QUANT_OK) continue;
        K = s.k_h * s.k_w * s.in_c; P = s.batch * oh * ow; nb = (K + 31) / 32;
        in = (uint8_t *)malloc(s.batch * s.in_h * s.in_w * s.in_c); col = (uint8_t *)malloc(P * K);
        W = (int8_t *)malloc(s.out_c * K); sc = (float *)malloc(4 * s.out_c * nb); bias = (float *)malloc(4 * s.out_c);
        pk = (uint8_t *)malloc(quant_gemm_q4_pack_size(K, s.out_c));
        wsb = quant_conv2d_workspace_size(&s); ws = (uint8_t *)malloc(wsb + 1);
        o = (uint8_t *)malloc(P * s.out_c * 4); r = (uint8_t *)malloc(P * s.out_c * 4);
        for (i = 0; i < s.batch * s.in_h * s.in_w * s.in_c; i++) in[i] = (uint8_t)qt_rand32();
        for (i = 0; i < s.out_c * K; i++) W[i] = (int8_t)((int)(qt_rand32() % 16) - 8);
        for (i = 0; i < s.out_c * nb; i++) sc[i] = (float)(qt_uniform() * 0.01 + 1e-4);
        for (i = 0; i < s.out_c; i++) bias[i] = (float)qt_normal();
        as = (float *)malloc(4 * P);
        for (i = 0; i < P; i++) as[i] = (float)(0.01 + qt_uniform() * 0.04);
        memset(&ep, 0, sizeof ep);
        ep.out = t % 2 ? QUANT_OUT_U8 : QUANT_OUT_F32; ep.a_scale = as; ep.bias = bias; ep.out_inv = 10.0f; ep.out_zp = 3; ep.out_min = 3; ep.out_max = 255;
        ep.a_scale_per_row = t % 4 == 1;
        /* im2col by hand: padded taps hold the zero point */
        for (p = 0; p < P; p++) {
            size_t bi = p / (oh * ow), y = p / ow % oh, x = p % ow;
            for (ky = 0; ky < s.k_h; ky++) for (kx = 0; kx < s.k_w; kx++) for (ch = 0; ch < s.in_c; ch++) {
                long iy = (long)(y * s.stride_h + ky * s.dil_h) - (long)s.pad_top, ix = (long)(x * s.stride_w + kx * s.dil_w) - (long)s.pad_left;
                uint8_t v = (uint8_t)(zp & 0xff);
                if (iy >= 0 && ix >= 0 && iy < (long)s.in_h && ix < (long)s.in_w) v = in[((bi * s.in_h + (size_t)iy) * s.in_w + (size_t)ix) * s.in_c + ch];
                col[p * K + (ky * s.k_w + kx) * s.in_c + ch] = v;
            }
        }
        CHECK(quant_gemm_q4_pack(W, sc, K, s.out_c, pk, quant_gemm_q4_pack_size(K, s.out_c)) == QUANT_OK);
        ref_q4(P, s.out_c, K, col, a_signed, K, zp, W, sc, &ep, r, s.out_c, NULL);
        p0 = qt_rand32() % P; p1 = p0 + 1 + qt_rand32() % (P - p0);
        if (t % 3 == 0) { p0 = 0; p1 = P; }
        CHECK(quant_conv2d_q4_tile(&s, in, a_signed, zp, pk, &ep, o, ws + 1, wsb, p0, p1) == QUANT_OK);
        {
            size_t es = ep.out == QUANT_OUT_F32 ? 4 : 1;
            CHECKF(memcmp(o + p0 * s.out_c * es, r + p0 * s.out_c * es, (p1 - p0) * s.out_c * es) == 0,
                   "conv %zux%zux%zu k%zux%zu s%zu/%zu pad %zu%zu%zu%zu dil %zu/%zu out_c %zu pixels [%zu, %zu)",
                   s.in_h, s.in_w, s.in_c, s.k_h, s.k_w, s.stride_h, s.stride_w, s.pad_top, s.pad_left, s.pad_bottom, s.pad_right,
                   s.dil_h, s.dil_w, s.out_c, p0, p1);
        }
        free(as); free(in); free(col); free(W); free(sc); free(bias); free(pk); free(ws); free(o); free(r);
        if (QT_FAILS) return;
    }
}

static void test_bad_input(void) {
    int8_t W[16 * 40];
    float sc[16 * 2], as[2] = { 0.1f, 0.1f }, y[2 * 16];
    uint8_t A[2 * 40] = { 0 }, pk[4096], pk2[4096];
    size_t pb = quant_gemm_q4_pack_size(40, 16), K, N;
    quant_q4_epilogue ep;
    int i;
    for (i = 0; i < 16 * 40; i++) W[i] = (int8_t)(i % 16 - 8);
    for (i = 0; i < 32; i++) sc[i] = 0.01f;
    memset(&ep, 0, sizeof ep); ep.out = QUANT_OUT_F32; ep.a_scale = as;
    CHECK(pb > 0 && pb <= sizeof pk);
    CHECK(quant_gemm_q4_pack_size(0, 16) == 0 && quant_gemm_q4_pack_size(16, 0) == 0 && quant_gemm_q4_pack_size(QUANT_GEMM_MAX_K + 1, 1) == 0);
    memset(pk, 0x5A, sizeof pk);
    W[77] = 8; CHECK(quant_gemm_q4_pack(W, sc, 40, 16, pk, pb) == QUANT_ERANGE); W[77] = -9; CHECK(quant_gemm_q4_pack(W, sc, 40, 16, pk, pb) == QUANT_ERANGE); W[77] = 0;
    sc[3] = NAN; CHECK(quant_gemm_q4_pack(W, sc, 40, 16, pk, pb) == QUANT_EINVAL); sc[3] = -1.0f; CHECK(quant_gemm_q4_pack(W, sc, 40, 16, pk, pb) == QUANT_EINVAL);
    sc[3] = INFINITY; CHECK(quant_gemm_q4_pack(W, sc, 40, 16, pk, pb) == QUANT_EINVAL); sc[3] = 0.01f;
    CHECK(quant_gemm_q4_pack(W, sc, 40, 16, pk, pb - 1) == QUANT_EINVAL);
    for (i = 0; i < (int)sizeof pk; i++) if (pk[i] != 0x5A) break;
    CHECK(i == (int)sizeof pk); /* nothing written on error */
    CHECK(quant_gemm_q4_pack(W, sc, 40, 16, pk, pb) == QUANT_OK);
    CHECK(quant_gemm_q4_packed_dims(pk, &K, &N) == QUANT_OK && K == 40 && N == 16);
    memcpy(pk2, pk, pb); pk2[5] ^= 1;
    CHECK(quant_gemm_q4_packed_dims(pk2, &K, &N) == QUANT_EFORMAT);
    memset(y, 0, sizeof y);
    CHECK(quant_gemm_q4(2, A, 0, 40, 0, pk2, &ep, y, 16) == QUANT_EFORMAT);
    CHECK(quant_gemm_q4(2, A, 0, 39, 0, pk, &ep, y, 16) == QUANT_EINVAL);   /* lda < K */
    CHECK(quant_gemm_q4(2, A, 0, 40, 0, pk, &ep, y, 15) == QUANT_EINVAL);   /* ldc < N */
    CHECK(quant_gemm_q4(2, A, 0, 40, 256, pk, &ep, y, 16) == QUANT_EINVAL); /* zero point */
    CHECK(quant_gemm_q4(2, A, 1, 40, -129, pk, &ep, y, 16) == QUANT_EINVAL);
    CHECK(quant_gemm_q4(2, A, 0, 40, 0, pk, NULL, y, 16) == QUANT_EINVAL);
    CHECK(quant_gemm_q4(2, NULL, 0, 40, 0, pk, &ep, y, 16) == QUANT_EINVAL);
    CHECK(quant_gemm_q4_tile(2, A, 0, 40, 0, pk, &ep, y, 16, 0, 3, 0, 16) == QUANT_EINVAL);
    CHECK(quant_gemm_q4_tile(2, A, 0, 40, 0, pk, &ep, y, 16, 0, 2, 5, 17) == QUANT_EINVAL);
    as[1] = 0.0f; ep.a_scale_per_row = 1; CHECK(quant_gemm_q4(2, A, 0, 40, 0, pk, &ep, y, 16) == QUANT_EINVAL);
    as[1] = NAN; CHECK(quant_gemm_q4(2, A, 0, 40, 0, pk, &ep, y, 16) == QUANT_EINVAL); as[1] = 0.1f;
    ep.out = QUANT_OUT_U8; ep.out_inv = 0.0f; ep.out_max = 255; CHECK(quant_gemm_q4(2, A, 0, 40, 0, pk, &ep, y, 16) == QUANT_EINVAL);
    ep.out_inv = 1.0f; ep.out_zp = 300; CHECK(quant_gemm_q4(2, A, 0, 40, 0, pk, &ep, y, 16) == QUANT_EINVAL);
    ep.out_zp = 0; ep.out = QUANT_OUT_I32; CHECK(quant_gemm_q4(2, A, 0, 40, 0, pk, &ep, y, 16) == QUANT_EINVAL);
    for (i = 0; i < 32; i++) CHECK(y[i] == 0.0f); /* nothing written on error */
    ep.out = QUANT_OUT_F32;
    CHECK(quant_gemm_q4_tile(2, A, 0, 40, 0, pk, &ep, y, 16, 1, 1, 0, 16) == QUANT_OK); /* empty tile */
    CHECK(quant_gemm_q4(2, A, 0, 40, 0, pk, &ep, y, 16) == QUANT_OK);
    {   /* saturating output: a huge activation scale clamps, never overflows the conversion */
        uint8_t q[32];
        as[0] = as[1] = 1e30f; ep.a_scale_per_row = 0;
        for (i = 0; i < 80; i++) A[i] = 255;
        ep.out = QUANT_OUT_I8; ep.out_inv = 1e10f; ep.out_zp = 0; ep.out_min = -128; ep.out_max = 127;
        CHECK(quant_gemm_q4(2, A, 0, 40, 0, pk, &ep, q, 16) == QUANT_OK);
        for (i = 0; i < 32; i++) CHECK((int8_t)q[i] == -128 || (int8_t)q[i] == 127 || q[i] == 0);
    }
}

int main(void) {
    printf("ktest_q4 (%s)\n", quant_isa_name());
    RUN(test_all_k);
    RUN(test_all_mn);
    RUN(test_large_odd);
    RUN(test_tiles);
    RUN(test_adversarial);
    RUN(test_largest_k);
    RUN(test_conv);
    RUN(test_bad_input);
    return qt_summary();
}
