/* tests/test_pq.c - section 11 of quant.h (k-means, VQ, scalar codebooks,
 * product quantization, PQ matmul, blobs) against plain double-precision
 * definitions: objective decreasing, determinism, separable clusters
 * recovered, edge cases (k > n, duplicates, d = 1, NaN / Inf rejected),
 * PQ distances against brute-force distances to the decoded vectors, top-k
 * against a sort, blobs round trip and refuse every corruption. */
#include <stdlib.h>
/* an allocator that fails on request (training code must then write
 * nothing and free everything) */
static long qt_alloc_left = -1, qt_alloc_live = 0;
static void *qt_malloc(size_t n) {
    void *p;
    if (qt_alloc_left == 0) return NULL;
    if (qt_alloc_left > 0) qt_alloc_left--;
    p = malloc(n);
    if (p) qt_alloc_live++;
    return p;
}
static void qt_free(void *p) { if (p) { qt_alloc_live--; free(p); } }
#define QUANT_MALLOC(n) qt_malloc(n)
#define QUANT_FREE(p) qt_free(p)
#define QUANT_IMPLEMENTATION
#include "quant.h"
#include "harness.h"

static double l2d(const float *a, const float *b, size_t d) {
    double s = 0;
    size_t t;
    for (t = 0; t < d; t++) s += ((double)a[t] - b[t]) * ((double)a[t] - b[t]);
    return s;
}
static double ipd(const float *a, const float *b, size_t d) {
    double s = 0;
    size_t t;
    for (t = 0; t < d; t++) s += (double)a[t] * b[t];
    return s;
}

/* n points around `nc` centres (spread `sep`, noise `sd`) */
static void blobs(float *x, size_t n, size_t d, size_t nc, double sep, double sd, float *centres, int *label) {
    size_t i, t;
    for (i = 0; i < nc * d; i++) centres[i] = (float)(qt_normal() * sep);
    for (i = 0; i < n; i++) {
        size_t c = i % nc;
        if (label) label[i] = (int)c;
        for (t = 0; t < d; t++) x[i * d + t] = (float)(centres[c * d + t] + qt_normal() * sd);
    }
}

typedef struct { int n; double obj[64]; int stop_at; size_t parts_seen; } prog_log;
static int on_progress(void *user, const quant_kmeans_progress *p) {
    prog_log *l = (prog_log *)user;
    if (l->n < 64) l->obj[l->n] = p->objective;
    l->n++;
    if (p->part + 1 > l->parts_seen) l->parts_seen = p->part + 1;
    return l->stop_at >= 0 && p->iter >= l->stop_at;
}

static void test_kmeans_objective_decreases(void) {
    size_t n = 3000, d = 8, k = 24;
    float *x = (float *)malloc(n * d * 4), cen[24 * 8], c[24 * 8];
    int init, metric;
    blobs(x, n, d, 12, 3.0, 1.0, cen, NULL);
    for (metric = 0; metric < 2; metric++)
        for (init = 0; init < 2; init++) {
            quant_kmeans_opts o;
            quant_kmeans_info info;
            prog_log lg;
            int i;
            quant_kmeans_opts_default(&o);
            o.tol = 0; o.max_iter = 20; o.init = (quant_kmeans_init)init; o.metric = (quant_metric)metric;
            o.progress = on_progress; o.user = &lg;
            memset(&lg, 0, sizeof lg); lg.stop_at = -1;
            CHECK(quant_kmeans(x, n, d, k, &o, c, &info) == QUANT_OK);
            CHECKF(lg.n == 21 && info.iterations == 20, "n=%d it=%d", lg.n, info.iterations);
            CHECK(info.objective == lg.obj[lg.n - 1]);
            for (i = 1; i < lg.n && i < 64; i++) {
                if (metric == 0) CHECKF(lg.obj[i] <= lg.obj[i - 1] * (1 + 1e-6), "L2 init=%d it %d: %g > %g", init, i, lg.obj[i], lg.obj[i - 1]);
                else CHECKF(lg.obj[i] >= lg.obj[i - 1] - 1e-6 * fabs(lg.obj[i - 1]), "IP init=%d it %d: %g < %g", init, i, lg.obj[i], lg.obj[i - 1]);
            }
            CHECK(metric == 0 ? lg.obj[lg.n - 1] < lg.obj[0] : lg.obj[lg.n - 1] > lg.obj[0]);
            if (metric == 1) { /* spherical: unit centroids */
                size_t j;
                for (j = 0; j < k; j++) CHECK(fabs(sqrt(ipd(c + j * d, c + j * d, d)) - 1.0) < 1e-5);
            }
            { /* the reported objective is the mean distance of the returned centroids */
                double s = 0;
                size_t p, j;
                for (p = 0; p < n; p++) {
                    double b = metric ? -1e300 : 1e300;
                    for (j = 0; j < k; j++) {
                        double v = metric ? ipd(x + p * d, c + j * d, d) : l2d(x + p * d, c + j * d, d);
                        if (metric ? v > b : v < b) b = v;
                    }
                    s += b;
                }
                CHECKF(fabs(s / n - info.objective) <= 1e-5 * fabs(info.objective), "%g vs %g", s / n, info.objective);
            }
        }
    free(x);
}

static void test_kmeans_deterministic(void) {
    size_t n = 1500, d = 5, k = 10;
    float *x = (float *)malloc(n * d * 4), cen[10 * 5], c1[50], c2[50], c3[50];
    quant_kmeans_opts o;
    blobs(x, n, d, 7, 2.0, 1.0, cen, NULL);
    quant_kmeans_opts_default(&o);
    o.seed = 77; o.max_points_per_centroid = 50; /* subsampled too */
    CHECK(quant_kmeans(x, n, d, k, &o, c1, NULL) == QUANT_OK);
    CHECK(quant_kmeans(x, n, d, k, &o, c2, NULL) == QUANT_OK);
    CHECK(memcmp(c1, c2, sizeof c1) == 0);
    o.seed = 78;
    CHECK(quant_kmeans(x, n, d, k, &o, c3, NULL) == QUANT_OK);
    CHECK(memcmp(c1, c3, sizeof c1) != 0);
    free(x);
}

