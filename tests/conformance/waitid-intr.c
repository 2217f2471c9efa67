/* A blocking waitid(P_PIDFD) is an ordinary interruptible call: a signal
 * whose handler has no SA_RESTART ends it with EINTR (infop cleared), one
 * with SA_RESTART restarts it; the pidfd then follows the reap. */
#include <sys/time.h>
#include "common.h"

static volatile int handled;
static pid_t victim;

static void on_sig(int sig)
{
	handled++;
	if (victim)
		kill(victim, SIGKILL);
}

/* SIGALRM in 100 ms: alarm()'s timer (ITIMER_REAL), with a handler. */
static void arm(int restart, int kill_victim, pid_t c)
{
	struct sigaction sa = {.sa_handler = on_sig,
			       .sa_flags = restart ? SA_RESTART : 0};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	handled = 0;
	victim = kill_victim ? c : 0;
	struct itimerval it = {{0, 0}, {0, 100000}};
	setitimer(ITIMER_REAL, &it, NULL);
}

/* The scenario's watchdog back (scenario_init). */
static void disarm(void)
{
	struct itimerval it = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &it, NULL);
	signal(SIGALRM, on_alarm);
	alarm(30);
}

static void fields(const char *step, siginfo_t *si)
{
	out("%s: si_signo=%d si_errno=%d si_code=%d si_pid=%s si_uid=%s si_status=%d",
	    step, si->si_signo, si->si_errno, si->si_code,
	    si->si_pid ? "set" : "0", si->si_uid ? "set" : "0", si->si_status);
}

/* A child that kills CHILD after MS ms (so that a wait that cannot be
 * interrupted still ends). */
static pid_t backstop(pid_t child, int ms)
{
	fflush(stdout);
	pid_t p = track(fork());
	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		usleep(ms * 1000);
		kill(child, SIGKILL);
		_exit(0);
	}
	return p;
}

static void intr_case(const char *step, int options)
{
	siginfo_t si;
	pid_t c = spawn_pause();
	long fd = sys_pidfd_open(c, 0);
	res(step, "pidfd_open", fd, 1);
	pid_t b = backstop(c, 3000);
	arm(0, 0, c);
	memset(&si, 0x5a, sizeof si);
	long r = sys_waitid(P_PIDFD, fd, &si, options);
	int e = errno;
	disarm();
	errno = e;
	res(step, "waitid", r, 0);
	out("%s: handler ran %d", step, handled);
	fields(step, &si);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0); /* unless the wait took it */
	kill(b, SIGKILL);
	reap(b);
	close(fd);
}

int main(void)
{
	scenario_init();
	siginfo_t si;

	/* no SA_RESTART: EINTR, and the kernel clears infop's fields */
	intr_case("eintr", WEXITED);
	intr_case("eintr-wstopped", WEXITED | WSTOPPED);
	intr_case("eintr-wcontinued", WCONTINUED);

	/* SA_RESTART: the handler kills the child, the wait restarts and
	 * reports it */
	pid_t c = spawn_pause();
	long fd = sys_pidfd_open(c, 0);
	res("restart", "pidfd_open", fd, 1);
	arm(1, 1, c);
	memset(&si, 0x5a, sizeof si);
	long r = sys_waitid(P_PIDFD, fd, &si, WEXITED);
	int e = errno;
	disarm();
	errno = e;
	waitid_report("restart", r, &si, c);
	out("restart: handler ran %d", handled);
	/* the wait reaped it: the pidfd knows */
	res("restart-after", "pidfd_send_signal",
	    sys_pidfd_send_signal(fd, 0, NULL, 0), 0);
	memset(&si, 0x5a, sizeof si);
	waitid_report("restart-after", sys_waitid(P_PIDFD, fd, &si, WEXITED),
		      &si, c);
	res("restart-after", "pidfd_open", sys_pidfd_open(c, 0), 1);
	close(fd);

	/* a signal with a handler and SA_RESTART while blocked on a zombie-
	 * to-be: the blocking wait returns the exit */
	c = spawn_pause();
	fd = sys_pidfd_open(c, 0);
	pid_t b = backstop(c, 200);
	memset(&si, 0x5a, sizeof si);
	waitid_report("plain-block", sys_waitid(P_PIDFD, fd, &si, WEXITED), &si, c);
	reap(b);
	close(fd);

	/* PIDFD_NONBLOCK still answers EAGAIN instead of blocking */
	c = spawn_pause();
	fd = sys_pidfd_open(c, PIDFD_NONBLOCK);
	memset(&si, 0x5a, sizeof si);
	waitid_report("nonblock", sys_waitid(P_PIDFD, fd, &si, WEXITED), &si, c);
	fields("nonblock", &si);
	kill(c, SIGKILL);
	wait_zombie(c);
	memset(&si, 0x5a, sizeof si);
	waitid_report("nonblock-killed", sys_waitid(P_PIDFD, fd, &si, WEXITED), &si, c);
	close(fd);
	return 0;
}
