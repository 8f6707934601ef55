/* tests/ktest_conv.c - conv2d and depthwise conv of quant_kernels.h against
 * quant_ref_conv2d / quant_ref_dwconv2d (quant.h), bit for bit, on the ISA
 * this file is compiled for: random shapes (kernel 1..5, stride 1..3,
 * dilation 1..2, asymmetric padding), every epilogue, tiles, bad input.
 *
 * QT_EMULATED=1 (tests/run.sh sets it for the builds it runs under qemu,
 * where this takes ~10x longer): each large image shape runs 5 of its 10
 * cases, still every epilogue kind; the short-K and split sweeps run every
 * 7th and 11th case (moduli prime to each residue the cases vary by, so
 * every variant still runs; those sweeps aim at the x86 direct and
 * pmaddubsw kernels, which Arm builds do not have); the rest is as native. */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include "harness.h"

typedef struct { quant_epilogue ep; quant_requant rq[128]; int32_t bias[128]; float ws[128], as[4096], bf[128]; } qt_epi;

static void make_epi(qt_epi *e, int kind, size_t rows, size_t cols) {
    size_t i;
    memset(&e->ep, 0, sizeof e->ep);
    for (i = 0; i < cols; i++) {
        quant_requant_from_scale(exp(-3.0 - 6.0 * qt_uniform()), &e->rq[i]);
        e->bias[i] = (int32_t)(qt_rand32() % 20001) - 10000;
        e->ws[i] = (float)(0.001 + 0.01 * qt_uniform());
        e->bf[i] = (float)qt_normal();
    }
    for (i = 0; i < rows && i < 4096; i++) e->as[i] = (float)(0.01 + 0.1 * qt_uniform());
    switch (kind % 5) {
    case 0: e->ep.out = QUANT_OUT_I32; e->ep.bias_i32 = (kind & 8) ? e->bias : NULL; break;
    case 1: case 2: case 3:
        e->ep.out = kind % 5 == 2 ? QUANT_OUT_U8 : QUANT_OUT_I8; e->ep.mode = (quant_requant_mode)(kind % 5 - 1);
        e->ep.rq = e->rq; e->ep.per_channel = kind % 5 != 2; e->ep.bias_i32 = e->bias;
        e->ep.out_zp = kind % 5 == 2 ? 120 : 3; e->ep.out_min = kind % 5 == 2 ? 0 : -128; e->ep.out_max = kind % 5 == 2 ? 255 : 127;
        break;
    default: e->ep.out = QUANT_OUT_F32; e->ep.w_scale = e->ws; e->ep.bias_f32 = e->bf; e->ep.a_scale = rows <= 4096 ? e->as : NULL; break;
    }
}
static int qt_emulated(void) {
    const char *e = getenv("QT_EMULATED");
    return e && *e && strcmp(e, "0") != 0;
}

static size_t osz(quant_out_type t) { return t == QUANT_OUT_I8 || t == QUANT_OUT_U8 ? 1 : 4; }

static quant_conv_shape rand_shape(int dw) {
    quant_conv_shape s;
    memset(&s, 0, sizeof s);
    for (;;) {
        size_t oh, ow;
        s.batch = 1 + qt_rand32() % 2; s.in_h = 1 + qt_rand32() % 9; s.in_w = 1 + qt_rand32() % 9;
        s.in_c = 1 + qt_rand32() % (dw ? 70 : 20); s.out_c = dw ? s.in_c : 1 + qt_rand32() % 40;
        s.k_h = 1 + qt_rand32() % 4; s.k_w = 1 + qt_rand32() % 4;
        if (qt_rand32() % 3 == 0) s.k_h = s.k_w = 3;
        s.stride_h = 1 + qt_rand32() % 3; s.stride_w = 1 + qt_rand32() % 2;
        s.dil_h = 1 + qt_rand32() % 2; s.dil_w = 1 + qt_rand32() % 2;
        if (qt_rand32() % 2) s.stride_h = s.stride_w = s.dil_h = s.dil_w = 1;
        s.pad_top = qt_rand32() % 3; s.pad_bottom = qt_rand32() % 3; s.pad_left = qt_rand32() % 3; s.pad_right = qt_rand32() % 3;
        if (quant_conv_out_size(&s, &oh, &ow) == QUANT_OK) return s;
    }
}

