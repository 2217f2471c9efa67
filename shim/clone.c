/* clone3, and clone with CLONE_PIDFD, emulated with the legacy clone from
 * the SIGSYS handler.
 *
 * The child must start as the kernel would start it: the caller's
 * registers, 0 in the return register, the stack pointer at the top of the
 * new stack, the caller's signal mask and floating-point state, and nothing
 * of the signal handler. The signal frame the kernel built for the trap
 * holds exactly that state, so the child leaves through rt_sigreturn:
 *  - fork shape (no CLONE_VM): the child has its own copy of the frame; it
 *    patches it (return value, stack pointer) and returns from the handler;
 *  - stack shape (CLONE_VM with a stack: threads, posix_spawn's vfork): a
 *    copy of the frame goes at the top of the new stack, where the child
 *    starts and calls rt_sigreturn at once;
 *  - vfork on the caller's own stack (CLONE_VM|CLONE_VFORK, no stack, as
 *    Go does): the child will overwrite the handler's frame, so both
 *    processes leave through a copy kept in a per-thread buffer (the
 *    parent only runs again once the child has exec'd or exited).
 * CLONE_VM without CLONE_VFORK and without a stack (two threads on one
 * stack) is not emulated: -ENOSYS, the answer of a kernel without clone3.
 *
 * CLONE_PIDFD: the pidfd is an emulated one, opened right after the clone
 * (so it is never in the child's fd table). The kernel writes the pidfd
 * before the child runs; here it is written once the legacy clone has
 * returned in the parent, and a new thread (a PIDFD_THREAD pidfd, 6.9) is
 * held until then (thread_hold). */
#include <stddef.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include "clone_args.h"
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

void (*sf_clear_sigsys_hook)(void);

/* CLONE_CLEAR_SIGHAND as flush_signal_handlers(t, 0): every handler that
 * is not SIG_IGN becomes SIG_DFL, flags and masks are cleared. sysfill's
 * own SIGSYS handler stays. Runs in a child that may have a new TLS and
 * whose stack is the caller's: no TLS, no stack protector. Through the
 * gate, as sysfill's other calls. */
__attribute__((no_stack_protector)) static void clear_sighand(void)
{
	for (int sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || sig == SIGSYS)
			continue;
		struct sf_ksigaction old, new = {0};
		if (sf_gate_call(SF_NR_rt_sigaction, sig, 0, (long)&old, 8) < 0)
			continue;
		new.handler = old.handler == (uint64_t)(uintptr_t)SIG_IGN
				      ? (uint64_t)(uintptr_t)SIG_IGN
				      : (uint64_t)(uintptr_t)SIG_DFL;
		if (old.handler != new.handler || old.flags || old.mask ||
		    old.restorer)
			sf_gate_call(SF_NR_rt_sigaction, sig, (long)&new, 0, 8);
	}
}

/* clear_sighand as a clone child's PREP (sf_arch_clone_sigreturn). */
__attribute__((no_stack_protector)) static void clear_sighand_prep(void *unused)
{
	(void)unused;
	clear_sighand();
}

static void clear_sighand_own_memory(void)
{
	clear_sighand();
	if (sf_clear_sigsys_hook)
		sf_clear_sigsys_hook();
}

/* Undo the child PID we just created: kill and reap it, so that no zombie
 * is left, but only while it is known to be that child: an unreaped child
 * of ours (its number cannot be reused then). Once another thread has
 * reaped it, the number may name another process or another child of
 * ours: it is left alone. */
static void undo_child(long pid)
{
	siginfo_t si;
	if (sf_sys5(SF_NR_waitid, P_PID, pid, &si,
		    WEXITED | WSTOPPED | WCONTINUED | WNOHANG | WNOWAIT | __WALL,
		    0) < 0)
		return;
	sf_sys2(SF_NR_kill, pid, SIGKILL);
	sf_sys5(SF_NR_waitid, P_PID, pid, &si, WEXITED | __WALL, 0);
}

/* ---- a new thread with CLONE_PIDFD (6.9: a PIDFD_THREAD pidfd) ----
 * The kernel stores the pidfd before the thread runs; the thread, which
 * nobody waits for, may otherwise exit (and its id be reused) before the
 * pidfd is made. So it is held, before any of the program's code, on a
 * word at the top of its stack (caller memory, above its copy of the
 * frame, that the program's code overwrites only once it runs) until the
 * parent has made and stored the pidfd (HOLD_RUN); if that fails
 * (HOLD_EXIT) it exits, the word its clear_child_tid, and the parent waits
 * for the word's 0, so that the call fails with no thread left. */
