/* bench: raw figures for `make bench` (bench/run.sh joins the runs).
 *
 *   bench native     all figures (run as is)
 *   bench emulated   all figures (run under LD_PRELOAD=libsysfill.so
 *                    SYSFILL_FORCE=1; checks that emulation is on)
 *   bench filter     getppid only, under an allow-all seccomp filter that
 *                    this program installs itself
 *   bench nonchild native|emulated [polling]
 *                    non-child exit latency and idle CPU for 1,000 watched
 *                    non-children only (run.sh runs it in a network
 *                    namespace too, where the proc connector is not
 *                    available; "polling": exits at random points of the
 *                    100 ms polling period)
 *   bench getppid native|emulated
 *                    getppid only (run.sh alternates it with `filter`)
 *   bench spawnlat native|emulated
 *                    spawn round trips and child exit latency only
 *   bench watch10k native|emulated
 *                    watching 10,000 sleeping children
 *   bench workload LIB REPS NAME -- CMD...
 *                    run CMD natively, under the allow-all filter and with
 *                    LD_PRELOAD=LIB SYSFILL_FORCE=1, interleaved, REPS times
 *
 * Lines starting with "bench: " are complete figures (reference-style:
 * native= is the reference named in NAME) and are printed as they are.
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
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NR_pidfd_send_signal 424
#define NR_pidfd_open 434
#define NR_pidfd_getfd 438
#define NR_clone3 435
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

	/* The trap's own cost: a trapped call the engine rejects at once
	 * (pidfd_getfd checks flags first, natively and emulated). */
	PER_CALL("trap_floor(pidfd_getfd,EINVAL)", 500, {
		long r = raw5(NR_pidfd_getfd, -1, 0, 1, 0, 0);
		if (r != -EINVAL) {
			errno = r < 0 ? -r : 0;
			die("pidfd_getfd(-1, 0, 1)");
		}
	});

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

/* fork + pidfd_open; the child exits at once. Returns the pidfd. */
static long fork_pidfd(pid_t *pidp)
{
	pid_t p = fork();
	if (p < 0)
		die("fork");
	if (p == 0)
		_exit(0);
	*pidp = p;
	long fd = raw5(NR_pidfd_open, p, 0, 0, 0, 0);
	if (fd < 0) {
		errno = -fd;
		die("pidfd_open");
	}
	return fd;
}

/* SPAWN (a child that exits at once, and its pidfd) + poll + waitid(P_PIDFD),
 * median of 201 round trips, printed as NAME. */
