#!/bin/bash
# Run every suite (tests/suite-*.sh, in name order). A suite prints one line
# per test: "PASS name", "FAIL name: why" or "SKIP name: reason", and exits
# non-zero if anything failed. A skip whose reason is not listed in
# tests/allowed-skips.txt counts as a failure. Ends with the plain
# "N passed, N failed, N skipped" line.
set -u
cd "$(dirname "$0")/.."
only="${1:-}"
pass=0 fail=0 skip=0 xfail=0 rc=0
log=$(mktemp)
for s in tests/suite-*.sh; do
	name=$(basename "$s" .sh)
	[ -n "$only" ] && [ "$name" != "suite-$only" ] && continue
	echo "=== $name"
	bash "$s" 2>&1 | tee "$log"
	st=${PIPESTATUS[0]}
	p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log")
	pass=$((pass + p)); fail=$((fail + f))
	xfail=$((xfail + $(grep -c '^XFAIL ' "$log")))
	while IFS= read -r line; do
		reason=${line#*: }
		if grep -qxF -- "$reason" tests/allowed-skips.txt 2>/dev/null; then
			skip=$((skip + 1))
		else
			echo "FAIL (unlisted skip) $line"
			fail=$((fail + 1))
		fi
	done < <(grep '^SKIP ' "$log")
	if [ "$st" != 0 ] && [ "$f" = 0 ]; then
		echo "FAIL $name: suite exited $st without naming a failure"
		fail=$((fail + 1))
	fi
done
rm -f "$log"
echo "expected failures (listed defects, see tests/*/expected-failures.tsv): $xfail"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
