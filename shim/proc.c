/* /proc helpers. Signal-safe: raw syscalls, stack buffers. */
#include <sys/stat.h>
#include "sf.h"

/* The number opened is the lowest free one of the program's: a helper
 * thread, which runs while the program opens files of its own, would make
 * the program's open get another number (the fd the program gets is the
 * lowest free one natively; issue 12, item 2). Helpers' reads are done by
 * the reader thread, in an fd table of its own. */
long proc_read(const char *path, char *buf, size_t len)
{
	if (sf_arch_in_helper())
		return sf_helper_proc_read(path, buf, len);
	return proc_read_here(path, buf, len);
}

/* The number is the program's too: another thread of it may dup2 onto it
 * while we hold it. pread cannot consume a pipe's or socket's data
 * (ESPIPE), and the file is closed only if the number still holds it. */
long proc_read_here(const char *path, char *buf, size_t len)
{
	struct stat a, b;
	/* Never blocks nor follows a last symlink: under a tracee's
	 * /proc/TID/root a FIFO or link may be planted. */
	long fd = sf_sys4(SF_NR_openat, AT_FDCWD, path,
			  O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW, 0);
	if (fd < 0)
		return fd;
	if (sf_sys2(SF_NR_fstat, fd, &a) < 0)
		return -EBADF;
	long n = sf_syscall6(SF_NR_pread64, fd, (long)buf, len - 1, 0, 0, 0);
	if (sf_sys2(SF_NR_fstat, fd, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		sf_sys1(SF_NR_close, fd);
	else if (n >= 0)
		n = -EBADF;
	if (n >= 0)
		buf[n] = 0;
	return n;
}

uint64_t proc_number(const char *s)
{
	uint64_t v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	return v;
}

int proc_stat(pid_t pid, uint64_t *starttime, char *state)
{
	/* The caller's own process runs, and its pid cannot be reused while
	 * it does: state 'R', start time unknown (0). qemu-user (7.2) fakes
	 * /proc/<its pid>/stat with the reading thread's own start time, so a
	 * monitor thread would see a watch of the process itself as a reused
	 * pid. */
	if (pid == sf_getpid()) {
		if (starttime)
			*starttime = 0;
		if (state)
			*state = 'R';
		return 0;
	}
	return proc_stat_in("/proc", pid, starttime, state);
}

int proc_stat_in(const char *root, pid_t pid, uint64_t *starttime, char *state)
{
	char path[128], buf[1024];
	sf_fmt(path, sizeof path, "%s/%d/stat", root, (int)pid);
	long n = proc_read(path, buf, sizeof buf);
	if (n == -ENOENT || n == 0)
		return -ESRCH;
	if (n < 0)
		return (int)n;
	/* comm may contain spaces and ')': the fields start after the last ')'. */
	char *p = 0;
	for (char *q = buf; *q; q++)
		if (*q == ')')
			p = q;
	if (!p || !p[1] || !p[2])
		return -EIO;
	p += 2; /* field 3: state */
	if (state)
		*state = *p;
	int field = 3;
	while (*p && field < 22) {
		if (*p++ == ' ')
			field++;
	}
	if (starttime)
		*starttime = proc_number(p);
	return 0;
}

long proc_stat_field(pid_t pid, int field)
{
	return proc_stat_field_in("/proc", pid, field);
}

long proc_stat_field_in(const char *root, pid_t pid, int field)
{
	char path[128], buf[1024];
	sf_fmt(path, sizeof path, "%s/%d/stat", root, (int)pid);
	long n = proc_read(path, buf, sizeof buf);
	if (n == -ENOENT || n == 0)
		return -ESRCH;
	if (n < 0)
		return n;
	char *p = 0;
	for (char *q = buf; *q; q++)
		if (*q == ')')
			p = q;
	if (!p || !p[1] || !p[2] || field < 4)
		return -EIO;
	p += 2; /* field 3 */
	for (int f = 3; *p && f < field;)
		if (*p++ == ' ')
			f++;
	int neg = *p == '-';
	long v = (long)proc_number(p + neg);
	return neg ? -v : v;
}

long proc_each_pid(int (*fn)(pid_t pid, void *arg), void *arg)
{
	return proc_each_pid_in("/proc", fn, arg);
}

long proc_each_pid_in(const char *root, int (*fn)(pid_t pid, void *arg),
		      void *arg)
{
	long dfd = sf_sys4(SF_NR_openat, AT_FDCWD, root,
			   O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (dfd < 0)
		return dfd;
	char buf[4096];
	long n, r = 0;
	while (!r && (n = sf_sys3(SF_NR_getdents64, dfd, buf, sizeof buf)) > 0) {
		for (long off = 0; off < n && !r;) {
			/* struct linux_dirent64: ino, off, reclen, type, name */
			unsigned short reclen;
			__builtin_memcpy(&reclen, buf + off + 16, sizeof reclen);
			const char *name = buf + off + 19;
			if (*name >= '1' && *name <= '9')
				r = fn((pid_t)proc_number(name), arg);
			off += reclen;
		}
	}
	sf_sys1(SF_NR_close, dfd);
	return r < 0 ? r : 0;
}

long proc_status_field(const char *status, const char *key, uint64_t *v,
		       int n, int base)
{
	size_t klen = 0;
	while (key[klen])
		klen++;
	const char *p = status;
	while (*p && !(!__builtin_memcmp(p, key, klen) && p[klen] == ':'))
		while (*p && *p++ != '\n')
			;
	if (!*p)
		return -ENOENT;
	p += klen + 1;
	int i = 0;
	for (; i < n; i++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\n' || !*p)
			break;
		uint64_t x = 0;
		for (;; p++) {
			int d = *p >= '0' && *p <= '9'	 ? *p - '0'
				: *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
							 : -1;
			if (d < 0 || d >= base)
				break;
			x = x * (uint64_t)base + (uint64_t)d;
		}
		v[i] = x;
	}
	return i;
}

int proc_stat_gone(const char *stat, uint64_t starttime, int *leader_zombie)
{
	if (leader_zombie)
		*leader_zombie = 0;
	/* comm may contain spaces and ')': the fields start after the last ')'. */
	const char *p = 0;
	for (const char *q = stat; *q; q++)
		if (*q == ')')
			p = q;
	if (!p || !p[1] || !p[2])
		return -1;
	p += 2;
	char state = *p;
	uint64_t threads = 0;
	for (int field = 3; *p && field < 22;) {
		if (*p++ == ' ' && ++field == 20)
			threads = proc_number(p);
	}
	uint64_t start = proc_number(p);
	if ((starttime && start != starttime) || state == 'X')
		return 1;
	if (state == 'Z') {
		if (threads <= 1)
			return 1;
		if (leader_zombie)
			*leader_zombie = 1;
	}
	return 0;
}
