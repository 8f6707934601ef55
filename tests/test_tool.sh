#!/bin/sh
# tests/test_tool.sh - the command-line tools (build/quant-tool) end to end on
# the committed model and data: inspect, quantize (int8, int4 blocks) and
# eval of the written files, plot with the accuracy figure, and bad input
# (missing and damaged files, unknown options) refused with a message and a
# non-zero exit. Then issue 17: a hand-made model with hostile tensor and
# value names (escaped in the written JSON, in SVG text, safe and unique as
# file names), an 8-dim shape printed in full, quantize of an already
# quantized file, strict options (exit 2, --help exit 0), directories where
# files belong, and a failed write leaving OUT as it was. Issue 22: quantize
# --equalize, --round gptq / nearest and --bias-correct, --mode mixed --budget. `make test` runs it
# from the project root as build/test_tool.
# Time (about 29 s of user CPU on a 2-core AVX2 VM, 2026-12-07): accuracy
# thresholds on the 10000 test images; comparisons of two ways of running the
# same images on 1010 of them ($S) where a difference can be a few images;
# checks that a file is read right, or that a command runs and prints what it
# should, on 100 ($T1). GPTQ's run costs 5 s, most of it factorizing d1's
# 3136 x 3136 Hessian.
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
# ... and as printed (92.13)
pct() { sed -n 's/.*accuracy \([0-9]*\.[0-9]*\)%.*/\1/p' "$1"; }

# A smaller data directory, for time, where a check compares two ways of
# running the same images or only needs the tool to run: the first 1010
# test images and labels and 250 calibration images (eval and plot calibrate
# on the whole calibration file; eval without --calib on the first 1000 of
# --images, so 1010 keeps that a cut). The calibration images are the first
# 250 of $C at half brightness (pixel / 2): int8 calibrated on them gives
# 85% where the test images' own calibration gives 93%, so that the checks
# which compare int8 accuracies tell one calibration set from another (on
# this robust model two sets of normal images give the same accuracy). The
# accuracy thresholds run on the whole 10000 of $D.
S=$W/s NS=1010 NC=250
mkdir $S
{ printf '\000\000\010\003\000\000\003\362\000\000\000\034\000\000\000\034'; tail -c +17 $D/t10k-images-idx3-ubyte | head -c $((NS * 784)); } > $S/t10k-images-idx3-ubyte
{ printf '\000\000\010\001\000\000\003\362'; tail -c +9 $D/t10k-labels-idx1-ubyte | head -c $NS; } > $S/t10k-labels-idx1-ubyte
half=; i=0; while [ $i -lt 256 ]; do v=$((i / 2)); half="$half\\$((v / 64))$((v / 8 % 8))$((v % 8))"; i=$((i + 1)); done # tr: byte i -> i / 2
{ printf '\000\000\010\003\000\000\000\372\000\000\000\034\000\000\000\034'; tail -c +17 $C | head -c $((NC * 784)) | LC_ALL=C tr '\000-\377' "$half"; } > $S/calib-1000-images-idx3-ubyte
SC=$S/calib-1000-images-idx3-ubyte
# and the first 250 of $C as they are (the int8 and int4 files calibrated on
# them keep the accuracies checked below), and the first 100 for GPTQ (its
# cost is mostly factorizing d1's 3136 x 3136 Hessian, whatever the count;
# the Hessians of 100 images keep the accuracy checked below)
{ printf '\000\000\010\003\000\000\000\372\000\000\000\034\000\000\000\034'; tail -c +17 $C | head -c $((NC * 784)); } > $S/calib-250
{ printf '\000\000\010\003\000\000\000\144\000\000\000\034\000\000\000\034'; tail -c +17 $C | head -c $((100 * 784)); } > $S/calib-100
# For the checks that only need the tool to run (plot's figures, the tables
# and files of --round, --bias-correct, --equalize): a test directory of 100
# images, calibrated on 50 ($C50)
T1=$W/t1
mkdir $T1
{ printf '\000\000\010\003\000\000\000\144\000\000\000\034\000\000\000\034'; tail -c +17 $D/t10k-images-idx3-ubyte | head -c $((100 * 784)); } > $T1/t10k-images-idx3-ubyte
{ printf '\000\000\010\001\000\000\000\144'; tail -c +9 $D/t10k-labels-idx1-ubyte | head -c 100; } > $T1/t10k-labels-idx1-ubyte
{ printf '\000\000\010\003\000\000\000\062\000\000\000\034\000\000\000\034'; tail -c +17 $C | head -c $((50 * 784)); } > $T1/calib-1000-images-idx3-ubyte
C50=$T1/calib-1000-images-idx3-ubyte

"$T" inspect $M > $W/inspect.txt 2>&1
check "inspect lists the float tensors" 'grep -q "fc1.weight *F32 *\[128, 3136\]" $W/inspect.txt'

"$T" quantize $M $S/calib-250 $W/i8.st --mode int8 --observer mse > $W/q8.txt 2>&1; rc=$?
check "quantize int8 exits 0 and writes the file" '[ $rc = 0 ] && [ -s $W/i8.st ]'
check "quantize int8 prints the per-layer table" 'grep -q "^d1 *dense *128x3136 *8 *401408" $W/q8.txt'
"$T" eval $W/i8.st $D --mode int8 > $W/e8.txt 2>&1
check "eval of the int8 file: accuracy >= 92.5%" '[ "$(acc $W/e8.txt)" -ge 9250 ] 2>/dev/null'

"$T" quantize $M $S/calib-250 $W/i4.st --mode int4 --observer mse > $W/q4.txt 2>&1
check "quantize int4 prints blocks of 32" 'grep -q "^d1 *dense *128x3136 *4/b32" $W/q4.txt'
"$T" inspect $W/i4.st > $W/i4.txt 2>&1
check "the int4 file holds nibbles and fp16 block scales" 'grep -q "fc1.weight.q4 *U8 *\[128, 1568\]" $W/i4.txt && grep -q "fc1.weight.q4scale *F16 *\[128, 98\]" $W/i4.txt'
"$T" eval $W/i4.st $D > $W/e4.txt 2>&1  # (no --mode: the file's own, checked below)
check "eval of the int4 file: accuracy >= 91.5%" '[ "$(acc $W/e4.txt)" -ge 9150 ] 2>/dev/null'
"$T" eval $W/i4.st $S > $W/es4.txt 2>&1
"$T" eval $M --images $S/t10k-images-idx3-ubyte --labels $S/t10k-labels-idx1-ubyte --calib $S/calib-250 --mode int4 --observer mse > $W/e4f.txt 2>&1
check "the int4 file gives what the float file gives in int4 (on the $NS images of \$S)" '[ -n "$(acc $W/es4.txt)" ] && [ "$(acc $W/es4.txt)" = "$(acc $W/e4f.txt)" ]'

# --reduce-range: 7-bit activations (PyTorch's reduce_range), the u7s8 kernels
"$T" quantize $M $S/calib-250 $W/i8r.st --mode int8 --observer mse --reduce-range > $W/q8r.txt 2>&1; rc=$?
check "quantize int8 --reduce-range (exit $rc) says so" '[ $rc = 0 ] && grep -q "(int8, activations 0..127, mse observer" $W/q8r.txt'
"$T" eval $W/i8r.st $D > $W/e8r.txt 2>&1
check "  ... its file runs with activations 0..127 at >= 92.5%" 'grep -q "(int8, [a-z0-9]*, activations 0..127)" $W/e8r.txt && [ "$(acc $W/e8r.txt)" -ge 9250 ] 2>/dev/null'
"$T" eval $W/i8r.st $S > $W/es8r.txt 2>&1
"$T" eval $M --images $S/t10k-images-idx3-ubyte --labels $S/t10k-labels-idx1-ubyte --calib $S/calib-250 --mode int8 --observer mse --reduce-range > $W/e8rf.txt 2>&1
check "  ... as eval --reduce-range of the float model does (on the $NS images of \$S)" '[ -n "$(acc $W/es8r.txt)" ] && [ "$(acc $W/es8r.txt)" = "$(acc $W/e8rf.txt)" ]'
"$T" eval $W/i8r.st $S --reduce-range > $W/out.txt 2> $W/err.txt; rc=$?
check "eval --reduce-range of a file quantized with its own params: refused (exit $rc), saying why" '[ $rc = 1 ] && grep -q "is quantized, and runs with the activation params it stores" $W/err.txt && [ ! -s $W/out.txt ]'

