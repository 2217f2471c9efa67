/* clone3 and clone(CLONE_PIDFD) in the shapes programs use: fork-like (no
 * stack), vfork-like (CLONE_VM|CLONE_VFORK with a stack, as posix_spawn;
 * and on the caller's own stack, as Go), threads (CLONE_VM|CLONE_THREAD…
 * with a stack, as pthread_create); children exiting with each status;
 * how the child starts (return value, stack, signal mask, floating-point
 * control state, signal handlers); and every validation error.
 *
 * The calls are made with inline syscall instructions, never through libc,
 * so that only a seccomp filter can catch them. */
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>
#include <linux/futex.h>
#include "common.h"

#define NR_clone3 435
#define NR_clone 56

static long clone3_run(struct sysfill_clone_args *a, size_t size,
		       int (*fn)(void *), void *arg)
{
	return raw_clone(NR_clone3, (long)a, (long)size, 0, 0, 0, fn, arg);
}

static void err_or(const char *step, long r, const char *ok)
{
	if (r < 0)
		out("%s: -1 %s", step, errname((int)-r));
	else
		out("%s: %s", step, ok);
}

/* ---- what a child reports about how it started ------------------------ */

static uintptr_t stack_lo, stack_hi;
static volatile int child_saw;

struct start_report {
	int sp_in_stack;   /* a local of the child is on the new stack */
	int usr1_blocked;  /* the parent's mask */
	int sys_blocked;
	unsigned mxcsr_rc; /* rounding control of MXCSR */
	unsigned x87_rc;   /* rounding control of the x87 control word */
	int usr1_handler;  /* 0 default, 1 ignored, 2 handled */
	int usr2_handler;
	int altstack;      /* SS_DISABLE or not */
};

static int handler_kind(int sig)
{
	struct sigaction sa;
	syscall(SYS_rt_sigaction, sig, NULL, &sa, 8); /* the kernel's view */
	return sa.sa_handler == SIG_DFL ? 0 : sa.sa_handler == SIG_IGN ? 1 : 2;
}

static void fill_report(struct start_report *r)
{
	volatile int local = 0;
	uintptr_t at = (uintptr_t)&local;
	r->sp_in_stack = stack_hi ? at >= stack_lo && at < stack_hi : -1;
	sigset_t m;
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, 8);
	r->usr1_blocked = sigismember(&m, SIGUSR1);
	r->sys_blocked = sigismember(&m, SIGSYS);
	unsigned mx;
	unsigned short cw;
	__asm__ volatile("stmxcsr %0" : "=m"(mx));
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	r->mxcsr_rc = (mx >> 13) & 3;
	r->x87_rc = (cw >> 10) & 3;
	r->usr1_handler = handler_kind(SIGUSR1);
	r->usr2_handler = handler_kind(SIGUSR2);
	stack_t ss;
	sigaltstack(NULL, &ss);
	r->altstack = !(ss.ss_flags & SS_DISABLE);
}

static void print_report(const char *step, const struct start_report *r)
{
	out("%s: sp-on-new-stack=%d usr1-blocked=%d sigsys-blocked=%d "
	    "mxcsr-rc=%u x87-rc=%u usr1=%s usr2=%s altstack=%d",
	    step, r->sp_in_stack, r->usr1_blocked, r->sys_blocked, r->mxcsr_rc,
	    r->x87_rc, (const char *[]){"default", "ignored", "handled"}[r->usr1_handler],
	    (const char *[]){"default", "ignored", "handled"}[r->usr2_handler],
	    r->altstack);
}

static struct start_report *shared_report;

static int child_report(void *arg)
{
	fill_report(shared_report);
	return (int)(long)arg;
}

static void on_usr1(int s) { (void)s; }

/* Parent state a child must inherit: SIGUSR1 handled and blocked, SIGSYS
 * blocked (by the program), SIGUSR2 ignored, round-toward-zero in MXCSR and
 * the x87 control word, an alternate signal stack. */
static sigset_t saved_mask;
static void set_parent_state(void)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGUSR2, SIG_IGN);
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, SIGSYS);
	sigprocmask(SIG_BLOCK, &m, &saved_mask);
	static char alt[65536];
	stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
	sigaltstack(&ss, NULL);
}

