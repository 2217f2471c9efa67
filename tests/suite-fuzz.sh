#!/bin/bash
# The seeded differential fuzzer in make check (tests/fuzz/suite.sh: its
# fixed seeds 1-3, forced preload, gVisor + preload and trace mode against
# the native transcript; every divergence must be a row of
# tests/fuzz/known-differences.tsv, and every row must match). Longer
# campaigns with other seeds: make fuzz SEEDS=... CALLS=...
# FUZZ_SEEDS/FUZZ_CALLS are cleared here: make check judges the table
# only with the fixed seeds.
cd "$(dirname "$0")/.." || exit 1
exec env -u FUZZ_SEEDS -u FUZZ_CALLS timeout -k 10 600 bash tests/fuzz/suite.sh
