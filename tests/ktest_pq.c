/* tests/ktest_pq.c - PQ / VQ kernels of quant_kernels.h against the quant.h
 * references, bit for bit, on the ISA this file is compiled for: nearest
 * centroid (argmin and every score, ties), k-means through the fast kernel,
 * PQ encode / tables / scan / search, the 4-bit fast scan (exact mode equal
 * to the exhaustive scan; approximate mode within its documented bound),
 * PQ matmul (F32 and LUT8, tiles), codebook GEMV; corrupted packed objects
 * and short workspaces refused. */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include "harness.h"

static int same_f(const float *a, const float *b, size_t n) { return memcmp(a, b, n * sizeof(float)) == 0; }

static void test_isa(void) {
#ifdef QT_EXPECT_ISA
    CHECKF(strcmp(quant_isa_name(), QT_EXPECT_ISA) == 0, "built %s, expected %s", quant_isa_name(), QT_EXPECT_ISA);
#endif
}

static void test_nearest(void) {
    int it;
    for (it = 0; it < 80; it++) {
        size_t n = 1 + qt_rand32() % 23, d = 1 + qt_rand32() % 40, k = 1 + qt_rand32() % (it % 3 ? 80 : 300);
        size_t ldx = d + qt_rand32() % 3, i, j;
        int metric = (int)(qt_rand32() & 1);
        float *x = (float *)malloc(n * ldx * 4), *c = (float *)malloc(k * d * 4), *ct = (float *)malloc(k * d * 4);
        float *s1 = (float *)malloc(n * k * 4), *s2 = (float *)malloc(n * k * 4), b1[23], b2[23];
        uint32_t i1[23], i2[23];
        for (i = 0; i < n * ldx; i++) x[i] = (float)qt_normal();
        for (i = 0; i < k * d; i++) c[i] = (float)qt_normal();
        if (it % 4 == 0) /* duplicated centroids: ties to the lower index */
            for (j = 1; j < k; j += 2) memcpy(c + j * d, c + (j - 1) * d, d * 4);
        if (it % 5 == 0) /* points on centroids */
            for (i = 0; i < n && i < k; i++) memcpy(x + i * ldx, c + ((i * 7) % k) * d, d * 4);
        CHECK(quant_centroids_prepare(c, k, d, ct, NULL) == QUANT_OK);
        quant_ref_nearest(x, n, d, ldx, c, NULL, NULL, k, (quant_metric)metric, i1, b1);
        quant_nearest(x, n, d, ldx, c, ct, NULL, k, (quant_metric)metric, i2, b2);
        CHECKF(memcmp(i1, i2, n * 4) == 0 && same_f(b1, b2, n), "it %d n %d d %d k %d metric %d", it, (int)n, (int)d, (int)k, metric);
        quant_nearest(x, n, d, ldx, c, ct, NULL, k, (quant_metric)metric, i2, NULL);
        CHECK(memcmp(i1, i2, n * 4) == 0);
        quant_ref_nearest(x, n, d, ldx, c, NULL, NULL, k, (quant_metric)metric, NULL, s1);
        quant_nearest(x, n, d, ldx, c, ct, NULL, k, (quant_metric)metric, NULL, s2);
        CHECKF(same_f(s1, s2, n * k), "all scores: it %d n %d d %d k %d", it, (int)n, (int)d, (int)k);
        free(x); free(c); free(ct); free(s1); free(s2);
    }
}

static void test_kmeans_fast(void) {
    /* k-means through quant_nearest returns the reference's centroids */
    size_t n = 700, d = 9, k = 20, i;
    float *x = (float *)malloc(n * d * 4), c1[20 * 9], c2[20 * 9];
    int init, metric;
    for (i = 0; i < n * d; i++) x[i] = (float)(qt_normal() + (double)((i / d) % 5) * 2.0);
    for (init = 0; init < 2; init++)
        for (metric = 0; metric < 2; metric++) {
            quant_kmeans_opts o;
            quant_kmeans_info a, b;
            quant_kmeans_opts_default(&o);
            o.init = (quant_kmeans_init)init; o.metric = (quant_metric)metric; o.max_iter = 8; o.max_points_per_centroid = 40;
            CHECK(quant_kmeans(x, n, d, k, &o, c1, &a) == QUANT_OK);
            o.nearest = quant_nearest;
            CHECK(quant_kmeans(x, n, d, k, &o, c2, &b) == QUANT_OK);
            CHECKF(same_f(c1, c2, k * d) && a.objective == b.objective && a.iterations == b.iterations,
                   "init %d metric %d", init, metric);
        }
    free(x);
}

