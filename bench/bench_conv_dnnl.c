/* bench/bench_conv_dnnl.c - quant_conv2d against oneDNN's int8 convolution
 * in one program and one run, single thread: issue 21's "INT8 GEMM and
 * conv" peer for the convolutions.
 *
 *   out[n][y][x][o] = sum over the window of in (uint8, NHWC) x w (int8,
 *   OHWI, -127..127: symmetric quantization), no zero points
 *
 *   quant   quant_conv2d on weights packed once (quant_conv2d_pack, not
 *           timed), its workspace allocated once
 *   oneDNN  dnnl_convolution_forward (prop_kind inference, direct), NHWC
 *           source and destination, weights in the layout it chooses
 *           ("any"), reordered once from OHWI (not timed); the primitive
 *           created once
 *
 * Two outputs, each a row: int32 (the raw sums: "u8s8s32") and uint8
 * through a per-channel float scale (the runner's path: quant_epilogue
 * QUANT_RQ_FP32 with the clamp at 0..255; oneDNN's per-channel output
 * scales with saturation to u8). quant's int32 results are checked against
 * quant_ref_conv2d before timing (they must be equal); oneDNN's against
 * quant's, and the table says how many differ (on CPUs without VNNI its
 * int8 convolutions add u8 x s8 products in saturating 16-bit pairs, and
 * may halve the weights first: not exact).
 *
 * Every shape and library is timed in every round, the libraries' order
 * alternating round by round; a call is repeated to about 2 ms a sample.
 * The table: median us a call of each, the median of the per-round ratios
 * oneDNN / quant (> 1: quant faster) with its 25th-75th percentiles, GOPS
 * (2 x MACs / s) and, on AVX2 builds, each as a share of the exact int8
 * chain bound (bench/chain_bound.h) measured in every round.
 *
 *   make bench-conv-dnnl            (quant: this CPU's best ISA; oneDNN: its own)
 *   make bench-conv-dnnl-avx2       (quant built -mavx2 -mfma; DNNL_MAX_CPU_ISA=AVX2)
 *   bench_conv_dnnl [rounds 31] [shape index: only that one, -1 all] [7bit]
 *
 * 7bit: input bytes 0..127 (PyTorch's reduce_range; quant's per-call scan
 * then takes its 7-bit kernels) instead of 0..255.
 *
 * Run it pinned with OMP_NUM_THREADS=1 (the make targets do). */