static void test_kmeans_separable(void) {
    size_t n = 2000, d = 6, k = 8, i, j;
    int trial;
    for (trial = 0; trial < 5; trial++) {
        float *x = (float *)malloc(n * d * 4), cen[8 * 6], c[8 * 6];
        int *lab = (int *)malloc(n * sizeof(int));
        uint32_t *idx = (uint32_t *)malloc(n * 4);
        int map[8];
        quant_kmeans_opts o;
        size_t a, b;
        /* well-separated centres: on the axes of a simplex-like layout */
        for (i = 0; i < k * d; i++) cen[i] = 0;
        for (i = 0; i < k; i++) cen[i * d + i % d] = (float)(i < d ? 100.0 : -100.0);
        for (i = 0; i < n; i++) { size_t cc = i % k; lab[i] = (int)cc; for (j = 0; j < d; j++) x[i * d + j] = (float)(cen[cc * d + j] + qt_normal()); }
        quant_kmeans_opts_default(&o);
        o.seed = (uint64_t)trial;
        CHECK(quant_kmeans(x, n, d, k, &o, c, NULL) == QUANT_OK);
        CHECK(quant_vq_encode(c, k, d, x, n, QUANT_METRIC_L2, idx, NULL) == QUANT_OK);
        for (a = 0; a < k; a++) map[a] = -1;
        for (i = 0; i < n; i++) { /* each true cluster -> one centroid, one-to-one */
            if (map[lab[i]] < 0) map[lab[i]] = (int)idx[i];
            if (map[lab[i]] != (int)idx[i]) { CHECKF(0, "trial %d point %d", trial, (int)i); break; }
        }
        for (a = 0; a < k; a++) for (b = a + 1; b < k; b++) CHECK(map[a] != map[b]);
        for (a = 0; a < k; a++) if (map[a] >= 0) CHECK(l2d(c + map[a] * d, cen + a * d, d) < 0.3); /* 250 points a cluster: about 6 / 250 */
        free(x); free(lab); free(idx);
    }
}

static void test_kmeans_edges(void) {
    quant_kmeans_opts o;
    quant_kmeans_info info;
    quant_kmeans_opts_default(&o);
    {   /* k > n: the points, then repeats; encoding never picks a repeat */
        float x[5 * 3], c[8 * 3];
        uint32_t idx[5];
        size_t i, j;
        int init;
        for (i = 0; i < 15; i++) x[i] = (float)qt_normal();
        for (init = 0; init < 2; init++) {
            o.init = (quant_kmeans_init)init;
            CHECK(quant_kmeans(x, 5, 3, 8, &o, c, &info) == QUANT_OK);
            CHECK(info.distinct == 5 && info.objective == 0.0);
            for (i = 0; i < 5; i++) { /* each point is a centroid among the first 5 */
                int found = 0;
                for (j = 0; j < 5; j++) found += memcmp(x + i * 3, c + j * 3, 12) == 0;
                CHECK(found == 1);
            }
            for (j = 5; j < 8; j++) CHECK(memcmp(c + j * 3, c + ((j - 5) % 5) * 3, 12) == 0);
            CHECK(quant_vq_encode(c, 8, 3, x, 5, QUANT_METRIC_L2, idx, NULL) == QUANT_OK);
            for (i = 0; i < 5; i++) CHECK(idx[i] < 5 && memcmp(c + idx[i] * 3, x + i * 3, 12) == 0);
        }
        o.init = QUANT_KMEANS_PLUSPLUS;
    }
    {   /* duplicates: 3 distinct points repeated 100 times, k = 5 */
        float x[300 * 4], c[5 * 4], pts[3 * 4];
        size_t i;
        for (i = 0; i < 12; i++) pts[i] = (float)qt_normal();
        for (i = 0; i < 300; i++) memcpy(x + i * 4, pts + (i % 3) * 4, 16);
        CHECK(quant_kmeans(x, 300, 4, 5, &o, c, &info) == QUANT_OK);
        CHECK(info.distinct == 3 && info.objective == 0.0);
        /* near-duplicates: distinct but very close */
        for (i = 0; i < 300; i++) x[i * 4] += (float)(i % 7) * 1e-6f;
        CHECK(quant_kmeans(x, 300, 4, 5, &o, c, &info) == QUANT_OK);
        CHECK(info.distinct == 5);
    }
    {   /* d = 1: the sorted exact 1-D path */
        size_t n = 5000, i, j;
        float *x = (float *)malloc(n * 4), c[6];
        prog_log lg;
        int init;
        for (i = 0; i < n; i++) x[i] = (float)((double)(i % 3) * 10.0 + qt_normal());
        for (init = 0; init < 2; init++) {
            memset(&lg, 0, sizeof lg); lg.stop_at = -1;
            o.progress = on_progress; o.user = &lg; o.tol = 0; o.init = (quant_kmeans_init)init;
            o.max_points_per_centroid = 0;
            CHECK(quant_kmeans(x, n, 1, 6, &o, c, &info) == QUANT_OK);
            for (j = 1; j < 6; j++) CHECK(c[j - 1] <= c[j]);
            for (j = 1; j < (size_t)lg.n && j < 64; j++) CHECKF(lg.obj[j] <= lg.obj[j - 1] * (1 + 1e-12), "1-D it %d", (int)j);
            { /* objective = mean distance to the nearest centroid */
                double s = 0;
                for (i = 0; i < n; i++) {
                    double b = 1e300;
                    for (j = 0; j < 6; j++) { double e = ((double)x[i] - c[j]) * ((double)x[i] - c[j]); if (e < b) b = e; }
                    s += b;
                }
                CHECKF(fabs(s / n - info.objective) <= 1e-9 * info.objective, "%g %g", s / n, info.objective);
            }
            /* converged: each centroid is the mean of the points nearest to it */
            {
                double sum[6] = { 0 }, cnt[6] = { 0 };
                for (i = 0; i < n; i++) {
                    size_t bj = 0;
                    for (j = 1; j < 6; j++) if (fabs((double)x[i] - c[j]) < fabs((double)x[i] - c[bj])) bj = j;
                    sum[bj] += x[i]; cnt[bj] += 1;
                }
                for (j = 0; j < 6; j++) CHECKF(cnt[j] > 0 && fabs(sum[j] / cnt[j] - c[j]) < 1e-4, "init %d c[%d]", init, (int)j);
            }
        }
        o.progress = NULL; o.tol = 1e-4; o.init = QUANT_KMEANS_PLUSPLUS; o.max_points_per_centroid = 256;
        /* a single repeated value, k = 4 */
        for (i = 0; i < 100; i++) x[i] = 2.5f;
        CHECK(quant_kmeans(x, 100, 1, 4, &o, c, &info) == QUANT_OK);
        CHECK(info.distinct == 1 && c[0] == 2.5f && c[3] == 2.5f);
        free(x);
    }
    {   /* NaN, Inf, huge values rejected; nothing written */
        float x[20 * 2], c[4 * 2], c0[4 * 2];
        size_t i;
        for (i = 0; i < 40; i++) x[i] = (float)qt_normal();
        for (i = 0; i < 8; i++) c[i] = c0[i] = 42.0f;
        x[17] = NAN;
        CHECK(quant_kmeans(x, 20, 2, 4, &o, c, NULL) == QUANT_ERANGE);
        x[17] = INFINITY;
        CHECK(quant_kmeans(x, 20, 2, 4, &o, c, NULL) == QUANT_ERANGE);
        x[17] = 2e15f;
        CHECK(quant_kmeans(x, 20, 2, 4, &o, c, NULL) == QUANT_ERANGE);
        x[17] = NAN;
        CHECK(quant_kmeans(x, 20, 1, 4, &o, c, NULL) == QUANT_ERANGE);
        CHECK(memcmp(c, c0, sizeof c) == 0);
        x[17] = 0.5f;
        CHECK(quant_kmeans(NULL, 20, 2, 4, &o, c, NULL) == QUANT_EINVAL);
        CHECK(quant_kmeans(x, 0, 2, 4, &o, c, NULL) == QUANT_EINVAL);
        CHECK(quant_kmeans(x, 20, 0, 4, &o, c, NULL) == QUANT_EINVAL);
        CHECK(quant_kmeans(x, 20, 2, 0, &o, c, NULL) == QUANT_EINVAL);
        o.metric = (quant_metric)7;
        CHECK(quant_kmeans(x, 20, 2, 4, &o, c, NULL) == QUANT_EINVAL);
        quant_kmeans_opts_default(&o);
        o.tol = -1;
        CHECK(quant_kmeans(x, 20, 2, 4, &o, c, NULL) == QUANT_EINVAL);
        CHECK(memcmp(c, c0, sizeof c) == 0);
        CHECK(quant_kmeans(x, 20, 2, 4, NULL, c, NULL) == QUANT_OK); /* NULL opts: defaults */
    }
}

