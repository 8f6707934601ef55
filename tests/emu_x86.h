/* tests/emu_x86.h - the kernel tests of an x86 level this CPU lacks, run
 * through SIMDe (Debian libsimde-dev: portable implementations of the Intel
 * intrinsics). A test build only; quant.h and quant_kernels.h know nothing
 * of it. The Makefile force-includes it (gcc -include) into the emulated
 * builds, compiled for the best level the CPU has (-mavx2 -mfma here):
 *
 *   QT_EMU=1  SSE4.1                                    as -msse4.1
 *   QT_EMU=2  AVX2 + FMA                                as -mavx2 -mfma
 *   QT_EMU=3  AVX-VNNI (VEX), on AVX2                   as -mavx2 -mfma -mavxvnni
 *   QT_EMU=4  AVX-512 F/BW/VL                           as -mavx512f -mavx512bw -mavx512vl
 *   QT_EMU=5  AVX-512 F/BW/VL + VNNI + VBMI + VPOPCNTDQ as the avx512vnni level
 *
 * It includes SIMDe with its native aliases (so _mm512_add_epi32 names
 * simde_mm512_add_epi32), and only then defines the compiler's target macros
 * for the level (__AVX512F__ ...): quant_kernels.h selects the level from
 * them, while SIMDe and the compiler's own headers, already included, saw the
 * real target. The intrinsics the kernels use and SIMDe 0.7.4 lacks are
 * written here, lane by lane, to Intel's definitions (every one is checked
 * against the scalar reference through the kernel tests; a wrong one fails
 * them). */
#ifndef QT_EMU_X86_H
#define QT_EMU_X86_H
#if !defined(QT_EMU) || QT_EMU < 1 || QT_EMU > 5
#  error "tests/emu_x86.h: define QT_EMU as 1 (SSE4.1) .. 5 (AVX-512 VNNI)"
#endif
#if (QT_EMU == 1 && defined(__SSE4_1__)) || (QT_EMU == 2 && defined(__AVX2__)) || \
    (QT_EMU == 3 && defined(__AVXVNNI__)) || (QT_EMU >= 4 && defined(__AVX512F__))
#  error "tests/emu_x86.h: the compiler already targets the emulated level; build natively"
#endif

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <stdint.h>
#include <string.h>
#include <limits.h>
#include <math.h>
/* Without AVX in the base, the compiler's <immintrin.h> (which
 * quant_kernels.h includes) would add its own __m256i beside SIMDe's: mark
 * it as included (GCC's and clang's guards) so that SIMDe's types stand. */
#if !defined(__AVX__)
#  define _IMMINTRIN_H_INCLUDED
#  define __IMMINTRIN_H
#  define QUANT_NO_ASM /* its register pins need the vectors in registers */
typedef simde__mmask8 __mmask8;
typedef simde__mmask16 __mmask16;
typedef simde__mmask32 __mmask32;
typedef simde__mmask64 __mmask64;
#endif
#ifndef _MM_FROUND_NO_EXC
#  define _MM_FROUND_NO_EXC SIMDE_MM_FROUND_NO_EXC
#  define _MM_FROUND_TO_NEAREST_INT SIMDE_MM_FROUND_TO_NEAREST_INT
#endif
#ifndef _MM_SHUFFLE
#  define _MM_SHUFFLE(a, b, c, d) SIMDE_MM_SHUFFLE(a, b, c, d)
#endif

/* vpdpbusd (AVX-512 VNNI; the VEX forms of AVX-VNNI compute the same): in
 * each 32-bit lane, src + the four products of an unsigned byte of a and
 * the signed byte of b beside it, wrapping. As two vpmaddwd of 16-bit
 * lanes: the even bytes (zero- and sign-extended) and the odd ones; each
 * sums two products of at most 255 * 128 in magnitude, exactly. (SIMDe's
 * portable dpbusd, a 64-lane shuffle, widening and multiply, inlined 1100
 * times into the unrolled VNNI GEMM kernels, made most of the emulated
 * AVX-512 VNNI build's 3 CPU-minutes of compile.) */
