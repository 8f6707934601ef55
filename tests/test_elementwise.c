/* tests/test_elementwise.c - quantized elementwise arithmetic of quant.h
 * (section 6: add, mul, requantize between params, lookup tables) and the
 * activation clamps, checked
 *   - bit for bit against a plain reimplementation, in this file, of
 *     TFLite's reference kernels and Prepare functions (int8 and uint8):
 *     add with left_shift 20, input multipliers s_i / (2 max(s1, s2)),
 *     output multiplier 2 max / (2^20 s_out), MultiplyByQuantizedMultiplier
 *     in gemmlowp's double rounding; mul with real = s1 * s2 / s_out (TFLite
 *     computes that product and quotient in float); Requantize with
 *     s_in / s_out (double); LUTPopulate with round half away;
 *     CalculateActivationRangeQuantized with round half away;
 *   - against a double-precision float oracle: the dequantized result is
 *     within one output step of the exact real result;
 *   - exhaustively over all 256 x 256 input pairs for each parameter set;
 *   - with bad input (NULL, bad dtype, bad params): an error and the output
 *     untouched. */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant.h"
#include "harness.h"
#include <stdint.h>
#include <limits.h>
#include <float.h>

/* ------------------------------------------------------------------------ */
/* the reference arithmetic, written independently of quant.h               */
/* ------------------------------------------------------------------------ */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Saturating rounding doubling high multiply, ties up: floor((a b + 2^30) / 2^31). */
static int32_t r_srdhm(int32_t a, int32_t b) {
    int64_t p = (int64_t)a * (int64_t)b + ((int64_t)1 << 30);
    int64_t q = p >= 0 ? p / ((int64_t)1 << 31) : -((-p + ((int64_t)1 << 31) - 1) / ((int64_t)1 << 31));
    return (int32_t)clamp64(q, INT32_MIN, INT32_MAX);
}
/* Rounding divide by 2^e, ties away from zero. */
static int32_t r_rdivpot(int32_t x, int e) {
    int64_t v = x, h;
    if (e == 0) return x;
    h = (int64_t)1 << (e - 1);
    if (v >= 0) return (int32_t)((v + h) >> e);
    return (int32_t)-((-v + h) >> e);
}
/* TFLite MultiplyByQuantizedMultiplier (left shift saturated). */
static int32_t r_mbqm(int32_t x, int32_t M, int shift) {
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    int32_t xs = (int32_t)clamp64((int64_t)x * ((int64_t)1 << left), INT32_MIN, INT32_MAX);
    return r_rdivpot(r_srdhm(xs, M), right);
}
/* TFLite QuantizeMultiplier. */
static void r_qm(double real, int32_t *M, int32_t *shift) {
    int e = 0;
    double q;
    int64_t qf;
    if (real == 0.0) { *M = 0; *shift = 0; return; }
    q = frexp(real, &e);
    qf = (int64_t)round(q * 2147483648.0);
    if (qf == ((int64_t)1 << 31)) { qf /= 2; e++; }
    if (e < -31) { *M = 0; *shift = 0; return; }
    if (e > 30) { *M = INT32_MAX; *shift = 30; return; }
    *M = (int32_t)qf; *shift = e;
}
/* zp + (int32)round_half_away(f / scale), computed in float as TFLite does,
 * saturated instead of overflowing the cast. */
static int64_t r_quantize_away(float f, const quant_params *o) {
    float r = roundf(f / o->scale);
    if (r != r) return o->zero_point;
    if (r > 4e9f) r = 4e9f;
    if (r < -4e9f) r = -4e9f;
    return (int64_t)o->zero_point + (int64_t)r;
}
/* CalculateActivationRangeQuantized over out's [qmin, qmax]. */
static void r_act_range(quant_activation act, float a_lo, float a_hi, const quant_params *o,
                        int32_t *lo, int32_t *hi) {
    int64_t l = o->qmin, h = o->qmax;
    if (act == QUANT_ACT_RELU) { l = r_quantize_away(0.0f, o); }
    else if (act == QUANT_ACT_RELU6) { l = r_quantize_away(0.0f, o); h = r_quantize_away(6.0f, o); }
    else if (act == QUANT_ACT_RANGE) { l = r_quantize_away(a_lo, o); h = r_quantize_away(a_hi, o); }
    if (l < o->qmin) l = o->qmin;
    if (h > o->qmax) h = o->qmax;
    *lo = (int32_t)l; *hi = (int32_t)h;
}

typedef struct r_add { int32_t o1, o2, oo, m1, s1, m2, s2, mo, so, lo, hi; } r_add;
static void r_add_prepare(const quant_params *a, const quant_params *b, const quant_params *o,
                          quant_activation act, r_add *r) {
    double twice_max = 2.0 * (double)(a->scale > b->scale ? a->scale : b->scale);
    double r1 = (double)a->scale / twice_max, r2 = (double)b->scale / twice_max;
    double ro = twice_max / (double)((float)(1 << 20) * o->scale);
    r->o1 = -a->zero_point; r->o2 = -b->zero_point; r->oo = o->zero_point;
    r_qm(r1, &r->m1, &r->s1); r_qm(r2, &r->m2, &r->s2); r_qm(ro, &r->mo, &r->so);
    r_act_range(act, 0.0f, 0.0f, o, &r->lo, &r->hi);
}
static int32_t r_add1(const r_add *r, int32_t qa, int32_t qb) {
    int32_t v1 = r->o1 + qa, v2 = r->o2 + qb;
    int32_t sh1 = v1 * (1 << 20), sh2 = v2 * (1 << 20);
    int32_t sc1 = r_mbqm(sh1, r->m1, r->s1), sc2 = r_mbqm(sh2, r->m2, r->s2);
    int32_t raw = sc1 + sc2;
    int64_t out = (int64_t)r_mbqm(raw, r->mo, r->so) + r->oo;
    return (int32_t)clamp64(out, r->lo, r->hi);
}

typedef struct r_mul { int32_t o1, o2, oo, m, s, lo, hi; } r_mul;
/* in_float: TFLite computes s1 * s2 / so in float, then widens to double. */
static void r_mul_prepare(const quant_params *a, const quant_params *b, const quant_params *o,
                          quant_activation act, int in_float, r_mul *r) {
    double real;
    if (in_float) { volatile float p = a->scale * b->scale; volatile float q = p / o->scale; real = q; }
    else real = (double)a->scale * (double)b->scale / (double)o->scale;
    r->o1 = -a->zero_point; r->o2 = -b->zero_point; r->oo = o->zero_point;
    r_qm(real, &r->m, &r->s);
    r_act_range(act, 0.0f, 0.0f, o, &r->lo, &r->hi);
}
static int32_t r_mul1(const r_mul *r, int32_t qa, int32_t qb) {
    int32_t v1 = r->o1 + qa, v2 = r->o2 + qb;
    int64_t out = (int64_t)r->oo + r_mbqm(v1 * v2, r->m, r->s);
    return (int32_t)clamp64(out, r->lo, r->hi);
}

/* ------------------------------------------------------------------------ */
/* helpers                                                                  */
/* ------------------------------------------------------------------------ */

static int32_t getq(const void *p, quant_dtype dt, size_t i) {
    return dt == QUANT_I8 ? (int32_t)((const int8_t *)p)[i] : (int32_t)((const uint8_t *)p)[i];
}
static quant_params mkp(float scale, int32_t zp, quant_dtype dt) {
    quant_params p;
    p.scale = scale; p.zero_point = zp;
    p.qmin = dt == QUANT_I8 ? -128 : 0; p.qmax = dt == QUANT_I8 ? 127 : 255;
    return p;
}
static float rand_logf(double lo, double hi) {
    return (float)exp(log(lo) + (log(hi) - log(lo)) * qt_uniform());
}
static int32_t rand_zp(quant_dtype dt) {
    int32_t z = (int32_t)(qt_rand32() % 256);
    return dt == QUANT_I8 ? z - 128 : z;
}
static const char *dtn(quant_dtype dt) { return dt == QUANT_I8 ? "i8" : "u8"; }

/* all 256 x 256 pairs: a[i] = i & 255, b[i] = i >> 8 (as bytes) */
static uint8_t g_a[65536], g_b[65536], g_out[65536 + 64];

static void fill_pairs(void) {
    for (int i = 0; i < 65536; i++) { g_a[i] = (uint8_t)(i & 255); g_b[i] = (uint8_t)(i >> 8); }
}

