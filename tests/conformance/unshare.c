/* A process that has used pidfds and is done with them is single-threaded
 * again, as natively: unshare(CLONE_NEWUSER) (the kernel refuses it to a
 * multithreaded process, EINVAL) and then unshare(CLONE_NEWPID) (gVisor
 * refuses that to a multithreaded one) succeed right after the last
 * pidfd is closed, without waiting for the library's helper threads to
 * time out. Last, as it moves the scenario into new namespaces. */
#include <sched.h>
#include "common.h"

int main(void)
{
	scenario_init();
	/* a child watched, exited, reaped through its pidfd, closed */
	pid_t c = spawn_pause();
	long p = sys_pidfd_open(c, 0);
	res("child", "pidfd_open", p, 1);
	kill(c, SIGKILL);
	if (p >= 0) {
		poll_report("child-exit", (int)p, POLLIN, 3000);
		siginfo_t si = {0};
		res("child-reap", "waitid", sys_waitid(P_PIDFD, p, &si, WEXITED), 0);
		close((int)p);
	} else {
		reap(c);
	}
	/* a non-child (a grandchild) watched the same way */
	struct gc g = spawn_grandchild();
	long q = sys_pidfd_open(g.pid, 0);
	res("nonchild", "pidfd_open", q, 1);
	stop_grandchild(&g);
	if (q >= 0) {
		/* (POLLHUP besides, once reaped, is another scenario's) */
		struct pollfd pf = {.fd = (int)q, .events = POLLIN};
		int n = poll(&pf, 1, 3000);
		out("nonchild-exit: poll = %d, readable: %s", n,
		    pf.revents & POLLIN ? "yes" : "no");
		close((int)q);
	}
	alarm(0); /* the watchdog's SIGALRM in a new user namespace: fine, but
		   * the scenario ends here anyway */
	errno = 0;
	int r = unshare(CLONE_NEWUSER);
	out("unshare-newuser: %d %s", r, r < 0 ? errname(errno) : "");
	errno = 0;
	r = unshare(CLONE_NEWPID);
	out("unshare-newpid: %d %s", r, r < 0 ? errname(errno) : "");
	out("threads after: %d", count_threads());
	return 0;
}
