/* /proc/self/fdinfo/N of an emulated pidfd, and the pid behind it, as
 * Linux 6.18 shows them (fs/pidfs.c pidfd_show_fdinfo): the file's own
 * lines (pos, flags, mnt_id, ino: those of our epoll, without its tfd:
 * registrations), then "Pid:" with the pid in the reader's pid namespace
 * (-1 once the process is reaped) and "NSpid:" with it and the pids in
 * the namespaces below (/proc/PID/status's NSpid line, which /proc shows
 * from the same namespace down). An emulated pidfd is made from a pid the
 * caller sees, so it is never "0" (outside the reader's namespace) but
 * where F_GETOWN of an adopted pidfd gives 0: then it reads as reaped.
 * Normal context (blocks signals around the table lock). */
#include <string.h>
#include "sf.h"

/* The pid behind emulated pidfd FD: the pid, -ESRCH if reaped, -EBADF if
 * FD is no emulated pidfd. */
static long pidfd_pid_masked(int fd)
{
	sigset_t all, old;
	sigfillset(&all);
	sf_sigmask(SIG_SETMASK, &all, &old);
	sf_lock();
	long r = pidtab_resolve(fd);
	if (r >= 0) {
		struct sf_watch *w = pidtab_watch((int)r);
		r = pidtab_is_reaped(w) ? -ESRCH : w->pid;
	}
	sf_unlock();
	sf_sigmask(SIG_SETMASK, &old, 0);
	return r;
}

long sf_pidfd_fdinfo(int fd, char *buf, size_t len)
{
	if (fd < 0 || len < 256 || !pidtab_count())
		return -EBADF;
	long pid = pidfd_pid_masked(fd);
	if (pid < 0 && pid != -ESRCH)
		return -EBADF;
	char path[48];
	sf_fmt(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	long n = proc_read(path, buf, len - 160);
	if (n < 0)
		return n;
	char *t = strstr(buf, "tfd:");
	if (t) { /* the line of our registration goes */
		while (t > buf && t[-1] != '\n')
			t--;
		*t = 0;
	}
	n = (long)strlen(buf);
	if (pid < 0) {
		n += sf_fmt(buf + n, len - (size_t)n, "Pid:\t-1\nNSpid:\t-1\n");
		return n;
	}
	n += sf_fmt(buf + n, len - (size_t)n, "Pid:\t%ld\nNSpid:\t", pid);
	char st[2048];
	sf_fmt(path, sizeof path, "/proc/%ld/status", pid);
	const char *ns = 0;
	if (proc_read(path, st, sizeof st) > 0) {
		for (const char *l = st; *l && !ns;) {
			if (!strncmp(l, "NSpid:", 6))
				ns = l + 6;
			while (*l && *l++ != '\n')
				;
		}
	}
	/* the first NSpid entry is the Pid: one; the rest as /proc has them */
	if (ns) {
		while (*ns == ' ' || *ns == '\t')
			ns++;
		while (*ns >= '0' && *ns <= '9')
			ns++;
	}
	n += sf_fmt(buf + n, len - (size_t)n, "%ld", pid);
	while (ns && *ns && *ns != '\n' && (size_t)n + 2 < len)
		buf[n++] = *ns == ' ' ? '\t' : *ns, ns++;
	if ((size_t)n + 1 < len)
		buf[n++] = '\n';
	buf[n] = 0;
	return n;
}

long sf_pidfd_getpid(int fd)
{
	if (fd < 0)
		return -EBADF;
	return pidfd_pid_masked(fd);
}