/* codebooks for the kernel tests: data points plus noise (training is
 * tested in test_kmeans_fast and test_fast_scan; this keeps qemu fast) */
static void sample_codebooks(quant_pq *pq, const float *x, size_t n) {
    size_t b, j, t, ncb = pq->shared ? 1 : pq->M;
    for (b = 0; b < ncb; b++)
        for (j = 0; j < pq->ksub; j++) {
            const float *src = x + (qt_rand32() % n) * pq->d + (pq->shared ? (qt_rand32() % pq->M) : b) * pq->dsub;
            for (t = 0; t < pq->dsub; t++) pq->centroids[(b * pq->ksub + j) * pq->dsub + t] = src[t] + (float)(0.05 * qt_normal());
        }
}

/* clustered data */
static float *make_data(size_t n, size_t d, int seedish) {
    float *x = (float *)malloc(n * d * 4), cen[16 * 64];
    size_t i, t;
    (void)seedish;
    for (i = 0; i < 16 * d; i++) cen[i] = (float)qt_normal();
    for (i = 0; i < n; i++)
        for (t = 0; t < d; t++) x[i * d + t] = (float)(cen[(i % 16) * d + t] + 0.6 * qt_normal());
    return x;
}

static void test_pq_kernels(void) {
    size_t n = 400, d = 24, nq = 5, K = 7;
    float *x = make_data(n, d, 1), *q = make_data(nq, d, 2);
    int nbits, shared;
    for (nbits = 4; nbits <= 8; nbits += 4)
        for (shared = 0; shared < 2; shared++) {
            size_t Ms[2] = { 3, 6 }, mi;
            for (mi = 0; mi < 2; mi++) {
                size_t M = Ms[mi], cs, pb, wsb;
                quant_pq pq, p2;
                float *cb = (float *)malloc(quant_pq_centroids_floats(d, M, nbits, shared) * 4);
                uint8_t *c1, *c2;
                float *t1, *t2, *d1, *d2;
                int64_t *i1, *i2;
                void *pk, *ws;
                int metric;
                memset(&pq, 0, sizeof pq);
                CHECK(quant_pq_init(&pq, d, M, nbits, shared, cb) == QUANT_OK);
                sample_codebooks(&pq, x, n);
                cs = quant_pq_code_size(&pq);
                pb = quant_pq_pack_size(&pq);
                pk = malloc(pb);
                CHECK(quant_pq_pack(&pq, pk, pb - 1) == QUANT_EINVAL);
                CHECK(quant_pq_pack(&pq, pk, pb) == QUANT_OK);
                CHECK(quant_pq_packed_info(pk, &p2) == QUANT_OK && p2.d == d && p2.M == M && p2.nbits == nbits && p2.shared == shared);
                c1 = (uint8_t *)malloc(n * cs); c2 = (uint8_t *)malloc(n * cs);
                CHECK(quant_ref_pq_encode(&pq, x, n, c1) == QUANT_OK);
                memset(c2, 0xAB, n * cs);
                CHECK(quant_pq_encode(pk, x, n, c2) == QUANT_OK);
                CHECKF(memcmp(c1, c2, n * cs) == 0, "encode nbits %d shared %d M %d", nbits, shared, (int)M);
                t1 = (float *)malloc(nq * M * pq.ksub * 4); t2 = (float *)malloc(nq * M * pq.ksub * 4);
                d1 = (float *)malloc(nq * K * 4); d2 = (float *)malloc(nq * K * 4);
                i1 = (int64_t *)malloc(nq * K * 8); i2 = (int64_t *)malloc(nq * K * 8);
                wsb = quant_pq_search_workspace_size(pk);
                ws = malloc(wsb);
                for (metric = 0; metric < 2; metric++) {
                    CHECK(quant_ref_pq_tables(&pq, (quant_metric)metric, q, nq, t1) == QUANT_OK);
                    CHECK(quant_pq_tables(pk, (quant_metric)metric, q, nq, t2) == QUANT_OK);
                    CHECKF(same_f(t1, t2, nq * M * pq.ksub), "tables nbits %d shared %d M %d metric %d", nbits, shared, (int)M, metric);
                    CHECK(quant_ref_pq_scan(&pq, t1, nq, c1, n, (quant_metric)metric, K, i1, d1) == QUANT_OK);
                    CHECK(quant_pq_scan(pk, t1, nq, c1, n, (quant_metric)metric, K, i2, d2) == QUANT_OK);
                    CHECK(memcmp(i1, i2, nq * K * 8) == 0 && same_f(d1, d2, nq * K));
                    memset(i2, 0, nq * K * 8);
                    CHECK(quant_pq_search(pk, (quant_metric)metric, q, nq, c1, n, K, i2, d2, ws, wsb) == QUANT_OK);
                    CHECK(memcmp(i1, i2, nq * K * 8) == 0 && same_f(d1, d2, nq * K));
                    CHECK(quant_pq_search(pk, (quant_metric)metric, q, nq, c1, n, K, i2, d2, ws, wsb - 1) == QUANT_EINVAL);
                    /* n < k and n not a multiple of 4 */
                    CHECK(quant_ref_pq_scan(&pq, t1, 1, c1, 5, (quant_metric)metric, K, i1, d1) == QUANT_OK);
                    CHECK(quant_pq_scan(pk, t1, 1, c1, 5, (quant_metric)metric, K, i2, d2) == QUANT_OK);
                    CHECK(memcmp(i1, i2, K * 8) == 0 && same_f(d1, d2, K));
                }
                {   /* a corrupted pack is refused */
                    unsigned char *b = (unsigned char *)pk;
                    size_t i;
                    for (i = 0; i < 64; i += 3) {
                        b[i] ^= 0x40;
                        CHECK(quant_pq_encode(pk, x, 1, c2) == QUANT_EFORMAT);
                        CHECK(quant_pq_search_workspace_size(pk) == 0);
                        b[i] ^= 0x40;
                    }
                }
                free(cb); free(pk); free(c1); free(c2); free(t1); free(t2); free(d1); free(d2); free(i1); free(i2); free(ws);
            }
        }
    free(x); free(q);
}

