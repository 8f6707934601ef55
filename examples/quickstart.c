/* examples/quickstart.c - quantize a realistic weight tensor and a stream of
 * activations with every granularity and observer in quant.h, and print the
 * params and the error each choice costs.
 *
 *   make demo        (or: cc -O2 -I. examples/quickstart.c -lm && ./a.out)
 */
#define QUANT_IMPLEMENTATION
#include "quant.h"
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

/* ---- deterministic synthetic data, shaped like a real conv layer ---- */
static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static double uniform(void) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return ((double)(rng_state >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
static double gauss(void) { return sqrt(-2.0 * log(uniform())) * cos(6.283185307179586 * uniform()); }
static double laplace(void) { double u = uniform() - 0.5; return (u < 0 ? 1 : -1) * log(1 - 2 * fabs(u)); }

#define OC 64          /* output channels */
#define KK (3 * 3 * 32) /* 3x3 kernel over 32 input channels */

static void row(const char *what, const char *detail, const float *x, const float *y, size_t n) {
    double maxerr, sqnr = quant_sqnr_db(x, y, n, &maxerr);
    printf("  %-34s %-30s %8.2f dB  %10.5f\n", what, detail, sqnr, maxerr);
}

int main(void) {
    static float w[OC * KK], wq[OC * KK], act[16][4096], aq[4096];
    static int8_t q8[OC * KK];
    static uint8_t q4[OC * KK / 2];
    static float scales[OC * KK / 32], mins[OC], maxs[OC];
    static uint16_t hscales[OC * KK / 32];
    static int32_t zps[OC * KK / 32];
    static quant_block_q8 b8[OC * KK / 32];
    static quant_block_q4 b4[OC * KK / 32];
    size_t shape[2] = { OC, KK };
    quant_params p;
    char buf[64];
    int c, i, b;

    /* Weights: Laplace-distributed with a per-channel spread varying 20x,
     * and a few outliers, as trained conv weights are. */
    for (c = 0; c < OC; c++) {
        double spread = 0.01 * exp(3.0 * uniform());
        for (i = 0; i < KK; i++) w[c * KK + i] = (float)(spread * laplace());
        w[c * KK + (c * 7) % KK] *= 8.0f; /* one outlier per channel */
    }
    /* Activations: 16 batches of ReLU'd, heavy-tailed values with many zeros. */
    for (b = 0; b < 16; b++)
        for (i = 0; i < 4096; i++) {
            double v = gauss() * 1.5 + 0.2 + (uniform() < 0.001 ? 20.0 * uniform() : 0.0);
            act[b][i] = (float)(v > 0 ? v : 0);
        }

    printf("quant %d.%d.%d quickstart: a %dx%d conv weight tensor and %d batches of activations\n\n",
           QUANT_VERSION_MAJOR, QUANT_VERSION_MINOR, QUANT_VERSION_PATCH, OC, KK, 16);
    printf("  %-34s %-30s %11s  %10s\n", "weights", "params", "SQNR", "max |err|");

    /* per tensor, affine and symmetric */
    {
        float mn, mx;
        quant_minmax(w, OC * KK, &mn, &mx);
        quant_params_from_range(mn, mx, -128, 127, QUANT_AFFINE, &p);
        quant_quantize(w, OC * KK, &p, QUANT_I8, q8);
        quant_dequantize(q8, QUANT_I8, OC * KK, &p, wq);
        snprintf(buf, sizeof buf, "scale %.3g zp %d", p.scale, p.zero_point);
        row("int8 per tensor, affine", buf, w, wq, OC * KK);
        quant_params_from_range(mn, mx, -127, 127, QUANT_SYMMETRIC, &p);
        quant_quantize(w, OC * KK, &p, QUANT_I8, q8);
        quant_dequantize(q8, QUANT_I8, OC * KK, &p, wq);
        snprintf(buf, sizeof buf, "scale %.3g zp %d", p.scale, p.zero_point);
        row("int8 per tensor, symmetric", buf, w, wq, OC * KK);
    }
    /* per channel (axis 0), symmetric int8 and int4 */
    {
        static float sc[OC]; static int32_t zp[OC];
        quant_minmax_axis(w, shape, 2, 0, mins, maxs);
        quant_params_per_channel(mins, maxs, OC, -127, 127, QUANT_SYMMETRIC, sc, zp);
        quant_quantize_per_channel(w, shape, 2, 0, sc, zp, -127, 127, QUANT_I8, q8);
        quant_dequantize_per_channel(q8, QUANT_I8, shape, 2, 0, sc, zp, wq);
        {
            float smin = sc[0], smax = sc[0];
            for (c = 1; c < OC; c++) { if (sc[c] < smin) smin = sc[c]; if (sc[c] > smax) smax = sc[c]; }
            snprintf(buf, sizeof buf, "%d scales %.3g..%.3g", OC, smin, smax);
        }
        row("int8 per channel, symmetric", buf, w, wq, OC * KK);
        quant_params_per_channel(mins, maxs, OC, -8, 7, QUANT_SYMMETRIC, sc, zp);
        quant_quantize_per_channel(w, shape, 2, 0, sc, zp, -8, 7, QUANT_I4, q4);
        quant_dequantize_per_channel(q4, QUANT_I4, shape, 2, 0, sc, zp, wq);
        row("int4 per channel, symmetric", "packed, 2 per byte", w, wq, OC * KK);
    }
    /* per group along rows: int4 with fp32 and fp16 scales, several block sizes */
    {
        size_t groups[3] = { 32, 64, 128 };
        int g;
        for (g = 0; g < 3; g++) {
            size_t gs = groups[g];
            quant_params_per_group(w, OC, KK, gs, -8, 7, QUANT_SYMMETRIC, QUANT_SCALE_F16, hscales, zps);
            quant_quantize_per_group(w, OC, KK, gs, QUANT_SCALE_F16, hscales, zps, -8, 7, QUANT_I4, q4);
            quant_dequantize_per_group(q4, QUANT_I4, OC, KK, gs, QUANT_SCALE_F16, hscales, zps, wq);
            snprintf(buf, sizeof buf, "group %d, fp16 scales", (int)gs);
            row("int4 per group, symmetric", buf, w, wq, OC * KK);
        }
        quant_params_per_group(w, OC, KK, 32, 0, 15, QUANT_AFFINE, QUANT_SCALE_F32, scales, zps);
        quant_quantize_per_group(w, OC, KK, 32, QUANT_SCALE_F32, scales, zps, 0, 15, QUANT_U4, q4);
        quant_dequantize_per_group(q4, QUANT_U4, OC, KK, 32, QUANT_SCALE_F32, scales, zps, wq);
        row("uint4 per group, affine", "group 32, fp32 scale + zp", w, wq, OC * KK);
    }
    /* block formats (scale beside the data) */
    quant_block_q8_quantize(w, OC * KK, b8);
    quant_block_q8_dequantize(b8, OC * KK, wq);
    row("Q8 blocks (34 bytes / 32)", "8.5 bits a weight", w, wq, OC * KK);
    quant_block_q4_quantize(w, OC * KK, b4);
    quant_block_q4_dequantize(b4, OC * KK, wq);
    row("Q4 blocks (18 bytes / 32)", "4.5 bits a weight", w, wq, OC * KK);
    /* power of two and dynamic fixed point */
    {
        static int8_t codes[OC * KK];
        int32_t emin, frac;
        quant_pow2_emin(w, OC * KK, 5, &emin);
        quant_pow2_quantize(w, OC * KK, 5, emin, codes);
        quant_pow2_dequantize(codes, OC * KK, emin, wq);
        snprintf(buf, sizeof buf, "5 bits, 2^%d .. 2^%d", emin, emin + 14);
        row("power of two (log)", buf, w, wq, OC * KK);
        quant_dfp_frac_bits(w, OC * KK, 8, &frac);
        quant_dfp_quantize(w, OC * KK, 8, frac, QUANT_I8, q8);
        quant_dfp_dequantize(q8, QUANT_I8, OC * KK, frac, wq);
        snprintf(buf, sizeof buf, "Q%d.%d", 8 - 1 - frac, frac);
        row("dynamic fixed point, 8 bits", buf, w, wq, OC * KK);
    }

    /* activations: every observer, streamed over 16 batches, uint8 affine */
    printf("\n  %-34s %-30s %11s  %10s\n", "activations (uint8, 16 batches)", "clip range", "SQNR", "max |err|");
    {
        static const struct { quant_observer_kind k; const char *name; } obs[] = {
            { QUANT_OBS_MINMAX, "MinMax" }, { QUANT_OBS_MOVING_AVERAGE, "MovingAverageMinMax (c=0.01)" },
            { QUANT_OBS_KL, "KL / entropy (TensorRT, ncnn)" }, { QUANT_OBS_PERCENTILE, "percentile 99.99" },
            { QUANT_OBS_MSE, "MSE-optimal" }, { QUANT_OBS_ACIQ, "ACIQ (Laplace, 8 bits)" } };
        static quant_observer o; /* value type; static only for its size */
        size_t k;
        for (k = 0; k < sizeof obs / sizeof *obs; k++) {
            float lo, hi;
            double sq = 0, mx = 0;
            quant_observer_init(&o, obs[k].k);
            for (b = 0; b < 16; b++) quant_observer_update(&o, act[b], 4096);
            quant_observer_range(&o, QUANT_AFFINE, 0, 255, &lo, &hi);
            quant_observer_params(&o, 0, 255, QUANT_AFFINE, &p);
            /* error over all batches */
            {
                double sig = 0, noise = 0;
                for (b = 0; b < 16; b++) {
                    static uint8_t u8[4096];
                    quant_quantize(act[b], 4096, &p, QUANT_U8, u8);
                    quant_dequantize(u8, QUANT_U8, 4096, &p, aq);
                    for (i = 0; i < 4096; i++) {
                        double d = (double)act[b][i] - aq[i];
                        sig += (double)act[b][i] * act[b][i]; noise += d * d;
                        if (fabs(d) > mx) mx = fabs(d);
                    }
                }
                sq = 10 * log10(sig / noise);
            }
            snprintf(buf, sizeof buf, "[%.3f, %.3f]", lo, hi);
            printf("  %-34s %-30s %8.2f dB  %10.5f\n", obs[k].name, buf, sq, mx);
        }
    }
    printf("\nSQNR = 10 log10(sum x^2 / sum (x - dequant(quant(x)))^2); higher is better.\n"
           "Clipping observers trade a larger error on the rare outliers for a finer step on the bulk.\n");
    return 0;
}
