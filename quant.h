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
 *   QUANT_MALLOC/QUANT_FREE  the allocator of the training code (k-means, VQ
 *                          and codebook training), the only code here that
 *                          allocates (default: malloc / free)
 *
 * Only <stdint.h> <stddef.h> <string.h> <math.h> <float.h> (+ <assert.h>,
 * <stdlib.h> behind the macros above); nothing here does I/O. No global
 * mutable state: reentrant. (The model runner, examples/runner/runner.h, is
 * an example beside the library: it calls malloc and stdio itself.)
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
 *   9. storage formats: int4 / int2 packing, Q8 / Q4 blocks, bitplanes;
 *      binary / ternary quantizers (BWN, XNOR-Net, TWN) and their STE
 *  10. reference kernels (what the fast kernels of quant_kernels.h return):
 *      int8 GEMM and convolutions, binary / ternary GEMM, int4 block GEMM
 *  11. vector and product quantization: k-means (k-means++, empty-cluster
 *      repair, subsampling, progress), VQ, scalar codebooks (weight
 *      sharing, 4/8-bit indices, GEMV), PQ (train, encode, decode, ADC
 *      tables, top-k scan, PQ matmul), codebook / code blobs
 *  12. post-training quantization: cross-layer equalization (DFQ), bias
 *      correction (empirical and data-free), GPTQ error-compensating
 *      rounding for any width 2..8
 *
 * ERRORS. Every function that returns a quant_status validates its
 * arguments (NULL pointers, enums, ranges, scales, shapes) and, on error,
 * writes nothing to its outputs. Sizes that multiply (rows x stride x
 * element bytes of every matrix, a convolution's tensors, packed sizes) are
 * checked: a call whose buffers could not exist returns QUANT_EOVERFLOW
 * (size queries return 0) before touching memory. Buffer lengths you pass
 * as counts (n, rows, a stride) are trusted: nothing can check that a
 * pointer really holds that many elements.
 *
 * The functions that do not return a status are helpers with preconditions,
 * unchecked or checked only by QUANT_ASSERT (the hot scalar paths):
 *   - size and shape queries, which return 0 (or -1 / NaN, as documented)
 *     for invalid input: quant_dtype_bits, quant_dtype_bytes,
 *     quant_bits_words, quant_codebook_row_bytes, quant_pq_centroids_floats,
 *     quant_pq_code_size, quant_pq_code_get, quant_pq_blob_size,
 *     quant_codebook_blob_size, quant_pq_compression, quant_kl_threshold_bins,
 *     quant_aciq_alpha, quant_status_str, and quant_kernels.h's *_size;
 *   - scalar arithmetic on values only (no pointers; any input gives a
 *     defined result unless noted): quant_quantize1 (inv_scale finite > 0 for
 *     a meaningful result), quant_roundf (r non-NULL for
 *     QUANT_ROUND_STOCHASTIC, asserted), the fp16 / bf16 converters, the
 *     fixed-point primitives quant_srdhm, quant_rdivpot, quant_sat_shl,
 *     quant_mul_by_multiplier(_single), quant_dyadic_apply (exponents and
 *     shifts in their documented ranges, asserted), quant_requantize1 (rq
 *     non-NULL and valid, as quant_requant_from_scale makes it; lo <= hi),
 *     quant_fn_sigmoid / tanh / exp / gelu;
 *   - array helpers that trust their pointers and lengths (valid for n
 *     elements, no other check): quant_fp32_to_fp16_n and the other _n
 *     converters, quant_lut_apply, quant_pow2_dot (codes from
 *     quant_pow2_quantize, asserted), quant_sqnr_db (n = 0 gives +Inf);
 *   - state helpers: quant_rng_seed, quant_kmeans_opts_default and
 *     quant_histogram_init (NULL ignored), quant_rng_u32 / _uniform (r
 *     non-NULL);
 *   - the reference building blocks and nearest-centroid callbacks, called
 *     by validated entry points or as quant_kmeans_opts.nearest with checked
 *     shapes: quant_ref_gemm_i32, quant_epilogue_apply1 (an epilogue that
 *     passed quant_epilogue_check, m and n inside C), quant_ref_nearest and
 *     quant_kernels.h's quant_nearest (x n x d with ldx >= d, c k x d, ct /
 *     norms as quant_centroids_prepare makes them, idx or score sized n or
 *     n x k).
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
#if defined(__GNUC__) || defined(__clang__)
#define QUANT_DEF static __attribute__((unused))
#else
#define QUANT_DEF static
#endif
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
/* Bytes n elements of dt take (sub-byte types rounded up to whole bytes);
 * 0 for an unknown dtype or when the size overflows size_t. */
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
 * qmin >= qmax -> EINVAL. Infinite bounds -> ERANGE. Finite bounds whose
 * width overflows float (max - min > FLT_MAX) take the scale from the width
 * in double; ERANGE only if the scale itself exceeds FLT_MAX, which needs
 * qmax - qmin == 1. (With bounds within a step of +-FLT_MAX, the end codes
 * may dequantize to +-Inf: their real values exceed float.) */
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
 * `cols` entries when per_channel, else 1. acc + bias wraps modulo 2^32, as
 * the 32-bit adds of the SIMD kernels do: keep |bias| + |acc| < 2^31 (true
 * for any bias below 2^30 with K inside the kernels' documented bound). */
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

/* Both refuse (QUANT_ERANGE) a ratio of scales whose fixed-point multiplier
 * would saturate (2^30 - 1/4 or more; quant_quantize_multiplier would clamp
 * it to (2^31 - 1, 30)): add's 2 max(s_a, s_b) / (2^20 s_out), mul's
 * s_a s_b / s_out (in float, as TFLite: an overflow to Inf is refused the
 * same way); quant_requantize_params does so for s_in / s_out. */
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
 * * s_i) * (1 / s_o)), out's [qmin, qmax]) for every q of dt (TFLite
 * LUTPopulate: float arithmetic, reciprocal first). A NaN from f maps to
 * zp_o. Apply with quant_lut_apply. f receives `ctx`. */
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
 * merges bin pairs, exact) until it fits, or until the range passes
 * FLT_MAX / 2 (larger values are then clamped into the outer bins). Bin
 * index = min((int)(|x| * (QUANT_HIST_BINS / range)), QUANT_HIST_BINS - 1)
 * in float, as ncnn (in double if QUANT_HIST_BINS / range overflows, for
 * subnormal ranges). */
typedef struct quant_histogram {
    double bins[2 * QUANT_HIST_BINS];
    double zeros;
    double edge[2];   /* of the outermost bins, the values clamped into them
                         (|x| * (BINS / range) >= BINS, i.e. |x| == range):
                         tracked so that growing stays exact (negative, positive) */
    float  range;     /* 0 until the first non-zero finite value             */
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
 *  Symmetric thresholds t below are capped at max(-min, max); affine
 *    ranges are clipped to [min(min, 0), max(max, 0)] (they contain 0, so
 *    they never invert).
 *  KL: t = (best + 0.5) * w with best = quant_kl_threshold_bins() over the
 *    |x| histogram (the two sides folded, zeros excluded, normalised), 128
 *    target bins; [lo, hi] = [-t, t] for symmetric, [-t, t] clipped for
 *    affine.
 *  PERCENTILE (p, default 99.99): symmetric: t = (i + 1) * w for the first
 *    |x| bin i whose cumulative count (zeros first) >= p / 100 * total;
 *    affine: over the signed bins, hi = upper edge of the first bin whose
 *    cumulative count from below >= p/100 * total, lo = lower edge of the
 *    first whose cumulative count >= (1 - p/100) * total (the zero mass has
 *    edges 0, 0; empty bins before any mass are skipped); then clipped.
 *  MSE: error(lo, hi) = sum over non-empty signed bins of count *
 *    (fq(c) - c)^2, c the bin centre (+-(i + 0.5) * w), fq the fake quant
 *    with quant_params_from_range(lo, hi, qmin, qmax, scheme), all in double
 *    except the params. Symmetric: t = k * w, k = 1..QUANT_HIST_BINS, the
 *    first minimum. Affine: lo = -i * w, hi = j * w; start at the smallest
 *    edges holding all the data, then alternate the best j for the i held
 *    (j = 0..QUANT_HIST_BINS) and the best i for the j held, until neither
 *    moves (at most 8 rounds), first minimum each time; fq uses c * (1/s).
 *  ACIQ: mu = mean, var = mean square - mu^2 of the finite values; b =
 *    sqrt(var / 2) (Laplace) or sigma = sqrt(var) (Gaussian); alpha =
 *    quant_aciq_alpha(bits, laplace) * b (the moment estimator of the
 *    Laplace b, not the mean absolute deviation: it streams); symmetric
 *    t = |mu| + alpha, affine [mu - alpha, mu + alpha].
 * An observer that saw no finite value: range -> QUANT_EEMPTY;
 * params -> scale 1, zero point 0 (clamped into range), as PyTorch. */
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
/* Adds the finite values of x (NaN / Inf are skipped). QUANT_EINVAL, and
 * nothing changes, for h NULL, x NULL with n > 0, or a histogram whose
 * range is not 0 or finite and > 0 (NaN, negative, Inf: a damaged state). */
QUANT_DEF quant_status quant_histogram_add(quant_histogram *h, const float *x, size_t n);
/* ncnn's KL threshold over a normalised |x| histogram `dist[nbins]` with
 * `target` quantized bins: returns the best threshold bin index in
 * [target, nbins) (the first minimum); the threshold is (index + 0.5) * bin
 * width. -1 if dist is NULL, target < 1 or nbins not in (target,
 * QUANT_HIST_BINS]. P is the first `index` bins with the tail mass added to
 * the last; the candidate Q merges the raw bins (without the tail, as ncnn
 * and TensorRT do) into `target` levels and expands each level uniformly
 * over its non-empty source bins; KL = sum over P != 0 of (Q == 0 ? 1 :
 * P log(P / Q)). */
QUANT_DEF int quant_kl_threshold_bins(const double *dist, int nbins, int target);
/* ACIQ optimal clipping constant alpha / b (Laplace) or alpha / sigma
 * (Gaussian) for `bits` (1..16; NaN otherwise), by minimizing the analytic
 * MSE (Banner et al. 2019). */
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
/* the sizes are part of the format */
typedef char quant__static_assert_q8[sizeof(quant_block_q8) == 34 ? 1 : -1];
typedef char quant__static_assert_q4[sizeof(quant_block_q4) == 18 ? 1 : -1];
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


/* Binary and ternary quantizers (XNOR-Net / BWN, TWN). Weights are rows x K
 * (one row per output channel), packed as the bitplanes above.
 *  binarize: b = sign(w) with 0 -> +1; alpha[r] = mean |w| of the row
 *    (BWN / XNOR-Net); alpha may be NULL.
 *  ternarize (TWN, Li et al. 2016): delta = 0.7 * mean |w| of the row;
 *    t = +1 if w > delta, -1 if w < -delta, else 0; alpha[r] = mean |w| over
 *    |w| > delta (0 if none). delta may be NULL.
 * NaN weights count as 0 in the means and pack as +1 / 0; an infinite
 * weight makes the ternary delta infinite: ternarize returns ERANGE. */
QUANT_DEF quant_status quant_binarize(const float *w, size_t rows, size_t K, float *alpha, uint64_t *bits);
QUANT_DEF quant_status quant_ternarize(const float *w, size_t rows, size_t K, float *alpha, float *delta,
        uint64_t *sign, uint64_t *nonzero);
/* Straight-through estimators: dx = dy where |x| <= clip (1 for the sign
 * function of BNNs), 0 elsewhere (and where x is NaN). */
QUANT_DEF quant_status quant_ste_backward(const float *x, const float *dy, size_t n, float clip, float *dx);
/* Activations from int8 / uint8 (a_signed) with zero point zp (inside the
 * type's range, EINVAL otherwise): binary bit = (q < zp) (so q == zp, real
 * 0, is +1); ternary with threshold thr >= 0 (EINVAL otherwise) in quantized
 * steps: +1 if q - zp > thr, -1 if q - zp < -thr, else 0. */
QUANT_DEF quant_status quant_pack_binary_q(const void *q, int a_signed, size_t rows, size_t K, int32_t zp,
        uint64_t *bits);
QUANT_DEF quant_status quant_pack_ternary_q(const void *q, int a_signed, size_t rows, size_t K, int32_t zp,
        int32_t thr, uint64_t *sign, uint64_t *nonzero);

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

/* The fused GEMM: what every quant_kernels.h GEMM returns, bit for bit.
 *   acc[m,n] = sum_k (A[m,k] - a_zp) * (B[k,n] - b_zp)      (exact int32)
 * then, by out:
 *   QUANT_OUT_I32: C = acc (+ bias_i32[n] if given, wrapping)
 *   QUANT_OUT_I8 / QUANT_OUT_U8:
 *       C = clamp(out_zp + rescale_mode(acc + bias_i32[n]), out_min, out_max)
 *       with rq[n] (per_channel) or rq[0], as quant_requantize1
 *   QUANT_OUT_F32: C = fmaf((float)acc, a_scale[m] * w_scale[n], bias_f32[n])
 *       (the scale product rounded to float first; one fused multiply-add;
 *        a_scale NULL means 1 for every row; bias NULL means 0) */
typedef enum quant_out_type { QUANT_OUT_I32 = 0, QUANT_OUT_I8, QUANT_OUT_U8, QUANT_OUT_F32 } quant_out_type;
typedef struct quant_epilogue {
    quant_out_type out;
    const int32_t *bias_i32;     /* [N] or NULL: I32, I8, U8 outputs           */
    quant_requant_mode mode;     /* I8 / U8                                    */
    const quant_requant *rq;     /* [N] if per_channel else [1]                */
    int per_channel;
    int32_t out_zp, out_min, out_max;
    const float *a_scale;        /* F32: [M] per-row activation scale or NULL  */
    const float *w_scale;        /* F32: [N] per-channel weight scale          */
    const float *bias_f32;       /* F32: [N] or NULL                           */
} quant_epilogue;

/* Checks an epilogue for N columns (EINVAL / ESCALE). */
QUANT_DEF quant_status quant_epilogue_check(const quant_epilogue *ep, size_t N);

/* Reference fused GEMM: A is M x K (uint8, or int8 with a_signed) with row
 * stride lda; B is K x N int8 row-major (ldb); C has row stride ldc in
 * elements of the output type. K <= QUANT_GEMM_MAX_K. */
#define QUANT_GEMM_MAX_K 33025
QUANT_DEF quant_status quant_ref_gemm(size_t M, size_t N, size_t K, const void *A, int a_signed,
        size_t lda, int32_t a_zp, const int8_t *B, size_t ldb, int32_t b_zp,
        const quant_epilogue *ep, void *C, size_t ldc);
/* The epilogue of one accumulator (used by the reference and the kernels). */
QUANT_DEF void quant_epilogue_apply1(const quant_epilogue *ep, size_t m, size_t n, int32_t acc,
        void *C, size_t ldc);


/* Convolution shapes (NHWC activations). Output size:
 *   out_h = (in_h + pad_top + pad_bottom - dil_h * (k_h - 1) - 1) / stride_h + 1
 * (and the same for w). Padding is zero in real terms: a padded position
 * holds the activation zero point. groups: 1 for a normal convolution,
 * in_c (= out_c) for depthwise. */
typedef struct quant_conv_shape {
    size_t batch, in_h, in_w, in_c, out_c, k_h, k_w;
    size_t stride_h, stride_w, dil_h, dil_w;
    size_t pad_top, pad_left, pad_bottom, pad_right;
} quant_conv_shape;

/* Validates a shape (non-zero sizes and strides, kernel fits, no size_t
 * overflow) and gives the output height and width. */
QUANT_DEF quant_status quant_conv_out_size(const quant_conv_shape *s, size_t *out_h, size_t *out_w);

/* Reference int8 conv2d: in NHWC (uint8 or int8 with a_signed, zero point
 * a_zp), weights [out_c][k_h][k_w][in_c] int8 with zero point w_zp, the
 * epilogue of quant_ref_gemm with row = output pixel (n, oh, ow) and
 * column = output channel; out NHWC. */
QUANT_DEF quant_status quant_ref_conv2d(const quant_conv_shape *s, const void *in, int a_signed, int32_t a_zp,
        const int8_t *w, int32_t w_zp, const quant_epilogue *ep, void *out);
/* Reference depthwise conv (channel multiplier 1, out_c = in_c): weights
 * [k_h][k_w][c] int8; the same epilogue with column = channel. */
QUANT_DEF quant_status quant_ref_dwconv2d(const quant_conv_shape *s, const void *in, int a_signed, int32_t a_zp,
        const int8_t *w, int32_t w_zp, const quant_epilogue *ep, void *out);

/* Binary and ternary GEMM (quant_kernels.h section 5). Operands are bitplanes
 * (section 9), rows of quant_bits_words(K) words or more: a sign plane (bit 1
 * = -1) and, for ternary values, a non-zero plane (NULL: binary, every value
 * +-1). Bits past K never count, whatever they hold. For row m and column n:
 *   dot = sum over k < K of a[m][k] * w[n][k]   (values -1, 0, +1; exact) */
typedef enum quant_bout_type {
    QUANT_BOUT_I32 = 0, /* the dot products                                   */
    QUANT_BOUT_F32,     /* fmaf((float)dot, scale[n], bias[n]) (batch norm folded) */
    QUANT_BOUT_BITS     /* packed bits for the next binary layer: bit n =
                           flip[n] ? dot >= thresh[n] : dot < thresh[n]
                           (bit 1 = -1), rows of quant_bits_words(N) words   */
} quant_bout_type;

typedef struct quant_bepilogue {
    quant_bout_type out;
    const float *scale, *bias;      /* F32: [N]; bias may be NULL             */
    const int32_t *thresh;          /* BITS: [N]                              */
    const uint8_t *flip;            /* BITS: [N] or NULL (no flips)           */
} quant_bepilogue;

/* Reference binary / ternary GEMM: A has M rows of lda words (a_nonzero
 * NULL for binary activations), W has N rows of ldw words (w_nonzero NULL
 * for binary weights); C has row stride ldc in elements (I32 / F32) or words
 * (BITS, whose padding bits past N are 0). K <= 2^30. */
QUANT_DEF quant_status quant_ref_bgemm(size_t M, size_t N, size_t K, const uint64_t *a_sign,
        const uint64_t *a_nonzero, size_t lda, const uint64_t *w_sign, const uint64_t *w_nonzero, size_t ldw,
        const quant_bepilogue *ep, void *C, size_t ldc);

/* int4 block weights x int8 activations (quant_kernels.h section 7).
 * Weights W: N rows (output channels) of K int4 values in [-8, 7] (one
 * int8 each), in blocks of QUANT_BLOCK (32) along K, each with its own float
 * scale: scales[n * nb + b], nb = ceil(K / 32) (the last block of a row may
 * be shorter). Activations A: M x K uint8 (a_signed = 0) or int8, zero
 * point a_zp. For row m and column n:
 *
 *   dot[b] = sum over k in block b of (A[m][k] - a_zp) * W[n][k]  (int32, exact)
 *   acc    = 0;  for b = 0 .. nb-1: acc = fmaf((float)dot[b], scale[n][b], acc)
 *   y      = fmaf(acc, a_scale[m] (or a_scale[0]), bias[n] (or 0))
 *
 * out F32 stores y; U8 / I8 store clamp(nearbyintf(y * out_inv) + out_zp,
 * out_min, out_max) (a NaN y stores out_zp). */
typedef struct quant_q4_epilogue {
    quant_out_type out;         /* QUANT_OUT_F32, QUANT_OUT_U8 or QUANT_OUT_I8   */
    const float *a_scale;       /* [M] if a_scale_per_row else [1], finite > 0   */
    int a_scale_per_row;
    const float *bias;          /* [N] or NULL                                   */
    float out_inv;              /* U8 / I8: 1 / output scale (finite, > 0)       */
    int32_t out_zp, out_min, out_max;
} quant_q4_epilogue;

/* Reference int4 block GEMM, the formula above: W N x K row-major, scales
 * N x nb; C has row stride ldc in elements of the output type. W outside
 * [-8, 7]: ERANGE; a scale not finite or negative: EINVAL. */
QUANT_DEF quant_status quant_ref_gemm_q4(size_t M, size_t N, size_t K, const void *A, int a_signed, size_t lda,
        int32_t a_zp, const int8_t *W, const float *scales, const quant_q4_epilogue *ep, void *C, size_t ldc);

/* ======================================================================== */
/* 11. vector and product quantization                                      */
/* ======================================================================== */
/* Vectors (or weights) replaced by indices into learned codebooks.
 *
 *   k-means       quant_kmeans: k-means++ (or random) initialisation, Lloyd
 *                 iterations with empty-cluster repair, a relative stopping
 *                 tolerance, subsampling, a progress callback; L2, or inner
 *                 product (spherical: unit-norm centroids). Deterministic for
 *                 a given seed and nearest-centroid function. Training code,
 *                 with the codebooks below the only one that calls
 *                 QUANT_MALLOC.
 *   VQ            quant_vq_train (= k-means), quant_ref_nearest (encode),
 *                 quant_vq_decode.
 *   codebooks     weight sharing: 1-D k-means over weight values into a
 *                 sorted codebook of 2..256 entries, 4- or 8-bit indices,
 *                 decode by lookup, a GEMV on indices + codebook.
 *   PQ            d split into M subspaces of dsub = d / M, 2^nbits
 *                 centroids each (nbits 4 or 8; optionally one codebook
 *                 shared by every subspace); train, encode, decode, ADC
 *                 tables (L2 and inner product), exhaustive top-k scan,
 *                 PQ matmul y = W x on the codes of W's rows.
 *   blobs         codebooks and codes to and from a documented byte layout.
 *
 * quant_kernels.h (section 6) has the fast versions: quant_nearest (the
 * k-means assignment), PQ encode / tables / scan / search, the 4-bit fast
 * scan with quantized tables in registers, PQ matmul and the codebook GEMV.
 *
 * Numerics (what makes the PQ results identical on every ISA):
 *  - a squared L2 distance is the chain acc = fmaf(x[t] - c[t], x[t] - c[t],
 *    acc) for t = 0..d-1 from acc = 0; an inner product the chain
 *    acc = fmaf(x[t], c[t], acc). fmaf is exactly rounded, so the SIMD
 *    kernels return the same bits wherever they have a fused multiply-add.
 *  - a PQ distance is the float sum of its M table entries in subspace
 *    order: ((T[0][c0] + T[1][c1]) + T[2][c2]) + ...
 *  - top-k lists are sorted by distance (ascending for L2, descending for
 *    inner product), ties to the lower id; missing entries (n < k) have id
 *    -1 and distance +INFINITY (L2) / -INFINITY (IP).
 * Input vectors must be finite with |x| <= QUANT_VQ_MAX_ABS (ERANGE
 * otherwise), so no distance overflows for d below about 10^7. */

#define QUANT_VQ_MAX_ABS 1e15f

typedef enum quant_metric {
    QUANT_METRIC_L2 = 0,   /* squared Euclidean distance: smaller is nearer  */
    QUANT_METRIC_IP = 1    /* inner product: larger is nearer                */
} quant_metric;

/* The nearest-centroid step (k-means' assignment, VQ encoding). For each of
 * the n rows of x (d floats, row stride ldx), idx[i] = the nearest of the
 * k centroids c (k x d row-major), score[i] its squared L2 distance (L2) or
 * inner product (IP); score may be NULL. With idx == NULL it writes every
 * score instead: score[i * k + j] (k-means++ uses this with the transposed
 * training sample as the "centroids"). ct (the d x k transpose of c) and
 * norms (the k squared norms) come from quant_centroids_prepare; a function
 * may use any of c, ct, norms (quant_ref_nearest uses c, quant_nearest ct). */
typedef void (*quant_nearest_fn)(const float *x, size_t n, size_t d, size_t ldx,
        const float *c, const float *ct, const float *norms, size_t k,
        quant_metric metric, uint32_t *idx, float *score);

/* The reference: exact chains (above), ties to the lower index. ct and norms
 * are not used (may be NULL). quant_nearest (quant_kernels.h) returns the
 * same bits, vectorized. */
QUANT_DEF void quant_ref_nearest(const float *x, size_t n, size_t d, size_t ldx,
        const float *c, const float *ct, const float *norms, size_t k,
        quant_metric metric, uint32_t *idx, float *score);

/* ct[t * k + j] = c[j * d + t]; norms[j] = the L2 chain of c_j with itself
 * (either output may be NULL). */
QUANT_DEF quant_status quant_centroids_prepare(const float *c, size_t k, size_t d, float *ct, float *norms);

typedef enum quant_kmeans_init {
    QUANT_KMEANS_PLUSPLUS = 0, /* k-means++ (D^2 sampling, Arthur & Vassilvitskii) */
    QUANT_KMEANS_RANDOM        /* k distinct random training points (faiss)     */
} quant_kmeans_init;

/* Given to the progress callback after the initialisation and after every
 * assignment step. Return non-zero from the callback to stop: the current
 * centroids are kept (QUANT_OK). */
typedef struct quant_kmeans_progress {
    int iter;            /* assignment steps so far - 1 (0: initial centroids) */
    int max_iter;
    double objective;    /* of this assignment: mean squared distance (L2) or
                            mean inner product (IP), over the points used     */
    size_t empty;        /* empty clusters repaired after this assignment     */
    size_t part, parts;  /* PQ training: subspace `part` of `parts` (0 of 1)  */
} quant_kmeans_progress;
typedef int (*quant_progress_fn)(void *user, const quant_kmeans_progress *p);

typedef struct quant_kmeans_opts {
    int max_iter;                   /* Lloyd updates (25)                              */
    double tol;                     /* stop when the objective improves by <= tol *
                                       |objective| in one iteration (1e-4; 0: never)   */
    size_t max_points_per_centroid; /* train on a random k * this subsample of larger
                                       sets (256, as faiss; 0: all points)             */
    quant_kmeans_init init;         /* QUANT_KMEANS_PLUSPLUS                           */
    quant_metric metric;            /* L2; IP is spherical k-means                     */
    uint64_t seed;                  /* 1234                                            */
    quant_nearest_fn nearest;       /* NULL: quant_ref_nearest. quant_nearest from
                                       quant_kernels.h is the fast one                 */
    quant_progress_fn progress;     /* NULL: none                                      */
    void *user;                     /* passed to progress                              */
} quant_kmeans_opts;

typedef struct quant_kmeans_info {
    int iterations;      /* Lloyd updates done (summed over PQ subspaces)           */
    double objective;    /* of the returned centroids on the points used (PQ: summed
                            over subspaces, i.e. per whole vector)                  */
    size_t n_used;       /* training points used (after subsampling)                */
    size_t distinct;     /* distinct centroids: < k when the data has fewer distinct
                            points than k (PQ: the smallest over subspaces)          */
    size_t repaired;     /* empty clusters repaired, in total                        */
} quant_kmeans_info;

QUANT_DEF void quant_kmeans_opts_default(quant_kmeans_opts *opts);

/* k-means of the n rows of x (n x d, row-major) into k centroids (k x d).
 * opts NULL: the defaults; info may be NULL. k > n, or fewer distinct points
 * than k, is allowed: the first `distinct` centroids are distinct training
 * points (k-means++ and random init pick only distinct ones) and the others
 * repeat them (nearest-centroid ties go to the lower index, so a repeat is
 * never chosen). An empty cluster takes the training point farthest from
 * its centroid (among clusters of two or more points); if every point sits
 * on its centroid, the cluster keeps its centroid. IP: centroids are
 * normalised to unit length after every update (spherical k-means).
 * d == 1 with L2 runs an exact sorted 1-D Lloyd (no nearest function;
 * centroids come out sorted ascending).
 * Errors: EINVAL (NULL, zero sizes, bad opts), EOVERFLOW, ERANGE (a
 * non-finite value or |x| > QUANT_VQ_MAX_ABS), ENOMEM. */
QUANT_DEF quant_status quant_kmeans(const float *x, size_t n, size_t d, size_t k,
        const quant_kmeans_opts *opts, float *centroids, quant_kmeans_info *info);

/* VQ: training is k-means; encoding is quant_ref_nearest (or quant_nearest /
 * quant_nearest_exact of quant_kernels.h); decoding copies centroid rows. */
QUANT_DEF quant_status quant_vq_train(const float *x, size_t n, size_t d, size_t k,
        const quant_kmeans_opts *opts, float *centroids, quant_kmeans_info *info);
QUANT_DEF quant_status quant_vq_encode(const float *c, size_t k, size_t d, const float *x, size_t n,
        quant_metric metric, uint32_t *idx, float *score);
QUANT_DEF quant_status quant_vq_decode(const float *c, size_t k, size_t d, const uint32_t *idx, size_t n, float *x);

/* ---- scalar codebooks (weight sharing) ----
 * A codebook is `entries` floats (2..256) sorted ascending. Indices take
 * `bits` = 8 (one byte each) or 4 (entries <= 16; two per byte, low nibble
 * first: element i in byte i / 2 at bit offset (i % 2) * 4, as QUANT_U4).
 * A matrix rows x cols of indices stores each row from a byte boundary:
 * quant_codebook_row_bytes(bits, cols) bytes a row. */
QUANT_DEF size_t quant_codebook_row_bytes(int bits, size_t cols);
/* 1-D k-means over the n weights (opts as quant_kmeans; its d == 1 path):
 * codebook[entries], sorted ascending. */
QUANT_DEF quant_status quant_codebook_train(const float *w, size_t n, int entries,
        const quant_kmeans_opts *opts, float *codebook, quant_kmeans_info *info);
/* Nearest entry of each weight (ties to the lower index); n weights are one
 * row (4-bit: padding nibble 0). EINVAL if the codebook is not sorted or
 * entries does not fit bits; ERANGE for a non-finite weight. */
QUANT_DEF quant_status quant_codebook_encode(const float *w, size_t n, const float *codebook, int entries,
        int bits, uint8_t *idx);
/* w[i] = codebook[index i]; EFORMAT for an index >= entries. */
QUANT_DEF quant_status quant_codebook_decode(const uint8_t *idx, size_t n, const float *codebook, int entries,
        int bits, float *w);
/* y[r] = sum_c codebook[idx[r][c]] * x[c], the float chain acc = fmaf(w, x[c],
 * acc) in column order. quant_codebook_gemv (quant_kernels.h) equals it
 * within the documented tolerance. EFORMAT for an index >= entries. */
QUANT_DEF quant_status quant_ref_codebook_gemv(const uint8_t *idx, int bits, size_t rows, size_t cols,
        const float *codebook, int entries, const float *x, float *y);

/* ---- product quantization ----
 * Codebook layout (faiss's): centroids[(m * ksub + j) * dsub + t] for
 * subspace m (m = 0 when shared), centroid j, coordinate t. Codes: one per
 * subspace, code_size bytes a vector: nbits 8: byte m; nbits 4: byte m / 2
 * at bit offset (m % 2) * 4 (low nibble first; a padding nibble is 0). */
typedef struct quant_pq {
    size_t d;          /* vector dimension                                  */
    size_t M;          /* subspaces; d % M == 0                             */
    size_t dsub;       /* d / M                                             */
    size_t ksub;       /* 1 << nbits                                        */
    int nbits;         /* 4 or 8                                            */
    int shared;        /* 1: one codebook for every subspace                */
    float *centroids;  /* your memory: quant_pq_centroids_floats() floats   */
} quant_pq;

/* Floats of the codebooks (0 if the shape is invalid). */
QUANT_DEF size_t quant_pq_centroids_floats(size_t d, size_t M, int nbits, int shared);
/* Fills pq (centroids may be NULL until you train or load). */
QUANT_DEF quant_status quant_pq_init(quant_pq *pq, size_t d, size_t M, int nbits, int shared, float *centroids);
/* Bytes a code takes: M (nbits 8) or (M + 1) / 2 (nbits 4); 0 if invalid. */
QUANT_DEF size_t quant_pq_code_size(const quant_pq *pq);
/* A code of one vector. */
QUANT_DEF uint32_t quant_pq_code_get(const quant_pq *pq, const uint8_t *code, size_t m);

/* k-means of each subspace (L2 always: a code is the nearest centroid; the
 * search metric is chosen later) with opts (seed + m for subspace m), or
 * one k-means over all n * M sub-vectors when shared. info sums over the
 * subspaces. Nothing is written unless every subspace trains. (faiss uses
 * random init, 25 iterations, 256 points a centroid; on Fashion-MNIST
 * random init gave PQ codebooks slightly better recall than k-means++,
 * with 128 points a centroid at a quarter of faiss's time: see
 * bench/bench_pq.cc.) */
QUANT_DEF quant_status quant_pq_train(quant_pq *pq, const float *x, size_t n, const quant_kmeans_opts *opts,
        quant_kmeans_info *info);
/* Codes of the n rows of x (n x d): the nearest centroid of each sub-vector
 * by the exact L2 chain, ties to the lower index. */
QUANT_DEF quant_status quant_ref_pq_encode(const quant_pq *pq, const float *x, size_t n, uint8_t *codes);
QUANT_DEF quant_status quant_pq_decode(const quant_pq *pq, const uint8_t *codes, size_t n, float *x);
/* ADC tables of nq queries: tables[(q * M + m) * ksub + j] = the L2 chain
 * (metric L2) or inner-product chain (IP) of query sub-vector m with
 * centroid j of subspace m. */
QUANT_DEF quant_status quant_ref_pq_tables(const quant_pq *pq, quant_metric metric, const float *q, size_t nq,
        float *tables);
/* Exhaustive top-k over n codes with the tables of nq queries: ids[q * k + i]
 * and dists[q * k + i] (the PQ distance: sum of table entries, see above).
 * EINVAL for non-finite tables; EFORMAT for a 4-bit code with a non-zero
 * padding nibble is not checked (it is ignored). */
QUANT_DEF quant_status quant_ref_pq_scan(const quant_pq *pq, const float *tables, size_t nq,
        const uint8_t *codes, size_t n, quant_metric metric, size_t k, int64_t *ids, float *dists);

/* PQ matmul: y = W x where the rows of W (rows x d) are PQ codes. With the
 * inner-product tables T of x, y[r] = sum_m T[m][code(r, m)].
 *  QUANT_PQMM_F32   the float sum in subspace order (the PQ distance)
 *  QUANT_PQMM_LUT8  8-bit tables: lo_m = min_j T[m][j] + 0.0f (so -0 is
 *                   +0), R = max_m (max_j T[m][j] - lo_m), delta = R / 255,
 *                   inv = 255 / R (both float; inv = 0 when R == 0 or 255 / R
 *                   is not finite), q = min(255, nearbyintf((T - lo_m) *
 *                   inv)); y[r] = fmaf(delta, (float)sum_m q, (float)(sum_m
 *                   (double)lo_m)). Exact integer sums (M <=
 *                   QUANT_PQMM_MAX_M); |y_LUT8 - y_F32| <= M * delta / 2 plus
 *                   float rounding. */
typedef enum quant_pqmm_mode { QUANT_PQMM_F32 = 0, QUANT_PQMM_LUT8 = 1 } quant_pqmm_mode;
#define QUANT_PQMM_MAX_M 65536
QUANT_DEF quant_status quant_ref_pqmm(const quant_pq *pq, const uint8_t *codes, size_t rows, const float *x,
        quant_pqmm_mode mode, float *y);
/* fp32 bytes of W (rows x d) over the bytes of its codes plus codebooks. */
QUANT_DEF double quant_pq_compression(const quant_pq *pq, size_t rows);

/* ---- blobs ----
 * PQ blob, little-endian, 48-byte header then data:
 *   0  'Q' 'P' 'Q' '1'          magic
 *   4  u32 version (1)
 *   8  u32 d       12 u32 M       16 u32 nbits (4 or 8)
 *  20  u32 flags (bit 0: shared codebook; other bits 0)
 *  24  u64 n (encoded vectors that follow; 0: codebooks only)
 *  32  u32 code_size   36 u32 reserved (0)   40 u32 reserved (0)
 *  44  u32 FNV-1a of bytes 0..43
 *  48  float32 centroids [quant_pq_centroids_floats]
 *      then n * code_size code bytes.
 * Codebook blob: the same header with magic 'Q' 'C' 'B' '1', d = entries,
 * M = 1, nbits = bits (4 / 8), flags 0, n = indices, code_size = 0, then
 * `entries` float32 and quant_codebook_row_bytes(bits, n) index bytes.
 * Loaders check every field, size and value (finite, sorted codebook,
 * indices < entries, zero padding) and return EFORMAT, writing nothing. */
#define QUANT_BLOB_HEADER 48
QUANT_DEF size_t quant_pq_blob_size(const quant_pq *pq, size_t n);
QUANT_DEF quant_status quant_pq_save(const quant_pq *pq, const uint8_t *codes, size_t n, void *blob, size_t blob_bytes);
/* Reads the header: pq gets the shape (centroids NULL), *n the code count. */
QUANT_DEF quant_status quant_pq_load_header(const void *blob, size_t blob_bytes, quant_pq *pq, size_t *n);
/* Loads into pq->centroids (pq from quant_pq_load_header, centroids set by
 * you) and codes (n * code_size bytes; may be NULL when n == 0). */
QUANT_DEF quant_status quant_pq_load(const void *blob, size_t blob_bytes, const quant_pq *pq, uint8_t *codes);
QUANT_DEF size_t quant_codebook_blob_size(int entries, int bits, size_t n);
QUANT_DEF quant_status quant_codebook_save(const float *codebook, int entries, int bits, const uint8_t *idx, size_t n,
        void *blob, size_t blob_bytes);
QUANT_DEF quant_status quant_codebook_load_header(const void *blob, size_t blob_bytes, int *entries, int *bits, size_t *n);
QUANT_DEF quant_status quant_codebook_load(const void *blob, size_t blob_bytes, float *codebook, uint8_t *idx);

/* ======================================================================== */
/* 12. post-training quantization: equalization, bias correction, GPTQ      */
/* ======================================================================== */
/* Methods that change the float weights (or choose the integer codes) so a
 * quantized layer is closer to its float self than range choice alone gets.
 *
 *   cross-layer     Nagel et al. 2019 (DFQ): for consecutive layers
 *   equalization    y = W2 f(W1 x + b1) with f positively homogeneous
 *                   (ReLU, identity; f(x / s) = f(x) / s for s > 0), scale
 *                   output channel i of layer 1 (weights and bias) by 1 / s_i
 *                   and input channel i of layer 2 by s_i: the float
 *                   function is unchanged and, with
 *                     s_i = sqrt(r1_i * r2_i) / r2_i
 *                   (r1_i, r2_i the channel's largest |weight| in each
 *                   layer), both layers' channel i get the range
 *                   sqrt(r1_i * r2_i), so one per-tensor scale fits every
 *                   channel. ReLU6 is homogeneous only if its clip moves
 *                   with the channel (6 / s_i after equalization); DFQ
 *                   replaces ReLU6 by ReLU first. A depthwise conv between
 *                   two convs is one layer of two pairs: equalize (conv1,
 *                   dw), then (dw, conv2), and repeat over the network until
 *                   the scales stay near 1 (DFQ iterates the same way).
 *                   Grouped convs other than depthwise are not covered.
 *   bias            quantizing W to Wq shifts the expected output by
 *   correction      (Wq - W) E[x]; subtracting it from the bias makes the
 *                   layer's mean output error zero. E[x] per input channel
 *                   is empirical (the mean of calibration activations) or
 *                   analytic, data-free (DFQ: the input is a clipped normal
 *                   whose mean and deviation come from the preceding batch
 *                   norm's beta and |gamma|, quant_expected_clipped_normal).
 *                   For a padded conv E[x] describes interior pixels; the
 *                   border, whose taps read padding zeros, is corrected
 *                   approximately.
 *   GPTQ            Frantar et al. 2022 (OPTQ): codes of W [N][K] chosen
 *                   column by column; each column's rounding error is
 *                   spread over the columns not yet quantized through the
 *                   inverse Hessian H^-1 of the layer's squared output error
 *                   sum ||X W^T - X Wq^T||^2, H = 2 X^T X (X the calibration
 *                   inputs, one row per sample / output pixel). With H
 *                   diagonal it is exactly round to nearest.
 *                   GPTQ rather than AdaRound (Nagel et al. 2020): it is
 *                   closed form (a Cholesky factorization and one pass), so
 *                   deterministic by construction, with no learning rate,
 *                   annealing schedule, iteration count or random batches
 *                   to choose; it costs 2K^3/3 + N K^2 multiply-adds a layer
 *                   (about 10 s for the demo's 128 x 3136 layer, a fraction
 *                   of a second for the others) instead of thousands of
 *                   gradient steps; and it keeps any caller-chosen scales
 *                   (per channel, per group of 32 in fp16, one per tensor),
 *                   so it only changes codes and fits every format here.
 *
 * All three compute in double and validate their inputs (non-finite
 * weights, activations or statistics: ERANGE), writing nothing on error.
 * The two helpers without a status: quant_gptq_opts_default (NULL ignored)
 * and the size query quant_gptq_workspace_size (0 on overflow). */

/* Largest |w| of each channel along `axis` of a row-major tensor (shape[ndim],
 * the convention of quant_minmax_axis): r[shape[axis]]. ERANGE for a
 * non-finite weight. */
QUANT_DEF quant_status quant_absmax_axis(const float *w, const size_t *shape, int ndim, int axis, float *r);

/* Equalization scales from the per-channel ranges r1 (layer 1's output
 * channels) and r2 (layer 2's input channels), both >= 0 and finite
 * (ERANGE otherwise): s_i = sqrt(r1_i * r2_i) / r2_i in double, rounded to
 * float and clamped to [2^-32, 2^32]; s_i = 1 where r1_i or r2_i is 0 (a
 * dead channel: nothing to balance). */
QUANT_DEF quant_status quant_cle_scales_from_ranges(const float *r1, const float *r2, size_t channels, float *s);

/* The scales of a pair from its weights. Layer 1's output channels lie
 * along axis1 of w1 (shape1[ndim1]), layer 2's input channels along axis2 of
 * w2; their counts must agree (EINVAL). The axes of this library's layouts:
 *   dense [N][K]: out 0, in 1;  conv [out_c][k_h][k_w][in_c]: out 0, in 3;
 *   depthwise [k_h][k_w][c]: out 2, in 2 (its channel is both). */
QUANT_DEF quant_status quant_cle_scales(const float *w1, const size_t *shape1, int ndim1, int axis1,
        const float *w2, const size_t *shape2, int ndim2, int axis2, float *s);

/* Applies scales s (finite, > 0; ESCALE otherwise): layer 1's channel i
 * weights and b1[i] become w / s_i (b1 may be NULL), layer 2's channel i
 * weights w * s_i (one float rounding each). In place; ERANGE (nothing
 * changed) if a result would not be finite. */
QUANT_DEF quant_status quant_cle_apply(float *w1, const size_t *shape1, int ndim1, int axis1, float *b1,
        float *w2, const size_t *shape2, int ndim2, int axis2, const float *s);

/* Bias correction: bias[o] -= sum over the weights of output channel o of
 * (wq - w) * ex[i], i the weight's input channel (out_axis and in_axis as
 * for quant_cle_scales; equal for depthwise). w is the float weight, wq the
 * dequantized one (same shape), ex[shape[in_axis]] the expected input per
 * channel, bias[shape[out_axis]] (pass zeros for a layer without one).
 * The sum is in double, the new bias rounded to float once. */
QUANT_DEF quant_status quant_bias_correct(const float *w, const float *wq, const size_t *shape, int ndim,
        int out_axis, int in_axis, const float *ex, float *bias);

/* Data-free expected input: ex[i] = E[clamp(x, lo, hi)] for x normal with
 * mean mu[i] and deviation sigma[i] >= 0 (lo < hi; lo may be -INFINITY, hi
 * +INFINITY: ReLU is lo = 0, hi = INFINITY; ReLU6 hi = 6):
 *   E = lo Phi(a) + hi (1 - Phi(b)) + mu (Phi(b) - Phi(a)) + sigma (phi(a) - phi(b)),
 *   a = (lo - mu) / sigma, b = (hi - mu) / sigma (infinite bounds drop their
 *   terms); sigma = 0 gives clamp(mu, lo, hi). */
QUANT_DEF quant_status quant_expected_clipped_normal(const float *mu, const float *sigma, size_t n,
        float lo, float hi, float *ex);

/* GPTQ. The Hessian is K x K doubles, row-major, that you zero and then
 * accumulate over calibration batches: H += 2 x^T x for the rows x samples
 * of K inputs (row stride ldx >= K). ERANGE (H unchanged) for a non-finite
 * input. The scale of H does not matter (damping is relative). */
QUANT_DEF quant_status quant_gptq_hessian_add(double *H, size_t K, const float *x, size_t rows, size_t ldx);

typedef struct quant_gptq_opts {
    int32_t qmin, qmax;  /* code range, symmetric (zero point 0), qmin < 0 < qmax,
                            inside int8: int4 [-8, 7], int2 [-2, 1], int8 [-127, 127] */
    size_t group;        /* input columns per scale; 0 (or >= K): one per row        */
    double damp;         /* lambda = damp * mean diag(H) added to the diagonal (0.01) */
    int scales_given;    /* 1: `scales` are inputs (finite, >= 0; a 0 scale gives
                            codes 0); 0: outputs, absmax / qmax of the group's
                            original weights in float                               */
    int act_order;       /* 1: quantize columns by decreasing diag(H) (ties to the
                            lower index), GPTQ's "act order"; 0: in order            */
} quant_gptq_opts;

/* bits 2..8: qmin = -2^(bits-1) (int8: -127, the weight convention here),
 * qmax = 2^(bits-1) - 1, group 0, damp 0.01, scales computed, in order. */
QUANT_DEF void quant_gptq_opts_default(quant_gptq_opts *opts, int bits);

/* Bytes of the workspace quant_gptq needs for K inputs (0 on overflow). */
QUANT_DEF size_t quant_gptq_workspace_size(size_t K);

/* Codes q[N][K] (int8 values in [qmin, qmax]) of the float weights w[N][K]
 * (row-major, one row per output channel) with scales[N][ceil(K / group)]
 * (dequantized weight: q * scale of its row and group):
 *   1. H from quant_gptq_hessian_add (finite, symmetric, diag >= 0); a
 *      column with H[k][k] == 0 (an input that is always 0) gets 1 there;
 *      then damp * mean diag is added to the diagonal;
 *   2. U = the upper Cholesky factor of H^-1 (H^-1 = U^T U; computed as
 *      R^-1 where H = R R^T, R upper, so H^-1 is never formed);
 *   3. for each column k in order (act_order: by decreasing diag H), each
 *      row: q = clamp(round half even(w' * (1.0f / scale))) as
 *      quant_quantize1 on the float of the updated weight w', then the later
 *      columns j get w'_j -= (w'_k - q * scale) / U[k][k] * U[k][j].
 * Rows are independent (a caller may split N). ws: quant_gptq_workspace_size
 * bytes, aligned for double (malloc's). Errors: EINVAL (NULL, zero sizes,
 * bad opts, ws too small or misaligned), EOVERFLOW, ERANGE (non-finite
 * weight or H, negative diagonal, or a damped H that is not positive
 * definite to working precision: a Cholesky pivot below 1e-10 of its
 * diagonal entry, e.g. a singular H with damp 0), ESCALE (bad given
 * scale). */
QUANT_DEF quant_status quant_gptq(const float *w, size_t N, size_t K, const double *H,
        const quant_gptq_opts *opts, int8_t *q, float *scales, void *ws, size_t ws_bytes);

/* The proxy loss GPTQ minimises: *err = sum over rows of d^T H d, d = w -
 * q * scale of each row (= 2 ||X W^T - X Wq^T||^2 for H = 2 X^T X). group
 * as quant_gptq's; H symmetric (its upper triangle is read). Lets a tool
 * compare roundings without the data. */
QUANT_DEF quant_status quant_hessian_error(const float *w, const int8_t *q, const float *scales, size_t N,
        size_t K, size_t group, const double *H, double *err);

#ifdef __cplusplus
}
#endif

