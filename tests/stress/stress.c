/* Stress test of the pidfd calls through raw syscalls: THREADS threads fork
 * CHILDREN children in total. For each child its thread opens a pidfd, may
 * send it SIGTERM or SIGUSR1 (or take one of its fds with pidfd_getfd), polls
 * the pidfd for the exit and reaps it with waitid(P_PIDFD). A child reports
 * the signal it got through its exit status, so a signal delivered to the
 * wrong process shows up as a wrong status (or, in the parent, as a stray).
 *
 * At the end: every child reaped with the expected status, no poll timeout
 * (lost notification), no child left (zombie or not), fd count and thread
 * count back to their start values (the library may release its fds and
 * threads lazily: waits up to 1 s and says how long it took).
 *
 * usage: stress [THREADS [CHILDREN [EXTRA_THREADS [EXTRA_FDS]]]]
 *   EXTRA_THREADS: threads allowed to remain at the end (a library's
 *   documented waiter pool and monitor thread); default 0.
 *   EXTRA_FDS: fds allowed to remain (trace mode's documented socket in
 *   each process that opened a pidfd); default 0.
 * Prints "stress: ..." figures, then "OK" (exit 0) or "FAIL: ..." lines
 * (exit 1). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* x86_64 numbers, spelled out: the build headers may predate the calls. */
#define NR_pidfd_send_signal 424
#define NR_pidfd_open 434
#define NR_pidfd_getfd 438
#define NR_waitid 247
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define POLL_MS 5000 /* no exit notification within this: lost */
#define CODE_NATURAL 7
#define CODE_TERM 40
#define CODE_USR1 41
#define CODE_NEVER 99 /* the child waited 8 s and no signal came */

enum { ACT_NATURAL, ACT_TERM, ACT_USR1, ACT_GETFD_TERM, ACT_N };

static pid_t main_pid;
#include "proc-counts.h"
static atomic_int stray_signals; /* signals that reached this process */
static atomic_int done_threads;
static char pidfd_kind[128]; /* readlink of the first pidfd */

struct result {
	int started, reaped, bad_status, lost, errors, getfd_ok;
	long max_lat_us;
	char first_error[200];
};

struct worker {
	pthread_t th;
	int id, n;
	struct result r;
};

static void on_signal(int sig)
{
	if (syscall(SYS_getpid) != main_pid)
		_exit(sig == SIGTERM ? CODE_TERM : CODE_USR1);
	atomic_fetch_add(&stray_signals, 1);
}


static void err(struct result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void err(struct result *r, const char *fmt, ...)
{
	if (r->errors++ == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->first_error, sizeof r->first_error, fmt, ap);
		va_end(ap);
	}
}

/* The child: only async-signal-safe calls, then _exit. */
static void child(int act, unsigned delay_us)
{
	struct timespec ts;
	if (act == ACT_NATURAL) {
		ts.tv_sec = 0;
		ts.tv_nsec = delay_us * 1000L;
		nanosleep(&ts, NULL);
		_exit(CODE_NATURAL);
	}
	ts.tv_sec = 8;
	ts.tv_nsec = 0;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	_exit(CODE_NEVER);
}

