/* tests/test_core.c - numbers, params, quantize/dequantize, formats, other
 * quantizers and the bad-input contract of quant.h, each against a plain
 * oracle (double precision, the CPU's F16C instructions, brute force). */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant.h"
#include "harness.h"
#include <float.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
__attribute__((target("f16c"))) static uint16_t hw_f2h(float f) {
    return (uint16_t)_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0);
}
__attribute__((target("f16c"))) static float hw_h2f(uint16_t h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}
#include <cpuid.h>
static int have_f16c(void) { unsigned a, b, c, d; return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)); }
#else
#define HAVE_X86 0
static uint16_t hw_f2h(float f) { (void)f; return 0; }
static float hw_h2f(uint16_t h) { (void)h; return 0; }
static int have_f16c(void) { return 0; }
#endif

static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* ---------------------------------------------------------------- fp16 */

/* Double-precision oracle: the value of a half from its fields. */
static double ref_h2d(uint16_t h) {
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 31) return m ? NAN : (s ? -INFINITY : INFINITY);
    v = e ? ldexp(1024 + m, e - 25) : ldexp(m, -24);
    return s ? -v : v;
}

/* Oracle for float -> half: the nearest of the finite halves (ties to an even
 * mantissa), Inf past 65520, by binary search over the positive halves. */
static uint16_t ref_d2h(float f) {
    uint16_t sign = (fbits(f) >> 16) & 0x8000;
    double a = fabs((double)f);
    unsigned lo = 0, hi = 0x7bff;
    if (f != f) return 0; /* not used for NaN */
    if (isinf(f) || a >= 65520.0) return sign | 0x7c00;
    while (lo < hi) { /* largest half <= a */
        unsigned mid = (lo + hi + 1) / 2;
        if (ref_h2d((uint16_t)mid) <= a) lo = mid; else hi = mid - 1;
    }
    if (lo == 0x7bff) return sign | 0x7bff;
    {
        double d0 = a - ref_h2d((uint16_t)lo), d1 = ref_h2d((uint16_t)(lo + 1)) - a;
        unsigned r = d0 < d1 ? lo : d1 < d0 ? lo + 1 : ((lo & 1) ? lo + 1 : lo);
        return (uint16_t)(sign | r);
    }
}

static void test_fp16_all_halves(void) {
    unsigned h;
    int hw = have_f16c();
    for (h = 0; h < 65536; h++) {
        float f = quant_fp16_to_fp32((uint16_t)h);
        int e = (h >> 10) & 31, m = h & 1023;
        if (e == 31 && m) { /* NaN: quieted, payload kept, sign kept */
            CHECKF(f != f, "h=%04x", h);
            CHECKF((fbits(f) & 0x7fffffffu) == (0x7fc00000u | ((uint32_t)m << 13)), "h=%04x bits=%08x", h, fbits(f));
        } else {
            CHECKF((double)f == ref_h2d((uint16_t)h) && (fbits(f) >> 31) == (h >> 15), "h=%04x", h);
        }
        if (hw) CHECKF(fbits(f) == fbits(hw_h2f((uint16_t)h)), "h=%04x ours=%08x f16c=%08x", h, fbits(f), fbits(hw_h2f((uint16_t)h)));
        /* round trip: every half survives fp16 -> fp32 -> fp16 (NaN quieted) */
        {
            uint16_t back = quant_fp32_to_fp16(f);
            if (e == 31 && m) CHECKF(back == (h | 0x200), "h=%04x back=%04x", h, back);
            else CHECKF(back == h, "h=%04x back=%04x", h, back);
        }
    }
}

static void test_fp16_from_floats(void) {
    int hw = have_f16c();
    uint64_t i, n = 0;
    /* every 61st float bit pattern (70 million), then random ones, then the
     * neighbourhood of every half boundary (ties and their neighbours) */
    for (i = 0; i < 0x100000000ull && QT_FAILS < 20; i += 61) {
        float f = bitsf((uint32_t)i);
        uint16_t ours = quant_fp32_to_fp16(f);
        if (hw) CHECKF(ours == hw_f2h(f), "f=%08x ours=%04x f16c=%04x", (uint32_t)i, ours, hw_f2h(f));
        else if (f == f) CHECKF(ours == ref_d2h(f), "f=%08x", (uint32_t)i);
        n++;
    }
    for (i = 0; i < 4000000 && QT_FAILS < 20; i++) {
        float f = bitsf(qt_rand32());
        uint16_t ours = quant_fp32_to_fp16(f);
        if (hw) CHECKF(ours == hw_f2h(f), "f=%08x", fbits(f));
        if (f == f && (i & 15) == 0) CHECKF(ours == ref_d2h(f), "f=%08x ours=%04x ref=%04x", fbits(f), ours, ref_d2h(f));
        n++;
    }
    for (i = 0; i < 0x7c00 && QT_FAILS < 20; i++) {
        /* midpoint between half i and i+1 and the floats around it */
        double mid = (ref_h2d((uint16_t)i) + ref_h2d((uint16_t)(i + 1))) / 2;
        float f = (float)mid;
        int d;
        for (d = -2; d <= 2; d++) {
            float g = bitsf(fbits(f) + (uint32_t)d);
            uint16_t ours = quant_fp32_to_fp16(g);
            if (g != g) continue; /* past the last boundary (Inf + 1 ulp) */
            CHECKF(ours == ref_d2h(g), "g=%08x ours=%04x ref=%04x", fbits(g), ours, ref_d2h(g));
            if (hw) CHECKF(ours == hw_f2h(g), "g=%08x", fbits(g));
            g = -g;
            CHECKF(quant_fp32_to_fp16(g) == ref_d2h(g), "g=%08x", fbits(g));
            n += 2;
        }
    }
    if (getenv("QT_VERBOSE")) fprintf(stderr, "  fp16: %llu floats checked (%s)\n", (unsigned long long)n, hw ? "F16C" : "double reference");
}

/* ---------------------------------------------------------------- bf16 */