# issue 22: GPTQ rounding and bias correction (quant.h section 12) in quantize
"$T" quantize $M $S/calib-100 $W/i4g.st --mode int4 --observer mse --round gptq --bias-correct > $W/q4g.txt 2>&1; rc=$?
check "quantize int4 --round gptq --bias-correct exits 0 (exit $rc)" '[ $rc = 0 ] && [ -s $W/i4g.st ]'
check "  ... the table shows each layer's output SQNR, nearest -> GPTQ, and its bias shift" 'grep -q "output SQNR rtn->gptq  bias shift" $W/q4g.txt && grep -q "^d1 *dense *128x3136 *4/b32 .* dB *[0-9.]* -> *[0-9.]* dB *[0-9.e-]*$" $W/q4g.txt'
check "  ... GPTQ raises every layer's output SQNR on the calibration inputs" 'awk "/^(c1|c2|d1|logits) / { if (!(\$(NF-2) + 0 > \$(NF-4) + 0)) b = 1; n++ } END { exit !(n == 4 && !b) }" $W/q4g.txt'
"$T" inspect $W/i4g.st > $W/i4gi.txt 2>&1
check "  ... the file holds corrected biases beside the float ones" 'grep -q "fc1.weight.qbias *F32 *\[128\]" $W/i4gi.txt && grep -q "fc1.bias *F32 *\[128\]" $W/i4gi.txt'
"$T" eval $W/i4g.st $D --mode int4 > $W/e4g.txt 2>&1
check "eval of the GPTQ + bias-corrected int4 file: accuracy >= 92.3% (fp32: 92.80%)" '[ "$(acc $W/e4g.txt)" -ge 9230 ] 2>/dev/null'
check "  ... above the round-to-nearest int4 file's" '[ "$(acc $W/e4g.txt)" -gt "$(acc $W/e4.txt)" ] 2>/dev/null'
"$T" eval $W/i4g.st $S --mode fp32 > $W/e4gf.txt 2>&1
"$T" eval $M $S --mode fp32 > $W/sf32.txt 2>&1  # the float model in fp32 on $S (below too)
check "  ... its fp32 run keeps the float biases" '[ -n "$(acc $W/sf32.txt)" ] && [ "$(acc $W/e4gf.txt)" = "$(acc $W/sf32.txt)" ]'
"$T" quantize $M $C50 $W/i8d.st --mode int8 > /dev/null 2>&1
"$T" quantize $M $C50 $W/i8n.st --mode int8 --round nearest > /dev/null 2>&1
check "--round nearest writes what no --round writes" '[ -s $W/i8d.st ] && cmp -s $W/i8n.st $W/i8d.st'
"$T" quantize $M $C50 $W/i8b.st --bias-correct --mode int8 > $W/q8b.txt 2>&1; rc=$?
check "quantize int8 --bias-correct (exit $rc) shows the bias shift and no GPTQ column" '[ $rc = 0 ] && grep -q "weight SQNR  bias shift$" $W/q8b.txt && ! grep -q "rtn->gptq" $W/q8b.txt'
"$T" quantize $W/i8b.st $C50 $W/i8b2.st --mode int8 > /dev/null 2>&1
check "  ... quantizing that file again drops its corrected biases" 'cmp -s $W/i8b2.st $W/i8d.st'
"$T" quantize $M $C50 $W/i8e.st --mode int8 --equalize > $W/q8e.txt 2>&1; rc=$?
check "quantize int8 --equalize (exit $rc) equalizes the three pairs (through relu, maxpool, flatten)" '[ $rc = 0 ] && grep -q "^conv1.weight *conv2.weight " $W/q8e.txt && grep -q "^conv2.weight *fc1.weight " $W/q8e.txt && grep -q "^fc1.weight *fc2.weight " $W/q8e.txt'
check "  ... after which both layers of a pair have the same channel-range spread" 'awk "/^(conv1|conv2|fc1)\.weight / { if (\$5 != \$8 || \$3 == \$5) b = 1; n++ } END { exit !(n == 3 && !b) }" $W/q8e.txt'
"$T" eval $W/i8e.st $S --mode fp32 > $W/e8ef.txt 2>&1
check "  ... and the equalized float model gives the float model's accuracy" '[ -n "$(acc $W/sf32.txt)" ] && [ "$(acc $W/e8ef.txt)" = "$(acc $W/sf32.txt)" ]'

"$T" plot $M $C50 $W/figs --test $T1 > $W/plot.txt 2>&1; rc=$?
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

# ---- hostile names (issue 17): a model whose tensor names hold '"', '\',
# a tab and a control byte, whose value names are "a/b", "a_b" and
# ../../<i>&"'<0x01>, and which has a zero-element tensor of 8 huge dimensions.
# Written by hand: 8-byte little-endian header length, header, data (finite
# floats: the start of the float model's fc1.weight).
mkmodel() { # header file, data file, out
  L=$(wc -c < "$1")
  for i in 0 1 2 3 4 5 6 7; do printf "\\$(printf %03o $(( (L >> (8 * i)) & 255 )))"; done > "$3"
  cat "$1" "$2" >> "$3"
}
cat > $W/h.json <<'END'
{"a\"b\\c":{"dtype":"F32","shape":[8,784],"data_offsets":[0,25088]},"tab\tx\u0001":{"dtype":"F32","shape":[10,8],"data_offsets":[25088,25408]},"big":{"dtype":"F32","shape":[0,4294967295,4294967295,4294967295,4294967295,4294967295,4294967295,4294967295],"data_offsets":[25408,25408]},"__metadata__":{"format":"quant-model-1","variant":"float","graph":"{\"inputs\":[{\"name\":\"x\",\"shape\":[28,28,1]}],\"nodes\":[{\"op\":\"flatten\",\"in\":[\"x\"],\"out\":\"a/b\"},{\"op\":\"dense\",\"in\":[\"a/b\"],\"out\":\"d\",\"weight\":\"a\\\"b\\\\c\"},{\"op\":\"relu\",\"in\":[\"d\"],\"out\":\"a_b\"},{\"op\":\"relu\",\"in\":[\"a_b\"],\"out\":\"../../<i>&\\\"'\\u0001\"},{\"op\":\"dense\",\"in\":[\"../../<i>&\\\"'\\u0001\"],\"out\":\"logits\",\"weight\":\"tab\\tx\\u0001\"},{\"op\":\"softmax\",\"in\":[\"logits\"],\"out\":\"prob\"}],\"output\":\"prob\"}"}}
END
ML=$(od -An -tu4 -N4 $M | tr -d ' ')
dd if=$M of=$W/h.bin bs=8 skip=$(( (8 + ML + 75264) / 8 )) count=3176 2>/dev/null
mkmodel $W/h.json $W/h.bin $W/h.st
H=$W/h.st

"$T" inspect $H > $W/hi.txt 2>&1; rc=$?
check "inspect prints an 8-dimension shape of huge dimensions in full" '[ $rc = 0 ] && grep -q "^  big .*\[0, 4294967295, 4294967295, 4294967295, 4294967295, 4294967295, 4294967295, 4294967295\]" $W/hi.txt'
check "inspect shows control bytes in names as ?" 'grep -q "tab?x?" $W/hi.txt && ! grep -q "$(printf "\001")" $W/hi.txt'
for m in int8 int4 codebook; do
  "$T" quantize $H $C $W/h-$m.st --mode $m > $W/hq.txt 2>&1; rc=$?
  "$T" inspect $W/h-$m.st > $W/hqi.txt 2>&1; rc2=$?
  check "quantize $m escapes hostile tensor names: the file loads" '[ $rc = 0 ] && [ $rc2 = 0 ] && grep -qF "a\"b\\c" $W/hqi.txt && grep -q "tab?x?" $W/hqi.txt'
done
"$T" eval $W/h-int8.st $D --mode int8 > $W/he.txt 2>&1
check "the hostile int8 file's stored params (value names escaped) load" 'grep -q "accuracy" $W/he.txt'

# an already quantized input: its quantized tensors dropped, quantized again from the float ones
"$T" quantize $W/i8.st $S/calib-250 $W/rq8.st --mode int8 --observer mse > $W/rq8.txt 2>&1; rc=$?
check "quantize of an int8 file again in int8 gives the same file" '[ $rc = 0 ] && cmp -s $W/i8.st $W/rq8.st && grep -q "already quantized" $W/rq8.txt'
"$T" quantize $W/i8.st $S/calib-250 $W/rq4.st --mode int4 --observer mse > /dev/null 2>&1
"$T" inspect $W/rq4.st > $W/rq4i.txt 2>&1
check "quantize of an int8 file in int4 holds no int8 tensors" '[ "$(grep -c "^  fc1.weight.q4 " $W/rq4i.txt)" = 1 ] && ! grep -q "^  fc1.weight.q " $W/rq4i.txt'
check "the int8 file quantized again in int4 gives the int4 file" 'cmp -s $W/rq4.st $W/i4.st'
"$T" quantize $W/i4.st $S/calib-250 $W/rq48.st --mode int8 --observer mse > /dev/null 2>&1
check "quantize of an int4 file in int8 gives the int8 file" 'cmp -s $W/i8.st $W/rq48.st'

