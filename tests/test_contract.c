/* tests/test_contract.c - the bad-input contract (README, "Bad input"), one
 * test per row of its table, over the public entry points of quant.h and
 * quant_kernels.h listed in ENTRIES below:
 *   NULL for every required pointer        -> QUANT_EINVAL
 *   n = 0 / empty shapes                   -> QUANT_OK (nothing written)
 *   NaN / Inf in float data                -> QUANT_OK (documented meaning)
 *   scale 0, < 0, subnormal, NaN, Inf      -> QUANT_ESCALE
 *   qmin >= qmax                           -> QUANT_EINVAL
 *   a shape whose product overflows size_t -> QUANT_EOVERFLOW
 *   K past QUANT_GEMM_MAX_K                -> QUANT_ERANGE
 *   pointers off SIMD alignment (8, 24 mod 64: only the element type's
 *   natural alignment is required)         -> the same results as aligned
 * and in every refused call every output buffer keeps its sentinel bytes.
 * Malformed model files (the last row) are tests/test_runner.c's. */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include "harness.h"
#include <float.h>
#include <stdint.h>

#define NB 8
#define BUFSZ 131072
#define SENT 0xA5

/* Each argument buffer has a kind, one character in the entry's `kinds`:
 *   f float data   p quant_params   s scales (floats > 0)   z zero points
 *   b int8 codes   u uint8 codes    i int32 data   r quant_requant[]
 *   h shape[] (size_t)   w observer (MinMax, fed)   k packed GEMM weights
 *   e epilogue (int32 out)   4 int4-range int8   g bitplanes (uint64)
 *   c conv shape   d packed conv weights   o output
 * An upper-case kind is optional (NULL allowed). */
typedef struct ctx {
    unsigned char *a[NB];
    size_t n, rows, cols, K;
    int32_t qmin, qmax;
} ctx;
typedef quant_status (*callfn)(ctx *c);

enum { Z_OK = 1, NAN_OK = 2, SCALE = 4, RANGE = 8, OVER = 16, BIGK = 32, MISAL = 64, ZERO_WRITES = 128,
       CLAMP = 256,      /* the range is an output clamp [lo, hi]: lo == hi is valid, lo > hi is not */
       INF_ERANGE = 512  /* NaN is fine, an infinite value gives ERANGE */ };
typedef struct entry { const char *name; callfn fn; const char *kinds; unsigned flags; } entry;

#define A(i, T) ((T)(void *)c->a[i])

