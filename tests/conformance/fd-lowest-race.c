/* The lowest free fd number, while the library's helper threads work:
 * a single-threaded program's open always gets the lowest free number,
 * and every number below it stays in use (issue 12, item 2). The library
 * reads /proc from its helper threads (a waiter at each child's exit, the
 * monitor every tick for the pidfds of other processes); none of that may
 * ever hold a number of the program's, even for a moment.
 *
 * For about 2 seconds: pidfds of the process itself and of a non-child
 * stay open (the monitor polls them), children are made, get a pidfd
 * (a waiter each) and exit, and meanwhile the program opens and closes
 * files, pidfds and eventfds, checking each number against the lowest
 * free one. Prints the count of numbers that were not the lowest (0, as
 * natively) and the count of checks (by rounds, not by number). */
#include "common.h"
#include <sys/eventfd.h>
#include <time.h>

static int lowest_free(void)
{
	for (int n = 0; n < 4096; n++)
		if (fcntl(n, F_GETFD) < 0 && errno == EBADF)
			return n;
	return -1;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static int bad, checks;
static char first_bad[128];

/* FD was just made where LW was the lowest free number. */
static void check(const char *what, int fd, int lw)
{
	checks++;
	if (fd >= 0 && fd != lw) {
		if (!bad++)
			snprintf(first_bad, sizeof first_bad, "%s got %d, lowest free was %d", what, fd, lw);
	}
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int keep[2];
	/* a non-child: a grandchild that waits on a pipe; its pid comes over
	 * another pipe */
	int gp[2], rp[2];
	if (pipe2(gp, O_CLOEXEC) < 0 || pipe2(rp, O_CLOEXEC) < 0)
		return 1;
	pid_t mid = fork();
	if (mid == 0) {
		pid_t g = fork();
		if (g == 0) {
			char c;
			close(gp[1]);
			if (read(gp[0], &c, 1) < 0)
				_exit(1);
			_exit(0);
		}
		_exit(write(rp[1], &g, sizeof g) == sizeof g ? 0 : 1);
	}
	keep[0] = (int)sys_pidfd_open(getpid(), 0);
	pid_t gc = -1;
	if (read(rp[0], &gc, sizeof gc) != sizeof gc)
		gc = -1;
	waitpid(mid, NULL, 0);
	close(gp[0]);
	close(rp[0]);
	close(rp[1]);
	res("self", "pidfd_open", keep[0], 1);
	if (keep[0] < 0)
		return 0; /* no pidfds here (gVisor without the library) */
	keep[1] = gc > 0 ? (int)sys_pidfd_open(gc, 0) : -1;
	res("non-child", "pidfd_open", keep[1], 1);

	long end = now_ms() + 2000;
	int rounds = 0;
	while (now_ms() < end || rounds < 20) {
		rounds++;
		pid_t c[4];
		int pf[4];
		for (int i = 0; i < 4; i++) {
			c[i] = fork();
			if (c[i] == 0)
				_exit(i);
			int lw = lowest_free();
			pf[i] = (int)sys_pidfd_open(c[i], 0);
			checks++;
			if (pf[i] >= 0 && pf[i] != lw && !bad++)
				snprintf(first_bad, sizeof first_bad, "pidfd_open got %d, lowest free was %d", pf[i], lw);
		}
		/* the children exit now: the library's waiters wake */
		for (int k = 0; k < 200; k++) {
			int lw = lowest_free();
			switch (k % 3) {
			case 0: check("open", open("/dev/null", O_RDONLY | O_CLOEXEC), lw); break;
			case 1: check("eventfd", eventfd(0, EFD_CLOEXEC), lw); break;
			case 2: check("pidfd_open(self)", (int)sys_pidfd_open(getpid(), 0), lw); break;
			}
		}
		for (int i = 0; i < 4; i++) {
			waitpid(c[i], NULL, 0);
			close(pf[i]);
		}
	}
	out("numbers not the lowest free: %d%s%s%s", bad, bad ? " (first: " : "", bad ? first_bad : "", bad ? ")" : "");
	if (write(gp[1], "x", 1) < 0)
		return 1;
	close(gp[1]);
	close(keep[0]);
	if (keep[1] >= 0)
		close(keep[1]);
	return 0;
}