/* the approximate distances of the fast scan, computed here from the
 * definition (to check the approximate mode) */
static void fs_approx_ref(const float *T, size_t M, size_t ks, int ip, float *a_of_code, float *delta, double *bias) {
    size_t m, j;
    float R = 0;
    *bias = 0;
    for (m = 0; m < M; m++) {
        float lo = ip ? -T[m * ks] : T[m * ks], hi = lo;
        for (j = 0; j < ks; j++) { float v = ip ? -T[m * ks + j] : T[m * ks + j]; if (v < lo) lo = v; if (v > hi) hi = v; }
        lo += 0.0f;
        if (hi - lo > R) R = hi - lo;
        *bias += lo;
    }
    *delta = R / 255.0f;
    for (m = 0; m < M; m++) {
        float lo = ip ? -T[m * ks] : T[m * ks];
        for (j = 0; j < ks; j++) { float v = ip ? -T[m * ks + j] : T[m * ks + j]; if (v < lo) lo = v; }
        lo += 0.0f;
        for (j = 0; j < ks; j++) {
            float v = R > 0 ? nearbyintf(((ip ? -T[m * ks + j] : T[m * ks + j]) - lo) * (255.0f / R)) : 0.0f;
            a_of_code[m * ks + j] = v > 255 ? 255 : v;
        }
    }
}

