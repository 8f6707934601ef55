/* fuzz/fuzz_model.c - libFuzzer target: the model loader (safetensors header,
 * JSON graph, tensors, stored quantization metadata) in every mode, then one
 * batch-1 inference of whatever loads (in fp32 also the analytic bias
 * correction's E[x] and cross-layer equalization, then another run). A load
 * either succeeds or fails with a message; nothing may crash, leak, read out
 * of bounds or overflow. */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#define RN_GUARD /* guard bytes after every buffer, checked after each node */
#include "../examples/runner/runner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const int modes[] = { RN_FP32, RN_INT8, RN_DYN, RN_INT4, RN_TERNARY, RN_BINARY, RN_MIXED, RN_CODEBOOK };
    /* the first byte picks the mode (so every mode sees every file shape) */
    int mode;
    rn_model m;
    size_t j;
    if (size < 1) return 0;
    mode = modes[data[0] % 8];
    data++; size--;
    if (rn_model_load_mem(&m, data, size, mode, 1) != 0) {
        if (!m.err[0]) __builtin_trap(); /* every refusal says why */
        return 0;
    }
    for (j = 0; j < m.v[m.input].size; j++) m.v[m.input].f[j] = (float)(j % 251) / 251.0f;
    if (mode != RN_FP32 && mode != RN_DYN && mode != RN_CODEBOOK) {
        /* params as calibration would set them (a stored "quant" block may have set them already) */
        int v;
        for (v = 0; v < m.nv; v++) if (rn_dom(&m.v[v]) == RN_KIND_U8 && !m.v[v].has_params) { m.v[v].scale = 0.05f; m.v[v].zp = 10; m.v[v].has_params = 1; }
        if (rn_finish_params(&m) != 0) { /* every uint8 value has params now: only a refusal of their combination, named */
            if (!m.err[0] || strstr(m.err, "no valid activation params")) __builtin_trap();
            rn_model_free(&m);
            return 0;
        }
    }
    if (rn_run(&m, 1) != 0) {
        if (strstr(m.err, "wrote past")) __builtin_trap(); /* a node overran its buffer */
    } else {
        const float *y = rn_output(&m, 0);
        volatile float s = 0;
        for (j = 0; j < m.v[m.output].size; j++) s += y[j];
        (void)s;
    }
    if (mode == RN_FP32) { /* the post-training passes on whatever loads: analytic E[x]; equalization, then a run */
        static rn_eq_report rep;
        rn_ptq_layer *pl = (rn_ptq_layer *)calloc((size_t)m.nn + 1, sizeof *pl);
        if (pl) {
            m.err[0] = 0;
            if (rn_ptq_analytic(&m, pl) < 0 && !m.err[0]) __builtin_trap();
            rn_ptq_free(pl, m.nn);
        }
        m.err[0] = 0;
        if (rn_equalize(&m, &rep) == 0) (void)rn_run(&m, 1);
        else if (!m.err[0]) __builtin_trap();
    }
    rn_model_free(&m);
    return 0;
}
