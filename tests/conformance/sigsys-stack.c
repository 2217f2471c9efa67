/* Which stack signal handling uses, with and without an alternate signal
 * stack (sigaltstack): trapped calls made near the bottom of a small stack
 * (a PROT_NONE guard below it) by a thread that has an alternate stack,
 * as Go's goroutines make them; the program's own SIGSYS handler, with and
 * without SA_ONSTACK, run where the kernel runs it (its stack pointer, its
 * ucontext, sigaltstack's SS_ONSTACK, a nested SA_ONSTACK signal), for a
 * SIGSYS sent with kill and for another filter's SECCOMP_RET_TRAP (whose
 * handler sets the call's result in the ucontext); a thread made by
 * pthread_create has no alternate stack; posix_spawn (a vfork child that
 * shares the alternate stack, and whose trapped calls use it) from a
 * thread that has one, as every Rust program's main thread. */
#include "common.h"
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <spawn.h>
#include <stddef.h>
#include <sys/mman.h>

#define ALT_SIZE (128 * 1024)
#define SMALL 4096 /* natively enough; not for a signal frame (3+ KiB) */

static char *alt;

static int on_alt(const void *p)
{
	uintptr_t a = (uintptr_t)p, lo = (uintptr_t)alt;
	return a > lo && a - lo <= ALT_SIZE;
}

static void set_altstack(int on)
{
	stack_t ss = {.ss_sp = alt, .ss_size = ALT_SIZE,
		      .ss_flags = on ? 0 : SS_DISABLE};
	if (sigaltstack(&ss, NULL))
		die("sigaltstack");
}

/* A raw call (5th and 6th arguments 0), argument registers counted as
 * clobbered. */
static long raw(long nr, long a, long b, long c, long d)
{
	long r;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = 0;
	register long r9 __asm__("r9") = 0;
	__asm__ volatile("syscall"
			 : "=a"(r), "+D"(a), "+S"(b), "+d"(c), "+r"(r10),
			   "+r"(r8), "+r"(r9)
			 : "a"(nr)
			 : "rcx", "r11", "memory");
	return r;
}

/* ---- trapped calls on a small stack -------------------------------------- */

static long small_pid, small_child_fd;
static long small_res[6];
static siginfo_t small_si;
static uint64_t small_set, small_old;
static struct sysfill_clone_args small_ca = {.exit_signal = SIGCHLD};

static void small_calls(void)
{
	long fd = raw(NR_pidfd_open, small_pid, 0, 0, 0);
	small_res[0] = fd;
	small_res[1] = raw(NR_pidfd_send_signal, fd, 0, 0, 0);
	small_res[2] = raw(NR_waitid, P_PIDFD, small_child_fd, (long)&small_si,
			   WEXITED);
	small_res[3] = raw(SYS_rt_sigprocmask, SIG_BLOCK, (long)&small_set,
			   (long)&small_old, 8);
	long c = raw(SYS_clone3, (long)&small_ca, sizeof small_ca, 0, 0);
	if (c == 0)
		raw(SYS_exit_group, 0, 0, 0, 0);
	small_res[4] = c;
	small_res[5] = raw(SYS_close, fd, 0, 0, 0);
}

/* FN on the stack whose top is TOP (16-aligned). */
static void call_on(void (*fn)(void), void *top)
{
	__asm__ volatile("mov %%rsp, %%rbx\n\t"
			 "mov %1, %%rsp\n\t"
			 "call *%0\n\t"
			 "mov %%rbx, %%rsp"
			 :
			 : "r"(fn), "r"(top)
			 : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9",
			   "r10", "r11", "memory", "cc");
}

