/* A child that shares its parent's fd table (clone(CLONE_FILES) without
 * CLONE_VM: a process of its own with the parent's numbers) and makes a
 * pidfd call: the library resets its state in the child (the threads and
 * the table lock are the parent's), and must not close the parent's
 * files while it does: the table it would close them in is the parent's.
 * Seen by the fuzzer: the parent's proc connector socket closed under it,
 * "warn: the program closed sysfill's fd 769". Observable: what sysfill
 * writes to stderr (nothing, as without it), and the parent's pidfd of
 * another process still becomes readable at that process's exit. */
#include "common.h"
#include <sched.h>
#include <time.h>

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int gp[2], rp[2], ep[2];
	if (pipe2(gp, O_CLOEXEC) < 0 || pipe2(rp, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC | O_NONBLOCK) < 0)
		die("pipe2");
	/* a non-child: a grandchild that waits on a pipe */
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
	pid_t g = -1;
	if (read(rp[0], &g, sizeof g) != sizeof g)
		die("read grandchild");
	waitpid(mid, NULL, 0);
	close(gp[0]);
	int fd = (int)sys_pidfd_open(g, 0);
	res("non-child", "pidfd_open", fd, 1);
	if (fd < 0)
		return 0;
	/* from here sysfill's warnings go into the pipe */
	int saved = dup(2);
	dup2(ep[1], 2);
	pid_t c = (pid_t)syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
	if (c == 0) {
		long s = syscall(434, getpid(), 0);
		if (s >= 0)
			close((int)s);
		_exit(s >= 0 ? 0 : 1);
	}
	int st = 0;
	waitpid(c, &st, 0);
	out("clone(CLONE_FILES) child: exit %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	/* the parent's helpers look at their files every 100 ms */
	msleep(400);
	if (write(gp[1], "x", 1) != 1)
		die("write");
	poll_report("non-child-exit", fd, POLLIN, 5000);
	msleep(200);
	dup2(saved, 2);
	close(saved);
	char buf[512];
	ssize_t n = read(ep[0], buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	out("sysfill's warnings: %s", n > 0 ? buf : "none");
	close(fd);
	return 0;
}
