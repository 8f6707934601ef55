# examples/dispatch.mk - one binary carrying a build of the kernels per
# instruction-set level, chosen at run time by CPUID (examples/dispatch.c).
# Included by the Makefile; alone: make -f examples/dispatch.mk BUILD=b b/test_dispatch
#
#   $(BUILD)/dispatch       the example (--help; --all; --bench)
#   $(BUILD)/test_dispatch  the same with --all as its default: every copy this
#                           CPU can run gives the reference's bytes (make test)
#
# The levels' flags are the kernel tests' (FLAGS_<level> in the Makefile).
# A native x86 build links six copies, aarch64 two (scalar, neon), others one.
CC   ?= gcc
CSTD ?= -std=c99
WARN ?= -Wall -Wextra -Wpedantic -Werror
CFLAGS ?= -O2
BUILD ?= build
HDRS ?= quant.h quant_kernels.h
FLAGS_scalar     ?= -DQUANT_NO_SIMD
FLAGS_sse41      ?= -msse4.1
FLAGS_avx2       ?= -mavx2 -mfma
FLAGS_avxvnni    ?= -mavx2 -mfma -mavxvnni
FLAGS_avx512     ?= -mavx512f -mavx512bw -mavx512vl -mfma
FLAGS_avx512vnni ?= -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mavx512vpopcntdq -mavx512vbmi -mfma

DISPATCH_ARCH := $(shell $(CC) -dumpmachine 2>/dev/null)
ifneq ($(filter x86_64% i386% i486% i586% i686%,$(DISPATCH_ARCH)),)
DISPATCH_LEVELS = scalar sse41 avx2 avxvnni avx512 avx512vnni
else ifneq ($(filter aarch64%,$(DISPATCH_ARCH)),)
DISPATCH_LEVELS = scalar neon
else
DISPATCH_LEVELS = scalar
endif
DISPATCH_OBJS = $(foreach l,$(DISPATCH_LEVELS),$(BUILD)/dispatch-obj/$(l).o)
DISPATCH_DEPS = $(HDRS) examples/dispatch/dispatch.h

# one object per level: the same source, that level's flags
$(BUILD)/dispatch-obj/%.o: examples/dispatch/kernels.c $(DISPATCH_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) $(FLAGS_$*) -DDISPATCH_LEVEL=$* -I. -c $< -o $@

# the program itself is built without ISA flags: it must start on any CPU
$(BUILD)/dispatch: examples/dispatch.c $(DISPATCH_OBJS) $(DISPATCH_DEPS)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) -I. $< $(DISPATCH_OBJS) -o $@ -lm
# the test: the same program, run with --all (one binary, compiled once)
$(BUILD)/test_dispatch: $(BUILD)/dispatch
	printf '#!/bin/sh\nexec "%s" --all "$$@"\n' "$(CURDIR)/$<" > $@ && chmod +x $@

# The selection on other CPUs: the test under qemu-x86_64's CPU models, each
# with the copy it must select (qemu's TCG has no AVX-512, so the models show
# scalar, sse41 and avx2; the copies above those are "not run" there).
DISPATCH_EMU = qemu64:scalar Nehalem:sse41 Haswell:avx2
.PHONY: dispatch-emu
dispatch-emu: $(BUILD)/test_dispatch
	@command -v qemu-x86_64 >/dev/null || { echo "dispatch-emu: qemu-x86_64 not installed (apt-get install qemu-user)"; exit 1; }
	@for e in $(DISPATCH_EMU); do cpu=$${e%%:*}; lvl=$${e#*:}; \
	  out=$$(DISPATCH_EXPECT=$$lvl qemu-x86_64 -cpu $$cpu $(BUILD)/test_dispatch 2>&1) || { echo "$$out"; exit 1; }; \
	  printf 'qemu-x86_64 -cpu %-8s selects %-7s %s\n' $$cpu $$lvl "$$(echo "$$out" | tail -n 1)"; done
