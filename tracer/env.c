/* The SYSFILL_* settings of the `sysfill` command (tracer/env.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "env.h"
#include "../shim/env.h"

/* The setting NAME's value, NULL when unset or empty. */
static const char *value(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* Reports a bad value once per variable (the settings are few). */
static void bad_value(const char *name, const char *v, const char *what)
{
	static const char *seen[16];
	for (int i = 0; i < 16; i++) {
		if (seen[i] && !strcmp(seen[i], name))
			return;
		if (!seen[i]) {
			seen[i] = name;
			break;
		}
	}
	fprintf(stderr, "sysfill: warning: %s=%s: %s; ignored\n", name, v, what);
}

int env_bool(const char *name, int dflt)
{
	const char *v = value(name);
	if (!v)
		return dflt;
	int b = sf_parse_bool(v);
	if (b < 0) {
		bad_value(name, v, "not a boolean (" SF_BOOL_SPELLINGS ")");
		return dflt;
	}
	return b;
}

long env_ulong(const char *name, long dflt)
{
	const char *v = value(name);
	if (!v)
		return dflt;
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || *end || n < 0) {
		bad_value(name, v, "not a number");
		return dflt;
	}
	return n;
}

int env_choice(const char *name, const char *const *choices, int dflt)
{
	const char *v = value(name);
	if (!v)
		return dflt;
	int i = sf_parse_choice(v, choices);
	if (i < 0) {
		char what[256];
		int n = snprintf(what, sizeof what, "not one of");
		for (int k = 0; choices[k] && n < (int)sizeof what; k++)
			n += snprintf(what + n, sizeof what - (size_t)n, "%s %s",
				      k ? "," : "", choices[k]);
		bad_value(name, v, what);
		return dflt;
	}
	return i;
}

int env_log_level(void)
{
	const char *v = value("SYSFILL_LOG");
	if (!v)
		return 1;
	int l = sf_parse_level(v);
	if (l < 0) {
		bad_value("SYSFILL_LOG", v, "not a log level (" SF_LEVEL_SPELLINGS ")");
		return 1;
	}
	return l;
}

int env_log_fd(void)
{
	static int fd = -1;
	if (fd >= 0)
		return fd;
	fd = 2;
	const char *p = value("SYSFILL_LOG_FILE");
	if (p) {
		int f = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (f >= 0)
			fd = f;
		else
			fprintf(stderr, "sysfill: warning: SYSFILL_LOG_FILE=%s: %s; "
				"logging to stderr\n", p, strerror(errno));
	}
	return fd;
}

void env_log(int level, const char *fmt, ...)
{
	static const char *tags[] = {"error", "warning", "info", "debug"};
	if (level > env_log_level())
		return;
	char buf[1024];
	int n = snprintf(buf, sizeof buf, "sysfill: %s: ", tags[level]);
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	if (write(env_log_fd(), buf, (size_t)n) < 0) {
	}
}
