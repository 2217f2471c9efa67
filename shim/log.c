/* Signal-safe logging to stderr or SYSFILL_LOG_FILE, a small formatter,
 * and the checked reading of the SYSFILL_* settings (shim/env.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include "sf.h"
#include "env.h"

int sf_log_level = SF_LOG_WARN;

/* The log file: opened with O_APPEND (several processes share it) and
 * moved to a high fd, out of the way of programs that dup2 onto low
 * numbers. The program may still close it (close_range) and reuse the
 * number: before each write the fd is checked to be the file still, else
 * the file is opened again. */
static int log_fd = 2;
static int log_min_fd = 3;
static dev_t log_dev;
static ino_t log_ino;
static char log_path[512];

/* Returns an fd >= log_min_fd open on log_path, or -errno. Signal-safe. */
static int log_open(void)
{
	long fd = sf_sys4(SF_NR_openat, AT_FDCWD, log_path,
			  O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return (int)fd;
	long hi = sf_sys3(SF_NR_fcntl, fd, F_DUPFD_CLOEXEC, log_min_fd);
	if (hi >= 0) {
		sf_sys1(SF_NR_close, fd);
		fd = hi;
	}
	return (int)fd;
}

/* Returns the fd to write log lines to. Signal-safe. */
static int log_out(void)
{
	int fd = __atomic_load_n(&log_fd, __ATOMIC_ACQUIRE);
	if (fd == 2)
		return 2;
	struct stat st;
	if (sf_sys2(SF_NR_fstat, fd, &st) == 0 && st.st_dev == log_dev &&
	    st.st_ino == log_ino)
		return fd;
	int nfd = log_open();
	if (nfd < 0)
		return 2;
	if (sf_sys2(SF_NR_fstat, nfd, &st) < 0 || st.st_dev != log_dev ||
	    st.st_ino != log_ino) {
		/* another file by that name now: follow it */
		log_dev = st.st_dev;
		log_ino = st.st_ino;
	}
	if (!__atomic_compare_exchange_n(&log_fd, &fd, nfd, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		sf_sys1(SF_NR_close, nfd); /* another thread reopened it */
		return fd;
	}
	return nfd;
}

static void log_file_init(void)
{
	const char *p = getenv("SYSFILL_LOG_FILE");
	if (!p || !*p)
		return;
	if (strlen(p) >= sizeof log_path) {
		sf_log(SF_LOG_WARN, "SYSFILL_LOG_FILE: path too long; logging "
		       "to stderr");
		return;
	}
	strcpy(log_path, p);
	/* High, but not so high that the kernel grows the fd table to a
	 * container's 1M limit for it. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 128)
		log_min_fd = rl.rlim_cur > 1024 ? 960 : (int)rl.rlim_cur - 64;
	int fd = log_open();
	struct stat st;
	if (fd < 0 || sf_sys2(SF_NR_fstat, fd, &st) < 0) {
		sf_log(SF_LOG_WARN, "SYSFILL_LOG_FILE=%s: cannot open (%s); "
		       "logging to stderr", p, sf_errname(fd < 0 ? fd : -EIO));
		if (fd >= 0)
			sf_sys1(SF_NR_close, fd);
		return;
	}
	log_dev = st.st_dev;
	log_ino = st.st_ino;
	__atomic_store_n(&log_fd, fd, __ATOMIC_RELEASE);
}

/* Reads SYSFILL_LOG_FILE and SYSFILL_LOG once (constructor time; not
 * signal-safe). */
void sf_log_init(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	log_file_init();
	const char *v = getenv("SYSFILL_LOG");
	if (!v || !*v)
		return;
	int l = sf_parse_level(v);
	if (l >= 0)
		sf_log_level = l;
	else
		sf_log(SF_LOG_WARN, "SYSFILL_LOG=%s: not a log level ("
		       SF_LEVEL_SPELLINGS "); using warn", v);
}

int sf_env_bool(const char *name, int dflt)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return dflt;
	int b = sf_parse_bool(v);
	if (b < 0) {
		sf_log(SF_LOG_WARN, "%s=%s: not a boolean (" SF_BOOL_SPELLINGS
		       "); ignored", name, v);
		return dflt;
	}
	return b;
}

int sf_env_choice(const char *name, const char *const *choices, int dflt)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return dflt;
	int c = sf_parse_choice(v, choices);
	if (c < 0) {
		char list[128];
		int n = 0;
		for (int i = 0; choices[i]; i++)
			n += sf_fmt(list + n, sizeof list - (size_t)n, "%s%s",
				    i ? ", " : "", choices[i]);
		sf_log(SF_LOG_WARN, "%s=%s: not one of %s; ignored", name, v,
		       list);
		return dflt;
	}
	return c;
}

static const struct {
	int err;
	const char *name;
} errnames[] = {
	{EPERM, "EPERM"},   {ENOENT, "ENOENT"}, {ESRCH, "ESRCH"},
	{EINTR, "EINTR"},   {EBADF, "EBADF"},   {ECHILD, "ECHILD"},
	{EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"}, {EACCES, "EACCES"},
	{EFAULT, "EFAULT"}, {EEXIST, "EEXIST"}, {EINVAL, "EINVAL"},
	{EMFILE, "EMFILE"}, {ENFILE, "ENFILE"}, {ENOSYS, "ENOSYS"},
	{E2BIG, "E2BIG"},   {ENXIO, "ENXIO"},   {ENODEV, "ENODEV"},
	{EBUSY, "EBUSY"},   {EOPNOTSUPP, "EOPNOTSUPP"}, {EIO, "EIO"},
	{ENOTDIR, "ENOTDIR"}, {EROFS, "EROFS"}, {ENOSPC, "ENOSPC"},
};

/* Returns the errno name of -ERR or ERR ("E?" if unknown). Signal-safe. */
const char *sf_errname(long err)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof errnames / sizeof errnames[0]; i++)
		if (errnames[i].err == err)
			return errnames[i].name;
	return "E?";
}