static void spawn_roundtrip(const char *name, long (*spawn)(pid_t *))
{
	enum { N = 201 };
	double t[N];
	for (int i = 0; i < N; i++) {
		double s = now_ns();
		pid_t p;
		long fd = spawn(&p);
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
	printf("%s %.1f us\n", name, pct(t, N, 0.5) / 1e3);
	fflush(stdout);
}

struct shared {
	volatile double t_exit;
	volatile pid_t gpid;
	volatile int opened;
};

static int polling_jitter_ms;

static void exit_latency(struct shared *sh, int nonchild, int n)
{
	double *lat = calloc(n, sizeof *lat);
	unsigned jitter = 12345;
	for (int i = 0; i < n; i++) {
		jitter = jitter * 1103515245u + 12345u;
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
			if (polling_jitter_ms)
				usleep((useconds_t)(jitter % (polling_jitter_ms * 1000)));
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



/* clone3(CLONE_PIDFD), as a program that falls back to fork + pidfd_open
 * when clone3 gives ENOSYS (glibc, Python, Go). Under the library clone3
 * is emulated (with SYSFILL_CLONE3=enosys the run measures the fallback). */
static long spawn_pidfd(pid_t *pidp)
{
	static int no_clone3;
	if (!no_clone3) {
		int pidfd = -1;
		struct clone_args ca = {.flags = CLONE_PIDFD,
					.pidfd = (unsigned long)&pidfd,
					.exit_signal = SIGCHLD};
		long p = raw5(NR_clone3, (long)&ca, sizeof ca, 0, 0, 0);
		if (p == 0)
			raw5(SYS_exit_group, 0, 0, 0, 0, 0);
		if (p > 0) {
			*pidp = (pid_t)p;
			return pidfd;
		}
		if (p != -ENOSYS) {
			errno = -p;
			die("clone3");
		}
		no_clone3 = 1;
	}
	return fork_pidfd(pidp);
}

/* ---- issue 7: the calls the library interposes ---- */

static void *thread_nop(void *arg)
{
	return arg;
}

extern char **environ;

static void bench_interposed(void)
{
	sigset_t one, old;
	sigemptyset(&one);
	sigaddset(&one, SIGUSR2);
	PER_CALL("sigprocmask(block+setmask-pair)", 500, {
		sigprocmask(SIG_BLOCK, &one, &old);
		sigprocmask(SIG_SETMASK, &old, NULL);
	});
	PER_CALL("pthread_sigmask(block+setmask-pair)", 500, {
		pthread_sigmask(SIG_BLOCK, &one, &old);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	});
	struct sigaction sa = {.sa_handler = SIG_IGN}, osa;
	sigfillset(&sa.sa_mask);
	PER_CALL("sigaction(SIGUSR2,full-mask)", 500,
		 sigaction(SIGUSR2, &sa, &osa));
	PER_CALL("pthread_create+join", 20, {
		pthread_t th;
		if (pthread_create(&th, NULL, thread_nop, NULL))
			die("pthread_create");
		pthread_join(th, NULL);
	});
	PER_CALL("fork+_exit+waitpid", 4, {
		pid_t p = fork();
		if (p < 0)
			die("fork");
		if (p == 0)
			_exit(0);
		waitpid(p, NULL, 0);
	});
	char *argv[] = {"true", NULL};
	PER_CALL("posix_spawn(/bin/true)+waitpid", 2, {
		pid_t p;
		if (posix_spawn(&p, "/bin/true", NULL, NULL, argv, environ))
			die("posix_spawn");
		waitpid(p, NULL, 0);
	});
	PER_CALL("fork+execve(/bin/true)+waitpid", 2, {
		pid_t p = fork();
		if (p < 0)
			die("fork");
		if (p == 0) {
			execve("/bin/true", argv, environ);
			_exit(127);
		}
		waitpid(p, NULL, 0);
	});
}

/* ---- memory ---- */

/* A field of /proc/self/status or /proc/meminfo, in kB; -1 if missing. */
static long kb_field(const char *file, const char *key)
{
	FILE *f = fopen(file, "r");
	if (!f)
		return -1;
	char line[256];
	long v = -1;
	size_t k = strlen(key);
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, key, k) && line[k] == ':') {
			v = atol(line + k + 1);
			break;
		}
	fclose(f);
	return v;
}

/* Kernel memory that grows with threads and files (system-wide: noisy
 * when other processes run). */
static long kmem_kb(void)
{
	return kb_field("/proc/meminfo", "KernelStack") +
	       kb_field("/proc/meminfo", "Slab") +
	       kb_field("/proc/meminfo", "PageTables");
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Percent of one core this process (all its threads) uses while idle. */
static double idle_cpu_pct(double secs)
{
	double c0 = cpu_s(), t0 = now_ns();
	usleep((useconds_t)(secs * 1e6));
	return (cpu_s() - c0) / ((now_ns() - t0) / 1e9) * 100;
}

static void raise_nofile(rlim_t want)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur >= want)
		return;
	struct rlimit nrl = {want, rl.rlim_max > want ? rl.rlim_max : want};
	if (setrlimit(RLIMIT_NOFILE, &nrl)) {
		nrl.rlim_cur = rl.rlim_max; /* not root: what we may */
		nrl.rlim_max = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nrl);
	}
}

/* Sleeping children that share our memory (CLONE_VM, own stack page):
 * 10,000 of them cost the kernel's per-task memory only. They use raw
 * calls only and wait for SIGKILL. */
