#!/bin/sh
# Runs every test program given on the command line (optionally through a
# wrapper such as qemu, in $QT_WRAP), sums their "N passed, N failed" lines
# and ends with the total on its own line. The programs run $QT_JOBS at a
# time (default: the number of CPUs); their results print in the order given.
#
#   tests/run.sh prog...          run them all and sum
#   tests/run.sh --one DIR I PROG run one (internal): DIR/I.out, DIR/I.rc
# A kernel test built for an x86 level this CPU lacks (build/x86-avx512vnni/...,
# the matrix's clang-<level>/...) cannot run here: it is reported as not run,
# with the CPU flags it needs (tests/isa.sh), and counts neither as passed nor
# as failed (set QT_REQUIRE_ALL_ISAS=1 to make that a failure, on a CPU that
# has them all).
. "$(dirname "$0")/isa.sh"

if [ "${1-}" = --one ]; then
  dir=$2; i=$3; t=$4
  lack=$(missing_flags "$t")
  if [ -n "$lack" ]; then echo "${lack% }" > "$dir/$i.lack"; echo 0 > "$dir/$i.rc"; exit 0; fi
  wrap=$QT_WRAP
  case "$t" in
    */aarch64-*/*) wrap=qemu-aarch64 ;;
    */armv7-*/*) wrap=qemu-arm ;;
    */riscv64-*/*) wrap=qemu-riscv64 ;;
  esac
  $wrap "$t" > "$dir/$i.out" 2>&1; rc=$?
  # a kernel without 32-bit support (ia32 emulation off) cannot exec the
  # i686 builds: run them under qemu-i386 instead (-cpu max for SSE4.1/AVX2)
  case "$t" in */i686*/*)
    if [ $rc = 126 ] && [ -z "$wrap" ] && command -v qemu-i386 >/dev/null 2>&1; then
      qemu-i386 -cpu max "$t" > "$dir/$i.out" 2>&1; rc=$?
      : > "$dir/$i.qemu"
    fi ;;
  esac
  echo $rc > "$dir/$i.rc"
  exit 0
fi

jobs=${QT_JOBS:-$(nproc 2>/dev/null || echo 1)}
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
i=0
for t in "$@"; do i=$((i + 1)); printf '%s\n%s\n' "$i" "$t"; done |
  xargs -d '\n' -n 2 -P "$jobs" sh "$0" --one "$dir"
tp=0; tf=0; status=0; i=0; said=; nr=0; nrlack=; ns=0
for t in "$@"; do
  i=$((i + 1))
  if [ -e "$dir/$i.lack" ]; then
    lack=$(cat "$dir/$i.lack")
    printf '%-40s %s\n' "$t" "not run: this CPU lacks $lack (built and linked)"
    nr=$((nr + 1)); case " $nrlack " in *" $lack "*) ;; *) nrlack="$nrlack $lack" ;; esac
    if [ -n "${QT_REQUIRE_ALL_ISAS-}" ]; then tf=$((tf + 1)); status=1; fi
    continue
  fi
  if [ -e "$dir/$i.qemu" ] && [ -z "$said" ]; then
    echo "(i686 builds run under qemu-i386: this kernel cannot exec 32-bit binaries)"; said=1
  fi
  rc=$(cat "$dir/$i.rc" 2>/dev/null || echo "not run")
  if [ "$rc" = 77 ]; then # skipped: an optional dependency is missing (its first line says which)
    printf '%-40s %s\n' "$t" "skipped: $(head -n 1 "$dir/$i.out")"
    ns=$((ns + 1)); [ -n "${QT_REQUIRE_ALL_DEPS-}" ] && { tf=$((tf + 1)); status=1; }; continue
  fi
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$dir/$i.out" 2>/dev/null | tail -n 1)
  if [ -z "$line" ]; then
    cat "$dir/$i.out" 2>/dev/null; echo "$t: crashed or printed no result (exit $rc)"; tf=$((tf + 1)); status=1; continue
  fi
  p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
  if [ "$f" != 0 ] || [ "$rc" != 0 ]; then cat "$dir/$i.out"; status=1; fi
  printf '%-40s %s\n' "$t" "$line"
  tp=$((tp + p)); tf=$((tf + f))
done
if [ $nr != 0 ]; then
  echo "$nr programs not run: built for x86 levels this CPU lacks (flags:$(echo $nrlack | tr ' ' '\n' | sort -u | tr '\n' ' ' | sed 's/ $//;s/^/ /'))"
  [ -n "${QT_REQUIRE_ALL_ISAS-}" ] && echo "QT_REQUIRE_ALL_ISAS is set: counted as failed"
fi
[ $ns != 0 ] && echo "$ns programs skipped (see above: the packages they need)"
echo "$tp passed, $tf failed"
exit $status
