#!/bin/bash
# `make demo`: python3 uses os.pidfd_open / signal.pidfd_send_signal /
# os.waitid(P_PIDFD) inside gVisor, which lacks them (like a pre-5.3
# kernel): first without sysfill, then with LD_PRELOAD=libsysfill.so.
set -u
cd "$(dirname "$0")/.."
prog=$PWD/tests/tools/pidfd-demo.py
run() { runsc --network=none --platform=ptrace do "$@" </dev/null 2>&1 | cat; }
echo "== inside gVisor (kernel $(run uname -r)), without sysfill:"
run /usr/bin/python3 "$prog" | tail -n 1
echo "== inside gVisor, with LD_PRELOAD=build/libsysfill.so:"
run env LD_PRELOAD="$PWD/build/libsysfill.so" SYSFILL_LOG=info /usr/bin/python3 "$prog"
