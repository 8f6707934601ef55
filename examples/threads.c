/* examples/threads.c - parallelism belongs to the caller: quant's GEMM and
 * convolution expose independent tiles (rows of output), here run on 2
 * pthreads. The result is bit-identical to the single-threaded call.
 *
 *   cc -O2 -march=native -I. examples/threads.c -lm -lpthread && ./a.out
 */
#define _POSIX_C_SOURCE 199309L
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

/* One job: a range of output rows of C = A x B (int32 out). */
typedef struct {
    size_t M, K, N, m0, m1;
    const uint8_t *A;
    const void *packed;
    const quant_epilogue *ep;
    int32_t *C;
    quant_status st;
} gemm_job;

static void *gemm_worker(void *arg) {
    gemm_job *j = (gemm_job *)arg;
    j->st = quant_gemm_tile(j->M, j->A, 0, j->K, 0, j->packed, j->ep, j->C, j->N, j->m0, j->m1, 0, j->N);
    return NULL;
}

/* One job: a range of output pixels of a 3x3 convolution, with its own
 * im2col workspace (the only scratch memory, given by the caller). */
typedef struct {
    const quant_conv_shape *s;
    const uint8_t *in;
    const void *packed;
    const quant_epilogue *ep;
    uint8_t *out;
    void *ws;
    size_t ws_bytes, p0, p1;
    quant_status st;
} conv_job;

static void *conv_worker(void *arg) {
    conv_job *j = (conv_job *)arg;
    j->st = quant_conv2d_tile(j->s, j->in, 0, 128, j->packed, j->ep, j->out, j->ws, j->ws_bytes, j->p0, j->p1);
    return NULL;
}

int main(int argc, char **argv) {
    size_t M = 2048, N = 2048, K = 2048, i;
    int reps = argc > 1 ? atoi(argv[1]) : 3, r, t;
    uint8_t *A = (uint8_t *)malloc(M * K);
    int8_t *B = (int8_t *)malloc(K * N);
    int32_t *C1 = (int32_t *)malloc(M * N * 4), *C2 = (int32_t *)malloc(M * N * 4);
    size_t bytes = quant_gemm_pack_size(K, N);
    void *packed = malloc(bytes);
    quant_epilogue ep;
    double best1 = 1e30, best2 = 1e30;
    memset(&ep, 0, sizeof ep); /* int32 output */
    for (i = 0; i < M * K; i++) A[i] = (uint8_t)(i * 2654435761u >> 24);
    for (i = 0; i < K * N; i++) B[i] = (int8_t)(i * 2246822519u >> 24);
    if (quant_gemm_pack(B, QUANT_LAYOUT_KN, K, N, 0, packed, bytes) != QUANT_OK) return 1;

    printf("quant %s build: %zux%zux%zu int8 GEMM, int32 output, best of %d\n", quant_isa_name(), M, N, K, reps);
    for (r = 0; r < reps; r++) {
        double t0 = now();
        if (quant_gemm(M, A, 0, K, 0, packed, &ep, C1, N) != QUANT_OK) return 1;
        t0 = now() - t0;
        if (t0 < best1) best1 = t0;
    }
    for (r = 0; r < reps; r++) {
        pthread_t th[2];
        gemm_job jobs[2];
        double t0 = now();
        for (t = 0; t < 2; t++) {
            /* split rows at a multiple of 64 so each thread gets whole row blocks */
            size_t half = M / 2 / 64 * 64;
            gemm_job j = { M, K, N, t ? half : 0, t ? M : half, A, packed, &ep, C2, QUANT_OK };
            jobs[t] = j;
            pthread_create(&th[t], NULL, gemm_worker, &jobs[t]);
        }
        for (t = 0; t < 2; t++) pthread_join(th[t], NULL);
        t0 = now() - t0;
        for (t = 0; t < 2; t++) if (jobs[t].st != QUANT_OK) return 1;
        if (t0 < best2) best2 = t0;
    }
    printf("  1 thread : %8.1f GOPS\n", 2.0 * M * N * K / best1 / 1e9);
    printf("  2 threads: %8.1f GOPS  (%.2fx), result %s\n", 2.0 * M * N * K / best2 / 1e9, best1 / best2,
           memcmp(C1, C2, M * N * 4) == 0 ? "identical" : "DIFFERENT");
    if (memcmp(C1, C2, M * N * 4) != 0) return 1;

    {   /* a 3x3 convolution, 56x56x64 -> 64, uint8 output, split by pixels */
        quant_conv_shape s;
        size_t oh, ow, P, wsb, pb;
        uint8_t *in, *o1, *o2;
        int8_t *w;
        void *pk, *ws[2];
        quant_requant rq;
        memset(&s, 0, sizeof s);
        s.batch = 1; s.in_h = s.in_w = 56; s.in_c = 64; s.out_c = 64; s.k_h = s.k_w = 3;
        s.stride_h = s.stride_w = s.dil_h = s.dil_w = 1; s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = 1;
        quant_conv_out_size(&s, &oh, &ow);
        P = oh * ow;
        in = (uint8_t *)malloc(56 * 56 * 64); o1 = (uint8_t *)malloc(P * 64); o2 = (uint8_t *)malloc(P * 64);
        w = (int8_t *)malloc(64 * 9 * 64);
        for (i = 0; i < 56 * 56 * 64; i++) in[i] = (uint8_t)(i * 40503u >> 8);
        for (i = 0; i < 64 * 9 * 64; i++) w[i] = (int8_t)(i * 2654435761u >> 25) - 64;
        pb = quant_conv2d_pack_size(&s); pk = malloc(pb);
        wsb = quant_conv2d_workspace_size(&s); ws[0] = malloc(wsb); ws[1] = malloc(wsb);
        quant_conv2d_pack(w, &s, 0, pk, pb);
        quant_requant_from_scale(1.0 / 4096.0, &rq);
        memset(&ep, 0, sizeof ep);
        ep.out = QUANT_OUT_U8; ep.mode = QUANT_RQ_GEMMLOWP; ep.rq = &rq; ep.out_zp = 0; ep.out_min = 0; ep.out_max = 255;
        if (quant_conv2d(&s, in, 0, 128, pk, &ep, o1, ws[0], wsb) != QUANT_OK) return 1;
        {
            pthread_t th[2];
            conv_job jobs[2];
            for (t = 0; t < 2; t++) {
                conv_job j = { &s, in, pk, &ep, o2, ws[t], wsb, t ? P / 2 : 0, t ? P : P / 2, QUANT_OK };
                jobs[t] = j;
                pthread_create(&th[t], NULL, conv_worker, &jobs[t]);
            }
            for (t = 0; t < 2; t++) pthread_join(th[t], NULL);
            for (t = 0; t < 2; t++) if (jobs[t].st != QUANT_OK) return 1;
        }
        printf("  conv 3x3 56x56x64->64 (uint8 out, fused ReLU range) on 2 threads: result %s\n",
               memcmp(o1, o2, P * 64) == 0 ? "identical" : "DIFFERENT");
        if (memcmp(o1, o2, P * 64) != 0) return 1;
        free(in); free(o1); free(o2); free(w); free(pk); free(ws[0]); free(ws[1]);
    }
    free(A); free(B); free(C1); free(C2); free(packed);
    return 0;
}
