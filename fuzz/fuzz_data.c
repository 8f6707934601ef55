/* fuzz/fuzz_data.c - libFuzzer target: the sample and label readers of
 * examples/runner/data.h (IDX of any rank and type, .npy v1-v3) from memory,
 * and the layout fit. An accepted set must describe exactly the bytes given;
 * a refused one must say why; a transposed set must hold, at (h, w, c), the
 * value the file held at (c, h, w). */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include "../examples/runner/runner.h"
#include "../examples/runner/data.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* value k of the set as a float (u8 as its byte) */
static float val(const rn_data *d, size_t k) { return d->type == RN_DATA_U8 ? (float)d->u8[k] : d->f32[k]; }

/* fits a copy of d to (h, w, c) in layout and checks the result */
static void fit(const rn_data *d0, const unsigned char *b, size_t n, size_t h, size_t w, size_t c, int layout) {
    rn_data d;
    char err[512];
    size_t i, y, x, k;
    err[0] = 0;
    FZ_CHECK(rn_data_parse(&d, b, n, err, sizeof err) == 0);
    if (rn_data_layout(&d, h, w, c, layout, err, sizeof err)) {
        FZ_CHECK(err[0] != 0);
        rn_data_free(&d);
        return;
    }
    FZ_CHECK(d.size == h * w * c && d.count == d0->count && d.type == d0->type);
    if (!d.transposed) { /* as it was */
        for (k = 0; k < d.count * d.size; k++) FZ_CHECK(val(&d, k) == val(d0, k)); /* finite: == is exact */
    } else {
        FZ_CHECK(layout != RN_LAYOUT_NHWC && c > 1 && h * w > 1);
        for (i = 0; i < d.count; i++)
            for (y = 0; y < h; y++)
                for (x = 0; x < w; x++)
                    for (k = 0; k < c; k++) {
                        FZ_CHECK(val(&d, i * d.size + (y * w + x) * c + k) == val(d0, i * d.size + (k * h + y) * w + x));
                    }
    }
    rn_data_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rn_data d;
    rn_labels l;
    char err[512];
    size_t k;
    err[0] = 0;
    if (rn_data_parse(&d, data, size, err, sizeof err) != 0) FZ_CHECK(err[0] != 0);
    else {
        size_t total = d.count * d.size, prod = 1;
        int r;
        FZ_CHECK(d.rank >= 1 && d.rank <= RN_DATA_MAX_RANK && d.count == d.shape[0]);
        for (r = 1; r < d.rank; r++) prod *= d.shape[r];
        FZ_CHECK(prod == d.size);
        FZ_CHECK(d.type == RN_DATA_U8 || d.type == RN_DATA_F32);
        if (d.type == RN_DATA_U8) { /* points into the input, ending at its end */
            FZ_CHECK(d.u8 >= data && d.u8 + total == data + size);
        } else {
            for (k = 0; k < total; k++) FZ_CHECK(isfinite(d.f32[k]));
            FZ_CHECK(total <= size); /* at least one byte per value: no allocation beyond 4 per input byte */
        }
        /* the layouts, on a shape taken from the file: as (H, W, C) and as (C, H, W) */
        if (d.rank == 4 && d.count * d.size <= 1 << 16) {
            const size_t *t = d.shape + 1;
            int lay;
            for (lay = 0; lay < 3; lay++) {
                fit(&d, data, size, t[0], t[1], t[2], lay);
                fit(&d, data, size, t[1], t[2], t[0], lay);
                fit(&d, data, size, t[2], t[0], t[1], lay);
            }
        } else if (d.rank >= 2 && d.count * d.size <= 1 << 16) {
            int lay;
            for (lay = 0; lay < 3; lay++) { fit(&d, data, size, d.size, 1, 1, lay); fit(&d, data, size, 1, 1, d.size, lay); fit(&d, data, size, d.size / 2 ? 2 : 1, d.size / 2 ? d.size / 2 : 1, 1, lay); }
        }
        { /* the first n as a view */
            rn_data v = rn_data_head(&d, 3);
            FZ_CHECK(v.count == (d.count < 3 ? d.count : 3) && v.own[0] == NULL && v.own[1] == NULL);
        }
        rn_data_free(&d);
    }
    err[0] = 0;
    if (rn_labels_parse(&l, data, size, err, sizeof err) != 0) FZ_CHECK(err[0] != 0);
    else {
        FZ_CHECK(l.count <= size);
        for (k = 0; k < l.count; k++) { volatile int64_t s = l.y[k]; (void)s; }
        rn_labels_free(&l);
    }
    return 0;
}
