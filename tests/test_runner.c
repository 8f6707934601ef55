/* tests/test_runner.c - the model runner: a small valid model built in
 * memory runs in every mode (quantized outputs close to fp32), and malformed
 * files (truncated, bad lengths, offsets out of range or overlapping, wrong
 * dtype sizes, unknown ops, cycles, missing tensors, bad JSON) are refused
 * with a message and no crash. */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#define RN_GUARD /* guard bytes after every buffer, checked after each node */
#include "../examples/runner/runner.h"
#include "harness.h"

/* ---- building safetensors images in memory ---- */
typedef struct { char name[32]; const char *dtype; size_t shape[4]; int ndim; size_t bytes; const void *data; } tdesc;

static unsigned char *build(const tdesc *t, int nt, const char *graph, const char *extra_meta, size_t *size,
                            long off_delta, int off_index) {
    char hdr[16384], esc[8192];
    size_t hl = 0, off = 0, i, k, total;
    unsigned char *buf;
    /* the graph as an escaped JSON string */
    for (i = 0, k = 0; graph[i] && k + 2 < sizeof esc; i++) { if (graph[i] == '"' || graph[i] == '\\') esc[k++] = '\\'; esc[k++] = graph[i]; }
    esc[k] = 0;
    hl += (size_t)snprintf(hdr + hl, sizeof hdr - hl, "{");
    for (i = 0; i < (size_t)nt; i++) {
        size_t b = off, e = off + t[i].bytes;
        if ((int)i == off_index) { b = (size_t)((long)b + off_delta); e = (size_t)((long)e + off_delta); }
        hl += (size_t)snprintf(hdr + hl, sizeof hdr - hl, "\"%s\":{\"dtype\":\"%s\",\"shape\":[", t[i].name, t[i].dtype);
        for (k = 0; k < (size_t)t[i].ndim; k++) hl += (size_t)snprintf(hdr + hl, sizeof hdr - hl, "%s%zu", k ? "," : "", t[i].shape[k]);
        hl += (size_t)snprintf(hdr + hl, sizeof hdr - hl, "],\"data_offsets\":[%zu,%zu]},", b, e);
        off += t[i].bytes;
    }
    hl += (size_t)snprintf(hdr + hl, sizeof hdr - hl, "\"__metadata__\":{\"format\":\"quant-model-1\",\"graph\":\"%s\"%s}}", esc, extra_meta ? extra_meta : "");
    total = 8 + hl + off;
    buf = (unsigned char *)malloc(total + 1);
    for (i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memcpy(buf + 8, hdr, hl);
    for (i = 0, off = 0; i < (size_t)nt; i++) { memcpy(buf + 8 + hl + off, t[i].data, t[i].bytes); off += t[i].bytes; }
    *size = total;
    return buf;
}

static void write_seeds(const char *name, const unsigned char *buf, size_t size);

/* a 6x6x2 input -> conv3x3 (4) + relu -> maxpool 2 -> flatten -> dense 3 -> softmax */
static float W1[4 * 3 * 3 * 2], B1[4], W2[3 * 36], B2[3];
static const char *GRAPH =
    "{\"inputs\":[{\"name\":\"x\",\"shape\":[6,6,2]}],\"nodes\":["
    "{\"op\":\"conv2d\",\"in\":[\"x\"],\"out\":\"c\",\"weight\":\"w1\",\"bias\":\"b1\",\"kernel\":[3,3],\"stride\":[1,1],\"pad\":[1,1,1,1]},"
    "{\"op\":\"relu\",\"in\":[\"c\"],\"out\":\"r\"},"
    "{\"op\":\"maxpool\",\"in\":[\"r\"],\"out\":\"p\",\"kernel\":[2,2],\"stride\":[2,2]},"
    "{\"op\":\"flatten\",\"in\":[\"p\"],\"out\":\"f\"},"
    "{\"op\":\"dense\",\"in\":[\"f\"],\"out\":\"l\",\"weight\":\"w2\",\"bias\":\"b2\"},"
    "{\"op\":\"softmax\",\"in\":[\"l\"],\"out\":\"y\"}],\"output\":\"y\"}";

static void tensors(tdesc *t) {
    size_t i;
    for (i = 0; i < sizeof W1 / 4; i++) W1[i] = (float)qt_normal() * 0.5f;
    for (i = 0; i < 4; i++) B1[i] = (float)qt_normal() * 0.1f;
    for (i = 0; i < sizeof W2 / 4; i++) W2[i] = (float)qt_normal() * 0.3f;
    for (i = 0; i < 3; i++) B2[i] = (float)qt_normal() * 0.1f;
    memset(t, 0, 4 * sizeof *t);
    strcpy(t[0].name, "w1"); t[0].dtype = "F32"; t[0].ndim = 4; t[0].shape[0] = 4; t[0].shape[1] = 3; t[0].shape[2] = 3; t[0].shape[3] = 2; t[0].bytes = sizeof W1; t[0].data = W1;
    strcpy(t[1].name, "b1"); t[1].dtype = "F32"; t[1].ndim = 1; t[1].shape[0] = 4; t[1].bytes = sizeof B1; t[1].data = B1;
    strcpy(t[2].name, "w2"); t[2].dtype = "F32"; t[2].ndim = 2; t[2].shape[0] = 3; t[2].shape[1] = 36; t[2].bytes = sizeof W2; t[2].data = W2;
    strcpy(t[3].name, "b2"); t[3].dtype = "F32"; t[3].ndim = 1; t[3].shape[0] = 3; t[3].bytes = sizeof B2; t[3].data = B2;
}

/* loads an in-memory image through the real loader path */
static int load_mem(rn_model *m, unsigned char *buf, size_t size, int mode, int batch) {
    memset(m, 0, sizeof *m);
    m->mode = mode; m->stored_mode = -1;
    if (rn_file_parse(&m->file, buf, size, m->err, sizeof m->err)) { rn_file_free(&m->file); return -1; }
    return rn_model_finish_load(m, batch);
}

static void test_valid_model_all_modes(void) {
    tdesc t[4];
    size_t size, i, j;
    unsigned char calib[200 * 72], *buf;
    rn_model fp, q;
    int mode;
    tensors(t);
    for (i = 0; i < sizeof calib; i++) calib[i] = (unsigned char)qt_rand32();
    buf = build(t, 4, GRAPH, NULL, &size, 0, -1); /* kept: each load takes its own copy */
    write_seeds("small", buf, size);
    {
        unsigned char *b0 = (unsigned char *)malloc(size);
        memcpy(b0, buf, size);
        CHECK(load_mem(&fp, b0, size, RN_FP32, 8) == 0);
    }
    for (mode = RN_INT8; mode <= RN_CODEBOOK; mode++) {
        if (mode == RN_TERNARY || mode == RN_BINARY || mode == RN_MIXED) continue; /* need a trained model / bits */
        unsigned char *b2 = (unsigned char *)malloc(size);
        int agree = 0;
        memcpy(b2, buf, size);
        CHECKF(load_mem(&q, b2, size, mode, 8) == 0, "mode %d: %s", mode, q.err);
        if (mode != RN_DYN && mode != RN_CODEBOOK) CHECK(rn_calibrate(&fp, &q, calib, 200, 72, QUANT_OBS_MINMAX) == 0);
        for (j = 0; j < 8 * 72; j++) { fp.v[fp.input].f[j] = calib[j] / 255.0f; q.v[q.input].f[j] = calib[j] / 255.0f; }
        CHECK(rn_run(&fp, 8) == 0);
        CHECK(rn_run(&q, 8) == 0);
        for (i = 0; i < 8; i++) {
            const float *a = rn_output(&fp, (int)i), *b = rn_output(&q, (int)i);
            size_t k, ba = 0, bb = 0;
            double s = 0;
            for (k = 0; k < 3; k++) { s += b[k]; if (a[k] > a[ba]) ba = k; if (b[k] > b[bb]) bb = k; }
            CHECKF(fabs(s - 1.0) < 1e-5, "mode %d: softmax sums to %g", mode, s);
            for (k = 0; k < 3; k++) CHECKF(fabs(a[k] - b[k]) < (mode == RN_INT4 || mode == RN_CODEBOOK ? 0.25 : 0.08), "mode %d sample %d class %d: %g vs %g", mode, (int)i, (int)k, a[k], b[k]);
            agree += ba == bb;
        }
        if (mode != RN_INT4 && mode != RN_CODEBOOK) CHECKF(agree >= 6, "mode %d: %d of 8 predictions agree with fp32", mode, agree);
        rn_model_free(&q);
    }
    CHECK(rn_run(&fp, 9) == -1); /* more than the prepared batch */
    rn_model_free(&fp);
    free(buf);
}

/* QT_SEED_DIR=dir: write the file images of the valid models as seeds for
 * fuzz/fuzz_model (one mode byte, then the file) */
static void write_seeds(const char *name, const unsigned char *buf, size_t size) {
    const char *dir = getenv("QT_SEED_DIR");
    int mode;
    if (!dir) return;
    for (mode = 0; mode < RN_MODE_COUNT; mode++) {
        char path[512];
        FILE *f;
        unsigned char mb = (unsigned char)mode;
        snprintf(path, sizeof path, "%s/%s-%s", dir, name, rn_mode_names[mode]);
        if (!(f = fopen(path, "wb"))) continue;
        fwrite(&mb, 1, 1, f); fwrite(buf, 1, size, f);
        fclose(f);
    }
}

/* every other op: x -> dwconv 3x3 -> relu6 -> add(x) -> avgpool -> conv 1x1
 * (binary-trained weights) -> sign -> gap -> dense -> softmax */
static float W3[3 * 3 * 2], B3[2], W4[4 * 2], W5[3 * 4], B5[3];
static const char *GRAPH2 =
    "{\"inputs\":[{\"name\":\"x\",\"shape\":[6,6,2]}],\"nodes\":["
    "{\"op\":\"dwconv2d\",\"in\":[\"x\"],\"out\":\"d\",\"weight\":\"w3\",\"bias\":\"b3\",\"kernel\":[3,3],\"pad\":[1,1,1,1]},"
    "{\"op\":\"relu6\",\"in\":[\"d\"],\"out\":\"r\"},"
    "{\"op\":\"add\",\"in\":[\"r\",\"x\"],\"out\":\"a\"},"
    "{\"op\":\"avgpool\",\"in\":[\"a\"],\"out\":\"p\",\"kernel\":[2,2],\"stride\":[2,2]},"
    "{\"op\":\"sign\",\"in\":[\"p\"],\"out\":\"s\"},"
    "{\"op\":\"conv2d\",\"in\":[\"s\"],\"out\":\"c\",\"weight\":\"w4\",\"kernel\":[1,1],\"weights\":\"binary\"},"
    "{\"op\":\"gap\",\"in\":[\"c\"],\"out\":\"g\"},"
    "{\"op\":\"dense\",\"in\":[\"g\"],\"out\":\"l\",\"weight\":\"w5\",\"bias\":\"b5\"},"
    "{\"op\":\"softmax\",\"in\":[\"l\"],\"out\":\"y\"}],\"output\":\"y\"}";

static void tensors2(tdesc *t) {
    size_t i;
    for (i = 0; i < sizeof W3 / 4; i++) W3[i] = (float)qt_normal() * 0.5f;
    for (i = 0; i < 2; i++) B3[i] = (float)qt_normal() * 0.1f;
    for (i = 0; i < sizeof W4 / 4; i++) W4[i] = (float)qt_normal();
    for (i = 0; i < sizeof W5 / 4; i++) W5[i] = (float)qt_normal() * 0.3f;
    for (i = 0; i < 3; i++) B5[i] = (float)qt_normal() * 0.1f;
    memset(t, 0, 5 * sizeof *t);
    strcpy(t[0].name, "w3"); t[0].dtype = "F32"; t[0].ndim = 3; t[0].shape[0] = 3; t[0].shape[1] = 3; t[0].shape[2] = 2; t[0].bytes = sizeof W3; t[0].data = W3;
    strcpy(t[1].name, "b3"); t[1].dtype = "F32"; t[1].ndim = 1; t[1].shape[0] = 2; t[1].bytes = sizeof B3; t[1].data = B3;
    strcpy(t[2].name, "w4"); t[2].dtype = "F32"; t[2].ndim = 4; t[2].shape[0] = 4; t[2].shape[1] = 1; t[2].shape[2] = 1; t[2].shape[3] = 2; t[2].bytes = sizeof W4; t[2].data = W4;
    strcpy(t[3].name, "w5"); t[3].dtype = "F32"; t[3].ndim = 2; t[3].shape[0] = 3; t[3].shape[1] = 4; t[3].bytes = sizeof W5; t[3].data = W5;
    strcpy(t[4].name, "b5"); t[4].dtype = "F32"; t[4].ndim = 1; t[4].shape[0] = 3; t[4].bytes = sizeof B5; t[4].data = B5;
}

/* the second graph loads and runs in every mode; fp32 and int8 agree */
static void test_all_ops_all_modes(void) {
    tdesc t[5];
    size_t size, j;
    unsigned char calib[100 * 72], *buf;
    rn_model fp, q;
    int mode;
    tensors2(t);
    for (j = 0; j < sizeof calib; j++) calib[j] = (unsigned char)qt_rand32();
    buf = build(t, 5, GRAPH2, NULL, &size, 0, -1);
    write_seeds("allops", buf, size);
    CHECKF(rn_model_load_mem(&fp, buf, size, RN_FP32, 4) == 0, "%s", fp.err);
    for (j = 0; j < 4 * 72; j++) fp.v[fp.input].f[j] = calib[j] / 255.0f;
    CHECK(rn_run(&fp, 4) == 0);
    for (mode = RN_INT8; mode < RN_MODE_COUNT; mode++) {
        size_t b, k;
        if (mode == RN_TERNARY) { /* no ternary-trained layer here: refused, not run as int8 under another name */
            CHECK(rn_model_load_mem(&q, buf, size, mode, 4) == -1 && strstr(q.err, "ternary"));
            continue;
        }
        CHECKF(rn_model_load_mem(&q, buf, size, mode, 4) == 0, "mode %d: %s", mode, q.err);
        if (mode != RN_DYN && mode != RN_CODEBOOK) CHECK(rn_calibrate(&fp, &q, calib, 100, 72, QUANT_OBS_MINMAX) == 0);
        for (j = 0; j < 4 * 72; j++) { fp.v[fp.input].f[j] = calib[j] / 255.0f; q.v[q.input].f[j] = calib[j] / 255.0f; }
        CHECK(rn_run(&fp, 4) == 0);
        CHECKF(rn_run(&q, 4) == 0, "mode %d", mode);
        for (b = 0; b < 4; b++) {
            double sum = 0;
            for (k = 0; k < 3; k++) sum += rn_output(&q, (int)b)[k];
            CHECKF(fabs(sum - 1.0) < 1e-5, "mode %d: softmax sums to %g", mode, sum);
            if (mode == RN_INT8 || mode == RN_DYN)
                for (k = 0; k < 3; k++) CHECKF(fabs(rn_output(&q, (int)b)[k] - rn_output(&fp, (int)b)[k]) < 0.1, "mode %d", mode);
            if (mode == RN_INT4) /* int4 blocks of 32 (a graph this small has one block per row) */
                for (k = 0; k < 3; k++) CHECKF(fabs(rn_output(&q, (int)b)[k] - rn_output(&fp, (int)b)[k]) < 0.2, "mode %d: %g vs %g", mode, rn_output(&q, (int)b)[k], rn_output(&fp, (int)b)[k]);
        }
        rn_model_free(&q);
    }
    rn_model_free(&fp);
    free(buf);
}

/* int4 block tensors in a file (NAME.q4: [N][ceil(K/2)] nibbles, low first;
 * NAME.q4scale: F16 [N][ceil(K/32)]) are taken as stored: the int4 model
 * agrees with an fp32 model whose weights are those values multiplied out;
 * damaged int4 tensors are refused */
static void q4_tensors(const float *w, size_t N, size_t K, uint8_t *nib, uint16_t *h, float *deq) {
    size_t nb = (K + 31) / 32, rb = (K + 1) / 2, o, b, k;
    memset(nib, 0, N * rb);
    for (o = 0; o < N; o++)
        for (b = 0; b < nb; b++) {
            size_t len = K - b * 32 < 32 ? K - b * 32 : 32;
            float am = 0, s;
            for (k = 0; k < len; k++) am = fabsf(w[o * K + b * 32 + k]) > am ? fabsf(w[o * K + b * 32 + k]) : am;
            h[o * nb + b] = quant_fp32_to_fp16(am / 7.0f);
            s = quant_fp16_to_fp32(h[o * nb + b]);
            for (k = 0; k < len; k++) {
                size_t i = b * 32 + k;
                long q = s > 0 ? lrint(w[o * K + i] / s) : 0;
                q = q < -8 ? -8 : q > 7 ? 7 : q;
                nib[o * rb + i / 2] |= (uint8_t)(((unsigned)q & 15u) << (4 * (i & 1)));
                deq[o * K + i] = (float)q * s;
            }
        }
}

static void test_q4_file(void) {
    tdesc t[8], u[8];
    static uint8_t n1[4 * 9], n2[3 * 18];
    static uint16_t h1[4], h2[3 * 2];
    static float d1[sizeof W1 / 4], d2[sizeof W2 / 4];
    unsigned char calib[100 * 72], *buf, *b2;
    size_t size, s2, i, j;
    rn_model fp, q;
    double worst = 0;
    tensors(t);
    for (i = 0; i < sizeof calib; i++) calib[i] = (unsigned char)qt_rand32();
    {   /* the int4 tensors hold other weights than the float ones beside them,
         * so a loader that requantized the floats would not match */
        static float a1[sizeof W1 / 4], a2[sizeof W2 / 4];
        for (i = 0; i < sizeof a1 / 4; i++) a1[i] = (float)qt_normal() * 0.5f;
        for (i = 0; i < sizeof a2 / 4; i++) a2[i] = (float)qt_normal() * 0.3f;
        q4_tensors(a1, 4, 18, n1, h1, d1);
        q4_tensors(a2, 3, 36, n2, h2, d2);
    }
    memcpy(u, t, 4 * sizeof *t);
    u[0].data = d1; u[2].data = d2; /* fp32 oracle: the int4 values multiplied out */
    buf = build(u, 4, GRAPH, NULL, &size, 0, -1);
    CHECK(load_mem(&fp, buf, size, RN_FP32, 8) == 0);
    memset(t + 4, 0, 4 * sizeof *t);
    strcpy(t[4].name, "w1.q4"); t[4].dtype = "U8"; t[4].ndim = 2; t[4].shape[0] = 4; t[4].shape[1] = 9; t[4].bytes = sizeof n1; t[4].data = n1;
    strcpy(t[5].name, "w1.q4scale"); t[5].dtype = "F16"; t[5].ndim = 2; t[5].shape[0] = 4; t[5].shape[1] = 1; t[5].bytes = sizeof h1; t[5].data = h1;
    strcpy(t[6].name, "w2.q4"); t[6].dtype = "U8"; t[6].ndim = 2; t[6].shape[0] = 3; t[6].shape[1] = 18; t[6].bytes = sizeof n2; t[6].data = n2;
    strcpy(t[7].name, "w2.q4scale"); t[7].dtype = "F16"; t[7].ndim = 2; t[7].shape[0] = 3; t[7].shape[1] = 2; t[7].bytes = sizeof h2; t[7].data = h2;
    b2 = build(t, 8, GRAPH, NULL, &s2, 0, -1);
    CHECKF(load_mem(&q, b2, s2, RN_INT4, 8) == 0, "%s", q.err);
    CHECK(rn_calibrate(&fp, &q, calib, 100, 72, QUANT_OBS_MINMAX) == 0);
    for (j = 0; j < 8 * 72; j++) { fp.v[fp.input].f[j] = calib[j] / 255.0f; q.v[q.input].f[j] = calib[j] / 255.0f; }
    CHECK(rn_run(&fp, 8) == 0);
    CHECK(rn_run(&q, 8) == 0);
    for (i = 0; i < 8; i++)
        for (j = 0; j < 3; j++) {
            double d = fabs(rn_output(&fp, (int)i)[j] - rn_output(&q, (int)i)[j]);
            worst = d > worst ? d : worst;
        }
    /* only the activations are quantized now: far closer than int4 vs float weights (0.25) */
    CHECKF(worst < 0.06, "int4 file vs its values in fp32: %g", worst);
    rn_model_free(&q); rn_model_free(&fp);
    {   /* damaged: a count off, a scale in the wrong dtype, one tensor of the pair missing */
        rn_model m;
        int c;
        for (c = 0; c < 4; c++) {
            int nt = 8;
            memcpy(u, t, sizeof u);
            if (c == 0) { u[6].shape[1] = 17; u[6].bytes = 3 * 17; }
            if (c == 1) { u[7].dtype = "I8"; u[7].shape[1] = 4; }
            if (c == 2) nt = 7;
            if (c == 3) { u[6] = t[7]; nt = 7; } /* w2.q4scale without w2.q4 */
            b2 = build(u, nt, GRAPH, NULL, &s2, 0, -1);
            CHECKF(load_mem(&m, b2, s2, RN_INT4, 2) != 0 && m.err[0], "damaged int4 tensors %d accepted", c);
        }
    } /* each loaded image belongs to its model (freed with it) */
}

/* malformed files: each must be refused with a message */
static void expect_reject(unsigned char *buf, size_t size, const char *what) {
    rn_model m;
    int r = load_mem(&m, buf, size, RN_INT8, 2);
    CHECKF(r != 0, "%s: accepted", what);
    CHECKF(r == 0 || m.err[0] != 0, "%s: no message", what);
    if (r == 0) rn_model_free(&m);
}

static void test_malformed(void) {
    tdesc t[4], u[4];
    size_t size, i, cut;
    unsigned char *good;
    int count = 0;
    tensors(t);
    good = build(t, 4, GRAPH, NULL, &size, 0, -1);
    /* truncations at many lengths */
    for (cut = 0; cut < size; cut += (cut < 64 ? 1 : 97)) {
        unsigned char *b = (unsigned char *)malloc(cut + 1);
        memcpy(b, good, cut);
        expect_reject(b, cut, "truncated"); count++;
    }
    {   /* header lengths: zero, huge, larger than the file, off by one */
        uint64_t lens[] = { 0, 1, (uint64_t)1 << 40, 0xffffffffffffffffull, size, size - 7 };
        for (i = 0; i < sizeof lens / sizeof *lens; i++) {
            unsigned char *b = (unsigned char *)malloc(size);
            int k;
            memcpy(b, good, size);
            for (k = 0; k < 8; k++) b[k] = (unsigned char)(lens[i] >> (8 * k));
            expect_reject(b, size, "header length"); count++;
        }
    }
    {   /* offsets out of range, overlapping, negative */
        long deltas[] = { 4, -4, 100000, -100000, 1 };
        int idx;
        for (idx = 0; idx < 4; idx++)
            for (i = 0; i < sizeof deltas / sizeof *deltas; i++) {
                size_t s2;
                unsigned char *b = build(t, 4, GRAPH, NULL, &s2, deltas[i], idx);
                expect_reject(b, s2, "offsets"); count++;
            }
    }
    {   /* wrong dtypes and shapes */
        const char *dts[] = { "F64", "I16", "BOOL", "I8", "X" };
        for (i = 0; i < sizeof dts / sizeof *dts; i++) {
            size_t s2; unsigned char *b;
            memcpy(u, t, sizeof u); u[0].dtype = dts[i];
            b = build(u, 4, GRAPH, NULL, &s2, 0, -1);
            expect_reject(b, s2, "dtype"); count++;
        }
        for (i = 0; i < 4; i++) {
            size_t s2; unsigned char *b;
            memcpy(u, t, sizeof u); u[i].shape[0] += 1; /* bytes no longer match the shape */
            b = build(u, 4, GRAPH, NULL, &s2, 0, -1);
            expect_reject(b, s2, "shape/bytes"); count++;
        }
        {   /* a tensor with the right byte count but the wrong shape for the op */
            size_t s2; unsigned char *b;
            memcpy(u, t, sizeof u); u[2].shape[0] = 4; u[2].shape[1] = 27;
            b = build(u, 4, GRAPH, NULL, &s2, 0, -1);
            expect_reject(b, s2, "dense shape"); count++;
        }
    }
    {   /* graphs: unknown op, cycles, missing tensors, bad attributes, bad JSON */
        const char *graphs[] = {
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[6,6,2]}],\"nodes\":[{\"op\":\"frobnicate\",\"in\":[\"x\"],\"out\":\"y\"}],\"output\":\"y\"}",
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[6,6,2]}],\"nodes\":[{\"op\":\"relu\",\"in\":[\"z\"],\"out\":\"y\"},{\"op\":\"relu\",\"in\":[\"y\"],\"out\":\"z\"}],\"output\":\"z\"}",
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[6,6,2]}],\"nodes\":[{\"op\":\"relu\",\"in\":[\"x\"],\"out\":\"x\"}],\"output\":\"x\"}",
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[6,6,2]}],\"nodes\":[{\"op\":\"conv2d\",\"in\":[\"x\"],\"out\":\"c\",\"weight\":\"nope\",\"kernel\":[3,3]}],\"output\":\"c\"}",
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[6,6,2]}],\"nodes\":[{\"op\":\"conv2d\",\"in\":[\"x\"],\"out\":\"c\",\"weight\":\"w1\",\"kernel\":[5,5]}],\"output\":\"c\"}",
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[6,6,2]}],\"nodes\":[{\"op\":\"conv2d\",\"in\":[\"x\"],\"out\":\"c\",\"weight\":\"w1\",\"kernel\":[3,3],\"stride\":[0,1]}],\"output\":\"c\"}",
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[6,6,2]}],\"nodes\":[{\"op\":\"maxpool\",\"in\":[\"x\"],\"out\":\"p\",\"kernel\":[9,9]}],\"output\":\"p\"}",
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[6,6,2]}],\"nodes\":[{\"op\":\"dense\",\"in\":[\"x\"],\"out\":\"d\",\"weight\":\"w2\"}],\"output\":\"d\"}",
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[6,6,2]}],\"nodes\":[{\"op\":\"add\",\"in\":[\"x\"],\"out\":\"a\"}],\"output\":\"a\"}",
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[6,6,2]}],\"nodes\":[{\"op\":\"relu\",\"in\":[\"x\"],\"out\":\"y\"}],\"output\":\"nothing\"}",
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[0,6,2]}],\"nodes\":[{\"op\":\"relu\",\"in\":[\"x\"],\"out\":\"y\"}],\"output\":\"y\"}",
            "{\"inputs\":[],\"nodes\":[],\"output\":\"y\"}",
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[6,6,2]}],\"nodes\":[{\"op\":\"relu\",\"in\":[\"x\"],\"out\":\"y\"}]",
            "[1,2,3]",
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[6,6,2]}],\"nodes\":[{\"op\":\"relu\",\"in\":[\"x\"],\"out\":\"y\",}],\"output\":\"y\"}",
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[6,6,2.5]}],\"nodes\":[{\"op\":\"relu\",\"in\":[\"x\"],\"out\":\"y\"}],\"output\":\"y\"}",
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[6,6,2]}],\"nodes\":[{\"op\":\"conv2d\",\"in\":[\"x\"],\"out\":\"c\",\"weight\":\"w1\",\"kernel\":[3,3],\"weights\":\"quaternary\"}],\"output\":\"c\"}",
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[6,6,2]}],\"nodes\":[{\"op\":\"sign\",\"in\":[\"x\"],\"out\":\"s\",\"threshold\":\"b1\"}],\"output\":\"s\"}",
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[6,6,2]}],\"nodes\":[{\"op\":\"conv2d\",\"in\":[\"x\"],\"out\":\"c\",\"weight\":\"w1\",\"bias\":\"b2\",\"kernel\":[3,3]}],\"output\":\"c\"}",
        };
        for (i = 0; i < sizeof graphs / sizeof *graphs; i++) {
            size_t s2;
            unsigned char *b = build(t, 4, graphs[i], NULL, &s2, 0, -1);
            expect_reject(b, s2, graphs[i]); count++;
        }
    }
    {   /* header JSON damaged byte by byte: never a crash (most are refused) */
        size_t hl = (size_t)good[0] | ((size_t)good[1] << 8);
        int rejected = 0, tried = 0;
        for (i = 8; i < 8 + hl; i += 7) {
            unsigned char *b = (unsigned char *)malloc(size);
            rn_model m;
            memcpy(b, good, size);
            b[i] ^= (unsigned char)(1u << (i % 7));
            if (load_mem(&m, b, size, RN_FP32, 1) != 0) rejected++; else rn_model_free(&m);
            tried++;
        }
        CHECKF(rejected > tried / 2, "only %d of %d damaged headers rejected", rejected, tried);
    }
    {   /* metadata: wrong format, non-string values, duplicate tensors */
        size_t s2;
        unsigned char *b = build(t, 4, GRAPH, ",\"n\":5", &s2, 0, -1);
        expect_reject(b, s2, "non-string metadata"); count++;
        memcpy(u, t, sizeof u); strcpy(u[1].name, "w1");
        b = build(u, 4, GRAPH, NULL, &s2, 0, -1);
        expect_reject(b, s2, "duplicate tensor"); count++;
    }
    free(good);
    CHECKF(count >= 50, "only %d malformed files", count);
    if (getenv("QT_VERBOSE")) fprintf(stderr, "  %d malformed files rejected\n", count);
}

