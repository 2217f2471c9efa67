#!/bin/bash
# Differential conformance suite. Each scenario in tests/conformance/*.c
# prints one observable per line. Modes:
#   native        the kernel's own answers (the oracle; must exit 0)
#   forced        LD_PRELOAD=libsysfill.so SYSFILL_FORCE=1: must equal native
#   gvisor        same inside gVisor, where the calls are missing: must equal
#                 native
#   gvisor-nolib  inside gVisor without the library: must show the calls
#                 missing (pidfd_open -> ENOSYS), proving where gvisor ran
#                 (or equal SCENARIO.gvisor-nolib where there is one)
#   static        a scenario linked with the library (first line
#                 "conformance: link libsysfill"): built with libsysfill.a,
#                 run natively: must equal native
# Emulated transcripts are compared after applying the known differences in
# tests/conformance/differences.tsv. A scenario that prints "skip: REASON"
# gives "SKIP conformance-NAME-MODE: REASON". Runs listed in
# tests/conformance/expected-failures.tsv (defects not fixed yet) print XFAIL.
# SYSFILL_BUILD=DIR tests DIR/libsysfill.so (a sanitizer or hardened build,
# tests/suite-sanitize.sh); SYSFILL_TEST_CFLAGS is added to the scenarios';
# SYSFILL_PRELOAD_FIRST (the ASan runtime) goes before the library in
# LD_PRELOAD, SYSFILL_TEST_ENV (VAR=value ...) into the scenarios'
# environment; SYSFILL_CONFORMANCE_MODES=forced runs only that mode.
set -u
cd "$(dirname "$0")/.."
. tests/when.sh
root=$(pwd)
src=tests/conformance
build=${SYSFILL_BUILD:-build}
out=$build/tests/conformance
lib=$root/$build/libsysfill.so
lib="${SYSFILL_PRELOAD_FIRST:+$SYSFILL_PRELOAD_FIRST }$lib"
# shellcheck disable=SC2206
tenv=(${SYSFILL_TEST_ENV:-})
table=$src/differences.tsv
# Defects found by a scenario and not fixed yet: "conformance-NAME-MODE<TAB>
# why"; a listed run prints XFAIL, and FAILS once it matches native (remove
# the entry then). This list may only shrink.
xfail=$src/expected-failures.tsv
rc=0

fail() { # name summary difffile
	echo "FAIL $1: $2"
	sed 's/^/    /' "$3"
	rc=1
}

mkdir -p "$out"
if [ ! -f "$root/$build/libsysfill.so" ]; then
	make -C "$root" >"$out/make.log" 2>&1 || { echo "FAIL conformance-build-library: make failed"; sed 's/^/    /' "$out/make.log" | tail -20; exit 1; }
fi

have_runsc=0
if command -v runsc >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	have_runsc=1
fi
# runsc leaves exited helper processes to pid 1; run it under a subreaper
# that reaps them.
reaper=$root/$out/reaper
if ! cc -O1 -g -Wall -D_GNU_SOURCE -o "$reaper" "$src/helpers/reaper.c" >"$out/reaper.build.log" 2>&1; then
	fail conformance-build-reaper "does not compile" "$out/reaper.build.log"
	exit 1
fi

# normalize MODE SCENARIO FILE: rewrite each emulated text of the table to
# its native text (tests/conformance/normalize.awk).
normalize() {
	awk -F'\t' -v mode="$1" -v scen="$2" -f "$src/normalize.awk" "$table" "$3"
}

# run MODE BIN OUTFILE: transcript (stdout) plus a final "exit: N" line;
# stderr goes to OUTFILE.err.
run() {
	local mode=$1 bin=$2 o=$3 st
	case $mode in
	native)
		# a linked scenario loads the (maybe sanitized) library: the
		# runtime first, the scenario's environment
		local first= lenv=()
		[ "$linked" = 1 ] && first=${SYSFILL_PRELOAD_FIRST:-} lenv=("${tenv[@]}")
		timeout 60 env "${lenv[@]}" ${first:+LD_PRELOAD="$first"} "$bin" </dev/null 2>"$o.err" | cat >"$o"
		st=${PIPESTATUS[0]} ;;
	static)
		timeout 60 "$bin-static" </dev/null 2>"$o.err" | cat >"$o"
		st=${PIPESTATUS[0]} ;;
	forced)
		# env, so that only the scenario (not timeout) has the library
		timeout 60 env "${tenv[@]}" LD_PRELOAD="$lib" SYSFILL_FORCE=1 "$bin" </dev/null 2>"$o.err" | cat >"$o"
		st=${PIPESTATUS[0]} ;;
	gvisor)
		# runsc: stdin from /dev/null and output through a pipe, or it may
		# lose output; its own stderr through a pipe as well.
		( timeout 90 "$reaper" runsc --network=none --platform=ptrace do \
			env "${tenv[@]}" LD_PRELOAD="$lib" SYSFILL_FORCE=1 "$bin" </dev/null | cat >"$o"
		  exit "${PIPESTATUS[0]}" ) 2>&1 | cat >"$o.err"
		st=${PIPESTATUS[0]} ;;
	gvisor-nolib)
		( timeout 90 "$reaper" runsc --network=none --platform=ptrace do "$bin" </dev/null | cat >"$o"
		  exit "${PIPESTATUS[0]}" ) 2>&1 | cat >"$o.err"
		st=${PIPESTATUS[0]} ;;
	esac
	echo "exit: $st" >>"$o"
}