/* extremes (test_conv2d_smallk): activations only the two ends of their
 * type, weights only -128 and 127, zero points at the ends */
static int g_extreme;
/* test_conv2d_split: weights without -128 (the pmaddubsw packing) and
 * activations below 128 but for g_big per mille of bytes (128..255) */
static int g_wsym, g_big = -1;

/* one conv2d against the reference, whole and in two pixel tiles; t picks
 * the activation type, zero points and epilogue */
static void conv_case(quant_conv_shape s, int t) {
    {
        size_t oh, ow, P, K, nin, nw, bytes, wsb, i;
        int a_signed = t & 1, kind = t % 10;
        int32_t a_zp, w_zp = (t % 4 == 0) ? (int32_t)(qt_rand32() % 256) - 128 : 0;
        uint8_t *in; int8_t *w; unsigned char *pk, *ws, *o1, *o2;
        qt_epi e;
        CHECK(quant_conv_out_size(&s, &oh, &ow) == QUANT_OK);
        P = s.batch * oh * ow; K = s.k_h * s.k_w * s.in_c;
        nin = s.batch * s.in_h * s.in_w * s.in_c; nw = s.out_c * K;
        a_zp = a_signed ? (int32_t)(qt_rand32() % 256) - 128 : (int32_t)(qt_rand32() % 256);
        in = (uint8_t *)malloc(nin); w = (int8_t *)malloc(nw);
        for (i = 0; i < nin; i++) in[i] = (uint8_t)qt_rand32();
        for (i = 0; i < nw; i++) w[i] = (int8_t)qt_rand32();
        if (g_big >= 0)
            for (i = 0; i < nin; i++)
                in[i] = (int)(qt_rand32() % 1000) < g_big ? (uint8_t)(128 + qt_rand32() % 128) : (uint8_t)(qt_rand32() % 128);
        if (g_wsym)
            for (i = 0; i < nw; i++) if (w[i] == -128) w[i] = (int8_t)(qt_rand32() & 1 ? 127 : -127);
        if (g_extreme) {
            const uint32_t m = qt_rand32() % 3; /* all low, all high, or mixed */
            for (i = 0; i < nin; i++) {
                const int hi = m == 2 ? (int)(qt_rand32() & 1) : (int)m;
                in[i] = a_signed ? (uint8_t)(hi ? 0x7f : 0x80) : (uint8_t)(hi ? 255 : 0);
            }
            for (i = 0; i < nw; i++) w[i] = (int8_t)(m == 2 ? (qt_rand32() & 1 ? 127 : -128) : m ? 127 : -128);
            if (g_wsym) for (i = 0; i < nw; i++) w[i] = (int8_t)(w[i] == -128 ? -127 : w[i]);
            if (g_big >= 0) /* the large bytes sparse: 255 where they were high */
                for (i = 0; i < nin; i++) in[i] = in[i] == 255 && (int)(qt_rand32() % 1000) >= g_big ? 0 : in[i];
            a_zp = a_signed ? (qt_rand32() & 1 ? 127 : -128) : (qt_rand32() & 1 ? 255 : 0);
            w_zp = (t % 4 == 0) ? (qt_rand32() & 1 ? 127 : -128) : 0;
        }
        make_epi(&e, kind, P, s.out_c);
        bytes = quant_conv2d_pack_size(&s); wsb = quant_conv2d_workspace_size(&s);
        pk = (unsigned char *)malloc(bytes); ws = (unsigned char *)malloc(wsb + 1);
        o1 = (unsigned char *)malloc(P * s.out_c * 4); o2 = (unsigned char *)malloc(P * s.out_c * 4);
        memset(o1, 0x11, P * s.out_c * 4); memset(o2, 0x22, P * s.out_c * 4);
        CHECK(quant_conv2d_pack(w, &s, w_zp, pk, bytes) == QUANT_OK);
        CHECK(quant_conv2d(&s, in, a_signed, a_zp, pk, &e.ep, o1, ws, wsb) == QUANT_OK);
        CHECK(quant_ref_conv2d(&s, in, a_signed, a_zp, w, w_zp, &e.ep, o2) == QUANT_OK);
        CHECKF(memcmp(o1, o2, P * s.out_c * osz(e.ep.out)) == 0,
               "t=%d b=%d %dx%dx%d oc=%d k=%dx%d s=%d,%d d=%d,%d pad=%d,%d,%d,%d kind=%d", t, (int)s.batch, (int)s.in_h,
               (int)s.in_w, (int)s.in_c, (int)s.out_c, (int)s.k_h, (int)s.k_w, (int)s.stride_h, (int)s.stride_w,
               (int)s.dil_h, (int)s.dil_w, (int)s.pad_top, (int)s.pad_left, (int)s.pad_bottom, (int)s.pad_right, kind);
        /* tiles over output pixels reassemble the same result */
        if (P > 2) {
            size_t cut = 1 + qt_rand32() % (P - 1);
            memset(o1, 0x33, P * s.out_c * 4);
            CHECK(quant_conv2d_tile(&s, in, a_signed, a_zp, pk, &e.ep, o1, ws, wsb, cut, P) == QUANT_OK);
            CHECK(quant_conv2d_tile(&s, in, a_signed, a_zp, pk, &e.ep, o1, ws, wsb, 0, cut) == QUANT_OK);
            CHECK(memcmp(o1, o2, P * s.out_c * osz(e.ep.out)) == 0);
        }
        free(in); free(w); free(pk); free(ws); free(o1); free(o2);
    }
}

