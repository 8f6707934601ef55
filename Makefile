# quant - build, test, demo.  `make test` and `make demo` are the contract.
CC      ?= gcc
CXX     ?= g++
WARN     = -Wall -Wextra -Wpedantic -Werror
CFLAGS  ?= -O2
CSTD     = -std=c99
CXXSTD   = -std=c++11
BUILD    = build

C_TESTS   = $(patsubst tests/%.c,$(BUILD)/%,$(wildcard tests/test_*.c))
CXX_TESTS = $(patsubst tests/%.cc,$(BUILD)/%,$(wildcard tests/test_*.cc))
TESTS     = $(C_TESTS) $(CXX_TESTS) $(BUILD)/test_static_link $(BUILD)/test_tool $(BUILD)/test_torch $(BUILD)/test_dispatch $(BUILD)/test_isa_select
HDRS      = quant.h quant_kernels.h tests/harness.h

# Kernel tests (tests/ktest_*.c) are built once per ISA and each must equal
# the scalar reference of quant.h bit for bit. x86 levels run natively where
# the CPU has them; the others are built through SIMDe (tests/emu_x86.h:
# portable intrinsics, Debian libsimde-dev) into x86emu-<level>/ and run
# there, so every level is checked on every x86-64 CPU. Arm builds run under
# qemu-user when the cross compilers are installed (CI installs them and sets
# QT_REQUIRE_CROSS=1 so that a missing one fails).
X86_ISAS         = scalar sse41 avx2 avxvnni avx512 avx512vnni
FLAGS_scalar     = -DQUANT_NO_SIMD
FLAGS_sse41      = -msse4.1
FLAGS_avx2       = -mavx2 -mfma
FLAGS_avxvnni    = -mavx2 -mfma -mavxvnni
FLAGS_avx512     = -mavx512f -mavx512bw -mavx512vl -mfma
FLAGS_avx512vnni = -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mavx512vpopcntdq -mavx512vbmi -mfma
KTESTS    = $(patsubst tests/%.c,%,$(wildcard tests/ktest_*.c))
X86_NATIVE := $(shell sh tests/isa.sh $(X86_ISAS))
X86_EMU     = $(filter-out $(X86_NATIVE),$(X86_ISAS))
HAVE_SIMDE := $(shell [ -f /usr/include/simde/x86/avx512.h ] && echo 1)
EMU_N_sse41 = 1
EMU_N_avx2 = 2
EMU_N_avxvnni = 3
EMU_N_avx512 = 4
EMU_N_avx512vnni = 5
# an emulated level is compiled for the best native level below it
EMU_BASE = $(if $(filter avx2,$(X86_NATIVE)),$(if $(filter sse41 avx2,$(1)),,$(FLAGS_avx2)),$(if $(filter sse41,$(X86_NATIVE)),$(if $(filter sse41,$(1)),,$(FLAGS_sse41))))
EMU_FLAGS = $(call EMU_BASE,$(1)) -Wno-psabi -include tests/emu_x86.h -DQT_EMU=$(EMU_N_$(1))
# The emulated implementations at -O1 (after CFLAGS): what they check is the
# kernels' logic, lane for lane against the scalar reference, not the code
# GCC makes of SIMDe; the kernels' unrolled bodies are large, and -O2's RTL
# PRE alone grows faster than a function's size. The two AVX-512 ones then
# compile in 56 CPU s where -O2 took ~135 (AVX-512 VNNI: 34 s; 107 at -O2,
# 55 at -O2 -fno-gcse), for ~4 s more of running; their tests and the demo
# model's golden hashes (ktest_model) pass as at -O2. (Since, tests/emu_x86.h
# also turns off the micro-kernels' forced unrolling: AVX-512 VNNI 22 -> 10
# CPU s, AVX-512 14 -> 8 on a Zen 4.)
EMU_IMPL_OPT ?= -O1
x86dir = $(if $(filter $(1),$(X86_EMU)),x86emu-$(1),x86-$(1))
X86_KTESTS = $(foreach i,$(X86_ISAS),$(foreach t,$(KTESTS),$(BUILD)/$(call x86dir,$(i))/$(t)))
# the GEMM and conv kernel tests and the API contract (aliasing, misaligned
# and reused workspaces: a kernel that depends on an address shows there)
# against the demo's -O3 -march=native object
NATIVE_KTESTS = $(if $(filter sse41,$(X86_NATIVE)),$(addprefix $(BUILD)/native-O3/,ktest_gemm ktest_conv test_contract))

