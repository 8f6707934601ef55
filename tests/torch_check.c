/* tests/torch_check.c - a model made elsewhere (PyTorch, exported with
 * tools/export.py by tests/torch_models.py) run by the runner:
 *
 *   torch_check MODEL DATA_DIR REF [NAME]
 *
 * MODEL    the exported .safetensors file
 * DATA_DIR t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte and
 *          calib-1000-images-idx3-ubyte (written by torch_models.py)
 * REF      PyTorch's fp32 outputs on the first test images (all of them or
 *          fewer): little-endian float32 [images][outputs] (logits, or
 *          probabilities when the model ends in a softmax: "*.probs.f32"; the
 *          runner's output is compared as is)
 *
 * Checks: the runner in fp32 (input pixel / 255, [28][28][1] NHWC) predicts
 * exactly PyTorch's argmax on every image REF covers, and its outputs are
 * within 1e-3 of PyTorch's (the max abs difference is printed); then int8
 * calibrated on the calibration images with the percentile and the MSE
 * observers (both reported): the better one's accuracy on all the test
 * images is at most 0.3 points below the runner's fp32 accuracy on them
 * (torch_models.py writes 10000 test images and REF for the first 2000: the
 * gap on 2000 images varies by ~0.3 points with the images, on 10000 ~0.14).
 * Ends with "N passed, N failed"; exit status 1 on a failure.
 *
 *   torch_check --float MODEL IN OUT [NAME]
 *
 * The exporter's self-test models (any input shape, random weights): IN holds
 * float32 inputs [count][H][W][C] (NHWC, as the runner takes them), OUT
 * PyTorch's outputs [count][outputs]. fp32 must be within 1e-4 of PyTorch
 * (relative to max(1, largest |output|)) with the same argmax; int8
 * calibrated on the same inputs (MSE observer) and int8-dynamic must run and
 * stay within 25% of the output range (a sanity bound: the weights are random,
 * so the error is reported, not judged finely).
 *
 * gcc -std=c99 -O2 -march=native -Wall -Wextra -Wpedantic -Werror -I. -Iexamples/runner \
 *     tests/torch_check.c -o build-c/torch_check -lm
 */
#ifndef QT_SEPARATE_IMPL /* the Makefile links the implementation as an object of its own */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <stdarg.h>

#define BATCH 100
#define MAX_GAP_POINTS 0.3

static int passed, failed;

static void check(int ok, const char *name, const char *fmt, ...) {
    va_list ap;
    printf("%s %s: ", ok ? "PASS" : "FAIL", name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (ok) passed++; else failed++;
}

/* the whole file; NULL on error (message printed) */
static unsigned char *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long len;
    if (!f) { fprintf(stderr, "torch_check: cannot open %s\n", path); return NULL; }
    if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) { fclose(f); fprintf(stderr, "torch_check: cannot read %s\n", path); return NULL; }
    b = (unsigned char *)malloc((size_t)len + 1);
    if (!b || fread(b, 1, (size_t)len, f) != (size_t)len) { fclose(f); free(b); fprintf(stderr, "torch_check: cannot read %s\n", path); return NULL; }
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* an uncompressed IDX file of unsigned bytes with nd dimensions: dims out,
 * returns the buffer (data at buf + 4 + 4 * nd) */
static unsigned char *read_idx(const char *dir, const char *name, int nd, size_t *dims) {
    char path[4096];
    size_t n, count = 1;
    int i;
    unsigned char *b;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(b = read_file(path, &n))) return NULL;
    if (n < 4 + 4 * (size_t)nd || b[0] || b[1] || b[2] != 8 || b[3] != nd) {
        fprintf(stderr, "torch_check: %s is not a %d-d IDX file of bytes\n", path, nd); free(b); return NULL;
    }
    for (i = 0; i < nd; i++) {
        dims[i] = ((size_t)b[4 + 4 * i] << 24) | ((size_t)b[5 + 4 * i] << 16) | ((size_t)b[6 + 4 * i] << 8) | b[7 + 4 * i];
        count *= dims[i];
    }
    if (n != 4 + 4 * (size_t)nd + count) { fprintf(stderr, "torch_check: %s: %zu bytes for %zu values\n", path, n, count); free(b); return NULL; }
    return b;
}

