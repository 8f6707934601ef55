/* tests/ktest_binary.c - binary / ternary kernels of quant_kernels.h against
 * quant.h's quant_ref_bgemm (itself checked against a plain reference that
 * multiplies the +-1 / 0 values out), on the ISA this
 * file is compiled for: every K from 1 to 300 with M, N from 1 to 20,
 * random and adversarial bit patterns, garbage in padding bits, every output
 * transform, BWN int8 x binary, binary conv2d with one and zero padding. */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include "harness.h"

/* values -1 / 0 / +1 -> planes; `garbage` sets the padding bits of the
 * caller's buffer (the kernels must ignore them) */
static void to_planes(const int8_t *v, size_t rows, size_t K, uint64_t *s, uint64_t *z, int garbage) {
    size_t r, k, w = quant_bits_words(K);
    for (r = 0; r < rows; r++) {
        for (k = 0; k < w; k++) { s[r * w + k] = 0; if (z) z[r * w + k] = 0; }
        for (k = 0; k < K; k++) {
            uint64_t b = (uint64_t)1 << (k % 64);
            if (v[r * K + k] < 0) s[r * w + k / 64] |= b;
            if (z && v[r * K + k] != 0) z[r * w + k / 64] |= b;
        }
        if (garbage && K % 64) {
            s[r * w + w - 1] |= ~(((uint64_t)1 << (K % 64)) - 1) & 0xA5A5A5A5A5A5A5A5ull;
            if (z) z[r * w + w - 1] |= ~(((uint64_t)1 << (K % 64)) - 1) & 0x5A5A5A5A5A5A5A5Aull;
        }
    }
}

static void rand_vals(int8_t *v, size_t n, int ternary, int mode) {
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned r = qt_rand32();
        if (mode == 1) v[i] = -1;                               /* all -1 */
        else if (mode == 2) v[i] = (int8_t)((i & 1) ? 1 : -1);  /* alternating */
        else if (ternary) v[i] = (int8_t)((int)(r % 3) - 1);
        else v[i] = (int8_t)((r & 1) ? 1 : -1);
    }
}