ARM_ISAS       = aarch64-neon aarch64-neondot armv7-neon
CC_aarch64     = aarch64-linux-gnu-gcc
CC_armv7       = arm-linux-gnueabihf-gcc
AFLAGS_aarch64-neon    = -march=armv8-a
AFLAGS_aarch64-neondot = -march=armv8.2-a+dotprod
# (armv7: NEON with VFPv4, Cortex-A7 / A15 and every ARMv8 core in AArch32.
# quant's Arm code chooses its paths by __aarch64__ and the dot product
# alone, so VFPv3 compiles the same source; what VFPv4 changes is fmaf, one
# vfma.f32 instead of libm's software routine, which made the PQ kernel
# tests 5x slower under qemu (17.5 -> 3.5 s). make matrix keeps the VFPv3
# build: armv7-numeric and the armv7 model hashes.)
AFLAGS_armv7-neon      = -march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard
AFLAGS_aarch64-scalar  = -DQUANT_NO_SIMD
EXPECT_aarch64-neon = neon
EXPECT_aarch64-neondot = neondot
EXPECT_armv7-neon = neon
EXPECT_aarch64-scalar = scalar
HAVE_CROSS := $(shell command -v $(CC_aarch64) >/dev/null 2>&1 && command -v $(CC_armv7) >/dev/null 2>&1 && \
                command -v qemu-aarch64 >/dev/null 2>&1 && command -v qemu-arm >/dev/null 2>&1 && echo 1)
# (the demo model's hashes, ktest_model, take 20-35 s each under qemu: on the
# dotprod build here, the neon and armv7 builds in make matrix; the scalar
# path runs on Arm and riscv64 in make matrix, on x86 here)
ARM_MODEL_ISAS = aarch64-neondot
# (the dotprod build differs from the neon one in the int8 GEMM micro-kernel
# (gemm, conv, the model) and the int4 dot: it runs those kernel tests; the
# others' kernels are the same NEON source on both, tested on the neon
# build; 6 s of qemu)
ARM_SKIP_aarch64-neondot = ktest_binary ktest_elementwise ktest_pq ktest_rows
ARM_KTESTS = $(if $(HAVE_CROSS),$(foreach i,$(ARM_ISAS),$(foreach t,$(filter-out $(ARM_SKIP_$(i)) $(if $(filter $(i),$(ARM_MODEL_ISAS)),,ktest_model),$(KTESTS)),$(BUILD)/$(i)/$(t))))

.PHONY: all test demo quickstart compile-check clean example-threads
all: $(TESTS) $(X86_KTESTS) $(ARM_KTESTS) $(BUILD)/quickstart $(BUILD)/threads $(BUILD)/demo $(BUILD)/quant-tool

$(BUILD):
	mkdir -p $(BUILD)

# The C test programs link one implementation object, as the kernel tests
# do (compiling it is most of a test's compile time). Tests that need an x86
# instruction set for an oracle (F16C) select it per function with target
# attributes and check the CPU at run time.
# (on x86-64 with no -m flags the library selects its scalar kernels: the
# object code of the scalar level's object, which is then linked instead)
HOST_ARCH := $(shell $(CC) -dumpmachine 2>/dev/null)
IMPL_O = $(if $(and $(filter x86_64%,$(HOST_ARCH)),$(filter scalar,$(X86_ISAS)),$(if $(filter -m%,$(CFLAGS)),,1)),$(BUILD)/x86-scalar/quant_impl.o,$(BUILD)/quant_impl.o)
$(BUILD)/quant_impl.o: tests/quant_impl.c $(HDRS) | $(BUILD)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) -I. -c $< -o $@
$(BUILD)/test_%: tests/test_%.c $(HDRS) examples/runner/runner.h $(IMPL_O)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) -DQT_SEPARATE_IMPL -I. $< $(IMPL_O) -o $@ -lm
# (test_pq compiles its own: it gives the library an allocator that fails on request)
$(BUILD)/test_pq: tests/test_pq.c $(HDRS) | $(BUILD)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) -I. $< -o $@ -lm

$(BUILD)/test_%: tests/test_%.cc $(HDRS) | $(BUILD)
	$(CXX) $(CXXSTD) $(CFLAGS) $(WARN) -Wno-unused-parameter -I. $< -o $@ -lm -lpthread

