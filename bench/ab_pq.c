/* bench/ab_pq.c - the PQ / VQ kernels of quant_kernels.h section 6 timed
 * per case (median of repeats, one line "case microseconds" each), for A/B
 * runs of two builds (bench/ab_bin.sh; bench/ab_bin.h): nearest centroids (encode), fast
 * scan (4 and 8 bits, exact and approximate), PQ matmul (F32, LUT8; 4 and
 * 8 bits) and codebook GEMV, on random data. */
#include "ab_bin.h"

static float rf(void) { return (float)(rnd() >> 40) / 16777216.0f - 0.5f; }

static void pq_case(int nbits, size_t d, size_t M) {
    const size_t n = 20000, nq = 4, k = 10, rows = 4096;
    quant_pq pq;
    float *cb = (float *)malloc(4 * quant_pq_centroids_floats(d, M, nbits, 0));
    float *x = (float *)malloc(4 * n * d), *y = (float *)malloc(4 * rows);
    size_t i, cs, pb, fb, wb, mb, mw;
    uint8_t *codes, *fs;
    void *pk, *ws, *mk, *mws;
    int64_t ids[4 * 10];
    float dists[4 * 10];
    char name[64];
    for (i = 0; i < quant_pq_centroids_floats(d, M, nbits, 0); i++) cb[i] = rf();
    for (i = 0; i < n * d; i++) x[i] = rf();
    quant_pq_init(&pq, d, M, nbits, 0, cb);
    cs = quant_pq_code_size(&pq);
    pb = quant_pq_pack_size(&pq); pk = malloc(pb); quant_pq_pack(&pq, pk, pb);
    codes = (uint8_t *)malloc(n * cs);
    sprintf(name, "encode_%db_2k", nbits);
    TIME(name, 5, quant_pq_encode(pk, x, 2000, codes));
    quant_pq_encode(pk, x, n, codes);
    fb = quant_pq_fs_size(pk, n); fs = (uint8_t *)malloc(fb); quant_pq_fs_pack(pk, codes, n, fs, fb);
    wb = quant_pq_fs_workspace_size(pk, n, k); ws = malloc(wb);
    sprintf(name, "fs_exact_%db", nbits);
    TIME(name, 9, quant_pq_fs_search(pk, QUANT_METRIC_L2, x, nq, fs, n, k, QUANT_FS_EXACT, ids, dists, ws, wb, NULL));
    sprintf(name, "fs_approx_ip_%db", nbits);
    TIME(name, 9, quant_pq_fs_search(pk, QUANT_METRIC_IP, x, nq, fs, n, k, QUANT_FS_APPROX, ids, dists, ws, wb, NULL));
    mb = quant_pqmm_pack_size(&pq, rows); mk = malloc(mb); quant_pqmm_pack(&pq, codes, rows, mk, mb);
    mw = quant_pqmm_workspace_size(mk, QUANT_PQMM_F32); mws = malloc(mw);
    sprintf(name, "pqmm_f32_%db", nbits);
    TIME(name, 15, quant_pqmm(mk, x, QUANT_PQMM_F32, y, mws, mw));
    free(mws); mw = quant_pqmm_workspace_size(mk, QUANT_PQMM_LUT8); mws = malloc(mw);
    sprintf(name, "pqmm_lut8_%db", nbits);
    TIME(name, 15, quant_pqmm(mk, x, QUANT_PQMM_LUT8, y, mws, mw));
    free(cb); free(x); free(y); free(codes); free(fs); free(pk); free(ws); free(mk); free(mws);
}

int main(void) {
    printf("isa %s\n", quant_isa_name());
    pq_case(4, 128, 32);
    pq_case(8, 128, 16);
    {   /* codebook GEMV, 1024 x 1024, 4 and 8 bits */
        const size_t R = 1024, Cn = 1024;
        int bits;
        for (bits = 4; bits <= 8; bits += 4) {
            const int E = bits == 4 ? 16 : 256;
            size_t rb = quant_codebook_row_bytes(bits, Cn), pb = quant_codebook_pack_size(bits, R, Cn), i;
            uint8_t *idx = (uint8_t *)malloc(R * rb);
            float cb[256], *x = (float *)malloc(4 * Cn), *y = (float *)malloc(4 * R);
            void *pk = malloc(pb);
            char name[32];
            for (i = 0; i < R * rb; i++) idx[i] = (uint8_t)((int)(rf() * 256 + 128) & 255);
            for (i = 0; i < 256; i++) cb[i] = (float)i / 256.0f - 0.5f; /* sorted */
            for (i = 0; i < Cn; i++) x[i] = rf();
            quant_codebook_pack(idx, bits, R, Cn, cb, E, pk, pb);
            sprintf(name, "cbgemv_%db", bits);
            TIME(name, 15, quant_codebook_gemv(pk, x, y));
            free(idx); free(x); free(y); free(pk);
        }
    }
    return 0;
}
