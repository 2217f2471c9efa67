/* A pidfd is readable once its process is a zombie, so by the time any
 * wait has reported the child's exit its pidfd polls readable at once:
 * rounds of fork + pidfd_open + wait (each of libc's waits, and syscall())
 * + poll(pidfd, 0). */
#include "common.h"
#include <sys/resource.h>

enum { W_WAITPID, W_WAIT4, W_WAIT, W_WAIT3, W_WAITID_PID, W_WAITID_ALL,
       W_WAITID_PGID, W_WAITID_NOWAIT, W_SYSCALL_WAIT4, W_SYSCALL_WAITID };
static const char *const names[] = {
	"waitpid", "wait4", "wait", "wait3", "waitid(P_PID)", "waitid(P_ALL)",
	"waitid(P_PGID)", "waitid(P_PID,WNOWAIT)", "syscall(wait4)",
	"syscall(waitid)",
};

/* One round: 1 if the pidfd was readable right after the wait, 0 if not,
 * -1 if there is no pidfd (the call is missing). */
static int round_with(int how)
{
	fflush(stdout);
	pid_t c = track(fork());
	if (c < 0)
		die("fork");
	if (c == 0)
		_exit(3);
	long fd = sys_pidfd_open(c, 0);
	int st = 0;
	siginfo_t si;
	struct rusage ru;
	long r;
	switch (how) {
	case W_WAITPID: r = waitpid(c, &st, 0); break;
	case W_WAIT4: r = wait4(c, &st, 0, &ru); break;
	case W_WAIT: r = wait(&st); break;
	case W_WAIT3: r = wait3(&st, 0, &ru); break;
	case W_WAITID_PID: r = waitid(P_PID, c, &si, WEXITED); break;
	case W_WAITID_ALL: r = waitid(P_ALL, 0, &si, WEXITED); break;
	case W_WAITID_PGID: r = waitid(P_PGID, getpgid(0), &si, WEXITED); break;
	case W_WAITID_NOWAIT: r = waitid(P_PID, c, &si, WEXITED | WNOWAIT); break;
	case W_SYSCALL_WAIT4: r = syscall(SYS_wait4, c, &st, 0, NULL); break;
	default: r = syscall(SYS_waitid, P_PID, c, &si, WEXITED, NULL); break;
	}
	if (r < 0)
		die(names[how]);
	int ok = -1;
	if (fd >= 0) {
		struct pollfd p = {.fd = (int)fd, .events = POLLIN};
		ok = poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
		close((int)fd);
	}
	if (how == W_WAITID_NOWAIT)
		waitpid(c, &st, 0);
	return ok;
}

int main(void)
{
	scenario_init();
	long fd = sys_pidfd_open(getpid(), 0);
	res("probe", "pidfd_open", fd, 1);
	if (fd < 0)
		return 0;
	close((int)fd);
	for (int how = 0; how <= W_SYSCALL_WAITID; how++) {
		int rounds = how == W_WAITPID ? 500 : 30, ready = 0;
		for (int i = 0; i < rounds; i++) {
			int ok = round_with(how);
			ready += ok == 1;
		}
		out("%s: readable after the wait in %d of %d rounds", names[how],
		    ready, rounds);
	}
	return 0;
}