/* ---- quant.h ---- */
static quant_status e_dtype_range(ctx *c) { return quant_dtype_range(QUANT_I8, 0, A(0, int32_t *), A(1, int32_t *)); }
static quant_status e_params_from_range(ctx *c) { return quant_params_from_range(-1.0f, 2.0f, c->qmin, c->qmax, QUANT_AFFINE, A(0, quant_params *)); }
static quant_status e_params_check(ctx *c) { return quant_params_check(A(0, quant_params *)); }
static quant_status e_minmax(ctx *c) { return quant_minmax(A(0, float *), c->n, A(1, float *), A(2, float *)); }
static quant_status e_minmax_axis(ctx *c) { return quant_minmax_axis(A(0, float *), A(1, size_t *), 2, 1, A(2, float *), A(3, float *)); }
static quant_status e_params_pc(ctx *c) {
    size_t i;
    for (i = 0; c->a[0] && c->a[1] && i < 16; i++) if (A(0, float *)[i] > A(1, float *)[i]) A(1, float *)[i] = A(0, float *)[i];
    return quant_params_per_channel(A(0, float *), A(1, float *), c->n ? 16 : 0, c->qmin, c->qmax, QUANT_AFFINE, A(2, float *), A(3, int32_t *));
}
static quant_status e_params_pg(ctx *c) { return quant_params_per_group(A(0, float *), c->rows, c->cols, 8, c->qmin, c->qmax, QUANT_AFFINE, QUANT_SCALE_F32, A(1, float *), A(2, int32_t *)); }
static quant_status e_quantize(ctx *c) { return quant_quantize(A(0, float *), c->n, A(1, quant_params *), QUANT_I8, A(2, void *)); }
static quant_status e_quantize_i4(ctx *c) { return quant_quantize(A(0, float *), c->n, A(1, quant_params *), QUANT_I32, A(2, void *)); }
static quant_status e_dequantize(ctx *c) { return quant_dequantize(A(0, void *), QUANT_I8, c->n, A(1, quant_params *), A(2, float *)); }
static quant_status e_quantize_pc(ctx *c) { return quant_quantize_per_channel(A(0, float *), A(1, size_t *), 2, 1, A(2, float *), A(3, int32_t *), c->qmin, c->qmax, QUANT_I8, A(4, void *)); }
static quant_status e_dequantize_pc(ctx *c) { return quant_dequantize_per_channel(A(0, void *), QUANT_I8, A(1, size_t *), 2, 1, A(2, float *), A(3, int32_t *), A(4, float *)); }
static quant_status e_quantize_pg(ctx *c) { return quant_quantize_per_group(A(0, float *), c->rows, c->cols, 8, QUANT_SCALE_F32, A(1, float *), A(2, int32_t *), c->qmin, c->qmax, QUANT_I8, A(3, void *)); }
static quant_status e_dequantize_pg(ctx *c) { return quant_dequantize_per_group(A(0, void *), QUANT_I8, c->rows, c->cols, 8, QUANT_SCALE_F32, A(1, float *), A(2, int32_t *), A(3, float *)); }
static quant_status e_quantize_multiplier(ctx *c) { return quant_quantize_multiplier(0.3, A(0, int32_t *), A(1, int32_t *)); }
static quant_status e_requant_from_scale(ctx *c) { return quant_requant_from_scale(0.3, A(0, quant_requant *)); }
static quant_status e_activation_range(ctx *c) { return quant_activation_range(QUANT_ACT_RELU6, 0, 0, A(0, quant_params *), A(1, int32_t *), A(2, int32_t *)); }
static quant_status e_requantize(ctx *c) { return quant_requantize(A(0, int32_t *), c->rows, c->cols, A(1, int32_t *), A(2, quant_requant *), 1, QUANT_RQ_GEMMLOWP, 3, c->qmin, c->qmax, QUANT_I8, A(3, void *)); }
static quant_status e_dyadic(ctx *c) { return quant_dyadic_from_scale(0.3, 16, A(0, int32_t *), A(1, int32_t *)); }
static quant_status e_add_prepare(ctx *c) { return quant_add_prepare(A(0, quant_params *), A(1, quant_params *), A(2, quant_params *), QUANT_ACT_NONE, A(3, quant_add_params *)); }
static quant_status e_mul_prepare(ctx *c) { return quant_mul_prepare(A(0, quant_params *), A(1, quant_params *), A(2, quant_params *), QUANT_ACT_NONE, A(3, quant_mul_params *)); }
static quant_status e_add(ctx *c) {
    quant_add_params prm;
    quant_params p = { 0.05f, 3, -128, 127 };
    memset(&prm, 0, sizeof prm);
    quant_add_prepare(&p, &p, &p, QUANT_ACT_NONE, &prm);
    return quant_add(A(0, void *), A(1, void *), c->n, QUANT_I8, &prm, A(2, void *));
}
static quant_status e_mul(ctx *c) {
    quant_mul_params prm;
    quant_params p = { 0.05f, 3, -128, 127 };
    memset(&prm, 0, sizeof prm);
    quant_mul_prepare(&p, &p, &p, QUANT_ACT_NONE, &prm);
    return quant_mul(A(0, void *), A(1, void *), c->n, QUANT_I8, &prm, A(2, void *));
}
static quant_status e_requantize_params(ctx *c) { return quant_requantize_params(A(0, void *), QUANT_I8, A(1, quant_params *), c->n, A(2, quant_params *), QUANT_I8, A(3, void *)); }
static quant_status e_lut_build(ctx *c) { return quant_lut_build(A(0, quant_params *), A(1, quant_params *), QUANT_I8, quant_fn_tanh, NULL, A(2, uint8_t *)); }
static quant_status e_pow2_emin(ctx *c) { return quant_pow2_emin(A(0, float *), c->n, 4, A(1, int32_t *)); }
static quant_status e_pow2_quantize(ctx *c) { return quant_pow2_quantize(A(0, float *), c->n, 4, -6, A(1, int8_t *)); }
static quant_status e_dfp_frac(ctx *c) { return quant_dfp_frac_bits(A(0, float *), c->n, 8, A(1, int32_t *)); }
static quant_status e_dfp_quantize(ctx *c) { return quant_dfp_quantize(A(0, float *), c->n, 8, 4, QUANT_I8, A(1, void *)); }
static quant_status e_fake_quant(ctx *c) { return quant_fake_quant(A(0, float *), c->n, A(1, quant_params *), A(2, float *), A(3, uint8_t *)); }
static quant_status e_fake_quant_pc(ctx *c) { return quant_fake_quant_per_channel(A(0, float *), A(1, size_t *), 2, 1, A(2, float *), A(3, int32_t *), c->qmin, c->qmax, A(4, float *), A(5, uint8_t *)); }
static quant_status e_lsq(ctx *c) { return quant_lsq_backward(A(0, float *), A(1, float *), c->n, A(2, quant_params *), 0, A(3, float *), A(4, float *)); }
static quant_status e_obs_update(ctx *c) { return quant_observer_update(A(0, quant_observer *), A(1, float *), c->n); }
static quant_status e_obs_params(ctx *c) { return quant_observer_params(A(0, quant_observer *), c->qmin, c->qmax, QUANT_AFFINE, A(1, quant_params *)); }
static quant_status e_obs_range(ctx *c) { return quant_observer_range(A(0, quant_observer *), QUANT_AFFINE, c->qmin, c->qmax, A(1, float *), A(2, float *)); }
static quant_status e_pack(ctx *c) { return quant_pack(A(0, int8_t *), c->n, QUANT_I4, A(1, uint8_t *)); }
static quant_status e_unpack(ctx *c) { return quant_unpack(A(0, uint8_t *), c->n, QUANT_I4, A(1, int8_t *)); }
static quant_status e_q8(ctx *c) { return quant_block_q8_quantize(A(0, float *), c->n / 32 * 32, A(1, quant_block_q8 *)); }
static quant_status e_q4(ctx *c) { return quant_block_q4_quantize(A(0, float *), c->n / 32 * 32, A(1, quant_block_q4 *)); }
static quant_status e_pack_binary(ctx *c) { return quant_pack_binary(A(0, float *), c->rows, c->cols, A(1, uint64_t *)); }
static quant_status e_pack_ternary(ctx *c) { return quant_pack_ternary(A(0, float *), c->rows, c->cols, 0.5f, A(1, uint64_t *), A(2, uint64_t *)); }
static quant_status e_binarize(ctx *c) { return quant_binarize(A(0, float *), c->rows, c->cols, A(1, float *), A(2, uint64_t *)); }
static quant_status e_ternarize(ctx *c) { return quant_ternarize(A(0, float *), c->rows, c->cols, A(1, float *), A(2, float *), A(3, uint64_t *), A(4, uint64_t *)); }
static quant_status e_ste(ctx *c) { return quant_ste_backward(A(0, float *), A(1, float *), c->n, 1.0f, A(2, float *)); }
static quant_status e_pack_binary_q(ctx *c) { return quant_pack_binary_q(A(0, void *), 1, c->rows, c->cols, 0, A(1, uint64_t *)); }
static quant_status e_ref_gemm(ctx *c) {
    return quant_ref_gemm(c->rows, 16, c->K, A(0, void *), 0, c->K, 3, A(1, int8_t *), 16, 0, A(2, quant_epilogue *), A(3, void *), 16);
}
static quant_status e_conv_out_size(ctx *c) { return quant_conv_out_size(A(0, quant_conv_shape *), A(1, size_t *), A(2, size_t *)); }
static quant_status e_ref_conv2d(ctx *c) { return quant_ref_conv2d(A(0, quant_conv_shape *), A(1, void *), 0, 3, A(2, int8_t *), 0, A(3, quant_epilogue *), A(4, void *)); }
static quant_status e_vq_encode(ctx *c) { return quant_vq_encode(A(0, float *), 4, 4, A(1, float *), c->n / 4, QUANT_METRIC_L2, A(2, uint32_t *), A(3, float *)); }
static quant_status e_codebook_encode(ctx *c) {
    static const float cb[4] = { -1, 0, 1, 2 };
    return quant_codebook_encode(A(0, float *), c->n, cb, 4, 4, A(1, uint8_t *));
}
/* ---- quant_kernels.h ---- */
static quant_status e_gemm_pack(ctx *c) { return quant_gemm_pack(A(0, int8_t *), QUANT_LAYOUT_KN, c->K, 16, 0, A(1, void *), BUFSZ - 64); }
static quant_status e_gemm(ctx *c) { return quant_gemm(c->rows, A(0, void *), 0, 64, 3, A(1, void *), A(2, quant_epilogue *), A(3, void *), 16); }
static quant_status e_gemm_tile(ctx *c) { return quant_gemm_tile(c->rows, A(0, void *), 0, 64, 3, A(1, void *), A(2, quant_epilogue *), A(3, void *), 16, 0, c->rows, 0, 16); }
static quant_status e_rows_quantize(ctx *c) { return quant_rows_quantize(A(0, float *), c->rows, c->cols, c->cols, QUANT_PER_ROW, A(1, float *), A(2, int32_t *), c->qmin, c->qmax, QUANT_I8, A(3, void *), c->cols); }
static quant_status e_rows_dynamic(ctx *c) { return quant_rows_quantize_dynamic(A(0, float *), c->rows, c->cols, c->cols, QUANT_AFFINE, c->qmin, c->qmax, QUANT_I8, A(1, void *), c->cols, A(2, float *), A(3, int32_t *)); }
static quant_status e_rows_dequantize(ctx *c) { return quant_rows_dequantize(A(0, void *), QUANT_I8, c->rows, c->cols, c->cols, QUANT_PER_ROW, A(1, float *), A(2, int32_t *), A(3, float *), c->cols); }
static quant_status e_rows_requantize(ctx *c) { return quant_rows_requantize(A(0, int32_t *), c->rows, c->cols, A(1, int32_t *), A(2, quant_requant *), 1, QUANT_RQ_GEMMLOWP, 3, c->qmin, c->qmax, QUANT_I8, A(3, void *)); }
static quant_status e_conv2d_pack(ctx *c) { return quant_conv2d_pack(A(1, int8_t *), A(0, quant_conv_shape *), 0, A(2, void *), BUFSZ - 64); }
static quant_status e_conv2d(ctx *c) {
    return quant_conv2d(A(0, quant_conv_shape *), A(1, void *), 0, 3, A(2, void *), A(3, quant_epilogue *), A(4, void *), A(5, void *), BUFSZ - 64);
}
static quant_status e_bgemm_pack(ctx *c) { return quant_bgemm_pack(A(0, uint64_t *), NULL, 8, c->K, A(1, void *), BUFSZ - 64); }

