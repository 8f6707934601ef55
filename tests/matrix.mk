# tests/matrix.mk - the compile matrix (make matrix; CI runs it). Every build
# is warning-free under -Wall -Wextra -Wpedantic -Werror and runs its tests:
#   gcc, clang x C99, C11 x -O0, -O3 (native ISA)       test_core, test_contract, ktest_gemm (-O3)
#   g++, clang++ x C++11, C++17 x -O0, -O3 (the C tests compiled as C++)
#   clang -O2 at every x86 level (gcc's are in make test) ktest_gemm, ktest_binary, ktest_q4
#   gcc AVX2 with QUANT_NO_ASM (the C forms of the inline asm)  ktest_gemm, ktest_conv
#     (levels this CPU lacks through SIMDe, tests/emu_x86.h, as in make test)
#   i686 (32-bit, size_t of 32 bits; SSE2 float math: the tests compare float
#     expressions exactly, which x87's excess precision breaks) at three x86
#     levels: the numeric tests and every kernel test. (AVX-512 in 32-bit mode:
#     the 4-bit fast scan miscompares at -O1 and up, not with -fno-inline; open.)
#     Where the kernel cannot exec 32-bit binaries (no ia32 emulation, as on
#     the CI machine) tests/run.sh runs them under qemu-i386 -cpu max; there
#     test_observers alone takes 6 minutes, so CI (MX_CI=1) leaves
#     test_observers and test_pq out of the i686 set (their float code has no
#     size_t- or ISA-dependent path that the other i686 tests do not cover).
#   aarch64, armhf (qemu): elementwise, binary, runner, contract tests (their
#     kernel tests are in make test); aarch64 scalar: every kernel test;
#     aarch64 neon and armv7 neon: the demo model's hashes (ktest_model)
#   riscv64 (qemu, the scalar path): the same and every kernel test
MX = $(BUILD)/matrix
MX_W = -Wall -Wextra -Wpedantic -Werror
MX_TESTS_LANG = test_core ktest_gemm
MX_BINS :=

# $(1) config name, $(2) compiler command and flags, $(3) test names, $(4) source language flag
# (the kernel tests link the build's one implementation object, as in the Makefile)
define MX_CONFIG
$(foreach t,$(3),$(eval MX_BINS += $(MX)/$(1)/$(t)))
$(MX)/$(1)/quant_impl.o: tests/quant_impl.c $(HDRS)
	@mkdir -p $$(dir $$@)
	$(2) $(MX_W) -I. $(4) -c $$< -o $$@
$(MX)/$(1)/ktest_%: tests/ktest_%.c $(HDRS) $(MX)/$(1)/quant_impl.o
	$(2) $(MX_W) -I. -DQT_SEPARATE_IMPL $(4) $$< -x none $(MX)/$(1)/quant_impl.o -o $$@ -lm
$(MX)/$(1)/test_contract $(MX)/$(1)/test_runner: $(MX)/$(1)/%: tests/%.c $(HDRS) examples/runner/runner.h $(MX)/$(1)/quant_impl.o
	$(2) $(MX_W) -I. -DQT_SEPARATE_IMPL $(4) $$< -x none $(MX)/$(1)/quant_impl.o -o $$@ -lm
$(MX)/$(1)/%: tests/%.c $(HDRS) examples/runner/runner.h
	@mkdir -p $$(dir $$@)
	$(2) $(MX_W) -I. $(4) $$< -o $$@ -lm
endef

# (ktest_gemm's exhaustive shapes run only at -O3: at -O0 they take minutes)
$(foreach cc,gcc clang,$(foreach std,c99 c11,$(foreach o,O0 O3,\
  $(eval $(call MX_CONFIG,$(cc)-$(std)-$(o),$(cc) -std=$(std) -$(o) -march=native,test_core test_contract $(if $(filter O3,$(o)),ktest_gemm),)))))
$(foreach cc,g++ clang++,$(foreach std,c++11 c++17,$(foreach o,$(if $(filter 1,$(MX_CI)),O3,O0 O3),\
  $(eval $(call MX_CONFIG,$(subst +,x,$(cc))-$(subst +,x,$(std))-$(o),$(cc) -std=$(std) -$(o) -march=native,test_core $(if $(filter O3,$(o)),ktest_gemm),-x c++)))))
