# Test targets. `make check` runs every suite; each suite script exits
# non-zero on any failure or unlisted skip.
TEST_CFLAGS = -std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter $(WERROR) -D_GNU_SOURCE -Iinclude -Ishim

.PHONY: check check-unit check-conformance check-clients
check: all test-deps
	@./tests/run-all.sh

# The differential fuzzer (tests/fuzz/suite.sh): make check runs its
# fixed seeds (tests/suite-fuzz.sh); long campaigns with other seeds:
# make fuzz SEEDS="4 5 6" CALLS=100000 (divergences printed per call).
SEEDS ?= 1 2 3 4
CALLS ?= 2000
.PHONY: fuzz
fuzz: all
	@FUZZ_SEEDS="$(SEEDS)" FUZZ_CALLS="$(CALLS)" FUZZ_VERBOSE=1 bash tests/fuzz/suite.sh
