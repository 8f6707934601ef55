#!/bin/sh
# Runs every test program given on the command line (optionally through a
# wrapper such as qemu, in $QT_WRAP), sums their "N passed, N failed" lines
# and ends with the total on its own line.
tp=0; tf=0; status=0
for t in "$@"; do
  wrap=$QT_WRAP
  case "$t" in
    */aarch64-*/*) wrap=qemu-aarch64 ;;
    */armv7-*/*) wrap=qemu-arm ;;
    */riscv64-*/*) wrap=qemu-riscv64 ;;
  esac
  out=$($wrap "$t" 2>&1); rc=$?
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
