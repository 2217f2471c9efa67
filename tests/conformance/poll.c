/* Readiness of a pidfd: poll, select, epoll (level and EPOLLET) for a live,
 * exited (zombie) and reaped child; read() and write() on a pidfd. */
#include "common.h"
#include <sys/epoll.h>
#include <sys/select.h>

#define ALL_EVENTS (POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND | POLLWRNORM | POLLWRBAND | POLLRDHUP)

static void select_report(const char *step, int fd, int timeout_ms)
{
	if (fd < 0) {
		out("%s: no pidfd", step);
		return;
	}
	fd_set r, w, e;
	FD_ZERO(&r); FD_ZERO(&w); FD_ZERO(&e);
	FD_SET(fd, &r); FD_SET(fd, &w); FD_SET(fd, &e);
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int n = select(fd + 1, &r, NULL, &e, &tv);
	if (n < 0) {
		out("%s: select = -1 %s", step, errname(errno));
		return;
	}
	out("%s: select = %d readable=%s except=%s", step, n,
	    FD_ISSET(fd, &r) ? "yes" : "no", FD_ISSET(fd, &e) ? "yes" : "no");
}

static const char *epname(unsigned ev)
{
	/* EPOLLIN etc. have the POLL* values */
	static char buf[256];
	const char *p = pollname((int)ev);
	buf[0] = 0;
	if (strcmp(p, "0") == 0)
		return p;
	for (char *q = buf; *p; ) {
		if (strncmp(p, "POLL", 4) == 0)
			*q++ = 'E';
		*q++ = *p++;
		*q = 0;
	}
	return buf;
}

static void epoll_report(const char *step, int ep, int timeout_ms)
{
	if (ep < 0) {
		out("%s: no epoll", step);
		return;
	}
	struct epoll_event evs[4];
	memset(evs, 0, sizeof evs);
	int n = epoll_wait(ep, evs, 4, timeout_ms);
	if (n < 0)
		out("%s: epoll_wait = -1 %s", step, errname(errno));
	else if (n == 0)
		out("%s: epoll_wait = 0", step);
	else
		out("%s: epoll_wait = %d events = %s data = %s", step, n,
		    epname(evs[0].events), evs[0].data.u64 == 0x1234567890abcdefULL ? "given" : "other");
}

static int epoll_for(const char *step, int fd, unsigned events)
{
	if (fd < 0) {
		out("%s: no pidfd", step);
		return -1;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = events, .data.u64 = 0x1234567890abcdefULL };
	int r = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	res(step, "epoll_ctl(ADD)", r, 0);
	return ep;
}

static void rw_report(const char *step, int fd)
{
	if (fd < 0) {
		out("%s: no pidfd", step);
		return;
	}
	char buf[16] = "12345678";
	res(step, "read", read(fd, buf, 8), 0);
	res(step, "write", write(fd, buf, 8), 0);
}

int main(void)
{
	scenario_init();

	pid_t c = spawn_pause();
	long fd = sys_pidfd_open(c, 0);
	res("live", "pidfd_open", fd, 1);
	long fdnb = sys_pidfd_open(c, PIDFD_NONBLOCK);
	res("live-nonblock", "pidfd_open", fdnb, 1);

	/* live: nothing ready */
	poll_report("poll-live", fd, POLLIN, 0);
	poll_report("poll-live-all", fd, ALL_EVENTS, 0);
	poll_report("poll-live-timeout", fd, POLLIN, 50);
	select_report("select-live", fd, 0);
	int ep_lt = epoll_for("epoll-lt-add", fd, EPOLLIN);
	int ep_et = epoll_for("epoll-et-add", fd, EPOLLIN | EPOLLET);
	epoll_report("epoll-lt-live", ep_lt, 0);
	epoll_report("epoll-et-live", ep_et, 0);
	rw_report("rw-live", fd);
	rw_report("rw-live-nonblock", fdnb);

	/* zombie */
	kill(c, SIGKILL);
	wait_zombie(c);
	poll_report("poll-zombie", fd, POLLIN, 5000);
	poll_report("poll-zombie-again", fd, POLLIN, 0);
	poll_report("poll-zombie-all", fd, ALL_EVENTS, 5000);
	poll_report("poll-zombie-nonblock", fdnb, POLLIN, 5000);
	select_report("select-zombie", fd, 5000);
	epoll_report("epoll-lt-zombie", ep_lt, 5000);
	epoll_report("epoll-lt-zombie-again", ep_lt, 0);
	epoll_report("epoll-et-zombie", ep_et, 5000);
	epoll_report("epoll-et-zombie-again", ep_et, 0);
	/* registered after the exit: reported at once */
	int ep_et2 = epoll_for("epoll-et-late-add", fd, EPOLLIN | EPOLLET);
	epoll_report("epoll-et-late-zombie", ep_et2, 5000);
	epoll_report("epoll-et-late-zombie-again", ep_et2, 0);
	rw_report("rw-zombie", fd);

	/* reaped */
	reap(c);
	poll_report("poll-reaped", fd, POLLIN, 5000);
	poll_report("poll-reaped-all", fd, ALL_EVENTS, 5000);
	select_report("select-reaped", fd, 5000);
	epoll_report("epoll-lt-reaped", ep_lt, 5000);
	epoll_report("epoll-et-reaped", ep_et, 0);
	rw_report("rw-reaped", fd);

	/* a pidfd opened on a zombie, and a second exit seen by a fresh pidfd */
	pid_t d = spawn_exit(0);
	wait_zombie(d);
	long fdz = sys_pidfd_open(d, 0);
	res("zombie-open", "pidfd_open", fdz, 1);
	poll_report("poll-opened-on-zombie", fdz, POLLIN, 5000);
	reap(d);

	/* pidfd of ourselves: never ready while we run */
	long self = sys_pidfd_open(getpid(), 0);
	res("self", "pidfd_open", self, 1);
	poll_report("poll-self", self, POLLIN, 0);
	return 0;
}