#define QT_EMU_DPBUSD(name, V, P, S)                                                      \
    static inline __attribute__((unused)) V name(V src, V a, V b) {                     \
        const V m = P##_set1_epi16(0x00FF);                                               \
        const V ae = P##_and_##S(a, m), ao = P##_srli_epi16(a, 8);                        \
        const V be = P##_srai_epi16(P##_slli_epi16(b, 8), 8), bo = P##_srai_epi16(b, 8);  \
        return P##_add_epi32(src, P##_add_epi32(P##_madd_epi16(ae, be), P##_madd_epi16(ao, bo))); \
    }
QT_EMU_DPBUSD(qt_emu_dpbusd512, simde__m512i, simde_mm512, si512)
QT_EMU_DPBUSD(qt_emu_dpbusd256, simde__m256i, simde_mm256, si256)
QT_EMU_DPBUSD(qt_emu_dpbusd128, simde__m128i, simde_mm, si128)
#undef _mm512_dpbusd_epi32
#define _mm512_dpbusd_epi32(a, b, c) qt_emu_dpbusd512(a, b, c)
#undef _mm256_dpbusd_avx_epi32
#define _mm256_dpbusd_avx_epi32(a, b, c) qt_emu_dpbusd256(a, b, c)
#undef _mm_dpbusd_avx_epi32
#define _mm_dpbusd_avx_epi32(a, b, c) qt_emu_dpbusd128(a, b, c)

/* SIMDe 0.7.4's alias of _mm512_madd_epi16 takes the masked form's four
 * arguments ... */
#undef _mm512_madd_epi16
#define _mm512_madd_epi16(a, b) simde_mm512_madd_epi16(a, b)
/* ... and has no alias for _mm512_shuffle_i64x2 */
#undef _mm512_shuffle_i64x2
#define _mm512_shuffle_i64x2(a, b, imm) simde_mm512_shuffle_i64x2(a, b, imm)

/* lanes in and out of the vector types */
#define QT_EMU_IN(T, n, v) T n[sizeof(v) / sizeof(T)]; memcpy(n, &(v), sizeof(v))
#define QT_EMU_OUT(V, n) do { V r_; memcpy(&r_, n, sizeof r_); return r_; } while (0)
/* (out of line: each is a loop over 16 or 64 lanes, and the kernels'
 * epilogues, unrolled over 6 rows x 4 vectors and inlined into every row and
 * column count of a kernel, call them thousands of times: inlined, they were
 * a third of the emulated builds' compile time) */
#define QT_EMU_FN static __attribute__((noinline, unused))

/* Without FMA in the base, SIMDe's fmadd rounds twice (a * b, then + c);
 * vfmadd rounds once: fmaf lane by lane */
#if !defined(__FMA__)
QT_EMU_FN simde__m256 qt_emu_fmadd256(simde__m256 a, simde__m256 b, simde__m256 c) {
    QT_EMU_IN(float, x, a); QT_EMU_IN(float, y, b); QT_EMU_IN(float, z, c); int i;
    for (i = 0; i < 8; i++) x[i] = fmaf(x[i], y[i], z[i]);
    QT_EMU_OUT(simde__m256, x);
}
QT_EMU_FN simde__m512 qt_emu_fmadd512(simde__m512 a, simde__m512 b, simde__m512 c) {
    QT_EMU_IN(float, x, a); QT_EMU_IN(float, y, b); QT_EMU_IN(float, z, c); int i;
    for (i = 0; i < 16; i++) x[i] = fmaf(x[i], y[i], z[i]);
    QT_EMU_OUT(simde__m512, x);
}
#  undef _mm256_fmadd_ps
#  undef _mm512_fmadd_ps
#  undef _mm256_fmadd_ps
#  define _mm256_fmadd_ps(a, b, c) qt_emu_fmadd256(a, b, c)
#  undef _mm512_fmadd_ps
#  define _mm512_fmadd_ps(a, b, c) qt_emu_fmadd512(a, b, c)
#endif