static void test_conv2d(void) {
    int t;
    for (t = 0; t < 250; t++) {
        quant_conv_shape s = rand_shape(0);
        if (t % 7 == 0) { s.k_h = s.k_w = 1; s.stride_h = s.stride_w = 1; s.pad_top = s.pad_bottom = s.pad_left = s.pad_right = 0; s.dil_h = s.dil_w = 1; }
        conv_case(s, t);
        if (QT_FAILS > 5) return;
    }
}

/* the shapes the AVX-512 VNNI build runs as an indirect GEMM (unsigned
 * activations, symmetric weights, in_c % 4 == 0): t % 4 == 2 */
static void test_conv2d_c4(void) {
    int i;
    for (i = 0; i < 150; i++) {
        quant_conv_shape s = rand_shape(0);
        s.in_c = 4 * (1 + qt_rand32() % 10);
        if (i % 5 == 0) s.out_c = 60 + qt_rand32() % 68; /* more than one panel (the epilogue arrays hold 128) */
        conv_case(s, 4 * i + 2);
        if (QT_FAILS > 5) return;
    }
}

/* 1-channel inputs with short kernel rows (the AVX-512 VBMI im2col: 16
 * output pixels at a time, padding by masked loads): widths around the
 * 16-pixel groups, padding wider than the kernel, stride and dilation down
 * the rows, and kernels just past the fast path's limits (k 4x4, 5x3) */
static void test_conv2d_c1(void) {
    int t;
    for (t = 0; t < 200; t++) {
        quant_conv_shape s;
        size_t oh, ow;
        memset(&s, 0, sizeof s);
        do {
            s.batch = 1 + qt_rand32() % 2; s.in_h = 1 + qt_rand32() % 12; s.in_w = 1 + qt_rand32() % 40;
            s.in_c = 1; s.out_c = 1 + qt_rand32() % 40;
            s.k_h = 1 + qt_rand32() % 4; s.k_w = 1 + qt_rand32() % 4;
            if (t % 3 == 0) s.k_h = s.k_w = 3;
            if (t % 17 == 5) { s.k_h = 5; s.k_w = 3; }
            s.stride_h = 1 + qt_rand32() % 3; s.stride_w = t % 11 == 3 ? 2 : 1;
            s.dil_h = 1 + qt_rand32() % 2; s.dil_w = 1;
            s.pad_top = qt_rand32() % 4; s.pad_bottom = qt_rand32() % 4; s.pad_left = qt_rand32() % 5; s.pad_right = qt_rand32() % 5;
        } while (quant_conv_out_size(&s, &oh, &ow) != QUANT_OK);
        conv_case(s, t);
        if (QT_FAILS > 5) return;
    }
}

/* short dot products, K = k_h k_w in_c up to 32 and just past it (the
 * direct convolution of the SSE4.1 / AVX2 / AVX-512 builds: kernel rows in
 * pairs, an odd last row paired with itself, adjacent taps or a zero
 * weight): 1 to 4 input channels, odd widths, padding up to wider than the
 * kernel, strides and dilations 1 to 3 across and down, output channels
 * over several panels, pixel tiles cut inside rows; every fourth case with
 * only extreme values (0 / 255 or -128 / 127 activations, -128 / 127
 * weights, zero points at the ends) */