static void test_kmeans_options(void) {
    size_t n = 20000, d = 3, k = 8;
    float *x = (float *)malloc(n * d * 4), cen[8 * 3], c[8 * 3];
    quant_kmeans_opts o;
    quant_kmeans_info info;
    prog_log lg;
    blobs(x, n, d, 8, 5.0, 1.0, cen, NULL);
    quant_kmeans_opts_default(&o);
    o.max_points_per_centroid = 100;
    CHECK(quant_kmeans(x, n, d, k, &o, c, &info) == QUANT_OK && info.n_used == 800);
    o.max_points_per_centroid = 0;
    CHECK(quant_kmeans(x, n, d, k, &o, c, &info) == QUANT_OK && info.n_used == n);
    /* stopping from the callback */
    memset(&lg, 0, sizeof lg); lg.stop_at = 3;
    o.progress = on_progress; o.user = &lg; o.tol = 0;
    CHECK(quant_kmeans(x, n, d, k, &o, c, &info) == QUANT_OK);
    CHECKF(info.iterations == 3 && lg.n == 4, "it %d calls %d", info.iterations, lg.n);
    /* a loose tolerance stops early */
    lg.stop_at = -1; lg.n = 0; o.tol = 0.5; o.max_iter = 50;
    CHECK(quant_kmeans(x, n, d, k, &o, c, &info) == QUANT_OK);
    CHECK(info.iterations < 50);
    /* max_iter 0: the initial centroids and their objective */
    o.max_iter = 0;
    CHECK(quant_kmeans(x, n, d, k, &o, c, &info) == QUANT_OK && info.iterations == 0);
    free(x);
}

static void test_empty_cluster_repair(void) {
    /* random init on data where some clusters must empty: a dense blob and a
     * few far outliers; no centroid may end up empty while a cluster has >= 2
     * points at distinct places */
    size_t n = 400, d = 2, k = 12, i, j;
    float x[400 * 2], c[12 * 2];
    uint32_t idx[400];
    size_t cnt[12];
    quant_kmeans_opts o;
    quant_kmeans_info info;
    for (i = 0; i < n; i++) { x[2 * i] = (float)qt_normal() * 0.1f; x[2 * i + 1] = (float)qt_normal() * 0.1f; }
    for (i = 0; i < 4; i++) x[2 * i] = 1000.0f + (float)i;
    quant_kmeans_opts_default(&o);
    o.init = QUANT_KMEANS_RANDOM; o.tol = 0; o.max_iter = 30;
    for (o.seed = 0; o.seed < 6; o.seed++) {
        CHECK(quant_kmeans(x, n, d, k, &o, c, &info) == QUANT_OK);
        CHECK(quant_vq_encode(c, k, d, x, n, QUANT_METRIC_L2, idx, NULL) == QUANT_OK);
        memset(cnt, 0, sizeof cnt);
        for (i = 0; i < n; i++) cnt[idx[i]]++;
        for (j = 0; j < k; j++) CHECKF(cnt[j] > 0, "seed %d centroid %d empty", (int)o.seed, (int)j);
    }
}