QT_EMU_FN simde__mmask16 qt_emu_cmplt_epi32_mask(simde__m512i a, simde__m512i b) {
    QT_EMU_IN(int32_t, x, a); QT_EMU_IN(int32_t, y, b);
    simde__mmask16 k = 0; int i;
    for (i = 0; i < 16; i++) k |= (simde__mmask16)((x[i] < y[i]) << i);
    return k;
}
QT_EMU_FN simde__mmask16 qt_emu_cmpneq_epi32_mask(simde__m512i a, simde__m512i b) {
    QT_EMU_IN(int32_t, x, a); QT_EMU_IN(int32_t, y, b);
    simde__mmask16 k = 0; int i;
    for (i = 0; i < 16; i++) k |= (simde__mmask16)((x[i] != y[i]) << i);
    return k;
}
QT_EMU_FN simde__mmask8 qt_emu_cmplt_epi64_mask(simde__m512i a, simde__m512i b) {
    QT_EMU_IN(int64_t, x, a); QT_EMU_IN(int64_t, y, b);
    simde__mmask8 k = 0; int i;
    for (i = 0; i < 8; i++) k |= (simde__mmask8)((x[i] < y[i]) << i);
    return k;
}
#undef _mm512_cmplt_epi32_mask
#define _mm512_cmplt_epi32_mask(a, b) qt_emu_cmplt_epi32_mask(a, b)
#undef _mm512_cmpneq_epi32_mask
#define _mm512_cmpneq_epi32_mask(a, b) qt_emu_cmpneq_epi32_mask(a, b)
#undef _mm512_cmplt_epi64_mask
#define _mm512_cmplt_epi64_mask(a, b) qt_emu_cmplt_epi64_mask(a, b)

/* arithmetic right shift of the int32 lanes by n (SIMDe 0.7.4 has no
 * _mm512_srai_epi32); counts over 31 fill with the sign */
QT_EMU_FN simde__m512i qt_emu_srai_epi32(simde__m512i a, unsigned n) {
    QT_EMU_IN(int32_t, x, a); int i;
    for (i = 0; i < 16; i++) x[i] = x[i] < 0 ? ~(~x[i] >> (n > 31 ? 31 : n)) : x[i] >> (n > 31 ? 31 : n);
    QT_EMU_OUT(simde__m512i, x);
}
#undef _mm512_srai_epi32
#define _mm512_srai_epi32(a, n) qt_emu_srai_epi32(a, n)
/* ... nor _mm512_sra_epi32: the count in the low 64 bits of c */
QT_EMU_FN simde__m512i qt_emu_sra_epi32(simde__m512i a, simde__m128i c) {
    uint64_t n;
    memcpy(&n, &c, 8);
    return qt_emu_srai_epi32(a, n > 31 ? 32u : (unsigned)n);
}
#undef _mm512_sra_epi32
#define _mm512_sra_epi32(a, c) qt_emu_sra_epi32(a, c)

