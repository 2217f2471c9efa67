/* pidfd_open: who can be opened, which flags, what the fd looks like. */
#include "common.h"
#include <pthread.h>

static void fdflags(const char *step, int fd)
{
	if (fd < 0) {
		out("%s: no pidfd", step);
		return;
	}
	int fl = fcntl(fd, F_GETFL);
	int fd_fl = fcntl(fd, F_GETFD);
	int acc = fl & O_ACCMODE;
	out("%s: accmode=%s nonblock=%s cloexec=%s", step,
	    acc == O_RDWR ? "O_RDWR" : acc == O_RDONLY ? "O_RDONLY" : "O_WRONLY",
	    fl & O_NONBLOCK ? "yes" : "no", fd_fl & FD_CLOEXEC ? "yes" : "no");
}

static int tid_pipe[2], go_pipe[2];
static void *thread_main(void *arg)
{
	pid_t tid = gettid();
	if (write(tid_pipe[1], &tid, sizeof tid) != sizeof tid)
		return NULL;
	char c;
	if (read(go_pipe[0], &c, 1) < 0)
		return NULL;
	return NULL;
}

int main(void)
{
	scenario_init();
	long fd;

	/* child */
	pid_t c = spawn_pause();
	fd = sys_pidfd_open(c, 0);
	res("open-child", "pidfd_open", fd, 1);
	fdflags("open-child-flags", fd);
	if (fd >= 0) close(fd);

	/* PIDFD_NONBLOCK */
	fd = sys_pidfd_open(c, PIDFD_NONBLOCK);
	res("open-nonblock", "pidfd_open", fd, 1);
	fdflags("open-nonblock-flags", fd);
	if (fd >= 0) close(fd);

	/* unknown flags; with a bad pid too: flags are checked first */
	res("open-bad-flags", "pidfd_open", sys_pidfd_open(c, 1), 1);
	res("open-bad-flags-high", "pidfd_open", sys_pidfd_open(c, 1u << 30), 1);
	res("open-bad-flags-bad-pid", "pidfd_open", sys_pidfd_open(-1, 1u << 30), 1);
	res("open-flag-cloexec", "pidfd_open", sys_pidfd_open(c, O_CLOEXEC), 1);

	/* pid -1, 0, INT_MIN; pid with junk in the upper 32 bits (int arg) */
	res("open-pid-minus1", "pidfd_open", sys_pidfd_open(-1, 0), 1);
	res("open-pid-0", "pidfd_open", sys_pidfd_open(0, 0), 1);
	res("open-pid-intmin", "pidfd_open", sys_pidfd_open(INT_MIN, 0), 1);
	fd = sys_pidfd_open((long)c | (0x5aL << 32), 0);
	res("open-pid-upper-junk", "pidfd_open", fd, 1);
	if (fd >= 0) close(fd);
	fd = sys_pidfd_open(c, 0xdead00000000UL | PIDFD_NONBLOCK);
	res("open-flags-upper-junk", "pidfd_open", fd, 1);
	fdflags("open-flags-upper-junk-flags", fd);
	if (fd >= 0) close(fd);

	/* self */
	fd = sys_pidfd_open(getpid(), 0);
	res("open-self", "pidfd_open", fd, 1);
	if (fd >= 0) close(fd);

	/* non-child */
	struct gc g = spawn_grandchild();
	fd = sys_pidfd_open(g.pid, 0);
	res("open-nonchild", "pidfd_open", fd, 1);
	if (fd >= 0) close(fd);
	stop_grandchild(&g);

	/* zombie, then reaped */
	kill(c, SIGKILL);
	wait_zombie(c);
	fd = sys_pidfd_open(c, 0);
	res("open-zombie", "pidfd_open", fd, 1);
	if (fd >= 0) close(fd);
	reap(c);
	res("open-reaped", "pidfd_open", sys_pidfd_open(c, 0), 1);

	/* exited child, fd opened while alive, still an fd after reap */
	pid_t e = spawn_pause();
	fd = sys_pidfd_open(e, 0);
	kill(e, SIGKILL);
	reap(e);
	fdflags("open-then-reap-flags", fd);
	if (fd >= 0) close(fd);

	/* a non-leader thread */
	pthread_t t;
	if (pipe2(tid_pipe, O_CLOEXEC) || pipe2(go_pipe, O_CLOEXEC))
		die("pipe2");
	if (pthread_create(&t, NULL, thread_main, NULL))
		die("pthread_create");
	pid_t tid;
	if (read(tid_pipe[0], &tid, sizeof tid) != sizeof tid)
		die("read tid");
	out("open-thread: tid is %s", tid == getpid() ? "self" : "another");
	fd = sys_pidfd_open(tid, 0);
	res("open-thread", "pidfd_open", fd, 1);
	if (fd >= 0) close(fd);
	if (write(go_pipe[1], "x", 1) != 1)
		die("write");
	pthread_join(t, NULL);
	/* pthread_join returns when the kernel clears the tid, a moment
	 * before the thread is released (until then: ENOENT, after: ESRCH);
	 * wait until it is gone from /proc (a tracer may reap it later). */
	char task[64];
	snprintf(task, sizeof task, "/proc/self/task/%d", (int)tid);
	for (int i = 0; i < 1000 && access(task, F_OK) == 0; i++)
		usleep(1000);
	res("open-exited-thread", "pidfd_open", sys_pidfd_open(tid, 0), 1);

	/* ESRCH for a pid that does not exist: the largest pid number */
	res("open-pid-max", "pidfd_open", sys_pidfd_open(INT_MAX, 0), 1);
	return 0;
}
