#!/bin/bash
# EPERM-profile suite: programs run under tests/tools/eperm-profile, the
# seccomp profile of old container runtimes (clone3 -> EPERM). glibc 2.36
# falls back from clone3 to clone only on ENOSYS, so without sysfill every
# thread and posix_spawn fails there. Prints "PASS name" / "FAIL name: why";
# exits non-zero on failure.
set -u
cd "$(dirname "$0")/.."
CC=${CC:-cc}
tools=build/tests/tools
mkdir -p "$tools"
rc=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; rc=1; }

build() { # OUT SRC LIBS...
	local out=$1 src=$2
	shift 2
	if ! log=$("$CC" -std=gnu11 -O1 -g -Wall -Wextra ${CI:+-Werror} \
		-D_GNU_SOURCE "$src" "$@" -o "$tools/$out" 2>&1); then
		fail "build-$out" "$(printf '%s' "$log" | head -n 5 | tr '\n' ' ')"
		return 1
	fi
}
build eperm-profile tests/tools/eperm-profile.c -lseccomp || exit 1
build spawn-probe tests/tools/spawn-probe.c -pthread || exit 1

eperm=$tools/eperm-profile
probe=$tools/spawn-probe
py_thread='import threading; t = threading.Thread(target=lambda: None); t.start(); t.join(); print("thread: OK")'

# check NAME EXPECTED_SUBSTRING CMD...: CMD's stdout+stderr must contain it.
check() {
	local name=$1 want=$2 out
	shift 2
	out=$("$@" 2>&1)
	if [[ "$out" == *"$want"* ]]; then
		pass "$name"
	else
		fail "$name" "expected '$want', got: $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
	fi
}
# check_status NAME WANT_STATUS CMD...
check_status() {
	local name=$1 want=$2
	shift 2
	"$@" >/dev/null 2>&1
	local st=$?
	if [ "$st" = "$want" ]; then pass "$name"; else fail "$name" "exit status $st, expected $want"; fi
}

# ---- controls: the same programs work without the profile ----
check native-clone3-validates-arguments "clone3: EINVAL" "$probe" clone3
check native-pthread-create-works "thread: OK" "$probe" thread
check native-posix-spawn-works "spawn: OK" "$probe" spawn
check native-python-thread-starts "thread: OK" python3 -c "$py_thread"

# ---- under the profile, without sysfill: everything that uses clone3 fails ----
check eperm-profile-answers-clone3-with-eperm "clone3: EPERM" "$eperm" "$probe" clone3
check eperm-profile-breaks-pthread-create "thread: EPERM" "$eperm" "$probe" thread
check eperm-profile-breaks-posix-spawn "spawn: EPERM" "$eperm" "$probe" spawn
check eperm-profile-breaks-python-threads "RuntimeError: can't start new thread" \
	"$eperm" /usr/bin/python3 -c "$py_thread"
check_status eperm-profile-python-thread-exits-1 1 \
	"$eperm" /usr/bin/python3 -c "$py_thread"

# ---- under the profile, WITH sysfill ----------------------------------
# clone3 is emulated by the library (its filter's TRAP outranks the
# profile's ERRNO): the raw call validates its arguments as the kernel does,
# and Python threads, subprocess and C pthread_create/posix_spawn work again.
# SYSFILL_CLONE3=enosys answers ENOSYS instead (what Linux 5.2 answers; the
# most recent filter wins a tie of ERRNO actions), and glibc falls back to
# clone.
make -s build/libsysfill.so >/dev/null || { fail build-libsysfill "make failed"; exit 1; }
lib=$PWD/build/libsysfill.so
check eperm-with-sysfill-clone3-validates-as-native "clone3: EINVAL" \
	"$eperm" env LD_PRELOAD="$lib" "$probe" clone3
check eperm-with-sysfill-enosys-clone3-answers-enosys "clone3: ENOSYS" \
	"$eperm" env LD_PRELOAD="$lib" SYSFILL_CLONE3=enosys "$probe" clone3
check eperm-with-sysfill-enosys-pthread-create-works "thread: OK" \
	"$eperm" env LD_PRELOAD="$lib" SYSFILL_CLONE3=enosys "$probe" thread
check eperm-with-sysfill-pthread-create-works "thread: OK" \
	"$eperm" env LD_PRELOAD="$lib" "$probe" thread
check eperm-with-sysfill-posix-spawn-works "spawn: OK" \
	"$eperm" env LD_PRELOAD="$lib" "$probe" spawn
check eperm-with-sysfill-python-threads-work "thread: OK" \
	"$eperm" env LD_PRELOAD="$lib" /usr/bin/python3 -c "$py_thread"
check eperm-with-sysfill-python-subprocess-works "rc=7" \
	"$eperm" env LD_PRELOAD="$lib" /usr/bin/python3 -c \
	'import subprocess; print("rc=%d" % subprocess.run(["/bin/sh", "-c", "exit 7"]).returncode)'
# A program exec'd from there inherits the filter (clone3 and masks
# trapped, not the pidfd calls): its pidfds stay the kernel's, and its
# threads work.
check eperm-with-sysfill-exec-child-keeps-native-pidfds "anon_inode:[pidfd] thread: OK" \
	"$eperm" env LD_PRELOAD="$lib" /usr/bin/python3 -c \
	'import subprocess, sys; sys.exit(subprocess.run([sys.executable, "-c", "import os, threading; fd = os.pidfd_open(os.getpid()); t = threading.Thread(target=len, args=((),)); t.start(); t.join(); print(os.readlink(\"/proc/self/fd/%d\" % fd), \"thread: OK\")"]).returncode)'
# The SIGSYS handler's stack under the profile, where only clone3 and masks
# trap: tests/conformance/sigsys-stack.c (small stacks with an alternate
# one, posix_spawn with an alternate stack) and sigsys-foreign.c (the
# program's SIGSYS handler where the kernel runs it); each transcript must
# be the native one.
for s in sigsys-stack sigsys-foreign; do
	# common.h is -Wall clean
	build "$s" "tests/conformance/$s.c" -Iinclude -pthread -Wno-unused-parameter || continue
	native=$(timeout -k 5 60 "$tools/$s" 2>&1)
	got=$(timeout -k 5 60 "$eperm" env LD_PRELOAD="$lib" "$tools/$s" 2>&1)
	if [ -n "$native" ] && [ "$got" = "$native" ]; then
		pass "eperm-with-sysfill-$s-matches-native"
	else
		fail "eperm-with-sysfill-$s-matches-native" \
			"$(diff <(echo "$native") <(echo "$got") | head -n 8 | tr '\n' ' ')"
	fi
done
# ------------------------------------------------------------------------

exit $rc
