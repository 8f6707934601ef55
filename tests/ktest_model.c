/* tests/ktest_model.c - determinism: the demo's Fashion-MNIST models in
 * every mode (fp32, int8 static with each of the five observers, int8
 * dynamic, int4, mixed 8/4 bits, codebook, ternary, binary), run exactly as
 * examples/runner/demo.c runs them under QUANT_DEMO_IMAGES=QT_MODEL_IMAGES
 * (the same calibration on the first training images, the same choice of
 * the best observer and of the layer kept at 8 bits, batch 64), each mode's
 * outputs hashed as the demo hashes them (FNV-1a over the bytes of every
 * output float, image by image), and every hash compared with the committed
 * tests/golden/model_hashes.txt. The Makefile builds this file like every
 * kernel test: once per x86 level, per Arm build under qemu, per sanitizer
 * and matrix build; each must give the golden hashes bit for bit.
 *
 * Run from the project root (models/, examples/data/ and tests/golden/ are
 * read from there, as the demo reads them). QT_WRITE_GOLDEN=1 rewrites the
 * golden file from this build's hashes (then compares with it as usual). */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include <float.h>
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
/* x87 excess precision (i686 without -mfpmath=sse): runner.h's vector code
 * does not compile there (a float operand is long double), so its plain
 * loops run; float_diagnosis() says why the hashes then differ */
#define RN_NO_VECTOR_EXT
#endif
#include "../examples/runner/runner.h"
#include "harness.h"

/* test images (and calibration images): the demo's QUANT_DEMO_IMAGES. Under
 * qemu most of the time is the fp32 passes (each calibration runs the float
 * model on these images: 11 images took 17 s, 5 take 13 s) and the demo's
 * fixed cost (the KL and MSE observers, the int4 scale search), which does
 * not shrink with fewer images; rn_f32_matmul's paths (register blocks,
 * 4-row and single-row loops) are checked on their own by test_f32_matmul. */
#ifndef QT_MODEL_IMAGES
#define QT_MODEL_IMAGES 5
#endif
#define QT_GOLDEN_PATH "tests/golden/model_hashes.txt"
#define QT_MAX_MODES 16

typedef struct { const unsigned char *x, *y; size_t n, size; } dataset;
typedef struct { char name[160]; double acc; unsigned long long hash; int ok; } mode_row;

static dataset g_test, g_calib;
static unsigned char *g_bufs[4];
static int g_data_ok;
static mode_row g_rows[QT_MAX_MODES];
static int g_nrows;
static rn_model g_m, g_fp, g_probe; /* static: each is ~280 KB */

static int load_data(const char *imgs, const char *labels, dataset *d, unsigned char **b1, unsigned char **b2) {
    char p1[512], p2[512], err[256];
    size_t di[3], dl[1];
    snprintf(p1, sizeof p1, "examples/data/%s", imgs);
    snprintf(p2, sizeof p2, "examples/data/%s", labels);
    if (rn_idx_load(p1, 3, di, b1, &d->x, err, sizeof err) || rn_idx_load(p2, 1, dl, b2, &d->y, err, sizeof err)) {
        fprintf(stderr, "ktest_model: %s (run from the project root)\n", err);
        return -1;
    }
    if (di[0] != dl[0]) return -1;
    d->n = di[0]; d->size = di[1] * di[2];
    return 0;
}

/* demo.c's evaluate(): accuracy, and the FNV-1a hash of every output float */
static double evaluate(rn_model *m, const dataset *d, unsigned long long *hash) {
    size_t i0, j, correct = 0;
    unsigned long long h = 1469598103934665603ull;
    for (i0 = 0; i0 < d->n; i0 += (size_t)m->batch) {
        size_t bn = d->n - i0 < (size_t)m->batch ? d->n - i0 : (size_t)m->batch, b;
        float *x = m->v[m->input].f;
        for (j = 0; j < bn * d->size; j++) x[j] = (float)d->x[i0 * d->size + j] / 255.0f;
        if (rn_run(m, (int)bn)) { fprintf(stderr, "ktest_model: %s\n", m->err); return -1; }
        for (b = 0; b < bn; b++) {
            const float *p = rn_output(m, (int)b);
            size_t k, best = 0;
            for (k = 1; k < m->v[m->output].size; k++) if (p[k] > p[best]) best = k;
            for (k = 0; k < m->v[m->output].size * sizeof(float); k++) h = (h ^ ((const unsigned char *)p)[k]) * 1099511628211ull;
            correct += best == d->y[i0 + b];
        }
    }
    *hash = h;
    return (double)correct / (double)d->n;
}

