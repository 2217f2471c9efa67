/* What the kernel has, probed once before the first emulated call. */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "sf.h"
#include "env.h"

unsigned sf_emulated;
static unsigned probed_native;
static int probe_done;
static long clone3_answer;

/* A probe answer means "missing" for ENOSYS, and for EPERM (a seccomp
 * profile that predates the call) . */
static int missing(long r)
{
	return r == -ENOSYS || r == -EPERM;
}

unsigned sf_probe_native(void)
{
	if (probe_done)
		return probed_native;
	unsigned f = 0;
	long r = sf_sys2(SF_NR_pidfd_open, sf_getpid(), 0);
	if (r >= 0) {
		sf_sys1(SF_NR_close, r);
		f |= SF_FEAT_PIDFD_OPEN;
	} else if (!missing(r)) {
		f |= SF_FEAT_PIDFD_OPEN;
	}
	if (!missing(sf_sys4(SF_NR_pidfd_send_signal, -1, 0, 0, 0)))
		f |= SF_FEAT_PIDFD_SEND_SIGNAL;
	if (!missing(sf_sys3(SF_NR_pidfd_getfd, -1, 0, 0)))
		f |= SF_FEAT_PIDFD_GETFD;
	/* glibc's probe: EBADF where P_PIDFD exists, EINVAL before 5.4. */
	if (sf_sys5(SF_NR_waitid, P_PIDFD, INT_MAX, 0, WEXITED, 0) == -EBADF)
		f |= SF_FEAT_WAITID_PIDFD;
	clone3_answer = sf_sys2(SF_NR_clone3, 0, 0);
	if (clone3_answer == -EINVAL)
		f |= SF_FEAT_CLONE3;
	probed_native = f;
	probe_done = 1;
	return f;
}

static int force_emulation;

void sf_force_emulation(void)
{
	force_emulation = 1;
}

/* A fork child has none of our threads, and the lock may have been held
 * by one of them at the fork. Called by pthread_atfork, the clone
 * emulation, and sf_lock for a child no handler saw (shim/lock.c). */
void (*sf_fork_child_hook)(void);

void sf_atfork_child(void)
{
	if (sf_fork_child_hook)
		sf_fork_child_hook();
	pidtab_atfork_child();
	monitor_atfork_child();
	sf_lock_atfork_child(); /* last: the state is ours from here */
}

unsigned sf_init(void)
{
	static int done;
	if (done)
		return sf_emulated;
	sf_log_init();
	pthread_atfork(0, 0, sf_atfork_child);
	unsigned native = sf_probe_native();
	int env_forced = sf_env_bool("SYSFILL_FORCE", 0);
	int forced = force_emulation || env_forced;
	unsigned emu = 0;
	/* The pidfd calls work on one kind of object: if any is missing,
	 * emulate all of them so every pidfd the program holds is ours. */
	if (forced || (native & SF_FEAT_PIDFD_FAMILY) != SF_FEAT_PIDFD_FAMILY)
		emu |= SF_FEAT_PIDFD_FAMILY;
	/* clone3 is emulated (preload.c: with the legacy clone, or answered
	 * with ENOSYS as Linux 5.2 does where that cannot be done safely)
	 * where the kernel lacks it, where a seccomp profile answers EPERM
	 * (every pthread_create would fail), and where the pidfd calls are
	 * emulated, so that no kernel pidfd comes out of clone3. */
	if (missing(clone3_answer) || (emu & SF_FEAT_PIDFD_FAMILY))
		emu |= SF_FEAT_CLONE3;
	sf_emulated = emu;
	done = 1;
	sf_log(SF_LOG_INFO, "kernel has pidfd_open=%d pidfd_send_signal=%d "
	       "pidfd_getfd=%d waitid(P_PIDFD)=%d clone3=%d; %s%s%s",
	       !!(native & SF_FEAT_PIDFD_OPEN),
	       !!(native & SF_FEAT_PIDFD_SEND_SIGNAL),
	       !!(native & SF_FEAT_PIDFD_GETFD),
	       !!(native & SF_FEAT_WAITID_PIDFD), !!(native & SF_FEAT_CLONE3),
	       emu & SF_FEAT_PIDFD_FAMILY ? "emulating the pidfd calls"
					  : "pidfd calls native, passing through",
	       emu & SF_FEAT_CLONE3 ? "; clone3 emulated" : "",
	       env_forced	 ? " (SYSFILL_FORCE)"
	       : force_emulation ? " (the inherited filter traps the pidfd calls)"
				 : "");
	return emu;
}
