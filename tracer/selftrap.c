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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <ucontext.h>
#include <linux/seccomp.h>
#include "../shim/arch/arch.h"
#include "tracer.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

struct k_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

static int gate_ready;
/* The supervisor's own SIGSYS action (probe.c sets one in a child). */
static struct k_sigaction own;

static long gate4(long nr, long a, long b, long c, long d)
{
	return gate_ready ? sf_arch_gate_call4(nr, a, b, c, d)
			  : sf_syscall6(nr, a, b, c, d, 0, 0);
}

#define BIT(sig) (1ULL << ((sig) - 1))

static long own_sigprocmask(ucontext_t *uc, long how, uintptr_t set,
			    uintptr_t old, long size)
{
	if (size != 8)
		return -EINVAL;
	uint64_t *cur = (uint64_t *)&uc->uc_sigmask, v = 0;
	if (set) {
		memcpy(&v, (const void *)set, 8);
		if (how == SIG_BLOCK)
			v = *cur | v;
		else if (how == SIG_UNBLOCK)
			v = *cur & ~v;
		else if (how != SIG_SETMASK)
			return -EINVAL;
	}
	if (old)
		memcpy((void *)old, cur, 8);
	if (set)
		*cur = v & ~(BIT(SIGSYS) | BIT(SIGKILL) | BIT(SIGSTOP));
	return 0;
}

static void on_sigsys(int sig, siginfo_t *si, void *vuc)
{
	ucontext_t *uc = vuc;
	if (si->si_code != SYS_SECCOMP || (unsigned)si->si_errno != SF_TRAP_TAG ||
	    si->si_arch != SF_AUDIT_ARCH) {
		/* Not the library's trap: to our own action, if any. */
		if (own.handler == (void *)SIG_IGN)
			return;
		if (own.handler != (void *)SIG_DFL) {
			if (own.flags & SA_SIGINFO)
				((void (*)(int, siginfo_t *, void *))own.handler)(
					sig, si, vuc);
			else
				((void (*)(int))own.handler)(sig);
			return;
		}
		struct k_sigaction dfl = {0};
		gate4(SF_NR_rt_sigaction, SIGSYS, (long)&dfl, 0, 8);
		*(uint64_t *)&uc->uc_sigmask &= ~BIT(SIGSYS);
		sf_syscall6(SF_NR_kill, sf_syscall6(SF_NR_getpid, 0, 0, 0, 0, 0, 0),
			    sig, 0, 0, 0, 0);
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
		if (!r && a[1])
			memcpy(&own, (const void *)a[1], sizeof own);
		break;
	case SF_NR_clone3:
	case SF_NR_clone:
	case SF_NR_waitid:
		r = -ENOSYS;
		break;
	default: /* pidfd_open, pidfd_send_signal, pidfd_getfd, ioctl */
		r = gate4(si->si_syscall, a[0], a[1], a[2], a[3]);
	}
	sf_ctx_set_result(uc, r);
}

void selftrap_init(void)
{
	/* 2: a filter is in place (ours or anybody's); 0: none; gVisor and
	 * kernels without seccomp answer EINVAL, and then no filter can be. */
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 2)
		return;
	void *p = mmap((void *)SF_GATE_ADDR, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		return;
	if ((uintptr_t)p != SF_GATE_ADDR) {
		munmap(p, 4096);
		return;
	}
	sf_arch_gate_fill(p);
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC) < 0) {
		munmap(p, 4096);
		return;
	}
	gate_ready = 1;
	/* Through the gate: the filter traps rt_sigaction(SIGSYS) elsewhere. */
	struct k_sigaction ka = {
		.handler = (void *)on_sigsys,
		.flags = SA_SIGINFO | SA_RESTORER,
		.restorer = (void *)SF_GATE_RESTORER,
		.mask = ~BIT(SIGSYS),
	};
	gate4(SF_NR_rt_sigaction, SIGSYS, (long)&ka, 0, 8);
}