static void test_bgemm_all_k(void) {
    size_t K;
    for (K = 1; K <= 300; K++) {
        size_t M = 1 + qt_rand32() % 20, N = 1 + qt_rand32() % 20, wk = quant_bits_words(K), m, n, k;
        int ta = (int)(K % 2), tw = (int)((K / 2) % 2), mode = (int)(K % 7 == 0 ? 1 + K % 2 : 0), outk = (int)(K % 3);
        int8_t a[20 * 300], w[20 * 300];
        uint64_t as[20 * 5], az[20 * 5], ws[20 * 5], wz[20 * 5], cb[20 * 1];
        int32_t ci[20 * 20], ref[20 * 20], th[20];
        float cf[20 * 20], sc[20], bi[20];
        uint8_t fl[20];
        size_t bytes = quant_bgemm_pack_size(K, N, tw);
        void *pk = malloc(bytes);
        quant_bepilogue ep;
        rand_vals(a, M * K, ta, mode);
        rand_vals(w, N * K, tw, mode ? 3 - mode : 0);
        to_planes(a, M, K, as, ta ? az : NULL, (int)(K & 4));
        to_planes(w, N, K, ws, tw ? wz : NULL, (int)(K & 8));
        CHECK(quant_bgemm_pack(ws, tw ? wz : NULL, N, K, pk, bytes) == QUANT_OK);
        for (m = 0; m < M; m++)
            for (n = 0; n < N; n++) {
                int32_t s = 0;
                for (k = 0; k < K; k++) s += a[m * K + k] * w[n * K + k];
                ref[m * N + n] = s;
            }
        for (n = 0; n < N; n++) { sc[n] = (float)qt_normal(); bi[n] = (float)qt_normal(); th[n] = (int32_t)(qt_rand32() % (2 * K + 1)) - (int32_t)K; fl[n] = (uint8_t)(qt_rand32() & 1); }
        memset(&ep, 0, sizeof ep);
        ep.out = (quant_bout_type)outk; ep.scale = sc; ep.bias = (K & 16) ? NULL : bi; ep.thresh = th; ep.flip = (K & 32) ? NULL : fl;
        memset(cb, 0xFF, sizeof cb);
        CHECK(quant_bgemm(M, as, ta ? az : NULL, wk, pk, &ep, outk == 0 ? (void *)ci : outk == 1 ? (void *)cf : (void *)cb,
                          outk == 2 ? 1 : N) == QUANT_OK);
        /* quant.h's reference, bit for bit; its dot products are the plain ones */
        {
            int32_t ri[20 * 20];
            float rf[20 * 20];
            uint64_t rb[20];
            quant_bepilogue e0;
            memset(&e0, 0, sizeof e0);
            memset(rb, 0xFF, sizeof rb);
            CHECK(quant_ref_bgemm(M, N, K, as, ta ? az : NULL, wk, ws, tw ? wz : NULL, wk, &e0, ri, N) == QUANT_OK);
            CHECK(memcmp(ri, ref, 4 * M * N) == 0);
            CHECK(quant_ref_bgemm(M, N, K, as, ta ? az : NULL, wk, ws, tw ? wz : NULL, wk, &ep,
                                  outk == 0 ? (void *)ri : outk == 1 ? (void *)rf : (void *)rb, outk == 2 ? 1 : N) == QUANT_OK);
            for (m = 0; m < M; m++) {
                if (outk == 0) CHECKF(memcmp(ci + m * N, ri + m * N, 4 * N) == 0, "K=%d M=%d N=%d ta=%d tw=%d m=%d", (int)K, (int)M, (int)N, ta, tw, (int)m);
                else if (outk == 1) CHECKF(memcmp(cf + m * N, rf + m * N, 4 * N) == 0, "F32 K=%d M=%d N=%d m=%d", (int)K, (int)M, (int)N, (int)m);
                else CHECKF(cb[m] == rb[m], "bits K=%d m=%d: %016llx want %016llx", (int)K, (int)m, (unsigned long long)cb[m], (unsigned long long)rb[m]);
                /* and the reference's output transforms, element by element */
                for (n = 0; n < N; n++) {
                    int32_t d = ref[m * N + n];
                    if (outk == 1) CHECKF(rf[m * N + n] == fmaf((float)d, sc[n], (K & 16) ? 0.0f : bi[n]), "K=%d d=%d got %a", (int)K, d, rf[m * N + n]);
                    else if (outk == 2) {
                        int want = ((K & 32) ? 0 : fl[n]) ? d >= th[n] : d < th[n];
                        CHECKF((int)((rb[m] >> n) & 1) == want, "bits K=%d m=%d n=%d", (int)K, (int)m, (int)n);
                    }
                }
                if (outk == 2) CHECK((cb[m] >> N) == 0); /* padding bits of the output row are 0 */
            }
        }
        free(pk);
        if (QT_FAILS > 10) return;
    }
}

/* long K (the byte counts fold every 31 words; on AVX2 every 63 nibbles, K
 * in chunks of 126 words; ternary weights: signed byte sums folded every 31
 * nibbles), N over several L2 blocks, all-(-1) activations against all-(+1)
 * or all-(-1) weights (every product -1, every bit disagrees: the byte
 * counters' worst case; every product +1: the signed sums' positive edge),
 * operands at addresses that are not 64-byte aligned */