skip_reason() { sed -n 's/^skip: //p' "$1" | head -1; }

for c in "$src"/*.c; do
	s=$(basename "$c" .c)
	bin=$root/$out/$s
	# A scenario of sysfill's own calls ("conformance: link libsysfill")
	# links the library, natively too, where it answers on the kernel's
	# pidfds; mode static: linked with libsysfill.a, run natively.
	link=()
	linked=0
	if head -1 "$c" | grep -q 'conformance: link libsysfill'; then
		linked=1
		mkdir -p "$root/$out/lib"
		ln -sf "$root/$build/libsysfill.so" "$root/$out/lib/libsysfill.so.0"
		link=(-L"$root/$build" -lsysfill -Wl,-rpath,"$root/$out/lib")
	fi
	if ! cc -O1 -g -Wall -D_GNU_SOURCE ${SYSFILL_TEST_CFLAGS:-} -I"$root/include" -o "$bin" "$c" "${link[@]}" >"$out/$s.build.log" 2>&1; then
		fail "conformance-$s-build" "does not compile" "$out/$s.build.log"
		continue
	fi
	if [ "$linked" = 1 ] && [ -z "${SYSFILL_BUILD:-}" ] &&
		! cc -static -O1 -g -Wall -D_GNU_SOURCE -I"$root/include" -o "$bin-static" "$c" "$root/$build/libsysfill.a" -lpthread >"$out/$s.static.build.log" 2>&1; then
		fail "conformance-$s-static-build" "does not link with libsysfill.a" "$out/$s.static.build.log"
		continue
	fi

	# SYSFILL_TEST_ENV_<scenario, - as _> replaces SYSFILL_TEST_ENV for it
	v=SYSFILL_TEST_ENV_${s//-/_}
	# shellcheck disable=SC2206
	tenv=(${!v:-${SYSFILL_TEST_ENV:-}})
	N=$out/$s.native
	run native "$bin" "$N"
	reason=$(skip_reason "$N")
	if [ -n "$reason" ]; then
		echo "SKIP conformance-$s-native: $reason"
	elif [ "$(tail -1 "$N")" != "exit: 0" ] || grep -q '^FATAL' "$N"; then
		cat "$N.err" >>"$N"
		fail "conformance-$s-native" "scenario failed natively" "$N"
		continue
	else
		echo "PASS conformance-$s-native"
	fi

	modes="forced"
	[ "$have_runsc" = 1 ] && modes="forced gvisor gvisor-nolib"
	modes=${SYSFILL_CONFORMANCE_MODES:-$modes}
	[ "$linked" = 1 ] && [ -z "${SYSFILL_BUILD:-}" ] && modes="$modes static"
	for m in $modes; do
		T=$out/$s.$m
		run "$m" "$bin" "$T"
		r=$(skip_reason "$T")
		if [ -n "$r" ]; then
			echo "SKIP conformance-$s-$m: $r"
			continue
		fi
		if [ "$m" = gvisor-nolib ]; then
			if [ -f "$src/$s.gvisor-nolib" ]; then
				if diff -u --label expected --label gvisor-nolib "$src/$s.gvisor-nolib" "$T" >"$T.diff"; then
					echo "PASS conformance-$s-$m"
				else
					fail "conformance-$s-$m" "calls not missing as expected in gVisor" "$T.diff"
				fi
			elif grep -q 'pidfd_open = -1 ENOSYS' "$T" && ! grep -q 'pidfd_open = fd' "$T"; then
				echo "PASS conformance-$s-$m"
			else
				{ echo "expected pidfd_open = -1 ENOSYS and no pidfd; got:"; cat "$T" "$T.err"; } >"$T.diff"
				fail "conformance-$s-$m" "pidfd_open did not fail with ENOSYS" "$T.diff"
			fi
			continue
		fi
		if [ -n "$reason" ]; then
			# native skipped: nothing to compare with
			echo "SKIP conformance-$s-$m: $reason"
			continue
		fi
		normalize "$m" "$s" "$T" >"$T.norm"
		xf=$(awk -F'\t' -v n="conformance-$s-$m" '$1 == n { print $2 }' "$xfail")
		when_holds "$xf" "$T.err" || xf=""
		if diff -u --label native --label "$m" "$N" "$T.norm" >"$T.diff"; then
			if [ -n "$xf" ] && [ -z "$(when_cond "$xf")" ]; then
				fail "conformance-$s-$m" "XPASS: listed in $xfail but matches native now: remove the entry" "$T.diff"
			else
				echo "PASS conformance-$s-$m"
			fi
		elif [ -n "$xf" ]; then
			echo "XFAIL conformance-$s-$m: $xf"
		else
			if [ -s "$T.err" ]; then
				{ echo "stderr:"; sed 's/^/  /' "$T.err"; } >>"$T.diff"
			fi
			fail "conformance-$s-$m" "differs from native" "$T.diff"
		fi
	done
	[ "$have_runsc" = 1 ] || echo "SKIP conformance-$s-gvisor: runsc not available (needs root and the runsc package)"
done
exit $rc
