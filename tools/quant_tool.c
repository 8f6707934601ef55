/* tools/quant_tool.c - the command-line tools around the runner.
 *
 *   quant-tool inspect  MODEL
 *   quant-tool quantize MODEL CALIB_IMAGES_IDX OUT [--mode int8|int4|ternary|codebook] [--observer NAME]
 *   quant-tool eval     MODEL DATA_DIR [--mode MODE] [--observer NAME]
 *   quant-tool plot     MODEL CALIB_IMAGES_IDX OUT_DIR [--test DATA_DIR] [--observer NAME]
 *   quant-tool help | --help | -h
 *
 * observers: minmax, moving-average, kl, percentile, mse. `quantize` writes
 * a quantized model file (the float tensors, "<w>.q" int8 weights with
 * "<w>.scale" per-channel scales or, for int4 conv and dense layers, "<w>.q4"
 * nibbles with "<w>.q4scale" fp16 scales per block of 32, and the activation
 * params in the "quant" metadata) and prints a per-layer table; `eval` loads
 * either kind of file. Given a file that is already quantized, `quantize`
 * drops its quantized tensors and stored params and quantizes again from its
 * float tensors. The output is written through a temporary file and rename()
 * (tools/qt_write.h): a failed write leaves OUT as it was.
 *
 * Options: "--flag VALUE" or "--flag=VALUE"; "--" ends them. An unknown,
 * misplaced, repeated or valueless option or a wrong argument count prints
 * the usage on stderr and exits 2; --help prints it on stdout and exits 0.
 * Other failures exit 1. Names from a model file are hostile: escaped in
 * the JSON written, in SVG text and in file names, and shown with control
 * bytes as '?' on the terminal.
 */
#define _POSIX_C_SOURCE 200809L
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"
#include "runner.h"
#include "qt_write.h"
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

/* ---- arguments ---- */
static void usage(FILE *f) {
    fprintf(f, "usage: quant-tool inspect MODEL\n"
               "       quant-tool quantize MODEL CALIB_IMAGES_IDX OUT [--mode int8|int4|ternary|codebook] [--observer NAME]\n"
               "       quant-tool eval MODEL DATA_DIR [--mode fp32|int8|int8-dynamic|int4|ternary|binary|mixed|codebook] [--observer NAME]\n"
               "       quant-tool plot MODEL CALIB_IMAGES_IDX OUT_DIR [--test DATA_DIR] [--observer NAME]\n"
               "       quant-tool help\n"
               "observers (NAME): minmax, moving-average, kl, percentile (default), mse\n"
               "options go as --flag VALUE or --flag=VALUE; -h or --help anywhere prints this\n");
}

static int usage_error(const char *fmt, ...) {
    va_list ap;
    fputs("quant-tool: ", stderr);
    va_start(ap, fmt); vfprintf(stderr, fmt, ap); va_end(ap);
    fputc('\n', stderr);
    usage(stderr);
    return 2;
}

enum { CMD_INSPECT, CMD_QUANTIZE, CMD_EVAL, CMD_PLOT, CMD_COUNT };
enum { F_MODE = 1, F_OBSERVER = 2, F_TEST = 4 };
static const struct { const char *name, *args; int npos, flags; } cmds[CMD_COUNT] = {
    { "inspect", "MODEL", 1, 0 },
    { "quantize", "MODEL CALIB_IMAGES_IDX OUT", 3, F_MODE | F_OBSERVER },
    { "eval", "MODEL DATA_DIR", 2, F_MODE | F_OBSERVER },
    { "plot", "MODEL CALIB_IMAGES_IDX OUT_DIR", 3, F_TEST | F_OBSERVER } };
static const struct { const char *name; int bit; } flags[] = { { "--mode", F_MODE }, { "--observer", F_OBSERVER }, { "--test", F_TEST } };

typedef struct { int cmd; const char *pos[3]; const char *mode, *observer, *test; int mode_id, obs_id; } args;

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

/* 0 parsed; 1 help printed (exit 0); 2 usage error printed (exit 2) */
static int parse_args(int argc, char **argv, args *a) {
    int i, c, npos = 0, dashdash = 0;
    memset(a, 0, sizeof *a);
    for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 1; }
    if (argc < 2) return usage_error("no command");
    if (!strcmp(argv[1], "help")) {
        if (argc > 2) return usage_error("help takes no arguments");
        usage(stdout); return 1;
    }
    for (c = 0; c < CMD_COUNT; c++) if (!strcmp(argv[1], cmds[c].name)) break;
    if (c == CMD_COUNT) return usage_error("unknown command '%s'", argv[1]);
    a->cmd = c;
    for (i = 2; i < argc; i++) {
        const char *s = argv[i];
        if (!dashdash && !strcmp(s, "--")) { dashdash = 1; continue; }
        if (!dashdash && s[0] == '-' && s[1]) {
            const char *eq = strchr(s, '='), *val, **slot;
            size_t nl = eq ? (size_t)(eq - s) : strlen(s);
            int f;
            for (f = 0; f < 3; f++) if (strlen(flags[f].name) == nl && !strncmp(s, flags[f].name, nl)) break;
            if (f == 3) return usage_error("unknown option '%.*s'", (int)nl, s);
            if (!(cmds[c].flags & flags[f].bit)) return usage_error("%s does not take %s", cmds[c].name, flags[f].name);
            slot = flags[f].bit == F_MODE ? &a->mode : flags[f].bit == F_OBSERVER ? &a->observer : &a->test;
            if (*slot) return usage_error("%s given twice", flags[f].name);
            if (eq) val = eq + 1;
            else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2)) val = argv[++i];
            else return usage_error("%s needs a value", flags[f].name);
            if (!*val) return usage_error("%s needs a value", flags[f].name);
            *slot = val;
            continue;
        }
        if (npos == cmds[c].npos) return usage_error("unexpected argument '%s' (%s takes %s)", s, cmds[c].name, cmds[c].args);
        a->pos[npos++] = s;
    }
    if (npos < cmds[c].npos) return usage_error("%s needs %s", cmds[c].name, cmds[c].args);
    a->mode_id = a->mode ? parse_mode(a->mode) : c == CMD_QUANTIZE || c == CMD_EVAL ? RN_INT8 : -1;
    if (c == CMD_QUANTIZE && a->mode_id != RN_INT8 && a->mode_id != RN_INT4 && a->mode_id != RN_TERNARY && a->mode_id != RN_CODEBOOK)
        return usage_error("--mode must be int8, int4, ternary or codebook for quantize, not '%s'", a->mode);
    if (c == CMD_EVAL && a->mode_id < 0)
        return usage_error("unknown --mode '%s' (fp32, int8, int8-dynamic, int4, ternary, binary, mixed or codebook)", a->mode);
    if (!a->observer) a->observer = "percentile";
    if ((a->obs_id = parse_observer(a->observer)) < 0)
        return usage_error("unknown --observer '%s' (minmax, moving-average, kl, percentile or mse)", a->observer);
    return 0;
}

