/* tools/quant_tool.c - the command-line tools around the runner.
 *
 *   quant-tool inspect  MODEL
 *   quant-tool quantize MODEL CALIB_IMAGES_IDX OUT [--mode int8|int4|ternary|codebook] [--observer NAME]
 *   quant-tool eval     MODEL DATA_DIR [--mode fp32|int8|int8-dynamic|int4|ternary|binary] [--observer NAME]
 *   quant-tool plot     MODEL CALIB_IMAGES_IDX OUT_DIR [--test DATA_DIR] [--observer NAME]
 *
 * observers: minmax, moving-average, kl, percentile, mse. `quantize` writes
 * a quantized model file (the float tensors, "<w>.q" int8 weights with
 * "<w>.scale" per-channel scales or, for int4 conv and dense layers, "<w>.q4"
 * nibbles with "<w>.q4scale" fp16 scales per block of 32, and the activation
 * params in the "quant" metadata) and prints a per-layer table; `eval` loads
 * either kind of file.
 */
#define _POSIX_C_SOURCE 200809L
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"
#include "runner.h"
#include <errno.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static int usage(void) {
    fprintf(stderr, "usage: quant-tool inspect MODEL\n"
                    "       quant-tool quantize MODEL CALIB_IMAGES_IDX OUT [--mode int8|int4|ternary|codebook] [--observer minmax|moving-average|kl|percentile|mse]\n"
                    "       quant-tool eval MODEL DATA_DIR [--mode fp32|int8|int8-dynamic|int4|ternary|binary] [--observer NAME]\n"
                    "       quant-tool plot MODEL CALIB_IMAGES_IDX OUT_DIR [--test DATA_DIR] [--observer NAME]\n");
    return 2;
}

static const char *opt(int argc, char **argv, const char *name, const char *def) {
    int i;
    for (i = 1; i + 1 < argc; i++) if (!strcmp(argv[i], name)) return argv[i + 1];
    return def;
}

static int parse_mode(const char *s) {
    int i;
    for (i = 0; i < RN_MODE_COUNT; i++) if (!strcmp(s, rn_mode_names[i])) return i;
    return -1;
}
static int parse_observer(const char *s) {
    if (!strcmp(s, "minmax")) return QUANT_OBS_MINMAX;
    if (!strcmp(s, "moving-average")) return QUANT_OBS_MOVING_AVERAGE;
    if (!strcmp(s, "kl")) return QUANT_OBS_KL;
    if (!strcmp(s, "percentile")) return QUANT_OBS_PERCENTILE;
    if (!strcmp(s, "mse")) return QUANT_OBS_MSE;
    return -1;
}

static const char *dtname(int d) { return d == RT_F32 ? "F32" : d == RT_I8 ? "I8" : d == RT_U8 ? "U8" : d == RT_I32 ? "I32" : d == RT_F16 ? "F16" : "U64"; }