/* narrowing: truncation, and unsigned saturation of unsigned lanes */
QT_EMU_FN simde__m128i qt_emu_cvtepi32_epi8(simde__m512i a) {
    QT_EMU_IN(int32_t, x, a); int8_t o[16]; int i;
    for (i = 0; i < 16; i++) o[i] = (int8_t)(uint8_t)(uint32_t)x[i];
    QT_EMU_OUT(simde__m128i, o);
}
QT_EMU_FN simde__m128i qt_emu_cvtusepi32_epi8(simde__m512i a) {
    QT_EMU_IN(uint32_t, x, a); uint8_t o[16]; int i;
    for (i = 0; i < 16; i++) o[i] = (uint8_t)(x[i] > 255u ? 255u : x[i]);
    QT_EMU_OUT(simde__m128i, o);
}
QT_EMU_FN simde__m128i qt_emu_cvtepi64_epi8(simde__m512i a) {
    QT_EMU_IN(int64_t, x, a); uint8_t o[16] = {0}; int i;
    for (i = 0; i < 8; i++) o[i] = (uint8_t)(uint64_t)x[i];
    QT_EMU_OUT(simde__m128i, o);
}
#undef _mm512_cvtepi32_epi8
#define _mm512_cvtepi32_epi8(a) qt_emu_cvtepi32_epi8(a)
#undef _mm512_cvtusepi32_epi8
#define _mm512_cvtusepi32_epi8(a) qt_emu_cvtusepi32_epi8(a)
#undef _mm512_cvtepi64_epi8
#define _mm512_cvtepi64_epi8(a) qt_emu_cvtepi64_epi8(a)

/* widening */
QT_EMU_FN simde__m512i qt_emu_cvtepi8_epi32(simde__m128i a) {
    QT_EMU_IN(int8_t, x, a); int32_t o[16]; int i;
    for (i = 0; i < 16; i++) o[i] = x[i];
    QT_EMU_OUT(simde__m512i, o);
}
QT_EMU_FN simde__m512i qt_emu_cvtepu8_epi32(simde__m128i a) {
    QT_EMU_IN(uint8_t, x, a); int32_t o[16]; int i;
    for (i = 0; i < 16; i++) o[i] = x[i];
    QT_EMU_OUT(simde__m512i, o);
}
QT_EMU_FN simde__m512i qt_emu_cvtepi8_epi64(simde__m128i a) {
    QT_EMU_IN(int8_t, x, a); int64_t o[8]; int i;
    for (i = 0; i < 8; i++) o[i] = x[i];
    QT_EMU_OUT(simde__m512i, o);
}
QT_EMU_FN simde__m512i qt_emu_cvtepu8_epi64(simde__m128i a) {
    QT_EMU_IN(uint8_t, x, a); int64_t o[8]; int i;
    for (i = 0; i < 8; i++) o[i] = x[i];
    QT_EMU_OUT(simde__m512i, o);
}
QT_EMU_FN simde__m512i qt_emu_cvtepu16_epi32(simde__m256i a) {
    QT_EMU_IN(uint16_t, x, a); int32_t o[16]; int i;
    for (i = 0; i < 16; i++) o[i] = x[i];
    QT_EMU_OUT(simde__m512i, o);
}
#undef _mm512_cvtepi8_epi32
#define _mm512_cvtepi8_epi32(a) qt_emu_cvtepi8_epi32(a)
#undef _mm512_cvtepu8_epi32
#define _mm512_cvtepu8_epi32(a) qt_emu_cvtepu8_epi32(a)
#undef _mm512_cvtepi8_epi64
#define _mm512_cvtepi8_epi64(a) qt_emu_cvtepi8_epi64(a)
#undef _mm512_cvtepu8_epi64
#define _mm512_cvtepu8_epi64(a) qt_emu_cvtepu8_epi64(a)
#undef _mm512_cvtepu16_epi32
#define _mm512_cvtepu16_epi32(a) qt_emu_cvtepu16_epi32(a)

/* float <-> int32: vcvtdq2ps rounds to nearest even (the default MXCSR);
 * vcvtps2dq likewise, vcvttps2dq truncates; NaN and out-of-range lanes give
 * INT32_MIN (the "integer indefinite") */
