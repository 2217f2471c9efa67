#!/bin/bash
# Helper threads of the library (issue 12, item 23): built with
# -fstack-protector-all, helpers made by a thread whose stack (and TCB) is
# unmapped afterwards must keep working. tests/safety/helper-tls.c must
# print the same natively, forced, and in gVisor with the library.
set -u
cd "$(dirname "$0")/.."
rc=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; rc=1; }
mkdir -p build/tests
make -s BUILD=build/ssp CFLAGS="-O2 -g -fstack-protector-all" build/ssp/libsysfill.so >build/tests/ssp.log 2>&1 ||
	{ fail helpers-build-ssp "make failed (build/tests/ssp.log)"; exit 1; }
lib=$PWD/build/ssp/libsysfill.so bin=$PWD/build/tests/helper-tls
cc -O1 -g -Wall -pthread tests/safety/helper-tls.c -o "$bin" ||
	{ fail helpers-build-test "cc failed"; exit 1; }
native=$(timeout -k 5 60 "$bin" 2>&1)
[[ "$native" == *done* ]] && pass helper-tls-native || fail helper-tls-native "$native"
got=$(timeout -k 5 60 env SYSFILL_FORCE=1 LD_PRELOAD=$lib "$bin" 2>&1)
[ "$got" = "$native" ] && pass helper-tls-forced-ssp ||
	fail helper-tls-forced-ssp "$(diff <(echo "$native") <(echo "$got") | tr '\n' ' ')"
if command -v runsc >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	got=$(timeout -k 5 90 runsc --network=none --platform=ptrace do env SYSFILL_FORCE=1 LD_PRELOAD=$lib sh -c "$bin" </dev/null 2>&1 | cat)
	[ "$got" = "$native" ] && pass helper-tls-gvisor-ssp ||
		fail helper-tls-gvisor-ssp "$(diff <(echo "$native") <(echo "$got") | tr '\n' ' ')"
else
	echo "SKIP helper-tls-gvisor-ssp: runsc not available (needs root and the runsc package)"
fi
exit $rc
