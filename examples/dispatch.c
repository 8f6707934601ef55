/* examples/dispatch.c - one binary, several x86 builds of the kernels,
 * chosen at run time by CPUID.
 *
 * An engine shipped as one binary to many CPUs cannot compile the kernels
 * for the machine it will run on. So it compiles quant_kernels.h several
 * times, one translation unit per instruction-set level with that level's
 * flags and its own static copy of the library (examples/dispatch/kernels.c
 * exporting a table of function pointers, examples/dispatch/dispatch.h),
 * links them all, asks the CPU (and the OS) at start-up which it can run,
 * and calls the kernels through the best table. Every copy returns the same
 * bytes (each equals quant.h's reference loops), so the choice changes the
 * speed, never the results: --all runs a fixed workload through every copy
 * this CPU can run and checks exactly that.
 *
 * Build: make BUILD=build build/dispatch (examples/dispatch.mk), or by hand:
 *
 *   for l in "scalar -DQUANT_NO_SIMD" "sse41 -msse4.1" "avx2 -mavx2 -mfma" \
 *            "avxvnni -mavx2 -mfma -mavxvnni" "avx512 -mavx512f -mavx512bw -mavx512vl -mfma" \
 *            "avx512vnni -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mavx512vbmi -mavx512vpopcntdq -mfma"
 *   do set -- $l; lvl=$1; shift
 *      cc -std=c99 -O2 "$@" -DDISPATCH_LEVEL=$lvl -I. -c examples/dispatch/kernels.c -o $lvl.o
 *   done
 *   cc -std=c99 -O2 -I. examples/dispatch.c scalar.o sse41.o avx2.o avxvnni.o avx512.o avx512vnni.o -o dispatch -lm
 *
 * On aarch64 there are two copies: "scalar -DQUANT_NO_SIMD" and "neon" (no
 * flags). Only this file is built without special flags: nothing here may
 * execute an instruction the CPU might lack.
 *
 * Run: ./dispatch (select, report, run the workload through the selected
 * copy), --all (every copy this CPU can run, compared byte for byte; what
 * build/test_dispatch, the same program, does by default), --bench, --help.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "quant_kernels.h"      /* types and declarations only: the kernels live in the tables */
#ifndef DISPATCH_REF_LINKED     /* (make test links them from the build's implementation object instead) */
#define QUANT_IMPLEMENTATION
#endif
#include "quant.h"              /* the scalar references: quant_ref_gemm, quant_ref_conv2d, ... */
#include "dispatch/dispatch.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#define DISPATCH_X86 1
#include <cpuid.h>
#endif

/* ======================================================================== */
/* 1. what the CPU can run                                                  */
/* ======================================================================== */

/* Features, named as Linux's /proc/cpuinfo names them; the last two are the
 * OS's side: whether it saves the YMM / ZMM registers on a context switch. */
enum { F_SSE41 = 1, F_AVX2 = 2, F_FMA = 4, F_AVXVNNI = 8, F_AVX512F = 16, F_AVX512BW = 32, F_AVX512VL = 64,
       F_AVX512VNNI = 128, F_AVX512VBMI = 256, F_AVX512VPOPCNTDQ = 512, F_OS_YMM = 1024, F_OS_ZMM = 2048 };
#define N_HW_FEATURES 10
static const char *const feature_names[] = {
    "sse4_1", "avx2", "fma", "avx_vnni", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512vbmi",
    "avx512_vpopcntdq", "OS-saved YMM state (XCR0)", "OS-saved ZMM state (XCR0)" };

/* The copies linked in, in order of preference (the order of quant_kernels.h's
 * own compile-time choice), each with the features its flags assume. */
typedef struct { const dispatch_kernels *k; unsigned need; } copy;
#define AVX512_BASE (F_AVX512F | F_AVX512BW | F_AVX512VL | F_FMA | F_OS_YMM | F_OS_ZMM)
static const copy copies[] = {
    { &dispatch_scalar, 0 },
#if defined(DISPATCH_X86)
    { &dispatch_sse41, F_SSE41 },
    { &dispatch_avx2, F_AVX2 | F_FMA | F_OS_YMM },
    { &dispatch_avxvnni, F_AVX2 | F_FMA | F_AVXVNNI | F_OS_YMM },
    { &dispatch_avx512, AVX512_BASE },
    { &dispatch_avx512vnni, AVX512_BASE | F_AVX512VNNI | F_AVX512VBMI | F_AVX512VPOPCNTDQ },
#elif defined(__aarch64__)
    { &dispatch_neon, 0 }, /* NEON is part of the aarch64 baseline */
#endif
};
#define N_COPIES (int)(sizeof copies / sizeof copies[0])

#if defined(DISPATCH_X86)
static unsigned long long xcr0; /* for the report */
#endif

static unsigned cpu_features(void) {
    unsigned f = 0;
#if defined(DISPATCH_X86)
    unsigned a, b, c, d;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.1")) f |= F_SSE41;
    if (__builtin_cpu_supports("avx2")) f |= F_AVX2;
    if (__builtin_cpu_supports("fma")) f |= F_FMA;
    if (__builtin_cpu_supports("avx512f")) f |= F_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) f |= F_AVX512BW;
    if (__builtin_cpu_supports("avx512vl")) f |= F_AVX512VL;
    if (__builtin_cpu_supports("avx512vnni")) f |= F_AVX512VNNI;
    if (__builtin_cpu_supports("avx512vbmi")) f |= F_AVX512VBMI;
    if (__builtin_cpu_supports("avx512vpopcntdq")) f |= F_AVX512VPOPCNTDQ;
    /* AVX-VNNI (VEX-encoded VNNI, no AVX-512 needed): CPUID leaf 7, subleaf
     * 1, EAX bit 4 (older compilers have no __builtin_cpu_supports name) */
    if (__get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 4 & 1)) f |= F_AVXVNNI;
    /* The OS must save the wide registers too: XCR0 (XGETBV 0, readable
     * when CPUID.1:ECX.OSXSAVE[bit 27] is set) bits 1-2 are the SSE and AVX
     * state, bits 5-7 the AVX-512 opmask and upper ZMM state. (gcc's and
     * clang's __builtin_cpu_supports check this already; an engine that
     * reads CPUID itself must not forget it.) */
    xcr0 = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c >> 27 & 1)) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = (unsigned long long)hi << 32 | lo;
    }
    if ((xcr0 & 0x06) == 0x06) f |= F_OS_YMM;
    if ((xcr0 & 0xe6) == 0xe6) f |= F_OS_ZMM;
#endif
    return f;
}

/* The features in mask, by name, into buf. */
static const char *feature_list(unsigned mask, char *buf, size_t n) {
    int i;
    buf[0] = 0;
    for (i = 0; i < 12; i++)
        if (mask >> i & 1) {
            size_t l = strlen(buf);
            snprintf(buf + l, n - l, "%s%s", l ? " " : "", feature_names[i]);
        }
    return buf;
}

/* The choice an engine makes once at start-up: the best copy it can run. */
static int select_copy(unsigned have) {
    int i, best = 0;
    for (i = 0; i < N_COPIES; i++)
        if ((copies[i].need & ~have) == 0) best = i;
    return best;
}