QT_EMU_FN simde__m512 qt_emu_cvtepi32_ps(simde__m512i a) {
    QT_EMU_IN(int32_t, x, a); float o[16]; int i;
    for (i = 0; i < 16; i++) o[i] = (float)x[i];
    QT_EMU_OUT(simde__m512, o);
}
QT_EMU_FN int32_t qt_emu_f2i(float f, int trunc) {
    double d = trunc ? (f < 0 ? ceil((double)f) : floor((double)f)) : nearbyint((double)f);
    return (d != d || d >= 2147483648.0 || d < -2147483648.0) ? INT32_MIN : (int32_t)d;
}
QT_EMU_FN simde__m512i qt_emu_cvtps_epi32(simde__m512 a) {
    QT_EMU_IN(float, x, a); int32_t o[16]; int i;
    for (i = 0; i < 16; i++) o[i] = qt_emu_f2i(x[i], 0);
    QT_EMU_OUT(simde__m512i, o);
}
QT_EMU_FN simde__m512i qt_emu_cvttps_epi32(simde__m512 a) {
    QT_EMU_IN(float, x, a); int32_t o[16]; int i;
    for (i = 0; i < 16; i++) o[i] = qt_emu_f2i(x[i], 1);
    QT_EMU_OUT(simde__m512i, o);
}
#undef _mm512_cvtepi32_ps
#define _mm512_cvtepi32_ps(a) qt_emu_cvtepi32_ps(a)
#undef _mm512_cvtps_epi32
#define _mm512_cvtps_epi32(a) qt_emu_cvtps_epi32(a)
#undef _mm512_cvttps_epi32
#define _mm512_cvttps_epi32(a) qt_emu_cvttps_epi32(a)

/* gathers: base + index * scale bytes, index signed */
QT_EMU_FN simde__m512i qt_emu_i32gather_epi32(simde__m512i idx, const void *base, int scale) {
    QT_EMU_IN(int32_t, x, idx); int32_t o[16]; int i;
    for (i = 0; i < 16; i++) memcpy(&o[i], (const char *)base + (ptrdiff_t)x[i] * scale, 4);
    QT_EMU_OUT(simde__m512i, o);
}
QT_EMU_FN simde__m512 qt_emu_i32gather_ps(simde__m512i idx, const void *base, int scale) {
    QT_EMU_IN(int32_t, x, idx); float o[16]; int i;
    for (i = 0; i < 16; i++) memcpy(&o[i], (const char *)base + (ptrdiff_t)x[i] * scale, 4);
    QT_EMU_OUT(simde__m512, o);
}
#undef _mm512_i32gather_epi32
#define _mm512_i32gather_epi32(i, b, s) qt_emu_i32gather_epi32(i, b, s)
#undef _mm512_i32gather_ps
#define _mm512_i32gather_ps(i, b, s) qt_emu_i32gather_ps(i, b, s)

/* masked loads and stores touch only the lanes whose mask bit is set (a
 * masked-off lane may lie past the end of a buffer) */
#define QT_EMU_MLOAD(name, V, T, N, M, ZERO)                                           \
    QT_EMU_FN V name(V src, M k, const void *p) {                                       \
        T o[N]; int i;                                                                   \
        memcpy(o, &src, sizeof o);                                                       \
        for (i = 0; i < N; i++)                                                          \
            if ((k >> i) & 1) memcpy(&o[i], (const char *)p + i * sizeof(T), sizeof(T)); \
            else if (ZERO) memset(&o[i], 0, sizeof(T));                                  \
        QT_EMU_OUT(V, o);                                                                \
    }
