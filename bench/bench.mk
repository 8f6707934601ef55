# bench/bench.mk - benchmarks, included by the Makefile (-include bench/bench.mk).
#
#   make bench               Google Benchmark suite (bench/bench_gemm.cc), this
#                            machine's best ISA: single thread pinned to
#                            BENCH_CPU, then the 2-thread 2048^3 variants on 2 cpus
#   make bench-compare       quant vs oneDNN, gemmlowp, OpenBLAS sgemm, XNNPACK + read
#                            bandwidth in one run (native build: -march=native)
#   make bench-compare-avx2  the same against quant's AVX2 build (-mavx2 -mfma;
#                            oneDNN limited to AVX2, OpenBLAS's Haswell core)
#   make bench-epilogue      int8 output's cost over int32 per requantization mode,
#                            paired in each round (bench/bench_epilogue.c)
#   make bench-binary        binary / ternary kernels against this CPU's XOR +
#                            popcount loop and read bandwidth (bench/bench_binary.c)
#   make bench-rows          quantize / dequantize rows against plain C loops and
#                            the read rate of the same buffer (bench/bench_rows.c)
#   make bench-layers        the demo model int8 (quantized here by quant-tool,
#                            MSE observer) layer by layer at batch 64 and 1, µs an
#                            image (bench/bench_layers.c)
#   make bench-conv          int8 convolutions of several shapes: quant's
#                            kernels, per shape (bench/bench_conv.c)
#   make bench-conv-dnnl     quant_conv2d against oneDNN's int8 convolution,
#                            int32 and uint8 out, interleaved in one run
#                            (bench/bench_conv_dnnl.c); -avx2: quant built
#                            -mavx2 -mfma, oneDNN limited to AVX2
#   make bench-ab            quant's GEMM of commit AB_BASE (default HEAD) against
#                            the working tree, paired in each round, both built
#                            with AB_FLAGS (default -mavx2 -mfma): bench/bench_ab.c;
#                            AB_ARGS: [rounds] [0 int32 | 1 int8 out] [shapes] [7bit]
#   make bench-isa           one whole-process workload per ISA, timed by hyperfine:
#                            speed-up of each ISA over scalar
#   make bench-build         builds everything without running it
#
# Needs: libbenchmark-dev, libdnnl-dev, libgemmlowp-dev, libopenblas-dev,
# libxnnpack-dev, libpthreadpool-dev, libcpuinfo-dev (bench-compare),
# hyperfine, python3 (tables), taskset (util-linux). Knobs: BENCH_CPU (cpu for
# single-thread runs), BENCH_CPUS2 (cpus for the 2-thread run), BENCH_REPS
# (Google Benchmark repetitions), BENCH_ROUNDS (bench_compare rounds),
# BENCH_HF_RUNS (hyperfine minimum runs). Outputs land in build/bench/.

BENCH_DIR     = $(BUILD)/bench
BENCH_OPT     = -O2
BENCH_NATIVE  = -march=native
BENCH_AVX2    = -mavx2 -mfma
# GCC 12 warns -Wmaybe-uninitialized inside its own AVX-512 intrinsic headers
# when they are inlined into C++ at -O2 (GCC bug 105593): silenced here only.
BENCH_WARN    = -Wall -Wextra -Wno-maybe-uninitialized
BENCH_CXX     = $(CXX) -std=c++17 $(BENCH_OPT) $(BENCH_WARN)
OPENBLAS_INC  = -I/usr/include/x86_64-linux-gnu/openblas-pthread
BENCH_CPU    ?= 1
BENCH_CPUS2  ?= 0,1
BENCH_REPS   ?= 7
BENCH_ROUNDS ?= 61
BENCH_HF_RUNS ?= 5
# the x86 levels this CPU can run (tests/isa.sh reads /proc/cpuinfo)
BENCH_ISAS   ?= $(shell sh tests/isa.sh $(if $(X86_ISAS),$(X86_ISAS),scalar sse41 avx2 avxvnni avx512 avx512vnni))
# OpenBLAS 0.3.21 does not recognise a Zen 5 (model 207 as it reads it) and
# falls back to its SSE3 "Prescott" core; name the core for each build (empty:
# autodetect, as on a CPU without AVX-512, where SkylakeX would not run).
OPENBLAS_CORE_NATIVE ?= $(if $(shell sh tests/isa.sh avx512),SkylakeX,)
OPENBLAS_CORE_AVX2   ?= Haswell
# oneDNN: best ISA for the native build, AVX2 for the AVX2 build.
DNNL_ISA_NATIVE ?=
DNNL_ISA_AVX2   ?= AVX2
BENCH_ENV_1T  = OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

