/* clone3's set_tid across pid namespaces (fork shape): with CLONE_NEWPID
 * set_tid[0] is the pid in the new namespace (only 1 is possible there)
 * and set_tid[1] the pid in ours; set_tid never moves our namespace's
 * ns_last_pid back (other processes allocate from it). Needs root and a
 * writable ns_last_pid (gVisor has none: skipped there). */
#include <sched.h>
#include <stdint.h>
#include "common.h"

#define NR_clone3 435

/* Raw clone3 whose child exits at once with FN()'s value, or, with FN
 * null, with 42 if its thread pointer is WANT_FS (raw calls only). */
static long raw_clone3(struct sysfill_clone_args *a, size_t size, int (*fn)(void))
{
	long ret;
	register long r13 __asm__("r13") = (long)fn;
	register long r14 __asm__("r14") = (long)a->tls;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "test %%r13, %%r13\n\t"
			 "jz 2f\n\t"
			 "and $-16, %%rsp\n\t"
			 "call *%%r13\n\t"
			 "mov %%eax, %%edi\n\t"
			 "jmp 3f\n"
			 "2:\n\t"
			 "mov %%fs:0, %%rdi\n\t" /* the TCB's self pointer */
			 "cmp %%r14, %%rdi\n\t"
			 "mov $42, %%edi\n\t"
			 "je 3f\n\t"
			 "mov $43, %%edi\n"
			 "3:\n\t"
			 "mov $231, %%eax\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:"
			 : "=a"(ret)
			 : "a"(NR_clone3), "D"(a), "S"(size), "r"(r13), "r"(r14)
			 : "rcx", "r11", "memory");
	return ret;
}

static void report(const char *step, long r)
{
	if (r < 0) {
		out("%s: -1 %s", step, errname((int)-r));
		return;
	}
	int st;
	if (waitpid((pid_t)r, &st, __WALL) != r)
		out("%s: child not found", step);
	else if (WIFEXITED(st))
		out("%s: child exited %d", step, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		out("%s: child killed by %s", step, signame(WTERMSIG(st)));
	else
		out("%s: child status 0x%x", step, st);
}

static pid_t asked;
static int child_is_1(void)
{
	return getpid() == 1 ? 0 : 1;
}
static int exit0(void)
{
	return 0;
}

static long last_pid(void)
{
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "re");
	long last = 0;
	if (f) {
		if (fscanf(f, "%ld", &last) != 1)
			last = 0;
		fclose(f);
	}
	return last;
}

static void newpid(void)
{
	int tids[3];
	struct sysfill_clone_args a = {.flags = CLONE_NEWPID,
				       .exit_signal = SIGCHLD,
				       .set_tid = (uintptr_t)tids,
				       .set_tid_size = 1};
	fflush(stdout);
	tids[0] = 1;
	report("newpid-tid-1", raw_clone3(&a, sizeof a, child_is_1));
	tids[0] = 5;
	report("newpid-tid-5", raw_clone3(&a, sizeof a, exit0));
	tids[0] = 0;
	report("newpid-tid-0", raw_clone3(&a, sizeof a, exit0));
	a.set_tid_size = 2;
	tids[0] = 1;
	tids[1] = asked = free_pid(300);
	long r = raw_clone3(&a, sizeof a, child_is_1);
	out("newpid-tid-1-free: pid %s", r == asked ? "as asked" : r < 0 ? "none" : "other");
	report("newpid-tid-1-free", r);
	tids[0] = 5;
	tids[1] = free_pid(300);
	report("newpid-tid-5-free", raw_clone3(&a, sizeof a, exit0));
	tids[0] = 1;
	tids[1] = getpid();
	report("newpid-tid-1-in-use", raw_clone3(&a, sizeof a, exit0));
	a.set_tid_size = 3;
	tids[0] = 1;
	tids[1] = free_pid(300);
	tids[2] = tids[1];
	report("newpid-three-levels", raw_clone3(&a, sizeof a, exit0));
}

/* After unshare(CLONE_NEWPID) children go into a new namespace that has
 * no pid 1 yet: set_tid[0] is a pid there, so only 1 works; set_tid[1] is
 * one of ours. In a fork child, so that the scenario's own children stay
 * in its namespace. */