#endif /* QUANT_H */

/* ######################################################################## */
/*                              IMPLEMENTATION                              */
/* ######################################################################## */
#ifdef QUANT_IMPLEMENTATION
#ifndef QUANT_IMPLEMENTATION_INCLUDED
#define QUANT_IMPLEMENTATION_INCLUDED

#include <string.h>
#include <math.h>
#include <float.h>
#ifndef QUANT_ASSERT
#include <assert.h>
#define QUANT_ASSERT(x) assert(x)
#endif
#ifndef QUANT_MALLOC
#include <stdlib.h>
#define QUANT_MALLOC(n) malloc(n)
#define QUANT_FREE(p) free(p)
#endif

#if defined(__GNUC__) || defined(__clang__)
#define QUANT__INTERNAL static __attribute__((unused))
#else
#define QUANT__INTERNAL static
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- helpers */

/* Force a value to float precision (x87 excess precision) and keep the
 * compiler from contracting a*b+c into an FMA across it. */
QUANT__INTERNAL float quant__f32(float x) { volatile float v = x; return v; }

QUANT__INTERNAL uint32_t quant__fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
QUANT__INTERNAL float quant__bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
QUANT__INTERNAL int quant__isfinite(float x) { return (quant__fbits(x) & 0x7f800000u) != 0x7f800000u; }
QUANT__INTERNAL int quant__isnan(float x) { return (quant__fbits(x) & 0x7fffffffu) > 0x7f800000u; }
/* a multiplier scale: finite and > 0 (subnormals allowed; NaN fails) */
QUANT__INTERNAL int quant__scale_pos(float x) { return x > 0.0f && x <= FLT_MAX; }

/* arithmetic shift right, defined for negative x on every compiler */
QUANT__INTERNAL int32_t quant__asr32(int32_t x, int s) { return x < 0 ? ~(~x >> s) : x >> s; }
QUANT__INTERNAL int64_t quant__asr64(int64_t x, int s) { return x < 0 ? ~(~x >> s) : x >> s; }

QUANT__INTERNAL int32_t quant__sat32(int64_t v) {
    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}
QUANT__INTERNAL int32_t quant__clamp(int64_t v, int32_t lo, int32_t hi) {
    return v < lo ? lo : v > hi ? hi : (int32_t)v;
}

/* Clamp a rounded (integer-valued or infinite) float plus zp to [qmin, qmax];
 * NaN gives the zero point (clamped). */
QUANT__INTERNAL int32_t quant__clamp_rounded(float r, int32_t zp, int32_t qmin, int32_t qmax) {
    double d = (double)r + (double)zp;
    if (d != d) return zp < qmin ? qmin : zp > qmax ? qmax : zp;
    if (d <= (double)qmin) return qmin;
    if (d >= (double)qmax) return qmax;
    return (int32_t)d;
}

/* The size checks every entry point shares (QUANT_EOVERFLOW when they
 * fail): a * b fits in size_t; a strided matrix of `rows` rows of row
 * stride `ld` elements of `esize` bytes, rows * ld * esize bytes (whole
 * rows, as quant_conv_out_size bounds a convolution's tensors), fits in
 * size_t, so every index and byte offset a kernel forms from it does. */
QUANT__INTERNAL int quant__mul_ok(size_t a, size_t b) { return !a || b <= SIZE_MAX / a; }
QUANT__INTERNAL int quant__span_ok(size_t rows, size_t ld, size_t esize) {
    return !rows || !ld || ld <= SIZE_MAX / esize / rows;
}

/* Size of a row-major tensor and its split around `axis`, overflow checked. */
QUANT__INTERNAL quant_status quant__axis_split(const size_t *shape, int ndim, int axis,
        size_t *outer, size_t *channels, size_t *inner) {
    size_t o = 1, in = 1;
    int i;
    if (!shape || ndim < 1 || ndim > 16) return QUANT_EINVAL;
    if (axis < 0) axis += ndim;
    if (axis < 0 || axis >= ndim) return QUANT_EINVAL;
    for (i = 0; i < axis; i++) {
        if (shape[i] && o > SIZE_MAX / shape[i]) return QUANT_EOVERFLOW;
        o *= shape[i];
    }
    for (i = axis + 1; i < ndim; i++) {
        if (shape[i] && in > SIZE_MAX / shape[i]) return QUANT_EOVERFLOW;
        in *= shape[i];
    }
    if (shape[axis] && in > SIZE_MAX / shape[axis]) return QUANT_EOVERFLOW;
    if ((shape[axis] * in) != 0 && o > SIZE_MAX / (shape[axis] * in)) return QUANT_EOVERFLOW;
    *outer = o; *channels = shape[axis]; *inner = in;
    return QUANT_OK;
}

/* ------------------------------------------------------ 1. status, dtypes */

QUANT_DEF const char *quant_status_str(quant_status s) {
    switch (s) {
    case QUANT_OK: return "ok";
    case QUANT_EINVAL: return "invalid argument (NULL pointer, bad enum, bad range or shape)";
    case QUANT_ERANGE: return "value out of the representable range";
    case QUANT_ENOMEM: return "out of memory";
    case QUANT_EFORMAT: return "malformed data";
    case QUANT_EOVERFLOW: return "size computation overflows";
    case QUANT_ESCALE: return "invalid scale (<= 0, NaN, Inf or subnormal)";
    case QUANT_EEMPTY: return "no finite value observed";
    }
    return "unknown status";
}

QUANT_DEF int quant_dtype_bits(quant_dtype dt) {
    switch (dt) {
    case QUANT_I8: case QUANT_U8: return 8;
    case QUANT_I16: return 16;
    case QUANT_I32: return 32;
    case QUANT_I4: case QUANT_U4: return 4;
    case QUANT_I2: case QUANT_U2: return 2;
    }
    return 0;
}

QUANT_DEF size_t quant_dtype_bytes(quant_dtype dt, size_t n) {
    int b = quant_dtype_bits(dt);
    if (b >= 8) return n > SIZE_MAX / (size_t)(b / 8) ? 0 : (size_t)(b / 8) * n;
    if (b == 0) return 0;
    return n / (size_t)(8 / b) + (n % (size_t)(8 / b) != 0);
}

QUANT_DEF quant_status quant_dtype_range(quant_dtype dt, int reduce_range,
                                         int32_t *qmin, int32_t *qmax) {
    int b = quant_dtype_bits(dt);
    int32_t lo, hi;
    if (!qmin || !qmax || b == 0) return QUANT_EINVAL;
    if (reduce_range) b -= 1;
    if (dt == QUANT_U8 || dt == QUANT_U4 || dt == QUANT_U2) {
        lo = 0; hi = (int32_t)((1u << b) - 1u);
    } else if (b == 32) {
        lo = INT32_MIN; hi = INT32_MAX;
    } else {
        lo = -(int32_t)(1u << (b - 1)); hi = (int32_t)(1u << (b - 1)) - 1;
    }
    *qmin = lo; *qmax = hi;
    return QUANT_OK;
}

QUANT__INTERNAL int quant__dtype_fits(quant_dtype dt, int32_t qmin, int32_t qmax) {
    int32_t lo = 0, hi = -1;
    if (quant_dtype_range(dt, 0, &lo, &hi) != QUANT_OK) return 0;
    return qmin >= lo && qmax <= hi;
}

/* Store / load n values of dt starting at element `start` (for sub-byte
 * types start must be a multiple of 8 / bits, and a partial last byte has
 * its unused high bits zeroed). */
QUANT__INTERNAL void quant__store_n(void *out, quant_dtype dt, size_t start, const int32_t *v, size_t n) {
    size_t i;
    switch (dt) {
    case QUANT_I8: { int8_t *o = (int8_t *)out + start; for (i = 0; i < n; i++) o[i] = (int8_t)v[i]; } break;
    case QUANT_U8: { uint8_t *o = (uint8_t *)out + start; for (i = 0; i < n; i++) o[i] = (uint8_t)v[i]; } break;
    case QUANT_I16: { int16_t *o = (int16_t *)out + start; for (i = 0; i < n; i++) o[i] = (int16_t)v[i]; } break;
    case QUANT_I32: { int32_t *o = (int32_t *)out + start; for (i = 0; i < n; i++) o[i] = v[i]; } break;
    case QUANT_I4: case QUANT_U4: {
        uint8_t *o = (uint8_t *)out + start / 2;
        for (i = 0; i + 1 < n; i += 2) o[i / 2] = (uint8_t)((v[i] & 0xF) | ((v[i + 1] & 0xF) << 4));
        if (i < n) o[i / 2] = (uint8_t)(v[i] & 0xF);
    } break;
    case QUANT_I2: case QUANT_U2: {
        uint8_t *o = (uint8_t *)out + start / 4;
        for (i = 0; i < n; i += 4) {
            unsigned b = 0; size_t j;
            for (j = 0; j < 4 && i + j < n; j++) b |= (unsigned)(v[i + j] & 3) << (2 * j);
            o[i / 4] = (uint8_t)b;
        }
    } break;
    }
}

QUANT__INTERNAL int32_t quant__load1(const void *in, quant_dtype dt, size_t i) {
    switch (dt) {
    case QUANT_I8: return ((const int8_t *)in)[i];
    case QUANT_U8: return ((const uint8_t *)in)[i];
    case QUANT_I16: return ((const int16_t *)in)[i];
    case QUANT_I32: return ((const int32_t *)in)[i];
    case QUANT_I4: { int32_t v = (((const uint8_t *)in)[i / 2] >> (4 * (i & 1))) & 0xF; return v >= 8 ? v - 16 : v; }
    case QUANT_U4: return (((const uint8_t *)in)[i / 2] >> (4 * (i & 1))) & 0xF;
    case QUANT_I2: { int32_t v = (((const uint8_t *)in)[i / 4] >> (2 * (i & 3))) & 3; return v >= 2 ? v - 4 : v; }
    case QUANT_U2: return (((const uint8_t *)in)[i / 4] >> (2 * (i & 3))) & 3;
    }
    return 0;
}

/* ------------------------------------------------- 2. rounding, rng, fp16 */

QUANT_DEF void quant_rng_seed(quant_rng *r, uint64_t seed) {
    int i;
    if (!r) return;
    for (i = 0; i < 2; i++) { /* splitmix64 */
        uint64_t z = (seed += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        r->s[2 * i] = (uint32_t)z; r->s[2 * i + 1] = (uint32_t)(z >> 32);
    }
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1;
}

QUANT__INTERNAL uint32_t quant__rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

QUANT_DEF uint32_t quant_rng_u32(quant_rng *r) { /* xoshiro128++ */
    uint32_t res = quant__rotl(r->s[0] + r->s[3], 7) + r->s[0];
    uint32_t t = r->s[1] << 9;
    r->s[2] ^= r->s[0]; r->s[3] ^= r->s[1]; r->s[1] ^= r->s[2]; r->s[0] ^= r->s[3];
    r->s[2] ^= t;
    r->s[3] = quant__rotl(r->s[3], 11);
    return res;
}

QUANT_DEF float quant_rng_uniform(quant_rng *r) {
    return (float)(quant_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

QUANT_DEF float quant_roundf(float x, quant_round mode, quant_rng *r) {
    switch (mode) {
    case QUANT_ROUND_HALF_EVEN: return nearbyintf(x);
    case QUANT_ROUND_HALF_AWAY: return roundf(x);
    case QUANT_ROUND_FLOOR: return floorf(x);
    case QUANT_ROUND_STOCHASTIC: {
        float f, frac;
        if (!quant__isfinite(x) || fabsf(x) >= 8388608.0f) return x; /* already integral */
        f = floorf(x);
        frac = x - f; /* exact */
        QUANT_ASSERT(r != NULL);
        return quant_rng_uniform(r) < frac ? f + 1.0f : f;
    }
    }
    return nearbyintf(x);
}

QUANT_DEF int32_t quant_quantize1(float x, float inv_scale, int32_t zp, int32_t qmin, int32_t qmax) {
    if (quant__isnan(x)) return quant__clamp(zp, qmin, qmax);
    return quant__clamp_rounded(nearbyintf(quant__f32(x * inv_scale)), zp, qmin, qmax);
}

QUANT_DEF uint16_t quant_fp32_to_fp16(float f) {
    uint32_t x = quant__fbits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) { /* Inf or NaN: NaN is quieted, top payload kept */
        if (ax == 0x7f800000u) return (uint16_t)(sign | 0x7c00u);
        return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
    }
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520: Inf */
    if (ax >= 0x38800000u) { /* normal half */
        uint32_t odd = (ax >> 13) & 1u;
        ax = ax - 0x38000000u + 0xfffu + odd;
        return (uint16_t)(sign | (ax >> 13));
    }
    if (ax <= 0x33000000u) return (uint16_t)sign; /* <= 2^-25: rounds to 0 (tie to even) */
    { /* subnormal half: value / 2^-24 rounded to nearest even */
        uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u;
        int s = (int)(126 - e); /* 14 .. 24 */
        uint32_t q = m >> s, rem = m & ((1u << s) - 1u), half = 1u << (s - 1);
        if (rem > half || (rem == half && (q & 1u))) q++;
        return (uint16_t)(sign | q);
    }
}

QUANT_DEF float quant_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0x1f) return quant__bitsf(sign | 0x7f800000u | (m ? 0x400000u | (m << 13) : 0u));
    if (e == 0) {
        if (m == 0) return quant__bitsf(sign);
        e = 113; /* normalise the subnormal: value = m * 2^-24 = 1.f * 2^(e - 127) */
        while (!(m & 0x400u)) { m <<= 1; e--; }
        m &= 0x3ffu;
        return quant__bitsf(sign | (e << 23) | (m << 13));
    }
    return quant__bitsf(sign | ((e + 112) << 23) | (m << 13));
}

QUANT_DEF uint16_t quant_fp32_to_bf16(float f) {
    uint32_t x = quant__fbits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u); /* quiet NaN */
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

QUANT_DEF float quant_bf16_to_fp32(uint16_t h) { return quant__bitsf((uint32_t)h << 16); }

QUANT_DEF void quant_fp32_to_fp16_n(const float *x, size_t n, uint16_t *y) { size_t i; for (i = 0; i < n; i++) y[i] = quant_fp32_to_fp16(x[i]); }
QUANT_DEF void quant_fp16_to_fp32_n(const uint16_t *x, size_t n, float *y) { size_t i; for (i = 0; i < n; i++) y[i] = quant_fp16_to_fp32(x[i]); }
QUANT_DEF void quant_fp32_to_bf16_n(const float *x, size_t n, uint16_t *y) { size_t i; for (i = 0; i < n; i++) y[i] = quant_fp32_to_bf16(x[i]); }
QUANT_DEF void quant_bf16_to_fp32_n(const uint16_t *x, size_t n, float *y) { size_t i; for (i = 0; i < n; i++) y[i] = quant_bf16_to_fp32(x[i]); }

