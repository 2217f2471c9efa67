/* pidfd_send_signal's scopes (PIDFD_SIGNAL_THREAD, _THREAD_GROUP,
 * _PROCESS_GROUP: the group whose id is the pidfd's pid) and its siginfo
 * rules: only the kernel's part of the siginfo is read (EFAULT only
 * there), an unknown layout needs a zero expansion (E2BIG), in the order
 * of do_pidfd_send_signal. */
#include <sys/mman.h>
#include "common.h"

#define KSI 48 /* struct kernel_siginfo on 64-bit */

static void parent_pending(const char *step)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	struct timespec zero = {0, 0};
	siginfo_t si;
	int got = sigtimedwait(&set, &si, &zero) == SIGUSR1;
	out("%s: parent got %s", step, got ? "SIGUSR1" : "nothing");
}

static void mkinfo(siginfo_t *si, int sig, int code)
{
	memset(si, 0, sizeof *si);
	si->si_signo = sig;
	si->si_code = code;
	si->si_pid = GIVEN_PID;
	si->si_uid = getuid();
	si->si_value.sival_int = GIVEN_VALUE;
}

int main(void)
{
	scenario_init();
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	siginfo_t si;

	/* a kid that leads its own process group, one that does not */
	struct kid a = kid_start();
	if (setpgid(a.pid, a.pid))
		die("setpgid");
	struct kid b = kid_start();
	long fa = sys_pidfd_open(a.pid, 0), fb = sys_pidfd_open(b.pid, 0);
	res("open-a", "pidfd_open", fa, 1);
	res("open-b", "pidfd_open", fb, 1);

	res("pgrp-leader", "pidfd_send_signal",
	    sys_pidfd_send_signal(fa, SIGUSR1, NULL, PIDFD_SIGNAL_PROCESS_GROUP), 0);
	kid_check("pgrp-leader", &a);
	parent_pending("pgrp-leader");
	res("pgrp-nonleader", "pidfd_send_signal",
	    sys_pidfd_send_signal(fb, SIGUSR1, NULL, PIDFD_SIGNAL_PROCESS_GROUP), 0);
	kid_check("pgrp-nonleader", &b);
	parent_pending("pgrp-nonleader");
	mkinfo(&si, SIGUSR1, SI_QUEUE);
	res("pgrp-info", "pidfd_send_signal",
	    sys_pidfd_send_signal(fa, SIGUSR1, &si, PIDFD_SIGNAL_PROCESS_GROUP), 0);
	kid_check("pgrp-info", &a);
	mkinfo(&si, SIGUSR1, SI_QUEUE);
	res("pgrp-info-nonleader", "pidfd_send_signal",
	    sys_pidfd_send_signal(fb, SIGUSR1, &si, PIDFD_SIGNAL_PROCESS_GROUP), 0);
	parent_pending("pgrp-info-nonleader");
	mkinfo(&si, SIGUSR1, SI_USER);
	res("pgrp-info-si-user", "pidfd_send_signal",
	    sys_pidfd_send_signal(fa, SIGUSR1, &si, PIDFD_SIGNAL_PROCESS_GROUP), 0);
	kid_check("pgrp-info-si-user", &a);
	/* to our own pidfd as a group: EPERM for SI_USER even to oneself */
	long fs = sys_pidfd_open(getpid(), 0);
	mkinfo(&si, SIGUSR1, SI_USER);
	res("pgrp-self-si-user", "pidfd_send_signal",
	    sys_pidfd_send_signal(fs, SIGUSR1, &si, PIDFD_SIGNAL_PROCESS_GROUP), 0);
	res("thread-self-si-user", "pidfd_send_signal",
	    sys_pidfd_send_signal(fs, SIGUSR1, &si, PIDFD_SIGNAL_THREAD), 0);
	parent_pending("thread-self-si-user");
	close(fs);

	/* the other scopes and their default si_code */
	res("thread", "pidfd_send_signal",
	    sys_pidfd_send_signal(fb, SIGUSR1, NULL, PIDFD_SIGNAL_THREAD), 0);
	kid_check("thread", &b);
	res("thread-group", "pidfd_send_signal",
	    sys_pidfd_send_signal(fb, SIGUSR1, NULL, PIDFD_SIGNAL_THREAD_GROUP), 0);
	kid_check("thread-group", &b);
	mkinfo(&si, SIGUSR1, SI_QUEUE);
	res("thread-info", "pidfd_send_signal",
	    sys_pidfd_send_signal(fb, SIGUSR1, &si, PIDFD_SIGNAL_THREAD), 0);
	kid_check("thread-info", &b);
	res("two-scopes", "pidfd_send_signal",
	    sys_pidfd_send_signal(fb, SIGUSR1, NULL,
				  PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_PROCESS_GROUP), 0);

	/* siginfo: only the kernel's 48 bytes are read for a known layout */
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		die("mmap");
	munmap(m + pg, pg);
	siginfo_t *edge = (siginfo_t *)(m + pg - KSI);
	mkinfo(&si, SIGUSR1, SI_QUEUE);
	memcpy(edge, &si, KSI);
	res("known-at-edge", "pidfd_send_signal",
	    sys_pidfd_send_signal(fb, SIGUSR1, edge, 0), 0);
	kid_check("known-at-edge", &b);
	siginfo_t *over = (siginfo_t *)(m + pg - KSI + 8);
	memcpy(over, &si, KSI - 8);
	res("known-over-edge", "pidfd_send_signal",
	    sys_pidfd_send_signal(fb, SIGUSR1, over, 0), 0);
	mkinfo(&si, SIGUSR1, -100);
	memcpy(edge, &si, KSI);
	res("unknown-at-edge", "pidfd_send_signal",
	    sys_pidfd_send_signal(fb, SIGUSR1, edge, 0), 0);

	/* an unknown layout: the expansion must be zero */
	mkinfo(&si, SIGUSR1, -100);
	res("unknown-zero", "pidfd_send_signal",
	    sys_pidfd_send_signal(fb, SIGUSR1, &si, 0), 0);
	kid_check("unknown-zero", &b);
	((char *)&si)[100] = 1;
	res("unknown-nonzero", "pidfd_send_signal",
	    sys_pidfd_send_signal(fb, SIGUSR1, &si, 0), 0);
	si.si_signo = SIGUSR2; /* E2BIG before EINVAL */
	res("unknown-nonzero-wrong-signo", "pidfd_send_signal",
	    sys_pidfd_send_signal(fb, SIGUSR1, &si, 0), 0);
	si.si_code = SI_USER; /* E2BIG before EPERM */
	si.si_signo = SIGUSR1;
	si.si_code = -100;
	res("unknown-nonzero-pgrp", "pidfd_send_signal",
	    sys_pidfd_send_signal(fa, SIGUSR1, &si, PIDFD_SIGNAL_PROCESS_GROUP), 0);
	/* known layouts with junk in the expansion are fine */
	static const struct { const char *n; int sig, code; } k[] = {
		{"segv-cperr", SIGSEGV, 10}, {"segv-11", SIGSEGV, 11},
		{"fpe-15", SIGFPE, 15}, {"fpe-16", SIGFPE, 16},
		{"ill-11", SIGILL, 11}, {"ill-12", SIGILL, 12},
		{"bus-5", SIGBUS, 5}, {"bus-6", SIGBUS, 6},
		{"trap-6", SIGTRAP, 6}, {"trap-7", SIGTRAP, 7},
		{"chld-6", SIGCHLD, 6}, {"chld-7", SIGCHLD, 7},
		{"poll-6", SIGPOLL, 6}, {"poll-7", SIGPOLL, 7},
		{"sys-2", SIGSYS, 2}, {"sys-3", SIGSYS, 3},
		{"usr1-6", SIGUSR1, 6}, {"usr1-7", SIGUSR1, 7},
		{"kernel", SIGUSR1, SI_KERNEL}, {"kernel+1", SIGUSR1, SI_KERNEL + 1},
		{"dethread", SIGUSR1, -7}, {"minus-8", SIGUSR1, -8},
		{"asyncnl", SIGUSR1, -60}, {"user", SIGUSR1, SI_USER},
	};
	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
		char step[64];
		mkinfo(&si, k[i].sig, k[i].code);
		((char *)&si)[100] = 1;
		/* wrong signo on purpose: EINVAL if the layout is known,
		 * E2BIG if not (nothing is sent either way) */
		snprintf(step, sizeof step, "layout-%s", k[i].n);
		res(step, "pidfd_send_signal",
		    sys_pidfd_send_signal(fb, k[i].sig == SIGUSR1 ? SIGUSR2 : SIGUSR1,
					  &si, 0), 0);
	}

	/* a reaped process: the fd first, then info, then ESRCH */
	kid_exit(&b, 0);
	reap(b.pid);
	res("reaped", "pidfd_send_signal", sys_pidfd_send_signal(fb, SIGUSR1, NULL, 0), 0);
	res("reaped-bad-info", "pidfd_send_signal",
	    sys_pidfd_send_signal(fb, SIGUSR1, (void *)1, 0), 0);
	mkinfo(&si, SIGUSR1, -100);
	((char *)&si)[100] = 1;
	res("reaped-e2big", "pidfd_send_signal", sys_pidfd_send_signal(fb, SIGUSR1, &si, 0), 0);
	res("reaped-pgrp", "pidfd_send_signal",
	    sys_pidfd_send_signal(fb, SIGUSR1, NULL, PIDFD_SIGNAL_PROCESS_GROUP), 0);
	kid_close(&b);
	close(fb);

	/* a group leader that is gone while its group lives on: still sent
	 * (a pidfd of a zombie leader) */
	kid_exit(&a, 0);
	res("zombie-leader-pgrp", "pidfd_send_signal",
	    sys_pidfd_send_signal(fa, SIGUSR1, NULL, PIDFD_SIGNAL_PROCESS_GROUP), 0);
	reap(a.pid);
	res("reaped-leader-pgrp", "pidfd_send_signal",
	    sys_pidfd_send_signal(fa, SIGUSR1, NULL, PIDFD_SIGNAL_PROCESS_GROUP), 0);
	kid_close(&a);
	close(fa);
	parent_pending("end");
	return 0;
}
