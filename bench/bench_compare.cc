// bench_compare.cc - quant against oneDNN, gemmlowp and OpenBLAS in ONE
// program and ONE run, single thread, with a read-bandwidth probe.
//
//   C[M x N] = (A - a_zp)[M x K, uint8] x W^T  (W: N x K int8, row-major)
//
//   quant     quant_gemm on weights packed once at load (packing not timed)
//   oneDNN    dnnl_gemm_u8s8s32 (row-major, transb = 'T', ao = a_zp, bo = 0);
//             its C API packs both operands inside every call
//   gemmlowp  GemmWithOutputPipeline<uint8, int32, L8R8> with an empty output
//             pipeline: the weights as uint8 W + 128 with rhs offset -128, the
//             activations with lhs offset -a_zp (the same int32 result); it
//             packs inside every call too; single-thread GemmContext
//   sgemm     OpenBLAS cblas_sgemm on the same values as floats (A - a_zp, W),
//             openblas_set_num_threads(1)
//   XNNPACK   xnn_create_fully_connected_nc_qs8 (weights packed once, at
//             create), run without a thread pool: int8 in (A - 128, zero
//             point a_zp - 128), int8 out, its fp32 requantization; exact
//   quant i8  quant_gemm with the same int8 output (QUANT_RQ_FP32, the same
//             float scale): the like-for-like peer of XNNPACK, whose int8
//             outputs must equal it
//
// Every (shape, library) pair is timed in each of many rounds, the libraries
// interleaved (the order rotates every round), and the bandwidth probe runs
// inside every round too; the table reports medians. Before timing, each
// library's result is checked against quant's at every shape (int32: equal;
// sgemm: within a float tolerance), and on adversarial data against the
// scalar reference quant_ref_gemm_i32.
//
// Usage: bench_compare [--rounds N] [--sample-ms T] [--quick] [--weights sym|full]
//                      [--act full|7bit]
//   --weights sym (default): weights in -127..127, as symmetric int8
//             quantization makes them; full: -128..127. On SSE4.1 / AVX2 /
//             AVX-512 without VNNI quant packs the two for different kernels.
//   --act full (default): activations 0..255, a_zp 128; 7bit: 0..127, a_zp
//             64 (PyTorch's reduce_range), which quant detects per call.
// Run it single-threaded: taskset -c 1, OMP_NUM_THREADS=1 (oneDNN uses
// OpenMP), OPENBLAS_NUM_THREADS=1; `make bench-compare` does this.
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"

#include <dnnl.h>
#include <gemmlowp/public/gemmlowp.h>
#include <cblas.h>
#include <xnnpack.h>
#include <cpuinfo.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <sched.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#ifndef BENCH_FLAGS
#define BENCH_FLAGS "(not recorded)"
#endif

namespace {

// ------------------------------------------------------------ utilities

struct Free {
    void operator()(void *p) const { std::free(p); }
};
template <class T>
using Buf = std::unique_ptr<T[], Free>;
template <class T>
Buf<T> alloc(size_t n) {
    size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
    void *p = std::aligned_alloc(64, bytes ? bytes : 64);
    if (!p) { std::fprintf(stderr, "out of memory\n"); std::exit(1); }
    std::memset(p, 0, bytes ? bytes : 64);
    return Buf<T>(static_cast<T *>(p));
}

bool g_wfull = false, g_a7 = false; // --weights full, --act 7bit

struct Rng { // splitmix64
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed) {}
    uint64_t next() {
        uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    void fill(void *p, size_t n) {
        unsigned char *b = static_cast<unsigned char *>(p);
        size_t i = 0;
        for (; i + 8 <= n; i += 8) { uint64_t v = next(); std::memcpy(b + i, &v, 8); }
        for (; i < n; i++) b[i] = (unsigned char)next();
    }
};

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double thread_cpu_s() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double quantile(std::vector<double> v, double q) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    double pos = q * (double)(v.size() - 1);
    size_t i = (size_t)pos;
    double f = pos - (double)i;
    return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}
double median(const std::vector<double> &v) { return quantile(v, 0.5); }

// ------------------------------------------------------------ the problem

enum Lib { L_QUANT = 0, L_DNNL, L_GEMMLOWP, L_SGEMM, L_QUANT8, L_XNN, NLIB };
const char *lib_name[NLIB] = {"quant", "oneDNN", "gemmlowp", "OpenBLAS sgemm", "quant i8", "XNNPACK"};
bool lib_wrong[NLIB]; // a result differed from the exact product somewhere

struct Problem {
    size_t M, N, K;
    int32_t a_zp;
    Buf<uint8_t> A;            // M x K
    Buf<int8_t> W;             // N x K
    Buf<uint8_t> Wu8;          // N x K, W + 128 (gemmlowp)
    Buf<float> Af, Wf;         // A - a_zp and W as floats (sgemm)
    Buf<unsigned char> packed; // quant's packed W
    Buf<int32_t> C[3];         // quant, oneDNN, gemmlowp
    Buf<float> Cf;
    gemmlowp::GemmContext glp;
    // int8 output (quant i8 and XNNPACK): C8[0] quant, C8[1] XNNPACK
    Buf<int8_t> As8;           // M x K, A - 128 (XNNPACK's signed input)
    Buf<int8_t> C8[2];
    float rq_scale = 1.0f;     // acc -> int8 output scale, float as XNNPACK computes it
    quant_requant rq;
    xnn_operator_t xop = nullptr;

