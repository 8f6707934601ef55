/* quant.h - the portable numeric core of the quant library.            v0.1.0
 *
 * Header-only, stb style. In exactly one C or C++ file:
 *
 *     #define QUANT_IMPLEMENTATION
 *     #include "quant.h"
 *
 * Everywhere else just #include "quant.h" for the declarations.
 *
 * ---------------------------------------------------------------------------
 * TOUR
 * ---------------------------------------------------------------------------
 *   quant_params p;                                  // scale, zero point, [qmin, qmax]
 *   quant_params_from_range(-1.5f, 4.0f, -128, 127, QUANT_AFFINE, &p);
 *   quant_quantize(x, n, &p, QUANT_I8, q);           // float -> int8, round half to even
 *   quant_dequantize(q, QUANT_I8, n, &p, y);         // int8 -> float, (q - zp) * scale
 *
 *   quant_observer obs;                              // calibration, streamed batch by batch
 *   quant_observer_init(&obs, QUANT_OBS_MINMAX);
 *   quant_observer_update(&obs, batch, n);           // NaN / Inf ignored and counted
 *   quant_observer_params(&obs, -128, 127, QUANT_SYMMETRIC, &p);
 *
 *   quant_requant rq;                                // int32 accumulator -> int8
 *   quant_requant_from_scale(in_scale * w_scale / out_scale, &rq);
 *   int32_t y8 = quant_requantize1(acc, &rq, QUANT_RQ_GEMMLOWP, out_zp, -128, 127);
 *
 * ---------------------------------------------------------------------------
 * CONFIGURATION (define before including)
 * ---------------------------------------------------------------------------
 *   QUANT_IMPLEMENTATION   emit the definitions (in one translation unit)
 *   QUANT_STATIC           make every definition static (single-TU embedding;
 *                          several TUs may each do this and link together)
 *   QUANT_ASSERT(x)        precondition checks in hot loops (default: assert)
 *   QUANT_MALLOC/QUANT_FREE  used only by training code (k-means) and the runner
 *   QUANT_NO_STDIO         nothing here uses stdio; reserved for the runner
 *
 * Only <stdint.h> <stddef.h> <string.h> <math.h> <float.h> (+ <assert.h>,
 * <stdlib.h> behind the macros above). No global mutable state: reentrant.
 *
 * ---------------------------------------------------------------------------
 * NUMERICS CONTRACT (see DESIGN.md section 3)
 * ---------------------------------------------------------------------------
 *  - float -> int rounds half to even (nearbyintf under the default mode) and
 *    saturates to [qmin, qmax]; NaN -> zero point; +-Inf saturate. Other modes
 *    (half away from zero, floor, stochastic with a caller-seeded generator)
 *    are explicit.
 *  - quantize is q = clamp(zp + round(x * (1.0f / scale))): the reciprocal is
 *    taken in float first, exactly as PyTorch's quantize_per_tensor does.
 *  - dequantize is (float)(q - zp) * scale: one float rounding.
 *  - Params from a range equal PyTorch's observers' calculate_qparams bit for
 *    bit in float32 (eps = FLT_EPSILON, zero always exactly representable).
 *  - Requantization int32 -> int8/uint8 has three explicit modes:
 *      QUANT_RQ_GEMMLOWP  saturating rounding doubling high multiply (ties up)
 *                         then rounding divide by 2^n (ties away from zero):
 *                         TFLite's default MultiplyByQuantizedMultiplier.
 *                         A left shift (multiplier >= 1) saturates instead of
 *                         overflowing (TFLite: undefined behaviour there;
 *                         gemmlowp: SaturatingRoundingMultiplyByPOT).
 *      QUANT_RQ_SINGLE    (x*M + 2^(s-1)) >> s in 64 bits, one rounding, ties
 *                         up (TFLite's TFLITE_SINGLE_ROUNDING, ruy), saturated
 *                         to int32.
 *      QUANT_RQ_FP32      (float)x * scale, round half to even (XNNPACK, FBGEMM).
 *  - fp16 / bf16 conversions round to nearest even; Inf, NaN (quieted, payload
 *    kept) and subnormals are exact, as the F16C instructions do.
 *
 * ---------------------------------------------------------------------------
 * CONTENTS
 * ---------------------------------------------------------------------------
 *   1. status codes, dtypes, ranges
 *   2. rounding, the random generator, fp16 / bf16
 *   3. params: per tensor, per channel (any axis), per group
 *   4. quantize / dequantize for every granularity and rounding mode
 *   5. fixed point: multipliers, the three requantization modes, activation
 *      clamps, requantize arrays, dyadic scales
 *   6. quantized elementwise arithmetic (TFLite semantics): add, mul,
 *      requantize between params, 256-entry lookup tables
 *   7. other quantizers: power-of-two, dynamic fixed point, fake quant
 *      (forward, STE backward, LSQ scale gradient)
 *   8. observers: MinMax, MovingAverageMinMax, per channel, histogram, KL
 *      (entropy), percentile, MSE, ACIQ
 *   9. storage formats: int4 / int2 packing, Q8 / Q4 blocks, bitplanes
 *  10. reference kernels (what the fast kernels of quant_kernels.h return)
 *
 * Every function that takes user data validates it and returns a
 * quant_status; on error it writes nothing to its outputs.
 *
 * LICENCE: MIT. See README.md.
 */