# plot: value names made safe and unique as file names, escaped in the SVG
mkdir $W/pl
"$T" plot $H $C $W/pl/figs > $W/hp.txt 2>&1; rc=$?
check "plot of hostile value names exits 0" '[ $rc = 0 ]'
check "plot writes only safe, unique file names inside OUT_DIR" '[ "$(ls -A $W/pl)" = figs ] && [ "$(ls -A $W/pl/figs | grep -c "^hist_[A-Za-z0-9._-]*\.svg$")" = 4 ] && [ "$(ls -A $W/pl/figs | wc -l)" = 4 ] && [ -s $W/pl/figs/hist_a_b.svg ] && [ -s $W/pl/figs/hist_a_b_2.svg ]'
check "plot escapes value names in SVG text" 'grep -qF "&lt;i&gt;&amp;&quot;&#39;?" $W/pl/figs/*.svg && ! grep -qF "<i>" $W/pl/figs/*.svg'
if command -v xmllint > /dev/null 2>&1; then
  check "every SVG plot writes is well-formed XML" 'xmllint --noout $W/pl/figs/*.svg $W/figs/*.svg 2>/dev/null'
fi

# options: a usage error names the option, prints the usage on stderr and exits 2
usage_err() { # name, the text stderr must hold, then the command
  name=$1; want=$2; shift 2
  "$@" > $W/out.txt 2> $W/err.txt; rc=$?
  if [ $rc = 2 ] && grep -qF -- "$want" $W/err.txt && grep -q "^usage:" $W/err.txt && [ ! -s $W/out.txt ]; then ok
  else bad "$name (exit $rc, stderr: $(head -c 200 $W/err.txt))"; fi
}
usage_err "misspelled option" "--obsrver" "$T" quantize $M $C $W/x.st --obsrver kl
usage_err "option without a value" "--mode" "$T" quantize $M $C $W/x.st --mode
usage_err "option followed by an option" "--mode" "$T" eval $M $D --mode --observer kl
usage_err "an option of another command" "--test" "$T" eval $M $D --test $D
usage_err "an option given twice" "--mode" "$T" eval $M $D --mode int8 --mode int4
usage_err "an option to inspect" "--mode" "$T" inspect $M --mode int8
usage_err "an extra argument" "extra" "$T" inspect $M extra
usage_err "too few arguments" "quantize needs" "$T" quantize $M $C
usage_err "unknown command" "bogus" "$T" bogus $M
usage_err "unknown mode" "int3" "$T" quantize $M $C $W/x.st --mode int3
usage_err "unknown observer value" "bogus" "$T" eval $M $D --observer=bogus
usage_err "--round with a mode it cannot serve" "--round goes with --mode int8, int4 or mixed" "$T" quantize $M $C $W/x.st --mode ternary --round gptq
usage_err "--bias-correct with a mode it cannot serve" "--bias-correct goes with --mode int8, int4 or mixed" "$T" quantize $M $C $W/x.st --mode codebook --bias-correct
usage_err "unknown --round" "unknown --round 'best'" "$T" quantize $M $C $W/x.st --round best
usage_err "--bias-correct with an unknown value" "unknown --bias-correct 'yes' (data or analytic)" "$T" quantize $M $C $W/x.st --bias-correct=yes
usage_err "--round to eval" "eval does not take --round" "$T" eval $M $D --round gptq
usage_err "--equalize with a value" "--equalize takes no value" "$T" quantize $M $C $W/x.st --equalize=1
usage_err "--reduce-range with a value" "--reduce-range takes no value" "$T" quantize $M $C $W/x.st --reduce-range=1
usage_err "--reduce-range in fp32" "--reduce-range goes with the modes of uint8 activations" "$T" eval $M $D --mode fp32 --reduce-range
usage_err "--reduce-range to plot" "plot does not take --reduce-range" "$T" plot $M $C $W/figs4 --reduce-range
usage_err "--equalize with a mode it cannot serve" "--equalize goes with --mode int8, int4 or mixed" "$T" quantize $M $C $W/x.st --equalize --mode ternary
check "nothing written for refused options" '[ ! -e $W/x.st ]'
for h in "--help" "-h" "help" "quantize --help" "eval $M -h" "plot $M --help $C"; do
  "$T" $h > $W/out.txt 2> $W/err.txt; rc=$?
  check "'$h' prints the usage on stdout and exits 0" '[ $rc = 0 ] && grep -q "^usage:" $W/out.txt && [ ! -s $W/err.txt ]'
done

# paths: a directory where a file belongs (and the reverse) is refused by name
has_err() { # name, the text stderr must hold, then the command
  name=$1; want=$2; shift 2
  "$@" > $W/out.txt 2> $W/err.txt; rc=$?
  if [ $rc = 1 ] && grep -qF -- "$want" $W/err.txt; then ok; else bad "$name (exit $rc, stderr: $(head -c 200 $W/err.txt))"; fi
}
has_err "a directory as the model" "$D is a directory" "$T" inspect $D
has_err "a directory as the model (eval)" "$D is a directory" "$T" eval $D $D --mode fp32
# a corrected bias that is not finite (a NaN written over fc2's first): the
# quantized modes refuse the file by the tensor's name; fp32 does not read it
hl=$(od -An -tu4 -N4 $W/i8b.st | tr -d ' ')
off=$(head -c $((8 + hl)) $W/i8b.st | tail -c +9 | grep -o '"fc2.weight.qbias":{[^}]*}' | sed 's/.*"data_offsets":\[\([0-9]*\),.*/\1/')
cp $W/i8b.st $W/i8nan.st
printf '\377\377\377\177' | dd of=$W/i8nan.st bs=1 seek=$((8 + hl + off)) conv=notrunc 2>/dev/null
has_err "a NaN corrected bias refused in int8" "fc2.weight.qbias: must be finite F32 [10]" "$T" eval $W/i8nan.st $S --mode int8
"$T" eval $W/i8nan.st $T1 --mode fp32 > $W/out.txt 2>&1; rc=$?
check "  ... and ignored in fp32 (exit $rc)" '[ $rc = 0 ]'
has_err "a directory as the images" "$D is a directory" "$T" quantize $M $D $W/x.st
has_err "a directory as the output file" "$W is a directory" "$T" quantize $M $C $W
has_err "a file as the data directory" "$C is not a directory" "$T" eval $M $C --mode fp32
has_err "a file as the plot folder" "$M is not a directory" "$T" plot $M $C $M
has_err "an output folder that does not exist" "$W/nodir" "$T" quantize $M $C $W/nodir/x.st
check "nothing written for refused paths" '[ ! -e $W/x.st ] && [ ! -e $W/nodir ]'

# issue 22: --mode mixed --budget BYTES (rn_mixed_search). The demo model's
# weights: 423280 bytes all at 8 bits, 238040 all at 4. Calibrated on the
# 250 normal images; accuracy on the $NS test images of $S.
wb() { sed -n 's/.*weights [0-9.]* KiB (\([0-9]*\) bytes).*/\1/p' "$1"; }
for b in 238040 300000 500000; do
  "$T" quantize $M $S/calib-250 $W/mx$b.st --mode mixed --budget $b --observer mse > $W/qmx$b.txt 2>&1; rc=$?
  "$T" eval $W/mx$b.st $S > $W/emx$b.txt 2>&1
  check "quantize --mode mixed --budget $b (exit $rc): a mixed file whose weights (eval) fit the budget" '[ $rc = 0 ] && grep -q "(mixed," $W/emx$b.txt && [ -n "$(wb $W/emx$b.txt)" ] && [ "$(wb $W/emx$b.txt)" -le $b ]'