/* demo.c's run_mode(), without the batch-1 model (it only times latency,
 * which the demo skips under QUANT_DEMO_IMAGES); g_rrange: 7-bit activations */
static int g_rrange;
static mode_row run_mode(const char *model, int mode, int observer, const dataset *test, const dataset *calib,
                         const char *label, const char *detail, const int *bits) {
    mode_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.name, sizeof r.name, "%s / %s", label, detail);
    if (rn_model_load(&g_m, model, mode, 64)) { fprintf(stderr, "ktest_model: %s: %s\n", model, g_m.err); return r; }
    if (bits && rn_set_bits(&g_m, bits)) { fprintf(stderr, "ktest_model: %s\n", g_m.err); rn_model_free(&g_m); return r; }
    if (g_rrange) rn_set_reduce_range(&g_m, 1);
    if (mode != RN_FP32 && mode != RN_DYN && mode != RN_CODEBOOK) {
        if (rn_model_load(&g_fp, model, RN_FP32, 100)) { fprintf(stderr, "ktest_model: %s\n", g_fp.err); rn_model_free(&g_m); return r; }
        if (rn_calibrate(&g_fp, &g_m, calib->x, calib->n, calib->size, (quant_observer_kind)observer)) {
            fprintf(stderr, "ktest_model: calibration failed: %s\n", g_m.err);
            rn_model_free(&g_fp); rn_model_free(&g_m); return r;
        }
        rn_model_free(&g_fp);
    }
    r.acc = evaluate(&g_m, test, &r.hash);
    r.ok = r.acc >= 0;
    rn_model_free(&g_m);
    return r;
}

static void add_row(const mode_row *r) {
    if (g_nrows < QT_MAX_MODES) g_rows[g_nrows++] = *r;
    printf("  %-48s %7.2f%%  outputs %016llx%s\n", r->name, 100 * r->acc, r->hash, r->ok ? "" : "  (failed)");
}

static const struct { int kind; const char *name; } obs[] = {
    { QUANT_OBS_MINMAX, "MinMax" }, { QUANT_OBS_MOVING_AVERAGE, "MovingAverage" }, { QUANT_OBS_KL, "KL (entropy)" },
    { QUANT_OBS_PERCENTILE, "percentile 99.99" }, { QUANT_OBS_MSE, "MSE" } };
#define FL "models/fmnist_float.safetensors"
#define TE "models/fmnist_ternary.safetensors"
#define BI "models/fmnist_binary.safetensors"