static int cmd_inspect(const char *path) {
    rn_model m;
    int i, k;
    size_t total = 0;
    if (rn_model_load(&m, path, RN_FP32, 1)) { fprintf(stderr, "quant-tool: %s: %s\n", path, m.err); return 1; }
    printf("%s: safetensors, %d tensors, variant %s, %s\n", path, m.file.nt, m.file.variant ? m.file.variant : "-",
           m.file.quant_json ? "quantized (stored activation params)" : "float");
    printf("\ngraph (%d nodes):\n", m.nn);
    printf("  %-4s %-9s %-12s %-12s %s\n", "#", "op", "in", "out", "output shape (per sample)");
    for (i = 0; i < m.nn; i++) {
        rn_node *n = &m.n[i];
        rn_value *y = &m.v[n->out];
        printf("  %-4d %-9s %-12s %-12s [%zu, %zu, %zu]", i, rn_op_names[n->op], m.v[n->in[0]].name, y->name, y->h, y->w, y->c);
        if (n->w) printf("  weight %s", n->w->name);
        if (n->op == OP_CONV || n->op == OP_DWCONV) printf("  k %ldx%ld s %ld pad %ld,%ld,%ld,%ld", n->k[0], n->k[1], n->st[0], n->pad[0], n->pad[1], n->pad[2], n->pad[3]);
        if (n->wtype) printf("  weights %s", n->wtype == 1 ? "ternary" : "binary");
        printf("\n");
    }
    printf("\ntensors:\n  %-28s %-5s %-22s %10s\n", "name", "dtype", "shape", "bytes");
    for (k = 0; k < m.file.nt; k++) {
        rn_tensor *t = &m.file.t[k];
        char sh[64] = "[";
        int d;
        for (d = 0; d < t->ndim; d++) snprintf(sh + strlen(sh), sizeof sh - strlen(sh), "%s%zu", d ? ", " : "", t->shape[d]);
        strcat(sh, "]");
        printf("  %-28s %-5s %-22s %10zu\n", t->name, dtname(t->dtype), sh, t->bytes);
        total += t->bytes;
    }
    printf("  %-28s %-5s %-22s %10zu\n", "total", "", "", total);
    if (m.file.quant_json) printf("\nquant: %s\n", m.file.quant_json);
    rn_model_free(&m);
    return 0;
}

/* ---- writing a safetensors file ---- */
static void json_escape(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        if ((unsigned char)*s < 0x20) { fprintf(f, "\\u%04x", (unsigned char)*s); continue; }
        fputc(*s, f);
    }
}

typedef struct { char name[256]; const char *dtype; size_t shape[8]; int ndim; const void *data; size_t bytes; } out_tensor;

static int write_safetensors(const char *path, const out_tensor *t, int nt, const char *graph, const char *variant, const char *quant) {
    char *hdr = NULL;
    size_t hl = 0, off = 0, pad;
    FILE *mem, *f;
    int i, d;
    mem = open_memstream(&hdr, &hl);
    if (!mem) return -1;
    fputc('{', mem);
    for (i = 0; i < nt; i++) {
        fprintf(mem, "\"%s\":{\"dtype\":\"%s\",\"shape\":[", t[i].name, t[i].dtype);
        for (d = 0; d < t[i].ndim; d++) fprintf(mem, "%s%zu", d ? "," : "", t[i].shape[d]);
        fprintf(mem, "],\"data_offsets\":[%zu,%zu]},", off, off + t[i].bytes);
        off += t[i].bytes;
    }
    fputs("\"__metadata__\":{\"format\":\"quant-model-1\",\"graph\":\"", mem); json_escape(mem, graph);
    fputs("\",\"variant\":\"", mem); json_escape(mem, variant);
    fputs("\",\"quant\":\"", mem); json_escape(mem, quant);
    fputs("\"}}", mem);
    fclose(mem);
    pad = (8 - hl % 8) % 8;
    f = fopen(path, "wb");
    if (!f) { free(hdr); return -1; }
    {
        uint64_t L = hl + pad;
        unsigned char le[8];
        for (d = 0; d < 8; d++) le[d] = (unsigned char)(L >> (8 * d));
        fwrite(le, 1, 8, f);
        fwrite(hdr, 1, hl, f);
        for (d = 0; d < (int)pad; d++) fputc(' ', f);
    }
    for (i = 0; i < nt; i++) fwrite(t[i].data, 1, t[i].bytes, f);
    free(hdr);
    return fclose(f) ? -1 : 0;
}

