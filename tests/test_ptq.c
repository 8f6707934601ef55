/* tests/test_ptq.c - quant.h section 12 (post-training quantization) against
 * plain double-precision reimplementations written here from the published
 * methods, not from the library's code:
 *   - cross-layer equalization (Nagel et al. 2019): ranges, scales, applied
 *     weights; the float function of a dense pair and of a conv -> depthwise
 *     -> conv chain (a real NHWC convolution in double) unchanged, the
 *     per-channel ranges equalized; ReLU6 only with its clip scaled;
 *   - bias correction: the new bias; the quantized layer's mean output
 *     error on the calibration set ~0 (dense, conv, depthwise; and
 *     data-free, from batch-norm statistics through ReLU6); the
 *     clipped-normal expectation against numerical integration;
 *   - GPTQ (Frantar et al. 2022) against the optimal-brain-quantization
 *     update written with an explicit inverse of the remaining columns'
 *     Hessian at every step (Gauss-Jordan, no Cholesky); output error below
 *     round to nearest on correlated inputs; identical to nearest with a
 *     diagonal Hessian; the Hessian and its error form;
 *   - adversarial inputs: zero and dead channels, K = 1, NaN, overflowing
 *     sizes, a singular Hessian with zero damping; nothing written on error.
 * Measured effects are printed as "note:" lines. */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant.h"
#include "harness.h"
#include <stdint.h>
#include <float.h>
#include <stdarg.h>

static void note(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "  note [%s]: ", qt_cur_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
}

static int rel_close(double got, double exp, double tol) {
    double d = fabs(got - exp), m = fabs(exp) > 1.0 ? fabs(exp) : 1.0;
    return d <= tol * m;
}

static float *fvec(size_t n) { float *p = (float *)calloc(n ? n : 1, sizeof(float)); if (!p) abort(); return p; }
static double *dvec(size_t n) { double *p = (double *)calloc(n ? n : 1, sizeof(double)); if (!p) abort(); return p; }

static void fill_normal(float *x, size_t n, double sd) {
    size_t i;
    for (i = 0; i < n; i++) x[i] = (float)(qt_normal() * sd);
}

/* ------------------------------------------------------------------------ */
/* reference: channel ranges and CLE in double                              */
/* ------------------------------------------------------------------------ */

/* coordinate along `axis` of element e of a row-major tensor */
static size_t coord(size_t e, const size_t *shape, int ndim, int axis) {
    size_t stride = 1;
    int i;
    for (i = ndim - 1; i > axis; i--) stride *= shape[i];
    return (e / stride) % shape[axis];
}
static size_t count(const size_t *shape, int ndim) {
    size_t c = 1;
    int i;
    for (i = 0; i < ndim; i++) c *= shape[i];
    return c;
}
static void ref_absmax(const float *w, const size_t *shape, int ndim, int axis, double *r) {
    size_t e, n = count(shape, ndim);
    for (e = 0; e < shape[axis]; e++) r[e] = 0;
    for (e = 0; e < n; e++) {
        size_t c = coord(e, shape, ndim, axis);
        if (fabs((double)w[e]) > r[c]) r[c] = fabs((double)w[e]);
    }
}
static void ref_cle(double *w1, const size_t *s1, int n1, int a1, double *b1,
                    double *w2, const size_t *s2, int n2, int a2, const double *s) {
    size_t e;
    for (e = 0; e < count(s1, n1); e++) w1[e] /= s[coord(e, s1, n1, a1)];
    if (b1) for (e = 0; e < s1[a1]; e++) b1[e] /= s[e];
    for (e = 0; e < count(s2, n2); e++) w2[e] *= s[coord(e, s2, n2, a2)];
}

/* dense: y[N] = W[N][K] x + b */
static void dense_d(const double *W, const double *b, size_t N, size_t K, const double *x, double *y) {
    size_t n, k;
    for (n = 0; n < N; n++) {
        double a = b ? b[n] : 0;
        for (k = 0; k < K; k++) a += W[n * K + k] * x[k];
        y[n] = a;
    }
}
static void relu_d(double *x, size_t n) { size_t i; for (i = 0; i < n; i++) if (x[i] < 0) x[i] = 0; }

/* NHWC conv, stride 1, "same" zero padding (odd kernel), one image.
 * depthwise: w [kh][kw][C]; else w [oc][kh][kw][ic]. */
static void conv_d(const double *in, size_t H, size_t W, size_t ic, const double *w, const double *b,
                   size_t oc, size_t kh, size_t kw, int depthwise, double *out) {
    size_t y, x, o, i, u, v;
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++)
            for (o = 0; o < oc; o++) {
                double a = b ? b[o] : 0;
                for (u = 0; u < kh; u++)
                    for (v = 0; v < kw; v++) {
                        long yy = (long)y + (long)u - (long)(kh / 2), xx = (long)x + (long)v - (long)(kw / 2);
                        if (yy < 0 || xx < 0 || yy >= (long)H || xx >= (long)W) continue;
                        if (depthwise) a += w[(u * kw + v) * oc + o] * in[((size_t)yy * W + (size_t)xx) * ic + o];
                        else for (i = 0; i < ic; i++)
                            a += w[((o * kh + u) * kw + v) * ic + i] * in[((size_t)yy * W + (size_t)xx) * ic + i];
                    }
                out[(y * W + x) * oc + o] = a;
            }
}

static void f2d(const float *f, double *d, size_t n) { size_t i; for (i = 0; i < n; i++) d[i] = f[i]; }

/* ------------------------------------------------------------------------ */
/* CLE                                                                      */
/* ------------------------------------------------------------------------ */

static void test_cle_dense_pair(void) {
    enum { K = 12, C = 20, N2 = 7 };
    size_t s1[2] = { C, K }, s2[2] = { N2, C };
    float *w1 = fvec(C * K), *w2 = fvec(N2 * C), b1[C], s[C], r1[C], r2[C];
    double *w1d = dvec(C * K), *w2d = dvec(N2 * C), b1d[C], rd1[C], rd2[C], sd[C];
    size_t c, e;
    double spread_before = 0, spread_after = 0;
    fill_normal(w1, C * K, 1.0);
    fill_normal(w2, N2 * C, 1.0);
    for (c = 0; c < C; c++) { /* very uneven channels, as DFQ's motivation */
        double f = pow(10.0, 3.0 * qt_uniform() - 1.5);
        for (e = 0; e < K; e++) w1[c * K + e] *= (float)f;
        b1[c] = (float)(qt_normal() * f);
    }
    for (e = 0; e < K; e++) w1[3 * K + e] = 0; /* zero channel: s = 1 */
    b1[5] = -1e4f;                            /* dead ReLU channel */
    f2d(w1, w1d, C * K); f2d(w2, w2d, N2 * C); f2d(b1, b1d, C);
    CHECK(quant_cle_scales(w1, s1, 2, 0, w2, s2, 2, 1, s) == QUANT_OK);
    ref_absmax(w1, s1, 2, 0, rd1); ref_absmax(w2, s2, 2, 1, rd2);
    CHECK(quant_absmax_axis(w1, s1, 2, 0, r1) == QUANT_OK);
    CHECK(quant_absmax_axis(w2, s2, 2, 1, r2) == QUANT_OK);
    for (c = 0; c < C; c++) {
        sd[c] = rd1[c] > 0 && rd2[c] > 0 ? sqrt(rd1[c] * rd2[c]) / rd2[c] : 1.0;
        CHECK(r1[c] == (float)rd1[c] && r2[c] == (float)rd2[c]);
        CHECKF(rel_close(s[c], sd[c], 1e-7), "c %zu s %g ref %g", c, (double)s[c], sd[c]);
        spread_before = fmax(spread_before, fabs(log(rd1[c] > 0 ? rd1[c] / rd2[c] : 1.0)));
    }
    CHECK(s[3] == 1.0f);
    CHECK(quant_cle_apply(w1, s1, 2, 0, b1, w2, s2, 2, 1, s) == QUANT_OK);
    {   /* the reference applies the float scales in double */
        double sf[C];
        for (c = 0; c < C; c++) sf[c] = s[c];
        ref_cle(w1d, s1, 2, 0, b1d, w2d, s2, 2, 1, sf);
    }
    for (e = 0; e < C * K; e++) CHECK(rel_close(w1[e], w1d[e], 1e-6) && fabs(w1[e] - w1d[e]) <= 6e-8 * fabs(w1d[e]));
    for (e = 0; e < N2 * C; e++) CHECK(fabs(w2[e] - w2d[e]) <= 6e-8 * fabs(w2d[e]));
    for (c = 0; c < C; c++) CHECK(fabs(b1[c] - b1d[c]) <= 6e-8 * fabs(b1d[c]));
    /* ranges equalized */
    ref_absmax(w1, s1, 2, 0, rd1); ref_absmax(w2, s2, 2, 1, rd2);
    for (c = 0; c < C; c++) {
        if (c == 3) continue;
        CHECKF(rel_close(rd1[c], rd2[c], 1e-6 * rd2[c] + 1e-30) || fabs(rd1[c] / rd2[c] - 1) < 1e-6,
               "c %zu r1 %g r2 %g", c, rd1[c], rd2[c]);
        spread_after = fmax(spread_after, fabs(log(rd1[c] / rd2[c])));
    }
    free(w1); free(w2); free(w1d); free(w2d);
    note("log range ratio max before %.3f after %.2e", spread_before, spread_after);
}