done
check "  ... the table gives each layer's output SQNR alone at 4 bits" '[ "$(grep -c "^  \(c1\|c2\|d1\|logits\) .* [0-9.]* dB$" $W/qmx300000.txt)" = 4 ]'
check "  ... and each step with the bytes after it, the chosen size as eval counts it" 'grep -q "^  1    d1  *8->4  *247152 .* dB$" $W/qmx300000.txt && grep -q "^chosen: 247152 bytes of weights (budget 300000)" $W/qmx300000.txt && [ "$(wb $W/emx300000.txt)" = 247152 ]'
check "  ... 500000 bytes: every layer at 8 bits" 'grep -q "every layer at 8 bits fits: 423280 bytes" $W/qmx500000.txt && [ "$(wb $W/emx500000.txt)" = 423280 ]'
nz=$(( (2 * 10000 + NS - 1) / NS )) # two images of the $NS, in hundredths of a percent
check "  ... accuracy does not fall as the budget grows (two images of noise allowed)" 'a1=$(acc $W/emx238040.txt); a2=$(acc $W/emx300000.txt); a3=$(acc $W/emx500000.txt); [ -n "$a1" ] && [ -n "$a2" ] && [ -n "$a3" ] && [ $a2 -ge $((a1 - nz)) ] && [ $a3 -ge $((a2 - nz)) ]'
"$T" eval $W/i8.st $S > $W/es8.txt 2>&1
check "  ... every layer at 8 bits runs as the int8 file of the same calibration" '[ -n "$(acc $W/es8.txt)" ] && [ "$(acc $W/emx500000.txt)" = "$(acc $W/es8.txt)" ]'
check "  ... every layer at 4 bits (the smallest budget) as the int4 file" '[ -n "$(acc $W/es4.txt)" ] && [ "$(acc $W/emx238040.txt)" = "$(acc $W/es4.txt)" ] && [ "$(wb $W/es4.txt)" = 238040 ]'
has_err "a budget below the smallest mixed size" "a budget of 238039 bytes cannot be met: the smallest mixed size is 238040 bytes" "$T" quantize $M $SC $W/x.st --mode mixed --budget 238039
usage_err "--mode mixed without --budget" "--mode mixed needs --budget" "$T" quantize $M $SC $W/x.st --mode mixed
usage_err "--budget without --mode mixed" "--budget goes with --mode mixed" "$T" quantize $M $SC $W/x.st --budget 300000
usage_err "a budget that is not a number of bytes" "--budget '300k' is not a positive whole number of bytes" "$T" quantize $M $SC $W/x.st --mode mixed --budget 300k
usage_err "a budget of 0 bytes" "--budget '0' is not" "$T" quantize $M $SC $W/x.st --mode mixed --budget 0
check "nothing written for refused budgets" '[ ! -e $W/x.st ]'
# per-tensor int8 weights (--per-tensor): one scale a tensor, so no layer's weight SQNR above its per-channel one
"$T" quantize $M $S/calib-250 $W/pt.st --mode int8 --per-tensor --observer mse > $W/qpt.txt 2>&1; rc=$?
check "quantize --mode int8 --per-tensor (exit $rc): every layer 8/t" '[ $rc = 0 ] && [ "$(grep -c "^\(c1\|c2\|d1\|logits\) .* 8/t .* dB$" $W/qpt.txt)" = 4 ] && grep -q "(int8 per-tensor," $W/qpt.txt'
check "  ... weight SQNR per layer at most the per-channel file's, and below it somewhere" 'awk "FNR == NR && /^(c1|c2|d1|logits) / { pc[\$1] = \$7; next } /^(c1|c2|d1|logits) / { n++; if (\$7 + 0 > pc[\$1] + 0) b = 1; if (\$7 + 0 < pc[\$1] + 0) lt = 1 } END { exit !(n == 4 && !b && lt) }" $W/q8.txt $W/qpt.txt'
"$T" eval $W/pt.st $D > $W/ept.txt 2>&1
check "  ... its file runs in int8 at >= 92.3% (fp32: 92.80%)" '[ "$(acc $W/ept.txt)" -ge 9230 ] 2>/dev/null'
usage_err "--per-tensor with int4" "--per-tensor goes with --mode int8" "$T" quantize $M $SC $W/x.st --mode int4 --per-tensor
usage_err "--per-tensor with a value" "--per-tensor takes no value" "$T" quantize $M $SC $W/x.st --per-tensor=1

# a failed write (past a file size limit) leaves a pre-existing OUT as it was, and no temporary file
cp $M $W/keep.st
(ulimit -f 200; "$T" quantize $M $C50 $W/keep.st --mode int8 > $W/out.txt 2> $W/err.txt); rc=$?
check "a failed write exits 1 with a message" '[ $rc = 1 ] && grep -q "cannot write" $W/err.txt'
check "a failed write leaves OUT as it was and no temporary file" 'cmp -s $M $W/keep.st && [ -z "$(ls -A $W | grep "^\.quant-tool")" ]'

# a quantized file runs in its own mode: the default, and any other refused by name
check "eval of the int4 file without --mode runs int4" 'grep -q "(int4," $W/e4.txt'
refuse "the int4 file evaluated as int8" "$T" eval $W/i4.st $D --mode int8
check "  ... naming the file's mode" 'grep -q "quantized for mode int4" $W/err.txt'
refuse "ternary mode on a float model" "$T" eval $M $D --mode ternary
check "  ... naming what is missing" 'grep -q "ternary" $W/err.txt'
refuse "binary mode on a float model" "$T" eval $M $D --mode binary
refuse "mixed mode in eval" "$T" eval $M $D --mode mixed
# images of another size than the model's input: refused, not read past
mkdir -p $W/small
printf '\000\000\010\003\000\000\000\002\000\000\000\004\000\000\000\004' > $W/small/t10k-images-idx3-ubyte
head -c 32 /dev/zero >> $W/small/t10k-images-idx3-ubyte
printf '\000\000\010\001\000\000\000\002\000\001' > $W/small/t10k-labels-idx1-ubyte
cp $W/small/t10k-images-idx3-ubyte $W/small/calib-1000-images-idx3-ubyte
refuse "4x4 images for a 28x28 model (fp32)" "$T" eval $M $W/small --mode fp32
check "  ... naming both sizes" 'grep -q "16 values each" $W/err.txt && grep -q "784" $W/err.txt'
refuse "4x4 images for a 28x28 model (int8, calibration)" "$T" eval $M $W/small --mode int8
refuse "4x4 calibration images for quantize" "$T" quantize $M $W/small/calib-1000-images-idx3-ubyte $W/x.st --mode int8
# labels outside the model's classes
mkdir -p $W/badlab && cp $D/calib-1000-images-idx3-ubyte $W/badlab/ && cp $D/calib-1000-images-idx3-ubyte $W/badlab/t10k-images-idx3-ubyte
{ printf '\000\000\010\001\000\000\003\350'; head -c 999 /dev/zero; printf '\014'; } > $W/badlab/t10k-labels-idx1-ubyte
refuse "a label of 12 for 10 classes" "$T" eval $M $W/badlab --mode fp32
check "  ... naming it" 'grep -q "label 12" $W/err.txt'
# progress only on a terminal, and only as real work is done
"$T" quantize $M $C50 $W/p8.st --mode int8 > $W/p8.txt 2> $W/p8.err
check "no progress lines into a file" '! grep -q "calibrating" $W/p8.err'
# (script(1) is in every Debian; a chroot or container without /dev/pts
# has no pty to give it, and says so here)
if command -v script >/dev/null 2>&1 && [ "$(script -q -c 'echo pty' /dev/null < /dev/null 2>/dev/null | tr -d '\r')" = pty ]; then
  # on a terminal (a pty from script(1)): a count after each chunk of real work
  script -q -c "$T quantize $M $C $W/p9.st --mode int8 --observer minmax" /dev/null < /dev/null 2>&1 | tr '\r' '\n' > $W/p9.tty
  check "progress on a terminal counts the images run" 'grep -aq "calibrating: 200 of 1000 images run" $W/p9.tty && grep -aq "calibrating: 1000 of 1000 images run" $W/p9.tty'
else
  echo "note: no pty here (script(1) missing or /dev/pts not mounted): the progress-on-a-terminal check is skipped"
fi

