/* process_madvise (5.10) and process_mrelease (5.15) with a pidfd: done
 * for the pidfd's process (MADV_COLD on a page of the child: the bytes
 * advised), the flag checks (EINVAL), a live process for process_mrelease
 * (EINVAL: it is not exiting), ESRCH once reaped, the kernel's EBADF for
 * an fd that is no pidfd; through raw syscall() and glibc's wrappers. */
#include <sys/mman.h>
#include <sys/uio.h>
#include "common.h"

#define NR_process_madvise 440
#define NR_process_mrelease 448
#ifndef MADV_COLD
#define MADV_COLD 20
#endif

static char page[4096] __attribute__((aligned(4096)));

int main(void)
{
	scenario_init();
	if (syscall(NR_process_madvise, -1, NULL, 0, 0, 0) < 0 && errno == ENOSYS) {
		out("skip: no process_madvise here (gVisor lacks it)");
		return 0;
	}
	memset(page, 1, sizeof page);
	pid_t c = spawn_pause();
	long fd = sys_pidfd_open(c, 0);
	res("open", "pidfd_open", fd, 1);
	struct iovec iov = {page, sizeof page};
	res("cold", "process_madvise", syscall(NR_process_madvise, fd, &iov, 1, MADV_COLD, 0), 0);
	res("cold-libc", "process_madvise", process_madvise((int)fd, &iov, 1, MADV_COLD, 0), 0);
	res("bad-flags", "process_madvise", syscall(NR_process_madvise, fd, &iov, 1, MADV_COLD, 1), 0);
	res("bad-advice", "process_madvise", syscall(NR_process_madvise, fd, &iov, 1, 12345, 0), 0);
	res("mrelease-live", "process_mrelease", syscall(NR_process_mrelease, fd, 0), 0);
	res("mrelease-flags", "process_mrelease", process_mrelease((int)fd, 1), 0);
	kill(c, SIGKILL);
	wait_zombie(c);
	reap(c);
	res("reaped", "process_madvise", syscall(NR_process_madvise, fd, &iov, 1, MADV_COLD, 0), 0);
	res("reaped-flags", "process_madvise", syscall(NR_process_madvise, fd, &iov, 1, MADV_COLD, 1), 0);
	res("mrelease-reaped", "process_mrelease", syscall(NR_process_mrelease, fd, 0), 0);
	res("mrelease-reaped-flags", "process_mrelease", syscall(NR_process_mrelease, fd, 1), 0);
	close(fd);
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		die("pipe2");
	res("pipe", "process_madvise", syscall(NR_process_madvise, p[0], &iov, 1, MADV_COLD, 0), 0);
	res("pipe-mrelease", "process_mrelease", syscall(NR_process_mrelease, p[0], 0), 0);
	res("badfd", "process_mrelease", process_mrelease(900, 0), 0);
	close(p[0]);
	close(p[1]);
	return 0;
}