#define HOLD_WAIT 0
#define HOLD_RUN 1
#define HOLD_EXIT 2

/* The held thread's start (sf_arch_clone_sigreturn's PREP): its TLS may
 * be the program's new one, no stack protector. */
__attribute__((no_stack_protector)) static void thread_hold(void *arg)
{
	int *go = arg, v;
	while ((v = __atomic_load_n(go, __ATOMIC_ACQUIRE)) == HOLD_WAIT)
		sf_sys4(SF_NR_futex, go, FUTEX_WAIT, HOLD_WAIT, 0);
	if (v == HOLD_RUN)
		return;
	sf_sys1(SF_NR_set_tid_address, go);
	sf_sys1(SF_NR_exit, 0);
}

/* Let the held thread go on (HOLD_RUN), or make it exit and wait until it
 * has (HOLD_EXIT). */
static void thread_release(int *go, int how)
{
	__atomic_store_n(go, how, __ATOMIC_RELEASE);
	sf_sys3(SF_NR_futex, go, FUTEX_WAKE, 1);
	if (how == HOLD_RUN)
		return; /* the word is the program's from here */
	int v;
	while ((v = __atomic_load_n(go, __ATOMIC_ACQUIRE)) != 0)
		sf_sys4(SF_NR_futex, go, FUTEX_WAIT, v, 0);
}

/* The parent's half of CLONE_PIDFD: the pidfd of child PID (PIDFD_THREAD
 * for a thread, held on GO) made and stored. A vfork thread is not held:
 * by the time its parent is back it has exited (its exec would have
 * killed the parent), so its pidfd is one of a gone thread, never looked
 * up by its id. On failure the child is undone: a process may have run,
 * but is killed and reaped (no zombie is left); a held thread exits
 * before it runs. */
static long finish_parent(const struct cargs_req *q, long pid, int *go)
{
	if (pid <= 0 || !(q->extra & CLONE_PIDFD))
		return pid;
	int thread = (q->flags & CLONE_THREAD) != 0;
	long fd;
	if (thread && !go) {
		sf_lock();
		fd = pidtab_new_pidfd(0, PIDFD_THREAD);
		sf_unlock();
	} else {
		fd = sf_pidfd_open((pid_t)pid, thread ? PIDFD_THREAD : 0);
	}
	if (fd >= 0) {
		int v = (int)fd;
		if (sf_self_caller.write(&sf_self_caller, q->pidfd_at, &v,
					 sizeof v) == 0) {
			if (go)
				thread_release(go, HOLD_RUN);
			return pid;
		}
		sf_sys1(SF_NR_close, fd);
		fd = -EFAULT;
	}
	if (go)
		thread_release(go, HOLD_EXIT);
	else if (!thread)
		undo_child(pid);
	return fd;
}

/* ---- set_tid and CLONE_INTO_CGROUP, fork shape only ----
 * The child is held in the handler (a pipe read) until the parent has
 * made cargs_fork_finish's checks (shim/clone_args.c). */

static long fork_shape(ucontext_t *uc, struct cargs_req *q, uintptr_t buf)
{
	int hold[2] = {-1, -1};
	long r = 0;
	int held = q->has_tid || q->cgroup_fd >= 0;
	/* the pipe first: cargs_fork_prepare's ns_last_pid write is the last
	 * step before the clone; without set_tid the checks go first, so that
	 * the pidfd number a bad cgroup fd leaves is the kernel's */
	if (held && !q->has_tid)
		r = cargs_fork_prepare(&sf_self_caller, buf, q);
	if (held && !r) {
		r = sf_sys2(SF_NR_pipe2, hold, O_CLOEXEC);
		if (!r && q->has_tid) {
			r = cargs_fork_prepare(&sf_self_caller, buf, q);
			if (r) {
				sf_sys1(SF_NR_close, hold[0]);
				sf_sys1(SF_NR_close, hold[1]);
			}
		}
	}
	if (r)
		return r;
	/* The child sets its TLS last (sf_arch_settls_sigreturn): before
	 * that it runs sysfill's code, which uses the caller's TLS. */
	long pid = sf_syscall6(SF_NR_clone,
			       (long)(q->flags & ~(unsigned long)CLONE_SETTLS),
			       0, q->ptid, q->ctid, 0, 0);
	if (pid != 0 && held) {
		sf_sys1(SF_NR_close, hold[0]);
		r = cargs_fork_finish(&sf_self_caller, buf, q, pid);
		if (r && pid > 0) {
			/* held: it has run none of the program's code */
			undo_child(pid);
		} else {
			sf_sys3(SF_NR_write, hold[1], "g", 1);
		}
		sf_sys1(SF_NR_close, hold[1]);
		if (r)
			return r;
	}
	if (pid != 0)
		return finish_parent(q, pid, 0);
	if (held) {
		char c;
		if (q->nsfd >= 0)
			sf_sys1(SF_NR_close, q->nsfd); /* cargs_fork_prepare's */
		sf_sys1(SF_NR_close, hold[1]);
		if (sf_sys3(SF_NR_read, hold[0], &c, 1) != 1)
			sf_sys1(SF_NR_exit_group, 0); /* the parent gave up */
		sf_sys1(SF_NR_close, hold[0]);
	}
	/* Child: none of our threads exist here. */
	sf_atfork_child();
	if (q->extra & CLONE_CLEAR_SIGHAND)
		clear_sighand_own_memory();
	if (q->stack_top)
		sf_ctx_set_sp(uc, q->stack_top);
	if (q->flags & CLONE_SETTLS) {
		sf_ctx_set_result(uc, 0);
		sf_arch_settls_sigreturn((uintptr_t)q->tls, uc);
	}
	return 0;
}

