/* bench: raw figures for `make bench` (bench/run.sh joins the runs).
 *
 *   bench native     all figures (run as is)
 *   bench emulated   all figures (run under LD_PRELOAD=libsysfill.so
 *                    SYSFILL_FORCE=1; checks that emulation is on)
 *   bench filter     getppid only, under an allow-all seccomp filter that
 *                    this program installs itself
 *
 * Prints `NAME VALUE UNIT` lines on stdout. The measured pidfd calls are
 * made with a raw `syscall` instruction (so that the seccomp RET_TRAP path
 * of the library is what gets measured); the `(libc)` variants go through
 * libc's syscall(), which the library interposes without a trap.
 * x86_64 only. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NR_pidfd_send_signal 424
#define NR_pidfd_open 434
#define NR_waitid 247
#define P_PIDFD_ 3

static inline long raw5(long n, long a, long b, long c, long d, long e)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}
#define raw0(n) raw5(n, 0, 0, 0, 0, 0)

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
	qsort(v, n, sizeof *v, cmpd);
	int i = (int)(p * (n - 1) + 0.5);
	return v[i];
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* A child that just waits to be killed. */
static pid_t live_child(void)
{
	pid_t p = fork();
	if (p < 0)
		die("fork");
	if (p == 0) {
		for (;;)
			pause();
	}
	return p;
}

static void kill_reap(pid_t p)
{
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
}

#define BATCHES 41

/* Per-call cost: median over BATCHES batches of n calls, after WARMUP
 * untimed batches (page faults after fork, caches, CPU frequency). */
#define WARMUP 5
#define PER_CALL(name, n, body)                                        \
	do {                                                           \
		double t_[BATCHES + WARMUP];                           \
		for (int b_ = -WARMUP; b_ < BATCHES; b_++) {           \
			double s_ = now_ns();                          \
			for (int i_ = 0; i_ < (n); i_++) {             \
				body;                                  \
			}                                              \
			t_[b_ + WARMUP] = (now_ns() - s_) / (n);       \
		}                                                      \
		printf("%s %.0f ns\n", name,                        \
		       pct(t_ + WARMUP, BATCHES, 0.5));                \
		fflush(stdout);                                        \
	} while (0)

static void bench_getppid(void)
{
	PER_CALL("getppid", 2000, raw0(SYS_getppid));
}

static void bench_calls(void)
{
	pid_t c = live_child();
	long fd;
	usleep(20000); /* let the child settle in pause() */

	PER_CALL("pidfd_open+close", 200, {
		fd = raw5(NR_pidfd_open, c, 0, 0, 0, 0);
		if (fd < 0) {
			errno = -fd;
			die("pidfd_open");
		}
		close(fd);
	});
	PER_CALL("pidfd_open+close(libc)", 200, {
		fd = syscall(NR_pidfd_open, c, 0);
		if (fd < 0)
			die("pidfd_open(libc)");
		close(fd);
	});

	long pfd = raw5(NR_pidfd_open, c, 0, 0, 0, 0);
	if (pfd < 0)
		die("pidfd_open");
	PER_CALL("pidfd_send_signal(0)", 500, {
		long r = raw5(NR_pidfd_send_signal, pfd, 0, 0, 0, 0);
		if (r < 0) {
			errno = -r;
			die("pidfd_send_signal");
		}
	});
	PER_CALL("pidfd_send_signal(0)(libc)", 500, {
		if (syscall(NR_pidfd_send_signal, pfd, 0, NULL, 0) < 0)
			die("pidfd_send_signal(libc)");
	});
	siginfo_t si;
	PER_CALL("waitid(P_PIDFD,WNOHANG)", 500, {
		long r = raw5(NR_waitid, P_PIDFD_, pfd, (long)&si,
			      WEXITED | WNOHANG, 0);
		if (r < 0) {
			errno = -r;
			die("waitid");
		}
	});
	PER_CALL("waitid(P_PIDFD,WNOHANG)(libc)", 500, {
		if (syscall(NR_waitid, P_PIDFD_, pfd, &si, WEXITED | WNOHANG,
			    NULL) < 0)
			die("waitid(libc)");
	});
	close(pfd);
	kill_reap(c);
}

