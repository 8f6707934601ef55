/* tests/ktest_elementwise.c - quant_add_k / quant_mul_k / their broadcast
 * forms / quant_requantize_params_k (quant_kernels.h section 8) against
 * quant.h's quant_add / quant_mul / quant_requantize_params, byte for byte
 * and status for status, on the ISA this file is compiled for: random
 * params over the whole accepted range of scale ratios, zero points at the
 * extremes, activation clamps, every pair of input values, every length
 * 0..70 at every misalignment, hand-made params structs (saturating left
 * shifts, shifts of -31, multipliers 0 and 2^31 - 1, large offsets, structs
 * outside the kernels' range), broadcast rows, bad arguments. */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include "harness.h"

#define NMAX 4096
static uint8_t g_a[NMAX + 64], g_b[NMAX + 64], g_o[NMAX + 64], g_r[NMAX + 64];

static void dt_range(quant_dtype dt, int32_t *lo, int32_t *hi) { *lo = dt == QUANT_I8 ? -128 : 0; *hi = dt == QUANT_I8 ? 127 : 255; }

/* a zero point: often an extreme of the type, else anywhere in it */
static int32_t rand_zp(quant_dtype dt) {
    int32_t lo, hi;
    unsigned r = qt_rand32() % 8;
    dt_range(dt, &lo, &hi);
    if (r == 0) return lo;
    if (r == 1) return hi;
    if (r == 2) return dt == QUANT_I8 ? 0 : 128;
    return lo + (int32_t)(qt_rand32() % 256u);
}
/* a scale 2^u, u uniform in [-e, e] (sometimes a power of two, for ties) */
static float rand_scale(double e) {
    double u = (qt_uniform() * 2.0 - 1.0) * e;
    if (qt_rand32() % 6 == 0) u = floor(u);
    return (float)pow(2.0, u);
}
static quant_params rand_params(quant_dtype dt, double e) {
    quant_params p;
    dt_range(dt, &p.qmin, &p.qmax);
    if (qt_rand32() % 5 == 0) { p.qmin += (int32_t)(qt_rand32() % 40); p.qmax -= (int32_t)(qt_rand32() % 40); } /* narrow output ranges: clamps */
    p.scale = rand_scale(e);
    p.zero_point = rand_zp(dt);
    if (p.zero_point < p.qmin) p.zero_point = p.qmin;
    if (p.zero_point > p.qmax) p.zero_point = p.qmax;
    return p;
}
static void fill(uint8_t *p, size_t n) {
    size_t i;
    unsigned mode = qt_rand32() % 4;
    for (i = 0; i < n; i++) {
        uint32_t r = qt_rand32();
        p[i] = (uint8_t)(mode == 0 && (r & 3) == 0 ? ((r >> 8) & 1 ? 0x7f : 0x80) : mode == 1 && (r & 3) == 0 ? ((r >> 8) & 1 ? 0xff : 0x00) : r >> 24);
    }
}

typedef struct run_stats { long calls, elems; } run_stats;
static run_stats g_st;

/* one call of each on the same data, output and status compared, guard
 * bytes around the output left alone */
static int cmp_op(int mul, const uint8_t *a, const uint8_t *b, size_t n, quant_dtype dt, const void *p, size_t oo) {
    const quant_add_params *ap = (const quant_add_params *)p;
    const quant_mul_params *mp = (const quant_mul_params *)p;
    quant_status s1, s2;
    memset(g_o, 0x5A, sizeof g_o); memset(g_r, 0x5A, sizeof g_r);
    s1 = mul ? quant_mul_k(a, b, n, dt, mp, g_o + oo) : quant_add_k(a, b, n, dt, ap, g_o + oo);
    s2 = mul ? quant_mul(a, b, n, dt, mp, g_r + oo) : quant_add(a, b, n, dt, ap, g_r + oo);
    g_st.calls++; g_st.elems += (long)n;
    return s1 == s2 && memcmp(g_o, g_r, sizeof g_o) == 0;
}
static int cmp_add(const uint8_t *a, const uint8_t *b, size_t n, quant_dtype dt, const quant_add_params *p, size_t oo) { return cmp_op(0, a, b, n, dt, p, oo); }
static int cmp_mul(const uint8_t *a, const uint8_t *b, size_t n, quant_dtype dt, const quant_mul_params *p, size_t oo) { return cmp_op(1, a, b, n, dt, p, oo); }
static size_t first_diff(void) { size_t i; for (i = 0; i < sizeof g_o && g_o[i] == g_r[i]; i++) {} return i; }

