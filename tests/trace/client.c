/* Static test client for trace mode (built with -static: no library can
 * help it, only the supervisor). Raw system calls; one line per
 * observable, no pids or fd numbers, so native and traced runs compare.
 *
 *   client exit N          exit with status N
 *   client raise SIG       die by signal SIG
 *   client handler         print "ready", then report SIGTERM/SIGINT/SIGHUP
 *   client sigsend PID SIG pidfd_open(PID) + pidfd_send_signal(SIG)
 *   client calls N         a child's pidfd, N pidfd_send_signal(0) and N
 *                          waitid(WEXITED|WNOHANG) on it: how many failed
 *   client stopcont        a child stopped, continued, killed through a pidfd
 *   client ptrace          TRACEME, ATTACH, SEIZE: what the program gets
 *   client threads         pidfd calls from 4 threads, exec from a thread
 *   client exec-child      (after exec) pidfd calls on self and a child
 *   client leak            fds of this process and of its parent (the
 *                          supervisor) after a first pidfd and after 500
 *                          more
 *   client sigquery N      N children querying the SIGSYS action in a loop,
 *                          each sent SIGTERM: how many did not die of it
 *                          (gVisor loses a signal that comes while its
 *                          target waits in a seccomp stop)
 *   client spawnkill N [fork]
 *                          N children spawned (posix_spawn, or fork +
 *                          execve) as "client sleep", each sent SIGTERM
 *                          0-950 us after the spawn returns: how many did
 *                          not die
 *                          of it (gVisor leaves a signal sent in a ptrace
 *                          stop, here the child's exec stop or its first
 *                          stop, unnoticed)
 *   client sleep           pause() for ever
 *   client execrace NS     the main thread makes pidfd_send_signal(self, 0)
 *                          calls without end while another thread, NS
 *                          nanoseconds in, execs "client exit 7" */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <dirent.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static long popen_(long pid, long fl) { return syscall(434, pid, fl); }
static long psend(long fd, long sig) { return syscall(424, fd, sig, NULL, 0); }
static long pwaitid(long fd, siginfo_t *si, long opt)
{
	return syscall(SYS_waitid, P_PIDFD, fd, si, opt, NULL);
}

static void res(const char *what, long r)
{
	if (r < 0)
		printf("%s = -1 %s\n", what, strerrorname_np(errno));
	else
		printf("%s = ok\n", what);
	fflush(stdout);
}

static void on_sig(int sig)
{
	char buf[64];
	int n = snprintf(buf, sizeof buf, "got %s\n", sigabbrev_np(sig));
	if (write(1, buf, (size_t)n) < 0) {
	}
	_exit(0);
}