/* ======================================================================== */
/* 2. test data: deterministic, adversarial, misaligned                     */
/* ======================================================================== */

static unsigned long long rng; /* splitmix64, reseeded per case: every copy sees the same data */
static unsigned rnd(void) {
    unsigned long long z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (unsigned)((z ^ (z >> 31)) >> 32);
}
static int rnd_in(int lo, int hi) { return lo + (int)(rnd() % (unsigned)(hi - lo + 1)); }
static float rnd_f(float lo, float hi) { return lo + (hi - lo) * (float)(rnd() >> 8) * (1.0f / 16777216.0f); }

/* Scratch memory of one case, freed after it, handed out `offset` bytes
 * past calloc's 16-byte boundary: 1 or 3 for bytes and packed weights, 4
 * for int32 / float data. The kernels must cope with any alignment. */
static void *arena[32];
static int narena;
static void *mem(size_t bytes, size_t offset) {
    unsigned char *p = (unsigned char *)calloc(1, bytes + 64);
    if (!p || narena == 32) { fprintf(stderr, "dispatch: out of memory\n"); exit(1); }
    arena[narena++] = p;
    return p + offset;
}
static void arena_free(void) { while (narena) free(arena[--narena]); }

/* Fills n bytes with integers in [lo, hi] (int8 or uint8 data); extreme:
 * only lo and hi. */
static void fill(void *p, size_t n, int lo, int hi, int extreme) {
    size_t i;
    for (i = 0; i < n; i++) ((unsigned char *)p)[i] = (unsigned char)(extreme ? (rnd() & 1 ? hi : lo) : rnd_in(lo, hi));
}

/* An output: its bytes with GUARD bytes of 0xA5 either side. Whatever a
 * kernel must not write (the gap between rows, the guards) keeps 0xA5, so
 * comparing the whole buffer also checks that. */
#define GUARD 64
typedef struct { unsigned char *p; size_t n; } result;
static void *result_new(result *r, size_t bytes, size_t offset) {
    r->n = bytes + 2 * GUARD;
    r->p = (unsigned char *)malloc(r->n);
    if (!r->p) { fprintf(stderr, "dispatch: out of memory\n"); exit(1); }
    memset(r->p, 0xA5, r->n);
    return r->p + GUARD + offset;
}

/* ======================================================================== */
/* 3. the workload: each case runs through a copy (k) or the reference (k  */
/*    NULL) on the same inputs; the last spec of each kind is the --bench   */
/*    size, the others are the test's                                     */
/* ======================================================================== */

/* Times `call` when us is non-NULL: the median of BENCH_REPS runs after the
 * first (a warm-up, whose status is kept). */
#define BENCH_REPS 11
static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
#define TIMED(st, call) do { \
        (st) = (call); \
        if (us && (st) == QUANT_OK) { \
            double t_[BENCH_REPS]; int r_; \
            for (r_ = 0; r_ < BENCH_REPS; r_++) { double t0_ = now_us(); (void)(call); t_[r_] = now_us() - t0_; } \
            qsort(t_, BENCH_REPS, sizeof t_[0], cmp_double); *us = t_[BENCH_REPS / 2]; \
        } \
    } while (0)

#define LABEL 128 /* bytes of a case's label */
typedef quant_status (*case_fn)(const dispatch_kernels *k, int v, result *out, double *us, char *label);
static const char *const out_names[] = { "i32", "i8", "u8", "f32" };

/* A requantizing epilogue for N channels (and M rows of F32 scales) with
 * random scales, biases and zero points: I8 with a fused ReLU, U8 plain. */
static void make_epilogue(quant_epilogue *ep, quant_out_type out, quant_requant_mode mode, int per_channel,
                          size_t M, size_t N) {
    quant_requant *rq = (quant_requant *)mem(N * sizeof *rq, 0);
    int32_t *bias = (int32_t *)mem(4 * N, 4);
    float *as = (float *)mem(4 * M, 4), *ws = (float *)mem(4 * N, 4), *bf = (float *)mem(4 * N, 4);
    size_t i;
    for (i = 0; i < N; i++) {
        quant_requant_from_scale(1e-4 + 2e-3 * rnd_f(0, 1), &rq[i]);
        bias[i] = rnd_in(-100000, 100000);
        ws[i] = rnd_f(1e-3f, 1e-2f);
        bf[i] = rnd_f(-1, 1);
    }
    for (i = 0; i < M; i++) as[i] = rnd_f(1e-3f, 5e-2f);
    memset(ep, 0, sizeof *ep);
    ep->out = out; ep->bias_i32 = bias; ep->mode = mode; ep->rq = rq; ep->per_channel = per_channel;
    ep->out_zp = out == QUANT_OUT_U8 ? 128 : -5;
    ep->out_min = out == QUANT_OUT_U8 ? 0 : ep->out_zp;
    ep->out_max = out == QUANT_OUT_U8 ? 255 : 127;
    ep->a_scale = as; ep->w_scale = ws; ep->bias_f32 = bf;
}
static size_t out_size(quant_out_type t) { return t == QUANT_OUT_I8 || t == QUANT_OUT_U8 ? 1 : 4; }

/* ---- int8 GEMM / GEMV. extreme 1: activations and weights only at the
 * ends of their ranges; 2: every product at its most negative, K at its
 * limit (the int32 accumulator within 2^31 of overflowing). */
typedef struct { size_t M, N, K; int a_signed, extreme; quant_out_type out; quant_requant_mode mode; int per_ch; } gemm_spec;
static const gemm_spec gemm_specs[] = {
    {  1,  17,   33, 0, 1, QUANT_OUT_I8,  QUANT_RQ_GEMMLOWP, 1 },
    {  7,  64,  256, 1, 0, QUANT_OUT_U8,  QUANT_RQ_SINGLE,   0 },
    { 33, 100,  300, 0, 0, QUANT_OUT_F32, QUANT_RQ_GEMMLOWP, 0 },
    {  5,  31,   65, 1, 1, QUANT_OUT_I8,  QUANT_RQ_FP32,     1 },
    {  2,   3, QUANT_GEMM_MAX_K, 0, 2, QUANT_OUT_I32, QUANT_RQ_GEMMLOWP, 0 },
    { 64, 256, 1024, 0, 0, QUANT_OUT_I8,  QUANT_RQ_GEMMLOWP, 1 }, /* bench: a batch-64 linear layer */
};
static quant_status case_gemm(const dispatch_kernels *k, int v, result *out, double *us, char *label) {
    const gemm_spec *s = &gemm_specs[v];
    size_t M = s->M, N = s->N, K = s->K, lda = K + 3, ldc = N + 2, n, kk;
    int alo = s->a_signed ? -128 : 0, ahi = s->a_signed ? 127 : 255;
    unsigned char *A = (unsigned char *)mem(M * lda, 1);
    int8_t *W = (int8_t *)mem(N * K, 1); /* [N][K], as PyTorch's Linear stores it */
    int32_t a_zp = s->extreme ? ahi : rnd_in(alo, ahi), b_zp = s->extreme ? -128 : rnd_in(-4, 4);
    quant_epilogue ep;
    quant_status st;
    void *C = result_new(out, M * ldc * out_size(s->out), out_size(s->out));
    fill(A, M * lda, alo, ahi, s->extreme == 1);
    fill(W, N * K, -128, 127, s->extreme == 1);
    if (s->extreme == 2) { memset(A, 255, M * lda); memset(W, 0x80, N * K); a_zp = 0; b_zp = 127; }
    make_epilogue(&ep, s->out, s->mode, s->per_ch, M, N);
    if (s->extreme == 2) ep.bias_i32 = NULL;
    snprintf(label, LABEL, "gemm %s %zux%zux%zu -> %s%s", s->a_signed ? "s8" : "u8", M, N, K, out_names[s->out],
            s->extreme == 2 ? " (K max)" : s->extreme ? " (extremes)" : "");
    if (!k) { /* quant_ref_gemm takes the weights as [K][N] */
        int8_t *B = (int8_t *)mem(K * N, 0);
        for (n = 0; n < N; n++)
            for (kk = 0; kk < K; kk++) B[kk * N + n] = W[n * K + kk];
        return quant_ref_gemm(M, N, K, A, s->a_signed, lda, a_zp, B, N, b_zp, &ep, C, ldc);
    } else {
        size_t pb = k->gemm_pack_size(K, N);      /* differs per ISA: each copy packs its own */
        void *packed = mem(pb, 3);
        st = k->gemm_pack(W, QUANT_LAYOUT_NK, K, N, b_zp, packed, pb);
        if (st == QUANT_OK) TIMED(st, k->gemm(M, A, s->a_signed, lda, a_zp, packed, &ep, C, ldc));
        return st;
    }
}

