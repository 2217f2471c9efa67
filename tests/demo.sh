#!/bin/bash
# `make demo`: python3 uses os.pidfd_open / signal.pidfd_send_signal /
# os.waitid(P_PIDFD) inside gVisor, which lacks them (like a pre-5.3
# kernel): first without sysfill, then with LD_PRELOAD=libsysfill.so.
set -u
cd "$(dirname "$0")/.."
prog='
import os, select, signal, subprocess
p = subprocess.Popen(["/bin/sleep", "30"])
fd = os.pidfd_open(p.pid)
signal.pidfd_send_signal(fd, signal.SIGTERM)
select.select([fd], [], [], 5)
si = os.waitid(os.P_PIDFD, fd, os.WEXITED)
print("child", si.si_pid == p.pid and "found", "killed by signal", si.si_status)
'
run() { runsc --network=none --platform=ptrace do "$@" </dev/null 2>&1 | cat; }
echo "== inside gVisor (kernel $(run uname -r)), without sysfill:"
run /usr/bin/python3 -c "$prog" | tail -n 1
echo "== inside gVisor, with LD_PRELOAD=build/libsysfill.so:"
run env LD_PRELOAD="$PWD/build/libsysfill.so" SYSFILL_LOG=info /usr/bin/python3 -c "$prog"
