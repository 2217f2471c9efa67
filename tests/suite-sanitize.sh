#!/bin/bash
# Sanitizers in make check: the library and the sysfill command built with
# ASan + UBSan (-fsanitize=address,undefined -fno-sanitize-recover=all) in
# build-san/ (make BUILD=build-san SAN=address,undefined), then
#  - the conformance scenarios forced with that library (suite-conformance
#    with SYSFILL_BUILD=build-san, the ASan runtime first in LD_PRELOAD, as
#    ASan requires): the transcripts must equal native as usual;
#  - the conformance scenarios built -static in trace mode under the
#    sanitized supervisor: same exit status as under build/sysfill;
#  - the fuzzer (tests/fuzz/fuzz.c) forced with the sanitized library, one
#    seed: it must end normally;
# and fails on any sanitizer report (halt_on_error; a report's process
# exits with status 99 and its stderr is searched).
# Leaks: LeakSanitizer runs at the exit of every sanitized process. It
# works under the preloaded library (its helper threads are raw clones
# that LSan's stop-the-world attaches through /proc/self/task like any
# thread) and for the supervisor. Not covered: the program's own heap is
# the program's (test scenarios are not built with ASan: their leaks are
# not sysfill's), and in trace mode the tracee is not sanitized (a static
# binary cannot be; the supervisor is).
set -u
cd "$(dirname "$0")/.."
root=$PWD
B=build-san
o=$root/$B/tests/sanitize
rc=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; rc=1; [ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/    /' "$3" | head -n 40; return 0; }
mkdir -p "$o"
start=$(date +%s)
if ! make -s BUILD=$B SAN=address,undefined all >"$o/make.log" 2>&1; then
	fail sanitize-build "make BUILD=$B SAN=address,undefined failed" "$o/make.log"
	exit 1
fi
make -s build/sysfill build/libsysfill.so >"$o/make-plain.log" 2>&1 || { fail sanitize-build-plain "make failed" "$o/make-plain.log"; exit 1; }
asan=$(cc -print-file-name=libasan.so)
[ -f "$asan" ] || { fail sanitize-runtime "no libasan.so ($asan)"; exit 1; }
pass sanitize-build
# verify_asan_link_order=0: a program exec'd by a scenario gets the library
# back in LD_PRELOAD without the runtime first (only there)
export ASAN_OPTIONS="halt_on_error=1:exitcode=99:detect_leaks=1:verify_asan_link_order=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=99"
# Sanitizer reports in FILES (stderr of the runs): names the first.
reports() {
	grep -l -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer)|LeakSanitizer has encountered' "$@" 2>/dev/null
}

# ---- conformance scenarios forced, sanitized library -----------------------
SYSFILL_BUILD=$B SYSFILL_PRELOAD_FIRST="$asan" SYSFILL_CONFORMANCE_MODES=forced \
	SYSFILL_TEST_ENV="ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=$UBSAN_OPTIONS" \
	SYSFILL_TEST_ENV_reuse="ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 UBSAN_OPTIONS=$UBSAN_OPTIONS" \
	SYSFILL_TEST_ENV_seeds_reuse="ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 UBSAN_OPTIONS=$UBSAN_OPTIONS" \
	SYSFILL_TEST_ENV_unshare="ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 UBSAN_OPTIONS=$UBSAN_OPTIONS" \
	SYSFILL_TEST_ENV_clone3_set_tid_ns="ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 UBSAN_OPTIONS=$UBSAN_OPTIONS" \
	SYSFILL_TEST_ENV_sigsys_stack="ASAN_OPTIONS=$ASAN_OPTIONS:use_sigaltstack=0 UBSAN_OPTIONS=$UBSAN_OPTIONS" \
	bash tests/suite-conformance.sh >"$o/conformance.log" 2>&1
st=$?
# its result lines, renamed (a failure's diff follows it). One known
# defect shows more often under ASan (slower) and on a loaded machine:
# set_tid is emulated by writing ns_last_pid and forking, so any process
# made in the namespace meanwhile takes the free pid (EEXIST; issue 12,
# item 15a: not atomic). A set_tid scenario whose only changes are such
# EEXIST steps is reported as XFAIL.
# only_tid_race DIFF: every change is a set_tid step that got EEXIST
# instead of its pid ("-S: child exited 0" / "+S: -1 EEXIST", "-S: pid as
# asked" / "+S: pid none").
only_tid_race() {
	awk '/^[-+][^-+]/ { n++
		if (/^-.*: child exited 0$/ || /^-.*: pid as asked$/ ||
		    /^\+.*: -1 EEXIST$/ || /^\+.*: pid none$/) next
		bad = 1 }
		END { exit !(n > 0 && !bad) }' "$1"
}
xfails=()
for s in clone3-tid-cgroup clone3-set-tid-ns; do
	if grep -q "^FAIL conformance-$s-forced:" "$o/conformance.log" &&
		only_tid_race "$root/$B/tests/conformance/$s.forced.diff"; then
		xfails+=("$s")
	fi