#define E(fn, kinds, flags) { #fn, e_##fn, kinds, flags }
static const entry ENTRIES[] = {
    E(dtype_range, "oo", 0),
    E(params_from_range, "o", RANGE),
    E(params_check, "p", SCALE | RANGE),
    E(minmax, "foo", Z_OK | NAN_OK | MISAL | ZERO_WRITES),
    E(minmax_axis, "fhoo", NAN_OK | MISAL | OVER),
    E(params_pc, "ffoo", Z_OK | RANGE | MISAL),
    E(params_pg, "foo", Z_OK | NAN_OK | RANGE | MISAL | OVER),
    E(quantize, "fpo", Z_OK | NAN_OK | SCALE | RANGE | MISAL),
    E(quantize_i4, "fpo", Z_OK | NAN_OK | SCALE | RANGE | MISAL),
    E(dequantize, "bpo", Z_OK | SCALE | RANGE | MISAL),
    E(quantize_pc, "fhszo", NAN_OK | SCALE | RANGE | MISAL | OVER),
    E(dequantize_pc, "bhszo", SCALE | MISAL | OVER),
    E(quantize_pg, "fsZo", Z_OK | NAN_OK | SCALE | RANGE | MISAL | OVER),
    E(dequantize_pg, "bsZo", Z_OK | SCALE | MISAL | OVER),
    E(quantize_multiplier, "oo", 0),
    E(requant_from_scale, "o", 0),
    E(activation_range, "poo", SCALE | RANGE),
    E(requantize, "iIro", Z_OK | RANGE | CLAMP | MISAL | OVER),
    E(dyadic, "oo", 0),
    E(add_prepare, "pppo", SCALE | RANGE),
    E(mul_prepare, "pppo", SCALE | RANGE),
    E(add, "bbo", Z_OK | MISAL),
    E(mul, "bbo", Z_OK | MISAL),
    E(requantize_params, "bppo", Z_OK | SCALE | RANGE | MISAL),
    E(lut_build, "ppo", SCALE | RANGE),
    E(pow2_emin, "fo", Z_OK | NAN_OK | MISAL | ZERO_WRITES),
    E(pow2_quantize, "fo", Z_OK | NAN_OK | MISAL),
    E(dfp_frac, "fo", Z_OK | NAN_OK | MISAL | ZERO_WRITES),
    E(dfp_quantize, "fo", Z_OK | NAN_OK | MISAL),
    E(fake_quant, "fpoO", Z_OK | NAN_OK | SCALE | RANGE | MISAL),
    E(fake_quant_pc, "fhszoO", NAN_OK | SCALE | RANGE | MISAL | OVER),
    E(lsq, "ffpoo", Z_OK | NAN_OK | SCALE | RANGE | MISAL | ZERO_WRITES),
    E(obs_update, "wf", Z_OK | NAN_OK | MISAL),
    E(obs_params, "wo", RANGE),
    E(obs_range, "woo", RANGE),
    E(pack, "4o", Z_OK | MISAL),
    E(unpack, "uo", Z_OK | MISAL),
    E(q8, "fo", Z_OK | NAN_OK | MISAL),
    E(q4, "fo", Z_OK | NAN_OK | MISAL),
    E(pack_binary, "fo", Z_OK | NAN_OK | MISAL | OVER),
    E(pack_ternary, "foo", Z_OK | NAN_OK | MISAL | OVER),
    E(binarize, "fOo", Z_OK | NAN_OK | MISAL | OVER),
    E(ternarize, "fOOoo", Z_OK | NAN_OK | INF_ERANGE | MISAL | OVER),
    E(ste, "ffo", Z_OK | NAN_OK | MISAL),
    E(pack_binary_q, "bo", Z_OK | MISAL | OVER),
    E(ref_gemm, "ubeo", Z_OK | MISAL | BIGK | OVER),
    E(conv_out_size, "coo", 0),
    E(ref_conv2d, "cubeo", MISAL),
    E(vq_encode, "ffoO", Z_OK | MISAL),
    E(codebook_encode, "fo", Z_OK | MISAL),
    E(gemm_pack, "bo", MISAL | BIGK),
    E(gemm, "ukeo", Z_OK | MISAL | OVER),
    E(gemm_tile, "ukeo", Z_OK | MISAL | OVER),
    E(rows_quantize, "fsZo", Z_OK | NAN_OK | SCALE | RANGE | MISAL | OVER),
    E(rows_dynamic, "fooo", Z_OK | NAN_OK | RANGE | MISAL | OVER),
    E(rows_dequantize, "bsZo", Z_OK | SCALE | MISAL | OVER),
    E(rows_requantize, "iIro", Z_OK | RANGE | CLAMP | MISAL | OVER),
    E(conv2d_pack, "cbo", MISAL),
    E(conv2d, "cudeoo", MISAL),
    E(bgemm_pack, "go", MISAL),
};
#define NENT (sizeof ENTRIES / sizeof *ENTRIES)

static unsigned char *g_mem[NB];

/* fills the buffers for entry e, each at `off` bytes past a 64-byte boundary */
static void setup(const entry *e, ctx *c, size_t off) {
    size_t i, j, nk = strlen(e->kinds);
    memset(c, 0, sizeof *c);
    c->n = 64; c->rows = 4; c->cols = 16; c->K = 64; c->qmin = -128; c->qmax = 127;
    qt_seed_ = 12345;
    for (i = 0; i < nk && i < NB; i++) {
        unsigned char *b = g_mem[i] + off;
        c->a[i] = b;
        memset(b, SENT, BUFSZ);
        switch (e->kinds[i]) {
        case 'f': for (j = 0; j < 4096; j++) ((float *)(void *)b)[j] = (float)qt_normal() * 2.0f; break;
        case 'p': { quant_params p = { 0.05f, 3, -128, 127 }; memcpy(b, &p, sizeof p); } break;
        case 's': for (j = 0; j < 256; j++) ((float *)(void *)b)[j] = 0.05f + 0.001f * (float)j; break;
        case 'z': case 'Z': memset(b, 0, 1024); break;
        case 'b': for (j = 0; j < 8192; j++) b[j] = (unsigned char)(int8_t)((int)(qt_rand32() % 201) - 100); break;
        case 'u': for (j = 0; j < 8192; j++) b[j] = (unsigned char)qt_rand32(); break;
        case 'i': case 'I': for (j = 0; j < 4096; j++) ((int32_t *)(void *)b)[j] = (int32_t)(qt_rand32() % 2001) - 1000; break;
        case 'r': for (j = 0; j < 256; j++) quant_requant_from_scale(0.003 + 0.0001 * (double)j, &((quant_requant *)(void *)b)[j]); break;
        case 'h': ((size_t *)(void *)b)[0] = 4; ((size_t *)(void *)b)[1] = 16; break;
        case 'w': {
            quant_observer *o = (quant_observer *)(void *)b;
            float x[64];
            for (j = 0; j < 64; j++) x[j] = (float)qt_normal();
            quant_observer_init(o, QUANT_OBS_MINMAX);
            quant_observer_update(o, x, 64);
        } break;
        case '4': for (j = 0; j < 4096; j++) b[j] = (unsigned char)(int8_t)((int)(qt_rand32() % 16) - 8); break;
        case 'g': for (j = 0; j < 1024; j++) ((uint64_t *)(void *)b)[j] = qt_rand64(); break;
        case 'e': {
            quant_epilogue ep;
            memset(&ep, 0, sizeof ep);
            ep.out = QUANT_OUT_I32;
            memcpy(b, &ep, sizeof ep);
        } break;
        case 'c': {
            quant_conv_shape s;
            memset(&s, 0, sizeof s);
            s.batch = 1; s.in_h = 5; s.in_w = 6; s.in_c = 3; s.out_c = 16; s.k_h = 3; s.k_w = 3;
            s.stride_h = s.stride_w = s.dil_h = s.dil_w = 1; s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = 1;
            memcpy(b, &s, sizeof s);
        } break;
        case 'k': { /* packed 64 x 16 weights */
            int8_t w[64 * 16];
            for (j = 0; j < sizeof w; j++) w[j] = (int8_t)((int)(qt_rand32() % 255) - 127);
            if (quant_gemm_pack(w, QUANT_LAYOUT_KN, 64, 16, 0, b, BUFSZ - 64) != QUANT_OK) abort();
        } break;
        case 'd': { /* packed conv weights for the 'c' shape (buffer 0) */
            int8_t w[16 * 3 * 3 * 3];
            for (j = 0; j < sizeof w; j++) w[j] = (int8_t)((int)(qt_rand32() % 255) - 127);
            if (quant_conv2d_pack(w, (const quant_conv_shape *)(void *)c->a[0], 0, b, BUFSZ - 64) != QUANT_OK) abort();
        } break;
        default: break; /* 'o', 'O', ' ' (unused slot) */
        }
    }
}

