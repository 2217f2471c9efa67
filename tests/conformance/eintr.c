/* A signal the program ignores interrupts nothing: the kernel discards it
 * when it is sent (kernel/signal.c sig_ignored()). One it handles ends an
 * epoll_wait with EINTR, SA_RESTART or not (epoll_wait is never
 * restarted). Under ptrace the kernel queues even ignored signals for the
 * tracer, so trace mode must not let them end the program's calls.
 * Each case: epoll_wait for 600 ms on the pidfd of a child that goes on
 * living, while another child sends the signal (or exits) after 150 ms. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include "common.h"

static volatile int handled;
static void on_sig(int sig) { handled++; }

/* A child that after 150 ms sends SIG to us (0: just exits); SIGCONT
 * 100 ms later after a stop signal. */
static pid_t sender(int sig)
{
	pid_t parent = getpid();
	fflush(stdout);
	pid_t p = track(fork());
	if (p == 0) {
		usleep(150 * 1000);
		if (sig)
			kill(parent, sig);
		if (sig == SIGSTOP || sig == SIGTSTP) {
			usleep(100 * 1000);
			kill(parent, SIGCONT);
		}
		_exit(0);
	}
	return p;
}

static long quiet = -1; /* pidfd of a child that lives on */

static void quiet_wait(const char *step, int sig, void (*disp)(int), int flags)
{
	int sig_set = sig && sig != SIGSTOP ? sig : SIGCHLD;
	struct sigaction sa = {.sa_handler = disp, .sa_flags = flags}, old;
	sigemptyset(&sa.sa_mask);
	sigaction(sig_set, &sa, &old);
	handled = 0;
	int ev = quiet >= 0 ? dup((int)quiet) : eventfd(0, EFD_CLOEXEC);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event e = {.events = EPOLLIN};
	epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e);
	pid_t c = sender(sig);
	struct epoll_event got;
	errno = 0;
	int r = epoll_wait(ep, &got, 1, 600);
	int err = errno;
	out("%s: epoll_wait = %d%s%s; handler ran: %s", step, r,
	    r < 0 ? " " : "", r < 0 ? errname(err) : "", handled ? "yes" : "no");
	close(ep);
	close(ev);
	/* SIG_IGN for SIGCHLD reaps by itself: ECHILD then */
	while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
		;
	sigaction(sig_set, &old, NULL);
}

int main(void)
{
	scenario_init();
	pid_t k = spawn_pause();
	quiet = sys_pidfd_open(k, 0);
	res("quiet-child", "pidfd_open", quiet, 1);
	quiet_wait("child-exit-sigchld-default", 0, SIG_DFL, 0);
	quiet_wait("child-exit-sigchld-ignored", 0, SIG_IGN, 0);
	quiet_wait("child-exit-sigchld-handled", 0, on_sig, 0);
	quiet_wait("child-exit-sigchld-handled-restart", 0, on_sig, SA_RESTART);
	quiet_wait("sigurg-default", SIGURG, SIG_DFL, 0);
	quiet_wait("sigwinch-default", SIGWINCH, SIG_DFL, 0);
	quiet_wait("sigusr1-ignored", SIGUSR1, SIG_IGN, 0);
	quiet_wait("sigusr1-handled", SIGUSR1, on_sig, 0);
	/* a stop and SIGCONT end epoll_wait with EINTR (signal(7)); an
	 * ignored SIGTSTP stops nothing and ends nothing */
	quiet_wait("sigstop-then-sigcont", SIGSTOP, SIG_DFL, 0);
	quiet_wait("sigtstp-ignored", SIGTSTP, SIG_IGN, 0);
	kill(k, SIGKILL);
	reap(k);
	return 0;
}
