/* tools/quant_tool.c - the command-line tools around the runner.
 *
 *   quant-tool inspect  MODEL
 *   quant-tool quantize MODEL CALIB OUT [--mode int8|int4|ternary|codebook] [--observer NAME] [--layout L]
 *                       [--equalize] [--round gptq|nearest] [--bias-correct[=data|analytic]]
 *   quant-tool quantize MODEL CALIB OUT --mode mixed --budget BYTES [the options above]
 *   quant-tool eval     MODEL DATA_DIR [--mode MODE] [--observer NAME] [--layout L]
 *   quant-tool eval     MODEL --images FILE --labels FILE [--calib FILE] [--layout L] [--mode MODE] [--observer NAME]
 *   quant-tool plot     MODEL CALIB OUT_DIR [--test DATA_DIR | --images FILE --labels FILE] [--observer NAME] [--layout L]
 *   quant-tool help | --help | -h
 *
 * Sample files (CALIB, --images, --calib, DATA_DIR's files): IDX of any rank
 * and type, or NumPy .npy (examples/runner/data.h); the first axis counts the
 * samples, the rest must hold the model input's H x W x C values. uint8
 * samples enter the model as value / 255, float ones as they are. --layout
 * auto (default) | nhwc | nchw says how a sample's axes map to the NHWC input
 * (auto: (H, W, C) as is, (C, H, W) transposed, flat or two axes as is).
 * Labels: one axis of integers, IDX or .npy. Without --calib, eval calibrates
 * on the first 1000 of --images (said on stderr); float calibration samples
 * are taken as they are, like float test samples.
 * plot's accuracy figure runs on --test DATA_DIR (calibrated on its calib
 * file) or on --images / --labels (calibrated on CALIB).
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
 * quantize --mode int8 | int4 also takes --equalize (cross-layer
 * equalization of the float weights first; see rn_equalize in runner.h) and --round gptq (codes chosen by GPTQ
 * from the calibration inputs' Hessian, with the scales round to nearest
 * picks; depthwise layers stay nearest) and --bias-correct (each layer's
 * bias minus (Wq - W) E[x] over the calibration inputs, written as
 * "<w>.qbias", which the quantized modes use in place of the float bias;
 * --bias-correct=analytic takes E[x] data-free instead, from the "out_stats"
 * (batch-norm beta and |gamma|) of the layer feeding each one: rn_ptq_analytic);
 * the table then shows each layer's output SQNR on the calibration inputs
 * (nearest -> GPTQ; optimistic where the samples, or output pixels, are
 * fewer than the layer's K inputs: GPTQ then fits them closely) and its
 * largest bias change.
 *
 * quantize --mode mixed --budget BYTES chooses 8 or 4 bits for each conv /
 * dense layer (rn_mixed_search in runner.h, which make demo uses too): each
 * layer alone at 4 bits, its output noise on the calibration samples against
 * fp32's; then layers go to 4 bits, least noise a byte saved first, until
 * the weight bytes (as eval counts them) fit BYTES; prints both tables. A
 * budget below the smallest size (every layer that can at 4 bits) is
 * refused, naming that size. The file records each layer's width by its
 * tensors (W.q4: 4 bits, W.q: 8).
 *
 * Options: "--flag VALUE" or "--flag=VALUE"; "--" ends them. An unknown,
 * misplaced, repeated or valueless option or a wrong argument count prints
 * the usage on stderr and exits 2; --help prints it on stdout and exits 0.
 * Other failures exit 1. Names from a model file are hostile: escaped in
 * the JSON written, in SVG text and in file names, and shown with control
 * bytes as '?' on the terminal.
 */
#define _POSIX_C_SOURCE 200809L
#ifndef QT_SEPARATE_IMPL /* the Makefile links the implementation as an object of its own */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include "runner.h"
#include "data.h"
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
               "       quant-tool quantize MODEL CALIB OUT [--mode int8|int4|ternary|codebook] [--observer NAME] [--layout L]\n"
               "                           [--equalize] [--round gptq|nearest] [--bias-correct[=data|analytic]]   (these: int8, int4 and mixed)\n"
               "       quant-tool quantize MODEL CALIB OUT --mode mixed --budget BYTES [...]   8 or 4 bits a layer, weights <= BYTES\n"
               "       quant-tool quantize MODEL CALIB OUT --mode int8 --per-tensor [...]   one weight scale a tensor (8/t)\n"
               "       quant-tool eval MODEL DATA_DIR [--mode MODE] [--observer NAME] [--layout L]\n"
               "       quant-tool eval MODEL --images FILE --labels FILE [--calib FILE] [--mode MODE] [--observer NAME] [--layout L]\n"
               "       quant-tool plot MODEL CALIB OUT_DIR [--test DATA_DIR | --images FILE --labels FILE] [--observer NAME] [--layout L]\n"
               "       quant-tool help\n"
               "modes (MODE): fp32, int8, int8-dynamic, int4, ternary, binary, mixed, codebook (eval: mixed only for a mixed file)\n"
               "observers (NAME): minmax, moving-average, kl, percentile (default), mse\n"
               "layouts (L): auto (default: (H, W, C) as is, (C, H, W) transposed), nhwc (as is), nchw (transposed)\n"
               "CALIB, --images, --calib: IDX (any rank; u8, i8, i16, i32, f32, f64) or .npy (|u1, <f4, <f8, |i1, <i2, <i4)\n"
               "  samples on the first axis; uint8 enters the model as value / 255, floats as they are\n"
               "--labels: one axis of integers, IDX or .npy; DATA_DIR: t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte,\n"
               "  calib-1000-images-idx3-ubyte; without --calib eval calibrates on the first 1000 of --images\n"
               "--reduce-range (quantize, eval): uint8 activations in 0..127 (PyTorch's reduce_range), for the u7s8 kernels\n"
               "--bias-correct: E[x] from the calibration inputs (=data, the default) or from the batch-norm statistics the exporter kept\n"
               "  (=analytic, data-free); --equalize: relu6 on an equalized path becomes relu_clip with a bound per channel\n"
               "options go as --flag VALUE or --flag=VALUE (--bias-correct, --equalize, --per-tensor alone); -h or --help anywhere prints this\n");
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
enum { F_MODE = 1, F_OBSERVER = 2, F_TEST = 4, F_IMAGES = 8, F_LABELS = 16, F_CALIB = 32, F_LAYOUT = 64, F_ROUND = 128,
       F_BIASC = 256, F_EQUAL = 512 /* these two take no value */, F_BUDGET = 1024, F_PERT = 2048 /* no value */,
       F_RRANGE = 4096 /* no value */ };