static int is_out(char k) { return k == 'o' || k == 'O'; }

/* 1 if every output buffer of e still holds the sentinel */
static int untouched(const entry *e, const ctx *c) {
    size_t i, j, nk = strlen(e->kinds);
    for (i = 0; i < nk && i < NB; i++) {
        if (!is_out(e->kinds[i]) || !c->a[i]) continue;
        for (j = 0; j < 4096; j++) if (c->a[i][j] != SENT) return 0;
    }
    return 1;
}

static void test_valid_calls(void) { /* the baseline every row perturbs */
    size_t k;
    for (k = 0; k < NENT; k++) {
        ctx c;
        quant_status st;
        setup(&ENTRIES[k], &c, 0);
        st = ENTRIES[k].fn(&c);
        CHECKF(st == QUANT_OK, "%s: valid call gives %s", ENTRIES[k].name, quant_status_str(st));
    }
}

static void test_null(void) {
    size_t k, i;
    int cases = 0;
    for (k = 0; k < NENT; k++) {
        const entry *e = &ENTRIES[k];
        for (i = 0; i < strlen(e->kinds); i++) {
            ctx c;
            quant_status st;
            char kd = e->kinds[i];
            if (kd == ' ' || (kd >= 'A' && kd <= 'Z')) continue; /* unused or optional */
            setup(e, &c, 0);
            c.a[i] = NULL;
            st = e->fn(&c);
            CHECKF(st == QUANT_EINVAL, "%s: NULL argument %d gives %s", e->name, (int)i, quant_status_str(st));
            CHECKF(untouched(e, &c), "%s: NULL argument %d: output written", e->name, (int)i);
            cases++;
        }
    }
    if (getenv("QT_VERBOSE")) fprintf(stderr, "  NULL: %d cases\n", cases);
}

static void test_empty(void) {
    size_t k;
    for (k = 0; k < NENT; k++) {
        const entry *e = &ENTRIES[k];
        ctx c;
        quant_status st;
        if (!(e->flags & Z_OK)) continue;
        setup(e, &c, 0);
        c.n = 0; c.rows = 0;
        st = e->fn(&c);
        CHECKF(st == QUANT_OK || (st == QUANT_EEMPTY && !strcmp(e->name, "minmax")), "%s: n = 0 gives %s", e->name, quant_status_str(st));
        if (!(e->flags & ZERO_WRITES)) CHECKF(untouched(e, &c), "%s: n = 0 wrote its output", e->name);
    }
}

static void test_nan_inf_data(void) {
    size_t k, i;
    for (k = 0; k < NENT; k++) {
        const entry *e = &ENTRIES[k];
        ctx c;
        quant_status st;
        if (!(e->flags & NAN_OK)) continue;
        setup(e, &c, 0);
        for (i = 0; i < strlen(e->kinds); i++)
            if (e->kinds[i] == 'f') { float *x = (float *)(void *)c.a[i]; x[0] = NAN; x[1] = INFINITY; x[2] = -INFINITY; x[17] = NAN; }
        st = e->fn(&c);
        if (e->flags & INF_ERANGE) {
            CHECKF(st == QUANT_ERANGE && untouched(e, &c), "%s: Inf data gives %s", e->name, quant_status_str(st));
            setup(e, &c, 0);
            for (i = 0; i < strlen(e->kinds); i++) if (e->kinds[i] == 'f') { float *x = (float *)(void *)c.a[i]; x[0] = NAN; x[17] = NAN; }
            st = e->fn(&c);
        }
        CHECKF(st == QUANT_OK, "%s: NaN / Inf data gives %s", e->name, quant_status_str(st));
        if (!strcmp(e->name, "quantize")) { /* NaN -> zero point, +-Inf saturate */
            const int8_t *q = (const int8_t *)(void *)c.a[2];
            CHECK(q[0] == 3 && q[1] == 127 && q[2] == -128 && q[17] == 3);
        }
    }
}

static void test_bad_scale(void) {
    static const float bad[] = { 0.0f, -1.0f, -0.0f, 1e-40f, NAN, INFINITY, -INFINITY };
    size_t k, i, b;
    for (k = 0; k < NENT; k++) {
        const entry *e = &ENTRIES[k];
        if (!(e->flags & SCALE)) continue;
        for (b = 0; b < sizeof bad / sizeof *bad; b++) {
            ctx c;
            quant_status st;
            setup(e, &c, 0);
            for (i = 0; i < strlen(e->kinds); i++) {
                if (e->kinds[i] == 'p') ((quant_params *)(void *)c.a[i])->scale = bad[b];
                if (e->kinds[i] == 's') ((float *)(void *)c.a[i])[1] = bad[b];
            }
            st = e->fn(&c);
            CHECKF(st == QUANT_ESCALE, "%s: scale %g gives %s", e->name, bad[b], quant_status_str(st));
            CHECKF(untouched(e, &c), "%s: scale %g: output written", e->name, bad[b]);
        }
    }
}

static void test_bad_range(void) {
    size_t k, i, b;
    for (k = 0; k < NENT; k++) {
        const entry *e = &ENTRIES[k];
        if (!(e->flags & RANGE)) continue;
        for (b = 0; b < 2; b++) { /* qmin == qmax, qmin > qmax */
            ctx c;
            quant_status st;
            if (!b && (e->flags & CLAMP)) continue;
            setup(e, &c, 0);
            c.qmin = 5; c.qmax = b ? 4 : 5;
            for (i = 0; i < strlen(e->kinds); i++)
                if (e->kinds[i] == 'p') { quant_params *p = (quant_params *)(void *)c.a[i]; p->qmin = 5; p->qmax = b ? 4 : 5; p->zero_point = 5; }
            st = e->fn(&c);
            CHECKF(st == QUANT_EINVAL, "%s: qmin %d qmax %d gives %s", e->name, c.qmin, c.qmax, quant_status_str(st));
            CHECKF(untouched(e, &c), "%s: bad range: output written", e->name);
        }
    }
}

