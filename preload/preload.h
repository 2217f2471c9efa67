/* Shared state of the preload front end. */
#ifndef SYSFILL_PRELOAD_H
#define SYSFILL_PRELOAD_H
#include <signal.h>
#include "sf.h"

#define SF_EXPORT __attribute__((visibility("default")))
#define SF_TLS __thread __attribute__((tls_model("initial-exec")))

enum { MODE_NATIVE, MODE_SECCOMP, MODE_INTERPOSE };
/* How pidfd calls are caught; set once by the constructor. */
extern int pl_mode SF_HIDDEN;
/* Our SIGSYS handler serves traps (of our filter or an inherited one):
 * the program's SIGSYS disposition and mask are virtualised. */
extern int pl_traps SF_HIDDEN;
/* Our filter traps rt_sigprocmask (except from the gate): no thread can
 * really block SIGSYS. */
extern int pl_mask_trapped SF_HIDDEN;
/* A filter of ours is loaded in this process (it survives execve). */
extern int pl_filter SF_HIDDEN;
/* The SIGSYS disposition the program believes it has, as the kernel would
 * hold it (sa_flags with SA_RESTORER, the restorer, 64 mask bits). */
extern struct sigaction pl_prog_sigsys SF_HIDDEN;
/* Record ACT, given to libc's sigaction(SIGSYS), as the program's. */
SF_HIDDEN void pl_prog_sigsys_set(const struct sigaction *act);
/* Per thread: the program believes SIGSYS is blocked; a SIGSYS that
 * arrived meanwhile and waits for the unblock. */
extern SF_TLS int pl_sigsys_blocked SF_HIDDEN;
extern SF_TLS int pl_sigsys_deferred SF_HIDDEN;
extern SF_TLS siginfo_t pl_deferred_info SF_HIDDEN;
/* Per signal: the program's sa_mask included SIGSYS (we removed it). */
extern unsigned char pl_mask_had_sigsys[_NSIG] SF_HIDDEN;
/* Path of this library, for keeping LD_PRELOAD across execve. */
extern char pl_self_path[4096] SF_HIDDEN;
/* An ASan build: the ASan runtime's path (it must come first in an
 * LD_PRELOAD we put back at an exec); empty otherwise. */
extern char pl_asan_path[4096] SF_HIDDEN;

/* libc's own sigaction (ours is interposed). */
extern int (*pl_real_sigaction)(int, const struct sigaction *,
				struct sigaction *) SF_HIDDEN;
SF_HIDDEN void pl_interpose_init(void);
/* rt_sigaction as libc's sigaction makes it, through the gate once it
 * exists (sysfill's own restorer unless ACT names one). 0 or -errno. */
SF_HIDDEN int pl_raw_sigaction(int sig, const struct sigaction *act,
			       struct sigaction *old);
/* Deliver a deferred SIGSYS now that the program unblocked it. */
SF_HIDDEN void pl_flush_deferred(void);
#endif
