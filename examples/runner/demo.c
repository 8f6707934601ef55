/* examples/runner/demo.c - `make demo`: the Fashion-MNIST models from float
 * to int8 (five observers), int8 dynamic, int4, ternary, binary and mixed
 * precision, each evaluated on the 10,000 test images: accuracy, weight
 * size, latency at batch 1 and throughput at batch 64, single thread. The
 * post-training steps of quant.h section 12, through runner.h's rn_ptq_* and
 * rn_equalize (what quant-tool quantize --bias-correct, --round gptq and
 * --equalize run): int4 with bias correction, GPTQ rounding (its Hessians on
 * the first 250 calibration images) and both; int8 with one weight scale a
 * tensor, alone, equalized, and equalized with bias correction. Under each
 * such row, what the step changed: the largest bias shift per layer, each
 * layer's output SQNR on the calibration images (nearest -> GPTQ), each
 * equalized pair's channel-range spread (before -> after).
 *
 *   demo [models_dir] [data_dir] [figure.svg]
 *
 * QUANT_DEMO_IMAGES=n evaluates only the first n test images and calibrates
 * on at most n training images (for valgrind and the determinism check),
 * and prints a hash of every output probability of each mode; the GPTQ
 * rows are left out there (factorizing d1's 3136 x 3136 Hessian takes
 * seconds natively, minutes under valgrind).
 */
#define _POSIX_C_SOURCE 199309L
#ifndef QT_SEPARATE_IMPL /* the Makefile links the implementation as an object of its own */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include "runner.h"
#include <time.h>

static unsigned long long g_hash = 1469598103934665603ull; /* FNV-1a of the outputs of a mode */
static int g_limited;
static double g_fp_acc; /* the fp32 row, for the rows printed where they are measured */
static size_t g_fp_bytes;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

typedef struct { const unsigned char *x, *y; size_t n, size; } dataset;

/* accuracy over the whole set at batch `B`, and the images/s it took */
static double evaluate(rn_model *m, const dataset *d, double *ips) {
    size_t i0, j, correct = 0;
    double t0 = now();
    for (i0 = 0; i0 < d->n; i0 += (size_t)m->batch) {
        size_t bn = d->n - i0 < (size_t)m->batch ? d->n - i0 : (size_t)m->batch, b;
        float *x = m->v[m->input].f;
        for (j = 0; j < bn * d->size; j++) x[j] = (float)d->x[i0 * d->size + j] / 255.0f;
        if (rn_run(m, (int)bn)) { fprintf(stderr, "demo: %s\n", m->err); return -1; }
        for (b = 0; b < bn; b++) {
            const float *p = rn_output(m, (int)b);
            size_t k, best = 0;
            for (k = 1; k < m->v[m->output].size; k++) if (p[k] > p[best]) best = k;
            for (k = 0; k < m->v[m->output].size * sizeof(float); k++) g_hash = (g_hash ^ ((const unsigned char *)p)[k]) * 1099511628211ull;
            correct += best == d->y[i0 + b];
        }
    }
    *ips = (double)d->n / (now() - t0);
    return (double)correct / (double)d->n;
}

/* median latency of one image at batch 1 (the model must be prepared for batch >= 1) */
static double latency_us(rn_model *m, const dataset *d, int count) {
    double t[1000];
    int i;
    size_t j;
    if (count > 1000) count = 1000;
    for (i = 0; i < count; i++) {
        float *x = m->v[m->input].f;
        double t0;
        for (j = 0; j < d->size; j++) x[j] = (float)d->x[(size_t)i * d->size + j] / 255.0f;
        t0 = now();
        if (rn_run(m, 1)) { fprintf(stderr, "demo: %s\n", m->err); return 0; }
        t[i] = now() - t0;
    }
    qsort(t, (size_t)count, sizeof(double), cmpd);
    return t[count / 2] * 1e6;
}

typedef struct { const char *label, *detail; double acc, lat, ips; size_t bytes; int ok; unsigned long long hash; } row;

