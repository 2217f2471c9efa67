/* Trace mode's part in a tracee's EINTR: a signal the tracee ignores.
 *
 * The kernel drops a signal whose action is to ignore it (SIG_IGN, or
 * SIG_DFL of SIGCHLD, SIGURG, SIGWINCH, SIGCONT) when it is sent, so that
 * it never interrupts a call; but not for a traced task, so that its
 * tracer sees it (sig_ignored, kernel/signal.c). It then wakes the tracee
 * from a wait that returns -EINTR itself instead of a restart code
 * (epoll_wait and its kin): with no handler to run, the program would get
 * an EINTR no kernel gives it without the supervisor. A traced child's
 * exit is one: its real parent's SIGCHLD comes when the supervisor
 * consumes the exit report, just before the child's emulated pidfd
 * becomes readable, so a parent waiting in epoll_wait on that pidfd
 * would see EINTR. At the signal-delivery stop of such a signal, with no
 * other signal pending that the tracee would take, the interrupted call
 * is made again, as if the signal had not come. (A timeout then counts
 * from the restart.) Returns 1 if the stop was dealt with here (the
 * tracee resumed), 0 if the caller resumes it with SIG as usual. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include "trace.h"

#define BIT(sig) (1ULL << ((sig) - 1))
/* sig_kernel_ignore: default action "ignore" */
#define DEFAULT_IGNORED (BIT(SIGCHLD) | BIT(SIGURG) | BIT(SIGWINCH) | BIT(SIGCONT))

static int status_mask(const char *buf, const char *key, uint64_t *out)
{
	const char *p = strstr(buf, key);
	if (!p)
		return -1;
	*out = strtoull(p + strlen(key), NULL, 16);
	return 0;
}

/* Without the masks in /proc (gVisor): the tracee reads SIG's action
 * itself (an injected rt_sigaction). Only for the signals ignored by
 * default, whose stop is resumed without them meanwhile; any other signal
 * that stops the tracee on the way is pending: then the EINTR stays (and
 * those signals are queued again). */
static int injected_check(pid_t tid, int sig, const struct user_regs_struct *r)
{
	if (!(DEFAULT_IGNORED & BIT(sig)))
		return 0;
	struct call c;
	call_init(&c, tid, AT_SIGNAL);
	c.orig = *r;
	if (ptrace(PTRACE_GETSIGINFO, tid, 0, &c.pend[0]) < 0)
		return 0;
	c.npend = 1; /* queued again unless it is ignored */
	uintptr_t s = scratch(&c, sizeof(struct k_sigaction));
	struct k_sigaction ka;
	long ret = tsys(&c, SF_NR_rt_sigaction, sig, 0, (long)s, 8, 0, 0);
	if (c.gone)
		return 1;
	int again = 0;
	if (ret == 0 && mem_rw(tid, s, &ka, sizeof ka, 0) == 0 &&
	    (ka.handler == (uint64_t)(uintptr_t)SIG_IGN ||
	     ka.handler == (uint64_t)(uintptr_t)SIG_DFL)) {
		/* ignored: dropping it is what delivering it would do */
		c.pend[0] = c.pend[c.npend - 1];
		c.npend--;
		again = c.npend == 0;
	}
	long res = sf_pt_result(r);
	if (again) {
		sf_pt_set_pc(&c.orig, sf_pt_pc(r) - SF_SYSCALL_INSN_LEN);
		res = sf_pt_nr(r);
		tlog(3, "[%d] signal %d, which it ignores, interrupted call %ld: "
		     "made again", (int)tid, sig, res);
	}
	finish(&c, res);
	return 1;
}

int trace_ignored_eintr(pid_t tid, int sig)
{
	if (sig < 1 || sig > 64)
		return 0;
	struct user_regs_struct r;
	if (getregs(tid, &r) < 0 || sf_pt_result(&r) != -EINTR ||
	    sf_pt_nr(&r) < 0)
		return 0;
	char path[48], buf[2048];
	snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
	if (trace_read_file(path, buf, sizeof buf) <= 0)
		return 0;
	uint64_t pnd, shd, blk, ign, cgt;
	if (status_mask(buf, "\nSigPnd:", &pnd) ||
	    status_mask(buf, "\nShdPnd:", &shd) ||
	    status_mask(buf, "\nSigBlk:", &blk) ||
	    status_mask(buf, "\nSigIgn:", &ign) ||
	    status_mask(buf, "\nSigCgt:", &cgt))
		return injected_check(tid, sig, &r);
	int ignored = (ign & BIT(sig)) ||
		      (!(cgt & BIT(sig)) && (DEFAULT_IGNORED & BIT(sig)));
	if (!ignored || ((pnd | shd) & ~blk))
		return 0;
	sf_pt_set_pc(&r, sf_pt_pc(&r) - SF_SYSCALL_INSN_LEN);
	sf_pt_set_result(&r, sf_pt_nr(&r));
	if (setregs(tid, &r) < 0)
		return 0;
	tlog(3, "[%d] signal %d, which it ignores, interrupted call %ld: made "
	     "again", (int)tid, sig, sf_pt_nr(&r));
	return 0; /* delivered (and ignored), then the call */
}
