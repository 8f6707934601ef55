// bench/bench_pq.cc - product quantization against faiss 1.7.3 (Debian
// libfaiss-dev) and PQ matmul against OpenBLAS sgemv, in one run, one thread.
//
// Data: Fashion-MNIST from Debian's dataset-fashion-mnist: the 60,000
// training images are the database, the first 1,000 test images the queries
// (784-d, pixels / 255), k = 10, ground truth by exact L2 (faiss IndexFlatL2).
// recall@10 = |returned 10 ∩ true 10| / 10, averaged over the queries.
//
//   PQ M=16 nbits=8   train, encode (60,000), search (ADC, exhaustive top-10)
//   PQ M=56 nbits=4   faiss IndexPQ and IndexPQFastScan; quant's fast scan
//                     (exact re-ranking under the documented bound) and its
//                     approximate mode
//   PQ matmul         4096 x 4096 Gaussian W, sub-vectors of 4, 256 centroids
//                     (2 bits a weight), against cblas_sgemv on the floats
//
// Times are medians of repeated runs (training: one run each, it takes
// seconds; our PQ16x8 recall is also given over --seeds training seeds).
// The PQ16x8 searches (faiss, quant's fast scan, quant's exhaustive scan;
// 2 reps + 1 rounds) and the PQ matmuls with sgemv (10 reps + 1 rounds) run
// interleaved, round by round, and their ratios are medians of the
// per-round ratios (the host's speed drifts between minutes); the load
// average is printed with them.
// Run pinned: make bench-pq (bench/pq.mk). Options: --reps N, --seeds N,
// --quick (smaller training for a smoke test), --pqmm (the PQ matmul
// section alone, for A/B runs of two builds), --data DIR.
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexPQ.h>
#include <faiss/IndexPQFastScan.h>
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

// the lookups the build uses (section 6 of quant_kernels.h), by its public
// ISA macros: the 4-bit fast scan's, the 8-bit one's
#if defined(QUANT_HAS_AVX512VBMI)
static const char *fs_lookup = "vpshufb zmm", *fs8_lookup = "vpermi2b";
#elif defined(QUANT_HAS_AVX512)
static const char *fs_lookup = "vpshufb zmm", *fs8_lookup = "vpshufb, 16 rows";
#elif defined(QUANT_HAS_AVX2)
static const char *fs_lookup = "vpshufb ymm", *fs8_lookup = "vpshufb, 16 rows";
#elif defined(QUANT_HAS_SSE41)
static const char *fs_lookup = "pshufb", *fs8_lookup = "vpshufb, 16 rows";
#elif defined(QUANT_HAS_NEON)
static const char *fs_lookup = "tbl", *fs8_lookup = "scalar";
#else
static const char *fs_lookup = "scalar", *fs8_lookup = "scalar";
#endif

static double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
template <class F> static double median_time(int reps, F f) {
    std::vector<double> t;
    for (int r = 0; r < reps; r++) { double t0 = now(); f(); t.push_back(now() - t0); }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}
template <class F> static double once(F f) { double t0 = now(); f(); return now() - t0; }
static double median(std::vector<double> t) { std::sort(t.begin(), t.end()); return t[t.size() / 2]; }
static std::string loadavg() {
    char b[128] = "?";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) { if (!fgets(b, sizeof b, f)) b[0] = 0; fclose(f); }
    std::string s(b);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// IDX images (gzip) -> floats / 255
static std::vector<float> load_images(const std::string &path, size_t limit, size_t *n_out, size_t *d_out) {
    std::string cmd = "gzip -dc '" + path + "'";
    FILE *f = popen(cmd.c_str(), "r");
    std::vector<float> out;
    unsigned char h[16];
    if (!f || fread(h, 1, 16, f) != 16 || h[2] != 0x08 || h[3] != 3) {
        fprintf(stderr, "cannot read %s (install dataset-fashion-mnist)\n", path.c_str());
        exit(2);
    }
    size_t n = ((size_t)h[4] << 24) | ((size_t)h[5] << 16) | ((size_t)h[6] << 8) | h[7];
    size_t rows = ((size_t)h[8] << 24) | ((size_t)h[9] << 16) | ((size_t)h[10] << 8) | h[11];
    size_t cols = ((size_t)h[12] << 24) | ((size_t)h[13] << 16) | ((size_t)h[14] << 8) | h[15];
    if (limit && n > limit) n = limit;
    std::vector<unsigned char> buf(n * rows * cols);
    if (fread(buf.data(), 1, buf.size(), f) != buf.size()) { fprintf(stderr, "short read %s\n", path.c_str()); exit(2); }
    pclose(f);
    out.resize(buf.size());
    for (size_t i = 0; i < buf.size(); i++) out[i] = buf[i] / 255.0f;
    *n_out = n; *d_out = rows * cols;
    return out;
}

