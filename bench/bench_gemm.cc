// bench_gemm.cc - Google Benchmark suite for quant's GEMM / GEMV.
//
// Single thread (run pinned: taskset -c 1 ... --benchmark_filter='^st/'):
//   st/gemm_i32/MxNxK    u8 x s8 -> int32                 (GOPS = 2MNK / s)
//   st/gemm_i8rq/MxNxK   u8 x s8 -> int8, fused epilogue: QUANT_RQ_GEMMLOWP,
//                        per-channel multipliers, bias, output zero point
//   st/gemm_i8rq_single/, st/gemm_i8rq_fp32/  the same epilogue in the other
//                        two requantization modes (a few shapes)
//   st/pack/NxK          quant_gemm_pack of N x K int8 weights (once at load;
//                        weights GB/s and the time per pack)
// Two threads (taskset -c 0,1 ... --benchmark_filter='^mt/'):
//   mt/gemm_i32_2t_rows/2048x2048x2048   rows split in two quant_gemm_tile calls
//   mt/gemm_i32_2t_cols/2048x2048x2048   column panels split (multiple of
//                                        quant_gemm_tile_n())
// The calling thread runs one tile and a persistent std::thread the other;
// the timed call includes everything done per call (zero-point sums, the
// epilogue), never the packing.
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax() { _mm_pause(); }
#else
static inline void cpu_relax() {}
#endif

namespace {

struct AlignedFree {
    void operator()(void *p) const { std::free(p); }
};
template <class T>
using Buf = std::unique_ptr<T[], AlignedFree>;
template <class T>
Buf<T> alloc(size_t n) {
    size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
    void *p = std::aligned_alloc(64, bytes ? bytes : 64);
    if (!p) { std::fprintf(stderr, "out of memory\n"); std::exit(1); }
    std::memset(p, 0, bytes ? bytes : 64);
    return Buf<T>(static_cast<T *>(p));
}

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

const int32_t kAZp = 128; // activation zero point (asymmetric uint8 activations)

// One problem: random full-range data, weights packed once.
struct Problem {
    size_t M, N, K;
    Buf<uint8_t> A;
    Buf<int8_t> W; // N x K row-major (QUANT_LAYOUT_NK)
    Buf<unsigned char> packed;
    size_t packed_bytes;
    Buf<int32_t> C32;
    Buf<int8_t> C8;
    std::vector<quant_requant> rq;
    std::vector<int32_t> bias;
    quant_epilogue ep_i32, ep_i8;

    Problem(size_t m, size_t n, size_t k) : M(m), N(n), K(k) {
        Rng rng(0x1234 + m * 31 + n * 7 + k);
        A = alloc<uint8_t>(M * K);
        W = alloc<int8_t>(N * K);
        rng.fill(A.get(), M * K);
        rng.fill(W.get(), N * K);
        packed_bytes = quant_gemm_pack_size(K, N);
        packed = alloc<unsigned char>(packed_bytes);
        if (quant_gemm_pack(W.get(), QUANT_LAYOUT_NK, K, N, 0, packed.get(), packed_bytes) != QUANT_OK) {
            std::fprintf(stderr, "quant_gemm_pack failed\n");
            std::exit(1);
        }
        C32 = alloc<int32_t>(M * N);
        C8 = alloc<int8_t>(M * N);
        // Per-channel scales putting the outputs around +-40: |acc| ~ 74^2 sqrt(K).
        rq.resize(N);
        bias.resize(N);
        for (size_t j = 0; j < N; j++) {
            double s = 40.0 / (5476.0 * std::sqrt((double)K)) * (0.5 + (double)(rng.next() % 1000) / 1000.0);
            quant_requant_from_scale(s, &rq[j]);
            bias[j] = (int32_t)(rng.next() % 20001) - 10000;
        }
        std::memset(&ep_i32, 0, sizeof ep_i32);
        ep_i32.out = QUANT_OUT_I32;
        std::memset(&ep_i8, 0, sizeof ep_i8);
        ep_i8.out = QUANT_OUT_I8;
        ep_i8.mode = QUANT_RQ_GEMMLOWP;
        ep_i8.rq = rq.data();
        ep_i8.per_channel = 1;
        ep_i8.bias_i32 = bias.data();
        ep_i8.out_zp = -5;
        ep_i8.out_min = -128;
        ep_i8.out_max = 127;
        spot_check();
    }