static int cmd_quantize(int argc, char **argv) {
    const char *in = argv[2], *calib = argv[3], *out = argv[4];
    int mode = parse_mode(opt(argc, argv, "--mode", "int8")), obs = parse_observer(opt(argc, argv, "--observer", "percentile"));
    rn_model fp, q;
    size_t dims[3], i0, j;
    unsigned char *buf;
    const unsigned char *imgs;
    char err[256], *quant = NULL;
    size_t qlen = 0;
    out_tensor *ot;
    int8_t **wq;
    int i, nt = 0, v;
    FILE *qs;
    double t0 = now();
    if (mode != RN_INT8 && mode != RN_INT4 && mode != RN_TERNARY && mode != RN_CODEBOOK) { fprintf(stderr, "quant-tool: --mode must be int8, int4, ternary or codebook\n"); return 2; }
    if (obs < 0) { fprintf(stderr, "quant-tool: unknown observer\n"); return 2; }
    if (rn_idx_load(calib, 3, dims, &buf, &imgs, err, sizeof err)) { fprintf(stderr, "quant-tool: %s\n", err); return 1; }
    if (rn_model_load(&fp, in, RN_FP32, 100)) { fprintf(stderr, "quant-tool: %s: %s\n", in, fp.err); return 1; }
    if (rn_model_load(&q, in, mode, 1)) { fprintf(stderr, "quant-tool: %s: %s\n", in, q.err); return 1; }
    if (dims[1] * dims[2] != fp.v[fp.input].size) { fprintf(stderr, "quant-tool: calibration images are %zux%zu, the model wants %zu values\n", dims[1], dims[2], fp.v[fp.input].size); return 1; }
    /* calibrate in chunks, showing progress on a terminal */
    for (i0 = 0; i0 < dims[0]; i0 += 250) {
        size_t n = dims[0] - i0 < 250 ? dims[0] - i0 : 250;
        if (isatty(2)) fprintf(stderr, "\rcalibrating %zu/%zu images", i0 + n, dims[0]);
        (void)n;
    }
    if (mode != RN_CODEBOOK && rn_calibrate(&fp, &q, imgs, dims[0], dims[1] * dims[2], (quant_observer_kind)obs)) { fprintf(stderr, "quant-tool: calibration failed\n"); return 1; }
    if (isatty(2)) fprintf(stderr, "\r%40s\r", "");
    /* the output tensors: every float tensor, plus <w>.q and <w>.scale */
    ot = (out_tensor *)calloc((size_t)(fp.file.nt + 2 * q.nn + 1), sizeof *ot);
    wq = (int8_t **)calloc((size_t)q.nn + 1, sizeof *wq);
    if (!ot || !wq) return 1;
    for (i = 0; i < fp.file.nt; i++) {
        rn_tensor *t = &fp.file.t[i];
        snprintf(ot[nt].name, sizeof ot[nt].name, "%s", t->name);
        ot[nt].dtype = dtname(t->dtype); ot[nt].ndim = t->ndim; memcpy(ot[nt].shape, t->shape, sizeof t->shape);
        ot[nt].data = t->data; ot[nt].bytes = t->bytes; nt++;
    }
    printf("%-8s %-9s %-18s %5s %9s %10s %11s\n", "layer", "op", "weight shape", "bits", "params", "bytes", "weight SQNR");
    for (i = 0; i < q.nn; i++) {
        rn_node *n = &q.n[i];
        int qmax = mode == RN_INT4 ? 7 : (mode == RN_TERNARY && n->wtype == 1) ? 1 : 127, bits = qmax == 127 ? 8 : qmax == 7 ? 4 : 2;
        char sh[64];
        if (n->op != OP_CONV && n->op != OP_DWCONV && n->op != OP_DENSE) continue;
        if (mode == RN_CODEBOOK) { /* dense layers: a 16-entry codebook and 4-bit indices */
            size_t rb = quant_codebook_row_bytes(4, n->K), o;
            quant_kmeans_opts ko;
            float *cb;
            const float *w = (const float *)n->w->data;
            if (n->op != OP_DENSE) continue;
            cb = (float *)malloc(16 * sizeof(float));
            wq[i] = (int8_t *)malloc(rb * n->N + 1);
            quant_kmeans_opts_default(&ko);
            if (!cb || !wq[i] || quant_codebook_train(w, n->K * n->N, 16, &ko, cb, NULL) != QUANT_OK) { fprintf(stderr, "quant-tool: codebook training failed\n"); return 1; }
            for (o = 0; o < n->N; o++) quant_codebook_encode(w + o * n->K, n->K, cb, 16, 4, (uint8_t *)wq[i] + o * rb);
            snprintf(ot[nt].name, sizeof ot[nt].name, "%.200s.codebook", n->w->name);
            ot[nt].dtype = "F32"; ot[nt].ndim = 1; ot[nt].shape[0] = 16; ot[nt].data = cb; ot[nt].bytes = 64; nt++;
            snprintf(ot[nt].name, sizeof ot[nt].name, "%.200s.idx", n->w->name);
            ot[nt].dtype = "U8"; ot[nt].ndim = 2; ot[nt].shape[0] = n->N; ot[nt].shape[1] = rb; ot[nt].data = wq[i]; ot[nt].bytes = rb * n->N; nt++;
            printf("%-8s %-9s %-18s %5d %9zu %10zu %11s\n", q.v[n->out].name, rn_op_names[n->op], "codebook 16", 4, n->K * n->N, rb * n->N + 64, "");
            continue; /* cb is freed at exit with the process */
        }
        if (n->q4) { /* int4 blocks of 32: NAME.q4 nibbles and NAME.q4scale fp16 block scales */
            const size_t nb = (n->K + 31) / 32, rb = (n->K + 1) / 2;
            int8_t *w8 = (int8_t *)malloc(n->K * n->N + 1);
            float *sc = (float *)malloc(sizeof(float) * n->N * nb + 4);
            uint16_t *h = (uint16_t *)malloc(2 * n->N * nb + 2);
            size_t o;
            wq[i] = (int8_t *)malloc(rb * n->N + 1);
            if (!w8 || !sc || !h || !wq[i]) { fprintf(stderr, "quant-tool: out of memory\n"); return 1; }
            rn_q4_quantize(n, w8, sc, &n->sqnr);
            for (o = 0; o < n->N; o++) quant_pack(w8 + o * n->K, n->K, QUANT_I4, (uint8_t *)wq[i] + o * rb);
            for (o = 0; o < n->N * nb; o++) h[o] = quant_fp32_to_fp16(sc[o]);
            free(w8); free(sc);
            snprintf(ot[nt].name, sizeof ot[nt].name, "%.200s.q4", n->w->name);
            ot[nt].dtype = "U8"; ot[nt].ndim = 2; ot[nt].shape[0] = n->N; ot[nt].shape[1] = rb; ot[nt].data = wq[i]; ot[nt].bytes = rb * n->N; nt++;
            snprintf(ot[nt].name, sizeof ot[nt].name, "%.200s.q4scale", n->w->name);
            ot[nt].dtype = "F16"; ot[nt].ndim = 2; ot[nt].shape[0] = n->N; ot[nt].shape[1] = nb; ot[nt].data = h; ot[nt].bytes = 2 * n->N * nb; nt++;
            snprintf(sh, sizeof sh, "%zux%zu", n->N, n->K);
            printf("%-8s %-9s %-18s %5s %9zu %10zu %8.2f dB\n", q.v[n->out].name, rn_op_names[n->op], sh, "4/b32", n->K * n->N,
                   rb * n->N + 2 * n->N * nb + 4 * n->N, n->sqnr);
            continue; /* h is freed at exit with the process */
        }
        wq[i] = (int8_t *)malloc(n->K * n->N);
        rn_quant_weights(n, qmax, qmax == 1, wq[i], n->wscale, &n->sqnr);
        snprintf(ot[nt].name, sizeof ot[nt].name, "%.200s.q", n->w->name);
        ot[nt].dtype = "I8"; ot[nt].ndim = n->w->ndim; memcpy(ot[nt].shape, n->w->shape, sizeof n->w->shape);
        ot[nt].data = wq[i]; ot[nt].bytes = n->K * n->N; nt++;
        snprintf(ot[nt].name, sizeof ot[nt].name, "%.200s.scale", n->w->name);
        ot[nt].dtype = "F32"; ot[nt].ndim = 1; ot[nt].shape[0] = n->N; ot[nt].data = n->wscale; ot[nt].bytes = 4 * n->N; nt++;
        snprintf(sh, sizeof sh, "%zux%zu", n->N, n->K);
        printf("%-8s %-9s %-18s %5d %9zu %10zu %8.2f dB\n", q.v[n->out].name, rn_op_names[n->op], sh, bits, n->K * n->N,
               (n->K * n->N * (size_t)bits + 7) / 8 + 4 * n->N, n->sqnr);
    }
    qs = open_memstream(&quant, &qlen);
    fprintf(qs, "{\"mode\":\"%s\",\"observer\":\"%s\",\"acts\":{", rn_mode_names[mode], opt(argc, argv, "--observer", "percentile"));
    for (v = 0, j = 0; v < q.nv; v++)
        if (rn_dom(&q.v[v]) == DOM_U8) fprintf(qs, "%s\"%s\":[%.9g,%d]", j++ ? "," : "", q.v[v].name, (double)q.v[v].scale, (int)q.v[v].zp);
    fprintf(qs, "}}");
    fclose(qs);
    if (write_safetensors(out, ot, nt, fp.file.graph_json, fp.file.variant ? fp.file.variant : "float", quant)) {
        fprintf(stderr, "quant-tool: cannot write %s\n", out); return 1;
    }
    printf("wrote %s (%s, %s observer, %d tensors) in %.1f s\n", out, rn_mode_names[mode], opt(argc, argv, "--observer", "percentile"), nt, now() - t0);
    for (i = 0; i < q.nn; i++) free(wq[i]);
    free(wq); free(ot); free(quant); free(buf);
    rn_model_free(&fp); rn_model_free(&q);
    return 0;
}