static int vm_child_main(void *arg)
{
	(void)arg;
	for (;;)
		raw0(SYS_pause);
	return 0;
}

static int spawn_sleepers(pid_t *pids, int n, char **stacks)
{
	enum { STK = 8192 };
	*stacks = mmap(NULL, (size_t)n * STK, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (*stacks == MAP_FAILED)
		die("mmap stacks");
	int i;
	for (i = 0; i < n; i++) {
		pid_t p = clone(vm_child_main, *stacks + (size_t)(i + 1) * STK,
				CLONE_VM | SIGCHLD, NULL);
		if (p < 0) {
			fprintf(stderr, "bench: clone after %d children: %s\n",
				i, strerror(errno));
			break;
		}
		pids[i] = p;
	}
	return i;
}

static void kill_sleepers(pid_t *pids, int n, char *stacks)
{
	for (int i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (int i = 0; i < n; i++)
		waitpid(pids[i], NULL, __WALL);
	munmap(stacks, (size_t)n * 8192);
}

/* fds, threads and memory per watched child (1,000 children). */
static void bench_watch_mem(int emulated)
{
	enum { N = 1000 };
	static pid_t kids[N];
	static long fds[N];
	char *stacks;
	raise_nofile(4 * N + 100);
	int n = spawn_sleepers(kids, N, &stacks);
	usleep(100000);
	int fd0 = count_dir("/proc/self/fd"), th0 = count_dir("/proc/self/task");
	long rss0 = kb_field("/proc/self/status", "VmRSS");
	long k0 = kmem_kb();
	for (int i = 0; i < n; i++) {
		fds[i] = raw5(NR_pidfd_open, kids[i], 0, 0, 0, 0);
		if (fds[i] < 0) {
			errno = -fds[i];
			die("pidfd_open");
		}
	}
	usleep(200000); /* let every helper thread start and settle */
	int fd1 = count_dir("/proc/self/fd"), th1 = count_dir("/proc/self/task");
	long rss1 = kb_field("/proc/self/status", "VmRSS");
	long k1 = kmem_kb();
	printf("fds-per-watched-child %.2f fds\n", (fd1 - fd0) / (double)n);
	printf("threads-per-watched-child %.2f threads\n",
	       (th1 - th0) / (double)n);
	double um = (rss1 - rss0) / (double)n, km = (k1 - k0) / (double)n;
	printf("mem-per-watched-child(user,VmRSS) %.1f KiB\n", um);
	printf("mem-per-watched-child(kernel,KernelStack+Slab+PageTables) "
	       "%.1f KiB\n", km);
	if (emulated)
		printf("bench: mem-per-watched-child(user+kernel)-vs-target "
		       "native=32.0 KiB emulated=%.1f KiB ratio=%.2f\n",
		       um + km, (um + km) / 32.0);
	fflush(stdout);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	kill_sleepers(kids, n, stacks);
}

/* Watch 10,000 sleeping children: time to open the pidfds, fds, memory,
 * CPU while idle. An emulated watch takes 2 fds: where RLIMIT_NOFILE's hard
 * limit cannot be raised (no CAP_SYS_RESOURCE), watch as many as it allows,
 * the same number natively and emulated, and name the number. */
static void bench_watch10k(void)
{
	enum { N = 10000 };
	static pid_t kids[N];
	static long fds[N];
	char *stacks;
	raise_nofile(3 * N + 100);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	int want = N;
	if (rl.rlim_cur < 2 * N + 64)
		want = ((int)rl.rlim_cur - 64) / 2 / 100 * 100;
	int n = spawn_sleepers(kids, want, &stacks);
	usleep(100000);
	int fd0 = count_dir("/proc/self/fd");
	long rss0 = kb_field("/proc/self/status", "VmRSS");
	long k0 = kmem_kb();
	double t0 = now_ns();
	int opened = 0;
	for (int i = 0; i < n; i++) {
		fds[i] = raw5(NR_pidfd_open, kids[i], 0, 0, 0, 0);
		if (fds[i] < 0) {
			fprintf(stderr, "bench: pidfd_open #%d: %s\n", i,
				strerror((int)-fds[i]));
			break;
		}
		opened++;
	}
	double ms = (now_ns() - t0) / 1e6;
	usleep(300000);
	int fd1 = count_dir("/proc/self/fd");
	long rss1 = kb_field("/proc/self/status", "VmRSS");
	long k1 = kmem_kb();
	double cpu = idle_cpu_pct(1.0);
	char pre[64];
	snprintf(pre, sizeof pre, "watch-%d-children", opened);
	printf("%s:open-all %.1f ms\n", pre, ms);
	printf("%s:fds %d fds\n", pre, fd1 - fd0);
	printf("%s:mem(user,VmRSS) %.1f MiB\n", pre, (rss1 - rss0) / 1024.0);
	printf("%s:mem(kernel) %.1f MiB\n", pre, (k1 - k0) / 1024.0);
	printf("%s:idle-cpu %.2f %%core\n", pre, cpu);
	fflush(stdout);
	for (int i = 0; i < opened; i++)
		close(fds[i]);
	kill_sleepers(kids, n, stacks);
}

/* CPU of this process while it watches 1,000 sleeping non-children. */
static void bench_nonchild_cpu(int emulated)
{
	enum { N = 1000 };
	raise_nofile(4 * N + 100);
	pid_t *pids = mmap(NULL, N * sizeof(pid_t), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	volatile int *ready = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pids == MAP_FAILED || ready == MAP_FAILED)
		die("mmap");
	pid_t helper = fork();
	if (helper < 0)
		die("fork");
	if (helper == 0) {
		char *stacks;
		int n = spawn_sleepers(pids, N, &stacks);
		*ready = n ? n : -1;
		while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
			;
		_exit(0);
	}
	while (!*ready)
		usleep(1000);
	int n = *ready > 0 ? *ready : 0;
	static long fds[N];
	for (int i = 0; i < n; i++) {
		fds[i] = raw5(NR_pidfd_open, pids[i], 0, 0, 0, 0);
		if (fds[i] < 0) {
			errno = -fds[i];
			die("pidfd_open(non-child)");
		}
	}
	usleep(300000);
	double cpu = idle_cpu_pct(2.0);
	int root = geteuid() == 0;
	if (emulated)
		printf("bench: idle-cpu-1000-nonchildren(%s)-vs-target "
		       "native=1.00 %%core emulated=%.2f %%core ratio=%.2f\n",
		       root ? "root,proc-connector" : "nobody,polling", cpu,
		       cpu / 1.0);
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		close(fds[i]);
		kill(pids[i], SIGKILL);
	}
	waitpid(helper, NULL, 0);
	munmap(pids, N * sizeof(pid_t));
}

/* ---- a real workload: native, allow-all filter, library ---- */

static void install_allow_all(void);

static double run_cmd(char **cmd, int mode, const char *lib)
{
	double s = now_ns();
	pid_t p = fork();
	if (p < 0)
		die("fork");
	if (p == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		if (mode == 1)
			install_allow_all();
		if (mode == 2) {
			setenv("LD_PRELOAD", lib, 1);
			setenv("SYSFILL_FORCE", "1", 1);
		}
		execvp(cmd[0], cmd);
		_exit(127);
	}
	int st;
	waitpid(p, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "bench: workload %s failed (mode %d, status %x)\n",
			cmd[0], mode, st);
		exit(1);
	}
	return (now_ns() - s) / 1e6;
}

