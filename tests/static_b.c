/* The second translation unit with its own static copy (see static_a.c). */
#define QUANT_STATIC
#define QUANT_IMPLEMENTATION
#include "quant.h"

int other_unit_quantize(float x);
int other_unit_quantize(float x) {
    quant_params p;
    int8_t q = 0;
    quant_params_from_range(-1.0f, 1.0f, -127, 127, QUANT_SYMMETRIC, &p);
    quant_quantize(&x, 1, &p, QUANT_I8, &q);
    return q;
}
