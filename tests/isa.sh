#!/bin/sh
# tests/isa.sh - the x86 levels of the Makefile and the CPU flags (as
# /proc/cpuinfo names them) that each needs to run.
#
#   . tests/isa.sh          defines isa_flags and missing_flags (tests/run.sh)
#   sh tests/isa.sh L...    prints those of the levels L this CPU can run
#                           (bench/bench.mk); all of them where /proc/cpuinfo
#                           cannot be read
#
# isa_flags / missing_flags take a level (avx2) or a test program's path
# whose folder names it (build/x86-avx2/ktest_gemm, build/matrix/clang-avx2/...).
isa_flags() {
  l=$1
  case "$l" in */*) l=${l%/*}; l=${l##*/}; l=${l#x86-}; l=${l#clang-} ;; esac
  case "$l" in
    sse41) echo "sse4_1" ;;
    avx2) echo "avx2 fma" ;;
    avxvnni) echo "avx2 fma avx_vnni" ;;
    avx512) echo "avx512f avx512bw avx512vl fma" ;;
    avx512vnni) echo "avx512f avx512bw avx512vl avx512_vnni avx512_vpopcntdq avx512vbmi fma" ;;
  esac
}
missing_flags() {
  need=$(isa_flags "$1"); [ -n "$need" ] && [ -r /proc/cpuinfo ] || return 0
  have=" $(grep -m 1 '^flags' /proc/cpuinfo | sed 's/^[^:]*://') "
  for f in $need; do case "$have" in *" $f "*) ;; *) printf '%s ' "$f" ;; esac; done
}
case "$0" in
  *isa.sh)
    out=
    for l in "$@"; do [ -z "$(missing_flags "$l")" ] && out="$out $l"; done
    echo $out ;;
esac