static void test_size_overflow(void) {
    size_t k, i;
    for (k = 0; k < NENT; k++) {
        const entry *e = &ENTRIES[k];
        ctx c;
        quant_status st;
        if (!(e->flags & OVER)) continue;
        setup(e, &c, 0);
        c.rows = SIZE_MAX / 2 + 3; c.cols = 16;
        for (i = 0; i < strlen(e->kinds); i++)
            if (e->kinds[i] == 'h') { ((size_t *)(void *)c.a[i])[0] = SIZE_MAX / 2 + 3; ((size_t *)(void *)c.a[i])[1] = 16; }
        st = e->fn(&c);
        CHECKF(st == QUANT_EOVERFLOW, "%s: overflowing shape gives %s", e->name, quant_status_str(st));
        CHECKF(untouched(e, &c), "%s: overflowing shape: output written", e->name);
    }
    /* the size queries say 0 */
    CHECK(quant_gemm_pack_size(SIZE_MAX / 2, SIZE_MAX / 2) == 0);
    CHECK(quant_bgemm_pack_size(SIZE_MAX / 2, SIZE_MAX / 2, 1) == 0);
    CHECK(quant_dtype_bytes(QUANT_I32, SIZE_MAX / 2) == 0);
    {
        quant_conv_shape s;
        size_t oh, ow;
        memset(&s, 0, sizeof s);
        s.batch = SIZE_MAX / 4; s.in_h = s.in_w = 64; s.in_c = 3; s.out_c = 8; s.k_h = s.k_w = 3;
        s.stride_h = s.stride_w = s.dil_h = s.dil_w = 1;
        CHECK(quant_conv_out_size(&s, &oh, &ow) == QUANT_EOVERFLOW);
        CHECK(quant_conv2d_pack_size(&s) == 0 && quant_conv2d_workspace_size(&s) == 0); /* an invalid shape sizes 0 */
    }
}

static void test_k_bound(void) {
    size_t k;
    for (k = 0; k < NENT; k++) {
        const entry *e = &ENTRIES[k];
        ctx c;
        quant_status st;
        if (!(e->flags & BIGK)) continue;
        setup(e, &c, 0);
        c.K = QUANT_GEMM_MAX_K + 1;
        st = e->fn(&c);
        CHECKF(st == QUANT_ERANGE, "%s: K = %d gives %s", e->name, QUANT_GEMM_MAX_K + 1, quant_status_str(st));
        CHECKF(untouched(e, &c), "%s: K past the bound: output written", e->name);
    }
    CHECK(quant_gemm_pack_size(QUANT_GEMM_MAX_K + 1, 16) == 0 && quant_gemm_pack_size(QUANT_GEMM_MAX_K, 16) > 0);
}

static void test_misaligned(void) {
    size_t k, i, off;
    static unsigned char keep[NB][4096];
    for (k = 0; k < NENT; k++) {
        const entry *e = &ENTRIES[k];
        ctx c;
        quant_status s0, s1;
        if (!(e->flags & MISAL)) continue;
        if (getenv("QT_VERBOSE")) fprintf(stderr, "  misaligned: %s\n", e->name);
        setup(e, &c, 0);
        s0 = e->fn(&c);
        for (i = 0; i < strlen(e->kinds) && i < NB; i++) memcpy(keep[i], c.a[i], 4096);
        for (off = 8; off < 32; off += 16) { /* element alignment kept, SIMD alignment (16 / 32 / 64) broken */
            setup(e, &c, off);
            s1 = e->fn(&c);
            CHECKF(s0 == QUANT_OK && s1 == QUANT_OK, "%s: misaligned by %d gives %s", e->name, (int)off, quant_status_str(s1));
            for (i = 0; i < strlen(e->kinds) && i < NB; i++)
                if (is_out(e->kinds[i])) CHECKF(!memcmp(keep[i], c.a[i], 4096), "%s: misaligned by %d: output %d differs", e->name, (int)off, (int)i);
        }
    }
}

/* the depthwise conv reads its packed weights as int32: a buffer off by 1..3
 * bytes is refused (pack and run), never read misaligned */
static void test_dwconv_packed_alignment(void) {
    static int32_t buf[1024];
    static int8_t w[3 * 3 * 8];
    static uint8_t in[2 * 6 * 6 * 8];
    static int32_t out[2 * 6 * 6 * 8];
    quant_conv_shape s;
    quant_epilogue ep;
    size_t bytes, off;
    memset(&s, 0, sizeof s);
    s.batch = 2; s.in_h = 6; s.in_w = 6; s.in_c = 8; s.out_c = 8; s.k_h = 3; s.k_w = 3;
    s.stride_h = s.stride_w = 1; s.dil_h = s.dil_w = 1; s.pad_top = s.pad_bottom = s.pad_left = s.pad_right = 1;
    memset(&ep, 0, sizeof ep); ep.out = QUANT_OUT_I32;
    bytes = quant_dwconv2d_pack_size(&s);
    CHECK(bytes > 0 && bytes + 4 <= sizeof buf);
    CHECK(quant_dwconv2d_pack(w, &s, 0, buf, bytes) == QUANT_OK);
    CHECK(quant_dwconv2d(&s, in, 0, 0, buf, &ep, out) == QUANT_OK);
    for (off = 1; off < 4; off++) {
        unsigned char *p = (unsigned char *)buf + off;
        CHECKF(quant_dwconv2d_pack(w, &s, 0, p, bytes) == QUANT_EINVAL, "pack at offset %d", (int)off);
        CHECKF(quant_dwconv2d(&s, in, 0, 0, p, &ep, out) == QUANT_EINVAL, "run at offset %d", (int)off);
    }
}

/* ---- issue 17, item 11: sizes derived from M, lda, ldc that overflow, on
 * every GEMM-shaped entry point, with tiny real buffers: QUANT_EOVERFLOW and
 * not a byte read or written (a wrapped M * lda would read out of bounds) */
static unsigned char g_small_a[256], g_small_c[1024];
static void small_reset(void) { memset(g_small_a, 7, sizeof g_small_a); memset(g_small_c, SENT, sizeof g_small_c); }
static int small_untouched(void) { size_t i; for (i = 0; i < sizeof g_small_c; i++) if (g_small_c[i] != SENT) return 0; return 1; }

static void test_gemm_size_overflow(void) {
    static unsigned char pk[65536];
    int8_t w[4 * 16];
    quant_epilogue ep;
    size_t i, big = SIZE_MAX / 2;
    quant_status st;
    for (i = 0; i < sizeof w; i++) w[i] = (int8_t)(i % 7) - 3;
    CHECK(quant_gemm_pack(w, QUANT_LAYOUT_KN, 4, 16, 0, pk, sizeof pk) == QUANT_OK);
    memset(&ep, 0, sizeof ep); ep.out = QUANT_OUT_I32;
    small_reset(); /* M * lda (4) wraps */
    st = quant_gemm(big, g_small_a, 0, 4, 0, pk, &ep, g_small_c, 16);
    CHECKF(st == QUANT_EOVERFLOW && small_untouched(), "gemm M = SIZE_MAX / 2: %s", quant_status_str(st));
    small_reset(); /* even a one-row tile of such a matrix */
    st = quant_gemm_tile(big, g_small_a, 0, 4, 0, pk, &ep, g_small_c, 16, 0, 1, 0, 16);
    CHECKF(st == QUANT_EOVERFLOW && small_untouched(), "gemm_tile: %s", quant_status_str(st));
    small_reset(); /* M * lda fits, M * ldc * 4 bytes does not */
    st = quant_gemm_tile(SIZE_MAX / 8, g_small_a, 0, 4, 0, pk, &ep, g_small_c, 16, 0, 1, 0, 16);
    CHECKF(st == QUANT_EOVERFLOW && small_untouched(), "gemm_tile, ldc bytes wrap: %s", quant_status_str(st));
    small_reset();
    st = quant_ref_gemm(SIZE_MAX / 8, 16, 4, g_small_a, 0, 4, 0, w, 16, 0, &ep, g_small_c, 16);
    CHECKF(st == QUANT_EOVERFLOW && small_untouched(), "ref_gemm, ldc bytes wrap: %s", quant_status_str(st));
    small_reset(); /* the same call with a sane M still works */
    CHECK(quant_gemm(2, g_small_a, 0, 4, 0, pk, &ep, g_small_c, 16) == QUANT_OK && !small_untouched());
}

