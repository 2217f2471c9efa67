/* A SIGSYS that no seccomp filter raised - sent with kill, sigqueue,
 * rt_sigqueueinfo or rt_tgsigqueueinfo, also with a forged seccomp siginfo
 * (si_code SYS_SECCOMP, sysfill's RET_DATA in si_errno, its arch, a trapped
 * call's number) - reaches the program's own handler with the siginfo it
 * was sent with, or its default action, and the sending call returns what
 * the kernel returned. The handler, with and without SA_ONSTACK, runs where
 * the kernel runs it (its stack pointer, ucontext, siginfo, sigaltstack's
 * SS_ONSTACK, a nested SA_ONSTACK signal), for a SIGSYS sent with kill and
 * for another filter's SECCOMP_RET_TRAP (whose handler sets the call's
 * result in the ucontext); sysfill's handler has SA_ONSTACK. */
#include "common.h"
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
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

/* The forged si_call_addr. si_call_addr shares its bytes with si_pid and
 * si_uid: a kill() from us shows them there (sender_alias), so the forged
 * value must be none of those (its high half is no uid of ours; with 0x1234
 * a run whose pid happened to be 4660 printed "given" for kill()). */
#define FORGED_ADDR ((void *)0xdead00001234UL)

static void *sender_alias(void)
{
	return (void *)(uintptr_t)((uint32_t)getpid() |
				   (uint64_t)getuid() << 32);
}

static void report(const char *step, long r)
{
	if (r < 0)
		out("%s: send = -1 %s handler_calls=%d", step, errname(errno), got);
	else
		out("%s: send = %ld handler_calls=%d si_code=%d si_errno=%x si_syscall=%d si_arch=%x addr=%s",
		    step, r, got, got_code, got_errno, got_nr, got_arch,
		    got_addr == FORGED_ADDR ? "given"
		    : got_addr == sender_alias() ? "sender"
		    : got_addr ? "other" : "0");
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
		forged(&si, NR_pidfd_open, FORGED_ADDR);
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

/* ---- where the program's handler runs, with an alternate stack ---------- */

struct seen {
	int calls, sp_alt, uc_alt, si_alt, onstack, disabled;
	int nested, nested_alt, code;
};
static volatile struct seen seen;
static volatile int raise_nested;

static void on_usr2(int sig)
{
	volatile char here;
	(void)sig;
	seen.nested++;
	seen.nested_alt = on_alt((const void *)&here);
}

static void on_sigsys_where(int sig, siginfo_t *si, void *uc)
{
	volatile char here;
	stack_t ss;
	(void)sig;
	seen.calls++;
	seen.sp_alt = on_alt((const void *)&here);
	seen.uc_alt = on_alt(uc);
	seen.si_alt = on_alt(si);
	seen.code = si->si_code;
	sigaltstack(NULL, &ss);
	seen.onstack = !!(ss.ss_flags & SS_ONSTACK);
	seen.disabled = !!(ss.ss_flags & SS_DISABLE);
	if (raise_nested)
		raw5(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2, 0);
	if (si->si_code == 1 /* SYS_SECCOMP */)
		((ucontext_t *)uc)->uc_mcontext.gregs[REG_RAX] = 4242;
}

static void print_seen(const char *step)
{
	out("%s: handler calls=%d sp-on-altstack=%d ucontext-on-altstack=%d "
	    "siginfo-on-altstack=%d SS_ONSTACK=%d SS_DISABLE=%d code=%s "
	    "nested=%d nested-on-altstack=%d",
	    step, seen.calls, seen.sp_alt, seen.uc_alt, seen.si_alt,
	    seen.onstack, seen.disabled, codename(SIGSYS, seen.code),
	    seen.nested, seen.nested_alt);
	memset((void *)&seen, 0, sizeof seen);
}

static void set_sigsys(int flags)
{
	struct sigaction sa = {.sa_sigaction = on_sigsys_where,
			       .sa_flags = SA_SIGINFO | flags};
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL))
		die("sigaction");
}

static void on_usr1_raise(int sig)
{
	(void)sig;
	kill(getpid(), SIGSYS); /* from the alternate stack */
}