static uint16_t ref_bf16(float f) {
    uint32_t u = fbits(f), t = u >> 16;
    double a, lo, hi;
    if (f != f) return (uint16_t)(t | 0x40);
    if (isinf(f)) return (uint16_t)t;
    a = (double)f;
    lo = (double)bitsf(t << 16);
    if ((t & 0x7fff) == 0x7f7f) { /* next is Inf: the boundary is the max + half an ulp */
        double ulp = ldexp(1.0, 127 - 7);
        return (uint16_t)(fabs(a) - fabs(lo) < ulp / 2 ? t : (fabs(a) - fabs(lo) > ulp / 2 ? t + 1 : ((t & 1) ? t + 1 : t)));
    }
    hi = (double)bitsf((t + 1) << 16);
    {
        double d0 = fabs(a - lo), d1 = fabs(hi - a);
        return (uint16_t)(d0 < d1 ? t : d1 < d0 ? t + 1 : ((t & 1) ? t + 1 : t));
    }
}

static void test_bf16(void) {
    uint64_t i;
    for (i = 0; i < 0x100000000ull && QT_FAILS < 20; i += 251) {
        float f = bitsf((uint32_t)i);
        CHECKF(quant_fp32_to_bf16(f) == ref_bf16(f), "f=%08x ours=%04x ref=%04x", (uint32_t)i, quant_fp32_to_bf16(f), ref_bf16(f));
    }
    for (i = 0; i < 2000000 && QT_FAILS < 20; i++) {
        uint32_t u = qt_rand32();
        if ((i & 3) == 0) u = (u & 0xffff0000u) | 0x8000u; /* exact ties */
        CHECKF(quant_fp32_to_bf16(bitsf(u)) == ref_bf16(bitsf(u)), "u=%08x", u);
    }
    for (i = 0; i < 65536; i++) {
        float f = quant_bf16_to_fp32((uint16_t)i);
        CHECK(fbits(f) == (uint32_t)i << 16);
        if (f == f) CHECK(quant_fp32_to_bf16(f) == i);
    }
    CHECK(quant_fp32_to_bf16(FLT_MAX) == 0x7f80); /* rounds to Inf */
    CHECK(quant_fp32_to_bf16(bitsf(0x7f800001u)) == 0x7fc0); /* sNaN quieted */
}

/* ------------------------------------------------------------ rounding */

static void test_rounding_modes(void) {
    float ties[] = { 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.5f, -3.5f };
    float even[] = { 0, 2, 2, -0.0f, -2, -2, 4, -4 };
    float away[] = { 1, 2, 3, -1, -2, -3, 4, -4 };
    float flo[]  = { 0, 1, 2, -1, -2, -3, 3, -4 };
    int i;
    for (i = 0; i < 8; i++) {
        CHECK(quant_roundf(ties[i], QUANT_ROUND_HALF_EVEN, NULL) == even[i]);
        CHECK(quant_roundf(ties[i], QUANT_ROUND_HALF_AWAY, NULL) == away[i]);
        CHECK(quant_roundf(ties[i], QUANT_ROUND_FLOOR, NULL) == flo[i]);
    }
}

static void test_stochastic_rounding(void) {
    quant_rng r1, r2;
    int i, t;
    float xs[] = { 0.25f, -1.7f, 3.5f, 100.125f, -0.01f };
    quant_rng_seed(&r1, 42); quant_rng_seed(&r2, 42);
    for (i = 0; i < 1000; i++) CHECK(quant_rng_u32(&r1) == quant_rng_u32(&r2)); /* reproducible */
    quant_rng_seed(&r2, 43);
    CHECK(quant_rng_u32(&r1) != quant_rng_u32(&r2));
    for (t = 0; t < 5; t++) {
        double sum = 0, x = xs[t], frac = x - floor(x), sd;
        int n = 200000;
        quant_rng_seed(&r1, (uint64_t)t);
        for (i = 0; i < n; i++) {
            float v = quant_roundf(xs[t], QUANT_ROUND_STOCHASTIC, &r1);
            CHECK(v == floorf(xs[t]) || v == ceilf(xs[t]));
            sum += v;
        }
        sd = sqrt(frac * (1 - frac) / n) + 1e-9;
        CHECKF(fabs(sum / n - x) < 6 * sd + 1e-6, "x=%g mean=%.6f", x, sum / n); /* unbiased */
    }
    /* quantize with stochastic rounding is reproducible for a seed */
    {
        float x[64]; int8_t a[64], b[64];
        quant_params p = { 0.1f, 0, -128, 127 };
        for (i = 0; i < 64; i++) x[i] = (float)(qt_normal() * 3);
        quant_rng_seed(&r1, 7); quant_rng_seed(&r2, 7);
        CHECK(quant_quantize_ex(x, 64, &p, QUANT_I8, QUANT_ROUND_STOCHASTIC, &r1, a) == QUANT_OK);
        CHECK(quant_quantize_ex(x, 64, &p, QUANT_I8, QUANT_ROUND_STOCHASTIC, &r2, b) == QUANT_OK);
        CHECK(memcmp(a, b, 64) == 0);
        CHECK(quant_quantize_ex(x, 64, &p, QUANT_I8, QUANT_ROUND_STOCHASTIC, NULL, b) == QUANT_EINVAL);
    }
}

/* --------------------------------------------------------------- params */

/* double oracle for quantization of one value with params p */
static int32_t ref_q(float x, const quant_params *p) {
    float inv = 1.0f / p->scale;
    double v;
    if (x != x) return p->zero_point;
    v = (double)nearbyintf(x * inv) + p->zero_point;
    return v < p->qmin ? p->qmin : v > p->qmax ? p->qmax : (int32_t)v;
}