static void test_bgemm_large(void) {
    static const size_t shapes[][3] = { { 7, 70, 64 * 31 }, { 5, 33, 64 * 31 + 1 }, { 6, 40, 64 * 62 + 13 },
                                        { 13, 600, 4096 }, { 1, 257, 64 * 32 - 1 }, { 2, 9, 20000 }, { 9, 3, 70000 },
                                        /* the AVX2 transposed panels: K chunks of 126 words (2016 nibble steps,
                                           folds every 63), 64-column panels, 4-row tiles */
                                        { 5, 130, 64 * 126 }, { 4, 65, 64 * 126 + 1 }, { 3, 64, 64 * 252 + 3 },
                                        { 6, 127, 64 * 127 - 2 }, { 7, 66, 4 * 63 }, { 1, 1, 4 * 63 + 1 } };
    size_t t;
    for (t = 0; t < sizeof shapes / sizeof shapes[0] * 4; t++) {
        size_t M = shapes[t / 4][0], N = shapes[t / 4][1], K = shapes[t / 4][2], wk = quant_bits_words(K), m, n, k;
        int ta = (int)(t & 1), tw = (int)((t >> 1) & 1), mode = (int)(t % 3);
        int8_t *a = (int8_t *)malloc(M * K), *w = (int8_t *)malloc(N * K);
        uint64_t *ab = (uint64_t *)malloc(8 * (2 * M * wk + 1)), *wb = (uint64_t *)malloc(8 * 2 * N * wk);
        uint64_t *as = ab + 1, *az = ab + 1 + M * wk, *ws = wb, *wz = wb + N * wk; /* A off 64-byte alignment */
        int32_t *cb = (int32_t *)malloc(4 * (M * N + 1)), *c = cb + 1, *ref = (int32_t *)malloc(4 * M * N);
        size_t bytes = quant_bgemm_pack_size(K, N, tw);
        unsigned char *pkb = (unsigned char *)malloc(bytes + 8), *pk = pkb + 8;
        quant_bepilogue ep;
        rand_vals(a, M * K, ta, mode == 1 ? 1 : 0);
        if (mode == 1) for (k = 0; k < N * K; k++) w[k] = (int8_t)((t / 4) % 2 ? -1 : 1); /* every product +1 or -1 */
        else rand_vals(w, N * K, tw, mode == 2 ? 2 : 0);
        to_planes(a, M, K, as, ta ? az : NULL, 1);
        to_planes(w, N, K, ws, tw ? wz : NULL, 1);
        for (m = 0; m < M; m++)
            for (n = 0; n < N; n++) {
                int32_t s = 0;
                for (k = 0; k < K; k++) s += a[m * K + k] * w[n * K + k];
                ref[m * N + n] = s;
            }
        memset(&ep, 0, sizeof ep);
        CHECK(quant_bgemm_pack(ws, tw ? wz : NULL, N, K, pk, bytes) == QUANT_OK);
        CHECK(quant_bgemm(M, as, ta ? az : NULL, wk, pk, &ep, c, N) == QUANT_OK);
        for (m = 0; m < M * N; m++)
            if (c[m] != ref[m]) { CHECKF(0, "M=%d N=%d K=%d ta=%d tw=%d mode=%d at %d: got %d want %d", (int)M, (int)N, (int)K, ta, tw, mode, (int)m, c[m], ref[m]); break; }
        free(a); free(w); free(ab); free(wb); free(cb); free(ref); free(pkb);
        if (QT_FAILS > 5) return;
    }
}

/* BWN: every K from 1 to 300 and long K (the bitplanes are built in chunks of
 * 224 words: 14336 and past it, up to QUANT_GEMM_MAX_K), both signednesses,
 * every zero point edge, extreme activations (all 255 / 0 / -128 / 127)
 * against all -1 weights, rows at odd addresses, every output transform */
