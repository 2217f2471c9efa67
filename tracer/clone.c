/* Trace mode's clone3 and clone(CLONE_PIDFD).
 *
 * The arguments are read and validated by the library's own code
 * (shim/clone_args.c, cargs_request) through tracee memory. Then the call
 * is made BY THE TRACEE, as the legacy clone with the equivalent flags
 * (stack + size -> stack top; tls, parent_tid, child_tid, exit signal): it
 * is rewritten in place at the seccomp stop (or, under an inherited
 * libsysfill.so filter, re-issued from the SIGSYS stop), and the tracee
 * makes it. So the child is the tracee's, with its credentials, limits
 * and namespaces, and it is traced as every other child
 * (PTRACE_O_TRACEFORK/VFORK/CLONE). A vfork parent only comes back once
 * its child has exec'd or exited, so the call is followed through the main
 * loop (the hooks below), never waited for here.
 *
 *  - The child: the kernel's child starts with the parent's registers
 *    (rax 0); the rewrite changed the argument registers, which code after
 *    the syscall may use (glibc's clone3 keeps the thread function in rdx
 *    and its argument in r8). At the child's first stop (the
 *    PTRACE_EVENT_STOP every auto-attached child starts with) they are put
 *    back, and CLONE_CLEAR_SIGHAND is done there, as the child, before it
 *    runs any of the program's code: every action that is not SIG_IGN
 *    becomes SIG_DFL, flags and masks cleared (flush_signal_handlers). A
 *    child may report before its parent's fork event: while an emulated
 *    clone waits for its event, a new task's first stop is kept until the
 *    event says whose it is. A new thread (and a set_tid/cgroup child)
 *    is held there until its parent's exit stop is done and the parent
 *    runs again.
 *  - The parent, at the syscall-exit stop: CLONE_PIDFD creates the child's
 *    (emulated) pidfd in the tracee (trace_pidfd_new) and writes its
 *    number where the kernel would (clone3: args.pidfd; clone:
 *    parent_tid). All or nothing, as the kernel and the library: if the
 *    pidfd cannot be made or stored, the child, while still the caller's
 *    unreaped child, is killed and reaped by the tracee, and the call
 *    fails with that error.
 *  - set_tid and CLONE_INTO_CGROUP: not done here (no PLAN for
 *    cargs_request): the answers of a kernel without them (E2BIG, EINVAL;
 *    README limits). CLONE_NEWTIME: EINVAL, as the library.
 *  - CLONE_UNTRACED is dropped: the child must stay under the supervisor
 *    (the flag concerns tracers only; the program cannot tell). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include "../shim/clone_args.h"
#include "trace.h"

/* ---- clones in flight, and their children ---- */
#define NCLONES 128
struct pending {
	pid_t tid; /* the caller; 0: free */
	struct call c; /* the program's call, as stopped */
	struct cargs_req q;
	int event_seen; /* its fork/vfork/clone event came */
	int hold;       /* set_tid, CLONE_INTO_CGROUP: the child waits for
			 * cargs_fork_finish */
	pid_t child;    /* from the event */
	int entry_seen; /* a syscall-entry stop (gVisor, re-issued call) */
	int inherited;  /* from the SIGSYS of an inherited filter */
};
static struct pending pend[NCLONES];
static int awaiting; /* pending clones whose event has not come */

enum { K_FREE, K_KNOWN, K_KEPT, K_HELD };
#define NKIDS 256
struct kid {
	pid_t tid;
	int state; /* K_KNOWN: fix at its first stop; K_KEPT: stopped, kept
		    * (whose?); K_HELD: stopped until its parent's exit stop */
	long args[6]; /* the program's argument registers */
	int clear_sighand;
	int inherited; /* under an inherited libsysfill.so filter */
	int hold;
	int orphan; /* held, and its parent is gone: it exits */
	int nsfd;   /* cargs_fork_prepare's ns_last_pid fd, inherited: closed
		     * by the child when released; -1 */
};
static struct kid kids[NKIDS];

static struct pending *pend_find(pid_t tid)
{
	for (int i = 0; i < NCLONES; i++)
		if (pend[i].tid == tid)
			return &pend[i];
	return NULL;
}

static struct kid *kid_find(pid_t tid)
{
	for (int i = 0; i < NKIDS; i++)
		if (kids[i].state != K_FREE && kids[i].tid == tid)
			return &kids[i];
	return NULL;
}

