/* tests/ktest_rows.c - the rows kernels of quant_kernels.h against the
 * quant.h reference, bit for bit, on the ISA this file is compiled for:
 * random, NaN/Inf, ties, every axis, strides, odd sizes, bad input. */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include "harness.h"

static float rand_val(int t) {
    double r = qt_uniform();
    if (r < 0.01) return NAN;
    if (r < 0.015) return INFINITY;
    if (r < 0.02) return -INFINITY;
    if (r < 0.1) return (float)((int)(qt_rand32() % 64) - 32) * 0.5f; /* ties */
    return (float)(qt_normal() * pow(10.0, (t % 5) - 2));
}

static void test_quantize_rows(void) {
    int t;
    for (t = 0; t < 300; t++) {
        size_t rows = 1 + qt_rand32() % 5, cols = 1 + qt_rand32() % 150, ldx = cols + qt_rand32() % 4, ldo = cols + qt_rand32() % 3;
        quant_rows_axis axis = (quant_rows_axis)(t % 3);
        quant_dtype dt = (t & 4) ? QUANT_U8 : QUANT_I8;
        int32_t qmin = dt == QUANT_U8 ? 0 : -128, qmax = dt == QUANT_U8 ? 255 : 127;
        float x[5 * 160], sc[160];
        int32_t zp[160];
        uint8_t out[5 * 160], ref[160];
        size_t i, r, c, np = axis == QUANT_PER_TENSOR ? 1 : axis == QUANT_PER_ROW ? rows : cols;
        if (t % 10 == 0) { qmin = dt == QUANT_U8 ? 10 : -100; qmax = dt == QUANT_U8 ? 200 : 90; }
        for (i = 0; i < rows * ldx; i++) x[i] = rand_val(t);
        for (i = 0; i < np; i++) { sc[i] = (float)(0.01 + qt_uniform() * (t % 5 == 4 ? 0.5 : 0.1)); zp[i] = qmin + (int32_t)(qt_rand32() % (uint32_t)(qmax - qmin + 1)); }
        if (t % 7 == 0) sc[0] = 0.5f; /* exact ties */
        memset(out, 0xEE, sizeof out);
        CHECK(quant_rows_quantize(x, rows, cols, ldx, axis, sc, zp, qmin, qmax, dt, out, ldo) == QUANT_OK);
        for (r = 0; r < rows; r++) {
            for (c = 0; c < cols; c++) {
                size_t pi = axis == QUANT_PER_TENSOR ? 0 : axis == QUANT_PER_ROW ? r : c;
                quant_params p = { sc[pi], zp[pi], qmin, qmax };
                CHECK(quant_quantize(x + r * ldx + c, 1, &p, dt, ref + c) == QUANT_OK);
            }
            CHECKF(memcmp(out + r * ldo, ref, cols) == 0, "t=%d axis=%d r=%d cols=%d", t, (int)axis, (int)r, (int)cols);
            for (c = cols; c < ldo && r * ldo + c < sizeof out; c++) CHECK(out[r * ldo + c] == 0xEE); /* gaps untouched */
        }
        /* dequantize back, against quant_dequantize */
        {
            float y[5 * 160], yr[160];
            CHECK(quant_rows_dequantize(out, dt, rows, cols, ldo, axis, sc, zp, y, cols) == QUANT_OK);
            for (r = 0; r < rows; r++) {
                for (c = 0; c < cols; c++) {
                    size_t pi = axis == QUANT_PER_TENSOR ? 0 : axis == QUANT_PER_ROW ? r : c;
                    quant_params p = { sc[pi], zp[pi], dt == QUANT_U8 ? 0 : -128, dt == QUANT_U8 ? 255 : 127 };
                    CHECK(quant_dequantize(out + r * ldo + c, dt, 1, &p, yr + c) == QUANT_OK);
                }
                CHECK(memcmp(y + r * cols, yr, cols * sizeof(float)) == 0);
            }
        }
    }
}