static void test_conv2d_smallk(void) {
    const int emulated = qt_emulated();
    int t;
    for (t = 0; t < 400; t++) {
        quant_conv_shape s;
        size_t oh, ow;
        if (emulated && t % 7) continue;
        memset(&s, 0, sizeof s);
        do {
            s.batch = 1 + qt_rand32() % 3; s.in_h = 1 + qt_rand32() % 11; s.in_w = 1 + qt_rand32() % 37;
            s.in_c = 1 + qt_rand32() % (t % 2 ? 4 : 1); s.out_c = 1 + qt_rand32() % (t % 5 == 0 ? 128 : 40);
            s.k_h = 1 + qt_rand32() % 5; s.k_w = 1 + qt_rand32() % 5;
            if (t % 3 == 0) s.k_h = s.k_w = 3;
            if (t % 13 == 7) { s.k_h = 1; s.k_w = 8 + qt_rand32() % 25; s.in_c = 1; s.in_w = 70; } /* up to 32 taps in one row */
            if (t % 13 == 8) { s.k_h = 8 + qt_rand32() % 25; s.k_w = 1; s.in_c = 1; s.in_h = 40; } /* 32 rows of one tap */
            s.stride_h = 1 + qt_rand32() % 3; s.stride_w = 1 + qt_rand32() % 3;
            s.dil_h = 1 + qt_rand32() % 3; s.dil_w = 1 + qt_rand32() % 3;
            if (qt_rand32() % 2) s.stride_h = s.stride_w = s.dil_h = s.dil_w = 1;
            s.pad_top = qt_rand32() % 5; s.pad_bottom = qt_rand32() % 5; s.pad_left = qt_rand32() % 6; s.pad_right = qt_rand32() % 6;
        } while (quant_conv_out_size(&s, &oh, &ow) != QUANT_OK);
        g_extreme = t % 8 < 2; /* with asymmetric weights (t % 4 == 0) and signed activations (t odd) */
        conv_case(s, t);
        g_extreme = 0;
        if (QT_FAILS > 5) return;
    }
}

/* K >= 64 with weights in [-127, 127] (the pmaddubsw packing of the
 * SSE4.1, AVX2 and AVX-512 builds) and unsigned activations, where each
 * GEMM call of the im2col loop picks u7s8 (every byte <= 127) or s8s8 by
 * its tile: no large byte, one in a few thousand, 2% (the demo model's
 * second conv input), 10% and 40% of the activation bytes above 127; 3x3
 * with 8 to 40 channels, other kernels, strides, dilation, padding, up to
 * 128 output channels, K x N up to about 40,000; every fifth case only
 * extremes (large bytes 255, weights -127 / 127, zero points at the ends:
 * above 127 the padding bytes are large too). (A split of such tiles,
 * bytes above 127 clamped for u7s8 and added back from a list, was tried
 * in session 15 and was slower on Zen 3 than s8s8 at 2%.) */
static void test_conv2d_split(void) {
    static const int big[5] = { 0, 3, 20, 100, 400 };
    const int emulated = qt_emulated();
    int t;
    for (t = 0; t < 200; t++) {
        quant_conv_shape s;
        size_t oh, ow;
        if (emulated && t % 11) continue;
        memset(&s, 0, sizeof s);
        do {
            s.batch = 1 + qt_rand32() % 3; s.in_h = 2 + qt_rand32() % 14; s.in_w = 2 + qt_rand32() % 19;
            s.in_c = 8 + qt_rand32() % 33; s.out_c = 1 + qt_rand32() % (t % 4 == 0 ? 128 : 70);
            s.k_h = s.k_w = 3;
            if (t % 3 == 1) { s.k_h = 1 + qt_rand32() % 5; s.k_w = 1 + qt_rand32() % 5; }
            if (t % 9 == 4) { s.in_c = 64 + qt_rand32() % 20; s.out_c = 60 + qt_rand32() % 60; } /* K x N around the limit */
            s.stride_h = 1 + qt_rand32() % 2; s.stride_w = 1 + qt_rand32() % 2; s.dil_h = s.dil_w = 1;
            if (t % 7 == 3) { s.dil_h = 2; s.dil_w = 1 + qt_rand32() % 2; }
            s.pad_top = qt_rand32() % 3; s.pad_bottom = qt_rand32() % 3; s.pad_left = qt_rand32() % 3; s.pad_right = qt_rand32() % 3;
        } while (quant_conv_out_size(&s, &oh, &ow) != QUANT_OK || s.k_h * s.k_w * s.in_c < 64);
        g_wsym = 1; g_big = big[t % 5]; g_extreme = t % 5 == 2;
        conv_case(s, 2 * (t / 2) + (t % 20 == 0 ? 0 : 2 * (qt_rand32() % 2))); /* even: unsigned activations; t % 4 == 0: asymmetric weights */
        g_wsym = 0; g_big = -1; g_extreme = 0;
        if (QT_FAILS > 5) return;
    }
}