static struct kid *kid_new(pid_t tid)
{
	for (int i = 0; i < NKIDS; i++)
		if (kids[i].state == K_FREE) {
			memset(&kids[i], 0, sizeof kids[i]);
			kids[i].nsfd = -1;
			kids[i].tid = tid;
			return &kids[i];
		}
	return NULL;
}

/* No emulated clone waits for its event: the kept first stops are other
 * children's (whose parents died before their event): let them go. */
static void release_kept(void)
{
	if (awaiting > 0)
		return;
	for (int i = 0; i < NKIDS; i++)
		if (kids[i].state == K_KEPT) {
			kids[i].state = K_FREE;
			resume(PTRACE_CONT, kids[i].tid, 0);
		}
}

/* ---- the child, at its first stop ---- */

/* CLONE_CLEAR_SIGHAND as flush_signal_handlers(t, 0), made by the child
 * C: each action that is not SIG_IGN becomes SIG_DFL; flags, restorer and
 * mask are cleared. Under an inherited filter (INHERITED) SIGSYS's action
 * is the one tsigsys.c records per process (the filter would trap the
 * call): cleared there, by the same rule (sigsys_exec). */
static void clear_sighand(struct call *c, int inherited)
{
	uintptr_t s = scratch(c, sizeof(struct sf_ksigaction));
	for (int sig = 1; sig <= 64 && !c->gone; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP ||
		    (sig == SIGSYS && inherited))
			continue;
		struct sf_ksigaction old, new = {0};
		if (tsys(c, SF_NR_rt_sigaction, sig, 0, (long)s, 8, 0, 0) < 0 ||
		    mem_rw(c->tid, s, &old, sizeof old, 0) < 0)
			continue;
		new.handler = old.handler == (uint64_t)(uintptr_t)SIG_IGN
				      ? (uint64_t)(uintptr_t)SIG_IGN
				      : (uint64_t)(uintptr_t)SIG_DFL;
		if (!memcmp(&old, &new, sizeof old))
			continue;
		if (mem_rw(c->tid, s, &new, sizeof new, 1) == 0)
			tsys(c, SF_NR_rt_sigaction, sig, (long)s, 0, 8, 0, 0);
	}
}

static void fix_child(pid_t tid, const struct kid *k)
{
	struct call c;
	call_init(&c, tid, AT_SIGNAL);
	if (getregs(tid, &c.orig) < 0)
		return;
	sf_pt_set_args(&c.orig, k->args);
	if (k->nsfd >= 0)
		tsys(&c, SF_NR_close, k->nsfd, 0, 0, 0, 0, 0);
	if (k->clear_sighand) {
		clear_sighand(&c, k->inherited);
		if (k->inherited)
			sigsys_exec(tid); /* a new process: its own record */
	}
	tlog(3, "[%d] child of an emulated clone: registers as its parent's%s",
	     (int)tid, k->clear_sighand ? ", signal actions cleared" : "");
	finish(&c, sf_pt_result(&c.orig));
}

/* A held child whose parent is gone exits, before any of the program's
 * code, as the library's does (its parent gave up). */
static void orphan_exit(pid_t tid)
{
	struct call c;
	call_init(&c, tid, AT_SIGNAL);
	if (getregs(tid, &c.orig) == 0)
		tsys(&c, SF_NR_exit_group, 0, 0, 0, 0, 0, 0);
}

int trace_clone_first_stop(pid_t tid, int fresh)
{
	struct kid *k = kid_find(tid);
	if (k && k->state == K_KNOWN && k->orphan) {
		k->state = K_FREE;
		orphan_exit(tid);
		return 1;
	}
	if (k && k->state == K_KNOWN && k->hold) {
		k->state = K_HELD;
		return 1;
	}
	if (k && k->state == K_KNOWN) {
		struct kid fix = *k;
		k->state = K_FREE;
		fix_child(tid, &fix);
		return 1;
	}
	if (!k && fresh && awaiting > 0 && (k = kid_new(tid))) {
		k->state = K_KEPT; /* whose child: its parent's event says */
		return 1;
	}
	return 0;
}