static void test_bwn_i8(void) {
    static const size_t longk[] = { 14335, 14336, 14337, 20000, 28672 + 64, QUANT_GEMM_MAX_K };
    size_t t, nt = 300 + 2 * sizeof longk / sizeof longk[0];
    for (t = 0; t < nt; t++) {
        size_t K = t < 300 ? t + 1 : longk[(t - 300) / 2], M = t < 300 ? 1 + qt_rand32() % 9 : 1 + t % 3;
        size_t N = t < 300 ? 1 + qt_rand32() % 20 : 37 + t % 5, m, n, k, lda = K + (t % 3);
        int a_signed = (int)((t >> (t >= 300)) & 1), ext = (int)(t % 11 == 0 || (t >= 300 && t % 2 == 0)), outk = (int)(t % 3);
        int32_t zp = t % 13 == 0 ? (a_signed ? (t % 2 ? -128 : 127) : (t % 3 ? 0 : 255))
                   : a_signed ? (int32_t)(qt_rand32() % 256) - 128 : (int32_t)(qt_rand32() % 256);
        uint8_t *Ab = (uint8_t *)malloc(M * lda + 1), *A = Ab + 1; /* rows at odd addresses */
        int8_t *w = (int8_t *)malloc(N * K);
        uint64_t *ws = (uint64_t *)malloc(8 * N * quant_bits_words(K)), cb[9];
        int32_t *c = (int32_t *)malloc(4 * M * N), *ref = (int32_t *)malloc(4 * M * N), th[64];
        float *cf = (float *)malloc(4 * M * N), sc[64], bi[64];
        size_t bytes = quant_bgemm_pack_size(K, N, 0);
        void *pk = malloc(bytes);
        quant_bepilogue ep;
        uint8_t fill = (uint8_t)(a_signed ? (t % 4 < 2 ? 0x80 : 0x7f) : (t % 4 < 2 ? 255 : 0));
        for (k = 0; k < M * lda; k++) A[k] = ext ? fill : (uint8_t)qt_rand32();
        rand_vals(w, N * K, 0, ext ? 1 : 0);
        to_planes(w, N, K, ws, NULL, 1);
        for (m = 0; m < M; m++)
            for (n = 0; n < N; n++) {
                int32_t s = 0;
                for (k = 0; k < K; k++) s += ((a_signed ? (int32_t)(int8_t)A[m * lda + k] : (int32_t)A[m * lda + k]) - zp) * w[n * K + k];
                ref[m * N + n] = s;
            }
        for (n = 0; n < N; n++) { sc[n] = (float)qt_normal(); bi[n] = (float)qt_normal(); th[n] = ref[n] + (int32_t)(qt_rand32() % 3) - 1; }
        memset(&ep, 0, sizeof ep);
        ep.out = (quant_bout_type)outk; ep.scale = sc; ep.bias = bi; ep.thresh = th;
        CHECK(quant_bgemm_pack(ws, NULL, N, K, pk, bytes) == QUANT_OK);
        memset(cb, 0xFF, sizeof cb);
        CHECK(quant_bgemm_i8(M, A, a_signed, lda, zp, pk, &ep, outk == 0 ? (void *)c : outk == 1 ? (void *)cf : (void *)cb, outk == 2 ? 1 : N) == QUANT_OK);
        for (m = 0; m < M; m++)
            for (n = 0; n < N; n++) {
                int32_t d = ref[m * N + n];
                if (outk == 0) CHECKF(c[m * N + n] == d, "t=%d K=%d m=%d n=%d signed=%d zp=%d got %d want %d", (int)t, (int)K, (int)m, (int)n, a_signed, zp, c[m * N + n], d);
                else if (outk == 1) CHECKF(cf[m * N + n] == fmaf((float)d, sc[n], bi[n]), "f32 t=%d K=%d m=%d n=%d", (int)t, (int)K, (int)m, (int)n);
                else CHECKF((int)((cb[m] >> n) & 1) == (d < th[n]), "bits t=%d K=%d m=%d n=%d", (int)t, (int)K, (int)m, (int)n);
            }
        free(Ab); free(w); free(ws); free(c); free(ref); free(cf); free(pk);
        if (QT_FAILS > 10) return;
    }
}