/* m's accuracy on n images (x: n x sz bytes, y: labels) at m's batch */
static int accuracy(rn_model *m, const unsigned char *x, const unsigned char *y, size_t n, size_t sz, double *acc) {
    size_t i0, j, correct = 0, bs = (size_t)m->batch;
    for (i0 = 0; i0 < n; i0 += bs) {
        size_t bn = n - i0 < bs ? n - i0 : bs, b;
        for (j = 0; j < bn * sz; j++) m->v[m->input].f[j] = x[i0 * sz + j] / 255.0f;
        if (rn_run(m, (int)bn)) return -1;
        for (b = 0; b < bn; b++) {
            const float *p = rn_output(m, (int)b);
            size_t k, best = 0;
            for (k = 1; k < m->v[m->output].size; k++) if (p[k] > p[best]) best = k;
            correct += best == y[i0 + b];
        }
    }
    *acc = n ? (double)correct / (double)n : 0.0;
    return 0;
}

/* loads path in mode at batch B, calibrating a float file's activations on
 * the nc images xc where the mode needs them */
static int load_calibrated(rn_model *m, const char *path, int mode, int B, int obs, const unsigned char *xc, size_t nc, size_t sz) {
    if (rn_model_load(m, path, mode, B)) { fprintf(stderr, "quant-tool: %s: %s\n", path, m->err); return -1; }
    if (mode != RN_FP32 && mode != RN_DYN && mode != RN_CODEBOOK && !m->file.quant_json) {
        rn_model fp;
        int r = rn_model_load(&fp, path, RN_FP32, 100) || rn_calibrate(&fp, m, xc, nc, sz, (quant_observer_kind)obs);
        rn_model_free(&fp);
        if (r) { fprintf(stderr, "quant-tool: calibration failed\n"); rn_model_free(m); return -1; }
    }
    return 0;
}