static void test_q4_size_overflow(void) {
    static unsigned char pk[65536];
    int8_t w[16 * 32];
    float sc[16], as[2] = { 0.5f, 0.25f };
    quant_q4_epilogue ep;
    size_t i;
    quant_status st;
    for (i = 0; i < sizeof w; i++) w[i] = (int8_t)((int)(i % 16) - 8);
    for (i = 0; i < 16; i++) sc[i] = 0.01f * (float)(i + 1);
    CHECK(quant_gemm_q4_pack_size(32, 16) <= sizeof pk);
    CHECK(quant_gemm_q4_pack(w, sc, 32, 16, pk, sizeof pk) == QUANT_OK);
    memset(&ep, 0, sizeof ep); ep.out = QUANT_OUT_F32; ep.a_scale = as;
    small_reset();
    st = quant_gemm_q4(SIZE_MAX / 2, g_small_a, 0, 32, 0, pk, &ep, g_small_c, 16);
    CHECKF(st == QUANT_EOVERFLOW && small_untouched(), "gemm_q4 M = SIZE_MAX / 2: %s", quant_status_str(st));
    small_reset();
    st = quant_gemm_q4_tile(SIZE_MAX / 32, g_small_a, 0, 32, 0, pk, &ep, g_small_c, 16, 0, 1, 0, 16);
    CHECKF(st == QUANT_EOVERFLOW && small_untouched(), "gemm_q4_tile, ldc bytes wrap: %s", quant_status_str(st));
    small_reset();
    CHECK(quant_gemm_q4(2, g_small_a, 0, 32, 0, pk, &ep, g_small_c, 16) == QUANT_OK && !small_untouched());
}

static void test_bgemm_size_overflow(void) {
    static unsigned char pk[65536];
    uint64_t w[16 * 4];
    quant_bepilogue ep;
    size_t i;
    quant_status st;
    for (i = 0; i < 64; i++) w[i] = qt_rand64();
    CHECK(quant_bgemm_pack_size(256, 16, 0) <= sizeof pk);
    CHECK(quant_bgemm_pack(w, NULL, 16, 256, pk, sizeof pk) == QUANT_OK);
    memset(&ep, 0, sizeof ep); ep.out = QUANT_BOUT_I32;
    small_reset(); /* M * lda words * 8 bytes wraps */
    st = quant_bgemm(SIZE_MAX / 2, (const uint64_t *)(void *)g_small_a, NULL, 4, pk, &ep, g_small_c, 16);
    CHECKF(st == QUANT_EOVERFLOW && small_untouched(), "bgemm M = SIZE_MAX / 2: %s", quant_status_str(st));
    small_reset();
    st = quant_bgemm_tile(SIZE_MAX / 32, (const uint64_t *)(void *)g_small_a, NULL, 4, pk, &ep, g_small_c, 16, 0, 1);
    CHECKF(st == QUANT_EOVERFLOW && small_untouched(), "bgemm_tile, M * lda * 8 wraps: %s", quant_status_str(st));
    small_reset();
    st = quant_bgemm_i8(SIZE_MAX / 128, g_small_a, 0, 256, 0, pk, &ep, g_small_c, 16);
    CHECKF(st == QUANT_EOVERFLOW && small_untouched(), "bgemm_i8, M * lda wraps: %s", quant_status_str(st));
    small_reset();
    CHECK(quant_bgemm(2, (const uint64_t *)(void *)g_small_a, NULL, 4, pk, &ep, g_small_c, 16) == QUANT_OK && !small_untouched());
}

/* rows x cols fits in size_t but not rows x cols x 4 bytes (the old checks
 * multiplied elements, not bytes) */
static void test_rows_byte_overflow(void) {
    quant_requant rq;
    float x[64];
    quant_status st;
    size_t rows = SIZE_MAX / 8, i;
    for (i = 0; i < 64; i++) x[i] = (float)i;
    quant_requant_from_scale(0.01, &rq);
    small_reset();
    st = quant_rows_requantize((const int32_t *)(void *)g_small_a, rows, 4, NULL, &rq, 0, QUANT_RQ_GEMMLOWP, 0, -128, 127, QUANT_I8, g_small_c);
    CHECKF(st == QUANT_EOVERFLOW && small_untouched(), "rows_requantize: %s", quant_status_str(st));
    small_reset();
    st = quant_requantize((const int32_t *)(void *)g_small_a, rows, 4, NULL, &rq, 0, QUANT_RQ_GEMMLOWP, 0, -128, 127, QUANT_I8, g_small_c);
    CHECKF(st == QUANT_EOVERFLOW && small_untouched(), "requantize: %s", quant_status_str(st));
    small_reset();
    st = quant_pack_binary(x, rows, 4, (uint64_t *)(void *)g_small_c);
    CHECKF(st == QUANT_EOVERFLOW && small_untouched(), "pack_binary: %s", quant_status_str(st));
    small_reset(); /* K = 1: the floats fit, the bitplane rows (8 bytes each) do not */
    st = quant_pack_binary(x, SIZE_MAX / 6, 1, (uint64_t *)(void *)g_small_c);
    CHECKF(st == QUANT_EOVERFLOW && small_untouched(), "pack_binary, K = 1: %s", quant_status_str(st));
}

/* binary conv: input rows are whole words (8 bytes a pixel for in_c = 1)
 * where quant_conv_out_size bounds in_c bytes a pixel */
static void test_bconv_size_overflow(void) {
    static unsigned char pk[65536], ws[65536];
    quant_conv_shape s;
    quant_bepilogue ep;
    uint64_t w[8];
    size_t oh, ow, i;
    quant_status st;
    memset(&s, 0, sizeof s);
    s.batch = 1; s.in_h = s.in_w = 1; s.in_c = 1; s.out_c = 8; s.k_h = s.k_w = 1;
    s.stride_h = s.stride_w = s.dil_h = s.dil_w = 1;
    for (i = 0; i < 8; i++) w[i] = qt_rand64();
    CHECK(quant_bconv2d_pack_size(&s) <= sizeof pk && quant_bconv2d_pack(w, &s, pk, sizeof pk) == QUANT_OK);
    memset(&ep, 0, sizeof ep); ep.out = QUANT_BOUT_I32;
    s.out_c = 1; s.batch = SIZE_MAX / 6; /* batch x 4 output bytes and batch x 1 input bytes fit; batch x 8 does not */
    CHECK(quant_conv_out_size(&s, &oh, &ow) == QUANT_OK);
    CHECK(quant_bconv2d_pack_size(&s) == 0 && quant_bconv2d_workspace_size(&s) == 0);
    small_reset();
    st = quant_bconv2d(&s, (const uint64_t *)(void *)g_small_a, QUANT_PAD_ZERO, pk, &ep, g_small_c, ws, sizeof ws);
    CHECKF(st == QUANT_EOVERFLOW && small_untouched(), "bconv2d: %s", quant_status_str(st));
    small_reset();
    st = quant_bconv2d_pack(w, &s, g_small_c, sizeof g_small_c);
    CHECKF(st == QUANT_EOVERFLOW && small_untouched(), "bconv2d_pack: %s", quant_status_str(st));
    /* dwconv2d and the q4 conv go through quant_conv_out_size: the same status */
    s.batch = SIZE_MAX / 2; s.out_c = s.in_c = 4;
    {
        quant_epilogue e2; quant_q4_epilogue e4; float one = 1.0f;
        memset(&e2, 0, sizeof e2); memset(&e4, 0, sizeof e4); e4.out = QUANT_OUT_F32; e4.a_scale = &one;
        small_reset();
        CHECK(quant_dwconv2d(&s, g_small_a, 0, 0, pk, &e2, g_small_c) == QUANT_EOVERFLOW && small_untouched());
        CHECK(quant_dwconv2d_pack((const int8_t *)g_small_a, &s, 0, g_small_c, sizeof g_small_c) == QUANT_EOVERFLOW && small_untouched());
        CHECK(quant_conv2d_q4_tile(&s, g_small_a, 0, 0, pk, &e4, g_small_c, ws, sizeof ws, 0, 1) == QUANT_EOVERFLOW && small_untouched());
    }
}

