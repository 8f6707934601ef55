/* Two translation units, each embedding its own static copy of quant.h,
 * link into one program (QUANT_STATIC). This one also holds main. */
#define QUANT_STATIC
#define QUANT_IMPLEMENTATION
#include "quant.h"
#include <stdio.h>

int other_unit_quantize(float x); /* from static_b.c */

int main(void) {
    quant_params p;
    int8_t q;
    int passed = 0, failed = 0;
    float x = 0.37f;
    if (quant_params_from_range(-1.0f, 1.0f, -127, 127, QUANT_SYMMETRIC, &p) == QUANT_OK &&
        quant_quantize(&x, 1, &p, QUANT_I8, &q) == QUANT_OK && q == other_unit_quantize(x))
        passed++;
    else
        failed++;
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
