/* Found by the differential fuzzer (tests/fuzz/):
 * - int arguments with junk above their low 32 bits: the kernel reads
 *   waitid's idtype and rt_sigaction's sig as ints, so P_PIDFD + junk is
 *   P_PIDFD and SIGSYS + junk is SIGSYS (a raw SIG_DFL for it must not
 *   become the real disposition: the next trapped call would kill us);
 * - pthread_sigmask/sigprocmask never block glibc's own signals 32 and 33
 *   (SIGCANCEL, SIGSETXID), also when the set given holds them (an old
 *   mask read back from the kernel). */
#include "common.h"
#include <stdint.h>

#define JUNK (0x5a5a5a5aL << 32)

static uint64_t kmask(void)
{
	uint64_t m = 0;
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, 0, &m, 8);
	return m;
}

int main(void)
{
	scenario_init();
	probe_pidfd_open();
	long fd;

	/* waitid(P_PIDFD + junk) on a child's pidfd: reaps it */
	pid_t c = track(spawn_exit(7));
	fd = sys_pidfd_open(c, 0);
	res("child", "pidfd_open", fd, 1);
	wait_zombie(c);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	long r = syscall(SYS_waitid, P_PIDFD | JUNK, fd, &si, WEXITED, 0);
	waitid_report("pidfd-junk-idtype", r, &si, c);
	memset(&si, 0, sizeof si);
	r = syscall(SYS_waitid, P_PID, c, &si, WEXITED | WNOHANG, 0);
	waitid_report("reaped-already", r, &si, c);
	if (fd >= 0)
		close(fd);

	/* rt_sigaction(SIGSYS + junk): the same signal */
	struct { void *h; unsigned long fl; void *re; uint64_t m; } dfl = { SIG_DFL, 0, 0, 0 }, o;
	memset(&o, 0xa5, sizeof o);
	r = syscall(SYS_rt_sigaction, SIGSYS | JUNK, &dfl, &o, 8);
	res("sigsys-junk", "rt_sigaction", r, 0);
	out("sigsys-junk: old handler=%s", o.h == SIG_DFL ? "SIG_DFL" : "other");
	memset(&o, 0xa5, sizeof o);
	r = syscall(SYS_rt_sigaction, SIGSYS | JUNK, 0, &o, 8);
	res("sigsys-junk-query", "rt_sigaction", r, 0);
	out("sigsys-junk-query: handler=%s", o.h == SIG_DFL ? "SIG_DFL" : "other");
	fd = sys_pidfd_open(getpid(), 0);
	res("after-sigsys-junk", "pidfd_open", fd, 1);
	if (fd >= 0)
		close(fd);

	/* glibc's own signals stay unblocked */
	uint64_t all = ~0ULL;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, 0, 8);
	out("raw-block-all: mask=%llx", (unsigned long long)kmask());
	sigset_t full, keep;
	sigfillset(&full);
	r = pthread_sigmask(SIG_SETMASK, &full, &keep);
	out("pthread-fill: %ld mask=%llx", r, (unsigned long long)kmask());
	r = pthread_sigmask(SIG_SETMASK, &keep, 0);
	out("pthread-old-set: %ld mask=%llx", r, (unsigned long long)kmask());
	r = sigprocmask(SIG_BLOCK, &keep, 0);
	out("sigprocmask-block-old: %ld mask=%llx", r, (unsigned long long)kmask());
	uint64_t none = 0;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, 0, 8);
	out("raw-unblock-all: mask=%llx", (unsigned long long)kmask());
	return 0;
}