static void test_bconv(void) {
    int t;
    for (t = 0; t < 80; t++) {
        quant_conv_shape s;
        size_t oh, ow, wc, taps, P, i, oc, bytes, wsb;
        int8_t *x, *w;
        uint64_t *xb, *wb;
        int32_t *o, *ref;
        void *pk, *ws;
        quant_bpad pad = (quant_bpad)(t & 1);
        quant_bepilogue ep;
        memset(&s, 0, sizeof s);
        s.batch = 1 + qt_rand32() % 2; s.in_h = 2 + qt_rand32() % 6; s.in_w = 2 + qt_rand32() % 6;
        s.in_c = 1 + qt_rand32() % 150; s.out_c = 1 + qt_rand32() % 20;
        s.k_h = s.k_w = (t % 3) ? 3 : 1 + qt_rand32() % 4; s.stride_h = 1 + qt_rand32() % 2; s.stride_w = s.stride_h;
        s.dil_h = s.dil_w = 1; s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = s.k_h / 2;
        if (quant_conv_out_size(&s, &oh, &ow) != QUANT_OK) continue;
        wc = quant_bits_words(s.in_c); taps = s.k_h * s.k_w; P = s.batch * oh * ow;
        x = (int8_t *)malloc(s.batch * s.in_h * s.in_w * s.in_c); w = (int8_t *)malloc(s.out_c * taps * s.in_c);
        xb = (uint64_t *)malloc(8 * s.batch * s.in_h * s.in_w * wc); wb = (uint64_t *)malloc(8 * s.out_c * taps * wc);
        o = (int32_t *)malloc(4 * P * s.out_c); ref = (int32_t *)malloc(4 * P * s.out_c);
        rand_vals(x, s.batch * s.in_h * s.in_w * s.in_c, 0, 0);
        rand_vals(w, s.out_c * taps * s.in_c, 0, 0);
        to_planes(x, s.batch * s.in_h * s.in_w, s.in_c, xb, NULL, 1); /* one row of bits per pixel */
        to_planes(w, s.out_c * taps, s.in_c, wb, NULL, 1);             /* one row of bits per tap */
        for (i = 0; i < P; i++) { /* reference: the +-1 values, padding +1 or 0 */
            size_t n = i / (oh * ow), y = (i / ow) % oh, xx = i % ow, kh, kw, c;
            for (oc = 0; oc < s.out_c; oc++) {
                int32_t acc = 0;
                for (kh = 0; kh < s.k_h; kh++)
                    for (kw = 0; kw < s.k_w; kw++) {
                        long ih = (long)(y * s.stride_h + kh) - (long)s.pad_top, iw = (long)(xx * s.stride_w + kw) - (long)s.pad_left;
                        for (c = 0; c < s.in_c; c++) {
                            int v = (ih < 0 || iw < 0 || ih >= (long)s.in_h || iw >= (long)s.in_w)
                                        ? (pad == QUANT_PAD_ONE ? 1 : 0)
                                        : x[((n * s.in_h + (size_t)ih) * s.in_w + (size_t)iw) * s.in_c + c];
                            acc += v * w[((oc * s.k_h + kh) * s.k_w + kw) * s.in_c + c];
                        }
                    }
                ref[i * s.out_c + oc] = acc;
            }
        }
        bytes = quant_bconv2d_pack_size(&s); wsb = quant_bconv2d_workspace_size(&s);
        pk = malloc(bytes); ws = malloc(wsb);
        memset(&ep, 0, sizeof ep);
        CHECK(quant_bconv2d_pack(wb, &s, pk, bytes) == QUANT_OK);
        CHECK(quant_bconv2d(&s, xb, pad, pk, &ep, o, ws, wsb) == QUANT_OK);
        CHECKF(memcmp(o, ref, 4 * P * s.out_c) == 0, "t=%d pad=%d %dx%dx%d k=%d s=%d oc=%d", t, (int)pad,
               (int)s.in_h, (int)s.in_w, (int)s.in_c, (int)s.k_h, (int)s.stride_h, (int)s.out_c);
        free(x); free(w); free(xb); free(wb); free(o); free(ref); free(pk); free(ws);
        if (QT_FAILS > 5) return;
    }
}

static void test_bad_input(void) {
    uint64_t ws[4] = { 1, 2, 3, 4 }, as[2] = { 5, 6 };
    int32_t c[8], keep[8];
    unsigned char pk[4096];
    size_t bytes = quant_bgemm_pack_size(64, 4, 0);
    quant_bepilogue ep;
    memset(&ep, 0, sizeof ep);
    CHECK(bytes && bytes <= sizeof pk);
    CHECK(quant_bgemm_pack_size(0, 4, 0) == 0);
    CHECK(quant_bgemm_pack(NULL, NULL, 4, 64, pk, bytes) == QUANT_EINVAL);
    CHECK(quant_bgemm_pack(ws, NULL, 4, 64, pk, bytes - 1) == QUANT_EINVAL);
    CHECK(quant_bgemm_pack(ws, NULL, 4, 64, pk, bytes) == QUANT_OK);
    memset(c, 0x44, sizeof c); memcpy(keep, c, sizeof c);
    CHECK(quant_bgemm(2, as, NULL, 0, pk, &ep, c, 4) == QUANT_EINVAL);  /* lda < words(K) */
    CHECK(quant_bgemm(2, NULL, NULL, 1, pk, &ep, c, 4) == QUANT_EINVAL);
    ep.out = QUANT_BOUT_F32; /* no scale */
    CHECK(quant_bgemm(2, as, NULL, 1, pk, &ep, c, 4) == QUANT_EINVAL);
    ep.out = QUANT_BOUT_I32;
    pk[20] ^= 1;             /* a corrupted header */
    CHECK(quant_bgemm(2, as, NULL, 1, pk, &ep, c, 4) == QUANT_EFORMAT);
    CHECK(memcmp(c, keep, sizeof c) == 0);
}

int main(void) {
    fprintf(stderr, "  isa: %s, popcount: %s\n", quant_isa_name(),
#ifdef QUANT__POPCNT_NAME
            QUANT__POPCNT_NAME
#else
            "(in the implementation object)"
#endif
            );
    RUN(test_bgemm_all_k);
    RUN(test_bgemm_large);
    RUN(test_bwn_i8);
    RUN(test_bconv);
    RUN(test_bad_input);
    return qt_summary();
}
