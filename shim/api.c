/* Public direct-call API (include/sysfill.h): the only place besides the
 * libc interposition that sets errno. */
#include "../include/sysfill.h"
#include "sf.h"

#define SF_EXPORT __attribute__((visibility("default")))

static long ret_errno(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static long call(long nr, long a0, long a1, long a2, long a3, long a4)
{
	const long a[6] = {a0, a1, a2, a3, a4, 0};
	if (sf_init() & SF_FEAT_PIDFD_FAMILY)
		return ret_errno(sf_engine_call_masked(nr, a));
	return ret_errno(sf_syscall6(nr, a0, a1, a2, a3, a4, 0));
}

SF_EXPORT int sysfill_pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)call(SF_NR_pidfd_open, pid, flags, 0, 0, 0);
}

SF_EXPORT int sysfill_pidfd_send_signal(int pidfd, int sig, siginfo_t *info,
					unsigned int flags)
{
	return (int)call(SF_NR_pidfd_send_signal, pidfd, sig, (long)info, flags,
			 0);
}

SF_EXPORT int sysfill_pidfd_getfd(int pidfd, int targetfd, unsigned int flags)
{
	return (int)call(SF_NR_pidfd_getfd, pidfd, targetfd, flags, 0, 0);
}

SF_EXPORT int sysfill_waitid(idtype_t idtype, id_t id, siginfo_t *info,
			     int options)
{
	return (int)call(SF_NR_waitid, idtype, id, (long)info, options, 0);
}

SF_EXPORT int sysfill_emulating(void)
{
	return !!(sf_init() & SF_FEAT_PIDFD_FAMILY);
}

SF_EXPORT int sysfill_pidfd_to_procfd(int pidfd, int procfd, unsigned int flags)
{
	return (int)ret_errno(sf_pidfd_to_procfd(pidfd, procfd, flags));
}

SF_EXPORT int sysfill_procfd_to_pidfd(int procpidfd, unsigned int flags)
{
	return (int)ret_errno(sf_procfd_to_pidfd(procpidfd, flags));
}

_Static_assert(sizeof(struct sysfill_exit_info) == sizeof(struct sf_exit_info) &&
		       SYSFILL_EXIT_CODE == SF_EXIT_CODE &&
		       SYSFILL_EXIT_TIMES == SF_EXIT_TIMES,
	       "struct sysfill_exit_info is the engine's");

SF_EXPORT int sysfill_pidfd_exit_info(int pidfd, struct sysfill_exit_info *info,
				      unsigned int flags)
{
	struct sf_exit_info e;
	long r = sf_pidfd_exit_info(pidfd, &e, flags);
	if (r >= 0 && sf_self_caller.write(&sf_self_caller, (uintptr_t)info, &e,
					   sizeof e) < 0)
		r = -EFAULT;
	return (int)ret_errno(r);
}