/* the uint8 pools against a plain reference: channel counts around the
 * 16-byte blocks, odd input sizes (the last row / column unused), and the
 * general max and average paths */
static void test_pool_u8(void) {
    static const size_t chans[] = {1, 3, 15, 16, 17, 31, 32, 33, 48, 70};
    static uint8_t in[9 * 7 * 70], out[5 * 4 * 70];
    size_t ci, i;
    int kind;
    for (kind = 0; kind < 3; kind++)
        for (ci = 0; ci < sizeof chans / sizeof chans[0]; ci++) {
            rn_node n;
            rn_value x, y;
            size_t C = chans[ci], oy, ox, c, a, b;
            int bad = 0;
            memset(&n, 0, sizeof n); memset(&x, 0, sizeof x); memset(&y, 0, sizeof y);
            n.op = kind == 2 ? OP_AVGPOOL : OP_MAXPOOL;
            n.k[0] = n.k[1] = kind == 1 ? 3 : 2; n.st[0] = n.st[1] = 2;
            x.h = 9; x.w = 7; x.c = C; x.size = x.h * x.w * C;
            y.h = (x.h - (size_t)n.k[0]) / 2 + 1; y.w = (x.w - (size_t)n.k[1]) / 2 + 1; y.c = C; y.size = y.h * y.w * C;
            for (i = 0; i < x.size; i++) in[i] = (uint8_t)qt_rand32();
            for (i = 0; i < x.size; i += 7) in[i] = i % 2 ? 255 : 0;
            memset(out, 0xA5, sizeof out);
            rn_pool_u8(&n, &x, &y, in, out);
            for (oy = 0; oy < y.h; oy++)
                for (ox = 0; ox < y.w; ox++)
                    for (c = 0; c < C; c++) {
                        unsigned mx = 0, sum = 0, cnt = (unsigned)(n.k[0] * n.k[1]), e;
                        for (a = 0; a < (size_t)n.k[0]; a++)
                            for (b = 0; b < (size_t)n.k[1]; b++) {
                                unsigned v = in[((2 * oy + a) * x.w + 2 * ox + b) * C + c];
                                mx = v > mx ? v : mx; sum += v;
                            }
                        e = kind == 2 ? (sum + cnt / 2) / cnt : mx;
                        if (out[(oy * y.w + ox) * C + c] != e) bad++;
                    }
            for (i = y.size; i < sizeof out; i++) if (out[i] != 0xA5) bad++;
            CHECKF(bad == 0, "kind %d C=%d: %d wrong bytes", kind, (int)C, bad);
        }
}