/* ---- the F32 epilogue's scales: every row's a_scale and every column's
 * w_scale finite and > 0, else QUANT_ESCALE with nothing written */
static void test_epilogue_scales(void) {
    static unsigned char pk[65536], cpk[65536], ws[65536];
    static const float bad[] = { NAN, 0.0f, -1.0f, -0.0f, INFINITY, -INFINITY };
    int8_t w[4 * 16];
    float as[8], wsc[16];
    quant_epilogue ep;
    quant_conv_shape cs;
    size_t i, b, r;
    quant_status st;
    for (i = 0; i < sizeof w; i++) w[i] = (int8_t)(i % 5) - 2;
    for (i = 0; i < 16; i++) wsc[i] = 0.01f;
    CHECK(quant_gemm_pack(w, QUANT_LAYOUT_KN, 4, 16, 0, pk, sizeof pk) == QUANT_OK);
    memset(&cs, 0, sizeof cs); /* a 1x1 conv with K = 4, 16 outputs: 2 x 2 pixels */
    cs.batch = 1; cs.in_h = cs.in_w = 2; cs.in_c = 4; cs.out_c = 16; cs.k_h = cs.k_w = 1;
    cs.stride_h = cs.stride_w = cs.dil_h = cs.dil_w = 1;
    CHECK(quant_conv2d_pack(w, &cs, 0, cpk, sizeof cpk) == QUANT_OK);
    memset(&ep, 0, sizeof ep); ep.out = QUANT_OUT_F32; ep.a_scale = as; ep.w_scale = wsc;
    for (b = 0; b < sizeof bad / sizeof *bad; b++)
        for (r = 0; r < 4; r++) { /* the bad scale on row r of 4 */
            for (i = 0; i < 8; i++) as[i] = 0.5f;
            as[r] = bad[b];
            small_reset();
            st = quant_gemm(4, g_small_a, 0, 4, 0, pk, &ep, g_small_c, 16);
            CHECKF(st == QUANT_ESCALE && small_untouched(), "gemm a_scale[%d] = %g: %s", (int)r, bad[b], quant_status_str(st));
            small_reset();
            st = quant_gemm_tile(4, g_small_a, 0, 4, 0, pk, &ep, g_small_c, 16, r, r + 1, 0, 16);
            CHECKF(st == QUANT_ESCALE && small_untouched(), "gemm_tile row %d, a_scale %g: %s", (int)r, bad[b], quant_status_str(st));
            small_reset();
            st = quant_ref_gemm(4, 16, 4, g_small_a, 0, 4, 0, w, 16, 0, &ep, g_small_c, 16);
            CHECKF(st == QUANT_ESCALE && small_untouched(), "ref_gemm a_scale[%d] = %g: %s", (int)r, bad[b], quant_status_str(st));
            small_reset(); /* conv rows are output pixels */
            st = quant_conv2d(&cs, g_small_a, 0, 0, cpk, &ep, g_small_c, ws, sizeof ws);
            CHECKF(st == QUANT_ESCALE && small_untouched(), "conv2d a_scale[%d] = %g: %s", (int)r, bad[b], quant_status_str(st));
            small_reset();
            st = quant_ref_conv2d(&cs, g_small_a, 0, 0, w, 0, &ep, g_small_c);
            CHECKF(st == QUANT_ESCALE && small_untouched(), "ref_conv2d a_scale[%d] = %g: %s", (int)r, bad[b], quant_status_str(st));
            /* a tile that does not hold the bad row is fine */
            small_reset();
            CHECK(quant_gemm_tile(4, g_small_a, 0, 4, 0, pk, &ep, g_small_c, 16, (r + 1) % 4, (r + 1) % 4 + 1, 0, 16) == QUANT_OK);
        }
    for (i = 0; i < 8; i++) as[i] = 0.5f;
    for (b = 0; b < sizeof bad / sizeof *bad; b++) {
        wsc[5] = bad[b];
        small_reset();
        st = quant_gemm(4, g_small_a, 0, 4, 0, pk, &ep, g_small_c, 16);
        CHECKF(st == QUANT_ESCALE && small_untouched(), "gemm w_scale[5] = %g: %s", bad[b], quant_status_str(st));
        CHECK(quant_epilogue_check(&ep, 16) == QUANT_ESCALE);
    }
    wsc[5] = 0.01f;
    small_reset();
    CHECK(quant_gemm(4, g_small_a, 0, 4, 0, pk, &ep, g_small_c, 16) == QUANT_OK && !small_untouched());
    as[0] = 1e-40f; /* subnormal: finite and > 0, accepted */
    CHECK(quant_gemm(4, g_small_a, 0, 4, 0, pk, &ep, g_small_c, 16) == QUANT_OK);
    {   /* the int4 epilogue: per-row and single a_scale (QUANT_EINVAL, its documented status) */
        static unsigned char qpk[65536];
        int8_t w4[16 * 32];
        float sc[16];
        quant_q4_epilogue e4;
        for (i = 0; i < sizeof w4; i++) w4[i] = (int8_t)((int)(i % 16) - 8);
        for (i = 0; i < 16; i++) sc[i] = 0.01f;
        CHECK(quant_gemm_q4_pack(w4, sc, 32, 16, qpk, sizeof qpk) == QUANT_OK);
        memset(&e4, 0, sizeof e4); e4.out = QUANT_OUT_F32; e4.a_scale = as;
        for (b = 0; b < sizeof bad / sizeof *bad; b++)
            for (r = 0; r < 2; r++) {
                for (i = 0; i < 8; i++) as[i] = 0.5f;
                as[r] = bad[b]; e4.a_scale_per_row = (int)(r == 1 || b % 2);
                if (!e4.a_scale_per_row) as[0] = bad[b];
                small_reset();
                st = quant_gemm_q4(2, g_small_a, 0, 32, 0, qpk, &e4, g_small_c, 16);
                CHECKF(st == QUANT_EINVAL && small_untouched(), "gemm_q4 a_scale %g: %s", bad[b], quant_status_str(st));
            }
    }
}

