#!/bin/bash
# Docs suite: the README is a README (at most 250 lines, the sections of
# STYLE.md rule 11 in order), its generated blocks equal the commands that
# make them (`sysfill features --markdown`, `make demo`), every SYSFILL_*
# variable the code reads is in its environment table and in sysfill(1)
# and libsysfill(3), the docs it names exist, and the manual pages render
# without a warning at 80 columns. Prints "PASS name" / "FAIL name: why" /
# "SKIP name: reason"; exits non-zero on failure.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$out"' EXIT

if ! make -s all man >"$out" 2>&1; then
	fail docs-build "make all man failed"
	exit 1
fi

# ---- the README --------------------------------------------------------
n=$(wc -l <README)
if [ "$n" -le 250 ]; then pass "readme-at-most-250-lines($n)"; else fail readme-at-most-250-lines "$n lines"; fi

# setext headings (a line followed by ----), in this order
awk 'prev != "" && /^-+$/ { print prev } { prev = $0 }' README >"$tmp/sections"
want="Quick start
Install
Usage by job
Environment
Exit status
Guarantees
Limits and side effects
Compatibility
Features by kernel version
Build and test"
if [ "$(cat "$tmp/sections")" = "$want" ]; then
	pass readme-sections-in-order
else
	diff <(echo "$want") "$tmp/sections" >"$out"
	fail readme-sections-in-order "sections differ from the expected list"
fi
if grep -q '^make demo' <<<"$(sed -n '/^Quick start/,/^Install/p' README | sed 's/^ *//')" &&
	sed -n '/^Quick start/,/^Install/p' README | grep -q '^    make check'; then
	pass readme-quick-start-has-the-two-commands
else
	fail readme-quick-start-has-the-two-commands "no 'make demo' / 'make check' lines"
fi

if tests/readme-blocks.sh --check features build/sysfill features --markdown >"$out" 2>&1; then
	pass readme-features-block-is-sysfill-features
else
	fail readme-features-block-is-sysfill-features "run: tests/readme-blocks.sh features build/sysfill features --markdown"
fi
for b in lists demo; do
	if [ "$(grep -cxF "<!-- BEGIN $b -->" README)" = 1 ] && [ "$(grep -cxF "<!-- END $b -->" README)" = 1 ]; then
		pass "readme-has-block-$b"
	else
		fail "readme-has-block-$b" "no single BEGIN/END pair"
	fi
done

# make demo's output. The sleeping child's own log lines (sysfill[N], N >
# 1) come or not depending on when its SIGTERM arrives: left out of both.
if ! command -v runsc >/dev/null; then
	skip readme-demo-block-is-make-demo "gVisor (runsc) not installed"
else
	demo() { timeout -k 5 120 tests/demo.sh | grep -v '^sysfill\[[02-9]\|^sysfill\[1[0-9]'; }
	sed -n '/<!-- BEGIN demo -->/,/<!-- END demo -->/p' README |
		sed '1,2d;$d' | sed '$d' | grep -v '^sysfill\[[02-9]\|^sysfill\[1[0-9]' >"$tmp/readme-demo"
	demo >"$tmp/demo" 2>&1
	if diff "$tmp/readme-demo" "$tmp/demo" >"$out"; then
		pass readme-demo-block-is-make-demo
	else
		fail readme-demo-block-is-make-demo "README's demo output differs from tests/demo.sh"
	fi
fi

# the script itself: replaces a block, leaves the rest, is idempotent
printf 'text\n<!-- BEGIN t -->\nold\n<!-- END t -->\nmore\n' >"$tmp/R0"
cp "$tmp/R0" "$tmp/R"
printf 'line one\nline two\n' >"$tmp/blk"
README=$tmp/R tests/readme-blocks.sh --code t cat "$tmp/blk"
if sed -n '/<!-- BEGIN t -->/,/<!-- END t -->/p' "$tmp/R" | tr '\n' '|' |
	grep -qxF '<!-- BEGIN t -->|```|line one|line two|```|<!-- END t -->|' &&
	[ "$(diff "$tmp/R0" "$tmp/R" | grep -c '^[<>]')" = 5 ] &&
	README=$tmp/R tests/readme-blocks.sh --check --code t cat "$tmp/blk" >/dev/null &&
	! README=$tmp/R tests/readme-blocks.sh --check t echo other >/dev/null &&
	! README=$tmp/R tests/readme-blocks.sh nosuchblock true 2>/dev/null; then
	pass readme-blocks-script-replaces-and-checks
else
	diff "$tmp/R0" "$tmp/R" >"$out"
	fail readme-blocks-script-replaces-and-checks "wrong replacement or exit status"
fi

if tests/readme-blocks.sh --check lists tests/lists-summary.sh >"$out"; then
	pass readme-lists-block-is-generated
else
	fail readme-lists-block-is-generated "run: tests/readme-blocks.sh lists tests/lists-summary.sh"
fi

