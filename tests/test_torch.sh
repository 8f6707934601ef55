#!/bin/sh
# tests/test_torch.sh - models made elsewhere: tests/torch_models.py builds
# six PyTorch models (weights it trained on Fashion-MNIST, committed in
# tests/torch_weights/; QT_TORCH_TRAIN=1 trains them anew) and exports them with tools/export.py
# (into a temporary directory), then tests/torch_check runs each in the runner
# on the 10000 test images: fp32 must give exactly PyTorch's predictions, int8
# (percentile / MSE calibration) at most 0.3 points below fp32. The exporter's
# self-test models (every op and attribute, random weights, odd shapes) run
# too (torch_check --float): fp32 within 1e-4 of PyTorch, int8 / int8-dynamic
# sane. About 40 CPU seconds (torch_models.py ~10, ~50 when it trains; the
# torch_check runs ~30, two at a time); with the models cached (QT_TORCH_CACHE) ~30.
# PyTorch's own int8 PTQ accuracy of each model, printed beside the runner's
# for comparison (not checked), costs 6 CPU s more: with QT_TORCH_PTQ=1.
#
#   sh tests/test_torch.sh
#
# QT_TORCH_CHECK=path   a built tests/torch_check.c (default: compiled here with
#                       $CC, gcc, and the project's flags)
# QT_TORCH_EXTRA=0      skip the fourth model, with padded / ceil-mode pooling and
#                       a conv whose ReLU is not the next node (torch_models.py --extra)
# QT_REQUIRE_TORCH=1    a missing python3-torch or dataset is a failure (CI)
# QT_TORCH_KEEP=dir     write the models and data to dir and keep them
# QT_TORCH_TRAIN=1      train the models instead of loading tests/torch_weights/
# QT_TORCH_THREADS=n    torch threads for training (default 1; another count
#                       trains other models; the cache stamp holds it)
# QT_TORCH_JOBS=n       torch_check runs at a time (default 2)
# QT_TORCH_PTQ=1        also PyTorch's own int8 PTQ accuracy (FX, onednn) of each
#                       model, for comparison (printed, not checked)
# Exit 77 (skipped) without python3-torch or dataset-fashion-mnist, unless
# QT_REQUIRE_TORCH is set.
root=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
if ! $PY -c "import torch" >/dev/null 2>&1; then
  echo "torch_models: python3-torch not installed (apt-get install python3-torch)"
  [ -n "${QT_REQUIRE_TORCH-}" ] && { echo "QT_REQUIRE_TORCH is set"; echo "0 passed, 1 failed"; exit 1; }
  exit 77
fi
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  echo "torch_models: dataset-fashion-mnist not installed (apt-get install dataset-fashion-mnist)"
  [ -n "${QT_REQUIRE_TORCH-}" ] && { echo "QT_REQUIRE_TORCH is set"; echo "0 passed, 1 failed"; exit 1; }
  exit 77
fi
W=$(mktemp -d) || exit 1
trap 'rm -rf "$W"' EXIT
D=${QT_TORCH_KEEP:-$W/models}
pass=0; fail=0
count() { # adds the "N passed, N failed" line of file $1 (a missing line is a failure)
  l=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1)
  if [ -z "$l" ]; then fail=$((fail + 1)); echo "FAIL: $2 printed no result line"; return; fi
  set -- $l
  pass=$((pass + $1)); fail=$((fail + $3))
}

T=${QT_TORCH_CHECK:-}
if [ -z "$T" ]; then
  T=$W/torch_check
  if ! ${CC:-gcc} -std=c99 -O2 -march=native -Wall -Wextra -Wpedantic -Werror -I"$root" -I"$root/examples/runner" \
       "$root/tests/torch_check.c" -o "$T" -lm; then
    echo "FAIL: tests/torch_check.c does not compile"
    echo "0 passed, 1 failed"
    exit 1
  fi
fi

