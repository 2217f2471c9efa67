/* What trace.c (the ptrace supervisor) shares with its other parts
 * (clone.c): one stopped call, and running system calls as the tracee. */
#ifndef SYSFILL_TRACE_H
#define SYSFILL_TRACE_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include "../shim/arch/arch.h"

#define SYSGOOD_TRAP (SIGTRAP | 0x80)

/* The kernel's struct sigaction (rt_sigaction's layout, x86_64). */
struct k_sigaction {
	uint64_t handler, flags, restorer, mask;
};

/* ---- one stopped call (trace.c) ---- */
enum at { AT_SECCOMP, AT_EXIT, AT_SIGNAL };
struct call {
	pid_t tid;
	enum at at;
	struct user_regs_struct orig; /* at the stop; pc after the syscall */
	struct user_regs_struct cur;
	long nr, a[6];
	int gone;                     /* the tracee died during injection */
	int npend;
	siginfo_t pend[4];            /* signals that arrived mid-injection */
};

void tlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copy N bytes between us and the stopped tracee's memory at ADDR (WR:
 * to it). 0 or -EFAULT. */
int mem_rw(pid_t tid, uintptr_t addr, void *buf, size_t n, int wr);
int getregs(pid_t tid, struct user_regs_struct *r);
int setregs(pid_t tid, const struct user_regs_struct *r);
/* PTRACE_CONT, PTRACE_SYSCALL, ... */
long resume(int req, pid_t tid, long sig);
void call_init(struct call *c, pid_t tid, enum at at);
/* Resume C->tid with PTRACE_SYSCALL up to its next syscall stop (signals
 * meanwhile kept in C->pend). 0, or -ESRCH if it died. */
int to_syscall_stop(struct call *c);
/* Run NR(A0..A5) in the tracee; its result (-errno), or -ESRCH with
 * C->gone set if the tracee died. */
long tsys(struct call *c, long nr, long a0, long a1, long a2, long a3,
	  long a4, long a5);
/* Tracee memory below the red zone of its stack, LEN bytes. */
uintptr_t scratch(const struct call *c, size_t len);
/* The program sees RESULT; requeue the kept signals, resume it. */
void finish(struct call *c, long result);
/* Set C's registers so that the tracee makes NR(A) when resumed, as its
 * own call (rewritten in place at a seccomp stop, else the syscall
 * instruction run again). 0 or -errno. */
int trace_reissue(struct call *c, long nr, const long a[6]);
/* Read a small file of the supervisor's (/proc) into BUF (up to LEN - 1
 * bytes, NUL-terminated): its length or -errno. Never blocks. */
long trace_read_file(const char *path, char *buf, size_t len);
/* A traced task is gone (its exit report consumed). */
void task_exited(pid_t tid, int status);
/* A new emulated pidfd of PID (in the tracee's pid namespace) in C's
 * tracee, FLAGS as pidfd_open's (checked by the caller): its fd, or
 * -errno. */
long trace_pidfd_new(struct call *c, pid_t pid, unsigned flags);

/* ---- signals (eintr.c) ---- */
/* At TID's signal-delivery stop for SIG: if the tracee ignores SIG (which
 * the kernel then queues only because it is traced) and SIG made its call
 * return -EINTR, set it to make the call again. 1 if TID was resumed here,
 * 0 if the caller resumes it with SIG. */
int trace_ignored_eintr(pid_t tid, int sig);

/* ---- clone3 and clone(CLONE_PIDFD) (clone.c) ---- */
/* Emulate C (clone3 or clone with CLONE_PIDFD) stopped at a seccomp or
 * signal-delivery stop: validated, rewritten into the legacy clone the
 * tracee then makes; finished at its syscall-exit stop. */
void trace_clone(struct call *c);
/* Main-loop hooks; each returns 1 if it took the stop over (resumed or
 * kept the task). A syscall stop of TID: */
int trace_clone_exit(pid_t tid);
/* PTRACE_EVENT_FORK/VFORK/CLONE of PARENT that made CHILD: */
int trace_clone_event(pid_t parent, pid_t child);
/* A PTRACE_EVENT_STOP of TID (FRESH: the first stop we see of it): */
int trace_clone_first_stop(pid_t tid, int fresh);
/* TID is gone. */
void trace_clone_gone(pid_t tid);

#endif