#ifndef QUANT_H
#define QUANT_H

#include <stdint.h>
#include <stddef.h>

#define QUANT_VERSION_MAJOR 0
#define QUANT_VERSION_MINOR 1
#define QUANT_VERSION_PATCH 0

#ifdef QUANT_STATIC
#define QUANT_DEF static
#else
#define QUANT_DEF extern
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* 1. status codes, dtypes, ranges                                          */
/* ======================================================================== */

typedef enum quant_status {
    QUANT_OK = 0,
    QUANT_EINVAL = -1,   /* NULL pointer, bad enum, qmin >= qmax, bad shape   */
    QUANT_ERANGE = -2,   /* a value outside what the format can hold          */
    QUANT_ENOMEM = -3,   /* allocation failed (training code only)            */
    QUANT_EFORMAT = -4,  /* malformed file or packed data                     */
    QUANT_EOVERFLOW = -5,/* a size computation would overflow size_t          */
    QUANT_ESCALE = -6,   /* scale <= 0, NaN, Inf or subnormal                 */
    QUANT_EEMPTY = -7    /* an observer that has seen no finite value         */
} quant_status;

QUANT_DEF const char *quant_status_str(quant_status s);

/* Storage types. The packed sub-byte types (I4, U4, I2, U2) are stored low
 * bits first: element i of a byte array lives in byte i / (8 / bits) at bit
 * offset (i % (8 / bits)) * bits. */
typedef enum quant_dtype {
    QUANT_I8 = 0, QUANT_U8, QUANT_I16, QUANT_I32,
    QUANT_I4, QUANT_U4, QUANT_I2, QUANT_U2
} quant_dtype;

/* Bits a dtype's element takes. 0 for an unknown dtype. */
QUANT_DEF int quant_dtype_bits(quant_dtype dt);
/* Bytes n elements of dt take (sub-byte types rounded up to whole bytes). */
QUANT_DEF size_t quant_dtype_bytes(quant_dtype dt, size_t n);
/* The full integer range of a dtype; with reduce_range one bit less
 * (PyTorch's reduce_range: uint8 [0,127], int8 [-64,63]). */
QUANT_DEF quant_status quant_dtype_range(quant_dtype dt, int reduce_range,
                                         int32_t *qmin, int32_t *qmax);

/* ======================================================================== */
/* 2. rounding, random generator, fp16 / bf16                               */
/* ======================================================================== */

typedef enum quant_round {
    QUANT_ROUND_HALF_EVEN = 0, /* default: nearbyintf, SIMD converts          */
    QUANT_ROUND_HALF_AWAY,     /* roundf, TFLite's TfLiteRound               */
    QUANT_ROUND_FLOOR,
    QUANT_ROUND_STOCHASTIC     /* floor(x + u), u uniform in [0, 1)           */
} quant_round;

/* A small reproducible generator (xoshiro128++-style, 128-bit state) for
 * stochastic rounding and k-means. Value type; seed it yourself. */
typedef struct quant_rng { uint32_t s[4]; } quant_rng;
QUANT_DEF void     quant_rng_seed(quant_rng *r, uint64_t seed);
QUANT_DEF uint32_t quant_rng_u32(quant_rng *r);
QUANT_DEF float    quant_rng_uniform(quant_rng *r); /* [0, 1), 24 bits */

/* Round a float to an integer-valued float in the given mode. `r` is used
 * only by QUANT_ROUND_STOCHASTIC (and must then be non-NULL). */
QUANT_DEF float quant_roundf(float x, quant_round mode, quant_rng *r);

/* Scalar quantization of one value: clamp(zp + round(x * inv_scale)).
 * NaN -> zp, +-Inf saturate. inv_scale is 1.0f / scale. */