/* ---- conv2d (NHWC) and depthwise conv2d */
typedef struct { quant_conv_shape s; int a_signed, extreme; quant_out_type out; } conv_spec;
static const conv_spec conv_specs[] = { /* batch, in h w c, out_c, k h w, stride, dilation, pad t l b r */
    { { 2,  9, 11,  5, 19, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1 }, 0, 1, QUANT_OUT_I8 },  /* 3x3 stride 2, extremes */
    { { 1,  7,  7, 33, 17, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0 }, 1, 0, QUANT_OUT_U8 },  /* 1x1: no im2col */
    { { 1, 10, 10,  3,  8, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2 }, 0, 0, QUANT_OUT_I32 }, /* dilated */
    { { 1, 28, 28, 32, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 }, 0, 0, QUANT_OUT_U8 },  /* bench */
};
static const conv_spec dw_specs[] = {
    { { 1,  9, 10, 17, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 }, 0, 1, QUANT_OUT_I8 },  /* 3x3 fast path, extremes */
    { { 2, 11,  8, 40, 40, 5, 5, 2, 2, 1, 1, 2, 1, 2, 1 }, 1, 0, QUANT_OUT_U8 },  /* 5x5 stride 2, uneven padding */
    { { 1, 56, 56, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 }, 0, 0, QUANT_OUT_U8 },  /* bench */
};
static quant_status conv_case(const dispatch_kernels *k, const conv_spec *c, int dw, result *out, double *us,
                              char *label) {
    const quant_conv_shape *s = &c->s;
    size_t oh, ow, pix, nin = s->batch * s->in_h * s->in_w * s->in_c;
    size_t nw = dw ? s->k_h * s->k_w * s->in_c : s->out_c * s->k_h * s->k_w * s->in_c;
    int alo = c->a_signed ? -128 : 0, ahi = c->a_signed ? 127 : 255;
    unsigned char *in = (unsigned char *)mem(nin, 1);
    int8_t *w = (int8_t *)mem(nw, 1);
    int32_t a_zp = c->extreme ? alo : rnd_in(alo, ahi), w_zp = c->extreme ? 127 : rnd_in(-3, 3);
    quant_epilogue ep;
    quant_status st;
    void *o;
    if (quant_conv_out_size(s, &oh, &ow) != QUANT_OK) return QUANT_EINVAL;
    pix = s->batch * oh * ow;
    o = result_new(out, pix * s->out_c * out_size(c->out), out_size(c->out));
    fill(in, nin, alo, ahi, c->extreme);
    fill(w, nw, -128, 127, c->extreme);
    make_epilogue(&ep, c->out, QUANT_RQ_GEMMLOWP, 1, pix, s->out_c);
    snprintf(label, LABEL, "%s %zux%zu/%zu %zux%zux%zu -> %zu %s%s", dw ? "dwconv" : "conv2d", s->k_h, s->k_w, s->stride_h,
            s->in_h, s->in_w, s->in_c, s->out_c, out_names[c->out], c->extreme ? " (extremes)" : "");
    if (!k) return dw ? quant_ref_dwconv2d(s, in, c->a_signed, a_zp, w, w_zp, &ep, o)
                      : quant_ref_conv2d(s, in, c->a_signed, a_zp, w, w_zp, &ep, o);
    if (dw) {
        size_t pb = k->dwconv2d_pack_size(s);
        void *packed = mem(pb, 4); /* int32 weights inside: int32 alignment (UBSan flags less) */
        st = k->dwconv2d_pack(w, s, w_zp, packed, pb);
        if (st == QUANT_OK) TIMED(st, k->dwconv2d(s, in, c->a_signed, a_zp, packed, &ep, o));
    } else {
        size_t pb = k->conv2d_pack_size(s), wsb = k->conv2d_workspace_size(s);
        void *packed = mem(pb, 3), *ws = mem(wsb, 1);
        st = k->conv2d_pack(w, s, w_zp, packed, pb);
        if (st == QUANT_OK) TIMED(st, k->conv2d(s, in, c->a_signed, a_zp, packed, &ep, o, ws, wsb));
    }
    return st;
}
static quant_status case_conv(const dispatch_kernels *k, int v, result *out, double *us, char *label) {
    return conv_case(k, &conv_specs[v], 0, out, us, label);
}
static quant_status case_dwconv(const dispatch_kernels *k, int v, result *out, double *us, char *label) {
    return conv_case(k, &dw_specs[v], 1, out, us, label);
}

/* ---- dynamic per-row quantization of float activations. adversarial:
 * rows with nothing finite, +-Inf and +-3e38, a constant, -0 and
 * subnormals, one outlier. */
