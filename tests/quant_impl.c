/* tests/quant_impl.c - the library implementation alone: the Makefile
 * compiles it once per build (ISA, compiler, flags) and links it into every
 * kernel test and fuzz target of that build, built with -DQT_SEPARATE_IMPL
 * (the implementation is most of each compile: ~25 s at -O3). */
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"
