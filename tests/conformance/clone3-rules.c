/* clone3 rules of the fork shape: CLONE_SETTLS gives the child the new
 * thread pointer from its first instruction (nothing of sysfill runs on
 * it), and CLONE_PIDFD without a free fd number fails with EMFILE and no
 * child left. */
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
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

static int exit0(void)
{
	return 0;
}

static void settls(void)
{
	/* A TCB at the start of a mapping whose page before is unmapped:
	 * any TLS variable (negative offsets) of the old thread pointer's
	 * layout faults there. */
	char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		die("mmap");
	munmap(m, 4096);
	uintptr_t *tcb = (uintptr_t *)(m + 4096);
	tcb[0] = (uintptr_t)tcb; /* self pointer, as glibc's TCB has */
	struct sysfill_clone_args a = {.flags = CLONE_SETTLS,
				       .exit_signal = SIGCHLD,
				       .tls = (uintptr_t)tcb};
	fflush(stdout);
	report("settls", raw_clone3(&a, sizeof a, NULL));
}

static void pidfd_emfile(void)
{
	struct rlimit old, rl;
	getrlimit(RLIMIT_NOFILE, &old);
	int top = -1;
	int pfd = -1;
	struct sysfill_clone_args a = {.flags = CLONE_PIDFD,
				       .exit_signal = SIGCHLD,
				       .pidfd = (uintptr_t)&pfd};
	/* every number below the limit taken */
	int fds[64], n = 0;
	int lim = 0;
	for (int fd; (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0 && n < 64;)
		fds[n++] = fd;
	for (int i = 0; i < n; i++)
		if (fds[i] > top)
			top = fds[i];
	lim = top + 1;
	rl.rlim_cur = lim;
	rl.rlim_max = old.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	fflush(stdout);
	long r = raw_clone3(&a, sizeof a, exit0);
	setrlimit(RLIMIT_NOFILE, &old);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	report("pidfd-emfile", r);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	long w = waitid(P_ALL, 0, &si, WEXITED | WNOHANG | __WALL);
	out("pidfd-emfile: children left %s", w == 0 && si.si_pid ? "yes" : "no");
}

int main(void)
{
	scenario_init();
	settls();
	pidfd_emfile();
	return 0;
}