/* the rows for the accuracy-versus-size figure */
static rn_point g_pts[32];
static int g_npts;
static void add_point(const char *label, const row *r) {
    if (!r->ok || g_npts == 32) return;
    g_pts[g_npts].label = label; g_pts[g_npts].x = r->bytes / 1024.0; g_pts[g_npts].y = 100 * r->acc; g_npts++;
}

static int load_data(const char *dir, const char *imgs, const char *labels, dataset *d, unsigned char **b1, unsigned char **b2) {
    char p1[512], p2[512], err[256];
    size_t di[3], dl[1];
    snprintf(p1, sizeof p1, "%s/%s", dir, imgs);
    snprintf(p2, sizeof p2, "%s/%s", dir, labels);
    if (rn_idx_load(p1, 3, di, b1, &d->x, err, sizeof err) || rn_idx_load(p2, 1, dl, b2, &d->y, err, sizeof err)) {
        fprintf(stderr, "demo: %s\n", err);
        return -1;
    }
    if (di[0] != dl[0]) { fprintf(stderr, "demo: %zu images but %zu labels\n", di[0], dl[0]); return -1; }
    d->n = di[0]; d->size = di[1] * di[2];
    return 0;
}

/* one mode of one model: load for batch 64 (and 1), calibrate if static,
 * evaluate; g_rrange: with 7-bit activations (rn_set_reduce_range) */
static int g_rrange;
static row run_mode(const char *model, int mode, int observer, const dataset *test, const dataset *calib,
                    const char *label, const char *detail, const int *bits) {
    row r;
    rn_model m, m1, fp;
    memset(&r, 0, sizeof r);
    r.label = label; r.detail = detail;
    if (rn_model_load(&m, model, mode, 64)) { fprintf(stderr, "demo: %s: %s\n", model, m.err); return r; }
    if (rn_model_load(&m1, model, mode, 1)) { fprintf(stderr, "demo: %s: %s\n", model, m1.err); rn_model_free(&m); return r; }
    if (bits) { /* mixed precision: per-node bits chosen by the caller, then re-prepared */
        if (rn_set_bits(&m, bits) || rn_set_bits(&m1, bits)) {
            fprintf(stderr, "demo: %s\n", m.err[0] ? m.err : m1.err);
            rn_model_free(&m); rn_model_free(&m1); return r;
        }
    }
    if (g_rrange) { rn_set_reduce_range(&m, 1); rn_set_reduce_range(&m1, 1); }
    if (mode != RN_FP32 && mode != RN_DYN && mode != RN_CODEBOOK) {
        if (rn_model_load(&fp, model, RN_FP32, 100)) { fprintf(stderr, "demo: %s\n", fp.err); rn_model_free(&m); rn_model_free(&m1); return r; }
        if (rn_calibrate(&fp, &m, calib->x, calib->n, calib->size, (quant_observer_kind)observer) ||
            rn_calibrate(&fp, &m1, calib->x, calib->n, calib->size, (quant_observer_kind)observer)) {
            fprintf(stderr, "demo: calibration failed: %s\n", m.err[0] ? m.err : m1.err);
            rn_model_free(&fp); rn_model_free(&m); rn_model_free(&m1); return r;
        }
        rn_model_free(&fp);
    }
    g_hash = 1469598103934665603ull;
    r.acc = evaluate(&m, test, &r.ips);
    r.hash = g_hash;
    r.lat = test->n >= 1000 ? latency_us(&m1, test, 300) : 0; /* no latency for the calibration-set probes */
    r.bytes = m.weight_bytes;
    r.ok = r.acc >= 0;
    rn_model_free(&m); rn_model_free(&m1);
    return r;
}