static void test_params_edges(void) {
    quant_params p = { 1, 0, 0, 1 };
    int32_t lo = 0, hi = 0;
    quant_dtype dts[] = { QUANT_I8, QUANT_U8, QUANT_I16, QUANT_I4, QUANT_U4, QUANT_I2, QUANT_U2 };
    float ranges[][2] = { {0, 0}, {3.5f, 3.5f}, {-2, -2}, {-1, 1}, {-1e-30f, 1e-30f}, {-5, -1}, {2, 9},
                          {-1e30f, 1e30f}, {-0.1f, 100}, {-100, 0.1f}, {0, 1e-6f} };
    size_t d, r;
    int rr, sch;
    for (d = 0; d < sizeof dts / sizeof *dts; d++)
        for (rr = 0; rr < 2; rr++)
            for (sch = 0; sch < 2; sch++)
                for (r = 0; r < sizeof ranges / sizeof *ranges; r++) {
                    float mn = ranges[r][0], mx = ranges[r][1];
                    CHECK(quant_dtype_range(dts[d], rr, &lo, &hi) == QUANT_OK);
                    if (lo == hi) continue; /* 1-bit reduced range */
                    CHECKF(quant_params_from_range(mn, mx, lo, hi, (quant_scheme)sch, &p) == QUANT_OK, "d=%d r=%d", (int)d, (int)r);
                    CHECK(quant_params_check(&p) == QUANT_OK);
                    /* zero is exactly representable */
                    {
                        int32_t q0 = ref_q(0.0f, &p);
                        CHECKF((float)(q0 - p.zero_point) * p.scale == 0.0f, "zero not exact d=%d r=%d", (int)d, (int)r);
                    }
                    /* the range is covered to within one step (affine) */
                    if (sch == QUANT_AFFINE) {
                        double step = p.scale;
                        double rlo = ((double)p.qmin - p.zero_point) * step, rhi = ((double)p.qmax - p.zero_point) * step;
                        CHECKF(rlo <= fmin(mn, 0) + step && rhi >= fmax(mx, 0) - step, "d=%d r=%d [%g,%g] vs [%g,%g]", (int)d, (int)r, rlo, rhi, mn, mx);
                    }
                }
    /* formula values */
    CHECK(quant_params_from_range(-1.0f, 2.0f, -128, 127, QUANT_AFFINE, &p) == QUANT_OK);
    CHECK(p.scale == 3.0f / 255.0f && p.zero_point == -128 - (int32_t)nearbyintf(-1.0f / p.scale));
    CHECK(quant_params_from_range(-1.0f, 2.0f, -128, 127, QUANT_SYMMETRIC, &p) == QUANT_OK);
    CHECK(p.scale == 2.0f / 127.5f && p.zero_point == 0);
    CHECK(quant_params_from_range(-1.0f, 2.0f, 0, 255, QUANT_SYMMETRIC, &p) == QUANT_OK && p.zero_point == 128);
    CHECK(quant_params_from_range(-1.0f, 2.0f, -127, 127, QUANT_SYMMETRIC, &p) == QUANT_OK && p.scale == 2.0f / 127.0f);
    CHECK(quant_params_from_range(0, 0, -128, 127, QUANT_AFFINE, &p) == QUANT_OK && p.scale == FLT_EPSILON && p.zero_point == -128);
    CHECK(quant_params_from_range(INFINITY, -INFINITY, 0, 255, QUANT_AFFINE, &p) == QUANT_OK && p.scale == 1.0f && p.zero_point == 0);
    /* reduce_range */
    CHECK(quant_dtype_range(QUANT_U8, 1, &lo, &hi) == QUANT_OK && lo == 0 && hi == 127);
    CHECK(quant_dtype_range(QUANT_I8, 1, &lo, &hi) == QUANT_OK && lo == -64 && hi == 63);
    CHECK(quant_dtype_range(QUANT_I16, 0, &lo, &hi) == QUANT_OK && lo == -32768 && hi == 32767);
    CHECK(quant_dtype_range(QUANT_I2, 0, &lo, &hi) == QUANT_OK && lo == -2 && hi == 1);
}

static void test_params_errors(void) {
    quant_params p = { 123.0f, 7, -9, 9 }, keep = p;
    CHECK(quant_params_from_range(NAN, 1, -128, 127, QUANT_AFFINE, &p) == QUANT_EINVAL);
    CHECK(quant_params_from_range(0, NAN, -128, 127, QUANT_AFFINE, &p) == QUANT_EINVAL);
    CHECK(quant_params_from_range(2, 1, -128, 127, QUANT_AFFINE, &p) == QUANT_EINVAL);
    CHECK(quant_params_from_range(0, 1, 5, 5, QUANT_AFFINE, &p) == QUANT_EINVAL);
    CHECK(quant_params_from_range(0, 1, 6, 5, QUANT_AFFINE, &p) == QUANT_EINVAL);
    CHECK(quant_params_from_range(0, 1, -128, 127, (quant_scheme)9, &p) == QUANT_EINVAL);
    CHECK(quant_params_from_range(-INFINITY, 1, -128, 127, QUANT_AFFINE, &p) == QUANT_ERANGE);
    CHECK(quant_params_from_range(-FLT_MAX, FLT_MAX, 0, 1, QUANT_AFFINE, &p) == QUANT_ERANGE); /* scale > FLT_MAX */
    CHECK(quant_params_from_range(-FLT_MAX, FLT_MAX, 0, 1, QUANT_SYMMETRIC, &p) == QUANT_ERANGE);
    CHECK(quant_params_from_range(0, 1, -128, 127, QUANT_AFFINE, NULL) == QUANT_EINVAL);
    CHECK(memcmp(&p, &keep, sizeof p) == 0);
    {   /* a finite range wider than FLT_MAX: the scale from the width in double */
        quant_params w = { -1.0f, 99, 0, 0 }; /* not these after the call */
        CHECK(quant_params_from_range(-FLT_MAX, FLT_MAX, -128, 127, QUANT_AFFINE, &w) == QUANT_OK);
        CHECK(w.scale == (float)(2.0 * (double)FLT_MAX / 255.0) && w.zero_point == 0);
        CHECK(quant_params_from_range(-FLT_MAX, FLT_MAX, -128, 127, QUANT_SYMMETRIC, &w) == QUANT_OK && w.scale == FLT_MAX / 127.5f);
    }
    {
        quant_params bad[] = { {0, 0, -128, 127}, {-1, 0, -128, 127}, {NAN, 0, -128, 127}, {INFINITY, 0, -128, 127},
                               {1e-40f, 0, -128, 127}, {1, 0, 5, 5}, {1, 200, -128, 127} };
        size_t i;
        float x[4] = { 1, 2, 3, 4 };
        int8_t q[4] = { 9, 9, 9, 9 };
        for (i = 0; i < sizeof bad / sizeof *bad; i++) {
            CHECKF(quant_params_check(&bad[i]) != QUANT_OK, "i=%d", (int)i);
            CHECK(quant_quantize(x, 4, &bad[i], QUANT_I8, q) != QUANT_OK);
            CHECK(q[0] == 9 && q[3] == 9);
        }
    }
}

