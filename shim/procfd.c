/* process_madvise (5.10) and process_mrelease (5.15) with an emulated
 * pidfd: made with a real pidfd of the same process where the kernel has
 * them (a kernel with these calls has pidfd_open), the kernel's own
 * answer where it has not (ENOSYS, as that kernel gives it).
 *
 * The real pidfd is opened by number, then the watch is asked again: its
 * eventfd's F_GETOWN is not 0 only while the watched process exists, and
 * while it exists its pid cannot name another process, so the pidfd is of
 * the right one. Normal context (libc's functions and syscall()). */
#include "sf.h"

long sf_process_pidfd_call(long nr, const long a[6])
{
	long pid = sf_pidfd_getpid((int)a[0]);
	if (pid == -EBADF) /* not an emulated pidfd: the kernel's */
		return sf_syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	/* Does the kernel have the call? fd -1 gives EBADF if it has. */
	long has = sf_syscall6(nr, -1, 0, 0, 0, 0, 0);
	if (has == -ENOSYS)
		return has;
	long real = pid > 0 ? sf_gate_call(SF_NR_pidfd_open, pid, 0, 0, 0) : -ESRCH;
	if (real == -ENOSYS || real == -EPERM) /* no pidfds to give it */
		return sf_syscall6(nr, -1, a[1], a[2], a[3], a[4], a[5]);
	/* the kernel checks flags before it looks at the process */
	if (real < 0)
		return nr == SF_NR_process_mrelease && a[1] ? -EINVAL
		       : nr == SF_NR_process_madvise && a[4] ? -EINVAL
							 : -ESRCH;
	long r = sf_pidfd_getpid((int)a[0]) == pid
			 ? sf_syscall6(nr, real, a[1], a[2], a[3], a[4], a[5])
			 : -ESRCH;
	sf_sys1(SF_NR_close, real);
	sf_log(SF_LOG_DEBUG, "%s(%ld, ...) = %ld%s%s",
	       nr == SF_NR_process_madvise ? "process_madvise" : "process_mrelease",
	       a[0], r, r < 0 ? " " : "", r < 0 ? sf_errname(r) : "");
	return r;
}