QUANT_DEF int32_t quant_quantize1(float x, float inv_scale, int32_t zp,
                                  int32_t qmin, int32_t qmax);

/* IEEE binary16 and bfloat16, round to nearest even. */
QUANT_DEF uint16_t quant_fp32_to_fp16(float f);
QUANT_DEF float    quant_fp16_to_fp32(uint16_t h);
QUANT_DEF uint16_t quant_fp32_to_bf16(float f);
QUANT_DEF float    quant_bf16_to_fp32(uint16_t h);
QUANT_DEF void quant_fp32_to_fp16_n(const float *x, size_t n, uint16_t *y);
QUANT_DEF void quant_fp16_to_fp32_n(const uint16_t *x, size_t n, float *y);
QUANT_DEF void quant_fp32_to_bf16_n(const float *x, size_t n, uint16_t *y);
QUANT_DEF void quant_bf16_to_fp32_n(const uint16_t *x, size_t n, float *y);

/* ======================================================================== */
/* 3. params                                                                */
/* ======================================================================== */

typedef enum quant_scheme {
    QUANT_AFFINE = 0,  /* asymmetric: zp anywhere in [qmin, qmax]            */
    QUANT_SYMMETRIC    /* zp = 0 for signed ranges, midpoint for unsigned     */
} quant_scheme;

typedef struct quant_params {
    float   scale;       /* > 0, finite                                      */
    int32_t zero_point;  /* in [qmin, qmax]                                  */
    int32_t qmin, qmax;  /* the integer range the values are clamped to      */
} quant_params;

/* Params from a float range, PyTorch calculate_qparams in float32 bit for
 * bit: min_neg = min(min, 0), max_pos = max(max, 0);
 *   symmetric: scale = max(-min_neg, max_pos) / ((qmax - qmin) / 2),
 *              zp = 0 if qmin < 0, else (qmin + qmax + 1) / 2 (128 for uint8);
 *   affine:    scale = (max_pos - min_neg) / (qmax - qmin),
 *              zp = clamp(qmin - round_half_even(min_neg / scale));
 *   then scale = max(scale, FLT_EPSILON).
 * min == max (including all zero) gives valid params. An empty range
 * (min = +Inf, max = -Inf, the state of an observer that saw nothing) gives
 * scale 1, zp 0 like PyTorch. Errors: NaN bounds or min > max -> EINVAL;
 * qmin >= qmax -> EINVAL. Infinite bounds -> ERANGE. */
QUANT_DEF quant_status quant_params_from_range(float min, float max,
        int32_t qmin, int32_t qmax, quant_scheme scheme, quant_params *out);

/* Checks a params struct: scale finite, normal and > 0, qmin < qmax, zp in
 * range. Every function taking params calls this. */
QUANT_DEF quant_status quant_params_check(const quant_params *p);

/* Min and max of x (NaN and +-Inf skipped). n == 0 or no finite value gives
 * min = +Inf, max = -Inf and QUANT_EEMPTY. */
QUANT_DEF quant_status quant_minmax(const float *x, size_t n, float *min, float *max);

/* Per channel along `axis` of a row-major N-d tensor with `shape[ndim]`:
 * mins / maxs have shape[axis] entries. */
QUANT_DEF quant_status quant_minmax_axis(const float *x, const size_t *shape, int ndim,
        int axis, float *mins, float *maxs);

/* Per channel params: scales / zps have `channels` entries. */
QUANT_DEF quant_status quant_params_per_channel(const float *mins, const float *maxs,
        size_t channels, int32_t qmin, int32_t qmax, quant_scheme scheme,
        float *scales, int32_t *zps);

/* Scale storage for per-group params. With F16 the scale is rounded to fp16
 * and quantization uses the rounded value, so what is stored is what is used. */
typedef enum quant_scale_type { QUANT_SCALE_F32 = 0, QUANT_SCALE_F16 } quant_scale_type;

/* Per group/block along each row of a rows x cols matrix: groups of
 * `group` consecutive values (the last group of a row may be shorter).
 * scales: rows * ceil(cols / group) entries of float or uint16_t (fp16);
 * zps: same count (may be NULL for QUANT_SYMMETRIC signed ranges). */
QUANT_DEF quant_status quant_params_per_group(const float *x, size_t rows, size_t cols,
        size_t group, int32_t qmin, int32_t qmax, quant_scheme scheme,
        quant_scale_type st, void *scales, int32_t *zps);

/* ======================================================================== */
/* 4. quantize / dequantize                                                 */
/* ======================================================================== */

/* x[n] -> out[n] of dtype dt (packed for sub-byte types). p's [qmin, qmax]
 * must fit dt. */