/* fork + pidfd_open + poll + waitid(P_PIDFD), child exits at once. */
static void bench_spawn(void)
{
	enum { N = 201 };
	double t[N];
	for (int i = 0; i < N; i++) {
		double s = now_ns();
		pid_t p = fork();
		if (p < 0)
			die("fork");
		if (p == 0)
			_exit(0);
		long fd = raw5(NR_pidfd_open, p, 0, 0, 0, 0);
		if (fd < 0) {
			errno = -fd;
			die("pidfd_open");
		}
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (poll(&pf, 1, -1) != 1)
			die("poll");
		siginfo_t si;
		long r = raw5(NR_waitid, P_PIDFD_, fd, (long)&si, WEXITED, 0);
		if (r < 0) {
			errno = -r;
			die("waitid");
		}
		close(fd);
		t[i] = now_ns() - s;
	}
	printf("spawn-roundtrip(fork+pidfd_open,no-clone3) %.1f us\n",
	       pct(t, N, 0.5) / 1e3);
	fflush(stdout);
}

struct shared {
	volatile double t_exit;
	volatile pid_t gpid;
	volatile int opened;
};

static void exit_latency(struct shared *sh, int nonchild, int n)
{
	double *lat = calloc(n, sizeof *lat);
	for (int i = 0; i < n; i++) {
		sh->t_exit = 0;
		sh->gpid = 0;
		sh->opened = 0;
		__sync_synchronize();
		pid_t p = fork();
		if (p < 0)
			die("fork");
		if (p == 0) {
			if (nonchild) {
				pid_t g = fork();
				if (g < 0)
					_exit(1);
				if (g == 0)
					goto victim;
				sh->gpid = g;
				waitpid(g, NULL, 0); /* reap it */
				_exit(0);
			}
		victim:
			while (!sh->opened)
				usleep(100);
			usleep(1000); /* let the parent block in poll */
			sh->t_exit = now_ns();
			_exit(0);
		}
		pid_t target = p;
		if (nonchild) {
			while (!(target = sh->gpid))
				usleep(50);
		}
		long fd = raw5(NR_pidfd_open, target, 0, 0, 0, 0);
		if (fd < 0) {
			errno = -fd;
			die("pidfd_open");
		}
		sh->opened = 1;
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (poll(&pf, 1, -1) != 1)
			die("poll");
		double w = now_ns();
		lat[i] = (w - sh->t_exit) / 1e3;
		if (!nonchild) {
			siginfo_t si;
			long r = raw5(NR_waitid, P_PIDFD_, fd, (long)&si,
				      WEXITED, 0);
			if (r < 0) {
				errno = -r;
				die("waitid");
			}
		} else {
			waitpid(p, NULL, 0);
		}
		close(fd);
	}
	const char *pre = nonchild ? "nonchild" : "child";
	printf("%s-exit-latency-p50 %.1f us\n", pre, pct(lat, n, 0.5));
	printf("%s-exit-latency-p99 %.1f us\n", pre, pct(lat, n, 0.99));
	fflush(stdout);
	free(lat);
}

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		die(path);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void bench_watch_cost(void)
{
	enum { N = 100 };
	pid_t kids[N];
	long fds[N];
	for (int i = 0; i < N; i++)
		kids[i] = live_child();
	int fd0 = count_dir("/proc/self/fd"), th0 = count_dir("/proc/self/task");
	for (int i = 0; i < N; i++) {
		fds[i] = raw5(NR_pidfd_open, kids[i], 0, 0, 0, 0);
		if (fds[i] < 0) {
			errno = -fds[i];
			die("pidfd_open");
		}
	}
	usleep(100000); /* let any helper thread start */
	int fd1 = count_dir("/proc/self/fd"), th1 = count_dir("/proc/self/task");
	printf("fds-per-watched-child %.2f fds\n", (fd1 - fd0) / (double)N);
	printf("threads-per-watched-child %.2f threads\n",
	       (th1 - th0) / (double)N);
	fflush(stdout);
	for (int i = 0; i < N; i++) {
		close(fds[i]);
		kill_reap(kids[i]);
	}
}

static void install_allow_all(void)
{
	struct sock_filter insn[] = {
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = 1, .filter = insn};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		die("PR_SET_NO_NEW_PRIVS");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		die("seccomp");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "native";
	if (!strcmp(mode, "filter")) {
		install_allow_all();
		bench_getppid();
		return 0;
	}
	if (!strcmp(mode, "emulated")) {
		int (*emu)(void) =
			(int (*)(void))dlsym(RTLD_DEFAULT, "sysfill_emulating");
		if (!emu || !emu()) {
			fprintf(stderr, "bench: emulated mode but sysfill is "
					"not emulating (LD_PRELOAD/SYSFILL_FORCE?)\n");
			return 1;
		}
	} else if (strcmp(mode, "native")) {
		fprintf(stderr, "usage: bench native|emulated|filter\n");
		return 2;
	}
	struct shared *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	bench_getppid();
	bench_calls();
	bench_spawn();
	exit_latency(sh, 0, 300);
	exit_latency(sh, 1, 300);
	bench_watch_cost();
	return 0;
}