.PHONY: bench bench-ab bench-compare bench-compare-avx2 bench-isa bench-build bench-epilogue bench-elementwise bench-binary bench-rows \
        bench-layers bench-conv bench-conv-dnnl bench-conv-dnnl-avx2

BENCH_ISA_BINS = $(foreach i,$(BENCH_ISAS),$(BENCH_DIR)/isa/bench_isa_$(i))

bench-build: $(BENCH_DIR)/bench_layers $(BENCH_DIR)/bench_conv $(BENCH_DIR)/bench_gemm $(BENCH_DIR)/bench_compare $(BENCH_DIR)/bench_compare_avx2 $(BENCH_ISA_BINS) \
             $(BENCH_DIR)/bench_epilogue $(BENCH_DIR)/bench_elementwise $(BENCH_DIR)/bench_binary $(BENCH_DIR)/bench_rows \
             $(BENCH_DIR)/bench_conv_dnnl $(BENCH_DIR)/bench_conv_dnnl_avx2

$(BENCH_DIR)/bench_epilogue: bench/bench_epilogue.c quant.h quant_kernels.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(BENCH_OPT) -Wall -Wextra $(BENCH_NATIVE) -I. $< -o $@ -lm

bench-epilogue: $(BENCH_DIR)/bench_epilogue
	taskset -c $(BENCH_CPU) $<

# quantized add / mul / requantize: the vector kernels against quant.h's scalar ones
$(BENCH_DIR)/bench_elementwise: bench/bench_elementwise.c quant.h quant_kernels.h
	@mkdir -p $(dir $@)
	$(CC) -std=c99 $(BENCH_OPT) $(BENCH_NATIVE) -I. $< -o $@ -lm
bench-elementwise: $(BENCH_DIR)/bench_elementwise
	taskset -c $(BENCH_CPU) $<
# quantize / dequantize rows against plain C loops and the read rate, 64 MiB and 256 KiB
$(BENCH_DIR)/bench_rows: bench/bench_rows.c quant.h quant_kernels.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(BENCH_OPT) -Wall -Wextra $(BENCH_NATIVE) -I. $< -o $@ -lm
bench-rows: $(BENCH_DIR)/bench_rows
	taskset -c $(BENCH_CPU) $<
# the demo model, int8, by layer: the model quantized once (calibration images
# of examples/data), then each layer's time at batch 64 and 1
$(BENCH_DIR)/bench_layers: bench/bench_layers.c examples/runner/runner.h quant.h quant_kernels.h
	@mkdir -p $(dir $@)
	$(CC) -std=c99 $(BENCH_OPT) $(BENCH_NATIVE) -D_POSIX_C_SOURCE=200809L -I. -Iexamples/runner $< -o $@ -lm
$(BENCH_DIR)/q8.safetensors: $(BUILD)/quant-tool models/fmnist_float.safetensors
	@mkdir -p $(dir $@)
	$(BUILD)/quant-tool quantize models/fmnist_float.safetensors examples/data/calib-1000-images-idx3-ubyte $@ --mode int8 --observer mse
bench-layers: $(BENCH_DIR)/bench_layers $(BENCH_DIR)/q8.safetensors
	taskset -c $(BENCH_CPU) $< $(BENCH_DIR)/q8.safetensors examples/data/t10k-images-idx3-ubyte 64
	taskset -c $(BENCH_CPU) $< $(BENCH_DIR)/q8.safetensors examples/data/t10k-images-idx3-ubyte 1
$(BENCH_DIR)/bench_conv: bench/bench_conv.c quant.h quant_kernels.h
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -O3 $(BENCH_NATIVE) -I. $< -o $@ -lm
bench-conv: $(BENCH_DIR)/bench_conv
	taskset -c $(BENCH_CPU) $<
# binary / ternary GEMM, GEMV, conv, BWN (native build; other levels: the
# same source with the kernel tests' FLAGS_<level>)
$(BENCH_DIR)/bench_binary: bench/bench_binary.c quant.h quant_kernels.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(BENCH_OPT) -Wall -Wextra $(BENCH_NATIVE) -I. $< -o $@ -lm
bench-binary: $(BENCH_DIR)/bench_binary
	taskset -c $(BENCH_CPU) $<