/* images large enough that the im2col tiles (up to ~16 KiB of rows) end
 * inside an image and cross into the next one; a 1-channel first layer
 * (K = 9) and partial panels of output channels. Case u = t + i of shape i
 * has the epilogue u % 5 (conv_case), activations signed when u is odd and
 * asymmetric weights when u % 4 == 0. Emulated, shape i runs t = 0..4 (i
 * even) or 5..9 (i odd): five consecutive u, so every epilogue and
 * asymmetric weights on every shape, and every (epilogue, activation type)
 * pair over the five shapes (natively, every pair on every shape). */
static void test_conv2d_large(void) {
    static const size_t sh[][7] = { /* batch, h, w, c, out_c, k, stride */
        { 3, 40, 40, 4, 70, 3, 1 }, { 2, 28, 28, 1, 32, 3, 1 }, { 2, 37, 29, 1, 17, 3, 2 },
        { 2, 30, 30, 8, 64, 5, 1 }, { 1, 64, 64, 3, 96, 3, 2 } };
    const int emulated = qt_emulated();
    size_t i;
    int t;
    for (i = 0; i < sizeof sh / sizeof *sh; i++)
        for (t = 0; t < 10; t++) {
            quant_conv_shape s;
            if (emulated && t / 5 != (int)(i & 1)) continue;
            memset(&s, 0, sizeof s);
            s.batch = sh[i][0]; s.in_h = sh[i][1]; s.in_w = sh[i][2]; s.in_c = sh[i][3]; s.out_c = sh[i][4];
            s.k_h = s.k_w = sh[i][5]; s.stride_h = s.stride_w = sh[i][6]; s.dil_h = s.dil_w = 1;
            s.pad_top = s.pad_left = sh[i][5] / 2; s.pad_bottom = s.pad_right = (sh[i][5] - 1) / 2;
            conv_case(s, t + (int)i);
        }
}

static void test_dwconv(void) {
    int t;
    for (t = 0; t < 250; t++) {
        quant_conv_shape s = rand_shape(1);
        size_t oh, ow, P, nin, nw, bytes, i;
        int a_signed = t & 1, kind = t % 10;
        int32_t a_zp, w_zp = (t % 4 == 0) ? (int32_t)(qt_rand32() % 256) - 128 : 0;
        uint8_t *in; int8_t *w; unsigned char *pk, *o1, *o2;
        qt_epi e;
        if (t % 3 == 0) { s.in_h = 5 + qt_rand32() % 8; s.in_w = 5 + qt_rand32() % 8; s.k_h = s.k_w = 3; s.dil_h = s.dil_w = 1; }
        if (quant_conv_out_size(&s, &oh, &ow) != QUANT_OK) continue;
        P = s.batch * oh * ow;
        nin = s.batch * s.in_h * s.in_w * s.in_c; nw = s.k_h * s.k_w * s.in_c;
        a_zp = a_signed ? (int32_t)(qt_rand32() % 256) - 128 : (int32_t)(qt_rand32() % 256);
        in = (uint8_t *)malloc(nin); w = (int8_t *)malloc(nw);
        for (i = 0; i < nin; i++) in[i] = (uint8_t)qt_rand32();
        for (i = 0; i < nw; i++) w[i] = (int8_t)qt_rand32();
        if (t % 5 == 0) { memset(in, 255, nin); memset(w, 0x80, nw); a_zp = a_signed ? 127 : 0; w_zp = 127; } /* extremes */
        make_epi(&e, kind, P, s.in_c);
        bytes = quant_dwconv2d_pack_size(&s);
        pk = (unsigned char *)malloc(bytes);
        o1 = (unsigned char *)malloc(P * s.in_c * 4); o2 = (unsigned char *)malloc(P * s.in_c * 4);
        memset(o1, 0x11, P * s.in_c * 4); memset(o2, 0x22, P * s.in_c * 4);
        CHECK(quant_dwconv2d_pack(w, &s, w_zp, pk, bytes) == QUANT_OK);
        CHECK(quant_dwconv2d(&s, in, a_signed, a_zp, pk, &e.ep, o1) == QUANT_OK);
        CHECK(quant_ref_dwconv2d(&s, in, a_signed, a_zp, w, w_zp, &e.ep, o2) == QUANT_OK);
        CHECKF(memcmp(o1, o2, P * s.in_c * osz(e.ep.out)) == 0, "t=%d %dx%dx%d k=%dx%d s=%d,%d d=%d,%d kind=%d", t,
               (int)s.in_h, (int)s.in_w, (int)s.in_c, (int)s.k_h, (int)s.k_w, (int)s.stride_h, (int)s.stride_w,
               (int)s.dil_h, (int)s.dil_w, kind);
        free(in); free(w); free(pk); free(o1); free(o2);
        if (QT_FAILS > 5) return;
    }
}

