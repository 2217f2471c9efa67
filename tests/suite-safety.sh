#!/bin/bash
# The preload library must never kill or change the program (issue 7):
# tests/safety/safety.c makes raw pidfd syscalls from a thread that blocks
# every signal, from a handler whose sa_mask is full, with SIGSYS blocked,
# with its own SIGSYS handler, with another filter's SECCOMP_RET_TRAP (its
# data reaches the program's handler; the default action kills), around 200
# pthread_create and 20 posix_spawn calls, and execs itself with an empty
# environment. Its transcript must be
# the same natively (the oracle), with SYSFILL_FORCE=1, and inside gVisor
# with the library; inside gVisor without it the calls must be missing.
set -u
cd "$(dirname "$0")/.."
rc=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; rc=1; }
mkdir -p build/tests
make -s build/libsysfill.so >/dev/null || { fail build "make failed"; exit 1; }
bin=$PWD/build/tests/safety lib=$PWD/build/libsysfill.so
cc -std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter ${CI:+-Werror} -D_GNU_SOURCE -pthread \
	tests/safety/safety.c -o "$bin" || { fail build-safety "cc failed"; exit 1; }
gv() { runsc --network=none --platform=ptrace do "$@" </dev/null 2>&1 | cat; }

native=$("$bin" 2>&1)
[ -n "$native" ] && [[ "$native" != *ENOSYS* ]] && pass safety-native-oracle ||
	fail safety-native-oracle "$native"
compare() { # NAME OUTPUT
	if [ "$2" = "$native" ]; then pass "$1"; else
		fail "$1" "$(diff <(echo "$native") <(echo "$2") | tr '\n' ' ')"; fi
}
forced=$(SYSFILL_FORCE=1 SYSFILL_LOG=debug LD_PRELOAD=$lib "$bin" 2>/tmp/sf-safety.$$)
compare safety-forced-matches-native "$forced"
n=$(grep -c 'pidfd_open(' /tmp/sf-safety.$$); rm -f /tmp/sf-safety.$$
# 5 + 200 (the exec'd child logs nothing: its environment is empty).
[ "$n" -ge 205 ] && pass safety-forced-really-emulated ||
	fail safety-forced-really-emulated "only $n emulated pidfd_open calls"
compare safety-gvisor-with-library-matches-native "$(gv env LD_PRELOAD=$lib "$bin")"
without=$(gv "$bin")
[[ "$without" == *"plain: pidfd ENOSYS"* ]] && pass safety-gvisor-without-library-lacks-pidfd ||
	fail safety-gvisor-without-library-lacks-pidfd "$without"

# A static binary exec'd by an emulating process keeps the filter without
# the handler. The library then execs it under `sysfill run --mode=trace`
# (build/sysfill next to build/libsysfill.so), whose supervisor serves the
# inherited filter's traps: the program works. Without a sysfill next to
# the library, sysfill warns at the exec and the program dies of SIGSYS at
# its first pidfd call (the gap that remains, README).
static=$PWD/build/tests/static-client
if cc -static -O1 -o "$static" tests/safety/static-client.c 2>/dev/null; then
	out=$(SYSFILL_FORCE=1 LD_PRELOAD=$lib /usr/bin/python3 -c \
		"import subprocess; print('rc=%d' % subprocess.run(['$static']).returncode)" 2>&1)
	[[ "$out" == *"static: pidfd_open ok"*"rc=0"* ]] && pass static-exec-runs-under-trace-mode ||
		fail static-exec-runs-under-trace-mode "$out"
	out=$(gv env SYSFILL_FORCE=1 LD_PRELOAD=$lib /usr/bin/python3 -c \
		"import subprocess; print('rc=%d' % subprocess.run(['$static']).returncode)")
	[[ "$out" == *"static: pidfd_open ok"*"rc=0"* ]] && pass static-exec-runs-under-trace-mode-gvisor ||
		fail static-exec-runs-under-trace-mode-gvisor "$out"
	lonely=$(mktemp -d)
	cp "$lib" "$lonely/libsysfill.so"
	out=$(SYSFILL_FORCE=1 LD_PRELOAD=$lonely/libsysfill.so /usr/bin/python3 -c \
		"import subprocess; print('rc=%d' % subprocess.run(['$static']).returncode)" 2>&1)
	rm -rf "$lonely"
	[[ "$out" == *"statically linked"*"rc=-31"* ]] && pass static-exec-without-sysfill-warned-then-killed ||
		fail static-exec-without-sysfill-warned-then-killed "$out"
else
	fail static-exec-runs-under-trace-mode "cannot link statically"
fi

# A static program installing a full-mask handler that makes a pidfd call,
# exec'd from an emulating python: the same as natively, and in gVisor.
sh=$PWD/build/tests/static-handler
if cc -static -O1 -o "$sh" tests/safety/static-handler.c 2>/dev/null; then
	want=$("$sh")
	py="import subprocess; print(subprocess.run(['$sh']).returncode)"
	got=$(SYSFILL_FORCE=1 LD_PRELOAD=$lib /usr/bin/python3 -c "$py" 2>/dev/null)
	[ "$got" = "$want"$'\n'0 ] && [[ "$want" == *"pidfd ok, mask kept 1"* ]] &&
		pass static-handler-exec-under-trace-mode ||
		fail static-handler-exec-under-trace-mode "want '$want' got '$got'"
	got=$(gv env SYSFILL_FORCE=1 LD_PRELOAD=$lib /usr/bin/python3 -c "$py")
	[ "$got" = "$want"$'\n'0 ] && pass static-handler-exec-under-trace-mode-gvisor ||
		fail static-handler-exec-under-trace-mode-gvisor "want '$want' got '$got'"