/* random params (the whole accepted range of scale ratios; mul: a narrower
 * spread of scales), lengths, offsets */
static void random_cases(int mul) {
    int t, refused = 0, ok = 0;
    for (t = 0; t < 6000 && QT_FAILS < 8; t++) {
        const quant_dtype dt = (t & 1) ? QUANT_I8 : QUANT_U8;
        const double e = t % 3 == 0 ? 4.0 : t % 3 == 1 ? (mul ? 12.0 : 16.0) : (mul ? 30.0 : 40.0);
        quant_params pa = rand_params(dt, e), pb = rand_params(dt, e), po = rand_params(dt, e);
        quant_add_params ap;
        quant_mul_params mp;
        quant_activation act = (quant_activation)(qt_rand32() % 3);
        size_t n = qt_rand32() % 300, oa = qt_rand32() % 8, ob = qt_rand32() % 8, oo = qt_rand32() % 8;
        if (!mul && t % 4 == 0) pb.scale = pa.scale; /* equal scales: both inputs shift 0 */
        if ((mul ? quant_mul_prepare(&pa, &pb, &po, act, &mp) : quant_add_prepare(&pa, &pb, &po, act, &ap)) != QUANT_OK) {
            refused++;
            continue;
        }
        ok++;
        fill(g_a + oa, n); fill(g_b + ob, n);
        CHECKF(mul ? cmp_mul(g_a + oa, g_b + ob, n, dt, &mp, oo) : cmp_add(g_a + oa, g_b + ob, n, dt, &ap, oo),
               "%s t=%d dt=%d n=%d scales %g %g %g zps %d %d %d act %d: byte %d", mul ? "mul" : "add",
               t, (int)dt, (int)n, pa.scale, pb.scale, po.scale, pa.zero_point, pb.zero_point, po.zero_point, (int)act, (int)first_diff());
    }
    CHECKF(ok > 3000 && refused > 50, "%s: prepared %d, refused %d", mul ? "mul" : "add", ok, refused);
}
static void test_add_random(void) { random_cases(0); }
static void test_mul_random(void) { random_cases(1); }

