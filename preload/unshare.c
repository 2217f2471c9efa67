/* unshare(2) as without sysfill: the library's helper threads (exit
 * waiters, the monitor) make the process multithreaded, and the kernel
 * refuses unshare(CLONE_NEWUSER) (and everything that implies
 * CLONE_THREAD, CLONE_SIGHAND or CLONE_VM) to a multithreaded process with
 * EINVAL; gVisor refuses CLONE_NEWPID too. Helpers with nothing to do
 * leave first (sf_helpers_retire). One that is needed -- the program
 * watches a live process through a pidfd -- stays, and the program gets
 * the kernel's answer for a process with one more thread (README).
 * Through libc only: a raw unshare syscall is not seen. */
#include <sched.h>
#include "preload.h"

#define NEEDS_ONE_THREAD                                                  \
	(CLONE_NEWUSER | CLONE_NEWPID | CLONE_THREAD | CLONE_SIGHAND |   \
	 CLONE_VM)

SF_EXPORT int unshare(int flags)
{
	if (pl_mode != MODE_NATIVE && (flags & NEEDS_ONE_THREAD) &&
	    sf_helpers_retire() < 0)
		sf_log(SF_LOG_DEBUG, "unshare(%#x): a helper thread is still "
		       "needed (a live process is watched) or did not leave",
		       (unsigned)flags);
	long r = sf_sys1(SF_NR_unshare, flags);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return 0;
}