# Each build compiles the implementation once (tests/quant_impl.c, most of a
# test's compile time) and links it into its kernel tests (-DQT_SEPARATE_IMPL).
# The kernel tests' own code is the same at every level: each is compiled
# once per architecture ($(BUILD)/kt-<arch>/) and linked at every level with
# that level's implementation and expect.o, the name of the ISA the level
# must select (qt_expect_isa, tests/harness.h). ktest_model is compiled per
# level: it carries runner.h, whose fp32 code follows the level's flags.
$(BUILD)/kt-x86/%.o: tests/%.c $(HDRS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) -DQT_EXPECT_ISA_VAR -DQT_SEPARATE_IMPL -I. -c $< -o $@
# (kept: make would delete them as intermediate files after each build)
.PRECIOUS: $(BUILD)/kt-x86/%.o $(BUILD)/kt-aarch64/%.o $(BUILD)/kt-armv7/%.o
EXPECT_SRC = printf 'extern const char qt_expect_isa[];\nconst char qt_expect_isa[] = "%s";\n'
define X86_RULE
$(BUILD)/x86-$(1)/quant_impl.o: tests/quant_impl.c $(HDRS)
	@mkdir -p $$(dir $$@)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) $(FLAGS_$(1)) -I. -c $$< -o $$@
$(BUILD)/x86-$(1)/expect.o:
	@mkdir -p $$(dir $$@)
	@$(EXPECT_SRC) $(1) | $(CC) $(CSTD) $(CFLAGS) $(WARN) -x c -c - -o $$@
$(BUILD)/x86-$(1)/ktest_model: tests/ktest_model.c examples/runner/runner.h $(HDRS) $(BUILD)/x86-$(1)/quant_impl.o
	$(CC) $(CSTD) $(CFLAGS) $(WARN) $(FLAGS_$(1)) -DQT_EXPECT_ISA='"$(1)"' -DQT_SEPARATE_IMPL -I. $$< $(BUILD)/x86-$(1)/quant_impl.o -o $$@ -lm
$(BUILD)/x86-$(1)/%: $(BUILD)/kt-x86/%.o $(BUILD)/x86-$(1)/quant_impl.o $(BUILD)/x86-$(1)/expect.o
	$(CC) $(CFLAGS) $$^ -o $$@ -lm
ifeq ($(HAVE_SIMDE),1)
$(BUILD)/x86emu-$(1)/quant_impl.o: tests/quant_impl.c tests/emu_x86.h $(HDRS)
	@mkdir -p $$(dir $$@)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) $(call EMU_FLAGS,$(1)) $(EMU_IMPL_OPT) -I. -c $$< -o $$@
$(BUILD)/x86emu-$(1)/expect.o:
	@mkdir -p $$(dir $$@)
	@$(EXPECT_SRC) $(1) | $(CC) $(CSTD) $(CFLAGS) $(WARN) -x c -c - -o $$@
$(BUILD)/x86emu-$(1)/ktest_model: tests/ktest_model.c examples/runner/runner.h tests/emu_x86.h $(HDRS) $(BUILD)/x86emu-$(1)/quant_impl.o
	$(CC) $(CSTD) $(CFLAGS) $(WARN) $(call EMU_FLAGS,$(1)) -DQT_EXPECT_ISA='"$(1)"' -DQT_SEPARATE_IMPL -I. $$< $(BUILD)/x86emu-$(1)/quant_impl.o -o $$@ -lm
$(BUILD)/x86emu-$(1)/%: $(BUILD)/kt-x86/%.o $(BUILD)/x86emu-$(1)/quant_impl.o $(BUILD)/x86emu-$(1)/expect.o
	$(CC) $(CFLAGS) $$^ -o $$@ -lm
else
$(BUILD)/x86emu-$(1)/%:
	@mkdir -p $$(dir $$@)
	printf '#!/bin/sh\necho "libsimde-dev not installed (runs the $(1) kernels on this CPU, which lacks them)"\nexit 77\n' > $$@ && chmod +x $$@
endif
endef
$(foreach i,$(X86_ISAS),$(eval $(call X86_RULE,$(i))))

# (the Arm kernel tests' objects: with each architecture's base flags, the
# float ABI of armv7 included)
KTFLAGS_aarch64 = $(AFLAGS_aarch64-neon)
KTFLAGS_armv7   = $(AFLAGS_armv7-neon)
define ARM_KT_RULE
$(BUILD)/kt-$(1)/%.o: tests/%.c $(HDRS) | $(BUILD)
	@mkdir -p $$(dir $$@)
	$(CC_$(1)) $(CSTD) $(CFLAGS) $(WARN) $(KTFLAGS_$(1)) -DQT_EXPECT_ISA_VAR -DQT_SEPARATE_IMPL -I. -c $$< -o $$@
endef
$(foreach a,aarch64 armv7,$(eval $(call ARM_KT_RULE,$(a))))
define ARM_RULE
$(BUILD)/$(1)/quant_impl.o: tests/quant_impl.c $(HDRS)
	@mkdir -p $$(dir $$@)
	$(CC_$(firstword $(subst -, ,$(1)))) $(CSTD) $(CFLAGS) $(WARN) $(AFLAGS_$(1)) -I. -c $$< -o $$@