static void small_stack(void)
{
	fflush(stdout);
	pid_t p = track(fork());
	if (p < 0)
		die("fork");
	if (p == 0) {
		set_altstack(1);
		char *m = mmap(0, 2 * 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED || mprotect(m, 4096, PROT_NONE))
			die("mmap");
		small_pid = getpid();
		pid_t kid = spawn_exit(3);
		small_child_fd = sys_pidfd_open(kid, 0);
		if (small_child_fd < 0)
			die("pidfd_open");
		call_on(small_calls, m + 4096 + SMALL);
		out("small-stack: pidfd_open %s", small_res[0] >= 0 ? "fd" : errname((int)-small_res[0]));
		out("small-stack: pidfd_send_signal = %ld", small_res[1]);
		out("small-stack: waitid(P_PIDFD) = %ld status=%d", small_res[2],
		    small_si.si_status);
		out("small-stack: rt_sigprocmask = %ld", small_res[3]);
		out("small-stack: clone3 %s", small_res[4] > 0 ? "child" : errname((int)-small_res[4]));
		if (small_res[4] > 0) {
			int st;
			waitpid((pid_t)small_res[4], &st, 0);
			out("small-stack: clone3 child %s", status_text(st));
		}
		out("small-stack: close = %ld", small_res[5]);
		exit(0);
	}
	int st;
	if (waitpid(p, &st, 0) != p)
		die("waitpid");
	out("small-stack: %s", status_text(st));
}

/* ---- where the program's SIGSYS handler runs ---------------------------- */

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

static void on_sigsys(int sig, siginfo_t *si, void *uc)
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
		raw(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2, 0);
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
	struct sigaction sa = {.sa_sigaction = on_sigsys,
			       .sa_flags = SA_SIGINFO | flags};
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL))
		die("sigaction");
}

static void on_usr1(int sig)
{
	(void)sig;
	kill(getpid(), SIGSYS); /* from the alternate stack */
}

static void placement(void)
{
	struct sigaction sa = {.sa_handler = on_usr2, .sa_flags = SA_ONSTACK};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	sa.sa_handler = on_usr1;
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
		long r = raw(SYS_getppid, MARK, 0, 0, 0);
		out("%s: getppid = %ld", step, r);
		print_seen(step);
		exit(0);
	}
	int st;
	if (waitpid(p, &st, 0) != p)
		die("waitpid");
	out("%s: %s", step, status_text(st));
}

/* ---- a new thread's alternate stack -------------------------------------- */

static void *thread_altstack(void *arg)
{
	stack_t ss;
	(void)arg;
	sigaltstack(NULL, &ss);
	return (void *)(long)(ss.ss_flags & (SS_DISABLE | SS_ONSTACK));
}

static void new_thread(void)
{
	set_altstack(1);
	pthread_t t;
	void *r;
	if (pthread_create(&t, NULL, thread_altstack, NULL) ||
	    pthread_join(t, &r))
		die("pthread_create");
	out("pthread_create: thread's altstack SS_DISABLE=%d SS_ONSTACK=%d",
	    !!((long)r & SS_DISABLE), !!((long)r & SS_ONSTACK));
	stack_t ss;
	sigaltstack(NULL, &ss);
	out("pthread_create: creator's altstack kept=%d", ss.ss_sp == alt);
	set_altstack(0);
}

static void spawn_with_altstack(void)
{
	extern char **environ;
	set_altstack(1);
	for (int i = 0; i < 3; i++) {
		char *argv[] = {"/bin/sh", "-c", "exit 4", NULL};
		pid_t p;
		int e = posix_spawn(&p, "/bin/sh", NULL, NULL, argv, environ);
		if (e) {
			out("posix_spawn: %s", errname(e));
			continue;
		}
		track(p);
		int st;
		if (waitpid(p, &st, 0) != p)
			die("waitpid");
		out("posix_spawn with an altstack: %s", status_text(st));
	}
	stack_t ss;
	sigaltstack(NULL, &ss);
	out("posix_spawn: altstack kept=%d", ss.ss_sp == alt);
	set_altstack(0);
}

int main(void)
{
	scenario_init();
	probe_pidfd_open();
	alt = mmap(0, ALT_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (alt == MAP_FAILED)
		die("mmap");
	small_stack();
	placement();
	foreign_trap("foreign-trap-no-onstack", 0, 0);
	foreign_trap("foreign-trap-no-onstack-nested-usr2", 0, 1);
	foreign_trap("foreign-trap-onstack", SA_ONSTACK, 0);
	new_thread();
	spawn_with_altstack();
	return 0;
}
