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
 * returned in the parent. */
#include <stddef.h>
#include <sys/mman.h>
#include "clone_args.h"

void (*sf_clear_sigsys_hook)(void);

struct k_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

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
		struct k_sigaction old, new = {0};
		if (sf_gate_call(SF_NR_rt_sigaction, sig, 0, (long)&old, 8) < 0)
			continue;
		new.handler = old.handler == SIG_IGN ? SIG_IGN : SIG_DFL;
		if (old.handler != new.handler || old.flags || old.mask ||
		    old.restorer)
			sf_gate_call(SF_NR_rt_sigaction, sig, (long)&new, 0, 8);
	}
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

/* The parent's half of CLONE_PIDFD. On failure the child is undone (it
 * may have run, but is killed and reaped: no zombie is left). */
static long finish_parent(const struct cargs_req *q, long pid)
{
	if (pid <= 0 || !(q->extra & CLONE_PIDFD))
		return pid;
	long fd = sf_pidfd_open((pid_t)pid, 0);
	if (fd >= 0) {
		int v = (int)fd;
		if (sf_self_caller.write(&sf_self_caller, q->pidfd_at, &v,
					 sizeof v) == 0)
			return pid;
		sf_sys1(SF_NR_close, fd);
		fd = -EFAULT;
	}
	undo_child(pid);
	return fd;
}

/* ---- set_tid and CLONE_INTO_CGROUP, fork shape only ----
 * The child is held in the handler (a pipe read) until the parent has
 * checked its pid (set_tid: ns_last_pid was set to set_tid - 1 first) or
 * moved it into the cgroup (written to cgroup.procs by the parent, with
 * the program's credentials, as the kernel checks the caller's). If that
 * fails the child is killed before it ran any of the program's code and
 * reaped; its exit still queues SIGCHLD (README). */
#define NS_LAST_PID "/proc/sys/kernel/ns_last_pid"

/* Before the clone: the checks alloc_pid makes, then ns_last_pid (its
 * value before goes to *LAST, for set_tid_restore). */
