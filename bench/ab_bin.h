/* bench/ab_bin.h - what the sides of the A/B benchmarks (bench/ab_bin.c,
 * bench/ab_pq.c) share. Each side is compiled twice, against the base
 * commit's headers (-DPFX=base_) and the tree's (-DPFX=tree_), every quant
 * definition static (QUANT_STATIC), so that both link into one program
 * (bench/ab_bin_main.c) that times them in alternation, run by run. A side
 * defines AB_FN(init), AB_FN(ncases), AB_FN(name) and AB_FN(run). */
#define QUANT_STATIC
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"
#include <stdio.h>
#include <stdlib.h>

#define AB_CAT2(a, b) a##b
#define AB_CAT(a, b) AB_CAT2(a, b)
#define AB_FN(name) AB_CAT(PFX, name)

void AB_FN(init)(void);
int AB_FN(ncases)(void);
const char *AB_FN(name)(int i);
void AB_FN(run)(int i);

/* the same data on both sides */
static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