/* ------------------------------------------------------------ quantize */

static void test_quantize_oracle(void) {
    int t;
    quant_dtype dts[] = { QUANT_I8, QUANT_U8, QUANT_I16, QUANT_I32 };
    for (t = 0; t < 400; t++) {
        float x[257], back[257];
        int32_t q32[257];
        int16_t q16[257];
        int8_t q8[257];
        uint8_t u8[257];
        size_t n = 1 + qt_rand32() % 257, i;
        quant_dtype dt = dts[t % 4];
        int32_t lo = 0, hi = 0;
        quant_params p = { 1, 0, 0, 1 };
        float mn, mx;
        for (i = 0; i < n; i++) x[i] = (float)(qt_normal() * pow(10, (int)(qt_rand32() % 7) - 3));
        if (t % 7 == 0) x[qt_rand32() % n] = NAN;
        if (t % 11 == 0) x[qt_rand32() % n] = (t & 1) ? INFINITY : -INFINITY;
        if (t % 13 == 0) { /* exact ties after scaling */
            for (i = 0; i < n; i++) x[i] = ((float)(int)(qt_rand32() % 200) - 100 + 0.5f) * 0.25f;
        }
        quant_dtype_range(dt, 0, &lo, &hi);
        if (dt == QUANT_I32) { lo = -1000000; hi = 1000000; }
        quant_minmax(x, n, &mn, &mx);
        if (mn > mx) mn = mx = 0;
        if (t % 13 == 0) { CHECK(quant_params_from_range(-25, 25, lo, hi, QUANT_SYMMETRIC, &p) == QUANT_OK); p.scale = 0.25f; }
        else CHECK(quant_params_from_range(mn, mx, lo, hi, (quant_scheme)(t & 1), &p) == QUANT_OK);
        {
            void *out = dt == QUANT_I8 ? (void *)q8 : dt == QUANT_U8 ? (void *)u8 : dt == QUANT_I16 ? (void *)q16 : (void *)q32;
            CHECK(quant_quantize(x, n, &p, dt, out) == QUANT_OK);
            for (i = 0; i < n; i++) {
                int32_t got = dt == QUANT_I8 ? q8[i] : dt == QUANT_U8 ? u8[i] : dt == QUANT_I16 ? q16[i] : q32[i];
                CHECKF(got == ref_q(x[i], &p), "t=%d i=%d x=%a got=%d want=%d", t, (int)i, x[i], got, ref_q(x[i], &p));
            }
            CHECK(quant_dequantize(out, dt, n, &p, back) == QUANT_OK);
            for (i = 0; i < n; i++) {
                int32_t qi = dt == QUANT_I8 ? q8[i] : dt == QUANT_U8 ? u8[i] : dt == QUANT_I16 ? q16[i] : q32[i];
                double want = (double)(qi - p.zero_point) * (double)p.scale; /* exact in double */
                CHECK(back[i] == (float)want);
                if (x[i] == x[i] && !isinf(x[i]) && x[i] >= ((double)lo - p.zero_point) * p.scale &&
                    x[i] <= ((double)hi - p.zero_point) * p.scale)
                    /* half a step, plus the float reciprocal's rounding (2^-24 relative of x / scale) */
                    CHECKF(fabs(back[i] - x[i]) <= p.scale * 0.5000001 + fabs(x[i]) * 1.2e-7 + 1e-30,
                           "t=%d x=%a back=%a scale=%a", t, x[i], back[i], p.scale);
            }
        }
    }
    /* NaN -> zero point, Inf saturate */
    {
        float x[3] = { NAN, INFINITY, -INFINITY };
        uint8_t u[3];
        quant_params p = { 0.5f, 3, 0, 255 };
        CHECK(quant_quantize(x, 3, &p, QUANT_U8, u) == QUANT_OK);
        CHECK(u[0] == 3 && u[1] == 255 && u[2] == 0);
    }
}

static void test_subbyte_quantize(void) {
    float x[37];
    uint8_t packed[19];
    int8_t v[37];
    size_t i;
    quant_params p = { 1, 0, 0, 1 };
    for (i = 0; i < 37; i++) x[i] = (float)qt_normal();
    CHECK(quant_params_from_range(-3, 3, -8, 7, QUANT_SYMMETRIC, &p) == QUANT_OK);
    memset(packed, 0xAA, sizeof packed);
    CHECK(quant_quantize(x, 37, &p, QUANT_I4, packed) == QUANT_OK);
    CHECK((packed[18] & 0xF0) == 0); /* padding nibble zeroed */
    CHECK(packed[18 + 1 - 1] == (packed[18] & 0x0F));
    CHECK(quant_unpack(packed, 37, QUANT_I4, v) == QUANT_OK);
    for (i = 0; i < 37; i++) {
        int32_t want = ref_q(x[i], &p);
        CHECK(v[i] == want);
        CHECK(((packed[i / 2] >> (4 * (i & 1))) & 0xF) == (uint8_t)(want & 0xF)); /* low nibble first */
    }
    /* int2, 4 per byte, low bits first */
    CHECK(quant_params_from_range(-1, 1, -2, 1, QUANT_SYMMETRIC, &p) == QUANT_OK);
    CHECK(quant_quantize(x, 37, &p, QUANT_I2, packed) == QUANT_OK);
    CHECK(quant_unpack(packed, 37, QUANT_I2, v) == QUANT_OK);
    for (i = 0; i < 37; i++) {
        CHECK(v[i] == ref_q(x[i], &p));
        CHECK(((packed[i / 4] >> (2 * (i & 3))) & 3) == (uint8_t)(ref_q(x[i], &p) & 3));
    }
    /* a range that does not fit the dtype is refused */
    p.qmin = -128; p.qmax = 127; p.zero_point = 0;
    CHECK(quant_quantize(x, 37, &p, QUANT_I4, packed) == QUANT_EINVAL);
}