/* ------------------------------------------------------------------------ */
/* add                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct pset { float s1; int32_t z1; float s2; int32_t z2; float so; int32_t zo; quant_activation act; } pset;

static long long g_add_n, g_add_bad, g_add_oracle_bad;
static double g_add_maxerr;

static void run_add(const pset *ps, quant_dtype dt) {
    quant_params pa = mkp(ps->s1, ps->z1, dt), pb = mkp(ps->s2, ps->z2, dt), po = mkp(ps->so, ps->zo, dt);
    quant_add_params prm;
    r_add r;
    quant_status s;
    int shown = 0;
    memset(&prm, 0, sizeof prm);
    s = quant_add_prepare(&pa, &pb, &po, ps->act, &prm);
    CHECKF(s == QUANT_OK, "add_prepare %s s1 %g s2 %g so %g: status %d", dtn(dt), ps->s1, ps->s2, ps->so, (int)s);
    if (s != QUANT_OK) return;
    r_add_prepare(&pa, &pb, &po, ps->act, &r);
    memset(g_out, 0xA5, sizeof g_out);
    s = quant_add(g_a, g_b, 65536, dt, &prm, g_out);
    CHECKF(s == QUANT_OK, "quant_add status %d", (int)s);
    for (int k = 65536; k < 65536 + 64; k++) CHECKF(g_out[k] == 0xA5, "quant_add wrote past n at %d", k);
    for (size_t i = 0; i < 65536; i++) {
        int32_t qa = getq(g_a, dt, i), qb = getq(g_b, dt, i), got = getq(g_out, dt, i);
        int32_t want = r_add1(&r, qa, qb);
        double exact, eq, err;
        g_add_n++;
        if (got != want) {
            g_add_bad++;
            if (shown++ < 3)
                CHECKF(got == want, "add %s s1 %.9g z1 %d s2 %.9g z2 %d so %.9g zo %d act %d: q1 %d q2 %d: TFLite %d, quant %d",
                       dtn(dt), ps->s1, ps->z1, ps->s2, ps->z2, ps->so, ps->zo, (int)ps->act, qa, qb, want, got);
            else qt_cur_fail++;
        }
        /* float oracle */
        exact = (double)ps->s1 * (qa - ps->z1) + (double)ps->s2 * (qb - ps->z2);
        eq = ps->zo + exact / ps->so;
        if (eq < r.lo) eq = r.lo;
        if (eq > r.hi) eq = r.hi;
        err = fabs(got - eq);
        if (err > g_add_maxerr) g_add_maxerr = err;
        if (err > 1.0) {
            g_add_oracle_bad++;
            CHECKF(err <= 1.0, "add %s oracle: q1 %d q2 %d exact %.6f (in steps, clamped) got %d", dtn(dt), qa, qb, eq, got);
        }
    }
}

static const pset add_sets_i8[] = {
    { 0.1f, 0, 0.1f, 0, 0.1f, 0, QUANT_ACT_NONE },
    { 0.02f, -10, 0.05f, 20, 0.07f, -5, QUANT_ACT_NONE },
    { 0.0078125f, -128, 0.00390625f, 127, 0.015625f, 0, QUANT_ACT_RELU },
    { 0.5f, 3, 0.0005f, -7, 0.5f, 1, QUANT_ACT_RELU6 },
    { 0.1f, 0, 0.1f, 0, 0.01f, -20, QUANT_ACT_RELU6 },   /* saturating */
    { 0.05f, 127, 0.05f, -128, 0.1f, 127, QUANT_ACT_NONE },
    { 1000.0f, 5, 2000.0f, -5, 5000.0f, 0, QUANT_ACT_RELU },
    { 0.0001f, 0, 0.1f, 0, 0.0002f, 0, QUANT_ACT_NONE },   /* ratio 1000 */
    { 0.023529412f, -128, 0.023529412f, -128, 0.047058824f, -128, QUANT_ACT_RELU6 },
    { 3e-6f, 1, 7e-6f, -1, 1e-5f, 2, QUANT_ACT_NONE },
};
static const pset add_sets_u8[] = {
    { 0.1f, 128, 0.1f, 128, 0.1f, 128, QUANT_ACT_NONE },
    { 0.02f, 118, 0.05f, 148, 0.07f, 123, QUANT_ACT_NONE },
    { 0.0078125f, 0, 0.00390625f, 255, 0.015625f, 128, QUANT_ACT_RELU },
    { 0.5f, 131, 0.0005f, 121, 0.5f, 129, QUANT_ACT_RELU6 },
    { 0.1f, 128, 0.1f, 128, 0.01f, 108, QUANT_ACT_RELU6 },
    { 0.05f, 255, 0.05f, 0, 0.1f, 255, QUANT_ACT_NONE },
    { 0.023529412f, 0, 0.023529412f, 0, 0.047058824f, 0, QUANT_ACT_RELU6 },
    { 0.0001f, 128, 0.1f, 128, 0.0002f, 128, QUANT_ACT_NONE },
};

static void random_pset(pset *ps, quant_dtype dt, double out_lo, double out_hi) {
    ps->s1 = rand_logf(1e-4, 10.0); ps->s2 = rand_logf(1e-4, 10.0);
    ps->so = (float)((ps->s1 > ps->s2 ? ps->s1 : ps->s2) * exp(log(out_lo) + (log(out_hi) - log(out_lo)) * qt_uniform()));
    ps->z1 = rand_zp(dt); ps->z2 = rand_zp(dt); ps->zo = rand_zp(dt);
    ps->act = (quant_activation)(qt_rand32() % 3);
}

static void test_add(void) {
    size_t i;
    int k, d;
    g_add_n = g_add_bad = g_add_oracle_bad = 0; g_add_maxerr = 0;
    for (i = 0; i < sizeof add_sets_i8 / sizeof add_sets_i8[0]; i++) run_add(&add_sets_i8[i], QUANT_I8);
    for (i = 0; i < sizeof add_sets_u8 / sizeof add_sets_u8[0]; i++) run_add(&add_sets_u8[i], QUANT_U8);
    for (d = 0; d < 2; d++)
        for (k = 0; k < 24; k++) {
            pset ps;
            quant_dtype dt = d ? QUANT_U8 : QUANT_I8;
            random_pset(&ps, dt, 0.3, 4.0);
            run_add(&ps, dt);
        }
    printf("add: %lld input pairs (all 256x256 for %d param sets), %lld mismatches with TFLite, %lld beyond one step of the float oracle (max error %.4f steps)\n",
           g_add_n, (int)(g_add_n / 65536), g_add_bad, g_add_oracle_bad, g_add_maxerr);
}

/* The public add params hold TFLite's values (shift: exponent, > 0 left). */
static void test_add_params_fields(void) {
    int k;
    for (k = 0; k < 200; k++) {
        pset ps;
        quant_dtype dt = (k & 1) ? QUANT_U8 : QUANT_I8;
        quant_params pa, pb, po;
        quant_add_params prm;
        r_add r;
        random_pset(&ps, dt, 0.3, 4.0);
        pa = mkp(ps.s1, ps.z1, dt); pb = mkp(ps.s2, ps.z2, dt); po = mkp(ps.so, ps.zo, dt);
        if (quant_add_prepare(&pa, &pb, &po, ps.act, &prm) != QUANT_OK) { CHECK(0); continue; }
        r_add_prepare(&pa, &pb, &po, ps.act, &r);
        CHECKF(prm.in1_offset == r.o1 && prm.in2_offset == r.o2 && prm.out_offset == r.oo && prm.left_shift == 20,
               "offsets %d %d %d left %d, want %d %d %d 20", prm.in1_offset, prm.in2_offset, prm.out_offset,
               prm.left_shift, r.o1, r.o2, r.oo);
        CHECKF(prm.in1_mult == r.m1 && prm.in1_shift == r.s1 && prm.in2_mult == r.m2 && prm.in2_shift == r.s2 &&
               prm.out_mult == r.mo && prm.out_shift == r.so,
               "s1 %g s2 %g so %g: mults/shifts (%d,%d) (%d,%d) (%d,%d), TFLite (%d,%d) (%d,%d) (%d,%d)",
               ps.s1, ps.s2, ps.so, prm.in1_mult, prm.in1_shift, prm.in2_mult, prm.in2_shift, prm.out_mult,
               prm.out_shift, r.m1, r.s1, r.m2, r.s2, r.mo, r.so);
        CHECKF(prm.lo == r.lo && prm.hi == r.hi, "act %d: [%d, %d], want [%d, %d]", (int)ps.act, prm.lo, prm.hi, r.lo, r.hi);
    }
}

