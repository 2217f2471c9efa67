/* waitid's copy-out as SYSCALL_DEFINE5(waitid) makes it: after an error
 * the six fields of infop are cleared (EFAULT if infop cannot be written,
 * over any other error), the rusage is written only when a child was
 * reported (EFAULT before infop is touched). */
#include <sys/resource.h>
#include "common.h"

static siginfo_t si;
static struct rusage ru;

static long W5(long fd, void *info, int options, void *rus)
{
	return syscall(NR_waitid, P_PIDFD, fd, info, options, rus);
}

static void fields(const char *step)
{
	out("%s: si_signo=%d si_errno=%d si_code=%d si_pid=%s si_uid=%s si_status=%d pad=%s",
	    step, si.si_signo, si.si_errno, si.si_code, si.si_pid ? "set" : "0",
	    si.si_uid ? "set" : "0", si.si_status,
	    ((unsigned char *)&si)[12] == 0x5a ? "kept" : "written");
}

static void rusage_state(const char *step)
{
	const unsigned char *p = (const unsigned char *)&ru;
	int kept = 1;
	for (size_t i = 0; i < sizeof ru; i++)
		if (p[i] != 0x5a)
			kept = 0;
	out("%s: rusage %s", step, kept ? "untouched" : "written");
}

static void step(const char *name, long fd, void *info, int options, void *rus)
{
	memset(&si, 0x5a, sizeof si);
	memset(&ru, 0x5a, sizeof ru);
	long r = W5(fd, info, options, rus);
	res(name, "waitid", r, 0);
	fields(name);
	rusage_state(name);
}

int main(void)
{
	scenario_init();
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		die("pipe2");

	/* errors: fields cleared, rusage untouched */
	step("bad-options", p[0], &si, 0, &ru);
	step("unknown-options", p[0], &si, WEXITED | 0x00800000, &ru);
	step("fd-minus1", -1, &si, WEXITED, &ru);
	step("fd-pipe", p[0], &si, WEXITED, &ru);
	step("fd-pipe-wnohang", p[0], &si, WEXITED | WNOHANG, &ru);
	/* an unwritable infop turns any error into EFAULT */
	step("bad-options-efault", p[0], (void *)1, 0, &ru);
	step("fd-pipe-efault", p[0], (void *)1, WEXITED, &ru);

	pid_t c = spawn_pause();
	long fd = sys_pidfd_open(c, 0);
	res("live", "pidfd_open", fd, 1);
	/* WNOHANG, nothing to report: 0, fields cleared, rusage untouched */
	step("wnohang-live", fd, &si, WEXITED | WNOHANG, &ru);
	step("wnohang-live-null-ru", fd, &si, WEXITED | WNOHANG, NULL);
	step("wnohang-live-bad-ru", fd, &si, WEXITED | WNOHANG, (void *)1);
	step("wnohang-live-efault", fd, (void *)1, WEXITED | WNOHANG, &ru);

	/* PIDFD_NONBLOCK: EAGAIN, cleared */
	long nfd = sys_pidfd_open(c, PIDFD_NONBLOCK);
	step("nonblock-live", nfd, &si, WEXITED, &ru);
	close(nfd);

	/* reported: rusage written; a bad rusage gives EFAULT, the child is
	 * gone and infop is not touched */
	kill(c, SIGKILL);
	wait_zombie(c);
	step("zombie-wnowait", fd, &si, WEXITED | WNOWAIT | WNOHANG, &ru);
	step("zombie-bad-ru", fd, &si, WEXITED | WNOHANG, (void *)1);
	step("after-bad-ru", fd, &si, WEXITED | WNOHANG, &ru);
	close(fd);

	/* the same through a blocking wait */
	c = spawn_exit(3);
	fd = sys_pidfd_open(c, 0);
	wait_zombie(c);
	step("blocking-reported", fd, &si, WEXITED, &ru);
	step("blocking-after", fd, &si, WEXITED, &ru);
	close(fd);
	c = spawn_exit(4);
	fd = sys_pidfd_open(c, 0);
	wait_zombie(c);
	step("blocking-bad-ru", fd, &si, WEXITED, (void *)1);
	step("blocking-bad-ru-after", fd, &si, WEXITED, &ru);
	close(fd);
	c = spawn_exit(5);
	fd = sys_pidfd_open(c, 0);
	wait_zombie(c);
	step("blocking-efault", fd, (void *)1, WEXITED, &ru);
	step("blocking-efault-after", fd, &si, WEXITED, &ru);
	close(fd);

	/* a non-child: ECHILD, cleared */
	struct gc g = spawn_grandchild();
	fd = sys_pidfd_open(g.pid, 0);
	step("nonchild", fd, &si, WEXITED, &ru);
	step("nonchild-wnohang", fd, &si, WEXITED | WNOHANG, &ru);
	close(fd);
	stop_grandchild(&g);
	return 0;
}