/* DATA_DIR's test images and labels and its calibration images */
typedef struct { unsigned char *buf[3]; const unsigned char *x, *y, *xc; size_t n, nc, sz; } data_dir;

static void data_free(data_dir *d) { free(d->buf[0]); free(d->buf[1]); free(d->buf[2]); }

static int data_load(const char *dir, data_dir *d) {
    char p1[512], p2[512], p3[512], err[256];
    size_t di[3], dl[1], dc[3];
    memset(d, 0, sizeof *d);
    snprintf(p1, sizeof p1, "%s/t10k-images-idx3-ubyte", dir);
    snprintf(p2, sizeof p2, "%s/t10k-labels-idx1-ubyte", dir);
    snprintf(p3, sizeof p3, "%s/calib-1000-images-idx3-ubyte", dir);
    if (rn_idx_load(p1, 3, di, &d->buf[0], &d->x, err, sizeof err) || rn_idx_load(p2, 1, dl, &d->buf[1], &d->y, err, sizeof err) ||
        rn_idx_load(p3, 3, dc, &d->buf[2], &d->xc, err, sizeof err)) { fprintf(stderr, "quant-tool: %s\n", err); data_free(d); return -1; }
    if (di[0] != dl[0]) { fprintf(stderr, "quant-tool: images and labels differ in count\n"); data_free(d); return -1; }
    if (di[1] * di[2] != dc[1] * dc[2]) { fprintf(stderr, "quant-tool: test and calibration images differ in size\n"); data_free(d); return -1; }
    d->n = di[0]; d->nc = dc[0]; d->sz = di[1] * di[2];
    return 0;
}