static double recall_at(const std::vector<int64_t> &I, const std::vector<int64_t> &gt, size_t nq, size_t k) {
    size_t hit = 0;
    for (size_t q = 0; q < nq; q++)
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++)
                if (I[q * k + i] == gt[q * k + j] && I[q * k + i] >= 0) { hit++; break; }
    return (double)hit / (double)(nq * k);
}

struct Row { std::string step, ours, theirs, ratio, target, verdict; };
static std::vector<Row> table;
static char *fmt(const char *f, double v) { static char b[16][64]; static int i; i = (i + 1) % 16; snprintf(b[i], 64, f, v); return b[i]; }
static void row(const std::string &s, const std::string &o, const std::string &t, const std::string &r, const std::string &g, bool ok) {
    table.push_back({ s, o, t, r, g, ok ? "met" : "NOT met" });
}

static void print_table() {
    printf("\n| step | quant | faiss / OpenBLAS | ratio | target | |\n|---|---|---|---|---|---|\n");
    for (auto &r : table)
        printf("| %s | %s | %s | %s | %s | %s |\n", r.step.c_str(), r.ours.c_str(), r.theirs.c_str(), r.ratio.c_str(), r.target.c_str(),
               r.verdict.c_str());
}

static int progress_dot(void *, const quant_kmeans_progress *p) {
    if (p->iter == 0 && (p->part % 8 == 0)) { fputc('.', stderr); fflush(stderr); }
    return 0;
}

// faiss's k-means choices (random init, 25 iterations) on a 128-per-centroid
// subsample, stopping at a relative gain below 1e-3
static quant_kmeans_opts faiss_kmeans_opts(bool quick) {
    quant_kmeans_opts o;
    quant_kmeans_opts_default(&o);
    o.nearest = quant_nearest;
    o.init = QUANT_KMEANS_RANDOM;
    o.max_iter = quick ? 5 : 25;
    o.tol = 1e-3;
    o.max_points_per_centroid = 128;
    o.progress = progress_dot;
    return o;
}

