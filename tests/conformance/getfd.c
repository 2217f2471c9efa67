/* pidfd_getfd: the duplicate is the same open file description (same inode,
 * shared offset, shared data), close-on-exec; error cases. */
#include "common.h"
#include <sys/stat.h>

/* The target child: opens a regular file (offset moved to 5) and a pipe
 * holding "ping", writes their fd numbers to us, waits for a byte, exits. */
struct target {
	pid_t pid;
	int filefd, piperd, pipewr;
	int go;
};

static char tmpl[] = "/tmp/sysfill-getfd-XXXXXX";

static struct target target_start(void)
{
	int info[2], go[2];
	struct target t;
	if (pipe2(info, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		die("pipe2");
	fflush(stdout);
	t.pid = track(fork());
	if (t.pid < 0)
		die("fork");
	if (t.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int f = open(tmpl, O_RDWR | O_CLOEXEC);
		if (f < 0 || lseek(f, 5, SEEK_SET) != 5)
			_exit(1);
		int p[2];
		if (pipe2(p, O_CLOEXEC) || write(p[1], "ping", 4) != 4)
			_exit(1);
		int fds[3] = { f, p[0], p[1] };
		if (write(info[1], fds, sizeof fds) != sizeof fds)
			_exit(1);
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(0);
		_exit(0);
	}
	close(info[1]);
	close(go[0]);
	int fds[3];
	if (read(info[0], fds, sizeof fds) != sizeof fds)
		die("read target fds");
	close(info[0]);
	t.filefd = fds[0];
	t.piperd = fds[1];
	t.pipewr = fds[2];
	t.go = go[1];
	return t;
}

#define GETFD(step, pfd, tfd, flags) \
	res(step, "pidfd_getfd", r = sys_pidfd_getfd(pfd, tfd, flags), 1)

int main(void)
{
	scenario_init();
	long r;

	int tf = mkstemp(tmpl);
	if (tf < 0)
		die("mkstemp");
	if (write(tf, "0123456789", 10) != 10)
		die("write");
	close(tf);
	struct stat want;
	if (stat(tmpl, &want))
		die("stat");

	struct target t = target_start();
	long fd = sys_pidfd_open(t.pid, 0);
	res("open-target", "pidfd_open", fd, 1);

	/* regular file: same inode, shared offset, cloexec on the copy */
	GETFD("file", fd, t.filefd, 0);
	if (r >= 0) {
		struct stat st;
		fstat(r, &st);
		out("file: same inode = %s", st.st_ino == want.st_ino && st.st_dev == want.st_dev ? "yes" : "no");
		out("file: offset = %ld", (long)lseek(r, 0, SEEK_CUR));
		out("file: cloexec = %s", fcntl(r, F_GETFD) & FD_CLOEXEC ? "yes" : "no");
		int acc = fcntl(r, F_GETFL) & O_ACCMODE;
		out("file: accmode = %s", acc == O_RDWR ? "O_RDWR" : acc == O_RDONLY ? "O_RDONLY" : "O_WRONLY");
		char buf[8] = { 0 };
		res("file-read", "read", read(r, buf, 3), 0);
		out("file-read: data = %s", buf);
		/* our read moved the offset the target sees too */
		GETFD("file-again", fd, t.filefd, 0);
		if (r >= 0) {
			out("file-again: offset = %ld", (long)lseek(r, 0, SEEK_CUR));
			close(r);
		}
	}

	/* pipe: the data written by the target is read through the copy */
	GETFD("pipe", fd, t.piperd, 0);
	if (r >= 0) {
		char buf[8] = { 0 };
		res("pipe-read", "read", read(r, buf, 4), 0);
		out("pipe-read: data = %s", buf);
		int wr = sys_pidfd_getfd(fd, t.pipewr, 0);
		res("pipe-write-end", "pidfd_getfd", wr, 1);
		if (wr >= 0) {
			res("pipe-write", "write", write(wr, "pong", 4), 0);
			res("pipe-read2", "read", read(r, buf, 4), 0);
			out("pipe-read2: data = %s", buf);
			close(wr);
		}
		close(r);
	}

	/* errors */
	GETFD("targetfd-not-open", fd, 900, 0);
	GETFD("targetfd-minus1", fd, -1, 0);
	GETFD("flags-1", fd, t.filefd, 1);
	GETFD("flags-cloexec", fd, t.filefd, O_CLOEXEC);
	GETFD("flags-badpidfd", -1, t.filefd, 1);
	GETFD("pidfd-minus1", -1, 0, 0);
	int dn = open("/dev/null", O_RDONLY | O_CLOEXEC);
	GETFD("pidfd-devnull", dn, 0, 0);
	close(dn);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d", (int)t.pid);
	int pd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	GETFD("pidfd-proc-dir", pd, t.filefd, 0);
	close(pd);

	/* our own fds through a pidfd of ourselves */
	long self = sys_pidfd_open(getpid(), 0);
	int mine = open(tmpl, O_RDONLY | O_CLOEXEC);
	GETFD("self", self, mine, 0);
	if (r >= 0) {
		struct stat st;
		fstat(r, &st);
		out("self: same inode = %s", st.st_ino == want.st_ino ? "yes" : "no");
		close(r);
	}
	close(mine);
	close(self);

	/* zombie and reaped target */
	if (write(t.go, "x", 1) != 1)
		die("write");
	wait_zombie(t.pid);
	GETFD("zombie", fd, t.filefd, 0);
	GETFD("zombie-notopen", fd, 900, 0);
	reap(t.pid);
	GETFD("reaped", fd, t.filefd, 0);
	GETFD("reaped-flags-1", fd, t.filefd, 1);
	close(fd);
	close(t.go);
	unlink(tmpl);
	return 0;
}
