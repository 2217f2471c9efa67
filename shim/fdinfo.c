/* /proc/self/fdinfo/N of an emulated pidfd, and the pid behind it, as
 * Linux 6.18 shows them (fs/pidfs.c pidfd_show_fdinfo): the file's own
 * lines (pos, flags, mnt_id, ino: those of our epoll, without its tfd:
 * registrations), then "Pid:" with the pid in the reader's pid namespace
 * (-1 once the process is reaped) and "NSpid:" with it and the pids in
 * the namespaces below (/proc/PID/status's NSpid line, which /proc shows
 * from the same namespace down), "0" for a process outside the reader's
 * pid namespace (a child in a new one reading its copy of the table).
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

/* The caller's active pid namespace: the inode in its
 * /proc/thread-self/ns/pid link (not relative to a /proc mount, as NSpid
 * is), 0 if unknown. gVisor shows another inode for every process. */
static uint64_t pidns_id(void)
{
	char link[48];
	long n = sf_sys3(SF_NR_readlink, "/proc/thread-self/ns/pid", link,
			 sizeof link - 1);
	if (n <= 5)
		return 0;
	link[n] = 0;
	const char *p = link;
	while (*p && (*p < '0' || *p > '9'))
		p++;
	return proc_number(p);
}

/* The pid namespace (pidns_id) of the process that made the table, 0
 * before the first watch: a child in a new pid namespace (clone with
 * CLONE_NEWPID, unshare) has its copy of the table but sees other
 * numbers, and none at all for processes outside its namespace. */
static uint64_t table_ns;

void fdinfo_table_made(void)
{
	if (!table_ns)
		table_ns = pidns_id();
}

/* The pid behind emulated pidfd FD as the caller's pid namespace sees
 * it: the pid, 0 if it is outside that namespace, -ESRCH if reaped,
 * -EBADF if FD is no emulated pidfd. */
static long pidfd_pid_masked(int fd)
{
	uint64_t ns = table_ns ? pidns_id() : 0;
	int moved = ns && ns != table_ns;
	sigset_t all, old;
	sigfillset(&all);
	sf_sigmask(SIG_SETMASK, &all, &old);
	sf_lock();
	long r = pidtab_resolve(fd);
	if (r >= 0) {
		struct sf_watch *w = pidtab_watch((int)r);
		if (moved) {
			/* F_GETOWN is pid_vnr of the owner: its number here,
			 * 0 outside this namespace or once reaped (known to
			 * the table, or not yet: then read as outside; a
			 * forked child in gVisor, whose namespace links all
			 * differ, may show 0 for -1). Nothing is marked: a
			 * mark could start a helper thread in a clone child
			 * that leaves by exit(2), which would then live on. */
			long own = sf_sys2(SF_NR_fcntl, fd, F_GETOWN);
			r = own > 0 ? own : w->state == SF_W_REAPED ? -ESRCH : 0;
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
	long pid = pidfd_pid_masked(fd);
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
	long r = pidfd_pid_masked(fd);
	return r == 0 ? -EREMOTE : r;
}

long sf_caller_getpid(const struct sf_caller *c, int fd)
{
	return c->pidfd ? c->pidfd(c, fd, 0, NULL) : sf_pidfd_getpid(fd);
}
