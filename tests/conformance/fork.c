/* A pidfd inherited across fork (and across exec when close-on-exec is
 * cleared) still names the same process: it signals, polls and refuses
 * waitid from a process that is not the parent. */
#include "common.h"

/* argv: --exec-child <fd>: use an inherited pidfd after exec. */
static int exec_child(int fd)
{
	scenario_init();
	res("exec-inherit-sig0", "pidfd_send_signal", sys_pidfd_send_signal(fd, 0, NULL, 0), 0);
	poll_report("exec-inherit-poll-live", fd, POLLIN, 0);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	waitid_report("exec-inherit-waitid", sys_waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG), &si, 0);
	res("exec-inherit-sigusr1", "pidfd_send_signal", sys_pidfd_send_signal(fd, SIGUSR1, NULL, 0), 0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--exec-child") == 0)
		return exec_child(atoi(argv[2]));
	scenario_init();

	struct kid c = kid_start();
	long fc = sys_pidfd_open(c.pid, 0);
	res("open", "pidfd_open", fc, 1);

	int ready[2], go[2];
	if (pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		die("pipe2");
	fflush(stdout);
	pid_t d = track(fork());
	if (d < 0)
		die("fork");
	if (d == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		res("forked-sig0", "pidfd_send_signal", sys_pidfd_send_signal(fc, 0, NULL, 0), 0);
		res("forked-sigusr1", "pidfd_send_signal", sys_pidfd_send_signal(fc, SIGUSR1, NULL, 0), 0);
		poll_report("forked-poll-live", fc, POLLIN, 0);
		siginfo_t si;
		memset(&si, 0, sizeof si);
		waitid_report("forked-waitid-live", sys_waitid(P_PIDFD, fc, &si, WEXITED | WNOHANG), &si, c.pid);
		long fp = sys_pidfd_open(getppid(), 0);
		res("forked-open-parent", "pidfd_open", fp, 1);
		res("forked-parent-sig0", "pidfd_send_signal", sys_pidfd_send_signal(fp, 0, NULL, 0), 0);
		if (fp >= 0) close(fp);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		char b;
		if (read(go[0], &b, 1) != 1)
			_exit(1);
		poll_report("forked-poll-zombie", fc, POLLIN, 5000);
		res("forked-zombie-sig0", "pidfd_send_signal", sys_pidfd_send_signal(fc, 0, NULL, 0), 0);
		waitid_report("forked-waitid-zombie", sys_waitid(P_PIDFD, fc, &si, WEXITED | WNOHANG), &si, c.pid);
		_exit(0);
	}
	char b;
	if (read(ready[0], &b, 1) != 1)
		die("read ready");
	kid_check("forked-sigusr1", &c);
	res("parent-after-fork-sig0", "pidfd_send_signal", sys_pidfd_send_signal(fc, 0, NULL, 0), 0);

	/* exec with the pidfd inherited (close-on-exec cleared) */
	if (fc >= 0 && fcntl(fc, F_SETFD, 0) < 0)
		die("F_SETFD");
	fflush(stdout);
	pid_t e = track(fork());
	if (e == 0) {
		char num[16];
		snprintf(num, sizeof num, "%ld", fc);
		execl("/proc/self/exe", argv[0], "--exec-child", num, (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(e, &st, 0);
	out("exec-inherit: exit status %d", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	if (fc >= 0) fcntl(fc, F_SETFD, FD_CLOEXEC);
	kid_check("exec-inherit-sigusr1", &c);

	kid_exit(&c, 0);
	if (write(go[1], "g", 1) != 1)
		die("write go");
	waitpid(d, &st, 0);
	out("forked: exit status %d", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));

	poll_report("parent-poll-zombie", fc, POLLIN, 5000);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	long r = sys_waitid(P_PIDFD, fc, &si, WEXITED);
	waitid_report("parent-waitid", r, &si, c.pid);
	if (r < 0) reap(c.pid);
	kid_close(&c);
	return 0;
}