QUANT_DEF quant_status quant_quantize(const float *x, size_t n, const quant_params *p,
        quant_dtype dt, void *out);
/* The same with an explicit rounding mode (rng required for STOCHASTIC). */
QUANT_DEF quant_status quant_quantize_ex(const float *x, size_t n, const quant_params *p,
        quant_dtype dt, quant_round mode, quant_rng *rng, void *out);
QUANT_DEF quant_status quant_dequantize(const void *q, quant_dtype dt, size_t n,
        const quant_params *p, float *out);

/* Per channel along `axis` of a row-major tensor. */
QUANT_DEF quant_status quant_quantize_per_channel(const float *x, const size_t *shape,
        int ndim, int axis, const float *scales, const int32_t *zps,
        int32_t qmin, int32_t qmax, quant_dtype dt, void *out);
QUANT_DEF quant_status quant_dequantize_per_channel(const void *q, quant_dtype dt,
        const size_t *shape, int ndim, int axis, const float *scales,
        const int32_t *zps, float *out);

/* Per group along rows (same layout as quant_params_per_group). For packed
 * sub-byte dtypes each row starts on a byte boundary. zps may be NULL (0). */
QUANT_DEF quant_status quant_quantize_per_group(const float *x, size_t rows, size_t cols,
        size_t group, quant_scale_type st, const void *scales, const int32_t *zps,
        int32_t qmin, int32_t qmax, quant_dtype dt, void *out);
QUANT_DEF quant_status quant_dequantize_per_group(const void *q, quant_dtype dt,
        size_t rows, size_t cols, size_t group, quant_scale_type st,
        const void *scales, const int32_t *zps, float *out);

/* Signal-to-quantization-noise ratio in dB of y against reference x
 * (10 log10(sum x^2 / sum (x - y)^2)); +Inf when equal. Also max |x - y|. */
QUANT_DEF double quant_sqnr_db(const float *x, const float *y, size_t n, double *max_abs_err);

/* ======================================================================== */
/* 5. fixed point and requantization                                        */
/* ======================================================================== */

typedef enum quant_requant_mode {
    QUANT_RQ_GEMMLOWP = 0, /* double rounding, TFLite default                */
    QUANT_RQ_SINGLE,       /* single rounding, ties up                       */
    QUANT_RQ_FP32          /* float multiply, round half to even             */
} quant_requant_mode;

/* real ~= multiplier * 2^(shift - 31), multiplier in [2^30, 2^31) or 0. */
typedef struct quant_requant {
    int32_t multiplier;
    int32_t shift;       /* -31 .. 30; > 0 is a left shift                  */
    float   scale;       /* (float)real, for QUANT_RQ_FP32                  */
} quant_requant;

/* TFLite QuantizeMultiplier: frexp, round half away, 2^31 -> 2^30 with
 * shift + 1, shift < -31 -> (0, 0), shift > 30 -> (2^31 - 1, 30).
 * real must be finite and >= 0 (EINVAL otherwise). */
QUANT_DEF quant_status quant_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift);
QUANT_DEF quant_status quant_requant_from_scale(double real, quant_requant *out);

/* The primitives, exact for every int32 input. */
QUANT_DEF int32_t quant_srdhm(int32_t a, int32_t b);          /* SaturatingRoundingDoublingHighMul */
QUANT_DEF int32_t quant_rdivpot(int32_t x, int exponent);     /* RoundingDivideByPOT, 0..31        */
QUANT_DEF int32_t quant_sat_shl(int32_t x, int exponent);     /* saturating x * 2^e, 0..31         */
/* x * real in each integer mode (without zero point or clamp). */
QUANT_DEF int32_t quant_mul_by_multiplier(int32_t x, int32_t multiplier, int32_t shift);        /* gemmlowp */
QUANT_DEF int32_t quant_mul_by_multiplier_single(int32_t x, int32_t multiplier, int32_t shift); /* single   */

/* One accumulator -> clamp(zp + rescale(acc), lo, hi) in the given mode. */
QUANT_DEF int32_t quant_requantize1(int32_t acc, const quant_requant *rq,
        quant_requant_mode mode, int32_t zp, int32_t lo, int32_t hi);

typedef enum quant_activation {
    QUANT_ACT_NONE = 0, QUANT_ACT_RELU, QUANT_ACT_RELU6, QUANT_ACT_RANGE
} quant_activation;

/* TFLite CalculateActivationRangeQuantized: the [lo, hi] clamp in the
 * quantized domain for an activation (RANGE uses [a_lo, a_hi] in floats),
 * intersected with [qmin, qmax]. */
