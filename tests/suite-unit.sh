#!/bin/bash
# Unit suite: build every tests/unit/test_*.c, linked with the sources named
# on its "// build: a.c b.c" line (first 5 lines), run it under Criterion
# and print one "PASS name" / "FAIL name: why" / "SKIP name: reason" line per
# Criterion test (from its TAP report), then Criterion's own summary line.
# Exits non-zero if anything failed. CC and CI (adds -Werror) are honoured.
set -u
cd "$(dirname "$0")/.."
CC=${CC:-cc}
out=build/tests
mkdir -p "$out"
cflags=(-std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE
	-Iinclude -Ishim)
[ -n "${CI:-}" ] && cflags+=(-Werror)
rc=0
tap=$(mktemp) err=$(mktemp)
trap 'rm -f "$tap" "$err"' EXIT

for t in tests/unit/test_*.c; do
	name=$(basename "$t" .c)
	extra=$(sed -n '1,5{s|^// build:||p}' "$t" | head -n 1)
	bin=$out/$name
	# shellcheck disable=SC2086 # the build line is a word list
	if ! log=$("$CC" "${cflags[@]}" "$t" $extra -lcriterion -o "$bin" 2>&1); then
		echo "FAIL $name: does not build"
		printf '%s\n' "$log" | sed 's/^/    /'
		rc=1
		continue
	fi
	[ -n "$log" ] && printf '%s\n' "$log" | sed 's/^/    /'
	: >"$tap"
	"$bin" --tap="$tap" 2>"$err"
	st=$?
	# ok - suite::test  (0.00s)            -> PASS
	# ok - suite::test # SKIP reason       -> SKIP
	# not ok - suite::test ... + YAML with "Assertion failed: msg" -> FAIL
	awk '
	function flush() {
		if (cur != "") {
			print "FAIL " cur ": " (why != "" ? why : what)
			cur = ""; why = ""
		}
	}
	/^ok / || /^not ok / { flush() }
	/^ok / {
		line = $0; sub(/^ok [0-9]* *- */, "", line)
		if (match(line, / # SKIP /)) {
			name = substr(line, 1, RSTART - 1); sub(/ +$/, "", name)
			print "SKIP " name ": " substr(line, RSTART + 8)
		} else {
			sub(/ +\([0-9.]+s\)$/, "", line); print "PASS " line
		}
		next
	}
	/^not ok / {
		line = $0; sub(/^not ok [0-9]* *- */, "", line)
		cur = line; sub(/ .*/, "", cur)
		what = line; sub(/^[^ ]* */, "", what); sub(/ *\([0-9.]+s\)$/, "", what)
		if (what == "") what = "failed"
		next
	}
	cur != "" && why == "" && /Assertion failed:/ {
		why = $0; sub(/.*Assertion failed: */, "", why)
	}
	END { flush() }
	' "$tap"
	grep '^\[====\]' "$err"
	nfail=$(grep -c '^not ok ' "$tap")
	nrun=$(grep -cE '^(not )?ok ' "$tap")
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$tap" | head -n 1)
	if [ "$nfail" -gt 0 ]; then
		rc=1
	elif [ "$st" != 0 ] || [ -z "$plan" ] || [ "$nrun" != "$plan" ]; then
		echo "FAIL $name: runner exited $st after $nrun of ${plan:-?} tests"
		sed 's/^/    /' "$err" | tail -n 20
		rc=1
	fi
done
exit $rc