/* ------------------------------------------------------------------------ */
/* mul                                                                      */
/* ------------------------------------------------------------------------ */

static long long g_mul_n, g_mul_bad, g_mul_oracle_bad, g_mul_float_vs_double_sets, g_mul_match_double_only;
static double g_mul_maxerr;

static void run_mul(const pset *ps, quant_dtype dt) {
    quant_params pa = mkp(ps->s1, ps->z1, dt), pb = mkp(ps->s2, ps->z2, dt), po = mkp(ps->so, ps->zo, dt);
    quant_mul_params prm;
    r_mul r, rd;
    quant_status s;
    long long bad_here = 0, bad_double = 0;
    int shown = 0;
    memset(&prm, 0, sizeof prm);
    s = quant_mul_prepare(&pa, &pb, &po, ps->act, &prm);
    CHECKF(s == QUANT_OK, "mul_prepare %s s1 %g s2 %g so %g: status %d", dtn(dt), ps->s1, ps->s2, ps->so, (int)s);
    if (s != QUANT_OK) return;
    r_mul_prepare(&pa, &pb, &po, ps->act, 1, &r);
    r_mul_prepare(&pa, &pb, &po, ps->act, 0, &rd);
    if (r.m != rd.m || r.s != rd.s) g_mul_float_vs_double_sets++;
    memset(g_out, 0xA5, sizeof g_out);
    s = quant_mul(g_a, g_b, 65536, dt, &prm, g_out);
    CHECKF(s == QUANT_OK, "quant_mul status %d", (int)s);
    for (int k = 65536; k < 65536 + 64; k++) CHECKF(g_out[k] == 0xA5, "quant_mul wrote past n at %d", k);
    for (size_t i = 0; i < 65536; i++) {
        int32_t qa = getq(g_a, dt, i), qb = getq(g_b, dt, i), got = getq(g_out, dt, i);
        int32_t want = r_mul1(&r, qa, qb), want_d = r_mul1(&rd, qa, qb);
        double exact, eq, err;
        g_mul_n++;
        if (got != want_d) bad_double++;
        if (got != want) {
            g_mul_bad++; bad_here++;
            if (shown++ < 3)
                CHECKF(got == want, "mul %s s1 %.9g z1 %d s2 %.9g z2 %d so %.9g zo %d act %d (M %d shift %d): q1 %d q2 %d: TFLite %d, quant %d (double-real form %d)",
                       dtn(dt), ps->s1, ps->z1, ps->s2, ps->z2, ps->so, ps->zo, (int)ps->act, r.m, r.s, qa, qb, want, got, want_d);
            else qt_cur_fail++;
        }
        exact = (double)ps->s1 * (qa - ps->z1) * (double)ps->s2 * (qb - ps->z2);
        eq = ps->zo + exact / ps->so;
        if (eq < r.lo) eq = r.lo;
        if (eq > r.hi) eq = r.hi;
        err = fabs(got - eq);
        if (err > g_mul_maxerr) g_mul_maxerr = err;
        if (err > 1.0) {
            g_mul_oracle_bad++;
            CHECKF(err <= 1.0, "mul %s oracle: q1 %d q2 %d exact %.6f (in steps, clamped) got %d", dtn(dt), qa, qb, eq, got);
        }
    }
    if (bad_here && !bad_double) {
        g_mul_match_double_only++;
        printf("  mul %s s1 %.9g s2 %.9g so %.9g: quant matches real = s1*s2/so computed in double (M %d shift %d), not TFLite's float product (M %d shift %d)\n",
               dtn(dt), ps->s1, ps->s2, ps->so, rd.m, rd.s, r.m, r.s);
    }
}

static const pset mul_sets_i8[] = {
    { 0.1f, 0, 0.1f, 0, 0.1f, 0, QUANT_ACT_NONE },
    { 0.02f, -10, 0.05f, 20, 0.07f, -5, QUANT_ACT_NONE },
    { 0.0078125f, -128, 0.00390625f, 127, 0.0001f, 0, QUANT_ACT_RELU },
    { 0.5f, 3, 0.0005f, -7, 0.5f, 1, QUANT_ACT_RELU6 },
    { 1.0f, 0, 1.0f, 0, 0.1f, 0, QUANT_ACT_NONE },          /* real 10: left shift */
    { 2.0f, 0, 3.0f, 0, 0.01f, 0, QUANT_ACT_NONE },         /* real 600 */
    { 0.05f, 127, 0.05f, -128, 0.1f, 127, QUANT_ACT_NONE },
    { 0.001f, 0, 0.001f, 0, 10.0f, 0, QUANT_ACT_NONE },      /* real 1e-7 */
    { 0.023529412f, -128, 0.023529412f, -128, 0.047058824f, -128, QUANT_ACT_RELU6 },
    { 0.1f, 0, 0.2f, 0, 0.3f, 0, QUANT_ACT_RELU },
};
static const pset mul_sets_u8[] = {
    { 0.1f, 128, 0.1f, 128, 0.1f, 128, QUANT_ACT_NONE },
    { 0.02f, 118, 0.05f, 148, 0.07f, 123, QUANT_ACT_NONE },
    { 1.0f, 128, 1.0f, 128, 0.1f, 128, QUANT_ACT_NONE },
    { 0.05f, 255, 0.05f, 0, 0.1f, 255, QUANT_ACT_RELU },
    { 0.023529412f, 0, 0.023529412f, 0, 0.047058824f, 0, QUANT_ACT_RELU6 },
    { 0.001f, 128, 0.001f, 128, 10.0f, 128, QUANT_ACT_NONE },
};

static void test_mul(void) {
    size_t i;
    int k, d;
    g_mul_n = g_mul_bad = g_mul_oracle_bad = g_mul_float_vs_double_sets = g_mul_match_double_only = 0;
    g_mul_maxerr = 0;
    for (i = 0; i < sizeof mul_sets_i8 / sizeof mul_sets_i8[0]; i++) run_mul(&mul_sets_i8[i], QUANT_I8);
    for (i = 0; i < sizeof mul_sets_u8 / sizeof mul_sets_u8[0]; i++) run_mul(&mul_sets_u8[i], QUANT_U8);
    for (d = 0; d < 2; d++)
        for (k = 0; k < 24; k++) {
            pset ps;
            quant_dtype dt = d ? QUANT_U8 : QUANT_I8;
            random_pset(&ps, dt, 1.0, 1.0);
            ps.so = (float)(ps.s1 * ps.s2 * exp(log(1e-2) + (log(3e4) - log(1e-2)) * qt_uniform()));
            run_mul(&ps, dt);
        }
    /* parameter sets where TFLite's float s1*s2/so gives another multiplier
     * than the same real computed in double, and that changes an output:
     * zero points at the bottom of the range so every product p = v1 * v2
     * with v1, v2 in [0, 255] is an input pair */
    {
        int found = 0, tries = 0;
        while (found < 6 && tries < 200000) {
            pset ps;
            quant_params pa, pb, po;
            r_mul r, rd;
            quant_dtype dt = (found & 1) ? QUANT_U8 : QUANT_I8;
            int32_t z = dt == QUANT_I8 ? -128 : 0, p, lim, hit = 0;
            tries++;
            ps.s1 = rand_logf(3e-4, 7.0); ps.s2 = rand_logf(3e-4, 7.0);
            ps.so = (float)((double)ps.s1 * ps.s2 * exp(-5.0 + 6.0 * qt_uniform()));
            ps.z1 = ps.z2 = ps.zo = z; ps.act = QUANT_ACT_NONE;
            pa = mkp(ps.s1, z, dt); pb = mkp(ps.s2, z, dt); po = mkp(ps.so, z, dt);
            r_mul_prepare(&pa, &pb, &po, ps.act, 1, &r);
            r_mul_prepare(&pa, &pb, &po, ps.act, 0, &rd);
            if (r.m == rd.m && r.s == rd.s) continue;
            lim = (int32_t)(255.0 * ps.so / ((double)ps.s1 * ps.s2));
            if (lim > 65025) lim = 65025;
            for (p = 1; p <= lim && !hit; p++) {
                int32_t d;
                if (r_mbqm(p, r.m, r.s) == r_mbqm(p, rd.m, rd.s)) continue;
                for (d = 1; d <= 255 && !hit; d++) hit = p % d == 0 && p / d <= 255;
            }
            if (!hit) continue;
            found++;
            run_mul(&ps, dt);
        }
        printf("mul: %d param sets (of %d random ones searched) whose outputs depend on computing s1*s2/so in float (TFLite) or double\n",
               found, tries);
    }
    {
        int found = 0, tries = 0;
        while (found < 6 && tries < 200000) {
            pset ps;
            quant_params pa, pb, po;
            r_mul r, rd;
            quant_dtype dt = (found & 1) ? QUANT_U8 : QUANT_I8;
            tries++;
            random_pset(&ps, dt, 1.0, 1.0);
            ps.so = rand_logf(1e-3, 1.0) * ps.s1 * ps.s2 * 100.0f;
            pa = mkp(ps.s1, ps.z1, dt); pb = mkp(ps.s2, ps.z2, dt); po = mkp(ps.so, ps.zo, dt);
            r_mul_prepare(&pa, &pb, &po, ps.act, 1, &r);
            r_mul_prepare(&pa, &pb, &po, ps.act, 0, &rd);
            if (r.m == rd.m && r.s == rd.s) continue;
            found++;
            run_mul(&ps, dt);
        }
    }
    printf("mul: %lld input pairs (all 256x256 for %d param sets; in %lld of them TFLite's float real differs from the double real), %lld mismatches with TFLite, %lld beyond one step of the float oracle (max error %.4f steps)\n",
           g_mul_n, (int)(g_mul_n / 65536), g_mul_float_vs_double_sets, g_mul_bad, g_mul_oracle_bad, g_mul_maxerr);
    if (g_mul_match_double_only)
        printf("mul: %lld param sets match the double-precision real but not TFLite's float product\n", g_mul_match_double_only);
}

