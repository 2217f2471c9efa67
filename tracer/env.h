/* The SYSFILL_* settings as the `sysfill` command reads them: the same
 * spellings as the library (shim/env.h). A value that is none of them is
 * reported once on stderr and the default is kept. */
#ifndef SYSFILL_TRACER_ENV_H
#define SYSFILL_TRACER_ENV_H

/* NAME as a boolean; DFLT when unset, empty or not a boolean. */
int env_bool(const char *name, int dflt);
/* NAME as a number >= 0; DFLT when unset, empty or not a number. */
long env_ulong(const char *name, long dflt);
/* The index of NAME's value in the NULL-terminated CHOICES; DFLT when
 * unset, empty or none of them. */
int env_choice(const char *name, const char *const *choices, int dflt);
/* SYSFILL_LOG: 0 error, 1 warn (default), 2 info, 3 debug. */
int env_log_level(void);
/* The fd log lines go to: SYSFILL_LOG_FILE (opened once, O_APPEND,
 * close-on-exec), else 2. */
int env_log_fd(void);
/* Log one line "sysfill: LEVEL: ..." at LEVEL (1 warn, 2 info, 3 debug)
 * to env_log_fd() if SYSFILL_LOG allows it. */
void env_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
