/* unshare(CLONE_NEWUSER) while a live child and a live non-child (a
 * grandchild) are watched through pidfds: natively the program is
 * single-threaded and the kernel allows it; the watches work after it
 * (the child's pidfd readable at its exit, its status for
 * waitid(P_PIDFD), the non-child's pidfd readable at its exit). (Not
 * CLONE_NEWPID: gVisor refuses it to a multithreaded process, and after
 * it no thread can be started on Linux: the library's waiters stay, see
 * docs/design.md.) */
#include <sched.h>
#include "common.h"

int main(void)
{
	scenario_init();
	pid_t c = spawn_pause();
	long p = sys_pidfd_open(c, 0);
	res("child", "pidfd_open", p, 1);
	struct gc g = spawn_grandchild();
	long q = sys_pidfd_open(g.pid, 0);
	res("nonchild", "pidfd_open", q, 1);
	pid_t c2 = spawn_pause();
	long p2 = sys_pidfd_open(c2, 0);
	res("child2", "pidfd_open", p2, 1);

	errno = 0;
	int r = unshare(CLONE_NEWUSER);
	out("unshare-newuser: %d %s", r, r < 0 ? errname(errno) : "");
	poll_report("child-after", (int)p, POLLIN, 0);
	poll_report("nonchild-after", (int)q, POLLIN, 0);
	kill(c, SIGKILL);
	poll_report("child-exit", (int)p, POLLIN, 3000);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	waitid_report("child-reap", sys_waitid(P_PIDFD, p, &si, WEXITED), &si, c);
	stop_grandchild(&g);
	struct pollfd pf = {.fd = (int)q, .events = POLLIN};
	int n = poll(&pf, 1, 3000);
	out("nonchild-exit: poll = %d, readable: %s", n,
	    pf.revents & POLLIN ? "yes" : "no");

	kill(c2, SIGKILL);
	poll_report("child2-exit", (int)p2, POLLIN, 3000);
	memset(&si, 0, sizeof si);
	waitid_report("child2-reap", sys_waitid(P_PIDFD, p2, &si, WEXITED), &si, c2);
	alarm(0);
	return 0;
}