/* demo.c's main(): every mode, in its order, with its choices */
static void test_modes_run(void) {
    mode_row r;
    int k, best_obs = 0;
    double best_acc = -1;
    CHECKF(g_data_ok, "examples/data/ not readable: run from the project root");
    if (!g_data_ok) return;
    r = run_mode(FL, RN_FP32, 0, &g_test, &g_calib, "fp32", "reference", NULL);
    add_row(&r);
    for (k = 0; k < 5; k++) {
        r = run_mode(FL, RN_INT8, obs[k].kind, &g_test, &g_calib, "int8 static", obs[k].name, NULL);
        add_row(&r);
        if (r.ok && r.acc > best_acc) { best_acc = r.acc; best_obs = k; }
    }
    g_rrange = 1; /* activations 0..127: the u7s8 kernels on SSE4.1 / AVX2 / AVX-512 without VNNI, VNNI elsewhere */
    r = run_mode(FL, RN_INT8, obs[best_obs].kind, &g_test, &g_calib, "int8 static", "acts 0..127 (7-bit)", NULL);
    g_rrange = 0;
    add_row(&r);
    r = run_mode(FL, RN_DYN, 0, &g_test, &g_calib, "int8 dynamic", "per-sample range", NULL);
    add_row(&r);
    r = run_mode(FL, RN_INT4, obs[best_obs].kind, &g_test, &g_calib, "int4 weights", obs[best_obs].name, NULL);
    add_row(&r);
    {   /* mixed precision: each layer alone at 4 bits on the calibration images, the worst kept at 8 */
        int bits[RN_MAX_NODES], i, worst = -1, nlin = 0;
        double base, drop, worst_drop = -1;
        char detail[160];
        for (i = 0; i < RN_MAX_NODES; i++) bits[i] = 8;
        r = run_mode(FL, RN_MIXED, QUANT_OBS_MINMAX, &g_calib, &g_calib, "", "", bits);
        CHECKF(r.ok, "mixed precision: the all-8-bit probe failed");
        base = r.acc;
        CHECK(rn_model_load(&g_probe, FL, RN_FP32, 1) == 0);
        if (g_probe.nn > 0) {
            for (i = 0; i < g_probe.nn; i++) {
                const rn_node *n = &g_probe.n[i];
                if (n->op != RN_OP_CONV && n->op != RN_OP_DWCONV && n->op != RN_OP_DENSE) continue;
                bits[i] = 4;
                r = run_mode(FL, RN_MIXED, QUANT_OBS_MINMAX, &g_calib, &g_calib, "", "", bits);
                CHECKF(r.ok, "mixed precision: the probe of node %d failed", i);
                bits[i] = 8;
                drop = base - r.acc;
                if (drop > worst_drop) { worst_drop = drop; worst = i; }
                nlin++;
            }
            for (i = 0; i < g_probe.nn; i++) {
                const rn_node *n = &g_probe.n[i];
                if (n->op == RN_OP_CONV || n->op == RN_OP_DWCONV || n->op == RN_OP_DENSE) bits[i] = i == worst ? 8 : 4;
            }
            snprintf(detail, sizeof detail, "%s at 8, %d layers at 4", worst >= 0 ? g_probe.v[g_probe.n[worst].out].name : "-", nlin - 1);
            rn_model_free(&g_probe);
            r = run_mode(FL, RN_MIXED, obs[best_obs].kind, &g_test, &g_calib, "mixed 8/4 bits", detail, bits);
            add_row(&r);
        }
    }
    r = run_mode(FL, RN_CODEBOOK, 0, &g_test, &g_calib, "codebook dense", "16 entries, 4-bit: 8x", NULL);
    add_row(&r);
    r = run_mode(TE, RN_TERNARY, obs[best_obs].kind, &g_test, &g_calib, "ternary weights", "TWN, 8-bit first/last", NULL);
    add_row(&r);
    r = run_mode(BI, RN_BINARY, obs[best_obs].kind, &g_test, &g_calib, "binary (XNOR)", "8-bit first/last", NULL);
    add_row(&r);
    CHECKF(g_nrows == 13, "%d modes ran (13 expected)", g_nrows);
    for (k = 0; k < g_nrows; k++) CHECKF(g_rows[k].ok, "mode %.120s failed to run", g_rows[k].name);
}

static void write_golden(void) {
    FILE *f = fopen(QT_GOLDEN_PATH, "w");
    int i;
    CHECKF(f != NULL, "cannot write %s", QT_GOLDEN_PATH);
    if (!f) return;
    fprintf(f,
        "# tests/golden/model_hashes.txt - the demo models' outputs in every mode, hashed (FNV-1a\n"
        "# over the bytes of every output float, image by image), on the first %d test images,\n"
        "# calibrated on the first %d training images. tests/ktest_model.c, built like every\n"
        "# kernel test (each x86 level, the sanitizer builds, the Arm builds under qemu, the\n"
        "# matrix), requires exactly these hashes: IEEE single precision as written, with no\n"
        "# FMA contraction (gcc -std=c99 / c11; clang and gcc's GNU modes: -ffp-contract=off)\n"
        "# and no x87 excess precision (i686: -msse2 -mfpmath=sse).\n"
        "# They are the demo's too: QUANT_DEMO_IMAGES=%d build/demo models examples/data x.svg\n"
        "# prints these hashes (its \"outputs\" column; the demo is built -O3 -march=native)\n"
        "# for every mode but \"mixed 8/4 bits\": the demo's mixed rows choose the 4-bit\n"
        "# layers by a size budget, this test keeps one layer at 8 bits.\n"
        "# MinMax and MovingAverage agree: calibration runs in batches of 100, so up to 100\n"
        "# images the moving average sees one batch.\n"
        "# Regenerate (only for a change meant to alter outputs, e.g. a new model):\n"
        "#   make build/x86-scalar/ktest_model && QT_WRITE_GOLDEN=1 build/x86-scalar/ktest_model\n"
        "# Format: \"images N\", then one line per mode: mode / detail, then the hash.\n",
        QT_MODEL_IMAGES, QT_MODEL_IMAGES, QT_MODEL_IMAGES);
    fprintf(f, "images %d\n", QT_MODEL_IMAGES);
    for (i = 0; i < g_nrows; i++) fprintf(f, "%-48s %016llx\n", g_rows[i].name, g_rows[i].hash);
    CHECK(fclose(f) == 0);
    fprintf(stderr, "ktest_model: wrote %s (%d modes)\n", QT_GOLDEN_PATH, g_nrows);
}