/* every (a, b) pair of values, for a few params sets per dtype */
static void test_all_pairs(void) {
    static uint8_t a[65536], b[65536], o[65536], r[65536];
    int t;
    for (t = 0; t < 16; t++) {
        const quant_dtype dt = (t & 1) ? QUANT_I8 : QUANT_U8;
        int32_t lo, hi, i;
        quant_params pa, pb, po;
        quant_add_params ap;
        quant_mul_params mp;
        dt_range(dt, &lo, &hi);
        pa.qmin = pb.qmin = po.qmin = lo; pa.qmax = pb.qmax = po.qmax = hi;
        switch (t / 2) {
        case 0: pa.scale = 0.05f; pb.scale = 0.05f; po.scale = 0.1f; pa.zero_point = pb.zero_point = po.zero_point = lo; break;
        case 1: pa.scale = 0.0313f; pb.scale = 0.0117f; po.scale = 0.0401f; pa.zero_point = hi; pb.zero_point = lo + 3; po.zero_point = lo + 128; break;
        case 2: pa.scale = 1.0f; pb.scale = 0.5f; po.scale = 0.25f; pa.zero_point = lo + 128; pb.zero_point = lo + 128; po.zero_point = lo + 128; break; /* ties */
        case 3: pa.scale = 1e-3f; pb.scale = 0.7f; po.scale = 3e-6f; pa.zero_point = lo; pb.zero_point = hi; po.zero_point = lo + 200; break; /* out shift > 0 */
        case 4: pa.scale = 3e-6f; pb.scale = 1e-2f; po.scale = 0.9f; pa.zero_point = lo + 77; pb.zero_point = hi - 5; po.zero_point = hi; break;
        case 5: pa.scale = 0.02f; pb.scale = 0.02f * 1.0000001f; po.scale = 1.0f / 255; pa.zero_point = lo + 1; pb.zero_point = lo; po.zero_point = lo; break;
        case 6: pa.scale = 1.0f; pb.scale = 1.0f; po.scale = 1.0f; pa.zero_point = lo; pb.zero_point = hi; po.zero_point = lo + 127; break;
        default: pa.scale = 7.3f; pb.scale = 1e-9f; po.scale = 0.031f; pa.zero_point = hi; pb.zero_point = hi; po.zero_point = lo; break;
        }
        for (i = 0; i < 65536; i++) { a[i] = (uint8_t)(i >> 8); b[i] = (uint8_t)i; }
        if (quant_add_prepare(&pa, &pb, &po, (quant_activation)(t % 3), &ap) == QUANT_OK) {
            memset(o, 1, sizeof o); memset(r, 2, sizeof r);
            CHECK(quant_add_k(a, b, 65536, dt, &ap, o) == QUANT_OK);
            CHECK(quant_add(a, b, 65536, dt, &ap, r) == QUANT_OK);
            CHECKF(memcmp(o, r, sizeof o) == 0, "add set %d dt %d", t / 2, (int)dt);
        } else CHECKF(0, "add set %d refused", t / 2);
        if (quant_mul_prepare(&pa, &pb, &po, (quant_activation)(t % 3), &mp) == QUANT_OK) {
            memset(o, 1, sizeof o); memset(r, 2, sizeof r);
            CHECK(quant_mul_k(a, b, 65536, dt, &mp, o) == QUANT_OK);
            CHECK(quant_mul(a, b, 65536, dt, &mp, r) == QUANT_OK);
            CHECKF(memcmp(o, r, sizeof o) == 0, "mul set %d dt %d", t / 2, (int)dt);
        } else CHECKF(t / 2 == 7, "mul set %d refused", t / 2);
    }
}

/* every length 0..70 at every misalignment of a, b and out */
static void test_tails(void) {
    int t;
    for (t = 0; t < 4; t++) {
        const quant_dtype dt = (t & 1) ? QUANT_I8 : QUANT_U8;
        quant_params pa = rand_params(dt, 3), pb = rand_params(dt, 3), po = rand_params(dt, 3);
        quant_add_params ap;
        quant_mul_params mp;
        size_t n, oa, ob, oo;
        CHECK(quant_add_prepare(&pa, &pb, &po, QUANT_ACT_NONE, &ap) == QUANT_OK);
        CHECK(quant_mul_prepare(&pa, &pb, &po, QUANT_ACT_NONE, &mp) == QUANT_OK);
        fill(g_a, NMAX + 64); fill(g_b, NMAX + 64);
        for (n = 0; n <= 70; n++)
            for (oa = 0; oa < 4; oa++)
                for (ob = 0; ob < 4; ob++)
                    for (oo = 0; oo < 4; oo++) {
                        CHECKF(cmp_add(g_a + oa, g_b + ob, n, dt, &ap, oo), "add n=%d offsets %d %d %d", (int)n, (int)oa, (int)ob, (int)oo);
                        CHECKF(cmp_mul(g_a + oa, g_b + ob, n, dt, &mp, oo), "mul n=%d offsets %d %d %d", (int)n, (int)oa, (int)ob, (int)oo);
                    }
    }
}