typedef struct { size_t rows, cols; quant_scheme scheme; quant_dtype dt; int adversarial; } rows_spec;
static const rows_spec rows_specs[] = {
    {  6,   77, QUANT_AFFINE,    QUANT_U8, 1 },
    {  3, 1000, QUANT_SYMMETRIC, QUANT_I8, 0 },
    { 64, 1024, QUANT_AFFINE,    QUANT_U8, 0 }, /* bench */
};
static quant_status case_rows(const dispatch_kernels *k, int v, result *out, double *us, char *label) {
    const rows_spec *s = &rows_specs[v];
    size_t rows = s->rows, cols = s->cols, ldx = cols + 3, ldo = cols + 1, r, c;
    int32_t qmin = s->dt == QUANT_U8 ? 0 : -127, qmax = s->dt == QUANT_U8 ? 255 : 127;
    float *x = (float *)mem(4 * rows * ldx, 4), *sc;
    size_t fo = (1 + rows * ldo + 3) / 4 * 4 - 1; /* the scales: 4-byte aligned, after the bytes */
    unsigned char *o = (unsigned char *)result_new(out, fo + 8 * rows, 1);
    int32_t *zp;
    quant_status st = QUANT_OK;
    sc = (float *)(o + fo);
    zp = (int32_t *)(sc + rows);
    for (r = 0; r < rows; r++)
        for (c = 0; c < ldx; c++) {
            float *p = &x[r * ldx + c];
            *p = rnd_f(-3, 3);
            if (!s->adversarial) continue;
            switch (r % 6) {
            case 1: *p = NAN; break;
            case 2: if (c % 5 == 0) *p = c % 2 ? INFINITY : -INFINITY; else if (c % 7 == 0) *p = c % 2 ? 3e38f : -3e38f; break;
            case 3: *p = 2.5f; break;
            case 4: *p = c % 3 == 0 ? -0.0f : c % 3 == 1 ? 1e-40f * (float)c : -1e-45f; break;
            case 5: if (c == cols / 2) *p = 1e6f; break;
            }
        }
    snprintf(label, LABEL, "rows dynamic %zux%zu -> %s%s", rows, cols, s->dt == QUANT_U8 ? "u8 affine" : "i8 symmetric",
            s->adversarial ? " (NaN, Inf)" : "");
    if (k) {
        TIMED(st, k->rows_quantize_dynamic(x, rows, cols, ldx, s->scheme, qmin, qmax, s->dt, o, ldo, sc, zp));
        return st;
    }
    for (r = 0; r < rows && st == QUANT_OK; r++) { /* quant_minmax + quant_params_from_range + quant_quantize */
        float mn, mx;
        quant_params p;
        if (quant_minmax(x + r * ldx, cols, &mn, &mx) != QUANT_OK) mn = mx = 0.0f; /* nothing finite */
        st = quant_params_from_range(mn, mx, qmin, qmax, s->scheme, &p);
        if (st == QUANT_OK) st = quant_quantize(x + r * ldx, cols, &p, s->dt, o + r * ldo);
        sc[r] = p.scale; zp[r] = p.zero_point;
    }
    return st;
}

/* ---- int4 block weights (32 along K, a float scale each) x int8 */
typedef struct { size_t M, N, K; int a_signed, extreme; quant_out_type out; int per_row; } q4_spec;
static const q4_spec q4_specs[] = {
    {  1,   17,   33, 0, 1, QUANT_OUT_F32, 0 },
    {  5,   40,   96, 1, 0, QUANT_OUT_I8,  1 },
    {  4,   33, 1000, 0, 0, QUANT_OUT_U8,  1 },
    { 16, 1024, 1024, 0, 0, QUANT_OUT_F32, 1 }, /* bench: an int4 LLM-style projection, 16 tokens */
};
/* the formula of quant_kernels.h section 7, written out */
static void ref_q4(const q4_spec *s, const unsigned char *A, size_t lda, int32_t zp, const int8_t *W,
                   const float *sc, const quant_q4_epilogue *ep, void *C, size_t ldc) {
    size_t nb = (s->K + 31) / 32, m, n, b, kk;
    for (m = 0; m < s->M; m++)
        for (n = 0; n < s->N; n++) {
            float acc = 0.0f, y, v;
            for (b = 0; b < nb; b++) {
                int32_t dot = 0;
                for (kk = b * 32; kk < s->K && kk < b * 32 + 32; kk++)
                    dot += ((s->a_signed ? (int32_t)(int8_t)A[m * lda + kk] : (int32_t)A[m * lda + kk]) - zp) *
                           W[n * s->K + kk];
                acc = fmaf((float)dot, sc[n * nb + b], acc);
            }
            y = fmaf(acc, ep->a_scale[ep->a_scale_per_row ? m : 0], ep->bias ? ep->bias[n] : 0.0f);
            if (ep->out == QUANT_OUT_F32) { ((float *)C)[m * ldc + n] = y; continue; }
            v = nearbyintf(y * ep->out_inv) + (float)ep->out_zp;
            if (v != v) v = (float)ep->out_zp;
            v = v < (float)ep->out_min ? (float)ep->out_min : v > (float)ep->out_max ? (float)ep->out_max : v;
            if (ep->out == QUANT_OUT_U8) ((uint8_t *)C)[m * ldc + n] = (uint8_t)(int)v;
            else ((int8_t *)C)[m * ldc + n] = (int8_t)(int)v;
        }
}
static quant_status case_q4(const dispatch_kernels *k, int v, result *out, double *us, char *label) {
    const q4_spec *s = &q4_specs[v];
    size_t M = s->M, N = s->N, K = s->K, nb = (K + 31) / 32, lda = K + 1, ldc = N + 3, i;
    int alo = s->a_signed ? -128 : 0, ahi = s->a_signed ? 127 : 255;
    unsigned char *A = (unsigned char *)mem(M * lda, 1);
    int8_t *W = (int8_t *)mem(N * K, 1);
    float *sc = (float *)mem(4 * N * nb, 4), *as = (float *)mem(4 * M, 4), *bias = (float *)mem(4 * N, 4);
    int32_t zp = s->extreme ? ahi : rnd_in(alo, ahi);
    quant_q4_epilogue ep;
    quant_status st;
    void *C = result_new(out, M * ldc * out_size(s->out), out_size(s->out));
    fill(A, M * lda, alo, ahi, s->extreme);
    fill(W, N * K, -8, 7, s->extreme);
    for (i = 0; i < N * nb; i++) sc[i] = i % 17 == 5 ? 0.0f : rnd_f(1e-4f, 2e-2f);
    for (i = 0; i < M; i++) as[i] = rnd_f(1e-3f, 5e-2f);
    for (i = 0; i < N; i++) bias[i] = rnd_f(-0.5f, 0.5f);
    memset(&ep, 0, sizeof ep);
    ep.out = s->out; ep.a_scale = as; ep.a_scale_per_row = s->per_row; ep.bias = bias;
    ep.out_inv = 1.0f / rnd_f(0.02f, 0.12f);
    ep.out_zp = s->out == QUANT_OUT_U8 ? 7 : -3;
    ep.out_min = s->out == QUANT_OUT_U8 ? 0 : -128;
    ep.out_max = s->out == QUANT_OUT_U8 ? 255 : 127;
    snprintf(label, LABEL, "gemm_q4 %s %zux%zux%zu -> %s%s", s->a_signed ? "s8" : "u8", M, N, K, out_names[s->out],
            s->extreme ? " (extremes)" : "");
    if (!k) { ref_q4(s, A, lda, zp, W, sc, &ep, C, ldc); return QUANT_OK; }
    {
        size_t pb = k->gemm_q4_pack_size(K, N);
        void *packed = mem(pb, 3);
        st = k->gemm_q4_pack(W, sc, K, N, packed, pb);
        if (st == QUANT_OK) TIMED(st, k->gemm_q4(M, A, s->a_signed, lda, zp, packed, &ep, C, ldc));
    }
    return st;
}