static const struct { const char *name, *args; int npos, flags; } cmds[CMD_COUNT] = {
    { "inspect", "MODEL", 1, 0 },
    { "quantize", "MODEL CALIB OUT", 3, F_MODE | F_OBSERVER | F_LAYOUT | F_ROUND | F_BIASC | F_EQUAL | F_BUDGET | F_PERT | F_RRANGE },
    { "eval", "MODEL DATA_DIR (or MODEL --images FILE --labels FILE)", 2, F_MODE | F_OBSERVER | F_IMAGES | F_LABELS | F_CALIB | F_LAYOUT | F_RRANGE },
    { "plot", "MODEL CALIB OUT_DIR", 3, F_TEST | F_OBSERVER | F_IMAGES | F_LABELS | F_LAYOUT } };
#define NFLAGS 13
static const struct { const char *name; int bit; } flags[NFLAGS] = {
    { "--mode", F_MODE }, { "--observer", F_OBSERVER }, { "--test", F_TEST }, { "--images", F_IMAGES }, { "--labels", F_LABELS },
    { "--calib", F_CALIB }, { "--layout", F_LAYOUT }, { "--round", F_ROUND }, { "--bias-correct", F_BIASC },
    { "--equalize", F_EQUAL }, { "--budget", F_BUDGET }, { "--per-tensor", F_PERT }, { "--reduce-range", F_RRANGE } };

typedef struct {
    int cmd; const char *pos[3];
    const char *opt[NFLAGS]; /* in the order of flags[]: mode, observer, test, images, labels, calib, layout, round, bias-correct, equalize, budget,
                              * per-tensor, reduce-range */
    const char *mode, *observer, *test, *images, *labels, *calib;
    int mode_id, obs_id, layout;
    int gptq, bias_correct, equalize;  /* quantize: --round gptq, --bias-correct (1 data, 2 analytic), --equalize */
    size_t budget;                     /* quantize --mode mixed: weight bytes */
    int per_tensor;                    /* quantize --mode int8 --per-tensor */
    int reduce_range;                  /* quantize / eval --reduce-range: 7-bit activations */
} args;

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
            for (f = 0; f < NFLAGS; f++) if (strlen(flags[f].name) == nl && !strncmp(s, flags[f].name, nl)) break;
            if (f == NFLAGS) return usage_error("unknown option '%.*s'", (int)nl, s);
            if (!(cmds[c].flags & flags[f].bit)) return usage_error("%s does not take %s", cmds[c].name, flags[f].name);
            slot = &a->opt[f];
            if (*slot) return usage_error("%s given twice", flags[f].name);
            if (flags[f].bit == F_BIASC && eq) { /* --bias-correct=data | analytic */
                if (strcmp(eq + 1, "data") && strcmp(eq + 1, "analytic")) return usage_error("unknown --bias-correct '%s' (data or analytic)", eq + 1);
                *slot = eq + 1;
                continue;
            }
            if (flags[f].bit == F_BIASC || flags[f].bit == F_EQUAL || flags[f].bit == F_PERT || flags[f].bit == F_RRANGE) { /* a switch */
                if (eq) return usage_error("%s takes no value", flags[f].name);
                *slot = flags[f].bit == F_BIASC ? "data" : "on";
                continue;
            }
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
    a->mode = a->opt[0]; a->observer = a->opt[1]; a->test = a->opt[2]; a->images = a->opt[3]; a->labels = a->opt[4]; a->calib = a->opt[5];
    if (c == CMD_EVAL && npos == 1 && a->images) { /* MODEL --images FILE --labels FILE */ }
    else if (c == CMD_EVAL && npos == 2 && a->images) return usage_error("eval takes DATA_DIR or --images, not both");
    else if (npos < cmds[c].npos) return usage_error("%s needs %s", cmds[c].name, cmds[c].args);
    if (a->images && !a->labels) return usage_error("--images needs --labels");
    if (a->labels && !a->images) return usage_error("--labels goes with --images");
    if (a->calib && !a->images) return usage_error("--calib goes with --images (DATA_DIR has its own calibration file)");
    if (a->test && a->images) return usage_error("plot takes --test DATA_DIR or --images, not both");
    if (!a->opt[6] || !strcmp(a->opt[6], "auto")) a->layout = RN_LAYOUT_AUTO;
    else if (!strcmp(a->opt[6], "nhwc")) a->layout = RN_LAYOUT_NHWC;
    else if (!strcmp(a->opt[6], "nchw")) a->layout = RN_LAYOUT_NCHW;
    else return usage_error("unknown --layout '%s' (auto, nhwc or nchw)", a->opt[6]);
    a->mode_id = a->mode ? parse_mode(a->mode) : c == CMD_QUANTIZE || c == CMD_EVAL ? RN_INT8 : -1;
    if (c == CMD_QUANTIZE && a->mode_id != RN_INT8 && a->mode_id != RN_INT4 && a->mode_id != RN_TERNARY && a->mode_id != RN_CODEBOOK && a->mode_id != RN_MIXED)
        return usage_error("--mode must be int8, int4, mixed, ternary or codebook for quantize, not '%s'", a->mode);
    if (c == CMD_QUANTIZE && a->mode_id == RN_MIXED && !a->opt[10]) return usage_error("--mode mixed needs --budget BYTES (the weights' size)");
    if (a->opt[10]) {
        const char *b = a->opt[10];
        size_t k;
        if (a->mode_id != RN_MIXED) return usage_error("--budget goes with --mode mixed");
        for (k = 0; b[k]; k++) if (b[k] < '0' || b[k] > '9') break;
        if (b[k] || k > 15 || !strtoull(b, NULL, 10)) return usage_error("--budget '%s' is not a positive whole number of bytes", b);
        a->budget = (size_t)strtoull(b, NULL, 10);
    }
    if (c == CMD_EVAL && a->mode_id < 0)
        return usage_error("unknown --mode '%s' (fp32, int8, int8-dynamic, int4, ternary, binary, mixed or codebook)", a->mode);
    if (a->opt[7] && strcmp(a->opt[7], "gptq") && strcmp(a->opt[7], "nearest"))
        return usage_error("unknown --round '%s' (gptq or nearest)", a->opt[7]);
    a->gptq = a->opt[7] && !strcmp(a->opt[7], "gptq");
    a->bias_correct = !a->opt[8] ? 0 : !strcmp(a->opt[8], "analytic") ? 2 : 1;
    a->equalize = a->opt[9] != NULL;
    if ((a->opt[7] || a->bias_correct || a->equalize) && a->mode_id != RN_INT8 && a->mode_id != RN_INT4 && a->mode_id != RN_MIXED)
        return usage_error("%s goes with --mode int8, int4 or mixed, not '%s'", a->opt[7] ? "--round" : a->bias_correct ? "--bias-correct" : "--equalize", a->mode);
    a->per_tensor = a->opt[11] != NULL;
    if (a->per_tensor && a->mode_id != RN_INT8) return usage_error("--per-tensor goes with --mode int8, not '%s'", a->mode ? a->mode : "?");
    a->reduce_range = a->opt[12] != NULL;
    if (a->reduce_range && (a->mode_id == RN_FP32 || a->mode_id == RN_CODEBOOK || a->mode_id == RN_BINARY))
        return usage_error("--reduce-range goes with the modes of uint8 activations (int8, int8-dynamic, int4, ternary, mixed), not '%s'", a->mode);
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
static const char *const derived_suffix[] = { ".q", ".scale", ".q4", ".q4scale", ".codebook", ".idx", ".qbias" };

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

