/* bench/ab_pq.c - one side of the A/B benchmark of the PQ / VQ kernels of
 * quant_kernels.h section 6 (bench/ab_bin.h, bench/ab_bin.sh): nearest
 * centroids (encode), fast scan (4 and 8 bits, exact and approximate), PQ
 * matmul (F32, LUT8; 4 and 8 bits) and codebook GEMV, on random data. */
#include "ab_bin.h"

typedef struct {
    quant_pq pq;
    float *x, *y;
    uint8_t *codes, *fs;
    void *pk, *ws, *mk, *mwf, *mwl;
    size_t wb, mwfb, mwlb;
} ab_pqset;
static ab_pqset S[2];
static void *cbk[2];
static float *cbx, *cby;
static const size_t n = 20000, nq = 4, k = 10, rows = 4096;
static int64_t ids[4 * 10];
static float dists[4 * 10];
static const char *const names[] = { "encode_4b_500", "fs_exact_4b", "fs_approx_ip_4b", "pqmm_f32_4b", "pqmm_lut8_4b",
                                     "encode_8b_500", "fs_exact_8b", "fs_approx_ip_8b", "pqmm_f32_8b", "pqmm_lut8_8b",
                                     "cbgemv_4b", "cbgemv_8b" };

static float rf(void) { return (float)(rnd() >> 40) / 16777216.0f - 0.5f; }

static void pq_set(ab_pqset *s, int nbits, size_t d, size_t M) {
    size_t i, nf = quant_pq_centroids_floats(d, M, nbits, 0), pb, fb, mb;
    float *cb = (float *)malloc(4 * nf);
    for (i = 0; i < nf; i++) cb[i] = rf();
    s->x = (float *)malloc(4 * n * d); s->y = (float *)malloc(4 * rows);
    for (i = 0; i < n * d; i++) s->x[i] = rf();
    quant_pq_init(&s->pq, d, M, nbits, 0, cb);
    pb = quant_pq_pack_size(&s->pq); s->pk = malloc(pb);
    s->codes = (uint8_t *)malloc(n * quant_pq_code_size(&s->pq));
    if (quant_pq_pack(&s->pq, s->pk, pb) || quant_pq_encode(s->pk, s->x, n, s->codes)) abort();
    fb = quant_pq_fs_size(s->pk, n); s->fs = (uint8_t *)malloc(fb);
    s->wb = quant_pq_fs_workspace_size(s->pk, n, k); s->ws = malloc(s->wb);
    mb = quant_pqmm_pack_size(&s->pq, rows); s->mk = malloc(mb);
    if (quant_pq_fs_pack(s->pk, s->codes, n, s->fs, fb) || quant_pqmm_pack(&s->pq, s->codes, rows, s->mk, mb)) abort();
    s->mwfb = quant_pqmm_workspace_size(s->mk, QUANT_PQMM_F32); s->mwf = malloc(s->mwfb);
    s->mwlb = quant_pqmm_workspace_size(s->mk, QUANT_PQMM_LUT8); s->mwl = malloc(s->mwlb);
}

void AB_FN(init)(void) {
    const size_t R = 1024, Cn = 1024;
    float cb[256];
    size_t i;
    int b;
    pq_set(&S[0], 4, 128, 32);
    pq_set(&S[1], 8, 128, 16);
    cbx = (float *)malloc(4 * Cn); cby = (float *)malloc(4 * R);
    for (i = 0; i < 256; i++) cb[i] = (float)i / 256.0f - 0.5f; /* sorted */
    for (i = 0; i < Cn; i++) cbx[i] = rf();
    for (b = 0; b < 2; b++) { /* codebook GEMV, 1024 x 1024, 4 and 8 bits */
        const int bits = b ? 8 : 4;
        size_t rb = quant_codebook_row_bytes(bits, Cn), pb = quant_codebook_pack_size(bits, R, Cn);
        uint8_t *idx = (uint8_t *)malloc(R * rb);
        for (i = 0; i < R * rb; i++) idx[i] = (uint8_t)rnd();
        cbk[b] = malloc(pb);
        if (quant_codebook_pack(idx, bits, R, Cn, cb, bits == 4 ? 16 : 256, cbk[b], pb)) abort();
        free(idx);
    }
}
int AB_FN(ncases)(void) { return (int)(sizeof names / sizeof *names); }
const char *AB_FN(name)(int i) { return names[i]; }
void AB_FN(run)(int i) {
    ab_pqset *s = &S[i / 5 % 2];
    quant_status st = QUANT_OK;
    if (i >= 10) st = quant_codebook_gemv(cbk[i - 10], cbx, cby);
    else
        switch (i % 5) {
        case 0: st = quant_pq_encode(s->pk, s->x, 500, s->codes); break;
        case 1: st = quant_pq_fs_search(s->pk, QUANT_METRIC_L2, s->x, nq, s->fs, n, k, QUANT_FS_EXACT, ids, dists, s->ws, s->wb, NULL); break;
        case 2: st = quant_pq_fs_search(s->pk, QUANT_METRIC_IP, s->x, nq, s->fs, n, k, QUANT_FS_APPROX, ids, dists, s->ws, s->wb, NULL); break;
        case 3: st = quant_pqmm(s->mk, s->x, QUANT_PQMM_F32, s->y, s->mwf, s->mwfb); break;
        case 4: st = quant_pqmm(s->mk, s->x, QUANT_PQMM_LUT8, s->y, s->mwl, s->mwlb); break;
        }
    if (st != QUANT_OK) abort();
}
