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
 *    waitid() are caught (interpose.c).
 * clone3 is answered with ERRNO(ENOSYS) by the same filter where a
 * container profile answers EPERM: no trap, so it never meets a blocked
 * SIGSYS (glibc blocks every signal around clone3). */
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

#define SF_TRAP_TAG 0x5f5fU /* SECCOMP_RET_DATA of our traps */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a seccomp SIGSYS */
#endif

int pl_mode = MODE_NATIVE;
int pl_filter;
struct sigaction pl_prog_sigsys;
SF_TLS int pl_sigsys_blocked;
SF_TLS int pl_sigsys_deferred;
SF_TLS siginfo_t pl_deferred_info;
char pl_self_path[4096];
static volatile int probing, inherited_filter;

static void die_by(siginfo_t *si)
{
	/* What the kernel does with a SIGSYS nobody handles: the default
	 * action (core dump), with the same siginfo. */
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sf_sys4(SF_NR_rt_sigaction, SIGSYS, &dfl, 0, 8);
	sf_sys4(SF_NR_rt_tgsigqueueinfo, sf_getpid(), sf_sys0(SF_NR_gettid),
		SIGSYS, si);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGSYS);
	sf_sys4(SF_NR_rt_sigprocmask, SIG_UNBLOCK, &s, 0, 8);
}

/* Pass a SIGSYS that is not ours on as if sysfill were not there. */
static void chain(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *p = &pl_prog_sigsys;
	int seccomp = si->si_code == SYS_SECCOMP;
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
	/* The program's handler, with the mask it asked for. */
	sigset_t old;
	sf_sys4(SF_NR_rt_sigprocmask, SIG_BLOCK, &p->sa_mask, &old, 8);
	if (p->sa_flags & SA_SIGINFO)
		p->sa_sigaction(sig, si, uc);
	else
		p->sa_handler(sig);
	sf_sys4(SF_NR_rt_sigprocmask, SIG_SETMASK, &old, 0, 8);
}

void pl_flush_deferred(void)
{
	if (!pl_sigsys_deferred)
		return;
	pl_sigsys_deferred = 0;
	sf_sys4(SF_NR_rt_tgsigqueueinfo, sf_getpid(), sf_sys0(SF_NR_gettid),
		SIGSYS, &pl_deferred_info);
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
static int load_filter(unsigned emu)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	int r = 0;
	if (emu & SF_FEAT_PIDFD_FAMILY) {
		r |= seccomp_rule_add(ctx, SCMP_ACT_TRAP, SF_NR_pidfd_open, 0);
		r |= seccomp_rule_add(ctx, SCMP_ACT_TRAP,
				      SF_NR_pidfd_send_signal, 0);
		r |= seccomp_rule_add(ctx, SCMP_ACT_TRAP, SF_NR_pidfd_getfd, 0);
		r |= seccomp_rule_add(ctx, SCMP_ACT_TRAP, SF_NR_waitid, 1,
				      SCMP_A0(SCMP_CMP_EQ, P_PIDFD));
	}
	if (emu & SF_FEAT_CLONE3)
		r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SF_NR_clone3, 0);
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

__attribute__((constructor)) static void sf_preload_init(void)
{
	sf_log_init();
	Dl_info dli;
	if (dladdr((void *)sf_preload_init, &dli) && dli.dli_fname &&
	    strlen(dli.dli_fname) < sizeof pl_self_path)
		strcpy(pl_self_path, dli.dli_fname);
	pl_interpose_init();
	/* The handler goes first: a filter inherited through execve traps the
	 * probe's calls, and without a handler they would kill us. */
	struct sigaction sa = {.sa_sigaction = sf_sigsys,
			       .sa_flags = SA_SIGINFO};
	sigfillset(&sa.sa_mask);
	int have_handler = pl_real_sigaction(SIGSYS, &sa, &pl_prog_sigsys) == 0;
	probing = 1;
	sf_probe_native();
	probing = 0;
	if (inherited_filter)
		sf_force_emulation();
	unsigned emu = sf_init();
	int traps = !!(emu & SF_FEAT_PIDFD_FAMILY);
	if (!emu) {
		if (have_handler)
			pl_real_sigaction(SIGSYS, &pl_prog_sigsys, 0);
		return;
	}
	int r = inherited_filter ? 0 : !have_handler && traps ? -EINVAL : load_filter(emu);
	if (r < 0)
		sf_log(SF_LOG_INFO, "seccomp unavailable (%s)", sf_errname(r));
	else
		pl_filter = 1;
	if (traps)
		pl_mode = r < 0 ? MODE_INTERPOSE : MODE_SECCOMP;
	if (pl_mode != MODE_SECCOMP && have_handler)
		pl_real_sigaction(SIGSYS, &pl_prog_sigsys, 0);
	if (traps)
		sf_log(SF_LOG_INFO, "mode=%s%s",
		       pl_mode == MODE_SECCOMP
			       ? "seccomp"
			       : "interpose (only calls made through libc are "
				 "emulated)",
		       inherited_filter ? " (filter inherited through execve)"
					: "");
}