/* a parsed JSON value written back as JSON (numbers exact: integers as
 * such, others with 17 digits) */
static void json_write(qt_buf *b, const rn_json *v) {
    int i;
    char t[40];
    switch (v->type) {
    case RN_JSON_NULL: qt_puts(b, "null"); break;
    case RN_JSON_BOOL: qt_puts(b, v->num != 0 ? "true" : "false"); break;
    case RN_JSON_NUM:
        if (v->num == floor(v->num) && fabs(v->num) < 1e15) snprintf(t, sizeof t, "%.0f", v->num);
        else snprintf(t, sizeof t, "%.17g", v->num);
        qt_puts(b, t); break;
    case RN_JSON_STR: qt_json_str(b, v->str); break;
    case RN_JSON_ARR:
        qt_puts(b, "[");
        for (i = 0; i < v->n; i++) { if (i) qt_puts(b, ","); json_write(b, &v->kids[i]); }
        qt_puts(b, "]"); break;
    default:
        qt_puts(b, "{");
        for (i = 0; i < v->n; i++) { if (i) qt_puts(b, ","); qt_json_str(b, v->kids[i].key); qt_puts(b, ":"); json_write(b, &v->kids[i]); }
        qt_puts(b, "}"); break;
    }
}

/* the graph JSON g with the relu6 nodes listed in clip[] (their indexes in
 * "nodes") written as relu_clip nodes whose "max" is tname[k] */
static void graph_with_clips(qt_buf *b, const rn_json *g, const int *clip, int nclip, char (*tname)[QT_MAX_NAME + 1]) {
    int i, j, k;
    qt_puts(b, "{");
    for (i = 0; i < g->n; i++) {
        const rn_json *v = &g->kids[i];
        if (i) qt_puts(b, ",");
        qt_json_str(b, v->key); qt_puts(b, ":");
        if (strcmp(v->key, "nodes") || v->type != RN_JSON_ARR) { json_write(b, v); continue; }
        qt_puts(b, "[");
        for (j = 0; j < v->n; j++) {
            const rn_json *nd = &v->kids[j];
            int at = -1, f;
            if (j) qt_puts(b, ",");
            for (k = 0; k < nclip; k++) if (clip[k] == j) at = k;
            if (at < 0) { json_write(b, nd); continue; }
            qt_puts(b, "{\"op\":\"relu_clip\"");
            for (f = 0; f < nd->n; f++) {
                if (!strcmp(nd->kids[f].key, "op")) continue;
                qt_puts(b, ","); qt_json_str(b, nd->kids[f].key); qt_puts(b, ":"); json_write(b, &nd->kids[f]);
            }
            qt_puts(b, ",\"max\":"); qt_json_str(b, tname[at]); qt_puts(b, "}");
        }
        qt_puts(b, "]");
    }
    qt_put(b, "}", 2); /* with the NUL */
}

/* --equalize: rn_equalize (runner.h) on the file image's float tensors,
 * before anything else is loaded: prints each pair's channel-range spread
 * (largest / smallest per-channel max |w|) before -> after, and makes a new
 * image of the equalized tensors (with a relu6 on a pair's path rewritten
 * as a relu_clip node and its per-channel bounds tensor "<value>.max") */
static int ptq_equalize(unsigned char **img, size_t *imgn) {
    rn_model m;
    rn_eq_report *r = (rn_eq_report *)malloc(sizeof *r);
    qt_tensor *ot = NULL;
    qt_buf gb;
    rn_json g;
    char (*tname)[QT_MAX_NAME + 1] = NULL;
    int i, j, rc = -1;
    memset(&gb, 0, sizeof gb); memset(&g, 0, sizeof g);
    if (!r) { fprintf(stderr, "quant-tool: out of memory\n"); return -1; }
    if (rn_model_load_mem(&m, *img, *imgn, RN_FP32, 1)) { fprintf(stderr, "quant-tool: equalize: %s\n", m.err); free(r); return -1; }
    if (rn_equalize(&m, r)) { fprintf(stderr, "quant-tool: %s\n", m.err); goto done; }
    if (!r->np) { printf("equalize: no pair of layers to equalize\n"); rc = 0; goto done; }
    printf("%-24s %-24s %26s %26s\n", "equalized A", "B", "A channel spread", "B channel spread");
    for (i = 0; i < r->np; i++) {
        const rn_eq_pair *p = &r->pair[i];
        char b1[64], b2[64];
        printf("%-24s %-24s %11.3g -> %11.3g %11.3g -> %11.3g\n", tty(m.n[p->a].w->name, b1, sizeof b1), tty(m.n[p->b].w->name, b2, sizeof b2),
               p->spread_a[0], p->spread_a[1], p->spread_b[0], p->spread_b[1]);
    }
    /* a new image: the file's tensors, the equalized ones changed in place,
     * and a bounds tensor for each relu6 made a relu_clip */
    if (!(ot = (qt_tensor *)calloc((size_t)m.file.nt + (size_t)r->nclip + 1, sizeof *ot)) ||
        !(tname = (char (*)[QT_MAX_NAME + 1])calloc((size_t)r->nclip + 1, sizeof *tname))) { fprintf(stderr, "quant-tool: out of memory\n"); goto done; }
    for (j = 0; j < m.file.nt; j++) {
        const rn_tensor *t = &m.file.t[j];
        ot[j].name = t->name; ot[j].dtype = t->dtype; ot[j].ndim = t->ndim;
        memcpy(ot[j].shape, t->shape, sizeof t->shape);
        ot[j].data = t->data; ot[j].bytes = t->bytes;
    }
    for (i = 0; i < r->nclip; i++) {
        const rn_node *cn = &m.n[r->clip[i]];
        const rn_value *x = &m.v[cn->in[0]];
        char b1[64];
        int k, dup;
        for (k = 0; k < 1000; k++) { /* "<value>.max", or .max1, .max2, ... if the name is taken */
            if (k) snprintf(tname[i], sizeof *tname, "%s.max%d", m.v[cn->out].name, k);
            else snprintf(tname[i], sizeof *tname, "%s.max", m.v[cn->out].name);
            dup = rn_find(&m.file, tname[i]) != NULL;
            for (j = 0; j < i && !dup; j++) dup = !strcmp(tname[j], tname[i]);
            if (!dup) break;
        }
        if (dup) { fprintf(stderr, "quant-tool: equalize: no free tensor name for the bounds of '%s'\n", tty(m.v[cn->out].name, b1, sizeof b1)); goto done; }
        ot[m.file.nt + i].name = tname[i]; ot[m.file.nt + i].dtype = RN_DT_F32; ot[m.file.nt + i].ndim = 1;
        ot[m.file.nt + i].shape[0] = x->c; ot[m.file.nt + i].data = cn->chan_a; ot[m.file.nt + i].bytes = x->c * sizeof(float);
        printf("relu6 %s -> relu_clip, bounds 6 / scale per channel in %s\n", tty(m.v[cn->out].name, b1, sizeof b1), tname[i]);
    }
    if (r->nclip) {
        char err[256];
        if (rn_json_parse(m.file.graph_json, strlen(m.file.graph_json), &g, err, sizeof err)) { fprintf(stderr, "quant-tool: equalize: %s\n", err); goto done; }
        graph_with_clips(&gb, &g, r->clip, r->nclip, tname);
        if (gb.oom) { fprintf(stderr, "quant-tool: out of memory\n"); goto done; }
    }
    {
        qt_meta meta;
        unsigned char *ni = NULL;
        size_t nn = 0;
        char err[512];
        meta.graph = r->nclip ? gb.p : m.file.graph_json; meta.variant = m.file.variant; meta.quant = NULL;
        if (qt_write_mem(ot, m.file.nt + r->nclip, &meta, &ni, &nn, err, sizeof err)) { fprintf(stderr, "quant-tool: equalize: %s\n", err); goto done; }
        free(*img); *img = ni; *imgn = nn;
    }
    rc = 0;
done:
    free(ot); free(r); free(tname); qt_buf_free(&gb); rn_json_free(&g);
    rn_model_free(&m);
    return rc;
}