// ------------------------------------------------ PQ matmul (also alone: --pqmm)
static void bench_pqmm(int reps, bool quick) {
    const size_t R = 4096, C = 4096, dsub = 4, M = C / dsub;
    printf("\n== PQ matmul: W %zu x %zu (Gaussian), sub-vectors of %zu, 256 centroids\n", R, C, dsub);
    std::vector<float> W(R * C), x(C), y(R), y1(R);
    quant_rng rng;
    quant_rng_seed(&rng, 42);
    for (size_t i = 0; i < R * C; i++) {  // Box-Muller
        float u = (quant_rng_uniform(&rng) + 1e-7f), v = quant_rng_uniform(&rng);
        W[i] = sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v) * 0.02f;
    }
    for (size_t i = 0; i < C; i++) x[i] = quant_rng_uniform(&rng) * 2.0f - 1.0f;
    int greps = reps * 10 + 1;
    auto relerr = [&](const std::vector<float> &a) {
        double e = 0, n2 = 0;
        for (size_t i = 0; i < R; i++) { e += ((double)a[i] - y[i]) * ((double)a[i] - y[i]); n2 += (double)y[i] * y[i]; }
        return sqrt(e / n2);
    };
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)R, (int)C, 1.0f, W.data(), (int)C, x.data(), 1, 0.0f, y.data(), 1);
    struct Pqmm { int shared, mode; std::vector<unsigned char> mk, ws; std::vector<double> t, ratio; };
    std::vector<Pqmm> vs;
    double ratio_shared = 0;
    for (int shared = 1; shared >= 0; shared--) {
        quant_pq pq;
        std::vector<float> cb(quant_pq_centroids_floats(C, M, 8, shared));
        quant_pq_init(&pq, C, M, 8, shared, cb.data());
        quant_kmeans_opts o;
        quant_kmeans_opts_default(&o);
        o.nearest = quant_nearest;
        o.max_iter = quick ? 3 : 20;
        o.tol = 1e-3;
        o.progress = progress_dot;
        double t_tr = once([&] { quant_pq_train(&pq, W.data(), R, &o, NULL); });
        fputc('\n', stderr);
        std::vector<unsigned char> ppk(quant_pq_pack_size(&pq));
        quant_pq_pack(&pq, ppk.data(), ppk.size());
        std::vector<uint8_t> codes(R * quant_pq_code_size(&pq));
        quant_pq_encode(ppk.data(), W.data(), R, codes.data());
        std::vector<unsigned char> mk(quant_pqmm_pack_size(&pq, R));
        quant_pqmm_pack(&pq, codes.data(), R, mk.data(), mk.size());
        double ratio = quant_pq_compression(&pq, R);
        if (shared) ratio_shared = ratio;
        printf("quant PQ (%s codebook): trained in %.1f s, %.1fx smaller than fp32 (codes %.1f MB + codebooks %.2f MB)\n",
               shared ? "one shared" : "per-subspace", t_tr, ratio, R * quant_pq_code_size(&pq) / 1e6, cb.size() * 4 / 1e6);
        for (int mode = 0; mode < 2; mode++) {
            Pqmm v;
            v.shared = shared; v.mode = mode; v.mk = mk;
            v.ws.resize(quant_pqmm_workspace_size(mk.data(), (quant_pqmm_mode)mode));
            vs.push_back(std::move(v));
        }
    }
    // sgemv and the four PQ matmuls interleaved, round by round (sgemv
    // reads its 64 MiB from DRAM each round, and evicts the PQ data)
    std::vector<double> tb;
    for (int r = 0; r < greps; r++) {
        tb.push_back(once([&] {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)R, (int)C, 1.0f, W.data(), (int)C, x.data(), 1, 0.0f, y.data(), 1);
        }));
        for (auto &v : vs) {
            v.t.push_back(once([&] { quant_pqmm(v.mk.data(), x.data(), (quant_pqmm_mode)v.mode, y1.data(), v.ws.data(), v.ws.size()); }));
            v.ratio.push_back(tb.back() / v.t.back());
        }
    }
    double t_blas = median(tb);
    printf("OpenBLAS sgemv: %.3f ms, %.1f GFLOPS (%d interleaved rounds, load %s)\n", t_blas * 1e3, 2.0 * R * C / t_blas / 1e9, greps,
           loadavg().c_str());
    for (auto &v : vs) {
        quant_pqmm(v.mk.data(), x.data(), (quant_pqmm_mode)v.mode, y1.data(), v.ws.data(), v.ws.size());
        double t = median(v.t), rt = median(v.ratio), e = relerr(y1);
        const char *mn = v.mode ? "LUT8" : "F32";
        printf("  pqmm %-4s %-12s: %.3f ms (%.2fx sgemv, per-round median), relative error vs W x %.4f\n", mn,
               v.shared ? "shared" : "per-subspace", t * 1e3, rt, e);
        if (v.shared)
            row(std::string("PQ matmul ") + mn + ", shared codebook (ms)", fmt("%.3f", t * 1e3), fmt("%.3f (sgemv)", t_blas * 1e3),
                fmt("%.2fx", rt), ">= 3x sgemv", rt >= 3.0);
        else
            row(std::string("PQ matmul ") + mn + ", per-subspace codebooks (ms)", fmt("%.3f", t * 1e3), fmt("%.3f (sgemv)", t_blas * 1e3),
                fmt("%.2fx", rt), ">= 1.5x sgemv", rt >= 1.5);
    }
    row("PQ matmul size (shared codebook)", fmt("%.1fx smaller", ratio_shared), "", "", "16x", ratio_shared >= 15.9);
    {   // weight sharing for comparison: 16-entry scalar codebook, 4-bit indices
        float cb16[16];
        quant_codebook_train(W.data(), W.size(), 16, NULL, cb16, NULL);
        size_t rb = quant_codebook_row_bytes(4, C);
        std::vector<uint8_t> idx(R * rb);
        for (size_t r = 0; r < R; r++) quant_codebook_encode(W.data() + r * C, C, cb16, 16, 4, idx.data() + r * rb);
        std::vector<unsigned char> cpk(quant_codebook_pack_size(4, R, C));
        quant_codebook_pack(idx.data(), 4, R, C, cb16, 16, cpk.data(), cpk.size());
        double t = median_time(greps, [&] { quant_codebook_gemv(cpk.data(), x.data(), y1.data()); });
        printf("codebook GEMV (16 entries, 4-bit indices, 8x smaller): %.3f ms (%.1fx sgemv), relative error %.4f\n",
               t * 1e3, t_blas / t, relerr(y1));
    }
}