/* ---- binary / ternary XNOR-popcount GEMM */
typedef struct { size_t M, N, K; int ta, tw; quant_bout_type out; } b_spec;
static const b_spec b_specs[] = {
    {  3,  17,  100, 0, 0, QUANT_BOUT_I32 },
    {  5,   9,  200, 1, 1, QUANT_BOUT_F32 },
    {  4,  70,   64, 0, 1, QUANT_BOUT_BITS },
    {  1,   5,    1, 1, 0, QUANT_BOUT_I32 },
    { 64, 256, 1024, 0, 0, QUANT_BOUT_I32 }, /* bench */
};
/* +-1 / 0 values -> bitplanes (bit 1 = -1; z: the non-zero plane), ld
 * words a row; the padding bits and words get garbage, which the kernels
 * must ignore */
static void to_planes(const int8_t *v, size_t rows, size_t K, size_t ld, uint64_t *s, uint64_t *z) {
    size_t r, kk, w = quant_bits_words(K);
    for (r = 0; r < rows; r++) {
        for (kk = 0; kk < ld; kk++) { s[r * ld + kk] = kk < w ? 0 : ~0ull; if (z) z[r * ld + kk] = kk < w ? 0 : ~0ull; }
        for (kk = 0; kk < K; kk++) {
            uint64_t bit = 1ull << (kk % 64);
            if (v[r * K + kk] < 0) s[r * ld + kk / 64] |= bit;
            if (z && v[r * K + kk]) z[r * ld + kk / 64] |= bit;
        }
        if (K % 64) {
            s[r * ld + w - 1] |= ~((1ull << (K % 64)) - 1) & 0xA5A5A5A5A5A5A5A5ull;
            if (z) z[r * ld + w - 1] |= ~((1ull << (K % 64)) - 1) & 0x5A5A5A5A5A5A5A5Aull;
        }
    }
}
static quant_status case_bgemm(const dispatch_kernels *k, int v, result *out, double *us, char *label) {
    const b_spec *s = &b_specs[v];
    size_t M = s->M, N = s->N, K = s->K, wk = quant_bits_words(K), lda = wk + 1, wn = quant_bits_words(N), m, n, i;
    size_t ldc = s->out == QUANT_BOUT_BITS ? wn + 1 : N + 1, esz = s->out == QUANT_BOUT_BITS ? 8 : 4;
    int8_t *a = (int8_t *)mem(M * K, 0), *w = (int8_t *)mem(N * K, 0);
    uint64_t *as = (uint64_t *)mem(8 * M * lda, 0), *az = (uint64_t *)mem(8 * M * lda, 0);
    uint64_t *ws = (uint64_t *)mem(8 * N * wk, 0), *wz = (uint64_t *)mem(8 * N * wk, 0);
    float *sc = (float *)mem(4 * N, 4), *bi = (float *)mem(4 * N, 4);
    int32_t *th = (int32_t *)mem(4 * N, 4);
    uint8_t *fl = (uint8_t *)mem(N, 1);
    quant_bepilogue ep;
    quant_status st;
    void *C = result_new(out, M * ldc * esz, 0);
    for (i = 0; i < M * K; i++) a[i] = (int8_t)(s->ta ? rnd_in(-1, 1) : (rnd() & 1 ? 1 : -1));
    for (i = 0; i < N * K; i++) w[i] = (int8_t)(s->tw ? rnd_in(-1, 1) : (rnd() & 1 ? 1 : -1));
    for (n = 0; n < N; n++) {
        sc[n] = rnd_f(-2, 2); bi[n] = rnd_f(-2, 2); th[n] = rnd_in(-(int)K, (int)K); fl[n] = (uint8_t)(rnd() & 1);
    }
    to_planes(a, M, K, lda, as, s->ta ? az : NULL);
    to_planes(w, N, K, wk, ws, s->tw ? wz : NULL);
    memset(&ep, 0, sizeof ep);
    ep.out = s->out; ep.scale = sc; ep.bias = bi; ep.thresh = th; ep.flip = fl;
    snprintf(label, LABEL, "bgemm %s x %s %zux%zux%zu -> %s", s->ta ? "ternary" : "binary", s->tw ? "ternary" : "binary",
            M, N, K, s->out == QUANT_BOUT_I32 ? "i32" : s->out == QUANT_BOUT_F32 ? "f32" : "bits");
    if (!k) { /* multiply the +-1 / 0 values out */
        for (m = 0; m < M; m++) {
            if (s->out == QUANT_BOUT_BITS) memset((uint64_t *)C + m * ldc, 0, 8 * wn);
            for (n = 0; n < N; n++) {
                int32_t dot = 0;
                for (i = 0; i < K; i++) dot += a[m * K + i] * w[n * K + i];
                if (s->out == QUANT_BOUT_I32) ((int32_t *)C)[m * ldc + n] = dot;
                else if (s->out == QUANT_BOUT_F32) ((float *)C)[m * ldc + n] = fmaf((float)dot, sc[n], bi[n]);
                else if (fl[n] ? dot >= th[n] : dot < th[n]) ((uint64_t *)C)[m * ldc + n / 64] |= 1ull << (n % 64);
            }
        }
        return QUANT_OK;
    } else {
        size_t pb = k->bgemm_pack_size(K, N, s->tw);
        void *packed = mem(pb, 0);
        st = k->bgemm_pack(ws, s->tw ? wz : NULL, N, K, packed, pb);
        if (st == QUANT_OK) TIMED(st, k->bgemm(M, as, s->ta ? az : NULL, lda, packed, &ep, C, ldc));
        return st;
    }
}

/* ---- PQ matmul: y = W x, W's rows PQ codes (random codebooks: no training) */
typedef struct { size_t rows, d, M; int nbits; quant_pqmm_mode mode; } pq_spec;
static const pq_spec pq_specs[] = {
    {  100,  32,  8, 4, QUANT_PQMM_F32 },
    {  100,  32,  8, 8, QUANT_PQMM_LUT8 },
    {   65,  24,  3, 4, QUANT_PQMM_LUT8 }, /* odd M: a padding nibble */
    { 4096, 256, 64, 4, QUANT_PQMM_LUT8 }, /* bench */
};
static quant_status case_pqmm(const dispatch_kernels *k, int v, result *out, double *us, char *label) {
    const pq_spec *s = &pq_specs[v];
    quant_pq pq;
    size_t nc = quant_pq_centroids_floats(s->d, s->M, s->nbits, 0), cs, i;
    float *cent = (float *)mem(4 * nc, 4), *x = (float *)mem(4 * s->d, 4);
    float *y = (float *)result_new(out, 4 * s->rows, 4);
    uint8_t *codes;
    quant_status st = quant_pq_init(&pq, s->d, s->M, s->nbits, 0, cent);
    if (st != QUANT_OK) return st;
    cs = quant_pq_code_size(&pq);
    codes = (uint8_t *)mem(s->rows * cs, 1);
    for (i = 0; i < nc; i++) cent[i] = rnd_f(-1, 1);
    for (i = 0; i < s->d; i++) x[i] = rnd_f(-1, 1);
    fill(codes, s->rows * cs, 0, 255, 0);
    if (s->nbits == 4 && s->M % 2)
        for (i = 0; i < s->rows; i++) codes[i * cs + cs - 1] &= 0x0F;
    snprintf(label, LABEL, "pqmm %zu rows d=%zu M=%zu %d-bit %s", s->rows, s->d, s->M, s->nbits,
            s->mode == QUANT_PQMM_F32 ? "f32" : "lut8");
    if (!k) return quant_ref_pqmm(&pq, codes, s->rows, x, s->mode, y);
    {
        size_t pb = k->pqmm_pack_size(&pq, s->rows), wsb;
        void *packed = mem(pb, 0), *ws;
        st = k->pqmm_pack(&pq, codes, s->rows, packed, pb);
        if (st != QUANT_OK) return st;
        wsb = k->pqmm_workspace_size(packed, s->mode);
        ws = mem(wsb, 0);
        TIMED(st, k->pqmm(packed, x, s->mode, y, ws, wsb));
        return st;
    }
}

