"""os.pidfd_open on a subprocess child; select.poll is quiet while the child
lives and reports POLLIN once it exits; os.waitid(P_PIDFD) reaps it with the
right siginfo (exit code and death by signal); WNOHANG/WNOWAIT behave; after
the reap waitid gives ECHILD."""
import os
import select
import signal
import subprocess
import sys
import time

from _common import check, fd_kind, note, run

# Exits with 7 when its stdin is closed: the test decides when it exits.
CHILD = "import sys; sys.stdin.read(); sys.exit(7)"


def spawn():
    return subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE)


def poll_in(fd, ms):
    p = select.poll()
    p.register(fd, select.POLLIN)
    return p.poll(ms)


def main():
    # 1. normal exit
    c = spawn()
    fd = os.pidfd_open(c.pid)
    note("pidfd-kind=%s" % fd_kind(fd))
    check(poll_in(fd, 0) == [], "pidfd readable at once while the child runs")
    check(poll_in(fd, 300) == [], "pidfd readable within 300 ms while the child runs")
    r = os.waitid(os.P_PIDFD, fd, os.WEXITED | os.WNOHANG)
    check(r is None, "waitid(WNOHANG) on a running child returned %r" % (r,))
    t0 = time.monotonic()
    c.stdin.close()
    ev = poll_in(fd, 10000)
    lat = time.monotonic() - t0
    check(len(ev) == 1 and ev[0][0] == fd and ev[0][1] & select.POLLIN,
          "no POLLIN within 10 s of the child's exit: %r" % (ev,))
    note("exit->POLLIN %.1f ms (includes the child's shutdown)" % (lat * 1e3))
    # WNOWAIT reports without reaping; the child must still be waitable.
    r = os.waitid(os.P_PIDFD, fd, os.WEXITED | os.WNOWAIT)
    check(r is not None and r.si_pid == c.pid and r.si_status == 7,
          "waitid(WNOWAIT) gave %r" % (r,))
    ev = poll_in(fd, 0)
    check(ev and ev[0][1] & select.POLLIN, "POLLIN lost after WNOWAIT: %r" % (ev,))
    r = os.waitid(os.P_PIDFD, fd, os.WEXITED)
    check(r is not None, "waitid returned None")
    note("waitid: si_pid=%d si_signo=%d si_code=%d si_status=%d" % (
        r.si_pid, r.si_signo, r.si_code, r.si_status))
    check(r.si_pid == c.pid, "si_pid %d != %d" % (r.si_pid, c.pid))
    check(r.si_signo == signal.SIGCHLD, "si_signo %d" % r.si_signo)
    check(r.si_code == os.CLD_EXITED, "si_code %d != CLD_EXITED" % r.si_code)
    check(r.si_status == 7, "si_status %d != 7" % r.si_status)
    ev = poll_in(fd, 0)
    check(ev and ev[0][1] & select.POLLIN,
          "reaped child's pidfd not readable: %r" % (ev,))
    note("after reap: revents=%#x" % ev[0][1])
    try:
        os.waitid(os.P_PIDFD, fd, os.WEXITED | os.WNOHANG)
        check(False, "second waitid did not fail")
    except ChildProcessError:
        pass
    c.returncode = 7  # reaped above; keep Popen from waiting again
    os.close(fd)

    # 2. death by signal
    c = spawn()
    fd = os.pidfd_open(c.pid)
    os.kill(c.pid, signal.SIGKILL)
    ev = poll_in(fd, 10000)
    check(ev and ev[0][1] & select.POLLIN, "no POLLIN after SIGKILL: %r" % (ev,))
    r = os.waitid(os.P_PIDFD, fd, os.WEXITED)
    check(r is not None and r.si_pid == c.pid, "waitid gave %r" % (r,))
    check(r.si_code == os.CLD_KILLED, "si_code %d != CLD_KILLED" % r.si_code)
    check(r.si_status == signal.SIGKILL, "si_status %d != SIGKILL" % r.si_status)
    c.returncode = -9
    c.stdin.close()
    os.close(fd)

    # 3. a pidfd of ourselves: not our child
    fd = os.pidfd_open(os.getpid())
    try:
        os.waitid(os.P_PIDFD, fd, os.WEXITED | os.WNOHANG)
        check(False, "waitid on own pidfd did not fail")
    except ChildProcessError:
        pass
    check(poll_in(fd, 0) == [], "own pidfd readable")
    # Longer than the library's non-child poll period (100 ms).
    check(poll_in(fd, 300) == [], "own pidfd readable within 300 ms")
    os.close(fd)


run(main)
