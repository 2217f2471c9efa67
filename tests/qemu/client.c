/* A small dynamically linked pidfd client for the qemu-user test: the calls
 * go through glibc 2.36's entry points (syscall(), pidfd_open(),
 * pidfd_send_signal(), pidfd_getfd(), waitid()), which is what the library
 * interposes where seccomp is unusable. Prints "pidfd-kind=..." (what
 * /proc/self/fd says the first pidfd is) and "OK" (exit 0), or "FAIL: ..."
 * (exit 1). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...)                                    \
	do {                                                \
		if (!(cond)) {                              \
			printf("FAIL: " __VA_ARGS__);       \
			printf(" [%s:%d, errno %s]\n", __FILE__, __LINE__, \
			       strerrorname_np(errno) ? strerrorname_np(errno) : "0"); \
			failures++;                         \
		}                                           \
	} while (0)

static int readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, ms);
	return n == 1 && (p.revents & POLLIN);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(30);

	/* 1. raw syscall(SYS_pidfd_open), libc pidfd_send_signal, poll, waitid */
	pid_t a = fork();
	if (a == 0) {
		pause();
		_exit(0);
	}
	int fd = syscall(SYS_pidfd_open, a, 0);
	CHECK(fd >= 0, "syscall(SYS_pidfd_open, %d) = %d", a, fd);
	if (fd < 0) {
		kill(a, SIGKILL);
		return 1;
	}
	char path[64], kind[128] = "?";
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	ssize_t kl = readlink(path, kind, sizeof kind - 1);
	kind[kl > 0 ? kl : 1] = 0;
	printf("pidfd-kind=%s\n", kind);
	CHECK(!readable(fd, 200), "pidfd readable while the child runs");
	CHECK(pidfd_send_signal(fd, 0, NULL, 0) == 0, "pidfd_send_signal(sig 0)");
	CHECK(pidfd_send_signal(fd, SIGTERM, NULL, 0) == 0, "pidfd_send_signal(SIGTERM)");
	CHECK(readable(fd, 5000), "no POLLIN within 5 s of SIGTERM");
	siginfo_t si;
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PIDFD, fd, &si, WEXITED) == 0, "waitid(P_PIDFD)");
	CHECK(si.si_pid == a && si.si_code == CLD_KILLED && si.si_status == SIGTERM,
	      "waitid: pid %d code %d status %d", si.si_pid, si.si_code, si.si_status);
	errno = 0;
	CHECK(pidfd_send_signal(fd, 0, NULL, 0) == -1 && errno == ESRCH,
	      "pidfd_send_signal after reap");
	errno = 0;
	CHECK(waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG) == -1 && errno == ECHILD,
	      "waitid after reap");
	close(fd);

	/* 2. libc pidfd_open, pidfd_getfd, syscall(SYS_waitid), raw send_signal */
	int pfd[2];
	CHECK(pipe2(pfd, O_CLOEXEC) == 0, "pipe2");
	pid_t b = fork();
	if (b == 0) {
		char c;
		close(pfd[1]);
		while (read(pfd[0], &c, 1) > 0)
			;
		_exit(7);
	}
	fd = pidfd_open(b, 0);
	CHECK(fd >= 0, "pidfd_open(%d)", b);
	int got = pidfd_getfd(fd, pfd[0], 0);
	struct stat s1, s2;
	CHECK(got >= 0 && fstat(got, &s1) == 0 && fstat(pfd[0], &s2) == 0 &&
		      s1.st_ino == s2.st_ino,
	      "pidfd_getfd(%d) = %d: not our pipe", pfd[0], got);
	if (got >= 0)
		close(got);
	CHECK(syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0) == 0,
	      "syscall(SYS_pidfd_send_signal, sig 0)");
	CHECK(!readable(fd, 100), "pidfd readable while the child runs");
	close(pfd[1]);
	close(pfd[0]);
	CHECK(readable(fd, 5000), "no POLLIN within 5 s of the exit");
	memset(&si, 0, sizeof si);
	CHECK(syscall(SYS_waitid, P_PIDFD, fd, &si, WEXITED, NULL) == 0,
	      "syscall(SYS_waitid, P_PIDFD)");
	CHECK(si.si_pid == b && si.si_code == CLD_EXITED && si.si_status == 7,
	      "waitid: pid %d code %d status %d", si.si_pid, si.si_code, si.si_status);
	close(fd);

	/* 3. the errors old-kernel fallbacks look at */
	errno = 0;
	CHECK(pidfd_open(-1, 0) == -1 && errno == EINVAL, "pidfd_open(-1)");
	int self = pidfd_open(getpid(), 0);
	errno = 0;
	CHECK(waitid(P_PIDFD, self, &si, WEXITED | WNOHANG) == -1 && errno == ECHILD,
	      "waitid on own pidfd");
	close(self);
	errno = 0;
	CHECK(waitid(P_PIDFD, 0, &si, WEXITED | WNOHANG) == -1 && errno == EBADF,
	      "waitid on stdin");
	errno = 0;
	CHECK(pidfd_send_signal(0, 0, NULL, 0) == -1 && errno == EBADF,
	      "pidfd_send_signal on stdin");

	if (failures)
		return 1;
	printf("OK\n");
	return 0;
}