static void print_row(const row *r, double fp_acc, size_t fp_bytes) {
    if (!r->ok) { printf("  %-22s %-22s %s\n", r->label, r->detail, "(not available)"); return; }
    if (g_limited) { /* no timings: the outputs' hash instead (identical across runs and builds) */
        printf("  %-22s %-22s %7.2f%% %+6.2f  %9.1f KiB %5.1fx  outputs %016llx\n", r->label, r->detail, 100 * r->acc,
               100 * (r->acc - fp_acc), r->bytes / 1024.0, (double)fp_bytes / (double)r->bytes, r->hash);
        return;
    }
    printf("  %-22s %-22s %7.2f%% %+6.2f  %9.1f KiB %5.1fx  %8.1f us %9.0f /s\n", r->label, r->detail, 100 * r->acc,
           100 * (r->acc - fp_acc), r->bytes / 1024.0, (double)fp_bytes / (double)r->bytes, r->lat, r->ips);
}

/* ---- post-training steps (runner.h's rn_equalize and rn_ptq_*, as quant-tool
 * quantize --equalize / --round gptq / --bias-correct): a row's model is
 * loaded, equalized (all three copies alike: the calibration runs the
 * equalized float model), its codes chosen and put in, then calibrated. */
enum { PTQ_TENSOR = 1, PTQ_EQ = 2, PTQ_GPTQ = 4, PTQ_BIAS = 8 };
#define GPTQ_IMAGES 250 /* GPTQ's Hessians on the first 250 calibration images (their cost grows with the count) */

/* the codes of one model, mode and (per-tensor, equalize) setting: GPTQ's,
 * with the corrected biases beside them, kept for the next row */
typedef struct {
    int valid, mode, flags;
    const char *model;
    int8_t *wq[RN_MAX_NODES];
    float *sc[RN_MAX_NODES], *qb[RN_MAX_NODES];
    double sqnr[RN_MAX_NODES];
    rn_ptq_layer L[RN_MAX_NODES]; /* stats only (H and ex freed) */
} ptq_codes;
static ptq_codes g_gptq;

static void ptq_codes_free(ptq_codes *c) {
    int i;
    for (i = 0; i < RN_MAX_NODES; i++) { free(c->wq[i]); free(c->sc[i]); free(c->qb[i]); }
    memset(c, 0, sizeof *c);
}

/* codes for every conv / dense layer of q (nearest, GPTQ with `gptq`, the
 * corrected bias with `bias`) from the float model fp */
static int ptq_compute(rn_model *fp, rn_model *q, const dataset *calib, int gptq, int bias, int per_tensor, ptq_codes *c) {
    rn_ptq_layer *ph = NULL, *pe = NULL;
    int i, rc = -1;
    size_t nh = calib->n < GPTQ_IMAGES ? calib->n : GPTQ_IMAGES;
    if (gptq && !(ph = rn_ptq_collect(fp, calib->x, NULL, nh, calib->size, 1, 0, NULL, NULL))) { fprintf(stderr, "demo: %s\n", fp->err); return -1; }
    if (bias && !(pe = rn_ptq_collect(fp, calib->x, NULL, calib->n, calib->size, 0, 1, NULL, NULL))) { fprintf(stderr, "demo: %s\n", fp->err); goto done; }
    for (i = 0; i < q->nn; i++) {
        rn_node *n = &q->n[i];
        rn_ptq_layer L;
        size_t nsc = n->q4 ? n->N * ((n->K + 31) / 32) : n->N;
        if (!rn_is_linear(n->op)) continue;
        memset(&L, 0, sizeof L);
        if (ph) { L.H = ph[i].H; L.gptq = ph[i].gptq; }
        if (pe) L.ex = pe[i].ex;
        c->wq[i] = (int8_t *)malloc(n->K * n->N + 1);
        c->sc[i] = (float *)malloc(nsc * sizeof(float) + 4);
        c->qb[i] = bias ? (float *)malloc(n->N * sizeof(float) + 4) : NULL;
        if (!c->wq[i] || !c->sc[i] || (bias && !c->qb[i])) { fprintf(stderr, "demo: out of memory\n"); goto done; }
        if (rn_ptq_codes(q, i, &L, per_tensor, c->wq[i], c->sc[i], c->qb[i], &c->sqnr[i])) { fprintf(stderr, "demo: %s\n", q->err); goto done; }
        L.H = NULL; L.ex = NULL;
        c->L[i] = L;
    }
    rc = 0;
done:
    rn_ptq_free(ph, fp->nn); rn_ptq_free(pe, fp->nn);
    return rc;
}