/* ---- quantize's post-training steps (quant.h section 12; runner.h's
 * rn_ptq_*, which make demo uses too) ----
 * --round gptq: the codes of each conv / dense layer (not depthwise) by GPTQ
 * with the scales round to nearest chose (int4: the fp16 block scales of
 * rn_q4_quantize, int8: the per-channel scales), from H = 2 X^T X over the
 * calibration samples (X: the layer's float inputs, im2col rows for a
 * conv). --bias-correct: the bias minus (Wq - W) E[x], E[x] the mean
 * calibration input per channel (per input for dense), stored as
 * "<w>.qbias" (the quantized modes use it; the float bias stays). */
static void collect_progress(size_t done, size_t total, void *ctx) {
    fprintf(stderr, "\rcollecting layer inputs: %zu of %zu samples run (%.0f s)", done, total, now() - *(const double *)ctx);
}
static rn_ptq_layer *ptq_collect(rn_model *fp, const rn_data *x, int want_h, int want_ex) {
    double t0 = now();
    int tty = isatty(2);
    rn_ptq_layer *pl = rn_ptq_collect(fp, x->type == RN_DATA_U8 ? x->u8 : NULL, x->type == RN_DATA_U8 ? NULL : x->f32, x->count, x->size,
                                      want_h, want_ex, tty ? collect_progress : NULL, &t0);
    if (tty) fprintf(stderr, "\r%60s\r", "");
    if (!pl) fprintf(stderr, "quant-tool: %s\n", fp->err);
    return pl;
}

/* the table's extra columns: output SQNR over the calibration inputs of
 * nearest -> GPTQ codes (dB), the largest bias change */
static void ptq_cols(const rn_ptq_layer *L, int gptq, int bias) {
    if (gptq) {
        if (L && L->gptq && L->en > 0 && L->eg > 0) printf("  %6.2f -> %6.2f dB", 10 * log10(L->sig / L->en), 10 * log10(L->sig / L->eg));
        else printf("  %19s", "nearest");
    }
    if (bias) {
        if (L && L->ex) printf("  %10.3g", L->db);
        else printf("  %10s", "none");
    }
}

static int calibrate_progress(rn_model *fp, rn_model *q, const rn_data *x, int obs);
static int samples_load(rn_data *d, const char *path, const rn_model *m, int layout);

/* --mode mixed: the bits of each layer for the budget (rn_mixed_search),
 * with the sensitivity table and the steps taken */
static double sqnr_db(double sig, double noise) { return noise > 0 ? 10 * log10(sig / noise) : INFINITY; }
static int mixed_choose(rn_model *fp, rn_model *q, const rn_data *cd, size_t budget) {
    rn_mixed_plan *p = (rn_mixed_plan *)malloc(sizeof *p);
    int i, k;
    char lb[64];
    if (!p) { fprintf(stderr, "quant-tool: out of memory\n"); return -1; }
    if (rn_mixed_search(fp, q, cd->type == RN_DATA_U8 ? cd->u8 : NULL, cd->type == RN_DATA_U8 ? NULL : cd->f32, cd->count, cd->size, budget, p)) {
        fprintf(stderr, "quant-tool: --mode mixed: %s\n", q->err); free(p); return -1;
    }
    printf("mixed precision: budget %zu bytes of weights; %zu bytes with every layer at 8 bits, %zu at the least\n", budget, p->bytes8, p->bytes_min);
    printf("sensitivity on %zu calibration samples (output SQNR against fp32; every layer at 8 bits: %.2f dB):\n", cd->count, sqnr_db(p->signal, p->noise8));
    printf("  %-8s %-9s %12s %12s %22s\n", "layer", "op", "bytes at 8", "bytes at 4", "alone at 4 bits");
    for (i = 0; i < q->nn; i++) {
        rn_node *n = &q->n[i];
        if (!rn_is_linear(n->op)) continue;
        printf("  %-8s %-9s %12zu %12zu", tty(q->v[n->out].name, lb, sizeof lb), rn_op_names[n->op], rn_layer_bytes(n, 8), rn_layer_bytes(n, 4));
        if (p->alone[i] >= 0) printf(" %19.2f dB\n", sqnr_db(p->signal, p->alone[i]));
        else if (n->op == RN_OP_DWCONV) printf(" %22s\n", "8 (depthwise)");
        else printf(" %22s\n", budget >= p->bytes8 ? "(not measured)" : "8 (no smaller)");
    }
    if (!p->nsteps) printf("every layer at 8 bits fits: %zu bytes\n", p->bytes);
    else {
        printf("steps (from every layer at 8 bits, %zu bytes):\n  %-4s %-8s %6s %14s %22s\n", p->bytes8, "step", "layer", "bits", "weight bytes", "output SQNR");
        for (k = 0; k < p->nsteps; k++) {
            const rn_mixed_step *s = &p->step[k];
            printf("  %-4d %-8s %6s %14zu %19.2f dB\n", k + 1, tty(q->v[q->n[s->node].out].name, lb, sizeof lb), s->bits == 4 ? "8->4" : "4->8",
                   s->bytes, sqnr_db(p->signal, s->noise));
        }
        printf("chosen: %zu bytes of weights (budget %zu)\n", p->bytes, budget);
    }
    free(p);
    return 0;
}

