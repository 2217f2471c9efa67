"""select.epoll with EPOLLIN|EPOLLET on the pidfds of several children: no
event while they run; each exit is reported once, for the right fd; no
repeats afterwards (edge-triggered)."""
import os
import select
import subprocess
import sys
import time

from _common import check, fd_kind, note, run

N = 6
CHILD = "import sys; sys.stdin.read(); sys.exit(%d)"


def main():
    kids = [subprocess.Popen([sys.executable, "-c", CHILD % (10 + i)],
                             stdin=subprocess.PIPE) for i in range(N)]
    ep = select.epoll()
    fds = {}
    for i, c in enumerate(kids):
        fd = os.pidfd_open(c.pid)
        fds[fd] = i
        ep.register(fd, select.EPOLLIN | select.EPOLLET)
    note("pidfd-kind=%s" % fd_kind(next(iter(fds))))
    ev = ep.poll(0.3)
    check(ev == [], "events while all children run: %r" % (ev,))
    seen = {}
    # Release the children one at a time, in a scrambled order, and check
    # that exactly the released one is reported.
    order = [3, 0, 5, 1, 4, 2]
    for i in order:
        fd = [f for f, j in fds.items() if j == i][0]
        t0 = time.monotonic()
        kids[i].stdin.close()
        ev = ep.poll(10)
        lat = time.monotonic() - t0
        check(ev, "child %d's exit not reported within 10 s" % i)
        for f, mask in ev:
            check(f in fds, "event for unknown fd %d" % f)
            check(mask & select.EPOLLIN, "mask %#x without EPOLLIN" % mask)
            seen[f] = seen.get(f, 0) + 1
        check([f for f, _ in ev] == [fd],
              "released child %d (fd %d), got events %r" % (i, fd, ev))
        note("child %d: event after %.1f ms" % (i, lat * 1e3))
    # Edge-triggered: nothing more, even though every pidfd stays readable.
    ev = ep.poll(0.5)
    check(ev == [], "repeated events: %r" % (ev,))
    check(all(seen.get(f) == 1 for f in fds), "counts %r" % seen)
    # Level-triggered check on the same fds: all readable now.
    ep2 = select.epoll()
    for f in fds:
        ep2.register(f, select.EPOLLIN)
    ev = ep2.poll(1, N + 1)
    check(sorted(f for f, _ in ev) == sorted(fds), "level-triggered: %r" % (ev,))
    ep2.close()
    for i, c in enumerate(kids):
        rc = c.wait(timeout=10)
        check(rc == 10 + i, "child %d returncode %d" % (i, rc))
    ep.close()
    for f in fds:
        os.close(f)


run(main)