extra=--extra; [ "${QT_TORCH_EXTRA:-1}" = 0 ] && extra=
threads=${QT_TORCH_THREADS:-1}
train=; [ "${QT_TORCH_TRAIN:-0}" = 1 ] && train=--train
ptq=--no-ptq; [ "${QT_TORCH_PTQ:-0}" = 1 ] && ptq=
# QT_TORCH_CACHE=dir: reuse the models and data trained there by the same
# torch_models.py and export.py (the sanitizer builds of make check run the
# same models through their own torch_check)
stamp=$(cat "$root/tests/torch_models.py" "$root/tools/export.py" "$root"/tests/torch_weights/*.npz | cksum | cut -d' ' -f1)-$extra$train$ptq-threads$threads
C=${QT_TORCH_CACHE:-}
if [ -n "$C" ] && [ -z "${QT_TORCH_KEEP-}" ] && [ -f "$C/models.txt" ] && [ "$(cat "$C/stamp" 2>/dev/null)" = "$stamp" ]; then
  D=$C
  echo "torch_models.py: the models trained earlier in $C (same scripts)"
else
  start=$(date +%s)
  # (glibc's malloc keeps freed blocks up to 256 MB instead of unmapping and
  # faulting them in again batch after batch: 3.3 -> 1.4 s of system time,
  # 860 -> 950 MB at the peak; no effect elsewhere)
  GLIBC_TUNABLES=${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=268435456 \
  $PY "$root/tests/torch_models.py" "$D" $extra $train $ptq --threads "$threads" > "$W/models.out" 2>&1
  rc=$?
  grep -v '^    epoch' "$W/models.out"
  f0=$fail
  count "$W/models.out" torch_models.py
  [ $rc = 0 ] || [ $fail != $f0 ] || { fail=$((fail + 1)); echo "FAIL: torch_models.py exited $rc"; }
  echo "torch_models.py: $(( $(date +%s) - start )) s"
  if [ -n "$C" ] && [ $fail = 0 ] && [ -f "$D/models.txt" ] && [ -z "${QT_TORCH_KEEP-}" ]; then
    # into the cache whole or not at all (two runs may race: the later rename loses)
    mkdir -p "$(dirname "$C")" && rm -rf "$C.tmp.$$" && cp -r "$D" "$C.tmp.$$" && echo "$stamp" > "$C.tmp.$$/stamp" &&
      { rm -rf "$C"; mv "$C.tmp.$$" "$C" 2>/dev/null || rm -rf "$C.tmp.$$"; }
  fi
fi

if [ -f "$D/models.txt" ]; then
  # every torch_check run, $QT_TORCH_JOBS (default 2) at a time: job I writes
  # $W/I.out and $W/I.rc; the results print in order below
  { i=0
    while read -r name file ref acc q8; do i=$((i + 1)); echo "$i $file $ref $name"; done < "$D/models.txt"
    if [ -f "$D/selftest.txt" ]; then
      while read -r name file in out; do i=$((i + 1)); echo "$i --float $file $in $out $name"; done < "$D/selftest.txt"
    fi; } |
    QT_TC="$T" QT_TD="$D" QT_TW="$W" xargs -P "${QT_TORCH_JOBS:-2}" -L 1 sh -c '
      i=$1; shift
      if [ "$1" = --float ]; then "$QT_TC" --float "$QT_TD/$2" "$QT_TD/$3" "$QT_TD/$4" "selftest $5"
      else "$QT_TC" "$QT_TD/$1" "$QT_TD" "$QT_TD/$2" "$3"; fi > "$QT_TW/$i.out" 2>&1
      echo $? > "$QT_TW/$i.rc"' sh
  i=0
  while read -r name file ref acc q8; do
    i=$((i + 1)); rc=$(cat "$W/$i.rc" 2>/dev/null || echo "not run")
    cat "$W/$i.out"
    if [ "$q8" = - ]; then echo "  (PyTorch on the images of its outputs: fp32 $acc%; its own int8 PTQ with QT_TORCH_PTQ=1)"
    else echo "  (PyTorch on the images of its outputs: fp32 $acc%, its own int8 PTQ $q8%)"; fi
    f0=$fail
    count "$W/$i.out" "torch_check $name"
    [ "$rc" = 0 ] || [ $fail != $f0 ] || { fail=$((fail + 1)); echo "FAIL: torch_check $name exited $rc"; }
  done < "$D/models.txt"
  if [ -f "$D/selftest.txt" ]; then
    while read -r name file in out; do
      i=$((i + 1)); rc=$(cat "$W/$i.rc" 2>/dev/null || echo "not run")
      cat "$W/$i.out"
      f0=$fail
      count "$W/$i.out" "torch_check --float $name"
      [ "$rc" = 0 ] || [ $fail != $f0 ] || { fail=$((fail + 1)); echo "FAIL: torch_check --float $name exited $rc"; }
    done < "$D/selftest.txt"
  fi
else
  fail=$((fail + 1)); echo "FAIL: no models written"
fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]
