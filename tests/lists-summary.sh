#!/bin/bash
# One line per list of known divergences (for the README's generated
# block): how many entries each holds. Every list may only shrink.
cd "$(dirname "$0")/.."
for f in tests/kselftest/expected-failures.tsv tests/kselftest/gvisor-only.tsv \
	tests/trace/expected-failures.tsv \
	tests/fuzz/known-differences.tsv \
	tests/conformance/expected-failures.tsv \
	tests/conformance/differences.tsv; do
	[ -f "$f" ] || continue
	n=$(grep -cv '^\(#\|$\)' "$f")
	case $f in
	*kselftest/expected*) what="kernel selftests: sysfill's defects (program, mode, tests)" ;;
	*gvisor-only*) what="kernel selftests: what gVisor itself lacks" ;;
	*trace/expected*) what="conformance scenarios trace mode fails (how it catches calls; each entry names its cause)" ;;
	*fuzz/known*) what="differential fuzzer: known divergence classes (mode, call, kernel rule, issue)" ;;
	*conformance/expected*) what="conformance scenarios the library fails (defects not fixed yet; each entry names its cause)" ;;
	*conformance/differences*) what="conformance: accepted differences (text rewrites)" ;;
	esac
	printf -- '- `%s`: %d entries, %s\n' "$f" "$n" "$what"
done
