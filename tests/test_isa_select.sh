#!/bin/sh
# tests/test_isa_select.sh - quant_kernels.h's ISA selection: for compiler
# flags and QUANT_NO_* opt-outs, the QUANT_HAS_* capabilities and the one
# QUANT_ISA_* level the preprocessor defines (gcc -dM -E: nothing is
# compiled). Each opt-out must remove its capability and all that builds on
# it, and nothing else. Also with clang and the Arm cross compilers where
# installed. Run from the project root.
pass=0; fail=0
check() { # CC FLAGS EXPECTED-LEVEL EXPECTED-CAPABILITIES...
  cc=$1; flags=$2; want_level=$3; shift 3; want=$(for w in "$@"; do echo "$w"; done | sort | tr '\n' ' ')
  defs=$(printf '#include "quant_kernels.h"\n' | $cc $flags -I. -dM -E -x c - 2>&1) || {
    echo "FAIL $cc $flags: does not preprocess: $defs" | head -n 3; fail=$((fail + 1)); return; }
  has=$(echo "$defs" | sed -n 's/^#define QUANT_HAS_\([A-Z0-9]*\) .*/\1/p' | sort | tr '\n' ' ')
  level=$(echo "$defs" | sed -n 's/^#define QUANT_ISA_\([A-Z0-9]*\) .*/\1/p' | tr '\n' ' ')
  level=${level% }; [ -z "$level" ] && level=SCALAR
  if [ "$has" = "$want" ] && [ "$level" = "$want_level" ]; then pass=$((pass + 1))
  else fail=$((fail + 1)); echo "FAIL $cc $flags: level '$level' capabilities '$has'; expected '$want_level' '$want'"; fi
}
V5="-mavx512f -mavx512bw -mavx512vl -mavx512vnni -mavx512vbmi -mavx512vpopcntdq -mfma"
for cc in gcc clang; do
  command -v $cc >/dev/null 2>&1 || { echo "$cc not installed: its checks skipped"; continue; }
  check $cc "" SCALAR
  check $cc "-msse4.1" SSE41 SSE41
  check $cc "-mavx2" SSE41 SSE41                     # AVX2 needs FMA too
  check $cc "-mavx2 -mfma" AVX2 SSE41 AVX2
  check $cc "-mavx2 -mfma -mavxvnni" AVXVNNI SSE41 AVX2 AVXVNNI
  check $cc "-mavx2 -mfma -mavxvnni -DQUANT_NO_AVXVNNI" AVX2 SSE41 AVX2
  check $cc "-mavx2 -mfma -mavxvnni -DQUANT_NO_AVX2" SSE41 SSE41
  check $cc "-mavx2 -mfma -mavxvnni -DQUANT_NO_SSE41" SCALAR
  check $cc "-mavx512f -mavx512bw -mavx512vl -mfma" AVX512 SSE41 AVX2 AVX512
  [ $cc = gcc ] && check $cc "-mavx512f -mavx512bw -mavx512vl" SSE41 SSE41  # no FMA (gcc): no AVX2, so no AVX-512
  check $cc "-mavx512f -mfma" AVX2 SSE41 AVX2            # F alone is not the AVX-512 level
  check $cc "$V5" AVX512VNNI SSE41 AVX2 AVX512 AVX512VNNI AVX512VBMI AVX512VPOPCNTDQ
  check $cc "$V5 -mavxvnni" AVX512VNNI SSE41 AVX2 AVXVNNI AVX512 AVX512VNNI AVX512VBMI AVX512VPOPCNTDQ
  check $cc "$V5 -DQUANT_NO_AVX512VNNI" AVX512 SSE41 AVX2 AVX512 AVX512VBMI AVX512VPOPCNTDQ
  check $cc "$V5 -DQUANT_NO_AVX512VBMI" AVX512VNNI SSE41 AVX2 AVX512 AVX512VNNI AVX512VPOPCNTDQ
  check $cc "$V5 -DQUANT_NO_AVX512VPOPCNTDQ" AVX512VNNI SSE41 AVX2 AVX512 AVX512VNNI AVX512VBMI
  check $cc "$V5 -DQUANT_NO_AVX512" AVX2 SSE41 AVX2
  check $cc "$V5 -DQUANT_NO_AVX2" SSE41 SSE41
  check $cc "$V5 -DQUANT_NO_SSE41" SCALAR
  check $cc "$V5 -DQUANT_NO_SIMD" SCALAR
  check $cc "$V5 -DQUANT_NO_NEON" AVX512VNNI SSE41 AVX2 AVX512 AVX512VNNI AVX512VBMI AVX512VPOPCNTDQ
done
if command -v aarch64-linux-gnu-gcc >/dev/null 2>&1; then
  check aarch64-linux-gnu-gcc "-march=armv8-a" NEON NEON
  check aarch64-linux-gnu-gcc "-march=armv8.2-a+dotprod" NEONDOT NEON NEONDOT
  check aarch64-linux-gnu-gcc "-march=armv8.2-a+dotprod -DQUANT_NO_DOTPROD" NEON NEON
  check aarch64-linux-gnu-gcc "-march=armv8.2-a+dotprod -DQUANT_NO_NEON" SCALAR
  check aarch64-linux-gnu-gcc "-march=armv8.2-a+dotprod -DQUANT_NO_SIMD" SCALAR
  check aarch64-linux-gnu-gcc "-march=armv8.2-a+dotprod -DQUANT_NO_AVX2" NEONDOT NEON NEONDOT
else echo "aarch64-linux-gnu-gcc not installed: its checks skipped"; fi
if command -v arm-linux-gnueabihf-gcc >/dev/null 2>&1; then
  check arm-linux-gnueabihf-gcc "-march=armv7-a -mfpu=neon -mfloat-abi=hard" NEON NEON
  check arm-linux-gnueabihf-gcc "-march=armv7-a -mfpu=vfpv3 -mfloat-abi=hard" SCALAR
else echo "arm-linux-gnueabihf-gcc not installed: its checks skipped"; fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]
