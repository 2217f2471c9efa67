/* sysfill: the Linux 5.x process API (pidfds, clone3) on kernels without it.
 *
 * Direct-call API of libsysfill.a / libsysfill.so. Each function behaves as
 * the system call of the same name on Linux 6.x: it returns what the kernel
 * returns and sets errno as the kernel would. Where the running kernel has
 * the call (and SYSFILL_FORCE is not set) it is passed through; otherwise it
 * is emulated. Pidfds from the emulation are only understood by sysfill. */
#ifndef SYSFILL_H
#define SYSFILL_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>
#include "sysfill/uapi.h"

#ifdef __cplusplus
extern "C" {
#endif

int sysfill_pidfd_open(pid_t pid, unsigned int flags);
int sysfill_pidfd_send_signal(int pidfd, int sig, siginfo_t *info,
			      unsigned int flags);
int sysfill_pidfd_getfd(int pidfd, int targetfd, unsigned int flags);
int sysfill_waitid(idtype_t idtype, id_t id, siginfo_t *info, int options);

/* 1 if the pidfd family is emulated in this process, 0 if native. */
int sysfill_emulating(void);

/* Designs no kernel merged, as sysfill's own calls. Each takes the
 * kernel's pidfds and emulated ones alike, on any kernel, and returns -1
 * with errno set on failure. */

/* pidfd <-> /proc/<pid>, as the first pidfd_open series (March 2019:
 * pidfd_open(pid, procfd, pidfd, PIDFD_TO_PROCFD / PROCFD_TO_PIDFD))
 * proposed it. sysfill_pidfd_to_procfd: a new O_CLOEXEC fd of the
 * /proc/<pid> directory of PIDFD's process in the proc mount whose root
 * directory is PROCFD (its number in that mount's pid namespace), FLAGS 0.
 * sysfill_procfd_to_pidfd: a new pidfd (FLAGS: 0 or PIDFD_NONBLOCK) of
 * the process of /proc/<pid> directory fd PROCPIDFD. Both check after
 * the open that the process is still the one they started from. Errors:
 * EBADF (no open fd, not a pidfd, not a /proc/<pid> directory), EINVAL
 * (PROCFD not the root of a proc mount, unknown FLAGS), ESRCH (the
 * process was reaped, or has no pid in the caller's namespace), ENOENT
 * (no pid in PROCFD's namespace), and those of openat and pidfd_open. */
int sysfill_pidfd_to_procfd(int pidfd, int procfd, unsigned int flags);
int sysfill_procfd_to_pidfd(int procpidfd, unsigned int flags);

/* Exit information as the CLONE_FD series (clone4, 2015) gave it in
 * struct clonefd_info: CODE as waitid's si_code (CLD_EXITED, CLD_KILLED,
 * CLD_DUMPED), STATUS as si_status (exit status or signal), UTIME and
 * STIME in clock ticks (sysconf(_SC_CLK_TCK)). */
struct sysfill_exit_info {
	int32_t code;
	int32_t status;
	uint64_t utime;
	uint64_t stime;
};
#define SYSFILL_EXIT_CODE 1  /* code and status are set */
#define SYSFILL_EXIT_TIMES 2 /* utime and stime are set */
/* Fill *INFO for PIDFD's exited process; FLAGS 0. Returns the
 * SYSFILL_EXIT_* bits of what is known (the fields without a bit are 0):
 * a zombie child, both (from waitid(WNOWAIT) and its rusage: times include
 * the children it waited for); another zombie, the times (its
 * /proc/PID/stat) and the code where /proc shows it; once reaped, the code
 * only (PIDFD_INFO_EXIT, Linux 6.15, or what the library kept). Errors:
 * EAGAIN (not exited yet), ESRCH (reaped, nothing known), EBADF (not a
 * pidfd), EINVAL (FLAGS), EFAULT (INFO). */
int sysfill_pidfd_exit_info(int pidfd, struct sysfill_exit_info *info,
			    unsigned int flags);

#ifdef __cplusplus
}
#endif
#endif