static void test_mul_params_fields(void) {
    int k;
    for (k = 0; k < 200; k++) {
        pset ps;
        quant_dtype dt = (k & 1) ? QUANT_U8 : QUANT_I8;
        quant_params pa, pb, po;
        quant_mul_params prm;
        r_mul r;
        random_pset(&ps, dt, 1.0, 1.0);
        ps.so = (float)(ps.s1 * ps.s2 * exp(log(1e-2) + (log(3e4) - log(1e-2)) * qt_uniform()));
        pa = mkp(ps.s1, ps.z1, dt); pb = mkp(ps.s2, ps.z2, dt); po = mkp(ps.so, ps.zo, dt);
        if (quant_mul_prepare(&pa, &pb, &po, ps.act, &prm) != QUANT_OK) { CHECK(0); continue; }
        r_mul_prepare(&pa, &pb, &po, ps.act, 1, &r);
        CHECKF(prm.in1_offset == r.o1 && prm.in2_offset == r.o2 && prm.out_offset == r.oo &&
               prm.out_mult == r.m && prm.out_shift == r.s && prm.lo == r.lo && prm.hi == r.hi,
               "mul params: offsets %d %d %d mult %d shift %d [%d,%d]; TFLite %d %d %d %d %d [%d,%d]",
               prm.in1_offset, prm.in2_offset, prm.out_offset, prm.out_mult, prm.out_shift, prm.lo, prm.hi,
               r.o1, r.o2, r.oo, r.m, r.s, r.lo, r.hi);
    }
}

/* ------------------------------------------------------------------------ */
/* requantize between params                                                */
/* ------------------------------------------------------------------------ */

static void test_requantize_params(void) {
    long long n = 0, bad = 0, obad = 0;
    double maxerr = 0;
    int t, di, dout;
    uint8_t in[256], out[256 + 16];
    for (int i = 0; i < 256; i++) in[i] = (uint8_t)i;
    for (t = 0; t < 400; t++)
        for (di = 0; di < 2; di++)
            for (dout = 0; dout < 2; dout++) {
                quant_dtype idt = di ? QUANT_U8 : QUANT_I8, odt = dout ? QUANT_U8 : QUANT_I8;
                float si = rand_logf(1e-4, 10.0);
                float so = t < 200 ? si * rand_logf(0.05, 20.0) : si * rand_logf(1e-6, 1e6);
                quant_params pin, pout;
                int32_t M, sh;
                quant_status s;
                int shown = 0;
                if (t == 0) so = si;                   /* identity rescale */
                if (t == 1) so = si * 2.0f;
                if (t == 2) so = si * 0.5f;
                pin = mkp(si, rand_zp(idt), idt);
                pout = mkp(so, rand_zp(odt), odt);
                if (t % 9 == 5) { /* a narrower output range */
                    pout.qmin += 3; pout.qmax -= 5;
                    if (pout.zero_point < pout.qmin) pout.zero_point = pout.qmin;
                    if (pout.zero_point > pout.qmax) pout.zero_point = pout.qmax;
                }
                r_qm((double)si / (double)so, &M, &sh);
                memset(out, 0xA5, sizeof out);
                s = quant_requantize_params(in, idt, &pin, 256, &pout, odt, out);
                CHECKF(s == QUANT_OK, "requantize_params status %d", (int)s);
                if (s != QUANT_OK) continue;
                for (int k = 256; k < 256 + 16; k++) CHECKF(out[k] == 0xA5, "wrote past n at %d", k);
                for (int i = 0; i < 256; i++) {
                    int32_t q = getq(in, idt, (size_t)i), got = getq(out, odt, (size_t)i);
                    int32_t want = (int32_t)clamp64((int64_t)r_mbqm(q - pin.zero_point, M, sh) + pout.zero_point,
                                                    pout.qmin, pout.qmax);
                    double eq = pout.zero_point + (double)(q - pin.zero_point) * si / so, err;
                    n++;
                    if (got != want) {
                        bad++;
                        if (shown++ < 2)
                            CHECKF(got == want, "requantize %s->%s s_in %.9g zp %d s_out %.9g zp %d [%d,%d] (M %d shift %d): q %d: TFLite %d, quant %d",
                                   dtn(idt), dtn(odt), si, pin.zero_point, so, pout.zero_point, pout.qmin, pout.qmax,
                                   M, sh, q, want, got);
                        else qt_cur_fail++;
                    }
                    if (eq < pout.qmin) eq = pout.qmin;
                    if (eq > pout.qmax) eq = pout.qmax;
                    err = fabs(got - eq);
                    if (err > maxerr) maxerr = err;
                    if (err > 1.0) { obad++; CHECKF(err <= 1.0, "requantize oracle q %d exact %.6f got %d", q, eq, got); }
                }
            }
    printf("requantize_params: %lld inputs (256 each, %d param sets x 4 dtype pairs), %lld mismatches with TFLite, %lld beyond one step of the oracle (max %.4f)\n",
           n, 400, bad, obad, maxerr);
}

/* ------------------------------------------------------------------------ */
/* lookup tables                                                            */
/* ------------------------------------------------------------------------ */

static float f_ident(float x, const void *ctx) { (void)ctx; return x; }
static float f_square(float x, const void *ctx) { (void)ctx; return x * x; }
static float f_sigmoid(float x, const void *ctx) { (void)ctx; return 1.0f / (1.0f + expf(-x)); }
static float f_tanh(float x, const void *ctx) { (void)ctx; return tanhf(x); }
static float f_affine(float x, const void *ctx) { const float *c = (const float *)ctx; return c[0] * x + c[1]; }
static float f_nan(float x, const void *ctx) { (void)ctx; return x > 0 ? NAN : x; }
static float f_inf(float x, const void *ctx) { (void)ctx; return x > 0 ? INFINITY : x < 0 ? -INFINITY : 0.0f; }
static float f_huge(float x, const void *ctx) { (void)ctx; return x * 1e30f; }

/* TFLite LUTPopulate: inverse = 1 / s_o; round_half_away(f(s_i * (q - zp_i)) * inverse) + zp_o,
 * clamped to out's [qmin, qmax] (quant_params: "the integer range the values are
 * clamped to"; TFLite's params always span the type's range).
 * by_division: the formula as written in quant.h's comment, f(...) / s_o. */
static int32_t r_lut_entry(const quant_params *pi, const quant_params *po, int32_t q,
                           quant_unary_fn f, const void *ctx, int by_division);