/* The function check with replayable inputs (its own seed). */
static void test_cle_dense_function(void) {
    enum { K = 16, C = 24, N2 = 5, T = 64 };
    size_t s1[2] = { C, K }, s2[2] = { N2, C };
    float *w1 = fvec(C * K), *w2 = fvec(N2 * C), b1[C], b2[N2], s[C];
    double *w1d = dvec(C * K), *w2d = dvec(N2 * C), b1d[C], b2d[N2], h[C], *X = dvec(T * K), y0[N2], y1[N2];
    size_t c, e, t;
    double worst = 0, scale = 0;
    int it;
    fill_normal(w1, C * K, 1.0); fill_normal(w2, N2 * C, 0.3); fill_normal(b2, N2, 1.0);
    for (c = 0; c < C; c++) {
        double f = pow(10.0, 2.0 * qt_uniform() - 1.0);
        for (e = 0; e < K; e++) w1[c * K + e] *= (float)f;
        b1[c] = (float)(qt_normal() * f);
    }
    for (e = 0; e < T * K; e++) X[e] = qt_normal();
    f2d(w1, w1d, C * K); f2d(w2, w2d, N2 * C); f2d(b1, b1d, C); f2d(b2, b2d, N2);
    for (it = 0; it < 3; it++) { /* repeated equalization converges to s = 1 */
        CHECK(quant_cle_scales(w1, s1, 2, 0, w2, s2, 2, 1, s) == QUANT_OK);
        CHECK(quant_cle_apply(w1, s1, 2, 0, b1, w2, s2, 2, 1, s) == QUANT_OK);
    }
    for (c = 0; c < C; c++) CHECKF(fabs(s[c] - 1.0f) < 1e-6f, "second pass s %g", (double)s[c]);
    for (t = 0; t < T; t++) {
        double w1n[C * K], w2n[N2 * C], b1n[C];
        dense_d(w1d, b1d, C, K, X + t * K, h); relu_d(h, C); dense_d(w2d, b2d, N2, C, h, y0);
        f2d(w1, w1n, C * K); f2d(w2, w2n, N2 * C); f2d(b1, b1n, C);
        dense_d(w1n, b1n, C, K, X + t * K, h); relu_d(h, C); dense_d(w2n, b2d, N2, C, h, y1);
        for (e = 0; e < N2; e++) { worst = fmax(worst, fabs(y1[e] - y0[e])); scale = fmax(scale, fabs(y0[e])); }
    }
    CHECKF(worst <= 1e-5 * scale, "float function changed by %g (outputs up to %g)", worst, scale);
    note("dense pair: float function changed by %.2e relative (max |y| %.3g)", worst / scale, scale);
    free(w1); free(w2); free(w1d); free(w2d); free(X);
}

/* conv 3x3 -> ReLU -> depthwise 3x3 -> ReLU -> conv 1x1, equalized as the
 * pairs (conv1, dw) and (dw, conv2), the DFQ way. */
static void test_cle_conv_dw_conv(void) {
    enum { H = 6, W = 5, IC = 3, C = 8, OC = 4 };
    size_t sh1[4] = { C, 3, 3, IC }, shd[3] = { 3, 3, C }, sh2[4] = { OC, 1, 1, C };
    float w1[C * 9 * IC], wd[9 * C], w2[OC * C], b1[C], bd[C], s[C], r1[C], r2[C];
    double in[H * W * IC], t1[H * W * C], t2[H * W * C], y0[H * W * OC], y1[H * W * OC];
    double w1d[C * 9 * IC], wdd[9 * C], w2d[OC * C], b1d[C], bdd[C];
    double worst = 0, sc = 0, before = 0, after = 0;
    size_t c, e;
    int it;
    fill_normal(w1, C * 9 * IC, 1.0); fill_normal(wd, 9 * C, 1.0); fill_normal(w2, OC * C, 1.0);
    for (c = 0; c < C; c++) {
        double f = pow(10.0, 2.0 * qt_uniform() - 1.0), g = pow(10.0, 2.0 * qt_uniform() - 1.0);
        for (e = 0; e < 9 * IC; e++) w1[c * 9 * IC + e] *= (float)f;
        for (e = 0; e < 9; e++) wd[e * C + c] *= (float)g;
        b1[c] = (float)(qt_normal() * f);
        bd[c] = (float)(qt_normal() * g);
    }
    for (e = 0; e < H * W * IC; e++) in[e] = qt_normal();
    f2d(w1, w1d, sizeof w1 / 4); f2d(wd, wdd, sizeof wd / 4); f2d(w2, w2d, sizeof w2 / 4); f2d(b1, b1d, C); f2d(bd, bdd, C);
    conv_d(in, H, W, IC, w1d, b1d, C, 3, 3, 0, t1); relu_d(t1, H * W * C);
    conv_d(t1, H, W, C, wdd, bdd, C, 3, 3, 1, t2); relu_d(t2, H * W * C);
    conv_d(t2, H, W, C, w2d, NULL, OC, 1, 1, 0, y0);
    CHECK(quant_absmax_axis(w1, sh1, 4, 0, r1) == QUANT_OK);
    CHECK(quant_absmax_axis(wd, shd, 3, 2, r2) == QUANT_OK);
    for (c = 0; c < C; c++) before = fmax(before, fabs(log((double)r1[c] / r2[c])));
    for (it = 0; it < 20; it++) {
        CHECK(quant_cle_scales(w1, sh1, 4, 0, wd, shd, 3, 2, s) == QUANT_OK);
        CHECK(quant_cle_apply(w1, sh1, 4, 0, b1, wd, shd, 3, 2, s) == QUANT_OK);
        CHECK(quant_cle_scales(wd, shd, 3, 2, w2, sh2, 4, 3, s) == QUANT_OK);
        CHECK(quant_cle_apply(wd, shd, 3, 2, bd, w2, sh2, 4, 3, s) == QUANT_OK);
    }
    f2d(w1, w1d, sizeof w1 / 4); f2d(wd, wdd, sizeof wd / 4); f2d(w2, w2d, sizeof w2 / 4); f2d(b1, b1d, C); f2d(bd, bdd, C);
    conv_d(in, H, W, IC, w1d, b1d, C, 3, 3, 0, t1); relu_d(t1, H * W * C);
    conv_d(t1, H, W, C, wdd, bdd, C, 3, 3, 1, t2); relu_d(t2, H * W * C);
    conv_d(t2, H, W, C, w2d, NULL, OC, 1, 1, 0, y1);
    for (e = 0; e < H * W * OC; e++) { worst = fmax(worst, fabs(y1[e] - y0[e])); sc = fmax(sc, fabs(y0[e])); }
    CHECKF(worst <= 1e-5 * sc, "float function changed by %g (outputs up to %g)", worst, sc);
    /* after iterating, the depthwise layer's two roles are balanced: the
     * ranges of conv1's outputs and dw's channels nearly agree */
    CHECK(quant_absmax_axis(w1, sh1, 4, 0, r1) == QUANT_OK);
    CHECK(quant_absmax_axis(wd, shd, 3, 2, r2) == QUANT_OK);
    for (c = 0; c < C; c++) after = fmax(after, fabs(log((double)r1[c] / r2[c])));
    CHECKF(after < 0.5 * before, "log range ratio %g -> %g", before, after);
    note("conv->dw->conv: function changed %.2e relative; conv1/dw log range ratio %.3f -> %.3f", worst / sc, before, after);
}

