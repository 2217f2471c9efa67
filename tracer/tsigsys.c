/* The calls of an inherited libsysfill.so filter (RET_TRAP, served in
 * their SIGSYS signal-delivery stop): the signal mask and SIGSYS action
 * virtualised per thread and process, the pidfd calls served. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "trace.h"


/* ---- the other calls an inherited libsysfill.so filter traps ----------
 * libsysfill.so also traps rt_sigprocmask and rt_sigaction(SIGSYS) (so
 * that its own process never really blocks SIGSYS), clone3 and
 * clone(CLONE_PIDFD). A program without the library gets them as the
 * kernel would give them, run here with ptrace's own access to its mask. */
#define SIGBIT(sig) (1ULL << ((sig) - 1))

/* SIGSYS is never really blocked (a trap of the filter raised while it is
 * blocked would be forced through, or, in gVisor, lost): the program sees
 * the bit it asked for, kept per thread. */
static void inherited_sigmask(struct call *c)
{
	int how = (int)c->a[0];
	uintptr_t set = (uintptr_t)c->a[1], oset = (uintptr_t)c->a[2];
	uint64_t real, old, s, now;
	struct task *t = task_find(c->tid);
	if ((size_t)c->a[3] != 8)
		return finish(c, -EINVAL);
	if (ptrace(PTRACE_GETSIGMASK, c->tid, (void *)8, &real) < 0)
		return finish(c, -EINVAL);
	old = real | (t && t->sigsys_blocked ? SIGBIT(SIGSYS) : 0);
	if (set) {
		if (mem_rw(c->tid, set, &s, 8, 0) < 0)
			return finish(c, -EFAULT);
		if (sf_sigmask_apply(how, old, s, &now) < 0)
			return finish(c, -EINVAL);
		if (t)
			t->sigsys_blocked = !!(now & SIGBIT(SIGSYS));
		now &= ~SIGBIT(SIGSYS);
		if (ptrace(PTRACE_SETSIGMASK, c->tid, (void *)8, &now) < 0)
			return finish(c, -EINVAL);
	}
	if (oset && mem_rw(c->tid, oset, &old, 8, 1) < 0)
		return finish(c, -EFAULT);
	finish(c, 0);
}

/* rt_sigaction(SIGSYS): recorded per process (in its leader's task, so
 * that it goes with the process), not installed (a handler of the
 * program's would also receive the inherited filter's traps). Limit: a
 * SIGSYS that is not the filter's (kill(), another filter) then meets the
 * default action. */
static struct task *sigsys_owner(pid_t tid)
{
	return task_find(tgid_of(tid));
}

void sigsys_inherit(pid_t parent, pid_t child, int clone)
{
	/* the new task's mask is its creator's: the virtual SIGSYS bit too */
	struct task *pt = task_find(parent), *ct = task_find(child);
	if (pt && ct) {
		ct->sigsys_blocked = pt->sigsys_blocked;
		/* the same or a copied address space: its trampoline too */
		ct->tramp = pt->tramp;
		ct->notramp = pt->notramp;
		ct->tramp_sealed = pt->tramp_sealed;
	}
	struct task *p = sigsys_owner(parent), *c;
	if (!p || !p->sigsys_set)
		return;
	if (clone && tgid_of(child) != tgid_of(parent))
		clone = 0; /* a process, not a thread */
	if (clone || !(c = task_find(child)))
		return;
	c->sigsys_set = 1;
	c->sigsys = p->sigsys;
}

void sigsys_exec(pid_t tid)
{
	/* flush_signal_handlers: SIG_IGN stays, the rest is SIG_DFL; no
	 * flags, mask or restorer */
	struct task *t = task_find(tid);
	if (!t || !t->sigsys_set)
		return;
	uint64_t h = t->sigsys.handler;
	memset(&t->sigsys, 0, sizeof t->sigsys);
	t->sigsys.handler = h == (uint64_t)(uintptr_t)SIG_IGN ? h : 0;
}

