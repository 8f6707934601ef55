#!/bin/sh
# bench/ab_bin.sh - paired A/B timing of two builds of one benchmark source
# (bench/ab_bin.c, bench/ab_pq.c): the headers of BASE_DIR (quant.h and
# quant_kernels.h of the base commit) against the tree's, both with FLAGS,
# run in alternation RUNS times on CPU; prints each case's median time of
# both, and tree / base.
#   sh bench/ab_bin.sh SRC BASE_DIR "FLAGS" [RUNS] [CPU]
set -e
src=$1; base=$2; flags=$3; runs=${4:-10}; cpu=${5:-1}
out=$(mktemp -d)
cc -std=c11 -O2 $flags -I"$base" "$src" -o "$out/a" -lm
cc -std=c11 -O2 $flags -I. "$src" -o "$out/b" -lm
i=0
while [ $i -lt "$runs" ]; do
    taskset -c "$cpu" "$out/a" | grep -v '^isa' | sed 's/^/A /' >> "$out/t"
    taskset -c "$cpu" "$out/b" | grep -v '^isa' | sed 's/^/B /' >> "$out/t"
    i=$((i + 1))
done
"$out/b" | head -1
awk '{ v[$2, $1] = v[$2, $1] " " $3; if (!($2 in seen)) { seen[$2] = 1; order[n++] = $2 } }
function med(s,   a, k, t, i, j) { k = split(s, a, " "); for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
END { printf "| case | base us | tree us | tree / base |\n|---|---:|---:|---:|\n";
      for (i = 0; i < n; i++) { c = order[i]; a = med(v[c, "A"]); b = med(v[c, "B"]); printf "| %s | %.1f | %.1f | %.3f |\n", c, a, b, b / a } }' "$out/t"
rm -rf "$out"
