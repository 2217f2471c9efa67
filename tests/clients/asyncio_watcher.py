"""asyncio with PidfdChildWatcher (Python 3.11): create_subprocess_exec and
await proc.wait() for several children at once, exit codes and a SIGTERM."""
import asyncio
import signal
import sys
import warnings

from _common import check, note, run

warnings.simplefilter("ignore", DeprecationWarning)


async def one(i):
    code = "import sys, time; time.sleep(%.2f); sys.exit(%d)" % (0.05 * i, 20 + i)
    p = await asyncio.create_subprocess_exec(sys.executable, "-c", code)
    return await asyncio.wait_for(p.wait(), 15)


async def killed():
    p = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; sys.stdin.read()",
        stdin=asyncio.subprocess.PIPE)
    await asyncio.sleep(0.1)
    p.terminate()
    return await asyncio.wait_for(p.wait(), 15)


async def output():
    p = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "print('hello')", stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(p.communicate(), 15)
    return p.returncode, out


async def amain():
    rcs = await asyncio.gather(*(one(i) for i in range(6)), killed(), output())
    note("return codes: %r" % (rcs,))
    check(rcs[:6] == [20 + i for i in range(6)], "exit codes %r" % (rcs[:6],))
    check(rcs[6] == -signal.SIGTERM, "terminated child: %r" % (rcs[6],))
    check(rcs[7] == (0, b"hello\n"), "communicate: %r" % (rcs[7],))


def main():
    watcher = asyncio.PidfdChildWatcher()
    asyncio.set_child_watcher(watcher)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    watcher.attach_loop(loop)
    try:
        loop.run_until_complete(amain())
    finally:
        loop.close()


run(main)