$(BENCH_DIR)/bench_gemm: bench/bench_gemm.cc quant.h quant_kernels.h
	@mkdir -p $(dir $@)
	$(BENCH_CXX) $(BENCH_NATIVE) -I. $< -o $@ -lbenchmark -lpthread -lm

$(BENCH_DIR)/bench_compare: bench/bench_compare.cc quant.h quant_kernels.h
	@mkdir -p $(dir $@)
	$(BENCH_CXX) $(BENCH_NATIVE) -DGEMMLOWP_ENABLE_AVX2 -DBENCH_FLAGS='"$(BENCH_OPT) $(BENCH_NATIVE)"' \
	  -I. $(OPENBLAS_INC) $< -o $@ -ldnnl -lopenblas -lXNNPACK -lpthreadpool -lcpuinfo -lpthread -lm

$(BENCH_DIR)/bench_compare_avx2: bench/bench_compare.cc quant.h quant_kernels.h
	@mkdir -p $(dir $@)
	$(BENCH_CXX) $(BENCH_AVX2) -DGEMMLOWP_ENABLE_AVX2 -DBENCH_FLAGS='"$(BENCH_OPT) $(BENCH_AVX2)"' \
	  -I. $(OPENBLAS_INC) $< -o $@ -ldnnl -lopenblas -lXNNPACK -lpthreadpool -lcpuinfo -lpthread -lm

$(BENCH_DIR)/bench_conv_dnnl: bench/bench_conv_dnnl.c bench/chain_bound.h quant.h quant_kernels.h
	@mkdir -p $(dir $@)
	$(CC) -std=c99 $(BENCH_OPT) -Wall -Wextra $(BENCH_NATIVE) -I. $< -o $@ -ldnnl -lm
$(BENCH_DIR)/bench_conv_dnnl_avx2: bench/bench_conv_dnnl.c bench/chain_bound.h quant.h quant_kernels.h
	@mkdir -p $(dir $@)
	$(CC) -std=c99 $(BENCH_OPT) -Wall -Wextra $(BENCH_AVX2) -I. $< -o $@ -ldnnl -lm
bench-conv-dnnl: $(BENCH_DIR)/bench_conv_dnnl
	$(BENCH_ENV_1T) $(if $(DNNL_ISA_NATIVE),DNNL_MAX_CPU_ISA=$(DNNL_ISA_NATIVE)) \
	  sh -c 'taskset -c $(BENCH_CPU) $< $(BENCH_ROUNDS); echo $$? > $(BENCH_DIR)/$@.rc' | tee $(BENCH_DIR)/bench_conv_dnnl.txt; \
	  exit $$(cat $(BENCH_DIR)/$@.rc)
bench-conv-dnnl-avx2: $(BENCH_DIR)/bench_conv_dnnl_avx2
	@[ -n "$$(sh tests/isa.sh avx2)" ] || { echo "bench-conv-dnnl-avx2: this CPU lacks AVX2 / FMA (tests/isa.sh): use make bench-conv-dnnl"; exit 1; }
	$(BENCH_ENV_1T) $(if $(DNNL_ISA_AVX2),DNNL_MAX_CPU_ISA=$(DNNL_ISA_AVX2)) \
	  sh -c 'taskset -c $(BENCH_CPU) $< $(BENCH_ROUNDS); echo $$? > $(BENCH_DIR)/$@.rc' | tee $(BENCH_DIR)/bench_conv_dnnl_avx2.txt; \
	  exit $$(cat $(BENCH_DIR)/$@.rc)

# Same flags as the kernel tests (FLAGS_<isa> in the Makefile).
$(BENCH_DIR)/isa/bench_isa_%: bench/bench_isa.c quant.h quant_kernels.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(BENCH_OPT) -Wall -Wextra $(FLAGS_$*) -I. $< -o $@ -lm

bench: $(BENCH_DIR)/bench_gemm
	taskset -c $(BENCH_CPU) $< --benchmark_filter='^st/' --benchmark_repetitions=$(BENCH_REPS) \
	  --benchmark_report_aggregates_only=true --benchmark_enable_random_interleaving=true \
	  --benchmark_out=$(BENCH_DIR)/bench_gemm_st.json --benchmark_out_format=json
	taskset -c $(BENCH_CPUS2) $< --benchmark_filter='^mt/' --benchmark_repetitions=$(BENCH_REPS) \
	  --benchmark_report_aggregates_only=true --benchmark_enable_random_interleaving=true \
	  --benchmark_out=$(BENCH_DIR)/bench_gemm_mt.json --benchmark_out_format=json
	@echo
	@python3 bench/tables.py gbench $(BENCH_DIR)/bench_gemm_st.json $(BENCH_DIR)/bench_gemm_mt.json \
	  | tee $(BENCH_DIR)/bench_gemm.md

