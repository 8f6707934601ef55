#define QUANT_IMPLEMENTATION
#include "quant.h"
#include <stdio.h>

int main(void) {
    float x[6] = { -1.2f, 0.0f, 0.31f, 2.5f, 7.9f, -0.4f }, y[6];
    int8_t q[6];
    quant_params p;
    quant_observer obs;   /* value type: no allocation */

    /* calibrate: stream batches through an observer (NaN/Inf are ignored) */
    quant_observer_init(&obs, QUANT_OBS_MINMAX);
    quant_observer_update(&obs, x, 6);
    if (quant_observer_params(&obs, -128, 127, QUANT_AFFINE, &p) != QUANT_OK) return 1;

    /* quantize (round half to even, saturate) and back */
    quant_quantize(x, 6, &p, QUANT_I8, q);
    quant_dequantize(q, QUANT_I8, 6, &p, y);
    printf("scale %g zero point %d: %g -> %d -> %g\n", p.scale, p.zero_point, x[3], q[3], y[3]);

    /* requantize an int32 accumulator to int8, TFLite's double rounding */
    {
        quant_requant rq;
        quant_requant_from_scale(0.0123, &rq);
        printf("acc 5000 -> %d\n", quant_requantize1(5000, &rq, QUANT_RQ_GEMMLOWP, 3, -128, 127));
    }
    return 0;
}
