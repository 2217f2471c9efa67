/* Signal-safe logging to stderr and a small formatter. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "sf.h"

int sf_log_level = SF_LOG_WARN;

/* Reads SYSFILL_LOG once (constructor time; not signal-safe). */
void sf_log_init(void)
{
	static const char *names[] = {"error", "warn", "info", "debug"};
	const char *v = getenv("SYSFILL_LOG");
	if (!v || !*v)
		return;
	for (int i = 0; i < 4; i++)
		if (!strcmp(v, names[i]))
			sf_log_level = i;
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
	sf_sys3(SF_NR_write, 2, buf, n);
}
