/* fuzz/fuzz_gemm.c - libFuzzer target: the compiled ISA's GEMM, conv2d,
 * depthwise conv and binary GEMM on arbitrary small shapes, data, zero
 * points and epilogues, each checked bit for bit against the reference of
 * quant.h (for the binary GEMM: the +-1 products multiplied out). */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include "fuzz_util.h"
#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *xmalloc(size_t n) { void *p = malloc(n ? n : 1); if (!p) abort(); return p; }

/* an epilogue of every kind; arrays have room for N columns */
static void make_epilogue(fz *f, size_t N, quant_epilogue *ep, int32_t *bias, quant_requant *rq, float *ws, float *bf, float *as, size_t M) {
    size_t i;
    uint8_t k = fz_u8(f);
    memset(ep, 0, sizeof *ep);
    ep->out = (quant_out_type)(k % 4);
    for (i = 0; i < N; i++) {
        bias[i] = (int32_t)(int16_t)fz_u32(f) * (k & 64 ? 1000 : 1);
        quant_requant_from_scale(ldexp(1.0 + fz_u8(f) / 256.0, -(int)(fz_u8(f) % 24)), &rq[i]);
        ws[i] = fz_float(f); bf[i] = fz_float(f);
    }
    for (i = 0; i < M; i++) as[i] = fz_float(f);
    ep->bias_i32 = (k & 4) ? bias : NULL;
    ep->mode = (quant_requant_mode)((k >> 3) % 3);
    ep->rq = rq;
    ep->per_channel = (k >> 5) & 1;
    if (ep->out == QUANT_OUT_U8) { ep->out_zp = fz_u8(f); ep->out_min = fz_u8(f) % 64; ep->out_max = 192 + fz_u8(f) % 64; }
    else { ep->out_zp = (int8_t)fz_u8(f); ep->out_min = -128 + fz_u8(f) % 64; ep->out_max = 64 + fz_u8(f) % 64; }
    ep->a_scale = (k & 128) ? as : NULL;
    ep->w_scale = ws;
    ep->bias_f32 = (k & 4) ? bf : NULL;
}

