/* The four calls once each on ourselves: the fingerprint of a kernel that
 * has them (fd, 0, fd, ECHILD) or lacks them (ENOSYS..., waitid EINVAL). */
#include "common.h"

int main(void)
{
	scenario_init();
	long fd = sys_pidfd_open(getpid(), 0);
	res("probe-open", "pidfd_open", fd, 1);
	res("probe-send", "pidfd_send_signal", sys_pidfd_send_signal(fd, 0, NULL, 0), 0);
	int dn = open("/dev/null", O_RDONLY | O_CLOEXEC);
	long g = sys_pidfd_getfd(fd, dn, 0);
	res("probe-getfd", "pidfd_getfd", g, 1);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	res("probe-waitid", "waitid", sys_waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG), 0);
	/* what a kernel without pidfds says to glibc's probe */
	res("probe-waitid-glibc", "waitid", sys_waitid(P_PIDFD, INT_MAX, &si, WEXITED | WNOHANG), 0);
	return 0;
}