static size_t put_num(char *p, size_t room, unsigned long v, int base,
		      int neg)
{
	char tmp[24];
	size_t n = 0, w = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg && w < room)
		p[w++] = '-';
	while (n && w < room)
		p[w++] = tmp[--n];
	return w;
}

int sf_vfmt(char *buf, size_t len, const char *fmt, va_list ap)
{
	size_t w = 0;
	if (!len)
		return 0;
	len--; /* room for NUL */
	for (const char *f = fmt; *f && w < len; f++) {
		if (*f != '%') {
			buf[w++] = *f;
			continue;
		}
		f++;
		int l = 0;
		while (*f == 'l') {
			l = 1;
			f++;
		}
		switch (*f) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			while (*s && w < len)
				buf[w++] = *s++;
			break;
		}
		case 'd': {
			long v = l ? va_arg(ap, long) : va_arg(ap, int);
			w += put_num(buf + w, len - w,
				     v < 0 ? -(unsigned long)v : (unsigned long)v,
				     10, v < 0);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long v = l ? va_arg(ap, unsigned long)
					    : va_arg(ap, unsigned);
			w += put_num(buf + w, len - w, v, *f == 'x' ? 16 : 10, 0);
			break;
		}
		case 'c':
			buf[w++] = (char)va_arg(ap, int);
			break;
		case '%':
			buf[w++] = '%';
			break;
		default:
			buf[w++] = '?';
			break;
		}
	}
	buf[w] = 0;
	return (int)w;
}

int sf_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = sf_vfmt(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

void sf_logf(int level, const char *fmt, ...)
{
	static const char *tags[] = {"error", "warn", "info", "debug"};
	char buf[512];
	int n = sf_fmt(buf, sizeof buf, "sysfill[%d]: %s: ",
		       (int)sf_sys0(SF_NR_getpid), tags[level]);
	va_list ap;
	va_start(ap, fmt);
	n += sf_vfmt(buf + n, sizeof buf - n - 1, fmt, ap);
	va_end(ap);
	buf[n++] = '\n';
	sf_sys3(SF_NR_write, log_out(), buf, n);
}
