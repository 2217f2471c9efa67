/* clone3 argument handling: copy and validate struct clone_args exactly as
 * Linux 6.18 does (kernel/fork.c), and translate it to a legacy clone(2)
 * call. Rule-by-rule references are in clone_args.c. */
#ifndef SYSFILL_CLONE_ARGS_H
#define SYSFILL_CLONE_ARGS_H

#include <sched.h> /* CLONE_*: before sf.h, whose uapi.h fills the gaps */
#include "sf.h"

/* Copy clone3's struct clone_args from caller memory (UARGS, SIZE: the raw
 * syscall arguments, untruncated) and validate it as Linux 6.18 does before
 * creating any process: copy_clone_args_from_user, clone3_args_valid, and
 * the flag checks of kernel_clone/copy_process that need no process. The
 * checks that need the caller's kernel state (see clone_args.c) are left to
 * the call that creates the process, which returns the kernel's own errno.
 * Returns 0 and fills *OUT (zero-extended to VER2; stack is the base as
 * passed, not the top), or -errno exactly as the kernel: -EINVAL, -E2BIG,
 * -EFAULT. Reads caller memory only through C->read (a bad pointer gives
 * -EFAULT, never a crash). Signal-safe: no malloc, no stdio, no errno; the
 * first call may issue one mmap/munmap pair (x86_64 address-space probe). */
SF_HIDDEN long cargs_load(const struct sf_caller *c, uintptr_t uargs,
			  size_t size, struct sysfill_clone_args *out);

/* Translate args validated by cargs_load into the legacy clone(2) call.
 * Returns 0 and fills OUT with the six raw clone arguments (x86_64 order:
 * flags|exit_signal, stack top or 0, parent_tid, child_tid, tls, 0) and
 * *EXTRA_FLAGS with the clone3 flags the legacy call does not carry and the
 * caller must implement around it:
 *   CLONE_PIDFD          never passed on: write a pidfd (native or emulated)
 *                        to a->pidfd. Legacy clone returns it through the
 *                        parent_tid slot and so cannot honour it together
 *                        with CLONE_PARENT_SETTID at another address; on a
 *                        kernel with native CLONE_PIDFD and no
 *                        CLONE_PARENT_SETTID the caller may put it back
 *                        (out[0] |= CLONE_PIDFD, out[2] = a->pidfd).
 *   CLONE_CLEAR_SIGHAND  reset in the child, before it runs caller code,
 *                        every handler that is not SIG_IGN to SIG_DFL with
 *                        empty sa_mask and sa_flags (flush_signal_handlers).
 *                        A caller that cannot must answer -EINVAL (5.4).
 * Returns instead, for what no legacy clone can express, the errno of the
 * newest kernel that lacked the feature (a program's fallback for the
 * feature then works; -ENOSYS would mean "no clone3 at all", which must be
 * decided once per process, never per call):
 *   set_tid_size != 0    -E2BIG: the answer of 5.3/5.4, whose 64-byte
 *                        struct makes non-zero set_tid bytes "trailing".
 *   CLONE_INTO_CGROUP    -E2BIG if a->cgroup != 0 (5.5/5.6: 80-byte struct,
 *                        non-zero trailing bytes), else -EINVAL (unknown
 *                        flag in clone3_args_valid).
 *   CLONE_NEWTIME        -EINVAL: 0x80 is an exit-signal bit in legacy
 *                        clone; clone3 before 6.2 (and its stable fix)
 *                        rejects it among the CSIGNAL bits.
 *   other flags above bit 31: -EINVAL (cargs_load never lets them through).
 * Signal-safe; reads nothing but *A. */
SF_HIDDEN long cargs_to_legacy(const struct sysfill_clone_args *a, long out[6],
			       unsigned long *extra_flags);

/* One emulated clone3 or clone(CLONE_PIDFD), decoded for a front end. */
struct cargs_req {
	unsigned long flags;  /* legacy flags, exit signal included */
	uintptr_t stack_top;  /* 0: none */
	uintptr_t stack_base; /* clone3 only; 0: unknown (legacy clone) */
	long ptid, ctid, tls;
	unsigned long extra;  /* CLONE_PIDFD, CLONE_CLEAR_SIGHAND */
	uintptr_t pidfd_at;   /* where the pidfd goes (CLONE_PIDFD) */
	int has_tid, want_tid; /* set_tid: the pid asked for in the caller's
				* pid namespace */
	int cgroup_fd;        /* CLONE_INTO_CGROUP's fd, -1: none */
	long last_pid;        /* ns_last_pid before cargs_fork_prepare, -1 */
	int nsfd;             /* the caller's ns_last_pid fd, open from
			       * cargs_fork_prepare to cargs_fork_finish (the
			       * child's copy the front end closes), -1 */
};

/* Caller memory the set_tid and CLONE_INTO_CGROUP steps use (paths, file
 * contents), given by the front end. */
#define CARGS_BUF 2048

/* Decode and validate clone3 (NR SF_NR_clone3, raw ARGS A) or legacy
 * clone with CLONE_PIDFD (SF_NR_clone) as the kernel does, reading and
 * probing caller memory through C: the clone3_args rules (cargs_load), the
 * CLONE_PIDFD rules of kernel_clone/copy_process for legacy clone, thread
 * pidfds (CLONE_PIDFD|CLONE_THREAD, 6.9) where C->thread_pidfds says the
 * front end makes them (the thread held until its pidfd exists), else as
 * 5.2-6.8 (EINVAL), and the pidfd slot must be writable (the kernel fails
 * with EFAULT and no child).
 * A clone3 of fork shape (neither CLONE_VM nor CLONE_VFORK) given BUF
 * (CARGS_BUF bytes of caller memory for calls made as the caller,
 * sf_caller_sys) gets set_tid at the caller's level and CLONE_INTO_CGROUP
 * (Q->has_tid, want_tid, cgroup_fd), for cargs_fork_prepare/finish around
 * a clone whose child is held until then; given no BUF (0) it returns
 * CARGS_NEED_BUF instead (ask again with one). Otherwise they get the
 * answers of cargs_to_legacy. Returns 0 and fills *Q, or -errno.
 * Signal-safe. */
#define CARGS_NEED_BUF 1
SF_HIDDEN long cargs_request(const struct sf_caller *c, long nr,
			     const long a[6], uintptr_t buf,
			     struct cargs_req *q);

/* Before the legacy clone of Q (Q->has_tid or Q->cgroup_fd >= 0), as the
 * caller (sf_caller_sys; BUF as above): alloc_pid's checks of set_tid, then
 * ns_last_pid set to the pid - 1 (its value before in Q->last_pid); the
 * cgroup fd must be a cgroup2 directory. Returns 0 or -errno (then nothing
 * is left changed). */
SF_HIDDEN long cargs_fork_prepare(const struct sf_caller *c, uintptr_t buf,
				  struct cargs_req *q);
/* After that clone returned PID (-errno: failed) in the parent, its child
 * held before any of the program's code: ns_last_pid put back, the pid
 * checked (EEXIST: another process took it first), the child moved into
 * the cgroup (written to cgroup.procs as the caller). Returns 0 (release
 * the child) or -errno (kill and reap the child if PID > 0, and fail). */
SF_HIDDEN long cargs_fork_finish(const struct sf_caller *c, uintptr_t buf,
				 struct cargs_req *q, long pid);

#endif