QUANT_DEF quant_status quant_activation_range(quant_activation act, float a_lo, float a_hi,
        const quant_params *out, int32_t *lo, int32_t *hi);

/* int32 rows x cols (row-major) -> int8/uint8 (dt QUANT_I8 or QUANT_U8):
 * out = clamp(zp + rescale(acc + bias[c]), lo, hi). bias may be NULL; rq has
 * `cols` entries when per_channel, else 1. */
QUANT_DEF quant_status quant_requantize(const int32_t *acc, size_t rows, size_t cols,
        const int32_t *bias, const quant_requant *rq, int per_channel,
        quant_requant_mode mode, int32_t zp, int32_t lo, int32_t hi,
        quant_dtype dt, void *out);

/* Dyadic scale: real ~= m / 2^k with m < 2^mbits (1..31), k in 0..62, the
 * largest k that fits (most precise). Apply with quant_dyadic_apply
 * (round half up, saturated). */
QUANT_DEF quant_status quant_dyadic_from_scale(double real, int mbits, int32_t *m, int32_t *k);
QUANT_DEF int32_t quant_dyadic_apply(int32_t x, int32_t m, int32_t k);

/* ======================================================================== */
/* 6. quantized elementwise arithmetic (TFLite semantics, int8 and uint8)   */
/* ======================================================================== */

/* Precomputed parameters; build once, apply to many elements. */
typedef struct quant_add_params {
    int32_t in1_offset, in2_offset, out_offset; /* -zp1, -zp2, zp_out       */
    int32_t left_shift;                         /* 20 (TFLite int8/uint8)   */
    int32_t in1_mult, in1_shift, in2_mult, in2_shift, out_mult, out_shift;
    int32_t lo, hi;                             /* activation clamp         */
} quant_add_params;
typedef struct quant_mul_params {
    int32_t in1_offset, in2_offset, out_offset;
    int32_t out_mult, out_shift;
    int32_t lo, hi;
} quant_mul_params;

QUANT_DEF quant_status quant_add_prepare(const quant_params *a, const quant_params *b,
        const quant_params *out, quant_activation act, quant_add_params *prm);
QUANT_DEF quant_status quant_mul_prepare(const quant_params *a, const quant_params *b,
        const quant_params *out, quant_activation act, quant_mul_params *prm);
/* dt QUANT_I8 or QUANT_U8 for all three arrays. */
QUANT_DEF quant_status quant_add(const void *a, const void *b, size_t n, quant_dtype dt,
        const quant_add_params *prm, void *out);
QUANT_DEF quant_status quant_mul(const void *a, const void *b, size_t n, quant_dtype dt,
        const quant_mul_params *prm, void *out);
/* Requantize between params (TFLite Requantize): gemmlowp multiplier of
 * in.scale / out.scale applied to (q - zp_in), + zp_out, clamped to out's
 * range. in_dt / out_dt: QUANT_I8 or QUANT_U8. */
QUANT_DEF quant_status quant_requantize_params(const void *in, quant_dtype in_dt,
        const quant_params *pin, size_t n, const quant_params *pout,
        quant_dtype out_dt, void *out);

/* 256-entry table: lut[q & 0xff] = clamp(zp_o + round_half_away(f((q - zp_i)
 * * s_i) / s_o)) for every q of dt (TFLite LUTPopulate). Apply with
 * quant_lut_apply. f receives `ctx`. */
typedef float (*quant_unary_fn)(float x, const void *ctx);
QUANT_DEF quant_status quant_lut_build(const quant_params *in, const quant_params *out,
        quant_dtype dt, quant_unary_fn f, const void *ctx, uint8_t lut[256]);
QUANT_DEF void quant_lut_apply(const uint8_t lut[256], const void *in, size_t n, void *out);
/* Ready-made functions for quant_lut_build (ctx unused). */
QUANT_DEF float quant_fn_sigmoid(float x, const void *ctx);
QUANT_DEF float quant_fn_tanh(float x, const void *ctx);
QUANT_DEF float quant_fn_exp(float x, const void *ctx);
QUANT_DEF float quant_fn_gelu(float x, const void *ctx); /* erf form */

/* ======================================================================== */
/* 7. other quantizers                                                      */
/* ======================================================================== */

/* Power-of-two (logarithmic) quantization with `bits` (2..8): codes are
 * int8, 0 is zero, otherwise sign(x) * (e - emin + 1) with |x| ~ 2^e,
 * e in [emin, emin + 2^(bits-1) - 2]. emin is chosen from the absmax so
 * the largest level is 2^round(log2 absmax). Rounding to the nearest level
 * in the linear domain (ties to the larger); below 2^(emin-1) -> 0. */
