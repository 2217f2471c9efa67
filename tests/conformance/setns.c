/* setns(2) with a pidfd (5.8, kernel/nsproxy.c): the flag rules (none,
 * unknown bits: EINVAL), ESRCH for a zombie and a reaped process, entering
 * a child's uts and net namespaces at once (hostname and namespace inode
 * as the child's), a pidfd of ourselves, and the kernel's answers for an
 * fd that is no pidfd (EINVAL) or no fd (EBADF). Needs root (unshare). */
#include <sys/utsname.h>
#include "common.h"

int main(void)
{
	scenario_init();
	if (!setns_usable())
		return 0;
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		die("pipe2");
	fflush(stdout);
	pid_t c = track(fork());
	if (c == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		char r = 'n';
		if (unshare(CLONE_NEWUTS | CLONE_NEWNET) == 0 &&
		    sethostname("sysfill-child", 13) == 0)
			r = 'y';
		if (write(p[1], &r, 1) < 0) {}
		for (;;)
			pause();
	}
	close(p[1]);
	char r = 0;
	if (read(p[0], &r, 1) != 1)
		die("read");
	close(p[0]);
	out("child namespaces: %s", r == 'y' ? "made" : "not made");
	long fd = sys_pidfd_open(c, 0);
	res("open", "pidfd_open", fd, 1);
	res("flags-0", "setns", syscall(SYS_setns, fd, 0), 0);
	res("flags-all-ones", "setns", syscall(SYS_setns, fd, -1), 0);
	res("flags-clone-vm", "setns", syscall(SYS_setns, fd, CLONE_VM), 0);
	res("flags-user-vm", "setns", syscall(SYS_setns, fd, CLONE_NEWUSER | CLONE_VM), 0);
	res("flags-sighand", "setns", setns((int)fd, CLONE_SIGHAND), 0);

	res("uts-net", "setns", setns((int)fd, CLONE_NEWUTS | CLONE_NEWNET), 0);
	struct utsname u;
	uname(&u);
	out("uts-net: hostname %s", !strcmp(u.nodename, "sysfill-child") ? "the child's" : "another");
	same_ns("uts-net", c, "uts");
	same_ns("uts-net", c, "net");

	long self = sys_pidfd_open(getpid(), 0);
	res("self-ipc", "setns", syscall(SYS_setns, self, CLONE_NEWIPC), 0);
	close(self);

	kill(c, SIGKILL);
	wait_zombie(c);
	res("zombie", "setns", syscall(SYS_setns, fd, CLONE_NEWUTS), 0);
	res("zombie-bad-flags", "setns", syscall(SYS_setns, fd, CLONE_VM), 0);
	reap(c);
	res("reaped", "setns", syscall(SYS_setns, fd, CLONE_NEWNET), 0);
	res("reaped-bad-flags", "setns", syscall(SYS_setns, fd, 0), 0);
	close(fd);

	if (pipe2(p, O_CLOEXEC))
		die("pipe2");
	res("pipe", "setns", syscall(SYS_setns, p[0], CLONE_NEWUTS), 0);
	res("pipe-0", "setns", setns(p[0], 0), 0);
	close(p[0]);
	close(p[1]);
	res("badfd", "setns", syscall(SYS_setns, 900, CLONE_NEWUTS), 0);
	return 0;
}