int trace_clone_event(pid_t parent, pid_t child)
{
	struct pending *p = pend_find(parent);
	struct kid *k = kid_find(child);
	int kept = k && k->state == K_KEPT;
	if (!p || p->event_seen) {
		if (kept) {
			k->state = K_FREE;
			resume(PTRACE_CONT, child, 0);
		}
		return 0;
	}
	p->event_seen = 1;
	p->child = child;
	awaiting--;
	struct kid fix = {.tid = child, .state = K_KNOWN,
			  .nsfd = p->hold ? p->q.nsfd : -1};
	memcpy(fix.args, p->c.a, sizeof fix.args);
	fix.clear_sighand = !!(p->q.extra & CLONE_CLEAR_SIGHAND);
	fix.inherited = p->inherited;
	fix.hold = p->hold;
	if (kept && fix.hold) {
		*k = fix;
		k->state = K_HELD;
	} else if (kept) {
		k->state = K_FREE;
		fix_child(child, &fix);
	} else if (k || (k = kid_new(child))) {
		*k = fix;
	} else {
		tlog(1, "[%d] too many new children at once: child %d starts "
		     "with the rewritten registers", (int)parent, (int)child);
	}
	/* on to the syscall-exit stop */
	resume(PTRACE_SYSCALL, parent, 0);
	release_kept();
	return 1;
}

static void pend_free(struct pending *p)
{
	if (!p->event_seen)
		awaiting--;
	p->tid = 0;
	release_kept();
}

void trace_clone_gone(pid_t tid)
{
	struct pending *p = pend_find(tid);
	struct kid *k = kid_find(tid);
	if (k)
		k->state = K_FREE;
	if (!p)
		return;
	pid_t child = p->hold ? p->child : 0;
	pend_free(p);
	if (child && (k = kid_find(child))) {
		if (k->state == K_HELD) {
			k->state = K_FREE;
			orphan_exit(child);
		} else {
			k->orphan = 1;
		}
	}
}

/* ---- the parent ---- */

/* The held child PID (in our pid namespace) of a clone at its parent's
 * exit stop, stopped: its first stop may not have been reported yet. NULL
 * if it died. */
static struct kid *held_child(pid_t pid)
{
	struct kid *k = kid_find(pid);
	while (k && k->state == K_KNOWN) {
		int st;
		pid_t w = waitpid(pid, &st, __WALL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 || WIFEXITED(st) || WIFSIGNALED(st)) {
			if (w > 0)
				task_exited(pid, st);
			return NULL;
		}
		k->state = K_HELD; /* its first stop */
	}
	return k && k->state == K_HELD ? k : NULL;
}

/* Undo child PID (in the caller's pid namespace; GPID in ours, 0 if
 * unknown) that the caller C just made: while it is C's unreaped child
 * (its number cannot be reused then), C kills and reaps it, so that no
 * zombie is left; once it is not, it is left alone. It is traced: its
 * exit report is ours first. */
static void undo_child(struct call *c, pid_t pid, pid_t gpid)
{
	uintptr_t si = scratch(c, sizeof(siginfo_t));
	if (tsys(c, SF_NR_waitid, P_PID, pid, (long)si,
		 WEXITED | WSTOPPED | WCONTINUED | WNOHANG | WNOWAIT | __WALL, 0,
		 0) < 0)
		return;
	tsys(c, SF_NR_kill, pid, SIGKILL, 0, 0, 0, 0);
	while (gpid > 0) {
		int st;
		pid_t w = waitpid(gpid, &st, __WALL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break; /* its report was consumed already */
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			task_exited(gpid, st);
			break;
		}
		struct kid *k = kid_find(gpid);
		if (k)
			k->state = K_FREE;
		resume(PTRACE_CONT, gpid, 0);
	}
	tsys(c, SF_NR_waitid, P_PID, pid, (long)si, WEXITED | __WALL, 0, 0);
}