QUANT_DEF quant_status quant_pow2_emin(const float *x, size_t n, int bits, int32_t *emin);
QUANT_DEF quant_status quant_pow2_quantize(const float *x, size_t n, int bits, int32_t emin,
        int8_t *codes);
QUANT_DEF quant_status quant_pow2_dequantize(const int8_t *codes, size_t n, int32_t emin,
        float *out);
/* Shift arithmetic: sum_i a[i] * 2^(e_i - emin) by shifts only (exact in
 * int64). The real dot is the result * 2^emin * (activation scale). */
QUANT_DEF int64_t quant_pow2_dot(const int8_t *a, const int8_t *codes, size_t n);

/* Dynamic fixed point Qm.n: the most fractional bits `frac` such that
 * round(absmax * 2^frac) fits in a signed `bits` integer (2..16). */
QUANT_DEF quant_status quant_dfp_frac_bits(const float *x, size_t n, int bits, int32_t *frac);
/* out dtype QUANT_I8 (bits <= 8) or QUANT_I16. q = clamp(round(x * 2^frac)). */
QUANT_DEF quant_status quant_dfp_quantize(const float *x, size_t n, int bits, int32_t frac,
        quant_dtype dt, void *out);
QUANT_DEF quant_status quant_dfp_dequantize(const void *q, quant_dtype dt, size_t n,
        int32_t frac, float *out);

/* Fake quantization (QAT), PyTorch fake_quantize_per_tensor_affine:
 * y = (clamp(zp + round(x * (1/s)), qmin, qmax) - zp) * s;
 * mask[i] = 1 where zp + round(x * (1/s)) is inside [qmin, qmax] (the STE
 * passes the gradient there). mask may be NULL. */
QUANT_DEF quant_status quant_fake_quant(const float *x, size_t n, const quant_params *p,
        float *y, uint8_t *mask);
QUANT_DEF quant_status quant_fake_quant_per_channel(const float *x, const size_t *shape,
        int ndim, int axis, const float *scales, const int32_t *zps, int32_t qmin,
        int32_t qmax, float *y, uint8_t *mask);
/* STE backward: dx = mask ? dy : 0. */
QUANT_DEF quant_status quant_fake_quant_backward(const float *dy, const uint8_t *mask,
        size_t n, float *dx);
/* LSQ (Esser et al. 2020): dx as the STE, and the gradient of the loss with
 * respect to the scale: sum_i dy_i * g_i * grad_factor, where
 * g_i = round(x/s) - x/s inside, qmin - zp below, qmax - zp above.
 * grad_factor <= 0 selects the paper's 1 / sqrt(n * qmax). */
QUANT_DEF quant_status quant_lsq_backward(const float *x, const float *dy, size_t n,
        const quant_params *p, float grad_factor, float *dx, float *dscale);

/* ======================================================================== */
/* 8. observers                                                             */
/* ======================================================================== */

#define QUANT_HIST_BINS 2048  /* bins over |x| on each side of zero           */

typedef enum quant_observer_kind {
    QUANT_OBS_MINMAX = 0,
    QUANT_OBS_MOVING_AVERAGE,  /* PyTorch MovingAverageMinMaxObserver           */
    QUANT_OBS_HISTOGRAM,       /* 2 x 2048 bins, symmetric about 0, grows        */
    QUANT_OBS_KL,              /* histogram + TensorRT/ncnn entropy threshold    */
    QUANT_OBS_PERCENTILE,      /* histogram + percentile (default 99.99)         */
    QUANT_OBS_MSE,             /* histogram + MSE-optimal clipping search        */
    QUANT_OBS_ACIQ             /* histogram + ACIQ analytic clipping             */
} quant_observer_kind;

/* The histogram: bins[QUANT_HIST_BINS + i] counts x in [i*w, (i+1)*w),
 * bins[QUANT_HIST_BINS - 1 - i] counts x in (-(i+1)*w, -i*w], w = range /
 * QUANT_HIST_BINS. Exact zeros are counted in `zeros`, not in the bins
 * (ncnn skips them for KL). A value past the range doubles the range (and
 * merges bin pairs, exact) until it fits. Bin index = min((int)(|x| *
 * (QUANT_HIST_BINS / range)), QUANT_HIST_BINS - 1) in float, as ncnn. */
