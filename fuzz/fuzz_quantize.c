/* fuzz/fuzz_quantize.c - libFuzzer target: quantize / dequantize /
 * requantize with extreme params (scale of any bit pattern, any zero point
 * and range, any multiplier and shift). The reference (quant.h) and the
 * vectorized rows kernels (quant_kernels.h) must agree bit for bit, refusals
 * must agree and leave the outputs untouched, and no operation may overflow
 * (UBSan). */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include "fuzz_util.h"
#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 300

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz f = { data, size };
    quant_params p;
    float x[CAP], y1[CAP], y2[CAP];
    int32_t acc[CAP], bias[CAP];
    uint8_t q1[CAP], q2[CAP];
    quant_requant rq[CAP];
    quant_status s1, s2;
    size_t n, i, rows, cols;
    quant_dtype dt = (fz_u8(&f) & 1) ? QUANT_U8 : QUANT_I8;
    int sel = fz_u8(&f);
    p.scale = (sel & 3) == 0 ? fz_f32(&f) : (float)ldexp(1.0 + fz_u8(&f) / 256.0, (int)(int8_t)fz_u8(&f) - (sel & 4 ? 100 : 0));
    if (sel & 8) p.scale = -p.scale;
    p.zero_point = (sel & 16) ? fz_int(&f) : (int32_t)(int8_t)fz_u8(&f) + (dt == QUANT_U8 ? 128 : 0);
    if (sel & 32) { p.qmin = fz_int(&f); p.qmax = fz_int(&f); }
    else { p.qmin = dt == QUANT_U8 ? 0 : -128; p.qmax = dt == QUANT_U8 ? 255 : 127; }
    cols = 1 + fz_u8(&f) % 37;
    n = f.n / 5 < CAP ? f.n / 5 : CAP;
    for (i = 0; i < n; i++) x[i] = fz_float(&f);
    rows = n / cols;
    n = rows * cols;

    /* quantize: reference vs rows kernel (per tensor as per row with equal scales) */
    {
        float scales[CAP];
        int32_t zps[CAP];
        for (i = 0; i < rows; i++) { scales[i] = p.scale; zps[i] = p.zero_point; }
        memset(q1, 0xa5, sizeof q1); memset(q2, 0xa5, sizeof q2);
        s1 = quant_quantize(x, n, &p, dt, q1);
        s2 = quant_rows_quantize(x, rows, cols, cols, QUANT_PER_ROW, scales, zps, p.qmin, p.qmax, dt, q2, cols);
        /* with several faults either may be reported: both refuse or both accept */
        if (rows) FZ_CHECK((s1 == QUANT_OK) == (s2 == QUANT_OK));
        if (s1 != QUANT_OK) { for (i = 0; i < CAP; i++) FZ_CHECK(q1[i] == 0xa5); }
        if (s2 != QUANT_OK) { for (i = 0; i < CAP; i++) FZ_CHECK(q2[i] == 0xa5); }
        if (s1 == QUANT_OK && s2 == QUANT_OK) FZ_CHECK(!memcmp(q1, q2, n));
        if (s1 == QUANT_OK) {
            /* dequantize: reference vs kernel */
            memset(y1, 0xa5, sizeof y1); memset(y2, 0xa5, sizeof y2);
            s1 = quant_dequantize(q1, dt, n, &p, y1);
            s2 = quant_rows_dequantize(q1, dt, rows, cols, cols, QUANT_PER_ROW, scales, zps, y2, cols);
            FZ_CHECK(s1 == QUANT_OK);
            if (rows) FZ_CHECK(s2 == QUANT_OK && !memcmp(y1, y2, n * sizeof(float)));
        }
    }
    /* dynamic per-row quantization: params valid, codes inside the range */
    if (rows) {
        float sc[CAP];
        int32_t zp[CAP];
        int32_t lo = dt == QUANT_U8 ? 0 : -128, hi = dt == QUANT_U8 ? 255 : 127;
        s1 = quant_rows_quantize_dynamic(x, rows, cols, cols, (quant_scheme)(sel >> 7), lo, hi, dt, q1, cols, sc, zp);
        FZ_CHECK(s1 == QUANT_OK);
        for (i = 0; i < rows; i++) FZ_CHECK(sc[i] > 0 && isfinite(sc[i]) && zp[i] >= lo && zp[i] <= hi);
    }
    /* requantize with arbitrary multipliers and shifts: reference vs kernel, every mode */
    {
        int32_t zp = fz_int(&f), lo = fz_int(&f), hi = fz_int(&f);
        int per_channel = fz_u8(&f) & 1, mode;
        size_t nrq = per_channel ? cols : 1;
        for (i = 0; i < nrq; i++) {
            uint8_t how = fz_u8(&f);
            if (how & 1) { rq[i].multiplier = fz_int(&f); rq[i].shift = fz_int(&f); rq[i].scale = fz_f32(&f); }
            else quant_requant_from_scale(ldexp(1.0 + fz_u8(&f) / 256.0, (int)(int8_t)fz_u8(&f) / 3), &rq[i]);
        }
        for (i = 0; i < n; i++) { acc[i] = fz_int(&f); bias[i % cols] = (int32_t)(int16_t)fz_u32(&f); }
        for (mode = 0; mode <= 3; mode++) {
            memset(q1, 0xa5, sizeof q1); memset(q2, 0xa5, sizeof q2);
            s1 = quant_requantize(acc, rows, cols, (sel & 64) ? bias : NULL, rq, per_channel, (quant_requant_mode)mode, zp, lo, hi, dt, q1);
            s2 = quant_rows_requantize(acc, rows, cols, (sel & 64) ? bias : NULL, rq, per_channel, (quant_requant_mode)mode, zp, lo, hi, dt, q2);
            FZ_CHECK((s1 == QUANT_OK) == (s2 == QUANT_OK));
            if (s1 == QUANT_OK) FZ_CHECK(!memcmp(q1, q2, CAP));
            else for (i = 0; i < CAP; i++) FZ_CHECK(q1[i] == 0xa5 && q2[i] == 0xa5);
        }
    }
    /* multipliers from arbitrary reals: real ~= m * 2^(s - 31) */
    {
        double real = (double)fz_f32(&f) * ldexp(1.0, (int)(int8_t)fz_u8(&f));
        int32_t m = 0x5a5a5a5a, s = 0x5a5a5a5a;
        if (quant_quantize_multiplier(real, &m, &s) == QUANT_OK) {
            FZ_CHECK(s >= -31 && s <= 30);
            if (m) {
                double back = ldexp((double)m, s - 31);
                FZ_CHECK(m >= (1 << 30));
                if (real < ldexp(1.0, 30) && real > ldexp(1.0, -31)) FZ_CHECK(fabs(back - real) <= real * ldexp(1.0, -30));
            }
        } else FZ_CHECK(m == 0x5a5a5a5a && s == 0x5a5a5a5a);
    }
    return 0;
}
