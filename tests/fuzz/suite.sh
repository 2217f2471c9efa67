#!/bin/bash
# The seeded differential fuzzer (tests/fuzz/fuzz.c) in make check: for each
# seed, the native transcript (twice: it must be identical, or the fuzzer is
# broken) is the oracle for forced preload, gVisor + preload and trace mode
# (static build). Transcripts are compared epoch by epoch (tests/fuzz/
# compare.awk). A divergence matching a row of tests/fuzz/known-differences.tsv
# is reported and counted, any other fails; a row that matched nothing in
# any mode fails ("stale entry"), so the list only shrinks. The transcript's
# end line counts fds, threads and children left over (a leak is a
# divergence). Every run has a hard timeout (a hang fails), and the fuzzer's
# own helper kills it at its deadline.
# Trace mode makes clone3 too (tracer/clone.c; until 2026-12 its runs were
# made with FUZZ_NO_CLONE3=1, from when it answered clone3 with ENOSYS).
# FUZZ_SEEDS, FUZZ_CALLS (all modes) override the seeds and calls (make
# fuzz); FUZZ_VERBOSE=1 prints the known divergences too. Rows whose reason
# starts with "intermittent:" are exempt from the stale check (see the table).
set -u
cd "$(dirname "$0")/../.."
root=$PWD
o=${FUZZ_OUT:-$root/build/tests/fuzz} # FUZZ_OUT: another directory (a run beside another)
lib=$root/build/libsysfill.so
S=$root/build/sysfill
table=tests/fuzz/known-differences.tsv
seeds=${FUZZ_SEEDS:-1 2 3}
# calls per mode, chosen for about 2 minutes on 2 cores shared with other
# work (gVisor is the slow one: 400 calls take about 15 s idle)
declare -A calls=([forced]=${FUZZ_CALLS:-1600} [trace]=${FUZZ_CALLS:-800} [gvisor]=${FUZZ_CALLS:-400})
rc=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; rc=1; [ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/    /' "$3" | head -n 60; return 0; }
skip() { if [ "${SYSFILL_MUST_WORK:-0}" = 1 ]; then fail "$1" "skip not allowed: $2"; else echo "SKIP $1: $2"; fi; }
mkdir -p "$o"
make -s build/sysfill build/libsysfill.so >"$o/make.log" 2>&1 || { fail fuzz-build "make failed" "$o/make.log"; exit 1; }
cf="-O1 -g -Wall -Wno-unused-parameter -pthread"
cc $cf -o "$o/fuzz" tests/fuzz/fuzz.c >"$o/build.log" 2>&1 || { fail fuzz-build "cc failed" "$o/build.log"; exit 1; }
cc -static $cf -o "$o/fuzz-static" tests/fuzz/fuzz.c >"$o/build-static.log" 2>&1 || { fail fuzz-build-static "cc -static failed" "$o/build-static.log"; exit 1; }
cc -O1 -o "$o/reaper" tests/conformance/helpers/reaper.c >"$o/reaper.log" 2>&1 || { fail fuzz-build-reaper "cc failed" "$o/reaper.log"; exit 1; }
have_runsc=0
command -v runsc >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && have_runsc=1

run() { # MODE SEED CALLS OUT: transcript in OUT, stderr OUT.err, status OUT.rc
	local m=$1 s=$2 n=$3 t=$4 st
	# the program's own deadline is 60 s + calls/20 s; a few ms a call at most
	local tmo=$((70 + n / 10))
	case $m in
	native) timeout -k 5 $tmo "$o/fuzz" "$s" "$n" </dev/null 2>"$t.err" >"$t"; st=$? ;;
	forced) timeout -k 5 $tmo env SYSFILL_FORCE=1 LD_PRELOAD="$lib" "$o/fuzz" "$s" "$n" </dev/null 2>"$t.err" >"$t"; st=$? ;;
	gvisor)
		( timeout -k 5 $((tmo * 2)) "$o/reaper" runsc --network=none --platform=ptrace do \
			env LD_PRELOAD="$lib" SYSFILL_FORCE=1 "$o/fuzz" "$s" "$n" </dev/null >"$t"
		  exit $? ) 2>"$t.err"
		st=$? ;;
	trace) timeout -k 5 $tmo env SYSFILL_FORCE=1 "$S" run --mode=trace -- "$o/fuzz-static" "$s" "$n" </dev/null 2>"$t.err" >"$t"; st=$? ;;
	esac
	echo "$st" >"$t.rc"
}
ok_native() { # FILE NAME
	if [ "$(cat "$1.rc")" != 0 ] || ! grep -q '^-	end	' "$1"; then
		{ cat "$1.err"; tail -5 "$1"; } >"$1.why"
		fail "$2" "exit $(cat "$1.rc") or no end line" "$1.why"
		return 1
	fi
}

