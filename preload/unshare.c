/* unshare(2) as without sysfill: the library's helper threads (exit
 * waiters, the monitor, the reader) make the process multithreaded, and
 * the kernel refuses unshare(CLONE_NEWUSER) (and everything that implies
 * CLONE_THREAD, CLONE_SIGHAND or CLONE_VM) to a multithreaded process with
 * EINVAL. The helpers leave for the call, busy or not, and are back after
 * it (sf_helpers_pause). A new pid or time namespace for children makes
 * a new thread impossible (copy_process: EINVAL for CLONE_THREAD): those
 * two are unshared after the others, once the helpers are back, and
 * alone they let only idle helpers go (gVisor refuses CLONE_NEWPID to a
 * multithreaded process). Through libc only: a raw unshare syscall is not
 * seen. */
#include <sched.h>
#include "preload.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define NEEDS_ONE_THREAD (CLONE_NEWUSER | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM)
#define NO_THREAD_AFTER (CLONE_NEWPID | CLONE_NEWTIME)

SF_EXPORT int unshare(int flags)
{
	long r;
	if (pl_mode == MODE_NATIVE) {
		r = sf_sys1(SF_NR_unshare, flags);
	} else if (!(flags & NEEDS_ONE_THREAD)) {
		if (flags & CLONE_NEWPID)
			sf_helpers_retire();
		r = sf_sys1(SF_NR_unshare, flags);
	} else {
		if (sf_helpers_pause() < 0)
			sf_log(SF_LOG_DEBUG, "unshare(%#x): a helper thread did "
			       "not leave", (unsigned)flags);
		int later = flags & NO_THREAD_AFTER;
		r = sf_sys1(SF_NR_unshare, flags & ~later);
		sf_helpers_resume();
		if (!r && later)
			r = sf_sys1(SF_NR_unshare, later);
	}
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return 0;
}
