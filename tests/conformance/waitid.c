/* waitid(P_PIDFD): exit statuses, WNOHANG, WNOWAIT, stop/continue,
 * PIDFD_NONBLOCK, who may be waited for, argument errors, the glibc and Go
 * probes. */
#include "common.h"

static siginfo_t si;

static long W(long fd, int options)
{
	memset(&si, 0x5a, sizeof si);
	return sys_waitid(P_PIDFD, fd, &si, options);
}

static void exit_case(const char *step, int how)
{
	pid_t c = how >= 0 ? spawn_exit(how) : spawn_pause();
	long fd = sys_pidfd_open(c, 0);
	if (fd < 0)
		res(step, "pidfd_open", fd, 1);
	if (how < 0)
		kill(c, -how);
	long r = W(fd, WEXITED);
	waitid_report(step, r, &si, c);
	if (r < 0) {
		kill(c, SIGKILL);
		reap(c);
	}
	r = W(fd, WEXITED);
	waitid_report(step, r, &si, c);
	if (fd >= 0) close(fd);
}

int main(void)
{
	scenario_init();

	/* exit statuses; each then ECHILD (already reaped) */
	exit_case("exit-0", 0);
	exit_case("exit-3", 3);
	exit_case("exit-255", 255);
	exit_case("killed-sigkill", -SIGKILL);
	exit_case("killed-sigterm", -SIGTERM);

	/* WNOHANG on a live child; WNOWAIT then a real wait */
	pid_t c = spawn_pause();
	long fd = sys_pidfd_open(c, 0);
	res("live", "pidfd_open", fd, 1);
	waitid_report("wnohang-live", W(fd, WEXITED | WNOHANG), &si, c);
	waitid_report("wnohang-live-stopped", W(fd, WSTOPPED | WNOHANG), &si, c);

	/* stop and continue */
	kill(c, SIGSTOP);
	waitid_report("wstopped", W(fd, WSTOPPED), &si, c);
	waitid_report("wstopped-again-wnohang", W(fd, WSTOPPED | WNOHANG), &si, c);
	kill(c, SIGCONT);
	waitid_report("wcontinued-wnowait", W(fd, WCONTINUED | WNOWAIT), &si, c);
	waitid_report("wcontinued", W(fd, WCONTINUED), &si, c);
	waitid_report("wcontinued-again-wnohang", W(fd, WCONTINUED | WNOHANG), &si, c);

	kill(c, SIGKILL);
	waitid_report("wnowait", W(fd, WEXITED | WNOWAIT), &si, c);
	waitid_report("wnowait-again", W(fd, WEXITED | WNOWAIT | WNOHANG), &si, c);
	waitid_report("wnowait-then-wait", W(fd, WEXITED), &si, c);
	waitid_report("after-reap", W(fd, WEXITED), &si, c);
	waitid_report("after-reap-wnohang", W(fd, WEXITED | WNOHANG), &si, c);
	close(fd);

	/* a zombie waited for with WNOHANG */
	c = spawn_exit(7);
	wait_zombie(c);
	fd = sys_pidfd_open(c, 0);
	waitid_report("zombie-wnohang", W(fd, WEXITED | WNOHANG), &si, c);
	if (fd < 0) reap(c);
	close(fd);

	/* PIDFD_NONBLOCK: EAGAIN while alive without WNOHANG, 0 with it */
	c = spawn_pause();
	fd = sys_pidfd_open(c, PIDFD_NONBLOCK);
	res("nonblock", "pidfd_open", fd, 1);
	waitid_report("nonblock-live", W(fd, WEXITED), &si, c);
	waitid_report("nonblock-live-wnohang", W(fd, WEXITED | WNOHANG), &si, c);
	kill(c, SIGKILL);
	wait_zombie(c);
	waitid_report("nonblock-zombie", W(fd, WEXITED), &si, c);
	if (fd < 0) reap(c);
	close(fd);

	/* O_NONBLOCK is the file's status flag, read at each wait (kernel/
	 * exit.c pidfd_get_pid): cleared with F_SETFL, the wait blocks; set
	 * with F_SETFL on a pidfd opened without PIDFD_NONBLOCK, EAGAIN. The
	 * child exits after 300 ms, so a wait that does not block returns
	 * first. */
	c = spawn_exit_later(4, 300);
	fd = sys_pidfd_open(c, PIDFD_NONBLOCK);
	res("nonblock-cleared", "fcntl",
	    fcntl((int)fd, F_SETFL, fcntl((int)fd, F_GETFL) & ~O_NONBLOCK), 0);
	waitid_report("nonblock-cleared", W(fd, WEXITED), &si, c);
	if (fd < 0) reap(c);
	close(fd);
	c = spawn_exit_later(6, 300);
	fd = sys_pidfd_open(c, 0);
	res("nonblock-set", "fcntl",
	    fcntl((int)fd, F_SETFL, fcntl((int)fd, F_GETFL) | O_NONBLOCK), 0);
	long rs = W(fd, WEXITED);
	waitid_report("nonblock-set", rs, &si, c);
	if (rs < 0 || si.si_pid != c)
		reap(c);
	close(fd);

	/* argument errors, on a live child */
	c = spawn_pause();
	fd = sys_pidfd_open(c, 0);
	waitid_report("options-0", W(fd, 0), &si, c);
	waitid_report("options-wnohang-only", W(fd, WNOHANG), &si, c);
	waitid_report("options-unknown", W(fd, WEXITED | 0x00800000), &si, c);
	waitid_report("options-0-badfd", W(INT_MAX, 0), &si, c);
	waitid_report("fd-intmax", W(INT_MAX, WEXITED), &si, c);
	waitid_report("fd-minus1", W(-1, WEXITED), &si, c);
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		die("pipe2");
	waitid_report("fd-pipe", W(p[0], WEXITED | WNOHANG), &si, c);
	close(p[0]);
	waitid_report("fd-closed", W(p[0], WEXITED | WNOHANG), &si, c);
	close(p[1]);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d", (int)c);
	int pd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	waitid_report("fd-proc-dir", W(pd, WEXITED | WNOHANG), &si, c);
	close(pd);
	errno = 0;
	long r = sys_waitid(P_PIDFD, fd, (void *)1, WEXITED | WNOHANG);
	waitid_report("efault-live-wnohang", r, &si, c);
	kill(c, SIGKILL);
	wait_zombie(c);
	r = sys_waitid(P_PIDFD, fd, (void *)1, WEXITED);
	waitid_report("efault-zombie", r, &si, c);
	/* the failed copy-out still reaped the child */
	waitid_report("efault-zombie-after", W(fd, WEXITED | WNOHANG), &si, c);
	if (fd < 0) reap(c);
	close(fd);

	/* NULL infop: allowed, returns 0 and reaps */
	c = spawn_exit(5);
	fd = sys_pidfd_open(c, 0);
	res("null-infop", "waitid", sys_waitid(P_PIDFD, fd, NULL, WEXITED), 0);
	waitid_report("null-infop-after", W(fd, WEXITED | WNOHANG), &si, c);
	if (fd < 0) reap(c);
	close(fd);

	/* non-child and self */
	struct gc g = spawn_grandchild();
	fd = sys_pidfd_open(g.pid, 0);
	waitid_report("nonchild", W(fd, WEXITED), &si, g.pid);
	waitid_report("nonchild-wnohang", W(fd, WEXITED | WNOHANG), &si, g.pid);
	stop_grandchild(&g);
	close(fd);

	/* Go's probe: pidfd_open(self), waitid(P_PIDFD, self) -> ECHILD,
	 * pidfd_send_signal(self, 0) -> 0 */
	fd = sys_pidfd_open(getpid(), 0);
	res("go-probe", "pidfd_open", fd, 1);
	waitid_report("go-probe", W(fd, WEXITED | WSTOPPED | WNOHANG), &si, getpid());
	res("go-probe", "pidfd_send_signal", sys_pidfd_send_signal(fd, 0, NULL, 0), 0);
	waitid_report("self-blocking", W(fd, WEXITED), &si, getpid());
	close(fd);

	/* glibc's probe */
	waitid_report("glibc-probe", W(INT_MAX, WEXITED | WNOHANG), &si, 0);
	return 0;
}