static void test_dynamic(void) {
    int t;
    for (t = 0; t < 300; t++) {
        size_t rows = 1 + qt_rand32() % 4, cols = 1 + qt_rand32() % 200, r;
        quant_scheme sch = (quant_scheme)(t & 1);
        quant_dtype dt = (t & 2) ? QUANT_U8 : QUANT_I8;
        int32_t qmin = dt == QUANT_U8 ? 0 : (t & 4 ? -127 : -128), qmax = dt == QUANT_U8 ? 255 : 127;
        float x[4 * 200], sc[4];
        int32_t zp[4];
        uint8_t out[4 * 200], ref[200];
        size_t i;
        for (i = 0; i < rows * cols; i++) x[i] = rand_val(t);
        if (t % 9 == 0) for (i = 0; i < cols; i++) x[i] = NAN;    /* a row with nothing finite */
        if (t % 11 == 0) for (i = 0; i < cols; i++) x[i] = 2.5f;  /* constant row */
        CHECK(quant_rows_quantize_dynamic(x, rows, cols, cols, sch, qmin, qmax, dt, out, cols, sc, zp) == QUANT_OK);
        for (r = 0; r < rows; r++) {
            float mn, mx;
            quant_params p;
            if (quant_minmax(x + r * cols, cols, &mn, &mx) != QUANT_OK) mn = mx = 0.0f;
            CHECK(quant_params_from_range(mn, mx, qmin, qmax, sch, &p) == QUANT_OK);
            CHECKF(p.scale == sc[r] && p.zero_point == zp[r], "t=%d r=%d", t, (int)r);
            CHECK(quant_quantize(x + r * cols, cols, &p, dt, ref) == QUANT_OK);
            CHECKF(memcmp(out + r * cols, ref, cols) == 0, "t=%d r=%d", t, (int)r);
        }
    }
}

static void test_requantize(void) {
    int t;
    for (t = 0; t < 200; t++) {
        size_t rows = 1 + qt_rand32() % 5, cols = 1 + qt_rand32() % 150, i;
        quant_requant_mode mode = (quant_requant_mode)(t % 3);
        quant_dtype dt = (t & 8) ? QUANT_U8 : QUANT_I8;
        int pc = t & 1;
        int32_t acc[5 * 150], bias[150], zp = dt == QUANT_U8 ? 128 : -3, lo = dt == QUANT_U8 ? 0 : -128, hi = dt == QUANT_U8 ? 255 : 127;
        quant_requant rq[150];
        uint8_t out[5 * 150], ref[5 * 150];
        for (i = 0; i < rows * cols; i++) acc[i] = (t % 13 == 0) ? (int32_t)qt_rand32() : (int32_t)(qt_rand32() % 2000001) - 1000000;
        for (i = 0; i < cols; i++) { bias[i] = (int32_t)(qt_rand32() % 20001) - 10000; quant_requant_from_scale(exp(-3 - 10 * qt_uniform()) * (t % 17 == 0 ? 1e6 : 1), &rq[i]); }
        if (t & 2) lo = zp; /* relu */
        memset(out, 1, sizeof out); memset(ref, 2, sizeof ref);
        CHECK(quant_rows_requantize(acc, rows, cols, (t & 4) ? bias : NULL, rq, pc, mode, zp, lo, hi, dt, out) == QUANT_OK);
        CHECK(quant_requantize(acc, rows, cols, (t & 4) ? bias : NULL, rq, pc, mode, zp, lo, hi, dt, ref) == QUANT_OK);
        CHECKF(memcmp(out, ref, rows * cols) == 0, "t=%d mode=%d", t, (int)mode);
    }
}

/* gemmlowp mode over raw multipliers and every right shift: accumulators of
 * the full int32 range and at its ends, where the rounding formulas differ */
