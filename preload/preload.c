/* libsysfill.so: the in-process front end.
 *
 * At load: probe the kernel (once), and if any pidfd call is missing (or
 * SYSFILL_FORCE=1), catch the calls:
 *  - seccomp mode: a filter traps pidfd_open, pidfd_send_signal,
 *    pidfd_getfd and waitid(P_PIDFD) with SECCOMP_RET_TRAP|SF_TRAP_TAG; the
 *    SIGSYS handler runs the engine and writes the result into the
 *    interrupted context;
 *  - interpose mode (no seccomp, e.g. qemu-user): only calls made through
 *    libc's syscall(), pidfd_open(), pidfd_send_signal(), pidfd_getfd() and
 *    waitid() are caught, by the symbols below.
 * The libc symbols call the engine directly in both modes: no trap, so
 * they also work while the caller blocks SIGSYS. */
#include <dlfcn.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include "sf.h"

#define SF_EXPORT __attribute__((visibility("default")))
#define SF_TRAP_TAG 0x5f5fU /* SECCOMP_RET_DATA of our traps */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a seccomp SIGSYS */
#endif

enum { MODE_NATIVE, MODE_SECCOMP, MODE_INTERPOSE };
static int mode = MODE_NATIVE;
static struct sigaction prev_sigsys;
static int (*real_waitid)(idtype_t, id_t, siginfo_t *, int);
static volatile int probing, inherited_filter;

/* Pass a SIGSYS that is not ours on as if sysfill were not there. */
static void chain(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *p = &prev_sigsys;
	if (p->sa_handler == SIG_IGN && si->si_code != SYS_SECCOMP)
		return;
	if (p->sa_handler == SIG_DFL || p->sa_handler == SIG_IGN) {
		/* The kernel would have killed the process (a seccomp SIGSYS
		 * is forced even when ignored): default action, same siginfo. */
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		sf_sys4(SF_NR_rt_sigaction, SIGSYS, &dfl, 0, 8);
		sf_sys4(SF_NR_rt_tgsigqueueinfo, sf_getpid(),
			sf_sys0(SF_NR_gettid), SIGSYS, si);
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGSYS);
		sf_sys4(SF_NR_rt_sigprocmask, SIG_UNBLOCK, &s, 0, 8);
		return;
	}
	if (p->sa_flags & SA_SIGINFO)
		p->sa_sigaction(sig, si, uc);
	else
		p->sa_handler(sig);
}

static void sf_sigsys(int sig, siginfo_t *si, void *vuc)
{
	ucontext_t *uc = vuc;
	if (si->si_code != SYS_SECCOMP || si->si_arch != SF_AUDIT_ARCH ||
	    (unsigned)si->si_errno != SF_TRAP_TAG) {
		chain(sig, si, vuc);
		return;
	}
	int saved = errno;
	if (probing) {
		/* Our filter came with execve from a process that ran sysfill:
		 * the probe must see the call as missing. */
		inherited_filter = 1;
		sf_ctx_set_result(uc, -ENOSYS);
		return;
	}
	long a[6];
	for (int i = 0; i < 6; i++)
		a[i] = sf_ctx_arg(uc, i);
	sf_ctx_set_result(uc, sf_engine_call(&sf_self_caller, si->si_syscall, a));
	errno = saved;
}

/* Build the filter with libseccomp, export it, tag our traps, load it.
 * Returns 0 or -errno. */