static long set_tid_prepare(int tid, long *last)
{
	char buf[32];
	long r = proc_read("/proc/sys/kernel/pid_max", buf, sizeof buf);
	if (r < 0)
		return -E2BIG; /* no /proc: as a kernel without set_tid */
	if (tid < 1 || (uint64_t)tid >= proc_number(buf))
		return -EINVAL;
	r = proc_read(NS_LAST_PID, buf, sizeof buf);
	if (r <= 0)
		return -E2BIG;
	*last = (long)proc_number(buf);
	long fd = sf_sys4(SF_NR_openat, AT_FDCWD, NS_LAST_PID,
			  O_WRONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return fd == -EACCES || fd == -EPERM ? -EPERM : -E2BIG;
	int n = sf_fmt(buf, sizeof buf, "%d", tid - 1);
	long w = sf_sys3(SF_NR_write, fd, buf, n);
	sf_sys1(SF_NR_close, fd);
	if (w < 0)
		return w == -EPERM || w == -EACCES ? -EPERM : w;
	/* In use (a live process or thread, or a zombie): EEXIST. */
	if (sf_sys2(SF_NR_kill, tid, 0) != -ESRCH)
		return -EEXIST;
	return 0;
}

/* The kernel's set_tid never moves ns_last_pid, which every other process
 * of the namespace allocates from: put it back to LAST unless others have
 * taken it further meanwhile (then it stays where they left it). Pids
 * others took in between stay theirs. */
static void set_tid_restore(long last)
{
	char buf[32];
	if (proc_read(NS_LAST_PID, buf, sizeof buf) <= 0 ||
	    (long)proc_number(buf) >= last)
		return;
	long fd = sf_sys4(SF_NR_openat, AT_FDCWD, NS_LAST_PID,
			  O_WRONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return;
	int n = sf_fmt(buf, sizeof buf, "%ld", last);
	sf_sys3(SF_NR_write, fd, buf, n);
	sf_sys1(SF_NR_close, fd);
}

static long cgroup_check(int fd)
{
	struct {
		long f_type;
		char rest[112];
	} st;
	long r = sf_sys2(SF_NR_fstatfs, fd, &st);
	if (r < 0 || st.f_type != 0x63677270) /* CGROUP2_SUPER_MAGIC */
		return -EBADF;
	return 0;
}

static long cgroup_move(int dirfd, long pid)
{
	long fd = sf_sys4(SF_NR_openat, dirfd, "cgroup.procs",
			  O_WRONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return fd == -ENOTDIR || fd == -ENOENT ? -EBADF : fd;
	char buf[24];
	int n = sf_fmt(buf, sizeof buf, "%ld", pid);
	long w = sf_sys3(SF_NR_write, fd, buf, n);
	sf_sys1(SF_NR_close, fd);
	return w < 0 ? w : 0;
}

static long fork_shape(ucontext_t *uc, const struct cargs_req *q)
{
	int hold[2] = {-1, -1};
	long r = 0;
	long last = -1;
	if (q->has_tid)
		r = set_tid_prepare(q->want_tid, &last);
	if (r && last >= 0)
		set_tid_restore(last);
	if (!r && q->cgroup_fd >= 0)
		r = cgroup_check(q->cgroup_fd);
	if (!r && (q->has_tid || q->cgroup_fd >= 0))
		r = sf_sys2(SF_NR_pipe2, hold, O_CLOEXEC);
	if (r)
		return r;
	/* The child sets its TLS last (sf_arch_settls_sigreturn): before
	 * that it runs sysfill's code, which uses the caller's TLS. */
	long pid = sf_syscall6(SF_NR_clone,
			       (long)(q->flags & ~(unsigned long)CLONE_SETTLS),
			       0, q->ptid, q->ctid, 0, 0);
	if (pid != 0 && last >= 0)
		set_tid_restore(last);
	if (pid != 0 && hold[0] >= 0) {
		sf_sys1(SF_NR_close, hold[0]);
		r = pid < 0 ? pid : 0;
		if (!r && q->has_tid && pid != q->want_tid)
			r = -EEXIST; /* another process took the pid first */
		if (!r && q->cgroup_fd >= 0)
			r = cgroup_move(q->cgroup_fd, pid);
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
		return finish_parent(q, pid);
	if (hold[0] >= 0) {
		char c;
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

/* Copy the kernel's part of UC into DST, for a child that returns 0 on
 * stack SP with its floating-point state at FP. */
static void child_frame(ucontext_t *dst, const ucontext_t *uc,
			const struct cargs_req *q, uintptr_t sp, uintptr_t fp)
{
	__builtin_memcpy(dst, uc, SF_UC_KSIZE);
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

static long stack_shape(ucontext_t *uc, const struct cargs_req *q)
{
	const void *fp = sf_ctx_fpstate(uc);
	size_t fpsize = fp ? sf_arch_fpstate_size(fp) : 0;
	uintptr_t top = q->stack_top;
	uintptr_t fpat = fp ? (top - fpsize) & ~(uintptr_t)63 : 0;
	uintptr_t at = ((fp ? fpat : top) - SF_UC_KSIZE) & ~(uintptr_t)15;
	if (at > top) /* wrapped: a stack at the bottom of the address space */
		return -EFAULT;
	/* The copy must fit in the stack the caller gave (a few KiB; more
	 * with large XSAVE states): never write below it. */
	if (q->stack_base && at < q->stack_base)
		return -ENOMEM;
	ucontext_t frame;
	child_frame(&frame, uc, q, top, fpat);
	/* The new stack is the caller's memory: a bad one gives -EFAULT here
	 * (the kernel would start a child that dies of SIGSEGV at once). */
	if ((fp && sf_self_caller.write(&sf_self_caller, fpat, fp, fpsize)) ||
	    sf_self_caller.write(&sf_self_caller, at, &frame, SF_UC_KSIZE))
		return -EFAULT;
	long pid = sf_arch_clone_sigreturn(
		q->flags, at, q->ptid, q->ctid, q->tls,
		q->extra & CLONE_CLEAR_SIGHAND ? clear_sighand : 0);
	return finish_parent(q, pid);
}

/* vfork on the caller's own stack: the per-thread buffer the two frames
 * are kept in (mapped at the first such call, kept for the thread). */
#define VF_SIZE (64 * 1024)
struct vfork_buf {
	struct cargs_req q;
	ucontext_t frame __attribute__((aligned(64)));
	unsigned char fpstate[] __attribute__((aligned(64)));
};
static __thread struct vfork_buf *vfork_buf
	__attribute__((tls_model("initial-exec")));

static long vfork_parent_done(long pid)
{
	return finish_parent(&vfork_buf->q, pid);
}

static long vfork_same_stack(ucontext_t *uc, const struct cargs_req *q)
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
	if (fp)
		__builtin_memcpy(b->fpstate, fp, fpsize);
	child_frame(&b->frame, uc, q, sf_ctx_sp(uc),
		    fp ? (uintptr_t)b->fpstate : 0);
	sf_arch_clone_vfork_sigreturn(
		q->flags, q->ptid, q->ctid, q->tls, &b->frame,
		q->extra & CLONE_CLEAR_SIGHAND ? clear_sighand : 0,
		vfork_parent_done);
}

/* alloc_pid's reading of set_tid (kernel/pid.c): set_tid[0] is the pid in
 * the child's namespace (a new one with CLONE_NEWPID, one level below the
 * caller's), each next one the pid a level up; no more entries than the
 * child's namespace has levels. A new namespace's pid can only be 1 (the
 * legacy clone gives exactly that); the caller's level is emulated with
 * ns_last_pid (Q->has_tid); deeper lists are left to cargs_to_legacy,
 * which answers as 5.3-5.4 (E2BIG). Returns 0 or -errno. */
static long set_tid_plan(const struct sf_caller *c,
			 const struct sysfill_clone_args *ca,
			 struct cargs_req *q)
{
	uint64_t n = ca->set_tid_size;
	int newpid = !!(ca->flags & CLONE_NEWPID);
	if (!n)
		return 0;
	int level = n > 1 ? proc_pidns_level() : 0;
	if (level >= 0 && n > (uint64_t)level + 1 + newpid)
		return -EINVAL;
	if (n > (uint64_t)1 + newpid)
		return 0;
	int32_t tids[2];
	if (c->read(c, tids, (uintptr_t)ca->set_tid, n * sizeof tids[0]))
		return -EFAULT;
	if (newpid) {
		char buf[32];
		if (proc_read("/proc/sys/kernel/pid_max", buf, sizeof buf) > 0 &&
		    (tids[0] < 1 || (uint64_t)tids[0] >= proc_number(buf)))
			return -EINVAL;
		if (tids[0] != 1) /* no child reaper there yet */
			return -EINVAL;
	}
	if (n > (uint64_t)newpid) {
		q->has_tid = 1;
		q->want_tid = tids[newpid];
	}
	return 0;
}

/* The library's plan for a fork-shaped clone3 (cargs_request): set_tid
 * at the caller's level (set_tid_plan) and CLONE_INTO_CGROUP. */
static long fork_plan(const struct sf_caller *c,
		      const struct sysfill_clone_args *ca,
		      struct sysfill_clone_args *legacy, struct cargs_req *q)
{
	long r = set_tid_plan(c, ca, q);
	if (r)
		return r;
	if (ca->set_tid_size &&
	    ca->set_tid_size <= 1 + !!(ca->flags & CLONE_NEWPID))
		legacy->set_tid = legacy->set_tid_size = 0;
	if (ca->flags & CLONE_INTO_CGROUP) {
		q->cgroup_fd = (int)ca->cgroup;
		legacy->flags &= ~(uint64_t)CLONE_INTO_CGROUP;
		legacy->cgroup = 0;
	}
	return 0;
}

long sf_clone_emulate(ucontext_t *uc, long nr, const long a[6])
{
	struct cargs_req q;
	long r = cargs_request(&sf_self_caller, nr, a, fork_plan, &q);
	if (r)
		return r;
	if (!(q.flags & CLONE_VM))
		return fork_shape(uc, &q);
	if (q.stack_top)
		return stack_shape(uc, &q);
	if (q.flags & CLONE_VFORK)
		return vfork_same_stack(uc, &q);
	return -ENOSYS;
}