static void unshared(void)
{
	fflush(stdout);
	pid_t k = track(fork());
	if (k == 0) {
		if (unshare(CLONE_NEWPID) < 0) {
			out("unshared: unshare: %s", errname(errno));
			_exit(0);
		}
		int tids[2];
		struct sysfill_clone_args a = {.exit_signal = SIGCHLD,
					       .set_tid = (uintptr_t)tids,
					       .set_tid_size = 1};
		tids[0] = free_pid(300);
		report("unshared-tid-free", raw_clone3(&a, sizeof a, exit0));
		tids[0] = getpid();
		report("unshared-tid-in-use", raw_clone3(&a, sizeof a, exit0));
		a.set_tid_size = 2;
		tids[0] = 5;
		tids[1] = free_pid(300);
		report("unshared-tid-5-free", raw_clone3(&a, sizeof a, exit0));
		/* the first child becomes pid 1 there (and when it exits, the
		 * namespace is done: nothing after it) */
		tids[0] = 1;
		tids[1] = asked = free_pid(300);
		long r = raw_clone3(&a, sizeof a, child_is_1);
		out("unshared-tid-1-free: pid %s",
		    r == asked ? "as asked" : r < 0 ? "none" : "other");
		report("unshared-tid-1-free", r);
		fflush(stdout);
		_exit(0);
	}
	reap(k);
}

/* set_tid far below the counter: the counter must not come back to it. */
static void counter(void)
{
	int tids[1];
	struct sysfill_clone_args a = {.exit_signal = SIGCHLD,
				       .set_tid = (uintptr_t)tids,
				       .set_tid_size = 1};
	long before = last_pid();
	pid_t low = 0;
	for (pid_t p = (pid_t)before - 100; p > 300; p--)
		if (kill(p, 0) < 0 && errno == ESRCH) {
			low = p;
			break;
		}
	if (!low) {
		out("counter: no free low pid");
		return;
	}
	tids[0] = low;
	fflush(stdout);
	long r = raw_clone3(&a, sizeof a, exit0);
	out("counter: pid %s", r == low ? "as asked" : r < 0 ? "none" : "other");
	report("counter", r);
	long after = last_pid();
	out("counter: ns_last_pid %s", after >= before ? "not moved back" : "moved back");
	/* an ordinary fork afterwards gets a pid past the old counter */
	fflush(stdout);
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	out("counter: next fork %s", c > before ? "past the counter" : "below the counter");
	waitpid(c, NULL, 0);
}

/* The caller itself in a new pid namespace (its init): set_tid names pids
 * of that namespace, the pidfd is the child's; a pid in use is EEXIST. */
static void nested_caller(void)
{
	fflush(stdout);
	if (unshare(CLONE_NEWPID) < 0) {
		out("nested: unshare = -1 %s", errname(errno));
		return;
	}
	pid_t init = fork();
	if (init == 0) {
		out("nested: caller pid %d", (int)getpid());
		for (int want = 5; want <= 6; want++) {
			int tid = want, pidfd = -1;
			struct sysfill_clone_args a = {.flags = CLONE_PIDFD,
						       .pidfd = (uintptr_t)&pidfd,
						       .exit_signal = SIGCHLD,
						       .set_tid = (uintptr_t)&tid,
						       .set_tid_size = 1};
			fflush(stdout);
			long r = raw_clone3(&a, sizeof a, exit0);
			if (r < 0) {
				out("nested-tid-%d: -1 %s", want, errname((int)-r));
				continue;
			}
			siginfo_t si;
			memset(&si, 0, sizeof si);
			long w = sys_waitid(P_PIDFD, pidfd, &si, WEXITED);
			out("nested-tid-%d: pid %ld, waitid(P_PIDFD) = %ld %s %d",
			    want, r, w, codename(SIGCHLD, si.si_code), si.si_status);
			close(pidfd);
		}
		int tid = 1;
		struct sysfill_clone_args a = {.exit_signal = SIGCHLD,
					       .set_tid = (uintptr_t)&tid,
					       .set_tid_size = 1};
		fflush(stdout);
		report("nested-tid-1-in-use", raw_clone3(&a, sizeof a, exit0));
		fflush(stdout);
		_exit(0);
	}
	report("nested", init);
}

int main(void)
{
	scenario_init();
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		out("skip: no writable /proc/sys/kernel/ns_last_pid (gVisor lacks it)");
		return 0;
	}
	close(fd);
	newpid();
	unshared();
	counter();
	nested_caller(); /* last: our children are then in the new namespace */
	return 0;
}