static void test_cle_errors(void) {
    size_t s1[2] = { 4, 3 }, s2[2] = { 2, 4 }, s2bad[2] = { 2, 5 }, huge[3] = { SIZE_MAX / 2, 4, 3 };
    float w1[12], w2[8], b1[4], s[4] = { 1, 1, 1, 1 }, c1[12], c2[8], cb[4], r[4] = { 7, 7, 7, 7 };
    float ra[2] = { 1, 2 }, rb[2] = { 0, -1 };
    size_t i;
    fill_normal(w1, 12, 1); fill_normal(w2, 8, 1); fill_normal(b1, 4, 1);
    memcpy(c1, w1, sizeof w1); memcpy(c2, w2, sizeof w2); memcpy(cb, b1, sizeof b1);
    CHECK(quant_cle_scales(w1, s1, 2, 0, w2, s2bad, 2, 1, s) == QUANT_EINVAL);
    CHECK(quant_cle_scales(NULL, s1, 2, 0, w2, s2, 2, 1, s) == QUANT_EINVAL);
    CHECK(quant_cle_scales(w1, s1, 2, 2, w2, s2, 2, 1, s) == QUANT_EINVAL);
    CHECK(quant_cle_scales(w1, huge, 3, 1, w2, s2, 2, 1, s) == QUANT_EOVERFLOW);
    CHECK(quant_absmax_axis(w1, huge, 3, 1, r) == QUANT_EOVERFLOW);
    w1[5] = NAN;
    CHECK(quant_cle_scales(w1, s1, 2, 0, w2, s2, 2, 1, s) == QUANT_ERANGE);
    CHECK(quant_absmax_axis(w1, s1, 2, 0, r) == QUANT_ERANGE);
    CHECK(r[0] == 7 && r[3] == 7);
    CHECK(s[0] == 1 && s[3] == 1);
    w1[5] = c1[5];
    CHECK(quant_cle_scales_from_ranges(ra, rb, 2, s) == QUANT_ERANGE);
    rb[1] = 0;
    CHECK(quant_cle_scales_from_ranges(ra, rb, 2, s) == QUANT_OK && s[0] == 1 && s[1] == 1);
    ra[0] = 1e30f; rb[0] = 1e-30f; /* clamped to 2^32 */
    CHECK(quant_cle_scales_from_ranges(ra, rb, 1, s) == QUANT_OK && s[0] == 4294967296.0f);
    /* bad scales and overflowing results change nothing */
    s[0] = 1; s[1] = 0; s[2] = 1; s[3] = 1;
    CHECK(quant_cle_apply(w1, s1, 2, 0, b1, w2, s2, 2, 1, s) == QUANT_ESCALE);
    s[1] = NAN;
    CHECK(quant_cle_apply(w1, s1, 2, 0, b1, w2, s2, 2, 1, s) == QUANT_ESCALE);
    s[1] = 1e-30f; w1[3] = 1e30f; c1[3] = 1e30f;
    CHECK(quant_cle_apply(w1, s1, 2, 0, b1, w2, s2, 2, 1, s) == QUANT_ERANGE);
    for (i = 0; i < 12; i++) CHECK(w1[i] == c1[i]);
    for (i = 0; i < 8; i++) CHECK(w2[i] == c2[i]);
    for (i = 0; i < 4; i++) CHECK(b1[i] == cb[i]);
    CHECK(quant_cle_apply(w1, s1, 2, 0, b1, w2, s2bad, 2, 1, s) == QUANT_EINVAL);
}

/* ------------------------------------------------------------------------ */
/* bias correction                                                          */
/* ------------------------------------------------------------------------ */

/* per-channel symmetric nearest quantization (the layer being corrected) */
static void quantize_rows(const float *w, size_t N, size_t K, int32_t qmax, float *wq) {
    size_t n, k;
    for (n = 0; n < N; n++) {
        float am = 0, s, inv;
        for (k = 0; k < K; k++) am = fmaxf(am, fabsf(w[n * K + k]));
        s = am / (float)qmax;
        inv = s > 0 ? 1.0f / s : 0;
        for (k = 0; k < K; k++) wq[n * K + k] = s > 0 ? (float)quant_quantize1(w[n * K + k], inv, 0, -qmax - 1, qmax) * s : 0;
    }
}

static void test_bias_correct_dense(void) {
    enum { N = 16, K = 32, T = 3000 };
    size_t sh[2] = { N, K };
    float *w = fvec(N * K), *wq = fvec(N * K), *X = fvec(T * K), b[N], b0[N], ex[K];
    double exd[K], bref[N], err_before[N], err_after[N], mb = 0, ma = 0, ysc = 0;
    size_t n, k, t;
    fill_normal(w, N * K, 0.5);
    fill_normal(b, N, 0.1);
    memcpy(b0, b, sizeof b);
    quantize_rows(w, N, K, 7, wq); /* int4: a visible shift */
    for (t = 0; t < T; t++) for (k = 0; k < K; k++) { /* post-ReLU inputs with channel means */
        double v = qt_normal() + 0.5 * sin((double)k);
        X[t * K + k] = (float)(v > 0 ? v : 0);
    }
    for (k = 0; k < K; k++) { exd[k] = 0; for (t = 0; t < T; t++) exd[k] += X[t * K + k]; exd[k] /= T; ex[k] = (float)exd[k]; }
    for (n = 0; n < N; n++) {
        bref[n] = b[n];
        for (k = 0; k < K; k++) bref[n] -= ((double)wq[n * K + k] - w[n * K + k]) * ex[k];
    }
    CHECK(quant_bias_correct(w, wq, sh, 2, 0, 1, ex, b) == QUANT_OK);
    for (n = 0; n < N; n++) CHECKF(b[n] == (float)bref[n], "n %zu %g ref %g", n, (double)b[n], bref[n]);
    /* mean output error of the quantized layer on the calibration set */
    for (n = 0; n < N; n++) {
        double eb = 0, ea = 0;
        for (t = 0; t < T; t++) {
            double yf = b0[n], yb = b0[n], ya = b[n];
            for (k = 0; k < K; k++) {
                yf += (double)w[n * K + k] * X[t * K + k];
                yb += (double)wq[n * K + k] * X[t * K + k];
                ya += (double)wq[n * K + k] * X[t * K + k];
            }
            eb += yb - yf; ea += ya - yf; ysc = fmax(ysc, fabs(yf));
        }
        err_before[n] = eb / T; err_after[n] = ea / T;
        mb = fmax(mb, fabs(err_before[n])); ma = fmax(ma, fabs(err_after[n]));
        CHECKF(fabs(err_after[n]) < 1e-5 * (ysc > 1 ? ysc : 1), "n %zu mean error %g", n, err_after[n]);
    }
    CHECK(mb > 100 * ma);
    note("dense int4: largest mean output error %.2e before, %.2e after (max |y| %.3g)", mb, ma, ysc);
    free(w); free(wq); free(X);
}

/* conv [oc][3][3][ic] without padding (every tap sees a real input), and
 * depthwise [3][3][c]: E[x] per input channel gives a zero mean error. */