/* in place: out = a, out = b */
static void test_in_place(void) {
    int t;
    for (t = 0; t < 40; t++) {
        const quant_dtype dt = (t & 1) ? QUANT_I8 : QUANT_U8;
        quant_params pa = rand_params(dt, 6), pb = rand_params(dt, 6), po = rand_params(dt, 6);
        quant_add_params ap;
        quant_mul_params mp;
        uint8_t a[200], b[200], x[200], r[200];
        size_t n = 1 + qt_rand32() % 199;
        if (quant_add_prepare(&pa, &pb, &po, QUANT_ACT_NONE, &ap) != QUANT_OK ||
            quant_mul_prepare(&pa, &pb, &po, QUANT_ACT_NONE, &mp) != QUANT_OK) continue;
        fill(a, n); fill(b, n);
        quant_add(a, b, n, dt, &ap, r);
        memcpy(x, a, n); CHECK(quant_add_k(x, b, n, dt, &ap, x) == QUANT_OK); CHECK(memcmp(x, r, n) == 0);
        memcpy(x, b, n); CHECK(quant_add_k(a, x, n, dt, &ap, x) == QUANT_OK); CHECK(memcmp(x, r, n) == 0);
        quant_mul(a, b, n, dt, &mp, r);
        memcpy(x, a, n); CHECK(quant_mul_k(x, b, n, dt, &mp, x) == QUANT_OK); CHECK(memcmp(x, r, n) == 0);
    }
}

/* hand-made structs: the extremes of every field the kernels take, and
 * structs outside their range (which must still equal the reference) */
static void test_handmade(void) {
    static const int32_t mults[] = { 0, 1, 2, 1 << 30, (1 << 30) + 1, 1518500250, 2147483646, INT32_MAX, 12345, -1, INT32_MIN, -1518500250 };
    int t;
    for (t = 0; t < 20000 && QT_FAILS < 8; t++) {
        const quant_dtype dt = (t & 1) ? QUANT_I8 : QUANT_U8;
        int32_t lo, hi;
        size_t n = qt_rand32() % 80;
        const int k = (int)(qt_rand32() % 10);
        const int32_t m1 = mults[qt_rand32() % (k == 0 ? 12 : 9)], m2 = mults[qt_rand32() % 9];
        const int32_t mo = qt_rand32() % 3 ? (int32_t)(qt_rand32() >> 1) : mults[qt_rand32() % (k == 1 ? 12 : 9)];
        const int32_t so = -31 + (int32_t)(qt_rand32() % 62);
        dt_range(dt, &lo, &hi);
        fill(g_a, n); fill(g_b, n);
        if (t % 2 == 0) {
            quant_add_params p;
            p.left_shift = (int32_t)(qt_rand32() % 21);
            p.in1_mult = m1; p.in2_mult = m2;
            p.in1_shift = -(int32_t)(qt_rand32() % 32); p.in2_shift = qt_rand32() % 4 ? -(int32_t)(qt_rand32() % 32) : 0;
            if (k == 2) { p.in1_shift = (int32_t)(qt_rand32() % 8); p.in2_mult = 0; } /* outside: input shifts left (s1 may saturate: s2 = 0 keeps s1 + s2 defined) */
            p.out_mult = mo; p.out_shift = so;
            /* offsets up to the limit where |x1| < 2^30, and past it when k == 3
             * (x1 up to 2^31: the kernels hand those to quant.h; x2 = about -x1
             * there, so that s1 + s2 stays inside int32 in the reference too) */
            {
                const int64_t lim = ((int64_t)1 << (30 - p.left_shift)) - 256, lim2 = k == 3 ? 2 * lim + 200 : lim;
                p.in1_offset = (int32_t)((int64_t)(qt_rand64() % (uint64_t)(2 * lim2 + 1)) - lim2);
                p.in2_offset = k == 3 || qt_rand32() % 2 ? -p.in1_offset : (int32_t)((int64_t)(qt_rand64() % (uint64_t)(2 * lim + 1)) - lim);
                if (qt_rand32() % 3 == 0) { p.in1_offset = -lo; p.in2_offset = -hi; }
            }
            p.out_offset = k == 4 ? (int32_t)(qt_rand32() % 4000000u) - 2000000 : lo + (int32_t)(qt_rand32() % 256u);
            p.lo = lo + (int32_t)(qt_rand32() % 50); p.hi = hi - (int32_t)(qt_rand32() % 50);
            CHECKF(cmp_add(g_a, g_b, n, dt, &p, qt_rand32() % 4), "t=%d add ls=%d m %d/%d %d/%d out %d/%d offs %d %d %d byte %d", t,
                   p.left_shift, p.in1_mult, p.in1_shift, p.in2_mult, p.in2_shift, p.out_mult, p.out_shift, p.in1_offset, p.in2_offset, p.out_offset, (int)first_diff());
        } else {
            quant_mul_params p;
            int32_t o1 = k == 5 ? 30000 : k == 6 ? 46000 : (int32_t)(qt_rand32() % 512u) - 256;
            if (qt_rand32() % 2) o1 = -o1;
            p.in1_offset = o1;
            p.in2_offset = k == 5 ? -(int32_t)(qt_rand32() % 60000u) + 30000 : (int32_t)(qt_rand32() % 512u) - 256;
            p.out_mult = mo; p.out_shift = so;
            p.out_offset = k == 4 ? (int32_t)(qt_rand32() % 4000000u) - 2000000 : lo + (int32_t)(qt_rand32() % 256u);
            p.lo = lo + (int32_t)(qt_rand32() % 50); p.hi = hi - (int32_t)(qt_rand32() % 50);
            CHECKF(cmp_mul(g_a, g_b, n, dt, &p, qt_rand32() % 4), "t=%d mul m %d/%d offs %d %d %d byte %d", t,
                   p.out_mult, p.out_shift, p.in1_offset, p.in2_offset, p.out_offset, (int)first_diff());
        }
    }
}