/* ---- quantized residual add */
typedef struct { size_t n; quant_dtype dt; quant_activation act; int extreme; } add_spec;
static const add_spec add_specs[] = {
    {  1001, QUANT_U8, QUANT_ACT_RELU, 1 },
    {    77, QUANT_I8, QUANT_ACT_NONE, 0 },
    { 65536, QUANT_U8, QUANT_ACT_NONE, 0 }, /* bench */
};
static quant_status case_add(const dispatch_kernels *k, int v, result *out, double *us, char *label) {
    const add_spec *s = &add_specs[v];
    int lo = s->dt == QUANT_U8 ? 0 : -128, hi = lo + 255, off = s->dt == QUANT_U8 ? 0 : -128;
    quant_params pa = { 0.05f, 10 + off, lo, hi }, pb = { 0.11f, 200 + off, lo, hi }, po = { 0.12f, 3 + off, lo, hi };
    quant_add_params prm;
    unsigned char *a = (unsigned char *)mem(s->n, 1), *b = (unsigned char *)mem(s->n, 1);
    void *o = result_new(out, s->n, 1);
    quant_status st = quant_add_prepare(&pa, &pb, &po, s->act, &prm);
    fill(a, s->n, lo, hi, s->extreme);
    fill(b, s->n, lo, hi, s->extreme);
    snprintf(label, LABEL, "add %s %zu%s%s", s->dt == QUANT_U8 ? "u8" : "i8", s->n, s->act == QUANT_ACT_RELU ? " relu" : "",
            s->extreme ? " (extremes)" : "");
    if (st != QUANT_OK) return st;
    if (!k) return quant_add(a, b, s->n, s->dt, &prm, o);
    TIMED(st, k->add(a, b, s->n, s->dt, &prm, o));
    return st;
}

#define COUNT(a) (int)(sizeof(a) / sizeof((a)[0]))
typedef struct { case_fn fn; int nspecs; } kind; /* specs 0 .. nspecs-2: test; nspecs-1: bench */
static const kind kinds[] = {
    { case_gemm, COUNT(gemm_specs) }, { case_conv, COUNT(conv_specs) }, { case_dwconv, COUNT(dw_specs) },
    { case_rows, COUNT(rows_specs) }, { case_q4, COUNT(q4_specs) }, { case_bgemm, COUNT(b_specs) },
    { case_pqmm, COUNT(pq_specs) }, { case_add, COUNT(add_specs) },
};
#define N_KINDS COUNT(kinds)

/* One case through copy k (NULL: the reference), on its own inputs. */
static quant_status run_case(const dispatch_kernels *k, int kd, int v, result *r, double *us, char *label) {
    quant_status st;
    rng = 0x5EEDull * (unsigned long long)(kd * 16 + v + 1);
    st = kinds[kd].fn(k, v, r, us, label);
    arena_free();
    return st;
}

/* The first differing byte of two outputs, as an offset from the output's
 * start (negative: in the leading guard); -1 - GUARD if equal. */
static long first_diff(const result *a, const result *b) {
    size_t i;
    if (a->n != b->n) return 0;
    for (i = 0; i < a->n; i++)
        if (a->p[i] != b->p[i]) return (long)i - GUARD;
    return -1 - GUARD;
}
static unsigned fnv1a(const result *r) {
    unsigned h = 2166136261u;
    size_t i;
    for (i = 0; i < r->n; i++) h = (h ^ r->p[i]) * 16777619u;
    return h;
}

/* ======================================================================== */
/* 4. the modes                                                             */
/* ======================================================================== */

static int passed, failed;
static void check(int ok, const char *what) {
    if (ok) passed++;
    else { failed++; fprintf(stderr, "FAIL %s\n", what); }
}

static int runnable(int i, unsigned have) { return (copies[i].need & ~have) == 0; }

static void print_copies(unsigned have, int chosen) {
    char buf[256];
    int i;
#if defined(DISPATCH_X86)
    printf("CPU: %s\n", have ? feature_list(have, buf, sizeof buf) : "(none of the features above the baseline)");
#else
    printf("CPU: not x86: the copies need nothing beyond this architecture's baseline\n");
#endif
#if defined(DISPATCH_X86)
    printf("XCR0 = 0x%llx (the register state the OS saves)\n", xcr0);
#endif
    printf("copies in this binary (best last):\n");
    for (i = 0; i < N_COPIES; i++) {
        if (runnable(i, have)) printf("  %-11s runnable%s\n", copies[i].k->level, i == chosen ? "   <- selected" : "");
        else printf("  %-11s not run: CPU lacks %s\n", copies[i].k->level,
                    feature_list(copies[i].need & ~have, buf, sizeof buf));
    }
}

/* The best copy by Linux's /proc/cpuinfo flags (an oracle independent of
 * CPUID as read here), or -1 when there is no x86 flags line to read. */
static int cpuinfo_best(void) {
    char line[8192], flags[8200];
    int i, j, best = 0, found = 0;
    FILE *f;
#if !defined(DISPATCH_X86)
    return -1; /* nothing to choose between by CPU flags here */
#endif
    f = fopen("/proc/cpuinfo", "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "flags", 5) == 0 && strchr(line, ':')) {
            snprintf(flags, sizeof flags, " %s ", strchr(line, ':') + 1);
            found = 1;
            break;
        }
    fclose(f);
    if (!found || !strstr(flags, " sse2 ")) return -1;
    for (i = 0; i < (int)strlen(flags); i++) if (flags[i] == '\n') flags[i] = ' ';
    for (i = 0; i < N_COPIES; i++) {
        int ok = 1;
        for (j = 0; j < N_HW_FEATURES; j++)
            if (copies[i].need >> j & 1) {
                char name[40];
                snprintf(name, sizeof name, " %s ", feature_names[j]);
                if (!strstr(flags, name)) ok = 0;
            }
        if (ok) best = i;
    }
    return best;
}

/* Packed weights: a GEMM packing fills exactly gemm_pack_size bytes (a
 * buffer one byte short is refused, untouched) and is refused by every
 * other copy (QUANT_EFORMAT: its layout is this ISA's); int4 and PQ-matmul
 * packings are one layout for all ISAs, so every copy packs the same bytes. */