QT_EMU_MLOAD(qt_emu_mask_loadu_epi8, simde__m512i, int8_t, 64, uint64_t, 0)
QT_EMU_MLOAD(qt_emu_mask_loadu_ps, simde__m512, float, 16, uint32_t, 0)
QT_EMU_MLOAD(qt_emu_maskz_loadu_epi32_, simde__m512i, int32_t, 16, uint32_t, 1)
QT_EMU_MLOAD(qt_emu_maskz_loadu_ps_, simde__m512, float, 16, uint32_t, 1)
QT_EMU_MLOAD(qt_emu_maskz_loadu_epi8_128_, simde__m128i, int8_t, 16, uint32_t, 1)
#undef _mm512_mask_loadu_epi8
#define _mm512_mask_loadu_epi8(s, k, p) qt_emu_mask_loadu_epi8(s, (uint64_t)(k), p)
#undef _mm512_mask_loadu_ps
#define _mm512_mask_loadu_ps(s, k, p) qt_emu_mask_loadu_ps(s, (uint32_t)(k), p)
#undef _mm512_maskz_loadu_epi32
#define _mm512_maskz_loadu_epi32(k, p) qt_emu_maskz_loadu_epi32_(simde_mm512_setzero_si512(), (uint32_t)(k), p)
#undef _mm512_maskz_loadu_ps
#define _mm512_maskz_loadu_ps(k, p) qt_emu_maskz_loadu_ps_(simde_mm512_setzero_ps(), (uint32_t)(k), p)
#undef _mm_maskz_loadu_epi8
#define _mm_maskz_loadu_epi8(k, p) qt_emu_maskz_loadu_epi8_128_(simde_mm_setzero_si128(), (uint32_t)(k), p)

#define QT_EMU_MSTORE(name, V, T, N, M)                                                  \
    QT_EMU_FN void name(void *p, M k, V a) {                                             \
        T x[N]; int i;                                                                   \
        memcpy(x, &a, sizeof x);                                                         \
        for (i = 0; i < N; i++)                                                          \
            if ((k >> i) & 1) memcpy((char *)p + i * sizeof(T), &x[i], sizeof(T));       \
    }
QT_EMU_MSTORE(qt_emu_mask_storeu_epi8, simde__m512i, int8_t, 64, uint64_t)
QT_EMU_MSTORE(qt_emu_mask_storeu_epi32, simde__m512i, int32_t, 16, uint32_t)
QT_EMU_MSTORE(qt_emu_mask_storeu_ps, simde__m512, float, 16, uint32_t)
QT_EMU_MSTORE(qt_emu_mask_storeu_epi8_128, simde__m128i, int8_t, 16, uint32_t)
#undef _mm512_mask_storeu_epi8
#define _mm512_mask_storeu_epi8(p, k, a) qt_emu_mask_storeu_epi8(p, (uint64_t)(k), a)
#undef _mm512_mask_storeu_epi32
#define _mm512_mask_storeu_epi32(p, k, a) qt_emu_mask_storeu_epi32(p, (uint32_t)(k), a)
#undef _mm512_mask_storeu_ps
#define _mm512_mask_storeu_ps(p, k, a) qt_emu_mask_storeu_ps(p, (uint32_t)(k), a)
#undef _mm_mask_storeu_epi8
#define _mm_mask_storeu_epi8(p, k, a) qt_emu_mask_storeu_epi8_128(p, (uint32_t)(k), a)
#undef _mm512_stream_ps
#define _mm512_stream_ps(p, a) simde_mm512_store_ps(p, a)

/* min / max reductions in the order GCC's avxintrin headers use (halves,
 * then quarters, then pairs): maxps / minps return the second operand when
 * either is NaN, so the order decides what a NaN lane gives */
#define QT_EMU_REDUCE(name, op)                                                           \
    QT_EMU_FN float name(simde__m512 a) {                                                  \
        simde__m512d d = simde_mm512_castps_pd(a);                                         \
        simde__m256 t3 = simde_mm256_##op(simde_mm256_castpd_ps(simde_mm512_extractf64x4_pd(d, 1)),       \
                                          simde_mm256_castpd_ps(simde_mm512_extractf64x4_pd(d, 0)));      \
        simde__m128 t6 = simde_mm_##op(simde_mm256_extractf128_ps(t3, 1), simde_mm256_extractf128_ps(t3, 0));    \
        simde__m128 t8 = simde_mm_##op(t6, simde_mm_shuffle_ps(t6, t6, SIMDE_MM_SHUFFLE(1, 0, 3, 2)));          \
        simde__m128 t10 = simde_mm_##op(t8, simde_mm_shuffle_ps(t8, t8, SIMDE_MM_SHUFFLE(0, 1, 0, 1)));         \
        return simde_mm_cvtss_f32(t10);                                                    \
    }