typedef struct quant_histogram {
    double bins[2 * QUANT_HIST_BINS];
    double zeros;
    float  range;   /* 0 until the first non-zero finite value */
} quant_histogram;

typedef struct quant_observer {
    quant_observer_kind kind;
    float min, max;            /* running (MinMax, MovingAverage, all)       */
    float averaging_constant;  /* MovingAverage, default 0.01                */
    float percentile;          /* PERCENTILE, default 99.99                  */
    int   aciq_bits;           /* ACIQ: bits of the target (default 8)       */
    int   aciq_laplace;        /* ACIQ: 1 Laplace (default), 0 Gaussian      */
    uint64_t n_seen;           /* finite values seen                         */
    uint64_t n_nonfinite;      /* NaN / Inf ignored                          */
    double sum, sum_abs, sum_sq; /* moments for ACIQ                         */
    quant_histogram hist;      /* histogram-based kinds                      */
} quant_observer;

QUANT_DEF quant_status quant_observer_init(quant_observer *o, quant_observer_kind kind);
QUANT_DEF quant_status quant_observer_update(quant_observer *o, const float *x, size_t n);
/* The chosen clipping range [lo, hi]. Exact definitions (w = bin width,
 * "signed bins" ordered from most negative to most positive with the zeros
 * as a point mass between bin QUANT_HIST_BINS - 1 and QUANT_HIST_BINS):
 *  MINMAX, MOVING_AVERAGE, HISTOGRAM: the running [min, max].
 *    MovingAverage (PyTorch): the first batch sets [min, max]; later ones
 *    min += c * (batch_min - min) (float32, each operation rounded, no FMA).
 *  KL: t = (best + 0.5) * w with best = quant_kl_threshold_bins() over the
 *    |x| histogram (the two sides folded, zeros excluded, normalised), 128
 *    target bins; [lo, hi] = [-t, t] for symmetric, [max(min, -t),
 *    min(max, t)] for affine.
 *  PERCENTILE (p, default 99.99): symmetric: t = (i + 1) * w for the first
 *    |x| bin i whose cumulative count (zeros first) >= p / 100 * total;
 *    affine: over the signed bins, hi = upper edge of the first bin whose
 *    cumulative count from below >= p/100 * total, lo = lower edge of the
 *    first whose cumulative count >= (1 - p/100) * total (the zero mass has
 *    edges 0, 0); then clipped to [min, max].
 *  MSE: error(lo, hi) = sum over non-empty signed bins of count *
 *    (fq(c) - c)^2, c the bin centre (+-(i + 0.5) * w), fq the fake quant
 *    with quant_params_from_range(lo, hi, qmin, qmax, scheme), all in double
 *    except the params. Symmetric: t = k * w, k = 1..QUANT_HIST_BINS, the
 *    first minimum. Affine: lo = -i * w, hi = j * w; start at the smallest
 *    edges holding all the data, then alternate the best j for the i held
 *    (j = 0..QUANT_HIST_BINS) and the best i for the j held, until neither
 *    moves (at most 8 rounds), first minimum each time. Clipped to [min,max].
 *  ACIQ: mu = mean, var = mean square - mu^2 of the finite values; b =
 *    sqrt(var / 2) (Laplace) or sigma = sqrt(var) (Gaussian); alpha =
 *    quant_aciq_alpha(bits, laplace) * b; symmetric t = |mu| + alpha,
 *    affine [mu - alpha, mu + alpha]; clipped to [min, max] (symmetric: t
 *    at most max(-min, max)). */
QUANT_DEF quant_status quant_observer_range(const quant_observer *o, quant_scheme scheme,
        int32_t qmin, int32_t qmax, float *lo, float *hi);
QUANT_DEF quant_status quant_observer_params(const quant_observer *o, int32_t qmin,
        int32_t qmax, quant_scheme scheme, quant_params *out);

/* Per channel MinMax / MovingAverage over a row-major tensor along `axis`.
 * The state points at caller storage of `channels` floats each. */
typedef struct quant_observer_pc {
    float *min, *max;
    size_t channels;
    int    moving;                 /* 0 MinMax, 1 MovingAverage              */
    float  averaging_constant;
    int    initialised;
    uint64_t n_nonfinite;
} quant_observer_pc;
QUANT_DEF quant_status quant_observer_pc_init(quant_observer_pc *o, float *min_storage,
        float *max_storage, size_t channels, int moving);
QUANT_DEF quant_status quant_observer_pc_update(quant_observer_pc *o, const float *x,
        const size_t *shape, int ndim, int axis);
