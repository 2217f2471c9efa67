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

#ifdef __cplusplus
}
#endif
#endif
