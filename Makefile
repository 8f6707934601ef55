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
TESTS     = $(C_TESTS) $(CXX_TESTS) $(BUILD)/test_static_link
HDRS      = quant.h $(wildcard quant_kernels.h) tests/harness.h

.PHONY: all test demo compile-check clean
all: $(TESTS) $(BUILD)/quickstart

$(BUILD):
	mkdir -p $(BUILD)

# Tests that need an x86 instruction set for an oracle (F16C) select it per
# function with target attributes and check the CPU at run time.
$(BUILD)/test_%: tests/test_%.c $(HDRS) | $(BUILD)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) -I. $< -o $@ -lm

$(BUILD)/test_%: tests/test_%.cc $(HDRS) | $(BUILD)
	$(CXX) $(CXXSTD) $(CFLAGS) $(WARN) -Wno-unused-parameter -I. $< -o $@ -lm -lpthread

# Two translation units, each with its own static copy of the library.
$(BUILD)/test_static_link: tests/static_a.c tests/static_b.c $(HDRS) | $(BUILD)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) -I. tests/static_a.c tests/static_b.c -o $@ -lm

$(BUILD)/quickstart: examples/quickstart.c quant.h | $(BUILD)
	$(CC) $(CSTD) $(CFLAGS) $(WARN) -I. $< -o $@ -lm

# The headers compile cleanly as C99 (gcc, clang) and C++11, with and
# without the implementation.
compile-check: | $(BUILD)
	@set -e; for cc in gcc clang; do command -v $$cc >/dev/null || { echo "$$cc missing"; exit 1; }; \
	  for impl in "" -DQUANT_IMPLEMENTATION -DQUANT_IMPLEMENTATION\ -DQUANT_STATIC; do \
	    printf '#include "quant.h"\nint main(void){return 0;}\n' | $$cc -std=c99 $(WARN) $$impl -I. -x c - -o $(BUILD)/cc_check -lm; \
	    printf '#include "quant.h"\nint main(void){return 0;}\n' | $$cc -std=c11 $(WARN) $$impl -I. -x c - -o $(BUILD)/cc_check -lm; \
	  done; done; \
	for impl in "" -DQUANT_IMPLEMENTATION; do \
	  printf '#include "quant.h"\nint main(){return 0;}\n' | g++ -std=c++11 $(WARN) $$impl -I. -x c++ - -o $(BUILD)/cc_check -lm; \
	  printf '#include "quant.h"\nint main(){return 0;}\n' | g++ -std=c++17 $(WARN) $$impl -I. -x c++ - -o $(BUILD)/cc_check -lm; \
	done; \
	awk '/<!-- snippet:begin -->/{f=1;next} /<!-- snippet:end -->/{f=0} f && !/^```/' README.md > $(BUILD)/readme_snippet.c; \
	$(CC) $(CSTD) $(WARN) -I. $(BUILD)/readme_snippet.c -o $(BUILD)/readme_snippet -lm; ./$(BUILD)/readme_snippet >/dev/null; \
	echo "compile-check: gcc/clang C99/C11, g++ C++11/C++17 clean; README snippet compiles and runs"

test: compile-check $(TESTS)
	@sh tests/run.sh $(TESTS)

demo: $(BUILD)/quickstart
	./$(BUILD)/quickstart

clean:
	rm -rf $(BUILD)
