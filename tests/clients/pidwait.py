"""procps pidwait (pidfd_open on processes that are not its children, then
epoll with EPOLLET): it waits while the target runs and returns promptly once
the target exits.
  A: target is our child (pidwait's sibling), left unreaped while pidwait
     runs: a zombie counts as exited.
  B: target is the child of a separate python process that reaps it.
  C: pattern mode (pidwait -f MARKER) instead of a pid file."""
import os
import select
import subprocess
import sys
import tempfile
import time

from _common import Missing, check, note, run

PIDWAIT = "/usr/bin/pidwait"
SLEEP = 1.0
# pidwait must return within LAG s of the target's exit (gVisor startup of
# pidwait itself included).
LAG = 0.8


def pidwait(args):
    t0 = time.monotonic()
    r = subprocess.run([PIDWAIT, "-e"] + args, capture_output=True, text=True,
                       timeout=15)
    dt = time.monotonic() - t0
    if "not implemented" in r.stderr:
        raise Missing("pidwait: %s" % r.stderr.strip())
    check(r.returncode == 0, "pidwait rc=%d out=%r err=%r" % (
        r.returncode, r.stdout, r.stderr))
    return dt, r.stdout.strip()


def pidfile(pid):
    f = tempfile.NamedTemporaryFile("w", delete=False, prefix="sysfill-pw-")
    f.write("%d\n" % pid)
    f.close()
    return f.name


def case_a():
    t0 = time.monotonic()
    p = subprocess.Popen(["/bin/sleep", "%g" % SLEEP])
    path = pidfile(p.pid)
    dt, out = pidwait(["-F", path])
    total = time.monotonic() - t0
    os.unlink(path)
    check(p.poll() is not None, "pidwait returned while its target still runs")
    check(p.returncode == 0, "sleep rc %r" % p.returncode)
    note("A: pidwait %.3f s, target started %.3f s before the end (%s)" % (
        dt, total, out))
    check(total >= SLEEP * 0.95, "returned after %.3f s < %.1f s" % (total, SLEEP))
    check(total <= SLEEP + LAG, "returned %.3f s after start, > %.1f + %.1f" % (
        total, SLEEP, LAG))


def case_b():
    code = ("import subprocess, sys, time\n"
            "p = subprocess.Popen(['/bin/sleep', '%g'])\n"
            "print(p.pid, flush=True)\n"
            "p.wait()\n"
            "print('reaped %%.6f' %% time.monotonic(), flush=True)\n"
            "sys.stdin.read()\n" % SLEEP)
    parent = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    pid = int(parent.stdout.readline())
    t0 = time.monotonic()
    path = pidfile(pid)
    dt, out = pidwait(["-F", path])
    t1 = time.monotonic()
    os.unlink(path)
    r, _, _ = select.select([parent.stdout], [], [], 5)
    check(r, "intermediate parent never reaped the target")
    line = parent.stdout.readline().split()
    check(line and line[0] == "reaped", "intermediate said %r" % line)
    t_reap = float(line[1])
    parent.stdin.close()
    parent.wait(timeout=10)
    note("B: pidwait %.3f s; returned %.3f s after the target was reaped (%s)" % (
        dt, t1 - t_reap, out))
    check(t1 >= t_reap - 0.05, "pidwait returned %.3f s before the reap" % (
        t_reap - t1))
    check(t1 - t_reap <= LAG, "pidwait returned %.3f s after the reap" % (t1 - t_reap))
    check(t1 - t0 <= SLEEP + LAG, "took %.3f s" % (t1 - t0))


def case_c():
    marker = "sysfill-pidwait-marker-%d" % os.getpid()
    p = subprocess.Popen([sys.executable, "-c",
                          "import sys, time; print(1, flush=True); time.sleep(%g)" % SLEEP,
                          marker], stdout=subprocess.PIPE)
    p.stdout.readline()  # running, argv in place
    t_ready = time.monotonic()
    dt, out = pidwait(["-f", marker])
    t1 = time.monotonic()
    check(p.poll() is not None, "pidwait returned while its target still runs")
    p.stdout.close()
    note("C: pidwait %.3f s, %.3f s after the target started sleeping (%s)" % (
        dt, t1 - t_ready, out))
    check(str(p.pid) in out, "pidwait did not name pid %d: %r" % (p.pid, out))
    check(t1 - t_ready <= SLEEP + LAG, "took %.3f s" % (t1 - t_ready))


def main():
    case_a()
    case_b()
    case_c()


run(main)