static void test_requantize_gemmlowp_raw(void) {
    int t;
    for (t = 0; t < 400; t++) {
        size_t cols = 64, i;
        int32_t acc[2 * 64];
        quant_requant rq[64];
        uint8_t out[2 * 64], ref[2 * 64];
        for (i = 0; i < 2 * cols; i++) {
            uint32_t u = qt_rand32();
            acc[i] = u % 8 == 0 ? (int32_t)(0x80000000u + qt_rand32() % 4) : u % 8 == 1 ? (int32_t)(0x7fffffffu - qt_rand32() % 4)
                   : (int32_t)qt_rand32() >> (qt_rand32() % 31);
        }
        for (i = 0; i < cols; i++) {
            rq[i].multiplier = i % 9 == 0 ? 0x7fffffff : i % 9 == 1 ? (1 << 30) : (int32_t)(0x40000000u | (qt_rand32() & 0x3fffffff));
            rq[i].shift = -(int32_t)(qt_rand32() % 32);
            rq[i].scale = 0.0f;
        }
        memset(out, 1, sizeof out); memset(ref, 2, sizeof ref);
        CHECK(quant_rows_requantize(acc, 2, cols, NULL, rq, 1, QUANT_RQ_GEMMLOWP, 0, -128, 127, QUANT_I8, out) == QUANT_OK);
        CHECK(quant_requantize(acc, 2, cols, NULL, rq, 1, QUANT_RQ_GEMMLOWP, 0, -128, 127, QUANT_I8, ref) == QUANT_OK);
        CHECKF(memcmp(out, ref, 2 * cols) == 0, "t=%d", t);
    }
}

/* the row loops peel to a 64-byte boundary and use a fast min/max that lets
 * no NaN in and rescans only for infinities: every start offset, rows with
 * NaN but no infinity (the fast path alone), with one infinity at any place,
 * and a dequantize and a quantize large enough for the non-temporal stores
 * (QUANT_STREAM_BYTES), at a misaligned output and stride */