for d in docs/design.md docs/testing.md docs/benchmarks.md; do
: >"$out"
	if [ -s "$d" ] && grep -qF "$d" README; then pass "readme-links-$d"; else fail "readme-links-$d" "missing, or not named in README"; fi
done
: >"$out"
if grep -qF 'docs/bench.txt' bench/run.sh && grep -qF 'docs/bench.txt' docs/benchmarks.md; then
	pass bench-figures-go-to-docs-bench-txt
else
	fail bench-figures-go-to-docs-bench-txt "bench/run.sh does not write docs/bench.txt"
fi

# ---- every SYSFILL_* variable the code reads is documented ----------------
# Read: getenv("X"), sf_env_*("X", ...), env_*("X", ...) in C; ${X...} in the
# test harness.
grep -rhoE '(getenv|sf_env_bool|sf_env_choice|env_bool|env_ulong)\("SYSFILL_[A-Z0-9_]+"' \
	shim preload tracer | sed 's/.*"\(SYSFILL_[A-Z0-9_]*\)"/\1/' >"$tmp/vars"
grep -rhoE '"SYSFILL_[A-Z0-9_]+"' shim/log.c tracer/env.c | tr -d '"' >>"$tmp/vars"
grep -hoE '\$\{SYSFILL_[A-Z0-9_]+' tests/lib.sh | tr -d '${' >>"$tmp/vars"
sort -u "$tmp/vars" -o "$tmp/vars"
MANWIDTH=200 man -l build/man/sysfill.1 >"$tmp/man1" 2>/dev/null
MANWIDTH=200 man -l build/man/libsysfill.3 >"$tmp/man3" 2>/dev/null
miss=""
while read -r v; do
	grep -q "^| \`$v\` |" README || miss="$miss README:$v"
	[ "$v" = SYSFILL_MUST_WORK ] && continue # tests only
	grep -q "^ *$v\b" "$tmp/man1" || miss="$miss sysfill.1:$v"
done <"$tmp/vars"
for v in SYSFILL_FORCE SYSFILL_LOG SYSFILL_LOG_FILE SYSFILL_CLONE3; do
	grep -q "^ *$v\b" "$tmp/man3" || miss="$miss libsysfill.3:$v"
done
if [ "$(wc -l <"$tmp/vars")" -ge 8 ] && [ -z "$miss" ]; then
	pass "every-sysfill-variable-documented($(wc -l <"$tmp/vars"))"
else
	cp "$tmp/vars" "$out"
	fail every-sysfill-variable-documented "missing:$miss"
fi

# ---- manual pages ------------------------------------------------------
for page in build/man/sysfill.1 build/man/libsysfill.3; do
	name=$(basename "$page")
	MANWIDTH=80 man --warnings -l "$page" >"$tmp/page" 2>"$out"
	if [ ! -s "$out" ] && [ -s "$tmp/page" ]; then
		pass "man-$name-no-warnings-at-80-columns"
	else
		fail "man-$name-no-warnings-at-80-columns" "man --warnings says something"
	fi
	if awk 'length > 80 { bad = 1 } END { exit bad }' "$tmp/page"; then
		pass "man-$name-fits-80-columns"
	else
		awk 'length > 80' "$tmp/page" >"$out"
		fail "man-$name-fits-80-columns" "lines longer than 80"
	fi
done
# What the code does, not what it did: no stale claims.
stale_ok=1
for stale in "(it answers clone3 with ENOSYS" "may be missing in this version" \
	"emulates every feature but" "clone3 answers ENOSYS (as Linux 5.2 does), and"; do
	if grep -qiF "$stale" "$tmp/man1" "$tmp/man3"; then
		grep -iF "$stale" "$tmp/man1" "$tmp/man3" >"$out"
		fail "man-no-stale-claim" "'$stale'"
		stale_ok=0
	fi
done
[ $stale_ok = 1 ] && pass man-no-stale-claims
# the feature lines of sysfill(1) come from the same table as `features`
build/sysfill features --markdown | tail -n +3 | while IFS='|' read -r _ f _ since _ lib _; do
	f=$(echo $f) since=$(echo $since) lib=$(echo $lib)
	grep -qE "^ +$(printf '%s' "$f" | sed 's/[()]/\\&/g') +$since +.*$lib" "$tmp/man1" || echo "$f"
done >"$tmp/feat-miss"
if [ ! -s "$tmp/feat-miss" ]; then
	pass man-sysfill.1-features-are-sysfill-features
else
	cp "$tmp/feat-miss" "$out"
	fail man-sysfill.1-features-are-sysfill-features "rows differ from sysfill features"
fi
# no merge left its conflict markers in a tracked file (one did, in a
# table no parser rejected)
if git ls-files -z 2>/dev/null | xargs -0 grep -lE '^(<<<<<<< |>>>>>>> |=======$)' -- >"$out" 2>/dev/null; then
	fail tree-no-merge-markers "conflict markers in: $(tr '\n' ' ' <"$out")"
else
	pass tree-no-merge-markers
fi
exit $failed