static void one_child(struct worker *w, int k, unsigned *seed, int pipe_r)
{
	struct result *r = &w->r;
	*seed = *seed * 1103515245u + 12345u;
	int act = (w->id + k) % ACT_N;
	unsigned delay = (*seed >> 16) % 2000;
	pid_t pid = fork();
	if (pid < 0) {
		err(r, "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0)
		child(act, delay);
	r->started++;
	int fd = syscall(NR_pidfd_open, pid, 0);
	if (fd < 0) {
		err(r, "pidfd_open(%d): %s", pid, strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return;
	}
	if (w->id == 0 && k == 0) {
		char path[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		if (readlink(path, pidfd_kind, sizeof pidfd_kind - 1) < 0)
			snprintf(pidfd_kind, sizeof pidfd_kind, "?(%s)", strerror(errno));
	}
	int sig = 0, expect = CODE_NATURAL;
	if (act == ACT_TERM || act == ACT_GETFD_TERM)
		sig = SIGTERM, expect = CODE_TERM;
	else if (act == ACT_USR1)
		sig = SIGUSR1, expect = CODE_USR1;
	if (act == ACT_GETFD_TERM) {
		/* The child is alive (it waits for the signal) and holds our
		 * pipe: the fd we get must be the same pipe. */
		int got = syscall(NR_pidfd_getfd, fd, pipe_r, 0);
		struct stat a, b;
		if (got < 0) {
			err(r, "pidfd_getfd(%d): %s", pid, strerror(errno));
		} else {
			if (fstat(got, &a) || fstat(pipe_r, &b) || a.st_ino != b.st_ino ||
			    a.st_dev != b.st_dev)
				err(r, "pidfd_getfd(%d) gave another file", pid);
			else if (!(fcntl(got, F_GETFD) & FD_CLOEXEC))
				err(r, "pidfd_getfd(%d) fd without FD_CLOEXEC", pid);
			else
				r->getfd_ok++;
			close(got);
		}
	}
	/* sig 0 for the natural ones: alive or zombie, either way 0. */
	if (syscall(NR_pidfd_send_signal, fd, sig, NULL, 0) != 0)
		err(r, "pidfd_send_signal(%d, %d): %s", pid, sig, strerror(errno));
	long t0 = now_us();
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, POLL_MS);
	long lat = now_us() - t0;
	if (n != 1 || !(p.revents & POLLIN)) {
		r->lost++;
		err(r, "poll on pidfd of %d: %d revents %#x after %ld ms", pid, n,
		    p.revents, lat / 1000);
		kill(pid, SIGKILL);
	} else if (lat > r->max_lat_us) {
		r->max_lat_us = lat;
	}
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (syscall(NR_waitid, P_PIDFD, fd, &si, WEXITED, NULL) != 0) {
		err(r, "waitid(P_PIDFD) for %d: %s", pid, strerror(errno));
		waitpid(pid, NULL, 0);
	} else {
		r->reaped++;
		if (si.si_pid != pid || si.si_signo != SIGCHLD ||
		    si.si_code != CLD_EXITED || si.si_status != expect) {
			r->bad_status++;
			err(r, "child %d (action %d): si_pid %d signo %d code %d status %d, expected exit %d",
			    pid, act, si.si_pid, si.si_signo, si.si_code, si.si_status,
			    expect);
		}
	}
	errno = 0;
	if (syscall(NR_pidfd_send_signal, fd, 0, NULL, 0) != -1 || errno != ESRCH)
		err(r, "pidfd_send_signal after reap of %d: %s", pid, strerror(errno));
	close(fd);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned seed = 0x5eed + w->id;
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC)) {
		err(&w->r, "pipe2: %s", strerror(errno));
	} else {
		for (int k = 0; k < w->n; k++)
			one_child(w, k, &seed, pipefd[0]);
		close(pipefd[0]);
		close(pipefd[1]);
	}
	atomic_fetch_add(&done_threads, 1);
	return NULL;
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 8;
	int nchildren = argc > 2 ? atoi(argv[2]) : 1000;
	int extra = argc > 3 ? atoi(argv[3]) : 0;
	int extra_fds = argc > 4 ? atoi(argv[4]) : 0;
	if (nthreads < 1 || nchildren < nthreads) {
		fprintf(stderr, "usage: stress [THREADS [CHILDREN [EXTRA_THREADS]]]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	main_pid = getpid();
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	int fds0 = count_fds(), thr0 = count_threads();
	printf("stress: %d threads, %d children; start: %d fds, %d threads\n",
	       nthreads, nchildren, fds0, thr0);
	struct worker *w = calloc(nthreads, sizeof *w);
	long t0 = now_us();
	for (int i = 0; i < nthreads; i++) {
		w[i].id = i;
		w[i].n = nchildren / nthreads + (i < nchildren % nthreads);
		if (pthread_create(&w[i].th, NULL, worker_main, &w[i])) {
			printf("FAIL: pthread_create: %s\n", strerror(errno));
			return 1;
		}
	}
	int peak_thr = 0, peak_fds = 0;
	while (atomic_load(&done_threads) < nthreads) {
		int t = count_threads(), f = count_fds();
		if (t > peak_thr)
			peak_thr = t;
		if (f > peak_fds)
			peak_fds = f;
		usleep(20000);
	}
	struct result tot = { 0 };
	const char *first = NULL;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(w[i].th, NULL);
		struct result *r = &w[i].r;
		tot.started += r->started;
		tot.reaped += r->reaped;
		tot.bad_status += r->bad_status;
		tot.lost += r->lost;
		tot.errors += r->errors;
		tot.getfd_ok += r->getfd_ok;
		if (r->max_lat_us > tot.max_lat_us)
			tot.max_lat_us = r->max_lat_us;
		if (r->errors && !first)
			first = r->first_error;
	}
	long dur = now_us() - t0;
	printf("stress: pidfd-kind=%s\n", pidfd_kind);
	printf("stress: %.2f s; %d started, %d reaped, %d bad status, %d lost, %d errors, %d pidfd_getfd ok, %d stray signals; slowest exit poll %.1f ms\n",
	       dur / 1e6, tot.started, tot.reaped, tot.bad_status, tot.lost,
	       tot.errors, tot.getfd_ok, atomic_load(&stray_signals),
	       tot.max_lat_us / 1e3);

	int bad = 0;
	if (tot.errors) {
		printf("FAIL: %d errors, first: %s\n", tot.errors, first);
		bad = 1;
	}
	if (tot.started != nchildren || tot.reaped != nchildren) {
		printf("FAIL: %d of %d children started, %d reaped\n", tot.started,
		       nchildren, tot.reaped);
		bad = 1;
	}
	if (atomic_load(&stray_signals)) {
		printf("FAIL: %d signals reached the parent\n", atomic_load(&stray_signals));
		bad = 1;
	}
	char list[1024];
	int left = count_children(list, sizeof list);
	errno = 0;
	int w_rc = waitpid(-1, NULL, WNOHANG);
	int w_errno = errno;
	if (left != 0 || w_rc != -1 || w_errno != ECHILD) {
		printf("FAIL: children left: %d in /proc:%s; waitpid(-1, WNOHANG) = %d (%s)\n",
		       left, list, w_rc, strerror(w_errno));
		bad = 1;
	}
	int fds1, thr1;
	long fd_ms = settle(count_fds, fds0 + extra_fds, &fds1);
	long thr_ms = settle(count_threads, thr0 + extra, &thr1);
	printf("stress: fds start %d peak %d end %d (settled %s%ld ms); threads start %d peak %d end %d, allowed %d (settled %s%ld ms)\n",
	       fds0, peak_fds, fds1, fd_ms < 0 ? "never, " : "in ", fd_ms < 0 ? 1000 : fd_ms,
	       thr0, peak_thr, thr1, thr0 + extra, thr_ms < 0 ? "never, " : "in ",
	       thr_ms < 0 ? 1000 : thr_ms);
	if (fd_ms < 0) {
		printf("FAIL: fd count %d, was %d at start\n", fds1, fds0);
		bad = 1;
	}
	if (thr_ms < 0) {
		printf("FAIL: thread count %d, was %d at start (+%d allowed)\n", thr1,
		       thr0, extra);
		bad = 1;
	}
	if (!bad)
		printf("OK\n");
	return bad;
}