$(BUILD)/$(1)/expect.o:
	@mkdir -p $$(dir $$@)
	@$(EXPECT_SRC) $(EXPECT_$(1)) | $(CC_$(firstword $(subst -, ,$(1)))) $(CSTD) $(CFLAGS) $(WARN) $(AFLAGS_$(1)) -x c -c - -o $$@
$(BUILD)/$(1)/ktest_model: tests/ktest_model.c examples/runner/runner.h $(HDRS) $(BUILD)/$(1)/quant_impl.o
	$(CC_$(firstword $(subst -, ,$(1)))) $(CSTD) $(CFLAGS) $(WARN) $(AFLAGS_$(1)) -static \
	  -DQT_EXPECT_ISA='"$(EXPECT_$(1))"' -DQT_SEPARATE_IMPL -I. $$< $(BUILD)/$(1)/quant_impl.o -o $$@ -lm
$(BUILD)/$(1)/%: $(BUILD)/kt-$(firstword $(subst -, ,$(1)))/%.o $(BUILD)/$(1)/quant_impl.o $(BUILD)/$(1)/expect.o
	$(CC_$(firstword $(subst -, ,$(1)))) $(CFLAGS) $(AFLAGS_$(1)) -static $$^ -o $$@ -lm
endef
$(foreach i,$(ARM_ISAS),$(eval $(call ARM_RULE,$(i))))

# Two translation units, each with its own static copy of the library.
$(BUILD)/test_static_link: tests/static_a.c tests/static_b.c $(HDRS) | $(BUILD)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) -I. tests/static_a.c tests/static_b.c -o $@ -lm

$(BUILD)/quickstart: examples/quickstart.c quant.h | $(BUILD)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) -I. $< -o $@ -lm

# the worked example of tiles on 2 pthreads (native ISA)
$(BUILD)/threads: examples/threads.c $(HDRS) | $(BUILD)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) -march=native -I. $< -o $@ -lm -lpthread

example-threads: $(BUILD)/threads
	./$(BUILD)/threads