static void restore_parent_state(void)
{
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	stack_t ss = {.ss_flags = SS_DISABLE};
	sigaltstack(&ss, NULL);
}

static void set_rounding(unsigned rc)
{
	unsigned mx;
	unsigned short cw;
	__asm__ volatile("stmxcsr %0" : "=m"(mx));
	mx = (mx & ~(3u << 13)) | rc << 13;
	__asm__ volatile("ldmxcsr %0" : : "m"(mx));
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	cw = (unsigned short)((cw & ~(3u << 10)) | rc << 10);
	__asm__ volatile("fldcw %0" : : "m"(cw));
}

/* ---- shapes ------------------------------------------------------------ */

static void wait_report(const char *step, pid_t pid, int pidfd)
{
	if (pidfd >= 0) {
		int cloexec = fcntl(pidfd, F_GETFD) & FD_CLOEXEC;
		out("%s: pidfd cloexec=%d", step, !!cloexec);
		poll_report(step, pidfd, POLLIN, 10000);
		siginfo_t si;
		memset(&si, 0, sizeof si);
		long r = sys_waitid(P_PIDFD, pidfd, &si, WEXITED);
		if (r < 0)
			out("%s: waitid(P_PIDFD) = -1 %s", step, errname(errno));
		else
			out("%s: waitid(P_PIDFD) = 0 pid-matches=%d %s %d", step,
			    si.si_pid == pid, codename(SIGCHLD, si.si_code),
			    si.si_status);
		close(pidfd);
		return;
	}
	int st;
	if (waitpid(pid, &st, __WALL) != pid)
		out("%s: waitpid = -1 %s", step, errname(errno));
	else
		out("%s: %s", step, status_text(st));
}

static int exit_with(void *arg)
{
	return (int)(long)arg;
}

static int die_by(void *arg)
{
	kill(getpid(), (int)(long)arg);
	return 99;
}

/* The child's fd table, for the parent to look up its pidfd in. */
static unsigned char *child_fds;
static int child_list_fds(void *arg)
{
	(void)arg;
	for (int fd = 0; fd < 1024; fd++)
		child_fds[fd] = fcntl(fd, F_GETFD) >= 0;
	return 0;
}