static void inherited_sigaction_sigsys(struct call *c)
{
	if ((int)c->a[0] != SIGSYS || (size_t)c->a[3] != 8)
		return finish(c, (int)c->a[0] != SIGSYS ? -ENOSYS : -EINVAL);
	struct task *t = sigsys_owner(c->tid);
	struct sf_ksigaction old = {0}, act;
	if (t && t->sigsys_set)
		old = t->sigsys;
	if (c->a[1]) {
		if (mem_rw(c->tid, (uintptr_t)c->a[1], &act, sizeof act, 0) < 0)
			return finish(c, -EFAULT);
		sf_ksigaction_store(&act);
		if (t) {
			t->sigsys = act;
			t->sigsys_set = 1;
		}
	}
	if (c->a[2] &&
	    mem_rw(c->tid, (uintptr_t)c->a[2], &old, sizeof old, 1) < 0)
		return finish(c, -EFAULT);
	finish(c, 0);
}

/* A SIGSYS from libsysfill.so's inherited filter, about to be delivered
 * to a process without the library (a static binary exec'd from an
 * emulating process). Returns 1 if served (signal suppressed). */
int on_preload_trap(pid_t tid, const siginfo_t *si)
{
	struct call c;
	call_init(&c, tid, AT_SIGNAL);
	if (getregs(tid, &c.orig) < 0)
		return 0;
	if (!sf_our_trap(si, sf_pt_pc(&c.orig), sf_pt_result(&c.orig),
			 PRELOAD_TRAP_TAG, NULL)) {
		/* gVisor keeps a trap raised while a handler's sa_mask blocks
		 * SIGSYS pending (Linux forces it through at once): it comes
		 * when the handler returns, long after the call it trapped,
		 * which returned its own number; rt_sigreturn leaves no call
		 * number (-1) in the registers. Nothing is left to serve; the
		 * program must not die of it. (A SIGSYS the thread queued
		 * itself comes at its rt_sigqueueinfo or unblock; one another
		 * thread forged with our fields is dropped too.) */
		if (si->si_code == SYS_SECCOMP && si->si_arch == SF_AUDIT_ARCH &&
		    (unsigned)si->si_errno == PRELOAD_TRAP_TAG &&
		    (sf_pt_nr(&c.orig) == -1 ||
		     sf_pt_nr(&c.orig) == SF_NR_rt_sigreturn)) {
			tlog(3, "[%d] trap of call %d delivered after the handler "
			     "that blocked it: dropped", (int)tid, si->si_syscall);
			struct task *t = task_find(tid);
			resume(t && t->fix ? PTRACE_SYSCALL : PTRACE_CONT, tid, 0);
			return 1;
		}
		tlog(3, "[%d] SIGSYS code %d call %d at %p: not a trap of ours "
		     "(pc %#lx, last call %ld, result register %ld)", (int)tid,
		     si->si_code, si->si_syscall, si->si_call_addr,
		     (unsigned long)sf_pt_pc(&c.orig), sf_pt_nr(&c.orig),
		     sf_pt_result(&c.orig));
		return 0;
	}
	c.nr = si->si_syscall;
	stat_call(tid, c.nr);
	for (int i = 0; i < 6; i++)
		c.a[i] = sf_pt_arg(&c.orig, i);
	tlog(3, "[%d] SIGSYS of the inherited libsysfill.so filter for call %ld: "
	     "served here", (int)tid, c.nr);
	switch (c.nr) {
	case SF_NR_pidfd_open:
	case SF_NR_pidfd_send_signal:
	case SF_NR_pidfd_getfd:
	case SF_NR_waitid:
	case SF_NR_ioctl:
		break;
	case SF_NR_rt_sigprocmask:
		inherited_sigmask(&c);
		return 1;
	case SF_NR_rt_sigaction:
		inherited_sigaction_sigsys(&c);
		return 1;
	case SF_NR_clone3:
	case SF_NR_clone: /* with CLONE_PIDFD: the filter traps no other */
		trace_clone(&c);
		return 1;
	default:
		return 0;
	}
	/* Served even where the kernel has the calls: the inherited filter
	 * would trap them again if they ran as they are. */
	serve(&c);
	return 1;
}
