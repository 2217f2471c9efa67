#!/bin/bash
# Stress: tests/stress/stress.c (8 threads, 1,000 forked children, raw
# pidfd_open / pidfd_send_signal / pidfd_getfd / poll / waitid(P_PIDFD)),
# checked for statuses, lost notifications, leftover children, fds and
# threads. Runs natively (the oracle), natively with emulation forced, and in
# gVisor with the library (plus a short gVisor run without it, which must
# fail with ENOSYS). SYSFILL_MUST_WORK=1 turns environmental skips into
# failures.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
LIB=$ROOT/build/libsysfill.so
BIN=$ROOT/build/tests/stress
THREADS=8
CHILDREN=1000
# Threads the library may keep at the end: its idle waiter pool (one waiter
# per concurrently watched live child; a worker's next child can be watched
# before the previous waiter is idle again, so up to 2 per worker thread)
# plus the monitor thread (shim/monitor.c).
LIB_EXTRA=$((2 * THREADS + 1))
# Hard timeouts: a hang fails. gVisor's forks cost ~15-25 ms each (1,000
# children took 27 s in CI, 49 s beside a loaded build), so it gets more.
TMO_NATIVE=45 TMO_GVISOR=180
TMO=$TMO_NATIVE
RUNSC=(runsc --network=none --platform=ptrace "do")
. tests/lib.sh
run() {
	local t0
	t0=$(date +%s%N)
	timeout -k 5 "$TMO" "$@" </dev/null 2>&1 | cat >"$out"
	rc=${PIPESTATUS[0]}
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	grep '^stress:' "$out" | sed 's/^/    /'
	echo "    ($((ms / 1000)).$(printf %03d $((ms % 1000))) s wall)"
}
why() {
	[ "$rc" = 124 ] && { echo "timed out after $TMO s"; return; }
	grep -m1 '^FAIL' "$out" || echo "exit status $rc"
}
check() { # NAME: judge the last run
	if [ "$rc" = 0 ] && [ "$(grep -v '^sysfill' "$out" | tail -n1)" = OK ]; then
		pass "$1"
	else
		fail "$1" "$(why)"
	fi
}

mkdir -p "$ROOT/build/tests"
if ! ${CC:-cc} -std=gnu11 -O2 -g -Wall -Wextra -D_GNU_SOURCE -I"$ROOT/include" -pthread \
	-o "$BIN" tests/stress/stress.c >"$out" 2>&1; then
	fail stress/build "compiling tests/stress/stress.c failed"
	exit 1
fi

start=$(date +%s)
run "$BIN" $THREADS $CHILDREN 0
check stress/native

if [ -f "$LIB" ]; then
	run env LD_PRELOAD="$LIB" SYSFILL_FORCE=1 SYSFILL_LOG=info "$BIN" $THREADS $CHILDREN $LIB_EXTRA
	if grep -q '^stress: pidfd-kind=anon_inode:\[pidfd\]$' "$out"; then
		fail stress/forced "got a kernel pidfd: emulation was not forced"
	elif ! grep -q 'info: mode=seccomp' "$out"; then
		fail stress/forced "no mode=seccomp line at SYSFILL_LOG=info"
	else
		check stress/forced
	fi
else
	fail stress/forced "$LIB not built"
fi

if ! command -v runsc >/dev/null; then
	skip stress/gvisor-missing "gVisor (runsc) not installed"
	skip stress/gvisor-lib "gVisor (runsc) not installed"
elif [ "$(timeout 60 "${RUNSC[@]}" /bin/true </dev/null 2>&1 | cat; echo "${PIPESTATUS[0]}")" != 0 ]; then
	skip stress/gvisor-missing "gVisor (runsc) cannot run here"
	skip stress/gvisor-lib "gVisor (runsc) cannot run here"
else
	TMO=$TMO_GVISOR
	# Without the library the calls are missing: 8 children are enough.
	run "${RUNSC[@]}" "$BIN" $THREADS $THREADS 0
	if [ "$rc" = 1 ] && grep -q 'pidfd_open([0-9]*): Function not implemented' "$out"; then
		pass stress/gvisor-missing
	else
		fail stress/gvisor-missing "expected pidfd_open to fail with ENOSYS: $(why)"
	fi
	if [ -f "$LIB" ]; then
		run "${RUNSC[@]}" env LD_PRELOAD="$LIB" SYSFILL_LOG=info "$BIN" $THREADS $CHILDREN $LIB_EXTRA
		if ! grep -q 'info: mode=seccomp' "$out"; then
			fail stress/gvisor-lib "no mode=seccomp line at SYSFILL_LOG=info"
		else
			check stress/gvisor-lib
		fi
	else
		fail stress/gvisor-lib "$LIB not built"
	fi
fi
# clone3: 1,000 pthread_create+join (glibc calls clone3), 1,000 children from
# a raw clone3(CLONE_PIDFD) and 1,000 from a raw clone(CLONE_PIDFD): native,
# forced, and in gVisor (where clone3 is missing and CLONE_PIDFD ignored;
# 300 children there: a process costs ~15 ms in gVisor).
CBIN=$ROOT/build/tests/clone-stress
if ! ${CC:-cc} -std=gnu11 -O2 -g -Wall -Wextra -D_GNU_SOURCE -I"$ROOT/include" -pthread \
	-o "$CBIN" tests/stress/clone-stress.c >"$out" 2>&1; then
	fail stress/clone-build "compiling tests/stress/clone-stress.c failed"
else
	TMO=$TMO_NATIVE
	run "$CBIN" 1000 1000 0
	check stress/clone-native
	run env LD_PRELOAD="$LIB" SYSFILL_FORCE=1 SYSFILL_LOG=info "$CBIN" 1000 1000 3
	if ! grep -q 'info: mode=seccomp; clone3 emulated' "$out"; then
		fail stress/clone-forced "no 'mode=seccomp; clone3 emulated' line at SYSFILL_LOG=info"
	else
		check stress/clone-forced
	fi
	if command -v runsc >/dev/null; then
		TMO=$TMO_GVISOR
		run "${RUNSC[@]}" env LD_PRELOAD="$LIB" SYSFILL_LOG=info "$CBIN" 1000 300 3
		if ! grep -q 'info: mode=seccomp; clone3 emulated' "$out"; then
			fail stress/clone-gvisor-lib "no 'mode=seccomp; clone3 emulated' line at SYSFILL_LOG=info"
		else
			check stress/clone-gvisor-lib
		fi
	else
		skip stress/clone-gvisor-lib "gVisor (runsc) not installed"
	fi
fi
echo "    suite total $(( $(date +%s) - start )) s"
exit $failed