/* ------------------------------------------------------------- 3. params */

QUANT_DEF quant_status quant_params_check(const quant_params *p) {
    if (!p) return QUANT_EINVAL;
    if (!(p->scale >= FLT_MIN) || !quant__isfinite(p->scale)) return QUANT_ESCALE;
    if (p->qmin >= p->qmax) return QUANT_EINVAL;
    if (p->zero_point < p->qmin || p->zero_point > p->qmax) return QUANT_EINVAL;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_params_from_range(float min, float max,
        int32_t qmin, int32_t qmax, quant_scheme scheme, quant_params *out) {
    float min_neg, max_pos, scale;
    int32_t zp;
    if (!out || qmin >= qmax) return QUANT_EINVAL;
    if (scheme != QUANT_AFFINE && scheme != QUANT_SYMMETRIC) return QUANT_EINVAL;
    if (quant__isnan(min) || quant__isnan(max)) return QUANT_EINVAL;
    if (min == INFINITY && max == -INFINITY) { /* nothing observed: PyTorch's (1, 0) */
        out->scale = 1.0f; out->zero_point = quant__clamp(0, qmin, qmax);
        out->qmin = qmin; out->qmax = qmax;
        return QUANT_OK;
    }
    if (min > max) return QUANT_EINVAL;
    if (!quant__isfinite(min) || !quant__isfinite(max)) return QUANT_ERANGE;
    min_neg = min < 0.0f ? min : 0.0f;
    max_pos = max > 0.0f ? max : 0.0f;
    if (scheme == QUANT_SYMMETRIC) {
        float m = -min_neg > max_pos ? -min_neg : max_pos;
        float denom = (float)((double)((int64_t)qmax - qmin) / 2.0);
        scale = quant__f32(m / denom);
        if (scale < FLT_EPSILON) scale = FLT_EPSILON;
        if (qmin < 0 && qmax >= 0) zp = 0;
        else zp = (int32_t)(((int64_t)qmin + qmax + 1) / 2);
    } else {
        float denom = (float)((int64_t)qmax - qmin);
        float r;
        float diff = quant__f32(max_pos - min_neg);
        if (quant__isfinite(diff)) scale = quant__f32(diff / denom);
        else scale = (float)(((double)max_pos - (double)min_neg) / (double)denom); /* finite bounds whose width overflows */
        if (scale < FLT_EPSILON) scale = FLT_EPSILON;
        if (!quant__isfinite(scale)) return QUANT_ERANGE;
        r = nearbyintf(quant__f32(min_neg / scale));
        zp = quant__clamp((int64_t)qmin - (int64_t)r, qmin, qmax);
    }
    if (!quant__isfinite(scale)) return QUANT_ERANGE;
    out->scale = scale; out->zero_point = zp; out->qmin = qmin; out->qmax = qmax;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_minmax(const float *x, size_t n, float *min, float *max) {
    float lo = INFINITY, hi = -INFINITY;
    size_t i;
    if (!min || !max || (n && !x)) return QUANT_EINVAL;
    for (i = 0; i < n; i++) {
        float v = x[i];
        if (!quant__isfinite(v)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    *min = lo; *max = hi;
    return lo <= hi ? QUANT_OK : QUANT_EEMPTY;
}

QUANT_DEF quant_status quant_minmax_axis(const float *x, const size_t *shape, int ndim,
        int axis, float *mins, float *maxs) {
    size_t outer, C, inner, o, c, i;
    quant_status st = quant__axis_split(shape, ndim, axis, &outer, &C, &inner);
    if (st != QUANT_OK) return st;
    if (C && (!mins || !maxs)) return QUANT_EINVAL;
    if ((outer * C * inner) != 0 && !x) return QUANT_EINVAL;
    for (c = 0; c < C; c++) { mins[c] = INFINITY; maxs[c] = -INFINITY; }
    for (o = 0; o < outer; o++)
        for (c = 0; c < C; c++) {
            const float *p = x + (o * C + c) * inner;
            float lo = mins[c], hi = maxs[c];
            for (i = 0; i < inner; i++) {
                float v = p[i];
                if (!quant__isfinite(v)) continue;
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
            mins[c] = lo; maxs[c] = hi;
        }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_params_per_channel(const float *mins, const float *maxs,
        size_t channels, int32_t qmin, int32_t qmax, quant_scheme scheme,
        float *scales, int32_t *zps) {
    size_t c;
    quant_params p;
    if (channels && (!mins || !maxs || !scales || !zps)) return QUANT_EINVAL;
    if (qmin >= qmax) return QUANT_EINVAL;
    for (c = 0; c < channels; c++) { /* validate everything before writing */
        quant_status st = quant_params_from_range(mins[c], maxs[c], qmin, qmax, scheme, &p);
        if (st != QUANT_OK) return st;
    }
    for (c = 0; c < channels; c++) {
        quant_params_from_range(mins[c], maxs[c], qmin, qmax, scheme, &p);
        scales[c] = p.scale; zps[c] = p.zero_point;
    }
    return QUANT_OK;
}

/* params of one group, with the scale rounded to fp16 if asked (and the zero
 * point recomputed from the rounded scale). */
QUANT__INTERNAL quant_status quant__group_params(const float *x, size_t n, int32_t qmin,
        int32_t qmax, quant_scheme scheme, quant_scale_type st, float *scale,
        uint16_t *scale_h, int32_t *zp) {
    float lo, hi;
    quant_params p;
    quant_status s;
    quant_minmax(x, n, &lo, &hi);
    if (lo > hi) lo = hi = 0.0f; /* no finite value: all-zero params */
    s = quant_params_from_range(lo, hi, qmin, qmax, scheme, &p);
    if (s != QUANT_OK) return s;
    if (st == QUANT_SCALE_F16) {
        uint16_t h = quant_fp32_to_fp16(p.scale);
        float sh = quant_fp16_to_fp32(h);
        if (!quant__isfinite(sh)) return QUANT_ERANGE;
        if (scheme == QUANT_AFFINE) {
            float mn = lo < 0.0f ? lo : 0.0f;
            p.zero_point = quant__clamp((int64_t)qmin - (int64_t)nearbyintf(quant__f32(mn / sh)), qmin, qmax);
        }
        p.scale = sh;
        *scale_h = h;
    }
    *scale = p.scale; *zp = p.zero_point;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_params_per_group(const float *x, size_t rows, size_t cols,
        size_t group, int32_t qmin, int32_t qmax, quant_scheme scheme,
        quant_scale_type st, void *scales, int32_t *zps) {
    size_t r, g, ng;
    int pass;
    if (!group || qmin >= qmax) return QUANT_EINVAL;
    if (st != QUANT_SCALE_F32 && st != QUANT_SCALE_F16) return QUANT_EINVAL;
    if (scheme != QUANT_AFFINE && scheme != QUANT_SYMMETRIC) return QUANT_EINVAL;
    if (!quant__span_ok(rows, cols, sizeof(float))) return QUANT_EOVERFLOW;
    ng = (cols + group - 1) / group;
    if (!rows || !cols) return QUANT_OK;
    if (!x || !scales) return QUANT_EINVAL;
    if (!zps && !(scheme == QUANT_SYMMETRIC && qmin < 0 && qmax >= 0)) return QUANT_EINVAL;
    for (pass = 0; pass < 2; pass++) /* pass 0 validates, pass 1 writes */
        for (r = 0; r < rows; r++)
            for (g = 0; g < ng; g++) {
                size_t c0 = g * group, len = cols - c0 < group ? cols - c0 : group;
                float s; uint16_t h = 0; int32_t z;
                quant_status e = quant__group_params(x + r * cols + c0, len, qmin, qmax, scheme, st, &s, &h, &z);
                if (e != QUANT_OK) return e;
                if (pass == 1) {
                    if (st == QUANT_SCALE_F16) ((uint16_t *)scales)[r * ng + g] = h;
                    else ((float *)scales)[r * ng + g] = s;
                    if (zps) zps[r * ng + g] = z;
                }
            }
    return QUANT_OK;
}

/* ------------------------------------------------ 4. quantize/dequantize */

#define QUANT__CHUNK 256

QUANT__INTERNAL int32_t quant__q1(float x, float inv, int32_t zp, int32_t qmin, int32_t qmax,
        quant_round mode, quant_rng *rng) {
    if (quant__isnan(x)) return quant__clamp(zp, qmin, qmax);
    if (mode == QUANT_ROUND_HALF_EVEN) return quant__clamp_rounded(nearbyintf(quant__f32(x * inv)), zp, qmin, qmax);
    return quant__clamp_rounded(quant_roundf(quant__f32(x * inv), mode, rng), zp, qmin, qmax);
}

QUANT_DEF quant_status quant_quantize_ex(const float *x, size_t n, const quant_params *p,
        quant_dtype dt, quant_round mode, quant_rng *rng, void *out) {
    int32_t buf[QUANT__CHUNK];
    size_t i, j;
    float inv;
    quant_status st = quant_params_check(p);
    if (st != QUANT_OK) return st;
    if (!quant__dtype_fits(dt, p->qmin, p->qmax)) return QUANT_EINVAL;
    if ((unsigned)mode > QUANT_ROUND_STOCHASTIC || (mode == QUANT_ROUND_STOCHASTIC && !rng)) return QUANT_EINVAL;
    if (n && (!x || !out)) return QUANT_EINVAL;
    inv = quant__f32(1.0f / p->scale);
    for (i = 0; i < n; i += QUANT__CHUNK) {
        size_t m = n - i < QUANT__CHUNK ? n - i : QUANT__CHUNK;
        for (j = 0; j < m; j++) buf[j] = quant__q1(x[i + j], inv, p->zero_point, p->qmin, p->qmax, mode, rng);
        quant__store_n(out, dt, i, buf, m);
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_quantize(const float *x, size_t n, const quant_params *p,
        quant_dtype dt, void *out) {
    return quant_quantize_ex(x, n, p, dt, QUANT_ROUND_HALF_EVEN, NULL, out);
}

QUANT_DEF quant_status quant_dequantize(const void *q, quant_dtype dt, size_t n,
        const quant_params *p, float *out) {
    size_t i;
    quant_status st = quant_params_check(p);
    if (st != QUANT_OK) return st;
    if (!quant_dtype_bits(dt)) return QUANT_EINVAL;
    if (n && (!q || !out)) return QUANT_EINVAL;
    for (i = 0; i < n; i++)
        out[i] = (float)((int64_t)quant__load1(q, dt, i) - p->zero_point) * p->scale;
    return QUANT_OK;
}

QUANT__INTERNAL quant_status quant__check_pc(const size_t *shape, int ndim, int axis,
        const float *scales, const int32_t *zps, int32_t qmin, int32_t qmax,
        size_t *outer, size_t *C, size_t *inner) {
    size_t c;
    quant_status st = quant__axis_split(shape, ndim, axis, outer, C, inner);
    if (st != QUANT_OK) return st;
    if (qmin >= qmax) return QUANT_EINVAL;
    if (*C && (!scales || !zps)) return QUANT_EINVAL;
    for (c = 0; c < *C; c++) {
        quant_params p;
        p.scale = scales[c]; p.zero_point = zps[c]; p.qmin = qmin; p.qmax = qmax;
        st = quant_params_check(&p);
        if (st != QUANT_OK) return st;
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_quantize_per_channel(const float *x, const size_t *shape,
        int ndim, int axis, const float *scales, const int32_t *zps,
        int32_t qmin, int32_t qmax, quant_dtype dt, void *out) {
    int32_t buf[QUANT__CHUNK];
    size_t outer, C, inner, n, i, j;
    quant_status st = quant__check_pc(shape, ndim, axis, scales, zps, qmin, qmax, &outer, &C, &inner);
    if (st != QUANT_OK) return st;
    if (!quant__dtype_fits(dt, qmin, qmax)) return QUANT_EINVAL;
    n = outer * C * inner;
    if (n && (!x || !out)) return QUANT_EINVAL;
    for (i = 0; i < n; i += QUANT__CHUNK) {
        size_t m = n - i < QUANT__CHUNK ? n - i : QUANT__CHUNK;
        for (j = 0; j < m; j++) {
            size_t c = ((i + j) / inner) % C;
            float inv = quant__f32(1.0f / scales[c]);
            buf[j] = quant__q1(x[i + j], inv, zps[c], qmin, qmax, QUANT_ROUND_HALF_EVEN, NULL);
        }
        quant__store_n(out, dt, i, buf, m);
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_dequantize_per_channel(const void *q, quant_dtype dt,
        const size_t *shape, int ndim, int axis, const float *scales,
        const int32_t *zps, float *out) {
    size_t outer, C, inner, n, i;
    int32_t lo, hi;
    quant_status st;
    if (quant_dtype_range(dt, 0, &lo, &hi) != QUANT_OK) return QUANT_EINVAL;
    st = quant__check_pc(shape, ndim, axis, scales, zps, lo, hi, &outer, &C, &inner);
    if (st != QUANT_OK) return st;
    n = outer * C * inner;
    if (n && (!q || !out)) return QUANT_EINVAL;
    for (i = 0; i < n; i++) {
        size_t c = (i / inner) % C;
        out[i] = (float)((int64_t)quant__load1(q, dt, i) - zps[c]) * scales[c];
    }
    return QUANT_OK;
}

QUANT__INTERNAL float quant__group_scale(const void *scales, quant_scale_type st, size_t i) {
    return st == QUANT_SCALE_F16 ? quant_fp16_to_fp32(((const uint16_t *)scales)[i]) : ((const float *)scales)[i];
}

QUANT__INTERNAL quant_status quant__check_groups(size_t rows, size_t cols, size_t group,
        quant_scale_type st, const void *scales, const int32_t *zps, int32_t qmin, int32_t qmax) {
    size_t i, ng;
    if (!group || qmin >= qmax) return QUANT_EINVAL;
    if (st != QUANT_SCALE_F32 && st != QUANT_SCALE_F16) return QUANT_EINVAL;
    if (!quant__span_ok(rows, cols, sizeof(float))) return QUANT_EOVERFLOW;
    ng = (cols + group - 1) / group;
    if ((rows * ng) != 0 && !scales) return QUANT_EINVAL;
    for (i = 0; i < rows * ng; i++) {
        quant_params p;
        p.scale = quant__group_scale(scales, st, i);
        p.zero_point = zps ? zps[i] : 0; p.qmin = qmin; p.qmax = qmax;
        if (quant_params_check(&p) != QUANT_OK) return quant_params_check(&p);
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_quantize_per_group(const float *x, size_t rows, size_t cols,
        size_t group, quant_scale_type st, const void *scales, const int32_t *zps,
        int32_t qmin, int32_t qmax, quant_dtype dt, void *out) {
    int32_t buf[QUANT__CHUNK];
    size_t r, i, j, ng, row_bytes;
    quant_status s = quant__check_groups(rows, cols, group, st, scales, zps, qmin, qmax);
    if (s != QUANT_OK) return s;
    if (!quant__dtype_fits(dt, qmin, qmax)) return QUANT_EINVAL;
    if ((rows * cols) != 0 && (!x || !out)) return QUANT_EINVAL;
    ng = (cols + group - 1) / group;
    row_bytes = quant_dtype_bytes(dt, cols);
    for (r = 0; r < rows; r++) {
        void *orow = (uint8_t *)out + r * row_bytes;
        for (i = 0; i < cols; i += QUANT__CHUNK) {
            size_t m = cols - i < QUANT__CHUNK ? cols - i : QUANT__CHUNK;
            for (j = 0; j < m; j++) {
                size_t g = r * ng + (i + j) / group;
                float inv = quant__f32(1.0f / quant__group_scale(scales, st, g));
                buf[j] = quant__q1(x[r * cols + i + j], inv, zps ? zps[g] : 0, qmin, qmax, QUANT_ROUND_HALF_EVEN, NULL);
            }
            quant__store_n(orow, dt, i, buf, m);
        }
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_dequantize_per_group(const void *q, quant_dtype dt,
        size_t rows, size_t cols, size_t group, quant_scale_type st,
        const void *scales, const int32_t *zps, float *out) {
    size_t r, j, ng, row_bytes;
    int32_t lo, hi;
    quant_status s;
    if (quant_dtype_range(dt, 0, &lo, &hi) != QUANT_OK) return QUANT_EINVAL;
    s = quant__check_groups(rows, cols, group, st, scales, zps, lo, hi);
    if (s != QUANT_OK) return s;
    if ((rows * cols) != 0 && (!q || !out)) return QUANT_EINVAL;
    ng = (cols + group - 1) / group;
    row_bytes = quant_dtype_bytes(dt, cols);
    for (r = 0; r < rows; r++) {
        const void *qrow = (const uint8_t *)q + r * row_bytes;
        for (j = 0; j < cols; j++) {
            size_t g = r * ng + j / group;
            out[r * cols + j] = (float)((int64_t)quant__load1(qrow, dt, j) - (zps ? zps[g] : 0)) *
                                quant__group_scale(scales, st, g);
        }
    }
    return QUANT_OK;
}

QUANT_DEF double quant_sqnr_db(const float *x, const float *y, size_t n, double *max_abs_err) {
    double sig = 0.0, noise = 0.0, mx = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        double d = (double)x[i] - (double)y[i];
        sig += (double)x[i] * x[i];
        noise += d * d;
        if (fabs(d) > mx) mx = fabs(d);
    }
    if (max_abs_err) *max_abs_err = mx;
    if (noise == 0.0) return INFINITY;
    if (sig == 0.0) return -INFINITY;
    return 10.0 * log10(sig / noise);
}

/* --------------------------------------------------------- 5. fixed point */

QUANT_DEF quant_status quant_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift) {
    double q;
    int e = 0;
    int64_t qf;
    if (!multiplier || !shift) return QUANT_EINVAL;
    if (!(real >= 0.0) || real > DBL_MAX) return QUANT_EINVAL; /* NaN, negative, Inf */
    if (real == 0.0) { *multiplier = 0; *shift = 0; return QUANT_OK; }
    q = frexp(real, &e);
    qf = (int64_t)round(q * 2147483648.0);
    if (qf == ((int64_t)1 << 31)) { qf /= 2; e++; }
    if (e < -31) { e = 0; qf = 0; }
    if (e > 30) { e = 30; qf = INT32_MAX; }
    *multiplier = (int32_t)qf; *shift = e;
    return QUANT_OK;
}

/* A real multiplier the fixed-point form holds without saturating: with
 * shift <= 30, multiplier = round(real * 2) < 2^31, i.e. real < 2^30 - 1/4.
 * The prepare functions refuse larger ratios (QUANT_ERANGE) rather than
 * saturate them. */
QUANT__INTERNAL int quant__mult_fits(double real) { return real >= 0.0 && real < 1073741823.75; }

QUANT_DEF quant_status quant_requant_from_scale(double real, quant_requant *out) {
    int32_t m, s;
    quant_status st;
    if (!out) return QUANT_EINVAL;
    st = quant_quantize_multiplier(real, &m, &s);
    if (st != QUANT_OK) return st;
    if (real > FLT_MAX) return QUANT_ERANGE;
    out->multiplier = m; out->shift = s; out->scale = (float)real;
    return QUANT_OK;
}

QUANT_DEF int32_t quant_srdhm(int32_t a, int32_t b) {
    int64_t ab;
    int64_t nudge;
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* C division truncates toward 0 */
}

QUANT_DEF int32_t quant_rdivpot(int32_t x, int exponent) {
    int32_t mask, rem, threshold;
    QUANT_ASSERT(exponent >= 0 && exponent <= 31);
    mask = (int32_t)(((int64_t)1 << exponent) - 1);
    rem = x & mask;
    threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return quant__asr32(x, exponent) + (rem > threshold ? 1 : 0);
}

QUANT_DEF int32_t quant_sat_shl(int32_t x, int exponent) {
    QUANT_ASSERT(exponent >= 0 && exponent <= 31);
    return quant__sat32((int64_t)x * ((int64_t)1 << exponent));
}

QUANT_DEF int32_t quant_mul_by_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
    int ls = shift > 0 ? shift : 0, rs = shift > 0 ? 0 : -shift;
    QUANT_ASSERT(shift >= -31 && shift <= 30);
    return quant_rdivpot(quant_srdhm(quant_sat_shl(x, ls), multiplier), rs);
}

QUANT_DEF int32_t quant_mul_by_multiplier_single(int32_t x, int32_t multiplier, int32_t shift) {
    int total = 31 - shift;
    int64_t r;
    QUANT_ASSERT(shift >= -31 && shift <= 30);
    r = (int64_t)x * multiplier + ((int64_t)1 << (total - 1));
    return quant__sat32(quant__asr64(r, total));
}

QUANT_DEF int32_t quant_requantize1(int32_t acc, const quant_requant *rq,
        quant_requant_mode mode, int32_t zp, int32_t lo, int32_t hi) {
    switch (mode) {
    case QUANT_RQ_GEMMLOWP:
        return quant__clamp((int64_t)quant_mul_by_multiplier(acc, rq->multiplier, rq->shift) + zp, lo, hi);
    case QUANT_RQ_SINGLE:
        return quant__clamp((int64_t)quant_mul_by_multiplier_single(acc, rq->multiplier, rq->shift) + zp, lo, hi);
    case QUANT_RQ_FP32: {
        /* clamp before rounding (lo - zp and hi - zp are integers, exact in
         * double); identical to rounding then clamping */
        double y = (double)quant__f32((float)acc * rq->scale);
        double dlo = (double)lo - zp, dhi = (double)hi - zp;
        if (y < dlo) y = dlo;
        if (y > dhi) y = dhi;
        return quant__clamp((int64_t)nearbyint(y) + zp, lo, hi);
    }
    }
    return zp;
}

QUANT_DEF quant_status quant_activation_range(quant_activation act, float a_lo, float a_hi,
        const quant_params *out, int32_t *lo, int32_t *hi) {
    int32_t l, h;
    quant_status st = quant_params_check(out);
    if (st != QUANT_OK) return st;
    if (!lo || !hi) return QUANT_EINVAL;
    l = out->qmin; h = out->qmax;
#define QUANT__QACT(f) quant__clamp_rounded(roundf(quant__f32((f) / out->scale)), out->zero_point, INT32_MIN, INT32_MAX)
    switch (act) {
    case QUANT_ACT_NONE: break;
    case QUANT_ACT_RELU: { int32_t z = QUANT__QACT(0.0f); if (z > l) l = z; } break;
    case QUANT_ACT_RELU6: {
        int32_t z = QUANT__QACT(0.0f), s = QUANT__QACT(6.0f);
        if (z > l) l = z;
        if (s < h) h = s;
    } break;
    case QUANT_ACT_RANGE: {
        int32_t a, b;
        if (quant__isnan(a_lo) || quant__isnan(a_hi) || a_lo > a_hi) return QUANT_EINVAL;
        a = QUANT__QACT(a_lo); b = QUANT__QACT(a_hi);
        if (a > l) l = a;
        if (b < h) h = b;
    } break;
    default: return QUANT_EINVAL;
    }
#undef QUANT__QACT
    if (l > h) return QUANT_ERANGE;
    *lo = l; *hi = h;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_requantize(const int32_t *acc, size_t rows, size_t cols,
        const int32_t *bias, const quant_requant *rq, int per_channel,
        quant_requant_mode mode, int32_t zp, int32_t lo, int32_t hi,
        quant_dtype dt, void *out) {
    size_t r, c, nrq;
    int32_t tlo = 0, thi = -1;
    if ((unsigned)mode > QUANT_RQ_FP32 || (dt != QUANT_I8 && dt != QUANT_U8)) return QUANT_EINVAL;
    quant_dtype_range(dt, 0, &tlo, &thi);
    if (lo > hi || lo < tlo || hi > thi || zp < tlo || zp > thi) return QUANT_EINVAL;
    if (!quant__span_ok(rows, cols, sizeof(int32_t))) return QUANT_EOVERFLOW;
    if (!rows || !cols) return QUANT_OK;
    if (!acc || !rq || !out) return QUANT_EINVAL;
    nrq = per_channel ? cols : 1;
    for (c = 0; c < nrq; c++) {
        if (rq[c].multiplier < 0 || rq[c].shift < -31 || rq[c].shift > 30) return QUANT_EINVAL;
        if (mode == QUANT_RQ_FP32 && !(rq[c].scale >= 0.0f && rq[c].scale <= FLT_MAX)) return QUANT_ESCALE;
    }
    for (r = 0; r < rows; r++)
        for (c = 0; c < cols; c++) {
            int32_t a = acc[r * cols + c];
            int32_t v;
            if (bias) a = (int32_t)((uint32_t)a + (uint32_t)bias[c]);
            v = quant_requantize1(a, &rq[per_channel ? c : 0], mode, zp, lo, hi);
            if (dt == QUANT_I8) ((int8_t *)out)[r * cols + c] = (int8_t)v;
            else ((uint8_t *)out)[r * cols + c] = (uint8_t)v;
        }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_dyadic_from_scale(double real, int mbits, int32_t *m, int32_t *k) {
    int kk;
    double lim;
    if (!m || !k || mbits < 1 || mbits > 31) return QUANT_EINVAL;
    if (!(real >= 0.0) || real > DBL_MAX) return QUANT_EINVAL;
    lim = ldexp(1.0, mbits);
    if (round(real) >= lim) return QUANT_ERANGE;
    for (kk = 62; kk >= 0; kk--) {
        double v = round(ldexp(real, kk));
        if (v < lim) { *m = (int32_t)v; *k = kk; return QUANT_OK; }
    }
    return QUANT_ERANGE;
}

QUANT_DEF int32_t quant_dyadic_apply(int32_t x, int32_t m, int32_t k) {
    int64_t r;
    QUANT_ASSERT(k >= 0 && k <= 62 && m >= 0);
    r = (int64_t)x * m;
    if (k == 0) return quant__sat32(r);
    return quant__sat32(quant__asr64(r + ((int64_t)1 << (k - 1)), k));
}

/* ---------------------------------------------- 6. quantized elementwise */

QUANT__INTERNAL int quant__is_byte_dt(quant_dtype dt) { return dt == QUANT_I8 || dt == QUANT_U8; }

QUANT_DEF quant_status quant_add_prepare(const quant_params *a, const quant_params *b,
        const quant_params *out, quant_activation act, quant_add_params *prm) {
    double twice_max, r1, r2, ro;
    quant_add_params t;
    quant_status st;
    if (!prm) return QUANT_EINVAL;
    if ((st = quant_params_check(a)) || (st = quant_params_check(b)) || (st = quant_params_check(out))) return st;
    if (act == QUANT_ACT_RANGE) return QUANT_EINVAL; /* needs float bounds: use quant_activation_range */
    t.left_shift = 20;
    twice_max = 2.0 * (double)(a->scale > b->scale ? a->scale : b->scale);
    r1 = (double)a->scale / twice_max;
    r2 = (double)b->scale / twice_max;
    ro = twice_max / ((double)(1 << t.left_shift) * (double)out->scale);
    if (!quant__mult_fits(r1) || !quant__mult_fits(r2) || !quant__mult_fits(ro)) return QUANT_ERANGE;
    if ((st = quant_quantize_multiplier(r1, &t.in1_mult, &t.in1_shift)) ||
        (st = quant_quantize_multiplier(r2, &t.in2_mult, &t.in2_shift)) ||
        (st = quant_quantize_multiplier(ro, &t.out_mult, &t.out_shift))) return st;
    t.in1_offset = -a->zero_point; t.in2_offset = -b->zero_point; t.out_offset = out->zero_point;
    if ((st = quant_activation_range(act, -INFINITY, INFINITY, out, &t.lo, &t.hi))) return st;
    *prm = t;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_mul_prepare(const quant_params *a, const quant_params *b,
        const quant_params *out, quant_activation act, quant_mul_params *prm) {
    quant_mul_params t;
    quant_status st;
    double r;
    if (!prm) return QUANT_EINVAL;
    if ((st = quant_params_check(a)) || (st = quant_params_check(b)) || (st = quant_params_check(out))) return st;
    if (act == QUANT_ACT_RANGE) return QUANT_EINVAL; /* needs float bounds: use quant_activation_range */
    /* TFLite computes s1 * s2 / so in float, then widens to double */
    r = (double)quant__f32(quant__f32(a->scale * b->scale) / out->scale);
    if (!quant__mult_fits(r)) return QUANT_ERANGE; /* Inf included */
    if ((st = quant_quantize_multiplier(r, &t.out_mult, &t.out_shift))) return st;
    t.in1_offset = -a->zero_point; t.in2_offset = -b->zero_point; t.out_offset = out->zero_point;
    if ((st = quant_activation_range(act, -INFINITY, INFINITY, out, &t.lo, &t.hi))) return st;
    *prm = t;
    return QUANT_OK;
}

QUANT__INTERNAL int32_t quant__ld8(const void *p, quant_dtype dt, size_t i) {
    return dt == QUANT_I8 ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}
QUANT__INTERNAL void quant__st8(void *p, quant_dtype dt, size_t i, int32_t v) {
    if (dt == QUANT_I8) ((int8_t *)p)[i] = (int8_t)v; else ((uint8_t *)p)[i] = (uint8_t)v;
}
QUANT__INTERNAL int quant__clamp_fits(quant_dtype dt, int32_t lo, int32_t hi) {
    int32_t a = 0, b = -1;
    quant_dtype_range(dt, 0, &a, &b);
    return lo <= hi && lo >= a && hi <= b;
}

QUANT_DEF quant_status quant_add(const void *a, const void *b, size_t n, quant_dtype dt,
        const quant_add_params *prm, void *out) {
    size_t i;
    if (!prm || !quant__is_byte_dt(dt) || !quant__clamp_fits(dt, prm->lo, prm->hi)) return QUANT_EINVAL;
    if (prm->left_shift < 0 || prm->left_shift > 20) return QUANT_EINVAL;
    if (n && (!a || !b || !out)) return QUANT_EINVAL;
    for (i = 0; i < n; i++) {
        int32_t x1 = (prm->in1_offset + quant__ld8(a, dt, i)) * (1 << prm->left_shift);
        int32_t x2 = (prm->in2_offset + quant__ld8(b, dt, i)) * (1 << prm->left_shift);
        int32_t s1 = quant_mul_by_multiplier(x1, prm->in1_mult, prm->in1_shift);
        int32_t s2 = quant_mul_by_multiplier(x2, prm->in2_mult, prm->in2_shift);
        int32_t o = quant_mul_by_multiplier(s1 + s2, prm->out_mult, prm->out_shift);
        quant__st8(out, dt, i, quant__clamp((int64_t)o + prm->out_offset, prm->lo, prm->hi));
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_mul(const void *a, const void *b, size_t n, quant_dtype dt,
        const quant_mul_params *prm, void *out) {
    size_t i;
    if (!prm || !quant__is_byte_dt(dt) || !quant__clamp_fits(dt, prm->lo, prm->hi)) return QUANT_EINVAL;
    if (n && (!a || !b || !out)) return QUANT_EINVAL;
    for (i = 0; i < n; i++) {
        int32_t p = (prm->in1_offset + quant__ld8(a, dt, i)) * (prm->in2_offset + quant__ld8(b, dt, i));
        int32_t o = quant_mul_by_multiplier(p, prm->out_mult, prm->out_shift);
        quant__st8(out, dt, i, quant__clamp((int64_t)o + prm->out_offset, prm->lo, prm->hi));
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_requantize_params(const void *in, quant_dtype in_dt,
        const quant_params *pin, size_t n, const quant_params *pout,
        quant_dtype out_dt, void *out) {
    int32_t m, s;
    size_t i;
    quant_status st;
    if (!quant__is_byte_dt(in_dt) || !quant__is_byte_dt(out_dt)) return QUANT_EINVAL;
    if ((st = quant_params_check(pin)) || (st = quant_params_check(pout))) return st;
    if (!quant__dtype_fits(out_dt, pout->qmin, pout->qmax)) return QUANT_EINVAL;
    if (!quant__mult_fits((double)pin->scale / (double)pout->scale)) return QUANT_ERANGE;
    if ((st = quant_quantize_multiplier((double)pin->scale / (double)pout->scale, &m, &s))) return st;
    if (n && (!in || !out)) return QUANT_EINVAL;
    for (i = 0; i < n; i++) {
        int32_t v = quant_mul_by_multiplier(quant__ld8(in, in_dt, i) - pin->zero_point, m, s);
        quant__st8(out, out_dt, i, quant__clamp((int64_t)v + pout->zero_point, pout->qmin, pout->qmax));
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_lut_build(const quant_params *in, const quant_params *out,
        quant_dtype dt, quant_unary_fn f, const void *ctx, uint8_t lut[256]) {
    uint8_t t[256];
    int32_t lo = 0, hi = -1, v;
    float inv;
    quant_status st;
    if (!f || !lut || !quant__is_byte_dt(dt)) return QUANT_EINVAL;
    if ((st = quant_params_check(in)) || (st = quant_params_check(out))) return st;
    quant_dtype_range(dt, 0, &lo, &hi);
    inv = quant__f32(1.0f / out->scale);
    for (v = lo; v <= hi; v++) {
        float deq = quant__f32(in->scale * (float)(v - in->zero_point));
        float y = f(deq, ctx);
        int32_t q, olo = out->qmin > lo ? out->qmin : lo, ohi = out->qmax < hi ? out->qmax : hi;
        if (quant__isnan(y)) q = quant__clamp(out->zero_point, olo, ohi);
        else q = quant__clamp_rounded(roundf(quant__f32(y * inv)), out->zero_point, olo, ohi);
        t[(uint8_t)(v & 0xff)] = (uint8_t)(q & 0xff);
    }
    memcpy(lut, t, 256);
    return QUANT_OK;
}

QUANT_DEF void quant_lut_apply(const uint8_t lut[256], const void *in, size_t n, void *out) {
    const uint8_t *a = (const uint8_t *)in;
    uint8_t *o = (uint8_t *)out;
    size_t i;
    for (i = 0; i < n; i++) o[i] = lut[a[i]];
}

QUANT_DEF float quant_fn_sigmoid(float x, const void *ctx) { (void)ctx; return (float)(1.0 / (1.0 + exp(-(double)x))); }
QUANT_DEF float quant_fn_tanh(float x, const void *ctx) { (void)ctx; return (float)tanh((double)x); }
QUANT_DEF float quant_fn_exp(float x, const void *ctx) { (void)ctx; return (float)exp((double)x); }
QUANT_DEF float quant_fn_gelu(float x, const void *ctx) {
    (void)ctx;
    if (x == -INFINITY) return -0.0f;
    /* x * Phi(x) with Phi = erfc(-x / sqrt 2) / 2: keeps the negative tail */
    return (float)(0.5 * (double)x * erfc(-(double)x * 0.70710678118654752440));
}

/* ------------------------------------------------- 7. other quantizers */

QUANT__INTERNAL float quant__absmax(const float *x, size_t n) {
    float m = 0.0f;
    size_t i;
    for (i = 0; i < n; i++) { float a = fabsf(x[i]); if (quant__isfinite(a) && a > m) m = a; }
    return m;
}

QUANT_DEF quant_status quant_pow2_emin(const float *x, size_t n, int bits, int32_t *emin) {
    float am;
    int ex, emax;
    if (!emin || bits < 2 || bits > 8 || (n && !x)) return QUANT_EINVAL;
    am = quant__absmax(x, n);
    if (am == 0.0f) { *emin = 0; return QUANT_OK; }
    { float f = frexpf(am, &ex); emax = f >= 0.75f ? ex : ex - 1; } /* nearest power of two, ties up */
    *emin = emax - ((1 << (bits - 1)) - 1) + 1;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_pow2_quantize(const float *x, size_t n, int bits, int32_t emin, int8_t *codes) {
    int32_t levels, emax;
    size_t i;
    if (bits < 2 || bits > 8 || (n && (!x || !codes))) return QUANT_EINVAL;
    if (emin < -1000 || emin > 1000) return QUANT_ERANGE;
    levels = (1 << (bits - 1)) - 1;
    emax = emin + levels - 1;
    for (i = 0; i < n; i++) {
        float v = x[i], a = fabsf(v);
        int32_t e, code;
        int ex;
        if (quant__isnan(v) || a == 0.0f) { codes[i] = 0; continue; }
        if (!quant__isfinite(a)) e = emax;
        else {
            float f = frexpf(a, &ex); /* a = f * 2^ex, f in [0.5, 1) */
            e = f >= 0.75f ? ex : ex - 1;
            if (e < emin) { /* nearest of 0 and 2^emin: the midpoint 2^(emin-1) goes up */
                codes[i] = (int8_t)(ex >= emin ? (v < 0 ? -1 : 1) : 0); /* a >= 2^(ex-1) */
                continue;
            }
            if (e > emax) e = emax;
        }
        code = e - emin + 1;
        codes[i] = (int8_t)(v < 0 ? -code : code);
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_pow2_dequantize(const int8_t *codes, size_t n, int32_t emin, float *out) {
    size_t i;
    if (n && (!codes || !out)) return QUANT_EINVAL;
    if (emin < -1000 || emin > 1000) return QUANT_ERANGE;
    for (i = 0; i < n; i++) {
        int c = codes[i];
        if (c == 0) { out[i] = 0.0f; continue; }
        out[i] = (float)ldexp(c < 0 ? -1.0 : 1.0, emin + (c < 0 ? -c : c) - 1);
    }
    return QUANT_OK;
}

QUANT_DEF int64_t quant_pow2_dot(const int8_t *a, const int8_t *codes, size_t n) {
    int64_t s = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        int c = codes[i];
        int64_t t;
        if (c == 0) continue;
        QUANT_ASSERT(c >= -48 && c <= 48);
        t = (int64_t)a[i] * ((int64_t)1 << ((c < 0 ? -c : c) - 1));
        s += c < 0 ? -t : t;
    }
    return s;
}

QUANT_DEF quant_status quant_dfp_frac_bits(const float *x, size_t n, int bits, int32_t *frac) {
    float am;
    int ex, f0;
    double lim;
    if (!frac || bits < 2 || bits > 16 || (n && !x)) return QUANT_EINVAL;
    am = quant__absmax(x, n);
    if (am == 0.0f) { *frac = bits - 1; return QUANT_OK; }
    frexpf(am, &ex);
    f0 = bits - 1 - ex;
    lim = ldexp(1.0, bits - 1) - 1.0;
    if (nearbyint(ldexp((double)am, f0)) > lim) f0--;
    *frac = f0;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_dfp_quantize(const float *x, size_t n, int bits, int32_t frac,
        quant_dtype dt, void *out) {
    size_t i;
    int32_t lo, hi;
    if (bits < 2 || bits > 16 || (n && (!x || !out))) return QUANT_EINVAL;
    if ((dt != QUANT_I8 || bits > 8) && (dt != QUANT_I16)) return QUANT_EINVAL;
    if (frac < -300 || frac > 300) return QUANT_ERANGE;
    hi = (1 << (bits - 1)) - 1; lo = -hi - 1;
    for (i = 0; i < n; i++) {
        int32_t q;
        if (quant__isnan(x[i])) q = 0;
        else {
            double d = nearbyint(ldexp((double)x[i], frac));
            q = d <= lo ? lo : d >= hi ? hi : (int32_t)d;
        }
        if (dt == QUANT_I8) ((int8_t *)out)[i] = (int8_t)q; else ((int16_t *)out)[i] = (int16_t)q;
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_dfp_dequantize(const void *q, quant_dtype dt, size_t n,
        int32_t frac, float *out) {
    size_t i;
    if ((dt != QUANT_I8 && dt != QUANT_I16) || (n && (!q || !out))) return QUANT_EINVAL;
    if (frac < -300 || frac > 300) return QUANT_ERANGE;
    for (i = 0; i < n; i++) {
        int32_t v = dt == QUANT_I8 ? ((const int8_t *)q)[i] : ((const int16_t *)q)[i];
        out[i] = (float)ldexp((double)v, -frac);
    }
    return QUANT_OK;
}

/* the fake quant of one value; *in_range as PyTorch's cachemask */
QUANT__INTERNAL float quant__fq1(float x, float s, float inv, int32_t zp, int32_t qmin, int32_t qmax, int *in_range) {
    double q;
    int32_t c;
    if (quant__isnan(x)) { *in_range = 0; return 0.0f; }
    q = (double)nearbyintf(quant__f32(x * inv)) + (double)zp;
    *in_range = q >= (double)qmin && q <= (double)qmax;
    c = q <= (double)qmin ? qmin : q >= (double)qmax ? qmax : (int32_t)q;
    return (float)((int64_t)c - zp) * s;
}

QUANT_DEF quant_status quant_fake_quant(const float *x, size_t n, const quant_params *p,
        float *y, uint8_t *mask) {
    size_t i;
    float inv;
    quant_status st = quant_params_check(p);
    if (st != QUANT_OK) return st;
    if (n && (!x || !y)) return QUANT_EINVAL;
    inv = quant__f32(1.0f / p->scale);
    for (i = 0; i < n; i++) {
        int m;
        y[i] = quant__fq1(x[i], p->scale, inv, p->zero_point, p->qmin, p->qmax, &m);
        if (mask) mask[i] = (uint8_t)m;
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_fake_quant_per_channel(const float *x, const size_t *shape,
        int ndim, int axis, const float *scales, const int32_t *zps, int32_t qmin,
        int32_t qmax, float *y, uint8_t *mask) {
    size_t outer, C, inner, n, i;
    quant_status st = quant__check_pc(shape, ndim, axis, scales, zps, qmin, qmax, &outer, &C, &inner);
    if (st != QUANT_OK) return st;
    n = outer * C * inner;
    if (n && (!x || !y)) return QUANT_EINVAL;
    for (i = 0; i < n; i++) {
        size_t c = (i / inner) % C;
        int m;
        y[i] = quant__fq1(x[i], scales[c], quant__f32(1.0f / scales[c]), zps[c], qmin, qmax, &m);
        if (mask) mask[i] = (uint8_t)m;
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_fake_quant_backward(const float *dy, const uint8_t *mask,
        size_t n, float *dx) {
    size_t i;
    if (n && (!dy || !mask || !dx)) return QUANT_EINVAL;
    for (i = 0; i < n; i++) dx[i] = mask[i] ? dy[i] : 0.0f;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_lsq_backward(const float *x, const float *dy, size_t n,
        const quant_params *p, float grad_factor, float *dx, float *dscale) {
    size_t i;
    float inv;
    double g = 0.0, gf;
    quant_status st = quant_params_check(p);
    if (st != QUANT_OK) return st;
    if (!dscale || (n && (!x || !dy || !dx))) return QUANT_EINVAL;
    if (quant__isnan(grad_factor)) return QUANT_EINVAL;
    inv = quant__f32(1.0f / p->scale);
    gf = grad_factor > 0.0f ? (double)grad_factor
                            : 1.0 / sqrt((double)(n ? n : 1) * (double)(p->qmax > 0 ? p->qmax : 1));
    for (i = 0; i < n; i++) {
        float xs, r;
        double q, d;
        if (quant__isnan(x[i])) { dx[i] = 0.0f; continue; }
        xs = quant__f32(x[i] * inv);
        r = nearbyintf(xs);
        q = (double)r + p->zero_point;
        if (q < p->qmin) { d = (double)p->qmin - p->zero_point; dx[i] = 0.0f; }
        else if (q > p->qmax) { d = (double)p->qmax - p->zero_point; dx[i] = 0.0f; }
        else { d = (double)r - (double)xs; dx[i] = dy[i]; }
        g += (double)dy[i] * d;
    }
    *dscale = (float)(g * gf);
    return QUANT_OK;
}

/* ------------------------------------------------------------ 8. observers */

#define QUANT__NB QUANT_HIST_BINS

QUANT_DEF void quant_histogram_init(quant_histogram *h) { if (h) memset(h, 0, sizeof *h); }

/* a histogram's range is 0 (empty) or finite and > 0: anything else (NaN,
 * negative, Inf) would index bins with NaN or negative values or grow
 * forever, so every user of the histogram refuses it */
QUANT__INTERNAL int quant__hist_range_ok(const quant_histogram *h) { return h->range >= 0.0f && h->range <= FLT_MAX; }

/* top[side]: a bound such that every magnitude bin >= top of that side holds
 * +0.0 exactly (bit pattern 0); the grow loop only touches bins below it,
 * which leaves every bin as the full loop would (+0 + +0 = +0). */
QUANT__INTERNAL void quant__hist_tops(const quant_histogram *h, int top[2]) {
    int side, i;
    for (side = 0; side < 2; side++) {
        top[side] = 0;
        for (i = QUANT__NB - 1; i >= 0; i--) {
            uint64_t b;
            memcpy(&b, &h->bins[side ? QUANT__NB + i : QUANT__NB - 1 - i], 8);
            if (b) { top[side] = i + 1; break; }
        }
    }
}

QUANT__INTERNAL void quant__hist_grow(quant_histogram *h, int top[2]) {
    int side, i;
    for (side = 0; side < 2; side++) {
        /* magnitude bin i of this side lives at pos(i) */
#define QUANT__POS(i) (side ? QUANT__NB + (i) : QUANT__NB - 1 - (i))
        int t = top[side], nt = (t + 1) / 2;
        uint64_t eb;
        for (i = 0; i < nt; i++)
            h->bins[QUANT__POS(i)] = h->bins[QUANT__POS(2 * i)] + h->bins[QUANT__POS(2 * i + 1)];
        for (i = nt; i < t; i++) h->bins[QUANT__POS(i)] = 0.0; /* the rest already is */
        /* values at the old edge (|x| * recip >= BINS) now sit exactly at bin BINS/2 */
        h->bins[QUANT__POS(QUANT__NB / 2 - 1)] -= h->edge[side];
        h->bins[QUANT__POS(QUANT__NB / 2)] += h->edge[side];
        memcpy(&eb, &h->edge[side], 8);
        top[side] = eb && nt < QUANT__NB / 2 + 1 ? QUANT__NB / 2 + 1 : nt;
        h->edge[side] = 0.0;
#undef QUANT__POS
    }
    h->range *= 2.0f;
}

QUANT_DEF quant_status quant_histogram_add(quant_histogram *h, const float *x, size_t n) {
    float am, recip;
    double recip_d;
    int use_d;
    size_t i;
    if (!h || (n && !x)) return QUANT_EINVAL;
    if (!quant__hist_range_ok(h)) return QUANT_EINVAL;
    if (!n) return QUANT_OK;
    am = quant__absmax(x, n);
    if (am > 0.0f) {
        if (h->range == 0.0f) h->range = am;
        if (am > h->range && h->range <= FLT_MAX / 2.0f) {
            int top[2];
            quant__hist_tops(h, top);
            while (am > h->range && h->range <= FLT_MAX / 2.0f) quant__hist_grow(h, top);
        }
    }
    recip = (float)QUANT__NB / h->range;
    use_d = !quant__isfinite(recip);
    recip_d = (double)QUANT__NB / (double)h->range;
    {   /* zeros and edge hits counted in locals (post-ReLU inputs are mostly
           zeros: h->zeros += 1 through memory was a store-to-load chain), then
           added once: whole counts below 2^53, so the same doubles */
        uint64_t zeros = 0, edge[2] = { 0, 0 };
        for (i = 0; i < n; i++) {
            float v = x[i], a;
            int side, idx;
            if (!quant__isfinite(v)) continue;
            if (v == 0.0f) { zeros++; continue; }
            a = fabsf(v);
            side = v > 0.0f;
            if (!use_d) {
                float t = a * recip;
                if (t >= (float)QUANT__NB) { idx = QUANT__NB - 1; edge[side]++; }
                else idx = (int)t;
            } else {
                double t = (double)a * recip_d;
                if (t >= (double)QUANT__NB) { idx = QUANT__NB - 1; edge[side]++; }
                else idx = (int)t;
            }
            h->bins[side ? QUANT__NB + idx : QUANT__NB - 1 - idx] += 1.0;
        }
        h->zeros += (double)zeros; h->edge[0] += (double)edge[0]; h->edge[1] += (double)edge[1];
    }
    return QUANT_OK;
}

/* the level i of KL's merge at th bins: [start, end) with per = th / target */
typedef struct quant__kl_lv { double start, end; int lu, rl; } quant__kl_lv;
QUANT__INTERNAL void quant__kl_level(int i, double per, quant__kl_lv *l) {
    l->start = i * per; l->end = l->start + per;
    l->lu = (int)ceil(l->start); l->rl = (int)floor(l->end);
}
/* 1 if level l takes from bin j (its partial edge bins, or a whole bin) */
QUANT__INTERNAL int quant__kl_touches(const quant__kl_lv *l, int j) {
    return ((double)l->lu > l->start && j == l->lu - 1) || ((double)l->rl < l->end && j == l->rl) ||
           (j >= l->lu && j < l->rl);
}

QUANT_DEF int quant_kl_threshold_bins(const double *dist, int nbins, int target) {
    /* Every sum below runs over the same terms in the same order as the
     * plain definition (ncnn's loops over every level and all th bins),
     * minus terms that are exactly zero, skipped through the list of
     * non-zero bins: a zero added to a sum that started at +0 changes no bit;
     * Q is written and P read only where dist != 0, and a level that takes
     * no non-zero bin has nothing to expand. A sparse histogram (few
     * samples) visits only the levels its bins fall in. */
    double q[QUANT__NB], qd[QUANT__NB + 1], suffix[QUANT__NB + 1];
    double best_kl = DBL_MAX;
    int nz[QUANT__NB], first[QUANT__NB + 2]; /* first[j]: index in nz of the first non-zero bin >= j */
    int act[QUANT__NB], stamp[QUANT__NB];
    quant__kl_lv lv[QUANT__NB];
    int best = target, th, i, j, m, nnz = 0;
    if (!dist || target < 1 || nbins > QUANT__NB || nbins <= target) return -1;
    /* tail masses summed from the top: exactly 0 past the last non-empty bin
     * (a running subtraction leaves rounding residue that the KL's
     * "empty Q bin costs 1" rule would then punish) */
    suffix[nbins] = 0.0;
    for (th = nbins - 1; th >= 0; th--) suffix[th] = suffix[th + 1] + dist[th];
    for (j = 0; j < nbins; j++) if (dist[j] != 0.0) nz[nnz++] = j; /* NaN counts as non-zero, as below */
    for (j = nbins + 1, m = nnz; j >= 0; j--) {
        while (m > 0 && nz[m - 1] >= j) m--;
        first[j] = m;
    }
    for (i = 0; i < target; i++) stamp[i] = -1;
    for (th = target; th < nbins; th++) {
        double per = (double)th / (double)target, kl = 0.0, plast;
        int na = 0, a;
        if ((size_t)nnz * 5 < (size_t)target) {
            /* the levels that take a non-zero bin j: j / per - 1 <= i <= j / per + 1
               exactly (per >= 1); c - 1 .. c + 2 with c = (int)(j / per) also
               covers a quotient rounded just below an integer */
            for (m = 0; m < nnz; m++) {
                int c = (int)(nz[m] / per), lo = c - 1 < 0 ? 0 : c - 1, hi = c + 2 < target ? c + 2 : target - 1;
                for (i = lo; i <= hi; i++) {
                    quant__kl_lv l;
                    if (stamp[i] == th) continue;
                    quant__kl_level(i, per, &l);
                    if (!quant__kl_touches(&l, nz[m])) continue;
                    stamp[i] = th; lv[i] = l;
                    for (a = na++; a > 0 && act[a - 1] > i; a--) act[a] = act[a - 1]; /* kept ascending */
                    act[a] = i;
                }
            }
        } else {
            for (i = 0; i < target; i++) { quant__kl_level(i, per, &lv[i]); act[na++] = i; }
        }
        for (a = 0; a < na; a++) { /* merge the raw bins into target levels (ncnn, as TensorRT) */
            const quant__kl_lv *l = &lv[act[a]];
            double acc = 0.0;
            if ((double)l->lu > l->start) acc += ((double)l->lu - l->start) * dist[l->lu - 1];
            if ((double)l->rl < l->end) acc += (l->end - (double)l->rl) * dist[l->rl];
            for (m = first[l->lu]; m < nnz && nz[m] < l->rl; m++) acc += dist[nz[m]];
            q[act[a]] = acc;
        }
        for (m = 0; m < nnz && nz[m] <= th; m++) qd[nz[m]] = 0.0;
        for (a = 0; a < na; a++) { /* expand uniformly over the non-zero source bins */
            const quant__kl_lv *l = &lv[act[a]];
            double count = 0.0, ls = 0.0, rs = 0.0, ev;
            int lu = l->lu, rl = l->rl;
            if ((double)lu > l->start) { ls = (double)lu - l->start; if (dist[lu - 1] != 0.0) count += ls; }
            if ((double)rl < l->end) { rs = l->end - (double)rl; if (dist[rl] != 0.0) count += rs; }
            for (m = first[lu]; m < nnz && nz[m] < rl; m++) count += 1.0;
            if (count == 0.0) continue;
            ev = q[act[a]] / count;
            if ((double)lu > l->start && dist[lu - 1] != 0.0) qd[lu - 1] += ev * ls;
            if ((double)rl < l->end && dist[rl] != 0.0) qd[rl] += ev * rs;
            for (m = first[lu]; m < nnz && nz[m] < rl; m++) qd[nz[m]] += ev;
        }
        /* P: the first th bins, the tail mass added to the last */
        for (m = 0; m < nnz && nz[m] < th - 1; m++) {
            double pj = dist[nz[m]];
            kl += qd[nz[m]] == 0.0 ? 1.0 : pj * log(pj / qd[nz[m]]);
        }
        plast = dist[th - 1];
        plast += suffix[th];
        if (plast != 0.0) {
            double ql = dist[th - 1] != 0.0 ? qd[th - 1] : 0.0;
            kl += ql == 0.0 ? 1.0 : plast * log(plast / ql);
        }
        if (kl < best_kl) { best_kl = kl; best = th; }
    }
    return best;
}

QUANT__INTERNAL double quant__aciq_mse(double a, int bits, int laplace) {
    double qn = a * a / (3.0 * ldexp(1.0, 2 * bits));
    if (laplace) return 2.0 * exp(-a) + qn;
    return (a * a + 1.0) * erfc(a / sqrt(2.0)) - a * sqrt(2.0 / 3.14159265358979323846) * exp(-a * a / 2.0) + qn;
}

QUANT_DEF double quant_aciq_alpha(int bits, int laplace) {
    double lo = 0.0, hi = 64.0;
    int it;
    if (bits < 1 || bits > 16) return NAN;
    for (it = 0; it < 200; it++) { /* golden section: the MSE is unimodal in alpha */
        double m1 = lo + (hi - lo) * 0.381966011250105, m2 = hi - (hi - lo) * 0.381966011250105;
        if (quant__aciq_mse(m1, bits, laplace) < quant__aciq_mse(m2, bits, laplace)) hi = m2; else lo = m1;
    }
    return 0.5 * (lo + hi);
}

QUANT_DEF quant_status quant_observer_init(quant_observer *o, quant_observer_kind kind) {
    if (!o || (unsigned)kind > QUANT_OBS_ACIQ) return QUANT_EINVAL;
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->min = INFINITY; o->max = -INFINITY;
    o->averaging_constant = 0.01f;
    o->percentile = 99.99f;
    o->aciq_bits = 8;
    o->aciq_laplace = 1;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_observer_update(quant_observer *o, const float *x, size_t n) {
    float bmin = INFINITY, bmax = -INFINITY;
    size_t i, fin = 0;
    if (!o || (unsigned)o->kind > QUANT_OBS_ACIQ || (n && !x)) return QUANT_EINVAL;
    if (o->kind == QUANT_OBS_MOVING_AVERAGE && !(o->averaging_constant >= 0.0f && o->averaging_constant <= 1.0f)) return QUANT_EINVAL;
    if (o->kind >= QUANT_OBS_HISTOGRAM && !quant__hist_range_ok(&o->hist)) return QUANT_EINVAL;
    {   /* the sums in locals, in the same order (GCC kept them in *o: a store and
           reload in every element's dependency chain) */
        double sum = o->sum, sum_abs = o->sum_abs, sum_sq = o->sum_sq;
        for (i = 0; i < n; i++) {
            float v = x[i];
            if (!quant__isfinite(v)) continue;
            fin++;
            if (v < bmin) bmin = v;
            if (v > bmax) bmax = v;
            sum += v; sum_abs += fabs((double)v); sum_sq += (double)v * v;
        }
        o->sum = sum; o->sum_abs = sum_abs; o->sum_sq = sum_sq;
        o->n_nonfinite += n - fin;
    }
    o->n_seen += fin;
    if (!fin) return QUANT_OK;
    if (o->kind == QUANT_OBS_MOVING_AVERAGE && o->min <= o->max) {
        float c = o->averaging_constant;
        float dmin = quant__f32(bmin - o->min), dmax = quant__f32(bmax - o->max);
        /* PyTorch's float chain; where a difference overflows float (batch and
         * running range of opposite signs near FLT_MAX) the same in double,
         * so the running range stays finite */
        if (quant__isfinite(dmin)) o->min = quant__f32(o->min + quant__f32(c * dmin));
        else o->min = (float)((double)o->min + (double)c * ((double)bmin - (double)o->min));
        if (quant__isfinite(dmax)) o->max = quant__f32(o->max + quant__f32(c * dmax));
        else o->max = (float)((double)o->max + (double)c * ((double)bmax - (double)o->max));
    } else if (o->kind == QUANT_OBS_MOVING_AVERAGE) {
        o->min = bmin; o->max = bmax;
    } else {
        if (bmin < o->min) o->min = bmin;
        if (bmax > o->max) o->max = bmax;
    }
    if (o->kind >= QUANT_OBS_HISTOGRAM) quant_histogram_add(&o->hist, x, n);
    return QUANT_OK;
}

/* fake quant error of the histogram for a candidate range; stops once the
 * sum reaches `bound` or exceeds `above`: every term is >= 0 and a rounded
 * sum of nonnegative terms never decreases, so a candidate stopped there
 * could not have been chosen */
QUANT__INTERNAL double quant__hist_err(const quant_histogram *h, const int *nz, int nnz, float lo, float hi,
        int32_t qmin, int32_t qmax, quant_scheme scheme, double bound, double above) {
    quant_params p;
    double w = (double)h->range / QUANT__NB, err = 0.0, s, inv;
    int k;
    if (quant_params_from_range(lo, hi, qmin, qmax, scheme, &p) != QUANT_OK) return DBL_MAX;
    s = p.scale; inv = 1.0 / s;
    for (k = 0; k < nnz; k++) {
        int b = nz[k];
        double c = b >= QUANT__NB ? (b - QUANT__NB + 0.5) * w : -((QUANT__NB - 1 - b) + 0.5) * w;
        double q = nearbyint(c * inv) + p.zero_point, d;
        if (q < qmin) q = qmin;
        if (q > qmax) q = qmax;
        d = (q - p.zero_point) * s - c;
        err += h->bins[b] * d * d;
        if (err >= bound || err > above) break;
    }
    return err;
}

/* The MSE observer's line search: the candidate i = from..to of least error,
 * the first of equal ones (`none` if every error is DBL_MAX: params
 * refused). Candidate i is the range [-i w, fix w] (dir 0), [-fix w, i w]
 * (dir 1) or [-i w, i w] (dir 2). The scan in order stops each candidate
 * once its sum reaches the best so far, and also once it exceeds the error
 * of `guess` (a likely minimum, computed first): the first least error is
 * at most that, so it is never stopped and the choice is the same. */
QUANT__INTERNAL int quant__hist_search(const quant_histogram *h, const int *nz, int nnz, int dir, int fix,
        int from, int to, int guess, int none, int32_t qmin, int32_t qmax, quant_scheme scheme) {
    const double w = (double)h->range / QUANT__NB;
    double be = DBL_MAX, ge = DBL_MAX;
    int best = none, i;
    for (i = from - 1; i <= to; i++) { /* from - 1: the guess */
        const int c = i < from ? guess : i;
        const double e = quant__hist_err(h, nz, nnz, (float)(-(dir == 1 ? fix : c) * w),
                                         (float)((dir == 0 ? fix : c) * w), qmin, qmax, scheme, be, ge);
        if (i < from) ge = e;
        else if (e < be) { be = e; best = i; }
    }
    return best;
}

QUANT_DEF quant_status quant_observer_range(const quant_observer *o, quant_scheme scheme,
        int32_t qmin, int32_t qmax, float *lo, float *hi) {
    float l, h, ext, lz, hz;
    const quant_histogram *hg;
    double w;
    if (!o || !lo || !hi || qmin >= qmax) return QUANT_EINVAL;
    if ((unsigned)o->kind > QUANT_OBS_ACIQ || (scheme != QUANT_AFFINE && scheme != QUANT_SYMMETRIC)) return QUANT_EINVAL;
    if (o->kind >= QUANT_OBS_HISTOGRAM && !quant__hist_range_ok(&o->hist)) return QUANT_EINVAL;
    if (!(o->min <= o->max)) return QUANT_EEMPTY;
    l = o->min; h = o->max;
    /* affine candidate ranges are clipped to the data extended to include
     * zero: [min(min, 0), max(max, 0)], which can never invert */
    lz = l < 0.0f ? l : 0.0f; hz = h > 0.0f ? h : 0.0f;
    hg = &o->hist;
    w = (double)hg->range / QUANT__NB;
    ext = -l > h ? -l : h;
    switch (o->kind) {
    case QUANT_OBS_MINMAX: case QUANT_OBS_MOVING_AVERAGE: case QUANT_OBS_HISTOGRAM: break;
    case QUANT_OBS_KL: {
        double d[QUANT__NB], tot = 0.0;
        int i, best;
        float t;
        if (hg->range == 0.0f) { l = h = 0.0f; break; }
        for (i = 0; i < QUANT__NB; i++) { d[i] = hg->bins[QUANT__NB + i] + hg->bins[QUANT__NB - 1 - i]; tot += d[i]; }
        for (i = 0; i < QUANT__NB; i++) d[i] /= tot;
        best = quant_kl_threshold_bins(d, QUANT__NB, 128);
        t = (float)((best + 0.5) * w);
        if (scheme == QUANT_SYMMETRIC) { l = -t; h = t; }
        else { l = -t > lz ? -t : lz; h = t < hz ? t : hz; }
    } break;
    case QUANT_OBS_PERCENTILE: {
        double tot = hg->zeros, pc = (double)o->percentile / 100.0, cum;
        int i;
        if (!(o->percentile > 0.0f && o->percentile <= 100.0f)) return QUANT_EINVAL;
        for (i = 0; i < 2 * QUANT__NB; i++) tot += hg->bins[i];
        if (scheme == QUANT_SYMMETRIC) {
            float t = 0.0f;
            cum = hg->zeros;
            for (i = 0; i < QUANT__NB; i++) {
                cum += hg->bins[QUANT__NB + i] + hg->bins[QUANT__NB - 1 - i];
                if (cum >= pc * tot) { t = (float)((i + 1) * w); break; }
            }
            if (t > ext) t = ext;
            l = -t; h = t;
        } else {
            /* walk the signed bins from the bottom; the zero mass sits between the sides */
            double lo_target = (1.0 - pc) * tot, hi_target = pc * tot;
            int have_lo = 0, have_hi = 0;
            float pl = 0.0f, ph = 0.0f;
            cum = 0.0;
            for (i = 0; i <= 2 * QUANT__NB && !(have_lo && have_hi); i++) {
                float lower, upper;
                if (i < QUANT__NB) { /* negative bin of magnitude index m = BINS-1-i */
                    int m = QUANT__NB - 1 - i;
                    cum += hg->bins[i]; lower = (float)(-(m + 1) * w); upper = (float)(-m * w);
                } else if (i == QUANT__NB) {
                    cum += hg->zeros; lower = upper = 0.0f;
                } else {
                    int m = i - QUANT__NB - 1;
                    cum += hg->bins[QUANT__NB + m]; lower = (float)(m * w); upper = (float)((m + 1) * w);
                }
                if (!have_lo && cum >= lo_target && cum > 0.0) { pl = lower; have_lo = 1; }
                if (!have_hi && cum >= hi_target && cum > 0.0) { ph = upper; have_hi = 1; }
            }
            l = pl > lz ? pl : lz; h = ph < hz ? ph : hz;
        }
    } break;
    case QUANT_OBS_MSE: {
        int nz[2 * QUANT__NB], nnz = 0, i, j;
        for (i = 0; i < 2 * QUANT__NB; i++) if (hg->bins[i] != 0.0) nz[nnz++] = i;
        if (!nnz) { l = h = 0.0f; break; }
        if (scheme == QUANT_SYMMETRIC) {
            /* first guess: the smallest range holding all the data */
            int bk, g = 1;
            for (i = 0; i < QUANT__NB; i++)
                if (hg->bins[QUANT__NB + i] != 0.0 || hg->bins[QUANT__NB - 1 - i] != 0.0) g = i + 1;
            bk = quant__hist_search(hg, nz, nnz, 2, 0, 1, QUANT__NB, g, 1, qmin, qmax, scheme);
            { float t = (float)(bk * w); if (t > ext) t = ext; l = -t; h = t; }
        } else {
            int bi = 0, bj = 0, round_;
            /* smallest edges holding all the data */
            for (i = 0; i < QUANT__NB; i++) if (hg->bins[QUANT__NB - 1 - i] != 0.0) bi = i + 1;
            for (j = 0; j < QUANT__NB; j++) if (hg->bins[QUANT__NB + j] != 0.0) bj = j + 1;
            for (round_ = 0; round_ < 8; round_++) {
                /* the best hi for the lo held, then the best lo for that hi,
                 * each search starting from the edge it had */
                const int nj = quant__hist_search(hg, nz, nnz, 1, bi, 0, QUANT__NB, bj, bj, qmin, qmax, scheme);
                const int ni = quant__hist_search(hg, nz, nnz, 0, nj, 0, QUANT__NB, bi, bi, qmin, qmax, scheme);
                if (ni == bi && nj == bj) break;
                bi = ni; bj = nj;
            }
            { float pl = (float)(-bi * w), ph = (float)(bj * w);
              l = pl > lz ? pl : lz; h = ph < hz ? ph : hz; }
        }
    } break;
    case QUANT_OBS_ACIQ: {
        double n = (double)o->n_seen, mu = o->sum / n, var = o->sum_sq / n - mu * mu, b, a;
        if (!(o->aciq_bits >= 1 && o->aciq_bits <= 16)) return QUANT_EINVAL;
        if (var < 0.0) var = 0.0;
        b = o->aciq_laplace ? sqrt(var / 2.0) : sqrt(var);
        a = quant_aciq_alpha(o->aciq_bits, o->aciq_laplace) * b;
        if (scheme == QUANT_SYMMETRIC) {
            float t = (float)(fabs(mu) + a);
            if (t > ext) t = ext;
            l = -t; h = t;
        } else {
            float pl = (float)(mu - a), ph = (float)(mu + a);
            l = pl > lz ? pl : lz; h = ph < hz ? ph : hz;
        }
    } break;
    }
    *lo = l; *hi = h;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_observer_params(const quant_observer *o, int32_t qmin,
        int32_t qmax, quant_scheme scheme, quant_params *out) {
    float lo, hi;
    quant_status st;
    if (!o || !out) return QUANT_EINVAL;
    if (!(o->min <= o->max)) { /* nothing observed: PyTorch's (1, 0) */
        if (qmin >= qmax || (scheme != QUANT_AFFINE && scheme != QUANT_SYMMETRIC)) return QUANT_EINVAL;
        return quant_params_from_range(INFINITY, -INFINITY, qmin, qmax, scheme, out);
    }
    st = quant_observer_range(o, scheme, qmin, qmax, &lo, &hi);
    if (st != QUANT_OK) return st;
    return quant_params_from_range(lo, hi, qmin, qmax, scheme, out);
}

QUANT_DEF quant_status quant_observer_pc_init(quant_observer_pc *o, float *min_storage,
        float *max_storage, size_t channels, int moving) {
    size_t c;
    if (!o || (channels && (!min_storage || !max_storage))) return QUANT_EINVAL;
    o->min = min_storage; o->max = max_storage; o->channels = channels;
    o->moving = moving ? 1 : 0; o->averaging_constant = 0.01f;
    o->initialised = 0; o->n_nonfinite = 0;
    for (c = 0; c < channels; c++) { min_storage[c] = INFINITY; max_storage[c] = -INFINITY; }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_observer_pc_update(quant_observer_pc *o, const float *x,
        const size_t *shape, int ndim, int axis) {
    size_t outer, C, inner, oi, c, i;
    quant_status st;
    if (!o) return QUANT_EINVAL;
    st = quant__axis_split(shape, ndim, axis, &outer, &C, &inner);
    if (st != QUANT_OK) return st;
    if (C != o->channels) return QUANT_EINVAL;
    if ((outer * C * inner) != 0 && !x) return QUANT_EINVAL;
    if (o->moving && !(o->averaging_constant >= 0.0f && o->averaging_constant <= 1.0f)) return QUANT_EINVAL;
    if (!outer || !inner) return QUANT_OK;
    for (c = 0; c < C; c++) {
        float bmin = INFINITY, bmax = -INFINITY;
        for (oi = 0; oi < outer; oi++) {
            const float *p = x + (oi * C + c) * inner;
            for (i = 0; i < inner; i++) {
                float v = p[i];
                if (!quant__isfinite(v)) { o->n_nonfinite++; continue; }
                if (v < bmin) bmin = v;
                if (v > bmax) bmax = v;
            }
        }
        if (!(bmin <= bmax)) continue;
        if (o->moving && o->min[c] <= o->max[c]) {
            float k = o->averaging_constant;
            o->min[c] = quant__f32(o->min[c] + quant__f32(k * quant__f32(bmin - o->min[c])));
            o->max[c] = quant__f32(o->max[c] + quant__f32(k * quant__f32(bmax - o->max[c])));
        } else if (o->moving) {
            o->min[c] = bmin; o->max[c] = bmax;
        } else {
            if (bmin < o->min[c]) o->min[c] = bmin;
            if (bmax > o->max[c]) o->max[c] = bmax;
        }
    }
    o->initialised = 1;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_observer_pc_params(const quant_observer_pc *o, int32_t qmin,
        int32_t qmax, quant_scheme scheme, float *scales, int32_t *zps) {
    if (!o) return QUANT_EINVAL;
    return quant_params_per_channel(o->min, o->max, o->channels, qmin, qmax, scheme, scales, zps);
}

/* ------------------------------------------------------ 9. storage formats */

QUANT_DEF quant_status quant_pack(const int8_t *v, size_t n, quant_dtype dt, uint8_t *out) {
    int32_t lo = 0, hi = -1, buf[QUANT__CHUNK];
    size_t i, j;
    if (dt != QUANT_I4 && dt != QUANT_U4 && dt != QUANT_I2 && dt != QUANT_U2) return QUANT_EINVAL;
    if (n && (!v || !out)) return QUANT_EINVAL;
    quant_dtype_range(dt, 0, &lo, &hi);
    for (i = 0; i < n; i++) if (v[i] < lo || v[i] > hi) return QUANT_ERANGE;
    for (i = 0; i < n; i += QUANT__CHUNK) {
        size_t m = n - i < QUANT__CHUNK ? n - i : QUANT__CHUNK;
        for (j = 0; j < m; j++) buf[j] = v[i + j];
        quant__store_n(out, dt, i, buf, m);
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_unpack(const uint8_t *in, size_t n, quant_dtype dt, int8_t *v) {
    size_t i;
    if (dt != QUANT_I4 && dt != QUANT_U4 && dt != QUANT_I2 && dt != QUANT_U2) return QUANT_EINVAL;
    if (n && (!in || !v)) return QUANT_EINVAL;
    for (i = 0; i < n; i++) v[i] = (int8_t)quant__load1(in, dt, i);
    return QUANT_OK;
}

/* the fp16 block scale for absmax / levels, and the float it stands for */
QUANT__INTERNAL quant_status quant__block_scale(const float *x, float levels, uint16_t *dh, float *inv) {
    float am = quant__absmax(x, QUANT_BLOCK), d;
    uint16_t h = quant_fp32_to_fp16(am / levels);
    d = quant_fp16_to_fp32(h);
    if (!quant__isfinite(d)) return QUANT_ERANGE;
    *dh = h;
    *inv = d > 0.0f ? quant__f32(1.0f / d) : 0.0f;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_block_q8_quantize(const float *x, size_t n, quant_block_q8 *out) {
    size_t b, i, nb = n / QUANT_BLOCK;
    uint16_t h; float inv;
    if (n % QUANT_BLOCK || (n && (!x || !out))) return QUANT_EINVAL;
    for (b = 0; b < nb; b++) if (quant__block_scale(x + b * QUANT_BLOCK, 127.0f, &h, &inv)) return QUANT_ERANGE;
    for (b = 0; b < nb; b++) {
        const float *xb = x + b * QUANT_BLOCK;
        quant__block_scale(xb, 127.0f, &h, &inv);
        out[b].d = h;
        for (i = 0; i < QUANT_BLOCK; i++) out[b].qs[i] = (int8_t)quant_quantize1(xb[i], inv, 0, -127, 127);
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_block_q8_dequantize(const quant_block_q8 *blk, size_t n, float *out) {
    size_t b, i;
    if (n % QUANT_BLOCK || (n && (!blk || !out))) return QUANT_EINVAL;
    for (b = 0; b < n / QUANT_BLOCK; b++) {
        float d = quant_fp16_to_fp32(blk[b].d);
        for (i = 0; i < QUANT_BLOCK; i++) out[b * QUANT_BLOCK + i] = (float)blk[b].qs[i] * d;
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_block_q4_quantize(const float *x, size_t n, quant_block_q4 *out) {
    size_t b, i, nb = n / QUANT_BLOCK;
    uint16_t h; float inv;
    if (n % QUANT_BLOCK || (n && (!x || !out))) return QUANT_EINVAL;
    for (b = 0; b < nb; b++) if (quant__block_scale(x + b * QUANT_BLOCK, 7.0f, &h, &inv)) return QUANT_ERANGE;
    for (b = 0; b < nb; b++) {
        const float *xb = x + b * QUANT_BLOCK;
        quant__block_scale(xb, 7.0f, &h, &inv);
        out[b].d = h;
        for (i = 0; i < QUANT_BLOCK; i += 2) {
            int32_t a = quant_quantize1(xb[i], inv, 0, -8, 7) + 8;
            int32_t c = quant_quantize1(xb[i + 1], inv, 0, -8, 7) + 8;
            out[b].qs[i / 2] = (uint8_t)(a | (c << 4));
        }
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_block_q4_dequantize(const quant_block_q4 *blk, size_t n, float *out) {
    size_t b, i;
    if (n % QUANT_BLOCK || (n && (!blk || !out))) return QUANT_EINVAL;
    for (b = 0; b < n / QUANT_BLOCK; b++) {
        float d = quant_fp16_to_fp32(blk[b].d);
        for (i = 0; i < QUANT_BLOCK; i += 2) {
            out[b * QUANT_BLOCK + i] = (float)((blk[b].qs[i / 2] & 0xF) - 8) * d;
            out[b * QUANT_BLOCK + i + 1] = (float)((blk[b].qs[i / 2] >> 4) - 8) * d;
        }
    }
    return QUANT_OK;
}

QUANT_DEF size_t quant_bits_words(size_t K) { return K / 64 + (K % 64 != 0); }
/* rows of K elements of esize bytes and their bitplane rows both fit */
QUANT__INTERNAL int quant__bits_rows_ok(size_t rows, size_t K, size_t esize) {
    return quant__span_ok(rows, K, esize) && quant__span_ok(rows, quant_bits_words(K), sizeof(uint64_t));
}

QUANT_DEF quant_status quant_pack_binary(const float *x, size_t rows, size_t K, uint64_t *out) {
    size_t r, k, w = quant_bits_words(K);
    if (!quant__bits_rows_ok(rows, K, sizeof(float))) return QUANT_EOVERFLOW;
    if ((rows * K) != 0 && (!x || !out)) return QUANT_EINVAL;
    for (r = 0; r < rows; r++) {
        uint64_t *o = out + r * w;
        for (k = 0; k < w; k++) o[k] = 0;
        for (k = 0; k < K; k++) if (x[r * K + k] < 0.0f) o[k / 64] |= (uint64_t)1 << (k % 64);
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_unpack_binary(const uint64_t *in, size_t rows, size_t K, float *x) {
    size_t r, k, w = quant_bits_words(K);
    if (!quant__bits_rows_ok(rows, K, sizeof(float))) return QUANT_EOVERFLOW;
    if ((rows * K) != 0 && (!x || !in)) return QUANT_EINVAL;
    for (r = 0; r < rows; r++)
        for (k = 0; k < K; k++) x[r * K + k] = (in[r * w + k / 64] >> (k % 64)) & 1 ? -1.0f : 1.0f;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_pack_ternary(const float *x, size_t rows, size_t K, float t,
        uint64_t *sign, uint64_t *nonzero) {
    size_t r, k, w = quant_bits_words(K);
    if (!(t >= 0.0f) || !quant__isfinite(t)) return QUANT_EINVAL;
    if (!quant__bits_rows_ok(rows, K, sizeof(float))) return QUANT_EOVERFLOW;
    if ((rows * K) != 0 && (!x || !sign || !nonzero)) return QUANT_EINVAL;
    for (r = 0; r < rows; r++) {
        uint64_t *s = sign + r * w, *z = nonzero + r * w;
        for (k = 0; k < w; k++) s[k] = z[k] = 0;
        for (k = 0; k < K; k++) {
            float v = x[r * K + k];
            uint64_t bit = (uint64_t)1 << (k % 64);
            if (v > t) z[k / 64] |= bit;
            else if (v < -t) { z[k / 64] |= bit; s[k / 64] |= bit; }
        }
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_unpack_ternary(const uint64_t *sign, const uint64_t *nonzero,
        size_t rows, size_t K, int8_t *v) {
    size_t r, k, w = quant_bits_words(K);
    if (!quant__bits_rows_ok(rows, K, 1)) return QUANT_EOVERFLOW;
    if ((rows * K) != 0 && (!v || !sign || !nonzero)) return QUANT_EINVAL;
    for (r = 0; r < rows; r++)
        for (k = 0; k < K; k++) {
            uint64_t bit = (uint64_t)1 << (k % 64);
            size_t i = r * w + k / 64;
            v[r * K + k] = (int8_t)(!(nonzero[i] & bit) ? 0 : (sign[i] & bit) ? -1 : 1);
        }
    return QUANT_OK;
}


QUANT_DEF quant_status quant_binarize(const float *w, size_t rows, size_t K, float *alpha, uint64_t *bits) {
    size_t r, k;
    quant_status st = quant_pack_binary(w, rows, K, bits);
    if (st != QUANT_OK) return st;
    if (alpha)
        for (r = 0; r < rows; r++) {
            double s = 0.0;
            for (k = 0; k < K; k++) { float a = fabsf(w[r * K + k]); if (a == a) s += a; }
            alpha[r] = K ? (float)(s / (double)K) : 0.0f;
        }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_ternarize(const float *w, size_t rows, size_t K, float *alpha, float *delta,
        uint64_t *sign, uint64_t *nonzero) {
    size_t r, k, wd = quant_bits_words(K);
    if (!quant__bits_rows_ok(rows, K, sizeof(float))) return QUANT_EOVERFLOW;
    if ((rows * K) != 0 && (!w || !sign || !nonzero)) return QUANT_EINVAL;
    for (r = 0; r < rows; r++) { /* validate every row before writing */
        double s = 0.0;
        for (k = 0; k < K; k++) { float a = fabsf(w[r * K + k]); if (a == a) s += a; }
        if (K && !quant__isfinite((float)(0.7 * s / (double)K))) return QUANT_ERANGE;
    }
    for (r = 0; r < rows; r++) {
        const float *wr = w + r * K;
        double s = 0.0, sa = 0.0;
        size_t na = 0;
        float d;
        for (k = 0; k < K; k++) { float a = fabsf(wr[k]); if (a == a) s += a; }
        d = K ? (float)(0.7 * s / (double)K) : 0.0f;
        for (k = 0; k < K; k++) { float a = fabsf(wr[k]); if (a == a && a > d) { sa += a; na++; } }
        quant_pack_ternary(wr, 1, K, d, sign + r * wd, nonzero + r * wd);
        if (alpha) alpha[r] = na ? (float)(sa / (double)na) : 0.0f;
        if (delta) delta[r] = d;
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_ste_backward(const float *x, const float *dy, size_t n, float clip, float *dx) {
    size_t i;
    if (!(clip >= 0.0f) || (n && (!x || !dy || !dx))) return QUANT_EINVAL;
    for (i = 0; i < n; i++) dx[i] = fabsf(x[i]) <= clip ? dy[i] : 0.0f;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_pack_binary_q(const void *q, int a_signed, size_t rows, size_t K, int32_t zp,
        uint64_t *bits) {
    size_t r, k, wd = quant_bits_words(K);
    if (!quant__bits_rows_ok(rows, K, 1)) return QUANT_EOVERFLOW;
    if ((rows * K) != 0 && (!q || !bits)) return QUANT_EINVAL;
    if (a_signed ? (zp < -128 || zp > 127) : (zp < 0 || zp > 255)) return QUANT_EINVAL;
    for (r = 0; r < rows; r++) {
        uint64_t *o = bits + r * wd;
        for (k = 0; k < wd; k++) o[k] = 0;
        for (k = 0; k < K; k++) {
            int32_t v = a_signed ? ((const int8_t *)q)[r * K + k] : ((const uint8_t *)q)[r * K + k];
            if (v < zp) o[k / 64] |= (uint64_t)1 << (k % 64);
        }
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_pack_ternary_q(const void *q, int a_signed, size_t rows, size_t K, int32_t zp,
        int32_t thr, uint64_t *sign, uint64_t *nonzero) {
    size_t r, k, wd = quant_bits_words(K);
    if (!quant__bits_rows_ok(rows, K, 1)) return QUANT_EOVERFLOW;
    if ((rows * K) != 0 && (!q || !sign || !nonzero)) return QUANT_EINVAL;
    if (thr < 0 || (a_signed ? (zp < -128 || zp > 127) : (zp < 0 || zp > 255))) return QUANT_EINVAL;
    for (r = 0; r < rows; r++) {
        uint64_t *s = sign + r * wd, *z = nonzero + r * wd;
        for (k = 0; k < wd; k++) s[k] = z[k] = 0;
        for (k = 0; k < K; k++) {
            int32_t v = (a_signed ? ((const int8_t *)q)[r * K + k] : ((const uint8_t *)q)[r * K + k]) - zp;
            uint64_t bit = (uint64_t)1 << (k % 64);
            if (v > thr) z[k / 64] |= bit;
            else if (v < -thr) { z[k / 64] |= bit; s[k / 64] |= bit; }
        }
    }
    return QUANT_OK;
}

/* --------------------------------------------------- 10. reference kernels */

QUANT_DEF void quant_ref_gemm_i32(size_t M, size_t N, size_t K, const void *A, int a_signed,
        size_t lda, int32_t a_zp, const int8_t *B, size_t ldb, int32_t b_zp,
        int32_t *C, size_t ldc) {
    size_t m, n, k;
    for (m = 0; m < M; m++)
        for (n = 0; n < N; n++) {
            int32_t acc = 0;
            for (k = 0; k < K; k++) {
                int32_t a = a_signed ? ((const int8_t *)A)[m * lda + k] : ((const uint8_t *)A)[m * lda + k];
                acc += (a - a_zp) * ((int32_t)B[k * ldb + n] - b_zp);
            }
            C[m * ldc + n] = acc;
        }
}

QUANT_DEF quant_status quant_epilogue_check(const quant_epilogue *ep, size_t N) {
    size_t n, nrq;
    if (!ep) return QUANT_EINVAL;
    switch (ep->out) {
    case QUANT_OUT_I32: return QUANT_OK;
    case QUANT_OUT_I8: case QUANT_OUT_U8: {
        int32_t lo = ep->out == QUANT_OUT_I8 ? -128 : 0, hi = ep->out == QUANT_OUT_I8 ? 127 : 255;
        if ((unsigned)ep->mode > QUANT_RQ_FP32 || !ep->rq) return QUANT_EINVAL;
        if (ep->out_min > ep->out_max || ep->out_min < lo || ep->out_max > hi) return QUANT_EINVAL;
        if (ep->out_zp < lo || ep->out_zp > hi) return QUANT_EINVAL;
        nrq = ep->per_channel ? N : 1;
        for (n = 0; n < nrq; n++) {
            if (ep->rq[n].multiplier < 0 || ep->rq[n].shift < -31 || ep->rq[n].shift > 30) return QUANT_EINVAL;
            if (ep->mode == QUANT_RQ_FP32 && !(ep->rq[n].scale >= 0.0f && ep->rq[n].scale <= FLT_MAX)) return QUANT_ESCALE;
        }
        return QUANT_OK;
    }
    case QUANT_OUT_F32:
        if (N && !ep->w_scale) return QUANT_EINVAL;
        for (n = 0; n < N; n++) if (!quant__scale_pos(ep->w_scale[n])) return QUANT_ESCALE;
        return QUANT_OK;
    }
    return QUANT_EINVAL;
}

/* bytes of one output element of an (already checked) epilogue */
QUANT__INTERNAL size_t quant__epilogue_esize(const quant_epilogue *ep) {
    return ep->out == QUANT_OUT_I8 || ep->out == QUANT_OUT_U8 ? 1 : 4;
}

/* The F32 epilogue's per-row activation scales of rows [m0, m1): finite and
 * > 0 (QUANT_ESCALE otherwise; NULL means 1). One test a row, not an
 * element: every GEMM / conv entry point calls it for the rows it computes. */
QUANT__INTERNAL quant_status quant__epilogue_rows_check(const quant_epilogue *ep, size_t m0, size_t m1) {
    size_t m;
    if (ep->out != QUANT_OUT_F32 || !ep->a_scale) return QUANT_OK;
    for (m = m0; m < m1; m++) if (!quant__scale_pos(ep->a_scale[m])) return QUANT_ESCALE;
    return QUANT_OK;
}

QUANT_DEF void quant_epilogue_apply1(const quant_epilogue *ep, size_t m, size_t n, int32_t acc,
        void *C, size_t ldc) {
    switch (ep->out) {
    case QUANT_OUT_I32:
        if (ep->bias_i32) acc = (int32_t)((uint32_t)acc + (uint32_t)ep->bias_i32[n]);
        memcpy((unsigned char *)C + 4 * (m * ldc + n), &acc, 4); /* any alignment */
        break;
    case QUANT_OUT_I8: case QUANT_OUT_U8: {
        int32_t v;
        if (ep->bias_i32) acc = (int32_t)((uint32_t)acc + (uint32_t)ep->bias_i32[n]);
        v = quant_requantize1(acc, &ep->rq[ep->per_channel ? n : 0], ep->mode, ep->out_zp, ep->out_min, ep->out_max);
        if (ep->out == QUANT_OUT_I8) ((int8_t *)C)[m * ldc + n] = (int8_t)v;
        else ((uint8_t *)C)[m * ldc + n] = (uint8_t)v;
    } break;
    case QUANT_OUT_F32: {
        float s = quant__f32((ep->a_scale ? ep->a_scale[m] : 1.0f) * ep->w_scale[n]);
        float y = fmaf((float)acc, s, ep->bias_f32 ? ep->bias_f32[n] : 0.0f);
        memcpy((unsigned char *)C + 4 * (m * ldc + n), &y, 4);
    } break;
    }
}

QUANT_DEF quant_status quant_ref_gemm(size_t M, size_t N, size_t K, const void *A, int a_signed,
        size_t lda, int32_t a_zp, const int8_t *B, size_t ldb, int32_t b_zp,
        const quant_epilogue *ep, void *C, size_t ldc) {
    size_t m, n0, n, k;
    quant_status st = quant_epilogue_check(ep, N);
    if (st != QUANT_OK) return st;
    if (K > QUANT_GEMM_MAX_K) return QUANT_ERANGE;
    if (a_signed ? (a_zp < -128 || a_zp > 127) : (a_zp < 0 || a_zp > 255)) return QUANT_EINVAL;
    if (b_zp < -128 || b_zp > 127) return QUANT_EINVAL;
    if (!quant__span_ok(M, lda, 1) || !quant__span_ok(K, ldb, 1) ||
        !quant__span_ok(M, ldc, quant__epilogue_esize(ep))) return QUANT_EOVERFLOW;
    if (!M || !N) return QUANT_OK;
    if ((K && (!A || !B)) || !C || lda < K || ldb < N || ldc < N) return QUANT_EINVAL;
    if ((st = quant__epilogue_rows_check(ep, 0, M)) != QUANT_OK) return st;
    /* C[m][n] = sum over k of (A[m][k] - a_zp)(B[k][n] - b_zp), for up to 64
     * columns at a time so that B is read along its rows */
    for (m = 0; m < M; m++)
        for (n0 = 0; n0 < N; n0 += 64) {
            const size_t nb = N - n0 < 64 ? N - n0 : 64;
            int32_t acc[64];
            for (n = 0; n < nb; n++) acc[n] = 0;
            for (k = 0; k < K; k++) {
                const int32_t a = (a_signed ? (int32_t)((const int8_t *)A)[m * lda + k]
                                            : (int32_t)((const uint8_t *)A)[m * lda + k]) - a_zp;
                const int8_t *b = B + k * ldb + n0;
                for (n = 0; n < nb; n++) acc[n] += a * ((int32_t)b[n] - b_zp);
            }
            for (n = 0; n < nb; n++) quant_epilogue_apply1(ep, m, n0 + n, acc[n], C, ldc);
        }
    return QUANT_OK;
}


QUANT_DEF quant_status quant_conv_out_size(const quant_conv_shape *s, size_t *out_h, size_t *out_w) {
    size_t eh, ew, ph, pw, oh, ow, t;
    if (!s || !out_h || !out_w) return QUANT_EINVAL;
    if (!s->batch || !s->in_h || !s->in_w || !s->in_c || !s->out_c || !s->k_h || !s->k_w) return QUANT_EINVAL;
    if (!s->stride_h || !s->stride_w || !s->dil_h || !s->dil_w) return QUANT_EINVAL;
    if (s->k_h > 4096 || s->k_w > 4096 || s->dil_h > 4096 || s->dil_w > 4096) return QUANT_ERANGE;
    if (s->in_h > (SIZE_MAX >> 4) || s->in_w > (SIZE_MAX >> 4) || s->pad_top > (SIZE_MAX >> 4) ||
        s->pad_bottom > (SIZE_MAX >> 4) || s->pad_left > (SIZE_MAX >> 4) || s->pad_right > (SIZE_MAX >> 4))
        return QUANT_EOVERFLOW;
    eh = s->dil_h * (s->k_h - 1) + 1; ew = s->dil_w * (s->k_w - 1) + 1;
    ph = s->in_h + s->pad_top + s->pad_bottom; pw = s->in_w + s->pad_left + s->pad_right;
    if (eh > ph || ew > pw) return QUANT_EINVAL;
    oh = (ph - eh) / s->stride_h + 1; ow = (pw - ew) / s->stride_w + 1;
    /* every buffer size the kernels compute must fit */
    t = s->batch;
    if (oh > SIZE_MAX / t) return QUANT_EOVERFLOW;
    t *= oh;
    if (ow > SIZE_MAX / t) return QUANT_EOVERFLOW;
    t *= ow;
    if (s->out_c > SIZE_MAX / 4 / t) return QUANT_EOVERFLOW;
    t = s->batch;
    if (s->in_h > SIZE_MAX / t) return QUANT_EOVERFLOW;
    t *= s->in_h;
    if (s->in_w > SIZE_MAX / t) return QUANT_EOVERFLOW;
    t *= s->in_w;
    if (s->in_c > SIZE_MAX / t) return QUANT_EOVERFLOW;
    t = s->k_h * s->k_w;
    if (s->in_c > SIZE_MAX / t || s->out_c > SIZE_MAX / (t * s->in_c)) return QUANT_EOVERFLOW;
    *out_h = oh; *out_w = ow;
    return QUANT_OK;
}

/* the input value at (n, ih, iw, c) with padded coordinates, minus a_zp */
QUANT__INTERNAL int32_t quant__conv_in(const quant_conv_shape *s, const void *in, int a_signed, int32_t a_zp,
        size_t n, size_t ph, size_t pw, size_t c) {
    size_t ih, iw, idx;
    if (ph < s->pad_top || pw < s->pad_left) return 0;
    ih = ph - s->pad_top; iw = pw - s->pad_left;
    if (ih >= s->in_h || iw >= s->in_w) return 0;
    idx = ((n * s->in_h + ih) * s->in_w + iw) * s->in_c + c;
    return (a_signed ? (int32_t)((const int8_t *)in)[idx] : (int32_t)((const uint8_t *)in)[idx]) - a_zp;
}

QUANT__INTERNAL quant_status quant__conv_check(const quant_conv_shape *s, const void *in, int a_signed, int32_t a_zp,
        const int8_t *w, int32_t w_zp, const quant_epilogue *ep, void *out, size_t *oh, size_t *ow) {
    quant_status st = quant_conv_out_size(s, oh, ow);
    if (st != QUANT_OK) return st;
    if ((st = quant_epilogue_check(ep, s->out_c)) != QUANT_OK) return st;
    if (a_signed ? (a_zp < -128 || a_zp > 127) : (a_zp < 0 || a_zp > 255)) return QUANT_EINVAL;
    if (w_zp < -128 || w_zp > 127) return QUANT_EINVAL;
    if (!in || !w || !out) return QUANT_EINVAL;
    if (s->k_h * s->k_w * s->in_c > QUANT_GEMM_MAX_K) return QUANT_ERANGE;
    return quant__epilogue_rows_check(ep, 0, s->batch * *oh * *ow); /* rows are output pixels */
}

QUANT_DEF quant_status quant_ref_conv2d(const quant_conv_shape *s, const void *in, int a_signed, int32_t a_zp,
        const int8_t *w, int32_t w_zp, const quant_epilogue *ep, void *out) {
    size_t oh, ow, n, y, x, oc0, o, kh, kw, c;
    quant_status st = quant__conv_check(s, in, a_signed, a_zp, w, w_zp, ep, out, &oh, &ow);
    if (st != QUANT_OK) return st;
    /* each output pixel: for up to 64 output channels at a time, the sum over
     * the kernel's taps (kh, kw) and input channels c of (in - a_zp)(w - w_zp);
     * a tap in the padding adds nothing (its value is the zero point) */
    for (n = 0; n < s->batch; n++)
        for (y = 0; y < oh; y++)
            for (x = 0; x < ow; x++)
                for (oc0 = 0; oc0 < s->out_c; oc0 += 64) {
                    const size_t ocn = s->out_c - oc0 < 64 ? s->out_c - oc0 : 64;
                    int32_t acc[64];
                    for (o = 0; o < ocn; o++) acc[o] = 0;
                    for (kh = 0; kh < s->k_h; kh++)
                        for (kw = 0; kw < s->k_w; kw++) {
                            const size_t ph = y * s->stride_h + kh * s->dil_h, pw = x * s->stride_w + kw * s->dil_w;
                            size_t ih, iw, at;
                            if (ph < s->pad_top || pw < s->pad_left) continue;
                            ih = ph - s->pad_top; iw = pw - s->pad_left;
                            if (ih >= s->in_h || iw >= s->in_w) continue;
                            at = ((n * s->in_h + ih) * s->in_w + iw) * s->in_c;
                            for (o = 0; o < ocn; o++) {
                                const int8_t *wt = w + (((oc0 + o) * s->k_h + kh) * s->k_w + kw) * s->in_c;
                                int32_t t = 0;
                                if (a_signed)
                                    for (c = 0; c < s->in_c; c++) t += ((int32_t)((const int8_t *)in)[at + c] - a_zp) * ((int32_t)wt[c] - w_zp);
                                else
                                    for (c = 0; c < s->in_c; c++) t += ((int32_t)((const uint8_t *)in)[at + c] - a_zp) * ((int32_t)wt[c] - w_zp);
                                acc[o] += t;
                            }
                        }
                    for (o = 0; o < ocn; o++) quant_epilogue_apply1(ep, (n * oh + y) * ow + x, oc0 + o, acc[o], out, s->out_c);
                }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_ref_dwconv2d(const quant_conv_shape *s, const void *in, int a_signed, int32_t a_zp,
        const int8_t *w, int32_t w_zp, const quant_epilogue *ep, void *out) {
    size_t oh, ow, n, y, x, c, kh, kw;
    quant_status st;
    if (!s || s->out_c != s->in_c) return QUANT_EINVAL;
    st = quant__conv_check(s, in, a_signed, a_zp, w, w_zp, ep, out, &oh, &ow);
    if (st != QUANT_OK) return st;
    for (n = 0; n < s->batch; n++)
        for (y = 0; y < oh; y++)
            for (x = 0; x < ow; x++)
                for (c = 0; c < s->in_c; c++) {
                    int32_t acc = 0;
                    for (kh = 0; kh < s->k_h; kh++)
                        for (kw = 0; kw < s->k_w; kw++)
                            acc += quant__conv_in(s, in, a_signed, a_zp, n, y * s->stride_h + kh * s->dil_h,
                                                  x * s->stride_w + kw * s->dil_w, c) *
                                   ((int32_t)w[(kh * s->k_w + kw) * s->in_c + c] - w_zp);
                    quant_epilogue_apply1(ep, (n * oh + y) * ow + x, c, acc, out, s->in_c);
                }
    return QUANT_OK;
}

QUANT__INTERNAL uint32_t quant__popcount64(uint64_t x) {
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (uint32_t)((x * 0x0101010101010101ull) >> 56);
}

QUANT__INTERNAL quant_status quant__bep_check(const quant_bepilogue *ep) {
    if (!ep) return QUANT_EINVAL;
    switch (ep->out) {
    case QUANT_BOUT_I32: return QUANT_OK;
    case QUANT_BOUT_F32: return ep->scale ? QUANT_OK : QUANT_EINVAL;
    case QUANT_BOUT_BITS: return ep->thresh ? QUANT_OK : QUANT_EINVAL;
    }
    return QUANT_EINVAL;
}

QUANT_DEF quant_status quant_ref_bgemm(size_t M, size_t N, size_t K, const uint64_t *a_sign,
        const uint64_t *a_nonzero, size_t lda, const uint64_t *w_sign, const uint64_t *w_nonzero, size_t ldw,
        const quant_bepilogue *ep, void *C, size_t ldc) {
    const size_t wk = quant_bits_words(K);
    const uint64_t last = K % 64 ? ((uint64_t)1 << (K % 64)) - 1 : ~(uint64_t)0;
    size_t m, n, w;
    quant_status st;
    if ((st = quant__bep_check(ep)) != QUANT_OK) return st;
    if (!a_sign || !w_sign || !C || !K || K > ((size_t)1 << 30) || lda < wk || ldw < wk) return QUANT_EINVAL;
    if (ep->out == QUANT_BOUT_BITS ? ldc < quant_bits_words(N) : ldc < N) return QUANT_EINVAL;
    for (m = 0; m < M; m++) {
        if (ep->out == QUANT_BOUT_BITS) memset((uint64_t *)C + m * ldc, 0, 8 * quant_bits_words(N));
        for (n = 0; n < N; n++) {
            int32_t dot = 0;
            for (w = 0; w < wk; w++) {
                uint64_t z = w + 1 == wk ? last : ~(uint64_t)0;
                if (a_nonzero) z &= a_nonzero[m * lda + w];
                if (w_nonzero) z &= w_nonzero[n * ldw + w];
                dot += (int32_t)quant__popcount64(z) - 2 * (int32_t)quant__popcount64((a_sign[m * lda + w] ^ w_sign[n * ldw + w]) & z);
            }
            if (ep->out == QUANT_BOUT_I32) ((int32_t *)C)[m * ldc + n] = dot;
            else if (ep->out == QUANT_BOUT_F32) ((float *)C)[m * ldc + n] = fmaf((float)dot, ep->scale[n], ep->bias ? ep->bias[n] : 0.0f);
            else if (ep->flip && ep->flip[n] ? dot >= ep->thresh[n] : dot < ep->thresh[n])
                ((uint64_t *)C)[m * ldc + n / 64] |= (uint64_t)1 << (n % 64);
        }
    }
    return QUANT_OK;
}

QUANT__INTERNAL quant_status quant__q4_ep_check(const quant_q4_epilogue *ep) {
    if (!ep || !ep->a_scale) return QUANT_EINVAL;
    if (ep->out == QUANT_OUT_F32) return QUANT_OK;
    if (ep->out != QUANT_OUT_U8 && ep->out != QUANT_OUT_I8) return QUANT_EINVAL;
    if (!(ep->out_inv > 0.0f) || ep->out_inv > 3.4e38f || ep->out_min > ep->out_max) return QUANT_EINVAL;
    if (ep->out == QUANT_OUT_U8 ? (ep->out_min < 0 || ep->out_max > 255) : (ep->out_min < -128 || ep->out_max > 127)) return QUANT_EINVAL;
    if (ep->out_zp < ep->out_min || ep->out_zp > ep->out_max) return QUANT_EINVAL;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_ref_gemm_q4(size_t M, size_t N, size_t K, const void *A, int a_signed, size_t lda,
        int32_t a_zp, const int8_t *W, const float *scales, const quant_q4_epilogue *ep, void *C, size_t ldc) {
    const size_t nb = (K + QUANT_BLOCK - 1) / QUANT_BLOCK;
    const uint8_t *a8 = (const uint8_t *)A;
    size_t m, n, b, k;
    quant_status st;
    if ((st = quant__q4_ep_check(ep)) != QUANT_OK) return st;
    if (!A || !W || !scales || !C || !N || !K || K > QUANT_GEMM_MAX_K || lda < K || ldc < N) return QUANT_EINVAL;
    if (a_signed ? (a_zp < -128 || a_zp > 127) : (a_zp < 0 || a_zp > 255)) return QUANT_EINVAL;
    for (k = 0; k < N * K; k++) if (W[k] < -8 || W[k] > 7) return QUANT_ERANGE;
    for (k = 0; k < N * nb; k++) if (!(scales[k] >= 0.0f) || scales[k] > 3.4e38f) return QUANT_EINVAL;
    for (m = 0; m < M; m++) {
        const float as = ep->a_scale[ep->a_scale_per_row ? m : 0];
        for (n = 0; n < N; n++) {
            float acc = 0.0f, y;
            for (b = 0; b < nb; b++) {
                int32_t dot = 0;
                for (k = b * QUANT_BLOCK; k < K && k < (b + 1) * QUANT_BLOCK; k++)
                    dot += ((a_signed ? (int32_t)(int8_t)a8[m * lda + k] : (int32_t)a8[m * lda + k]) - a_zp) * W[n * K + k];
                acc = fmaf((float)dot, scales[n * nb + b], acc);
            }
            y = fmaf(acc, as, ep->bias ? ep->bias[n] : 0.0f);
            if (ep->out == QUANT_OUT_F32) ((float *)C)[m * ldc + n] = y;
            else {
                float v = nearbyintf(y * ep->out_inv) + (float)ep->out_zp;
                if (v != v) v = (float)ep->out_zp;
                v = v < (float)ep->out_min ? (float)ep->out_min : v > (float)ep->out_max ? (float)ep->out_max : v;
                if (ep->out == QUANT_OUT_U8) ((uint8_t *)C)[m * ldc + n] = (uint8_t)(int)v;
                else ((int8_t *)C)[m * ldc + n] = (int8_t)(int)v;
            }
        }
    }
    return QUANT_OK;
}

/* ---------------------------------- 11. vector and product quantization */

/* The exact chains every PQ / VQ path reproduces (section 11 header). */
QUANT__INTERNAL float quant__vq_l2(const float *x, const float *c, size_t d) {
    float acc = 0.0f;
    size_t t;
    for (t = 0; t < d; t++) { float e = x[t] - c[t]; acc = fmaf(e, e, acc); }
    return acc;
}
QUANT__INTERNAL float quant__vq_ip(const float *x, const float *c, size_t d) {
    float acc = 0.0f;
    size_t t;
    for (t = 0; t < d; t++) acc = fmaf(x[t], c[t], acc);
    return acc;
}

/* finite and |v| <= QUANT_VQ_MAX_ABS for every value (NaN fails the test) */
QUANT__INTERNAL quant_status quant__vq_values(const float *x, size_t n, size_t d, size_t ldx) {
    size_t i, t;
    for (i = 0; i < n; i++) {
        const float *r = x + i * ldx;
        for (t = 0; t < d; t++)
            if (!(fabsf(r[t]) <= QUANT_VQ_MAX_ABS)) return QUANT_ERANGE;
    }
    return QUANT_OK;
}

QUANT__INTERNAL int quant__vq_mul_ok(size_t a, size_t b) { return quant__mul_ok(a, b); }

QUANT_DEF void quant_ref_nearest(const float *x, size_t n, size_t d, size_t ldx,
        const float *c, const float *ct, const float *norms, size_t k,
        quant_metric metric, uint32_t *idx, float *score) {
    size_t i, j;
    (void)ct; (void)norms;
    if (!idx) { /* every score */
        for (i = 0; i < n; i++)
            for (j = 0; j < k; j++)
                score[i * k + j] = metric == QUANT_METRIC_IP ? quant__vq_ip(x + i * ldx, c + j * d, d)
                                                             : quant__vq_l2(x + i * ldx, c + j * d, d);
        return;
    }
    for (i = 0; i < n; i++) {
        const float *xi = x + i * ldx;
        uint32_t best = 0;
        float bs = metric == QUANT_METRIC_IP ? quant__vq_ip(xi, c, d) : quant__vq_l2(xi, c, d);
        for (j = 1; j < k; j++) {
            if (metric == QUANT_METRIC_IP) {
                float s = quant__vq_ip(xi, c + j * d, d);
                if (s > bs) { bs = s; best = (uint32_t)j; }
            } else {
                float s = quant__vq_l2(xi, c + j * d, d);
                if (s < bs) { bs = s; best = (uint32_t)j; }
            }
        }
        idx[i] = best;
        if (score) score[i] = bs;
    }
}

QUANT_DEF quant_status quant_centroids_prepare(const float *c, size_t k, size_t d, float *ct, float *norms) {
    size_t j, t;
    if (!c || !k || !d || !quant__vq_mul_ok(k, d)) return QUANT_EINVAL;
    for (j = 0; j < k; j++) {
        if (ct) for (t = 0; t < d; t++) ct[t * k + j] = c[j * d + t];
        if (norms) norms[j] = quant__vq_ip(c + j * d, c + j * d, d);
    }
    return QUANT_OK;
}

QUANT_DEF void quant_kmeans_opts_default(quant_kmeans_opts *o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->max_iter = 25;
    o->tol = 1e-4;
    o->max_points_per_centroid = 256;
    o->init = QUANT_KMEANS_PLUSPLUS;
    o->metric = QUANT_METRIC_L2;
    o->seed = 1234;
    o->nearest = NULL;
    o->progress = NULL;
    o->user = NULL;
}

QUANT__INTERNAL quant_status quant__km_opts(const quant_kmeans_opts *in, quant_kmeans_opts *o) {
    if (in) *o = *in; else quant_kmeans_opts_default(o);
    if (o->max_iter < 0 || !(o->tol >= 0.0) || o->tol > 1e300) return QUANT_EINVAL;
    if (o->init != QUANT_KMEANS_PLUSPLUS && o->init != QUANT_KMEANS_RANDOM) return QUANT_EINVAL;
    if (o->metric != QUANT_METRIC_L2 && o->metric != QUANT_METRIC_IP) return QUANT_EINVAL;
    if (!o->nearest) o->nearest = quant_ref_nearest;
    return QUANT_OK;
}

/* uniform in [0, n), n >= 1 */
QUANT__INTERNAL size_t quant__km_rand(quant_rng *r, size_t n) {
    uint64_t v = ((uint64_t)quant_rng_u32(r) << 32) | quant_rng_u32(r);
    return (size_t)(v % (uint64_t)n);
}
/* uniform in [0, 1) with 53 bits */
QUANT__INTERNAL double quant__km_uniform(quant_rng *r) {
    uint64_t v = ((uint64_t)quant_rng_u32(r) << 32) | quant_rng_u32(r);
    return (double)(v >> 11) * (1.0 / 9007199254740992.0);
}

/* ascending merge sort of floats (no NaN), tmp holds n floats */
QUANT__INTERNAL void quant__vq_sortf(float *a, size_t n, float *tmp) {
    size_t w, i;
    float *src = a, *dst = tmp;
    for (i = 0; i + 1 < n; i += 2)       /* pairs first */
        if (a[i] > a[i + 1]) { float t = a[i]; a[i] = a[i + 1]; a[i + 1] = t; }
    for (w = 2; w < n; w *= 2) {
        for (i = 0; i < n; i += 2 * w) {
            size_t lo = i, mid = i + w < n ? i + w : n, hi = i + 2 * w < n ? i + 2 * w : n;
            size_t p = lo, q = mid, o = lo;
            while (p < mid && q < hi) dst[o++] = src[q] < src[p] ? src[q++] : src[p++];
            while (p < mid) dst[o++] = src[p++];
            while (q < hi) dst[o++] = src[q++];
        }
        { float *t = src; src = dst; dst = t; }
    }
    if (src != a) memcpy(a, src, n * sizeof(float));
}

/* where the training rows come from: row i is
 * x + (i / per) * ld + (i % per) * step, d floats */
typedef struct quant__km_src {
    const float *x;
    size_t ld, per, step, n;
} quant__km_src;

QUANT__INTERNAL const float *quant__km_row(const quant__km_src *s, size_t i) {
    return s->x + (i / s->per) * s->ld + (i % s->per) * s->step;
}

QUANT__INTERNAL int quant__km_equal(const float *a, const float *b, size_t d) {
    size_t t;
    for (t = 0; t < d; t++) if (a[t] != b[t]) return 0;
    return 1;
}

/* stop rule shared by the 1-D and general paths; returns 1 to stop */
QUANT__INTERNAL int quant__km_step_done(const quant_kmeans_opts *o, int it, double prev, double obj) {
    double gain;
    if (it >= o->max_iter) return 1;
    if (it == 0 || o->tol <= 0.0) return 0;
    gain = o->metric == QUANT_METRIC_IP ? obj - prev : prev - obj;
    return gain <= o->tol * fabs(obj);
}

QUANT__INTERNAL int quant__km_report(const quant_kmeans_opts *o, int it, double obj, size_t empty,
        size_t part, size_t parts) {
    quant_kmeans_progress p;
    if (!o->progress) return 0;
    p.iter = it; p.max_iter = o->max_iter; p.objective = obj; p.empty = empty; p.part = part; p.parts = parts;
    return o->progress(o->user, &p);
}

/* Exact 1-D Lloyd on the sorted sample xs[ns] (L2): centroids c[k] stay
 * sorted; cluster j is the range of points nearest to c[j] (ties to the
 * lower index). */
QUANT__INTERNAL quant_status quant__km_1d(float *xs, size_t ns, size_t k, const quant_kmeans_opts *o,
        quant_rng *rng, size_t part, size_t parts, float *c, quant_kmeans_info *info) {
    size_t *lo = NULL, *hi = NULL, i, j, distinct = 0, repaired = 0;
    double *dd = NULL, prev = 0.0, obj = 0.0;
    float *tmp = NULL;
    int it = 0;
    quant_status st = QUANT_ENOMEM;
    if (!quant__vq_mul_ok(ns, sizeof(double)) || !quant__vq_mul_ok(k, sizeof(size_t))) return QUANT_EOVERFLOW;
    dd = (double *)QUANT_MALLOC(ns * sizeof(double));
    tmp = (float *)QUANT_MALLOC((ns > k ? ns : k) * sizeof(float));
    lo = (size_t *)QUANT_MALLOC(k * sizeof(size_t));
    hi = (size_t *)QUANT_MALLOC(k * sizeof(size_t));
    if (!dd || !tmp || !lo || !hi) goto done;
    quant__vq_sortf(xs, ns, tmp);
    /* initialisation: distinct values only */
    if (o->init == QUANT_KMEANS_PLUSPLUS) {
        c[0] = xs[quant__km_rand(rng, ns)];
        distinct = 1;
        for (i = 0; i < ns; i++) { double e = (double)xs[i] - c[0]; dd[i] = e * e; }
        while (distinct < k) {
            double total = 0.0, r, cum = 0.0;
            size_t pick = ns;
            for (i = 0; i < ns; i++) total += dd[i];
            if (!(total > 0.0)) break;
            r = quant__km_uniform(rng) * total;
            for (i = 0; i < ns; i++) {
                if (dd[i] <= 0.0) continue;
                pick = i;
                cum += dd[i];
                if (cum > r) break;
            }
            c[distinct] = xs[pick];
            for (i = 0; i < ns; i++) { double e = (double)xs[i] - c[distinct]; if (e * e < dd[i]) dd[i] = e * e; }
            distinct++;
        }
    } else {
        /* random distinct values: shuffle the distinct values of the sample */
        size_t nd = 0;
        for (i = 0; i < ns; i++) if (i == 0 || xs[i] != xs[i - 1]) tmp[nd++] = xs[i];
        for (i = 0; i < nd && distinct < k; i++) {
            size_t r = i + quant__km_rand(rng, nd - i);
            float t = tmp[i]; tmp[i] = tmp[r]; tmp[r] = t;
            c[distinct++] = tmp[i];
        }
    }
    for (j = distinct; j < k; j++) c[j] = c[(j - distinct) % distinct];
    /* sort the centroids (insertion sort: k is small, and nearly sorted later) */
#define QUANT__KM_SORTC() do { size_t a_, b_; for (a_ = 1; a_ < k; a_++) { float v_ = c[a_]; b_ = a_; \
        while (b_ > 0 && c[b_ - 1] > v_) { c[b_] = c[b_ - 1]; b_--; } c[b_] = v_; } } while (0)
    QUANT__KM_SORTC();
    for (it = 0;; it++) {
        size_t p = 0, empty = 0;
        int stop;
        /* assignment: ranges [lo, hi) of the points nearest to each centroid */
        obj = 0.0;
        for (j = 0; j < k; j++) {
            lo[j] = p;
            if (j + 1 < k) {
                double mid = 0.5 * ((double)c[j] + (double)c[j + 1]);
                while (p < ns && (double)xs[p] <= mid) p++;
            } else p = ns;
            hi[j] = p;
            for (i = lo[j]; i < hi[j]; i++) { double e = (double)xs[i] - c[j]; obj += e * e; }
            if (lo[j] == hi[j]) empty++;
        }
        obj /= (double)ns;
        stop = quant__km_step_done(o, it, prev, obj);
        if (!stop && empty) {
            /* repair: each empty cluster takes the point farthest from its
             * centroid, an end of a range with >= 2 points */
            size_t e_done = 0;
            for (j = 0; j < k; j++) {
                size_t jj, best = k, end = 0;
                double bd = 0.0;
                if (lo[j] != hi[j]) continue;
                for (jj = 0; jj < k; jj++) {
                    double a, b;
                    if (hi[jj] - lo[jj] < 2) continue;
                    a = fabs((double)xs[lo[jj]] - c[jj]);
                    b = fabs((double)xs[hi[jj] - 1] - c[jj]);
                    if (a > bd) { bd = a; best = jj; end = 0; }
                    if (b > bd) { bd = b; best = jj; end = 1; }
                }
                if (best == k) break; /* every point on its centroid */
                /* the empty cluster becomes the single point; mark it by
                 * lo = hi = index + 1 of that point in a private way: we
                 * set its centroid now and its range stays empty */
                if (end == 0) { c[j] = xs[lo[best]]; lo[best]++; }
                else { c[j] = xs[hi[best] - 1]; hi[best]--; }
                lo[j] = hi[j] = ns + 1; /* repaired: keep c[j] at update */
                e_done++;
            }
            repaired += e_done;
            empty = e_done;
        } else empty = 0;
        if (quant__km_report(o, it, obj, empty, part, parts)) stop = 1;
        if (stop) break;
        /* update: means of the ranges */
        for (j = 0; j < k; j++) {
            double s = 0.0;
            if (lo[j] >= hi[j]) continue;
            for (i = lo[j]; i < hi[j]; i++) s += xs[i];
            c[j] = (float)(s / (double)(hi[j] - lo[j]));
        }
        QUANT__KM_SORTC();
        prev = obj;
    }
#undef QUANT__KM_SORTC
    info->iterations = it;
    info->objective = obj;
    info->n_used = ns;
    info->distinct = distinct;
    info->repaired = repaired;
    st = QUANT_OK;
done:
    QUANT_FREE(dd); QUANT_FREE(tmp); QUANT_FREE(lo); QUANT_FREE(hi);
    return st;
}

/* k-means over the rows of src into c (k x d). */
QUANT__INTERNAL quant_status quant__km_run(const quant__km_src *src, size_t d, size_t k, const quant_kmeans_opts *o,
        size_t part, size_t parts, float *c, quant_kmeans_info *info) {
    size_t n = src->n, ns = n, i, j, t, distinct = 0, repaired = 0;
    float *xs_own = NULL, *score = NULL, *dd = NULL, *ct = NULL, *norms = NULL;
    const float *xs;
    uint32_t *assign = NULL;
    size_t *perm = NULL, *counts = NULL;
    double *sums = NULL, prev = 0.0, obj = 0.0;
    quant_rng rng;
    quant_status st = QUANT_ENOMEM;
    int it = 0;
    quant_rng_seed(&rng, o->seed + part);
    if (o->max_points_per_centroid && k <= SIZE_MAX / o->max_points_per_centroid &&
        n > k * o->max_points_per_centroid)
        ns = k * o->max_points_per_centroid;
    if (!quant__vq_mul_ok(ns, d) || !quant__vq_mul_ok(ns * d, sizeof(float)) || !quant__vq_mul_ok(k, d) ||
        !quant__vq_mul_ok(k * d, sizeof(double)) || !quant__vq_mul_ok(n, sizeof(size_t)))
        return QUANT_EOVERFLOW;
    /* the training sample, contiguous */
    if (ns == n && src->per == 1 && src->ld == d && d > 1) {
        xs = src->x;
    } else {
        xs_own = (float *)QUANT_MALLOC(ns * d * sizeof(float));
        if (!xs_own) goto done;
        if (ns < n) {
            perm = (size_t *)QUANT_MALLOC(n * sizeof(size_t));
            if (!perm) goto done;
            for (i = 0; i < n; i++) perm[i] = i;
            for (i = 0; i < ns; i++) { /* partial Fisher-Yates */
                size_t r = i + quant__km_rand(&rng, n - i), tt = perm[i];
                perm[i] = perm[r]; perm[r] = tt;
                memcpy(xs_own + i * d, quant__km_row(src, perm[i]), d * sizeof(float));
            }
        } else {
            for (i = 0; i < ns; i++) memcpy(xs_own + i * d, quant__km_row(src, i), d * sizeof(float));
        }
        xs = xs_own;
    }
    if (d == 1 && o->metric == QUANT_METRIC_L2) {
        st = quant__km_1d(xs_own, ns, k, o, &rng, part, parts, c, info);
        goto done;
    }
    score = (float *)QUANT_MALLOC(ns * sizeof(float));
    dd = (float *)QUANT_MALLOC(ns * sizeof(float));
    assign = (uint32_t *)QUANT_MALLOC(ns * sizeof(uint32_t));
    ct = (float *)QUANT_MALLOC(k * d * sizeof(float));
    norms = (float *)QUANT_MALLOC(k * sizeof(float));
    counts = (size_t *)QUANT_MALLOC(k * sizeof(size_t));
    sums = (double *)QUANT_MALLOC(k * d * sizeof(double));
    if (!score || !dd || !assign || !ct || !norms || !counts || !sums) goto done;

    /* ---- initialisation: distinct training points */
    if (o->init == QUANT_KMEANS_PLUSPLUS) {
        /* D^2 of every point to a new centroid: the centroid is the one
         * "point", the sample (and its transpose) the "centroids" */
        size_t first = quant__km_rand(&rng, ns);
        float *xst = (float *)QUANT_MALLOC(ns * d * sizeof(float));
        if (!xst) goto done;
        for (i = 0; i < ns; i++) for (t = 0; t < d; t++) xst[t * ns + i] = xs[i * d + t];
        memcpy(c, xs + first * d, d * sizeof(float));
        distinct = 1;
        o->nearest(c, 1, d, d, xs, xst, NULL, ns, QUANT_METRIC_L2, NULL, dd);
        dd[first] = 0.0f;
        while (distinct < k) {
            double total = 0.0;
            size_t pick = ns;
            float *cj = c + distinct * d;
            for (i = 0; i < ns; i++) total += dd[i];
            while (total > 0.0) {
                double r = quant__km_uniform(&rng) * total, cum = 0.0;
                size_t last = ns;
                for (i = 0; i < ns; i++) {
                    if (dd[i] <= 0.0f) continue;
                    last = i;
                    cum += dd[i];
                    if (cum > r) break;
                }
                if (i == ns) i = last;
                if (i == ns) break;
                /* a point equal to a centroid (a rounding residue in dd) is
                 * never a new centroid */
                for (j = 0; j < distinct; j++) if (quant__km_equal(xs + i * d, c + j * d, d)) break;
                if (j == distinct) { pick = i; break; }
                total -= dd[i];
                dd[i] = 0.0f;
            }
            if (pick == ns) break;
            memcpy(cj, xs + pick * d, d * sizeof(float));
            o->nearest(cj, 1, d, d, xs, xst, NULL, ns, QUANT_METRIC_L2, NULL, score);
            for (i = 0; i < ns; i++) if (score[i] < dd[i]) dd[i] = score[i];
            dd[pick] = 0.0f;
            distinct++;
        }
        QUANT_FREE(xst);
    } else {
        size_t *pi = (size_t *)QUANT_MALLOC(ns * sizeof(size_t));
        if (!pi) goto done;
        for (i = 0; i < ns; i++) pi[i] = i;
        for (i = 0; i < ns && distinct < k; i++) {
            size_t r = i + quant__km_rand(&rng, ns - i), tt = pi[i];
            pi[i] = pi[r]; pi[r] = tt;
            for (j = 0; j < distinct; j++) if (quant__km_equal(xs + pi[i] * d, c + j * d, d)) break;
            if (j < distinct) continue;
            memcpy(c + distinct * d, xs + pi[i] * d, d * sizeof(float));
            distinct++;
        }
        QUANT_FREE(pi);
    }
    for (j = distinct; j < k; j++) memcpy(c + j * d, c + ((j - distinct) % distinct) * d, d * sizeof(float));
    if (o->metric == QUANT_METRIC_IP)
        for (j = 0; j < k; j++) {
            float nn = sqrtf(quant__vq_ip(c + j * d, c + j * d, d));
            if (nn > 0.0f) for (t = 0; t < d; t++) c[j * d + t] /= nn;
        }

    /* ---- Lloyd */
    for (it = 0;; it++) {
        size_t empty = 0;
        int stop;
        quant_centroids_prepare(c, k, d, ct, norms);
        o->nearest(xs, ns, d, d, c, ct, norms, k, o->metric, assign, score);
        obj = 0.0;
        for (i = 0; i < ns; i++) obj += score[i];
        obj /= (double)ns;
        memset(counts, 0, k * sizeof(size_t));
        for (i = 0; i < ns; i++) counts[assign[i]]++;
        stop = quant__km_step_done(o, it, prev, obj);
        if (!stop) {
            /* repair: an empty cluster takes the point farthest from its
             * centroid among clusters of >= 2 points (L2: largest distance;
             * IP: smallest inner product) */
            for (j = 0; j < k; j++) {
                size_t best = ns;
                float bd = 0.0f;
                if (counts[j]) continue;
                for (i = 0; i < ns; i++) {
                    float bad;
                    if (counts[assign[i]] < 2) continue;
                    if (o->metric == QUANT_METRIC_IP ? score[i] == INFINITY : score[i] < 0.0f) continue; /* moved */
                    bad = o->metric == QUANT_METRIC_IP ? -score[i] : score[i];
                    if (best == ns ? (o->metric == QUANT_METRIC_IP || bad > 0.0f) : bad > bd) { best = i; bd = bad; }
                }
                if (best == ns) break;
                counts[assign[best]]--;
                counts[j] = 1;
                assign[best] = (uint32_t)j;
                score[best] = o->metric == QUANT_METRIC_IP ? INFINITY : -1.0f; /* never picked again */
                empty++;
            }
            repaired += empty;
        }
        if (quant__km_report(o, it, obj, empty, part, parts)) stop = 1;
        if (stop) break;
        /* update: means (double sums, point order) */
        memset(sums, 0, k * d * sizeof(double));
        for (i = 0; i < ns; i++) {
            double *s = sums + (size_t)assign[i] * d;
            const float *xi = xs + i * d;
            for (t = 0; t < d; t++) s[t] += xi[t];
        }
        for (j = 0; j < k; j++) {
            if (!counts[j]) continue;
            for (t = 0; t < d; t++) c[j * d + t] = (float)(sums[j * d + t] / (double)counts[j]);
            if (o->metric == QUANT_METRIC_IP) {
                float nn = sqrtf(quant__vq_ip(c + j * d, c + j * d, d));
                if (nn > 0.0f) for (t = 0; t < d; t++) c[j * d + t] /= nn;
            }
        }
        prev = obj;
    }
    info->iterations = it;
    info->objective = obj;
    info->n_used = ns;
    info->distinct = distinct;
    info->repaired = repaired;
    st = QUANT_OK;
done:
    QUANT_FREE(xs_own); QUANT_FREE(perm); QUANT_FREE(score); QUANT_FREE(dd); QUANT_FREE(assign);
    QUANT_FREE(ct); QUANT_FREE(norms); QUANT_FREE(counts); QUANT_FREE(sums);
    return st;
}

QUANT_DEF quant_status quant_kmeans(const float *x, size_t n, size_t d, size_t k,
        const quant_kmeans_opts *opts, float *centroids, quant_kmeans_info *info) {
    quant_kmeans_opts o;
    quant_kmeans_info inf;
    quant__km_src src;
    quant_status st;
    if (!x || !centroids || !n || !d || !k) return QUANT_EINVAL;
    if ((st = quant__km_opts(opts, &o)) != QUANT_OK) return st;
    if (!quant__vq_mul_ok(n, d) || !quant__vq_mul_ok(k, d) || k > UINT32_MAX) return QUANT_EOVERFLOW;
    if ((st = quant__vq_values(x, n, d, d)) != QUANT_OK) return st;
    src.x = x; src.ld = d; src.per = 1; src.step = 0; src.n = n;
    st = quant__km_run(&src, d, k, &o, 0, 1, centroids, &inf);
    if (st == QUANT_OK && info) *info = inf;
    return st;
}

QUANT_DEF quant_status quant_vq_train(const float *x, size_t n, size_t d, size_t k,
        const quant_kmeans_opts *opts, float *centroids, quant_kmeans_info *info) {
    return quant_kmeans(x, n, d, k, opts, centroids, info);
}

QUANT_DEF quant_status quant_vq_encode(const float *c, size_t k, size_t d, const float *x, size_t n,
        quant_metric metric, uint32_t *idx, float *score) {
    quant_status st;
    if (!c || !x || !idx || !k || !d || k > UINT32_MAX) return QUANT_EINVAL;
    if (metric != QUANT_METRIC_L2 && metric != QUANT_METRIC_IP) return QUANT_EINVAL;
    if (!quant__vq_mul_ok(n, d) || !quant__vq_mul_ok(k, d)) return QUANT_EOVERFLOW;
    if ((st = quant__vq_values(x, n, d, d)) != QUANT_OK) return st;
    quant_ref_nearest(x, n, d, d, c, NULL, NULL, k, metric, idx, score);
    return QUANT_OK;
}

QUANT_DEF quant_status quant_vq_decode(const float *c, size_t k, size_t d, const uint32_t *idx, size_t n, float *x) {
    size_t i;
    if (!c || !idx || !x || !k || !d) return QUANT_EINVAL;
    if (!quant__vq_mul_ok(n, d)) return QUANT_EOVERFLOW;
    for (i = 0; i < n; i++) if (idx[i] >= k) return QUANT_EFORMAT;
    for (i = 0; i < n; i++) memcpy(x + i * d, c + (size_t)idx[i] * d, d * sizeof(float));
    return QUANT_OK;
}

/* ---------------------------------------------------- scalar codebooks */

QUANT_DEF size_t quant_codebook_row_bytes(int bits, size_t cols) {
    return bits == 8 ? cols : bits == 4 ? cols / 2 + (cols & 1) : 0;
}

QUANT__INTERNAL int quant__cb_ok(const float *cb, int entries, int bits) {
    int j;
    if (!cb || entries < 2 || entries > 256 || (bits != 4 && bits != 8) || (bits == 4 && entries > 16)) return 0;
    for (j = 0; j < entries; j++) {
        if (!(fabsf(cb[j]) <= QUANT_VQ_MAX_ABS)) return 0;
        if (j && !(cb[j - 1] <= cb[j])) return 0;
    }
    return 1;
}

QUANT__INTERNAL uint32_t quant__cb_get(const uint8_t *idx, int bits, size_t i) {
    return bits == 8 ? idx[i] : (uint32_t)(idx[i >> 1] >> ((i & 1) * 4)) & 15u;
}

QUANT_DEF quant_status quant_codebook_train(const float *w, size_t n, int entries,
        const quant_kmeans_opts *opts, float *codebook, quant_kmeans_info *info) {
    quant_kmeans_opts o;
    quant_status st;
    if (!w || !codebook || !n || entries < 2 || entries > 256) return QUANT_EINVAL;
    if ((st = quant__km_opts(opts, &o)) != QUANT_OK) return st;
    o.metric = QUANT_METRIC_L2;
    return quant_kmeans(w, n, 1, (size_t)entries, &o, codebook, info);
}

QUANT_DEF quant_status quant_codebook_encode(const float *w, size_t n, const float *codebook, int entries,
        int bits, uint8_t *idx) {
    size_t i;
    if (!w || !idx || !quant__cb_ok(codebook, entries, bits)) return QUANT_EINVAL;
    for (i = 0; i < n; i++) if (!(fabsf(w[i]) <= QUANT_VQ_MAX_ABS)) return QUANT_ERANGE;
    if (bits == 4) memset(idx, 0, quant_codebook_row_bytes(4, n));
    for (i = 0; i < n; i++) {
        /* the first j with w <= midpoint(c[j], c[j + 1]), then back over repeats */
        size_t a = 0, b = (size_t)entries - 1;
        double v = w[i];
        while (a < b) {
            size_t m = (a + b) / 2;
            if (v <= 0.5 * ((double)codebook[m] + (double)codebook[m + 1])) b = m; else a = m + 1;
        }
        while (a > 0 && codebook[a - 1] == codebook[a]) a--;
        if (bits == 8) idx[i] = (uint8_t)a;
        else idx[i >> 1] |= (uint8_t)(a << ((i & 1) * 4));
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_codebook_decode(const uint8_t *idx, size_t n, const float *codebook, int entries,
        int bits, float *w) {
    size_t i;
    if (!idx || !w || !quant__cb_ok(codebook, entries, bits)) return QUANT_EINVAL;
    for (i = 0; i < n; i++) if (quant__cb_get(idx, bits, i) >= (uint32_t)entries) return QUANT_EFORMAT;
    for (i = 0; i < n; i++) w[i] = codebook[quant__cb_get(idx, bits, i)];
    return QUANT_OK;
}

QUANT_DEF quant_status quant_ref_codebook_gemv(const uint8_t *idx, int bits, size_t rows, size_t cols,
        const float *codebook, int entries, const float *x, float *y) {
    size_t r, c, rb = quant_codebook_row_bytes(bits, cols);
    quant_status st;
    if (!idx || !x || !y || !rows || !cols || !quant__cb_ok(codebook, entries, bits)) return QUANT_EINVAL;
    if (!quant__vq_mul_ok(rows, rb)) return QUANT_EOVERFLOW;
    if ((st = quant__vq_values(x, 1, cols, cols)) != QUANT_OK) return st;
    for (r = 0; r < rows; r++)
        for (c = 0; c < cols; c++) if (quant__cb_get(idx + r * rb, bits, c) >= (uint32_t)entries) return QUANT_EFORMAT;
    for (r = 0; r < rows; r++) {
        const uint8_t *ir = idx + r * rb;
        float acc = 0.0f;
        for (c = 0; c < cols; c++) acc = fmaf(codebook[quant__cb_get(ir, bits, c)], x[c], acc);
        y[r] = acc;
    }
    return QUANT_OK;
}

/* ------------------------------------------------- product quantization */

QUANT_DEF size_t quant_pq_centroids_floats(size_t d, size_t M, int nbits, int shared) {
    size_t ksub = (size_t)1 << (nbits == 4 ? 4 : 8), ncb;
    if (!d || !M || d % M || (nbits != 4 && nbits != 8) || (shared != 0 && shared != 1)) return 0;
    ncb = shared ? 1 : M;
    if (!quant__vq_mul_ok(ncb, ksub) || !quant__vq_mul_ok(ncb * ksub, d / M)) return 0;
    if (!quant__vq_mul_ok(ncb * ksub * (d / M), sizeof(float))) return 0;
    return ncb * ksub * (d / M);
}

QUANT_DEF quant_status quant_pq_init(quant_pq *pq, size_t d, size_t M, int nbits, int shared, float *centroids) {
    if (!pq || !quant_pq_centroids_floats(d, M, nbits, shared) || d > 0xffffffffu) return QUANT_EINVAL;
    pq->d = d; pq->M = M; pq->dsub = d / M; pq->nbits = nbits; pq->ksub = (size_t)1 << nbits;
    pq->shared = shared; pq->centroids = centroids;
    return QUANT_OK;
}

/* a well-formed pq (with centroids if need_c) */
QUANT__INTERNAL int quant__pq_ok(const quant_pq *pq, int need_c) {
    if (!pq || (need_c && !pq->centroids)) return 0;
    if (!quant_pq_centroids_floats(pq->d, pq->M, pq->nbits, pq->shared) || pq->d > 0xffffffffu) return 0;
    return pq->dsub == pq->d / pq->M && pq->ksub == ((size_t)1 << pq->nbits);
}

QUANT_DEF size_t quant_pq_code_size(const quant_pq *pq) {
    if (!quant__pq_ok(pq, 0)) return 0;
    return pq->nbits == 8 ? pq->M : (pq->M + 1) / 2;
}

QUANT__INTERNAL uint32_t quant__pq_get(const uint8_t *code, int nbits, size_t m) {
    return nbits == 8 ? code[m] : (uint32_t)(code[m >> 1] >> ((m & 1) * 4)) & 15u;
}

QUANT_DEF uint32_t quant_pq_code_get(const quant_pq *pq, const uint8_t *code, size_t m) {
    if (!pq || !code || m >= pq->M) return 0;
    return quant__pq_get(code, pq->nbits, m);
}

QUANT__INTERNAL const float *quant__pq_cb(const quant_pq *pq, size_t m) {
    return pq->centroids + (pq->shared ? 0 : m) * pq->ksub * pq->dsub;
}

QUANT_DEF quant_status quant_pq_train(quant_pq *pq, const float *x, size_t n, const quant_kmeans_opts *opts,
        quant_kmeans_info *info) {
    quant_kmeans_opts o;
    quant_kmeans_info sum, one;
    quant__km_src src;
    quant_status st;
    size_t m, parts;
    float *cb;
    if (!quant__pq_ok(pq, 1) || !x || !n) return QUANT_EINVAL;
    if ((st = quant__km_opts(opts, &o)) != QUANT_OK) return st;
    if (!quant__vq_mul_ok(n, pq->d) || !quant__vq_mul_ok(n, pq->M)) return QUANT_EOVERFLOW;
    if ((st = quant__vq_values(x, n, pq->d, pq->d)) != QUANT_OK) return st;
    o.metric = QUANT_METRIC_L2;
    memset(&sum, 0, sizeof sum);
    sum.distinct = pq->ksub;
    parts = pq->shared ? 1 : pq->M;
    /* trained into a copy: nothing is written unless every subspace succeeds */
    cb = (float *)QUANT_MALLOC(quant_pq_centroids_floats(pq->d, pq->M, pq->nbits, pq->shared) * sizeof(float));
    if (!cb) return QUANT_ENOMEM;
    for (m = 0; m < parts; m++) {
        if (pq->shared) { src.x = x; src.ld = pq->d; src.per = pq->M; src.step = pq->dsub; src.n = n * pq->M; }
        else { src.x = x + m * pq->dsub; src.ld = pq->d; src.per = 1; src.step = 0; src.n = n; }
        st = quant__km_run(&src, pq->dsub, pq->ksub, &o, m, parts, cb + m * pq->ksub * pq->dsub, &one);
        if (st != QUANT_OK) { QUANT_FREE(cb); return st; }
        sum.iterations += one.iterations;
        sum.objective += pq->shared ? one.objective * (double)pq->M : one.objective;
        sum.n_used = one.n_used;
        if (one.distinct < sum.distinct) sum.distinct = one.distinct;
        sum.repaired += one.repaired;
    }
    memcpy(pq->centroids, cb, quant_pq_centroids_floats(pq->d, pq->M, pq->nbits, pq->shared) * sizeof(float));
    QUANT_FREE(cb);
    if (info) *info = sum;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_ref_pq_encode(const quant_pq *pq, const float *x, size_t n, uint8_t *codes) {
    size_t i, m, j, cs;
    quant_status st;
    if (!quant__pq_ok(pq, 1) || !x || !codes) return QUANT_EINVAL;
    if (!quant__vq_mul_ok(n, pq->d)) return QUANT_EOVERFLOW;
    if ((st = quant__vq_values(x, n, pq->d, pq->d)) != QUANT_OK) return st;
    cs = quant_pq_code_size(pq);
    for (i = 0; i < n; i++) {
        uint8_t *code = codes + i * cs;
        if (pq->nbits == 4) memset(code, 0, cs);
        for (m = 0; m < pq->M; m++) {
            const float *xs = x + i * pq->d + m * pq->dsub, *cb = quant__pq_cb(pq, m);
            size_t best = 0;
            float bs = quant__vq_l2(xs, cb, pq->dsub);
            for (j = 1; j < pq->ksub; j++) {
                float s = quant__vq_l2(xs, cb + j * pq->dsub, pq->dsub);
                if (s < bs) { bs = s; best = j; }
            }
            if (pq->nbits == 8) code[m] = (uint8_t)best;
            else code[m >> 1] |= (uint8_t)(best << ((m & 1) * 4));
        }
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_pq_decode(const quant_pq *pq, const uint8_t *codes, size_t n, float *x) {
    size_t i, m, cs;
    if (!quant__pq_ok(pq, 1) || !codes || !x) return QUANT_EINVAL;
    if (!quant__vq_mul_ok(n, pq->d)) return QUANT_EOVERFLOW;
    cs = quant_pq_code_size(pq);
    for (i = 0; i < n; i++)
        for (m = 0; m < pq->M; m++)
            memcpy(x + i * pq->d + m * pq->dsub,
                   quant__pq_cb(pq, m) + quant__pq_get(codes + i * cs, pq->nbits, m) * pq->dsub,
                   pq->dsub * sizeof(float));
    return QUANT_OK;
}

QUANT_DEF quant_status quant_ref_pq_tables(const quant_pq *pq, quant_metric metric, const float *q, size_t nq,
        float *tables) {
    size_t i, m, j;
    quant_status st;
    if (!quant__pq_ok(pq, 1) || !q || !tables) return QUANT_EINVAL;
    if (metric != QUANT_METRIC_L2 && metric != QUANT_METRIC_IP) return QUANT_EINVAL;
    if (!quant__vq_mul_ok(nq, pq->d) || !quant__vq_mul_ok(nq * pq->M, pq->ksub)) return QUANT_EOVERFLOW;
    if ((st = quant__vq_values(q, nq, pq->d, pq->d)) != QUANT_OK) return st;
    for (i = 0; i < nq; i++)
        for (m = 0; m < pq->M; m++) {
            const float *qs = q + i * pq->d + m * pq->dsub, *cb = quant__pq_cb(pq, m);
            float *t = tables + (i * pq->M + m) * pq->ksub;
            for (j = 0; j < pq->ksub; j++)
                t[j] = metric == QUANT_METRIC_IP ? quant__vq_ip(qs, cb + j * pq->dsub, pq->dsub)
                                                 : quant__vq_l2(qs, cb + j * pq->dsub, pq->dsub);
        }
    return QUANT_OK;
}

/* ---- top-k: a max-heap of (key, id) in the caller's output arrays; keys
 * are distances (L2) or negated inner products (IP), smaller is better,
 * ties to the lower id. */
QUANT__INTERNAL int quant__topk_gt(float ka, int64_t ia, float kb, int64_t ib) {
    return ka > kb || (ka == kb && ia > ib);
}
QUANT__INTERNAL void quant__topk_sift(float *key, int64_t *id, size_t n, size_t i) {
    float kv = key[i];
    int64_t iv = id[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, b = i;
        float kb = kv;
        int64_t ib = iv;
        if (l < n && quant__topk_gt(key[l], id[l], kb, ib)) { b = l; kb = key[l]; ib = id[l]; }
        if (r < n && quant__topk_gt(key[r], id[r], kb, ib)) { b = r; }
        if (b == i) break;
        key[i] = key[b]; id[i] = id[b];
        i = b;
    }
    key[i] = kv; id[i] = iv;
}
/* add (kv, iv) to a heap holding *cnt of k entries */
QUANT__INTERNAL void quant__topk_push(float *key, int64_t *id, size_t k, size_t *cnt, float kv, int64_t iv) {
    if (*cnt < k) {
        size_t i = (*cnt)++;
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (!quant__topk_gt(kv, iv, key[p], id[p])) break;
            key[i] = key[p]; id[i] = id[p];
            i = p;
        }
        key[i] = kv; id[i] = iv;
    } else if (quant__topk_gt(key[0], id[0], kv, iv)) {
        key[0] = kv; id[0] = iv;
        quant__topk_sift(key, id, k, 0);
    }
}
/* sort the heap ascending, pad to k, turn keys into distances */
QUANT__INTERNAL void quant__topk_finish(float *key, int64_t *id, size_t k, size_t cnt, quant_metric metric) {
    size_t i, n = cnt;
    while (n > 1) {
        float kt = key[0]; int64_t it = id[0];
        key[0] = key[n - 1]; id[0] = id[n - 1];
        key[n - 1] = kt; id[n - 1] = it;
        n--;
        quant__topk_sift(key, id, n, 0);
    }
    for (i = cnt; i < k; i++) { key[i] = INFINITY; id[i] = -1; }
    if (metric == QUANT_METRIC_IP) for (i = 0; i < k; i++) key[i] = -key[i];
}

QUANT__INTERNAL quant_status quant__pq_scan_check(const quant_pq *pq, const float *tables, size_t nq,
        const uint8_t *codes, size_t n, quant_metric metric, size_t k, int64_t *ids, float *dists) {
    size_t i, tot;
    if (!quant__pq_ok(pq, 0) || !tables || !ids || !dists || !k || (n && !codes)) return QUANT_EINVAL;
    if (metric != QUANT_METRIC_L2 && metric != QUANT_METRIC_IP) return QUANT_EINVAL;
    if (!quant__vq_mul_ok(nq, pq->M) || !quant__vq_mul_ok(nq * pq->M, pq->ksub) || !quant__vq_mul_ok(nq, k) ||
        !quant__vq_mul_ok(n, quant_pq_code_size(pq)) || n > (size_t)INT64_MAX) return QUANT_EOVERFLOW;
    tot = nq * pq->M * pq->ksub;
    for (i = 0; i < tot; i++) if (!quant__isfinite(tables[i])) return QUANT_EINVAL;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_ref_pq_scan(const quant_pq *pq, const float *tables, size_t nq,
        const uint8_t *codes, size_t n, quant_metric metric, size_t k, int64_t *ids, float *dists) {
    size_t qi, i, m, cs;
    quant_status st = quant__pq_scan_check(pq, tables, nq, codes, n, metric, k, ids, dists);
    if (st != QUANT_OK) return st;
    cs = quant_pq_code_size(pq);
    for (qi = 0; qi < nq; qi++) {
        const float *T = tables + qi * pq->M * pq->ksub;
        float *key = dists + qi * k;
        int64_t *id = ids + qi * k;
        size_t cnt = 0;
        for (i = 0; i < n; i++) {
            const uint8_t *code = codes + i * cs;
            float s = 0.0f;
            for (m = 0; m < pq->M; m++) s += T[m * pq->ksub + quant__pq_get(code, pq->nbits, m)];
            quant__topk_push(key, id, k, &cnt, metric == QUANT_METRIC_IP ? -s : s, (int64_t)i);
        }
        quant__topk_finish(key, id, k, cnt, metric);
    }
    return QUANT_OK;
}

/* 255 / R for 8-bit tables; 0 when R is 0 or the quotient is not finite */
QUANT__INTERNAL float quant__lut8_inv(float R) {
    float inv = R > 0.0f ? 255.0f / R : 0.0f;
    return quant__isfinite(inv) ? inv : 0.0f;
}

QUANT_DEF quant_status quant_ref_pqmm(const quant_pq *pq, const uint8_t *codes, size_t rows, const float *x,
        quant_pqmm_mode mode, float *y) {
    size_t r, m, j, cs;
    float T[256];
    uint8_t Q[256];
    quant_status st;
    if (!quant__pq_ok(pq, 1) || !codes || !x || !y || !rows) return QUANT_EINVAL;
    if (mode != QUANT_PQMM_F32 && mode != QUANT_PQMM_LUT8) return QUANT_EINVAL;
    if (pq->M > QUANT_PQMM_MAX_M) return QUANT_ERANGE;
    cs = quant_pq_code_size(pq);
    if (!quant__vq_mul_ok(rows, cs)) return QUANT_EOVERFLOW;
    if ((st = quant__vq_values(x, 1, pq->d, pq->d)) != QUANT_OK) return st;
    for (r = 0; r < rows; r++) y[r] = 0.0f;
    if (mode == QUANT_PQMM_F32) {
        for (m = 0; m < pq->M; m++) {
            const float *cb = quant__pq_cb(pq, m), *xs = x + m * pq->dsub;
            for (j = 0; j < pq->ksub; j++) T[j] = quant__vq_ip(xs, cb + j * pq->dsub, pq->dsub);
            for (r = 0; r < rows; r++) y[r] += T[quant__pq_get(codes + r * cs, pq->nbits, m)];
        }
    } else {
        float R = 0.0f, delta, inv;
        double bias = 0.0;
        for (m = 0; m < pq->M; m++) {
            const float *cb = quant__pq_cb(pq, m), *xs = x + m * pq->dsub;
            float lo, hi;
            for (j = 0; j < pq->ksub; j++) T[j] = quant__vq_ip(xs, cb + j * pq->dsub, pq->dsub);
            lo = hi = T[0];
            for (j = 1; j < pq->ksub; j++) { if (T[j] < lo) lo = T[j]; if (T[j] > hi) hi = T[j]; }
            lo += 0.0f;
            if (hi - lo > R) R = hi - lo;
            bias += (double)lo;
        }
        delta = R / 255.0f;
        inv = quant__lut8_inv(R);
        for (m = 0; m < pq->M; m++) {
            const float *cb = quant__pq_cb(pq, m), *xs = x + m * pq->dsub;
            float lo;
            for (j = 0; j < pq->ksub; j++) T[j] = quant__vq_ip(xs, cb + j * pq->dsub, pq->dsub);
            lo = T[0];
            for (j = 1; j < pq->ksub; j++) if (T[j] < lo) lo = T[j];
            lo += 0.0f;
            for (j = 0; j < pq->ksub; j++) {
                float v = nearbyintf((T[j] - lo) * inv);
                /* v is in 0..255 for finite tables; NaN (a table of +-inf: R = inf, inv = 0) gives
                 * code 0, as the SIMD conversions do (a NaN cast to an integer is undefined in C) */
                Q[j] = (uint8_t)(v > 255.0f ? 255.0f : v >= 0.0f ? v : 0.0f);
            }
            /* integer sums, exact in float below 2^24 (255 * M) */
            for (r = 0; r < rows; r++) y[r] += (float)Q[quant__pq_get(codes + r * cs, pq->nbits, m)];
        }
        for (r = 0; r < rows; r++) y[r] = fmaf(delta, y[r], (float)bias);
    }
    return QUANT_OK;
}

QUANT_DEF double quant_pq_compression(const quant_pq *pq, size_t rows) {
    double f, c;
    if (!quant__pq_ok(pq, 0) || !rows) return 0.0;
    f = (double)rows * (double)pq->d * 4.0;
    c = (double)rows * (double)quant_pq_code_size(pq) +
        4.0 * (double)quant_pq_centroids_floats(pq->d, pq->M, pq->nbits, pq->shared);
    return f / c;
}

/* ------------------------------------------------------------- blobs */

QUANT__INTERNAL void quant__blob_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
QUANT__INTERNAL uint32_t quant__blob_rd32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
QUANT__INTERNAL uint32_t quant__blob_fnv(const uint8_t *p, size_t n) {
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}
QUANT__INTERNAL void quant__blob_header(uint8_t *b, const char *magic, uint32_t d, uint32_t M, uint32_t nbits,
        uint32_t flags, uint64_t n, uint32_t cs) {
    memcpy(b, magic, 4);
    quant__blob_u32(b + 4, 1);
    quant__blob_u32(b + 8, d); quant__blob_u32(b + 12, M); quant__blob_u32(b + 16, nbits);
    quant__blob_u32(b + 20, flags);
    quant__blob_u32(b + 24, (uint32_t)n); quant__blob_u32(b + 28, (uint32_t)(n >> 32));
    quant__blob_u32(b + 32, cs); quant__blob_u32(b + 36, 0); quant__blob_u32(b + 40, 0);
    quant__blob_u32(b + 44, quant__blob_fnv(b, 44));
}
/* header fields after the magic, version, reserved and checksum checks */
QUANT__INTERNAL quant_status quant__blob_read(const void *blob, size_t bytes, const char *magic, uint32_t *f, uint64_t *n) {
    const uint8_t *b = (const uint8_t *)blob;
    int i;
    if (!blob) return QUANT_EINVAL;
    if (bytes < QUANT_BLOB_HEADER || memcmp(b, magic, 4) != 0 || quant__blob_rd32(b + 4) != 1 ||
        quant__blob_rd32(b + 36) != 0 || quant__blob_rd32(b + 40) != 0 ||
        quant__blob_rd32(b + 44) != quant__blob_fnv(b, 44)) return QUANT_EFORMAT;
    for (i = 0; i < 4; i++) f[i] = quant__blob_rd32(b + 8 + 4 * i);
    f[4] = quant__blob_rd32(b + 32);
    *n = (uint64_t)quant__blob_rd32(b + 24) | ((uint64_t)quant__blob_rd32(b + 28) << 32);
    return QUANT_OK;
}
QUANT__INTERNAL void quant__blob_wf(uint8_t *p, const float *v, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) quant__blob_u32(p + 4 * i, quant__fbits(v[i]));
}

QUANT_DEF size_t quant_pq_blob_size(const quant_pq *pq, size_t n) {
    size_t f, cs;
    if (!quant__pq_ok(pq, 0)) return 0;
    f = quant_pq_centroids_floats(pq->d, pq->M, pq->nbits, pq->shared);
    cs = quant_pq_code_size(pq);
    if (!quant__vq_mul_ok(n, cs) || f > (SIZE_MAX - QUANT_BLOB_HEADER) / 4 ||
        n * cs > SIZE_MAX - QUANT_BLOB_HEADER - 4 * f) return 0;
    return QUANT_BLOB_HEADER + 4 * f + n * cs;
}

QUANT_DEF quant_status quant_pq_save(const quant_pq *pq, const uint8_t *codes, size_t n, void *blob, size_t blob_bytes) {
    size_t need = quant_pq_blob_size(pq, n), f;
    uint8_t *b = (uint8_t *)blob;
    if (!quant__pq_ok(pq, 1) || !blob || (n && !codes)) return QUANT_EINVAL;
    if (!need) return QUANT_EOVERFLOW;
    if (blob_bytes < need) return QUANT_EINVAL;
    f = quant_pq_centroids_floats(pq->d, pq->M, pq->nbits, pq->shared);
    quant__blob_header(b, "QPQ1", (uint32_t)pq->d, (uint32_t)pq->M, (uint32_t)pq->nbits, (uint32_t)pq->shared,
                       (uint64_t)n, (uint32_t)quant_pq_code_size(pq));
    quant__blob_wf(b + QUANT_BLOB_HEADER, pq->centroids, f);
    if (n) memcpy(b + QUANT_BLOB_HEADER + 4 * f, codes, n * quant_pq_code_size(pq));
    return QUANT_OK;
}

QUANT_DEF quant_status quant_pq_load_header(const void *blob, size_t blob_bytes, quant_pq *pq, size_t *n) {
    uint32_t f[5];
    uint64_t nn;
    quant_pq p;
    size_t need;
    quant_status st;
    if (!pq || !n) return QUANT_EINVAL;
    if ((st = quant__blob_read(blob, blob_bytes, "QPQ1", f, &nn)) != QUANT_OK) return st;
    if (f[3] > 1 || quant_pq_init(&p, f[0], f[1], (int)f[2], (int)f[3], NULL) != QUANT_OK) return QUANT_EFORMAT;
    if (f[4] != quant_pq_code_size(&p) || nn > (uint64_t)SIZE_MAX) return QUANT_EFORMAT;
    need = quant_pq_blob_size(&p, (size_t)nn);
    if (!need || need != blob_bytes) return QUANT_EFORMAT;
    *pq = p; *n = (size_t)nn;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_pq_load(const void *blob, size_t blob_bytes, const quant_pq *pq, uint8_t *codes) {
    quant_pq p;
    size_t n, f, i;
    const uint8_t *b = (const uint8_t *)blob;
    quant_status st;
    if (!quant__pq_ok(pq, 1)) return QUANT_EINVAL;
    if ((st = quant_pq_load_header(blob, blob_bytes, &p, &n)) != QUANT_OK) return st;
    if (p.d != pq->d || p.M != pq->M || p.nbits != pq->nbits || p.shared != pq->shared) return QUANT_EINVAL;
    if (n && !codes) return QUANT_EINVAL;
    f = quant_pq_centroids_floats(p.d, p.M, p.nbits, p.shared);
    for (i = 0; i < f; i++)
        if (!(fabsf(quant__bitsf(quant__blob_rd32(b + QUANT_BLOB_HEADER + 4 * i))) <= QUANT_VQ_MAX_ABS)) return QUANT_EFORMAT;
    if (p.nbits == 4 && (p.M & 1)) { /* padding nibbles must be zero */
        size_t cs = quant_pq_code_size(&p);
        const uint8_t *c = b + QUANT_BLOB_HEADER + 4 * f;
        for (i = 0; i < n; i++) if (c[i * cs + cs - 1] >> 4) return QUANT_EFORMAT;
    }
    for (i = 0; i < f; i++) pq->centroids[i] = quant__bitsf(quant__blob_rd32(b + QUANT_BLOB_HEADER + 4 * i));
    if (n) memcpy(codes, b + QUANT_BLOB_HEADER + 4 * f, n * quant_pq_code_size(&p));
    return QUANT_OK;
}

QUANT_DEF size_t quant_codebook_blob_size(int entries, int bits, size_t n) {
    size_t rb;
    if (entries < 2 || entries > 256 || (bits != 4 && bits != 8) || (bits == 4 && entries > 16)) return 0;
    rb = quant_codebook_row_bytes(bits, n);
    if (rb > SIZE_MAX - QUANT_BLOB_HEADER - 4 * 256) return 0;
    return QUANT_BLOB_HEADER + 4 * (size_t)entries + rb;
}

QUANT_DEF quant_status quant_codebook_save(const float *codebook, int entries, int bits, const uint8_t *idx, size_t n,
        void *blob, size_t blob_bytes) {
    size_t need = quant_codebook_blob_size(entries, bits, n), i;
    uint8_t *b = (uint8_t *)blob;
    if (!quant__cb_ok(codebook, entries, bits) || !blob || (n && !idx)) return QUANT_EINVAL;
    if (!need) return QUANT_EOVERFLOW;
    if (blob_bytes < need) return QUANT_EINVAL;
    for (i = 0; i < n; i++) if (quant__cb_get(idx, bits, i) >= (uint32_t)entries) return QUANT_EFORMAT;
    if (bits == 4 && (n & 1) && (idx[n / 2] >> 4)) return QUANT_EFORMAT;
    quant__blob_header(b, "QCB1", (uint32_t)entries, 1, (uint32_t)bits, 0, (uint64_t)n, 0);
    quant__blob_wf(b + QUANT_BLOB_HEADER, codebook, (size_t)entries);
    if (n) memcpy(b + QUANT_BLOB_HEADER + 4 * (size_t)entries, idx, quant_codebook_row_bytes(bits, n));
    return QUANT_OK;
}

QUANT_DEF quant_status quant_codebook_load_header(const void *blob, size_t blob_bytes, int *entries, int *bits, size_t *n) {
    uint32_t f[5];
    uint64_t nn;
    size_t need;
    quant_status st;
    if (!entries || !bits || !n) return QUANT_EINVAL;
    if ((st = quant__blob_read(blob, blob_bytes, "QCB1", f, &nn)) != QUANT_OK) return st;
    if (f[0] < 2 || f[0] > 256 || f[1] != 1 || (f[2] != 4 && f[2] != 8) || f[3] != 0 || f[4] != 0 ||
        nn > (uint64_t)SIZE_MAX) return QUANT_EFORMAT;
    need = quant_codebook_blob_size((int)f[0], (int)f[2], (size_t)nn);
    if (!need || need != blob_bytes) return QUANT_EFORMAT;
    *entries = (int)f[0]; *bits = (int)f[2]; *n = (size_t)nn;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_codebook_load(const void *blob, size_t blob_bytes, float *codebook, uint8_t *idx) {
    int entries, bits, j;
    size_t n, i;
    float cb[256];
    const uint8_t *b = (const uint8_t *)blob, *ix;
    quant_status st;
    if (!codebook) return QUANT_EINVAL;
    if ((st = quant_codebook_load_header(blob, blob_bytes, &entries, &bits, &n)) != QUANT_OK) return st;
    if (n && !idx) return QUANT_EINVAL;
    for (j = 0; j < entries; j++) cb[j] = quant__bitsf(quant__blob_rd32(b + QUANT_BLOB_HEADER + 4 * j));
    if (!quant__cb_ok(cb, entries, bits)) return QUANT_EFORMAT;
    ix = b + QUANT_BLOB_HEADER + 4 * (size_t)entries;
    for (i = 0; i < n; i++) if (quant__cb_get(ix, bits, i) >= (uint32_t)entries) return QUANT_EFORMAT;
    if (bits == 4 && (n & 1) && (ix[n / 2] >> 4)) return QUANT_EFORMAT;
    memcpy(codebook, cb, (size_t)entries * sizeof(float));
    if (n) memcpy(idx, ix, quant_codebook_row_bytes(bits, n));
    return QUANT_OK;
}

/* ------------------------------------------- 12. post-training quantization */

/* Splits a tensor around axis (quant__axis_split) with the total count. */
QUANT__INTERNAL quant_status quant__ptq_split(const float *w, const size_t *shape, int ndim, int axis,
        size_t *outer, size_t *channels, size_t *inner) {
    quant_status st;
    if (!w) return QUANT_EINVAL;
    if ((st = quant__axis_split(shape, ndim, axis, outer, channels, inner)) != QUANT_OK) return st;
    if (!*outer || !*channels || !*inner) return QUANT_EINVAL;
    return QUANT_OK;
}

QUANT__INTERNAL int quant__all_finite(const float *x, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) if (!quant__isfinite(x[i])) return 0;
    return 1;
}

QUANT_DEF quant_status quant_absmax_axis(const float *w, const size_t *shape, int ndim, int axis, float *r) {
    size_t o, c, t, outer, C, inner;
    quant_status st;
    if (!r) return QUANT_EINVAL;
    if ((st = quant__ptq_split(w, shape, ndim, axis, &outer, &C, &inner)) != QUANT_OK) return st;
    if (!quant__all_finite(w, outer * C * inner)) return QUANT_ERANGE;
    for (c = 0; c < C; c++) r[c] = 0.0f;
    for (o = 0; o < outer; o++)
        for (c = 0; c < C; c++) {
            const float *p = w + (o * C + c) * inner;
            for (t = 0; t < inner; t++) if (fabsf(p[t]) > r[c]) r[c] = fabsf(p[t]);
        }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_cle_scales_from_ranges(const float *r1, const float *r2, size_t channels, float *s) {
    size_t i;
    const double lo = 1.0 / 4294967296.0, hi = 4294967296.0;
    if (!r1 || !r2 || !s || !channels) return QUANT_EINVAL;
    for (i = 0; i < channels; i++)
        if (!quant__isfinite(r1[i]) || !quant__isfinite(r2[i]) || r1[i] < 0.0f || r2[i] < 0.0f) return QUANT_ERANGE;
    for (i = 0; i < channels; i++) {
        double a = r1[i], b = r2[i], v;
        if (a == 0.0 || b == 0.0) { s[i] = 1.0f; continue; }
        v = sqrt(a * b) / b;
        v = v < lo ? lo : v > hi ? hi : v;
        s[i] = (float)v;
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_cle_scales(const float *w1, const size_t *shape1, int ndim1, int axis1,
        const float *w2, const size_t *shape2, int ndim2, int axis2, float *s) {
    size_t o1, c1, i1, o2, c2, i2, i;
    quant_status st;
    float r1[256], r2[256];
    if (!s) return QUANT_EINVAL;
    if ((st = quant__ptq_split(w1, shape1, ndim1, axis1, &o1, &c1, &i1)) != QUANT_OK) return st;
    if ((st = quant__ptq_split(w2, shape2, ndim2, axis2, &o2, &c2, &i2)) != QUANT_OK) return st;
    if (c1 != c2) return QUANT_EINVAL;
    if (!quant__all_finite(w1, o1 * c1 * i1) || !quant__all_finite(w2, o2 * c2 * i2)) return QUANT_ERANGE;
    /* channel blocks of 256 ranges on the stack: no allocation */
    for (i = 0; i < c1; i += 256) {
        size_t n = c1 - i < 256 ? c1 - i : 256, o, c, t;
        for (c = 0; c < n; c++) r1[c] = r2[c] = 0.0f;
        for (o = 0; o < o1; o++)
            for (c = 0; c < n; c++) {
                const float *p = w1 + (o * c1 + i + c) * i1;
                for (t = 0; t < i1; t++) if (fabsf(p[t]) > r1[c]) r1[c] = fabsf(p[t]);
            }
        for (o = 0; o < o2; o++)
            for (c = 0; c < n; c++) {
                const float *p = w2 + (o * c2 + i + c) * i2;
                for (t = 0; t < i2; t++) if (fabsf(p[t]) > r2[c]) r2[c] = fabsf(p[t]);
            }
        if ((st = quant_cle_scales_from_ranges(r1, r2, n, s + i)) != QUANT_OK) return st;
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_cle_apply(float *w1, const size_t *shape1, int ndim1, int axis1, float *b1,
        float *w2, const size_t *shape2, int ndim2, int axis2, const float *s) {
    size_t o1, c1, i1, o2, c2, i2, o, c, t;
    quant_status st;
    if (!s) return QUANT_EINVAL;
    if ((st = quant__ptq_split(w1, shape1, ndim1, axis1, &o1, &c1, &i1)) != QUANT_OK) return st;
    if ((st = quant__ptq_split(w2, shape2, ndim2, axis2, &o2, &c2, &i2)) != QUANT_OK) return st;
    if (c1 != c2) return QUANT_EINVAL;
    for (c = 0; c < c1; c++) if (!(s[c] >= FLT_MIN && s[c] <= FLT_MAX)) return QUANT_ESCALE;
    /* a dry run first: nothing changes unless every result is finite */
    for (o = 0; o < o1; o++)
        for (c = 0; c < c1; c++)
            for (t = 0; t < i1; t++)
                if (!quant__isfinite(quant__f32(w1[(o * c1 + c) * i1 + t] / s[c]))) return QUANT_ERANGE;
    if (b1) for (c = 0; c < c1; c++) if (!quant__isfinite(quant__f32(b1[c] / s[c]))) return QUANT_ERANGE;
    for (o = 0; o < o2; o++)
        for (c = 0; c < c2; c++)
            for (t = 0; t < i2; t++)
                if (!quant__isfinite(quant__f32(w2[(o * c2 + c) * i2 + t] * s[c]))) return QUANT_ERANGE;
    for (o = 0; o < o1; o++)
        for (c = 0; c < c1; c++)
            for (t = 0; t < i1; t++) w1[(o * c1 + c) * i1 + t] = w1[(o * c1 + c) * i1 + t] / s[c];
    if (b1) for (c = 0; c < c1; c++) b1[c] = b1[c] / s[c];
    for (o = 0; o < o2; o++)
        for (c = 0; c < c2; c++)
            for (t = 0; t < i2; t++) w2[(o * c2 + c) * i2 + t] = w2[(o * c2 + c) * i2 + t] * s[c];
    return QUANT_OK;
}

QUANT_DEF quant_status quant_bias_correct(const float *w, const float *wq, const size_t *shape, int ndim,
        int out_axis, int in_axis, const float *ex, float *bias) {
    size_t oo, oc, oi, io, ic, ii, total, e;
    quant_status st;
    if (!wq || !ex || !bias) return QUANT_EINVAL;
    if ((st = quant__ptq_split(w, shape, ndim, out_axis, &oo, &oc, &oi)) != QUANT_OK) return st;
    if ((st = quant__ptq_split(w, shape, ndim, in_axis, &io, &ic, &ii)) != QUANT_OK) return st;
    total = oo * oc * oi;
    if (!quant__all_finite(w, total) || !quant__all_finite(wq, total) || !quant__all_finite(ex, ic) ||
        !quant__all_finite(bias, oc)) return QUANT_ERANGE;
    {
        /* per output channel in blocks of 256 (no allocation) */
        double acc[256];
        size_t c0, c;
        for (c0 = 0; c0 < oc; c0 += 256) {
            size_t n = oc - c0 < 256 ? oc - c0 : 256;
            for (c = 0; c < n; c++) acc[c] = 0.0;
            for (e = 0; e < total; e++) {
                size_t co = (e / oi) % oc, ci;
                if (co < c0 || co >= c0 + n) continue;
                ci = (e / ii) % ic;
                acc[co - c0] += ((double)wq[e] - (double)w[e]) * (double)ex[ci];
            }
            for (c = 0; c < n; c++)
                if (!quant__isfinite((float)((double)bias[c0 + c] - acc[c]))) return QUANT_ERANGE;
        }
        for (c0 = 0; c0 < oc; c0 += 256) {
            size_t n = oc - c0 < 256 ? oc - c0 : 256;
            for (c = 0; c < n; c++) acc[c] = 0.0;
            for (e = 0; e < total; e++) {
                size_t co = (e / oi) % oc, ci;
                if (co < c0 || co >= c0 + n) continue;
                ci = (e / ii) % ic;
                acc[co - c0] += ((double)wq[e] - (double)w[e]) * (double)ex[ci];
            }
            for (c = 0; c < n; c++) bias[c0 + c] = (float)((double)bias[c0 + c] - acc[c]);
        }
    }
    return QUANT_OK;
}

QUANT__INTERNAL double quant__phi(double x) { return 0.39894228040143267794 * exp(-0.5 * x * x); }
QUANT__INTERNAL double quant__Phi(double x) { return 0.5 * erfc(-x * 0.70710678118654752440); }

QUANT_DEF quant_status quant_expected_clipped_normal(const float *mu, const float *sigma, size_t n,
        float lo, float hi, float *ex) {
    size_t i;
    if (!mu || !sigma || !ex || !n) return QUANT_EINVAL;
    if (quant__isnan(lo) || quant__isnan(hi) || !(lo < hi) || lo == INFINITY || hi == -INFINITY) return QUANT_EINVAL;
    for (i = 0; i < n; i++)
        if (!quant__isfinite(mu[i]) || !quant__isfinite(sigma[i]) || sigma[i] < 0.0f) return QUANT_ERANGE;
    for (i = 0; i < n; i++) {
        double m = mu[i], sd = sigma[i], e;
        if (sd == 0.0) e = m < lo ? (double)lo : m > hi ? (double)hi : m;
        else {
            double pa = 0.0, pb = 1.0, da = 0.0, db = 0.0;
            e = 0.0;
            if (quant__isfinite(lo)) {
                double a = ((double)lo - m) / sd;
                pa = quant__Phi(a); da = quant__phi(a);
                e += (double)lo * pa;
            }
            if (quant__isfinite(hi)) {
                double b = ((double)hi - m) / sd;
                pb = quant__Phi(b); db = quant__phi(b);
                e += (double)hi * (1.0 - pb);
            }
            e += m * (pb - pa) + sd * (da - db);
            if (e < lo) e = lo; /* rounding at the far tails */
            if (e > hi) e = hi;
        }
        ex[i] = (float)e;
    }
    return QUANT_OK;
}

/* H += 2 X^T X, upper triangle, then mirrored. Rows are taken in blocks of
 * QUANT__HB: for each i the block's rows with x[r][i] != 0 (ReLU inputs are
 * mostly zeros) are gathered, and each element of H's row i is loaded once
 * for up to four of them, adding their products in row order: the same
 * additions in the same order as one row at a time, so the same bits, with
 * a quarter of the passes over H. */
#define QUANT__HB 64
QUANT_DEF quant_status quant_gptq_hessian_add(double *H, size_t K, const float *x, size_t rows, size_t ldx) {
    size_t r0, r, i, j;
    if (!H || !x || !K || ldx < K) return QUANT_EINVAL;
    if (!quant__mul_ok(K, K) || !quant__span_ok(K, K, sizeof(double)) || !quant__span_ok(rows, ldx, sizeof(float)))
        return QUANT_EOVERFLOW;
    for (r = 0; r < rows; r++) if (!quant__all_finite(x + r * ldx, K)) return QUANT_ERANGE;
    for (r0 = 0; r0 < rows; r0 += QUANT__HB) {
        const size_t nr = rows - r0 < QUANT__HB ? rows - r0 : QUANT__HB;
        for (i = 0; i < K; i++) {
            double c[QUANT__HB], *h = H + i * K;
            const float *p[QUANT__HB];
            size_t m = 0, t = 0;
            for (r = 0; r < nr; r++) {
                const float *xr = x + (r0 + r) * ldx;
                if (xr[i] != 0.0f) { c[m] = 2.0 * (double)xr[i]; p[m++] = xr; }
            }
            for (; t + 4 <= m; t += 4) {
                const double c0 = c[t], c1 = c[t + 1], c2 = c[t + 2], c3 = c[t + 3];
                const float *x0 = p[t], *x1 = p[t + 1], *x2 = p[t + 2], *x3 = p[t + 3];
                /* in runs of 8 through a local copy (a shape gcc vectorizes
                 * at -O2, where it will not check h against the rows) */
                for (j = i; j + 8 <= K; j += 8) {
                    double v[8];
                    size_t u;
                    for (u = 0; u < 8; u++) v[u] = h[j + u];
                    for (u = 0; u < 8; u++)
                        v[u] = (((v[u] + c0 * (double)x0[j + u]) + c1 * (double)x1[j + u]) + c2 * (double)x2[j + u])
                             + c3 * (double)x3[j + u];
                    for (u = 0; u < 8; u++) h[j + u] = v[u];
                }
                for (; j < K; j++)
                    h[j] = (((h[j] + c0 * (double)x0[j]) + c1 * (double)x1[j]) + c2 * (double)x2[j]) + c3 * (double)x3[j];
            }
            for (; t < m; t++) {
                const double c0 = c[t];
                const float *x0 = p[t];
                for (j = i; j < K; j++) h[j] += c0 * (double)x0[j];
            }
        }
    }
    for (i = 0; i < K; i++) for (j = i + 1; j < K; j++) H[j * K + i] = H[i * K + j];
    return QUANT_OK;
}
#undef QUANT__HB

QUANT_DEF void quant_gptq_opts_default(quant_gptq_opts *opts, int bits) {
    if (!opts) return;
    if (bits < 2 || bits > 8) bits = 8;
    opts->qmin = bits == 8 ? -127 : -(int32_t)(1 << (bits - 1));
    opts->qmax = (int32_t)(1 << (bits - 1)) - 1;
    opts->group = 0;
    opts->damp = 0.01;
    opts->scales_given = 0;
    opts->act_order = 0;
}

/* workspace: K * K doubles (H, then R, then U), K doubles (the row being
 * quantized), K doubles (a row of sums), K size_t (the column order) */
/* rows of the factorizations handled together: each pass over the rows
 * already done serves a block of this many (the memory traffic of both
 * O(K^3) loops falls by this factor) */
#define QUANT__GPTQ_B 64
/* weight rows quantized together (at most QUANT__GPTQ_B: they live in D) */
#define QUANT__GPTQ_G 16
QUANT_DEF size_t quant_gptq_workspace_size(size_t K) {
    size_t d;
    if (!K || !quant__mul_ok(K, K) || K * K > SIZE_MAX / sizeof(double) - (2 + QUANT__GPTQ_B) * K) return 0;
    d = (K * K + (2 + QUANT__GPTQ_B) * K) * sizeof(double);
    if (K > (SIZE_MAX - d) / sizeof(size_t)) return 0;
    return d + K * sizeof(size_t);
}

/* sum of a[k] b[k] in sixteen interleaved partial sums (s[t] takes the
 * k = t mod 16), added in a fixed tree: the same bits on every compiler and
 * ISA (no reassociation is left to the compiler), and enough independent
 * chains for the adds' latency to hide behind the loads */
QUANT__INTERNAL double quant__dotd(const double *a, const double *b, size_t n) {
    double s[16] = { 0.0 };
    size_t k = 0, t;
    for (; k + 16 <= n; k += 16)
        for (t = 0; t < 16; t++) s[t] += a[k + t] * b[k + t];
    for (t = 0; k < n; k++, t++) s[t] += a[k] * b[k];
    for (t = 0; t < 8; t++) s[t] += s[t + 8];
    return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

/* y[k] += a x[k], four at a time (each element on its own: the same bits
 * in any order; the unrolled form lets the compiler pair them in vectors) */
QUANT__INTERNAL void quant__axpyd(double *y, double a, const double *x, size_t n) {
    size_t k = 0;
    for (; k + 4 <= n; k += 4) {
        double y0 = y[k] + a * x[k], y1 = y[k + 1] + a * x[k + 1];
        double y2 = y[k + 2] + a * x[k + 2], y3 = y[k + 3] + a * x[k + 3];
        y[k] = y0; y[k + 1] = y1; y[k + 2] = y2; y[k + 3] = y3;
    }
    for (; k < n; k++) y[k] += a * x[k];
}

QUANT_DEF quant_status quant_gptq(const float *w, size_t N, size_t K, const double *H,
        const quant_gptq_opts *opts, int8_t *q, float *scales, void *ws, size_t ws_bytes) {
    size_t need = quant_gptq_workspace_size(K), group, nb, i, j, k, n, n0, p, J, J0;
    double *A, *row, *dg, *D, mean = 0.0, lambda;
    size_t *perm;
    if (!w || !H || !opts || !q || !scales || !ws || !N || !K) return QUANT_EINVAL;
    if (!need || !quant__mul_ok(N, K)) return QUANT_EOVERFLOW;
    if (ws_bytes < need || ((uintptr_t)ws % sizeof(double)) != 0) return QUANT_EINVAL;
    if (opts->qmin >= 0 || opts->qmax <= 0 || opts->qmin < -128 || opts->qmax > 127) return QUANT_EINVAL;
    if (!(opts->damp >= 0.0 && opts->damp <= 1e300)) return QUANT_EINVAL;
    group = opts->group == 0 || opts->group > K ? K : opts->group;
    nb = (K + group - 1) / group;
    if (!quant__mul_ok(N, nb)) return QUANT_EOVERFLOW;
    if (!quant__all_finite(w, N * K)) return QUANT_ERANGE;
    for (i = 0; i < K * K; i++) if (!(H[i] >= -DBL_MAX && H[i] <= DBL_MAX)) return QUANT_ERANGE;
    for (i = 0; i < K; i++) if (H[i * K + i] < 0.0) return QUANT_ERANGE;
    if (opts->scales_given)
        for (i = 0; i < N * nb; i++) if (!(scales[i] >= 0.0f && scales[i] <= FLT_MAX)) return QUANT_ESCALE;

    A = (double *)ws; row = A + K * K; dg = row + K; D = dg + K; perm = (size_t *)(void *)(D + QUANT__GPTQ_B * K);
    /* column order: act_order sorts by decreasing diag(H), stable (insertion) */
    for (i = 0; i < K; i++) perm[i] = i;
    if (opts->act_order)
        for (i = 1; i < K; i++) {
            size_t v = perm[i];
            for (j = i; j > 0 && H[perm[j - 1] * K + perm[j - 1]] < H[v * K + v]; j--) perm[j] = perm[j - 1];
            perm[j] = v;
        }
    for (i = 0; i < K; i++) for (j = 0; j < K; j++) A[i * K + j] = H[perm[i] * K + perm[j]];
    for (i = 0; i < K; i++) { if (A[i * K + i] == 0.0) A[i * K + i] = 1.0; mean += A[i * K + i]; }
    lambda = opts->damp * (mean / (double)K);
    for (i = 0; i < K; i++) A[i * K + i] += lambda;
    /* H = R R^T with R upper triangular (Cholesky from the last row up, in
     * the upper triangle), then U = R^-1: H^-1 = R^-T R^-1 = U^T U, so U is
     * the upper Cholesky factor of H^-1 without forming H^-1 */
    for (j = 0; j < K; j++) row[j] = A[j * K + j];
    /* in blocks of columns [J0, J) from the right: first the block's own
     * rows (each dot over all of the row's tail), then every row above it:
     * its dots with the block's rows over [J, K) in one pass over the row
     * (S), plus the part inside the block */
    for (J = K; J > 0; J = J0) {
        J0 = J > QUANT__GPTQ_B ? J - QUANT__GPTQ_B : 0;
        for (j = J; j-- > J0;) {
            const double *rj = A + j * K;
            double d = A[j * K + j] - quant__dotd(rj + j + 1, rj + j + 1, K - j - 1);
            /* a pivot lost to rounding: H is singular to working precision */
            if (!(d > 1e-10 * row[j]) || !(d <= DBL_MAX)) return QUANT_ERANGE;
            d = sqrt(d);
            A[j * K + j] = d;
            for (i = J0; i < j; i++) {
                double *ri = A + i * K;
                ri[j] = (ri[j] - quant__dotd(ri + j + 1, rj + j + 1, K - j - 1)) / d;
            }
        }
        for (i = 0; i < J0; i++) {
            double *ri = A + i * K, S[QUANT__GPTQ_B];
            for (j = J0; j < J; j++) S[j - J0] = quant__dotd(ri + J, A + j * K + J, K - J);
            for (j = J; j-- > J0;) {
                const double *rj = A + j * K;
                ri[j] = (ri[j] - (S[j - J0] + quant__dotd(ri + j + 1, rj + j + 1, J - j - 1))) / rj[j];
            }
        }
    }
    /* U = R^-1 row by row from the last: U[i][i] = 1 / R[i][i], and
     * U[i][i+1..] = -(1 / R[i][i]) sum_{k > i} R[i][k] U[k][i+1..]; in
     * blocks of rows [J0, J): the sums over the rows k >= J, done first,
     * read each such row once for the whole block (into D, a row each) */
    for (J = K; J > 0; J = J0) {
        J0 = J > QUANT__GPTQ_B ? J - QUANT__GPTQ_B : 0;
        for (i = J0; i < J; i++) for (j = i + 1; j < K; j++) D[(i - J0) * K + j] = 0.0;
        for (k = J; k < K; k++) {
            const double *uk = A + k * K;
            for (i = J0; i < J; i++) {
                const double f = A[i * K + k];
                if (f != 0.0) quant__axpyd(D + (i - J0) * K + k, f, uk + k, K - k);
            }
        }
        for (i = J; i-- > J0;) {
            double *ri = A + i * K, *di = D + (i - J0) * K, inv = 1.0 / ri[i];
            for (k = i + 1; k < J; k++) {
                const double f = ri[k];
                if (f != 0.0) quant__axpyd(di + k, f, A + k * K + k, K - k);
            }
            ri[i] = inv;
            for (j = i + 1; j < K; j++) ri[j] = -inv * di[j];
        }
    }
    /* nothing can fail from here: write the outputs */
    if (!opts->scales_given)
        for (n = 0; n < N; n++)
            for (i = 0; i < nb; i++) {
                const float *g = w + n * K + i * group;
                size_t len = K - i * group < group ? K - i * group : group;
                float am = 0.0f, s;
                for (k = 0; k < len; k++) if (fabsf(g[k]) > am) am = fabsf(g[k]);
                s = quant__f32(am / (float)opts->qmax);
                scales[n * nb + i] = s >= FLT_MIN ? s : 0.0f;
            }
    /* rows in groups of up to QUANT__GPTQ_G (held in D, free now): each row
     * is done exactly as alone, column by column, but a row of U serves the
     * whole group while it is in cache */
    for (n0 = 0; n0 < N; n0 += QUANT__GPTQ_G) {
        const size_t ng = N - n0 < QUANT__GPTQ_G ? N - n0 : QUANT__GPTQ_G;
        for (n = 0; n < ng; n++) for (p = 0; p < K; p++) D[n * K + p] = (double)w[(n0 + n) * K + perm[p]];
        for (p = 0; p < K; p++) {
            const size_t col = perm[p];
            const double *u = A + p * K;
            for (n = 0; n < ng; n++) {
                double *r = D + n * K;
                const float s = scales[(n0 + n) * nb + col / group];
                float inv = s >= FLT_MIN ? quant__f32(1.0f / s) : 0.0f;
                int32_t c = inv > 0.0f && inv <= FLT_MAX ? quant_quantize1((float)r[p], inv, 0, opts->qmin, opts->qmax) : 0;
                double e = (r[p] - (double)c * (double)s) / u[p];
                q[(n0 + n) * K + col] = (int8_t)c;
                if (e != 0.0) quant__axpyd(r + p + 1, -e, u + p + 1, K - p - 1);
            }
        }
    }
    return QUANT_OK;
}
#undef QUANT__GPTQ_B
#undef QUANT__GPTQ_G

/* e[t] = w[j0 + t] - q[j0 + t] s (the scale of the column's group) */
QUANT__INTERNAL void quant__qerr_chunk(double *e, const float *w, const int8_t *q, const float *sr, size_t group,
        size_t j0, size_t len) {
    size_t t, b = j0 / group, bend = (b + 1) * group;
    double sc = (double)sr[b];
    for (t = 0; t < len; t++) {
        if (j0 + t == bend) { sc = (double)sr[++b]; bend += group; }
        e[t] = (double)w[j0 + t] - (double)q[j0 + t] * sc;
    }
}

/* sum over rows of d^T H d, d = w - q s: by symmetry each row is
 * sum_i d_i (H_ii d_i + 2 H[i, i+1..] . d[i+1..]), over tiles of
 * QUANT__TB columns so that d is rebuilt on the stack, never allocated.
 * Rows go in groups of QUANT__TG, each tile of H read once for the group
 * (H is K x K: one pass over it a row would stream it N times); each row's
 * sum is formed exactly as alone, and the rows are added in order. */
#define QUANT__TB 128
#define QUANT__TG 8
QUANT_DEF quant_status quant_hessian_error(const float *w, const int8_t *q, const float *scales, size_t N,
        size_t K, size_t group, const double *H, double *err) {
    size_t n0, g, ng, i, i0, j0, nb;
    double total = 0.0;
    if (!w || !q || !scales || !H || !err || !N || !K) return QUANT_EINVAL;
    if (!quant__mul_ok(N, K) || !quant__mul_ok(K, K)) return QUANT_EOVERFLOW;
    if (group == 0 || group > K) group = K;
    nb = (K + group - 1) / group;
    if (!quant__mul_ok(N, nb)) return QUANT_EOVERFLOW;
    for (n0 = 0; n0 < N; n0 += QUANT__TG) {
        double row[QUANT__TG];
        ng = N - n0 < QUANT__TG ? N - n0 : QUANT__TG;
        for (g = 0; g < ng; g++) row[g] = 0.0;
        for (i0 = 0; i0 < K; i0 += QUANT__TB) {
            double di[QUANT__TG][QUANT__TB], acc[QUANT__TG][QUANT__TB], e[QUANT__TG][QUANT__TB];
            const size_t li = K - i0 < QUANT__TB ? K - i0 : QUANT__TB;
            for (g = 0; g < ng; g++) {
                const size_t n = n0 + g;
                quant__qerr_chunk(di[g], w + n * K, q + n * K, scales + n * nb, group, i0, li);
                for (i = 0; i < li; i++) /* the diagonal tile: j > i inside it */
                    acc[g][i] = di[g][i] == 0.0 ? 0.0 : quant__dotd(H + (i0 + i) * K + i0 + i + 1, di[g] + i + 1, li - i - 1);
            }
            for (j0 = i0 + QUANT__TB; j0 < K; j0 += QUANT__TB) {
                const size_t lj = K - j0 < QUANT__TB ? K - j0 : QUANT__TB;
                for (g = 0; g < ng; g++) quant__qerr_chunk(e[g], w + (n0 + g) * K, q + (n0 + g) * K, scales + (n0 + g) * nb, group, j0, lj);
                for (i = 0; i < li; i++)
                    for (g = 0; g < ng; g++)
                        if (di[g][i] != 0.0) acc[g][i] += quant__dotd(H + (i0 + i) * K + j0, e[g], lj);
            }
            for (g = 0; g < ng; g++)
                for (i = 0; i < li; i++)
                    if (di[g][i] != 0.0) row[g] += di[g][i] * (H[(i0 + i) * K + i0 + i] * di[g][i] + 2.0 * acc[g][i]);
        }
        for (g = 0; g < ng; g++) total += row[g];
    }
    if (!(total >= -DBL_MAX && total <= DBL_MAX)) return QUANT_ERANGE;
    *err = total;
    return QUANT_OK;
}
#undef QUANT__TB
#undef QUANT__TG

#ifdef __cplusplus
}
#endif

#endif /* QUANT_IMPLEMENTATION_INCLUDED */
#endif /* QUANT_IMPLEMENTATION */
