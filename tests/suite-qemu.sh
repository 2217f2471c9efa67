#!/bin/bash
# qemu-user: no seccomp there (seccomp() gives ENOSYS, PR_SET_SECCOMP
# EINVAL, ptrace ENOSYS), so the library must fall back to interposing
# libc's syscall(), pidfd_open(), pidfd_send_signal(), pidfd_getfd() and
# waitid(), and say so (mode=interpose at SYSFILL_LOG=info).
#   qemu/probe-no-seccomp  tests/qemu/probe.c natively and under qemu: what
#                          qemu does with the pidfd calls, seccomp, ptrace
#   qemu/client-*          tests/qemu/client.c (glibc entry points): plain,
#                          under qemu, forced natively (seccomp mode), and
#                          forced under qemu (interpose mode)
#   qemu/python-*          two tests/clients scripts with python3 under
#                          qemu in interpose mode (python's os.pidfd_open
#                          and signal.pidfd_send_signal call libc syscall(),
#                          os.waitid calls waitid()); the children python
#                          starts run natively, as qemu-user does not follow
#                          execve without binfmt_misc
# SYSFILL_MUST_WORK=1 turns environmental skips into failures.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
LIB=$ROOT/build/libsysfill.so
B=$ROOT/build/tests
QEMU=qemu-x86_64
. tests/lib.sh
run() {
	timeout -k 5 60 "$@" </dev/null >"$out" 2>&1
	rc=$?
}
why() { grep -m1 '^FAIL' "$out" || echo "exit status $rc"; }
kind() { sed -n 's/^pidfd-kind=//p' "$out" | head -n1; }
ok() { [ "$rc" = 0 ] && [ "$(grep -v '^sysfill' "$out" | tail -n1)" = OK ]; }

mkdir -p "$B"
for p in probe client; do
	if ! ${CC:-cc} -std=gnu11 -O1 -g -Wall -Wextra -D_GNU_SOURCE -o "$B/qemu-$p" \
		tests/qemu/$p.c >"$out" 2>&1; then
		fail qemu/build "compiling tests/qemu/$p.c failed"
		exit 1
	fi
done
if ! command -v $QEMU >/dev/null; then
	for t in probe-no-seccomp client-qemu client-interpose; do
		skip qemu/$t "qemu-x86_64 not installed"
	done
	exit $failed
fi

# What qemu-user itself does (informational lines, then one check).
run "$B/qemu-probe"
sed 's/^/    native: /' "$out"
run $QEMU "$B/qemu-probe"
sed 's/^/    qemu:   /' "$out"
if grep -q '^seccomp(SET_MODE_FILTER) *= -1' "$out" &&
	grep -q '^prctl(PR_SET_SECCOMP,FILTER) *= -1' "$out"; then
	pass qemu/probe-no-seccomp
else
	fail qemu/probe-no-seccomp "seccomp works under this qemu: the interpose path is not exercised"
fi

run "$B/qemu-client"
if ok && [ "$(kind)" = "anon_inode:[pidfd]" ]; then pass qemu/client-host; else fail qemu/client-host "$(why)"; fi

run $QEMU "$B/qemu-client"
if ok; then pass qemu/client-qemu; else fail qemu/client-qemu "$(why)"; fi

if [ ! -f "$LIB" ]; then
	fail qemu/client-forced-seccomp "$LIB not built"
	fail qemu/client-interpose "$LIB not built"
	exit 1
fi

run env LD_PRELOAD="$LIB" SYSFILL_FORCE=1 SYSFILL_LOG=info "$B/qemu-client"
if ! ok; then
	fail qemu/client-forced-seccomp "$(why)"
elif ! grep -q '^sysfill\[[0-9]*\]: info: mode=seccomp' "$out"; then
	fail qemu/client-forced-seccomp "no mode=seccomp line at SYSFILL_LOG=info"
elif [ "$(kind)" = "anon_inode:[pidfd]" ]; then
	fail qemu/client-forced-seccomp "got a kernel pidfd: emulation was not forced"
else
	pass qemu/client-forced-seccomp
fi

run $QEMU -E LD_PRELOAD="$LIB" -E SYSFILL_FORCE=1 -E SYSFILL_LOG=info "$B/qemu-client"
grep '^sysfill' "$out" | sed 's/^/    /'
if ! grep -q '^sysfill\[[0-9]*\]: info: mode=interpose' "$out"; then
	fail qemu/client-interpose "no mode=interpose line at SYSFILL_LOG=info"
elif ! ok; then
	fail qemu/client-interpose "$(why)"
elif [ "$(kind)" = "anon_inode:[pidfd]" ]; then
	fail qemu/client-interpose "got a kernel pidfd: the interposed calls were not emulated"
else
	pass qemu/client-interpose
fi

for s in pidfd_poll_waitid send_signal; do
	run $QEMU -E LD_PRELOAD="$LIB" -E SYSFILL_FORCE=1 -E SYSFILL_LOG=info \
		/usr/bin/python3 "$ROOT/tests/clients/$s.py"
	if ! grep -m1 'info: mode=' "$out" | grep -q 'mode=interpose'; then
		fail qemu/python-$s "python3 under qemu: no mode=interpose line"
	elif ! ok; then
		fail qemu/python-$s "$(why)"
	elif [ "$(kind)" = "anon_inode:[pidfd]" ]; then
		fail qemu/python-$s "got a kernel pidfd: the interposed calls were not emulated"
	else
		pass qemu/python-$s
	fi
done
exit $failed