    Problem(size_t m, size_t n, size_t k, int32_t zp) : M(m), N(n), K(k), a_zp(zp) {
        A = alloc<uint8_t>(M * K);
        W = alloc<int8_t>(N * K);
        Wu8 = alloc<uint8_t>(N * K);
        Af = alloc<float>(M * K);
        Wf = alloc<float>(N * K);
        for (int i = 0; i < 3; i++) C[i] = alloc<int32_t>(M * N);
        Cf = alloc<float>(M * N);
        As8 = alloc<int8_t>(M * K);
        for (int i = 0; i < 2; i++) C8[i] = alloc<int8_t>(M * N);
        glp.set_max_num_threads(1);
    }
    ~Problem() { if (xop) xnn_delete_operator(xop); }
    Problem(const Problem &) = delete;
    Problem &operator=(const Problem &) = delete;
    void random(uint64_t seed) {
        Rng r(seed);
        r.fill(A.get(), M * K);
        r.fill(W.get(), N * K);
        if (g_a7) for (size_t i = 0; i < M * K; i++) A[i] &= 127;
        if (!g_wfull) for (size_t i = 0; i < N * K; i++) W[i] = (int8_t)((uint8_t)W[i] % 255 - 127);
        derive();
    }
    // After A and W are set: the other libraries' copies, and the packing.
    void derive() {
        for (size_t i = 0; i < N * K; i++) {
            Wu8[i] = (uint8_t)(W[i] + 128);
            Wf[i] = (float)W[i];
        }
        for (size_t i = 0; i < M * K; i++) Af[i] = (float)((int32_t)A[i] - a_zp);
        for (size_t i = 0; i < M * K; i++) As8[i] = (int8_t)(A[i] ^ 0x80);
        // int8 output: the accumulators' spread (uniform u8 - 128 times uniform
        // s8: 73.9^2 sqrt(K)) onto about 40 output steps
        float out_scale = (float)(73.9 * 73.9 * std::sqrt((double)K) / 40.0);
        rq_scale = 1.0f * 1.0f / out_scale; // input_scale * kernel_scale / output_scale, in float
        if (quant_requant_from_scale((double)rq_scale, &rq) != QUANT_OK || rq.scale != rq_scale) {
            std::fprintf(stderr, "quant_requant_from_scale failed\n");
            std::exit(1);
        }
        if (xop) xnn_delete_operator(xop);
        xop = nullptr;
        if (xnn_create_fully_connected_nc_qs8(K, N, K, N, (int8_t)(a_zp - 128), 1.0f, 1.0f, W.get(), nullptr, 0,
                                              out_scale, -128, 127, 0, &xop) != xnn_status_success ||
            xnn_setup_fully_connected_nc_qs8(xop, M, As8.get(), C8[1].get(), nullptr) != xnn_status_success) {
            std::fprintf(stderr, "XNNPACK: creating the qs8 fully connected operator failed\n");
            std::exit(1);
        }
        size_t bytes = quant_gemm_pack_size(K, N);
        packed = alloc<unsigned char>(bytes);
        if (quant_gemm_pack(W.get(), QUANT_LAYOUT_NK, K, N, 0, packed.get(), bytes) != QUANT_OK) {
            std::fprintf(stderr, "quant_gemm_pack failed\n");
            std::exit(1);
        }
    }
    void run(Lib lib) {
        switch (lib) {
        case L_QUANT: {
            quant_epilogue ep;
            std::memset(&ep, 0, sizeof ep);
            ep.out = QUANT_OUT_I32;
            if (quant_gemm(M, A.get(), 0, K, a_zp, packed.get(), &ep, C[0].get(), N) != QUANT_OK) {
                std::fprintf(stderr, "quant_gemm failed\n");
                std::exit(1);
            }
        } break;
        case L_DNNL: {
            int32_t co = 0;
            if (dnnl_gemm_u8s8s32('N', 'T', 'F', (dnnl_dim_t)M, (dnnl_dim_t)N, (dnnl_dim_t)K, 1.0f, A.get(),
                                  (dnnl_dim_t)K, (uint8_t)a_zp, W.get(), (dnnl_dim_t)K, 0, 0.0f, C[1].get(),
                                  (dnnl_dim_t)N, &co) != dnnl_success) {
                std::fprintf(stderr, "dnnl_gemm_u8s8s32 failed\n");
                std::exit(1);
            }
        } break;
        case L_GEMMLOWP: {
            gemmlowp::MatrixMap<const uint8_t, gemmlowp::MapOrder::RowMajor> lhs(A.get(), (int)M, (int)K, (int)K);
            gemmlowp::MatrixMap<const uint8_t, gemmlowp::MapOrder::ColMajor> rhs(Wu8.get(), (int)K, (int)N, (int)K);
            gemmlowp::MatrixMap<int32_t, gemmlowp::MapOrder::RowMajor> res(C[2].get(), (int)M, (int)N, (int)N);
            gemmlowp::GemmWithOutputPipeline<uint8_t, int32_t, gemmlowp::DefaultL8R8BitDepthParams>(
                &glp, lhs, rhs, &res, -a_zp, -128, std::make_tuple());
        } break;
        case L_SGEMM:
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)N, (int)K, 1.0f, Af.get(), (int)K,
                        Wf.get(), (int)K, 0.0f, Cf.get(), (int)N);
            break;
        case L_QUANT8: {
            quant_epilogue ep;
            std::memset(&ep, 0, sizeof ep);
            ep.out = QUANT_OUT_I8;
            ep.mode = QUANT_RQ_FP32;
            ep.rq = &rq;
            ep.out_zp = 0; ep.out_min = -128; ep.out_max = 127;
            if (quant_gemm(M, A.get(), 0, K, a_zp, packed.get(), &ep, C8[0].get(), N) != QUANT_OK) {
                std::fprintf(stderr, "quant_gemm (int8 out) failed\n");
                std::exit(1);
            }
        } break;
        case L_XNN:
            if (xnn_run_operator(xop, nullptr) != xnn_status_success) {
                std::fprintf(stderr, "xnn_run_operator failed\n");
                std::exit(1);
            }
            break;
        default: break;
        }
    }
    int32_t ref(size_t m, size_t n) const {
        int32_t acc = 0;
        for (size_t k = 0; k < K; k++) acc += ((int32_t)A[m * K + k] - a_zp) * (int32_t)W[n * K + k];
        return acc;
    }
    std::string shape() const {
        return std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K);
    }
    double ops() const { return 2.0 * (double)M * (double)N * (double)K; }
};

