/* libsysfill.so: the in-process front end.
 *
 * At load: probe the kernel (once), and if any pidfd call is missing (or
 * SYSFILL_FORCE=1), or clone3 is missing or refused, catch the calls:
 *  - seccomp mode: a filter traps pidfd_open, pidfd_send_signal,
 *    pidfd_getfd, waitid(P_PIDFD), clone(CLONE_PIDFD), clone3 and
 *    rt_sigprocmask with SECCOMP_RET_TRAP|SF_TRAP_TAG; the SIGSYS handler
 *    runs the engine and writes the result into the interrupted context;
 *  - interpose mode (no seccomp, e.g. qemu-user): only calls made through
 *    libc's syscall(), pidfd_open(), pidfd_send_signal(), pidfd_getfd() and
 *    waitid() are caught (interpose.c).
 * A trap raised while the thread blocks SIGSYS kills the process, and
 * glibc blocks every signal around clone3 with a raw rt_sigprocmask: so
 * rt_sigprocmask is trapped too and never really blocks SIGSYS (the
 * program sees the mask it asked for). sysfill's own mask changes go
 * through the gate (shim/gate.c), which the filter lets through. Without
 * the gate, clone3 is answered with ERRNO(ENOSYS) instead (glibc falls back
 * to clone) and rt_sigprocmask is left alone. */
#include <dlfcn.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include "preload.h"
#include "env.h"
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a seccomp SIGSYS */
#endif

int pl_mode = MODE_NATIVE;
int pl_traps, pl_mask_trapped;
int pl_filter;
struct sigaction pl_prog_sigsys;
SF_TLS int pl_sigsys_blocked;
SF_TLS int pl_sigsys_deferred;
SF_TLS siginfo_t pl_deferred_info;
char pl_self_path[4096];
char pl_asan_path[4096];
unsigned char pl_mask_had_sigsys[_NSIG];
static volatile int probing, inherited_filter, inherited_family,
	inherited_masks;

struct k_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

#define SIGBIT(sig) (1ULL << ((sig) - 1))

/* The restorer libc's sigaction hands the kernel (glibc: its own
 * __restore_rt, with SA_RESTORER), 0 if unknown. */
static void *libc_restorer;

/* Learn libc_restorer on SIGURG (not trapped by any filter of ours), whose
 * action is put back exactly as it was. Constructor only. */
static void learn_libc_restorer(void)
{
	struct k_sigaction cur, seen;
	if (sf_sys4(SF_NR_rt_sigaction, SIGURG, 0, &cur, 8) < 0)
		return;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = (sighandler_t)cur.handler;
	sa.sa_flags = (int)(cur.flags & ~(unsigned long)SA_RESTORER);
	__builtin_memcpy(&sa.sa_mask, &cur.mask, 8);
	if (pl_real_sigaction(SIGURG, &sa, 0))
		return;
	if (sf_sys4(SF_NR_rt_sigaction, SIGURG, 0, &seen, 8) == 0)
		libc_restorer = seen.restorer;
	sf_sys4(SF_NR_rt_sigaction, SIGURG, &cur, 0, 8);
}

/* The program's SIGSYS action K (raw layout), stored as Linux stores it:
 * unknown flag bits cleared, SIGKILL and SIGSTOP out of the mask. */
static void prog_sigsys_set_k(const struct k_sigaction *k)
{
	struct sigaction n;
	struct sf_ksigaction s;
	__builtin_memcpy(&s, k, sizeof s);
	sf_ksigaction_store(&s);
	memset(&n, 0, sizeof n);
	n.sa_handler = (sighandler_t)s.handler;
	n.sa_flags = (int)s.flags;
	n.sa_restorer = (void (*)(void))s.restorer;
	__builtin_memcpy(&n.sa_mask, &s.mask, 8);
	pl_prog_sigsys = n;
}

static void prog_sigsys_get_k(struct k_sigaction *k)
{
	k->handler = (void *)pl_prog_sigsys.sa_handler;
	k->flags = (unsigned)pl_prog_sigsys.sa_flags;
	k->restorer = (void *)pl_prog_sigsys.sa_restorer;
	__builtin_memcpy(&k->mask, &pl_prog_sigsys.sa_mask, 8);
}

