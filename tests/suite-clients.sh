#!/bin/bash
# Real programs (python3 3.11 and procps pidwait) against the pidfd API,
# four ways each:
#   gvisor-missing  gVisor, no library: the program must fail the way a
#                   missing call fails (ENOSYS), proving that the runs below
#                   happen where the calls are really missing
#   gvisor-lib      gVisor + LD_PRELOAD=libsysfill.so: must pass
#   forced          native + LD_PRELOAD + SYSFILL_FORCE=1: must pass, and a
#                   pidfd must not be a kernel pidfd (emulation really ran)
#   native          native, nothing loaded: the oracle, must pass
# Scripts are tests/clients/*.py (see tests/clients/_common.py for their exit
# protocol). SYSFILL_MUST_WORK=1 turns environmental skips into failures.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
LIB=$ROOT/build/libsysfill.so
PY=/usr/bin/python3
RUNSC=(runsc --network=none --platform=ptrace "do")
TMO=90
. tests/lib.sh

# run OUTFILE CMD...: run with a hard timeout, stdin from /dev/null, output
# through a pipe (runsc may lose output written straight to a file). Sets rc.
run() {
	timeout -k 5 "$TMO" "$@" </dev/null 2>&1 | cat >"$out"
	rc=${PIPESTATUS[0]}
}

last_fail() { grep -m1 '^FAIL' "$out" || echo "exit status $rc, no OK"; }
kind() { sed -n 's/^pidfd-kind=//p' "$out" | head -n1; }

have_gvisor=1 gvisor_why=""
if ! command -v runsc >/dev/null; then
	have_gvisor=0 gvisor_why="gVisor (runsc) not installed"
elif [ "$(timeout 60 "${RUNSC[@]}" $PY -c 'import os; print(os.uname().release)' </dev/null 2>&1 | cat)" != 4.4.0 ]; then
	have_gvisor=0 gvisor_why="gVisor (runsc) cannot run here"
fi
have_lib=1
[ -f "$LIB" ] || have_lib=0

for script in "$ROOT"/tests/clients/*.py; do
	name=$(basename "$script" .py)
	case $name in _*) continue ;; esac
	t=clients/$name

	# (a) gVisor without the library: the calls are missing
	if [ $have_gvisor = 0 ]; then
		skip "$t/gvisor-missing" "$gvisor_why"
	else
		run "${RUNSC[@]}" $PY "$script"
		if [ "$rc" = 2 ] && grep -q '^MISSING errno=ENOSYS' "$out" && grep -q '^kernel=4.4.0 ' "$out"; then
			pass "$t/gvisor-missing"
		elif [ "$rc" = 0 ]; then
			fail "$t/gvisor-missing" "passed in gVisor without the library: the calls are not missing there"
		else
			fail "$t/gvisor-missing" "expected exit 2 with ENOSYS, got: $(last_fail)"
		fi
	fi

	# (b) gVisor with the library
	if [ $have_gvisor = 0 ]; then
		skip "$t/gvisor-lib" "$gvisor_why"
	elif [ $have_lib = 0 ]; then
		fail "$t/gvisor-lib" "$LIB not built"
	else
		run "${RUNSC[@]}" env LD_PRELOAD="$LIB" SYSFILL_LOG=info $PY "$script"
		if [ "$rc" != 0 ] || [ "$(grep -v '^sysfill' "$out" | tail -n1)" != OK ]; then
			fail "$t/gvisor-lib" "$(last_fail)"
		elif ! grep -m1 'info: mode=' "$out" | grep -q 'mode=seccomp'; then
			fail "$t/gvisor-lib" "no mode=seccomp line at SYSFILL_LOG=info"
		else
			pass "$t/gvisor-lib"
		fi
	fi

	# (c) native, emulation forced
	if [ $have_lib = 0 ]; then
		fail "$t/forced" "$LIB not built"
	else
		run env LD_PRELOAD="$LIB" SYSFILL_FORCE=1 SYSFILL_LOG=info $PY "$script"
		k=$(kind)
		if [ "$rc" != 0 ] || [ "$(grep -v '^sysfill' "$out" | tail -n1)" != OK ]; then
			fail "$t/forced" "$(last_fail)"
		elif ! grep -m1 'info: mode=' "$out" | grep -q 'mode=seccomp'; then
			fail "$t/forced" "no mode=seccomp line at SYSFILL_LOG=info"
		elif [ "$k" = "anon_inode:[pidfd]" ]; then
			fail "$t/forced" "got a kernel pidfd: emulation was not forced"
		else
			pass "$t/forced"
		fi
	fi

	# (d) native: the oracle
	run $PY "$script"
	k=$(kind)
	if [ "$rc" != 0 ] || [ "$(tail -n1 "$out")" != OK ]; then
		fail "$t/native" "$(last_fail)"
	elif [ -n "$k" ] && [ "$k" != "anon_inode:[pidfd]" ]; then
		fail "$t/native" "pidfd is $k, not a kernel pidfd"
	else
		pass "$t/native"
	fi
done
exit $failed