int main(int argc, char **argv) {
    int reps = 5, seeds = 5;
    bool quick = false, pqmm_only = false;
    std::string dir = "/usr/share/datasets/fashion-mnist";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick")) quick = true;
        else if (!strcmp(argv[i], "--pqmm")) pqmm_only = true;
        else if (!strcmp(argv[i], "--seeds") && i + 1 < argc) seeds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--data") && i + 1 < argc) dir = argv[++i];
        else { fprintf(stderr, "usage: %s [--reps N] [--seeds N] [--quick] [--pqmm] [--data DIR]\n", argv[0]); return 2; }
    }
    omp_set_num_threads(1);
    openblas_set_num_threads(1);
    printf("bench_pq: quant %s build (fast-scan lookups %s / %s%s), faiss %d.%d.%d, one thread, medians of %d\n",
           quant_isa_name(), fs_lookup, fs8_lookup,
#if defined(QUANT_HAS_AVX512VBMI)
           ", PQ matmul LUT8 by vpermi2b",
#elif defined(QUANT_HAS_AVX512)
           ", PQ matmul LUT8 by vpshufb rows, F32 by gathers",
#elif defined(QUANT_HAS_AVX2)
           ", PQ matmul LUT8 by vpshufb rows, F32 by scalar loads",
#elif defined(QUANT_HAS_SSE41)
           ", PQ matmul LUT8 by vpshufb rows",
#else
           ", PQ matmul scalar",
#endif
           FAISS_VERSION_MAJOR, FAISS_VERSION_MINOR, FAISS_VERSION_PATCH, reps);

    if (pqmm_only) { // the PQ matmul section alone: no data set, no faiss
        bench_pqmm(reps, quick);
        print_table();
        return 0;
    }
    size_t nb, d, nq, d2;
    std::vector<float> xb = load_images(dir + "/train-images-idx3-ubyte.gz", 0, &nb, &d);
    std::vector<float> xq = load_images(dir + "/t10k-images-idx3-ubyte.gz", 1000, &nq, &d2);
    const size_t K = 10;
    printf("data: Fashion-MNIST, %zu database vectors, %zu queries, d = %zu, k = %zu\n\n", nb, nq, d, K);

    std::vector<int64_t> gt(nq * K);
    {
        std::vector<float> D(nq * K);
        faiss::IndexFlatL2 flat(d);
        flat.add(nb, xb.data());
        double t = once([&] { flat.search(nq, xq.data(), K, D.data(), gt.data()); });
        printf("ground truth: faiss IndexFlatL2, %.2f s\n", t);
    }

    // ------------------------------------------------ PQ M=16 nbits=8
    {
        const size_t M = 16;
        printf("\n== PQ M=%zu nbits=8\n", M);
        faiss::IndexPQ fidx(d, M, 8);
        if (quick) fidx.pq.cp.niter = 5;
        double f_train = once([&] { fidx.train(nb, xb.data()); });
        std::vector<uint8_t> fcodes(nb * fidx.pq.code_size);
        double f_enc = median_time(3, [&] { fidx.pq.compute_codes(xb.data(), fcodes.data(), nb); });
        fidx.add(nb, xb.data());
        std::vector<float> fD(nq * K);
        std::vector<int64_t> fI(nq * K);
        printf("faiss IndexPQ:  train %.2f s, encode %.0f vectors/s\n", f_train, nb / f_enc);

        quant_pq pq;
        std::vector<float> cb(quant_pq_centroids_floats(d, M, 8, 0));
        quant_pq_init(&pq, d, M, 8, 0, cb.data());
        // (k-means++ gives 0.512-0.522 recall here, random init 0.521-0.529)
        quant_kmeans_opts o = faiss_kmeans_opts(quick);
        quant_kmeans_info info;
        quant_status st = QUANT_OK;
        double q_train = once([&] { st = quant_pq_train(&pq, xb.data(), nb, &o, &info); });
        fputc('\n', stderr);
        if (st != QUANT_OK) { printf("quant_pq_train: %s\n", quant_status_str(st)); return 1; }
        std::vector<unsigned char> pk(quant_pq_pack_size(&pq));
        quant_pq_pack(&pq, pk.data(), pk.size());
        std::vector<uint8_t> codes(nb * quant_pq_code_size(&pq));
        double q_enc = median_time(3, [&] { quant_pq_encode(pk.data(), xb.data(), nb, codes.data()); });
        std::vector<unsigned char> ws(quant_pq_search_workspace_size(pk.data()));
        std::vector<float> eD(nq * K), qD(nq * K);
        std::vector<int64_t> eI(nq * K), qI(nq * K);
        // the 8-bit fast scan: 8-bit tables, exact re-ranking (the same results)
        std::vector<uint8_t> fs(quant_pq_fs_size(pk.data(), nb));
        quant_pq_fs_pack(pk.data(), codes.data(), nb, fs.data(), fs.size());
        std::vector<unsigned char> fws(quant_pq_fs_workspace_size(pk.data(), nb, K));
        size_t rr = 0;
        // faiss, the fast scan and the exhaustive scan interleaved, round by round
        std::vector<double> tf, tq, te, rq, re;
        const int rounds = 2 * reps + 1;
        for (int r = 0; r < rounds; r++) {
            tf.push_back(once([&] { fidx.search(nq, xq.data(), K, fD.data(), fI.data()); }));
            tq.push_back(once([&] {
                quant_pq_fs_search(pk.data(), QUANT_METRIC_L2, xq.data(), nq, fs.data(), nb, K, QUANT_FS_EXACT, qI.data(), qD.data(),
                                   fws.data(), fws.size(), &rr);
            }));
            te.push_back(once([&] {
                quant_pq_search(pk.data(), QUANT_METRIC_L2, xq.data(), nq, codes.data(), nb, K, eI.data(), eD.data(), ws.data(), ws.size());
            }));
            rq.push_back(tf.back() / tq.back());
            re.push_back(tf.back() / te.back());
        }
        double f_search = median(tf), q_search = median(tq), q_ex = median(te);
        double f_rec = recall_at(fI, gt, nq, K);
        printf("faiss IndexPQ:  search %.0f queries/s, recall@10 %.3f (%d interleaved rounds, load %s)\n", nq / f_search, f_rec, rounds,
               loadavg().c_str());
        bool same = eI == qI && memcmp(eD.data(), qD.data(), eD.size() * 4) == 0;
        double q_rec = recall_at(qI, gt, nq, K);
        printf("quant PQ:       train %.2f s (random init, %zu points a subspace, %d Lloyd updates in all, objective %.3f), "
               "encode %.0f vectors/s, recall@10 %.3f\n", q_train, info.n_used, info.iterations, info.objective, nb / q_enc, q_rec);
        printf("                search: exhaustive ADC %.0f queries/s; fast scan (8-bit tables by %s, exact re-ranking, "
               "%.0f re-ranked a query) %.0f queries/s, identical results: %s\n",
               nq / q_ex, fs8_lookup, (double)rr / nq, nq / q_search, same ? "yes" : "NO");
        printf("                per-round ratios to faiss (median): fast scan %.2fx, exhaustive %.2fx\n", median(rq), median(re));
        row("PQ16x8 search, fast scan + exact re-rank (queries/s)", fmt("%.0f", nq / q_search), fmt("%.0f", nq / f_search),
            fmt("%.2fx", median(rq)), ">= 1.2x", median(rq) >= 1.2 && same);
        row("PQ16x8 search, exhaustive ADC (queries/s)", fmt("%.0f", nq / q_ex), fmt("%.0f", nq / f_search), fmt("%.2fx", median(re)), "", true);
        row("PQ16x8 recall@10", fmt("%.3f", q_rec), fmt("%.3f", f_rec), "", ">= 0.52", q_rec >= 0.52);
        row("PQ16x8 training (s)", fmt("%.2f", q_train), fmt("%.2f", f_train), fmt("%.2fx", q_train / f_train),
            "<= 0.5x at equal recall", q_train <= 0.5 * f_train && q_rec >= f_rec - 0.005);
        if (seeds > 1) {  // the spread of recall over training seeds (same options)
            double lo = q_rec, hi = q_rec, sum = q_rec, tsum = q_train;
            for (int sd = 1; sd < seeds; sd++) {
                std::vector<float> cb2(cb.size());
                quant_pq p2;
                quant_pq_init(&p2, d, M, 8, 0, cb2.data());
                quant_kmeans_opts o2 = o;
                o2.seed = 1234 + 1000 * (uint64_t)sd;
                o2.progress = NULL;
                double t2 = once([&] { quant_pq_train(&p2, xb.data(), nb, &o2, NULL); });
                std::vector<unsigned char> pk2(quant_pq_pack_size(&p2));
                quant_pq_pack(&p2, pk2.data(), pk2.size());
                quant_pq_encode(pk2.data(), xb.data(), nb, codes.data());
                quant_pq_fs_pack(pk2.data(), codes.data(), nb, fs.data(), fs.size());
                quant_pq_fs_search(pk2.data(), QUANT_METRIC_L2, xq.data(), nq, fs.data(), nb, K, QUANT_FS_EXACT, qI.data(), qD.data(),
                                   fws.data(), fws.size(), NULL);
                double r = recall_at(qI, gt, nq, K);
                lo = std::min(lo, r); hi = std::max(hi, r); sum += r; tsum += t2;
            }
            printf("                over %d training seeds: recall@10 %.3f to %.3f (mean %.3f), training %.2f s on average\n",
                   seeds, lo, hi, sum / seeds, tsum / seeds);
            row(std::string("PQ16x8 recall@10 over ") + fmt("%.0f", (double)seeds) + " training seeds",
                std::string(fmt("%.3f", lo)) + " to " + fmt("%.3f", hi) + " (mean " + fmt("%.3f", sum / seeds) + ")", "", "", ">= 0.52", lo >= 0.52);
        }
        row("PQ16x8 encoding (vectors/s)", fmt("%.0f", nb / q_enc), fmt("%.0f", nb / f_enc), fmt("%.2fx", f_enc / q_enc),
            ">= 2x", f_enc / q_enc >= 2.0);
    }

    // ------------------------------------------------ 4-bit, M=56
    {
        const size_t M = 56;
        printf("\n== PQ M=%zu nbits=4\n", M);
        std::vector<float> fD(nq * K);
        std::vector<int64_t> fI(nq * K);
        faiss::IndexPQ fpq(d, M, 4);
        if (quick) fpq.pq.cp.niter = 5;
        double f_train = once([&] { fpq.train(nb, xb.data()); });
        fpq.add(nb, xb.data());
        double f_pq = median_time(1, [&] { fpq.search(nq, xq.data(), K, fD.data(), fI.data()); });  // slow: once
        double f_pq_rec = recall_at(fI, gt, nq, K);
        faiss::IndexPQFastScan ffs(d, M, 4);
        if (quick) ffs.pq.cp.niter = 5;
        ffs.train(nb, xb.data());
        ffs.add(nb, xb.data());
        double f_fs = median_time(reps, [&] { ffs.search(nq, xq.data(), K, fD.data(), fI.data()); });
        double f_fs_rec = recall_at(fI, gt, nq, K);
        printf("faiss IndexPQ:         train %.2f s, search %.0f queries/s, recall@10 %.3f\n", f_train, nq / f_pq, f_pq_rec);
        printf("faiss IndexPQFastScan: search %.0f queries/s, recall@10 %.3f\n", nq / f_fs, f_fs_rec);

        quant_pq pq;
        std::vector<float> cb(quant_pq_centroids_floats(d, M, 4, 0));
        quant_pq_init(&pq, d, M, 4, 0, cb.data());
        quant_kmeans_opts o = faiss_kmeans_opts(quick);
        quant_kmeans_info info;
        double q_train = once([&] { quant_pq_train(&pq, xb.data(), nb, &o, &info); });
        fputc('\n', stderr);
        std::vector<unsigned char> pk(quant_pq_pack_size(&pq));
        quant_pq_pack(&pq, pk.data(), pk.size());
        std::vector<uint8_t> codes(nb * quant_pq_code_size(&pq));
        double q_enc = median_time(3, [&] { quant_pq_encode(pk.data(), xb.data(), nb, codes.data()); });
        std::vector<uint8_t> fs(quant_pq_fs_size(pk.data(), nb));
        quant_pq_fs_pack(pk.data(), codes.data(), nb, fs.data(), fs.size());
        std::vector<unsigned char> ws(quant_pq_fs_workspace_size(pk.data(), nb, K));
        std::vector<float> qD(nq * K), eD(nq * K);
        std::vector<int64_t> qI(nq * K), eI(nq * K);
        size_t rr = 0;
        double q_fs = median_time(reps, [&] {
            quant_pq_fs_search(pk.data(), QUANT_METRIC_L2, xq.data(), nq, fs.data(), nb, K, QUANT_FS_EXACT, qI.data(), qD.data(),
                               ws.data(), ws.size(), &rr);
        });
        double q_fs_rec = recall_at(qI, gt, nq, K);
        std::vector<unsigned char> ws2(quant_pq_search_workspace_size(pk.data()));
        double q_pq = median_time(reps > 3 ? 3 : reps, [&] {
            quant_pq_search(pk.data(), QUANT_METRIC_L2, xq.data(), nq, codes.data(), nb, K, eI.data(), eD.data(), ws2.data(), ws2.size());
        });
        bool same = eI == qI && memcmp(eD.data(), qD.data(), eD.size() * 4) == 0;
        std::vector<float> aD(nq * K);
        std::vector<int64_t> aI(nq * K);
        double q_ap = median_time(reps, [&] {
            quant_pq_fs_search(pk.data(), QUANT_METRIC_L2, xq.data(), nq, fs.data(), nb, K, QUANT_FS_APPROX, aI.data(), aD.data(),
                               ws.data(), ws.size(), NULL);
        });
        double q_ap_rec = recall_at(aI, gt, nq, K);
        printf("quant PQ:        train %.2f s, encode %.0f vectors/s, exhaustive search %.0f queries/s, recall@10 %.3f\n",
               q_train, nb / q_enc, nq / q_pq, recall_at(eI, gt, nq, K));
        printf("quant fast scan: exact (re-ranked) %.0f queries/s, recall@10 %.3f, %.0f re-ranked a query, "
               "identical to the exhaustive scan: %s\n", nq / q_fs, q_fs_rec, (double)rr / nq, same ? "yes" : "NO");
        printf("quant fast scan: approximate %.0f queries/s, recall@10 %.3f\n", nq / q_ap, q_ap_rec);
        row("PQ56x4 fast scan, exact re-rank (queries/s)", fmt("%.0f", nq / q_fs), fmt("%.0f", nq / f_fs), fmt("%.1fx", f_fs / q_fs),
            ">= 6000 q/s", nq / q_fs >= 6000);
        row("PQ56x4 fast scan recall@10", fmt("%.3f", q_fs_rec), fmt("%.3f", f_fs_rec), "", ">= 0.41", q_fs_rec >= 0.41);
        row("PQ56x4 exhaustive ADC (queries/s)", fmt("%.0f", nq / q_pq), fmt("%.0f", nq / f_pq), fmt("%.1fx", f_pq / q_pq), "", true);
        row("PQ56x4 training (s)", fmt("%.2f", q_train), fmt("%.2f", f_train), fmt("%.2fx", q_train / f_train), "", true);
    }

    // ------------------------------------------------ PQ matmul
    bench_pqmm(reps, quick);

    print_table();
    return 0;
}