static void test_idx_reader(void) {
    unsigned char *buf;
    const unsigned char *data;
    size_t dims[3] = { 0, 0, 0 };
    char err[256];
    FILE *f = fopen("build/bad.idx", "wb");
    unsigned char hdr[16] = { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3 };
    if (!f) { CHECK(0); return; }
    fwrite(hdr, 1, 16, f); fwrite(hdr, 1, 10, f); /* 10 bytes for 18 values */
    fclose(f);
    CHECK(rn_idx_load("build/bad.idx", 3, dims, &buf, &data, err, sizeof err) != 0 && strstr(err, "bytes"));
    CHECK(rn_idx_load("build/does-not-exist", 3, dims, &buf, &data, err, sizeof err) != 0);
    CHECK(rn_idx_load("examples/data/t10k-labels-idx1-ubyte", 3, dims, &buf, &data, err, sizeof err) != 0);
    CHECK(rn_idx_load("examples/data/t10k-labels-idx1-ubyte", 1, dims, &buf, &data, err, sizeof err) == 0 && dims[0] == 10000);
    free(buf);
}

int main(void) {
    RUN(test_valid_model_all_modes);
    RUN(test_all_ops_all_modes);
    RUN(test_q4_file);
    RUN(test_malformed);
    RUN(test_idx_reader);
    RUN(test_pool_u8);
    return qt_summary();
}