static int cmd_quantize(const args *a) {
    const char *in = a->pos[0], *calib = a->pos[1], *out = a->pos[2];
    const int mode = a->mode_id, obs = a->obs_id;
    rn_model fp, q;
    size_t j, imgn = 0;
    unsigned char *img = NULL;
    rn_data cd;
    char err[512], (*dname)[QT_MAX_NAME + 16] = NULL, sh[64];
    qt_buf qs;
    qt_meta meta;
    qt_tensor *ot = NULL;
    rn_ptq_layer *pl = NULL;
    void **own = NULL;   /* every buffer made here, freed at the end */
    int i, nt = 0, nown = 0, v, rc = 1;
    struct stat st;
    double t0 = now();
    memset(&fp, 0, sizeof fp); memset(&q, 0, sizeof q); memset(&qs, 0, sizeof qs); memset(&cd, 0, sizeof cd);
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
    if (float_image(in, &img, &imgn)) goto done;
    if (a->equalize && ptq_equalize(&img, &imgn)) goto done;
    if (rn_model_load_mem(&fp, img, imgn, RN_FP32, 100)) { fprintf(stderr, "quant-tool: %s: %s\n", in, fp.err); goto done; }
    if (rn_model_load_mem(&q, img, imgn, mode, mode == RN_MIXED ? 64 : 1)) { fprintf(stderr, "quant-tool: %s: %s\n", in, q.err); goto done; }
    if (a->reduce_range) rn_set_reduce_range(&q, 1);
    free(img); img = NULL;
    if (samples_load(&cd, calib, &fp, a->layout)) goto done;
    if (mode != RN_CODEBOOK && calibrate_progress(&fp, &q, &cd, obs)) goto done;
    if (mode == RN_MIXED && mixed_choose(&fp, &q, &cd, a->budget)) goto done;
    if ((a->gptq || a->bias_correct == 1) && !(pl = ptq_collect(&fp, &cd, a->gptq, a->bias_correct == 1))) goto done;
    if (a->bias_correct == 2) { /* data-free: E[x] from the batch-norm statistics the exporter kept (out_stats) */
        int got;
        if (!pl && !(pl = (rn_ptq_layer *)calloc((size_t)fp.nn + 1, sizeof *pl))) { fprintf(stderr, "quant-tool: out of memory\n"); goto done; }
        if ((got = rn_ptq_analytic(&fp, pl)) < 0) { fprintf(stderr, "quant-tool: %s\n", fp.err); goto done; }
        if (!got) {
            fprintf(stderr, "quant-tool: --bias-correct=analytic: no layer's input comes from a layer with out_stats (the batch-norm statistics "
                            "tools/export.py keeps when it folds a BatchNorm; this file has none that reach another layer through relu / relu6 / "
                            "avg pooling): use --bias-correct (from the calibration data)\n");
            goto done;
        }
    }
    /* the output tensors: every float tensor, plus per weight its quantized tensors */
    ot = (qt_tensor *)calloc((size_t)(fp.file.nt + 3 * q.nn + 1), sizeof *ot);
    own = (void **)calloc((size_t)(3 * q.nn + 1), sizeof *own);
    dname = (char (*)[QT_MAX_NAME + 16])calloc((size_t)(3 * q.nn + 1), sizeof *dname);
    if (!ot || !own || !dname) { fprintf(stderr, "quant-tool: out of memory\n"); goto done; }
    for (i = 0; i < fp.file.nt; i++) {
        rn_tensor *t = &fp.file.t[i];
        ot[nt].name = t->name; ot[nt].dtype = t->dtype; ot[nt].ndim = t->ndim; memcpy(ot[nt].shape, t->shape, sizeof t->shape);
        ot[nt].data = t->data; ot[nt].bytes = t->bytes; nt++;
    }
#define DERIVED(suffix) (snprintf(dname[nt - fp.file.nt], sizeof *dname, "%s%s", n->w->name, suffix), ot[nt].name = dname[nt - fp.file.nt])
    printf("%-8s %-9s %-18s %5s %9s %10s %11s", "layer", "op", "weight shape", "bits", "params", "bytes", "weight SQNR");
    if (a->gptq) printf("  %19s", "output SQNR rtn->gptq");
    if (a->bias_correct) printf("  %10s", "bias shift");
    printf("\n");
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
            float *qb = NULL;
            size_t o;
            own[nown++] = nib = (uint8_t *)malloc(rb * n->N + 1);
            own[nown++] = h = (uint16_t *)malloc(2 * n->N * nb + 2);
            if (!w8 || !sc || !h || !nib) { free(w8); free(sc); fprintf(stderr, "quant-tool: out of memory\n"); goto done; }
            if (pl && pl[i].ex && !(own[nown++] = qb = (float *)malloc(sizeof(float) * n->N + 4))) { free(w8); free(sc); fprintf(stderr, "quant-tool: out of memory\n"); goto done; }
            if (rn_ptq_codes(&q, i, pl ? &pl[i] : NULL, 0, w8, sc, qb, &n->sqnr)) { free(w8); free(sc); fprintf(stderr, "quant-tool: %s\n", q.err); goto done; }
            for (o = 0; o < n->N; o++) quant_pack(w8 + o * n->K, n->K, QUANT_I4, nib + o * rb);
            for (o = 0; o < n->N * nb; o++) h[o] = quant_fp32_to_fp16(sc[o]);
            free(w8); free(sc);
            DERIVED(".q4");
            ot[nt].dtype = RN_DT_U8; ot[nt].ndim = 2; ot[nt].shape[0] = n->N; ot[nt].shape[1] = rb; ot[nt].data = nib; ot[nt].bytes = rb * n->N; nt++;
            DERIVED(".q4scale");
            ot[nt].dtype = RN_DT_F16; ot[nt].ndim = 2; ot[nt].shape[0] = n->N; ot[nt].shape[1] = nb; ot[nt].data = h; ot[nt].bytes = 2 * n->N * nb; nt++;
            if (qb) { DERIVED(".qbias"); ot[nt].dtype = RN_DT_F32; ot[nt].ndim = 1; ot[nt].shape[0] = n->N; ot[nt].data = qb; ot[nt].bytes = 4 * n->N; nt++; }
            snprintf(sh, sizeof sh, "%zux%zu", n->N, n->K);
            printf("%-8s %-9s %-18s %5s %9zu %10zu %8.2f dB", tty(q.v[n->out].name, lb, sizeof lb), rn_op_names[n->op], sh, "4/b32", n->K * n->N,
                   rb * n->N + 2 * n->N * nb + 4 * n->N, n->sqnr);
            ptq_cols(pl ? &pl[i] : NULL, a->gptq, a->bias_correct);
            printf("\n");
            continue;
        }
        {
            int8_t *wq;
            float *qb = NULL;
            own[nown++] = wq = (int8_t *)malloc(n->K * n->N + 1);
            if (!wq) { fprintf(stderr, "quant-tool: out of memory\n"); goto done; }
            if (pl && pl[i].ex && !(own[nown++] = qb = (float *)malloc(sizeof(float) * n->N + 4))) { fprintf(stderr, "quant-tool: out of memory\n"); goto done; }
            if (rn_ptq_codes(&q, i, pl ? &pl[i] : NULL, a->per_tensor, wq, n->wscale, qb, &n->sqnr)) { fprintf(stderr, "quant-tool: %s\n", q.err); goto done; }
            DERIVED(".q");
            ot[nt].dtype = RN_DT_I8; ot[nt].ndim = n->w->ndim; memcpy(ot[nt].shape, n->w->shape, sizeof n->w->shape);
            if (n->w->count != n->K * n->N) { /* a grouped conv: its weights expanded to [out][kh][kw][in], stored [out][K] */
                ot[nt].ndim = 2; ot[nt].shape[0] = n->N; ot[nt].shape[1] = n->K;
            }
            ot[nt].data = wq; ot[nt].bytes = n->K * n->N; nt++;
            DERIVED(".scale");
            ot[nt].dtype = RN_DT_F32; ot[nt].ndim = 1; ot[nt].shape[0] = n->N; ot[nt].data = n->wscale; ot[nt].bytes = 4 * n->N; nt++;
            if (qb) { DERIVED(".qbias"); ot[nt].dtype = RN_DT_F32; ot[nt].ndim = 1; ot[nt].shape[0] = n->N; ot[nt].data = qb; ot[nt].bytes = 4 * n->N; nt++; }
            snprintf(sh, sizeof sh, "%zux%zu", n->N, n->K);
            printf("%-8s %-9s %-18s %5s %9zu %10zu %8.2f dB", tty(q.v[n->out].name, lb, sizeof lb), rn_op_names[n->op], sh,
                   a->per_tensor ? "8/t" : bits == 8 ? "8" : bits == 4 ? "4" : "2", n->K * n->N,
                   (n->K * n->N * (size_t)bits + 7) / 8 + 8 * n->N, n->sqnr); /* codes, scales and biases, as eval counts them */
            ptq_cols(pl ? &pl[i] : NULL, a->gptq, a->bias_correct);
            printf("\n");
        }
    }