static void test_vq(void) {
    size_t k = 16, d = 7, n = 300, i, j;
    float c[16 * 7], x[300 * 7], y[300 * 7], sc[300];
    uint32_t idx[300], bad[2] = { 3, 16 };
    for (i = 0; i < k * d; i++) c[i] = (float)qt_normal();
    for (i = 0; i < n * d; i++) x[i] = (float)qt_normal();
    CHECK(quant_vq_encode(c, k, d, x, n, QUANT_METRIC_L2, idx, sc) == QUANT_OK);
    for (i = 0; i < n; i++) {
        double b = 1e300;
        for (j = 0; j < k; j++) { double e = l2d(x + i * d, c + j * d, d); if (e < b) b = e; }
        CHECK(l2d(x + i * d, c + idx[i] * d, d) <= b * (1 + 1e-5) + 1e-6);
        CHECK(fabs(sc[i] - b) <= 1e-5 * b + 1e-6);
    }
    CHECK(quant_vq_decode(c, k, d, idx, n, y) == QUANT_OK);
    for (i = 0; i < n; i++) CHECK(memcmp(y + i * d, c + idx[i] * d, d * 4) == 0);
    CHECK(quant_vq_decode(c, k, d, bad, 2, y) == QUANT_EFORMAT);
    CHECK(quant_vq_encode(c, k, d, x, n, QUANT_METRIC_IP, idx, sc) == QUANT_OK);
    for (i = 0; i < n; i++) {
        double b = -1e300;
        for (j = 0; j < k; j++) { double e = ipd(x + i * d, c + j * d, d); if (e > b) b = e; }
        CHECK(ipd(x + i * d, c + idx[i] * d, d) >= b - 1e-5);
    }
}

static void test_codebook(void) {
    size_t n = 4000, i, j;
    float *w = (float *)malloc(n * 4), *wd = (float *)malloc(n * 4), cb[256];
    uint8_t *idx = (uint8_t *)malloc(n);
    int bits;
    for (i = 0; i < n; i++) w[i] = (float)(qt_normal() * 0.05);
    for (bits = 4; bits <= 8; bits += 4) {
        int entries = bits == 4 ? 16 : 256;
        quant_kmeans_info info;
        double mse = 0, var = 0;
        CHECK(quant_codebook_train(w, n, entries, NULL, cb, &info) == QUANT_OK);
        for (j = 1; j < (size_t)entries; j++) CHECK(cb[j - 1] <= cb[j]);
        CHECK(quant_codebook_encode(w, n, cb, entries, bits, idx) == QUANT_OK);
        CHECK(quant_codebook_decode(idx, n, cb, entries, bits, wd) == QUANT_OK);
        for (i = 0; i < n; i++) {
            double b = 1e300;
            for (j = 0; j < (size_t)entries; j++) { double e = fabs((double)w[i] - cb[j]); if (e < b) b = e; }
            CHECK(fabs((double)w[i] - wd[i]) == b);
            mse += ((double)w[i] - wd[i]) * ((double)w[i] - wd[i]);
            var += (double)w[i] * w[i];
        }
        /* Lloyd-Max for a Gaussian: about 0.0095 (16 levels) */
        CHECKF(mse / var < (bits == 4 ? 0.012 : 0.0005), "bits %d relative mse %g", bits, mse / var);
        CHECKF(fabs(info.objective - mse / n) <= 1e-3 * info.objective || info.n_used < n, "%g vs %g", info.objective, mse / n);
    }
    {   /* GEMV on indices + codebook: the fmaf chain; and double within tolerance */
        size_t rows = 13, cols = 37, r, c, rb;
        float x[37], y[13], W[13 * 37];
        uint8_t ix[13 * 37];
        for (bits = 4; bits <= 8; bits += 4) {
            int entries = bits == 4 ? 11 : 200;
            for (j = 0; j < (size_t)entries; j++) cb[j] = (float)j * 0.1f - 0.5f;
            rb = quant_codebook_row_bytes(bits, cols);
            for (r = 0; r < rows; r++) {
                CHECK(rb == (bits == 4 ? 19u : 37u));
                for (c = 0; c < cols; c++) W[r * cols + c] = cb[qt_rand32() % (unsigned)entries];
                CHECK(quant_codebook_encode(W + r * cols, cols, cb, entries, bits, ix + r * rb) == QUANT_OK);
            }
            for (c = 0; c < cols; c++) x[c] = (float)qt_normal();
            CHECK(quant_ref_codebook_gemv(ix, bits, rows, cols, cb, entries, x, y) == QUANT_OK);
            for (r = 0; r < rows; r++) {
                double s = 0, sa = 0;
                float acc = 0;
                for (c = 0; c < cols; c++) { s += (double)W[r * cols + c] * x[c]; sa += fabs((double)W[r * cols + c] * x[c]); acc = fmaf(W[r * cols + c], x[c], acc); }
                CHECK(y[r] == acc);
                CHECK(fabs(y[r] - s) <= 1e-6 * sa);
            }
            /* an index >= entries: EFORMAT, nothing written */
            ix[rb + 1] = bits == 4 ? 0xff : 250;
            y[0] = 7.0f;
            CHECK(quant_ref_codebook_gemv(ix, bits, rows, cols, cb, entries, x, y) == QUANT_EFORMAT && y[0] == 7.0f);
            CHECK(quant_codebook_decode(ix, rows * rb * (bits == 4 ? 2 : 1), cb, entries, bits, wd) == QUANT_EFORMAT);
        }
    }
    {   /* invalid codebooks and ties */
        float c3[3] = { 0.0f, 1.0f, 0.5f }, c4[4] = { 0.0f, 1.0f, 1.0f, 3.0f }, v[3] = { 0.5f, 2.0f, 1.0f };
        uint8_t q[3];
        CHECK(quant_codebook_encode(v, 3, c3, 3, 8, q) == QUANT_EINVAL);      /* not sorted */
        CHECK(quant_codebook_encode(v, 3, c4, 4, 8, q) == QUANT_OK);
        CHECK(q[0] == 0 && q[1] == 1 && q[2] == 1);                            /* ties to the lower index, repeats */
        CHECK(quant_codebook_encode(v, 3, cb, 17, 4, q) == QUANT_EINVAL);     /* 17 entries in 4 bits */
        v[1] = NAN;
        CHECK(quant_codebook_encode(v, 3, c4, 4, 8, q) == QUANT_ERANGE);
        CHECK(quant_codebook_train(v, 3, 2, NULL, cb, NULL) == QUANT_ERANGE);
    }
    free(w); free(wd); free(idx);
}