/* broadcast: against the reference row by row */
static void test_broadcast(void) {
    static const size_t cs[] = { 1, 2, 3, 7, 15, 16, 17, 24, 32, 33, 64, 85, 96, 127, 128, 129, 255, 256, 257, 512, 1000 };
    int t;
    for (t = 0; t < 800 && QT_FAILS < 8; t++) {
        const quant_dtype dt = (t & 1) ? QUANT_I8 : QUANT_U8;
        const size_t c = cs[qt_rand32() % (sizeof cs / sizeof cs[0])], rows = qt_rand32() % (NMAX / c < 40 ? NMAX / c + 1 : 40);
        const size_t n = rows * c, oa = qt_rand32() % 4, ob = qt_rand32() % 4, oo = qt_rand32() % 4;
        quant_params pa = rand_params(dt, 10), pb = rand_params(dt, 10), po = rand_params(dt, 10);
        size_t r;
        quant_status s1, s2 = QUANT_OK;
        fill(g_a + oa, n); fill(g_b + ob, c);
        memset(g_o, 0x5A, sizeof g_o); memset(g_r, 0x5A, sizeof g_r);
        if (t % 2 == 0) {
            quant_add_params p;
            if (quant_add_prepare(&pa, &pb, &po, (quant_activation)(t % 3), &p) != QUANT_OK) continue;
            s1 = quant_add_bc_k(g_a + oa, g_b + ob, n, c, dt, &p, g_o + oo);
            for (r = 0; r < rows; r++) s2 = quant_add(g_a + oa + r * c, g_b + ob, c, dt, &p, g_r + oo + r * c);
        } else {
            quant_mul_params p;
            if (quant_mul_prepare(&pa, &pb, &po, (quant_activation)(t % 3), &p) != QUANT_OK) continue;
            s1 = quant_mul_bc_k(g_a + oa, g_b + ob, n, c, dt, &p, g_o + oo);
            for (r = 0; r < rows; r++) s2 = quant_mul(g_a + oa + r * c, g_b + ob, c, dt, &p, g_r + oo + r * c);
        }
        CHECKF(s1 == QUANT_OK && s2 == QUANT_OK && memcmp(g_o, g_r, sizeof g_o) == 0, "t=%d c=%d rows=%d byte %d", t, (int)c, (int)rows, (int)first_diff());
    }
    { /* bad shapes */
        quant_params p = { 0.1f, 0, -128, 127 };
        quant_add_params ap;
        quant_mul_params mp;
        CHECK(quant_add_prepare(&p, &p, &p, QUANT_ACT_NONE, &ap) == QUANT_OK);
        CHECK(quant_mul_prepare(&p, &p, &p, QUANT_ACT_NONE, &mp) == QUANT_OK);
        memset(g_o, 0x5A, 64);
        CHECK(quant_add_bc_k(g_a, g_b, 10, 3, QUANT_I8, &ap, g_o) == QUANT_EINVAL);
        CHECK(quant_add_bc_k(g_a, g_b, 10, 0, QUANT_I8, &ap, g_o) == QUANT_EINVAL);
        CHECK(quant_mul_bc_k(g_a, g_b, 10, 4, QUANT_I8, &mp, g_o) == QUANT_EINVAL);
        CHECK(quant_mul_bc_k(g_a, NULL, 10, 5, QUANT_I8, &mp, g_o) == QUANT_EINVAL);
        CHECK(quant_add_bc_k(g_a, g_b, 10, 5, QUANT_I16, &ap, g_o) == QUANT_EINVAL);
        CHECK(quant_add_bc_k(NULL, NULL, 0, 0, QUANT_I8, &ap, NULL) == QUANT_OK);
        CHECK(g_o[0] == 0x5A && g_o[9] == 0x5A);
        /* a broadcast first operand: swap operands and params */
        {
            quant_params qa = { 0.02f, -5, -128, 127 }, qb = { 0.3f, 17, -128, 127 }, qo = { 0.1f, 3, -128, 127 };
            quant_add_params ab, ba;
            uint8_t o2[96], r2[96];
            size_t r;
            CHECK(quant_add_prepare(&qa, &qb, &qo, QUANT_ACT_NONE, &ab) == QUANT_OK);
            CHECK(quant_add_prepare(&qb, &qa, &qo, QUANT_ACT_NONE, &ba) == QUANT_OK);
            fill(g_a, 96); fill(g_b, 32);
            CHECK(quant_add_bc_k(g_a, g_b, 96, 32, QUANT_I8, &ba, o2) == QUANT_OK); /* a [32] broadcast first operand */
            for (r = 0; r < 3; r++) quant_add(g_b, g_a + 32 * r, 32, QUANT_I8, &ab, r2 + 32 * r);
            CHECK(memcmp(o2, r2, 96) == 0);
        }
    }
}

