/* Trapped calls and an alternate signal stack (sigaltstack): calls made
 * near the bottom of a small stack (a PROT_NONE guard below it) by a
 * thread that has an alternate stack, as Go's goroutines make them; a
 * thread made by pthread_create has no alternate stack; posix_spawn (a
 * vfork child that shares the alternate stack, and whose trapped calls use
 * it) from a thread that has one, as every Rust program's main thread.
 * Where the program's own SIGSYS handler runs: sigsys-foreign.c. */
#include "common.h"
#include <pthread.h>
#include <spawn.h>
#include <sys/mman.h>

#define SMALL 4096 /* natively enough; not for a signal frame (3+ KiB) */

/* ---- trapped calls on a small stack -------------------------------------- */

static long small_pid, small_child_fd;
static long small_res[6];
static siginfo_t small_si;
static uint64_t small_set, small_old;
static struct sysfill_clone_args small_ca = {.exit_signal = SIGCHLD};

static void small_calls(void)
{
	long fd = raw5(NR_pidfd_open, small_pid, 0, 0, 0);
	small_res[0] = fd;
	small_res[1] = raw5(NR_pidfd_send_signal, fd, 0, 0, 0);
	small_res[2] = raw5(NR_waitid, P_PIDFD, small_child_fd, (long)&small_si,
			   WEXITED);
	small_res[3] = raw5(SYS_rt_sigprocmask, SIG_BLOCK, (long)&small_set,
			   (long)&small_old, 8);
	long c = raw5(SYS_clone3, (long)&small_ca, sizeof small_ca, 0, 0);
	if (c == 0)
		raw5(SYS_exit_group, 0, 0, 0, 0);
	small_res[4] = c;
	small_res[5] = raw5(SYS_close, fd, 0, 0, 0);
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
	altstack_init();
	small_stack();
	new_thread();
	spawn_with_altstack();
	return 0;
}