/* the same clamped to the dtype's full range instead of out's [qmin, qmax] */
static int32_t r_lut_entry_dtclamp(const quant_params *pi, const quant_params *po, quant_dtype dt, int32_t q,
                                   quant_unary_fn f, const void *ctx) {
    quant_params wide = *po;
    wide.qmin = dt == QUANT_I8 ? -128 : 0; wide.qmax = dt == QUANT_I8 ? 127 : 255;
    return r_lut_entry(pi, &wide, q, f, ctx, 0);
}
static int32_t r_lut_entry(const quant_params *pi, const quant_params *po, int32_t q,
                           quant_unary_fn f, const void *ctx, int by_division) {
    const float inverse = 1.0f / po->scale;
    float deq = pi->scale * (float)(q - pi->zero_point);
    float tr = f(deq, ctx);
    float res = by_division ? roundf(tr / po->scale) : roundf(tr * inverse);
    double v;
    if (res != res) return (int32_t)clamp64(po->zero_point, po->qmin, po->qmax);  /* NaN -> zp */
    v = (double)res + (double)po->zero_point;
    if (v < po->qmin) return po->qmin;
    if (v > po->qmax) return po->qmax;
    return (int32_t)v;
}

static long long g_lut_n, g_lut_bad, g_lut_bad_dtclamp, g_lut_div_differs, g_lut_impl_is_div;

static void run_lut(const quant_params *pi, const quant_params *po, quant_dtype dt,
                    quant_unary_fn f, const void *ctx, const char *fname) {
    uint8_t lut[256];
    quant_status s;
    int shown = 0;
    memset(lut, 0xA5, sizeof lut);
    s = quant_lut_build(pi, po, dt, f, ctx, lut);
    CHECKF(s == QUANT_OK, "lut_build %s %s status %d", fname, dtn(dt), (int)s);
    if (s != QUANT_OK) return;
    for (int v = 0; v < 256; v++) {
        int32_t q = dt == QUANT_I8 ? v - 128 : v;
        uint8_t idx = (uint8_t)(q & 0xff);
        int32_t got = dt == QUANT_I8 ? (int32_t)(int8_t)lut[idx] : (int32_t)lut[idx];
        int32_t want = r_lut_entry(pi, po, q, f, ctx, 0);
        int32_t want_div = r_lut_entry(pi, po, q, f, ctx, 1);
        g_lut_n++;
        if (want != want_div) {
            g_lut_div_differs++;
            if (got == want_div) g_lut_impl_is_div++;
            printf("  LUT %s %s s_i %.9g zp_i %d s_o %.9g zp_o %d q %d: TFLite (x * (1/s_o)) %d, header formula (x / s_o) %d, quant %d\n",
                   fname, dtn(dt), pi->scale, pi->zero_point, po->scale, po->zero_point, q, want, want_div, got);
        }
        if (got != want) {
            int dtclamp = got == r_lut_entry_dtclamp(pi, po, dt, q, f, ctx);
            g_lut_bad++;
            g_lut_bad_dtclamp += dtclamp;
            if (shown++ < 3)
                CHECKF(got == want, "LUT %s %s s_i %.9g zp_i %d s_o %.9g zp_o %d out range [%d,%d]: q %d: TFLite-formula clamped to out's [qmin,qmax] %d, quant %d%s",
                       fname, dtn(dt), pi->scale, pi->zero_point, po->scale, po->zero_point, po->qmin, po->qmax,
                       q, want, got, dtclamp ? " (= clamped to the dtype's range instead)" : "");
            else qt_cur_fail++;
        }
    }
    /* quant_lut_apply maps every byte through the table */
    {
        uint8_t out[256 + 8];
        memset(out, 0x5A, sizeof out);
        quant_lut_apply(lut, g_a, 256, out);
        for (int v = 0; v < 256; v++) CHECKF(out[v] == lut[v], "lut_apply[%d] = %d, lut %d", v, out[v], lut[v]);
        for (int v = 256; v < 264; v++) CHECKF(out[v] == 0x5A, "lut_apply wrote past n");
    }
}

static void test_lut(void) {
    static const struct { quant_unary_fn f; const char *name; } fns[] = {
        { f_ident, "identity" }, { f_square, "square" }, { f_sigmoid, "sigmoid(test)" }, { f_tanh, "tanh(test)" },
        { quant_fn_sigmoid, "quant_fn_sigmoid" }, { quant_fn_tanh, "quant_fn_tanh" },
        { quant_fn_exp, "quant_fn_exp" }, { quant_fn_gelu, "quant_fn_gelu" },
    };
    int d, k;
    size_t j;
    g_lut_n = g_lut_bad = g_lut_bad_dtclamp = g_lut_div_differs = g_lut_impl_is_div = 0;
    for (d = 0; d < 2; d++) {
        quant_dtype dt = d ? QUANT_U8 : QUANT_I8;
        /* exact ties: s_i / s_o = 1/2 with identity: round half away matters */
        {
            quant_params pi = mkp(0.5f, dt == QUANT_I8 ? 0 : 128, dt), po = mkp(1.0f, dt == QUANT_I8 ? 3 : 120, dt);
            run_lut(&pi, &po, dt, f_ident, NULL, "identity(ties)");
            pi.scale = 0.25f; po.scale = 0.5f;
            run_lut(&pi, &po, dt, f_ident, NULL, "identity(ties)");
        }
        for (k = 0; k < 40; k++) {
            quant_params pi = mkp(rand_logf(0.005, 0.2), rand_zp(dt), dt);
            for (j = 0; j < sizeof fns / sizeof fns[0]; j++) {
                /* output params that cover the function's range on this input */
                quant_params po = mkp(rand_logf(1.0 / 512, 1.0 / 16), rand_zp(dt), dt);
                if (k % 5 == 3) { po.qmin += 10; po.qmax -= 7; po.zero_point = (po.qmin + po.qmax) / 2; }
                run_lut(&pi, &po, dt, fns[j].f, NULL, fns[j].name);
            }
            {
                float c[2];
                quant_params po = mkp(rand_logf(0.001, 0.5), rand_zp(dt), dt);
                c[0] = (float)(qt_uniform() * 4 - 2); c[1] = (float)(qt_uniform() - 0.5);
                run_lut(&pi, &po, dt, f_affine, c, "affine(ctx)");
            }
        }
        /* search for parameters where x * (1/s_o) and x / s_o round differently */
        for (k = 0; k < 3000 && g_lut_div_differs < 2 + 2 * (long long)d; k++) {
            quant_params pi = mkp(rand_logf(0.001, 1.0), rand_zp(dt), dt);
            quant_params po = mkp(rand_logf(0.001, 1.0), rand_zp(dt), dt);
            int differs = 0;
            for (int v = 0; v < 256 && !differs; v++) {
                int32_t q = dt == QUANT_I8 ? v - 128 : v;
                differs = r_lut_entry(&pi, &po, q, f_ident, NULL, 0) != r_lut_entry(&pi, &po, q, f_ident, NULL, 1);
            }
            if (differs) run_lut(&pi, &po, dt, f_ident, NULL, "identity(search)");
        }
    }
    printf("LUT: %lld entries, %lld mismatches with TFLite LUTPopulate clamped to out's [qmin, qmax] (%lld of them clamped to the dtype's range instead); %lld entries where the header's f/s_o differs from TFLite's f*(1/s_o) (quant followed f/s_o in %lld)\n",
           g_lut_n, g_lut_bad, g_lut_bad_dtclamp, g_lut_div_differs, g_lut_impl_is_div);
}

/* NaN / Inf / huge transform outputs: NaN -> zero point, +-Inf and huge saturate. */
static void test_lut_nonfinite(void) {
    int d;
    for (d = 0; d < 2; d++) {
        quant_dtype dt = d ? QUANT_U8 : QUANT_I8;
        quant_params pi = mkp(0.05f, dt == QUANT_I8 ? 0 : 128, dt), po = mkp(0.1f, dt == QUANT_I8 ? -3 : 125, dt);
        uint8_t lut[256];
        const struct { quant_unary_fn f; const char *n; } fs[] = { { f_nan, "nan" }, { f_inf, "inf" }, { f_huge, "huge" } };
        for (size_t j = 0; j < 3; j++) {
            quant_status s;
            memset(lut, 0xA5, sizeof lut);
            s = quant_lut_build(&pi, &po, dt, fs[j].f, NULL, lut);
            CHECKF(s == QUANT_OK, "lut_build(%s) status %d", fs[j].n, (int)s);
            if (s != QUANT_OK) continue;
            for (int v = 0; v < 256; v++) {
                int32_t q = dt == QUANT_I8 ? v - 128 : v;
                int32_t got = dt == QUANT_I8 ? (int32_t)(int8_t)lut[q & 0xff] : (int32_t)lut[q & 0xff];
                int32_t want = r_lut_entry(&pi, &po, q, fs[j].f, NULL, 0);
                CHECKF(got == want, "LUT %s %s q %d: want %d got %d", fs[j].n, dtn(dt), q, want, got);
            }
        }
    }
}