static void test_fast_scan(void) {
    size_t d = 40, nq = 5;
    size_t Ms[2][5] = { { 1, 4, 5, 10, 20 }, { 1, 5, 8, 0, 0 } }, ns[4] = { 1, 31, 333, 600 }, Ks[3] = { 1, 10, 40 };
    float *x = make_data(600, d, 3), *q = make_data(nq, d, 4);
    int nbits;
    /* under qemu (QT_EMULATED, tests/run.sh) without n = 600: 1, 31 and 333
     * already reach one vector, a tail and many blocks plus a tail at both
     * block sizes (32 and 64 codes), and the scans of 600 were half the time;
     * and half of the (k, metric) pairs of each n, by parity, so each n
     * still meets every k and both metrics */
    const char *emu = getenv("QT_EMULATED");
    const int emulated = emu && *emu && strcmp(emu, "0") != 0;
    const size_t nn = emulated ? 3 : 4;
    for (nbits = 4; nbits <= 8; nbits += 4) {
        size_t mi;
        for (mi = 0; mi < 5 && Ms[nbits / 8][mi]; mi++) {
            size_t M = Ms[nbits / 8][mi], cs, pb, ni, ki, ks = (size_t)1 << nbits;
            quant_pq pq;
            float *cb = (float *)malloc(quant_pq_centroids_floats(d, M, nbits, 0) * 4), *T = (float *)malloc(nq * M * ks * 4);
            uint8_t *codes;
            void *pk;
            int metric;
            memset(&pq, 0, sizeof pq);
            CHECK(quant_pq_init(&pq, d, M, nbits, 0, cb) == QUANT_OK);
            if (nbits == 4) {
                quant_kmeans_opts o;
                quant_kmeans_opts_default(&o);
                o.max_iter = 5; o.nearest = quant_nearest;
                CHECK(quant_pq_train(&pq, x, 600, &o, NULL) == QUANT_OK);
            } else sample_codebooks(&pq, x, 600);
            cs = quant_pq_code_size(&pq);
            codes = (uint8_t *)malloc(600 * cs);
            pb = quant_pq_pack_size(&pq);
            pk = malloc(pb);
            CHECK(quant_pq_pack(&pq, pk, pb) == QUANT_OK);
            CHECK(quant_pq_encode(pk, x, 600, codes) == QUANT_OK);
            for (ni = 0; ni < nn; ni++) {
                size_t n = ns[ni], fb = quant_pq_fs_size(pk, n);
                uint8_t *fs = (uint8_t *)malloc(fb);
                CHECK(fb == (nbits == 4 ? (n + 31) / 32 * ((M + 3) / 4 * 4) * 16 : (n + 63) / 64 * M * 64));
                CHECK(quant_pq_fs_pack(pk, codes, n, fs, fb) == QUANT_OK);
                for (ki = 0; ki < 3; ki++)
                    for (metric = 0; metric < 2; metric++) {
                        size_t K = Ks[ki], wsb, rr = 0, qi, r;
                        void *ws;
                        if (emulated && (ki + (size_t)metric + ni + mi) % 2) continue;
                        wsb = quant_pq_fs_workspace_size(pk, n, K);
                        ws = malloc(wsb);
                        int64_t *i1 = (int64_t *)malloc(nq * K * 8), *i2 = (int64_t *)malloc(nq * K * 8);
                        float *d1 = (float *)malloc(nq * K * 4), *d2 = (float *)malloc(nq * K * 4);
                        CHECK(quant_pq_tables(pk, (quant_metric)metric, q, nq, T) == QUANT_OK);
                        CHECK(quant_pq_scan(pk, T, nq, codes, n, (quant_metric)metric, K, i1, d1) == QUANT_OK);
                        CHECK(quant_pq_fs_scan(pk, T, nq, fs, n, (quant_metric)metric, K, QUANT_FS_EXACT, i2, d2, ws, wsb, &rr) == QUANT_OK);
                        CHECKF(memcmp(i1, i2, nq * K * 8) == 0 && same_f(d1, d2, nq * K), "exact nbits %d M %d n %d k %d metric %d",
                               nbits, (int)M, (int)n, (int)K, metric);
                        CHECK(rr >= nq * (K < n ? K : n) && rr <= nq * n);
                        memset(i2, 0, nq * K * 8);
                        CHECK(quant_pq_fs_search(pk, (quant_metric)metric, q, nq, fs, n, K, QUANT_FS_EXACT, i2, d2, ws, wsb, NULL) == QUANT_OK);
                        CHECK(memcmp(i1, i2, nq * K * 8) == 0 && same_f(d1, d2, nq * K));
                        /* approximate: the top-k of the integer sums, distances within the bound */
                        CHECK(quant_pq_fs_scan(pk, T, nq, fs, n, (quant_metric)metric, K, QUANT_FS_APPROX, i2, d2, ws, wsb, NULL) == QUANT_OK);
                        for (qi = 0; qi < nq; qi++) {
                            float *A = (float *)malloc(M * ks * 4), delta;
                            double bias;
                            float *all = (float *)malloc(n * 4);
                            size_t i, m;
                            const float *Tq = T + qi * M * ks;
                            fs_approx_ref(Tq, M, ks, metric, A, &delta, &bias);
                            for (i = 0; i < n; i++) {
                                float a = 0;
                                for (m = 0; m < M; m++) a += A[m * ks + quant_pq_code_get(&pq, codes + i * cs, m)];
                                all[i] = a;
                            }
                            for (r = 0; r < K; r++) {
                                size_t b = 0;
                                int64_t id = i2[qi * K + r];
                                for (i = 1; i < n; i++) if (all[i] < all[b]) b = i;
                                if (r >= n) { CHECK(id == -1); continue; }
                                CHECKF(id == (int64_t)b, "approx nbits %d M %d n %d k %d q %d r %d: %d want %d", nbits, (int)M, (int)n,
                                       (int)K, (int)qi, (int)r, (int)id, (int)b);
                                {
                                    float ex = 0, ap = d2[qi * K + r];
                                    for (m = 0; m < M; m++) ex += Tq[m * ks + quant_pq_code_get(&pq, codes + b * cs, m)];
                                    if (metric) ex = -ex, ap = -ap;
                                    CHECKF(fabs(ap - ex) <= M * delta * 0.5 + 1e-5 * (fabs(ex) + fabs(bias)) + 1e-6, "bound %g vs %g", ap, ex);
                                }
                                all[b] = INFINITY;
                            }
                            free(all); free(A);
                        }
                        CHECK(quant_pq_fs_scan(pk, T, nq, fs, n, (quant_metric)metric, K, QUANT_FS_EXACT, i2, d2, ws, wsb - 1, NULL) == QUANT_EINVAL);
                        free(ws); free(i1); free(i2); free(d1); free(d2);
                    }
                free(fs);
            }
            {   /* adversarial tables: all equal (R = 0), a huge offset, ties */
                size_t n = 200, K = 10, wsb = quant_pq_fs_workspace_size(pk, n, K), fb = quant_pq_fs_size(pk, n), i, v;
                void *ws = malloc(wsb);
                uint8_t *fs = (uint8_t *)malloc(fb);
                int64_t i1[10], i2[10];
                float d1[10], d2[10];
                CHECK(quant_pq_fs_pack(pk, codes, n, fs, fb) == QUANT_OK);
                for (v = 0; v < 3; v++) {
                    for (i = 0; i < M * ks; i++)
                        T[i] = v == 0 ? 3.0f : v == 1 ? 1e6f + (float)(qt_rand32() % 64) * 0.0625f : (float)(qt_rand32() % 3);
                    CHECK(quant_pq_scan(pk, T, 1, codes, n, QUANT_METRIC_L2, K, i1, d1) == QUANT_OK);
                    CHECK(quant_pq_fs_scan(pk, T, 1, fs, n, QUANT_METRIC_L2, K, QUANT_FS_EXACT, i2, d2, ws, wsb, NULL) == QUANT_OK);
                    CHECKF(memcmp(i1, i2, sizeof i1) == 0 && same_f(d1, d2, K), "adversarial %d nbits %d M %d", (int)v, nbits, (int)M);
                }
                T[3] = NAN;
                CHECK(quant_pq_fs_scan(pk, T, 1, fs, n, QUANT_METRIC_L2, K, QUANT_FS_EXACT, i2, d2, ws, wsb, NULL) == QUANT_EINVAL);
                free(ws); free(fs);
            }
            free(cb); free(T); free(codes); free(pk);
        }
    }
    {   /* more than QUANT_FS_MAX_M subspaces: refused */
        quant_pq pq;
        float *cb = (float *)calloc(260 * 16, 4);
        void *pk;
        CHECK(quant_pq_init(&pq, 260, 260, 4, 0, cb) == QUANT_OK);
        pk = malloc(quant_pq_pack_size(&pq));
        CHECK(quant_pq_pack(&pq, pk, quant_pq_pack_size(&pq)) == QUANT_OK);
        CHECK(quant_pq_fs_size(pk, 10) == 0 && quant_pq_fs_workspace_size(pk, 10, 1) == 0);
        free(pk); free(cb);
    }
    free(x); free(q);
}