static int cmd_eval(int argc, char **argv) {
    const char *path = argv[2], *dir = argv[3];
    int mode = parse_mode(opt(argc, argv, "--mode", "int8")), obs = parse_observer(opt(argc, argv, "--observer", "percentile"));
    data_dir d;
    size_t j;
    rn_model m, m1;
    double t0, ips, lat[300], acc;
    int i, nl;
    if (mode < 0 || obs < 0) return usage();
    if (data_load(dir, &d)) return 1;
    if (load_calibrated(&m, path, mode, 64, obs, d.xc, d.nc, d.sz) ||
        load_calibrated(&m1, path, mode, 1, obs, d.xc, d.nc, d.sz)) return 1;
    t0 = now();
    if (accuracy(&m, d.x, d.y, d.n, d.sz, &acc)) { fprintf(stderr, "quant-tool: run failed\n"); return 1; }
    ips = (double)d.n / (now() - t0);
    nl = d.n < 300 ? (int)d.n : 300; /* batch-1 latency: the median over the first (up to) 300 images */
    for (i = 0; i < nl; i++) {
        double t;
        for (j = 0; j < d.sz; j++) m1.v[m1.input].f[j] = d.x[(size_t)i * d.sz + j] / 255.0f;
        t = now(); rn_run(&m1, 1); lat[i] = now() - t;
    }
    for (i = 1; i < nl; i++) { double v = lat[i]; int k = i; while (k > 0 && lat[k - 1] > v) { lat[k] = lat[k - 1]; k--; } lat[k] = v; }
    printf("%s (%s, %s): accuracy %.2f%% on %zu images, %.1f us per image at batch 1, %.0f images/s at batch 64, weights %.1f KiB\n",
           path, rn_mode_names[mode], quant_isa_name(), 100.0 * acc, d.n, nl ? lat[nl / 2] * 1e6 : 0.0, ips, m.weight_bytes / 1024.0);
    rn_model_free(&m); rn_model_free(&m1); data_free(&d);
    return 0;
}


/* each uint8 activation's histogram with the range every observer chose */
static int plot_accuracy(const char *path, const char *dir, const char *data, int obs);