static int untouched(const unsigned char *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) if (p[i] != 0xA5) return 0;
    return 1;
}
static void check_packing(unsigned have) {
    enum { K = 33, N = 17, PQ_D = 16, PQ_M = 4, PQ_ROWS = 70 };
    int8_t W[K * N];
    float sc[N * 2], cent[PQ_M * 16 * (PQ_D / PQ_M)];
    uint8_t codes[PQ_ROWS * PQ_M / 2];
    unsigned char *p[16], *q4 = NULL, *pq = NULL;
    size_t sz[16], q4_bytes = 0, pq_bytes = 0;
    char what[256];
    int i, j, first = -1;
    quant_pq pqs;
    rng = 42;
    fill(W, sizeof W, -8, 7, 0);
    fill(codes, sizeof codes, 0, 255, 0);
    for (i = 0; i < N * 2; i++) sc[i] = rnd_f(0.01f, 0.1f);
    for (i = 0; i < (int)(sizeof cent / sizeof cent[0]); i++) cent[i] = rnd_f(-1, 1);
    quant_pq_init(&pqs, PQ_D, PQ_M, 4, 0, cent);
    printf("gemm_pack_size(K %d, N %d), bytes:", K, N);
    for (i = 0; i < N_COPIES; i++) {
        const dispatch_kernels *k = copies[i].k;
        size_t qb, pb;
        unsigned char *q, *r;
        p[i] = NULL;
        if (!runnable(i, have)) continue;
        sz[i] = k->gemm_pack_size(K, N);
        printf(" %s %zu", k->level, sz[i]);
        p[i] = (unsigned char *)malloc(sz[i] + 1);
        if (!p[i]) exit(1);
        memset(p[i], 0xA5, sz[i] + 1);
        snprintf(what, sizeof what, "copy %s: gemm_pack into gemm_pack_size - 1 bytes is not refused, or writes", k->level);
        check(sz[i] > 64 && k->gemm_pack(W, QUANT_LAYOUT_NK, K, N, 0, p[i], sz[i] - 1) == QUANT_EINVAL &&
              untouched(p[i], sz[i] + 1), what);
        snprintf(what, sizeof what, "copy %s: gemm_pack fails or writes past gemm_pack_size bytes", k->level);
        check(k->gemm_pack(W, QUANT_LAYOUT_NK, K, N, 0, p[i], sz[i]) == QUANT_OK && p[i][sz[i]] == 0xA5, what);
        qb = k->gemm_q4_pack_size(K, N);
        pb = k->pqmm_pack_size(&pqs, PQ_ROWS);
        q = (unsigned char *)calloc(1, qb + 1);
        r = (unsigned char *)calloc(1, pb + 1);
        if (!q || !r) exit(1);
        if (first < 0) { first = i; q4 = q; q4_bytes = qb; pq = r; pq_bytes = pb; }
        snprintf(what, sizeof what, "copy %s: int4 packed weights differ from the %s copy's", k->level, copies[first].k->level);
        check(k->gemm_q4_pack(W, sc, K, N, q, qb) == QUANT_OK && qb == q4_bytes && !memcmp(q, q4, qb), what);
        snprintf(what, sizeof what, "copy %s: PQ-matmul packing differs from the %s copy's", k->level, copies[first].k->level);
        check(k->pqmm_pack(&pqs, codes, PQ_ROWS, r, pb) == QUANT_OK && pb == pq_bytes && !memcmp(r, pq, pb), what);
        if (q != q4) { free(q); free(r); }
    }
    printf("\n");
    free(q4); free(pq);
    for (i = 0; i < N_COPIES; i++)
        for (j = 0; j < N_COPIES; j++)
            if (i != j && p[i] && p[j]) {
                int32_t C[N];
                unsigned char A[K] = { 0 };
                quant_epilogue ep;
                memset(&ep, 0, sizeof ep);
                memset(C, 0xA5, sizeof C);
                snprintf(what, sizeof what, "copy %s does not refuse (QUANT_EFORMAT, C untouched) weights packed by copy %s",
                         copies[j].k->level, copies[i].k->level);
                check(copies[j].k->gemm(1, A, 0, K, 0, p[i], &ep, C, N) == QUANT_EFORMAT &&
                      untouched((unsigned char *)C, sizeof C), what);
            }
    for (i = 0; i < N_COPIES; i++) free(p[i]);
}

/* --all: the workload through every runnable copy, each output compared
 * with the reference byte for byte; then the properties an engine relies on. */
