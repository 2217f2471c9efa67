/* /proc/self/fdinfo/N of emulated pidfds for reads that go through libc's
 * open(), openat(), fopen() (and their 64-bit and fortified names), and
 * glibc 2.39's pidfd_getpid(), which reads that file with libc-internal
 * calls we cannot interpose. The kernel shows Pid: and NSpid: for a pidfd
 * (systemd, glibc); an emulated pidfd is an epoll, whose fdinfo lists its
 * registration instead. Such an open gets a new file (a memfd, or a pipe
 * without memfd_create) holding what Linux 6.18 shows (shim/fdinfo.c);
 * any other open is libc's. Not covered (README): raw open syscalls,
 * openat relative to an fdinfo directory fd, reads of another process's
 * fdinfo, libc-internal opens. */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "preload.h"

#define NOT_OURS (-4096L - 2)

/* The fd N if PATH names our own /proc/{self,thread-self,PID}/fdinfo/N,
 * else -1. */
static int own_fdinfo(const char *path)
{
	if (!path || strncmp(path, "/proc/", 6))
		return -1;
	const char *p = path + 6;
	if (!strncmp(p, "self/", 5)) {
		p += 5;
	} else if (!strncmp(p, "thread-self/", 12)) {
		p += 12;
	} else {
		long pid = 0;
		while (*p >= '0' && *p <= '9' && pid < 1 << 24)
			pid = pid * 10 + (*p++ - '0');
		if (*p++ != '/' || pid != sf_getpid())
			return -1;
	}
	if (strncmp(p, "fdinfo/", 7))
		return -1;
	p += 7;
	long fd = 0;
	if (!*p)
		return -1;
	while (*p >= '0' && *p <= '9' && fd < 1 << 24)
		fd = fd * 10 + (*p++ - '0');
	return *p ? -1 : (int)fd;
}

/* The open of PATH with FLAGS if it is an emulated pidfd's fdinfo: a new
 * fd with the text, or -errno; NOT_OURS for any other open. Keeps errno
 * on NOT_OURS. */
static long fdinfo_open(const char *path, int flags)
{
	if (pl_mode == MODE_NATIVE || !pidtab_count())
		return NOT_OURS;
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_PATH | O_DIRECTORY)))
		return NOT_OURS;
	int fd = own_fdinfo(path);
	if (fd < 0)
		return NOT_OURS;
	char buf[512]; /* small: the program's stack */
	long n = sf_pidfd_fdinfo(fd, buf, sizeof buf);
	if (n < 0)
		return NOT_OURS;
	unsigned cloexec = flags & O_CLOEXEC ? 1u : 0u; /* MFD_CLOEXEC */
	long r = sf_sys2(SF_NR_memfd_create, "fdinfo", cloexec);
	if (r >= 0) {
		if (sf_sys3(SF_NR_write, r, buf, n) != n) {
			sf_sys1(SF_NR_close, r);
			return -ENOMEM;
		}
		sf_sys3(SF_NR_lseek, r, 0, SEEK_SET);
		return r;
	}
	int p[2];
	r = sf_sys2(SF_NR_pipe2, p, flags & O_CLOEXEC);
	if (r < 0)
		return r;
	sf_sys3(SF_NR_write, p[1], buf, n); /* under a pipe's buffer */
	sf_sys1(SF_NR_close, p[1]);
	return p[0];
}

static long ret_fd(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

#define MODE_ARG(flags, mode)                                \
	do {                                                 \
		if (((flags) & O_CREAT) ||                   \
		    ((flags) & __O_TMPFILE) == __O_TMPFILE) { \
			va_list ap;                          \
			va_start(ap, flags);                 \
			mode = va_arg(ap, int);              \
			va_end(ap);                          \
		}                                            \
	} while (0)

/* The next definition of NAME (libc's), looked up once into *SLOT. */
static void *next_fn(void **slot, const char *name)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!f) {
		f = dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	}
	if (!f)
		errno = ENOSYS;
	return f;
}

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*open2_fn)(const char *, int);
typedef int (*openat2_fn)(int, const char *, int);
typedef FILE *(*fopen_fn)(const char *, const char *);

static int do_open(void **slot, const char *name, const char *path,
		   int flags, int mode)
{
	long r = fdinfo_open(path, flags);
	if (r != NOT_OURS)
		return (int)ret_fd(r);
	open_fn real = (open_fn)next_fn(slot, name);
	return real ? real(path, flags, mode) : -1;
}

static int do_openat(void **slot, const char *name, int dir, const char *path,
		     int flags, int mode)
{
	long r = path && path[0] == '/' ? fdinfo_open(path, flags) : NOT_OURS;
	if (r != NOT_OURS)
		return (int)ret_fd(r);
	openat_fn real = (openat_fn)next_fn(slot, name);
	return real ? real(dir, path, flags, mode) : -1;
}

SF_EXPORT int open(const char *path, int flags, ...)
{
	int mode = 0;
	MODE_ARG(flags, mode);
	static void *real;
	return do_open(&real, "open", path, flags, mode);
}