/* ---- histograms with a damaged range: refused, never UB or a hang */
static void test_histogram_range(void) {
    static const float ranges[] = { NAN, -1.0f, -0.5e-40f, INFINITY, -INFINITY };
    static quant_histogram h, h0;
    static quant_observer o, o0;
    float x[6] = { 1.0f, -2.0f, 0.0f, 3e38f, NAN, INFINITY }, lo, hi;
    quant_params p;
    size_t i;
    int k;
    for (i = 0; i < sizeof ranges / sizeof *ranges; i++) {
        quant_histogram_init(&h);
        h.range = ranges[i];
        h0 = h;
        CHECKF(quant_histogram_add(&h, x, 6) == QUANT_EINVAL, "histogram_add with range %g", ranges[i]);
        CHECK(!memcmp(&h, &h0, sizeof h));
        for (k = QUANT_OBS_HISTOGRAM; k <= QUANT_OBS_ACIQ; k++) {
            quant_observer_init(&o, (quant_observer_kind)k);
            CHECK(quant_observer_update(&o, x, 3) == QUANT_OK);
            o.hist.range = ranges[i];
            o0 = o;
            CHECKF(quant_observer_update(&o, x, 6) == QUANT_EINVAL, "observer %d update, range %g", k, ranges[i]);
            CHECK(!memcmp(&o, &o0, sizeof o));
            CHECKF(quant_observer_range(&o, QUANT_SYMMETRIC, -128, 127, &lo, &hi) == QUANT_EINVAL, "observer %d range, range %g", k, ranges[i]);
            CHECK(quant_observer_params(&o, -128, 127, QUANT_AFFINE, &p) == QUANT_EINVAL);
        }
    }
    /* valid states: empty (range 0, also -0), non-finite samples skipped, a
     * subnormal range grows to the data, a range at the top clamps */
    quant_histogram_init(&h);
    CHECK(quant_histogram_add(&h, x + 4, 2) == QUANT_OK && h.range == 0.0f && h.zeros == 0.0);
    CHECK(quant_histogram_add(&h, NULL, 0) == QUANT_OK && quant_histogram_add(NULL, x, 1) == QUANT_EINVAL);
    CHECK(quant_histogram_add(&h, NULL, 1) == QUANT_EINVAL);
    h.range = -0.0f;
    CHECK(quant_histogram_add(&h, x, 3) == QUANT_OK && h.range >= 2.0f && h.zeros == 1.0);
    quant_histogram_init(&h);
    h.range = 1e-45f;
    CHECK(quant_histogram_add(&h, x, 6) == QUANT_OK && h.range > FLT_MAX / 2 && h.range <= FLT_MAX); /* 3e38 clamped into the top bin */
    {
        double tot = h.zeros;
        for (i = 0; i < 2 * QUANT_HIST_BINS; i++) tot += h.bins[i];
        CHECK(tot == 4.0); /* 1, -2, 0, 3e38: NaN and Inf skipped */
    }
    for (k = QUANT_OBS_HISTOGRAM; k <= QUANT_OBS_ACIQ; k++) { /* the observers on the same data */
        quant_observer_init(&o, (quant_observer_kind)k);
        CHECK(quant_observer_update(&o, x, 6) == QUANT_OK);
        CHECKF(quant_observer_range(&o, QUANT_AFFINE, -128, 127, &lo, &hi) == QUANT_OK && lo <= hi, "observer %d", k);
    }
}

/* ---- elementwise ratios past the fixed-point multiplier: QUANT_ERANGE */
static void test_multiplier_range(void) {
    quant_params one = { 1.0f, 0, -128, 127 }, tiny = { FLT_MIN, 0, -128, 127 }, big = { FLT_MAX, 0, -128, 127 };
    quant_params o29 = { 0x1p-48f, 0, -128, 127 };
    quant_add_params ap, ap0;
    quant_mul_params mp, mp0;
    unsigned char in[16], out[16];
    quant_status st;
    memset(&ap0, 0x5a, sizeof ap0); memset(&mp0, 0x5a, sizeof mp0);
    ap = ap0; mp = mp0;
    /* add: 2 max / (2^20 s_out) = 2 / (2^20 FLT_MIN) ~ 1.6e32 */
    st = quant_add_prepare(&one, &one, &tiny, QUANT_ACT_NONE, &ap);
    CHECKF(st == QUANT_ERANGE && !memcmp(&ap, &ap0, sizeof ap), "add_prepare ratio 1.6e32: %s", quant_status_str(st));
    st = quant_add_prepare(&big, &big, &tiny, QUANT_ACT_NONE, &ap); /* ~ 5.5e70 */
    CHECKF(st == QUANT_ERANGE && !memcmp(&ap, &ap0, sizeof ap), "add_prepare ratio 5.5e70: %s", quant_status_str(st));
    st = quant_add_prepare(&one, &one, &o29, QUANT_ACT_NONE, &ap); /* 2^29: the largest power of two that fits */
    CHECKF(st == QUANT_OK && ap.out_shift == 30, "add_prepare ratio 2^29: %s, shift %d", quant_status_str(st), (int)ap.out_shift);
    /* mul: s_a s_b / s_out in float: finite 8.5e37, and Inf */
    st = quant_mul_prepare(&one, &one, &tiny, QUANT_ACT_NONE, &mp);
    CHECKF(st == QUANT_ERANGE && !memcmp(&mp, &mp0, sizeof mp), "mul_prepare ratio 8.5e37: %s", quant_status_str(st));
    st = quant_mul_prepare(&big, &big, &one, QUANT_ACT_NONE, &mp);
    CHECKF(st == QUANT_ERANGE && !memcmp(&mp, &mp0, sizeof mp), "mul_prepare ratio Inf: %s", quant_status_str(st));
    st = quant_mul_prepare(&one, &one, &o29, QUANT_ACT_NONE, &mp); /* 2^48 */
    CHECKF(st == QUANT_ERANGE, "mul_prepare ratio 2^48: %s", quant_status_str(st));
    /* requantize between params: s_in / s_out ~ 2.9e76 */
    memset(in, 1, sizeof in); memset(out, SENT, sizeof out);
    st = quant_requantize_params(in, QUANT_I8, &big, 16, &tiny, QUANT_I8, out);
    CHECKF(st == QUANT_ERANGE, "requantize_params ratio 2.9e76: %s", quant_status_str(st));
    { size_t i; for (i = 0; i < 16; i++) CHECK(out[i] == SENT); }
    CHECK(quant_requantize_params(in, QUANT_I8, &one, 16, &one, QUANT_I8, out) == QUANT_OK && out[0] == 1);
}

int main(void) {
    int i, r;
    unsigned char *base[NB];
    for (i = 0; i < NB; i++) {
        base[i] = (unsigned char *)malloc(BUFSZ + 128);
        if (!base[i]) return 2;
        g_mem[i] = base[i] + ((64 - ((uintptr_t)base[i] & 63)) & 63);
    }
    RUN(test_valid_calls);
    RUN(test_null);
    RUN(test_empty);
    RUN(test_nan_inf_data);
    RUN(test_bad_scale);
    RUN(test_bad_range);
    RUN(test_size_overflow);
    RUN(test_k_bound);
    RUN(test_misaligned);
    RUN(test_dwconv_packed_alignment);
    RUN(test_gemm_size_overflow);
    RUN(test_q4_size_overflow);
    RUN(test_bgemm_size_overflow);
    RUN(test_rows_byte_overflow);
    RUN(test_bconv_size_overflow);
    RUN(test_epilogue_scales);
    RUN(test_histogram_range);
    RUN(test_multiplier_range);
    if (getenv("QT_VERBOSE")) fprintf(stderr, "  %d entry points\n", (int)NENT);
    r = qt_summary();
    for (i = 0; i < NB; i++) free(base[i]);
    return r;
}