/* ------------------------------------------------------------------ PQ */

static void test_pq_shapes(void) {
    quant_pq pq;
    CHECK(quant_pq_init(&pq, 32, 8, 8, 0, NULL) == QUANT_OK && pq.dsub == 4 && pq.ksub == 256);
    CHECK(quant_pq_code_size(&pq) == 8);
    CHECK(quant_pq_centroids_floats(32, 8, 8, 0) == 8 * 256 * 4);
    CHECK(quant_pq_centroids_floats(32, 8, 4, 1) == 16 * 4);
    CHECK(quant_pq_init(&pq, 28, 7, 4, 0, NULL) == QUANT_OK && quant_pq_code_size(&pq) == 4 && pq.dsub == 4);
    CHECK(quant_pq_init(&pq, 30, 4, 8, 0, NULL) == QUANT_EINVAL); /* 30 % 4 */
    CHECK(quant_pq_init(&pq, 32, 8, 6, 0, NULL) == QUANT_EINVAL);
    CHECK(quant_pq_init(&pq, 32, 8, 8, 2, NULL) == QUANT_EINVAL);
    CHECK(quant_pq_init(&pq, 0, 8, 8, 0, NULL) == QUANT_EINVAL);
    CHECK(quant_pq_init(&pq, 32, 0, 8, 0, NULL) == QUANT_EINVAL);
}

