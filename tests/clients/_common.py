"""Shared harness for the real-client scripts (tests/suite-clients.sh).

Each script calls run(main). Exit status and last line tell the suite what
happened:
  0, "OK"                        every check passed
  2, "MISSING errno=ENOSYS: ..."  a pidfd call is missing (gVisor without
                                  the library is expected to end here)
  1, "FAIL: ..."                  a check failed
  3, "FAIL: timed out ..."        the internal watchdog fired
"""
import errno
import os
import signal
import sys
import traceback


class Missing(Exception):
    """A pidfd call failed the way a kernel without it fails."""


def note(*args):
    print(*args, flush=True)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def fd_kind(fd):
    """What /proc/self/fd says the fd is: anon_inode:[pidfd] natively."""
    try:
        return os.readlink("/proc/self/fd/%d" % fd)
    except OSError as e:
        return "?(%s)" % e


def wait_child(c, timeout=10):
    """c.wait(timeout), saying on a timeout where the child was (its state,
    pending and blocked signals, tracer), which tells a lost signal from a
    lost exit report."""
    try:
        return c.wait(timeout=timeout)
    except Exception:
        try:
            with open("/proc/%d/status" % c.pid) as f:
                keep = ("State", "SigPnd", "ShdPnd", "SigBlk", "SigIgn",
                        "SigCgt", "TracerPid")
                note("child status: " + "; ".join(
                    l.strip() for l in f if l.split(":")[0] in keep))
        except OSError as e:
            note("child status: unreadable (%s)" % e)
        raise


def run(main, timeout=30):
    def on_alarm(signum, frame):
        note("FAIL: timed out after %ds" % timeout)
        os._exit(3)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(timeout)
    note("kernel=%s python=%s preload=%s force=%s" % (
        os.uname().release, sys.version.split()[0],
        os.environ.get("LD_PRELOAD", "-"), os.environ.get("SYSFILL_FORCE", "-")))
    try:
        main()
    except Missing as e:
        note("MISSING errno=ENOSYS: %s" % e)
        sys.stdout.flush()
        os._exit(2)
    except OSError as e:
        if e.errno == errno.ENOSYS:
            note("MISSING errno=ENOSYS: %s" % e)
            traceback.print_exc(file=sys.stdout)
            sys.stdout.flush()
            os._exit(2)
        note("FAIL: unexpected %r" % e)
        traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
        os._exit(1)
    except BaseException as e:  # AssertionError and anything else
        note("FAIL: %s: %s" % (type(e).__name__, e))
        traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
        os._exit(1)
    signal.alarm(0)
    note("OK")
    sys.stdout.flush()
    os._exit(0)