static void test_per_channel(void) {
    size_t shape[4] = { 3, 4, 5, 2 };
    float x[120], y[120];
    int8_t q[120], qs[120];
    int axis;
    size_t i;
    for (i = 0; i < 120; i++) x[i] = (float)(qt_normal() * (1 + (i % 7)));
    for (axis = -1; axis < 4; axis++) {
        int ax = axis < 0 ? axis + 4 : axis;
        size_t C = shape[ax], inner = 1, outer = 1, c, o, k;
        float mins[5], maxs[5], scales[5];
        int32_t zps[5];
        int a;
        for (a = ax + 1; a < 4; a++) inner *= shape[a];
        for (a = 0; a < ax; a++) outer *= shape[a];
        CHECK(quant_minmax_axis(x, shape, 4, axis, mins, maxs) == QUANT_OK);
        CHECK(quant_params_per_channel(mins, maxs, C, -128, 127, QUANT_AFFINE, scales, zps) == QUANT_OK);
        CHECK(quant_quantize_per_channel(x, shape, 4, axis, scales, zps, -128, 127, QUANT_I8, q) == QUANT_OK);
        CHECK(quant_dequantize_per_channel(q, QUANT_I8, shape, 4, axis, scales, zps, y) == QUANT_OK);
        for (c = 0; c < C; c++) {
            /* oracle: gather the channel, check min/max, per-tensor quantize */
            float slice[120], mn = INFINITY, mx = -INFINITY;
            size_t m = 0;
            quant_params p;
            for (o = 0; o < outer; o++)
                for (k = 0; k < inner; k++) {
                    float v = x[(o * C + c) * inner + k];
                    slice[m++] = v;
                    if (v < mn) mn = v;
                    if (v > mx) mx = v;
                }
            CHECK(mins[c] == mn && maxs[c] == mx);
            CHECK(quant_params_from_range(mn, mx, -128, 127, QUANT_AFFINE, &p) == QUANT_OK);
            CHECK(p.scale == scales[c] && p.zero_point == zps[c]);
            CHECK(quant_quantize(slice, m, &p, QUANT_I8, qs) == QUANT_OK);
            m = 0;
            for (o = 0; o < outer; o++)
                for (k = 0; k < inner; k++) {
                    size_t idx = (o * C + c) * inner + k;
                    CHECK(q[idx] == qs[m]);
                    CHECK(y[idx] == (float)(q[idx] - zps[c]) * scales[c]);
                    m++;
                }
        }
    }
    CHECK(quant_minmax_axis(x, shape, 4, 4, NULL, NULL) == QUANT_EINVAL);
    CHECK(quant_minmax_axis(x, shape, 4, -5, NULL, NULL) == QUANT_EINVAL);
    {
        size_t huge[3] = { SIZE_MAX / 2, SIZE_MAX / 4, 3 };
        float mn[3], mx[3];
        CHECK(quant_minmax_axis(x, huge, 3, 2, mn, mx) == QUANT_EOVERFLOW);
    }
}

static void test_per_group(void) {
    size_t rows = 5, cols = 77, groups[] = { 32, 64, 128, 7, 1 };
    float x[5 * 77], y[5 * 77];
    size_t gi, i;
    for (i = 0; i < rows * cols; i++) x[i] = (float)(qt_normal() * ((i / 13) % 5 + 0.1));
    x[3] = 40.0f; /* an outlier in one group only */
    for (gi = 0; gi < sizeof groups / sizeof *groups; gi++) {
        size_t g = groups[gi], ng = (cols + g - 1) / g;
        int st, sch;
        for (st = 0; st < 2; st++)
            for (sch = 0; sch < 2; sch++) {
                float sf[5 * 77];
                uint16_t sh[5 * 77];
                int32_t zp[5 * 77];
                uint8_t q4[5 * 39];
                int8_t q8[5 * 77];
                void *scales = st ? (void *)sh : (void *)sf;
                int32_t qmin = sch ? -8 : 0, qmax = sch ? 7 : 15;
                quant_dtype dt = sch ? QUANT_I4 : QUANT_U4;
                size_t r, j;
                CHECK(quant_params_per_group(x, rows, cols, g, qmin, qmax, (quant_scheme)sch, (quant_scale_type)st, scales, zp) == QUANT_OK);
                CHECK(quant_quantize_per_group(x, rows, cols, g, (quant_scale_type)st, scales, zp, qmin, qmax, dt, q4) == QUANT_OK);
                CHECK(quant_dequantize_per_group(q4, dt, rows, cols, g, (quant_scale_type)st, scales, zp, y) == QUANT_OK);
                CHECK(quant_params_per_group(x, rows, cols, g, -127, 127, QUANT_SYMMETRIC, (quant_scale_type)st, scales, zp) == QUANT_OK);
                CHECK(quant_quantize_per_group(x, rows, cols, g, (quant_scale_type)st, scales, zp, -127, 127, QUANT_I8, q8) == QUANT_OK);
                /* oracle: each group is a per-tensor quantization with its own stored scale */
                CHECK(quant_params_per_group(x, rows, cols, g, qmin, qmax, (quant_scheme)sch, (quant_scale_type)st, scales, zp) == QUANT_OK);
                for (r = 0; r < rows; r++) {
                    int8_t v[77];
                    CHECK(quant_unpack(q4 + r * ((cols + 1) / 2), cols, dt, v) == QUANT_OK);
                    for (j = 0; j < cols; j++) {
                        size_t k = r * ng + j / g;
                        quant_params p;
                        float s = st ? quant_fp16_to_fp32(sh[k]) : sf[k];
                        p.scale = s; p.zero_point = zp[k]; p.qmin = qmin; p.qmax = qmax;
                        CHECK(v[j] == ref_q(x[r * cols + j], &p));
                        CHECK(y[r * cols + j] == (float)(v[j] - zp[k]) * s);
                        if (!st && x[r * cols + j] >= (qmin - zp[k]) * s && x[r * cols + j] <= (qmax - zp[k]) * s) {
                            /* float scales: inside the representable range the error is half a step */
                            CHECKF(fabs(y[r * cols + j] - x[r * cols + j]) <= s * 0.5000001 + fabsf(x[r * cols + j]) * 1.2e-7, "g=%d r=%d j=%d x=%g y=%g s=%g zp=%d q=%d sch=%d", (int)g, (int)r, (int)j, x[r*cols+j], y[r*cols+j], s, zp[k], v[j], sch);
                        }
                    }
                }
            }
    }
    {
        float s[3];
        CHECK(quant_params_per_group(x, 1, 4, 0, -8, 7, QUANT_SYMMETRIC, QUANT_SCALE_F32, s, NULL) == QUANT_EINVAL);
        CHECK(quant_params_per_group(x, 1, 4, 2, 0, 15, QUANT_AFFINE, QUANT_SCALE_F32, s, NULL) == QUANT_EINVAL);
        CHECK(quant_params_per_group(x, 1, 4, 2, -8, 7, QUANT_SYMMETRIC, QUANT_SCALE_F32, s, NULL) == QUANT_OK);
    }
}

