/* bench/ab_bin.h - what bench/ab_bin.c and bench/ab_pq.c share: the
 * kernels (quant_kernels.h with its implementation), a clock, and TIME,
 * which prints one line "case microseconds", the median of reps runs. */
#define _POSIX_C_SOURCE 199309L
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
#define TIME(name, reps, ...) do { double ts_[64]; int r_; for (r_ = 0; r_ < (reps); r_++) { double t0_ = now(); __VA_ARGS__; ts_[r_] = now() - t0_; } \
    qsort(ts_, (size_t)(reps), sizeof(double), cmpd); printf("%-24s %12.1f\n", name, ts_[(reps) / 2] * 1e6); } while (0)

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