# The headers compile cleanly as C99 (gcc, clang) and C++11 / C++17, with
# and without the implementation (also QUANT_STATIC), at this CPU's level
# (-march=native); C11 declarations only (the optimized builds of every
# compiler, standard and level are in make matrix, the scalar level's in
# make test). Each compiler builds and links the implementation once per
# header; the QUANT_STATIC and C++ variants of quant_kernels.h, and
# clang's build of its implementation, are checked by the front end alone
# (-fsyntax-only: at -O0 the back end adds no diagnostics but the
# inline-asm checks, which gcc's C99 build has, the same asm as g++'s and
# clang's; make matrix builds it in full with clang), which
# saves ~19 s of a make test.
compile-check: | $(BUILD)
	@set -e; for ha in "quant.h:" "quant_kernels.h:-march=native"; do h=$${ha%%:*}; arch=$${ha#*:}; \
	  out="-o $(BUILD)/cc_check -lm"; fe=; [ $$h = quant.h ] || fe=-fsyntax-only; \
	  for cc in gcc clang; do command -v $$cc >/dev/null || { echo "compile-check: $$cc not installed: skipped (apt-get install $$cc)"; \
	    [ -z "$$QT_REQUIRE_ALL_DEPS" ] || exit 1; continue; }; \
	  printf '#include "%s"\nint main(void){return 0;}\n' $$h | $$cc -std=c11 $(WARN) $$arch -I. -x c - $$out; \
	  cout=$$out; [ $$cc = gcc ] || cout=$${fe:-$$out}; \
	  for impl in "" -DQUANT_IMPLEMENTATION; do \
	    printf '#include "%s"\nint main(void){return 0;}\n' $$h | $$cc -std=c99 $(WARN) $$arch $$impl -I. -x c - $$cout; \
	  done; \
	  printf '#include "%s"\nint main(void){return 0;}\n' $$h | $$cc -std=c99 $(WARN) $$arch -DQUANT_IMPLEMENTATION -DQUANT_STATIC -I. -x c - $${fe:-$$out}; \
	  done; \
	  for impl in "" -DQUANT_IMPLEMENTATION; do \
	    printf '#include "%s"\nint main(){return 0;}\n' $$h | g++ -std=c++11 $(WARN) $$arch $$impl -I. -x c++ - $${fe:-$$out}; \
	    printf '#include "%s"\nint main(){return 0;}\n' $$h | g++ -std=c++17 $(WARN) $$arch $$impl -I. -x c++ - $${fe:-$$out}; \
	  done; done; \
	awk '/<!-- snippet:begin -->/{f=1;next} /<!-- snippet:end -->/{f=0} f && !/^```/' README.md > $(BUILD)/readme_snippet.c; \
	$(CC) $(CSTD) $(WARN) -I. $(BUILD)/readme_snippet.c -o $(BUILD)/readme_snippet -lm; $(BUILD)/readme_snippet >/dev/null; \
	echo "compile-check: gcc/clang C99/C11, g++ C++11/C++17 clean; README snippet compiles and runs"

# Optional oracles and tools: without them make test skips what needs them,
# says so, and ends with the one apt-get line that enables the rest (CI sets
# QT_REQUIRE_ALL_DEPS=1: a skip is then a failure).
HAVE_GEMMLOWP := $(shell [ -f /usr/include/gemmlowp/fixedpoint/fixedpoint.h ] && echo 1)
HAVE_CLANG    := $(shell command -v clang >/dev/null 2>&1 && echo 1)
ifneq ($(HAVE_GEMMLOWP),1)
$(BUILD)/test_gemmlowp: | $(BUILD)
	printf '#!/bin/sh\necho "libgemmlowp-dev not installed (the fixed-point oracle)"\nexit 77\n' > $@ && chmod +x $@
endif

# make test: every program built and run, $(JOBS) jobs at a time (default:
# the CPUs), the slowest started first; each prints its line as it finishes
# (tests/run.sh --one, one target per program), then the totals, what was
# skipped and the one apt-get line that enables the rest.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
SLOW_TESTS = $(BUILD)/test_torch $(BUILD)/test_tool
# then the next slowest programs (CPU seconds on a 2-core Zen 4, 2026-12-07:
# the demo model under qemu 13, the observers 7, aarch64's GEMM tests under
# qemu 6), then the rest
LONG_TESTS = $(filter $(BUILD)/aarch64-neondot/ktest_model $(BUILD)/aarch64-neon/ktest_gemm,$(ARM_KTESTS)) $(BUILD)/test_observers
ALL_TESTS  = $(SLOW_TESTS) $(LONG_TESTS) $(filter-out $(LONG_TESTS),$(ARM_KTESTS)) $(filter-out $(SLOW_TESTS) $(LONG_TESTS),$(TESTS)) \
             $(X86_KTESTS) $(NATIVE_KTESTS)
# the longest compile on a CPU without AVX-512, the implementation of the
# emulated AVX-512 VNNI level, starts first, with the slow and long
# programs' prerequisites
EMU_FIRST  = $(if $(HAVE_SIMDE),$(patsubst %,$(BUILD)/x86emu-%/quant_impl.o,$(filter avx512vnni,$(X86_EMU))))
RESULTS    = $(addsuffix .res,$(ALL_TESTS))
.PHONY: test-all FORCE
# (first the slow and long programs and what they need, so that they start
# first: make starts jobs in the order of test-all's prerequisites, skipping
# a result whose program is still being built, and comes back to it only
# after starting every later job it can: a long program linked a moment
# late would start minutes late)
JFLAG = $(if $(filter -j% --jobserver%,$(MAKEFLAGS)),,-j$(JOBS))
test:
	@$(MAKE) --no-print-directory $(JFLAG) $(EMU_FIRST) $(SLOW_TESTS) $(LONG_TESTS)
	@$(MAKE) --no-print-directory $(JFLAG) test-all
FORCE:
$(RESULTS): %.res: % FORCE
	@sh tests/run.sh --one $< $@
test-all: $(RESULTS) compile-check
	@if [ -z "$(HAVE_CROSS)" ]; then \
	  echo "note: Arm builds not tested (install gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf qemu-user)"; \
	  if [ -n "$$QT_REQUIRE_CROSS" ]; then echo "QT_REQUIRE_CROSS is set: failing"; exit 1; fi; fi
	@[ -z "$(X86_EMU)" ] || echo "x86 levels this CPU lacks, run through SIMDe (x86emu-*): $(X86_EMU)"
	@sh tests/run.sh --sum $(RESULTS); rc=$$?; \
	miss="$(if $(HAVE_GEMMLOWP),,libgemmlowp-dev) $(if $(HAVE_CLANG),,clang) $(if $(X86_EMU),$(if $(HAVE_SIMDE),,libsimde-dev)) $(if $(HAVE_CROSS),,gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user)"; \
	/usr/bin/python3 -c "import torch, numpy" >/dev/null 2>&1 || miss="$$miss python3-torch python3-numpy"; \
	[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || miss="$$miss dataset-fashion-mnist"; \
	miss=$$(echo $$miss); \
	if [ -n "$$miss" ]; then echo "skipped for want of packages; to run everything: apt-get install $$miss"; \
	  if [ -n "$$QT_REQUIRE_ALL_DEPS" ]; then echo "QT_REQUIRE_ALL_DEPS is set: failing"; rc=1; fi; fi; \
	exit $$rc

# the main job: the Fashion-MNIST models in every mode (models/ and
# examples/data/ are committed; no Python, no network)
DEMO_CFLAGS ?= -O3 -march=native
$(BUILD)/native-O3/quant_impl.o: tests/quant_impl.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(DEMO_CFLAGS) $(WARN) -I. -c $< -o $@
# The GEMM and conv kernel tests once more against that build (on x86-64;
# NATIVE_KTESTS, with the other test lists above): tuning for this CPU
# changes the code the tests see (GCC 12's -mtune=znver3 once vectorized the
# epilogue's column setup wrongly: every F32 output 0).
$(BUILD)/native-O3/expect.o:
	@mkdir -p $(dir $@)
	@$(EXPECT_SRC) $(lastword $(X86_NATIVE)) | $(CC) $(CSTD) $(CFLAGS) $(WARN) -x c -c - -o $@
$(BUILD)/native-O3/ktest_%: $(BUILD)/kt-x86/ktest_%.o $(BUILD)/native-O3/quant_impl.o $(BUILD)/native-O3/expect.o
	$(CC) $(CFLAGS) $^ -o $@ -lm
$(BUILD)/native-O3/test_contract: tests/test_contract.c tests/harness.h $(HDRS) $(BUILD)/native-O3/quant_impl.o
	$(CC) $(CSTD) $(CFLAGS) $(WARN) -DQT_SEPARATE_IMPL -I. $< $(BUILD)/native-O3/quant_impl.o -o $@ -lm
$(BUILD)/demo: examples/runner/demo.c examples/runner/runner.h $(HDRS) $(BUILD)/native-O3/quant_impl.o
	$(CC) $(CSTD) $(DEMO_CFLAGS) $(WARN) -DQT_SEPARATE_IMPL -I. -Iexamples/runner $< $(BUILD)/native-O3/quant_impl.o -o $@ -lm

# the tools: inspect, quantize, eval (tools/quant_tool.c)
TOOL_CFLAGS ?= -O2 -march=native   # make check: the sanitizers
# (the implementation, most of the compile, in an object of its own, linked
# beside the tool's own code: on x86 the kernel tests' object of the best
# level this CPU runs, the same kernels -march=native selects, compiled once
# for both; elsewhere one built with TOOL_CFLAGS)
TOOL_LEVEL = $(lastword $(filter $(X86_ISAS),$(X86_NATIVE)))
TOOL_IMPL  = $(if $(TOOL_LEVEL),$(BUILD)/x86-$(TOOL_LEVEL)/quant_impl.o,$(BUILD)/native/quant_impl.o)
$(BUILD)/native/quant_impl.o: tests/quant_impl.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(TOOL_CFLAGS) $(WARN) -I. -c $< -o $@
$(BUILD)/quant-tool: tools/quant_tool.c tools/qt_write.h examples/runner/runner.h examples/runner/data.h $(HDRS) $(TOOL_IMPL)
	$(CC) $(CSTD) $(TOOL_CFLAGS) $(WARN) -D_POSIX_C_SOURCE=200809L -DQT_SEPARATE_IMPL -I. -Iexamples/runner $< $(TOOL_IMPL) -o $@ -lm

# the ISA selection and its opt-outs, by the preprocessor (a shell script)
$(BUILD)/test_isa_select: tests/test_isa_select.sh $(HDRS) | $(BUILD)
	cp tests/test_isa_select.sh $@ && chmod +x $@

# the tools end to end (a shell script: build/test_tool runs it from the project root)
$(BUILD)/test_tool: tests/test_tool.sh $(BUILD)/quant-tool $(BUILD)/test_runner
	cp tests/test_tool.sh $@ && chmod +x $@

# models made elsewhere: PyTorch models exported by the test
# itself (tests/torch_models.py with the weights it trained, committed in
# tests/torch_weights/; tools/export.py), run by tests/torch_check.c
# (torch_check's own code, with the runner's fp32 layers, at the demo's -O3:
# bit for bit the same outputs as at -O2, in 25% less time, most of its 37
# CPU s being the fp32 passes over the 10000 test images; the kernels are
# the tool's object. The sanitizer builds of make check keep their flags.)
TORCH_CHECK_CFLAGS = $(TOOL_CFLAGS) $(if $(findstring sanitize,$(TOOL_CFLAGS)),,-O3)
$(BUILD)/torch_check: tests/torch_check.c examples/runner/runner.h $(HDRS) $(TOOL_IMPL)
	$(CC) $(CSTD) $(TORCH_CHECK_CFLAGS) $(WARN) -DQT_SEPARATE_IMPL -I. -Iexamples/runner $< $(TOOL_IMPL) -o $@ -lm
# (the exported models are kept in $(TORCH_CACHE) for the next run; make
# check's sanitizer builds, in folders of $(BUILD), share them)
TORCH_CACHE ?= $(CURDIR)/$(BUILD)/torch-cache
$(BUILD)/test_torch: tests/test_torch.sh tests/torch_models.py tools/export.py $(wildcard tests/torch_weights/*.npz) $(BUILD)/torch_check
	printf '#!/bin/sh\nQT_TORCH_CHECK=$(CURDIR)/$(BUILD)/torch_check QT_TORCH_CACHE=$(TORCH_CACHE) exec sh $(CURDIR)/tests/test_torch.sh "$$@"\n' > $@ && chmod +x $@

demo: $(BUILD)/demo
	./$(BUILD)/demo models examples/data

quickstart: $(BUILD)/quickstart
	./$(BUILD)/quickstart

clean:
	rm -rf $(BUILD)

# make check: the whole native suite (every test program, the kernel tests
# at every x86 level) under AddressSanitizer + UndefinedBehaviorSanitizer,
# built with gcc and with clang; then the demo under valgrind memcheck
# (an AVX2 build: valgrind has no AVX-512; a few images so it takes ~2 min).
SANFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
.PHONY: check check-gcc check-clang check-valgrind check-tsan symbols determinism test-native
test-native: $(TESTS) $(X86_KTESTS)
	@sh tests/run.sh $(TESTS) $(X86_KTESTS)

CHECK_ISAS ?= $(X86_ISAS)   # CI: a subset, for time (every level is in make test and the matrix)
# Only the levels this CPU runs natively: SIMDe's portable intrinsics (the
# emulated levels) add and subtract in signed C types, which UBSan reports
# as overflow where the instruction wraps (seen on Zen 3: _mm512_sub_epi32,
# _mm512_add_epi16). The emulated levels run unsanitized in make test.
CHECK_EMU = $(filter-out $(X86_NATIVE),$(CHECK_ISAS))
check-gcc:
	@[ -z "$(CHECK_EMU)" ] || echo "check-gcc: not under the sanitizers (emulated on this CPU, tested in make test): $(CHECK_EMU)"
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/check-gcc TORCH_CACHE=$(TORCH_CACHE) CC=gcc CXX=g++ CFLAGS="$(SANFLAGS)" TOOL_CFLAGS="$(SANFLAGS) -march=native" HAVE_CROSS= \
	  X86_ISAS="$(filter $(X86_NATIVE),$(CHECK_ISAS))" test-native
# every test program; the kernel tests at the scalar level and the best one
# this CPU runs natively (gcc covers all six; clang's sanitized builds of the
# SIMDe-emulated AVX-512 take ten minutes to compile)
check-clang:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/check-clang TORCH_CACHE=$(TORCH_CACHE) CC=clang CXX=clang++ CFLAGS="$(SANFLAGS)" TOOL_CFLAGS="$(SANFLAGS) -march=native" HAVE_CROSS= \
	  X86_ISAS="scalar $(lastword $(X86_NATIVE))" test-native

$(BUILD)/demo-valgrind: examples/runner/demo.c examples/runner/runner.h $(HDRS) | $(BUILD)
	$(CC) $(CSTD) -O2 -g -march=x86-64-v3 $(WARN) -I. -Iexamples/runner $< -o $@ -lm
check-valgrind: $(BUILD)/demo-valgrind
	@QUANT_DEMO_IMAGES=8 valgrind --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=all --show-leak-kinds=all \
	  ./$(BUILD)/demo-valgrind models examples/data $(BUILD)/valgrind.svg > $(BUILD)/valgrind.out 2> $(BUILD)/valgrind.log \
	  || { tail -n 60 $(BUILD)/valgrind.log; echo "valgrind: errors or leaks in the demo"; exit 1; }
	@grep -E "ERROR SUMMARY|All heap blocks|definitely lost" $(BUILD)/valgrind.log | sed 's/^==[0-9]*== /valgrind demo: /'

# the kernels from 4 threads under ThreadSanitizer (tests/test_threads.c)
check-tsan: | $(BUILD)
	clang $(CSTD) -O1 -g -march=native -fsanitize=thread $(WARN) -I. tests/test_threads.c -o $(BUILD)/test_threads_tsan -lm -lpthread
	@TSAN_OPTIONS=halt_on_error=1 ./$(BUILD)/test_threads_tsan | tail -n 1

# only quant_-prefixed symbols are exported (gcc, clang, g++), none with QUANT_STATIC
symbols: | $(BUILD)
	@set -e; for cc in "gcc -x c -std=c99" "clang -x c -std=c99" "g++ -x c++ -std=c++11"; do \
	  printf '#define QUANT_IMPLEMENTATION\n#include "quant_kernels.h"\n' | $$cc -O2 -march=native $(WARN) -I. -c - -o $(BUILD)/sym.o; \
	  bad=$$(nm -g --defined-only $(BUILD)/sym.o | awk '{print $$3}' | grep -v '^quant_' || true); \
	  n=$$(nm -g --defined-only $(BUILD)/sym.o | wc -l); \
	  if [ -n "$$bad" ]; then echo "symbols ($$cc): exported without the quant_ prefix: $$bad"; exit 1; fi; \
	  printf '#define QUANT_IMPLEMENTATION\n#define QUANT_STATIC\n#include "quant_kernels.h"\n' | $$cc -O2 -march=native $(WARN) -I. -c - -o $(BUILD)/sym_static.o; \
	  ns=$$(nm -g --defined-only $(BUILD)/sym_static.o | wc -l); \
	  if [ "$$ns" != 0 ]; then echo "symbols ($$cc): QUANT_STATIC exports $$ns symbols"; exit 1; fi; \
	  echo "symbols ($$cc): $$n exported, all quant_; QUANT_STATIC: none"; done

# identical outputs across runs and optimisation levels: the demo's per-mode
# output hashes (every mode, every output probability) at -O0 and -O3, twice
determinism: $(BUILD)/demo | $(BUILD)
	$(CC) $(CSTD) -O0 -march=native $(WARN) -I. -Iexamples/runner examples/runner/demo.c -o $(BUILD)/demo-O0 -lm
	@set -e; for b in demo demo-O0; do for r in 1 2; do \
	  QUANT_DEMO_IMAGES=6 ./$(BUILD)/$$b models examples/data $(BUILD)/det.svg | grep -o 'outputs [0-9a-f]*' > $(BUILD)/det-$$b-$$r.txt; done; done; \
	n=$$(wc -l < $(BUILD)/det-demo-1.txt); \
	if [ "$$n" -lt 10 ]; then echo "determinism: only $$n modes ran"; exit 1; fi; \
	for f in demo-2 demo-O0-1 demo-O0-2; do cmp -s $(BUILD)/det-demo-1.txt $(BUILD)/det-$$f.txt || { echo "determinism: $$f differs"; exit 1; }; done; \
	echo "determinism: $$n modes, identical output hashes over 2 runs x -O0 / -O3"

check: check-gcc check-clang check-valgrind check-tsan symbols determinism

# Benchmarks (bench/bench.mk): make bench, make bench-compare, make bench-isa
-include bench/bench.mk
-include bench/pq.mk
-include fuzz/fuzz.mk
-include examples/dispatch.mk
include tests/matrix.mk

# test_dispatch (examples/dispatch.mk) in this Makefile's builds: the program
# takes quant.h's scalar references (its oracle) from the test programs'
# implementation object, $(IMPL_O), instead of compiling quant.h's
# implementation once more (8 CPU s); and the copies of the levels this CPU
# cannot run are compiled at -O1: here they are compiled and linked, never
# called (their kernels are checked by the emulated kernel tests, x86emu-*),
# and -O1 keeps GCC's flow-based warnings (11 of their 22 CPU s at -O2 saved
# on an AVX2 CPU). A CPU that has a level builds its copy at $(CFLAGS) and
# runs it.
# (override: also when CFLAGS is given on the command line, as make check does)
$(BUILD)/dispatch: private override CFLAGS += -DDISPATCH_REF_LINKED
$(BUILD)/dispatch: private DISPATCH_OBJS += $(IMPL_O)
$(BUILD)/dispatch: $(IMPL_O)
DISPATCH_NOT_RUN = $(filter-out $(X86_NATIVE),$(filter $(X86_ISAS),$(DISPATCH_LEVELS)))
# (and without the micro-kernels' forced unrolling, as the emulated builds:
# on an AVX2 CPU the avx512vnni copy 4.9 -> 3.4 CPU s)
$(foreach l,$(DISPATCH_NOT_RUN),$(eval $(BUILD)/dispatch-obj/$(l).o: private override CFLAGS += -O1 -DQUANT__UNROLL=))
