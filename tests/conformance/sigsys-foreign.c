/* A SIGSYS that no seccomp filter raised - sent with kill, sigqueue,
 * rt_sigqueueinfo or rt_tgsigqueueinfo, also with a forged seccomp siginfo
 * (si_code SYS_SECCOMP, sysfill's RET_DATA in si_errno, its arch, a trapped
 * call's number) - reaches the program's own handler with the siginfo it
 * was sent with, or its default action, and the sending call returns what
 * the kernel returned. */
#include "common.h"
#include <stdint.h>

#define SYS_SECCOMP_CODE 1
#define AUDIT_ARCH_X86_64_ 0xc000003eU
#define SYSFILL_TAG 0x5f5f

static volatile int got;
static volatile int got_code, got_errno, got_nr;
static volatile unsigned got_arch;
static volatile void *got_addr;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	got++;
	got_code = si->si_code;
	got_errno = si->si_errno;
	got_nr = si->si_syscall;
	got_arch = si->si_arch;
	got_addr = si->si_call_addr;
}

static void forged(siginfo_t *si, int nr, void *addr)
{
	memset(si, 0, sizeof *si);
	si->si_signo = SIGSYS;
	si->si_code = SYS_SECCOMP_CODE;
	si->si_errno = SYSFILL_TAG;
	si->si_call_addr = addr;
	si->si_syscall = nr;
	si->si_arch = AUDIT_ARCH_X86_64_;
}

static void report(const char *step, long r)
{
	if (r < 0)
		out("%s: send = -1 %s handler_calls=%d", step, errname(errno), got);
	else
		out("%s: send = %ld handler_calls=%d si_code=%d si_errno=%x si_syscall=%d si_arch=%x addr=%s",
		    step, r, got, got_code, got_errno, got_nr, got_arch,
		    got_addr == (void *)0x1234 ? "given" : got_addr ? "other" : "0");
	got = 0;
	got_code = got_errno = got_nr = 0;
	got_arch = 0;
	got_addr = 0;
}

/* rt_sigqueueinfo(self) from an instruction whose end address is the
 * forged si_call_addr, with the return value (0) as si_syscall: the saved
 * context then matches the forged fields as far as a self-sent signal can. */
static long queue_matching(void)
{
	siginfo_t si;
	forged(&si, 0, 0);
	long r;
	register long r10 __asm__("r10") = 0;
	__asm__ volatile("lea 3f(%%rip), %%rcx\n\t"
			 "mov %%rcx, 16(%%rdx)\n\t"
			 "syscall\n"
			 "3:"
			 : "=a"(r)
			 : "a"((long)SYS_rt_sigqueueinfo), "D"((long)getpid()),
			   "S"((long)SIGSYS), "d"(&si), "r"(r10)
			 : "rcx", "r11", "memory");
	return r < 0 ? (errno = (int)-r, -1) : r;
}

/* In a child: SIGSYS left at DISP (SIG_DFL or SIG_IGN), a forged seccomp
 * SIGSYS queued to itself. Prints how the child ended. */
static void child_disposition(const char *step, void (*disp)(int))
{
	fflush(stdout);
	pid_t p = track(fork());
	if (p < 0)
		die("fork");
	if (p == 0) {
		signal(SIGSYS, disp);
		siginfo_t si;
		forged(&si, NR_pidfd_open, (void *)0x1234);
		long r = syscall(SYS_rt_sigqueueinfo, getpid(), SIGSYS, &si);
		_exit(r == 0 ? 7 : 8);
	}
	int st;
	if (waitpid(p, &st, 0) != p)
		die("waitpid");
	if (WIFSIGNALED(st))
		out("%s: child killed by %s", step, signame(WTERMSIG(st)));
	else
		out("%s: child exited %d", step, WEXITSTATUS(st));
}

int main(void)
{
	scenario_init();
	probe_pidfd_open();
	long fd;

	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, 0))
		die("sigaction");

	report("kill", kill(getpid(), SIGSYS));
	report("tgkill", syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGSYS));
	union sigval v = {.sival_int = 5};
	report("sigqueue", sigqueue(getpid(), SIGSYS, v));

	siginfo_t si;
	forged(&si, NR_pidfd_open, (void *)0x1234);
	report("forged-rt_sigqueueinfo-pidfd_open",
	       syscall(SYS_rt_sigqueueinfo, getpid(), SIGSYS, &si));
	forged(&si, NR_pidfd_send_signal, (void *)0x1234);
	report("forged-rt_tgsigqueueinfo-pidfd_send_signal",
	       syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), SIGSYS, &si));
	forged(&si, SYS_rt_sigprocmask, (void *)0x1234);
	report("forged-rt_sigqueueinfo-rt_sigprocmask",
	       syscall(SYS_rt_sigqueueinfo, getpid(), SIGSYS, &si));
	forged(&si, SYS_rt_sigaction, (void *)0x1234);
	report("forged-rt_sigqueueinfo-rt_sigaction",
	       syscall(SYS_rt_sigqueueinfo, getpid(), SIGSYS, &si));
	forged(&si, 435 /* clone3 */, (void *)0x1234);
	report("forged-rt_sigqueueinfo-clone3",
	       syscall(SYS_rt_sigqueueinfo, getpid(), SIGSYS, &si));
	report("forged-matching-address", queue_matching());

	/* Blocked: pending until the unblock, then the handler. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	sigprocmask(SIG_BLOCK, &set, &old);
	forged(&si, NR_pidfd_open, (void *)0x1234);
	long r = syscall(SYS_rt_sigqueueinfo, getpid(), SIGSYS, &si);
	sigset_t pend;
	sigpending(&pend);
	out("blocked: pending=%d handler_calls=%d", sigismember(&pend, SIGSYS), got);
	sigprocmask(SIG_SETMASK, &old, 0);
	report("blocked-then-unblocked", r);

	/* Another process may not send si_code >= 0: EPERM. */
	fflush(stdout);
	pid_t parent = getpid();
	pid_t p = track(fork());
	if (p == 0) {
		forged(&si, NR_pidfd_open, (void *)0x1234);
		long e = syscall(SYS_rt_sigqueueinfo, parent, SIGSYS, &si);
		_exit(e < 0 && errno == EPERM ? 0 : 1);
	}
	int st;
	waitpid(p, &st, 0);
	out("from-other-process: child %s", WIFEXITED(st) && !WEXITSTATUS(st) ? "got EPERM" : "did not get EPERM");
	report("after-other-process", 0);

	child_disposition("default-action", SIG_DFL);
	child_disposition("ignored", SIG_IGN);

	/* The emulation still works after all that. */
	fd = sys_pidfd_open(getpid(), 0);
	res("after", "pidfd_open", fd, 1);
	return 0;
}