/* requantize between params: random params (any dtypes), every input value,
 * and wide input ranges (int32 zero points) that exercise every int32 x */
static void test_requantize_params(void) {
    int t, ok = 0;
    for (t = 0; t < 6000 && QT_FAILS < 8; t++) {
        const quant_dtype idt = (t & 1) ? QUANT_I8 : QUANT_U8, odt = (t & 2) ? QUANT_I8 : QUANT_U8;
        quant_params pi = rand_params(idt, t % 2 ? 8 : 32), po = rand_params(odt, t % 2 ? 8 : 32);
        size_t n = t % 5 == 0 ? 256 : qt_rand32() % 100, oo = qt_rand32() % 4, oa = qt_rand32() % 4, i;
        quant_status s1, s2;
        if (t % 3 == 0) { /* x = q - zp spans int32: the multiply on every magnitude, sometimes past the kernels' range */
            pi.qmin = INT32_MIN; pi.qmax = INT32_MAX;
            pi.zero_point = (int32_t)(qt_rand32() % 6 == 0 ? qt_rand32() : qt_rand32() >> (1 + qt_rand32() % 31)) * (qt_rand32() % 2 ? 1 : -1);
            pi.scale = rand_scale(3) * (float)pow(2.0, -(double)(qt_rand32() % 32));
        }
        if (n == 256) for (i = 0; i < 256; i++) g_a[oa + i] = (uint8_t)i;
        else fill(g_a + oa, n);
        memset(g_o, 0x5A, sizeof g_o); memset(g_r, 0x5A, sizeof g_r);
        s1 = quant_requantize_params_k(g_a + oa, idt, &pi, n, &po, odt, g_o + oo);
        s2 = quant_requantize_params(g_a + oa, idt, &pi, n, &po, odt, g_r + oo);
        ok += s1 == QUANT_OK;
        CHECKF(s1 == s2 && memcmp(g_o, g_r, sizeof g_o) == 0, "t=%d %d->%d n=%d scales %g %g zps %d %d: status %d %d byte %d", t, (int)idt, (int)odt,
               (int)n, pi.scale, po.scale, pi.zero_point, po.zero_point, (int)s1, (int)s2, (int)first_diff());
    }
    CHECKF(ok > 4000, "%d ok", ok);
}

