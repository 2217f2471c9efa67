/* pidfd_getfd: the copy keeps the target's status flags (O_APPEND: writes
 * go to the end) and offset; the permission is ptrace's ATTACH with real
 * credentials: the caller's real uid/gid against the target's real,
 * effective and saved ones, dumpability, CAP_SYS_PTRACE. */
#include <sys/stat.h>
#include "common.h"

#define TFD 50 /* the fd each target holds */

static char tmpl[] = "/tmp/sysfill-getfd-rules-XXXXXX";

static void flagnames(const char *step, int fd)
{
	int fl = fcntl(fd, F_GETFL);
	int acc = fl & O_ACCMODE;
	out("%s: accmode=%s append=%s nonblock=%s sync=%s noatime=%s cloexec=%s",
	    step, acc == O_RDWR ? "O_RDWR" : acc == O_RDONLY ? "O_RDONLY" : "O_WRONLY",
	    fl & O_APPEND ? "yes" : "no", fl & O_NONBLOCK ? "yes" : "no",
	    (fl & O_SYNC) == O_SYNC ? "yes" : "no", fl & O_NOATIME ? "yes" : "no",
	    fcntl(fd, F_GETFD) & FD_CLOEXEC ? "yes" : "no");
}

/* A child that opens PATH with FLAGS at TFD, seeks to 3, then runs SETUP
 * (credentials), says it is ready and sleeps. */
static pid_t target(const char *path, int flags, void (*setup)(void))
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		die("pipe2");
	fflush(stdout);
	pid_t c = track(fork());
	if (c == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int f = open(path, flags);
		if (f < 0 || dup2(f, TFD) != TFD)
			_exit(1);
		lseek(TFD, 3, SEEK_SET);
		if (setup)
			setup();
		/* again: a credential change cleared it, and the caller
		 * cannot signal a target of another uid */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	char ch;
	close(p[1]);
	if (read(p[0], &ch, 1) != 1)
		die("target not ready");
	close(p[0]);
	return c;
}

static void as_nobody(void)
{
	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		_exit(3);
	prctl(PR_SET_DUMPABLE, 1); /* the uid change cleared it */
}
static void as_nobody_nondumpable(void)
{
	as_nobody();
	prctl(PR_SET_DUMPABLE, 0);
}
static void as_other(void)
{
	if (setresgid(65533, 65533, 65533) || setresuid(65533, 65533, 65533))
		_exit(3);
	prctl(PR_SET_DUMPABLE, 1);
}
static void as_nobody_saved_root(void)
{
	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 0))
		_exit(3);
	prctl(PR_SET_DUMPABLE, 1);
}
static void as_nobody_other_gid(void)
{
	if (setresgid(65533, 65533, 65533) || setresuid(65534, 65534, 65534))
		_exit(3);
	prctl(PR_SET_DUMPABLE, 1);
}

static void try(const char *step, pid_t t)
{
	long pfd = sys_pidfd_open(t, 0);
	long r = sys_pidfd_getfd(pfd, TFD, 0);
	res(step, "pidfd_getfd", r, 1);
	long bad = sys_pidfd_getfd(pfd, 900, 0); /* permission before the fd */
	res(step, "pidfd_getfd(not open)", bad, 1);
	if (r >= 0)
		close(r);
	close(pfd);
}

static void flags(void)
{
	pid_t t = target(tmpl, O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC, NULL);
	long pfd = sys_pidfd_open(t, 0);
	res("append", "pidfd_open", pfd, 1);
	long r = sys_pidfd_getfd(pfd, TFD, 0);
	res("append", "pidfd_getfd", r, 1);
	if (r >= 0) {
		flagnames("append", r);
		out("append: offset = %ld", (long)lseek(r, 0, SEEK_CUR));
		res("append", "write", write(r, "XY", 2), 0);
		char buf[32] = {0};
		int f = open(tmpl, O_RDONLY | O_CLOEXEC);
		res("append", "read", read(f, buf, sizeof buf - 1), 0);
		out("append: file = %s", buf);
		close(f);
		close(r);
	}
	kill(t, SIGKILL);
	reap(t);
	close(pfd);

	t = target(tmpl, O_RDWR | O_SYNC | O_NOATIME | O_CLOEXEC, NULL);
	pfd = sys_pidfd_open(t, 0);
	r = sys_pidfd_getfd(pfd, TFD, 0);
	res("sync-noatime", "pidfd_getfd", r, 1);
	if (r >= 0) {
		flagnames("sync-noatime", r);
		out("sync-noatime: offset = %ld", (long)lseek(r, 0, SEEK_CUR));
		close(r);
	}
	kill(t, SIGKILL);
	reap(t);
	close(pfd);

	t = target(tmpl, O_RDONLY | O_CLOEXEC, NULL);
	pfd = sys_pidfd_open(t, 0);
	r = sys_pidfd_getfd(pfd, TFD, 0);
	res("rdonly", "pidfd_getfd", r, 1);
	if (r >= 0) {
		flagnames("rdonly", r);
		close(r);
	}
	kill(t, SIGKILL);
	reap(t);
	close(pfd);
}

static void permission(void)
{
	/* the caller: an unprivileged process whose targets are its children
	 * (Yama's ptrace_scope 1 lets an ancestor attach) */
	fflush(stdout);
	pid_t c = track(fork());
	if (c == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pid_t same = target("/dev/null", O_RDONLY, as_nobody);
		pid_t nd = target("/dev/null", O_RDONLY, as_nobody_nondumpable);
		pid_t other = target("/dev/null", O_RDONLY, as_other);
		pid_t saved = target("/dev/null", O_RDONLY, as_nobody_saved_root);
		pid_t gid = target("/dev/null", O_RDONLY, as_nobody_other_gid);
		pid_t root = target("/dev/null", O_RDONLY, NULL);
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(3);
		try("same-uid", same);
		try("same-uid-nondumpable", nd);
		try("other-uid", other);
		try("saved-uid-root", saved);
		try("other-gid", gid);
		try("root-target", root);
		long self = sys_pidfd_open(getpid(), 0);
		int f = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (f >= 0 && dup2(f, TFD) == TFD) {
			long r = sys_pidfd_getfd(self, TFD, 0);
			res("self", "pidfd_getfd", r, 1);
		}
		pid_t t[] = {same, nd, other, saved, gid, root};
		for (int i = 0; i < 6; i++)
			kill(t[i], SIGKILL);
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		out("permission: caller failed 0x%x", st);
	/* root (CAP_SYS_PTRACE) may take from anyone, dumpable or not */
	pid_t nd = target("/dev/null", O_RDONLY, as_nobody_nondumpable);
	try("root-caller-nondumpable", nd);
	kill(nd, SIGKILL);
	reap(nd);
}

int main(void)
{
	scenario_init();
	int tf = mkstemp(tmpl);
	if (tf < 0)
		die("mkstemp");
	if (write(tf, "0123456789", 10) != 10)
		die("write");
	close(tf);
	chmod(tmpl, 0644);
	flags();
	permission();
	unlink(tmpl);
	return 0;
}