static void test_align_and_stream(void) {
    static float xb[1200 + 16];
    static uint8_t ob[1200 + 64], rb[1200];
    int t;
    for (t = 0; t < 600; t++) {
        size_t off = (size_t)t % 16, n = t < 400 ? 1 + (size_t)(t % 97) : 1 + qt_rand32() % 1200, i;
        float *x = xb + off, sc, mn, mx;
        int32_t zp;
        quant_params p;
        int kind = t % 4; /* 0 finite, 1 NaN, 2 one +inf, 3 one -inf */
        for (i = 0; i < n; i++) x[i] = (float)(qt_normal() * 3.0);
        if (kind == 1) for (i = 0; i < n; i++) if (qt_rand32() % 5 == 0) x[i] = NAN;
        if (kind >= 2) x[qt_rand32() % n] = kind == 2 ? INFINITY : -INFINITY;
        if (t % 50 == 7) x[0] = -1000.0f; /* the extreme in the peeled head */
        if (t % 50 == 8) x[n - 1] = 1000.0f; /* ... or in the tail */
        CHECK(quant_rows_quantize_dynamic(x, 1, n, n, (quant_scheme)(t & 1), -128, 127, QUANT_I8, ob + off, n, &sc, &zp) == QUANT_OK);
        if (quant_minmax(x, n, &mn, &mx) != QUANT_OK) mn = mx = 0.0f;
        CHECK(quant_params_from_range(mn, mx, -128, 127, (quant_scheme)(t & 1), &p) == QUANT_OK);
        CHECKF(p.scale == sc && p.zero_point == zp, "t=%d off=%d n=%d", t, (int)off, (int)n);
        CHECK(quant_quantize(x, n, &p, QUANT_I8, rb) == QUANT_OK);
        CHECKF(memcmp(ob + off, rb, n) == 0, "t=%d off=%d n=%d", t, (int)off, (int)n);
        {   /* dequantize to every output offset */
            float y[1200 + 16], yr[1200];
            memset(y, 0, sizeof y);
            CHECK(quant_rows_dequantize(rb, QUANT_I8, 1, n, n, QUANT_PER_TENSOR, &p.scale, &p.zero_point, y + off, n) == QUANT_OK);
            p.qmin = -128; p.qmax = 127;
            CHECK(quant_dequantize(rb, QUANT_I8, n, &p, yr) == QUANT_OK);
            CHECKF(memcmp(y + off, yr, n * sizeof(float)) == 0, "t=%d off=%d n=%d", t, (int)off, (int)n);
            for (i = 0; i < off; i++) CHECK(y[i] == 0.0f);
            CHECK(y[off + n] == 0.0f);
        }
    }
    {   /* non-temporal: two rows of QUANT_STREAM_BYTES / 8 floats + 37, output
           starting 3 floats past an allocation and a stride of cols + 5 */
        size_t cols = QUANT_STREAM_BYTES / 8 + 37, ldo = cols + 5, i, r;
        uint8_t *q = (uint8_t *)malloc(2 * cols);
        float *yb = (float *)malloc((2 * ldo + 3) * sizeof(float)), sc[2] = { 0.0375f, 3.5f }, *y = yb ? yb + 3 : NULL;
        int32_t zp[2] = { 131, 0 };
        CHECK(q && yb);
        if (q && yb) {
            int ok = 1;
            for (i = 0; i < 2 * cols; i++) q[i] = (uint8_t)qt_rand32();
            for (i = 0; i < 2 * ldo + 3; i++) yb[i] = -7.0f;
            CHECK(quant_rows_dequantize(q, QUANT_U8, 2, cols, cols, QUANT_PER_ROW, sc, zp, y, ldo) == QUANT_OK);
            for (r = 0; r < 2; r++) {
                for (i = 0; i < cols && ok; i++) {
                    const float want = (float)((int32_t)q[r * cols + i] - zp[r]) * sc[r]; /* rounded to float here (x87: no excess precision in the compare) */
                    ok = y[r * ldo + i] == want;
                }
                for (i = cols; i < ldo && r == 0; i++) ok = ok && y[i] == -7.0f; /* the gap untouched */
            }
            ok = ok && yb[0] == -7.0f && yb[2] == -7.0f;
            CHECKF(ok, "streamed dequantize of %d x %d", 2, (int)cols);
        }
        free(q); free(yb);
    }
    /* a quantize whose output reaches QUANT_STREAM_BYTES (non-temporal
       stores on AVX2): two rows of half of it + 37, per row, the output
       starting 3 bytes into an allocation, stride cols + 5. Not under
       emulation (QT_EMULATED): no emulated build streams, and qemu takes 3 s. */
    if (!getenv("QT_EMULATED") || !strcmp(getenv("QT_EMULATED"), "0")) {
        size_t cols = QUANT_STREAM_BYTES / 2 + 37, ldo = cols + 5, i, r;
        float *x = (float *)malloc(2 * cols * sizeof(float)), sc[2] = { 0.0375f, 3.5f };
        uint8_t *ob = (uint8_t *)malloc(2 * ldo + 3), *o = ob ? ob + 3 : NULL, *ref = (uint8_t *)malloc(cols);
        int32_t zp[2] = { 131, 0 };
        CHECK(x && ob && ref);
        if (x && ob && ref) {
            int ok = 1;
            for (i = 0; i < 2 * cols; i++) x[i] = (float)((int32_t)(qt_rand32() % 40001) - 20000) * 0.01f;
            x[5] = NAN; x[cols + 9] = INFINITY; x[2 * cols - 1] = -INFINITY;
            memset(ob, 0xA5, 2 * ldo + 3);
            CHECK(quant_rows_quantize(x, 2, cols, cols, QUANT_PER_ROW, sc, zp, 0, 255, QUANT_U8, o, ldo) == QUANT_OK);
            for (r = 0; r < 2; r++) {
                quant_params p;
                p.scale = sc[r]; p.zero_point = zp[r]; p.qmin = 0; p.qmax = 255;
                CHECK(quant_quantize(x + r * cols, cols, &p, QUANT_U8, ref) == QUANT_OK);
                ok = ok && memcmp(o + r * ldo, ref, cols) == 0;
            }
            for (i = cols; i < ldo; i++) ok = ok && o[i] == 0xA5; /* the gap untouched */
            ok = ok && ob[0] == 0xA5 && ob[2] == 0xA5 && o[ldo + cols] == 0xA5;
            CHECKF(ok, "streamed quantize of %d x %d", 2, (int)cols);
        }
        free(x); free(ob); free(ref);
    }
}

