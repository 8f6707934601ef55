/* fuzz/fuzz_params.c - libFuzzer target: params from arbitrary floats and
 * ranges (quant_params_from_range, per channel, per group), minmax and every
 * observer on arbitrary data (NaN, Inf, subnormals, huge values). Accepted
 * params must satisfy the contract; refused ones must leave the outputs
 * untouched.
 *
 * Speed: the histogram kinds' range searches cost O(bins^2) (KL: 1,920
 * candidate thresholds x 128 levels) or O(candidates x occupied bins)
 * (MSE), whatever the input length, and every comparison in them is traced
 * by the fuzzer's instrumentation: they see a bounded prefix of the data
 * (FZ_HIST_MAX values; MinMax / MovingAverage see it all), and the range is
 * searched once per input (the params come from that range, which is what
 * quant_observer_params computes). quant_kl_threshold_bins itself is fuzzed
 * on a small fuzzed histogram (both its sparse and dense paths), and
 * quant_histogram_add on a fuzzed (possibly damaged) range. */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant.h"
#include "fuzz_util.h"
#include <math.h>
#include <float.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef FZ_HIST_MAX
#define FZ_HIST_MAX 32
#endif /* values a histogram-based observer sees per input */

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
            size_t nh = k >= QUANT_OBS_HISTOGRAM && n > FZ_HIST_MAX ? FZ_HIST_MAX : n; /* a bounded prefix */
            quant_status sr;
            FZ_CHECK(quant_observer_update(o, x, nh / 2) == QUANT_OK);
            FZ_CHECK(quant_observer_update(o, x + nh / 2, nh - nh / 2) == QUANT_OK);
            sr = quant_observer_range(o, scheme == QUANT_SYMMETRIC ? QUANT_SYMMETRIC : QUANT_AFFINE, qmin, qmax, &rlo, &rhi);
            if (sr == QUANT_OK)
                FZ_CHECK(rlo <= rhi && isfinite(rlo) && isfinite(rhi));
            memset(&op, 0x5a, sizeof op);
            if (sr == QUANT_OK && scheme != 2 && k >= QUANT_OBS_KL && k <= QUANT_OBS_MSE)
                s = quant_params_from_range(rlo, rhi, qmin, qmax, scheme, &op); /* = quant_observer_params, one search */
            else
                s = quant_observer_params(o, qmin, qmax, scheme, &op);
            if (s == QUANT_OK) check_params(&op, scheme);
            else FZ_CHECK(!memcmp(&op, &untouched, sizeof op));
            free(o);
            }
        }
    }
    if (n >= 1) {
        /* the KL search on its own: a small histogram from the data (any
           values: NaN, negative, Inf), fuzzed bins and target */
        int target = 1 + (int)((uint32_t)qmin % 48), nbins = target + 1 + (int)((uint32_t)qmax % 200), b;
        double dist[256];
        for (b = 0; b < nbins; b++) dist[b] = 0.0;
        for (i = 0; i < n && i < 512; i++) {
            uint32_t u;
            memcpy(&u, &x[i], 4);
            if (u & 1) dist[(u >> 1) % (uint32_t)nbins] += (u & 2) ? 1.0 : (double)x[i];
        }
        b = quant_kl_threshold_bins(dist, nbins, target);
        FZ_CHECK(b >= target && b < nbins);
        FZ_CHECK(quant_kl_threshold_bins(dist, target, target) == -1 && quant_kl_threshold_bins(NULL, nbins, target) == -1);
    }
    {   /* quant_histogram_add on a fuzzed range: refused (and unchanged) unless 0 or finite > 0 */
        static quant_histogram h, h0;
        size_t nh = n > FZ_HIST_MAX ? FZ_HIST_MAX : n;
        quant_histogram_init(&h);
        h.range = lo;
        h0 = h;
        s = quant_histogram_add(&h, x, nh);
        if (!(lo >= 0.0f && lo <= FLT_MAX)) FZ_CHECK(s == QUANT_EINVAL && !memcmp(&h, &h0, sizeof h));
        else {
            double tot = h.zeros, fin = 0;
            FZ_CHECK(s == QUANT_OK && h.range >= 0.0f && h.range <= FLT_MAX);
            for (i = 0; i < 2 * QUANT_HIST_BINS; i++) tot += h.bins[i];
            for (i = 0; i < nh; i++) fin += isfinite(x[i]) ? 1 : 0;
            FZ_CHECK(tot == fin);
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