/* the ready-made functions against double precision */
static void test_unary_fns(void) {
    double maxrel[4] = { 0, 0, 0, 0 };
    const char *names[4] = { "sigmoid", "tanh", "exp", "gelu" };
    for (int i = 0; i < 400000; i++) {
        float x = (float)(qt_uniform() * 60.0 - 30.0);
        if (i % 4 == 1) x = (float)(qt_uniform() * 8.0 - 4.0);
        if (i % 4 == 2) x = (float)(qt_normal() * 1e-3);
        double xd = x;
        double ref[4], got[4];
        ref[0] = 1.0 / (1.0 + exp(-xd)); got[0] = quant_fn_sigmoid(x, NULL);
        ref[1] = tanh(xd);                got[1] = quant_fn_tanh(x, NULL);
        ref[2] = exp(xd);                 got[2] = quant_fn_exp(x, NULL);
        ref[3] = 0.5 * xd * erfc(-xd / sqrt(2.0)); got[3] = quant_fn_gelu(x, NULL);
        for (int k = 0; k < 4; k++) {
            double err = fabs(got[k] - ref[k]);
            double tol = k == 3 ? 1e-6 * fabs(ref[k]) + 2e-7 * (fabs(xd) + 1.0) : 4e-7 * fabs(ref[k]) + (k == 2 ? 1e-44 : 1e-9);
            double rel = err / (fabs(ref[k]) + 1e-30);
            if (rel > maxrel[k] && fabs(ref[k]) > 1e-6) maxrel[k] = rel;
            CHECKF(err <= tol, "quant_fn_%s(%.9g) = %.9g, double %.9g", names[k], (double)x, got[k], ref[k]);
        }
    }
    printf("quant_fn_*: max relative error vs double where |f| > 1e-6: sigmoid %.3g tanh %.3g exp %.3g gelu %.3g\n",
           maxrel[0], maxrel[1], maxrel[2], maxrel[3]);
    printf("quant_fn_gelu tail: gelu(-8) = %g (exact %g), gelu(-10) = %g (exact %g)\n",
           (double)quant_fn_gelu(-8.0f, NULL), 0.5 * -8.0 * erfc(8.0 / sqrt(2.0)),
           (double)quant_fn_gelu(-10.0f, NULL), 0.5 * -10.0 * erfc(10.0 / sqrt(2.0)));
    CHECK(quant_fn_sigmoid(INFINITY, NULL) == 1.0f && quant_fn_sigmoid(-INFINITY, NULL) == 0.0f);
    CHECK(quant_fn_tanh(INFINITY, NULL) == 1.0f && quant_fn_tanh(-INFINITY, NULL) == -1.0f);
    CHECK(quant_fn_exp(INFINITY, NULL) == INFINITY && quant_fn_exp(-INFINITY, NULL) == 0.0f);
    CHECK(quant_fn_gelu(INFINITY, NULL) == INFINITY);
    CHECK(isnan(quant_fn_sigmoid(NAN, NULL)) && isnan(quant_fn_tanh(NAN, NULL)) &&
          isnan(quant_fn_exp(NAN, NULL)) && isnan(quant_fn_gelu(NAN, NULL)));
    printf("quant_fn_gelu(-Inf) = %g (limit 0)\n", (double)quant_fn_gelu(-INFINITY, NULL));
}

/* ------------------------------------------------------------------------ */
/* activation ranges                                                         */
/* ------------------------------------------------------------------------ */

static void test_activation_range(void) {
    long long n = 0, bad = 0;
    for (int k = 0; k < 20000; k++) {
        quant_dtype dt = (k & 1) ? QUANT_U8 : QUANT_I8;
        quant_params o = mkp(rand_logf(1e-4, 1.0), rand_zp(dt), dt);
        quant_activation act = (quant_activation)(k % 4);
        float alo = (float)(-qt_uniform() * 10.0), ahi = (float)(qt_uniform() * 10.0);
        int32_t lo = 777, hi = 777, elo, ehi;
        quant_status s;
        if (k % 11 == 0) { o.qmin += 5; o.qmax -= 9; if (o.zero_point < o.qmin) o.zero_point = o.qmin; if (o.zero_point > o.qmax) o.zero_point = o.qmax; }
        if (k % 13 == 0) { /* exact ties of a / scale */
            o.scale = 0.25f; alo = -0.375f * (float)(1 + qt_rand32() % 40); ahi = 0.125f * (float)(1 + 2 * (qt_rand32() % 40));
        }
        if (k % 17 == 0) o.scale = 1e-9f;            /* 6 / scale beyond int32 */
        if (k % 19 == 0) { alo = -1e30f; ahi = 1e30f; } /* RANGE bounds beyond int32 */
        if (k % 23 == 0) { alo = 0.0f; ahi = 0.0f; }
        r_act_range(act, alo, ahi, &o, &elo, &ehi);
        s = quant_activation_range(act, alo, ahi, &o, &lo, &hi);
        n++;
        if (s != QUANT_OK || lo != elo || hi != ehi) {
            bad++;
            CHECKF(s == QUANT_OK && lo == elo && hi == ehi,
                   "activation_range act %d [%.9g, %.9g] scale %.9g zp %d [%d,%d]: status %d [%d, %d], TFLite [%d, %d]",
                   (int)act, alo, ahi, o.scale, o.zero_point, o.qmin, o.qmax, (int)s, lo, hi, elo, ehi);
        }
    }
    printf("activation_range: %lld cases, %lld mismatches with CalculateActivationRangeQuantized\n", n, bad);
    /* RANGE entirely outside what the output can represent: report what happens */
    {
        quant_params o = mkp(0.01f, 0, QUANT_I8);
        int32_t lo = 777, hi = 777;
        quant_status s = quant_activation_range(QUANT_ACT_RANGE, 100.0f, 200.0f, &o, &lo, &hi);
        printf("activation_range RANGE [100, 200] on an int8 output covering [-1.28, 1.27]: status %d, [%d, %d]\n", (int)s, lo, hi);
        CHECKF(s != QUANT_OK || lo <= hi, "RANGE outside the output range returned OK with lo %d > hi %d", lo, hi);
    }
}

static void test_activation_range_errors(void) {
    quant_params o = mkp(0.1f, 0, QUANT_I8);
    int32_t lo = 777, hi = 888;
    quant_status s;
    s = quant_activation_range(QUANT_ACT_RANGE, 1.0f, -1.0f, &o, &lo, &hi);
    CHECKF(s == QUANT_EINVAL && lo == 777 && hi == 888, "RANGE with lo > hi: status %d [%d, %d]", (int)s, lo, hi);
    s = quant_activation_range(QUANT_ACT_RANGE, NAN, 1.0f, &o, &lo, &hi);
    CHECKF(s == QUANT_EINVAL && lo == 777 && hi == 888, "RANGE with NaN: status %d [%d, %d]", (int)s, lo, hi);
    s = quant_activation_range(QUANT_ACT_RANGE, -1.0f, NAN, &o, &lo, &hi);
    CHECKF(s == QUANT_EINVAL && lo == 777 && hi == 888, "RANGE with NaN: status %d [%d, %d]", (int)s, lo, hi);
    s = quant_activation_range((quant_activation)9, 0, 0, &o, &lo, &hi);
    CHECKF(s == QUANT_EINVAL && lo == 777 && hi == 888, "bad activation: status %d [%d, %d]", (int)s, lo, hi);
    s = quant_activation_range(QUANT_ACT_RELU, 0, 0, NULL, &lo, &hi);
    CHECKF(s == QUANT_EINVAL && lo == 777 && hi == 888, "NULL params: status %d", (int)s);
    s = quant_activation_range(QUANT_ACT_RELU, 0, 0, &o, NULL, &hi);
    CHECKF(s == QUANT_EINVAL && hi == 888, "NULL lo: status %d", (int)s);
    s = quant_activation_range(QUANT_ACT_RELU, 0, 0, &o, &lo, NULL);
    CHECKF(s == QUANT_EINVAL && lo == 777, "NULL hi: status %d", (int)s);
    o.scale = 0.0f;
    s = quant_activation_range(QUANT_ACT_RELU, 0, 0, &o, &lo, &hi);
    CHECKF(s != QUANT_OK && lo == 777 && hi == 888, "scale 0: status %d", (int)s);
}

