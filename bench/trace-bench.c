/* Per-call cost of emulated calls for trace mode: built -static, run
 * natively and under `sysfill run --mode=trace`. Prints
 *   NAME VALUE ns
 * (median of N timed calls; of N/10 for clone3, which makes a child each
 * time) for each case. Raw system calls only. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N 2000
static long samples[N];

static long now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *name, int n)
{
	qsort(samples, (size_t)n, sizeof samples[0], cmp);
	printf("%s %ld ns\n", name, samples[n / 2]);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : N;
	if (n > N || n < 1)
		n = N;
	pid_t c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	long fd = syscall(434, c, 0);
	if (fd < 0) {
		perror("pidfd_open");
		kill(c, SIGKILL);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		long t = now();
		syscall(SYS_getppid);
		samples[i] = now() - t;
	}
	report("getppid", n);
	for (int i = 0; i < n; i++) {
		long t = now();
		syscall(424, fd, 0, NULL, 0);
		samples[i] = now() - t;
	}
	report("pidfd_send_signal(0)", n);
	for (int i = 0; i < n; i++) {
		siginfo_t si;
		long t = now();
		syscall(SYS_waitid, 3 /* P_PIDFD */, fd, &si, WEXITED | WNOHANG, NULL);
		samples[i] = now() - t;
	}
	report("waitid(P_PIDFD,WNOHANG)", n);
	for (int i = 0; i < n; i++) {
		long t = now();
		long f = syscall(434, c, 0);
		close((int)f);
		samples[i] = now() - t;
	}
	report("pidfd_open+close", n);
	for (int i = 0; i < n; i++) {
		long t = now();
		long f = syscall(438, fd, 0, 0);
		close((int)f);
		samples[i] = now() - t;
	}
	report("pidfd_getfd+close", n);
	/* a child each time: a tenth as many */
	int nc = n / 10 > 0 ? n / 10 : 1;
	for (int i = 0; i < nc; i++) {
		int pfd = -1;
		struct clone_args {
			unsigned long long flags, pidfd, child_tid, parent_tid,
				exit_signal, stack, stack_size, tls;
		} ca = {.flags = 0x1000 /* CLONE_PIDFD */,
			.pidfd = (unsigned long)&pfd, .exit_signal = SIGCHLD};
		long t = now();
		long k = syscall(435, &ca, sizeof ca);
		if (k == 0)
			syscall(SYS_exit_group, 0);
		waitpid((pid_t)k, NULL, 0);
		close(pfd);
		samples[i] = now() - t;
	}
	report("clone3(CLONE_PIDFD)+exit+waitpid+close", nc);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	return 0;
}