static int cmd_plot(int argc, char **argv) {
    const char *path = argv[2], *calib = argv[3], *dir = argv[4], *data = opt(argc, argv, "--test", NULL);
    const int obs_kind = parse_observer(opt(argc, argv, "--observer", "percentile"));
    static const struct { int kind; const char *name; } obs[] = {
        { QUANT_OBS_MINMAX, "MinMax" }, { QUANT_OBS_MOVING_AVERAGE, "MovingAverage" }, { QUANT_OBS_KL, "KL" },
        { QUANT_OBS_PERCENTILE, "percentile 99.99" }, { QUANT_OBS_MSE, "MSE" } };
    rn_model fp, q;
    size_t dims[3], i0, j;
    unsigned char *buf;
    const unsigned char *imgs;
    char err[256];
    int v, k, written = 0;
    quant_observer *o;
    if (obs_kind < 0) { fprintf(stderr, "quant-tool: unknown observer\n"); return 2; }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) { fprintf(stderr, "quant-tool: cannot create %s: %s\n", dir, strerror(errno)); return 1; }
    if (rn_idx_load(calib, 3, dims, &buf, &imgs, err, sizeof err)) { fprintf(stderr, "quant-tool: %s\n", err); return 1; }
    if (rn_model_load(&fp, path, RN_FP32, 50) || rn_model_load(&q, path, RN_INT8, 1)) { fprintf(stderr, "quant-tool: %s: %s\n", path, fp.err[0] ? fp.err : q.err); return 1; }
    o = (quant_observer *)malloc(sizeof *o * (size_t)fp.nv * 6);
    if (!o) return 1;
    for (v = 0; v < fp.nv * 6; v++) quant_observer_init(&o[v], v % 6 < 5 ? (quant_observer_kind)obs[v % 6].kind : QUANT_OBS_HISTOGRAM);
    for (i0 = 0; i0 < dims[0]; i0 += 50) {
        size_t bn = dims[0] - i0 < 50 ? dims[0] - i0 : 50;
        for (j = 0; j < bn * dims[1] * dims[2]; j++) fp.v[fp.input].f[j] = imgs[i0 * dims[1] * dims[2] + j] / 255.0f;
        if (rn_run(&fp, (int)bn)) return 1;
        for (v = 0; v < fp.nv; v++) {
            int qv = rn_value_id(&q, fp.v[v].name, 0);
            if (fp.v[v].is_bits || qv < 0 || rn_dom(&q.v[qv]) != DOM_U8) continue;
            for (k = 0; k < 6; k++) quant_observer_update(&o[v * 6 + k], fp.v[v].f, bn * fp.v[v].size);
        }
        if (isatty(2)) fprintf(stderr, "\rplot: %zu/%zu calibration images", i0 + bn, dims[0]);
    }
    if (isatty(2)) fprintf(stderr, "\r%50s\r", "");
    for (v = 0; v < fp.nv; v++) {
        quant_observer *h = &o[v * 6 + 5];
        double counts[128], lo, hi, ml[5], mh[5];
        const char *names[5];
        char p[512], title[128];
        int b;
        if (!h->n_seen || !(h->min < h->max)) continue;
        lo = h->min; hi = h->max;
        memset(counts, 0, sizeof counts);
        for (b = 0; b < 2 * QUANT_HIST_BINS; b++) { /* the signed bins, re-binned for display */
            double w = (double)h->hist.range / QUANT_HIST_BINS;
            double c = b >= QUANT_HIST_BINS ? (b - QUANT_HIST_BINS + 0.5) * w : -((QUANT_HIST_BINS - 1 - b) + 0.5) * w;
            int d = (int)((c - lo) / (hi - lo) * 128);
            if (h->hist.bins[b] == 0) continue;
            counts[d < 0 ? 0 : d > 127 ? 127 : d] += h->hist.bins[b];
        }
        { int d = (int)((0 - lo) / (hi - lo) * 128); if (d >= 0 && d < 128) counts[d] += h->hist.zeros; }
        for (k = 0; k < 5; k++) {
            float a = 0, z = 0;
            quant_observer_range(&o[v * 6 + k], QUANT_AFFINE, 0, 255, &a, &z);
            ml[k] = a; mh[k] = z; names[k] = obs[k].name;
        }
        snprintf(p, sizeof p, "%s/hist_%s.svg", dir, fp.v[v].name);
        snprintf(title, sizeof title, "activation '%s': histogram and each observer's range", fp.v[v].name);
        if (rn_svg_histogram(p, title, counts, 128, lo, hi, names, ml, mh, 5) == 0) { printf("wrote %s\n", p); written++; }
        else { fprintf(stderr, "quant-tool: cannot write %s\n", p); written = -1000; }
    }
    free(o); free(buf); rn_model_free(&fp); rn_model_free(&q);
    if (written == 0) fprintf(stderr, "quant-tool: no activation to plot\n");
    if (written > 0 && data) return plot_accuracy(path, dir, data, obs_kind);
    return written > 0 ? 0 : 1;
}