static void test_bad_input(void) {
    float x[4] = { 1, 2, 3, 4 }, sc[1] = { 0.1f }, bad[1] = { -1.0f };
    int32_t zp[1] = { 0 };
    uint8_t o[4] = { 7, 7, 7, 7 };
    CHECK(quant_rows_quantize(x, 1, 4, 4, QUANT_PER_TENSOR, bad, zp, -128, 127, QUANT_I8, o, 4) == QUANT_ESCALE);
    CHECK(quant_rows_quantize(x, 1, 4, 3, QUANT_PER_TENSOR, sc, zp, -128, 127, QUANT_I8, o, 4) == QUANT_EINVAL);
    CHECK(quant_rows_quantize(x, 1, 4, 4, QUANT_PER_TENSOR, sc, zp, -128, 127, QUANT_I16, o, 4) == QUANT_EINVAL);
    CHECK(quant_rows_quantize(x, 1, 4, 4, QUANT_PER_TENSOR, sc, zp, 0, 255, QUANT_I8, o, 4) == QUANT_EINVAL);
    CHECK(quant_rows_quantize(NULL, 1, 4, 4, QUANT_PER_TENSOR, sc, zp, -128, 127, QUANT_I8, o, 4) == QUANT_EINVAL);
    CHECK(quant_rows_quantize_dynamic(x, 1, 4, 4, QUANT_AFFINE, -128, 127, QUANT_I8, o, 4, NULL, zp) == QUANT_EINVAL);
    CHECK(quant_rows_quantize(x, 0, 4, 4, QUANT_PER_TENSOR, sc, zp, -128, 127, QUANT_I8, NULL, 4) == QUANT_OK);
    CHECK(o[0] == 7 && o[3] == 7);
}

/* quant_isa_name() and quant_isa_features() name what the Makefile's flags
 * for this build select (QT_EXPECT_ISA): every feature the level's kernels
 * use, no more (tests/test_isa_select.sh checks the opt-outs) */
static void test_isa_report(void) {
#ifdef QT_EXPECT_ISA
    static const struct { const char *level, *features; } want[] = {
        { "scalar", "" }, { "sse41", "sse4_1" }, { "avx2", "sse4_1 avx2 fma" },
        { "avxvnni", "sse4_1 avx2 fma avx_vnni" }, { "avx512", "sse4_1 avx2 fma avx512f avx512bw avx512vl" },
        { "avx512vnni", "sse4_1 avx2 fma avx512f avx512bw avx512vl avx512_vnni avx512vbmi avx512_vpopcntdq" },
#if defined(__aarch64__)
        { "neon", "asimd" },
#else
        { "neon", "neon" },
#endif
        { "neondot", "asimd asimddp" } };
    size_t i, found = 0;
    CHECKF(strcmp(quant_isa_name(), QT_EXPECT_ISA) == 0, "built %s, expected %s", quant_isa_name(), QT_EXPECT_ISA);
    for (i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strcmp(want[i].level, QT_EXPECT_ISA)) {
            found = 1;
            CHECKF(!strcmp(quant_isa_features(), want[i].features), "%s: features \"%s\", expected \"%s\"",
                   QT_EXPECT_ISA, quant_isa_features(), want[i].features);
        }
    CHECKF(found, "no expectation for level %s", QT_EXPECT_ISA);
#else
    CHECK(quant_isa_name()[0] != 0 && quant_isa_features() != NULL);
#endif
}

int main(void) {
    fprintf(stderr, "  isa: %s (%s)\n", quant_isa_name(), quant_isa_features());
    RUN(test_isa_report);
    RUN(test_quantize_rows);
    RUN(test_dynamic);
    RUN(test_requantize);
    RUN(test_requantize_gemmlowp_raw);
    RUN(test_align_and_stream);
    RUN(test_bad_input);
    return qt_summary();
}
