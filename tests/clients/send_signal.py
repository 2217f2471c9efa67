"""signal.pidfd_send_signal: SIGTERM kills the child (returncode -15), a
caught SIGUSR1 reaches the right process, sig 0 works on a live process and
on an unreaped zombie, and gives ProcessLookupError after the reap."""
import os
import select
import signal
import subprocess
import sys

from _common import check, fd_kind, note, run, wait_child

WAIT = "import sys; sys.stdin.read(); sys.exit(7)"
# Prints "ready" once its SIGUSR1 handler is in place; exits 42 on SIGUSR1.
# It waits in short sleeps, not in one read(): python runs a handler
# between bytecodes, so a signal that came after the print but before a
# blocking read() would leave it blocked for good, natively too (the test's
# own race, not sysfill's: in gVisor, without sysfill, a plain os.kill lost
# 52 of 120 that way). A signal that never arrives still fails the test.
USR1 = ("import os, signal, time\n"
        "signal.signal(signal.SIGUSR1, lambda *a: os._exit(42))\n"
        "print('ready', flush=True)\n"
        "for _ in range(1200):\n"
        "    time.sleep(0.05)\n"
        "os._exit(7)\n")


def main():
    # SIGTERM, default action
    c = subprocess.Popen([sys.executable, "-c", WAIT], stdin=subprocess.PIPE)
    fd = os.pidfd_open(c.pid)
    note("pidfd-kind=%s" % fd_kind(fd))
    signal.pidfd_send_signal(fd, 0)  # alive: succeeds
    signal.pidfd_send_signal(fd, signal.SIGTERM)
    rc = wait_child(c)
    note("SIGTERM child returncode=%d" % rc)
    check(rc == -signal.SIGTERM, "returncode %d != -15" % rc)
    try:
        signal.pidfd_send_signal(fd, 0)
        check(False, "sig 0 after reap did not fail")
    except ProcessLookupError:
        pass
    try:
        signal.pidfd_send_signal(fd, signal.SIGTERM)
        check(False, "SIGTERM after reap did not fail")
    except ProcessLookupError:
        pass
    c.stdin.close()
    os.close(fd)

    # SIGUSR1 caught by the child: proves the signal reached that process
    c = subprocess.Popen([sys.executable, "-c", USR1], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    check(c.stdout.readline().strip() == b"ready", "child did not get ready")
    fd = os.pidfd_open(c.pid)
    signal.pidfd_send_signal(fd, signal.SIGUSR1)
    rc = wait_child(c)
    check(rc == 42, "SIGUSR1 child returncode %d != 42" % rc)
    c.stdin.close()
    c.stdout.close()
    os.close(fd)

    # sig 0 on an unreaped zombie succeeds; after the reap it fails
    c = subprocess.Popen([sys.executable, "-c", WAIT], stdin=subprocess.PIPE)
    fd = os.pidfd_open(c.pid)
    c.stdin.close()
    p = select.poll()
    p.register(fd, select.POLLIN)
    check(p.poll(10000), "no POLLIN after the child's exit")
    signal.pidfd_send_signal(fd, 0)  # zombie: still succeeds on Linux
    rc = wait_child(c)
    check(rc == 7, "returncode %d != 7" % rc)
    try:
        signal.pidfd_send_signal(fd, 0)
        check(False, "sig 0 after reap did not fail")
    except ProcessLookupError:
        pass
    os.close(fd)

    # a non-pidfd fd is refused with EBADF; unknown flags with EINVAL
    r, w = os.pipe()
    try:
        signal.pidfd_send_signal(r, 0)
        check(False, "pidfd_send_signal on a pipe did not fail")
    except OSError as e:
        check(e.errno == 9, "pipe fd: errno %d != EBADF" % e.errno)
    os.close(r)
    os.close(w)
    fd = os.pidfd_open(os.getpid())
    try:
        signal.pidfd_send_signal(fd, 0, None, 0x40000000)
        check(False, "unknown flags did not fail")
    except OSError as e:
        check(e.errno == 22, "unknown flags: errno %d != EINVAL" % e.errno)
    os.close(fd)


run(main)