static int load_filter(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	int r = 0;
	r |= seccomp_rule_add(ctx, SCMP_ACT_TRAP, SF_NR_pidfd_open, 0);
	r |= seccomp_rule_add(ctx, SCMP_ACT_TRAP, SF_NR_pidfd_send_signal, 0);
	r |= seccomp_rule_add(ctx, SCMP_ACT_TRAP, SF_NR_pidfd_getfd, 0);
	r |= seccomp_rule_add(ctx, SCMP_ACT_TRAP, SF_NR_waitid, 1,
			      SCMP_A0(SCMP_CMP_EQ, P_PIDFD));
	int mfd = -1;
	struct sock_filter *insns = 0;
	long len = 0;
	if (!r) {
		mfd = memfd_create("sysfill-bpf", MFD_CLOEXEC);
		if (mfd < 0 || seccomp_export_bpf(ctx, mfd) < 0)
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
	struct sock_fprog prog = {.len = (unsigned short)n, .filter = insns};
	/* Without CAP_SYS_ADMIN the kernel wants no_new_privs first; set it
	 * only then (it also keeps later setuid programs from gaining
	 * privilege: see README). */
	long e = sf_sys3(SF_NR_seccomp, SECCOMP_SET_MODE_FILTER,
			 SECCOMP_FILTER_FLAG_TSYNC, &prog);
	if (e == -EACCES) {
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		sf_log(SF_LOG_INFO, "no CAP_SYS_ADMIN: set no_new_privs");
		e = sf_sys3(SF_NR_seccomp, SECCOMP_SET_MODE_FILTER,
			    SECCOMP_FILTER_FLAG_TSYNC, &prog);
	}
	if (e > 0) /* a thread could not be synchronised: this thread only */
		e = sf_sys3(SF_NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
	munmap(insns, len);
	return e < 0 ? (int)e : 0;
}

static void atfork_child(void)
{
	pidtab_atfork_child();
	monitor_atfork_child();
}

__attribute__((constructor)) static void sf_preload_init(void)
{
	sf_log_init();
	real_waitid = (int (*)(idtype_t, id_t, siginfo_t *, int))dlsym(
		RTLD_NEXT, "waitid");
	/* The handler goes first: a filter inherited through execve traps the
	 * probe's calls, and without a handler they would kill us. */
	struct sigaction sa = {.sa_sigaction = sf_sigsys,
			       .sa_flags = SA_SIGINFO};
	sigfillset(&sa.sa_mask);
	int have_handler = sigaction(SIGSYS, &sa, &prev_sigsys) == 0;
	probing = 1;
	sf_probe_native();
	probing = 0;
	if (inherited_filter)
		sf_force_emulation();
	if (!(sf_init() & SF_FEAT_PIDFD_FAMILY)) {
		if (have_handler)
			sigaction(SIGSYS, &prev_sigsys, 0);
		return;
	}
	pthread_atfork(0, 0, atfork_child);
	if (!have_handler) {
		mode = MODE_INTERPOSE;
	} else if (inherited_filter) {
		mode = MODE_SECCOMP; /* the parent's filter is ours */
	} else {
		int r = load_filter();
		if (r < 0) {
			sigaction(SIGSYS, &prev_sigsys, 0);
			mode = MODE_INTERPOSE;
			sf_log(SF_LOG_INFO, "seccomp unavailable (%s)",
			       sf_errname(r));
		} else {
			mode = MODE_SECCOMP;
		}
	}
	sf_log(SF_LOG_INFO, "mode=%s%s",
	       mode == MODE_SECCOMP ? "seccomp"
				    : "interpose (only calls made through libc "
				      "are emulated)",
	       inherited_filter ? " (filter inherited through execve)" : "");
}

/* ---- libc interposition ---- */

static long ret_errno(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static int emulated(long nr, long a0)
{
	if (mode == MODE_NATIVE)
		return 0;
	switch (nr) {
	case SF_NR_pidfd_open:
	case SF_NR_pidfd_send_signal:
	case SF_NR_pidfd_getfd:
		return 1;
	case SF_NR_waitid:
		return (int)a0 == P_PIDFD;
	}
	return 0;
}

SF_EXPORT long syscall(long nr, ...)
{
	va_list ap;
	long a[6];
	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (emulated(nr, a[0]))
		return ret_errno(sf_engine_call_masked(nr, a));
	return ret_errno(sf_syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]));
}

static long call3(long nr, long a0, long a1, long a2, long a3)
{
	const long a[6] = {a0, a1, a2, a3, 0, 0};
	if (emulated(nr, a0))
		return ret_errno(sf_engine_call_masked(nr, a));
	return ret_errno(sf_syscall6(nr, a0, a1, a2, a3, 0, 0));
}

SF_EXPORT int pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)call3(SF_NR_pidfd_open, pid, flags, 0, 0);
}

SF_EXPORT int pidfd_send_signal(int pidfd, int sig, siginfo_t *info,
				unsigned int flags)
{
	return (int)call3(SF_NR_pidfd_send_signal, pidfd, sig, (long)info, flags);
}

SF_EXPORT int pidfd_getfd(int pidfd, int targetfd, unsigned int flags)
{
	return (int)call3(SF_NR_pidfd_getfd, pidfd, targetfd, flags, 0);
}

SF_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
	if (emulated(SF_NR_waitid, idtype) || !real_waitid)
		return (int)call3(SF_NR_waitid, idtype, id, (long)info, options);
	return real_waitid(idtype, id, info, options);
}
