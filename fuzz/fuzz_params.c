/* fuzz/fuzz_params.c - libFuzzer target: params from arbitrary floats and
 * ranges (quant_params_from_range, per channel, per group), minmax and every
 * observer on arbitrary data (NaN, Inf, subnormals, huge values). Accepted
 * params must satisfy the contract; refused ones must leave the outputs
 * untouched. */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant.h"
#include "fuzz_util.h"
#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_params(const quant_params *p, quant_scheme scheme) {
    int32_t q;
    FZ_CHECK(quant_params_check(p) == QUANT_OK);
    FZ_CHECK(p->scale > 0 && isfinite(p->scale));
    FZ_CHECK(p->zero_point >= p->qmin && p->zero_point <= p->qmax);
    if (scheme == QUANT_AFFINE || p->qmin < 0) {
        /* zero is exactly representable */
        float z = 0.0f;
        int32_t q0;
        FZ_CHECK(quant_quantize(&z, 1, p, QUANT_I32, &q0) == QUANT_OK && q0 == p->zero_point);
    }
    /* dequantize -> quantize is the identity on a few codes */
    for (q = 0; q < 5; q++) {
        int32_t c = q == 0 ? p->qmin : q == 1 ? p->qmax : q == 2 ? p->zero_point :
                    q == 3 ? p->qmin + (int32_t)(((int64_t)p->qmax - p->qmin) / 3) : p->qmax - 1;
        float y;
        int32_t back;
        if ((int64_t)c - p->zero_point > (1 << 20) || (int64_t)c - p->zero_point < -(1 << 20)) continue; /* beyond float's exact integers */
        FZ_CHECK(quant_dequantize(&c, QUANT_I32, 1, p, &y) == QUANT_OK);
        if (!isfinite(y)) continue; /* a range reaching FLT_MAX: the end codes' real values overflow (documented) */
        FZ_CHECK(quant_quantize(&y, 1, p, QUANT_I32, &back) == QUANT_OK);
        FZ_CHECK(back == c);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz f = { data, size };
    float lo = fz_float(&f), hi = fz_float(&f);
    int32_t qmin = fz_int(&f), qmax = fz_int(&f);
    quant_scheme scheme = (quant_scheme)(fz_u8(&f) % 3); /* 2 is not a scheme */
    int k = fz_u8(&f) % ((int)QUANT_OBS_ACIQ + 2);       /* one observer kind an input (the last is invalid) */
    quant_params p, untouched;
    quant_status s;
    size_t n, i;
    float *x;
    memset(&p, 0x5a, sizeof p); untouched = p;
    s = quant_params_from_range(lo, hi, qmin, qmax, scheme, &p);
    if (s == QUANT_OK) check_params(&p, scheme);
    else FZ_CHECK(!memcmp(&p, &untouched, sizeof p));
    /* the rest of the input is data */
    n = f.n / 4;
    x = (float *)malloc(n * sizeof(float) + 1);
    for (i = 0; i < n; i++) x[i] = fz_f32(&f);
    {
        float mn = 0, mx = 0;
        quant_status sm = quant_minmax(x, n, &mn, &mx);
        if (sm == QUANT_OK) {
            FZ_CHECK(mn <= mx && isfinite(mn) && isfinite(mx));
            for (i = 0; i < n; i++) if (isfinite(x[i])) FZ_CHECK(x[i] >= mn && x[i] <= mx);
        } else FZ_CHECK(sm == QUANT_EEMPTY);
    }
    {
        {
            quant_observer *o = (quant_observer *)malloc(sizeof *o);
            quant_params op;
            float rlo, rhi;
            if (quant_observer_init(o, (quant_observer_kind)k) != QUANT_OK) { free(o); o = NULL; }
            else {
            quant_observer_update(o, x, n / 2);
            quant_observer_update(o, x + n / 2, n - n / 2);
            if (quant_observer_range(o, scheme == QUANT_SYMMETRIC ? QUANT_SYMMETRIC : QUANT_AFFINE, qmin, qmax, &rlo, &rhi) == QUANT_OK)
                FZ_CHECK(rlo <= rhi && isfinite(rlo) && isfinite(rhi));
            memset(&op, 0x5a, sizeof op);
            s = quant_observer_params(o, qmin, qmax, scheme, &op);
            if (s == QUANT_OK) check_params(&op, scheme);
            else FZ_CHECK(!memcmp(&op, &untouched, sizeof op));
            free(o);
            }
        }
    }
    if (n >= 2) {
        /* per group over a rows x cols view, fp32 and fp16 scales */
        size_t cols = 1 + (size_t)(qmin & 63), rows = n / cols, group = 1 + (size_t)((uint32_t)qmax % 40);
        if (rows) {
            size_t ng = rows * ((cols + group - 1) / group), st;
            float *sc = (float *)malloc(ng * sizeof(float)), *sc0 = (float *)malloc(ng * sizeof(float));
            int32_t *zp = (int32_t *)malloc(ng * sizeof(int32_t));
            for (st = 0; st < 2; st++) {
                int32_t lo8 = scheme == QUANT_SYMMETRIC ? -127 : -128;
                memset(sc, 0x5a, ng * sizeof(float)); memcpy(sc0, sc, ng * sizeof(float));
                s = quant_params_per_group(x, rows, cols, group, lo8, 127, scheme, (quant_scale_type)st, sc, zp);
                if (s != QUANT_OK) FZ_CHECK(!memcmp(sc, sc0, ng * sizeof(float)));
                else if (st == 0) for (i = 0; i < ng; i++) FZ_CHECK(sc[i] > 0 && isfinite(sc[i]));
            }
            free(sc); free(sc0); free(zp);
        }
    }
    free(x);
    return 0;
}