// Compares oneDNN, gemmlowp and sgemm with quant (run() must have been called
// for every library). Returns the number of failures.
int check_against_quant(Problem &p, const char *what) {
    int fails = 0;
    size_t total = p.M * p.N;
    for (int l = L_DNNL; l <= L_GEMMLOWP; l++) {
        size_t bad = 0, first = 0, checked = 0, quant_wrong = 0, other_wrong = 0;
        for (size_t i = 0; i < total; i++)
            if (p.C[l][i] != p.C[0][i]) {
                if (!bad) first = i;
                bad++;
                if (checked < 2000) { // who is right: the plain dot product decides
                    int32_t r = p.ref(i / p.N, i % p.N);
                    checked++;
                    if (r != p.C[0][i]) quant_wrong++;
                    if (r != p.C[l][i]) other_wrong++;
                }
            }
        if (bad) {
            size_t m = first / p.N, n = first % p.N;
            std::printf("  %-9s %-16s %-9s DIFFERS from quant in %zu of %zu: first (%zu,%zu) quant %d, %s %d, "
                        "reference %d; of %zu checked, quant wrong in %zu, %s wrong in %zu\n", what,
                        p.shape().c_str(), lib_name[l], bad, total, m, n, p.C[0][first], lib_name[l], p.C[l][first],
                        p.ref(m, n), checked, quant_wrong, lib_name[l], other_wrong);
            if (quant_wrong) fails++;
            if (other_wrong) lib_wrong[l] = true;
        } else {
            std::printf("  %-9s %-16s %-9s == quant (all %zu int32 values)\n", what, p.shape().c_str(), lib_name[l], total);
        }
    }
    // sgemm: every term is an integer multiple of 1; with |terms| <= 32640 the
    // float sum is exact while partial sums stay below 2^24, and otherwise the
    // error is a few ulps of the partial sums.
    double maxd = 0, tol = 1e-6 * 32640.0 * (double)p.K;
    size_t bad = 0;
    for (size_t i = 0; i < total; i++) {
        double d = std::fabs((double)p.Cf[i] - (double)p.C[0][i]);
        if (d > maxd) maxd = d;
        if (d > tol) bad++;
    }
    std::printf("  %-9s %-16s %-9s %s quant: max |diff| %.3g (tolerance %.3g)\n", what, p.shape().c_str(), "sgemm",
                bad ? "DIFFERS from" : "~=", maxd, tol);
    if (bad) lib_wrong[L_SGEMM] = true;
    // int8 outputs: quant i8 against the plain formula on quant's exact int32
    // (round half to even of the float product, clamp), XNNPACK against quant i8
    {
        size_t qb = 0, xb = 0, first = 0;
        for (size_t i = 0; i < total; i++) {
            float v = std::nearbyint((float)p.C[0][i] * p.rq_scale);
            int want = v < -128.0f ? -128 : v > 127.0f ? 127 : (int)v;
            if (p.C8[0][i] != want) qb++;
            if (p.C8[1][i] != p.C8[0][i]) { if (!xb) first = i; xb++; }
        }
        if (qb) {
            std::printf("  %-9s %-16s quant i8 DIFFERS from the fp32 requantization of the exact int32 in %zu of %zu\n",
                        what, p.shape().c_str(), qb, total);
            fails++;
        }
        if (xb) {
            std::printf("  %-9s %-16s %-9s DIFFERS from quant i8 in %zu of %zu int8 outputs: first (%zu,%zu) quant %d, "
                        "XNNPACK %d\n", what, p.shape().c_str(), "XNNPACK", xb, total, first / p.N, first % p.N,
                        p.C8[0][first], p.C8[1][first]);
            lib_wrong[L_XNN] = true;
        } else {
            std::printf("  %-9s %-16s %-9s == quant i8 (all %zu int8 values; quant i8 == the requantized exact product)\n",
                        what, p.shape().c_str(), "XNNPACK", total);
        }
    }
    // quant itself against the plain dot product on sampled entries.
    Rng r(7);
    size_t qbad = 0;
    for (int t = 0; t < 256; t++) {
        size_t m = r.next() % p.M, n = r.next() % p.N;
        if (p.ref(m, n) != p.C[0][m * p.N + n]) qbad++;
    }
    if (qbad) {
        std::printf("  %-9s %-16s quant DIFFERS from the plain dot product in %zu of 256 sampled entries\n", what,
                    p.shape().c_str(), qbad);
        fails++;
    }
    return fails;
}