/* ------------------------------------------------------------------------ */
/* bad input                                                                */
/* ------------------------------------------------------------------------ */

static int untouched(const uint8_t *p, size_t n, uint8_t v) {
    for (size_t i = 0; i < n; i++) if (p[i] != v) return 0;
    return 1;
}

static void test_bad_input(void) {
    quant_params a = mkp(0.1f, 0, QUANT_I8), b = mkp(0.2f, 1, QUANT_I8), o = mkp(0.3f, -2, QUANT_I8);
    quant_params bads[7];
    const char *badn[7] = { "scale 0", "scale -1", "scale NaN", "scale Inf", "scale subnormal", "qmin >= qmax", "zp outside [qmin, qmax]" };
    quant_add_params ap, ap0;
    quant_mul_params mp, mp0;
    uint8_t in1[16], in2[16], out[16];
    uint8_t lut[256];
    quant_status s;
    int i;
    for (i = 0; i < 7; i++) bads[i] = a;
    bads[0].scale = 0.0f; bads[1].scale = -1.0f; bads[2].scale = NAN; bads[3].scale = INFINITY;
    bads[4].scale = 1e-40f; bads[5].qmin = 127; bads[6].zero_point = 200;
    memset(in1, 1, sizeof in1); memset(in2, 2, sizeof in2);

    /* prepare: NULLs, bad params, bad activation */
    memset(&ap0, 0x5A, sizeof ap0); memset(&mp0, 0x5A, sizeof mp0);
#define PREP_FAILS(call, what) do { ap = ap0; mp = mp0; s = (call); \
        CHECKF(s != QUANT_OK && !memcmp(&ap, &ap0, sizeof ap) && !memcmp(&mp, &mp0, sizeof mp), \
               "%s: status %d (%s), params %s", what, (int)s, quant_status_str(s), \
               (!memcmp(&ap, &ap0, sizeof ap) && !memcmp(&mp, &mp0, sizeof mp)) ? "untouched" : "WRITTEN"); } while (0)
    PREP_FAILS(quant_add_prepare(NULL, &b, &o, QUANT_ACT_NONE, &ap), "add_prepare(a NULL)");
    PREP_FAILS(quant_add_prepare(&a, NULL, &o, QUANT_ACT_NONE, &ap), "add_prepare(b NULL)");
    PREP_FAILS(quant_add_prepare(&a, &b, NULL, QUANT_ACT_NONE, &ap), "add_prepare(out NULL)");
    PREP_FAILS(quant_add_prepare(&a, &b, &o, QUANT_ACT_NONE, NULL), "add_prepare(prm NULL)");
    PREP_FAILS(quant_add_prepare(&a, &b, &o, (quant_activation)7, &ap), "add_prepare(activation 7)");
    PREP_FAILS(quant_mul_prepare(NULL, &b, &o, QUANT_ACT_NONE, &mp), "mul_prepare(a NULL)");
    PREP_FAILS(quant_mul_prepare(&a, NULL, &o, QUANT_ACT_NONE, &mp), "mul_prepare(b NULL)");
    PREP_FAILS(quant_mul_prepare(&a, &b, NULL, QUANT_ACT_NONE, &mp), "mul_prepare(out NULL)");
    PREP_FAILS(quant_mul_prepare(&a, &b, &o, QUANT_ACT_NONE, NULL), "mul_prepare(prm NULL)");
    PREP_FAILS(quant_mul_prepare(&a, &b, &o, (quant_activation)7, &mp), "mul_prepare(activation 7)");
    for (i = 0; i < 7; i++) {
        char what[96];
        snprintf(what, sizeof what, "add_prepare(a: %s)", badn[i]); PREP_FAILS(quant_add_prepare(&bads[i], &b, &o, QUANT_ACT_NONE, &ap), what);
        snprintf(what, sizeof what, "add_prepare(b: %s)", badn[i]); PREP_FAILS(quant_add_prepare(&a, &bads[i], &o, QUANT_ACT_NONE, &ap), what);
        snprintf(what, sizeof what, "add_prepare(out: %s)", badn[i]); PREP_FAILS(quant_add_prepare(&a, &b, &bads[i], QUANT_ACT_NONE, &ap), what);
        snprintf(what, sizeof what, "mul_prepare(a: %s)", badn[i]); PREP_FAILS(quant_mul_prepare(&bads[i], &b, &o, QUANT_ACT_NONE, &mp), what);
        snprintf(what, sizeof what, "mul_prepare(b: %s)", badn[i]); PREP_FAILS(quant_mul_prepare(&a, &bads[i], &o, QUANT_ACT_NONE, &mp), what);
        snprintf(what, sizeof what, "mul_prepare(out: %s)", badn[i]); PREP_FAILS(quant_mul_prepare(&a, &b, &bads[i], QUANT_ACT_NONE, &mp), what);
    }
#undef PREP_FAILS
    {
        /* the scale status: ESCALE per the status table */
        s = quant_add_prepare(&bads[0], &b, &o, QUANT_ACT_NONE, &ap);
        printf("add_prepare with scale 0 -> %d (%s); with qmin >= qmax -> %d\n", (int)s, quant_status_str(s),
               (int)quant_add_prepare(&bads[5], &b, &o, QUANT_ACT_NONE, &ap));
    }
    /* RANGE needs float bounds that the prepare functions do not take */
    ap = ap0;
    s = quant_add_prepare(&a, &b, &o, QUANT_ACT_RANGE, &ap);
    printf("add_prepare(QUANT_ACT_RANGE) -> status %d, [%d, %d]\n", (int)s, s == QUANT_OK ? ap.lo : 0, s == QUANT_OK ? ap.hi : 0);
    mp = mp0;
    s = quant_mul_prepare(&a, &b, &o, QUANT_ACT_RANGE, &mp);
    printf("mul_prepare(QUANT_ACT_RANGE) -> status %d, [%d, %d]\n", (int)s, s == QUANT_OK ? mp.lo : 0, s == QUANT_OK ? mp.hi : 0);
    /* add's output multiplier >= 1 (output scale below 2 max / 2^20): TFLite
     * refuses it (QuantizeMultiplierSmallerThanOneExp) */
    {
        quant_params tiny = mkp(1e-7f, 0, QUANT_I8), big = mkp(1.0f, 0, QUANT_I8);
        ap = ap0;
        s = quant_add_prepare(&big, &big, &tiny, QUANT_ACT_NONE, &ap);
        printf("add_prepare with output multiplier 2/(2^20 * 1e-7) = %.3f >= 1: status %d", 2.0 / (1048576.0 * 1e-7), (int)s);
        if (s == QUANT_OK) printf(" (out_mult %d, out_shift %d)", ap.out_mult, ap.out_shift);
        printf("\n");
        if (s == QUANT_OK) { /* then it must still compute correctly */
            r_add r;
            int8_t x1[3] = { 1, -1, 0 }, x2[3] = { 0, 0, 0 }, y[3];
            r_add_prepare(&big, &big, &tiny, QUANT_ACT_NONE, &r);
            quant_add(x1, x2, 3, QUANT_I8, &ap, y);
            printf("  add(1, 0), add(-1, 0), add(0, 0) with out scale 1e-7: %d %d %d (TFLite-formula with left shift %d %d %d)\n",
                   y[0], y[1], y[2], r_add1(&r, 1, 0), r_add1(&r, -1, 0), r_add1(&r, 0, 0));
            CHECK(y[0] == 127 && y[1] == -128 && y[2] == 0);
        }
    }

    /* kernels: NULLs, bad dtypes, params that do not fit the dtype */
    if (quant_add_prepare(&a, &b, &o, QUANT_ACT_NONE, &ap) != QUANT_OK ||
        quant_mul_prepare(&a, &b, &o, QUANT_ACT_NONE, &mp) != QUANT_OK) { CHECK(0); return; }
