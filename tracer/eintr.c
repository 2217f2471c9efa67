/* EINTR that only tracing causes.
 *
 * The kernel discards a signal its target ignores (SIG_IGN, or SIG_DFL of
 * SIGCHLD, SIGURG, SIGWINCH, SIGCONT) when it is sent, so it never
 * interrupts anything -- except in a traced task (kernel/signal.c,
 * sig_ignored(): "Tracers may want to know about even ignored signal"),
 * where it is queued for the tracer's signal-delivery stop. On the way
 * there it wakes the call the task is blocked in, and the calls that
 * answer a pending signal with -EINTR rather than a restart code
 * (epoll_wait, epoll_pwait: fs/eventpoll.c ep_poll()) return it to the
 * program: under trace mode an event loop whose child exits would see EINTR
 * where natively it gets its event.
 *
 * At that stop the supervisor turns the call's -EINTR into -ERESTARTNOHAND
 * and lets the kernel decide as it does for every such call
 * (arch/x86/kernel/signal.c): a handler that runs gets EINTR, as natively;
 * a signal that is ignored is dropped and the call made again, as if it
 * had never come. The call starts again with its whole timeout. A stop
 * signal with its default action is the exception: natively it does end
 * epoll_wait with EINTR (signal(7)), so its -EINTR stays, unless the
 * program ignores it: /proc says which, or where it does not (gVisor),
 * the group stop that follows a signal that stops (eintr_group_stop). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include "../shim/arch/arch.h"
#include "tracer.h"

#define ERESTARTNOHAND 514 /* the kernel's, include/linux/errno.h */

/* Does task TID ignore SIG: 1 or 0 from /proc/TID/status, -1 if /proc
 * does not say (gVisor lists neither SigIgn nor SigCgt). */
static int proc_ignores(pid_t tid, int sig)
{
	char path[64], line[128];
	snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	unsigned long long ign = 0, cgt = 0;
	int got = 0;
	while (got < 2 && fgets(line, sizeof line, f))
		got += sscanf(line, "SigIgn: %llx", &ign) == 1 ||
		       sscanf(line, "SigCgt: %llx", &cgt) == 1;
	fclose(f);
	if (got < 2 || sig < 1 || sig > 64)
		return -1;
	unsigned long long bit = 1ULL << (sig - 1);
	int dfl_ignore = sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH ||
			 sig == SIGCONT;
	return (ign & bit) || (dfl_ignore && !(cgt & bit));
}

/* A stop signal's -EINTR natively stays: the call returns it once the
 * task is continued. Kept by taking the call's number out of the
 * registers (orig_ax -1): the kernel then applies no restart rule to it,
 * and no later stop (SIGCONT's, ignored by default) takes it for a call's
 * -EINTR again. Where /proc does not say whether the program ignores the
 * stop signal (gVisor), the group stop that follows decides: one pending
 * slot per tid hash. */
static struct {
	pid_t tid;
	unsigned long long pc, nr;
} pending[64];

static int is_stop(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	       sig == SIGTTOU;
}

static void keep_eintr(pid_t tid, struct user_regs_struct *r)
{
	sf_pt_set_result(r, -EINTR);
	r->orig_rax = (unsigned long long)-1;
	ptrace(PTRACE_SETREGS, tid, 0, r);
}

void eintr_restartable(pid_t tid, int sig)
{
	struct user_regs_struct r;
	if (ptrace(PTRACE_GETREGS, tid, 0, &r) < 0)
		return;
	__typeof__(pending[0]) *p = &pending[(unsigned)tid % 64];
	if (p->tid == tid)
		p->tid = 0;
	/* a syscall returning -EINTR (orig_ax is negative when the task
	 * entered the kernel otherwise: interrupt, fault) */
	if ((long)r.orig_rax < 0 || sf_pt_result(&r) != -EINTR)
		return;
	if (is_stop(sig)) {
		int ign = proc_ignores(tid, sig);
		if (ign == 0) {
			keep_eintr(tid, &r);
			return;
		}
		if (ign < 0)
			*p = (__typeof__(*p)){tid, r.rip, r.orig_rax};
	}
	sf_pt_set_result(&r, -ERESTARTNOHAND);
	ptrace(PTRACE_SETREGS, tid, 0, &r);
}

void eintr_group_stop(pid_t tid)
{
	__typeof__(pending[0]) *p = &pending[(unsigned)tid % 64];
	struct user_regs_struct r;
	if (p->tid != tid || ptrace(PTRACE_GETREGS, tid, 0, &r) < 0)
		return;
	p->tid = 0;
	if (r.rip == p->pc && r.orig_rax == p->nr &&
	    sf_pt_result(&r) == -ERESTARTNOHAND)
		keep_eintr(tid, &r);
}