/* what the steps changed, measured: one line */
static void ptq_report(const rn_model *q, const rn_eq_report *eq, const ptq_codes *c, int flags) {
    int i, k;
    printf("  %46s weights %zu bytes (codes, scales and biases, as quant-tool eval counts them)\n", "", q->weight_bytes);
    if (flags & PTQ_EQ) {
        printf("  %46s channel-range spread (max / min |w| a channel) of A's outputs, B's inputs:", "");
        for (k = 0; k < eq->np; k++)
            printf("%s %s->%s %.1f->%.1f, %.1f->%.1f", k ? ";" : "", q->v[q->n[eq->pair[k].a].out].name, q->v[q->n[eq->pair[k].b].out].name,
                   eq->pair[k].spread_a[0], eq->pair[k].spread_a[1], eq->pair[k].spread_b[0], eq->pair[k].spread_b[1]);
        printf("\n");
    }
    if (flags & PTQ_GPTQ) {
        printf("  %46s output SQNR on %d calibration images, nearest -> GPTQ:", "", GPTQ_IMAGES);
        for (i = k = 0; i < q->nn; i++)
            if (rn_is_linear(q->n[i].op) && c->L[i].gptq && c->L[i].en > 0 && c->L[i].eg > 0)
                printf("%s %s %.1f->%.1f", k++ ? "," : "", q->v[q->n[i].out].name, 10 * log10(c->L[i].sig / c->L[i].en), 10 * log10(c->L[i].sig / c->L[i].eg));
        printf(" dB\n");
    }
    if (flags & PTQ_BIAS) {
        printf("  %46s largest bias shift:", "");
        for (i = k = 0; i < q->nn; i++)
            if (rn_is_linear(q->n[i].op)) printf("%s %s %.2g", k++ ? "," : "", q->v[q->n[i].out].name, c->L[i].db);
        printf("\n");
    }
}