done
sed -e 's/^\(PASS\|FAIL\|SKIP\) conformance-/\1 sanitize-conformance-/' "$o/conformance.log" |
	awk -v x="${xfails[*]}" 'BEGIN { n = split(x, a, " "); for (i = 1; i <= n; i++) xf["FAIL sanitize-conformance-" a[i] "-forced:"] = 1 }
		{ k = $1 " " $2 }
		k in xf { print "XFAIL " substr($2, 1, length($2) - 1) ": set_tid raced with another process (ns_last_pid; issue 12, item 15a)"; next }
		{ print }'
fails=$(grep -c '^FAIL conformance-' "$o/conformance.log")
if [ "$st" != 0 ] && [ "$fails" != "${#xfails[@]}" ]; then rc=1; fi
if r=$(reports "$root/$B"/tests/conformance/*.err); then
	for f in $r; do fail "sanitize-conformance-report-$(basename "$f" .err)" "sanitizer report" "$f"; done
else
	pass sanitize-conformance-no-report
fi

# ---- trace mode, sanitized supervisor ---------------------------------------
cflags="-O1 -g -Wall -D_GNU_SOURCE -Iinclude"
for c in tests/conformance/*.c; do
	s=$(basename "$c" .c)
	# sysfill's own library calls: not system calls, nothing to trace
	head -1 "$c" | grep -q 'conformance: link libsysfill' && continue
	bin=$o/$s.static
	if ! cc -static $cflags -o "$bin" "$c" -lpthread >"$o/$s.static.log" 2>&1; then
		fail "sanitize-trace-$s-build" "cc -static failed" "$o/$s.static.log"
		continue
	fi
	# (subshells: a scenario killed by a signal is not reported on our stderr)
	( timeout -k 5 90 env SYSFILL_FORCE=1 build/sysfill run --mode=trace -- "$bin" </dev/null >"$o/$s.plain" 2>"$o/$s.plain.err" ) 2>/dev/null
	want=$?
	( timeout -k 5 120 env SYSFILL_FORCE=1 "$B/sysfill" run --mode=trace -- "$bin" </dev/null >"$o/$s.trace" 2>"$o/$s.trace.err" ) 2>/dev/null
	got=$?
	if reports "$o/$s.trace.err" >/dev/null; then
		fail "sanitize-trace-$s" "sanitizer report in the supervisor" "$o/$s.trace.err"
	elif [ "$got" != "$want" ]; then
		{ echo "exit $got, $want under build/sysfill"; tail -5 "$o/$s.trace.err"; } >"$o/$s.why"
		fail "sanitize-trace-$s" "exit status differs from the plain supervisor's" "$o/$s.why"
	else
		pass "sanitize-trace-$s"
	fi
done

# ---- the fuzzer forced, sanitized library -----------------------------------
F=$o/fuzz
if cc -O1 -g -Wall -Wno-unused-parameter -pthread -o "$F" tests/fuzz/fuzz.c >"$o/fuzz.log" 2>&1; then
	timeout -k 5 150 env LD_PRELOAD="$asan $root/$B/libsysfill.so" SYSFILL_FORCE=1 "$F" 1 400 </dev/null >"$o/fuzz.out" 2>"$o/fuzz.err"
	st=$?
	if reports "$o/fuzz.err" >/dev/null; then
		fail sanitize-fuzz "sanitizer report" "$o/fuzz.err"
	elif [ "$st" != 0 ] || ! grep -q '^-	end	' "$o/fuzz.out"; then
		{ echo "exit $st"; tail -3 "$o/fuzz.out"; tail -5 "$o/fuzz.err"; } >"$o/fuzz.why"
		fail sanitize-fuzz "the fuzzer did not end normally" "$o/fuzz.why"
	else
		pass sanitize-fuzz
	fi
else
	fail sanitize-fuzz-build "cc failed" "$o/fuzz.log"
fi
echo "sanitize time: $(( $(date +%s) - start )) s"
exit $rc
