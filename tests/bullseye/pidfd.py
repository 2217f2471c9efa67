# A Python 3.9 (Debian 11) program using the pidfd API through the standard
# library, one line per observable (no pids or fd numbers), so that runs on
# the real kernel, with the library forced and inside gVisor compare.
import errno, os, select, signal, subprocess, sys, threading

def err(f, *a):
    try:
        f(*a)
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]

p = subprocess.Popen(["/bin/sleep", "30"])
fd = os.pidfd_open(p.pid)
print("pidfd_open child:", "fd" if fd >= 0 else fd)
print("poll before exit:", select.select([fd], [], [], 0)[0] == [fd])
signal.pidfd_send_signal(fd, signal.SIGTERM)
print("readable after kill:", select.select([fd], [], [], 5)[0] == [fd])
si = os.waitid(os.P_PIDFD, fd, os.WEXITED)
print("waitid:", si.si_pid == p.pid, si.si_code == os.CLD_KILLED, si.si_status)
print("send after reap:", err(signal.pidfd_send_signal, fd, 0))
print("waitid after reap:", err(os.waitid, os.P_PIDFD, fd, os.WEXITED))
os.close(fd)
print("pidfd_open(-1):", err(os.pidfd_open, -1))
print("pidfd_open(self) flags:", err(os.pidfd_open, os.getpid(), 1))
me = os.pidfd_open(os.getpid())
print("waitid(self):", err(os.waitid, os.P_PIDFD, me, os.WEXITED | os.WNOHANG))
print("send 0 to self:", err(signal.pidfd_send_signal, me, 0))
os.close(me)
# Threads and subprocesses go through clone3 in glibc 2.31? (2.34+ only):
# either way they must work.
out = []
ts = [threading.Thread(target=out.append, args=(i,)) for i in range(8)]
[t.start() for t in ts]
[t.join() for t in ts]
print("threads:", sorted(out) == list(range(8)))
r = subprocess.run(["/bin/sh", "-c", "exit 7"])
print("subprocess status:", r.returncode)