void pl_prog_sigsys_set(const struct sigaction *act)
{
	/* glibc's sigaction: SA_RESTORER and its restorer, always. */
	struct k_sigaction k = {.handler = (void *)act->sa_handler,
				.flags = (unsigned)act->sa_flags | SA_RESTORER,
				.restorer = libc_restorer};
	__builtin_memcpy(&k.mask, &act->sa_mask, 8);
	prog_sigsys_set_k(&k);
}

/* Put the program's own SIGSYS action back, exactly as it was. */
static void restore_prog_sigsys(void)
{
	struct k_sigaction k;
	prog_sigsys_get_k(&k);
	sf_gate_call(SF_NR_rt_sigaction, SIGSYS, (long)&k, 0, 8);
}

/* SIGSYS's disposition, set and read with the raw call through the gate
 * (an inherited filter traps rt_sigaction(SIGSYS) from anywhere else). */
int pl_raw_sigaction(int sig, const struct sigaction *act,
		     struct sigaction *old)
{
	if (!sf_gate_ready)
		return pl_real_sigaction(sig, act, old) ? -errno : 0;
	struct k_sigaction k, o;
	if (act) {
		k.handler = (void *)act->sa_handler;
		k.flags = (unsigned)act->sa_flags;
		k.restorer = (void *)act->sa_restorer;
		if (!(k.flags & SA_RESTORER) || !k.restorer) {
			k.flags |= SA_RESTORER;
			k.restorer = libc_restorer ? libc_restorer
						   : (void *)SF_GATE_RESTORER;
		}
		__builtin_memcpy(&k.mask, &act->sa_mask, 8);
	}
	long r = sf_gate_call(SF_NR_rt_sigaction, sig, act ? (long)&k : 0,
			      old ? (long)&o : 0, 8);
	if (r < 0)
		return (int)r;
	if (old) {
		memset(old, 0, sizeof *old);
		old->sa_handler = (sighandler_t)o.handler;
		old->sa_flags = (int)o.flags;
		old->sa_restorer = (void (*)(void))o.restorer;
		__builtin_memcpy(&old->sa_mask, &o.mask, 8);
	}
	return 0;
}

static int sigsys_action(const struct sigaction *act, struct sigaction *old)
{
	return pl_raw_sigaction(SIGSYS, act, old) ? -1 : 0;
}

static void die_by(siginfo_t *si)
{
	/* What the kernel does with a SIGSYS nobody handles: the default
	 * action (core dump), with the same siginfo. */
	struct k_sigaction dfl = {.handler = SIG_DFL};
	sf_gate_call(SF_NR_rt_sigaction, SIGSYS, (long)&dfl, 0, 8);
	sf_sys4(SF_NR_rt_tgsigqueueinfo, sf_getpid(), sf_sys0(SF_NR_gettid),
		SIGSYS, si);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGSYS);
	sf_sigmask(SIG_UNBLOCK, &s, 0);
}

/* The program's handler P for SIGSYS, with the mask it asked for: the
 * interrupted mask plus sa_mask plus SIGSYS. Where rt_sigprocmask is
 * trapped, SIGSYS is blocked only virtually, so that the handler's own
 * trapped calls (a mask change, a raw pidfd call) are served, not fatal. */
static void run_prog(const struct sigaction *p, int sig, siginfo_t *si,
		     ucontext_t *uc)
{
	uint64_t set, old, bit = SIGBIT(SIGSYS);
	__builtin_memcpy(&set, &uc->uc_sigmask, 8);
	uint64_t pmask;
	__builtin_memcpy(&pmask, &p->sa_mask, 8);
	set |= pmask;
	int vblocked = !(p->sa_flags & SA_NODEFER) || (pmask & bit);
	set = pl_mask_trapped ? set & ~bit : set | bit;
	pl_sigsys_blocked = vblocked;
	sf_sigmask(SIG_SETMASK, &set, &old);
	if (p->sa_flags & SA_SIGINFO)
		p->sa_sigaction(sig, si, uc);
	else
		p->sa_handler(sig);
	sf_sigmask(SIG_SETMASK, &old, 0);
	pl_sigsys_blocked = 0;
	pl_flush_deferred();
}