// Adversarial data against the scalar reference quant_ref_gemm_i32.
int check_adversarial(size_t M, size_t N, size_t K) {
    int fails = 0;
    struct Pattern { const char *name; int32_t a_zp; };
    const Pattern pats[] = {{"A=255,W=-128,zp=0", 0}, {"A=255,W=127,zp=0", 0}, {"alt. extremes,zp=0", 0},
                            {"random,zp=255", 255}, {"A=0,W=-128,zp=255", 255}};
    for (size_t pi = 0; pi < sizeof pats / sizeof pats[0]; pi++) {
        Problem p(M, N, K, pats[pi].a_zp);
        Rng r(1000 + pi);
        for (size_t i = 0; i < M * K; i++) {
            switch (pi) {
            case 0: case 1: p.A[i] = 255; break;
            case 2: p.A[i] = (i % K) % 2 ? 0 : 255; break;
            case 3: p.A[i] = (uint8_t)r.next(); break;
            default: p.A[i] = 0; break;
            }
        }
        for (size_t i = 0; i < N * K; i++) {
            switch (pi) {
            case 0: case 4: p.W[i] = -128; break;
            case 1: p.W[i] = 127; break;
            case 2: p.W[i] = ((i / K) + (i % K) / 2) % 2 ? 127 : -128; break;
            default: p.W[i] = (int8_t)r.next(); break;
            }
        }
        p.derive();
        for (int l = 0; l < NLIB; l++) p.run((Lib)l);
        std::vector<int32_t> ref(M * N);
        // quant_ref_gemm_i32 wants B as K x N: transpose W.
        std::vector<int8_t> B(K * N);
        for (size_t n = 0; n < N; n++)
            for (size_t k = 0; k < K; k++) B[k * N + n] = p.W[n * K + k];
        quant_ref_gemm_i32(M, N, K, p.A.get(), 0, K, p.a_zp, B.data(), N, 0, ref.data(), N);
        for (int l = 0; l < 3; l++) {
            size_t bad = 0, first = 0;
            for (size_t i = 0; i < M * N; i++)
                if (p.C[l][i] != ref[i]) { if (!bad) first = i; bad++; }
            if (bad) {
                std::printf("  adversarial %-20s %s: %-9s DIFFERS from quant_ref_gemm_i32 in %zu of %zu: first (%zu,%zu) "
                            "%d vs reference %d\n", pats[pi].name, p.shape().c_str(), lib_name[l], bad, M * N,
                            first / N, first % N, p.C[l][first], ref[first]);
                if (l == L_QUANT) fails++;
                else lib_wrong[l] = true;
            }
        }
        size_t q8bad = 0, x8bad = 0;
        for (size_t i = 0; i < M * N; i++) {
            float v = std::nearbyint((float)ref[i] * p.rq_scale);
            int want = v < -128.0f ? -128 : v > 127.0f ? 127 : (int)v;
            q8bad += p.C8[0][i] != want;
            x8bad += p.C8[1][i] != want;
        }
        if (q8bad) {
            std::printf("  adversarial %-20s %s: quant i8 DIFFERS from the requantized reference in %zu of %zu\n",
                        pats[pi].name, p.shape().c_str(), q8bad, M * N);
            fails++;
        }
        if (x8bad) lib_wrong[L_XNN] = true;
        std::printf("  adversarial %-20s %s: int8 out: quant i8 %s, XNNPACK %s the requantized reference\n",
                    pats[pi].name, p.shape().c_str(), q8bad ? "!=" : "==", x8bad ? "!=" : "==");
        double maxd = 0;
        for (size_t i = 0; i < M * N; i++) maxd = std::max(maxd, std::fabs((double)p.Cf[i] - (double)ref[i]));
        std::printf("  adversarial %-20s %s: quant %s reference; oneDNN %s; gemmlowp %s; sgemm max |diff| %.3g\n",
                    pats[pi].name, p.shape().c_str(),
                    std::equal(ref.begin(), ref.end(), p.C[0].get()) ? "==" : "!=",
                    std::equal(ref.begin(), ref.end(), p.C[1].get()) ? "==" : "!=",
                    std::equal(ref.begin(), ref.end(), p.C[2].get()) ? "==" : "!=", maxd);
    }
    return fails;
}

// ------------------------------------------------------------ bandwidth probe

#if defined(__AVX512F__)
uint64_t read_sum(const void *buf, size_t bytes) { // bytes: multiple of 512
    const __m512i *p = (const __m512i *)buf;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (size_t i = 0; i < bytes / 64; i += 8) {
        a0 = _mm512_add_epi64(a0, _mm512_load_si512(p + i + 0));
        a1 = _mm512_add_epi64(a1, _mm512_load_si512(p + i + 1));
        a2 = _mm512_add_epi64(a2, _mm512_load_si512(p + i + 2));
        a3 = _mm512_add_epi64(a3, _mm512_load_si512(p + i + 3));
        a4 = _mm512_add_epi64(a4, _mm512_load_si512(p + i + 4));
        a5 = _mm512_add_epi64(a5, _mm512_load_si512(p + i + 5));
        a6 = _mm512_add_epi64(a6, _mm512_load_si512(p + i + 6));
        a7 = _mm512_add_epi64(a7, _mm512_load_si512(p + i + 7));
    }
    a0 = _mm512_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3)),
                          _mm512_add_epi64(_mm512_add_epi64(a4, a5), _mm512_add_epi64(a6, a7)));
    uint64_t t[8];
    _mm512_storeu_si512((void *)t, a0);
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
const char *probe_kind = "AVX-512 loads";
#elif defined(__AVX2__)
uint64_t read_sum(const void *buf, size_t bytes) {
    const __m256i *p = (const __m256i *)buf;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (size_t i = 0; i < bytes / 32; i += 8) {
        a0 = _mm256_add_epi64(a0, _mm256_load_si256(p + i + 0));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256(p + i + 1));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256(p + i + 2));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256(p + i + 3));
        a4 = _mm256_add_epi64(a4, _mm256_load_si256(p + i + 4));
        a5 = _mm256_add_epi64(a5, _mm256_load_si256(p + i + 5));
        a6 = _mm256_add_epi64(a6, _mm256_load_si256(p + i + 6));
        a7 = _mm256_add_epi64(a7, _mm256_load_si256(p + i + 7));
    }
    a0 = _mm256_add_epi64(_mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)),
                          _mm256_add_epi64(_mm256_add_epi64(a4, a5), _mm256_add_epi64(a6, a7)));
    uint64_t t[4];
    _mm256_storeu_si256((__m256i *)t, a0);
    return t[0] + t[1] + t[2] + t[3];
}
const char *probe_kind = "AVX2 loads";
#else
uint64_t read_sum(const void *buf, size_t bytes) {
    const uint64_t *p = (const uint64_t *)buf;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i < bytes / 8; i += 4) { s0 += p[i]; s1 += p[i + 1]; s2 += p[i + 2]; s3 += p[i + 3]; }
    return s0 + s1 + s2 + s3;
}
const char *probe_kind = "scalar loads";
#endif