/* quant_pqmm in both modes = quant_ref_pqmm, bit for bit (y1, y2: rows
 * floats); then, where rows > cuts[ncut - 1], again as the tiles [cuts[i],
 * cuts[i + 1]) (the last one to rows), last tile first; a short workspace and
 * a row range past rows refused. what: the case, for the failure message */
static void check_pqmm(const quant_pq *pq, const uint8_t *codes, size_t rows, const float *x, const void *pk,
        const size_t *cuts, size_t ncut, float *y1, float *y2, const char *what) {
    int mode;
    for (mode = 0; mode < 2; mode++) {
        size_t wsb = quant_pqmm_workspace_size(pk, (quant_pqmm_mode)mode), ci;
        void *ws = malloc(wsb);
        CHECK(quant_ref_pqmm(pq, codes, rows, x, (quant_pqmm_mode)mode, y1) == QUANT_OK);
        CHECK(quant_pqmm(pk, x, (quant_pqmm_mode)mode, y2, ws, wsb) == QUANT_OK);
        CHECKF(same_f(y1, y2, rows), "%s mode %d", what, mode);
        if (rows > cuts[ncut - 1]) { /* tiles */
            memset(y2, 0, rows * 4);
            CHECK(quant_pqmm_tables(pk, x, (quant_pqmm_mode)mode, ws, wsb) == QUANT_OK);
            for (ci = ncut; ci-- > 0;) CHECK(quant_pqmm_rows(pk, ws, y2, cuts[ci], ci + 1 < ncut ? cuts[ci + 1] : rows) == QUANT_OK);
            CHECKF(same_f(y1, y2, rows), "%s mode %d, tiles", what, mode);
            CHECK(quant_pqmm_rows(pk, ws, y2, 0, rows + 1) == QUANT_EINVAL);
        }
        CHECK(quant_pqmm(pk, x, (quant_pqmm_mode)mode, y2, ws, wsb - 1) == QUANT_EINVAL);
        free(ws);
    }
}

