#!/bin/sh
# tests/test_tool.sh - the command-line tools (build/quant-tool) end to end on
# the committed model and data: inspect, quantize (int8, int4 blocks) and
# eval of the written files, plot with the accuracy figure, and bad input
# (missing and damaged files, unknown options) refused with a message and a
# non-zero exit. Then issue 17: a hand-made model with hostile tensor and
# value names (escaped in the written JSON, in SVG text, safe and unique as
# file names), an 8-dim shape printed in full, quantize of an already
# quantized file, strict options (exit 2, --help exit 0), directories where
# files belong, and a failed write leaving OUT as it was. `make test` runs it
# from the project root as build/test_tool.
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
"$T" quantize $W/i8.st $C $W/rq8.st --mode int8 --observer mse > $W/rq8.txt 2>&1; rc=$?
check "quantize of an int8 file again in int8 gives the same file" '[ $rc = 0 ] && cmp -s $W/i8.st $W/rq8.st && grep -q "already quantized" $W/rq8.txt'
"$T" quantize $W/i8.st $C $W/rq4.st --mode int4 --observer mse > /dev/null 2>&1
"$T" inspect $W/rq4.st > $W/rq4i.txt 2>&1
check "quantize of an int8 file in int4 holds no int8 tensors" '[ "$(grep -c "^  fc1.weight.q4 " $W/rq4i.txt)" = 1 ] && ! grep -q "^  fc1.weight.q " $W/rq4i.txt'
"$T" eval $W/rq4.st $D --mode int4 > $W/rq4e.txt 2>&1
check "the int8 file quantized again in int4 gives the int4 file's accuracy" '[ -n "$(acc $W/rq4e.txt)" ] && [ "$(acc $W/rq4e.txt)" = "$(acc $W/e4.txt)" ]'
"$T" quantize $W/i4.st $C $W/rq48.st --mode int8 --observer mse > /dev/null 2>&1
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
has_err "a directory as the images" "$D is a directory" "$T" quantize $M $D $W/x.st
has_err "a directory as the output file" "$W is a directory" "$T" quantize $M $C $W
has_err "a file as the data directory" "$C is not a directory" "$T" eval $M $C --mode fp32
has_err "a file as the plot folder" "$M is not a directory" "$T" plot $M $C $M
has_err "an output folder that does not exist" "$W/nodir" "$T" quantize $M $C $W/nodir/x.st
check "nothing written for refused paths" '[ ! -e $W/x.st ] && [ ! -e $W/nodir ]'

# a failed write (past a file size limit) leaves a pre-existing OUT as it was, and no temporary file
cp $M $W/keep.st
(ulimit -f 200; "$T" quantize $M $C $W/keep.st --mode int8 > $W/out.txt 2> $W/err.txt); rc=$?
check "a failed write exits 1 with a message" '[ $rc = 1 ] && grep -q "cannot write" $W/err.txt'
check "a failed write leaves OUT as it was and no temporary file" 'cmp -s $M $W/keep.st && [ -z "$(ls -A $W | grep "^\.quant-tool")" ]'

# a quantized file runs in its own mode: the default, and any other refused by name
"$T" eval $W/i4.st $D > $W/e4d.txt 2>&1
check "eval of the int4 file without --mode runs int4" 'grep -q "(int4," $W/e4d.txt && [ "$(acc $W/e4d.txt)" = "$(acc $W/e4.txt)" ]'
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
"$T" quantize $M $C $W/p8.st --mode int8 > $W/p8.txt 2> $W/p8.err
check "no progress lines into a file" '! grep -q "calibrating" $W/p8.err'
if command -v script >/dev/null 2>&1; then # on a terminal (a pty from script(1)): a count after each chunk of real work
  script -q -c "$T quantize $M $C $W/p9.st --mode int8" /dev/null < /dev/null 2>&1 | tr '\r' '\n' > $W/p9.tty
  check "progress on a terminal counts the images run" 'grep -aq "calibrating: 200 of 1000 images run" $W/p9.tty && grep -aq "calibrating: 1000 of 1000 images run" $W/p9.tty'
fi

# the hostile model files of test_runner (token-level mutations of six small
# models, quantized ones too), every 6th through inspect, eval and quantize:
# each exits 0, or 1 with a message; never a crash, a sanitizer report or a hang
R=$(dirname "$T")/test_runner
if [ -x "$R" ]; then
  mkdir -p $W/hostile $W/hd
  QT_HOSTILE_DIR=$W/hostile "$R" > /dev/null 2>&1
  # 4 images of 6x12 (72 values: the models' [6, 6, 2] input), labels 0..2
  { printf '\000\000\010\003\000\000\000\004\000\000\000\006\000\000\000\014'; head -c 288 /dev/urandom; } > $W/hd/t10k-images-idx3-ubyte
  printf '\000\000\010\001\000\000\000\004\000\001\002\001' > $W/hd/t10k-labels-idx1-ubyte
  cp $W/hd/t10k-images-idx3-ubyte $W/hd/calib-1000-images-idx3-ubyte
  n=0; crashed=0; silent=0
  for f in $W/hostile/hostile-*.safetensors; do
    n=$((n + 1)); [ $((n % 6)) = 1 ] || continue
    for cmd in "inspect $f" "eval $f $W/hd --mode fp32" "eval $f $W/hd" "quantize $f $W/hd/calib-1000-images-idx3-ubyte $W/hq.st --mode int8"; do
      timeout 20 "$T" $cmd > $W/h.out 2> $W/h.err; rc=$?
      if [ $rc != 0 ] && [ $rc != 1 ]; then crashed=$((crashed + 1)); [ $crashed -le 3 ] && { echo "hostile: quant-tool $cmd: exit $rc"; head -c 600 $W/h.err; }; fi
      if [ $rc = 1 ] && [ ! -s $W/h.err ]; then silent=$((silent + 1)); echo "hostile: quant-tool $cmd: exit 1 without a message"; fi
      if grep -q "runtime error\|AddressSanitizer\|LeakSanitizer" $W/h.err; then crashed=$((crashed + 1)); echo "hostile: quant-tool $cmd: sanitizer report"; head -c 600 $W/h.err; fi
    done
  done
  echo "hostile model files through inspect / eval / quantize: $((n / 6 + 1)) of $n files, $crashed crashed, $silent failed silently"
  check "hostile model files: no crash, no silent failure" '[ $n -gt 1000 ] && [ $crashed = 0 ] && [ $silent = 0 ]'
fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]
