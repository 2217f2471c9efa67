/* process_madvise (5.10) and process_mrelease (5.15) with an emulated
 * pidfd: made with a real pidfd of the same process where the kernel has
 * them (a kernel with these calls has pidfd_open), the kernel's own
 * answer where it has not (ENOSYS, as that kernel gives it).
 *
 * The real pidfd is opened by number, then the watch is asked again: its
 * eventfd's F_GETOWN is not 0 only while the watched process exists, and
 * while it exists its pid cannot name another process, so the pidfd is of
 * the right one. Every step is the caller's own call: in the library
 * this process's, in trace mode the tracee's (an injected pidfd_open, a
 * real pidfd of the tracee's). Normal context (libc's functions and
 * syscall(); the tracer). */
#include "sf.h"

/* NR with A as caller C: its own call (sf_caller.sys); a pidfd_open goes
 * through the library's gate, past the filter that traps it. */
static long as_caller(const struct sf_caller *c, long nr, const long a[6])
{
	if (!c->sys && nr == SF_NR_pidfd_open)
		return sf_gate_call(SF_NR_pidfd_open, a[0], a[1], 0, 0);
	return sf_caller_sys(c, nr, a, NULL, 0);
}

long sf_process_pidfd_call(const struct sf_caller *c, long nr,
			   const long a[6])
{
	long pid = sf_caller_getpid(c, (int)a[0]);
	if (pid == -EBADF) /* not an emulated pidfd: the kernel's */
		return sf_caller_last(c, nr, a, NULL, 0);
	/* Does the kernel have the call? fd -1 gives EBADF if it has. */
	const long probe[6] = {-1, 0, 0, 0, 0, 0};
	long has = as_caller(c, nr, probe);
	if (has == -ENOSYS)
		return has;
	const long po[6] = {pid, 0, 0, 0, 0, 0};
	long real = pid > 0 ? as_caller(c, SF_NR_pidfd_open, po) : -ESRCH;
	if (real == -ENOSYS || real == -EPERM) { /* no pidfds to give it */
		const long b[6] = {-1, a[1], a[2], a[3], a[4], a[5]};
		return as_caller(c, nr, b);
	}
	/* the kernel checks flags before it looks at the process */
	if (real < 0)
		return nr == SF_NR_process_mrelease && a[1] ? -EINVAL
		       : nr == SF_NR_process_madvise && a[4] ? -EINVAL
							 : -ESRCH;
	const long b[6] = {real, a[1], a[2], a[3], a[4], a[5]};
	long r = sf_caller_getpid(c, (int)a[0]) == pid ? as_caller(c, nr, b)
							: -ESRCH;
	const long cl[6] = {real, 0, 0, 0, 0, 0};
	as_caller(c, SF_NR_close, cl);
	sf_log(SF_LOG_DEBUG, "%s(%ld, ...) = %ld%s%s",
	       nr == SF_NR_process_madvise ? "process_madvise" : "process_mrelease",
	       a[0], r, r < 0 ? " " : "", r < 0 ? sf_errname(r) : "");
	return r;
}