/* Our handler has SA_ONSTACK (Go gives every thread an alternate stack and
 * expects it of every handler): did the kernel move it onto the alternate
 * stack from a stack that is not (UC's saved settings, on_sig_stack())? */
static int moved_to_altstack(const ucontext_t *uc)
{
	return sf_on_altstack(uc, (uintptr_t)__builtin_frame_address(0)) &&
	       !sf_on_altstack(uc, sf_ctx_sp(uc));
}

struct moved {
	struct sigaction p;
	int sig;
	siginfo_t *si;
	ucontext_t *uc;
};

static void run_moved(void *arg)
{
	struct moved *m = arg;
	run_prog(&m->p, m->sig, m->si, m->uc);
}

/* The program's handler P without SA_ONSTACK, where the kernel would run
 * it: on the interrupted stack. A copy of the signal frame (ucontext, FP
 * state, siginfo) goes where the kernel would have put it, the handler
 * runs below it and the thread leaves through rt_sigreturn on the copy,
 * never again using the frame on the alternate stack (which a nested
 * SA_ONSTACK signal may overwrite meanwhile). Returns only if the
 * interrupted stack cannot be written (the kernel would raise SIGSEGV):
 * then the caller runs P here. */
static void run_prog_moved(const struct sigaction *p, int sig, siginfo_t *si,
			   ucontext_t *uc)
{
	const void *fp = sf_ctx_fpstate(uc);
	size_t fpsize = fp ? sf_arch_fpstate_size(fp) : 0;
	uintptr_t fpat, at = sf_arch_sigframe(sf_ctx_sp(uc), fpsize, &fpat);
	uintptr_t siat = at + SF_UC_KSIZE, mat = (at - 8 - sizeof(struct moved)) &
						   ~(uintptr_t)15;
	struct moved m = {*p, sig, (siginfo_t *)siat, (ucontext_t *)at};
	uintptr_t keep = (uintptr_t)sf_ctx_fpstate(uc);
	sf_stack_fresh(0, sf_ctx_sp(uc));
	if (fp)
		sf_ctx_set_fpstate(uc, fpat);
	int bad = (fp && sf_self_caller.write(&sf_self_caller, fpat, fp, fpsize)) ||
		  sf_self_caller.write(&sf_self_caller, at, uc, SF_UC_KSIZE) ||
		  sf_self_caller.write(&sf_self_caller, siat, si, sizeof *si) ||
		  sf_self_caller.write(&sf_self_caller, mat, &m, sizeof m);
	sf_ctx_set_fpstate(uc, keep);
	if (bad)
		return;
#ifdef __SANITIZE_ADDRESS__
	__asan_handle_no_return(); /* this frame is never returned to */
#endif
	sf_arch_run_sigreturn(run_moved, (void *)mat, mat, (ucontext_t *)at);
}

/* Pass a SIGSYS that is not ours on as if sysfill were not there. SECCOMP:
 * the kernel raised it for a seccomp trap (of another filter). */
static __attribute__((noinline)) void chain(int sig, siginfo_t *si, void *uc,
					    int seccomp)
{
	const struct sigaction *p = &pl_prog_sigsys;
	if (pl_sigsys_blocked) {
		if (seccomp) {
			die_by(si); /* a trap while blocked kills */
			return;
		}
		/* Sent by kill(): it stays pending until the unblock. */
		pl_deferred_info = *si;
		pl_sigsys_deferred = 1;
		return;
	}
	if (p->sa_handler == SIG_IGN && !seccomp)
		return;
	if (p->sa_handler == SIG_DFL || p->sa_handler == SIG_IGN) {
		die_by(si); /* a seccomp SIGSYS is forced even when ignored */
		return;
	}
	struct sigaction prog = *p;
	if (p->sa_flags & SA_RESETHAND) /* the kernel resets it at delivery */
		pl_prog_sigsys.sa_handler = SIG_DFL;
	if (!(prog.sa_flags & SA_ONSTACK) && moved_to_altstack(uc))
		run_prog_moved(&prog, sig, si, uc);
	run_prog(&prog, sig, si, uc);
}

