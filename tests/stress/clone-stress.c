/* Stress of clone3: THREADS pthread_create + pthread_join (glibc calls
 * clone3 first), then CHILDREN children made with a raw clone3(CLONE_PIDFD)
 * (fork shape) and CHILDREN with a raw clone(CLONE_PIDFD), each exiting
 * with its own status, waited for by polling the pidfd and reaped with
 * waitid(P_PIDFD).
 *
 * At the end: every thread joined with its result, every child reaped
 * with its status, no poll timeout, no child left (zombie or not), fd
 * count back to its start value, thread count within EXTRA of it (the
 * library's documented waiter pool and monitor thread; they settle
 * lazily: waits up to 1 s).
 *
 * usage: clone-stress THREADS CHILDREN EXTRA_THREADS
 * Prints "stress: ..." figures, then "OK" (exit 0) or "FAIL: ..." lines. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sysfill/uapi.h>

static pid_t main_pid;
#include "proc-counts.h"

static int failures;
#define FAIL(...)                        \
	do {                             \
		printf("FAIL: " __VA_ARGS__); \
		putchar('\n');           \
		failures++;              \
	} while (0)

static void *work(void *arg)
{
	uintptr_t i = (uintptr_t)arg, sum = 0;
	for (uintptr_t k = 0; k <= i % 1000; k++)
		sum += k;
	return (void *)sum;
}

static void threads(int n)
{
	int joined = 0, batch = 50;
	for (int base = 0; base < n; base += batch) {
		pthread_t t[50];
		int made = 0;
		for (int i = 0; i < batch && base + i < n; i++) {
			int e = pthread_create(&t[i], NULL, work,
					       (void *)(uintptr_t)(base + i));
			if (e) {
				FAIL("pthread_create #%d: %s", base + i, strerror(e));
				break;
			}
			made++;
		}
		for (int i = 0; i < made; i++) {
			void *r;
			uintptr_t want = 0, v = (uintptr_t)(base + i) % 1000;
			for (uintptr_t k = 0; k <= v; k++)
				want += k;
			if (pthread_join(t[i], &r) == 0 && (uintptr_t)r == want)
				joined++;
		}
	}
	printf("stress: threads created and joined with their results: %d of %d\n",
	       joined, n);
	if (joined != n)
		FAIL("%d of %d threads joined with their result", joined, n);
}

/* Raw clone whose child exits at once with STATUS (no libc in the child). */
static long raw_clone_exit(long nr, long a0, long a1, long a2, int status)
{
	long ret;
	register long r10 __asm__("r10") = 0;
	register long r8 __asm__("r8") = 0;
	register long r12 __asm__("r12") = status;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "mov %%r12, %%rdi\n\t"
			 "mov $231, %%eax\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:"
			 : "=a"(ret)
			 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8),
			   "r"(r12)
			 : "rcx", "r11", "memory");
	return ret;
}

static void children(const char *how, int n)
{
	int reaped = 0, timeouts = 0;
	long worst_us = 0;
	for (int i = 0; i < n; i++) {
		int pidfd = -1, status = i % 256;
		long pid;
		if (how[0] == '3') {
			struct sysfill_clone_args a = {.flags = CLONE_PIDFD,
						       .pidfd = (uintptr_t)&pidfd,
						       .exit_signal = SIGCHLD};
			pid = raw_clone_exit(435, (long)&a, sizeof a, 0, status);
		} else {
			pid = raw_clone_exit(56, CLONE_PIDFD | SIGCHLD, 0,
					     (long)&pidfd, status);
		}
		if (pid < 0) {
			FAIL("%s #%d: %s", how, i, strerror((int)-pid));
			return;
		}
		long t0 = now_us();
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		if (poll(&p, 1, 10000) != 1) {
			timeouts++;
		}
		long dt = now_us() - t0;
		if (dt > worst_us)
			worst_us = dt;
		siginfo_t si = {0};
		if (syscall(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED, NULL) == 0 &&
		    si.si_pid == pid && si.si_code == CLD_EXITED &&
		    si.si_status == status)
			reaped++;
		else
			waitpid((pid_t)pid, NULL, __WALL);
		close(pidfd);
	}
	printf("stress: %s: %d of %d reaped with their status through the pidfd, "
	       "%d poll timeouts, slowest exit seen after %ld us\n",
	       how, reaped, n, timeouts, worst_us);
	if (reaped != n || timeouts)
		FAIL("%s: %d of %d reaped, %d timeouts", how, reaped, n, timeouts);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: clone-stress THREADS CHILDREN EXTRA_THREADS\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	int nthreads = atoi(argv[1]), nchildren = atoi(argv[2]);
	int extra = atoi(argv[3]);
	main_pid = getpid();
	int fds0 = count_fds(), thr0 = count_threads();
	long t0 = now_us();
	threads(nthreads);
	long t1 = now_us();
	children("clone3(CLONE_PIDFD)", nchildren);
	long t2 = now_us();
	children("clone(CLONE_PIDFD)", nchildren);
	long t3 = now_us();
	printf("stress: %.3f s for the threads, %.3f s and %.3f s for the children\n",
	       (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6);
	char list[4096];
	int left = count_children(list, sizeof list);
	if (left != 0)
		FAIL("children left: %d:%s", left, list);
	int fds1, thr1;
	long fd_ms = settle(count_fds, fds0, &fds1);
	long thr_ms = settle(count_threads, thr0 + extra, &thr1);
	printf("stress: fds start %d end %d; threads start %d end %d (allowed %d more)\n",
	       fds0, fds1, thr0, thr1, extra);
	if (fd_ms < 0)
		FAIL("fd count %d, was %d at start", fds1, fds0);
	if (thr_ms < 0)
		FAIL("thread count %d, was %d at start (+%d allowed)", thr1, thr0, extra);
	if (failures)
		return 1;
	puts("OK");
	return 0;
}