static int count_fds(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return -1000;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Did child C die of SIGTERM within 2 s? Else it is killed and reaped. */
static int died_of_term(pid_t c)
{
	int st = 0;
	for (int t = 0; t < 2000; t++) {
		if (waitpid(c, &st, WNOHANG) == c)
			return WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM;
		usleep(1000);
	}
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	return 0;
}

static void *exec_later(void *arg)
{
	struct timespec d = {0, *(long *)arg};
	nanosleep(&d, NULL);
	execl("/proc/self/exe", "client", "exit", "7", (char *)NULL);
	_exit(1);
}

static int tid_fds[4];
static void *thr(void *arg)
{
	long i = (long)arg;
	long fd = popen_(getpid(), 0);
	tid_fds[i] = fd >= 0 && psend(fd, 0) == 0;
	if (fd >= 0)
		close((int)fd);
	return NULL;
}

static void *exec_thr(void *arg)
{
	char **argv = arg;
	execl("/proc/self/exe", argv[0], "exec-child", (char *)NULL);
	printf("exec from thread failed: %s\n", strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *cmd = argc > 1 ? argv[1] : "";
	if (!strcmp(cmd, "exit") && argc > 2)
		return atoi(argv[2]);
	if (!strcmp(cmd, "raise") && argc > 2) {
		int s = atoi(argv[2]);
		signal(s, SIG_DFL);
		raise(s);
		return 99;
	}
	if (!strcmp(cmd, "handler")) {
		signal(SIGTERM, on_sig);
		signal(SIGINT, on_sig);
		signal(SIGHUP, on_sig);
		printf("ready\n");
		sleep(20);
		printf("no signal\n");
		return 1;
	}
	if (!strcmp(cmd, "sigsend") && argc > 3) {
		long fd = popen_(atol(argv[2]), 0);
		res("pidfd_open", fd);
		res("pidfd_send_signal", psend(fd, atoi(argv[3])));
		return 0;
	}
	if (!strcmp(cmd, "calls") && argc > 2) {
		pid_t c = fork();
		if (c == 0) {
			pause();
			_exit(0);
		}
		long fd = popen_(c, 0);
		res("pidfd_open", fd);
		int n = atoi(argv[2]), bad = 0;
		for (int i = 0; i < n; i++) {
			siginfo_t si;
			bad += psend(fd, 0) != 0;
			bad += pwaitid(fd, &si, WEXITED | WNOHANG) != 0 || si.si_pid;
		}
		printf("failed: %d\n", bad);
		/* a second pidfd: the steady cost of pidfd_open */
		long fd2 = popen_(c, 0);
		res("pidfd_open", fd2);
		if (fd2 >= 0)
			close((int)fd2);
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);
		return 0;
	}
	if (!strcmp(cmd, "stopcont")) {
		pid_t c = fork();
		if (c == 0) {
			for (;;)
				pause();
		}
		long fd = popen_(c, 0);
		res("pidfd_open", fd);
		int st;
		kill(c, SIGSTOP);
		pid_t w = waitpid(c, &st, WUNTRACED);
		printf("waitpid: %s %s\n", w == c && WIFSTOPPED(st) ? "stopped" : "?",
		       WIFSTOPPED(st) ? sigabbrev_np(WSTOPSIG(st)) : "-");
		kill(c, SIGCONT);
		w = waitpid(c, &st, WCONTINUED);
		printf("waitpid: %s\n", w == c && WIFCONTINUED(st) ? "continued" : "?");
		res("pidfd_send_signal(SIGKILL)", psend(fd, SIGKILL));
		siginfo_t si;
		memset(&si, 0, sizeof si);
		long r = pwaitid(fd, &si, WEXITED);
		res("waitid(P_PIDFD)", r);
		printf("waitid: code=%s status=%s\n",
		       si.si_code == CLD_KILLED ? "CLD_KILLED" : "other",
		       sigabbrev_np(si.si_status));
		return 0;
	}
	if (!strcmp(cmd, "ptrace")) {
		res("ptrace(TRACEME)", ptrace(PTRACE_TRACEME, 0, 0, 0));
		pid_t c = fork();
		if (c == 0) {
			for (;;)
				pause();
		}
		res("ptrace(ATTACH)", ptrace(PTRACE_ATTACH, c, 0, 0));
		res("ptrace(SEIZE)", ptrace(PTRACE_SEIZE, c, 0, 0));
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);
		return 0;
	}
	if (!strcmp(cmd, "threads")) {
		pthread_t t[4];
		for (long i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, thr, (void *)i);
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
		printf("threads: %d of 4 opened and signalled themselves\n",
		       tid_fds[0] + tid_fds[1] + tid_fds[2] + tid_fds[3]);
		pthread_t e;
		pthread_create(&e, NULL, exec_thr, argv);
		pthread_join(e, NULL); /* never returns: exec replaces us */
		return 1;
	}
	if (!strcmp(cmd, "exec-child")) {
		printf("exec-child: running, pid kept = %s\n",
		       syscall(SYS_gettid) == getpid() ? "yes" : "no");
		long fd = popen_(getpid(), 0);
		res("exec-child pidfd_open(self)", fd);
		res("exec-child pidfd_send_signal(self, 0)", psend(fd, 0));
		pid_t c = fork();
		if (c == 0)
			_exit(5);
		long cf = popen_(c, 0);
		siginfo_t si;
		memset(&si, 0, sizeof si);
		res("exec-child waitid(P_PIDFD)", pwaitid(cf, &si, WEXITED));
		printf("exec-child: child status %d\n", si.si_status);
		return 0;
	}
	if (!strcmp(cmd, "sigquery") && argc > 2) {
		int n = atoi(argv[2]), lost = 0;
		for (int i = 0; i < n; i++) {
			pid_t c = fork();
			if (c == 0) {
				unsigned long old[4];
				for (;;)
					syscall(SYS_rt_sigaction, SIGSYS, NULL, old, 8);
			}
			usleep(2000);
			kill(c, SIGTERM);
			lost += !died_of_term(c);
		}
		printf("sigquery: %d of %d not killed by SIGTERM\n", lost, n);
		return lost != 0;
	}
	if (!strcmp(cmd, "sleep")) {
		for (;;)
			pause();
	}
	if (!strcmp(cmd, "spawnkill") && argc > 2) {
		int n = atoi(argv[2]), lost = 0;
		int use_fork = argc > 3 && !strcmp(argv[3], "fork");
		char *args[] = {argv[0], "sleep", NULL};
		for (int i = 0; i < n; i++) {
			pid_t c;
			if (use_fork) {
				c = fork();
				if (c == 0) {
					execv("/proc/self/exe", args);
					_exit(127);
				}
			} else if (posix_spawn(&c, "/proc/self/exe", NULL, NULL,
					       args, NULL)) {
				c = -1;
			}
			if (c < 0) {
				printf("spawnkill: spawn failed\n");
				return 1;
			}
			/* 0 to 950 us later: the child's stops come in there */
			struct timespec d = {0, (i % 20) * 50000L};
			nanosleep(&d, NULL);
			kill(c, SIGTERM);
			lost += !died_of_term(c);
		}
		printf("spawnkill: %d of %d not killed by SIGTERM\n", lost, n);
		return lost != 0;
	}
	if (!strcmp(cmd, "execrace") && argc > 2) {
		static long ns;
		ns = atol(argv[2]) % 1000000000L;
		long fd = popen_(getpid(), 0);
		pthread_t t;
		if (fd < 0 || pthread_create(&t, NULL, exec_later, &ns))
			return 3;
		for (;;)
			psend(fd, 0);
	}
	if (!strcmp(cmd, "leak")) {
		char pfd[64];
		snprintf(pfd, sizeof pfd, "/proc/%d/fd", (int)getppid());
		struct timespec ts = {0, 400000000}; /* the supervisor's 100 ms check */
		/* counted after a first pidfd of a child since reaped: trace
		 * mode's socket in this process and its end, listener and
		 * sentry in the supervisor are made once (docs/design.md) */
		pid_t c = fork();
		if (c == 0)
			_exit(0);
		long f0 = popen_(c, 0);
		if (f0 >= 0)
			close((int)f0);
		waitpid(c, NULL, 0);
		nanosleep(&ts, NULL);
		int mine0 = count_fds("/proc/self/fd"), sup0 = count_fds(pfd);
		c = fork();
		if (c == 0) {
			for (;;)
				pause();
		}
		for (int i = 0; i < 500; i++) {
			long fd = popen_(c, 0);
			if (fd < 0 || psend(fd, 0) < 0) {
				printf("leak: call %d failed: %s\n", i, strerror(errno));
				break;
			}
			close((int)fd);
		}
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);
		nanosleep(&ts, NULL);
		printf("leak: own fds %+d, parent fds %+d\n",
		       count_fds("/proc/self/fd") - mine0, count_fds(pfd) - sup0);
		return 0;
	}
	fprintf(stderr, "usage: client CMD ...\n");
	return 2;
}
