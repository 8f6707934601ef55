# bench/pq.mk - PQ / VQ benchmark against faiss and OpenBLAS, and the PQ
# kernel tests on this machine's best ISA. Included by the Makefile after
# bench/bench.mk (-include bench/pq.mk).
#
#   make bench-pq         bench/bench_pq.cc: faiss 1.7.3 IndexPQ M=16 nbits=8
#                         (train, encode, search), IndexPQ / IndexPQFastScan
#                         M=56 nbits=4, on Fashion-MNIST (60,000 database
#                         images, 1,000 queries, k = 10), and PQ matmul
#                         4096 x 4096 against cblas_sgemv, all in one run,
#                         one thread, pinned to BENCH_CPU
#   make bench-pq-quick   the same with short training (a smoke test)
#   make bench-pq-avx2    bench-pq built for AVX2 (-mavx2 -mfma, quant's
#                         AVX2 kernels) against OpenBLAS's AVX2 core
#                         (OPENBLAS_CORE_AVX2, bench.mk: Haswell), on a CPU
#                         with AVX-512 too; output bench_pq_avx2.txt
#   make bench-pq-ab      the PQ matmul section (bench_pq --pqmm --quick)
#                         of two builds in alternation, PQ_AB_RUNS times:
#                         quant.h / quant_kernels.h of commit PQ_AB_BASE
#                         (default HEAD) against the tree, both with
#                         PQ_AB_FLAGS (default -mavx2 -mfma) and OpenBLAS's
#                         AVX2 core; compare times run by run
#   make test-pq-native   tests/ktest_pq.c built with -march=native: the
#                         AVX-512 VBMI paths (vpermi2b: 8-bit fast scan, PQ
#                         matmul LUT8) that the fixed ISA flags of `make
#                         test` do not enable
#
# Needs: libfaiss-dev (static libfaiss.a: -lfaiss -lblas -llapack -fopenmp),
# libopenblas-dev, dataset-fashion-mnist, taskset. Knobs: BENCH_CPU,
# BENCH_PQ_REPS (medians of), BENCH_PQ_SEEDS (training seeds for the recall
# spread), BENCH_PQ_ISA (compiler flags, default -march=native). Output:
# build/bench/bench_pq.txt (ends with the markdown table).

BUILD          ?= build
BENCH_DIR      ?= $(BUILD)/bench
BENCH_CPU      ?= 1
OPENBLAS_INC   ?= -I/usr/include/x86_64-linux-gnu/openblas-pthread
BENCH_PQ_ISA   ?= -march=native
BENCH_PQ_REPS  ?= 5
BENCH_PQ_SEEDS ?= 5
# GCC 12 warns -Wmaybe-uninitialized inside its own AVX-512 headers when
# inlined into C++ at -O2 (GCC bug 105593): silenced here only.
BENCH_PQ_CXX   ?= $(CXX) -std=c++17 -O2 -Wall -Wextra -Wno-maybe-uninitialized
# OpenBLAS 0.3.21 does not recognise some AVX-512 CPUs; SkylakeX is its
# AVX-512 core (faiss's k-means also runs its sgemm through it). Named only
# where the CPU has AVX-512 (OPENBLAS_CORE_NATIVE, bench.mk): forced on an
# AVX2 CPU it dies with SIGILL.
BENCH_PQ_ENV   ?= OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(if $(OPENBLAS_CORE_NATIVE),OPENBLAS_CORETYPE=$(OPENBLAS_CORE_NATIVE))

.PHONY: bench-pq bench-pq-quick bench-pq-avx2 bench-pq-ab test-pq-native

$(BENCH_DIR)/bench_pq: bench/bench_pq.cc quant.h quant_kernels.h
	@mkdir -p $(dir $@)
	$(BENCH_PQ_CXX) $(BENCH_PQ_ISA) -I. $(OPENBLAS_INC) $< -o $@ -lfaiss -lopenblas -lblas -llapack -fopenmp -lm

bench-pq: $(BENCH_DIR)/bench_pq
	$(BENCH_PQ_ENV) sh -c 'taskset -c $(BENCH_CPU) $< --reps $(BENCH_PQ_REPS) --seeds $(BENCH_PQ_SEEDS); echo $$? > $(BENCH_DIR)/bench-pq.rc' \
	  | tee $(BENCH_DIR)/bench_pq.txt; exit $$(cat $(BENCH_DIR)/bench-pq.rc)

