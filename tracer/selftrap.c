/* The supervisor's own calls under an inherited libsysfill.so filter.
 *
 * A dynamic program running with libsysfill.so that execs a static one is
 * rerouted to `sysfill run --mode=trace` (preload/interpose.c). When that
 * sysfill is itself static (the release's dist/sysfill), it keeps the
 * library's filter (filters survive execve) but cannot load the library,
 * and the filter traps calls the supervisor makes itself: its probe's
 * pidfd_open, glibc's rt_sigprocmask in raise(), rt_sigaction(SIGSYS).
 * Without a handler each such trap kills it (SIGSYS, "Bad system call").
 *
 * This handler gives the supervisor what the kernel gives it, nothing
 * emulated: a trapped call is made again through the syscall gate (the
 * filter lets calls from there through), except rt_sigprocmask, which is
 * applied to the mask the handler returns to (a mask set inside a handler
 * is undone by rt_sigreturn), SIGSYS kept unblocked as the library keeps
 * it, and clone3, answered ENOSYS (a clone3 made from a handler would start
 * the child inside the gate; glibc falls back to clone). The tracee is not
 * served here: after its execve its traps reach the supervisor as ptrace
 * signal stops (trace.c). Installed only where a filter is in place. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <ucontext.h>
#include "../shim/sf.h"
#include "tracer.h"

/* The supervisor's own SIGSYS action (probe.c sets one in a child). */
static struct sf_ksigaction own;

#define BIT(sig) (1ULL << ((sig) - 1))

static long own_sigprocmask(ucontext_t *uc, long how, uintptr_t set,
			    uintptr_t old, long size)
{
	if (size != 8)
		return -EINVAL;
	uint64_t *cur = (uint64_t *)&uc->uc_sigmask, v = *cur;
	if (set) {
		uint64_t s;
		memcpy(&s, (const void *)set, 8);
		long r = sf_sigmask_apply((int)how, *cur, s, &v);
		if (r < 0)
			return r;
	}
	if (old)
		memcpy((void *)old, cur, 8);
	*cur = v & ~BIT(SIGSYS); /* a trap with SIGSYS blocked kills */
	return 0;
}

static void on_sigsys(int sig, siginfo_t *si, void *vuc)
{
	ucontext_t *uc = vuc;
	int trap;
	if (!sf_our_trap(si, sf_ctx_pc(uc), sf_ctx_nr(uc), SF_TRAP_TAG, &trap)) {
		/* Not the library's trap: to our own action, if any. */
		if (own.handler == (uintptr_t)SIG_IGN)
			return;
		if (own.handler != (uintptr_t)SIG_DFL) {
			if (own.flags & SA_SIGINFO)
				((void (*)(int, siginfo_t *, void *))own.handler)(
					sig, si, vuc);
			else
				((void (*)(int))own.handler)(sig);
			return;
		}
		struct sf_ksigaction dfl = {0};
		sf_gate_call(SF_NR_rt_sigaction, SIGSYS, (long)&dfl, 0, 8);
		*(uint64_t *)&uc->uc_sigmask &= ~BIT(SIGSYS);
		sf_gate_call(SF_NR_kill, sf_gate_call(SF_NR_getpid, 0, 0, 0, 0),
			     sig, 0, 0);
		return;
	}
	long a[6], r;
	for (int i = 0; i < 6; i++)
		a[i] = sf_ctx_arg(uc, i);
	switch (si->si_syscall) {
	case SF_NR_rt_sigprocmask:
		r = own_sigprocmask(uc, a[0], (uintptr_t)a[1], (uintptr_t)a[2],
				    a[3]);
		break;
	case SF_NR_rt_sigaction: /* SIGSYS: recorded, our handler stays */
		r = a[3] != 8 ? -EINVAL : 0;
		if (!r && a[2])
			memcpy((void *)a[2], &own, sizeof own);
		if (!r && a[1]) {
			memcpy(&own, (const void *)a[1], sizeof own);
			sf_ksigaction_store(&own);
		}
		break;
	case SF_NR_clone3:
	case SF_NR_clone:
	case SF_NR_waitid:
		r = -ENOSYS;
		break;
	default: /* pidfd_open, pidfd_send_signal, pidfd_getfd, ioctl */
		r = sf_gate_call(si->si_syscall, a[0], a[1], a[2], a[3]);
	}
	sf_ctx_set_result(uc, r);
}

void selftrap_init(void)
{
	/* 2: a filter is in place (ours or anybody's); 0: none; gVisor and
	 * kernels without seccomp answer EINVAL, and then no filter can be. */
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 2 || sf_gate_init() < 0)
		return;
	/* Through the gate: the filter traps rt_sigaction(SIGSYS) elsewhere. */
	struct sf_ksigaction ka = {
		.handler = (uintptr_t)on_sigsys,
		.flags = SA_SIGINFO | SA_RESTORER,
		.restorer = SF_GATE_RESTORER,
		.mask = ~BIT(SIGSYS),
	};
	sf_gate_call(SF_NR_rt_sigaction, SIGSYS, (long)&ka, 0, 8);
}
