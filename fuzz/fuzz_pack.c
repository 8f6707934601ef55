/* fuzz/fuzz_pack.c - libFuzzer target: pack / unpack of every storage format
 * (int4 / uint4 / int2 / uint2, Q8 / Q4 blocks, binary and ternary bitplanes
 * from float and from int8, fp16 / bf16) must round-trip or refuse without
 * writing; the parsers of untrusted packed data (PQ and codebook blobs, the
 * GEMM's packed header) must refuse anything malformed. */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include "fuzz_util.h"
#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 512

static int in_range(int v, quant_dtype dt) {
    switch (dt) {
    case QUANT_I4: return v >= -8 && v <= 7;
    case QUANT_U4: return v >= 0 && v <= 15;
    case QUANT_I2: return v >= -2 && v <= 1;
    default: return v >= 0 && v <= 3;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz f = { data, size };
    int8_t v[CAP], back[CAP];
    uint8_t packed[CAP];
    float x[CAP], y[CAP];
    size_t n, i, k;
    quant_dtype dt = (quant_dtype)(QUANT_I4 + fz_u8(&f) % 4);
    int which = fz_u8(&f) % 6;
    n = f.n < CAP ? f.n : CAP;

    if (which == 0) { /* sub-byte packing */
        int all_ok = 1;
        for (i = 0; i < n; i++) { v[i] = (int8_t)fz_u8(&f); if (!in_range(v[i], dt)) all_ok = 0; }
        memset(packed, 0xa5, sizeof packed);
        if (quant_pack(v, n, dt, packed) == QUANT_OK) {
            FZ_CHECK(all_ok);
            FZ_CHECK(quant_unpack(packed, n, dt, back) == QUANT_OK && !memcmp(v, back, n));
        } else {
            FZ_CHECK(!all_ok);
            for (i = 0; i < CAP; i++) FZ_CHECK(packed[i] == 0xa5);
        }
        /* any bytes unpack, and re-pack to the same bytes (padding bits aside) */
        memcpy(packed, data, size < CAP ? size : CAP);
        if (quant_unpack(packed, n, dt, back) == QUANT_OK) {
            uint8_t again[CAP];
            size_t bits = (size_t)quant_dtype_bits(dt), full = n * bits / 8;
            FZ_CHECK(quant_pack(back, n, dt, again) == QUANT_OK && !memcmp(again, packed, full));
        }
    } else if (which == 1) { /* Q8 / Q4 blocks from any floats (NaN, Inf, huge) */
        quant_block_q8 b8[CAP / 32];
        quant_block_q4 b4[CAP / 32];
        size_t nb = n / 4 / 32 * 32;
        for (i = 0; i < nb; i++) x[i] = fz_f32(&f);
        if (quant_block_q8_quantize(x, nb, b8) == QUANT_OK) {
            FZ_CHECK(quant_block_q8_dequantize(b8, nb, y) == QUANT_OK);
            for (i = 0; i < nb; i++) if (isfinite(x[i]) && fabsf(x[i]) < 1e30f) {
                float d = quant_fp16_to_fp32(b8[i / 32].d);
                /* half a step, or the clamp at +-127 steps when fp16 rounded d down */
                if (isfinite(d)) FZ_CHECK(fabsf(y[i] - x[i]) <= fmaxf(0.5f * d, fabsf(x[i]) - 127.0f * d) * 1.0001f + 1e-37f);
            }
        }
        if (quant_block_q4_quantize(x, nb, b4) == QUANT_OK) FZ_CHECK(quant_block_q4_dequantize(b4, nb, y) == QUANT_OK);
    } else if (which == 2) { /* bitplanes from float, round trip of the signs */
        size_t K = 1 + fz_u8(&f) % 200, rows = n / 4 / K, w = quant_bits_words(K);
        uint64_t bits[CAP], sg[CAP], nz[CAP];
        float t = fz_float(&f);
        for (i = 0; i < rows * K; i++) x[i] = fz_float(&f);
        if (rows * w > CAP) return 0;
        FZ_CHECK(quant_pack_binary(x, rows, K, bits) == QUANT_OK);
        FZ_CHECK(quant_unpack_binary(bits, rows, K, y) == QUANT_OK);
        for (i = 0; i < rows; i++) {
            for (k = 0; k < K; k++) FZ_CHECK(y[i * K + k] == ((x[i * K + k] >= 0 || x[i * K + k] != x[i * K + k]) ? 1.0f : -1.0f));
            if (K % 64) FZ_CHECK((bits[i * w + w - 1] >> (K % 64)) == 0); /* padding bits are 0 */
        }
        if (quant_pack_ternary(x, rows, K, t, sg, nz) == QUANT_OK) {
            int8_t tv[CAP];
            if (rows * K <= CAP) {
                FZ_CHECK(quant_unpack_ternary(sg, nz, rows, K, tv) == QUANT_OK);
                for (i = 0; i < rows * K; i++) FZ_CHECK(tv[i] == (x[i] > t ? 1 : x[i] < -t ? -1 : 0));
            }
        }
    } else if (which == 3) { /* bitplanes from int8 / uint8 with a zero point */
        size_t K = 1 + fz_u8(&f) % 150, rows, w = quant_bits_words(K);
        int a_signed = fz_u8(&f) & 1;
        int32_t zp = fz_int(&f), thr = fz_int(&f);
        uint64_t bits[CAP], sg[CAP], nz[CAP];
        uint8_t q[CAP];
        rows = f.n / K; if (rows * K > CAP) rows = CAP / K;
        for (i = 0; i < rows * K; i++) q[i] = fz_u8(&f);
        memset(bits, 0xa5, sizeof bits);
        if (quant_pack_binary_q(q, a_signed, rows, K, zp, bits) == QUANT_OK) {
            for (i = 0; i < rows; i++) for (k = 0; k < K; k++) {
                int32_t qv = a_signed ? (int8_t)q[i * K + k] : q[i * K + k];
                FZ_CHECK((int)((bits[i * w + k / 64] >> (k % 64)) & 1) == (qv < zp));
            }
        }
        if (quant_pack_ternary_q(q, a_signed, rows, K, zp, thr, sg, nz) == QUANT_OK) {
            for (i = 0; i < rows; i++) for (k = 0; k < K; k++) {
                int64_t d = (int64_t)(a_signed ? (int8_t)q[i * K + k] : q[i * K + k]) - zp;
                int s = (int)((sg[i * w + k / 64] >> (k % 64)) & 1), z = (int)((nz[i * w + k / 64] >> (k % 64)) & 1);
                int t = d > thr ? 1 : d < -(int64_t)thr ? -1 : 0;
                FZ_CHECK(z == (t != 0) && s == (t < 0));
            }
        } else FZ_CHECK(thr < 0 || (a_signed ? (zp < -128 || zp > 127) : (zp < 0 || zp > 255)));
    } else if (which == 4) { /* fp16 / bf16 of any bits: the round trip of a half is exact */
        for (i = 0; i + 2 <= size && i < CAP; i += 2) {
            uint16_t h = (uint16_t)(data[i] | data[i + 1] << 8);
            float a = quant_fp16_to_fp32(h), b = quant_bf16_to_fp32(h);
            uint16_t h2 = quant_fp32_to_fp16(a), b2 = quant_fp32_to_bf16(b);
            if (a == a) FZ_CHECK(h2 == h); else FZ_CHECK((h2 & 0x7e00) == 0x7e00);
            if (b == b) FZ_CHECK(b2 == h); else FZ_CHECK((b2 & 0x7fc0) == 0x7fc0);
        }
    } else { /* parsers of untrusted packed data */
        quant_pq pq;
        size_t nn = 0, kk = 0, N = 0;
        int entries = 0, bits = 0;
        if (quant_pq_load_header(data, size, &pq, &nn) == QUANT_OK) {
            size_t cf = quant_pq_centroids_floats(pq.d, pq.M, pq.nbits, pq.shared), cs = quant_pq_code_size(&pq);
            float *c = (float *)malloc(cf * sizeof(float) + 4);
            uint8_t *codes = (uint8_t *)malloc(nn * cs + 1);
            pq.centroids = c;
            (void)quant_pq_load(data, size, &pq, codes);
            free(c); free(codes);
        }
        if (quant_codebook_load_header(data, size, &entries, &bits, &nn) == QUANT_OK) {
            float cb[256];
            uint8_t *idx = (uint8_t *)malloc(quant_codebook_row_bytes(bits, nn) + 1);
            (void)quant_codebook_load(data, size, cb, idx);
            free(idx);
        }
        if (size >= 64) {
            /* a damaged packed GEMM buffer is refused, not trusted */
            void *copy = malloc(size);
            memcpy(copy, data, size);
            if (quant_gemm_packed_dims(copy, &kk, &N) == QUANT_OK) FZ_CHECK(kk && N);
            free(copy);
        }
    }
    return 0;
}