struct Probe {
    const char *name;
    size_t bytes;
    Buf<unsigned char> buf;
    int reps = 1;
    std::vector<double> gbs;
};
volatile uint64_t probe_sink;

double probe_once(Probe &pr) {
    double t0 = now_s();
    uint64_t s = 0;
    for (int r = 0; r < pr.reps; r++) {
        s += read_sum(pr.buf.get(), pr.bytes);
        __asm__ volatile("" ::: "memory"); // the buffer may have changed: read it again
    }
    double t = now_s() - t0;
    probe_sink = s;
    return (double)pr.bytes * pr.reps / t * 1e-9;
}

// ------------------------------------------------------------ VNNI peak probe

#if defined(__AVX512VNNI__) && defined(__AVX512F__)
// 12 independent VPDPBUSD zmm chains: 64 u8 x s8 products each = 128 ops.
// Written as an asm loop: in C, GCC merges twelve identical chains into one
// (the probe then reported 12x one chain's latency-bound rate).
double vnni_peak_gops() {
    const long iters = 1000000;
    long n = iters;
    double t0 = now_s();
    __asm__ volatile(
        "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"
        "vpternlogd $0xff, %%zmm12, %%zmm12, %%zmm12\n\t"
        "vpabsb %%zmm12, %%zmm13\n\t"
        "1:\n\t"
        "vpdpbusd %%zmm13, %%zmm12, %%zmm0\n\t"
            "vpdpbusd %%zmm13, %%zmm12, %%zmm1\n\t"
            "vpdpbusd %%zmm13, %%zmm12, %%zmm2\n\t"
            "vpdpbusd %%zmm13, %%zmm12, %%zmm3\n\t"
            "vpdpbusd %%zmm13, %%zmm12, %%zmm4\n\t"
            "vpdpbusd %%zmm13, %%zmm12, %%zmm5\n\t"
            "vpdpbusd %%zmm13, %%zmm12, %%zmm6\n\t"
            "vpdpbusd %%zmm13, %%zmm12, %%zmm7\n\t"
            "vpdpbusd %%zmm13, %%zmm12, %%zmm8\n\t"
            "vpdpbusd %%zmm13, %%zmm12, %%zmm9\n\t"
            "vpdpbusd %%zmm13, %%zmm12, %%zmm10\n\t"
            "vpdpbusd %%zmm13, %%zmm12, %%zmm11\n\t"
            "dec %[n]\n\t"
        "jnz 1b\n\t"
        : [n] "+r"(n)
        :
        : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
          "xmm11", "xmm12", "xmm13");
    double el = now_s() - t0;
    return 12.0 * 128.0 * (double)iters / el * 1e-9;
}
#endif

#if defined(__AVX2__) && !defined(__AVX512VNNI__)
// The AVX2 int8 bounds (asm loops, as above). vpmaddwd ymm: 16 pairs of
// 16-bit products summed = 32 ops (products and adds counted as int8-widened
// multiply-adds), 12 independent chains. The vpmaddubsw -> vpmaddwd (ones) ->
// vpaddd chain: 32 u8 x s8 products and their sums into 8 int32 = 64 ops,
// 6 independent accumulators (the form an exact vpmaddubsw kernel runs).
double maddwd_peak_gops() {
    const long iters = 1000000;
    long n = iters;
    double t0 = now_s();
    __asm__ volatile(
        "vpcmpeqd %%ymm12, %%ymm12, %%ymm12\n\t"
        "vpabsb %%ymm12, %%ymm13\n\t"
        "1:\n\t"
        "vpmaddwd %%ymm13, %%ymm12, %%ymm0\n\t"
            "vpmaddwd %%ymm13, %%ymm12, %%ymm1\n\t"
            "vpmaddwd %%ymm13, %%ymm12, %%ymm2\n\t"
            "vpmaddwd %%ymm13, %%ymm12, %%ymm3\n\t"
            "vpmaddwd %%ymm13, %%ymm12, %%ymm4\n\t"
            "vpmaddwd %%ymm13, %%ymm12, %%ymm5\n\t"
            "vpmaddwd %%ymm13, %%ymm12, %%ymm6\n\t"
            "vpmaddwd %%ymm13, %%ymm12, %%ymm7\n\t"
            "vpmaddwd %%ymm13, %%ymm12, %%ymm8\n\t"
            "vpmaddwd %%ymm13, %%ymm12, %%ymm9\n\t"
            "vpmaddwd %%ymm13, %%ymm12, %%ymm10\n\t"
            "vpmaddwd %%ymm13, %%ymm12, %%ymm11\n\t"
            "dec %[n]\n\t"
        "jnz 1b\n\t"
        : [n] "+r"(n)
        :
        : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
          "xmm11", "xmm12", "xmm13");
    double el = now_s() - t0;
    return 12.0 * 32.0 * (double)iters / el * 1e-9;
}
double maddubs_chain_gops() {
    const long iters = 1000000;
    long n = iters;
    double t0 = now_s();
    __asm__ volatile(
        "vpcmpeqd %%ymm12, %%ymm12, %%ymm12\n\t"
        "vpabsb %%ymm12, %%ymm13\n\t"
        "vpabsw %%ymm12, %%ymm14\n\t"
        "vpxor %%ymm0, %%ymm0, %%ymm0\n\t"
        "1:\n\t"
        "vpmaddubsw %%ymm12, %%ymm13, %%ymm6\n\t"
            "vpmaddubsw %%ymm12, %%ymm13, %%ymm7\n\t"
            "vpmaddubsw %%ymm12, %%ymm13, %%ymm8\n\t"
            "vpmaddubsw %%ymm12, %%ymm13, %%ymm9\n\t"
            "vpmaddubsw %%ymm12, %%ymm13, %%ymm10\n\t"
            "vpmaddubsw %%ymm12, %%ymm13, %%ymm11\n\t"
            "vpmaddwd %%ymm14, %%ymm6, %%ymm6\n\t"
            "vpmaddwd %%ymm14, %%ymm7, %%ymm7\n\t"
            "vpmaddwd %%ymm14, %%ymm8, %%ymm8\n\t"
            "vpmaddwd %%ymm14, %%ymm9, %%ymm9\n\t"
            "vpmaddwd %%ymm14, %%ymm10, %%ymm10\n\t"
            "vpmaddwd %%ymm14, %%ymm11, %%ymm11\n\t"
            "vpaddd %%ymm6, %%ymm0, %%ymm0\n\t"
            "vpaddd %%ymm7, %%ymm1, %%ymm1\n\t"
            "vpaddd %%ymm8, %%ymm2, %%ymm2\n\t"
            "vpaddd %%ymm9, %%ymm3, %%ymm3\n\t"
            "vpaddd %%ymm10, %%ymm4, %%ymm4\n\t"
            "vpaddd %%ymm11, %%ymm5, %%ymm5\n\t"
            "dec %[n]\n\t"
        "jnz 1b\n\t"
        : [n] "+r"(n)
        :
        : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
          "xmm11", "xmm12", "xmm13", "xmm14");
    double el = now_s() - t0;
    return 6.0 * 64.0 * (double)iters / el * 1e-9;
}
#endif

