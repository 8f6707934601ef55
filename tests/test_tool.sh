#!/bin/sh
# tests/test_tool.sh - the command-line tools (build/quant-tool) end to end on
# the committed model and data: inspect, quantize (int8, int4 blocks) and
# eval of the written files, plot with the accuracy figure, and bad input
# (missing and damaged files, unknown options) refused with a message and a
# non-zero exit. `make test` runs it from the project root as build/test_tool.
T=${QT_TOOL:-$(dirname "$0")/quant-tool}   # build/test_tool runs build/quant-tool
M=models/fmnist_float.safetensors
D=examples/data
C=$D/calib-1000-images-idx3-ubyte
W=$(mktemp -d) || exit 1
trap 'rm -rf "$W"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if eval "$2"; then ok; else bad "$1"; fi; }
# accuracy printed by eval, in hundredths of a percent (92.13% -> 9213)
acc() { sed -n 's/.*accuracy \([0-9]*\)\.\([0-9]*\)%.*/\1\2/p' "$1"; }

"$T" inspect $M > $W/inspect.txt 2>&1
check "inspect lists the float tensors" 'grep -q "fc1.weight *F32 *\[128, 3136\]" $W/inspect.txt'

"$T" quantize $M $C $W/i8.st --mode int8 --observer mse > $W/q8.txt 2>&1; rc=$?
check "quantize int8 exits 0 and writes the file" '[ $rc = 0 ] && [ -s $W/i8.st ]'
check "quantize int8 prints the per-layer table" 'grep -q "^d1 *dense *128x3136 *8 *401408" $W/q8.txt'
"$T" eval $W/i8.st $D --mode int8 > $W/e8.txt 2>&1
check "eval of the int8 file: accuracy >= 92.5%" '[ "$(acc $W/e8.txt)" -ge 9250 ] 2>/dev/null'

"$T" quantize $M $C $W/i4.st --mode int4 --observer mse > $W/q4.txt 2>&1
check "quantize int4 prints blocks of 32" 'grep -q "^d1 *dense *128x3136 *4/b32" $W/q4.txt'
"$T" inspect $W/i4.st > $W/i4.txt 2>&1
check "the int4 file holds nibbles and fp16 block scales" 'grep -q "fc1.weight.q4 *U8 *\[128, 1568\]" $W/i4.txt && grep -q "fc1.weight.q4scale *F16 *\[128, 98\]" $W/i4.txt'
"$T" eval $W/i4.st $D --mode int4 > $W/e4.txt 2>&1
"$T" eval $M $D --mode int4 --observer mse > $W/e4f.txt 2>&1
check "eval of the int4 file: accuracy >= 91.5%" '[ "$(acc $W/e4.txt)" -ge 9150 ] 2>/dev/null'
check "the int4 file gives what the float file gives in int4" '[ "$(acc $W/e4.txt)" = "$(acc $W/e4f.txt)" ]'

"$T" plot $M $C $W/figs --test $D > $W/plot.txt 2>&1; rc=$?
check "plot writes histograms and the accuracy figure" '[ $rc = 0 ] && [ -s $W/figs/hist_r1.svg ] && grep -q "<svg" $W/figs/accuracy_vs_size.svg'
for m in fp32 int8 int8-dynamic int4 codebook; do
  check "plot's accuracy figure has $m" 'grep -q "^  $m " $W/plot.txt'
done

# bad input: a message on stderr and a non-zero exit
refuse() { # name, then the command
  name=$1; shift
  "$@" > $W/out.txt 2> $W/err.txt; rc=$?
  if [ $rc != 0 ] && [ -s $W/err.txt ]; then ok; else bad "$name (exit $rc, stderr: $(head -c 200 $W/err.txt))"; fi
}
refuse "missing model" "$T" eval $W/none.st $D --mode int8
head -c 1000 $M > $W/trunc.st
refuse "truncated model" "$T" inspect $W/trunc.st
refuse "truncated model (quantize)" "$T" quantize $W/trunc.st $C $W/x.st --mode int8
printf 'not a model at all' > $W/junk.st
refuse "junk model" "$T" eval $W/junk.st $D --mode fp32
refuse "unknown mode" "$T" quantize $M $C $W/x.st --mode int3
refuse "unknown observer" "$T" plot $M $C $W/figs2 --observer bogus
refuse "images where labels belong" "$T" quantize $M $D/t10k-labels-idx1-ubyte $W/x.st --mode int8
refuse "no data directory" "$T" eval $M $W/nodata --mode int8
refuse "unwritable output folder" "$T" plot $M $C /proc/quant-tool-test
refuse "no command" "$T"
check "nothing written for refused quantizations" '[ ! -e $W/x.st ]'

echo "$pass passed, $fail failed"
[ $fail = 0 ]