#undef DERIVED
    /* the "quant" metadata: itself JSON, every name in it escaped */
    qt_puts(&qs, "{\"mode\":"); qt_json_str(&qs, rn_mode_names[mode]);
    if (a->reduce_range) qt_puts(&qs, ",\"reduce_range\":true");
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
    printf("wrote %s (%s%s%s, %s observer%s%s, %d tensors) in %.1f s\n", out, rn_mode_names[mode], a->per_tensor ? " per-tensor" : "",
           a->reduce_range ? ", activations 0..127" : "", a->observer,
           a->gptq ? ", GPTQ rounding" : "", a->bias_correct == 1 ? ", bias corrected" : a->bias_correct ? ", bias corrected (analytic)" : "", nt, now() - t0);
    rc = 0;
done:
    for (i = 0; i < nown; i++) free(own[i]);
    free(own); free(ot); free(dname); qt_buf_free(&qs); free(img); rn_data_free(&cd); rn_ptq_free(pl, fp.nn);
    rn_model_free(&fp); rn_model_free(&q);
    return rc;
}

/* q's activation params from fp run over the samples x, in chunks of 200
 * with the count on a terminal as each chunk is done */
static int calibrate_progress(rn_model *fp, rn_model *q, const rn_data *x, int obs) {
    rn_calib c;
    size_t i0, n = x->count, sz = x->size;
    int tty = isatty(2);
    if (!n) { fprintf(stderr, "quant-tool: calibration: no samples\n"); return -1; }
    if (rn_calib_begin(&c, fp, q, (quant_observer_kind)obs)) { fprintf(stderr, "quant-tool: calibration: %s\n", q->err); return -1; }
    for (i0 = 0; i0 < n; i0 += 200) {
        size_t k = n - i0 < 200 ? n - i0 : 200;
        if (x->type == RN_DATA_U8 ? rn_calib_add(&c, x->u8 + i0 * sz, k, sz) : rn_calib_add_f32(&c, x->f32 + i0 * sz, k, sz)) { if (tty) fputc('\n', stderr); fprintf(stderr, "quant-tool: %s\n", q->err); rn_calib_abort(&c); return -1; }
        if (tty) fprintf(stderr, "\rcalibrating: %zu of %zu images run", i0 + k, n);
    }
    if (tty) fprintf(stderr, "\r%50s\r", "");
    if (rn_calib_end(&c)) { fprintf(stderr, "quant-tool: %s\n", q->err); return -1; }
    return 0;
}

/* ---- sample sets ---- */

/* samples from path (IDX or .npy) fitted to m's input in the given layout;
 * a transposition is said on stderr */
static int samples_load(rn_data *d, const char *path, const rn_model *m, int layout) {
    const rn_value *in = &m->v[m->input];
    char err[600];
    if (rn_data_load(d, path, err, sizeof err)) { fprintf(stderr, "quant-tool: %s\n", err); return -1; }
    if (rn_data_layout(d, in->h, in->w, in->c, layout, err, sizeof err)) {
        fprintf(stderr, "quant-tool: %s: %s\n", path, err); rn_data_free(d); return -1;
    }
    if (!d->count) { fprintf(stderr, "quant-tool: %s holds no samples\n", path); rn_data_free(d); return -1; }
    if (d->transposed) fprintf(stderr, "quant-tool: %s: %s samples (C, H, W) = (%zu, %zu, %zu), transposed to the model's NHWC\n",
                               path, d->kind, in->c, in->h, in->w);
    return 0;
}

/* a test set: images, labels and calibration images (DATA_DIR's three files,
 * or --images, --labels and --calib or the first 1000 of --images) */
typedef struct { rn_data x, xc; rn_labels y; char *path[3]; int calib_default; } evalset;