std::string cpu_model() {
    FILE *f = std::fopen("/proc/cpuinfo", "r");
    if (!f) return "?";
    char line[512];
    std::string model = "?", fam, mod;
    while (std::fgets(line, sizeof line, f)) {
        std::string s(line);
        auto val = [&] { std::string v = s.substr(s.find(':') + 1); v.erase(0, v.find_first_not_of(" \t")); v.erase(v.find_last_not_of(" \n") + 1); return v; };
        if (s.rfind("model name", 0) == 0 && model == "?") model = val();
        else if (s.rfind("cpu family", 0) == 0 && fam.empty()) fam = val();
        else if (s.rfind("model\t", 0) == 0 && mod.empty()) mod = val();
    }
    std::fclose(f);
    return model + " (family " + fam + ", model " + mod + ")";
}

const char *isa_name(dnnl_cpu_isa_t isa) {
    switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
    }
}

const char *env(const char *n) {
    const char *v = std::getenv(n);
    return v ? v : "(unset)";
}

} // namespace

int main(int argc, char **argv) {
    int rounds = 61;
    double sample_ms = 15.0;
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--sample-ms") && i + 1 < argc) sample_ms = std::atof(argv[++i]);
        else if (!std::strcmp(argv[i], "--quick")) { quick = true; rounds = 5; sample_ms = 5; }
        else if (!std::strcmp(argv[i], "--weights") && i + 1 < argc && !std::strcmp(argv[i + 1], "full")) { g_wfull = true; i++; }
        else if (!std::strcmp(argv[i], "--weights") && i + 1 < argc && !std::strcmp(argv[i + 1], "sym")) { g_wfull = false; i++; }
        else if (!std::strcmp(argv[i], "--act") && i + 1 < argc && !std::strcmp(argv[i + 1], "7bit")) { g_a7 = true; i++; }
        else if (!std::strcmp(argv[i], "--act") && i + 1 < argc && !std::strcmp(argv[i + 1], "full")) { g_a7 = false; i++; }
        else {
            std::fprintf(stderr, "bench_compare: unknown or incomplete argument '%s'\n"
                         "usage: %s [--rounds N] [--sample-ms T] [--quick] [--weights sym|full] [--act full|7bit]\n", argv[i], argv[0]);
            return 2;
        }
    }
    openblas_set_num_threads(1);
#if !defined(__AVX512F__)
    // The AVX2 build: XNNPACK picks its kernels from cpuinfo at
    // xnn_initialize; clearing the AVX-512 flags first limits it to AVX2, as
    // DNNL_MAX_CPU_ISA and OPENBLAS_CORETYPE limit the others.
    if (!cpuinfo_initialize()) {
        std::fprintf(stderr, "cpuinfo_initialize failed\n");
        return 1;
    }
    const bool xnn_limited = cpuinfo_isa.avx512f;
    cpuinfo_isa.avx512f = cpuinfo_isa.avx512pf = cpuinfo_isa.avx512er = cpuinfo_isa.avx512cd = false;
    cpuinfo_isa.avx512dq = cpuinfo_isa.avx512bw = cpuinfo_isa.avx512vl = cpuinfo_isa.avx512ifma = false;
    cpuinfo_isa.avx512vbmi = cpuinfo_isa.avx512vbmi2 = cpuinfo_isa.avx512bitalg = false;
    cpuinfo_isa.avx512vpopcntdq = cpuinfo_isa.avx512vnni = cpuinfo_isa.avx512bf16 = false;
    cpuinfo_isa.avx512vp2intersect = cpuinfo_isa.avx512_4vnniw = cpuinfo_isa.avx512_4fmaps = false;
    const char *xnn_isa = xnn_limited ? "limited to AVX2 (cpuinfo's AVX-512 flags cleared before xnn_initialize)"
                                      : "this CPU's best (it has no AVX-512)";
#else
    const char *xnn_isa = "this CPU's best, chosen by cpuinfo";
#endif
    if (xnn_initialize(nullptr) != xnn_status_success) {
        std::fprintf(stderr, "xnn_initialize failed\n");
        return 1;
    }

    cpu_set_t cs;
    CPU_ZERO(&cs);
    int ncpu = sched_getaffinity(0, sizeof cs, &cs) == 0 ? CPU_COUNT(&cs) : -1;
    time_t tnow = time(nullptr);
    char date[64];
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&tnow));
    const dnnl_version_t *dv = dnnl_version();

    std::printf("bench_compare  %s\n", date);
    std::printf("cpu            %s; affinity: %d cpu(s)\n", cpu_model().c_str(), ncpu);
    std::printf("compiler       %s, flags: %s\n", __VERSION__, BENCH_FLAGS);
    std::printf("quant          isa %s (tile n %zu)\n", quant_isa_name(), quant_gemm_tile_n());
    std::printf("oneDNN         %d.%d.%d, effective isa %s; DNNL_MAX_CPU_ISA=%s OMP_NUM_THREADS=%s\n", dv->major,
                dv->minor, dv->patch, isa_name(dnnl_get_effective_cpu_isa()), env("DNNL_MAX_CPU_ISA"),
                env("OMP_NUM_THREADS"));