/* strided rows (a channel concatenation): row by row against the reference */
static void test_requantize_rows(void) {
    int t;
    for (t = 0; t < 1500 && QT_FAILS < 8; t++) {
        const quant_dtype idt = (t & 1) ? QUANT_I8 : QUANT_U8, odt = (t & 2) ? QUANT_I8 : QUANT_U8;
        quant_params pi = rand_params(idt, 6), po = rand_params(odt, 6);
        const size_t cols = 1 + qt_rand32() % 70, rows = qt_rand32() % 30, ldi = cols + (t % 3 ? 0 : qt_rand32() % 5);
        const size_t ldo = cols + qt_rand32() % 40, oa = qt_rand32() % 4, oo = qt_rand32() % 4;
        size_t r;
        quant_status s1, s2 = QUANT_OK;
        if (rows * ldo + 8 > NMAX || rows * ldi + 8 > NMAX) continue;
        fill(g_a + oa, rows * ldi);
        memset(g_o, 0x5A, sizeof g_o); memset(g_r, 0x5A, sizeof g_r);
        s1 = quant_requantize_params_rows_k(g_a + oa, idt, &pi, rows, cols, ldi, &po, odt, g_o + oo, ldo);
        for (r = 0; r < rows && s2 == QUANT_OK; r++) s2 = quant_requantize_params(g_a + oa + r * ldi, idt, &pi, cols, &po, odt, g_r + oo + r * ldo);
        CHECKF(s1 == s2 && memcmp(g_o, g_r, sizeof g_o) == 0, "t=%d rows %d cols %d ldi %d ldo %d: %d %d byte %d", t, (int)rows, (int)cols, (int)ldi, (int)ldo,
               (int)s1, (int)s2, (int)first_diff());
    }
    {
        quant_params p = { 0.1f, 0, -128, 127 };
        memset(g_o, 0x5A, 64);
        CHECK(quant_requantize_params_rows_k(g_a, QUANT_I8, &p, 2, 8, 7, &p, QUANT_I8, g_o, 8) == QUANT_EINVAL);
        CHECK(quant_requantize_params_rows_k(g_a, QUANT_I8, &p, 2, 8, 8, &p, QUANT_I8, g_o, 7) == QUANT_EINVAL);
        CHECK(quant_requantize_params_rows_k(g_a, QUANT_I8, &p, 2, 8, 8, &p, QUANT_I8, NULL, 8) == QUANT_EINVAL);
        CHECK(quant_requantize_params_rows_k(g_a, QUANT_I8, &p, SIZE_MAX / 4, 8, 8, &p, QUANT_I8, g_o, 8) == QUANT_EOVERFLOW);
        CHECK(quant_requantize_params_rows_k(NULL, QUANT_I8, &p, 0, 8, 0, &p, QUANT_I8, NULL, 0) == QUANT_OK);
        CHECK(g_o[0] == 0x5A && g_o[15] == 0x5A);
    }
}