/* --------------------------------------------------------- fixed point */

static void test_dyadic(void) {
    int t;
    for (t = 0; t < 20000; t++) {
        double real = exp((qt_uniform() - 0.7) * 30);
        int mbits = 1 + (int)(qt_rand32() % 31);
        int32_t m = 0, k = 0, x = (int32_t)qt_rand32();
        quant_status st = quant_dyadic_from_scale(real, mbits, &m, &k);
        if (round(real) >= ldexp(1, mbits)) { CHECK(st == QUANT_ERANGE); continue; }
        CHECK(st == QUANT_OK);
        CHECK(m >= 0 && (double)m < ldexp(1, mbits) && k >= 0 && k <= 62);
        CHECKF(fabs(ldexp(m, -k) - real) <= ldexp(0.5, -k) * (1 + 1e-12), "real=%g m=%d k=%d", real, m, k);
        if (k < 62) CHECK((double)round(ldexp(real, k + 1)) >= ldexp(1, mbits)); /* k is the largest */
        {   /* apply == round-half-up of x*m/2^k, in long double arithmetic */
            long double v = floorl(((long double)x * m) / ldexpl(1.0L, k) + 0.5L);
            int32_t want = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
            CHECKF(quant_dyadic_apply(x, m, k) == want, "x=%d m=%d k=%d", x, m, k);
        }
    }
}

/* ------------------------------------------------------- other quantizers */

static void test_pow2(void) {
    int bits, t;
    for (bits = 2; bits <= 8; bits++)
        for (t = 0; t < 50; t++) {
            float x[200], y[200];
            int8_t c[200];
            int32_t emin, levels = (1 << (bits - 1)) - 1;
            int i, e;
            for (i = 0; i < 200; i++) x[i] = (float)(qt_normal() * exp(qt_normal() * 2));
            x[0] = 0.0f;
            CHECK(quant_pow2_emin(x, 200, bits, &emin) == QUANT_OK);
            CHECK(quant_pow2_quantize(x, 200, bits, emin, c) == QUANT_OK);
            CHECK(quant_pow2_dequantize(c, 200, emin, y) == QUANT_OK);
            for (i = 0; i < 200; i++) {
                /* brute force: the nearest of 0 and +-2^e, e in [emin, emin+levels-1], ties to the larger */
                double a = fabs((double)x[i]), best = 0, bd = a;
                for (e = emin; e < emin + levels; e++) {
                    double l = ldexp(1, e), d = fabs(a - l);
                    if (d <= bd) { bd = d; best = l; }
                }
                if (x[i] < 0) best = -best;
                CHECKF((double)y[i] == best, "bits=%d x=%g got=%g want=%g", bits, x[i], y[i], best);
                CHECK(c[i] >= -levels && c[i] <= levels);
            }
            if (bits <= 6) {
                int8_t a[200];
                double want = 0;
                for (i = 0; i < 200; i++) { a[i] = (int8_t)(qt_rand32() & 0xff); want += (double)a[i] * ldexp((double)y[i], -emin); }
                CHECK((double)quant_pow2_dot(a, c, 200) == want);
            }
        }
}

static void test_dfp(void) {
    int bits, t;
    for (bits = 2; bits <= 16; bits++)
        for (t = 0; t < 40; t++) {
            float x[100], y[100], am = 0;
            int16_t q[100];
            int32_t frac;
            double lim = ldexp(1, bits - 1) - 1;
            int i;
            for (i = 0; i < 100; i++) { x[i] = (float)(qt_normal() * exp(qt_normal() * 3)); if (fabsf(x[i]) > am) am = fabsf(x[i]); }
            CHECK(quant_dfp_frac_bits(x, 100, bits, &frac) == QUANT_OK);
            CHECK(nearbyint(ldexp(am, frac)) <= lim);      /* fits */
            CHECK(nearbyint(ldexp(am, frac + 1)) > lim);   /* and is the most precise that fits */
            CHECK(quant_dfp_quantize(x, 100, bits, frac, QUANT_I16, q) == QUANT_OK);
            CHECK(quant_dfp_dequantize(q, QUANT_I16, 100, frac, y) == QUANT_OK);
            for (i = 0; i < 100; i++) CHECK(fabs((double)y[i] - x[i]) <= ldexp(0.5, -frac) * (1 + 1e-9));
        }
}