QT_EMU_REDUCE(qt_emu_reduce_max_ps, max_ps)
QT_EMU_REDUCE(qt_emu_reduce_min_ps, min_ps)
#undef _mm512_reduce_max_ps
#define _mm512_reduce_max_ps(a) qt_emu_reduce_max_ps(a)
#undef _mm512_reduce_min_ps
#define _mm512_reduce_min_ps(a) qt_emu_reduce_min_ps(a)

/* arithmetic right shifts: counts above the lane width fill with the sign */
QT_EMU_FN simde__m512i qt_emu_srav_epi32(simde__m512i a, simde__m512i c) {
    QT_EMU_IN(int32_t, x, a); QT_EMU_IN(uint32_t, n, c); int i;
    for (i = 0; i < 16; i++) x[i] = n[i] > 31 ? (x[i] < 0 ? -1 : 0) : x[i] >> n[i];
    QT_EMU_OUT(simde__m512i, x);
}
QT_EMU_FN simde__m512i qt_emu_srav_epi64(simde__m512i a, simde__m512i c) {
    QT_EMU_IN(int64_t, x, a); QT_EMU_IN(uint64_t, n, c); int i;
    for (i = 0; i < 8; i++) x[i] = n[i] > 63 ? (x[i] < 0 ? -1 : 0) : x[i] >> n[i];
    QT_EMU_OUT(simde__m512i, x);
}
QT_EMU_FN simde__m512i qt_emu_srai_epi64(simde__m512i a, uint64_t n) {
    QT_EMU_IN(int64_t, x, a); int i;
    for (i = 0; i < 8; i++) x[i] = n > 63 ? (x[i] < 0 ? -1 : 0) : x[i] >> n;
    QT_EMU_OUT(simde__m512i, x);
}
QT_EMU_FN simde__m512i qt_emu_sra_epi64(simde__m512i a, simde__m128i c) {
    QT_EMU_IN(uint64_t, n, c);
    return qt_emu_srai_epi64(a, n[0]);
}
#undef _mm512_srav_epi32
#define _mm512_srav_epi32(a, c) qt_emu_srav_epi32(a, c)
#undef _mm512_srav_epi64
#define _mm512_srav_epi64(a, c) qt_emu_srav_epi64(a, c)
#undef _mm512_srai_epi64
#define _mm512_srai_epi64(a, n) qt_emu_srai_epi64(a, (uint64_t)(unsigned)(n))
#undef _mm512_sra_epi64
#define _mm512_sra_epi64(a, c) qt_emu_sra_epi64(a, c)

/* The micro-kernels' row / column loops not force-unrolled: their vectors
 * are SIMDe's structs in memory here, and unrolling them doubled the compile
 * (AVX-512 VNNI at -O1: 22 -> 10 CPU s on a Zen 4) for no run-time gain */
#define QUANT__UNROLL

/* the level, as the compiler would announce it */
#define __SSE3__ 1
#define __SSSE3__ 1
#define __SSE4_1__ 1
#if QT_EMU >= 2
#  define __SSE4_2__ 1
#  define __AVX__ 1
#  define __AVX2__ 1
#  define __FMA__ 1
#endif
#if QT_EMU == 3
#  define __AVXVNNI__ 1
#endif
#if QT_EMU >= 4
#  define __AVX512F__ 1
#  define __AVX512BW__ 1
#  define __AVX512VL__ 1
#endif
#if QT_EMU == 5
#  define __AVX512VNNI__ 1
#  define __AVX512VBMI__ 1
#  define __AVX512VPOPCNTDQ__ 1
#endif
#endif