static size_t argmax(const float *x, size_t n) {
    size_t i, k = 0;
    for (i = 1; i < n; i++) if (x[i] > x[k]) k = i;
    return k;
}

/* runs m over the images; writes the outputs (count x out) when out != NULL;
 * returns the accuracy in percent, or -1 */
static double run_all(rn_model *m, const unsigned char *img, const unsigned char *lab, size_t count, size_t isz, float *out) {
    size_t i0, j, right = 0, osz = m->v[m->output].size;
    for (i0 = 0; i0 < count; i0 += BATCH) {
        size_t bn = count - i0 < BATCH ? count - i0 : BATCH, b;
        float *x = m->v[m->input].f;
        for (j = 0; j < bn * isz; j++) x[j] = (float)img[i0 * isz + j] / 255.0f;
        if (rn_run(m, (int)bn)) { fprintf(stderr, "torch_check: rn_run failed\n"); return -1; }
        for (b = 0; b < bn; b++) {
            const float *o = rn_output(m, (int)b);
            if (out) memcpy(out + (i0 + b) * osz, o, osz * sizeof(float));
            right += argmax(o, osz) == lab[i0 + b];
        }
    }
    return 100.0 * (double)right / (double)count;
}

/* little-endian float32 file -> floats; *count values */
static float *read_f32(const char *path, size_t *count) {
    size_t n, i;
    unsigned char *b = read_file(path, &n);
    float *f;
    if (!b) return NULL;
    if (n % 4 || !(f = (float *)malloc(n ? n : 1))) { fprintf(stderr, "torch_check: %s: not float32\n", path); free(b); return NULL; }
    for (i = 0; i < n / 4; i++) {
        uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
        memcpy(&f[i], &u, 4);
    }
    free(b);
    *count = n / 4;
    return f;
}

/* runs m on count float samples; outputs to out (count x osz) */
static int run_float(rn_model *m, const float *x, size_t count, size_t isz, float *out) {
    size_t i0, b, osz = m->v[m->output].size;
    for (i0 = 0; i0 < count; i0 += BATCH) {
        size_t bn = count - i0 < BATCH ? count - i0 : BATCH;
        memcpy(m->v[m->input].f, x + i0 * isz, bn * isz * sizeof(float));
        if (rn_run(m, (int)bn)) { fprintf(stderr, "torch_check: rn_run failed: %s\n", m->err); return -1; }
        for (b = 0; b < bn; b++) memcpy(out + (i0 + b) * osz, rn_output(m, (int)b), osz * sizeof(float));
    }
    return 0;
}