ifneq ($(MX_CI),1) # CI time: gcc's builds of every level are in make test
$(foreach i,$(X86_NATIVE),$(eval $(call MX_CONFIG,clang-$(i),clang -std=c99 -O2 $(FLAGS_$(i)) -DQT_EXPECT_ISA='"$(i)"',ktest_gemm ktest_binary ktest_q4,)))
$(if $(HAVE_SIMDE),$(foreach i,$(X86_EMU),$(eval $(call MX_CONFIG,clangemu-$(i),clang -std=c99 -O2 $(call EMU_FLAGS,$(i)) -DQT_EXPECT_ISA='"$(i)"',ktest_gemm ktest_binary ktest_q4,))))
endif

# the C forms of what GCC and clang build from inline asm (QUANT_NO_ASM: as
# other compilers build it; AVX2's three-row sign kernel)
$(if $(filter avx2,$(X86_NATIVE)),$(eval $(call MX_CONFIG,gcc-avx2-noasm,gcc -std=c99 -O2 $(FLAGS_avx2) -DQUANT_NO_ASM -DQT_EXPECT_ISA='"avx2"',ktest_gemm ktest_conv,)))

MX_NUMERIC = test_core test_elementwise test_observers test_binary_q test_pq test_runner test_contract
MX_NUMERIC_I686 = $(if $(filter 1,$(MX_CI)),$(filter-out test_observers test_pq,$(MX_NUMERIC)),$(MX_NUMERIC))
MX_EMULATED = test_elementwise test_binary_q test_runner test_contract  # (test_core's exhaustive loops take minutes under qemu)
HAVE_I686 := $(shell command -v i686-linux-gnu-gcc >/dev/null 2>&1 && echo 1)
HAVE_RV64 := $(shell command -v riscv64-linux-gnu-gcc >/dev/null 2>&1 && command -v qemu-riscv64 >/dev/null 2>&1 && echo 1)
ifeq ($(HAVE_I686),1)
$(eval $(call MX_CONFIG,i686,i686-linux-gnu-gcc -std=c99 -O2 -static -msse2 -mfpmath=sse -DQUANT_NO_SIMD -DQT_EXPECT_ISA='"scalar"',$(MX_NUMERIC_I686) $(KTESTS),))
$(foreach i,$(if $(filter 1,$(MX_CI)),avx2,sse41 avx2),$(eval $(call MX_CONFIG,i686-$(i),i686-linux-gnu-gcc -std=c99 -O2 -static $(FLAGS_$(i)) -mfpmath=sse -DQT_EXPECT_ISA='"$(i)"',$(KTESTS),)))
endif
ifeq ($(HAVE_CROSS),1)
$(eval $(call MX_CONFIG,aarch64-numeric,$(CC_aarch64) -std=c99 -O2 -static,$(MX_EMULATED),))
$(eval $(call MX_CONFIG,armv7-numeric,$(CC_armv7) -std=c99 -O2 -static -march=armv7-a -mfpu=neon -mfloat-abi=hard,$(MX_EMULATED),))
# (make test's Arm builds are neon, neondot and armv7; the aarch64 scalar
# kernel tests and the neon and armv7 builds' model hashes run here)
$(eval $(call MX_CONFIG,aarch64-scalar,$(CC_aarch64) -std=c99 -O2 -static -DQUANT_NO_SIMD -DQT_EXPECT_ISA='"scalar"',$(KTESTS),))
$(eval $(call MX_CONFIG,aarch64-neon,$(CC_aarch64) -std=c99 -O2 -static -march=armv8-a -DQT_EXPECT_ISA='"neon"',ktest_model,))
$(eval $(call MX_CONFIG,armv7-neon,$(CC_armv7) -std=c99 -O2 -static -march=armv7-a -mfpu=neon -mfloat-abi=hard -DQT_EXPECT_ISA='"neon"',ktest_model,))
endif
ifeq ($(HAVE_RV64),1)
$(eval $(call MX_CONFIG,riscv64-scalar,riscv64-linux-gnu-gcc -std=c99 -O2 -static -DQT_EXPECT_ISA='"scalar"',$(MX_EMULATED) $(KTESTS),))
endif

.PHONY: matrix
matrix: $(MX_BINS)
	@if [ -n "$$QT_REQUIRE_CROSS" ] && [ -z "$(HAVE_I686)$(HAVE_RV64)" -o -z "$(HAVE_I686)" -o -z "$(HAVE_RV64)" -o -z "$(HAVE_CROSS)" ]; then \
	  echo "matrix: a cross compiler or qemu is missing and QT_REQUIRE_CROSS is set"; exit 1; fi
	@echo "matrix: $(words $(MX_BINS)) builds, each -Wall -Wextra -Wpedantic -Werror; running their tests"
	@sh tests/run.sh $(MX_BINS)
