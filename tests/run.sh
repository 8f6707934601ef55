#!/bin/sh
# Runs every test program given on the command line (optionally through a
# wrapper such as qemu, in $QT_WRAP), sums their "N passed, N failed" lines
# and ends with the total on its own line.
tp=0; tf=0; status=0; i686_said=
for t in "$@"; do
  wrap=$QT_WRAP
  case "$t" in
    */aarch64-*/*) wrap=qemu-aarch64 ;;
    */armv7-*/*) wrap=qemu-arm ;;
    */riscv64-*/*) wrap=qemu-riscv64 ;;
  esac
  out=$($wrap "$t" 2>&1); rc=$?
  # a kernel without 32-bit support (ia32 emulation off) cannot exec the
  # i686 builds: run them under qemu-i386 instead (-cpu max for SSE4.1/AVX2)
  case "$t" in */i686*/*)
    if [ $rc = 126 ] && [ -z "$wrap" ] && command -v qemu-i386 >/dev/null 2>&1; then
      out=$(qemu-i386 -cpu max "$t" 2>&1); rc=$?
      [ -n "$i686_said" ] || { echo "(i686 builds run under qemu-i386: this kernel cannot exec 32-bit binaries)"; i686_said=1; }
    fi ;;
  esac
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
  if [ -z "$line" ]; then
    printf '%s\n' "$out"; echo "$t: crashed or printed no result (exit $rc)"; tf=$((tf + 1)); status=1; continue
  fi
  p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
  if [ "$f" != 0 ] || [ $rc != 0 ]; then printf '%s\n' "$out"; status=1; fi
  printf '%-40s %s\n' "$t" "$line"
  tp=$((tp + p)); tf=$((tf + f))
done
echo "$tp passed, $tf failed"
exit $status