#define KERNEL_FAILS(call, what) do { memset(out, 0xA5, sizeof out); s = (call); \
        CHECKF(s == QUANT_EINVAL && untouched(out, sizeof out, 0xA5), "%s: status %d (want EINVAL), output %s", \
               what, (int)s, untouched(out, sizeof out, 0xA5) ? "untouched" : "WRITTEN"); } while (0)
    KERNEL_FAILS(quant_add(NULL, in2, 16, QUANT_I8, &ap, out), "add(a NULL)");
    KERNEL_FAILS(quant_add(in1, NULL, 16, QUANT_I8, &ap, out), "add(b NULL)");
    KERNEL_FAILS(quant_add(in1, in2, 16, QUANT_I8, NULL, out), "add(prm NULL)");
    s = quant_add(in1, in2, 16, QUANT_I8, &ap, NULL);
    CHECKF(s == QUANT_EINVAL, "add(out NULL): status %d", (int)s);
    KERNEL_FAILS(quant_add(in1, in2, 16, QUANT_I16, &ap, out), "add(dt I16)");
    KERNEL_FAILS(quant_add(in1, in2, 16, QUANT_I4, &ap, out), "add(dt I4)");
    KERNEL_FAILS(quant_add(in1, in2, 16, (quant_dtype)42, &ap, out), "add(dt 42)");
    KERNEL_FAILS(quant_mul(NULL, in2, 16, QUANT_I8, &mp, out), "mul(a NULL)");
    KERNEL_FAILS(quant_mul(in1, NULL, 16, QUANT_I8, &mp, out), "mul(b NULL)");
    KERNEL_FAILS(quant_mul(in1, in2, 16, QUANT_I8, NULL, out), "mul(prm NULL)");
    s = quant_mul(in1, in2, 16, QUANT_I8, &mp, NULL);
    CHECKF(s == QUANT_EINVAL, "mul(out NULL): status %d", (int)s);
    KERNEL_FAILS(quant_mul(in1, in2, 16, QUANT_U2, &mp, out), "mul(dt U2)");
    KERNEL_FAILS(quant_mul(in1, in2, 16, (quant_dtype)-1, &mp, out), "mul(dt -1)");
    {
        /* params prepared for uint8 (clamp [0, 255]) used with int8 data */
        quant_params ua = mkp(0.1f, 128, QUANT_U8), uo = mkp(0.1f, 128, QUANT_U8);
        quant_add_params uap; quant_mul_params ump;
        if (quant_add_prepare(&ua, &ua, &uo, QUANT_ACT_NONE, &uap) == QUANT_OK)
            KERNEL_FAILS(quant_add(in1, in2, 16, QUANT_I8, &uap, out), "add(I8 data with params clamping to [0, 255])");
        if (quant_mul_prepare(&ua, &ua, &uo, QUANT_ACT_NONE, &ump) == QUANT_OK)
            KERNEL_FAILS(quant_mul(in1, in2, 16, QUANT_I8, &ump, out), "mul(I8 data with params clamping to [0, 255])");
        /* a hand-made params struct with lo > hi */
        uap = ap; uap.lo = 10; uap.hi = -10;
        KERNEL_FAILS(quant_add(in1, in2, 16, QUANT_I8, &uap, out), "add(prm lo > hi)");
        ump = mp; ump.lo = 10; ump.hi = -10;
        KERNEL_FAILS(quant_mul(in1, in2, 16, QUANT_I8, &ump, out), "mul(prm lo > hi)");
    }
    /* n == 0 is fine and writes nothing */
    memset(out, 0xA5, sizeof out);
    s = quant_add(in1, in2, 0, QUANT_I8, &ap, out);
    CHECKF(s == QUANT_OK && untouched(out, sizeof out, 0xA5), "add(n 0): status %d", (int)s);
    s = quant_mul(in1, in2, 0, QUANT_I8, &mp, out);
    CHECKF(s == QUANT_OK && untouched(out, sizeof out, 0xA5), "mul(n 0): status %d", (int)s);

    /* requantize_params */
    KERNEL_FAILS(quant_requantize_params(NULL, QUANT_I8, &a, 16, &o, QUANT_I8, out), "requantize_params(in NULL)");
    KERNEL_FAILS(quant_requantize_params(in1, QUANT_I8, NULL, 16, &o, QUANT_I8, out), "requantize_params(pin NULL)");
    KERNEL_FAILS(quant_requantize_params(in1, QUANT_I8, &a, 16, NULL, QUANT_I8, out), "requantize_params(pout NULL)");
    s = quant_requantize_params(in1, QUANT_I8, &a, 16, &o, QUANT_I8, NULL);
    CHECKF(s == QUANT_EINVAL, "requantize_params(out NULL): status %d", (int)s);
    KERNEL_FAILS(quant_requantize_params(in1, QUANT_I16, &a, 16, &o, QUANT_I8, out), "requantize_params(in dt I16)");
    KERNEL_FAILS(quant_requantize_params(in1, QUANT_I8, &a, 16, &o, QUANT_I32, out), "requantize_params(out dt I32)");
    KERNEL_FAILS(quant_requantize_params(in1, QUANT_I8, &a, 16, &o, (quant_dtype)42, out), "requantize_params(out dt 42)");
    for (i = 0; i < 7; i++) {
        char what[96];
        memset(out, 0xA5, sizeof out);
        s = quant_requantize_params(in1, QUANT_I8, &bads[i], 16, &o, QUANT_I8, out);
        snprintf(what, sizeof what, "requantize_params(pin: %s)", badn[i]);
        CHECKF(s != QUANT_OK && untouched(out, sizeof out, 0xA5), "%s: status %d", what, (int)s);
        memset(out, 0xA5, sizeof out);
        s = quant_requantize_params(in1, QUANT_I8, &a, 16, &bads[i], QUANT_I8, out);
        snprintf(what, sizeof what, "requantize_params(pout: %s)", badn[i]);
        CHECKF(s != QUANT_OK && untouched(out, sizeof out, 0xA5), "%s: status %d", what, (int)s);
    }
    {
        quant_params uo = mkp(0.1f, 128, QUANT_U8);
        KERNEL_FAILS(quant_requantize_params(in1, QUANT_I8, &a, 16, &uo, QUANT_I8, out),
                     "requantize_params(pout's range [0, 255] into I8)");
        memset(out, 0xA5, sizeof out);
        s = quant_requantize_params(in1, QUANT_U8, &a, 16, &uo, QUANT_U8, out);
        printf("requantize_params with pin's range [-128, 127] and U8 input -> status %d (pin's range is not used)\n", (int)s);
    }
#undef KERNEL_FAILS

    /* lut_build */
#define LUT_FAILS(call, what) do { memset(lut, 0xA5, sizeof lut); s = (call); \
        CHECKF(s != QUANT_OK && untouched(lut, sizeof lut, 0xA5), "%s: status %d, lut %s", what, (int)s, \
               untouched(lut, sizeof lut, 0xA5) ? "untouched" : "WRITTEN"); } while (0)
    LUT_FAILS(quant_lut_build(NULL, &o, QUANT_I8, f_ident, NULL, lut), "lut_build(in NULL)");
    LUT_FAILS(quant_lut_build(&a, NULL, QUANT_I8, f_ident, NULL, lut), "lut_build(out NULL)");
    LUT_FAILS(quant_lut_build(&a, &o, QUANT_I8, NULL, NULL, lut), "lut_build(f NULL)");
    s = quant_lut_build(&a, &o, QUANT_I8, f_ident, NULL, NULL);
    CHECKF(s == QUANT_EINVAL, "lut_build(lut NULL): status %d", (int)s);
    LUT_FAILS(quant_lut_build(&a, &o, QUANT_I16, f_ident, NULL, lut), "lut_build(dt I16)");
    LUT_FAILS(quant_lut_build(&a, &o, (quant_dtype)42, f_ident, NULL, lut), "lut_build(dt 42)");
    for (i = 0; i < 7; i++) {
        char what[96];
        snprintf(what, sizeof what, "lut_build(in: %s)", badn[i]);
        LUT_FAILS(quant_lut_build(&bads[i], &o, QUANT_I8, f_ident, NULL, lut), what);
        snprintf(what, sizeof what, "lut_build(out: %s)", badn[i]);
        LUT_FAILS(quant_lut_build(&a, &bads[i], QUANT_I8, f_ident, NULL, lut), what);
    }
#undef LUT_FAILS
}

int main(void) {
    fill_pairs();
    RUN(test_add);
    RUN(test_add_params_fields);
    RUN(test_mul);
    RUN(test_mul_params_fields);
    RUN(test_requantize_params);
    RUN(test_lut);
    RUN(test_lut_nonfinite);
    RUN(test_unary_fns);
    RUN(test_activation_range);
    RUN(test_activation_range_errors);
    RUN(test_bad_input);
    return qt_summary();
}
