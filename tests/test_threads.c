/* tests/test_threads.c - the kernels run concurrently: 1, 2 and 4 threads
 * share read-only packed weights and inputs, each works on its own tiles
 * (rows of output) with its own workspace, and every output is identical
 * byte for byte to the single-threaded call (determinism across thread
 * counts). `make check-tsan` builds it under ThreadSanitizer.
 * Covered: GEMM (int8 and fp32 epilogues), conv2d, depthwise conv, binary
 * GEMM, rows quantize / requantize, PQ encode. */
#define _POSIX_C_SOURCE 200112L
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include "harness.h"
#include <pthread.h>

#define M 96
#define K 300
#define N 80

typedef struct shared {
    /* inputs (read by every thread) */
    uint8_t A[M * K];
    float X[M * K];
    int32_t acc[M * N];
    quant_requant rq[N];
    float wsc[N], asc[M], bias[N];
    void *gemm_packed, *conv_packed, *dw_packed, *b_packed;
    uint64_t abits[M * 8];
    quant_conv_shape cs;
    uint8_t img[2 * 12 * 12 * 16];
    quant_pq pq;
    void *pq_packed;
    /* outputs (each thread writes its own rows) */
    int8_t c8[M * N];
    float cf[M * N];
    uint8_t conv[2 * 12 * 12 * 24], dw[2 * 12 * 12 * 16];
    int32_t bc[M * N];
    int8_t rq8[M * K], req[M * N];
    float dsc[M];
    int32_t dzp[M];
    uint8_t codes[M * 16];
} shared;

typedef struct job { shared *s; size_t t, nt; int fails; } job;

static void range(size_t total, size_t t, size_t nt, size_t *a, size_t *b) { *a = total * t / nt; *b = total * (t + 1) / nt; }

static void *worker(void *arg) {
    job *j = (job *)arg;
    shared *s = j->s;
    size_t a, b, oh, ow, pix;
    quant_epilogue e8, ef;
    quant_bepilogue be;
    void *ws;
    size_t wsb = quant_conv2d_workspace_size(&s->cs);
    memset(&e8, 0, sizeof e8);
    e8.out = QUANT_OUT_I8; e8.rq = s->rq; e8.per_channel = 1; e8.mode = QUANT_RQ_GEMMLOWP; e8.out_zp = -3; e8.out_min = -128; e8.out_max = 127;
    memset(&ef, 0, sizeof ef);
    ef.out = QUANT_OUT_F32; ef.a_scale = s->asc; ef.w_scale = s->wsc; ef.bias_f32 = s->bias;
    memset(&be, 0, sizeof be);
    ws = malloc(wsb + 1);
    range(M, j->t, j->nt, &a, &b);
    j->fails += quant_gemm_tile(M, s->A, 0, K, 7, s->gemm_packed, &e8, s->c8, N, a, b, 0, N) != QUANT_OK;
    j->fails += quant_gemm_tile(M, s->A, 0, K, 7, s->gemm_packed, &ef, s->cf, N, a, b, 0, N) != QUANT_OK;
    j->fails += quant_bgemm_tile(M, s->abits, NULL, 8, s->b_packed, &be, s->bc, N, a, b) != QUANT_OK;
    j->fails += quant_rows_quantize_dynamic(s->X + a * K, b - a, K, K, QUANT_AFFINE, -128, 127, QUANT_I8, s->rq8 + a * K, K,
                                           s->dsc + a, s->dzp + a) != QUANT_OK;
    j->fails += quant_rows_requantize(s->acc + a * N, b - a, N, NULL, s->rq, 1, QUANT_RQ_SINGLE, 0, -128, 127, QUANT_I8, s->req + a * N) != QUANT_OK;
    j->fails += quant_pq_encode(s->pq_packed, s->X + a * K, b - a, s->codes + a * 4) != QUANT_OK;
    quant_conv_out_size(&s->cs, &oh, &ow);
    pix = s->cs.batch * oh * ow;
    range(pix, j->t, j->nt, &a, &b);
    j->fails += quant_conv2d_tile(&s->cs, s->img, 0, 5, s->conv_packed, &e8, s->conv, ws, wsb, a, b) != QUANT_OK;
    {
        quant_conv_shape d = s->cs;
        quant_epilogue e8b = e8;
        d.out_c = d.in_c;
        e8b.per_channel = 0;
        j->fails += quant_dwconv2d_tile(&d, s->img, 0, 5, s->dw_packed, &e8b, s->dw, a, b) != QUANT_OK;
    }
    free(ws);
    return NULL;
}