# the hostile model files of test_runner (token-level mutations of six small
# models, quantized ones too), every 6th through inspect, eval and quantize:
# each exits 0, or 1 with a message; never a crash, a sanitizer report or a hang
R=$(dirname "$T")/test_runner
if [ -x "$R" ]; then
  mkdir -p $W/hostile $W/hd
  mkdir -p $W/seeds # (the seeds below from the same run)
  QT_HOSTILE_DIR=$W/hostile QT_SEED_DIR=$W/seeds "$R" > /dev/null 2>&1
  # 4 images of 6x12 (72 values: the models' [6, 6, 2] input), labels 0..2
  { printf '\000\000\010\003\000\000\000\004\000\000\000\006\000\000\000\014'; head -c 288 /dev/urandom; } > $W/hd/t10k-images-idx3-ubyte
  printf '\000\000\010\001\000\000\000\004\000\001\002\001' > $W/hd/t10k-labels-idx1-ubyte
  cp $W/hd/t10k-images-idx3-ubyte $W/hd/calib-1000-images-idx3-ubyte
  mkdir $W/herr # each command's stderr, searched for sanitizer reports at the end (one grep, not one a command)
  ( # a command that runs away is stopped after 20 s of CPU (SIGXCPU: exit 152, a crash below); the tool
    # is one thread reading regular files, so a hang spins: this limit, set once for the loop, catches
    # what a timeout(1) a command did, without a process more for each of the 1600 commands
    ulimit -t 20
    n=0; crashed=0; silent=0
    for f in $W/hostile/hostile-*.safetensors; do
      n=$((n + 1)); [ $((n % 6)) = 1 ] || continue
      k=0
      for cmd in "inspect $f" "eval $f $W/hd --mode fp32" "eval $f $W/hd" "quantize $f $W/hd/calib-1000-images-idx3-ubyte $W/hq.st --mode int8"; do
        k=$((k + 1)); e=$W/herr/$n.$k
        "$T" $cmd > $W/h.out 2> $e < /dev/null; rc=$?
        if [ $rc != 0 ] && [ $rc != 1 ]; then crashed=$((crashed + 1)); [ $crashed -le 3 ] && { echo "hostile: quant-tool $cmd: exit $rc"; head -c 600 $e; }; fi
        if [ $rc = 1 ] && [ ! -s $e ]; then silent=$((silent + 1)); echo "hostile: quant-tool $cmd: exit 1 without a message"; fi
      done
    done
    echo "$n $crashed $silent" > $W/hcount
  )
  n=0; crashed=1; silent=0; read n crashed silent < $W/hcount
  for e in $(grep -l "runtime error\|AddressSanitizer\|LeakSanitizer" $W/herr/*); do
    crashed=$((crashed + 1)); i=${e##*/}; k=${i#*.}; i=${i%.*}
    set -- inspect "eval --mode fp32" eval "quantize --mode int8"; shift $((k - 1))
    echo "hostile: quant-tool $1 $(ls $W/hostile/hostile-*.safetensors | sed -n ${i}p): sanitizer report"; head -c 600 $e
  done
  echo "hostile model files through inspect / eval / quantize: $((n / 6 + 1)) of $n files, $crashed crashed, $silent failed silently"
  check "hostile model files: no crash, no silent failure" '[ $n -gt 1000 ] && [ $crashed = 0 ] && [ $silent = 0 ]'
fi

# ---- issue 18: sample files of any shape. IDX of any rank and .npy (built
# here with printf: a .npy header is plain text) give exactly what the IDX
# directory gives; the layout (NCHW / NHWC) is chosen or refused by name;
# damaged, lying and misplaced files are refused with a message.
# npy FILE DESCR SHAPE [DATA_FILE] [VERSION]: a .npy v1 (or v2 / v3) header, then the data file's bytes
npy() {
  h="{'descr': '$2', 'fortran_order': False, 'shape': $3, }"
  [ -n "${NPY_HEADER-}" ] && h=$NPY_HEADER
  v=${5:-1}; pre=$([ "$v" = 1 ] && echo 10 || echo 12)
  pad=$(( (64 - (pre + ${#h} + 1) % 64) % 64 ))
  hl=$(( ${#h} + pad + 1 ))
  { printf '\223NUMPY'; printf "\\$(printf %03o $v)\\000"
    printf "\\$(printf %03o $((hl & 255)))\\$(printf %03o $((hl >> 8)))"
    [ "$v" = 1 ] || printf '\000\000'
    printf '%s%*s\n' "$h" $pad ''
    [ -n "${4-}" ] && cat "$4"; } > "$1"
}
be32() { printf "\\$(printf %03o $(($1 >> 24 & 255)))\\$(printf %03o $(($1 >> 16 & 255)))\\$(printf %03o $(($1 >> 8 & 255)))\\$(printf %03o $(($1 & 255)))"; }
# The images of the small directory $S (the whole IDX directory $D once, for its accuracy).
N=$(tail -c +5 $S/t10k-labels-idx1-ubyte | head -c 4 | od -An -tu1 | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
tail -c +17 $S/t10k-images-idx3-ubyte > $W/x.raw; tail -c +9 $S/t10k-labels-idx1-ubyte > $W/y.raw
tail -c +17 $SC > $W/c.raw
npy $W/x4.npy '|u1' "($N, 1, 28, 28)" $W/x.raw 2
npy $W/y.npy '|u1' "($N,)" $W/y.raw 3
npy $W/c4.npy '|u1' "($NC, 1, 28, 28)" $W/c.raw
# and the 100 images of $T1 (the checks of how each file is read, against the IDX directory $T1)
head -c $((100 * 784)) $W/x.raw > $W/x100.raw; head -c 100 $W/y.raw > $W/y100.raw; head -c $((50 * 784)) $W/c.raw > $W/c50.raw
npy $W/x3t.npy '|u1' "(100, 28, 28)" $W/x100.raw
npy $W/x4t.npy '|u1' "(100, 1, 28, 28)" $W/x100.raw 2
npy $W/yt.npy '|u1' "(100,)" $W/y100.raw 3
npy $W/c4t.npy '|u1' "(50, 1, 28, 28)" $W/c50.raw
{ printf '\000\000\010\004'; be32 100; be32 28; be32 28; be32 1; cat $W/x100.raw; } > $W/x4t.idx
"$T" eval $M $D --mode fp32 > $W/dall.txt 2>&1
check "the IDX directory gives 92.80% in fp32" '[ "$(acc $W/dall.txt)" = 9280 ]'
cp $W/sf32.txt $W/d32.txt
# (int8 here with the cheap MinMax observer: these checks are about which samples go in, not the observer)
"$T" eval $M $S --mode int8 --observer minmax > $W/d8.txt 2>&1
"$T" eval $M $T1 --mode fp32 > $W/d32t.txt 2>&1
"$T" eval $M --images $T1/t10k-images-idx3-ubyte --labels $T1/t10k-labels-idx1-ubyte --calib $SC --mode int8 --observer minmax > $W/d8t.txt 2>&1
"$T" quantize $M $SC $W/s-i8.st --mode int8 --observer mse > /dev/null 2>&1
for f in x3t.npy x4t.npy x4t.idx; do
  for lab in $W/yt.npy $T1/t10k-labels-idx1-ubyte; do
    "$T" eval $M --images $W/$f --labels $lab --mode fp32 > $W/n32.txt 2>&1
    check "$f (uint8) with labels $(basename $lab): the IDX directory's fp32 accuracy" '[ -n "$(acc $W/n32.txt)" ] && [ "$(acc $W/n32.txt)" = "$(acc $W/d32t.txt)" ]'
  done
  "$T" eval $M --images $W/$f --labels $W/yt.npy --calib $W/c4.npy --mode int8 --observer minmax > $W/n8.txt 2>&1
  check "$f (uint8), calibrated on a .npy: the IDX directory's int8 accuracy" '[ -n "$(acc $W/n8.txt)" ] && [ "$(acc $W/n8.txt)" = "$(acc $W/d8t.txt)" ]'
done
"$T" eval $M --images $W/x4.npy --labels $S/t10k-labels-idx1-ubyte --mode fp32 > $W/n32.txt 2>&1
check "x4.npy (uint8, all $NS of \$S): the IDX directory's fp32 accuracy" '[ -n "$(acc $W/n32.txt)" ] && [ "$(acc $W/n32.txt)" = "$(acc $W/d32.txt)" ]'
"$T" eval $M --images $W/x4.npy --labels $W/y.npy --mode int8 --observer minmax > $W/nd.txt 2> $W/nd.err
check "without --calib: the first 1000 of --images, said on stderr" 'grep -q "no --calib: calibrating on the first 1000 samples of $W/x4.npy" $W/nd.err && [ -n "$(acc $W/nd.txt)" ]'
check "  ... another int8 accuracy than the darkened calibration set's (the int8 checks tell the sets apart)" '[ -n "$(acc $W/d8.txt)" ] && [ "$(acc $W/nd.txt)" != "$(acc $W/d8.txt)" ]'
"$T" eval $W/i8.st --images $W/x3t.npy --labels $W/yt.npy > $W/nq.txt 2> $W/nq.err
"$T" eval $W/i8.st $T1 > $W/dq.txt 2>&1
check "a quantized file on .npy images: its IDX accuracy, no calibration" '[ -n "$(acc $W/nq.txt)" ] && [ "$(acc $W/nq.txt)" = "$(acc $W/dq.txt)" ] && ! grep -q calib $W/nq.err'
"$T" quantize $M $W/c4.npy $W/n-i8.st --mode int8 --observer mse > /dev/null 2>&1
check "quantize calibrated on a (N, 1, 28, 28) .npy writes the IDX-calibrated file" 'cmp -s $W/s-i8.st $W/n-i8.st'
# (plot on the 100 images of $T1 as (N, 1, 28, 28) .npy files, calibrated on 50: its fp32 line is the IDX plot's above)
"$T" plot $M $W/c4t.npy $W/nfigs --images $W/x4t.npy --labels $W/yt.npy > $W/np.txt 2>&1; rc=$?
fp1=$(sed -n 's/^  fp32  *\([0-9.]*%\).*/\1/p' $W/plot.txt)
check "plot with .npy calibration and --images / --labels" '[ $rc = 0 ] && [ -s $W/nfigs/hist_r1.svg ] && [ -s $W/nfigs/accuracy_vs_size.svg ] && [ -n "$fp1" ] && grep -q "^  fp32  *$fp1" $W/np.txt'
# float32 samples (a PyTorch user's tensors) enter the model as they are: x / 255 as float32 gives the uint8 accuracy
/usr/bin/python3 -c "
import sys
try:
    import numpy as np
except ImportError:
    sys.exit(77)
x = np.fromfile('$W/x.raw', np.uint8).reshape(-1, 1, 28, 28)
np.save('$W/xf.npy', x.astype(np.float32) / np.float32(255))
np.save('$W/yl.npy', np.fromfile('$W/y.raw', np.uint8).astype(np.int64))
np.save('$W/xd.npy', np.fromfile('$W/c.raw', np.uint8).reshape(-1, 28, 28, 1).astype(np.float64) / 255)
np.save('$W/x16.npy', x[:100].astype(np.int16))
np.save('$W/xft.npy', x[:100].astype(np.float32) / np.float32(255))
np.save('$W/ylt.npy', np.fromfile('$W/y.raw', np.uint8)[:100].astype(np.int64))" > $W/np.out 2>&1; rc=$?
if [ $rc != 77 ] && [ $rc != 127 ]; then # (77: no numpy, 127: no python3)
  check "python3 numpy writes the float and int16 .npy files (exit $rc)" '[ $rc = 0 ]'
  # (on the 100 images of $T1; float calibration below on the whole $NS)
  "$T" eval $M --images $W/xft.npy --labels $W/ylt.npy --mode fp32 > $W/f32.txt 2>&1
  check "float32 (N, 1, 28, 28) / 255 with int64 labels: the IDX fp32 accuracy" '[ -n "$(acc $W/f32.txt)" ] && [ "$(acc $W/f32.txt)" = "$(acc $W/d32t.txt)" ]'
  "$T" eval $M --images $W/xft.npy --labels $W/ylt.npy --calib $SC --mode int8 --observer minmax > $W/f8.txt 2>&1
  check "float32 images, uint8 calibration: the IDX int8 accuracy" '[ -n "$(acc $W/f8.txt)" ] && [ "$(acc $W/f8.txt)" = "$(acc $W/d8t.txt)" ]'
  "$T" eval $W/i8.st --images $W/xft.npy --labels $W/ylt.npy > $W/fq.txt 2>&1
  check "float32 images through a quantized file: its IDX accuracy" '[ -n "$(acc $W/fq.txt)" ] && [ "$(acc $W/fq.txt)" = "$(acc $W/dq.txt)" ]'
  "$T" eval $M --images $W/x16.npy --labels $W/ylt.npy --mode fp32 > $W/i16.txt 2>&1
  check "int16 images are not divided by 255 (as they are: another accuracy)" '[ -n "$(acc $W/i16.txt)" ] && [ "$(acc $W/i16.txt)" != "$(acc $W/d32t.txt)" ]'
  # float calibration samples are taken as they are: x / 255 calibrates as its uint8 twin
  "$T" eval $M --images $W/xf.npy --labels $W/yl.npy --mode int8 --observer minmax > $W/fd.txt 2> $W/fd.err
  check "float calibration (the first 1000 of float --images): the uint8 set's accuracy" '[ -n "$(acc $W/fd.txt)" ] && [ "$(acc $W/fd.txt)" = "$(acc $W/nd.txt)" ]'
  "$T" quantize $M $W/xd.npy $W/fd.st --mode int8 --observer mse > /dev/null 2>&1
  check "quantize calibrated on float64 (N, 28, 28, 1) / 255 writes the IDX-calibrated file" 'cmp -s $W/fd.st $W/s-i8.st'
else
  echo "note: no python3 or no numpy: the float32 .npy checks are skipped"
fi

# NCHW versus NHWC on a 3-channel input: a hand-made model whose input is
# [2, 2, 3] and whose dense layer is the identity, so the class is the NHWC
# position of the largest value. Sample i is a one-hot at CHW position i; its
# label is where that lands in NHWC: (h * 2 + w) * 3 + c.
ident() { # n: an n x n float32 identity matrix
  i=0; while [ $i -lt $1 ]; do j=0; while [ $j -lt $1 ]; do
    if [ $i = $j ]; then printf '\000\000\200\077'; else printf '\000\000\000\000'; fi; j=$((j + 1)); done; i=$((i + 1)); done
}
toy() { # out, H, W, C
  n=$(($2 * $3 * $4))
  printf '{"w":{"dtype":"F32","shape":[%d,%d],"data_offsets":[0,%d]},"__metadata__":{"format":"quant-model-1","graph":"{\\"inputs\\":[{\\"name\\":\\"x\\",\\"shape\\":[%d,%d,%d]}],\\"nodes\\":[{\\"op\\":\\"flatten\\",\\"in\\":[\\"x\\"],\\"out\\":\\"f\\"},{\\"op\\":\\"dense\\",\\"in\\":[\\"f\\"],\\"out\\":\\"y\\",\\"weight\\":\\"w\\"}],\\"output\\":\\"y\\"}"}}' \
    $n $n $((4 * n * n)) $2 $3 $4 > $W/toy.json
  ident $n > $W/toy.bin
  mkmodel $W/toy.json $W/toy.bin $1
}
toy $W/toy.st 2 2 3
: > $W/oh.raw; : > $W/ohf.raw; : > $W/oh.lab; : > $W/nh.raw
i=0; while [ $i -lt 12 ]; do
  j=0; while [ $j -lt 12 ]; do
    if [ $i = $j ]; then printf '\377' >> $W/oh.raw; printf '\000\000\200\077' >> $W/ohf.raw; else printf '\000' >> $W/oh.raw; printf '\000\000\000\000' >> $W/ohf.raw; fi
    j=$((j + 1)); done
  c=$((i / 4)); h=$((i % 4 / 2)); w=$((i % 2)); printf "\\$(printf %03o $(((h * 2 + w) * 3 + c)))" >> $W/oh.lab
  i=$((i + 1)); done
npy $W/ohc.npy '|u1' "(12, 3, 2, 2)" $W/oh.raw
npy $W/ohcf.npy '<f4' "(12, 3, 2, 2)" $W/ohf.raw
npy $W/ohh.npy '|u1' "(12, 2, 2, 3)" $W/oh.raw
npy $W/oh5.npy '|u1' "(12, 1, 2, 2, 3)" $W/oh.raw
npy $W/ohl.npy '|u1' "(12,)" $W/oh.lab
i=0; : > $W/id.lab; while [ $i -lt 12 ]; do printf "\\$(printf %03o $i)" >> $W/id.lab; i=$((i + 1)); done
npy $W/idl.npy '|u1' "(12,)" $W/id.lab
"$T" eval $W/toy.st --images $W/ohc.npy --labels $W/ohl.npy --mode fp32 > $W/t1.txt 2> $W/t1.err
check "auto: (N, C, H, W) samples are transposed to NHWC (100%), said on stderr" '[ "$(acc $W/t1.txt)" = 10000 ] && grep -q "transposed" $W/t1.err'
"$T" eval $W/toy.st --images $W/ohcf.npy --labels $W/ohl.npy --mode fp32 --layout nchw > $W/t2.txt 2>&1
check "--layout nchw: float32 samples transposed (100%)" '[ "$(acc $W/t2.txt)" = 10000 ]'
"$T" eval $W/toy.st --images $W/ohc.npy --labels $W/ohl.npy --mode fp32 --layout nhwc > $W/t3.txt 2>&1
check "--layout nhwc takes them as they are (2 of 12 one-hots stay put: 16.67%)" '[ "$(acc $W/t3.txt)" = 1667 ]'
"$T" eval $W/toy.st --images $W/ohh.npy --labels $W/idl.npy --mode fp32 > $W/t4.txt 2>&1
check "auto: (N, H, W, C) samples as they are (100%)" '[ "$(acc $W/t4.txt)" = 10000 ]'
"$T" eval $W/toy.st --images $W/ohh.npy --labels $W/idl.npy --mode fp32 --layout nchw > $W/t5.txt 2> $W/err.txt; rc=$?
check "--layout nchw on (N, H, W, C) samples: refused naming the shapes" '[ $rc = 1 ] && grep -q "layout nchw: samples of shape (2, 2, 3) are not (C, H, W) = (3, 2, 2)" $W/err.txt'
"$T" eval $W/toy.st --images $W/oh5.npy --labels $W/idl.npy --mode fp32 > $W/t6.txt 2> $W/err.txt; rc=$?
check "auto refuses a 4-axis sample shape, naming --layout nhwc" '[ $rc = 1 ] && grep -q "(1, 2, 2, 3) are neither" $W/err.txt && grep -q -- "--layout nhwc" $W/err.txt'
"$T" eval $W/toy.st --images $W/oh5.npy --labels $W/idl.npy --mode fp32 --layout nhwc > $W/t7.txt 2>&1
check "--layout nhwc takes any shape of H x W x C values" '[ "$(acc $W/t7.txt)" = 10000 ]'
toy $W/cube.st 2 2 2
: > $W/cube.raw; i=0; while [ $i -lt 8 ]; do j=0; while [ $j -lt 8 ]; do
  if [ $i = $j ]; then printf '\377'; else printf '\000'; fi >> $W/cube.raw; j=$((j + 1)); done; i=$((i + 1)); done
npy $W/cube.npy '|u1' "(8, 2, 2, 2)" $W/cube.raw
head -c 8 $W/id.lab > $W/cube.lab; npy $W/cubel.npy '|u1' "(8,)" $W/cube.lab
"$T" eval $W/cube.st --images $W/cube.npy --labels $W/cubel.npy --mode fp32 > $W/t8.txt 2> $W/err.txt; rc=$?
check "auto refuses (2, 2, 2) samples for a [2, 2, 2] input: both layouts fit, choose with --layout" '[ $rc = 1 ] && grep -q "fit both" $W/err.txt && grep -q -- "--layout nhwc or --layout nchw" $W/err.txt'
"$T" eval $W/cube.st --images $W/cube.npy --labels $W/cubel.npy --mode fp32 --layout nhwc > $W/t9.txt 2>&1
check "  ... and --layout nhwc chooses" '[ "$(acc $W/t9.txt)" = 10000 ]'

# damaged, lying and misplaced sample and label files: exit 1 and a message naming the file and the fault
bad_data() { # name, text stderr must hold, then eval's --images FILE --labels FILE ...
  name=$1; want=$2; shift 2
  "$T" eval $M "$@" > $W/out.txt 2> $W/err.txt; rc=$?
  if [ $rc = 1 ] && grep -qF -- "$want" $W/err.txt; then ok; else bad "$name (exit $rc, stderr: $(head -c 300 $W/err.txt))"; fi
}
head -c 7840 $W/x.raw > $W/x10.raw; head -c 10 $W/y.raw > $W/y10.raw
npy $W/y10.npy '|u1' "(10,)" $W/y10.raw
head -c $((10 * 27 * 28)) $W/x10.raw > $W/x27.raw; npy $W/w27.npy '|u1' "(10, 27, 28)" $W/x27.raw
bad_data "samples of the wrong size" "$W/w27.npy: samples of shape (27, 28) hold 756 values each; the model's input (H, W, C) = (28, 28, 1) has 784" --images $W/w27.npy --labels $W/y10.npy
NPY_HEADER="{'descr': '|u1', 'fortran_order': True, 'shape': (10, 28, 28), }" npy $W/fo.npy '' '' $W/x10.raw
bad_data "fortran_order True" "$W/fo.npy: .npy: fortran_order is True" --images $W/fo.npy --labels $W/y10.npy
npy $W/be.npy '>f4' "(10, 28, 28)" $W/x10.raw
bad_data "a big-endian descr" "descr '>f4' is not supported" --images $W/be.npy --labels $W/y10.npy
npy $W/tr.npy '|u1' "(11, 28, 28)" $W/x10.raw
bad_data "a truncated .npy" "$W/tr.npy: .npy: truncated: shape (11, 28, 28)" --images $W/tr.npy --labels $W/y10.npy
npy $W/lie.npy '<f4' "(4294967295, 4294967295, 4294967295, 28)" $W/x10.raw
bad_data "a .npy header of 2^96 values over 7840 bytes" "truncated" --images $W/lie.npy --labels $W/y10.npy
npy $W/long.npy '|u1' "(9, 28, 28)" $W/x10.raw
bad_data "an over-long .npy" "784 bytes after the 7056 of shape (9, 28, 28)" --images $W/long.npy --labels $W/y10.npy
NPY_HEADER="{'descr': '|u1', 'fortran_order': False, 'shape': (10, 28, 28), 'x': 1}" npy $W/key.npy '' '' $W/x10.raw
bad_data "an unknown header key" "unknown header key 'x'" --images $W/key.npy --labels $W/y10.npy
NPY_HEADER="{'descr': '|u1', 'fortran_order': False, 'shape': (7840)}" npy $W/tup.npy '' '' $W/x10.raw
bad_data "a shape that is not a tuple" "is not a tuple" --images $W/tup.npy --labels $W/y10.npy
{ printf '\000\000\010\004'; be32 4294967295; be32 4294967295; be32 4294967295; be32 4294967295; cat $W/x10.raw; } > $W/lie.idx
bad_data "an IDX header of 2^128 values" "$W/lie.idx: IDX: truncated" --images $W/lie.idx --labels $W/y10.npy
{ printf '\000\000\015\003'; be32 10; be32 28; be32 28; cat $W/x10.raw; } > $W/trf.idx
bad_data "a truncated IDX of floats" "$W/trf.idx: IDX: truncated" --images $W/trf.idx --labels $W/y10.npy
{ printf '\000\000\010\011'; cat $W/x10.raw; } > $W/r9.idx
bad_data "an IDX of 9 dimensions" "IDX: 9 dimensions" --images $W/r9.idx --labels $W/y10.npy
npy $W/x10.npy '|u1' "(10, 28, 28)" $W/x10.raw
{ head -c 9 $W/y10.raw; printf '\012'; } > $W/y10b.raw; npy $W/yb.npy '|u1' "(10,)" $W/y10b.raw
bad_data "a label of 10 for 10 classes" "$W/yb.npy: label 10 of image 9 is not a class of the model's 10 outputs" --images $W/x10.npy --labels $W/yb.npy
{ head -c 9 $W/y10.raw; printf '\377'; } > $W/y10n.raw; npy $W/yn.npy '|i1' "(10,)" $W/y10n.raw
bad_data "a label of -1" "label -1 of image 9" --images $W/x10.npy --labels $W/yn.npy
bad_data "float labels" "labels must be integers" --images $W/x10.npy --labels $W/ohcf.npy
bad_data "labels of two axes" "labels must be one axis" --images $W/x10.npy --labels $W/x10.npy
bad_data "images and labels of different counts" "images and labels differ in count: 10 in $W/x10.npy, $N in $W/y.npy" --images $W/x10.npy --labels $W/y.npy
bad_data "a directory as --images" "$D is a directory" --images $D --labels $W/y10.npy
bad_data "a directory as --labels" "$D is a directory" --images $W/x10.npy --labels $D
bad_data "a device as --calib" "/dev/zero is not a regular file" --images $W/x10.npy --labels $W/y10.npy --calib /dev/zero
bad_data "a missing --calib file" "$W/none.npy" --images $W/x10.npy --labels $W/y10.npy --calib $W/none.npy
: > $W/empty.npy
bad_data "an empty file" "$W/empty.npy" --images $W/empty.npy --labels $W/y10.npy
npy $W/none0.npy '|u1' "(0, 28, 28)"
bad_data "a set of no samples" "$W/none0.npy holds no samples" --images $W/none0.npy --labels $W/y10.npy
has_err "quantize on a fortran_order file" "$W/fo.npy: .npy: fortran_order is True" "$T" quantize $M $W/fo.npy $W/x.st
has_err "plot on a lying IDX" "$W/lie.idx: IDX: truncated" "$T" plot $M $W/lie.idx $W/figs3
usage_err "--images without --labels" "--images needs --labels" "$T" eval $M --images $W/x10.npy
usage_err "DATA_DIR and --images" "not both" "$T" eval $M $D --images $W/x10.npy --labels $W/y10.npy
usage_err "--calib with DATA_DIR" "--calib goes with --images" "$T" eval $M $D --calib $C
usage_err "eval with neither DATA_DIR nor --images" "eval needs" "$T" eval $M
usage_err "an unknown layout" "unknown --layout 'chw'" "$T" eval $M $D --layout chw
usage_err "--calib to quantize" "quantize does not take --calib" "$T" quantize $M $C $W/x.st --calib $C
check "nothing written for refused sample files" '[ ! -e $W/x.st ] && [ ! -e $W/figs3/accuracy_vs_size.svg ]'

# README "Your model in three commands": export a PyTorch model, quantize it on a .npy, eval it on .npy files
if /usr/bin/python3 -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)" > /dev/null 2>&1; then # (without importing it: 1.4 s)
  mkdir -p $W/ex && cp $W/c4.npy $W/ex/calib.npy && cp $W/x4.npy $W/ex/x_test.npy && cp $W/y.npy $W/ex/y_test.npy
  cat > $W/ex/my_net.py <<'END'
import torch.nn as nn
def build():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(8 * 14 * 14, 10))
END
  root=$(pwd); TA=$(cd "$(dirname "$T")" && pwd)/$(basename "$T")
  # (the weights saved and export.py run in one python, as its command line with these arguments: one import of torch, 1.5 s)
  (cd $W/ex && /usr/bin/python3 -c "import runpy, sys, torch; torch.manual_seed(0); import my_net; torch.save(my_net.build().state_dict(), 'my_net.pt')
sys.argv = ['$root/tools/export.py', 'my_net:build', 'my_net.safetensors', '--input-shape', '1,28,28', '--weights', 'my_net.pt']
runpy.run_path(sys.argv[0], run_name='__main__')" &&
   "$TA" quantize my_net.safetensors calib.npy my_net-int8.safetensors --mode int8 &&
   "$TA" eval my_net-int8.safetensors --images x_test.npy --labels y_test.npy) > $W/ex.txt 2>&1; rc=$?
  check "README's three commands: export, quantize on calib.npy, eval on x_test.npy / y_test.npy" '[ $rc = 0 ] && grep -q "my_net-int8.safetensors (int8, .*accuracy .* on $N images" $W/ex.txt'
else
  echo "note: no python3 torch: README's export example is skipped (quantize and eval of .npy files are checked above)"
fi

# a grouped conv, normalize, batchnorm, pad, concat, mul and every table function (test_runner's
# "new-ops" graph, input [6, 6, 4]) through quantize and eval: the int8 file loads and runs
if [ -x "$R" ]; then
  mkdir -p $W/seeds $W/g
  [ -e $W/seeds/new-ops-fp32 ] || QT_SEED_DIR=$W/seeds "$R" > /dev/null 2>&1
  tail -c +2 $W/seeds/new-ops-fp32 > $W/g/newops.st
  { printf '\000\000\010\003\000\000\000\010\000\000\000\014\000\000\000\014'; head -c 1152 /dev/urandom; } > $W/g/t10k-images-idx3-ubyte
  printf '\000\000\010\001\000\000\000\010\000\001\002\003\004\000\001\002' > $W/g/t10k-labels-idx1-ubyte
  cp $W/g/t10k-images-idx3-ubyte $W/g/calib-1000-images-idx3-ubyte
  "$T" quantize $W/g/newops.st $W/g/calib-1000-images-idx3-ubyte $W/g/newops-int8.st --mode int8 > $W/g/q.txt 2>&1; rc=$?
  check "quantize of a graph with a grouped conv and the new ops (exit $rc)" '[ $rc = 0 ] && [ -s $W/g/newops-int8.st ]'
  "$T" eval $W/g/newops-int8.st $W/g > $W/g/e.txt 2>&1; rc=$?
  check "  ... and its int8 file evaluates in int8 (exit $rc)" '[ $rc = 0 ] && grep -q "(int8," $W/g/e.txt'
  # test_runner's "equalize-relu6" graph (input [6, 6, 2]: conv + out_stats -> relu6 -> dwconv + out_stats
  # -> relu6 -> avgpool -> conv -> maxpool -> flatten -> dense): --equalize through relu6, --bias-correct=analytic
  tail -c +2 $W/seeds/equalize-relu6-fp32 > $W/g/eq6.st
  mkdir -p $W/g6
  { printf '\000\000\010\003\000\000\000\040\000\000\000\006\000\000\000\014'; head -c 2304 /dev/urandom; } > $W/g6/t10k-images-idx3-ubyte
  { printf '\000\000\010\001\000\000\000\040'; head -c 32 /dev/urandom | LC_ALL=C tr '\000-\377' '\000\001\002'; } > $W/g6/t10k-labels-idx1-ubyte
  cp $W/g6/t10k-images-idx3-ubyte $W/g6/calib-1000-images-idx3-ubyte
  "$T" quantize $W/g/eq6.st $W/g6/calib-1000-images-idx3-ubyte $W/g6/eq.st --mode int8 --equalize > $W/g6/q.txt 2>&1; rc=$?
  check "quantize --equalize through relu6 (exit $rc): both relu6 become relu_clip with a bounds tensor" '[ $rc = 0 ] && grep -q "^relu6 ar -> relu_clip, bounds 6 / scale per channel in ar.max" $W/g6/q.txt && grep -q "^relu6 dr -> relu_clip" $W/g6/q.txt'
  "$T" inspect $W/g6/eq.st > $W/g6/i.txt 2>&1
  check "  ... the file's graph has relu_clip nodes and their F32 [8] bounds" '[ "$(grep -c relu_clip $W/g6/i.txt)" = 2 ] && grep -q "ar.max *F32 *\[8\]" $W/g6/i.txt && grep -q "dr.max *F32 *\[8\]" $W/g6/i.txt'
  "$T" eval $W/g6/eq.st $W/g6 --mode fp32 > $W/g6/ef.txt 2>&1; "$T" eval $W/g/eq6.st $W/g6 --mode fp32 > $W/g6/ef0.txt 2>&1
  check "  ... its fp32 run predicts what the model did before equalization" '[ -n "$(acc $W/g6/ef0.txt)" ] && [ "$(acc $W/g6/ef.txt)" = "$(acc $W/g6/ef0.txt)" ]'
  "$T" eval $W/g6/eq.st $W/g6 > $W/g6/e8.txt 2>&1; rc=$?
  check "  ... and it runs in int8 (exit $rc)" '[ $rc = 0 ] && grep -q "(int8," $W/g6/e8.txt'
  "$T" quantize $W/g6/eq.st $W/g6/calib-1000-images-idx3-ubyte $W/g6/eq2.st --mode int8 --equalize > $W/g6/q2.txt 2>&1; rc=$?
  check "  ... which equalizes again (exit $rc) with no relu6 left to rewrite" '[ $rc = 0 ] && ! grep -q "^relu6" $W/g6/q2.txt && grep -q "^wa *wdw " $W/g6/q2.txt'
  "$T" quantize $W/g/eq6.st $W/g6/calib-1000-images-idx3-ubyte $W/g6/bc.st --mode int8 --bias-correct=analytic > $W/g6/qa.txt 2>&1; rc=$?
  check "quantize --bias-correct=analytic (exit $rc): bias shifts for the two layers behind out_stats, none for the others" '[ $rc = 0 ] && [ "$(grep -c " none$" $W/g6/qa.txt)" = 2 ] && grep -q "^d *dwconv2d .* [0-9.e-]*[1-9][0-9.e-]*$" $W/g6/qa.txt && grep -q "^b *conv2d .* [0-9.e-]*[1-9][0-9.e-]*$" $W/g6/qa.txt && grep -q "bias corrected (analytic)" $W/g6/qa.txt'
  "$T" inspect $W/g6/bc.st > $W/g6/ia.txt 2>&1
  check "  ... and writes corrected biases for those two" '[ "$(grep -c "\.qbias *F32" $W/g6/ia.txt)" = 2 ]'
  "$T" quantize $W/g/eq6.st $W/g6/calib-1000-images-idx3-ubyte $W/g6/bcd.st --mode int8 --bias-correct=data > /dev/null 2>&1
  "$T" quantize $W/g/eq6.st $W/g6/calib-1000-images-idx3-ubyte $W/g6/bcd2.st --mode int8 --bias-correct > /dev/null 2>&1
  check "--bias-correct=data writes what --bias-correct writes" '[ -s $W/g6/bcd.st ] && cmp -s $W/g6/bcd.st $W/g6/bcd2.st'
fi
refuse "--bias-correct=analytic on a model without batch-norm statistics" "$T" quantize $M $C50 $W/x.st --mode int8 --bias-correct=analytic
check "  ... says why and writes nothing" 'grep -q "no layer.s input comes from a layer with out_stats" $W/err.txt && [ ! -e $W/x.st ]' 

echo "$pass passed, $fail failed"
[ $fail = 0 ]