/* The hashes hold for IEEE single precision evaluated as written: each
 * product and each sum rounded to float. Two ways of compiling break that,
 * and a mismatch says which one this build has: x87 excess precision
 * (FLT_EVAL_METHOD 2: a product is kept exact and rounded with the sum) and
 * FMA contraction of a * b + c (clang's default -ffp-contract=on, gcc's
 * -ffp-contract=fast in its GNU C modes; gcc -std=c99 / c11 do not
 * contract). Either turns runner.h's fp32 accumulations into fused ones, and
 * every mode whose outputs or calibration go through fp32 changes (on this
 * data all of them but int8 dynamic and binary). The probe 1.000244 *
 * 1.000244 - 1.000488 is 2^-24 fused, 0 not; it runs in this translation
 * unit, so it reflects runner.h's flags (not a pragma inside runner.h). */
static volatile float g_pa = 1.000244140625f, g_pb = 1.000244140625f, g_pc = -1.00048828125f;
static void float_diagnosis(void) {
    const float a = g_pa, b = g_pb, c = g_pc;
    const float r = a * b + c;
    if (FLT_EVAL_METHOD != 0)
        fprintf(stderr, "  note: FLT_EVAL_METHOD is %d: float expressions are evaluated in a wider type (x87: build with "
                "-msse2 -mfpmath=sse); the golden hashes are for float arithmetic evaluated in float\n", (int)FLT_EVAL_METHOD);
    else if (r != 0.0f)
        fprintf(stderr, "  note: this build contracts a * b + c into a fused multiply-add (clang does by default, gcc in GNU C "
                "modes); the golden hashes are for uncontracted float arithmetic: -ffp-contract=off\n");
    else
        fprintf(stderr, "  note: float arithmetic here is plain IEEE single precision (no excess precision, no contraction)\n");
}

/* every mode present in the golden file with an equal hash, and nothing else there */
static void test_golden(void) {
    char line[512];
    int i, images = -1, nlines = 0, nbad = 0, seen[QT_MAX_MODES] = { 0 };
    FILE *f;
    if (getenv("QT_WRITE_GOLDEN") && g_nrows == 13) write_golden();
    f = fopen(QT_GOLDEN_PATH, "r");
    CHECKF(f != NULL, "%s not readable (run from the project root)", QT_GOLDEN_PATH);
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        char *e = line + strlen(line), *sp;
        unsigned long long h;
        while (e > line && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ')) *--e = 0;
        if (!line[0] || line[0] == '#') continue;
        if (sscanf(line, "images %d", &images) == 1) continue;
        sp = strrchr(line, ' ');
        CHECKF(sp != NULL && strlen(sp + 1) == 16, "malformed golden line: %.200s", line);
        if (!sp || strlen(sp + 1) != 16) continue;
        h = strtoull(sp + 1, NULL, 16);
        while (sp > line && sp[-1] == ' ') sp--;
        *sp = 0;
        nlines++;
        for (i = 0; i < g_nrows; i++) if (!strcmp(g_rows[i].name, line)) break;
        CHECKF(i < g_nrows, "golden mode '%.200s' did not run here (a different observer or layer chosen?)", line);
        if (i == g_nrows) continue;
        seen[i]++;
        CHECKF(g_rows[i].hash == h, "%.200s: outputs %016llx, golden %016llx", line, g_rows[i].hash, h);
        if (g_rows[i].hash != h) nbad++;
    }
    fclose(f);
    if (nbad) float_diagnosis();
    CHECKF(images == QT_MODEL_IMAGES, "the golden file is for %d images, this test runs %d", images, QT_MODEL_IMAGES);
    CHECKF(nlines == 13, "the golden file has %d modes (13 expected)", nlines);
    for (i = 0; i < g_nrows; i++) CHECKF(seen[i] == 1, "mode '%.120s' is in the golden file %d times", g_rows[i].name, seen[i]);
}

/* runner.h's fp32 matmul (the register blocks of 32 and 16 columns, the
 * 4-row and single-row loops, the zero-skipping row path) against the plain
 * definition: each output bias + x[0] w[0] + x[1] w[1] + ..., in float, in
 * increasing k, ReLU to +0; bit for bit, at every width the build has. (The
 * plain sums uncontracted, as runner.h's own code: clang would otherwise
 * fuse them into fmas; gcc's C modes do not, and the Makefile's -std=c99
 * keeps gcc there.) */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif
static void test_f32_matmul(void) {
    static const size_t Rs[] = { 1, 3, 4, 7, 8, 9, 13, 20 }, Ks[] = { 1, 5, 33 }, Ns[] = { 8, 16, 24, 48, 80, 96 };
    size_t ri, ki, ni, bad = 0, r, k, o;
    int relu;
    for (ri = 0; ri < sizeof Rs / sizeof *Rs; ri++)
        for (ki = 0; ki < sizeof Ks / sizeof *Ks; ki++)
            for (ni = 0; ni < sizeof Ns / sizeof *Ns; ni++)
                for (relu = 0; relu < 2; relu++) {
                    const size_t R = Rs[ri], K = Ks[ki], N = Ns[ni], ldi = K + 3;
                    float *in = (float *)malloc(R * ldi * 4), *wt = (float *)malloc(K * N * 4), *bias = (float *)malloc(N * 4);
                    float *out = (float *)malloc(R * N * 4);
                    size_t *nz = (size_t *)malloc(K * sizeof(size_t));
                    if (!in || !wt || !bias || !out || !nz) { CHECK(0); free(in); free(wt); free(bias); free(out); free(nz); return; }
                    for (k = 0; k < R * ldi; k++) in[k] = qt_rand32() % 3 == 0 ? 0.0f : (float)qt_normal(); /* post-ReLU zeros */
                    for (k = 0; k < K * N; k++) wt[k] = (float)qt_normal();
                    for (o = 0; o < N; o++) bias[o] = (float)qt_normal();
                    rn_f32_matmul(R, K, N, in, ldi, wt, bias, out, relu, relu ? nz : NULL);
                    for (r = 0; r < R; r++)
                        for (o = 0; o < N; o++) {
                            float acc = bias[o];
                            for (k = 0; k < K; k++) acc += in[r * ldi + k] * wt[k * N + o];
                            if (relu && acc < 0) acc = 0.0f;
                            if (memcmp(&acc, &out[r * N + o], 4) != 0 && bad++ < 4)
                                CHECKF(0, "R %d K %d N %d relu %d: out[%d][%d] %.9g, the plain sum %.9g", (int)R, (int)K, (int)N, relu,
                                       (int)r, (int)o, out[r * N + o], acc);
                        }
                    free(in); free(wt); free(bias); free(out); free(nz);
                }
    CHECKF(bad == 0, "%d outputs differ from the plain sums", (int)bad);
}
#if defined(__clang__)
#pragma STDC FP_CONTRACT DEFAULT
#endif

/* a second run in the same process (fresh load and calibration) gives the same bits */
static void test_rerun(void) {
    mode_row r;
    if (g_nrows < 2) return;
    r = run_mode(FL, RN_FP32, 0, &g_test, &g_calib, "fp32", "reference", NULL);
    CHECKF(r.ok && r.hash == g_rows[0].hash, "fp32 again: %016llx, first %016llx", r.hash, g_rows[0].hash);
    r = run_mode(FL, RN_INT8, QUANT_OBS_MINMAX, &g_test, &g_calib, "int8 static", "MinMax", NULL);
    CHECKF(r.ok && r.hash == g_rows[1].hash, "int8 MinMax again: %016llx, first %016llx", r.hash, g_rows[1].hash);
}

int main(void) {
#ifdef QT_EXPECT_ISA
    if (strcmp(quant_isa_name(), QT_EXPECT_ISA) != 0)
        fprintf(stderr, "note: built for %s, the kernels are %s\n", QT_EXPECT_ISA, quant_isa_name());
#endif
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_data_ok = load_data("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", &g_test, &g_bufs[0], &g_bufs[1]) == 0 &&
                load_data("calib-1000-images-idx3-ubyte", "calib-1000-labels-idx1-ubyte", &g_calib, &g_bufs[2], &g_bufs[3]) == 0;
    if (g_data_ok) {
        if (g_test.n > QT_MODEL_IMAGES) g_test.n = QT_MODEL_IMAGES;
        if (g_calib.n > QT_MODEL_IMAGES) g_calib.n = QT_MODEL_IMAGES;
    }
    printf("ktest_model (%s): the demo's modes on %zu test images, calibrated on %zu\n", quant_isa_name(), g_test.n, g_calib.n);
    RUN(test_modes_run);
    RUN(test_golden);
    RUN(test_rerun);
    RUN(test_f32_matmul);
    free(g_bufs[0]); free(g_bufs[1]); free(g_bufs[2]); free(g_bufs[3]);
    return qt_summary();
}