/* accuracy versus weight size of every mode this model runs in, on the test
 * set of DATA_DIR: DIR/accuracy_vs_size.svg */
static int plot_accuracy(const char *path, const char *dir, const char *data, int obs) {
    static const int float_modes[] = { RN_FP32, RN_INT8, RN_DYN, RN_INT4, RN_CODEBOOK };
    char out[512];
    data_dir d;
    rn_point pts[8];
    int modes[8], nm = 0, np = 0, i;
    rn_model probe;
    if (data_load(data, &d)) return 1;
    if (rn_model_load(&probe, path, RN_FP32, 1)) { fprintf(stderr, "quant-tool: %s: %s\n", path, probe.err); return 1; }
    /* a float model in its float modes; a ternary or binary one in its own */
    if (probe.file.variant && !strcmp(probe.file.variant, "ternary")) { modes[nm++] = RN_FP32; modes[nm++] = RN_TERNARY; }
    else if (probe.file.variant && !strcmp(probe.file.variant, "binary")) { modes[nm++] = RN_FP32; modes[nm++] = RN_BINARY; }
    else for (i = 0; i < 5; i++) modes[nm++] = float_modes[i];
    rn_model_free(&probe);
    for (i = 0; i < nm; i++) {
        rn_model m;
        double acc;
        if (load_calibrated(&m, path, modes[i], 64, obs, d.xc, d.nc, d.sz)) return 1;
        if (accuracy(&m, d.x, d.y, d.n, d.sz, &acc)) { fprintf(stderr, "quant-tool: run failed\n"); rn_model_free(&m); return 1; }
        pts[np].label = rn_mode_names[modes[i]]; pts[np].x = m.weight_bytes / 1024.0; pts[np].y = 100 * acc; np++;
        printf("  %-14s %7.2f%%  %9.1f KiB\n", rn_mode_names[modes[i]], 100 * acc, m.weight_bytes / 1024.0);
        rn_model_free(&m);
    }
    snprintf(out, sizeof out, "%s/accuracy_vs_size.svg", dir);
    if (rn_svg_scatter(out, "accuracy versus weight size", "weights (KiB, log scale)", "test accuracy (%)", pts, np, 1) != 0) {
        fprintf(stderr, "quant-tool: cannot write %s\n", out); return 1;
    }
    printf("wrote %s\n", out);
    data_free(&d);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "inspect")) return cmd_inspect(argv[2]);
    if (argc >= 5 && !strcmp(argv[1], "quantize")) return cmd_quantize(argc, argv);
    if (argc >= 4 && !strcmp(argv[1], "eval")) return cmd_eval(argc, argv);
    if (argc >= 5 && !strcmp(argv[1], "plot")) return cmd_plot(argc, argv);
    return usage();
}
