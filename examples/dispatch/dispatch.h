/* examples/dispatch/dispatch.h - the table of kernels each build exports.
 *
 * examples/dispatch/kernels.c is compiled once per instruction-set level
 * (its own flags, -DDISPATCH_LEVEL=<level>); each object holds a private
 * (QUANT_STATIC) copy of quant_kernels.h and exports one symbol: a
 * dispatch_kernels table named dispatch_<level>. examples/dispatch.c picks
 * one table at run time and calls the kernels through it only.
 */
#ifndef DISPATCH_H
#define DISPATCH_H

#include "quant_kernels.h"

/* The kernels an engine calls, as pointers into one build. A packed buffer
 * belongs to the copy that packed it: the GEMM's layout differs per ISA (a
 * buffer packed by one copy is refused by another with QUANT_EFORMAT). */
typedef struct dispatch_kernels {
    const char *level;                      /* the level it was built for   */
    const char *(*isa_name)(void);          /* quant_isa_name of this copy  */
    /* int8 GEMM / GEMV with the fused epilogue */
    size_t (*gemm_pack_size)(size_t K, size_t N);
    quant_status (*gemm_pack)(const int8_t *B, quant_layout layout, size_t K, size_t N, int32_t b_zp,
                              void *packed, size_t packed_bytes);
    quant_status (*gemm)(size_t M, const void *A, int a_signed, size_t lda, int32_t a_zp,
                         const void *packed, const quant_epilogue *ep, void *C, size_t ldc);
    /* NHWC convolution and depthwise convolution */
    size_t (*conv2d_pack_size)(const quant_conv_shape *s);
    quant_status (*conv2d_pack)(const int8_t *w, const quant_conv_shape *s, int32_t w_zp,
                                void *packed, size_t packed_bytes);
    size_t (*conv2d_workspace_size)(const quant_conv_shape *s);
    quant_status (*conv2d)(const quant_conv_shape *s, const void *in, int a_signed, int32_t a_zp,
                           const void *packed, const quant_epilogue *ep, void *out,
                           void *workspace, size_t workspace_bytes);
    size_t (*dwconv2d_pack_size)(const quant_conv_shape *s);
    quant_status (*dwconv2d_pack)(const int8_t *w, const quant_conv_shape *s, int32_t w_zp,
                                  void *packed, size_t packed_bytes);
    quant_status (*dwconv2d)(const quant_conv_shape *s, const void *in, int a_signed, int32_t a_zp,
                             const void *packed, const quant_epilogue *ep, void *out);
    /* dynamic per-row quantization of float activations */
    quant_status (*rows_quantize_dynamic)(const float *x, size_t rows, size_t cols, size_t ldx,
                                          quant_scheme scheme, int32_t qmin, int32_t qmax, quant_dtype dt,
                                          void *out, size_t ldo, float *scales, int32_t *zps);
    /* int4 block weights x int8 activations */
    size_t (*gemm_q4_pack_size)(size_t K, size_t N);
    quant_status (*gemm_q4_pack)(const int8_t *W, const float *scales, size_t K, size_t N,
                                 void *packed, size_t packed_bytes);
    quant_status (*gemm_q4)(size_t M, const void *A, int a_signed, size_t lda, int32_t a_zp,
                            const void *packed, const quant_q4_epilogue *ep, void *C, size_t ldc);
    /* binary / ternary XNOR-popcount GEMM */
    size_t (*bgemm_pack_size)(size_t K, size_t N, int ternary);
    quant_status (*bgemm_pack)(const uint64_t *w_sign, const uint64_t *w_nonzero, size_t N, size_t K,
                               void *packed, size_t packed_bytes);
    quant_status (*bgemm)(size_t M, const uint64_t *a_sign, const uint64_t *a_nonzero, size_t lda,
                          const void *packed, const quant_bepilogue *ep, void *C, size_t ldc);
    /* PQ matmul: y = W x with W's rows as PQ codes */
    size_t (*pqmm_pack_size)(const quant_pq *pq, size_t rows);
    quant_status (*pqmm_pack)(const quant_pq *pq, const uint8_t *codes, size_t rows,
                              void *packed, size_t packed_bytes);
    size_t (*pqmm_workspace_size)(const void *packed, quant_pqmm_mode mode);
    quant_status (*pqmm)(const void *packed, const float *x, quant_pqmm_mode mode, float *y,
                         void *ws, size_t ws_bytes);
    /* quantized residual add (TFLite ADD) */
    quant_status (*add)(const void *a, const void *b, size_t n, quant_dtype dt,
                        const quant_add_params *prm, void *out);
} dispatch_kernels;

/* The copies linked into the program (examples/dispatch.mk builds them). */
extern const dispatch_kernels dispatch_scalar;
#if defined(__x86_64__) || defined(__i386__)
extern const dispatch_kernels dispatch_sse41, dispatch_avx2, dispatch_avxvnni, dispatch_avx512,
    dispatch_avx512vnni;
#elif defined(__aarch64__)
extern const dispatch_kernels dispatch_neon;
#endif

#endif /* DISPATCH_H */