static size_t out_size(quant_out_type t) { return t == QUANT_OUT_I8 || t == QUANT_OUT_U8 ? 1 : 4; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz f = { data, size };
    uint8_t which = fz_u8(&f) % 4;
    if (which == 0) { /* GEMM */
        size_t M = 1 + fz_u8(&f) % 9, N = 1 + fz_u8(&f) % 80, K = 1 + (fz_u8(&f) | (size_t)(fz_u8(&f) & 1) << 8);
        int a_signed = fz_u8(&f) & 1, layout = fz_u8(&f) & 1;
        int32_t a_zp = (int32_t)(a_signed ? (int8_t)fz_u8(&f) : fz_u8(&f)), b_zp = (int8_t)fz_u8(&f);
        size_t lda = K + fz_u8(&f) % 5, ldc = N + fz_u8(&f) % 3, i, ps = quant_gemm_pack_size(K, N), ob;
        uint8_t *A = (uint8_t *)xmalloc(M * lda), *pk = (uint8_t *)xmalloc(ps + 1);
        int8_t *B = (int8_t *)xmalloc(K * N), *Bkn = (int8_t *)xmalloc(K * N);
        int32_t bias[80]; quant_requant rq[80]; float ws[80], bf[80], as[9];
        quant_epilogue ep;
        uint8_t *C1, *C2;
        quant_status s1, s2;
        for (i = 0; i < M * lda; i++) A[i] = fz_u8(&f);
        for (i = 0; i < K * N; i++) B[i] = (int8_t)fz_u8(&f);
        if (!layout) memcpy(Bkn, B, K * N);
        else { size_t k, n; for (k = 0; k < K; k++) for (n = 0; n < N; n++) Bkn[k * N + n] = B[n * K + k]; }
        make_epilogue(&f, N, &ep, bias, rq, ws, bf, as, M);
        ob = out_size(ep.out);
        C1 = (uint8_t *)xmalloc(M * ldc * ob); C2 = (uint8_t *)xmalloc(M * ldc * ob);
        memset(C1, 0x5a, M * ldc * ob); memset(C2, 0x5a, M * ldc * ob);
        FZ_CHECK(ps > 0 && quant_gemm_pack(B, (quant_layout)layout, K, N, b_zp, pk + 1, ps) == QUANT_OK); /* misaligned on purpose */
        s1 = quant_ref_gemm(M, N, K, A, a_signed, lda, a_zp, Bkn, N, b_zp, &ep, C1, ldc);
        s2 = quant_gemm(M, A, a_signed, lda, a_zp, pk + 1, &ep, C2, ldc);
        FZ_CHECK(s1 == s2);
        FZ_CHECK(!memcmp(C1, C2, M * ldc * ob));
        free(A); free(pk); free(B); free(Bkn); free(C1); free(C2);
    } else if (which == 1 || which == 2) { /* conv2d / depthwise */
        quant_conv_shape s;
        size_t oh, ow, i, pix, ob, outn, insz, wsz;
        int a_signed = fz_u8(&f) & 1;
        int32_t a_zp = (int32_t)(a_signed ? (int8_t)fz_u8(&f) : fz_u8(&f)), w_zp = (int8_t)fz_u8(&f);
        int32_t bias[40]; quant_requant rq[40]; float ws[40], bf[40], as[1];
        quant_epilogue ep;
        uint8_t *in, *o1, *o2, *pk, *work;
        int8_t *w;
        quant_status s1, s2;
        memset(&s, 0, sizeof s);
        s.batch = 1 + fz_u8(&f) % 2; s.in_h = 1 + fz_u8(&f) % 9; s.in_w = 1 + fz_u8(&f) % 9; s.in_c = 1 + fz_u8(&f) % 40;
        s.out_c = which == 2 ? s.in_c : 1 + fz_u8(&f) % 40;
        s.k_h = 1 + fz_u8(&f) % 4; s.k_w = 1 + fz_u8(&f) % 4;
        s.stride_h = 1 + fz_u8(&f) % 3; s.stride_w = 1 + fz_u8(&f) % 3; s.dil_h = 1 + fz_u8(&f) % 2; s.dil_w = 1 + fz_u8(&f) % 2;
        s.pad_top = fz_u8(&f) % 3; s.pad_left = fz_u8(&f) % 3; s.pad_bottom = fz_u8(&f) % 3; s.pad_right = fz_u8(&f) % 3;
        if (quant_conv_out_size(&s, &oh, &ow) != QUANT_OK) return 0;
        make_epilogue(&f, s.out_c, &ep, bias, rq, ws, bf, as, 0);
        ep.a_scale = NULL; /* conv rows are pixels: no per-row scales */
        ob = out_size(ep.out);
        pix = s.batch * oh * ow; outn = pix * s.out_c;
        insz = s.batch * s.in_h * s.in_w * s.in_c;
        wsz = which == 2 ? s.k_h * s.k_w * s.in_c : s.out_c * s.k_h * s.k_w * s.in_c;
        in = (uint8_t *)xmalloc(insz); w = (int8_t *)xmalloc(wsz);
        o1 = (uint8_t *)xmalloc(outn * ob); o2 = (uint8_t *)xmalloc(outn * ob);
        for (i = 0; i < insz; i++) in[i] = fz_u8(&f);
        for (i = 0; i < wsz; i++) w[i] = (int8_t)fz_u8(&f);
        memset(o1, 0x5a, outn * ob); memset(o2, 0x5a, outn * ob);
        if (which == 1) {
            size_t ps = quant_conv2d_pack_size(&s), wk = quant_conv2d_workspace_size(&s);
            pk = (uint8_t *)xmalloc(ps); work = (uint8_t *)xmalloc(wk);
            FZ_CHECK(quant_conv2d_pack(w, &s, w_zp, pk, ps) == QUANT_OK);
            s1 = quant_ref_conv2d(&s, in, a_signed, a_zp, w, w_zp, &ep, o1);
            s2 = quant_conv2d(&s, in, a_signed, a_zp, pk, &ep, o2, work, wk);
            free(work);
        } else {
            size_t ps = quant_dwconv2d_pack_size(&s);
            pk = (uint8_t *)xmalloc(ps);
            FZ_CHECK(quant_dwconv2d_pack(w, &s, w_zp, pk, ps) == QUANT_OK);
            s1 = quant_ref_dwconv2d(&s, in, a_signed, a_zp, w, w_zp, &ep, o1);
            s2 = quant_dwconv2d(&s, in, a_signed, a_zp, pk, &ep, o2);
        }
        FZ_CHECK(s1 == s2);
        FZ_CHECK(!memcmp(o1, o2, outn * ob));
        free(in); free(w); free(o1); free(o2); free(pk);
    } else { /* binary / ternary GEMM against the products multiplied out */
        size_t M = 1 + fz_u8(&f) % 7, N = 1 + fz_u8(&f) % 40, K = 1 + fz_u8(&f) + (fz_u8(&f) & 1) * 256;
        size_t w = quant_bits_words(K), i, k, n, m, ps;
        int tw = fz_u8(&f) & 1, ta = fz_u8(&f) & 1;
        int8_t *av = (int8_t *)xmalloc(M * K), *wv = (int8_t *)xmalloc(N * K);
        float *af = (float *)xmalloc(M * K * 4), *wf = (float *)xmalloc(N * K * 4);
        uint64_t *as = (uint64_t *)xmalloc(M * w * 8), *az = (uint64_t *)xmalloc(M * w * 8);
        uint64_t *wsg = (uint64_t *)xmalloc(N * w * 8), *wz = (uint64_t *)xmalloc(N * w * 8);
        int32_t *C = (int32_t *)xmalloc(M * N * 4);
        void *pk;
        quant_bepilogue ep;
        for (i = 0; i < M * K; i++) { uint8_t b = fz_u8(&f); av[i] = (int8_t)(ta ? (int)(b % 3) - 1 : (b & 1) ? -1 : 1); af[i] = av[i]; }
        for (i = 0; i < N * K; i++) { uint8_t b = fz_u8(&f); wv[i] = (int8_t)(tw ? (int)(b % 3) - 1 : (b & 1) ? -1 : 1); wf[i] = wv[i]; }
        FZ_CHECK(quant_pack_ternary(af, M, K, 0.5f, as, az) == QUANT_OK);
        FZ_CHECK(quant_pack_ternary(wf, N, K, 0.5f, wsg, wz) == QUANT_OK);
        ps = quant_bgemm_pack_size(K, N, tw);
        pk = xmalloc(ps);
        FZ_CHECK(quant_bgemm_pack(wsg, tw ? wz : NULL, N, K, pk, ps) == QUANT_OK);
        memset(&ep, 0, sizeof ep);
        FZ_CHECK(quant_bgemm(M, as, ta ? az : NULL, w, pk, &ep, C, N) == QUANT_OK);
        for (m = 0; m < M; m++) for (n = 0; n < N; n++) {
            int32_t ref = 0;
            for (k = 0; k < K; k++) ref += av[m * K + k] * wv[n * K + k];
            FZ_CHECK(C[m * N + n] == ref);
        }
        free(av); free(wv); free(af); free(wf); free(as); free(az); free(wsg); free(wz); free(C); free(pk);
    }
    return 0;
}
