/* Issue 7 scenarios: the preload library must never kill or change the
 * program. Each scenario prints one transcript line; the suite compares
 * native, SYSFILL_FORCE=1 and gVisor runs. Pidfd calls here are raw
 * `syscall` instructions (not libc's syscall()), so in seccomp mode they
 * really trap. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <unistd.h>

extern char **environ;

static long raw(long nr, long a, long b, long c, long d)
{
	long ret;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}
#define NR_pidfd_open 434
#define NR_pidfd_send_signal 424

static const char *res(long r)
{
	static char b[32];
	if (r >= 0)
		return "ok";
	snprintf(b, sizeof b, "%s", r == -ENOSYS ? "ENOSYS" : r == -EBADF ? "EBADF" : r == -ESRCH ? "ESRCH" : "other");
	return b;
}

/* pidfd_open(self) + signal 0, from the current context. */
static const char *pidfd_roundtrip(void)
{
	long fd = raw(NR_pidfd_open, getpid(), 0, 0, 0);
	if (fd < 0)
		return res(fd);
	long r = raw(NR_pidfd_send_signal, fd, 0, 0, 0);
	close((int)fd);
	return res(r);
}

static void *blocked_worker(void *arg)
{
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, 0); /* the sigwait-server pattern */
	*(const char **)arg = pidfd_roundtrip();
	return 0;
}

static const char *handler_result;
static void full_mask_handler(int sig)
{
	handler_result = pidfd_roundtrip();
}

static volatile sig_atomic_t got_sigsys, sigsys_code, sigsys_data;
static void user_sigsys(int sig, siginfo_t *si, void *uc)
{
	got_sigsys++;
	sigsys_code = si->si_code;
	sigsys_data = si->si_errno; /* SECCOMP_RET_DATA of a seccomp trap */
}