static shared *make_shared(void) {
    shared *s = (shared *)calloc(1, sizeof *s);
    int8_t *B = (int8_t *)malloc(K * N), *cw, *dw;
    uint64_t *wb = (uint64_t *)malloc(N * 8 * 8);
    float *cent;
    size_t i, sz;
    qt_seed_ = 77;
    for (i = 0; i < M * K; i++) { s->A[i] = (uint8_t)qt_rand32(); s->X[i] = (float)qt_normal(); }
    for (i = 0; i < K * N; i++) B[i] = (int8_t)qt_rand32();
    for (i = 0; i < M * N; i++) s->acc[i] = (int32_t)(qt_rand32() % 200001) - 100000;
    for (i = 0; i < N; i++) { quant_requant_from_scale(0.0005 + 1e-5 * (double)i, &s->rq[i]); s->wsc[i] = 0.01f + 0.001f * (float)i; s->bias[i] = (float)qt_normal(); }
    for (i = 0; i < M; i++) s->asc[i] = 0.02f;
    for (i = 0; i < M * 8; i++) s->abits[i] = qt_rand64();
    for (i = 0; i < N * 8; i++) wb[i] = qt_rand64();
    for (i = 0; i < M; i++) s->abits[i * 8 + 7] &= (1ull << 44) - 1; /* K = 492 bits: padding 0 */
    for (i = 0; i < N; i++) wb[i * 8 + 7] &= (1ull << 44) - 1;
    sz = quant_gemm_pack_size(K, N); s->gemm_packed = malloc(sz);
    quant_gemm_pack(B, QUANT_LAYOUT_KN, K, N, 0, s->gemm_packed, sz);
    sz = quant_bgemm_pack_size(492, N, 0); s->b_packed = malloc(sz);
    quant_bgemm_pack(wb, NULL, N, 492, s->b_packed, sz);
    memset(&s->cs, 0, sizeof s->cs);
    s->cs.batch = 2; s->cs.in_h = s->cs.in_w = 12; s->cs.in_c = 16; s->cs.out_c = 24; s->cs.k_h = s->cs.k_w = 3;
    s->cs.stride_h = s->cs.stride_w = s->cs.dil_h = s->cs.dil_w = 1; s->cs.pad_top = s->cs.pad_left = s->cs.pad_bottom = s->cs.pad_right = 1;
    for (i = 0; i < sizeof s->img; i++) s->img[i] = (uint8_t)qt_rand32();
    cw = (int8_t *)malloc(24 * 9 * 16); for (i = 0; i < 24 * 9 * 16; i++) cw[i] = (int8_t)qt_rand32();
    sz = quant_conv2d_pack_size(&s->cs); s->conv_packed = malloc(sz);
    quant_conv2d_pack(cw, &s->cs, 0, s->conv_packed, sz);
    {
        quant_conv_shape d = s->cs;
        d.out_c = d.in_c;
        dw = (int8_t *)malloc(9 * 16); for (i = 0; i < 9 * 16; i++) dw[i] = (int8_t)qt_rand32();
        sz = quant_dwconv2d_pack_size(&d); s->dw_packed = malloc(sz);
        quant_dwconv2d_pack(dw, &d, 0, s->dw_packed, sz);
    }
    cent = (float *)malloc(quant_pq_centroids_floats(K, 4, 8, 0) * sizeof(float));
    for (i = 0; i < quant_pq_centroids_floats(K, 4, 8, 0); i++) cent[i] = (float)qt_normal();
    quant_pq_init(&s->pq, K, 4, 8, 0, cent);
    sz = quant_pq_pack_size(&s->pq); s->pq_packed = malloc(sz);
    quant_pq_pack(&s->pq, s->pq_packed, sz);
    free(B); free(wb); free(cw); free(dw);
    return s;
}

static void free_shared(shared *s) {
    free(s->gemm_packed); free(s->conv_packed); free(s->dw_packed); free(s->b_packed); free(s->pq_packed); free(s->pq.centroids);
    free(s);
}

/* runs every kernel on nt threads; returns the outputs */
static shared *run(size_t nt) {
    shared *s = make_shared();
    pthread_t th[4];
    job jobs[4];
    size_t t;
    for (t = 0; t < nt; t++) { jobs[t].s = s; jobs[t].t = t; jobs[t].nt = nt; jobs[t].fails = 0; }
    for (t = 1; t < nt; t++) if (pthread_create(&th[t], NULL, worker, &jobs[t])) { CHECK(0); return s; }
    worker(&jobs[0]);
    for (t = 1; t < nt; t++) pthread_join(th[t], NULL);
    for (t = 0; t < nt; t++) CHECKF(jobs[t].fails == 0, "%d threads: thread %d had %d failing calls", (int)nt, (int)t, jobs[t].fails);
    return s;
}

static void test_thread_counts_agree(void) {
    shared *one = run(1), *two = run(2), *four = run(4);
    size_t off = offsetof(shared, c8), len = sizeof(shared) - off;
    CHECK(!memcmp((char *)one + off, (char *)two + off, len));
    CHECK(!memcmp((char *)one + off, (char *)four + off, len));
    /* and the single-threaded outputs are the reference's */
    {
        int8_t ref[M * N];
        CHECK(quant_requantize(one->acc, M, N, NULL, one->rq, 1, QUANT_RQ_SINGLE, 0, -128, 127, QUANT_I8, ref) == QUANT_OK);
        CHECK(!memcmp(ref, one->req, sizeof ref));
    }
    free_shared(one); free_shared(two); free_shared(four);
}

int main(void) {
    RUN(test_thread_counts_agree);
    return qt_summary();
}
