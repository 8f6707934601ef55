# libFuzzer targets (clang): make fuzz [FUZZ_SECONDS=20]
# Each target runs on its committed seed corpus (fuzz/corpus/<target>) plus
# a scratch corpus in build/fuzz/; a finding stops it with a non-zero exit
# and a crash-* file. Minimize corpora with `make fuzz-merge`.
FUZZ_TARGETS = model idx params quantize pack gemm roundtrip data
FUZZ_SECONDS ?= 20
FUZZ_CC      ?= clang
FUZZ_FLAGS    = -std=c99 -g -O1 -march=native -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                -Wall -Wextra -Werror
FUZZ_BINS     = $(foreach t,$(FUZZ_TARGETS),$(BUILD)/fuzz/fuzz_$(t))
FUZZ_DICT_model = -dict=fuzz/model.dict

$(BUILD)/fuzz/quant_impl.o: tests/quant_impl.c $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -I. -c $< -o $@
$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_util.h $(HDRS) examples/runner/runner.h examples/runner/data.h tools/qt_write.h $(BUILD)/fuzz/quant_impl.o
	$(FUZZ_CC) $(FUZZ_FLAGS) -DQT_SEPARATE_IMPL -I. -Iexamples/runner $< $(BUILD)/fuzz/quant_impl.o -o $@ -lm

.PHONY: fuzz fuzz-build fuzz-merge
fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(BUILD)/fuzz/work-$$t fuzz/corpus/$$t; \
	  dict=""; [ $$t = model ] && dict="$(FUZZ_DICT_model)"; \
	  if ! $(BUILD)/fuzz/fuzz_$$t $$dict -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 \
	       -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/work-$$t fuzz/corpus/$$t > $(BUILD)/fuzz/$$t.log 2>&1; then \
	    tail -n 40 $(BUILD)/fuzz/$$t.log; echo "fuzz_$$t: FINDING (see $(BUILD)/fuzz/$$t.log)"; exit 1; fi; \
	  printf 'fuzz_%-9s %s\n' $$t "$$(grep -E '^#[0-9]+.*DONE' $(BUILD)/fuzz/$$t.log | sed 's/ *cov:.*exec\/s/ exec\/s/' | tail -n 1)"; \
	done

# fold the scratch corpora into the committed seed corpora, minimized
fuzz-merge: $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do mkdir -p fuzz/corpus/$$t $(BUILD)/fuzz/work-$$t; \
	  $(BUILD)/fuzz/fuzz_$$t -merge=1 -rss_limit_mb=2048 fuzz/corpus/$$t $(BUILD)/fuzz/work-$$t > $(BUILD)/fuzz/merge-$$t.log 2>&1; \
	  echo "fuzz/corpus/$$t: $$(ls fuzz/corpus/$$t | wc -l) files"; done
