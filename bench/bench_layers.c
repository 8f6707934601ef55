/* bench/bench_layers.c - where a model's time goes, node by node: a quantized
 * model file (quant-tool quantize) run at a batch size, each node's exec timed
 * separately, medians over rounds, in microseconds per image.
 *
 *   cc -std=c99 -O2 -march=native -I. -Iexamples/runner -D_POSIX_C_SOURCE=200809L \
 *      bench/bench_layers.c -o build/bench_layers -lm
 *   build/bench_layers MODEL IMAGES_IDX [batch 64] [rounds 51]
 *
 * e.g. quant-tool quantize models/fmnist_float.safetensors \
 *        examples/data/calib-1000-images-idx3-ubyte q8.safetensors --mode int8
 *      build/bench_layers q8.safetensors examples/data/t10k-images-idx3-ubyte 64
 */
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"
#include "runner.h"
#include "data.h"
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
    rn_model m;
    rn_data d;
    char err[512];
    int batch = argc > 3 ? atoi(argv[3]) : 64, rounds = argc > 4 ? atoi(argv[4]) : 51, r, i, steps;
    double *t, *tot;
    size_t first;
    if (argc < 3) { fprintf(stderr, "usage: bench_layers MODEL IMAGES_IDX [batch] [rounds]\n"); return 2; }
    if (rn_model_load(&m, argv[1], RN_INT8, batch)) { fprintf(stderr, "%s\n", m.err); return 1; }
    if (m.stored_mode >= 0 && m.stored_mode != RN_INT8) {
        rn_model_free(&m);
        fprintf(stderr, "bench_layers: a model quantized for int8 (static) is needed\n");
        return 1;
    }
    if (rn_data_load(&d, argv[2], err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    steps = (int)(d.count / (size_t)batch); /* distinct batches cycled through */
    if (steps < 1) { fprintf(stderr, "fewer images than a batch\n"); return 1; }
    t = (double *)calloc((size_t)(m.nn + 1) * (size_t)rounds, sizeof(double));
    tot = (double *)calloc((size_t)rounds, sizeof(double));
    for (r = -3; r < rounds; r++) { /* 3 warm-up rounds */
        int s;
        double r0 = now();
        for (s = 0; s < 10; s++) { /* 10 batches a round */
            rn_value *in = &m.v[m.input];
            double t0;
            first = (size_t)(((r + 3) * 10 + s) % steps) * (size_t)batch;
            if (rn_data_set_input(&m, &d, first, (size_t)batch)) { fprintf(stderr, "%s\n", m.err); return 1; }
            t0 = now();
            quant_rows_quantize(in->f, (size_t)batch, in->size, in->size, QUANT_PER_TENSOR, &in->scale, &in->zp, 0, RN_QMAX(&m), QUANT_U8, in->q, in->size);
            if (r >= 0) t[(size_t)m.nn * (size_t)rounds + (size_t)r] += now() - t0;
            for (i = 0; i < m.nn; i++) {
                rn_node *n = &m.n[i];
                if (!n->exec) continue;
                t0 = now();
                if (n->exec(&m, n, batch)) { fprintf(stderr, "%s\n", m.err); return 1; }
                if (r >= 0) t[(size_t)i * (size_t)rounds + (size_t)r] += now() - t0;
            }
        }
        if (r >= 0) tot[r] = now() - r0;
    }
    printf("%s, batch %d, %s: median us per image over %d rounds of 10 batches\n", argv[1], batch, quant_isa_name(), rounds);
    for (i = 0; i <= m.nn; i++) {
        double *ti = t + (size_t)i * (size_t)rounds;
        if (i < m.nn && !m.n[i].exec) continue;
        qsort(ti, (size_t)rounds, sizeof(double), cmpd);
        if (i == m.nn) printf("  %-10s %-9s %8.2f\n", "input", "quantize", ti[rounds / 2] / (10.0 * batch) * 1e6);
        else {
            const rn_node *n = &m.n[i];
            printf("  %-10s %-9s %8.2f", m.v[n->y].name, rn_op_names[n->op], ti[rounds / 2] / (10.0 * batch) * 1e6);
            if (n->op == RN_OP_CONV)
                printf("   %zux%zux%zu -> %zu, k %zux%zu, K %zu", n->cs.in_h, n->cs.in_w, n->cs.in_c, n->cs.out_c, n->cs.k_h, n->cs.k_w, n->K);
            printf("\n");
        }
    }
    qsort(tot, (size_t)rounds, sizeof(double), cmpd);
    printf("  %-10s %-9s %8.2f   (%.0f images/s, input copy included)\n", "total", "", tot[rounds / 2] / (10.0 * batch) * 1e6,
           10.0 * batch / tot[rounds / 2]);
    free(t); free(tot); rn_data_free(&d); rn_model_free(&m);
    return 0;
}