void pl_flush_deferred(void)
{
	if (!pl_sigsys_deferred)
		return;
	pl_sigsys_deferred = 0;
	sf_sys4(SF_NR_rt_tgsigqueueinfo, sf_getpid(), sf_sys0(SF_NR_gettid),
		SIGSYS, &pl_deferred_info);
}

/* A trapped rt_sigprocmask, as the kernel's (same checks, same order),
 * with SIGSYS blocked only in pl_sigsys_blocked: the new real mask is
 * written into the interrupted context, which rt_sigreturn installs. */
static long virt_sigprocmask(ucontext_t *uc, const long a[6])
{
	int how = (int)a[0];
	uintptr_t set = (uintptr_t)a[1], oset = (uintptr_t)a[2];
	if ((size_t)a[3] != 8)
		return -EINVAL;
	uint64_t real, vold, vnew;
	__builtin_memcpy(&real, &uc->uc_sigmask, 8);
	vold = real | (pl_sigsys_blocked ? SIGBIT(SIGSYS) : 0);
	if (set) {
		/* Read with the kernel's own fault check first: this thread
		 * already blocks every signal (our sa_mask), so blocking SET
		 * changes nothing, and gives EFAULT for a bad pointer; then
		 * read it (0.1 us, against 0.8 for process_vm_readv). */
		uint64_t s;
		if (sf_sigmask(SIG_BLOCK, (const void *)set, 0) < 0)
			return -EFAULT;
		__builtin_memcpy(&s, (const void *)set, 8);
		if (sf_sigmask_apply(how, vold, s, &vnew) < 0)
			return -EINVAL;
		real = vnew & ~SIGBIT(SIGSYS);
		__builtin_memcpy(&uc->uc_sigmask, &real, 8);
		pl_sigsys_blocked = !!(vnew & SIGBIT(SIGSYS));
		if (!pl_sigsys_blocked)
			pl_flush_deferred(); /* pending until we return */
	}
	if (oset && sf_self_caller.write(&sf_self_caller, oset, &vold, 8))
		return -EFAULT;
	return 0;
}

/* A raw rt_sigaction(SIGSYS, ...) (glibc's posix_spawn child queries
 * every signal and resets handlers raw): ours stays, the program's is
 * recorded. A CLONE_VM child (posix_spawn's) shares our memory: what it
 * sets is not recorded, so the parent's disposition stays as it was. */
pid_t pl_owner_pid;

static long virt_sigaction_sigsys(const long a[6])
{
	uintptr_t act = (uintptr_t)a[1], oact = (uintptr_t)a[2];
	if ((size_t)a[3] != 8)
		return -EINVAL;
	struct k_sigaction k, o;
	prog_sigsys_get_k(&o);
	if (act) {
		if (sf_self_caller.read(&sf_self_caller, &k, act, sizeof k))
			return -EFAULT;
		if (sf_getpid() == pl_owner_pid)
			prog_sigsys_set_k(&k);
	}
	if (oact && sf_self_caller.write(&sf_self_caller, oact, &o, sizeof o))
		return -EFAULT;
	return 0;
}

static void owner_after_fork(void)
{
	pl_owner_pid = sf_getpid();
	pl_sigsys_deferred = 0; /* a fork child has no pending signal */
}

static void clear_prog_sigsys(void)
{
	/* CLONE_CLEAR_SIGHAND in a child with its own memory (the kernel's
	 * flush_signal_handlers). */
	if (pl_prog_sigsys.sa_handler != SIG_IGN)
		pl_prog_sigsys.sa_handler = SIG_DFL;
	pl_prog_sigsys.sa_flags = 0;
	pl_prog_sigsys.sa_restorer = 0;
	sigemptyset(&pl_prog_sigsys.sa_mask);
}

/* preload/tail.c */
SF_HIDDEN long pl_engine_call(ucontext_t *uc, long nr, const long a[6]);