    // A few entries of the int32 product against a plain dot product.
    void spot_check() {
        if (quant_gemm(M, A.get(), 0, K, kAZp, packed.get(), &ep_i32, C32.get(), N) != QUANT_OK) {
            std::fprintf(stderr, "quant_gemm failed\n");
            std::exit(1);
        }
        Rng r(99);
        for (int t = 0; t < 64; t++) {
            size_t m = r.next() % M, n = r.next() % N;
            int32_t acc = 0;
            for (size_t k = 0; k < K; k++) acc += ((int32_t)A[m * K + k] - kAZp) * W[n * K + k];
            if (acc != C32[m * N + n]) {
                std::fprintf(stderr, "MISMATCH %zux%zux%zu at (%zu,%zu): quant %d, dot %d\n", M, N, K, m, n,
                             C32[m * N + n], acc);
                std::exit(1);
            }
        }
    }
};

Problem &problem(size_t M, size_t N, size_t K) {
    static std::map<std::tuple<size_t, size_t, size_t>, std::unique_ptr<Problem>> cache;
    auto key = std::make_tuple(M, N, K);
    auto it = cache.find(key);
    if (it == cache.end()) it = cache.emplace(key, std::unique_ptr<Problem>(new Problem(M, N, K))).first;
    return *it->second;
}

void set_gops(benchmark::State &st, double M, double N, double K) {
    st.counters["GOPS"] = benchmark::Counter(2.0 * M * N * K * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// mode < 0: int32 output; otherwise int8 output in that requantization mode.
void bm_gemm(benchmark::State &st, size_t M, size_t N, size_t K, int mode) {
    Problem &p = problem(M, N, K);
    bool i8 = mode >= 0;
    quant_epilogue ep8 = p.ep_i8;
    if (i8) ep8.mode = (quant_requant_mode)mode;
    const quant_epilogue *ep = i8 ? &ep8 : &p.ep_i32;
    void *C = i8 ? (void *)p.C8.get() : (void *)p.C32.get();
    for (auto _ : st) {
        quant_status s = quant_gemm(M, p.A.get(), 0, K, kAZp, p.packed.get(), ep, C, N);
        benchmark::DoNotOptimize(s);
        benchmark::ClobberMemory();
    }
    set_gops(st, (double)M, (double)N, (double)K);
}

// int4 blocks of 32 (quant_gemm_q4): the same activations, the weights
// shifted down to [-8, 7], one scale per block, fp32 output.
void bm_gemm_q4(benchmark::State &st, size_t M, size_t N, size_t K) {
    Problem &p = problem(M, N, K);
    const size_t nb = (K + 31) / 32, bytes = quant_gemm_q4_pack_size(K, N);
    std::vector<int8_t> w4(N * K);
    std::vector<float> sc(N * nb), out(M * N);
    for (size_t i = 0; i < N * K; i++) w4[i] = (int8_t)(p.W[i] >> 4);
    for (size_t i = 0; i < N * nb; i++) sc[i] = 0.001f * (float)(1 + i % 7);
    auto pk = alloc<uint8_t>(bytes);
    float as = 0.02f;
    quant_q4_epilogue ep;
    std::memset(&ep, 0, sizeof ep);
    ep.out = QUANT_OUT_F32;
    ep.a_scale = &as;
    if (quant_gemm_q4_pack(w4.data(), sc.data(), K, N, pk.get(), bytes) != QUANT_OK ||
        quant_gemm_q4(M, p.A.get(), 0, K, kAZp, pk.get(), &ep, out.data(), N) != QUANT_OK) {
        std::fprintf(stderr, "quant_gemm_q4 failed\n");
        std::exit(1);
    }
    {   // one entry against the exact sum
        size_t m = M / 2, n = N / 3;
        double e = 0;
        for (size_t k = 0; k < K; k++) e += ((double)p.A[m * K + k] - kAZp) * w4[n * K + k] * sc[n * nb + k / 32];
        e *= as;
        if (std::fabs(e - out[m * N + n]) > 1e-4 * (std::fabs(e) + 1)) {
            std::fprintf(stderr, "quant_gemm_q4 MISMATCH: %g vs %g\n", (double)out[m * N + n], e);
            std::exit(1);
        }
    }
    for (auto _ : st) {
        quant_status s = quant_gemm_q4(M, p.A.get(), 0, K, kAZp, pk.get(), &ep, out.data(), N);
        benchmark::DoNotOptimize(s);
        benchmark::ClobberMemory();
    }
    set_gops(st, (double)M, (double)N, (double)K);
}

void bm_pack(benchmark::State &st, size_t N, size_t K) {
    Problem &p = problem(1, N, K);
    for (auto _ : st) {
        quant_status s = quant_gemm_pack(p.W.get(), QUANT_LAYOUT_NK, K, N, 0, p.packed.get(), p.packed_bytes);
        benchmark::DoNotOptimize(s);
        benchmark::ClobberMemory();
    }
    st.SetBytesProcessed((int64_t)st.iterations() * (int64_t)(N * K));
}

// Two threads: this one and a persistent worker that spins on a generation
// counter (the benchmark runs on 2 cores, so spinning costs nobody).
class Team2 {
  public:
    Team2() : worker_([this] { loop(); }) {}
    ~Team2() {
        quit_.store(true, std::memory_order_relaxed);
        gen_.fetch_add(1, std::memory_order_release);
        worker_.join();
    }
    void run(const std::function<void()> &mine, const std::function<void()> &theirs) {
        job_ = &theirs;
        uint64_t g = gen_.fetch_add(1, std::memory_order_acq_rel) + 1;
        mine();
        while (done_.load(std::memory_order_acquire) != g) cpu_relax();
    }

  private:
    void loop() {
        uint64_t seen = 0;
        for (;;) {
            uint64_t g;
            while ((g = gen_.load(std::memory_order_acquire)) == seen) cpu_relax();
            seen = g;
            if (quit_.load(std::memory_order_relaxed)) return;
            (*job_)();
            done_.store(g, std::memory_order_release);
        }
    }
    std::atomic<uint64_t> gen_{0}, done_{0};
    std::atomic<bool> quit_{false};
    const std::function<void()> *job_ = nullptr;
    std::thread worker_;
};

void bm_gemm_2t(benchmark::State &st, size_t M, size_t N, size_t K, bool split_rows) {
    Problem &p = problem(M, N, K);
    size_t tn = quant_gemm_tile_n();
    size_t mh = M / 2, nh = (N / 2 + tn - 1) / tn * tn;
    if (nh > N) nh = N;
    quant_status s0 = QUANT_OK, s1 = QUANT_OK;
    std::function<void()> first, second;
    if (split_rows) {
        first = [&] { s0 = quant_gemm_tile(M, p.A.get(), 0, K, kAZp, p.packed.get(), &p.ep_i32, p.C32.get(), N, 0, mh, 0, N); };
        second = [&] { s1 = quant_gemm_tile(M, p.A.get(), 0, K, kAZp, p.packed.get(), &p.ep_i32, p.C32.get(), N, mh, M, 0, N); };
    } else {
        first = [&] { s0 = quant_gemm_tile(M, p.A.get(), 0, K, kAZp, p.packed.get(), &p.ep_i32, p.C32.get(), N, 0, M, 0, nh); };
        second = [&] { s1 = quant_gemm_tile(M, p.A.get(), 0, K, kAZp, p.packed.get(), &p.ep_i32, p.C32.get(), N, 0, M, nh, N); };
    }
    Team2 team;
    for (auto _ : st) {
        team.run(first, second);
        benchmark::ClobberMemory();
    }
    if (s0 != QUANT_OK || s1 != QUANT_OK) st.SkipWithError("quant_gemm_tile failed");
    p.spot_check(); // the split computed the same product (checked, then recomputed)
    set_gops(st, (double)M, (double)N, (double)K);
}

std::string shape_name(size_t M, size_t N, size_t K) {
    return std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K);
}

} // namespace

int main(int argc, char **argv) {
    static const size_t shapes[][3] = {
        {1, 4096, 4096}, {1, 1024, 1024}, {16, 1024, 1024}, {64, 1024, 1024},
        {256, 256, 256}, {1024, 1024, 1024}, {2048, 2048, 2048},
    };
    for (const auto &s : shapes)
        benchmark::RegisterBenchmark(("st/gemm_i32/" + shape_name(s[0], s[1], s[2])).c_str(), bm_gemm, s[0], s[1], s[2], -1)
            ->Unit(benchmark::kMicrosecond);
    for (const auto &s : shapes)
        benchmark::RegisterBenchmark(("st/gemm_i8rq/" + shape_name(s[0], s[1], s[2])).c_str(), bm_gemm, s[0], s[1], s[2],
                                     (int)QUANT_RQ_GEMMLOWP)
            ->Unit(benchmark::kMicrosecond);
    static const size_t mode_shapes[][3] = {{1, 1024, 1024}, {256, 256, 256}, {1024, 1024, 1024}};
    for (const auto &s : mode_shapes)
        benchmark::RegisterBenchmark(("st/gemm_i8rq_single/" + shape_name(s[0], s[1], s[2])).c_str(), bm_gemm, s[0], s[1],
                                     s[2], (int)QUANT_RQ_SINGLE)
            ->Unit(benchmark::kMicrosecond);
    for (const auto &s : mode_shapes)
        benchmark::RegisterBenchmark(("st/gemm_i8rq_fp32/" + shape_name(s[0], s[1], s[2])).c_str(), bm_gemm, s[0], s[1],
                                     s[2], (int)QUANT_RQ_FP32)
            ->Unit(benchmark::kMicrosecond);
    static const size_t q4_shapes[][3] = {{1, 4096, 4096}, {1, 1024, 1024}, {16, 1024, 1024}, {64, 1024, 1024}, {256, 256, 256}};
    for (const auto &s : q4_shapes)
        benchmark::RegisterBenchmark(("st/gemm_q4_f32/" + shape_name(s[0], s[1], s[2])).c_str(), bm_gemm_q4, s[0], s[1], s[2])
            ->Unit(benchmark::kMicrosecond);
    static const size_t packs[][2] = {{4096, 4096}, {1024, 1024}, {256, 256}, {2048, 2048}};
    for (const auto &w : packs)
        benchmark::RegisterBenchmark(("st/pack/" + std::to_string(w[0]) + "x" + std::to_string(w[1])).c_str(), bm_pack, w[0], w[1])
            ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("mt/gemm_i32_2t_rows/2048x2048x2048", bm_gemm_2t, 2048, 2048, 2048, true)
        ->Unit(benchmark::kMicrosecond)->UseRealTime();
    benchmark::RegisterBenchmark("mt/gemm_i32_2t_cols/2048x2048x2048", bm_gemm_2t, 2048, 2048, 2048, false)
        ->Unit(benchmark::kMicrosecond)->UseRealTime();

    benchmark::AddCustomContext("quant_isa", quant_isa_name());
    benchmark::AddCustomContext("quant_tile_n", std::to_string(quant_gemm_tile_n()));
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