static void test_pq_train_encode_search(void) {
    size_t n = 2500, d = 24, nq = 12, K = 10;
    float *x = (float *)malloc(n * d * 4), *xd = (float *)malloc(n * d * 4), *q = (float *)malloc(nq * d * 4);
    float cen[20 * 24];
    int nbits, shared;
    blobs(x, n, d, 20, 1.0, 0.5, cen, NULL);
    blobs(q, nq, d, 3, 1.0, 0.5, cen, NULL);
    for (nbits = 4; nbits <= 8; nbits += 4)
        for (shared = 0; shared < 2; shared++) {
            size_t M = nbits == 4 ? 8 : 6, cs, i, m, j, qi;
            quant_pq pq;
            float *cb = (float *)malloc(quant_pq_centroids_floats(d, M, nbits, shared) * 4);
            uint8_t *codes;
            float *tab, *dist;
            int64_t *ids;
            quant_kmeans_opts o;
            quant_kmeans_info info;
            prog_log lg;
            int metric;
            double mse = 0;
            memset(&pq, 0, sizeof pq);
    CHECK(quant_pq_init(&pq, d, M, nbits, shared, cb) == QUANT_OK);
            cs = quant_pq_code_size(&pq);
            codes = (uint8_t *)malloc(n * cs);
            tab = (float *)malloc(nq * M * pq.ksub * 4);
            dist = (float *)malloc(nq * K * 4);
            ids = (int64_t *)malloc(nq * K * 8);
            quant_kmeans_opts_default(&o);
            memset(&lg, 0, sizeof lg); lg.stop_at = -1;
            o.progress = on_progress; o.user = &lg; o.max_iter = 10;
            CHECK(quant_pq_train(&pq, x, n, &o, &info) == QUANT_OK);
            CHECK(lg.parts_seen == (shared ? 1 : M));
            CHECK(quant_ref_pq_encode(&pq, x, n, codes) == QUANT_OK);
            CHECK(quant_pq_decode(&pq, codes, n, xd) == QUANT_OK);
            for (i = 0; i < n; i++) {
                mse += l2d(x + i * d, xd + i * d, d);
                for (m = 0; m < M; m++) { /* each code is the nearest centroid */
                    const float *cbm = cb + (shared ? 0 : m) * pq.ksub * pq.dsub;
                    double b = 1e300;
                    for (j = 0; j < pq.ksub; j++) { double e = l2d(x + i * d + m * pq.dsub, cbm + j * pq.dsub, pq.dsub); if (e < b) b = e; }
                    CHECK(l2d(x + i * d + m * pq.dsub, cbm + quant_pq_code_get(&pq, codes + i * cs, m) * pq.dsub, pq.dsub) <= b * (1 + 1e-5) + 1e-9);
                }
                if (nbits == 4 && (M & 1)) CHECK((codes[i * cs + cs - 1] >> 4) == 0);
            }
            /* the reported objective is the reconstruction error per vector (all points used here) */
            CHECKF(info.n_used < (shared ? n * M : n) || fabs(mse / n - info.objective) <= 1e-4 * info.objective,
                   "nbits %d shared %d: mse %g objective %g", nbits, shared, mse / n, info.objective);
            for (metric = 0; metric < 2; metric++) {
                CHECK(quant_ref_pq_tables(&pq, (quant_metric)metric, q, nq, tab) == QUANT_OK);
                /* ADC distance = distance to the decoded vector, to float tolerance */
                for (qi = 0; qi < nq; qi++)
                    for (i = 0; i < n; i += 7) {
                        float s = 0;
                        double ref = metric ? ipd(q + qi * d, xd + i * d, d) : l2d(q + qi * d, xd + i * d, d);
                        double mag = metric ? sqrt(ipd(q + qi * d, q + qi * d, d) * ipd(xd + i * d, xd + i * d, d)) : ref;
                        for (m = 0; m < M; m++) s += tab[(qi * M + m) * pq.ksub + quant_pq_code_get(&pq, codes + i * cs, m)];
                        CHECKF(fabs(s - ref) <= 2e-6 * (mag + 1) * M, "metric %d q %d i %d: %g vs %g", metric, (int)qi, (int)i, s, ref);
                    }
                /* top-k: a full sort of the same float sums */
                CHECK(quant_ref_pq_scan(&pq, tab, nq, codes, n, (quant_metric)metric, K, ids, dist) == QUANT_OK);
                for (qi = 0; qi < nq; qi++) {
                    float *all = (float *)malloc(n * 4);
                    size_t r;
                    for (i = 0; i < n; i++) {
                        float s = 0;
                        for (m = 0; m < M; m++) s += tab[(qi * M + m) * pq.ksub + quant_pq_code_get(&pq, codes + i * cs, m)];
                        all[i] = metric ? -s : s;
                    }
                    for (r = 0; r < K; r++) { /* the r-th best by (key, id) */
                        size_t b = 0;
                        for (i = 1; i < n; i++) if (all[i] < all[b]) b = i;
                        CHECKF(ids[qi * K + r] == (int64_t)b && dist[qi * K + r] == (metric ? -all[b] : all[b]),
                               "metric %d q %d rank %d: id %d want %d", metric, (int)qi, (int)r, (int)ids[qi * K + r], (int)b);
                        all[b] = INFINITY;
                    }
                    free(all);
                }
            }
            /* k > n: padding */
            CHECK(quant_ref_pq_scan(&pq, tab, 1, codes, 3, QUANT_METRIC_L2, K, ids, dist) == QUANT_OK);
            CHECK(ids[3] == -1 && dist[3] == INFINITY && ids[2] >= 0 && dist[0] <= dist[1] && dist[1] <= dist[2]);
            CHECK(quant_ref_pq_scan(&pq, tab, 1, codes, 3, QUANT_METRIC_IP, K, ids, dist) == QUANT_OK);
            CHECK(ids[9] == -1 && dist[9] == -INFINITY && dist[0] >= dist[1]);
            tab[5] = NAN;
            CHECK(quant_ref_pq_scan(&pq, tab, 1, codes, n, QUANT_METRIC_L2, K, ids, dist) == QUANT_EINVAL);
            q[3] = NAN;
            CHECK(quant_ref_pq_tables(&pq, QUANT_METRIC_L2, q, nq, tab) == QUANT_ERANGE);
            CHECK(quant_ref_pq_encode(&pq, q, nq, codes) == QUANT_ERANGE);
            q[3] = 0.25f;
            free(cb); free(codes); free(tab); free(dist); free(ids);
        }
    free(x); free(xd); free(q);
}

static void test_pq_ties(void) {
    /* duplicate centroids and equal distances: lowest index / lowest id wins */
    quant_pq pq;
    float cb[2 * 16 * 2], x[2 * 4], tab[2 * 16];
    uint8_t codes[6 * 1];
    int64_t ids[4];
    float dist[4];
    size_t j;
    for (j = 0; j < 2 * 16 * 2; j++) cb[j] = 1.0f;
    CHECK(quant_pq_init(&pq, 4, 2, 4, 0, cb) == QUANT_OK);
    x[0] = x[1] = x[2] = x[3] = 0.0f;
    CHECK(quant_ref_pq_encode(&pq, x, 1, codes) == QUANT_OK && codes[0] == 0);
    CHECK(quant_ref_pq_tables(&pq, QUANT_METRIC_L2, x, 1, tab) == QUANT_OK);
    for (j = 0; j < 6; j++) codes[j] = (uint8_t)(j * 17 % 256);
    CHECK(quant_ref_pq_scan(&pq, tab, 1, codes, 6, QUANT_METRIC_L2, 4, ids, dist) == QUANT_OK);
    CHECK(ids[0] == 0 && ids[1] == 1 && ids[2] == 2 && ids[3] == 3 && dist[0] == 4.0f);
}

