/* quant_kernels.h - the fast kernels of the quant library.               v0.1.0
 *
 * Header-only, stb style; includes quant.h. In exactly one C or C++ file:
 *
 *     #define QUANT_IMPLEMENTATION
 *     #include "quant_kernels.h"       (this also implements quant.h)
 *
 * ---------------------------------------------------------------------------
 * TOUR
 * ---------------------------------------------------------------------------
 *   size_t bytes = quant_gemm_pack_size(K, N);        // once, at load
 *   void *pb = aligned_alloc(64, bytes);              // your memory
 *   quant_gemm_pack(W, QUANT_LAYOUT_NK, K, N, 0, pb, bytes);
 *
 *   quant_epilogue ep = {0};                          // int32 out by default
 *   ep.out = QUANT_OUT_I8; ep.mode = QUANT_RQ_GEMMLOWP; ep.rq = rq; ...
 *   quant_gemm(M, x, 0, K, x_zp, pb, &ep, y, N);      // never allocates
 *
 *   // parallelism is yours: any split of rows / panels is independent
 *   quant_gemm_tile(M, x, 0, K, x_zp, pb, &ep, y, N, m0, m1, n0, n1);
 *
 * Results are bit-identical to quant_ref_gemm() in quant.h on every ISA.
 *
 * ---------------------------------------------------------------------------
 * ISA SELECTION (compile time, from the compiler's target macros)
 * ---------------------------------------------------------------------------
 *   level       flags (or -march=... with them)       capabilities it uses
 *   avx512vnni  -mavx512f -mavx512bw -mavx512vl -mfma   AVX512 + AVX512VNNI
 *               -mavx512vnni [-mavx512vbmi] [-mavx512vpopcntdq]
 *   avx512      -mavx512f -mavx512bw -mavx512vl -mfma   AVX2 + AVX512 [+ VBMI,
 *                                                       VPOPCNTDQ]
 *   avxvnni     -mavx2 -mfma -mavxvnni                  AVX2 + AVXVNNI
 *   avx2        -mavx2 -mfma                            SSE41 + AVX2 (with FMA)
 *   sse41       -msse4.1                                SSE41
 *   neondot     aarch64 with -march=armv8.2-a+dotprod   NEON + NEONDOT
 *   neon        aarch64, or armv7 with -mfpu=neon       NEON
 *   scalar      anything else, or QUANT_NO_SIMD
 * Each capability has a QUANT_HAS_<X> macro, defined when the compiler
 * targets it, and is cumulative: AVX2 needs SSE41 (and FMA), AVXVNNI and
 * AVX512 need AVX2, AVX512VNNI / AVX512VBMI / AVX512VPOPCNTDQ need AVX512,
 * NEONDOT needs NEON. QUANT_NO_<X> removes X and all that needs it:
 * QUANT_NO_SSE41, QUANT_NO_AVX2, QUANT_NO_AVXVNNI, QUANT_NO_AVX512,
 * QUANT_NO_AVX512VNNI, QUANT_NO_AVX512VBMI, QUANT_NO_AVX512VPOPCNTDQ,
 * QUANT_NO_NEON, QUANT_NO_DOTPROD; QUANT_NO_SIMD for all. The level is the
 * highest capability left. quant_isa_name() names the level,
 * quant_isa_features() every CPU feature the build uses (what a CPU must
 * have to run it). QUANT_NO_ASM leaves out the few empty inline-asm
 * statements that steer GCC's register allocation. ISA code lives only in
 * the implementation, under internal names.
 *
 * ---------------------------------------------------------------------------
 * CONTENTS
 * ---------------------------------------------------------------------------
 *   1. ISA selection
 *   2. GEMM / GEMV: packing, the fused epilogue (quant_epilogue in quant.h),
 *      tiles for the caller's threads
 *   3. rows: quantize (per tensor / row / column), dynamic per-row
 *      quantization, dequantize, requantize
 *   4. convolution: NHWC conv2d (im2col into your workspace; direct for
 *      1x1, and for K <= 32 below AVX-512 VNNI) and depthwise conv (3x3 fast
 *      path), the same fused epilogue
 *   5. binary and ternary: XNOR-popcount GEMM (binary / ternary operands),
 *      BWN int8 x binary, binary conv2d with one or zero padding; outputs
 *      int32, float (batch norm folded) or packed bits
 *   6. PQ / VQ: nearest centroid (k-means' assignment, VQ encoding), PQ
 *      encode / ADC tables / top-k scan, the 4-bit fast scan (quantized
 *      tables in registers: vpshufb, tbl) with exact re-ranking, PQ matmul
 *      (F32 or 8-bit tables: vpermi2b on AVX-512 VBMI), codebook GEMV
 *      (vpermps); bit for bit the quant.h references
 *   7. int4 block weights (32 per block, a float scale each) x int8
 *      activations: GEMM and conv2d, float or requantized output
 *   8. quantized elementwise: add, mul (also with a broadcast [C] operand)
 *      and requantize between params, exactly quant.h's quant_add /
 *      quant_mul / quant_requantize_params: quant_add_k, quant_mul_k,
 *      quant_add_bc_k, quant_mul_bc_k, quant_requantize_params_k (and
 *      _rows_k: strided rows, a channel concatenation in one call)
 *
 * ---------------------------------------------------------------------------
 * KERNELS
 * ---------------------------------------------------------------------------
 * One generic driver per operation (blocking, packing, edges, epilogue)
 * calls the micro-kernel of the compiled ISA. A GEMM micro-kernel computes
 * an MR x NR tile of int32 dot products from A (uint8 or int8, shifted to
 * the instruction's type) and one packed panel of int8 B, K in groups of KG
 * bytes; its internal name says so: quant__<op>_<A><B>_<MR>x<NR>c<KG>__<isa>.
 *   operation                 tile     ISA          name (section 2.2)
 *   GEMM                      6x64c4   avx512vnni   quant__gemm_u8s8_6x64c4__avx512vnni
 *   GEMM, fused epilogue      6x64c4   avx512vnni   quant__gemm_u8s8_6x64c4_epi__avx512vnni
 *   GEMV (one row)            1x64c4   avx512vnni   quant__gemv_u8s8_1x64c4__avx512vnni
 *   conv2d, indirect          6x64c4   avx512vnni   quant__igemm_u8s8_6x64c4__avx512vnni
 *   GEMM                      6x32c2   avx512       quant__gemm_u8s8_6x32c2__avx512
 *   GEMM, |A^| x (B ^ sign)   6x32c4   avx512       quant__gemm_s8s8_6x32c4__avx512
 *   GEMM, A <= 127            6x32c4   avx512       quant__gemm_u7s8_6x32c4__avx512
 *   GEMM                      2x32c4   avxvnni      quant__gemm_u8s8_2x32c4__avxvnni
 *   GEMM                      4x16c2   avx2         quant__gemm_u8s8_4x16c2__avx2
 *   GEMM, |A^| x (B ^ sign), rows prepared once for up to 5 panel triples
 *   (K blocks of 1024)        2x48c4   avx2         quant__c4x_dot2 (quant__gemm_c4x_rows)
 *   the same, one row (GEMV, the row left) 1x64c4 avx2 quant__c4w_dot1 (quant__gemm_c4w_row)
 *   GEMM, A <= 127, the same two kernels           quant__c4x_dot2, quant__c4w_dot1 with U7
 *   the same two, a call of one panel
 *                             4x16c4   avx2         quant__gemm_s8s8_4x16c4__avx2,
 *                                                   quant__gemm_u7s8_4x16c4__avx2
 *   GEMM                      4x8c2    sse41        quant__gemm_u8s8_4x8c2__sse41
 *   GEMM, |A^| x (B ^ sign)   4x8c4    sse41        quant__gemm_s8s8_4x8c4__sse41
 *   GEMM, A <= 127            4x8c4    sse41        quant__gemm_u7s8_4x8c4__sse41
 *   GEMM                      4x16c4   neondot      quant__gemm_u8s8_4x16c4__neondot
 *   GEMM                      4x8c1    neon         quant__gemm_u8s8_4x8c1__neon
 *   GEMM                      4x8c4    scalar       quant__gemm_u8s8_4x8c4__scalar
 * The avx512, avx2 and sse41 GEMM kernels are two bodies at three vector
 * widths: quant__gemm_u8s8_madd_body (widened 16-bit pairs, KG 2) for
 * weights with a -128 byte or K < 64, quant__gemm_c4_body (pmaddubsw, KG 4)
 * for the rest: the pack chooses the packing by the weights, each call the
 * c4 kernel by the activations (A <= 127: u7s8, else s8s8); on AVX2 a
 * call of two panels or more runs both on quant__c4x_dot2 (two rows, three
 * panels, the rows prepared once for up to 5 triples) and quant__c4w_dot1
 * (one row, up to four panels), the u7s8 case with A itself for |A^| and no
 * mask. The other
 * families are one body each on the vector layer of section 1.1, compiled
 * at the tile of the ISA; the tile is activation rows x output columns:
 *   binary / ternary GEMM (5.1), 64 bits of K a step
 *                             6x32     avx512vpopcntdq quant__bgemm_6x32__avx512vpopcntdq
 *                             3x32     avx512       quant__bgemm_3x32__avx512
 *                             1x16     avx2         quant__bgemm_1x16__avx2
 *                             1x8      sse41        quant__bgemm_1x8__sse41
 *                             4x8      neon (a64)   quant__bgemm_4x8__neon
 *                             2x8      neon (armv7) quant__bgemm_2x8__neon
 *                             2x4      scalar       quant__bgemm_2x4__scalar
 *   the same, nibble panels   4x64     avx2         quant__bgemm_nib_4x64__avx2
 *                             4x32     sse41        quant__bgemm_nib_4x32__sse41
 *   conv2d, direct (4), K = k_h k_w in_c <= 32, 16-bit tap pairs (pmaddwd)
 *                             4x8      sse41        quant__dc_block (4 pixels x a panel)
 *                             4x16     avx2         quant__dc_block, quant__dc_block_rq
 *                                                   (the float requantization fused)
 *                             4x32     avxvnni, avx512: quant__dc_block
 *   int4 GEMM (7), 32 K a block
 *                             6x16     avx512vnni   quant__gemm_q4_6x16__avx512vnni
 *                             6x32     avx512vnni   quant__gemm_q4_6x32__avx512vnni
 *                             (the same two for avx512, without vnni)
 *                             2x16     avxvnni, avx2, sse41, neondot, neon:
 *                                                   quant__gemm_q4_2x16__<isa>
 *                             1x16     scalar       quant__gemm_q4_1x16__scalar
 *   nearest centroid (6), fp32 fmaf chains, l2 or ip (inner product):
 *     quant__nn_<l2|ip>_<mr_nv|mr_1|1_nv1|1_nv|1_1>__<isa>, tiles MRxNV:
 *                             6x32 6x16 1x128 1x32 1x16   avx512
 *                             4x16 4x8  1x64  1x16 1x8    avx2
 *                             4x16 4x4  1x32  1x16 1x4    neon (a64)
 *                             4x4  4x1  1x4   1x4  1x1    scalar (sse41, armv7)
 *   fused requantization of a 6x64 tile (2.2), out of line
 *                             6x64     avx512vnni   quant__rqg_6x64__avx512vnni (gemmlowp),
 *                                                   quant__rqs_6x64__avx512vnni (single)
 *
 * Exactness: int32 accumulation is exact for K <= QUANT_GEMM_MAX_K (33025:
 * 255 * 255 * K < 2^31 for any zero points); no intermediate saturates
 * (the products are widened to 16 bits, or VNNI / dot instructions
 * accumulate into 32 bits, or vpmaddubsw adds pairs whose sum is bounded
 * below 32,767: 2 x 128 x 127 with the weights in -127..127 and the
 * activations as |A - 128| with the sign moved onto the weight, 2 x 127 x
 * 128 with activations in 0..127; the int4 kernels of section 7 use it
 * where a pair of products is at most 2 x 255 x 8).
 */
#ifndef QUANT_KERNELS_H
#define QUANT_KERNELS_H

#include "quant.h"

/* ======================================================================== */
/* 1. ISA selection                                                         */
/* ======================================================================== */
/* Capabilities, cumulative: each implies the ones it is nested in, and
 * QUANT_NO_<X> removes X and everything that builds on it. */
#if !defined(QUANT_NO_SIMD)
#  if (defined(__x86_64__) || defined(__i386__) || defined(_M_X64))
#    if defined(__SSE4_1__) && !defined(QUANT_NO_SSE41)
#      define QUANT_HAS_SSE41 1
#      if defined(__AVX2__) && defined(__FMA__) && !defined(QUANT_NO_AVX2)
#        define QUANT_HAS_AVX2 1
#        if defined(__AVXVNNI__) && !defined(QUANT_NO_AVXVNNI)
#          define QUANT_HAS_AVXVNNI 1
#        endif
#        if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && !defined(QUANT_NO_AVX512)
#          define QUANT_HAS_AVX512 1
#          if defined(__AVX512VNNI__) && !defined(QUANT_NO_AVX512VNNI)
#            define QUANT_HAS_AVX512VNNI 1
#          endif
#          if defined(__AVX512VBMI__) && !defined(QUANT_NO_AVX512VBMI)
#            define QUANT_HAS_AVX512VBMI 1
#          endif
#          if defined(__AVX512VPOPCNTDQ__) && !defined(QUANT_NO_AVX512VPOPCNTDQ)
#            define QUANT_HAS_AVX512VPOPCNTDQ 1
#          endif
#        endif
#      endif
#    endif
#  elif (defined(__ARM_NEON) || defined(__ARM_NEON__)) && !defined(QUANT_NO_NEON)
#    define QUANT_HAS_NEON 1
#    if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD) && !defined(QUANT_NO_DOTPROD)
#      define QUANT_HAS_NEONDOT 1
#    endif
#  endif
#endif

/* The level the kernels are built for: the highest capability (exactly one
 * of these, or none for scalar). */
#if defined(QUANT_HAS_AVX512VNNI)
#  define QUANT_ISA_AVX512VNNI 1
#elif defined(QUANT_HAS_AVX512)
#  define QUANT_ISA_AVX512 1
#elif defined(QUANT_HAS_AVXVNNI)
#  define QUANT_ISA_AVXVNNI 1
#elif defined(QUANT_HAS_AVX2)
#  define QUANT_ISA_AVX2 1
#elif defined(QUANT_HAS_SSE41)
#  define QUANT_ISA_SSE41 1
#elif defined(QUANT_HAS_NEONDOT)
#  define QUANT_ISA_NEONDOT 1
#elif defined(QUANT_HAS_NEON)
#  define QUANT_ISA_NEON 1
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The name of the compiled ISA: "avx512vnni", "avx512", "avxvnni", "avx2",
 * "sse41", "neondot", "neon" or "scalar". */
QUANT_DEF const char *quant_isa_name(void);
/* Every CPU feature the compiled kernels use, space-separated, by the names
 * Linux's /proc/cpuinfo gives them: for example "sse4_1 avx2 fma avx512f
 * avx512bw avx512vl avx512_vnni avx512vbmi avx512_vpopcntdq" (x86), "asimd
 * asimddp" (aarch64), "neon" (armv7), "" (scalar). A program shipped to many
 * CPUs checks them before calling a kernel (examples/dispatch.c). */
QUANT_DEF const char *quant_isa_features(void);

/* ======================================================================== */
/* 2. GEMM / GEMV                                                           */
/* ======================================================================== */

typedef enum quant_layout {
    QUANT_LAYOUT_KN = 0,  /* B[k * N + n]: K x N row-major                   */
    QUANT_LAYOUT_NK       /* B[n * K + k]: N x K row-major (PyTorch Linear) */
} quant_layout;

/* Bytes the packed weights take for this build's ISA (header, column sums,
 * panels). 0 if K or N is 0, too large (K > QUANT_GEMM_MAX_K) or the size
 * overflows. */
QUANT_DEF size_t quant_gemm_pack_size(size_t K, size_t N);

/* Packs int8 weights B (K x N logical) with weight zero point b_zp (0 for
 * symmetric) into `packed` (packed_bytes >= quant_gemm_pack_size). Any
 * alignment works; 64 bytes is fastest. On SSE4.1, AVX2 and AVX-512 without
 * VNNI, weights without a -128 byte (symmetric quantization's -127..127)
 * and K >= 64 pack for faster kernels (pmaddubsw, exact there); the results
 * are the same either way. */
QUANT_DEF quant_status quant_gemm_pack(const int8_t *B, quant_layout layout, size_t K, size_t N,
        int32_t b_zp, void *packed, size_t packed_bytes);

/* K and N of a packed buffer (EFORMAT if it is not one for this ISA). */
QUANT_DEF quant_status quant_gemm_packed_dims(const void *packed, size_t *K, size_t *N);

/* C = epilogue(A x B): A is M x K uint8 (a_signed = 0) or int8 (1), row
 * stride lda, activation zero point a_zp; C has row stride ldc (elements of
 * the output type). Exactly quant_ref_gemm(). Never allocates; its stack
 * use is at most about 17 KiB (AVX2's sign kernels keep a group of tiles
 * and prepared rows there; about 5 KiB on the other builds). */
QUANT_DEF quant_status quant_gemm(size_t M, const void *A, int a_signed, size_t lda, int32_t a_zp,
        const void *packed, const quant_epilogue *ep, void *C, size_t ldc);

/* The rows [m0, m1) and columns [n0, n1) of the same product: independent
 * tiles for the caller's threads. Column bounds are fastest on multiples of
 * quant_gemm_tile_n(). */
QUANT_DEF quant_status quant_gemm_tile(size_t M, const void *A, int a_signed, size_t lda, int32_t a_zp,
        const void *packed, const quant_epilogue *ep, void *C, size_t ldc,
        size_t m0, size_t m1, size_t n0, size_t n1);
QUANT_DEF size_t quant_gemm_tile_n(void);

/* ======================================================================== */
/* 3. rows: vectorized quantize / dequantize / requantize                   */
/* ======================================================================== */
/* Each returns exactly what the quant.h reference returns (quant_quantize,
 * quant_dequantize, quant_requantize, quant_minmax + quant_params_from_range)
 * for int8 / uint8 storage, vectorized on x86. */

typedef enum quant_rows_axis {
    QUANT_PER_TENSOR = 0, /* scales[0], zps[0]                                */
    QUANT_PER_ROW,        /* scales[r], zps[r]                                */
    QUANT_PER_COL         /* scales[c], zps[c] (channels last, NHWC)          */
} quant_rows_axis;

/* x: rows x cols floats with row stride ldx; out: dt (QUANT_I8 / QUANT_U8)
 * with row stride ldo. zps may be NULL (0). */
QUANT_DEF quant_status quant_rows_quantize(const float *x, size_t rows, size_t cols, size_t ldx,
        quant_rows_axis axis, const float *scales, const int32_t *zps, int32_t qmin, int32_t qmax,
        quant_dtype dt, void *out, size_t ldo);

/* Dynamic quantization, one params per row from that row's finite min and
 * max (quant_params_from_range with the scheme; symmetric is the absmax
 * form). Writes the params of each row to scales[r], zps[r]. A row with no
 * finite value gets the params of [0, 0]. */
QUANT_DEF quant_status quant_rows_quantize_dynamic(const float *x, size_t rows, size_t cols, size_t ldx,
        quant_scheme scheme, int32_t qmin, int32_t qmax, quant_dtype dt, void *out, size_t ldo,
        float *scales, int32_t *zps);

/* q (dt QUANT_I8 / QUANT_U8) -> (q - zp) * scale. A call whose output is
 * QUANT_STREAM_BYTES or more writes it with non-temporal stores (x86; the
 * quantize calls above too, on AVX2 builds): so large an output does not
 * stay in the caches anyway, and streaming it skips the read of each line
 * before its write. Define it before the include to move the threshold. */
#ifndef QUANT_STREAM_BYTES
#  define QUANT_STREAM_BYTES ((size_t)16 << 20)
#endif
QUANT_DEF quant_status quant_rows_dequantize(const void *q, quant_dtype dt, size_t rows, size_t cols, size_t ldq,
        quant_rows_axis axis, const float *scales, const int32_t *zps, float *out, size_t ldo);

/* int32 -> int8/uint8, exactly quant_requantize() (rows x cols, dense). */
QUANT_DEF quant_status quant_rows_requantize(const int32_t *acc, size_t rows, size_t cols,
        const int32_t *bias, const quant_requant *rq, int per_channel, quant_requant_mode mode,
        int32_t zp, int32_t lo, int32_t hi, quant_dtype dt, void *out);

/* ======================================================================== */
/* 4. convolution (NHWC, int8), the GEMM's fused epilogue                   */
/* ======================================================================== */
/* Shapes are quant_conv_shape (quant.h); results equal quant_ref_conv2d /
 * quant_ref_dwconv2d bit for bit. Output rows (pixels, n * out_h * out_w)
 * are independent tiles for the caller's threads: give each thread its own
 * workspace. */

/* Weights [out_c][k_h][k_w][in_c] int8 -> the GEMM's packed layout (K =
 * k_h * k_w * in_c, N = out_c). */
QUANT_DEF size_t quant_conv2d_pack_size(const quant_conv_shape *s);
QUANT_DEF quant_status quant_conv2d_pack(const int8_t *w, const quant_conv_shape *s, int32_t w_zp,
        void *packed, size_t packed_bytes);
/* Bytes of scratch for the im2col tile (0 for a 1x1, stride 1, unpadded
 * convolution, which reads the input directly): at most about 16 KiB or 64
 * rows of K bytes. On the SSE4.1, AVX2, AVX-VNNI and AVX-512 (non-VNNI)
 * builds a convolution with K = k_h k_w in_c <= 32 runs directly, with no
 * im2col: its scratch holds the widened input rows of one output row
 * (ceil(k_h / 2) x padded row x 4 bytes, at most 16 KiB), when that is the
 * larger. It does not depend on s->batch, so one workspace serves every
 * batch size of the same layer. */
QUANT_DEF size_t quant_conv2d_workspace_size(const quant_conv_shape *s);
QUANT_DEF quant_status quant_conv2d(const quant_conv_shape *s, const void *in, int a_signed, int32_t a_zp,
        const void *packed, const quant_epilogue *ep, void *out, void *workspace, size_t workspace_bytes);
QUANT_DEF quant_status quant_conv2d_tile(const quant_conv_shape *s, const void *in, int a_signed, int32_t a_zp,
        const void *packed, const quant_epilogue *ep, void *out, void *workspace, size_t workspace_bytes,
        size_t pix0, size_t pix1);

/* Depthwise (channel multiplier 1): weights [k_h][k_w][c] int8 packed to
 * int32 (w - w_zp); 3x3 interior pixels take an unrolled path. `packed` is
 * read as int32: it must be 4-byte aligned (QUANT_EINVAL otherwise). */
QUANT_DEF size_t quant_dwconv2d_pack_size(const quant_conv_shape *s);
QUANT_DEF quant_status quant_dwconv2d_pack(const int8_t *w, const quant_conv_shape *s, int32_t w_zp,
        void *packed, size_t packed_bytes);
QUANT_DEF quant_status quant_dwconv2d(const quant_conv_shape *s, const void *in, int a_signed, int32_t a_zp,
        const void *packed, const quant_epilogue *ep, void *out);
QUANT_DEF quant_status quant_dwconv2d_tile(const quant_conv_shape *s, const void *in, int a_signed, int32_t a_zp,
        const void *packed, const quant_epilogue *ep, void *out, size_t pix0, size_t pix1);

/* ======================================================================== */
/* 5. binary and ternary kernels (XNOR-popcount)                            */
/* ======================================================================== */
/* Operands are the bitplanes of quant.h (bit 1 = -1; ternary: sign plane and
 * non-zero plane), rows of quant_bits_words(K) words, padding bits 0.
 * For an activation row a and a weight row w over the real K:
 *   binary x binary   dot = K - 2 popcount(a ^ w)
 *   ternary a x bin w dot = popcount(za) - 2 popcount((sa ^ sw) & za)
 *   bin a x ternary w dot = popcount(zw) - 2 popcount((sa ^ sw) & zw)
 *   ternary x ternary dot = popcount(za & zw) - 2 popcount((sa ^ sw) & za & zw)
 * which is exactly the sum of the +-1 / 0 products: padding never counts.
 * Weights are packed once (quant_bgemm_pack) into panels for this ISA (the
 * SSE4.1, AVX2 and AVX-VNNI builds add transposed nibble panels for 4 rows
 * and up: quant_bgemm_pack_size is 3x the bits there, 1x elsewhere). */

/* quant_bout_type and quant_bepilogue: quant.h section 10 (quant_ref_bgemm). */

/* Weights: N rows of K values; w_nonzero NULL for binary weights. */
QUANT_DEF size_t quant_bgemm_pack_size(size_t K, size_t N, int ternary);
QUANT_DEF quant_status quant_bgemm_pack(const uint64_t *w_sign, const uint64_t *w_nonzero, size_t N, size_t K,
        void *packed, size_t packed_bytes);

/* C = epilogue(A x W^T): A has M rows (a_nonzero NULL for binary
 * activations), row stride lda words (>= quant_bits_words(K)); C row stride
 * ldc in elements (I32 / F32) or words (BITS). */
QUANT_DEF quant_status quant_bgemm(size_t M, const uint64_t *a_sign, const uint64_t *a_nonzero, size_t lda,
        const void *packed, const quant_bepilogue *ep, void *C, size_t ldc);
QUANT_DEF quant_status quant_bgemm_tile(size_t M, const uint64_t *a_sign, const uint64_t *a_nonzero, size_t lda,
        const void *packed, const quant_bepilogue *ep, void *C, size_t ldc, size_t m0, size_t m1);

/* BWN: int8 / uint8 activations (zero point a_zp) x binary weights:
 * dot = sum_k (a - a_zp) * (+1 or -1), exactly; computed with the binary
 * kernel on the activations' 8 bitplanes (about 17 KiB of stack; 33 KiB on
 * the SSE4.1 / AVX2 / AVX-VNNI builds, whose binary weights also hold
 * transposed nibble panels). */
QUANT_DEF quant_status quant_bgemm_i8(size_t M, const void *A, int a_signed, size_t lda, int32_t a_zp,
        const void *packed, const quant_bepilogue *ep, void *C, size_t ldc);

/* Binary conv2d, NHWC: the input holds quant_bits_words(in_c) words per
 * pixel (channels as bits), the weights [out_c][k_h][k_w][in_c] as
 * quant_bits_words(in_c) words per tap, each tap padded to whole words.
 * Padding semantics: QUANT_PAD_ONE (padded pixels are +1, as larq's "one"
 * padding: free) or QUANT_PAD_ZERO (padded pixels contribute 0: the exact
 * per-position correction is applied). Output per pixel as in quant_bgemm
 * (bits: quant_bits_words(out_c) words per pixel). Workspace from
 * quant_bconv2d_workspace_size; packed from quant_bconv2d_pack. */
typedef enum quant_bpad { QUANT_PAD_ONE = 0, QUANT_PAD_ZERO } quant_bpad;
QUANT_DEF size_t quant_bconv2d_pack_size(const quant_conv_shape *s);
QUANT_DEF quant_status quant_bconv2d_pack(const uint64_t *w, const quant_conv_shape *s, void *packed, size_t packed_bytes);
QUANT_DEF size_t quant_bconv2d_workspace_size(const quant_conv_shape *s);
QUANT_DEF quant_status quant_bconv2d(const quant_conv_shape *s, const uint64_t *in, quant_bpad pad,
        const void *packed, const quant_bepilogue *ep, void *out, void *workspace, size_t workspace_bytes);

/* ======================================================================== */
/* 6. PQ / VQ kernels                                                       */
/* ======================================================================== */
/* The fast side of quant.h section 11. Exactness: the float chains of
 * section 11 (fmaf per coordinate, PQ sums in subspace order) are computed
 * lane by lane, so on every ISA with a fused multiply-add (x86 AVX2 and up,
 * aarch64) the results are the bits of the quant.h references; builds
 * without one (scalar, SSE4.1, armv7) call fmaf and return the same bits,
 * slowly. Packed objects (quant_pq_pack, quant_pqmm_pack,
 * quant_codebook_pack) are the same on every ISA. Nothing here allocates:
 * searches take a workspace of the size their _workspace_size reports.
 *
 *   quant_pq pq;                                      // 784-d, 16 x 8 bits
 *   quant_pq_init(&pq, 784, 16, 8, 0, malloc(4 * quant_pq_centroids_floats(784, 16, 8, 0)));
 *   quant_kmeans_opts o; quant_kmeans_opts_default(&o);
 *   o.nearest = quant_nearest;                        // the fast assignment
 *   quant_pq_train(&pq, x, n, &o, NULL);              // quant.h, allocates
 *   void *pk = malloc(quant_pq_pack_size(&pq));
 *   quant_pq_pack(&pq, pk, quant_pq_pack_size(&pq));
 *   quant_pq_encode(pk, x, n, codes);                 // n x 16 bytes
 *   quant_pq_fs_pack(pk, codes, n, fs, quant_pq_fs_size(pk, n));
 *   quant_pq_fs_search(pk, QUANT_METRIC_L2, q, nq, fs, n, 10, QUANT_FS_EXACT,
 *                      ids, dists, ws, quant_pq_fs_workspace_size(pk, n, 10), NULL);
 *   // ids / dists: exactly quant_pq_search's (exhaustive ADC) top-10
 */

/* quant_nearest_fn, vectorized across centroids with a register tile (MR
 * rows x NR centroids): bit for bit quant_ref_nearest (argmin, ties to the
 * lower index; or every score when idx is NULL). Needs ct; norms unused. As
 * quant_kmeans_opts.nearest, k-means returns the same centroids as with the
 * reference. Also the VQ encoder. */
QUANT_DEF void quant_nearest(const float *x, size_t n, size_t d, size_t ldx,
        const float *c, const float *ct, const float *norms, size_t k,
        quant_metric metric, uint32_t *idx, float *score);

/* ---- PQ, packed once: the codebooks and their transposes (dsub x ksub per
 * subspace), for encode and tables. */
QUANT_DEF size_t quant_pq_pack_size(const quant_pq *pq);
QUANT_DEF quant_status quant_pq_pack(const quant_pq *pq, void *packed, size_t packed_bytes);
/* The shape of a packed PQ (pq->centroids points into packed). */
QUANT_DEF quant_status quant_pq_packed_info(const void *packed, quant_pq *pq);

/* = quant_ref_pq_encode, bit for bit */
QUANT_DEF quant_status quant_pq_encode(const void *packed, const float *x, size_t n, uint8_t *codes);
/* = quant_ref_pq_tables, bit for bit */
QUANT_DEF quant_status quant_pq_tables(const void *packed, quant_metric metric, const float *q, size_t nq,
        float *tables);
/* = quant_ref_pq_scan, bit for bit: exhaustive top-k over codes. */
QUANT_DEF quant_status quant_pq_scan(const void *packed, const float *tables, size_t nq, const uint8_t *codes,
        size_t n, quant_metric metric, size_t k, int64_t *ids, float *dists);
/* tables + scan, one query at a time; the workspace holds one query's tables */
QUANT_DEF size_t quant_pq_search_workspace_size(const void *packed);
QUANT_DEF quant_status quant_pq_search(const void *packed, quant_metric metric, const float *q, size_t nq,
        const uint8_t *codes, size_t n, size_t k, int64_t *ids, float *dists, void *ws, size_t ws_bytes);

/* ---- fast scan (nbits 4 or 8, M <= QUANT_FS_MAX_M): 8-bit tables.
 * Codes are re-laid out in blocks. nbits 4: 32 vectors a block; for
 * subspace m (M rounded up to Mp, a multiple of 4, with zero codes) 16
 * bytes, byte i holding the code of vector 32 b + i in its low nibble and of
 * vector 32 b + 16 + i in its high nibble. nbits 8: 64 vectors a block; for
 * subspace m 64 bytes, byte i the code of vector 64 b + i. Vectors past n
 * have code 0. Per query the distance tables K (the tables; negated for IP,
 * so smaller is better) become 8-bit tables: lo_m = min_j K[m][j],
 * R = max_m (max_j K[m][j] - lo_m), q = min(255, nearbyintf((K - lo_m) *
 * (255 / R))); a vector's approximate distance is bias + delta * a with
 * a = sum_m q[m][code] (exact in 16 bits), bias = sum_m lo_m, delta = R /
 * 255. Lookups: nbits 4 keeps the tables in registers, vpshufb (AVX-512BW:
 * four subspaces per instruction; AVX2: two; SSE4.1: one) or tbl (NEON);
 * nbits 8 uses vpermi2b (AVX-512 VBMI: 64 vectors, a 256-entry table in
 * four registers), else on SSE4.1, AVX2 and AVX-512BW the 16 rows of 16
 * entries by vpshufb with blends (section 1.1, quant__vi_lut256), scalar
 * elsewhere.
 * The bound: |bias + delta * a - exact| <= M * delta / 2 (plus float
 * rounding), so the exact top-k lies within a <= A_k + M (A_k: the k-th
 * smallest a). QUANT_FS_EXACT re-ranks every vector with a <= A_k + M +
 * slack (slack: the float rounding, computed per query) by its exact PQ
 * distance: the result is quant_pq_scan's, bit for bit (ids and distances).
 * QUANT_FS_APPROX returns the top-k by a (ties to the lower id) with the
 * approximate distances. */
#define QUANT_FS_MAX_M 256
typedef enum quant_fs_mode { QUANT_FS_EXACT = 0, QUANT_FS_APPROX = 1 } quant_fs_mode;
QUANT_DEF size_t quant_pq_fs_size(const void *packed, size_t n);
QUANT_DEF quant_status quant_pq_fs_pack(const void *packed, const uint8_t *codes, size_t n, uint8_t *fs, size_t fs_bytes);
QUANT_DEF size_t quant_pq_fs_workspace_size(const void *packed, size_t n, size_t k);
/* tables as quant_pq_tables; *reranked (may be NULL) gets the number of
 * exact re-rankings summed over the queries */
QUANT_DEF quant_status quant_pq_fs_scan(const void *packed, const float *tables, size_t nq, const uint8_t *fs,
        size_t n, quant_metric metric, size_t k, quant_fs_mode mode, int64_t *ids, float *dists,
        void *ws, size_t ws_bytes, size_t *reranked);
QUANT_DEF quant_status quant_pq_fs_search(const void *packed, quant_metric metric, const float *q, size_t nq,
        const uint8_t *fs, size_t n, size_t k, quant_fs_mode mode, int64_t *ids, float *dists,
        void *ws, size_t ws_bytes, size_t *reranked);

/* ---- PQ matmul: y = W x with the rows of W PQ-encoded (quant_ref_pqmm).
 * The codes are re-laid out in blocks of 64 rows: for each subspace, 64
 * bytes (nbits 8: row i at byte i) or 32 bytes (nbits 4: row i in the low
 * nibble of byte i, row 32 + i in its high nibble). quant_pqmm_tables
 * builds x's tables (F32: floats; LUT8: bytes, delta and bias) in the
 * workspace; quant_pqmm_rows then computes any range of rows (independent
 * tiles for your threads). Bit for bit quant_ref_pqmm. Lookups: F32 by
 * vgatherdps (nbits 8) or vpermps (nbits 4) on AVX-512, scalar loads in
 * blocks whose tables stay in L1 on SSE4.1 and AVX2 (nbits 8; on AVX2
 * faster than its gathers); LUT8 by vpermi2b (AVX-512 VBMI: 64 rows a
 * subspace in three instructions, 16-bit accumulators), the vpshufb rows of the fast scan
 * (nbits 8 on SSE4.1, AVX2, AVX-512BW) or vpermd (nbits 4, AVX-512). */
QUANT_DEF size_t quant_pqmm_pack_size(const quant_pq *pq, size_t rows);
QUANT_DEF quant_status quant_pqmm_pack(const quant_pq *pq, const uint8_t *codes, size_t rows,
        void *packed, size_t packed_bytes);
QUANT_DEF size_t quant_pqmm_workspace_size(const void *packed, quant_pqmm_mode mode);
QUANT_DEF quant_status quant_pqmm_tables(const void *packed, const float *x, quant_pqmm_mode mode,
        void *ws, size_t ws_bytes);
QUANT_DEF quant_status quant_pqmm_rows(const void *packed, const void *ws, float *y, size_t r0, size_t r1);
QUANT_DEF quant_status quant_pqmm(const void *packed, const float *x, quant_pqmm_mode mode, float *y,
        void *ws, size_t ws_bytes);

/* ---- codebook GEMV (weight sharing): y = W x with W's rows x cols indices
 * into a codebook (quant_ref_codebook_gemv, bit for bit). Packed in blocks
 * of 64 rows: for each column (bits 8) or pair of columns (bits 4: column
 * 2c in the low nibble), 64 bytes, one per row; lanes are rows, so each
 * row keeps its fmaf chain. Lookups: vpermps (16 entries, AVX-512) or two
 * vpermps and a blend (AVX2), vgatherdps for 256 entries. */
QUANT_DEF size_t quant_codebook_pack_size(int bits, size_t rows, size_t cols);
QUANT_DEF quant_status quant_codebook_pack(const uint8_t *idx, int bits, size_t rows, size_t cols,
        const float *codebook, int entries, void *packed, size_t packed_bytes);
QUANT_DEF quant_status quant_codebook_gemv(const void *packed, const float *x, float *y);
QUANT_DEF quant_status quant_codebook_gemv_tile(const void *packed, const float *x, float *y, size_t r0, size_t r1);

/* ======================================================================== */
/* 7. int4 block weights x int8 activations                                 */
/* ======================================================================== */
/* The formula, quant_q4_epilogue and the reference quant_ref_gemm_q4 are in
 * quant.h (section 10). Every ISA returns its bits
 * (fmaf is exactly rounded; x86 and aarch64 use their FMA instructions,
 * the other builds fmaf). The integer dots use vpdpbusd, or vpmaddubsw +
 * vpmaddwd (safe here: |a x w| <= 255 x 8, a pair sums to at most 4,080),
 * or sdot / smull on Arm.
 *
 * Packed (the same layout on every ISA, so a packed buffer is portable):
 * a 64-byte header, then per panel of 16 columns and per block 384 bytes:
 * 4 x 64 bytes of nibbles (byte 4c + j of chunk g: low nibble W + 8 for
 * k = 32b + 4g + j, high nibble for k + 16), 16 float scales and the 16
 * int32 sums of the block's weights (the zero-point correction). */

QUANT_DEF size_t quant_gemm_q4_pack_size(size_t K, size_t N);
/* W is N x K int8 in [-8, 7] (ERANGE otherwise), scales N x nb finite and
 * >= 0 (EINVAL otherwise); nothing is written on error. */
QUANT_DEF quant_status quant_gemm_q4_pack(const int8_t *W, const float *scales, size_t K, size_t N,
        void *packed, size_t packed_bytes);
QUANT_DEF quant_status quant_gemm_q4_packed_dims(const void *packed, size_t *K, size_t *N);
/* C (row stride ldc, elements of the output type): exactly quant_ref_gemm_q4. */
QUANT_DEF quant_status quant_gemm_q4(size_t M, const void *A, int a_signed, size_t lda, int32_t a_zp,
        const void *packed, const quant_q4_epilogue *ep, void *C, size_t ldc);
/* Rows [m0, m1) and columns [n0, n1): independent tiles (columns fastest
 * on multiples of 16). */
QUANT_DEF quant_status quant_gemm_q4_tile(size_t M, const void *A, int a_signed, size_t lda, int32_t a_zp,
        const void *packed, const quant_q4_epilogue *ep, void *C, size_t ldc,
        size_t m0, size_t m1, size_t n0, size_t n1);
/* Convolution with int4 block weights [out_c][k_h][k_w][in_c] (K = k_h *
 * k_w * in_c along which the blocks run): im2col into the workspace of
 * quant_conv2d_workspace_size(s), then the GEMM above with row = output
 * pixel. Output rows (pixels) [pix0, pix1) are independent tiles. */
QUANT_DEF quant_status quant_conv2d_q4_tile(const quant_conv_shape *s, const void *in, int a_signed, int32_t a_zp,
        const void *packed, const quant_q4_epilogue *ep, void *out, void *workspace, size_t workspace_bytes,
        size_t pix0, size_t pix1);

/* ======================================================================== */
/* 8. quantized elementwise: add, mul, requantize (vectorized)              */
/* ======================================================================== */
/* quant.h's TFLite ADD / MUL / Requantize (section 6 there: gemmlowp
 * fixed point, per-tensor params, int8 or uint8), vectorized: the same
 * checks, the same status codes (nothing written on error) and the same
 * bytes as quant_add / quant_mul / quant_requantize_params for every input
 * and every params struct. Params come from quant_add_prepare /
 * quant_mul_prepare as for the scalar functions. out may be a or b (in
 * place); no other overlap. Any alignment.
 *
 *   quant_add_params ap;
 *   quant_add_prepare(&pa, &pb, &po, QUANT_ACT_RELU, &ap);   // once
 *   quant_add_k(a, b, n, QUANT_U8, &ap, out);                // residual add
 *   quant_mul_bc_k(x, s, h * w * c, c, QUANT_U8, &mp, out);  // squeeze-excite
 *
 * The vector kernels compute each gemmlowp multiply exactly (saturating
 * left shift, SaturatingRoundingDoublingHighMul, RoundingDivideByPOT):
 *
 *   ISA                  lanes   the 64-bit product x * M
 *   avx512, avx512vnni   8 x 64  vpmuldq, values kept as int64 (vpsraq)
 *   avx2, avxvnni        8 x 32  vpmuldq on even / odd lanes, logical shifts
 *   sse41                4 x 32  pmuldq on even / odd lanes, logical shifts
 *   neon, neondot        4 x 32  sqrdmulh (= SRDHM), srshl with the sign fix
 *   scalar               -       the quant.h functions
 * (internal: quant__ew_{add,mul}_{i8,u8}_*, quant__ew_rq_{ii,iu,ui,uu}_*, one
 * per element type and kind of multiply; add's input of the larger scale,
 * multiplier 2^30 and shift 0 in every prepared add, is a plain shift.)
 * bench/bench_elementwise.c compares them with the scalar functions.
 *
 * A params struct outside the kernels' proven range (a multiplier below 0,
 * an input shift above 0, offsets large enough that the scalar int32
 * arithmetic could overflow: never the case for params of int8 / uint8
 * tensors from the prepare functions) is handled by the quant.h function
 * itself, so the results stay identical. */
QUANT_DEF quant_status quant_add_k(const void *a, const void *b, size_t n, quant_dtype dt,
        const quant_add_params *prm, void *out);
QUANT_DEF quant_status quant_mul_k(const void *a, const void *b, size_t n, quant_dtype dt,
        const quant_mul_params *prm, void *out);
/* Broadcast: b holds c values applied to each of the n / c rows of a (NHWC
 * with b of shape [1, 1, C]): out[i] = op(a[i], b[i % c]), exactly quant_add
 * (quant_mul) row by row. EINVAL also when n > 0 and c is 0 or does not
 * divide n. For a broadcast first operand, swap the operands and prepare
 * with swapped params: add and mul are symmetric in (a, params of a). */
QUANT_DEF quant_status quant_add_bc_k(const void *a, const void *b, size_t n, size_t c, quant_dtype dt,
        const quant_add_params *prm, void *out);
QUANT_DEF quant_status quant_mul_bc_k(const void *a, const void *b, size_t n, size_t c, quant_dtype dt,
        const quant_mul_params *prm, void *out);
/* = quant_requantize_params (concatenation of inputs with other params) */
QUANT_DEF quant_status quant_requantize_params_k(const void *in, quant_dtype in_dt,
        const quant_params *pin, size_t n, const quant_params *pout,
        quant_dtype out_dt, void *out);
/* The same on rows x cols with row strides ldi / ldo (elements), one call
 * for a whole channel concatenation (NHWC: rows = pixels, cols = this
 * input's channels, ldi = cols, ldo = the output's channels, out offset by
 * the channels before it): quant_requantize_params row by row, bytes
 * between rows untouched. EINVAL if ldi or ldo < cols, EOVERFLOW if the
 * span overflows size_t. */
QUANT_DEF quant_status quant_requantize_params_rows_k(const void *in, quant_dtype in_dt,
        const quant_params *pin, size_t rows, size_t cols, size_t ldi, const quant_params *pout,
        quant_dtype out_dt, void *out, size_t ldo);

#ifdef __cplusplus
}
#endif

#endif /* QUANT_KERNELS_H */

/* ######################################################################## */
/*                              IMPLEMENTATION                              */
/* ######################################################################## */
#ifdef QUANT_IMPLEMENTATION
#ifndef QUANT_KERNELS_IMPLEMENTATION_INCLUDED
#define QUANT_KERNELS_IMPLEMENTATION_INCLUDED

/* GCC 12 reports -Wmaybe-uninitialized (and, in functions that are not
 * inlined, -Wuninitialized) inside its own AVX-512 intrinsic headers when
 * they are inlined into C++ at -O2/-O3 (GCC bug 105593). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <string.h>
#include <math.h>
#if defined(QUANT_HAS_SSE41)
#include <immintrin.h>
#endif
#if defined(QUANT_HAS_NEON)
#include <arm_neon.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* 1. ISA selection (implementation)                                        */
/* ======================================================================== */
/* Per ISA: the packing (k group KG, panel width NR), the rows of the main
 * micro-kernel (MR) and the offset DELTA_U / DELTA_S the kernel adds to
 * unsigned / signed activations (A^ = A + delta) to feed its instruction.
 * KG_SGN: a second packing the pack chooses when no weight byte is -128, for
 * the sign-moved pmaddubsw kernel (A^ = A - 128 for uint8, A for int8). */
#if defined(QUANT_ISA_AVX512VNNI)
#  define QUANT__ISA_ID 7
#  define QUANT__ISA_NAME "avx512vnni"
#  define QUANT__KG 4
#  define QUANT__NR 64
#  define QUANT__MR 6
#  define QUANT__DELTA_U 0
#  define QUANT__DELTA_S 128
#elif defined(QUANT_ISA_AVX512)
#  define QUANT__ISA_ID 6
#  define QUANT__ISA_NAME "avx512"
#  define QUANT__KG 2
#  define QUANT__NR 32
#  define QUANT__MR 6
#  define QUANT__KG_SGN 4 /* panels without a -128 weight */
#  define QUANT__DELTA_U 0
#  define QUANT__DELTA_S 0
#elif defined(QUANT_ISA_AVXVNNI)
#  define QUANT__ISA_ID 5
#  define QUANT__ISA_NAME "avxvnni"
#  define QUANT__KG 4
#  define QUANT__NR 32
#  define QUANT__MR 2
#  define QUANT__DELTA_U 0
#  define QUANT__DELTA_S 128
#elif defined(QUANT_ISA_AVX2)
#  define QUANT__ISA_ID 4
#  define QUANT__ISA_NAME "avx2"
#  define QUANT__KG 2
#  define QUANT__NR 16
#  define QUANT__MR 4
#  define QUANT__KG_SGN 4 /* panels without a -128 weight */
#  define QUANT__DELTA_U 0
#  define QUANT__DELTA_S 0
#elif defined(QUANT_ISA_SSE41)
#  define QUANT__ISA_ID 3
#  define QUANT__ISA_NAME "sse41"
#  define QUANT__KG 2
#  define QUANT__NR 8
#  define QUANT__MR 4
#  define QUANT__KG_SGN 4 /* panels without a -128 weight */
#  define QUANT__DELTA_U 0
#  define QUANT__DELTA_S 0
#elif defined(QUANT_ISA_NEONDOT)
#  define QUANT__ISA_ID 9
#  define QUANT__ISA_NAME "neondot"
#  define QUANT__KG 4
#  define QUANT__NR 16
#  define QUANT__MR 4
#  define QUANT__DELTA_U (-128)
#  define QUANT__DELTA_S 0
#elif defined(QUANT_ISA_NEON)
#  define QUANT__ISA_ID 8
#  define QUANT__ISA_NAME "neon"
#  define QUANT__KG 1
#  define QUANT__NR 8
#  define QUANT__MR 4
#  define QUANT__DELTA_U 0
#  define QUANT__DELTA_S 0
#else
#  define QUANT__ISA_ID 1
#  define QUANT__ISA_NAME "scalar"
#  define QUANT__KG 4
#  define QUANT__NR 8
#  define QUANT__MR 4
#  define QUANT__DELTA_U 0
#  define QUANT__DELTA_S 0
#endif

/* Full unrolling of the fixed-size row / column loops of the micro-kernels,
 * so that their accumulator arrays live in registers. (A build may define it
 * empty first: the kernel tests of levels emulated through SIMDe do, where
 * the accumulators are memory anyway and unrolling doubled the compile.) */
#if defined(QUANT__UNROLL)
#elif defined(__clang__)
#  define QUANT__UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#  define QUANT__UNROLL _Pragma("GCC unroll 16")
#else
#  define QUANT__UNROLL
#endif

/* Inlining: QUANT__AINL always inlines a helper or a kernel body (so that
 * its constant int parameters fold, as template arguments would);
 * QUANT__NOINL keeps an epilogue out of line, out of a kernel's registers. */
#if defined(__GNUC__) || defined(__clang__)
#  define QUANT__AINL static inline __attribute__((always_inline))
#  define QUANT__NOINL static __attribute__((noinline))
#elif defined(_MSC_VER)
#  define QUANT__AINL static __forceinline
#  define QUANT__NOINL static __declspec(noinline)
#else
#  define QUANT__AINL static inline
#  define QUANT__NOINL static
#endif

QUANT_DEF const char *quant_isa_name(void) { return QUANT__ISA_NAME; }
QUANT_DEF const char *quant_isa_features(void) {
    static const char f[] = ""
#if defined(QUANT_HAS_SSE41)
        " sse4_1"
#endif
#if defined(QUANT_HAS_AVX2)
        " avx2 fma"
#endif
#if defined(QUANT_HAS_AVXVNNI)
        " avx_vnni"
#endif
#if defined(QUANT_HAS_AVX512)
        " avx512f avx512bw avx512vl"
#endif
#if defined(QUANT_HAS_AVX512VNNI)
        " avx512_vnni"
#endif
#if defined(QUANT_HAS_AVX512VBMI)
        " avx512vbmi"
#endif
#if defined(QUANT_HAS_AVX512VPOPCNTDQ)
        " avx512_vpopcntdq"
#endif
#if defined(QUANT_HAS_NEON) && defined(__aarch64__)
        " asimd"
#elif defined(QUANT_HAS_NEON)
        " neon"
#endif
#if defined(QUANT_HAS_NEONDOT)
        " asimddp"
#endif
        ;
    return f[0] ? f + 1 : f;
}
QUANT_DEF size_t quant_gemm_tile_n(void) { return QUANT__NR; }

/* ------------------------------------------------------ 1.1 vector layer */
/* The native integer vector quant__vi (QUANT__VL int32 lanes), its lane
 * mask quant__vm and the operations that algorithms written once on them
 * use: the requantizers and the widening GEMM kernel of section 2.2, the
 * nibble-table binary kernel of section 5.1, the int4 GEMM of section 7 and
 * the elementwise kernels of section 8 (with NEON's int32 lanes, below).
 * Per ISA, the type and the
 * intrinsic prefix (QUANT__MM); then the operations every width has, under
 * one definition, and per ISA those that differ. Each is an instruction or
 * two. Lanes pair up as 64-bit lanes for the products: mul_even multiplies
 * the even int32 lanes into 64-bit lanes. */
#if defined(QUANT_HAS_AVX512)
#  define QUANT__VL 16
typedef __m512i quant__vi;
typedef __mmask16 quant__vm;
#  define QUANT__MM(op) _mm512_##op       /* the ISA's intrinsic of op  */
#  define QUANT__MMSI(op) _mm512_##op##_si512
#elif defined(QUANT_HAS_AVX2)
#  define QUANT__VL 8
typedef __m256i quant__vi;
typedef __m256i quant__vm; /* all ones or zero per int32 lane */
#  define QUANT__MM(op) _mm256_##op
#  define QUANT__MMSI(op) _mm256_##op##_si256
#elif defined(QUANT_HAS_SSE41)
#  define QUANT__VL 4
typedef __m128i quant__vi;
typedef __m128i quant__vm;
#  define QUANT__MM(op) _mm_##op
#  define QUANT__MMSI(op) _mm_##op##_si128
#endif
#if defined(QUANT__VL)
/* the operations every width has, under one name */
QUANT__AINL quant__vi quant__vi_zero(void) { return QUANT__MMSI(setzero)(); }
QUANT__AINL quant__vi quant__vi_set32(int32_t v) { return QUANT__MM(set1_epi32)(v); }
QUANT__AINL void quant__vi_store(void *p, quant__vi v) { QUANT__MMSI(storeu)((quant__vi *)p, v); }
QUANT__AINL quant__vi quant__vi_load(const void *p) { return QUANT__MMSI(loadu)((const quant__vi *)p); }
#  define quant__vi_loadu quant__vi_load /* p of any alignment (as load on x86) */
/* QUANT__VL bytes at p, sign- (SGN) or zero-extended to the int32 lanes */
QUANT__AINL quant__vi quant__vi_ld8_32(const void *p, const int SGN) {
#  if QUANT__VL == 16
    const __m128i b = _mm_loadu_si128((const __m128i *)p);
#  elif QUANT__VL == 8
    const __m128i b = _mm_loadl_epi64((const __m128i *)p);
#  else
    int32_t w;
    __m128i b;
    memcpy(&w, p, 4);
    b = _mm_cvtsi32_si128(w);
#  endif
    return SGN ? QUANT__MM(cvtepi8_epi32)(b) : QUANT__MM(cvtepu8_epi32)(b);
}
/* 16 bytes at p, extended likewise, to the int32 lanes of 16 / QUANT__VL vectors */
QUANT__AINL void quant__vi_ld16_32(const void *p, const int SGN, quant__vi *v) {
    int j;
    QUANT__UNROLL
    for (j = 0; j < 16 / QUANT__VL; j++) v[j] = quant__vi_ld8_32((const uint8_t *)p + QUANT__VL * j, SGN);
}
/* bytes: add, subtract, each lane's sign (-1 / 0), table lookup in 16-byte
 * lanes (pshufb), interleave with a second vector to 16-bit lanes */
QUANT__AINL quant__vi quant__vi_add8(quant__vi a, quant__vi b) { return QUANT__MM(add_epi8)(a, b); }
QUANT__AINL quant__vi quant__vi_sub8(quant__vi a, quant__vi b) { return QUANT__MM(sub_epi8)(a, b); }
QUANT__AINL quant__vi quant__vi_shuf8(quant__vi t, quant__vi i) { return QUANT__MM(shuffle_epi8)(t, i); }
QUANT__AINL quant__vi quant__vi_unpacklo8(quant__vi a, quant__vi b) { return QUANT__MM(unpacklo_epi8)(a, b); }
QUANT__AINL quant__vi quant__vi_unpackhi8(quant__vi a, quant__vi b) { return QUANT__MM(unpackhi_epi8)(a, b); }
QUANT__AINL quant__vi quant__vi_add16(quant__vi a, quant__vi b) { return QUANT__MM(add_epi16)(a, b); }
/* acc + the sums of adjacent int16 products */
QUANT__AINL quant__vi quant__vi_madd16(quant__vi acc, quant__vi a, quant__vi b) {
    return QUANT__MM(add_epi32)(acc, QUANT__MM(madd_epi16)(a, b));
}
QUANT__AINL quant__vi quant__vi_add32(quant__vi a, quant__vi b) { return QUANT__MM(add_epi32)(a, b); }
QUANT__AINL quant__vi quant__vi_sub32(quant__vi a, quant__vi b) { return QUANT__MM(sub_epi32)(a, b); }
QUANT__AINL quant__vi quant__vi_max32(quant__vi a, quant__vi b) { return QUANT__MM(max_epi32)(a, b); }
QUANT__AINL quant__vi quant__vi_min32(quant__vi a, quant__vi b) { return QUANT__MM(min_epi32)(a, b); }
QUANT__AINL quant__vi quant__vi_sign32(quant__vi a) { return QUANT__MM(srai_epi32)(a, 31); } /* -1 / 0 */
/* shifts by the count in the low 64 bits of n, and by an int */
QUANT__AINL quant__vi quant__vi_sll32(quant__vi a, __m128i n) { return QUANT__MM(sll_epi32)(a, n); }
QUANT__AINL quant__vi quant__vi_sra32(quant__vi a, __m128i n) { return QUANT__MM(sra_epi32)(a, n); }
QUANT__AINL quant__vi quant__vi_srl64(quant__vi a, __m128i n) { return QUANT__MM(srl_epi64)(a, n); }
QUANT__AINL quant__vi quant__vi_shl32(quant__vi a, int n) { return quant__vi_sll32(a, _mm_cvtsi32_si128(n)); }
QUANT__AINL quant__vi quant__vi_and(quant__vi a, quant__vi b) { return QUANT__MMSI(and)(a, b); }
QUANT__AINL quant__vi quant__vi_half32(quant__vi a) { return QUANT__MM(srli_epi32)(a, 1); } /* logical >> 1 */
QUANT__AINL quant__vi quant__vi_shr4_32(quant__vi a) { return QUANT__MM(srli_epi32)(a, 4); } /* logical >> 4 */
QUANT__AINL quant__vi quant__vi_add64(quant__vi a, quant__vi b) { return QUANT__MM(add_epi64)(a, b); }
QUANT__AINL quant__vi quant__vi_sub64(quant__vi a, quant__vi b) { return QUANT__MM(sub_epi64)(a, b); }
QUANT__AINL quant__vi quant__vi_odd_down(quant__vi a) { return QUANT__MM(srli_epi64)(a, 32); }
QUANT__AINL quant__vi quant__vi_mul_even(quant__vi a, quant__vi b) { return QUANT__MM(mul_epi32)(a, b); }
#endif
#if defined(QUANT_HAS_AVX2)
QUANT__AINL quant__vi quant__vi_shlv32(quant__vi a, quant__vi n) { return QUANT__MM(sllv_epi32)(a, n); }
QUANT__AINL quant__vi quant__vi_srav32(quant__vi a, quant__vi n) { return QUANT__MM(srav_epi32)(a, n); }
QUANT__AINL quant__vi quant__vi_shlv64(quant__vi a, quant__vi n) { return QUANT__MM(sllv_epi64)(a, n); }
#endif
/* what differs: 2 QUANT__VL int8 -> int16 lanes, 64-bit constants and
 * shifts, the blends of 64-bit lane halves, comparisons into lane masks */
#if defined(QUANT_HAS_AVX512)
QUANT__AINL quant__vi quant__vi_load_s8s16(const int8_t *p) { return _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)p)); }
QUANT__AINL quant__vi quant__vi_set64(int64_t v) { return _mm512_set1_epi64(v); }
#  define QUANT__VI_LUT16(...) _mm512_broadcast_i32x4(_mm_setr_epi8(__VA_ARGS__)) /* 16 bytes in every 128-bit lane */
/* m & (a ^ b) in one vpternlogq written over m (GCC does not fuse the two
 * itself; with another operand first it copies m, the op saved) */
QUANT__AINL quant__vi quant__vi_andxor(quant__vi m, quant__vi a, quant__vi b) { return _mm512_ternarylogic_epi64(m, a, b, 0x60); }
#  define QUANT__VI_ANDXOR 1
#  if defined(QUANT_HAS_AVX512VPOPCNTDQ)
/* acc + the popcount of each 64-bit lane of x */
QUANT__AINL quant__vi quant__vi_pcadd(quant__vi acc, quant__vi x) { return _mm512_add_epi64(acc, _mm512_popcnt_epi64(x)); }
#    define QUANT__VI_PCADD 1
#  endif
/* bits 31..62 of each 64-bit lane of a in the even int32 lanes, of b in the odd ones */
QUANT__AINL quant__vi quant__vi_hi31(quant__vi a, quant__vi b) {
    return _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(a, 31), _mm512_add_epi64(b, b));
}
/* the low int32 of each 64-bit lane of a in the even lanes, of b in the odd ones */
QUANT__AINL quant__vi quant__vi_lo32s(quant__vi a, quant__vi b) {
    return _mm512_mask_blend_epi32(0xAAAA, a, _mm512_slli_epi64(b, 32));
}
QUANT__AINL quant__vi quant__vi_srav64(quant__vi a, quant__vi n) { return _mm512_srav_epi64(a, n); }
QUANT__AINL quant__vi quant__vi_clamp64(quant__vi a, quant__vi lo, quant__vi hi) {
    return _mm512_min_epi64(_mm512_max_epi64(a, lo), hi);
}
/* the low byte of each int32 lane to p (QUANT__VL bytes) */
QUANT__AINL void quant__vi_st8(void *p, quant__vi a) { _mm_storeu_si128((__m128i *)p, _mm512_cvtepi32_epi8(a)); }
/* 16 values of the byte type (SGN: int8) in the int32 lanes of 16 / QUANT__VL vectors to p */
QUANT__AINL void quant__vi_st16_8(void *p, const int SGN, const quant__vi *v) { (void)SGN; quant__vi_st8(p, v[0]); }
QUANT__AINL quant__vm quant__vi_eq32(quant__vi a, quant__vi b) { return _mm512_cmpeq_epi32_mask(a, b); }
QUANT__AINL quant__vm quant__vi_ne32(quant__vi a, quant__vi b) { return _mm512_cmpneq_epi32_mask(a, b); }
QUANT__AINL quant__vm quant__vi_gt32(quant__vi a, quant__vi b) { return _mm512_cmpgt_epi32_mask(a, b); }
QUANT__AINL quant__vm quant__vi_neg32(quant__vi a) { return _mm512_cmplt_epi32_mask(a, _mm512_setzero_si512()); }
QUANT__AINL quant__vi quant__vi_sel(quant__vm m, quant__vi a, quant__vi b) { return _mm512_mask_mov_epi32(b, m, a); }
QUANT__AINL quant__vi quant__vi_inc(quant__vi a, quant__vm m) { return _mm512_mask_add_epi32(a, m, a, _mm512_set1_epi32(1)); }
/* the sum of the 128-bit lanes as 16-bit lanes (wrapping) */
QUANT__AINL __m128i quant__vi_fold128_16(quant__vi x) {
    x = _mm512_add_epi16(x, _mm512_shuffle_i64x2(x, x, _MM_SHUFFLE(1, 0, 3, 2)));
    return _mm512_castsi512_si128(_mm512_add_epi16(x, _mm512_shuffle_i64x2(x, x, _MM_SHUFFLE(2, 3, 0, 1))));
}
#elif defined(QUANT_HAS_AVX2)
QUANT__AINL quant__vi quant__vi_sign8(quant__vi a) { return _mm256_cmpgt_epi8(_mm256_setzero_si256(), a); }
QUANT__AINL quant__vi quant__vi_load_s8s16(const int8_t *p) { return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)p)); }
QUANT__AINL quant__vi quant__vi_set64(int64_t v) { return _mm256_set1_epi64x(v); }
#  define QUANT__VI_LUT16(...) _mm256_setr_epi8(__VA_ARGS__, __VA_ARGS__)
QUANT__AINL quant__vi quant__vi_hi31(quant__vi a, quant__vi b) {
    return _mm256_blend_epi32(_mm256_srli_epi64(a, 31), _mm256_add_epi64(b, b), 0xAA);
}
QUANT__AINL quant__vi quant__vi_lo32s(quant__vi a, quant__vi b) {
    return _mm256_blend_epi32(a, _mm256_slli_epi64(b, 32), 0xAA);
}
/* no vpsraq: a logical shift with the sign filled in (n from 1 to 62) */
QUANT__AINL quant__vi quant__vi_srav64(quant__vi a, quant__vi n) {
    const __m256i fill = _mm256_sllv_epi64(_mm256_set1_epi64x(-1), _mm256_sub_epi64(_mm256_set1_epi64x(64), n));
    return _mm256_or_si256(_mm256_srlv_epi64(a, n), _mm256_and_si256(_mm256_cmpgt_epi64(_mm256_setzero_si256(), a), fill));
}
QUANT__AINL quant__vi quant__vi_clamp64(quant__vi a, quant__vi lo, quant__vi hi) {
    a = _mm256_blendv_epi8(a, lo, _mm256_cmpgt_epi64(lo, a));
    return _mm256_blendv_epi8(a, hi, _mm256_cmpgt_epi64(a, hi));
}
QUANT__AINL void quant__vi_st8(void *p, quant__vi a) { /* bytes 0, 4, 8, 12 of each 128-bit lane */
    const __m256i t = _mm256_shuffle_epi8(a, QUANT__VI_LUT16(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
    _mm_storel_epi64((__m128i *)p, _mm_unpacklo_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1)));
}
QUANT__AINL void quant__vi_st16_8(void *p, const int SGN, const quant__vi *v) { /* saturating packs: exact here */
    /* packs work in 128-bit halves: [v0 0-3, v1 0-3 | v0 4-7, v1 4-7] */
    const __m256i w = _mm256_packs_epi32(v[0], v[1]);
    const __m128i lo = _mm256_castsi256_si128(w), hi = _mm256_extracti128_si256(w, 1);
    const __m128i b = SGN ? _mm_packs_epi16(lo, hi) : _mm_packus_epi16(lo, hi); /* v0 0-3, v1 0-3, v0 4-7, v1 4-7 */
    _mm_storeu_si128((__m128i *)p, _mm_shuffle_epi32(b, _MM_SHUFFLE(3, 1, 2, 0)));
}
QUANT__AINL quant__vm quant__vi_ne32(quant__vi a, quant__vi b) {
    return _mm256_xor_si256(_mm256_cmpeq_epi32(a, b), _mm256_set1_epi32(-1));
}
QUANT__AINL quant__vm quant__vi_eq32(quant__vi a, quant__vi b) { return _mm256_cmpeq_epi32(a, b); }
QUANT__AINL quant__vm quant__vi_gt32(quant__vi a, quant__vi b) { return _mm256_cmpgt_epi32(a, b); }
QUANT__AINL quant__vm quant__vi_neg32(quant__vi a) { return _mm256_cmpgt_epi32(_mm256_setzero_si256(), a); }
QUANT__AINL quant__vi quant__vi_sel(quant__vm m, quant__vi a, quant__vi b) { return _mm256_blendv_epi8(b, a, m); }
QUANT__AINL quant__vi quant__vi_inc(quant__vi a, quant__vm m) { return _mm256_sub_epi32(a, m); } /* m is -1 or 0 */
QUANT__AINL __m128i quant__vi_fold128_16(quant__vi x) { return _mm_add_epi16(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1)); }
#elif defined(QUANT_HAS_SSE41)
QUANT__AINL quant__vi quant__vi_sign8(quant__vi a) { return _mm_cmpgt_epi8(_mm_setzero_si128(), a); }
QUANT__AINL quant__vi quant__vi_load_s8s16(const int8_t *p) { return _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)p)); }
QUANT__AINL quant__vi quant__vi_set64(int64_t v) { return _mm_set1_epi64x(v); }
#  define QUANT__VI_LUT16(...) _mm_setr_epi8(__VA_ARGS__)
QUANT__AINL quant__vi quant__vi_lo32s(quant__vi a, quant__vi b) { return _mm_blend_epi16(a, _mm_slli_epi64(b, 32), 0xCC); }
QUANT__AINL __m128i quant__vi_fold128_16(quant__vi x) { return x; }
QUANT__AINL void quant__vi_st16_8(void *p, const int SGN, const quant__vi *v) {
    const __m128i a = _mm_packs_epi32(v[0], v[1]), b = _mm_packs_epi32(v[2], v[3]);
    _mm_storeu_si128((__m128i *)p, SGN ? _mm_packs_epi16(a, b) : _mm_packus_epi16(a, b));
}
QUANT__AINL quant__vi quant__vi_sel(quant__vm m, quant__vi a, quant__vi b) { return _mm_blendv_epi8(b, a, m); }
QUANT__AINL quant__vm quant__vi_eq32(quant__vi a, quant__vi b) { return _mm_cmpeq_epi32(a, b); }
#endif

/* Bits and bytes (the binary kernels of section 5, the int4 nibbles of
 * section 7), on every ISA: QUANT__VB bytes a vector (NEON: two 64-bit lanes;
 * scalar: one 64-bit word). cnt8 counts the bits of each byte, fold8 adds
 * the bytes of each 64-bit lane to that lane of acc, pcadd adds each 64-bit
 * lane's popcount (cnt8 then fold8 where no instruction does it). */
#if defined(QUANT__VL)
#  define QUANT__VB (4 * QUANT__VL)
#  define QUANT__VI32 QUANT__VL /* the int32 lanes (also NEON's) */
QUANT__AINL quant__vi quant__vi_or(quant__vi a, quant__vi b) { return QUANT__MMSI(or)(a, b); }
QUANT__AINL quant__vi quant__vi_xor(quant__vi a, quant__vi b) { return QUANT__MMSI(xor)(a, b); }
/* the 16-byte table t (in every 128-bit lane) at the low / high nibble of each byte of x */
QUANT__AINL quant__vi quant__vi_nib_lo(quant__vi t, quant__vi x) { return QUANT__MM(shuffle_epi8)(t, QUANT__MMSI(and)(x, QUANT__MM(set1_epi8)(15))); }
QUANT__AINL quant__vi quant__vi_nib_hi(quant__vi t, quant__vi x) { return quant__vi_nib_lo(t, QUANT__MM(srli_epi16)(x, 4)); }
/* the low / high nibble of each byte less 8: int8 -8..7 (int4 weights) */
#  define QUANT__VI_S4 QUANT__VI_LUT16(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7)
QUANT__AINL quant__vi quant__vi_s4lo(quant__vi x) { return quant__vi_nib_lo(QUANT__VI_S4, x); }
QUANT__AINL quant__vi quant__vi_s4hi(quant__vi x) { return quant__vi_nib_hi(QUANT__VI_S4, x); }
#  undef QUANT__VI_S4
QUANT__AINL quant__vi quant__vi_cnt8(quant__vi x) {
    const quant__vi t = QUANT__VI_LUT16(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    return QUANT__MM(add_epi8)(quant__vi_nib_lo(t, x), quant__vi_nib_hi(t, x));
}
QUANT__AINL quant__vi quant__vi_fold8(quant__vi acc, quant__vi c8) { return QUANT__MM(add_epi64)(acc, QUANT__MM(sad_epu8)(c8, QUANT__MMSI(setzero)())); }
QUANT__AINL quant__vi quant__vi_mullo32(quant__vi a, quant__vi b) { return QUANT__MM(mullo_epi32)(a, b); }
/* |a| of each byte as uint8 (|-128| = 128); all ones in the bytes where a < 0 */
QUANT__AINL quant__vi quant__vi_abs8(quant__vi a) { return QUANT__MM(abs_epi8)(a); }
#  if defined(QUANT_HAS_AVX512)
QUANT__AINL quant__vi quant__vi_neg8(quant__vi a) { return _mm512_movm_epi8(_mm512_movepi8_mask(a)); }
#  else
QUANT__AINL quant__vi quant__vi_neg8(quant__vi a) { return QUANT__MM(cmpgt_epi8)(QUANT__MMSI(setzero)(), a); }
#  endif
/* acc + the sums of the bytes of each 64-bit lane of x (uint8) */
QUANT__AINL quant__vi quant__vi_sad8(quant__vi acc, quant__vi x) { return QUANT__MM(add_epi64)(acc, QUANT__MM(sad_epu8)(x, QUANT__MMSI(setzero)())); }
/* acc + the sums of 4 adjacent u8 x s8 products (QUANT__VI_DOT4U: u is
 * unsigned; NEON's dot4 takes two int8); without VNNI through int16 pair
 * sums (vpmaddubsw saturates: exact only while |u * s| <= 16,383, as with
 * int4 weights) */
#  define QUANT__VI_DOT4U 1
QUANT__AINL quant__vi quant__vi_dot4(quant__vi acc, quant__vi u, quant__vi s) {
#  if defined(QUANT_HAS_AVX512VNNI) && QUANT__VL == 16
    return _mm512_dpbusd_epi32(acc, u, s);
#  elif defined(QUANT_HAS_AVXVNNI) && QUANT__VL == 8
    return _mm256_dpbusd_avx_epi32(acc, u, s);
#  else
    return QUANT__MM(add_epi32)(acc, QUANT__MM(madd_epi16)(QUANT__MM(maddubs_epi16)(u, s), QUANT__MM(set1_epi16)(1)));
#  endif
}
/* 16 bytes at p in every 128-bit lane; the bytes of b where bit 7 of the
 * byte of s is set, else of a (vpblendvb; AVX-512BW: a byte mask) */
#  if defined(QUANT_HAS_AVX512)
QUANT__AINL quant__vi quant__vi_row16(const uint8_t *p) { return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)p)); }
QUANT__AINL quant__vi quant__vi_blend8(quant__vi a, quant__vi b, quant__vi s) { return _mm512_mask_blend_epi8(_mm512_movepi8_mask(s), a, b); }
#  elif defined(QUANT_HAS_AVX2)
QUANT__AINL quant__vi quant__vi_row16(const uint8_t *p) { return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)p)); }
QUANT__AINL quant__vi quant__vi_blend8(quant__vi a, quant__vi b, quant__vi s) { return _mm256_blendv_epi8(a, b, s); }
#  else
QUANT__AINL quant__vi quant__vi_row16(const uint8_t *p) { return _mm_loadu_si128((const __m128i *)(const void *)p); }
QUANT__AINL quant__vi quant__vi_blend8(quant__vi a, quant__vi b, quant__vi s) { return _mm_blendv_epi8(a, b, s); }
#  endif
/* the 256-byte table q at every byte c of x: vpshufb looks up the low
 * nibble in each row of 16 (q + 16 h); an index with bit 7 set reads 0, so
 * rows h and h + 8 share an OR (x, and x with bit 7 flipped), and blends on
 * bits 4, 5, 6 (shifted up to bit 7) pick the row. 16 shuffles, 8 ORs, 7
 * blends for QUANT__VB lookups, all on full-rate pipes: a 32-bit gather
 * costs several times as much a lookup (bench/RESULTS.md, PQ). */
#  if defined(__GNUC__) && !defined(__clang__) && !defined(QUANT_NO_ASM) && !defined(QUANT_HAS_AVX512)
/* GCC (12) turns a blend mask used twice into a compare (vpcmpgtb 0 >
 * mask) and blends on that: an op more. An opaque copy for each use keeps
 * the blends on the shifted codes (a register move, eliminated at rename).
 * AVX-512 blends on mask registers (vpmovb2m), which it leaves alone. */
#    define QUANT__VI_OPQ(x) __extension__({ quant__vi o_ = (x); __asm__("" : "+x"(o_)); o_; })
#  else
#    define QUANT__VI_OPQ(x) (x)
#  endif
#  if defined(QUANT_HAS_AVX512VBMI)
/* (AVX-512 VBMI: vpermi2b looks each byte up in 128 entries, two registers
 * of the table's low half and two of its high half; bit 7 picks: two
 * lookups and a blend for QUANT__VB lookups) */
QUANT__AINL quant__vi quant__vi_lut256(const uint8_t *q, quant__vi x) {
    const quant__vi lo = _mm512_permutex2var_epi8(_mm512_loadu_si512((const void *)q), x, _mm512_loadu_si512((const void *)(q + 64)));
    const quant__vi hi = _mm512_permutex2var_epi8(_mm512_loadu_si512((const void *)(q + 128)), x, _mm512_loadu_si512((const void *)(q + 192)));
    return _mm512_mask_blend_epi8(_mm512_movepi8_mask(x), lo, hi);
}
#  else
QUANT__AINL quant__vi quant__vi_lut256(const uint8_t *q, quant__vi x) {
    const quant__vi xf = QUANT__MMSI(xor)(x, QUANT__MM(set1_epi8)((char)0x80));
    const quant__vi s4 = QUANT__MM(slli_epi16)(x, 3), s5 = QUANT__MM(slli_epi16)(x, 2), s6 = QUANT__MM(slli_epi16)(x, 1);
    quant__vi p0, p1;
#  define QUANT__LUT_ROW(h) QUANT__MMSI(or)(QUANT__MM(shuffle_epi8)(quant__vi_row16(q + 16 * (h)), x), \
                                            QUANT__MM(shuffle_epi8)(quant__vi_row16(q + 16 * ((h) + 8)), xf))
    /* in tree order, so that few values are live at a time */
    p0 = quant__vi_blend8(QUANT__LUT_ROW(0), QUANT__LUT_ROW(1), QUANT__VI_OPQ(s4));
    p0 = quant__vi_blend8(p0, quant__vi_blend8(QUANT__LUT_ROW(2), QUANT__LUT_ROW(3), QUANT__VI_OPQ(s4)), QUANT__VI_OPQ(s5));
    p1 = quant__vi_blend8(QUANT__LUT_ROW(4), QUANT__LUT_ROW(5), QUANT__VI_OPQ(s4));
    p1 = quant__vi_blend8(p1, quant__vi_blend8(QUANT__LUT_ROW(6), QUANT__LUT_ROW(7), QUANT__VI_OPQ(s4)), QUANT__VI_OPQ(s5));
#  undef QUANT__LUT_ROW
    return quant__vi_blend8(p0, p1, QUANT__VI_OPQ(s6));
}
#  endif
#  undef QUANT__VI_OPQ
/* byte sums in 16-bit lanes: *a + r (16-bit lane j: even byte 2j + 256 x
 * odd byte 2j + 1), *b + the odd bytes; the even sum is a - 256 b (exact
 * while each sum stays below 65,536, which callers keep) */
QUANT__AINL void quant__vi_acc8(quant__vi *a, quant__vi *b, quant__vi r) {
    *a = QUANT__MM(add_epi16)(*a, r);
    *b = QUANT__MM(add_epi16)(*b, QUANT__MM(srli_epi16)(r, 8));
}
/* out[2 j] = the even sum, out[2 j + 1] = the odd sum of acc8's (a, b):
 * QUANT__VB uint16 in byte order */
QUANT__AINL void quant__vi_acc8_store(uint16_t *out, quant__vi a, quant__vi b) {
    const quant__vi e = QUANT__MM(sub_epi16)(a, QUANT__MM(slli_epi16)(b, 8));
    const quant__vi lo = QUANT__MM(unpacklo_epi16)(e, b), hi = QUANT__MM(unpackhi_epi16)(e, b);
#  if defined(QUANT_HAS_AVX512)
    _mm512_storeu_si512((void *)out, _mm512_permutex2var_epi64(lo, _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), hi));
    _mm512_storeu_si512((void *)(out + 32), _mm512_permutex2var_epi64(lo, _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15), hi));
#  elif defined(QUANT_HAS_AVX2)
    _mm256_storeu_si256((__m256i *)(void *)out, _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256((__m256i *)(void *)(out + 16), _mm256_permute2x128_si256(lo, hi, 0x31));
#  else
    _mm_storeu_si128((__m128i *)(void *)out, lo);
    _mm_storeu_si128((__m128i *)(void *)(out + 8), hi);
#  endif
}
#elif defined(QUANT_HAS_NEON)
#  define QUANT__VB 16
#  define QUANT__VI32 4 /* the int32 lanes */
typedef uint64x2_t quant__vi; /* bits: two 64-bit lanes (int32 and bytes by reinterpretation) */
#  define QUANT__VU8(v) vreinterpretq_u8_u64(v)
#  define QUANT__VS8(v) vreinterpretq_s8_u64(v)
#  define QUANT__VS32(v) vreinterpretq_s32_u64(v)
#  define QUANT__VI(v) vreinterpretq_u64_s32(v)
QUANT__AINL quant__vi quant__vi_zero(void) { return vdupq_n_u64(0); }
QUANT__AINL quant__vi quant__vi_load(const void *p) { return vld1q_u64((const uint64_t *)p); }
QUANT__AINL void quant__vi_store(void *p, quant__vi v) { vst1q_u64((uint64_t *)p, v); }
/* p of any alignment (32-bit Arm: vld1q_u64 may assume 8 bytes) */
QUANT__AINL quant__vi quant__vi_loadu(const void *p) { return vreinterpretq_u64_u8(vld1q_u8((const uint8_t *)p)); }
QUANT__AINL quant__vi quant__vi_set64(int64_t v) { return vdupq_n_u64((uint64_t)v); }
QUANT__AINL quant__vi quant__vi_and(quant__vi a, quant__vi b) { return vandq_u64(a, b); }
QUANT__AINL quant__vi quant__vi_or(quant__vi a, quant__vi b) { return vorrq_u64(a, b); }
QUANT__AINL quant__vi quant__vi_xor(quant__vi a, quant__vi b) { return veorq_u64(a, b); }
QUANT__AINL quant__vi quant__vi_add8(quant__vi a, quant__vi b) { return vreinterpretq_u64_u8(vaddq_u8(QUANT__VU8(a), QUANT__VU8(b))); }
QUANT__AINL quant__vi quant__vi_cnt8(quant__vi x) { return vreinterpretq_u64_u8(vcntq_u8(QUANT__VU8(x))); }
QUANT__AINL quant__vi quant__vi_fold8(quant__vi acc, quant__vi c8) { return vaddq_u64(acc, vpaddlq_u32(vpaddlq_u16(vpaddlq_u8(QUANT__VU8(c8))))); }
/* the int32 operations of sections 7 and 8, as on x86 */
QUANT__AINL quant__vi quant__vi_set32(int32_t v) { return QUANT__VI(vdupq_n_s32(v)); }
QUANT__AINL quant__vi quant__vi_add32(quant__vi a, quant__vi b) { return QUANT__VI(vaddq_s32(QUANT__VS32(a), QUANT__VS32(b))); }
QUANT__AINL quant__vi quant__vi_mullo32(quant__vi a, quant__vi b) { return QUANT__VI(vmulq_s32(QUANT__VS32(a), QUANT__VS32(b))); }
QUANT__AINL quant__vi quant__vi_max32(quant__vi a, quant__vi b) { return QUANT__VI(vmaxq_s32(QUANT__VS32(a), QUANT__VS32(b))); }
QUANT__AINL quant__vi quant__vi_min32(quant__vi a, quant__vi b) { return QUANT__VI(vminq_s32(QUANT__VS32(a), QUANT__VS32(b))); }
QUANT__AINL quant__vi quant__vi_shl32(quant__vi a, int n) { return QUANT__VI(vshlq_s32(QUANT__VS32(a), vdupq_n_s32(n))); }
QUANT__AINL quant__vi quant__vi_s4lo(quant__vi x) { return vreinterpretq_u64_s8(vsubq_s8(vandq_s8(QUANT__VS8(x), vdupq_n_s8(15)), vdupq_n_s8(8))); }
QUANT__AINL quant__vi quant__vi_s4hi(quant__vi x) { return vreinterpretq_u64_s8(vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(QUANT__VU8(x), 4)), vdupq_n_s8(8))); }
#  define QUANT__VI_DOT4U 0 /* int8 x int8 */
QUANT__AINL quant__vi quant__vi_dot4(quant__vi acc, quant__vi u, quant__vi s) {
#  if defined(QUANT_HAS_NEONDOT)
    return QUANT__VI(vdotq_s32(QUANT__VS32(acc), QUANT__VS8(s), QUANT__VS8(u)));
#  else
    const int32x4_t lo = vpaddlq_s16(vmull_s8(vget_low_s8(QUANT__VS8(s)), vget_low_s8(QUANT__VS8(u))));
    const int32x4_t hi = vpaddlq_s16(vmull_s8(vget_high_s8(QUANT__VS8(s)), vget_high_s8(QUANT__VS8(u))));
    return QUANT__VI(vaddq_s32(QUANT__VS32(acc), vcombine_s32(vpadd_s32(vget_low_s32(lo), vget_high_s32(lo)), vpadd_s32(vget_low_s32(hi), vget_high_s32(hi)))));
#  endif
}
QUANT__AINL void quant__vi_ld16_32(const void *p, const int SGN, quant__vi *v) {
    if (SGN) {
        const int8x16_t b = vld1q_s8((const int8_t *)p);
        const int16x8_t l = vmovl_s8(vget_low_s8(b)), h = vmovl_s8(vget_high_s8(b));
        v[0] = QUANT__VI(vmovl_s16(vget_low_s16(l))); v[1] = QUANT__VI(vmovl_s16(vget_high_s16(l)));
        v[2] = QUANT__VI(vmovl_s16(vget_low_s16(h))); v[3] = QUANT__VI(vmovl_s16(vget_high_s16(h)));
    } else {
        const uint8x16_t b = vld1q_u8((const uint8_t *)p);
        const uint16x8_t l = vmovl_u8(vget_low_u8(b)), h = vmovl_u8(vget_high_u8(b));
        v[0] = vreinterpretq_u64_u32(vmovl_u16(vget_low_u16(l))); v[1] = vreinterpretq_u64_u32(vmovl_u16(vget_high_u16(l)));
        v[2] = vreinterpretq_u64_u32(vmovl_u16(vget_low_u16(h))); v[3] = vreinterpretq_u64_u32(vmovl_u16(vget_high_u16(h)));
    }
}
QUANT__AINL void quant__vi_st16_8(void *p, const int SGN, const quant__vi *v) { /* truncating */
    const int16x8_t a = vcombine_s16(vmovn_s32(QUANT__VS32(v[0])), vmovn_s32(QUANT__VS32(v[1])));
    const int16x8_t b = vcombine_s16(vmovn_s32(QUANT__VS32(v[2])), vmovn_s32(QUANT__VS32(v[3])));
    (void)SGN;
    vst1q_s8((int8_t *)p, vcombine_s8(vmovn_s16(a), vmovn_s16(b)));
}
#  undef QUANT__VU8
#  undef QUANT__VS8
#  undef QUANT__VS32
#  undef QUANT__VI
#else
#  define QUANT__VB 8
typedef uint64_t quant__vi;
QUANT__AINL quant__vi quant__vi_zero(void) { return 0; }
QUANT__AINL quant__vi quant__vi_load(const void *p) { quant__vi v; memcpy(&v, p, 8); return v; }
QUANT__AINL void quant__vi_store(void *p, quant__vi v) { memcpy(p, &v, 8); }
QUANT__AINL quant__vi quant__vi_set64(int64_t v) { return (uint64_t)v; }
QUANT__AINL quant__vi quant__vi_and(quant__vi a, quant__vi b) { return a & b; }
QUANT__AINL quant__vi quant__vi_or(quant__vi a, quant__vi b) { return a | b; }
QUANT__AINL quant__vi quant__vi_xor(quant__vi a, quant__vi b) { return a ^ b; }
QUANT__AINL quant__vi quant__vi_add8(quant__vi a, quant__vi b) { return a + b; } /* callers keep bytes <= 248: no carries */
QUANT__AINL quant__vi quant__vi_cnt8(quant__vi x) {
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    return (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
}
QUANT__AINL quant__vi quant__vi_fold8(quant__vi acc, quant__vi c8) {
    c8 = (c8 & 0x00ff00ff00ff00ffull) + ((c8 >> 8) & 0x00ff00ff00ff00ffull); /* 16-bit lanes <= 496 */
    return acc + ((c8 * 0x0001000100010001ull) >> 48);
}
#endif
#if !defined(QUANT__VI_PCADD)
QUANT__AINL quant__vi quant__vi_pcadd(quant__vi acc, quant__vi x) { return quant__vi_fold8(acc, quant__vi_cnt8(x)); }
#endif
#if !defined(QUANT__VI_ANDXOR)
QUANT__AINL quant__vi quant__vi_andxor(quant__vi m, quant__vi a, quant__vi b) { return quant__vi_and(m, quant__vi_xor(a, b)); }
#endif
#if defined(QUANT__VI32)
QUANT__AINL quant__vi quant__vi_clamp32(quant__vi a, quant__vi lo, quant__vi hi) { return quant__vi_min32(quant__vi_max32(a, lo), hi); }
#endif

/* Float lanes with a fused multiply-add, so that each lane returns the bits
 * of the scalar fmaf chain: quant__vf (QUANT__VFL lanes), the lane indices
 * quant__vfi and the running best (argmin / argmax) with them. SSE4.1 and
 * 32-bit NEON have no fused vector multiply-add: one float there. */
#if defined(QUANT_HAS_AVX512)
typedef __m512 quant__vf;
#  define QUANT__MMPS(op) _mm512_##op##_ps
#elif defined(QUANT_HAS_AVX2)
typedef __m256 quant__vf;
#  define QUANT__MMPS(op) _mm256_##op##_ps
#endif
#if defined(QUANT__MMPS)
#  define QUANT__VFL QUANT__VL
typedef quant__vi quant__vfi;
QUANT__AINL quant__vf quant__vf_zero(void) { return QUANT__MMPS(setzero)(); }
QUANT__AINL quant__vf quant__vf_set1(float v) { return QUANT__MMPS(set1)(v); }
QUANT__AINL quant__vf quant__vf_load(const float *p) { return QUANT__MMPS(loadu)(p); }
QUANT__AINL void quant__vf_store(float *p, quant__vf v) { QUANT__MMPS(storeu)(p, v); }
QUANT__AINL void quant__vf_stream(float *p, quant__vf v) { QUANT__MMPS(stream)(p, v); } /* p vector-aligned */
QUANT__AINL quant__vf quant__vf_sub(quant__vf a, quant__vf b) { return QUANT__MMPS(sub)(a, b); }
QUANT__AINL quant__vf quant__vf_add(quant__vf a, quant__vf b) { return QUANT__MMPS(add)(a, b); }
/* (the NaN cases of min / max differ per ISA: callers exclude NaN) */
QUANT__AINL quant__vf quant__vf_min(quant__vf a, quant__vf b) { return QUANT__MMPS(min)(a, b); }
QUANT__AINL quant__vf quant__vf_max(quant__vf a, quant__vf b) { return QUANT__MMPS(max)(a, b); }
QUANT__AINL quant__vf quant__vf_fma(quant__vf a, quant__vf b, quant__vf c) { return QUANT__MMPS(fmadd)(a, b, c); }
QUANT__AINL quant__vf quant__vf_mul(quant__vf a, quant__vf b) { return QUANT__MMPS(mul)(a, b); }
QUANT__AINL quant__vf quant__vf_cvt(quant__vi a) { return QUANT__MM(cvtepi32_ps)(a); }
/* to int32 lanes, rounded to nearest even / truncated (out of range: INT32_MIN) */
QUANT__AINL quant__vi quant__vf_cvtn(quant__vf a) { return QUANT__MM(cvtps_epi32)(a); }
QUANT__AINL quant__vi quant__vf_cvtt(quant__vf a) { return QUANT__MM(cvttps_epi32)(a); }
QUANT__AINL void quant__vf_spill(quant__vf v, quant__vfi i, float *fv, uint32_t *iv) { quant__vf_store(fv, v); quant__vi_store(iv, i); }
#  undef QUANT__MMPS
#endif
#if defined(QUANT_HAS_AVX512)
/* j, j + 1, ... in the lanes */
QUANT__AINL quant__vfi quant__vfi_iota(uint32_t j) {
    return _mm512_add_epi32(_mm512_set1_epi32((int)j), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}
/* a rounded to the nearest integer (even), as a float */
QUANT__AINL quant__vf quant__vf_round(quant__vf a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
/* z in the lanes where a is NaN */
QUANT__AINL quant__vf quant__vf_nan_to(quant__vf a, quant__vf z) { return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), a, z); }
/* the bits of a xor those of s (s = INT32_MIN: -a) */
QUANT__AINL quant__vf quant__vf_xor(quant__vf a, quant__vi s) { return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), s)); }
/* lanes where s beats *bv (IP: greater, else less) take s and its index j */
QUANT__AINL void quant__vf_better(quant__vf *bv, quant__vfi *bi, quant__vf s, quant__vfi j, const int IP) {
    __mmask16 m = IP ? _mm512_cmp_ps_mask(s, *bv, _CMP_GT_OQ) : _mm512_cmp_ps_mask(s, *bv, _CMP_LT_OQ);
    *bv = _mm512_mask_mov_ps(*bv, m, s);
    *bi = _mm512_mask_mov_epi32(*bi, m, j);
}
/* a table of 16 floats, looked up by the low 4 bits of each int32 lane of
 * i (vpermps); t[i] for each int32 lane of i (vgatherdps) */
typedef quant__vf quant__vf16;
QUANT__AINL quant__vf16 quant__vf16_load(const float *p) { return _mm512_loadu_ps(p); }
QUANT__AINL quant__vf quant__vf_lut16(quant__vf16 t, quant__vi i) { return _mm512_permutexvar_ps(i, t); }
QUANT__AINL quant__vi quant__vi_lut16(quant__vi t, quant__vi i) { return _mm512_permutexvar_epi32(i, t); } /* (vpermd) */
QUANT__AINL quant__vf quant__vf_gather(const float *t, quant__vi i) { return _mm512_i32gather_ps(i, t, 4); }
#elif defined(QUANT_HAS_AVX2)
QUANT__AINL quant__vfi quant__vfi_iota(uint32_t j) {
    return _mm256_add_epi32(_mm256_set1_epi32((int)j), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
QUANT__AINL quant__vf quant__vf_round(quant__vf a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
QUANT__AINL quant__vf quant__vf_nan_to(quant__vf a, quant__vf z) { return _mm256_blendv_ps(a, z, _mm256_cmp_ps(a, a, _CMP_UNORD_Q)); }
QUANT__AINL quant__vf quant__vf_xor(quant__vf a, quant__vi s) { return _mm256_castsi256_ps(_mm256_xor_si256(_mm256_castps_si256(a), s)); }
QUANT__AINL void quant__vf_better(quant__vf *bv, quant__vfi *bi, quant__vf s, quant__vfi j, const int IP) {
    __m256 m = IP ? _mm256_cmp_ps(s, *bv, _CMP_GT_OQ) : _mm256_cmp_ps(s, *bv, _CMP_LT_OQ);
    *bv = _mm256_blendv_ps(*bv, s, m);
    *bi = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(*bi), _mm256_castsi256_ps(j), m));
}
/* (two 8-entry vpermps, bit 3 of the index picks one) */
typedef struct { __m256 lo, hi; } quant__vf16;
QUANT__AINL quant__vf16 quant__vf16_load(const float *p) { quant__vf16 t; t.lo = _mm256_loadu_ps(p); t.hi = _mm256_loadu_ps(p + 8); return t; }
QUANT__AINL quant__vf quant__vf_lut16(quant__vf16 t, quant__vi i) {
    return _mm256_blendv_ps(_mm256_permutevar8x32_ps(t.lo, i), _mm256_permutevar8x32_ps(t.hi, i), _mm256_castsi256_ps(_mm256_slli_epi32(i, 28)));
}
QUANT__AINL quant__vf quant__vf_gather(const float *t, quant__vi i) { return _mm256_i32gather_ps(t, i, 4); }
#elif defined(QUANT_HAS_NEON) && defined(__aarch64__)
#  define QUANT__VFL 4
typedef float32x4_t quant__vf;
typedef uint32x4_t quant__vfi;
QUANT__AINL quant__vf quant__vf_zero(void) { return vdupq_n_f32(0.0f); }
QUANT__AINL quant__vf quant__vf_set1(float v) { return vdupq_n_f32(v); }
QUANT__AINL quant__vf quant__vf_load(const float *p) { return vld1q_f32(p); }
QUANT__AINL void quant__vf_store(float *p, quant__vf v) { vst1q_f32(p, v); }
QUANT__AINL quant__vf quant__vf_sub(quant__vf a, quant__vf b) { return vsubq_f32(a, b); }
QUANT__AINL quant__vf quant__vf_add(quant__vf a, quant__vf b) { return vaddq_f32(a, b); }
QUANT__AINL quant__vf quant__vf_min(quant__vf a, quant__vf b) { return vminq_f32(a, b); }
QUANT__AINL quant__vf quant__vf_max(quant__vf a, quant__vf b) { return vmaxq_f32(a, b); }
QUANT__AINL quant__vf quant__vf_fma(quant__vf a, quant__vf b, quant__vf c) { return vfmaq_f32(c, a, b); }
QUANT__AINL quant__vf quant__vf_cvt(quant__vi a) { return vcvtq_f32_s32(vreinterpretq_s32_u64(a)); }
QUANT__AINL void quant__vf_spill(quant__vf v, quant__vfi i, float *fv, uint32_t *iv) { vst1q_f32(fv, v); vst1q_u32(iv, i); }
QUANT__AINL quant__vfi quant__vfi_iota(uint32_t j) {
    static const uint32_t io[4] = { 0, 1, 2, 3 };
    return vaddq_u32(vdupq_n_u32(j), vld1q_u32(io));
}
QUANT__AINL void quant__vf_better(quant__vf *bv, quant__vfi *bi, quant__vf s, quant__vfi j, const int IP) {
    uint32x4_t m = IP ? vcgtq_f32(s, *bv) : vcltq_f32(s, *bv);
    *bv = vbslq_f32(m, s, *bv);
    *bi = vbslq_u32(m, j, *bi);
}
#else
#  define QUANT__VFL 1
typedef float quant__vf;
typedef uint32_t quant__vfi;
QUANT__AINL quant__vf quant__vf_zero(void) { return 0.0f; }
QUANT__AINL quant__vf quant__vf_set1(float v) { return v; }
QUANT__AINL quant__vf quant__vf_load(const float *p) { return *p; }
QUANT__AINL void quant__vf_store(float *p, quant__vf v) { *p = v; }
QUANT__AINL quant__vf quant__vf_sub(quant__vf a, quant__vf b) { return a - b; }
QUANT__AINL quant__vf quant__vf_add(quant__vf a, quant__vf b) { return a + b; }
QUANT__AINL quant__vf quant__vf_min(quant__vf a, quant__vf b) { return a < b ? a : b; }
QUANT__AINL quant__vf quant__vf_max(quant__vf a, quant__vf b) { return a > b ? a : b; }
QUANT__AINL quant__vf quant__vf_fma(quant__vf a, quant__vf b, quant__vf c) { return fmaf(a, b, c); }
QUANT__AINL void quant__vf_spill(quant__vf v, quant__vfi i, float *fv, uint32_t *iv) { *fv = v; *iv = i; }
QUANT__AINL quant__vfi quant__vfi_iota(uint32_t j) { return j; }
QUANT__AINL void quant__vf_better(quant__vf *bv, quant__vfi *bi, quant__vf s, quant__vfi j, const int IP) {
    if (IP ? s > *bv : s < *bv) { *bv = s; *bi = j; }
}
#endif

/* end of section 1: its local macros */
#undef QUANT__ISA_NAME

/* ======================================================================== */
/* 2. GEMM / GEMV (implementation)                                          */
/* ======================================================================== */

/* ------------------------------------------------------------ 2.1 packing */

#define QUANT__PACK_MAGIC 0x314b5051u /* "QPK1" */
typedef struct quant__pack_hdr {
    uint32_t magic, isa, K, N;
    int32_t  b_zp;
    uint32_t kg, nr, kpad, npanels, colsum_off, panel_off, total;
    uint32_t check;     /* FNV-1a of the fields above: a corrupted header is refused */
    uint32_t pad_[3];
} quant__pack_hdr; /* 64 bytes */

QUANT__INTERNAL uint32_t quant__hdr_check(const quant__pack_hdr *h) { return quant__blob_fnv((const uint8_t *)(const void *)h, 48); }

QUANT__INTERNAL int quant__pack_geom(size_t K, size_t N, size_t kg, size_t *kpad, size_t *npanels,
        size_t *colsum_off, size_t *panel_off, size_t *total) {
    size_t kp, np, cs, po, panel_bytes;
    if (!K || !N || K > QUANT_GEMM_MAX_K || N > ((size_t)1 << 26)) return 0;
    kp = (K + kg - 1) / kg * kg;
    np = (N + QUANT__NR - 1) / QUANT__NR;
    cs = 64;
    po = cs + ((np * QUANT__NR * 4 + 63) / 64) * 64;
    panel_bytes = kp * QUANT__NR;
    if (np > (SIZE_MAX - po) / panel_bytes) return 0;
    *kpad = kp; *npanels = np; *colsum_off = cs; *panel_off = po; *total = po + np * panel_bytes;
    if (*total > 0xffffffffu) return 0;
    return 1;
}

#if defined(QUANT__KG_SGN)
#  define QUANT__KG_MAX (QUANT__KG_SGN > QUANT__KG ? QUANT__KG_SGN : QUANT__KG)
#else
#  define QUANT__KG_MAX QUANT__KG
#endif
/* the larger of the ISA's packings: the pack chooses one by the weights */
QUANT_DEF size_t quant_gemm_pack_size(size_t K, size_t N) {
    size_t kp, np, cs, po, tot;
    return quant__pack_geom(K, N, QUANT__KG_MAX, &kp, &np, &cs, &po, &tot) ? tot : 0;
}

QUANT_DEF quant_status quant_gemm_pack(const int8_t *B, quant_layout layout, size_t K, size_t N,
        int32_t b_zp, void *packed, size_t packed_bytes) {
    size_t kp, np, cs, po, tot, p, k, j, kg = QUANT__KG;
    quant__pack_hdr h;
    uint8_t *dst = (uint8_t *)packed;
    if (!B || !packed || (layout != QUANT_LAYOUT_KN && layout != QUANT_LAYOUT_NK)) return QUANT_EINVAL;
    if (b_zp < -128 || b_zp > 127) return QUANT_EINVAL;
    if (K > QUANT_GEMM_MAX_K) return QUANT_ERANGE;
    if (!quant__pack_geom(K, N, QUANT__KG_MAX, &kp, &np, &cs, &po, &tot)) return K && N ? QUANT_EOVERFLOW : QUANT_EINVAL;
    if (packed_bytes < tot) return QUANT_EINVAL;
#if defined(QUANT__KG_SGN)
    /* (below K = 64 the pmaddubsw kernels' per-row work, the activation
     * scan and the sign split, is not paid back: the widening kernel) */
    for (k = 0; K >= 64 && k < K * N && B[k] != -128; k++) {}
    if (K >= 64 && k == K * N) kg = QUANT__KG_SGN;
#endif
    quant__pack_geom(K, N, kg, &kp, &np, &cs, &po, &tot);
    memset(&h, 0, sizeof h);
    h.magic = QUANT__PACK_MAGIC; h.isa = QUANT__ISA_ID; h.K = (uint32_t)K; h.N = (uint32_t)N;
    h.b_zp = b_zp; h.kg = (uint32_t)kg; h.nr = QUANT__NR; h.kpad = (uint32_t)kp; h.npanels = (uint32_t)np;
    h.colsum_off = (uint32_t)cs; h.panel_off = (uint32_t)po; h.total = (uint32_t)tot;
    h.check = quant__hdr_check(&h);
    memcpy(dst, &h, sizeof h);
    /* the column sums (0 past N), then the panels; B read along its rows
     * in either layout (KN: 64 columns at a time down K; NK: a row each) */
    memset(dst + cs, 0, po - cs);
    for (j = 0; j < N; j += 64) {
        int32_t s[64] = { 0 };
        const size_t w = N - j < 64 ? N - j : 64;
        size_t c;
        if (layout == QUANT_LAYOUT_KN)
            for (k = 0; k < K; k++) for (c = 0; c < w; c++) s[c] += B[k * N + j + c];
        else
            for (c = 0; c < w; c++) for (k = 0; k < K; k++) s[c] += B[(j + c) * K + k];
        memcpy(dst + cs + 4 * j, s, 4 * w);
    }
    for (p = 0; p < np; p++) {
        int8_t *pan = (int8_t *)dst + po + p * kp * QUANT__NR;
        size_t g, t;
        for (g = 0; g < kp / kg; g++)
            if (layout == QUANT_LAYOUT_KN)
                for (t = 0; t < kg; t++) {
                    const size_t kk = g * kg + t;
                    for (j = 0; j < QUANT__NR; j++) {
                        const size_t n = p * QUANT__NR + j;
                        pan[(g * QUANT__NR + j) * kg + t] = n < N && kk < K ? B[kk * N + n] : 0;
                    }
                }
            else
                for (j = 0; j < QUANT__NR; j++) {
                    const size_t n = p * QUANT__NR + j;
                    for (t = 0; t < kg; t++) {
                        const size_t kk = g * kg + t;
                        pan[(g * QUANT__NR + j) * kg + t] = n < N && kk < K ? B[n * K + kk] : 0;
                    }
                }
    }
    return QUANT_OK;
}

QUANT__INTERNAL const quant__pack_hdr *quant__hdr(const void *packed, quant__pack_hdr *h) {
    size_t kp, np, cs, po, tot;
    if (!packed) return NULL;
    memcpy(h, packed, sizeof *h);
    if (h->magic != QUANT__PACK_MAGIC || h->isa != QUANT__ISA_ID || h->nr != QUANT__NR) return NULL;
#if defined(QUANT__KG_SGN)
    if (h->kg != QUANT__KG && h->kg != QUANT__KG_SGN) return NULL;
#else
    if (h->kg != QUANT__KG) return NULL;
#endif
    if (h->check != quant__hdr_check(h)) return NULL;
    if (!quant__pack_geom(h->K, h->N, h->kg, &kp, &np, &cs, &po, &tot)) return NULL;
    if (kp != h->kpad || np != h->npanels || cs != h->colsum_off || po != h->panel_off || tot != h->total) return NULL;
    if (h->b_zp < -128 || h->b_zp > 127) return NULL;
    return h;
}

QUANT_DEF quant_status quant_gemm_packed_dims(const void *packed, size_t *K, size_t *N) {
    quant__pack_hdr h;
    if (!K || !N) return QUANT_EINVAL;
    if (!packed) return QUANT_EINVAL;
    if (!quant__hdr(packed, &h)) return QUANT_EFORMAT;
    *K = h.K; *N = h.N;
    return QUANT_OK;
}

/* ------------------------------------------------------ 2.2 micro-kernels */
/* Each computes the raw dot products tile[r][j] = sum_k A^[r][k] * B[k][j]
 * for r < mr rows (A^ = A + delta, as the ISA's instruction needs) and the
 * NR columns of one panel, over the padded K (the tail group of A is read
 * into a zeroed buffer, never past the row). */

/* the n < 4 bytes at a, zero-extended, as the 4-byte group the kernels
 * broadcast (little-endian: a[0] lowest, as a 4-byte load would give). Built
 * in a register: bytes stored to a stack word and read back as one dword
 * miss store-to-load forwarding, which made the K % 4 tail of a K = 9
 * convolution (a 1-channel 3x3) cost more than its whole dot product. */
static inline uint32_t quant__ld4_tail(const uint8_t *a, size_t n) {
    uint32_t v = n > 0 ? a[0] : 0u;
    if (n > 1) v |= (uint32_t)a[1] << 8;
    if (n > 2) v |= (uint32_t)a[2] << 16;
    return v;
}

/* The per-column constants of one panel's epilogue. */
typedef struct quant__epi_cols {
    uint32_t corr[QUANT__NR];  /* K z b_zp - z colsum[n] (+ bias[n])          */
    int32_t  mult[QUANT__NR], shift[QUANT__NR];
    float    scale[QUANT__NR]; /* fp32 requant scale, or w_scale for F32 out  */
    float    bias[QUANT__NR];  /* F32 out                                     */
} quant__epi_cols;

/* Where a micro-kernel applies the epilogue itself (QUANT__UKR_OUT, a panel
 * from its first column): tile row r plus ec->corr[j] + rowcorr[r] (mod 2^32)
 * goes through the epilogue to row m + r, columns col .. col + cnt - 1 of C. */
typedef struct quant__ukr_out {
    const quant_epilogue *ep;
    const quant__epi_cols *ec;
    const uint32_t *rowcorr;
    void *C;
    size_t ldc, m, col, cnt;
} quant__ukr_out;

#if defined(QUANT_HAS_AVX2)
/* the float requantization of 8 lanes: round(acc * scale) clamped to
 * [lo, hi] (the output range less zp) before rounding, plus zp */
static inline __m256i quant__rq_fp32_256(__m256i acc, __m256 scale, __m256 lo, __m256 hi, __m256i zp) {
    const __m256 y = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale), lo), hi);
    return _mm256_add_epi32(_mm256_cvtps_epi32(y), zp);
}

/* 8 values inside the output type's range to int8 (i8) or uint8 bytes: the
 * saturating packs are exact there */
static inline void quant__store8_256(unsigned char *dst, __m256i v, int i8) {
    const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64((__m128i *)(void *)dst, i8 ? _mm_packs_epi16(p16, p16) : _mm_packus_epi16(p16, p16));
}

/* columns j .. j + 7 of a tile row (t) plus their corrections and the
 * row's (rc), requantized (quant__epilogue_tile's order of operations) */
static inline __m256i quant__rq_cols_256(const int32_t *t, const quant__epi_cols *ec, size_t j, __m256i rc, __m256 lo,
        __m256 hi, __m256i zp) {
    const __m256i acc = _mm256_add_epi32(_mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(const void *)t),
                                         _mm256_loadu_si256((const __m256i *)(const void *)(ec->corr + j))), rc);
    return quant__rq_fp32_256(acc, _mm256_loadu_ps(ec->scale + j), lo, hi, zp);
}

/* 16 values inside the output type's range (v0's 8 lanes, then v1's) to
 * bytes in one store: the packs work in 128-bit halves (int16 of lanes 0-3
 * of v0 and v1, then of lanes 4-7), a 64-bit permute puts them in order */
static inline void quant__store16_256(unsigned char *dst, __m256i v0, __m256i v1, int i8) {
    const __m256i p = _mm256_permute4x64_epi64(_mm256_packs_epi32(v0, v1), 0xd8);
    const __m128i l = _mm256_castsi256_si128(p), h = _mm256_extracti128_si256(p, 1);
    _mm_storeu_si128((__m128i *)(void *)dst, i8 ? _mm_packs_epi16(l, h) : _mm_packus_epi16(l, h));
}

/* The gemmlowp requantization, RoundingDivideByPOT(SRDHM(SatShl(x, ls), M),
 * rs) with ls = max(shift, 0), rs = max(-shift, 0), on the vector layer. Its
 * per-column constants (the multiplier, its odd lanes moved down, both
 * shifts, the rounding mask and half of it) are worked out once per vector
 * of columns (quant__rqg_init), so that a tile of rows pays them once. */
typedef struct quant__rqg { quant__vi m, mo, ls, rs, mask, half; } quant__rqg;
QUANT__AINL void quant__rqg_init(quant__rqg *h, quant__vi mult, quant__vi shift) {
    const quant__vi zero = quant__vi_zero();
    h->m = mult;
    h->mo = quant__vi_odd_down(mult);
    h->ls = quant__vi_max32(shift, zero);
    h->rs = quant__vi_max32(quant__vi_sub32(zero, shift), zero);
    h->mask = quant__vi_sub32(quant__vi_shlv32(quant__vi_set32(1), h->rs), quant__vi_set32(1));
    h->half = quant__vi_half32(h->mask);
}
/* LS 0: no column shifts left (the saturating left shift is left out) */
QUANT__AINL quant__vi quant__rqg_apply(quant__vi x, const quant__rqg *h, const int LS) {
    const quant__vi npos = quant__vi_set64((int64_t)1 << 30);
    quant__vi pe, po, q, sr;
    if (LS) { /* saturating left shift */
        const quant__vi sh = quant__vi_shlv32(x, h->ls);
        const quant__vm ovf = quant__vi_ne32(quant__vi_srav32(sh, h->ls), x);
        x = quant__vi_sel(ovf, quant__vi_sel(quant__vi_neg32(x), quant__vi_set32(INT32_MIN), quant__vi_set32(INT32_MAX)), sh);
    }
    /* SRDHM: (x*M + nudge) / 2^31 toward zero, nudge = 2^30 or 1 - 2^30 by
     * the sign of x*M. For x*M < 0 the truncation adds 2^31 - 1 before a
     * floor shift, so both signs come to floor((x*M + 2^30) / 2^31): bits
     * 31..62 of the 64-bit sum. M >= 0, so never INT_MIN * INT_MIN. */
    pe = quant__vi_add64(quant__vi_mul_even(x, h->m), npos);
    po = quant__vi_add64(quant__vi_mul_even(quant__vi_odd_down(x), h->mo), npos);
    q = quant__vi_hi31(pe, po);
    /* RoundingDivideByPOT: q >> rs, plus one where the remainder exceeds
     * half the mask (plus one for negative q) */
    sr = quant__vi_srav32(q, h->rs);
    return quant__vi_inc(sr, quant__vi_gt32(quant__vi_and(q, h->mask), quant__vi_inc(h->half, quant__vi_neg32(q))));
}

/* The single rounding, clamp((x*M + 2^(t-1)) >> t, lo, hi) in 64 bits with
 * t = 31 - shift, split the same way into its per-column constants (the
 * multiplier's even and odd lanes, t of each and its rounding term 2^(t-1))
 * and the per-row part. */
typedef struct quant__rqs { quant__vi m, mo, te, to, re, ro, l64, h64; } quant__rqs;
QUANT__AINL void quant__rqs_init(quant__rqs *h, quant__vi mult, quant__vi shift, int32_t lo, int32_t hi) {
    const quant__vi one = quant__vi_set64(1), t = quant__vi_sub32(quant__vi_set32(31), shift);
    h->m = mult; h->mo = quant__vi_odd_down(mult);
    h->te = quant__vi_and(t, quant__vi_set64(0xffffffff)); h->to = quant__vi_odd_down(t);
    h->re = quant__vi_shlv64(one, quant__vi_sub64(h->te, one)); h->ro = quant__vi_shlv64(one, quant__vi_sub64(h->to, one));
    h->l64 = quant__vi_set64(lo); h->h64 = quant__vi_set64(hi);
}
QUANT__AINL quant__vi quant__rqs_apply(quant__vi x, const quant__rqs *h) {
    quant__vi pe = quant__vi_mul_even(x, h->m), po = quant__vi_mul_even(quant__vi_odd_down(x), h->mo);
    pe = quant__vi_clamp64(quant__vi_srav64(quant__vi_add64(pe, h->re), h->te), h->l64, h->h64);
    po = quant__vi_clamp64(quant__vi_srav64(quant__vi_add64(po, h->ro), h->to), h->l64, h->h64);
    return quant__vi_lo32s(pe, po);
}
#endif

#if defined(QUANT_HAS_AVX512)
/* one 16-lane vector of a row through the epilogue (defined with the epilogue below) */
static inline void quant__epi_vec512(const quant_epilogue *ep, const quant__epi_cols *ec, size_t e, size_t m,
        __m512i acc, __mmask16 k, void *C, size_t ldc, size_t col);
#endif

#if defined(QUANT_ISA_AVX512VNNI)

/* The gemmlowp requantization when every column shifts right (e = -shift >= 1),
 * both roundings in one: with P = x*M, RDBPOT(floor((P + 2^30) / 2^31), e) is
 * floor((P + 2^30 + 2^(30+e) - 2^31 [P < 0]) / 2^(31+e)). (RDBPOT(q, e) is
 * floor((q + 2^(e-1) - [q < 0]) / 2^e), nested floors merge, and [P < 0] differs
 * from [q < 0] only where q = 0, which rounds to 0 either way.) 64-bit lanes:
 * the even columns' result in the low dword, the odd columns' in the high one
 * (shifted by e - 1 instead of 31 + e). Per-column constants as in quant__rqg. */
typedef struct quant__rqr__avx512 { __m512i m, mo, ce, co, se, so, c31; } quant__rqr__avx512;
QUANT__AINL void quant__rqr_init__avx512(quant__rqr__avx512 *h, const quant__rqg *g) {
    const __m512i lo32 = _mm512_set1_epi64(0xffffffff), e_e = _mm512_and_si512(g->rs, lo32), e_o = _mm512_srli_epi64(g->rs, 32);
    const __m512i b30 = _mm512_set1_epi64((int64_t)1 << 30), one = _mm512_set1_epi64(1);
    h->m = g->m; h->mo = g->mo;
    h->ce = _mm512_add_epi64(b30, _mm512_sllv_epi64(b30, e_e));
    h->co = _mm512_add_epi64(b30, _mm512_sllv_epi64(b30, e_o));
    h->se = _mm512_add_epi64(e_e, _mm512_set1_epi64(31));
    h->so = _mm512_sub_epi64(e_o, one); /* lanes outside the tile (e = 0): any count, not stored */
    h->c31 = _mm512_set1_epi64((int64_t)1 << 31);
}
QUANT__AINL __m512i quant__rqr_apply__avx512(__m512i x, const quant__rqr__avx512 *h) {
    const __m512i z = _mm512_setzero_si512();
    const __m512i pe = _mm512_mul_epi32(x, h->m), po = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), h->mo);
    __m512i te = _mm512_add_epi64(pe, h->ce), to = _mm512_add_epi64(po, h->co);
    te = _mm512_mask_sub_epi64(te, _mm512_cmplt_epi64_mask(pe, z), te, h->c31);
    to = _mm512_mask_sub_epi64(to, _mm512_cmplt_epi64_mask(po, z), to, h->c31);
    return _mm512_mask_blend_epi32(0xAAAA, _mm512_srav_epi64(te, h->se), _mm512_srav_epi64(to, h->so));
}

/* rows of the right-shift-only case: NARROW 1 int8, 0 uint8 (the saturating
 * narrowing does the type's clamp; |v| <= 2^30, so v + zp cannot wrap) */
QUANT__AINL void quant__rqr_rows__avx512(const int NARROW_I8, int MR, const __m512i *acc, int c,
        __m512i cv, const quant__rqr__avx512 *h, const uint32_t *rowcorr, int8_t *dst, size_t ldc, __mmask16 km,
        __m512i zp, int need_lo, int need_hi, __m512i olo, __m512i ohi) {
    int r;
    for (r = 0; r < MR; r++, dst += ldc) {
        const __m512i x = _mm512_add_epi32(_mm512_add_epi32(acc[4 * r + c], cv), _mm512_set1_epi32((int)rowcorr[r]));
        __m512i v = _mm512_add_epi32(quant__rqr_apply__avx512(x, h), zp);
        __m128i b;
        if (need_lo) v = _mm512_max_epi32(v, olo);
        if (need_hi) v = _mm512_min_epi32(v, ohi);
        b = NARROW_I8 ? _mm512_cvtsepi32_epi8(v) : _mm512_cvtusepi32_epi8(v);
        if (km == 0xffff) _mm_storeu_si128((__m128i *)dst, b);
        else _mm_mask_storeu_epi8(dst, km, b);
    }
}

/* MR rows x NCV vectors of accumulators (acc[4 r + c], corrections not yet
 * added) through the gemmlowp epilogue to int8 / uint8 rows of C. Out of
 * line: inlined into the micro-kernel, its constants would take registers
 * from the K loop's accumulators. */
QUANT__NOINL void quant__rqg_6x64__avx512vnni(int MR, int NCV, const __m512i *acc, const quant__ukr_out *out) {
    const quant_epilogue *ep = out->ep;
    const uint32_t *rowcorr = out->rowcorr;
    int8_t *const C0 = (int8_t *)out->C + out->m * out->ldc + out->col;
    const size_t ldc = out->ldc, cnt = out->cnt;
    const int i8 = ep->out == QUANT_OUT_I8;
    const int need_lo = i8 ? ep->out_min > -128 : 1, need_hi = ep->out_max < (i8 ? 127 : 255);
    const __m512i zp = _mm512_set1_epi32(ep->out_zp);
    const __m512i lo = _mm512_set1_epi32(ep->out_min - ep->out_zp), hi = _mm512_set1_epi32(ep->out_max - ep->out_zp);
    const __m512i olo = _mm512_set1_epi32(ep->out_min), ohi = _mm512_set1_epi32(ep->out_max);
    int r, c;
    for (c = 0; c < NCV; c++) {
        const size_t l0 = 16 * (size_t)c;
        const __mmask16 km = cnt >= l0 + 16 ? (__mmask16)0xffff : (__mmask16)((1u << (cnt - l0)) - 1u);
        const __m512i cv = _mm512_maskz_loadu_epi32(km, out->ec->corr + l0);
        const __m512i sh = _mm512_maskz_loadu_epi32(km, out->ec->shift + l0);
        const int ls = _mm512_cmpgt_epi32_mask(sh, _mm512_setzero_si512()) != 0;
        quant__rqg h;
        quant__rqg_init(&h, _mm512_maskz_loadu_epi32(km, out->ec->mult + l0), sh);
        if (!ls && _mm512_mask_cmpeq_epi32_mask(km, h.rs, _mm512_setzero_si512()) == 0) {
            quant__rqr__avx512 hr;
            quant__rqr_init__avx512(&hr, &h);
            if (i8) quant__rqr_rows__avx512(1, MR, acc, c, cv, &hr, rowcorr, C0 + l0, ldc, km, zp, need_lo, need_hi, olo, ohi);
            else quant__rqr_rows__avx512(0, MR, acc, c, cv, &hr, rowcorr, C0 + l0, ldc, km, zp, need_lo, need_hi, olo, ohi);
            continue;
        }
        for (r = 0; r < MR; r++) {
            const __m512i x = _mm512_add_epi32(_mm512_add_epi32(acc[4 * r + c], cv), _mm512_set1_epi32((int)rowcorr[r]));
            const __m512i v = ls ? quant__rqg_apply(x, &h, 1) : quant__rqg_apply(x, &h, 0);
            /* clamp relative to zp first: v + zp cannot wrap then */
            const __m128i b = _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(v, lo), hi), zp));
            int8_t *dst = C0 + (size_t)r * ldc + l0;
            if (km == 0xffff) _mm_storeu_si128((__m128i *)dst, b);
            else _mm_mask_storeu_epi8(dst, km, b);
        }
    }
}

/* The single-rounding requantization of MR rows x NCV vectors, out of line
 * for the same reason, its constants worked out once per 16 columns. */
QUANT__NOINL void quant__rqs_6x64__avx512vnni(int MR, int NCV, const __m512i *acc, const quant__ukr_out *out) {
    const quant_epilogue *ep = out->ep;
    const __m512i zp = _mm512_set1_epi32(ep->out_zp);
    int r, c;
    for (c = 0; c < NCV; c++) {
        const size_t l0 = 16 * (size_t)c;
        const __mmask16 km = out->cnt >= l0 + 16 ? (__mmask16)0xffff : (__mmask16)((1u << (out->cnt - l0)) - 1u);
        const __m512i cv = _mm512_maskz_loadu_epi32(km, out->ec->corr + l0);
        quant__rqs h;
        quant__rqs_init(&h, _mm512_maskz_loadu_epi32(km, out->ec->mult + l0), _mm512_maskz_loadu_epi32(km, out->ec->shift + l0),
                           ep->out_min - ep->out_zp, ep->out_max - ep->out_zp);
        for (r = 0; r < MR; r++) {
            const __m512i x = _mm512_add_epi32(_mm512_add_epi32(acc[4 * r + c], cv), _mm512_set1_epi32((int)out->rowcorr[r]));
            const __m128i b = _mm512_cvtepi32_epi8(_mm512_add_epi32(quant__rqs_apply(x, &h), zp));
            int8_t *dst = (int8_t *)out->C + (out->m + (size_t)r) * out->ldc + out->col + l0;
            if (km == 0xffff) _mm_storeu_si128((__m128i *)dst, b);
            else _mm_mask_storeu_epi8(dst, km, b);
        }
    }
}

/* Any other output (F32) of MR rows x NCV vectors, one vector at a time. */
QUANT__NOINL void quant__epi_6x64__avx512vnni(int MR, int NCV, const __m512i *acc, const quant__ukr_out *out) {
    int r, c;
    for (r = 0; r < MR; r++) {
        const __m512i rc = _mm512_set1_epi32((int)out->rowcorr[r]);
        for (c = 0; c < NCV; c++) {
            const size_t l0 = 16 * (size_t)c;
            const __mmask16 km = out->cnt >= l0 + 16 ? (__mmask16)0xffff : (__mmask16)((1u << (out->cnt - l0)) - 1u);
            const __m512i cv = _mm512_loadu_si512((const void *)(out->ec->corr + l0));
            quant__epi_vec512(out->ep, out->ec, l0, out->m + r, _mm512_add_epi32(_mm512_add_epi32(acc[4 * r + c], cv), rc), km,
                              out->C, out->ldc, out->col + l0);
        }
    }
}

/* A^ = A (uint8) or A ^ 0x80 (int8 -> uint8); vpdpbusd u8 x s8 -> s32.
 * The activation broadcast comes straight from memory (a load, no ALU op);
 * the int8 case adds one xor. */
QUANT__AINL __m512i quant__bcast_a512(const uint8_t *p, const int SIGNED) {
    int32_t v;
    memcpy(&v, p, 4);
    return SIGNED ? _mm512_xor_si512(_mm512_set1_epi32(v), _mm512_set1_epi32((int)0x80808080u)) : _mm512_set1_epi32(v);
}

/* MR rows x NCV 16-column vectors of the panel (NCV < 4 only for narrow
 * panels written through `out`). Indirect (IND, convolution without im2col):
 * row r of A is taps pieces of lda bytes (lda % 4 == 0, K = taps * lda),
 * piece t at ind[r * taps + t]. */
QUANT__AINL void quant__gemm_u8s8_6x64c4_body__avx512vnni(const int MR, const int NCV,
        const int SIGNED, size_t K, const uint8_t *A, size_t lda, const int8_t *pan, int32_t *tile,
        const quant__ukr_out *out, const int IND, const uint8_t *const *ind, size_t taps) {
    __m512i acc[6][4], b[4];
    const uint8_t *a[6];
    size_t g, kg = IND ? lda / 4 : K / 4, t;
    int r, c;
    QUANT__UNROLL
    for (r = 0; r < MR; r++) { a[r] = IND ? NULL : A + (size_t)r * lda; QUANT__UNROLL for (c = 0; c < NCV; c++) acc[r][c] = _mm512_setzero_si512(); }
    for (t = 0; t < (IND ? taps : 1); t++, pan += IND ? kg * 256 : 0) {
        if (IND) { QUANT__UNROLL for (r = 0; r < MR; r++) a[r] = ind[(size_t)r * taps + t]; }
        for (g = 0; g < kg; g++) {
            QUANT__UNROLL
            for (c = 0; c < NCV; c++) b[c] = _mm512_loadu_si512((const void *)(pan + g * 256 + 64 * c));
            QUANT__UNROLL
            for (r = 0; r < MR; r++) {
                const __m512i av = quant__bcast_a512(a[r] + 4 * g, SIGNED);
                QUANT__UNROLL
                for (c = 0; c < NCV; c++) acc[r][c] = _mm512_dpbusd_epi32(acc[r][c], av, b[c]);
            }
        }
    }
    if (!IND && K % 4) {
        QUANT__UNROLL
        for (c = 0; c < NCV; c++) b[c] = _mm512_loadu_si512((const void *)(pan + g * 256 + 64 * c));
        QUANT__UNROLL
        for (r = 0; r < MR; r++) {
            /* the tail group from a zeroed copy (B is 0 past K anyway) */
            uint32_t v = quant__ld4_tail(a[r] + 4 * g, K % 4);
            const __m512i av = quant__bcast_a512((const uint8_t *)&v, SIGNED);
            QUANT__UNROLL
            for (c = 0; c < NCV; c++) acc[r][c] = _mm512_dpbusd_epi32(acc[r][c], av, b[c]);
        }
    }
    if (out) { /* corrections and epilogue here, straight to C */
        __m512i cv[4];
        __mmask16 km[4];
        QUANT__UNROLL
        for (c = 0; c < NCV; c++) {
            size_t lo = 16 * (size_t)c;
            cv[c] = _mm512_loadu_si512((const void *)(out->ec->corr + lo));
            km[c] = out->cnt >= lo + 16 ? (__mmask16)0xffff : (__mmask16)((1u << (out->cnt - lo)) - 1u);
        }
        if (out->ep->out == QUANT_OUT_I32) { /* inline: plain stores for full vectors (masked ones are slower on some cores) */
            QUANT__UNROLL
            for (r = 0; r < MR; r++) {
                const __m512i rc = _mm512_set1_epi32((int)out->rowcorr[r]);
                int32_t *crow = (int32_t *)out->C + (out->m + r) * out->ldc + out->col;
                QUANT__UNROLL
                for (c = 0; c < NCV; c++) {
                    const __m512i v = _mm512_add_epi32(_mm512_add_epi32(acc[r][c], cv[c]), rc);
                    if (km[c] == 0xffff) _mm512_storeu_si512((void *)(crow + 16 * c), v);
                    else _mm512_mask_storeu_epi32(crow + 16 * c, km[c], v);
                }
            }
            return;
        }
        if ((out->ep->out == QUANT_OUT_I8 || out->ep->out == QUANT_OUT_U8) && out->ep->mode == QUANT_RQ_FP32) {
            /* inline too: XNNPACK's float requantization, the runner's mode */
            const quant_epilogue *ep = out->ep;
            const __m512 lo = _mm512_set1_ps((float)(ep->out_min - ep->out_zp)), hi = _mm512_set1_ps((float)(ep->out_max - ep->out_zp));
            const __m512i zp = _mm512_set1_epi32(ep->out_zp);
            __m512 sc[4];
            QUANT__UNROLL
            for (c = 0; c < NCV; c++) sc[c] = _mm512_loadu_ps(out->ec->scale + 16 * c);
            QUANT__UNROLL
            for (r = 0; r < MR; r++) {
                const __m512i rc = _mm512_set1_epi32((int)out->rowcorr[r]);
                int8_t *crow = (int8_t *)out->C + (out->m + r) * out->ldc + out->col;
                QUANT__UNROLL
                for (c = 0; c < NCV; c++) {
                    __m512 y = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_add_epi32(acc[r][c], cv[c]), rc)), sc[c]);
                    __m128i v = _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(y, lo), hi)), zp));
                    if (km[c] == 0xffff) _mm_storeu_si128((__m128i *)(crow + 16 * c), v);
                    else _mm_mask_storeu_epi8(crow + 16 * c, km[c], v);
                }
            }
            return;
        }
        { /* the integer modes and F32 out of line, the accumulators through memory */
            __m512i a2[24];
            QUANT__UNROLL
            for (r = 0; r < MR; r++) { QUANT__UNROLL for (c = 0; c < NCV; c++) a2[4 * r + c] = acc[r][c]; }
            if (out->ep->out == QUANT_OUT_I8 || out->ep->out == QUANT_OUT_U8) {
                if (out->ep->mode == QUANT_RQ_GEMMLOWP) quant__rqg_6x64__avx512vnni(MR, NCV, a2, out);
                else quant__rqs_6x64__avx512vnni(MR, NCV, a2, out);
            } else quant__epi_6x64__avx512vnni(MR, NCV, a2, out);
            return;
        }
    }
    QUANT__UNROLL
    for (r = 0; r < MR; r++)
        QUANT__UNROLL
        for (c = 0; c < NCV; c++) _mm512_storeu_si512((void *)(tile + r * QUANT__NR + 16 * c), acc[r][c]);
}

/* GEMV: one row, two interleaved accumulator sets to hide the latency. */
QUANT__AINL void quant__gemv_u8s8_1x64c4__avx512vnni(const int SIGNED, size_t K,
        const uint8_t *A, const int8_t *pan, int32_t *tile) {
    __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0, t0 = s0, t1 = s0, t2 = s0, t3 = s0;
    size_t g = 0, kg = K / 4;
    for (; g + 2 <= kg; g += 2) {
        const int8_t *p = pan + g * 256;
        const __m512i a0 = quant__bcast_a512(A + 4 * g, SIGNED), a1 = quant__bcast_a512(A + 4 * g + 4, SIGNED);
        s0 = _mm512_dpbusd_epi32(s0, a0, _mm512_loadu_si512((const void *)(p)));
        s1 = _mm512_dpbusd_epi32(s1, a0, _mm512_loadu_si512((const void *)(p + 64)));
        s2 = _mm512_dpbusd_epi32(s2, a0, _mm512_loadu_si512((const void *)(p + 128)));
        s3 = _mm512_dpbusd_epi32(s3, a0, _mm512_loadu_si512((const void *)(p + 192)));
        t0 = _mm512_dpbusd_epi32(t0, a1, _mm512_loadu_si512((const void *)(p + 256)));
        t1 = _mm512_dpbusd_epi32(t1, a1, _mm512_loadu_si512((const void *)(p + 320)));
        t2 = _mm512_dpbusd_epi32(t2, a1, _mm512_loadu_si512((const void *)(p + 384)));
        t3 = _mm512_dpbusd_epi32(t3, a1, _mm512_loadu_si512((const void *)(p + 448)));
    }
    for (; g < kg + (K % 4 != 0); g++) {
        const int8_t *p = pan + g * 256;
        uint32_t v;
        __m512i a0;
        if (g < kg) memcpy(&v, A + 4 * g, 4); else v = quant__ld4_tail(A + 4 * g, K % 4);
        a0 = quant__bcast_a512((const uint8_t *)&v, SIGNED);
        s0 = _mm512_dpbusd_epi32(s0, a0, _mm512_loadu_si512((const void *)(p)));
        s1 = _mm512_dpbusd_epi32(s1, a0, _mm512_loadu_si512((const void *)(p + 64)));
        s2 = _mm512_dpbusd_epi32(s2, a0, _mm512_loadu_si512((const void *)(p + 128)));
        s3 = _mm512_dpbusd_epi32(s3, a0, _mm512_loadu_si512((const void *)(p + 192)));
    }
    _mm512_storeu_si512((void *)(tile), _mm512_add_epi32(s0, t0));
    _mm512_storeu_si512((void *)(tile + 16), _mm512_add_epi32(s1, t1));
    _mm512_storeu_si512((void *)(tile + 32), _mm512_add_epi32(s2, t2));
    _mm512_storeu_si512((void *)(tile + 48), _mm512_add_epi32(s3, t3));
}

#define QUANT__UKR_NCV(MR, S)                                                                        \
    switch (ncv) {                                                                                   \
    case 1: quant__gemm_u8s8_6x64c4_body__avx512vnni(MR, 1, S, K, A, lda, pan, tile, out, 0, NULL, 0); break;      \
    case 2: quant__gemm_u8s8_6x64c4_body__avx512vnni(MR, 2, S, K, A, lda, pan, tile, out, 0, NULL, 0); break;      \
    case 3: quant__gemm_u8s8_6x64c4_body__avx512vnni(MR, 3, S, K, A, lda, pan, tile, out, 0, NULL, 0); break;      \
    default: quant__gemm_u8s8_6x64c4_body__avx512vnni(MR, 4, S, K, A, lda, pan, tile, out, 0, NULL, 0); break;     \
    }
#define QUANT__UKR_CASES(S)                                                              \
    switch (mr) {                                                                        \
    case 1: quant__gemv_u8s8_1x64c4__avx512vnni(S, K, A, pan, tile); break;                          \
    case 2: QUANT__UKR_NCV(2, S) break;                                                  \
    case 3: QUANT__UKR_NCV(3, S) break;                                                  \
    case 4: QUANT__UKR_NCV(4, S) break;                                                  \
    case 5: QUANT__UKR_NCV(5, S) break;                                                  \
    default: QUANT__UKR_NCV(6, S) break;                                                 \
    }
/* out != NULL (mr >= 2, a panel from its first column, out->cnt columns):
 * the kernel applies the epilogue and writes C itself */
static void quant__gemm_u8s8_6x64c4_epi__avx512vnni(size_t mr, size_t K, const uint8_t *A, size_t lda, int a_signed,
        const int8_t *pan, int32_t *tile, const quant__ukr_out *out) {
    int ncv = out ? (int)((out->cnt + 15) / 16) : 4;
    if (a_signed) { QUANT__UKR_CASES(1) } else { QUANT__UKR_CASES(0) }
}
#undef QUANT__UKR_CASES
#undef QUANT__UKR_NCV
static void quant__gemm_u8s8_6x64c4__avx512vnni(size_t mr, size_t K, const uint8_t *A, size_t lda, int a_signed,
        const int8_t *pan, int32_t *tile) {
    quant__gemm_u8s8_6x64c4_epi__avx512vnni(mr, K, A, lda, a_signed, pan, tile, NULL);
}
#define QUANT__UKR quant__gemm_u8s8_6x64c4__avx512vnni
#define QUANT__UKR_OUT quant__gemm_u8s8_6x64c4_epi__avx512vnni

/* The indirect kernel (convolution without im2col, activations unsigned):
 * mr rows of taps pieces of C bytes each (C % 4 == 0) at ind[r * taps + t],
 * the epilogue applied through out (a whole panel from its first column). */
#define QUANT__IKR_NCV(MR)                                                                           \
    switch (ncv) {                                                                                   \
    case 1: quant__gemm_u8s8_6x64c4_body__avx512vnni(MR, 1, 0, 0, NULL, C, pan, NULL, out, 1, ind, taps); break;   \
    case 2: quant__gemm_u8s8_6x64c4_body__avx512vnni(MR, 2, 0, 0, NULL, C, pan, NULL, out, 1, ind, taps); break;   \
    case 3: quant__gemm_u8s8_6x64c4_body__avx512vnni(MR, 3, 0, 0, NULL, C, pan, NULL, out, 1, ind, taps); break;   \
    default: quant__gemm_u8s8_6x64c4_body__avx512vnni(MR, 4, 0, 0, NULL, C, pan, NULL, out, 1, ind, taps); break;  \
    }
static void quant__igemm_u8s8_6x64c4__avx512vnni(size_t mr, size_t taps, size_t C, const uint8_t *const *ind,
        const int8_t *pan, const quant__ukr_out *out) {
    int ncv = (int)((out->cnt + 15) / 16);
    switch (mr) {
    case 1: QUANT__IKR_NCV(1) break;
    case 2: QUANT__IKR_NCV(2) break;
    case 3: QUANT__IKR_NCV(3) break;
    case 4: QUANT__IKR_NCV(4) break;
    case 5: QUANT__IKR_NCV(5) break;
    default: QUANT__IKR_NCV(6) break;
    }
}
#undef QUANT__IKR_NCV
#define QUANT__IKR quant__igemm_u8s8_6x64c4__avx512vnni

#elif defined(QUANT_ISA_AVXVNNI)

QUANT__AINL void quant__gemm_u8s8_2x32c4_body__avxvnni(const int MR, size_t K,
        const uint8_t *A, size_t lda, uint32_t flip, const int8_t *pan, int32_t *tile) {
    __m256i acc[2][4];
    const uint8_t *a[2];
    size_t g, kg = K / 4 + (K % 4 != 0);
    int r, c;
    QUANT__UNROLL
    for (r = 0; r < MR; r++) { a[r] = A + (size_t)r * lda; for (c = 0; c < 4; c++) acc[r][c] = _mm256_setzero_si256(); }
    for (g = 0; g < kg; g++) {
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(pan + g * 128));
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(pan + g * 128 + 32));
        const __m256i b2 = _mm256_loadu_si256((const __m256i *)(pan + g * 128 + 64));
        const __m256i b3 = _mm256_loadu_si256((const __m256i *)(pan + g * 128 + 96));
        QUANT__UNROLL
        for (r = 0; r < MR; r++) {
            uint32_t v;
            __m256i av;
            if (4 * g + 4 <= K) memcpy(&v, a[r] + 4 * g, 4); else v = quant__ld4_tail(a[r] + 4 * g, K % 4);
            av = _mm256_set1_epi32((int)(v ^ flip));
            acc[r][0] = _mm256_dpbusd_avx_epi32(acc[r][0], av, b0);
            acc[r][1] = _mm256_dpbusd_avx_epi32(acc[r][1], av, b1);
            acc[r][2] = _mm256_dpbusd_avx_epi32(acc[r][2], av, b2);
            acc[r][3] = _mm256_dpbusd_avx_epi32(acc[r][3], av, b3);
        }
    }
    QUANT__UNROLL
    for (r = 0; r < MR; r++)
        QUANT__UNROLL
        for (c = 0; c < 4; c++) _mm256_storeu_si256((__m256i *)(tile + r * QUANT__NR + 8 * c), acc[r][c]);
}

static void quant__gemm_u8s8_2x32c4__avxvnni(size_t mr, size_t K, const uint8_t *A, size_t lda, int a_signed,
        const int8_t *pan, int32_t *tile) {
    uint32_t flip = a_signed ? 0x80808080u : 0u;
    if (mr == 1) quant__gemm_u8s8_2x32c4_body__avxvnni(1, K, A, lda, flip, pan, tile);
    else quant__gemm_u8s8_2x32c4_body__avxvnni(2, K, A, lda, flip, pan, tile);
}
#define QUANT__UKR quant__gemm_u8s8_2x32c4__avxvnni

#elif defined(QUANT_HAS_SSE41)

/* 16-bit widening: B pairs (k, k+1) sign-extended, A pairs zero- or
 * sign-extended and broadcast, multiply-add of pairs into int32 (vpmaddwd:
 * 255 * 128 * 2 fits easily; nothing saturates). A is read in chunks of 16
 * bytes; the tail chunk comes from a zeroed copy. */
#define QUANT__NV (QUANT__NR / QUANT__VL) /* vectors per panel row */

/* n < one vector of bytes from src to dst in 4-byte groups, the bytes of
 * the last group past n taken from fill (a memcpy of a variable size is a
 * call; a byte loop costs more than the product at K = 9) */
QUANT__AINL void quant__copy_short(uint8_t *dst, const uint8_t *src, size_t n, uint32_t fill) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) memcpy(dst + i, src + i, 4);
    if (i < n) {
        const uint32_t keep = 0xffffffffu >> (8 * (4 - (n - i)));
        const uint32_t t = quant__ld4_tail(src + i, n - i) | (fill & ~keep);
        memcpy(dst + i, &t, 4);
    }
}

/* the 8 (k, k+1) int16 pairs of 16 bytes of A, each as an int32 lane value */
static inline void quant__pairs16(const uint8_t *a, int a_signed, uint32_t out[8]) {
    __m128i v = _mm_loadu_si128((const __m128i *)a);
    __m128i lo = a_signed ? _mm_cvtepi8_epi16(v) : _mm_cvtepu8_epi16(v);
    __m128i hi = a_signed ? _mm_cvtepi8_epi16(_mm_srli_si128(v, 8)) : _mm_cvtepu8_epi16(_mm_srli_si128(v, 8));
    _mm_storeu_si128((__m128i *)out, lo);
    _mm_storeu_si128((__m128i *)(out + 4), hi);
}

/* the kernel's name: its tile and ISA */
#if defined(QUANT_ISA_AVX512)
#  define QUANT__UKR quant__gemm_u8s8_6x32c2__avx512
#elif defined(QUANT_ISA_AVX2)
#  define QUANT__UKR quant__gemm_u8s8_4x16c2__avx2
#else
#  define QUANT__UKR quant__gemm_u8s8_4x8c2__sse41
#endif

QUANT__AINL void quant__gemm_u8s8_madd_body(const int MR, size_t K,
        const uint8_t *A, size_t lda, int a_signed, const int8_t *pan, int32_t *tile) {
    quant__vi acc[QUANT__MR][QUANT__NV];
    uint32_t pr[QUANT__MR][8];
    size_t k0;
    int r, c, j;
    QUANT__UNROLL
    for (r = 0; r < MR; r++) for (c = 0; c < QUANT__NV; c++) acc[r][c] = quant__vi_zero();
    for (k0 = 0; k0 < K; k0 += 16) {
        size_t kn = K - k0 < 16 ? K - k0 : 16, np = (kn + 1) / 2;
        QUANT__UNROLL
        for (r = 0; r < MR; r++) {
            const uint8_t *ar = A + (size_t)r * lda + k0;
            if (kn == 16) quant__pairs16(ar, a_signed, pr[r]);
            else { uint8_t t[16] = { 0 }; quant__copy_short(t, ar, kn, 0); quant__pairs16(t, a_signed, pr[r]); }
        }
        for (j = 0; j < (int)np; j++) {
            const int8_t *pb = pan + (k0 / 2 + (size_t)j) * QUANT__NR * 2;
            quant__vi b[QUANT__NV];
            QUANT__UNROLL
            for (c = 0; c < QUANT__NV; c++) b[c] = quant__vi_load_s8s16(pb + c * QUANT__VL * 2);
            QUANT__UNROLL
            for (r = 0; r < MR; r++) {
                const quant__vi av = quant__vi_set32((int32_t)pr[r][j]);
                QUANT__UNROLL
                for (c = 0; c < QUANT__NV; c++) acc[r][c] = quant__vi_madd16(acc[r][c], av, b[c]);
            }
        }
    }
    QUANT__UNROLL
    for (r = 0; r < MR; r++)
        QUANT__UNROLL
        for (c = 0; c < QUANT__NV; c++) quant__vi_store(tile + r * QUANT__NR + c * QUANT__VL, acc[r][c]);
}

static void QUANT__UKR(size_t mr, size_t K, const uint8_t *A, size_t lda, int a_signed,
        const int8_t *pan, int32_t *tile) {
    switch (mr) {
    case 1: quant__gemm_u8s8_madd_body(1, K, A, lda, a_signed, pan, tile); break;
    case 2: quant__gemm_u8s8_madd_body(2, K, A, lda, a_signed, pan, tile); break;
    case 3: quant__gemm_u8s8_madd_body(3, K, A, lda, a_signed, pan, tile); break;
#if QUANT__MR > 4
    case 4: quant__gemm_u8s8_madd_body(4, K, A, lda, a_signed, pan, tile); break;
    case 5: quant__gemm_u8s8_madd_body(5, K, A, lda, a_signed, pan, tile); break;
#endif
    default: quant__gemm_u8s8_madd_body(QUANT__MR, K, A, lda, a_signed, pan, tile); break;
    }
}

/* The packing without a -128 weight (KG 4, the pack's choice) feeds
 * pmaddubsw, whose u8 x s8 pair sums saturate at 32,767, two exact ways:
 *   SEVEN  every activation byte of the call's rows <= 127 (uint8): A^ = A,
 *          a pair is at most 2 x 127 x 128 = 32,512 in magnitude;
 *   sign   A^ = A - 128 for uint8 (A for int8) as int8 a, and a * w =
 *          |a| * (w ^ m) + |a| [a < 0] with m the mask of a < 0 (w ^ -1 =
 *          -w - 1): |a| <= 128 and w ^ m in -128..126 bound a pair to
 *          -32,768 .. 32,256 (the second term is the row's: the driver
 *          adds it with the row's other corrections, quant__rows_negsum).
 *          A xor where psignb would do: psignb runs on the multiplier
 *          pipes the pmaddubsw / pmaddwd chain needs, a xor on any.
 * pmaddwd with ones then adds the pairs of each 4-byte group into int32:
 * the VNNI dot product in three steps (two in SEVEN). */
/* bytes [0, kn) of the row at a into the masks of A^ < 0 at s and |A^| at
 * u, each to a whole vector, A^ = 0 past kn (the flip pattern there); U7
 * (every byte <= 127, flip 0): the bytes themselves at u, no masks */
QUANT__AINL void quant__c4_prep_row(const uint8_t *a, size_t kn, quant__vi fv, uint32_t flip, const int U7, uint8_t *s,
        uint8_t *u) {
    size_t o;
    for (o = 0; o < kn; o += QUANT__VB) {
        quant__vi v;
        if (kn - o >= QUANT__VB) v = quant__vi_load(a + o);
        else {
            quant__vi_store(s + o, fv);
            quant__copy_short(s + o, a + o, kn - o, flip);
            v = quant__vi_load(s + o);
        }
        if (U7) { quant__vi_store(u + o, v); continue; }
        v = quant__vi_xor(v, fv);
        quant__vi_store(s + o, quant__vi_neg8(v));
        quant__vi_store(u + o, quant__vi_abs8(v));
    }
}
/* the one-panel kernels (AVX2 runs them only for a call of one panel:
 * more panels take the many-panel kernels below) */
#if defined(QUANT_ISA_AVX512)
#  define QUANT__UKR_SGN quant__gemm_s8s8_6x32c4__avx512
#  define QUANT__UKR_U7 quant__gemm_u7s8_6x32c4__avx512
#elif defined(QUANT_ISA_AVX2)
#  define QUANT__UKR_SGN quant__gemm_s8s8_4x16c4__avx2
#  define QUANT__UKR_U7 quant__gemm_u7s8_4x16c4__avx2
#else
#  define QUANT__UKR_SGN quant__gemm_s8s8_4x8c4__sse41
#  define QUANT__UKR_U7 quant__gemm_u7s8_4x8c4__sse41
#endif

/* one 4-byte group of K, the rows' bytes at a[r] (SEVEN: A^ = A) or the
 * masks of A^ < 0 at sa[r] and |A^| at aa[r] (sign) */
QUANT__AINL void quant__gemm_c4_step(const int MR, const int SEVEN, const uint8_t *const *a, const uint8_t *const *sa,
        const uint8_t *const *aa, size_t off, const quant__vi *b, quant__vi acc[][QUANT__NV]) {
    int r, c;
    QUANT__UNROLL
    for (r = 0; r < MR; r++) {
        int32_t v, w;
        if (SEVEN) {
            memcpy(&v, a[r] + off, 4);
            QUANT__UNROLL
            for (c = 0; c < QUANT__NV; c++) acc[r][c] = quant__vi_dot4(acc[r][c], quant__vi_set32(v), b[c]);
        } else { /* broadcasts from memory: from a register each costs a shuffle */
            memcpy(&v, sa[r] + off, 4);
            memcpy(&w, aa[r] + off, 4);
            QUANT__UNROLL
            for (c = 0; c < QUANT__NV; c++)
                acc[r][c] = quant__vi_dot4(acc[r][c], quant__vi_set32(w), quant__vi_xor(b[c], quant__vi_set32(v)));
        }
    }
}

/* The chunk buffers stay memory: GCC otherwise keeps their vectors in
 * registers and rebuilds each broadcast with shuffles, spilling the tile. */
#if defined(__GNUC__) || defined(__clang__)
#  define QUANT__C4_MEM(p) __asm__ volatile("" : : "r"(p) : "memory")
#else
#  define QUANT__C4_MEM(p) ((void)0)
#endif
/* the sign kernel's chunk of K, the bytes of a row prepared at once: four
 * vectors on AVX2 (fewer turns between preparing and multiplying), one on
 * the others (where four measured no faster) */
#if defined(QUANT_ISA_AVX2)
#  define QUANT__C4_CH (4 * QUANT__VB)
#else
#  define QUANT__C4_CH QUANT__VB
#endif
/* SEVEN: the groups straight from A, the tail group zero-extended. Sign: A
 * in chunks of QUANT__C4_CH bytes per row turned into the masks of A^ < 0
 * and |A^| on the stack (a few operations a vector, not a group and row),
 * A^ = 0 past K; the chunk's groups broadcast from there. The panel's
 * padding is 0. */
QUANT__AINL void quant__gemm_c4_body(const int MR, const int SEVEN, size_t K, const uint8_t *A, size_t lda,
        uint32_t flip, const int8_t *pan, int32_t *tile) {
    quant__vi acc[QUANT__MR][QUANT__NV], b[QUANT__NV];
    const uint8_t *a[QUANT__MR], *sp[QUANT__MR], *ap[QUANT__MR];
    size_t k0, g;
    int r, c;
    QUANT__UNROLL
    for (r = 0; r < MR; r++) { a[r] = A + (size_t)r * lda; for (c = 0; c < QUANT__NV; c++) acc[r][c] = quant__vi_zero(); }
    if (SEVEN) {
        const size_t kf = K / 4;
        for (g = 0; g < kf; g++, pan += QUANT__NR * 4) {
            QUANT__UNROLL
            for (c = 0; c < QUANT__NV; c++) b[c] = quant__vi_load(pan + c * QUANT__VL * 4);
            quant__gemm_c4_step(MR, 1, a, sp, ap, 4 * g, b, acc);
        }
        if (K % 4) {
            uint32_t t[QUANT__MR];
            QUANT__UNROLL
            for (c = 0; c < QUANT__NV; c++) b[c] = quant__vi_load(pan + c * QUANT__VL * 4);
            QUANT__UNROLL
            for (r = 0; r < MR; r++) { t[r] = quant__ld4_tail(a[r] + 4 * kf, K % 4); sp[r] = (const uint8_t *)&t[r]; }
            quant__gemm_c4_step(MR, 1, sp, sp, ap, 0, b, acc);
        }
    } else {
        uint8_t sbuf[QUANT__MR][QUANT__C4_CH], abuf[QUANT__MR][QUANT__C4_CH];
        const quant__vi fv = quant__vi_set32((int32_t)flip);
        QUANT__UNROLL
        for (r = 0; r < MR; r++) { sp[r] = sbuf[r]; ap[r] = abuf[r]; }
        for (k0 = 0; k0 < K; k0 += QUANT__C4_CH) {
            const size_t kn = K - k0 < QUANT__C4_CH ? K - k0 : QUANT__C4_CH;
            size_t o;
            for (o = 0; o < kn; o += QUANT__VB)
                QUANT__UNROLL
                for (r = 0; r < MR; r++)
                    quant__c4_prep_row(a[r] + k0 + o, kn - o < QUANT__VB ? kn - o : QUANT__VB, fv, flip, 0, sbuf[r] + o, abuf[r] + o);
            QUANT__C4_MEM(sbuf);
            QUANT__C4_MEM(abuf);
            /* (not unrolled: GCC would then reassociate the sums of the
             * groups and spill the products) */
            for (g = 0; g < (kn + 3) / 4; g++, pan += QUANT__NR * 4) {
                QUANT__UNROLL
                for (c = 0; c < QUANT__NV; c++) b[c] = quant__vi_load(pan + c * QUANT__VL * 4);
                quant__gemm_c4_step(MR, 0, a, sp, ap, 4 * g, b, acc);
            }
        }
    }
    QUANT__UNROLL
    for (r = 0; r < MR; r++)
        QUANT__UNROLL
        for (c = 0; c < QUANT__NV; c++) quant__vi_store(tile + r * QUANT__NR + c * QUANT__VL, acc[r][c]);
}

#if QUANT__MR > 4
#  define QUANT__C4_MR45(S) case 4: quant__gemm_c4_body(4, S, K, A, lda, flip, pan, tile); break; \
                            case 5: quant__gemm_c4_body(5, S, K, A, lda, flip, pan, tile); break;
#else
#  define QUANT__C4_MR45(S)
#endif
#define QUANT__C4_SWITCH(S)                                                       \
    switch (mr) {                                                                 \
    case 1: quant__gemm_c4_body(1, S, K, A, lda, flip, pan, tile); break;         \
    case 2: quant__gemm_c4_body(2, S, K, A, lda, flip, pan, tile); break;         \
    case 3: quant__gemm_c4_body(3, S, K, A, lda, flip, pan, tile); break;         \
    QUANT__C4_MR45(S)                                                             \
    default: quant__gemm_c4_body(QUANT__MR, S, K, A, lda, flip, pan, tile); break; \
    }
static void QUANT__UKR_SGN(size_t mr, size_t K, const uint8_t *A, size_t lda, int a_signed,
        const int8_t *pan, int32_t *tile) {
    const uint32_t flip = a_signed ? 0u : 0x80808080u;
    QUANT__C4_SWITCH(0)
}
static void QUANT__UKR_U7(size_t mr, size_t K, const uint8_t *A, size_t lda, int a_signed,
        const int8_t *pan, int32_t *tile) {
    const uint32_t flip = 0;
    (void)a_signed;
    QUANT__C4_SWITCH(1)
}
#undef QUANT__C4_SWITCH
#undef QUANT__C4_MR45
#undef QUANT__C4_MEM
#undef QUANT__C4_CH

#if defined(QUANT_ISA_AVX2)
/* AVX2 runs the sign and U7 kernels of a call of two panels or more with
 * the rows prepared once for many panels: the driver turns a K block of a
 * row of A into the masks of A^ < 0 and |A^| (quant__c4_prep_row,
 * QUANT__C4W_KC bytes at most in the two-row kernel), then runs the K loop
 * (quant__c4x_dot2: two rows x three panels) on each panel triple of a
 * group, their int32 tiles carried in memory from one K block to the next.
 * The one-panel kernel above prepares its rows again for each panel. Same
 * products and sums, so the same exactness. */
#  define QUANT__C4W_KC 1024
/* The one-row sign kernel on up to four panels (64 columns) at once, for a
 * GEMV and the row a block leaves after its twos: the row prepared by
 * quant__c4_prep_row in K blocks of QUANT__C4W_KR bytes (masks at cb, |A^|
 * at cb + QUANT__C4W_KR), then quant__c4w_dot1 on each panel quad. */
#  define QUANT__C4W_KR 4096
#  if (defined(__GNUC__) || defined(__clang__)) && !defined(QUANT_NO_ASM) && defined(__x86_64__) && !defined(__ILP32__)
/* The K loops written out: GCC schedules their C forms below with a copy
 * of each panel pointer per row, and unrolled it reassociates the sums and
 * spills the tile. One product of a panel vector: xor (the panel from
 * memory), pmaddubsw, pmaddwd with ones, paddd (quant__vi_dot4's
 * operations in its order); with U7 (the operand u7: A itself, every
 * byte <= 127) pmaddubsw takes the panel from memory, no mask, no xor:
 * the exact chain's three operations. */
/* the first eight accumulators zeroed (a first K block) */
#    define QUANT__C4W_ZERO8                                                     \
        "vpxor %%xmm0, %%xmm0, %%xmm0\n\t" "vpxor %%xmm1, %%xmm1, %%xmm1\n\t"        \
        "vpxor %%xmm2, %%xmm2, %%xmm2\n\t" "vpxor %%xmm3, %%xmm3, %%xmm3\n\t"        \
        "vpxor %%xmm4, %%xmm4, %%xmm4\n\t" "vpxor %%xmm5, %%xmm5, %%xmm5\n\t"        \
        "vpxor %%xmm6, %%xmm6, %%xmm6\n\t" "vpxor %%xmm7, %%xmm7, %%xmm7\n\t"
#    define QUANT__C4W_DOT(src, acc)                                             \
        ".if %c[u7]\n\t"                                                         \
        "vpmaddubsw " src ", %%ymm13, %%ymm15\n\t"                               \
        ".else\n\t"                                                              \
        "vpxor " src ", %%ymm12, %%ymm15\n\t"                                    \
        "vpmaddubsw %%ymm15, %%ymm13, %%ymm15\n\t"                               \
        ".endif\n\t"                                                             \
        "vpmaddwd %%ymm14, %%ymm15, %%ymm15\n\t"                                 \
        "vpaddd %%ymm15, %%ymm" #acc ", %%ymm" #acc "\n\t"
/* cb: quant__c4_prep_row's masks (|A^| QUANT__C4W_KR bytes on); groups of K
 * bytes [0, kn); the panels at pan0 + i pd, i < NP (1 to 4: the assembler's
 * .if leaves out the others), their tiles of 16 int32 at t + 16 i, read
 * before (zeros instead when first) and written after (all four panels'
 * slots: the unused ones are the caller's scratch). Per 4-byte group: the
 * two broadcasts, then per panel vector quant__vi_dot4's operations
 * (QUANT__C4W_DOT). */
QUANT__AINL void quant__c4w_dot1(const int U7, const int NP, const uint8_t *cb, size_t kn, const int8_t *pan0, size_t pd,
        int first, int32_t *t) {
    const size_t ke = (kn + 3) / 4 * 4;
    const int8_t *pan2 = NP > 2 ? pan0 + 2 * pd : pan0;
    size_t k = 0;
    __asm__ volatile(
            "test %[first], %[first]\n\t"
            "jz 4f\n\t"
            QUANT__C4W_ZERO8
            "jmp 5f\n\t"
            "4:\n\t"
            "vmovdqu 0(%[t]), %%ymm0\n\t"   "vmovdqu 32(%[t]), %%ymm1\n\t"
            "vmovdqu 64(%[t]), %%ymm2\n\t"  "vmovdqu 96(%[t]), %%ymm3\n\t"
            "vmovdqu 128(%[t]), %%ymm4\n\t" "vmovdqu 160(%[t]), %%ymm5\n\t"
            "vmovdqu 192(%[t]), %%ymm6\n\t" "vmovdqu 224(%[t]), %%ymm7\n\t"
            "5:\n\t"
            "vpcmpeqw %%ymm14, %%ymm14, %%ymm14\n\t"
            "vpsrlw $15, %%ymm14, %%ymm14\n\t" /* int16 ones */
            "1:\n\t"
            ".if %c[u7] == 0\n\t"
            "vpbroadcastd (%[cb],%[k]), %%ymm12\n\t"
            ".endif\n\t"
            "vpbroadcastd %c[u](%[cb],%[k]), %%ymm13\n\t"
            QUANT__C4W_DOT("(%[p])", 0)
            QUANT__C4W_DOT("32(%[p])", 1)
            ".if %c[np] > 1\n\t"
            QUANT__C4W_DOT("(%[p],%[pd])", 2)
            QUANT__C4W_DOT("32(%[p],%[pd])", 3)
            ".endif\n\t"
            ".if %c[np] > 2\n\t"
            QUANT__C4W_DOT("(%[q])", 4)
            QUANT__C4W_DOT("32(%[q])", 5)
            ".endif\n\t"
            ".if %c[np] > 3\n\t"
            QUANT__C4W_DOT("(%[q],%[pd])", 6)
            QUANT__C4W_DOT("32(%[q],%[pd])", 7)
            ".endif\n\t"
            "add $64, %[p]\n\t"
            "add $64, %[q]\n\t"
            "add $4, %[k]\n\t"
            "cmp %[ke], %[k]\n\t"
            "jb 1b\n\t"
            "vmovdqu %%ymm0, 0(%[t])\n\t"   "vmovdqu %%ymm1, 32(%[t])\n\t"
            "vmovdqu %%ymm2, 64(%[t])\n\t"  "vmovdqu %%ymm3, 96(%[t])\n\t"
            "vmovdqu %%ymm4, 128(%[t])\n\t" "vmovdqu %%ymm5, 160(%[t])\n\t"
            "vmovdqu %%ymm6, 192(%[t])\n\t" "vmovdqu %%ymm7, 224(%[t])\n\t"
            : [p] "+r"(pan0), [q] "+r"(pan2), [k] "+r"(k)
            : [cb] "r"(cb), [pd] "r"(pd), [ke] "r"(ke), [t] "r"(t), [first] "r"(first), [u] "i"(QUANT__C4W_KR), [u7] "i"(U7),
              [np] "i"(NP)
            : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm12", "xmm13", "xmm14",
              "xmm15");
}
/* The two-row sign kernel on NP (3 or 2) panels (2 x 48): per 4-byte group
 * and row the two broadcasts feed six vectors (four at 3 rows x 2 panels,
 * with the same twelve accumulators). cb: the masks of rows 0 and 1 at cb
 * and cb + QUANT__C4W_KC, their |A^| at cb + 2 and 3 QUANT__C4W_KC
 * (quant__c4_prep_row); groups of K bytes [0, kn); the panels at pan0 +
 * i pd, i < NP (the assembler's .if leaves out the others); the tiles at
 * t, panel i row r at t + 32 i + 16 r, read before (zeros instead when
 * first) and written after (all three panels' slots: the unused ones are
 * the caller's scratch). */
#    define QUANT__C4X_ROW(r, a0, a1, a2, a3, a4, a5)                            \
        ".if %c[u7] == 0\n\t"                                                    \
        "vpbroadcastd %c[s" #r "](%[cb],%[k]), %%ymm12\n\t"                     \
        ".endif\n\t"                                                             \
        "vpbroadcastd %c[u" #r "](%[cb],%[k]), %%ymm13\n\t"                     \
        QUANT__C4W_DOT("(%[p])", a0)                                             \
        QUANT__C4W_DOT("32(%[p])", a1)                                           \
        ".if %c[np] > 1\n\t"                                                     \
        QUANT__C4W_DOT("(%[p],%[pd])", a2)                                       \
        QUANT__C4W_DOT("32(%[p],%[pd])", a3)                                     \
        ".endif\n\t"                                                             \
        ".if %c[np] > 2\n\t"                                                     \
        QUANT__C4W_DOT("(%[p],%[pd],2)", a4)                                     \
        QUANT__C4W_DOT("32(%[p],%[pd],2)", a5)                                   \
        ".endif\n\t"
QUANT__AINL void quant__c4x_dot2(const int U7, const int NP, const uint8_t *cb, size_t kn, const int8_t *pan0, size_t pd,
        int first, int32_t *t) {
    const size_t ke = (kn + 3) / 4 * 4;
    size_t k = 0;
    __asm__ volatile(
            "test %[first], %[first]\n\t"
            "jz 4f\n\t"
            QUANT__C4W_ZERO8
            "vpxor %%xmm8, %%xmm8, %%xmm8\n\t" "vpxor %%xmm9, %%xmm9, %%xmm9\n\t"
            "vpxor %%xmm10, %%xmm10, %%xmm10\n\t" "vpxor %%xmm11, %%xmm11, %%xmm11\n\t"
            "jmp 5f\n\t"
            "4:\n\t"
            /* row 0: panel i's vectors in 2i, 2i + 1; row 1: 6 on */
            "vmovdqu 0(%[t]), %%ymm0\n\t"    "vmovdqu 32(%[t]), %%ymm1\n\t"
            "vmovdqu 128(%[t]), %%ymm2\n\t"  "vmovdqu 160(%[t]), %%ymm3\n\t"
            "vmovdqu 256(%[t]), %%ymm4\n\t"  "vmovdqu 288(%[t]), %%ymm5\n\t"
            "vmovdqu 64(%[t]), %%ymm6\n\t"   "vmovdqu 96(%[t]), %%ymm7\n\t"
            "vmovdqu 192(%[t]), %%ymm8\n\t"  "vmovdqu 224(%[t]), %%ymm9\n\t"
            "vmovdqu 320(%[t]), %%ymm10\n\t" "vmovdqu 352(%[t]), %%ymm11\n\t"
            "5:\n\t"
            "vpcmpeqw %%ymm14, %%ymm14, %%ymm14\n\t"
            "vpsrlw $15, %%ymm14, %%ymm14\n\t" /* int16 ones */
            "1:\n\t"
            QUANT__C4X_ROW(0, 0, 1, 2, 3, 4, 5)
            QUANT__C4X_ROW(1, 6, 7, 8, 9, 10, 11)
            "add $64, %[p]\n\t"
            "add $4, %[k]\n\t"
            "cmp %[ke], %[k]\n\t"
            "jb 1b\n\t"
            "vmovdqu %%ymm0, 0(%[t])\n\t"    "vmovdqu %%ymm1, 32(%[t])\n\t"
            "vmovdqu %%ymm2, 128(%[t])\n\t"  "vmovdqu %%ymm3, 160(%[t])\n\t"
            "vmovdqu %%ymm4, 256(%[t])\n\t"  "vmovdqu %%ymm5, 288(%[t])\n\t"
            "vmovdqu %%ymm6, 64(%[t])\n\t"   "vmovdqu %%ymm7, 96(%[t])\n\t"
            "vmovdqu %%ymm8, 192(%[t])\n\t"  "vmovdqu %%ymm9, 224(%[t])\n\t"
            "vmovdqu %%ymm10, 320(%[t])\n\t" "vmovdqu %%ymm11, 352(%[t])\n\t"
            : [p] "+r"(pan0), [k] "+r"(k)
            : [cb] "r"(cb), [pd] "r"(pd), [ke] "r"(ke), [t] "r"(t), [first] "r"(first),
              [s0] "i"(0), [s1] "i"(QUANT__C4W_KC), [u0] "i"(2 * QUANT__C4W_KC), [u1] "i"(3 * QUANT__C4W_KC), [np] "i"(NP), [u7] "i"(U7)
            : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
              "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}
#    undef QUANT__C4X_ROW
#    undef QUANT__C4W_DOT
#    undef QUANT__C4W_ZERO8
#  else
QUANT__AINL void quant__c4w_dot1(const int U7, const int NP, const uint8_t *cb, size_t kn, const int8_t *pan0, size_t pd,
        int first, int32_t *t) {
    quant__vi acc[4 * QUANT__NV];
    size_t g;
    int c;
    for (c = 0; c < NP * QUANT__NV; c++) acc[c] = first ? quant__vi_zero() : quant__vi_load(t + c * QUANT__VL);
    for (g = 0; g < (kn + 3) / 4; g++, pan0 += QUANT__NR * 4) {
        int32_t v, w;
        quant__vi m, u;
        if (U7) v = 0; /* no mask: A itself */
        else memcpy(&v, cb + 4 * g, 4);
        memcpy(&w, cb + QUANT__C4W_KR + 4 * g, 4);
        m = quant__vi_set32(v);
        u = quant__vi_set32(w);
        QUANT__UNROLL
        for (c = 0; c < NP * QUANT__NV; c++)
            acc[c] = quant__vi_dot4(acc[c], u, quant__vi_xor(quant__vi_load(pan0 + (size_t)(c / QUANT__NV) * pd +
                                                                             (size_t)(c % QUANT__NV) * QUANT__VL * 4), m));
    }
    for (c = 0; c < NP * QUANT__NV; c++) quant__vi_store(t + c * QUANT__VL, acc[c]);
}
QUANT__AINL void quant__c4x_dot2(const int U7, const int NP, const uint8_t *cb, size_t kn, const int8_t *pan0, size_t pd,
        int first, int32_t *t) {
    quant__vi acc[2][3 * QUANT__NV];
    size_t g;
    int r, c;
    for (r = 0; r < 2; r++)
        for (c = 0; c < NP * QUANT__NV; c++)
            acc[r][c] = first ? quant__vi_zero()
                              : quant__vi_load(t + (c / QUANT__NV) * 2 * QUANT__NR + r * QUANT__NR + (c % QUANT__NV) * QUANT__VL);
    for (g = 0; g < (kn + 3) / 4; g++, pan0 += QUANT__NR * 4)
        QUANT__UNROLL
        for (r = 0; r < 2; r++) {
            int32_t v, w;
            quant__vi m, u;
            if (U7) v = 0; /* no mask: A itself */
            else memcpy(&v, cb + (size_t)r * QUANT__C4W_KC + 4 * g, 4);
            memcpy(&w, cb + (size_t)(2 + r) * QUANT__C4W_KC + 4 * g, 4);
            m = quant__vi_set32(v);
            u = quant__vi_set32(w);
            QUANT__UNROLL
            for (c = 0; c < NP * QUANT__NV; c++)
                acc[r][c] = quant__vi_dot4(acc[r][c], u, quant__vi_xor(quant__vi_load(pan0 + (size_t)(c / QUANT__NV) * pd +
                                                                                   (size_t)(c % QUANT__NV) * QUANT__VL * 4), m));
        }
    for (r = 0; r < 2; r++)
        for (c = 0; c < NP * QUANT__NV; c++)
            quant__vi_store(t + (c / QUANT__NV) * 2 * QUANT__NR + r * QUANT__NR + (c % QUANT__NV) * QUANT__VL, acc[r][c]);
}
#  endif
#endif

#elif defined(QUANT_ISA_NEONDOT)

/* A^ = A ^ 0x80 for uint8 (-> int8), A for int8; sdot s8 x s8 -> s32.
 * Panel layout: per k4 group, 16 columns x 4 bytes = 4 vectors. */
static void quant__gemm_u8s8_4x16c4__neondot(size_t mr, size_t K, const uint8_t *A, size_t lda, int a_signed,
        const int8_t *pan, int32_t *tile) {
    int32x4_t acc[4][4];
    const uint8_t *a[4];
    uint32_t flip = a_signed ? 0u : 0x80808080u;
    size_t g, kg = K / 4 + (K % 4 != 0), r, c;
    QUANT__UNROLL
    for (r = 0; r < 4; r++) { a[r] = A + (r < mr ? r : 0) * lda; for (c = 0; c < 4; c++) acc[r][c] = vdupq_n_s32(0); }
    for (g = 0; g < kg; g++) {
        int8x16_t b0 = vld1q_s8(pan + g * 64), b1 = vld1q_s8(pan + g * 64 + 16);
        int8x16_t b2 = vld1q_s8(pan + g * 64 + 32), b3 = vld1q_s8(pan + g * 64 + 48);
        for (r = 0; r < mr; r++) {
            uint32_t v;
            int8x16_t av;
            if (4 * g + 4 <= K) memcpy(&v, a[r] + 4 * g, 4); else v = quant__ld4_tail(a[r] + 4 * g, K % 4);
            av = vreinterpretq_s8_u32(vdupq_n_u32(v ^ flip));
            acc[r][0] = vdotq_s32(acc[r][0], b0, av);
            acc[r][1] = vdotq_s32(acc[r][1], b1, av);
            acc[r][2] = vdotq_s32(acc[r][2], b2, av);
            acc[r][3] = vdotq_s32(acc[r][3], b3, av);
        }
    }
    for (r = 0; r < mr; r++) for (c = 0; c < 4; c++) vst1q_s32(tile + r * QUANT__NR + 4 * c, acc[r][c]);
}
#define QUANT__UKR quant__gemm_u8s8_4x16c4__neondot

#elif defined(QUANT_ISA_NEON)

/* Widening: A and B to 16 bits, vmlal_lane into 32-bit accumulators.
 * Panel layout: per k, 8 columns. */
static void quant__gemm_u8s8_4x8c1__neon(size_t mr, size_t K, const uint8_t *A, size_t lda, int a_signed,
        const int8_t *pan, int32_t *tile) {
    int32x4_t acc[4][2];
    size_t k0, r, c;
    QUANT__UNROLL
    for (r = 0; r < 4; r++) for (c = 0; c < 2; c++) acc[r][c] = vdupq_n_s32(0);
    for (k0 = 0; k0 < K; k0 += 4) {
        size_t kn = K - k0 < 4 ? K - k0 : 4, t;
        int16x4_t av[4];
        for (r = 0; r < mr; r++) {
            int16_t w[4] = { 0, 0, 0, 0 };
            const uint8_t *ar = A + r * lda + k0;
            for (t = 0; t < kn; t++) w[t] = a_signed ? (int16_t)(int8_t)ar[t] : (int16_t)ar[t];
            av[r] = vld1_s16(w);
        }
        for (t = 0; t < kn; t++) {
            int16x8_t b = vmovl_s8(vld1_s8(pan + (k0 + t) * 8));
            int16x4_t bl = vget_low_s16(b), bh = vget_high_s16(b);
            for (r = 0; r < mr; r++) {
                int16x4_t a4 = av[r];
                switch (t) {
                case 0: acc[r][0] = vmlal_lane_s16(acc[r][0], bl, a4, 0); acc[r][1] = vmlal_lane_s16(acc[r][1], bh, a4, 0); break;
                case 1: acc[r][0] = vmlal_lane_s16(acc[r][0], bl, a4, 1); acc[r][1] = vmlal_lane_s16(acc[r][1], bh, a4, 1); break;
                case 2: acc[r][0] = vmlal_lane_s16(acc[r][0], bl, a4, 2); acc[r][1] = vmlal_lane_s16(acc[r][1], bh, a4, 2); break;
                default: acc[r][0] = vmlal_lane_s16(acc[r][0], bl, a4, 3); acc[r][1] = vmlal_lane_s16(acc[r][1], bh, a4, 3); break;
                }
            }
        }
    }
    for (r = 0; r < mr; r++) { vst1q_s32(tile + r * QUANT__NR, acc[r][0]); vst1q_s32(tile + r * QUANT__NR + 4, acc[r][1]); }
}
#define QUANT__UKR quant__gemm_u8s8_4x8c1__neon

#else

/* scalar: the same packed layout, plain loops */
static void quant__gemm_u8s8_4x8c4__scalar(size_t mr, size_t K, const uint8_t *A, size_t lda, int a_signed,
        const int8_t *pan, int32_t *tile) {
    size_t r, j, k;
    for (r = 0; r < mr; r++) {
        int32_t acc[QUANT__NR];
        const uint8_t *ar = A + r * lda;
        for (j = 0; j < QUANT__NR; j++) acc[j] = 0;
        for (k = 0; k < K; k++) {
            int32_t a = a_signed ? (int32_t)(int8_t)ar[k] : (int32_t)ar[k];
            const int8_t *b = pan + (k / QUANT__KG) * QUANT__NR * QUANT__KG + (k % QUANT__KG);
            for (j = 0; j < QUANT__NR; j++) acc[j] += a * b[j * QUANT__KG];
        }
        for (j = 0; j < QUANT__NR; j++) tile[r * QUANT__NR + j] = acc[j];
    }
}
#define QUANT__UKR quant__gemm_u8s8_4x8c4__scalar

#endif

/* ----------------------------------------------------------- 2.3 epilogue */
/* The true accumulator is tile + colcorr[n] + rowcorr[m] (mod 2^32):
 *   sum (A - a_zp)(B - b_zp) with A^ = A + d, z = a_zp + d:
 *   = sum A^ B - z * colsum[n] - b_zp * rowsum(A^)[m] + K z b_zp.          */

/* Per panel, the epilogue's column data in structure-of-arrays form. */

/* scalar epilogue of one element (the reference semantics, inlined) */
static inline void quant__epi1(const quant_epilogue *ep, const quant__epi_cols *ec, size_t j, int32_t acc,
        float ascale, void *crow, size_t n) {
    switch (ep->out) {
    case QUANT_OUT_I32: memcpy((unsigned char *)crow + 4 * n, &acc, 4); break; /* any alignment */
    case QUANT_OUT_I8: case QUANT_OUT_U8: {
        quant_requant rq;
        int32_t v;
        rq.multiplier = ec->mult[j]; rq.shift = ec->shift[j]; rq.scale = ec->scale[j];
        v = quant_requantize1(acc, &rq, ep->mode, ep->out_zp, ep->out_min, ep->out_max);
        if (ep->out == QUANT_OUT_I8) ((int8_t *)crow)[n] = (int8_t)v; else ((uint8_t *)crow)[n] = (uint8_t)v;
    } break;
    case QUANT_OUT_F32: {
        volatile float s = ascale * ec->scale[j];
        float y = fmaf((float)acc, s, ec->bias[j]);
        memcpy((unsigned char *)crow + 4 * n, &y, 4);
    } break;
    }
}

/* quant__epilogue_row(ep, ec, j0, m, n0, cnt, t, rowcorr, C, ldc): row m,
 * columns n0 .. n0 + cnt - 1, which are entries j0 .. j0 + cnt - 1 of the
 * panel's tile row t and of ec. */
#if defined(QUANT_HAS_AVX512)

static inline void quant__epi_vec512(const quant_epilogue *ep, const quant__epi_cols *ec, size_t e, size_t m,
        __m512i acc, __mmask16 k, void *C, size_t ldc, size_t col) {
    switch (ep->out) {
    case QUANT_OUT_I32: /* full vectors with plain stores: masked stores are slower on some cores */
        if (k == 0xffff) _mm512_storeu_si512((void *)((int32_t *)C + m * ldc + col), acc);
        else _mm512_mask_storeu_epi32((int32_t *)C + m * ldc + col, k, acc);
        break;
    case QUANT_OUT_I8: case QUANT_OUT_U8: {
        __m512i zp = _mm512_set1_epi32(ep->out_zp), v;
        if (ep->mode == QUANT_RQ_GEMMLOWP) {
            quant__rqg h;
            quant__rqg_init(&h, _mm512_maskz_loadu_epi32(k, ec->mult + e), _mm512_maskz_loadu_epi32(k, ec->shift + e));
            v = quant__rqg_apply(acc, &h, 1);
            /* clamp relative to zp first: v + zp cannot wrap then */
            v = _mm512_max_epi32(v, _mm512_set1_epi32(ep->out_min - ep->out_zp));
            v = _mm512_min_epi32(v, _mm512_set1_epi32(ep->out_max - ep->out_zp));
            v = _mm512_add_epi32(v, zp);
        } else if (ep->mode == QUANT_RQ_SINGLE) {
            quant__rqs h;
            quant__rqs_init(&h, _mm512_maskz_loadu_epi32(k, ec->mult + e), _mm512_maskz_loadu_epi32(k, ec->shift + e),
                            ep->out_min - ep->out_zp, ep->out_max - ep->out_zp);
            v = quant__rqs_apply(acc, &h);
            v = _mm512_add_epi32(v, zp);
        } else {
            __m512 y = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_maskz_loadu_ps(k, ec->scale + e));
            y = _mm512_max_ps(y, _mm512_set1_ps((float)(ep->out_min - ep->out_zp)));
            y = _mm512_min_ps(y, _mm512_set1_ps((float)(ep->out_max - ep->out_zp)));
            v = _mm512_add_epi32(_mm512_cvtps_epi32(y), zp);
        }
        if (k == 0xffff) _mm_storeu_si128((__m128i *)((int8_t *)C + m * ldc + col), _mm512_cvtepi32_epi8(v));
        else _mm_mask_storeu_epi8((int8_t *)C + m * ldc + col, k, _mm512_cvtepi32_epi8(v));
    } break;
    case QUANT_OUT_F32: {
        float ascale = ep->a_scale ? ep->a_scale[m] : 1.0f;
        __m512 s = _mm512_mul_ps(_mm512_set1_ps(ascale), _mm512_maskz_loadu_ps(k, ec->scale + e));
        __m512 y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), s, _mm512_maskz_loadu_ps(k, ec->bias + e));
        if (k == 0xffff) _mm512_storeu_ps((float *)C + m * ldc + col, y);
        else _mm512_mask_storeu_ps((float *)C + m * ldc + col, k, y);
    } break;
    }
}

QUANT__INTERNAL void quant__epilogue_row(const quant_epilogue *ep, const quant__epi_cols *ec, size_t j0,
        size_t m, size_t n0, size_t cnt, const int32_t *t, uint32_t rowcorr, void *C, size_t ldc) {
    size_t j;
    const __m512i rc = _mm512_set1_epi32((int)rowcorr);
    for (j = 0; j < cnt; j += 16) {
        size_t e = j0 + j;
        __mmask16 k = cnt - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (cnt - j)) - 1u);
        __m512i acc = _mm512_add_epi32(_mm512_add_epi32(_mm512_maskz_loadu_epi32(k, t + e),
                                       _mm512_maskz_loadu_epi32(k, ec->corr + e)), rc);
        quant__epi_vec512(ep, ec, e, m, acc, k, C, ldc, n0 + j);
    }
}

#elif defined(QUANT_HAS_AVX2)

QUANT__INTERNAL void quant__epilogue_row(const quant_epilogue *ep, const quant__epi_cols *ec, size_t j0,
        size_t m, size_t n0, size_t cnt, const int32_t *t, uint32_t rowcorr, void *C, size_t ldc) {
    size_t j = 0;
    const __m256i rc = _mm256_set1_epi32((int)rowcorr);
    float ascale = ep->a_scale ? ep->a_scale[m] : 1.0f;
    unsigned char *crow = (unsigned char *)C + m * ldc * (ep->out == QUANT_OUT_I8 || ep->out == QUANT_OUT_U8 ? 1 : 4);
    for (; j + 8 <= cnt; j += 8) {
        size_t e = j0 + j;
        __m256i acc = _mm256_add_epi32(_mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(t + e)),
                                       _mm256_loadu_si256((const __m256i *)(ec->corr + e))), rc);
        switch (ep->out) {
        case QUANT_OUT_I32: _mm256_storeu_si256((__m256i *)((int32_t *)crow + n0 + j), acc); break;
        case QUANT_OUT_I8: case QUANT_OUT_U8: {
            __m256i zp = _mm256_set1_epi32(ep->out_zp), v;
            if (ep->mode == QUANT_RQ_GEMMLOWP) {
                quant__rqg h;
                quant__rqg_init(&h, _mm256_loadu_si256((const __m256i *)(ec->mult + e)),
                                _mm256_loadu_si256((const __m256i *)(ec->shift + e)));
                v = quant__rqg_apply(acc, &h, 1);
                v = _mm256_max_epi32(v, _mm256_set1_epi32(ep->out_min - ep->out_zp));
                v = _mm256_min_epi32(v, _mm256_set1_epi32(ep->out_max - ep->out_zp));
                v = _mm256_add_epi32(v, zp);
            } else if (ep->mode == QUANT_RQ_SINGLE) {
                quant__rqs h;
                quant__rqs_init(&h, _mm256_loadu_si256((const __m256i *)(ec->mult + e)),
                                _mm256_loadu_si256((const __m256i *)(ec->shift + e)), ep->out_min - ep->out_zp,
                                ep->out_max - ep->out_zp);
                v = quant__rqs_apply(acc, &h);
                v = _mm256_add_epi32(v, zp);
            } else {
                v = quant__rq_fp32_256(acc, _mm256_loadu_ps(ec->scale + e), _mm256_set1_ps((float)(ep->out_min - ep->out_zp)),
                                       _mm256_set1_ps((float)(ep->out_max - ep->out_zp)), zp);
            }
            quant__store8_256(crow + n0 + j, v, ep->out == QUANT_OUT_I8);
        } break;
        case QUANT_OUT_F32: {
            __m256 s = _mm256_mul_ps(_mm256_set1_ps(ascale), _mm256_loadu_ps(ec->scale + e));
            _mm256_storeu_ps((float *)crow + n0 + j,
                             _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc), s, _mm256_loadu_ps(ec->bias + e)));
        } break;
        }
    }
    for (; j < cnt; j++)
        quant__epi1(ep, ec, j0 + j, (int32_t)((uint32_t)t[j0 + j] + ec->corr[j0 + j] + rowcorr), ascale, crow, n0 + j);
}

#else

QUANT__INTERNAL void quant__epilogue_row(const quant_epilogue *ep, const quant__epi_cols *ec, size_t j0,
        size_t m, size_t n0, size_t cnt, const int32_t *t, uint32_t rowcorr, void *C, size_t ldc) {
    size_t j;
    float ascale = ep->a_scale ? ep->a_scale[m] : 1.0f;
    unsigned char *crow = (unsigned char *)C + m * ldc * (ep->out == QUANT_OUT_I8 || ep->out == QUANT_OUT_U8 ? 1 : 4);
    if (ep->out == QUANT_OUT_I32) {
        unsigned char *c = crow + 4 * n0;
        for (j = 0; j < cnt; j++) {
            int32_t v = (int32_t)((uint32_t)t[j0 + j] + ec->corr[j0 + j] + rowcorr);
            memcpy(c + 4 * j, &v, 4);
        }
        return;
    }
    for (j = 0; j < cnt; j++)
        quant__epi1(ep, ec, j0 + j, (int32_t)((uint32_t)t[j0 + j] + ec->corr[j0 + j] + rowcorr), ascale, crow, n0 + j);
}

#endif

/* the mr rows of a tile (row r at tile + r QUANT__NR, its correction
 * rowcorr[r]) through the epilogue to rows m .. m + mr - 1 of C */
QUANT__INTERNAL void quant__epilogue_tile(const quant_epilogue *ep, const quant__epi_cols *ec, size_t j0, size_t m,
        size_t mr, size_t n0, size_t cnt, const int32_t *tile, const uint32_t *rowcorr, void *C, size_t ldc) {
    size_t r;
#if defined(QUANT_HAS_AVX2) && !defined(QUANT_HAS_AVX512)
    if ((ep->out == QUANT_OUT_I8 || ep->out == QUANT_OUT_U8) && ep->mode == QUANT_RQ_FP32 && cnt % 8 == 0) {
        /* the float requantization (the runner's) with the output type and
         * mode chosen once a tile: per row of 16 columns, the call and the
         * per-vector switch of quant__epilogue_row cost as much as the
         * arithmetic. The same helpers as there, so the same results. */
        const __m256 lo = _mm256_set1_ps((float)(ep->out_min - ep->out_zp)), hi = _mm256_set1_ps((float)(ep->out_max - ep->out_zp));
        const __m256i zp = _mm256_set1_epi32(ep->out_zp);
        const int i8 = ep->out == QUANT_OUT_I8;
        for (r = 0; r < mr; r++) {
            const __m256i rc = _mm256_set1_epi32((int)rowcorr[r]);
            const int32_t *t = tile + r * QUANT__NR + j0;
            unsigned char *crow = (unsigned char *)C + (m + r) * ldc + n0;
            size_t j;
            for (j = 0; j < cnt; j += 8) {
                const __m256i acc = _mm256_add_epi32(_mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(const void *)(t + j)),
                                                     _mm256_loadu_si256((const __m256i *)(const void *)(ec->corr + j0 + j))), rc);
                quant__store8_256(crow + j, quant__rq_fp32_256(acc, _mm256_loadu_ps(ec->scale + j0 + j), lo, hi, zp), i8);
            }
        }
        return;
    }
#endif
    for (r = 0; r < mr; r++) quant__epilogue_row(ep, ec, j0, m + r, n0, cnt, tile + r * QUANT__NR, rowcorr[r], C, ldc);
}

/* ------------------------------------------------------------- 2.4 driver */

#if defined(QUANT__KG_SGN)
/* the largest byte of rows x n bytes at a, row stride lda */
QUANT__INTERNAL unsigned quant__rows_max_u8(const uint8_t *a, size_t rows, size_t n, size_t lda) {
    size_t r, j;
    unsigned mx = 0;
    for (r = 0; r < rows && mx < 128; r++, a += lda) {
        quant__vi m = quant__vi_zero();
        unsigned char t[QUANT__VB];
        for (j = 0; j + QUANT__VB <= n; j += QUANT__VB) m = QUANT__MM(max_epu8)(m, quant__vi_load(a + j));
        quant__vi_store(t, m);
        for (; j < n; j++) t[0] = t[0] > a[j] ? t[0] : a[j];
        for (j = 0; j < QUANT__VB; j++) mx = mx > t[j] ? mx : t[j];
    }
    return mx;
}
/* sum over the n bytes at a of |a'| where a' = (a ^ flip as int8) < 0: the
 * sign kernel's row term (at most 128 n). The tail as the kernel reads it:
 * the flip pattern past n (a' = 0). */
QUANT__INTERNAL uint32_t quant__rows_negsum(const uint8_t *a, size_t n, uint32_t flip) {
    const quant__vi fv = quant__vi_set32((int32_t)flip);
    quant__vi s = quant__vi_zero();
    uint64_t t[QUANT__VL / 2], sum = 0;
    size_t j;
    for (j = 0; j < n; j += QUANT__VB) {
        quant__vi v;
        if (n - j >= QUANT__VB) v = quant__vi_load(a + j);
        else {
            uint8_t b[QUANT__VB];
            quant__vi_store(b, fv);
            quant__copy_short(b, a + j, n - j, flip);
            v = quant__vi_load(b);
        }
        v = quant__vi_xor(v, fv);
        s = quant__vi_sad8(s, quant__vi_and(quant__vi_abs8(v), quant__vi_neg8(v)));
    }
    quant__vi_store(t, s);
    for (j = 0; j < QUANT__VL / 2; j++) sum += t[j];
    return (uint32_t)sum;
}
#endif

/* The driver, after validation: rows [m0, m1) whose A starts at A0 (row m0),
 * columns [n0, n1); C and the epilogue use the global row index. */
/* the epilogue's per-column constants of the panel from column c0 of N:
 * colsum the packing's column sums (int32, unaligned), or NULL for none
 * (the correction is then the bias alone: z and kzb 0) */
QUANT__INTERNAL void quant__epi_cols_init(const uint8_t *colsum, size_t N, const quant_epilogue *ep, uint32_t z, uint32_t kzb,
        size_t c0, quant__epi_cols *ec) {
    size_t j;
    if (c0 + QUANT__NR <= N) {
        /* a whole panel (no padding columns): the loop below's values, a
         * field at a time, without its per-column branches (they cost as
         * much as a GEMV's panel); GCC vectorizes most of these loops */
        int32_t cv[QUANT__NR];
        if (colsum) memcpy(cv, colsum + 4 * c0, sizeof cv);
        else memset(cv, 0, sizeof cv);
        if (ep->out != QUANT_OUT_F32 && ep->bias_i32)
            for (j = 0; j < QUANT__NR; j++) ec->corr[j] = kzb - z * (uint32_t)cv[j] + (uint32_t)ep->bias_i32[c0 + j];
        else
            for (j = 0; j < QUANT__NR; j++) ec->corr[j] = kzb - z * (uint32_t)cv[j];
        if (ep->out == QUANT_OUT_I8 || ep->out == QUANT_OUT_U8) {
            if (ep->per_channel)
                for (j = 0; j < QUANT__NR; j++) {
                    const quant_requant *q = &ep->rq[c0 + j];
                    ec->mult[j] = q->multiplier; ec->shift[j] = q->shift; ec->scale[j] = q->scale;
                }
            else {
                const int32_t mult = ep->rq[0].multiplier, shift = ep->rq[0].shift;
                const float scale = ep->rq[0].scale;
                for (j = 0; j < QUANT__NR; j++) { ec->mult[j] = mult; ec->shift[j] = shift; ec->scale[j] = scale; }
            }
            for (j = 0; j < QUANT__NR; j++) ec->bias[j] = 0.0f;
        } else {
            for (j = 0; j < QUANT__NR; j++) { ec->mult[j] = 0; ec->shift[j] = 0; }
            if (ep->out == QUANT_OUT_F32) {
                for (j = 0; j < QUANT__NR; j++) ec->scale[j] = ep->w_scale[c0 + j];
                if (ep->bias_f32)
                    for (j = 0; j < QUANT__NR; j++) ec->bias[j] = ep->bias_f32[c0 + j];
                else
                    for (j = 0; j < QUANT__NR; j++) ec->bias[j] = 0.0f;
            } else
                for (j = 0; j < QUANT__NR; j++) { ec->scale[j] = 0.0f; ec->bias[j] = 0.0f; }
        }
        return;
    }
    for (j = 0; j < QUANT__NR; j++) {
        size_t n = c0 + j < N ? c0 + j : N - 1; /* padding columns repeat the last one */
        int32_t cv = 0, mult = 0, shift = 0;
        float scale = 0.0f, bias = 0.0f;
        if (colsum) memcpy(&cv, colsum + 4 * n, 4);
        if (ep->out == QUANT_OUT_I8 || ep->out == QUANT_OUT_U8) {
            const quant_requant *q = &ep->rq[ep->per_channel ? n : 0];
            mult = q->multiplier; shift = q->shift; scale = q->scale;
        } else if (ep->out == QUANT_OUT_F32) {
            scale = ep->w_scale[n];
            bias = ep->bias_f32 ? ep->bias_f32[n] : 0.0f;
        }
        /* one store a field: GCC 12 vectorizing this loop with -mtune=znver3
         * kept the zero stored first over w_scale stored after it (F32
         * outputs of 0; a zero store followed by a conditional one) */
        ec->corr[j] = kzb - z * (uint32_t)cv + (ep->out != QUANT_OUT_F32 && ep->bias_i32 ? (uint32_t)ep->bias_i32[n] : 0u);
        ec->mult[j] = mult; ec->shift[j] = shift; ec->scale[j] = scale; ec->bias[j] = bias;
    }
}

#if defined(QUANT__C4W_KC)
/* The two-row sign kernel over rows [mb, me) (a multiple of 2; row mb at
 * A, rowcorr[0] its correction) and panels [pa, pe) (two or more: in
 * threes, the last one or two as such, four as two pairs): per group of up
 * to QUANT__C4X_NP triples (their B a block of L2), per two rows and K
 * block, the rows prepared once, then each triple; the tiles through the
 * epilogue after the last K block. Out of line, as quant__gemm_c4w_row. */
#  define QUANT__C4X_NP 5
QUANT__NOINL void quant__gemm_c4x_rows(const quant__pack_hdr *h, const uint8_t *base, const uint8_t *A, size_t lda,
        int a_signed, int u7, const quant_epilogue *ep, uint32_t z, uint32_t kzb, const uint32_t *rowcorr, void *C,
        size_t ldc, size_t mb, size_t me, size_t pa, size_t pe, size_t n0, size_t n1) {
    const size_t K = h->K, pb = (size_t)h->kpad * QUANT__NR, esz = quant__epilogue_esize(ep);
    const uint32_t flip = a_signed || u7 ? 0u : 0x80808080u;
    const quant__vi fv = quant__vi_set32((int32_t)flip);
    const int8_t *panels = (const int8_t *)(base + h->panel_off);
    uint8_t cb[4 * QUANT__C4W_KC];
    int32_t tile[QUANT__C4X_NP + 1][3][2 * QUANT__NR]; /* a group's steps: NP threes, then at most 2 */
    quant__epi_cols ec[3 * QUANT__C4X_NP + 2];
    size_t g0, ge, cs, ce, ms, kb, p, r, x, i, j, np;
    const int rq8 = (ep->out == QUANT_OUT_I8 || ep->out == QUANT_OUT_U8) && ep->mode == QUANT_RQ_FP32, i8 = ep->out == QUANT_OUT_I8;
    const __m256 lo = _mm256_set1_ps((float)(ep->out_min - ep->out_zp)), hi = _mm256_set1_ps((float)(ep->out_max - ep->out_zp));
    const __m256i zp = _mm256_set1_epi32(ep->out_zp);
    for (g0 = pa; g0 < pe; g0 = ge) {
        /* (one or two panels past a group join it: they would cost a
         * preparation of the rows of their own) */
        ge = pe - g0 < 3 * QUANT__C4X_NP + 3 ? pe : g0 + 3 * QUANT__C4X_NP;
        cs = g0 * QUANT__NR < n0 ? n0 : g0 * QUANT__NR;
        ce = ge * QUANT__NR < n1 ? ge * QUANT__NR : n1;
        for (p = g0; p < ge; p++) quant__epi_cols_init(base + h->colsum_off, h->N, ep, z, kzb, p * QUANT__NR, &ec[p - g0]);
        for (ms = mb; ms < me; ms += 2) {
            const uint8_t *a = A + (ms - mb) * lda;
            for (r = 0; r < 2; r++) {
                const char *cp = (const char *)C + (ms + r) * ldc * esz;
                for (x = cs * esz; x < ce * esz; x += 64) _mm_prefetch(cp + x, _MM_HINT_T0);
                _mm_prefetch(cp + ce * esz - 1, _MM_HINT_T0);
            }
            for (kb = 0; kb < K; kb += QUANT__C4W_KC) {
                const size_t kn = K - kb < QUANT__C4W_KC ? K - kb : QUANT__C4W_KC;
                for (r = 0; r < 2; r++) {
                    uint8_t *s = cb + r * QUANT__C4W_KC, *u = cb + (2 + r) * QUANT__C4W_KC;
                    if (u7) quant__c4_prep_row(a + r * lda + kb, kn, fv, flip, 1, s, u);
                    else quant__c4_prep_row(a + r * lda + kb, kn, fv, flip, 0, s, u);
                }
                for (p = g0, j = 0; p < ge; p += np, j++) {
                    /* the last four panels as two pairs, not three and one */
                    int32_t (*t)[2 * QUANT__NR] = tile[j];
                    np = ge - p == 4 ? 2 : ge - p < 3 ? ge - p : 3;
                    const int8_t *pk = panels + p * pb + kb * QUANT__NR;
                    /* (never one: a group has two panels or more) */
                    if (u7) {
                        if (np == 3) quant__c4x_dot2(1, 3, cb, kn, pk, pb, kb == 0, t[0]);
                        else quant__c4x_dot2(1, 2, cb, kn, pk, pb, kb == 0, t[0]);
                    } else if (np == 3) quant__c4x_dot2(0, 3, cb, kn, pk, pb, kb == 0, t[0]);
                    else quant__c4x_dot2(0, 2, cb, kn, pk, pb, kb == 0, t[0]);
                    if (kb + kn == K && rq8 && p * QUANT__NR >= n0 && (p + np) * QUANT__NR <= n1) {
                        /* the float requantization to 8 bits of whole panels:
                         * quant__epilogue_tile's helpers and order of
                         * operations, its constants made once a call */
                        for (r = 0; r < 2; r++) {
                            const __m256i rc = _mm256_set1_epi32((int)rowcorr[ms - mb + r]);
                            unsigned char *crow = (unsigned char *)C + (ms + r) * ldc + p * QUANT__NR;
                            for (i = 0; i < np; i++)
                                for (x = 0; x < QUANT__NR; x += 16)
                                    quant__store16_256(crow + i * QUANT__NR + x,
                                        quant__rq_cols_256(t[i] + r * QUANT__NR + x, &ec[p + i - g0], x, rc, lo, hi, zp),
                                        quant__rq_cols_256(t[i] + r * QUANT__NR + x + 8, &ec[p + i - g0], x + 8, rc, lo, hi, zp), i8);
                        }
                        continue;
                    }
                    if (kb + kn == K)
                        for (i = 0; i < np; i++) {
                            const size_t c0 = (p + i) * QUANT__NR, s0 = c0 < n0 ? n0 : c0;
                            const size_t e0 = c0 + QUANT__NR < n1 ? c0 + QUANT__NR : n1;
                            if (ep->out == QUANT_OUT_I32 && s0 == c0 && e0 == c0 + QUANT__NR) {
                                /* int32 of a whole panel: quant__epilogue_row's sums, here */
                                for (r = 0; r < 2; r++) {
                                    const __m256i rc = _mm256_set1_epi32((int)rowcorr[ms - mb + r]);
                                    int32_t *crow = (int32_t *)C + (ms + r) * ldc + c0;
                                    for (x = 0; x < QUANT__NR; x += 8)
                                        _mm256_storeu_si256((__m256i *)(void *)(crow + x), _mm256_add_epi32(_mm256_add_epi32(
                                            _mm256_loadu_si256((const __m256i *)(const void *)(t[i] + r * QUANT__NR + x)),
                                            _mm256_loadu_si256((const __m256i *)(const void *)(ec[p + i - g0].corr + x))), rc));
                                }
                                continue;
                            }
                            if (s0 < e0)
                                quant__epilogue_tile(ep, &ec[p + i - g0], s0 - c0, ms, 2, s0, e0 - s0, t[i], rowcorr + (ms - mb), C, ldc);
                        }
                }
            }
        }
    }
}

/* The one-row sign kernel on row m (at A, rowcorr its correction: a GEMV,
 * or the row a block leaves after its twos) and panels [pa, pe) (quads,
 * the last one to three as such): per quad, per K block of QUANT__C4W_KR,
 * the int32 tile carried in memory; the row prepared once when K is one
 * block, else again per quad and block. Out of line: its buffers are not
 * on the stack while quant__gemm_c4x_rows runs. */
QUANT__NOINL void quant__gemm_c4w_row(const quant__pack_hdr *h, const uint8_t *base, const uint8_t *A, int a_signed,
        int u7, const quant_epilogue *ep, uint32_t z, uint32_t kzb, const uint32_t *rowcorr, void *C, size_t ldc, size_t m,
        size_t pa, size_t pe, size_t n0, size_t n1) {
    const size_t K = h->K, pb = (size_t)h->kpad * QUANT__NR;
    const uint32_t flip = a_signed || u7 ? 0u : 0x80808080u;
    const quant__vi fv = quant__vi_set32((int32_t)flip);
    const int8_t *panels = (const int8_t *)(base + h->panel_off);
    uint8_t cb[2 * QUANT__C4W_KR];
    int32_t tile[4 * QUANT__NR];
    quant__epi_cols ec[4];
    size_t p, kb, i, np;
    for (p = pa; p < pe; p += np) {
        np = pe - p < 4 ? pe - p : 4;
        for (i = 0; i < np; i++) quant__epi_cols_init(base + h->colsum_off, h->N, ep, z, kzb, (p + i) * QUANT__NR, &ec[i]);
        for (kb = 0; kb < K; kb += QUANT__C4W_KR) {
            const size_t kn = K - kb < QUANT__C4W_KR ? K - kb : QUANT__C4W_KR;
            const int8_t *pk = panels + p * pb + kb * QUANT__NR;
            if (p == pa || K > QUANT__C4W_KR) quant__c4_prep_row(A + kb, kn, fv, flip, u7, cb, cb + QUANT__C4W_KR);
#  define QUANT__C4W_NP(U7)                                                                      \
            switch (np) {                                                                        \
            case 4: quant__c4w_dot1(U7, 4, cb, kn, pk, pb, kb == 0, tile); break;                \
            case 3: quant__c4w_dot1(U7, 3, cb, kn, pk, pb, kb == 0, tile); break;                \
            case 2: quant__c4w_dot1(U7, 2, cb, kn, pk, pb, kb == 0, tile); break;                \
            default: quant__c4w_dot1(U7, 1, cb, kn, pk, pb, kb == 0, tile); break;               \
            }
            if (u7) QUANT__C4W_NP(1)
            else QUANT__C4W_NP(0)
#  undef QUANT__C4W_NP
        }
        for (i = 0; i < np; i++) {
            const size_t c0 = (p + i) * QUANT__NR, s0 = c0 < n0 ? n0 : c0;
            const size_t e0 = c0 + QUANT__NR < n1 ? c0 + QUANT__NR : n1;
            if (s0 < e0) quant__epilogue_tile(ep, &ec[i], s0 - c0, m, 1, s0, e0 - s0, tile + i * QUANT__NR, rowcorr, C, ldc);
        }
    }
}
#endif

QUANT__INTERNAL void quant__gemm_run(const quant__pack_hdr *hp, const void *packed, const uint8_t *A0, int a_signed,
        size_t lda, int32_t a_zp, const quant_epilogue *ep, void *C, size_t ldc,
        size_t m0, size_t m1, size_t n0, size_t n1) {
    quant__pack_hdr h = *hp;
    size_t K = h.K, p, p0, p1, mb, MC;
    int32_t delta = a_signed ? QUANT__DELTA_S : QUANT__DELTA_U;
    uint32_t z, kzb;
#if defined(QUANT__KG_SGN)
    /* the pmaddubsw packing: 2 when the rows' uint8 bytes are all <= 127
     * (a scan of A, 1 / N of the product's work), else 1 */
    int c4 = 0;
    if (h.kg == QUANT__KG_SGN) {
        c4 = !a_signed && quant__rows_max_u8(A0, m1 - m0, K, lda) <= 127 ? 2 : 1;
        delta = c4 == 2 ? 0 : a_signed ? 0 : -128;
    }
#endif
    const uint8_t *base = (const uint8_t *)packed;
    const int8_t *panels;
    panels = (const int8_t *)(base + h.panel_off);
    z = (uint32_t)(a_zp + delta);
    kzb = (uint32_t)K * z * (uint32_t)h.b_zp;
    /* rows in blocks whose A fits in L2 next to a panel: B streams from L3
     * once a block. 512 KiB on AVX-512 builds (1-2 MiB L2s); 192 KiB on
     * others, for 256-512 KiB L2s. */
#if defined(QUANT_HAS_AVX512)
    MC = (512 * 1024) / K;
#else
    MC = (192 * 1024) / K;
#endif
    MC = MC < QUANT__MR ? QUANT__MR : MC / QUANT__MR * QUANT__MR;
    if (MC > 480) MC = 480;
    p0 = n0 / QUANT__NR; p1 = (n1 + QUANT__NR - 1) / QUANT__NR;
    for (mb = m0; mb < m1; mb += MC) {
        size_t me = mb + MC < m1 ? mb + MC : m1, m;
        uint32_t rowcorr[480];
        for (m = mb; m < me; m++) {
            rowcorr[m - mb] = 0;
#if defined(QUANT__KG_SGN)
            if (c4 == 1) rowcorr[m - mb] = quant__rows_negsum(A0 + (m - m0) * lda, K, a_signed ? 0u : 0x80808080u);
#endif
            if (h.b_zp) { /* rows of A^ summed: only for asymmetric weights */
                const uint8_t *ar = A0 + (m - m0) * lda;
                uint32_t s = 0;
                size_t k;
                for (k = 0; k < K; k++) s += a_signed ? (uint32_t)(int32_t)(int8_t)ar[k] : ar[k];
                s += (uint32_t)delta * (uint32_t)K;
                rowcorr[m - mb] -= (uint32_t)h.b_zp * s;
            }
        }
#if defined(QUANT__C4W_KC)
        if (c4 && p1 - p0 > 1) { /* the sign (or U7) kernel on the block's rows in twos, then the row left, every panel */
            const size_t mw = mb + (me - mb) / 2 * 2;
            if (mw > mb)
                quant__gemm_c4x_rows(&h, base, A0 + (mb - m0) * lda, lda, a_signed, c4 == 2, ep, z, kzb, rowcorr, C, ldc, mb, mw,
                                     p0, p1, n0, n1);
            if (mw < me)
                quant__gemm_c4w_row(&h, base, A0 + (mw - m0) * lda, a_signed, c4 == 2, ep, z, kzb, rowcorr + (mw - mb), C, ldc, mw,
                                    p0, p1, n0, n1);
            continue;
        }
#endif
        for (p = p0; p < p1; p++) {
            size_t c0 = p * QUANT__NR, cs = c0 < n0 ? n0 : c0;
            size_t ce = c0 + QUANT__NR < n1 ? c0 + QUANT__NR : n1;
            quant__epi_cols ec;
            const int8_t *pan = panels + p * h.kpad * QUANT__NR;
            quant__epi_cols_init(base + h.colsum_off, h.N, ep, z, kzb, c0, &ec);
            for (m = mb; m < me; m += QUANT__MR) {
                size_t mr = me - m < QUANT__MR ? me - m : QUANT__MR;
                int32_t tile[QUANT__MR * QUANT__NR];
#if defined(QUANT__UKR_OUT)
                if (mr > 1 && cs == c0) {
                    quant__ukr_out o;
                    o.ep = ep; o.ec = &ec; o.rowcorr = rowcorr + (m - mb); o.C = C; o.ldc = ldc; o.m = m; o.col = cs;
                    o.cnt = ce - cs;
                    QUANT__UKR_OUT(mr, K, A0 + (m - m0) * lda, lda, a_signed, pan, tile, &o);
                    continue;
                }
#endif
#if defined(QUANT__UKR_SGN)
                if (c4 == 2) QUANT__UKR_U7(mr, K, A0 + (m - m0) * lda, lda, a_signed, pan, tile);
                else if (c4) QUANT__UKR_SGN(mr, K, A0 + (m - m0) * lda, lda, a_signed, pan, tile);
                else
#endif
                QUANT__UKR(mr, K, A0 + (m - m0) * lda, lda, a_signed, pan, tile);
                quant__epilogue_tile(ep, &ec, cs - c0, m, mr, cs, ce - cs, tile, rowcorr + (m - mb), C, ldc);
            }
        }
    }
}

QUANT_DEF quant_status quant_gemm_tile(size_t M, const void *A, int a_signed, size_t lda, int32_t a_zp,
        const void *packed, const quant_epilogue *ep, void *C, size_t ldc,
        size_t m0, size_t m1, size_t n0, size_t n1) {
    quant__pack_hdr h;
    quant_status st;
    if (!packed) return QUANT_EINVAL;
    if (!quant__hdr(packed, &h)) return QUANT_EFORMAT;
    if ((st = quant_epilogue_check(ep, h.N)) != QUANT_OK) return st;
    if (a_signed ? (a_zp < -128 || a_zp > 127) : (a_zp < 0 || a_zp > 255)) return QUANT_EINVAL;
    if (m0 > m1 || m1 > M || n0 > n1 || n1 > h.N) return QUANT_EINVAL;
    if (!quant__span_ok(M, lda, 1) || !quant__span_ok(M, ldc, quant__epilogue_esize(ep))) return QUANT_EOVERFLOW;
    if (m0 == m1 || n0 == n1) return QUANT_OK;
    if (!A || !C || lda < h.K || ldc < h.N) return QUANT_EINVAL;
    if ((st = quant__epilogue_rows_check(ep, m0, m1)) != QUANT_OK) return st;
    quant__gemm_run(&h, packed, (const uint8_t *)A + m0 * lda, a_signed, lda, a_zp, ep, C, ldc, m0, m1, n0, n1);
    return QUANT_OK;
}

QUANT_DEF quant_status quant_gemm(size_t M, const void *A, int a_signed, size_t lda, int32_t a_zp,
        const void *packed, const quant_epilogue *ep, void *C, size_t ldc) {
    quant__pack_hdr h;
    if (!packed) return QUANT_EINVAL;
    if (!quant__hdr(packed, &h)) return QUANT_EFORMAT;
    return quant_gemm_tile(M, A, a_signed, lda, a_zp, packed, ep, C, ldc, 0, M, 0, h.N);
}

/* end of section 2: its local macros */
#undef QUANT__NV
#undef QUANT__PACK_MAGIC
#undef QUANT__UKR
#undef QUANT__UKR_OUT
#undef QUANT__UKR_SGN
#undef QUANT__UKR_U7
#undef QUANT__C4W_KC
#undef QUANT__C4X_NP
#undef QUANT__C4W_KR
#undef QUANT__KG_MAX

/* ======================================================================== */
/* 3. rows (implementation)                                                 */
/* ======================================================================== */

/* q = zp + round(clamp(x * inv, qmin - zp, qmax - zp)); NaN -> zp. Equal to
 * quant_quantize1: clamping to integers before rounding half to even does
 * not change the result. */
#if defined(QUANT_HAS_AVX2)
/* Elements before p reaches a vector boundary, QUANT__VB bytes (AVX-512:
 * a 64-byte line; 0 if p is not even element-aligned). The row loops peel
 * these (AVX-512: with a masked step) so that their full-vector loads (or,
 * for dequantize, stores) never straddle two cache lines: a buffer from
 * malloc is 16-byte aligned, and straddling every line costs a second
 * cache-line access per load. */
static inline size_t quant__headv(const void *p, size_t esz, size_t n) {
    size_t a = (size_t)((uintptr_t)p & (QUANT__VB - 1u)), h;
    if (a % esz) return 0;
    h = ((QUANT__VB - a) & (QUANT__VB - 1u)) / esz;
    return h < n ? h : n;
}
#endif
#if defined(QUANT_HAS_AVX512)
#  define QUANT__RW 16
static inline __mmask16 quant__mask16(size_t k) { return k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << k) - 1u); }
static inline __m128i quant__q16(__m512 v, __m512 vi, __m512 lo, __m512 hi, __m512i vz) {
    __mmask16 ord = _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q);
    __m512 y = _mm512_min_ps(_mm512_max_ps(_mm512_maskz_mul_ps(ord, v, vi), lo), hi);
    return _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(y), vz));
}
static inline void quant__qrow_v(const float *x, size_t n, float inv, int32_t zp, int32_t qmin, int32_t qmax,
        int is_u8, void *out, int nt) {
    size_t i = 0, h = quant__headv(x, sizeof(float), n);
    uint8_t *o = (uint8_t *)out;
    const __m512 vi = _mm512_set1_ps(inv), lo = _mm512_set1_ps((float)(qmin - zp)), hi = _mm512_set1_ps((float)(qmax - zp));
    const __m512i vz = _mm512_set1_epi32(zp);
    (void)is_u8; /* the same bytes either way: q is in [qmin, qmax] */
    (void)nt; /* (stores stay cached on AVX-512 builds) */
    if (h) {
        __mmask16 k = quant__mask16(h);
        _mm_mask_storeu_epi8(o, k, quant__q16(_mm512_maskz_loadu_ps(k, x), vi, lo, hi, vz));
        i = h;
    }
    for (; i + 16 <= n; i += 16) /* plain loads and stores: masked ones are slower on some cores */
        _mm_storeu_si128((__m128i *)(o + i), quant__q16(_mm512_loadu_ps(x + i), vi, lo, hi, vz));
    if (i < n) {
        __mmask16 k = quant__mask16(n - i);
        _mm_mask_storeu_epi8(o + i, k, quant__q16(_mm512_maskz_loadu_ps(k, x + i), vi, lo, hi, vz));
    }
}
/* finite min / max of n floats, masked: infinities and NaN skipped */
static inline void quant__minmax_fin512(const float *x, size_t n, float *mn, float *mx) {
    const __m512 inf = _mm512_set1_ps(INFINITY);
    __m512 lo = inf, hi = _mm512_set1_ps(-INFINITY);
    size_t i;
    for (i = 0; i < n; i += 16) {
        __mmask16 k = quant__mask16(n - i);
        __m512 v = _mm512_maskz_loadu_ps(k, x + i);
        __mmask16 fin = k & _mm512_cmp_ps_mask(_mm512_abs_ps(v), inf, _CMP_LT_OQ);
        lo = _mm512_mask_min_ps(lo, fin, lo, v);
        hi = _mm512_mask_max_ps(hi, fin, hi, v);
    }
    *mn = _mm512_reduce_min_ps(lo); *mx = _mm512_reduce_max_ps(hi);
}
/* finite min / max of n floats. The fast loop is two instructions a vector:
 * vminps / vmaxps return their second operand when either is NaN, so with
 * the new value first a NaN never enters; an infinity would, and then (only
 * then) the row is scanned again with the masked loop. */
static inline void quant__minmax_v(const float *x, size_t n, float *mn, float *mx) {
    const __m512 inf = _mm512_set1_ps(INFINITY), ninf = _mm512_set1_ps(-INFINITY);
    __m512 lo0 = inf, lo1 = inf, hi0 = ninf, hi1 = ninf;
    size_t i = 0, h = quant__headv(x, sizeof(float), n);
    float l, u;
    if (h) {
        __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(NAN), quant__mask16(h), x);
        lo0 = _mm512_min_ps(v, lo0); hi0 = _mm512_max_ps(v, hi0);
        i = h;
    }
    for (; i + 32 <= n; i += 32) {
        __m512 v0 = _mm512_loadu_ps(x + i), v1 = _mm512_loadu_ps(x + i + 16);
        lo0 = _mm512_min_ps(v0, lo0); hi0 = _mm512_max_ps(v0, hi0);
        lo1 = _mm512_min_ps(v1, lo1); hi1 = _mm512_max_ps(v1, hi1);
    }
    for (; i < n; i += 16) {
        __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(NAN), quant__mask16(n - i), x + i);
        lo0 = _mm512_min_ps(v, lo0); hi0 = _mm512_max_ps(v, hi0);
    }
    l = _mm512_reduce_min_ps(_mm512_min_ps(lo0, lo1)); u = _mm512_reduce_max_ps(_mm512_max_ps(hi0, hi1));
    if (l == -INFINITY || u == INFINITY) { quant__minmax_fin512(x, n, mn, mx); return; }
    *mn = l; *mx = u;
}
/* the n < 16 values of b dequantized to out, masked */
static inline void quant__dq_part(const uint8_t *b, int is_u8, size_t n, float scale, int32_t zp, float *out) {
    const __mmask16 k = quant__mask16(n);
    const __m128i q = _mm_maskz_loadu_epi8(k, b);
    const __m512i v = _mm512_sub_epi32(is_u8 ? _mm512_cvtepu8_epi32(q) : _mm512_cvtepi8_epi32(q), _mm512_set1_epi32(zp));
    _mm512_mask_storeu_ps(out, k, _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_set1_ps(scale)));
}
#elif defined(QUANT_HAS_AVX2)
#  define QUANT__RW 8
static inline void quant__qrow_v(const float *x, size_t n, float inv, int32_t zp, int32_t qmin, int32_t qmax,
        int is_u8, void *out, int nt) {
    size_t i = 0;
    const __m256 vi = _mm256_set1_ps(inv), lo = _mm256_set1_ps((float)(qmin - zp)), hi = _mm256_set1_ps((float)(qmax - zp));
    const __m256i vz = _mm256_set1_epi32(zp);
    if (nt) /* non-temporal stores need 32-byte alignment: the head in scalar */
        for (; i < n && ((uintptr_t)((uint8_t *)out + i) & 31u); i++) {
            int32_t v = quant_quantize1(x[i], inv, zp, qmin, qmax);
            if (is_u8) ((uint8_t *)out)[i] = (uint8_t)v; else ((int8_t *)out)[i] = (int8_t)v;
        }
    for (; i + 32 <= n; i += 32) {
        __m256i q[4];
        int u;
        for (u = 0; u < 4; u++) {
            __m256 v = _mm256_loadu_ps(x + i + 8 * u);
            __m256 y = _mm256_and_ps(_mm256_mul_ps(v, vi), _mm256_cmp_ps(v, v, _CMP_ORD_Q));
            y = _mm256_min_ps(_mm256_max_ps(y, lo), hi);
            q[u] = _mm256_add_epi32(_mm256_cvtps_epi32(y), vz);
        }
        {   /* values are in range: the saturating packs are exact; fix the lane order */
            __m256i a = _mm256_packs_epi32(q[0], q[1]), b = _mm256_packs_epi32(q[2], q[3]);
            __m256i p = is_u8 ? _mm256_packus_epi16(a, b) : _mm256_packs_epi16(a, b);
            p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            if (nt) _mm256_stream_si256((__m256i *)(void *)((uint8_t *)out + i), p);
            else _mm256_storeu_si256((__m256i *)((uint8_t *)out + i), p);
        }
    }
    if (nt) _mm_sfence();
    for (; i < n; i++) {
        int32_t v = quant_quantize1(x[i], inv, zp, qmin, qmax);
        if (is_u8) ((uint8_t *)out)[i] = (uint8_t)v; else ((int8_t *)out)[i] = (int8_t)v;
    }
}
/* finite min / max of n floats: the fast loop as in the AVX-512 one (new
 * value first, so NaN never enters), the scalar rescan only for infinities */
static inline void quant__minmax_v(const float *x, size_t n, float *mn, float *mx) {
    __m256 lo0 = _mm256_set1_ps(INFINITY), hi0 = _mm256_set1_ps(-INFINITY), lo1 = lo0, hi1 = hi0;
    float l = INFINITY, h = -INFINITY, t[8];
    size_t i = 0;
    int j;
    for (; i < n && ((uintptr_t)(x + i) & 31u); i++) { float v = x[i]; if (v < l) l = v; if (v > h) h = v; }
    for (; i + 16 <= n; i += 16) {
        __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
        lo0 = _mm256_min_ps(v0, lo0); hi0 = _mm256_max_ps(v0, hi0);
        lo1 = _mm256_min_ps(v1, lo1); hi1 = _mm256_max_ps(v1, hi1);
    }
    _mm256_storeu_ps(t, _mm256_min_ps(lo0, lo1)); for (j = 0; j < 8; j++) if (t[j] < l) l = t[j];
    _mm256_storeu_ps(t, _mm256_max_ps(hi0, hi1)); for (j = 0; j < 8; j++) if (t[j] > h) h = t[j];
    for (; i < n; i++) { float v = x[i]; if (v < l) l = v; if (v > h) h = v; }
    if (l == -INFINITY || h == INFINITY) {
        l = INFINITY; h = -INFINITY;
        for (i = 0; i < n; i++) { float v = x[i]; if (fabsf(v) < INFINITY) { if (v < l) l = v; if (v > h) h = v; } }
    }
    *mn = l; *mx = h;
}
static inline void quant__dq_part(const uint8_t *b, int is_u8, size_t n, float scale, int32_t zp, float *out) {
    size_t i;
    for (i = 0; i < n; i++) out[i] = (float)((is_u8 ? (int32_t)b[i] : (int32_t)(int8_t)b[i]) - zp) * scale;
}
#else
#  define QUANT__RW 1
static inline void quant__qrow_v(const float *x, size_t n, float inv, int32_t zp, int32_t qmin, int32_t qmax,
        int is_u8, void *out, int nt) {
    size_t i;
    (void)nt;
    for (i = 0; i < n; i++) {
        int32_t v = quant_quantize1(x[i], inv, zp, qmin, qmax);
        if (is_u8) ((uint8_t *)out)[i] = (uint8_t)v; else ((int8_t *)out)[i] = (int8_t)v;
    }
}
static inline void quant__minmax_v(const float *x, size_t n, float *mn, float *mx) { quant_minmax(x, n, mn, mx); }
static inline void quant__dqrow_v(const void *q, int is_u8, size_t n, float scale, int32_t zp, float *out, int nt) {
    size_t i;
    (void)nt;
    for (i = 0; i < n; i++)
        out[i] = (float)((is_u8 ? (int32_t)((const uint8_t *)q)[i] : (int32_t)((const int8_t *)q)[i]) - zp) * scale;
}
#endif
#if defined(QUANT_HAS_AVX2)
/* (b - zp) * scale for the QUANT__VL bytes at b, int8 if SGN else uint8 */
QUANT__AINL quant__vf quant__dqv(const uint8_t *b, const int SGN, quant__vi vz, quant__vf vs) {
    return quant__vf_mul(quant__vf_cvt(quant__vi_sub32(quant__vi_ld8_32(b, SGN), vz)), vs);
}
/* the vectors of quant__dqrow_v from element i; returns where they end.
 * Always inlined with SGN a constant: one loop per byte type, without a
 * test of the type at each vector. */
QUANT__AINL size_t quant__dqrow_body(const uint8_t *b, const int SGN, size_t i, size_t n, quant__vi vz,
        quant__vf vs, float *out, int nt) {
    int u;
    if (nt && !((uintptr_t)(out + i) & (QUANT__VB - 1u))) { /* stores vector-aligned from here */
        for (; i + 4 * QUANT__VL <= n; i += 4 * QUANT__VL)
            QUANT__UNROLL
            for (u = 0; u < 4; u++) quant__vf_stream(out + i + u * QUANT__VL, quant__dqv(b + i + u * QUANT__VL, SGN, vz, vs));
        _mm_sfence();
    }
    for (; i + 4 * QUANT__VL <= n; i += 4 * QUANT__VL)
        QUANT__UNROLL
        for (u = 0; u < 4; u++) quant__vf_store(out + i + u * QUANT__VL, quant__dqv(b + i + u * QUANT__VL, SGN, vz, vs));
    for (; i + QUANT__VL <= n; i += QUANT__VL) quant__vf_store(out + i, quant__dqv(b + i, SGN, vz, vs));
    return i;
}
/* the head to a vector boundary and the tail by quant__dq_part (AVX-512:
 * masked), in between 4 vectors a step (streamed when nt) */
static inline void quant__dqrow_v(const void *q, int is_u8, size_t n, float scale, int32_t zp, float *out, int nt) {
    const size_t h = quant__headv(out, sizeof(float), n);
    const quant__vf vs = quant__vf_set1(scale);
    const quant__vi vz = quant__vi_set32(zp);
    const uint8_t *b = (const uint8_t *)q;
    size_t i;
    if (h) quant__dq_part(b, is_u8, h, scale, zp, out);
    i = is_u8 ? quant__dqrow_body(b, 0, h, n, vz, vs, out, nt) : quant__dqrow_body(b, 1, h, n, vz, vs, out, nt);
    if (i < n) quant__dq_part(b + i, is_u8, n - i, scale, zp, out + i);
}
#endif

QUANT__INTERNAL quant_status quant__rows_check(size_t rows, size_t cols, size_t ldx, size_t ldo,
        quant_rows_axis axis, const float *scales, const int32_t *zps, int32_t qmin, int32_t qmax, quant_dtype dt) {
    size_t i, np;
    if (dt != QUANT_I8 && dt != QUANT_U8) return QUANT_EINVAL;
    if (qmin >= qmax || !quant__dtype_fits(dt, qmin, qmax)) return QUANT_EINVAL;
    if ((unsigned)axis > QUANT_PER_COL || ldx < cols || ldo < cols) return QUANT_EINVAL;
    if (!quant__span_ok(rows, ldx, sizeof(float)) || !quant__span_ok(rows, ldo, sizeof(float))) return QUANT_EOVERFLOW;
    np = axis == QUANT_PER_TENSOR ? 1 : axis == QUANT_PER_ROW ? rows : cols;
    if (np && !scales) return QUANT_EINVAL;
    for (i = 0; i < np; i++) {
        quant_params p;
        quant_status st;
        p.scale = scales[i]; p.zero_point = zps ? zps[i] : 0; p.qmin = qmin; p.qmax = qmax;
        if ((st = quant_params_check(&p)) != QUANT_OK) return st;
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_rows_quantize(const float *x, size_t rows, size_t cols, size_t ldx,
        quant_rows_axis axis, const float *scales, const int32_t *zps, int32_t qmin, int32_t qmax,
        quant_dtype dt, void *out, size_t ldo) {
    size_t r, c;
    int u8 = dt == QUANT_U8, nt;
    quant_status st = quant__rows_check(rows, cols, ldx, ldo, axis, scales, zps, qmin, qmax, dt);
    if (st != QUANT_OK) return st;
    if (!rows || !cols) return QUANT_OK;
    if (!x || !out) return QUANT_EINVAL;
    nt = rows * cols >= QUANT_STREAM_BYTES; /* (span checked: no overflow) */
    for (r = 0; r < rows; r++) {
        const float *xr = x + r * ldx;
        uint8_t *o = (uint8_t *)out + r * ldo;
        if (axis != QUANT_PER_COL) {
            size_t pi = axis == QUANT_PER_ROW ? r : 0;
            quant__qrow_v(xr, cols, quant__f32(1.0f / scales[pi]), zps ? zps[pi] : 0, qmin, qmax, u8, o, nt);
        } else {
            for (c = 0; c < cols; c++) {
                int32_t v = quant_quantize1(xr[c], quant__f32(1.0f / scales[c]), zps ? zps[c] : 0, qmin, qmax);
                o[c] = (uint8_t)(v & 0xff);
            }
        }
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_rows_quantize_dynamic(const float *x, size_t rows, size_t cols, size_t ldx,
        quant_scheme scheme, int32_t qmin, int32_t qmax, quant_dtype dt, void *out, size_t ldo,
        float *scales, int32_t *zps) {
    size_t r;
    int u8 = dt == QUANT_U8, nt = 0;
    if (dt != QUANT_I8 && dt != QUANT_U8) return QUANT_EINVAL;
    if (qmin >= qmax || !quant__dtype_fits(dt, qmin, qmax)) return QUANT_EINVAL;
    if ((scheme != QUANT_AFFINE && scheme != QUANT_SYMMETRIC) || ldx < cols || ldo < cols) return QUANT_EINVAL;
    if (!quant__span_ok(rows, ldx, sizeof(float)) || !quant__span_ok(rows, ldo, 1) ||
        !quant__span_ok(rows, 1, sizeof(float))) return QUANT_EOVERFLOW;
    if (!rows || !cols) return QUANT_OK;
    if (!x || !out || !scales || !zps) return QUANT_EINVAL;
    nt = rows * cols >= QUANT_STREAM_BYTES;
    /* finite ranges always give params unless qmax - qmin == 1 (the scale
     * may then exceed FLT_MAX): only then validate every row before writing */
    if ((int64_t)qmax - qmin < 2) for (r = 0; r < rows; r++) {
        float mn, mx;
        quant_params p;
        quant_status st;
        quant__minmax_v(x + r * ldx, cols, &mn, &mx);
        if (mn > mx) mn = mx = 0.0f;
        if ((st = quant_params_from_range(mn, mx, qmin, qmax, scheme, &p)) != QUANT_OK) return st;
    }
    for (r = 0; r < rows; r++) {
        float mn, mx;
        quant_params p;
        quant__minmax_v(x + r * ldx, cols, &mn, &mx);
        if (mn > mx) mn = mx = 0.0f;
        quant_params_from_range(mn, mx, qmin, qmax, scheme, &p);
        scales[r] = p.scale; zps[r] = p.zero_point;
        quant__qrow_v(x + r * ldx, cols, quant__f32(1.0f / p.scale), p.zero_point, qmin, qmax, u8, (uint8_t *)out + r * ldo, nt);
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_rows_dequantize(const void *q, quant_dtype dt, size_t rows, size_t cols, size_t ldq,
        quant_rows_axis axis, const float *scales, const int32_t *zps, float *out, size_t ldo) {
    size_t r, c;
    int32_t lo = dt == QUANT_U8 ? 0 : -128, hi = dt == QUANT_U8 ? 255 : 127;
    int u8 = dt == QUANT_U8, nt;
    quant_status st = quant__rows_check(rows, cols, ldq, ldo, axis, scales, zps, lo, hi, dt);
    if (st != QUANT_OK) return st;
    if (!rows || !cols) return QUANT_OK;
    if (!q || !out) return QUANT_EINVAL;
    nt = rows * cols >= QUANT_STREAM_BYTES / sizeof(float);
    for (r = 0; r < rows; r++) {
        const uint8_t *qr = (const uint8_t *)q + r * ldq;
        float *o = out + r * ldo;
        if (axis != QUANT_PER_COL) {
            size_t pi = axis == QUANT_PER_ROW ? r : 0;
            quant__dqrow_v(qr, u8, cols, scales[pi], zps ? zps[pi] : 0, o, nt);
        } else {
            for (c = 0; c < cols; c++)
                o[c] = (float)((u8 ? (int32_t)qr[c] : (int32_t)(int8_t)qr[c]) - (zps ? zps[c] : 0)) * scales[c];
        }
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_rows_requantize(const int32_t *acc, size_t rows, size_t cols,
        const int32_t *bias, const quant_requant *rq, int per_channel, quant_requant_mode mode,
        int32_t zp, int32_t lo, int32_t hi, quant_dtype dt, void *out) {
    size_t r, c0;
    quant_epilogue ep;
    quant_status st;
    /* the same checks as the reference, then the GEMM epilogue on each row */
    st = quant_requantize(NULL, 0, 0, bias, rq, per_channel, mode, zp, lo, hi, dt, out);
    if (st != QUANT_OK) return st;
    if (!quant__span_ok(rows, cols, sizeof(int32_t))) return QUANT_EOVERFLOW;
    if (!rows || !cols) return QUANT_OK;
    if (!acc || !rq || !out) return QUANT_EINVAL;
    memset(&ep, 0, sizeof ep);
    ep.out = dt == QUANT_I8 ? QUANT_OUT_I8 : QUANT_OUT_U8;
    ep.mode = mode; ep.rq = rq; ep.per_channel = per_channel; ep.bias_i32 = bias;
    ep.out_zp = zp; ep.out_min = lo; ep.out_max = hi;
    if ((st = quant_epilogue_check(&ep, cols)) != QUANT_OK) return st;
    for (c0 = 0; c0 < cols; c0 += QUANT__NR) {
        quant__epi_cols ec;
        size_t cnt = cols - c0 < QUANT__NR ? cols - c0 : QUANT__NR;
        quant__epi_cols_init(NULL, cols, &ep, 0u, 0u, c0, &ec);
        for (r = 0; r < rows; r++) {
            int32_t t[QUANT__NR];
            memcpy(t, acc + r * cols + c0, cnt * sizeof(int32_t));
            quant__epilogue_row(&ep, &ec, 0, r, c0, cnt, t, 0u, out, cols);
        }
    }
    return QUANT_OK;
}

/* end of section 3: its local macros */
#undef QUANT__RW

/* ======================================================================== */
/* 4. convolution (implementation)                                          */
/* ======================================================================== */

/* Output pixels per im2col tile: 64, or more for short rows (small K), up to
 * about 16 KiB of workspace, so that each GEMM call has enough rows to pay
 * for its per-call set-up (a 1-channel 3x3 conv has K = 9). */
QUANT__INTERNAL size_t quant__conv_tile(size_t K, size_t P) { /* P = oh * ow, whatever the batch */
    size_t t = (16384 / K) / 6 * 6;
    t = t > 64 ? t : 64;
    return t < P ? t : P; /* never more than the P output pixels of one image */
}

QUANT__INTERNAL int quant__conv_is_1x1(const quant_conv_shape *s) {
    return s->k_h == 1 && s->k_w == 1 && s->stride_h == 1 && s->stride_w == 1 &&
           !s->pad_top && !s->pad_left && !s->pad_bottom && !s->pad_right;
}

#if defined(QUANT__VL) && !defined(QUANT_HAS_AVX512VNNI) && !defined(QUANT_NO_DCONV)
/* Direct convolution for short dot products (K = k_h k_w in_c <= 32: a
 * 1-channel 3x3 first layer has K = 9), on the vector layer: output
 * channels on the lanes, exact 16-bit products (pmaddwd) of (a - a_zp) and
 * (w - w_zp), each in [-255, 255], so no zero-point corrections and any
 * activation type, weight or zero point. For each output row, the k_h input
 * rows it reads are widened once into rows of 32-bit lanes, kernel rows
 * taken in pairs: lane pos holds the int16 values of kernel rows 2i and 2i +
 * 1 at padded input element pos (zero for padding), so a pmaddwd with the
 * 32-bit lane broadcast multiplies one tap of both rows; an odd last kernel
 * row is paired with itself one element on (taps pos and pos + 1, when
 * they are adjacent; else the second weight is 0). 3x3: 5 pmaddwd a vector
 * of channels. The sums go through the GEMM's epilogue (quant__epilogue_tile)
 * with no row or column corrections: the same results as the reference.
 * At K = 9 the im2col + GEMM path spends most of its time on per-row work
 * (bench/RESULTS.md, "the demo model's first convolution, direct"). */
#  define QUANT__DC 1
#  define QUANT__DC_MAXK 32
#  define QUANT__DC_MAXP 32                   /* broadcast pairs a pixel */
#  define QUANT__DC_NV (QUANT__NR / QUANT__VL) /* vectors a panel        */
#  define QUANT__DC_PCH 2                     /* panels a chunk          */
#  define QUANT__DC_MRP 4                     /* pixels a block          */
#  define QUANT__DC_WS 16384                  /* widened rows, at most    */

/* elements of one widened (padded) input row, and the bytes the rows take */
static size_t quant__dc_width(const quant_conv_shape *s) { return (s->pad_left + s->in_w + s->pad_right) * s->in_c; }
static size_t quant__dc_bytes(const quant_conv_shape *s) { return (s->k_h + 1) / 2 * quant__dc_width(s) * 4; }

/* the broadcast pairs of one pixel: byte offset into the widened rows (from
 * the pixel's first element) and the two taps (k index; -1: weight 0);
 * returns how many, or 0 if more than QUANT__DC_MAXP */
static size_t quant__dc_pairs(const quant_conv_shape *s, size_t *off, int *ta, int *tb) {
    const size_t C = s->in_c, T = s->k_w * C, W = quant__dc_width(s);
    size_t np = 0, i, t;
    for (i = 0; i < s->k_h / 2; i++)
        for (t = 0; t < T; t++) {
            if (np == QUANT__DC_MAXP) return 0;
            off[np] = 4 * (i * W + (t / C) * s->dil_w * C + t % C);
            ta[np] = (int)((2 * i) * T + t); tb[np] = (int)((2 * i + 1) * T + t);
            np++;
        }
    if (s->k_h % 2)
        for (t = 0; t < T;) {
            const size_t o = (t / C) * s->dil_w * C + t % C;
            if (np == QUANT__DC_MAXP) return 0;
            off[np] = 4 * ((s->k_h / 2) * W + o);
            ta[np] = (int)((s->k_h - 1) * T + t);
            if (t + 1 < T && ((t + 1) / C) * s->dil_w * C + (t + 1) % C == o + 1) {
                tb[np] = ta[np] + 1; t += 2;
            } else {
                tb[np] = -1; t += 1;
            }
            np++;
        }
    return np;
}

QUANT__INTERNAL int quant__dc_ok(const quant_conv_shape *s) {
    size_t off[QUANT__DC_MAXP];
    int ta[QUANT__DC_MAXP], tb[QUANT__DC_MAXP];
    /* (each term of the widened width bounded first: their product in
     * quant__dc_bytes cannot wrap; quant_conv_out_size allows widths and
     * padding up to SIZE_MAX / 16) */
    return s->k_h * s->k_w * s->in_c <= QUANT__DC_MAXK && s->in_w <= QUANT__DC_WS && s->pad_left <= QUANT__DC_WS &&
           s->pad_right <= QUANT__DC_WS && quant__dc_bytes(s) <= QUANT__DC_WS && quant__dc_pairs(s, off, ta, tb) != 0;
}

/* weight k of column n from the packed panels (kg bytes of K a group) */
static int32_t quant__dc_w(const quant__pack_hdr *h, const int8_t *panels, size_t k, size_t n) {
    const int8_t *pan = panels + (n / QUANT__NR) * h->kpad * QUANT__NR;
    return (int32_t)pan[((k / h->kg) * QUANT__NR + n % QUANT__NR) * h->kg + k % h->kg] - h->b_zp;
}

/* acc[i][v] += the products of MRP pixels (bx, bx + xs, ...: their first
 * widened element) and one panel (wt: np broadcast pairs of QUANT__NR
 * 16-bit weight pairs) */
QUANT__AINL void quant__dc_madd(const uint8_t *bx, size_t xs, const size_t *off, const int32_t *wt, size_t np,
        quant__vi (*acc)[QUANT__DC_NV], const int MRP) {
    size_t q;
    int i, v;
    for (q = 0; q < np; q++) {
        quant__vi w[QUANT__DC_NV];
        QUANT__UNROLL
        for (v = 0; v < QUANT__DC_NV; v++) w[v] = quant__vi_load(wt + (q * QUANT__DC_NV + (size_t)v) * QUANT__VL);
        QUANT__UNROLL
        for (i = 0; i < MRP; i++) {
            int32_t a32;
            quant__vi a;
            memcpy(&a32, bx + (size_t)i * xs + off[q], 4);
            a = quant__vi_set32(a32);
            QUANT__UNROLL
            for (v = 0; v < QUANT__DC_NV; v++) acc[i][v] = quant__vi_madd16(acc[i][v], a, w[v]);
        }
    }
}

/* MRP pixels x one panel: the raw sums in acc */
QUANT__AINL void quant__dc_acc(const uint8_t *bx, size_t xs, const size_t *off, const int32_t *wt, size_t np,
        quant__vi (*acc)[QUANT__DC_NV], const int MRP) {
    int i, v;
    /* (unrolled by pragma: at -O2 GCC 12 keeps the accumulators in memory otherwise) */
    QUANT__UNROLL
    for (i = 0; i < MRP; i++) { QUANT__UNROLL for (v = 0; v < QUANT__DC_NV; v++) acc[i][v] = quant__vi_zero(); }
    quant__dc_madd(bx, xs, off, wt, np, acc, MRP);
}

/* the same into tile (rows of QUANT__NR), for quant__epilogue_tile */
QUANT__AINL void quant__dc_block(const uint8_t *bx, size_t xs, const size_t *off, const int32_t *wt, size_t np,
        int32_t *tile, const int MRP) {
    quant__vi acc[QUANT__DC_MRP][QUANT__DC_NV];
    int i, v;
    quant__dc_acc(bx, xs, off, wt, np, acc, MRP);
    QUANT__UNROLL
    for (i = 0; i < MRP; i++) {
        QUANT__UNROLL
        for (v = 0; v < QUANT__DC_NV; v++) quant__vi_store(tile + (size_t)i * QUANT__NR + (size_t)v * QUANT__VL, acc[i][v]);
    }
}

#  if defined(QUANT_HAS_AVX2) && !defined(QUANT_HAS_AVX512)
#    define QUANT__DC_FUSE 1
/* the same through the runner's epilogue (uint8 / int8 out, float
 * requantization, a whole panel of columns) with the sums in registers:
 * quant__epilogue_tile's arithmetic, so the same results, without the
 * tile's round trip and the call (at -O2 the out-of-line epilogue cost as
 * much as the products of a 1-channel 3x3 conv). The column corrections
 * start the sums (integer adds: the same in any order); 16 bytes a store;
 * I8 (the output type) is a constant of each inlined copy. */
QUANT__AINL void quant__dc_block_rq(const uint8_t *bx, size_t xs, const size_t *off, const int32_t *wt, size_t np,
        const quant__epi_cols *ec, __m256 lo, __m256 hi, __m256i zp, const int I8, unsigned char *c, size_t ldc,
        const int MRP) {
    __m256i acc[QUANT__DC_MRP][QUANT__DC_NV];
    int i, v;
    QUANT__UNROLL
    for (i = 0; i < MRP; i++) {
        QUANT__UNROLL
        for (v = 0; v < QUANT__DC_NV; v++) acc[i][v] = _mm256_loadu_si256((const __m256i *)(const void *)(ec->corr + 8 * v));
    }
    quant__dc_madd(bx, xs, off, wt, np, acc, MRP);
    QUANT__UNROLL
    for (i = 0; i < MRP; i++) {
        QUANT__UNROLL
        for (v = 0; v < QUANT__DC_NV; v += 2)
            quant__store16_256(c + (size_t)i * ldc + 8 * v,
                               quant__rq_fp32_256(acc[i][v], _mm256_loadu_ps(ec->scale + 8 * v), lo, hi, zp),
                               quant__rq_fp32_256(acc[i][v + 1], _mm256_loadu_ps(ec->scale + 8 * v + 8), lo, hi, zp), I8);
    }
}
#  endif

/* kernel rows 2i, 2i + 1 of output row y of image n widened into ws (row
 * pair i at ws + 4 i W: int16 (a - zp) of the first row low, of the second
 * high; an odd last row with itself one element on) */
static void quant__dc_rows(const quant_conv_shape *s, const uint8_t *in, int a_signed, int32_t a_zp, size_t n, size_t y,
        uint32_t *ws) {
    const size_t C = s->in_c, W = quant__dc_width(s), rb = s->in_w * C, l0 = s->pad_left * C;
    size_t i, j;
    for (i = 0; i < (s->k_h + 1) / 2; i++) {
        uint32_t *d = ws + i * W;
        const uint8_t *r[2];
        int k;
        for (k = 0; k < 2; k++) {
            const size_t kh = 2 * i + (size_t)k, ph = y * s->stride_h + kh * s->dil_h;
            r[k] = NULL;
            if (kh < s->k_h && ph >= s->pad_top && ph - s->pad_top < s->in_h)
                r[k] = in + (n * s->in_h + (ph - s->pad_top)) * rb;
        }
        for (j = 0; j < l0; j++) d[j] = 0;
        for (j = l0 + rb; j < W; j++) d[j] = 0;
        d += l0;
        if (2 * i + 1 == s->k_h) { /* the odd row: (pos, pos + 1) */
            const uint8_t *a = r[0];
            if (!a) { for (j = 0; j < rb; j++) d[j] = 0; continue; }
            if (l0) d[-1] = (uint32_t)(uint16_t)((a_signed ? (int32_t)(int8_t)a[0] : (int32_t)a[0]) - a_zp) << 16;
            if (a_signed) {
                for (j = 0; j + 1 < rb; j++)
                    d[j] = (uint16_t)((int32_t)(int8_t)a[j] - a_zp) | (uint32_t)(uint16_t)((int32_t)(int8_t)a[j + 1] - a_zp) << 16;
                d[rb - 1] = (uint16_t)((int32_t)(int8_t)a[rb - 1] - a_zp);
            } else {
                for (j = 0; j + 1 < rb; j++)
                    d[j] = (uint16_t)((int32_t)a[j] - a_zp) | (uint32_t)(uint16_t)((int32_t)a[j + 1] - a_zp) << 16;
                d[rb - 1] = (uint16_t)((int32_t)a[rb - 1] - a_zp);
            }
            continue;
        }
        if (!r[0] && !r[1]) { for (j = 0; j < rb; j++) d[j] = 0; continue; }
        {
            const uint8_t *a = r[0] ? r[0] : r[1], *b = r[1] ? r[1] : r[0];
            const uint32_t ma = r[0] ? 0xffffu : 0u, mb = r[1] ? 0xffff0000u : 0u;
            if (a_signed)
                for (j = 0; j < rb; j++)
                    d[j] = ((uint16_t)((int32_t)(int8_t)a[j] - a_zp) & ma) | ((uint32_t)(uint16_t)((int32_t)(int8_t)b[j] - a_zp) << 16 & mb);
            else
                for (j = 0; j < rb; j++)
                    d[j] = ((uint16_t)((int32_t)a[j] - a_zp) & ma) | ((uint32_t)(uint16_t)((int32_t)b[j] - a_zp) << 16 & mb);
        }
    }
}

QUANT__INTERNAL void quant__dconv(const quant_conv_shape *s, size_t oh, size_t ow, const quant__pack_hdr *h,
        const void *packed, const uint8_t *in, int a_signed, int32_t a_zp, const quant_epilogue *ep, void *out,
        size_t pix0, size_t pix1, uint8_t *ws) {
    const uint8_t *base = (const uint8_t *)packed;
    const int8_t *panels = (const int8_t *)(base + h->panel_off);
    const size_t N = h->N, npan = (N + QUANT__NR - 1) / QUANT__NR, xs = 4 * s->stride_w * s->in_c;
    size_t off[QUANT__DC_MAXP], np, c0, q, j;
    int ta[QUANT__DC_MAXP], tb[QUANT__DC_MAXP];
    int32_t wt[QUANT__DC_PCH][QUANT__DC_MAXP * QUANT__NR], tile[QUANT__DC_MRP * QUANT__NR];
    quant__epi_cols ec[QUANT__DC_PCH];
    const uint32_t rowcorr[QUANT__DC_MRP] = { 0 };
#  if defined(QUANT__DC_FUSE)
    const int rq = (ep->out == QUANT_OUT_U8 || ep->out == QUANT_OUT_I8) && ep->mode == QUANT_RQ_FP32, ri8 = ep->out == QUANT_OUT_I8;
    const __m256 rlo = _mm256_set1_ps((float)(ep->out_min - ep->out_zp)), rhi = _mm256_set1_ps((float)(ep->out_max - ep->out_zp));
    const __m256i rzp = _mm256_set1_epi32(ep->out_zp);
#  endif
    np = quant__dc_pairs(s, off, ta, tb);
    for (c0 = 0; c0 < npan; c0 += QUANT__DC_PCH) {
        const size_t pe = c0 + QUANT__DC_PCH < npan ? c0 + QUANT__DC_PCH : npan;
        size_t p = pix0, pb;
        for (pb = c0; pb < pe; pb++) {
            int32_t *w = wt[pb - c0];
            for (q = 0; q < np; q++)
                for (j = 0; j < QUANT__NR; j++) {
                    const size_t n = pb * QUANT__NR + j;
                    int32_t lo = 0, hi = 0;
                    if (n < N) {
                        lo = quant__dc_w(h, panels, (size_t)ta[q], n);
                        hi = tb[q] >= 0 ? quant__dc_w(h, panels, (size_t)tb[q], n) : 0;
                    }
                    w[q * QUANT__NR + j] = (int32_t)((uint32_t)(uint16_t)lo | (uint32_t)(uint16_t)hi << 16);
                }
            quant__epi_cols_init(base + h->colsum_off, h->N, ep, 0u, 0u, pb * QUANT__NR, &ec[pb - c0]);
        }
        while (p < pix1) {
            const size_t n = p / (oh * ow), y = (p / ow) % oh, x0 = p % ow;
            const size_t x1 = pix1 - p < ow - x0 ? x0 + (pix1 - p) : ow;
            quant__dc_rows(s, in, a_signed, a_zp, n, y, (uint32_t *)(void *)ws);
            for (pb = c0; pb < pe; pb++) {
                const size_t cs = pb * QUANT__NR, cnt = N - cs < QUANT__NR ? N - cs : QUANT__NR;
                size_t x = x0;
#  if defined(QUANT__DC_FUSE)
                if (rq && cnt == QUANT__NR) {
                    unsigned char *c = (unsigned char *)out + (p - x0) * N + cs;
                    const int32_t *w = wt[pb - c0];
                    const quant__epi_cols *e = &ec[pb - c0];
                    if (ri8) {
                        for (; x + QUANT__DC_MRP <= x1; x += QUANT__DC_MRP)
                            quant__dc_block_rq(ws + x * xs, xs, off, w, np, e, rlo, rhi, rzp, 1, c + x * N, N, QUANT__DC_MRP);
                        for (; x < x1; x++) quant__dc_block_rq(ws + x * xs, xs, off, w, np, e, rlo, rhi, rzp, 1, c + x * N, N, 1);
                    } else {
                        for (; x + QUANT__DC_MRP <= x1; x += QUANT__DC_MRP)
                            quant__dc_block_rq(ws + x * xs, xs, off, w, np, e, rlo, rhi, rzp, 0, c + x * N, N, QUANT__DC_MRP);
                        for (; x < x1; x++) quant__dc_block_rq(ws + x * xs, xs, off, w, np, e, rlo, rhi, rzp, 0, c + x * N, N, 1);
                    }
                    continue;
                }
#  endif
                for (; x + QUANT__DC_MRP <= x1; x += QUANT__DC_MRP) {
                    quant__dc_block(ws + x * xs, xs, off, wt[pb - c0], np, tile, QUANT__DC_MRP);
                    quant__epilogue_tile(ep, &ec[pb - c0], 0, p + (x - x0), QUANT__DC_MRP, cs, cnt, tile, rowcorr, out, N);
                }
                for (; x < x1; x++) {
                    quant__dc_block(ws + x * xs, xs, off, wt[pb - c0], np, tile, 1);
                    quant__epilogue_tile(ep, &ec[pb - c0], 0, p + (x - x0), 1, cs, cnt, tile, rowcorr, out, N);
                }
            }
            p += x1 - x0;
        }
    }
}
#endif

QUANT_DEF size_t quant_conv2d_pack_size(const quant_conv_shape *s) {
    size_t oh, ow;
    if (quant_conv_out_size(s, &oh, &ow) != QUANT_OK) return 0;
    return quant_gemm_pack_size(s->k_h * s->k_w * s->in_c, s->out_c);
}

QUANT_DEF quant_status quant_conv2d_pack(const int8_t *w, const quant_conv_shape *s, int32_t w_zp,
        void *packed, size_t packed_bytes) {
    size_t oh, ow;
    quant_status st = quant_conv_out_size(s, &oh, &ow);
    if (st != QUANT_OK) return st;
    return quant_gemm_pack(w, QUANT_LAYOUT_NK, s->k_h * s->k_w * s->in_c, s->out_c, w_zp, packed, packed_bytes);
}

/* im2col row stride: short rows padded to 16 bytes, so that each row is one
 * aligned 16-byte block (no store splits a cache line) */
QUANT__INTERNAL size_t quant__im2col_ld(size_t K) { return K < 16 ? 16 : K; }

QUANT_DEF size_t quant_conv2d_workspace_size(const quant_conv_shape *s) {
    size_t oh, ow, w;
    if (quant_conv_out_size(s, &oh, &ow) != QUANT_OK) return 0;
    if (quant__conv_is_1x1(s)) return 0;
    w = quant__conv_tile(s->k_h * s->k_w * s->in_c, oh * ow) * quant__im2col_ld(s->k_h * s->k_w * s->in_c) + 16; /* + slack */
#if defined(QUANT__DC)
    /* (the int4 conv of section 7 takes the same size for its im2col) */
    if (quant__dc_ok(s) && quant__dc_bytes(s) + 64 > w) w = quant__dc_bytes(s) + 64; /* + alignment */
#endif
    return w;
}

/* n < 16 bytes as two overlapping fixed-size copies */
static inline void quant__copy_lt16(uint8_t *d, const uint8_t *s, size_t n) {
    if (n >= 8) { memcpy(d, s, 8); memcpy(d + n - 8, s + n - 8, 8); }
    else if (n >= 4) { memcpy(d, s, 4); memcpy(d + n - 4, s + n - 4, 4); }
    else if (n) { d[0] = s[0]; d[n / 2] = s[n / 2]; d[n - 1] = s[n - 1]; }
}

/* n >= 16 bytes as 32-byte moves (under 32: two of 16), the last one
 * overlapping the one before */
static inline void quant__copy_ge16(uint8_t *d, const uint8_t *s, size_t n) {
    size_t t;
    if (n < 32) { memcpy(d, s, 16); memcpy(d + n - 16, s + n - 16, 16); return; }
    for (t = 0; t + 32 < n; t += 32) memcpy(d + t, s + t, 32);
    memcpy(d + n - 32, s + n - 32, 32);
}

#if defined(QUANT_HAS_AVX512VBMI)
#define QUANT__IM2COL_C1 1
/* im2col of a 1-channel input whose rows are short (K = k_h k_w <= 16, so
 * 16-byte rows; k_h (15 + k_w) <= 64), stride_w = dil_w = 1: 16 output
 * pixels of one output row at a time. The k_h input row pieces they read
 * (15 + k_w bytes each) go into one register by masked loads over a
 * zero-point vector (padding: the lanes left out), then one vpermb makes the
 * rows of 4 pixels. idx[j] byte 16 q + b = kernel tap b of pixel 4 j + q in
 * that register. The first layer of a grayscale image or spectrogram net. */
static int quant__im2col_c1_ok(const quant_conv_shape *s, size_t ldr) {
    return s->in_c == 1 && s->stride_w == 1 && s->dil_w == 1 && ldr == 16 && s->k_h * s->k_w <= 16 &&
           s->k_h * (15 + s->k_w) <= 64;
}
static void quant__im2col_c1_idx(const quant_conv_shape *s, __m512i *idx) {
    const size_t RS = 15 + s->k_w, K = s->k_h * s->k_w;
    uint8_t t[4][64];
    size_t j, i;
    for (j = 0; j < 4; j++)
        for (i = 0; i < 64; i++) {
            const size_t pix = 4 * j + i / 16, b = i % 16;
            t[j][i] = (uint8_t)(b < K ? (b / s->k_w) * RS + pix + b % s->k_w : 0);
        }
    for (j = 0; j < 4; j++) idx[j] = _mm512_loadu_si512((const void *)t[j]);
}
/* output pixels x0 .. x1 - 1 of output row y of image n to rows ws, ws + 16, ... */
static void quant__im2col_c1(const quant_conv_shape *s, const uint8_t *in, uint8_t zpb, const __m512i *idx,
        size_t n, size_t y, size_t x0, size_t x1, uint8_t *ws) {
    const size_t RS = 15 + s->k_w;
    const __m512i zv = _mm512_set1_epi8((char)zpb);
    const uint64_t span = ((uint64_t)1 << RS) - 1;
    size_t x, r;
    for (x = x0; x < x1; x += 16, ws += 256) {
        const size_t cnt = x1 - x < 16 ? x1 - x : 16;
        /* input columns c0 .. c0 + RS - 1 (c0 may be negative: the padding) */
        const long long c0 = (long long)x - (long long)s->pad_left;
        __m512i src = zv;
        int j;
        for (r = 0; r < s->k_h; r++) {
            const size_t ph = y * s->stride_h + r * s->dil_h;
            long long lo, hi;
            uint64_t m;
            if (ph < s->pad_top || ph - s->pad_top >= s->in_h) continue; /* a padding row */
            lo = c0 < 0 ? -c0 : 0;
            hi = (long long)s->in_w - c0 < (long long)RS ? (long long)s->in_w - c0 : (long long)RS;
            if (hi <= lo) continue;
            m = (span >> (RS - (size_t)hi)) & ~(((uint64_t)1 << lo) - 1);
            /* lane r RS + i holds input column c0 + i: the address of lane 0 is
             * row + c0 - r RS, outside the row, but only the lanes in m are read */
            src = _mm512_mask_loadu_epi8(src, m << (r * RS),
                    (const void *)((uintptr_t)(in + (n * s->in_h + (ph - s->pad_top)) * s->in_w) + (uintptr_t)c0 - (uintptr_t)(r * RS)));
        }
        for (j = 0; j < 4 && (size_t)(4 * j) < cnt; j++) {
            const __m512i v = _mm512_permutexvar_epi8(idx[j], src);
            if (cnt >= (size_t)(4 * j + 4)) _mm512_storeu_si512((void *)(ws + 64 * j), v);
            else _mm512_mask_storeu_epi8(ws + 64 * j, ((uint64_t)1 << (16 * (cnt - 4 * (size_t)j))) - 1, v);
        }
    }
}
#endif

/* im2col of output pixels [p0, p1) into ws (rows of K bytes, plus 16 bytes
 * of slack after the last); padding holds the activation zero point, which
 * contributes exactly 0. Pixels are taken an output row segment at a time
 * with the interior columns (every tap inside the input row) found once, so
 * an interior kernel row is one copy: for rows under 16 bytes (a 1-channel
 * 3x3 conv copies 3) a single 16-byte move whose excess lands in bytes
 * written later (the next kernel row or pixel) or in the slack, taken only
 * where the 16 source bytes lie inside the input. */
QUANT__INTERNAL void quant__im2col(const quant_conv_shape *s, size_t oh, size_t ow, const uint8_t *in,
        uint8_t zpb, size_t p0, size_t p1, uint8_t *ws, size_t ldr) {
    const size_t C = s->in_c, rowb = s->k_w * C;
    const size_t span = (s->k_w - 1) * s->dil_w + 1, sw = s->stride_w, sh = s->stride_h;
    const size_t in_bytes = s->batch * s->in_h * s->in_w * C, rowstride = s->in_w * C;
    size_t xlo = (s->pad_left + sw - 1) / sw, xhi, p = p0;
    /* interior output columns [xlo, xhi): pad_left <= x sw and x sw - pad_left + span <= in_w */
    xhi = s->in_w + s->pad_left >= span ? (s->in_w + s->pad_left - span) / sw + 1 : 0;
    if (xhi > ow) xhi = ow;
    if (xlo > xhi) xlo = xhi;
#if defined(QUANT__IM2COL_C1)
    if (quant__im2col_c1_ok(s, ldr)) {
        __m512i idx[4];
        quant__im2col_c1_idx(s, idx);
        while (p < p1) {
            const size_t n = p / (oh * ow), y = (p / ow) % oh, x0 = p % ow;
            const size_t x1 = p1 - p < ow - x0 ? x0 + (p1 - p) : ow;
            quant__im2col_c1(s, in, zpb, idx, n, y, x0, x1, ws + (p - p0) * ldr);
            p += x1 - x0;
        }
        return;
    }
#endif
    if (s->dil_w == 1 && rowb < 16 && s->k_h <= 8 && (s->pad_left + s->in_w + s->pad_right) * C + 16 <= 512) {
        /* short kernel rows: the k_h input rows an output row reads, copied
         * once into zero-point-padded rows, so every pixel is interior there
         * and each of its kernel rows one 16-byte move (excess as above) */
        uint8_t prow[8][512];
        const size_t pwb = (s->pad_left + s->in_w + s->pad_right) * C;
        size_t last = SIZE_MAX;
        while (p < p1) {
            const size_t n = p / (oh * ow), y = (p / ow) % oh, x0 = p % ow;
            const size_t x1 = p1 - p < ow - x0 ? x0 + (p1 - p) : ow;
            size_t x, kh;
            if (p / ow != last) { /* a new output row */
                for (kh = 0; kh < s->k_h; kh++) {
                    const size_t ph = y * sh + kh * s->dil_h;
                    memset(prow[kh], zpb, pwb + 16);
                    if (ph >= s->pad_top && ph - s->pad_top < s->in_h)
                        memcpy(prow[kh] + s->pad_left * C, in + (n * s->in_h + (ph - s->pad_top)) * rowstride, rowstride);
                }
                last = p / ow;
            }
            for (x = x0; x < x1; x++) {
                uint8_t *row = ws + (p + (x - x0) - p0) * ldr;
                const uint8_t *src = &prow[0][0] + x * sw * C;
                for (kh = 0; kh < s->k_h; kh++) memcpy(row + kh * rowb, src + kh * sizeof prow[0], 16);
            }
            p += x1 - x0;
        }
        return;
    }
    while (p < p1) {
        const size_t n = p / (oh * ow), y = (p / ow) % oh, x0 = p % ow;
        const size_t x1 = p1 - p < ow - x0 ? x0 + (p1 - p) : ow;
        size_t x, kh, kw;
        if (s->dil_w == 1 && s->k_h <= 16) { /* the kernel rows' input rows, found once for the segment */
            size_t soff[16], xa = x0 > xlo ? x0 : xlo, xb = x1 < xhi ? x1 : xhi;
            unsigned char valid[16], safe16[16];
            for (kh = 0; kh < s->k_h; kh++) {
                const size_t ph = y * sh + kh * s->dil_h;
                valid[kh] = ph >= s->pad_top && ph - s->pad_top < s->in_h;
                soff[kh] = valid[kh] ? (n * s->in_h + (ph - s->pad_top)) * rowstride : 0;
                safe16[kh] = soff[kh] + rowstride + 16 <= in_bytes; /* 16 bytes from any tap of the row exist */
            }
            int all16 = rowb < 16;
            for (kh = 0; kh < s->k_h; kh++) all16 &= valid[kh] & safe16[kh];
            if (all16 && s->k_h == 3) /* a 3x3 kernel with few channels, inside the image: 3 moves a pixel */
                for (x = xa; x < xb; x++) {
                    uint8_t *row = ws + (p + (x - x0) - p0) * ldr;
                    const uint8_t *src = in + (x * sw - s->pad_left) * C;
                    memcpy(row, src + soff[0], 16);
                    memcpy(row + rowb, src + soff[1], 16);
                    memcpy(row + 2 * rowb, src + soff[2], 16);
                }
            else if (all16)
                for (x = xa; x < xb; x++) {
                    uint8_t *row = ws + (p + (x - x0) - p0) * ldr;
                    const uint8_t *src = in + (x * sw - s->pad_left) * C;
                    for (kh = 0; kh < s->k_h; kh++) memcpy(row + kh * rowb, src + soff[kh], 16);
                }
            else /* any interior pixel */
            for (x = xa; x < xb; x++) {
                uint8_t *row = ws + (p + (x - x0) - p0) * ldr;
                const size_t xoff = (x * sw - s->pad_left) * C;
                for (kh = 0; kh < s->k_h; kh++) {
                    uint8_t *dst = row + kh * rowb;
                    const uint8_t *src = in + soff[kh] + xoff;
                    if (!valid[kh]) memset(dst, zpb, rowb);
                    else if (rowb < 16) {
                        if (safe16[kh]) memcpy(dst, src, 16);
                        else quant__copy_lt16(dst, src, rowb);
                    } else quant__copy_ge16(dst, src, rowb);
                }
            }
            if (xa == x0 && xb == x1) { p += x1 - x0; continue; }
        }
        for (x = x0; x < x1; x++) {
            uint8_t *row = ws + (p + (x - x0) - p0) * ldr;
            const int interior = x >= xlo && x < xhi;
            if (interior && s->dil_w == 1 && s->k_h <= 16) continue; /* done above */
            for (kh = 0; kh < s->k_h; kh++) {
                const size_t ph = y * sh + kh * s->dil_h;
                uint8_t *dst = row + kh * rowb;
                size_t off;
                if (ph < s->pad_top || ph - s->pad_top >= s->in_h) { memset(dst, zpb, rowb); continue; }
                off = (n * s->in_h + (ph - s->pad_top)) * rowstride;
                if (interior && s->dil_w == 1) { /* the whole kernel row is contiguous in the input */
                    const uint8_t *src = in + off + (x * sw - s->pad_left) * C;
                    if (rowb < 16) {
                        if ((size_t)(src - in) + 16 <= in_bytes) memcpy(dst, src, 16);
                        else quant__copy_lt16(dst, src, rowb);
                    } else quant__copy_ge16(dst, src, rowb);
                    continue;
                }
                for (kw = 0; kw < s->k_w; kw++) {
                    const size_t pw = x * sw + kw * s->dil_w;
                    uint8_t *d = dst + kw * C;
                    if (pw < s->pad_left || pw - s->pad_left >= s->in_w) memset(d, zpb, C);
                    else if (C >= 16) quant__copy_ge16(d, in + off + (pw - s->pad_left) * C, C);
                    else quant__copy_lt16(d, in + off + (pw - s->pad_left) * C, C);
                }
            }
        }
        p += x1 - x0;
    }
}

#if defined(QUANT__IKR)
#define QUANT__IKR_TAPS 64
/* Convolution as an indirect GEMM (no im2col): for each block of MR output
 * pixels a table of the input pixel each kernel tap reads (or zrow, C bytes
 * of the activation zero point, for padding), and the kernel runs through
 * it. For unsigned activations, symmetric weights, in_c % 4 == 0 and at
 * most QUANT__IKR_TAPS taps; the same sums as im2col, so the same results. */
QUANT__INTERNAL void quant__conv_igemm(const quant_conv_shape *s, size_t oh, size_t ow, const quant__pack_hdr *h,
        const void *packed, const uint8_t *in, int32_t a_zp, const quant_epilogue *ep, void *out,
        size_t pix0, size_t pix1, uint8_t *zrow) {
    const size_t C = s->in_c, taps = s->k_h * s->k_w, N = h->N, sw = s->stride_w, sh = s->stride_h;
    const size_t spanw = (s->k_w - 1) * s->dil_w + 1, spanh = (s->k_h - 1) * s->dil_h + 1;
    const uint8_t *base = (const uint8_t *)packed;
    const int8_t *panels = (const int8_t *)(base + h->panel_off);
    const uint8_t *ind[QUANT__MR * QUANT__IKR_TAPS];
    size_t toff[QUANT__IKR_TAPS], xlo, xhi, ylo, yhi, p, pb, t, kh, kw;
    uint32_t rowcorr[QUANT__MR] = { 0 };
    memset(zrow, a_zp, C);
    /* interior output pixels (every tap inside the input): one base address plus toff[t] */
    xlo = (s->pad_left + sw - 1) / sw; ylo = (s->pad_top + sh - 1) / sh;
    xhi = s->in_w + s->pad_left >= spanw ? (s->in_w + s->pad_left - spanw) / sw + 1 : 0;
    yhi = s->in_h + s->pad_top >= spanh ? (s->in_h + s->pad_top - spanh) / sh + 1 : 0;
    for (kh = 0; kh < s->k_h; kh++)
        for (kw = 0; kw < s->k_w; kw++) toff[kh * s->k_w + kw] = (kh * s->dil_h * s->in_w + kw * s->dil_w) * C;
    for (pb = 0; pb < (N + QUANT__NR - 1) / QUANT__NR; pb++) {
        quant__epi_cols ec;
        const int8_t *pan = panels + pb * h->kpad * QUANT__NR;
        size_t n = pix0 / (oh * ow), y = (pix0 / ow) % oh, x = pix0 % ow;
        quant__epi_cols_init(base + h->colsum_off, h->N, ep, (uint32_t)a_zp, 0u, pb * QUANT__NR, &ec);
        for (p = pix0; p < pix1; p += QUANT__MR) {
            const size_t mr = pix1 - p < QUANT__MR ? pix1 - p : QUANT__MR;
            size_t r;
            quant__ukr_out o;
            for (r = 0; r < mr; r++) {
                const uint8_t **row = ind + r * taps;
                if (x >= xlo && x < xhi && y >= ylo && y < yhi) {
                    const uint8_t *b0 = in + ((n * s->in_h + (y * sh - s->pad_top)) * s->in_w + (x * sw - s->pad_left)) * C;
                    for (t = 0; t < taps; t++) row[t] = b0 + toff[t];
                } else {
                    /* every tap from the window's corner as inside (an address
                     * formed as an integer: the corner may lie outside the
                     * input, but only taps inside it keep theirs), then the
                     * padding rows and columns pointed at zrow */
                    const uintptr_t b0 = (uintptr_t)in + (uintptr_t)((((ptrdiff_t)(n * s->in_h) + (ptrdiff_t)(y * sh) -
                        (ptrdiff_t)s->pad_top) * (ptrdiff_t)s->in_w + (ptrdiff_t)(x * sw) - (ptrdiff_t)s->pad_left) * (ptrdiff_t)C);
                    for (t = 0; t < taps; t++) row[t] = (const uint8_t *)(b0 + toff[t]);
                    for (kh = 0; kh < s->k_h; kh++) {
                        const size_t ph = y * sh + kh * s->dil_h;
                        if (ph < s->pad_top || ph - s->pad_top >= s->in_h)
                            for (kw = 0; kw < s->k_w; kw++) row[kh * s->k_w + kw] = zrow;
                    }
                    for (kw = 0; kw < s->k_w; kw++) {
                        const size_t pw = x * sw + kw * s->dil_w;
                        if (pw < s->pad_left || pw - s->pad_left >= s->in_w)
                            for (kh = 0; kh < s->k_h; kh++) row[kh * s->k_w + kw] = zrow;
                    }
                }
                if (++x == ow) { x = 0; if (++y == oh) { y = 0; n++; } }
            }
            o.ep = ep; o.ec = &ec; o.rowcorr = rowcorr; o.C = out; o.ldc = N; o.m = p; o.col = pb * QUANT__NR;
            o.cnt = N - pb * QUANT__NR < QUANT__NR ? N - pb * QUANT__NR : QUANT__NR;
            QUANT__IKR(mr, taps, C, ind, pan, &o);
        }
    }
}
#endif

QUANT_DEF quant_status quant_conv2d_tile(const quant_conv_shape *s, const void *in, int a_signed, int32_t a_zp,
        const void *packed, const quant_epilogue *ep, void *out, void *workspace, size_t workspace_bytes,
        size_t pix0, size_t pix1) {
    size_t oh, ow, K, P, p;
    quant__pack_hdr h;
    quant_status st = quant_conv_out_size(s, &oh, &ow);
    if (st != QUANT_OK) return st;
    if (!packed) return QUANT_EINVAL;
    if (!quant__hdr(packed, &h)) return QUANT_EFORMAT;
    K = s->k_h * s->k_w * s->in_c;
    if (h.K != K || h.N != s->out_c) return QUANT_EINVAL;
    if ((st = quant_epilogue_check(ep, s->out_c)) != QUANT_OK) return st;
    if (a_signed ? (a_zp < -128 || a_zp > 127) : (a_zp < 0 || a_zp > 255)) return QUANT_EINVAL;
    P = s->batch * oh * ow;
    if (pix0 > pix1 || pix1 > P) return QUANT_EINVAL;
    if (pix0 == pix1) return QUANT_OK;
    if (!in || !out) return QUANT_EINVAL;
    if ((st = quant__epilogue_rows_check(ep, pix0, pix1)) != QUANT_OK) return st; /* rows are output pixels */
    if (quant__conv_is_1x1(s)) {
        /* the input rows are the GEMM rows (stride 1, no padding) */
        quant__gemm_run(&h, packed, (const uint8_t *)in + pix0 * K, a_signed, K, a_zp, ep, out, s->out_c,
                        pix0, pix1, 0, s->out_c);
        return QUANT_OK;
    }
    if (!workspace || workspace_bytes < quant_conv2d_workspace_size(s)) return QUANT_EINVAL;
#if defined(QUANT__DC)
    if (quant__dc_ok(s)) {
        /* the widened rows are uint32 lanes: 4-byte aligned in the workspace
         * (where a 4-byte aligned workspace starts, so that the bytes it
         * holds afterwards do not depend on its address) */
        uint8_t *wa = (uint8_t *)workspace + ((4u - (unsigned)((uintptr_t)workspace & 3u)) & 3u);
        quant__dconv(s, oh, ow, &h, packed, (const uint8_t *)in, a_signed, a_zp, ep, out, pix0, pix1, wa);
        return QUANT_OK;
    }
#endif
#if defined(QUANT__IKR)
    if (!a_signed && !h.b_zp && s->in_c % 4 == 0 && s->k_h * s->k_w <= QUANT__IKR_TAPS) {
        quant__conv_igemm(s, oh, ow, &h, packed, (const uint8_t *)in, a_zp, ep, out, pix0, pix1, (uint8_t *)workspace);
        return QUANT_OK;
    }
#endif
    for (p = pix0; p < pix1; p += quant__conv_tile(K, oh * ow)) {
        size_t pe = p + quant__conv_tile(K, oh * ow) < pix1 ? p + quant__conv_tile(K, oh * ow) : pix1;
        quant__im2col(s, oh, ow, (const uint8_t *)in, (uint8_t)(a_zp & 0xff), p, pe, (uint8_t *)workspace, quant__im2col_ld(K));
        quant__gemm_run(&h, packed, (const uint8_t *)workspace, a_signed, quant__im2col_ld(K), a_zp, ep, out, s->out_c, p, pe, 0, s->out_c);
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_conv2d(const quant_conv_shape *s, const void *in, int a_signed, int32_t a_zp,
        const void *packed, const quant_epilogue *ep, void *out, void *workspace, size_t workspace_bytes) {
    size_t oh, ow;
    quant_status st = quant_conv_out_size(s, &oh, &ow);
    if (st != QUANT_OK) return st;
    return quant_conv2d_tile(s, in, a_signed, a_zp, packed, ep, out, workspace, workspace_bytes, 0, s->batch * oh * ow);
}

/* depthwise: packed = header (64 bytes) + int32 (w - w_zp) [k_h * k_w][cpad] */
#define QUANT__DW_MAGIC 0x31574451u /* "QDW1" */
typedef struct quant__dw_hdr { uint32_t magic, kh, kw, c, cpad, check; uint32_t pad_[10]; } quant__dw_hdr;

QUANT__INTERNAL uint32_t quant__dw_check(const quant__dw_hdr *h) {
    return (h->magic * 2654435761u) ^ (h->kh * 40503u) ^ (h->kw * 9973u) ^ (h->c * 2246822519u) ^ (h->cpad * 3266489917u);
}

QUANT_DEF size_t quant_dwconv2d_pack_size(const quant_conv_shape *s) {
    size_t oh, ow, cpad;
    if (quant_conv_out_size(s, &oh, &ow) != QUANT_OK || s->in_c != s->out_c) return 0;
    cpad = (s->in_c + QUANT__NR - 1) / QUANT__NR * QUANT__NR;
    if (cpad > SIZE_MAX / 4 / (s->k_h * s->k_w)) return 0;
    return 64 + 4 * cpad * s->k_h * s->k_w;
}

QUANT_DEF quant_status quant_dwconv2d_pack(const int8_t *w, const quant_conv_shape *s, int32_t w_zp,
        void *packed, size_t packed_bytes) {
    size_t need, t, c, taps, oh, ow;
    quant__dw_hdr h;
    int32_t *dst;
    quant_status st;
    if (!s || s->in_c != s->out_c) return QUANT_EINVAL;
    if ((st = quant_conv_out_size(s, &oh, &ow)) != QUANT_OK) return st;
    if (!(need = quant_dwconv2d_pack_size(s))) return QUANT_EOVERFLOW;
    if (!w || !packed || packed_bytes < need || w_zp < -128 || w_zp > 127) return QUANT_EINVAL;
    if ((uintptr_t)packed % 4) return QUANT_EINVAL; /* read as int32 */
    if (s->in_c > 0xffffffffu || s->k_h > 4096 || s->k_w > 4096) return QUANT_ERANGE;
    memset(&h, 0, sizeof h);
    h.magic = QUANT__DW_MAGIC; h.kh = (uint32_t)s->k_h; h.kw = (uint32_t)s->k_w; h.c = (uint32_t)s->in_c;
    h.cpad = (uint32_t)((s->in_c + QUANT__NR - 1) / QUANT__NR * QUANT__NR);
    h.check = quant__dw_check(&h);
    memcpy(packed, &h, sizeof h);
    dst = (int32_t *)((unsigned char *)packed + 64);
    taps = s->k_h * s->k_w;
    for (t = 0; t < taps; t++)
        for (c = 0; c < h.cpad; c++) {
            int32_t v = c < s->in_c ? (int32_t)w[t * s->in_c + c] - w_zp : 0;
            memcpy(dst + t * h.cpad + c, &v, 4);
        }
    return QUANT_OK;
}

/* acc[j] += (in[j] - zp) * wt[j] for j < cnt (cnt <= QUANT__NR) */
static inline void quant__dw_tap(int32_t *acc, const uint8_t *in, int a_signed, int32_t zp, const int32_t *wt, size_t cnt) {
    size_t j = 0;
#if defined(QUANT__VL)
    const quant__vi vz = quant__vi_set32(zp);
    for (; j + QUANT__VL <= cnt; j += QUANT__VL) {
        const quant__vi a = quant__vi_sub32(a_signed ? quant__vi_ld8_32(in + j, 1) : quant__vi_ld8_32(in + j, 0), vz);
        quant__vi_store(acc + j, quant__vi_add32(quant__vi_load(acc + j), quant__vi_mullo32(a, quant__vi_load(wt + j))));
    }
#  if defined(QUANT_HAS_AVX512)
    if (j < cnt) { /* the rest masked (acc and wt have QUANT__NR entries) */
        const __mmask16 k = (__mmask16)((1u << (cnt - j)) - 1u);
        const __m128i b = _mm_maskz_loadu_epi8(k, in + j);
        const __m512i a = _mm512_sub_epi32(a_signed ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b), vz);
        quant__vi_store(acc + j, quant__vi_add32(quant__vi_load(acc + j), quant__vi_mullo32(a, quant__vi_load(wt + j))));
        return;
    }
#  endif
#endif
    for (; j < cnt; j++) acc[j] += ((a_signed ? (int32_t)(int8_t)in[j] : (int32_t)in[j]) - zp) * wt[j];
}

QUANT_DEF quant_status quant_dwconv2d_tile(const quant_conv_shape *s, const void *in, int a_signed, int32_t a_zp,
        const void *packed, const quant_epilogue *ep, void *out, size_t pix0, size_t pix1) {
    size_t oh, ow, P, c0, C;
    quant__dw_hdr h;
    const int32_t *wk;
    quant_status st;
    if (!s || s->in_c != s->out_c) return QUANT_EINVAL;
    if ((st = quant_conv_out_size(s, &oh, &ow)) != QUANT_OK) return st;
    if (!packed || (uintptr_t)packed % 4) return QUANT_EINVAL;
    memcpy(&h, packed, sizeof h);
    if (h.magic != QUANT__DW_MAGIC || h.check != quant__dw_check(&h) || h.kh != s->k_h || h.kw != s->k_w ||
        h.c != s->in_c || h.cpad != (s->in_c + QUANT__NR - 1) / QUANT__NR * QUANT__NR) return QUANT_EFORMAT;
    if ((st = quant_epilogue_check(ep, s->out_c)) != QUANT_OK) return st;
    if (a_signed ? (a_zp < -128 || a_zp > 127) : (a_zp < 0 || a_zp > 255)) return QUANT_EINVAL;
    P = s->batch * oh * ow;
    if (pix0 > pix1 || pix1 > P) return QUANT_EINVAL;
    if (pix0 == pix1) return QUANT_OK;
    if (!in || !out) return QUANT_EINVAL;
    if ((st = quant__epilogue_rows_check(ep, pix0, pix1)) != QUANT_OK) return st; /* rows are output pixels */
    wk = (const int32_t *)((const unsigned char *)packed + 64);
    C = s->in_c;
    for (c0 = 0; c0 < C; c0 += QUANT__NR) {
        size_t cnt = C - c0 < QUANT__NR ? C - c0 : QUANT__NR, p;
        quant__epi_cols ec;
        quant__epi_cols_init(NULL, C, ep, 0u, 0u, c0, &ec);
        for (p = pix0; p < pix1; p++) {
            size_t n = p / (oh * ow), y = (p / ow) % oh, x = p % ow, kh, kw;
            size_t ph0 = y * s->stride_h, pw0 = x * s->stride_w;
            int32_t acc[QUANT__NR];
            const uint8_t *img = (const uint8_t *)in + n * s->in_h * s->in_w * C;
            memset(acc, 0, sizeof acc);
            if (s->k_h == 3 && s->k_w == 3 && s->dil_h == 1 && s->dil_w == 1 && ph0 >= s->pad_top && pw0 >= s->pad_left &&
                ph0 - s->pad_top + 2 < s->in_h && pw0 - s->pad_left + 2 < s->in_w) {
                /* 3x3 interior: nine taps, no bounds checks */
                const uint8_t *r0 = img + ((ph0 - s->pad_top) * s->in_w + (pw0 - s->pad_left)) * C + c0;
                const size_t rs = s->in_w * C;
                const int32_t *w0 = wk + c0;
                const size_t ws = h.cpad;
                quant__dw_tap(acc, r0, a_signed, a_zp, w0, cnt);
                quant__dw_tap(acc, r0 + C, a_signed, a_zp, w0 + ws, cnt);
                quant__dw_tap(acc, r0 + 2 * C, a_signed, a_zp, w0 + 2 * ws, cnt);
                quant__dw_tap(acc, r0 + rs, a_signed, a_zp, w0 + 3 * ws, cnt);
                quant__dw_tap(acc, r0 + rs + C, a_signed, a_zp, w0 + 4 * ws, cnt);
                quant__dw_tap(acc, r0 + rs + 2 * C, a_signed, a_zp, w0 + 5 * ws, cnt);
                quant__dw_tap(acc, r0 + 2 * rs, a_signed, a_zp, w0 + 6 * ws, cnt);
                quant__dw_tap(acc, r0 + 2 * rs + C, a_signed, a_zp, w0 + 7 * ws, cnt);
                quant__dw_tap(acc, r0 + 2 * rs + 2 * C, a_signed, a_zp, w0 + 8 * ws, cnt);
            } else {
                for (kh = 0; kh < s->k_h; kh++) {
                    size_t ph = ph0 + kh * s->dil_h;
                    if (ph < s->pad_top || ph - s->pad_top >= s->in_h) continue;
                    for (kw = 0; kw < s->k_w; kw++) {
                        size_t pw = pw0 + kw * s->dil_w;
                        if (pw < s->pad_left || pw - s->pad_left >= s->in_w) continue;
                        quant__dw_tap(acc, img + ((ph - s->pad_top) * s->in_w + (pw - s->pad_left)) * C + c0, a_signed, a_zp,
                                      wk + (kh * s->k_w + kw) * h.cpad + c0, cnt);
                    }
                }
            }
            quant__epilogue_row(ep, &ec, 0, p, c0, cnt, acc, 0u, out, C);
        }
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_dwconv2d(const quant_conv_shape *s, const void *in, int a_signed, int32_t a_zp,
        const void *packed, const quant_epilogue *ep, void *out) {
    size_t oh, ow;
    quant_status st;
    if (!s) return QUANT_EINVAL;
    if ((st = quant_conv_out_size(s, &oh, &ow)) != QUANT_OK) return st;
    return quant_dwconv2d_tile(s, in, a_signed, a_zp, packed, ep, out, 0, s->batch * oh * ow);
}

/* end of section 4: its local macros */
#undef QUANT__DW_MAGIC
#undef QUANT__IKR_TAPS
#undef QUANT__IM2COL_C1
#undef QUANT__DC
#undef QUANT__DC_MAXK
#undef QUANT__DC_MAXP
#undef QUANT__DC_NV
#undef QUANT__DC_PCH
#undef QUANT__DC_MRP
#undef QUANT__DC_WS
#undef QUANT__DC_FUSE

/* ======================================================================== */
/* 5. binary and ternary kernels (implementation)                           */
/* ======================================================================== */

/* ------------------------------------------------- 5.1 XNOR-popcount GEMM */
/* A vector of 64-bit lanes, per ISA, with two ways to count bits:
 *   QUANT__BV_DIRECT 1: quant__vi_pcadd adds the per-lane popcount to 64-bit
 *     lanes in one instruction (AVX-512 VPOPCNTDQ), used every step;
 *   QUANT__BV_DIRECT 0: quant__vi_cnt8 gives per-byte counts (nibble LUT via
 *     vpshufb, NEON vcnt, SWAR), quant__vi_add8 sums them in bytes for up to
 *     QUANT__BFOLD steps (each step adds <= 8 per byte: 8 * 31 < 256, no
 *     wrap), and quant__vi_fold8 adds the bytes of each 64-bit lane to a
 *     64-bit count once per block (vpsadbw, vpaddl, SWAR).
 * QUANT__BMR / QUANT__BMR_TT: activation rows per micro-kernel call (binary
 * or one ternary operand / ternary x ternary), sized to the register file. */
#define QUANT__BFOLD 31
#define QUANT__BW (QUANT__VB / 8) /* 64-bit lanes a vector */
#if defined(QUANT__VI_PCADD)
#  define QUANT__BV_DIRECT 1
#  define QUANT__BV_CSA 0
#  define QUANT__BMR 6
#  define QUANT__BMR_TT 3
#elif defined(QUANT_HAS_SSE41)
#  define QUANT__BV_DIRECT 0
#  define QUANT__BV_CSA 1
#  if defined(QUANT_HAS_AVX512)
#    define QUANT__BMR 3
#    define QUANT__BMR_TT 2
#  else
#    define QUANT__BMR 1
#    define QUANT__BMR_TT 1
#  endif
#else
#  define QUANT__BV_DIRECT 0
#  define QUANT__BV_CSA 0
#  if defined(__aarch64__) && QUANT__VB == 16
#    define QUANT__BMR 4
#    define QUANT__BMR_TT 2
#  else
#    define QUANT__BMR 2
#    define QUANT__BMR_TT 1
#  endif
#endif
#define QUANT__BNV 4                          /* vectors per panel row           */
/* the micro-kernels' names: tile (activation rows x weight rows) and ISA */
#if defined(QUANT__VI_PCADD)
#  define QUANT__BKR quant__bgemm_6x32__avx512vpopcntdq
#elif defined(QUANT_HAS_AVX512)
#  define QUANT__BKR quant__bgemm_3x32__avx512
#elif defined(QUANT_HAS_AVX2)
#  define QUANT__BKR quant__bgemm_1x16__avx2
#  define QUANT__BTK quant__bgemm_nib_4x64__avx2
#elif defined(QUANT_HAS_SSE41)
#  define QUANT__BKR quant__bgemm_1x8__sse41
#  define QUANT__BTK quant__bgemm_nib_4x32__sse41
#elif defined(QUANT_HAS_NEON) && defined(__aarch64__)
#  define QUANT__BKR quant__bgemm_4x8__neon
#elif defined(QUANT_HAS_NEON)
#  define QUANT__BKR quant__bgemm_2x8__neon
#else
#  define QUANT__BKR quant__bgemm_2x4__scalar
#endif
#define QUANT__BNB (QUANT__BW * QUANT__BNV)   /* weight rows per panel           */

/* Transposed nibble layout for binary weights (SSE4.1, AVX2 and AVX-VNNI
 * builds, where the popcount is a nibble LUT): a panel of QUANT__BTN weight
 * rows (64 on AVX2, 32 on SSE4.1: two vectors) is stored
 * as one byte per (4-bit nibble of K, column): byte = the column's 4 weight
 * bits there, 0..15. For an activation nibble s (sign) with non-zero mask z
 * the count popcount((x ^ s) & z) over the 16 possible weight nibbles x is a
 * 16-byte table (quant__bt_tab, entry z * 16 + s): one vpshufb of that table with
 * the panel's bytes as indices gives the counts of 32 columns (16 on SSE4.1)
 * at once, and one vpaddb accumulates them. Binary activations use z = 0xf (0 past the
 * real K: padding never counts, whatever the caller left there); ternary
 * activations their non-zero plane. On AVX2, within each 32-byte group,
 * columns 8..15 and 16..23 swap places, so the in-lane byte -> 16-bit unpack
 * gives the counts in column order. These panels (QUANT__BTN columns, 16 bytes per
 * word of K and column) follow the word panels, at nz_off (binary weights
 * have no non-zero plane); fewer than QUANT__BTMR rows (GEMV: bandwidth)
 * read the word panels, half the bytes. Ternary weights get two such bytes
 * per step and column, after their non-zero plane: the nibble of the +1
 * weights (z & ~s), then of the -1 weights (z & s), 2 x QUANT__BTN bytes a
 * step. With the same table, popcount((x ^ s) & z) = L(x) + popcount(s & z)
 * where L(x) = sum over the nibble of x_k a_k (a_k the activation, +-1 or 0),
 * so count(plus) - count(minus) = L(plus) - L(minus) is the step's dot
 * product exactly: two vpshufb a step, a vpaddb and a vpsubb, signed bytes
 * (|step| <= 4) widened every 31 steps. */
#if (defined(QUANT_HAS_AVX2) && !defined(QUANT_HAS_AVX512)) || defined(QUANT_ISA_SSE41)
#  define QUANT__BT 1 /* on the vector layer of section 1.1 */
#  define QUANT__BTVB (4 * QUANT__VL) /* bytes a vector */
#else
#  define QUANT__BT 0
#endif
#if QUANT__BT
#  define QUANT__BTN (2 * QUANT__BTVB) /* columns per transposed panel (2 vectors) */
#else
#  define QUANT__BTN 64
#endif
#define QUANT__BTMR 4 /* activation rows per micro-kernel call (QUANT__BTK's cases) */
#define QUANT__BTNV (QUANT__BT ? QUANT__BTN / QUANT__BTVB : 2)
#define QUANT__BTKW 126 /* words of K per call: 2016 nibble steps, so the
                           uint16 counts of one call stay below 2^16        */
/* the byte of column c (0..QUANT__BTN-1) in a step of a transposed panel */
#if QUANT__BT && QUANT__BTVB == 32
#  define QUANT__BT_POS(c) ((((c) >> 3) & 3) == 1 || (((c) >> 3) & 3) == 2 ? (c) ^ 0x18 : (c))
#else
#  define QUANT__BT_POS(c) (c)
#endif
/* binary weights' panel width for this build */
#define QUANT__BPW (QUANT__BT ? QUANT__BTN : QUANT__BNB)

#define QUANT__BIN_MAGIC 0x314e4251u /* "QBN1" */
typedef struct quant__bin_hdr {
    uint32_t magic, isa, K, N, wk, ternary, nb, npanels;
    uint32_t colpc_off, sign_off, nz_off, total_lo, total_hi, check, pad_[2];
} quant__bin_hdr;

/* the valid bits of the last word of an n-bit packed row (all ones when n
 * is a multiple of 64), and the bits past n of such a row cleared */
QUANT__INTERNAL uint64_t quant__bits_keep(size_t n) { return n % 64 ? ((uint64_t)1 << (n % 64)) - 1 : ~(uint64_t)0; }
QUANT__INTERNAL void quant__bits_clear_tail(uint64_t *row, size_t n) {
    uint64_t w;
    if (!(n % 64)) return;
    memcpy(&w, row + n / 64, 8);
    w &= quant__bits_keep(n);
    memcpy(row + n / 64, &w, 8);
}
/* the set bits among the first n bits of a packed row */
QUANT__INTERNAL int64_t quant__bits_count(const uint64_t *row, size_t n) {
    const size_t wk = quant_bits_words(n);
    size_t w;
    int64_t c = 0;
    for (w = 0; w < wk; w++) c += quant__popcount64(row[w] & (w + 1 == wk ? quant__bits_keep(n) : ~(uint64_t)0));
    return c;
}

QUANT__INTERNAL uint32_t quant__bin_check(const quant__bin_hdr *h) { return quant__blob_fnv((const uint8_t *)(const void *)h, 52); }

/* fills the geometry of packed binary weights; returns their size, 0 if too large */
QUANT__INTERNAL size_t quant__bin_geom(size_t K, size_t N, int ternary, quant__bin_hdr *h) {
    size_t wk, np, cp, so, no, tot, plane;
    if (!K || !N || K > ((size_t)1 << 30) || N > ((size_t)1 << 26)) return 0;
    const size_t nb = QUANT__BNB, np2 = (N + QUANT__BTN - 1) / QUANT__BTN;
    wk = quant_bits_words(K);
    np = (N + nb - 1) / nb;
    if (wk > SIZE_MAX / 8 / nb / np || (QUANT__BT && wk > SIZE_MAX / 32 / QUANT__BTN / np2)) return 0;
    plane = np * wk * nb * 8;
    cp = 64; so = cp + ((np * nb * 4 + 63) / 64) * 64;
    no = so + plane;
    if (no < so) return 0;
    /* the nz plane (ternary), then the nibble panels (SSE4.1 / AVX2 builds: 1
       byte a step and column, 2 for ternary); every sum checked (32-bit size_t) */
    tot = no;
    if (ternary) { if (tot + plane < tot) return 0; tot += plane; }
    if (QUANT__BT) {
        const size_t pb = np2 * wk * 16 * QUANT__BTN * (ternary ? 2 : 1);
        if (tot + pb < tot) return 0;
        tot += pb;
    }
    memset(h, 0, sizeof *h);
    h->magic = QUANT__BIN_MAGIC; h->isa = QUANT__ISA_ID * 16u + (uint32_t)QUANT__BW; h->K = (uint32_t)K; h->N = (uint32_t)N;
    h->wk = (uint32_t)wk; h->ternary = (uint32_t)(ternary != 0); h->nb = (uint32_t)nb; h->npanels = (uint32_t)np;
    h->colpc_off = (uint32_t)cp; h->sign_off = (uint32_t)so; h->nz_off = (uint32_t)no;
    h->total_lo = (uint32_t)tot; h->total_hi = (uint32_t)((uint64_t)tot >> 32);
    if ((uint64_t)so != h->sign_off || (uint64_t)no != h->nz_off) return 0;
    h->check = quant__bin_check(h);
    return tot;
}

/* where the transposed nibble panels start (SSE4.1 / AVX2 builds) */
#define QUANT__BT_OFF(h) ((size_t)(h)->nz_off + ((h)->ternary ? (size_t)(h)->npanels * (h)->wk * (h)->nb * 8 : 0))

QUANT_DEF size_t quant_bgemm_pack_size(size_t K, size_t N, int ternary) {
    quant__bin_hdr h;
    return quant__bin_geom(K, N, ternary, &h);
}

QUANT_DEF quant_status quant_bgemm_pack(const uint64_t *w_sign, const uint64_t *w_nonzero, size_t N, size_t K,
        void *packed, size_t packed_bytes) {
    quant__bin_hdr h;
    size_t p, w, j, total;
    unsigned char *dst = (unsigned char *)packed;
    const uint64_t keep = quant__bits_keep(K); /* padding bits are 0, whatever the caller left there */
    if (!w_sign || !packed) return QUANT_EINVAL;
    if (!(total = quant__bin_geom(K, N, w_nonzero != NULL, &h))) return K && N ? QUANT_EOVERFLOW : QUANT_EINVAL;
    if (packed_bytes < total) return QUANT_EINVAL;
    memcpy(dst, &h, sizeof h);
    for (j = 0; j < (size_t)h.npanels * QUANT__BNB; j++) { /* (padding bits never count) */
        const uint32_t pc = j < N && w_nonzero ? (uint32_t)quant__bits_count(w_nonzero + j * h.wk, K) : 0;
        memcpy(dst + h.colpc_off + 4 * j, &pc, 4);
    }
#if QUANT__BT
    {   /* transposed nibbles: the sign plane (binary), or the +1 and -1 planes */
        const size_t off = QUANT__BT_OFF(&h), tb = w_nonzero ? 2 : 1;
        memset(dst + off, 0, total - off);
        for (j = 0; j < N; j++) {
            unsigned char *q = dst + off + (j / QUANT__BTN) * h.wk * 16 * QUANT__BTN * tb + QUANT__BT_POS(j % QUANT__BTN);
            for (w = 0; w < h.wk; w++) {
                uint64_t s = w_sign[j * h.wk + w], z = w_nonzero ? w_nonzero[j * h.wk + w] : 0, plus;
                int n4;
                if (w == h.wk - 1) { s &= keep; z &= keep; }
                plus = w_nonzero ? z & ~s : s;
                s &= z;
                for (n4 = 0; n4 < 16; n4++) {
                    unsigned char *b = q + (w * 16 + (size_t)n4) * QUANT__BTN * tb;
                    b[0] = (unsigned char)((plus >> (4 * n4)) & 15);
                    if (w_nonzero) b[QUANT__BTN] = (unsigned char)((s >> (4 * n4)) & 15);
                }
            }
        }
    }
#endif
    for (p = 0; p < h.npanels; p++)
        for (w = 0; w < h.wk; w++)
            for (j = 0; j < QUANT__BNB; j++) {
                size_t n = p * QUANT__BNB + j, off = ((p * h.wk + w) * QUANT__BNB + j) * 8;
                uint64_t s = n < N ? w_sign[n * h.wk + w] : 0, z = n < N && w_nonzero ? w_nonzero[n * h.wk + w] : 0;
                if (w == h.wk - 1) { s &= keep; z &= keep; }
                if (w_nonzero) s &= z; /* a zero weight has no sign */
                memcpy(dst + h.sign_off + off, &s, 8);
                if (w_nonzero) memcpy(dst + h.nz_off + off, &z, 8);
            }
    return QUANT_OK;
}

QUANT__INTERNAL const quant__bin_hdr *quant__bin_hdr_get(const void *packed, quant__bin_hdr *h) {
    quant__bin_hdr g;
    if (!packed) return NULL;
    memcpy(h, packed, sizeof *h);
    if (h->magic != QUANT__BIN_MAGIC || h->check != quant__bin_check(h)) return NULL;
    if (!quant__bin_geom(h->K, h->N, (int)h->ternary, &g) || memcmp(&g, h, sizeof g) != 0) return NULL;
    return h;
}

/* The counts of one panel for MR rows: c1 = popcount of the disagreeing
 * non-zero bits, c2 = popcount of the common non-zero bits (TT only).
 * Register tile: MR rows x QUANT__BNV vectors of weight rows, accumulated in
 * registers over all of K and stored once. The activation words are taken
 * as they are, padding bits included (broadcast straight from memory); the
 * packed weights' padding bits are 0, so garbage there only adds
 * popcount(a & ~mask) (binary) or popcount(a & za & ~mask) (ternary
 * activations) to every column of a row, which the driver takes back out. */
/* acc + the bit counts of x: the 64-bit lanes' popcounts (QUANT__BV_DIRECT),
 * else the bytes' counts added in bytes (folded by the caller) */
QUANT__AINL quant__vi quant__bv_count(quant__vi acc, quant__vi x) {
    return QUANT__BV_DIRECT ? quant__vi_pcadd(acc, x) : quant__vi_add8(acc, quant__vi_cnt8(x));
}
#define QUANT__BSTEP(W)                                                                                 \
    do {                                                                                                \
        quant__vi ws_[QUANT__BNV], wz_[QUANT__BNV];                                                     \
        QUANT__UNROLL                                                                                   \
        for (v = 0; v < QUANT__BNV; v++) {                                                              \
            ws_[v] = quant__vi_load(ps + (W) * QUANT__BNB + v * QUANT__BW);                             \
            wz_[v] = TW ? quant__vi_load(pz + (W) * QUANT__BNB + v * QUANT__BW) : ws_[v];               \
        }                                                                                               \
        QUANT__UNROLL                                                                                   \
        for (r = 0; r < MR; r++) {                                                                      \
            const quant__vi a_ = quant__vi_set64(as[(size_t)r * lda + (W)]);                            \
            const quant__vi za_ = TA ? quant__vi_set64(az[(size_t)r * lda + (W)]) : a_;                 \
            QUANT__UNROLL                                                                               \
            for (v = 0; v < QUANT__BNV; v++) {                                                          \
                quant__vi x_ = quant__vi_xor(a_, ws_[v]), m_ = x_;                                      \
                if (TA && TW) {                                                                         \
                    /* direct: m counted first, then masked in place (no register copy for the         \
                     * 3-input op); else the order of the two-operand ops that needs no copies */     \
                    m_ = quant__vi_and(za_, wz_[v]);                                                    \
                    if (QUANT__BV_DIRECT) acc2[TA && TW ? r : 0][v] = quant__bv_count(acc2[TA && TW ? r : 0][v], m_); \
                    x_ = QUANT__BV_DIRECT ? quant__vi_andxor(m_, a_, ws_[v]) : quant__vi_and(x_, m_);   \
                } else if (TA) x_ = quant__vi_and(x_, za_);                                             \
                else if (TW) x_ = quant__vi_and(x_, wz_[v]);                                            \
                acc[r][v] = quant__bv_count(acc[r][v], x_);                                             \
                if (TA && TW && !QUANT__BV_DIRECT) acc2[TA && TW ? r : 0][v] = quant__bv_count(acc2[TA && TW ? r : 0][v], m_); \
            }                                                                                           \
        }                                                                                               \
    } while (0)

QUANT__AINL void quant__bgemm_body(const int MR, const int TA, const int TW,
        size_t wk, const uint64_t *as, const uint64_t *az, size_t lda, const uint64_t *ps,
        const uint64_t *pz, uint64_t *c1, uint64_t *c2) {
    quant__vi acc[QUANT__BMR][QUANT__BNV], acc2[QUANT__BMR_TT][QUANT__BNV]; /* acc2: TT only (r < QUANT__BMR_TT) */
    const size_t fold = QUANT__BV_DIRECT ? wk : QUANT__BFOLD;
    size_t w, w0;
    int r, v;
    if (QUANT__BV_CSA && !(TA && TW)) {
        /* pairs of words through a carry-save adder: ones ^= x0 ^ x1 and
         * only the carry (weight 2) is counted, one popcount per two words;
         * each block of 2 * QUANT__BFOLD words adds <= 8 per byte and pair */
        quant__vi ones[QUANT__BMR][QUANT__BNV];
        for (r = 0; r < MR * QUANT__BNB; r++) c1[r] = 0;
        for (w0 = 0; w0 < wk; w0 += 2 * QUANT__BFOLD) {
            size_t w1 = wk - w0 < 2 * QUANT__BFOLD ? wk : w0 + 2 * QUANT__BFOLD;
            QUANT__UNROLL
            for (r = 0; r < MR; r++)
                QUANT__UNROLL
                for (v = 0; v < QUANT__BNV; v++) { acc[r][v] = quant__vi_zero(); ones[r][v] = quant__vi_zero(); }
            for (w = w0; w < w1; w += 2) {
                const int pair = w + 1 < w1;
                QUANT__UNROLL
                for (v = 0; v < QUANT__BNV; v++) {
                    const uint64_t *p0 = ps + w * QUANT__BNB + v * QUANT__BW, *z0 = TW ? pz + w * QUANT__BNB + v * QUANT__BW : p0; /* (pz is NULL for binary weights) */
                    const quant__vi ws0 = quant__vi_load(p0), wz0 = TW ? quant__vi_load(z0) : ws0;
                    QUANT__UNROLL
                    for (r = 0; r < MR; r++) {
                        quant__vi x0 = quant__vi_xor(quant__vi_set64(as[(size_t)r * lda + w]), ws0);
                        if (TA) x0 = quant__vi_and(x0, quant__vi_set64(az[(size_t)r * lda + w]));
                        if (TW) x0 = quant__vi_and(x0, wz0);
                        if (pair) {
                            const quant__vi ws1 = quant__vi_load(p0 + QUANT__BNB);
                            quant__vi x1 = quant__vi_xor(quant__vi_set64(as[(size_t)r * lda + w + 1]), ws1), u;
                            if (TA) x1 = quant__vi_and(x1, quant__vi_set64(az[(size_t)r * lda + w + 1]));
                            if (TW) x1 = quant__vi_and(x1, quant__vi_load(z0 + QUANT__BNB));
                            u = quant__vi_xor(ones[r][v], x0);
                            acc[r][v] = quant__vi_add8(acc[r][v], quant__vi_cnt8(quant__vi_or(quant__vi_and(ones[r][v], x0), quant__vi_and(u, x1))));
                            ones[r][v] = quant__vi_xor(u, x1);
                        } else {
                            acc[r][v] = quant__vi_add8(acc[r][v], quant__vi_cnt8(quant__vi_and(ones[r][v], x0)));
                            ones[r][v] = quant__vi_xor(ones[r][v], x0);
                        }
                    }
                }
            }
            QUANT__UNROLL
            for (r = 0; r < MR; r++)
                QUANT__UNROLL
                for (v = 0; v < QUANT__BNV; v++) { /* 2 carries + ones */
                    uint64_t *q1 = c1 + r * QUANT__BNB + v * QUANT__BW;
                    quant__vi t = quant__vi_fold8(quant__vi_load(q1), acc[r][v]);
                    quant__vi_store(q1, quant__vi_fold8(quant__vi_fold8(t, acc[r][v]), quant__vi_cnt8(ones[r][v])));
                }
        }
        return;
    }
    /* the counts in registers for `fold` words (QUANT__BV_DIRECT: all of K,
     * stored once; else byte counts, folded into the 64-bit counts in c1 / c2) */
    if (!QUANT__BV_DIRECT)
        for (r = 0; r < MR * QUANT__BNB; r++) { c1[r] = 0; if (TA && TW) c2[r] = 0; }
    for (w0 = 0; w0 < wk; w0 += fold) {
        size_t w1 = wk - w0 < fold ? wk : w0 + fold;
        QUANT__UNROLL
        for (r = 0; r < MR; r++)
            QUANT__UNROLL
            for (v = 0; v < QUANT__BNV; v++) { acc[r][v] = quant__vi_zero(); if (TA && TW) acc2[TA && TW ? r : 0][v] = quant__vi_zero(); }
        for (w = w0; w < w1; w++) QUANT__BSTEP(w);
        QUANT__UNROLL
        for (r = 0; r < MR; r++)
            QUANT__UNROLL
            for (v = 0; v < QUANT__BNV; v++) {
                uint64_t *q1 = c1 + r * QUANT__BNB + v * QUANT__BW;
                quant__vi_store(q1, QUANT__BV_DIRECT ? acc[r][v] : quant__vi_fold8(quant__vi_load(q1), acc[r][v]));
                if (TA && TW) { /* c2 is NULL otherwise: no offset from it */
                    uint64_t *q2 = c2 + r * QUANT__BNB + v * QUANT__BW;
                    const quant__vi a2 = acc2[TA && TW ? r : 0][v];
                    quant__vi_store(q2, QUANT__BV_DIRECT ? a2 : quant__vi_fold8(quant__vi_load(q2), a2));
                }
            }
    }
}
#undef QUANT__BSTEP

#define QUANT__BKR_CASE(N_, TA, TW)                                                                     \
    case N_:                                                                                            \
        if (N_ <= (TA && TW ? QUANT__BMR_TT : QUANT__BMR))                                              \
            quant__bgemm_body(N_ <= (TA && TW ? QUANT__BMR_TT : QUANT__BMR) ? N_ : 1, TA, TW, wk, as, az, lda, ps, pz, c1, c2); \
        break;
#define QUANT__BKR_MR(TA, TW)                                                                           \
    switch (mr) {                                                                                       \
    QUANT__BKR_CASE(2, TA, TW) QUANT__BKR_CASE(3, TA, TW) QUANT__BKR_CASE(4, TA, TW)                   \
    QUANT__BKR_CASE(5, TA, TW) QUANT__BKR_CASE(6, TA, TW)                                              \
    default: quant__bgemm_body(1, TA, TW, wk, as, az, lda, ps, pz, c1, c2); break;             \
    }
static void QUANT__BKR(size_t mr, int ta, int tw, size_t wk, const uint64_t *as, const uint64_t *az,
        size_t lda, const uint64_t *ps, const uint64_t *pz, uint64_t *c1, uint64_t *c2) {
    if (ta && tw) { QUANT__BKR_MR(1, 1) }
    else if (ta) { QUANT__BKR_MR(1, 0) }
    else if (tw) { QUANT__BKR_MR(0, 1) }
    else { QUANT__BKR_MR(0, 0) }
}
#undef QUANT__BKR_MR
#undef QUANT__BKR_CASE

#if QUANT__BT
#define QUANT__BTP4(v) (((v) & 1) + (((v) >> 1) & 1) + (((v) >> 2) & 1) + (((v) >> 3) & 1))
#define QUANT__BTE(t, x) (uint8_t)QUANT__BTP4(((x) ^ ((t) & 15)) & ((t) >> 4))
#define QUANT__BTT(t) QUANT__BTE(t, 0), QUANT__BTE(t, 1), QUANT__BTE(t, 2), QUANT__BTE(t, 3), QUANT__BTE(t, 4),     \
    QUANT__BTE(t, 5), QUANT__BTE(t, 6), QUANT__BTE(t, 7), QUANT__BTE(t, 8), QUANT__BTE(t, 9), QUANT__BTE(t, 10),  \
    QUANT__BTE(t, 11), QUANT__BTE(t, 12), QUANT__BTE(t, 13), QUANT__BTE(t, 14), QUANT__BTE(t, 15)
#define QUANT__BTT2(t) QUANT__BTT(t), QUANT__BTT(t) /* both 128-bit lanes */
#define QUANT__BTT4(t) QUANT__BTT2(t), QUANT__BTT2(t + 1), QUANT__BTT2(t + 2), QUANT__BTT2(t + 3)
#define QUANT__BTT16(t) QUANT__BTT4(t), QUANT__BTT4(t + 4), QUANT__BTT4(t + 8), QUANT__BTT4(t + 12)
/* quant__bt_tab[(z * 16 + s) * 32 + x] = popcount((x ^ s) & z), x, s, z
 * nibbles; each table twice (a whole ymm: a plain load, no lane broadcast) */
static const uint8_t quant__bt_tab[256 * 32] = {
    QUANT__BTT16(0), QUANT__BTT16(16), QUANT__BTT16(32), QUANT__BTT16(48), QUANT__BTT16(64), QUANT__BTT16(80),
    QUANT__BTT16(96), QUANT__BTT16(112), QUANT__BTT16(128), QUANT__BTT16(144), QUANT__BTT16(160), QUANT__BTT16(176),
    QUANT__BTT16(192), QUANT__BTT16(208), QUANT__BTT16(224), QUANT__BTT16(240)
};
#undef QUANT__BTT16
#undef QUANT__BTT4
#undef QUANT__BTT2
#undef QUANT__BTT
#undef QUANT__BTE
#undef QUANT__BTP4


/* The table byte offsets of words [w0, w0 + nw) of mr rows, 16 per word:
 * offs[r * QUANT__BTKW * 16 + step]. az NULL: binary (z = all ones). Word
 * `wlast` (absolute) has its bits past the real K masked out of z. */
QUANT__INTERNAL void quant__bt_offs(size_t mr, const uint64_t *as, const uint64_t *az, size_t lda, size_t w0, size_t nw,
        size_t wlast, uint64_t lastmask, uint16_t *offs) {
    size_t r, i;
    for (r = 0; r < mr; r++)
        for (i = 0; i < nw; i++) {
            uint64_t s = as[r * lda + w0 + i], z = az ? az[r * lda + w0 + i] : ~(uint64_t)0;
            uint16_t *o = offs + r * QUANT__BTKW * 16 + i * 16;
            if (w0 + i == wlast) z &= lastmask;
            {   /* nibble q of s and z in byte q, then 32 (z << 4 | s) as uint16 */
                const __m128i m4 = _mm_set1_epi8(0x0f);
                const __m128i xs = _mm_set_epi64x(0, (long long)s), xz = _mm_set_epi64x(0, (long long)z);
                const __m128i ns = _mm_unpacklo_epi8(_mm_and_si128(xs, m4), _mm_and_si128(_mm_srli_epi16(xs, 4), m4));
                const __m128i nz = _mm_unpacklo_epi8(_mm_and_si128(xz, m4), _mm_and_si128(_mm_srli_epi16(xz, 4), m4));
                const __m128i t = _mm_or_si128(ns, _mm_slli_epi16(nz, 4)); /* nz < 16: no bits cross bytes */
#if QUANT__BTVB == 32
                _mm256_storeu_si256((__m256i *)(void *)o, _mm256_slli_epi16(_mm256_cvtepu8_epi16(t), 5));
#else
                _mm_storeu_si128((__m128i *)(void *)o, _mm_slli_epi16(_mm_cvtepu8_epi16(t), 5));
                _mm_storeu_si128((__m128i *)(void *)(o + 8), _mm_slli_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(t, 8)), 5));
#endif
            }
        }
}

/* GCC otherwise copies every accumulator to another register each step
 * (vpaddb into a fresh register, then vmovdqa back): one extra vector uop per
 * vpshufb. An empty asm that keeps the value in place stops it. */
#if defined(__GNUC__) && !defined(__clang__) && !defined(QUANT_NO_ASM)
#  define QUANT__BT_PIN(x) __asm__ volatile("" : "+x"(x))
#  define QUANT__BT_REG(x) __asm__("" : "+x"(x))
#else
#  define QUANT__BT_PIN(x) ((void)0)
#  define QUANT__BT_REG(x) ((void)0)
#endif
/* ... and keeps the uint16 counts in registers too (16 ymm of them), short of
 * registers for the tile: they are memory. */
#if defined(__GNUC__) || defined(__clang__)
#  define QUANT__BT_MEM(p) __asm__ volatile("" : : "r"(p) : "memory")
#else
#  define QUANT__BT_MEM(p) ((void)0)
#endif

/* cnt[r * QUANT__BTN + c] += the count of rows r < MR against the panel's
 * columns over ns <= QUANT__BTKW * 16 steps starting at wp. Byte counts
 * (<= 4 a step) in registers for 63 steps, then uint16 on the stack.
 * TW (ternary weights, two bytes a step): the signed dot, count(+1 plane) -
 * count(-1 plane), |step| <= 4 in signed bytes for 31 steps, then int16
 * (|sum| <= 4 x 2016 steps) and int32 (cnt holds int32 bits then). */
QUANT__AINL void quant__bgemm_nib_body(const int MR, const int TW, size_t ns,
        const uint16_t *offs, const uint8_t *wp, uint32_t *cnt) {
    quant__vi acc[QUANT__BTMR][QUANT__BTNV];
    uint16_t c16[QUANT__BTMR * QUANT__BTN];
    const quant__vi zero = quant__vi_zero();
    const size_t fold = TW ? 31 : 63, sb = (size_t)(TW ? 2 : 1) * QUANT__BTN; /* steps a fold, bytes a step */
    size_t s0, s;
    int r, j;
    memset(c16, 0, sizeof c16);
    for (s0 = 0; s0 < ns; s0 += fold) {
        const size_t s1 = ns - s0 < fold ? ns : s0 + fold;
        QUANT__UNROLL
        for (r = 0; r < MR; r++)
            QUANT__UNROLL
            for (j = 0; j < QUANT__BTNV; j++) acc[r][j] = zero;
#define QUANT__BT_STEP(S)                                                                                \
        do {                                                                                             \
            quant__vi w[QUANT__BTNV], wm[QUANT__BTNV];                                                  \
            QUANT__UNROLL                                                                                \
            for (j = 0; j < QUANT__BTNV; j++) {                                                          \
                w[j] = quant__vi_load(wp + (S) * sb + QUANT__BTVB * j);                                 \
                QUANT__BT_REG(w[j]); /* one load, not one folded into each vpshufb (-mtune=znver3) */   \
                if (TW) { wm[j] = quant__vi_load(wp + (S) * sb + QUANT__BTN + QUANT__BTVB * j); QUANT__BT_REG(wm[j]); } \
            }                                                                                            \
            QUANT__UNROLL                                                                                \
            for (r = 0; r < MR; r++) {                                                                   \
                const quant__vi t = quant__vi_load(quant__bt_tab + offs[(size_t)r * QUANT__BTKW * 16 + (S)]); \
                QUANT__UNROLL                                                                            \
                for (j = 0; j < QUANT__BTNV; j++) {                                                      \
                    acc[r][j] = quant__vi_add8(quant__vi_shuf8(t, w[j]), acc[r][j]);                    \
                    if (TW) acc[r][j] = quant__vi_sub8(acc[r][j], quant__vi_shuf8(t, wm[j]));           \
                    QUANT__BT_PIN(acc[r][j]);                                                            \
                }                                                                                        \
            }                                                                                            \
        } while (0)
        for (s = s0; s + 1 < s1; s += 2) { QUANT__BT_STEP(s); QUANT__BT_STEP(s + 1); }
        if (s < s1) QUANT__BT_STEP(s);
#undef QUANT__BT_STEP
        QUANT__UNROLL
        for (r = 0; r < MR; r++)
            QUANT__UNROLL
            for (j = 0; j < QUANT__BTNV; j++) {
                uint16_t *q = c16 + r * QUANT__BTN + QUANT__BTVB * j;
                const quant__vi hi = TW ? quant__vi_sign8(acc[r][j]) : zero; /* sign or zero extension */
                quant__vi_store(q, quant__vi_add16(quant__vi_load(q), quant__vi_unpacklo8(acc[r][j], hi)));
                quant__vi_store(q + QUANT__BTVB / 2, quant__vi_add16(quant__vi_load(q + QUANT__BTVB / 2), quant__vi_unpackhi8(acc[r][j], hi)));
            }
        QUANT__BT_MEM(c16);
    }
    for (r = 0; r < MR * QUANT__BTN; r++) cnt[r] += TW ? (uint32_t)(int16_t)c16[r] : c16[r]; /* (vectorized) */
}

/* mr (1..QUANT__BTMR) and tw, constants in each body */
static void QUANT__BTK(size_t mr, int tw, size_t ns, const uint16_t *offs, const uint8_t *wp, uint32_t *cnt) {
#define QUANT__BTK_MR(R) case 2 * (R): quant__bgemm_nib_body(R, 0, ns, offs, wp, cnt); break; \
                         case 2 * (R) + 1: quant__bgemm_nib_body(R, 1, ns, offs, wp, cnt); break;
    switch (mr * 2 + (tw != 0)) {
    QUANT__BTK_MR(4) QUANT__BTK_MR(3) QUANT__BTK_MR(2)
    case 3: quant__bgemm_nib_body(1, 1, ns, offs, wp, cnt); break;
    default: quant__bgemm_nib_body(1, 0, ns, offs, wp, cnt); break;
    }
#undef QUANT__BTK_MR
}

/* counts of mr <= QUANT__BTMR rows against one transposed panel (its step 0
 * at wp; tw: ternary weights' two planes) over words [w0, w0 + nw) of K
 * (relative to the rows and the panel); cnt += */
QUANT__INTERNAL void quant__bt_counts(size_t mr, int tw, const uint64_t *as, const uint64_t *az, size_t lda, size_t nw,
        size_t nsteps, size_t wlast, uint64_t lastmask, const uint8_t *wp, uint32_t *cnt) {
    uint16_t offs[QUANT__BTMR * QUANT__BTKW * 16];
    size_t w0;
    for (w0 = 0; w0 < nw; w0 += QUANT__BTKW) {
        size_t n = nw - w0 < QUANT__BTKW ? nw - w0 : QUANT__BTKW, ns = nsteps - 16 * w0 < 16 * n ? nsteps - 16 * w0 : 16 * n;
        quant__bt_offs(mr, as, az, lda, w0, n, wlast, lastmask, offs);
        QUANT__BTK(mr, tw, ns, offs, wp + 16 * w0 * QUANT__BTN * (tw ? 2 : 1), cnt);
    }
}
#endif

/* bytes of one output element (ldc unit) of a checked binary epilogue */
QUANT__INTERNAL size_t quant__bep_esize(const quant_bepilogue *ep) { return ep->out == QUANT_BOUT_BITS ? 8 : 4; }

/* the output of row m, columns [n0, n0 + cnt) from their dot products */
QUANT__INTERNAL void quant__bep_row(const quant_bepilogue *ep, size_t m, size_t n0, size_t cnt, const int32_t *dot,
        void *C, size_t ldc) {
    size_t j;
    switch (ep->out) {
    case QUANT_BOUT_I32:
        memcpy((unsigned char *)C + 4 * (m * ldc + n0), dot, 4 * cnt);
        break;
    case QUANT_BOUT_F32:
        for (j = 0; j < cnt; j++) {
            float y = fmaf((float)dot[j], ep->scale[n0 + j], ep->bias ? ep->bias[n0 + j] : 0.0f);
            memcpy((unsigned char *)C + 4 * (m * ldc + n0 + j), &y, 4);
        }
        break;
    case QUANT_BOUT_BITS: {
        uint64_t *row = (uint64_t *)C + m * ldc;
        for (j = 0; j < cnt; j++) {
            size_t n = n0 + j;
            int b = (ep->flip && ep->flip[n]) ? dot[j] >= ep->thresh[n] : dot[j] < ep->thresh[n];
            uint64_t word, bitm = (uint64_t)1 << (n % 64);
            memcpy(&word, row + n / 64, 8);
            word = b ? word | bitm : word & ~bitm;
            memcpy(row + n / 64, &word, 8);
        }
    } break;
    }
}

/* d[j] = (int32_t)(b - 2 q[j]) for the QUANT__BNB columns of a panel (GCC
 * vectorizes it: the low halves of the 64-bit counts, 32-bit arithmetic) */
static inline void quant__bdot(int64_t b, const uint64_t *q, int32_t *d) {
    size_t j;
    for (j = 0; j < QUANT__BNB; j++) d[j] = (int32_t)(b - 2 * (int64_t)q[j]);
}

/* Bytes of packed weights per block of panels: the block stays in L2 while
 * every row block of A passes over it. */
#define QUANT__BCHUNK ((size_t)256 << 10)

QUANT__INTERNAL void quant__bgemm_run(const quant__bin_hdr *h, const void *packed, size_t m0, size_t m1,
        const uint64_t *as, const uint64_t *az, size_t lda, const quant_bepilogue *ep, void *C, size_t ldc) {
    const unsigned char *base = (const unsigned char *)packed;
    size_t p, pc0, pchunk, m, K = h->K, N = h->N, wk = h->wk;
    int ta = az != NULL, tw = h->ternary != 0, direct;
    const size_t mrmax = ta && tw ? QUANT__BMR_TT : QUANT__BMR;
    const uint64_t lastmask = quant__bits_keep(K);
    if (ep->out == QUANT_BOUT_BITS) /* zero the padding bits of each output row */
        for (m = m0; m < m1; m++) quant__bits_clear_tail((uint64_t *)C + m * ldc, N);
#if QUANT__BT
    if (m1 - m0 >= QUANT__BTMR) { /* transposed nibble panels (fewer rows: the word panels, half the bytes) */
        const size_t nsteps = (K + 3) / 4, pbytes = wk * 16 * QUANT__BTN * (tw ? 2 : 1), np2 = (N + QUANT__BTN - 1) / QUANT__BTN;
        const uint8_t *wbase = base + QUANT__BT_OFF(h);
        uint16_t offs[QUANT__BTMR * QUANT__BTKW * 16];
        pchunk = QUANT__BCHUNK / pbytes;
        if (!pchunk) pchunk = 1;
        for (pc0 = 0; pc0 < np2; pc0 += pchunk) {
            size_t pc1 = np2 - pc0 < pchunk ? np2 : pc0 + pchunk;
            for (m = m0; m < m1; m += QUANT__BTMR) {
                size_t mr = m1 - m < QUANT__BTMR ? m1 - m : QUANT__BTMR, r, j;
                const uint64_t *ar = as + (m - m0) * lda, *zr = ta ? az + (m - m0) * lda : NULL;
                int64_t pza[QUANT__BTMR];
                for (r = 0; r < mr; r++) pza[r] = ta ? quant__bits_count(zr + r * lda, K) : (int64_t)K;
                if (wk <= QUANT__BTKW) quant__bt_offs(mr, ar, zr, lda, 0, wk, wk - 1, lastmask, offs); /* once for all panels */
                for (p = pc0; p < pc1; p++) {
                    uint32_t cnt[QUANT__BTMR * QUANT__BTN];
                    int32_t dot[QUANT__BTN];
                    const uint8_t *wp = wbase + p * pbytes;
                    size_t n0 = p * QUANT__BTN, cn = N - n0 < QUANT__BTN ? N - n0 : QUANT__BTN;
                    memset(cnt, 0, sizeof cnt);
                    if (wk <= QUANT__BTKW) QUANT__BTK(mr, tw, nsteps, offs, wp, cnt);
                    else quant__bt_counts(mr, tw, ar, zr, lda, wk, nsteps, wk - 1, lastmask, wp, cnt);
                    for (r = 0; r < mr; r++) { /* binary weights: dot = b - 2 c, b = K or popcount(za) (< 2^31: exact);
                                                  ternary: cnt holds the dot */
                        if (tw) memcpy(dot, cnt + r * QUANT__BTN, sizeof dot);
                        else
                            for (j = 0; j < QUANT__BTN; j++) dot[j] = (int32_t)((uint32_t)pza[r] - 2 * cnt[r * QUANT__BTN + j]);
                        quant__bep_row(ep, m + r, n0, cn, dot, C, ldc);
                    }
                }
            }
        }
        return;
    }
#endif
    direct = ep->out == QUANT_BOUT_I32;
    pchunk = QUANT__BCHUNK / (wk * QUANT__BNB * 8 * (tw ? 2 : 1));
    if (!pchunk) pchunk = 1;
    for (pc0 = 0; pc0 < h->npanels; pc0 += pchunk) {
        size_t pc1 = h->npanels - pc0 < pchunk ? h->npanels : pc0 + pchunk;
        for (m = m0; m < m1; m += mrmax) {
            size_t mr = m1 - m < mrmax ? m1 - m : mrmax, r, j;
            int64_t pza[QUANT__BMR], corr[QUANT__BMR];
            for (r = 0; r < mr; r++) {
                const uint64_t *ar = as + (m - m0 + r) * lda, *zr = ta ? az + (m - m0 + r) * lda : NULL;
                pza[r] = ta ? quant__bits_count(zr, K) : 0;
                /* what the caller's padding bits added to every column's count */
                corr[r] = tw ? 0 : quant__popcount64(ar[wk - 1] & (ta ? zr[wk - 1] : ~(uint64_t)0) & ~lastmask);
            }
            for (p = pc0; p < pc1; p++) {
                uint64_t c1[QUANT__BMR * QUANT__BNB], c2[QUANT__BMR * QUANT__BNB];
                int32_t dot[QUANT__BNB];
                const uint64_t *ps = (const uint64_t *)(base + h->sign_off) + p * wk * QUANT__BNB;
                const uint64_t *pz = tw ? (const uint64_t *)(base + h->nz_off) + p * wk * QUANT__BNB : NULL;
                size_t n0 = p * QUANT__BNB, cnt = N - n0 < QUANT__BNB ? N - n0 : QUANT__BNB;
                QUANT__BKR(mr, ta, tw, wk, as + (m - m0) * lda, ta ? az + (m - m0) * lda : NULL, lda, ps, pz, c1, c2);
                for (r = 0; r < mr; r++) { /* dot = b - 2 c, b = the count of the non-zero products */
                    const uint64_t *q1 = c1 + r * QUANT__BNB, *q2 = c2 + r * QUANT__BNB;
                    /* int32 out and a whole panel: straight into C */
                    int32_t *d = direct && cnt == QUANT__BNB ? (int32_t *)C + (m + r) * ldc + n0 : dot;
                    if (ta && tw)
                        for (j = 0; j < QUANT__BNB; j++) d[j] = (int32_t)((int64_t)q2[j] - 2 * (int64_t)q1[j]);
                    else if (tw) {
                        uint32_t pcs[QUANT__BNB];
                        memcpy(pcs, base + h->colpc_off + 4 * n0, sizeof pcs);
                        for (j = 0; j < QUANT__BNB; j++) d[j] = (int32_t)((int64_t)pcs[j] - 2 * (int64_t)q1[j]);
                    } else /* b - 2 (c - corr) = (b + 2 corr) - 2 c, b = popcount(za) or K */
                        quant__bdot((ta ? pza[r] : (int64_t)K) + 2 * corr[r], q1, d);
                    if (d == dot) quant__bep_row(ep, m + r, n0, cnt, dot, C, ldc);
                }
            }
        }
    }
}

QUANT_DEF quant_status quant_bgemm_tile(size_t M, const uint64_t *a_sign, const uint64_t *a_nonzero, size_t lda,
        const void *packed, const quant_bepilogue *ep, void *C, size_t ldc, size_t m0, size_t m1) {
    quant__bin_hdr h;
    quant_status st;
    if (!packed) return QUANT_EINVAL;
    if (!quant__bin_hdr_get(packed, &h)) return QUANT_EFORMAT;
    if ((st = quant__bep_check(ep)) != QUANT_OK) return st;
    if (m0 > m1 || m1 > M) return QUANT_EINVAL;
    if (!quant__span_ok(M, lda, sizeof(uint64_t)) || !quant__span_ok(M, ldc, quant__bep_esize(ep))) return QUANT_EOVERFLOW;
    if (m0 == m1) return QUANT_OK;
    if (!a_sign || !C || lda < h.wk) return QUANT_EINVAL;
    if (ep->out == QUANT_BOUT_BITS ? ldc < quant_bits_words(h.N) : ldc < h.N) return QUANT_EINVAL;
    quant__bgemm_run(&h, packed, m0, m1, a_sign + m0 * lda, a_nonzero ? a_nonzero + m0 * lda : NULL, lda, ep, C, ldc);
    return QUANT_OK;
}

QUANT_DEF quant_status quant_bgemm(size_t M, const uint64_t *a_sign, const uint64_t *a_nonzero, size_t lda,
        const void *packed, const quant_bepilogue *ep, void *C, size_t ldc) {
    return quant_bgemm_tile(M, a_sign, a_nonzero, lda, packed, ep, C, ldc, 0, M);
}

/* BWN, int8 / uint8 activations x binary weights, on the binary kernel.
 * With u = a (uint8) or a + 128 (int8, the sign bit flipped), z = a_zp (+ 128
 * for int8), s_k = +1 / -1 the weight (bit 0 / 1) and u = sum_b 2^b u_b its
 * bitplanes (packed along K like any activation row):
 *   dot = sum_k (u_k - z) s_k
 *       = 2 sum_b 2^b popcount(U_b & ~W) - sum_k u_k - z (2 popcount(~W) - K)
 * popcount(U & ~W) is the ternary-activation kernel with sign = zero plane =
 * U ((U ^ W) & U); popcount(~W) over the real K is the same with U all ones
 * (a ninth plane, only when z != 0). Exact in int64; |dot| <= 255 K. The
 * planes of QUANT__BWN_KC words of K live on the stack (9 * 224 * 8 bytes);
 * for a longer K they are rebuilt per panel. */
#define QUANT__BWN_KC 224

/* the 8 bitplanes of u for K positions [64 w0, 64 (w0 + kc)) of one row
 * (bytes past K give 0 bits), plane b at planes[b * kc] */
QUANT__INTERNAL void quant__bwn_planes(const uint8_t *a, size_t K, int a_signed, size_t w0, size_t kc, uint64_t *planes) {
    size_t w;
    for (w = 0; w < kc; w++) {
        size_t k0 = 64 * (w0 + w), kn = K - k0 < 64 ? K - k0 : 64;
        uint8_t buf[64];
        const uint8_t *src = a + k0;
        uint64_t pl[8];
        int b;
        if (kn < 64) { memset(buf, a_signed ? 0x80 : 0, 64); memcpy(buf, src, kn); src = buf; } /* u = 0 past K */
#if defined(QUANT_HAS_SSE41)
        {   /* the byte's top bit by movemask, then shift the bytes left by one */
            int g;
            for (b = 0; b < 8; b++) pl[b] = 0;
            for (g = 0; g < 4; g++) {
                __m128i x = _mm_loadu_si128((const __m128i *)(src + 16 * g));
                if (a_signed) x = _mm_xor_si128(x, _mm_set1_epi8((char)0x80));
                for (b = 7; b >= 0; b--) {
                    pl[b] |= (uint64_t)(uint32_t)_mm_movemask_epi8(x) << (16 * g);
                    x = _mm_add_epi8(x, x);
                }
            }
        }
#else
        {   /* bit b of 8 bytes gathered into 8 bits by one multiply */
            int g;
            for (b = 0; b < 8; b++) pl[b] = 0;
            for (g = 0; g < 8; g++) {
                uint64_t x;
                memcpy(&x, src + 8 * g, 8);
                if (a_signed) x ^= 0x8080808080808080ull;
                for (b = 0; b < 8; b++)
                    pl[b] |= ((((x >> b) & 0x0101010101010101ull) * 0x0102040810204080ull) >> 56) << (8 * g);
            }
        }
#endif
        for (b = 0; b < 8; b++) planes[(size_t)b * kc + w] = pl[b];
        planes[8 * kc + w] = kn == 64 ? ~(uint64_t)0 : ((uint64_t)1 << kn) - 1; /* the ones plane */
    }
}

QUANT_DEF quant_status quant_bgemm_i8(size_t M, const void *A, int a_signed, size_t lda, int32_t a_zp,
        const void *packed, const quant_bepilogue *ep, void *C, size_t ldc) {
    quant__bin_hdr h;
    quant_status st;
    size_t m, p, j, k, nch, np;
    int32_t z;
    uint64_t planes[9 * QUANT__BWN_KC], c1[9 * QUANT__BPW];
    const unsigned char *base = (const unsigned char *)packed;
    if (!packed) return QUANT_EINVAL;
    if (!quant__bin_hdr_get(packed, &h) || h.ternary) return QUANT_EFORMAT;
    if ((st = quant__bep_check(ep)) != QUANT_OK) return st;
    if (a_signed ? (a_zp < -128 || a_zp > 127) : (a_zp < 0 || a_zp > 255)) return QUANT_EINVAL;
    if (!quant__span_ok(M, lda, 1) || !quant__span_ok(M, ldc, quant__bep_esize(ep))) return QUANT_EOVERFLOW;
    if (!M) return QUANT_OK;
    if (!A || !C || lda < h.K) return QUANT_EINVAL;
    if (ep->out == QUANT_BOUT_BITS ? ldc < quant_bits_words(h.N) : ldc < h.N) return QUANT_EINVAL;
    if (h.K > QUANT_GEMM_MAX_K) return QUANT_ERANGE;
    z = a_signed ? a_zp + 128 : a_zp;
    np = z ? 9 : 8;
    nch = (h.wk + QUANT__BWN_KC - 1) / QUANT__BWN_KC;
    for (m = 0; m < M; m++) {
        const uint8_t *ar = (const uint8_t *)A + m * lda;
        int64_t su = 0;
        if (ep->out == QUANT_BOUT_BITS) quant__bits_clear_tail((uint64_t *)C + m * ldc, h.N);
        for (k = 0; k < h.K; k++) su += a_signed ? (int32_t)ar[k] ^ 0x80 : (int32_t)ar[k];
        if (nch == 1) quant__bwn_planes(ar, h.K, a_signed, 0, h.wk, planes);
        for (p = 0; p < (h.N + QUANT__BPW - 1) / QUANT__BPW; p++) {
            int64_t acc[QUANT__BPW], ones[QUANT__BPW];
            int32_t dot[QUANT__BPW];
            size_t n0 = p * QUANT__BPW, cnt = h.N - n0 < QUANT__BPW ? h.N - n0 : QUANT__BPW, c;
#if !QUANT__BT
            const uint64_t *ps = (const uint64_t *)(base + h.sign_off) + p * h.wk * QUANT__BNB;
#endif
            for (j = 0; j < QUANT__BPW; j++) acc[j] = ones[j] = 0;
            for (c = 0; c < nch; c++) {
                size_t w0 = c * QUANT__BWN_KC, kc = h.wk - w0 < QUANT__BWN_KC ? h.wk - w0 : QUANT__BWN_KC, b0, b;
                if (nch > 1) quant__bwn_planes(ar, h.K, a_signed, w0, kc, planes);
#if QUANT__BT
                {   /* the planes are the rows (sign = non-zero plane); 0 past K */
                    uint32_t c32[9 * QUANT__BTN];
                    size_t ns = (h.K + 3) / 4 - 16 * w0;
                    memset(c32, 0, sizeof c32);
                    for (b0 = 0; b0 < np; b0 += QUANT__BTMR)
                        quant__bt_counts(np - b0 < QUANT__BTMR ? np - b0 : QUANT__BTMR, 0, planes + b0 * kc, planes + b0 * kc, kc, kc,
                                         ns < 16 * kc ? ns : 16 * kc, SIZE_MAX, ~(uint64_t)0,
                                         base + h.nz_off + (p * h.wk + w0) * 16 * QUANT__BTN, c32 + b0 * QUANT__BTN);
                    for (j = 0; j < np * QUANT__BTN; j++) c1[j] = c32[j];
                }
#else
                for (b0 = 0; b0 < np; b0 += QUANT__BMR) /* the planes are the rows; padding bits are 0 in them */
                    QUANT__BKR(np - b0 < QUANT__BMR ? np - b0 : QUANT__BMR, 1, 0, kc, planes + b0 * kc,
                               planes + b0 * kc, kc, ps + w0 * QUANT__BNB, NULL, c1 + b0 * QUANT__BNB, NULL);
#endif
                for (b = 0; b < 8; b++)
                    for (j = 0; j < QUANT__BPW; j++) acc[j] += (int64_t)c1[b * QUANT__BPW + j] << b;
                if (z)
                    for (j = 0; j < QUANT__BPW; j++) ones[j] += (int64_t)c1[8 * QUANT__BPW + j];
            }
            for (j = 0; j < QUANT__BPW; j++) dot[j] = (int32_t)(2 * acc[j] - su - (int64_t)z * (2 * ones[j] - (int64_t)h.K));
            quant__bep_row(ep, m, n0, cnt, dot, C, ldc);
        }
    }
    return QUANT_OK;
}

/* ------------------------------------------------------ 5.2 binary conv2d */

#define QUANT__BCONV_TILE 48 /* pixels per GEMM: a multiple of 6, 4 and 3 rows */

/* quant_conv_out_size, then the sizes only the binary conv forms: input and
 * BITS output rows of whole words, the GEMM's K in bits (taps x words x 64),
 * the packed size (GEMM + tap values) and the workspace */
QUANT__INTERNAL quant_status quant__bconv_geom(const quant_conv_shape *s, size_t *oh, size_t *ow,
        size_t *pack_bytes, size_t *ws_bytes) {
    size_t wc, taps, gb, tv, row;
    quant_status st = quant_conv_out_size(s, oh, ow);
    if (st != QUANT_OK) return st;
    wc = quant_bits_words(s->in_c); taps = s->k_h * s->k_w;
    if (!quant__span_ok(s->batch * s->in_h * s->in_w, wc, sizeof(uint64_t)) ||
        !quant__span_ok(s->batch * *oh * *ow, quant_bits_words(s->out_c), sizeof(uint64_t)) ||
        !quant__span_ok(taps, wc, 64) || !quant__span_ok(taps, s->out_c, 4)) return QUANT_EOVERFLOW;
    /* the GEMM's K is the taps' whole words; the real K is used for the dot */
    gb = quant_bgemm_pack_size(taps * wc * 64, s->out_c, 0);
    tv = 4 * taps * s->out_c;
    if (!gb || tv > SIZE_MAX - 64 - gb) return QUANT_EOVERFLOW;
    row = taps * wc * 8; /* one pixel's im2col words, then its int32 outputs */
    if (4 * s->out_c > SIZE_MAX - row || row + 4 * s->out_c > SIZE_MAX / QUANT__BCONV_TILE) return QUANT_EOVERFLOW;
    if (pack_bytes) *pack_bytes = gb + tv + 64;
    if (ws_bytes) *ws_bytes = (size_t)QUANT__BCONV_TILE * (row + 4 * s->out_c);
    return QUANT_OK;
}

QUANT_DEF size_t quant_bconv2d_pack_size(const quant_conv_shape *s) {
    size_t oh, ow, pb;
    return quant__bconv_geom(s, &oh, &ow, &pb, NULL) == QUANT_OK ? pb : 0;
}

/* packed conv = [bgemm packed, with K = taps * wc * 64][int32 tapval[out_c][taps]]:
 * tapval = in_c - 2 popcount(w_tap): one tap's dot against an all-+1 input */
QUANT_DEF quant_status quant_bconv2d_pack(const uint64_t *w, const quant_conv_shape *s, void *packed, size_t packed_bytes) {
    size_t oh, ow, wc, taps, gb, n, t, need;
    quant_status st = quant__bconv_geom(s, &oh, &ow, &need, NULL);
    if (st != QUANT_OK) return st;
    if (!w || !packed || packed_bytes < need) return QUANT_EINVAL;
    wc = quant_bits_words(s->in_c); taps = s->k_h * s->k_w;
    gb = quant_bgemm_pack_size(taps * wc * 64, s->out_c, 0);
    if ((st = quant_bgemm_pack(w, NULL, s->out_c, taps * wc * 64, packed, gb)) != QUANT_OK) return st;
    if (s->in_c % 64) { /* each tap's padding bits are 0 in the packed weights */
        quant__bin_hdr h;
        size_t p, j;
        uint64_t keep = quant__bits_keep(s->in_c);
        memcpy(&h, packed, sizeof h);
#if QUANT__BT
        for (p = 0; p < (h.N + QUANT__BTN - 1) / QUANT__BTN; p++) /* transposed: nibble q of the tap's last word */
            for (t = 0; t < taps; t++)
                for (j = 0; j < 16 * QUANT__BTN; j++) {
                    unsigned char *q = (unsigned char *)packed + h.nz_off + ((p * h.wk + t * wc + wc - 1) * 16) * QUANT__BTN + j;
                    *q = (unsigned char)(*q & ((keep >> (4 * (j / QUANT__BTN))) & 15));
                }
#endif
        for (p = 0; p < h.npanels; p++)
            for (t = 0; t < taps; t++)
                for (j = 0; j < QUANT__BNB; j++) {
                    unsigned char *q = (unsigned char *)packed + h.sign_off + ((p * h.wk + t * wc + wc - 1) * QUANT__BNB + j) * 8;
                    uint64_t x;
                    memcpy(&x, q, 8); x &= keep; memcpy(q, &x, 8);
                }
    }
    for (n = 0; n < s->out_c; n++)
        for (t = 0; t < taps; t++) {
            const int32_t v = (int32_t)s->in_c - 2 * (int32_t)quant__bits_count(w + (n * taps + t) * wc, s->in_c);
            memcpy((unsigned char *)packed + gb + 4 * (n * taps + t), &v, 4);
        }
    return QUANT_OK;
}

QUANT_DEF size_t quant_bconv2d_workspace_size(const quant_conv_shape *s) {
    size_t oh, ow, wb;
    return quant__bconv_geom(s, &oh, &ow, NULL, &wb) == QUANT_OK ? wb : 0;
}

QUANT_DEF quant_status quant_bconv2d(const quant_conv_shape *s, const uint64_t *in, quant_bpad pad,
        const void *packed, const quant_bepilogue *ep, void *out, void *workspace, size_t workspace_bytes) {
    size_t oh, ow, wc, taps, Kw, Kreal, gb, P, p0, ldo;
    quant__bin_hdr h;
    quant_bepilogue raw;
    const unsigned char *tapval;
    size_t need_ws;
    quant_status st = quant__bconv_geom(s, &oh, &ow, NULL, &need_ws);
    if (st != QUANT_OK) return st;
    if ((st = quant__bep_check(ep)) != QUANT_OK) return st;
    if (pad != QUANT_PAD_ONE && pad != QUANT_PAD_ZERO) return QUANT_EINVAL;
    wc = quant_bits_words(s->in_c); taps = s->k_h * s->k_w;
    Kw = taps * wc * 64; Kreal = taps * s->in_c;
    if (!packed) return QUANT_EINVAL;
    if (!quant__bin_hdr_get(packed, &h) || h.ternary || h.K != Kw || h.N != s->out_c) return QUANT_EFORMAT;
    if (!in || !out || !workspace || workspace_bytes < need_ws) return QUANT_EINVAL;
    gb = quant_bgemm_pack_size(Kw, s->out_c, 0);
    tapval = (const unsigned char *)packed + gb;
    ldo = ep->out == QUANT_BOUT_BITS ? quant_bits_words(s->out_c) : s->out_c;
    memset(&raw, 0, sizeof raw);
    raw.out = QUANT_BOUT_I32;
    P = s->batch * oh * ow;
    for (p0 = 0; p0 < P; p0 += QUANT__BCONV_TILE) {
        size_t cnt = P - p0 < QUANT__BCONV_TILE ? P - p0 : QUANT__BCONV_TILE, i;
        uint64_t *rows = (uint64_t *)workspace;
        /* int32 out: the GEMM writes the output rows themselves, corrected in place */
        int32_t *dots = ep->out == QUANT_BOUT_I32 ? (int32_t *)out + p0 * ldo : (int32_t *)(rows + QUANT__BCONV_TILE * taps * wc);
        for (i = 0; i < cnt; i++) { /* im2col of whole words; padded taps are all-+1 (zero words) */
            size_t p = p0 + i, n = p / (oh * ow), y = (p / ow) % oh, x = p % ow, kh, kw;
            for (kh = 0; kh < s->k_h; kh++)
                for (kw = 0; kw < s->k_w; kw++) {
                    size_t ph = y * s->stride_h + kh * s->dil_h, pw = x * s->stride_w + kw * s->dil_w;
                    uint64_t *dst = rows + (i * taps + kh * s->k_w + kw) * wc;
                    if (ph < s->pad_top || pw < s->pad_left || ph - s->pad_top >= s->in_h || pw - s->pad_left >= s->in_w)
                        memset(dst, 0, wc * 8);
                    else {
                        memcpy(dst, in + ((n * s->in_h + (ph - s->pad_top)) * s->in_w + (pw - s->pad_left)) * wc, wc * 8);
                        dst[wc - 1] &= quant__bits_keep(s->in_c); /* the pixel's padding bits */
                    }
                }
        }
        quant__bgemm_run(&h, packed, 0, cnt, rows, NULL, taps * wc, &raw, dots, s->out_c);
        for (i = 0; i < cnt; i++) {
            size_t p = p0 + i, y = (p / ow) % oh, x = p % ow, oc;
            int32_t *d = dots + i * s->out_c;
            if (Kw != Kreal)
                for (oc = 0; oc < s->out_c; oc++) d[oc] -= (int32_t)(Kw - Kreal); /* the tap words' padding bits */
            if (pad == QUANT_PAD_ZERO) { /* padded taps counted as +1 inputs: take their share back out */
                size_t kh, kw;
                for (kh = 0; kh < s->k_h; kh++)
                    for (kw = 0; kw < s->k_w; kw++) {
                        size_t ph = y * s->stride_h + kh * s->dil_h, pw = x * s->stride_w + kw * s->dil_w, t = kh * s->k_w + kw;
                        if (!(ph < s->pad_top || pw < s->pad_left || ph - s->pad_top >= s->in_h || pw - s->pad_left >= s->in_w)) continue;
                        for (oc = 0; oc < s->out_c; oc++) {
                            int32_t v;
                            memcpy(&v, tapval + 4 * (oc * taps + t), 4);
                            d[oc] -= v;
                        }
                    }
            }
            if (ep->out == QUANT_BOUT_BITS) quant__bits_clear_tail((uint64_t *)out + p * ldo, s->out_c); /* the row's padding bits */
            if (ep->out != QUANT_BOUT_I32) quant__bep_row(ep, p, 0, s->out_c, d, out, ldo);
        }
    }
    return QUANT_OK;
}

/* end of section 5: its local macros */
#undef QUANT__BCHUNK
#undef QUANT__BCONV_TILE
#undef QUANT__BFOLD
#undef QUANT__BIN_MAGIC
#undef QUANT__BMR
#undef QUANT__BKR
#undef QUANT__BTK
#undef QUANT__BMR_TT
#undef QUANT__BNB
#undef QUANT__BNV
#undef QUANT__BPW
#undef QUANT__BT
#undef QUANT__BTKW
#undef QUANT__BTMR
#undef QUANT__BTN
#undef QUANT__BTNV
#undef QUANT__BTVB
#undef QUANT__BT_MEM
#undef QUANT__BT_OFF
#undef QUANT__BT_PIN
#undef QUANT__BT_POS
#undef QUANT__BT_REG
#undef QUANT__BV_ANDXOR
#undef QUANT__BV_CSA
#undef QUANT__BV_DIRECT
#undef QUANT__BW
#undef QUANT__BWN_KC

/* ======================================================================== */
/* 6. PQ / VQ kernels (implementation)                                      */
/* ======================================================================== */

#if defined(QUANT_HAS_AVX512VBMI)
#  define QUANT__PQ_VBMI 1
#endif

/* The nearest-centroid tile: NN_MR rows x NN_NV float vectors of
 * centroids (section 1.1's float lanes); one row takes NN_NV1 vectors. */
#if defined(QUANT_HAS_AVX512)
#  define QUANT__NN(x) x##__avx512 /* the kernels' names: ISA (tiles in the KERNELS table) */
#  define QUANT__NN_MR 6
#  define QUANT__NN_NV 2
#  define QUANT__NN_NV1 8
#else
#  define QUANT__NN_MR 4
#  define QUANT__NN_NV (QUANT__VFL == 8 ? 2 : 4)
#  define QUANT__NN_NV1 (QUANT__VFL == 1 ? 4 : 8)
#  if QUANT__VFL == 8
#    define QUANT__NN(x) x##__avx2
#  elif QUANT__VFL == 4
#    define QUANT__NN(x) x##__neon
#  else
#    define QUANT__NN(x) x##__scalar
#  endif
#endif

/* Rows [i0, i0 + MR) against every centroid: a tile of MR rows x NV
 * vectors of centroids (MR x NV independent chains hide the fused
 * multiply-add latency: 6 x 2 on AVX-512, one row takes NV1 = 8), then the
 * running argmin (strictly better only, so the lower index wins ties) or
 * the scores. One function per (MR, NV, metric) with arrays of exactly that
 * size, so that the compiler keeps them in registers. */
#define QUANT__NN_DEFINE(NAME, MR, NV, IP)                                                                       \
static void NAME(const float *x, size_t i0, size_t d, size_t ldx, const float *c, const float *ct, size_t k,      \
        uint32_t *idx, float *score) {                                                                           \
    const size_t NR = (size_t)(NV) * QUANT__VFL, kfull = k / NR * NR;                                           \
    size_t j0, j, t;                                                                                             \
    int r, v;                                                                                                    \
    const float *xr[MR];                                                                                         \
    quant__vf acc[MR][NV], bv[MR];                                                                               \
    quant__vfi bi[MR];                                                                                           \
    for (r = 0; r < (MR); r++) xr[r] = x + (i0 + (size_t)r) * ldx;                                               \
    QUANT__UNROLL                                                                                                \
    for (r = 0; r < (MR); r++) { bv[r] = quant__vf_set1((IP) ? -INFINITY : INFINITY); bi[r] = quant__vfi_iota(0); } \
    for (j0 = 0; j0 < kfull; j0 += NR) {                                                                         \
        const float *cp = ct + j0;                                                                               \
        QUANT__UNROLL                                                                                            \
        for (r = 0; r < (MR); r++) { QUANT__UNROLL for (v = 0; v < (NV); v++) acc[r][v] = quant__vf_set1(0.0f); } \
        for (t = 0; t < d; t++, cp += k) {                                                                       \
            quant__vf cv[NV];                                                                                    \
            QUANT__UNROLL                                                                                        \
            for (v = 0; v < (NV); v++) cv[v] = quant__vf_load(cp + v * QUANT__VFL);                             \
            QUANT__UNROLL                                                                                        \
            for (r = 0; r < (MR); r++) {                                                                         \
                const quant__vf xb = quant__vf_set1(xr[r][t]);                                                  \
                QUANT__UNROLL                                                                                    \
                for (v = 0; v < (NV); v++) {                                                                     \
                    if (IP) acc[r][v] = quant__vf_fma(xb, cv[v], acc[r][v]);                                     \
                    else { const quant__vf e_ = quant__vf_sub(xb, cv[v]); acc[r][v] = quant__vf_fma(e_, e_, acc[r][v]); } \
                }                                                                                                \
            }                                                                                                    \
        }                                                                                                        \
        if (idx) {                                                                                               \
            QUANT__UNROLL                                                                                        \
            for (r = 0; r < (MR); r++) {                                                                         \
                QUANT__UNROLL                                                                                    \
                for (v = 0; v < (NV); v++)                                                                       \
                    quant__vf_better(&bv[r], &bi[r], acc[r][v], quant__vfi_iota((uint32_t)(j0 + (size_t)v * QUANT__VFL)), (IP)); \
            }                                                                                                    \
        } else {                                                                                                 \
            QUANT__UNROLL                                                                                        \
            for (r = 0; r < (MR); r++) {                                                                         \
                QUANT__UNROLL                                                                                    \
                for (v = 0; v < (NV); v++) quant__vf_store(score + (i0 + (size_t)r) * k + j0 + (size_t)v * QUANT__VFL, acc[r][v]); \
            }                                                                                                    \
        }                                                                                                        \
    }                                                                                                            \
    for (r = 0; r < (MR); r++) {                                                                                 \
        if (idx) {                                                                                               \
            float fv[QUANT__VFL], bs = 0.0f;                                                                    \
            uint32_t iv[QUANT__VFL], bj = 0;                                                                    \
            int have = 0, l;                                                                                     \
            if (kfull) {                                                                                         \
                quant__vf_spill(bv[r], bi[r], fv, iv);                                                           \
                for (l = 0; l < QUANT__VFL; l++)                                                                \
                    if (!have || ((IP) ? fv[l] > bs : fv[l] < bs) || (fv[l] == bs && iv[l] < bj)) { bs = fv[l]; bj = iv[l]; have = 1; } \
            }                                                                                                    \
            for (j = kfull; j < k; j++) { /* the tail: the scalar chains */                                      \
                float s_ = (IP) ? quant__vq_ip(xr[r], c + j * d, d) : quant__vq_l2(xr[r], c + j * d, d);         \
                if (!have || ((IP) ? s_ > bs : s_ < bs)) { bs = s_; bj = (uint32_t)j; have = 1; }                \
            }                                                                                                    \
            idx[i0 + (size_t)r] = bj;                                                                            \
            if (score) score[i0 + (size_t)r] = bs;                                                               \
        } else {                                                                                                 \
            for (j = kfull; j < k; j++)                                                                          \
                score[(i0 + (size_t)r) * k + j] = (IP) ? quant__vq_ip(xr[r], c + j * d, d) : quant__vq_l2(xr[r], c + j * d, d); \
        }                                                                                                        \
    }                                                                                                            \
}
QUANT__NN_DEFINE(QUANT__NN(quant__nn_l2_mr_nv), QUANT__NN_MR, QUANT__NN_NV, 0)
QUANT__NN_DEFINE(QUANT__NN(quant__nn_ip_mr_nv), QUANT__NN_MR, QUANT__NN_NV, 1)
QUANT__NN_DEFINE(QUANT__NN(quant__nn_l2_mr_1), QUANT__NN_MR, 1, 0)
QUANT__NN_DEFINE(QUANT__NN(quant__nn_ip_mr_1), QUANT__NN_MR, 1, 1)
QUANT__NN_DEFINE(QUANT__NN(quant__nn_l2_1_nv1), 1, QUANT__NN_NV1, 0)
QUANT__NN_DEFINE(QUANT__NN(quant__nn_ip_1_nv1), 1, QUANT__NN_NV1, 1)
QUANT__NN_DEFINE(QUANT__NN(quant__nn_l2_1_nv), 1, QUANT__NN_NV, 0)
QUANT__NN_DEFINE(QUANT__NN(quant__nn_ip_1_nv), 1, QUANT__NN_NV, 1)
QUANT__NN_DEFINE(QUANT__NN(quant__nn_l2_1_1), 1, 1, 0)
QUANT__NN_DEFINE(QUANT__NN(quant__nn_ip_1_1), 1, 1, 1)

/* blocks of MR rows, the rest one at a time; the widest tile k allows */
static void quant__nn_run(int ip, const float *x, size_t n, size_t d, size_t ldx,
        const float *c, const float *ct, size_t k, uint32_t *idx, float *score) {
    size_t i0 = 0;
    if (k >= (size_t)QUANT__NN_NV * QUANT__VFL) {
        for (; i0 + QUANT__NN_MR <= n; i0 += QUANT__NN_MR)
            (ip ? QUANT__NN(quant__nn_ip_mr_nv) : QUANT__NN(quant__nn_l2_mr_nv))(x, i0, d, ldx, c, ct, k, idx, score);
    } else {
        for (; i0 + QUANT__NN_MR <= n; i0 += QUANT__NN_MR)
            (ip ? QUANT__NN(quant__nn_ip_mr_1) : QUANT__NN(quant__nn_l2_mr_1))(x, i0, d, ldx, c, ct, k, idx, score);
    }
    for (; i0 < n; i0++) {
        if (k >= (size_t)QUANT__NN_NV1 * QUANT__VFL) (ip ? QUANT__NN(quant__nn_ip_1_nv1) : QUANT__NN(quant__nn_l2_1_nv1))(x, i0, d, ldx, c, ct, k, idx, score);
        else if (k >= (size_t)QUANT__NN_NV * QUANT__VFL) (ip ? QUANT__NN(quant__nn_ip_1_nv) : QUANT__NN(quant__nn_l2_1_nv))(x, i0, d, ldx, c, ct, k, idx, score);
        else (ip ? QUANT__NN(quant__nn_ip_1_1) : QUANT__NN(quant__nn_l2_1_1))(x, i0, d, ldx, c, ct, k, idx, score);
    }
}

QUANT_DEF void quant_nearest(const float *x, size_t n, size_t d, size_t ldx,
        const float *c, const float *ct, const float *norms, size_t k,
        quant_metric metric, uint32_t *idx, float *score) {
    const int ip = metric == QUANT_METRIC_IP;
    (void)norms;
    if (!n || !k) return;
    if (!ct) { quant_ref_nearest(x, n, d, ldx, c, ct, norms, k, metric, idx, score); return; }
    quant__nn_run(ip, x, n, d, ldx, c, ct, k, idx, score);
}

/* ---- packed objects: a 64-byte header, then 64-byte aligned arrays */

typedef struct quant__pqk_hdr {
    uint32_t magic, d, M, dsub, ksub, nbits, shared, ncb;
    uint32_t rows, nblocks, off_a, off_b, total_lo, total_hi, check, pad_;
} quant__pqk_hdr;

#define QUANT__PQP_MAGIC 0x31505051u /* "QPP1": packed PQ */
#define QUANT__PQM_MAGIC 0x314d5051u /* "QPM1": PQ matmul */
#define QUANT__CBG_MAGIC 0x31474243u /* "CBG1": codebook GEMV */

QUANT__INTERNAL uint32_t quant__pqk_check(const quant__pqk_hdr *h) { return quant__blob_fnv((const uint8_t *)(const void *)h, 56); }
QUANT__INTERNAL size_t quant__pqk_r64(size_t v) { return (v + 63) / 64 * 64; }

/* fills the geometry of a packed PQ / PQ matmul; returns its size, 0 if too large */
QUANT__INTERNAL size_t quant__pqk_geom(const quant_pq *pq, uint32_t magic, size_t rows, quant__pqk_hdr *h) {
    size_t ncb, ctb, a, b, tot, nb = 0, blk;
    memset(h, 0, sizeof *h);
    ncb = pq->shared ? 1 : pq->M;
    ctb = quant__pqk_r64(ncb * pq->ksub * pq->dsub * sizeof(float));
    if (ncb * pq->ksub * pq->dsub > ((size_t)1 << 28)) return 0;
    a = 64;
    b = a + ctb;
    if (magic == QUANT__PQP_MAGIC) tot = b + ctb;
    else {
        if (!rows || rows > 0xffffffffu || pq->M > QUANT_PQMM_MAX_M) return 0;
        nb = (rows + 63) / 64;
        blk = pq->M * (pq->nbits == 8 ? 64 : 32);
        if (nb > (SIZE_MAX - b) / blk) return 0;
        tot = b + nb * blk;
    }
    if (b > 0xffffffffu) return 0;
    h->magic = magic; h->d = (uint32_t)pq->d; h->M = (uint32_t)pq->M; h->dsub = (uint32_t)pq->dsub;
    h->ksub = (uint32_t)pq->ksub; h->nbits = (uint32_t)pq->nbits; h->shared = (uint32_t)pq->shared;
    h->ncb = (uint32_t)ncb; h->rows = (uint32_t)rows; h->nblocks = (uint32_t)nb;
    h->off_a = (uint32_t)a; h->off_b = (uint32_t)b;
    h->total_lo = (uint32_t)tot; h->total_hi = (uint32_t)((uint64_t)tot >> 32);
    h->check = quant__pqk_check(h);
    return tot;
}

/* validates a packed PQ / PQ matmul header, the shape and geometry again:
 * QUANT_EINVAL for NULL, QUANT_EFORMAT for anything else than one */
QUANT__INTERNAL quant_status quant__pqk_read(const void *packed, uint32_t magic, quant__pqk_hdr *h, quant_pq *pq) {
    quant__pqk_hdr g;
    if (!packed) return QUANT_EINVAL;
    memcpy(h, packed, sizeof *h);
    if (h->magic != magic || h->check != quant__pqk_check(h)) return QUANT_EFORMAT;
    if (quant_pq_init(pq, h->d, h->M, (int)h->nbits, (int)h->shared, NULL) != QUANT_OK) return QUANT_EFORMAT;
    if (!quant__pqk_geom(pq, magic, h->rows, &g) || memcmp(&g, h, sizeof g) != 0) return QUANT_EFORMAT;
    pq->centroids = (float *)(void *)((char *)(uintptr_t)packed + (magic == QUANT__PQP_MAGIC ? h->off_b : h->off_a));
    return QUANT_OK;
}

QUANT_DEF size_t quant_pq_pack_size(const quant_pq *pq) {
    quant__pqk_hdr h;
    return quant__pq_ok(pq, 0) ? quant__pqk_geom(pq, QUANT__PQP_MAGIC, 0, &h) : 0;
}

/* ct of codebook b: dsub x ksub */
QUANT__INTERNAL void quant__pqk_transpose(const quant_pq *pq, float *dst) {
    size_t ncb = pq->shared ? 1 : pq->M, b;
    for (b = 0; b < ncb; b++)
        quant_centroids_prepare(pq->centroids + b * pq->ksub * pq->dsub, pq->ksub, pq->dsub,
                                dst + b * pq->ksub * pq->dsub, NULL);
}

QUANT_DEF quant_status quant_pq_pack(const quant_pq *pq, void *packed, size_t packed_bytes) {
    quant__pqk_hdr h;
    size_t tot, ncb;
    unsigned char *p = (unsigned char *)packed;
    if (!quant__pq_ok(pq, 1) || !packed) return QUANT_EINVAL;
    if (!(tot = quant__pqk_geom(pq, QUANT__PQP_MAGIC, 0, &h))) return QUANT_EOVERFLOW;
    if (packed_bytes < tot) return QUANT_EINVAL;
    ncb = h.ncb;
    memset(p, 0, tot);
    memcpy(p, &h, sizeof h);
    quant__pqk_transpose(pq, (float *)(void *)(p + h.off_a));
    memcpy(p + h.off_b, pq->centroids, ncb * pq->ksub * pq->dsub * sizeof(float));
    return QUANT_OK;
}

QUANT_DEF quant_status quant_pq_packed_info(const void *packed, quant_pq *pq) {
    quant__pqk_hdr h;
    quant_pq p;
    quant_status st;
    if (!pq) return QUANT_EINVAL;
    if ((st = quant__pqk_read(packed, QUANT__PQP_MAGIC, &h, &p)) == QUANT_OK) *pq = p;
    return st;
}

/* the packed PQ, its transposed codebooks (or return the status, st) */
#define QUANT__PQ_GET(packed, h, pq, ct) do { \
    if ((st = quant__pqk_read((packed), QUANT__PQP_MAGIC, &(h), &(pq))) != QUANT_OK) return st; \
    (ct) = (const float *)(const void *)((const char *)(packed) + (h).off_a); } while (0)

QUANT_DEF quant_status quant_pq_encode(const void *packed, const float *x, size_t n, uint8_t *codes) {
    quant__pqk_hdr h;
    quant_pq pq;
    const float *ct;
    size_t i0, i, m, cs;
    quant_status st;
    uint32_t idx[256];
    QUANT__PQ_GET(packed, h, pq, ct);
    if (!x || !codes) return QUANT_EINVAL;
    if (!quant__vq_mul_ok(n, pq.d)) return QUANT_EOVERFLOW;
    if ((st = quant__vq_values(x, n, pq.d, pq.d)) != QUANT_OK) return st;
    cs = quant_pq_code_size(&pq);
    for (i0 = 0; i0 < n; i0 += 256) {
        size_t nb = n - i0 < 256 ? n - i0 : 256;
        if (pq.nbits == 4) memset(codes + i0 * cs, 0, nb * cs);
        for (m = 0; m < pq.M; m++) {
            size_t b = pq.shared ? 0 : m;
            quant_nearest(x + i0 * pq.d + m * pq.dsub, nb, pq.dsub, pq.d, quant__pq_cb(&pq, m),
                          ct + b * pq.ksub * pq.dsub, NULL, pq.ksub, QUANT_METRIC_L2, idx, NULL);
            if (pq.nbits == 8) for (i = 0; i < nb; i++) codes[(i0 + i) * cs + m] = (uint8_t)idx[i];
            else for (i = 0; i < nb; i++) codes[(i0 + i) * cs + (m >> 1)] |= (uint8_t)(idx[i] << ((m & 1) * 4));
        }
    }
    return QUANT_OK;
}

QUANT__INTERNAL void quant__pq_tables1(const quant_pq *pq, const float *ct, quant_metric metric, const float *q, float *t) {
    size_t m;
    if (pq->shared) { /* every sub-vector against the one codebook: M rows */
        quant_nearest(q, pq->M, pq->dsub, pq->dsub, pq->centroids, ct, NULL, pq->ksub, metric, NULL, t);
        return;
    }
    for (m = 0; m < pq->M; m++)
        quant_nearest(q + m * pq->dsub, 1, pq->dsub, pq->dsub, quant__pq_cb(pq, m), ct + m * pq->ksub * pq->dsub,
                      NULL, pq->ksub, metric, NULL, t + m * pq->ksub);
}

QUANT_DEF quant_status quant_pq_tables(const void *packed, quant_metric metric, const float *q, size_t nq,
        float *tables) {
    quant__pqk_hdr h;
    quant_pq pq;
    const float *ct;
    size_t i;
    quant_status st;
    QUANT__PQ_GET(packed, h, pq, ct);
    if (!q || !tables) return QUANT_EINVAL;
    if (metric != QUANT_METRIC_L2 && metric != QUANT_METRIC_IP) return QUANT_EINVAL;
    if (!quant__vq_mul_ok(nq, pq.d) || !quant__vq_mul_ok(nq * pq.M, pq.ksub)) return QUANT_EOVERFLOW;
    if ((st = quant__vq_values(q, nq, pq.d, pq.d)) != QUANT_OK) return st;
    for (i = 0; i < nq; i++) quant__pq_tables1(&pq, ct, metric, q + i * pq.d, tables + i * pq.M * pq.ksub);
    return QUANT_OK;
}

/* top-k of one query over standard-layout codes: 4 vectors at a time, each
 * summed in subspace order */
QUANT__INTERNAL void quant__pq_scan1(const quant_pq *pq, const float *T, const uint8_t *codes, size_t n,
        int ip, size_t k, int64_t *id, float *key) {
    const size_t M = pq->M, cs = quant_pq_code_size(pq);
    const int b8 = pq->nbits == 8;
    size_t i = 0, m, cnt = 0;
    int j;
    for (; i + 4 <= n; i += 4) {
        const uint8_t *c0 = codes + i * cs, *c1 = c0 + cs, *c2 = c1 + cs, *c3 = c2 + cs;
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f, s[4];
        const float *Tm = T;
        if (b8) {
            for (m = 0; m < M; m++, Tm += 256) { s0 += Tm[c0[m]]; s1 += Tm[c1[m]]; s2 += Tm[c2[m]]; s3 += Tm[c3[m]]; }
        } else {
            for (m = 0; m + 2 <= M; m += 2, Tm += 32) {
                size_t b = m >> 1;
                s0 += Tm[c0[b] & 15]; s1 += Tm[c1[b] & 15]; s2 += Tm[c2[b] & 15]; s3 += Tm[c3[b] & 15];
                s0 += Tm[16 + (c0[b] >> 4)]; s1 += Tm[16 + (c1[b] >> 4)]; s2 += Tm[16 + (c2[b] >> 4)]; s3 += Tm[16 + (c3[b] >> 4)];
            }
            if (m < M) { size_t b = m >> 1; s0 += Tm[c0[b] & 15]; s1 += Tm[c1[b] & 15]; s2 += Tm[c2[b] & 15]; s3 += Tm[c3[b] & 15]; }
        }
        s[0] = ip ? -s0 : s0; s[1] = ip ? -s1 : s1; s[2] = ip ? -s2 : s2; s[3] = ip ? -s3 : s3;
        QUANT__UNROLL
        for (j = 0; j < 4; j++)
            if (cnt < k || s[j] < key[0]) quant__topk_push(key, id, k, &cnt, s[j], (int64_t)i + j);
    }
    for (; i < n; i++) {
        float s = 0.0f;
        for (m = 0; m < M; m++) s += T[m * pq->ksub + quant__pq_get(codes + i * cs, pq->nbits, m)];
        quant__topk_push(key, id, k, &cnt, ip ? -s : s, (int64_t)i);
    }
    quant__topk_finish(key, id, k, cnt, ip ? QUANT_METRIC_IP : QUANT_METRIC_L2);
}

QUANT_DEF quant_status quant_pq_scan(const void *packed, const float *tables, size_t nq, const uint8_t *codes,
        size_t n, quant_metric metric, size_t k, int64_t *ids, float *dists) {
    quant__pqk_hdr h;
    quant_pq pq;
    const float *ct;
    size_t i;
    quant_status st;
    QUANT__PQ_GET(packed, h, pq, ct);
    (void)ct;
    if ((st = quant__pq_scan_check(&pq, tables, nq, codes, n, metric, k, ids, dists)) != QUANT_OK) return st;
    for (i = 0; i < nq; i++)
        quant__pq_scan1(&pq, tables + i * pq.M * pq.ksub, codes, n, metric == QUANT_METRIC_IP, k, ids + i * k, dists + i * k);
    return QUANT_OK;
}

/* a 64-byte aligned pointer into a workspace */
QUANT__INTERNAL unsigned char *quant__pq_align(void *ws) {
    return (unsigned char *)ws + ((64 - ((uintptr_t)ws & 63)) & 63);
}

QUANT_DEF size_t quant_pq_search_workspace_size(const void *packed) {
    quant__pqk_hdr h;
    quant_pq pq;
    if (quant__pqk_read(packed, QUANT__PQP_MAGIC, &h, &pq) != QUANT_OK) return 0;
    return 64 + pq.M * pq.ksub * sizeof(float);
}

QUANT_DEF quant_status quant_pq_search(const void *packed, quant_metric metric, const float *q, size_t nq,
        const uint8_t *codes, size_t n, size_t k, int64_t *ids, float *dists, void *ws, size_t ws_bytes) {
    quant__pqk_hdr h;
    quant_pq pq;
    const float *ct;
    float *T;
    size_t i;
    quant_status st;
    QUANT__PQ_GET(packed, h, pq, ct);
    if (!q || !ids || !dists || !k || !ws || (n && !codes)) return QUANT_EINVAL;
    if (metric != QUANT_METRIC_L2 && metric != QUANT_METRIC_IP) return QUANT_EINVAL;
    if (ws_bytes < 64 + pq.M * pq.ksub * sizeof(float)) return QUANT_EINVAL;
    if (!quant__vq_mul_ok(nq, pq.d) || !quant__vq_mul_ok(nq, k) || !quant__vq_mul_ok(n, quant_pq_code_size(&pq)) ||
        n > (size_t)INT64_MAX) return QUANT_EOVERFLOW;
    if ((st = quant__vq_values(q, nq, pq.d, pq.d)) != QUANT_OK) return st;
    T = (float *)(void *)quant__pq_align(ws);
    for (i = 0; i < nq; i++) {
        quant__pq_tables1(&pq, ct, metric, q + i * pq.d, T);
        quant__pq_scan1(&pq, T, codes, n, metric == QUANT_METRIC_IP, k, ids + i * k, dists + i * k);
    }
    return QUANT_OK;
}

/* ---- 8-bit tables (fast scan and PQ matmul LUT8) */

/* min and max of K = t (or -t when neg) over n entries; lo canonical (+0) */
static inline void quant__lut8_minmax(const float *t, size_t n, int neg, float *lo, float *hi) {
    size_t j = 0;
    float l = neg ? -t[0] : t[0], h = l;
#if QUANT__VFL > 1
    /* float lanes (section 1.1) when n is a multiple of them and no entry
     * is NaN or infinite (z = sum of v - v stays 0; else the loop below):
     * the same extremes; min(-t) = -max(t). Only the sign of a zero hi may
     * differ, which no use of hi sees (hi - lo, |hi|). */
    if (n >= QUANT__VFL && n % QUANT__VFL == 0) {
        quant__vf vl = quant__vf_load(t), vh = vl, z = quant__vf_sub(vl, vl);
        float fl[QUANT__VFL], fh[QUANT__VFL], fz[QUANT__VFL];
        int i, ok = 1;
        for (j = QUANT__VFL; j < n; j += QUANT__VFL) {
            const quant__vf v = quant__vf_load(t + j);
            vl = quant__vf_min(vl, v); vh = quant__vf_max(vh, v); z = quant__vf_add(z, quant__vf_sub(v, v));
        }
        quant__vf_store(fl, vl); quant__vf_store(fh, vh); quant__vf_store(fz, z);
        for (i = 0; i < QUANT__VFL; i++) ok &= fz[i] == 0.0f;
        if (ok) {
            float a = fl[0], b = fh[0];
            for (i = 1; i < QUANT__VFL; i++) { if (fl[i] < a) a = fl[i]; if (fh[i] > b) b = fh[i]; }
            *lo = (neg ? -b : a) + 0.0f;
            *hi = neg ? -a : b;
            return;
        }
        j = 0;
    }
#endif
    for (; j < n; j++) { const float v = neg ? -t[j] : t[j]; if (v < l) l = v; if (v > h) h = v; }
    *lo = l + 0.0f; *hi = h;
}

/* q[j] = min(255, nearbyintf((K[j] - lo) * inv)), K = t or -t; NaN (tables of +-inf) gives 0 */
static inline void quant__lut8_q(const float *t, size_t n, int neg, float lo, float inv, uint8_t *q) {
    size_t j = 0;
#if defined(QUANT_HAS_AVX2)
    /* float lanes (section 1.1), -t by the sign bit */
    const quant__vi sg = quant__vi_set32(neg ? INT32_MIN : 0), c255 = quant__vi_set32(255);
    const quant__vf vlo = quant__vf_set1(lo), vinv = quant__vf_set1(inv);
    for (; j + QUANT__VFL <= n; j += QUANT__VFL)
        quant__vi_st8(q + j, quant__vi_min32(quant__vf_cvtn(quant__vf_mul(quant__vf_sub(quant__vf_xor(quant__vf_load(t + j), sg), vlo), vinv)), c255));
#endif
    for (; j < n; j++) {
        const float v = nearbyintf(((neg ? -t[j] : t[j]) - lo) * inv);
        q[j] = (uint8_t)(v > 255.0f ? 255.0f : v >= 0.0f ? v : 0.0f); /* NaN: 0, as the vector paths and quant_ref_pqmm */
    }
}

/* M 8-bit tables of n entries each (K = t, or -t when neg) into q: one
 * step R / 255 for all, R the widest range (returned), each table from its
 * own minimum; *bias = the sum of the minimums, *S (unless NULL) += the
 * largest magnitudes */
QUANT__INTERNAL float quant__lut8_tables(const float *t, size_t M, size_t n, int neg, uint8_t *q, double *bias, double *S) {
    float R = 0.0f, inv, lo, h;
    size_t m;
    *bias = 0.0;
    for (m = 0; m < M; m++) {
        quant__lut8_minmax(t + m * n, n, neg, &lo, &h);
        if (h - lo > R) R = h - lo;
        *bias += (double)lo;
        if (S) *S += (double)(fabsf(lo) > fabsf(h) ? fabsf(lo) : fabsf(h));
    }
    inv = quant__lut8_inv(R);
    for (m = 0; m < M; m++) {
        quant__lut8_minmax(t + m * n, n, neg, &lo, &h);
        quant__lut8_q(t + m * n, n, neg, lo, inv, q + m * n);
    }
    return R;
}

/* ---- 4-bit fast scan */

/* sums of the 32 vectors of one block: out[i] = sum_m lut[m][code(i, m)],
 * exact in 16 bits (255 * mp <= 65535). Bytes of a 128-bit lane are the
 * vectors 0..15 (low nibbles) or 16..31 (high nibbles), QUANT__VB / 16
 * subspaces a step; as 16-bit lanes the even bytes accumulate in a - 256 b,
 * the odd ones in b (quant__vi_acc8): two adds and a shift for 16 lookups,
 * no widening; the 128-bit lanes are added at the end. */
#if defined(QUANT__VL)
static inline void quant__fs_block(const uint8_t *codes, const uint8_t *lut, size_t mp, uint16_t *out) {
    quant__vi aL = quant__vi_zero(), bL = aL, aH = aL, bH = aL;
    __m128i eL, oL, eH, oH;
    size_t g;
    for (g = 0; g < mp; g += QUANT__VB / 16) {
        const quant__vi c = quant__vi_load(codes + g * 16), l = quant__vi_load(lut + g * 16);
        const quant__vi rl = quant__vi_nib_lo(l, c), rh = quant__vi_nib_hi(l, c);
        quant__vi_acc8(&aL, &bL, rl);
        quant__vi_acc8(&aH, &bH, rh);
    }
    oL = quant__vi_fold128_16(bL); eL = _mm_sub_epi16(quant__vi_fold128_16(aL), _mm_slli_epi16(oL, 8));
    oH = quant__vi_fold128_16(bH); eH = _mm_sub_epi16(quant__vi_fold128_16(aH), _mm_slli_epi16(oH, 8));
    _mm_storeu_si128((__m128i *)(void *)out, _mm_unpacklo_epi16(eL, oL));
    _mm_storeu_si128((__m128i *)(void *)(out + 8), _mm_unpackhi_epi16(eL, oL));
    _mm_storeu_si128((__m128i *)(void *)(out + 16), _mm_unpacklo_epi16(eH, oH));
    _mm_storeu_si128((__m128i *)(void *)(out + 24), _mm_unpackhi_epi16(eH, oH));
}
#  if defined(QUANT_HAS_AVX512)
/* bit i: v[i] <= thr (thr in [-1, 65535]) */
static inline uint32_t quant__fs_mask(const uint16_t *v, int thr) {
    if (thr < 0) return 0;
    return (uint32_t)_mm512_cmple_epu16_mask(_mm512_loadu_si512((const void *)v), _mm512_set1_epi16((short)(uint16_t)thr));
}
#  elif defined(QUANT_HAS_AVX2)
static inline uint32_t quant__fs_mask(const uint16_t *v, int thr) {
    __m256i t, a, b, ea, eb;
    if (thr < 0) return 0;
    t = _mm256_set1_epi16((short)(uint16_t)thr);
    a = _mm256_loadu_si256((const __m256i *)(const void *)v);
    b = _mm256_loadu_si256((const __m256i *)(const void *)(v + 16));
    ea = _mm256_cmpeq_epi16(_mm256_min_epu16(a, t), a);
    eb = _mm256_cmpeq_epi16(_mm256_min_epu16(b, t), b);
    return (uint32_t)_mm256_movemask_epi8(_mm256_permute4x64_epi64(_mm256_packs_epi16(ea, eb), _MM_SHUFFLE(3, 1, 2, 0)));
}
#  endif
#elif defined(QUANT_HAS_NEON)
/* one subspace a step, widening adds (vaddw) into four 16-bit accumulators */
static inline void quant__fs_block(const uint8_t *codes, const uint8_t *lut, size_t mp, uint16_t *out) {
    const uint8x16_t m4 = vdupq_n_u8(0x0f);
    uint16x8_t a0 = vdupq_n_u16(0), a1 = a0, a2 = a0, a3 = a0;
    size_t m;
    for (m = 0; m < mp; m++) {
        const uint8x16_t c = vld1q_u8(codes + m * 16), l = vld1q_u8(lut + m * 16);
        const uint8x16_t lo = vandq_u8(c, m4), hi = vshrq_n_u8(c, 4);
#if defined(__aarch64__)
        const uint8x16_t rl = vqtbl1q_u8(l, lo), rh = vqtbl1q_u8(l, hi);
        a0 = vaddw_u8(a0, vget_low_u8(rl)); a1 = vaddw_high_u8(a1, rl);
        a2 = vaddw_u8(a2, vget_low_u8(rh)); a3 = vaddw_high_u8(a3, rh);
#else
        uint8x8x2_t tb;
        tb.val[0] = vget_low_u8(l); tb.val[1] = vget_high_u8(l);
        a0 = vaddw_u8(a0, vtbl2_u8(tb, vget_low_u8(lo))); a1 = vaddw_u8(a1, vtbl2_u8(tb, vget_high_u8(lo)));
        a2 = vaddw_u8(a2, vtbl2_u8(tb, vget_low_u8(hi))); a3 = vaddw_u8(a3, vtbl2_u8(tb, vget_high_u8(hi)));
#endif
    }
    vst1q_u16(out, a0); vst1q_u16(out + 8, a1); vst1q_u16(out + 16, a2); vst1q_u16(out + 24, a3);
}
#else
static inline void quant__fs_block(const uint8_t *codes, const uint8_t *lut, size_t mp, uint16_t *out) {
    size_t m, i;
    for (i = 0; i < 32; i++) out[i] = 0;
    for (m = 0; m < mp; m++)
        for (i = 0; i < 16; i++) {
            out[i] = (uint16_t)(out[i] + lut[m * 16 + (codes[m * 16 + i] & 15)]);
            out[16 + i] = (uint16_t)(out[16 + i] + lut[m * 16 + (codes[m * 16 + i] >> 4)]);
        }
}
#endif
#if !defined(QUANT_HAS_AVX2)
static inline uint32_t quant__fs_mask(const uint16_t *v, int thr) {
    uint32_t m = 0;
    int i;
    for (i = 0; i < 32; i++) m |= (uint32_t)((int)v[i] <= thr) << i;
    return m;
}
#endif

/* 8-bit codes: 64 vectors a block, for each subspace 64 bytes (vector i of
 * the block at byte i); out[i] = sum_m lut[m][code], exact in 16 bits. */
#if defined(QUANT__VL)
/* the vector layer's 256-entry lookup (section 1.1: vpermi2b on AVX-512
 * VBMI, else vpshufb rows), 64 / QUANT__VB vectors a subspace */
#  define QUANT__FS8_NV (64 / QUANT__VB)
static inline void quant__fs8_block(const uint8_t *codes, const uint8_t *lut, size_t M, uint16_t *out) {
    quant__vi a[QUANT__FS8_NV], b[QUANT__FS8_NV];
    size_t m;
    int v;
    QUANT__UNROLL
    for (v = 0; v < QUANT__FS8_NV; v++) a[v] = b[v] = quant__vi_zero();
    for (v = 0; v < QUANT__FS8_NV; v++) /* vector by vector: the tables' rows stay loads */
        for (m = 0; m < M; m++) quant__vi_acc8(&a[v], &b[v], quant__vi_lut256(lut + m * 256, quant__vi_load(codes + m * 64 + v * QUANT__VB)));
    QUANT__UNROLL
    for (v = 0; v < QUANT__FS8_NV; v++) quant__vi_acc8_store(out + v * QUANT__VB, a[v], b[v]);
}
#else
static inline void quant__fs8_block(const uint8_t *codes, const uint8_t *lut, size_t M, uint16_t *out) {
    size_t m;
    int i;
    uint32_t acc[64];
    for (i = 0; i < 64; i++) acc[i] = 0;
    for (m = 0; m < M; m++) {
        const uint8_t *c = codes + m * 64, *q = lut + m * 256;
        for (i = 0; i < 64; i++) acc[i] += q[c[i]];
    }
    for (i = 0; i < 64; i++) out[i] = (uint16_t)acc[i];
}
#endif

QUANT__INTERNAL size_t quant__fs_mp(size_t M) { return (M + 3) / 4 * 4; }
/* vectors a block, bytes a block */
QUANT__INTERNAL size_t quant__fs_bs(int nbits) { return nbits == 8 ? 64 : 32; }
QUANT__INTERNAL size_t quant__fs_bb(int nbits, size_t M) { return nbits == 8 ? M * 64 : quant__fs_mp(M) * 16; }
QUANT__INTERNAL int quant__fs_ok(const quant_pq *pq) { return (pq->nbits == 4 || pq->nbits == 8) && pq->M <= QUANT_FS_MAX_M; }

QUANT_DEF size_t quant_pq_fs_size(const void *packed, size_t n) {
    quant__pqk_hdr h;
    quant_pq pq;
    size_t nb, bb;
    if (quant__pqk_read(packed, QUANT__PQP_MAGIC, &h, &pq) != QUANT_OK || !quant__fs_ok(&pq)) return 0;
    nb = (n + quant__fs_bs(pq.nbits) - 1) / quant__fs_bs(pq.nbits);
    bb = quant__fs_bb(pq.nbits, pq.M);
    if (nb > SIZE_MAX / bb) return 0;
    return nb * bb;
}

/* n vectors' codes into blocks of bs vectors, bb bytes each (zeroed by
 * the caller): for each subspace, nbits 8, bs bytes (vector l of the block
 * at byte l); nbits 4, bs / 2 bytes (vector l in the low nibble of byte l,
 * vector bs / 2 + l in its high nibble) */
QUANT__INTERNAL void quant__pq_block_codes(const quant_pq *pq, const uint8_t *codes, size_t n, size_t bs, size_t bb,
        uint8_t *dst) {
    const size_t cs = quant_pq_code_size(pq), w = pq->nbits == 8 ? bs : bs / 2;
    size_t i, m;
    for (i = 0; i < n; i++)
        for (m = 0; m < pq->M; m++)
            dst[(i / bs) * bb + m * w + i % w] |= (uint8_t)(quant__pq_get(codes + i * cs, pq->nbits, m) << (i % bs < w ? 0 : 4));
}

QUANT_DEF quant_status quant_pq_fs_pack(const void *packed, const uint8_t *codes, size_t n, uint8_t *fs, size_t fs_bytes) {
    quant__pqk_hdr h;
    quant_pq pq;
    size_t need;
    quant_status st;
    if ((st = quant__pqk_read(packed, QUANT__PQP_MAGIC, &h, &pq)) != QUANT_OK) return st;
    if (!quant__fs_ok(&pq) || !fs || (n && !codes)) return QUANT_EINVAL;
    need = quant_pq_fs_size(packed, n);
    if (n && !need) return QUANT_EOVERFLOW;
    if (fs_bytes < need) return QUANT_EINVAL;
    memset(fs, 0, need);
    quant__pq_block_codes(&pq, codes, n, quant__fs_bs(pq.nbits), quant__fs_bb(pq.nbits, pq.M), fs);
    return QUANT_OK;
}

/* workspace: the 8-bit tables (4-bit: mp x 16; 8-bit: M x 256), one query's
 * float tables (M x ksub), the approximate heap (k keys, k ids), the 16-bit
 * sums of every vector */
QUANT__INTERNAL int quant__fs_ws(const quant_pq *pq, size_t n, size_t k, size_t *off_t, size_t *off_hk, size_t *off_hi,
        size_t *off_s, size_t *total) {
    const size_t bs = quant__fs_bs(pq->nbits), nb = (n + bs - 1) / bs;
    const size_t lut = pq->nbits == 8 ? pq->M * 256 : quant__fs_mp(pq->M) * 16;
    if (k > SIZE_MAX / 16 || nb > SIZE_MAX / 256) return 0;
    *off_t = quant__pqk_r64(lut);
    *off_hk = *off_t + quant__pqk_r64(pq->M * pq->ksub * sizeof(float));
    *off_hi = *off_hk + quant__pqk_r64(k * sizeof(float));
    *off_s = *off_hi + quant__pqk_r64(k * sizeof(int64_t));
    if (nb * bs * 2 > SIZE_MAX - 64 - *off_s) return 0;
    *total = 64 + *off_s + nb * bs * 2;
    return 1;
}

QUANT_DEF size_t quant_pq_fs_workspace_size(const void *packed, size_t n, size_t k) {
    quant__pqk_hdr h;
    quant_pq pq;
    size_t a, b, c, d, t;
    if (quant__pqk_read(packed, QUANT__PQP_MAGIC, &h, &pq) != QUANT_OK || !quant__fs_ok(&pq) || !k) return 0;
    return quant__fs_ws(&pq, n, k, &a, &b, &c, &d, &t) ? t : 0;
}

/* exact PQ distance of vector i from the fast-scan layout (subspace order) */
static inline float quant__fs_exact(const uint8_t *fs, int nbits, size_t M, const float *T, size_t i) {
    float s = 0.0f;
    size_t m;
    if (nbits == 8) {
        const uint8_t *c = fs + (i >> 6) * M * 64 + (i & 63);
        for (m = 0; m < M; m++) s += T[m * 256 + c[m * 64]];
    } else {
        const uint8_t *c = fs + (i >> 5) * quant__fs_mp(M) * 16 + (i & 15);
        const int sh = (i & 16) ? 4 : 0;
        for (m = 0; m < M; m++) s += T[m * 16 + ((c[m * 16] >> sh) & 15)];
    }
    return s;
}

/* one block's sums and the mask of its lanes <= thr among the valid ones */
static inline uint64_t quant__fs_blk(const quant_pq *pq, const uint8_t *fs, const uint8_t *lut, size_t b, size_t n,
        uint16_t *s, int thr, int compute) {
    const size_t bs = quant__fs_bs(pq->nbits);
    uint64_t mask;
    if (compute) {
        if (pq->nbits == 8) quant__fs8_block(fs + b * pq->M * 64, lut, pq->M, s);
        else quant__fs_block(fs + b * quant__fs_mp(pq->M) * 16, lut, quant__fs_mp(pq->M), s);
    }
    mask = quant__fs_mask(s, thr);
    if (bs == 64) mask |= (uint64_t)quant__fs_mask(s + 32, thr) << 32;
    if (n - b * bs < bs) mask &= ((uint64_t)1 << (n - b * bs)) - 1u;
    return mask;
}

QUANT__INTERNAL int quant__ctz64(uint64_t m) {
    int l = 0;
    while (!((m >> l) & 1u)) l++;
    return l;
}

QUANT__INTERNAL void quant__fs_query(const quant_pq *pq, const float *T, const uint8_t *fs, size_t n, int ip, size_t k,
        quant_fs_mode mode, int64_t *ids, float *dists, unsigned char *w, size_t *reranked) {
    const size_t M = pq->M, ks = pq->ksub, bs = quant__fs_bs(pq->nbits), nb = (n + bs - 1) / bs;
    size_t ot, ohk, ohi, os, tot, j, b, cnt = 0;
    uint8_t *lut;
    float *hk, R, delta, inv;
    int64_t *hi;
    uint16_t *sums;
    double bias = 0.0, S = 0.0;
    int thr;
    quant__fs_ws(pq, n, k, &ot, &ohk, &ohi, &os, &tot);
    (void)ot; (void)tot;
    lut = w; hk = (float *)(void *)(w + ohk); hi = (int64_t *)(void *)(w + ohi); sums = (uint16_t *)(void *)(w + os);
    /* the 8-bit tables of K = T (L2) or -T (IP) */
    R = quant__lut8_tables(T, M, ks, ip, lut, &bias, &S);
    delta = R / 255.0f;
    inv = quant__lut8_inv(R);
    if (pq->nbits == 4) memset(lut + M * 16, 0, (quant__fs_mp(M) - M) * 16);
    /* pass 1: every 16-bit sum, and the top-k of them */
    for (b = 0; b < nb; b++) {
        uint16_t *s = sums + b * bs;
        uint64_t mask = quant__fs_blk(pq, fs, lut, b, n, s, cnt < k ? 65535 : (int)hk[0] - 1, 1);
        while (mask) {
            const int l = quant__ctz64(mask);
            mask &= mask - 1u;
            quant__topk_push(hk, hi, k, &cnt, (float)s[l], (int64_t)(b * bs + (size_t)l));
        }
    }
    if (mode == QUANT_FS_APPROX) {
        quant__topk_finish(hk, hi, k, cnt, QUANT_METRIC_L2);
        for (j = 0; j < k; j++) {
            float v = (float)(bias + (double)delta * (double)hk[j]);
            ids[j] = hi[j];
            dists[j] = hi[j] < 0 ? (ip ? -INFINITY : INFINITY) : ip ? -v : v;
        }
        return;
    }
    /* pass 2: re-rank every vector within the bound of the k-th: the
     * approximation errs by at most M / 2 steps each way (rounding); slack
     * covers the float rounding of the exact sums and of the tables */
    if (cnt < k || !(inv > 0.0f)) thr = 65535;
    else {
        double slack = 2.0 + ceil(2.0 * (double)M * FLT_EPSILON * (S + fabs(bias)) / (double)delta + 0.001 * (double)M);
        double t = (double)hk[0] + (double)M + slack;
        thr = t >= 65535.0 ? 65535 : (int)t;
    }
    cnt = 0;
    for (b = 0; b < nb; b++) {
        uint64_t mask = quant__fs_blk(pq, fs, lut, b, n, sums + b * bs, thr, 0);
        while (mask) {
            const int l = quant__ctz64(mask);
            const size_t i = b * bs + (size_t)l;
            float s;
            mask &= mask - 1u;
            s = quant__fs_exact(fs, pq->nbits, M, T, i);
            quant__topk_push(dists, ids, k, &cnt, ip ? -s : s, (int64_t)i);
            (*reranked)++;
        }
    }
    quant__topk_finish(dists, ids, k, cnt, ip ? QUANT_METRIC_IP : QUANT_METRIC_L2);
}

QUANT__INTERNAL quant_status quant__fs_check(const void *packed, quant__pqk_hdr *h, quant_pq *pq, const uint8_t *fs, size_t n,
        size_t k, quant_metric metric, quant_fs_mode mode, int64_t *ids, float *dists, void *ws, size_t ws_bytes) {
    quant_status st;
    if ((st = quant__pqk_read(packed, QUANT__PQP_MAGIC, h, pq)) != QUANT_OK) return st;
    if (!quant__fs_ok(pq) || !ids || !dists || !k || !ws || (n && !fs)) return QUANT_EINVAL;
    if (metric != QUANT_METRIC_L2 && metric != QUANT_METRIC_IP) return QUANT_EINVAL;
    if (mode != QUANT_FS_EXACT && mode != QUANT_FS_APPROX) return QUANT_EINVAL;
    if (n > (size_t)INT64_MAX / 2) return QUANT_EOVERFLOW;
    {
        size_t need = quant_pq_fs_workspace_size(packed, n, k);
        if (!need) return QUANT_EOVERFLOW;
        if (ws_bytes < need) return QUANT_EINVAL;
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_pq_fs_scan(const void *packed, const float *tables, size_t nq, const uint8_t *fs,
        size_t n, quant_metric metric, size_t k, quant_fs_mode mode, int64_t *ids, float *dists,
        void *ws, size_t ws_bytes, size_t *reranked) {
    quant__pqk_hdr h;
    quant_pq pq;
    size_t i, rr = 0;
    quant_status st = quant__fs_check(packed, &h, &pq, fs, n, k, metric, mode, ids, dists, ws, ws_bytes);
    if (st != QUANT_OK) return st;
    if (!tables || !quant__vq_mul_ok(nq, k) || !quant__vq_mul_ok(nq * pq.M, pq.ksub)) return QUANT_EINVAL;
    for (i = 0; i < nq * pq.M * pq.ksub; i++) if (!quant__isfinite(tables[i])) return QUANT_EINVAL;
    for (i = 0; i < nq; i++)
        quant__fs_query(&pq, tables + i * pq.M * pq.ksub, fs, n, metric == QUANT_METRIC_IP, k, mode, ids + i * k,
                        dists + i * k, quant__pq_align(ws), &rr);
    if (reranked) *reranked = rr;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_pq_fs_search(const void *packed, quant_metric metric, const float *q, size_t nq,
        const uint8_t *fs, size_t n, size_t k, quant_fs_mode mode, int64_t *ids, float *dists,
        void *ws, size_t ws_bytes, size_t *reranked) {
    quant_pq pq;
    quant__pqk_hdr h;
    const float *ct;
    size_t i, rr = 0, ot, ohk, ohi, os, tot;
    unsigned char *w;
    quant_status st = quant__fs_check(packed, &h, &pq, fs, n, k, metric, mode, ids, dists, ws, ws_bytes);
    if (st != QUANT_OK) return st;
    if (!q || !quant__vq_mul_ok(nq, k) || !quant__vq_mul_ok(nq, pq.d)) return QUANT_EINVAL;
    if ((st = quant__vq_values(q, nq, pq.d, pq.d)) != QUANT_OK) return st;
    ct = (const float *)(const void *)((const char *)packed + h.off_a);
    w = quant__pq_align(ws);
    quant__fs_ws(&pq, n, k, &ot, &ohk, &ohi, &os, &tot);
    for (i = 0; i < nq; i++) {
        float *T = (float *)(void *)(w + ot);
        quant__pq_tables1(&pq, ct, metric, q + i * pq.d, T);
        quant__fs_query(&pq, T, fs, n, metric == QUANT_METRIC_IP, k, mode, ids + i * k, dists + i * k, w, &rr);
    }
    if (reranked) *reranked = rr;
    return QUANT_OK;
}

/* ---- PQ matmul */

QUANT_DEF size_t quant_pqmm_pack_size(const quant_pq *pq, size_t rows) {
    quant__pqk_hdr h;
    return quant__pq_ok(pq, 0) ? quant__pqk_geom(pq, QUANT__PQM_MAGIC, rows, &h) : 0;
}

QUANT_DEF quant_status quant_pqmm_pack(const quant_pq *pq, const uint8_t *codes, size_t rows,
        void *packed, size_t packed_bytes) {
    quant__pqk_hdr h;
    size_t tot;
    unsigned char *p = (unsigned char *)packed;
    if (!quant__pq_ok(pq, 1) || !codes || !packed || !rows) return QUANT_EINVAL;
    if (pq->M > QUANT_PQMM_MAX_M) return QUANT_ERANGE;
    if (!(tot = quant__pqk_geom(pq, QUANT__PQM_MAGIC, rows, &h))) return QUANT_EOVERFLOW;
    if (packed_bytes < tot) return QUANT_EINVAL;
    memset(p, 0, tot);
    memcpy(p, &h, sizeof h);
    quant__pqk_transpose(pq, (float *)(void *)(p + h.off_a));
    quant__pq_block_codes(pq, codes, rows, 64, pq->M * (pq->nbits == 8 ? 64 : 32), p + h.off_b);
    return QUANT_OK;
}

/* workspace: 64-byte header {magic, mode, M, ksub, delta, bias}, then the
 * tables (F32: floats; LUT8: bytes and 64 zero bytes after them) */
#define QUANT__PQW_MAGIC 0x31575051u /* "QPW1" */
typedef struct quant__pqw_hdr { uint32_t magic, mode, M, ksub; float delta, bias; uint32_t pad_[10]; } quant__pqw_hdr;

QUANT_DEF size_t quant_pqmm_workspace_size(const void *packed, quant_pqmm_mode mode) {
    quant__pqk_hdr h;
    quant_pq pq;
    if (quant__pqk_read(packed, QUANT__PQM_MAGIC, &h, &pq) != QUANT_OK) return 0;
    if (mode != QUANT_PQMM_F32 && mode != QUANT_PQMM_LUT8) return 0;
    /* LUT8 keeps the float tables too while quantizing; F32 keeps their
     * four byte planes too (the vpermi2b path) */
    return 64 + 64 + pq.M * pq.ksub * sizeof(float) +
           (mode == QUANT_PQMM_LUT8 ? pq.M * pq.ksub + 64 : pq.M * pq.ksub * sizeof(float));
}

QUANT_DEF quant_status quant_pqmm_tables(const void *packed, const float *x, quant_pqmm_mode mode,
        void *ws, size_t ws_bytes) {
    quant__pqk_hdr h;
    quant_pq pq;
    quant__pqw_hdr wh;
    const float *ct;
    unsigned char *w;
    float *T;
    size_t need;
    quant_status st;
    if ((st = quant__pqk_read(packed, QUANT__PQM_MAGIC, &h, &pq)) != QUANT_OK) return st;
    if (!x || !ws || (mode != QUANT_PQMM_F32 && mode != QUANT_PQMM_LUT8)) return QUANT_EINVAL;
    need = quant_pqmm_workspace_size(packed, mode);
    if (ws_bytes < need) return QUANT_EINVAL;
    if ((st = quant__vq_values(x, 1, pq.d, pq.d)) != QUANT_OK) return st;
    ct = (const float *)(const void *)((const char *)packed + h.off_a);
    w = quant__pq_align(ws);
    T = (float *)(void *)(w + 64);
    memset(&wh, 0, sizeof wh);
    wh.magic = QUANT__PQW_MAGIC; wh.mode = (uint32_t)mode; wh.M = (uint32_t)pq.M; wh.ksub = (uint32_t)pq.ksub;
    /* IP tables (the chains). Only the transposes are packed (pq.centroids
     * points at them too): quant_nearest reads c only for a tail of k that
     * is not a multiple of its tile width (16 on every ISA), which ksub (16
     * or 256) never has. */
    quant__pq_tables1(&pq, ct, QUANT_METRIC_IP, x, T);
    if (mode == QUANT_PQMM_LUT8) {
        double bias;
        uint8_t *Q = (uint8_t *)(T + pq.M * pq.ksub);
        wh.delta = quant__lut8_tables(T, pq.M, pq.ksub, 0, Q, &bias, NULL) / 255.0f;
        memset(Q + pq.M * pq.ksub, 0, 64);
        wh.bias = (float)bias;
    }
#if defined(QUANT__PQ_VBMI)
    else if (pq.nbits == 8) { /* byte b of every entry of subspace m: planes[(m * 4 + b) * 256 + j] */
        uint8_t *P = (uint8_t *)(T + pq.M * pq.ksub), ctl[64];
        size_t j, m;
        __m512i c;
        int e, b;
        for (b = 0; b < 4; b++) for (e = 0; e < 16; e++) ctl[16 * b + e] = (uint8_t)(4 * e + b);
        c = _mm512_loadu_si512((const void *)ctl); /* 128-bit lane b <- byte b of the 16 floats */
        for (m = 0; m < pq.M; m++)
            for (j = 0; j < 256; j += 64) {
                const float *t = T + m * 256 + j;
                uint8_t *o = P + m * 1024 + j;
                const __m512i w0 = _mm512_permutexvar_epi8(c, _mm512_loadu_si512((const void *)t));
                const __m512i w1 = _mm512_permutexvar_epi8(c, _mm512_loadu_si512((const void *)(t + 16)));
                const __m512i w2 = _mm512_permutexvar_epi8(c, _mm512_loadu_si512((const void *)(t + 32)));
                const __m512i w3 = _mm512_permutexvar_epi8(c, _mm512_loadu_si512((const void *)(t + 48)));
                const __m512i u0 = _mm512_shuffle_i64x2(w0, w1, _MM_SHUFFLE(1, 0, 1, 0)), u1 = _mm512_shuffle_i64x2(w2, w3, _MM_SHUFFLE(1, 0, 1, 0));
                const __m512i v0 = _mm512_shuffle_i64x2(w0, w1, _MM_SHUFFLE(3, 2, 3, 2)), v1 = _mm512_shuffle_i64x2(w2, w3, _MM_SHUFFLE(3, 2, 3, 2));
                _mm512_storeu_si512((void *)o, _mm512_shuffle_i64x2(u0, u1, _MM_SHUFFLE(2, 0, 2, 0)));
                _mm512_storeu_si512((void *)(o + 256), _mm512_shuffle_i64x2(u0, u1, _MM_SHUFFLE(3, 1, 3, 1)));
                _mm512_storeu_si512((void *)(o + 512), _mm512_shuffle_i64x2(v0, v1, _MM_SHUFFLE(2, 0, 2, 0)));
                _mm512_storeu_si512((void *)(o + 768), _mm512_shuffle_i64x2(v0, v1, _MM_SHUFFLE(3, 1, 3, 1)));
            }
    }
#endif
    memcpy(w, &wh, sizeof wh);
    return QUANT_OK;
}

/* The kernels of quant_pqmm_rows: the rows of nblk (<= QUANT__PQMM_CH)
 * blocks of 64 from the codes at cd (blk bytes a block) into acc, F32 sums
 * in subspace order (float acc) or LUT8 integer sums (uint32 acc), with the
 * tables at tab (F32: floats; LUT8: bytes; F32 by vpermi2b: byte planes). */
typedef void (*quant__pqmm_fn)(const uint8_t *cd, size_t blk, size_t nblk, const quant_pq *pq, const void *tab, void *acc);
#define QUANT__PQMM_CH 16

/* F32 (LUT 0: float sums in subspace order) or LUT8 (LUT 1: integer
 * sums), any nbits, a block at a time. On section 1.1's float lanes (64 /
 * QUANT__VFL vectors a block) the 4-bit codes of F32 by a 16-float lookup
 * (vpermps), of LUT8 on AVX-512 by vpermd on the table's bytes widened;
 * AVX-512 gathers F32's 8-bit ones (vgatherdps). Scalar elsewhere (nbits 8
 * on x86 mostly takes the kernels below). */
#define QUANT__PQMM_FV (64 / QUANT__VFL)
QUANT__AINL void quant__pqmm_blk(const int LUT, const uint8_t *cd, size_t blk, size_t nblk, const quant_pq *pq,
        const void *tab, void *out) {
    const float *T = (const float *)tab;
    const uint8_t *Q = (const uint8_t *)tab;
    const size_t M = pq->M, ksub = pq->ksub;
    const int nbits = pq->nbits;
    size_t b, m;
    int i;
    for (b = 0; b < nblk; b++, cd += blk) {
#if defined(QUANT_HAS_AVX2)
        if (nbits == 4 ? !LUT || QUANT__VL == 16 : !LUT && QUANT__VL == 16) {
            quant__vf a[QUANT__PQMM_FV];
            quant__vi u[QUANT__PQMM_FV];
            QUANT__UNROLL for (i = 0; i < QUANT__PQMM_FV; i++) { a[i] = quant__vf_zero(); u[i] = quant__vi_zero(); }
            if (nbits == 8)
                for (m = 0; m < M; m++)
                    QUANT__UNROLL for (i = 0; i < QUANT__PQMM_FV; i++)
                        a[i] = quant__vf_add(a[i], quant__vf_gather(T + m * ksub, quant__vi_ld8_32(cd + m * 64 + QUANT__VFL * i, 0)));
            else
                for (m = 0; m < M; m++) {
                    quant__vi v[QUANT__PQMM_FV / 2]; /* rows 0..31: the low nibbles of the 32 bytes; 32..63: the high ones */
                    QUANT__UNROLL for (i = 0; i < QUANT__PQMM_FV / 2; i++) v[i] = quant__vi_ld8_32(cd + m * 32 + QUANT__VFL * i, 0);
                    QUANT__UNROLL
                    for (i = 0; i < QUANT__PQMM_FV; i++) {
                        const quant__vi x = 2 * i < QUANT__PQMM_FV ? v[i] : quant__vi_shr4_32(v[i - QUANT__PQMM_FV / 2]);
                        if (!LUT) a[i] = quant__vf_add(a[i], quant__vf_lut16(quant__vf16_load(T + m * ksub), x));
#  if defined(QUANT_HAS_AVX512)
                        else u[i] = quant__vi_add32(u[i], quant__vi_lut16(quant__vi_ld8_32(Q + m * ksub, 0), x));
#  endif
                    }
                }
            QUANT__UNROLL
            for (i = 0; i < QUANT__PQMM_FV; i++)
                if (LUT) quant__vi_store((uint32_t *)out + 64 * b + QUANT__VFL * i, u[i]);
                else quant__vf_store((float *)out + 64 * b + QUANT__VFL * i, a[i]);
            continue;
        }
#endif
        /* scalar: acc[i] = the sum over the subspaces of the tables tb (Q or
         * T, entries of type TT) at row i's code */
#define QUANT__PQMM_SUMS(acc, TT, tb)                                                                        \
        for (i = 0; i < 64; i++) acc[i] = 0;                                                                 \
        if (nbits == 8)                                                                                      \
            for (m = 0; m < M; m++) {                                                                        \
                const uint8_t *c = cd + m * 64; const TT *t = (tb) + m * ksub;                               \
                for (i = 0; i < 64; i++) acc[i] += t[c[i]];                                                  \
            }                                                                                                \
        else                                                                                                 \
            for (m = 0; m < M; m++) {                                                                        \
                const uint8_t *c = cd + m * 32; const TT *t = (tb) + m * ksub;                               \
                for (i = 0; i < 32; i++) { acc[i] += t[c[i] & 15]; acc[32 + i] += t[c[i] >> 4]; }            \
            }
        if (LUT) {
            uint32_t *acc = (uint32_t *)out + 64 * b;
            QUANT__PQMM_SUMS(acc, uint8_t, Q);
        } else { /* float sums in a local array: no aliasing with T */
            float a[64];
            QUANT__PQMM_SUMS(a, float, T);
            memcpy((float *)out + 64 * b, a, sizeof a);
        }
#undef QUANT__PQMM_SUMS
    }
}
QUANT__INTERNAL void quant__pqmm_f32_blk(const uint8_t *cd, size_t blk, size_t nblk, const quant_pq *pq, const void *tab, void *out) {
    quant__pqmm_blk(0, cd, blk, nblk, pq, tab, out);
}
QUANT__INTERNAL void quant__pqmm_lut8_blk(const uint8_t *cd, size_t blk, size_t nblk, const quant_pq *pq, const void *tab, void *out) {
    quant__pqmm_blk(1, cd, blk, nblk, pq, tab, out);
}

#if defined(QUANT__PQ_VBMI)
/* F32, nbits 8: the float tables as four byte planes; quant__vi_lut256
 * (vpermi2b) looks up each byte of 64 entries, byte and word unpacks
 * rebuild the floats (rows permuted within the block: register k, lane
 * element 4 q + e is row 16 q + 4 k + e), added in subspace order: the
 * same sums as the gathers. */
QUANT__INTERNAL void quant__pqmm_f32_vbmi(const uint8_t *cd, size_t blk, size_t nblk, const quant_pq *pq, const void *tab, void *out) {
    const uint8_t *P = (const uint8_t *)tab;
    const size_t M = pq->M;
    float *acc = (float *)out;
    __m512 A[QUANT__PQMM_CH][4];
    size_t c0, b, g, m;
    int k, q, e;
    for (c0 = 0; c0 < nblk; c0 += QUANT__PQMM_CH) {
        const size_t nc = nblk - c0 < QUANT__PQMM_CH ? nblk - c0 : QUANT__PQMM_CH;
        for (b = 0; b < nc; b++) for (k = 0; k < 4; k++) A[b][k] = _mm512_setzero_ps();
        for (g = 0; g < M; g += 4) {
            const size_t g1 = M - g < 4 ? M : g + 4;
            for (b = 0; b < nc; b++) {
                const uint8_t *c = cd + (c0 + b) * blk;
                __m512 a0 = A[b][0], a1 = A[b][1], a2 = A[b][2], a3 = A[b][3];
                for (m = g; m < g1; m++) {
                    const __m512i ix = _mm512_loadu_si512((const void *)(c + m * 64));
                    __m512i r[4], t0, t1, t2, t3;
                    QUANT__UNROLL
                    for (k = 0; k < 4; k++) r[k] = quant__vi_lut256(P + m * 1024 + k * 256, ix);
                    t0 = _mm512_unpacklo_epi8(r[0], r[1]); t1 = _mm512_unpackhi_epi8(r[0], r[1]);
                    t2 = _mm512_unpacklo_epi8(r[2], r[3]); t3 = _mm512_unpackhi_epi8(r[2], r[3]);
                    a0 = _mm512_add_ps(a0, _mm512_castsi512_ps(_mm512_unpacklo_epi16(t0, t2)));
                    a1 = _mm512_add_ps(a1, _mm512_castsi512_ps(_mm512_unpackhi_epi16(t0, t2)));
                    a2 = _mm512_add_ps(a2, _mm512_castsi512_ps(_mm512_unpacklo_epi16(t1, t3)));
                    a3 = _mm512_add_ps(a3, _mm512_castsi512_ps(_mm512_unpackhi_epi16(t1, t3)));
                }
                A[b][0] = a0; A[b][1] = a1; A[b][2] = a2; A[b][3] = a3;
            }
        }
        for (b = 0; b < nc; b++) {
            float v[4][16], *o = acc + (c0 + b) * 64;
            for (k = 0; k < 4; k++) _mm512_storeu_ps(v[k], A[b][k]);
            for (q = 0; q < 4; q++) for (k = 0; k < 4; k++) for (e = 0; e < 4; e++) o[16 * q + 4 * k + e] = v[k][4 * q + e];
        }
    }
}
#endif

#if defined(QUANT_HAS_SSE41) && !defined(QUANT_HAS_AVX512)
/* F32, nbits 8, SSE4.1 and AVX2: blocks [0, nblk) of cd, groups of
 * QUANT__PQMM_GF subspaces (16 KiB of float tables, in L1) over up to
 * QUANT__PQMM_CH blocks, 8 rows at a time in scalar registers, each row's
 * sum in subspace order (the sums of the reference). Scalar loads: AVX2's
 * vgatherdps costs more a lookup than a load and an add (bench/RESULTS.md,
 * PQ). The codes come from DRAM for a large W: each block's codes of the
 * group after next are prefetched while its 8-row steps run (two 64-byte
 * lines a step, the group's 16 over the 8 steps), those of the first two
 * groups when the kernel starts; and the next group's tables (256 lines)
 * into L1, two lines a step over the first 128 steps (16 blocks) of the
 * group. */
#  define QUANT__PQMM_GF 16
#  if defined(__GNUC__) && !defined(__clang__)
/* GCC's SLP vectorizer otherwise packs the 8 loads into a vector (7
 * shuffles) for one vaddps: slower than 8 vaddss */
__attribute__((optimize("no-tree-slp-vectorize")))
#  endif
QUANT__INTERNAL void quant__pqmm_f32_s(const uint8_t *cd, size_t blk, size_t nblk, const quant_pq *pq, const void *tab, void *out) {
    const float *T = (const float *)tab;
    const size_t M = pq->M;
    float *acc = (float *)out;
    size_t b, g, m, r;
    for (b = 0; b < nblk * 64; b++) acc[b] = 0.0f;
    for (b = 0; b < nblk; b++)
        for (m = 0; m < 2 * QUANT__PQMM_GF && m < M; m++) _mm_prefetch((const char *)(cd + b * blk + m * 64), _MM_HINT_T0);
    for (g = 0; g < M; g += QUANT__PQMM_GF) {
        const size_t g1 = M - g < QUANT__PQMM_GF ? M : g + QUANT__PQMM_GF;
        for (b = 0; b < nblk; b++)
            for (r = 0; r < 64; r += 8) {
                float *o = acc + b * 64 + r;
                float a0 = o[0], a1 = o[1], a2 = o[2], a3 = o[3], a4 = o[4], a5 = o[5], a6 = o[6], a7 = o[7];
                const uint8_t *c = cd + b * blk + r;
                const size_t p = g1 + QUANT__PQMM_GF + r / 4; /* the code lines of this step: p, p + 1 */
                const size_t q = (b * 8 + r / 8) * 2; /* the next group's table lines of this step: q, q + 1 */
                if (p < M) _mm_prefetch((const char *)(cd + b * blk + p * 64), _MM_HINT_T0);
                if (p + 1 < M) _mm_prefetch((const char *)(cd + b * blk + (p + 1) * 64), _MM_HINT_T0);
                if (g1 < M && q < (M - g1) * 16 && q < 256) {
                    _mm_prefetch((const char *)(T + g1 * 256 + q * 16), _MM_HINT_T0);
                    _mm_prefetch((const char *)(T + g1 * 256 + q * 16 + 16), _MM_HINT_T0);
                }
                for (m = g; m < g1; m++) {
                    const float *t = T + m * 256;
                    /* 4 codes a 32-bit word (x86: little-endian): fewer instructions than shifts of
                     * one 64-bit word (byte 1 comes from a high-byte register, movzbl %ch) */
                    uint32_t lo, hi;
                    memcpy(&lo, c + m * 64, 4);
                    memcpy(&hi, c + m * 64 + 4, 4);
                    a0 += t[lo & 255]; a1 += t[(lo >> 8) & 255]; a2 += t[(lo >> 16) & 255]; a3 += t[lo >> 24];
                    a4 += t[hi & 255]; a5 += t[(hi >> 8) & 255]; a6 += t[(hi >> 16) & 255]; a7 += t[hi >> 24];
                }
                o[0] = a0; o[1] = a1; o[2] = a2; o[3] = a3; o[4] = a4; o[5] = a5; o[6] = a6; o[7] = a7;
            }
    }
}
#endif

#if defined(QUANT__VL)
/* LUT8, nbits 8, on the vector layer (section 1.1's 256-entry lookup:
 * vpermi2b on AVX-512 VBMI, else vpshufb rows on AVX2 / AVX-512BW /
 * SSE4.1): blocks [0, nblk) of cd, groups of QUANT__PQMM_GV subspaces over
 * up to QUANT__PQMM_CH blocks at a time; 16-bit sums per vector of 64 /
 * QUANT__VB a block (even bytes in a - 256 b, odd in b, below 65,536 for
 * 256 subspaces), added into 32 bits every 256 subspaces. Integer sums:
 * the same in any order. VBMI: groups of 8 (their byte tables stay in L1);
 * else groups of 256: the longest runs through the codes, which come from
 * DRAM for large W, prefetched QUANT__PQMM_PFD subspaces (64-byte lines)
 * ahead (the distances tried: bench/RESULTS.md, PQ). */
#  if defined(QUANT__PQ_VBMI)
#    define QUANT__PQMM_GV 8
#    define QUANT__PQMM_PREFETCH(p) ((void)0)
#  else
#    define QUANT__PQMM_GV 256
#    define QUANT__PQMM_PFD 48
#    if defined(__GNUC__) || defined(__clang__)
#      define QUANT__PQMM_PREFETCH(p) __builtin_prefetch((const void *)(p))
#    else
#      define QUANT__PQMM_PREFETCH(p) ((void)0)
#    endif
#  endif
#  define QUANT__PQMM_NV (64 / QUANT__VB)
QUANT__INTERNAL void quant__pqmm_lut8_vl(const uint8_t *cd, size_t blk, size_t nblk, const quant_pq *pq, const void *tab,
        void *out) {
    const uint8_t *Q = (const uint8_t *)tab;
    const size_t M = pq->M;
    uint32_t *acc = (uint32_t *)out;
    quant__vi A[QUANT__PQMM_CH * QUANT__PQMM_NV], B[QUANT__PQMM_CH * QUANT__PQMM_NV];
    uint16_t t[64];
    size_t b, m0, g, m, i;
    int v;
    for (i = 0; i < nblk * 64; i++) acc[i] = 0;
    for (m0 = 0; m0 < M; m0 += 256) {
        const size_t m1 = M - m0 < 256 ? M : m0 + 256;
        for (i = 0; i < nblk * QUANT__PQMM_NV; i++) A[i] = B[i] = quant__vi_zero();
        for (g = m0; g < m1; g += QUANT__PQMM_GV) {
            const size_t g1 = m1 - g < QUANT__PQMM_GV ? m1 : g + QUANT__PQMM_GV;
            for (b = 0; b < nblk; b++)
                for (v = 0; v < QUANT__PQMM_NV; v++) {
                    const uint8_t *c = cd + b * blk + (size_t)v * QUANT__VB;
                    quant__vi a = A[b * QUANT__PQMM_NV + (size_t)v], bb = B[b * QUANT__PQMM_NV + (size_t)v];
                    for (m = g; m < g1; m++) {
                        QUANT__PQMM_PREFETCH(c + (m + QUANT__PQMM_PFD) * 64); /* codes after an eviction come from DRAM */
                        quant__vi_acc8(&a, &bb, quant__vi_lut256(Q + m * 256, quant__vi_load(c + m * 64)));
                    }
                    A[b * QUANT__PQMM_NV + (size_t)v] = a; B[b * QUANT__PQMM_NV + (size_t)v] = bb;
                }
        }
        for (b = 0; b < nblk; b++) {
            for (v = 0; v < QUANT__PQMM_NV; v++)
                quant__vi_acc8_store(t + v * QUANT__VB, A[b * QUANT__PQMM_NV + (size_t)v], B[b * QUANT__PQMM_NV + (size_t)v]);
            for (i = 0; i < 64; i++) acc[b * 64 + i] += t[i];
        }
    }
}
#endif

QUANT_DEF quant_status quant_pqmm_rows(const void *packed, const void *ws, float *y, size_t r0, size_t r1) {
    quant__pqk_hdr h;
    quant_pq pq;
    quant__pqw_hdr wh;
    const unsigned char *w;
    const uint8_t *cd;
    const float *T;
    size_t b0, blk;
    int lut, planes = 0;
    quant__pqmm_fn fn;
    union { float f[QUANT__PQMM_CH * 64]; uint32_t u[QUANT__PQMM_CH * 64]; } acc;
    quant_status st;
    if ((st = quant__pqk_read(packed, QUANT__PQM_MAGIC, &h, &pq)) != QUANT_OK) return st;
    if (!ws || !y || r0 > r1 || r1 > h.rows) return QUANT_EINVAL;
    w = quant__pq_align((void *)(uintptr_t)ws);
    memcpy(&wh, w, sizeof wh);
    if (wh.magic != QUANT__PQW_MAGIC || wh.M != pq.M || wh.ksub != pq.ksub || wh.mode > 1) return QUANT_EINVAL;
    T = (const float *)(const void *)(w + 64);
    cd = (const uint8_t *)packed + h.off_b;
    blk = pq.M * (pq.nbits == 8 ? 64 : 32);
    lut = wh.mode == QUANT_PQMM_LUT8;
    fn = lut ? quant__pqmm_lut8_blk : quant__pqmm_f32_blk;
    if (pq.nbits == 8) {
#if defined(QUANT__PQ_VBMI)
        if (!lut) { fn = quant__pqmm_f32_vbmi; planes = 1; }
#elif defined(QUANT_HAS_SSE41) && !defined(QUANT_HAS_AVX512)
        if (!lut) fn = quant__pqmm_f32_s;
#endif
#if defined(QUANT__VL)
        if (lut) fn = quant__pqmm_lut8_vl;
#endif
    }
    for (b0 = r0 / 64; b0 * 64 < r1; b0 += QUANT__PQMM_CH) {
        size_t b1 = (r1 + 63) / 64, r, lo = b0 * 64 < r0 ? r0 : b0 * 64, hi;
        if (b1 > b0 + QUANT__PQMM_CH) b1 = b0 + QUANT__PQMM_CH;
        hi = b1 * 64 < r1 ? b1 * 64 : r1;
        fn(cd + b0 * blk, blk, b1 - b0, &pq, lut || planes ? (const void *)(T + pq.M * pq.ksub) : (const void *)T, &acc);
        if (lut) for (r = lo; r < hi; r++) y[r] = fmaf(wh.delta, (float)acc.u[r - b0 * 64], wh.bias);
        else for (r = lo; r < hi; r++) y[r] = acc.f[r - b0 * 64];
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_pqmm(const void *packed, const float *x, quant_pqmm_mode mode, float *y,
        void *ws, size_t ws_bytes) {
    quant__pqk_hdr h;
    quant_pq pq;
    quant_status st;
    if ((st = quant__pqk_read(packed, QUANT__PQM_MAGIC, &h, &pq)) != QUANT_OK) return st;
    if (!y) return QUANT_EINVAL;
    if ((st = quant_pqmm_tables(packed, x, mode, ws, ws_bytes)) != QUANT_OK) return st;
    return quant_pqmm_rows(packed, ws, y, 0, h.rows);
}

/* ---- codebook GEMV */

QUANT_DEF size_t quant_codebook_pack_size(int bits, size_t rows, size_t cols) {
    size_t nb, ng;
    if ((bits != 4 && bits != 8) || !rows || !cols || rows > 0xffffffffu || cols > 0xffffffffu) return 0;
    nb = (rows + 63) / 64;
    ng = bits == 8 ? cols : (cols + 1) / 2;
    if (nb > (SIZE_MAX - 64 - 1024) / 64 / ng) return 0;
    return 64 + 1024 + nb * ng * 64;
}

QUANT_DEF quant_status quant_codebook_pack(const uint8_t *idx, int bits, size_t rows, size_t cols,
        const float *codebook, int entries, void *packed, size_t packed_bytes) {
    quant__pqk_hdr h;
    size_t tot = quant_codebook_pack_size(bits, rows, cols), rb, r, c, ng;
    unsigned char *p = (unsigned char *)packed;
    if (!idx || !packed || !quant__cb_ok(codebook, entries, bits)) return QUANT_EINVAL;
    if (!tot) return rows && cols ? QUANT_EOVERFLOW : QUANT_EINVAL;
    if (packed_bytes < tot) return QUANT_EINVAL;
    rb = quant_codebook_row_bytes(bits, cols);
    for (r = 0; r < rows; r++)
        for (c = 0; c < cols; c++) if (quant__cb_get(idx + r * rb, bits, c) >= (uint32_t)entries) return QUANT_EFORMAT;
    ng = bits == 8 ? cols : (cols + 1) / 2;
    memset(p, 0, tot);
    memset(&h, 0, sizeof h);
    h.magic = QUANT__CBG_MAGIC; h.d = (uint32_t)cols; h.M = (uint32_t)entries; h.nbits = (uint32_t)bits;
    h.rows = (uint32_t)rows; h.nblocks = (uint32_t)((rows + 63) / 64); h.off_a = 64; h.off_b = 64 + 1024;
    h.total_lo = (uint32_t)tot; h.total_hi = (uint32_t)((uint64_t)tot >> 32);
    h.check = quant__pqk_check(&h);
    memcpy(p, &h, sizeof h);
    memcpy(p + 64, codebook, (size_t)entries * sizeof(float));
    for (r = 0; r < rows; r++) {
        unsigned char *bp = p + 64 + 1024 + (r / 64) * ng * 64 + r % 64;
        for (c = 0; c < cols; c++) {
            uint32_t v = quant__cb_get(idx + r * rb, bits, c);
            if (bits == 8) bp[c * 64] = (unsigned char)v;
            else bp[(c / 2) * 64] |= (unsigned char)(v << ((c & 1) * 4));
        }
    }
    return QUANT_OK;
}

/* 64 rows: acc[i] = the fmaf chain of row i over the columns. Float lanes
 * (section 1.1) where FMA exists: 64 / QUANT__VFL vectors; 4 bits: the low
 * nibbles of a step's 64 bytes are column c, the high ones column c + 1. */
#if defined(QUANT_HAS_AVX2)
#  define QUANT__CBG_NV (64 / QUANT__VFL)
/* 8 bits: gathers issued before their fmas, all of a step's on AVX2, one
 * at a time on AVX-512 (the faster order of each, bench/RESULTS.md) */
#  define QUANT__CBG_G (QUANT__VL == 8 ? QUANT__CBG_NV : 1)
QUANT__AINL void quant__cbg_step4(quant__vf *a, const uint8_t *bp, quant__vf16 t, quant__vf x0, quant__vf x1, const int TWO) {
    int i;
    QUANT__UNROLL
    for (i = 0; i < QUANT__CBG_NV; i++) {
        const quant__vi v = quant__vi_ld8_32(bp + QUANT__VFL * i, 0);
        a[i] = quant__vf_fma(quant__vf_lut16(t, v), x0, a[i]);
        if (TWO) a[i] = quant__vf_fma(quant__vf_lut16(t, quant__vi_shr4_32(v)), x1, a[i]);
    }
}
#endif
QUANT__INTERNAL void quant__cbg_blk(const uint8_t *bp, int bits, size_t cols, const float *cb, const float *x, float *acc) {
    size_t c;
    int i;
#if defined(QUANT_HAS_AVX2)
    quant__vf a[QUANT__CBG_NV];
    QUANT__UNROLL for (i = 0; i < QUANT__CBG_NV; i++) a[i] = quant__vf_zero();
    if (bits == 4) {
        const quant__vf16 t = quant__vf16_load(cb);
        for (c = 0; c + 1 < cols; c += 2, bp += 64) quant__cbg_step4(a, bp, t, quant__vf_set1(x[c]), quant__vf_set1(x[c + 1]), 1);
        if (c < cols) quant__cbg_step4(a, bp, t, quant__vf_set1(x[c]), quant__vf_zero(), 0);
    } else {
        for (c = 0; c < cols; c++, bp += 64) {
            const quant__vf x0 = quant__vf_set1(x[c]);
            quant__vf g[QUANT__CBG_G];
            int j;
            QUANT__UNROLL
            for (i = 0; i < QUANT__CBG_NV; i += QUANT__CBG_G) {
                QUANT__UNROLL for (j = 0; j < QUANT__CBG_G; j++) g[j] = quant__vf_gather(cb, quant__vi_ld8_32(bp + QUANT__VFL * (i + j), 0));
                QUANT__UNROLL for (j = 0; j < QUANT__CBG_G; j++) a[i + j] = quant__vf_fma(g[j], x0, a[i + j]);
            }
        }
    }
    QUANT__UNROLL for (i = 0; i < QUANT__CBG_NV; i++) quant__vf_store(acc + QUANT__VFL * i, a[i]);
#else
    for (i = 0; i < 64; i++) acc[i] = 0.0f;
    if (bits == 4) {
        for (c = 0; c < cols; c += 2, bp += 64) {
            const float x0 = x[c];
            for (i = 0; i < 64; i++) acc[i] = fmaf(cb[bp[i] & 15], x0, acc[i]);
            if (c + 1 < cols) { const float x1 = x[c + 1]; for (i = 0; i < 64; i++) acc[i] = fmaf(cb[bp[i] >> 4], x1, acc[i]); }
        }
    } else {
        for (c = 0; c < cols; c++, bp += 64) { const float x0 = x[c]; for (i = 0; i < 64; i++) acc[i] = fmaf(cb[bp[i]], x0, acc[i]); }
    }
#endif
}

QUANT_DEF quant_status quant_codebook_gemv_tile(const void *packed, const float *x, float *y, size_t r0, size_t r1) {
    quant__pqk_hdr h;
    size_t b, ng;
    const unsigned char *p = (const unsigned char *)packed;
    quant_status st;
    if (!packed) return QUANT_EINVAL;
    memcpy(&h, packed, sizeof h);
    if (h.magic != QUANT__CBG_MAGIC || h.check != quant__pqk_check(&h) || (h.nbits != 4 && h.nbits != 8) ||
        h.M < 2 || h.M > (h.nbits == 4 ? 16u : 256u) || !h.rows || !h.d || h.off_a != 64 || h.off_b != 64 + 1024 ||
        h.nblocks != (h.rows + 63) / 64 ||
        ((size_t)h.total_lo | (size_t)((uint64_t)h.total_hi << 32)) != quant_codebook_pack_size((int)h.nbits, h.rows, h.d))
        return QUANT_EFORMAT;
    if (!x || !y || r0 > r1 || r1 > h.rows) return QUANT_EINVAL;
    if ((st = quant__vq_values(x, 1, h.d, h.d)) != QUANT_OK) return st;
    ng = h.nbits == 8 ? h.d : (h.d + 1) / 2;
    for (b = r0 / 64; b * 64 < r1; b++) {
        float acc[64];
        size_t lo = b * 64 < r0 ? r0 : b * 64, hi = (b + 1) * 64 < r1 ? (b + 1) * 64 : r1, r;
        quant__cbg_blk(p + 64 + 1024 + b * ng * 64, (int)h.nbits, h.d, (const float *)(const void *)(p + 64), x, acc);
        for (r = lo; r < hi; r++) y[r] = acc[r - b * 64];
    }
    return QUANT_OK;
}

QUANT_DEF quant_status quant_codebook_gemv(const void *packed, const float *x, float *y) {
    quant__pqk_hdr h;
    if (!packed) return QUANT_EINVAL;
    memcpy(&h, packed, sizeof h);
    return quant_codebook_gemv_tile(packed, x, y, 0, h.magic == QUANT__CBG_MAGIC ? h.rows : 0);
}

/* end of section 6: its local macros */
#undef QUANT__CBG_MAGIC
#undef QUANT__CBG_NV
#undef QUANT__CBG_G
#undef QUANT__FS8_NV
#undef QUANT__NN_DEFINE
#undef QUANT__NN_MR
#undef QUANT__NN
#undef QUANT__NN_NV
#undef QUANT__NN_NV1
#undef QUANT__PQMM_CH
#undef QUANT__PQMM_FV
#undef QUANT__PQMM_GV
#undef QUANT__PQMM_PFD
#undef QUANT__PQMM_PREFETCH
#undef QUANT__PQMM_GF
#undef QUANT__PQMM_NV
#undef QUANT__PQM_MAGIC
#undef QUANT__PQP_MAGIC
#undef QUANT__PQW_MAGIC
#undef QUANT__PQ_GET
#undef QUANT__PQ_VBMI

/* ======================================================================== */
/* 7. int4 block weights x int8 activations (implementation)                */
/* ======================================================================== */
#define QUANT__Q4_MAGIC 0x31345151u /* "QQ41" */
#define QUANT__Q4_BLK 384           /* bytes per panel (16 columns) and block */
typedef struct quant__q4_hdr { uint32_t magic, K, N, nb, npanels, check; uint32_t pad_[10]; } quant__q4_hdr;

QUANT__INTERNAL uint32_t quant__q4_check(const quant__q4_hdr *h) {
    uint32_t x = 2166136261u, v[5];
    size_t i;
    v[0] = h->magic; v[1] = h->K; v[2] = h->N; v[3] = h->nb; v[4] = h->npanels;
    for (i = 0; i < 5; i++) x = (x ^ v[i]) * 16777619u;
    return x;
}

QUANT__INTERNAL int quant__q4_geom(size_t K, size_t N, size_t *nb, size_t *np, size_t *total) {
    if (!K || !N || K > QUANT_GEMM_MAX_K || N > ((size_t)1 << 24)) return 0;
    *nb = (K + QUANT_BLOCK - 1) / QUANT_BLOCK;
    *np = (N + 15) / 16;
    if (*np > (SIZE_MAX - 64) / QUANT__Q4_BLK / *nb) return 0;
    *total = 64 + *np * *nb * QUANT__Q4_BLK;
    return *total <= 0xffffffffu;
}

QUANT_DEF size_t quant_gemm_q4_pack_size(size_t K, size_t N) {
    size_t nb, np, tot;
    return quant__q4_geom(K, N, &nb, &np, &tot) ? tot : 0;
}

QUANT_DEF quant_status quant_gemm_q4_pack(const int8_t *W, const float *scales, size_t K, size_t N,
        void *packed, size_t packed_bytes) {
    size_t nb, np, tot, i, p, b, c, g, j;
    quant__q4_hdr h;
    uint8_t *dst = (uint8_t *)packed;
    if (!W || !scales || !packed || !quant__q4_geom(K, N, &nb, &np, &tot) || packed_bytes < tot) return QUANT_EINVAL;
    for (i = 0; i < N * nb; i++) if (!(scales[i] >= 0.0f) || scales[i] > 3.4e38f) return QUANT_EINVAL;
    for (i = 0; i < N * K; i++) if (W[i] < -8 || W[i] > 7) return QUANT_ERANGE;
    memset(&h, 0, sizeof h);
    h.magic = QUANT__Q4_MAGIC; h.K = (uint32_t)K; h.N = (uint32_t)N; h.nb = (uint32_t)nb; h.npanels = (uint32_t)np;
    h.check = quant__q4_check(&h);
    memcpy(dst, &h, sizeof h);
    for (p = 0; p < np; p++)
        for (b = 0; b < nb; b++) {
            uint8_t *blk = dst + 64 + (p * nb + b) * QUANT__Q4_BLK;
            float sc[16];
            int32_t cs[16];
            for (c = 0; c < 16; c++) {
                size_t n = p * 16 + c;
                sc[c] = n < N ? scales[n * nb + b] : 0.0f;
                cs[c] = 0;
                for (g = 0; g < 4; g++)
                    for (j = 0; j < 4; j++) {
                        size_t k0 = b * QUANT_BLOCK + 4 * g + j, k1 = k0 + 16;
                        int w0 = n < N && k0 < K ? W[n * K + k0] : 0, w1 = n < N && k1 < K ? W[n * K + k1] : 0;
                        blk[64 * g + 4 * c + j] = (uint8_t)((w0 + 8) | ((w1 + 8) << 4));
                        cs[c] += w0 + w1;
                    }
            }
            memcpy(blk + 256, sc, 64);
            memcpy(blk + 320, cs, 64);
        }
    return QUANT_OK;
}

QUANT__INTERNAL int quant__q4_hdr_get(const void *packed, quant__q4_hdr *h) {
    size_t nb, np, tot;
    memcpy(h, packed, sizeof *h);
    if (h->magic != QUANT__Q4_MAGIC || h->check != quant__q4_check(h)) return 0;
    if (!quant__q4_geom(h->K, h->N, &nb, &np, &tot) || nb != h->nb || np != h->npanels) return 0;
    return 1;
}

QUANT_DEF quant_status quant_gemm_q4_packed_dims(const void *packed, size_t *K, size_t *N) {
    quant__q4_hdr h;
    if (!packed) return QUANT_EINVAL;
    if (!quant__q4_hdr_get(packed, &h)) return QUANT_EFORMAT;
    if (K) *K = h.K;
    if (N) *N = h.N;
    return QUANT_OK;
}

/* Per ISA: the integer vector of 16 / QUANT__Q4W columns (quant__q4i:
 * section 1.1's int32 lanes), the vector of their packed weight bytes
 * (quant__q4b: the same), its float twin, the nibble -> int8 conversion
 * (lob, hib) and the 4-byte dot. AU8: the dot takes unsigned activations
 * (x86, scalar: int8 input is flipped by 0x80 and its zero point raised by
 * 128) or signed ones (Arm: uint8 input flipped, zero point lowered by
 * 128). */
#if defined(QUANT__VI32)
#  define QUANT__Q4W (16 / QUANT__VI32)
#  define QUANT__Q4MR (QUANT__VI32 == 16 ? 6 : 2)
#  define QUANT__Q4_AU8 QUANT__VI_DOT4U
typedef quant__vi quant__q4i;
typedef quant__vi quant__q4b;
#  define quant__q4_ldb quant__vi_loadu
#  define quant__q4_lob quant__vi_s4lo
#  define quant__q4_hib quant__vi_s4hi
#  define quant__q4_zero quant__vi_zero
QUANT__AINL quant__q4i quant__q4_dotb(quant__q4i acc, uint32_t a, quant__q4b w) { return quant__vi_dot4(acc, quant__vi_set32((int32_t)a), w); }
QUANT__AINL quant__q4i quant__q4_zc(const uint8_t *cs, int32_t nzp) { return quant__vi_mullo32(quant__vi_loadu(cs), quant__vi_set32(nzp)); }
#endif
#if defined(QUANT__VI32) && QUANT__VFL == QUANT__VI32
typedef quant__vf quant__q4f;
#  define quant__q4_fzero quant__vf_zero
#  define quant__q4_fst quant__vf_store
QUANT__AINL quant__q4f quant__q4_fma(quant__q4i d, const uint8_t *s, quant__q4f acc) { return quant__vf_fma(quant__vf_cvt(d), quant__vf_load((const float *)(const void *)s), acc); }
#elif defined(QUANT__VI32)
/* SSE4.1, 32-bit NEON: no fused vector multiply-add, fmaf per lane */
typedef struct { float v[QUANT__VI32]; } quant__q4f;
static inline quant__q4f quant__q4_fzero(void) { quant__q4f f = { { 0.0f } }; return f; }
static inline quant__q4f quant__q4_fma(quant__q4i d, const uint8_t *s, quant__q4f acc) {
    int32_t di[QUANT__VI32]; float sc[QUANT__VI32]; int l;
    quant__vi_store(di, d); memcpy(sc, s, sizeof sc);
    for (l = 0; l < QUANT__VI32; l++) acc.v[l] = fmaf((float)di[l], sc[l], acc.v[l]);
    return acc;
}
static inline void quant__q4_fst(float *p, quant__q4f v) { memcpy(p, v.v, sizeof v.v); }
#else
/* scalar: one column per "vector" (its 4 bytes of a k group) */
#define QUANT__Q4W 16
#define QUANT__Q4MR 1
#define QUANT__Q4_AU8 1
typedef int32_t quant__q4i;
typedef float quant__q4f;
typedef uint32_t quant__q4b;
static inline uint32_t quant__q4_ldb(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint32_t quant__q4_lob(uint32_t x) { return x & 0x0f0f0f0fu; }
static inline uint32_t quant__q4_hib(uint32_t x) { return (x >> 4) & 0x0f0f0f0fu; }
static inline quant__q4i quant__q4_dotb(quant__q4i acc, uint32_t a, uint32_t w) {
    int j;
    for (j = 0; j < 4; j++) acc += (int32_t)((a >> (8 * j)) & 255u) * ((int32_t)((w >> (8 * j)) & 15u) - 8);
    return acc;
}
static inline quant__q4i quant__q4_zero(void) { return 0; }
static inline quant__q4i quant__q4_zc(const uint8_t *cs, int32_t nzp) { int32_t v; memcpy(&v, cs, 4); return (int32_t)((uint32_t)v * (uint32_t)nzp); }
static inline quant__q4f quant__q4_fzero(void) { return 0.0f; }
static inline quant__q4f quant__q4_fma(quant__q4i d, const uint8_t *s, quant__q4f acc) { float sc; memcpy(&sc, s, 4); return fmaf((float)d, sc, acc); }
static inline void quant__q4_fst(float *p, quant__q4f v) { *p = v; }
#endif

#define QUANT__Q4SV (64 / QUANT__Q4W) /* bytes of a k group per vector */
/* the micro-kernels' names: rows x columns (16 a panel, 32 for two) and ISA */
#if defined(QUANT_HAS_AVX512VNNI)
#  define QUANT__Q4K quant__gemm_q4_6x16__avx512vnni
#  define QUANT__Q4K2 quant__gemm_q4_6x32__avx512vnni
#elif defined(QUANT_HAS_AVX512)
#  define QUANT__Q4K quant__gemm_q4_6x16__avx512
#  define QUANT__Q4K2 quant__gemm_q4_6x32__avx512
#elif defined(QUANT_HAS_AVXVNNI)
#  define QUANT__Q4K quant__gemm_q4_2x16__avxvnni
#elif defined(QUANT_HAS_AVX2)
#  define QUANT__Q4K quant__gemm_q4_2x16__avx2
#elif defined(QUANT_HAS_SSE41)
#  define QUANT__Q4K quant__gemm_q4_2x16__sse41
#elif defined(QUANT_HAS_NEONDOT)
#  define QUANT__Q4K quant__gemm_q4_2x16__neondot
#elif defined(QUANT_HAS_NEON)
#  define QUANT__Q4K quant__gemm_q4_2x16__neon
#else
#  define QUANT__Q4K quant__gemm_q4_1x16__scalar
#endif

/* MR rows x 16 columns over every block of one panel: f = the fmaf chains
 * (16 floats per row). a[r] are the rows (already past any tail copy: the
 * last block reads tail[r] when K % 32 != 0). */
QUANT__AINL void quant__gemm_q4_body(const int MR, const int ZP, size_t nb, int tail_last,
        const uint8_t *const *a, const uint8_t (*tail)[32], uint32_t flip, int32_t nzp, const uint8_t *pan, float *f) {
    quant__q4f fa[QUANT__Q4MR][QUANT__Q4W];
    size_t b;
    int r, s, g;
    QUANT__UNROLL
    for (r = 0; r < MR; r++) QUANT__UNROLL for (s = 0; s < QUANT__Q4W; s++) fa[r][s] = quant__q4_fzero();
    for (b = 0; b < nb; b++) {
        const uint8_t *blk = pan + b * QUANT__Q4_BLK;
        const uint8_t *ab[QUANT__Q4MR];
        QUANT__UNROLL
        for (r = 0; r < MR; r++) ab[r] = (tail_last && b + 1 == nb) ? tail[r] : a[r] + b * QUANT_BLOCK;
        QUANT__UNROLL
        for (s = 0; s < QUANT__Q4W; s++) {
            quant__q4i acc[QUANT__Q4MR];
            QUANT__UNROLL
            for (r = 0; r < MR; r++) acc[r] = ZP ? quant__q4_zc(blk + 320 + 4 * (16 / QUANT__Q4W) * s, nzp) : quant__q4_zero();
            QUANT__UNROLL
            for (g = 0; g < 4; g++) {
                const quant__q4b x = quant__q4_ldb(blk + 64 * g + QUANT__Q4SV * s);
                const quant__q4b wl = quant__q4_lob(x), wh = quant__q4_hib(x);
                QUANT__UNROLL
                for (r = 0; r < MR; r++) {
                    uint32_t v0, v1;
                    memcpy(&v0, ab[r] + 4 * g, 4);
                    memcpy(&v1, ab[r] + 4 * g + 16, 4);
                    acc[r] = quant__q4_dotb(acc[r], v0 ^ flip, wl);
                    acc[r] = quant__q4_dotb(acc[r], v1 ^ flip, wh);
                }
            }
            QUANT__UNROLL
            for (r = 0; r < MR; r++) fa[r][s] = quant__q4_fma(acc[r], blk + 256 + 4 * (16 / QUANT__Q4W) * s, fa[r][s]);
        }
    }
    QUANT__UNROLL
    for (r = 0; r < MR; r++) QUANT__UNROLL for (s = 0; s < QUANT__Q4W; s++) quant__q4_fst(f + 16 * r + (16 / QUANT__Q4W) * s, fa[r][s]);
}

#if QUANT__Q4W == 1
/* MR rows x two adjacent panels (32 columns): each activation broadcast
 * feeds both panels' dot products. f: 32 floats per row (panel p, then p + 1). */
QUANT__AINL void quant__gemm_q4_body2(const int MR, const int ZP, size_t nb, int tail_last,
        const uint8_t *const *a, const uint8_t (*tail)[32], uint32_t flip, int32_t nzp, const uint8_t *pan, size_t pstride, float *f) {
    quant__q4f fa[QUANT__Q4MR][2];
    size_t b;
    int r, q, g;
    QUANT__UNROLL
    for (r = 0; r < MR; r++) { fa[r][0] = quant__q4_fzero(); fa[r][1] = quant__q4_fzero(); }
    for (b = 0; b < nb; b++) {
        const uint8_t *blk[2];
        const uint8_t *ab[QUANT__Q4MR];
        quant__q4i acc[QUANT__Q4MR][2];
        blk[0] = pan + b * QUANT__Q4_BLK; blk[1] = blk[0] + pstride;
        QUANT__UNROLL
        for (r = 0; r < MR; r++) ab[r] = (tail_last && b + 1 == nb) ? tail[r] : a[r] + b * QUANT_BLOCK;
        QUANT__UNROLL
        for (q = 0; q < 2; q++) {
            const quant__q4i z = ZP ? quant__q4_zc(blk[q] + 320, nzp) : quant__q4_zero();
            QUANT__UNROLL
            for (r = 0; r < MR; r++) acc[r][q] = z;
        }
        QUANT__UNROLL
        for (g = 0; g < 4; g++) {
            const quant__q4b x0 = quant__q4_ldb(blk[0] + 64 * g), x1 = quant__q4_ldb(blk[1] + 64 * g);
            const quant__q4b wl0 = quant__q4_lob(x0), wh0 = quant__q4_hib(x0), wl1 = quant__q4_lob(x1), wh1 = quant__q4_hib(x1);
            QUANT__UNROLL
            for (r = 0; r < MR; r++) {
                uint32_t v0, v1;
                memcpy(&v0, ab[r] + 4 * g, 4);
                memcpy(&v1, ab[r] + 4 * g + 16, 4);
                v0 ^= flip; v1 ^= flip;
                acc[r][0] = quant__q4_dotb(acc[r][0], v0, wl0);
                acc[r][1] = quant__q4_dotb(acc[r][1], v0, wl1);
                acc[r][0] = quant__q4_dotb(acc[r][0], v1, wh0);
                acc[r][1] = quant__q4_dotb(acc[r][1], v1, wh1);
            }
        }
        QUANT__UNROLL
        for (r = 0; r < MR; r++) QUANT__UNROLL for (q = 0; q < 2; q++) fa[r][q] = quant__q4_fma(acc[r][q], blk[q] + 256, fa[r][q]);
    }
    QUANT__UNROLL
    for (r = 0; r < MR; r++) { quant__q4_fst(f + 32 * r, fa[r][0]); quant__q4_fst(f + 32 * r + 16, fa[r][1]); }
}

static void QUANT__Q4K2(size_t mr, int zp, size_t nb, int tail_last, const uint8_t *const *a, const uint8_t (*tail)[32],
        uint32_t flip, int32_t nzp, const uint8_t *pan, size_t pstride, float *f) {
#define QUANT__Q4_CASE2(R) case R: { if (zp) quant__gemm_q4_body2(R, 1, nb, tail_last, a, tail, flip, nzp, pan, pstride, f); \
                                     else quant__gemm_q4_body2(R, 0, nb, tail_last, a, tail, flip, nzp, pan, pstride, f); } break;
    switch (mr) {
    QUANT__Q4_CASE2(6)
    QUANT__Q4_CASE2(5)
    QUANT__Q4_CASE2(4)
    QUANT__Q4_CASE2(3)
    QUANT__Q4_CASE2(2)
    default: QUANT__Q4_CASE2(1)
    }
#undef QUANT__Q4_CASE2
}
#define QUANT__Q4_PAIR 1
#endif

static void QUANT__Q4K(size_t mr, int zp, size_t nb, int tail_last, const uint8_t *const *a, const uint8_t (*tail)[32],
        uint32_t flip, int32_t nzp, const uint8_t *pan, float *f) {
#define QUANT__Q4_CASE(R) case R: { if (zp) quant__gemm_q4_body(R, 1, nb, tail_last, a, tail, flip, nzp, pan, f); \
                                    else quant__gemm_q4_body(R, 0, nb, tail_last, a, tail, flip, nzp, pan, f); } break;
    switch (mr) {
#if QUANT__Q4MR >= 6
    QUANT__Q4_CASE(6)
    QUANT__Q4_CASE(5)
    QUANT__Q4_CASE(4)
    QUANT__Q4_CASE(3)
#endif
#if QUANT__Q4MR >= 2
    QUANT__Q4_CASE(2)
#endif
    default: QUANT__Q4_CASE(1)
    }
#undef QUANT__Q4_CASE
}

/* the output of one row and columns [c0, c1) of a panel from its chains */
static void quant__q4_out(const quant_q4_epilogue *ep, float as, const float *f, size_t n0, size_t c0, size_t c1, void *C) {
    size_t c;
    for (c = c0; c < c1; c++) {
        const float y = fmaf(f[c], as, ep->bias ? ep->bias[n0 + c] : 0.0f);
        if (ep->out == QUANT_OUT_F32) ((float *)C)[n0 + c] = y;
        else {
            float v = nearbyintf(y * ep->out_inv) + (float)ep->out_zp;
            int32_t q;
            if (v != v) v = (float)ep->out_zp;
            v = v < (float)ep->out_min ? (float)ep->out_min : v > (float)ep->out_max ? (float)ep->out_max : v;
            q = (int32_t)v;
            if (ep->out == QUANT_OUT_U8) ((uint8_t *)C)[n0 + c] = (uint8_t)q;
            else ((int8_t *)C)[n0 + c] = (int8_t)q;
        }
    }
}

/* the same for a whole panel (16 columns) on section 1.1's float lanes
 * where FMA exists: the same operations in the same order, so the same
 * bits */
#if defined(QUANT_HAS_AVX2)
static inline void quant__q4_out16(const quant_q4_epilogue *ep, float as, const float *f, size_t n0, void *C) {
    int h;
    for (h = 0; h < 16; h += QUANT__VFL) {
        const quant__vf y = quant__vf_fma(quant__vf_load(f + h), quant__vf_set1(as),
                                          ep->bias ? quant__vf_load(ep->bias + n0 + h) : quant__vf_zero());
        quant__vf v, zp;
        if (ep->out == QUANT_OUT_F32) { quant__vf_store((float *)C + n0 + h, y); continue; }
        zp = quant__vf_set1((float)ep->out_zp);
        v = quant__vf_nan_to(quant__vf_add(quant__vf_round(quant__vf_mul(y, quant__vf_set1(ep->out_inv))), zp), zp);
        v = quant__vf_min(quant__vf_max(v, quant__vf_set1((float)ep->out_min)), quant__vf_set1((float)ep->out_max));
        quant__vi_st8((uint8_t *)C + n0 + h, quant__vf_cvtt(v));
    }
}
#define QUANT__Q4_OUT16 1
#endif

/* rows [m0, m1), columns [n0, n1); validated by the callers */
static void quant__q4_run(const quant__q4_hdr *h, const uint8_t *packed, size_t M, const uint8_t *A, int a_signed, size_t lda,
        int32_t a_zp, const quant_q4_epilogue *ep, void *C, size_t ldc, size_t m0, size_t m1, size_t n0, size_t n1) {
    const size_t K = h->K, nb = h->nb, es = ep->out == QUANT_OUT_F32 ? 4 : 1;
    const int tail_last = K % QUANT_BLOCK != 0;
    const uint32_t flip = (QUANT__Q4_AU8 ? a_signed : !a_signed) ? 0x80808080u : 0u;
    const int32_t zph = a_zp + (QUANT__Q4_AU8 ? (a_signed ? 128 : 0) : (a_signed ? 0 : -128));
    size_t m, p;
    (void)M;
    for (m = m0; m < m1; m += QUANT__Q4MR) {
        const size_t mr = m1 - m < QUANT__Q4MR ? m1 - m : QUANT__Q4MR;
        const uint8_t *a[QUANT__Q4MR];
        uint8_t tail[QUANT__Q4MR][32];
        float f[QUANT__Q4MR * 16];
        size_t r;
        for (r = 0; r < mr; r++) {
            a[r] = A + (m + r) * lda;
            if (tail_last) {
                memset(tail[r], a_signed ? 0x80 : 0, 32); /* any value: its weights are 0 */
                memcpy(tail[r], a[r] + (nb - 1) * QUANT_BLOCK, K - (nb - 1) * QUANT_BLOCK);
            }
        }
        for (p = n0 / 16; p * 16 < n1; p++) {
            const size_t c0 = n0 > p * 16 ? n0 - p * 16 : 0, c1 = n1 - p * 16 < 16 ? n1 - p * 16 : 16;
#if defined(QUANT__Q4_PAIR)
            if (mr > 1 && c0 == 0 && (p + 2) * 16 <= n1) { /* two full panels at once */
                float f2[QUANT__Q4MR * 32];
                int q;
                QUANT__Q4K2(mr, zph != 0, nb, tail_last, a, (const uint8_t (*)[32])tail, flip, -zph,
                                packed + 64 + p * nb * QUANT__Q4_BLK, nb * QUANT__Q4_BLK, f2);
                for (r = 0; r < mr; r++) {
                    const float as = ep->a_scale[ep->a_scale_per_row ? m + r : 0];
                    uint8_t *cr = (uint8_t *)C + (m + r) * ldc * es;
                    for (q = 0; q < 2; q++) quant__q4_out16(ep, as, f2 + 32 * r + 16 * q, (p + (size_t)q) * 16, cr);
                }
                p++;
                continue;
            }
#endif
            QUANT__Q4K(mr, zph != 0, nb, tail_last, a, (const uint8_t (*)[32])tail, flip, -zph,
                           packed + 64 + p * nb * QUANT__Q4_BLK, f);
            for (r = 0; r < mr; r++) {
                const float as = ep->a_scale[ep->a_scale_per_row ? m + r : 0];
                uint8_t *cr = (uint8_t *)C + (m + r) * ldc * es;
#if defined(QUANT__Q4_OUT16)
                if (c0 == 0 && c1 == 16) { quant__q4_out16(ep, as, f + 16 * r, p * 16, cr); continue; }
#endif
                quant__q4_out(ep, as, f + 16 * r, p * 16, c0, c1, cr);
            }
        }
    }
}

QUANT__INTERNAL quant_status quant__q4_args(const void *packed, quant__q4_hdr *h, const quant_q4_epilogue *ep,
        int a_signed, int32_t a_zp) {
    quant_status st;
    if (!packed) return QUANT_EINVAL;
    if (!quant__q4_hdr_get(packed, h)) return QUANT_EFORMAT;
    if ((st = quant__q4_ep_check(ep)) != QUANT_OK) return st;
    if (a_signed ? (a_zp < -128 || a_zp > 127) : (a_zp < 0 || a_zp > 255)) return QUANT_EINVAL;
    return QUANT_OK;
}

QUANT_DEF quant_status quant_gemm_q4_tile(size_t M, const void *A, int a_signed, size_t lda, int32_t a_zp,
        const void *packed, const quant_q4_epilogue *ep, void *C, size_t ldc,
        size_t m0, size_t m1, size_t n0, size_t n1) {
    quant__q4_hdr h;
    quant_status st = quant__q4_args(packed, &h, ep, a_signed, a_zp);
    size_t m;
    if (st != QUANT_OK) return st;
    if (m0 > m1 || m1 > M || n0 > n1 || n1 > h.N || lda < h.K || ldc < h.N) return QUANT_EINVAL;
    if (!quant__span_ok(M, lda, 1) || !quant__span_ok(M, ldc, ep->out == QUANT_OUT_F32 ? 4 : 1) ||
        (ep->a_scale_per_row && !quant__span_ok(M, 1, sizeof(float)))) return QUANT_EOVERFLOW;
    if (m0 == m1 || n0 == n1) return QUANT_OK;
    if (!A || !C) return QUANT_EINVAL;
    if (ep->a_scale_per_row) {
        for (m = m0; m < m1; m++) if (!(ep->a_scale[m] > 0.0f) || ep->a_scale[m] > 3.4e38f) return QUANT_EINVAL;
    } else if (!(ep->a_scale[0] > 0.0f) || ep->a_scale[0] > 3.4e38f) return QUANT_EINVAL;
    quant__q4_run(&h, (const uint8_t *)packed, M, (const uint8_t *)A, a_signed, lda, a_zp, ep, C, ldc, m0, m1, n0, n1);
    return QUANT_OK;
}

QUANT_DEF quant_status quant_gemm_q4(size_t M, const void *A, int a_signed, size_t lda, int32_t a_zp,
        const void *packed, const quant_q4_epilogue *ep, void *C, size_t ldc) {
    size_t K, N;
    quant_status st = quant_gemm_q4_packed_dims(packed, &K, &N);
    if (st != QUANT_OK) return st;
    return quant_gemm_q4_tile(M, A, a_signed, lda, a_zp, packed, ep, C, ldc, 0, M, 0, N);
}

QUANT_DEF quant_status quant_conv2d_q4_tile(const quant_conv_shape *s, const void *in, int a_signed, int32_t a_zp,
        const void *packed, const quant_q4_epilogue *ep, void *out, void *workspace, size_t workspace_bytes,
        size_t pix0, size_t pix1) {
    size_t oh, ow, K, P, p, m;
    quant__q4_hdr h;
    quant_status st = quant_conv_out_size(s, &oh, &ow);
    if (st != QUANT_OK) return st;
    if ((st = quant__q4_args(packed, &h, ep, a_signed, a_zp)) != QUANT_OK) return st;
    K = s->k_h * s->k_w * s->in_c;
    if (h.K != K || h.N != s->out_c) return QUANT_EINVAL;
    P = s->batch * oh * ow;
    if (pix0 > pix1 || pix1 > P) return QUANT_EINVAL;
    if (pix0 == pix1) return QUANT_OK;
    if (!in || !out) return QUANT_EINVAL;
    if (ep->a_scale_per_row) {
        for (m = pix0; m < pix1; m++) if (!(ep->a_scale[m] > 0.0f) || ep->a_scale[m] > 3.4e38f) return QUANT_EINVAL;
    } else if (!(ep->a_scale[0] > 0.0f) || ep->a_scale[0] > 3.4e38f) return QUANT_EINVAL;
    if (quant__conv_is_1x1(s)) {
        quant__q4_run(&h, (const uint8_t *)packed, P, (const uint8_t *)in, a_signed, K, a_zp, ep, out, s->out_c, pix0, pix1, 0, s->out_c);
        return QUANT_OK;
    }
    if (!workspace || workspace_bytes < quant_conv2d_workspace_size(s)) return QUANT_EINVAL;
    for (p = pix0; p < pix1; p += quant__conv_tile(K, oh * ow)) {
        const size_t pe = p + quant__conv_tile(K, oh * ow) < pix1 ? p + quant__conv_tile(K, oh * ow) : pix1;
        const size_t es = ep->out == QUANT_OUT_F32 ? 4 : 1, ld = quant__im2col_ld(K);
        quant_q4_epilogue e2 = *ep;
        if (e2.a_scale_per_row) e2.a_scale += p; /* the tile's rows are numbered from 0 */
        quant__im2col(s, oh, ow, (const uint8_t *)in, (uint8_t)(a_zp & 0xff), p, pe, (uint8_t *)workspace, ld);
        quant__q4_run(&h, (const uint8_t *)packed, pe - p, (const uint8_t *)workspace, a_signed, ld, a_zp, &e2,
                      (uint8_t *)out + p * s->out_c * es, s->out_c, 0, pe - p, 0, s->out_c);
    }
    return QUANT_OK;
}

/* end of section 7: its local macros */
#undef QUANT__Q4MR
#undef QUANT__Q4K
#undef QUANT__Q4K2
#undef QUANT__Q4SV
#undef QUANT__Q4W
#undef QUANT__Q4_AU8
#undef QUANT__Q4_BLK
#undef QUANT__Q4_MAGIC
#undef QUANT__Q4_OUT16
#undef QUANT__Q4_PAIR
#undef quant__q4_ldb
#undef quant__q4_lob
#undef quant__q4_hib
#undef quant__q4_zero
#undef quant__q4_fzero
#undef quant__q4_fst

/* ======================================================================== */
/* 8. quantized elementwise (implementation)                                */
/* ======================================================================== */
/* On section 1.1's int32 lanes (QUANT__VI32): the multiply by a quantized
 * multiplier, one for x86 and one for NEON (below), then the add / mul /
 * requantize loops written once. Blocks of 16 elements; the tail goes
 * through 16-byte buffers on the stack. */

/* The kinds of one gemmlowp multiply x * M 2^shift, fixed per call:
 * R: shift <= 0, SRDHM then RoundingDivideByPOT(e = -shift) (any e);
 * Z: shift = 0 (SRDHM alone; R is also right there, Z skips the rounding);
 * L: shift > 0, saturating x 2^shift then SRDHM. */
#define QUANT__EW_R 0
#define QUANT__EW_Z 1
#define QUANT__EW_L 2
/* H (add's inputs only): shift 0 and M = 2^30, the input of the larger
 * scale in every prepared add: SRDHM(v 2^ls, 2^30) = v 2^(ls-1) (ls >= 1) */
#define QUANT__EW_H 3

/* Largest |off + q| over the values q of dt. */
QUANT__INTERNAL int64_t quant__ew_vmax(int32_t off, quant_dtype dt) {
    const int64_t lo = (int64_t)off + (dt == QUANT_I8 ? -128 : 0), hi = (int64_t)off + (dt == QUANT_I8 ? 127 : 255);
    const int64_t a = lo < 0 ? -lo : lo, b = hi < 0 ? -hi : hi;
    return a > b ? a : b;
}
QUANT__INTERNAL int quant__ew_mult_ok(int32_t m, int32_t shift, int32_t smax) {
    return m >= 0 && shift >= -31 && shift <= smax;
}
/* The range the kernels are proven exact on (everything else: quant.h). It
 * keeps the scalar code's int32 arithmetic free of overflow: |x1|, |x2| <
 * 2^30 so that s1 + s2 fits, products of offsets fit, lo - zp fits; and the
 * multipliers >= 0 (the R kernels use the sign of x for the sign of x * M). */
QUANT__INTERNAL int quant__ew_add_fast(const quant_add_params *p, quant_dtype dt) {
    const int64_t lim = (int64_t)1 << 30;
    return quant__ew_mult_ok(p->in1_mult, p->in1_shift, 0) && quant__ew_mult_ok(p->in2_mult, p->in2_shift, 0) &&
           quant__ew_mult_ok(p->out_mult, p->out_shift, 30) &&
           (quant__ew_vmax(p->in1_offset, dt) << p->left_shift) < lim &&
           (quant__ew_vmax(p->in2_offset, dt) << p->left_shift) < lim &&
           p->out_offset >= -lim && p->out_offset <= lim;
}
QUANT__INTERNAL int quant__ew_mul_fast(const quant_mul_params *p, quant_dtype dt) {
    const int64_t lim = (int64_t)1 << 30;
    return quant__ew_mult_ok(p->out_mult, p->out_shift, 30) &&
           quant__ew_vmax(p->in1_offset, dt) * quant__ew_vmax(p->in2_offset, dt) <= (int64_t)INT32_MAX &&
           p->out_offset >= -lim && p->out_offset <= lim;
}

#if defined(QUANT__VL)
/* x86: the int32 lanes of section 1.1's vector. The 64-bit products of the
 * even and odd lanes (vpmuldq) get 2^62 added, which makes them
 * non-negative, so logical shifts give floor(... / 2^(31+e)) + 2^(31-e) in
 * the low dword; the 32-bit subtraction of 2^(31-e) (bias) undoes it.
 * SRDHM(x, M) = floor((x M + 2^30) / 2^31) for both signs of x M (M >= 0:
 * never INT32_MIN^2), and with RoundingDivideByPOT(e) after it both
 * roundings are one: floor((x M + 2^30 + 2^(30+e) - 2^31 [x M < 0]) /
 * 2^(31+e)) (e >= 1; the nested floors merge, and [x M < 0] differs from
 * [SRDHM < 0] only where SRDHM is 0, which rounds to 0 either way). c holds
 * the constant, d = 2^31 in each dword where e >= 1. */
#  define QUANT__EW 1
typedef struct quant__ewm { quant__vi m, c, d, bias; __m128i cnt, ls; } quant__ewm;
QUANT__AINL void quant__ew_mset(quant__ewm *h, int32_t mult, int32_t shift) {
    const int e = shift > 0 ? 0 : -shift;
    h->m = quant__vi_set32(mult);
    h->c = quant__vi_set64(((int64_t)1 << 62) + ((int64_t)1 << 30) + (e ? (int64_t)1 << (30 + e) : 0));
    h->d = quant__vi_set32(e ? INT32_MIN : 0);
    h->bias = quant__vi_set32(e ? (int32_t)1 << (31 - e) : INT32_MIN);
    h->cnt = _mm_cvtsi32_si128(31 + e);
    h->ls = _mm_cvtsi32_si128(shift > 0 ? shift : 0);
}
QUANT__AINL quant__vi quant__ew_mbm(quant__vi x, const quant__ewm *h, const int MODE) {
    quant__vi pe, po;
    if (MODE == QUANT__EW_L) { /* saturating left shift */
        const quant__vi sh = quant__vi_sll32(x, h->ls);
        x = quant__vi_sel(quant__vi_eq32(quant__vi_sra32(sh, h->ls), x), sh, quant__vi_xor(quant__vi_sign32(x), quant__vi_set32(INT32_MAX)));
    }
    pe = quant__vi_add64(quant__vi_mul_even(x, h->m), h->c);
    po = quant__vi_add64(quant__vi_mul_even(quant__vi_odd_down(x), h->m), h->c);
    if (MODE == QUANT__EW_R) { /* - 2^31 [x < 0] (M >= 0: the sign of x M, or x M = 0, rounding to 0 either way) */
        const quant__vi s = quant__vi_and(quant__vi_sign32(x), h->d);
        pe = quant__vi_sub64(pe, quant__vi_lo32s(s, quant__vi_zero()));
        po = quant__vi_sub64(po, quant__vi_odd_down(s));
    }
    return quant__vi_sub32(quant__vi_lo32s(quant__vi_srl64(pe, h->cnt), quant__vi_srl64(po, h->cnt)), h->bias);
}

#elif defined(QUANT__VI32)
/* NEON: sqrdmulh is SRDHM exactly (saturating INT32_MIN^2);
 * RoundingDivideByPOT is gemmlowp's NEON form: x - [x < 0] (saturating),
 * then srshl by -e */
#  define QUANT__EW 1
typedef struct quant__ewm { int32x4_t m, ls, ne; } quant__ewm;
QUANT__AINL void quant__ew_mset(quant__ewm *h, int32_t mult, int32_t shift) {
    h->m = vdupq_n_s32(mult);
    h->ls = vdupq_n_s32(shift > 0 ? shift : 0);
    h->ne = vdupq_n_s32(shift > 0 ? 0 : shift);
}
QUANT__AINL quant__vi quant__ew_mbm(quant__vi xv, const quant__ewm *h, const int MODE) {
    int32x4_t x = vreinterpretq_s32_u64(xv), y;
    if (MODE == QUANT__EW_L) x = vqshlq_s32(x, h->ls);
    y = vqrdmulhq_s32(x, h->m);
    if (MODE == QUANT__EW_R) /* the sign bit of y & -e: y < 0 and e >= 1 */
        y = vrshlq_s32(vqaddq_s32(y, vshrq_n_s32(vandq_s32(y, h->ne), 31)), h->ne);
    return vreinterpretq_u64_s32(y);
}
#endif

#if defined(QUANT__EW)

/* the constants of a call; QUANT__EWN vectors hold 16 elements */
#  define QUANT__EWN (16 / QUANT__VI32)
typedef struct quant__ew_ctx {
    quant__ewm h1, h2, ho;
    quant__vi o1, o2, lo, hi, zo;
    int ls;
} quant__ew_ctx;

/* 16 elements of op OP: 0 add, 1 mul (out of the type of the inputs), 2
 * requantize (b unused; ISGN in, OSGN out); a, b, out point at 16 bytes */
QUANT__AINL void quant__ew_16(const void *a, const void *b, void *out, const quant__ew_ctx *k,
        const int OP, const int ISGN, const int OSGN, const int M1, const int MO) {
    quant__vi va[QUANT__EWN], vb[QUANT__EWN];
    int j;
    quant__vi_ld16_32(a, ISGN, va);
    if (OP != 2) quant__vi_ld16_32(b, ISGN, vb);
    for (j = 0; j < QUANT__EWN; j++) {
        quant__vi s;
        if (OP == 0) {
            const quant__vi x2 = quant__vi_shl32(quant__vi_add32(vb[j], k->o2), k->ls);
            const quant__vi s1 = M1 == QUANT__EW_H ? quant__vi_shl32(quant__vi_add32(va[j], k->o1), k->ls - 1)
                                                   : quant__ew_mbm(quant__vi_shl32(quant__vi_add32(va[j], k->o1), k->ls), &k->h1, M1);
            s = quant__vi_add32(s1, quant__ew_mbm(x2, &k->h2, QUANT__EW_R));
        } else if (OP == 1) s = quant__vi_mullo32(quant__vi_add32(va[j], k->o1), quant__vi_add32(vb[j], k->o2));
        else s = quant__vi_add32(va[j], k->o1);
        va[j] = quant__vi_add32(quant__vi_clamp32(quant__ew_mbm(s, &k->ho, MO), k->lo, k->hi), k->zo);
    }
    quant__vi_st16_8(out, OSGN, va);
}

/* whole blocks, then the tail through buffers */
QUANT__AINL void quant__ew_loop(const uint8_t *a, const uint8_t *b, size_t n, uint8_t *out, const quant__ew_ctx *k,
        const int OP, const int SGN, const int OSGN, const int M1, const int MO) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) quant__ew_16(a + i, OP == 2 ? NULL : b + i, out + i, k, OP, SGN, OSGN, M1, MO);
    if (i < n) {
        uint8_t ta[16], tb[16], to[16];
        memset(ta, 0, 16); memset(tb, 0, 16);
        memcpy(ta, a + i, n - i);
        if (OP != 2) memcpy(tb, b + i, n - i);
        quant__ew_16(ta, tb, to, k, OP, SGN, OSGN, M1, MO);
        memcpy(out + i, to, n - i);
    }
}

/* the instantiations: element signedness x the kinds of multiply */
#define QUANT__EW_FN(NAME, OP, SGN, OSGN, M1, MO) \
    QUANT__INTERNAL void NAME(const uint8_t *a, const uint8_t *b, size_t n, uint8_t *o, const quant__ew_ctx *k) { \
        quant__ew_loop(a, b, n, o, k, OP, SGN, OSGN, M1, MO); }
#define QUANT__EW_ADD(T, S, M1, m1) \
    QUANT__EW_FN(quant__ew_add_##T##_##m1##l, 0, S, S, QUANT__EW_##M1, QUANT__EW_L) \
    QUANT__EW_FN(quant__ew_add_##T##_##m1##r, 0, S, S, QUANT__EW_##M1, QUANT__EW_R)
#define QUANT__EW_MRQ(NAME, OP, S, OS) \
    QUANT__EW_FN(NAME##_l, OP, S, OS, 0, QUANT__EW_L) QUANT__EW_FN(NAME##_r, OP, S, OS, 0, QUANT__EW_R)
QUANT__EW_ADD(i8, 1, H, h) QUANT__EW_ADD(i8, 1, Z, z) QUANT__EW_ADD(i8, 1, R, r)
QUANT__EW_ADD(u8, 0, H, h) QUANT__EW_ADD(u8, 0, Z, z) QUANT__EW_ADD(u8, 0, R, r)
QUANT__EW_MRQ(quant__ew_mul_i8, 1, 1, 1) QUANT__EW_MRQ(quant__ew_mul_u8, 1, 0, 0)
QUANT__EW_MRQ(quant__ew_rq_ii, 2, 1, 1) QUANT__EW_MRQ(quant__ew_rq_iu, 2, 1, 0)
QUANT__EW_MRQ(quant__ew_rq_ui, 2, 0, 1) QUANT__EW_MRQ(quant__ew_rq_uu, 2, 0, 0)
#undef QUANT__EW_MRQ
#undef QUANT__EW_ADD
#undef QUANT__EW_FN

typedef void (*quant__ew_fn)(const uint8_t *, const uint8_t *, size_t, uint8_t *, const quant__ew_ctx *);

QUANT__INTERNAL void quant__ew_out(quant__ew_ctx *k, int32_t mult, int32_t shift, int32_t zp, int32_t lo, int32_t hi) {
    quant__ew_mset(&k->ho, mult, shift);
    k->lo = quant__vi_set32(lo - zp); k->hi = quant__vi_set32(hi - zp); k->zo = quant__vi_set32(zp);
}

/* prm in the fast range (in1 swapped with in2 so that a shift-0 input is in1) */
QUANT__INTERNAL quant__ew_fn quant__ew_add_setup(const quant_add_params *prm, quant_dtype dt, int *swap, quant__ew_ctx *k) {
    const int z1 = prm->in1_shift == 0, z2 = prm->in2_shift == 0, sw = !z1 && z2, L = prm->out_shift > 0;
    const int h = prm->left_shift >= 1 && (sw ? prm->in2_mult : prm->in1_mult) == (1 << 30);
    static const quant__ew_fn fns[12] = {
        quant__ew_add_u8_rr, quant__ew_add_u8_rl, quant__ew_add_u8_zr, quant__ew_add_u8_zl, quant__ew_add_u8_hr, quant__ew_add_u8_hl,
        quant__ew_add_i8_rr, quant__ew_add_i8_rl, quant__ew_add_i8_zr, quant__ew_add_i8_zl, quant__ew_add_i8_hr, quant__ew_add_i8_hl };
    *swap = sw;
    quant__ew_mset(&k->h1, sw ? prm->in2_mult : prm->in1_mult, sw ? prm->in2_shift : prm->in1_shift);
    quant__ew_mset(&k->h2, sw ? prm->in1_mult : prm->in2_mult, sw ? prm->in1_shift : prm->in2_shift);
    k->o1 = quant__vi_set32(sw ? prm->in2_offset : prm->in1_offset);
    k->o2 = quant__vi_set32(sw ? prm->in1_offset : prm->in2_offset);
    k->ls = prm->left_shift;
    quant__ew_out(k, prm->out_mult, prm->out_shift, prm->out_offset, prm->lo, prm->hi);
    return fns[(dt == QUANT_I8) * 6 + ((z1 || z2) ? (h ? 4 : 2) : 0) + L];
}
QUANT__INTERNAL quant__ew_fn quant__ew_mul_setup(const quant_mul_params *prm, quant_dtype dt, quant__ew_ctx *k) {
    static const quant__ew_fn fns[4] = { quant__ew_mul_u8_r, quant__ew_mul_u8_l, quant__ew_mul_i8_r, quant__ew_mul_i8_l };
    k->o1 = quant__vi_set32(prm->in1_offset); k->o2 = quant__vi_set32(prm->in2_offset); k->ls = 0;
    quant__ew_out(k, prm->out_mult, prm->out_shift, prm->out_offset, prm->lo, prm->hi);
    return fns[(dt == QUANT_I8) * 2 + (prm->out_shift > 0)];
}

#endif /* QUANT__EW */

/* add (mul) of n elements, b a [c] operand (c = n: a plain one). Short
 * rows are joined: b repeated into a buffer of up to 256 bytes (whole
 * rows), which then runs as a plain operand over as many rows at once. */
#define QUANT__EW_BCBUF 256
QUANT__INTERNAL quant_status quant__ew_bc(const void *a, const void *b, size_t n, size_t c, quant_dtype dt,
        const void *prm, int mul, void *out) {
    quant_status st = mul ? quant_mul(a, b, 0, dt, (const quant_mul_params *)prm, out)
                          : quant_add(a, b, 0, dt, (const quant_add_params *)prm, out);
    const uint8_t *pa = (const uint8_t *)a, *pb = (const uint8_t *)b;
    uint8_t *po = (uint8_t *)out;
    size_t r, rows;
    if (st != QUANT_OK || !n) return st;
    if (!c || n % c) return QUANT_EINVAL;
    if (!a || !b || !out) return QUANT_EINVAL;
    rows = n / c;
#if defined(QUANT__EW)
    if (mul ? quant__ew_mul_fast((const quant_mul_params *)prm, dt) : quant__ew_add_fast((const quant_add_params *)prm, dt)) {
        quant__ew_ctx k;
        int sw = 0;
        const quant__ew_fn f = mul ? quant__ew_mul_setup((const quant_mul_params *)prm, dt, &k)
                                   : quant__ew_add_setup((const quant_add_params *)prm, dt, &sw, &k);
        uint8_t rep[QUANT__EW_BCBUF];
        const int join = c < QUANT__EW_BCBUF && rows > 1;
        const size_t per = join ? QUANT__EW_BCBUF / c : 1; /* rows a call */
        if (join) for (r = 0; r < per; r++) memcpy(rep + r * c, pb, c);
        for (r = 0; r < rows; r += per) {
            const uint8_t *x = pa + r * c, *y = join ? rep : pb;
            const size_t m = (rows - r < per ? rows - r : per) * c;
            f(sw ? y : x, sw ? x : y, m, po + r * c, &k);
        }
        return QUANT_OK;
    }
#endif
    for (r = 0; r < rows; r++) {
        if (mul) quant_mul(pa + r * c, pb, c, dt, (const quant_mul_params *)prm, po + r * c);
        else quant_add(pa + r * c, pb, c, dt, (const quant_add_params *)prm, po + r * c);
    }
    return QUANT_OK;
}
QUANT_DEF quant_status quant_add_k(const void *a, const void *b, size_t n, quant_dtype dt,
        const quant_add_params *prm, void *out) {
    return quant__ew_bc(a, b, n, n, dt, prm, 0, out);
}
QUANT_DEF quant_status quant_mul_k(const void *a, const void *b, size_t n, quant_dtype dt,
        const quant_mul_params *prm, void *out) {
    return quant__ew_bc(a, b, n, n, dt, prm, 1, out);
}
QUANT_DEF quant_status quant_add_bc_k(const void *a, const void *b, size_t n, size_t c, quant_dtype dt,
        const quant_add_params *prm, void *out) {
    return quant__ew_bc(a, b, n, c, dt, prm, 0, out);
}
QUANT_DEF quant_status quant_mul_bc_k(const void *a, const void *b, size_t n, size_t c, quant_dtype dt,
        const quant_mul_params *prm, void *out) {
    return quant__ew_bc(a, b, n, c, dt, prm, 1, out);
}

QUANT_DEF quant_status quant_requantize_params_rows_k(const void *in, quant_dtype in_dt,
        const quant_params *pin, size_t rows, size_t cols, size_t ldi, const quant_params *pout,
        quant_dtype out_dt, void *out, size_t ldo) {
    const uint8_t *pi = (const uint8_t *)in;
    uint8_t *po = (uint8_t *)out;
    size_t r;
    quant_status st = quant_requantize_params(in, in_dt, pin, 0, pout, out_dt, out); /* the reference's checks */
    if (st != QUANT_OK) return st;
    if (!rows || !cols) return QUANT_OK;
    if (ldi < cols || ldo < cols) return QUANT_EINVAL;
    if (!quant__span_ok(rows, ldi, 1) || !quant__span_ok(rows, ldo, 1)) return QUANT_EOVERFLOW;
    if (!in || !out) return QUANT_EINVAL;
#if defined(QUANT__EW)
    if (pin->zero_point >= -(1 << 30) && pin->zero_point <= (1 << 30)) {
        static const quant__ew_fn fns[8] = {
            quant__ew_rq_uu_r, quant__ew_rq_uu_l, quant__ew_rq_ui_r, quant__ew_rq_ui_l,
            quant__ew_rq_iu_r, quant__ew_rq_iu_l, quant__ew_rq_ii_r, quant__ew_rq_ii_l };
        quant__ew_ctx k;
        quant__ew_fn f;
        int32_t m, s;
        /* the multiplier as the reference makes it (it fits: checked there) */
        if (quant_quantize_multiplier((double)pin->scale / (double)pout->scale, &m, &s) == QUANT_OK) {
            k.o1 = quant__vi_set32(-pin->zero_point); k.o2 = k.o1; k.ls = 0;
            quant__ew_out(&k, m, s, pout->zero_point, pout->qmin, pout->qmax);
            f = fns[(in_dt == QUANT_I8) * 4 + (out_dt == QUANT_I8) * 2 + (s > 0)];
            if (ldi == cols && ldo == cols) f(pi, NULL, rows * cols, po, &k); /* dense: one run */
            else for (r = 0; r < rows; r++) f(pi + r * ldi, NULL, cols, po + r * ldo, &k);
            return QUANT_OK;
        }
    }
#endif
    for (r = 0; r < rows; r++) quant_requantize_params(pi + r * ldi, in_dt, pin, cols, pout, out_dt, po + r * ldo);
    return QUANT_OK;
}

QUANT_DEF quant_status quant_requantize_params_k(const void *in, quant_dtype in_dt,
        const quant_params *pin, size_t n, const quant_params *pout,
        quant_dtype out_dt, void *out) {
    return quant_requantize_params_rows_k(in, in_dt, pin, n ? 1 : 0, n, n, pout, out_dt, out, n);
}

/* end of section 8: its local macros */
#undef QUANT__EW
#undef QUANT__EWN
#undef QUANT__EW_BCBUF
#undef QUANT__EW_H
#undef QUANT__EW_L
#undef QUANT__EW_R
#undef QUANT__EW_Z

/* the per-ISA parameters and macros that sections share */
#undef QUANT__DELTA_S
#undef QUANT__DELTA_U
#undef QUANT__IKR
#undef QUANT__ISA_ID
#undef QUANT__KG
#undef QUANT__KG_SGN
#undef QUANT__MR
#undef QUANT__NR
#undef QUANT__UNROLL
#undef QUANT__AINL
#undef QUANT__NOINL
#undef QUANT__MM
#undef QUANT__MMSI
#undef QUANT__VL
#undef QUANT__VFL
#undef QUANT__VI_LUT16
#undef QUANT__VB
#undef QUANT__VI_PCADD
#undef QUANT__VI_ANDXOR
#undef QUANT__VI32
#undef QUANT__VI_DOT4U
#undef quant__vi_loadu

#ifdef __cplusplus
}
#endif

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif /* QUANT_KERNELS_IMPLEMENTATION_INCLUDED */
#endif /* QUANT_IMPLEMENTATION */