/* ---- paths ---- */
static int check_file(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) { fprintf(stderr, "quant-tool: cannot open %s: %s\n", path, strerror(errno)); return -1; }
    if (S_ISDIR(st.st_mode)) { fprintf(stderr, "quant-tool: %s is a directory\n", path); return -1; }
    if (!S_ISREG(st.st_mode)) { fprintf(stderr, "quant-tool: %s is not a regular file\n", path); return -1; }
    return 0;
}
static int check_dir(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) { fprintf(stderr, "quant-tool: cannot open %s: %s\n", path, strerror(errno)); return -1; }
    if (!S_ISDIR(st.st_mode)) { fprintf(stderr, "quant-tool: %s is not a directory\n", path); return -1; }
    return 0;
}
/* dir/name, malloc'd (NULL after a message) */
static char *path_join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = (char *)malloc(n);
    if (!p) { fprintf(stderr, "quant-tool: out of memory\n"); return NULL; }
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* ---- names from a model file on the terminal: control bytes as '?' ---- */
static const char *tty(const char *s, char *buf, size_t n) {
    size_t i;
    for (i = 0; s[i] && i + 1 < n; i++) buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    buf[i] = 0;
    return buf;
}
static void put_tty(const char *s) { for (; *s; s++) putchar(((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s); }

static const char *dtname(int d) { return d == RN_DT_F32 ? "F32" : d == RN_DT_I8 ? "I8" : d == RN_DT_U8 ? "U8" : d == RN_DT_I32 ? "I32" : d == RN_DT_F16 ? "F16" : "U64"; }

/* "[d0, d1, ...]": at most 8 dimensions of up to 20 digits each fit */
#define SHAPE_CHARS (2 + 8 * 22 + 1)
static const char *shape_str(const size_t *shape, int ndim, char *buf) {
    size_t n = 1;
    int d;
    buf[0] = '[';
    for (d = 0; d < ndim && d < 8; d++) n += (size_t)snprintf(buf + n, SHAPE_CHARS - n, "%s%zu", d ? ", " : "", shape[d]);
    buf[n] = ']'; buf[n + 1] = 0;
    return buf;
}

static int cmd_inspect(const args *a) {
    const char *path = a->pos[0];
    rn_model m;
    int i, k;
    size_t total = 0;
    char b1[256], b2[256], b3[256];
    if (check_file(path)) return 1;
    if (rn_model_load(&m, path, RN_FP32, 1)) { fprintf(stderr, "quant-tool: %s: %s\n", path, m.err); return 1; }
    printf("%s: safetensors, %d tensors, variant ", path, m.file.nt);
    put_tty(m.file.variant ? m.file.variant : "-");
    printf(", %s\n", m.file.quant_json ? "quantized (stored activation params)" : "float");
    printf("\ngraph (%d nodes):\n", m.nn);
    printf("  %-4s %-9s %-12s %-12s %s\n", "#", "op", "in", "out", "output shape (per sample)");
    for (i = 0; i < m.nn; i++) {
        rn_node *n = &m.n[i];
        rn_value *y = &m.v[n->out];
        printf("  %-4d %-9s %-12s %-12s [%zu, %zu, %zu]", i, rn_op_names[n->op], tty(m.v[n->in[0]].name, b1, sizeof b1), tty(y->name, b2, sizeof b2), y->h, y->w, y->c);
        if (n->w) printf("  weight %s", tty(n->w->name, b3, sizeof b3));
        if (n->op == RN_OP_CONV || n->op == RN_OP_DWCONV) printf("  k %ldx%ld s %ld pad %ld,%ld,%ld,%ld", n->k[0], n->k[1], n->st[0], n->pad[0], n->pad[1], n->pad[2], n->pad[3]);
        if (n->wtype) printf("  weights %s", n->wtype == 1 ? "ternary" : "binary");
        printf("\n");
    }
    printf("\ntensors:\n  %-28s %-5s %-22s %10s\n", "name", "dtype", "shape", "bytes");
    for (k = 0; k < m.file.nt; k++) {
        rn_tensor *t = &m.file.t[k];
        char sh[SHAPE_CHARS];
        printf("  %-28s %-5s %-22s %10zu\n", tty(t->name, b1, sizeof b1), dtname(t->dtype), shape_str(t->shape, t->ndim, sh), t->bytes);
        total += t->bytes;
    }
    printf("  %-28s %-5s %-22s %10zu\n", "total", "", "", total);
    if (m.file.quant_json) { printf("\nquant: "); put_tty(m.file.quant_json); printf("\n"); }
    rn_model_free(&m);
    return 0;
}

/* ---- quantize ---- */

/* the tensors a quantization derives from a weight W: W + one of these */
static const char *const derived_suffix[] = { ".q", ".scale", ".q4", ".q4scale", ".codebook", ".idx" };

/* 1 if name is a tensor derived from the weight of one of the graph's nodes */
static int is_derived(const char *name, const rn_json *nodes) {
    int i, s;
    for (i = 0; i < nodes->n; i++) {
        const char *w = rn_json_str(&nodes->kids[i], "weight");
        size_t wl;
        if (!w || strncmp(name, w, wl = strlen(w))) continue;
        for (s = 0; s < (int)(sizeof derived_suffix / sizeof *derived_suffix); s++) if (!strcmp(name + wl, derived_suffix[s])) return 1;
    }
    return 0;
}

/* in's float tensors and graph as a file image (an already quantized file
 * loses its quantized tensors and stored params, said on stderr) */
static int float_image(const char *in, unsigned char **img, size_t *n) {
    rn_file src;
    rn_json g;
    const rn_json *nodes = NULL;
    qt_tensor *kept = NULL;
    qt_meta meta;
    char err[512];
    int i, nk = 0, dropped = 0, rc = -1;
    memset(&g, 0, sizeof g);
    if (rn_file_load(&src, in, err, sizeof err)) { fprintf(stderr, "quant-tool: %s: %s\n", in, err); return -1; }
    if (!rn_json_parse(src.graph_json, strlen(src.graph_json), &g, err, sizeof err)) {
        nodes = rn_json_get(&g, "nodes");
        if (nodes && (nodes->type != RN_JSON_ARR || nodes->n > RN_MAX_NODES)) nodes = NULL; /* the loader will say why */
    }
    kept = (qt_tensor *)calloc((size_t)src.nt + 1, sizeof *kept);
    if (!kept) { fprintf(stderr, "quant-tool: out of memory\n"); goto done; }
    for (i = 0; i < src.nt; i++) {
        const rn_tensor *t = &src.t[i];
        if (nodes && is_derived(t->name, nodes)) { dropped++; continue; }
        kept[nk].name = t->name; kept[nk].dtype = t->dtype; kept[nk].ndim = t->ndim;
        memcpy(kept[nk].shape, t->shape, sizeof t->shape);
        kept[nk].data = t->data; kept[nk].bytes = t->bytes; nk++;
    }
    if (dropped || src.quant_json)
        fprintf(stderr, "quant-tool: %s is already quantized: quantizing again from its float tensors (dropping %d quantized tensors%s)\n",
                in, dropped, src.quant_json ? " and the stored activation params" : "");
    meta.graph = src.graph_json; meta.variant = src.variant; meta.quant = NULL;
    if (qt_write_mem(kept, nk, &meta, img, n, err, sizeof err)) { fprintf(stderr, "quant-tool: %s: %s\n", in, err); goto done; }
    rc = 0;
done:
    free(kept); rn_json_free(&g); rn_file_free(&src);
    return rc;
}

static int calibrate_progress(rn_model *fp, rn_model *q, const unsigned char *x, size_t n, size_t sz, int obs);

static int cmd_quantize(const args *a) {
    const char *in = a->pos[0], *calib = a->pos[1], *out = a->pos[2];
    const int mode = a->mode_id, obs = a->obs_id;
    rn_model fp, q;
    size_t dims[3], j, imgn = 0;
    unsigned char *buf = NULL, *img = NULL;
    const unsigned char *imgs;
    char err[512], (*dname)[QT_MAX_NAME + 16] = NULL, sh[64];
    qt_buf qs;
    qt_meta meta;
    qt_tensor *ot = NULL;
    void **own = NULL;   /* every buffer made here, freed at the end */
    int i, nt = 0, nown = 0, v, rc = 1;
    struct stat st;
    double t0 = now();
    memset(&fp, 0, sizeof fp); memset(&q, 0, sizeof q); memset(&qs, 0, sizeof qs);
    if (check_file(in) || check_file(calib)) return 1;
    if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) { fprintf(stderr, "quant-tool: %s is a directory\n", out); return 1; }
    { /* OUT's folder must exist (the file is written there, then renamed) */
        const char *sl = strrchr(out, '/');
        char *od = sl ? (char *)malloc((size_t)(sl - out) + 2) : NULL;
        int bad;
        if (sl && !od) { fprintf(stderr, "quant-tool: out of memory\n"); return 1; }
        if (od) { memcpy(od, out, (size_t)(sl - out) + 1); od[sl - out + (sl == out)] = 0; }
        bad = od && check_dir(od);
        free(od);
        if (bad) return 1;
    }
    if (rn_idx_load(calib, 3, dims, &buf, &imgs, err, sizeof err)) { fprintf(stderr, "quant-tool: %s\n", err); goto done; }
    if (float_image(in, &img, &imgn)) goto done;
    if (rn_model_load_mem(&fp, img, imgn, RN_FP32, 100)) { fprintf(stderr, "quant-tool: %s: %s\n", in, fp.err); goto done; }
    if (rn_model_load_mem(&q, img, imgn, mode, 1)) { fprintf(stderr, "quant-tool: %s: %s\n", in, q.err); goto done; }
    free(img); img = NULL;
    if (dims[1] * dims[2] != fp.v[fp.input].size) { fprintf(stderr, "quant-tool: calibration images are %zux%zu, the model wants %zu values\n", dims[1], dims[2], fp.v[fp.input].size); goto done; }
    if (mode != RN_CODEBOOK && calibrate_progress(&fp, &q, imgs, dims[0], dims[1] * dims[2], obs)) goto done;
    /* the output tensors: every float tensor, plus per weight its quantized tensors */
    ot = (qt_tensor *)calloc((size_t)(fp.file.nt + 2 * q.nn + 1), sizeof *ot);
    own = (void **)calloc((size_t)(2 * q.nn + 1), sizeof *own);
    dname = (char (*)[QT_MAX_NAME + 16])calloc((size_t)(2 * q.nn + 1), sizeof *dname);
    if (!ot || !own || !dname) { fprintf(stderr, "quant-tool: out of memory\n"); goto done; }
    for (i = 0; i < fp.file.nt; i++) {
        rn_tensor *t = &fp.file.t[i];
        ot[nt].name = t->name; ot[nt].dtype = t->dtype; ot[nt].ndim = t->ndim; memcpy(ot[nt].shape, t->shape, sizeof t->shape);
        ot[nt].data = t->data; ot[nt].bytes = t->bytes; nt++;
    }
#define DERIVED(suffix) (snprintf(dname[nt - fp.file.nt], sizeof *dname, "%s%s", n->w->name, suffix), ot[nt].name = dname[nt - fp.file.nt])
    printf("%-8s %-9s %-18s %5s %9s %10s %11s\n", "layer", "op", "weight shape", "bits", "params", "bytes", "weight SQNR");
    for (i = 0; i < q.nn; i++) {
        rn_node *n = &q.n[i];
        int qmax = mode == RN_INT4 ? 7 : (mode == RN_TERNARY && n->wtype == 1) ? 1 : 127, bits = qmax == 127 ? 8 : qmax == 7 ? 4 : 2;
        char lb[64];
        if (n->op != RN_OP_CONV && n->op != RN_OP_DWCONV && n->op != RN_OP_DENSE) continue;
        if (mode == RN_CODEBOOK) { /* dense layers: a 16-entry codebook and 4-bit indices */
            size_t rb = quant_codebook_row_bytes(4, n->K), o;
            quant_kmeans_opts ko;
            float *cb;
            uint8_t *idx;
            const float *w = (const float *)n->w->data;
            if (n->op != RN_OP_DENSE) continue;
            own[nown++] = cb = (float *)malloc(16 * sizeof(float));
            own[nown++] = idx = (uint8_t *)malloc(rb * n->N + 1);
            if (!cb || !idx) { fprintf(stderr, "quant-tool: out of memory\n"); goto done; }
            quant_kmeans_opts_default(&ko);
            if (quant_codebook_train(w, n->K * n->N, 16, &ko, cb, NULL) != QUANT_OK) { fprintf(stderr, "quant-tool: codebook training failed\n"); goto done; }
            for (o = 0; o < n->N; o++) quant_codebook_encode(w + o * n->K, n->K, cb, 16, 4, idx + o * rb);
            DERIVED(".codebook");
            ot[nt].dtype = RN_DT_F32; ot[nt].ndim = 1; ot[nt].shape[0] = 16; ot[nt].data = cb; ot[nt].bytes = 64; nt++;
            DERIVED(".idx");
            ot[nt].dtype = RN_DT_U8; ot[nt].ndim = 2; ot[nt].shape[0] = n->N; ot[nt].shape[1] = rb; ot[nt].data = idx; ot[nt].bytes = rb * n->N; nt++;
            printf("%-8s %-9s %-18s %5d %9zu %10zu %11s\n", tty(q.v[n->out].name, lb, sizeof lb), rn_op_names[n->op], "codebook 16", 4, n->K * n->N, rb * n->N + 64, "");
            continue;
        }
        if (n->q4) { /* int4 blocks of 32: NAME.q4 nibbles and NAME.q4scale fp16 block scales */
            const size_t nb = (n->K + 31) / 32, rb = (n->K + 1) / 2;
            int8_t *w8 = (int8_t *)malloc(n->K * n->N + 1);
            float *sc = (float *)malloc(sizeof(float) * n->N * nb + 4);
            uint16_t *h;
            uint8_t *nib;
            size_t o;
            own[nown++] = nib = (uint8_t *)malloc(rb * n->N + 1);
            own[nown++] = h = (uint16_t *)malloc(2 * n->N * nb + 2);
            if (!w8 || !sc || !h || !nib) { free(w8); free(sc); fprintf(stderr, "quant-tool: out of memory\n"); goto done; }
            rn_q4_quantize(n, w8, sc, &n->sqnr);
            for (o = 0; o < n->N; o++) quant_pack(w8 + o * n->K, n->K, QUANT_I4, nib + o * rb);
            for (o = 0; o < n->N * nb; o++) h[o] = quant_fp32_to_fp16(sc[o]);
            free(w8); free(sc);
            DERIVED(".q4");
            ot[nt].dtype = RN_DT_U8; ot[nt].ndim = 2; ot[nt].shape[0] = n->N; ot[nt].shape[1] = rb; ot[nt].data = nib; ot[nt].bytes = rb * n->N; nt++;
            DERIVED(".q4scale");
            ot[nt].dtype = RN_DT_F16; ot[nt].ndim = 2; ot[nt].shape[0] = n->N; ot[nt].shape[1] = nb; ot[nt].data = h; ot[nt].bytes = 2 * n->N * nb; nt++;
            snprintf(sh, sizeof sh, "%zux%zu", n->N, n->K);
            printf("%-8s %-9s %-18s %5s %9zu %10zu %8.2f dB\n", tty(q.v[n->out].name, lb, sizeof lb), rn_op_names[n->op], sh, "4/b32", n->K * n->N,
                   rb * n->N + 2 * n->N * nb + 4 * n->N, n->sqnr);
            continue;
        }
        {
            int8_t *wq;
            own[nown++] = wq = (int8_t *)malloc(n->K * n->N + 1);
            if (!wq) { fprintf(stderr, "quant-tool: out of memory\n"); goto done; }
            rn_quant_weights(n, qmax, qmax == 1, wq, n->wscale, &n->sqnr);
            DERIVED(".q");
            ot[nt].dtype = RN_DT_I8; ot[nt].ndim = n->w->ndim; memcpy(ot[nt].shape, n->w->shape, sizeof n->w->shape);
            ot[nt].data = wq; ot[nt].bytes = n->K * n->N; nt++;
            DERIVED(".scale");
            ot[nt].dtype = RN_DT_F32; ot[nt].ndim = 1; ot[nt].shape[0] = n->N; ot[nt].data = n->wscale; ot[nt].bytes = 4 * n->N; nt++;
            snprintf(sh, sizeof sh, "%zux%zu", n->N, n->K);
            printf("%-8s %-9s %-18s %5d %9zu %10zu %8.2f dB\n", tty(q.v[n->out].name, lb, sizeof lb), rn_op_names[n->op], sh, bits, n->K * n->N,
                   (n->K * n->N * (size_t)bits + 7) / 8 + 4 * n->N, n->sqnr);
        }
    }
#undef DERIVED
    /* the "quant" metadata: itself JSON, every name in it escaped */
    qt_puts(&qs, "{\"mode\":"); qt_json_str(&qs, rn_mode_names[mode]);
    qt_puts(&qs, ",\"observer\":"); qt_json_str(&qs, a->observer);
    qt_puts(&qs, ",\"acts\":{");
    for (v = 0, j = 0; v < q.nv; v++)
        if (rn_dom(&q.v[v]) == RN_KIND_U8 && q.v[v].scale > 0) { /* a uint8 value with params (one fused away has none) */
            char num[64];
            if (j++) qt_puts(&qs, ",");
            qt_json_str(&qs, q.v[v].name);
            snprintf(num, sizeof num, ":[%.9g,%d]", (double)q.v[v].scale, (int)q.v[v].zp);
            qt_puts(&qs, num);
        }
    qt_put(&qs, "}}", 3); /* with the NUL */
    if (qs.oom) { fprintf(stderr, "quant-tool: out of memory\n"); goto done; }
    meta.graph = fp.file.graph_json; meta.variant = fp.file.variant ? fp.file.variant : "float"; meta.quant = qs.p;
    if (qt_write_file(out, ot, nt, &meta, err, sizeof err)) { fprintf(stderr, "quant-tool: %s\n", err); goto done; }
    printf("wrote %s (%s, %s observer, %d tensors) in %.1f s\n", out, rn_mode_names[mode], a->observer, nt, now() - t0);
    rc = 0;
done:
    for (i = 0; i < nown; i++) free(own[i]);
    free(own); free(ot); free(dname); qt_buf_free(&qs); free(img); free(buf);
    rn_model_free(&fp); rn_model_free(&q);
    return rc;
}

/* q's activation params from fp run over n images (sz bytes each), in chunks
 * of 200 images with the count on a terminal as each chunk is done */
static int calibrate_progress(rn_model *fp, rn_model *q, const unsigned char *x, size_t n, size_t sz, int obs) {
    rn_calib c;
    size_t i0;
    int tty = isatty(2);
    if (rn_calib_begin(&c, fp, q, (quant_observer_kind)obs)) { fprintf(stderr, "quant-tool: calibration: %s\n", q->err); return -1; }
    for (i0 = 0; i0 < n; i0 += 200) {
        size_t k = n - i0 < 200 ? n - i0 : 200;
        if (rn_calib_add(&c, x + i0 * sz, k, sz)) { if (tty) fputc('\n', stderr); fprintf(stderr, "quant-tool: %s\n", q->err); rn_calib_abort(&c); return -1; }
        if (tty) fprintf(stderr, "\rcalibrating: %zu of %zu images run", i0 + k, n);
    }
    if (tty) fprintf(stderr, "\r%50s\r", "");
    if (rn_calib_end(&c)) { fprintf(stderr, "quant-tool: %s\n", q->err); return -1; }
    return 0;
}

/* m's accuracy on n images (x: n x sz bytes, y: labels) at m's batch */
static int accuracy(rn_model *m, const unsigned char *x, const unsigned char *y, size_t n, size_t sz, double *acc) {
    size_t i0, correct = 0, bs = (size_t)m->batch;
    for (i0 = 0; i0 < n; i0 += bs) {
        size_t bn = n - i0 < bs ? n - i0 : bs, b;
        if (rn_set_input_u8(m, x + i0 * sz, bn, sz) || rn_run(m, (int)bn)) { fprintf(stderr, "quant-tool: %s\n", m->err); return -1; }
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
 * the nc images xc where the mode needs them (m is freed on failure) */
static int load_calibrated(rn_model *m, const char *path, int mode, int B, int obs, const unsigned char *xc, size_t nc, size_t sz) {
    if (rn_model_load(m, path, mode, B)) { fprintf(stderr, "quant-tool: %s: %s\n", path, m->err); return -1; }
    if (mode != RN_FP32 && mode != RN_DYN && mode != RN_CODEBOOK && !m->params_ready) {
        rn_model fp;
        int r;
        if (rn_model_load(&fp, path, RN_FP32, 100)) { fprintf(stderr, "quant-tool: %s: %s\n", path, fp.err); rn_model_free(m); return -1; }
        r = calibrate_progress(&fp, m, xc, nc, sz, obs);
        rn_model_free(&fp);
        if (r) { rn_model_free(m); return -1; }
    }
    return 0;
}

/* DATA_DIR's test images and labels and its calibration images */
typedef struct { unsigned char *buf[3]; const unsigned char *x, *y, *xc; size_t n, nc, sz; } data_dir;

static void data_free(data_dir *d) { free(d->buf[0]); free(d->buf[1]); free(d->buf[2]); memset(d, 0, sizeof *d); }

static int data_load(const char *dir, data_dir *d) {
    static const char *const names[3] = { "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "calib-1000-images-idx3-ubyte" };
    const unsigned char **data[3];
    size_t dims[3][3];
    char err[512];
    int k;
    memset(d, 0, sizeof *d);
    data[0] = &d->x; data[1] = &d->y; data[2] = &d->xc;
    if (check_dir(dir)) return -1;
    for (k = 0; k < 3; k++) {
        char *p = path_join(dir, names[k]);
        int r = !p || check_file(p);
        if (!r && rn_idx_load(p, k == 1 ? 1 : 3, dims[k], &d->buf[k], data[k], err, sizeof err)) { fprintf(stderr, "quant-tool: %s\n", err); r = 1; }
        free(p);
        if (r) { data_free(d); return -1; }
    }
    if (dims[0][0] != dims[1][0]) { fprintf(stderr, "quant-tool: images and labels differ in count\n"); data_free(d); return -1; }
    if (dims[0][1] * dims[0][2] != dims[2][1] * dims[2][2]) { fprintf(stderr, "quant-tool: test and calibration images differ in size\n"); data_free(d); return -1; }
    d->n = dims[0][0]; d->nc = dims[2][0]; d->sz = dims[0][1] * dims[0][2];
    return 0;
}

static int cmd_eval(const args *a) {
    const char *path = a->pos[0], *dir = a->pos[1];
    const int obs = a->obs_id;
    int mode = a->mode_id;
    data_dir d;
    size_t j;
    rn_model m, m1;
    double t0, ips, lat[300], acc;
    int i, nl, rc = 1;
    memset(&m, 0, sizeof m); memset(&m1, 0, sizeof m1); memset(&d, 0, sizeof d);
    if (check_file(path)) return 1;
    if (!a->mode) { /* a quantized file runs in the mode it was quantized for; a float one in int8 */
        if (rn_model_load(&m, path, RN_FP32, 1)) { fprintf(stderr, "quant-tool: %s: %s\n", path, m.err); return 1; }
        if (m.stored_mode >= 0) mode = m.stored_mode;
        rn_model_free(&m);
    }
    if (mode == RN_MIXED) {
        fprintf(stderr, "quant-tool: --mode mixed needs a bit width per layer, which eval cannot choose (make demo's sensitivity search does)\n");
        return 1;
    }
    if (data_load(dir, &d)) goto done;
    if (load_calibrated(&m, path, mode, 64, obs, d.xc, d.nc, d.sz) ||
        load_calibrated(&m1, path, mode, 1, obs, d.xc, d.nc, d.sz)) goto done;
    if (d.sz != m.v[m.input].size) {
        fprintf(stderr, "quant-tool: %s's images have %zu values each; the model's input [%zu, %zu, %zu] has %zu\n", dir, d.sz,
                m.v[m.input].h, m.v[m.input].w, m.v[m.input].c, m.v[m.input].size);
        goto done;
    }
    for (j = 0; j < d.n; j++)
        if (d.y[j] >= m.v[m.output].size) {
            fprintf(stderr, "quant-tool: label %u of image %zu is not a class of the model's %zu outputs\n", d.y[j], j, m.v[m.output].size);
            goto done;
        }
    t0 = now();
    if (accuracy(&m, d.x, d.y, d.n, d.sz, &acc)) goto done;
    ips = (double)d.n / (now() - t0);
    nl = d.n < 300 ? (int)d.n : 300; /* batch-1 latency: the median over the first (up to) 300 images */
    for (i = 0; i < nl; i++) {
        double t;
        if (rn_set_input_u8(&m1, d.x + (size_t)i * d.sz, 1, d.sz)) { fprintf(stderr, "quant-tool: %s\n", m1.err); goto done; }
        t = now();
        if (rn_run(&m1, 1)) { fprintf(stderr, "quant-tool: %s\n", m1.err); goto done; }
        lat[i] = now() - t;
    }
    for (i = 1; i < nl; i++) { double v = lat[i]; int k = i; while (k > 0 && lat[k - 1] > v) { lat[k] = lat[k - 1]; k--; } lat[k] = v; }
    printf("%s (%s, %s): accuracy %.2f%% on %zu images, %.1f us per image at batch 1, %.0f images/s at batch 64, weights %.1f KiB\n",
           path, rn_mode_names[mode], quant_isa_name(), 100.0 * acc, d.n, nl ? lat[nl / 2] * 1e6 : 0.0, ips, m.weight_bytes / 1024.0);
    rc = 0;
done:
    rn_model_free(&m); rn_model_free(&m1); data_free(&d);
    return rc;
}

/* ---- plot ---- */

/* s for SVG text: & < > " ' as entities, control and non-ASCII bytes as '?' */
static void svg_escape(const char *s, char *out, size_t n) {
    size_t k = 0;
    for (; *s && k + 7 <= n; s++) {
        unsigned char c = (unsigned char)*s;
        const char *e = c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '"' ? "&quot;" : c == '\'' ? "&#39;" : NULL;
        if (e) { memcpy(out + k, e, strlen(e)); k += strlen(e); }
        else out[k++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
    }
    out[k] = 0;
}

/* a file name for a value: every byte outside [A-Za-z0-9._-] as '_' */
static void safe_name(const char *s, char *out, size_t n) {
    size_t k = 0;
    for (; *s && k + 1 < n; s++) {
        char c = *s;
        out[k++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ? c : '_';
    }
    if (!k) out[k++] = '_';
    out[k] = 0;
}

/* a temporary file in dir for an SVG writer, renamed to dir/name when done
 * (a file already at dir/name is replaced, never written through) */
static char *svg_begin(const char *dir) {
    char *tmp = path_join(dir, ".quant-tool-XXXXXX");
    int fd;
    mode_t um;
    if (!tmp) return NULL;
    if ((fd = mkstemp(tmp)) < 0) { fprintf(stderr, "quant-tool: cannot create a file in %s: %s\n", dir, strerror(errno)); free(tmp); return NULL; }
    um = umask(0); umask(um);
    if (fchmod(fd, 0666 & ~um) != 0) { fprintf(stderr, "quant-tool: %s: %s\n", tmp, strerror(errno)); close(fd); unlink(tmp); free(tmp); return NULL; }
    close(fd);
    return tmp;
}
static int svg_end(char *tmp, int written, const char *path) {
    int r = 0;
    if (written != 0) { fprintf(stderr, "quant-tool: cannot write %s\n", path); r = -1; }
    else if (rename(tmp, path) != 0) { fprintf(stderr, "quant-tool: cannot write %s: %s\n", path, strerror(errno)); r = -1; }
    if (r) unlink(tmp);
    free(tmp);
    return r;
}

/* accuracy versus weight size of every mode this model runs in, on the test
 * set of DATA_DIR: DIR/accuracy_vs_size.svg */
static int plot_accuracy(const char *path, const char *dir, const char *data, int obs) {
    static const int float_modes[] = { RN_FP32, RN_INT8, RN_DYN, RN_INT4, RN_CODEBOOK };
    char *out = NULL, *tmp = NULL;
    data_dir d;
    rn_point pts[8];
    int modes[8], nm = 0, np = 0, i, rc = 1;
    rn_model probe, m;
    memset(&m, 0, sizeof m);
    if (data_load(data, &d)) return 1;
    if (rn_model_load(&probe, path, RN_FP32, 1)) { fprintf(stderr, "quant-tool: %s: %s\n", path, probe.err); goto done; }
    /* a float model in its float modes; a ternary or binary one in its own */
    if (probe.file.variant && !strcmp(probe.file.variant, "ternary")) { modes[nm++] = RN_FP32; modes[nm++] = RN_TERNARY; }
    else if (probe.file.variant && !strcmp(probe.file.variant, "binary")) { modes[nm++] = RN_FP32; modes[nm++] = RN_BINARY; }
    else for (i = 0; i < 5; i++) modes[nm++] = float_modes[i];
    rn_model_free(&probe);
    for (i = 0; i < nm; i++) {
        double acc;
        if (load_calibrated(&m, path, modes[i], 64, obs, d.xc, d.nc, d.sz)) goto done;
        if (accuracy(&m, d.x, d.y, d.n, d.sz, &acc)) { fprintf(stderr, "quant-tool: run failed\n"); goto done; }
        pts[np].label = rn_mode_names[modes[i]]; pts[np].x = m.weight_bytes / 1024.0; pts[np].y = 100 * acc; np++;
        printf("  %-14s %7.2f%%  %9.1f KiB\n", rn_mode_names[modes[i]], 100 * acc, m.weight_bytes / 1024.0);
        rn_model_free(&m);
    }
    if (!(out = path_join(dir, "accuracy_vs_size.svg")) || !(tmp = svg_begin(dir))) goto done;
    if (svg_end(tmp, rn_svg_scatter(tmp, "accuracy versus weight size", "weights (KiB, log scale)", "test accuracy (%)", pts, np, 1), out)) goto done;
    printf("wrote %s\n", out);
    rc = 0;
done:
    free(out); rn_model_free(&m); data_free(&d);
    return rc;
}

/* each uint8 activation's histogram with the range every observer chose */
static int cmd_plot(const args *a) {
    const char *path = a->pos[0], *calib = a->pos[1], *dir = a->pos[2], *data = a->test;
    const int obs_kind = a->obs_id;
    static const struct { int kind; const char *name; } obs[] = {
        { QUANT_OBS_MINMAX, "MinMax" }, { QUANT_OBS_MOVING_AVERAGE, "MovingAverage" }, { QUANT_OBS_KL, "KL" },
        { QUANT_OBS_PERCENTILE, "percentile 99.99" }, { QUANT_OBS_MSE, "MSE" } };
    char used[RN_MAX_VALUES][96]; /* the file names given so far */
    rn_model fp, q;
    size_t dims[3], i0, j;
    unsigned char *buf = NULL;
    const unsigned char *imgs;
    char err[512];
    int v, k, written = 0, nused = 0, rc = 1;
    quant_observer *o = NULL;
    memset(&fp, 0, sizeof fp); memset(&q, 0, sizeof q);
    if (check_file(path) || check_file(calib) || (data && check_dir(data))) return 1;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) { fprintf(stderr, "quant-tool: cannot create %s: %s\n", dir, strerror(errno)); return 1; }
    if (check_dir(dir)) return 1;
    if (rn_idx_load(calib, 3, dims, &buf, &imgs, err, sizeof err)) { fprintf(stderr, "quant-tool: %s\n", err); goto done; }
    if (rn_model_load(&fp, path, RN_FP32, 50)) { fprintf(stderr, "quant-tool: %s: %s\n", path, fp.err); goto done; }
    if (rn_model_load(&q, path, RN_INT8, 1)) { fprintf(stderr, "quant-tool: %s: %s\n", path, q.err); goto done; }
    if (dims[1] * dims[2] != fp.v[fp.input].size) { fprintf(stderr, "quant-tool: calibration images are %zux%zu, the model wants %zu values\n", dims[1], dims[2], fp.v[fp.input].size); goto done; }
    o = (quant_observer *)malloc(sizeof *o * (size_t)fp.nv * 6);
    if (!o) { fprintf(stderr, "quant-tool: out of memory\n"); goto done; }
    for (v = 0; v < fp.nv * 6; v++) quant_observer_init(&o[v], v % 6 < 5 ? (quant_observer_kind)obs[v % 6].kind : QUANT_OBS_HISTOGRAM);
    for (i0 = 0; i0 < dims[0]; i0 += 50) {
        size_t bn = dims[0] - i0 < 50 ? dims[0] - i0 : 50;
        for (j = 0; j < bn * dims[1] * dims[2]; j++) fp.v[fp.input].f[j] = imgs[i0 * dims[1] * dims[2] + j] / 255.0f;
        if (rn_run(&fp, (int)bn)) { fprintf(stderr, "quant-tool: run failed\n"); goto done; }
        for (v = 0; v < fp.nv; v++) {
            int qv = rn_value_id(&q, fp.v[v].name, 0);
            if (fp.v[v].is_bits || qv < 0 || rn_dom(&q.v[qv]) != RN_KIND_U8) continue;
            for (k = 0; k < 6; k++) quant_observer_update(&o[v * 6 + k], fp.v[v].f, bn * fp.v[v].size);
        }
        if (isatty(2)) fprintf(stderr, "\rplot: %zu/%zu calibration images", i0 + bn, dims[0]);
    }
    if (isatty(2)) fprintf(stderr, "\r%50s\r", "");
    for (v = 0; v < fp.nv; v++) {
        quant_observer *h = &o[v * 6 + 5];
        double counts[128], lo, hi, ml[5], mh[5];
        const char *names[5];
        char title[256], etitle[sizeof title * 6], sn[64], *p, *tmp;
        int b, u;
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
            float lo_k = 0, hi_k = 0;
            quant_observer_range(&o[v * 6 + k], QUANT_AFFINE, 0, 255, &lo_k, &hi_k);
            ml[k] = lo_k; mh[k] = hi_k; names[k] = obs[k].name;
        }
        /* the file: hist_NAME.svg with NAME made safe, and unique (hist_NAME_2.svg, ...) */
        safe_name(fp.v[v].name, sn, sizeof sn);
        snprintf(used[nused], sizeof used[0], "hist_%s.svg", sn);
        for (k = 2;; k++) {
            for (u = 0; u < nused && strcmp(used[u], used[nused]); u++) {}
            if (u == nused) break;
            snprintf(used[nused], sizeof used[0], "hist_%s_%d.svg", sn, k);
        }
        if (!(p = path_join(dir, used[nused++]))) goto done;
        snprintf(title, sizeof title, "activation '%s': histogram and each observer's range", fp.v[v].name);
        svg_escape(title, etitle, sizeof etitle);
        if (!(tmp = svg_begin(dir)) || svg_end(tmp, rn_svg_histogram(tmp, etitle, counts, 128, lo, hi, names, ml, mh, 5), p)) { free(p); goto done; }
        printf("wrote %s\n", p);
        free(p);
        written++;
    }
    if (written == 0) { fprintf(stderr, "quant-tool: no activation to plot\n"); goto done; }
    rc = 0;
done:
    free(o); free(buf); rn_model_free(&fp); rn_model_free(&q);
    if (rc == 0 && data) return plot_accuracy(path, dir, data, obs_kind);
    return rc;
}

int main(int argc, char **argv) {
    args a;
    int r;
    signal(SIGXFSZ, SIG_IGN); /* past a file size limit: a write error (and no partial file), not a kill */
    if ((r = parse_args(argc, argv, &a)) != 0) return r == 1 ? 0 : 2;
    switch (a.cmd) {
    case CMD_INSPECT: return cmd_inspect(&a);
    case CMD_QUANTIZE: return cmd_quantize(&a);
    case CMD_EVAL: return cmd_eval(&a);
    default: return cmd_plot(&a);
    }
}