/* Make DST, a copy of the kernel's part of the trap's frame, the start of
 * a child that returns 0 on stack SP with its floating-point state at FP. */
static void child_frame(ucontext_t *dst, const struct cargs_req *q,
			uintptr_t sp, uintptr_t fp)
{
	sf_ctx_set_result(dst, 0);
	sf_ctx_set_sp(dst, sp);
	sf_ctx_set_fpstate(dst, fp);
	/* copy_process: a CLONE_VM child without CLONE_VFORK gets no
	 * alternate signal stack. */
	if (!(q->flags & CLONE_VFORK)) {
		dst->uc_stack.ss_sp = 0;
		dst->uc_stack.ss_size = 0;
		dst->uc_stack.ss_flags = SS_DISABLE;
	}
}

/* An ASan build: a stack is handed over to a child whole, as the kernel
 * does; frames that instrumented code of an earlier child (ours, on the
 * way to its exec or exit) left poisoned on it are gone, and so are those
 * a vfork child left below its parent's sp. From BASE, or 64 KiB below
 * TOP where the base is not known (user addresses only: ASan shadows all
 * of them). Nothing in other builds. */
void sf_stack_fresh(uintptr_t base, uintptr_t top)
{
#ifdef __SANITIZE_ADDRESS__
	uintptr_t low = base ? base : top > 65536 ? top - 65536 : 0;
	if (top < (1UL << 47) && low < top)
		__asan_unpoison_memory_region((void *)low, top - low);
#else
	(void)base;
	(void)top;
#endif
}

/* vfork where the parent's frame may be overwritten by the child (which
 * shares the memory): the per-thread buffer the frames are kept in (mapped
 * at the first such call, kept for the thread). */
#define VF_SIZE (64 * 1024)
struct vfork_buf {
	struct cargs_req q;
	uintptr_t sp; /* the caller's */
	ucontext_t frame __attribute__((aligned(64)));
	unsigned char fpstate[] __attribute__((aligned(64)));
};
static __thread struct vfork_buf *vfork_buf
	__attribute__((tls_model("initial-exec")));

static long vfork_parent_done(long pid)
{
#ifdef __SANITIZE_ADDRESS__
	/* the handler's frames above are never returned to */
	__asan_handle_no_return();
#endif
	sf_stack_fresh(0, vfork_buf->sp);
	return finish_parent(&vfork_buf->q, pid, 0);
}

/* vfork of Q, both sides leaving through copies the child cannot
 * overwrite: CHILD_AT 0, on the caller's own stack (the child leaves
 * through the parent's frame, with 0 for its result); else through the
 * child's frame at CHILD_AT, its stack (stack_shape). Returns only an
 * error. */
static long vfork_kept(ucontext_t *uc, const struct cargs_req *q,
		       uintptr_t child_at)
{
	const void *fp = sf_ctx_fpstate(uc);
	size_t fpsize = fp ? sf_arch_fpstate_size(fp) : 0;
	if (fpsize > VF_SIZE - sizeof(struct vfork_buf))
		return -ENOSYS;
	if (!vfork_buf) {
		long p = sf_syscall6(SF_NR_mmap, 0, VF_SIZE,
				     PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p < 0 && p > -4096)
			return p == -ENOMEM ? -ENOMEM : -EAGAIN;
		vfork_buf = (struct vfork_buf *)p;
	}
	struct vfork_buf *b = vfork_buf;
	b->q = *q;
	b->sp = sf_ctx_sp(uc);
	if (fp)
		__builtin_memcpy(b->fpstate, fp, fpsize);
	__builtin_memcpy(&b->frame, uc, SF_UC_KSIZE);
	sf_ctx_set_fpstate(&b->frame, fp ? (uintptr_t)b->fpstate : 0);
	if (!child_at)
		child_frame(&b->frame, q, sf_ctx_sp(uc),
			    fp ? (uintptr_t)b->fpstate : 0);
	sf_arch_clone_vfork_sigreturn(
		q->flags, child_at, q->ptid, q->ctid, q->tls, &b->frame,
		child_at ? (ucontext_t *)child_at : &b->frame,
		q->extra & CLONE_CLEAR_SIGHAND ? clear_sighand : 0,
		vfork_parent_done);
}