QUANT_DEF quant_status quant_observer_pc_params(const quant_observer_pc *o, int32_t qmin,
        int32_t qmax, quant_scheme scheme, float *scales, int32_t *zps);

/* Histogram primitives (usable on their own). */
QUANT_DEF void quant_histogram_init(quant_histogram *h);
QUANT_DEF void quant_histogram_add(quant_histogram *h, const float *x, size_t n);
/* ncnn's KL threshold over a normalised |x| histogram `dist[nbins]` with
 * `target` quantized bins: returns the best threshold bin index in
 * [target, nbins); the threshold is (index + 0.5) * bin width. */
QUANT_DEF int quant_kl_threshold_bins(const double *dist, int nbins, int target);
/* ACIQ optimal clipping constant alpha / b (Laplace) or alpha / sigma
 * (Gaussian) for `bits` (1..16), by minimizing the analytic MSE. */
QUANT_DEF double quant_aciq_alpha(int bits, int laplace);

/* ======================================================================== */
/* 9. storage formats                                                       */
/* ======================================================================== */

/* Sub-byte packing, low bits first; values must be in the dtype's range
 * (ERANGE otherwise, nothing written). Padding bits of the last byte are 0. */
QUANT_DEF quant_status quant_pack(const int8_t *v, size_t n, quant_dtype dt, uint8_t *out);
QUANT_DEF quant_status quant_unpack(const uint8_t *in, size_t n, quant_dtype dt, int8_t *v);

/* ggml-like blocks: 32 values with their fp16 scale beside them.
 * Q8: q in [-127, 127], d = absmax / 127.   Q4: q in [-8, 7] stored as
 * q + 8, two per byte, low nibble first, d = absmax / 7 (-8 unused unless
 * rounding reaches it: it cannot). Quantization uses the fp16-rounded d. */
#define QUANT_BLOCK 32
typedef struct quant_block_q8 { uint16_t d; int8_t  qs[QUANT_BLOCK]; } quant_block_q8;
typedef struct quant_block_q4 { uint16_t d; uint8_t qs[QUANT_BLOCK / 2]; } quant_block_q4;
/* n must be a multiple of QUANT_BLOCK (EINVAL otherwise). */
QUANT_DEF quant_status quant_block_q8_quantize(const float *x, size_t n, quant_block_q8 *out);
QUANT_DEF quant_status quant_block_q8_dequantize(const quant_block_q8 *b, size_t n, float *out);
QUANT_DEF quant_status quant_block_q4_quantize(const float *x, size_t n, quant_block_q4 *out);
QUANT_DEF quant_status quant_block_q4_dequantize(const quant_block_q4 *b, size_t n, float *out);

/* Bitplanes in 64-bit words along K: each row of K values takes
 * words = ceil(K / 64) words; value k of a row is bit (k % 64) of word
 * k / 64. Binary: bit 1 means -1, bit 0 means +1 (x >= 0 -> +1, so 0 -> +1).
 * Ternary: a sign plane (1 = negative) and a non-zero plane (1 = non-zero).
 * Padding bits (k >= K) are 0 in every plane. */
QUANT_DEF size_t quant_bits_words(size_t K);
QUANT_DEF quant_status quant_pack_binary(const float *x, size_t rows, size_t K, uint64_t *out);
QUANT_DEF quant_status quant_unpack_binary(const uint64_t *in, size_t rows, size_t K, float *x);
/* Ternary from float with threshold t: x > t -> +1, x < -t -> -1, else 0. */
QUANT_DEF quant_status quant_pack_ternary(const float *x, size_t rows, size_t K, float t,
        uint64_t *sign, uint64_t *nonzero);
QUANT_DEF quant_status quant_unpack_ternary(const uint64_t *sign, const uint64_t *nonzero,
        size_t rows, size_t K, int8_t *v);

/* ======================================================================== */
/* 10. reference kernels                                                    */
/* ======================================================================== */

/* C[M x N] (int32) = sum_k (A[m,k] - a_zp) * (B[k,n] - b_zp); A is M x K
 * uint8 (a_signed = 0) or int8 (a_signed = 1) row-major with lda; B is
 * K x N int8 row-major with ldb. Exact while K * 255 * 255 < 2^31
 * (K <= 33025); the fast kernels promise the same bound. */
QUANT_DEF void quant_ref_gemm_i32(size_t M, size_t N, size_t K, const void *A, int a_signed,
        size_t lda, int32_t a_zp, const int8_t *B, size_t ldb, int32_t b_zp,
        int32_t *C, size_t ldc);

#ifdef __cplusplus
}
#endif

#endif /* QUANT_H */