/* A SIGSYS in a helper thread (its TCB is ours: no TLS of the
 * program's): sf_helpers_pause's wake, whose only effect is to end the
 * helper's blocking call (EINTR), or a process-directed SIGSYS of the
 * program's that the kernel gave to the helper (complete_signal takes any
 * thread that does not block it): the helper blocks SIGSYS from now on
 * and the signal goes back to the process for a thread of the program's,
 * with its siginfo where the kernel lets a thread other than the
 * receiver send it (si_code < 0: sigqueue), as kill() otherwise (the
 * sender's pid and uid become ours). No trapped call is made in a
 * helper: a trap there is fatal, as with SIGSYS blocked. */
static void helper_sigsys(siginfo_t *si, ucontext_t *uc)
{
	if (sf_helper_wake_ours(si))
		return;
	if (si->si_code == SYS_SECCOMP) {
		die_by(si);
		return;
	}
	uint64_t m;
	__builtin_memcpy(&m, &uc->uc_sigmask, 8);
	m |= SIGBIT(SIGSYS);
	__builtin_memcpy(&uc->uc_sigmask, &m, 8);
	if (sf_sys3(SF_NR_rt_sigqueueinfo, sf_getpid(), SIGSYS, si) < 0)
		sf_sys2(SF_NR_kill, sf_getpid(), SIGSYS);
}

static void sf_sigsys(int sig, siginfo_t *si, void *vuc)
{
	ucontext_t *uc = vuc;
	int trap;
	if (sf_arch_in_helper()) {
		helper_sigsys(si, uc);
		return;
	}
	if (!sf_our_trap(si, sf_ctx_pc(uc), sf_ctx_nr(uc), SF_TRAP_TAG, &trap)) {
		chain(sig, si, vuc, trap);
		return;
	}
	int saved = errno;
	if (probing) {
		/* Our filter came with execve from a process that ran sysfill:
		 * the probe must see the call as missing. */
		inherited_filter = 1;
		/* The parent emulated the pidfd calls if its filter traps
		 * one of them (not only clone3, as under an EPERM profile);
		 * it trapped masks (and installed actions) if it had a gate. */
		if (si->si_syscall == SF_NR_rt_sigprocmask)
			inherited_masks = 1;
		else if (si->si_syscall != SF_NR_clone3)
			inherited_family = 1;
		sf_ctx_set_result(uc, -ENOSYS);
		return;
	}
	long a[6], r;
	for (int i = 0; i < 6; i++)
		a[i] = sf_ctx_arg(uc, i);
	switch (si->si_syscall) {
	case SF_NR_rt_sigprocmask:
		r = virt_sigprocmask(uc, a);
		break;
	case SF_NR_rt_sigaction:
		r = virt_sigaction_sigsys(a);
		break;
	case SF_NR_clone3:
	case SF_NR_clone:
		r = sf_clone_emulate(uc, si->si_syscall, a);
		break;
	default:
		r = pl_engine_call(uc, si->si_syscall, a);
		if (r == SF_TAIL) { /* UC makes the call itself (tail.c) */
			errno = saved;
			return;
		}
	}
	sf_ctx_set_result(uc, r);
	errno = saved;
}

/* Build the filter with libseccomp, export it, tag our traps, load it.
 * Returns 0 or -errno. */