static void test_bias_correct_conv(void) {
    enum { H = 8, W = 8, IC = 4, OC = 6, HO = 6, WO = 6, IMG = 40 };
    size_t sh[4] = { OC, 3, 3, IC }, shd[3] = { 3, 3, IC };
    float w[OC * 9 * IC], wq[OC * 9 * IC], wdw[9 * IC], wdq[9 * IC], b[OC], bd[IC], ex[IC];
    double *in = dvec((size_t)IMG * H * W * IC), meanerr[OC], meand[IC], mb = 0, ma = 0, exd[IC];
    size_t i, e, c, o, y, x, u, v, img;
    fill_normal(w, sizeof w / 4, 0.3); fill_normal(wdw, sizeof wdw / 4, 0.3);
    for (o = 0; o < OC; o++) b[o] = 0;
    for (c = 0; c < IC; c++) bd[c] = 0;
    quantize_rows(w, OC, 9 * IC, 1, wq); /* int2: large shift */
    for (e = 0; e < 9 * IC; e++) { float s = 0.25f; wdq[e] = (float)quant_quantize1(wdw[e], 1.0f / s, 0, -2, 1) * s; }
    for (c = 0; c < IC; c++) exd[c] = 0;
    for (e = 0; e < (size_t)IMG * H * W * IC; e++) {
        double val = qt_normal() + 0.3 * (double)(e % IC);
        in[e] = val > 0 ? val : 0;
    }
    /* E[x] over the positions the valid conv reads: all of them once per tap
     * is not uniform, so measure over the interior rows the taps cover:
     * with no padding each output reads a 3x3 window; use the plain mean
     * and check the error against the per-tap exact expectation below */
    for (img = 0; img < IMG; img++) for (i = 0; i < H * W; i++) for (c = 0; c < IC; c++) exd[c] += in[(img * H * W + i) * IC + c];
    for (c = 0; c < IC; c++) { exd[c] /= (double)IMG * H * W; ex[c] = (float)exd[c]; }
    CHECK(quant_bias_correct(w, wq, sh, 4, 0, 3, ex, b) == QUANT_OK);
    CHECK(quant_bias_correct(wdw, wdq, shd, 3, 2, 2, ex, bd) == QUANT_OK);
    for (o = 0; o < OC; o++) {
        double ref = 0;
        for (e = 0; e < 9 * IC; e++) ref -= ((double)wq[o * 9 * IC + e] - w[o * 9 * IC + e]) * ex[e % IC];
        CHECKF(b[o] == (float)ref, "o %zu %g ref %g", o, (double)b[o], ref);
    }
    for (c = 0; c < IC; c++) {
        double ref = 0;
        for (e = 0; e < 9; e++) ref -= ((double)wdq[e * IC + c] - wdw[e * IC + c]) * ex[c];
        CHECKF(bd[c] == (float)ref, "c %zu %g ref %g", c, (double)bd[c], ref);
    }
    /* the mean output error over the calibration images: with i.i.d. pixels
     * the window means equal the channel means up to sampling noise */
    for (o = 0; o < OC; o++) meanerr[o] = 0;
    for (c = 0; c < IC; c++) meand[c] = 0;
    for (img = 0; img < IMG; img++)
        for (y = 0; y < HO; y++) for (x = 0; x < WO; x++) {
            for (o = 0; o < OC; o++) {
                double d = 0;
                for (u = 0; u < 3; u++) for (v = 0; v < 3; v++) for (i = 0; i < IC; i++)
                    d += ((double)wq[((o * 3 + u) * 3 + v) * IC + i] - w[((o * 3 + u) * 3 + v) * IC + i]) *
                         in[((img * H + y + u) * W + x + v) * IC + i];
                meanerr[o] += d;
            }
            for (c = 0; c < IC; c++) {
                double d = 0;
                for (u = 0; u < 3; u++) for (v = 0; v < 3; v++)
                    d += ((double)wdq[(u * 3 + v) * IC + c] - wdw[(u * 3 + v) * IC + c]) * in[((img * H + y + u) * W + x + v) * IC + c];
                meand[c] += d;
            }
        }
    for (o = 0; o < OC; o++) {
        double before = meanerr[o] / (IMG * HO * WO), after = before + b[o];
        mb = fmax(mb, fabs(before)); ma = fmax(ma, fabs(after));
    }
    for (c = 0; c < IC; c++) {
        double before = meand[c] / (IMG * HO * WO), after = before + bd[c];
        mb = fmax(mb, fabs(before)); ma = fmax(ma, fabs(after));
    }
    CHECKF(ma < 0.1 * mb, "mean error %g -> %g", mb, ma);
    note("conv int2 + depthwise: largest mean output error %.3e before, %.3e after", mb, ma);
    free(in);
}

/* E[clamp(x, lo, hi)], x ~ N(mu, sd^2), by the trapezoid rule over +-12 sd */
static double ref_clipped_mean(double mu, double sd, double lo, double hi) {
    const int M = 200000;
    double a = mu - 12 * sd, b = mu + 12 * sd, h = (b - a) / M, sum = 0;
    int i;
    if (sd == 0) return mu < lo ? lo : mu > hi ? hi : mu;
    for (i = 0; i <= M; i++) {
        double x = a + h * i, z = (x - mu) / sd, f = exp(-0.5 * z * z) / (sd * sqrt(2 * 3.14159265358979323846));
        double c = x < lo ? lo : x > hi ? hi : x;
        sum += (i == 0 || i == M ? 0.5 : 1.0) * c * f;
    }
    return sum * h;
}

static void test_expected_clipped_normal(void) {
    float mu[6] = { 0.0f, 1.5f, -2.0f, 3.0f, 7.0f, 0.25f }, sd[6] = { 1.0f, 0.5f, 1.0f, 4.0f, 2.0f, 0.0f }, ex[6];
    float los[3] = { 0.0f, 0.0f, -INFINITY }, his[3] = { INFINITY, 6.0f, INFINITY };
    int i, j;
    for (j = 0; j < 3; j++) {
        CHECK(quant_expected_clipped_normal(mu, sd, 6, los[j], his[j], ex) == QUANT_OK);
        for (i = 0; i < 6; i++) {
            double r = ref_clipped_mean(mu[i], sd[i], los[j], his[j]);
            CHECKF(fabs(ex[i] - r) <= 2e-6 * (1 + fabs(r)), "mu %g sd %g [%g, %g]: %g ref %.9g",
                   (double)mu[i], (double)sd[i], (double)los[j], (double)his[j], (double)ex[i], r);
        }
    }
    CHECK(quant_expected_clipped_normal(mu, sd, 6, 1.0f, 1.0f, ex) == QUANT_EINVAL);
    CHECK(quant_expected_clipped_normal(mu, sd, 6, NAN, 1.0f, ex) == QUANT_EINVAL);
    sd[2] = -1;
    ex[0] = 42;
    CHECK(quant_expected_clipped_normal(mu, sd, 6, 0.0f, INFINITY, ex) == QUANT_ERANGE && ex[0] == 42);
    sd[2] = 1; mu[1] = NAN;
    CHECK(quant_expected_clipped_normal(mu, sd, 6, 0.0f, INFINITY, ex) == QUANT_ERANGE && ex[0] == 42);
}

/* Data-free (DFQ): the layer's input is ReLU6 of a batch-normed value with
 * beta (mean) and gamma (deviation); E[x] from them alone corrects the bias
 * as well as the empirical mean does, up to the sampling error. */
static void test_bias_correct_data_free(void) {
    enum { N = 12, K = 24, T = 20000 };
    size_t sh[2] = { N, K }, n, k, t;
    float *w = fvec(N * K), *wq = fvec(N * K), *X = fvec((size_t)T * K), beta[K], gamma[K], ex[K], b[N], b0[N];
    double worst_before = 0, worst_after = 0;
    fill_normal(w, N * K, 0.4);
    quantize_rows(w, N, K, 3, wq); /* int3: a clear shift */
    for (k = 0; k < K; k++) { beta[k] = (float)(2.0 * qt_uniform() - 0.5); gamma[k] = (float)(0.2 + 2.0 * qt_uniform()); }
    for (t = 0; t < T; t++) for (k = 0; k < K; k++) {
        double v = beta[k] + gamma[k] * qt_normal();
        X[t * K + k] = (float)(v < 0 ? 0 : v > 6 ? 6 : v);
    }
    CHECK(quant_expected_clipped_normal(beta, gamma, K, 0.0f, 6.0f, ex) == QUANT_OK);
    for (n = 0; n < N; n++) b[n] = b0[n] = 0.0f;
    CHECK(quant_bias_correct(w, wq, sh, 2, 0, 1, ex, b) == QUANT_OK);
    for (n = 0; n < N; n++) {
        double eb = 0, ea;
        for (t = 0; t < T; t++)
            for (k = 0; k < K; k++) eb += ((double)wq[n * K + k] - w[n * K + k]) * X[t * K + k];
        eb /= T; ea = eb + b[n] - b0[n];
        worst_before = fmax(worst_before, fabs(eb)); worst_after = fmax(worst_after, fabs(ea));
    }
    CHECKF(worst_after < 0.05 * worst_before, "mean output error %g -> %g", worst_before, worst_after);
    note("data-free (ReLU6 of N(beta, gamma^2)): largest mean output error %.3e -> %.3e", worst_before, worst_after);
    free(w); free(wq); free(X);
}