static void test_bad_input(void) {
    quant_conv_shape s;
    size_t oh, ow, bytes, wsb;
    uint8_t in[2 * 4 * 4 * 3];
    int8_t w[5 * 3 * 3 * 3];
    int32_t out[2 * 16 * 5], keep[2 * 16 * 5];
    unsigned char pk[4096], ws[4096];
    quant_epilogue ep;
    memset(&s, 0, sizeof s); memset(&ep, 0, sizeof ep);
    memset(in, 1, sizeof in); memset(w, 1, sizeof w);
    s.batch = 2; s.in_h = 4; s.in_w = 4; s.in_c = 3; s.out_c = 5; s.k_h = 3; s.k_w = 3;
    s.stride_h = s.stride_w = s.dil_h = s.dil_w = 1; s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = 1;
    CHECK(quant_conv_out_size(&s, &oh, &ow) == QUANT_OK && oh == 4 && ow == 4);
    bytes = quant_conv2d_pack_size(&s); wsb = quant_conv2d_workspace_size(&s);
    CHECK(bytes <= sizeof pk && wsb <= sizeof ws);
    CHECK(quant_conv2d_pack(w, &s, 0, pk, bytes) == QUANT_OK);
    memset(out, 0x55, sizeof out); memcpy(keep, out, sizeof out);
    CHECK(quant_conv2d(&s, in, 0, 0, pk, &ep, out, ws, wsb - 1) == QUANT_EINVAL);   /* workspace too small */
    CHECK(quant_conv2d(&s, in, 0, 0, pk, &ep, out, NULL, 0) == QUANT_EINVAL);
    CHECK(quant_conv2d_tile(&s, in, 0, 0, pk, &ep, out, ws, wsb, 5, 400) == QUANT_EINVAL);
    s.stride_h = 0;
    CHECK(quant_conv2d(&s, in, 0, 0, pk, &ep, out, ws, wsb) == QUANT_EINVAL);
    s.stride_h = 1; s.k_h = 9; /* kernel larger than the padded input */
    CHECK(quant_conv_out_size(&s, &oh, &ow) == QUANT_EINVAL);
    s.k_h = 3; s.out_c = 6; /* packed for another shape */
    CHECK(quant_conv2d(&s, in, 0, 0, pk, &ep, out, ws, wsb) == QUANT_EINVAL);
    s.out_c = 5; s.in_h = SIZE_MAX / 4; s.in_w = 1024;
    CHECK(quant_conv_out_size(&s, &oh, &ow) == QUANT_EOVERFLOW);
    s.in_h = 4; s.out_c = 3;
    CHECK(quant_dwconv2d(&s, in, 0, 0, pk, &ep, out) == QUANT_EFORMAT); /* a conv buffer is not a depthwise one */
    CHECK(memcmp(out, keep, sizeof out) == 0);
}

int main(void) {
    fprintf(stderr, "  isa: %s\n", quant_isa_name());
    RUN(test_conv2d);
    RUN(test_conv2d_c4);
    RUN(test_conv2d_c1);
    RUN(test_conv2d_smallk);
    RUN(test_conv2d_split);
    RUN(test_conv2d_large);
    RUN(test_dwconv);
    RUN(test_bad_input);
    return qt_summary();
}