static void test_pqmm_ref(void) {
    size_t rows = 50, d = 64, r, t;
    int shared, nbits;
    for (nbits = 4; nbits <= 8; nbits += 4)
        for (shared = 0; shared < 2; shared++) {
            quant_pq pq;
            size_t M = 16, cs;
            float *W = (float *)malloc(rows * d * 4), *Wd = (float *)malloc(rows * d * 4), x[64], y[50], y8[50];
            float *cb = (float *)malloc(quant_pq_centroids_floats(d, M, nbits, shared) * 4);
            uint8_t *codes;
            quant_kmeans_opts o;
            double err = 0, nrm = 0, ratio;
            memset(&pq, 0, sizeof pq);
    CHECK(quant_pq_init(&pq, d, M, nbits, shared, cb) == QUANT_OK);
            cs = quant_pq_code_size(&pq);
            codes = (uint8_t *)malloc(rows * cs);
            for (t = 0; t < rows * d; t++) W[t] = (float)qt_normal();
            for (t = 0; t < d; t++) x[t] = (float)qt_normal();
            quant_kmeans_opts_default(&o);
            CHECK(quant_pq_train(&pq, W, rows, &o, NULL) == QUANT_OK);
            CHECK(quant_ref_pq_encode(&pq, W, rows, codes) == QUANT_OK);
            CHECK(quant_pq_decode(&pq, codes, rows, Wd) == QUANT_OK);
            CHECK(quant_ref_pqmm(&pq, codes, rows, x, QUANT_PQMM_F32, y) == QUANT_OK);
            CHECK(quant_ref_pqmm(&pq, codes, rows, x, QUANT_PQMM_LUT8, y8) == QUANT_OK);
            {   /* LUT8 bound: M * delta / 2, delta from the tables */
                float T[16 * 256], R = 0;
                size_t m, j;
                CHECK(quant_ref_pq_tables(&pq, QUANT_METRIC_IP, x, 1, T) == QUANT_OK);
                for (m = 0; m < M; m++) {
                    float lo = T[m * pq.ksub], hi = lo;
                    for (j = 0; j < pq.ksub; j++) { if (T[m * pq.ksub + j] < lo) lo = T[m * pq.ksub + j]; if (T[m * pq.ksub + j] > hi) hi = T[m * pq.ksub + j]; }
                    if (hi - lo > R) R = hi - lo;
                }
                for (r = 0; r < rows; r++) {
                    double s = 0, sa = 0;
                    float sf = 0;
                    for (m = 0; m < M; m++) sf += T[m * pq.ksub + quant_pq_code_get(&pq, codes + r * cs, m)];
                    CHECK(y[r] == sf); /* F32 is the PQ distance (IP tables, subspace order) */
                    for (t = 0; t < d; t++) { s += (double)Wd[r * d + t] * x[t]; sa += fabs((double)Wd[r * d + t] * x[t]); }
                    CHECK(fabs(y[r] - s) <= 1e-5 * sa + 1e-6);
                    CHECKF(fabs(y8[r] - y[r]) <= M * (R / 255.0) / 2 + 1e-5 * sa, "r %d: %g vs %g", (int)r, y8[r], y[r]);
                    for (t = 0, s = 0; t < d; t++) s += (double)W[r * d + t] * x[t];
                    err += (y[r] - s) * (y[r] - s); nrm += s * s;
                }
            }
            ratio = quant_pq_compression(&pq, rows);
            CHECK(ratio > 0.0 && fabs(ratio - (double)rows * d * 4 / ((double)rows * cs + 4.0 * quant_pq_centroids_floats(d, M, nbits, shared))) < 1e-9);
            CHECKF(sqrt(err / nrm) < (nbits == 8 ? 0.5 : 0.8), "relative error %g", sqrt(err / nrm));
            x[5] = INFINITY;
            y[0] = 3.0f;
            CHECK(quant_ref_pqmm(&pq, codes, rows, x, QUANT_PQMM_F32, y) == QUANT_ERANGE && y[0] == 3.0f);
            CHECK(quant_ref_pqmm(&pq, codes, rows, x, (quant_pqmm_mode)5, y) == QUANT_EINVAL);
            free(W); free(Wd); free(cb); free(codes);
        }
}