/* Another filter, as Android's app filter: getppid traps with data 0x1234. */
static void foreign_filter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 110, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 0x1234),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = 4, .filter = f};
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "child")) {
		printf("exec-child: pidfd %s\n", pidfd_roundtrip());
		return 0;
	}
	setvbuf(stdout, 0, _IONBF, 0);
	printf("plain: pidfd %s\n", pidfd_roundtrip());

	const char *w = "unset";
	pthread_t t;
	pthread_create(&t, 0, blocked_worker, &w);
	pthread_join(t, 0);
	printf("all-blocked-thread: pidfd %s\n", w);

	struct sigaction sa = {.sa_handler = full_mask_handler};
	sigfillset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, 0);
	raise(SIGUSR1);
	printf("full-mask-handler: pidfd %s\n", handler_result);
	struct sigaction back;
	sigaction(SIGUSR1, 0, &back);
	printf("full-mask-handler: sa_mask has SIGSYS %d\n",
	       sigismember(&back.sa_mask, SIGSYS));

	sigset_t s, old;
	sigemptyset(&s);
	sigaddset(&s, SIGSYS);
	sigprocmask(SIG_BLOCK, &s, 0);
	printf("sigsys-blocked: pidfd %s\n", pidfd_roundtrip());
	sigprocmask(SIG_SETMASK, 0, &old);
	printf("sigsys-blocked: mask shows SIGSYS %d\n", sigismember(&old, SIGSYS));

	/* A SIGSYS sent with kill reaches the program's own handler, after
	 * the unblock, as without sysfill. */
	struct sigaction us = {.sa_sigaction = user_sigsys, .sa_flags = SA_SIGINFO};
	sigaction(SIGSYS, &us, 0);
	kill(getpid(), SIGSYS);
	printf("kill-sigsys-while-blocked: handler ran %d\n", (int)got_sigsys);
	sigprocmask(SIG_UNBLOCK, &s, 0);
	printf("kill-sigsys-after-unblock: handler ran %d si_code=%s\n", (int)got_sigsys,
	       sigsys_code == SI_USER ? "SI_USER" : "other");
	printf("own-sigsys-handler: pidfd %s\n", pidfd_roundtrip());
	struct sigaction cur;
	sigaction(SIGSYS, 0, &cur);
	printf("own-sigsys-handler: sigaction reports it %d\n", cur.sa_sigaction == user_sigsys);

	/* The same with raw rt_sigprocmask/rt_sigaction calls (Go, static
	 * code, glibc's own block-all around clone3): SIGSYS is blocked as far
	 * as the program can tell, yet its raw pidfd calls are served. */
	unsigned long long all = ~0ULL, rawcur = 0, before = 0;
	const unsigned long long sysbit = 1ULL << (SIGSYS - 1);
	got_sigsys = 0;
	raw(14, SIG_SETMASK, (long)&all, (long)&before, 8);
	printf("raw-all-blocked: pidfd %s\n", pidfd_roundtrip());
	raw(14, SIG_BLOCK, 0, (long)&rawcur, 8);
	printf("raw-all-blocked: mask shows SIGSYS %d\n", !!(rawcur & sysbit));
	kill(getpid(), SIGSYS);
	printf("raw-kill-sigsys-while-blocked: handler ran %d\n", (int)got_sigsys);
	raw(14, SIG_SETMASK, (long)&before, 0, 8);
	printf("raw-kill-sigsys-after-unblock: handler ran %d\n", (int)got_sigsys);
	raw(14, SIG_BLOCK, 0, (long)&rawcur, 8);
	printf("raw-unblocked: mask shows SIGSYS %d\n", !!(rawcur & sysbit));
	printf("raw-sigprocmask-bad-size: %s\n",
	       raw(14, SIG_BLOCK, (long)&all, 0, 4) == -EINVAL ? "EINVAL" : "other");
	printf("raw-sigprocmask-bad-pointer: %s\n",
	       raw(14, SIG_BLOCK, 16, 0, 8) == -EFAULT ? "EFAULT" : "other");
	printf("raw-sigprocmask-bad-how: %s\n",
	       raw(14, 7, (long)&all, 0, 8) == -EINVAL ? "EINVAL" : "other");
	sigset_t any;
	sigemptyset(&any);
	errno = 0;
	int pr = sigprocmask(99, &any, 0);
	printf("libc-sigprocmask-bad-how: %d %s\n", pr, errno == EINVAL ? "EINVAL" : "other");
	printf("pthread_sigmask-bad-how: %s\n",
	       pthread_sigmask(99, &any, 0) == EINVAL ? "EINVAL" : "other");
	struct { void *h; unsigned long f; void *r; unsigned long long m; } ko;
	raw(13, SIGSYS, 0, (long)&ko, 8);
	printf("raw-sigaction-query: program's handler %d\n",
	       ko.h == (void *)user_sigsys);

	/* A trap of another filter reaches the program's handler with its
	 * own data; with the default action it kills, as without sysfill. */
	pid_t f = fork();
	if (!f) {
		foreign_filter();
		got_sigsys = 0;
		raw(110, 0, 0, 0, 0);
		printf("foreign-trap: handler ran %d si_code=%s data=%#x\n", (int)got_sigsys,
		       sigsys_code == 1 ? "SYS_SECCOMP" : "other", (unsigned)sigsys_data);
		signal(SIGSYS, SIG_DFL);
		raw(110, 0, 0, 0, 0);
		printf("foreign-trap-default: survived\n");
		_exit(0);
	}
	int fst;
	waitpid(f, &fst, 0);
	printf("foreign-trap-default: %s %d\n", WIFSIGNALED(fst) ? "killed by signal" : "exit",
	       WIFSIGNALED(fst) ? WTERMSIG(fst) : WEXITSTATUS(fst));
	signal(SIGSYS, SIG_DFL);

	/* Threads and spawns with every signal blocked around clone3. */
	int ok = 0;
	for (int i = 0; i < 200; i++) {
		const char *r = "unset";
		if (pthread_create(&t, 0, blocked_worker, &r) == 0) {
			pthread_join(t, 0);
			ok += !strcmp(r, "ok");
		}
	}
	printf("threads: %d/200 ok\n", ok);
	ok = 0;
	for (int i = 0; i < 20; i++) {
		pid_t p;
		char *av[] = {"/bin/true", 0};
		int st;
		if (posix_spawn(&p, "/bin/true", 0, 0, av, environ) == 0 &&
		    waitpid(p, &st, 0) == p && WIFEXITED(st) && !WEXITSTATUS(st))
			ok++;
	}
	printf("posix_spawn: %d/20 ok\n", ok);

	/* A child exec'd with an empty environment (env -i). */
	pid_t p = fork();
	if (!p) {
		char *av[] = {argv[0], "child", 0}, *ev[] = {0};
		execve(argv[0], av, ev);
		_exit(127);
	}
	int st;
	waitpid(p, &st, 0);
	printf("exec-empty-env: %s %d\n", WIFEXITED(st) ? "exit" : "signal",
	       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return 0;
}