static void test_fake_quant(void) {
    float x[300], y[300], dy[300], dx[300], dsc = 0;
    uint8_t mask[300];
    quant_params p;
    int i;
    double g = 0;
    memset(&p, 0, sizeof p); /* g++ -O3 cannot see that the CHECKed call below sets it */
    for (i = 0; i < 300; i++) { x[i] = (float)(qt_normal() * 2); dy[i] = (float)qt_normal(); }
    x[0] = NAN;
    CHECK(quant_params_from_range(-1.5f, 2.5f, 0, 255, QUANT_AFFINE, &p) == QUANT_OK);
    CHECK(quant_fake_quant(x, 300, &p, y, mask) == QUANT_OK);
    for (i = 1; i < 300; i++) {
        float inv = 1.0f / p.scale;
        double qu = nearbyintf(x[i] * inv) + p.zero_point;
        int in = qu >= 0 && qu <= 255;
        int32_t qc = ref_q(x[i], &p);
        CHECK(y[i] == (float)(qc - p.zero_point) * p.scale);
        CHECK(mask[i] == in);
    }
    CHECK(y[0] == 0.0f && mask[0] == 0);
    CHECK(quant_fake_quant_backward(dy, mask, 300, dx) == QUANT_OK);
    for (i = 0; i < 300; i++) CHECK(dx[i] == (mask[i] ? dy[i] : 0.0f));
    /* LSQ: the paper's gradient, reimplemented in double */
    CHECK(quant_lsq_backward(x, dy, 300, &p, 0.5f, dx, &dsc) == QUANT_OK);
    for (i = 1; i < 300; i++) {
        double xs = (double)(float)(x[i] * (1.0f / p.scale)), r = nearbyint(xs), q = r + p.zero_point, d;
        if (q < 0) d = 0 - p.zero_point; else if (q > 255) d = 255 - p.zero_point; else d = r - xs;
        g += dy[i] * d;
        CHECK(dx[i] == ((q >= 0 && q <= 255) ? dy[i] : 0.0f));
    }
    CHECKF(fabs(dsc - g * 0.5) <= 1e-5 * (1 + fabs(g)), "dscale=%g want=%g", dsc, g * 0.5);
    /* per channel fake quant == per tensor on each slice */
    {
        size_t shape[2] = { 30, 10 };
        float sc[10]; int32_t zp[10];
        int c;
        for (c = 0; c < 10; c++) { sc[c] = 0.01f * (c + 1); zp[c] = c * 10; }
        CHECK(quant_fake_quant_per_channel(x, shape, 2, 1, sc, zp, 0, 255, y, mask) == QUANT_OK);
        for (i = 1; i < 300; i++) {
            quant_params pc = { sc[i % 10], zp[i % 10], 0, 255 };
            CHECK(y[i] == (float)(ref_q(x[i], &pc) - pc.zero_point) * pc.scale);
        }
    }
}

/* ------------------------------------------------------------- formats */

static void test_pack_roundtrip(void) {
    quant_dtype dts[] = { QUANT_I4, QUANT_U4, QUANT_I2, QUANT_U2 };
    size_t d, n;
    for (d = 0; d < 4; d++) {
        int32_t lo = 0, hi = 0;
        quant_dtype_range(dts[d], 0, &lo, &hi);
        for (n = 0; n < 70; n++) {
            int8_t v[70], w[70];
            uint8_t p[70];
            size_t i, nb = quant_dtype_bytes(dts[d], n);
            for (i = 0; i < n; i++) v[i] = (int8_t)(lo + (int32_t)(qt_rand32() % (uint32_t)(hi - lo + 1)));
            memset(p, 0xFF, sizeof p);
            CHECK(quant_pack(v, n, dts[d], p) == QUANT_OK);
            CHECK(p[nb] == 0xFF); /* nothing written past the packed size */
            CHECK(quant_unpack(p, n, dts[d], w) == QUANT_OK);
            CHECK(n == 0 || memcmp(v, w, n) == 0);
            if (n) { /* out-of-range value: refused, nothing written */
                memset(p, 0x5A, sizeof p);
                v[n / 2] = (int8_t)(hi + 1);
                CHECK(quant_pack(v, n, dts[d], p) == QUANT_ERANGE);
                CHECK(p[0] == 0x5A);
            }
        }
    }
}

static void test_blocks(void) {
    float x[32 * 9], y[32 * 9];
    quant_block_q8 b8[9];
    quant_block_q4 b4[9];
    int i, b;
    CHECK(sizeof(quant_block_q8) == 34 && sizeof(quant_block_q4) == 18);
    for (i = 0; i < 32 * 9; i++) x[i] = (float)(qt_normal() * (1 + i / 32));
    for (i = 32; i < 64; i++) x[i] = 0.0f;        /* an all-zero block */
    x[70] = NAN; x[100] = INFINITY;               /* non-finite in other blocks */
    CHECK(quant_block_q8_quantize(x, 32 * 9, b8) == QUANT_OK);
    CHECK(quant_block_q8_dequantize(b8, 32 * 9, y) == QUANT_OK);
    for (b = 0; b < 9; b++) {
        float am = 0, d = quant_fp16_to_fp32(b8[b].d);
        for (i = 0; i < 32; i++) { float a = fabsf(x[b * 32 + i]); if (isfinite(a) && a > am) am = a; }
        CHECK(b8[b].d == quant_fp32_to_fp16(am / 127.0f));
        for (i = 0; i < 32; i++) {
            float v = x[b * 32 + i];
            CHECK(b8[b].qs[i] >= -127 && b8[b].qs[i] <= 127);
            if (v != v) CHECK(b8[b].qs[i] == 0);
            else if (isinf(v)) CHECK(b8[b].qs[i] == 127);
            else CHECKF(fabsf(y[b * 32 + i] - v) <= d * 0.5f + am * 2e-3f, "b=%d i=%d", b, i);
        }
    }
    CHECK(quant_block_q4_quantize(x, 32 * 9, b4) == QUANT_OK);
    CHECK(quant_block_q4_dequantize(b4, 32 * 9, y) == QUANT_OK);
    for (b = 0; b < 9; b++) {
        float am = 0, d = quant_fp16_to_fp32(b4[b].d);
        for (i = 0; i < 32; i++) { float a = fabsf(x[b * 32 + i]); if (isfinite(a) && a > am) am = a; }
        for (i = 0; i < 32; i++) {
            float v = x[b * 32 + i];
            int nib = (b4[b].qs[i / 2] >> (4 * (i & 1))) & 0xF;
            CHECK(y[b * 32 + i] == (float)(nib - 8) * d); /* low nibble first */
            if (isfinite(v)) CHECKF(fabsf(y[b * 32 + i] - v) <= d * 0.5f + am * 2e-3f, "q4 b=%d i=%d", b, i);
        }
    }
    CHECK(quant_block_q8_quantize(x, 33, b8) == QUANT_EINVAL);
    {
        float big[32]; quant_block_q8 keep, o;
        for (i = 0; i < 32; i++) big[i] = 1e30f;
        memset(&o, 0x11, sizeof o); keep = o;
        CHECK(quant_block_q8_quantize(big, 32, &o) == QUANT_ERANGE);
        CHECK(memcmp(&o, &keep, sizeof o) == 0);
    }
}