static void placement(void)
{
	struct sigaction sa = {.sa_handler = on_usr2, .sa_flags = SA_ONSTACK};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	sa.sa_handler = on_usr1_raise;
	sigaction(SIGUSR1, &sa, NULL);
	static const struct {
		const char *name;
		int alt, flags, from_alt;
	} c[] = {
		{"kill-no-onstack", 1, 0, 0},
		{"kill-onstack", 1, SA_ONSTACK, 0},
		{"kill-no-onstack-from-altstack", 1, 0, 1},
		{"kill-onstack-from-altstack", 1, SA_ONSTACK, 1},
		{"kill-onstack-no-altstack", 0, SA_ONSTACK, 0},
		{"kill-no-onstack-no-altstack", 0, 0, 0},
	};
	for (size_t i = 0; i < sizeof c / sizeof *c; i++)
		for (int nested = 0; nested < 2; nested++) {
			char step[80];
			snprintf(step, sizeof step, "%s%s", c[i].name,
				 nested ? "-nested-usr2" : "");
			set_altstack(c[i].alt);
			set_sigsys(c[i].flags);
			raise_nested = nested;
			if (c[i].from_alt)
				kill(getpid(), SIGUSR1);
			else
				kill(getpid(), SIGSYS);
			print_seen(step);
		}
	raise_nested = 0;
	set_altstack(0);
	signal(SIGSYS, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
}

/* Another filter's trap of getppid (SECCOMP_RET_DATA 0x1234, not
 * sysfill's), in a child: the handler's result (4242) is the call's. Only
 * the call marked in its (unused) first argument is trapped: sanitizer
 * runtimes call getppid too. */
#define MARK 0x6d61726b
static void foreign_trap(const char *step, int flags, int nested)
{
	fflush(stdout);
	pid_t p = track(fork());
	if (p < 0)
		die("fork");
	if (p == 0) {
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
				 offsetof(struct seccomp_data, arch)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
				 offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 3),
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
				 offsetof(struct seccomp_data, args[0])),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MARK, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 0x1234),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = {.len = sizeof f / sizeof *f, .filter = f};
		struct sigaction sa = {.sa_handler = on_usr2, .sa_flags = SA_ONSTACK};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR2, &sa, NULL);
		set_altstack(1);
		set_sigsys(flags);
		raise_nested = nested;
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
			die("seccomp");
		long r = raw5(SYS_getppid, MARK, 0, 0, 0);
		out("%s: getppid = %ld", step, r);
		print_seen(step);
		exit(0);
	}
	int st;
	if (waitpid(p, &st, 0) != p)
		die("waitpid");
	out("%s: %s", step, status_text(st));
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
	forged(&si, NR_pidfd_open, FORGED_ADDR);
	report("forged-rt_sigqueueinfo-pidfd_open",
	       syscall(SYS_rt_sigqueueinfo, getpid(), SIGSYS, &si));
	forged(&si, NR_pidfd_send_signal, FORGED_ADDR);
	report("forged-rt_tgsigqueueinfo-pidfd_send_signal",
	       syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), SIGSYS, &si));
	forged(&si, SYS_rt_sigprocmask, FORGED_ADDR);
	report("forged-rt_sigqueueinfo-rt_sigprocmask",
	       syscall(SYS_rt_sigqueueinfo, getpid(), SIGSYS, &si));
	forged(&si, SYS_rt_sigaction, FORGED_ADDR);
	report("forged-rt_sigqueueinfo-rt_sigaction",
	       syscall(SYS_rt_sigqueueinfo, getpid(), SIGSYS, &si));
	forged(&si, 435 /* clone3 */, FORGED_ADDR);
	report("forged-rt_sigqueueinfo-clone3",
	       syscall(SYS_rt_sigqueueinfo, getpid(), SIGSYS, &si));
	report("forged-matching-address", queue_matching());

	/* Blocked: pending until the unblock, then the handler. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	sigprocmask(SIG_BLOCK, &set, &old);
	forged(&si, NR_pidfd_open, FORGED_ADDR);
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
		forged(&si, NR_pidfd_open, FORGED_ADDR);
		long e = syscall(SYS_rt_sigqueueinfo, parent, SIGSYS, &si);
		_exit(e < 0 && errno == EPERM ? 0 : 1);
	}
	int st;
	waitpid(p, &st, 0);
	out("from-other-process: child %s", WIFEXITED(st) && !WEXITSTATUS(st) ? "got EPERM" : "did not get EPERM");
	report("after-other-process", 0);

	child_disposition("default-action", SIG_DFL);
	child_disposition("ignored", SIG_IGN);

	altstack_init();
	placement();
	foreign_trap("foreign-trap-no-onstack", 0, 0);
	foreign_trap("foreign-trap-no-onstack-nested-usr2", 0, 1);
	foreign_trap("foreign-trap-onstack", SA_ONSTACK, 0);

	/* The emulation still works after all that. */
	fd = sys_pidfd_open(getpid(), 0);
	res("after", "pidfd_open", fd, 1);
	return 0;
}
