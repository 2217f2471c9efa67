/* PIDFD_THREAD (6.9): pidfd_open of a thread with and without the flag
 * (ENOENT for a non-leader without it), of the leader, of no thread
 * (ESRCH); poll readable when that thread exits while the process lives;
 * pidfd_send_signal's default scope (the thread) and PIDFD_SIGNAL_*
 * scopes on a thread pidfd; waitid(P_PIDFD) on it; ESRCH once gone. */
#include <pthread.h>
#include "common.h"

static volatile int stop, tid;
static volatile int got[64]; /* per signal: 1 = the thread, 2 = main */
static int main_tid;

static void on_sig(int sig)
{
	got[sig] |= gettid() == main_tid ? 2 : 1;
}

static void *thread_main(void *arg)
{
	tid = gettid();
	while (!stop)
		usleep(1000);
	return 0;
}

static void readable(const char *step, long fd, int ms)
{
	struct pollfd p = {.fd = (int)fd, .events = POLLIN};
	int r = poll(&p, 1, ms);
	out("%s: poll = %d readable=%s", step, r, p.revents & POLLIN ? "yes" : "no");
}

static void sig_step(const char *step, long fd, int sig, unsigned flags)
{
	got[sig] = 0;
	long r = sys_pidfd_send_signal(fd, sig, NULL, flags);
	if (r < 0) {
		out("%s: pidfd_send_signal = -1 %s", step, errname(errno));
		return;
	}
	for (int i = 0; i < 2000 && !got[sig]; i++)
		usleep(1000);
	usleep(20000);
	out("%s: pidfd_send_signal = 0, taken by %s", step,
	    got[sig] == 1 ? "the thread" : got[sig] == 2 ? "main" : got[sig] ? "both" : "nobody");
}

int main(void)
{
	scenario_init();
	main_tid = gettid();
	signal(SIGUSR1, on_sig);
	signal(SIGUSR2, on_sig);
	/* the thread takes SIGUSR1/2 only when sent to it or when main
	 * blocks them: main blocks them, so a group signal goes to the
	 * thread; a thread-directed one too. Use SIGURG for main-only. */
	pthread_t t;
	if (pthread_create(&t, NULL, thread_main, NULL))
		die("pthread_create");
	while (!tid)
		usleep(1000);
	res("non-leader", "pidfd_open", sys_pidfd_open(tid, 0), 1);
	res("non-leader-nonblock", "pidfd_open", sys_pidfd_open(tid, PIDFD_NONBLOCK), 1);
	long fd = sys_pidfd_open(tid, PIDFD_THREAD);
	res("thread", "pidfd_open", fd, 1);
	res("no-thread", "pidfd_open", sys_pidfd_open(0x3fffff00, PIDFD_THREAD), 1);
	res("bad-flags", "pidfd_open", sys_pidfd_open(tid, PIDFD_THREAD | 1), 1);
	long lfd = sys_pidfd_open(getpid(), PIDFD_THREAD);
	res("leader", "pidfd_open", lfd, 1);
	readable("thread-live", fd, 0);
	readable("leader-live", lfd, 0);

	sig_step("thread-default", fd, SIGUSR1, 0);
	sig_step("thread-scope-thread", fd, SIGUSR2, PIDFD_SIGNAL_THREAD);
	sig_step("leader-default", lfd, SIGUSR1, 0);
	sig_step("thread-zero", fd, 0, 0);
	res("thread-two-scopes", "pidfd_send_signal",
	    sys_pidfd_send_signal(fd, 0, NULL, PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP), 0);
	res("thread-group-0", "pidfd_send_signal",
	    sys_pidfd_send_signal(fd, 0, NULL, PIDFD_SIGNAL_THREAD_GROUP), 0);

	siginfo_t si;
	memset(&si, 0, sizeof si);
	res("thread-waitid", "waitid(P_PIDFD)", sys_waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG), 0);

	stop = 1;
	pthread_join(t, NULL);
	readable("thread-exited", fd, 10000);
	readable("leader-after-thread", lfd, 0);
	res("thread-exited", "pidfd_send_signal", sys_pidfd_send_signal(fd, 0, NULL, 0), 0);
	res("thread-exited-open", "pidfd_open", sys_pidfd_open(tid, PIDFD_THREAD), 1);
	close(fd);
	close(lfd);
	return 0;
}