else
	fail static-handler-exec-under-trace-mode "cannot link statically"
fi

# An i386 program exec'd by an emulating process cannot load the library:
# its calls (another ABI) pass the filter untouched and get what the kernel
# gives, as without sysfill (libseccomp's default would kill it at its first
# call). gVisor runs no i386 code, so natively only.
i386=$PWD/build/tests/i386-client
if as --32 -o "$i386.o" tests/safety/i386-client.S 2>/dev/null &&
	ld -m elf_i386 -o "$i386" "$i386.o" 2>/dev/null; then
	want=$("$i386"; echo "rc=$?")
	got=$(SYSFILL_FORCE=1 LD_PRELOAD=$lib /usr/bin/python3 -c \
		"import subprocess; r = subprocess.run(['$i386']).returncode; print('rc=%d' % r)" 2>/dev/null)
	[ "$got" = "$want" ] && [[ "$want" == *"i386 program runs"*"rc=3" ]] &&
		pass i386-exec-from-emulating-process-runs-as-without ||
		fail i386-exec-from-emulating-process-runs-as-without "want '$want' got '$got'"
else
	fail i386-exec-from-emulating-process-runs-as-without "cannot assemble an i386 program (binutils)"
fi

# The SIGSYS handler's stack use beyond the kernel's signal frame
# (tests/tools/stack-use.c: a thread's stack filled with a pattern before
# each trapped call). It runs on the program's alternate stack where the
# thread has one (SA_ONSTACK), which may be small (Rust: AT_MINSIGSTKSZ):
# the common calls stay within 2 KiB of it.
su=$PWD/build/tests/stack-use
if cc -std=gnu11 -O1 -g -Wall -Wextra -D_GNU_SOURCE -Iinclude -pthread \
	tests/tools/stack-use.c -o "$su"; then
	out=$("$su" 2>&1)
	[ "$(sed -n 's/^max //p' <<<"$out")" = 0 ] && pass stack-use-native-none ||
		fail stack-use-native-none "$out"
	out=$(SYSFILL_FORCE=1 LD_PRELOAD=$lib "$su" 2>&1)
	frame=$(sed -n 's/^frame //p' <<<"$out")
	echo "$out" | awk -v f="${frame:-0}" '$2 ~ /^[0-9]+$/ && $1 != "frame" && $1 != "max" {
		printf "    %s: %d bytes beyond the %d-byte kernel frame\n", $1, $2 - f, f }'
	over=$(awk -v f="${frame:-0}" '/^(pidfd_open|pidfd_send_signal|waitid-P_PIDFD|rt_sigprocmask|clone3) / &&
		$2 - f > 2048 { print $1 }' <<<"$out")
	if [ -n "$frame" ] && [ -z "$over" ] && ! grep -q 'result [^o]' <<<"$out"; then
		pass stack-use-forced-within-2KiB
	else
		fail stack-use-forced-within-2KiB "over: $over; $(tr '\n' ' ' <<<"$out")"
	fi
else
	fail build-stack-use "cc failed"
fi

# Setuid programs exec'd by an unprivileged process under the library: the
# filter needs no_new_privs there, so the program runs without gaining its
# set-id privilege (README: security model). Without the library it does.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	# A directory the unprivileged user can reach, wherever the checkout is.
	tmp=$(mktemp -d) && chmod 755 "$tmp"
	suid=$tmp/print-euid
	cc -O1 -Wall -o "$suid" tests/safety/print-euid.c && chmod 4755 "$suid"
	cp "$lib" "$tmp/libsysfill.so" && chmod 644 "$tmp/libsysfill.so"
	lib=$tmp/libsysfill.so
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	py="import os; os.execv('$suid', ['$suid'])"
	out=$(as_nobody /usr/bin/python3 -c "$py" 2>&1)
	[ "$out" = "euid=0 nnp=0" ] && pass setuid-without-library-gains-root ||
		fail setuid-without-library-gains-root "$out"
	# (stderr has the library's no_new_privs warning: tests/suite-cli.sh)
	out=$(as_nobody env LD_PRELOAD=$lib SYSFILL_FORCE=1 /usr/bin/python3 -c "$py" 2>/dev/null)
	[ "$out" = "euid=65534 nnp=1" ] && pass setuid-under-library-unprivileged-gains-nothing ||
		fail setuid-under-library-unprivileged-gains-nothing "$out"
	# As root (CAP_SYS_ADMIN) sysfill sets no flag.
	out=$(SYSFILL_FORCE=1 LD_PRELOAD=$lib "$suid" 2>&1)
	[ "$out" = "euid=0 nnp=0" ] && pass root-under-library-no-nnp ||
		fail root-under-library-no-nnp "$out"
	rm -rf "$tmp"
else
	echo "SKIP setuid: not root or no setpriv"
fi
exit $rc
