#!/bin/sh
# bench/ab_bin.sh - paired A/B timing of one benchmark side (bench/ab_bin.c,
# bench/ab_pq.c): compiled against the headers in BASE_DIR (quant.h and
# quant_kernels.h of the base commit) and against the tree's, both with
# FLAGS, linked into one program (bench/ab_bin_main.c) that alternates the
# two case by case, run by run, pinned to CPU.
#   sh bench/ab_bin.sh SIDE.c BASE_DIR "FLAGS" [CPU]
set -e
src=$1; base=$2; flags=$3; cpu=${4:-1}
out=$(mktemp -d)
cc -std=gnu11 -O2 $flags -I"$base" -DPFX=base_ -c "$src" -o "$out/base.o"
cc -std=gnu11 -O2 $flags -I. -DPFX=tree_ -c "$src" -o "$out/tree.o"
cc -std=gnu11 -O2 -Wall -Wextra bench/ab_bin_main.c "$out/base.o" "$out/tree.o" -o "$out/ab" -lm
taskset -c "$cpu" "$out/ab"
rm -rf "$out"
