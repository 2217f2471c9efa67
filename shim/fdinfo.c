/* /proc/self/fdinfo/N of an emulated pidfd, and the pid behind it, as
 * Linux 6.18 shows them (fs/pidfs.c pidfd_show_fdinfo): the file's own
 * lines (pos, flags, mnt_id, ino: those of our epoll, without its tfd:
 * registrations), then "Pid:" with the pid in the /proc mount's pid
 * namespace (-1 once the process is reaped) and "NSpid:" with it and the
 * pids in the namespaces below (/proc/PID/status's NSpid line, which
 * /proc shows from the same namespace down), "0" for a process outside
 * the mount's namespace. Known limit: a process of our namespace read
 * through a mount of an ancestor's shows our number, not the mount's.
 * Normal context (blocks signals around the table lock). */
#include <string.h>
#include "sf.h"

/* The "NSpid:" line of the status file PATH (without the key and the
 * newline) into OUT (LEN bytes), read in small pieces: this runs on the
 * program's stacks, which may be small (threads, clone children). Returns
 * the number of pids in it, or -errno. */
static int nspid_line(const char *path, char *out, size_t len)
{
	char buf[256];
	long fd = sf_sys4(SF_NR_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return (int)fd;
	long off = 0, n;
	int r = -ENOENT;
	size_t o = 0;
	int in = 0, at_line = 1, count = 0;
	while (r == -ENOENT &&
	       (n = sf_syscall6(SF_NR_pread64, fd, (long)buf, sizeof buf, off, 0, 0)) > 0) {
		for (long i = 0; i < n; i++) {
			char ch = buf[i];
			if (in) {
				if (ch == '\n') {
					r = count;
					break;
				}
				if (ch >= '0' && ch <= '9' &&
				    (o == 0 || out[o - 1] == '\t'))
					count++;
				if (o + 1 < len)
					out[o++] = ch == ' ' ? '\t' : ch;
				continue;
			}
			/* match "NSpid:" at a line start, across pieces */
			static const char key[] = "NSpid:";
			if (at_line > 0 && ch == key[at_line - 1]) {
				if (++at_line == sizeof key) {
					in = 1;
				}
			} else {
				at_line = ch == '\n' ? 1 : 0;
			}
		}
		off += n;
	}
	sf_sys1(SF_NR_close, fd);
	if (len)
		out[o < len ? o : len - 1] = 0;
	return r;
}

/* Is the /proc mount our pid namespace's (/proc/self names our getpid)?
 * 1 yes, 0 it is an ancestor's (it shows us by another number). */
static int proc_is_ours(void)
{
	char link[24], want[24];
	long n = sf_sys3(SF_NR_readlink, "/proc/self", link, sizeof link - 1);
	if (n <= 0)
		return 1;
	link[n] = 0;
	sf_fmt(want, sizeof want, "%d", (int)sf_getpid());
	return !strcmp(link, want);
}

/* The Pid: of foreign watch W (no pid in our namespace) as the /proc
 * mount shows it: its number there (a mount of the namespace it was named
 * in shows it at W's number, with W's start time), 0 in a mount of ours,
 * -ESRCH once reaped (known, or not shown by a mount above us). */
static long foreign_pid(const struct sf_watch *w)
{
	uint64_t st = 0;
	if (w->state == SF_W_REAPED)
		return -ESRCH;
	if (w->starttime && proc_stat_in("/proc", w->pid, &st, 0) == 0 &&
	    st == w->starttime)
		return w->pid;
	return proc_is_ours() ? 0 : -ESRCH;
}

/* The pid behind emulated pidfd FD: in our pid namespace, or with MOUNT
 * in the /proc mount's (the Pid: line's); 0 if it is outside that
 * namespace, -ESRCH if reaped, -EBADF if FD is no emulated pidfd. Normal
 * context (blocks signals around the table lock). */
static long pidfd_pid_masked(int fd, int mount)
{
	sigset_t all, old;
	sigfillset(&all);
	sf_sigmask(SIG_SETMASK, &all, &old);
	sf_lock();
	long r = pidtab_resolve(fd);
	if (r == -EREMOTE)
		r = 0; /* its number in the mount is not known here */
	if (r >= 0) {
		struct sf_watch *w = pidtab_watch((int)r);
		long own;
		if (w->foreign) {
			r = mount ? foreign_pid(w) : 0;
		} else if (pidtab_moved()) {
			/* renumbered for this namespace: F_GETOWN is its number
			 * here, 0 once reaped. Nothing is marked: a mark could
			 * start a helper thread in a clone child that leaves by
			 * exit(2), which would then live on (the kernel
			 * selftest pidfd_fdinfo_test). */
			own = sf_sys2(SF_NR_fcntl, fd, F_GETOWN);
			r = own > 0 && w->state != SF_W_REAPED ? own : -ESRCH;
		} else {
			r = pidtab_is_reaped(w) ? -ESRCH : w->pid;
		}
	}
	sf_unlock();
	sf_sigmask(SIG_SETMASK, &old, 0);
	return r;
}

long sf_pidfd_fdinfo(int fd, char *buf, size_t len)
{
	if (fd < 0 || len < 320 || !pidtab_count())
		return -EBADF;
	long pid = pidfd_pid_masked(fd, 1);
	if (pid < 0 && pid != -ESRCH)
		return -EBADF;
	char path[48];
	sf_fmt(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	long n = proc_read(path, buf, len - 200);
	if (n < 0)
		return n;
	char *t = strstr(buf, "tfd:");
	if (t) { /* the line of our registration goes */
		while (t > buf && t[-1] != '\n')
			t--;
		*t = 0;
	}
	n = (long)strlen(buf);
	if (pid <= 0) {
		n += sf_fmt(buf + n, len - (size_t)n, "Pid:\t%d\nNSpid:\t%d\n",
			    pid ? -1 : 0, pid ? -1 : 0); /* reaped, or not here */
		return n;
	}
	n += sf_fmt(buf + n, len - (size_t)n, "Pid:\t%ld\nNSpid:\t%ld", pid, pid);
	/* after the first NSpid entry (the Pid: one) the rest as /proc has
	 * them, with the same separators */
	char ns[160];
	sf_fmt(path, sizeof path, "/proc/%ld/status", pid);
	if (nspid_line(path, ns, sizeof ns) > 1) {
		const char *p = ns;
		while (*p == '\t')
			p++;
		while (*p >= '0' && *p <= '9')
			p++;
		while (*p && (size_t)n + 2 < len)
			buf[n++] = *p++;
	}
	if ((size_t)n + 1 < len)
		buf[n++] = '\n';
	buf[n] = 0;
	return n;
}

long sf_pidfd_getpid(int fd)
{
	if (fd < 0)
		return -EBADF;
	long r = pidfd_pid_masked(fd, 0);
	return r == 0 ? -EREMOTE : r;
}

long sf_pidfd_fdinfo_pid(int fd)
{
	if (fd < 0)
		return -EBADF;
	long r = pidfd_pid_masked(fd, 1);
	return r == 0 ? -EREMOTE : r;
}

long sf_caller_getpid(const struct sf_caller *c, int fd)
{
	return c->pidfd ? c->pidfd(c, fd, 0, NULL) : sf_pidfd_getpid(fd);
}
