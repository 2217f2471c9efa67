# The demo of `make demo` (and suite-dist): a child found through
# os.pidfd_open, killed with signal.pidfd_send_signal, seen exiting by
# select() on the pidfd and reaped with os.waitid(P_PIDFD).
import os, select, signal, subprocess
p = subprocess.Popen(["/bin/sleep", "30"])
fd = os.pidfd_open(p.pid)
signal.pidfd_send_signal(fd, signal.SIGTERM)
select.select([fd], [], [], 5)
si = os.waitid(os.P_PIDFD, fd, os.WEXITED)
print("child", si.si_pid == p.pid and "found", "killed by signal", si.si_status)