static void fork_shapes(void)
{
	static const struct { const char *name; int (*fn)(void *); long arg; } ex[] = {
		{"exit-0", exit_with, 0},
		{"exit-1", exit_with, 1},
		{"exit-255", exit_with, 255},
		{"killed-sigterm", die_by, SIGTERM},
		{"killed-sigkill", die_by, SIGKILL},
	};
	for (size_t i = 0; i < sizeof ex / sizeof *ex; i++) {
		int pidfd = -1;
		struct sysfill_clone_args a = {.flags = CLONE_PIDFD,
					       .pidfd = (uintptr_t)&pidfd,
					       .exit_signal = SIGCHLD};
		char step[64];
		snprintf(step, sizeof step, "fork-%s", ex[i].name);
		fflush(stdout);
		long pid = clone3_run(&a, sizeof a, ex[i].fn, (void *)ex[i].arg);
		err_or(step, pid, "child");
		if (pid > 0)
			wait_report(step, (pid_t)track((pid_t)pid), pidfd);
	}

	/* The same without CLONE_PIDFD: plain status. */
	struct sysfill_clone_args a = {.exit_signal = SIGCHLD};
	fflush(stdout);
	long pid = clone3_run(&a, sizeof a, exit_with, (void *)7);
	err_or("fork-plain", pid, "child");
	if (pid > 0)
		wait_report("fork-plain", (pid_t)pid, -1);

	/* No exit signal at all: only __WALL finds it. */
	struct sysfill_clone_args n = {.exit_signal = 0};
	fflush(stdout);
	pid = clone3_run(&n, sizeof n, exit_with, (void *)3);
	err_or("fork-no-exit-signal", pid, "child");
	if (pid > 0)
		wait_report("fork-no-exit-signal", (pid_t)pid, -1);

	/* CLONE_PARENT_SETTID / CLONE_CHILD_SETTID. */
	int ptid = 0;
	static int ctid;
	struct sysfill_clone_args t = {.flags = CLONE_PARENT_SETTID | CLONE_CHILD_SETTID,
				       .parent_tid = (uintptr_t)&ptid,
				       .child_tid = (uintptr_t)&ctid,
				       .exit_signal = SIGCHLD};
	fflush(stdout);
	pid = clone3_run(&t, sizeof t, exit_with, 0);
	err_or("fork-settid", pid, "child");
	if (pid > 0) {
		out("fork-settid: parent_tid-is-pid=%d", ptid == pid);
		wait_report("fork-settid", (pid_t)pid, -1);
	}

	/* The pidfd is not in the child's fd table. */
	child_fds = mmap(NULL, 1024, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int pidfd = -1;
	struct sysfill_clone_args f = {.flags = CLONE_PIDFD, .pidfd = (uintptr_t)&pidfd,
				       .exit_signal = SIGCHLD};
	fflush(stdout);
	pid = clone3_run(&f, sizeof f, child_list_fds, 0);
	err_or("fork-pidfd-not-in-child", pid, "child");
	if (pid > 0) {
		waitid(P_PID, (id_t)pid, &(siginfo_t){0}, WEXITED | WNOWAIT);
		out("fork-pidfd-not-in-child: in-child=%d",
		    pidfd >= 0 && pidfd < 1024 ? child_fds[pidfd] : -1);
		wait_report("fork-pidfd-not-in-child", (pid_t)pid, pidfd);
	}
}

static void start_state(void)
{
	shared_report = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	static const struct { const char *name; uint64_t flags; int stack; } sh[] = {
		{"start-fork", 0, 0},
		{"start-fork-stack", 0, 1},
		{"start-fork-clear-sighand", CLONE_CLEAR_SIGHAND, 0},
		{"start-vfork-stack", CLONE_VM | CLONE_VFORK, 1},
		{"start-vfork-stack-clear-sighand", CLONE_VM | CLONE_VFORK | CLONE_CLEAR_SIGHAND, 1},
		{"start-vm-stack", CLONE_VM, 1},
	};
	static char stk[256 * 1024] __attribute__((aligned(64)));
	for (size_t i = 0; i < sizeof sh / sizeof *sh; i++) {
		memset(shared_report, 0, sizeof *shared_report);
		set_parent_state();
		set_rounding(3);
		struct sysfill_clone_args a = {.flags = sh[i].flags, .exit_signal = SIGCHLD};
		if (sh[i].stack) {
			a.stack = (uintptr_t)stk;
			a.stack_size = sizeof stk;
			stack_lo = (uintptr_t)stk;
			stack_hi = stack_lo + sizeof stk;
		} else {
			stack_lo = stack_hi = 0;
		}
		fflush(stdout);
		long pid = clone3_run(&a, sizeof a, child_report, (void *)5);
		/* Wait first: a CLONE_VM child without CLONE_SETTLS shares the
		 * parent's thread-local state, sysfill's virtual SIGSYS bit
		 * included (README). */
		int st = 0;
		if (pid > 0)
			waitpid((pid_t)pid, &st, __WALL);
		set_rounding(0);
		restore_parent_state();
		err_or(sh[i].name, pid, "child");
		if (pid > 0) {
			out("%s: %s", sh[i].name, status_text(st));
			print_report(sh[i].name, shared_report);
		}
	}
}

/* vfork children that exec, as posix_spawn does. */
static char *exec_path = "/bin/sh";
static int exec_child(void *arg)
{
	char *argv[] = {"sh", "-c", arg, NULL};
	execve(exec_path, argv, (char *[]){NULL});
	return 127;
}

static void vfork_exec(void)
{
	static char stk[64 * 1024] __attribute__((aligned(16)));
	int pidfd = -1;
	struct sysfill_clone_args a = {.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD,
				       .pidfd = (uintptr_t)&pidfd,
				       .stack = (uintptr_t)stk, .stack_size = sizeof stk,
				       .exit_signal = SIGCHLD};
	fflush(stdout);
	long pid = clone3_run(&a, sizeof a, exec_child, "exit 5");
	err_or("vfork-exec", pid, "child");
	if (pid > 0)
		wait_report("vfork-exec", (pid_t)pid, pidfd);

	struct sysfill_clone_args b = {.flags = CLONE_VM | CLONE_VFORK,
				       .stack = (uintptr_t)stk, .stack_size = sizeof stk,
				       .exit_signal = SIGCHLD};
	fflush(stdout);
	pid = clone3_run(&b, sizeof b, exec_child, "kill -TERM $$");
	err_or("vfork-exec-killed", pid, "child");
	if (pid > 0)
		wait_report("vfork-exec-killed", (pid_t)pid, -1);
}

/* Threads that do real work and exit; joined through CLONE_CHILD_CLEARTID. */
#define NTHREADS 64
static long results[NTHREADS];
static int tids[NTHREADS];
static int thread_work(void *arg)
{
	long i = (long)arg, sum = 0;
	for (long k = 1; k <= 1000 * (i + 1); k++)
		sum += k;
	results[i] = sum;
	return 0;
}

static void threads(void)
{
	static char stacks[NTHREADS][16384] __attribute__((aligned(16)));
	const uint64_t flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			       CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID |
			       CLONE_CHILD_CLEARTID;
	int made = 0, errs = 0, ptid_ok = 0;
	for (long i = 0; i < NTHREADS; i++) {
		int ptid = 0;
		struct sysfill_clone_args a = {.flags = flags,
					       .parent_tid = (uintptr_t)&ptid,
					       .child_tid = (uintptr_t)&tids[i],
					       .stack = (uintptr_t)stacks[i],
					       .stack_size = sizeof stacks[i]};
		tids[i] = -1;
		long t = clone3_run(&a, sizeof a, thread_work, (void *)i);
		if (t < 0) {
			tids[i] = 0;
			if (!errs++)
				out("threads: first error %s", errname((int)-t));
			continue;
		}
		made++;
		ptid_ok += ptid == t;
	}
	int ok = 0;
	for (int i = 0; i < NTHREADS; i++) {
		while (__atomic_load_n(&tids[i], __ATOMIC_ACQUIRE) != 0)
			syscall(SYS_futex, &tids[i], FUTEX_WAIT, tids[i], NULL);
		long want = 0;
		for (long k = 1; k <= 1000 * (i + 1); k++)
			want += k;
		ok += results[i] == want;
	}
	out("threads: made=%d joined-with-right-results=%d parent_tid-is-tid=%d",
	    made, ok, ptid_ok);
}

/* Legacy clone with CLONE_PIDFD: the pidfd lands in parent_tid. */
static void legacy(void)
{
	int pidfd = -1;
	fflush(stdout);
	long pid = raw_clone(NR_clone, CLONE_PIDFD | SIGCHLD, 0, (long)&pidfd, 0, 0,
			     exit_with, (void *)9);
	err_or("clone-pidfd-fork", pid, "child");
	if (pid > 0)
		wait_report("clone-pidfd-fork", (pid_t)pid, pidfd);

	/* vfork on the caller's own stack (Go's os/exec). */
	pidfd = -1;
	fflush(stdout);
	pid = raw_clone(NR_clone, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, 0,
			(long)&pidfd, 0, 0, exec_child, "exit 6");
	err_or("clone-pidfd-vfork-same-stack", pid, "child");
	if (pid > 0)
		wait_report("clone-pidfd-vfork-same-stack", (pid_t)pid, pidfd);

	/* clone3's own vfork on the caller's stack. */
	pidfd = -1;
	struct sysfill_clone_args a = {.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD,
				       .pidfd = (uintptr_t)&pidfd, .exit_signal = SIGCHLD};
	fflush(stdout);
	pid = clone3_run(&a, sizeof a, exec_child, "exit 4");
	err_or("clone3-vfork-same-stack", pid, "child");
	if (pid > 0)
		wait_report("clone3-vfork-same-stack", (pid_t)pid, pidfd);

	pidfd = -1;
	int ptid;
	pid = raw_clone(NR_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0,
			(long)&ptid, 0, 0, exit_with, 0);
	err_or("clone-pidfd-with-parent-settid", pid, "child");
	if (pid > 0)
		waitpid((pid_t)pid, NULL, __WALL);
	pid = raw_clone(NR_clone, CLONE_PIDFD | CLONE_DETACHED | SIGCHLD, 0,
			(long)&pidfd, 0, 0, exit_with, 0);
	err_or("clone-pidfd-with-detached", pid, "child");
	if (pid > 0)
		waitpid((pid_t)pid, NULL, __WALL);
	pid = raw_clone(NR_clone, CLONE_PIDFD | SIGCHLD, 0, 16, 0, 0, exit_with, 0);
	err_or("clone-pidfd-bad-pointer", pid, "child");
	if (pid > 0)
		waitpid((pid_t)pid, NULL, __WALL);
}

/* ---- validation -------------------------------------------------------- */

static void validation(void)
{
	static char stk[8192];
	static unsigned char big[8192];
	struct sysfill_clone_args ok = {.exit_signal = SIGCHLD};
	struct { const char *name; struct sysfill_clone_args a; size_t size; } v[] = {
		{"size-0", ok, 0},
		{"size-below-ver0", ok, 63},
		{"csignal-in-flags", {.flags = SIGCHLD}, 88},
		{"detached", {.flags = CLONE_DETACHED, .exit_signal = SIGCHLD}, 88},
		{"exit-signal-65", {.exit_signal = 65}, 88},
		{"exit-signal-huge", {.exit_signal = 1ULL << 40}, 88},
		{"stack-size-without-stack", {.stack_size = 4096, .exit_signal = SIGCHLD}, 88},
		{"stack-without-size", {.stack = (uintptr_t)stk, .exit_signal = SIGCHLD}, 88},
		{"thread-without-sighand", {.flags = CLONE_THREAD | CLONE_VM, .stack = (uintptr_t)stk, .stack_size = sizeof stk}, 88},
		{"sighand-without-vm", {.flags = CLONE_SIGHAND, .exit_signal = SIGCHLD}, 88},
		{"clear-sighand-with-sighand", {.flags = CLONE_CLEAR_SIGHAND | CLONE_SIGHAND | CLONE_VM, .stack = (uintptr_t)stk, .stack_size = sizeof stk}, 88},
		{"newns-with-fs", {.flags = CLONE_NEWNS | CLONE_FS, .exit_signal = SIGCHLD}, 88},
		{"unknown-flag-bit-40", {.flags = 1ULL << 40, .exit_signal = SIGCHLD}, 88},
		{"pidfd-bad-pointer", {.flags = CLONE_PIDFD, .pidfd = 16, .exit_signal = SIGCHLD}, 88},
	};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		char step[64];
		snprintf(step, sizeof step, "invalid-%s", v[i].name);
		long r = clone3_run(&v[i].a, v[i].size, exit_with, 0);
		if (r > 0) {
			waitpid((pid_t)r, NULL, __WALL);
			out("%s: created a child", step);
		} else {
			err_or(step, r, "0");
		}
	}
	/* Bad pointers and sizes around the struct. */
	err_or("invalid-args-null", clone3_run(NULL, 88, exit_with, 0), "child");
	err_or("invalid-args-unmapped", clone3_run((void *)16, 88, exit_with, 0), "child");
	struct sysfill_clone_args *a = (void *)big;
	memset(big, 0, sizeof big);
	a->exit_signal = SIGCHLD;
	long r = clone3_run(a, 4097, exit_with, 0);
	err_or("invalid-size-above-page", r, "child");
	big[100] = 1;
	r = clone3_run(a, 128, exit_with, 0);
	err_or("invalid-trailing-nonzero", r, "child");
	big[100] = 0;
	fflush(stdout);
	r = clone3_run(a, 128, exit_with, (void *)2);
	err_or("trailing-zero-accepted", r, "child");
	if (r > 0)
		wait_report("trailing-zero-accepted", (pid_t)r, -1);
}

int main(void)
{
	scenario_init();
	/* Where gVisor runs without the library, the first line says so. */
	long p = sys_pidfd_open(getpid(), 0);
	res("probe", "pidfd_open", p, 1);
	if (p >= 0)
		close((int)p);
	fork_shapes();
	start_state();
	vfork_exec();
	threads();
	legacy();
	validation();
	return 0;
}
