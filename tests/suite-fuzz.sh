#!/bin/bash
# The seeded differential fuzzer (tests/fuzz/fuzz.c): for each seed, the
# native transcript (twice: it must be identical, or the fuzzer is broken)
# is the oracle for forced preload, gVisor + preload and trace mode (static
# build). A divergence matching a row of tests/fuzz/known-differences.tsv is
# reported and counted, any other fails; a row that matched nothing in any
# mode fails ("stale entry"), so the list only shrinks. The transcript's end
# line counts fds, threads and children left over (a leak is a divergence).
# FUZZ_SEEDS, FUZZ_CALLS override the seeds and calls (make fuzz).
set -u
cd "$(dirname "$0")/../.."
root=$PWD
o=$root/build/tests/fuzz
lib=$root/build/libsysfill.so
S=$root/build/sysfill
table=tests/fuzz/known-differences.tsv
seeds=${FUZZ_SEEDS:-1 2 3 4}
calls=${FUZZ_CALLS:-2000}
rc=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; rc=1; [ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/    /' "$3" | head -n 60; return 0; }
skip() { if [ "${SYSFILL_MUST_WORK:-0}" = 1 ]; then fail "$1" "skip not allowed: $2"; else echo "SKIP $1: $2"; fi; }
mkdir -p "$o"
make -s build/sysfill build/libsysfill.so >"$o/make.log" 2>&1 || { fail fuzz-build "make failed" "$o/make.log"; exit 1; }
cf="-O1 -g -Wall -Wno-unused-parameter -D_GNU_SOURCE -pthread"
cc $cf -o "$o/fuzz" tests/fuzz/fuzz.c >"$o/build.log" 2>&1 || { fail fuzz-build "cc failed" "$o/build.log"; exit 1; }
cc -static $cf -o "$o/fuzz-static" tests/fuzz/fuzz.c >"$o/build-static.log" 2>&1 || { fail fuzz-build-static "cc -static failed" "$o/build-static.log"; exit 1; }
cc -O1 -o "$o/reaper" tests/conformance/helpers/reaper.c >"$o/reaper.log" 2>&1 || { fail fuzz-build-reaper "cc failed" "$o/reaper.log"; exit 1; }
have_runsc=0
command -v runsc >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && have_runsc=1
# every call of the program costs a few ms at most; the program's own
# deadline is 60 s + calls/20 s
tmo=$((90 + calls / 10))

run() { # MODE SEED OUT
	local m=$1 s=$2 t=$3 st
	case $m in
	native|native2) timeout -k 5 $tmo "$o/fuzz" "$s" "$calls" </dev/null 2>"$t.err" | cat >"$t"; st=${PIPESTATUS[0]} ;;
	forced) timeout -k 5 $tmo env SYSFILL_FORCE=1 LD_PRELOAD="$lib" "$o/fuzz" "$s" "$calls" </dev/null 2>"$t.err" | cat >"$t"; st=${PIPESTATUS[0]} ;;
	gvisor)
		( timeout -k 5 $((tmo * 3)) "$o/reaper" runsc --network=none --platform=ptrace do \
			env LD_PRELOAD="$lib" SYSFILL_FORCE=1 "$o/fuzz" "$s" "$calls" </dev/null | cat >"$t"
		  exit "${PIPESTATUS[0]}" ) 2>&1 | cat >"$t.err"
		st=${PIPESTATUS[0]} ;;
	trace) timeout -k 5 $((tmo * 2)) env SYSFILL_FORCE=1 "$S" run --mode=trace -- "$o/fuzz-static" "$s" "$calls" </dev/null 2>"$t.err" | cat >"$t"; st=${PIPESTATUS[0]} ;;
	esac
	echo "$st" >"$t.rc"
}

modes="forced trace"
[ "$have_runsc" = 1 ] && modes="forced gvisor trace"
: >"$o/used"
declare -A tot_c tot_d tot_k tot_u
for m in $modes; do tot_c[$m]=0; tot_d[$m]=0; tot_k[$m]=0; tot_u[$m]=0; done
start=$(date +%s)
for s in $seeds; do
	N=$o/s$s.native
	run native "$s" "$N"
	run native2 "$s" "$N.2"
	if [ "$(cat "$N.rc")" != 0 ] || ! grep -q '^-	end	' "$N"; then
		{ cat "$N.err"; tail -5 "$N"; } >"$N.why"
		fail "fuzz-$s-native" "exit $(cat "$N.rc") or no end line" "$N.why"
		continue
	fi
	if diff -u --label native --label native-again "$N" "$N.2" >"$N.diff"; then
		pass "fuzz-$s-native-deterministic"
	else
		fail "fuzz-$s-native-deterministic" "two native runs differ (a fuzzer bug)" "$N.diff"
	fi
	if grep -q '^-	end	leaks	fds+0 threads+0 children=0 zombie=no' "$N"; then
		pass "fuzz-$s-native-no-leak"
	else
		grep '^-	end' "$N" >"$N.why"; fail "fuzz-$s-native-no-leak" "leak natively" "$N.why"
	fi
	for m in $modes; do
		T=$o/s$s.$m
		run "$m" "$s" "$T"
		awk -v mode="$m" -v table="$table" -v used="$o/used.$m.$s" -v verbose="${FUZZ_VERBOSE:-0}" \
			-f tests/fuzz/compare.awk "$N" "$T" >"$T.cmp"
		cat "$o/used.$m.$s" >>"$o/used" 2>/dev/null
		read -r _ c _ d _ k _ u < <(tail -1 "$T.cmp")
		tot_c[$m]=$((tot_c[$m] + c)); tot_d[$m]=$((tot_d[$m] + d)); tot_k[$m]=$((tot_k[$m] + k)); tot_u[$m]=$((tot_u[$m] + u))
		echo "fuzz seed $s $m: calls $c divergences $d known $k unknown $u (exit $(cat "$T.rc"))"
		if [ "$u" = 0 ] && [ "$(cat "$T.rc")" = 0 ]; then
			pass "fuzz-$s-$m"
		else
			[ -s "$T.err" ] && { echo "stderr:"; tail -5 "$T.err"; } >>"$T.cmp"
			fail "fuzz-$s-$m" "$u unknown divergences, exit $(cat "$T.rc")" "$T.cmp"
		fi
	done
done
for m in $modes; do
	echo "fuzz total $m: calls ${tot_c[$m]} divergences ${tot_d[$m]} known ${tot_k[$m]} unknown ${tot_u[$m]}"
done
echo "fuzz time: $(( $(date +%s) - start )) s"
stale=0
while IFS= read -r l; do
	case $l in '#'*|'') continue ;; esac
	if ! grep -qxF -- "$l" "$o/used"; then
		echo "stale entry, remove it: $l"
		stale=1
	fi
done <"$table"
if [ "$stale" = 0 ]; then pass fuzz-known-differences-current; else fail fuzz-known-differences-current "rows of $table match nothing"; fi
exit $rc
