/* fuzz/fuzz_idx.c - libFuzzer target: the IDX reader (images and labels). */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include "../examples/runner/runner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int nd;
    for (nd = 0; nd <= 5; nd++) {
        size_t dims[5] = { 0, 0, 0, 0, 0 }, i, count = 1;
        const unsigned char *p = NULL;
        char err[256];
        err[0] = 0;
        if (rn_idx_parse(data, size, nd, dims, &p, err, sizeof err) != 0) {
            if (!err[0]) __builtin_trap();
            continue;
        }
        /* accepted: the dimensions describe exactly the bytes that follow */
        for (i = 0; i < (size_t)nd; i++) count *= dims[i];
        if (p != data + 4 + 4 * (size_t)nd || count != size - 4 - 4 * (size_t)nd) __builtin_trap();
        if (count) { volatile unsigned char s = p[count - 1]; (void)s; }
    }
    return 0;
}
