/* examples/dispatch/kernels.c - one build of the kernels, for one level.
 *
 * Compiled once per level with that level's flags, e.g.
 *
 *   cc -std=c99 -O2 -mavx2 -mfma -DDISPATCH_LEVEL=avx2 -I. -c examples/dispatch/kernels.c -o avx2.o
 *
 * Everything of quant.h / quant_kernels.h in here is static (QUANT_STATIC),
 * so the six objects link together without clashes; the one exported
 * symbol is the table dispatch_<level>. Nothing in this object runs unless
 * called through the table: linking an AVX-512 build into a program is safe
 * on any CPU, calling it is not (examples/dispatch.c checks CPUID first).
 */
#ifndef DISPATCH_LEVEL
#error "compile with -DDISPATCH_LEVEL=<level> (scalar, sse41, avx2, avxvnni, avx512, avx512vnni, neon)"
#endif
#define QUANT_IMPLEMENTATION
#define QUANT_STATIC
#include "quant_kernels.h"
#include "dispatch.h"

#define DISPATCH_STR_(x) #x
#define DISPATCH_STR(x) DISPATCH_STR_(x)
#define DISPATCH_CAT_(a, b) a##b
#define DISPATCH_CAT(a, b) DISPATCH_CAT_(a, b)

const dispatch_kernels DISPATCH_CAT(dispatch_, DISPATCH_LEVEL) = {
    DISPATCH_STR(DISPATCH_LEVEL), quant_isa_name,
    quant_gemm_pack_size, quant_gemm_pack, quant_gemm,
    quant_conv2d_pack_size, quant_conv2d_pack, quant_conv2d_workspace_size, quant_conv2d,
    quant_dwconv2d_pack_size, quant_dwconv2d_pack, quant_dwconv2d,
    quant_rows_quantize_dynamic,
    quant_gemm_q4_pack_size, quant_gemm_q4_pack, quant_gemm_q4,
    quant_bgemm_pack_size, quant_bgemm_pack, quant_bgemm,
    quant_pqmm_pack_size, quant_pqmm_pack, quant_pqmm_workspace_size, quant_pqmm,
    quant_add_k
};