static int load_filter(unsigned emu, int gate)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	/* Calls of another ABI (an i386 or x32 program exec'd from here,
	 * which cannot load this library) pass untouched: they get what the
	 * kernel gives them, as without sysfill. libseccomp's default for
	 * them is to kill. */
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
	if (emu & SF_FEAT_PIDFD_FAMILY) {
		r |= seccomp_rule_add(ctx, SCMP_ACT_TRAP, SF_NR_pidfd_open, 0);
		r |= seccomp_rule_add(ctx, SCMP_ACT_TRAP,
				      SF_NR_pidfd_send_signal, 0);
		r |= seccomp_rule_add(ctx, SCMP_ACT_TRAP, SF_NR_pidfd_getfd, 0);
		/* idtype and sig are ints: the kernel reads the low 32
		 * bits of the register, so the rules compare only those
		 * (P_PIDFD or SIGSYS with junk above them is still one) */
		r |= seccomp_rule_add(ctx, SCMP_ACT_TRAP, SF_NR_waitid, 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu,
					      P_PIDFD));
		/* pidfs's ioctls (type 0xFF), for emulated pidfds */
		r |= seccomp_rule_add(ctx, SCMP_ACT_TRAP, SF_NR_ioctl, 1,
				      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00, 0xff00));
		if (gate) /* legacy clone's pidfd must be ours too */
			r |= seccomp_rule_add(ctx, SCMP_ACT_TRAP, SF_NR_clone, 1,
					      SCMP_A0(SCMP_CMP_MASKED_EQ,
						      CLONE_PIDFD, CLONE_PIDFD));
	}
	if (emu & SF_FEAT_CLONE3)
		r |= seccomp_rule_add(ctx, gate ? SCMP_ACT_TRAP
						: SCMP_ACT_ERRNO(ENOSYS),
				      SF_NR_clone3, 0);
	if (gate) {
		r |= seccomp_rule_add(ctx, SCMP_ACT_TRAP, SF_NR_rt_sigprocmask, 0);
		/* Not every rt_sigaction that installs an action, to take
		 * SIGSYS out of its sa_mask: glibc's posix_spawn child resets
		 * all 64 actions raw, and as traps that doubled the cost of a
		 * spawn (+450 us here). libc's sigaction is interposed. */
		r |= seccomp_rule_add(ctx, SCMP_ACT_TRAP, SF_NR_rt_sigaction, 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu,
					      SIGSYS));
	}
	int mfd = -1;
	struct sock_filter *insns = 0;
	long len = 0;
	if (!r) {
		mfd = memfd_create("sysfill-bpf", MFD_CLOEXEC);
		if (mfd < 0) /* before Linux 3.17; dist/libsysfill.so copes */
			r = -errno;
		else if (seccomp_export_bpf(ctx, mfd) < 0)
			r = -EIO;
	}
	seccomp_release(ctx);
	if (!r) {
		len = lseek(mfd, 0, SEEK_END);
		insns = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, mfd, 0);
		if (insns == MAP_FAILED)
			r = -errno;
	}
	if (mfd >= 0)
		close(mfd);
	if (r)
		return r < 0 ? r : -EINVAL;
	size_t n = len / sizeof *insns;
	for (size_t i = 0; i < n; i++)
		if (insns[i].code == (BPF_RET | BPF_K) &&
		    insns[i].k == SECCOMP_RET_TRAP)
			insns[i].k = SECCOMP_RET_TRAP | SF_TRAP_TAG;
	/* Ahead of libseccomp's program (which cannot test the instruction
	 * pointer): rt_sigprocmask made from the gate is allowed. */
	/* Ahead of libseccomp's program (which cannot test the instruction
	 * pointer): whatever sysfill itself calls through the gate passes. */
	const uint64_t ip = SF_GATE_IP;
	struct sock_filter pre[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SF_AUDIT_ARCH, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, instruction_pointer) + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(ip >> 32), 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, instruction_pointer)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)ip, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	size_t npre = gate ? sizeof pre / sizeof *pre : 0;
	struct sock_filter all[npre + n];
	memcpy(all, pre, npre * sizeof *pre);
	memcpy(all + npre, insns, n * sizeof *insns);
	struct sock_fprog prog = {.len = (unsigned short)(npre + n),
				  .filter = all};
	/* Without CAP_SYS_ADMIN the kernel wants no_new_privs first; set it
	 * only then (it also keeps later setuid programs from gaining
	 * privilege: see README). */
	long e = sf_sys3(SF_NR_seccomp, SECCOMP_SET_MODE_FILTER,
			 SECCOMP_FILTER_FLAG_TSYNC, &prog);
	if (e == -EACCES) {
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		sf_log(SF_LOG_WARN, "no CAP_SYS_ADMIN: set no_new_privs to load "
		       "the filter; setuid programs started from here (sudo, "
		       "su) gain no privileges");
		e = sf_sys3(SF_NR_seccomp, SECCOMP_SET_MODE_FILTER,
			    SECCOMP_FILTER_FLAG_TSYNC, &prog);
	}
	if (e > 0) /* a thread could not be synchronised: this thread only */
		e = sf_sys3(SF_NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
	munmap(insns, len);
	return e < 0 ? (int)e : 0;
}