static void test_blobs(void) {
    size_t d = 12, M = 3, n = 40, i, nn, bytes;
    int nbits, shared;
    for (nbits = 4; nbits <= 8; nbits += 4)
        for (shared = 0; shared < 2; shared++) {
            quant_pq pq, p2;
            float *cb = (float *)malloc(quant_pq_centroids_floats(d, M, nbits, shared) * 4);
            float *cb2 = (float *)malloc(quant_pq_centroids_floats(d, M, nbits, shared) * 4);
            float x[40 * 12];
            uint8_t codes[40 * 3], codes2[40 * 3];
            uint8_t *blob;
            size_t f = quant_pq_centroids_floats(d, M, nbits, shared);
            for (i = 0; i < n * d; i++) x[i] = (float)qt_normal();
            memset(&pq, 0, sizeof pq);
    CHECK(quant_pq_init(&pq, d, M, nbits, shared, cb) == QUANT_OK);
            CHECK(quant_pq_train(&pq, x, n, NULL, NULL) == QUANT_OK);
            CHECK(quant_ref_pq_encode(&pq, x, n, codes) == QUANT_OK);
            bytes = quant_pq_blob_size(&pq, n);
            CHECK(bytes == 48 + 4 * f + n * quant_pq_code_size(&pq));
            blob = (uint8_t *)malloc(bytes);
            CHECK(quant_pq_save(&pq, codes, n, blob, bytes - 1) == QUANT_EINVAL);
            CHECK(quant_pq_save(&pq, codes, n, blob, bytes) == QUANT_OK);
            CHECK(memcmp(blob, "QPQ1", 4) == 0 && blob[8] == 12 && blob[12] == 3 && blob[16] == nbits && blob[20] == shared && blob[24] == 40);
            CHECK(quant_pq_load_header(blob, bytes, &p2, &nn) == QUANT_OK && nn == n && p2.d == d && p2.M == M &&
                  p2.nbits == nbits && p2.shared == shared && p2.centroids == NULL);
            p2.centroids = cb2;
            CHECK(quant_pq_load(blob, bytes, &p2, codes2) == QUANT_OK);
            CHECK(memcmp(cb, cb2, f * 4) == 0 && memcmp(codes, codes2, n * quant_pq_code_size(&pq)) == 0);
            /* every header byte matters; every truncation is refused */
            for (i = 0; i < 48; i++) {
                blob[i] ^= 0x10;
                CHECKF(quant_pq_load_header(blob, bytes, &p2, &nn) == QUANT_EFORMAT, "byte %d", (int)i);
                blob[i] ^= 0x10;
            }
            for (i = 0; i < bytes + 3; i += 1 + i / 3)
                if (i != bytes) CHECK(quant_pq_load_header(blob, i, &p2, &nn) == QUANT_EFORMAT);
            /* a NaN centroid */
            memcpy(&blob[48 + 4 * 5], &(float){ NAN }, 4);
            cb2[0] = 9.0f;
            CHECK(quant_pq_load(blob, bytes, &p2, codes2) == QUANT_EFORMAT && cb2[0] == 9.0f);
            memcpy(&blob[48 + 4 * 5], &cb[5], 4);
            if (nbits == 4) { /* M odd: a set padding nibble */
                blob[48 + 4 * f + 1] |= 0x30;
                CHECK(quant_pq_load(blob, bytes, &p2, codes2) == QUANT_EFORMAT);
                blob[48 + 4 * f + 1] &= 0x0f;
            }
            CHECK(quant_pq_load(blob, bytes, &p2, codes2) == QUANT_OK);
            free(blob); free(cb); free(cb2);
        }
    {   /* codebook blob */
        float cb[16], cb2[16];
        uint8_t idx[9], idx2[9], blob[48 + 64 + 9];
        int e, b;
        size_t k;
        for (i = 0; i < 16; i++) cb[i] = (float)i * 0.25f;
        for (i = 0; i < 9; i++) idx[i] = (uint8_t)(i * 37 % 256 & 0xff);
        idx[8] &= 0x0f; /* 17 nibbles: padding zero */
        bytes = quant_codebook_blob_size(16, 4, 17);
        CHECK(bytes == 48 + 64 + 9);
        CHECK(quant_codebook_save(cb, 16, 4, idx, 17, blob, bytes) == QUANT_OK);
        CHECK(quant_codebook_load_header(blob, bytes, &e, &b, &k) == QUANT_OK && e == 16 && b == 4 && k == 17);
        CHECK(quant_codebook_load(blob, bytes, cb2, idx2) == QUANT_OK && memcmp(cb, cb2, 64) == 0 && memcmp(idx, idx2, 9) == 0);
        for (i = 0; i < 48; i++) { blob[i] ^= 1; CHECK(quant_codebook_load(blob, bytes, cb2, idx2) == QUANT_EFORMAT); blob[i] ^= 1; }
        blob[48 + 4 * 3 + 3] ^= 0x80; /* entry 3 negative: not sorted */
        CHECK(quant_codebook_load(blob, bytes, cb2, idx2) == QUANT_EFORMAT);
        blob[48 + 4 * 3 + 3] ^= 0x80;
        blob[bytes - 1] |= 0xf0; /* padding nibble */
        CHECK(quant_codebook_load(blob, bytes, cb2, idx2) == QUANT_EFORMAT);
        blob[bytes - 1] &= 0x0f;
        CHECK(quant_codebook_load(blob, bytes - 1, cb2, idx2) == QUANT_EFORMAT);
        /* 8-bit with 10 entries: an index of 10 */
        for (i = 0; i < 9; i++) idx[i] = (uint8_t)(i % 10);
        CHECK(quant_codebook_save(cb, 10, 8, idx, 9, blob, sizeof blob) == QUANT_OK);
        bytes = quant_codebook_blob_size(10, 8, 9);
        blob[48 + 40 + 2] = 10;
        CHECK(quant_codebook_load(blob, bytes, cb2, idx2) == QUANT_EFORMAT);
    }
}

static void test_enomem(void) {
    /* every allocation of k-means (both inits, 1-D), PQ training and the
     * codebook trainer fails in turn: ENOMEM, nothing written, no leak */
    size_t n = 300, d = 6, i;
    float *x = (float *)malloc(n * d * 4), c[8 * 6], c0[8 * 6], cb[2 * 16 * 3], cb0[2 * 16 * 3];
    quant_pq pq;
    int fail, job, ok_seen[4] = { 0, 0, 0, 0 };
    for (i = 0; i < n * d; i++) x[i] = (float)qt_normal();
    for (job = 0; job < 4; job++)
        for (fail = 0; fail < 40; fail++) {
            quant_kmeans_opts o;
            quant_status st;
            quant_kmeans_opts_default(&o);
            o.max_points_per_centroid = 20; /* subsampled: one more allocation */
            for (i = 0; i < sizeof c / 4; i++) c[i] = c0[i] = -7.0f;
            for (i = 0; i < sizeof cb / 4; i++) cb[i] = cb0[i] = -7.0f;
            qt_alloc_live = 0;
            qt_alloc_left = fail;
            if (job == 0) st = quant_kmeans(x, n, d, 8, &o, c, NULL);
            else if (job == 1) { o.init = QUANT_KMEANS_RANDOM; st = quant_kmeans(x, n, d, 8, &o, c, NULL); }
            else if (job == 2) st = quant_codebook_train(x, n, 8, &o, c, NULL);
            else { quant_pq_init(&pq, d, 2, 4, 0, cb); st = quant_pq_train(&pq, x, n, &o, NULL); }
            qt_alloc_left = -1;
            CHECKF(qt_alloc_live == 0, "job %d fail at %d: %ld blocks leaked", job, fail, qt_alloc_live);
            if (st == QUANT_OK) { ok_seen[job] = 1; continue; }
            CHECKF(st == QUANT_ENOMEM, "job %d fail at %d: %s", job, fail, quant_status_str(st));
            CHECKF(memcmp(c, c0, sizeof c) == 0 && memcmp(cb, cb0, sizeof cb) == 0, "job %d fail at %d: written", job, fail);
        }
    for (job = 0; job < 4; job++) CHECK(ok_seen[job]);
    free(x);
}

int main(void) {
    RUN(test_kmeans_objective_decreases);
    RUN(test_kmeans_deterministic);
    RUN(test_kmeans_separable);
    RUN(test_kmeans_edges);
    RUN(test_kmeans_options);
    RUN(test_empty_cluster_repair);
    RUN(test_vq);
    RUN(test_codebook);
    RUN(test_pq_shapes);
    RUN(test_pq_train_encode_search);
    RUN(test_pq_ties);
    RUN(test_pqmm_ref);
    RUN(test_blobs);
    RUN(test_enomem);
    return qt_summary();
}