void trace_clone(struct call *c)
{
	struct tcaller tc;
	tcaller_init(&tc, c);
	struct cargs_req q;
	int inherited = c->at == AT_SIGNAL;
	struct pending *p = pend_find(0);
	if (!p) /* a clone in flight in every slot: as a kernel short of
		 * resources */
		return finish(c, -EAGAIN);
	long r = cargs_request(&tc.c, c->nr, c->a, scratch(c, CARGS_BUF), &q);
	int hold = !r && (q.has_tid || q.cgroup_fd >= 0);
	if (hold)
		r = cargs_fork_prepare(&tc.c, scratch(c, CARGS_BUF), &q);
	/* A new thread also waits until its parent's exit stop is done and
	 * the parent runs (trace_clone_exit): a thread that execs while we
	 * still hold its parent there kills the parent, and when the parent
	 * is the leader its tid becomes the exec'd thread's, so the
	 * registers we then restore would land in the new image (SIGSEGV:
	 * bullseye-static-threads-gvisor, 1 of 300 runs; 19 of 20 with 2 ms
	 * more between the two). */
	if (!r && (q.flags & CLONE_THREAD) && !(q.flags & CLONE_VFORK))
		hold = 1;
	if (r || c->gone)
		return finish(c, r);
	q.flags &= ~(unsigned long)CLONE_UNTRACED;
	long a[6] = {(long)q.flags, (long)q.stack_top, q.ptid, q.ctid, q.tls, 0};
	if (trace_reissue(c, SF_NR_clone, a) < 0)
		return;
	tlog(3, "[%d] %s emulated: clone(%#lx, %#lx, ...)", (int)c->tid,
	     c->nr == SF_NR_clone3 ? "clone3" : "clone(CLONE_PIDFD)", q.flags,
	     (unsigned long)q.stack_top);
	p->tid = c->tid;
	p->q = q;
	p->event_seen = p->entry_seen = 0;
	p->child = 0;
	p->hold = hold;
	p->inherited = inherited;
	awaiting++;
	if (c->at != AT_SECCOMP) {
		/* up to its entry here: signals meanwhile are kept (and
		 * queued again at the end), not delivered with our registers */
		if (to_syscall_stop(c) < 0)
			return; /* gone: trace_clone_gone freed P */
		p->entry_seen = 1;
	}
	p->c = *c;
	resume(PTRACE_SYSCALL, c->tid, 0);
}

int trace_clone_exit(pid_t tid)
{
	struct pending *p = pend_find(tid);
	if (!p || !tid)
		return 0;
	struct user_regs_struct regs;
	if (getregs(tid, &regs) < 0)
		return 0;
	long pid = sf_pt_result(&regs);
	if (pid == -ENOSYS && !p->entry_seen) {
		/* gVisor stops at the entry after a seccomp stop */
		p->entry_seen = 1;
		resume(PTRACE_SYSCALL, tid, 0);
		return 1;
	}
	struct call c = p->c;
	struct cargs_req q = p->q;
	int hold = p->hold;
	pid_t gchild = p->event_seen ? p->child : 0; /* PID, in our namespace */
	pend_free(p);
	c.at = AT_EXIT;
	c.cur = regs;
	/* the held child, let go once its parent runs again */
	struct kid release = {.tid = 0};
	if (hold) {
		/* the child has run none of the program's code */
		struct kid *k = pid > 0 && gchild ? held_child(gchild) : NULL;
		struct tcaller tc;
		tcaller_init(&tc, &c);
		long r = cargs_fork_finish(&tc.c, scratch(&c, CARGS_BUF), &q, pid);
		if (r && pid > 0 && !c.gone) {
			undo_child(&c, (pid_t)pid, gchild);
			pid = r;
		} else if (k) {
			release = *k;
			k->state = K_FREE;
		}
	}
	if (pid > 0 && (q.extra & CLONE_PIDFD)) {
		long fd = trace_pidfd_new(&c, (pid_t)pid, 0);
		if (fd >= 0) {
			int v = (int)fd;
			if (mem_rw(tid, q.pidfd_at, &v, sizeof v, 1) < 0) {
				tsys(&c, SF_NR_close, fd, 0, 0, 0, 0, 0);
				fd = -EFAULT;
			}
		}
		if (fd < 0 && !c.gone) {
			tlog(2, "[%d] clone: no pidfd for child %ld (%s): child "
			     "undone", (int)tid, pid, strerror((int)-fd));
			undo_child(&c, (pid_t)pid, gchild);
			release.tid = 0;
			pid = fd;
		}
	}
	tlog(3, "[%d] emulated clone = %ld", (int)tid, pid);
	finish(&c, pid);
	/* Only now, with its parent running: a new thread may exec at once,
	 * and the exec kills its parent and gives the parent's tid, if the
	 * leader's, to the thread in its new image; registers restored
	 * after that would be the new image's (in gVisor, where the
	 * parent's ptrace stop does not hold the exec back: SIGSEGV). */
	if (release.tid)
		fix_child(release.tid, &release);
	return 1;
}
