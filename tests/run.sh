#!/bin/sh
# Runs test programs, prints one line for each as it finishes (its
# "N passed, N failed" line, or why it did not run) and ends with the totals
# on their own line. Arm builds run under qemu-user (QT_EMULATED=1 is set for
# them: ktest_gemm and ktest_conv then run a fixed sample of their largest
# sweeps that still reaches every tile edge, tail and epilogue); $QT_WRAP
# wraps the others.
#
#   tests/run.sh prog...            run them, $QT_JOBS at a time (default: the
#                                   number of CPUs), then the totals
#   tests/run.sh --one PROG RES     run one; its result into the file RES
#                                   (make test: one make target per program)
#   tests/run.sh --sum RES...       the totals of those results; exit 1 if any failed
#
# A result file's first line is "pass P F", "fail P F", "skip" (an optional
# package is missing: exit 77, the first line of its output says which) or
# "notrun FLAGS" (an x86 level this CPU lacks, where tests/emu_x86.h cannot
# stand in); the program's output follows. QT_REQUIRE_ALL_DEPS=1 counts
# skips as failures, QT_REQUIRE_ALL_ISAS=1 programs not run.
. "$(dirname "$0")/isa.sh"

one() { # PROG RES
  t=$1; res=$2; out=$res.tmp
  lack=$(missing_flags "$t")
  if [ -n "$lack" ]; then
    printf 'notrun %s\n' "${lack% }" > "$out"; mv "$out" "$res"
    printf '%-40s %s\n' "$t" "not run: this CPU lacks ${lack% } (built and linked)"
    return
  fi
  wrap=$QT_WRAP; emu=
  case "$t" in
    */aarch64-*/*) wrap=qemu-aarch64; emu=1 ;;
    */armv7-*/*) wrap=qemu-arm; emu=1 ;;
    */riscv64-*/*) wrap=qemu-riscv64; emu=1 ;;
  esac
  start=$(date +%s)
  QT_EMULATED=$emu $wrap "$t" > "$out.log" 2>&1; rc=$?
  # a kernel without 32-bit support (ia32 emulation off) cannot exec the
  # i686 builds: run them under qemu-i386 instead (-cpu max for SSE4.1/AVX2)
  note=
  case "$t" in */i686*/*)
    if [ $rc = 126 ] && [ -z "$wrap" ] && command -v qemu-i386 >/dev/null 2>&1; then
      QT_EMULATED=1 qemu-i386 -cpu max "$t" > "$out.log" 2>&1; rc=$?; note=" (under qemu-i386: this kernel cannot exec 32-bit binaries)"
    fi ;;
  esac
  secs=$(( $(date +%s) - start ))
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out.log" | tail -n 1)
  if [ "$rc" = 77 ]; then
    status=skip; msg="skipped: $(head -n 1 "$out.log")"
  elif [ -z "$line" ]; then
    status="fail 0 1"; msg="crashed or printed no result (exit $rc)"
  else
    p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
    if [ "$f" != 0 ] || [ "$rc" != 0 ]; then status="fail $p $f"; [ "$f" = 0 ] && status="fail $p 1"; msg="$line (exit $rc)"
    else status="pass $p 0"; msg="$line"; fi
  fi
  { echo "$status"; cat "$out.log"; } > "$out"; rm -f "$out.log"; mv "$out" "$res"
  case "$status" in fail*) { sed 1d "$res"; echo "---- $t failed"; } ;; esac
  printf '%-40s %s%s\n' "$t" "$msg" "$( [ $secs -ge 10 ] && echo "  [$secs s]")$note"
}

sum() { # RES...
  tp=0; tf=0; nr=0; ns=0; lacks=
  for r in "$@"; do
    if [ ! -f "$r" ]; then echo "$r: no result"; tf=$((tf + 1)); continue; fi
    set -- $(head -n 1 "$r")
    case "$1" in
      pass|fail) tp=$((tp + $2)); tf=$((tf + $3)) ;;
      skip) ns=$((ns + 1)); [ -n "${QT_REQUIRE_ALL_DEPS-}" ] && tf=$((tf + 1)) ;;
      notrun) nr=$((nr + 1)); shift; lacks="$lacks $*"; [ -n "${QT_REQUIRE_ALL_ISAS-}" ] && tf=$((tf + 1)) ;;
      *) echo "$r: unreadable result"; tf=$((tf + 1)) ;;
    esac
  done
  if [ $nr != 0 ]; then
    echo "$nr programs not run: built for x86 levels this CPU lacks (flags: $(echo $lacks | tr ' ' '\n' | sort -u | tr '\n' ' ' | sed 's/ $//'))"
    [ -n "${QT_REQUIRE_ALL_ISAS-}" ] && echo "QT_REQUIRE_ALL_ISAS is set: counted as failed"
  fi
  if [ $ns != 0 ]; then
    echo "$ns programs skipped (see above: the packages they need)"
    [ -n "${QT_REQUIRE_ALL_DEPS-}" ] && echo "QT_REQUIRE_ALL_DEPS is set: counted as failed"
  fi
  echo "$tp passed, $tf failed"
  [ $tf = 0 ]
}

case "${1-}" in
  --one) one "$2" "$3"; exit 0 ;;
  --sum) shift; sum "$@"; exit $? ;;
esac

jobs=${QT_JOBS:-$(nproc 2>/dev/null || echo 1)}
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
i=0
for t in "$@"; do i=$((i + 1)); printf '%s\n%s\n' "$t" "$dir/$i.res"; done |
  xargs -d '\n' -n 2 -P "$jobs" sh "$0" --one
i=0; set -- $(i=0; for t in "$@"; do i=$((i + 1)); echo "$dir/$i.res"; done)
sum "$@"