static int mode_all(unsigned have) {
    char label[LABEL], what[256], buf[256];
    int i, kd, v, chosen = select_copy(have), oracle;
    const char *expect;
    print_copies(have, chosen);
    for (i = 0; i < N_COPIES; i++)
        if (runnable(i, have)) {
            snprintf(what, sizeof what, "copy %s: quant_isa_name() is \"%s\", not the level it was built for",
                     copies[i].k->level, copies[i].k->isa_name());
            check(strcmp(copies[i].k->isa_name(), copies[i].k->level) == 0, what);
        }
    printf("\n%-44s %-9s", "call (=: its bytes are the reference's)", "ref fnv");
    for (i = 0; i < N_COPIES; i++) if (runnable(i, have)) printf(" %-10s", copies[i].k->level);
    printf("\n");
    for (kd = 0; kd < N_KINDS; kd++)
        for (v = 0; v < kinds[kd].nspecs - 1; v++) {
            result ref, r, first;
            int agree;
            quant_status st = run_case(NULL, kd, v, &ref, NULL, label);
            printf("%-44s %08x ", label, fnv1a(&ref));
            if (st != QUANT_OK) { printf(" reference failed: %s\n", quant_status_str(st)); check(0, label); free(ref.p); continue; }
            first.p = NULL; first.n = 0;
            agree = 1;
            for (i = 0; i < N_COPIES; i++) {
                long d;
                if (!runnable(i, have)) continue;
                st = run_case(copies[i].k, kd, v, &r, NULL, label);
                d = first_diff(&ref, &r);
                if (st != QUANT_OK) printf(" %-10s", quant_status_str(st));
                else if (d == -1 - GUARD) printf(" %-10s", "=");
                else { snprintf(buf, sizeof buf, "DIFF@%ld", d); printf(" %-10s", buf); }
                if (st != QUANT_OK) snprintf(what, sizeof what, "%s: copy %s: %s", label, copies[i].k->level, quant_status_str(st));
                else snprintf(what, sizeof what, "%s: copy %s differs from the reference (first at byte %ld)", label,
                              copies[i].k->level, d);
                check(st == QUANT_OK && d == -1 - GUARD, what);
                if (!first.p) first = r; /* the lowest copy's bytes: the others must equal them too */
                else { agree &= st == QUANT_OK && first_diff(&first, &r) == -1 - GUARD; free(r.p); }
            }
            printf("\n");
            snprintf(what, sizeof what, "%s: the copies differ from each other", label);
            check(agree, what);
            free(first.p);
            free(ref.p);
        }
    printf("(each output checked with the gap between its rows and %d guard bytes either side;\n"
           " inputs, packed weights and outputs 1, 3 or 4 bytes past a 16-byte boundary)\n\n", GUARD);

    check_packing(have);

    /* the selection: the best runnable copy, by an independent reading of
     * the CPU, or the copy DISPATCH_EXPECT names (under an emulator such as
     * qemu-x86_64 -cpu Haswell, /proc/cpuinfo is the host's, not its CPU's) */
    expect = getenv("DISPATCH_EXPECT");
    if (expect && *expect) {
        for (oracle = 0; oracle < N_COPIES && strcmp(copies[oracle].k->level, expect); oracle++) {}
        snprintf(what, sizeof what, "selected copy %s, not %s (DISPATCH_EXPECT)", copies[chosen].k->level, expect);
        check(oracle < N_COPIES && chosen == oracle, what);
        printf("selection: %s, as DISPATCH_EXPECT says: %s\n", copies[chosen].k->level,
               oracle < N_COPIES && chosen == oracle ? "yes" : "NO");
    } else if ((oracle = cpuinfo_best()) < 0) {
        printf("selection: %s (no x86 /proc/cpuinfo to cross-check)\n", copies[chosen].k->level);
    } else {
        snprintf(what, sizeof what, "selected copy %s, not the best one /proc/cpuinfo's flags allow (%s)",
                 copies[chosen].k->level, copies[oracle].k->level);
        check(chosen == oracle, what);
        printf("selection: %s, the best copy /proc/cpuinfo's flags allow: %s\n", copies[chosen].k->level,
               chosen == oracle ? "yes" : "NO");
    }
    for (i = 0; i < N_COPIES; i++)
        if (!runnable(i, have))
            printf("not run: %s (CPU lacks %s)\n", copies[i].k->level, feature_list(copies[i].need & ~have, buf, sizeof buf));
    fflush(stderr);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

/* --bench: the median time of each kernel call, per copy */
static int mode_bench(unsigned have) {
    char label[LABEL];
    int i, kd, bad = 0;
    print_copies(have, select_copy(have));
    printf("\nmedian of %d runs, microseconds per call, one thread (weights packed beforehand, not timed);\n"
           "each copy's output checked against the reference (\"DIFF\": it is not)\n\n%-44s", BENCH_REPS, "call");
    for (i = 0; i < N_COPIES; i++) if (runnable(i, have)) printf(" %10s", copies[i].k->level);
    printf("\n");
    for (kd = 0; kd < N_KINDS; kd++) {
        int v = kinds[kd].nspecs - 1;
        result ref, r;
        quant_status rst = run_case(NULL, kd, v, &ref, NULL, label);
        printf("%-44s", label);
        for (i = 0; i < N_COPIES; i++) {
            double us = 0;
            quant_status st;
            if (!runnable(i, have)) continue;
            st = run_case(copies[i].k, kd, v, &r, &us, label);
            if (st != QUANT_OK || rst != QUANT_OK || first_diff(&ref, &r) != -1 - GUARD) { printf(" %10s", "DIFF"); bad = 1; }
            else printf(" %10.1f", us);
            fflush(stdout);
            free(r.p);
        }
        printf("\n");
        free(ref.p);
    }
    return bad;
}

/* default: select, report, run the workload through the selected copy */
static int mode_run(unsigned have, int chosen) {
    char label[LABEL];
    int kd, v, n = 0, same = 0;
    const dispatch_kernels *k = copies[chosen].k;
    print_copies(have, chosen);
    printf("using %s (its quant_isa_name() says \"%s\")\n", k->level, k->isa_name());
    for (kd = 0; kd < N_KINDS; kd++)
        for (v = 0; v < kinds[kd].nspecs - 1; v++) {
            result ref, r;
            quant_status rs = run_case(NULL, kd, v, &ref, NULL, label), st = run_case(k, kd, v, &r, NULL, label);
            int ok = rs == QUANT_OK && st == QUANT_OK && first_diff(&ref, &r) == -1 - GUARD;
            if (!ok) printf("  %s: %s\n", label, st != QUANT_OK ? quant_status_str(st) : "DIFFERS from the reference");
            n++; same += ok;
            free(ref.p); free(r.p);
        }
    printf("%d of %d kernel calls through %s returned the quant.h reference's bytes\n", same, n, k->level);
    return same == n ? 0 : 1;
}

static void usage(FILE *f) {
    fprintf(f,
        "usage: dispatch [--all | --bench | --use LEVEL | --help]\n"
        "One program holding several builds of the quant kernels (one per instruction-set level),\n"
        "choosing at run time by CPUID what this CPU (and OS) can run.\n"
        "  (none)       list the copies, select the best runnable one, run the test workload\n"
        "               through it and compare with the quant.h references\n"
        "  --all        run the workload through every copy this CPU can run: every output byte for\n"
        "               byte equal to the reference; pack sizes, quant_isa_name() of each copy, the\n"
        "               selection (against /proc/cpuinfo, or the copy named by the environment\n"
        "               variable DISPATCH_EXPECT: under an emulator); ends with \"N passed, N failed\"\n"
        "               (the test, build/test_dispatch, is this program with --all as its default)\n"
        "  --bench      median time (microseconds, %d runs) of an engine-sized call of each kernel\n"
        "               in each runnable copy\n"
        "  --use LEVEL  as (none), with the copy LEVEL instead of the best\n"
        "  --help       this text\n"
        "exit status: 0 all outputs equal the reference; 1 a difference or a failed check (or no memory);\n"
        "             2 bad usage; 3 --use names a copy this CPU cannot run\n", BENCH_REPS);
}

int main(int argc, char **argv) {
    unsigned have = cpu_features();
    int i, mode = 0, use = 0, chosen = select_copy(have);
#ifdef DISPATCH_TEST
    mode = 1; /* build/test_dispatch: --all by default */
#endif
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 0; }
        else if (!strcmp(argv[i], "--all")) mode = 1;
        else if (!strcmp(argv[i], "--bench")) mode = 2;
        else if (!strcmp(argv[i], "--use") && i + 1 < argc) {
            char buf[256];
            const char *want = argv[++i];
            use = 1;
            for (chosen = 0; chosen < N_COPIES && strcmp(copies[chosen].k->level, want); chosen++) {}
            if (chosen == N_COPIES) {
                fprintf(stderr, "dispatch: no copy \"%s\" in this binary (", want);
                for (chosen = 0; chosen < N_COPIES; chosen++) fprintf(stderr, "%s%s", chosen ? ", " : "", copies[chosen].k->level);
                fprintf(stderr, ")\n");
                return 2;
            }
            if (!runnable(chosen, have)) {
                fprintf(stderr, "dispatch: copy %s not run: CPU lacks %s\n", want,
                        feature_list(copies[chosen].need & ~have, buf, sizeof buf));
                return 3;
            }
        } else { fprintf(stderr, "dispatch: unknown or incomplete argument \"%s\"\n", argv[i]); usage(stderr); return 2; }
    }
    if (use && mode) { fprintf(stderr, "dispatch: --use goes alone (--all and --bench run every copy)\n"); return 2; }
    return mode == 1 ? mode_all(have) : mode == 2 ? mode_bench(have) : mode_run(have, chosen);
}
