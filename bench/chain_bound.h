/* bench/chain_bound.h - the exact int8 chain bound of an AVX2 core, for the
 * benchmarks that compare against it (bench_ab.c, bench_conv_dnnl.c):
 * uint8 x int8 products through vpmaddubsw (pairs to int16, at most
 * 2 x 128 x 127 in magnitude when the operands allow it: exact) ->
 * vpmaddwd by ones (to int32) -> vpaddd, six independent chains, registers
 * only. GOPS = 2 x products / s. x86-64 GCC / clang with AVX2 only. */
#ifndef BENCH_CHAIN_BOUND_H
#define BENCH_CHAIN_BOUND_H
#include <time.h>

static double chain_now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
/* 6 independent pmaddubsw -> pmaddwd -> paddd chains: 32 u8 x s8 products
 * and their sums into int32 = 64 ops each */
static double chain_gops(void) {
    long n = 1000000;
    double t0 = chain_now_s();
    __asm__ volatile(
        "vpcmpeqd %%ymm12, %%ymm12, %%ymm12\n\tvpabsb %%ymm12, %%ymm13\n\tvpabsw %%ymm12, %%ymm14\n\t"
        "1:\n\t"
        "vpmaddubsw %%ymm12, %%ymm13, %%ymm6\n\tvpmaddubsw %%ymm12, %%ymm13, %%ymm7\n\t"
        "vpmaddubsw %%ymm12, %%ymm13, %%ymm8\n\tvpmaddubsw %%ymm12, %%ymm13, %%ymm9\n\t"
        "vpmaddubsw %%ymm12, %%ymm13, %%ymm10\n\tvpmaddubsw %%ymm12, %%ymm13, %%ymm11\n\t"
        "vpmaddwd %%ymm14, %%ymm6, %%ymm6\n\tvpmaddwd %%ymm14, %%ymm7, %%ymm7\n\t"
        "vpmaddwd %%ymm14, %%ymm8, %%ymm8\n\tvpmaddwd %%ymm14, %%ymm9, %%ymm9\n\t"
        "vpmaddwd %%ymm14, %%ymm10, %%ymm10\n\tvpmaddwd %%ymm14, %%ymm11, %%ymm11\n\t"
        "vpaddd %%ymm6, %%ymm0, %%ymm0\n\tvpaddd %%ymm7, %%ymm1, %%ymm1\n\tvpaddd %%ymm8, %%ymm2, %%ymm2\n\t"
        "vpaddd %%ymm9, %%ymm3, %%ymm3\n\tvpaddd %%ymm10, %%ymm4, %%ymm4\n\tvpaddd %%ymm11, %%ymm5, %%ymm5\n\t"
        "dec %[n]\n\tjnz 1b\n\t"
        : [n] "+r"(n)
        :
        : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
          "xmm12", "xmm13", "xmm14");
    return 6.0 * 64.0 * 1e6 / (chain_now_s() - t0) * 1e-9;
}
#endif