#if defined(GEMMLOWP_AVX2_64)
    const char *glk = "AVX2_64_Kernel24x8Depth2";
#elif defined(GEMMLOWP_SSE4_64)
    const char *glk = "SSE4_64_Kernel12x4Depth2";
#else
    const char *glk = "reference/other";
#endif
    std::printf("gemmlowp       kernel %s, 1 thread\n", glk);
    std::printf("OpenBLAS       core %s (%s); OPENBLAS_CORETYPE=%s, 1 thread\n", openblas_get_corename(),
                openblas_get_config(), env("OPENBLAS_CORETYPE"));
    std::printf("XNNPACK        qs8 fully connected, no thread pool; kernels: %s\n", xnn_isa);
    std::printf("timing         %d rounds, samples of >= %.0f ms, libraries interleaved, medians\n", rounds, sample_ms);
    if (ncpu != 1) std::printf("WARNING: not pinned to one cpu (use taskset -c 1)\n");
    std::fflush(stdout);

    static const size_t shapes[][3] = {
        {1, 4096, 4096}, {1, 1024, 1024}, {16, 1024, 1024}, {64, 1024, 1024},
        {256, 256, 256}, {1024, 1024, 1024}, {2048, 2048, 2048},
    };
    const size_t nshapes = sizeof shapes / sizeof shapes[0];
    std::vector<std::unique_ptr<Problem>> probs;
    for (size_t s = 0; s < nshapes; s++) {
        probs.emplace_back(new Problem(shapes[s][0], shapes[s][1], shapes[s][2], g_a7 ? 64 : 128));
        probs.back()->random(0xC0FFEE + s);
    }

    // Correctness: every library's result against quant's, every shape.
    std::printf("\ncorrectness (random u8 activations %s; random s8 weights %s)\n",
                g_a7 ? "0..127, a_zp 64 (--act 7bit)" : "0..255, a_zp 128",
                g_wfull ? "-128..127 (--weights full)" : "-127..127 (symmetric)");
    int fails = 0;
    for (auto &p : probs) {
        for (int l = 0; l < NLIB; l++) p->run((Lib)l);
        fails += check_against_quant(*p, "random");
    }
    std::printf("correctness on adversarial data, against the scalar reference quant_ref_gemm_i32\n");
    fails += check_adversarial(16, 1024, 1024);
    fails += check_adversarial(1, 1024, 1024);
    std::fflush(stdout);

    // Calibration: calls per sample so that a sample takes >= sample_ms.
    std::vector<std::vector<int>> reps(nshapes, std::vector<int>(NLIB, 1));
    for (size_t s = 0; s < nshapes; s++)
        for (int l = 0; l < NLIB; l++) {
            Problem &p = *probs[s];
            p.run((Lib)l);
            double t0 = now_s();
            int n = 0;
            do { p.run((Lib)l); n++; } while (now_s() - t0 < 0.25e-3 * sample_ms && n < 100000);
            double per = (now_s() - t0) / n;
            reps[s][l] = std::max(1, (int)std::ceil(sample_ms * 1e-3 / per));
        }

    Probe probes[3];
    probes[0].name = "L2 (1 MiB)";
    probes[0].bytes = (size_t)1 << 20;
    probes[1].name = "L3 (16 MiB)";
    probes[1].bytes = (size_t)16 << 20;
    probes[2].name = "DRAM (512 MiB)";
    probes[2].bytes = (size_t)512 << 20;
    for (auto &pr : probes) {
        pr.buf = alloc<unsigned char>(pr.bytes);
        Rng(5).fill(pr.buf.get(), pr.bytes);
        pr.reps = 1;
        probe_once(pr);
        double gbs = probe_once(pr);
        pr.reps = std::max(1, (int)std::ceil(sample_ms * 1e-3 / ((double)pr.bytes / (gbs * 1e9))));
    }
#if defined(__AVX512VNNI__) && defined(__AVX512F__)
    std::vector<double> peak;
#elif defined(__AVX2__)
    std::vector<double> wdpeak, chain;
