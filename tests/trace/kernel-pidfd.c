/* A kernel pidfd (clone with CLONE_PIDFD, which --kernel 5.2 lets through)
 * used with the calls that kernel lacks, which trace mode then emulates:
 * pidfd_send_signal, poll, waitid(P_PIDFD), as the kernel answers them. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void res(const char *what, long r)
{
	if (r < 0)
		printf("%s = -1 %s\n", what, strerrorname_np(errno));
	else
		printf("%s = %ld\n", what, r);
}

int main(void)
{
	int pidfd = -1;
	long c = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pidfd, 0, 0);
	if (c == 0) {
		pause();
		_exit(3);
	}
	printf("clone: %s, pidfd %s\n", c > 0 ? "child" : "failed",
	       pidfd >= 0 ? "set" : "not set");
	res("send-0", syscall(424, pidfd, 0, 0, 0));
	res("send-bad-flags", syscall(424, pidfd, 0, 0, 99));
	struct pollfd p = {pidfd, POLLIN, 0};
	res("poll-live", poll(&p, 1, 0));
	res("send-kill", syscall(424, pidfd, SIGKILL, 0, 0));
	res("poll-exited", poll(&p, 1, 5000));
	siginfo_t si;
	memset(&si, 0, sizeof si);
	res("waitid", syscall(SYS_waitid, 3 /* P_PIDFD */, pidfd, &si, WEXITED, 0));
	printf("waitid: code %d status %d pid %s\n", si.si_code, si.si_status,
	       si.si_pid == c ? "child" : "other");
	res("send-reaped", syscall(424, pidfd, 0, 0, 0));
	res("waitid-reaped", syscall(SYS_waitid, 3, pidfd, &si, WEXITED, 0));
	return 0;
}