static int workload(int argc, char **argv)
{
	if (argc < 6 || strcmp(argv[5], "--"))
		return 2;
	const char *lib = argv[2], *name = argv[4];
	int reps = atoi(argv[3]);
	char **cmd = argv + 6;
	enum { MAXR = 64 };
	double t[3][MAXR];
	if (reps < 1 || reps > MAXR)
		return 2;
	run_cmd(cmd, 0, lib); /* warm the page cache */
	for (int r = 0; r < reps; r++)
		for (int m = 0; m < 3; m++)
			t[m][r] = run_cmd(cmd, (m + r) % 3, lib);
	/* (m + r) % 3 rotates the order; sort the samples back per mode */
	double med[3];
	for (int m = 0; m < 3; m++) {
		double v[MAXR];
		int k = 0;
		for (int r = 0; r < reps; r++)
			for (int mm = 0; mm < 3; mm++)
				if ((mm + r) % 3 == m)
					v[k++] = t[mm][r];
		med[m] = pct(v, k, 0.5);
	}
	printf("bench: workload:%s native=%.1f ms emulated=%.1f ms ratio=%.3f\n",
	       name, med[0], med[2], med[2] / med[0]);
	printf("bench: workload:%s-vs-allow-all-filter native=%.1f ms "
	       "emulated=%.1f ms ratio=%.3f\n", name, med[1], med[2],
	       med[2] / med[1]);
	return 0;
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

static int want_emulated(const char *mode)
{
	if (!strcmp(mode, "native"))
		return 0;
	if (strcmp(mode, "emulated")) {
		fprintf(stderr, "usage: bench native|emulated|filter\n"
				"       bench nonchild|watch10k native|emulated\n"
				"       bench workload LIB REPS NAME -- CMD...\n");
		exit(2);
	}
	int (*emu)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "sysfill_emulating");
	if (!emu || !emu()) {
		fprintf(stderr, "bench: emulated mode but sysfill is not "
				"emulating (LD_PRELOAD/SYSFILL_FORCE?)\n");
		exit(1);
	}
	return 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "native";
	if (!strcmp(mode, "filter")) {
		install_allow_all();
		bench_getppid();
		return 0;
	}
	if (!strcmp(mode, "workload"))
		return workload(argc, argv);
	struct shared *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	if (!strcmp(mode, "getppid")) { /* run.sh alternates it with filter */
		want_emulated(argc > 2 ? argv[2] : "native");
		bench_getppid();
		return 0;
	}
	if (!strcmp(mode, "nonchild")) {
		int emu = want_emulated(argc > 2 ? argv[2] : "native");
		/* "polling": the exit comes at a random point of the 100 ms
		 * polling period, as it would in a program (the victim would
		 * otherwise exit 1 ms after each watch starts, always at the
		 * same phase of the monitor's clock). */
		polling_jitter_ms = argc > 3 && !strcmp(argv[3], "polling") ? 100 : 0;
		exit_latency(sh, 1, polling_jitter_ms ? 40 : 300);
		bench_nonchild_cpu(emu);
		return 0;
	}
	if (!strcmp(mode, "spawnlat")) { /* for A/B runs of one change */
		want_emulated(argc > 2 ? argv[2] : "native");
		spawn_roundtrip("spawn-roundtrip(fork+pidfd_open,no-clone3)",
				fork_pidfd);
		spawn_roundtrip("spawn-roundtrip(clone3+CLONE_PIDFD)",
				spawn_pidfd);
		exit_latency(sh, 0, 300);
		return 0;
	}
	if (!strcmp(mode, "watch10k")) {
		want_emulated(argc > 2 ? argv[2] : "native");
		bench_watch10k();
		return 0;
	}
	int emu = want_emulated(mode);
	bench_getppid();
	/* First, before any watch: the library's idle waiter threads (one
	 * per child watched at once, kept for reuse) slow fork and SIG_IGN. */
	bench_interposed();
	bench_calls();
	spawn_roundtrip("spawn-roundtrip(fork+pidfd_open,no-clone3)", fork_pidfd);
	spawn_roundtrip("spawn-roundtrip(clone3+CLONE_PIDFD)", spawn_pidfd);
	exit_latency(sh, 0, 300);
	bench_watch_mem(emu);
	return 0;
}
