/* SIGSYS rules both front ends apply: which SIGSYS is a trap of ours, and
 * how Linux stores a signal action. */
#include "sf.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a seccomp SIGSYS */
#endif

/* For a trap the kernel names the address after the syscall instruction
 * and the call's number, and the saved registers hold both (the pc, and
 * the result register rolled back to the number). The checks of
 * Chromium's sandbox (seccomp-bpf/trap.cc). */
int sf_our_trap(const siginfo_t *si, uintptr_t pc, long nrreg, unsigned tag,
		int *seccomp)
{
	int trap = si->si_code == SYS_SECCOMP &&
		   (uintptr_t)si->si_call_addr == pc && si->si_syscall == (int)nrreg;
	if (seccomp)
		*seccomp = trap;
	return trap && si->si_arch == SF_AUDIT_ARCH &&
	       (unsigned)si->si_errno == tag && si->si_syscall != 0;
}

#define SIGBIT(sig) (1ULL << ((sig) - 1))

void sf_ksigaction_store(struct sf_ksigaction *k)
{
	k->flags &= SF_UAPI_SA_FLAGS;
	k->mask &= ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
}

long sf_sigmask_apply(int how, uint64_t old, uint64_t set, uint64_t *now)
{
	set &= ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
	switch (how) {
	case SIG_BLOCK:
		*now = old | set;
		return 0;
	case SIG_UNBLOCK:
		*now = old & ~set;
		return 0;
	case SIG_SETMASK:
		*now = set;
		return 0;
	}
	return -EINVAL;
}