#define _POSIX_C_SOURCE 199309L
#define QUANT_IMPLEMENTATION
#include "quant_kernels.h"
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <time.h>
/* (the bound of the AVX2 kernels: not shown for AVX-512 builds) */
#if defined(__x86_64__) && defined(__AVX2__) && !defined(__AVX512F__) && (defined(__GNUC__) || defined(__clang__))
#include "chain_bound.h"
#define HAVE_CHAIN 1
#endif

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
static uint32_t rng = 12345u;
static uint32_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }
static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) { fprintf(stderr, "bench_conv_dnnl: out of memory (%zu bytes)\n", n); exit(1); }
    return p;
}
/* a whole number, or LONG_MIN (refused by the checks) for anything else */
static long whole(const char *t) {
    char *e;
    long v = strtol(t, &e, 10);
    return e == t || *e ? LONG_MIN : v;
}
#define DN(call) do { dnnl_status_t st_ = (call); if (st_ != dnnl_success) { \
    fprintf(stderr, "bench_conv_dnnl: %s failed (status %d)\n", #call, (int)st_); exit(1); } } while (0)

typedef struct {
    const char *name;
    size_t batch, h, w, c, oc, k, stride, pad;
} shape;

/* one library's callable for one shape and output */
typedef struct {
    /* quant */
    quant_conv_shape s;
    quant_epilogue ep;
    const uint8_t *in;
    void *pk, *ws, *qout;
    size_t wsb;
    /* oneDNN */
    dnnl_primitive_t prim;
    dnnl_stream_t stream;
    dnnl_memory_t msrc, mwei, mdst;
} job;

static void run_quant(const job *j) {
    if (quant_conv2d(&j->s, j->in, 0, 0, j->pk, &j->ep, j->qout, j->ws, j->wsb) != QUANT_OK) {
        fprintf(stderr, "bench_conv_dnnl: quant_conv2d failed\n");
        exit(1);
    }
}
static void run_dnnl(const job *j) {
    dnnl_exec_arg_t args[3] = { { DNNL_ARG_SRC, j->msrc }, { DNNL_ARG_WEIGHTS, j->mwei }, { DNNL_ARG_DST, j->mdst } };
    DN(dnnl_primitive_execute(j->prim, j->stream, 3, args));
    DN(dnnl_stream_wait(j->stream));
}
/* seconds a call: reps calls timed together */
static double sample(void (*f)(const job *), const job *j, int reps) {
    double t0 = now();
    int r;
    for (r = 0; r < reps; r++) f(j);
    return (now() - t0) / reps;
}

int main(int argc, char **argv) {
    static const shape shapes[] = {
        { "demo c2 14x14x32 -> 64, 3x3", 64, 14, 14, 32, 64, 3, 1, 1 },
        { "56x56x64 -> 64, 3x3", 1, 56, 56, 64, 64, 3, 1, 1 },
        { "28x28x128 -> 128, 3x3", 1, 28, 28, 128, 128, 3, 1, 1 },
        { "14x14x256 -> 256, 3x3", 1, 14, 14, 256, 256, 3, 1, 1 },
        { "56x56x64 -> 128, 3x3 stride 2", 1, 56, 56, 64, 128, 3, 2, 1 },
        { "28x28x128 -> 256, 1x1", 1, 28, 28, 128, 256, 1, 1, 0 },
        { "7x7x512 -> 512, 3x3", 1, 7, 7, 512, 512, 3, 1, 1 },
    };
    const size_t ns = sizeof shapes / sizeof *shapes;
    const long rounds = argc > 1 ? whole(argv[1]) : 31, only = argc > 2 ? whole(argv[2]) : -1;
    const int act7 = argc > 3 && strcmp(argv[3], "7bit") == 0;
    dnnl_engine_t eng;
    dnnl_stream_t stream;
    size_t si;
    int o;
    const char *isa_env = getenv("DNNL_MAX_CPU_ISA");
    if (rounds < 1 || rounds > 100000 || only < -1 || only >= (long)ns || argc > 4 || (argc > 3 && !act7)) {
        fprintf(stderr, "usage: bench_conv_dnnl [rounds >= 1] [shape index 0..%zu, -1 all] [7bit]\n", ns - 1);
        return 2;
    }
    DN(dnnl_engine_create(&eng, dnnl_cpu, 0));
    DN(dnnl_stream_create(&stream, eng, dnnl_stream_default_flags));
    printf("quant_conv2d (%s) against oneDNN %d.%d.%d convolution (DNNL_MAX_CPU_ISA=%s), one thread, %d rounds\n",
           quant_isa_name(), dnnl_version()->major, dnnl_version()->minor, dnnl_version()->patch,
           isa_env ? isa_env : "(unset)", (int)rounds);
    printf("uint8 NHWC input 0..%d, int8 weights -127..127, no zero points; us a call (median), oneDNN / quant per round\n\n", act7 ? 127 : 255);
    printf("| shape | batch | out | quant us | oneDNN us | oneDNN / quant (p25-p75) | quant GOPS | oneDNN GOPS | chain bound GOPS | oneDNN's results | oneDNN impl |\n");
    printf("|---|---:|---|---:|---:|---:|---:|---:|---:|---|---|\n");
    for (si = 0; si < ns; si++) {
        const shape *sh = &shapes[si];
        quant_conv_shape s;
        size_t oh, ow, nin, nw, nout, i;
        uint8_t *in;
        int8_t *w;
        int32_t *ref;
        quant_requant *rq;
        float *scales;
        double macs;
        if (only >= 0 && (size_t)only != si) continue;
        memset(&s, 0, sizeof s);
        s.batch = sh->batch; s.in_h = sh->h; s.in_w = sh->w; s.in_c = sh->c; s.out_c = sh->oc;
        s.k_h = s.k_w = sh->k; s.stride_h = s.stride_w = sh->stride; s.dil_h = s.dil_w = 1;
        s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = sh->pad;
        if (quant_conv_out_size(&s, &oh, &ow) != QUANT_OK) return 1;
        nin = s.batch * s.in_h * s.in_w * s.in_c; nw = s.out_c * s.k_h * s.k_w * s.in_c; nout = s.batch * oh * ow * s.out_c;
        macs = (double)nout * (double)(s.k_h * s.k_w * s.in_c);
        in = (uint8_t *)xmalloc(nin); w = (int8_t *)xmalloc(nw); ref = (int32_t *)xmalloc(nout * 4);
        rq = (quant_requant *)xmalloc(s.out_c * sizeof *rq); scales = (float *)xmalloc(s.out_c * sizeof *scales);
        for (i = 0; i < nin; i++) in[i] = (uint8_t)(act7 ? rnd() & 127 : rnd());
        for (i = 0; i < nw; i++) w[i] = (int8_t)((int)(rnd() % 255) - 127);
        /* scales that put the typical sum (about sqrt(K) x 128 x 73) near 64 */
        for (i = 0; i < s.out_c; i++) {
            scales[i] = (float)(64.0 / (9400.0 * sqrt((double)(s.k_h * s.k_w * s.in_c))) * (0.5 + (rnd() % 100) / 100.0));
            quant_requant_from_scale(scales[i], &rq[i]);
        }
        for (o = 0; o < 2; o++) { /* 0: int32 out, 1: uint8 out */
            job q, d;
            dnnl_memory_desc_t src_md, wei_md, dst_md, user_wei_md;
            const dnnl_memory_desc_t *pwei_md;
            dnnl_convolution_desc_t cd;
            dnnl_primitive_attr_t attr;
            dnnl_primitive_desc_t pd, rpd;
            dnnl_primitive_t reorder;
            dnnl_memory_t muser_wei;
            dnnl_dims_t sdims = { (dnnl_dim_t)s.batch, (dnnl_dim_t)s.in_c, (dnnl_dim_t)s.in_h, (dnnl_dim_t)s.in_w };
            dnnl_dims_t wdims = { (dnnl_dim_t)s.out_c, (dnnl_dim_t)s.in_c, (dnnl_dim_t)s.k_h, (dnnl_dim_t)s.k_w };
            dnnl_dims_t ddims = { (dnnl_dim_t)s.batch, (dnnl_dim_t)s.out_c, (dnnl_dim_t)oh, (dnnl_dim_t)ow };
            dnnl_dims_t strides = { (dnnl_dim_t)s.stride_h, (dnnl_dim_t)s.stride_w };
            dnnl_dims_t pad = { (dnnl_dim_t)sh->pad, (dnnl_dim_t)sh->pad };
            const char *impl = "?";
            void *dout, *wbuf;
            double *tq = (double *)xmalloc(sizeof(double) * (size_t)rounds), *td = (double *)xmalloc(sizeof(double) * (size_t)rounds);
            double *ratio = (double *)xmalloc(sizeof(double) * (size_t)rounds), tcall;
            double *ch = (double *)xmalloc(sizeof(double) * (size_t)rounds);
            size_t esz = o ? 1 : 4, differ = 0, maxdiff = 0;
            int r, reps;
            /* quant */
            memset(&q, 0, sizeof q);
            q.s = s; q.in = in;
            q.ep.out = o ? QUANT_OUT_U8 : QUANT_OUT_I32;
            if (o) {
                q.ep.mode = QUANT_RQ_FP32; q.ep.rq = rq; q.ep.per_channel = 1;
                q.ep.out_zp = 0; q.ep.out_min = 0; q.ep.out_max = 255;
            }
            q.pk = xmalloc(quant_conv2d_pack_size(&s));
            q.wsb = quant_conv2d_workspace_size(&s);
            q.ws = xmalloc(q.wsb);
            q.qout = xmalloc(nout * esz);
            if (quant_conv2d_pack(w, &s, 0, q.pk, quant_conv2d_pack_size(&s)) != QUANT_OK) return 1;
            run_quant(&q);
            if (!o) { /* quant's int32 sums are the reference's */
                quant_epilogue e32;
                memset(&e32, 0, sizeof e32);
                e32.out = QUANT_OUT_I32;
                if (quant_ref_conv2d(&s, in, 0, 0, w, 0, &e32, ref) != QUANT_OK) return 1;
                if (memcmp(ref, q.qout, nout * 4) != 0) {
                    fprintf(stderr, "bench_conv_dnnl: quant_conv2d differs from quant_ref_conv2d on %s\n", sh->name);
                    return 1;
                }
            }
            /* oneDNN */
            memset(&d, 0, sizeof d);
            DN(dnnl_memory_desc_init_by_tag(&src_md, 4, sdims, dnnl_u8, dnnl_nhwc));
            DN(dnnl_memory_desc_init_by_tag(&wei_md, 4, wdims, dnnl_s8, dnnl_format_tag_any));
            DN(dnnl_memory_desc_init_by_tag(&user_wei_md, 4, wdims, dnnl_s8, dnnl_ohwi));
            DN(dnnl_memory_desc_init_by_tag(&dst_md, 4, ddims, o ? dnnl_u8 : dnnl_s32, dnnl_nhwc));
            DN(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &src_md, &wei_md,
                                                  NULL, &dst_md, strides, pad, pad));
            DN(dnnl_primitive_attr_create(&attr));
            if (o) DN(dnnl_primitive_attr_set_output_scales(attr, (dnnl_dim_t)s.out_c, 1 << 1, scales));
            DN(dnnl_primitive_desc_create(&pd, &cd, attr, eng, NULL));
            DN(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
            pwei_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
            wbuf = xmalloc(dnnl_memory_desc_get_size(pwei_md));
            DN(dnnl_memory_create(&d.mwei, pwei_md, eng, wbuf));
            DN(dnnl_memory_create(&muser_wei, &user_wei_md, eng, w));
            DN(dnnl_reorder_primitive_desc_create(&rpd, &user_wei_md, eng, pwei_md, eng, NULL));
            DN(dnnl_primitive_create(&reorder, rpd));
            {
                dnnl_exec_arg_t args[2] = { { DNNL_ARG_FROM, muser_wei }, { DNNL_ARG_TO, d.mwei } };
                DN(dnnl_primitive_execute(reorder, stream, 2, args));
                DN(dnnl_stream_wait(stream));
            }
            dout = xmalloc(nout * esz);
            DN(dnnl_memory_create(&d.msrc, &src_md, eng, in));
            DN(dnnl_memory_create(&d.mdst, &dst_md, eng, dout));
            DN(dnnl_primitive_create(&d.prim, pd));
            d.stream = stream;
            run_dnnl(&d);
            for (i = 0; i < nout; i++) {
                const long a = o ? (long)((uint8_t *)q.qout)[i] : (long)((int32_t *)q.qout)[i];
                const long b = o ? (long)((uint8_t *)dout)[i] : (long)((int32_t *)dout)[i];
                const size_t diff = (size_t)(a > b ? a - b : b - a);
                if (diff) differ++;
                if (diff > maxdiff) maxdiff = diff;
            }
            /* repetitions for about 2 ms a sample (from quant's time) */
            tcall = sample(run_quant, &q, 3);
            reps = tcall > 0.002 ? 1 : (int)(0.002 / (tcall > 1e-7 ? tcall : 1e-7)) + 1;
            for (r = -1; r < rounds; r++) {
                double a, b;
                if (r & 1) { b = sample(run_dnnl, &d, reps); a = sample(run_quant, &q, reps); }
                else { a = sample(run_quant, &q, reps); b = sample(run_dnnl, &d, reps); }
                if (r < 0) continue; /* warm-up */
                tq[r] = a; td[r] = b; ratio[r] = b / a;
#if defined(HAVE_CHAIN)
                ch[r] = chain_gops();
#else
                ch[r] = 0.0;
#endif
            }
            qsort(tq, (size_t)rounds, sizeof(double), cmpd);
            qsort(td, (size_t)rounds, sizeof(double), cmpd);
            qsort(ratio, (size_t)rounds, sizeof(double), cmpd);
            qsort(ch, (size_t)rounds, sizeof(double), cmpd);
            {
                char res[96], chs[32] = "-";
                if (!differ) snprintf(res, sizeof res, "equal");
                else snprintf(res, sizeof res, "%.1f%% differ, by up to %zu", 100.0 * (double)differ / (double)nout, maxdiff);
                if (ch[rounds / 2] > 0.0) snprintf(chs, sizeof chs, "%.1f", ch[rounds / 2]);
                printf("| %s | %zu | %s | %.1f | %.1f | %.2fx (%.2f-%.2f) | %.1f | %.1f | %s | %s | %s |\n", sh->name, s.batch,
                       o ? "uint8" : "int32", tq[rounds / 2] * 1e6, td[rounds / 2] * 1e6, ratio[rounds / 2],
                       ratio[rounds / 4], ratio[(3 * rounds) / 4], 2.0 * macs / tq[rounds / 2] * 1e-9,
                       2.0 * macs / td[rounds / 2] * 1e-9, chs, res, impl);
                fflush(stdout);
            }
            DN(dnnl_primitive_destroy(d.prim)); DN(dnnl_primitive_destroy(reorder));
            DN(dnnl_primitive_desc_destroy(pd)); DN(dnnl_primitive_desc_destroy(rpd));
            DN(dnnl_primitive_attr_destroy(attr));
            DN(dnnl_memory_destroy(d.msrc)); DN(dnnl_memory_destroy(d.mdst)); DN(dnnl_memory_destroy(d.mwei));
            DN(dnnl_memory_destroy(muser_wei));
            free(dout); free(wbuf); free(q.pk); free(q.ws); free(q.qout); free(tq); free(td); free(ratio); free(ch);
        }
        free(in); free(w); free(ref); free(rq); free(scales);
    }
    DN(dnnl_stream_destroy(stream));
    DN(dnnl_engine_destroy(eng));
    return 0;
}