static void test_pqmm(void) {
    size_t d = 48;
    size_t rows_list[4] = { 1, 64, 150, 1100 }; /* 1100: more than one chunk of 16 blocks */
    int nbits, shared;
    for (nbits = 4; nbits <= 8; nbits += 4)
        for (shared = 0; shared < 2; shared++) {
            size_t ri;
            for (ri = 0; ri < 4; ri++) {
                size_t rows = rows_list[ri], M = 12, cs, pb, i, cuts[2] = { 0, rows / 3 + 1 };
                char what[64];
                quant_pq pq;
                float *cb = (float *)malloc(quant_pq_centroids_floats(d, M, nbits, shared) * 4);
                float *W = make_data(rows + 40, d, 5), x[48], *y1 = (float *)malloc(rows * 4), *y2 = (float *)malloc(rows * 4);
                uint8_t *codes;
                void *pk;
                memset(&pq, 0, sizeof pq);
                CHECK(quant_pq_init(&pq, d, M, nbits, shared, cb) == QUANT_OK);
                sample_codebooks(&pq, W, rows + 40);
                cs = quant_pq_code_size(&pq);
                codes = (uint8_t *)malloc(rows * cs);
                CHECK(quant_ref_pq_encode(&pq, W, rows, codes) == QUANT_OK);
                for (i = 0; i < d; i++) x[i] = (float)qt_normal();
                pb = quant_pqmm_pack_size(&pq, rows);
                pk = malloc(pb);
                CHECK(quant_pqmm_pack(&pq, codes, rows, pk, pb) == QUANT_OK);
                snprintf(what, sizeof what, "pqmm nbits %d shared %d rows %d", nbits, shared, (int)rows);
                check_pqmm(&pq, codes, rows, x, pk, cuts, 2, y1, y2, what);
                ((unsigned char *)pk)[9] ^= 1;
                CHECK(quant_pqmm_workspace_size(pk, QUANT_PQMM_F32) == 0);
                free(cb); free(W); free(y1); free(y2); free(codes); free(pk);
            }
        }
    {   /* M past 256: the 16-bit accumulators of the VBMI path flush */
        size_t M = 300, rows = 70, i, pb, wsb;
        quant_pq pq;
        float *cb = (float *)malloc(quant_pq_centroids_floats(M, M, 8, 0) * 4), *x = (float *)malloc(M * 4), y1[70], y2[70];
        uint8_t *codes = (uint8_t *)malloc(rows * M);
        void *pk, *ws;
        for (i = 0; i < M * 256; i++) cb[i] = (float)qt_normal();
        CHECK(quant_pq_init(&pq, M, M, 8, 0, cb) == QUANT_OK);
        for (i = 0; i < rows * M; i++) codes[i] = (uint8_t)(i % 7 == 0 ? 255 : qt_rand32());
        for (i = 0; i < M; i++) x[i] = (float)qt_normal();
        pb = quant_pqmm_pack_size(&pq, rows);
        pk = malloc(pb);
        CHECK(quant_pqmm_pack(&pq, codes, rows, pk, pb) == QUANT_OK);
        wsb = quant_pqmm_workspace_size(pk, QUANT_PQMM_LUT8);
        ws = malloc(wsb);
        CHECK(quant_ref_pqmm(&pq, codes, rows, x, QUANT_PQMM_LUT8, y1) == QUANT_OK);
        CHECK(quant_pqmm(pk, x, QUANT_PQMM_LUT8, y2, ws, wsb) == QUANT_OK);
        CHECK(same_f(y1, y2, rows));
        free(cb); free(x); free(codes); free(pk); free(ws);
    }
}

/* The 8-bit lookups of the fast scan and PQ matmul (vpermi2b, the vpshufb
 * rows of the vector layer, scalar): every code value, the largest sums
 * their 16-bit accumulators hold (M = QUANT_FS_MAX_M = 256 subspaces of
 * 255), more than 256 subspaces for PQ matmul (the 32-bit flush), more rows
 * than one chunk of blocks with tiles across it, constant and extreme
 * tables, and x whose tables overflow (the min / max fallback). */