bench-compare: $(BENCH_DIR)/bench_compare
	$(BENCH_ENV_1T) $(if $(OPENBLAS_CORE_NATIVE),OPENBLAS_CORETYPE=$(OPENBLAS_CORE_NATIVE)) \
	  $(if $(DNNL_ISA_NATIVE),DNNL_MAX_CPU_ISA=$(DNNL_ISA_NATIVE)) \
	  sh -c 'taskset -c $(BENCH_CPU) $< --rounds $(BENCH_ROUNDS); echo $$? > $(BENCH_DIR)/$@.rc' | tee $(BENCH_DIR)/bench_compare.txt; \
	  exit $$(cat $(BENCH_DIR)/$@.rc)

AB_BASE  ?= HEAD
AB_FLAGS ?= -mavx2 -mfma
AB_ARGS  ?=
# always rebuilt: the base is a commit, the tree whatever it holds now
bench-ab:
	@[ -n "$$(sh tests/isa.sh avx2)" ] || { echo "bench-ab: this CPU lacks AVX2 / FMA (tests/isa.sh); its chain-bound probe and default AB_FLAGS need them"; exit 1; }
	@mkdir -p $(BENCH_DIR)/ab/base
	git show $(AB_BASE):quant.h > $(BENCH_DIR)/ab/base/quant.h
	git show $(AB_BASE):quant_kernels.h > $(BENCH_DIR)/ab/base/quant_kernels.h
	$(CC) -std=gnu11 $(BENCH_OPT) $(AB_FLAGS) -I$(BENCH_DIR)/ab/base -DPFX=base_ -c bench/bench_ab_side.c -o $(BENCH_DIR)/ab/base.o
	$(CC) -std=gnu11 $(BENCH_OPT) $(AB_FLAGS) -I. -DPFX=tree_ -c bench/bench_ab_side.c -o $(BENCH_DIR)/ab/tree.o
	$(CC) -std=gnu11 $(BENCH_OPT) -Wall -Wextra -mavx2 bench/bench_ab.c $(BENCH_DIR)/ab/base.o $(BENCH_DIR)/ab/tree.o -o $(BENCH_DIR)/ab/bench_ab -lm
	taskset -c $(BENCH_CPU) $(BENCH_DIR)/ab/bench_ab $(AB_ARGS)

bench-compare-avx2: $(BENCH_DIR)/bench_compare_avx2
	@[ -n "$$(sh tests/isa.sh avx2)" ] || { echo "bench-compare-avx2: this CPU lacks AVX2 / FMA (tests/isa.sh): use make bench-compare"; exit 1; }
	$(BENCH_ENV_1T) $(if $(OPENBLAS_CORE_AVX2),OPENBLAS_CORETYPE=$(OPENBLAS_CORE_AVX2)) \
	  $(if $(DNNL_ISA_AVX2),DNNL_MAX_CPU_ISA=$(DNNL_ISA_AVX2)) \
	  sh -c 'taskset -c $(BENCH_CPU) $< --rounds $(BENCH_ROUNDS); echo $$? > $(BENCH_DIR)/$@.rc' | tee $(BENCH_DIR)/bench_compare_avx2.txt; \
	  exit $$(cat $(BENCH_DIR)/$@.rc)

# Each ISA's binary once (its checksum: all must agree), then hyperfine over
# the whole process and over its setup alone (data + packing), pinned.
bench-isa: $(BENCH_ISA_BINS)
	@rm -f $(BENCH_DIR)/isa/checksums.txt
	@for b in $(BENCH_ISA_BINS); do $$b info; taskset -c $(BENCH_CPU) $$b; done | tee $(BENCH_DIR)/isa/checksums.txt
	taskset -c $(BENCH_CPU) hyperfine -N --warmup 1 --min-runs $(BENCH_HF_RUNS) \
	  --export-json $(BENCH_DIR)/isa/hyperfine.json \
	  $(foreach b,$(BENCH_ISA_BINS),'$(b)' '$(b) setup')
	@echo
	@python3 bench/tables.py isa $(BENCH_DIR)/isa/hyperfine.json $(BENCH_DIR)/isa/checksums.txt \
	  | tee $(BENCH_DIR)/isa/bench_isa.md