#endif

    // The rounds.
    std::vector<std::vector<std::vector<double>>> gops(nshapes, std::vector<std::vector<double>>(NLIB));
    std::vector<double> oncpu;
    double tstart = now_s();
    for (int r = 0; r < rounds; r++) {
        for (size_t s = 0; s < nshapes; s++) {
            Problem &p = *probs[s];
            for (int j = 0; j < NLIB; j++) {
                int l = (j + r + (int)s) % NLIB;
                int n = reps[s][l];
                double c0 = thread_cpu_s(), t0 = now_s();
                for (int i = 0; i < n; i++) p.run((Lib)l);
                double t = now_s() - t0, c = thread_cpu_s() - c0;
                gops[s][l].push_back(p.ops() * n / t * 1e-9);
                oncpu.push_back(c / t);
            }
        }
        for (auto &pr : probes) pr.gbs.push_back(probe_once(pr));
#if defined(__AVX512VNNI__) && defined(__AVX512F__)
        peak.push_back(vnni_peak_gops());
#elif defined(__AVX2__)
        wdpeak.push_back(maddwd_peak_gops());
        chain.push_back(maddubs_chain_gops());
#endif
        if (quick && r == 0) std::printf("(quick mode)\n");
    }
    double elapsed = now_s() - tstart;

    // Tables.
    std::printf("\nsingle thread, GOPS = 2*M*N*K / s (sgemm: GFLOPS), median of %d interleaved samples (%.0f s)\n\n",
                rounds, elapsed);
    // (the ratio pairs: quant's int32 output against oneDNN, gemmlowp, sgemm;
    // quant's int8 output against XNNPACK's)
    static const int rnum[4] = {L_QUANT, L_QUANT, L_QUANT, L_QUANT8}, rden[4] = {L_DNNL, L_GEMMLOWP, L_SGEMM, L_XNN};
    std::printf("| shape (M x N x K) |");
    for (int l = 0; l < NLIB; l++) std::printf(" %s |", lib_name[l]);
    for (int j = 0; j < 4; j++) std::printf(" %s/%s |", lib_name[rnum[j]], lib_name[rden[j]]);
    std::printf("\n|---|");
    for (int l = 0; l < NLIB + 4; l++) std::printf("---:|");
    std::printf("\n");
    for (size_t s = 0; s < nshapes; s++) {
        std::printf("| %s |", probs[s]->shape().c_str());
        for (int l = 0; l < NLIB; l++) std::printf(" %.1f%s |", median(gops[s][l]), lib_wrong[l] ? " (wrong)" : "");
        for (int j = 0; j < 4; j++) std::printf(" %.2fx |", median(gops[s][rnum[j]]) / median(gops[s][rden[j]]));
        std::printf("\n");
    }
    std::printf("\npaired ratios: median over rounds of quant / other within the same round (robust to the "
                "machine's speed drifting between rounds), with p25 - p75\n\n");
    std::printf("| shape |");
    for (int j = 0; j < 4; j++) std::printf(" %s/%s |", lib_name[rnum[j]], lib_name[rden[j]]);
    std::printf("\n|---|---:|---:|---:|---:|\n");
    for (size_t s = 0; s < nshapes; s++) {
        std::printf("| %s |", probs[s]->shape().c_str());
        for (int j = 0; j < 4; j++) {
            std::vector<double> r;
            for (size_t i = 0; i < gops[s][rnum[j]].size(); i++) r.push_back(gops[s][rnum[j]][i] / gops[s][rden[j]][i]);
            std::printf(" %.2fx (%.2f - %.2f) |", median(r), quantile(r, 0.25), quantile(r, 0.75));
        }
        std::printf("\n");
    }
    std::printf("\nspread: interquartile range / median, %% (same samples)\n\n");
    std::printf("| shape |");
    for (int l = 0; l < NLIB; l++) std::printf(" %s |", lib_name[l]);
    std::printf("\n|---|");
    for (int l = 0; l < NLIB; l++) std::printf("---:|");
    std::printf("\n");
    for (size_t s = 0; s < nshapes; s++) {
        std::printf("| %s |", probs[s]->shape().c_str());
        for (int l = 0; l < NLIB; l++) {
            double m = median(gops[s][l]);
            std::printf(" %.1f |", 100.0 * (quantile(gops[s][l], 0.75) - quantile(gops[s][l], 0.25)) / m);
        }
        std::printf("\n");
    }
    std::printf("\nread bandwidth (%s, same run, interleaved with the GEMMs)\n\n", probe_kind);
    std::printf("| buffer | median GB/s | p25 - p75 | GEMV bound 2 x GB/s |\n|---|---:|---:|---:|\n");
    for (auto &pr : probes)
        std::printf("| %s | %.1f | %.1f - %.1f | %.0f GOPS |\n", pr.name, median(pr.gbs), quantile(pr.gbs, 0.25),
                    quantile(pr.gbs, 0.75), 2 * median(pr.gbs));
    double q4096 = median(gops[0][L_QUANT]), q1024 = median(gops[1][L_QUANT]);
    std::printf("\nquant GEMV against this run's bandwidth: 1x4096x4096 (16 MiB of weights) %.0f%% of 2 x L3; "
                "1x1024x1024 (1 MiB) %.0f%% of 2 x L2\n", 100 * q4096 / (2 * median(probes[1].gbs)),
                100 * q1024 / (2 * median(probes[0].gbs)));
#if defined(__AVX512VNNI__) && defined(__AVX512F__)
    double pk = median(peak);
    std::printf("VPDPBUSD zmm peak (12 chains, same run): %.0f GOPS median; quant at 1024^3 = %.0f%%, 2048^3 = %.0f%% "
                "of it\n", pk, 100 * median(gops[5][L_QUANT]) / pk, 100 * median(gops[6][L_QUANT]) / pk);
#elif defined(__AVX2__)
    double wp = median(wdpeak), ch = median(chain);
    std::printf("vpmaddwd ymm peak (12 chains, same run): %.0f GOPS; vpmaddubsw -> vpmaddwd -> vpaddd chain bound: %.0f GOPS.\n"
                "quant at 1024^3 = %.0f%% of the vpmaddwd peak, %.0f%% of the chain bound; at 2048^3 %.0f%% / %.0f%%\n",
                wp, ch, 100 * median(gops[5][L_QUANT]) / wp, 100 * median(gops[5][L_QUANT]) / ch,
                100 * median(gops[6][L_QUANT]) / wp, 100 * median(gops[6][L_QUANT]) / ch);
#endif
    std::printf("thread on-cpu time / wall time over all samples: median %.3f, p10 %.3f\n", median(oncpu),
                quantile(oncpu, 0.10));
    std::printf("\noneDNN's C API and gemmlowp pack inside every call; quant's and XNNPACK's weights are packed once "
                "(not timed).\n");
    for (int l = 0; l < NLIB; l++)
        if (lib_wrong[l])
            std::printf("(wrong): %s's results differed from the exact int32 product in the correctness checks above, "
                        "so its speed here is not for the same computation.\n", lib_name[l]);
    if (fails) std::printf("\nCORRECTNESS FAILURES: %d (see above)\n", fails);
    return fails ? 1 : 0;
}