static void test_lut8_edges(void) {
    {   /* fast scan, nbits 8, M = 256: codes 0..255 and all 255 */
        const size_t M = 256, d = 256, n = 200, K = 10;
        quant_pq pq;
        float *cb = (float *)malloc(quant_pq_centroids_floats(d, M, 8, 0) * 4), *T = (float *)malloc(M * 256 * 4), d1[10], d2[10];
        uint8_t *codes = (uint8_t *)malloc(n * M), *fs;
        int64_t i1[10], i2[10];
        size_t i, v, fb, wsb, rr;
        void *pk, *ws;
        for (i = 0; i < M * 256; i++) cb[i] = (float)qt_normal();
        CHECK(quant_pq_init(&pq, d, M, 8, 0, cb) == QUANT_OK);
        pk = malloc(quant_pq_pack_size(&pq));
        CHECK(quant_pq_pack(&pq, pk, quant_pq_pack_size(&pq)) == QUANT_OK);
        fb = quant_pq_fs_size(pk, n);
        fs = (uint8_t *)malloc(fb);
        wsb = quant_pq_fs_workspace_size(pk, n, K);
        ws = malloc(wsb);
        for (v = 0; v < 4; v++) {
            for (i = 0; i < n * M; i++)
                codes[i] = (uint8_t)(v == 0 ? (i * 7 + i / M) & 255 : v == 1 ? 255 : v == 2 ? (i < n * M / 2 ? 255 : 0) : qt_rand32());
            for (i = 0; i < M * 256; i++) /* v 1, 2: the largest entry at code 255 everywhere: sums of 255 x 256 */
                T[i] = v == 0 ? (float)qt_normal() : v == 3 ? (float)(qt_rand32() % 5) : (float)((i & 255) == 255 ? 1000.0 : qt_normal());
            CHECK(quant_pq_fs_pack(pk, codes, n, fs, fb) == QUANT_OK);
            CHECK(quant_pq_scan(pk, T, 1, codes, n, QUANT_METRIC_IP, K, i1, d1) == QUANT_OK);
            CHECK(quant_pq_fs_scan(pk, T, 1, fs, n, QUANT_METRIC_IP, K, QUANT_FS_EXACT, i2, d2, ws, wsb, &rr) == QUANT_OK);
            CHECKF(memcmp(i1, i2, sizeof i1) == 0 && same_f(d1, d2, K), "fs8 M 256 variant %d (IP)", (int)v);
            CHECK(quant_pq_scan(pk, T, 1, codes, n, QUANT_METRIC_L2, K, i1, d1) == QUANT_OK);
            CHECK(quant_pq_fs_scan(pk, T, 1, fs, n, QUANT_METRIC_L2, K, QUANT_FS_EXACT, i2, d2, ws, wsb, &rr) == QUANT_OK);
            CHECKF(memcmp(i1, i2, sizeof i1) == 0 && same_f(d1, d2, K), "fs8 M 256 variant %d (L2)", (int)v);
        }
        free(cb); free(T); free(codes); free(fs); free(pk); free(ws);
    }
    {   /* PQ matmul, nbits 8: M 300, 17, 32 and 1 (the AVX2 kernel's groups of 16 subspaces with and
         * without a tail, its prefetches of the group after next past M), rows 1100 (more than 16
         * blocks of 64) and 1 */
        const size_t Ms[4] = { 300, 17, 32, 1 }, rowss[2] = { 1100, 1 };
        size_t mi, ri;
        int shared;
        for (mi = 0; mi < 4; mi++)
            for (ri = 0; ri < 2; ri++)
                for (shared = 0; shared < 2; shared++) {
                    const size_t M = Ms[mi], rows = rowss[ri], d = 2 * M;
                    quant_pq pq;
                    float *cb = (float *)malloc(quant_pq_centroids_floats(d, M, 8, shared) * 4), *x = (float *)malloc(d * 4);
                    float *y1 = (float *)malloc(rows * 4), *y2 = (float *)malloc(rows * 4);
                    uint8_t *codes = (uint8_t *)malloc(rows * M);
                    size_t i, pb, v;
                    const size_t cuts[3] = { 0, 63, 1025 }; /* tiles across the chunks of 16 blocks */
                    char what[80];
                    void *pk;
                    for (i = 0; i < quant_pq_centroids_floats(d, M, 8, shared); i++) cb[i] = (float)qt_normal();
                    CHECK(quant_pq_init(&pq, d, M, 8, shared, cb) == QUANT_OK);
                    pb = quant_pqmm_pack_size(&pq, rows);
                    pk = malloc(pb);
                    for (v = 0; v < 4; v++) {
                        for (i = 0; i < rows * M; i++) codes[i] = (uint8_t)(v == 0 ? qt_rand32() : v == 1 ? 255 : v == 2 ? (i & 1) * 255 : i & 255);
                        /* v 3: x at QUANT_VQ_MAX_ABS and centroids near FLT_MAX, so that tables overflow to
                         * +-inf and NaN (inf - inf within a chain) */
                        for (i = 0; i < d; i++) x[i] = v == 3 ? (i & 1 ? QUANT_VQ_MAX_ABS : -QUANT_VQ_MAX_ABS) : v == 2 ? 0.0f : (float)qt_normal();
                        if (v == 3)
                            for (i = 0; i < quant_pq_centroids_floats(d, M, 8, shared); i++)
                                cb[i] = i % 3 == 0 ? 3e38f : i % 3 == 1 ? -3e38f : (float)qt_normal();
                        CHECK(quant_pqmm_pack(&pq, codes, rows, pk, pb) == QUANT_OK);
                        snprintf(what, sizeof what, "pqmm8 M %d rows %d shared %d variant %d", (int)M, (int)rows, shared, (int)v);
                        check_pqmm(&pq, codes, rows, x, pk, cuts, 3, y1, y2, what);
                    }
                    free(cb); free(x); free(y1); free(y2); free(codes); free(pk);
                }
    }
}