/* one row with post-training steps; like run_mode otherwise */
static row run_ptq(const char *model, int mode, int observer, const dataset *test, const dataset *calib,
                   const char *label, const char *detail, int flags) {
    row r;
    rn_model m, m1, fp;
    rn_eq_report *eq = (rn_eq_report *)calloc(1, sizeof *eq);
    ptq_codes local, *c = &local;
    int i, nload = 0;
    memset(&r, 0, sizeof r); memset(&local, 0, sizeof local);
    r.label = label; r.detail = detail;
    if (!eq) return r;
    if (rn_model_load(&m, model, mode, 64)) { fprintf(stderr, "demo: %s: %s\n", model, m.err); goto out; }
    nload++;
    if (rn_model_load(&m1, model, mode, 1)) { fprintf(stderr, "demo: %s: %s\n", model, m1.err); goto out; }
    nload++;
    if (rn_model_load(&fp, model, RN_FP32, 100)) { fprintf(stderr, "demo: %s\n", fp.err); goto out; }
    nload++;
    if ((flags & PTQ_EQ) && (rn_equalize(&fp, eq) || rn_equalize(&m, eq) || rn_equalize(&m1, eq))) {
        fprintf(stderr, "demo: %s\n", fp.err[0] ? fp.err : m.err[0] ? m.err : m1.err); goto out;
    }
    if ((flags & PTQ_TENSOR) && (rn_set_per_tensor(&m, 1) || rn_set_per_tensor(&m1, 1))) { fprintf(stderr, "demo: %s\n", m.err); goto out; }
    if (flags & (PTQ_GPTQ | PTQ_BIAS)) {
        const int key = flags & (PTQ_TENSOR | PTQ_EQ);
        if (flags & PTQ_GPTQ) { /* GPTQ's codes and the biases corrected for them, once for both rows */
            if (!g_gptq.valid || g_gptq.model != model || g_gptq.mode != mode || g_gptq.flags != key) {
                ptq_codes_free(&g_gptq);
                if (ptq_compute(&fp, &m, calib, 1, 1, (flags & PTQ_TENSOR) != 0, &g_gptq)) { ptq_codes_free(&g_gptq); goto out; }
                g_gptq.valid = 1; g_gptq.model = model; g_gptq.mode = mode; g_gptq.flags = key;
            }
            c = &g_gptq;
        } else if (ptq_compute(&fp, &m, calib, 0, 1, (flags & PTQ_TENSOR) != 0, c)) goto out;
        for (i = 0; i < m.nn; i++) {
            const float *qb = (flags & PTQ_BIAS) ? c->qb[i] : NULL;
            if (!rn_is_linear(m.n[i].op)) continue;
            if (rn_ptq_install(&m, i, c->wq[i], c->sc[i], qb) || rn_ptq_install(&m1, i, c->wq[i], c->sc[i], qb)) {
                fprintf(stderr, "demo: %s\n", m.err[0] ? m.err : m1.err); goto out;
            }
        }
    }
    if (rn_calibrate(&fp, &m, calib->x, calib->n, calib->size, (quant_observer_kind)observer)) {
        fprintf(stderr, "demo: calibration failed: %s\n", m.err); goto out;
    }
    for (i = 0; i < m.nv; i++) { m1.v[i].scale = m.v[i].scale; m1.v[i].zp = m.v[i].zp; m1.v[i].has_params = m.v[i].has_params; }
    if (rn_finish_params(&m1)) { fprintf(stderr, "demo: %s\n", m1.err); goto out; } /* the batch-1 copy: the same params */
    g_hash = 1469598103934665603ull;
    r.acc = evaluate(&m, test, &r.ips);
    r.hash = g_hash;
    r.lat = test->n >= 1000 ? latency_us(&m1, test, 300) : 0;
    r.bytes = m.weight_bytes;
    r.ok = r.acc >= 0;
    if (r.ok) { print_row(&r, g_fp_acc, g_fp_bytes); ptq_report(&m, eq, c, flags); }
out:
    if (nload > 2) rn_model_free(&fp);
    if (nload > 1) rn_model_free(&m1);
    if (nload > 0) rn_model_free(&m);
    ptq_codes_free(&local);
    free(eq);
    return r;
}


