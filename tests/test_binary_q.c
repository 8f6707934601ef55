/* tests/test_binary_q.c - binary / ternary quantizers of quant.h against
 * plain double-precision definitions (BWN / XNOR-Net, TWN, STE). */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant.h"
#include "harness.h"

static int bit(const uint64_t *p, size_t w, size_t r, size_t k) { return (int)((p[r * w + k / 64] >> (k % 64)) & 1); }

static void test_binarize(void) {
    size_t rows = 7, K, r, k;
    for (K = 1; K <= 200; K += 7) {
        float w[7 * 200], alpha[7];
        uint64_t b[7 * 4];
        size_t wd = quant_bits_words(K);
        for (k = 0; k < rows * K; k++) w[k] = (float)qt_normal();
        w[0] = 0.0f; w[1 % (rows * K)] = -0.0f;
        CHECK(quant_binarize(w, rows, K, alpha, b) == QUANT_OK);
        for (r = 0; r < rows; r++) {
            double s = 0;
            for (k = 0; k < K; k++) { s += fabs(w[r * K + k]); CHECK(bit(b, wd, r, k) == (w[r * K + k] < 0)); }
            CHECKF(fabs(alpha[r] - s / K) <= 1e-6 * (s / K) + 1e-12, "K=%d r=%d", (int)K, (int)r);
            if (K % 64) CHECK((b[r * wd + wd - 1] >> (K % 64)) == 0);
        }
    }
}

static void test_ternarize(void) {
    size_t rows = 5, K, r, k;
    for (K = 1; K <= 300; K += 11) {
        float w[5 * 300], alpha[5], delta[5];
        uint64_t s[5 * 5], z[5 * 5];
        size_t wd = quant_bits_words(K);
        for (k = 0; k < rows * K; k++) w[k] = (float)(qt_normal() * (1 + k % 3));
        CHECK(quant_ternarize(w, rows, K, alpha, delta, s, z) == QUANT_OK);
        for (r = 0; r < rows; r++) {
            double sum = 0, sa = 0, d;
            size_t na = 0;
            for (k = 0; k < K; k++) sum += fabs(w[r * K + k]);
            d = 0.7 * sum / K;
            CHECKF(fabs(delta[r] - d) <= 1e-6 * d + 1e-12, "delta K=%d", (int)K);
            for (k = 0; k < K; k++) {
                float v = w[r * K + k];
                int t = v > delta[r] ? 1 : v < -delta[r] ? -1 : 0;
                CHECK(bit(z, wd, r, k) == (t != 0));
                CHECK(bit(s, wd, r, k) == (t < 0));
                if (fabs(v) > delta[r]) { sa += fabs(v); na++; }
            }
            CHECK(na ? fabs(alpha[r] - sa / na) <= 1e-6 * sa / na : alpha[r] == 0.0f);
        }
    }
    {   /* a row of zeros: delta 0, nothing non-zero, alpha 0 */
        float w0[10] = { 0 }, a, d;
        uint64_t s[1], z[1];
        CHECK(quant_ternarize(w0, 1, 10, &a, &d, s, z) == QUANT_OK && a == 0.0f && d == 0.0f && z[0] == 0);
    }
    {   /* overflowing mean: refused, nothing written */
        float big[4] = { 1.0f, INFINITY, 3.0f, 4.0f }, a = 5.0f; /* an infinite weight: refused, nothing written */
        uint64_t s[1] = { 7 }, z[1] = { 7 };
        CHECK(quant_ternarize(big, 1, 4, &a, NULL, s, z) == QUANT_ERANGE && a == 5.0f && s[0] == 7 && z[0] == 7);
    }
}

static void test_ste(void) {
    float x[6] = { -2.0f, -1.0f, -0.5f, 0.0f, 1.0f, 1.5f }, dy[6] = { 1, 2, 3, 4, 5, 6 }, dx[6];
    float want[6] = { 0, 2, 3, 4, 5, 0 };
    int i;
    CHECK(quant_ste_backward(x, dy, 6, 1.0f, dx) == QUANT_OK);
    for (i = 0; i < 6; i++) CHECK(dx[i] == want[i]);
    x[0] = NAN;
    CHECK(quant_ste_backward(x, dy, 6, 1.0f, dx) == QUANT_OK && dx[0] == 0.0f);
    CHECK(quant_ste_backward(x, dy, 6, -1.0f, dx) == QUANT_EINVAL);
}

static void test_pack_q(void) {
    size_t rows = 3, K = 130, r, k, wd = quant_bits_words(K);
    uint8_t q[3 * 130];
    uint64_t b[3 * 3], s[3 * 3], z[3 * 3];
    for (k = 0; k < rows * K; k++) q[k] = (uint8_t)qt_rand32();
    CHECK(quant_pack_binary_q(q, 0, rows, K, 128, b) == QUANT_OK);
    CHECK(quant_pack_ternary_q(q, 0, rows, K, 128, 20, s, z) == QUANT_OK);
    for (r = 0; r < rows; r++)
        for (k = 0; k < K; k++) {
            int v = q[r * K + k] - 128;
            CHECK(bit(b, wd, r, k) == (v < 0));
            CHECK(bit(z, wd, r, k) == (v > 20 || v < -20));
            CHECK(bit(s, wd, r, k) == (v < -20));
        }
    CHECK(quant_pack_binary_q(q, 1, rows, K, 200, b) == QUANT_EINVAL);
    CHECK(quant_pack_ternary_q(q, 0, rows, K, 128, -1, s, z) == QUANT_EINVAL);
}

int main(void) {
    RUN(test_binarize);
    RUN(test_ternarize);
    RUN(test_ste);
    RUN(test_pack_q);
    return qt_summary();
}