static int float_main(const char *model, const char *inpath, const char *outpath, const char *name) {
    size_t nin, nref, isz, osz, count, i, c, mism = 0;
    float *x = read_f32(inpath, &nin), *ref = read_f32(outpath, &nref), *got;
    double maxdiff = 0, refmax = 0, lo = INFINITY, hi = -INFINITY, tol;
    rn_model fp;
    int k;
    if (!x || !ref) return 2;
    if (rn_model_load(&fp, model, RN_FP32, BATCH)) { fprintf(stderr, "torch_check: %s: %s\n", model, fp.err); return 2; }
    isz = fp.v[fp.input].size; osz = fp.v[fp.output].size;
    count = nin / isz;
    if (!count || nin != count * isz || nref != count * osz) {
        fprintf(stderr, "torch_check: %s / %s: %zu and %zu floats for inputs of %zu and outputs of %zu values\n", inpath, outpath, nin, nref, isz, osz);
        return 2;
    }
    if (!(got = (float *)malloc(nref * sizeof(float)))) return 2;
    printf("%s: %zu inputs of %zu values, %zu outputs\n", name, count, isz, osz);
    if (run_float(&fp, x, count, isz, got)) return 2;
    for (i = 0; i < nref; i++) {
        double d = fabs((double)got[i] - ref[i]);
        if (d > maxdiff || d != d) maxdiff = d != d ? INFINITY : d;
        if (fabs(ref[i]) > refmax) refmax = fabs(ref[i]);
        if (ref[i] < lo) lo = ref[i];
        if (ref[i] > hi) hi = ref[i];
    }
    for (i = 0; i < count; i++) mism += argmax(got + i * osz, osz) != argmax(ref + i * osz, osz);
    tol = 1e-4 * (refmax > 1 ? refmax : 1);
    check(maxdiff <= tol && mism == 0, "fp32 outputs", "max abs difference %.3g (at most %.3g), %zu of %zu argmax differ", maxdiff, tol, mism, count);
    for (k = 0; k < 2; k++) {
        rn_model q;
        rn_calib cal;
        double d8 = 0, range = hi - lo > 1e-6 ? hi - lo : 1e-6;
        size_t agree = 0;
        int mode = k ? RN_DYN : RN_INT8;
        const char *mname = k ? "int8-dynamic" : "int8 (mse)";
        if (rn_model_load(&q, model, mode, BATCH)) { check(0, mname, "load: %s", q.err); continue; }
        if (!k && (rn_calib_begin(&cal, &fp, &q, QUANT_OBS_MSE) || rn_calib_add_f32(&cal, x, count, isz) || rn_calib_end(&cal))) {
            check(0, mname, "calibration: %s", q.err); rn_model_free(&q); continue;
        }
        if (run_float(&q, x, count, isz, ref)) { check(0, mname, "run: %s", q.err); rn_model_free(&q); continue; }
        for (i = 0; i < count; i++) {
            for (c = 0; c < osz; c++) {
                double d = fabs((double)ref[i * osz + c] - got[i * osz + c]);
                if (d > d8 || d != d) d8 = d != d ? INFINITY : d;
            }
            agree += argmax(ref + i * osz, osz) == argmax(got + i * osz, osz);
        }
        check(d8 <= 0.25 * range, mname, "max abs difference to fp32 %.3g = %.1f%% of the output range %.3g; %zu of %zu argmax as fp32",
              d8, 100.0 * d8 / range, range, agree, count);
        rn_model_free(&q);
    }
    rn_model_free(&fp);
    free(x); free(ref); free(got);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

int main(int argc, char **argv) {
    const char *model, *dir, *refpath, *name;
    size_t dt[3], dl[1], dc[3], refn, n, nref, isz, osz, i, j, r32, mism = 0, worst = 0;
    unsigned char *ti, *tl, *ci, *refb;
    const unsigned char *img, *lab, *cimg;
    float *ref, *got;
    double maxdiff = 0, refmax = 0, acc32, acc_ref, best_gap = 1e9, best_acc = 0;
    const char *best_obs = "";
    const char *what;
    rn_model fp;
    int k;
    static const struct { quant_observer_kind kind; const char *name; } obs[] = {
        { QUANT_OBS_PERCENTILE, "percentile" }, { QUANT_OBS_MSE, "mse" } };

    if (argc >= 5 && argc <= 6 && !strcmp(argv[1], "--float"))
        return float_main(argv[2], argv[3], argv[4], argc > 5 ? argv[5] : argv[2]);
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s MODEL DATA_DIR REF [NAME]\n       %s --float MODEL IN OUT [NAME]\n", argv[0], argv[0]);
        return 2;
    }
    model = argv[1]; dir = argv[2]; refpath = argv[3]; name = argc > 4 ? argv[4] : model;
    what = strstr(refpath, ".probs") ? "probabilities" : "logits";
    ti = read_idx(dir, "t10k-images-idx3-ubyte", 3, dt);
    tl = read_idx(dir, "t10k-labels-idx1-ubyte", 1, dl);
    ci = read_idx(dir, "calib-1000-images-idx3-ubyte", 3, dc);
    refb = read_file(refpath, &refn);
    if (!ti || !tl || !ci || !refb) return 2;
    img = ti + 16; lab = tl + 8; cimg = ci + 16;
    n = dt[0]; isz = dt[1] * dt[2];
    if (dl[0] != n || dc[1] * dc[2] != isz) { fprintf(stderr, "torch_check: the IDX files do not match\n"); return 2; }

    if (rn_model_load(&fp, model, RN_FP32, BATCH)) { fprintf(stderr, "torch_check: %s: %s\n", model, fp.err); return 2; }
    if (fp.v[fp.input].size != isz) { fprintf(stderr, "torch_check: the model takes %zu values, the images have %zu\n", fp.v[fp.input].size, isz); return 2; }
    osz = fp.v[fp.output].size;
    nref = refn / (osz * sizeof(float));
    if (refn != nref * osz * sizeof(float) || nref == 0 || nref > n) {
        fprintf(stderr, "torch_check: %s has %zu bytes, expected 1 to %zu images x %zu outputs of float32\n", refpath, refn, n, osz); return 2;
    }
    ref = (float *)malloc(n * osz * sizeof(float));
    got = (float *)malloc(n * osz * sizeof(float));
    if (!ref || !got) return 2;
    for (i = 0; i < nref * osz; i++) { /* little-endian float32 */
        uint32_t u = (uint32_t)refb[4 * i] | (uint32_t)refb[4 * i + 1] << 8 | (uint32_t)refb[4 * i + 2] << 16 | (uint32_t)refb[4 * i + 3] << 24;
        memcpy(&ref[i], &u, 4);
    }
    printf("%s: %zu images (PyTorch's outputs on the first %zu), %zu outputs (%s)\n", name, n, nref, osz, what);

    /* fp32: PyTorch's predictions exactly */
    acc32 = run_all(&fp, img, lab, n, isz, got);
    if (acc32 < 0) return 2;
    for (i = 0, j = 0, r32 = 0; i < nref; i++) {
        size_t a = argmax(got + i * osz, osz), b = argmax(ref + i * osz, osz), c;
        if (a != b) { if (mism < 5) printf("  image %zu: runner class %zu, PyTorch class %zu\n", i, a, b); mism++; }
        j += b == lab[i];
        r32 += a == lab[i];
        for (c = 0; c < osz; c++) {
            double d = fabs((double)got[i * osz + c] - ref[i * osz + c]);
            if (d > maxdiff || d != d) { maxdiff = d != d ? INFINITY : d; worst = i; }
            if (fabs(ref[i * osz + c]) > refmax) refmax = fabs(ref[i * osz + c]);
        }
    }
    acc_ref = 100.0 * (double)j / (double)nref;
    check(mism == 0, "fp32 predictions", "%zu of %zu images differ from PyTorch's argmax (runner %.2f%%, PyTorch %.2f%%)", mism, nref,
          100.0 * (double)r32 / (double)nref, acc_ref);
    check(maxdiff <= 1e-3, "fp32 outputs", "max abs difference of the %s %.3g (image %zu; largest |PyTorch %s| %.3g)",
          what, maxdiff, worst, what, refmax);

    /* int8 static, calibrated on the calibration images */
    for (k = 0; k < 2; k++) {
        rn_model q;
        double acc8, agree = 0;
        if (rn_model_load(&q, model, RN_INT8, BATCH)) { fprintf(stderr, "torch_check: %s (int8): %s\n", model, q.err); return 2; }
        if (rn_calibrate(&fp, &q, cimg, dc[0], isz, obs[k].kind)) { fprintf(stderr, "torch_check: calibration failed\n"); return 2; }
        acc8 = run_all(&q, img, lab, n, isz, ref); /* ref reused for the int8 outputs */
        if (acc8 < 0) return 2;
        for (i = 0; i < n; i++) agree += argmax(ref + i * osz, osz) == argmax(got + i * osz, osz);
        printf("  int8 (%s observer, %zu calibration images): accuracy %.2f%%, gap to fp32 %+.2f points, "
               "%.2f%% of predictions as fp32\n", obs[k].name, dc[0], acc8, acc32 - acc8, 100.0 * agree / (double)n);
        if (acc32 - acc8 < best_gap) { best_gap = acc32 - acc8; best_acc = acc8; best_obs = obs[k].name; }
        rn_model_free(&q);
    }
    check(best_gap <= MAX_GAP_POINTS, "int8 accuracy", "best observer (%s) %.2f%% against fp32 %.2f%% on %zu images: a gap of %+.2f points (at most %.1f)",
          best_obs, best_acc, acc32, n, best_gap, MAX_GAP_POINTS);

    rn_model_free(&fp);
    free(ti); free(tl); free(ci); free(refb); free(ref); free(got);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