bench-pq-quick: $(BENCH_DIR)/bench_pq
	$(BENCH_PQ_ENV) taskset -c $(BENCH_CPU) $< --quick --reps 3 --seeds 1

BENCH_PQ_AVX2_FLAGS ?= -mavx2 -mfma
$(BENCH_DIR)/bench_pq_avx2: bench/bench_pq.cc quant.h quant_kernels.h
	@mkdir -p $(dir $@)
	$(BENCH_PQ_CXX) $(BENCH_PQ_AVX2_FLAGS) -I. $(OPENBLAS_INC) $< -o $@ -lfaiss -lopenblas -lblas -llapack -fopenmp -lm

bench-pq-avx2: $(BENCH_DIR)/bench_pq_avx2
	@[ -n "$$(sh tests/isa.sh avx2)" ] || { echo "bench-pq-avx2: this CPU lacks AVX2 / FMA (tests/isa.sh): use make bench-pq"; exit 1; }
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(if $(OPENBLAS_CORE_AVX2),OPENBLAS_CORETYPE=$(OPENBLAS_CORE_AVX2)) \
	  sh -c 'taskset -c $(BENCH_CPU) $< --reps $(BENCH_PQ_REPS) --seeds $(BENCH_PQ_SEEDS); echo $$? > $(BENCH_DIR)/bench-pq-avx2.rc' \
	  | tee $(BENCH_DIR)/bench_pq_avx2.txt; exit $$(cat $(BENCH_DIR)/bench-pq-avx2.rc)

PQ_AB_BASE  ?= HEAD
PQ_AB_FLAGS ?= -mavx2 -mfma
PQ_AB_RUNS  ?= 6
# the two builds yield to other work on a shared host; the runs do not
PQ_AB_NICE  ?= nice -n 19
# always rebuilt: the base is a commit, the tree whatever it holds now
bench-pq-ab:
	@case "$(PQ_AB_FLAGS)" in *avx2*) [ -n "$$(sh tests/isa.sh avx2)" ] || { echo "bench-pq-ab: this CPU lacks AVX2 / FMA (tests/isa.sh): set PQ_AB_FLAGS"; exit 1; };; esac
	@mkdir -p $(BENCH_DIR)/pq-ab/base
	git show $(PQ_AB_BASE):quant.h > $(BENCH_DIR)/pq-ab/base/quant.h
	git show $(PQ_AB_BASE):quant_kernels.h > $(BENCH_DIR)/pq-ab/base/quant_kernels.h
	$(PQ_AB_NICE) $(BENCH_PQ_CXX) $(PQ_AB_FLAGS) -I$(BENCH_DIR)/pq-ab/base $(OPENBLAS_INC) bench/bench_pq.cc -o $(BENCH_DIR)/pq-ab/bench_pq_base \
	  -lfaiss -lopenblas -lblas -llapack -fopenmp -lm
	$(PQ_AB_NICE) $(BENCH_PQ_CXX) $(PQ_AB_FLAGS) -I. $(OPENBLAS_INC) bench/bench_pq.cc -o $(BENCH_DIR)/pq-ab/bench_pq_tree \
	  -lfaiss -lopenblas -lblas -llapack -fopenmp -lm
	@for i in $$(seq $(PQ_AB_RUNS)); do for s in base tree; do \
	  echo "== $$s, run $$i"; \
	  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(if $(OPENBLAS_CORE_AVX2),OPENBLAS_CORETYPE=$(OPENBLAS_CORE_AVX2)) \
	    taskset -c $(BENCH_CPU) $(BENCH_DIR)/pq-ab/bench_pq_$$s --pqmm --quick --reps 5 2>/dev/null | grep -E '^OpenBLAS sgemv|^  pqmm' || exit 1; \
	done; done

$(BUILD)/native/ktest_pq: tests/ktest_pq.c quant.h quant_kernels.h tests/harness.h
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -O2 -Wall -Wextra -Wpedantic -Werror -march=native -I. $< -o $@ -lm

test-pq-native: $(BUILD)/native/ktest_pq
	./$<