/* The header's ReLU6 caveat: CLE keeps a ReLU6 pair's function only if the
 * clip of channel i becomes 6 / s_i. */
static void test_cle_relu6_needs_scaled_clip(void) {
    enum { K = 6, C = 10, T = 200 };
    size_t s1[2] = { C, K }, s2[2] = { 1, C }, c, k, t;
    float w1[C * K], w2[C], b1[C], s[C];
    double w1d[C * K], w2d[C], b1d[C], worst_fixed = 0, worst_scaled = 0;
    fill_normal(w1, C * K, 3.0); fill_normal(w2, C, 1.0); fill_normal(b1, C, 2.0);
    for (c = 0; c < C; c++) { for (k = 0; k < K; k++) w1[c * K + k] *= (float)(c + 1); }
    f2d(w1, w1d, C * K); f2d(w2, w2d, C); f2d(b1, b1d, C);
    CHECK(quant_cle_scales(w1, s1, 2, 0, w2, s2, 2, 1, s) == QUANT_OK);
    CHECK(quant_cle_apply(w1, s1, 2, 0, b1, w2, s2, 2, 1, s) == QUANT_OK);
    for (t = 0; t < T; t++) {
        double x[K], y0 = 0, yf = 0, ys = 0;
        for (k = 0; k < K; k++) x[k] = qt_normal();
        for (c = 0; c < C; c++) {
            double h0 = b1d[c], h1 = b1[c];
            for (k = 0; k < K; k++) { h0 += w1d[c * K + k] * x[k]; h1 += (double)w1[c * K + k] * x[k]; }
            y0 += w2d[c] * (h0 < 0 ? 0 : h0 > 6 ? 6 : h0);
            yf += (double)w2[c] * (h1 < 0 ? 0 : h1 > 6 ? 6 : h1);                      /* clip kept at 6 */
            ys += (double)w2[c] * (h1 < 0 ? 0 : h1 > 6.0 / s[c] ? 6.0 / s[c] : h1);   /* clip 6 / s_i */
        }
        worst_fixed = fmax(worst_fixed, fabs(yf - y0)); worst_scaled = fmax(worst_scaled, fabs(ys - y0));
    }
    CHECKF(worst_scaled < 1e-4, "with the clip scaled: %g", worst_scaled);
    CHECKF(worst_fixed > 0.1, "with the clip kept: %g", worst_fixed);
    note("ReLU6 pair: output change %.2e with the clip at 6 / s_i, %.3g with it kept at 6", worst_scaled, worst_fixed);
}

static void test_bias_correct_errors(void) {
    size_t sh[2] = { 2, 3 }, huge[2] = { SIZE_MAX / 2, 3 };
    float w[6] = { 1, 2, 3, 4, 5, 6 }, wq[6] = { 1, 2, 3, 4, 5, 7 }, ex[3] = { 1, 1, 1 }, b[2] = { 5, 6 };
    CHECK(quant_bias_correct(w, wq, sh, 2, 0, 1, NULL, b) == QUANT_EINVAL);
    CHECK(quant_bias_correct(w, wq, sh, 2, 0, 2, ex, b) == QUANT_EINVAL);
    CHECK(quant_bias_correct(w, wq, huge, 2, 0, 1, ex, b) == QUANT_EOVERFLOW);
    ex[1] = NAN;
    CHECK(quant_bias_correct(w, wq, sh, 2, 0, 1, ex, b) == QUANT_ERANGE);
    ex[1] = 1; wq[0] = INFINITY;
    CHECK(quant_bias_correct(w, wq, sh, 2, 0, 1, ex, b) == QUANT_ERANGE);
    wq[0] = 1; wq[5] = 3e38f; ex[2] = 10; /* the new bias would overflow */
    CHECK(quant_bias_correct(w, wq, sh, 2, 0, 1, ex, b) == QUANT_ERANGE);
    CHECK(b[0] == 5 && b[1] == 6);
    wq[5] = 7;
    CHECK(quant_bias_correct(w, wq, sh, 2, 0, 1, ex, b) == QUANT_OK && b[0] == 5 && b[1] == -4);
}

/* ------------------------------------------------------------------------ */
/* GPTQ                                                                     */
/* ------------------------------------------------------------------------ */

/* in-place Gauss-Jordan inverse of an n x n matrix with partial pivoting */
static int gj_inverse(double *a, double *inv, size_t n) {
    size_t i, j, k;
    for (i = 0; i < n; i++) for (j = 0; j < n; j++) inv[i * n + j] = i == j;
    for (k = 0; k < n; k++) {
        size_t p = k;
        double d;
        for (i = k + 1; i < n; i++) if (fabs(a[i * n + k]) > fabs(a[p * n + k])) p = i;
        if (a[p * n + k] == 0) return -1;
        for (j = 0; j < n; j++) {
            double t = a[k * n + j]; a[k * n + j] = a[p * n + j]; a[p * n + j] = t;
            t = inv[k * n + j]; inv[k * n + j] = inv[p * n + j]; inv[p * n + j] = t;
        }
        d = a[k * n + k];
        for (j = 0; j < n; j++) { a[k * n + j] /= d; inv[k * n + j] /= d; }
        for (i = 0; i < n; i++) if (i != k) {
            double f = a[i * n + k];
            if (f == 0) continue;
            for (j = 0; j < n; j++) { a[i * n + j] -= f * a[k * n + j]; inv[i * n + j] -= f * inv[k * n + j]; }
        }
    }
    return 0;
}

static int32_t ref_round(double w, float s, int32_t qmin, int32_t qmax) {
    float inv, t;
    if (!(s >= FLT_MIN)) return 0;
    inv = 1.0f / s;
    t = nearbyintf((float)w * inv);
    return t < (float)qmin ? qmin : t > (float)qmax ? qmax : (int32_t)t;
}

/* OBQ / GPTQ from its definition: quantize column order[p]; the remaining
 * columns F get delta_F = -(w_q - q s) / [H_F^-1]_qq * [H_F^-1]_{F,q}, with
 * H_F^-1 inverted afresh from the damped Hessian restricted to F. */
static void ref_gptq(const float *w, size_t N, size_t K, const double *H0, const quant_gptq_opts *o,
                     const float *scales, const size_t *order, int8_t *q) {
    double *H = dvec(K * K), *sub = dvec(K * K), *inv = dvec(K * K), *row = dvec(K), mean = 0, lam;
    size_t *F = (size_t *)calloc(K, sizeof(size_t));
    size_t group = o->group == 0 || o->group > K ? K : o->group, nb = (K + group - 1) / group, n, p, i, j;
    memcpy(H, H0, K * K * sizeof(double));
    for (i = 0; i < K; i++) { if (H[i * K + i] == 0) H[i * K + i] = 1; mean += H[i * K + i]; }
    lam = o->damp * mean / (double)K;
    for (i = 0; i < K; i++) H[i * K + i] += lam;
    for (n = 0; n < N; n++) {
        for (i = 0; i < K; i++) row[i] = w[n * K + i];
        for (p = 0; p < K; p++) {
            size_t m = K - p, col = order[p], qi = 0;
            float s = scales[n * nb + col / group];
            int32_t c;
            double e;
            for (i = 0; i < m; i++) F[i] = order[p + i];
            for (i = 0; i < m; i++) for (j = 0; j < m; j++) sub[i * m + j] = H[F[i] * K + F[j]];
            if (gj_inverse(sub, inv, m) != 0) abort();
            c = ref_round(row[col], s, o->qmin, o->qmax);
            q[n * K + col] = (int8_t)c;
            e = (row[col] - (double)c * s) / inv[qi * m + qi];
            for (i = 1; i < m; i++) row[F[i]] -= e * inv[i * m + qi];
        }
    }
    free(H); free(sub); free(inv); free(row); free(F);
}