static void test_codebook_gemv(void) {
    size_t shapes[5][2] = { { 1, 1 }, { 64, 7 }, { 65, 32 }, { 130, 33 }, { 7, 200 } }, si;
    int bits;
    for (bits = 4; bits <= 8; bits += 4)
        for (si = 0; si < 5; si++) {
            size_t rows = shapes[si][0], cols = shapes[si][1], rb = quant_codebook_row_bytes(bits, cols), r, c, pb;
            int entries = bits == 4 ? (si % 2 ? 16 : 9) : (si % 2 ? 256 : 100), j;
            float cb[256], *x = (float *)malloc(cols * 4), *y1 = (float *)malloc(rows * 4), *y2 = (float *)malloc(rows * 4);
            uint8_t *idx = (uint8_t *)malloc(rows * rb);
            void *pk;
            for (j = 0; j < entries; j++) cb[j] = (float)(j - entries / 2) * 0.03f + (float)qt_normal() * 0.001f;
            for (j = 1; j < entries; j++) if (cb[j] < cb[j - 1]) cb[j] = cb[j - 1];
            memset(idx, 0, rows * rb);
            for (r = 0; r < rows; r++)
                for (c = 0; c < cols; c++) {
                    uint32_t v = qt_rand32() % (uint32_t)entries;
                    if (bits == 8) idx[r * rb + c] = (uint8_t)v; else idx[r * rb + c / 2] |= (uint8_t)(v << ((c & 1) * 4));
                }
            for (c = 0; c < cols; c++) x[c] = (float)qt_normal();
            pb = quant_codebook_pack_size(bits, rows, cols);
            pk = malloc(pb);
            CHECK(quant_codebook_pack(idx, bits, rows, cols, cb, entries, pk, pb) == QUANT_OK);
            CHECK(quant_ref_codebook_gemv(idx, bits, rows, cols, cb, entries, x, y1) == QUANT_OK);
            CHECK(quant_codebook_gemv(pk, x, y2) == QUANT_OK);
            CHECKF(same_f(y1, y2, rows), "bits %d rows %d cols %d", bits, (int)rows, (int)cols);
            if (rows > 3) {
                memset(y2, 0, rows * 4);
                CHECK(quant_codebook_gemv_tile(pk, x, y2, 3, rows) == QUANT_OK && quant_codebook_gemv_tile(pk, x, y2, 0, 3) == QUANT_OK);
                CHECK(same_f(y1, y2, rows));
            }
            ((unsigned char *)pk)[5] ^= 2;
            CHECK(quant_codebook_gemv(pk, x, y2) == QUANT_EFORMAT);
            if (bits == 8 && entries < 256) { /* an index past the entries */
                idx[0] = (uint8_t)entries;
                CHECK(quant_codebook_pack(idx, bits, rows, cols, cb, entries, pk, pb) == QUANT_EFORMAT);
            }
            free(x); free(y1); free(y2); free(idx); free(pk);
        }
}

int main(void) {
#ifdef QUANT__FS_LOOKUP
    printf("ISA %s, fast-scan lookup %s (4-bit), %s (8-bit)\n", quant_isa_name(), QUANT__FS_LOOKUP, QUANT__FS8_LOOKUP);
#else
    printf("ISA %s\n", quant_isa_name());
#endif
    RUN(test_isa);
    RUN(test_nearest);
    RUN(test_kmeans_fast);
    RUN(test_pq_kernels);
    RUN(test_fast_scan);
    RUN(test_pqmm);
    RUN(test_lut8_edges);
    RUN(test_codebook_gemv);
    return qt_summary();
}