int main(int argc, char **argv) {
    const char *mdir = argc > 1 ? argv[1] : "models", *ddir = argc > 2 ? argv[2] : "examples/data";
    char fl[512], te[512], bi[512];
    dataset test, calib;
    unsigned char *b1, *b2, *b3, *b4;
    row fp, r;
    static const struct { int kind; const char *name; } obs[] = {
        { QUANT_OBS_MINMAX, "MinMax" }, { QUANT_OBS_MOVING_AVERAGE, "MovingAverage" }, { QUANT_OBS_KL, "KL (entropy)" },
        { QUANT_OBS_PERCENTILE, "percentile 99.99" }, { QUANT_OBS_MSE, "MSE" } };
    int k, best_obs = 0;
    double best_acc = -1;
    double t0 = now();
    setvbuf(stdout, NULL, _IOLBF, 0); /* a row as soon as it is measured, also into a pipe or a file */
    snprintf(fl, sizeof fl, "%s/fmnist_float.safetensors", mdir);
    snprintf(te, sizeof te, "%s/fmnist_ternary.safetensors", mdir);
    snprintf(bi, sizeof bi, "%s/fmnist_binary.safetensors", mdir);
    if (load_data(ddir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", &test, &b1, &b2) ||
        load_data(ddir, "calib-1000-images-idx3-ubyte", "calib-1000-labels-idx1-ubyte", &calib, &b3, &b4)) return 1;
    if (getenv("QUANT_DEMO_IMAGES")) {
        long lim = atol(getenv("QUANT_DEMO_IMAGES"));
        if (lim < 1) { fprintf(stderr, "demo: QUANT_DEMO_IMAGES must be a positive count\n"); return 1; }
        if ((size_t)lim < test.n) test.n = (size_t)lim;
        if ((size_t)lim < calib.n) calib.n = (size_t)lim;
        g_limited = 1;
    }
    printf("quant %s build: Fashion-MNIST, %zu test images, calibration on %zu training images, one thread\n\n",
           quant_isa_name(), test.n, calib.n);
    printf("  %-22s %-22s %8s %6s  %13s %6s  %11s %12s\n", "mode", "detail", "accuracy", "delta", "weights", "ratio", "batch 1", "batch 64");
    fp = run_mode(fl, RN_FP32, 0, &test, &calib, "fp32", "reference", NULL);
    if (!fp.ok) return 1;
    print_row(&fp, fp.acc, fp.bytes);
    g_fp_acc = fp.acc; g_fp_bytes = fp.bytes;
    add_point("fp32", &fp);
    for (k = 0; k < 5; k++) {
        r = run_mode(fl, RN_INT8, obs[k].kind, &test, &calib, "int8 static", obs[k].name, NULL);
        print_row(&r, fp.acc, fp.bytes);
        if (r.ok && r.acc > best_acc) { best_acc = r.acc; best_obs = k; }
    }
    {   row b = r; b.acc = best_acc; add_point("int8 (best observer)", &b); }
    g_rrange = 1; /* activations 0..127: the kernels' u7s8 path on SSE4.1 / AVX2 / AVX-512 without VNNI */
    r = run_mode(fl, RN_INT8, obs[best_obs].kind, &test, &calib, "int8 static", "acts 0..127 (7-bit)", NULL);
    g_rrange = 0;
    print_row(&r, fp.acc, fp.bytes);
    r = run_mode(fl, RN_DYN, 0, &test, &calib, "int8 dynamic", "per-sample range", NULL);
    print_row(&r, fp.acc, fp.bytes);
    r = run_mode(fl, RN_INT4, obs[best_obs].kind, &test, &calib, "int4 weights", obs[best_obs].name, NULL);
    print_row(&r, fp.acc, fp.bytes);
    add_point("int4", &r);
    /* post-training steps (quant.h section 12) on int4 blocks; each row printed with what it changed */
    run_ptq(fl, RN_INT4, obs[best_obs].kind, &test, &calib, "int4 weights", "+ bias correction", PTQ_BIAS);
    if (!g_limited) { /* (GPTQ's factorization of d1's 3136 x 3136 Hessian alone takes seconds: not under valgrind) */
        run_ptq(fl, RN_INT4, obs[best_obs].kind, &test, &calib, "int4 weights", "+ GPTQ rounding", PTQ_GPTQ);
        r = run_ptq(fl, RN_INT4, obs[best_obs].kind, &test, &calib, "int4 weights", "+ GPTQ + bias corr.", PTQ_GPTQ | PTQ_BIAS);
        add_point("int4 GPTQ", &r);
        ptq_codes_free(&g_gptq);
    }
    /* one weight scale a tensor, and cross-layer equalization for it */
    run_ptq(fl, RN_INT8, obs[best_obs].kind, &test, &calib, "int8 per tensor", obs[best_obs].name, PTQ_TENSOR);
    run_ptq(fl, RN_INT8, obs[best_obs].kind, &test, &calib, "int8 per tensor", "+ equalization", PTQ_TENSOR | PTQ_EQ);
    run_ptq(fl, RN_INT8, obs[best_obs].kind, &test, &calib, "int8 per tensor", "+ equal. + bias corr.", PTQ_TENSOR | PTQ_EQ | PTQ_BIAS);
    {   /* mixed precision under a budget of weight bytes: rn_mixed_search (runner.h, as quant-tool quantize
         * --mode mixed --budget), each layer's sensitivity measured on the calibration images */
        static const size_t budgets[2] = { 250000, 240000 };
        rn_model fpm, qm;
        rn_mixed_plan *plan = (rn_mixed_plan *)malloc(sizeof *plan);
        int b, i;
        if (plan && rn_model_load(&fpm, fl, RN_FP32, 100) == 0) {
            if (rn_model_load(&qm, fl, RN_MIXED, 64) == 0) {
                if (rn_calibrate(&fpm, &qm, calib.x, calib.n, calib.size, (quant_observer_kind)obs[best_obs].kind) == 0) {
                    for (b = 0; b < 2; b++) {
                        char label[64], detail[160];
                        size_t dl = 0;
                        if (rn_mixed_search(&fpm, &qm, calib.x, NULL, calib.n, calib.size, budgets[b], plan)) { fprintf(stderr, "demo: %s\n", qm.err); break; }
                        if (b == 0) {
                            printf("\n  per-layer sensitivity (that layer alone at 4 bits: output SQNR against fp32 on the calibration images; all at 8: %.2f dB)\n",
                                   plan->noise8 > 0 ? 10 * log10(plan->signal / plan->noise8) : INFINITY);
                            for (i = 0; i < qm.nn; i++)
                                if (plan->alone[i] >= 0)
                                    printf("    %-8s %-10s %8zu weights  %7zu -> %7zu bytes  %6.2f dB\n", qm.v[qm.n[i].out].name, rn_op_names[qm.n[i].op],
                                           qm.n[i].K * qm.n[i].N, rn_layer_bytes(&qm.n[i], 8), rn_layer_bytes(&qm.n[i], 4),
                                           plan->alone[i] > 0 ? 10 * log10(plan->signal / plan->alone[i]) : INFINITY);
                            printf("\n");
                        }
                        detail[0] = 0;
                        for (i = 0; i < qm.nn && dl + 16 < sizeof detail; i++)
                            if (rn_is_linear(qm.n[i].op) && plan->bits[i] == 4)
                                dl += (size_t)snprintf(detail + dl, sizeof detail - dl, "%s%s", dl ? "," : "", qm.v[qm.n[i].out].name);
                        if (dl + 8 < sizeof detail) snprintf(detail + dl, sizeof detail - dl, " at 4");
                        snprintf(label, sizeof label, "mixed, <= %zu B", budgets[b]);
                        r = run_mode(fl, RN_MIXED, obs[best_obs].kind, &test, &calib, label, detail, plan->bits);
                        print_row(&r, fp.acc, fp.bytes);
                        if (b == 0) add_point("mixed 8/4", &r);
                    }
                } else fprintf(stderr, "demo: calibration failed: %s\n", qm.err);
                rn_model_free(&qm);
            } else fprintf(stderr, "demo: %s\n", qm.err);
            rn_model_free(&fpm);
        }
        free(plan);
    }
    r = run_mode(fl, RN_CODEBOOK, 0, &test, &calib, "codebook dense", "16 entries, 4-bit: 8x", NULL);
    print_row(&r, fp.acc, fp.bytes);
    add_point("codebook dense", &r);
    r = run_mode(te, RN_TERNARY, obs[best_obs].kind, &test, &calib, "ternary weights", "TWN, 8-bit first/last", NULL);
    print_row(&r, fp.acc, fp.bytes);
    add_point("ternary", &r);
    r = run_mode(bi, RN_BINARY, obs[best_obs].kind, &test, &calib, "binary (XNOR)", "8-bit first/last", NULL);
    print_row(&r, fp.acc, fp.bytes);
    add_point("binary", &r);
    if (rn_svg_scatter(argc > 3 ? argv[3] : "build/accuracy_vs_size.svg", "Fashion-MNIST: accuracy versus weight size",
                       "weights (KiB, log scale)", "test accuracy (%)", g_pts, g_npts, 1) == 0)
        printf("\n  figure: %s\n", argc > 3 ? argv[3] : "build/accuracy_vs_size.svg");
    printf("\n  accuracy delta is against fp32; ratio is fp32 weight bytes / this mode's; total %.1f s\n", now() - t0);
    free(b1); free(b2); free(b3); free(b4);
    return 0;
}