modes="forced trace"
[ "$have_runsc" = 1 ] && modes="forced gvisor trace" || skip fuzz-gvisor "runsc not installed or not root"
start=$(date +%s)
declare -A made
# gVisor runs in the background beside the others (one core each)
for s in $seeds; do
	for m in $modes; do
		ref=native
		n=${calls[$m]}
		N=$o/s$s.$ref.$n
		[ -n "${made[$N]:-}" ] && continue # one oracle for two modes
		made[$N]=1
		run $ref "$s" "$n" "$N"; run $ref "$s" "$n" "$N.2"
	done
done
if [ "$have_runsc" = 1 ]; then
	( for s in $seeds; do run gvisor "$s" "${calls[gvisor]}" "$o/s$s.gvisor"; done ) &
	gpid=$!
fi
for s in $seeds; do
	for m in forced trace; do run "$m" "$s" "${calls[$m]}" "$o/s$s.$m"; done
done
[ "$have_runsc" = 1 ] && wait "$gpid"

: >"$o/used"
declare -A tot_c tot_d tot_k tot_u tot_m
for m in $modes; do tot_c[$m]=0; tot_d[$m]=0; tot_k[$m]=0; tot_u[$m]=0; tot_m[$m]=0; done
for s in $seeds; do
	for m in $modes; do
		ref=native
		N=$o/s$s.$ref.${calls[$m]}
		ok_native "$N" "fuzz-$s-$ref-${calls[$m]}" || continue
		ok_native "$N.2" "fuzz-$s-$ref-${calls[$m]}-again" || continue
		if diff -u --label native --label native-again "$N" "$N.2" >"$N.diff"; then
			pass "fuzz-$s-$ref-${calls[$m]}-deterministic"
		else
			fail "fuzz-$s-$ref-${calls[$m]}-deterministic" "two native runs differ (a fuzzer bug)" "$N.diff"
		fi
		if grep -q '^-	end	leaks	fds+0 threads+0 children=0 zombie=no' "$N"; then
			pass "fuzz-$s-$ref-${calls[$m]}-no-leak"
		else
			grep '^-	end' "$N" >"$N.why"; fail "fuzz-$s-$ref-${calls[$m]}-no-leak" "leak natively" "$N.why"
		fi
		T=$o/s$s.$m
		awk -v mode="$m" -v table="$table" -v used="$o/used.$m.$s" -v verbose="${FUZZ_VERBOSE:-0}" \
			-f tests/fuzz/compare.awk "$N" "$T" >"$T.cmp"
		cat "$o/used.$m.$s" >>"$o/used" 2>/dev/null
		read -r _ c _ d _ k _ u _ ms < <(tail -1 "$T.cmp")
		tot_c[$m]=$((tot_c[$m] + c)); tot_d[$m]=$((tot_d[$m] + d)); tot_k[$m]=$((tot_k[$m] + k))
		tot_u[$m]=$((tot_u[$m] + u)); tot_m[$m]=$((tot_m[$m] + ms))
		echo "fuzz seed $s $m: calls $c divergences $d known $k unknown $u masked $ms (exit $(cat "$T.rc"))"
		[ "${FUZZ_VERBOSE:-0}" = 1 ] && grep -v '^calls ' "$T.cmp"
		if [ "$u" = 0 ] && [ "$(cat "$T.rc")" = 0 ]; then
			pass "fuzz-$s-$m"
		else
			[ -s "$T.err" ] && { echo "stderr:"; tail -5 "$T.err"; } >>"$T.cmp"
			fail "fuzz-$s-$m" "$u unknown divergences, exit $(cat "$T.rc")" "$T.cmp"
		fi
	done
done
for m in $modes; do
	echo "fuzz total $m: calls ${tot_c[$m]} divergences ${tot_d[$m]} known ${tot_k[$m]} unknown ${tot_u[$m]} masked ${tot_m[$m]}"
done
echo "fuzz time: $(( $(date +%s) - start )) s"
stale=0
while IFS= read -r l; do
	case $l in '#'*|'') continue ;; esac
	case " $modes * " in *" ${l%%	*} "*) ;; *) continue ;; esac # a mode not run here
	case $(cut -f6 <<<"$l") in intermittent:*) continue ;; esac
	if ! grep -qxF -- "$l" "$o/used"; then
		echo "stale entry, remove it: $l"
		stale=1
	fi
done <"$table"
# a run with other seeds or calls (make fuzz) cannot judge the table
if [ -n "${FUZZ_SEEDS:-}${FUZZ_CALLS:-}" ]; then
	:
elif [ "$stale" = 0 ]; then pass fuzz-known-differences-current; else fail fuzz-known-differences-current "rows of $table match nothing"; fi
exit $rc