__attribute__((constructor)) static void sf_preload_init(void)
{
	sf_log_init();
	Dl_info dli;
	if (dladdr((void *)sf_preload_init, &dli) && dli.dli_fname &&
	    strlen(dli.dli_fname) < sizeof pl_self_path) {
		/* Absolute, so that LD_PRELOAD put back at an exec still names
		 * this library after the program changed directory. */
		char *abs = realpath(dli.dli_fname, 0);
		strcpy(pl_self_path, abs && strlen(abs) < sizeof pl_self_path
					     ? abs
					     : dli.dli_fname);
		free(abs);
	}
#ifdef __SANITIZE_ADDRESS__
	{
		extern void __asan_init(void);
		Dl_info ai;
		if (dladdr((void *)__asan_init, &ai) && ai.dli_fname &&
		    strlen(ai.dli_fname) < sizeof pl_asan_path)
			strcpy(pl_asan_path, ai.dli_fname);
	}
#endif
	pl_interpose_init();
	learn_libc_restorer();
	/* The handler goes first: a filter inherited through execve traps the
	 * probe's calls, and without a handler they would kill us. */
	struct sigaction sa = {.sa_sigaction = sf_sigsys,
			       .sa_flags = SA_SIGINFO | SA_ONSTACK};
	sigfillset(&sa.sa_mask);
	sf_gate_init();
	int have_handler = sigsys_action(&sa, &pl_prog_sigsys) == 0;
	probing = 1;
	sf_probe_native();
	if (sf_gate_ready) { /* does an inherited filter trap masks? */
		uint64_t cur;
		sf_sys4(SF_NR_rt_sigprocmask, SIG_BLOCK, 0, &cur, 8);
	}
	probing = 0;
	if (inherited_family)
		sf_force_emulation();
	unsigned emu = sf_init();
	int family = !!(emu & SF_FEAT_PIDFD_FAMILY);
	if (!emu) {
		if (have_handler)
			restore_prog_sigsys();
		return;
	}
	/* The gate, also where the filter is inherited: an inherited filter
	 * lets this library's mask changes through only from there. */
	static const char *const c3[] = {"emulate", "enosys", 0};
	int gate = sf_gate_ready && sf_env_choice("SYSFILL_CLONE3", c3, 0) != 1;
	sf_clear_sigsys_hook = clear_prog_sigsys;
	sf_fork_child_hook = owner_after_fork;
	pl_owner_pid = sf_getpid();
	int r = inherited_filter ? 0
		: !have_handler	 ? -EINVAL
				 : load_filter(emu, gate);
	if (r < 0) {
		sf_log(SF_LOG_INFO, "seccomp unavailable (%s)", sf_errname(r));
	} else {
		pl_filter = 1;
		pl_traps = 1;
		pl_mask_trapped = gate && (!inherited_filter || inherited_masks);
	}
	if (family)
		pl_mode = r < 0 ? MODE_INTERPOSE : MODE_SECCOMP;
	if (!pl_traps && have_handler)
		restore_prog_sigsys();
	if (pl_traps) /* our handler is SIGSYS's: helpers may be woken */
		sf_helper_wake_sig = SIGSYS;
	sf_log(SF_LOG_INFO, "mode=%s%s; clone3 %s",
	       pl_mode == MODE_SECCOMP	   ? "seccomp"
	       : pl_mode == MODE_INTERPOSE ? "interpose (only calls made "
					     "through libc are emulated)"
					   : "native",
	       inherited_filter ? " (filter inherited through execve)" : "",
	       !(emu & SF_FEAT_CLONE3) ? "native"
	       : r < 0		      ? "left to the kernel"
	       : gate		      ? "emulated"
				      : "answers ENOSYS");
}