static long stack_shape(ucontext_t *uc, const struct cargs_req *q)
{
	const void *fp = sf_ctx_fpstate(uc);
	size_t fpsize = fp ? sf_arch_fpstate_size(fp) : 0;
	uintptr_t top = q->stack_top;
	/* a thread with CLONE_PIDFD is held on a word below the top (not a
	 * vfork thread: its parent waits for it, finish_parent) */
	int hold = (q->extra & CLONE_PIDFD) && (q->flags & CLONE_THREAD) &&
		   !(q->flags & CLONE_VFORK);
	uintptr_t go = hold ? (top - sizeof(int)) & ~(uintptr_t)15 : top;
	uintptr_t fpat = fp ? (go - fpsize) & ~(uintptr_t)63 : 0;
	uintptr_t at = ((fp ? fpat : go) - SF_UC_KSIZE) & ~(uintptr_t)15;
	if (at > top) /* wrapped: a stack at the bottom of the address space */
		return -EFAULT;
	/* The copy must fit in the stack the caller gave (a few KiB; more
	 * with large XSAVE states): never write below it. */
	if (q->stack_base && at < q->stack_base)
		return -ENOMEM;
	sf_stack_fresh(q->stack_base, top);
	/* The new stack is the caller's memory: a bad one gives -EFAULT here
	 * (the kernel would start a child that dies of SIGSEGV at once). The
	 * frame is made in place once the copy has shown it writable. */
	const int wait = HOLD_WAIT;
	if ((fp && sf_self_caller.write(&sf_self_caller, fpat, fp, fpsize)) ||
	    sf_self_caller.write(&sf_self_caller, at, uc, SF_UC_KSIZE) ||
	    (hold && sf_self_caller.write(&sf_self_caller, go, &wait,
					  sizeof wait)))
		return -EFAULT;
	child_frame((ucontext_t *)at, q, top, fpat);
	/* A vfork child takes its signals (its trapped calls) on the alternate
	 * stack it shares, where this handler may run: keep the parent's
	 * frame out of its way. */
	if ((q->flags & CLONE_VFORK) &&
	    sf_on_altstack(uc, (uintptr_t)__builtin_frame_address(0)))
		return vfork_kept(uc, q, at);
	void (*prep)(void *) = hold ? thread_hold
			       : q->extra & CLONE_CLEAR_SIGHAND ? clear_sighand_prep
								: 0;
	long pid = sf_arch_clone_sigreturn(q->flags, at, q->ptid, q->ctid,
					   q->tls, prep, (void *)go);
	return finish_parent(q, pid, hold ? (int *)go : 0);
}

static long clone_run_buf(ucontext_t *uc, long nr, const long a[6]);

static long clone_run(ucontext_t *uc, long nr, const long a[6], uintptr_t buf)
{
	struct cargs_req q;
	long r = cargs_request(&sf_self_caller, nr, a, buf, &q);
	if (r == CARGS_NEED_BUF)
		return clone_run_buf(uc, nr, a);
	if (r)
		return r;
	if (!(q.flags & CLONE_VM))
		return fork_shape(uc, &q, buf);
	if (q.stack_top)
		return stack_shape(uc, &q);
	if (q.flags & CLONE_VFORK)
		return vfork_kept(uc, &q, 0);
	return -ENOSYS;
}

/* set_tid and CLONE_INTO_CGROUP, the only users of the caller memory
 * cargs_request may be given: 2 KiB of the handler's stack, which may be
 * the program's small alternate stack, for them alone. */
static __attribute__((noinline)) long clone_run_buf(ucontext_t *uc, long nr,
						    const long a[6])
{
	char buf[CARGS_BUF]; /* the caller's memory is ours */
	return clone_run(uc, nr, a, (uintptr_t)buf);
}

long sf_clone_emulate(ucontext_t *uc, long nr, const long a[6])
{
	return clone_run(uc, nr, a, 0);
}