SF_EXPORT int open64(const char *path, int flags, ...)
{
	int mode = 0;
	MODE_ARG(flags, mode);
	static void *real;
	return do_open(&real, "open64", path, flags, mode);
}

SF_EXPORT int openat(int dir, const char *path, int flags, ...)
{
	int mode = 0;
	MODE_ARG(flags, mode);
	static void *real;
	return do_openat(&real, "openat", dir, path, flags, mode);
}

SF_EXPORT int openat64(int dir, const char *path, int flags, ...)
{
	int mode = 0;
	MODE_ARG(flags, mode);
	static void *real;
	return do_openat(&real, "openat64", dir, path, flags, mode);
}

/* _FORTIFY_SOURCE's checked names (no mode argument). */
static int do_open2(void **slot, const char *name, const char *path,
		    int flags)
{
	long r = fdinfo_open(path, flags);
	if (r != NOT_OURS)
		return (int)ret_fd(r);
	open2_fn real = (open2_fn)next_fn(slot, name);
	return real ? real(path, flags) : -1;
}

static int do_openat2(void **slot, const char *name, int dir,
		      const char *path, int flags)
{
	long r = path && path[0] == '/' ? fdinfo_open(path, flags) : NOT_OURS;
	if (r != NOT_OURS)
		return (int)ret_fd(r);
	openat2_fn real = (openat2_fn)next_fn(slot, name);
	return real ? real(dir, path, flags) : -1;
}

SF_EXPORT int __open_2(const char *path, int flags)
{
	static void *real;
	return do_open2(&real, "__open_2", path, flags);
}

SF_EXPORT int __open64_2(const char *path, int flags)
{
	static void *real;
	return do_open2(&real, "__open64_2", path, flags);
}

SF_EXPORT int __openat_2(int dir, const char *path, int flags)
{
	static void *real;
	return do_openat2(&real, "__openat_2", dir, path, flags);
}

SF_EXPORT int __openat64_2(int dir, const char *path, int flags)
{
	static void *real;
	return do_openat2(&real, "__openat64_2", dir, path, flags);
}

/* fopen's mode as open flags: "r" without "+" only (else not ours). */
static int read_only_mode(const char *mode, int *flags)
{
	if (!mode || mode[0] != 'r' || strchr(mode, '+'))
		return 0;
	*flags = O_RDONLY | (strchr(mode, 'e') ? O_CLOEXEC : 0);
	return 1;
}

static FILE *do_fopen(void **slot, const char *name, const char *path,
		       const char *mode)
{
	int flags;
	long r = read_only_mode(mode, &flags) ? fdinfo_open(path, flags) : NOT_OURS;
	if (r == NOT_OURS) {
		fopen_fn real = (fopen_fn)next_fn(slot, name);
		return real ? real(path, mode) : 0;
	}
	if (r < 0) {
		errno = (int)-r;
		return 0;
	}
	FILE *f = fdopen((int)r, mode);
	if (!f) {
		int e = errno;
		sf_sys1(SF_NR_close, r);
		errno = e;
	}
	return f;
}

SF_EXPORT FILE *fopen(const char *path, const char *mode)
{
	static void *real;
	return do_fopen(&real, "fopen", path, mode);
}

SF_EXPORT FILE *fopen64(const char *path, const char *mode)
{
	static void *real;
	return do_fopen(&real, "fopen64", path, mode);
}

/* glibc 2.39's pidfd_getpid (sysdeps/unix/sysv/linux/pidfd_getpid.c):
 * the Pid: line of /proc/self/fdinfo/FD; EBADF for a negative fd, an fd
 * without the line or an unreadable file, EREMOTE for 0 (another pid
 * namespace), ESRCH for -1 (reaped). */
SF_EXPORT pid_t pidfd_getpid(int fd)
{
	long r = fd < 0 ? -EBADF : pl_mode == MODE_NATIVE ? -EBADF - 4096
							 : sf_pidfd_fdinfo_pid(fd);
	if (r == -EBADF && fd >= 0)
		r = -EBADF - 4096; /* not ours: the kernel's fdinfo */
	if (r == -EBADF - 4096) {
		char path[48], buf[512];
		sf_fmt(path, sizeof path, "/proc/self/fdinfo/%d", fd);
		r = -EBADF;
		if (proc_read(path, buf, sizeof buf) > 0) {
			for (const char *l = buf; *l;) {
				if (!strncmp(l, "Pid:", 4)) {
					const char *p = l + 4;
					while (*p == ' ' || *p == '\t')
						p++;
					int neg = *p == '-';
					p += neg;
					long v = 0;
					int digits = 0;
					while (*p >= '0' && *p <= '9' && v < 1L << 31)
						v = v * 10 + (*p++ - '0'), digits++;
					if (!digits || (*p && *p != '\n') ||
					    (neg && v != 1))
						break; /* invalid: EBADF */
					r = neg ? -ESRCH : v == 0 ? -EREMOTE : v;
					break;
				}
				while (*l && *l++ != '\n')
					;
			}
		}
	}
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return (pid_t)r;
}