static void ref_hessian(const float *X, size_t T, size_t K, double *H) {
    size_t t, i, j;
    for (i = 0; i < K * K; i++) H[i] = 0;
    for (t = 0; t < T; t++) for (i = 0; i < K; i++) for (j = 0; j < K; j++) H[i * K + j] += 2.0 * X[t * K + i] * X[t * K + j];
}

/* correlated inputs: x = z A + 0.1 noise, A mixing K x K */
static void correlated(float *X, size_t T, size_t K) {
    double *A = dvec(K * K), *z = dvec(K);
    size_t t, i, j;
    for (i = 0; i < K * K; i++) A[i] = qt_normal() / sqrt((double)K);
    for (i = 0; i < K; i++) A[i * K + i] += 1.0;
    for (t = 0; t < T; t++) {
        for (i = 0; i < K; i++) z[i] = qt_normal();
        for (j = 0; j < K; j++) {
            double v = 0.1 * qt_normal();
            for (i = 0; i < K; i++) v += z[i] * A[i * K + j];
            X[t * K + j] = (float)v;
        }
    }
    free(A); free(z);
}

static double out_err(const float *X, size_t T, size_t K, const float *w, const int8_t *q, const float *sc,
                      size_t N, size_t group) {
    size_t t, n, k, nb = (K + group - 1) / group;
    double s = 0;
    for (t = 0; t < T; t++) for (n = 0; n < N; n++) {
        double d = 0;
        for (k = 0; k < K; k++) d += ((double)w[n * K + k] - (double)q[n * K + k] * sc[n * nb + k / group]) * X[t * K + k];
        s += d * d;
    }
    return s;
}

static void nearest_codes(const float *w, size_t N, size_t K, const float *sc, size_t group, int32_t qmin, int32_t qmax, int8_t *q) {
    size_t n, k, nb = (K + group - 1) / group;
    for (n = 0; n < N; n++) for (k = 0; k < K; k++)
        q[n * K + k] = (int8_t)ref_round(w[n * K + k], sc[n * nb + k / group], qmin, qmax);
}

static void *ws_alloc(size_t K, size_t *bytes) {
    void *p;
    *bytes = quant_gptq_workspace_size(K);
    p = malloc(*bytes);
    if (!p) abort();
    return p;
}

static void test_gptq_hessian(void) {
    enum { T = 37, K = 9 };
    float X[T * K];
    double H[K * K], R[K * K];
    size_t i;
    fill_normal(X, T * K, 1.0);
    memset(H, 0, sizeof H);
    CHECK(quant_gptq_hessian_add(H, K, X, 20, K) == QUANT_OK);
    CHECK(quant_gptq_hessian_add(H, K, X + 20 * K, T - 20, K) == QUANT_OK);
    ref_hessian(X, T, K, R);
    for (i = 0; i < K * K; i++) CHECKF(fabs(H[i] - R[i]) <= 1e-12 * (1 + fabs(R[i])), "H %zu %g ref %g", i, H[i], R[i]);
    X[3 * K + 4] = NAN;
    memcpy(R, H, sizeof H);
    CHECK(quant_gptq_hessian_add(H, K, X, T, K) == QUANT_ERANGE);
    CHECK(memcmp(R, H, sizeof H) == 0);
    CHECK(quant_gptq_hessian_add(H, K, X, T, K - 1) == QUANT_EINVAL);
    CHECK(quant_gptq_hessian_add(H, SIZE_MAX / 2, X, T, SIZE_MAX / 2) == QUANT_EOVERFLOW);
}

/* Past the library's blocks (64 rows, runs of 8 columns, 4 rows at a time),
 * half the inputs zero as after a ReLU, a row stride wider than K, two
 * calls: each entry's terms are added in row order as the reference adds
 * them, so the sums are equal, not just close. */
static void test_gptq_hessian_blocks(void) {
    enum { T = 150, K = 70, LD = 73 };
    float *X = fvec(T * LD);
    double *H = dvec(K * K), *R = dvec(K * K);
    float *Xc = fvec(T * K);
    size_t i, t, bad = 0;
    fill_normal(X, T * LD, 1.0);
    for (i = 0; i < T * LD; i++) if (X[i] < 0.0f) X[i] = 0.0f;
    for (t = 0; t < T; t++) memcpy(Xc + t * K, X + t * LD, K * sizeof(float));
    CHECK(quant_gptq_hessian_add(H, K, X, 101, LD) == QUANT_OK);
    CHECK(quant_gptq_hessian_add(H, K, X + 101 * LD, T - 101, LD) == QUANT_OK);
    ref_hessian(Xc, T, K, R);
    for (i = 0; i < K * K; i++) bad += H[i] != R[i];
    CHECKF(bad == 0, "%zu of %d entries differ from the row-order sums", bad, K * K);
    free(X); free(Xc); free(H); free(R);
}

/* quant_hessian_error against sum_n d_n^T H d_n in full (no symmetry used),
 * K past its tiles of 128, groups that straddle them, rows with exact
 * codes (d = 0 in places), N past one group of 8 rows (the rows share each
 * tile of H by eights) */
static void test_hessian_error_reference(void) {
    enum { T = 40, K = 300, N = 11 };
    float *X = fvec(T * K), *w = fvec(N * K), *sc = fvec(N * K);
    double *H = dvec(K * K), *d = dvec(K), ref, got;
    int8_t *q = (int8_t *)malloc(N * K);
    const size_t groups[3] = { 0, 7, 32 };
    size_t g, n, i, j;
    correlated(X, T, K);
    CHECK(quant_gptq_hessian_add(H, K, X, T, K) == QUANT_OK);
    fill_normal(w, N * K, 0.3);
    for (g = 0; g < 3; g++) {
        size_t group = groups[g] ? groups[g] : K, nb = (K + group - 1) / group;
        for (i = 0; i < N * nb; i++) sc[i] = 0.02f + 0.001f * (float)(i % 13);
        for (n = 0; n < N; n++)
            for (i = 0; i < K; i++) {
                float s = sc[n * nb + i / group];
                q[n * K + i] = (int8_t)ref_round(w[n * K + i], s, -8, 7);
                if (n == 2 && i % 3 == 0) w[n * K + i] = (float)q[n * K + i] * s; /* exact: d = 0 */
            }
        ref = 0;
        for (n = 0; n < N; n++) {
            for (i = 0; i < K; i++) d[i] = (double)w[n * K + i] - (double)q[n * K + i] * (double)sc[n * nb + i / group];
            for (i = 0; i < K; i++) for (j = 0; j < K; j++) ref += d[i] * H[i * K + j] * d[j];
        }
        CHECK(quant_hessian_error(w, q, sc, N, K, groups[g], H, &got) == QUANT_OK);
        CHECKF(rel_close(got, ref, 1e-10), "group %zu: %.17g, reference %.17g", group, got, ref);
    }
    free(X); free(w); free(sc); free(H); free(d); free(q);
}