static void test_bad_input(void) {
    quant_params p = { 0.1f, 0, -128, 127 }, pu = { 0.1f, 0, 0, 255 }, tiny = { 1e-30f, 0, -128, 127 }, big = { 1e10f, 0, -128, 127 };
    quant_add_params ap, bad;
    quant_mul_params mp, badm;
    uint8_t in[16] = { 0 }, out[16];
    CHECK(quant_add_prepare(&p, &p, &p, QUANT_ACT_NONE, &ap) == QUANT_OK);
    CHECK(quant_mul_prepare(&p, &p, &p, QUANT_ACT_NONE, &mp) == QUANT_OK);
    memset(out, 0x5A, 16);
    CHECK(quant_add_k(NULL, in, 16, QUANT_I8, &ap, out) == QUANT_EINVAL);
    CHECK(quant_add_k(in, NULL, 16, QUANT_I8, &ap, out) == QUANT_EINVAL);
    CHECK(quant_add_k(in, in, 16, QUANT_I8, NULL, out) == QUANT_EINVAL);
    CHECK(quant_add_k(in, in, 16, QUANT_I8, &ap, NULL) == QUANT_EINVAL);
    CHECK(quant_add_k(in, in, 16, QUANT_I16, &ap, out) == QUANT_EINVAL);
    CHECK(quant_add_k(in, in, 16, QUANT_U8, &ap, out) == QUANT_EINVAL); /* clamp [-128, 127] does not fit uint8 */
    bad = ap; bad.left_shift = 21; CHECK(quant_add_k(in, in, 16, QUANT_I8, &bad, out) == QUANT_EINVAL);
    bad = ap; bad.lo = 5; bad.hi = 4; CHECK(quant_add_k(in, in, 16, QUANT_I8, &bad, out) == QUANT_EINVAL);
    CHECK(quant_add_k(NULL, NULL, 0, QUANT_I8, &ap, NULL) == QUANT_OK);
    CHECK(quant_mul_k(NULL, in, 16, QUANT_I8, &mp, out) == QUANT_EINVAL);
    CHECK(quant_mul_k(in, in, 16, (quant_dtype)42, &mp, out) == QUANT_EINVAL);
    badm = mp; badm.hi = 300; CHECK(quant_mul_k(in, in, 16, QUANT_I8, &badm, out) == QUANT_EINVAL);
    CHECK(quant_mul_k(in, in, 0, QUANT_I8, &mp, NULL) == QUANT_OK);
    CHECK(quant_requantize_params_k(in, QUANT_I8, &p, 16, &pu, QUANT_I8, out) == QUANT_EINVAL); /* pout's range is not int8 */
    CHECK(quant_requantize_params_k(in, QUANT_I8, &big, 16, &tiny, QUANT_I8, out) ==
          quant_requantize_params(in, QUANT_I8, &big, 16, &tiny, QUANT_I8, out));
    CHECK(quant_requantize_params_k(in, QUANT_I8, &big, 16, &tiny, QUANT_I8, out) == QUANT_ERANGE);
    CHECK(quant_requantize_params_k(NULL, QUANT_I8, &p, 16, &p, QUANT_I8, out) == QUANT_EINVAL);
    CHECK(quant_requantize_params_k(in, QUANT_I8, NULL, 16, &p, QUANT_I8, out) == QUANT_EINVAL);
    tiny.scale = -1.0f; CHECK(quant_requantize_params_k(in, QUANT_I8, &tiny, 16, &p, QUANT_I8, out) == QUANT_ESCALE);
    {
        int i, untouched = 1;
        for (i = 0; i < 16; i++) untouched &= out[i] == 0x5A;
        CHECK(untouched);
    }
}

int main(void) {
    fprintf(stderr, "  isa: %s\n", quant_isa_name());
#ifdef QT_EXPECT_ISA
    if (strcmp(quant_isa_name(), QT_EXPECT_ISA) != 0) fprintf(stderr, "  note: built %s, expected %s\n", quant_isa_name(), QT_EXPECT_ISA);
#endif
    RUN(test_add_random);
    RUN(test_mul_random);
    RUN(test_all_pairs);
    RUN(test_tails);
    RUN(test_in_place);
    RUN(test_handmade);
    RUN(test_broadcast);
    RUN(test_requantize_params);
    RUN(test_requantize_rows);
    RUN(test_bad_input);
    fprintf(stderr, "  %ld calls, %ld elements compared\n", g_st.calls, g_st.elems);
    return qt_summary();
}