static void test_bitplanes(void) {
    size_t K, rows = 3;
    for (K = 1; K <= 200; K += (K < 70 ? 1 : 13)) {
        float x[3 * 200], y[3 * 200];
        int8_t v[3 * 200];
        uint64_t b[3 * 4], s[3 * 4], z[3 * 4];
        size_t w = quant_bits_words(K), r, k;
        CHECK(w == (K + 63) / 64);
        for (k = 0; k < rows * K; k++) x[k] = (float)qt_normal();
        x[0] = 0.0f; x[1 % (rows * K)] = -0.0f;
        CHECK(quant_pack_binary(x, rows, K, b) == QUANT_OK);
        CHECK(quant_unpack_binary(b, rows, K, y) == QUANT_OK);
        for (k = 0; k < rows * K; k++) CHECK(y[k] == (x[k] < 0 ? -1.0f : 1.0f)); /* 0 -> +1 */
        for (r = 0; r < rows; r++)
            if (K % 64) CHECK((b[r * w + w - 1] >> (K % 64)) == 0); /* padding bits are 0 */
        CHECK(quant_pack_ternary(x, rows, K, 0.5f, s, z) == QUANT_OK);
        CHECK(quant_unpack_ternary(s, z, rows, K, v) == QUANT_OK);
        for (k = 0; k < rows * K; k++) CHECK(v[k] == (x[k] > 0.5f ? 1 : x[k] < -0.5f ? -1 : 0));
        for (r = 0; r < rows; r++)
            if (K % 64) CHECK((s[r * w + w - 1] >> (K % 64)) == 0 && (z[r * w + w - 1] >> (K % 64)) == 0);
    }
}

/* ------------------------------------------------------ reference gemm */

static void test_ref_gemm(void) {
    int t;
    for (t = 0; t < 200; t++) {
        size_t M = 1 + qt_rand32() % 9, N = 1 + qt_rand32() % 9, K = 1 + qt_rand32() % 70, m, n, k;
        uint8_t A[9 * 70]; int8_t B[70 * 9]; int32_t C[81];
        int32_t azp = (int32_t)(qt_rand32() % 256), bzp = (t & 1) ? 0 : (int32_t)(qt_rand32() % 256) - 128;
        for (k = 0; k < M * K; k++) A[k] = (uint8_t)qt_rand32();
        for (k = 0; k < K * N; k++) B[k] = (int8_t)qt_rand32();
        if (t % 10 == 0) { for (k = 0; k < M * K; k++) A[k] = 255; for (k = 0; k < K * N; k++) B[k] = -128; azp = 0; bzp = 0; }
        quant_ref_gemm_i32(M, N, K, A, 0, K, azp, B, N, bzp, C, N);
        for (m = 0; m < M; m++)
            for (n = 0; n < N; n++) {
                double s = 0;
                for (k = 0; k < K; k++) s += ((double)A[m * K + k] - azp) * ((double)B[k * N + n] - bzp);
                CHECK((double)C[m * N + n] == s);
            }
    }
}

/* -------------------------------------------------------- bad input */

static void test_bad_input_untouched(void) {
    float x[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, y[8];
    int8_t q[8];
    quant_params p = { 0.1f, 0, -128, 127 };
    size_t shape[2] = { 2, 4 };
    float sc[4] = { 0.1f, 0.1f, -1.0f, 0.1f };
    int32_t zp[4] = { 0, 0, 0, 0 };
    memset(q, 0x33, 8);
    for (int i = 0; i < 8; i++) y[i] = 777.0f;
    CHECK(quant_quantize(NULL, 8, &p, QUANT_I8, q) == QUANT_EINVAL);
    CHECK(quant_quantize(x, 8, &p, QUANT_I8, NULL) == QUANT_EINVAL);
    CHECK(quant_quantize(x, 8, NULL, QUANT_I8, q) == QUANT_EINVAL);
    CHECK(quant_quantize(x, 8, &p, (quant_dtype)99, q) == QUANT_EINVAL);
    CHECK(quant_quantize(NULL, 0, &p, QUANT_I8, NULL) == QUANT_OK); /* n = 0 */
    CHECK(quant_quantize_per_channel(x, shape, 2, 1, sc, zp, -128, 127, QUANT_I8, q) == QUANT_ESCALE);
    CHECK(quant_quantize_per_channel(x, shape, 2, 2, sc, zp, -128, 127, QUANT_I8, q) == QUANT_EINVAL);
    CHECK(quant_dequantize(q, QUANT_I8, 8, NULL, y) == QUANT_EINVAL);
    CHECK(quant_fake_quant(x, 8, NULL, y, NULL) == QUANT_EINVAL);
    CHECK(quant_pack_ternary(x, 1, 8, NAN, NULL, NULL) == QUANT_EINVAL);
    for (int i = 0; i < 8; i++) { CHECK(q[i] == 0x33); CHECK(y[i] == 777.0f); }
    CHECK(strcmp(quant_status_str(QUANT_ESCALE), quant_status_str(QUANT_EINVAL)) != 0);
    CHECK(quant_status_str((quant_status)123) != NULL);
    {
        double mx;
        CHECK(isinf(quant_sqnr_db(x, x, 8, &mx)) && mx == 0);
        y[0] = 1.1f; for (int i = 1; i < 8; i++) y[i] = x[i];
        CHECK(fabs(quant_sqnr_db(x, y, 8, &mx) - 10 * log10(204.0 / ((double)(1.1f - 1.0f) * (1.1f - 1.0f)))) < 1e-9);
    }
}

int main(void) {
    RUN(test_fp16_all_halves);
    RUN(test_fp16_from_floats);
    RUN(test_bf16);
    RUN(test_rounding_modes);
    RUN(test_stochastic_rounding);
    RUN(test_params_edges);
    RUN(test_params_errors);
    RUN(test_quantize_oracle);
    RUN(test_subbyte_quantize);
    RUN(test_per_channel);
    RUN(test_per_group);
    RUN(test_dyadic);
    RUN(test_pow2);
    RUN(test_dfp);
    RUN(test_fake_quant);
    RUN(test_pack_roundtrip);
    RUN(test_blocks);
    RUN(test_bitplanes);
    RUN(test_ref_gemm);
    RUN(test_bad_input_untouched);
    return qt_summary();
}