/* the library against the definition, for bit widths, groups, act order */
static void test_gptq_reference(void) {
    enum { T = 400, K = 24, N = 19 }; /* N: a group of 16 rows and 3 */
    float *X = fvec(T * K), w[N * K], sc[N * K], scr[N * K];
    double *H = dvec(K * K);
    int8_t q[N * K], qr[N * K];
    size_t order[K], bytes, i, j, g;
    void *ws = ws_alloc(K, &bytes);
    int bits, ao, mism = 0, total = 0;
    const size_t groups[3] = { 0, 8, 5 };
    correlated(X, T, K);
    fill_normal(w, N * K, 0.2);
    CHECK(quant_gptq_hessian_add(H, K, X, T, K) == QUANT_OK);
    for (bits = 2; bits <= 8; bits += 2)
        for (g = 0; g < 3; g++)
            for (ao = 0; ao < 2; ao++) {
                quant_gptq_opts o;
                size_t group = groups[g] ? groups[g] : K, nb = (K + group - 1) / group;
                quant_gptq_opts_default(&o, bits);
                o.group = groups[g]; o.act_order = ao;
                CHECK(quant_gptq(w, N, K, H, &o, q, sc, ws, bytes) == QUANT_OK);
                for (i = 0; i < N; i++) for (j = 0; j < nb; j++) { /* scales: absmax / qmax */
                    float am = 0;
                    size_t k;
                    for (k = j * group; k < (j + 1) * group && k < K; k++) am = fmaxf(am, fabsf(w[i * K + k]));
                    scr[i * nb + j] = am / (float)o.qmax;
                    CHECK(sc[i * nb + j] == scr[i * nb + j]);
                }
                for (i = 0; i < K; i++) order[i] = i;
                if (ao) /* decreasing diag, ties to the lower index */
                    for (i = 0; i < K; i++) for (j = i + 1; j < K; j++)
                        if (H[order[j] * K + order[j]] > H[order[i] * K + order[i]] ||
                            (H[order[j] * K + order[j]] == H[order[i] * K + order[i]] && order[j] < order[i])) {
                            size_t t = order[i]; order[i] = order[j]; order[j] = t;
                        }
                ref_gptq(w, N, K, H, &o, scr, order, qr);
                for (i = 0; i < N * K; i++) { mism += q[i] != qr[i]; total++; }
                for (i = 0; i < N * K; i++) CHECK(q[i] >= o.qmin && q[i] <= o.qmax);
            }
    CHECKF(mism == 0, "%d of %d codes differ from the reference", mism, total);
    free(X); free(H); free(ws);
}

/* The property: on correlated inputs GPTQ's output error is below round to
 * nearest's with the same scales (int2, int4 groups of 32 in fp16, per-tensor
 * int8); with H diagonal the codes are nearest's exactly. */
static void test_gptq_beats_nearest(void) {
    enum { T = 1024, K = 64, N = 24 };
    float *X = fvec(T * K), *w = fvec(N * K), *sc = fvec(N * K);
    double *H = dvec(K * K), eg, en, hg, hn;
    int8_t *q = (int8_t *)malloc(N * K), *qn = (int8_t *)malloc(N * K);
    size_t bytes, i, n;
    void *ws = ws_alloc(K, &bytes);
    int c;
    correlated(X, T, K);
    fill_normal(w, N * K, 0.1);
    CHECK(quant_gptq_hessian_add(H, K, X, T, K) == QUANT_OK);
    for (c = 0; c < 5; c++) {
        quant_gptq_opts o;
        size_t group;
        const char *name;
        quant_gptq_opts_default(&o, c == 0 ? 2 : c <= 2 ? 4 : 8);
        o.act_order = c == 2;
        if (c == 1 || c == 2) { /* int4 blocks of 32, fp16 scales as the runner's */
            o.group = 32; o.scales_given = 1;
            for (n = 0; n < N; n++) for (i = 0; i < 2; i++) {
                float am = 0;
                size_t k;
                for (k = 0; k < 32; k++) am = fmaxf(am, fabsf(w[n * K + i * 32 + k]));
                sc[n * 2 + i] = quant_fp16_to_fp32(quant_fp32_to_fp16(am / 7.0f));
            }
        } else if (c == 3) { /* per-tensor int8: one scale for every row */
            float am = 0;
            for (i = 0; i < N * K; i++) am = fmaxf(am, fabsf(w[i]));
            o.scales_given = 1;
            for (n = 0; n < N; n++) sc[n] = am / 127.0f;
        } else if (c == 4) o.damp = 0.1;
        group = o.group ? o.group : K;
        name = c == 0 ? "int2 per channel" : c == 1 ? "int4 blocks of 32" : c == 2 ? "int4 blocks, act order"
             : c == 3 ? "int8 per tensor" : "int8 per channel, damp 0.1";
        CHECK(quant_gptq(w, N, K, H, &o, q, sc, ws, bytes) == QUANT_OK);
        nearest_codes(w, N, K, sc, group, o.qmin, o.qmax, qn);
        eg = out_err(X, T, K, w, q, sc, N, group);
        en = out_err(X, T, K, w, qn, sc, N, group);
        CHECKF(eg < 0.9 * en, "%s: output error %g, nearest %g", name, eg, en);
        CHECK(quant_hessian_error(w, q, sc, N, K, o.group, H, &hg) == QUANT_OK);
        CHECK(quant_hessian_error(w, qn, sc, N, K, o.group, H, &hn) == QUANT_OK);
        CHECKF(rel_close(hg, 2 * eg, 1e-9) && rel_close(hn, 2 * en, 1e-9), "hessian error %g vs %g", hg, 2 * eg);
        note("%s: ||XW^T - XWq^T||^2 GPTQ %.4g, nearest %.4g (%.1f%%)", name, eg, en, 100.0 * eg / en);
    }
    free(X); free(w); free(sc); free(H); free(q); free(qn); free(ws);
}

static void test_gptq_diagonal_is_nearest(void) {
    enum { K = 40, N = 9 };
    float w[N * K], sc[N * K];
    double H[K * K];
    int8_t q[N * K], qn[N * K];
    size_t bytes, i;
    void *ws = ws_alloc(K, &bytes);
    int bits, ao;
    fill_normal(w, N * K, 1.0);
    for (bits = 2; bits <= 8; bits++)
        for (ao = 0; ao < 2; ao++) {
            quant_gptq_opts o;
            quant_gptq_opts_default(&o, bits);
            o.act_order = ao; o.group = bits == 4 ? 32 : 0;
            memset(H, 0, sizeof H);
            for (i = 0; i < K; i++) H[i * K + i] = ao ? 1.0 + (double)(i % 7) : 1.0; /* identity, or diagonal */
            CHECK(quant_gptq(w, N, K, H, &o, q, sc, ws, bytes) == QUANT_OK);
            nearest_codes(w, N, K, sc, o.group ? o.group : K, o.qmin, o.qmax, qn);
            CHECKF(memcmp(q, qn, sizeof q) == 0, "bits %d act order %d", bits, ao);
            /* and the codes equal quant_quantize1's */
            for (i = 0; i < N * K; i++) {
                float s = sc[(i / K) * ((K + (o.group ? o.group : K) - 1) / (o.group ? o.group : K)) + (i % K) / (o.group ? o.group : K)];
                CHECK(q[i] == quant_quantize1(w[i], 1.0f / s, 0, o.qmin, o.qmax));
            }
        }
    free(ws);
}

static void test_gptq_deterministic_and_rows(void) {
    enum { T = 200, K = 16, N = 21 };
    float X[T * K], w[N * K], sc[N], sc2[N];
    double H[K * K];
    int8_t q[N * K], q2[N * K];
    size_t bytes;
    void *ws = ws_alloc(K, &bytes);
    quant_gptq_opts o;
    correlated(X, T, K);
    fill_normal(w, N * K, 1.0);
    memset(H, 0, sizeof H);
    CHECK(quant_gptq_hessian_add(H, K, X, T, K) == QUANT_OK);
    quant_gptq_opts_default(&o, 3);
    CHECK(o.qmin == -4 && o.qmax == 3);
    CHECK(quant_gptq(w, N, K, H, &o, q, sc, ws, bytes) == QUANT_OK);
    memset(ws, 0x5a, bytes);
    CHECK(quant_gptq(w, N, K, H, &o, q2, sc2, ws, bytes) == QUANT_OK);
    CHECK(memcmp(q, q2, sizeof q) == 0 && memcmp(sc, sc2, sizeof sc) == 0);
    /* rows are independent (in the groups of 16 the library takes them in):
     * the last three rows alone, and five that straddle the groups */
    CHECK(quant_gptq(w + 18 * K, 3, K, H, &o, q2, sc2, ws, bytes) == QUANT_OK);
    CHECK(memcmp(q + 18 * K, q2, 3 * K) == 0 && memcmp(sc + 18, sc2, 3 * sizeof(float)) == 0);
    CHECK(quant_gptq(w + 13 * K, 5, K, H, &o, q2, sc2, ws, bytes) == QUANT_OK);
    CHECK(memcmp(q + 13 * K, q2, 5 * K) == 0 && memcmp(sc + 13, sc2, 5 * sizeof(float)) == 0);
    free(ws);
}