static void evalset_free(evalset *s) {
    rn_data_free(&s->x); rn_data_free(&s->xc); rn_labels_free(&s->y);
    free(s->path[0]); free(s->path[1]); free(s->path[2]);
    memset(s, 0, sizeof *s);
}

static char *dup_str(const char *p) {
    char *s = (char *)malloc(strlen(p) + 1);
    if (!s) fprintf(stderr, "quant-tool: out of memory\n");
    else strcpy(s, p);
    return s;
}

/* dir (DATA_DIR) or images / labels / calib (calib may be NULL), fitted to
 * m's input, the labels checked against m's classes */
static int evalset_load(evalset *s, const char *dir, const char *images, const char *labels, const char *calib, const rn_model *m, int layout) {
    static const char *const names[3] = { "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "calib-1000-images-idx3-ubyte" };
    const char *given[3];
    char err[600];
    size_t j, classes = m->v[m->output].size;
    int k;
    memset(s, 0, sizeof *s);
    given[0] = images; given[1] = labels; given[2] = calib;
    if (dir && check_dir(dir)) return -1;
    for (k = 0; k < 3; k++) {
        if (dir) s->path[k] = path_join(dir, names[k]);
        else if (given[k]) s->path[k] = dup_str(given[k]);
        else continue;
        if (!s->path[k]) goto fail;
    }
    if (samples_load(&s->x, s->path[0], m, layout)) goto fail;
    if (rn_labels_load(&s->y, s->path[1], err, sizeof err)) { fprintf(stderr, "quant-tool: %s\n", err); goto fail; }
    if (s->y.count != s->x.count) {
        fprintf(stderr, "quant-tool: images and labels differ in count: %zu in %s, %zu in %s\n", s->x.count, s->path[0], s->y.count, s->path[1]);
        goto fail;
    }
    for (j = 0; j < s->y.count; j++)
        if (s->y.y[j] < 0 || (uint64_t)s->y.y[j] >= classes) {
            fprintf(stderr, "quant-tool: %s: label %lld of image %zu is not a class of the model's %zu outputs\n",
                    s->path[1], (long long)s->y.y[j], j, classes);
            goto fail;
        }
    if (s->path[2]) { if (samples_load(&s->xc, s->path[2], m, layout)) goto fail; }
    else { s->xc = rn_data_head(&s->x, 1000); s->calib_default = 1; }
    return 0;
fail:
    evalset_free(s);
    return -1;
}

/* m's accuracy on the set's images at m's batch */
static int accuracy(rn_model *m, const evalset *s, double *acc) {
    size_t i0, correct = 0, bs = (size_t)m->batch, n = s->x.count;
    for (i0 = 0; i0 < n; i0 += bs) {
        size_t bn = n - i0 < bs ? n - i0 : bs, b;
        if (rn_data_set_input(m, &s->x, i0, bn) || rn_run(m, (int)bn)) { fprintf(stderr, "quant-tool: %s\n", m->err); return -1; }
        for (b = 0; b < bn; b++) {
            const float *p = rn_output(m, (int)b);
            size_t k, best = 0;
            for (k = 1; k < m->v[m->output].size; k++) if (p[k] > p[best]) best = k;
            correct += (int64_t)best == s->y.y[i0 + b];
        }
    }
    *acc = n ? (double)correct / (double)n : 0.0;
    return 0;
}

/* loads path in mode at batch B, calibrating a float file's activations on
 * the set's calibration samples where the mode needs them (m is freed on
 * failure); the first calibration on the default set says so on stderr */
static int load_calibrated(rn_model *m, const char *path, int mode, int B, int obs, int rrange, evalset *s) {
    if (rn_model_load(m, path, mode, B)) { fprintf(stderr, "quant-tool: %s: %s\n", path, m->err); return -1; }
    if (rrange) rn_set_reduce_range(m, 1);
    if (mode != RN_FP32 && mode != RN_DYN && mode != RN_CODEBOOK && !m->params_ready) {
        rn_model fp;
        int r;
        if (s->calib_default == 1) {
            fprintf(stderr, "quant-tool: no --calib: calibrating on the first %zu samples of %s\n", s->xc.count, s->path[0]);
            s->calib_default = 2;
        }
        if (rn_model_load(&fp, path, RN_FP32, 100)) { fprintf(stderr, "quant-tool: %s: %s\n", path, fp.err); rn_model_free(m); return -1; }
        r = calibrate_progress(&fp, m, &s->xc, obs);
        rn_model_free(&fp);
        if (r) { rn_model_free(m); return -1; }
    }
    return 0;
}

static int cmd_eval(const args *a) {
    const char *path = a->pos[0], *dir = a->images ? NULL : a->pos[1];
    const int obs = a->obs_id;
    int mode = a->mode_id;
    evalset d;
    rn_model m, m1;
    double t0, ips, lat[300], acc;
    int i, nl, rc = 1;
    memset(&m, 0, sizeof m); memset(&m1, 0, sizeof m1); memset(&d, 0, sizeof d);
    if (check_file(path)) return 1;
    if (a->images && (check_file(a->images) || check_file(a->labels) || (a->calib && check_file(a->calib)))) return 1;
    /* the input shape and classes; a quantized file runs in the mode it was quantized for, a float one in int8 */
    if (rn_model_load(&m, path, RN_FP32, 1)) { fprintf(stderr, "quant-tool: %s: %s\n", path, m.err); return 1; }
    if (!a->mode && m.stored_mode >= 0) mode = m.stored_mode;
    if (mode == RN_MIXED && m.stored_mode != RN_MIXED) {
        fprintf(stderr, "quant-tool: --mode mixed needs a bit width per layer: quantize --mode mixed --budget BYTES chooses them (eval runs the file it writes)\n");
        goto done;
    }
    if (evalset_load(&d, dir, a->images, a->labels, a->calib, &m, a->layout)) goto done;
    if (a->reduce_range && m.stored_mode >= 0 && m.stored_mode == mode) {
        fprintf(stderr, "quant-tool: --reduce-range: %s is quantized, and runs with the activation params it stores; "
                        "give the float model, or another --mode\n", path);
        goto done;
    }
    rn_model_free(&m);
    if (load_calibrated(&m, path, mode, 64, obs, a->reduce_range, &d) ||
        load_calibrated(&m1, path, mode, 1, obs, a->reduce_range, &d)) goto done;
    t0 = now();
    if (accuracy(&m, &d, &acc)) goto done;
    ips = (double)d.x.count / (now() - t0);
    nl = d.x.count < 300 ? (int)d.x.count : 300; /* batch-1 latency: the median over the first (up to) 300 images */
    for (i = 0; i < nl; i++) {
        double t;
        if (rn_data_set_input(&m1, &d.x, (size_t)i, 1)) { fprintf(stderr, "quant-tool: %s\n", m1.err); goto done; }
        t = now();
        if (rn_run(&m1, 1)) { fprintf(stderr, "quant-tool: %s\n", m1.err); goto done; }
        lat[i] = now() - t;
    }
    for (i = 1; i < nl; i++) { double v = lat[i]; int k = i; while (k > 0 && lat[k - 1] > v) { lat[k] = lat[k - 1]; k--; } lat[k] = v; }
    printf("%s (%s, %s%s): accuracy %.2f%% on %zu images, %.1f us per image at batch 1, %.0f images/s at batch 64, weights %.1f KiB (%zu bytes)\n",
           path, rn_mode_names[mode], quant_isa_name(), m.reduce_range ? ", activations 0..127" : "", 100.0 * acc, d.x.count, nl ? lat[nl / 2] * 1e6 : 0.0, ips, m.weight_bytes / 1024.0, m.weight_bytes);
    rc = 0;
done:
    rn_model_free(&m); rn_model_free(&m1); evalset_free(&d);
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
 * set of DATA_DIR (--test) or --images / --labels (calibrated on CALIB):
 * DIR/accuracy_vs_size.svg */
static int plot_accuracy(const args *a, const char *dir) {
    static const int float_modes[] = { RN_FP32, RN_INT8, RN_DYN, RN_INT4, RN_CODEBOOK };
    const char *path = a->pos[0];
    char *out = NULL, *tmp = NULL;
    evalset d;
    rn_point pts[8];
    int modes[8], nm = 0, np = 0, i, rc = 1;
    rn_model probe, m;
    memset(&m, 0, sizeof m); memset(&d, 0, sizeof d);
    if (rn_model_load(&probe, path, RN_FP32, 1)) { fprintf(stderr, "quant-tool: %s: %s\n", path, probe.err); goto done; }
    if (evalset_load(&d, a->test, a->images, a->labels, a->images ? a->pos[1] : NULL, &probe, a->layout)) { rn_model_free(&probe); goto done; }
    /* a float model in its float modes; a ternary or binary one in its own */
    if (probe.file.variant && !strcmp(probe.file.variant, "ternary")) { modes[nm++] = RN_FP32; modes[nm++] = RN_TERNARY; }
    else if (probe.file.variant && !strcmp(probe.file.variant, "binary")) { modes[nm++] = RN_FP32; modes[nm++] = RN_BINARY; }
    else for (i = 0; i < 5; i++) modes[nm++] = float_modes[i];
    rn_model_free(&probe);
    for (i = 0; i < nm; i++) {
        double acc;
        if (load_calibrated(&m, path, modes[i], 64, a->obs_id, 0, &d)) goto done;
        if (accuracy(&m, &d, &acc)) goto done;
        pts[np].label = rn_mode_names[modes[i]]; pts[np].x = m.weight_bytes / 1024.0; pts[np].y = 100 * acc; np++;
        printf("  %-14s %7.2f%%  %9.1f KiB\n", rn_mode_names[modes[i]], 100 * acc, m.weight_bytes / 1024.0);
        rn_model_free(&m);
    }
    if (!(out = path_join(dir, "accuracy_vs_size.svg")) || !(tmp = svg_begin(dir))) goto done;
    if (svg_end(tmp, rn_svg_scatter(tmp, "accuracy versus weight size", "weights (KiB, log scale)", "test accuracy (%)", pts, np, 1), out)) goto done;
    printf("wrote %s\n", out);
    rc = 0;
done:
    free(out); rn_model_free(&m); evalset_free(&d);
    return rc;
}

/* each uint8 activation's histogram with the range every observer chose */
static int cmd_plot(const args *a) {
    const char *path = a->pos[0], *calib = a->pos[1], *dir = a->pos[2], *data = a->test;
    static const struct { int kind; const char *name; } obs[] = {
        { QUANT_OBS_MINMAX, "MinMax" }, { QUANT_OBS_MOVING_AVERAGE, "MovingAverage" }, { QUANT_OBS_KL, "KL" },
        { QUANT_OBS_PERCENTILE, "percentile 99.99" }, { QUANT_OBS_MSE, "MSE" } };
    char used[RN_MAX_VALUES][96]; /* the file names given so far */
    rn_model fp, q;
    size_t i0;
    rn_data cd;
    int v, k, written = 0, nused = 0, rc = 1;
    quant_observer *o = NULL;
    memset(&fp, 0, sizeof fp); memset(&q, 0, sizeof q); memset(&cd, 0, sizeof cd);
    if (check_file(path) || check_file(calib) || (data && check_dir(data))) return 1;
    if (a->images && (check_file(a->images) || check_file(a->labels))) return 1;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) { fprintf(stderr, "quant-tool: cannot create %s: %s\n", dir, strerror(errno)); return 1; }
    if (check_dir(dir)) return 1;
    if (rn_model_load(&fp, path, RN_FP32, 50)) { fprintf(stderr, "quant-tool: %s: %s\n", path, fp.err); goto done; }
    if (rn_model_load(&q, path, RN_INT8, 1)) { fprintf(stderr, "quant-tool: %s: %s\n", path, q.err); goto done; }
    if (samples_load(&cd, calib, &fp, a->layout)) goto done;
    o = (quant_observer *)malloc(sizeof *o * (size_t)fp.nv * 6);
    if (!o) { fprintf(stderr, "quant-tool: out of memory\n"); goto done; }
    for (v = 0; v < fp.nv * 6; v++) quant_observer_init(&o[v], v % 6 < 5 ? (quant_observer_kind)obs[v % 6].kind : QUANT_OBS_HISTOGRAM);
    for (i0 = 0; i0 < cd.count; i0 += 50) {
        size_t bn = cd.count - i0 < 50 ? cd.count - i0 : 50;
        if (rn_data_set_input(&fp, &cd, i0, bn) || rn_run(&fp, (int)bn)) { fprintf(stderr, "quant-tool: %s\n", fp.err); goto done; }
        for (v = 0; v < fp.nv; v++) {
            int qv = rn_value_id(&q, fp.v[v].name, 0);
            if (fp.v[v].is_bits || qv < 0 || rn_dom(&q.v[qv]) != RN_KIND_U8) continue;
            for (k = 0; k < 6; k++) quant_observer_update(&o[v * 6 + k], fp.v[v].f, bn * fp.v[v].size);
        }
        if (isatty(2)) fprintf(stderr, "\rplot: %zu/%zu calibration images", i0 + bn, cd.count);
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
    free(o); rn_data_free(&cd); rn_model_free(&fp); rn_model_free(&q);
    if (rc == 0 && (data || a->images)) return plot_accuracy(a, dir);
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