static void test_gptq_adversarial(void) {
    enum { T = 64, K = 8, N = 4 };
    float X[T * K], w[N * K], sc[N * K], scg[N * K];
    double H[K * K], Hz[K * K];
    int8_t q[N * K], keep[N * K];
    size_t bytes, i, t;
    void *ws = ws_alloc(K, &bytes);
    quant_gptq_opts o;
    fill_normal(X, T * K, 1.0);
    fill_normal(w, N * K, 1.0);
    quant_gptq_opts_default(&o, 4);
    memset(keep, 0x77, sizeof keep);
    /* a dead input (ReLU channel never active): its column of X is 0 */
    for (t = 0; t < T; t++) X[t * K + 2] = 0;
    memset(H, 0, sizeof H);
    CHECK(quant_gptq_hessian_add(H, K, X, T, K) == QUANT_OK);
    CHECK(H[2 * K + 2] == 0);
    o.damp = 0; /* zero damping still works: the dead diagonal becomes 1 */
    CHECK(quant_gptq(w, N, K, H, &o, q, sc, ws, bytes) == QUANT_OK);
    /* the dead column gets no updates from the others: nearest */
    for (i = 0; i < N; i++) CHECK(q[i * K + 2] == quant_quantize1(w[i * K + 2], 1.0f / sc[i], 0, -8, 7));
    /* a singular Hessian (two identical inputs) with zero damping: refused */
    for (t = 0; t < T; t++) X[t * K + 5] = X[t * K + 4];
    memset(H, 0, sizeof H);
    CHECK(quant_gptq_hessian_add(H, K, X, T, K) == QUANT_OK);
    memcpy(q, keep, sizeof q); for (i = 0; i < N * K; i++) sc[i] = 42;
    CHECK(quant_gptq(w, N, K, H, &o, q, sc, ws, bytes) == QUANT_ERANGE);
    CHECK(memcmp(q, keep, sizeof q) == 0 && sc[0] == 42 && sc[N - 1] == 42);
    o.damp = 0.01;
    CHECK(quant_gptq(w, N, K, H, &o, q, sc, ws, bytes) == QUANT_OK);
    /* a zero row of weights: scale 0, codes 0 */
    for (i = 0; i < K; i++) w[K + i] = 0;
    CHECK(quant_gptq(w, N, K, H, &o, q, sc, ws, bytes) == QUANT_OK);
    CHECK(sc[1] == 0);
    for (i = 0; i < K; i++) CHECK(q[K + i] == 0);
    /* K = 1: one column, nearest */
    {
        double h1 = 3.0;
        float w1[3] = { 0.5f, -1.0f, 0.26f }, s1[3];
        int8_t q1[3];
        size_t b1;
        void *ws1 = ws_alloc(1, &b1);
        CHECK(quant_gptq(w1, 3, 1, &h1, &o, q1, s1, ws1, b1) == QUANT_OK);
        CHECK(q1[0] == 7 && q1[1] == -7 && q1[2] == 7);
        CHECK(s1[1] == 1.0f / 7.0f);
        o.qmin = -127; o.qmax = 127; o.scales_given = 1; s1[0] = s1[1] = s1[2] = 0.25f;
        CHECK(quant_gptq(w1, 3, 1, &h1, &o, q1, s1, ws1, b1) == QUANT_OK);
        CHECK(q1[0] == 2 && q1[1] == -4 && q1[2] == 1);
        free(ws1);
        quant_gptq_opts_default(&o, 4);
    }
    /* NaN weight, NaN / Inf / negative-diagonal Hessian, bad scales */
    memcpy(q, keep, sizeof q);
    w[3] = NAN;
    CHECK(quant_gptq(w, N, K, H, &o, q, sc, ws, bytes) == QUANT_ERANGE);
    w[3] = 0.5f;
    memcpy(Hz, H, sizeof H);
    Hz[9] = NAN;
    CHECK(quant_gptq(w, N, K, Hz, &o, q, sc, ws, bytes) == QUANT_ERANGE);
    memcpy(Hz, H, sizeof H);
    Hz[0] = -1;
    CHECK(quant_gptq(w, N, K, Hz, &o, q, sc, ws, bytes) == QUANT_ERANGE);
    o.scales_given = 1;
    for (i = 0; i < N; i++) scg[i] = 0.1f;
    scg[2] = -0.1f;
    CHECK(quant_gptq(w, N, K, H, &o, q, scg, ws, bytes) == QUANT_ESCALE);
    scg[2] = NAN;
    CHECK(quant_gptq(w, N, K, H, &o, q, scg, ws, bytes) == QUANT_ESCALE);
    scg[2] = INFINITY;
    CHECK(quant_gptq(w, N, K, H, &o, q, scg, ws, bytes) == QUANT_ESCALE);
    CHECK(memcmp(q, keep, sizeof q) == 0);
    quant_gptq_opts_default(&o, 4);
    /* bad opts, sizes, workspace */
    o.qmin = 0; CHECK(quant_gptq(w, N, K, H, &o, q, sc, ws, bytes) == QUANT_EINVAL);
    o.qmin = -200; CHECK(quant_gptq(w, N, K, H, &o, q, sc, ws, bytes) == QUANT_EINVAL);
    o.qmin = -8; o.qmax = 128; CHECK(quant_gptq(w, N, K, H, &o, q, sc, ws, bytes) == QUANT_EINVAL);
    o.qmax = 7; o.damp = -1; CHECK(quant_gptq(w, N, K, H, &o, q, sc, ws, bytes) == QUANT_EINVAL);
    o.damp = NAN; CHECK(quant_gptq(w, N, K, H, &o, q, sc, ws, bytes) == QUANT_EINVAL);
    o.damp = 0.01;
    CHECK(quant_gptq(w, N, K, H, &o, q, sc, ws, bytes - 1) == QUANT_EINVAL);
    CHECK(quant_gptq(w, N, K, H, &o, q, sc, (char *)ws + 1, bytes - 8) == QUANT_EINVAL);
    CHECK(quant_gptq(w, 0, K, H, &o, q, sc, ws, bytes) == QUANT_EINVAL);
    CHECK(quant_gptq(NULL, N, K, H, &o, q, sc, ws, bytes) == QUANT_EINVAL);
    CHECK(quant_gptq(w, N, K, H, NULL, q, sc, ws, bytes) == QUANT_EINVAL);
    CHECK(quant_gptq(w, SIZE_MAX / 4, K, H, &o, q, sc, ws, bytes) == QUANT_EOVERFLOW);
    CHECK(quant_gptq(w, N, SIZE_MAX / 4, H, &o, q, sc, ws, bytes) == QUANT_EOVERFLOW);
    CHECK(memcmp(q, keep, sizeof q) == 0);
    CHECK(quant_gptq_workspace_size(0) == 0);
    CHECK(quant_gptq_workspace_size(SIZE_MAX / 2) == 0);
    CHECK(quant_gptq_workspace_size((size_t)1 << 32) == 0 || sizeof(size_t) > 8);
    CHECK(quant_gptq_workspace_size(10) >= 10 * 10 * sizeof(double));
    {
        double e = 7;
        CHECK(quant_hessian_error(w, q, sc, N, K, 0, NULL, &e) == QUANT_EINVAL && e == 7);
        CHECK(quant_hessian_error(w, q, sc, SIZE_MAX / 2, K, 0, H, &e) == QUANT_EOVERFLOW && e == 7);
    }
    quant_gptq_opts_default(NULL, 4); /* ignored */
    free(ws);
}

int main(void) {
    RUN(test_cle_dense_pair);
    RUN(test_cle_dense_function);
    RUN(test_cle_conv_dw_conv);
    RUN(test_cle_errors);
    RUN(test_bias_correct_dense);
    RUN(test_bias_correct_conv);
    RUN(test_expected_clipped_normal);
    RUN(test_bias_correct_data_free);
    RUN(test_cle_relu6_needs_scaled_clip);
    RUN(test_bias_correct_errors);
    RUN(test_gptq_hessian);
    RUN(test_gptq_hessian_blocks);
    RUN(test_hessian_error_reference);
    RUN(test_gptq_reference);
    RUN(test_gptq_beats_nearest);
    RUN(test_gptq_diagonal_is_nearest);
    RUN(test_gptq_deterministic_and_rows);
    RUN(test_gptq_adversarial);
    return qt_summary();
}
